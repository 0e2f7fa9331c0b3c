//! `unleak migrate` against a hostile repository or a tampered plan: file names that try
//! to become shell, Markdown or workflow commands, symbolic links that try to carry the
//! artifacts out of the tree, a plan.json edited to write elsewhere or other text, secrets
//! the plan does not migrate showing up in the diff, and values removed without being
//! stored. Every secret is generated; every name is fake.

use crate::common;
#[cfg(unix)]
use crate::gateway;

use common::unleak;
use std::path::{Path, PathBuf};
// Only the Unix tests run `sh`.
#[cfg(unix)]
use std::process::Command;
use std::process::Stdio;
use unleak_rules::generate::{generate, Rng};
use unleak_testkit::Run;

/// A GitHub classic token with a valid checksum; distinct seeds give distinct tokens.
fn token(seed: u64) -> String {
    generate("crc32:ghp_", &mut Rng::new(0x6d69_6772_6174_6500 + seed)).unwrap()
}

fn word(spec: &str, seed: u64) -> String {
    generate(spec, &mut Rng::new(0x686f_7374_696c_6500 + seed)).unwrap()
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = unleak()
        .current_dir(dir)
        .args(args)
        .env_remove("VAULT_TOKEN")
        .env_remove("VAULT_ADDR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run::from(out)
}

/// Every file under `dir` (symbolic links not followed), as paths.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn write(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

// ---- B3: generated artifacts embed names inertly ---------------------------------------

#[cfg(unix)]
#[test]
fn register_sh_runs_no_part_of_a_file_name() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "x\ntouch PWNED_1\n.env",
        "y\ntouch PWNED_2\n#.env",
        "z$(touch PWNED_3)`touch PWNED_4`.env",
        "w\r\ntouch PWNED_5;\u{1b}[2J.env",
    ];
    for (i, n) in names.iter().enumerate() {
        write(
            dir.path(),
            n,
            &format!("GITHUB_TOKEN={}\n", token(i as u64)),
        );
    }
    let r = run(dir.path(), &["migrate", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let script = dir.path().join(".unleak/migrate/hoop/register.sh");
    let text = std::fs::read_to_string(&script).unwrap();
    assert!(
        text.contains("at run time"),
        "the notes name the files:\n{text}"
    );
    for line in text.lines() {
        assert!(
            !line.contains("touch PWNED") || line.starts_with('#'),
            "a file name leaves its comment:\n{line}"
        );
        assert!(!line.contains('\u{1b}') && !line.contains('\r'), "{line:?}");
    }
    let ok = Command::new("sh").arg("-n").arg(&script).status().unwrap();
    assert!(ok.success(), "sh -n rejects register.sh:\n{text}");

    // Run it for real against the test gateway, with a file-backed vault and an inert `gh`.
    let gw = gateway::Gateway::start(dir.path(), &[]);
    gateway::fake_vault(dir.path());
    {
        use std::os::unix::fs::PermissionsExt;
        let gh = dir.path().join("bin/gh");
        std::fs::write(&gh, "#!/bin/sh\ncat >/dev/null\n").unwrap();
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let status = gateway::register(dir.path(), &gw.url(), gateway::TOKEN);
    assert_eq!(
        status.code, 0,
        "register.sh fails against the test gateway:\n{}",
        status.stderr
    );
    let pwned: Vec<_> = files_under(dir.path())
        .into_iter()
        .filter(|p| p.to_string_lossy().contains("PWNED_") && !names.iter().any(|n| p.ends_with(n)))
        .collect();
    assert!(
        pwned.is_empty(),
        "register.sh ran part of a file name: {pwned:?}"
    );
}

#[test]
fn rotation_md_keeps_its_table_shape() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "md|<img src=x onerror=alert(1)>|[x](javascript:alert(1)).env",
        "tick`|`code.env",
        "nl\n| fake | row | here |\n.env",
    ];
    for (i, n) in names.iter().enumerate() {
        write(
            dir.path(),
            n,
            &format!("GITHUB_TOKEN={}\n", token(10 + i as u64)),
        );
    }
    let r = run(dir.path(), &["migrate", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let md = std::fs::read_to_string(dir.path().join(".unleak/migrate/rotation.md")).unwrap();
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with('|')).collect();
    // The header, its rule and one row per secret: nothing split into extra rows.
    assert_eq!(rows.len(), 2 + names.len(), "{md}");
    for row in rows {
        let bytes = row.as_bytes();
        let cell_bars = (0..bytes.len())
            .filter(|&i| bytes[i] == b'|' && (i == 0 || bytes[i - 1] != b'\\'))
            .count();
        assert_eq!(cell_bars, 5, "a name splits the cells of:\n{row}");
        assert!(!row.contains("<img"), "raw HTML in:\n{row}");
    }
}

// ---- B4: never through a symbolic link --------------------------------------------------

#[cfg(unix)]
#[test]
fn artifacts_are_never_written_through_a_symlinked_directory() {
    use std::os::unix::fs::symlink;
    for (case, link) in [
        ("dot-unleak", ".unleak"),
        ("migrate", ".unleak/migrate"),
        ("hoop", ".unleak/migrate/hoop"),
    ] {
        let top = tempfile::tempdir().unwrap();
        let repo = top.path().join("repo");
        let victim = top.path().join("victim");
        std::fs::create_dir_all(victim.join("api")).unwrap();
        std::fs::write(victim.join("api/keep.json"), "{}").unwrap();
        write(&repo, ".env", &format!("GITHUB_TOKEN={}\n", token(20)));
        let link_path = repo.join(link);
        std::fs::create_dir_all(link_path.parent().unwrap()).unwrap();
        symlink(&victim, &link_path).unwrap();
        let before = std::fs::read(repo.join(".env")).unwrap();
        // Also when --out names the same place as an absolute path.
        let abs_out = repo.join(".unleak/migrate").to_string_lossy().into_owned();
        for args in [
            &["migrate", "."][..],
            &["migrate", ".", "--write", "--discard-values"],
            &["migrate", ".", "--out", &abs_out],
        ] {
            let r = run(&repo, args);
            assert_eq!(r.code, 2, "{case} {args:?}: {}\n{}", r.stdout, r.stderr);
            assert!(
                r.stderr.contains(link) && r.stderr.contains("symbolic link"),
                "{case}: the error names the link: {}",
                r.stderr
            );
            let written: Vec<_> = files_under(&victim);
            assert_eq!(
                written,
                vec![victim.join("api/keep.json")],
                "{case}: written or removed through the link"
            );
            assert_eq!(std::fs::read(repo.join(".env")).unwrap(), before, "{case}");
        }
    }
}

// ---- B13: a tampered plan ----------------------------------------------------------------

fn planned_tree() -> (tempfile::TempDir, PathBuf, serde_json::Value) {
    let top = tempfile::tempdir().unwrap();
    let repo = top.path().join("repo");
    let text = format!("APP=1\nGITHUB_TOKEN={}\n", token(30));
    write(&repo, "app.env", &text);
    // The same bytes outside the tree, so the masked checksum would match there too.
    write(top.path(), "victim.env", &text);
    let r = run(&repo, &["migrate", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.join(".unleak/migrate/plan.json")).unwrap(),
    )
    .unwrap();
    (top, repo, plan)
}

fn set_paths(plan: &mut serde_json::Value, path: &str) {
    plan["files"][0]["path"] = path.into();
    for f in plan["findings"].as_array_mut().unwrap() {
        f["file"] = path.into();
    }
    for w in plan["vault_writes"].as_array_mut().unwrap() {
        w["source"]["file"] = path.into();
    }
}

#[test]
fn apply_refuses_paths_outside_the_root() {
    let (top, repo, plan) = planned_tree();
    let victim = top.path().join("victim.env");
    let original = std::fs::read(&victim).unwrap();
    let abs = victim.to_string_lossy().into_owned();
    for path in ["../victim.env", "sub/../../victim.env", abs.as_str()] {
        let mut evil = plan.clone();
        set_paths(&mut evil, path);
        std::fs::write(top.path().join("evil.json"), evil.to_string()).unwrap();
        let r = run(
            &repo,
            &["migrate", "apply", "../evil.json", "--discard-values"],
        );
        assert_eq!(r.code, 2, "{path}: {}", r.stderr);
        assert!(
            r.stderr.contains(path) && r.stderr.contains("outside"),
            "{path}: {}",
            r.stderr
        );
        assert_eq!(std::fs::read(&victim).unwrap(), original, "{path}");
    }
}

#[cfg(unix)]
#[test]
fn apply_refuses_a_path_through_a_symlinked_directory() {
    let (top, repo, plan) = planned_tree();
    std::os::unix::fs::symlink(top.path(), repo.join("up")).unwrap();
    let victim = top.path().join("victim.env");
    let original = std::fs::read(&victim).unwrap();
    let mut evil = plan.clone();
    set_paths(&mut evil, "up/victim.env");
    std::fs::write(top.path().join("evil.json"), evil.to_string()).unwrap();
    let r = run(
        &repo,
        &["migrate", "apply", "../evil.json", "--discard-values"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("up") && r.stderr.contains("symbolic link"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&victim).unwrap(), original);
}

#[test]
fn apply_refuses_replacement_text_migrate_did_not_make() {
    let (_top, repo, plan) = planned_tree();
    let original = std::fs::read(repo.join("app.env")).unwrap();
    for replacement in [
        "echo PWNED-by-plan\n",
        "",
        "GITHUB_TOKEN=${GITHUB_TOKEN_OTHER}",
    ] {
        let mut evil = plan.clone();
        let edits = evil["files"][0]["edits"].as_array_mut().unwrap();
        assert!(!edits.is_empty());
        edits[0]["replacement"] = replacement.into();
        std::fs::write(repo.join("evil.json"), evil.to_string()).unwrap();
        let r = run(
            &repo,
            &["migrate", "apply", "evil.json", "--discard-values"],
        );
        assert_eq!(r.code, 2, "{replacement:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("app.env") && r.stderr.contains("not the ones"),
            "{replacement:?}: {}",
            r.stderr
        );
        assert_eq!(std::fs::read(repo.join("app.env")).unwrap(), original);
    }
    // Moving the vault source elsewhere in the file is tampering too.
    let mut evil = plan.clone();
    evil["vault_writes"][0]["source"]["start"] = 0.into();
    std::fs::write(repo.join("evil.json"), evil.to_string()).unwrap();
    let r = run(
        &repo,
        &["migrate", "apply", "evil.json", "--discard-values"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(std::fs::read(repo.join("app.env")).unwrap(), original);
    // The untouched plan still applies.
    let r = run(
        &repo,
        &[
            "migrate",
            "apply",
            ".unleak/migrate/plan.json",
            "--discard-values",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(std::fs::read(repo.join("app.env")).unwrap(), original);
}

// ---- B6: names cannot become terminal escapes or workflow commands ----------------------

fn assert_inert(what: &str, text: &str) {
    for bad in ['\u{1b}', '\u{7}', '\u{202e}', '\u{2066}', '\r'] {
        assert!(!text.contains(bad), "{what} holds {bad:?}:\n{text}");
    }
    assert!(!text.contains("##["), "{what} holds `##[`:\n{text}");
    for line in text.lines() {
        assert!(
            !line.trim_start().starts_with("::"),
            "{what}: a line starts with `::`:\n{line}"
        );
    }
}

#[test]
fn table_notes_and_diff_headers_escape_names() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "e\u{1b}[2J\u{1b}]0;pwned\u{7}.env",
        "::error::mig.env",
        " ::warning::lead.env",
        "n\n::warning::fromnl\n.env",
        "##[error]legacy.env",
        "bidi\u{202e}vne.env",
        "cr\r::error::cr.env",
    ];
    for (i, n) in names.iter().enumerate() {
        write(
            dir.path(),
            n,
            &format!("GITHUB_TOKEN={}\n", token(40 + i as u64)),
        );
    }
    // Lines of a planned file show up in the diff as context.
    write(
        dir.path(),
        "ctx.env",
        &format!(
            "::error::ctx\n##[warning]ctx\nGITHUB_TOKEN={}\n\u{1b}]0;t\u{7}\n",
            token(60)
        ),
    );
    let r = run(dir.path(), &["migrate", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stdout.contains("--- a/"), "{}", r.stdout);
    assert_inert("stdout", &r.stdout);
    assert_inert("stderr", &r.stderr);
}

// ---- B7: no secret of the run in the diff or any artifact -------------------------------

#[test]
fn unplanned_secrets_stay_out_of_the_diff_and_artifacts() {
    let dir = tempfile::tempdir().unwrap();
    let planned = token(70);
    let password = format!("{}#{}$", word("alnum:10", 1), word("alnum:9", 2));
    let allowed = token(71);
    write(
        dir.path(),
        ".env",
        &format!(
            "GITHUB_TOKEN={planned}\nDB_PASSWORD=\"{password}\"\nOTHER_TOKEN={allowed} # unleak:allow\n"
        ),
    );
    let r = run(dir.path(), &["migrate", ".", "--min-confidence", "high"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stdout.contains("DB_PASSWORD="),
        "the diff shows the line:\n{}",
        r.stdout
    );
    let mut outputs = vec![
        ("stdout".to_string(), r.stdout),
        ("stderr".to_string(), r.stderr),
    ];
    for f in files_under(&dir.path().join(".unleak")) {
        outputs.push((
            f.display().to_string(),
            String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned(),
        ));
    }
    for (what, text) in &outputs {
        for v in [&planned, &password, &allowed] {
            assert!(
                !text.contains(v.as_str()),
                "{what} holds a raw value:\n{text}"
            );
        }
    }
}

// ---- B14: values are never removed without being stored --------------------------------

#[test]
fn write_without_seed_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("GITHUB_TOKEN={}\n", token(80));
    write(dir.path(), ".env", &text);
    let r = run(dir.path(), &["migrate", ".", "--write"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("--seed") && r.stderr.contains("--discard-values"),
        "{}",
        r.stderr
    );
    assert!(!dir.path().join(".unleak").exists(), "nothing is written");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".env")).unwrap(),
        text
    );

    let plan = run(dir.path(), &["migrate", "."]);
    assert_eq!(plan.code, 1, "{}", plan.stderr);
    let r = run(
        dir.path(),
        &["migrate", "apply", ".unleak/migrate/plan.json"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--discard-values"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".env")).unwrap(),
        text
    );

    let r = run(dir.path(), &["migrate", ".", "--write", "--discard-values"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(
        std::fs::read_to_string(dir.path().join(".env")).unwrap(),
        text
    );
}

#[test]
fn a_second_credential_for_one_connection_is_kept_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let url = |pass: &str| {
        format!("DATABASE_URL=postgres://app:{pass}@orders-db.prod.internal:5432/orders\n")
    };
    let first = url(&word("alnum:24", 90));
    let second = url(&word("alnum:24", 91));
    write(dir.path(), "a/.env", &first);
    write(dir.path(), "b/.env", &second);
    let r = run(dir.path(), &["migrate", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let plan: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".unleak/migrate/plan.json")).unwrap(),
    )
    .unwrap();
    let strategy = |file: &str| {
        plan["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["file"] == file)
            .unwrap_or_else(|| panic!("no finding in {file}: {plan}"))["strategy"]
            .clone()
    };
    assert_eq!(strategy("a/.env"), "gateway-tunnel", "{plan}");
    assert_eq!(strategy("b/.env"), "manual", "{plan}");
    let r = run(dir.path(), &["migrate", ".", "--write", "--discard-values"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_ne!(
        std::fs::read_to_string(dir.path().join("a/.env")).unwrap(),
        first
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("b/.env")).unwrap(),
        second,
        "the value that is not seeded stays where it is"
    );
}

#[test]
fn a_file_name_holding_its_secret_leaks_nowhere() {
    let dir = tempfile::tempdir().unwrap();
    let t = token(100);
    write(
        dir.path(),
        &format!("cfg-{t}.env"),
        &format!("GITHUB_TOKEN={t}\n"),
    );
    let r = run(dir.path(), &["migrate", "."]);
    assert_eq!(r.code, 2, "plan.json would hold it: {}", r.stderr);
    assert!(r.stderr.contains("plan.json"), "{}", r.stderr);
    for (what, text) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        assert!(!text.contains(&t), "{what} holds the token:\n{text}");
    }
    for f in files_under(&dir.path().join(".unleak")) {
        let text = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert!(!text.contains(&t), "{} holds the token", f.display());
    }
}

// ---- audit B4: register.sh fails closed --------------------------------------------------

/// A tree with one gateway-native finding, planned; returns the script's path.
#[cfg(unix)]
fn native_tree() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let key = generate("'sk-proj-'+alnum:48", &mut Rng::new(0x7265_6769_7374_6572)).unwrap();
    write(dir.path(), ".env", &format!("OPENAI_API_KEY={key}\n"));
    let r = run(dir.path(), &["migrate", "."]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let script = dir.path().join(".unleak/migrate/hoop/register.sh");
    assert!(std::fs::read_to_string(&script)
        .unwrap()
        .contains("\ncredential "));
    (dir, script)
}

/// Run register.sh with stand-ins: `curl` answers as an admin's gateway, and the creation
/// of the workloads' machine identity with `status` and `body` (or fails with
/// `curl_exit`); `vault` holds nothing and records what it is asked to store. Returns
/// (exit code, stderr, what vault was given on stdin, its arguments).
#[cfg(unix)]
fn register_with(
    dir: &Path,
    script: &Path,
    status: &str,
    body: &str,
    curl_exit: i32,
) -> (i32, String, String, String) {
    use std::os::unix::fs::PermissionsExt;
    let stubs = dir.join("stubs");
    std::fs::create_dir_all(&stubs).unwrap();
    let log = dir.join("vault.log");
    let stdin_log = dir.join("vault.stdin");
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&stdin_log);
    let reference = "_vaultkv2:secret/data/hoop/x/http-api-openai-com:HEADER_AUTHORIZATION";
    let encoded = {
        use std::io::Write as _;
        let mut child = Command::new("base64")
            .arg("-w0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(reference.as_bytes())
            .unwrap();
        String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap()
    };
    let stubs_text = [
        (
            "curl",
            format!(
                "#!/bin/sh\nfor a; do url=$a; done\ncase $url in\n  */machineidentities) printf '%s\\n%s' \"$MINT_BODY\" \"$MINT_STATUS\"; exit {curl_exit} ;;\n  */rotate) printf '{{}}\\n201' ;;\n  */machineidentities/*) printf '{{}}\\n404' ;;\n  */userinfo) printf '{{\"is_admin\":true}}\\n200' ;;\n  */agents) printf '[{{\"id\":\"a1\",\"name\":\"default\"}}]\\n200' ;;\n  */connections) printf '{{}}\\n201' ;;\n  */connections/*) printf '%s\\n200' '{{\"id\":\"c1\",\"secret\":{{\"envvar:HEADER_AUTHORIZATION\":\"{encoded}\"}}}}' ;;\n  *) printf '{{}}\\n200' ;;\nesac\n"
            ),
        ),
        (
            "vault",
            format!(
                "#!/bin/sh\n[ \"$2\" = put ] || exit 2\necho \"$@\" >> '{}'\ncat >> '{}'\n",
                log.display(),
                stdin_log.display()
            ),
        ),
    ];
    for (name, text) in stubs_text {
        let p = stubs.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        stubs.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .arg(script)
        .env("PATH", path)
        .env("HOOP_APIURL", "http://127.0.0.1:9")
        .env("HOOP_TOKEN", "x")
        .env("MINT_STATUS", status)
        .env("MINT_BODY", body)
        .env_remove("VAULT_CLI")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        std::fs::read_to_string(&stdin_log).unwrap_or_default(),
        std::fs::read_to_string(&log).unwrap_or_default(),
    )
}

/// Audit B4: a failed or empty mint stored an empty PROXY_TOKEN over a working one and
/// exited 0 (no pipefail in sh). The workload's credential now comes from a machine
/// identity; each failure must exit non-zero, name the identity or the connection and
/// store nothing.
#[cfg(unix)]
#[test]
fn register_sh_stores_no_empty_or_null_credential_and_fails_naming_the_connection() {
    let (dir, script) = native_tree();
    let token = word("alnum:40", 7);
    let cred = |t: &str| {
        format!("{{\"credentials\":[{{\"connection_name\":\"http-api-openai-com\",\"proxy_token\":{t}}}]}}")
    };
    let failures = [
        (
            "400",
            "{\"message\":\"connection http-api-openai-com has unsupported type\"}".to_string(),
            0,
            "HTTP 400",
        ),
        ("500", String::new(), 0, "HTTP 500"),
        (
            "201",
            "{\"credentials\":[]}".to_string(),
            0,
            "without a proxy_token",
        ),
        ("201", cred("null"), 0, "without a proxy_token"),
        ("201", cred("\"\""), 0, "without a proxy_token"),
        ("201", cred("\"null\""), 0, "without a proxy_token"),
        ("201", "not json".to_string(), 0, "not JSON"),
        ("", String::new(), 7, "request to"),
    ];
    for (status, body, curl_exit, said) in failures {
        let (code, stderr, stored, args) =
            register_with(dir.path(), &script, status, &body, curl_exit);
        let case = format!("HTTP {status:?} body {body:?} curl exit {curl_exit}");
        assert_ne!(code, 0, "{case}: register.sh exits 0\n{stderr}");
        assert!(
            (stderr.contains("http-api-openai-com") || stderr.contains("-workloads"))
                && stderr.contains(said),
            "{case}: the message names the identity or connection and the cause:\n{stderr}"
        );
        assert!(
            args.is_empty() && stored.is_empty(),
            "{case}: the vault was asked to store something: {args:?}"
        );
    }

    // A real credential is stored, as is, under the connection's path.
    let body = cred(&format!("\"{token}\""));
    let (code, stderr, stored, args) = register_with(dir.path(), &script, "201", &body, 0);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stored, token);
    assert!(
        args.contains("kv put") && args.contains("http-api-openai-com PROXY_TOKEN=-"),
        "{args}"
    );
    assert!(!stderr.contains(&token));
}
