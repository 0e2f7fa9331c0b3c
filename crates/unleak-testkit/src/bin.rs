//! Running the real `unleak` binary: where it is, and the [`Run`] it leaves (exit code,
//! stdout, stderr). It does not decide arguments or environment beyond what every run
//! needs (no colour, no GitHub step summary); tests add their own.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The outcome of one run of a program.
#[derive(Debug)]
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

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            // A signal has no code: -1 keeps every "expected exit code" assertion failing.
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// [`Run::from`] for an `output()` result, panicking with the program's error.
pub fn output_run(out: std::io::Result<Output>) -> Run {
    Run::from(out.expect("the program starts"))
}

/// This checkout (the workspace root), from the testkit's own place in it.
pub fn repo_root() -> PathBuf {
    let me = Path::new(env!("CARGO_MANIFEST_DIR"));
    me.parent()
        .and_then(Path::parent)
        .expect("the testkit lives at crates/unleak-testkit")
        .to_path_buf()
}

/// The `unleak` binary Cargo built for the integration tests.
///
/// Cargo gives a test `CARGO_BIN_EXE_unleak` at compile time only, and a library cannot
/// read the test's: the binary sits in the profile directory, one level above the test
/// executable in `deps/` (the same lookup as assert_cmd's `cargo_bin`). The root test
/// binary checks that both agree.
pub fn exe() -> PathBuf {
    let test = std::env::current_exe().expect("the test executable has a path");
    let mut dir = test
        .parent()
        .expect("the test executable is in a directory");
    if dir.ends_with("deps") {
        dir = dir.parent().expect("deps/ is inside the profile directory");
    }
    let bin = dir.join(format!("unleak{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} is not built: only the root package's tests (`cargo test -p unleak`) build it",
        bin.display()
    );
    bin
}

/// `cmd` run to completion, with `stdin` written from a thread (so a child that prints
/// before it reads cannot deadlock on a full pipe) or closed.
pub fn run_command(mut cmd: Command, stdin: Option<&[u8]>) -> Run {
    let out = match stdin {
        None => cmd.stdin(Stdio::null()).output().unwrap(),
        Some(input) => {
            let mut child = cmd
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let mut sin = child.stdin.take().unwrap();
            let data = input.to_vec();
            let writer = std::thread::spawn(move || {
                // The child may exit before reading everything; that is its answer.
                let _ = sin.write_all(&data);
            });
            let out = child.wait_with_output().unwrap();
            writer.join().unwrap();
            out
        }
    };
    Run::from(out)
}

/// `s` parsed as JSON, panicking with the text when it is not.
pub fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("not JSON ({e}):\n{s}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repo_root_holds_the_workspace_manifest() {
        let text = std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap();
        assert!(text.contains("[workspace]"), "{text}");
    }

    #[cfg(unix)]
    #[test]
    fn stdin_reaches_the_child_and_a_signal_is_no_exit_code() {
        let mut cat = Command::new("cat");
        cat.arg("-");
        let r = run_command(cat, Some(b"hello"));
        assert_eq!((r.code, r.stdout.as_str()), (0, "hello"));
        let mut sh = Command::new("sh");
        sh.args(["-c", "kill -9 $$"]);
        assert_eq!(run_command(sh, None).code, -1);
    }
}
