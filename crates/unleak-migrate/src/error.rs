//! Errors of planning, applying and seeding. Messages name the file, flag or server they
//! are about and never carry a secret value.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} changed since the plan was made ({detail}); nothing was written: run `unleak migrate` again to make a new plan")]
    Drift { path: String, detail: String },
    #[error("{path}: the plan's edits or vault sources are not the ones unleak migrate makes for this file (plan.json was edited, or made by another version); nothing was written: run `unleak migrate` again to make a new plan")]
    Tampered { path: String },
    #[error("refusing to write {file}: it would hold the value of a secret the scan found (through a name taken from a file); no artifact was written")]
    WouldLeak { file: PathBuf },
    #[error("malformed plan: {message}")]
    PlanFormat { message: String },
    #[error(transparent)]
    Write(#[from] unleak_atomic::WriteError),
    #[error("--vault-addr `{addr}`: {message}")]
    VaultAddress { addr: String, message: String },
    #[error("vault at {addr}: {message}")]
    Vault { addr: String, message: String },
}
