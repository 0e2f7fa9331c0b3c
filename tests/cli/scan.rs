//! End-to-end tests of `unleak scan` on the fixture trees.

use crate::common;

use common::{answer_key, finding_keys, json, repo_root, run, run_in};

#[test]
fn fixtures_match_their_templates() {
    let fixtures = repo_root().join("fixtures");
    let stale =
        unleak_testkit::fixtures::sync(&fixtures, &fixtures.join("templates"), false).unwrap();
    assert!(
        stale.is_empty(),
        "fixtures out of date (run `cargo xtask fixtures`): {stale:?}"
    );
}

#[test]
fn every_planted_secret_is_found_at_its_exact_place() {
    let r = run(&["scan", "fixtures/positive", "--format", "json"]);
    assert_eq!(r.code, 1, "findings exit 1; stderr: {}", r.stderr);
    let got = finding_keys(&json(&r.stdout));
    let want = answer_key("positive");
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing: {missing:#?}\nunexpected: {extra:#?}"
    );
}

#[test]
fn placeholders_and_decoys_are_not_reported() {
    let r = run(&["scan", "fixtures/negative", "--format", "json"]);
    let doc = json(&r.stdout);
    assert_eq!(
        doc["findings"].as_array().unwrap().len(),
        0,
        "{:#}",
        doc["findings"]
    );
    assert_eq!(r.code, 0);
}

#[test]
fn stdin_is_named_stdin() {
    let log = std::fs::read(repo_root().join("fixtures/positive/logs/build.log")).unwrap();
    let r = run_in(&repo_root(), &["scan", "-", "--format", "json"], Some(&log));
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json(&r.stdout);
    let findings = doc["findings"].as_array().unwrap();
    let want: Vec<_> = answer_key("positive")
        .into_iter()
        .filter(|k| k.0.ends_with("logs/build.log"))
        .map(|k| (k.1, k.2, k.3))
        .collect();
    let got: Vec<_> = findings
        .iter()
        .map(|f| {
            assert_eq!(f["path"], "<stdin>");
            (
                f["rule_id"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    let text = run_in(&repo_root(), &["scan", "-"], Some(&log));
    assert!(text.stdout.contains("<stdin>"), "{}", text.stdout);
}

/// Every raw value the fixtures plant, learned through `--show-secrets`.
fn raw_values() -> Vec<String> {
    let r = run(&[
        "scan",
        "fixtures/positive",
        "--format",
        "json",
        "--show-secrets",
    ]);
    let doc = json(&r.stdout);
    let values: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().expect("revealed").to_string())
        .collect();
    assert_eq!(values.len(), answer_key("positive").len());
    values
}

#[test]
fn no_output_format_ever_contains_a_raw_secret() {
    let values = raw_values();
    let dir = tempfile::tempdir().unwrap();
    for format in ["text", "json", "jsonl", "sarif", "github"] {
        for verbose in [false, true] {
            let out = dir.path().join(format!("report.{format}"));
            let mut args = vec!["scan", "fixtures/positive", "--format", format];
            if verbose {
                args.push("-vv");
            }
            let to_stdout = run(&args);
            let outs = out.to_str().unwrap();
            args.extend(["--output", outs]);
            let to_file = run(&args);
            let file = std::fs::read_to_string(&out).unwrap();
            assert_eq!(to_stdout.code, 1, "{format}: {}", to_stdout.stderr);
            assert_eq!(to_file.code, 1, "{format}: {}", to_file.stderr);
            assert!(!file.is_empty() && to_stdout.stdout.len() > 10);
            for v in &values {
                for (name, text) in [
                    ("stdout", &to_stdout.stdout),
                    ("stderr", &to_stdout.stderr),
                    ("stdout with --output", &to_file.stdout),
                    ("stderr with --output", &to_file.stderr),
                    ("output file", &file),
                ] {
                    assert!(
                        !text.contains(v.as_str()),
                        "{format} {name} leaks a secret of {} chars",
                        v.len()
                    );
                }
            }
        }
    }
}

#[test]
fn show_secrets_is_the_only_way_to_print_a_value() {
    let values = raw_values();
    let r = run(&["scan", "fixtures/positive", "--show-secrets"]);
    assert!(values
        .iter()
        .all(|v| r.stdout.contains(v.as_str()) || v.contains('\n')));
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let r = run(&["scan", "fixtures/positive", "--format", "sarif"]);
    let doc = json(&r.stdout);
    let text =
        std::fs::read_to_string(repo_root().join("fixtures/sarif-schema-2.1.0.json")).unwrap();
    // OASIS's `language` pattern ends in a bare `]` that strict regex checking rejects;
    // escaping it keeps its meaning.
    let fixed = text.replace(r#"-[a-zA-Z]{2}]?$""#, r#"-[a-zA-Z]{2}\\]?$""#);
    assert_ne!(fixed, text, "the schema's language pattern changed");
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&json(&fixed))
        .unwrap();
    let errors: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), answer_key("positive").len());
    assert!(!r.stdout.contains("snippet"));
}

#[test]
fn jsonl_streams_one_finding_per_line() {
    let r = run(&["scan", "fixtures/positive", "--format", "jsonl"]);
    let lines: Vec<_> = r.stdout.lines().collect();
    assert_eq!(lines.len(), answer_key("positive").len());
    for l in lines {
        assert!(json(l)["rule_id"].is_string());
    }
}

#[test]
fn exit_codes_are_a_contract() {
    assert_eq!(run(&["scan", "fixtures/negative"]).code, 0);
    assert_eq!(run(&["scan", "fixtures/positive"]).code, 1);
    let missing = run(&["scan", "no/such/dir"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("no/such/dir"), "{}", missing.stderr);
    let bad_flag = run(&["scan", "--no-such-flag"]);
    assert_eq!(bad_flag.code, 2);
    assert!(bad_flag.stderr.contains("--no-such-flag"));
    let bad_format = run(&["scan", "--format", "xml"]);
    assert_eq!(bad_format.code, 2);
    assert_eq!(run(&["--help"]).code, 0);
}

#[test]
fn a_malformed_rule_file_names_file_rule_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("mine.toml");
    std::fs::write(
        &bad,
        "[[rules]]\nid = \"my-token\"\nname = \"Mine\"\nkeywords = [\"mine_\"]\nregex = '''mine_[a-z]{8}'''\nconfidence = \"high\"\n",
    )
    .unwrap();
    let r = run(&[
        "scan",
        "fixtures/negative",
        "--rules",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("mine.toml")
            && r.stderr.contains("my-token")
            && r.stderr.contains("secret"),
        "{}",
        r.stderr
    );
}

#[test]
fn user_rules_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("acme.toml");
    std::fs::write(
        &rules,
        "[[rules]]\nid = \"acme-key\"\nname = \"ACME key\"\nkeywords = [\"acme_\"]\nregex = '''\\b(?P<secret>acme_[a-z0-9]{16})\\b'''\nconfidence = \"high\"\nprefix = \"acme_\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("app.cfg"), "key = acme_q8r2lm0tv9xw1ka3\n").unwrap();
    let r = run_in(
        dir.path(),
        &[
            "scan",
            ".",
            "--format",
            "json",
            "--rules",
            rules.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json(&r.stdout);
    assert_eq!(doc["findings"][0]["rule_id"], "acme-key");
    assert_eq!(doc["findings"][0]["path"], "app.cfg");
    assert_eq!(doc["findings"][0]["redacted"], "acme_…(21 chars)");
}

#[test]
fn rules_commands() {
    let check = run(&["rules", "check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.starts_with("ok:"));
    let list = run(&["rules", "list", "--json"]);
    let rows = json(&list.stdout);
    let n = rows.as_array().unwrap().len();
    assert!(n >= 60, "only {n} rules");
    let impact = |id: &str| {
        let rows = rows.as_array().unwrap();
        rows.iter().find(|r| r["id"] == id).unwrap()["impact"].clone()
    };
    assert_eq!(impact("aws-secret-access-key"), "critical");
    assert_eq!(impact("generic-password"), "medium");
    let explain = run(&["rules", "explain", "github-pat-classic"]);
    assert_eq!(explain.code, 0);
    assert!(explain.stdout.contains("crc32"));
    assert!(
        explain.stdout.contains("\nimpact:      high\n"),
        "{}",
        explain.stdout
    );
    let unknown = run(&["rules", "explain", "github"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("did you mean"),
        "{}",
        unknown.stderr
    );
}
