//! Never a false "clean", and fingerprints that are no oracle (issue 14, B9-B12, B14):
//! a closed standard output keeps the run's exit code, a failed `-o` keeps the old file,
//! a signal leaves no temporary file, a job summary is never appended through a link, a
//! `.gz` cut at the cap is listed as skipped, and a password's fingerprint and redacted
//! form give nothing to guess with.

use crate::guard_support;

use guard_support::{token, Repo};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::{Command, Stdio};

const PASSWORD: &str = "Zx9#kLm2$PqR7vWn4TbY";

/// `bash -o pipefail -c "unleak ARGS | head -1"` in `dir`: the pipeline's exit code.
fn piped_to_head(repo: &Repo, dir: &Path, args: &str) -> i32 {
    let script = format!("\"$UNLEAK\" {args} | head -1 >/dev/null");
    let mut cmd = Command::new("bash");
    repo.env(&mut cmd);
    let out = cmd
        .args(["-o", "pipefail", "-c", &script])
        .env("UNLEAK", env!("CARGO_BIN_EXE_unleak"))
        .env("NO_COLOR", "1")
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("Broken pipe"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.status.code().unwrap_or(-1)
}

/// A file of `n` distinct tokens: far more output than a pipe holds, so the reader's exit
/// closes it mid-report.
fn many_tokens(n: u64) -> String {
    (0..n).map(|i| format!("T{i}={}\n", token(i))).collect()
}

#[test]
fn a_closed_pipe_keeps_the_exit_code_of_the_findings() {
    let repo = Repo::init();
    repo.write("README", "hi\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("deploy.env", many_tokens(3000));
    repo.commit("add deploy");
    let dir = repo.dir.clone();
    for args in [
        "scan deploy.env",
        "scan deploy.env -f jsonl",
        "scan deploy.env -f json",
        "guard . --range main..feature",
        "guard . --range main..feature --format github",
    ] {
        assert_eq!(piped_to_head(&repo, &dir, args), 1, "{args}");
    }
    // Clean runs stay 0, and `rules list` is not an error.
    repo.write("clean.txt", "nothing here\n".repeat(20_000));
    assert_eq!(piped_to_head(&repo, &dir, "scan clean.txt -v"), 0);
    assert_eq!(piped_to_head(&repo, &dir, "rules list"), 0);
    assert_eq!(piped_to_head(&repo, &dir, "rules list --json"), 0);
}

/// Every entry of `dir` but the given names: temporary files left behind.
#[test]
fn a_closed_pipe_does_not_stop_a_baseline_update() {
    let repo = Repo::init();
    repo.write("README", "hi\n");
    let dir = repo.dir.clone();
    assert_eq!(piped_to_head(&repo, &dir, "baseline create"), 0);
    // 3,000 "added" lines: far more than a pipe holds, so `head` leaves mid-report.
    repo.write("deploy.env", many_tokens(3000));
    assert_eq!(piped_to_head(&repo, &dir, "baseline update"), 0);
    let written = std::fs::read_to_string(dir.join(".unleak-baseline.json")).unwrap();
    let saved: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        saved["entries"].as_array().map(Vec::len),
        Some(3000),
        "{written:.300}"
    );
}

fn leftovers(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !keep.contains(&n.as_str()))
        .collect()
}

#[test]
fn a_failed_scan_leaves_the_old_report_as_it_was() {
    let repo = Repo::init();
    let out = repo.scratch.join("out");
    std::fs::create_dir_all(&out).unwrap();
    // Findings over the budget's share (the audit's big2.env), and a missing path.
    repo.write("big2.env", many_tokens(60_000));
    let cases: [(&[&str], &str); 3] = [
        (
            &["scan", "big2.env", "--memory-budget", "32M", "-f", "json"],
            "b.json",
        ),
        (&["scan", "/nonexistent", "-f", "sarif"], "c.sarif"),
        (&["scan", "--git", "/nonexistent"], "d.txt"),
    ];
    for (args, name) in cases {
        let file = out.join(name);
        std::fs::write(&file, "{\"previous\":\"good report\"}\n").unwrap();
        let mut args = args.to_vec();
        let file_arg = file.to_str().unwrap();
        args.extend(["-o", file_arg]);
        let r = repo.unleak(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "{\"previous\":\"good report\"}\n",
            "{args:?}"
        );
    }
    assert_eq!(
        leftovers(&out, &["b.json", "c.sarif", "d.txt"]),
        Vec::<String>::new()
    );
}

#[cfg(unix)]
#[test]
fn a_signal_during_output_leaves_no_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    let repo = Repo::init();
    let out = repo.scratch.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let file = out.join("r.sarif");
    std::fs::write(&file, "old\n").unwrap();
    for signal in ["INT", "TERM"] {
        // Standard input stays open, so the run waits inside its `-o` write.
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_unleak"));
        repo.env(&mut cmd);
        let mut child = cmd
            .args(["scan", "-", "-f", "sarif", "-o", file.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        use std::io::Write;
        stdin.write_all(b"GITHUB_TOKEN=").unwrap();
        stdin.flush().unwrap();
        // Wait (on the file system, not a clock) until the temporary file exists.
        let mut seen = false;
        for _ in 0..6000 {
            if !leftovers(&out, &["r.sarif"]).is_empty() {
                seen = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(seen, "the temporary file never appeared");
        let killed = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        drop(stdin);
        let number = if signal == "INT" { 2 } else { 15 };
        assert_eq!(status.signal(), Some(number), "ended by SIG{signal}");
        assert_eq!(
            leftovers(&out, &["r.sarif"]),
            Vec::<String>::new(),
            "SIG{signal}"
        );
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "old\n");
    }
}

#[cfg(unix)]
#[test]
fn the_job_summary_is_never_appended_through_a_link() {
    let repo = Repo::init();
    repo.write("README", "hi\n");
    repo.commit("base");
    let real = repo.scratch.join("real-summary.md");
    std::fs::write(&real, "earlier step\n").unwrap();
    let link = repo.scratch.join("sumlink.md");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let r = repo.unleak_env(&["guard", "."], &[("GITHUB_STEP_SUMMARY", &link)]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("symbolic link"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&real).unwrap(), "earlier step\n");
    // A regular file gets the whole summary appended.
    let r = repo.unleak(&["guard", ".", "--summary", real.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.all());
    let text = std::fs::read_to_string(&real).unwrap();
    assert!(
        text.starts_with("earlier step\n") && text.len() > 20,
        "{text}"
    );
}

#[test]
fn a_gzip_cut_at_the_cap_is_listed_as_skipped() {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;
    let repo = Repo::init();
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    let line = b"INFO request ok path=/api/v1/items status=200\n";
    // 8 MiB of log, then the token: past a 1M cap.
    for _ in 0..(8 << 20) / line.len() {
        enc.write_all(line).unwrap();
    }
    let secret = token(1);
    writeln!(enc, "GITHUB_TOKEN={secret}").unwrap();
    repo.write("big.log.gz", enc.finish().unwrap());
    let r = repo.unleak(&["scan", "big.log.gz", "-f", "json", "--max-file-size", "1M"]);
    let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let skipped = doc["summary"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{}", r.stdout);
    assert_eq!(skipped[0]["path"], "big.log.gz");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("decompressed past --max-file-size"),
        "{}",
        r.stdout
    );
    // `-v` lists it too.
    let r = repo.unleak(&["scan", "big.log.gz", "-v", "--max-file-size", "1M"]);
    assert!(
        r.all().contains("big.log.gz") && r.all().contains("decompressed past --max-file-size"),
        "{}",
        r.all()
    );
    // With room, the token is found.
    let r = repo.unleak(&["scan", "big.log.gz", "-f", "json"]);
    assert_eq!(r.code, 1, "{}", r.all());
}

/// The fingerprint formula of unleak 0.1, as the audit recomputed it.
fn one_sha256(key: &[u8], rule: &str, value: &str) -> String {
    let mut h = Sha256::new();
    h.update(key);
    h.update([0]);
    h.update(rule.as_bytes());
    h.update([0]);
    h.update(value.as_bytes());
    h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn a_password_fingerprint_is_no_oracle_and_its_length_is_not_shown() {
    let repo = Repo::init();
    repo.write("t1.env", format!("DB_PASSWORD=\"{PASSWORD}\"\n"));
    let json = repo.unleak(&["scan", "t1.env", "-f", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["rule_id"], "generic-password", "{}", json.stdout);
    let fp = f["fingerprint"].as_str().unwrap();
    assert_ne!(
        fp,
        one_sha256(b"unleak-fingerprint-v1", "generic-password", PASSWORD)
    );
    assert_eq!(f["redacted"], "…(redacted)");
    let sarif = repo.unleak(&["scan", "t1.env", "-f", "sarif"]);
    assert!(
        sarif.stdout.contains(fp),
        "SARIF carries the same fingerprint"
    );
    let again = repo.unleak(&["scan", "t1.env", "-f", "json"]).stdout;
    assert!(again.contains(fp), "fingerprints are stable across runs");
    for (format, out) in [("json", &json), ("sarif", &sarif)] {
        assert!(
            !out.stdout.contains("20 chars") && !out.stdout.contains("(20"),
            "{format}"
        );
        assert!(!out.stdout.contains(PASSWORD), "{format}");
    }
    let text = repo.unleak(&["scan", "t1.env"]).stdout;
    assert!(
        text.contains("…(redacted)") && !text.contains("20 chars"),
        "{text}"
    );
    // A provider token keeps its public prefix and length.
    repo.write("t2.env", format!("GITHUB_TOKEN={}\n", token(2)));
    assert!(repo
        .unleak(&["scan", "t2.env"])
        .stdout
        .contains("ghp_…(40 chars)"));
}

#[test]
fn scan_and_guard_fingerprint_with_the_baseline_key() {
    let repo = Repo::init();
    repo.write(
        "app.env",
        format!("DB_PASSWORD=\"{PASSWORD}\"\nGITHUB_TOKEN={}\n", token(3)),
    );
    repo.commit("base");
    let r = repo.unleak(&["baseline", "create"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let baseline: serde_json::Value =
        serde_json::from_str(&repo.read(".unleak-baseline.json")).unwrap();
    assert_eq!(baseline["version"], 3);
    let key = baseline["key"].as_str().unwrap();
    let mut in_baseline: Vec<String> = baseline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["fingerprint"].as_str().unwrap().to_string())
        .collect();
    in_baseline.sort();
    let fingerprints = |args: &[&str]| {
        let r = repo.unleak(args);
        let doc: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let mut fps: Vec<String> = doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect();
        fps.sort();
        fps
    };
    // The scan's fingerprints are the baseline's, so the guard's.
    assert_eq!(fingerprints(&["scan", ".", "-f", "json"]), in_baseline);
    assert_eq!(
        fingerprints(&["scan", "--git", ".", "-f", "json"]),
        in_baseline
    );
    let moved = repo.scratch.join("b.json");
    std::fs::copy(repo.dir.join(".unleak-baseline.json"), &moved).unwrap();
    std::fs::remove_file(repo.dir.join(".unleak-baseline.json")).unwrap();
    let given = [
        "scan",
        "app.env",
        "-f",
        "json",
        "--baseline",
        moved.to_str().unwrap(),
    ];
    assert_eq!(fingerprints(&given), in_baseline);
    // Without a baseline, the default key: other fingerprints.
    assert_ne!(fingerprints(&["scan", ".", "-f", "json"]), in_baseline);
    // The published fingerprint is not the one-SHA-256 of the password, even with the key.
    assert!(!in_baseline.contains(&one_sha256(key.as_bytes(), "generic-password", PASSWORD)));
    // The guard, with the baseline back, knows both.
    std::fs::copy(&moved, repo.dir.join(".unleak-baseline.json")).unwrap();
    let r = repo.unleak(&["guard", ".", "-f", "json"]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn a_version_2_baseline_still_knows_its_passwords_and_update_rewrites_it() {
    // The file unleak 0.1 with baseline format 2 wrote for PASSWORD under this key; the
    // fingerprints are Python hashlib's PBKDF2 of the documented formulas (v2: one chain
    // of 10,000 rounds; v3: sha256 of four chains of 2,500).
    let key = "ab".repeat(32);
    let (v2, v3) = (
        "e65dde99e5c314d99483c0b9dce02652",
        "60d25254b0391035e382eb092c72682d",
    );
    let repo = Repo::init();
    repo.write("app.env", format!("DB_PASSWORD=\"{PASSWORD}\"\n"));
    repo.write(
        ".unleak-baseline.json",
        format!(
            "{{\n  \"version\": 2,\n  \"key\": \"{key}\",\n  \"entries\": [\n    \
             {{\"path\": \"app.env\", \"rule\": \"generic-password\", \"fingerprint\": \"{v2}\"}}\n  ]\n}}\n"
        ),
    );
    repo.commit("base");
    let r = repo.unleak(&["guard", "."]);
    assert_eq!(r.code, 0, "the known password is not new: {}", r.all());
    let r = repo.unleak(&["baseline", "update"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let file = repo.read(".unleak-baseline.json");
    assert!(
        file.contains("\"version\": 3") && file.contains(v3) && !file.contains(v2),
        "{file}"
    );
    assert_eq!(repo.unleak(&["guard", "."]).code, 0);
}

#[test]
fn an_old_baseline_is_refused_with_how_to_rewrite_it() {
    let repo = Repo::init();
    repo.write("app.env", format!("DB_PASSWORD=\"{PASSWORD}\"\n"));
    repo.commit("base");
    let v1 = format!(
        "{{\n  \"version\": 1,\n  \"key\": \"{}\",\n  \"entries\": []\n}}\n",
        "ab".repeat(32)
    );
    repo.write(".unleak-baseline.json", &v1);
    for args in [&["guard", "."][..], &["scan", "."], &["baseline", "update"]] {
        let r = repo.unleak(args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr.contains(".unleak-baseline.json")
                && r.stderr.contains("format version 1")
                && r.stderr.contains("unleak baseline create"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let r = repo.unleak(&["baseline", "create"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(repo
        .read(".unleak-baseline.json")
        .contains("\"version\": 3"));
    assert_eq!(repo.unleak(&["guard", "."]).code, 0);
}
