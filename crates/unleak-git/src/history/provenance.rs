//! Provenance: which (blob, path) pairs the walked commits hold, how many commits hold each,
//! the earliest of them (the one that introduced it) and whether HEAD holds it.
//!
//! Owns: the one pass over *distinct* trees (see the history module's documentation), the
//! carry each commit passes down its trees, submodule skips and unreadable trees met on the
//! way, and, once the blobs are scanned, the places of the blobs of interest with the
//! introducing place first.
//!
//! Does not own: which commits are walked (walk), reading a tree's bytes or its format
//! (plumbing), scanning blobs (scan), or turning places into findings (fold).

use super::walk::CommitNode;
use super::{HistoryScan, LEVEL_NODE_BYTES, PAIR_BYTES, PATH_BYTES, UNREACHABLE};
use crate::budget::{IndexLedger, Limits};
use crate::paths::{PathId, PathInterner, ROOT};
use crate::plumbing::pack;
use crate::plumbing::tree::{parse_tree, read_tree, TreeListing};
use crate::repo::{self, Skipped};
use crate::GitError;
use git2::{Oid, Repository};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// No commit carries this (a tree reached only as HEAD's, outside the walked commits).
const NO_COMMIT: u32 = u32::MAX;

/// What flows from commits down to trees and blobs.
#[derive(Clone, Copy, Debug)]
pub(super) struct Carry {
    /// How many walked commits hold the object at this path.
    pub(super) commits: u64,
    /// The earliest of them (index into the parents-first commit list).
    pub(super) first: u32,
    /// Whether HEAD holds it at this path.
    pub(super) in_head: bool,
}

impl Carry {
    pub(super) const EMPTY: Carry = Carry {
        commits: 0,
        first: NO_COMMIT,
        in_head: false,
    };

    fn absorb(&mut self, other: Carry) {
        self.commits += other.commits;
        self.first = self.first.min(other.first);
        self.in_head |= other.in_head;
    }
}

/// For every (blob, path) in the trees of `commits` (and of HEAD): how many commits hold it,
/// the earliest, and whether HEAD does.
///
/// Trees are read by the pool's workers (from the packs, else libgit2), a batch at a time,
/// while this thread folds the previous batch into the maps: reading and inflating trees is
/// most of the cost, and interning and summing must stay in one sorted order so that ids,
/// errors and skips come out the same on every run.
///
/// Trees are read `limits.tree_batch` at a time; before each batch is folded, the maps and
/// the listings in memory are checked against the index share on top of `held`, and the
/// scan stops with an error rather than go on past it.
#[allow(clippy::too_many_arguments)]
pub(super) fn provenance(
    pool: &rayon::ThreadPool,
    git_dir: &Path,
    shown: &Path,
    packs: &[PathBuf],
    commits: &[CommitNode],
    head_tree: Option<Oid>,
    paths: &mut PathInterner,
    out: &mut HistoryScan,
    (limits, ledger, held): (&Limits, &IndexLedger<'_>, u64),
) -> Result<HashMap<(Oid, PathId), Carry>, GitError> {
    let mut level: HashMap<(Oid, PathId), Carry> = HashMap::new();
    for (i, c) in commits.iter().enumerate() {
        let carry = Carry {
            commits: 1,
            first: i as u32,
            in_head: false,
        };
        level
            .entry((c.tree, ROOT))
            .or_insert(Carry::EMPTY)
            .absorb(carry);
    }
    if let Some(tree) = head_tree {
        let carry = Carry {
            in_head: true,
            ..Carry::EMPTY
        };
        level
            .entry((tree, ROOT))
            .or_insert(Carry::EMPTY)
            .absorb(carry);
    }
    let mut blobs: HashMap<(Oid, PathId), Carry> = HashMap::new();
    let mut submodules: HashSet<PathId> = HashSet::new();
    let reader = pack::TreeReader::new(
        packs,
        pool.current_num_threads(),
        limits.base_cache,
        limits.stack,
    );
    let read_batch = |batch: &[((Oid, PathId), Carry)]| -> Vec<TreeListing> {
        // Read in pack order (a delta's base lies before it, so the reader's cache of recent
        // objects holds it), answer in batch order.
        let mut order: Vec<(Option<(usize, u64)>, usize)> = batch
            .iter()
            .enumerate()
            .map(|(i, ((id, _), _))| (reader.locate(*id), i))
            .collect();
        order.sort_unstable();
        let mut read: Vec<(usize, TreeListing)> = order
            .par_iter()
            .map_init(
                || None,
                |fallback: &mut Option<Result<Repository, GitError>>, &(at, i)| {
                    let id = batch[i].0 .0;
                    let packed = at
                        .and_then(|at| reader.read_tree(at))
                        .filter(|raw| parse_tree(raw).is_some());
                    if let Some(raw) = packed {
                        return (i, Ok(raw));
                    }
                    // Loose, in an alternate, or refused by the pack reader: libgit2 reads
                    // it, and names any problem.
                    let repo = fallback.get_or_insert_with(|| repo::open_worker(git_dir, shown));
                    let listing = match repo {
                        Ok(r) => read_tree(r, id),
                        Err(e) => Err(git2::Error::from_str(&e.to_string())),
                    };
                    (i, listing)
                },
            )
            .collect();
        read.sort_unstable_by_key(|(i, _)| *i);
        read.into_iter().map(|(_, listing)| listing).collect()
    };
    let mut expanded = 0u64;
    while !level.is_empty() {
        let mut nodes: Vec<((Oid, PathId), Carry)> = level.into_iter().collect();
        nodes.sort_unstable_by_key(|((oid, dir), _)| (*dir, *oid));
        let mut next: HashMap<(Oid, PathId), Carry> = HashMap::new();
        let batches: Vec<&[((Oid, PathId), Carry)]> = nodes.chunks(limits.tree_batch).collect();
        let mut listings = pool.install(|| read_batch(batches[0]));
        for (i, batch) in batches.iter().enumerate() {
            let ahead = batches.get(i + 1);
            // The maps as the batches folded so far left them, this batch's listings and the
            // batch read ahead (about as heavy). A batch adds at most one entry per tree entry
            // it lists, so the share is passed by at most one batch's growth.
            let raw: u64 = listings
                .iter()
                .map(|l| l.as_ref().map_or(0, |r| r.len() as u64))
                .sum();
            let entries = (blobs.len() + next.len()) as u64;
            ledger.check(
                commits.len() as u64 + expanded + entries,
                held + entries * PAIR_BYTES
                    + nodes.len() as u64 * LEVEL_NODE_BYTES
                    + paths.len() as u64 * PATH_BYTES
                    + 2 * (raw + batch.len() as u64 * 48),
            )?;
            expanded += batch.len() as u64;
            let (_, read_ahead) = pool.install(|| {
                rayon::join(
                    || {
                        fold_trees(
                            batch,
                            std::mem::take(&mut listings),
                            shown,
                            paths,
                            &mut next,
                            &mut blobs,
                            &mut submodules,
                            out,
                        )
                    },
                    || ahead.map(|b| read_batch(b)),
                )
            });
            listings = read_ahead.unwrap_or_default();
        }
        level = next;
    }
    Ok(blobs)
}

/// Pass each tree's carry to its entries: subtrees into `next`, blobs into `blobs`.
#[allow(clippy::too_many_arguments)]
fn fold_trees(
    batch: &[((Oid, PathId), Carry)],
    listings: Vec<TreeListing>,
    shown: &Path,
    paths: &mut PathInterner,
    next: &mut HashMap<(Oid, PathId), Carry>,
    blobs: &mut HashMap<(Oid, PathId), Carry>,
    submodules: &mut HashSet<PathId>,
    out: &mut HistoryScan,
) {
    for (&((tree_id, dir), carry), listing) in batch.iter().zip(listings) {
        let entries = match &listing {
            // Checked when read.
            Ok(raw) => parse_tree(raw).unwrap_or_default(),
            Err(e) => {
                let at = (dir != ROOT).then(|| paths.path(dir));
                out.errors
                    .push(GitError::object(shown, "tree", tree_id, at, e));
                continue;
            }
        };
        for entry in entries {
            let child = paths.child(dir, entry.name);
            match entry.mode {
                0o040000 => next
                    .entry((entry.id, child))
                    .or_insert(Carry::EMPTY)
                    .absorb(carry),
                0o160000 => {
                    if submodules.insert(child) {
                        out.skipped.push(Skipped {
                            what: format!("submodule `{}`", paths.path(child)),
                            why: "a gitlink to a commit of another repository; scan that repository on its own".into(),
                        });
                    }
                }
                _ => blobs
                    .entry((entry.id, child))
                    .or_insert(Carry::EMPTY)
                    .absorb(carry),
            }
        }
    }
}

/// Where each blob of `interest` (with findings or problems) sits in history, from the
/// provenance map `pairs` (dropped here: nothing else needs it): its places, the
/// introducing place first. Blobs of `unreachable` are found at no path.
pub(super) fn places(
    pairs: HashMap<(Oid, PathId), Carry>,
    interest: &HashSet<Oid>,
    unreachable: &HashSet<Oid>,
) -> HashMap<Oid, Vec<(PathId, Carry)>> {
    let mut places: HashMap<Oid, Vec<(PathId, Carry)>> = HashMap::new();
    for (&(oid, path), &carry) in &pairs {
        if interest.contains(&oid) {
            places.entry(oid).or_default().push((path, carry));
        }
    }
    drop(pairs);
    // The introducing place first.
    for list in places.values_mut() {
        list.sort_unstable_by_key(|(path, c)| (c.first, *path));
    }
    // No walked tree holds these, so they are found at no path.
    for oid in unreachable {
        if interest.contains(oid) {
            places.insert(*oid, vec![(UNREACHABLE, Carry::EMPTY)]);
        }
    }
    places
}
