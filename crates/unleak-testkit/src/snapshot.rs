//! Snapshot assertions: a test's text output compared with a committed file under
//! `tests/snapshots/`, rewritten instead when `UNLEAK_BLESS=1` is set. A snapshot may not
//! hold an absolute path of this checkout or the temp dir, so it stays the same on every
//! machine; what a test puts in it (redacted output only) is the test's business.

use std::path::{Path, PathBuf};

/// The variable that turns comparisons into rewrites.
pub const BLESS: &str = "UNLEAK_BLESS";

/// Where the snapshot `name` (`help/scan`, a path without extension) lives.
pub fn snapshot_path(name: &str) -> PathBuf {
    crate::repo_root()
        .join("tests/snapshots")
        .join(format!("{name}.txt"))
}

/// Assert that `actual` equals the committed snapshot `name`, or write it under
/// `UNLEAK_BLESS=1`.
pub fn assert_snapshot(name: &str, actual: &str) {
    check(&snapshot_path(name), actual, blessing());
}

fn blessing() -> bool {
    std::env::var_os(BLESS).is_some_and(|v| v == "1")
}

fn check(path: &Path, actual: &str, bless: bool) {
    for (what, dir) in [
        ("the checkout", crate::repo_root()),
        ("the temp dir", std::env::temp_dir()),
    ] {
        let dir = dir.to_string_lossy();
        let dir = dir.trim_end_matches('/');
        assert!(
            dir.len() <= 1 || !actual.contains(dir),
            "{}: the output holds an absolute path of {what} ({dir}); make it relative:\n{actual}",
            path.display()
        );
    }
    if bless {
        std::fs::create_dir_all(path.parent().expect("a snapshot has a directory")).unwrap();
        std::fs::write(path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return;
    }
    let expected = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => panic!(
            "{}: {e}; write it with {BLESS}=1 and review it. The output:\n{actual}",
            path.display()
        ),
    };
    if expected != actual {
        panic!(
            "{} differs from the output (rewrite it with {BLESS}=1 if the change is meant):\n{}",
            path.display(),
            diff(&expected, actual)
        );
    }
}

/// The differing lines, numbered, `-` from the snapshot and `+` from the output.
fn diff(expected: &str, actual: &str) -> String {
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let mut out = String::new();
    for i in 0..e.len().max(a.len()) {
        let (x, y) = (e.get(i), a.get(i));
        if x != y {
            if let Some(x) = x {
                out.push_str(&format!("{:>4} - {x}\n", i + 1));
            }
            if let Some(y) = y {
                out.push_str(&format!("{:>4} + {y}\n", i + 1));
            }
        }
    }
    if out.is_empty() {
        out.push_str("(only line endings or the final newline differ)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_written_when_blessing_and_compared_otherwise() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("s/one.txt");
        let missing = std::panic::catch_unwind(|| check(&path, "a\n", false));
        assert!(missing.is_err());
        check(&path, "a\nb\n", true);
        check(&path, "a\nb\n", false);
        let changed = std::panic::catch_unwind(|| check(&path, "a\nc\n", false));
        let message = *changed.unwrap_err().downcast::<String>().unwrap();
        assert!(message.contains("   2 - b\n   2 + c"), "{message}");
        assert!(std::panic::catch_unwind(|| check(&path, "a\nb", false)).is_err());
    }

    #[test]
    fn absolute_paths_are_refused() {
        let here = format!("see {}/Cargo.toml\n", crate::repo_root().display());
        let p = std::env::temp_dir().join("never-written.txt");
        assert!(std::panic::catch_unwind(|| check(&p, &here, true)).is_err());
        assert!(!p.exists());
    }
}
