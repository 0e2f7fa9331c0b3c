//! The whole-history audit: every blob of every ref, scanned once, with provenance.
//!
//! Owns: the scan's options and result, and running its phases in order, each in its own
//! module: `roots` (refs, HEAD, stash entries, or the whole object database), `walk` (the
//! commit walk), `provenance` (the pass over trees: which blob is at which path in how many
//! commits), `scan` (the parallel blob scan) and `fold` (findings folded into one per
//! (rule, secret fingerprint, path), with provenance). The memory each phase may hold is
//! charged here.
//!
//! How it stays fast and small on big histories:
//! - Provenance is one pass over *distinct* trees, never one tree listing per commit. Each
//!   commit adds a "carry" (commit count, earliest commit, whether it is HEAD) to its root
//!   tree; trees are then expanded level by level (depth 0, 1, 2, …), each distinct
//!   (tree, path) once, passing the summed carry to its entries. A (tree, path) at depth d is
//!   only ever reached from depth d-1, so all of its carry is in before it is expanded. What
//!   remains per (blob, path) is the number of commits that hold that blob at that path, the
//!   earliest of them, and whether HEAD holds it; paths are interned.
//!   Trees are read raw by the worker pool (one `Repository` handle each), a batch at a time,
//!   while this thread folds the previous batch into the maps in a fixed order.
//! - Blobs are then read once each, in parallel, and dropped right after scanning; only
//!   findings are kept. Packed blobs are read straight from their packs in pack order, each
//!   delta chain resolved once from its base (see `plumbing::pack`); the rest (loose objects,
//!   alternates, anything the pack reader hands back) through libgit2 one at a time.
//! - Provenance is kept per (blob, path) only as a count, an earliest commit index and a flag;
//!   commit facts (author, date, summary) are read only for the commits that introduced a
//!   finding.
//!
//! Memory: every consumer works within its share of [`HistoryOptions::memory`] (see
//! `budget`): threads, blob content and delta bases per worker, tree batches, and the
//! bookkeeping above (checked as it grows; past the index share the scan stops with
//! [`GitError::IndexOverBudget`]) and findings (past their share,
//! [`GitError::FindingsOverBudget`]). Nothing is dropped silently: blobs over what a worker
//! may hold are listed in `skipped`.
//!
//! Does not own: ranges and the index (range, staged), matching (the caller's [`Find`]),
//! or reading pack and tree bytes (plumbing).

mod fold;
mod provenance;
mod roots;
mod scan;
mod walk;

use crate::budget::{hashed, IndexLedger, Limits};
use crate::paths::{PathId, PathInterner};
use crate::plumbing::{pack, packs};
use crate::repo;
use crate::repo::{ShallowInfo, Skipped};
use crate::{Find, GitError};
use git2::Oid;
use provenance::Carry;
use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;
use unleak_core::{Allowance, Finding, MemoryBudget};
use walk::CommitNode;

/// Blobs bigger than this are not read (100 MiB); they are listed in `skipped`.
pub const DEFAULT_MAX_BLOB_SIZE: u64 = 100 * 1024 * 1024;

/// The path reported for a blob that no walked commit reaches (only with `all_objects`).
pub const UNREACHABLE_PATH: &str = "(unreachable)";

/// The interned id standing for [`UNREACHABLE_PATH`]; never a real path's id.
const UNREACHABLE: PathId = PathId::MAX;

/// What a history scan covers.
#[derive(Clone, Debug)]
pub struct HistoryOptions {
    /// Walk only this revision (a branch, tag, remote-tracking ref or commit) instead of
    /// every ref.
    pub branch: Option<String>,
    /// Only commits whose committer date is at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Only the newest N commits (by committer date) of the walk.
    pub max_commits: Option<usize>,
    /// Blobs bigger than this many bytes are skipped and listed in `skipped`.
    pub max_blob_size: u64,
    /// Also scan objects no ref reaches: every commit in the object database becomes a root
    /// (dangling commits get full provenance) and blobs no commit reaches are reported at
    /// [`UNREACHABLE_PATH`]. This audits the whole database, so `branch`, `since` and
    /// `max_commits` are ignored.
    pub all_objects: bool,
    /// Worker threads for reading and scanning blobs; 0 means one per core. Fewer run when
    /// the memory budget cannot fit them.
    pub threads: usize,
    /// What the scan may hold (see the module documentation).
    pub memory: MemoryBudget,
    /// Expand archives committed to history (zip families, tar, compressed files) and
    /// scan their members, named `path!member`.
    pub extract_archives: bool,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        HistoryOptions {
            branch: None,
            since: None,
            max_commits: None,
            max_blob_size: DEFAULT_MAX_BLOB_SIZE,
            all_objects: false,
            threads: 0,
            memory: MemoryBudget::default(),
            extract_archives: true,
        }
    }
}

/// The result of a history scan. `errors` are per-object failures the scan went past: a
/// caller must report them and must not call a scan with errors clean.
#[derive(Debug, Default)]
pub struct HistoryScan {
    /// One per (rule, fingerprint, path), sorted by path, position and rule. Each has
    /// `path: Origin::Git { blob_id, path }` (the blob that introduced the secret at that
    /// path) and `git: Some(..)`.
    pub findings: Vec<Finding>,
    /// Distinct text blobs read and scanned.
    pub blobs_scanned: u64,
    /// Bytes of those blobs (or of their archive members and decoded text) scanned.
    pub bytes_scanned: u64,
    /// Distinct blobs skipped as binary (a NUL byte in the first 8 KiB).
    pub binary_skipped: u64,
    /// Commits whose trees were audited.
    pub commits_walked: u64,
    /// Objects not read, with the reason (too large, submodules, refs to non-commits).
    pub skipped: Vec<Skipped>,
    /// Objects that could not be read; the scan went on without them.
    pub errors: Vec<GitError>,
    /// Set when the repository is a shallow clone: how far back the scan could see.
    pub shallow: Option<ShallowInfo>,
}

/// Scan every blob in the history of the repository at `repo_path` (see [`HistoryOptions`]).
///
/// Fails when the repository cannot be opened, `branch` does not resolve, or the history
/// needs more than the memory budget allows; missing or corrupt objects become entries of
/// [`HistoryScan::errors`]. A repository without commits
/// gives an empty, error-free result.
pub fn scan_history(
    repo_path: &Path,
    find: &Find<'_>,
    opts: &HistoryOptions,
) -> Result<HistoryScan, GitError> {
    let requested = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    let limits = Limits::new(&opts.memory, requested, opts.max_blob_size);
    if limits.plan.threads < requested {
        tracing::info!(
            "{} of {requested} threads fit --memory-budget {}",
            limits.plan.threads,
            opts.memory
        );
    }
    let repo = repo::open(repo_path)?;
    let ledger = IndexLedger::new(&opts.memory, repo_path);
    let packs = packs::sound_packs(repo.commondir());
    // The pack indexes are mapped and sorted once read: count them first.
    let packed = pack::packed_objects(&packs) * pack::BYTES_PER_PACKED_OBJECT;
    ledger.check(0, packed)?;
    let mut out = HistoryScan {
        shallow: repo::shallow_info(&repo),
        // A broken pack is reported first, then the scan reads whatever is still readable.
        errors: packs::check_packs(&repo, repo_path),
        ..HistoryScan::default()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(limits.plan.threads)
        .thread_name(|i| format!("unleak-git-{i}"))
        .build()
        .map_err(|e| GitError::Git {
            repo: repo_path.to_path_buf(),
            context: "starting scan threads".into(),
            message: e.to_string(),
        })?;
    let mut clock = Instant::now();
    let mut lap = |phase: &str| {
        tracing::debug!(
            phase,
            ms = clock.elapsed().as_millis() as u64,
            "history scan phase"
        );
        clock = Instant::now();
    };
    let roots = roots::roots(&repo, repo_path, opts, &mut out)?;
    lap("roots");
    let mut commits = walk::walk_commits(
        &repo,
        repo_path,
        &roots.commits,
        out.shallow.is_some(),
        &mut out.errors,
        (&ledger, packed),
    )?;
    if !opts.all_objects {
        commits = walk::select(commits, opts.since, opts.max_commits);
    }
    out.commits_walked = commits.len() as u64;
    lap("commit walk");
    let head_tree = repo
        .head()
        .and_then(|h| h.peel_to_tree())
        .map(|t| t.id())
        .ok();

    let mut paths = PathInterner::new();
    let held = packed + commits.len() as u64 * COMMIT_BYTES;
    let pairs = provenance::provenance(
        &pool,
        repo.path(),
        repo_path,
        &packs,
        &commits,
        head_tree,
        &mut paths,
        &mut out,
        (&limits, &ledger, held),
    )?;
    lap("provenance");
    // What stays from here on: the provenance map and the paths, then the list of wanted
    // blobs and the packs' delta forests.
    let held = held + pairs.len() as u64 * PAIR_BYTES + paths.len() as u64 * PATH_BYTES;
    ledger.check(
        (commits.len() + pairs.len()) as u64,
        held + (pairs.len() + roots.blobs.len()) as u64 * WANTED_BYTES,
    )?;

    let mut blobs: Vec<Oid> = pairs
        .iter()
        .filter(|(_, c)| c.commits > 0)
        .map(|((oid, _), _)| *oid)
        .collect();
    blobs.sort_unstable();
    blobs.dedup();
    let reachable: HashSet<Oid> = pairs.keys().map(|(oid, _)| *oid).collect();
    let unreachable: HashSet<Oid> = roots
        .blobs
        .into_iter()
        .filter(|oid| !reachable.contains(oid))
        .collect();
    drop(reachable);
    blobs.extend(unreachable.iter().copied());

    let findings = opts.memory.findings_allowance();
    let scanned = scan::scan_blobs(
        &pool,
        repo.path(),
        repo_path,
        &packs,
        &blobs,
        find,
        (
            &limits,
            &findings,
            opts.extract_archives.then(|| scan::archive_limits(&limits)),
        ),
    );
    drop(blobs);
    if scanned.over_budget {
        return Err(findings_over_budget(
            repo_path,
            &opts.memory,
            &findings,
            scanned.kept,
        ));
    }
    lap("blob scan");
    out.blobs_scanned = scanned.scanned;
    out.bytes_scanned = scanned.bytes;
    out.binary_skipped = scanned.binary;

    // Where each blob of interest (with findings or problems) sits in history.
    let interest: HashSet<Oid> = scanned
        .found
        .iter()
        .map(|(oid, _)| *oid)
        .chain(scanned.problems.iter().map(|(oid, _)| *oid))
        .collect();
    let places = provenance::places(pairs, &interest, &unreachable);

    fold::report_problems(
        repo_path,
        scanned.problems,
        &places,
        &paths,
        &limits,
        &mut out,
    );
    out.findings = fold::fold_findings(&repo, scanned.found, &places, &paths, &commits, &findings)
        .map_err(|kept| findings_over_budget(repo_path, &opts.memory, &findings, kept))?;
    lap("fold");
    Ok(out)
}

/// Bytes per walked commit: its node in the walk order (a vector that may be twice its
/// length) and its id in the set of commits seen.
const COMMIT_BYTES: u64 = 2 * std::mem::size_of::<CommitNode>() as u64 + hashed(20);
/// Bytes per (object, path) entry of a provenance map.
const PAIR_BYTES: u64 = hashed(std::mem::size_of::<((Oid, PathId), Carry)>());
/// Bytes per interned path: its node, its entry in its directory's table and its name
/// (twice; names average well under 32 bytes).
const PATH_BYTES: u64 = 2 * 24 + hashed(24) + 2 * (16 + 32);
/// Bytes per wanted blob: its id in the wanted list and the reachable set, and the pack
/// reader's delta-forest bookkeeping.
const WANTED_BYTES: u64 = 20 + hashed(20) + pack::BYTES_PER_WANTED;
/// Bytes per tree of a level being expanded: its entry in the sorted list of the level.
const LEVEL_NODE_BYTES: u64 = std::mem::size_of::<((Oid, PathId), Carry)>() as u64;

fn findings_over_budget(
    repo: &Path,
    budget: &MemoryBudget,
    findings: &Allowance,
    kept: u64,
) -> GitError {
    GitError::FindingsOverBudget {
        repo: repo.to_path_buf(),
        kept,
        share: findings.limit(),
        budget: *budget,
        // At least twice what filled the share: the findings not yet made are unknown.
        needed: MemoryBudget::needed_for_findings(findings.limit().saturating_mul(2)),
    }
}
