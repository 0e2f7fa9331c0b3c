//! unleak's reporters: findings rendered as text, JSON, JSON Lines, SARIF 2.1.0 or GitHub
//! Actions annotations, written to any [`std::io::Write`].
//!
//! Owns: the shape of every report, the scan summary they end with, and the escaping of
//! untrusted strings for each output ([`escape`]). Does not own: deciding exit codes,
//! reading files, sorting findings (callers pass them sorted by `Finding::sort_key`), or
//! redaction (a [`Finding`] carries its redacted form; reporters never call
//! `Secret::expose`).

pub mod escape;
mod finding;
mod github;
mod json;
mod sarif;
mod text;
mod url;

use serde::Serialize;
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;
use std::time::Duration;
use unleak_core::Finding;
use unleak_rules::RuleSet;

pub use finding::{FindingV1, GitV1, ImageV1, SpanV1, FINDING_SCHEMA_VERSION};
pub use json::write_jsonl_finding;
pub use sarif::MAX_RESULTS as SARIF_MAX_RESULTS;
pub use url::public_url;

/// A report format, as named on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Grouped by file, for people at a terminal.
    Text,
    /// One versioned JSON document with findings and summary.
    Json,
    /// One JSON finding per line, nothing else.
    Jsonl,
    /// SARIF 2.1.0, for code scanning (GitHub, GitLab, IDEs).
    Sarif,
    /// GitHub Actions workflow-command annotations plus a summary line.
    Github,
}

impl Format {
    /// Every format, in the order help texts list them.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Json,
        Format::Jsonl,
        Format::Sarif,
        Format::Github,
    ];

    /// The name the command line and reports use (`jsonl`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown report format `{0}` (expected text, json, jsonl, sarif or github)")]
pub struct UnknownFormat(String);

impl FromStr for Format {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFormat(escape::terminal(s)))
    }
}

/// What a scan covered, for the closing lines of a report.
#[derive(Clone, Debug, Default)]
pub struct ScanSummary {
    /// How many files were read.
    pub files_scanned: u64,
    /// Bytes read.
    pub bytes_scanned: u64,
    /// What was left out on purpose.
    pub skipped: Vec<Skipped>,
    /// What could not be read.
    pub errors: Vec<ScanError>,
    /// How long the scan took.
    pub elapsed: Duration,
}

/// A file the scan left out on purpose (binary, too large, symlink, fifo...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// The file, as reports show it.
    pub path: String,
    /// Why it was skipped (`binary`, for one).
    pub reason: String,
}

/// A file the scan could not read. `message` never holds a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ScanError {
    /// The file, as reports show it.
    pub path: String,
    /// Why it could not be read.
    pub message: String,
}

/// How to render, beyond the format itself.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportOptions<'a> {
    /// ANSI colour in the text format (and the summary of the github format).
    pub color: bool,
    /// unleak's version, for JSON and SARIF tool metadata.
    pub tool_version: &'a str,
    /// The repository's web URL (e.g. `https://github.com/o/r`); SARIF then points
    /// history-only findings at `{repo_url}/blob/{commit}/{path}`. Any user name, password,
    /// query or fragment in it is dropped ([`public_url`]).
    pub repo_url: Option<&'a str>,
    /// List every skipped file, not only their count.
    pub verbose: bool,
}

/// Write a whole report. `findings` must already be sorted by `Finding::sort_key`;
/// `rules` supplies rule metadata (SARIF rule descriptors).
pub fn write_report(
    w: &mut dyn Write,
    format: Format,
    findings: &[Finding],
    rules: &RuleSet,
    summary: &ScanSummary,
    opts: &ReportOptions,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(w, findings, summary, opts),
        Format::Json => json::write_document(w, findings, summary, opts),
        Format::Jsonl => json::write_lines(w, findings),
        Format::Sarif => sarif::write(w, findings, rules, opts, None),
        Format::Github => github::write(w, findings, summary, opts),
    }?;
    w.flush()
}

/// Write SARIF whose run carries a code-scanning category (`automationDetails.id`), so
/// uploads of different kinds (a tree's state, a pull request's diff) keep separate
/// alerts: code scanning treats each upload as the whole result of its category and
/// closes the alerts it no longer lists.
pub fn write_sarif(
    w: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    opts: &ReportOptions,
    category: Option<&str>,
) -> io::Result<()> {
    sarif::write(w, findings, rules, opts, category)?;
    w.flush()
}

#[cfg(test)]
pub(crate) mod test_support;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip_through_their_names() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>().unwrap(), f);
        }
        assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
    }

    #[test]
    fn sarif_and_annotations_stay_redacted_even_when_revealed() {
        use crate::test_support::*;
        let mut f = finding("a.env", "demo-token", unleak_core::Confidence::High, 1);
        f.secret.reveal();
        for format in [Format::Sarif, Format::Github] {
            let out = render(format, std::slice::from_ref(&f), &summary(), &opts());
            assert!(!out.contains(RANDOM_PART), "{format} leaked: {out}");
            assert!(out.contains(&f.redacted), "{format}: {out}");
        }
    }

    #[test]
    fn a_secret_in_a_path_or_commit_is_masked_in_every_format_unless_revealed() {
        use crate::test_support::*;
        let mut f = git_finding(&format!("cfg-{RAW}.env"), false);
        let git = f.git.as_mut().unwrap();
        git.summary = format!("use token {RAW} for CI").into();
        git.author = format!("dev {RAW}").into();
        git.email = format!("{RAW}@example.com").into();
        git.paths.push(format!("old/{RAW}").into());
        let mut findings = vec![f];
        unleak_core::hide_shared(&mut findings);
        let mut o = opts();
        o.repo_url = Some("https://u:tok@github.com/o/r");
        for format in Format::ALL {
            let out = render(format, &findings, &summary(), &o);
            assert!(!out.contains(RANDOM_PART), "{format} leaked: {out}");
            assert!(
                !out.contains("u:tok"),
                "{format} leaked the URL's credential"
            );
        }
        findings[0].reveal();
        for format in [Format::Text, Format::Json, Format::Jsonl] {
            let out = render(format, &findings, &summary(), &o);
            assert!(
                out.contains(&format!("use token {RAW} for CI")),
                "{format}: {out}"
            );
            assert!(out.contains(&format!("cfg-{RAW}.env")), "{format}: {out}");
        }
    }

    #[test]
    fn an_unknown_format_is_named_safely_in_the_error() {
        let e = "xml\u{1b}[2J".parse::<Format>().unwrap_err().to_string();
        assert!(e.contains("`xml\\x1b[2J`"), "{e}");
        assert!(e.contains("sarif"));
        assert!(!e.contains('\u{1b}'));
    }
}
