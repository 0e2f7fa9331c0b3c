//! The real `pre-commit` (from PyPI) runs the `unleak-system` hook of this repository's
//! `.pre-commit-hooks.yaml`: a commit that stages a secret is blocked, a clean one is not.
//!
//! The venv comes from `UNLEAK_TEST_VENV` (`.ci/run` makes it). Without it, CI fails the
//! test; elsewhere the test makes a venv itself, or says clearly why it is skipped.

mod guard_support;

use guard_support::{assert_no_secret, token, Repo};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's `bin` directory holding `pre-commit`, or `None` (with the reason printed)
/// when one cannot be had outside CI.
fn pre_commit_bin(scratch: &Path) -> Option<PathBuf> {
    if let Some(venv) = std::env::var_os("UNLEAK_TEST_VENV") {
        let bin = PathBuf::from(venv).join("bin");
        assert!(
            bin.join("pre-commit").is_file(),
            "UNLEAK_TEST_VENV={} has no bin/pre-commit",
            bin.display()
        );
        return Some(bin);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but UNLEAK_TEST_VENV is not: .ci/run must create the pre-commit venv"
    );
    let venv = scratch.join("venv");
    let made = Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "pre-commit"])
            .status()
            .is_ok_and(|s| s.success());
    if !made {
        eprintln!(
            "SKIPPED pre-commit test: no UNLEAK_TEST_VENV and no venv with pre-commit could be \
             made here (python3 -m venv + pip install pre-commit failed)"
        );
        return None;
    }
    Some(venv.join("bin"))
}

fn show(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_hook_blocks_a_staged_secret_and_accepts_a_clean_commit() {
    let repo = Repo::init();
    let Some(venv_bin) = pre_commit_bin(&repo.scratch) else {
        return;
    };

    // The hook repository: this repository's .pre-commit-hooks.yaml at a commit.
    let hooks = repo.scratch.join("hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    std::fs::copy(
        repo_root().join(".pre-commit-hooks.yaml"),
        hooks.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    let in_hooks = |args: &[&str]| {
        let mut cmd = repo.git_cmd(args);
        cmd.current_dir(&hooks);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", show(&out));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    in_hooks(&["init", "-q", "-b", "main", "."]);
    in_hooks(&["add", "-A"]);
    in_hooks(&["commit", "-q", "-m", "hooks"]);
    let rev = in_hooks(&["rev-parse", "HEAD"]);

    repo.write(
        ".pre-commit-config.yaml",
        format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: unleak-system\n",
            hooks.display()
        ),
    );
    repo.write("README.md", "hello\n");
    repo.commit("configure pre-commit");

    let unleak_dir = Path::new(env!("CARGO_BIN_EXE_unleak")).parent().unwrap();
    let path = std::env::join_paths(
        [venv_bin.clone(), unleak_dir.to_path_buf()]
            .into_iter()
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            )),
    )
    .unwrap();
    let pc_home = repo.scratch.join("pre-commit-home");
    let with_hooks = |cmd: &mut Command| {
        cmd.env("PATH", &path)
            .env("PRE_COMMIT_HOME", &pc_home)
            .env("NO_COLOR", "1");
    };
    let mut install = Command::new(venv_bin.join("pre-commit"));
    repo.env(&mut install);
    with_hooks(&mut install);
    let out = install
        .arg("install")
        .current_dir(&repo.dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "pre-commit install: {}", show(&out));

    let commit = |message: &str| {
        let mut cmd = repo.git_cmd(&["commit", "-m", message]);
        with_hooks(&mut cmd);
        cmd.output().unwrap()
    };
    let head_before = repo.git(&["rev-parse", "HEAD"]);

    let secret = token(60);
    repo.write("deploy/ci.env", format!("DEPLOY_TOKEN={secret}\n"));
    repo.git(&["add", "deploy/ci.env"]);
    let blocked = commit("add deploy config");
    let log = show(&blocked);
    assert!(!blocked.status.success(), "the commit went through:\n{log}");
    assert!(
        log.contains("NEW    deploy/ci.env:1:14  github-pat-classic"),
        "{log}"
    );
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head_before);
    assert_no_secret("pre-commit output", &log, &[secret]);

    repo.write("deploy/ci.env", "DEPLOY_TOKEN=${DEPLOY_TOKEN}\n");
    repo.git(&["add", "deploy/ci.env"]);
    let accepted = commit("add deploy config");
    assert!(accepted.status.success(), "{}", show(&accepted));
    assert_ne!(repo.git(&["rev-parse", "HEAD"]), head_before);
}
