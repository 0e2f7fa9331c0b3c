//! `--image` for scan and guard: opening the images named (pulling only with `--pull`),
//! reading them through the matcher within the memory budget, and giving each finding its
//! image provenance.
//!
//! Does not own: reading images (unleak-image), filtering or judging findings (the
//! callers), printing.

use crate::cli::ImageArgs;
use crate::cmd::filtering::partially_decoded;
use crate::cmd::memory::{worker_plan, HeldFindings};
use anyhow::bail;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::Instant;
use unleak_core::{hide_shared, Finding, MemoryBudget, Origin};
use unleak_image::{ImageSpec, Opened, ReadOptions};
use unleak_matcher::Matcher;
use unleak_report::{ScanError, ScanSummary, Skipped};
use unleak_sources::Item;

/// Every finding in the images `args` names, unfiltered, sorted, with provenance.
pub fn scan(
    args: &ImageArgs,
    matcher: &Matcher,
    max_file_size: u64,
    threads: Option<usize>,
    memory: &MemoryBudget,
    started: Instant,
) -> anyhow::Result<(Vec<Finding>, ScanSummary)> {
    let mut opened: Vec<Opened> = Vec::new();
    let errors = Mutex::new(Vec::new());
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
            Err(e) => errors.lock().unwrap().push(ScanError {
                path: spec.clone(),
                message: e.to_string(),
            }),
        }
    }
    let plan = worker_plan(memory, threads);
    let opts = ReadOptions::within(&plan, max_file_size);
    let findings = HeldFindings::new(memory);
    let skipped = Mutex::new(Vec::new());
    let files = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let provenances = unleak_image::read_images(&opened, &opts, &|item| match item {
        Item::Blob {
            blob,
            base_offset,
            base_line,
            base_column,
            overlap,
        } => {
            if findings.is_full() {
                return;
            }
            if base_offset == 0 {
                files.fetch_add(1, Relaxed);
            }
            bytes.fetch_add((blob.data.len() - overlap) as u64, Relaxed);
            let scanned = matcher.scan_blob(&blob);
            if scanned.partially_decoded {
                skipped.lock().unwrap().push(Skipped {
                    path: blob.origin.display_path().into_owned(),
                    reason: partially_decoded(matcher),
                });
            }
            let mut found = scanned.findings;
            found.retain(|f| f.span.end > overlap);
            for f in &mut found {
                f.shift(base_offset, base_line, base_column);
            }
            findings.hold(found);
        }
        Item::Skipped { path, reason } => skipped.lock().unwrap().push(Skipped {
            path: path.to_string_lossy().into_owned(),
            reason: reason.to_string(),
        }),
        Item::Error { path, message } => errors.lock().unwrap().push(ScanError {
            path: path.to_string_lossy().into_owned(),
            message,
        }),
    });
    let mut findings = findings.into_inner()?;
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
    let mut skipped = skipped.into_inner().expect("no panics while collecting");
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    skipped.dedup();
    let mut errors = errors.into_inner().expect("no panics while collecting");
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((
        findings,
        ScanSummary {
            files_scanned: files.into_inner(),
            bytes_scanned: bytes.into_inner(),
            skipped,
            errors,
            elapsed: started.elapsed(),
        },
    ))
}
