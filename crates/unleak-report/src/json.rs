//! JSON and JSON Lines reports.
//!
//! Owns: the versioned JSON document (`{"version": 1, "tool", "findings", "summary"}`) and
//! the one-finding-per-line stream. Does not own: the shape of a finding, which is
//! [`FindingV1`] (it leaves the raw secret out unless revealed and masks it in paths and
//! provenance), or string escaping ([`escape::write_json`]).

use crate::{escape, FindingV1, ReportOptions, ScanError, ScanSummary, Skipped};
use serde::Serialize;
use std::io::{self, Write};
use unleak_core::Finding;

/// The version of the JSON document shape; bumped on any incompatible change.
const DOCUMENT_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    tool: Tool<'a>,
    findings: Vec<FindingV1>,
    summary: Summary<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    name: &'static str,
    version: &'a str,
}

#[derive(Serialize)]
struct Summary<'a> {
    findings: usize,
    files_scanned: u64,
    bytes_scanned: u64,
    elapsed_ms: u64,
    skipped: &'a [Skipped],
    errors: &'a [ScanError],
}

pub(crate) fn write_document(
    w: &mut dyn Write,
    findings: &[Finding],
    summary: &ScanSummary,
    opts: &ReportOptions,
) -> io::Result<()> {
    let doc = Document {
        version: DOCUMENT_VERSION,
        tool: Tool {
            name: "unleak",
            version: opts.tool_version,
        },
        findings: findings.iter().map(FindingV1::from).collect(),
        summary: Summary {
            findings: findings.len(),
            files_scanned: summary.files_scanned,
            bytes_scanned: summary.bytes_scanned,
            elapsed_ms: u64::try_from(summary.elapsed.as_millis()).unwrap_or(u64::MAX),
            skipped: &summary.skipped,
            errors: &summary.errors,
        },
    };
    escape::write_json(w, &doc, true)?;
    writeln!(w)
}

pub(crate) fn write_lines(w: &mut dyn Write, findings: &[Finding]) -> io::Result<()> {
    findings.iter().try_for_each(|f| write_jsonl_finding(w, f))
}

/// Write one finding as one JSON line, for streaming a scan as it runs. The object is
/// the same [`FindingV1`] as an element of the JSON report's `findings`.
pub fn write_jsonl_finding(w: &mut dyn Write, f: &Finding) -> io::Result<()> {
    escape::write_json(w, &FindingV1::from(f), false)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use crate::test_support::*;
    use crate::Format;
    use serde_json::Value;
    use unleak_core::Confidence;

    fn hostile_findings() -> Vec<unleak_core::Finding> {
        vec![
            finding(EVIL_PATH, "demo-token", Confidence::High, 1),
            git_finding("conf/app.env", false),
        ]
    }

    #[test]
    fn json_document_is_versioned_and_redacted() {
        let out = render(Format::Json, &hostile_findings(), &summary(), &opts());
        assert!(!out.contains(RANDOM_PART));
        assert!(!out.contains('\u{1b}') && !out.contains("\n::"), "{out}");
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["version"], 1);
        assert_eq!(doc["tool"]["name"], "unleak");
        assert_eq!(doc["tool"]["version"], "0.1.0");
        assert_eq!(doc["findings"][0]["path"], EVIL_PATH);
        assert_eq!(doc["findings"][0]["redacted"], "demo_…(25 chars)");
        assert!(doc["findings"][0].get("secret").is_none());
        assert_eq!(doc["findings"][1]["git"]["in_head"], false);
        assert_eq!(doc["summary"]["findings"], 2);
        assert_eq!(doc["summary"]["files_scanned"], 42);
        assert_eq!(doc["summary"]["elapsed_ms"], 500);
        assert_eq!(doc["summary"]["errors"][0]["message"], "permission denied");
        assert_eq!(doc["summary"]["skipped"][0]["reason"], "binary");
    }

    #[test]
    fn jsonl_is_one_finding_per_line_without_summary() {
        let out = render(Format::Jsonl, &hostile_findings(), &summary(), &opts());
        assert!(!out.contains(RANDOM_PART));
        assert!(!out.contains('\u{1b}'));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        for line in lines {
            let v: Value = serde_json::from_str(line).unwrap();
            assert_eq!(v["rule_id"], "demo-token");
        }
    }

    #[test]
    fn revealed_secrets_appear_in_json_and_jsonl() {
        let mut f = finding("a.env", "demo-token", Confidence::High, 1);
        f.secret.reveal();
        let doc: Value = serde_json::from_str(&render(
            Format::Json,
            std::slice::from_ref(&f),
            &summary(),
            &opts(),
        ))
        .unwrap();
        assert_eq!(doc["findings"][0]["secret"], RAW);
        let line: Value =
            serde_json::from_str(&render(Format::Jsonl, &[f], &summary(), &opts())).unwrap();
        assert_eq!(line["secret"], RAW);
    }
}
