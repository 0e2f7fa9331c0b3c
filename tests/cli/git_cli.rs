//! End-to-end tests of the git modes of `unleak scan` through the real binary: the
//! wiring, the JSON fields and the exit codes. The git crate's own tests cover the
//! semantics case by case.

use crate::common;

use common::{json, run_in};
use std::path::Path;
use unleak_testkit::Repo;

use unleak_testkit::rules::DEMO as RULE;

/// A repository whose first commit adds a token that the second commit deletes.
fn repo() -> (Repo, String) {
    let repo = Repo::init();
    repo.write("rules.toml", RULE);
    let token = "tok_q8r2lm0tv9xw1ka3zp7nb4yc";
    repo.write("app.env", format!("A=1\nTOKEN={token}\n"));
    repo.git(&["add", "app.env"]);
    repo.git(&["commit", "-qm", "add config"]);
    repo.write("app.env", "A=1\nTOKEN=${TOKEN}\n");
    repo.git(&["commit", "-qam", "use the environment"]);
    (repo, token.to_string())
}

fn scan(dir: &Path, extra: &[&str]) -> common::Run {
    let mut args = vec![
        "scan",
        "--no-builtin-rules",
        "--rules",
        "rules.toml",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    run_in(dir, &args, None)
}

#[test]
fn history_only_secrets_carry_their_introducing_commit() {
    let (repo, token) = repo();
    let r = scan(&repo.dir, &["--git", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(!r.stdout.contains(&token) && !r.stderr.contains(&token));
    let doc = json(&r.stdout);
    let f = &doc["findings"][0];
    assert_eq!(f["path"], "app.env");
    assert_eq!(f["line"], 2);
    assert_eq!(f["git"]["summary"], "add config");
    assert_eq!(f["git"]["author"], "Test Author");
    assert_eq!(f["git"]["in_head"], false);
    assert_eq!(f["git"]["commits"], 1);
    let text = run_in(
        &repo.dir,
        &[
            "scan",
            "--no-builtin-rules",
            "--rules",
            "rules.toml",
            "--git",
            ".",
        ],
        None,
    );
    assert!(text.stdout.contains("history only"), "{}", text.stdout);
}

#[test]
fn staged_scans_the_index_not_the_working_tree() {
    let (repo, _) = repo();
    std::fs::write(repo.dir.join("new.env"), "K=tok_zz11yy22xx33ww44vv55uu66\n").unwrap();
    let clean = scan(&repo.dir, &["--staged"]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
    repo.git(&["add", "new.env"]);
    let dirty = scan(&repo.dir, &["--staged"]);
    assert_eq!(dirty.code, 1, "{}", dirty.stderr);
    assert_eq!(json(&dirty.stdout)["findings"][0]["path"], "new.env");
}

#[test]
fn range_reports_only_what_the_branch_added() {
    let (repo, _) = repo();
    repo.git(&["checkout", "-qb", "feature"]);
    std::fs::write(
        repo.dir.join("svc.yaml"),
        "x: 1\ntoken: tok_aa11bb22cc33dd44ee55ff66\n",
    )
    .unwrap();
    repo.git(&["add", "svc.yaml"]);
    repo.git(&["commit", "-qm", "add service"]);
    let r = scan(&repo.dir, &["--range", "main..feature"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json(&r.stdout);
    assert_eq!(doc["findings"].as_array().unwrap().len(), 1);
    assert_eq!(doc["findings"][0]["path"], "svc.yaml");
    assert_eq!(doc["findings"][0]["line"], 2);
    let none = scan(&repo.dir, &["--since-commit", "feature"]);
    assert_eq!(none.code, 0, "{}", none.stderr);
}

#[test]
fn a_range_into_missing_history_is_exit_2_with_advice() {
    let (repo, _) = repo();
    let clone = tempfile::tempdir().unwrap();
    let url = format!("file://{}", repo.dir.display());
    repo.git_at(clone.path(), &["clone", "-q", "--depth", "1", &url, "c"]);
    let c = clone.path().join("c");
    std::fs::write(c.join("rules.toml"), RULE).unwrap();
    let r = scan(&c, &["--range", "HEAD~1..HEAD"]);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("fetch-depth: 0"), "{}", r.stderr);
}

#[test]
fn git_flags_need_a_git_mode_and_a_non_repository_is_exit_2() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("rules.toml"), RULE).unwrap();
    assert_eq!(scan(d.path(), &["--branch", "main"]).code, 2);
    let r = scan(d.path(), &["--git", "."]);
    assert_eq!(r.code, 2);
    assert!(!r.stderr.is_empty());
}
