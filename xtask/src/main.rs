//! unleak's development tasks, run as `cargo xtask TASK` (an alias in .cargo/config.toml).
//!
//! - `fixtures`: make `fixtures/<tree>/` and `fixtures/<tree>.answers.json` from
//!   `fixtures/templates/<tree>/` with the rule generator;
//! - `fixtures --check`: change nothing, exit 1 and list what differs (CI runs this
//!   through the scan tests too).
//!
//! The work is in `unleak_testkit::fixtures`; this is only its command line.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["fixtures"] => fixtures(false),
        ["fixtures", "--check"] => fixtures(true),
        _ => {
            eprintln!("usage: cargo xtask fixtures [--check]");
            ExitCode::from(2)
        }
    }
}

fn fixtures(check: bool) -> ExitCode {
    let root = unleak_testkit::repo_root().join("fixtures");
    match unleak_testkit::fixtures::sync(&root, &root.join("templates"), !check) {
        Err(e) => {
            eprintln!("xtask fixtures: {e}");
            ExitCode::from(2)
        }
        Ok(stale) if stale.is_empty() => ExitCode::SUCCESS,
        Ok(stale) if check => {
            eprintln!("fixtures out of date (run `cargo xtask fixtures`):");
            for f in stale {
                eprintln!("  {f}");
            }
            ExitCode::FAILURE
        }
        Ok(stale) => {
            for f in stale {
                println!("updated {f}");
            }
            ExitCode::SUCCESS
        }
    }
}
