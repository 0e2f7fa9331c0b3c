//! Test repositories built on the fly with the `git` CLI, isolated from the user's and the
//! system's git configuration, with fixed identities and dates.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use tempfile::TempDir;
use unleak_core::{Blob, Finding};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_rules::RuleSetBuilder;

pub const AUTHOR: &str = "Ada Tester";
pub const EMAIL: &str = "ada@example.test";
/// Commit dates start here (2023-11-14T22:13:20Z) and advance a minute per commit.
pub const EPOCH: i64 = 1_700_000_000;

const RULES: &str = r#"
[[rules]]
id = "test-token"
name = "Test token"
keywords = ["tok_"]
regex = '''(?P<secret>tok_[a-z0-9]{24})'''
prefix = "tok_"
confidence = "high"
"#;

/// What the scans are handed for each blob: a matcher over the test rule.
pub fn matcher() -> impl Fn(&Blob<'_>) -> Vec<Finding> + Sync {
    let rules = RuleSetBuilder::new()
        .add_toml("test.toml", RULES)
        .unwrap()
        .build()
        .unwrap();
    let matcher = Matcher::new(rules, MatcherOptions::default());
    move |blob| matcher.scan(blob)
}

/// A fresh random token the test rule matches (`tok_` + 24 of [a-z0-9]).
pub fn token() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let state = RandomState::new();
    let mut out = String::from("tok_");
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut i = 0u64;
    while out.len() < 28 {
        let mut h = state.build_hasher();
        h.write_u64(SEQ.fetch_add(1, Ordering::Relaxed));
        h.write_u64(i);
        let mut x = h.finish();
        for _ in 0..8 {
            if out.len() == 28 {
                break;
            }
            out.push(alphabet[(x % 36) as usize] as char);
            x /= 36;
        }
        i += 1;
    }
    out
}

pub struct Repo {
    // Kept for its Drop; the repository lives in `root/repo`.
    _tmp: TempDir,
    pub dir: PathBuf,
    home: PathBuf,
    clock: std::cell::Cell<i64>,
}

impl Repo {
    /// `git init -b main` in a new temp dir.
    pub fn init() -> Repo {
        let repo = Repo::empty_dir();
        repo.git(&["init", "-q", "-b", "main", "."]);
        repo
    }

    /// A temp dir for the repository, without running `git init` (for clones).
    pub fn empty_dir() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("repo");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        Repo {
            _tmp: tmp,
            dir,
            home,
            clock: std::cell::Cell::new(EPOCH),
        }
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn command(&self, args: &[&str]) -> Command {
        let date = format!("{} +0000", self.clock.get());
        let mut cmd = Command::new("git");
        cmd.current_dir(&self.dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", AUTHOR)
            .env("GIT_AUTHOR_EMAIL", EMAIL)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_NAME", AUTHOR)
            .env("GIT_COMMITTER_EMAIL", EMAIL)
            .env("GIT_COMMITTER_DATE", &date)
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "tag.gpgsign=false",
                "-c",
                "protocol.file.allow=always",
                "-c",
                "gc.auto=0",
                "-c",
                "maintenance.auto=false",
            ])
            .args(args);
        cmd
    }

    /// Run git and return its trimmed stdout; panics with stderr on failure.
    pub fn git(&self, args: &[&str]) -> String {
        let out = self.command(args).output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Run git and ignore how it ends (to spring traps a test has set).
    pub fn git_unchecked(&self, args: &[&str]) {
        let _ = self.command(args).output().unwrap();
    }

    /// Run git with `input` on stdin.
    pub fn git_stdin(&self, args: &[&str], input: &[u8]) -> String {
        use std::io::Write;
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(input).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    pub fn write(&self, path: &str, content: impl AsRef<[u8]>) {
        let p = self.dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }

    /// Stage everything and commit; returns the commit id.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.commit_staged(message)
    }

    pub fn commit_staged(&self, message: &str) -> String {
        self.git(&["commit", "-q", "--no-verify", "-m", message]);
        self.tick();
        self.git(&["rev-parse", "HEAD"])
    }

    /// Advance the commit clock by a minute.
    pub fn tick(&self) {
        self.clock.set(self.clock.get() + 60);
    }

    pub fn now(&self) -> i64 {
        self.clock.get()
    }

    pub fn rev(&self, spec: &str) -> String {
        self.git(&["rev-parse", spec])
    }
}

/// The findings whose secret is `secret`.
pub fn with_secret<'a>(findings: &'a [Finding], secret: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.secret.expose() == secret.as_bytes())
        .collect()
}

/// The repo-relative path of a finding.
pub fn path_of(f: &Finding) -> String {
    f.path.display_path().into_owned()
}
