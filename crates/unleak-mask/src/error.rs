//! Errors of the masker. None carries input bytes: a message names the stream or the
//! command, never what flowed through it.

use std::io;

/// Why masking a stream or running a wrapped command failed.
#[derive(Debug, thiserror::Error)]
pub enum MaskError {
    /// Reading the input stream failed.
    #[error("cannot read the input to mask: {source}")]
    Read {
        /// The read error.
        source: io::Error,
    },
    /// Writing the masked output failed (a closed pipe, a full disk).
    #[error("cannot write the masked output: {source}")]
    Write {
        /// The write error.
        source: io::Error,
    },
    /// The wrapped command could not be started (not found, not executable, ...).
    #[error("cannot run `{command}`: {source}")]
    Spawn {
        /// The program, without its arguments (they may carry secrets).
        command: String,
        /// Why it could not start.
        source: io::Error,
    },
    /// Waiting for the wrapped command to exit failed.
    #[error("cannot wait for `{command}` to finish: {source}")]
    Wait {
        /// The program, without its arguments.
        command: String,
        /// Why waiting failed.
        source: io::Error,
    },
}
