//! Reading the files unleak takes its settings from: `.unleak.toml`, rule files and
//! baselines.
//!
//! Owns: refusing what is not a regular file (FIFOs, devices, sockets, directories, and the
//! files of `/proc` and `/sys`, which claim to be regular but are made up as they are read)
//! without ever blocking on it, capping how much is read, and confining a path named by a
//! repository's own configuration to a directory after symbolic links are resolved.
//!
//! Does not own: parsing, error messages that name the file (callers wrap these errors
//! with the file and the setting that named it), or scanned input (unleak-sources reads
//! that, in bounded chunks). Errors are [`std::io::Error`]s whose message says what was
//! refused and never quotes the file's content; a missing file stays
//! [`std::io::ErrorKind::NotFound`] so callers can treat it as absent.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Read the whole of `path` if it is a regular file of at most `cap` bytes.
///
/// The file is opened without blocking and checked after opening (so a FIFO, `/dev/stdin`
/// or a device is refused however it is reached, even if it replaced a regular file after
/// a check by name), then read through a limit of `cap + 1` bytes, so a file that grows
/// past the cap, or one whose size the file system does not report, is refused too.
pub fn read(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    let real = resolve(path)?;
    refuse_pseudo_file_system(&real)?;
    let file = open_nonblocking(&real)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("it is {}, not a regular file", kind_of(&meta)),
        ));
    }
    let mut bytes = Vec::with_capacity(meta.len().min(cap) as usize);
    file.take(cap.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("it is larger than the limit of {}", human(cap)),
        ));
    }
    Ok(bytes)
}

/// `path` with every symbolic link resolved, if that lies inside `root` (also resolved).
/// For paths a repository names itself, so a committed link or `..` cannot reach a file of
/// the machine that scans it.
pub fn confine(path: &Path, root: &Path) -> io::Result<PathBuf> {
    let real_root = fs::canonicalize(root)?;
    let real = resolve(path)?;
    if !real.starts_with(&real_root) {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "it resolves to a place outside {}, and a repository's settings may only name files inside it",
                root.display()
            ),
        ));
    }
    Ok(real)
}

/// [`read`] of `path` after [`confine`] to `root`.
pub fn read_within(path: &Path, root: &Path, cap: u64) -> io::Result<Vec<u8>> {
    read(&confine(path, root)?, cap)
}

/// `path` with every link resolved. A link that leads nowhere is an error, not an absent
/// file: `/dev/stdin` on a pipe resolves to `pipe:[N]`, which is no path, and a settings
/// file that is there but cannot be followed must not pass as no settings.
fn resolve(path: &Path) -> io::Result<PathBuf> {
    match fs::canonicalize(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && fs::symlink_metadata(path).is_ok() => {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "it is a symbolic link that leads to no file, not a regular file",
            ))
        }
        other => other,
    }
}

/// `/proc` and `/sys` files report size 0 and a regular type, and `/proc/self/environ`
/// holds the job's tokens: settings are never read from there.
fn refuse_pseudo_file_system(real: &Path) -> io::Result<()> {
    for pseudo in ["/proc", "/sys"] {
        if cfg!(target_os = "linux") && real.starts_with(pseudo) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("it is under {pseudo}, which holds no settings files"),
            ));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    // O_NONBLOCK: opening a FIFO for reading returns at once instead of waiting for a
    // writer; O_NOCTTY: a terminal device never becomes the controlling terminal. Neither
    // changes how a regular file reads.
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).open(path)
}

#[cfg(unix)]
fn kind_of(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn kind_of(meta: &fs::Metadata) -> &'static str {
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// `cap` in the largest binary unit that divides it (`1 MiB`), else in bytes.
fn human(cap: u64) -> String {
    for (unit, size) in [("GiB", 1u64 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
        if cap >= size && cap.is_multiple_of(size) {
            return format!("{} {unit}", cap / size);
        }
    }
    format!("{cap} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: io::Error) -> String {
        e.to_string()
    }

    #[test]
    fn regular_files_up_to_the_cap_are_read_and_larger_ones_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.toml");
        fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read(&f, 10).unwrap(), b"0123456789");
        let e = read(&f, 9).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert_eq!(message(e), "it is larger than the limit of 9 bytes");
        assert!(message(read(&f, 0).unwrap_err()).contains("0 bytes"));
        assert_eq!(human(4 << 20), "4 MiB");
    }

    #[test]
    fn a_missing_file_stays_not_found() {
        let d = tempfile::tempdir().unwrap();
        let e = read(&d.path().join("none"), 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }

    #[cfg(unix)]
    #[test]
    fn a_link_to_nothing_is_refused_not_absent() {
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("a.toml");
        std::os::unix::fs::symlink("gone", &link).unwrap();
        let e = read(&link, 10).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(message(e).contains("leads to no file"));
        assert!(confine(&link, d.path()).is_err());
    }

    #[test]
    fn directories_are_refused() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            message(read(d.path(), 10).unwrap_err()),
            "it is a directory, not a regular file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("pipe");
        let name = std::ffi::CString::new(fifo.as_os_str().as_bytes()).unwrap();
        // SAFETY: mkfifo only reads the NUL-terminated path it is given.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        // No writer ever opens it: a blocking open would never return.
        assert!(message(read(&fifo, 10).unwrap_err()).contains("a FIFO"));
        let link = d.path().join("zero.toml");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(message(read(&link, 10).unwrap_err()).contains("a character device"));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn proc_and_sys_files_are_refused_even_through_a_link() {
        let d = tempfile::tempdir().unwrap();
        let link = d.path().join("environ");
        std::os::unix::fs::symlink("/proc/self/environ", &link).unwrap();
        for p in [Path::new("/proc/self/environ"), &link] {
            let e = message(read(p, 1 << 20).unwrap_err());
            assert_eq!(e, "it is under /proc, which holds no settings files");
        }
    }

    #[cfg(unix)]
    #[test]
    fn confinement_follows_links_and_dots_before_it_decides() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("repo");
        fs::create_dir_all(root.join("ci")).unwrap();
        fs::write(root.join("ci/r.toml"), "x").unwrap();
        fs::write(d.path().join("victim.env"), "x").unwrap();
        std::os::unix::fs::symlink("../victim.env", root.join("out.toml")).unwrap();
        std::os::unix::fs::symlink("ci/r.toml", root.join("in.toml")).unwrap();

        assert_eq!(read_within(&root.join("in.toml"), &root, 10).unwrap(), b"x");
        assert_eq!(
            read_within(&root.join("ci/../ci/r.toml"), &root, 10).unwrap(),
            b"x"
        );
        for outside in [
            root.join("out.toml"),
            root.join("../victim.env"),
            d.path().join("victim.env"),
        ] {
            let e = read_within(&outside, &root, 10).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{outside:?}");
            assert!(message(e).contains("outside"));
        }
        // A sibling whose name extends the root's is outside it too.
        fs::create_dir(d.path().join("repo2")).unwrap();
        fs::write(d.path().join("repo2/x"), "x").unwrap();
        assert!(read_within(&d.path().join("repo2/x"), &root, 10).is_err());
    }
}
