//! Staged scans: the index against HEAD, never the working tree.

use crate::common::*;
use unleak_core::Origin;
use unleak_git::{scan_staged, ChangeOptions, DiffScan};

fn staged(repo: &Repo) -> DiffScan {
    let scan = scan_staged(repo.path(), &matcher(), &ChangeOptions::default()).unwrap();
    assert!(
        scan.errors.is_empty(),
        "unexpected errors: {:?}",
        scan.errors
    );
    scan
}

#[test]
fn only_staged_content_counts() {
    let repo = Repo::init();
    repo.write("app.env", "A=1\n");
    let head = repo.commit("base");
    let s = token();
    repo.write("app.env", format!("A=1\nKEY={s}\n"));
    let clean = staged(&repo);
    assert!(
        clean.findings.is_empty(),
        "an unstaged edit is not committed"
    );
    assert_eq!(clean.files_scanned, 0);
    assert_eq!(clean.base.as_deref(), Some(head.as_str()));

    repo.git(&["add", "app.env"]);
    // The working tree moves on; the staged blob is what counts.
    repo.write("app.env", "A=1\n");
    let scan = staged(&repo);
    assert_eq!(scan.findings.len(), 1);
    let f = &scan.findings[0];
    assert_eq!(f.secret.expose(), s.as_bytes());
    assert_eq!(f.path, Origin::File("app.env".into()));
    assert_eq!((f.location.line, f.location.column), (2, 5));
    assert!(f.git.is_none());
}

#[test]
fn the_first_commit_can_be_scanned() {
    let repo = Repo::init();
    let s = token();
    repo.write("dir/first.txt", format!("hello\n{s}\n"));
    repo.git(&["add", "."]);
    let scan = staged(&repo);
    assert_eq!(scan.base, None);
    assert_eq!(scan.findings.len(), 1);
    assert_eq!(scan.findings[0].path, Origin::File("dir/first.txt".into()));
    assert_eq!(scan.findings[0].location.line, 2);
}

#[test]
fn moved_lines_deletions_intent_to_add_and_submodules_are_not_new() {
    let repo = Repo::init();
    let s = token();
    repo.write("a.env", format!("KEY={s}\nB=2\n"));
    repo.write("gone.txt", "bye\n");
    let c1 = repo.commit("base");
    repo.write("a.env", format!("B=2\nKEY={s}\n"));
    repo.git(&["add", "a.env"]);
    repo.git(&["rm", "-q", "gone.txt"]);
    repo.write("later.env", format!("{}\n", token()));
    repo.git(&["add", "-N", "later.env"]);
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{c1},vendor/lib"),
    ]);
    let scan = staged(&repo);
    assert!(scan.findings.is_empty(), "{:?}", scan.findings);
    assert_eq!(scan.skipped.len(), 1);
    assert_eq!(scan.skipped[0].what, "submodule `vendor/lib`");
}

#[test]
fn an_empty_repository_has_nothing_staged() {
    let repo = Repo::init();
    let scan = staged(&repo);
    assert!(scan.findings.is_empty());
    assert_eq!(scan.files_scanned, 0);
}
