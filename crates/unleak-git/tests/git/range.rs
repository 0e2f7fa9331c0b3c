//! Pull-request ranges: only what the range added, wherever the branch was rebased or
//! squashed; shallow clones refuse ranges into history they lack.

use crate::common::*;
use unleak_core::Origin;
use unleak_git::{parse_range, scan_range, ChangeOptions, DiffScan, GitError};

fn range(repo: &Repo, base: &str, head: &str) -> DiffScan {
    let scan = scan_range(
        repo.path(),
        &matcher(),
        base,
        head,
        &ChangeOptions::default(),
    )
    .unwrap();
    assert!(
        scan.errors.is_empty(),
        "unexpected errors: {:?}",
        scan.errors
    );
    scan
}

fn secrets(scan: &DiffScan) -> Vec<String> {
    scan.findings
        .iter()
        .map(|f| String::from_utf8(f.secret.expose().to_vec()).unwrap())
        .collect()
}

#[test]
fn moved_and_renamed_lines_are_not_new() {
    let repo = Repo::init();
    let a = token();
    let b = token();
    repo.write("config.env", format!("one\nKEY={a}\nthree\nfour\nfive\n"));
    repo.write("old/name.env", format!("OTHER={b}\n"));
    repo.write("notes.txt", "plain\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    // The secret line moves down, a line is added, the other file is renamed, and one line
    // moves from config.env to notes.txt.
    repo.write("config.env", "one\nthree\nfour\nnew line\nfive\n");
    repo.write("notes.txt", format!("plain\nKEY={a}\n"));
    repo.git(&["mv", "old/name.env", "new-name.env"]);
    repo.commit("shuffle");
    repo.write(
        "config.env",
        format!("one\nthree\nfour\nKEY={a}\nnew line\nfive\n"),
    );
    repo.write("notes.txt", "plain\n");
    repo.commit("move it back");

    let scan = range(&repo, "main", "feature");
    assert!(scan.findings.is_empty(), "{:?}", scan.findings);
    assert_eq!(scan.lines_added, 1, "only `new line` is new");
    assert_eq!(scan.commits, 2);
    assert_eq!(scan.base.as_deref(), Some(repo.rev("main").as_str()));
}

#[test]
fn only_the_branch_secret_counts_after_rebase_or_squash() {
    let repo = Repo::init();
    let old = token();
    let mine = token();
    let theirs = token();
    repo.write("config.env", format!("A=1\nKEY={old}\n"));
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "service/new.yaml",
        format!("name: svc\nauth:\n  token: \"{mine}\"\n"),
    );
    let added = repo.commit("add service");
    repo.write("config.env", format!("KEY={old}\nA=1\n"));
    repo.commit("reorder config");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.txt", format!("{theirs}\n"));
    repo.commit("main moves on");

    // Before the rebase: the merge-base is "base"; main's own secret does not count.
    let plain = range(&repo, "main", "feature");
    assert_eq!(secrets(&plain), std::slice::from_ref(&mine));
    let f = &plain.findings[0];
    assert_eq!(f.path, Origin::File("service/new.yaml".into()));
    assert_eq!((f.location.line, f.location.column), (3, 11));
    let g = f.git.as_ref().unwrap();
    assert_eq!(g.commit, added, "the commit of the range that added it");
    assert_eq!(g.summary, "add service");
    assert_eq!((g.commits, g.in_head), (2, true));
    assert_eq!(g.paths, ["service/new.yaml"]);

    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["rebase", "-q", "main"]);
    let rebased = range(&repo, "main", "feature");
    assert_eq!(secrets(&rebased), std::slice::from_ref(&mine));
    assert_eq!(
        rebased.findings[0].git.as_ref().unwrap().commit,
        repo.rev("feature~1")
    );

    repo.git(&["checkout", "-q", "-b", "squashed", "main"]);
    repo.git(&["merge", "-q", "--squash", "feature"]);
    let squash = repo.commit_staged("squashed feature");
    let squashed = range(&repo, "main", "squashed");
    assert_eq!(secrets(&squashed), std::slice::from_ref(&mine));
    assert_eq!(squashed.findings[0].git.as_ref().unwrap().commit, squash);
    assert_eq!(squashed.commits, 1);

    // "Since BASE" is BASE..HEAD.
    let (base, head) = parse_range(&repo.rev("main")).unwrap();
    let since = range(&repo, &base, &head);
    assert_eq!(secrets(&since), [mine]);
}

#[test]
fn a_secret_copied_to_a_new_path_has_spread() {
    let repo = Repo::init();
    let s = token();
    repo.write("a.env", format!("KEY={s}\n"));
    repo.commit("base");
    let base = repo.rev("HEAD");
    repo.write("b.env", format!("KEY={s}\n"));
    repo.commit("copy");
    let scan = range(&repo, &base, "HEAD");
    assert_eq!(scan.findings.len(), 1);
    assert_eq!(scan.findings[0].path, Origin::File("b.env".into()));
}

#[test]
fn an_edited_secret_line_is_new() {
    let repo = Repo::init();
    let old = token();
    let new = token();
    repo.write("a.env", format!("x\nKEY={old}\n"));
    repo.commit("base");
    repo.write("a.env", format!("x\nKEY={new}\n"));
    repo.commit("rotate");
    let scan = range(&repo, "HEAD~1", "HEAD");
    assert_eq!(secrets(&scan), [new]);
    assert_eq!(scan.findings[0].location.line, 2);
}

#[test]
fn unrelated_histories_and_unknown_revisions_are_errors() {
    let repo = Repo::init();
    repo.write("a.txt", "a\n");
    repo.commit("a");
    repo.git(&["checkout", "-q", "--orphan", "other"]);
    repo.write("b.txt", "b\n");
    repo.commit("b");
    let err = scan_range(
        repo.path(),
        &matcher(),
        "main",
        "other",
        &ChangeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, GitError::NoMergeBase { .. }), "{err}");
    let err = scan_range(
        repo.path(),
        &matcher(),
        "nope",
        "other",
        &ChangeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, GitError::Revision { .. }), "{err}");
    assert!(err.to_string().contains("`nope`"), "{err}");
}

#[test]
fn shallow_clones_say_what_they_miss_and_refuse_ranges_into_it() {
    let origin = Repo::init();
    let early = token();
    origin.write("a.txt", format!("{early}\n"));
    origin.commit("one");
    origin.git(&["branch", "side"]);
    origin.write("b.txt", "two\n");
    origin.commit("two");
    origin.git(&["checkout", "-q", "side"]);
    origin.write("c.txt", "side\n");
    origin.commit("side");
    origin.git(&["checkout", "-q", "main"]);
    let late = token();
    origin.write("d.txt", format!("{late}\n"));
    let head = origin.commit("three");

    let clone = Repo::empty_dir();
    let url = format!("file://{}", origin.path().display());
    clone.git(&[
        "clone",
        "-q",
        "--depth",
        "1",
        "--no-single-branch",
        &url,
        ".",
    ]);

    let scan = unleak_git::scan_history(clone.path(), &matcher(), &Default::default()).unwrap();
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    let shallow = scan.shallow.expect("shallow clone detected");
    assert!(shallow.boundary.iter().any(|b| b.id == head));
    assert!(shallow.boundary.iter().all(|b| b.date.is_some()));
    assert!(shallow.message().contains("--unshallow"));
    // What the clone has is scanned; its history before the boundary is not there.
    assert_eq!(scan.commits_walked, 2, "main and side tips only");
    assert_eq!(with_secret(&scan.findings, &late).len(), 1);
    let early_found = with_secret(&scan.findings, &early);
    assert_eq!(early_found[0].git.as_ref().unwrap().commits, 2);

    // BASE not in the clone.
    let err = scan_range(
        clone.path(),
        &matcher(),
        "HEAD~1",
        "HEAD",
        &ChangeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, GitError::MissingHistory { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("fetch-depth: 0") && msg.contains("git fetch --unshallow"),
        "{msg}"
    );
    // Both ends present, their merge-base cut off.
    let err = scan_range(
        clone.path(),
        &matcher(),
        "origin/side",
        "HEAD",
        &ChangeOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, GitError::MissingHistory { .. }), "{err}");
}
