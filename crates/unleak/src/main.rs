//! The `unleak` command line: parsing, wiring the library crates together, exit codes.
//!
//! Exit codes are a contract: 0 clean, 1 findings (for `guard`: new findings),
//! 2 usage, configuration, rule or I/O error.

mod cli;
mod cmd;

use clap::Parser;
use std::process::ExitCode;

/// What a command decided; `main` turns it into the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
}

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.verbose);
    match cmd::run(cli) {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            eprintln!("unleak: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("UNLEAK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
