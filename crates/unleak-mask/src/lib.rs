//! The streaming log masker behind `unleak mask`.
//!
//! Owns: copying a byte stream to a writer with every detected secret replaced by its
//! redacted form and every registered literal value (and its base64 and URL-encoded forms)
//! replaced by `***`, line by line as the stream arrives ([`Masker`]), UTF-16 input decoded
//! to UTF-8 first; and running a
//! command with both of its output streams masked ([`run_wrapped`]).
//!
//! Does not own: what counts as a secret (the matcher and its rules), how a secret is
//! redacted (the finding model), parsing flags or reading the environment (the CLI).

mod error;
mod literal;
mod masker;
mod view;
mod wrap;

pub use error::MaskError;
pub use literal::{ShortLiteral, LITERAL_MASK, MIN_LITERAL_LEN};
pub use masker::{MaskOptions, MaskStats, Masker};
pub use wrap::{run_wrapped, run_wrapped_to, WrappedRun};
