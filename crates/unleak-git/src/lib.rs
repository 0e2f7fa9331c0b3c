//! unleak's git sources: what a repository's history, a pull request or the staged index
//! holds, turned into findings with provenance.
//!
//! Owns: opening repositories safely (no hooks, filters, fsmonitor, credential helpers or
//! network, whatever the repository's configuration says), the whole-history audit
//! ([`scan_history`]: every blob of every ref read and scanned once, provenance gathered in
//! one walk over commits and trees), pull-request ranges ([`scan_range`]: only the lines the
//! range added) and the staged index ([`scan_staged`]: only what `git commit` would add),
//! shallow-clone detection, per-object error reporting, and whole files of a commit or the
//! index ([`read_paths`]: does something still stand at a path after a change).
//!
//! Does not own: matching (each scan is handed a [`Find`]: the scan pipeline's matcher),
//! allowlists and baselines (filters do),
//! printing, or parsing command-line flags and dates (the CLI does).

mod budget;
mod changes;
mod error;
mod history;
mod paths;
mod plumbing;
mod range;
mod repo;
mod snapshot;
mod staged;

pub use changes::{ChangeOptions, DiffScan, MovedLine};

/// What a git scan hands every blob it reads (a file version, an archive member, a
/// decoded UTF-16 text): the caller's matcher. It returns the blob's findings with
/// positions in `blob.data`; the git scan places them and adds provenance.
pub type Find<'a> = dyn Fn(&unleak_core::Blob<'_>) -> Vec<unleak_core::Finding> + Sync + 'a;
pub use error::GitError;
pub use history::{
    scan_history, HistoryOptions, HistoryScan, DEFAULT_MAX_BLOB_SIZE, UNREACHABLE_PATH,
};
pub use range::{merge_base, parse_range, scan_range};
pub use repo::{BoundaryCommit, ShallowInfo, Skipped};
pub use snapshot::{list_committed, read_committed, read_paths, Committed, PathContent, Snapshot};
pub use staged::scan_staged;
