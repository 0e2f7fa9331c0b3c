//! End-to-end tests of `unleak guard`, `unleak baseline` and `.unleak.toml` on git
//! repositories built by the tests.

use crate::guard_support;

use guard_support::{assert_no_secret, token, Repo, Run};
use std::collections::BTreeSet;

fn new_paths(run: &Run) -> Vec<String> {
    run.stdout
        .lines()
        .filter_map(|l| l.strip_prefix("NEW    "))
        .map(|l| l.split(':').next().unwrap().to_string())
        .collect()
}

fn baseline_paths(repo: &Repo) -> BTreeSet<String> {
    let doc: serde_json::Value = serde_json::from_str(&repo.read(".unleak-baseline.json")).unwrap();
    doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap().to_string())
        .collect()
}

/// Main with three known secrets and a committed baseline.
fn adopted_repo(secrets: &[String]) -> Repo {
    let repo = Repo::init();
    repo.write("a.env", format!("A=1\nGITHUB_TOKEN={}\n", secrets[0]));
    repo.write("conf/b.yaml", format!("deploy:\n  token: {}\n", secrets[1]));
    repo.write("c.txt", format!("TOKEN={}\n", secrets[2]));
    repo.write("README.md", "hello\n");
    repo.commit("start");
    let made = repo.unleak(&["baseline", "create"]);
    assert_eq!(made.code, 0, "{}{}", made.stdout, made.stderr);
    assert!(made.stdout.contains("3 entries"), "{}", made.stdout);
    repo.commit("adopt unleak");
    repo
}

#[test]
fn a_baseline_survives_moved_lines_renames_rebase_and_squash_and_catches_exactly_the_new_secret() {
    let secrets: Vec<String> = (0..5).map(token).collect();
    let repo = adopted_repo(&secrets);
    let mut outputs = vec![repo.read(".unleak-baseline.json")];
    let baseline_bytes = repo.read(".unleak-baseline.json");

    // Re-saving an unchanged baseline gives identical bytes.
    assert_eq!(repo.unleak(&["baseline", "create"]).code, 0);
    assert_eq!(repo.read(".unleak-baseline.json"), baseline_bytes);
    let update = repo.unleak(&["baseline", "update"]);
    assert!(update.stdout.contains("0 added"), "{}", update.stdout);
    assert_eq!(repo.read(".unleak-baseline.json"), baseline_bytes);

    // A feature branch: lines inserted above each secret, one file renamed with its
    // secret's line rewritten (so the moved-line rule alone would call it new).
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "a.env",
        format!("# header\nX=0\nA=1\nGITHUB_TOKEN={}\n", secrets[0]),
    );
    repo.write(
        "conf/b.yaml",
        format!("# deploy settings\n\ndeploy:\n  token: {}\n", secrets[1]),
    );
    repo.commit("shift lines");
    std::fs::create_dir_all(repo.dir.join("moved")).unwrap();
    repo.git(&["mv", "c.txt", "moved/c-renamed.sh"]);
    repo.write(
        "moved/c-renamed.sh",
        format!("#!/bin/sh\nexport TOKEN={}\n", secrets[2]),
    );
    repo.commit("rename");
    // Main moves on, then the branch is rebased onto it.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("README.md", "hello\nworld\n");
    repo.commit("docs");
    repo.git(&["checkout", "-q", "feature"]);
    repo.git(&["rebase", "-q", "main"]);

    for args in [
        &["guard", "--range", "main..feature"][..],
        &["guard"],
        &["guard", "--format", "json"],
    ] {
        let run = repo.unleak(args);
        assert_eq!(run.code, 0, "{args:?}:\n{}{}", run.stdout, run.stderr);
        outputs.push(run.all());
    }
    let tree = repo.unleak(&["guard"]);
    assert!(
        tree.stdout
            .contains("MOVED  moved/c-renamed.sh:2:14  github-pat-classic  from c.txt"),
        "{}",
        tree.stdout
    );
    let range = repo.unleak(&["guard", "--range", "main..feature", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&range.stdout).unwrap();
    assert_eq!(doc["counts"]["new"], 0);
    assert_eq!(doc["moved"][0]["from"], "c.txt");

    // Squash the branch into one commit: still nothing new.
    repo.git(&["reset", "-q", "--soft", "main"]);
    repo.git(&["commit", "-q", "--no-verify", "-m", "squashed"]);
    let squashed = repo.unleak(&["guard", "--range", "main..feature"]);
    assert_eq!(squashed.code, 0, "{}", squashed.stdout);

    // One new secret: the guard fails and names only it.
    repo.write(
        "new/service.env",
        format!("API=1\nGITHUB_TOKEN={}\n", secrets[3]),
    );
    repo.commit("add a service");
    for args in [&["guard", "--range", "main..feature"][..], &["guard"]] {
        let run = repo.unleak(args);
        assert_eq!(run.code, 1, "{args:?}:\n{}{}", run.stdout, run.stderr);
        assert_eq!(new_paths(&run), ["new/service.env"], "{}", run.stdout);
        outputs.push(run.all());
    }

    // A known secret copied to a new file while it still stands in its own: spread, new.
    repo.write("copy.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    repo.commit("copy");
    let spread = repo.unleak(&["guard", "--range", "HEAD~1..HEAD"]);
    assert_eq!(spread.code, 1, "{}", spread.stdout);
    assert_eq!(new_paths(&spread), ["copy.env"]);
    assert!(
        spread.stdout.contains("(spread: still at a.env)"),
        "{}",
        spread.stdout
    );
    outputs.push(spread.all());

    // Remove a secret: prune lists it (and follows the renamed one); the next prune is a
    // no-op with identical bytes.
    repo.git(&["rm", "-q", "copy.env", "new/service.env"]);
    repo.write("conf/b.yaml", "deploy: {}\n");
    repo.commit("remove");
    let prune = repo.unleak(&["baseline", "prune"]);
    assert_eq!(prune.code, 0, "{}{}", prune.stdout, prune.stderr);
    assert!(
        prune
            .stdout
            .contains("removed  conf/b.yaml  github-pat-classic"),
        "{}",
        prune.stdout
    );
    assert!(
        prune
            .stdout
            .contains("moved    c.txt -> moved/c-renamed.sh"),
        "{}",
        prune.stdout
    );
    assert!(
        prune.stdout.contains("1 removed, 1 moved, 2 entries"),
        "{}",
        prune.stdout
    );
    outputs.push(prune.all());
    assert_eq!(
        baseline_paths(&repo),
        BTreeSet::from(["a.env".to_string(), "moved/c-renamed.sh".to_string()])
    );
    let pruned = repo.read(".unleak-baseline.json");
    assert!(repo
        .unleak(&["baseline", "prune"])
        .stdout
        .contains("0 removed, 0 moved"));
    assert_eq!(repo.read(".unleak-baseline.json"), pruned);
    outputs.push(pruned);

    for out in outputs {
        assert_no_secret("guard/baseline output", &out, &secrets);
    }
}

#[test]
fn staged_guard_blocks_a_new_secret_and_passes_a_moved_one() {
    let secrets: Vec<String> = (10..14).map(token).collect();
    let repo = adopted_repo(&secrets);
    let summary = repo.scratch.join("summary.md");

    // Move a known secret's file and rewrite its line: a move, not new.
    repo.git(&["mv", "c.txt", "d.txt"]);
    repo.write("d.txt", format!("# moved\nTOKEN = {}\n", secrets[2]));
    repo.git(&["add", "d.txt"]);
    let moved = repo.unleak(&["guard", "--staged"]);
    assert_eq!(moved.code, 0, "{}{}", moved.stdout, moved.stderr);
    assert!(
        moved.stdout.contains("MOVED  d.txt:2:9"),
        "{}",
        moved.stdout
    );

    // Copy one while its file stays in the index: spread, new.
    repo.write("e.txt", format!("{}\n", secrets[1]));
    repo.git(&["add", "e.txt"]);
    let spread = repo.unleak_env(&["guard", "--staged"], &[("GITHUB_STEP_SUMMARY", &summary)]);
    assert_eq!(spread.code, 1, "{}", spread.stdout);
    assert_eq!(new_paths(&spread), ["e.txt"]);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.starts_with("## unleak guard: ❌ 1 new secret(s)"),
        "{md}"
    );
    assert!(md.contains("| e.txt | 1 | github-pat-classic | ghp\\_…\\(40 chars\\) | high | spread: still at conf/b.yaml |"), "{md}");
    assert!(md.contains("### What to do next"), "{md}");
    repo.git(&["rm", "-q", "--cached", "e.txt"]);

    // An unstaged secret is not the commit's business.
    repo.write("f.txt", format!("{}\n", secrets[3]));
    assert_eq!(repo.unleak(&["guard", "--staged"]).code, 0);
    for out in [moved.all(), spread.all(), md] {
        assert_no_secret("staged guard output", &out, &secrets);
    }
}

#[test]
fn inline_ignores_allowlists_and_fail_on() {
    let secrets: Vec<String> = (20..24).map(token).collect();
    let repo = Repo::init();
    repo.write(
        "app.env",
        format!("TOKEN={} # unleak:allow (rotated test token)\n", secrets[0]),
    );
    repo.write("fixtures/sample.env", format!("TOKEN={}\n", secrets[1]));
    repo.write("docs.md", format!("example: {}\n", secrets[2]));
    repo.write(
        ".unleak.toml",
        format!(
            "[allow]\npaths = [\"fixtures/\"]\nregexes = ['^{}']\n",
            &secrets[2][..12]
        ),
    );
    repo.commit("start");

    let pass = repo.unleak(&["guard", "--format", "json"]);
    assert_eq!(pass.code, 0, "{}{}", pass.stdout, pass.stderr);
    let doc: serde_json::Value = serde_json::from_str(&pass.stdout).unwrap();
    let reasons: Vec<String> = doc["allowed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{} {}",
                a["path"].as_str().unwrap(),
                a["reason"]["kind"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "app.env inline",
            "docs.md regex",
            "fixtures/sample.env path"
        ]
    );

    // CI refuses inline ignores on high-confidence rules.
    let strict = repo.unleak(&["guard", "--no-inline-ignore=high"]);
    assert_eq!(strict.code, 1, "{}", strict.stdout);
    assert_eq!(new_paths(&strict), ["app.env"]);
    // `scan` honours the same configuration and flag.
    assert_eq!(repo.unleak(&["scan", "."]).code, 0);
    assert_eq!(repo.unleak(&["scan", ".", "--no-inline-ignore"]).code, 1);

    // --fail-on: a new high finding fails at high, and `none` only reports it.
    repo.write("new.env", format!("T={}\n", secrets[3]));
    assert_eq!(repo.unleak(&["guard", "--fail-on", "high"]).code, 1);
    let report_only = repo.unleak(&["guard", "--fail-on", "none"]);
    assert_eq!(report_only.code, 0);
    assert_eq!(new_paths(&report_only), ["new.env"]);
    for out in [pass.all(), strict.all(), report_only.all()] {
        assert_no_secret("guard output", &out, &secrets);
    }
}

#[test]
fn config_and_baseline_errors_exit_2_naming_file_line_and_key() {
    let repo = Repo::init();
    repo.write("a.txt", "nothing\n");
    let cases = [
        ("[allow]\npaths = [\"a\"\n", ":2", None),
        (
            "[allow]\npaths = []\n\n[rules]\nextra_rules = []\n",
            ":5",
            Some("`rules.extra_rules`"),
        ),
        (
            "[rules]\ndisable = \"generic\"\n",
            ":2",
            Some("`rules.disable`"),
        ),
        (
            "[rules.override.github-pat-classic]\nconfidence = 3\n",
            ":2",
            Some("`rules.override.github-pat-classic.confidence`"),
        ),
        (
            "[rules]\ndisable = [\"no-such-rule\"]\n",
            "",
            Some("`no-such-rule`"),
        ),
    ];
    for (text, line, key) in cases {
        repo.write(".unleak.toml", text);
        for args in [&["guard"][..], &["scan", "."], &["baseline", "create"]] {
            let run = repo.unleak(args);
            assert_eq!(
                run.code, 2,
                "{args:?} {text:?}: {}{}",
                run.stdout, run.stderr
            );
            assert!(
                run.stderr.contains(&format!(".unleak.toml{line}")),
                "{text:?}: {}",
                run.stderr
            );
            if let Some(key) = key {
                assert!(run.stderr.contains(key), "{text:?}: {}", run.stderr);
            }
        }
    }
    std::fs::remove_file(repo.dir.join(".unleak.toml")).unwrap();
    let given = repo.unleak(&["guard", "--config", "missing.toml"]);
    assert_eq!(given.code, 2);
    assert!(given.stderr.contains("missing.toml"), "{}", given.stderr);

    // A malformed baseline or one from a newer unleak stops the guard.
    repo.write(".unleak-baseline.json", "{\"version\": 1, \"key\": ");
    let bad = repo.unleak(&["guard"]);
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr
            .contains("malformed baseline .unleak-baseline.json:1"),
        "{}",
        bad.stderr
    );
    repo.write(
        ".unleak-baseline.json",
        "{\"version\": 4, \"key\": \"\", \"entries\": [], \"more\": 1}",
    );
    let newer = repo.unleak(&["baseline", "update"]);
    assert_eq!(newer.code, 2);
    assert!(
        newer
            .stderr
            .contains("baseline .unleak-baseline.json has format version 4"),
        "{}",
        newer.stderr
    );
}

#[test]
fn crafted_file_names_inject_nothing_into_annotations_or_the_summary() {
    let repo = Repo::init();
    let names = [
        "ansi\u{1b}[31mred\u{1b}[0m.env",
        "new\nline::error file=x::pwned.env",
        "percent%0A::warning::x.env",
        "pipe|<img src=x onerror=alert(1)>`code`.env",
    ];
    let secrets: Vec<String> = (30..34).map(token).collect();
    for (name, secret) in names.iter().zip(&secrets) {
        std::fs::write(repo.dir.join(name), format!("T={secret}\n")).unwrap();
    }
    let summary = repo.scratch.join("summary.md");
    let run = repo.unleak_env(
        &["guard", "--format", "github"],
        &[("GITHUB_STEP_SUMMARY", &summary)],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let commands: Vec<&str> = run.stdout.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), 4, "{}", run.stdout);
    for c in &commands {
        assert!(c.starts_with("::error file="), "{c}");
        // Exactly one `::` separator after the command: the file name cannot add one.
        assert_eq!(c.matches("::").count(), 2, "{c}");
    }
    assert!(commands
        .iter()
        .any(|c| c.contains("file=new%0Aline%3A%3Aerror file=x%3A%3Apwned.env,")));
    assert!(commands
        .iter()
        .any(|c| c.contains("file=percent%250A%3A%3Awarning%3A%3Ax.env,")));
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    // No other line of the log can start a workflow command either.
    assert!(!run.stdout.contains("\n::warning") && !run.stdout.contains("\nline::"));

    let md = std::fs::read_to_string(&summary)
        .unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    assert!(!md.contains('\u{1b}') && !md.contains("<img"), "{md}");
    let rows: Vec<&str> = md
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains("github-pat-classic"))
        .collect();
    assert_eq!(rows.len(), 4, "{md}");
    for row in &rows {
        // Six cells: seven unescaped pipes.
        let unescaped = row.replace("\\|", "");
        assert_eq!(unescaped.matches('|').count(), 7, "{row}");
    }
    assert!(
        md.contains("pipe\\|&lt;img src=x onerror=alert\\(1\\)&gt;\\`code\\`.env"),
        "{md}"
    );
    assert_no_secret("annotations", &run.all(), &secrets);
    assert_no_secret("summary", &md, &secrets);
}

#[test]
fn branches_that_each_add_an_entry_merge_without_conflict() {
    let secrets: Vec<String> = (40..45).map(token).collect();
    let repo = adopted_repo(&secrets);
    repo.git(&["checkout", "-q", "-b", "one"]);
    repo.write("b1.env", format!("T={}\n", secrets[3]));
    assert_eq!(repo.unleak(&["baseline", "update"]).code, 0);
    repo.commit("one adds a secret");
    repo.git(&["checkout", "-q", "main"]);
    repo.git(&["checkout", "-q", "-b", "two"]);
    repo.write("x9.env", format!("T={}\n", secrets[4]));
    assert_eq!(repo.unleak(&["baseline", "update"]).code, 0);
    repo.commit("two adds a secret");
    repo.git(&["merge", "-q", "--no-edit", "one"]);
    let merged = repo.read(".unleak-baseline.json");
    assert!(!merged.contains("<<<<<<<"));
    assert_eq!(baseline_paths(&repo).len(), 5);
    // The merged file is exactly what unleak itself would write.
    assert_eq!(repo.unleak(&["baseline", "create"]).code, 0);
    assert_eq!(repo.read(".unleak-baseline.json"), merged);
    assert_eq!(repo.unleak(&["guard"]).code, 0);
}

#[test]
fn a_baseline_with_another_key_gets_a_hint() {
    let secrets = [token(40), token(41)];
    let repo = Repo::init();
    repo.write("a.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    repo.write("b.env", format!("GITHUB_TOKEN={}\n", secrets[1]));
    repo.commit("start");
    assert_eq!(repo.unleak(&["baseline", "create"]).code, 0);
    assert_eq!(repo.unleak(&["guard"]).code, 0);
    // The same entries under another key (copied from another repository's baseline, or
    // a key regenerated by hand).
    let mut doc: serde_json::Value =
        serde_json::from_str(&repo.read(".unleak-baseline.json")).unwrap();
    doc["key"] = serde_json::Value::String("ab".repeat(32));
    repo.write(".unleak-baseline.json", doc.to_string());
    let run = repo.unleak(&["guard"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("baseline's key does not match these secrets"),
        "{}",
        run.stdout
    );
    assert_no_secret("guard", &run.all(), &secrets);
}
