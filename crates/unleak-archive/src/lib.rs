//! Archive expansion: a blob that is an archive in, its members out, bounded.
//!
//! Owns: telling archives from other bytes by their magic numbers ([`Format::detect`]),
//! reading zip and its families (jar, war, ear, whl, apk, nupkg, vsix), tar, and streams
//! compressed with gzip, bzip2, xz or zstd (a compressed tar is expanded, a compressed
//! single file becomes one member), archives nested in archives up to
//! [`Limits::max_depth`], and every bound ([`Limits`]): per-member size, bytes held at once
//! across nesting levels, total inflated bytes, entries, depth and compression ratio.
//! What is not read is reported as a [`Skip`] with the member chain it concerns, and
//! expansion goes on with the next member wherever that is possible.
//!
//! Does not own: reading files (callers hand a reader: a `File`, a `Cursor` over a git blob
//! or an image layer), what counts as binary among members, matching, or how a member is
//! named in a report (callers build an `Origin::Member` chain from [`Event`] paths).
//! Member names are labels only: nothing here ever opens a path, so `../../etc/passwd`
//! in an archive is a name, never a place. Links (symbolic or hard) are not followed.
//!
//! The API, for every source (files, git blobs, container image layers):
//! - [`Format::detect`] on the first [`HEAD`] bytes;
//! - [`expand`] `(format, reader, &limits, &mut visit)` with a `Read + Seek` reader calls
//!   `visit` with [`Event::Member`] (the chain of member names from the outermost archive
//!   in, and the member's bytes) for every member that is no archive itself, and with
//!   [`Event::Skipped`] for what was not read and why; an empty chain is the input itself;
//! - [`expand_tar`] does the same for a tar arriving as a stream (no `Seek`);
//! - [`Inflate`] decompresses one stream with the size and ratio bounds, for callers that
//!   scan a large compressed log in chunks rather than hold it;
//! - [`ZstdFrames`] reads every frame of a zstd stream, for callers that bound it
//!   themselves (an image layer, whose digest is checked).

mod counted;
mod expand;
mod format;
mod inflate;
mod limits;
mod zstd;

pub use expand::{expand, expand_tar, Event};
pub use format::{is_tar, Format, HEAD};
pub use inflate::Inflate;
pub use limits::{Limits, Skip, MAX_DEPTH, MAX_RATIO};
pub use zstd::ZstdFrames;
