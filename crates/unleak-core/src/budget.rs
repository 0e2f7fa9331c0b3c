//! The memory budget (`--memory-budget`): one number split into documented shares, and the
//! arithmetic that turns each share into the limit its consumer works within.
//!
//! Owns: the default and minimum budget, the split, the per-worker sizes (whole-file read
//! limit, chunk buffer, decoded bytes per blob, thread count), the git index's tree batch,
//! the approximate weight of a held finding, and [`Allowance`], a shared counter that refuses
//! to pass its limit.
//!
//! Does not own: enforcing anything. Sources, the git reader and the CLI take their limits
//! from here and stop (with an error naming `--memory-budget`) rather than grow past them.
//!
//! The split, of what is left after [`RUNTIME_RESERVE`] (the program, the compiled rules,
//! the matcher's per-thread caches and keyword windows, libgit2 and allocator slack):
//! - [`Shares::workers`] 40 %: per worker thread, a whole-file read buffer, a chunk buffer for
//!   larger files and streams, and the matcher's decoded bytes; in a history scan, the blob
//!   content (and the delta bases it is rebuilt from) each worker holds.
//! - [`Shares::index`] 35 %: a history scan's bookkeeping: commits, provenance maps,
//!   interned paths, wanted-blob lists and tree batches.
//! - [`Shares::findings`] 25 %: findings held until the report is written.

use crate::Finding;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// The budget when none is given: never reached by a normal repository or file tree.
pub const DEFAULT_MEMORY_BUDGET: u64 = 1024 * MIB;
/// The smallest budget accepted: the runtime reserve plus room for one worker.
pub const MIN_MEMORY_BUDGET: u64 = 32 * MIB;
/// Kept out of every share: the binary, compiled rules, regex caches, libgit2, allocator,
/// and the matcher's keyword windows (a fixed number per blob, 192 KiB a worker, whatever
/// the input: windows that rules sharing a keyword would hold past that are found again).
pub const RUNTIME_RESERVE: u64 = 16 * MIB;

const WORKERS_PERCENT: u64 = 40;
const INDEX_PERCENT: u64 = 35;

/// Per-worker sizes when the budget is ample, and the least each may shrink to.
const FULL: WorkerSizes = WorkerSizes {
    whole_file_limit: 4 * MIB,
    chunk_buffer: 8 * MIB + 64 * KIB,
    decoded_per_blob: MIB,
};
const LEAST: WorkerSizes = WorkerSizes {
    whole_file_limit: 256 * KIB,
    chunk_buffer: 512 * KIB,
    decoded_per_blob: 256 * KIB,
};

/// Tree batches of a history scan: at most this many trees read at once (the speed-tuned
/// size), at least this many (fewer costs more than it saves).
const MAX_TREE_BATCH: usize = 4096;
const MIN_TREE_BATCH: usize = 64;
/// Index bytes per tree of a batch: two batches (one folded, one read ahead) of trees
/// averaging a few KiB take about an eighth of the index share.
const INDEX_BYTES_PER_BATCHED_TREE: u64 = 64 * KIB;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct WorkerSizes {
    whole_file_limit: u64,
    chunk_buffer: u64,
    decoded_per_blob: u64,
}

impl WorkerSizes {
    const fn sum(&self) -> u64 {
        self.whole_file_limit + self.chunk_buffer + self.decoded_per_blob
    }
}

/// A total budget in bytes, at least [`MIN_MEMORY_BUDGET`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryBudget {
    total: u64,
}

/// A budget below [`MIN_MEMORY_BUDGET`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetTooSmall {
    /// The budget asked for, in bytes.
    pub given: u64,
}

impl fmt::Display for BudgetTooSmall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is below the minimum memory budget of {}",
            Bytes(self.given),
            Bytes(MIN_MEMORY_BUDGET)
        )
    }
}

impl std::error::Error for BudgetTooSmall {}

/// The bytes each consumer may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shares {
    /// Reserved for the program itself: code, stacks, the rule set.
    pub runtime: u64,
    /// Shared by the worker threads' read buffers and decoded bytes.
    pub workers: u64,
    /// Git history bookkeeping: which blobs were seen, and their provenance.
    pub index: u64,
    /// Findings held for the report.
    pub findings: u64,
}

/// What each worker thread may hold, and how many there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkerPlan {
    /// Worker threads: the requested number, or fewer when the budget cannot fit them.
    pub threads: usize,
    /// Bytes each worker may hold (its part of the workers' share); the three sizes below
    /// add up to at most this.
    pub per_worker: u64,
    /// Files up to this size are read whole; larger ones in chunks.
    pub whole_file_limit: u64,
    /// Bytes of one chunk buffer, the overlap with the previous chunk included.
    pub chunk_buffer: u64,
    /// Decoded bytes (base64, URL, hex escapes) the matcher may produce per blob.
    pub decoded_per_blob: u64,
}

impl WorkerPlan {
    /// In a history scan: bytes of blob content (a blob and the delta base it is rebuilt
    /// from) one worker may hold; the rest of its share is the matcher's decoded bytes.
    pub fn blob_bytes(&self) -> u64 {
        self.per_worker - self.decoded_per_blob
    }
}

impl MemoryBudget {
    /// `total` bytes, or an error when it is below [`MIN_MEMORY_BUDGET`].
    pub fn new(total: u64) -> Result<Self, BudgetTooSmall> {
        if total < MIN_MEMORY_BUDGET {
            return Err(BudgetTooSmall { given: total });
        }
        Ok(MemoryBudget { total })
    }

    /// The whole budget, in bytes.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// How the budget splits between the program, the workers, the history index and the findings.
    pub fn shares(&self) -> Shares {
        let rest = self.total - RUNTIME_RESERVE;
        let workers = rest / 100 * WORKERS_PERCENT;
        let index = rest / 100 * INDEX_PERCENT;
        Shares {
            runtime: RUNTIME_RESERVE,
            workers,
            index,
            findings: rest - workers - index,
        }
    }

    /// Split the workers' share among `requested` threads (at least 1). With less than the
    /// least one worker needs each, fewer threads run; below the full sizes, each size shrinks
    /// in proportion between its least and full value, so the sum is the per-worker share.
    pub fn workers(&self, requested: usize) -> WorkerPlan {
        let share = self.shares().workers;
        let fit = (share / LEAST.sum()).max(1) as usize;
        let threads = requested.max(1).min(fit);
        let per_worker = share / threads as u64;
        let sizes = if per_worker >= FULL.sum() {
            FULL
        } else {
            // Linear between LEAST (at LEAST.sum()) and FULL (at FULL.sum()).
            let spare = per_worker.saturating_sub(LEAST.sum());
            let span = FULL.sum() - LEAST.sum();
            let grow = |least: u64, full: u64| least + (full - least) * spare / span;
            let whole_file_limit = grow(LEAST.whole_file_limit, FULL.whole_file_limit);
            let decoded_per_blob = grow(LEAST.decoded_per_blob, FULL.decoded_per_blob);
            WorkerSizes {
                whole_file_limit,
                decoded_per_blob,
                // The rounding remainder goes to the chunk buffer.
                chunk_buffer: per_worker.max(LEAST.sum()) - whole_file_limit - decoded_per_blob,
            }
        };
        WorkerPlan {
            threads,
            per_worker: per_worker.max(sizes.sum()),
            whole_file_limit: sizes.whole_file_limit,
            chunk_buffer: sizes.chunk_buffer,
            decoded_per_blob: sizes.decoded_per_blob,
        }
    }

    /// Trees a history scan reads at once.
    pub fn tree_batch(&self) -> usize {
        let fit = self.shares().index / INDEX_BYTES_PER_BATCHED_TREE;
        (fit as usize).clamp(MIN_TREE_BATCH, MAX_TREE_BATCH)
    }

    /// A counter over the findings share.
    pub fn findings_allowance(&self) -> Allowance {
        Allowance::new(self.shares().findings)
    }

    /// The smallest budget whose index share is at least `bytes` (rounded up to a MiB).
    pub fn needed_for_index(bytes: u64) -> u64 {
        needed(bytes, INDEX_PERCENT)
    }

    /// The smallest budget whose findings share is at least `bytes` (rounded up to a MiB).
    pub fn needed_for_findings(bytes: u64) -> u64 {
        needed(bytes, 100 - WORKERS_PERCENT - INDEX_PERCENT)
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget {
            total: DEFAULT_MEMORY_BUDGET,
        }
    }
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Bytes(self.total).fmt(f)
    }
}

fn needed(bytes: u64, percent: u64) -> u64 {
    let rest = bytes.div_ceil(percent).saturating_mul(100);
    let total = rest.saturating_add(RUNTIME_RESERVE);
    total
        .div_ceil(MIB)
        .saturating_mul(MIB)
        .max(MIN_MEMORY_BUDGET)
}

/// A byte count as the flag takes it: `64M`, `1G`, `300K`, else plain bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (unit, size) in [("G", 1024 * MIB), ("M", MIB), ("K", KIB)] {
            if n >= size && n.is_multiple_of(size) {
                return write!(f, "{}{unit}", n / size);
            }
        }
        if n >= MIB {
            // Not a whole number of MiB: round up, so a "needed" figure is never short.
            return write!(f, "{}M", n.div_ceil(MIB));
        }
        write!(f, "{n}")
    }
}

/// Bytes taken from a limit by several threads; a request that would pass the limit is
/// refused and leaves the count as it was.
#[derive(Debug)]
pub struct Allowance {
    limit: u64,
    used: AtomicU64,
}

impl Allowance {
    /// An allowance of `limit` bytes, none of them taken.
    pub fn new(limit: u64) -> Self {
        Allowance {
            limit,
            used: AtomicU64::new(0),
        }
    }

    /// Take `bytes`; `false` (nothing taken) when that would pass the limit.
    pub fn take(&self, bytes: u64) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&after| after <= self.limit)
            })
            .is_ok()
    }

    /// The bytes taken so far.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// The bytes that may be taken in all.
    pub fn limit(&self) -> u64 {
        self.limit
    }
}

/// Approximately what holding `f` costs: the struct and the text it owns. Strings are
/// counted by length, with a little for the allocator.
pub fn finding_bytes(f: &Finding) -> u64 {
    const PER_ALLOCATION: usize = 16;
    let text = |s: &str| s.len() + PER_ALLOCATION;
    let path = match &f.path {
        crate::Origin::File(p) => p.as_os_str().len() + PER_ALLOCATION,
        crate::Origin::Git { blob_id, path } => {
            text(blob_id) + path.as_os_str().len() + PER_ALLOCATION
        }
        crate::Origin::Stdin => 0,
        crate::Origin::Image { image, layer, path } => text(image) + text(layer) + text(path),
        // The archive's path and the members' names, as display_path joins them.
        member @ crate::Origin::Member { .. } => member.display_path().len() + PER_ALLOCATION,
    };
    let git = f.git.as_ref().map_or(0, |g| {
        let masked = |t: &crate::MaskedText| t.stored_len() + 2 * PER_ALLOCATION;
        text(&g.commit)
            + masked(&g.author)
            + masked(&g.email)
            + text(&g.date)
            + masked(&g.summary)
            + g.paths.iter().map(|p| masked(p) + 24).sum::<usize>()
    });
    let decoded: usize = f.decoded.iter().map(|d| text(d) + 24).sum();
    (std::mem::size_of::<Finding>()
        + path
        + text(&f.redacted)
        + f.secret.len()
        + PER_ALLOCATION
        + f.fingerprint.as_str().len()
        + PER_ALLOCATION
        + decoded
        + git) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_the_minimum_is_refused() {
        assert_eq!(
            MemoryBudget::new(MIN_MEMORY_BUDGET - 1),
            Err(BudgetTooSmall {
                given: MIN_MEMORY_BUDGET - 1
            })
        );
        assert!(MemoryBudget::new(MIN_MEMORY_BUDGET).is_ok());
        let message = MemoryBudget::new(20 * MIB).unwrap_err().to_string();
        assert_eq!(message, "20M is below the minimum memory budget of 32M");
    }

    #[test]
    fn shares_add_up_to_the_budget() {
        for total in [
            MIN_MEMORY_BUDGET,
            48 * MIB,
            64 * MIB + 3,
            DEFAULT_MEMORY_BUDGET,
            u64::MAX,
        ] {
            let s = MemoryBudget::new(total).unwrap().shares();
            assert_eq!(
                s.runtime + s.workers + s.index + s.findings,
                total,
                "{total}"
            );
            assert!(s.workers > s.index && s.index > s.findings, "{s:?}");
        }
        let s = MemoryBudget::default().shares();
        assert_eq!(s.runtime, 16 * MIB);
        assert_eq!(s.workers / MIB, 403);
    }

    #[test]
    fn an_ample_budget_gives_every_worker_full_sizes() {
        let plan = MemoryBudget::default().workers(16);
        assert_eq!(plan.threads, 16);
        assert_eq!(plan.whole_file_limit, 4 * MIB);
        assert_eq!(plan.chunk_buffer, 8 * MIB + 64 * KIB);
        assert_eq!(plan.decoded_per_blob, MIB);
        assert!(plan.per_worker * 16 <= MemoryBudget::default().shares().workers);
        // A history scan's blob content may use the rest of a worker's part.
        let two = MemoryBudget::default().workers(2);
        assert_eq!(two.per_worker, MemoryBudget::default().shares().workers / 2);
        assert_eq!(two.blob_bytes(), two.per_worker - MIB);
    }

    #[test]
    fn a_small_budget_shrinks_sizes_then_threads_never_past_the_share() {
        for total in [32 * MIB, 40 * MIB, 48 * MIB, 64 * MIB, 100 * MIB, 256 * MIB] {
            let budget = MemoryBudget::new(total).unwrap();
            let share = budget.shares().workers;
            for requested in [0, 1, 2, 4, 16, 64, 1024] {
                let plan = budget.workers(requested);
                assert!(plan.threads >= 1 && plan.threads <= requested.max(1));
                assert!(
                    plan.whole_file_limit + plan.chunk_buffer + plan.decoded_per_blob
                        <= plan.per_worker
                );
                assert!(
                    plan.per_worker * plan.threads as u64 <= share,
                    "{total} {requested}: {plan:?}"
                );
                assert!(plan.whole_file_limit >= LEAST.whole_file_limit);
                assert!(plan.chunk_buffer >= LEAST.chunk_buffer);
                assert!(plan.decoded_per_blob >= LEAST.decoded_per_blob);
                assert!(plan.chunk_buffer <= FULL.chunk_buffer);
            }
        }
        // 48M: 12.8 MiB for workers, so two threads get about 6.4 MiB each, not 13.
        let plan = MemoryBudget::new(48 * MIB).unwrap().workers(2);
        assert_eq!(plan.threads, 2);
        assert!(
            plan.chunk_buffer < 4 * MIB && plan.chunk_buffer > MIB,
            "{plan:?}"
        );
        // 32M: 6.4 MiB fits six of the least workers, not 64.
        assert_eq!(MemoryBudget::new(32 * MIB).unwrap().workers(64).threads, 6);
    }

    #[test]
    fn tree_batches_shrink_with_the_index_share() {
        assert_eq!(MemoryBudget::default().tree_batch(), MAX_TREE_BATCH);
        let small = MemoryBudget::new(64 * MIB).unwrap();
        assert_eq!(small.tree_batch(), 268);
        assert_eq!(MemoryBudget::new(32 * MIB).unwrap().tree_batch(), 89);
    }

    #[test]
    fn needed_budgets_hold_what_was_asked() {
        for bytes in [1, MIB, 17 * MIB + 5, 900 * MIB] {
            let total = MemoryBudget::needed_for_index(bytes);
            assert!(MemoryBudget::new(total).unwrap().shares().index >= bytes);
            // Tight: a MiB less would not do (unless the minimum already holds it).
            assert!(
                total == MIN_MEMORY_BUDGET
                    || total - MIB < bytes * 100 / 35 + RUNTIME_RESERVE + MIB
            );
            let total = MemoryBudget::needed_for_findings(bytes);
            assert!(MemoryBudget::new(total).unwrap().shares().findings >= bytes);
        }
        assert_eq!(MemoryBudget::needed_for_index(1), MIN_MEMORY_BUDGET);
    }

    #[test]
    fn sizes_print_as_the_flag_takes_them() {
        assert_eq!(Bytes(64 * MIB).to_string(), "64M");
        assert_eq!(Bytes(1024 * MIB).to_string(), "1G");
        assert_eq!(Bytes(300 * KIB).to_string(), "300K");
        assert_eq!(Bytes(3 * MIB + 1).to_string(), "4M");
        assert_eq!(Bytes(1000).to_string(), "1000");
    }

    #[test]
    fn an_allowance_refuses_what_would_pass_it() {
        let a = Allowance::new(100);
        assert!(a.take(60));
        assert!(!a.take(41));
        assert_eq!(a.used(), 60);
        assert!(a.take(40));
        assert!(!a.take(1));
        assert!(!a.take(u64::MAX));
        assert_eq!(a.used(), 100);
    }
}
