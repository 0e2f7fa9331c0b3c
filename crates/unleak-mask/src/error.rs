//! Errors of the masker. None carries input bytes: a message names the stream or the
//! command, never what flowed through it.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    #[error("cannot read the input to mask: {source}")]
    Read { source: io::Error },
    #[error("cannot write the masked output: {source}")]
    Write { source: io::Error },
    /// The wrapped command could not be started (not found, not executable, ...).
    #[error("cannot run `{command}`: {source}")]
    Spawn { command: String, source: io::Error },
    #[error("cannot wait for `{command}` to finish: {source}")]
    Wait { command: String, source: io::Error },
}
