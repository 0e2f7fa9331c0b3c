//! Pull-request ranges: the secrets that the commits of `BASE..HEAD` added.
//!
//! Owns: parsing `BASE..HEAD`, resolving both ends, the merge-base, refusing ranges that
//! reach into history a shallow clone does not have, and naming the commit of the range
//! that introduced each finding.
//!
//! The change set is the merge-base's tree against HEAD's tree, so the result is the same
//! whether the branch was merged, rebased or squashed, and commits that BASE's branch
//! gained after the fork do not count. Which lines are new is decided by the moved-line
//! rule in `changes`. Then every commit of the range is read against its parent, each new
//! blob once, for secrets that one commit added and a later one removed: HEAD does not
//! hold them, but the pull request's refs and any non-squash merge do.
//!
//! Does not own: the diff and scan (changes), staged scans (staged).

use crate::changes::{
    scan_new_lines, scan_new_sides, tree_changes, Change, ChangeOptions, DiffScan, LineCache, Pool,
    Reading,
};
use crate::plumbing::packs;
use crate::repo::{self, read_blob, RawBlob};
use crate::Find;
use crate::{GitError, DEFAULT_MAX_BLOB_SIZE};
use git2::{Commit, ErrorCode, ObjectType, Odb, Oid, Repository, Sort, Tree};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use unleak_core::{CommitFacts, Finding, GitProvenance, Origin};

/// Split a range spec the way git reads it: `A..B` and `A...B` give `(A, B)` (both are
/// scanned from the merge-base, so the two forms mean the same here), an empty side is
/// `HEAD`, and a single revision `A` means "since A": `(A, HEAD)`. `None` for an empty spec.
pub fn parse_range(spec: &str) -> Option<(String, String)> {
    let spec = spec.trim();
    if spec.is_empty() {
        return None;
    }
    let side = |s: &str| if s.is_empty() { "HEAD" } else { s }.to_string();
    let (base, head) = spec
        .split_once("...")
        .or_else(|| spec.split_once(".."))
        .unwrap_or((spec, ""));
    Some((side(base), side(head)))
}

/// Scan what the commits from the merge-base of `base` and `head` up to `head` added.
///
/// Findings are at `Origin::File(path)` with lines and columns of `head`'s version of the
/// file, and `git` names the earliest commit of the range whose version of that file holds
/// the secret (`commits` counts the commits of the range that hold it; `in_head` is true).
/// A secret that a commit of the range added and HEAD no longer holds is a finding too,
/// at that commit's version of the file, with `git.commit` naming it and `in_head` false
/// (one finding per rule and secret, at its earliest commit; only the commit's new lines
/// and a few around them are read). Secrets on moved lines of HEAD are in `moved`.
///
/// Errors: either end unresolvable ([`GitError::Revision`]); in a shallow clone, an end or
/// the merge-base missing ([`GitError::MissingHistory`], which tells the user to fetch
/// more history); unrelated histories ([`GitError::NoMergeBase`]). Blobs bigger than
/// [`DEFAULT_MAX_BLOB_SIZE`] are skipped and listed. Archives are expanded as `opts` says
/// (see [`ChangeOptions`]).
pub fn scan_range(
    repo_path: &Path,
    find: &Find<'_>,
    base: &str,
    head: &str,
    opts: &ChangeOptions,
) -> Result<DiffScan, GitError> {
    let reading = Reading::new(opts);
    let repo = repo::open(repo_path)?;
    // A guard must not pass on a repository it cannot fully read.
    if let Some(bad) = packs::check_packs(&repo, repo_path).into_iter().next() {
        return Err(bad);
    }
    let shallow = repo::shallow_info(&repo);
    let resolve = |spec: &str| resolve_commit(&repo, repo_path, spec);
    let head_commit = resolve(head)?;
    let base_commit = resolve(base)?;
    let merge_base = find_merge_base(&repo, repo_path, &base_commit, &head_commit, base, head)?;
    let tree_of = |oid: Oid| {
        repo.find_commit(oid)
            .and_then(|c| c.tree())
            .map_err(|e| GitError::object(repo_path, "commit", oid, None, &e))
    };
    let old_tree = tree_of(merge_base)?;
    let new_tree = tree_of(head_commit.id())?;

    let mut out = DiffScan {
        base: Some(merge_base.to_string()),
        head: Some(head_commit.id().to_string()),
        shallow,
        ..DiffScan::default()
    };
    let mut changes = Vec::new();
    tree_changes(
        &repo,
        repo_path,
        Some(&old_tree),
        Some(&new_tree),
        b"",
        &mut changes,
        &mut out,
    );
    let odb = repo
        .odb()
        .map_err(|e| GitError::git(repo_path, "opening the object database", &e))?;
    let net_pool = Pool::of_old_sides(
        &odb,
        repo_path,
        &changes,
        &[],
        &reading,
        &mut LineCache::default(),
        &mut out,
    );
    scan_new_sides(
        &odb,
        repo_path,
        &changes,
        find,
        &reading,
        &[&net_pool],
        &mut out,
    );
    let range = range_commits(&repo, repo_path, merge_base, head_commit.id(), &mut out)?;
    out.commits = range.len() as u64;
    attribute(&repo, &range, &reading, &mut out.findings);
    for m in &mut out.moved {
        attribute(
            &repo,
            &range,
            &reading,
            std::slice::from_mut(&mut m.finding),
        );
    }
    let history = Walk {
        repo: &repo,
        odb: &odb,
        shown: repo_path,
        find,
        reading: &reading,
        base_tree: &old_tree,
        net_pool: &net_pool,
    }
    .scan(&range, &changes, &mut out);
    // A submodule or an unread blob that several commits touch is listed once.
    let mut listed = HashSet::new();
    out.skipped.retain(|s| listed.insert(s.what.clone()));
    // What HEAD still holds is reported at HEAD; the history adds only what it no longer does.
    let at_head: HashSet<(&str, &[u8])> = out
        .findings
        .iter()
        .chain(out.moved.iter().map(|m| &m.finding))
        .map(|f| (&*f.rule_id, f.secret.expose()))
        .collect();
    let mut reported: HashSet<(String, Vec<u8>)> = HashSet::new();
    let mut keep = |f: &Finding| {
        let key = (&*f.rule_id, f.secret.expose());
        !at_head.contains(&key) && reported.insert((key.0.to_string(), key.1.to_vec()))
    };
    let gone: Vec<Finding> = history.into_iter().filter(|f| keep(f)).collect();
    out.findings.extend(gone);
    out.findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    // The secrets of one file or one commit are masked in each other's paths and texts.
    unleak_core::hide_shared(&mut out.findings);
    Ok(out)
}

/// The walk over every commit of a range, for secrets that a commit added and a later one
/// took away again: they stay in the pull request's refs and in any merge that is not a
/// squash, so they must be rotated all the same.
struct Walk<'a> {
    repo: &'a Repository,
    odb: &'a Odb<'a>,
    shown: &'a Path,
    find: &'a Find<'a>,
    reading: &'a Reading,
    /// The merge-base's tree: a line a commit re-adds at the path that held it there is
    /// not new.
    base_tree: &'a Tree<'a>,
    /// The old sides of the range's net change: a line moved in two steps is not new.
    net_pool: &'a Pool,
}

impl Walk<'_> {
    /// Each commit against its first parent (a merge: only the blobs that differ from every
    /// parent's), each blob once; blobs HEAD holds at a changed path were scanned already.
    /// Findings on new lines carry `git` with the commit and `in_head: false`; read
    /// errors, skips and counts go to `out`.
    fn scan(&self, range: &[Oid], net: &[Change], out: &mut DiffScan) -> Vec<Finding> {
        let mut seen: HashSet<Oid> = net.iter().filter_map(|c| c.new).collect();
        let mut found = Vec::new();
        // The net change's paths have their merge-base version in `net_pool` already.
        let mut base_read: HashSet<String> = net.iter().map(|c| c.path.clone()).collect();
        let mut base_pool = Pool::default();
        let mut cache = LineCache::default();
        for &oid in range {
            let Ok(commit) = self.repo.find_commit(oid) else {
                continue; // range_commits already read every one of them
            };
            let tree = match commit.tree() {
                Ok(t) => t,
                Err(e) => {
                    out.errors.push(GitError::object(
                        self.shown,
                        "tree",
                        commit.tree_id(),
                        None,
                        &e,
                    ));
                    continue;
                }
            };
            let mut parents = Vec::new();
            for p in commit.parents() {
                match p.tree() {
                    Ok(t) => parents.push(t),
                    Err(e) => {
                        out.errors
                            .push(GitError::object(self.shown, "tree", p.tree_id(), None, &e))
                    }
                }
            }
            let mut changes = Vec::new();
            tree_changes(
                self.repo,
                self.shown,
                parents.first(),
                Some(&tree),
                b"",
                &mut changes,
                out,
            );
            let blob_at = |t: &Tree, path: &str| {
                t.get_path(Path::new(path))
                    .ok()
                    .filter(|e| e.kind() == Some(ObjectType::Blob))
                    .map(|e| e.id())
            };
            changes.retain(|c| parents.iter().skip(1).all(|p| blob_at(p, &c.path) != c.new));
            // Old lines also come from the merge-base's version of each path (read once for
            // the whole walk) and, for a merge, from every parent.
            let mut pool_extra: Vec<(String, Oid)> = Vec::new();
            for c in &changes {
                if base_read.insert(c.path.clone()) {
                    if let Some(old) = blob_at(self.base_tree, &c.path) {
                        base_pool.add_blob(
                            self.odb,
                            self.shown,
                            &c.path,
                            old,
                            self.reading,
                            &mut LineCache::default(),
                            out,
                        );
                    }
                }
                for old in parents.iter().skip(1).filter_map(|t| blob_at(t, &c.path)) {
                    if Some(old) != c.old && !pool_extra.iter().any(|(_, o)| *o == old) {
                        pool_extra.push((c.path.clone(), old));
                    }
                }
            }
            let fresh: Vec<Change> = changes
                .iter()
                .filter(|c| c.new.is_some_and(|n| seen.insert(n)))
                .map(|c| Change {
                    path: c.path.clone(),
                    old: c.old,
                    new: c.new,
                })
                .collect();
            if fresh.is_empty() {
                continue;
            }
            // Commits that read nothing do not age the cache: a merge's first-parent diff
            // is skipped, and the next commit's old sides are what the branch before it read.
            cache.next_commit();
            let pool = Pool::of_old_sides(
                self.odb,
                self.shown,
                &changes,
                &pool_extra,
                self.reading,
                &mut cache,
                out,
            );
            let mut step = DiffScan::default();
            scan_new_lines(
                self.odb,
                self.shown,
                &fresh,
                self.find,
                self.reading,
                &[self.net_pool, &base_pool, &pool],
                &mut cache,
                &mut step,
            );
            out.files_scanned += step.files_scanned;
            out.bytes_scanned += step.bytes_scanned;
            out.binary_skipped += step.binary_skipped;
            out.skipped.append(&mut step.skipped);
            out.errors.append(&mut step.errors);
            if step.findings.is_empty() {
                continue;
            }
            let facts = repo::commit_facts(self.repo, oid);
            let mark = |f: &mut Finding| {
                let path = f.path.display_path().into_owned();
                f.git = Some(GitProvenance::new(
                    facts.clone(),
                    vec![path],
                    1,
                    false,
                    &[&f.secret],
                ));
            };
            for mut f in step.findings {
                mark(&mut f);
                found.push(f);
            }
        }
        found
    }
}

/// The merge-base of `base` and `head` as a full commit id: the commit a pull request
/// branched from. Errors as [`scan_range`].
pub fn merge_base(repo_path: &Path, base: &str, head: &str) -> Result<String, GitError> {
    let repo = repo::open(repo_path)?;
    let head_commit = resolve_commit(&repo, repo_path, head)?;
    let base_commit = resolve_commit(&repo, repo_path, base)?;
    find_merge_base(&repo, repo_path, &base_commit, &head_commit, base, head).map(|o| o.to_string())
}

fn find_merge_base(
    repo: &Repository,
    repo_path: &Path,
    base_commit: &Commit,
    head_commit: &Commit,
    base: &str,
    head: &str,
) -> Result<Oid, GitError> {
    match repo.merge_base(base_commit.id(), head_commit.id()) {
        Ok(oid) => Ok(oid),
        Err(e) if e.code() == ErrorCode::NotFound => Err(if repo.is_shallow() {
            GitError::MissingHistory {
                repo: repo_path.to_path_buf(),
                what: format!("the common ancestor of `{base}` and `{head}`"),
            }
        } else {
            GitError::NoMergeBase {
                repo: repo_path.to_path_buf(),
                base: base.to_string(),
                head: head.to_string(),
            }
        }),
        Err(e) => Err(GitError::git(repo_path, "computing the merge-base", &e)),
    }
}

/// The commit `spec` names. In a shallow clone a revision that is not found is missing
/// history ([`GitError::MissingHistory`]); otherwise [`GitError::Revision`].
pub(crate) fn resolve_commit<'r>(
    repo: &'r Repository,
    repo_path: &Path,
    spec: &str,
) -> Result<Commit<'r>, GitError> {
    repo.revparse_single(spec)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| {
            // In a shallow clone a commit id or a ref whose commit was not fetched is
            // missing history; a name that resolves to nothing is just a wrong name.
            let missing = repo.is_shallow()
                && e.code() == ErrorCode::NotFound
                && (looks_like_an_id(spec)
                    || repo
                        .resolve_reference_from_short_name(
                            spec.split(['^', '~']).next().unwrap_or(spec),
                        )
                        .is_ok());
            if missing {
                GitError::MissingHistory {
                    repo: repo_path.to_path_buf(),
                    what: format!("`{spec}`"),
                }
            } else {
                GitError::Revision {
                    repo: repo_path.to_path_buf(),
                    spec: spec.to_string(),
                    message: e.message().to_string(),
                }
            }
        })
}

/// Hex of at least 4 digits, with an optional `^`/`~` suffix: an abbreviated or full
/// commit id.
fn looks_like_an_id(spec: &str) -> bool {
    let id = spec.split(['^', '~']).next().unwrap_or(spec);
    id.len() >= 4 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The commits reachable from `head` and not from `merge_base`, oldest first.
fn range_commits(
    repo: &Repository,
    shown: &Path,
    merge_base: Oid,
    head: Oid,
    out: &mut DiffScan,
) -> Result<Vec<Oid>, GitError> {
    let walk_err = |e: git2::Error| GitError::git(shown, "walking the range's commits", &e);
    let mut walk = repo.revwalk().map_err(walk_err)?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
        .map_err(walk_err)?;
    walk.push(head).map_err(walk_err)?;
    walk.hide(merge_base).map_err(walk_err)?;
    let mut commits = Vec::new();
    for oid in walk {
        match oid {
            Ok(oid) => commits.push(oid),
            Err(e) => {
                out.errors.push(walk_err(e));
                break;
            }
        }
    }
    Ok(commits)
}

/// Name, for each finding, the earliest commit of the range whose version of the file
/// holds the secret, and count the range's commits that hold it. Each distinct version of
/// a file is read once; a finding whose commit cannot be found keeps `git: None`.
fn attribute(repo: &Repository, range: &[Oid], reading: &Reading, findings: &mut [Finding]) {
    let mut by_path: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, f) in findings.iter().enumerate() {
        by_path.entry(file_path(&f.path)).or_default().push(i);
    }
    let mut facts: HashMap<Oid, CommitFacts> = HashMap::new();
    let odb = repo.odb().ok();
    for (path, members) in by_path {
        // Per member: (earliest commit holding it, how many commits hold it).
        let mut seen: Vec<(Option<Oid>, usize)> = vec![(None, 0); members.len()];
        let mut last: Option<Option<Oid>> = None;
        let mut holds: Vec<bool> = vec![false; members.len()];
        for &commit in range {
            let blob = repo
                .find_commit(commit)
                .and_then(|c| c.tree())
                .and_then(|t| t.get_path(Path::new(&path)))
                .ok()
                .filter(|e| e.kind() == Some(ObjectType::Blob))
                .map(|e| e.id());
            if last != Some(blob) {
                let text = match (blob, &odb) {
                    (Some(oid), Some(odb)) => Text::of(odb, oid, reading),
                    _ => Text::Unread,
                };
                for (k, &i) in members.iter().enumerate() {
                    holds[k] = text.holds(findings[i].secret.expose());
                }
                last = Some(blob);
            }
            for (k, held) in holds.iter().enumerate() {
                if *held {
                    seen[k].0.get_or_insert(commit);
                    seen[k].1 += 1;
                }
            }
        }
        for (k, &i) in members.iter().enumerate() {
            let (Some(first), count) = seen[k] else {
                continue;
            };
            let c = facts
                .entry(first)
                .or_insert_with(|| repo::commit_facts(repo, first))
                .clone();
            let git =
                GitProvenance::new(c, vec![path.clone()], count, true, &[&findings[i].secret]);
            findings[i].git = Some(git);
        }
    }
}

/// The repository path of the file `origin` is in (the archive's, for a member).
fn file_path(origin: &Origin) -> String {
    match origin {
        Origin::Member { archive, .. } => file_path(archive),
        other => other.display_path().into_owned(),
    }
}

/// The text a blob holds: itself, or its text members when it is an archive that is
/// expanded.
enum Text<'o> {
    File(git2::OdbObject<'o>),
    Members(Vec<Vec<u8>>),
    Unread,
}

impl<'o> Text<'o> {
    fn of(odb: &'o Odb, oid: Oid, reading: &Reading) -> Text<'o> {
        match read_blob(odb, oid, DEFAULT_MAX_BLOB_SIZE) {
            Ok(RawBlob::Text(object)) => Text::File(object),
            Ok(RawBlob::Binary) => {
                let Ok(Some((format, object))) = reading.archive(odb, oid) else {
                    return Text::Unread;
                };
                let mut members = Vec::new();
                reading.members(
                    (format, object.data()),
                    ("", oid),
                    &mut Vec::new(),
                    |_, text| members.push(text.to_vec()),
                );
                Text::Members(members)
            }
            _ => Text::Unread,
        }
    }

    fn holds(&self, needle: &[u8]) -> bool {
        let has = |data: &[u8]| memchr::memmem::find(data, needle).is_some();
        match self {
            Text::File(object) => has(object.data()),
            Text::Members(members) => members.iter().any(|m| has(m)),
            Text::Unread => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> Option<(String, String)> {
        parse_range(s)
    }

    #[test]
    fn commit_ids_are_told_from_names() {
        assert!(looks_like_an_id("a56c0f1"));
        assert!(looks_like_an_id("a56c0f1~2"));
        assert!(!looks_like_an_id("nosuch"));
        assert!(!looks_like_an_id("abc"));
        assert!(!looks_like_an_id("origin/main"));
    }

    #[test]
    fn range_specs_split_like_git() {
        let pair = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(parsed("main..feature"), pair("main", "feature"));
        assert_eq!(parsed("origin/main...HEAD"), pair("origin/main", "HEAD"));
        assert_eq!(parsed("v1.0.."), pair("v1.0", "HEAD"));
        assert_eq!(parsed("..topic"), pair("HEAD", "topic"));
        assert_eq!(parsed("abc123"), pair("abc123", "HEAD"));
        assert_eq!(parsed("  "), None);
    }
}
