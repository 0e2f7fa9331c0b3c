//! `unleak scan`: files, directories and standard input.

use crate::cli::{ColorArg, ScanArgs};
use crate::cmd::filtering::{load_baseline, partially_decoded, relative, setup};
use crate::cmd::memory::{worker_plan, HeldFindings};
use crate::cmd::{git, with_output};
use crate::Outcome;
use anyhow::bail;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use unleak_core::{Blob, Finding, Origin};
use unleak_filters::{Baseline, Filter};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_report::{Format, ReportOptions, ScanError, ScanSummary, Skipped};
use unleak_sources::{scan_stream, walk, Item, WalkOptions};

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
    // The baseline's key, so a scan's fingerprints are the guard's.
    let (baseline, _) = load_baseline(&config_root, args.baseline.as_deref())?;
    let filter = setup.filter;
    let memory = args.tuning.memory_budget;
    let plan = worker_plan(&memory, args.tuning.threads);
    let matcher = Matcher::new(
        setup.rules,
        MatcherOptions {
            key: baseline
                .as_ref()
                .map(Baseline::fingerprint_key)
                .unwrap_or_default(),
            min_confidence: args.min_confidence.into(),
            max_decoded_per_blob: usize::try_from(plan.decoded_per_blob).unwrap_or(usize::MAX),
        },
    );
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
            &matcher,
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
            &matcher,
            (args.tuning.threads, !args.walk.no_extract_archives),
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
        extract_archives: !args.walk.no_extract_archives,
        ..WalkOptions::default()
    }
    .within(&plan);
    let outcome_counts = with_output(args.report.output.as_deref(), |out| {
        // JSONL streams each file's findings as soon as it is scanned.
        let stream = (format == Format::Jsonl).then(|| Mutex::new(&mut *out));
        let scan = Collector {
            matcher: &matcher,
            filter: &filter,
            config_root: &config_root,
            allowed: AtomicU64::new(0),
            show_secrets: args.show_secrets,
            stream,
            streamed: AtomicU64::new(0),
            findings: HeldFindings::new(&memory),
            chunk_buffer: walk_opts.chunk_buffer,
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            skipped: Mutex::new(Vec::new()),
            errors: Mutex::new(Vec::new()),
        };
        if stdin_count == 1 {
            scan.stdin();
        }
        if !roots.is_empty() {
            walk(&roots, &walk_opts, |item| scan.item(item))?;
        }
        scan.stream_error()?;
        let Collector {
            findings,
            streamed,
            files,
            bytes,
            skipped,
            errors,
            allowed,
            ..
        } = scan;
        log_allowed(allowed.into_inner());
        let mut findings = findings.into_inner()?;
        findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        let mut skipped = skipped.into_inner().expect("no panics while collecting");
        skipped.sort_by(|a, b| a.path.cmp(&b.path));
        // A file read in chunks is listed once however many of its chunks were cut short.
        skipped.dedup();
        let mut errors = errors.into_inner().expect("no panics while collecting");
        errors.sort_by(|a, b| a.path.cmp(&b.path));
        let summary = ScanSummary {
            files_scanned: files.into_inner(),
            bytes_scanned: bytes.into_inner(),
            skipped,
            errors,
            elapsed: started.elapsed(),
        };
        let shown: &[Finding] = if format == Format::Jsonl {
            &[]
        } else {
            &findings
        };
        write_report(
            out,
            format,
            shown,
            matcher.rules(),
            &summary,
            &report_opts,
            args.report.sarif_category.as_deref(),
        )?;
        let found = findings.len() + streamed.into_inner() as usize;
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

/// Gathers findings and counts from the walker's threads.
struct Collector<'a, 'w, 'o> {
    matcher: &'a Matcher,
    filter: &'a Filter,
    /// Where `.unleak.toml` was looked for; allowlist paths are relative to it.
    config_root: &'a Path,
    allowed: AtomicU64,
    show_secrets: bool,
    stream: Option<Mutex<&'w mut (dyn Write + Send + 'o)>>,
    /// Findings written to the stream (JSONL) rather than held.
    streamed: AtomicU64,
    findings: HeldFindings,
    /// Bytes of the buffer standard input is read in.
    chunk_buffer: usize,
    files: AtomicU64,
    bytes: AtomicU64,
    skipped: Mutex<Vec<Skipped>>,
    errors: Mutex<Vec<ScanError>>,
}

impl Collector<'_, '_, '_> {
    fn item(&self, item: Item<'_>) {
        if self.findings.is_full() {
            // The run ends in an error naming --memory-budget; scanning on would be wasted.
            return;
        }
        match item {
            Item::Blob {
                blob,
                base_offset,
                base_line,
                base_column,
                overlap,
            } => self.blob(&blob, (base_offset, base_line, base_column), overlap),
            Item::Skipped { path, reason } => self.skipped.lock().unwrap().push(Skipped {
                path: display(&path),
                reason: reason.to_string(),
            }),
            Item::Error { path, message } => self.errors.lock().unwrap().push(ScanError {
                path: display(&path),
                message,
            }),
        }
    }

    /// `base` is the blob's (byte offset, line, column) in its stream.
    fn blob(&self, blob: &Blob<'_>, base: (usize, usize, usize), overlap: usize) {
        let (base_offset, base_line, base_column) = base;
        if base_offset == 0 {
            self.files.fetch_add(1, Ordering::Relaxed);
        }
        self.bytes
            .fetch_add((blob.data.len() - overlap) as u64, Ordering::Relaxed);
        let scanned = self.matcher.scan_blob(blob);
        if scanned.partially_decoded {
            let path = match &blob.origin {
                Origin::File(p) => display(p),
                other => display(Path::new(other.display_path().as_ref())),
            };
            self.skipped.lock().unwrap().push(Skipped {
                path,
                reason: partially_decoded(self.matcher),
            });
        }
        let mut found = scanned.findings;
        // Findings wholly inside the overlap were reported with the previous chunk.
        found.retain(|f| f.span.end > overlap);
        if found.is_empty() {
            return;
        }
        for f in &mut found {
            f.shift(base_offset, base_line, base_column);
            if let Origin::File(p) = f.path.outermost() {
                let shown = Origin::File(PathBuf::from(display(p)));
                f.path = std::mem::replace(&mut f.path, Origin::Stdin).rebase(shown);
            }
            if self.show_secrets {
                f.reveal();
            }
        }
        let before = found.len();
        found.retain(|f| {
            // An archive member is allowed by its archive's path with `!member` after it.
            let rel = match f.path.outermost() {
                Origin::File(p) => {
                    let outer = Origin::File(p.clone()).display_path().len();
                    relative(self.config_root, p) + &f.path.display_path()[outer..]
                }
                _ => f.path.display_path().into_owned(),
            };
            self.filter.reason(f, &rel).is_none()
        });
        self.allowed
            .fetch_add((before - found.len()) as u64, Ordering::Relaxed);
        if found.is_empty() {
            return;
        }
        if let Some(stream) = &self.stream {
            // Streamed findings are written now and not held: JSONL needs no findings share.
            let mut w = stream.lock().unwrap();
            for f in &found {
                if let Err(e) = unleak_report::write_jsonl_finding(&mut **w, f) {
                    self.errors.lock().unwrap().push(ScanError {
                        path: "<output>".into(),
                        message: format!("cannot write a finding: {e}"),
                    });
                    break;
                }
            }
            self.streamed
                .fetch_add(found.len() as u64, Ordering::Relaxed);
            return;
        }
        self.findings.hold(found);
    }

    fn stdin(&self) {
        let stdin = std::io::stdin();
        let result = scan_stream(stdin.lock(), self.chunk_buffer, |chunk| {
            let blob = Blob::new(Origin::Stdin, chunk.data);
            self.blob(
                &blob,
                (chunk.base_offset, chunk.base_line, chunk.base_column),
                chunk.overlap,
            );
        });
        if let Err(e) = result {
            self.errors.lock().unwrap().push(ScanError {
                path: "<stdin>".into(),
                message: format!("cannot read standard input: {e}"),
            });
        }
    }

    /// A failure to write a streamed finding is an I/O error of the whole run.
    fn stream_error(&self) -> std::io::Result<()> {
        let errors = self.errors.lock().unwrap();
        match errors.iter().find(|e| e.path == "<output>") {
            Some(e) => Err(std::io::Error::other(e.message.clone())),
            None => Ok(()),
        }
    }
}

/// Paths as users typed them, without a leading `./`.
fn display(p: &Path) -> String {
    let s = p.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}
