//! `unleak guard`: the CI and pre-commit gate.
//!
//! Scans one of three things: a pull-request range (`--range BASE..HEAD`: the lines the
//! range added, in every commit of it, so a secret added and removed again still counts),
//! the staged index (`--staged`: what `git commit` would add) or the whole tree. Then it
//! drops what allowlists and inline comments allow, judges the rest against the baseline
//! (new, known, moved, fixed) and fails when something new is at or above `--fail-on`. A
//! range is judged by the configuration and baseline of BASE (see `trusted`), so a pull
//! request cannot decide its own verdict. A secret on a moved line is not new unless the
//! move took it out of an allowlisted path; moved known secrets are MOVED, not FIXED. For a range or staged scan, whether a known secret still stands at its
//! baseline path is read from HEAD's tree or the index, not from the diff, so a secret
//! copied to a new file is caught even when its old file was not touched.
//!
//! Exit codes: 0 nothing new at or above `--fail-on`; 1 new findings; 2 usage,
//! configuration, baseline, rule or I/O error, including any input that could not be read
//! (a guard never passes an incomplete scan).

mod report;
mod trusted;

use crate::cli::GuardArgs;
use crate::cmd::filtering::{load_baseline, scan_tree, setup};
use crate::cmd::memory::worker_plan;
use crate::cmd::with_output;
use crate::Outcome;
use anyhow::{bail, Context};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;
use unleak_core::{Blob, Confidence, Finding, Fingerprint, MemoryBudget, Origin};
use unleak_filters::{judge, Baseline, Entry, Filter, NewFinding, Verdict};
use unleak_git::{MovedLine, PathContent, Snapshot};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_report::{Format, ReportOptions, ScanSummary};
use unleak_scan::{Collect, Paths, ScanStats, Scanner, Source, SourceError};
use unleak_sources::Item;

use report::Mode;
use trusted::Trusted;

pub fn run(args: GuardArgs) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let root = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let range = match &args.range {
        Some(spec) => Some(
            unleak_git::parse_range(spec)
                .with_context(|| format!("--range `{spec}` is not BASE..HEAD"))?,
        ),
        None => None,
    };
    if args.report.sarif_category.is_some()
        && args.report.format != Format::Sarif
        && args.sarif.is_none()
    {
        bail!(
            "--sarif-category names the category of a SARIF run; it needs --format sarif or --sarif FILE"
        );
    }
    let trusted = match &range {
        Some((base, head)) if !args.trust_worktree_config => trusted::from_base(
            &root,
            base,
            head,
            &args.rules,
            &args.filters,
            args.baseline.as_deref(),
        )?,
        _ => {
            let setup = setup(&root, &args.rules, &args.filters)?;
            let (baseline, file) = load_baseline(&root, args.baseline.as_deref())?;
            Trusted {
                setup,
                baseline,
                baseline_file: file.display().to_string(),
                notices: Vec::new(),
            }
        }
    };
    for notice in &trusted.notices {
        eprintln!(
            "unleak: notice: {}",
            unleak_report::escape::terminal(notice)
        );
    }
    let Trusted {
        setup,
        baseline,
        baseline_file,
        notices,
    } = trusted;
    if baseline.is_none() {
        tracing::info!("no baseline at {baseline_file}: every finding is new");
    }
    let memory = args.tuning.memory_budget;
    let matcher = Matcher::new(
        setup.rules,
        MatcherOptions {
            max_decoded_per_blob: usize::try_from(
                worker_plan(&memory, args.tuning.threads).decoded_per_blob,
            )
            .unwrap_or(usize::MAX),
            // What `scan` reports by default, so a trivially fake value never fails CI.
            min_confidence: Confidence::Medium,
        },
    );

    // Git paths are repository paths already.
    let key = baseline
        .as_ref()
        .map(Baseline::fingerprint_key)
        .unwrap_or_default();
    let scanner = Scanner::new(&matcher, Paths::Verbatim).keyed(key);
    let image_mode = !args.image.images.is_empty();
    let extract_archives = !args.archives.no_extract_archives;
    let changes = unleak_git::ChangeOptions {
        memory,
        extract_archives,
    };
    if image_mode && (range.is_some() || args.staged) {
        bail!("--image gates an image, --range and --staged gate git changes: run them separately");
    }
    let (mode, mut findings, moved, summary, standing) = if image_mode {
        let (findings, summary) = crate::cmd::image::scan(
            &args.image,
            extract_archives,
            &scanner,
            IMAGE_MAX_FILE_SIZE,
            args.tuning.threads,
            &memory,
            started,
        )?;
        let mode = Mode::Image {
            images: args.image.images.clone(),
        };
        (mode, findings, Vec::new(), summary, HashSet::new())
    } else if let (Some((base, head)), Some(spec)) = (&range, &args.range) {
        let (diff, stats) = scanner.range(&root, (base, head), &changes)?;
        let head_id = diff.head.clone().unwrap_or_else(|| head.clone());
        let standing = standing_in(
            &root,
            Snapshot::Commit(&head_id),
            baseline.as_ref(),
            &scanner,
            &memory,
        )?;
        let mode = Mode::Range {
            spec: spec.clone(),
            commits: diff.commits,
        };
        let (findings, moved, summary) = diff_result(diff, stats, started);
        (mode, findings, moved, summary, standing)
    } else if args.staged {
        let (diff, stats) = scanner.staged(&root, &changes)?;
        let standing = standing_in(&root, Snapshot::Index, baseline.as_ref(), &scanner, &memory)?;
        let (findings, moved, summary) = diff_result(diff, stats, started);
        (Mode::Staged, findings, moved, summary, standing)
    } else {
        let tree = scan_tree(
            &root,
            &scanner,
            (args.tuning.threads, extract_archives),
            &memory,
            started,
        )?;
        let standing: HashSet<Entry> = tree
            .findings
            .iter()
            .map(|f| Entry::of(f, &f.display_path()))
            .collect();
        (
            Mode::Tree,
            tree.findings,
            Vec::new(),
            tree.summary,
            standing,
        )
    };

    let moves = sort_moves(&setup.filter, moved);
    findings.extend(moves.left_allowlist);
    let filtered = setup
        .filter
        .apply(findings, |f| f.path.display_path().into_owned());
    let empty = Baseline::with_random_key()?;
    // Secrets on moved lines go through the baseline too, so a renamed known secret is
    // MOVED, not FIXED; one the baseline does not know was there before and stays unjudged.
    let moved_here: HashSet<(String, usize, usize, String)> =
        moves.kept_verdict.iter().map(place_key).collect();
    let mut judged = filtered.kept;
    judged.extend(moves.kept_verdict);
    // Baselines hold the path as reports show it: a secret in a file name stays masked.
    let mut verdict = if image_mode {
        judge_image(baseline.as_ref().unwrap_or(&empty), judged)
    } else {
        judge(
            baseline.as_ref().unwrap_or(&empty),
            judged,
            |f| f.display_path().into_owned(),
            |e| standing.contains(e),
        )
    };
    verdict
        .new
        .retain(|n| !moved_here.contains(&place_key(&n.finding)));
    let floor = args.fail_on.floor();
    let failing = verdict
        .new
        .iter()
        .filter(|n| floor.is_some_and(|c| n.finding.confidence >= c))
        .count();
    let guard = report::GuardReport {
        mode,
        notices: &notices,
        baseline: baseline
            .as_ref()
            .map(|b| (baseline_file.clone(), b.entries().len())),
        verdict: &verdict,
        allowed: &filtered.suppressed,
        failing,
        fail_on: args.fail_on,
        summary: &summary,
    };

    let mut new: Vec<Finding> = verdict.new.iter().map(|n| n.finding.clone()).collect();
    new.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    let report_opts = ReportOptions {
        color: false,
        tool_version: env!("CARGO_PKG_VERSION"),
        repo_url: None,
        verbose: false,
    };
    with_output(args.report.output.as_deref(), |out| -> anyhow::Result<()> {
        Ok(match args.report.format {
            Format::Text => guard.write_text(out),
            Format::Json => guard.write_json(out),
            // The new findings, one per line: what `scan --format jsonl` prints for them.
            Format::Jsonl => unleak_report::write_report(
                out,
                Format::Jsonl,
                &new,
                matcher.rules(),
                &summary,
                &report_opts,
            ),
            Format::Github => {
                unleak_report::write_report(
                    out,
                    Format::Github,
                    &new,
                    matcher.rules(),
                    &summary,
                    &report_opts,
                )?;
                guard.write_text(out)
            }
            Format::Sarif => crate::cmd::scan::write_report(
                out,
                Format::Sarif,
                &new,
                matcher.rules(),
                &summary,
                &report_opts,
                args.report.sarif_category.as_deref(),
            )
            .map_err(std::io::Error::other),
        }?)
    })?;
    if let Some(file) = &args.json {
        unleak_atomic::write_atomic_with(file, |w| guard.write_json(w))?;
    }
    if let Some(file) = &args.sarif {
        unleak_atomic::write_atomic_with(file, |w| {
            crate::cmd::scan::write_report(
                w,
                Format::Sarif,
                &new,
                matcher.rules(),
                &summary,
                &report_opts,
                args.report.sarif_category.as_deref(),
            )
            .map_err(std::io::Error::other)
        })?;
    }
    let summary_file = args.summary.clone().or_else(|| {
        std::env::var_os("GITHUB_STEP_SUMMARY")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    });
    if let Some(file) = summary_file {
        let mut markdown = Vec::new();
        guard.write_markdown(&mut markdown)?;
        unleak_atomic::append_whole(&file, &markdown)
            .with_context(|| format!("cannot append the job summary to {}", file.display()))?;
    }

    if failing > 0 {
        return Ok(Outcome::Findings);
    }
    if !summary.errors.is_empty() {
        bail!(
            "{} input(s) could not be read; the guard does not pass an incomplete scan (see the report)",
            summary.errors.len()
        );
    }
    Ok(Outcome::Clean)
}

/// Files in an image larger than this are skipped, as `scan --max-file-size` defaults.
const IMAGE_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;

/// An image against the repository's baseline: a secret the baseline knows at any path is
/// known (the image was built from the repository, so its paths are not the baseline's),
/// anything else is new. Nothing is fixed: an image does not say what the repository
/// still holds.
fn judge_image(baseline: &Baseline, findings: Vec<Finding>) -> Verdict {
    let known: HashSet<(&str, &Fingerprint)> = baseline
        .entries()
        .iter()
        .map(|e| (e.rule.as_str(), &e.fingerprint))
        .collect();
    let mut verdict = Verdict::default();
    for f in findings {
        if known.contains(&(&*f.rule_id, &f.fingerprint)) {
            verdict.known.push(f);
        } else {
            verdict.new.push(NewFinding {
                finding: f,
                spread_from: Vec::new(),
            });
        }
    }
    verdict
}

/// Secrets on moved lines, sorted by what the move did to their verdict.
struct Moves {
    /// Allowed at every old place and not at the new one: new (a secret moved out of a
    /// test-fixture path is as new as a pasted one).
    left_allowlist: Vec<Finding>,
    /// Not allowed at the new place nor at some old one: judged against the baseline for
    /// moves, never new.
    kept_verdict: Vec<Finding>,
}

fn sort_moves(filter: &Filter, moved: Vec<MovedLine>) -> Moves {
    let mut moves = Moves {
        left_allowlist: Vec::new(),
        kept_verdict: Vec::new(),
    };
    for m in moved {
        let here = m.finding.display_path().into_owned();
        if filter.reason(&m.finding, &here).is_some() {
            continue;
        }
        if m.from
            .iter()
            .all(|p| filter.reason(&m.finding, p).is_some())
        {
            moves.left_allowlist.push(m.finding);
        } else {
            moves.kept_verdict.push(m.finding);
        }
    }
    moves
}

/// Where a finding is: path, line, column and rule.
fn place_key(f: &Finding) -> (String, usize, usize, String) {
    (
        f.display_path().into_owned(),
        f.location.line,
        f.location.column,
        f.rule_id.to_string(),
    )
}

/// The baseline entries whose secret stands at its path in `snapshot`. Each distinct
/// baseline path is read once and scanned whole. A path that holds a blob unleak cannot
/// read counts as still holding its entries: the guard then calls a copy a spread, never
/// a move, rather than guess.
fn standing_in(
    repo: &Path,
    snapshot: Snapshot<'_>,
    baseline: Option<&Baseline>,
    scanner: &Scanner<'_>,
    memory: &MemoryBudget,
) -> anyhow::Result<HashSet<Entry>> {
    let Some(baseline) = baseline else {
        return Ok(HashSet::new());
    };
    let mut paths: Vec<String> = baseline.entries().iter().map(|e| e.path.clone()).collect();
    paths.dedup();
    let contents = unleak_git::read_paths(repo, snapshot, &paths)?;
    let mut standing = HashSet::new();
    for (path, content) in &contents {
        if let PathContent::Unread(why) = content {
            tracing::warn!(
                "baseline path `{}` was not read ({why}); its entries count as still there",
                unleak_report::escape::terminal(path)
            );
            standing.extend(
                baseline
                    .entries()
                    .iter()
                    .filter(|e| &e.path == path)
                    .cloned(),
            );
        }
    }
    let sink = Collect::new(memory);
    scanner.run(&SnapshotFiles(&contents), &sink)?;
    standing.extend(
        sink.into_findings()?
            .iter()
            .map(|f| Entry::of(f, &f.display_path())),
    );
    Ok(standing)
}

/// The text files read from a snapshot, each a blob at its repository path.
struct SnapshotFiles<'a>(&'a BTreeMap<String, PathContent>);

impl Source for SnapshotFiles<'_> {
    fn run(&self, emit: &(dyn Fn(Item<'_>) + Sync)) -> Result<(), SourceError> {
        for (path, content) in self.0 {
            if let PathContent::Text(data) = content {
                emit(Item::Blob {
                    blob: Blob::new(Origin::File(PathBuf::from(path)), data),
                    base_offset: 0,
                    base_line: 1,
                    base_column: 1,
                    overlap: 0,
                });
            }
        }
        Ok(())
    }
}

/// A range or staged scan's findings, moved lines and summary.
fn diff_result(
    diff: unleak_git::DiffScan,
    stats: ScanStats,
    started: Instant,
) -> (Vec<Finding>, Vec<MovedLine>, ScanSummary) {
    if let Some(shallow) = &diff.shallow {
        tracing::warn!("{}", shallow.message());
    }
    (diff.findings, diff.moved, stats.summary(started.elapsed()))
}
