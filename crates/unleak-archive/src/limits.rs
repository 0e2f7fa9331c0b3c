//! How far expansion goes, and why it stopped.

use std::fmt;

/// Archives inside archives read, the outermost one counted: `app.war!lib/a.jar!x.yml`
/// is depth 2. Deeper ones are listed as skipped.
pub const MAX_DEPTH: u32 = 4;
/// Inflated bytes per compressed byte past which a member or stream is a decompression
/// bomb. Deflate cannot pass 1032:1, so only data made to inflate at a format's limit
/// reaches it; the most repetitive real logs and class files stay far below.
pub const MAX_RATIO: u64 = 1000;

/// The bounds of one expansion. Every count is per outermost archive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one member (`--max-file-size`).
    pub max_member_size: u64,
    /// Bytes held at once: a nested archive's bytes stay held while its members are read,
    /// so this is what all levels together may hold (the caller's memory-budget share).
    pub max_held: u64,
    /// Inflated bytes read from one outermost archive, all levels together.
    pub max_total: u64,
    /// Entries (members, directories and links) of one outermost archive, all levels.
    pub max_entries: u64,
    /// See [`MAX_DEPTH`].
    pub max_depth: u32,
    /// See [`MAX_RATIO`]; applies once a member or stream has inflated past 1 MiB.
    pub max_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_member_size: 100 * 1024 * 1024,
            max_held: 256 * 1024 * 1024,
            max_total: 4 * 1024 * 1024 * 1024,
            max_entries: 50_000,
            max_depth: MAX_DEPTH,
            max_ratio: MAX_RATIO,
        }
    }
}

/// Why a member, or a whole archive, was not read (or not to its end).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    /// A member bigger than [`Limits::max_member_size`], or a stream that inflated past it
    /// (what came before was read).
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// A member that would take the bytes held past [`Limits::max_held`].
    OverMemory {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Past [`Limits::max_ratio`]; what came before was read.
    Bomb {
        /// The largest ratio of inflated to compressed size allowed.
        ratio: u64,
    },
    /// Past [`Limits::max_total`]; the rest of the archive was not read.
    TotalTooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// Past [`Limits::max_entries`]; the rest of the archive was not read.
    TooManyEntries {
        /// The most entries allowed.
        limit: u64,
    },
    /// An archive nested deeper than [`Limits::max_depth`].
    TooDeep {
        /// The deepest nesting allowed.
        depth: u32,
    },
    /// An encrypted zip member: there is no password to read it with.
    Encrypted,
    /// A symbolic or hard link member: never followed.
    Link,
    /// A zip compression method unleak does not read.
    Unsupported(String),
    /// Not a valid archive (truncated, a bad checksum); what came before was read.
    Corrupt(String),
}

impl fmt::Display for Skip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Skip::TooLarge { limit } => write!(
                f,
                "decompressed past --max-file-size ({limit} bytes); the rest was not scanned"
            ),
            Skip::OverMemory { limit } => write!(
                f,
                "archive member over the {limit} bytes --memory-budget leaves for archives"
            ),
            Skip::Bomb { ratio } => write!(
                f,
                "compression ratio over {ratio}:1 (a decompression bomb); the rest was not scanned"
            ),
            Skip::TotalTooLarge { limit } => write!(
                f,
                "archive inflates past {limit} bytes in all; the rest was not scanned"
            ),
            Skip::TooManyEntries { limit } => write!(
                f,
                "archive has more than {limit} entries; the rest was not scanned"
            ),
            Skip::TooDeep { depth } => {
                write!(f, "archive nested more than {depth} deep; not expanded")
            }
            Skip::Encrypted => f.write_str("encrypted archive member"),
            Skip::Link => f.write_str("link inside an archive (not followed)"),
            Skip::Unsupported(what) => write!(f, "archive member not readable: {what}"),
            Skip::Corrupt(what) => {
                write!(f, "corrupt archive ({what}); the rest was not scanned")
            }
        }
    }
}
