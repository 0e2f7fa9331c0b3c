//! What a source yields.

use std::fmt;
use std::path::PathBuf;
use unleak_core::Blob;

/// One thing a source found while walking.
pub enum Item<'a> {
    /// Content to scan. `base_offset`/`base_line`/`base_column` place it inside a larger
    /// stream (a chunk of a big file or a compressed log); 0, 1 and 1 for whole files. The first `overlap`
    /// bytes were already part of the previous chunk: a finding that ends inside them was
    /// reported then.
    Blob {
        /// The content and where it came from.
        blob: Blob<'a>,
        /// Byte offset of the content in its stream.
        base_offset: usize,
        /// 1-based line of the content's first byte in its stream.
        base_line: usize,
        /// 1-based column (in characters) of the content's first byte on its line.
        base_column: usize,
        /// Bytes at the start already covered by the previous chunk.
        overlap: usize,
    },
    /// Not scanned, on purpose.
    Skipped {
        /// The file, or an archive member (`archive!member`).
        path: PathBuf,
        /// Why.
        reason: SkipReason,
    },
    /// Could not be read; the walk goes on.
    Error {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        message: String,
    },
}

/// Why a path was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// A NUL byte in the first 8 KiB, and not an archive or UTF-16 text.
    Binary,
    /// Bigger than `--max-file-size`.
    TooLarge {
        /// The file's size in bytes.
        size: u64,
        /// The limit in bytes.
        limit: u64,
    },
    /// A symbolic link, not followed without `--follow-symlinks`.
    Symlink,
    /// FIFOs, sockets and devices are never opened: reading one could block forever.
    NotRegular(&'static str),
    /// An archive, a member of one, or a compressed file not read (or not to its end): a
    /// bound, a corrupt or encrypted member, a link. What came before was scanned.
    Archive(unleak_archive::Skip),
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::Binary => f.write_str("binary file"),
            SkipReason::TooLarge { size, limit } => {
                write!(f, "{size} bytes is over --max-file-size ({limit} bytes)")
            }
            SkipReason::Symlink => f.write_str("symbolic link (use --follow-symlinks)"),
            SkipReason::NotRegular(kind) => write!(f, "{kind}, not a regular file"),
            SkipReason::Archive(skip) => skip.fmt(f),
        }
    }
}
