//! The helper names the end-to-end tests use (`repo_root`, `unleak`, `run`, `run_in`,
//! `json`, `Run`), kept so a test file written with `mod common; use common::*;` becomes a
//! module here by changing `mod common;` to `use crate::common;`. The helpers themselves
//! live in the `unleak-testkit` crate.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

pub use unleak_testkit::{json, Run};

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real binary, run from the repository root, without colour or a step summary.
pub fn unleak() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_unleak"));
    c.current_dir(repo_root());
    c.env_remove("GITHUB_STEP_SUMMARY").env("NO_COLOR", "1");
    c
}

pub fn run(args: &[&str]) -> Run {
    run_in(&repo_root(), args, None)
}

pub fn run_in(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut c = unleak();
    c.current_dir(dir).args(args);
    unleak_testkit::run_command(c, stdin)
}

#[test]
fn the_testkit_finds_the_binary_cargo_built() {
    assert_eq!(
        unleak_testkit::exe(),
        Path::new(env!("CARGO_BIN_EXE_unleak"))
    );
    assert_eq!(
        unleak_testkit::repo_root().canonicalize().unwrap(),
        repo_root().canonicalize().unwrap()
    );
}

/// Where a finding is: (path, rule, line, column, end line, end column).
pub type FindingKey = (String, String, u64, u64, u64, u64);

/// The answer key of a fixture tree (`fixtures/TREE.answers.json`), paths as a scan from
/// the repository root prints them.
pub fn answer_key(tree: &str) -> std::collections::BTreeSet<FindingKey> {
    let text =
        std::fs::read_to_string(repo_root().join(format!("fixtures/{tree}.answers.json"))).unwrap();
    json(&text)
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                format!("fixtures/{tree}/{}", a["path"].as_str().unwrap()),
                a["rule"].as_str().unwrap().to_string(),
                a["line"].as_u64().unwrap(),
                a["column"].as_u64().unwrap(),
                a["end_line"].as_u64().unwrap(),
                a["end_column"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The findings of a `--format json` report, as [`FindingKey`]s.
pub fn finding_keys(doc: &serde_json::Value) -> std::collections::BTreeSet<FindingKey> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
                f["end_line"].as_u64().unwrap(),
                f["end_column"].as_u64().unwrap(),
            )
        })
        .collect()
}
