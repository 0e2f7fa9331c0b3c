//! Errors of planning, applying and seeding. Messages name the file, flag or server they
//! are about and never carry a secret value.

use std::path::PathBuf;

/// Why planning, applying or seeding stopped.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    /// A file the plan needs could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A planned file no longer matches the plan's checksum: applying now could rewrite the wrong bytes.
    #[error("{path} changed since the plan was made ({detail}); nothing was written: run `unleak migrate` again to make a new plan")]
    Drift {
        /// The file.
        path: String,
        /// What differs: its content outside the planned secrets, or a planned secret gone.
        detail: String,
    },
    /// A plan's edits or vault sources differ from the ones unleak makes for the file.
    #[error("{path}: the plan's edits or vault sources are not the ones unleak migrate makes for this file (plan.json was edited, or made by another version); nothing was written: run `unleak migrate` again to make a new plan")]
    Tampered {
        /// The file whose planned edits were changed.
        path: String,
    },
    /// An artifact would carry the value of a secret the scan found.
    #[error("refusing to write {file}: it would hold the value of a secret the scan found (through a name taken from a file); no artifact was written")]
    WouldLeak {
        /// The artifact that was not written.
        file: PathBuf,
    },
    /// `plan.json` is not a plan this version reads.
    #[error("malformed plan: {message}")]
    PlanFormat {
        /// What is wrong with it.
        message: String,
    },
    /// An atomic write failed (the error names the file).
    #[error(transparent)]
    Write(#[from] unleak_atomic::WriteError),
    /// `--vault-addr` is not an address secrets may be sent to.
    #[error("--vault-addr `{addr}`: {message}")]
    VaultAddress {
        /// The address as given.
        addr: String,
        /// Why it is refused.
        message: String,
    },
    /// The vault refused a request or could not be reached.
    #[error("vault at {addr}: {message}")]
    Vault {
        /// The vault's address.
        addr: String,
        /// What went wrong (no secret value).
        message: String,
    },
}
