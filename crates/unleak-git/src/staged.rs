//! Staged changes: the secrets `git commit` would add right now.
//!
//! Owns: comparing the index (stage-0 entries, the blobs `git add` wrote) with HEAD's tree,
//! or with nothing before the first commit. The working tree is never read, so an unstaged
//! edit does not count and no clean filter or fsmonitor is involved. Intent-to-add entries
//! (`git add -N`) are skipped: they stage no content. Which lines are new is decided by the
//! moved-line rule in `changes`.
//!
//! Does not own: the diff and scan (changes), ranges (range).

use crate::changes::{scan_changes, submodule, Change, ChangeOptions, DiffScan, Reading};
use crate::plumbing::packs;
use crate::repo::{self, Skipped};
use crate::Find;
use crate::GitError;
use git2::{ErrorCode, Oid, Repository, Tree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const TREE: i32 = 0o040000;
const GITLINK: i32 = 0o160000;
const STAGE_MASK: u16 = 0x3000;
const INTENT_TO_ADD: u16 = 1 << 13;

/// Scan what the index would add to HEAD (see the module docs). Findings are at
/// `Origin::File(path)` with lines and columns of the staged version, `git: None`.
/// Blobs bigger than [`crate::DEFAULT_MAX_BLOB_SIZE`] are skipped and listed. Archives are
/// expanded as `opts` says (see [`ChangeOptions`]).
pub fn scan_staged(
    repo_path: &Path,
    find: &Find<'_>,
    opts: &ChangeOptions,
) -> Result<DiffScan, GitError> {
    let repo = repo::open(repo_path)?;
    // A guard must not pass on a repository it cannot fully read.
    if let Some(bad) = packs::check_packs(&repo, repo_path).into_iter().next() {
        return Err(bad);
    }
    let mut out = DiffScan {
        shallow: repo::shallow_info(&repo),
        ..DiffScan::default()
    };
    let head = match repo.head().and_then(|h| h.peel_to_commit()) {
        Ok(c) => Some(c),
        // Before the first commit everything staged is new.
        Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
        Err(e) => return Err(GitError::git(repo_path, "resolving HEAD", &e)),
    };
    let mut committed: BTreeMap<Vec<u8>, (Oid, i32)> = BTreeMap::new();
    if let Some(commit) = &head {
        out.base = Some(commit.id().to_string());
        let tree = commit
            .tree()
            .map_err(|e| GitError::object(repo_path, "tree", commit.tree_id(), None, &e))?;
        flatten(&repo, repo_path, &tree, b"", &mut committed, &mut out);
    }
    let index = repo
        .index()
        .map_err(|e| GitError::git(repo_path, "reading the index", &e))?;
    let mut changes = Vec::new();
    let mut unmerged: BTreeSet<Vec<u8>> = BTreeSet::new();
    for entry in index.iter() {
        if entry.flags & STAGE_MASK != 0 {
            unmerged.insert(entry.path.clone());
            continue;
        }
        if entry.flags_extended & INTENT_TO_ADD != 0 {
            continue;
        }
        let path = String::from_utf8_lossy(&entry.path).into_owned();
        let before = committed.remove(&entry.path);
        let mode = entry.mode as i32;
        if mode == GITLINK {
            if before.map(|b| b.0) != Some(entry.id) {
                out.skipped.push(submodule(&path));
            }
            continue;
        }
        // A sparse-index directory entry stands for a tree that is unchanged by definition.
        if mode == TREE {
            continue;
        }
        let old = before.filter(|(_, m)| *m != GITLINK).map(|b| b.0);
        if old != Some(entry.id) {
            changes.push(Change {
                path,
                old,
                new: Some(entry.id),
            });
        }
    }
    for path in unmerged {
        out.skipped.push(Skipped {
            what: format!("`{}`", String::from_utf8_lossy(&path)),
            why: "unmerged (merge conflict); resolve it and stage the result to scan it".into(),
        });
    }
    // Committed files no longer in the index are deleted by the commit: their lines feed
    // the moved-line rule.
    for (path, (oid, mode)) in committed {
        if mode != GITLINK {
            changes.push(Change {
                path: String::from_utf8_lossy(&path).into_owned(),
                old: Some(oid),
                new: None,
            });
        }
    }
    scan_changes(
        &repo,
        repo_path,
        &changes,
        find,
        &Reading::new(opts),
        &mut out,
    );
    Ok(out)
}

/// Every non-tree entry under `tree`, by full path. Unreadable subtrees become errors.
fn flatten(
    repo: &Repository,
    shown: &Path,
    tree: &Tree,
    prefix: &[u8],
    into: &mut BTreeMap<Vec<u8>, (Oid, i32)>,
    out: &mut DiffScan,
) {
    for entry in tree.iter() {
        let path = if prefix.is_empty() {
            entry.name_bytes().to_vec()
        } else {
            [prefix, b"/", entry.name_bytes()].concat()
        };
        if entry.filemode() == TREE {
            match repo.find_tree(entry.id()) {
                Ok(sub) => flatten(repo, shown, &sub, &path, into, out),
                Err(e) => out.errors.push(GitError::object(
                    shown,
                    "tree",
                    entry.id(),
                    Some(String::from_utf8_lossy(&path).into_owned()),
                    &e,
                )),
            }
        } else {
            into.insert(path, (entry.id(), entry.filemode()));
        }
    }
}
