//! The commit walk: every commit reachable from the roots, parents before children, and the
//! `since` / `max_commits` selection over it.
//!
//! Owns: reading commits (id, root tree, committer time), an unreadable commit costing only
//! the history behind it, the shallow-clone edge, and checking the walk's bookkeeping
//! against the index share as it grows.
//!
//! Does not own: choosing the roots (roots), or trees and blobs (provenance, scan). The
//! index in the walk order is what provenance calls a commit's number.

use super::COMMIT_BYTES;
use crate::budget::IndexLedger;
use crate::GitError;
use git2::{ErrorCode, Oid, Repository};
use std::collections::HashSet;
use std::path::Path;

#[derive(Clone, Copy)]
pub(super) struct CommitNode {
    pub(super) id: Oid,
    pub(super) tree: Oid,
    /// Committer time, seconds since the epoch.
    pub(super) time: i64,
}

/// Every commit reachable from `roots`, parents before children. A depth-first walk of
/// our own rather than libgit2's revwalk, so that one unreadable commit costs only the
/// history behind it, not the whole walk.
pub(super) fn walk_commits(
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
pub(super) fn select(
    mut commits: Vec<CommitNode>,
    since: Option<i64>,
    max: Option<usize>,
) -> Vec<CommitNode> {
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
