//! `unleak baseline create|update|prune`: write or refresh `.unleak-baseline.json` from
//! the tree.
//!
//! - `create` records every secret in the tree (allowlisted and inline-ignored ones left
//!   out), keeping the key of an existing baseline so fingerprints stay stable.
//! - `update` adds the secrets the baseline does not have yet.
//! - `prune` drops entries whose secret is gone, re-points entries whose secret moved
//!   (the same rule the guard applies), and lists both.
//!
//! Nothing is written when any file could not be read: a baseline made from a partial
//! scan would wave through what it missed.

use crate::cli::{BaselineArgs, BaselineCommand};
use crate::cmd::filtering::{scan_tree, setup, TreeScan};
use crate::Outcome;
use anyhow::bail;
use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use unleak_core::Confidence;
use unleak_filters::{judge, Baseline, BaselineError, Entry, BASELINE_FILE};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_report::escape::terminal;
use unleak_scan::{Paths, Scanner};

pub fn run(command: BaselineCommand) -> anyhow::Result<Outcome> {
    match command {
        BaselineCommand::Create(args) => create(args),
        BaselineCommand::Update(args) => update(args),
        BaselineCommand::Prune(args) => prune(args),
    }
}

/// The tree scanned with the baseline's key, split by the configuration's filters.
struct Scanned {
    file: PathBuf,
    baseline: Baseline,
    /// Findings that stand after allowlists and inline comments.
    kept: Vec<unleak_core::Finding>,
    /// Every finding as an entry, allowed or not: what physically stands in the tree.
    standing: HashSet<Entry>,
    files: u64,
    /// The file was format 2: saving rewrites it as the current format.
    legacy: bool,
}

/// Load (or, when `may_create`, start) the baseline, then scan the tree with its key.
fn scan(args: &BaselineArgs, may_create: bool) -> anyhow::Result<Scanned> {
    let started = Instant::now();
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let file = args
        .baseline
        .clone()
        .unwrap_or_else(|| crate::cmd::filtering::in_root(&root, BASELINE_FILE));
    let loaded = match Baseline::load_optional(&file) {
        // `create` rewrites every entry, so it can replace a baseline whose fingerprints
        // are of an older scheme; the other commands must keep its entries and refuse.
        Err(BaselineError::Outdated { version, .. }) if may_create => {
            tracing::warn!(
                "{}: replacing a format version {version} baseline (new key, every entry rewritten)",
                terminal(&file.display().to_string())
            );
            None
        }
        other => other?,
    };
    let baseline = match loaded {
        Some(b) => b,
        None if may_create => Baseline::with_random_key()?,
        None => bail!(
            "no baseline at {}; run `unleak baseline create` first",
            file.display()
        ),
    };
    let setup = setup(&root, &args.rules, &args.filters)?;
    let matcher = Matcher::new(
        setup.rules,
        MatcherOptions {
            // The floor guard uses, so what is baselined is what guard would report.
            min_confidence: Confidence::Medium,
            ..MatcherOptions::default()
        },
    );
    let scanner = Scanner::new(&matcher, Paths::Verbatim).keyed(baseline.fingerprint_key());
    let memory = args.tuning.memory_budget;
    let TreeScan { findings, summary } = scan_tree(
        &root,
        &scanner,
        (args.tuning.threads, true),
        &memory,
        started,
    )?;
    if !summary.errors.is_empty() {
        for e in &summary.errors {
            eprintln!("error: {}: {}", terminal(&e.path), terminal(&e.message));
        }
        bail!(
            "{} file(s) could not be read; the baseline was not written",
            summary.errors.len()
        );
    }
    // A format 2 file's password entries take their current form, so `update` does not add
    // them again; the next save writes format 3.
    let legacy = baseline.is_legacy();
    let baseline = baseline.upgraded_for(&findings);
    let standing = findings
        .iter()
        .map(|f| Entry::of(f, &f.display_path()))
        .collect();
    let kept = setup
        .filter
        .apply(findings, |f| f.path.display_path().into_owned())
        .kept;
    Ok(Scanned {
        file,
        baseline,
        kept,
        standing,
        files: summary.files_scanned,
        legacy,
    })
}

fn create(args: BaselineArgs) -> anyhow::Result<Outcome> {
    // A closed pipe (`unleak baseline update | head`) drops the rest of the report, never panics.
    let mut out = super::Stdout { closed: false };
    let mut s = scan(&args, true)?;
    s.baseline.clear();
    for f in &s.kept {
        s.baseline.insert(Entry::of(f, &f.display_path()));
    }
    s.baseline.save(&s.file)?;
    writeln!(
        out,
        "wrote {}: {} entries from {} files scanned",
        terminal(&s.file.display().to_string()),
        s.baseline.entries().len(),
        s.files
    )?;
    Ok(Outcome::Clean)
}

fn update(args: BaselineArgs) -> anyhow::Result<Outcome> {
    let mut out = super::Stdout { closed: false };
    let mut s = scan(&args, false)?;
    let mut added = Vec::new();
    for f in &s.kept {
        if s.baseline.insert(Entry::of(f, &f.display_path())) {
            added.push(f);
        }
    }
    if !added.is_empty() || s.legacy {
        s.baseline.save(&s.file)?;
    }
    for f in &added {
        writeln!(
            out,
            "added  {}:{}  {}  {}",
            terminal(&f.display_path()),
            f.location.line,
            terminal(&f.rule_id),
            terminal(&f.redacted)
        )?;
    }
    writeln!(
        out,
        "{}: {} added, {} entries",
        terminal(&s.file.display().to_string()),
        added.len(),
        s.baseline.entries().len()
    )?;
    Ok(Outcome::Clean)
}

fn prune(args: BaselineArgs) -> anyhow::Result<Outcome> {
    let mut out = super::Stdout { closed: false };
    let mut s = scan(&args, false)?;
    let verdict = judge(
        &s.baseline,
        std::mem::take(&mut s.kept),
        |f| f.display_path().into_owned(),
        |e| s.standing.contains(e),
    );
    let mut changed = false;
    for m in &verdict.moved {
        let to = Entry::of(&m.finding, &m.finding.display_path());
        let from = Entry {
            path: m.from.clone(),
            ..to.clone()
        };
        changed |= s.baseline.remove(&from);
        changed |= s.baseline.insert(to);
        writeln!(
            out,
            "moved    {} -> {}  {}",
            terminal(&m.from),
            terminal(&m.finding.display_path()),
            terminal(&m.finding.rule_id)
        )?;
    }
    for e in &verdict.fixed {
        changed |= s.baseline.remove(e);
        writeln!(
            out,
            "removed  {}  {}  (the secret is gone)",
            terminal(&e.path),
            terminal(&e.rule)
        )?;
    }
    if changed || s.legacy {
        s.baseline.save(&s.file)?;
    }
    writeln!(
        out,
        "{}: {} removed, {} moved, {} entries",
        terminal(&s.file.display().to_string()),
        verdict.fixed.len(),
        verdict.moved.len(),
        s.baseline.entries().len()
    )?;
    Ok(Outcome::Clean)
}
