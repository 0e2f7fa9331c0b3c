//! Where findings go: held for a report, streamed as JSON lines, or filtered on the way.
//! Sinks compose: `Filtered` wraps any other sink.
//!
//! Owns: holding findings within the findings share of the memory budget, streaming them,
//! and applying allowlists and inline ignores relative to the configuration's root. Does
//! not own: what a filter allows (`unleak-filters`), or rendering (`unleak-report`).

use crate::paths::relative;
use crate::RunError;
use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use unleak_core::{finding_bytes, Allowance, Finding, MemoryBudget, Origin};
use unleak_filters::Filter;

/// Takes the findings of each scanned blob, from several threads at once.
pub trait Sink: Sync {
    /// The findings of one blob (never empty): positions are in their input's stream, paths
    /// in the scan's form.
    fn found(&self, findings: Vec<Finding>);
    /// Nothing more can be taken: the scanner stops scanning (the run will fail).
    fn is_full(&self) -> bool {
        false
    }
}

impl<S: Sink + ?Sized> Sink for &S {
    fn found(&self, findings: Vec<Finding>) {
        (**self).found(findings)
    }
    fn is_full(&self) -> bool {
        (**self).is_full()
    }
}

/// Every finding, each charged to the findings share of the memory budget. Once a batch
/// does not fit, nothing more is held and [`Collect::into_findings`] fails: an incomplete
/// list is never reported.
pub struct Collect {
    list: Mutex<Vec<Finding>>,
    allowance: Allowance,
    full: AtomicBool,
    budget: MemoryBudget,
}

impl Collect {
    pub fn new(budget: &MemoryBudget) -> Self {
        Collect {
            list: Mutex::new(Vec::new()),
            allowance: budget.findings_allowance(),
            full: AtomicBool::new(false),
            budget: *budget,
        }
    }

    /// Every finding held, sorted by path, position and rule; or the error that names
    /// `--memory-budget` if the share ran out.
    pub fn into_findings(self) -> Result<Vec<Finding>, RunError> {
        let mut list = self.list.into_inner().expect("no panics while collecting");
        if self.full.into_inner() {
            return Err(RunError::FindingsOverBudget {
                kept: list.len(),
                share: self.allowance.limit(),
                budget: self.budget,
            });
        }
        list.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        Ok(list)
    }
}

impl Sink for Collect {
    fn found(&self, findings: Vec<Finding>) {
        let weight = findings.iter().map(finding_bytes).sum();
        if self.allowance.take(weight) {
            self.list.lock().unwrap().extend(findings);
        } else {
            self.full.store(true, Ordering::Relaxed);
        }
    }

    fn is_full(&self) -> bool {
        self.full.load(Ordering::Relaxed)
    }
}

/// Each finding written as one JSON line as soon as its blob is scanned, and not held:
/// a stream needs no findings share.
pub struct JsonlStream<W> {
    out: Mutex<W>,
    written: AtomicU64,
    failed: Mutex<Option<std::io::Error>>,
}

impl<W: Write + Send> JsonlStream<W> {
    pub fn new(out: W) -> Self {
        JsonlStream {
            out: Mutex::new(out),
            written: AtomicU64::new(0),
            failed: Mutex::new(None),
        }
    }

    /// How many findings were streamed, or the first write error (an I/O error of the
    /// whole run).
    pub fn finish(self) -> std::io::Result<u64> {
        match self.failed.into_inner().expect("no panics while streaming") {
            Some(e) => Err(e),
            None => Ok(self.written.into_inner()),
        }
    }
}

impl<W: Write + Send> Sink for JsonlStream<W> {
    fn found(&self, findings: Vec<Finding>) {
        let mut out = self.out.lock().unwrap();
        let mut failed = self.failed.lock().unwrap();
        if failed.is_some() {
            return;
        }
        for f in &findings {
            if let Err(e) = unleak_report::write_jsonl_finding(&mut *out, f) {
                *failed = Some(std::io::Error::other(format!(
                    "cannot write a finding: {e}"
                )));
                return;
            }
        }
        self.written
            .fetch_add(findings.len() as u64, Ordering::Relaxed);
    }
}

/// Passes on what `filter` does not allow. Allowlist paths are relative to `root` (where
/// the configuration was looked for); an archive member is allowed by its archive's path
/// with `!member` after it.
pub struct Filtered<'a, S> {
    filter: &'a Filter,
    root: &'a Path,
    inner: S,
    allowed: AtomicU64,
}

impl<'a, S: Sink> Filtered<'a, S> {
    pub fn new(filter: &'a Filter, root: &'a Path, inner: S) -> Self {
        Filtered {
            filter,
            root,
            inner,
            allowed: AtomicU64::new(0),
        }
    }

    /// How many findings the filter allowed.
    pub fn allowed(&self) -> u64 {
        self.allowed.load(Ordering::Relaxed)
    }

    /// The sink this one passes findings to.
    pub fn into_inner(self) -> S {
        self.inner
    }

    fn rel_path(&self, f: &Finding) -> String {
        match f.path.outermost() {
            Origin::File(p) => {
                let outer = Origin::File(p.clone()).display_path().len();
                relative(self.root, p) + &f.path.display_path()[outer..]
            }
            _ => f.path.display_path().into_owned(),
        }
    }
}

impl<S: Sink> Sink for Filtered<'_, S> {
    fn found(&self, mut findings: Vec<Finding>) {
        let before = findings.len();
        findings.retain(|f| self.filter.reason(f, &self.rel_path(f)).is_none());
        self.allowed
            .fetch_add((before - findings.len()) as u64, Ordering::Relaxed);
        if !findings.is_empty() {
            self.inner.found(findings);
        }
    }

    fn is_full(&self) -> bool {
        self.inner.is_full()
    }
}
