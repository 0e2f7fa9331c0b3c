//! `unleak migrate` on trees in the shapes of real public charts and compose stacks
//! (fixtures/migrate/shapes/, hand-written): the rewritten files parse, reference what
//! the plan stores, hold no value, and `unleak scan` finds nothing in them or in
//! migrate's own artefacts.

use crate::common;

use common::unleak;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = unleak()
        .current_dir(dir)
        .args(args)
        .env_remove("VAULT_TOKEN")
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_NAMESPACE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A shapes tree (`fixtures/migrate/<tree>`) with its generator templates expanded; the
/// generated values.
fn materialise(tree: &str) -> (tempfile::TempDir, Vec<String>) {
    let src = common::repo_root().join("fixtures/migrate").join(tree);
    let rels = unleak_testkit::fixtures::files_under(&src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut values: Vec<String> = Vec::new();
    for rel in rels {
        let text = std::fs::read_to_string(src.join(&rel)).unwrap();
        let seed = unleak_rules::generate::seed_for(&format!("shapes:{rel}"), 0);
        let (mut out, made) = unleak_rules::generate::expand(&text, seed).unwrap();
        values.extend(made);
        for (i, v) in values.iter().enumerate() {
            out = out.replace(&format!("{{{{value:{i}}}}}"), v);
        }
        let path = dir.path().join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, out).unwrap();
    }
    (dir, values)
}

fn yaml(dir: &Path, rel: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(dir.join(rel)).unwrap();
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{rel} does not parse: {e}\n{text}"))
}

/// The `${VAR:?…}` variables a compose text interpolates.
fn interpolated(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split("${")
        .skip(1)
        .filter_map(|s| s.split_once(":?").map(|(v, _)| v.to_string()))
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn real_shaped_charts_and_compose_stacks_migrate_to_files_that_parse_and_reference_the_vault() {
    let (tree, values) = materialise("shapes");
    let dir = tree.path();
    let r = run(
        dir,
        &[
            "migrate",
            "--write",
            "--discard-values",
            "--repo-slug",
            "shop",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    unleak_testkit::assert_no_value("stdout", &r.stdout, &values);
    unleak_testkit::assert_no_value("stderr", &r.stderr, &values);
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".unleak/migrate/plan.json")).unwrap(),
    )
    .unwrap();
    let findings = plan["findings"].as_array().unwrap();
    let manual: Vec<&Value> = findings
        .iter()
        .filter(|f| f["strategy"] == "manual")
        .collect();
    assert!(manual.is_empty(), "{manual:#?}");

    // Every file of the tree and every artefact: no value in any form.
    for rel in &unleak_testkit::fixtures::files_under(dir).unwrap() {
        unleak_testkit::assert_no_value(
            rel,
            &std::fs::read_to_string(dir.join(rel)).unwrap(),
            &values,
        );
    }

    // Helm: one Secret named by existingSecret, with the keys the chart reads.
    let v = yaml(dir, "charts/postgresql/values.yaml");
    assert_eq!(v["auth"]["existingSecret"], "postgresql-auth");
    assert_eq!(v["auth"]["postgresPassword"], "");
    assert_eq!(v["auth"]["password"], "");
    let es_text =
        std::fs::read_to_string(dir.join(".unleak/migrate/k8s/external-secrets.yaml")).unwrap();
    let docs: Vec<serde_yaml::Value> = serde_yaml::Deserializer::from_str(&es_text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let es = docs
        .iter()
        .find(|d| d["spec"]["target"]["name"] == "postgresql-auth")
        .unwrap_or_else(|| panic!("no ExternalSecret for postgresql-auth:\n{es_text}"));
    let mut keys: Vec<&str> = es["spec"]["data"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|d| d["secretKey"].as_str().unwrap())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["password", "postgres-password", "replicator-password"],
        "{es_text}"
    );
    assert_eq!(v["auth"]["replicationPassword"], "");

    // Compose: parses; no gateway connection for the compose-internal database; the
    // postgres password is one vault entry read by _FILE, the healthcheck and the URL;
    // mssql (no _FILE support) interpolates.
    let c = yaml(dir, "stack/compose.yaml");
    let text = std::fs::read_to_string(dir.join("stack/compose.yaml")).unwrap();
    let db = &c["services"]["db"];
    assert_eq!(
        db["environment"]["POSTGRES_PASSWORD_FILE"],
        "/run/secrets/postgres_password"
    );
    assert_eq!(db["secrets"][0], "postgres_password");
    assert_eq!(
        c["secrets"]["postgres_password"]["environment"],
        "POSTGRES_PASSWORD"
    );
    let check = db["healthcheck"]["test"][1].as_str().unwrap();
    assert!(
        check.starts_with("PGPASSWORD=${POSTGRES_PASSWORD:?set from vault} pg_isready"),
        "{check}"
    );
    let reports = &c["services"]["reports"];
    assert_eq!(
        reports["environment"]["MSSQL_SA_PASSWORD"],
        "${MSSQL_SA_PASSWORD:?set from vault}"
    );
    assert!(!text.contains("MSSQL_SA_PASSWORD_FILE"), "{text}");
    assert!(reports["healthcheck"]["test"][1]
        .as_str()
        .unwrap()
        .contains("-P ${MSSQL_SA_PASSWORD:?set from vault} -C"));
    assert_eq!(
        c["services"]["web"]["environment"][0],
        "DATABASE_URL=postgres://shop:${POSTGRES_PASSWORD:?set from vault}@db:5432/shop"
    );
    assert_eq!(
        interpolated(&text),
        ["MSSQL_SA_PASSWORD", "POSTGRES_PASSWORD"]
    );
    let connections = plan["connections"].as_array().unwrap();
    assert!(
        connections.iter().all(|c| c["env"]["HOST"] != "db"),
        "a compose service became a gateway connection: {connections:#?}"
    );
    // One entry per value: three chart passwords, the postgres and mssql passwords, the
    // Anthropic key.
    let writes = plan["vault_writes"].as_array().unwrap();
    assert_eq!(writes.len(), 6, "{writes:#?}");
    // Each variable the runner exports is a vault entry of the plan, and only one.
    for var in interpolated(&text) {
        let leaf = var.to_ascii_lowercase().replace('_', "-");
        let writes: Vec<&Value> = plan["vault_writes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["pointer"]["path"] == format!("apps/shop/{leaf}"))
            .collect();
        assert_eq!(writes.len(), 1, "{var}: {:#?}", plan["vault_writes"]);
    }

    // The gateway-native Anthropic key: hoop's spelling and type, and a base URL.
    let anthropic = connections
        .iter()
        .find(|c| c["env"]["REMOTE_URL"] == "https://api.anthropic.com")
        .expect("an Anthropic connection");
    assert_eq!(anthropic["hoop_type"], "httpproxy/httpproxy");
    assert!(anthropic["env"]["HEADER_X_API_KEY"]
        .as_str()
        .unwrap()
        .starts_with("_vaultkv2:"));
    let env = std::fs::read_to_string(dir.join("stack/.env")).unwrap();
    assert!(env.contains("\nANTHROPIC_BASE_URL=\n"), "{env}");

    // Audit B12: migrate's own artefacts and the rewritten tree never trip the scanner.
    let scan = run(dir, &["scan", ".", "--format", "json"]);
    assert_eq!(
        scan.code, 0,
        "unleak scan finds something:\n{}{}",
        scan.stdout, scan.stderr
    );
    let scan = run(dir, &["scan", ".unleak/migrate", "--format", "json"]);
    assert_eq!(
        scan.code, 0,
        "the artefacts trip the scanner:\n{}{}",
        scan.stdout, scan.stderr
    );
}

/// The Bitnami MongoDB chart keeps its custom users' passwords in one comma-joined Secret
/// key: unleak says so and leaves the values file alone rather than set existingSecret
/// to a Secret that would lack that key.
#[test]
fn a_mongodb_chart_with_custom_users_is_manual_naming_the_joined_key() {
    let (tree, values) = materialise("shapes-manual");
    let dir = tree.path();
    let before = std::fs::read(dir.join("charts/mongodb/values.yaml")).unwrap();
    let r = run(
        dir,
        &[
            "migrate",
            "--write",
            "--discard-values",
            "--repo-slug",
            "catalog",
        ],
    );
    unleak_testkit::assert_no_value("stdout", &r.stdout, &values);
    unleak_testkit::assert_no_value("stderr", &r.stderr, &values);
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join(".unleak/migrate/plan.json")).unwrap(),
    )
    .unwrap();
    let findings = plan["findings"].as_array().unwrap();
    assert!(!findings.is_empty(), "{}", r.stderr);
    for f in findings {
        assert_eq!(f["strategy"], "manual", "{f:#?}");
        assert!(
            f["instruction"]
                .as_str()
                .unwrap()
                .contains("one Secret key, `mongodb-passwords`"),
            "{f:#?}"
        );
    }
    assert_eq!(
        std::fs::read(dir.join("charts/mongodb/values.yaml")).unwrap(),
        before,
        "the values file is left as it was"
    );
}
