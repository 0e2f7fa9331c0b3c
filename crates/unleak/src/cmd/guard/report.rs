//! The guard's own reports: text for a terminal or a CI log, JSON, and the Markdown job
//! summary for `$GITHUB_STEP_SUMMARY`.
//!
//! Every path, rule id and redacted value from a scan is untrusted (a file name is chosen by
//! whoever wrote the pull request), so it goes through `escape::terminal` in text and
//! `escape::markdown_cell` in Markdown, and JSON through `escape::write_json`. Findings carry
//! only their redacted form and show their path with secrets masked
//! (`Finding::display_path`); nothing here calls `Secret::expose`.

use crate::cli::FailOnArg;
use serde::Serialize;
use serde_json::json;
use std::io::{self, Write};
use unleak_core::Finding;
use unleak_filters::{Reason, Verdict};
use unleak_report::escape::{markdown_cell, terminal};
use unleak_report::{FindingV1, ScanSummary};

/// Rows of the new-findings table in the job summary; GitHub caps a step summary at 1 MiB.
const SUMMARY_ROWS: usize = 50;

/// Said when the baseline looks made with another key (see `foreign_baseline`).
const FOREIGN_BASELINE: &str = "the baseline's key does not match these secrets: is it a baseline from another repository, or was its key regenerated? `unleak baseline create` in this repository writes a matching one";

/// A finding in the guard's JSON: the public finding shape, plus what its class adds.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    finding: FindingV1,
    /// New: the baseline paths where a known secret that spread still stands.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    spread_from: &'a [String],
    /// Moved: the baseline path it left.
    #[serde(skip_serializing_if = "Option::is_none")]
    from: Option<&'a str>,
}

impl<'a> Listed<'a> {
    fn new(finding: &Finding, spread_from: &'a [String], from: Option<&'a str>) -> Self {
        Listed {
            finding: FindingV1::from(finding),
            spread_from,
            from,
        }
    }
}

/// What the guard scanned.
pub enum Mode {
    Range {
        spec: String,
        commits: u64,
    },
    Staged,
    Tree,
    /// `--image`: the images given.
    Image {
        images: Vec<String>,
    },
}

impl Mode {
    fn name(&self) -> &'static str {
        match self {
            Mode::Range { .. } => "range",
            Mode::Staged => "staged",
            Mode::Tree => "tree",
            Mode::Image { .. } => "image",
        }
    }

    fn describe(&self) -> String {
        match self {
            Mode::Range { spec, commits } => format!("range {spec} ({commits} commits)"),
            Mode::Staged => "staged changes".into(),
            Mode::Tree => "the tree".into(),
            Mode::Image { images } => format!("image {}", terminal(&images.join(", "))),
        }
    }
}

pub struct GuardReport<'a> {
    pub mode: Mode,
    /// Changes the range makes to the configuration or baseline, not applied in this run.
    pub notices: &'a [String],
    /// The baseline file and its entry count, when there is one.
    pub baseline: Option<(String, usize)>,
    pub verdict: &'a Verdict,
    pub allowed: &'a [(Finding, Reason)],
    /// New findings at or above `--fail-on`.
    pub failing: usize,
    pub fail_on: FailOnArg,
    pub summary: &'a ScanSummary,
}

fn place(f: &Finding) -> String {
    format!(
        "{}:{}:{}",
        f.display_path(),
        f.location.line,
        f.location.column
    )
}

/// For a secret a commit of the range added and HEAD no longer holds: which commit.
fn history_note(f: &Finding) -> Option<String> {
    let git = f.git.as_ref().filter(|g| !g.in_head)?;
    let short: String = git.commit.chars().take(7).collect();
    Some(format!(
        "in this range's history: rotate it; added in {short}, gone from HEAD"
    ))
}

fn fail_on_name(f: FailOnArg) -> &'static str {
    match f {
        FailOnArg::Low => "low",
        FailOnArg::Medium => "medium",
        FailOnArg::High => "high",
        FailOnArg::None => "none",
    }
}

impl GuardReport<'_> {
    fn counts(&self) -> String {
        let v = self.verdict;
        let inline = self
            .allowed
            .iter()
            .filter(|(_, r)| *r == Reason::Inline)
            .count();
        format!(
            "{} new ({} at or above --fail-on {}) · {} known · {} moved · {} fixed · {} allowed ({} inline)",
            v.new.len(),
            self.failing,
            fail_on_name(self.fail_on),
            v.known.len(),
            v.moved.len(),
            v.fixed.len(),
            self.allowed.len(),
            inline
        )
    }

    pub fn write_text(&self, w: &mut dyn Write) -> io::Result<()> {
        let baseline = match &self.baseline {
            Some((file, n)) => format!("baseline {} ({n} entries)", terminal(file)),
            None => "no baseline: every finding is new".into(),
        };
        writeln!(
            w,
            "unleak guard · {} · {baseline}",
            terminal(&self.mode.describe())
        )?;
        for n in self.notices {
            writeln!(w, "notice: {}", terminal(n))?;
        }
        for n in &self.verdict.new {
            let f = &n.finding;
            let spread = if n.spread_from.is_empty() {
                String::new()
            } else {
                let from: Vec<String> = n.spread_from.iter().map(|p| terminal(p)).collect();
                format!("  (spread: still at {})", from.join(", "))
            };
            let history = history_note(f)
                .map(|n| format!("  ({n})"))
                .unwrap_or_default();
            writeln!(
                w,
                "NEW    {}  {}  {}  {}{spread}{history}",
                terminal(&place(f)),
                terminal(&f.rule_id),
                terminal(&f.redacted),
                f.confidence
            )?;
        }
        for m in &self.verdict.moved {
            writeln!(
                w,
                "MOVED  {}  {}  from {}",
                terminal(&place(&m.finding)),
                terminal(&m.finding.rule_id),
                terminal(&m.from)
            )?;
        }
        for e in &self.verdict.fixed {
            writeln!(
                w,
                "FIXED  {}  {}  no longer at this path",
                terminal(&e.path),
                terminal(&e.rule)
            )?;
        }
        writeln!(
            w,
            "{} · {} files scanned in {:.2} s",
            self.counts(),
            self.summary.files_scanned,
            self.summary.elapsed.as_secs_f64()
        )?;
        for e in &self.summary.errors {
            let what = if e.path.is_empty() {
                terminal(&e.message)
            } else {
                format!("{}: {}", terminal(&e.path), terminal(&e.message))
            };
            writeln!(w, "error: {what}")?;
        }
        if self.failing > 0 {
            let rotate = match self.mode {
                Mode::Staged => "take each new secret out of the commit (`git restore --staged`), rotate it if it was shared",
                Mode::Image { .. } => "rotate each new secret (every container of the image has it) and rebuild the image without it",
                _ => "rotate each new secret (it is in git history now)",
            };
            writeln!(
                w,
                "Next: {rotate}, move it to a secret store \
                 (unleak migrate); for a test value or a false positive add an `unleak:allow` comment \
                 on its line or an allowlist entry in .unleak.toml; to accept it, {}.",
                self.accept()
            )?;
        }
        if !self.verdict.fixed.is_empty() {
            writeln!(
                w,
                "`unleak baseline prune` drops the fixed entries from the baseline."
            )?;
        }
        if self.foreign_baseline() {
            writeln!(w, "Hint: {FOREIGN_BASELINE}.")?;
        }
        Ok(())
    }

    /// Whether the baseline looks made with another key (from another repository, or
    /// regenerated): most of its entries are gone and a new finding has the path and rule
    /// of one of them, which is what the same secret under a different key looks like.
    fn foreign_baseline(&self) -> bool {
        let v = self.verdict;
        let Some((_, entries)) = &self.baseline else {
            return false;
        };
        *entries > 0
            && v.fixed.len() * 2 > *entries
            && v.new.iter().any(|n| {
                let path = n.finding.display_path();
                v.fixed
                    .iter()
                    .any(|e| e.path == path && e.rule == *n.finding.rule_id)
            })
    }

    /// How to accept a new secret as known: `create` when there is no baseline yet, and
    /// in range mode the baseline counts once merged, since a range's guard reads BASE's.
    fn accept(&self) -> &'static str {
        if matches!(self.mode, Mode::Image { .. }) {
            return "run `unleak baseline update` in the repository the secret is committed in (a secret its baseline knows is not new in an image)";
        }
        let range = matches!(self.mode, Mode::Range { .. });
        match (&self.baseline, range) {
            (None, false) => "run `unleak baseline create` and commit .unleak-baseline.json",
            (Some(_), false) => "run `unleak baseline update` and commit .unleak-baseline.json",
            (None, true) => "run `unleak baseline create`, commit .unleak-baseline.json and merge it first (a range is judged by the baseline of its base)",
            (Some(_), true) => "run `unleak baseline update`, commit .unleak-baseline.json and merge it first (a range is judged by the baseline of its base)",
        }
    }

    pub fn write_json(&self, w: &mut dyn Write) -> io::Result<()> {
        let v = self.verdict;
        let allowed: Vec<_> = self
            .allowed
            .iter()
            .map(|(f, why)| {
                json!({
                    "path": f.display_path(),
                    "line": f.location.line,
                    "rule_id": &*f.rule_id,
                    "fingerprint": f.fingerprint,
                    "reason": why,
                })
            })
            .collect();
        let doc = json!({
            "version": 1,
            "mode": self.mode.name(),
            "baseline": self.baseline.as_ref().map(|(f, _)| f),
            "fail_on": fail_on_name(self.fail_on),
            "notices": self.notices,
            "counts": {
                "new": v.new.len(),
                "failing": self.failing,
                "known": v.known.len(),
                "moved": v.moved.len(),
                "fixed": v.fixed.len(),
                "allowed": self.allowed.len(),
            },
            "new": v.new.iter().map(|n| Listed::new(&n.finding, &n.spread_from, None)).collect::<Vec<_>>(),
            "moved": v.moved.iter().map(|m| Listed::new(&m.finding, &[], Some(&m.from))).collect::<Vec<_>>(),
            "fixed": v.fixed,
            "known": v.known.iter().map(|f| Listed::new(f, &[], None)).collect::<Vec<_>>(),
            "allowed": allowed,
            "errors": self.summary.errors,
        });
        unleak_report::escape::write_json(w, &doc, true)?;
        writeln!(w)
    }

    /// The job summary: a verdict line, counts, the new findings and what to do next.
    pub fn write_markdown(&self, w: &mut dyn Write) -> io::Result<()> {
        let v = self.verdict;
        let title = if self.failing > 0 {
            format!("❌ {} new secret(s)", self.failing)
        } else if !v.new.is_empty() {
            format!(
                "⚠️ {} new finding(s) below --fail-on {}",
                v.new.len(),
                fail_on_name(self.fail_on)
            )
        } else {
            "✅ no new secrets".to_string()
        };
        writeln!(w, "## unleak guard: {title}\n")?;
        writeln!(
            w,
            "Scanned {} · {}.\n",
            markdown_cell(&self.mode.describe()),
            match &self.baseline {
                Some((file, n)) => format!("baseline `{}` ({n} entries)", markdown_cell(file)),
                None => "no baseline".into(),
            }
        )?;
        for n in self.notices {
            writeln!(w, "> **Notice:** {}\n", markdown_cell(n))?;
        }
        writeln!(w, "| new | known | moved | fixed | allowed | unreadable |")?;
        writeln!(w, "|---:|---:|---:|---:|---:|---:|")?;
        writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |\n",
            v.new.len(),
            v.known.len(),
            v.moved.len(),
            v.fixed.len(),
            self.allowed.len(),
            self.summary.errors.len()
        )?;
        if !v.new.is_empty() {
            writeln!(w, "### New findings\n")?;
            writeln!(
                w,
                "| File | Line | Rule | Secret (redacted) | Confidence | Note |"
            )?;
            writeln!(w, "|---|---:|---|---|---|---|")?;
            for n in v.new.iter().take(SUMMARY_ROWS) {
                let f = &n.finding;
                let mut note = if n.spread_from.is_empty() {
                    String::new()
                } else {
                    format!("spread: still at {}", n.spread_from.join(", "))
                };
                if let Some(h) = history_note(f) {
                    note = if note.is_empty() {
                        h
                    } else {
                        format!("{note}; {h}")
                    };
                }
                writeln!(
                    w,
                    "| {} | {} | {} | {} | {} | {} |",
                    markdown_cell(&f.display_path()),
                    f.location.line,
                    markdown_cell(&f.rule_id),
                    markdown_cell(&f.redacted),
                    f.confidence,
                    markdown_cell(&note)
                )?;
            }
            if v.new.len() > SUMMARY_ROWS {
                writeln!(
                    w,
                    "\n{} more; the SARIF and JSON reports list every finding.",
                    v.new.len() - SUMMARY_ROWS
                )?;
            }
            writeln!(w, "\n### What to do next\n")?;
            writeln!(
                w,
                "1. **Rotate** each new secret at its provider: it is in the branch's git history now, \
                 even if the line is deleted.\n\
                 2. Move the value to a secret store or an access gateway (`unleak migrate`) and push the change.\n\
                 3. A test value or a false positive: add an `unleak:allow` comment on its line, or an \
                 allowlist entry in `.unleak.toml`.\n\
                 4. To accept a secret as known: {}.",
                self.accept().replace(".unleak-baseline.json", "`.unleak-baseline.json`")
            )?;
        }
        if !v.fixed.is_empty() {
            writeln!(
                w,
                "\n{} baseline entr(y/ies) no longer at their path: `unleak baseline prune` drops them.",
                v.fixed.len()
            )?;
        }
        if self.foreign_baseline() {
            writeln!(w, "\n**Hint:** {FOREIGN_BASELINE}.")?;
        }
        if !self.summary.errors.is_empty() {
            writeln!(
                w,
                "\n**{} input(s) could not be read**: the scan is incomplete and the guard fails.",
                self.summary.errors.len()
            )?;
        }
        writeln!(w)
    }
}
