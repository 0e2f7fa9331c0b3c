//! The real `pre-commit` (from PyPI) runs the `unleak-system` hook of this repository's
//! `.pre-commit-hooks.yaml`: a commit that stages a secret is blocked, a clean one is not.
//!
//! pre-commit comes from the test venv (`unleak_testkit::tools`: `UNLEAK_TEST_VENV`, else
//! one made on first use); a machine that cannot make it fails the test, never skips it.

use crate::guard_support;

use guard_support::{assert_no_secret, token, Repo};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn show(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// pre-commit installed in `repo` with hooks `ids` from this repository's
/// `.pre-commit-hooks.yaml` (copied into a local hook repository at a commit).
struct PreCommit<'a> {
    repo: &'a Repo,
    venv_bin: PathBuf,
    path: std::ffi::OsString,
    home: PathBuf,
}

impl<'a> PreCommit<'a> {
    fn setup(repo: &'a Repo, ids: &[&str]) -> Self {
        let venv_bin = unleak_testkit::tools::venv_bin().to_path_buf();
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
        let mut config = format!(
            "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n",
            hooks.display()
        );
        for id in ids {
            config.push_str(&format!("      - id: {id}\n"));
        }
        repo.write(".pre-commit-config.yaml", config);

        let unleak_dir = Path::new(env!("CARGO_BIN_EXE_unleak")).parent().unwrap();
        let path = std::env::join_paths(
            [venv_bin.clone(), unleak_dir.to_path_buf()]
                .into_iter()
                .chain(std::env::split_paths(
                    &std::env::var_os("PATH").unwrap_or_default(),
                )),
        )
        .unwrap();
        PreCommit {
            repo,
            venv_bin,
            path,
            home: repo.scratch.join("pre-commit-home"),
        }
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("PATH", &self.path)
            .env("PRE_COMMIT_HOME", &self.home)
            .env("NO_COLOR", "1");
    }

    fn pre_commit(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(self.venv_bin.join("pre-commit"));
        self.repo.env(&mut cmd);
        self.env(&mut cmd);
        cmd.args(args).current_dir(&self.repo.dir).output().unwrap()
    }

    /// git with the hooks' PATH (as a developer's shell has it).
    fn git(&self, args: &[&str]) -> Output {
        let mut cmd = self.repo.git_cmd(args);
        self.env(&mut cmd);
        cmd.output().unwrap()
    }
}

#[test]
fn the_hook_blocks_a_staged_secret_and_accepts_a_clean_commit() {
    let repo = Repo::init();
    let pc = PreCommit::setup(&repo, &["unleak-system"]);
    repo.write("README.md", "hello\n");
    repo.commit("configure pre-commit");
    let out = pc.pre_commit(&["install"]);
    assert!(out.status.success(), "pre-commit install: {}", show(&out));

    let commit = |message: &str| pc.git(&["commit", "-m", message]);
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

#[test]
fn run_all_files_guards_the_tree_it_is_given() {
    let repo = Repo::init();
    let pc = PreCommit::setup(&repo, &["unleak-system"]);
    let secrets = [token(61), token(62)];
    repo.write("config/app.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    assert_eq!(repo.unleak(&["baseline", "create"]).code, 0);
    repo.commit("adopt unleak with a known secret");
    // A known secret passes: the baseline applies.
    let clean = pc.pre_commit(&["run", "--all-files"]);
    assert!(clean.status.success(), "{}", show(&clean));

    // A secret committed past the hook (--no-verify, or by another tool) is what CI's
    // `pre-commit run --all-files` is there to catch.
    repo.write("deploy/ci.env", format!("DEPLOY_TOKEN={}\n", secrets[1]));
    repo.commit("committed with --no-verify");
    let caught = pc.pre_commit(&["run", "--all-files"]);
    let log = show(&caught);
    assert!(!caught.status.success(), "--all-files passed:\n{log}");
    assert!(
        log.contains("NEW    deploy/ci.env:1:14  github-pat-classic"),
        "{log}"
    );
    assert!(
        !log.contains("config/app.env:1"),
        "the known one is new:\n{log}"
    );
    assert_no_secret("pre-commit output", &log, &secrets);

    // The same range through --from-ref/--to-ref scans what the commits added.
    let base = repo.git(&["rev-parse", "HEAD~1"]);
    let ranged = pc.pre_commit(&[
        "run",
        "--hook-stage",
        "pre-commit",
        "--from-ref",
        &base,
        "--to-ref",
        "HEAD",
    ]);
    let log = show(&ranged);
    assert!(!ranged.status.success(), "{log}");
    assert!(log.contains(&format!("range {base}..HEAD")), "{log}");
    assert!(log.contains("deploy/ci.env:1:14"), "{log}");
}

#[test]
fn the_pre_push_hook_blocks_a_push_of_commits_that_add_a_secret() {
    let repo = Repo::init();
    let pc = PreCommit::setup(&repo, &["unleak-push-system"]);
    let origin = repo.scratch.join("origin.git");
    let init = repo
        .git_cmd(&["init", "-q", "--bare", "-b", "main"])
        .arg(&origin)
        .output()
        .unwrap();
    assert!(init.status.success(), "{}", show(&init));
    repo.git(&[
        "remote",
        "add",
        "origin",
        &format!("file://{}", origin.display()),
    ]);
    repo.write("README.md", "hello\n");
    repo.commit("start");
    let out = pc.pre_commit(&["install", "-t", "pre-push"]);
    assert!(out.status.success(), "pre-commit install: {}", show(&out));
    let first = pc.git(&["push", "-q", "origin", "main"]);
    assert!(first.status.success(), "{}", show(&first));
    let pushed = || {
        let mut cmd = repo.git_cmd(&["rev-parse", "main"]);
        cmd.current_dir(&origin);
        String::from_utf8_lossy(&cmd.output().unwrap().stdout)
            .trim()
            .to_string()
    };
    let before = pushed();

    // Two commits: the second is clean, the first adds a secret.
    let secret = token(63);
    repo.write("deploy/ci.env", format!("DEPLOY_TOKEN={secret}\n"));
    repo.commit("deploy config");
    repo.write("src/app.py", "print(1)\n");
    repo.commit("more work");
    let blocked = pc.git(&["push", "origin", "main"]);
    let log = show(&blocked);
    assert!(!blocked.status.success(), "the push went through:\n{log}");
    assert!(log.contains("deploy/ci.env:1:14"), "{log}");
    assert_eq!(pushed(), before, "origin moved");
    assert_no_secret("pre-push output", &log, &[secret]);

    repo.write("deploy/ci.env", "DEPLOY_TOKEN=${DEPLOY_TOKEN}\n");
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "--no-verify",
        "--amend",
        "-m",
        "deploy config",
    ]);
    // Rewrite the secret out of the unpushed history, then push the clean commits.
    repo.git(&["reset", "-q", "--soft", &before]);
    repo.git(&[
        "commit",
        "-q",
        "--no-verify",
        "-m",
        "deploy config, from the environment",
    ]);
    let clean = pc.git(&["push", "-q", "origin", "main"]);
    assert!(clean.status.success(), "{}", show(&clean));
    assert_eq!(pushed(), repo.git(&["rev-parse", "main"]));
}
