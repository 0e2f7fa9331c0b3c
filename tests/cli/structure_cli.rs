//! Secrets that only the structure around them reveals, found by the real binary on the
//! hand-written fixtures of `fixtures/k8s-secrets/` (every `data:` value of a Kubernetes
//! Secret, whatever its key) and `fixtures/pem-concat/` (a private key written as string
//! literals joined across lines, one file per language idiom). Values are generated when the
//! fixtures are copied out (see the READMEs there).

use crate::common;

use common::{json, run_in};
use std::path::Path;

/// Base64 (standard alphabet, padded).
fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = c
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for k in 0..4 {
            out.push(if k <= c.len() {
                A[(n >> (18 - 6 * k) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// `<<b64 wrap=N indent=M>>TEXT<</b64>>` replaced by TEXT's base64 (`\n` in TEXT a line
/// break), cut into lines of N characters after the first indented by M spaces.
fn encode_tags(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("<<b64") {
        out.push_str(&rest[..i]);
        let open_end = rest[i..].find(">>").unwrap() + i;
        let attrs = &rest[i + 5..open_end];
        let close = rest[open_end..].find("<</b64>>").unwrap() + open_end;
        let plain = rest[open_end + 2..close].replace("\\n", "\n");
        let attr = |name: &str| {
            attrs
                .split_whitespace()
                .find_map(|a| a.strip_prefix(name)?.strip_prefix('='))
                .map(|v| v.parse::<usize>().unwrap())
        };
        let enc = b64(plain.as_bytes());
        match attr("wrap") {
            Some(width) => {
                let indent = " ".repeat(attr("indent").unwrap_or(0));
                let lines: Vec<&str> = enc
                    .as_bytes()
                    .chunks(width)
                    .map(|c| std::str::from_utf8(c).unwrap())
                    .collect();
                out.push_str(&lines.join(&format!("\n{indent}")));
            }
            None => out.push_str(&enc),
        }
        rest = &rest[close + 8..];
    }
    out.push_str(rest);
    out
}

/// The fixtures of `dir`, with their values generated, in a scratch directory; and every
/// generated value.
fn materialise(dir: &str) -> (tempfile::TempDir, Vec<String>) {
    let out = tempfile::tempdir().unwrap();
    let mut values = Vec::new();
    let src = common::repo_root().join("fixtures").join(dir);
    let mut names: Vec<_> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "README.md")
        .collect();
    names.sort();
    for (seed, name) in names.iter().enumerate() {
        let text = std::fs::read_to_string(src.join(name)).unwrap();
        let (text, vals) = unleak_rules::generate::expand(&text, seed as u64 + 1).unwrap();
        values.extend(vals);
        std::fs::write(out.path().join(name), encode_tags(&text)).unwrap();
    }
    (out, values)
}

/// `(file, rule, line, end line, confidence, decoded)` of every finding, sorted.
type Row = (String, String, u64, u64, String, String);

fn scan(dir: &Path, extra: &[&str]) -> (Vec<Row>, String) {
    let mut args = vec!["scan", ".", "--format", "json", "--min-confidence", "low"];
    args.extend(extra);
    let r = run_in(dir, &args, None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let report = json(&r.stdout);
    let mut rows: Vec<Row> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let decoded: Vec<&str> = f["decoded"]
                .as_array()
                .map(|d| d.iter().map(|x| x.as_str().unwrap()).collect())
                .unwrap_or_default();
            (
                f["path"].as_str().unwrap().trim_start_matches("./").into(),
                f["rule_id"].as_str().unwrap().into(),
                f["line"].as_u64().unwrap(),
                f["end_line"].as_u64().unwrap(),
                f["confidence"].as_str().unwrap().into(),
                decoded.join(","),
            )
        })
        .collect();
    rows.sort();
    (rows, r.stdout + &r.stderr)
}

fn row(file: &str, rule: &str, lines: (u64, u64), confidence: &str, decoded: &str) -> Row {
    (
        file.into(),
        rule.into(),
        lines.0,
        lines.1,
        confidence.into(),
        decoded.into(),
    )
}

#[test]
fn every_data_value_of_a_kubernetes_secret_is_decoded_and_scanned() {
    let (dir, values) = materialise("k8s-secrets");
    let (rows, output) = scan(dir.path(), &[]);
    let want = vec![
        // `.dockerconfigjson` holds a registry login, base64 inside base64.
        row("app.yaml", "docker-config-auth", (20, 20), "high", "base64"),
        // A block scalar: the password's encoding is on the block's fourth to sixth lines.
        row("app.yaml", "generic-password", (25, 27), "medium", "base64"),
        // JSON from kubectl, under a key that names nothing.
        row(
            "kubectl-get-secret.json",
            "generic-token",
            (4, 4),
            "medium",
            "base64",
        ),
        // `tls.key`, folded over lines inside a List item.
        row("list.yaml", "private-key-rsa", (12, 41), "high", "base64"),
        // stringData is live: a plain word is a password there, not a stand-in.
        row("list.yaml", "generic-password", (47, 47), "medium", ""),
    ];
    let mut want = want;
    want.sort();
    assert_eq!(rows, want);
    for v in &values {
        assert!(!output.contains(v.as_str()), "a generated value is printed");
    }
}

#[test]
fn a_private_key_in_joined_string_literals_is_one_finding_per_language() {
    let (dir, values) = materialise("pem-concat");
    let (rows, output) = scan(dir.path(), &[]);
    let mut want = vec![
        row(
            "Signer.cs",
            "private-key-rsa",
            (3, 7),
            "high",
            "joined-literals",
        ),
        row(
            "Signer.java",
            "private-key-rsa",
            (2, 7),
            "high",
            "joined-literals",
        ),
        row(
            "signer.c",
            "private-key-pkcs8",
            (2, 6),
            "high",
            "joined-literals",
        ),
        row(
            "signer.go",
            "private-key-rsa",
            (4, 8),
            "high",
            "joined-literals",
        ),
        row(
            "signer.js",
            "private-key-pkcs8",
            (2, 6),
            "high",
            "joined-literals",
        ),
        row(
            "signer.py",
            "private-key-ec",
            (2, 5),
            "high",
            "joined-literals",
        ),
        row(
            "signer.rb",
            "private-key-rsa",
            (1, 5),
            "high",
            "joined-literals",
        ),
    ];
    want.sort();
    assert_eq!(rows, want, "negatives.java must report nothing");
    for v in &values {
        assert!(!output.contains(v.as_str()), "a generated value is printed");
    }
    // The text printer, SARIF and a baseline do not show the rebuilt key either.
    for format in ["text", "sarif", "jsonl"] {
        let r = run_in(dir.path(), &["scan", ".", "--format", format], None);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        assert!(
            values.iter().all(|v| !r.stdout.contains(v.as_str())),
            "{format}"
        );
    }
}

#[test]
fn a_file_whose_encoded_text_exceeds_the_decoding_cap_is_listed_as_partially_decoded() {
    // Eight runs of base64 text of 200 KiB each: more than the 1 MiB decoded per file.
    let dir = tempfile::tempdir().unwrap();
    let line = "export SETTING=value-of-the-setting ".repeat(200 * 1024 / 36);
    let run = b64(line.as_bytes());
    let big = format!("{}\n", [run.as_str(); 8].join("\n"));
    std::fs::write(dir.path().join("blobs.txt"), &big).unwrap();
    std::fs::write(dir.path().join("small.txt"), format!("{run}\n")).unwrap();
    let r = run_in(dir.path(), &["scan", ".", "--format", "json"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let skipped = json(&r.stdout)["summary"]["skipped"].clone();
    let skipped = skipped.as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0]["path"], "blobs.txt");
    assert!(skipped[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("partially decoded"));
}
