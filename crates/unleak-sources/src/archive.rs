//! Archives met by a source: expanded through `unleak-archive`, members handed on as
//! blobs named `archive!member`, skips as items.
//!
//! Owns: the limits a walk gives archives (`--max-file-size` per member, the thread's
//! memory share) and turning expansion events into [`Item`]s. Binary members (class files,
//! images) are dropped without a skip record: a jar holds thousands, and a binary file
//! outside an archive is listed only because a user may have meant it to be read.
//! Does not own: the formats or the bounds themselves (`unleak-archive`).

use crate::item::{Item, SkipReason};
use crate::walk::WalkOptions;
use std::io::{Read, Seek};
use std::path::PathBuf;
use unleak_archive::{expand, Event, Format, Limits};
use unleak_core::{text_of, Blob, Origin};

/// The bounds of archives met by a walk with `opts`.
pub(crate) fn archive_limits(opts: &WalkOptions) -> Limits {
    Limits {
        max_member_size: opts.max_file_size,
        max_held: opts.archive_memory,
        ..Limits::default()
    }
}

/// Expand `input` (an archive of `format` found at `origin`) and hand every text member
/// to `visit` as a whole blob at `origin!member`, every skip as an item naming it.
pub fn expand_into<R: Read + Seek, V: Fn(Item<'_>) + Sync + ?Sized>(
    format: Format,
    input: R,
    origin: &Origin,
    limits: &Limits,
    visit: &V,
) {
    expand(format, input, limits, &mut |event| match event {
        Event::Member { path, data } => {
            if let Some(text) = text_of(data) {
                visit(Item::Blob {
                    blob: Blob::new(member_origin(origin, path), &text),
                    base_offset: 0,
                    base_line: 1,
                    base_column: 1,
                    overlap: 0,
                });
            }
        }
        Event::Skipped { path, reason } => visit(Item::Skipped {
            path: PathBuf::from(member_origin(origin, path).display_path().into_owned()),
            reason: SkipReason::Archive(reason),
        }),
    });
}

/// `origin!a!b` for the member chain `[a, b]`.
fn member_origin(origin: &Origin, chain: &[String]) -> Origin {
    chain
        .iter()
        .fold(origin.clone(), |o, member| o.member(member.as_str()))
}
