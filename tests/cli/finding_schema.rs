//! The public finding shape, checked on real output: a directory, standard input, git
//! history, a range and the guard's JSON and JSONL reports print finding objects that
//! `schema/finding-v1.schema.json` accepts, that parse into `FindingV1`, and that print
//! again from it unchanged.

use crate::common;
use crate::guard_support;

use common::{json, repo_root, run, run_in};
use guard_support::{assert_no_secret, token, Repo};
use serde_json::Value;
use unleak_report::FindingV1;

fn validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo_root().join("schema/finding-v1.schema.json")).unwrap();
    jsonschema::validator_for(&json(&text)).unwrap()
}

/// Check one finding object (as printed) against the schema and the Rust type.
fn check(validator: &jsonschema::Validator, what: &str, finding: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(finding)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{what}: {finding}\n{errors:#?}");
    let parsed: FindingV1 = serde_json::from_value(finding.clone()).unwrap();
    assert_eq!(serde_json::to_value(&parsed).unwrap(), *finding, "{what}");
}

/// Every line of a JSONL report; at least one.
fn check_lines(validator: &jsonschema::Validator, what: &str, stdout: &str) -> usize {
    let mut n = 0;
    for line in stdout.lines() {
        // A line printed again from the type is the same bytes: nothing is lost or
        // reordered on the way through `FindingV1`.
        let parsed: FindingV1 = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&parsed).unwrap(), line, "{what}");
        check(validator, what, &json(line));
        n += 1;
    }
    assert!(n > 0, "{what}: no findings");
    n
}

#[test]
fn directory_and_stdin_findings_match_the_schema() {
    let v = validator();
    let r = run(&["scan", "fixtures/positive", "--format", "jsonl"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let lines = check_lines(&v, "scan --format jsonl", &r.stdout);
    let doc = json(&run(&["scan", "fixtures/positive", "--format", "json"]).stdout);
    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), lines);
    for f in findings {
        check(&v, "scan --format json", f);
    }
    let shown = run(&[
        "scan",
        "fixtures/positive",
        "--format",
        "jsonl",
        "--show-secrets",
    ]);
    assert_eq!(check_lines(&v, "--show-secrets", &shown.stdout), lines);
    assert!(shown.stdout.contains("\"secret\":"));

    let input = format!("export GITHUB_TOKEN={}\n", token(1));
    let r = run_in(
        &repo_root(),
        &["scan", "-", "--format", "jsonl"],
        Some(input.as_bytes()),
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    check_lines(&v, "scan - --format jsonl", &r.stdout);
    assert_eq!(json(r.stdout.lines().next().unwrap())["path"], "<stdin>");
    assert_no_secret("scan -", &r.stdout, &[token(1)]);
}

#[test]
fn history_range_and_guard_findings_match_the_schema() {
    let v = validator();
    let secrets = [token(2), token(3), token(4)];
    let repo = Repo::init();
    repo.write("a.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    repo.commit("add a token");
    repo.write("a.env", "GITHUB_TOKEN=\n");
    repo.write("b.yaml", format!("token: {}\n", secrets[1]));
    repo.commit("move it");
    let base = repo.git(&["rev-parse", "HEAD"]);
    repo.write("c.txt", format!("TOKEN={}\n", secrets[2]));
    repo.commit("one more");

    let history = repo.unleak(&["scan", "--git", "--format", "jsonl"]);
    assert_eq!(history.code, 1, "{}", history.stderr);
    check_lines(&v, "scan --git", &history.stdout);
    assert!(
        history.stdout.contains("\"in_head\":false"),
        "{}",
        history.stdout
    );

    let range = repo.unleak(&[
        "scan",
        "--range",
        &format!("{}..HEAD", base.trim()),
        "-f",
        "jsonl",
    ]);
    assert_eq!(range.code, 1, "{}", range.stderr);
    assert_eq!(check_lines(&v, "scan --range", &range.stdout), 1);

    // The guard's JSON lists each class in the same shape, with what the class adds.
    let guard = repo.unleak(&["guard", "--format", "json"]);
    assert_eq!(guard.code, 1, "{}", guard.stderr);
    let doc = json(&guard.stdout);
    let new = doc["new"].as_array().unwrap();
    assert!(!new.is_empty(), "{doc}");
    for class in ["new", "known", "moved"] {
        for f in doc[class].as_array().unwrap() {
            let mut f = f.clone();
            let extra = f.as_object_mut().unwrap();
            extra.remove("spread_from");
            extra.remove("from");
            check(&v, &format!("guard json {class}"), &f);
        }
    }
    let lines = repo.unleak(&["guard", "--format", "jsonl"]);
    assert_eq!(lines.code, 1, "{}", lines.stderr);
    assert_eq!(
        check_lines(&v, "guard --format jsonl", &lines.stdout),
        new.len()
    );
    for out in [&history.stdout, &range.stdout, &guard.stdout, &lines.stdout] {
        assert_no_secret("finding json", out, &secrets);
    }
}
