//! Snapshot tests: the `--help` of every command and subcommand, and the text report of a
//! scan and a guard run, compared with the files under `tests/snapshots/` (rewrite them
//! with `UNLEAK_BLESS=1 cargo test --test cli snapshots::` and review the diff). The
//! snapshots hold redacted output only: each test checks the raw values are absent first.

use crate::common;
use crate::guard_support;

use common::{json, run};
use guard_support::{assert_no_secret, token, Repo};
use unleak_testkit::snapshot::assert_snapshot;

/// `unleak <path> --help`, with the subcommands its help lists.
fn help(path: &[&str]) -> (String, Vec<String>) {
    let mut args = path.to_vec();
    args.push("--help");
    let r = common::unleak()
        .args(&args)
        // A fixed width, whatever the terminal of the person running the tests.
        .env("COLUMNS", "100")
        .output()
        .unwrap();
    let r = unleak_testkit::Run::from(r);
    assert_eq!(r.code, 0, "unleak {args:?}: {}", r.stderr);
    let mut subcommands = Vec::new();
    let mut in_commands = false;
    for line in r.stdout.lines() {
        if line == "Commands:" {
            in_commands = true;
        } else if in_commands && line.is_empty() {
            break;
        } else if in_commands {
            // A command starts two spaces in; its wrapped description is further in.
            if let Some(rest) = line.strip_prefix("  ").filter(|l| !l.starts_with(' ')) {
                let name = rest.split_whitespace().next().unwrap();
                if name != "help" {
                    subcommands.push(name.to_string());
                }
            }
        }
    }
    (r.stdout, subcommands)
}

#[test]
fn help_of_every_command_matches_its_snapshot() {
    let mut queue: Vec<Vec<String>> = vec![Vec::new()];
    let mut seen = 0;
    while let Some(path) = queue.pop() {
        let args: Vec<&str> = path.iter().map(String::as_str).collect();
        let (text, subcommands) = help(&args);
        let name = if path.is_empty() {
            "unleak".to_string()
        } else {
            path.join("-")
        };
        assert_snapshot(&format!("help/{name}"), &text);
        seen += 1;
        for sub in subcommands {
            let mut next = path.clone();
            next.push(sub);
            queue.push(next);
        }
    }
    // The top level, its six commands and their own subcommands: a parse that finds no
    // commands would otherwise pass with one snapshot.
    assert!(seen > 7, "only {seen} help pages found");
}

/// Durations and rates (`in 0.57 s`, `(0.0 MB/s)`) as `T`: the only part of a report that
/// changes between runs.
fn without_timing(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(i);
        out.push_str(before);
        let len = from
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(from.len());
        let (number, after) = from.split_at(len);
        let timed = (out.ends_with(" in ") && after.starts_with(" s"))
            || (out.ends_with('(') && after.starts_with(" MB/s)"));
        out.push_str(if timed { "T" } else { number });
        rest = after;
    }
    out.push_str(rest);
    out
}

#[test]
fn the_text_report_of_the_positive_fixtures_matches_its_snapshot() {
    let secrets: Vec<String> = json(
        &run(&[
            "scan",
            "fixtures/positive",
            "--format",
            "json",
            "--show-secrets",
        ])
        .stdout,
    )["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap().to_string())
        .collect();
    assert!(secrets.len() > 20, "{secrets:?}");
    let r = run(&["scan", "fixtures/positive"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    for s in &secrets {
        assert!(!r.all().contains(s.as_str()), "the report shows {s}");
    }
    assert_snapshot("text/scan-positive", &without_timing(&r.stdout));
}

#[test]
fn the_text_report_of_a_clean_scan_matches_its_snapshot() {
    let r = run(&["scan", "fixtures/negative"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_snapshot("text/scan-clean", &without_timing(&r.stdout));
}

#[test]
fn the_text_report_of_a_guard_run_matches_its_snapshot() {
    let repo = Repo::init();
    repo.write("README.md", "hello\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    let secret = token(7);
    repo.write("deploy/ci.env", format!("A=1\nDEPLOY_TOKEN={secret}\n"));
    repo.commit("add deploy config");
    let r = repo.unleak(&["guard", "--range", "main..pr"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert_no_secret("guard", &r.all(), &[secret]);
    assert_snapshot("text/guard-range", &without_timing(&r.all()));
}

#[test]
fn timing_is_the_only_thing_taken_out() {
    assert_eq!(
        without_timing("x\n3 findings in 1 file · 0.0 MB in 0.57 s (0.0 MB/s)\n"),
        "x\n3 findings in 1 file · 0.0 MB in T s (T MB/s)\n"
    );
    assert_eq!(
        without_timing("1 files scanned in 0.11 s\nin 3 files\n"),
        "1 files scanned in T s\nin 3 files\n"
    );
}
