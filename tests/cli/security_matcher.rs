//! B5 of the security audit, end to end: repository rules that share a keyword, on input
//! that floods it, stay inside `--memory-budget` (peak resident memory read from /proc,
//! Linux), and a secret after a long line of keywords is found as it is on short lines.
//! The linear-time bounds are counted in the matcher's unit tests, not timed here.

use crate::common;

use common::{run_in, unleak};
use std::fs;
use std::io::Read;
use std::process::Stdio;
use unleak_rules::generate::{generate, Rng};

/// `n` rules sharing the keyword `aaa` that never match it, as the audit's reproduction
/// wrote them.
fn shared_keyword_rules(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "[[rules]]\nid = \"q{i}\"\nname = \"x\"\ndescription = \"x\"\nkeywords = [\"aaa\"]\n\
                 regex = '''(?P<secret>aaa[a-z]{{{}}}[0-9]{{{},{}}}q{i}x)'''\nconfidence = \"high\"\n",
                i % 50 + 1,
                i % 40 + 1,
                i % 40 + 60
            )
        })
        .collect()
}

#[cfg(target_os = "linux")]
fn vm_hwm_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// 60 rules sharing a keyword held a window per occurrence and rule: 4.2 GB at
/// `--memory-budget 64M`. On 2 MB of that keyword, on one line and on many, the peak stays
/// under the budget. The child is killed as soon as it passes the budget, so a regression
/// fails fast instead of taking the machine's memory.
#[cfg(target_os = "linux")]
#[test]
fn rules_sharing_a_flooded_keyword_stay_within_the_memory_budget() {
    if !std::path::Path::new("/proc/self/status").exists() {
        eprintln!("skipped: /proc is not mounted, so peak memory cannot be read");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("many.toml"), shared_keyword_rules(60)).unwrap();
    let run = "aaa".repeat(200);
    fs::write(d.path().join("line.txt"), format!("{run} ").repeat(3500)).unwrap();
    fs::write(d.path().join("lines.txt"), format!("{run}\n").repeat(3500)).unwrap();
    let budget_mib = 64u64;
    for file in ["line.txt", "lines.txt"] {
        let mut child = unleak()
            .current_dir(d.path())
            .args(["scan", file, "--no-builtin-rules", "--rules", "many.toml"])
            .args(["--memory-budget", &format!("{budget_mib}M")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status_file = format!("/proc/{}/status", child.id());
        let mut stderr = child.stderr.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            stderr.read_to_string(&mut s).unwrap();
            s
        });
        let mut peak_kib = 0u64;
        while child.try_wait().unwrap().is_none() {
            // Until it execs, the child is a copy of this test process: skip that.
            if let Some(kib) = fs::read_to_string(&status_file)
                .ok()
                .filter(|s| s.lines().any(|l| l == "Name:\tunleak"))
                .and_then(|s| vm_hwm_kib(&s))
            {
                peak_kib = peak_kib.max(kib);
            }
            if peak_kib >= budget_mib * 1024 {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let status = child.wait().unwrap();
        let stderr = reader.join().unwrap();
        assert!(
            peak_kib < budget_mib * 1024,
            "{file}: peak {peak_kib} KiB is over the {budget_mib} MiB budget"
        );
        assert_eq!(status.code(), Some(0), "{file}: {stderr}");
    }
}

/// A GitHub classic token with a valid checksum, from the rule generator.
fn token(seed: u64) -> String {
    generate("crc32:ghp_", &mut Rng::new(0x7365_6375_7200 + seed)).unwrap()
}

/// A token standing after a long line of `token`, `password` or `secret` (no line feed in
/// 1 MB) is found where it stands, as it is when the same bytes are split into lines, and
/// neither report shows it.
#[test]
fn a_secret_after_a_long_line_of_keywords_is_found_as_on_short_lines() {
    let d = tempfile::tempdir().unwrap();
    let secret = token(1);
    for (i, word) in ["token", "password", "secret"].into_iter().enumerate() {
        let flood = word.repeat((1 << 20) / word.len());
        let line = format!("{flood} GITHUB_TOKEN={secret}\n");
        let split = format!("{}\nGITHUB_TOKEN={secret}\n", flood.replace(word, "\n"));
        fs::write(d.path().join(format!("line{i}.txt")), &line).unwrap();
        fs::write(d.path().join(format!("split{i}.txt")), &split).unwrap();
        for (file, column) in [
            (format!("line{i}.txt"), flood.len() + 15),
            (format!("split{i}.txt"), 14),
        ] {
            let r = run_in(d.path(), &["scan", file.as_str(), "-f", "json"], None);
            assert_eq!(r.code, 1, "{file}: {}", r.stderr);
            assert!(!r.stdout.contains(&secret) && !r.stderr.contains(&secret));
            let doc = common::json(&r.stdout);
            let found: Vec<_> = doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["rule_id"] == "github-pat-classic")
                .collect();
            assert_eq!(found.len(), 1, "{file}: {}", r.stdout);
            assert_eq!(found[0]["column"], column, "{file}");
        }
    }
}
