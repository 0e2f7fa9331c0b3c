//! `--image` for scan and guard: opening the images named (pulling only with `--pull`),
//! reading them through the matcher within the memory budget, and giving each finding its
//! image provenance.
//!
//! Does not own: reading images (unleak-image), filtering or judging findings (the
//! callers), printing.

use crate::cli::ImageArgs;
use crate::cmd::memory::worker_plan;
use anyhow::bail;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;
use unleak_core::{hide_shared, Finding, MemoryBudget, Origin};
use unleak_image::{ImageSpec, Opened, Provenances, ReadOptions};
use unleak_report::ScanSummary;
use unleak_scan::{Collect, Paths, Scanner, Source, SourceError};
use unleak_sources::Item;

/// Every finding in the images `args` names, unfiltered, sorted, with provenance. Archives
/// inside layers are expanded when `extract_archives`, else skipped as binary files.
pub fn scan(
    args: &ImageArgs,
    extract_archives: bool,
    scanner: &Scanner<'_>,
    max_file_size: u64,
    threads: Option<usize>,
    memory: &MemoryBudget,
    started: Instant,
) -> anyhow::Result<(Vec<Finding>, ScanSummary)> {
    let mut opened: Vec<Opened> = Vec::new();
    let mut unopened = Vec::new();
    for spec in &args.images {
        let open = match ImageSpec::parse(spec) {
            Some(ImageSpec::Local(path)) => unleak_image::open(&path),
            Some(ImageSpec::Registry(reference)) if args.pull => unleak_image::pull(&reference),
            Some(ImageSpec::Registry(reference)) => bail!(
                "--image `{}` is not a file or directory; to pull {} from its registry, add \
                 --pull (unleak's only network use)",
                unleak_report::escape::terminal(spec),
                reference.label()
            ),
            None => bail!(
                "--image `{}`: no such file or directory, and not an image reference \
                 (REGISTRY/NAME:TAG)",
                unleak_report::escape::terminal(spec)
            ),
        };
        match open {
            Ok(o) => opened.push(o),
            // A corrupt image is an unread input: the others are still scanned, and the
            // run cannot pass.
            Err(e) => unopened.push((spec.clone(), e.to_string())),
        }
    }
    let plan = worker_plan(memory, threads);
    let opts = ReadOptions {
        extract_archives,
        ..ReadOptions::within(&plan, max_file_size)
    };
    let source = Images {
        opened: &opened,
        options: &opts,
        unopened,
        provenances: Mutex::new(None),
    };
    let sink = Collect::new(memory);
    let stats = scanner.with_paths(Paths::Verbatim).run(&source, &sink)?;
    let mut findings = sink.into_findings()?;
    let provenances = source
        .provenances
        .into_inner()
        .expect("no panics while reading");
    let provenances = provenances.expect("the source ran to its end");
    for f in &mut findings {
        provenances.annotate(f);
    }
    hide_shared(&mut findings);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    // A config section shows an ENV or ARG assignment twice (in the instruction, and on a
    // line of its own so that rules see `KEY=value`): one finding per secret and section.
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| match &f.path {
        Origin::Image { layer, .. } if layer == "config" => {
            seen.insert((f.path.clone(), f.rule_id.clone(), f.fingerprint.clone()))
        }
        _ => true,
    });
    Ok((findings, stats.summary(started.elapsed())))
}

/// The images opened, read layer by layer; those that could not be opened are errors of
/// the run, emitted first (the others are still scanned, and the run cannot pass).
struct Images<'a> {
    opened: &'a [Opened],
    options: &'a ReadOptions,
    /// (the image as named, why it did not open).
    unopened: Vec<(String, String)>,
    /// Where each layer sits in each image, once read: what findings are annotated with.
    provenances: Mutex<Option<Provenances>>,
}

impl Source for Images<'_> {
    fn run(&self, emit: &(dyn Fn(Item<'_>) + Sync)) -> Result<(), SourceError> {
        for (spec, message) in &self.unopened {
            emit(Item::Error {
                path: PathBuf::from(spec),
                message: message.clone(),
            });
        }
        let provenances = unleak_image::read_images(self.opened, self.options, emit);
        *self.provenances.lock().unwrap() = Some(provenances);
        Ok(())
    }
}
