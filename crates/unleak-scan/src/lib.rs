//! unleak's scan pipeline: a [`Source`] emits blobs, skips and errors; one [`Scanner`]
//! runs the matcher over every blob and hands the findings to a [`Sink`].
//!
//! ```text
//!   Source ──Item──▶ Scanner::run ──Vec<Finding>──▶ Sink (Filtered ▶ Collect | JsonlStream)
//!  (files, stdin,     matcher, chunk base,           │
//!   images, …)        overlap, paths, counts         └─▶ ScanStats (inputs, bytes, skipped, errors)
//! ```
//!
//! Owns: what a scan counts ([`ScanStats`]: one skip shape and one error shape, each
//! keeping its path), placing a chunk's findings in their stream (base offset, overlap),
//! the form paths are shown in ([`Paths`]), holding findings within the findings share of
//! the memory budget ([`Collect`]), streaming them ([`JsonlStream`]) and dropping what
//! allowlists and inline comments allow ([`Filtered`]).
//!
//! Git history, ranges and the staged index run through [`Scanner::history`],
//! [`Scanner::range`] and [`Scanner::staged`]: `unleak-git` reads the blobs and adds
//! provenance, and is handed the scanner's matcher for each blob (it never links one).
//!
//! Does not own: reading content (the sources: `unleak-sources`, `unleak-git`,
//! `unleak-image`), matching
//! (`unleak-matcher`), what a filter allows (`unleak-filters`), or rendering reports.

mod error;
mod git;
mod paths;
mod scanner;
mod sink;
mod source;
mod stats;

pub use error::RunError;
pub use paths::{relative, Paths};
pub use scanner::Scanner;
pub use sink::{Collect, Filtered, JsonlStream, Sink};
pub use source::{Files, Source, SourceError, Sources, Stdin};
pub use stats::ScanStats;
