//! `register.sh` against a test gateway on loopback (`tests/cli/support/hoop_gateway.py`)
//! that validates requests as hoop's REST API does (required fields, enums, the name
//! regex, 409 on a duplicate, the auth header) and refuses unknown fields. The vault is a
//! stand-in `vault` on PATH that keeps values in files. Every secret is generated.
#![cfg(unix)]

use crate::common;
use crate::gateway;

use common::unleak;
use gateway::{register, stored, tokens, Gateway, TOKEN};
use serde_json::Value;
use unleak_rules::generate::{generate, Rng};

const PG: &str = "pg-orders-db-prod-internal-orders";
const OPENAI: &str = "http-api-openai-com";

fn word(spec: &str, seed: u64) -> String {
    generate(spec, &mut Rng::new(0x6761_7465_7761_7900 + seed)).unwrap()
}

/// A repository with a production Postgres URL (gateway-tunnel) and an OpenAI key
/// (gateway-native), planned with `flags`. Returns the directory and the two values.
fn planned(flags: &[&str]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let password = word("alnum:22", 1);
    let key = word("'sk-proj-'+alnum:48", 2);
    std::fs::write(
        dir.path().join(".env.production"),
        format!(
            "DATABASE_URL=postgres://orders_app:{password}@orders-db.prod.internal:5432/orders\nOPENAI_API_KEY={key}\n"
        ),
    )
    .unwrap();
    let out = unleak()
        .current_dir(dir.path())
        .args(["migrate", ".", "--repo-slug", "demo"])
        .args(flags)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, vec![password, key])
}

/// Every write the script made was accepted: a body hoop's validation refuses (a wrong
/// field name, a missing required field, a bad enum) fails here.
fn assert_every_write_accepted(gw: &Gateway, allowed: &[(&str, &str, u16)]) {
    for (method, path, status, body) in gw.requests() {
        let fine = (200..300).contains(&status)
            || (method == "GET" && status == 404)
            || allowed
                .iter()
                .any(|(m, p, s)| *m == method && path.starts_with(p) && *s == status);
        assert!(fine, "{method} {path} answered {status}; body {body}");
    }
}

fn writes(gw: &Gateway) -> Vec<(String, String, u16)> {
    gw.requests()
        .into_iter()
        .filter(|(m, ..)| m != "GET")
        .map(|(m, p, s, _)| (m, p, s))
        .collect()
}

#[test]
fn register_sh_creates_connections_and_policies_on_a_clean_gateway() {
    let (dir, values) = planned(&["--groups", "dba,sre", "--deny-words", "DROP TABLE"]);
    let gw = Gateway::start(dir.path(), &[]);
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_every_write_accepted(&gw, &[]);

    let (_, pg) = gw.call("GET", &format!("/api/connections/{PG}"), None);
    assert_eq!(pg["type"], "database");
    let (_, rule) = gw.call(
        "GET",
        "/api/access-requests/rules/unleak-demo-exec-review",
        None,
    );
    assert_eq!(rule["access_type"], "command", "{rule}");
    assert_eq!(rule["reviewers_groups"], serde_json::json!(["admin"]));
    let names = rule["connection_names"].as_array().unwrap();
    assert!(names.contains(&Value::from(PG)) && names.contains(&Value::from(OPENAI)));
    let (_, masking) = gw.call("GET", "/api/datamasking-rules", None);
    assert_eq!(masking[0]["connection_ids"], serde_json::json!([pg["id"]]));
    let (_, guard) = gw.call("GET", "/api/guardrails", None);
    assert_eq!(guard[0]["connection_ids"], serde_json::json!([pg["id"]]));
    let (_, groups) = gw.call(
        "GET",
        &format!(
            "/api/plugins/access_control/conn/{}",
            pg["id"].as_str().unwrap()
        ),
        None,
    );
    assert_eq!(groups["config"], serde_json::json!(["dba", "sre"]));
    let (_, mi) = gw.call("GET", "/api/machineidentities/unleak-demo-workloads", None);
    assert_eq!(mi["connection_names"], serde_json::json!([OPENAI]));

    // The workload's credential is in the vault, with the listener's address hoop
    // reported for it; nothing else was stored.
    let kept = tokens(dir.path());
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(
        kept[0].0.contains(OPENAI) && kept[0].1.starts_with("mit_"),
        "{kept:?}"
    );
    let all = stored(dir.path());
    assert_eq!(all.len(), 3, "{all:?}");
    assert!(all
        .iter()
        .any(|(k, v)| k.contains(OPENAI) && k.ends_with("_HOSTNAME") && v == "gateway.test"));
    assert!(all
        .iter()
        .any(|(k, v)| k.contains(OPENAI) && k.ends_with("_PORT") && v == "8443"));

    // No value of the repository reached the gateway, in any form.
    let log = std::fs::read_to_string(&gw.log).unwrap();
    for v in &values {
        for form in unleak_migrate::value_forms(v.as_bytes()) {
            let form = String::from_utf8_lossy(&form);
            assert!(!log.contains(form.as_ref()), "the gateway was sent a value");
        }
    }
    assert!(!r.stdout.contains(&kept[0].1) && !r.stderr.contains(&kept[0].1));
}

#[test]
fn a_second_run_changes_nothing_and_keeps_policy_added_since() {
    let (dir, _) = planned(&["--groups", "dba"]);
    let gw = Gateway::start(dir.path(), &[]);
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let first_token = stored(dir.path());

    // An operator adds a reviewer, a guardrail and an attribute in hoop.
    let (s, _) = gw.call(
        "PATCH",
        &format!("/api/connections/{PG}"),
        Some(serde_json::json!({"reviewers": ["dba"], "guardrail_rules": ["g-1"], "attributes": ["pii"]})),
    );
    assert_eq!(s, 200);
    let before = gw.requests().len();

    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("exists, unchanged"), "{}", r.stdout);
    let second: Vec<_> = gw.requests()[before..]
        .iter()
        .filter(|(m, ..)| m != "GET")
        .map(|(m, p, s, _)| (m.clone(), p.clone(), *s))
        .collect();
    // Only the two creates, answered 409; no PUT, no PATCH, no new credential.
    assert_eq!(
        second,
        vec![
            ("POST".into(), "/api/connections".into(), 409),
            ("POST".into(), "/api/connections".into(), 409),
        ]
    );
    let (_, pg) = gw.call("GET", &format!("/api/connections/{PG}"), None);
    assert_eq!(pg["reviewers"], serde_json::json!(["dba"]));
    assert_eq!(pg["guardrail_rules"], serde_json::json!(["g-1"]));
    assert_eq!(pg["attributes"], serde_json::json!(["pii"]));
    assert_eq!(stored(dir.path()), first_token, "the credential is kept");
    assert_every_write_accepted(&gw, &[("POST", "/api/connections", 409)]);
}

#[test]
fn an_existing_connection_gets_only_its_secret_keys_merged_in() {
    let (dir, _) = planned(&[]);
    let gw = Gateway::start(dir.path(), &[]);
    let (_, agents) = gw.call("GET", "/api/agents", None);
    // Someone made the connection by hand: an older reference, an extra key, a reviewer.
    let mut body: Value = serde_json::from_str(
        &std::fs::read_to_string(
            dir.path()
                .join(format!(".unleak/migrate/hoop/api/{PG}.json")),
        )
        .unwrap(),
    )
    .unwrap();
    body["agent_id"] = agents[0]["id"].clone();
    body["reviewers"] = serde_json::json!(["dba"]);
    body["secret"]["envvar:PASS"] = Value::from("X3ZhdWx0a3YyOm9sZDpQQVNT");
    body["secret"]["envvar:SSLMODE"] = Value::from("cmVxdWlyZQ==");
    assert_eq!(
        gw.call("POST", "/api/connections", Some(body.clone())).0,
        201
    );

    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("secret keys updated"), "{}", r.stdout);
    let (_, pg) = gw.call("GET", &format!("/api/connections/{PG}"), None);
    assert_eq!(
        pg["reviewers"],
        serde_json::json!(["dba"]),
        "the reviewer stays"
    );
    assert_eq!(
        pg["secret"]["envvar:SSLMODE"], "cmVxdWlyZQ==",
        "the extra key stays"
    );
    assert_ne!(pg["secret"]["envvar:PASS"], "X3ZhdWx0a3YyOm9sZDpQQVNT");
    let patches: Vec<_> = gw
        .requests()
        .into_iter()
        .filter(|(m, ..)| m == "PATCH" || m == "PUT")
        .collect();
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert_eq!(
        patches[0].3.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["secret"],
        "only the secret map is sent"
    );
}

#[test]
fn a_connection_of_another_type_under_the_name_is_refused() {
    let (dir, _) = planned(&[]);
    let gw = Gateway::start(dir.path(), &[]);
    let (_, agents) = gw.call("GET", "/api/agents", None);
    let other = serde_json::json!({
        "name": PG, "type": "custom", "subtype": "", "agent_id": agents[0]["id"],
        "command": ["bash"], "secret": {},
        "access_mode_runbooks": "enabled", "access_mode_exec": "enabled",
        "access_mode_connect": "disabled", "access_schema": "disabled",
    });
    assert_eq!(gw.call("POST", "/api/connections", Some(other)).0, 201);
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains(PG) && r.stderr.contains("another type"),
        "{}",
        r.stderr
    );
    assert!(!writes(&gw).iter().any(|(m, ..)| m == "PATCH" || m == "PUT"));
}

#[test]
fn register_sh_fails_closed_naming_the_cause() {
    let (dir, _) = planned(&["--groups", "dba"]);
    let cases: [(&[&str], &str, &str); 7] = [
        (&[], "hpk_wrong", "refused HOOP_TOKEN (HTTP 401)"),
        (&[], "", "HOOP_TOKEN"),
        (&[], "null", "HOOP_TOKEN is \"null\""),
        (&["--not-admin"], TOKEN, "admin group"),
        (
            &["--fail", "POST /api/connections 500"],
            TOKEN,
            "creating it: the gateway answered HTTP 500",
        ),
        (
            &["--fail", "POST /api/machineidentities 500"],
            TOKEN,
            "machine identity unleak-demo-workloads: creating it: the gateway answered HTTP 500",
        ),
        (
            &["--no-access-control"],
            TOKEN,
            "access_control plugin is not enabled",
        ),
    ];
    for (flags, token, said) in cases {
        let _ = std::fs::remove_dir_all(dir.path().join("vault-store"));
        let gw = Gateway::start(dir.path(), flags);
        let r = register(dir.path(), &gw.url(), token);
        let case = format!("{flags:?} token {token:?}");
        assert_ne!(r.code, 0, "{case}: exits 0\n{}", r.stdout);
        assert!(r.stderr.contains(said), "{case}: {}", r.stderr);
        assert!(
            stored(dir.path()).is_empty(),
            "{case}: the vault got a value"
        );
        if token != TOKEN {
            assert!(writes(&gw).is_empty(), "{case}: it wrote with a bad key");
        }
    }
    // A cut connection: curl fails, the message says where it was going.
    let r = register(dir.path(), "http://127.0.0.1:9", TOKEN);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("the request to http://127.0.0.1:9 failed"),
        "{}",
        r.stderr
    );
}

/// The gateway refuses what hoop refuses, so the tests above would catch a wrong body:
/// here a policy file with a misspelt field, and bodies hoop's validation rejects.
#[test]
fn the_test_gateway_refuses_what_hoop_refuses() {
    let (dir, _) = planned(&[]);
    let rule = dir
        .path()
        .join(".unleak/migrate/hoop/policy/access-request-rule.json");
    let text = std::fs::read_to_string(&rule).unwrap();
    std::fs::write(&rule, text.replace("reviewers_groups", "reviewer_groups")).unwrap();
    let gw = Gateway::start(dir.path(), &[]);
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr
            .contains("access-request rule unleak-demo-exec-review: creating it")
            && r.stderr.contains("HTTP 400"),
        "{}",
        r.stderr
    );

    let (_, agents) = gw.call("GET", "/api/agents", None);
    let good = serde_json::json!({
        "name": "pg-ok", "type": "database", "subtype": "postgres", "agent_id": agents[0]["id"],
        "secret": {"envvar:HOST": "aG9zdA=="},
        "access_mode_runbooks": "disabled", "access_mode_exec": "enabled",
        "access_mode_connect": "enabled", "access_schema": "enabled",
    });
    let with = |k: &str, v: Value| {
        let mut b = good.clone();
        b[k] = v;
        b
    };
    let mut without_schema = good.clone();
    without_schema
        .as_object_mut()
        .unwrap()
        .remove("access_schema");
    for (body, status) in [
        (without_schema, 400),
        (with("name", Value::from("a")), 422),
        (with("access_mode_exec", Value::from("yes")), 400),
        (with("type", Value::from("postgresql")), 500),
        (
            with("connection_tags", serde_json::json!({"env": "a.b"})),
            422,
        ),
        (with("secret", serde_json::json!({"HOST": "aG9zdA=="})), 422),
        (with("reviewer", serde_json::json!(["dba"])), 400),
    ] {
        let (s, answer) = gw.call("POST", "/api/connections", Some(body.clone()));
        assert_eq!(s, status, "{body} → {answer}");
    }
    assert_eq!(
        gw.call("POST", "/api/connections", Some(good.clone())).0,
        201
    );
    assert_eq!(gw.call("POST", "/api/connections", Some(good)).0, 409);
    let masking = serde_json::json!({
        "name": "m", "connection_ids": [],
        "supported_entity_types": [{"name": "CUSTOM_SELECTION", "entity_types": ["email_address"]}],
    });
    assert_eq!(
        gw.call("POST", "/api/datamasking-rules", Some(masking)).0,
        400
    );
    let rule = serde_json::json!({
        "name": "rule-1", "access_type": "review", "connection_names": ["pg-ok"],
        "approval_required_groups": [], "reviewers_groups": ["admin"], "force_approval_groups": [],
        "min_approvals": 1,
    });
    assert_eq!(
        gw.call("POST", "/api/access-requests/rules", Some(rule)).0,
        422
    );
}

#[test]
fn policy_flags_are_checked_and_shape_the_bodies() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!(
            "DATABASE_URL=postgres://app:{}@db.internal:5432/app\n",
            word("alnum:22", 3)
        ),
    )
    .unwrap();
    let migrate = |flags: &[&str]| {
        let out = unleak()
            .current_dir(dir.path())
            .args(["migrate", "."])
            .args(flags)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for (flags, said) in [
        (&["--reviewers", "alice@example.com"][..], "--reviewers"),
        (&["--groups", "a b"][..], "--groups"),
        (&["--masking", "email"][..], "--masking"),
        (&["--env", "production"][..], "--env"),
    ] {
        let (code, stderr) = migrate(flags);
        assert_eq!(code, Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(said), "{flags:?}: {stderr}");
    }
    let policy = dir.path().join(".unleak/migrate/hoop/policy");
    // Not prod and no reviewers: no review rule; masking by default on the database.
    assert_eq!(migrate(&[]).0, Some(1));
    assert!(!policy.join("access-request-rule.json").exists());
    assert!(policy.join("datamasking-rule.json").exists());
    // --env prod asks for review of exec; --masking none drops the masking rule.
    assert_eq!(migrate(&["--env", "prod", "--masking", "none"]).0, Some(1));
    let rule: Value = serde_json::from_str(
        &std::fs::read_to_string(policy.join("access-request-rule.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rule["access_type"], "command");
    assert!(
        !policy.join("datamasking-rule.json").exists(),
        "a stale policy is removed"
    );
    // Explicit reviewers: every connection is reviewed by them.
    assert_eq!(migrate(&["--reviewers", "dba,sre"]).0, Some(1));
    let rule: Value = serde_json::from_str(
        &std::fs::read_to_string(policy.join("access-request-rule.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(rule["reviewers_groups"], serde_json::json!(["dba", "sre"]));
}

/// A credential issued by an earlier run that the vault no longer holds is rotated, not
/// re-created: the identity keeps its other connections.
#[test]
fn a_credential_the_vault_lost_is_rotated() {
    let (dir, _) = planned(&[]);
    let gw = Gateway::start(dir.path(), &[]);
    assert_eq!(register(dir.path(), &gw.url(), TOKEN).code, 0);
    let first = tokens(dir.path());
    std::fs::remove_dir_all(dir.path().join("vault-store")).unwrap();
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let second = tokens(dir.path());
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].0, first[0].0);
    assert_ne!(second[0].1, first[0].1, "a new credential");
    assert!(writes(&gw).contains(&(
        "POST".into(),
        format!("/api/machineidentities/unleak-demo-workloads/credentials/{OPENAI}/rotate"),
        201
    )));
}

fn migrate_in(dir: &std::path::Path, flags: &[&str]) -> (Option<i32>, String) {
    let out = unleak()
        .current_dir(dir)
        .args(["migrate", ".", "--repo-slug", "demo"])
        .args(flags)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Prod by default: exec is reviewed on every connection, connect needs a JIT approval
/// on the database the workloads tunnel to, and the gateway-native connection is left
/// out of the JIT rule (its machine identity could not wait for approvals).
#[test]
fn prod_connect_needs_a_jit_approval_that_workload_groups_skip() {
    let (dir, _) = planned(&["--jit", "90m", "--workload-groups", "workloads"]);
    let gw = Gateway::start(dir.path(), &[]);
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_every_write_accepted(&gw, &[]);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let (s, jit) = gw.call(
        "GET",
        "/api/access-requests/rules/unleak-demo-connect-jit",
        None,
    );
    assert_eq!(s, 200, "{jit}");
    assert_eq!(jit["access_type"], "jit");
    assert_eq!(jit["connection_names"], serde_json::json!([PG]));
    assert_eq!(jit["skip_review_groups"], serde_json::json!(["workloads"]));
    assert_eq!(jit["approval_required_groups"], serde_json::json!([]));
    assert_eq!(jit["access_max_duration"], 5400);
    let (_, exec) = gw.call(
        "GET",
        "/api/access-requests/rules/unleak-demo-exec-review",
        None,
    );
    assert_eq!(exec["access_type"], "command");
    assert_eq!(exec["connection_names"], serde_json::json!([OPENAI, PG]));

    // A re-run sends no rule again.
    let before = gw.requests().len();
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .contains("access-request rule unleak-demo-connect-jit: exists, unchanged"),
        "{}",
        r.stdout
    );
    assert!(!gw.requests()[before..]
        .iter()
        .any(|(m, p, ..)| m != "GET" && p.starts_with("/api/access-requests")));

    // An operator puts the workload's connection under JIT, or gives it reviewers: the
    // run still stores nothing wrong, and says the workload would wait for approvals.
    let rule = serde_json::json!({
        "name": "ops-jit", "access_type": "jit_command", "connection_names": [OPENAI],
        "approval_required_groups": [], "reviewers_groups": ["sre"], "force_approval_groups": [],
        "min_approvals": 1,
    });
    assert_eq!(
        gw.call("POST", "/api/access-requests/rules", Some(rule)).0,
        422,
        "jit_command overlaps the exec-review rule on this connection, as in hoop"
    );
    let rule = serde_json::json!({
        "name": "ops-jit", "access_type": "jit", "connection_names": [OPENAI],
        "approval_required_groups": [], "reviewers_groups": ["sre"], "force_approval_groups": [],
        "min_approvals": 1,
    });
    assert_eq!(
        gw.call("POST", "/api/access-requests/rules", Some(rule)).0,
        201
    );
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!(
            "warning: connection {OPENAI}: the access-request rule ops-jit asks for a just-in-time approval"
        )),
        "{}",
        r.stderr
    );
    let (s, _) = gw.call(
        "PATCH",
        &format!("/api/connections/{OPENAI}"),
        Some(serde_json::json!({"reviewers": ["dba"]})),
    );
    assert_eq!(s, 200);
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert!(
        r.stderr.contains(&format!(
            "warning: connection {OPENAI}: it has reviewers (dba)"
        )),
        "{}",
        r.stderr
    );
    assert_eq!(tokens(dir.path()).len(), 1);
}

#[test]
fn jit_flags_are_checked_and_none_leaves_connect_ungated() {
    let (dir, _) = planned(&[]);
    let rule = dir.path().join(".unleak/migrate/hoop/policy/jit-rule.json");
    let body: Value = serde_json::from_str(&std::fs::read_to_string(&rule).unwrap()).unwrap();
    assert_eq!(body["access_max_duration"], 3600, "1h by default");
    for (flags, said) in [
        (&["--jit", "5m"][..], "15m..48h"),
        (&["--jit", "soon"][..], "not a duration"),
        (
            &["--workload-groups", "ci@example.com"][..],
            "--workload-groups",
        ),
        (&["--gateway-url", "hoop.example.com"][..], "--gateway-url"),
        (
            &["--gateway-url", "https://hoop.example.com/v1"][..],
            "--gateway-url",
        ),
    ] {
        let (code, stderr) = migrate_in(dir.path(), flags);
        assert_eq!(code, Some(2), "{flags:?}: {stderr}");
        assert!(stderr.contains(said), "{flags:?}: {stderr}");
    }
    // Without --workload-groups the plan says the workloads' tunnels wait too.
    let (code, stderr) = migrate_in(dir.path(), &[]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains(&format!(
            "connect to hoop connection(s) {PG} needs a just-in-time approval (at most 1h)"
        )) && stderr.contains("--workload-groups"),
        "{stderr}"
    );
    let (code, stderr) = migrate_in(dir.path(), &["--jit", "none"]);
    assert_eq!(code, Some(1));
    assert!(!stderr.contains("just-in-time"), "{stderr}");
    assert!(!rule.exists(), "the stale JIT rule is removed");
    assert!(dir
        .path()
        .join(".unleak/migrate/hoop/policy/access-request-rule.json")
        .exists());
}

/// hoop's OSS edition keeps one access-request rule: the second is refused with 403,
/// and register.sh says how to go without it; with --jit none one rule is enough.
#[test]
fn a_second_rule_on_the_oss_edition_fails_naming_the_way_out() {
    let (dir, _) = planned(&[]);
    let gw = Gateway::start(dir.path(), &["--oss"]);
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("access-request rule unleak-demo-connect-jit: creating it: the gateway answered HTTP 403 (access request rules are limited to 1 in the OSS version)")
            && r.stderr.contains("--jit none"),
        "{}",
        r.stderr
    );
    assert!(tokens(dir.path()).is_empty());
    drop(gw);
    let (code, _) = migrate_in(dir.path(), &["--jit", "none"]);
    assert_eq!(code, Some(1));
    let gw = Gateway::start(dir.path(), &["--oss"]);
    let r = register(dir.path(), &gw.url(), TOKEN);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_every_write_accepted(&gw, &[]);
}

/// --gateway-url sets the base-URL variable the OpenAI SDK reads; without it the
/// variable is left empty for the operator.
#[test]
fn the_gateway_url_becomes_the_clients_base_url() {
    let url = "https://hoop.example.com:18888/";
    let (dir, values) = planned(&["--gateway-url", url]);
    let (code, stderr) = migrate_in(
        dir.path(),
        &["--write", "--discard-values", "--gateway-url", url],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let env = std::fs::read_to_string(dir.path().join(".env.production")).unwrap();
    assert!(
        env.contains("\nOPENAI_BASE_URL=https://hoop.example.com:18888/v1\n"),
        "{env}"
    );
    for v in &values {
        assert!(!env.contains(v.as_str()));
    }
    let (dir, _) = planned(&[]);
    let (code, stderr) = migrate_in(dir.path(), &["--write", "--discard-values"]);
    assert_eq!(code, Some(0), "{stderr}");
    let env = std::fs::read_to_string(dir.path().join(".env.production")).unwrap();
    assert!(env.contains("\nOPENAI_BASE_URL=\n"), "{env}");
}
