//! Whole files of one snapshot of a repository: a commit's tree or the staged index.
//!
//! Owns: reading the current content of named paths, raw and without filters, so a caller
//! can tell whether something still stands at a path after a change, which a diff alone
//! cannot say (a range or staged scan only sees what changed). A guard uses it to tell a
//! moved secret (gone from its old path) from a spreading one (still at its old path too).
//!
//! Does not own: diffs (changes), matching, or deciding what a path's content means.

use crate::repo::{self, read_blob, RawBlob};
use crate::{GitError, DEFAULT_MAX_BLOB_SIZE};
use git2::ObjectType;
use std::collections::BTreeMap;
use std::path::Path;

const GITLINK: u32 = 0o160000;
const INTENT_TO_ADD: u16 = 1 << 13;

/// Which state of the repository to read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Snapshot<'a> {
    /// The tree of the commit a revision names (`HEAD`, a commit id, a branch).
    Commit(&'a str),
    /// The stage-0 entries of the index: what `git commit` would record.
    Index,
}

/// What a snapshot holds at one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathContent {
    /// A text blob's raw bytes.
    Text(Vec<u8>),
    /// Nothing at this path (or a directory, a submodule, an intent-to-add entry).
    Absent,
    /// A blob is there but was not read, and why (binary, too large, unreadable object).
    Unread(String),
}

/// The content of each of `paths` (repo-relative, `/`-separated) in `snapshot`.
pub fn read_paths(
    repo_path: &Path,
    snapshot: Snapshot<'_>,
    paths: &[String],
) -> Result<BTreeMap<String, PathContent>, GitError> {
    let repo = repo::open(repo_path)?;
    let odb = repo
        .odb()
        .map_err(|e| GitError::git(repo_path, "opening the object database", &e))?;
    let mut out = BTreeMap::new();
    // Resolved once; looked up per path.
    enum Source<'r> {
        Tree(git2::Tree<'r>),
        Index(git2::Index),
    }
    let source = match snapshot {
        Snapshot::Commit(spec) => Source::Tree(
            repo.revparse_single(spec)
                .and_then(|o| o.peel_to_commit())
                .and_then(|c| c.tree())
                .map_err(|e| GitError::Revision {
                    repo: repo_path.to_path_buf(),
                    spec: spec.to_string(),
                    message: e.message().to_string(),
                })?,
        ),
        Snapshot::Index => Source::Index(
            repo.index()
                .map_err(|e| GitError::git(repo_path, "reading the index", &e))?,
        ),
    };
    let lookup = |path: &str| match &source {
        Source::Tree(tree) => tree
            .get_path(Path::new(path))
            .ok()
            .filter(|e| e.kind() == Some(ObjectType::Blob))
            .map(|e| e.id()),
        // Stage 0 only; submodules and intent-to-add entries hold no content.
        Source::Index(index) => index
            .get_path(Path::new(path), 0)
            .filter(|e| e.mode != GITLINK && e.flags_extended & INTENT_TO_ADD == 0)
            .map(|e| e.id),
    };
    for path in paths {
        let content = match lookup(path) {
            None => PathContent::Absent,
            Some(oid) => match read_blob(&odb, oid, DEFAULT_MAX_BLOB_SIZE) {
                Ok(RawBlob::Text(object)) => PathContent::Text(object.data().to_vec()),
                Ok(RawBlob::Binary) => PathContent::Unread("binary".into()),
                Ok(RawBlob::TooLarge(size)) => {
                    PathContent::Unread(format!("{size} bytes, over the blob size limit"))
                }
                Err(e) => PathContent::Unread(format!("blob {oid}: {}", e.message())),
            },
        };
        out.insert(path.clone(), content);
    }
    Ok(out)
}
