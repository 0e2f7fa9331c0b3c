//! Untrusted repositories: configured programs never run, other owners' checkouts open,
//! corrupt objects are reported by id while the rest is still scanned.

use crate::common::*;
use std::path::Path;
use unleak_git::{scan_history, scan_range, scan_staged, ChangeOptions, GitError, HistoryOptions};

/// An executable shell script that leaves `marker` behind when it runs.
#[cfg(unix)]
fn script(path: &Path, marker: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(
        path,
        format!("#!/bin/sh\ntouch '{}'\ncat\n", marker.display()),
    )
    .unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Make a file git wrote read-only writable again, so the test can damage it.
fn writable(path: &Path) {
    #[cfg(unix)]
    let perms = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(0o644)
    };
    #[cfg(not(unix))]
    let perms = {
        let mut p = std::fs::metadata(path).unwrap().permissions();
        p.set_readonly(false);
        p
    };
    std::fs::set_permissions(path, perms).unwrap();
}

// Filters, hooks and helpers are shell scripts here.
#[cfg(unix)]
#[test]
fn configured_programs_never_run_in_any_mode() {
    let repo = Repo::init();
    let committed = token();
    let branch = token();
    let staged = token();
    repo.write(".gitattributes", "* filter=evil diff=evil merge=evil\n");
    repo.write("app.env", format!("KEY={committed}\n"));
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("feature.env", format!("KEY={branch}\n"));
    repo.commit("feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("staged.env", format!("KEY={staged}\n"));
    repo.git(&["add", "staged.env"]);

    // Arm every trap only now, so building the repository did not trigger them.
    let outside = repo.path().parent().unwrap();
    let marker = outside.join("MARKER");
    let evil = outside.join("evil.sh");
    script(&evil, &marker);
    let hooks = outside.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    for name in [
        "pre-commit",
        "post-checkout",
        "post-merge",
        "post-commit",
        "pre-push",
        "reference-transaction",
        "post-index-change",
        "fsmonitor-watchman",
        "pre-auto-gc",
        "post-rewrite",
        "prepare-commit-msg",
        "commit-msg",
    ] {
        script(&hooks.join(name), &marker);
        script(&repo.path().join(".git/hooks").join(name), &marker);
    }
    let e = evil.display();
    let config = format!(
        "[core]\n\tfsmonitor = {e}\n\thooksPath = {}\n\tsshCommand = {e}\n\taskPass = {e}\n\tpager = {e}\n\teditor = {e}\n\
         [filter \"evil\"]\n\tclean = {e}\n\tsmudge = {e}\n\tprocess = {e}\n\trequired = true\n\
         [diff \"evil\"]\n\ttextconv = {e}\n\tcommand = {e}\n\
         [merge \"evil\"]\n\tdriver = {e}\n\
         [credential]\n\thelper = {e}\n\
         [gpg]\n\tprogram = {e}\n\
         [remote \"origin\"]\n\turl = ext::{e}\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n\
         [uploadpack]\n\tpackObjectsHook = {e}\n",
        hooks.display()
    );
    let mut text = std::fs::read_to_string(repo.path().join(".git/config")).unwrap();
    text.push_str(&config);
    std::fs::write(repo.path().join(".git/config"), text).unwrap();

    // The traps are live: git itself springs them (and fails on the broken filter).
    repo.git_unchecked(&["status", "--short"]);
    assert!(marker.exists(), "the hostile config did not arm");
    std::fs::remove_file(&marker).unwrap();

    let m = matcher();
    let history = scan_history(repo.path(), &m, &HistoryOptions::default()).unwrap();
    assert_eq!(with_secret(&history.findings, &committed).len(), 1);
    assert_eq!(with_secret(&history.findings, &branch).len(), 1);
    let everything = scan_history(
        repo.path(),
        &m,
        &HistoryOptions {
            all_objects: true,
            ..HistoryOptions::default()
        },
    )
    .unwrap();
    assert_eq!(with_secret(&everything.findings, &staged).len(), 1);
    let range = scan_range(
        repo.path(),
        &m,
        "main",
        "feature",
        &ChangeOptions::default(),
    )
    .unwrap();
    assert_eq!(with_secret(&range.findings, &branch).len(), 1);
    let index = scan_staged(repo.path(), &m, &ChangeOptions::default()).unwrap();
    assert_eq!(with_secret(&index.findings, &staged).len(), 1);
    assert!(!marker.exists(), "a configured program ran");
}

#[test]
fn a_checkout_owned_by_another_user_still_opens() {
    let repo = Repo::init();
    let s = token();
    repo.write("a.env", format!("{s}\n"));
    repo.commit("a");
    let chown = std::process::Command::new("chown")
        .args(["-R", "4242:4242"])
        .arg(repo.path())
        .status()
        .unwrap();
    if !chown.success() {
        eprintln!("not root: cannot hand the checkout to another uid; skipping");
        return;
    }
    let scan = scan_history(repo.path(), &matcher(), &HistoryOptions::default()).unwrap();
    assert_eq!(with_secret(&scan.findings, &s).len(), 1);
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
}

#[test]
fn a_corrupt_loose_object_is_named_and_the_rest_is_scanned() {
    let repo = Repo::init();
    repo.write("README", "start\n");
    repo.commit("start");
    let good = token();
    let bad = token();
    repo.write("good.env", format!("{good}\n"));
    repo.write("bad.env", format!("{bad}\n"));
    repo.commit("two secrets");
    let oid = repo.rev("HEAD:bad.env");
    let object = repo
        .path()
        .join(".git/objects")
        .join(&oid[..2])
        .join(&oid[2..]);
    writable(&object);
    std::fs::write(&object, b"this is not a zlib stream").unwrap();

    let m = matcher();
    let scan = scan_history(repo.path(), &m, &HistoryOptions::default()).unwrap();
    assert_eq!(with_secret(&scan.findings, &good).len(), 1);
    assert!(with_secret(&scan.findings, &bad).is_empty());
    assert_eq!(scan.errors.len(), 1, "{:?}", scan.errors);
    let msg = scan.errors[0].to_string();
    assert!(msg.contains(&oid), "{msg}");
    assert!(msg.contains("bad.env"), "{msg}");
    assert!(msg.contains(&repo.path().display().to_string()), "{msg}");

    let range = scan_range(repo.path(), &m, "HEAD~1", "HEAD", &ChangeOptions::default()).unwrap();
    assert_eq!(with_secret(&range.findings, &good).len(), 1);
    assert!(range.errors.iter().any(|e| e.to_string().contains(&oid)));
}

#[test]
fn a_truncated_pack_is_a_clear_error_not_a_panic() {
    let repo = Repo::init();
    for i in 0..5 {
        repo.write(
            &format!("f{i}.env"),
            format!("{}\n{}\n", token(), "filler ".repeat(200)),
        );
        repo.commit(&format!("c{i}"));
    }
    repo.git(&["repack", "-a", "-d", "-q"]);
    repo.git(&["prune-packed"]);
    let pack_dir = repo.path().join(".git/objects/pack");
    let pack = std::fs::read_dir(&pack_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "pack"))
        .unwrap();
    let len = std::fs::metadata(&pack).unwrap().len();
    writable(&pack);
    let file = std::fs::OpenOptions::new().write(true).open(&pack).unwrap();
    file.set_len(len / 2).unwrap();

    let pack_name = pack.file_name().unwrap().to_string_lossy().into_owned();
    let m = matcher();
    let history = scan_history(repo.path(), &m, &HistoryOptions::default()).unwrap();
    assert!(
        matches!(history.errors[0], GitError::CorruptPack { .. }),
        "{:?}",
        history.errors
    );
    let msg = history.errors[0].to_string();
    assert!(
        msg.contains(&pack_name) && msg.contains("does not match its index"),
        "{msg}"
    );
    // Everything was in that pack: the refs cannot be followed, and each says which object.
    let head = repo.rev("HEAD");
    assert!(
        history.errors.iter().any(|e| e.to_string().contains(&head)),
        "{:?}",
        history.errors
    );
    assert!(history.findings.is_empty());
    // Range and staged scans are gates: they refuse a repository they cannot fully read.
    for err in [
        scan_range(repo.path(), &m, "HEAD~2", "HEAD", &ChangeOptions::default()).unwrap_err(),
        scan_staged(repo.path(), &m, &ChangeOptions::default()).unwrap_err(),
    ] {
        assert!(matches!(err, GitError::CorruptPack { .. }), "{err}");
    }
}
