//! The git modes of `scan`: history, range and staged, turned into findings and a summary.

use crate::cli::GitArgs;
use anyhow::Context;
use std::path::Path;
use std::time::Instant;
use unleak_core::{Finding, MemoryBudget};
use unleak_report::ScanSummary;
use unleak_scan::{Paths, Scanner};

pub fn scan(
    repo: &Path,
    args: &GitArgs,
    scanner: &Scanner<'_>,
    (threads, extract_archives): (Option<usize>, bool),
    memory: MemoryBudget,
    started: Instant,
) -> anyhow::Result<(Vec<Finding>, ScanSummary)> {
    // Git paths are repository paths already.
    let scanner = scanner.with_paths(Paths::Verbatim);
    let changes = unleak_git::ChangeOptions {
        memory,
        extract_archives,
    };
    let range = args
        .range
        .clone()
        .or_else(|| args.since_commit.as_ref().map(|b| format!("{b}..HEAD")));
    if let Some(spec) = range {
        let (base, head) = unleak_git::parse_range(&spec)
            .with_context(|| format!("--range `{spec}` is not BASE..HEAD"))?;
        let (diff, stats) = scanner.range(repo, (&base, &head), &changes)?;
        return Ok((diff.findings, stats.summary(started.elapsed())));
    }
    if args.staged {
        let (diff, stats) = scanner.staged(repo, &changes)?;
        return Ok((diff.findings, stats.summary(started.elapsed())));
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
    let (scan, stats) = scanner.history(repo, &opts)?;
    if let Some(shallow) = &scan.shallow {
        tracing::warn!("{}", shallow.message());
    }
    Ok((scan.findings, stats.summary(started.elapsed())))
}
