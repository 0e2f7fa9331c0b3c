//! The human-readable report: findings grouped under their file, ripgrep style, then a
//! summary line.
//!
//! Owns: the text layout, its optional ANSI colours, and the summary block that the github
//! format reuses. Does not own: escaping rules (see [`crate::escape`]); every string that
//! comes from scanned content, file names or git metadata goes through
//! [`escape::terminal`] before it is written, and paths and git provenance come from the
//! finding model with found secrets masked.

use crate::{escape, ReportOptions, ScanSummary};
use std::collections::BTreeSet;
use std::io::{self, Write};
use unleak_core::{Confidence, Finding, GitProvenance, ImageProvenance};

/// How many leading characters of a commit id to show.
const SHORT_COMMIT: usize = 10;

/// ANSI SGR codes used by the text report.
mod sgr {
    pub const PATH: &str = "1;35";
    pub const POSITION: &str = "32";
    pub const HIGH: &str = "1;31";
    pub const MEDIUM: &str = "33";
    pub const LOW: &str = "36";
    pub const VALUE: &str = "1";
    pub const DIM: &str = "2";
    pub const ERROR: &str = "1;31";
}

/// Wraps text in an SGR colour when colour is on.
#[derive(Clone, Copy)]
pub(crate) struct Painter {
    color: bool,
}

impl Painter {
    pub(crate) fn new(color: bool) -> Self {
        Painter { color }
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

pub(crate) fn write(
    w: &mut dyn Write,
    findings: &[Finding],
    summary: &ScanSummary,
    opts: &ReportOptions,
) -> io::Result<()> {
    let painter = Painter::new(opts.color);
    for group in findings.chunk_by(|a, b| a.path.display_path() == b.path.display_path()) {
        write_group(w, group, painter)?;
        writeln!(w)?;
    }
    write_summary(w, findings, summary, opts, painter)
}

/// One file header and its findings, columns aligned within the group.
fn write_group(w: &mut dyn Write, group: &[Finding], painter: Painter) -> io::Result<()> {
    let path = escape::terminal(&group[0].display_path());
    writeln!(w, "{}", painter.paint(sgr::PATH, &path))?;
    let positions: Vec<String> = group
        .iter()
        .map(|f| format!("{}:{}", f.location.line, f.location.column))
        .collect();
    let ids: Vec<String> = group.iter().map(|f| escape::terminal(&f.rule_id)).collect();
    let position_width = positions.iter().map(|p| p.len()).max().unwrap_or(0);
    let id_width = ids.iter().map(|i| i.chars().count()).max().unwrap_or(0);
    let indent = " ".repeat(2 + position_width + 2);
    for ((f, position), id) in group.iter().zip(&positions).zip(&ids) {
        let value = escape::terminal(&f.secret.to_string());
        let mut detail = format!("{}, entropy {:.2}", f.confidence, f.entropy);
        if !f.decoded.is_empty() {
            let via = f
                .decoded
                .iter()
                .map(|d| escape::terminal(d))
                .collect::<Vec<_>>()
                .join(" → ");
            detail.push_str(&format!(", decoded from {via}"));
        }
        writeln!(
            w,
            "  {}  {}  {}  ({detail})",
            painter.paint(sgr::POSITION, &format!("{position:<position_width$}")),
            painter.paint(confidence_sgr(f.confidence), &format!("{id:<id_width$}")),
            painter.paint(sgr::VALUE, &value),
        )?;
        if let Some(git) = &f.git {
            let own_path = f.display_path();
            for line in provenance_lines(git, &own_path) {
                writeln!(w, "{indent}{}", painter.paint(sgr::DIM, &line))?;
            }
        }
        if let Some(image) = &f.image {
            let line = escape::terminal(&image_summary(image));
            writeln!(w, "{indent}{}", painter.paint(sgr::DIM, &line))?;
        }
    }
    Ok(())
}

/// Where in an image a secret is, in one line (not yet escaped): the layer, the
/// instruction that made it, the images shipping it, and a deletion by a later layer.
pub(crate) fn image_summary(image: &ImageProvenance) -> String {
    let images = image.images.join(", ");
    let mut line = match image.layer_index {
        Some(i) => format!("image {images}, layer {i} ({})", image.layer),
        None => format!("image {images}, config"),
    };
    if let Some(instruction) = &image.instruction {
        line.push_str(&format!(" made by `{instruction}`"));
    }
    if let Some(removal) = image.removal() {
        line.push_str(&format!(
            " · {removal}: deleting a file in a later layer does not take it out of the image"
        ));
    }
    line
}

fn confidence_sgr(c: Confidence) -> &'static str {
    match c {
        Confidence::High => sgr::HIGH,
        Confidence::Medium => sgr::MEDIUM,
        Confidence::Low => sgr::LOW,
    }
}

/// Where in history a secret came from and what to do about it, already escaped.
fn provenance_lines(git: &GitProvenance, own_path: &str) -> [String; 2] {
    let short: String = git.commit.chars().take(SHORT_COMMIT).collect();
    let date = git.date.get(..10).unwrap_or(&git.date);
    let introduced = format!(
        "introduced in {} by {} on {}: {}",
        escape::terminal(&short),
        escape::terminal(&git.author),
        escape::terminal(date),
        escape::terminal(&git.summary),
    );
    let mut status = if git.in_head {
        "still in HEAD: rotate, then remove it".to_string()
    } else {
        "history only: rotate, then rewrite history if needed".to_string()
    };
    let others: Vec<String> = git
        .paths
        .iter()
        .filter(|p| p.as_str() != own_path)
        .map(|p| escape::terminal(p))
        .collect();
    if !others.is_empty() {
        status.push_str(&format!(" · also at {}", others.join(", ")));
    }
    status.push_str(&format!(" · in {}", plural(git.commits as u64, "commit")));
    [introduced, status]
}

/// The closing block shared by the text and github formats: one summary line, then each
/// scan error, then (when verbose) each skipped file.
pub(crate) fn write_summary(
    w: &mut dyn Write,
    findings: &[Finding],
    summary: &ScanSummary,
    opts: &ReportOptions,
    painter: Painter,
) -> io::Result<()> {
    let files: BTreeSet<_> = findings.iter().map(|f| f.path.display_path()).collect();
    let mut line = if findings.is_empty() {
        "no findings".to_string()
    } else {
        format!(
            "{} in {}",
            plural(findings.len() as u64, "finding"),
            plural(files.len() as u64, "file")
        )
    };
    let megabytes = summary.bytes_scanned as f64 / 1e6;
    let seconds = summary.elapsed.as_secs_f64();
    line.push_str(&format!(
        " · {} scanned · {megabytes:.1} MB in {seconds:.2} s",
        plural(summary.files_scanned, "file")
    ));
    if seconds > 0.0 {
        line.push_str(&format!(" ({:.1} MB/s)", megabytes / seconds));
    }
    if !summary.skipped.is_empty() {
        line.push_str(&format!(" · {} skipped", summary.skipped.len()));
    }
    if !summary.errors.is_empty() {
        line.push_str(&format!(
            " · {}",
            plural(summary.errors.len() as u64, "error")
        ));
    }
    writeln!(w, "{}", painter.paint(sgr::VALUE, &line))?;
    for e in &summary.errors {
        writeln!(
            w,
            "{} {}: {}",
            painter.paint(sgr::ERROR, "error:"),
            escape::terminal(&e.path),
            escape::terminal(&e.message)
        )?;
    }
    if opts.verbose {
        for s in &summary.skipped {
            writeln!(
                w,
                "skipped: {} ({})",
                escape::terminal(&s.path),
                escape::terminal(&s.reason)
            )?;
        }
    }
    Ok(())
}

fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::*;
    use crate::{Format, ScanSummary};
    use unleak_core::{Confidence, Secret};

    #[test]
    fn groups_by_file_and_redacts() {
        let findings = vec![
            finding("a.env", "demo-token", Confidence::High, 3),
            finding("a.env", "demo-password", Confidence::Medium, 12),
            finding("b.env", "demo-entropy", Confidence::Low, 1),
        ];
        let out = render(Format::Text, &findings, &summary(), &opts());
        assert!(!out.contains(RANDOM_PART), "{out}");
        assert_eq!(out.matches("a.env\n").count(), 1, "{out}");
        assert!(out.contains("  3:7   demo-token     demo_…(25 chars)  (high, entropy 4.20)"));
        assert!(out.contains("  12:7  demo-password  demo_…(25 chars)  (medium, entropy 4.20)"));
        let last = out.lines().rev().find(|l| l.contains("scanned")).unwrap();
        assert_eq!(
            last,
            "3 findings in 2 files · 42 files scanned · 5.5 MB in 0.50 s (11.0 MB/s) · 1 skipped · 1 error"
        );
    }

    #[test]
    fn hostile_names_and_metadata_cannot_escape() {
        let findings = vec![finding(EVIL_PATH, "demo-token", Confidence::High, 1)];
        let out = render(Format::Text, &findings, &summary(), &opts());
        assert!(!out.contains(RANDOM_PART));
        assert!(!out.contains('\u{1b}'), "{out:?}");
        assert!(out.contains("dir/evil\\x1b[31m\\nname,line=1::x%0A::error::pwned.env\n"));
        assert!(out.contains("error: locked\\n::error::x.txt: permission denied"));
        assert!(
            !out.lines().any(|l| l.starts_with("::")),
            "a line starts like a workflow command: {out}"
        );
    }

    #[test]
    fn names_at_the_scan_root_cannot_start_a_workflow_command() {
        let names = [
            "::error::pwned",
            "::add-mask::x",
            " ::warning::lead",
            "##[error]legacy",
            "x ##[warning]y",
        ];
        let findings: Vec<_> = names
            .iter()
            .map(|n| finding(n, "demo-token", Confidence::High, 1))
            .collect();
        let out = render(Format::Text, &findings, &summary(), &opts());
        assert!(out.starts_with("\\x3a:error::pwned\n"), "{out}");
        assert!(out.contains("\n \\x3a:warning::lead\n"), "{out}");
        for line in out.lines() {
            assert!(!line.trim_start().starts_with("::"), "{line}");
            assert!(!line.contains("##["), "{line}");
        }
    }

    #[test]
    fn revealed_values_are_shown_escaped() {
        let mut f = finding("a.env", "demo-token", Confidence::High, 1);
        f.secret.reveal();
        let out = render(Format::Text, &[f], &ScanSummary::default(), &opts());
        assert!(out.contains(RAW), "{out}");
        let mut f = finding("a.env", "demo-token", Confidence::High, 1);
        f.secret = Secret::new(b"tok\x1b[2Jen".to_vec(), 0);
        f.secret.reveal();
        let out = render(Format::Text, &[f], &ScanSummary::default(), &opts());
        assert!(out.contains("tok\\x1b[2Jen"), "{out}");
        assert!(!out.contains('\u{1b}'));
    }

    #[test]
    fn git_provenance_says_what_to_do() {
        let findings = vec![git_finding("conf/app.env", false)];
        let out = render(Format::Text, &findings, &summary(), &opts());
        assert!(out.contains("introduced in 89abcdef01 by Mallory\\x1b[2J Example on 2024-05-06: add config\\n::error::injected"), "{out}");
        assert!(out.contains(
            "history only: rotate, then rewrite history if needed · also at old/config.env · in 3 commits"
        ));
        assert!(!out.contains('\u{1b}'));
        let head = render(
            Format::Text,
            &[git_finding("conf/app.env", true)],
            &summary(),
            &opts(),
        );
        assert!(head.contains("still in HEAD"));
    }

    #[test]
    fn colour_only_when_asked_and_skipped_files_only_when_verbose() {
        let findings = vec![finding("a.env", "demo-token", Confidence::High, 1)];
        let mut o = opts();
        o.color = true;
        o.verbose = true;
        let out = render(Format::Text, &findings, &summary(), &o);
        assert!(out.contains("\u{1b}[1;35ma.env\u{1b}[0m"));
        assert!(out.contains("skipped: img\\x1b[1m.png (binary)"));
        let plain = render(Format::Text, &findings, &summary(), &opts());
        assert!(!plain.contains('\u{1b}') && !plain.contains("skipped:"));
    }

    #[test]
    fn an_empty_scan_says_so() {
        let out = render(Format::Text, &[], &ScanSummary::default(), &opts());
        assert_eq!(out, "no findings · 0 files scanned · 0.0 MB in 0.00 s\n");
    }
}
