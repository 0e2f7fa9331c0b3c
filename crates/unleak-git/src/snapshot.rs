//! Whole files of one snapshot of a repository: a commit's tree or the staged index.
//!
//! Owns: reading the current content of named paths, raw and without filters, so a caller
//! can tell whether something still stands at a path after a change, which a diff alone
//! cannot say (a range or staged scan only sees what changed). A guard uses it to tell a
//! moved secret (gone from its old path) from a spreading one (still at its old path too).
//!
//! Also owns reading one committed file as configuration ([`read_committed`]): a range's
//! guard takes `.unleak.toml` and the baseline from the base side, not from the pull
//! request, and the same file-size caps apply as on disk.
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

/// One file of a commit's tree, read as configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Committed {
    /// No entry at the path.
    Absent,
    /// A regular file: its blob id and bytes.
    File {
        /// The blob's hex id.
        blob: String,
        /// Its content.
        bytes: Vec<u8>,
    },
    /// An entry that is not read, and why (a symbolic link, a directory, a submodule, a
    /// blob over the cap). `blob` is its object id, so a caller can still compare sides.
    Refused {
        /// The entry's hex object id.
        blob: String,
        /// Why it was not read.
        why: String,
    },
}

impl Committed {
    /// The object at the path, if any: two sides with the same id hold the same thing.
    pub fn blob(&self) -> Option<&str> {
        match self {
            Committed::Absent => None,
            Committed::File { blob, .. } | Committed::Refused { blob, .. } => Some(blob),
        }
    }
}

/// The file at `path` (repo-relative, `/`-separated) in the tree of the commit `spec`
/// names, if it is a regular file of at most `cap` bytes.
///
/// Errors: `spec` does not resolve ([`GitError::Revision`], or in a shallow clone
/// [`GitError::MissingHistory`]); the blob cannot be read ([`GitError::Object`]).
pub fn read_committed(
    repo_path: &Path,
    spec: &str,
    path: &str,
    cap: u64,
) -> Result<Committed, GitError> {
    const LINK: i32 = 0o120000;
    let repo = repo::open(repo_path)?;
    let commit = crate::range::resolve_commit(&repo, repo_path, spec)?;
    let tree = commit
        .tree()
        .map_err(|e| GitError::object(repo_path, "tree", commit.tree_id(), None, &e))?;
    let Ok(entry) = tree.get_path(Path::new(path)) else {
        return Ok(Committed::Absent);
    };
    let blob = entry.id().to_string();
    let refused = |why: &str| Committed::Refused {
        blob: blob.clone(),
        why: why.to_string(),
    };
    if entry.filemode() == LINK {
        return Ok(refused(
            "a symbolic link; configuration is read only from a regular file",
        ));
    }
    if entry.kind() != Some(ObjectType::Blob) {
        return Ok(refused("not a regular file"));
    }
    let odb = repo
        .odb()
        .map_err(|e| GitError::git(repo_path, "opening the object database", &e))?;
    let object =
        |e: &git2::Error| GitError::object(repo_path, "blob", entry.id(), Some(path.into()), e);
    let (size, _) = odb.read_header(entry.id()).map_err(|e| object(&e))?;
    if size as u64 > cap {
        return Ok(refused(&format!("{size} bytes, over the {cap}-byte limit")));
    }
    let data = odb.read(entry.id()).map_err(|e| object(&e))?;
    Ok(Committed::File {
        blob,
        bytes: data.data().to_vec(),
    })
}

/// The names of the entries of the directory `dir` in the tree of the commit `spec`
/// names, sorted; `None` when `dir` is not a directory there. Errors as [`read_committed`].
pub fn list_committed(
    repo_path: &Path,
    spec: &str,
    dir: &str,
) -> Result<Option<Vec<String>>, GitError> {
    let repo = repo::open(repo_path)?;
    let commit = crate::range::resolve_commit(&repo, repo_path, spec)?;
    let root = commit
        .tree()
        .map_err(|e| GitError::object(repo_path, "tree", commit.tree_id(), None, &e))?;
    let tree = match tree_at(&root, dir) {
        Some(oid) => repo
            .find_tree(oid)
            .map_err(|e| GitError::object(repo_path, "tree", oid, Some(dir.into()), &e))?,
        None => return Ok(None),
    };
    let mut names: Vec<String> = tree
        .iter()
        .map(|e| String::from_utf8_lossy(e.name_bytes()).into_owned())
        .collect();
    names.sort();
    Ok(Some(names))
}

/// The tree at `dir` under `root` (`""` or `.` is `root` itself).
fn tree_at(root: &git2::Tree, dir: &str) -> Option<git2::Oid> {
    let dir = dir.trim_start_matches("./").trim_end_matches('/');
    if dir.is_empty() || dir == "." {
        return Some(root.id());
    }
    let entry = root.get_path(Path::new(dir)).ok()?;
    (entry.kind() == Some(ObjectType::Tree)).then(|| entry.id())
}
