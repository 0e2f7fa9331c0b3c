//! Whole-history audits: refs, provenance, counts, options.

use crate::common::*;
use unleak_core::Origin;
use unleak_git::{scan_history, ChangeOptions, HistoryOptions, HistoryScan, UNREACHABLE_PATH};

fn audit(repo: &Repo, opts: &HistoryOptions) -> HistoryScan {
    let scan = scan_history(repo.path(), &matcher(), opts).unwrap();
    assert!(
        scan.errors.is_empty(),
        "unexpected errors: {:?}",
        scan.errors
    );
    scan
}

fn blob_id(f: &unleak_core::Finding) -> String {
    match &f.path {
        Origin::Git { blob_id, .. } => blob_id.clone(),
        other => panic!("history findings are git origins, got {other:?}"),
    }
}

#[test]
fn branches_merge_rename_and_deletion_have_provenance() {
    let repo = Repo::init();
    let kept = token();
    let feature_secret = token();
    let deleted = token();

    repo.write("config.env", format!("NAME=app\nKEY={kept}\n"));
    let c1 = repo.commit("add config");
    repo.write("app.txt", "hello\n");
    repo.commit("add app");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "feature.txt",
        format!("x\ny\nfeature = \"{feature_secret}\"\n"),
    );
    let c3 = repo.commit("feature work");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("other.txt", "other\n");
    repo.commit("other");
    repo.git(&["merge", "-q", "--no-ff", "-m", "merge feature", "feature"]);
    repo.tick();
    repo.git(&["mv", "config.env", "settings.env"]);
    repo.commit_staged("rename config");
    let c7_date = repo.now();
    repo.write("deleted.txt", format!("{deleted}\n"));
    let c7 = repo.commit("add a file by mistake");
    repo.git(&["rm", "-q", "deleted.txt"]);
    repo.commit_staged("remove it again");

    let scan = audit(&repo, &HistoryOptions::default());
    // main: c1, c2, c4, merge, rename, c7, c8; feature: c3.
    assert_eq!(scan.commits_walked, 8);

    let kept_findings = with_secret(&scan.findings, &kept);
    let paths: Vec<String> = kept_findings.iter().map(|f| path_of(f)).collect();
    assert_eq!(paths, ["config.env", "settings.env"]);
    let before = kept_findings[0].git.as_ref().unwrap();
    let after = kept_findings[1].git.as_ref().unwrap();
    assert_eq!(before.commit, c1);
    assert_eq!(
        before.commits, 5,
        "c1, c2, c3, c4 and the merge hold config.env"
    );
    assert!(!before.in_head, "config.env is gone at HEAD");
    assert_eq!(after.commits, 3, "the rename, c7 and c8 hold settings.env");
    assert!(after.in_head);
    assert_eq!(before.paths, ["config.env", "settings.env"]);
    assert_eq!(after.paths, before.paths);
    assert_eq!(
        (
            kept_findings[0].location.line,
            kept_findings[0].location.column
        ),
        (2, 5)
    );
    assert_eq!(
        blob_id(kept_findings[0]),
        repo.rev(&format!("{c1}:config.env"))
    );

    let feature = with_secret(&scan.findings, &feature_secret);
    assert_eq!(feature.len(), 1);
    let g = feature[0].git.as_ref().unwrap();
    assert_eq!(g.commit, c3);
    assert!(g.in_head, "merged into main");
    assert_eq!(feature[0].location.line, 3);

    let gone = with_secret(&scan.findings, &deleted);
    assert_eq!(gone.len(), 1);
    let g = gone[0].git.as_ref().unwrap();
    assert_eq!(path_of(gone[0]), "deleted.txt");
    assert!(!g.in_head, "history only");
    assert_eq!(g.commit, c7);
    assert_eq!(g.author, AUTHOR);
    assert_eq!(g.email, EMAIL);
    assert_eq!(g.summary, "add a file by mistake");
    assert_eq!(g.commits, 1);
    // EPOCH is 2023-11-14T22:13:20Z and the clock moves in whole minutes.
    let minute = 13 + (c7_date - EPOCH) / 60;
    assert_eq!(g.date, format!("2023-11-14T22:{minute:02}:20+00:00"));
    assert_eq!(scan.findings.len(), 4);
    assert!(scan.shallow.is_none());
}

#[test]
fn every_kind_of_ref_is_walked() {
    let repo = Repo::init();
    repo.write("README", "base\n");
    repo.commit("base");

    // A tag on a branch that was deleted afterwards.
    let tagged = token();
    repo.git(&["checkout", "-q", "-b", "tmp"]);
    repo.write("tagged.txt", format!("{tagged}\n"));
    repo.commit("only reachable from a tag");
    repo.git(&["tag", "-a", "-m", "release", "v1"]);
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["branch", "-q", "-D", "tmp"]);

    // A remote-tracking ref to a commit no local branch has.
    let remote = token();
    let blob = repo.git_stdin(
        &["hash-object", "-w", "--stdin"],
        format!("{remote}\n").as_bytes(),
    );
    let tree = repo.git_stdin(
        &["mktree"],
        format!("100644 blob {blob}\tremote.txt\n").as_bytes(),
    );
    let commit = repo.git(&["commit-tree", &tree, "-m", "remote only"]);
    repo.git(&["update-ref", "refs/remotes/origin/gone", &commit]);

    // Two stash entries: the newest is refs/stash, the older only in its reflog.
    let stashed_old = token();
    let stashed_new = token();
    repo.write("README", format!("base\n{stashed_old}\n"));
    repo.git(&["stash", "-q"]);
    repo.tick();
    repo.write("README", format!("base\n{stashed_new}\n"));
    repo.git(&["stash", "-q"]);

    // A note.
    let noted = token();
    repo.git(&["notes", "add", "-m", &format!("deploy key {noted}"), "HEAD"]);

    let scan = audit(&repo, &HistoryOptions::default());
    for (what, secret) in [
        ("tag", &tagged),
        ("remote-tracking ref", &remote),
        ("older stash", &stashed_old),
        ("newest stash", &stashed_new),
        ("note", &noted),
    ] {
        let found = with_secret(&scan.findings, secret);
        assert_eq!(found.len(), 1, "secret behind a {what} not found once");
        assert!(!found[0].git.as_ref().unwrap().in_head, "{what}");
    }
    assert_eq!(
        path_of(with_secret(&scan.findings, &remote)[0]),
        "remote.txt"
    );

    // Only one ref.
    let main_only = audit(
        &repo,
        &HistoryOptions {
            branch: Some("main".into()),
            ..HistoryOptions::default()
        },
    );
    assert!(main_only.findings.is_empty());
    assert_eq!(main_only.commits_walked, 1);
    let tag_only = audit(
        &repo,
        &HistoryOptions {
            branch: Some("v1".into()),
            ..HistoryOptions::default()
        },
    );
    assert_eq!(tag_only.findings.len(), 1);
    let bad = scan_history(
        repo.path(),
        &matcher(),
        &HistoryOptions {
            branch: Some("no-such-branch".into()),
            ..HistoryOptions::default()
        },
    )
    .unwrap_err();
    assert!(bad.to_string().contains("no-such-branch"), "{bad}");
}

#[test]
fn all_objects_finds_what_no_ref_reaches() {
    let repo = Repo::init();
    repo.write("a.txt", "a\n");
    repo.commit("a");
    let loose = token();
    let blob = repo.git_stdin(
        &["hash-object", "-w", "--stdin"],
        format!("{loose}\n").as_bytes(),
    );
    let dangling = token();
    repo.write("a.txt", format!("a\n{dangling}\n"));
    repo.git(&["add", "a.txt"]);
    let tree = repo.git(&["write-tree"]);
    let parent = repo.rev("HEAD");
    let commit = repo.git(&["commit-tree", &tree, "-p", &parent, "-m", "amended away"]);
    repo.git(&["reset", "-q", "--hard"]);

    assert!(audit(&repo, &HistoryOptions::default()).findings.is_empty());
    let scan = audit(
        &repo,
        &HistoryOptions {
            all_objects: true,
            ..HistoryOptions::default()
        },
    );
    let lost = with_secret(&scan.findings, &loose);
    assert_eq!(lost.len(), 1);
    assert_eq!(path_of(lost[0]), UNREACHABLE_PATH);
    assert_eq!(blob_id(lost[0]), blob);
    let g = lost[0].git.as_ref().unwrap();
    assert_eq!((g.commit.as_str(), g.commits, g.in_head), ("", 0, false));

    let orphan = with_secret(&scan.findings, &dangling);
    assert_eq!(
        orphan.len(),
        1,
        "dangling commits are walked with provenance"
    );
    assert_eq!(path_of(orphan[0]), "a.txt");
    assert_eq!(orphan[0].git.as_ref().unwrap().commit, commit);
}

#[test]
fn since_max_commits_size_limit_and_binary() {
    let repo = Repo::init();
    let old = token();
    repo.write("old.txt", format!("{old}\n"));
    repo.commit("old");
    let cut = repo.now();
    let mid = token();
    repo.write("mid.txt", format!("{mid}\n"));
    repo.commit("mid");
    let big = token();
    repo.write("big.txt", format!("{big}\n{}", "x".repeat(4096)));
    let mut binary = b"\0\x01\x02".to_vec();
    binary.extend_from_slice(token().as_bytes());
    repo.write("image.bin", binary);
    repo.commit("new");

    let since = audit(
        &repo,
        &HistoryOptions {
            since: Some(cut),
            ..HistoryOptions::default()
        },
    );
    assert_eq!(since.commits_walked, 2);
    // The old file is still in the newer commits' trees; it is first seen in "mid".
    let olds = with_secret(&since.findings, &old);
    assert_eq!(olds[0].git.as_ref().unwrap().summary, "mid");
    assert_eq!(olds[0].git.as_ref().unwrap().commits, 2);

    let newest = audit(
        &repo,
        &HistoryOptions {
            max_commits: Some(1),
            ..HistoryOptions::default()
        },
    );
    assert_eq!(newest.commits_walked, 1);
    assert_eq!(newest.findings.len(), 3, "old, mid and big are all in HEAD");
    assert_eq!(newest.binary_skipped, 1);

    let limited = audit(
        &repo,
        &HistoryOptions {
            max_blob_size: 1024,
            ..HistoryOptions::default()
        },
    );
    assert!(with_secret(&limited.findings, &big).is_empty());
    assert_eq!(limited.skipped.len(), 1);
    assert!(
        limited.skipped[0].what.contains("big.txt"),
        "{:?}",
        limited.skipped
    );
    assert!(limited.skipped[0].why.contains("size limit"));
    assert_eq!(with_secret(&limited.findings, &mid).len(), 1);
}

#[test]
fn a_secret_in_1000_commits_is_one_finding_each_way() {
    let repo = Repo::init();
    let steady = token();
    let moving = token();
    let mut stream = String::new();
    for i in 1..=1000 {
        stream.push_str(&format!(
            "commit refs/heads/main\nmark :{i}\ncommitter {AUTHOR} <{EMAIL}> {} +0000\ndata <<EOF\ncommit {i}\nEOF\n",
            EPOCH + i
        ));
        if i == 1 {
            let content = format!("KEY={steady}\n");
            stream.push_str(&format!(
                "M 100644 inline steady.txt\ndata {}\n{content}\n",
                content.len()
            ));
        }
        // The file changes around the secret in every commit.
        let content = format!("build {i}\ntoken: {moving}\nlast {i}\n");
        stream.push_str(&format!(
            "M 100644 inline moving.txt\ndata {}\n{content}\n",
            content.len()
        ));
    }
    repo.git_stdin(&["fast-import", "--quiet"], stream.as_bytes());

    let scan = audit(&repo, &HistoryOptions::default());
    assert_eq!(scan.commits_walked, 1000);
    assert_eq!(scan.findings.len(), 2);
    let first = repo.rev("main~999");
    for secret in [&steady, &moving] {
        let f = with_secret(&scan.findings, secret);
        assert_eq!(f.len(), 1);
        let g = f[0].git.as_ref().unwrap();
        assert_eq!(g.commits, 1000);
        assert_eq!(g.commit, first);
        assert!(g.in_head);
    }
    assert_eq!(scan.blobs_scanned, 1001, "each distinct blob once");
}

#[test]
fn an_empty_repository_is_clean() {
    let repo = Repo::init();
    let scan = audit(&repo, &HistoryOptions::default());
    assert!(scan.findings.is_empty());
    assert_eq!((scan.commits_walked, scan.blobs_scanned), (0, 0));
}

#[test]
fn submodules_are_skipped_and_named() {
    let repo = Repo::init();
    let secret = token();
    repo.write("main.txt", format!("{secret}\n"));
    let c1 = repo.commit("one");
    repo.git(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{c1},vendor/lib"),
    ]);
    repo.commit_staged("add submodule");
    let scan = audit(&repo, &HistoryOptions::default());
    assert_eq!(with_secret(&scan.findings, &secret).len(), 1);
    assert_eq!(scan.skipped.len(), 1);
    assert_eq!(scan.skipped[0].what, "submodule `vendor/lib`");
    let range = unleak_git::scan_range(
        repo.path(),
        &matcher(),
        "HEAD~1",
        "HEAD",
        &ChangeOptions::default(),
    )
    .unwrap();
    assert!(range.findings.is_empty() && range.errors.is_empty());
    assert_eq!(range.skipped, scan.skipped);
}

#[test]
fn a_path_that_is_not_a_repository_is_a_clear_error() {
    let repo = Repo::init();
    repo.write("sub/file.txt", "x\n");
    let err = scan_history(
        &repo.path().join("sub"),
        &matcher(),
        &HistoryOptions::default(),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("sub") && msg.contains("cannot open"), "{msg}");
}
