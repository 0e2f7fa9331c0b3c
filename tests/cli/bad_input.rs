//! The catalogue of bad inputs for file scans: each has a defined outcome, a clear
//! message naming the thing, and a documented exit code, and never a panic or a hang.
//! (Git-specific bad input — corrupt objects, truncated packs, shallow clones, hostile
//! configuration — is tested in crates/unleak-git.)

use crate::common;

use common::{json, run_in};
use std::fs;
use std::path::Path;

use unleak_testkit::rules::DEMO as RULE;
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
fn utf16_text_is_decoded_not_listed_as_binary() {
    // UTF-16 text is scanned since issue 19; what is not UTF-16 (a lone surrogate) stays
    // binary and listed.
    let d = setup();
    let utf16: Vec<u8> = "\u{feff}key = value\n"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    fs::write(d.path().join("t/wide.txt"), utf16).unwrap();
    let mut broken: Vec<u8> = vec![0xff, 0xfe];
    broken.extend([0x00, 0xd8, b'k', 0x00, b'\n', 0x00]);
    fs::write(d.path().join("t/broken.txt"), broken).unwrap();
    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 0);
    assert_eq!(paths(&doc, "skipped"), vec!["t/broken.txt"]);
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
    for i in 0..20_000 {
        let sub = d.path().join(format!("t/d{}", i % 100));
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
    assert_eq!(doc["summary"]["files_scanned"], 20_001);
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

/// Sockets and device files are listed, never opened: reading `/dev/zero` or a socket
/// would never end. A link to a device is not opened even when links are followed, and a
/// device given as the path to scan is refused the same way.
#[cfg(unix)]
#[test]
fn sockets_and_devices_are_never_opened() {
    let d = setup();
    let _socket = std::os::unix::net::UnixListener::bind(d.path().join("t/app.sock")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", d.path().join("t/zero")).unwrap();
    let (r, doc) = scan(d.path(), &["--follow-symlinks"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut skipped: Vec<(String, String)> = doc["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["path"].as_str().unwrap().to_string(),
                s["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    skipped.sort();
    assert_eq!(skipped.len(), 2, "{skipped:?}");
    assert_eq!(skipped[0].0, "t/app.sock");
    assert!(skipped[0].1.contains("socket"), "{skipped:?}");
    assert_eq!(skipped[1].0, "t/zero");
    assert!(skipped[1].1.contains("device"), "{skipped:?}");

    let r = run_in(
        d.path(),
        &[
            "scan",
            "/dev/zero",
            "--no-builtin-rules",
            "--rules",
            "rules.toml",
            "-f",
            "json",
        ],
        None,
    );
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = json(&r.stdout);
    assert_eq!(paths(&doc, "skipped"), vec!["/dev/zero"]);
}

/// Files deleted, created and appended to while the scan runs: each is scanned, or
/// reported by path if it vanished between the listing and the read; nothing panics, and
/// the file that stays put is still found (exit 1, not 2: something was found).
#[test]
fn files_that_vanish_or_grow_during_the_scan() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let d = setup();
    fs::write(d.path().join("t/stable.env"), format!("K={TOKEN}\n")).unwrap();
    let churn = d.path().join("t/churn");
    fs::create_dir(&churn).unwrap();
    for i in 0..2000 {
        fs::write(churn.join(format!("f{i}.txt")), "x=1\n").unwrap();
    }
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = stop.clone();
        let churn = churn.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut round = 0usize;
            while !stop.load(Ordering::Relaxed) {
                for i in (round % 2..2000).step_by(2) {
                    let f = churn.join(format!("f{i}.txt"));
                    if round % 4 < 2 {
                        let _ = fs::remove_file(&f);
                    } else if let Ok(mut file) =
                        fs::OpenOptions::new().create(true).append(true).open(&f)
                    {
                        let _ = file.write_all(&b"y=2\n".repeat(64));
                    }
                }
                round += 1;
            }
        })
    };
    let (r, doc) = scan(d.path(), &[]);
    stop.store(true, Ordering::Relaxed);
    worker.join().unwrap();
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["path"] == "t/stable.env"));
    for e in doc["summary"]["errors"].as_array().unwrap() {
        let path = e["path"].as_str().unwrap();
        assert!(path.starts_with("t/churn/f"), "{e}");
        assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
    }
}

/// File names that carry ANSI escapes, line breaks, workflow-command sequences and `%0A`
/// reach the terminal, JSON and SARIF inert, and so do the error messages that name them.
#[cfg(unix)]
#[test]
fn hostile_file_names_inject_nothing_into_any_output() {
    let d = setup();
    let names = [
        "ansi\u{1b}[2J\u{1b}]0;title\u{7}.env",
        "line\n::error file=x::pwned.env",
        "percent%0A::warning::x.env",
    ];
    for name in names {
        fs::write(d.path().join("t").join(name), format!("K={TOKEN}\n")).unwrap();
    }
    // An unreadable gzip log with a hostile name puts that name into an error message.
    fs::write(
        d.path().join("t/bad\u{1b}[31m\n::error::x.log.gz"),
        b"\x1f\x8b\x08junk",
    )
    .unwrap();
    let args = |format: &'static str| {
        [
            "scan",
            "t",
            "--no-builtin-rules",
            "--rules",
            "rules.toml",
            "-f",
            format,
            "-v",
        ]
    };
    let text = run_in(d.path(), &args("text"), None);
    assert_eq!(text.code, 1, "{}", text.stderr);
    for out in [&text.stdout, &text.stderr] {
        assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
        assert!(
            out.lines().all(|l| !l.starts_with("::")),
            "a line starts a workflow command: {out:?}"
        );
    }
    assert!(!text.stdout.contains(TOKEN) && !text.stderr.contains(TOKEN));

    let sarif = run_in(d.path(), &args("sarif"), None);
    assert_eq!(sarif.code, 1, "{}", sarif.stderr);
    let doc = json(&sarif.stdout);
    let results = doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    for r in results {
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            uri.chars().all(|c| c.is_ascii_graphic()),
            "uri is not an encoded reference: {uri:?}"
        );
        let message = r["message"]["text"].as_str().unwrap();
        assert!(!message.chars().any(char::is_control), "{message:?}");
    }
    assert!(!sarif.stdout.contains(TOKEN) && !sarif.stderr.contains(TOKEN));
    assert!(!sarif.stderr.contains('\u{1b}'), "{:?}", sarif.stderr);

    let (r, doc) = scan(d.path(), &[]);
    assert_eq!(r.code, 1);
    let mut found: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    found.sort();
    let mut want: Vec<String> = names.iter().map(|n| format!("t/{n}")).collect();
    want.sort();
    assert_eq!(
        found, want,
        "JSON keeps names exact (escaped by JSON itself)"
    );
}
