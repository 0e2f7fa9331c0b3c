//! GitHub Actions annotations: one workflow command per finding, then the text summary.
//!
//! Owns: the `::error|warning|notice file=...::message` lines, their order (most severe
//! first) and GitHub's display limit of ten annotations per level and step (the rest are
//! counted in one notice that is always shown). Does not own: the job summary Markdown or
//! exit codes. Every untrusted string goes through [`escape::workflow_property`] or
//! [`escape::workflow_data`], so no file name or commit message can end the command line and
//! start a command of its own.

use crate::sarif::repo_path;
use crate::text::{write_summary, Painter};
use crate::{escape, ReportOptions, ScanSummary};
use std::cmp::Reverse;
use std::io::{self, Write};
use unleak_core::{Confidence, Finding};

/// GitHub shows at most this many annotations of each level from one step.
const PER_LEVEL_LIMIT: usize = 10;
/// How many characters of a commit id a message shows.
const SHORT_COMMIT: usize = 10;

/// The three annotation levels, indexed like [`level_index`].
const LEVELS: [&str; 3] = ["error", "warning", "notice"];

fn level_index(c: Confidence) -> usize {
    match c {
        Confidence::High => 0,
        Confidence::Medium => 1,
        Confidence::Low => 2,
    }
}

pub(crate) fn write(
    w: &mut dyn Write,
    findings: &[Finding],
    summary: &ScanSummary,
    opts: &ReportOptions,
) -> io::Result<()> {
    let mut ordered: Vec<&Finding> = findings.iter().collect();
    // Stable, so the caller's path and position order holds within a level.
    ordered.sort_by_key(|f| Reverse(f.confidence));

    let mut per_level = [0usize; 3];
    for f in &ordered {
        per_level[level_index(f.confidence)] += 1;
    }
    let excess = |limits: [usize; 3]| -> [usize; 3] {
        std::array::from_fn(|i| per_level[i].saturating_sub(limits[i]))
    };
    let mut limits = [PER_LEVEL_LIMIT; 3];
    if excess(limits).iter().any(|&n| n > 0) {
        // The overflow notice is itself a notice; keep a slot free so GitHub shows it.
        limits[2] -= 1;
    }
    let hidden = excess(limits);

    let mut shown = [0usize; 3];
    for f in ordered {
        let level = level_index(f.confidence);
        if shown[level] < limits[level] {
            shown[level] += 1;
            write_annotation(w, f)?;
        }
    }
    if hidden.iter().any(|&n| n > 0) {
        write_overflow_notice(w, hidden)?;
    }
    write_summary(w, findings, summary, opts, Painter::new(opts.color))
}

fn write_annotation(w: &mut dyn Write, f: &Finding) -> io::Result<()> {
    let level = LEVELS[level_index(f.confidence)];
    let shown = f.display_path();
    // A member of an archive is annotated on the archive, the file of the checkout; its
    // lines are the member's, so they go in the message.
    let outer = f.path.outermost().display_path();
    let member = match shown.strip_prefix(outer.as_ref()) {
        Some(rest) if rest.starts_with('!') => Some(&rest[1..]),
        _ => None,
    };
    let path = repo_path(member.map_or(&shown, |_| &outer));
    let mut properties = vec![format!("file={}", escape::workflow_property(&path))];
    let history_only = f.git.as_ref().filter(|g| !g.in_head);
    // A history-only secret's line numbers belong to an old version of the file.
    if history_only.is_none() && member.is_none() {
        let loc = &f.location;
        properties.push(format!("line={}", loc.line.max(1)));
        properties.push(format!("endLine={}", loc.end_line.max(loc.line).max(1)));
        // GitHub honours columns only on single-line annotations.
        if loc.line == loc.end_line {
            properties.push(format!("col={}", loc.column.max(1)));
            properties.push(format!("endColumn={}", loc.end_column.max(1)));
        }
    }
    properties.push(format!(
        "title={}",
        escape::workflow_property(&format!("unleak: {}", f.rule_name))
    ));

    let mut message = format!(
        "{} found: {} ({} confidence, entropy {:.2}).",
        f.rule_id, f.redacted, f.confidence, f.entropy
    );
    if let Some(member) = member {
        message.push_str(&format!(
            " In the archive member {member}, line {} column {}.",
            f.location.line, f.location.column
        ));
    }
    match history_only {
        Some(git) => {
            let short: String = git.commit.chars().take(SHORT_COMMIT).collect();
            let date = git.date.get(..10).unwrap_or(&git.date);
            message.push_str(&format!(
                " Only in git history: introduced in commit {short} by {} on {date}. Rotate it, \
                 then rewrite history if needed.",
                git.author
            ));
        }
        None => message
            .push_str(" Rotate it, then move it to a secret store or gateway (unleak migrate)."),
    }
    writeln!(
        w,
        "::{level} {}::{}",
        properties.join(","),
        escape::workflow_data(&message)
    )
}

fn write_overflow_notice(w: &mut dyn Write, hidden: [usize; 3]) -> io::Result<()> {
    let total: usize = hidden.iter().sum();
    let by_level: Vec<String> = hidden
        .iter()
        .zip(LEVELS)
        .filter(|(n, _)| **n > 0)
        .map(|(n, level)| format!("{n} {level}"))
        .collect();
    writeln!(
        w,
        "::notice title=unleak::{total} more findings are not annotated ({}): GitHub shows at \
         most {PER_LEVEL_LIMIT} annotations of each level per step. The text, JSON and SARIF \
         reports list every finding.",
        by_level.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use crate::test_support::*;
    use crate::Format;
    use unleak_core::{Confidence, Finding};

    fn commands(out: &str) -> Vec<&str> {
        out.lines().filter(|l| l.starts_with("::")).collect()
    }

    #[test]
    fn hostile_names_cannot_inject_a_workflow_command() {
        let findings = vec![
            finding(EVIL_PATH, "demo-token", Confidence::High, 1),
            git_finding("conf/app.env", false),
        ];
        let out = render(Format::Github, &findings, &summary(), &opts());
        assert!(!out.contains(RANDOM_PART));
        assert!(!out.contains('\u{1b}'), "{out:?}");
        let cmds = commands(&out);
        assert_eq!(cmds.len(), 2, "{out}");
        assert_eq!(
            cmds[0],
            "::error file=dir/evil%1B[31m%0Aname%2Cline=1%3A%3Ax%250A%3A%3Aerror%3A%3Apwned.env,\
             line=1,endLine=1,col=7,endColumn=32,title=unleak%3A Demo token::demo-token found: \
             demo_…(25 chars) (high confidence, entropy 4.20). Rotate it, then move it to a \
             secret store or gateway (unleak migrate)."
        );
        // The author's ANSI sequence is encoded, and the history-only annotation carries no
        // stale line number.
        assert_eq!(
            cmds[1],
            "::error file=conf/app.env,title=unleak%3A Demo token::demo-token found: \
             demo_…(25 chars) (high confidence, entropy 4.20). Only in git history: introduced \
             in commit 89abcdef01 by Mallory%1B[2J Example on 2024-05-06. Rotate it, then rewrite \
             history if needed."
        );
        // The summary's error line names the hostile path without starting a command.
        assert!(out.contains("error: locked\\n::error::x.txt: permission denied"));
    }

    #[test]
    fn names_that_look_like_commands_are_encoded_and_never_merge() {
        let names = [
            "::error::pwned",
            " ::warning::lead",
            "##[error]legacy",
            "esc\u{1b}[2J\u{1b}]0;title\u{7}",
            "esc",
            "bidi\u{202e}evil",
            "bidievil",
        ];
        let findings: Vec<Finding> = names
            .iter()
            .map(|n| finding(n, "demo-token", Confidence::High, 1))
            .collect();
        let out = render(Format::Github, &findings, &summary(), &opts());
        assert!(!out.contains("##[") && !out.contains('\u{1b}'), "{out}");
        let files: Vec<&str> = commands(&out)
            .iter()
            .map(|c| c.split(',').next().unwrap())
            .collect();
        assert_eq!(
            files,
            [
                "::error file=%3A%3Aerror%3A%3Apwned",
                "::error file= %3A%3Awarning%3A%3Alead",
                "::error file=%23#[error]legacy",
                "::error file=esc%1B[2J%1B]0;title%07",
                "::error file=esc",
                "::error file=bidi%E2%80%AEevil",
                "::error file=bidievil",
            ]
        );
        // Only the annotations start with `::`; the summary lines do not.
        let starting = out.lines().filter(|l| l.trim_start().starts_with("::"));
        assert_eq!(starting.count(), names.len(), "{out}");
    }

    #[test]
    fn most_severe_first_at_most_ten_per_level_and_the_rest_counted() {
        let mut findings: Vec<Finding> = Vec::new();
        for i in 1..=12 {
            findings.push(finding(
                &format!("low{i:02}"),
                "demo-entropy",
                Confidence::Low,
                i,
            ));
            findings.push(finding(
                &format!("high{i:02}"),
                "demo-token",
                Confidence::High,
                i,
            ));
        }
        for i in 1..=3 {
            findings.push(finding(
                &format!("mid{i}"),
                "demo-password",
                Confidence::Medium,
                i,
            ));
        }
        let out = render(Format::Github, &findings, &summary(), &opts());
        let cmds = commands(&out);
        let levels: Vec<&str> = cmds
            .iter()
            .map(|c| c[2..].split(' ').next().unwrap())
            .collect();
        let mut expected = vec!["error"; 10];
        expected.extend(["warning"; 3]);
        expected.extend(["notice"; 9]);
        expected.push("notice");
        assert_eq!(levels, expected, "{out}");
        assert!(cmds[0].contains("file=high01,"));
        assert!(cmds[9].contains("file=high10,"));
        assert!(cmds[13].contains("file=low01,"));
        assert_eq!(
            cmds[22],
            "::notice title=unleak::5 more findings are not annotated (2 error, 3 notice): \
             GitHub shows at most 10 annotations of each level per step. The text, JSON and \
             SARIF reports list every finding."
        );
        assert!(out.ends_with(
            "27 findings in 27 files · 42 files scanned · 5.5 MB in 0.50 s (11.0 MB/s) · 1 skipped · 1 error\n\
             error: locked\\n::error::x.txt: permission denied\n"
        ));
    }

    #[test]
    fn ten_per_level_needs_no_overflow_notice() {
        let findings: Vec<Finding> = (1..=10)
            .map(|i| finding(&format!("f{i:02}"), "demo-entropy", Confidence::Low, i))
            .collect();
        let out = render(Format::Github, &findings, &summary(), &opts());
        let cmds = commands(&out);
        assert_eq!(cmds.len(), 10);
        assert!(cmds.iter().all(|c| c.starts_with("::notice file=")));
    }

    #[test]
    fn a_multi_line_span_has_no_columns() {
        let mut f = finding("key.pem", "demo-token", Confidence::High, 2);
        f.location.end_line = 5;
        let out = render(Format::Github, &[f], &summary(), &opts());
        assert!(
            out.starts_with("::error file=key.pem,line=2,endLine=5,title="),
            "{out}"
        );
    }

    #[test]
    fn an_archive_member_is_annotated_on_the_archive() {
        let mut f = finding("x", "demo-token", Confidence::High, 12);
        f.path = unleak_core::Origin::File("dist/app.jar".into()).member("BOOT-INF/app.yml");
        let out = render(Format::Github, &[f], &summary(), &opts());
        let first = out.lines().next().unwrap();
        assert!(
            first.starts_with("::error file=dist/app.jar,title="),
            "{first}"
        );
        assert!(
            first.contains("In the archive member BOOT-INF/app.yml, line 12 column"),
            "{first}"
        );
    }
}
