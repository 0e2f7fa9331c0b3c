//! What scan, guard and baseline share about filters: finding and loading the
//! configuration and the baseline, compiling rules with it, the inline-ignore policy,
//! paths relative to the configuration's root, and the tree scan that guard and baseline
//! run.

use crate::cli::{FilterArgs, RuleArgs};
use crate::cmd::load_configured_rules;
use crate::cmd::memory::{worker_plan, HeldFindings};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use unleak_core::{Finding, MemoryBudget, Origin};
use unleak_filters::{Baseline, Config, Filter, BASELINE_FILE};
use unleak_matcher::Matcher;
use unleak_report::{ScanError, ScanSummary, Skipped};
use unleak_rules::RuleSet;
use unleak_sources::{walk, Item, WalkOptions};

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
    let filter = Filter::new(allowlist, filters.no_inline_ignore.map(Into::into));
    Ok(Setup { rules, filter })
}

/// `path` relative to `root` with `/` separators, as allowlists and baselines write it.
/// A path outside `root` is returned as given.
pub fn relative(root: &Path, path: &Path) -> String {
    let root = root.strip_prefix(".").unwrap_or(root);
    let rel = path.strip_prefix(root).unwrap_or(path);
    let text = rel.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").unwrap_or(&text).to_string()
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

/// The skip reason of a file whose encoded text was not all decoded: the scan went on, but
/// what the cap left encoded was not looked into.
pub fn partially_decoded(matcher: &Matcher) -> String {
    format!(
        "partially decoded: its encoded text holds more than the {} decoded bytes looked into per file (raise --memory-budget)",
        matcher.options().max_decoded_per_blob
    )
}

/// Scan the files under `root` as a commit would see them: `.gitignore`d files are left
/// out (they are not committed), `.git/` is never read. Threads, buffers and held findings
/// stay within `memory`.
pub fn scan_tree(
    root: &Path,
    matcher: &Matcher,
    threads: Option<usize>,
    memory: &MemoryBudget,
    started: std::time::Instant,
) -> anyhow::Result<TreeScan> {
    let opts = WalkOptions {
        respect_gitignore: true,
        ..WalkOptions::default()
    }
    .within(&worker_plan(memory, threads));
    let findings = HeldFindings::new(memory);
    let skipped = Mutex::new(Vec::new());
    let errors = Mutex::new(Vec::new());
    let files = std::sync::atomic::AtomicU64::new(0);
    let bytes = std::sync::atomic::AtomicU64::new(0);
    let roots = [root.to_path_buf()];
    walk(&roots, &opts, |item| match item {
        Item::Blob {
            blob,
            base_offset,
            base_line,
            base_column,
            overlap,
        } => {
            use std::sync::atomic::Ordering::Relaxed;
            if findings.is_full() {
                return;
            }
            if base_offset == 0 {
                files.fetch_add(1, Relaxed);
            }
            bytes.fetch_add((blob.data.len() - overlap) as u64, Relaxed);
            let scanned = matcher.scan_blob(&blob);
            if scanned.partially_decoded {
                let path = match &blob.origin {
                    Origin::File(p) => relative(root, p),
                    other => other.display_path().into_owned(),
                };
                skipped.lock().unwrap().push(Skipped {
                    path,
                    reason: partially_decoded(matcher),
                });
            }
            let mut found = scanned.findings;
            found.retain(|f| f.span.end > overlap);
            for f in &mut found {
                f.shift(base_offset, base_line, base_column);
                // An archive member keeps its member chain inside the relative path.
                if let Origin::File(p) = f.path.outermost() {
                    let rel = Origin::File(PathBuf::from(relative(root, p)));
                    f.path = std::mem::replace(&mut f.path, Origin::Stdin).rebase(rel);
                }
            }
            findings.hold(found);
        }
        Item::Skipped { path, reason } => skipped.lock().unwrap().push(Skipped {
            path: relative(root, &path),
            reason: reason.to_string(),
        }),
        Item::Error { path, message } => errors.lock().unwrap().push(ScanError {
            path: relative(root, &path),
            message,
        }),
    })?;
    let mut findings = findings.into_inner()?;
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let mut skipped = skipped.into_inner().expect("no panics while collecting");
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    // A file read in chunks is listed once however many of its chunks were cut short.
    skipped.dedup();
    let mut errors = errors.into_inner().expect("no panics while collecting");
    errors.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(TreeScan {
        findings,
        summary: ScanSummary {
            files_scanned: files.into_inner(),
            bytes_scanned: bytes.into_inner(),
            skipped,
            errors,
            elapsed: started.elapsed(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_use_slashes_and_drop_the_root() {
        assert_eq!(
            relative(Path::new("repo"), Path::new("repo/a/b.env")),
            "a/b.env"
        );
        assert_eq!(relative(Path::new("."), Path::new("./a.env")), "a.env");
        assert_eq!(relative(Path::new("x"), Path::new("y/a.env")), "y/a.env");
        assert_eq!(relative(Path::new("./r"), Path::new("r/a.env")), "a.env");
    }
}
