//! `unleak scan`: files, directories and standard input.

use crate::cli::{ColorArg, ScanArgs};
use crate::cmd::filtering::{load_baseline, setup};
use crate::cmd::memory::worker_plan;
use crate::cmd::{git, with_output};
use crate::Outcome;
use anyhow::bail;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Instant;
use unleak_core::Finding;
use unleak_filters::{Baseline, Filter};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_report::{Format, ReportOptions, ScanSummary};
use unleak_scan::{Collect, Files, Filtered, JsonlStream, Paths, Scanner, Source, Sources, Stdin};
use unleak_sources::WalkOptions;

pub fn run(args: ScanArgs, verbose: u8) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let mut paths = args.paths.clone();
    if paths.is_empty() {
        paths.push(PathBuf::from("."));
    }
    let stdin_count = paths.iter().filter(|p| p.as_os_str() == "-").count();
    if stdin_count > 1 {
        bail!("`-` (standard input) can be given only once");
    }
    let roots: Vec<PathBuf> = paths.into_iter().filter(|p| p.as_os_str() != "-").collect();
    // `.unleak.toml` is looked for at the root of what is scanned: the repository in git
    // modes, the one directory given, else the current directory.
    let config_root = match roots.as_slice() {
        [one] if args.git.any() || one.is_dir() => one.clone(),
        _ => PathBuf::from("."),
    };
    let setup = setup(&config_root, &args.rules, &args.filters)?;
    let (baseline, _) = load_baseline(&config_root, args.baseline.as_deref())?;
    let filter = setup.filter;
    let memory = args.tuning.memory_budget;
    let plan = worker_plan(&memory, args.tuning.threads);
    let matcher = Matcher::new(
        setup.rules,
        MatcherOptions {
            min_confidence: args.min_confidence,
            max_decoded_per_blob: usize::try_from(plan.decoded_per_blob).unwrap_or(usize::MAX),
        },
    );
    // The baseline's key, so a scan's fingerprints are the guard's.
    let key = baseline
        .as_ref()
        .map(Baseline::fingerprint_key)
        .unwrap_or_default();
    let scanner = Scanner::new(&matcher, Paths::AsGiven).keyed(key);
    let format = args.report.format;
    if args.report.sarif_category.is_some() && format != Format::Sarif {
        bail!("--sarif-category names the category of a SARIF run; it needs --format sarif");
    }
    let color = match args.color {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            args.report.output.is_none()
                && std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let version = env!("CARGO_PKG_VERSION");
    let repo_url = args.git.repo_url.as_deref().map(public_repo_url);
    let report_opts = ReportOptions {
        color,
        tool_version: version,
        repo_url: repo_url.as_deref(),
        verbose: verbose > 0,
    };

    if !args.image.images.is_empty() {
        if !args.paths.is_empty() || args.git.any() {
            bail!("--image scans images only: scan files, `-` or git history in another run");
        }
        let (findings, summary) = crate::cmd::image::scan(
            &args.image,
            !args.archives.no_extract_archives,
            &scanner,
            args.walk.max_file_size,
            args.tuning.threads,
            &memory,
            started,
        )?;
        return report_collected(
            &args,
            &filter,
            &matcher,
            findings,
            &summary,
            format,
            &report_opts,
        );
    }

    if args.git.any() {
        if stdin_count > 0 || roots.len() > 1 {
            bail!("git modes take one repository path, not `-` or several paths");
        }
        let repo = roots.first().cloned().unwrap_or_else(|| PathBuf::from("."));
        let (findings, summary) = git::scan(
            &repo,
            &args.git,
            &scanner,
            (args.tuning.threads, !args.archives.no_extract_archives),
            memory,
            started,
        )?;
        return report_collected(
            &args,
            &filter,
            &matcher,
            findings,
            &summary,
            format,
            &report_opts,
        );
    }

    let walk_opts = WalkOptions {
        max_file_size: args.walk.max_file_size,
        respect_gitignore: args.walk.respect_gitignore,
        include: args.walk.include.clone(),
        exclude: args.walk.exclude.clone(),
        follow_symlinks: args.walk.follow_symlinks,
        decompress: true,
        extract_archives: !args.archives.no_extract_archives,
        ..WalkOptions::default()
    }
    .within(&plan);
    let outcome_counts = with_output(args.report.output.as_deref(), |out| {
        let stdin = Stdin {
            chunk_buffer: walk_opts.chunk_buffer,
        };
        let files = Files {
            roots: &roots,
            options: &walk_opts,
        };
        let mut sources: Vec<&dyn Source> = Vec::new();
        if stdin_count == 1 {
            sources.push(&stdin);
        }
        sources.push(&files);
        let sources = Sources(sources);
        let scanner = scanner
            .with_paths(Paths::AsGiven)
            .revealing(args.show_secrets);
        // JSONL streams each file's findings as soon as it is scanned.
        let (findings, streamed, stats) = if format == Format::Jsonl {
            let sink = Filtered::new(&filter, &config_root, JsonlStream::new(&mut *out));
            let stats = scanner.run(&sources, &sink)?;
            log_allowed(sink.allowed());
            (Vec::new(), sink.into_inner().finish()?, stats)
        } else {
            let sink = Filtered::new(&filter, &config_root, Collect::new(&memory));
            let stats = scanner.run(&sources, &sink)?;
            log_allowed(sink.allowed());
            (sink.into_inner().into_findings()?, 0, stats)
        };
        let summary = stats.summary(started.elapsed());
        write_report(
            out,
            format,
            &findings,
            matcher.rules(),
            &summary,
            &report_opts,
            args.report.sarif_category.as_deref(),
        )?;
        let found = findings.len() + streamed as usize;
        Ok((found, summary.errors.len()))
    })?;
    outcome(outcome_counts.0, outcome_counts.1)
}

/// The report, with SARIF's category when one was given, and a warning when SARIF must
/// leave findings out (shared with guard) (GitHub's per-run cap; the run itself records how many).
pub(crate) fn write_report(
    out: &mut dyn Write,
    format: Format,
    findings: &[Finding],
    rules: &unleak_rules::RuleSet,
    summary: &ScanSummary,
    opts: &ReportOptions,
    category: Option<&str>,
) -> anyhow::Result<()> {
    if format != Format::Sarif {
        return Ok(unleak_report::write_report(
            out, format, findings, rules, summary, opts,
        )?);
    }
    let cap = unleak_report::SARIF_MAX_RESULTS;
    if findings.len() > cap {
        tracing::warn!(
            "SARIF keeps the {cap} most severe of {} findings: GitHub code scanning accepts at \
             most {cap} results per run (--format json lists them all)",
            findings.len()
        );
    }
    Ok(unleak_report::write_sarif(
        out, findings, rules, opts, category,
    )?)
}

/// `--repo-url` without what can carry a credential (user name, password, query,
/// fragment), with a warning when something was dropped. The warning shows only what is
/// kept.
fn public_repo_url(url: &str) -> String {
    let (public, dropped) = unleak_report::public_url(url);
    if dropped {
        tracing::warn!(
            "--repo-url: dropped the user name, password, query or fragment; reports use {}",
            unleak_report::escape::terminal(&public)
        );
    }
    public
}

/// Allowed findings are not reported; say how many at `-v`.
/// Filter, reveal if asked, and report the findings of a scan that collected them all first
/// (images and git modes; the tree scan streams and filters as it goes).
fn report_collected(
    args: &ScanArgs,
    filter: &Filter,
    matcher: &Matcher,
    findings: Vec<Finding>,
    summary: &ScanSummary,
    format: Format,
    report_opts: &ReportOptions,
) -> anyhow::Result<Outcome> {
    let filtered = filter.apply(findings, |f| f.path.display_path().into_owned());
    log_allowed(filtered.suppressed.len() as u64);
    let mut findings = filtered.kept;
    if args.show_secrets {
        findings.iter_mut().for_each(Finding::reveal);
    }
    let (n, errors) = (findings.len(), summary.errors.len());
    with_output(args.report.output.as_deref(), |out| {
        write_report(
            out,
            format,
            &findings,
            matcher.rules(),
            summary,
            report_opts,
            args.report.sarif_category.as_deref(),
        )
    })?;
    outcome(n, errors)
}

fn log_allowed(n: u64) {
    if n > 0 {
        tracing::info!("{n} finding(s) allowed by .unleak.toml or unleak:allow comments");
    }
}

/// Findings decide the exit code; without findings, unread input makes the run an error,
/// never a clean pass.
fn outcome(findings: usize, errors: usize) -> anyhow::Result<Outcome> {
    if findings > 0 {
        return Ok(Outcome::Findings);
    }
    if errors > 0 {
        bail!("{errors} input(s) could not be read; the scan is incomplete (see the report)");
    }
    Ok(Outcome::Clean)
}
