//! The finding model shared by every unleak crate.
//!
//! Owns: what a scanned blob is ([`Blob`], [`Origin`]), where a match sits ([`Span`],
//! [`Locator`], [`Location`]), the secret value that redacts itself ([`Secret`]), the
//! finding a scan produces ([`Finding`]), its provenance with found secrets masked
//! ([`MaskedText`]), its edit-proof identity ([`Fingerprint`]), and the memory budget
//! every consumer takes its limit from ([`MemoryBudget`]), and UTF-16 text told from binary
//! and decoded, whole ([`decode_utf16`]) or as a stream ([`Utf16Decoder`]).
//!
//! Does not own: any I/O, rule definitions or matching. Everything here is plain data so
//! that sources, the matcher, filters and reporters can agree on it without depending on
//! each other.

mod blob;
mod budget;
mod finding;
mod fingerprint;
mod kdf;
mod location;
mod provenance;
mod secret;
mod text;

pub use blob::{Blob, Origin};
pub use budget::{
    finding_bytes, Allowance, BudgetTooSmall, Bytes, MemoryBudget, Shares, WorkerPlan,
    DEFAULT_MEMORY_BUDGET, MIN_MEMORY_BUDGET, RUNTIME_RESERVE,
};
pub use finding::{CommitFacts, Confidence, Finding, GitProvenance, ImageProvenance};
pub use fingerprint::{Fingerprint, FingerprintKey};
pub use location::{count_chars, Location, Locator, Span};
pub use provenance::{hide_shared, mask, MaskedText};
pub use secret::{redact, Secret};
pub use text::{decode_utf16, is_binary, text_of, utf16_stream, Utf16, Utf16Decoder};
