//! Writing a file so that readers see either the old bytes or the new ones, never a mix.
//!
//! Owns: the temp-file-in-the-same-directory, fsync, rename dance; keeping the replaced
//! file's permissions (and, on Unix, its owner where we may); refusing to write through a
//! symbolic link; removing the temporary file when a signal ends the process (`cleanup`).
//! Does not own: what is written. Reports, baselines, rewritten sources and migrate
//! artifacts all go through [`write_atomic`]; job summaries, which are appended to, go
//! through [`append_whole`].

mod append;
mod cleanup;

pub use append::append_whole;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("refusing to write {path}: it is a symbolic link")]
    Symlink { path: PathBuf },
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
}

/// Replace (or create) `path` with `contents` atomically.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    write_atomic_with(path, |w| w.write_all(contents))
}

/// Like [`write_atomic`], with the content produced by a writer callback (so large
/// reports are not built in memory twice). If the callback fails, the target is untouched.
pub fn write_atomic_with(
    path: &Path,
    produce: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<()>,
) -> Result<(), WriteError> {
    let io_err = |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    };
    let existing = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(WriteError::Symlink {
                path: path.to_path_buf(),
            })
        }
        // A device or FIFO (`--output /dev/null`) is written in place: renaming a file
        // over it would replace the device node itself.
        Ok(m) if !m.file_type().is_file() && !m.is_dir() => {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .map_err(io_err)?;
            let mut w = io::BufWriter::new(&mut f);
            produce(&mut w).map_err(io_err)?;
            return w.flush().map_err(io_err);
        }
        Ok(m) => Some(m),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(e)),
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".unleak-tmp")
        .tempfile_in(&dir)
        .map_err(io_err)?;
    // Dropped after the rename: an interrupted write leaves no temporary file.
    let _registered = cleanup::register(tmp.path());
    {
        let mut w = io::BufWriter::new(tmp.as_file_mut());
        produce(&mut w).map_err(io_err)?;
        w.flush().map_err(io_err)?;
    }
    if let Some(meta) = &existing {
        fs::set_permissions(tmp.path(), meta.permissions()).map_err(io_err)?;
        keep_owner(tmp.path(), meta);
    } else {
        set_default_mode(tmp.path()).map_err(io_err)?;
    }
    tmp.as_file().sync_all().map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    // Make the rename itself durable.
    if let Ok(d) = fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(unix)]
fn keep_owner(tmp: &Path, meta: &fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    // Only root may give a file away; for anyone else the owner is already theirs.
    let _ = std::os::unix::fs::chown(tmp, Some(meta.uid()), Some(meta.gid()));
}

#[cfg(not(unix))]
fn keep_owner(_: &Path, _: &fs::Metadata) {}

/// New files get the usual 0644 less the umask, not tempfile's private 0600.
#[cfg(unix)]
fn set_default_mode(tmp: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: umask is process-global but reading it requires setting it; set it back at once.
    let mask = unsafe {
        let m = libc_umask(0o022);
        libc_umask(m);
        m
    };
    fs::set_permissions(tmp, fs::Permissions::from_mode(0o666 & !mask))
}

#[cfg(unix)]
extern "C" {
    #[link_name = "umask"]
    fn libc_umask(mask: u32) -> u32;
}

#[cfg(not(unix))]
fn set_default_mode(_: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_keeps_permissions() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.json");
        fs::write(&p, "old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&p, fs::Permissions::from_mode(0o640)).unwrap();
        }
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o640
            );
        }
        let leftovers: Vec<_> = fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temp file left behind");
    }

    #[test]
    fn a_failing_producer_leaves_the_old_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        fs::write(&p, "old").unwrap();
        let r = write_atomic_with(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("interrupted"))
        });
        assert!(r.is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_written_in_place_not_replaced() {
        use std::os::unix::fs::FileTypeExt;
        write_atomic(Path::new("/dev/null"), b"discarded").unwrap();
        assert!(fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device());
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_and_new_files_are_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        let outside = d.path().join("outside");
        fs::write(&outside, "keep").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        assert!(matches!(
            write_atomic(&link, b"x"),
            Err(WriteError::Symlink { .. })
        ));
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
        let fresh = d.path().join("fresh");
        write_atomic(&fresh, b"x").unwrap();
        assert_ne!(
            fs::metadata(&fresh).unwrap().permissions().mode() & 0o044,
            0
        );
    }
}
