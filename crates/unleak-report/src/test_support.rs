//! Hand-made findings, rules and summaries for the reporter tests.

use crate::{write_report, Format, ReportOptions, ScanError, ScanSummary, Skipped};
use std::time::Duration;
use unleak_core::{
    Confidence, Finding, Fingerprint, FingerprintKey, GitProvenance, Location, Origin, Secret, Span,
};
use unleak_rules::{RuleSet, RuleSetBuilder};

/// The random part of every test secret: no report may contain it unless revealed.
pub const RANDOM_PART: &str = "Q7xR2mK9pL4vN8wZ3tY6";
/// A test secret: a public prefix plus [`RANDOM_PART`].
pub const RAW: &str = "demo_Q7xR2mK9pL4vN8wZ3tY6";
/// A file name built to break out of every output: ANSI colour, a newline, workflow
/// command syntax, an encoded newline and a property separator.
pub const EVIL_PATH: &str = "dir/evil\u{1b}[31m\nname,line=1::x%0A::error::pwned.env";

const RULES: &str = r#"
[[rules]]
id = "demo-token"
name = "Demo token"
description = "A demo service API token."
keywords = ["demo_"]
regex = '''(?P<secret>demo_[A-Za-z0-9]{20})'''
confidence = "high"
tags = ["demo", "api-token"]
references = ["https://example.com/docs/tokens"]

[[rules]]
id = "demo-password"
name = "Demo password"
description = "A password assigned in a demo config."
keywords = ["password"]
regex = '''password=(?P<secret>\S{8,})'''
confidence = "medium"

[[rules]]
id = "demo-entropy"
name = "High-entropy string"
keywords = ["secret"]
regex = '''secret=(?P<secret>\S{16,})'''
confidence = "low"
"#;

pub fn rules() -> RuleSet {
    RuleSetBuilder::new()
        .add_toml("test.toml", RULES)
        .unwrap()
        .build()
        .unwrap()
}

/// A finding of `rule_id` at `path`, line `line`, with the secret [`RAW`].
pub fn finding(path: &str, rule_id: &str, confidence: Confidence, line: usize) -> Finding {
    let secret = Secret::new(RAW.as_bytes().to_vec(), 5);
    Finding {
        rule_id: rule_id.into(),
        rule_name: rules()
            .get(rule_id)
            .map_or_else(|| "Unknown rule".into(), |r| r.name.clone()),
        path: Origin::File(path.into()),
        location: Location {
            line,
            column: 7,
            end_line: line,
            end_column: 7 + RAW.len(),
            utf16_column: 7,
            utf16_end_column: 7 + RAW.len(),
        },
        span: Span::new(100 * line, 100 * line + RAW.len()),
        redacted: secret.redacted(),
        fingerprint: Fingerprint::compute(&FingerprintKey::default(), rule_id, secret.expose()),
        secret,
        entropy: 4.2,
        confidence,
        decoded: vec![],
        inline_allow: false,
        git: None,
        image: None,
        provenance_secrets: None,
    }
}

/// A high-confidence finding in git history at `path`, present at HEAD or not.
pub fn git_finding(path: &str, in_head: bool) -> Finding {
    let mut f = finding(path, "demo-token", Confidence::High, 3);
    f.path = Origin::Git {
        blob_id: "0123456789abcdef0123456789abcdef01234567".into(),
        path: path.into(),
    };
    f.git = Some(GitProvenance {
        commit: "89abcdef0123456789abcdef0123456789abcdef".into(),
        author: "Mallory\u{1b}[2J Example".into(),
        email: "mallory@example.com".into(),
        date: "2024-05-06T07:08:09Z".into(),
        summary: "add config\n::error::injected".into(),
        paths: vec![path.into(), "old/config.env".into()],
        commits: 3,
        in_head,
    });
    f
}

pub fn summary() -> ScanSummary {
    ScanSummary {
        files_scanned: 42,
        bytes_scanned: 5_500_000,
        skipped: vec![Skipped {
            path: "img\u{1b}[1m.png".into(),
            reason: "binary".into(),
        }],
        errors: vec![ScanError {
            path: "locked\n::error::x.txt".into(),
            message: "permission denied".into(),
        }],
        elapsed: Duration::from_millis(500),
    }
}

pub fn opts() -> ReportOptions<'static> {
    ReportOptions {
        color: false,
        tool_version: "0.1.0",
        repo_url: None,
        verbose: false,
    }
}

/// Render a report into a string.
pub fn render(
    format: Format,
    findings: &[Finding],
    summary: &ScanSummary,
    opts: &ReportOptions,
) -> String {
    let mut out = Vec::new();
    write_report(&mut out, format, findings, &rules(), summary, opts).unwrap();
    String::from_utf8(out).unwrap()
}
