//! Repository configuration, rule files and baselines as an attacker writes them (the
//! security audit's B1, B5 items 2-3, B6 and B7): they cannot make unleak read outside the
//! repository, hang, exhaust memory, or print what they read, and the text they carry
//! reaches no terminal or CI log unescaped.
//!
//! Every run goes through [`bounded`]: a hang fails the test instead of stalling the suite,
//! and an unbounded read fails on the address-space limit instead of exhausting the
//! machine.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use unleak_rules::generate::{generate, Rng};
use unleak_testkit::{rules, Run};

/// A GitHub classic token with a valid checksum, so the built-in rule fires on it.
fn token(seed: u64) -> String {
    generate("crc32:ghp_", &mut Rng::new(0x05ec_0f16 + seed)).unwrap()
}

/// A value of the test rule's shape (`acme_` and 24 lower-case letters or digits).
fn acme(seed: u64) -> String {
    generate("'acme_'+lowernum:24", &mut Rng::new(0xac3e + seed)).unwrap()
}

/// The test rule: `acme_` and 24 lower-case letters or digits.
fn acme_rule() -> String {
    rules::prefix_rule("acme-token", "Acme token", "acme_")
}

/// What the child's standard input is.
enum Input {
    Null,
    /// A pipe that stays open and never delivers a byte: a reader blocks on it forever.
    OpenPipe,
}

/// Run the real binary in `dir` with a 2 GiB address-space limit and a generous deadline.
/// Past the deadline the child is killed and the test fails as hung: the deadline is a
/// harness guard, far above any normal run, not a measurement.
fn bounded(dir: &Path, args: &[&str], env: &[(&str, &str)], input: Input) -> Run {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("ulimit -v 2097152 2>/dev/null; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_unleak"))
        .args(args)
        .current_dir(dir)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdin(match input {
        Input::Null => Stdio::null(),
        Input::OpenPipe => Stdio::piped(),
    });
    let mut child = c.spawn().unwrap();
    let held_stdin = child.stdin.take();
    let (out, err) = (drain(&mut child, true), drain(&mut child, false));
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("unleak {args:?} hung (killed after the harness deadline)");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(held_stdin);
    Run {
        code: status.code().unwrap_or(-1),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

fn drain(child: &mut Child, stdout: bool) -> std::thread::JoinHandle<String> {
    let mut pipe: Box<dyn Read + Send> = if stdout {
        Box::new(child.stdout.take().unwrap())
    } else {
        Box::new(child.stderr.take().unwrap())
    };
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

fn run(dir: &Path, args: &[&str]) -> Run {
    bounded(dir, args, &[], Input::Null)
}

/// A temp dir holding `repo/` (the scanned repository, with one clean file) beside files a
/// hostile configuration would like to reach.
fn workspace() -> (tempfile::TempDir, std::path::PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    fs::create_dir(&repo).unwrap();
    fs::write(repo.join("README"), "nothing here\n").unwrap();
    (d, repo)
}

fn assert_absent(what: &str, out: &str, values: &[&str]) {
    for v in values {
        assert!(!out.contains(v), "{what} holds `{v}`:\n{out}");
    }
}

/// No raw control character, no line a CI runner would take as a workflow command.
fn assert_inert(what: &str, out: &str) {
    for c in out.chars() {
        assert!(
            c == '\n'
                || c == '\t'
                || !(c.is_control()
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c)),
            "{what} holds the raw character {:?}:\n{out}",
            c
        );
    }
    for line in out.lines() {
        assert!(
            !line.trim_start().starts_with("::"),
            "{what} has a line starting with `::`: {line:?}"
        );
    }
    assert!(!out.contains("##["), "{what} holds `##[`:\n{out}");
}

/// The audit's B1: `[rules] extra = ["/proc/self/environ"]` printed the CI job's
/// environment in a TOML parse error.
#[cfg(target_os = "linux")]
#[test]
fn b1_a_config_naming_proc_self_environ_prints_no_environment() {
    let (_d, repo) = workspace();
    fs::write(
        repo.join(".unleak.toml"),
        "[rules]\nextra = [\"/proc/self/environ\"]\n",
    )
    .unwrap();
    let tok = token(1);
    let other = "b1-other-env-value-7Hq2";
    for args in [&["scan", "."][..], &["guard", "."], &["baseline", "create"]] {
        let r = bounded(
            &repo,
            args,
            &[("GITHUB_TOKEN", &tok), ("DEPLOY_NOTE", other)],
            Input::Null,
        );
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert_absent(
            "B1 output",
            &r.all(),
            &[&tok, &tok[4..], other, "DEPLOY_NOTE"],
        );
        assert!(
            r.stderr.contains(".unleak.toml") && r.stderr.contains("`rules.extra[0]`"),
            "{args:?}: the error names neither the file nor the key: {}",
            r.stderr
        );
    }
}

/// `extra` may only name files inside the directory holding the configuration: not by an
/// absolute path, not by `..`, not through a committed symbolic link.
#[cfg(unix)]
#[test]
fn extra_rule_paths_outside_the_repository_are_refused() {
    let (d, repo) = workspace();
    let victim_value = "hunter2-victim-value-Qm81";
    fs::write(
        d.path().join("victim.env"),
        format!("DB_PASSWORD={victim_value}\n"),
    )
    .unwrap();
    // A valid rule file outside: loading it would succeed, so only confinement stops it.
    fs::write(d.path().join("outside.toml"), acme_rule()).unwrap();
    fs::create_dir(repo.join("ci")).unwrap();
    std::os::unix::fs::symlink("../../outside.toml", repo.join("ci/linked.toml")).unwrap();
    std::os::unix::fs::symlink("..", repo.join("up")).unwrap();
    let abs = d.path().join("victim.env").display().to_string();
    let cases = [
        "../victim.env".to_string(),
        abs,
        "ci/linked.toml".into(),
        "ci".into(),
        "up/outside.toml".into(),
        "ci/../../victim.env".into(),
    ];
    for extra in cases {
        fs::write(
            repo.join(".unleak.toml"),
            format!("# rules\n[rules]\nextra = [\"rules\", {extra:?}]\n"),
        )
        .unwrap();
        fs::create_dir_all(repo.join("rules")).unwrap();
        fs::write(
            repo.join("rules/own.toml"),
            acme_rule().replace("acme-token", "own-token"),
        )
        .unwrap();
        let r = run(&repo, &["scan", "."]);
        assert_eq!(r.code, 2, "{extra}: {}", r.all());
        assert_absent("refusal", &r.all(), &[victim_value]);
        assert!(
            r.stderr.contains(".unleak.toml") && r.stderr.contains("`rules.extra[1]`"),
            "{extra}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("outside"), "{extra}: {}", r.stderr);
    }
}

/// A committed `.unleak.toml` or baseline that is a link to `/dev/zero` read until the
/// machine ran out of memory; one to `/dev/stdin` or a FIFO hung. Each is refused at once.
#[cfg(unix)]
#[test]
fn settings_files_that_are_devices_fifos_or_stdin_are_refused_at_once() {
    for target in ["/dev/zero", "/dev/stdin", "/dev/urandom"] {
        let (_d, repo) = workspace();
        std::os::unix::fs::symlink(target, repo.join(".unleak.toml")).unwrap();
        // Discovered, the link leads out of the repository; named by the user, it is still
        // no regular file.
        for (args, why) in [
            (&["scan", "."][..], &["outside", "not a regular file"][..]),
            (
                &["scan", ".", "--config", ".unleak.toml"],
                &["not a regular file"],
            ),
        ] {
            let r = bounded(&repo, args, &[], Input::OpenPipe);
            assert_eq!(r.code, 2, "{target} {args:?}: {}", r.all());
            assert!(
                r.stderr.contains(".unleak.toml") && why.iter().any(|w| r.stderr.contains(w)),
                "{target} {args:?}: {}",
                r.stderr
            );
        }
    }

    let (_d, repo) = workspace();
    let fifo = repo.join(".unleak-baseline.json");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for args in [
        &["guard", "."][..],
        &["guard", ".", "--baseline", ".unleak-baseline.json"],
        &["baseline", "create"],
    ] {
        let r = bounded(&repo, args, &[], Input::OpenPipe);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(
            r.stderr.contains(".unleak-baseline.json") && r.stderr.contains("a FIFO"),
            "{args:?}: {}",
            r.stderr
        );
    }

    let (_d, repo) = workspace();
    std::os::unix::fs::symlink("/dev/stdin", repo.join("r.toml")).unwrap();
    let r = bounded(
        &repo,
        &["scan", ".", "--rules", "r.toml"],
        &[],
        Input::OpenPipe,
    );
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains("r.toml") && r.stderr.contains("not a regular file"),
        "{}",
        r.stderr
    );
}

/// Settings files are capped in size: a config past the cap is refused by name.
#[test]
fn an_oversized_config_is_refused_naming_the_cap() {
    let (_d, repo) = workspace();
    let mut text = String::from("[allow]\n");
    while text.len() <= 2 << 20 {
        text.push_str("# padding padding padding padding padding padding padding padding\n");
    }
    fs::write(repo.join(".unleak.toml"), text).unwrap();
    let r = run(&repo, &["scan", "."]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(
        r.stderr.contains(".unleak.toml") && r.stderr.contains("larger than the limit of 1 MiB"),
        "{}",
        r.stderr
    );
}

/// A malformed config, rule file or baseline whose offending line holds a secret: the
/// error gives the file, line and column, never the line's text.
#[test]
fn parse_errors_give_file_line_and_column_but_no_text() {
    let (_d, repo) = workspace();
    let tok = token(2);
    let body = &tok[4..];
    let configs = [
        // Schema errors quote the value in serde's own words.
        (
            format!("[rules]\ndisable = \"{tok}\"\n"),
            ":2:11",
            Some("`rules.disable`"),
        ),
        (
            format!("[rules.override.github-pat-classic]\nconfidence = \"{tok}\"\n"),
            ":2:14",
            Some("`rules.override.github-pat-classic.confidence`"),
        ),
        // Syntax errors: the toml crate's Display quotes the line.
        (format!("[allow]\nstopwords = [{tok}]\n"), ":2:14", None),
        (format!("{tok}\n"), ":1:", None),
    ];
    for (text, place, key) in configs {
        fs::write(repo.join(".unleak.toml"), &text).unwrap();
        let r = run(&repo, &["scan", "."]);
        assert_eq!(r.code, 2, "{text}: {}", r.all());
        assert_absent("config error", &r.all(), &[&tok, body]);
        assert!(
            r.stderr.contains(&format!(".unleak.toml{place}")),
            "{text}: {}",
            r.stderr
        );
        if let Some(key) = key {
            assert!(r.stderr.contains(key), "{text}: {}", r.stderr);
        }
    }
    fs::remove_file(repo.join(".unleak.toml")).unwrap();

    let rules = [
        (format!("[[rules]]\nid = \"x-y\"\nname = {tok}\n"), ":3:8"),
        (
            format!("[[rules]]\nid = \"x-y\"\nname = \"n\"\nkeywords = \"{tok}\"\n"),
            ":4:12",
        ),
    ];
    for (text, place) in rules {
        fs::write(repo.join("bad.toml"), &text).unwrap();
        let r = run(&repo, &["scan", ".", "--rules", "bad.toml"]);
        assert_eq!(r.code, 2, "{text}: {}", r.all());
        assert_absent("rule file error", &r.all(), &[&tok, body]);
        assert!(
            r.stderr.contains(&format!("bad.toml{place}")),
            "{text}: {}",
            r.stderr
        );
    }
    fs::remove_file(repo.join("bad.toml")).unwrap();

    let key = "ab".repeat(32);
    let baselines = [
        format!("{{\"version\": 2, \"key\": \"{key}\",\n \"entries\": \"{tok}\"}}"),
        format!("{{\"version\": 2, \"key\": \"{key}\",\n \"entries\": [{tok}]}}"),
    ];
    for text in baselines {
        fs::write(repo.join(".unleak-baseline.json"), &text).unwrap();
        let r = run(&repo, &["guard", "."]);
        assert_eq!(r.code, 2, "{text}: {}", r.all());
        assert_absent("baseline error", &r.all(), &[&tok, body]);
        assert!(
            r.stderr.contains(".unleak-baseline.json:2:"),
            "{text}: {}",
            r.stderr
        );
    }
}

/// The audit's B6: config keys and rule text with ESC, BEL, CR, LF, bidi overrides and
/// workflow commands reached the terminal and the CI log raw.
#[test]
fn hostile_text_in_config_keys_and_rules_is_escaped_everywhere() {
    let (_d, repo) = workspace();
    fs::write(
        repo.join(".unleak.toml"),
        "[allow]\n\"\\u001b[2J\\u001b]0;pwn\\u0007\\n::error::from-config-key\\r##[warning]x\\u202e\" = 1\n",
    )
    .unwrap();
    let r = run(&repo, &["scan", "."]);
    assert_eq!(r.code, 2, "{}", r.all());
    assert!(r.stderr.contains("\\x1b[2J"), "{}", r.stderr);
    assert_inert("config key error", &r.all());
    fs::remove_file(repo.join(".unleak.toml")).unwrap();

    let bad_id = acme_rule().replace(
        "id = \"acme-token\"",
        "id = \"x\\u001b[2J\\n::error::from-rule-id\"",
    );
    let bad_regex = acme_rule().replace(
        r"regex = '''\b(?P<secret>acme_[a-z0-9]{24})\b'''",
        "regex = \"(\\u001b[2J\\n::error::from-regex ##[error]\"",
    );
    for text in [bad_id, bad_regex] {
        fs::write(repo.join("bad.toml"), &text).unwrap();
        let r = run(&repo, &["scan", ".", "--rules", "bad.toml"]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert_inert("rule error", &r.all());
        let r = run(&repo, &["rules", "check", "--rules", "bad.toml"]);
        assert_eq!(r.code, 2, "{}", r.all());
        assert_inert("rules check", &r.all());
    }

    let hostile = acme_rule()
        .replace(
            "name = \"Acme token\"",
            "name = \"Esc \\u001b[2J\\u001b]0;pwned\\u0007 token\\n::error::from-name\"\n\
             description = \"line1\\n::error::from-description\\n  ::warning::indented\\r##[error]legacy \\u2066bidi\"\n\
             tags = [\"t\\n::add-mask::x\"]\n\
             references = [\"https://e.example/\\u001b]8;;x\\u0007\"]",
        )
        .replace("keywords = [\"acme_\"]", "keywords = [\"acme_\", \"x\\n::error::kw\"]");
    fs::write(repo.join("hostile.toml"), hostile).unwrap();
    for args in [
        &["rules", "list", "--rules", "hostile.toml"][..],
        &["rules", "list", "--json", "--rules", "hostile.toml"],
        &["rules", "explain", "acme-token", "--rules", "hostile.toml"],
    ] {
        let r = run(&repo, args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.all());
        assert_inert(&format!("{args:?}"), &r.all());
        assert!(r.stdout.contains("acme-token"), "{args:?}: {}", r.stdout);
    }
}

/// The audit's B7: `rules explain` printed a user rule's examples, and so the real token a
/// user had pasted there, without `--show-secrets`.
#[test]
fn rules_explain_shows_no_secret_without_show_secrets() {
    let (_d, repo) = workspace();
    let (own, other, third) = (acme(1), token(3), acme(2));
    let rule = acme_rule().replace(
        "confidence = \"high\"",
        &format!(
            "confidence = \"high\"\n\
             description = \"Found like {third} in our configs\"\n\
             examples = [\"real one: {own}\"]\n\
             negative_examples = [\"not ours: {other}\", \"acme_short\"]"
        ),
    );
    fs::write(repo.join("my.toml"), rule).unwrap();
    let r = run(
        &repo,
        &["rules", "explain", "acme-token", "--rules", "my.toml"],
    );
    assert_eq!(r.code, 0, "{}", r.all());
    assert_absent(
        "rules explain",
        &r.all(),
        &[&own, &own[5..], &other, &other[4..], &third, &third[5..]],
    );
    assert!(r.stdout.contains("real one: acme_…"), "{}", r.stdout);
    assert!(r.stdout.contains("2 negative examples"), "{}", r.stdout);

    let shown = run(
        &repo,
        &[
            "rules",
            "explain",
            "acme-token",
            "--rules",
            "my.toml",
            "--show-secrets",
        ],
    );
    assert_eq!(shown.code, 0, "{}", shown.all());
    for v in [&own, &other, &third] {
        assert!(shown.stdout.contains(v.as_str()), "{}", shown.stdout);
    }

    // The built-in catalog's examples are templates; they are still shown.
    let builtin = run(&repo, &["rules", "explain", "github-pat-classic"]);
    assert_eq!(builtin.code, 0, "{}", builtin.all());
    assert!(
        builtin.stdout.contains("{{gen:crc32:ghp_}}"),
        "{}",
        builtin.stdout
    );
}
