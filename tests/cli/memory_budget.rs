//! `--memory-budget`: the flag's usage errors, inputs that need more than a small budget
//! (stopped with exit 2 and a message naming the flag, never a partial report), the same
//! inputs under the default budget, and the peak resident memory of a large file's scan
//! measured against the budget (Linux).

use crate::common;

use common::{run_in, unleak};
use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Stdio;
use unleak_testkit::Repo;

/// The test rule: `btk_` and 24 lower-case letters or digits.
fn rule() -> String {
    unleak_testkit::rules::prefix_rule("budget-token", "Budget test token", "btk_")
}

/// `n` distinct tokens for the test rule, from a fixed pseudo-random sequence.
fn tokens(n: usize) -> Vec<String> {
    let alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..n)
        .map(|_| {
            let body: String = (0..24)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    alphabet[(state >> 33) as usize % alphabet.len()] as char
                })
                .collect();
            format!("btk_{body}")
        })
        .collect()
}

fn scan_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
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
    args
}

#[test]
fn bad_budgets_are_usage_errors_naming_the_flag() {
    let d = tempfile::tempdir().unwrap();
    for (value, why) in [
        ("16M", "below the minimum memory budget of 32M"),
        ("33554431", "below the minimum memory budget of 32M"),
        ("lots", "--memory-budget"),
        ("12X", "unknown size suffix"),
        ("99999999999999G", "too large"),
        ("", "--memory-budget"),
    ] {
        for command in [&["scan", "."][..], &["guard", "."][..]] {
            let mut args = command.to_vec();
            args.extend(["--memory-budget", value]);
            let r = run_in(d.path(), &args, None);
            assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
            assert!(
                r.stderr.contains("--memory-budget"),
                "{args:?}: {}",
                r.stderr
            );
            assert!(r.stderr.contains(why), "{args:?}: {}", r.stderr);
            assert!(r.stdout.is_empty());
        }
    }
    // The minimum itself is accepted.
    let r = run_in(d.path(), &["scan", ".", "--memory-budget", "32M"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// 40,000 findings weigh far more than the findings share of a 32M budget (4 MiB): the
/// scan stops with exit 2 and no report; the default budget reports every one of them, and
/// JSONL streams them under the small budget too.
#[test]
fn findings_past_their_share_stop_the_scan_and_fit_the_default() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("rules.toml"), rule()).unwrap();
    fs::create_dir(d.path().join("t")).unwrap();
    let all = tokens(40_000);
    let text: String = all.iter().map(|t| format!("key = {t}\n")).collect();
    fs::write(d.path().join("t/dense.txt"), text).unwrap();

    let r = run_in(d.path(), &scan_args(&["--memory-budget", "32M"]), None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--memory-budget 32M"), "{}", r.stderr);
    assert!(r.stderr.contains("were kept"), "{}", r.stderr);
    assert!(r.stderr.contains("incomplete"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no partial report: {}", r.stdout);
    for t in &all[..100] {
        assert!(!r.stderr.contains(t.as_str()), "a raw value leaked");
    }

    // The matcher drops a few random tokens as placeholders or low entropy; whatever it
    // keeps, the full report and the stream under the small budget agree on.
    let r = run_in(d.path(), &scan_args(&[]), None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = common::json(&r.stdout);
    let reported = doc["findings"].as_array().unwrap().len();
    assert!(reported > all.len() * 99 / 100, "{reported}");

    let mut args = scan_args(&["--memory-budget", "32M"]);
    args[6] = "jsonl";
    let r = run_in(d.path(), &args, None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert_eq!(
        r.stdout
            .lines()
            .filter(|l| l.contains("budget-token"))
            .count(),
        reported
    );
}

/// A history of 60,000 file paths (one commit through fast-import): its provenance index
/// passes the index share of a 32M budget (5.6 MiB), so the scan stops with a message that
/// names the flag, the repository and the objects indexed; the default budget scans it.
#[test]
fn a_history_past_the_index_share_stops_and_fits_the_default() {
    let d = tempfile::tempdir().unwrap();
    let bare = Repo::init_bare();
    let repo = &bare.dir;
    let token = &tokens(1)[0];
    let mut stream = Vec::new();
    let content = b"ordinary text\n";
    write!(stream, "blob\nmark :1\ndata {}\n", content.len()).unwrap();
    stream.extend_from_slice(content);
    let secret = format!("key = {token}\n");
    write!(stream, "\nblob\nmark :2\ndata {}\n{secret}\n", secret.len()).unwrap();
    let message = "many files";
    write!(
        stream,
        "commit refs/heads/main\ncommitter T <t@example.com> 1700000000 +0000\ndata {}\n{message}\n",
        message.len()
    )
    .unwrap();
    for i in 0..60_000 {
        writeln!(stream, "M 100644 :1 d{}/file-{i:05}.txt", i % 100).unwrap();
    }
    writeln!(stream, "M 100644 :2 config/secret.env\n").unwrap();
    bare.git_input(&["fast-import", "--quiet"], &stream);
    let repo_arg = repo.to_str().unwrap();
    let args = |extra: &[&'static str]| {
        let mut a = vec![
            "scan",
            "--git",
            repo_arg,
            "--no-builtin-rules",
            "--rules",
            "rules.toml",
            "-f",
            "json",
        ];
        a.extend_from_slice(extra);
        a
    };
    fs::write(d.path().join("rules.toml"), rule()).unwrap();

    let r = run_in(d.path(), &args(&["--memory-budget", "32M"]), None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--memory-budget 32M"), "{}", r.stderr);
    assert!(r.stderr.contains(repo_arg), "{}", r.stderr);
    assert!(r.stderr.contains("objects"), "{}", r.stderr);
    assert!(r.stderr.contains("or more"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no partial report: {}", r.stdout);

    let r = run_in(d.path(), &args(&[]), None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = common::json(&r.stdout);
    let found = doc["findings"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["path"], "config/secret.env");
}

/// Peak resident memory of a scan of a 192 MiB file under `--memory-budget 48M` stays
/// below 48 MiB. The kernel's high-water mark is read twice: by the binary itself at the end
/// of the run (`-v` prints it) and by polling the child's /proc status while it runs; the
/// larger of the two counts.
#[cfg(target_os = "linux")]
#[test]
fn a_large_file_scans_within_the_budget() {
    if !Path::new("/proc/self/status").exists() {
        eprintln!("skipped: /proc is not mounted, so peak memory cannot be read");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("big.log");
    let mut block = Vec::new();
    for i in 0..8192 {
        writeln!(
            block,
            "2026-01-01T00:00:{:02}Z INFO handled request id={i:06} path=/api/v1/items status=200",
            i % 60
        )
        .unwrap();
    }
    let mut out = std::io::BufWriter::new(fs::File::create(&file).unwrap());
    let mut written = 0usize;
    while written < 192 << 20 {
        out.write_all(&block).unwrap();
        written += block.len();
    }
    out.flush().unwrap();
    drop(out);

    let budget_mib = 48u64;
    let mut child = unleak()
        .current_dir(d.path())
        .args(["scan", "big.log", "--max-file-size", "1G", "-v"])
        .args(["--memory-budget", &format!("{budget_mib}M")])
        .env("UNLEAK_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut polled_kib = 0u64;
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            pipe.read_to_string(&mut s).unwrap();
            s
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    while child.try_wait().unwrap().is_none() {
        // Until it execs, the child is a copy of this test process: skip that.
        if let Some(kib) = fs::read_to_string(&status_file)
            .ok()
            .filter(|s| s.lines().any(|l| l == "Name:\tunleak"))
            .and_then(|s| vm_hwm_kib(&s))
        {
            polled_kib = polled_kib.max(kib);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    assert!(child.wait().unwrap().success(), "{stderr}");
    let reported_kib = stderr
        .lines()
        .find_map(|l| l.split("peak memory: ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no peak memory line at -v:\n{stderr}"));
    assert!(stdout.contains("1 file scanned"), "{stdout}");
    // Polling sees at most the end-of-run figure, plus what teardown after it adds.
    assert!(polled_kib > 0, "the child's status was never read");
    let peak_kib = polled_kib.max(reported_kib);
    assert!(
        peak_kib < budget_mib * 1024,
        "peak {peak_kib} KiB is over the {budget_mib} MiB budget"
    );
}

#[cfg(target_os = "linux")]
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
