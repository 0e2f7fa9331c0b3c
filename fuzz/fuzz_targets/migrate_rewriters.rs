//! Every migrate rewriter on arbitrary files. The first byte picks the file type (by its
//! path: `.env`, Dockerfile, Kubernetes manifest, Helm values, compose, workflow, other),
//! the second how findings are made: by the built-in matcher over the file (what a real
//! run plans from) or one finding at an arbitrary span under an arbitrary built-in rule.
//! Planning never panics; each file's edits are sorted, disjoint and inside the file, so
//! every byte outside them is kept; an edit that removes bytes lies on a secret's line
//! (or fills an empty `""` value); and the plan never holds a value. `{{gen:SPEC}}` in
//! the file becomes a generated token (the seeds are the migrate fixtures).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use unleak_core::{Blob, Finding, Fingerprint, FingerprintKey, Locator, Origin, Secret, Span};
use unleak_fuzz::{contains, expand_placeholders};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_migrate::{plan, PlanOptions, SourceFile};

const PATHS: [&str; 8] = [
    ".env",
    "Dockerfile",
    "k8s/deployment.yaml",
    "charts/app/values-prod.yaml",
    "docker-compose.yml",
    ".github/workflows/deploy.yml",
    "config/database.yml",
    "src/settings.py",
];

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let rules = unleak_rules::builtin().expect("the built-in catalog compiles");
        Matcher::new(rules, MatcherOptions::default())
    })
}

fn finding_at(path: &str, data: &[u8], span: Span, rule: &str) -> Finding {
    let value = &data[span.start..span.end];
    let secret = Secret::new(value.to_vec(), 0);
    Finding {
        rule_id: rule.into(),
        rule_name: rule.into(),
        path: Origin::File(path.into()),
        location: Locator::new(data).locate(span),
        span,
        redacted: secret.redacted(),
        fingerprint: Fingerprint::compute(&FingerprintKey::default(), rule, value),
        secret,
        entropy: 4.0,
        confidence: unleak_core::Confidence::High,
        inline_allow: false,
        decoded: Vec::new(),
        git: None,
        provenance_secrets: None,
        image: None,
    }
}

fuzz_target!(|input: &[u8]| {
    let [kind, mode, a, b, c, file @ ..] = input else {
        return;
    };
    let data = &expand_placeholders(file)[..];
    let path = PATHS[usize::from(*kind) % PATHS.len()];
    let m = matcher();
    let findings: Vec<Finding> = if mode % 2 == 0 || data.is_empty() {
        m.scan(&Blob::new(Origin::File(path.into()), data))
            .into_iter()
            .map(|mut f| {
                f.path = Origin::File(path.into());
                f
            })
            .collect()
    } else {
        let start = usize::from(u16::from_le_bytes([*a, *b])) % data.len();
        let end = (start + 1 + usize::from(*c)).min(data.len());
        let rules = m.rules().rules();
        let rule = &rules[usize::from(*mode / 2) % rules.len()];
        vec![finding_at(path, data, Span::new(start, end), &rule.id)]
    };
    let files = [SourceFile {
        path,
        data,
        findings: &findings,
    }];
    let plan = plan(&files, &[], m.rules(), &PlanOptions::default());

    let line_of = |off: usize| data[..off].iter().filter(|b| **b == b'\n').count();
    let secret_lines: Vec<(usize, usize)> = findings
        .iter()
        .map(|f| (line_of(f.span.start), line_of(f.span.end)))
        .collect();
    for file in &plan.files {
        assert_eq!(file.path, path);
        let mut pos = 0;
        for e in &file.edits {
            assert!(
                pos <= e.start && e.start <= e.end && e.end <= data.len(),
                "edits out of order, overlapping or past the end: {}..{} after {pos} in {} bytes",
                e.start,
                e.end,
                data.len()
            );
            if e.end > e.start {
                let (l1, l2) = (line_of(e.start), line_of(e.end));
                let on_secret_line = secret_lines.iter().any(|(s, t)| l1 <= *t && *s <= l2);
                let empty_value = matches!(&data[e.start..e.end], b"\"\"" | b"''");
                assert!(
                    on_secret_line || empty_value,
                    "edit of bytes {}..{} (line {}) is away from every secret",
                    e.start,
                    e.end,
                    l1 + 1
                );
            }
            pos = e.end;
        }
    }
    // The plan holds pointers and replacement text, never a value. Only values that could
    // not come from elsewhere are checked: long, and nowhere else in the file.
    let json = plan.to_json();
    for f in &findings {
        let value = f.secret.expose();
        let elsewhere =
            contains(&data[..f.span.start], value) || contains(&data[f.span.end..], value);
        let alnum = value.iter().all(u8::is_ascii_alphanumeric);
        if value.len() >= 16 && alnum && !elsewhere {
            if let Some(at) = json
                .as_bytes()
                .windows(value.len())
                .position(|w| w == value)
            {
                // Where in the plan, with the value itself cut off.
                let context = String::from_utf8_lossy(&json.as_bytes()[at.saturating_sub(120)..at]);
                panic!(
                    "the plan holds the value of a {} finding ({}..{}) after: {context}\nin: {:?}",
                    f.rule_id,
                    f.span.start,
                    f.span.end,
                    String::from_utf8_lossy(data)
                );
            }
        }
    }
});
