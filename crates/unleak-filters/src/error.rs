//! Errors of configuration and baseline files. Each names the file, and where known the
//! line, column and key. None quotes the file's text: a path given as one of these files
//! may be any file (see `unleak_rules::parse_error`).

use std::path::PathBuf;
use unleak_rules::parse_error::Place;
use unleak_rules::RuleError;

/// A configuration file that cannot be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The reason is the source, so `{:#}` shows it once.
    #[error("cannot read configuration file {}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration {}:{line}:{column}: {}{message}", file.display(),
        key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Invalid {
        file: PathBuf,
        line: usize,
        /// 1-based, in characters.
        column: usize,
        /// The dotted key at fault (`allow.paths[2]`), when the error has a place.
        key: Option<String>,
        message: String,
    },
    /// Rules a configuration names (`rules.extra`) could not be loaded; the source says why.
    #[error("invalid configuration {}{place}: the rules it names cannot be loaded", file.display())]
    Rules {
        file: PathBuf,
        place: Place,
        source: Box<RuleError>,
    },
}

/// A baseline file that cannot be read, parsed, trusted or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The reason is the source, so `{:#}` shows it once.
    #[error("cannot read baseline {}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("malformed baseline {}{}{}{}: {message}", file.display(),
        line.map(|l| format!(":{l}")).unwrap_or_default(),
        column.map(|c| format!(":{c}")).unwrap_or_default(),
        key.as_deref().map(|k| format!(": key `{k}`")).unwrap_or_default())]
    Malformed {
        file: PathBuf,
        line: Option<usize>,
        column: Option<usize>,
        /// The key at fault (`entries[3].path`), for a file that is JSON of the wrong shape.
        key: Option<String>,
        message: String,
    },
    #[error("baseline {} has format version {version}, newer than this unleak reads ({supported}); upgrade unleak", file.display())]
    Newer {
        file: PathBuf,
        version: u64,
        supported: u64,
    },
    #[error("baseline {} has format version {version}, whose fingerprints of passwords are fast to guess; run `unleak baseline create` to rewrite it", file.display())]
    Outdated { file: PathBuf, version: u64 },
    #[error("cannot write baseline {}: {source}", file.display())]
    Write {
        file: PathBuf,
        source: unleak_atomic::WriteError,
    },
    #[error("cannot make a random baseline key: {0}")]
    Random(String),
}
