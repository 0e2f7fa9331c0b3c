//! The git modes of `scan`: history, range and staged, turned into findings and a summary.

use crate::cli::GitArgs;
use anyhow::Context;
use std::path::Path;
use std::time::Instant;
use unleak_core::{Finding, MemoryBudget};
use unleak_matcher::Matcher;
use unleak_report::{ScanError, ScanSummary, Skipped};

pub fn scan(
    repo: &Path,
    args: &GitArgs,
    matcher: &Matcher,
    (threads, extract_archives): (Option<usize>, bool),
    memory: MemoryBudget,
    started: Instant,
) -> anyhow::Result<(Vec<Finding>, ScanSummary)> {
    let range = args
        .range
        .clone()
        .or_else(|| args.since_commit.as_ref().map(|b| format!("{b}..HEAD")));
    if let Some(spec) = range {
        let (base, head) = unleak_git::parse_range(&spec)
            .with_context(|| format!("--range `{spec}` is not BASE..HEAD"))?;
        let diff = unleak_git::scan_range(repo, matcher, &base, &head)?;
        return Ok(diff_result(diff, started));
    }
    if args.staged {
        let diff = unleak_git::scan_staged(repo, matcher)?;
        return Ok(diff_result(diff, started));
    }
    let opts = unleak_git::HistoryOptions {
        branch: args.branch.clone(),
        since: args.since,
        max_commits: args.max_commits,
        max_blob_size: args
            .max_blob_size
            .unwrap_or(unleak_git::DEFAULT_MAX_BLOB_SIZE),
        all_objects: args.all_objects,
        threads: threads.unwrap_or(0),
        memory,
        extract_archives,
    };
    let scan = unleak_git::scan_history(repo, matcher, &opts)?;
    if let Some(shallow) = &scan.shallow {
        tracing::warn!("{}", shallow.message());
    }
    let summary = ScanSummary {
        files_scanned: scan.blobs_scanned,
        bytes_scanned: scan.bytes_scanned,
        skipped: skipped(scan.skipped),
        errors: errors(scan.errors),
        elapsed: started.elapsed(),
    };
    Ok((scan.findings, summary))
}

fn diff_result(diff: unleak_git::DiffScan, started: Instant) -> (Vec<Finding>, ScanSummary) {
    let summary = ScanSummary {
        files_scanned: diff.files_scanned,
        bytes_scanned: diff.bytes_scanned,
        skipped: skipped(diff.skipped),
        errors: errors(diff.errors),
        elapsed: started.elapsed(),
    };
    (diff.findings, summary)
}

fn skipped(list: Vec<unleak_git::Skipped>) -> Vec<Skipped> {
    list.into_iter()
        .map(|s| Skipped {
            path: s.what,
            reason: s.why,
        })
        .collect()
}

fn errors(list: Vec<unleak_git::GitError>) -> Vec<ScanError> {
    list.into_iter()
        .map(|e| ScanError {
            path: String::new(),
            message: e.to_string(),
        })
        .collect()
}
