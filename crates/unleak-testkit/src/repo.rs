//! Git repositories built with the git CLI in a temp dir, the same on every run: a fixed
//! author, a clock that advances a minute per git command, and no user or system git
//! configuration. It also runs `unleak` inside the repository with the same clean
//! environment. It does not know what a test puts in the repository.

use crate::bin::{exe, Run};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

pub struct Repo {
    _tmp: TempDir,
    /// The repository (its work tree, or the git directory of a bare one).
    pub dir: PathBuf,
    /// `HOME` for every command: an empty directory, so no user configuration applies.
    pub home: PathBuf,
    /// A directory beside the repository for a test's own files.
    pub scratch: PathBuf,
    clock: std::cell::Cell<i64>,
}

impl Repo {
    /// `git init -b main` in a new temp dir.
    pub fn init() -> Repo {
        Repo::init_with(&["init", "-q", "-b", "main", "."])
    }

    /// `git init --bare -b main` in a new temp dir.
    pub fn init_bare() -> Repo {
        Repo::init_with(&["init", "-q", "--bare", "-b", "main", "."])
    }

    fn init_with(args: &[&str]) -> Repo {
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
        repo.git(args);
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
        self.git_at(&self.dir, args)
    }

    /// [`Repo::git`] in another directory (a clone beside the repository), with the same
    /// environment and clock.
    pub fn git_at(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = self.git_cmd(args);
        cmd.current_dir(dir);
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        self.tick();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// [`Repo::git`] with `input` on stdin (`fast-import`, `hash-object --stdin`).
    pub fn git_input(&self, args: &[&str], input: &[u8]) -> String {
        let mut child = self
            .git_cmd(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(input).unwrap();
        drop(stdin);
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
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
        let mut cmd = Command::new(exe());
        self.env(&mut cmd);
        cmd.env("NO_COLOR", "1").current_dir(&self.dir).args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run::from(cmd.output().unwrap())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_are_the_same_on_every_run() {
        let ids: Vec<String> = (0..2)
            .map(|_| {
                let repo = Repo::init();
                repo.write("a.txt", "a\n");
                repo.commit("one")
            })
            .collect();
        assert_eq!(ids[0], ids[1]);
        assert_eq!(ids[0].len(), 40, "{}", ids[0]);
    }

    #[test]
    fn a_bare_repository_takes_fast_import() {
        let repo = Repo::init_bare();
        let stream =
            b"commit refs/heads/main\ncommitter T <t@example.com> 1700000000 +0000\ndata 1\nx\n";
        repo.git_input(&["fast-import", "--quiet"], stream);
        assert_eq!(repo.git(&["rev-parse", "--is-bare-repository"]), "true");
        assert_eq!(repo.git(&["log", "--format=%s", "main"]), "x");
    }
}
