//! What the guard, action and pre-commit tests share: git repositories built with the git
//! CLI in temp dirs (fixed author, dates and config, so every run is the same), tokens from
//! the rule generator, and a way to run the real `unleak` binary with a clean environment.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;
use unleak_rules::generate::{generate, Rng};

/// A GitHub classic token with a valid checksum; distinct seeds give distinct tokens.
pub fn token(seed: u64) -> String {
    generate("crc32:ghp_", &mut Rng::new(0x6775_6172_6400 + seed)).unwrap()
}

pub struct Repo {
    _tmp: TempDir,
    pub dir: PathBuf,
    pub home: PathBuf,
    pub scratch: PathBuf,
    clock: std::cell::Cell<i64>,
}

/// The outcome of one `unleak` run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout and stderr together, for "never contains" checks.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl Repo {
    /// `git init -b main` in a new temp dir.
    pub fn init() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        let home = tmp.path().join("home");
        let scratch = tmp.path().join("scratch");
        for d in [&dir, &home, &scratch] {
            std::fs::create_dir_all(d).unwrap();
        }
        let repo = Repo {
            _tmp: tmp,
            dir,
            home,
            scratch,
            clock: std::cell::Cell::new(1_700_000_000),
        };
        repo.git(&["init", "-q", "-b", "main", "."]);
        repo
    }

    /// The deterministic environment every git and tool run gets.
    pub fn env(&self, cmd: &mut Command) {
        let date = format!("{} +0000", self.clock.get());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("LANG", "C.UTF-8")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home.join(".gitconfig"))
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_NAME", "Test Author")
            .env("GIT_COMMITTER_EMAIL", "author@example.com")
            .env("GIT_COMMITTER_DATE", &date);
    }

    pub fn git_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("git");
        self.env(&mut cmd);
        cmd.current_dir(&self.dir)
            .args(["-c", "commit.gpgsign=false", "-c", "gc.auto=0"])
            .args([
                "-c",
                "core.quotepath=false",
                "-c",
                "merge.conflictstyle=merge",
            ])
            .args(args);
        cmd
    }

    /// Run git; panics with its stderr on failure; returns trimmed stdout.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.git_cmd(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.tick();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    pub fn read(&self, path: &str) -> String {
        std::fs::read_to_string(self.dir.join(path)).unwrap()
    }

    /// Stage everything and commit; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn tick(&self) {
        self.clock.set(self.clock.get() + 60);
    }

    /// Run the real `unleak` in the repository with a clean environment.
    pub fn unleak(&self, args: &[&str]) -> Run {
        self.unleak_env(args, &[])
    }

    pub fn unleak_env(&self, args: &[&str], env: &[(&str, &Path)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_unleak"));
        self.env(&mut cmd);
        cmd.env("NO_COLOR", "1").current_dir(&self.dir).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Assert that `text` contains none of `secrets`, naming where it leaked.
pub fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "{what} leaked a raw secret:\n{text}"
        );
        // Not even the random part without its public prefix.
        assert!(
            !text.contains(&s[4..]),
            "{what} leaked a secret's random part:\n{text}"
        );
    }
}
