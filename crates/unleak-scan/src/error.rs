//! Why a scan run stopped without a complete result.

use unleak_core::{Bytes, MemoryBudget};

/// A scan that could not finish: its findings are incomplete and must not be reported.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The source itself failed (a bad glob, a root that does not exist); the message is
    /// the source's own, naming the flag or path.
    #[error(transparent)]
    Source(#[from] crate::SourceError),
    /// A git scan failed as a whole (the repository, a revision, its index or findings
    /// over their share); the message names the repository.
    #[error(transparent)]
    Git(#[from] unleak_git::GitError),
    /// Findings of a range or staged scan filled their share of the memory budget.
    #[error(
        "findings filled the {} findings share of --memory-budget {budget} after {kept} were \
         kept; the scan is incomplete and no report is written: run again with \
         --memory-budget {} or more",
        Bytes(*share),
        Bytes(MemoryBudget::needed_for_findings(share.saturating_mul(2)))
    )]
    ChangesOverBudget {
        kept: usize,
        share: u64,
        budget: MemoryBudget,
    },
    /// Findings filled their share of the memory budget.
    #[error(
        "findings filled the {} findings share of --memory-budget {budget} after {kept} were kept; \
         the scan is incomplete and no report is written: run again with --memory-budget {} \
         or more (or with --format jsonl, which streams findings instead of holding them)",
        Bytes(*share),
        Bytes(MemoryBudget::needed_for_findings(share.saturating_mul(2)))
    )]
    FindingsOverBudget {
        kept: usize,
        share: u64,
        budget: MemoryBudget,
    },
}
