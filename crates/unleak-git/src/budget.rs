//! What a history scan may hold, taken from the memory budget, and the ledger that stops the
//! scan before its bookkeeping passes the index share.
//!
//! Owns: turning a [`MemoryBudget`] into the reader's limits (threads, blob content per
//! worker, delta-base cache, tree batch) and the approximate weight of each kind of
//! bookkeeping entry (count × bytes per entry, hash tables at their worst fill).
//!
//! Does not own: the split itself (unleak-core), the findings share (an [`Allowance`] the
//! history scan takes from directly), or libgit2's mapped pack windows (a fixed cap set in
//! `repo.rs`, outside the shares).
//!
//! [`Allowance`]: unleak_core::Allowance

use crate::plumbing::pack;
use crate::GitError;
use std::path::Path;
use unleak_core::{MemoryBudget, WorkerPlan};

/// Bytes a hash-table entry of `entry` bytes may take: just after a table grows it is 7/16
/// full, with one control byte per slot.
pub(crate) const fn hashed(entry: usize) -> u64 {
    (entry as u64 + 1) * 16 / 7
}

/// The reader's limits for one history scan.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    pub(crate) plan: WorkerPlan,
    /// Bytes of resolved content (a delta chain) one worker holds at once.
    pub(crate) stack: usize,
    /// Bytes of resolved trees each worker keeps as delta bases during provenance.
    pub(crate) base_cache: usize,
    /// Blobs bigger than this are not read (the smaller of `--max-blob-size` and what a
    /// worker may hold: the blob and the base it is rebuilt from).
    pub(crate) max_blob: u64,
    /// `--max-blob-size`: a blob over `max_blob` but not over this was left out for the
    /// budget's sake.
    pub(crate) max_blob_flag: u64,
    pub(crate) tree_batch: usize,
}

impl Limits {
    pub(crate) fn new(budget: &MemoryBudget, threads: usize, max_blob_size: u64) -> Limits {
        let plan = budget.workers(threads);
        let blob_bytes = usize::try_from(plan.blob_bytes()).unwrap_or(usize::MAX);
        let stack = blob_bytes.min(pack::MAX_STACK);
        let budget_blob = (blob_bytes / 2) as u64;
        Limits {
            plan,
            stack,
            base_cache: (blob_bytes / 4).min(pack::MAX_BASE_CACHE),
            max_blob: max_blob_size.min(budget_blob),
            max_blob_flag: max_blob_size,
            tree_batch: budget.tree_batch(),
        }
    }
}

/// The index share and what to say when it runs out.
pub(crate) struct IndexLedger<'a> {
    budget: MemoryBudget,
    share: u64,
    repo: &'a Path,
}

impl<'a> IndexLedger<'a> {
    pub(crate) fn new(budget: &MemoryBudget, repo: &'a Path) -> Self {
        IndexLedger {
            budget: *budget,
            share: budget.shares().index,
            repo,
        }
    }

    /// `Err` when `bytes` of bookkeeping for `objects` objects would pass the share.
    pub(crate) fn check(&self, objects: u64, bytes: u64) -> Result<(), GitError> {
        if bytes <= self.share {
            return Ok(());
        }
        Err(GitError::IndexOverBudget {
            repo: self.repo.to_path_buf(),
            objects,
            bytes,
            share: self.share,
            budget: self.budget,
            needed: MemoryBudget::needed_for_index(bytes),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn limits_follow_the_budget() {
        let ample = Limits::new(&MemoryBudget::default(), 2, 100 * MIB);
        assert_eq!(ample.stack, pack::MAX_STACK);
        assert_eq!(ample.base_cache, pack::MAX_BASE_CACHE);
        assert_eq!(ample.max_blob, 100 * MIB);
        assert_eq!(ample.max_blob_flag, 100 * MIB);
        assert_eq!(ample.tree_batch, 4096);

        let tight = Limits::new(&MemoryBudget::new(48 * MIB).unwrap(), 2, 100 * MIB);
        assert_eq!(tight.plan.threads, 2);
        assert!(tight.stack as u64 <= tight.plan.blob_bytes());
        assert!(tight.max_blob * 2 <= tight.plan.blob_bytes());
        assert!(tight.max_blob < tight.max_blob_flag);
        assert!(tight.base_cache * 4 <= tight.plan.blob_bytes() as usize);
        // What the workers hold fits the workers' share.
        let share = MemoryBudget::new(48 * MIB).unwrap().shares().workers;
        assert!(tight.plan.per_worker * tight.plan.threads as u64 <= share);
        // A flag below the budget's cap stays the limit.
        assert_eq!(
            Limits::new(&MemoryBudget::new(48 * MIB).unwrap(), 2, 1000).max_blob,
            1000
        );
    }

    #[test]
    fn the_ledger_refuses_past_the_share_and_names_the_flag() {
        let budget = MemoryBudget::new(64 * MIB).unwrap();
        let ledger = IndexLedger::new(&budget, Path::new("repo"));
        let share = budget.shares().index;
        assert!(ledger.check(10, share).is_ok());
        let message = ledger.check(123_456, share + 1).unwrap_err().to_string();
        assert!(message.contains("--memory-budget 64M"), "{message}");
        assert!(message.contains("123456 objects"), "{message}");
        assert!(message.contains("repo"), "{message}");
        assert!(message.contains("--memory-budget 65M or more"), "{message}");
    }
}
