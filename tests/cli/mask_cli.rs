//! End-to-end tests of `unleak mask` through the real binary.

use crate::common;

use common::{repo_root, run_in};
use unleak_rules::generate::{generate, Rng};
use unleak_testkit::base64;

#[test]
fn a_piped_log_comes_out_masked_and_otherwise_unchanged() {
    let log = std::fs::read(repo_root().join("fixtures/positive/logs/build.log")).unwrap();
    let r = run_in(&repo_root(), &["mask"], Some(&log));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let input = String::from_utf8(log).unwrap();
    let (ins, outs): (Vec<_>, Vec<_>) = (input.lines().collect(), r.stdout.lines().collect());
    assert_eq!(ins.len(), outs.len());
    let changed: Vec<usize> = (0..ins.len()).filter(|&i| ins[i] != outs[i]).collect();
    // The planted bearer token, curl password and JWT are on lines 4, 6 and 8.
    assert_eq!(changed, vec![3, 5, 7], "{}", r.stdout);
    assert!(outs[3].contains("Authorization: Bearer …(redacted)"));
}

#[test]
fn the_wrapped_command_exit_code_and_both_streams() {
    let script = "echo 'password=Zq8r!Lm2Tv0XwKa1q'; echo 'secret: Zq8r!Lm2Tv0XwKa1q' >&2; exit 7";
    let r = run_in(&repo_root(), &["mask", "--", "sh", "-c", script], None);
    assert_eq!(r.code, 7);
    assert!(!r.stdout.contains("Zq8r!Lm2Tv0XwKa1q") && r.stdout.contains("password="));
    assert!(!r.stderr.contains("Zq8r!Lm2Tv0XwKa1q") && r.stderr.contains("secret:"));
}

#[test]
fn literal_values_from_the_environment_are_masked() {
    let mut c = common::unleak();
    let out = c
        .args([
            "mask",
            "--literal-from-env",
            "DEPLOY_TOKEN",
            "--",
            "sh",
            "-c",
        ])
        .arg("echo \"deploying with $DEPLOY_TOKEN\"; printf %s \"$DEPLOY_TOKEN\" | base64")
        .env("DEPLOY_TOKEN", "plain-looking-value-42")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(!stdout.contains("plain-looking-value-42"), "{stdout}");
    assert!(
        !stdout.contains("cGxhaW4tbG9va2luZy12YWx1ZS00Mg"),
        "{stdout}"
    );
    let missing = run_in(
        &repo_root(),
        &["mask", "--literal-from-env", "NO_SUCH_VAR_X"],
        Some(b""),
    );
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("NO_SUCH_VAR_X"));
}

// Audit B8: `unleak mask` must mask what `unleak scan` finds. The audit's reproductions,
// with generated `ghp_` tokens (fake: random body, valid CRC32).

/// A GitHub classic token with a valid checksum.
fn github_token(seed: u64) -> String {
    generate("crc32:ghp_", &mut Rng::new(0x6d61_736b_0000 + seed)).unwrap()
}

/// Wrapped at 76 columns, as `base64` prints by default.
fn base64_wrapped(data: &[u8]) -> String {
    base64(data)
        .as_bytes()
        .chunks(76)
        .map(|line| format!("{}\n", std::str::from_utf8(line).unwrap()))
        .collect()
}

/// The first `n`-character piece of `secret` that occurs in `out`.
fn leaked_piece(out: &str, secret: &str, n: usize) -> Option<String> {
    (0..=secret.len() - n)
        .map(|i| &secret[i..i + n])
        .find(|piece| out.contains(piece))
        .map(str::to_string)
}

#[test]
fn bare_base64_is_masked_where_scan_finds_it_decoded() {
    for (seed, text) in [(1, "GITHUB_TOKEN="), (2, "x-access-token:")] {
        let token = github_token(seed);
        let encoded = base64(format!("{text}{token}").as_bytes());
        let scan = run_in(
            &repo_root(),
            &["scan", "-", "-f", "json"],
            Some(encoded.as_bytes()),
        );
        assert_eq!(scan.code, 1, "{}", scan.stderr);
        let findings = common::json(&scan.stdout)["findings"].clone();
        assert_eq!(findings[0]["decoded"][0], "base64", "{}", scan.stdout);

        let r = run_in(&repo_root(), &["mask"], Some(encoded.as_bytes()));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(leaked_piece(&r.stdout, &encoded, 8), None, "{}", r.stdout);
        assert!(r.stdout.starts_with("ghp_…"), "{}", r.stdout);
    }
}

#[cfg(unix)]
#[test]
fn grep_colour_output_is_masked_and_keeps_its_colours() {
    let dir = tempfile::tempdir().unwrap();
    let token = github_token(3);
    let file = dir.path().join("f");
    std::fs::write(&file, format!("GITHUB_TOKEN={token}\n")).unwrap();
    for literal in [false, true] {
        let mut c = common::unleak();
        c.arg("mask");
        if literal {
            c.args(["--literal-from-env", "T"]).env("T", &token);
        }
        let out = c
            .args(["--", "grep", "--color=always", "ghp_"])
            .arg(&file)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}");
        assert!(
            stdout.contains("\x1b["),
            "grep coloured its output: {stdout:?}"
        );
        assert_eq!(leaked_piece(&stdout, &token[4..], 6), None, "{stdout:?}");
        assert!(stdout.starts_with("GITHUB_TOKEN="), "{stdout:?}");
    }
}

#[test]
fn the_base64_of_a_literal_wrapped_at_76_columns_is_masked() {
    let token = github_token(4);
    // `printf '{"auths":{"ghcr.io":{"auth":"user:%s"}}}' "$T" | base64`, with user names
    // that put the value at each of the three byte offsets of a base64 group.
    for user in ["user", "users", "userss", "u"] {
        let json = format!("{{\"auths\":{{\"ghcr.io\":{{\"auth\":\"{user}:{token}\"}}}}}}");
        let input = base64_wrapped(json.as_bytes());
        let at = json.find(&token).unwrap();
        let core = &base64(json.as_bytes())[(8 * at).div_ceil(6)..8 * (at + token.len()) / 6];
        let out = common::unleak()
            .args(["mask", "--literal-from-env", "T"])
            .env("T", &token)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut child| {
                use std::io::Write;
                child.stdin.take().unwrap().write_all(input.as_bytes())?;
                child.wait_with_output()
            })
            .unwrap();
        assert!(out.status.success());
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(stdout.lines().count(), input.lines().count());
        let joined: String = stdout.lines().collect();
        assert_eq!(leaked_piece(&joined, core, 8), None, "{user}: {stdout}");
    }
}

/// The writer pauses inside a token on a line over 64 KiB, after 65535 `a`s and a `/`
/// (no separator for the old cut to find): no prefix of the token may come out.
#[test]
fn a_long_line_written_in_two_parts_shows_no_prefix_of_the_token() {
    use std::io::{Read, Write};
    let token = github_token(5);
    let head = "a".repeat(65535);
    for literal in [false, true] {
        for cut in [34, 36, 39] {
            let mut c = common::unleak();
            c.arg("mask");
            if literal {
                c.args(["--literal-from-env", "T"]).env("T", &token);
            }
            let mut child = c
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap();
            let mut stdin = child.stdin.take().unwrap();
            let mut stdout = child.stdout.take().unwrap();
            let reader = std::thread::spawn(move || {
                let mut out = String::new();
                stdout.read_to_string(&mut out).unwrap();
                out
            });
            stdin
                .write_all(format!("{head}/{}", &token[..cut]).as_bytes())
                .unwrap();
            stdin.flush().unwrap();
            // Give unleak time to read the first part on its own.
            std::thread::sleep(std::time::Duration::from_millis(100));
            stdin
                .write_all(format!("{}/\n", &token[cut..]).as_bytes())
                .unwrap();
            drop(stdin);
            let out = reader.join().unwrap();
            assert!(child.wait().unwrap().success());
            assert_eq!(leaked_piece(&out, &token[4..], 6), None, "cut at {cut}");
            assert!(out.starts_with(&format!("{head}/")) && out.ends_with("/\n"));
        }
    }
}

/// What held in the audit must keep holding: CR progress lines, NUL, no final newline,
/// URL userinfo, percent-encoding, a Kubernetes Secret's base64, a docker config `auth`,
/// and stderr.
#[cfg(unix)]
#[test]
fn what_held_in_the_audit_still_holds() {
    let token = github_token(6);
    let password = "Zq8rLm2Tv0XwKa1qP9";
    let percent: String = format!("pw={token}&x=1")
        .bytes()
        .map(|b| match b {
            b'=' | b'&' => format!("%{b:02X}"),
            _ => (b as char).to_string(),
        })
        .collect();
    let input = format!(
        "clone https://user:{password}@db.example.com/x\n\
         progress 10%\rprogress 20% token={token}\r\
         nul\0{token}\0x\n\
         q={percent}\n\
         data:\n  token: {}\n\
         {{\"auths\":{{\"ghcr.io\":{{\"auth\":\"{}\"}}}}}}\n\
         last GITHUB_TOKEN={token}",
        base64(token.as_bytes()),
        base64(format!("user:{token}").as_bytes()),
    );
    let r = run_in(&repo_root(), &["mask"], Some(input.as_bytes()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        leaked_piece(&r.stdout, &token[4..], 6),
        None,
        "{}",
        r.stdout
    );
    assert_eq!(leaked_piece(&r.stdout, password, 6), None, "{}", r.stdout);
    for encoded in [
        base64(token.as_bytes()),
        base64(format!("user:{token}").as_bytes()),
    ] {
        assert_eq!(
            leaked_piece(&r.stdout, &encoded[8..], 8),
            None,
            "{}",
            r.stdout
        );
    }
    for byte in ['\n', '\r', '\0'] {
        assert_eq!(r.stdout.matches(byte).count(), input.matches(byte).count());
    }
    assert!(
        r.stdout.starts_with("clone https://user:") && r.stdout.contains("@db.example.com/x\n")
    );
    assert!(
        r.stdout.ends_with(" chars)"),
        "no newline is added at the end"
    );

    let script = format!("printf 'err GITHUB_TOKEN=%s\\n' {token} >&2");
    let r = run_in(&repo_root(), &["mask", "--", "sh", "-c", &script], None);
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.starts_with("err GITHUB_TOKEN=ghp_…"),
        "{}",
        r.stderr
    );
    assert_eq!(
        leaked_piece(&r.stderr, &token[4..], 6),
        None,
        "{}",
        r.stderr
    );
}
