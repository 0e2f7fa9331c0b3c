//! The SARIF 2.1.0 report, shaped for GitHub code scanning.
//!
//! Owns: one run with the rule descriptors of the rules that have findings (GitHub limits
//! rules and tags per run, so unused rules are left out), one result per finding with a
//! content-based partial fingerprint, repo-relative percent-encoded URIs against
//! `%SRCROOT%`, the code-scanning category (`automationDetails.id`), and GitHub's cap of
//! [`MAX_RESULTS`] results per run (the most severe are kept, and the run says how many
//! were left out). A secret that only exists in git history keeps its repository path as
//! its location; the commit (and its web link, with `--repo-url`) goes into the message and
//! the properties, because code scanning rejects a whole file whose locations hold a
//! non-`file` URI. Does not own: redaction (results carry `Finding::redacted`, never a
//! snippet of content) or deciding whether findings fail a build.

use crate::escape::{self, sarif_text};
use crate::text::image_summary;
use crate::url::public_url;
use crate::ReportOptions;
use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, Message, MultiformatMessageString, Notification,
    PhysicalLocation, PropertyBag, Region, ReportingConfiguration, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, RunAutomationDetails, Sarif, Tool, ToolComponent,
    VersionControlDetails,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{self, Write};
use unleak_core::{Confidence, Finding};
use unleak_rules::{Impact, RuleSet};

/// The schema URI GitHub's SARIF documentation uses (the OASIS repository moved its copy).
const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";
/// GitHub code scanning rejects a run with more results than this.
pub const MAX_RESULTS: usize = 25_000;
/// The base every relative location is resolved against: the repository root.
const SRCROOT: &str = "%SRCROOT%";
/// The key of unleak's partial fingerprint; bump the suffix if the fingerprint changes.
const FINGERPRINT_KEY: &str = "unleakFingerprint/v2";
/// GitHub code scanning rejects more tags than this on one rule.
const MAX_TAGS: usize = 20;
/// The impact of a finding whose rule is not in the rule set (a rule file changed since):
/// what it was is not known any more, so that of a provider's credential.
const UNKNOWN_IMPACT: Impact = Impact::High;
/// How many characters of a commit id a message shows.
const SHORT_COMMIT: usize = 10;

pub(crate) fn write(
    w: &mut dyn Write,
    findings: &[Finding],
    rules: &RuleSet,
    opts: &ReportOptions,
    category: Option<&str>,
) -> io::Result<()> {
    escape::write_json(
        w,
        &build(findings, rules, opts, category, MAX_RESULTS),
        true,
    )?;
    writeln!(w)
}

/// `automationDetails.id` for `category`. GitHub reads the id up to its last `/` as the
/// category (what follows names one run), so the id ends in `/`, as upload-sarif writes it.
fn automation_id(category: &str) -> String {
    let category = sarif_text(category);
    if category.ends_with('/') {
        category
    } else {
        format!("{category}/")
    }
}

/// The findings a run keeps under a cap of `max`: the most severe first (by the rule's
/// impact, then confidence; ties in the caller's order), shown in the caller's order.
fn capped<'f>(findings: &'f [Finding], rules: &RuleSet, max: usize) -> Vec<&'f Finding> {
    if findings.len() <= max {
        return findings.iter().collect();
    }
    let impact = |f: &Finding| rules.get(&f.rule_id).map_or(UNKNOWN_IMPACT, |r| r.impact);
    let mut order: Vec<usize> = (0..findings.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((impact(&findings[i]), findings[i].confidence)));
    order.truncate(max);
    order.sort_unstable();
    order.into_iter().map(|i| &findings[i]).collect()
}

fn build(
    findings: &[Finding],
    rules: &RuleSet,
    opts: &ReportOptions,
    category: Option<&str>,
    max_results: usize,
) -> Sarif {
    let total = findings.len();
    let kept = capped(findings, rules, max_results);
    let omitted = total - kept.len();
    let descriptors = descriptors(&kept, rules);
    let index: HashMap<&str, usize> = descriptors
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let results: Vec<SarifResult> = kept
        .iter()
        .map(|f| result(f, index[&*f.rule_id], opts))
        .collect();
    let driver = ToolComponent::builder()
        .name("unleak")
        .version(sarif_text(opts.tool_version))
        .information_uri(env!("CARGO_PKG_REPOSITORY"))
        .rules(descriptors)
        .build();
    let root = ArtifactLocation::builder()
        .description(
            Message::builder()
                .text("The root of the scanned repository: every relative location is relative to it.")
                .build(),
        )
        .build();
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .results(results)
        // GitHub's examples count columns in UTF-16 code units; an emoji before a secret
        // would shift a highlight counted in code points by one.
        .column_kind(json!("utf16CodeUnits"))
        .original_uri_base_ids(BTreeMap::from([(SRCROOT.to_string(), root)]))
        .build();
    if let Some(url) = opts.repo_url {
        run.version_control_provenance = Some(vec![VersionControlDetails::builder()
            .repository_uri(sarif_text(&public_url(url).0))
            .build()]);
    }
    if let Some(category) = category {
        run.automation_details = Some(
            RunAutomationDetails::builder()
                .id(automation_id(category))
                .build(),
        );
    }
    if omitted > 0 {
        let text = format!(
            "{omitted} of {total} results were left out: GitHub code scanning accepts at most \
             {max_results} results per run, so the most severe were kept. The JSON report \
             lists every finding."
        );
        run.invocations = Some(vec![Invocation::builder()
            .execution_successful(true)
            .tool_execution_notifications(vec![Notification::builder()
                .level(json!("warning"))
                .message(Message::builder().text(text).build())
                .build()])
            .build()]);
        run.properties = Some(
            PropertyBag::builder()
                .additional_properties(BTreeMap::from([
                    ("resultsTotal".to_string(), json!(total)),
                    ("resultsOmitted".to_string(), json!(omitted)),
                ]))
                .build(),
        );
    }
    Sarif::builder()
        .schema(SCHEMA_URI)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build()
}

/// Descriptors for the rules that have findings, in catalog order; a finding whose rule is
/// not in `rules` (a rule file changed since) still gets a minimal descriptor, so every
/// `ruleIndex` resolves.
fn descriptors(findings: &[&Finding], rules: &RuleSet) -> Vec<ReportingDescriptor> {
    let used: BTreeSet<&str> = findings.iter().map(|f| &*f.rule_id).collect();
    let mut out: Vec<ReportingDescriptor> = rules
        .rules()
        .iter()
        .filter(|r| used.contains(&*r.id))
        .map(|r| {
            descriptor(RuleFacts {
                id: &r.id,
                name: &r.name,
                description: &r.description,
                confidence: r.confidence,
                impact: r.impact,
                tags: &r.tags,
                references: &r.references,
            })
        })
        .collect();
    let mut unknown: BTreeMap<&str, &Finding> = BTreeMap::new();
    for &f in findings.iter().filter(|f| rules.get(&f.rule_id).is_none()) {
        unknown.entry(&f.rule_id).or_insert(f);
    }
    out.extend(unknown.into_values().map(|f| {
        descriptor(RuleFacts {
            id: &f.rule_id,
            name: &f.rule_name,
            description: "",
            confidence: f.confidence,
            impact: UNKNOWN_IMPACT,
            tags: &[],
            references: &[],
        })
    }));
    out
}

/// What a rule descriptor is made from.
struct RuleFacts<'a> {
    id: &'a str,
    name: &'a str,
    description: &'a str,
    confidence: Confidence,
    impact: Impact,
    tags: &'a [String],
    references: &'a [String],
}

fn descriptor(rule: RuleFacts) -> ReportingDescriptor {
    let name = sarif_text(rule.name);
    let description = match sarif_text(rule.description).trim() {
        "" => format!("{name}: a credential committed to source."),
        d => d.to_string(),
    };
    let mut tags: Vec<String> = vec!["security".into(), "secret".into()];
    for t in rule.tags {
        let t = sarif_text(t);
        if !tags.contains(&t) {
            tags.push(t);
        }
    }
    tags.truncate(MAX_TAGS);
    let mut properties = BTreeMap::new();
    properties.insert(
        "security-severity".to_string(),
        json!(security_severity(rule.impact)),
    );
    properties.insert("precision".to_string(), json!(rule.confidence.as_str()));
    let help_uri = rule.references.first().filter(|u| is_plain_url(u));
    let builder = ReportingDescriptor::builder()
        .id(rule.id)
        .name(name.clone())
        .short_description(message_string(name.clone()))
        .full_description(message_string(description.clone()))
        .help(help(&name, rule.id, &description, help_uri))
        .default_configuration(
            ReportingConfiguration::builder()
                .level(json!(level_name(rule.confidence)))
                .build(),
        )
        .properties(
            PropertyBag::builder()
                .tags(tags)
                .additional_properties(properties)
                .build(),
        );
    match help_uri {
        Some(uri) => builder.help_uri(uri.as_str()).build(),
        None => builder.build(),
    }
}

fn message_string(text: String) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(text).build()
}

/// The help shown next to an alert: what was found and how to fix it, in plain text and
/// Markdown. `name` and `description` are already SARIF-clean.
fn help(
    name: &str,
    id: &str,
    description: &str,
    reference: Option<&String>,
) -> MultiformatMessageString {
    const WHY: &str = "Treat the value as compromised: anyone who can read the repository, \
        its history, a fork or a CI log may already have it.";
    const ROTATE: &str = "Rotate it: revoke the value at the provider and issue a new one. \
        Deleting it from the code does not make it safe.";
    const MOVE: &str = "Keep the new value out of the code: put it in a secret store or \
        behind a gateway. `unleak migrate` plans the edit and the gateway connection.";
    const HISTORY: &str = "If it is in git history, rewrite history only after rotating, \
        and only when the old value must disappear from the repository.";
    let mut text = format!(
        "{name} ({id})\n\n{description}\n\n{WHY}\n\nHow to fix:\n1. {ROTATE}\n2. {MOVE}\n3. {HISTORY}\n"
    );
    let mut markdown = format!(
        "**{}** (`{id}`)\n\n{}\n\n{WHY}\n\n### How to fix\n\n1. {ROTATE}\n2. {MOVE}\n3. {HISTORY}\n",
        escape::markdown_cell(name),
        escape::markdown_cell(description),
    );
    if let Some(url) = reference {
        text.push_str(&format!("\nFormat reference: {url}\n"));
        markdown.push_str(&format!("\nFormat reference: <{url}>\n"));
    }
    MultiformatMessageString::builder()
        .text(text)
        .markdown(markdown)
        .build()
}

/// An http(s) URL with nothing that could break out of a Markdown autolink.
fn is_plain_url(u: &str) -> bool {
    (u.starts_with("https://") || u.starts_with("http://"))
        && u.chars()
            .all(|c| c.is_ascii_graphic() && !matches!(c, '<' | '>' | '"' | '`'))
}

fn result(f: &Finding, rule_index: usize, opts: &ReportOptions) -> SarifResult {
    let path = f.display_path();
    let history_only = f.git.as_ref().filter(|g| !g.in_head);
    // The web link of a history-only secret: kept out of the location (see the module doc).
    let commit_url = history_only.zip(opts.repo_url).map(|(git, repo)| {
        format!(
            "{}/blob/{}/{}",
            sarif_text(&public_url(repo).0).trim_end_matches('/'),
            percent_encode(&git.commit),
            percent_encode(&repo_path(&path)),
        )
    });
    let uri = path_uri(&path);
    let artifact = if uri.starts_with("file:") {
        ArtifactLocation::builder().uri(uri).build()
    } else {
        ArtifactLocation::builder()
            .uri(uri)
            .uri_base_id(SRCROOT)
            .build()
    };
    let region = Region::builder()
        .start_line(f.location.line.max(1) as i64)
        .start_column(f.location.utf16_column.max(1) as i64)
        .end_line(f.location.end_line.max(f.location.line).max(1) as i64)
        .end_column(f.location.utf16_end_column.max(1) as i64)
        .build();
    let location = Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact)
                .region(region)
                .build(),
        )
        .build();

    let mut message = format!(
        "{} ({}) found: {}.",
        sarif_text(&f.rule_name),
        sarif_text(&f.rule_id),
        sarif_text(&f.redacted)
    );
    if let Some(git) = history_only {
        let short: String = git.commit.chars().take(SHORT_COMMIT).collect();
        message.push_str(&format!(
            " It is only in git history (introduced in commit {}): rotate it, then rewrite \
             history if needed.",
            sarif_text(&short)
        ));
        if let Some(url) = &commit_url {
            message.push_str(&format!(" {url}"));
        }
    } else {
        message.push_str(" Rotate it, then move it to a secret store (`unleak migrate`).");
    }
    if let Some(image) = &f.image {
        message.push_str(&format!(" {}.", sarif_text(&image_summary(image))));
    }

    let mut properties = BTreeMap::new();
    properties.insert("confidence".to_string(), json!(f.confidence.as_str()));
    properties.insert(
        "entropy".to_string(),
        json!((f.entropy * 100.0).round() / 100.0),
    );
    if !f.decoded.is_empty() {
        let decoded: Vec<String> = f.decoded.iter().map(|d| sarif_text(d)).collect();
        properties.insert("decoded".to_string(), json!(decoded));
    }
    if let Some(git) = &f.git {
        properties.insert("commit".to_string(), Value::String(sarif_text(&git.commit)));
        properties.insert("inHead".to_string(), json!(git.in_head));
        properties.insert("commits".to_string(), json!(git.commits));
    }
    if let Some(url) = commit_url {
        properties.insert("commitUrl".to_string(), Value::String(url));
    }
    if let Some(image) = &f.image {
        let images: Vec<String> = image.images.iter().map(|i| sarif_text(i)).collect();
        properties.insert("images".to_string(), json!(images));
        properties.insert("layer".to_string(), Value::String(sarif_text(&image.layer)));
        if let Some(i) = image.layer_index {
            properties.insert("layerIndex".to_string(), json!(i));
        }
        if let Some(instruction) = &image.instruction {
            properties.insert(
                "instruction".to_string(),
                Value::String(sarif_text(instruction)),
            );
        }
        if let Some(n) = image.removed_in {
            properties.insert("removedInLayer".to_string(), json!(n));
        }
    }

    SarifResult::builder()
        .rule_id(&*f.rule_id)
        .rule_index(rule_index as i64)
        .level(result_level(f.confidence))
        .message(Message::builder().text(message).build())
        .locations(vec![location])
        .partial_fingerprints(BTreeMap::from([(
            FINGERPRINT_KEY.to_string(),
            f.fingerprint.to_string(),
        )]))
        .properties(
            PropertyBag::builder()
                .additional_properties(properties)
                .build(),
        )
        .build()
}

/// Code scanning's severity of a rule's alerts, from what a leak exposes (how sure a match
/// is goes into `precision`). GitHub reads over 9.0 as critical, 7.0 to 8.9 as high, 4.0 to
/// 6.9 as medium and 0.1 to 3.9 as low; each value sits inside its band, clear of the edges.
fn security_severity(impact: Impact) -> &'static str {
    match impact {
        Impact::Critical => "9.5",
        Impact::High => "8.0",
        Impact::Medium => "5.5",
        Impact::Low => "3.0",
    }
}

fn level_name(c: Confidence) -> &'static str {
    match c {
        Confidence::High => "error",
        Confidence::Medium => "warning",
        Confidence::Low => "note",
    }
}

fn result_level(c: Confidence) -> ResultLevel {
    match c {
        Confidence::High => ResultLevel::Error,
        Confidence::Medium => ResultLevel::Warning,
        Confidence::Low => ResultLevel::Note,
    }
}

/// A scanned path as code scanning and annotations expect it: forward slashes, no leading
/// `./`.
pub(crate) fn repo_path(path: &str) -> String {
    // Only on Windows is `\` a separator; elsewhere it is part of a name.
    let mut p = if cfg!(windows) {
        path.replace('\\', "/")
    } else {
        path.to_string()
    };
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
    }
    p
}

/// The URI of a scanned path: a relative reference for relative paths (resolved against
/// the repository root by code scanning), a `file://` URI for absolute ones.
fn path_uri(path: &str) -> String {
    let path = repo_path(path);
    if path.starts_with('/') {
        return format!("file://{}", percent_encode(&path));
    }
    let bytes = path.as_bytes();
    if bytes.len() >= 3 && bytes[0].is_ascii_alphabetic() && &bytes[1..3] == b":/" {
        return format!("file:///{}:{}", &path[..1], percent_encode(&path[2..]));
    }
    percent_encode(&path)
}

/// Percent-encode everything but unreserved characters and `/` (RFC 3986), so spaces,
/// `#`, `?`, `%`, `:` (which would read as a scheme), control characters and non-ASCII
/// bytes cannot change what the URI means.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use crate::Format;
    use unleak_rules::RuleSetBuilder;

    /// The OASIS schema, with one fix: its `language` pattern ends in a bare `]`, which is a
    /// literal in JavaScript's legacy regex syntax but an error under the strict syntax the
    /// validator checks schemas with. Escaping it keeps the meaning and lets the schema load.
    fn schema() -> Value {
        let text = include_str!("../../../fixtures/sarif-schema-2.1.0.json");
        let fixed = text.replace(r#"-[a-zA-Z]{2}]?$""#, r#"-[a-zA-Z]{2}\\]?$""#);
        assert_ne!(
            fixed, text,
            "the schema's language pattern changed; revisit schema()"
        );
        serde_json::from_str(&fixed).unwrap()
    }

    fn validate(doc: &Value) {
        // Formats (uri, uri-reference, date-time) are checked too: GitHub rejects bad URIs.
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema())
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(doc)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "SARIF does not validate: {errors:#?}");
    }

    fn sarif(findings: &[Finding], opts: &ReportOptions) -> (String, Value) {
        let out = render(Format::Sarif, findings, &summary(), opts);
        let doc = serde_json::from_str(&out).unwrap();
        (out, doc)
    }

    #[test]
    fn a_tree_finding_validates_and_is_redacted() {
        let findings = vec![
            finding("src/app config.env", "demo-token", Confidence::High, 4),
            finding(EVIL_PATH, "demo-password", Confidence::Medium, 1),
        ];
        let (out, doc) = sarif(&findings, &opts());
        validate(&doc);
        assert!(!out.contains(RANDOM_PART));
        assert!(!out.contains("snippet"));
        assert!(!out.contains('\u{1b}') && !out.contains("\\u001b"), "{out}");
        let run = &doc["runs"][0];
        assert_eq!(run["tool"]["driver"]["name"], "unleak");
        assert_eq!(run["tool"]["driver"]["version"], "0.1.0");
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            ["demo-token", "demo-password"],
            "only rules with findings"
        );
        assert_eq!(rules[0]["properties"]["security-severity"], "8.0");
        assert_eq!(rules[0]["properties"]["precision"], "high");
        assert_eq!(rules[0]["helpUri"], "https://example.com/docs/tokens");
        assert!(rules[0]["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("unleak migrate"));
        assert_eq!(rules[1]["properties"]["security-severity"], "8.0");
        assert_eq!(rules[1]["properties"]["precision"], "medium");

        let r0 = &run["results"][0];
        assert_eq!(r0["ruleId"], "demo-token");
        assert_eq!(r0["ruleIndex"], 0);
        assert_eq!(r0["level"], "error");
        assert!(r0["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Demo token (demo-token) found: demo_…(25 chars)."));
        let loc = &r0["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "src/app%20config.env");
        assert_eq!(loc["region"]["startLine"], 4);
        assert_eq!(loc["region"]["startColumn"], 7);
        assert_eq!(loc["region"]["endColumn"], 7 + RAW.len());
        assert_eq!(
            r0["partialFingerprints"][FINGERPRINT_KEY],
            findings[0].fingerprint.as_str()
        );
        assert_eq!(r0["properties"]["confidence"], "high");

        let r1 = &run["results"][1];
        assert_eq!(r1["ruleIndex"], 1);
        assert_eq!(r1["level"], "warning");
        assert_eq!(
            r1["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "dir/evil%1B%5B31m%0Aname%2Cline%3D1%3A%3Ax%250A%3A%3Aerror%3A%3Apwned.env"
        );
    }

    #[test]
    fn columns_are_utf16_code_units_counted_from_the_line() {
        // An emoji (two UTF-16 units, one code point, four bytes) and a CJK character (one
        // unit, one code point, three bytes) before the secret on its line.
        let line = format!("\u{1F511} 密钥={RAW} # \u{1F600}\n");
        let start = line.find(RAW).unwrap();
        let mut f = finding("a.env", "demo-token", Confidence::High, 1);
        f.location = unleak_core::Locator::new(line.as_bytes())
            .locate(unleak_core::Span::new(start, start + RAW.len()));
        assert_eq!(f.location.column, 6, "code points");
        let (_, doc) = sarif(&[f], &opts());
        validate(&doc);
        let run = &doc["runs"][0];
        assert_eq!(run["columnKind"], "utf16CodeUnits");
        let region = &run["results"][0]["locations"][0]["physicalLocation"]["region"];
        let utf16: Vec<u16> = line.encode_utf16().collect();
        let secret: Vec<u16> = RAW.encode_utf16().collect();
        let at = utf16
            .windows(secret.len())
            .position(|w| w == secret)
            .unwrap();
        assert_eq!(
            at, 6,
            "the emoji counts two units, the CJK characters one each"
        );
        assert_eq!(region["startColumn"], at + 1);
        assert_eq!(region["endColumn"], at + 1 + secret.len());
    }

    /// Severity follows impact, not confidence: a medium-confidence finding of a critical
    /// rule is critical, a high-confidence test key is low, and a generic rule is medium.
    #[test]
    fn security_severity_is_the_rules_impact_in_githubs_bands() {
        let rules = RuleSetBuilder::new()
            .add_toml(
                "impact.toml",
                r#"
[[rules]]
id = "demo-root-key"
name = "Demo root key"
keywords = ["root_"]
regex = '(?P<secret>root_[a-z]{8})'
confidence = "medium"
impact = "critical"

[[rules]]
id = "demo-test-key"
name = "Demo test key"
keywords = ["test_"]
regex = '(?P<secret>test_[a-z]{8})'
confidence = "high"
impact = "low"

[[rules]]
id = "demo-generic"
name = "Demo generic"
keywords = ["pw="]
regex = 'pw=(?P<secret>[a-z]{8})'
confidence = "high"
tags = ["generic"]
"#,
            )
            .unwrap()
            .build()
            .unwrap();
        let findings = [
            finding("a.env", "demo-root-key", Confidence::Medium, 1),
            finding("b.env", "demo-test-key", Confidence::High, 1),
            finding("c.env", "demo-generic", Confidence::High, 1),
        ];
        let doc =
            serde_json::to_value(build(&findings, &rules, &opts(), None, MAX_RESULTS)).unwrap();
        validate(&doc);
        let severity: Vec<(&str, f64, &str)> = doc["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let p = &r["properties"];
                let s = p["security-severity"].as_str().unwrap();
                (
                    r["id"].as_str().unwrap(),
                    s.parse().unwrap(),
                    p["precision"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            severity,
            [
                ("demo-root-key", 9.5, "medium"),
                ("demo-test-key", 3.0, "high"),
                ("demo-generic", 5.5, "high"),
            ]
        );
        // Over the results cap the critical one is kept, though its confidence is lower.
        let kept = serde_json::to_value(build(&findings[..2], &rules, &opts(), None, 1)).unwrap();
        assert_eq!(kept["runs"][0]["results"][0]["ruleId"], "demo-root-key");
        assert_eq!(kept["runs"][0]["results"].as_array().unwrap().len(), 1);

        // GitHub's bands: critical over 9.0, high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9.
        let band = |s: f64| match s {
            s if s > 9.0 => "critical",
            s if s >= 7.0 => "high",
            s if s >= 4.0 => "medium",
            _ => "low",
        };
        for impact in [Impact::Critical, Impact::High, Impact::Medium, Impact::Low] {
            let s: f64 = security_severity(impact).parse().unwrap();
            assert!(s > 0.0 && s <= 10.0);
            assert_eq!(band(s), impact.as_str());
        }
    }

    /// The built-in catalogue rates cloud root keys, live payment keys and unencrypted
    /// private keys critical, key ids and test-mode keys low, and generic rules medium.
    #[test]
    fn builtin_rules_rate_root_and_payment_keys_critical() {
        let rules = unleak_rules::builtin().unwrap();
        let impact = |id: &str| rules.get(id).unwrap_or_else(|| panic!("{id}")).impact;
        for id in [
            "aws-secret-access-key",
            "gcp-service-account-key",
            "azure-storage-account-key",
            "stripe-live-secret-key",
            "private-key-openssh",
        ] {
            assert_eq!(impact(id), Impact::Critical, "{id}");
        }
        assert_eq!(impact("github-pat-classic"), Impact::High);
        assert_eq!(impact("generic-password"), Impact::Medium);
        assert_eq!(impact("private-key-pkcs8-encrypted"), Impact::Medium);
        assert_eq!(impact("stripe-test-secret-key"), Impact::Low);
        assert_eq!(impact("aws-access-key-id"), Impact::Low);
    }

    #[test]
    fn a_history_only_finding_points_at_its_commit() {
        let findings = vec![git_finding("conf/app.env", false)];
        let mut o = opts();
        o.repo_url = Some("https://github.com/o/r/");
        let (out, doc) = sarif(&findings, &o);
        validate(&doc);
        assert!(!out.contains(RANDOM_PART) && !out.contains("snippet"));
        let run = &doc["runs"][0];
        let r = &run["results"][0];
        // GitHub rejects the whole file when a location's URI is not a checkout path, so
        // the location stays the repository path and the link goes to message and properties.
        let link =
            "https://github.com/o/r/blob/89abcdef0123456789abcdef0123456789abcdef/conf/app.env";
        let artifact = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uri"], "conf/app.env");
        assert_eq!(artifact["uriBaseId"], "%SRCROOT%");
        assert!(!out.contains("\"uri\": \"https"), "{out}");
        assert_eq!(r["properties"]["commitUrl"], link);
        assert_eq!(
            r["properties"]["commit"],
            "89abcdef0123456789abcdef0123456789abcdef"
        );
        assert_eq!(r["properties"]["inHead"], false);
        let text = r["message"]["text"].as_str().unwrap();
        assert!(
            text.contains("only in git history (introduced in commit 89abcdef01)"),
            "{text}"
        );
        assert!(text.ends_with(&format!(" {link}")), "{text}");
        assert_eq!(
            run["versionControlProvenance"][0]["repositoryUri"],
            "https://github.com/o/r/"
        );

        // Without a repository URL the path stays and the commit is in the properties.
        let (_, doc) = sarif(&findings, &opts());
        validate(&doc);
        let r = &doc["runs"][0]["results"][0];
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "conf/app.env"
        );
        assert_eq!(
            r["properties"]["commit"],
            "89abcdef0123456789abcdef0123456789abcdef"
        );
        assert!(r["properties"]["commitUrl"].is_null());

        // A secret still at HEAD is reported at its path.
        let (_, doc) = sarif(&[git_finding("conf/app.env", true)], &o);
        validate(&doc);
        assert_eq!(
            doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
                ["uri"],
            "conf/app.env"
        );
    }

    #[test]
    fn relative_locations_name_the_repository_root_as_their_base() {
        let findings = vec![
            finding("src/a.env", "demo-token", Confidence::High, 1),
            finding("/abs/b.env", "demo-token", Confidence::High, 1),
        ];
        let (_, doc) = sarif(&findings, &opts());
        validate(&doc);
        let run = &doc["runs"][0];
        assert!(run["originalUriBaseIds"]["%SRCROOT%"]["description"]["text"].is_string());
        // No machine path: upload-sarif resolves relative URIs against the checkout.
        assert!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"].is_null());
        let rel = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(rel["uriBaseId"], "%SRCROOT%");
        let abs = &run["results"][1]["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(abs["uri"], "file:///abs/b.env");
        assert!(abs["uriBaseId"].is_null(), "an absolute URI takes no base");
        assert_eq!(
            doc["$schema"],
            "https://json.schemastore.org/sarif-2.1.0.json"
        );
    }

    #[test]
    fn a_category_becomes_the_automation_id() {
        let findings = vec![finding("a.env", "demo-token", Confidence::High, 1)];
        let mut out = Vec::new();
        crate::write_sarif(&mut out, &findings, &rules(), &opts(), Some("unleak/tree")).unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        validate(&doc);
        // The trailing `/` makes all of `unleak/tree` the category, as upload-sarif writes it.
        assert_eq!(doc["runs"][0]["automationDetails"]["id"], "unleak/tree/");
        let (_, doc) = sarif(&findings, &opts());
        assert!(doc["runs"][0]["automationDetails"].is_null());
        assert_eq!(automation_id("x/"), "x/");
        assert_eq!(automation_id("a\nb"), "a b/");
    }

    #[test]
    fn a_run_over_the_results_cap_keeps_the_most_severe_and_says_so() {
        assert_eq!(MAX_RESULTS, 25_000, "GitHub's documented limit");
        let findings = vec![
            finding("a.env", "demo-entropy", Confidence::Low, 1),
            finding("b.env", "demo-token", Confidence::High, 1),
            finding("c.env", "demo-password", Confidence::Medium, 1),
            finding("d.env", "demo-token", Confidence::High, 2),
        ];
        let doc = serde_json::to_value(build(&findings, &rules(), &opts(), None, 3)).unwrap();
        validate(&doc);
        let run = &doc["runs"][0];
        let uris: Vec<&str> = run["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
            })
            .collect();
        assert_eq!(uris, ["b.env", "c.env", "d.env"], "the low one is left out");
        let ids: Vec<&str> = run["tool"]["driver"]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            ["demo-token", "demo-password"],
            "no rule without a result"
        );
        assert_eq!(run["properties"]["resultsTotal"], 4);
        assert_eq!(run["properties"]["resultsOmitted"], 1);
        let note = &run["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(note["level"], "warning");
        assert!(note["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("1 of 4 results were left out"));

        // At the cap nothing is left out and nothing is said.
        let doc = serde_json::to_value(build(&findings, &rules(), &opts(), None, 4)).unwrap();
        assert_eq!(doc["runs"][0]["results"].as_array().unwrap().len(), 4);
        assert!(doc["runs"][0]["invocations"].is_null());
        assert!(doc["runs"][0]["properties"].is_null());
    }

    #[test]
    fn an_empty_run_validates() {
        let (_, doc) = sarif(&[], &opts());
        validate(&doc);
        assert_eq!(doc["version"], "2.1.0");
        assert_eq!(doc["runs"].as_array().unwrap().len(), 1);
        assert_eq!(doc["runs"][0]["results"], json!([]));
        assert_eq!(doc["runs"][0]["tool"]["driver"]["rules"], json!([]));
    }

    #[test]
    fn a_finding_of_an_unknown_rule_still_resolves_its_index() {
        let findings = vec![
            finding("a.env", "gone-rule", Confidence::Low, 1),
            finding("b.env", "demo-token", Confidence::High, 1),
        ];
        let (_, doc) = sarif(&findings, &opts());
        validate(&doc);
        let run = &doc["runs"][0];
        assert_eq!(run["tool"]["driver"]["rules"][1]["id"], "gone-rule");
        assert_eq!(run["results"][0]["ruleIndex"], 1);
        assert_eq!(run["results"][0]["level"], "note");
        assert_eq!(run["results"][1]["ruleIndex"], 0);
    }

    #[test]
    fn the_validator_rejects_a_broken_log() {
        // Guards the schema tests above against a validator that accepts anything.
        let (_, mut doc) = sarif(
            &[finding("a.env", "demo-token", Confidence::High, 1)],
            &opts(),
        );
        doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
            json!(0);
        assert!(!jsonschema::is_valid(&schema(), &doc));
    }

    #[test]
    fn uris_are_relative_encoded_references() {
        assert_eq!(path_uri("./a b/c#d?.env"), "a%20b/c%23d%3F.env");
        assert_eq!(path_uri("c:x"), "c%3Ax");
        assert_eq!(path_uri("/abs/x y"), "file:///abs/x%20y");
        assert_eq!(path_uri("é"), "%C3%A9");
    }
}
