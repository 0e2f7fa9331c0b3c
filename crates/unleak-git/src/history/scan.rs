//! The blob scan: every wanted blob read once, in parallel, handed to the caller's matcher
//! and dropped; only its findings are kept.
//!
//! Owns: reading blobs (packed ones from their packs in pack order, the rest through
//! libgit2 one at a time), the size limit, binary detection, archive members and UTF-16
//! text, one occurrence per secret within a blob, and holding findings within the findings
//! share (past it the workers stop and the scan is marked over budget).
//!
//! Does not own: which blobs are wanted (provenance), matching (the caller's [`Find`]), or
//! where a blob sits in history and the findings that come of it (fold).

use crate::budget::Limits;
use crate::plumbing::pack;
use crate::repo::{self, read_blob, RawBlob};
use crate::Find;
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::HashSet;
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use unleak_archive::{expand, Event, Format, HEAD};
use unleak_core::{
    decode_utf16, finding_bytes, text_of, Allowance, Blob, Finding, Fingerprint, Origin,
};

/// Why a blob was not scanned.
pub(super) enum Problem {
    TooLarge(u64),
    Failed(String),
    /// A member of an archive blob (its chain joined by `!`), or the archive itself (an
    /// empty chain), not read.
    Archive(String, unleak_archive::Skip),
}

/// What the workers bring back: findings per blob (one per rule and secret, origins not yet
/// set) and counters.
#[derive(Default)]
pub(super) struct Scanned {
    pub(super) found: Vec<(Oid, Vec<Finding>)>,
    pub(super) problems: Vec<(Oid, Problem)>,
    pub(super) scanned: u64,
    pub(super) bytes: u64,
    pub(super) binary: u64,
    /// Findings held (each charged to the findings share).
    pub(super) kept: u64,
    /// The findings share ran out: the scan stopped and its findings are incomplete.
    pub(super) over_budget: bool,
}

impl Scanned {
    fn merge(mut self, mut other: Scanned) -> Scanned {
        self.found.append(&mut other.found);
        self.problems.append(&mut other.problems);
        self.scanned += other.scanned;
        self.bytes += other.bytes;
        self.binary += other.binary;
        self.kept += other.kept;
        self.over_budget |= other.over_budget;
        self
    }
}

/// What every worker scanning blobs shares.
struct BlobScan<'a> {
    find: &'a Find<'a>,
    max_size: u64,
    /// The bounds of archives committed to history; `None` leaves them binary.
    archives: Option<unleak_archive::Limits>,
    findings: &'a Allowance,
    /// Set when the findings share runs out; workers then stop scanning.
    stop: AtomicBool,
}

/// Archive blobs are held whole (at most half a worker's blob share, as any blob); their
/// members may take the other half.
pub(super) fn archive_limits(limits: &Limits) -> unleak_archive::Limits {
    unleak_archive::Limits {
        max_member_size: limits.max_blob_flag,
        max_held: limits.plan.blob_bytes() / 2,
        ..unleak_archive::Limits::default()
    }
}

pub(super) fn scan_blobs(
    pool: &rayon::ThreadPool,
    git_dir: &Path,
    shown: &Path,
    packs: &[PathBuf],
    oids: &[Oid],
    find: &Find<'_>,
    (limits, findings, archives): (&Limits, &Allowance, Option<unleak_archive::Limits>),
) -> Scanned {
    let scan = BlobScan {
        find,
        max_size: limits.max_blob,
        archives,
        findings,
        stop: AtomicBool::new(false),
    };
    let scan = &scan;
    let mut scanned = pool.install(|| {
        // Packed blobs first, in pack order; whatever that cannot resolve goes through
        // libgit2 one by one (see `pack`).
        let (states, left) = pack::read_blobs(
            packs,
            oids,
            limits.max_blob,
            limits.stack,
            Scanned::default,
            |acc: &mut Scanned, oid, data| scan_content(oid, data, scan, acc),
        );
        let by_id = left
            .par_iter()
            .with_min_len(64)
            .fold(
                || (repo::open_worker(git_dir, shown), Scanned::default()),
                |(worker, mut acc), &oid| {
                    if scan.stop.load(Ordering::Relaxed) {
                        return (worker, acc);
                    }
                    match &worker {
                        Ok(r) => scan_one(r, oid, scan, &mut acc),
                        Err(e) => acc.problems.push((oid, Problem::Failed(e.to_string()))),
                    }
                    (worker, acc)
                },
            )
            .map(|(_, acc)| acc)
            .reduce(Scanned::default, Scanned::merge);
        states.into_iter().fold(by_id, Scanned::merge)
    });
    scanned.found.sort_unstable_by_key(|(oid, _)| *oid);
    scanned.problems.sort_unstable_by_key(|(oid, _)| *oid);
    scanned
}

fn scan_one(repo: &Repository, oid: Oid, scan: &BlobScan<'_>, acc: &mut Scanned) {
    let odb = match repo.odb() {
        Ok(o) => o,
        Err(e) => {
            acc.problems
                .push((oid, Problem::Failed(e.message().to_string())));
            return;
        }
    };
    match read_blob(&odb, oid, scan.max_size) {
        Ok(RawBlob::Text(object)) => scan_content(oid, object.data(), scan, acc),
        // Archives and UTF-16 text are binary to git: read the object after all.
        Ok(RawBlob::Binary) => match odb.read(oid) {
            Ok(object) => scan_content(oid, object.data(), scan, acc),
            Err(e) => acc
                .problems
                .push((oid, Problem::Failed(e.message().to_string()))),
        },
        Ok(RawBlob::TooLarge(size)) => acc.problems.push((oid, Problem::TooLarge(size))),
        Err(e) => acc
            .problems
            .push((oid, Problem::Failed(e.message().to_string()))),
    };
}

/// Scan one blob's content (binary ones are only counted), holding its findings within the
/// findings share.
fn scan_content(oid: Oid, data: &[u8], scan: &BlobScan<'_>, acc: &mut Scanned) {
    if scan.stop.load(Ordering::Relaxed) {
        return;
    }
    let mut found = Vec::new();
    if repo::is_binary(data) {
        let archive = scan
            .archives
            .as_ref()
            .and_then(|limits| Some((Format::detect(&data[..data.len().min(HEAD)])?, limits)));
        if let Some((format, limits)) = archive {
            acc.scanned += 1;
            expand(
                format,
                Cursor::new(data),
                limits,
                &mut |event| match event {
                    Event::Member { path, data } => {
                        let Some(text) = text_of(data) else { return };
                        acc.bytes += text.len() as u64;
                        let origin = path.iter().fold(Origin::Stdin, |o, m| o.member(m.as_str()));
                        found.extend((scan.find)(&Blob::new(origin, &text)));
                    }
                    Event::Skipped { path, reason } => acc
                        .problems
                        .push((oid, Problem::Archive(path.join("!"), reason))),
                },
            );
        } else if let Some(text) = decode_utf16(data) {
            acc.scanned += 1;
            acc.bytes += text.len() as u64;
            found = (scan.find)(&Blob::new(Origin::Stdin, text.as_bytes()));
        } else {
            acc.binary += 1;
            return;
        }
    } else {
        acc.scanned += 1;
        acc.bytes += data.len() as u64;
        // The origin is filled in per path when findings are folded.
        found = (scan.find)(&Blob::new(Origin::Stdin, data));
    }
    // A secret repeated inside one blob is one occurrence: keep the first.
    let mut seen: HashSet<(Arc<str>, Fingerprint)> = HashSet::new();
    found.retain(|f| seen.insert((f.rule_id.clone(), f.fingerprint.clone())));
    let weight: u64 = found.iter().map(finding_bytes).sum();
    if !scan.findings.take(weight) {
        scan.stop.store(true, Ordering::Relaxed);
        acc.over_budget = true;
        return;
    }
    acc.kept += found.len() as u64;
    if !found.is_empty() {
        acc.found.push((oid, found));
    }
}
