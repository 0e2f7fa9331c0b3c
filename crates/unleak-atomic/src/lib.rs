//! Writing a file so that readers see either the old bytes or the new ones, never a mix.
//!
//! Owns: the temp-file-in-the-same-directory, fsync, rename dance; keeping the replaced
//! file's permissions (and, on Unix, its owner where we may); refusing to write through a
//! symbolic link, the file itself or (with [`write_atomic_under`]) any directory between a
//! root and the file; keeping relative paths inside their root ([`confine`]); removing the
//! temporary file when a signal ends the process (`cleanup`). Does not own: what is
//! written, or which root the caller trusts. Reports, baselines, rewritten sources and
//! migrate artifacts all go through [`write_atomic`] or [`write_atomic_under`]; job
//! summaries, which are appended to, go through [`append_whole`].
//!
//! The checks are made on the path as it is when the write starts: they stop links that
//! are in the tree (a committed `.unleak -> ../elsewhere`), not a local process racing to
//! swap a directory for a link in between.

mod append;
mod cleanup;

pub use append::append_whole;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Why a file was not written. Nothing was changed then.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file to write is a symbolic link.
    #[error("refusing to write {path}: it is a symbolic link")]
    Symlink {
        /// The file.
        path: PathBuf,
    },
    /// A directory on the way to the file is a symbolic link.
    #[error("refusing to write {path}: {what} is a symbolic link")]
    SymlinkedDir {
        /// The file.
        path: PathBuf,
        /// The directory that is a link.
        what: PathBuf,
    },
    /// Something on the way to the file is not a directory.
    #[error("refusing to use {path}: {what} is not a directory")]
    NotADirectory {
        /// The file.
        path: PathBuf,
        /// What is not a directory.
        what: PathBuf,
    },
    /// The path is not one writes may use: it leaves their root, or names no file.
    #[error("refusing {path}: {why}")]
    Outside {
        /// The path.
        path: PathBuf,
        /// Why it is refused.
        why: &'static str,
    },
    /// The operating system refused a step of the write.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: io::Error,
    },
}

/// `rel` with `.` dropped and `..` resolved lexically, refused when it is absolute or
/// climbs above its root. The result has only normal components (it is empty for `.`).
pub fn confine(rel: &Path) -> Result<PathBuf, WriteError> {
    use std::path::Component;
    let outside = |why| WriteError::Outside {
        path: rel.to_path_buf(),
        why,
    };
    let mut out = PathBuf::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return Err(outside("it leads outside the root"));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(outside("it is an absolute path, outside the root"))
            }
        }
    }
    Ok(out)
}

/// The directory `root/rel`, reached without following a symbolic link below `root`:
/// each component must be a real directory. Missing ones are created when `create` is
/// set; otherwise a missing component gives `Ok(None)`. `root` itself is the caller's
/// choice and is not checked.
pub fn dir_under(root: &Path, rel: &Path, create: bool) -> Result<Option<PathBuf>, WriteError> {
    let rel = confine(rel)?;
    let mut dir = root.to_path_buf();
    let mut walked = PathBuf::new();
    for c in rel.components() {
        dir.push(c);
        walked.push(c);
        let refused = |m: &fs::Metadata| {
            if m.file_type().is_symlink() {
                Some(WriteError::SymlinkedDir {
                    path: root.join(&rel),
                    what: walked.clone(),
                })
            } else if !m.is_dir() {
                Some(WriteError::NotADirectory {
                    path: root.join(&rel),
                    what: walked.clone(),
                })
            } else {
                None
            }
        };
        let io_err = |source| WriteError::Io {
            path: dir.clone(),
            source,
        };
        match fs::symlink_metadata(&dir) {
            Ok(m) => {
                if let Some(e) = refused(&m) {
                    return Err(e);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if !create {
                    return Ok(None);
                }
                match fs::create_dir(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(io_err(e)),
                }
                // Whatever is there now (ours, or what won a race) must be a directory.
                let m = fs::symlink_metadata(&dir).map_err(io_err)?;
                if let Some(e) = refused(&m) {
                    return Err(e);
                }
            }
            Err(e) => return Err(io_err(e)),
        }
    }
    Ok(Some(dir))
}

/// Like [`write_atomic`] for `root/rel`, where `rel` must stay inside `root` ([`confine`])
/// and no directory between them may be a symbolic link; missing directories are
/// created. Returns the path written.
pub fn write_atomic_under(root: &Path, rel: &Path, contents: &[u8]) -> Result<PathBuf, WriteError> {
    let rel = confine(rel)?;
    let Some(name) = rel.file_name() else {
        return Err(WriteError::Outside {
            path: rel,
            why: "it names no file",
        });
    };
    let parent = rel.parent().unwrap_or(Path::new(""));
    let dir = dir_under(root, parent, true)?.expect("created");
    let path = dir.join(name);
    write_atomic(&path, contents)?;
    Ok(path)
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
    let prefix = format!(".{name}.");
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(".unleak-tmp");
    if existing.is_none() {
        new_file_permissions(&mut builder);
    }
    let mut tmp = builder.tempfile_in(&dir).map_err(io_err)?;
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

/// New files get 0666 less the umask (0644 under the usual 022), not tempfile's private 0600:
/// the temporary file is created with mode 0666 and the kernel takes the umask off as it
/// creates it, so the umask is never read (reading it means setting it, which races other
/// threads that create files meanwhile).
///
/// Windows has no mode bits: a new file gets the access rules its directory passes on, as
/// any file a program creates there does, so nothing is asked of tempfile.
fn new_file_permissions(builder: &mut tempfile::Builder<'_, '_>) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    #[cfg(not(unix))]
    let _ = builder;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confine_resolves_dots_and_refuses_escapes() {
        assert_eq!(confine(Path::new("./a/b/../c")).unwrap(), Path::new("a/c"));
        assert_eq!(confine(Path::new(".")).unwrap(), Path::new(""));
        for bad in ["../x", "a/../../x", "/etc/passwd"] {
            let e = confine(Path::new(bad)).unwrap_err();
            assert!(matches!(e, WriteError::Outside { .. }), "{bad}");
            assert!(e.to_string().contains(bad), "{e}");
        }
    }

    #[test]
    fn writes_under_a_root_creating_directories() {
        let d = tempfile::tempdir().unwrap();
        let p = write_atomic_under(d.path(), Path::new("a/b/c.txt"), b"x").unwrap();
        assert_eq!(p, d.path().join("a/b/c.txt"));
        assert_eq!(fs::read(&p).unwrap(), b"x");
        assert!(dir_under(d.path(), Path::new("a/none"), false)
            .unwrap()
            .is_none());
        fs::write(d.path().join("file"), "").unwrap();
        assert!(matches!(
            write_atomic_under(d.path(), Path::new("file/x"), b"x"),
            Err(WriteError::NotADirectory { .. })
        ));
        assert!(matches!(
            write_atomic_under(d.path(), Path::new("../x"), b"x"),
            Err(WriteError::Outside { .. })
        ));
    }

    #[cfg(unix)]
    #[test]
    fn refuses_every_symlinked_directory_below_the_root() {
        let d = tempfile::tempdir().unwrap();
        let victim = d.path().join("victim");
        fs::create_dir(&victim).unwrap();
        let root = d.path().join("root");
        for (link, rel) in [("l1", "l1/x/f"), ("a/l2", "a/l2/f"), ("a/b/l3", "a/b/l3/f")] {
            let lp = root.join(link);
            fs::create_dir_all(lp.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(&victim, &lp).unwrap();
            let e = write_atomic_under(&root, Path::new(rel), b"x").unwrap_err();
            assert!(
                matches!(&e, WriteError::SymlinkedDir { what, .. } if what == Path::new(link)),
                "{e}"
            );
            assert!(e.to_string().contains(link), "{e}");
            assert!(matches!(
                dir_under(&root, Path::new(link), false),
                Err(WriteError::SymlinkedDir { .. })
            ));
        }
        assert_eq!(fs::read_dir(&victim).unwrap().count(), 0);
    }

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

    /// The umask is process-wide, so each write runs in a child (this test binary again,
    /// told what to write by the environment) whose umask the shell sets.
    #[cfg(unix)]
    #[test]
    fn new_files_take_the_umask_of_the_process() {
        use std::os::unix::fs::PermissionsExt;
        if let Some(target) = std::env::var_os("UNLEAK_ATOMIC_UMASK_CHILD") {
            write_atomic(Path::new(&target), b"x").unwrap();
            return;
        }
        let d = tempfile::tempdir().unwrap();
        let me = std::env::current_exe().unwrap();
        for (mask, mode) in [("077", 0o600), ("027", 0o640), ("002", 0o664)] {
            let target = d.path().join(mask);
            let status = std::process::Command::new("sh")
                .arg("-c")
                .arg(r#"umask "$1" && exec "$2" --exact "$3" --test-threads=1 -q"#)
                .args(["sh", mask])
                .arg(&me)
                .arg("tests::new_files_take_the_umask_of_the_process")
                .env("UNLEAK_ATOMIC_UMASK_CHILD", &target)
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success(), "umask {mask}");
            let got = fs::metadata(&target).unwrap().permissions().mode() & 0o777;
            assert_eq!(got, mode, "umask {mask}: {got:o}");
        }
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
