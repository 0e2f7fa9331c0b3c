//! Where content comes from: files and directories walked in parallel, standard input,
//! gzip-compressed logs, and the members of archives. Each source hands [`Item`]s to a visitor: a blob to scan, a
//! file it skipped and why, or a file it could not read.
//!
//! Owns: walking (the `ignore` crate), what counts as binary, size caps, symlink and
//! special-file policy, reading (small files whole, large ones and streams in bounded chunks,
//! UTF-16 text decoded either way).
//! Does not own: matching, or what happens to a skipped file beyond reporting it. Git
//! history lives in `unleak-git`.

mod archive;
mod chunk;
mod item;
mod walk;

pub use archive::expand_into;
pub use chunk::{scan_stream, scan_text, Chunk, CHUNK_OVERLAP};
pub use item::{Item, SkipReason};
pub use unleak_core::is_binary;
pub use walk::{walk, WalkOptions};
