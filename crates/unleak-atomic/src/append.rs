//! Appending a whole piece to a file that others append to too (`$GITHUB_STEP_SUMMARY`).
//!
//! Owns: opening without following a symbolic link and adding the bytes in one `write`, so
//! the file gains all of them or, when that fails, none. Does not own: replacing a file
//! (the crate root).

use crate::WriteError;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

/// Append `bytes` to `path` (created if missing) in one write; never through a symbolic
/// link. A short or failed write is cut back off, so no half summary stays.
pub fn append_whole(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let io_err = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let symlink = || WriteError::Symlink {
        path: path.to_path_buf(),
    };
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(symlink());
    }
    let mut options = fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The check above, without its race: a link swapped in now fails to open.
        options.custom_flags(libc::O_NOFOLLOW);
    }
    let mut file = options.open(path).map_err(|e| {
        #[cfg(unix)]
        if e.raw_os_error() == Some(libc::ELOOP) {
            return symlink();
        }
        io_err(e)
    })?;
    let meta = file.metadata().map_err(io_err)?;
    let before = meta.len();
    let written = file.write(bytes);
    match written {
        Ok(n) if n == bytes.len() => Ok(()),
        other => {
            if meta.is_file() {
                let _ = file.set_len(before);
            }
            Err(io_err(match other {
                Err(e) => e,
                Ok(n) => io::Error::new(
                    io::ErrorKind::WriteZero,
                    format!("only {n} of {} bytes could be appended", bytes.len()),
                ),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_and_creates() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("summary.md");
        append_whole(&p, b"one\n").unwrap();
        append_whole(&p, b"two\n").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "one\ntwo\n");
    }

    #[cfg(unix)]
    #[test]
    fn refuses_a_symbolic_link_even_to_an_existing_file() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.md");
        fs::write(&real, "keep\n").unwrap();
        let link = d.path().join("link.md");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(matches!(
            append_whole(&link, b"x"),
            Err(WriteError::Symlink { .. })
        ));
        let dangling = d.path().join("dangling.md");
        std::os::unix::fs::symlink(d.path().join("nowhere.md"), &dangling).unwrap();
        assert!(append_whole(&dangling, b"x").is_err());
        assert!(!d.path().join("nowhere.md").exists());
        assert_eq!(fs::read_to_string(&real).unwrap(), "keep\n");
    }
}
