//! The whole-history audit: every blob of every ref, scanned once, with provenance.
//!
//! Owns: choosing the roots (refs, HEAD, stash entries, or the whole object database), the
//! commit walk, the provenance pass over trees, the parallel blob scan and folding findings
//! into one per (rule, secret fingerprint, path).
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
//!   delta chain resolved once from its base (see `pack`); the rest (loose objects,
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
//! Does not own: ranges and the index (range, staged), matching (the caller's [`Find`]).

use crate::budget::{hashed, IndexLedger, Limits};
use crate::pack;
use crate::paths::{PathId, PathInterner, ROOT};
use crate::repo::{self, read_blob, RawBlob, ShallowInfo, Skipped};
use crate::{Find, GitError};
use git2::{ErrorCode, ObjectType, Oid, Repository};
use rayon::prelude::*;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use unleak_archive::{expand, Event, Format, HEAD};
use unleak_core::{
    decode_utf16, finding_bytes, text_of, Allowance, Blob, Bytes, CommitFacts, Finding,
    Fingerprint, GitProvenance, MemoryBudget, Origin,
};

/// Blobs bigger than this are not read (100 MiB); they are listed in `skipped`.
pub const DEFAULT_MAX_BLOB_SIZE: u64 = 100 * 1024 * 1024;

/// The path reported for a blob that no walked commit reaches (only with `all_objects`).
pub const UNREACHABLE_PATH: &str = "(unreachable)";

/// The interned id standing for [`UNREACHABLE_PATH`]; never a real path's id.
const UNREACHABLE: PathId = PathId::MAX;

/// No commit carries this (a tree reached only as HEAD's, outside the walked commits).
const NO_COMMIT: u32 = u32::MAX;

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
    let packs = repo::sound_packs(repo.commondir());
    // The pack indexes are mapped and sorted once read: count them first.
    let packed = pack::packed_objects(&packs) * pack::BYTES_PER_PACKED_OBJECT;
    ledger.check(0, packed)?;
    let mut out = HistoryScan {
        shallow: repo::shallow_info(&repo),
        // A broken pack is reported first, then the scan reads whatever is still readable.
        errors: repo::check_packs(&repo, repo_path),
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
    let roots = roots(&repo, repo_path, opts, &mut out)?;
    lap("roots");
    let mut commits = walk_commits(
        &repo,
        repo_path,
        &roots.commits,
        out.shallow.is_some(),
        &mut out.errors,
        (&ledger, packed),
    )?;
    if !opts.all_objects {
        commits = select(commits, opts.since, opts.max_commits);
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
    let pairs = provenance(
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
    let scanned = scan_blobs(
        &pool,
        repo.path(),
        repo_path,
        &packs,
        &blobs,
        find,
        (
            &limits,
            &findings,
            opts.extract_archives.then(|| archive_limits(&limits)),
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
    for oid in &unreachable {
        if interest.contains(oid) {
            places.insert(*oid, vec![(UNREACHABLE, Carry::EMPTY)]);
        }
    }

    report_problems(
        repo_path,
        scanned.problems,
        &places,
        &paths,
        &limits,
        &mut out,
    );
    out.findings = fold_findings(&repo, scanned.found, &places, &paths, &commits, &findings)
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

/// Where the walk starts.
struct Roots {
    commits: Vec<Oid>,
    /// Every blob of the object database (only with `all_objects`).
    blobs: Vec<Oid>,
}

fn roots(
    repo: &Repository,
    shown: &Path,
    opts: &HistoryOptions,
    out: &mut HistoryScan,
) -> Result<Roots, GitError> {
    let mut roots = Roots {
        commits: Vec::new(),
        blobs: Vec::new(),
    };
    if opts.all_objects {
        let odb = repo
            .odb()
            .map_err(|e| GitError::git(shown, "opening the object database", &e))?;
        let mut all = Vec::new();
        odb.foreach(|oid| {
            all.push(*oid);
            true
        })
        .map_err(|e| GitError::git(shown, "listing the object database", &e))?;
        all.sort_unstable();
        all.dedup();
        for oid in all {
            match odb.read_header(oid) {
                Ok((_, ObjectType::Commit)) => roots.commits.push(oid),
                Ok((_, ObjectType::Blob)) => roots.blobs.push(oid),
                Ok(_) => {}
                Err(e) => out
                    .errors
                    .push(GitError::object(shown, "object", oid, None, &e)),
            }
        }
        return Ok(roots);
    }
    if let Some(spec) = &opts.branch {
        let commit = repo
            .revparse_single(spec)
            .and_then(|o| o.peel_to_commit())
            .map_err(|e| GitError::Revision {
                repo: shown.to_path_buf(),
                spec: spec.clone(),
                message: e.message().to_string(),
            })?;
        roots.commits.push(commit.id());
        return Ok(roots);
    }
    let refs = repo
        .references()
        .map_err(|e| GitError::git(shown, "listing references", &e))?;
    for reference in refs {
        let reference = match reference {
            Ok(r) => r,
            Err(e) => {
                out.errors
                    .push(GitError::git(shown, "reading a reference", &e));
                continue;
            }
        };
        let name = String::from_utf8_lossy(reference.name_bytes()).into_owned();
        match reference.peel(ObjectType::Commit) {
            Ok(commit) => roots.commits.push(commit.id()),
            Err(_) => match reference.peel(ObjectType::Any) {
                Ok(obj) => out.skipped.push(Skipped {
                    what: format!("ref `{name}`"),
                    why: format!(
                        "points to a {}, not a commit; scan with all objects to include it",
                        obj.kind().map_or("object", |k| k.str())
                    ),
                }),
                Err(e) => {
                    out.errors
                        .push(match reference.resolve().ok().and_then(|r| r.target()) {
                            Some(target) => GitError::Object {
                                repo: shown.to_path_buf(),
                                kind: "object",
                                oid: target.to_string(),
                                path: None,
                                message: format!("{} (the target of ref `{name}`)", e.message()),
                            },
                            None => GitError::Git {
                                repo: shown.to_path_buf(),
                                context: format!("resolving ref `{name}`"),
                                message: e.message().to_string(),
                            },
                        })
                }
            },
        }
    }
    // A detached HEAD is not under refs/; an unborn one has nothing to walk.
    if let Ok(commit) = repo.head().and_then(|h| h.peel_to_commit()) {
        roots.commits.push(commit.id());
    }
    // refs/stash names only the newest stash; older ones live in its reflog.
    if let Ok(log) = repo.reflog("refs/stash") {
        roots.commits.extend(log.iter().map(|e| e.id_new()));
    }
    roots.commits.sort_unstable();
    roots.commits.dedup();
    Ok(roots)
}

#[derive(Clone, Copy)]
struct CommitNode {
    id: Oid,
    tree: Oid,
    /// Committer time, seconds since the epoch.
    time: i64,
}

/// Every commit reachable from `roots`, parents before children. A depth-first walk of
/// our own rather than libgit2's revwalk, so that one unreadable commit costs only the
/// history behind it, not the whole walk.
fn walk_commits(
    repo: &Repository,
    shown: &Path,
    roots: &[Oid],
    shallow: bool,
    errors: &mut Vec<GitError>,
    (ledger, held): (&IndexLedger<'_>, u64),
) -> Result<Vec<CommitNode>, GitError> {
    struct Frame {
        node: CommitNode,
        parents: Vec<Oid>,
        next: usize,
    }
    let load =
        |oid: Oid, child: Option<Oid>, errors: &mut Vec<GitError>| match repo.find_commit(oid) {
            Ok(c) => Some(Frame {
                node: CommitNode {
                    id: oid,
                    tree: c.tree_id(),
                    time: c.time().seconds(),
                },
                parents: c.parent_ids().collect(),
                next: 0,
            }),
            // A shallow clone's edge: libgit2 already cuts parents listed in .git/shallow, but
            // a clone that lost its shallow file is still not a corrupt one.
            Err(e) if shallow && child.is_some() && e.code() == ErrorCode::NotFound => None,
            Err(e) => {
                let mut err = GitError::object(shown, "commit", oid, None, &e);
                if let (GitError::Object { message, .. }, Some(child)) = (&mut err, child) {
                    message.push_str(&format!(" (parent of commit {child})"));
                }
                errors.push(err);
                None
            }
        };
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut order = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    for &root in roots {
        if !seen.insert(root) {
            continue;
        }
        stack.extend(load(root, None, errors));
        while let Some(top) = stack.last_mut() {
            if let Some(&parent) = top.parents.get(top.next) {
                top.next += 1;
                let child = top.node.id;
                if seen.insert(parent) {
                    stack.extend(load(parent, Some(child), errors));
                }
            } else if let Some(done) = stack.pop() {
                order.push(done.node);
                if order.len().is_multiple_of(4096) {
                    ledger.check(order.len() as u64, held + order.len() as u64 * COMMIT_BYTES)?;
                }
            }
        }
    }
    Ok(order)
}

/// Apply `since` and `max_commits`, keeping parents-before-children order.
fn select(mut commits: Vec<CommitNode>, since: Option<i64>, max: Option<usize>) -> Vec<CommitNode> {
    if let Some(since) = since {
        commits.retain(|c| c.time >= since);
    }
    if let Some(max) = max.filter(|&m| m < commits.len()) {
        let mut newest: Vec<usize> = (0..commits.len()).collect();
        newest.sort_unstable_by_key(|&i| std::cmp::Reverse((commits[i].time, i)));
        newest.truncate(max);
        newest.sort_unstable();
        commits = newest.into_iter().map(|i| commits[i]).collect();
    }
    commits
}

/// What flows from commits down to trees and blobs.
#[derive(Clone, Copy, Debug)]
struct Carry {
    /// How many walked commits hold the object at this path.
    commits: u64,
    /// The earliest of them (index into the parents-first commit list).
    first: u32,
    /// Whether HEAD holds it at this path.
    in_head: bool,
}

impl Carry {
    const EMPTY: Carry = Carry {
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

/// A tree's raw content (checked to parse), or why it could not be read. Raw and shared
/// with the pack reader's cache, so a batch of listings costs what the trees weigh.
type TreeListing = Result<Arc<[u8]>, git2::Error>;

/// One entry of a tree, borrowed from its raw form.
struct TreeEntry<'a> {
    mode: u32,
    id: Oid,
    name: &'a [u8],
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
fn provenance(
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

/// The entries of tree `id`, read raw from the object database.
fn read_tree(repo: &Repository, id: Oid) -> TreeListing {
    let odb = repo.odb()?;
    let object = odb.read(id)?;
    if object.kind() != ObjectType::Tree {
        return Err(git2::Error::from_str(&format!(
            "expected a tree, found a {}",
            object.kind().str()
        )));
    }
    match parse_tree(object.data()) {
        Some(_) => Ok(object.data().into()),
        None => Err(git2::Error::from_str(&format!("tree {id} is malformed"))),
    }
}

/// Parse a raw tree: entries of `MODE SP NAME NUL` and a 20-byte id.
fn parse_tree(mut data: &[u8]) -> Option<Vec<TreeEntry<'_>>> {
    let mut entries = Vec::new();
    while !data.is_empty() {
        let space = memchr::memchr(b' ', data)?;
        let mode = std::str::from_utf8(&data[..space]).ok()?;
        let mode = u32::from_str_radix(mode, 8).ok()?;
        let rest = &data[space + 1..];
        let nul = memchr::memchr(0, rest)?;
        let name = &rest[..nul];
        let id = rest.get(nul + 1..nul + 21)?;
        if name.is_empty() {
            return None;
        }
        entries.push(TreeEntry {
            mode,
            id: Oid::from_bytes(id).ok()?,
            name,
        });
        data = &rest[nul + 21..];
    }
    Some(entries)
}

/// Why a blob was not scanned.
enum Problem {
    TooLarge(u64),
    Failed(String),
    /// A member of an archive blob (its chain joined by `!`), or the archive itself (an
    /// empty chain), not read.
    Archive(String, unleak_archive::Skip),
}

/// What the workers bring back: findings per blob (one per rule and secret, origins not yet
/// set) and counters.
#[derive(Default)]
struct Scanned {
    found: Vec<(Oid, Vec<Finding>)>,
    problems: Vec<(Oid, Problem)>,
    scanned: u64,
    bytes: u64,
    binary: u64,
    /// Findings held (each charged to the findings share).
    kept: u64,
    /// The findings share ran out: the scan stopped and its findings are incomplete.
    over_budget: bool,
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
fn archive_limits(limits: &Limits) -> unleak_archive::Limits {
    unleak_archive::Limits {
        max_member_size: limits.max_blob_flag,
        max_held: limits.plan.blob_bytes() / 2,
        ..unleak_archive::Limits::default()
    }
}

fn scan_blobs(
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

fn path_of(paths: &PathInterner, id: PathId) -> String {
    if id == UNREACHABLE {
        UNREACHABLE_PATH.to_string()
    } else {
        paths.path(id)
    }
}

/// Turn unread blobs into `skipped` and `errors`, each named with the path that
/// introduced it.
fn report_problems(
    shown: &Path,
    problems: Vec<(Oid, Problem)>,
    places: &HashMap<Oid, Vec<(PathId, Carry)>>,
    paths: &PathInterner,
    limits: &Limits,
    out: &mut HistoryScan,
) {
    for (oid, problem) in problems {
        let at = places
            .get(&oid)
            .and_then(|p| p.first())
            .map(|(id, _)| path_of(paths, *id));
        match problem {
            Problem::TooLarge(size) => out.skipped.push(Skipped {
                what: match &at {
                    Some(p) => format!("blob {oid} (at `{p}`)"),
                    None => format!("blob {oid}"),
                },
                why: if size <= limits.max_blob_flag {
                    format!(
                        "{size} bytes, over the {} a worker may hold within --memory-budget \
                         (raise it, or lower --threads)",
                        Bytes(limits.max_blob)
                    )
                } else {
                    format!("{size} bytes, over the blob size limit")
                },
            }),
            Problem::Archive(member, reason) => out.skipped.push(Skipped {
                what: match (&at, member.is_empty()) {
                    (Some(p), true) => format!("blob {oid} (at `{p}`)"),
                    (Some(p), false) => format!("blob {oid} (at `{p}!{member}`)"),
                    (None, true) => format!("blob {oid}"),
                    (None, false) => format!("blob {oid} (member `{member}`)"),
                },
                why: reason.to_string(),
            }),
            Problem::Failed(message) => out.errors.push(GitError::Object {
                repo: shown.to_path_buf(),
                kind: "blob",
                oid: oid.to_string(),
                path: at,
                message,
            }),
        }
    }
}

/// One finding per (rule, fingerprint, path) across history.
struct Folded {
    /// The occurrence in the earliest blob that held the secret at this path.
    finding: Finding,
    blob: Oid,
    first: u32,
    commits: u64,
    in_head: bool,
}

/// Fold per-blob findings into one per (rule, fingerprint, path). Each folded finding is
/// charged to `allowance` as it is made; `Err` carries how many were kept when it ran out.
fn fold_findings(
    repo: &Repository,
    found: Vec<(Oid, Vec<Finding>)>,
    places: &HashMap<Oid, Vec<(PathId, Carry)>>,
    paths: &PathInterner,
    commits: &[CommitNode],
    allowance: &Allowance,
) -> Result<Vec<Finding>, u64> {
    type Key = (Arc<str>, Fingerprint, PathId);
    let mut folded: HashMap<Key, Folded> = HashMap::new();
    // HEAD-only places (outside the walked commits) can only mark what the walk found.
    let mut head_only: Vec<Key> = Vec::new();
    for (oid, unique) in found {
        let Some(places) = places.get(&oid) else {
            continue;
        };
        for &(path, carry) in places {
            for f in &unique {
                let key = (f.rule_id.clone(), f.fingerprint.clone(), path);
                if carry.commits == 0 && path != UNREACHABLE {
                    if carry.in_head {
                        head_only.push(key);
                    }
                    continue;
                }
                let slot = folded.entry(key).or_insert_with(|| Folded {
                    finding: f.clone(),
                    blob: oid,
                    first: carry.first,
                    commits: 0,
                    in_head: false,
                });
                if carry.first < slot.first {
                    slot.finding = f.clone();
                    slot.blob = oid;
                    slot.first = carry.first;
                }
                slot.commits += carry.commits;
                slot.in_head |= carry.in_head;
            }
        }
    }
    for key in head_only {
        if let Some(slot) = folded.get_mut(&key) {
            slot.in_head = true;
        }
    }

    let mut all_paths: HashMap<(Arc<str>, Fingerprint), BTreeSet<String>> = HashMap::new();
    for (rule, fingerprint, path) in folded.keys() {
        all_paths
            .entry((rule.clone(), fingerprint.clone()))
            .or_default()
            .insert(path_of(paths, *path));
    }
    let mut authors: HashMap<u32, CommitFacts> = HashMap::new();
    let mut findings: Vec<Finding> = Vec::with_capacity(folded.len());
    for ((rule, fingerprint, path), slot) in folded {
        let f = {
            let introduced = authors
                .entry(slot.first)
                .or_insert_with(|| introduced(repo, commits, slot.first))
                .clone();
            let mut f = slot.finding;
            // A member of an archive blob keeps its member chain inside the blob's path.
            f.path = std::mem::replace(&mut f.path, Origin::Stdin).rebase(Origin::Git {
                blob_id: slot.blob.to_string(),
                path: PathBuf::from(path_of(paths, path)),
            });
            let paths = all_paths[&(rule, fingerprint)].iter().cloned().collect();
            let secrets = [&f.secret];
            f.git = Some(GitProvenance::new(
                introduced,
                paths,
                slot.commits as usize,
                slot.in_head,
                &secrets,
            ));
            f
        };
        if !allowance.take(finding_bytes(&f)) {
            return Err(findings.len() as u64);
        }
        findings.push(f);
    }
    // The secrets of one blob or one commit are masked in each other's paths and texts.
    unleak_core::hide_shared(&mut findings);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(findings)
}

fn introduced(repo: &Repository, commits: &[CommitNode], index: u32) -> CommitFacts {
    match commits.get(index as usize) {
        Some(node) => repo::commit_facts(repo, node.id),
        None => CommitFacts::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_trees_parse_and_malformed_ones_do_not() {
        let mut raw = Vec::new();
        raw.extend_from_slice(b"100644 a.txt\0");
        raw.extend_from_slice(&[1u8; 20]);
        raw.extend_from_slice(b"40000 src\0");
        raw.extend_from_slice(&[2u8; 20]);
        raw.extend_from_slice(b"160000 vendor\0");
        raw.extend_from_slice(&[3u8; 20]);
        let entries = parse_tree(&raw).unwrap();
        let got: Vec<(u32, &[u8], Oid)> = entries.iter().map(|e| (e.mode, e.name, e.id)).collect();
        assert_eq!(
            got,
            vec![
                (0o100644, &b"a.txt"[..], Oid::from_bytes(&[1; 20]).unwrap()),
                (0o040000, &b"src"[..], Oid::from_bytes(&[2; 20]).unwrap()),
                (0o160000, &b"vendor"[..], Oid::from_bytes(&[3; 20]).unwrap()),
            ]
        );
        assert_eq!(parse_tree(b"").map(|e| e.len()), Some(0));
        // Cut-off id, no NUL, a mode that is not octal, an empty name.
        assert!(parse_tree(&raw[..raw.len() - 1]).is_none());
        assert!(parse_tree(b"100644 a.txt").is_none());
        assert!(parse_tree(b"10064x a\0aaaaaaaaaaaaaaaaaaaa").is_none());
        assert!(parse_tree(b"100644 \0aaaaaaaaaaaaaaaaaaaa").is_none());
    }
}
