//! Git plumbing: reading objects straight from a repository's files, below the scans.
//!
//! Owns: the pack reader (`pack`: pack indexes, entries, deltas, reading wanted blobs and
//! single trees), the positioned reads it is built on (`pread`), which packs a repository
//! has and whether each one's trailer matches its index (`packs`), and git's raw tree
//! format (`tree`).
//!
//! Does not own: opening repositories or reading objects through libgit2 by id (repo),
//! deciding what to read, matching or reporting (the scans: history, range, staged,
//! snapshot).

pub(crate) mod pack;
pub(crate) mod packs;
mod pread;
pub(crate) mod tree;
