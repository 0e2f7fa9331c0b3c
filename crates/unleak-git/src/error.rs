//! Errors of the git sources. Each names the repository and, where there is one, the
//! object or revision, and says what the user can do. None carries file content.

use std::path::PathBuf;
use unleak_core::{Bytes, MemoryBudget};

/// Why a git scan or read failed, or (in a history scan's `errors`) what it went past.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    /// The path is not a repository, or the repository cannot be opened.
    #[error("cannot open git repository {}: {message}", repo.display())]
    Open {
        /// The path given.
        repo: PathBuf,
        /// libgit2's reason.
        message: String,
    },

    /// One object could not be read (missing, corrupt, truncated pack). History scans report
    /// these in their result and go on with the other objects.
    #[error("git repository {}: cannot read {kind} {oid}{}: {message}",
        repo.display(), path.as_deref().map(|p| format!(" (at `{p}`)")).unwrap_or_default())]
    Object {
        /// The repository as the user named it.
        repo: PathBuf,
        /// What the object was read as: `blob`, `tree`, `commit` or `object`.
        kind: &'static str,
        /// The object's hex id.
        oid: String,
        /// The path in the repository it was found at (for a blob, the path that
        /// introduced it), when known.
        path: Option<String>,
        /// What went wrong, from libgit2.
        message: String,
    },

    /// A packfile does not end with the checksum its index records: it was truncated or
    /// overwritten, and every object in it is unreadable.
    #[error("git repository {}: packfile {} does not match its index ({problem}); the repository is corrupt: re-clone it or restore the pack", repo.display(), pack.display())]
    CorruptPack {
        /// The repository as the user named it.
        repo: PathBuf,
        /// The pack, relative to the git directory (`objects/pack/pack-….pack`).
        pack: PathBuf,
        /// What does not match, or why the pack or its index could not be read.
        problem: String,
    },

    /// A revision the user named does not resolve to a commit.
    #[error("git repository {}: cannot resolve `{spec}` to a commit: {message}", repo.display())]
    Revision {
        /// The repository as the user named it.
        repo: PathBuf,
        /// The revision as given.
        spec: String,
        /// libgit2's reason.
        message: String,
    },

    /// A range reaches into history this (shallow) clone does not have. Never a silent
    /// partial pass: the caller gets this instead of a result.
    #[error("git repository {} is a shallow clone and {what} is not in its history; \
        fetch more history (actions/checkout with `fetch-depth: 0`, or `git fetch --unshallow`) and run again",
        repo.display())]
    MissingHistory {
        /// The repository as the user named it.
        repo: PathBuf,
        /// What is missing, e.g. the common ancestor of BASE and HEAD.
        what: String,
    },

    /// BASE and HEAD of a range share no commit in a complete (not shallow) repository.
    #[error("git repository {}: `{base}` and `{head}` have no common ancestor, so there is no pull-request range between them", repo.display())]
    NoMergeBase {
        /// The repository as the user named it.
        repo: PathBuf,
        /// BASE as given.
        base: String,
        /// HEAD as given.
        head: String,
    },

    /// A history's bookkeeping (commits, provenance maps, paths, wanted blobs) would pass
    /// the index share of the memory budget. The scan stops rather than grow past it.
    #[error("git repository {}: indexing its history needs more than {} for {objects} objects \
        (commits, blob and tree places, paths), over the {} index share of --memory-budget {budget}; \
        run again with --memory-budget {} or more, or narrow the scan (--branch, --since, --max-commits)",
        repo.display(), Bytes(*bytes), Bytes(*share), Bytes(*needed))]
    IndexOverBudget {
        /// The repository as the user named it.
        repo: PathBuf,
        /// Objects indexed when the share ran out.
        objects: u64,
        /// Bytes of bookkeeping that did not fit.
        bytes: u64,
        /// The index share of the budget, in bytes.
        share: u64,
        /// The whole budget.
        budget: MemoryBudget,
        /// The smallest budget, in bytes, whose index share holds `bytes`.
        needed: u64,
    },

    /// The findings of a history scan filled the findings share of the memory budget. The
    /// scan stops: an incomplete set of findings is never reported as a result.
    #[error("git repository {}: findings filled the {} findings share of --memory-budget {budget} \
        after {kept} were kept; the scan is incomplete and no report is written: run again with \
        --memory-budget {} or more", repo.display(), Bytes(*share), Bytes(*needed))]
    FindingsOverBudget {
        /// The repository as the user named it.
        repo: PathBuf,
        /// Findings held when the share ran out.
        kept: u64,
        /// The findings share of the budget, in bytes.
        share: u64,
        /// The whole budget.
        budget: MemoryBudget,
        /// A budget, in bytes, whose findings share is at least twice the one that filled.
        needed: u64,
    },

    /// Any other libgit2 failure, with what was being done.
    #[error("git repository {}: {context}: {message}", repo.display())]
    Git {
        /// The repository as the user named it.
        repo: PathBuf,
        /// What was being done, e.g. `listing references`.
        context: String,
        /// libgit2's reason.
        message: String,
    },
}

impl GitError {
    /// The path in the repository this error is about, when it is about one object there.
    pub fn path(&self) -> Option<&str> {
        match self {
            GitError::Object { path, .. } => path.as_deref(),
            _ => None,
        }
    }

    pub(crate) fn git(repo: &std::path::Path, context: impl Into<String>, e: &git2::Error) -> Self {
        GitError::Git {
            repo: repo.to_path_buf(),
            context: context.into(),
            message: e.message().to_string(),
        }
    }

    pub(crate) fn object(
        repo: &std::path::Path,
        kind: &'static str,
        oid: git2::Oid,
        path: Option<String>,
        e: &git2::Error,
    ) -> Self {
        GitError::Object {
            repo: repo.to_path_buf(),
            kind,
            oid: oid.to_string(),
            path,
            message: e.message().to_string(),
        }
    }
}
