//! Where the history walk starts: the commits (and, auditing the whole object database,
//! the blobs) the rest of the scan works from.
//!
//! Owns: choosing the roots: every ref, a detached HEAD and every stash entry; one named
//! revision; or every commit and blob of the object database. Refs that point to no commit
//! are listed in `skipped`, refs that cannot be read in `errors`.
//!
//! Does not own: walking from the roots (walk), or anything about trees and blobs below
//! the commits (provenance, scan).

use super::{HistoryOptions, HistoryScan};
use crate::repo::Skipped;
use crate::GitError;
use git2::{ObjectType, Oid, Repository};
use std::path::Path;

/// Where the walk starts.
pub(super) struct Roots {
    pub(super) commits: Vec<Oid>,
    /// Every blob of the object database (only with `all_objects`).
    pub(super) blobs: Vec<Oid>,
}

pub(super) fn roots(
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
