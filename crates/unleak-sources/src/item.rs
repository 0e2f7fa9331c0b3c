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
        blob: Blob<'a>,
        base_offset: usize,
        base_line: usize,
        base_column: usize,
        overlap: usize,
    },
    /// Not scanned, on purpose.
    Skipped { path: PathBuf, reason: SkipReason },
    /// Could not be read; the walk goes on.
    Error { path: PathBuf, message: String },
}

/// Why a path was not scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    Binary,
    TooLarge {
        size: u64,
        limit: u64,
    },
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
