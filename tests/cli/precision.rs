//! End-to-end tests of precision on code: secret-named variables that hold code,
//! templates and references are not findings (fixtures/negative-code, hand-written in the
//! style of what real repositories hold), literal credentials in string literals of the
//! same languages still are (fixtures/positive-code), and trivially fake values are low
//! confidence: hidden by default, shown by `--min-confidence low`, except in files of live
//! settings.

use crate::common;

use common::{answer_key, finding_keys, json, run, run_in};
use serde_json::Value;
use std::collections::BTreeSet;

fn findings(doc: &Value) -> &Vec<Value> {
    doc["findings"].as_array().unwrap()
}

fn where_(doc: &Value) -> Vec<String> {
    findings(doc)
        .iter()
        .map(|f| format!("{}:{} {}", f["path"], f["line"], f["rule_id"]))
        .collect()
}

#[test]
fn code_templates_and_references_are_not_findings() {
    let r = run(&["scan", "fixtures/negative-code", "--format", "json"]);
    let doc = json(&r.stdout);
    assert!(findings(&doc).is_empty(), "{:#?}", where_(&doc));
    assert_eq!(r.code, 0, "clean exits 0; stderr: {}", r.stderr);
}

#[test]
fn literal_credentials_in_code_are_found_at_their_exact_place() {
    let r = run(&["scan", "fixtures/positive-code", "--format", "json"]);
    assert_eq!(r.code, 1, "findings exit 1; stderr: {}", r.stderr);
    let got = finding_keys(&json(&r.stdout));
    let want = answer_key("positive-code");
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:#?}\nextra {extra:#?}"
    );
}

#[test]
fn trivially_fake_values_are_low_and_shown_on_request() {
    let r = run(&[
        "scan",
        "fixtures/negative-code",
        "--format",
        "json",
        "--min-confidence",
        "low",
    ]);
    let doc = json(&r.stdout);
    let all = findings(&doc);
    assert!(
        all.iter().all(|f| f["confidence"] == "low"),
        "{:#?}",
        where_(&doc)
    );
    let files: BTreeSet<&str> = all.iter().map(|f| f["path"].as_str().unwrap()).collect();
    // Passwords that are one word or name themselves, and descriptive test tokens.
    for file in [
        "fixtures/negative-code/compose/compose.yaml",
        "fixtures/negative-code/ci/workflow.yml",
        "fixtures/negative-code/go/status_test.go",
        "fixtures/negative-code/docs/registries.md",
        // Translations, camelCase phrases and self-describing values in demo code, and a
        // password under a test's key.
        "fixtures/negative-code/i18n/auth.php",
        "fixtures/negative-code/i18n/fr.yml",
        "fixtures/negative-code/csharp/DemoDefaults.cs",
        "fixtures/negative-code/docs/upgrading.md",
        // A self-describing password inside a connection string.
        "fixtures/negative-code/compose/appsettings.Docker.json",
        "fixtures/negative-code/compose/test-stack.yaml",
    ] {
        assert!(files.contains(file), "{file}: {:#?}", where_(&doc));
    }
    // Code is never a finding, at any confidence.
    for code in [
        "rust/",
        "python/",
        "web/",
        "java/",
        "terraform/",
        "powershell/",
        "php/",
    ] {
        assert!(
            files.iter().all(|f| !f.contains(code)),
            "{code}: {:#?}",
            where_(&doc)
        );
    }
}

#[test]
fn a_weak_password_in_live_settings_is_still_a_leak() {
    let dir = tempfile::tempdir().unwrap();
    let line = "DB_PASSWORD=nextcloud\n";
    std::fs::write(dir.path().join(".env"), line).unwrap();
    std::fs::write(dir.path().join(".env.example"), line).unwrap();
    std::fs::write(dir.path().join("compose.env.yaml"), line).unwrap();
    let r = run_in(dir.path(), &["scan", ".", "--format", "json"], None);
    let doc = json(&r.stdout);
    let got: Vec<(&str, &str)> = findings(&doc)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["confidence"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, [(".env", "medium")], "{:#?}", where_(&doc));
    assert_eq!(r.code, 1);
}

#[test]
fn guard_does_not_fail_on_trivially_fake_values() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD=testpassword\n",
    )
    .unwrap();
    let r = run_in(dir.path(), &["guard", "."], None);
    assert_eq!(r.code, 0, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
}

#[test]
fn a_trivial_password_in_a_connection_string_is_low_except_in_live_settings() {
    let dir = tempfile::tempdir().unwrap();
    let line = "CACHE_URL=redis://:cachepassword@cache:6379/0\n";
    std::fs::write(dir.path().join(".env"), line).unwrap();
    std::fs::write(dir.path().join("compose.yaml"), line).unwrap();
    let r = run_in(
        dir.path(),
        &["scan", ".", "--format", "json", "--min-confidence", "low"],
        None,
    );
    let doc = json(&r.stdout);
    let mut got: Vec<(&str, &str)> = findings(&doc)
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap(),
                f["confidence"].as_str().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [(".env", "high"), ("compose.yaml", "low")],
        "{:#?}",
        where_(&doc)
    );
}
