//! SARIF as GitHub code scanning takes it, from the real binary: locations that are
//! repository paths even with `--repo-url`, the category of a run, and GitHub's cap of
//! 25,000 results per run.

use crate::common;
use crate::guard_support;

use common::{json, repo_root, run_in};
use guard_support::{assert_no_secret, token, Repo};
use serde_json::Value;

fn validate(doc: &Value) {
    let text =
        std::fs::read_to_string(repo_root().join("fixtures/sarif-schema-2.1.0.json")).unwrap();
    // OASIS's `language` pattern ends in a bare `]` that strict regex checking rejects;
    // escaping it keeps its meaning.
    let fixed = text.replace(r#"-[a-zA-Z]{2}]?$""#, r#"-[a-zA-Z]{2}\\]?$""#);
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&json(&fixed))
        .unwrap();
    let errors: Vec<String> = validator.iter_errors(doc).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

fn artifact(result: &Value) -> &Value {
    &result["locations"][0]["physicalLocation"]["artifactLocation"]
}

#[test]
fn repo_url_links_history_only_secrets_without_putting_a_url_in_a_location() {
    let secret = token(90);
    let repo = Repo::init();
    repo.write("tmp.py", format!("K = \"{secret}\"\n"));
    let added = repo.commit("oops");
    repo.git(&["rm", "-q", "tmp.py"]);
    repo.write("README.md", "app\n");
    repo.commit("remove it");
    let r = repo.unleak(&[
        "scan",
        "--git",
        ".",
        "--repo-url",
        "https://github.com/acme/app",
        "--format",
        "sarif",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json(&r.stdout);
    validate(&doc);
    // upload-sarif rejects the whole file when a location's scheme is not the checkout's.
    assert!(!r.stdout.contains("\"uri\": \"https"), "{}", r.stdout);
    let result = &doc["runs"][0]["results"][0];
    assert_eq!(artifact(result)["uri"], "tmp.py");
    assert_eq!(artifact(result)["uriBaseId"], "%SRCROOT%");
    let link = format!("https://github.com/acme/app/blob/{added}/tmp.py");
    assert_eq!(result["properties"]["commitUrl"], link.as_str());
    assert!(
        result["message"]["text"].as_str().unwrap().contains(&link),
        "{result}"
    );
    assert_no_secret("SARIF", &r.all(), &[secret]);
}

#[test]
fn sarif_category_sets_the_automation_id_and_needs_sarif() {
    let secret = token(91);
    let repo = Repo::init();
    repo.write("app.env", format!("GITHUB_TOKEN={secret}\n"));
    let r = repo.unleak(&[
        "scan",
        ".",
        "--format",
        "sarif",
        "--sarif-category",
        "unleak/tree",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json(&r.stdout);
    validate(&doc);
    assert_eq!(doc["runs"][0]["automationDetails"]["id"], "unleak/tree/");
    assert_eq!(artifact(&doc["runs"][0]["results"][0])["uri"], "app.env");

    let r = repo.unleak(&["scan", ".", "--format", "json", "--sarif-category", "x"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("--sarif-category"), "{}", r.stderr);
    assert!(r.stderr.contains("--format sarif"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}

#[test]
fn more_results_than_github_takes_are_capped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    // Over GitHub's per-run limit with classic tokens (a few of them may not pass the rule).
    let body: String = (0..25_100u64)
        .map(|i| format!("T{i}={}\n", token(1_000 + i)))
        .collect();
    std::fs::write(dir.path().join("many.env"), body).unwrap();
    let r = run_in(dir.path(), &["scan", ".", "--format", "sarif"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json(&r.stdout);
    let run = &doc["runs"][0];
    assert_eq!(run["results"].as_array().unwrap().len(), 25_000);
    let total = run["properties"]["resultsTotal"].as_u64().unwrap();
    assert!(total > 25_000, "{total}");
    assert_eq!(run["properties"]["resultsOmitted"], total - 25_000);
    assert!(
        r.stderr.contains(&format!(
            "SARIF keeps the 25000 most severe of {total} findings"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn guard_sarif_category_sets_the_automation_id_and_needs_sarif() {
    let secret = token(92);
    let repo = Repo::init();
    repo.write("README.md", "hello\n");
    let base = repo.commit("base");
    repo.write("app.env", format!("GITHUB_TOKEN={secret}\n"));
    repo.commit("add");
    let range = format!("{base}..HEAD");
    let side = repo.scratch.join("pr.sarif");
    let side = side.to_str().unwrap();
    let r = repo.unleak(&[
        "guard",
        "--range",
        &range,
        "--format",
        "sarif",
        "--sarif",
        side,
        "--sarif-category",
        "unleak/pr",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let side_doc = json(&std::fs::read_to_string(side).unwrap());
    for doc in [json(&r.stdout), side_doc] {
        validate(&doc);
        assert_eq!(doc["runs"][0]["automationDetails"]["id"], "unleak/pr/");
        assert_eq!(artifact(&doc["runs"][0]["results"][0])["uri"], "app.env");
    }
    assert_no_secret("guard SARIF", &r.all(), std::slice::from_ref(&secret));

    // Without a SARIF output the category has nothing to name: a usage error, nothing run.
    let r = repo.unleak(&["guard", "--range", &range, "--sarif-category", "x"]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("--sarif-category"), "{}", r.stderr);
    assert!(r.stderr.contains("--format sarif"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
}
