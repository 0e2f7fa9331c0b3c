//! What a change set adds: the shared core of range and staged scans.
//!
//! Owns: listing the files that differ between two trees (our own tree walk, so no diff
//! driver, textconv or attribute is ever consulted), the "moved line" rule and scanning
//! the new versions of changed files for secrets on new lines.
//!
//! The moved-line rule: a line of a new file version is *new* unless its exact content
//! (ignoring the line ending, `\n` or `\r\n`) occurs as a line in the old version of any
//! changed or deleted file. So lines that were moved inside a file, moved to another
//! changed file, or kept through a rename are not new; a line copied into a new file from a
//! file the change did not touch is (the secret has spread). Line contents are compared by
//! a 64-bit hash, so memory stays small on large changes.
//!
//! Each new file version is scanned whole, so multi-line secrets and line/column positions
//! are those of the real file; a finding is new when any line of its secret is new, and
//! moved otherwise ([`DiffScan::moved`], with the old paths that held the line: whether a
//! move keeps its old verdict is the caller's question, since allowlists are not ours).
//!
//! An archive (zip families, tar, compressed files; see `unleak-archive`) is expanded on
//! both sides when [`ChangeOptions::extract_archives`] is on: each text member of a new
//! version is scanned whole as `path!member`, and the members of old versions feed the
//! pool under the archive's path, so a secret an archive already held is moved, not new.
//!
//! Does not own: choosing the two sides (range, staged), provenance, or archive formats
//! and bounds (`unleak-archive`).

use crate::repo::{read_blob, RawBlob, ShallowInfo, Skipped};
use crate::Find;
use crate::{GitError, DEFAULT_MAX_BLOB_SIZE};
use git2::{Odb, OdbObject, Oid, Repository, Tree};
use std::collections::hash_map::DefaultHasher;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use unleak_archive::{expand, Event, Format, HEAD};
use unleak_core::{text_of, Blob, Finding, MemoryBudget, Origin};

/// How a range or staged scan reads the files a change touches.
#[derive(Clone, Copy, Debug)]
pub struct ChangeOptions {
    /// What the scan may hold: an archive is held whole while its members are read, in
    /// at most half of one worker's blob share (as in a history scan).
    pub memory: MemoryBudget,
    /// Expand archives the change touches (zip families, tar, compressed files) and scan
    /// their members, named `path!member`. Off, they are binary files, counted as skipped.
    pub extract_archives: bool,
}

impl Default for ChangeOptions {
    fn default() -> Self {
        ChangeOptions {
            memory: MemoryBudget::default(),
            extract_archives: true,
        }
    }
}

/// What every read of a change's blobs is bounded by.
pub(crate) struct Reading {
    /// Blobs bigger than this are not read (listed as skipped).
    pub(crate) max_size: u64,
    /// The bounds of archives; `None` leaves them binary.
    archives: Option<unleak_archive::Limits>,
}

impl Reading {
    pub(crate) fn new(opts: &ChangeOptions) -> Reading {
        let plan = opts.memory.workers(1);
        Reading {
            max_size: DEFAULT_MAX_BLOB_SIZE,
            archives: opts.extract_archives.then(|| unleak_archive::Limits {
                max_member_size: DEFAULT_MAX_BLOB_SIZE,
                max_held: plan.blob_bytes() / 2,
                ..unleak_archive::Limits::default()
            }),
        }
    }

    /// The binary blob `oid` read whole, with its format, when archives are expanded and
    /// it is one (git calls archives binary, so `read_blob` did not keep it).
    pub(crate) fn archive<'o>(
        &self,
        odb: &'o Odb,
        oid: Oid,
    ) -> Result<Option<(Format, OdbObject<'o>)>, git2::Error> {
        if self.archives.is_none() {
            return Ok(None);
        }
        let object = odb.read(oid)?;
        let data = object.data();
        Ok(Format::detect(&data[..data.len().min(HEAD)]).map(|f| (f, object)))
    }

    /// Hand each text member of the archive `data` at `path` to `visit` as `path!member`;
    /// the members not read go to `skipped`, naming the member and the blob.
    pub(crate) fn members(
        &self,
        (format, data): (Format, &[u8]),
        (path, oid): (&str, Oid),
        skipped: &mut Vec<Skipped>,
        mut visit: impl FnMut(Origin, &[u8]),
    ) {
        let Some(limits) = &self.archives else { return };
        expand(
            format,
            Cursor::new(data),
            limits,
            &mut |event| match event {
                Event::Member { path: chain, data } => {
                    if let Some(text) = text_of(data) {
                        let origin = chain
                            .iter()
                            .fold(Origin::File(PathBuf::from(path)), |o, m| {
                                o.member(m.as_str())
                            });
                        visit(origin, &text);
                    }
                }
                Event::Skipped {
                    path: chain,
                    reason,
                } => skipped.push(Skipped {
                    what: if chain.is_empty() {
                        format!("`{path}` (blob {oid})")
                    } else {
                        format!("`{path}!{}` (blob {oid})", chain.join("!"))
                    },
                    why: reason.to_string(),
                }),
            },
        );
    }
}

/// The result of a range or staged scan. `errors` are objects that could not be read; a
/// caller must report them and must not call such a scan clean.
#[derive(Debug, Default)]
pub struct DiffScan {
    /// Secrets on new lines, sorted by path, position and rule. `path` is
    /// `Origin::File(repo-relative path)`, or a member of one (`path!member`) for an
    /// expanded archive, and the location is in the new version of the file or member.
    /// Range findings carry `git: Some(..)` naming the commit of the range that
    /// introduced the secret at that path (an archive's path, for a member); staged
    /// findings carry `git: None`.
    pub findings: Vec<Finding>,
    /// New file versions read and scanned (every changed text file: a moved line is
    /// scanned too, see `moved`).
    pub files_scanned: u64,
    /// Bytes handed to the matcher: those file versions, or the excerpts of them scanned.
    pub bytes_scanned: u64,
    /// Lines that count as new under the moved-line rule, over all changed files.
    pub lines_added: u64,
    /// Changed files skipped as binary (a NUL byte in the first 8 KiB, and no archive
    /// that is expanded).
    pub binary_skipped: u64,
    /// Files not read, with the reason (too large, submodules, unmerged paths).
    pub skipped: Vec<Skipped>,
    /// Objects that could not be read; the scan went on without them.
    pub errors: Vec<GitError>,
    /// The old side: the merge-base (range) or the HEAD commit (staged; `None` before
    /// the first commit).
    pub base: Option<String>,
    /// The new side's commit (range); `None` for staged scans.
    pub head: Option<String>,
    /// Commits in the range (reachable from HEAD, not from the merge-base); 0 for staged.
    pub commits: u64,
    /// Set when the repository is a shallow clone.
    pub shallow: Option<ShallowInfo>,
    /// Secrets on lines the moved-line rule calls moved (every line of the secret was
    /// already in an old version of a changed or deleted file). Not new by themselves: the
    /// caller decides whether the move kept the secret's verdict (a move out of an
    /// allowlisted path did not) and uses them to tell a renamed known secret from a fixed
    /// one.
    pub moved: Vec<MovedLine>,
}

/// A secret on a moved line, and the paths whose old versions held that line.
#[derive(Debug)]
pub struct MovedLine {
    /// The secret, placed in the new version of its file.
    pub finding: Finding,
    /// Sorted; never empty.
    pub from: Vec<String>,
}

/// One changed path: its blob before and after (`None` where absent).
#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) path: String,
    pub(crate) old: Option<Oid>,
    pub(crate) new: Option<Oid>,
}

const TREE: i32 = 0o040000;
const GITLINK: i32 = 0o160000;

/// Append the blob-level differences between `old` and `new` (either may be absent) under
/// `prefix`. Unreadable subtrees become errors.
pub(crate) fn tree_changes(
    repo: &Repository,
    shown: &Path,
    old: Option<&Tree>,
    new: Option<&Tree>,
    prefix: &[u8],
    changes: &mut Vec<Change>,
    out: &mut DiffScan,
) {
    let entries = |tree: Option<&Tree>| -> BTreeMap<Vec<u8>, (Oid, i32)> {
        tree.map(|t| {
            t.iter()
                .map(|e| (e.name_bytes().to_vec(), (e.id(), e.filemode())))
                .collect()
        })
        .unwrap_or_default()
    };
    let old_entries = entries(old);
    let new_entries = entries(new);
    let names: BTreeMap<&[u8], ()> = old_entries
        .keys()
        .chain(new_entries.keys())
        .map(|k| (k.as_slice(), ()))
        .collect();
    for name in names.keys() {
        let before = old_entries.get(*name).copied();
        let after = new_entries.get(*name).copied();
        if before == after {
            continue;
        }
        let path = if prefix.is_empty() {
            name.to_vec()
        } else {
            [prefix, b"/", name].concat()
        };
        let shown_path = String::from_utf8_lossy(&path).into_owned();
        let load = |side: Option<(Oid, i32)>, out: &mut DiffScan| match side {
            Some((oid, TREE)) => match repo.find_tree(oid) {
                Ok(t) => Some(t),
                Err(e) => {
                    out.errors.push(GitError::object(
                        shown,
                        "tree",
                        oid,
                        Some(shown_path.clone()),
                        &e,
                    ));
                    None
                }
            },
            _ => None,
        };
        let old_tree = load(before, out);
        let new_tree = load(after, out);
        if old_tree.is_some() || new_tree.is_some() {
            tree_changes(
                repo,
                shown,
                old_tree.as_ref(),
                new_tree.as_ref(),
                &path,
                changes,
                out,
            );
        }
        let blob = |side: Option<(Oid, i32)>| side.filter(|(_, m)| *m != TREE && *m != GITLINK);
        if let Some((_, GITLINK)) = after {
            out.skipped.push(submodule(&shown_path));
        }
        let (old_blob, new_blob) = (blob(before).map(|b| b.0), blob(after).map(|b| b.0));
        if (old_blob.is_some() || new_blob.is_some()) && old_blob != new_blob {
            changes.push(Change {
                path: shown_path,
                old: old_blob,
                new: new_blob,
            });
        }
    }
}

pub(crate) fn submodule(path: &str) -> Skipped {
    Skipped {
        what: format!("submodule `{path}`"),
        why: "a gitlink to a commit of another repository; scan that repository on its own".into(),
    }
}

/// Lines of old file versions, by content hash, with the paths that held each: what the
/// moved-line rule compares new lines with.
#[derive(Default)]
pub(crate) struct Pool {
    paths: Vec<String>,
    /// The first path holding each line inline, more in `more`: most lines have one
    /// holder, so most entries allocate nothing.
    lines: HashMap<u64, (u32, Option<Vec<u32>>), Premixed>,
}

/// The hasher of [`Pool`]'s table. Its keys are line hashes already, so SipHash over them
/// again only cost time (a tenth of a range guard); one folded multiply with a random
/// per-pool seed spreads them instead, so lines chosen to share a table's low bits cannot
/// slow a guard down.
#[derive(Clone)]
struct Premixed(u64);

impl Default for Premixed {
    fn default() -> Self {
        Premixed(RandomState::new().hash_one(0u64))
    }
}

impl BuildHasher for Premixed {
    type Hasher = PremixedHasher;
    fn build_hasher(&self) -> PremixedHasher {
        PremixedHasher(self.0)
    }
}

struct PremixedHasher(u64);

impl Hasher for PremixedHasher {
    fn write_u64(&mut self, key: u64) {
        let m = u128::from(key ^ self.0) * 0x9E37_79B9_7F4A_7C15;
        self.0 = (m as u64) ^ ((m >> 64) as u64);
    }

    // Only `u64` keys are hashed; bytes are folded in a word at a time all the same.
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Pool {
    fn add(&mut self, path: &str, hashes: &[u64]) {
        let index = match self.paths.iter().position(|p| p == path) {
            Some(i) => i,
            None => {
                self.paths.push(path.to_string());
                self.paths.len() - 1
            }
        } as u32;
        for &hash in hashes {
            match self.lines.entry(hash) {
                Entry::Vacant(v) => {
                    v.insert((index, None));
                }
                Entry::Occupied(mut o) => {
                    let (first, more) = o.get_mut();
                    if *first != index && !more.as_ref().is_some_and(|m| m.contains(&index)) {
                        more.get_or_insert_with(Vec::new).push(index);
                    }
                }
            }
        }
    }

    fn holds(&self, hash: u64) -> bool {
        self.lines.contains_key(&hash)
    }

    /// The indices of the paths holding the line, first one first.
    fn holders(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        self.lines
            .get(&hash)
            .into_iter()
            .flat_map(|(first, more)| std::iter::once(*first).chain(more.iter().flatten().copied()))
    }

    /// Add the lines of the blob `oid`, an old version of `path`, from `cache` when it
    /// has them. An archive's lines are those of all its text members.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_blob(
        &mut self,
        odb: &Odb,
        shown: &Path,
        path: &str,
        oid: Oid,
        reading: &Reading,
        cache: &mut LineCache,
        out: &mut DiffScan,
    ) {
        if let Some(hashes) = cache.get(oid) {
            self.add(path, &hashes);
            return;
        }
        let error = |e: &git2::Error| GitError::object(shown, "blob", oid, Some(path.into()), e);
        match read_blob(odb, oid, reading.max_size) {
            Ok(RawBlob::Text(object)) => {
                let hashes: Rc<[u64]> = lines(object.data()).map(line_hash).collect();
                self.add(path, &hashes);
                cache.put(oid, hashes);
            }
            Ok(RawBlob::Binary) => match reading.archive(odb, oid) {
                Ok(Some((format, object))) => {
                    let mut hashes = Vec::new();
                    // What an old archive could not give only leaves more lines new.
                    let mut unread = Vec::new();
                    reading.members((format, object.data()), (path, oid), &mut unread, |_, m| {
                        hashes.extend(lines(m).map(line_hash))
                    });
                    let hashes: Rc<[u64]> = hashes.into();
                    self.add(path, &hashes);
                    cache.put(oid, hashes);
                }
                Ok(None) => cache.put(oid, Rc::from([])),
                Err(e) => out.errors.push(error(&e)),
            },
            // Old versions only narrow what counts as new; one that cannot be read leaves
            // more lines new, never fewer.
            Ok(RawBlob::TooLarge(_)) => cache.put(oid, Rc::from([])),
            Err(e) => out.errors.push(error(&e)),
        }
    }

    /// Read the old side of each of `changes` into a pool, plus `extra` old versions
    /// (path, blob), taking the lines of blobs `cache` has from it.
    pub(crate) fn of_old_sides(
        odb: &Odb,
        shown: &Path,
        changes: &[Change],
        extra: &[(String, Oid)],
        reading: &Reading,
        cache: &mut LineCache,
        out: &mut DiffScan,
    ) -> Pool {
        let mut pool = Pool::default();
        let sides = changes
            .iter()
            .filter_map(|c| c.old.map(|oid| (c.path.as_str(), oid)))
            .chain(extra.iter().map(|(p, oid)| (p.as_str(), *oid)));
        for (path, oid) in sides {
            pool.add_blob(odb, shown, path, oid, reading, cache, out);
        }
        pool
    }
}

/// The line hashes of the blobs that a walk over consecutive commits read for the last
/// two commits: the new side of a commit is usually the old side of the next one, so it
/// is read and hashed once, not twice. Older entries are dropped, so memory stays at
/// about two commits' worth of lines.
#[derive(Default)]
pub(crate) struct LineCache {
    current: HashMap<Oid, Rc<[u64]>>,
    previous: HashMap<Oid, Rc<[u64]>>,
}

impl LineCache {
    /// The hashes of `lines(blob)` in order; empty for a binary or too large blob.
    fn get(&mut self, oid: Oid) -> Option<Rc<[u64]>> {
        if let Some(h) = self.current.get(&oid) {
            return Some(h.clone());
        }
        let h = self.previous.remove(&oid)?;
        self.current.insert(oid, h.clone());
        Some(h)
    }

    fn put(&mut self, oid: Oid, hashes: Rc<[u64]>) {
        self.current.insert(oid, hashes);
    }

    /// Start the next commit: what neither it nor the one before read is dropped.
    pub(crate) fn next_commit(&mut self) {
        self.previous = std::mem::take(&mut self.current);
    }
}

/// Scan the new versions of `changes` for secrets on new lines (see the module docs), with
/// the old sides of `changes` as the pool.
pub(crate) fn scan_changes(
    repo: &Repository,
    shown: &Path,
    changes: &[Change],
    find: &Find<'_>,
    reading: &Reading,
    out: &mut DiffScan,
) {
    let odb = match repo.odb() {
        Ok(o) => o,
        Err(e) => {
            out.errors
                .push(GitError::git(shown, "opening the object database", &e));
            return;
        }
    };
    let pool = Pool::of_old_sides(
        &odb,
        shown,
        changes,
        &[],
        reading,
        &mut LineCache::default(),
        out,
    );
    scan_new_sides(&odb, shown, changes, find, reading, &[&pool], out);
}

/// Scan the new versions of `changes`: a finding with a line that no pool holds goes to
/// `out.findings`; one whose every line some pool holds goes to `out.moved`, with the paths
/// that held its first line.
pub(crate) fn scan_new_sides(
    odb: &Odb,
    shown: &Path,
    changes: &[Change],
    find: &Find<'_>,
    reading: &Reading,
    pools: &[&Pool],
    out: &mut DiffScan,
) {
    for change in changes {
        match read_new_side(odb, shown, change, reading, out) {
            Some(NewSide::Text(object)) => {
                let origin = Origin::File(PathBuf::from(&change.path));
                judge(origin, object.data(), find, pools, true, out);
            }
            Some(NewSide::Archive(format, object)) => each_member(
                reading,
                change,
                (format, &object),
                out,
                |origin, data, out| judge(origin, data, find, pools, true, out),
            ),
            None => {}
        }
    }
    out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    out.moved
        .sort_by(|a, b| a.finding.sort_key().cmp(&b.finding.sort_key()));
}

/// Scan one new file version (or archive member) whole: a finding with a line that no
/// pool holds goes to `out.findings`; with `keep_moved`, one whose every line some pool
/// holds goes to `out.moved`, with the paths that held its first line.
fn judge(
    origin: Origin,
    data: &[u8],
    find: &Find<'_>,
    pools: &[&Pool],
    keep_moved: bool,
    out: &mut DiffScan,
) {
    let hashes: Vec<u64> = lines(data).map(line_hash).collect();
    let is_new: Vec<bool> = hashes
        .iter()
        .map(|h| pools.iter().all(|p| !p.holds(*h)))
        .collect();
    out.lines_added += is_new.iter().filter(|n| **n).count() as u64;
    out.files_scanned += 1;
    out.bytes_scanned += data.len() as u64;
    let blob = Blob::new(origin, data);
    for f in find(&blob) {
        let new = (f.location.line..=f.location.end_line)
            .any(|l| is_new.get(l - 1).copied().unwrap_or(false));
        if new {
            out.findings.push(f);
            continue;
        }
        if !keep_moved {
            continue;
        }
        let mut from: Vec<String> = Vec::new();
        if let Some(h) = hashes.get(f.location.line - 1) {
            for pool in pools {
                for i in pool.holders(*h) {
                    let path = &pool.paths[i as usize];
                    if !from.contains(path) {
                        from.push(path.clone());
                    }
                }
            }
        }
        from.sort();
        out.moved.push(MovedLine { finding: f, from });
    }
}

/// Hand each text member of the new archive version of `change` to `visit`, listing the
/// members that were not read.
fn each_member(
    reading: &Reading,
    change: &Change,
    (format, object): (Format, &OdbObject<'_>),
    out: &mut DiffScan,
    mut visit: impl FnMut(Origin, &[u8], &mut DiffScan),
) {
    let oid = object.id();
    let mut skipped = Vec::new();
    reading.members(
        (format, object.data()),
        (&change.path, oid),
        &mut skipped,
        |origin, data| visit(origin, data, out),
    );
    out.skipped.append(&mut skipped);
}

/// Lines of context kept around each run of new lines in an excerpt: enough for a rule
/// that reads a neighbouring line (a key id above its secret).
const EXCERPT_CONTEXT: usize = 3;

/// Like [`scan_new_sides`] for the intermediate commits of a range, where only what is
/// new matters: a file without a new line is not scanned, and only the runs of new lines
/// (with [`EXCERPT_CONTEXT`] lines around them) are, so a long range costs about what its
/// patches hold, not what its files hold. Findings are placed in the whole file; a secret
/// on old lines only is not reported (`out.moved` stays as it was).
///
/// The line hashes of each text blob read go to `cache`, for the next commit's old sides.
#[allow(clippy::too_many_arguments)]
pub(crate) fn scan_new_lines(
    odb: &Odb,
    shown: &Path,
    changes: &[Change],
    find: &Find<'_>,
    reading: &Reading,
    pools: &[&Pool],
    cache: &mut LineCache,
    out: &mut DiffScan,
) {
    for change in changes {
        let object = match read_new_side(odb, shown, change, reading, out) {
            Some(NewSide::Text(object)) => object,
            // Members are scanned whole: an archive has no patch to take an excerpt of.
            Some(NewSide::Archive(format, object)) => {
                each_member(
                    reading,
                    change,
                    (format, &object),
                    out,
                    |origin, data, out| judge(origin, data, find, pools, false, out),
                );
                continue;
            }
            None => continue,
        };
        let data = object.data();
        let spans: Vec<(usize, usize)> = line_spans(data).collect();
        let hashes: Rc<[u64]> = spans
            .iter()
            .map(|&(a, b)| {
                let line = &data[a..b];
                line_hash(line.strip_suffix(b"\r").unwrap_or(line))
            })
            .collect();
        let is_new: Vec<bool> = hashes
            .iter()
            .map(|h| pools.iter().all(|p| !p.holds(*h)))
            .collect();
        if let Some(oid) = change.new {
            cache.put(oid, hashes);
        }
        let added = is_new.iter().filter(|n| **n).count();
        if added == 0 {
            continue;
        }
        out.lines_added += added as u64;
        out.files_scanned += 1;
        // The excerpt: kept lines in order, a blank line where lines were left out, and
        // for each excerpt line the 0-based line of the file it came from.
        let keep: Vec<bool> = (0..spans.len())
            .map(|i| {
                let lo = i.saturating_sub(EXCERPT_CONTEXT);
                let hi = (i + EXCERPT_CONTEXT).min(spans.len() - 1);
                is_new[lo..=hi].iter().any(|n| *n)
            })
            .collect();
        let mut excerpt = Vec::new();
        let mut origin: Vec<Option<usize>> = Vec::new();
        let mut starts: Vec<usize> = Vec::new();
        for (i, &(a, b)) in spans.iter().enumerate() {
            if !keep[i] {
                continue;
            }
            if i > 0 && !keep[i - 1] && !origin.is_empty() {
                starts.push(excerpt.len());
                origin.push(None);
                excerpt.push(b'\n');
            }
            starts.push(excerpt.len());
            origin.push(Some(i));
            excerpt.extend_from_slice(&data[a..b]);
            excerpt.push(b'\n');
        }
        out.bytes_scanned += excerpt.len() as u64;
        let blob = Blob::new(Origin::File(PathBuf::from(&change.path)), &excerpt);
        for mut f in find(&blob) {
            let (first, last) = (f.location.line - 1, f.location.end_line - 1);
            let (Some(Some(from)), Some(Some(to))) = (origin.get(first), origin.get(last)) else {
                continue;
            };
            // One run of the file: the secret does not straddle a left-out stretch.
            if to - from != last - first || !(*from..=*to).any(|l| is_new[l]) {
                continue;
            }
            f.shift(spans[*from].0 - starts[first], from - first + 1, 1);
            out.findings.push(f);
        }
    }
    out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

/// A new file version that is scanned.
enum NewSide<'o> {
    Text(OdbObject<'o>),
    /// An archive, to expand.
    Archive(Format, OdbObject<'o>),
}

/// The new side of `change` as text or an archive to expand, or `None` (counted, listed or
/// an error) when it is absent, binary, too large or unreadable.
fn read_new_side<'o>(
    odb: &'o Odb,
    shown: &Path,
    change: &Change,
    reading: &Reading,
    out: &mut DiffScan,
) -> Option<NewSide<'o>> {
    let oid = change.new?;
    let error =
        |e: &git2::Error| GitError::object(shown, "blob", oid, Some(change.path.clone()), e);
    match read_blob(odb, oid, reading.max_size) {
        Ok(RawBlob::Text(object)) => Some(NewSide::Text(object)),
        Ok(RawBlob::Binary) => match reading.archive(odb, oid) {
            Ok(Some((format, object))) => Some(NewSide::Archive(format, object)),
            Ok(None) => {
                out.binary_skipped += 1;
                None
            }
            Err(e) => {
                out.errors.push(error(&e));
                None
            }
        },
        Ok(RawBlob::TooLarge(size)) => {
            out.skipped.push(Skipped {
                what: format!("`{}` (blob {oid})", change.path),
                why: format!("{size} bytes, over the blob size limit"),
            });
            None
        }
        Err(e) => {
            out.errors.push(error(&e));
            None
        }
    }
}

/// The byte ranges of the lines of `data`, without their `\n` (a `\r` stays), as
/// [`lines`] numbers them.
fn line_spans(data: &[u8]) -> impl Iterator<Item = (usize, usize)> + '_ {
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let mut start = 0;
    let mut done = data.is_empty();
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        match memchr::memchr(b'\n', &body[start..]) {
            Some(i) => {
                let span = (start, start + i);
                start += i + 1;
                Some(span)
            }
            None => {
                done = true;
                Some((start, body.len()))
            }
        }
    })
}

/// The lines of `data` without their `\n` or `\r\n`, numbered from 1 by position. A final
/// line without a newline is a line; the empty remainder after a final newline is not.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let body = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    body.split(|&b| b == b'\n')
        .filter(move |_| !empty)
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

fn line_hash(line: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    line.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_cache_keeps_what_the_last_two_commits_read() {
        let (a, b) = (
            Oid::from_bytes(&[1; 20]).unwrap(),
            Oid::from_bytes(&[2; 20]).unwrap(),
        );
        let mut cache = LineCache::default();
        cache.put(a, Rc::from([1u64, 2]));
        cache.next_commit();
        cache.put(b, Rc::from([3u64]));
        // Read again by this commit: kept for the next one too.
        assert_eq!(cache.get(a).as_deref(), Some(&[1u64, 2][..]));
        cache.next_commit();
        assert_eq!(cache.get(b).as_deref(), Some(&[3u64][..]));
        cache.next_commit();
        cache.next_commit();
        assert!(cache.get(a).is_none() && cache.get(b).is_none());
    }

    #[test]
    fn pool_lookups_find_exactly_the_old_lines() {
        let mut pool = Pool::default();
        let old: Vec<u64> = lines(b"a\nb\r\nc").map(line_hash).collect();
        pool.add("old.txt", &old);
        assert!(pool.holds(line_hash(b"b")));
        assert!(!pool.holds(line_hash(b"d")));
        assert_eq!(pool.holders(line_hash(b"c")).collect::<Vec<_>>(), [0]);
        let seeded = Premixed::default();
        assert_eq!(seeded.hash_one(7u64), seeded.hash_one(7u64));
        assert_ne!(seeded.hash_one(7u64), seeded.hash_one(8u64));
    }

    #[test]
    fn line_spans_number_lines_like_lines() {
        for data in [&b"a\r\nb\n\nc"[..], b"x\n", b"", b"\n\n"] {
            let by_span: Vec<&[u8]> = line_spans(data)
                .map(|(a, b)| {
                    let l = &data[a..b];
                    l.strip_suffix(b"\r").unwrap_or(l)
                })
                .collect();
            let by_lines: Vec<&[u8]> = lines(data).collect();
            assert_eq!(by_span, by_lines, "{data:?}");
        }
    }

    #[test]
    fn lines_ignore_endings_and_number_like_an_editor() {
        let got: Vec<&[u8]> = lines(b"a\r\nb\n\nc").collect();
        assert_eq!(got, vec![&b"a"[..], b"b", b"", b"c"]);
        assert_eq!(lines(b"x\n").count(), 1);
        assert_eq!(lines(b"").count(), 0);
        assert_eq!(line_hash(b"same"), line_hash(b"same"));
        assert_ne!(line_hash(b"same"), line_hash(b"other"));
    }
}
