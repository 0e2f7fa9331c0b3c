//! End-to-end tests of `unleak mask` through the real binary.

mod common;

use common::{repo_root, run_in};

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
