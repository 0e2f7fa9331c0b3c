//! What every scan counts, whatever its source.

use std::time::Duration;
use unleak_report::{ScanError, ScanSummary, Skipped};

/// Inputs and bytes scanned, and what was skipped or could not be read, each named by its
/// path in the scan's [`crate::Paths`] form.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ScanStats {
    /// Whole inputs scanned (a file, an archive member, standard input), however many
    /// chunks each was read in.
    pub inputs: u64,
    /// Bytes scanned, each counted once (chunk overlaps are not counted twice).
    pub bytes: u64,
    /// Sorted by path; an input read in chunks is listed once per reason.
    pub skipped: Vec<Skipped>,
    /// Sorted by path.
    pub errors: Vec<ScanError>,
}

impl ScanStats {
    /// Sort skips and errors by path (a stable sort: one path's reasons stay in the order
    /// they came) and list each skip once.
    pub fn sorted(mut self) -> Self {
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
        self.skipped.dedup();
        self.errors.sort_by(|a, b| a.path.cmp(&b.path));
        self
    }

    /// The report's summary of this scan, which took `elapsed`.
    pub fn summary(self, elapsed: Duration) -> ScanSummary {
        ScanSummary {
            files_scanned: self.inputs,
            bytes_scanned: self.bytes,
            skipped: self.skipped,
            errors: self.errors,
            elapsed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_lists_a_skip_once_and_keeps_errors() {
        let skip = |p: &str| Skipped {
            path: p.into(),
            reason: "r".into(),
        };
        let err = |p: &str| ScanError {
            path: p.into(),
            message: "m".into(),
        };
        let stats = ScanStats {
            inputs: 1,
            bytes: 2,
            skipped: vec![skip("b"), skip("a"), skip("b")],
            errors: vec![err("b"), err("a"), err("a")],
        }
        .sorted();
        assert_eq!(stats.skipped, vec![skip("a"), skip("b")]);
        assert_eq!(stats.errors, vec![err("a"), err("a"), err("b")]);
        let summary = stats.summary(Duration::from_secs(1));
        assert_eq!((summary.files_scanned, summary.bytes_scanned), (1, 2));
    }
}
