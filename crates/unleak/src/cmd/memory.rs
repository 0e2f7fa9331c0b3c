//! The CLI's side of `--memory-budget`: how many walker threads and how big their buffers
//! are.
//!
//! Does not own: the split (unleak-core's `MemoryBudget`), findings held within their
//! share (unleak-scan's `Collect`), or the git history's limits (unleak-git takes the
//! budget itself).

use unleak_core::{MemoryBudget, WorkerPlan};

/// Threads and buffer sizes for a walk: `threads` (default: the walker's) or fewer.
pub fn worker_plan(budget: &MemoryBudget, threads: Option<usize>) -> WorkerPlan {
    let requested = threads
        .filter(|&n| n > 0)
        .unwrap_or_else(crate::cli::default_threads);
    let plan = budget.workers(requested);
    if plan.threads < requested {
        tracing::info!(
            "{} of {requested} threads fit --memory-budget {budget}",
            plan.threads
        );
    }
    tracing::debug!(?plan, "memory budget {budget}: per-worker plan");
    plan
}
