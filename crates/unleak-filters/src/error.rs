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
        /// The file.
        file: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The file is not valid TOML, or not the shape of a configuration.
    #[error("invalid configuration {}:{line}:{column}: {}{message}", file.display(),
        key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Invalid {
        /// The file.
        file: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// 1-based, in characters.
        column: usize,
        /// The dotted key at fault (`allow.paths[2]`), when the error has a place.
        key: Option<String>,
        /// What is wrong, without quoting the file's text.
        message: String,
    },
    /// Rules a configuration names (`rules.extra`) could not be loaded; the source says why.
    #[error("invalid configuration {}{place}: the rules it names cannot be loaded", file.display())]
    Rules {
        /// The configuration file.
        file: PathBuf,
        /// Where in it the rules are named.
        place: Place,
        /// Why they could not be loaded.
        source: Box<RuleError>,
    },
}

/// A baseline file that cannot be read, parsed, trusted or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The reason is the source, so `{:#}` shows it once.
    #[error("cannot read baseline {}", file.display())]
    Read {
        /// The file.
        file: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    /// The file is not JSON, or not the shape of a baseline.
    #[error("malformed baseline {}{}{}{}: {message}", file.display(),
        line.map(|l| format!(":{l}")).unwrap_or_default(),
        column.map(|c| format!(":{c}")).unwrap_or_default(),
        key.as_deref().map(|k| format!(": key `{k}`")).unwrap_or_default())]
    Malformed {
        /// The file.
        file: PathBuf,
        /// 1-based line of a JSON syntax error.
        line: Option<usize>,
        /// 1-based column of a JSON syntax error.
        column: Option<usize>,
        /// The key at fault (`entries[3].path`), for a file that is JSON of the wrong shape.
        key: Option<String>,
        /// What is wrong, without quoting the file's text.
        message: String,
    },
    /// A baseline written by a newer unleak.
    #[error("baseline {} has format version {version}, newer than this unleak reads ({supported}); upgrade unleak", file.display())]
    Newer {
        /// The file.
        file: PathBuf,
        /// The version the file declares.
        version: u64,
        /// The newest version this unleak reads.
        supported: u64,
    },
    /// A baseline of a version whose password fingerprints are fast to guess.
    #[error("baseline {} has format version {version}, whose fingerprints of passwords are fast to guess; run `unleak baseline create` to rewrite it", file.display())]
    Outdated {
        /// The file.
        file: PathBuf,
        /// The version the file declares.
        version: u64,
    },
    /// The baseline could not be written.
    #[error("cannot write baseline {}: {source}", file.display())]
    Write {
        /// The file.
        file: PathBuf,
        /// Why it could not be written.
        source: unleak_atomic::WriteError,
    },
    /// The system's random source failed; the reason.
    #[error("cannot make a random baseline key: {0}")]
    Random(String),
}
