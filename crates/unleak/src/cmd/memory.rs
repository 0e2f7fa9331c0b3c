//! The CLI's side of `--memory-budget`: how many walker threads and how big their buffers
//! are, and findings held for the report within the findings share.
//!
//! Does not own: the split (unleak-core's `MemoryBudget`), or the git history's limits
//! (unleak-git takes the budget itself).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use unleak_core::{finding_bytes, Allowance, Bytes, Finding, MemoryBudget, WorkerPlan};

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

/// Findings gathered from the walker's threads, each charged to the findings share. Once a
/// batch does not fit, nothing more is held and the run ends in an error: an incomplete
/// list is never reported.
pub struct HeldFindings {
    list: Mutex<Vec<Finding>>,
    allowance: Allowance,
    full: AtomicBool,
    budget: MemoryBudget,
}

impl HeldFindings {
    pub fn new(budget: &MemoryBudget) -> Self {
        HeldFindings {
            list: Mutex::new(Vec::new()),
            allowance: budget.findings_allowance(),
            full: AtomicBool::new(false),
            budget: *budget,
        }
    }

    /// The share ran out: callers stop scanning.
    pub fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }

    /// Hold `found`, or mark the share as run out (holding none of them).
    pub fn hold(&self, found: Vec<Finding>) {
        let weight = found.iter().map(finding_bytes).sum();
        if self.allowance.take(weight) {
            self.list.lock().unwrap().extend(found);
        } else {
            self.full.store(true, Ordering::Relaxed);
        }
    }

    /// Every finding held, or the error that names `--memory-budget` if the share ran out.
    pub fn into_inner(self) -> anyhow::Result<Vec<Finding>> {
        let list = self.list.into_inner().expect("no panics while collecting");
        if self.full.into_inner() {
            let share = self.allowance.limit();
            anyhow::bail!(
                "findings filled the {} findings share of --memory-budget {} after {} were kept; \
                 the scan is incomplete and no report is written: run again with --memory-budget {} \
                 or more (or with --format jsonl, which streams findings instead of holding them)",
                Bytes(share),
                self.budget,
                list.len(),
                Bytes(MemoryBudget::needed_for_findings(share.saturating_mul(2)))
            );
        }
        Ok(list)
    }
}
