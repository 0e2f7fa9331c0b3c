//! The parallel filesystem walk.
//!
//! By default every file is read, git-ignored ones included (a Docker build context does
//! not honour `.gitignore`, and neither does an attacker), except `.git/` internals.
//! Symlinks are not followed unless asked; with following on, the `ignore` crate detects
//! loops, which are reported, never walked forever. Only regular files are opened.
//! Archives and compressed files are recognised by their magic numbers and expanded
//! through `unleak-archive` (see [`crate::archive`]); UTF-16 text is decoded.

use crate::archive::{archive_limits, expand_into};
use crate::chunk::scan_text;
use crate::item::{Item, SkipReason};
use ignore::overrides::OverrideBuilder;
use ignore::{WalkBuilder, WalkState};
use std::fs::{self, File};
use std::io::{self, Read, Seek};
use std::path::{Path, PathBuf};
use unleak_archive::{is_tar, Format, Inflate, HEAD, MAX_RATIO};
use unleak_core::text_of;
use unleak_core::{Blob, MemoryBudget, Origin, WorkerPlan};

/// What a walk reads and how.
#[derive(Clone, Debug)]
pub struct WalkOptions {
    /// Files bigger than this many bytes are skipped ([`SkipReason::TooLarge`]).
    pub max_file_size: u64,
    /// Leave out what `.gitignore`, `.git/info/exclude`, the global excludes file and
    /// `.ignore` files exclude (off by default: see the module documentation).
    pub respect_gitignore: bool,
    /// Globs (gitignore syntax, from the common base of the roots): when any is given, only
    /// files they match are read.
    pub include: Vec<String>,
    /// Globs (gitignore syntax) of files not to read.
    pub exclude: Vec<String>,
    /// Follow symbolic links (loops are reported, not walked).
    pub follow_symlinks: bool,
    /// Walker threads; 0 lets the `ignore` crate choose.
    pub threads: usize,
    /// Read `.gz` files through a decompressor and scan their content.
    pub decompress: bool,
    /// Expand archives and compressed files, told by their content (zip families, tar,
    /// gzip, bzip2, xz, zstd), and scan their members (`--no-extract-archives` clears it).
    pub extract_archives: bool,
    /// Bytes one thread may hold of archive members at once, nesting levels together.
    pub archive_memory: u64,
    /// Files up to this size are read whole into each thread's reusable buffer; larger ones
    /// (and `.gz` content) in chunks.
    pub whole_file_limit: u64,
    /// Bytes of one chunk buffer, the overlap included (see [`crate::scan_stream`]).
    pub chunk_buffer: usize,
}

impl WalkOptions {
    /// Threads and read buffers as `plan` (from the memory budget) allows.
    pub fn within(mut self, plan: &WorkerPlan) -> Self {
        self.threads = plan.threads;
        self.whole_file_limit = plan.whole_file_limit;
        self.chunk_buffer = usize::try_from(plan.chunk_buffer).unwrap_or(usize::MAX);
        // While a thread expands an archive it holds no file buffer or chunk: it may use
        // what a history scan gives one worker for blobs.
        self.archive_memory = plan.blob_bytes();
        self
    }
}

impl Default for WalkOptions {
    fn default() -> Self {
        // The sizes an ample budget gives one worker.
        let plan = MemoryBudget::default().workers(1);
        WalkOptions {
            max_file_size: 100 * 1024 * 1024,
            respect_gitignore: false,
            include: Vec::new(),
            exclude: Vec::new(),
            follow_symlinks: false,
            threads: 0,
            decompress: true,
            extract_archives: true,
            archive_memory: plan.blob_bytes(),
            whole_file_limit: plan.whole_file_limit,
            chunk_buffer: usize::try_from(plan.chunk_buffer).unwrap_or(usize::MAX),
        }
    }
}

/// A bad `--include`/`--exclude` glob or a root that does not exist.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("invalid glob `{glob}` in {flag}: {message}")]
    Glob {
        flag: &'static str,
        glob: String,
        message: String,
    },
    #[error("{path}: {message}")]
    Root { path: PathBuf, message: String },
}

/// Walk `roots` in parallel and call `visit` from the walker's threads for every item.
pub fn walk<F>(roots: &[PathBuf], opts: &WalkOptions, visit: F) -> Result<(), WalkError>
where
    F: Fn(Item<'_>) + Sync,
{
    for root in roots {
        if let Err(e) = fs::symlink_metadata(root) {
            return Err(WalkError::Root {
                path: root.clone(),
                message: describe_io(&e),
            });
        }
    }
    let Some((first, rest)) = roots.split_first() else {
        return Ok(());
    };
    let mut builder = WalkBuilder::new(first);
    for r in rest {
        builder.add(r);
    }
    builder
        .standard_filters(false)
        .hidden(false)
        .git_ignore(opts.respect_gitignore)
        .git_exclude(opts.respect_gitignore)
        .git_global(opts.respect_gitignore)
        .ignore(opts.respect_gitignore)
        .require_git(false)
        .follow_links(opts.follow_symlinks)
        .threads(opts.threads)
        .filter_entry(|e| !(e.file_name() == ".git" && e.depth() > 0 && e.path().is_dir()));
    if !opts.include.is_empty() || !opts.exclude.is_empty() {
        let mut ov = OverrideBuilder::new(common_base(roots));
        for g in &opts.include {
            ov.add(g).map_err(|e| glob_err("--include", g, e))?;
        }
        for g in &opts.exclude {
            ov.add(&format!("!{g}"))
                .map_err(|e| glob_err("--exclude", g, e))?;
        }
        builder.overrides(ov.build().map_err(|e| glob_err("--include", "", e))?);
    }
    builder.build_parallel().run(|| {
        let visit = &visit;
        let mut buf = Vec::new();
        Box::new(move |entry| {
            match entry {
                Ok(entry) => visit_entry(&entry, opts, &mut buf, visit),
                Err(err) => {
                    let path = error_path(&err).unwrap_or_default();
                    visit(Item::Error {
                        path,
                        message: walk_error_message(&err),
                    });
                }
            }
            WalkState::Continue
        })
    });
    Ok(())
}

fn visit_entry(
    entry: &ignore::DirEntry,
    opts: &WalkOptions,
    buf: &mut Vec<u8>,
    visit: &(impl Fn(Item<'_>) + Sync),
) {
    let path = entry.path();
    let Some(ft) = entry.file_type() else {
        // Standard input given as a root; the CLI handles `-` itself.
        return;
    };
    if ft.is_dir() {
        return;
    }
    if ft.is_symlink() {
        visit(Item::Skipped {
            path: path.to_path_buf(),
            reason: SkipReason::Symlink,
        });
        return;
    }
    if !ft.is_file() {
        visit(Item::Skipped {
            path: path.to_path_buf(),
            reason: SkipReason::NotRegular(special_kind(&ft)),
        });
        return;
    }
    if let Err(message) = read_file(path, opts, buf, visit) {
        visit(Item::Error {
            path: path.to_path_buf(),
            message,
        });
    }
}

#[cfg(unix)]
fn special_kind(ft: &fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        "FIFO"
    } else if ft.is_socket() {
        "socket"
    } else if ft.is_block_device() || ft.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &fs::FileType) -> &'static str {
    "special file"
}

/// Read one regular file and hand it to `visit`: small files through `buf`, large ones
/// in bounded chunks, `.gz` files through a streaming decompressor.
fn read_file(
    path: &Path,
    opts: &WalkOptions,
    buf: &mut Vec<u8>,
    visit: &(impl Fn(Item<'_>) + Sync),
) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| describe_io(&e))?;
    let meta = file.metadata().map_err(|e| describe_io(&e))?;
    if !meta.is_file() {
        // Replaced by something else between the walk and the open.
        visit(Item::Skipped {
            path: path.to_path_buf(),
            reason: SkipReason::NotRegular("special file"),
        });
        return Ok(());
    }
    let size = meta.len();
    if size > opts.max_file_size {
        visit(Item::Skipped {
            path: path.to_path_buf(),
            reason: SkipReason::TooLarge {
                size,
                limit: opts.max_file_size,
            },
        });
        return Ok(());
    }
    let origin = Origin::File(path.to_path_buf());
    if opts.extract_archives && size > opts.whole_file_limit {
        // A small file is told from its buffer below, at no extra read.
        let mut head = Vec::with_capacity(HEAD);
        (&mut file)
            .take(HEAD as u64)
            .read_to_end(&mut head)
            .map_err(|e| describe_io(&e))?;
        file.rewind().map_err(|e| describe_io(&e))?;
        if let Some(format) = Format::detect(&head) {
            return read_archive(format, file, path, opts, visit);
        }
    } else if !opts.extract_archives
        && opts.decompress
        && path.extension().is_some_and(|x| x == "gz")
    {
        return read_compressed(Format::Gzip, file, path, opts, visit);
    }
    if size > opts.whole_file_limit {
        // Bounded chunks, not a memory map: memory stays flat whatever the file's size,
        // and a file truncated under us ends the read instead of raising SIGBUS.
        let limited = io::BufReader::new(file).take(opts.max_file_size);
        return read_chunked(limited, path, opts, visit)
            .map_err(|e| format!("cannot read: {}", describe_io(&e)));
    }
    buf.clear();
    // Exactly the size, so the buffer a thread keeps never grows past the whole-file limit
    // by doubling.
    buf.reserve_exact(size as usize + 1);
    // Read at most the cap even if the file grew since `metadata`; a file that grew past the
    // whole-file limit meanwhile is read again in chunks.
    let cap = opts.max_file_size.min(opts.whole_file_limit);
    (&mut file)
        .take(cap + 1)
        .read_to_end(buf)
        .map_err(|e| describe_io(&e))?;
    if buf.len() as u64 > cap && cap < opts.max_file_size {
        buf.clear();
        buf.shrink_to(opts.whole_file_limit as usize);
        let file = File::open(path).map_err(|e| describe_io(&e))?;
        let limited = io::BufReader::new(file).take(opts.max_file_size);
        return read_chunked(limited, path, opts, visit)
            .map_err(|e| format!("cannot read: {}", describe_io(&e)));
    }
    if buf.len() as u64 > opts.max_file_size {
        visit(Item::Skipped {
            path: path.to_path_buf(),
            reason: SkipReason::TooLarge {
                size: buf.len() as u64,
                limit: opts.max_file_size,
            },
        });
        return Ok(());
    }
    if opts.extract_archives {
        if let Some(format) = Format::detect(&buf[..buf.len().min(HEAD)]) {
            file.rewind().map_err(|e| describe_io(&e))?;
            // The thread's file buffer is not needed while members are held.
            *buf = Vec::new();
            return read_archive(format, file, path, opts, visit);
        }
    }
    let Some(text) = text_of(buf) else {
        visit(Item::Skipped {
            path: path.to_path_buf(),
            reason: SkipReason::Binary,
        });
        return Ok(());
    };
    visit(Item::Blob {
        blob: Blob::new(origin, &text),
        base_offset: 0,
        base_line: 1,
        base_column: 1,
        overlap: 0,
    });
    Ok(())
}

/// An archive, or a compressed tar, expanded member by member; a compressed single file
/// streamed through bounded chunks like a large file.
fn read_archive(
    format: Format,
    file: File,
    path: &Path,
    opts: &WalkOptions,
    visit: &(impl Fn(Item<'_>) + Sync),
) -> Result<(), String> {
    if format.is_compression() {
        // Whether a tar is inside shows only once its first block is decompressed.
        let mut head = Vec::with_capacity(HEAD);
        let peeked = Inflate::new(format, io::BufReader::new(&file), HEAD as u64, MAX_RATIO)
            .and_then(|mut inflate| inflate.read_to_end(&mut head));
        if peeked.is_err() || !is_tar(&head) {
            (&file).rewind().map_err(|e| describe_io(&e))?;
            return read_compressed(format, file, path, opts, visit);
        }
        (&file).rewind().map_err(|e| describe_io(&e))?;
    }
    let origin = Origin::File(path.to_path_buf());
    expand_into(format, file, &origin, &archive_limits(opts), visit);
    Ok(())
}

/// Stream a compressed file through bounded chunks. What inflates past
/// `--max-file-size`, or past [`MAX_RATIO`] times the compressed bytes read (a
/// decompression bomb), is not read: the file is listed as skipped with the reason, and
/// what came before is scanned.
fn read_compressed(
    format: Format,
    file: File,
    path: &Path,
    opts: &WalkOptions,
    visit: &(impl Fn(Item<'_>) + Sync),
) -> Result<(), String> {
    let name = match format {
        Format::Bzip2 => "bzip2",
        Format::Xz => "xz",
        Format::Zstd => "zstd",
        _ => "gzip",
    };
    let fail = |e: io::Error| format!("cannot decompress {name} data: {}", describe_io(&e));
    let mut inflated = Inflate::new(
        format,
        io::BufReader::new(file),
        opts.max_file_size,
        MAX_RATIO,
    )
    .map_err(fail)?;
    read_chunked(&mut inflated, path, opts, visit).map_err(fail)?;
    if let Some(reason) = inflated.cut() {
        visit(Item::Skipped {
            path: path.to_path_buf(),
            reason: SkipReason::Archive(reason.clone()),
        });
    }
    Ok(())
}

/// Hand `input` to `visit` in bounded, overlapping chunks, UTF-16 text decoded; a binary
/// file is skipped whole (see [`scan_text`]).
fn read_chunked(
    input: impl Read,
    path: &Path,
    opts: &WalkOptions,
    visit: &(impl Fn(Item<'_>) + Sync),
) -> io::Result<()> {
    let text = scan_text(input, opts.chunk_buffer, |chunk| {
        visit(Item::Blob {
            blob: Blob::new(Origin::File(path.to_path_buf()), chunk.data),
            base_offset: chunk.base_offset,
            base_line: chunk.base_line,
            base_column: chunk.base_column,
            overlap: chunk.overlap,
        });
    })?;
    if !text {
        visit(Item::Skipped {
            path: path.to_path_buf(),
            reason: SkipReason::Binary,
        });
    }
    Ok(())
}

fn glob_err(flag: &'static str, glob: &str, e: ignore::Error) -> WalkError {
    WalkError::Glob {
        flag,
        glob: glob.to_string(),
        message: e.to_string(),
    }
}

/// The directory include/exclude globs are relative to.
fn common_base(roots: &[PathBuf]) -> PathBuf {
    match roots {
        [one] if one.is_dir() => one.clone(),
        [one] => one.parent().map(Path::to_path_buf).unwrap_or_default(),
        _ => PathBuf::from("."),
    }
}

/// An I/O error in words, without the OS's "(os error 13)" noise.
pub(crate) fn describe_io(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::NotFound => "no such file or directory".into(),
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        _ => {
            let s = e.to_string();
            match s.find(" (os error") {
                Some(i) => s[..i].to_string(),
                None => s,
            }
        }
    }
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::Partial(errs) => errs.first().and_then(error_path),
        _ => None,
    }
}

fn walk_error_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => walk_error_message(err),
        ignore::Error::Io(e) => describe_io(e),
        ignore::Error::Loop { ancestor, .. } => format!(
            "symbolic link loop back to {}; not followed",
            ancestor.display()
        ),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    fn collect(root: &Path, opts: &WalkOptions) -> (Vec<String>, Vec<String>, Vec<String>) {
        let out = Mutex::new((Vec::new(), Vec::new(), Vec::new()));
        walk(&[root.to_path_buf()], opts, |item| {
            let mut o = out.lock().unwrap();
            let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
            match item {
                Item::Blob { blob, .. } => {
                    if let Origin::File(p) = &blob.origin {
                        o.0.push(rel(p));
                    }
                }
                Item::Skipped { path, .. } => o.1.push(rel(&path)),
                Item::Error { path, .. } => o.2.push(rel(&path)),
            }
        })
        .unwrap();
        let (mut a, mut b, mut c) = out.into_inner().unwrap();
        a.sort();
        b.sort();
        c.sort();
        (a, b, c)
    }

    #[test]
    fn reads_ignored_and_hidden_files_but_not_git_internals() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join(".git/objects")).unwrap();
        fs::write(d.path().join(".git/config"), "x").unwrap();
        fs::write(d.path().join(".gitignore"), ".env\n").unwrap();
        fs::write(d.path().join(".env"), "A=1").unwrap();
        fs::write(d.path().join("bin.dat"), b"\0\x01\x02").unwrap();
        let (read, skipped, _) = collect(d.path(), &WalkOptions::default());
        assert_eq!(read, vec![".env", ".gitignore"]);
        assert_eq!(skipped, vec!["bin.dat"]);
        let opts = WalkOptions {
            respect_gitignore: true,
            ..Default::default()
        };
        assert_eq!(collect(d.path(), &opts).0, vec![".gitignore"]);
    }

    #[test]
    fn a_big_file_arrives_in_chunks_that_place_every_byte() {
        // 12 MiB: one 10 MiB line holding a marker near its end, then short lines.
        let d = tempfile::tempdir().unwrap();
        let marker_at = 10 * 1024 * 1024 - 100;
        let mut data = vec![b'x'; 10 * 1024 * 1024];
        data[marker_at..marker_at + 6].copy_from_slice(b"MARKER");
        data.push(b'\n');
        data.extend(b"short line\n".repeat(200_000));
        fs::write(d.path().join("big.log"), &data).unwrap();
        // The default buffers, and the small ones a tight memory budget gives.
        let small = WalkOptions {
            whole_file_limit: 256 * 1024,
            chunk_buffer: 700 * 1024,
            ..Default::default()
        };
        for opts in [WalkOptions::default(), small] {
            assert_chunks_place_every_byte(d.path(), &opts, &data, marker_at);
        }
    }

    fn assert_chunks_place_every_byte(
        dir: &Path,
        opts: &WalkOptions,
        data: &[u8],
        marker_at: usize,
    ) {
        let seen = Mutex::new(Vec::new());
        walk(&[dir.to_path_buf()], opts, |item| {
            if let Item::Blob {
                blob,
                base_offset,
                base_line,
                base_column,
                overlap,
            } = item
            {
                let at = memchr::memmem::find(blob.data, b"MARKER");
                seen.lock().unwrap().push((
                    base_offset,
                    base_line,
                    base_column,
                    overlap,
                    blob.data.len(),
                    at,
                ));
            }
        })
        .unwrap();
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert!(seen.len() > 1, "a 12 MiB file comes in several chunks");
        let mut covered = 0;
        for &(offset, line, column, overlap, len, at) in &seen {
            assert!(len <= opts.chunk_buffer, "a chunk fits its buffer");
            assert_eq!(offset + overlap, covered, "no gap, no double count");
            covered = offset + len;
            if offset <= marker_at {
                assert_eq!(line, 1);
                assert_eq!(
                    column,
                    offset + 1,
                    "ASCII: the column is the offset on line 1"
                );
            }
            if let Some(at) = at {
                assert_eq!(column + at, marker_at + 1, "the marker's exact column");
            }
        }
        assert_eq!(covered, data.len());
        assert!(seen.iter().any(|s| s.5.is_some()));
    }

    #[test]
    fn size_cap_and_globs() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("big.txt"), vec![b'a'; 2048]).unwrap();
        fs::write(d.path().join("a.yaml"), "x").unwrap();
        fs::write(d.path().join("b.log"), "x").unwrap();
        let opts = WalkOptions {
            max_file_size: 1024,
            exclude: vec!["*.log".into()],
            ..Default::default()
        };
        let (read, skipped, _) = collect(d.path(), &opts);
        assert_eq!(read, vec!["a.yaml"]);
        assert_eq!(skipped, vec!["big.txt"]);
        let opts = WalkOptions {
            include: vec!["*.log".into()],
            ..Default::default()
        };
        assert_eq!(collect(d.path(), &opts).0, vec!["b.log"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_and_fifos_never_hang() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("sub")).unwrap();
        std::os::unix::fs::symlink("..", d.path().join("sub/up")).unwrap();
        let fifo = d.path().join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status();
        fs::write(d.path().join("f.txt"), "x").unwrap();
        let (read, skipped, _) = collect(d.path(), &WalkOptions::default());
        assert_eq!(read, vec!["f.txt"]);
        assert!(skipped.contains(&"sub/up".to_string()));
        if status.is_ok_and(|s| s.success()) {
            assert!(skipped.contains(&"pipe".to_string()));
        }
        let follow = WalkOptions {
            follow_symlinks: true,
            ..Default::default()
        };
        let (read, _, errors) = collect(d.path(), &follow);
        assert_eq!(read, vec!["f.txt"]);
        assert_eq!(errors.len(), 1, "the loop is reported once");
    }

    #[test]
    fn gzip_logs_are_read_transparently() {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let d = tempfile::tempdir().unwrap();
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        enc.write_all(b"line one\nline two\n").unwrap();
        fs::write(d.path().join("build.log.gz"), enc.finish().unwrap()).unwrap();
        fs::write(d.path().join("broken.gz"), b"not gzip at all").unwrap();
        // Content decides: a `.gz` name on text is text.
        let (read, _, errors) = collect(d.path(), &WalkOptions::default());
        assert_eq!(read, vec!["broken.gz", "build.log.gz"]);
        assert!(errors.is_empty());
        // Without archive extraction, `.gz` names are still decompressed, as before.
        let off = WalkOptions {
            extract_archives: false,
            ..Default::default()
        };
        let (read, _, errors) = collect(d.path(), &off);
        assert_eq!(read, vec!["build.log.gz"]);
        assert_eq!(errors, vec!["broken.gz"]);
    }

    /// Every blob's display path and text, and every skip's path, of a walk.
    fn blobs(dir: &Path, opts: &WalkOptions) -> (Vec<(String, String)>, Vec<String>) {
        let out = Mutex::new((Vec::new(), Vec::new()));
        walk(&[dir.to_path_buf()], opts, |item| {
            let mut o = out.lock().unwrap();
            let rel = |p: &str| {
                p.strip_prefix(&format!("{}/", dir.display()))
                    .unwrap_or(p)
                    .to_string()
            };
            match item {
                Item::Blob { blob, .. } => o.0.push((
                    rel(&blob.origin.display_path()),
                    String::from_utf8_lossy(blob.data).into_owned(),
                )),
                Item::Skipped { path, .. } => o.1.push(rel(&path.to_string_lossy())),
                Item::Error { message, .. } => panic!("{message}"),
            }
        })
        .unwrap();
        let (mut a, mut b) = out.into_inner().unwrap();
        a.sort();
        b.sort();
        (a, b)
    }

    #[test]
    fn archives_are_expanded_by_content_and_utf16_decoded() {
        use std::io::Write;
        let d = tempfile::tempdir().unwrap();
        let mut w = zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        w.start_file("conf/app.yml", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"key: one\n").unwrap();
        w.start_file("Main.class", zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(b"\xca\xfe\xba\xbe\0\0").unwrap();
        // A jar renamed: the magic number decides, not the name.
        fs::write(d.path().join("app.bin"), w.finish().unwrap().into_inner()).unwrap();
        let mut tar = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(7);
        h.set_cksum();
        tar.append_data(&mut h, "etc/a.env", &b"K=two\n\n"[..])
            .unwrap();
        let tgz = gzip(&tar.into_inner().unwrap(), 6);
        fs::write(d.path().join("layer.tgz"), &tgz).unwrap();
        let utf16: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain("$k = 'three'\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        fs::write(d.path().join("script.ps1"), utf16).unwrap();
        let (read, skipped) = blobs(d.path(), &WalkOptions::default());
        assert_eq!(
            read,
            vec![
                ("app.bin!conf/app.yml".into(), "key: one\n".into()),
                ("layer.tgz!etc/a.env".into(), "K=two\n\n".into()),
                ("script.ps1".into(), "$k = 'three'\r\n".into()),
            ]
        );
        assert!(
            skipped.is_empty(),
            "binary members are not listed: {skipped:?}"
        );
        let off = WalkOptions {
            extract_archives: false,
            ..Default::default()
        };
        let (read, skipped) = blobs(d.path(), &off);
        assert_eq!(read.len(), 1, "UTF-16 text is text either way");
        assert_eq!(skipped, vec!["app.bin", "layer.tgz"]);
    }

    fn gzip(data: &[u8], level: u32) -> Vec<u8> {
        use flate2::{write::GzEncoder, Compression};
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::new(level));
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    /// Every skip reason a walk of `dir` gave, and the bytes of blob data it handed on
    /// (overlaps not counted twice).
    fn skips_and_bytes(dir: &Path, opts: &WalkOptions) -> (Vec<String>, u64) {
        let out = Mutex::new((Vec::new(), 0u64));
        walk(&[dir.to_path_buf()], opts, |item| {
            let mut o = out.lock().unwrap();
            match item {
                Item::Skipped { reason, .. } => o.0.push(reason.to_string()),
                Item::Blob { blob, overlap, .. } => o.1 += (blob.data.len() - overlap) as u64,
                Item::Error { message, .. } => panic!("{message}"),
            }
        })
        .unwrap();
        out.into_inner().unwrap()
    }

    #[test]
    fn a_gzip_that_inflates_past_the_cap_is_listed_as_skipped() {
        let d = tempfile::tempdir().unwrap();
        let log = b"INFO request ok path=/api/v1/items status=200\n".repeat(100_000);
        fs::write(d.path().join("big.log.gz"), gzip(&log, 1)).unwrap();
        let cap = 1024 * 1024;
        let opts = WalkOptions {
            max_file_size: cap,
            ..Default::default()
        };
        let (skips, bytes) = skips_and_bytes(d.path(), &opts);
        assert_eq!(
            skips,
            vec![format!(
                "decompressed past --max-file-size ({cap} bytes); the rest was not scanned"
            )]
        );
        assert_eq!(bytes, cap, "what came before the cap is scanned");
        // Exactly at the cap is not past it.
        let exact = &log[..cap as usize];
        fs::write(d.path().join("big.log.gz"), gzip(exact, 1)).unwrap();
        assert_eq!(skips_and_bytes(d.path(), &opts), (vec![], cap));
    }

    #[test]
    fn a_decompression_bomb_stops_at_the_ratio() {
        let d = tempfile::tempdir().unwrap();
        // 64 MiB of one letter: deflate's best ratio, about 1030:1.
        let bomb = vec![b'a'; 64 << 20];
        fs::write(d.path().join("bomb.gz"), gzip(&bomb, 9)).unwrap();
        let (skips, bytes) = skips_and_bytes(d.path(), &WalkOptions::default());
        assert_eq!(
            skips,
            vec!["compression ratio over 1000:1 (a decompression bomb); the rest was not scanned"]
        );
        assert!(
            bytes < 8 << 20,
            "stopped soon after the first MiB, not at {bytes}"
        );
        // A repetitive but real log is far below the ratio and read whole.
        let log = b"INFO request ok path=/api/v1/items status=200\n".repeat(100_000);
        fs::write(d.path().join("bomb.gz"), gzip(&log, 9)).unwrap();
        assert_eq!(
            skips_and_bytes(d.path(), &WalkOptions::default()),
            (vec![], log.len() as u64)
        );
    }

    #[test]
    fn a_missing_root_is_an_error_naming_it() {
        let e = walk(
            &[PathBuf::from("/no/such/dir")],
            &WalkOptions::default(),
            |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("/no/such/dir"));
    }
}
