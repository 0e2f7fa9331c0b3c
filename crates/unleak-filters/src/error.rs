//! Errors of configuration and baseline files. Each names the file, and where known the
//! line and key. None carries a secret: configuration files hold patterns, and baseline
//! files hold only fingerprints.

use std::path::PathBuf;

/// A configuration file that cannot be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration {}:{line}: {}{message}", file.display(),
        key.as_deref().map(|k| format!("key `{k}`: ")).unwrap_or_default())]
    Invalid {
        file: PathBuf,
        line: usize,
        /// The dotted key at fault (`allow.paths[2]`), when the error has a place.
        key: Option<String>,
        message: String,
    },
}

/// A baseline file that cannot be read, parsed, trusted or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("cannot read baseline {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("malformed baseline {}{}: {message}", file.display(),
        line.map(|l| format!(":{l}")).unwrap_or_default())]
    Malformed {
        file: PathBuf,
        line: Option<usize>,
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
