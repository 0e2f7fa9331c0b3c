//! End-to-end tests of `unleak migrate`: golden rewrites and hoop batch files for every
//! file type, bytes outside the edits kept, no raw value in any output, drift refusal,
//! interrupted applies, and seeding a real OpenBao dev server.
//!
//! Inputs are templates under fixtures/migrate/ whose secrets come from the rule
//! generator (`{{gen:SPEC}}`) at test time; `{{value:N}}` repeats the N-th generated
//! value of the tree (files in path order). A `.crlf` suffix means "write this file with
//! CRLF line endings, without the suffix". `UNLEAK_BLESS=1` rewrites the expected files
//! from the actual output (generated values turned back into `{{value:N}}`).

use crate::common;

use common::{repo_root, unleak};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use unleak_testkit::{base64, Run};

const CASES: [&str; 7] = [
    "compose",
    "connstr",
    "dockerfile",
    "dotenv",
    "helm",
    "kubernetes",
    "workflow",
];

fn fixture(rel: &str) -> PathBuf {
    repo_root().join("fixtures/migrate").join(rel)
}

/// Files under `dir`, relative, sorted, with `/` separators; none when it does not exist.
fn files_under(dir: &Path) -> Vec<String> {
    if !dir.exists() {
        return Vec::new();
    }
    unleak_testkit::fixtures::files_under(dir).unwrap()
}

/// The name a template is written under, and whether it gets CRLF line endings.
fn target_name(template: &str) -> (String, bool) {
    match template.strip_suffix(".crlf") {
        Some(t) => (t.to_string(), true),
        None => (template.to_string(), false),
    }
}

fn substitute(text: &str, values: &[String]) -> String {
    let mut out = text.to_string();
    for (i, v) in values.iter().enumerate().rev() {
        out = out.replace(&format!("{{{{value:{i}}}}}"), v);
    }
    assert!(
        !out.contains("{{value:"),
        "unresolved {{{{value:N}}}} in a template"
    );
    out
}

/// A template tree written out with generated values.
struct Tree {
    dir: tempfile::TempDir,
    values: Vec<String>,
    /// template path → written path
    files: Vec<(String, String)>,
}

impl Tree {
    fn path(&self) -> &Path {
        self.dir.path()
    }
    fn read(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.path().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }
}

fn materialise(templates: &Path) -> Tree {
    let dir = tempfile::tempdir().unwrap();
    let mut values: Vec<String> = Vec::new();
    let mut files = Vec::new();
    for rel in files_under(templates) {
        let text = std::fs::read_to_string(templates.join(&rel)).unwrap();
        let seed = unleak_rules::generate::seed_for(&format!("migrate:{rel}"), 0);
        let (expanded, made) = unleak_rules::generate::expand(&text, seed).unwrap();
        values.extend(made);
        let mut out = substitute(&expanded, &values);
        let (target, crlf) = target_name(&rel);
        if crlf {
            out = out.replace('\n', "\r\n");
        }
        let path = dir.path().join(&target);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, out).unwrap();
        files.push((rel, target));
    }
    Tree { dir, values, files }
}

fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = unleak();
    c.current_dir(dir)
        .args(args)
        .env_remove("VAULT_TOKEN")
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_NAMESPACE")
        .env_remove("VAULT_CACERT")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    Run::from(out)
}

fn plan_json(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join(".unleak/migrate/plan.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(dir)
        .into_iter()
        .filter(|f| !f.starts_with(".unleak/"))
        .map(|f| {
            let bytes = std::fs::read(dir.join(&f)).unwrap();
            (f, bytes)
        })
        .collect()
}

/// hoop's server-side name rule: `^[a-zA-Z0-9_]+(?:[-\.]?[a-zA-Z0-9_]+){2,253}$`.
fn valid_hoop_name(name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let sep = |c: char| c == '-' || c == '.';
    let chars: Vec<char> = name.chars().collect();
    chars.iter().all(|c| word(*c) || sep(*c))
        && chars.first().is_some_and(|c| word(*c))
        && chars.last().is_some_and(|c| word(*c))
        && !chars.windows(2).any(|w| sep(w[0]) && sep(w[1]))
        && chars.iter().filter(|c| word(**c)).count() >= 3
        && chars.len() <= 254
}

/// hoop's batch file (`BatchConnectionFile` in hoop's create-conn-batch.go), strictly.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchFile {
    agent: String,
    overwrite: bool,
    tags: BTreeMap<String, String>,
    access_modes: Vec<String>,
    connections: Vec<BatchConnection>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct BatchConnection {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    env: BTreeMap<String, String>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// The batch file parses as hoop reads it and passes hoop's validation: known types, the
/// env each type requires, valid names and tags, and references for every secret key.
fn check_batch_file(case: &str, text: &str) {
    let batch: BatchFile =
        serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{case}: connections.yaml: {e}"));
    assert_eq!(batch.agent, "default");
    // overwrite would replace each connection whole, clearing policy set in hoop (B15).
    assert!(!batch.overwrite);
    assert!(batch
        .access_modes
        .iter()
        .all(|m| ["connect", "exec", "runbooks"].contains(&m.as_str())));
    let tag_ok = |k: &str, v: &str| {
        !k.is_empty()
            && k.len() <= 64
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
            && !v.is_empty()
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_+=@/: ".contains(c))
    };
    for (k, v) in &batch.tags {
        assert!(tag_ok(k, v), "{case}: tag {k}={v}");
    }
    for c in &batch.connections {
        assert!(
            valid_hoop_name(&c.name),
            "{case}: `{}` breaks hoop's name rule",
            c.name
        );
        for (k, v) in &c.tags {
            assert!(tag_ok(k, v), "{case}: {}: tag {k}={v}", c.name);
        }
        let required: &[&str] = match c.kind.as_str() {
            "database/postgres" | "database/mysql" | "database/mssql" => &["HOST", "USER", "PASS"],
            "database/mongodb" => &["CONNECTION_STRING"],
            "httpproxy/httpproxy" => &["REMOTE_URL"],
            other => panic!("{case}: {}: the batch command rejects type {other}", c.name),
        };
        for r in required {
            assert!(c.env.contains_key(*r), "{case}: {} lacks {r}", c.name);
        }
        for (k, v) in &c.env {
            if k == "PASS" || k == "CONNECTION_STRING" || k.starts_with("HEADER_") {
                assert!(
                    v.starts_with("_vaultkv2:") && v.split(':').count() == 3,
                    "{case}: {}: {k} is not a three-part vault reference",
                    c.name
                );
            }
        }
    }
}

#[test]
fn golden_rewrites_and_connections_for_every_file_type() {
    let bless = std::env::var_os("UNLEAK_BLESS").is_some();
    let mut failures = Vec::new();
    for case in CASES {
        let tree = materialise(&fixture(&format!("cases/{case}/input")));
        let r = run(
            tree.path(),
            &[
                "migrate",
                "--write",
                "--discard-values",
                "--repo-slug",
                "demo",
            ],
            &[],
        );
        assert_eq!(r.code, 0, "{case}: migrate --write failed:\n{}", r.stderr);
        let expected_dir = fixture(&format!("cases/{case}/expected"));
        let mut pairs: Vec<(String, PathBuf, bool)> = tree
            .files
            .iter()
            .map(|(template, target)| {
                (
                    target.clone(),
                    expected_dir.join(template),
                    template.ends_with(".crlf"),
                )
            })
            .collect();
        pairs.push((
            ".unleak/migrate/hoop/connections.yaml".into(),
            expected_dir.join("connections.yaml"),
            false,
        ));
        for (actual_rel, expected_path, crlf) in pairs {
            let actual = tree.read(&actual_rel);
            if bless {
                let mut text = String::from_utf8(actual).unwrap();
                let mut order: Vec<(usize, &String)> = tree.values.iter().enumerate().collect();
                order.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
                for (i, v) in order {
                    text = text.replace(v.as_str(), &format!("{{{{value:{i}}}}}"));
                }
                if crlf {
                    text = text.replace("\r\n", "\n");
                }
                std::fs::create_dir_all(expected_path.parent().unwrap()).unwrap();
                std::fs::write(&expected_path, text).unwrap();
                continue;
            }
            let mut expected = substitute(
                &std::fs::read_to_string(&expected_path)
                    .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display())),
                &tree.values,
            );
            if crlf {
                expected = expected.replace('\n', "\r\n");
            }
            if expected.as_bytes() != actual.as_slice() {
                failures.push(format!(
                    "{case}: {actual_rel} differs from {}\n--- expected\n{expected}\n--- actual\n{}",
                    expected_path.display(),
                    String::from_utf8_lossy(&actual)
                ));
            }
        }
        let plan = plan_json(tree.path());
        check_batch_file(
            case,
            &String::from_utf8(tree.read(".unleak/migrate/hoop/connections.yaml")).unwrap(),
        );
        // Rewritten YAML stays YAML, and so are the External Secrets manifests.
        for (_, target) in &tree.files {
            if target.ends_with(".yml") || target.ends_with(".yaml") {
                let text = String::from_utf8(tree.read(target)).unwrap();
                for doc in serde_yaml::Deserializer::from_str(&text) {
                    serde_yaml::Value::deserialize(doc)
                        .unwrap_or_else(|e| panic!("{case}: {target} is no longer YAML: {e}"));
                }
            }
        }
        let es = tree
            .path()
            .join(".unleak/migrate/k8s/external-secrets.yaml");
        if es.exists() {
            let text = std::fs::read_to_string(&es).unwrap();
            for doc in serde_yaml::Deserializer::from_str(&text) {
                let v = serde_yaml::Value::deserialize(doc).unwrap();
                assert_eq!(v["kind"], "ExternalSecret", "{case}");
                assert!(
                    v["spec"]["data"][0]["remoteRef"]["key"].is_string(),
                    "{case}"
                );
            }
        }
        // Migrating a migrated tree plans nothing new: only manual findings remain.
        let again = run(tree.path(), &["migrate", "--out", ".unleak/again"], &[]);
        let manual = plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["strategy"] == "manual")
            .count();
        if manual == 0 {
            assert_eq!(
                again.code, 0,
                "{case}: second run: {}{}",
                again.stdout, again.stderr
            );
            assert!(
                again.stderr.contains("nothing to migrate"),
                "{case}: {}",
                again.stderr
            );
        } else {
            let second = serde_json::from_str::<Value>(
                &std::fs::read_to_string(tree.path().join(".unleak/again/plan.json")).unwrap(),
            )
            .unwrap();
            assert!(second["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|f| f["strategy"] == "manual"));
            assert!(second["connections"].as_array().unwrap().is_empty());
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Byte-wise: the new file is the old one with exactly the planned edits, and each
/// replaced span lies on a secret's line (or is an empty chart value being filled in).
#[test]
fn every_byte_outside_the_edits_is_kept() {
    for case in CASES {
        let tree = materialise(&fixture(&format!("cases/{case}/input")));
        let before = snapshot(tree.path());
        let r = run(tree.path(), &["migrate"], &[]);
        assert_eq!(r.code, 1, "{case}: a plan exits 1:\n{}", r.stderr);
        assert_eq!(
            snapshot(tree.path()),
            before,
            "{case}: planning changed files"
        );
        let plan = plan_json(tree.path());
        let r = run(
            tree.path(),
            &[
                "migrate",
                "apply",
                ".unleak/migrate/plan.json",
                "--discard-values",
            ],
            &[],
        );
        assert_eq!(r.code, 0, "{case}: apply: {}", r.stderr);
        let after = snapshot(tree.path());
        let planned: Vec<&str> = plan["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        for (path, old) in &before {
            if !planned.contains(&path.as_str()) {
                assert_eq!(
                    &after[path], old,
                    "{case}: {path} is not in the plan but changed"
                );
            }
        }
        for file in plan["files"].as_array().unwrap() {
            let path = file["path"].as_str().unwrap();
            let old = &before[path];
            let new = &after[path];
            let line_of = |off: usize| old[..off].iter().filter(|b| **b == b'\n').count();
            let secret_lines: Vec<(usize, usize)> = file["masked"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    let (s, e) = (
                        m["start"].as_u64().unwrap() as usize,
                        m["end"].as_u64().unwrap() as usize,
                    );
                    (line_of(s), line_of(e))
                })
                .collect();
            let (mut po, mut pn) = (0usize, 0usize);
            for e in file["edits"].as_array().unwrap() {
                let (s, en) = (
                    e["start"].as_u64().unwrap() as usize,
                    e["end"].as_u64().unwrap() as usize,
                );
                let repl = e["replacement"].as_str().unwrap().as_bytes();
                let gap = &old[po..s];
                assert_eq!(
                    &new[pn..pn + gap.len()],
                    gap,
                    "{case}: {path}: bytes before offset {s} changed"
                );
                pn += gap.len();
                assert_eq!(
                    &new[pn..pn + repl.len()],
                    repl,
                    "{case}: {path}: edit at {s} not applied as planned"
                );
                pn += repl.len();
                po = en;
                if en > s {
                    let (l1, l2) = (line_of(s), line_of(en));
                    let on_secret_line = secret_lines.iter().any(|(a, b)| l1 <= *b && *a <= l2);
                    let empty_value = matches!(&old[s..en], b"\"\"" | b"''");
                    assert!(
                        on_secret_line || empty_value,
                        "{case}: {path}: edit of `{}` (line {}) is away from every secret",
                        String::from_utf8_lossy(&old[s..en]),
                        l1 + 1
                    );
                }
            }
            assert_eq!(
                &new[pn..],
                &old[po..],
                "{case}: {path}: bytes after the last edit changed"
            );
            if old.windows(2).filter(|w| w == b"\r\n").count()
                == old.iter().filter(|b| **b == b'\n').count()
            {
                let lone_lf = new
                    .iter()
                    .enumerate()
                    .filter(|(i, b)| **b == b'\n' && (*i == 0 || new[i - 1] != b'\r'))
                    .count();
                assert_eq!(
                    lone_lf, 0,
                    "{case}: {path}: a CRLF file got LF line endings"
                );
            }
        }
    }
}

/// No value as it is, in base64 or URL-encoded.
fn assert_no_value(values: &[String], what: &str, text: &str) {
    unleak_testkit::assert_no_value(what, text, values);
    for v in values {
        let encoded: String = v
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        assert!(
            !text.contains(&encoded),
            "{what} holds a secret value URL-encoded"
        );
    }
}

#[test]
fn no_artifact_diff_or_message_holds_a_raw_value() {
    let mut trees: Vec<String> = CASES.iter().map(|c| format!("cases/{c}/input")).collect();
    trees.push("e2e".into());
    for t in trees {
        let tree = materialise(&fixture(&t));
        assert!(!tree.values.is_empty());
        let plan = run(tree.path(), &["migrate", "-v"], &[]);
        assert_eq!(plan.code, 1, "{t}: {}", plan.stderr);
        assert!(
            plan.stdout.contains("--- a/"),
            "{t}: the plan prints a diff"
        );
        let write = run(
            tree.path(),
            &["migrate", "--write", "--discard-values"],
            &[],
        );
        assert_eq!(write.code, 0, "{t}: {}", write.stderr);
        for (what, text) in [
            ("plan stdout", &plan.stdout),
            ("plan stderr", &plan.stderr),
            ("write stdout", &write.stdout),
            ("write stderr", &write.stderr),
        ] {
            assert_no_value(&tree.values, &format!("{t}: {what}"), text);
        }
        let out = tree.path().join(".unleak/migrate");
        let artifacts = files_under(&out);
        assert!(
            artifacts.contains(&"plan.json".to_string())
                && artifacts.contains(&"hoop/register.sh".to_string())
        );
        for a in artifacts {
            let text = String::from_utf8_lossy(&std::fs::read(out.join(&a)).unwrap()).into_owned();
            assert_no_value(&tree.values, &format!("{t}: artifact {a}"), &text);
        }
    }
}

#[test]
fn a_file_changed_after_planning_is_refused_and_nothing_is_written() {
    let tree = materialise(&fixture("cases/dotenv/input"));
    let r = run(tree.path(), &["migrate"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let env = tree.path().join(".env");
    let original = std::fs::read_to_string(&env).unwrap();

    // A line added elsewhere in the file.
    std::fs::write(&env, format!("{original}EXTRA=1\n")).unwrap();
    let before = snapshot(tree.path());
    let r = run(
        tree.path(),
        &[
            "migrate",
            "apply",
            ".unleak/migrate/plan.json",
            "--discard-values",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "drift exits 2: {}", r.stderr);
    assert!(
        r.stderr.contains(".env") && r.stderr.contains("changed since the plan"),
        "{}",
        r.stderr
    );
    assert_eq!(
        snapshot(tree.path()),
        before,
        "a refused apply writes nothing"
    );

    // The secret itself replaced by a same-length non-secret: the masked checksum matches,
    // the re-scan does not.
    let pw = &tree.values[0];
    std::fs::write(&env, original.replace(pw.as_str(), &"x".repeat(pw.len()))).unwrap();
    let before = snapshot(tree.path());
    let r = run(
        tree.path(),
        &[
            "migrate",
            "apply",
            ".unleak/migrate/plan.json",
            "--discard-values",
        ],
        &[],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("no longer there"), "{}", r.stderr);
    assert_eq!(snapshot(tree.path()), before);

    // Unchanged again: applies, and keeps the file's permissions.
    std::fs::write(&env, &original).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&env, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let r = run(
        tree.path(),
        &[
            "migrate",
            "apply",
            ".unleak/migrate/plan.json",
            "--discard-values",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(std::fs::read_to_string(&env).unwrap(), original);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&env).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640, "the rewrite keeps the file's mode");
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for rel in files_under(from) {
        let dst = to.join(&rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), dst).unwrap();
    }
}

#[test]
fn an_interrupted_apply_leaves_each_file_old_or_new() {
    // Many files, so a kill lands between (or during) writes.
    let template = std::fs::read_to_string(fixture("cases/dotenv/input/.env")).unwrap();
    let padding: String = (0..400)
        .map(|i| format!("# filler line {i} keeps the file large\n"))
        .collect();
    let src = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for i in 0..40 {
        let (text, _) = unleak_rules::generate::expand(&template, 1000 + i).unwrap();
        let rel = format!("svc{i:02}/.env");
        std::fs::create_dir_all(src.path().join(format!("svc{i:02}"))).unwrap();
        std::fs::write(src.path().join(&rel), format!("{padding}{text}{padding}")).unwrap();
        paths.push(rel);
    }
    let r = run(src.path(), &["migrate"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let done = tempfile::tempdir().unwrap();
    copy_tree(src.path(), done.path());
    let r = run(
        done.path(),
        &[
            "migrate",
            "apply",
            ".unleak/migrate/plan.json",
            "--discard-values",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let old = snapshot(src.path());
    let new = snapshot(done.path());
    for p in &paths {
        assert_ne!(old[p], new[p], "{p} is rewritten by a full apply");
    }
    for delay_ms in [0u64, 1, 3, 8, 15, 30] {
        let work = tempfile::tempdir().unwrap();
        copy_tree(src.path(), work.path());
        let mut child: Child = unleak()
            .current_dir(work.path())
            .args([
                "migrate",
                "apply",
                ".unleak/migrate/plan.json",
                "--discard-values",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        for p in &paths {
            let now = std::fs::read(work.path().join(p)).unwrap();
            assert!(
                now == old[p] || now == new[p],
                "{p} is neither the old nor the new file after a kill at {delay_ms} ms"
            );
        }
    }
}

#[test]
fn seeding_refuses_plain_http_to_a_remote_vault_and_needs_a_token() {
    let tree = materialise(&fixture("cases/dotenv/input"));
    let before = snapshot(tree.path());
    let r = run(
        tree.path(),
        &[
            "migrate",
            "--write",
            "--seed",
            "vault",
            "--vault-addr",
            "http://vault.example.com:8200",
        ],
        &[("VAULT_TOKEN", "test-token")],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--insecure") && r.stderr.contains("vault.example.com"),
        "{}",
        r.stderr
    );
    assert_eq!(snapshot(tree.path()), before);
    let r = run(
        tree.path(),
        &[
            "migrate",
            "--write",
            "--seed",
            "vault",
            "--vault-addr",
            "http://127.0.0.1:9",
        ],
        &[],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("VAULT_TOKEN"), "{}", r.stderr);
    assert_eq!(snapshot(tree.path()), before);
    let r = run(tree.path(), &["migrate", "--seed", "vault"], &[]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--write"), "{}", r.stderr);
}

#[test]
fn history_only_secrets_join_the_rotation_list() {
    let dir = tempfile::tempdir().unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .current_dir(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("git runs")
            .success();
        assert!(ok, "git {args:?}");
    };
    let (text, values) =
        unleak_rules::generate::expand("JWT_SECRET={{gen:b64url:40}}\n", 77).unwrap();
    git(&["init", "-q"]);
    std::fs::write(dir.path().join("old.env"), &text).unwrap();
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "add"]);
    std::fs::write(dir.path().join("old.env"), "JWT_SECRET=\n").unwrap();
    git(&["commit", "-q", "-am", "remove"]);
    let r = run(dir.path(), &["migrate", "--history"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("Only in git history"), "{}", r.stdout);
    let rotation = std::fs::read_to_string(dir.path().join(".unleak/migrate/rotation.md")).unwrap();
    assert!(
        rotation.contains("(history only)") && rotation.contains("generic-secret"),
        "{rotation}"
    );
    for text in [&r.stdout, &r.stderr, &rotation] {
        assert_no_value(&values, "history run", text);
    }
}

#[test]
fn register_script_is_valid_shell() {
    let tree = materialise(&fixture("e2e"));
    let r = run(tree.path(), &["migrate"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let script = tree.path().join(".unleak/migrate/hoop/register.sh");
    let ok = Command::new("sh")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap()
        .success();
    assert!(ok, "sh -n rejects register.sh");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&script).unwrap().permissions().mode();
        assert_ne!(mode & 0o111, 0, "register.sh is executable");
    }
    let text = std::fs::read_to_string(&script).unwrap();
    // One gateway, one key: the REST API only, no hoop CLI reading its own ~/.hoop (B14).
    assert!(!text.contains("hoop admin create"));
    assert!(text.contains("\nconnection "), "connections are created");
    assert!(
        text.contains("gh secret set"),
        "workflow secrets are fed from the vault"
    );
    assert!(
        text.contains("/machineidentities"),
        "gateway-native workloads get a machine identity"
    );
}

#[test]
fn plans_are_deterministic() {
    let tree = materialise(&fixture("e2e"));
    // A fixed slug: the temporary directory's random name would make the first plan's
    // vault paths look like credentials to the second scan.
    let a = run(
        tree.path(),
        &["migrate", "--out", "one", "--repo-slug", "shop"],
        &[],
    );
    let b = run(
        tree.path(),
        &["migrate", "--out", "two", "--repo-slug", "shop"],
        &[],
    );
    assert_eq!(a.code, 1);
    assert_eq!(a.stdout, b.stdout);
    for f in files_under(&tree.path().join("one")) {
        assert_eq!(
            std::fs::read(tree.path().join("one").join(&f)).unwrap(),
            std::fs::read(tree.path().join("two").join(&f)).unwrap(),
            "{f} differs between two plans of the same tree"
        );
    }
}

// ---- OpenBao ----------------------------------------------------------------------------

/// A dev server on a free loopback port, killed on drop.
struct Bao {
    child: Child,
    addr: String,
    token: String,
    _home: tempfile::TempDir,
}

impl Drop for Bao {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into()
}

fn start_bao(bin: &Path) -> Bao {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let home = tempfile::tempdir().unwrap();
    let token = "unleak-test-root".to_string();
    let child = Command::new(bin)
        .args([
            "server",
            "-dev",
            &format!("-dev-listen-address=127.0.0.1:{port}"),
            &format!("-dev-root-token-id={token}"),
            "-dev-no-store-token",
        ])
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bao starts");
    let bao = Bao {
        child,
        addr: format!("http://127.0.0.1:{port}"),
        token,
        _home: home,
    };
    let health = format!("{}/v1/sys/health", bao.addr);
    for _ in 0..300 {
        if let Ok(resp) = agent().get(&health).call() {
            if resp.status().as_u16() == 200 {
                return bao;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("bao did not become healthy at {}", bao.addr);
}

fn kv_get(bao: &Bao, path: &str) -> Option<serde_json::Map<String, Value>> {
    let mut resp = agent()
        .get(&format!("{}/v1/{path}", bao.addr))
        .header("X-Vault-Token", &bao.token)
        .call()
        .unwrap();
    if resp.status().as_u16() != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&resp.body_mut().read_to_string().unwrap()).unwrap();
    v["data"]["data"].as_object().cloned()
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%' && i + 2 < s.len() {
            if let Ok(b) =
                u8::from_str_radix(std::str::from_utf8(&s[i + 1..i + 3]).unwrap_or("zz"), 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

#[test]
fn seeds_openbao_and_every_reference_resolves() {
    let bao = start_bao(&unleak_testkit::tools::tool("bao"));
    let tree = materialise(&fixture("e2e"));
    let originals = snapshot(tree.path());
    let r = run(
        tree.path(),
        &[
            "migrate",
            "--write",
            "--seed",
            "vault",
            "--vault-addr",
            &bao.addr,
            "--repo-slug",
            "shop",
        ],
        &[("VAULT_TOKEN", &bao.token)],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("every reference resolves"),
        "{}",
        r.stderr
    );
    assert_no_value(&tree.values, "seeding stdout", &r.stdout);
    assert_no_value(&tree.values, "seeding stderr", &r.stderr);

    // Each value read back equals what the file held.
    let plan = plan_json(tree.path());
    let mut stored = Vec::new();
    for w in plan["vault_writes"].as_array().unwrap() {
        let src = &w["source"];
        let file = &originals[src["file"].as_str().unwrap()];
        let span =
            &file[src["start"].as_u64().unwrap() as usize..src["end"].as_u64().unwrap() as usize];
        let raw = if src["percent_decode"].as_bool().unwrap_or(false) {
            percent_decode(span)
        } else {
            span.to_vec()
        };
        let mut expected = src["prefix"].as_str().unwrap_or("").as_bytes().to_vec();
        expected.extend(raw);
        let p = &w["pointer"];
        let path = format!(
            "{}/data/{}",
            p["mount"].as_str().unwrap(),
            p["path"].as_str().unwrap()
        );
        let data = kv_get(&bao, &path).unwrap_or_else(|| panic!("{path} is not in the vault"));
        let got = data[p["key"].as_str().unwrap()].as_str().unwrap();
        assert!(
            got.as_bytes() == expected.as_slice(),
            "{path} holds a different value than the file did"
        );
        stored.push(got.to_string());
    }
    for v in &tree.values {
        assert!(
            stored.iter().any(|s| s.contains(v.as_str())),
            "a generated secret never reached the vault"
        );
    }

    // Every `_vaultkv2:` reference in the batch file names an existing path and key.
    let batch =
        std::fs::read_to_string(tree.path().join(".unleak/migrate/hoop/connections.yaml")).unwrap();
    let mut refs = 0;
    for line in batch.lines() {
        let Some((_, reference)) = line.split_once("_vaultkv2:") else {
            continue;
        };
        let (path, key) = reference.trim().rsplit_once(':').unwrap();
        let data = kv_get(&bao, path).unwrap_or_else(|| panic!("{path} does not exist"));
        assert!(data.contains_key(key), "{path} has no key {key}");
        refs += 1;
    }
    assert!(
        refs >= 5,
        "the e2e tree yields several connections ({refs} references)"
    );

    // The migrated tree is clean, and migrating it again plans nothing.
    let scan = run(tree.path(), &["scan", "."], &[]);
    assert_eq!(scan.code, 0, "rescan finds secrets:\n{}", scan.stdout);
    let again = run(tree.path(), &["migrate"], &[]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(again.stderr.contains("nothing to migrate"));
}

// ---- issue 18, item 1: nothing is left behind, nothing wrong is stored -------------------

/// Every file under `dir` with its text, for greps.
fn all_text(dir: &Path) -> Vec<(String, String)> {
    files_under(dir)
        .into_iter()
        .map(|f| {
            let text = String::from_utf8_lossy(&std::fs::read(dir.join(&f)).unwrap()).into_owned();
            (f, text)
        })
        .collect()
}

/// Audit B1: a password repeated in a compose healthcheck stayed in the rewritten file,
/// and the rescan was clean. A copy as written now reads the same interpolated variable
/// (tests/migrate_fixtures.rs); a copy in another form (base64 here) makes the finding
/// manual, with the copy's line, the file is left alone, and no output or artefact holds
/// the value in any form.
#[test]
fn a_value_repeated_where_no_rewrite_reaches_is_manual_and_printed_nowhere() {
    let password = unleak_rules::generate::generate(
        "alnum:20",
        &mut unleak_rules::generate::Rng::new(0x6231_6865_616c_7468),
    )
    .unwrap();
    let b64 = base64(password.as_bytes());
    {
        let (copy, line) = (format!("-H 'Authorization: Basic {b64}'"), 8);
        let dir = tempfile::tempdir().unwrap();
        let compose = format!(
            "services:\n  db:\n    image: mcr.microsoft.com/mssql/server:2022-latest\n    environment:\n      ACCEPT_EULA: \"Y\"\n      MSSQL_SA_PASSWORD: {password}\n    healthcheck:\n      test: [\"CMD-SHELL\", \"/opt/tools/check -S localhost -U sa {copy} -Q 'SELECT 1'\"]\n"
        );
        std::fs::write(dir.path().join("compose.yaml"), &compose).unwrap();
        let values = vec![password.clone()];
        let r = run(dir.path(), &["migrate", "--repo-slug", "b1"], &[]);
        assert_eq!(r.code, 1, "{}", r.stderr);
        assert_no_value(&values, "stdout", &r.stdout);
        assert_no_value(&values, "stderr", &r.stderr);
        for (f, text) in all_text(&dir.path().join(".unleak")) {
            assert_no_value(&values, &f, &text);
        }
        let plan = plan_json(dir.path());
        let finding = &plan["findings"][0];
        assert_eq!(finding["strategy"], "manual", "{copy}: {finding}");
        let instruction = finding["instruction"].as_str().unwrap();
        assert!(
            instruction.contains(&format!("line {line} of compose.yaml")),
            "{instruction}"
        );
        assert!(
            !r.stdout.contains("--- a/compose.yaml"),
            "a file left as it is has no diff:\n{}",
            r.stdout
        );
        let w = run(
            dir.path(),
            &[
                "migrate",
                "--write",
                "--discard-values",
                "--repo-slug",
                "b1",
            ],
            &[],
        );
        assert_eq!(w.code, 0, "{}", w.stderr);
        assert!(
            w.stderr.contains("1 finding(s) need a manual change"),
            "{}",
            w.stderr
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("compose.yaml")).unwrap(),
            compose,
            "the file still holding the value is not rewritten"
        );
        assert_no_value(&values, "--write stdout", &w.stdout);
        assert_no_value(&values, "--write stderr", &w.stderr);
    }
}

/// A dev server from the test venv (made on first use, see `unleak_testkit::tools`).
fn need_bao() -> Bao {
    start_bao(&unleak_testkit::tools::tool("bao"))
}

fn bao_call(bao: &Bao, method: &str, path: &str, body: Option<&str>) -> (u16, Value) {
    let url = format!("{}/v1/{path}", bao.addr);
    let result = match body {
        Some(b) => agent()
            .post(&url)
            .header("X-Vault-Token", &bao.token)
            .send(b.as_bytes()),
        None if method == "GET" => agent().get(&url).header("X-Vault-Token", &bao.token).call(),
        None => unreachable!("GET or a body"),
    };
    let mut resp = result.unwrap();
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A repository directory `name` (with a `.git`, so its name is the slug) holding one
/// `.env` secret.
fn repo_with_secret(parent: &Path, name: &str, value: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".env"), format!("JWT_SECRET={value}\n")).unwrap();
    dir
}

/// Audit B3: a second repository silently overwrote the first one's value at a global
/// path. Paths are now per repository; a path that holds a different value is refused,
/// naming its owner, unless --overwrite-vault; the same value again is a no-op.
#[test]
fn vault_writes_are_scoped_per_repository_and_check_and_set() {
    let bao = need_bao();
    let gen = |seed: u64| {
        unleak_rules::generate::generate(
            "b64url:40",
            &mut unleak_rules::generate::Rng::new(0x6233_6361_7300 + seed),
        )
        .unwrap()
    };
    let (orders_value, billing_value) = (gen(1), gen(2));
    let values = vec![orders_value.clone(), billing_value.clone()];
    let parent = tempfile::tempdir().unwrap();
    let seed = |dir: &Path, extra: &[&str]| {
        let mut args = vec![
            "migrate",
            "--write",
            "--seed",
            "vault",
            "--vault-addr",
            &bao.addr,
        ];
        args.extend_from_slice(extra);
        let r = run(dir, &args, &[("VAULT_TOKEN", &bao.token)]);
        assert_no_value(&values, "stdout", &r.stdout);
        assert_no_value(&values, "stderr", &r.stderr);
        r
    };
    let stored = |path: &str| {
        kv_get(&bao, &format!("secret/data/{path}"))
            .map(|d| d["JWT_SECRET"].as_str().unwrap().to_string())
    };
    let version = |path: &str| {
        bao_call(&bao, "GET", &format!("secret/metadata/{path}"), None).1["data"]["current_version"]
            .as_u64()
    };

    // Default: the repository's directory names the scope; no collision.
    let orders = repo_with_secret(parent.path(), "orders", &orders_value);
    let billing = repo_with_secret(parent.path(), "billing", &billing_value);
    for dir in [&orders, &billing] {
        let r = seed(dir, &[]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert_eq!(
        stored("apps/orders/jwt-secret").as_deref(),
        Some(orders_value.as_str())
    );
    assert_eq!(
        stored("apps/billing/jwt-secret").as_deref(),
        Some(billing_value.as_str())
    );
    let (_, meta) = bao_call(&bao, "GET", "secret/metadata/apps/orders/jwt-secret", None);
    assert_eq!(meta["data"]["custom_metadata"]["unleak-repo"], "orders");

    // Another repository claiming the same scope with a different value is refused.
    let other = repo_with_secret(parent.path(), "billing-fork", &billing_value);
    let before = std::fs::read(other.join(".env")).unwrap();
    let r = seed(&other, &["--repo-slug", "orders"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("secret/apps/orders/jwt-secret already holds a different JWT_SECRET")
            && r.stderr.contains("--overwrite-vault"),
        "{}",
        r.stderr
    );
    // A path another repository seeded: the message names that repository.
    bao_call(
        &bao,
        "POST",
        "secret/data/apps/shared/jwt-secret",
        Some(r#"{"data":{"JWT_SECRET":"someone-elses-value"}}"#),
    );
    bao_call(
        &bao,
        "POST",
        "secret/metadata/apps/shared/jwt-secret",
        Some(r#"{"custom_metadata":{"unleak-repo":"payments"}}"#),
    );
    let r = seed(&other, &["--repo-slug", "shared"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("owned by repository `payments`"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read(other.join(".env")).unwrap(),
        before,
        "no file changed"
    );
    assert_eq!(
        stored("apps/orders/jwt-secret").as_deref(),
        Some(orders_value.as_str())
    );
    assert_eq!(version("apps/orders/jwt-secret"), Some(1));

    // The same value again: nothing new is written.
    let copy = repo_with_secret(parent.path(), "orders-copy", &orders_value);
    let r = seed(&copy, &["--repo-slug", "orders"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("already held the same value"),
        "{}",
        r.stderr
    );
    assert_eq!(version("apps/orders/jwt-secret"), Some(1));

    // --overwrite-vault replaces it, as a new version.
    let r = seed(&other, &["--repo-slug", "orders", "--overwrite-vault"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        stored("apps/orders/jwt-secret").as_deref(),
        Some(billing_value.as_str())
    );
    assert_eq!(version("apps/orders/jwt-secret"), Some(2));
}

/// Audit B16: a KV v1 mount given as --vault-mount was accepted, and the values landed as
/// plain v1 keys under `data/…`. The mount is now checked first; nothing is written.
#[test]
fn a_mount_that_is_not_kv_v2_is_refused_before_anything_is_written() {
    let bao = need_bao();
    let (status, _) = bao_call(
        &bao,
        "POST",
        "sys/mounts/kv1",
        Some(r#"{"type":"kv","options":{"version":"1"}}"#),
    );
    assert!(status < 300, "mount: HTTP {status}");
    let value = unleak_rules::generate::generate(
        "b64url:40",
        &mut unleak_rules::generate::Rng::new(0x6231_366b_7631),
    )
    .unwrap();
    let parent = tempfile::tempdir().unwrap();
    let dir = repo_with_secret(parent.path(), "kvone", &value);
    let before = std::fs::read(dir.join(".env")).unwrap();
    for (mount, why) in [
        ("kv1", "is KV version 1, not KV version 2"),
        ("nowhere", "cannot read the mount `nowhere`"),
    ] {
        let r = run(
            &dir,
            &[
                "migrate",
                "--write",
                "--seed",
                "vault",
                "--vault-addr",
                &bao.addr,
                "--vault-mount",
                mount,
            ],
            &[("VAULT_TOKEN", &bao.token)],
        );
        assert_eq!(r.code, 2, "{mount}: {}", r.stderr);
        assert!(r.stderr.contains(why), "{mount}: {}", r.stderr);
        assert_no_value(std::slice::from_ref(&value), "stderr", &r.stderr);
        assert_eq!(
            std::fs::read(dir.join(".env")).unwrap(),
            before,
            "no file changed"
        );
    }
    let (status, _) = bao_call(&bao, "GET", "kv1/data/apps/kvone/jwt-secret", None);
    assert_eq!(status, 404, "nothing was written to the v1 mount");
}

/// Audit B5: with VAULT_NAMESPACE set, values went into the namespace but references
/// named the root one, which hoop's agent (no namespace header) cannot read. Now the
/// namespace is part of every reference, and each resolves as the agent reads it.
#[test]
fn references_carry_the_vault_namespace_and_resolve_without_a_header() {
    let bao = need_bao();
    let (status, _) = bao_call(&bao, "POST", "sys/namespaces/team-a", Some("{}"));
    assert!(status < 300, "namespace: HTTP {status}");
    let (status, _) = bao_call(
        &bao,
        "POST",
        "team-a/sys/mounts/secret",
        Some(r#"{"type":"kv","options":{"version":"2"}}"#),
    );
    assert!(status < 300, "mount: HTTP {status}");
    let value = unleak_rules::generate::generate(
        "alnum:22",
        &mut unleak_rules::generate::Rng::new(0x6235_6e73),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".env"),
        format!("DATABASE_URL=postgres://svc:{value}@ns-db.prod.internal:5432/app\nJWT_SECRET={value}x\n"),
    )
    .unwrap();
    let r = run(
        dir.path(),
        &[
            "migrate",
            "--write",
            "--seed",
            "vault",
            "--vault-addr",
            &bao.addr,
            "--repo-slug",
            "ns",
        ],
        &[("VAULT_TOKEN", &bao.token), ("VAULT_NAMESPACE", "team-a")],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_no_value(std::slice::from_ref(&value), "stderr", &r.stderr);
    let batch =
        std::fs::read_to_string(dir.path().join(".unleak/migrate/hoop/connections.yaml")).unwrap();
    let plan = plan_json(dir.path());
    let mut refs: Vec<String> = plan["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["vault"]["reference"].as_str().unwrap().to_string())
        .collect();
    refs.extend(
        batch
            .lines()
            .filter_map(|l| l.split_once("_vaultkv2:"))
            .map(|(_, r)| format!("_vaultkv2:{}", r.trim())),
    );
    assert!(refs.len() >= 3, "{refs:?}");
    for reference in refs {
        let parts: Vec<&str> = reference.split(':').collect();
        assert_eq!(
            parts.len(),
            3,
            "hoop's agent splits {reference} into three parts"
        );
        assert!(parts[1].starts_with("team-a/secret/data/"), "{reference}");
        // As hoop's agent reads it: GET /v1/<id>, with no namespace header.
        let data = kv_get(&bao, parts[1]).unwrap_or_else(|| panic!("{reference} does not resolve"));
        assert!(data[parts[2]].is_string(), "{reference}: no key");
    }
    // The root namespace holds none of it.
    assert!(kv_get(&bao, "secret/data/hoop/ns/pg-ns-db-prod-internal-app").is_none());
}

/// Audit B2: a Secret's `data:` was seeded still base64-encoded. The vault now gets the
/// decoded value, and an ExternalSecret of the same name and keys reads it back.
#[test]
fn secret_manifest_data_is_seeded_decoded_behind_an_external_secret() {
    let bao = need_bao();
    let gen = |seed: u64| {
        unleak_rules::generate::generate(
            "alnum:24",
            &mut unleak_rules::generate::Rng::new(0x6232_6b38_7300 + seed),
        )
        .unwrap()
    };
    let (password, api_key) = (gen(1), gen(2));
    // Block metadata, and the one-line flow form the audit's reproduction wrote.
    for metadata in [
        "metadata:\n  name: app\n  namespace: shop\n",
        "metadata: {name: app, namespace: shop}\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("k8s")).unwrap();
        let manifest = format!(
            "apiVersion: v1\nkind: Secret\n{metadata}type: Opaque\ndata:\n  db-password: {}\nstringData:\n  api-secret: {api_key}\n",
            base64(password.as_bytes())
        );
        std::fs::write(dir.path().join("k8s/secret.yaml"), &manifest).unwrap();
        let r = run(
            dir.path(),
            &[
                "migrate",
                "--write",
                "--seed",
                "vault",
                "--vault-addr",
                &bao.addr,
                "--repo-slug",
                "shop",
            ],
            &[("VAULT_TOKEN", &bao.token)],
        );
        assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
        let values = vec![password.clone(), api_key.clone()];
        assert_no_value(&values, "stdout", &r.stdout);
        assert_no_value(&values, "stderr", &r.stderr);
        for (f, text) in all_text(&dir.path().join(".unleak")) {
            assert_no_value(&values, &f, &text);
        }
        let plan = plan_json(dir.path());
        let findings = plan["findings"].as_array().unwrap();
        assert!(!findings.is_empty());
        let mut seen = Vec::new();
        for f in findings {
            let key = f["platform"]["key"]
                .as_str()
                .unwrap_or_else(|| panic!("no Secret key: {f}"));
            assert_eq!(f["platform"]["name"], "app", "{f}");
            let p = &f["vault"];
            let data = kv_get(
                &bao,
                &format!("secret/data/{}", p["path"].as_str().unwrap()),
            )
            .expect("seeded");
            let got = data[p["key"].as_str().unwrap()]
                .as_str()
                .unwrap()
                .to_string();
            match key {
                "db-password" => assert_eq!(got, password, "stored decoded"),
                "api-secret" => assert_eq!(got, api_key),
                other => panic!("unexpected key {other}"),
            }
            seen.push((
                key.to_string(),
                p["path"].as_str().unwrap().to_string(),
                p["key"].as_str().unwrap().to_string(),
            ));
        }
        let es =
            std::fs::read_to_string(dir.path().join(".unleak/migrate/k8s/external-secrets.yaml"))
                .expect("an ExternalSecret is written");
        assert!(seen.iter().any(|(k, _, _)| k == "db-password"), "{seen:?}");
        assert!(
            es.contains("kind: ExternalSecret")
                && es.contains("  name: app\n")
                && es.contains("  namespace: shop\n"),
            "{es}"
        );
        for (key, path, property) in seen {
            assert!(
                es.contains(&format!("- secretKey: {key}\n      remoteRef:\n        key: {path}\n        property: {property}\n")),
                "{key} is not read from {path}:\n{es}"
            );
        }
        assert_eq!(
            std::fs::read_to_string(dir.path().join("k8s/secret.yaml")).unwrap(),
            manifest
        );
    }
}

/// A namespace hoop could not read back is refused before anything happens: one with `:`
/// (the agent splits references on it), or one that differs from the plan's.
#[test]
fn a_namespace_hoop_cannot_resolve_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let value = unleak_rules::generate::generate(
        "b64url:40",
        &mut unleak_rules::generate::Rng::new(0x6e73_7265_6675),
    )
    .unwrap();
    std::fs::write(dir.path().join(".env"), format!("JWT_SECRET={value}\n")).unwrap();
    let r = run(dir.path(), &["migrate"], &[("VAULT_NAMESPACE", "team:a")]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("VAULT_NAMESPACE `team:a`"),
        "{}",
        r.stderr
    );

    let r = run(dir.path(), &["migrate"], &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let before = std::fs::read(dir.path().join(".env")).unwrap();
    let r = run(
        dir.path(),
        &[
            "migrate",
            "apply",
            ".unleak/migrate/plan.json",
            "--seed",
            "vault",
            "--vault-addr",
            "http://127.0.0.1:9",
        ],
        &[("VAULT_TOKEN", "x"), ("VAULT_NAMESPACE", "team-a")],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("VAULT_NAMESPACE is `team-a`") && r.stderr.contains("no namespace"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(dir.path().join(".env")).unwrap(), before);
    assert_no_value(&[value], "stderr", &r.stderr);
}
