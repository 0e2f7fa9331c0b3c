//! The git modes through the scanner: `unleak-git` reads history, a range or the index and
//! hands each blob to the scanner's matcher; what it counts comes back as [`ScanStats`].
//!
//! Owns: holding range and staged findings within the findings share (a history scan
//! keeps its own findings within the share as it folds them), and turning git's skips
//! and errors into the one skip and error shape. Does not own: the walk, the moved-line
//! rule or provenance (`unleak-git`).

use crate::{RunError, ScanStats, Scanner};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use unleak_core::{finding_bytes, Allowance, Blob, Finding, MemoryBudget};
use unleak_git::{ChangeOptions, DiffScan, GitError, HistoryOptions, HistoryScan};
use unleak_report::{ScanError, Skipped};

impl Scanner<'_> {
    /// Every blob in the history of `repo` (see [`unleak_git::scan_history`]), with the
    /// history's own counts.
    pub fn history(
        &self,
        repo: &Path,
        opts: &HistoryOptions,
    ) -> Result<(HistoryScan, ScanStats), RunError> {
        let find = |blob: &Blob<'_>| self.findings(blob);
        let mut scan = unleak_git::scan_history(repo, &find, opts)?;
        let stats = ScanStats {
            inputs: scan.blobs_scanned,
            bytes: scan.bytes_scanned,
            skipped: skipped(std::mem::take(&mut scan.skipped)),
            errors: errors(std::mem::take(&mut scan.errors)),
        };
        Ok((scan, stats))
    }

    /// What `BASE..HEAD` added (see [`unleak_git::scan_range`]), its findings held within
    /// the findings share of `opts.memory`.
    pub fn range(
        &self,
        repo: &Path,
        (base, head): (&str, &str),
        opts: &ChangeOptions,
    ) -> Result<(DiffScan, ScanStats), RunError> {
        self.changes(&opts.memory, |find| {
            unleak_git::scan_range(repo, find, base, head, opts)
        })
    }

    /// What the index would add to HEAD (see [`unleak_git::scan_staged`]), its findings
    /// held within the findings share of `opts.memory`.
    pub fn staged(
        &self,
        repo: &Path,
        opts: &ChangeOptions,
    ) -> Result<(DiffScan, ScanStats), RunError> {
        self.changes(&opts.memory, |find| {
            unleak_git::scan_staged(repo, find, opts)
        })
    }

    /// Run a change scan with a matcher that charges each blob's findings to the share;
    /// once it runs out, the rest of the scan finds nothing and the run fails.
    fn changes(
        &self,
        budget: &MemoryBudget,
        scan: impl FnOnce(&unleak_git::Find<'_>) -> Result<DiffScan, GitError>,
    ) -> Result<(DiffScan, ScanStats), RunError> {
        let share = budget.findings_allowance();
        let full = AtomicBool::new(false);
        let find = |blob: &Blob<'_>| held(self.findings(blob), &share, &full);
        let mut diff = scan(&find)?;
        if full.into_inner() {
            return Err(RunError::ChangesOverBudget {
                kept: diff.findings.len() + diff.moved.len(),
                share: share.limit(),
                budget: *budget,
            });
        }
        let stats = ScanStats {
            inputs: diff.files_scanned,
            bytes: diff.bytes_scanned,
            skipped: skipped(std::mem::take(&mut diff.skipped)),
            errors: errors(std::mem::take(&mut diff.errors)),
        };
        Ok((diff, stats))
    }
}

/// `found`, if it fits what is left of `share`; nothing once the share has run out.
fn held(found: Vec<Finding>, share: &Allowance, full: &AtomicBool) -> Vec<Finding> {
    if found.is_empty() || full.load(Ordering::Relaxed) {
        return Vec::new();
    }
    if share.take(found.iter().map(finding_bytes).sum()) {
        found
    } else {
        full.store(true, Ordering::Relaxed);
        Vec::new()
    }
}

/// In the order git listed them (by object, then path).
fn skipped(list: Vec<unleak_git::Skipped>) -> Vec<Skipped> {
    list.into_iter()
        .map(|s| Skipped {
            path: s.what,
            reason: s.why,
        })
        .collect()
}

/// Each error keeps the repository path of its object, when it has one.
fn errors(list: Vec<GitError>) -> Vec<ScanError> {
    list.into_iter()
        .map(|e| ScanError {
            path: e.path().unwrap_or_default().to_string(),
            message: e.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use unleak_core::{Blob, Origin};

    #[test]
    fn findings_past_the_share_are_dropped_and_mark_it_full() {
        let m = crate::scanner::tests::matcher();
        let text = format!("key = {}\n", crate::scanner::tests::TOKEN);
        let found = || m.scan(&Blob::new(Origin::Stdin, text.as_bytes()));
        let one = found().iter().map(finding_bytes).sum::<u64>();
        let share = Allowance::new(one);
        let full = AtomicBool::new(false);
        assert_eq!(held(found(), &share, &full).len(), 1, "the first fits");
        assert!(!full.load(Ordering::Relaxed));
        assert!(
            held(found(), &share, &full).is_empty(),
            "the second does not"
        );
        assert!(full.load(Ordering::Relaxed));
    }

    #[test]
    fn an_object_error_keeps_its_path() {
        let e = GitError::Object {
            repo: "r".into(),
            kind: "blob",
            oid: "0".repeat(40),
            path: Some("src/a.env".into()),
            message: "gone".into(),
        };
        let listed = errors(vec![e]);
        assert_eq!(listed[0].path, "src/a.env");
        assert!(listed[0].message.contains("gone"));
    }
}
