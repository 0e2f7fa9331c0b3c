//! What scan, guard and baseline share about filters: finding and loading the
//! configuration and the baseline, compiling rules with it, the inline-ignore policy,
//! paths relative to the configuration's root, and the tree scan that guard and baseline
//! run.

use crate::cli::{FilterArgs, RuleArgs};
use crate::cmd::load_configured_rules;
use crate::cmd::memory::worker_plan;
use std::path::{Path, PathBuf};
use unleak_core::{Finding, MemoryBudget};
use unleak_filters::{Baseline, Config, Filter, BASELINE_FILE};
use unleak_report::ScanSummary;
use unleak_rules::RuleSet;
pub use unleak_scan::relative;
use unleak_scan::{Collect, Files, Paths, Scanner};
use unleak_sources::WalkOptions;

/// Configuration, rules and filter for one run rooted at `root`.
pub struct Setup {
    pub rules: RuleSet,
    pub filter: Filter,
}

/// Load `--config FILE`, or `ROOT/.unleak.toml` when it exists, then compile the rules
/// with it.
pub fn setup(root: &Path, rules: &RuleArgs, filters: &FilterArgs) -> anyhow::Result<Setup> {
    let config = match &filters.config {
        Some(file) => Some(Config::load(file)?),
        None => Config::discover(root)?,
    };
    if let Some(c) = &config {
        tracing::info!("configuration: {}", c.file.display());
    }
    let rules = load_configured_rules(rules, config.as_ref())?;
    let allowlist = config
        .as_ref()
        .map(|c| c.allowlist.clone())
        .unwrap_or_default();
    let filter = Filter::new(allowlist, filters.no_inline_ignore);
    Ok(Setup { rules, filter })
}

/// `root/name`, shown without a leading `./` when root is the current directory.
pub fn in_root(root: &Path, name: &str) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(name)
    } else {
        root.join(name)
    }
}

/// `--baseline FILE` (which must exist), else `ROOT/.unleak-baseline.json` if it exists.
pub fn load_baseline(
    root: &Path,
    given: Option<&Path>,
) -> anyhow::Result<(Option<Baseline>, PathBuf)> {
    match given {
        Some(file) => Ok((Some(Baseline::load(file)?), file.to_path_buf())),
        None => {
            let file = in_root(root, BASELINE_FILE);
            Ok((Baseline::load_optional(&file)?, file))
        }
    }
}

/// A whole-tree scan with root-relative paths.
pub struct TreeScan {
    /// Every finding, unfiltered, sorted; `path` is `Origin::File(relative path)`.
    pub findings: Vec<Finding>,
    pub summary: ScanSummary,
}

/// Scan the files under `root` as a commit would see them: `.gitignore`d files are left
/// out (they are not committed), `.git/` is never read. Archives are expanded when
/// `extract_archives`. Threads, buffers and held findings stay within `memory`.
pub fn scan_tree(
    root: &Path,
    scanner: &Scanner<'_>,
    (threads, extract_archives): (Option<usize>, bool),
    memory: &MemoryBudget,
    started: std::time::Instant,
) -> anyhow::Result<TreeScan> {
    let opts = WalkOptions {
        respect_gitignore: true,
        extract_archives,
        ..WalkOptions::default()
    }
    .within(&worker_plan(memory, threads));
    let roots = [root.to_path_buf()];
    let files = Files {
        roots: &roots,
        options: &opts,
    };
    let sink = Collect::new(memory);
    let stats = scanner
        .with_paths(Paths::RelativeTo(root.to_path_buf()))
        .run(&files, &sink)?;
    Ok(TreeScan {
        findings: sink.into_findings()?,
        summary: stats.summary(started.elapsed()),
    })
}
