//! The catalogue of bad inputs for file scans: each has a defined outcome, a clear
//! message naming the thing, and a documented exit code, and never a panic or a hang.
//! (Git-specific bad input — corrupt objects, truncated packs, shallow clones, hostile
//! configuration — is tested in crates/unleak-git.)

mod common;

use common::{json, run_in};
use std::fs;
use std::path::Path;

const RULE: &str = r#"[[rules]]
id = "demo-token"
name = "Demo token"
keywords = ["tok_"]
regex = '''\b(?P<secret>tok_[a-z0-9]{24})\b'''
prefix = "tok_"
confidence = "high"
"#;
const TOKEN: &str = "tok_q8r2lm0tv9xw1ka3zp7nb4yc";

fn setup() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("rules.toml"), RULE).unwrap();
    fs::create_dir(d.path().join("t")).unwrap();
    d
}

fn scan(dir: &Path, extra: &[&str]) -> (common::Run, serde_json::Value) {
    let mut args = vec![
        "scan",
        "t",
        "--no-builtin-rules",
        "--rules",
        "rules.toml",
        "-f",
        "json",
    ];
    args.extend_from_slice(extra);
    let r = run_in(dir, &args, None);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let doc = json(&r.stdout);
    (r, doc)
}

fn paths(doc: &serde_json::Value, key: &str) -> Vec<String> {
    doc["summary"][key]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn empty_files_and_directories_are_clean() {
    let d = setup();
    fs::write(d.path().join("t/empty.txt"), "").unwrap();
    fs::create_dir_all(d.path().join("t/a/b/c")).unwrap();
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(doc["summary"]["files_scanned"], 1);
}

#[test]
fn binary_files_are_skipped_and_listed() {
    let d = setup();
    let mut bin = vec![0u8, 1, 2, 3];
    bin.extend_from_slice(TOKEN.as_bytes());
    fs::write(d.path().join("t/blob.bin"), bin).unwrap();
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 0);
    assert_eq!(paths(&doc, "skipped"), vec!["t/blob.bin"]);
    assert!(doc["summary"]["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("binary"));
}

#[test]
fn invalid_utf8_text_is_scanned_with_usable_positions() {
    let d = setup();
    let mut data = b"\xff\xfe\xfd broken \xc3(\n".to_vec();
    data.extend_from_slice(b"\xe2\x82");
    data.extend_from_slice(format!(" key = {TOKEN}\n").as_bytes());
    fs::write(d.path().join("t/latin.txt"), data).unwrap();
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 1);
    assert_eq!(doc["findings"][0]["line"], 2);
    assert_eq!(doc["findings"][0]["column"], 9);
}

#[test]
fn utf16_text_is_treated_as_binary_and_listed() {
    let d = setup();
    let utf16: Vec<u8> = "\u{feff}key = value\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    fs::write(d.path().join("t/wide.txt"), utf16).unwrap();
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 0);
    assert_eq!(paths(&doc, "skipped"), vec!["t/wide.txt"]);
}

#[test]
fn huge_files_are_capped_and_huge_lines_are_scanned() {
    let d = setup();
    // A sparse 1 GiB file: over the default cap, skipped without being read.
    let f = fs::File::create(d.path().join("t/huge.img")).unwrap();
    f.set_len(1 << 30).unwrap();
    // A single 64 MiB line with a token at its end: mapped, not loaded line by line.
    let mut line = vec![b'a'; 64 << 20];
    line.extend_from_slice(format!(" {TOKEN}").as_bytes());
    fs::write(d.path().join("t/oneline.txt"), &line).unwrap();
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(paths(&doc, "skipped"), vec!["t/huge.img"]);
    assert!(doc["summary"]["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("--max-file-size"));
    assert_eq!(doc["findings"][0]["path"], "t/oneline.txt");
    assert_eq!(doc["findings"][0]["column"], (64 << 20) + 2);
}

#[test]
fn many_small_files_and_deep_nesting() {
    let d = setup();
    for i in 0..3000 {
        let sub = d.path().join(format!("t/d{}", i % 30));
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join(format!("f{i}.txt")), "x=1\n").unwrap();
    }
    let mut deep = d.path().join("t");
    for i in 0..120 {
        deep = deep.join(format!("n{i}"));
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("deep.env"), format!("K={TOKEN}\n")).unwrap();
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 1);
    assert_eq!(doc["summary"]["files_scanned"], 3001);
    assert!(doc["findings"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("n119/deep.env"));
}

#[cfg(unix)]
#[test]
fn symlinks_loops_and_links_out_of_the_tree() {
    let d = setup();
    let outside = tempfile::tempdir().unwrap();
    fs::write(outside.path().join("secret.env"), format!("K={TOKEN}\n")).unwrap();
    std::os::unix::fs::symlink(outside.path(), d.path().join("t/out")).unwrap();
    std::os::unix::fs::symlink("..", d.path().join("t/loop")).unwrap();
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 0, "links are not followed by default");
    let mut skipped = paths(&doc, "skipped");
    skipped.sort();
    assert_eq!(skipped, vec!["t/loop", "t/out"]);
    let (r, doc) = scan(d.path(), &["--follow-symlinks"]);
    assert_eq!(r.code, 1, "followed on request: {}", r.stderr);
    assert!(doc["summary"]["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("loop"));
}

#[cfg(unix)]
#[test]
fn fifos_are_never_opened() {
    let d = setup();
    let fifo = d.path().join("t/pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 0);
    assert!(doc["summary"]["skipped"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("FIFO"));
}

/// Unreadable files are reported by name and the scan goes on; with nothing found the
/// run is incomplete, so it exits 2, never 0. Root reads everything, so as root the
/// binary runs as `nobody` through setpriv.
#[cfg(unix)]
#[test]
fn unreadable_files_are_reported_and_the_scan_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let d = setup();
    fs::set_permissions(d.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(d.path().join("t/ok.txt"), "fine\n").unwrap();
    let locked = d.path().join("t/locked.env");
    fs::write(&locked, format!("K={TOKEN}\n")).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    fs::create_dir(d.path().join("t/closed")).unwrap();
    fs::write(d.path().join("t/closed/x.txt"), "x\n").unwrap();
    fs::set_permissions(d.path().join("t/closed"), fs::Permissions::from_mode(0o000)).unwrap();
    let bin = d.path().join("unleak");
    fs::copy(env!("CARGO_BIN_EXE_unleak"), &bin).unwrap();
    fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .unwrap()
        .stdout
        == b"0\n";
    let mut cmd = if is_root {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(&bin);
        c
    } else {
        std::process::Command::new(&bin)
    };
    let out = cmd
        .current_dir(d.path())
        .args([
            "scan",
            "t",
            "--no-builtin-rules",
            "--rules",
            "rules.toml",
            "-f",
            "json",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let doc = json(&String::from_utf8_lossy(&out.stdout));
    let mut errors = paths(&doc, "errors");
    errors.sort();
    assert_eq!(errors, vec!["t/closed", "t/locked.env"]);
    assert!(doc["summary"]["errors"][1]["message"]
        .as_str()
        .unwrap()
        .contains("permission denied"));
    assert_eq!(doc["summary"]["files_scanned"], 1);
    assert!(stderr.contains("could not be read"));
    fs::set_permissions(d.path().join("t/closed"), fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn gzip_logs_are_scanned_and_corrupt_ones_reported() {
    use std::io::Write;
    let d = setup();
    let mut gz = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    gz.stdin
        .take()
        .unwrap()
        .write_all(format!("line 1\nline 2 Authorization token {TOKEN}\n").as_bytes())
        .unwrap();
    let out = gz.wait_with_output().unwrap();
    fs::write(d.path().join("t/build.log.gz"), out.stdout).unwrap();
    fs::write(d.path().join("t/bad.log.gz"), b"\x1f\x8b\x08garbage").unwrap();
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 1);
    assert_eq!(doc["findings"][0]["path"], "t/build.log.gz");
    assert_eq!(doc["findings"][0]["line"], 2);
    assert_eq!(paths(&doc, "errors"), vec!["t/bad.log.gz"]);
}
