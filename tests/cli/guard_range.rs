//! End-to-end tests of the range and staged guards against a hurried or hostile
//! contributor: every commit of a range counts, a move out of an allowlisted path is new,
//! and a pull request cannot allow or baseline its own secret (the configuration and
//! baseline come from the base of the range).

use crate::guard_support;

use guard_support::{assert_no_secret, token, Repo, Run};
// A rule of the repository's own, for `rules.extra`.
use unleak_testkit::rules::DEMO as DEMO_RULE;

/// A repository whose `main` has one harmless commit, checked out on a new branch `pr`.
fn on_branch() -> Repo {
    let repo = Repo::init();
    repo.write("README.md", "hello\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo
}

fn guard(repo: &Repo, extra: &[&str]) -> Run {
    let mut args = vec!["guard", "--range", "main..pr"];
    args.extend_from_slice(extra);
    repo.unleak(&args)
}

/// Every report format of the same run, checked for the raw value.
fn assert_no_secret_anywhere(repo: &Repo, extra: &[&str], secrets: &[String]) {
    for format in ["text", "json", "sarif", "github"] {
        let mut args = vec!["--format", format];
        args.extend_from_slice(extra);
        let run = guard(repo, &args);
        assert_no_secret(&format!("guard --format {format}"), &run.all(), secrets);
    }
}

#[test]
fn a_secret_added_and_removed_within_the_range_fails_and_names_its_commit() {
    let secrets = [token(1)];
    let repo = on_branch();
    repo.write("tmp.py", format!("KEY = \"{}\"\n", secrets[0]));
    let added = repo.commit("add tmp");
    repo.git(&["rm", "-q", "tmp.py"]);
    repo.commit("remove tmp");

    let run = guard(&repo, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let line = run
        .stdout
        .lines()
        .find(|l| l.starts_with("NEW    tmp.py:1:"))
        .unwrap_or_else(|| panic!("no NEW line for tmp.py:\n{}", run.stdout));
    assert!(
        line.contains("in this range's history: rotate it"),
        "{line}"
    );
    assert!(line.contains(&added[..7]), "{line}");
    let json = guard(&repo, &["--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["new"][0]["git"]["commit"], added.as_str());
    assert_eq!(doc["new"][0]["git"]["in_head"], false);
    assert_no_secret_anywhere(&repo, &[], &secrets);
}

#[test]
fn a_secret_changed_twice_within_the_range_is_reported_once_per_value() {
    let secrets = [token(2), token(3)];
    let repo = on_branch();
    repo.write("app.env", format!("TOKEN={}\n", secrets[0]));
    repo.commit("first");
    repo.write("app.env", format!("TOKEN={}\n", secrets[1]));
    repo.commit("second");
    // Moved to another file afterwards: still the same secret, reported at HEAD only.
    repo.git(&["mv", "app.env", "prod.env"]);
    repo.commit("rename");
    let run = guard(&repo, &[]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    let new: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("NEW"))
        .collect();
    assert_eq!(new.len(), 2, "{}", run.stdout);
    assert!(new
        .iter()
        .any(|l| l.starts_with("NEW    prod.env:1:") && !l.contains("history")));
    assert!(new
        .iter()
        .any(|l| l.starts_with("NEW    app.env:1:") && l.contains("in this range's history")));
}

#[test]
fn a_line_moved_out_of_an_allowlisted_path_is_new_in_a_range_and_when_staged() {
    let secrets = [token(4)];
    let repo = Repo::init();
    repo.write(".unleak.toml", "[allow]\npaths = [\"tests/fixtures/\"]\n");
    repo.write(
        "tests/fixtures/sample.env",
        format!("GITHUB_TOKEN={}\n", secrets[0]),
    );
    repo.write("src/app.py", "print('hi')\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo.write("tests/fixtures/sample.env", "");
    repo.write(
        "src/app.py",
        format!("print('hi')\nGITHUB_TOKEN={}\n", secrets[0]),
    );
    repo.git(&["add", "-A"]);

    let staged = repo.unleak(&["guard", "--staged"]);
    assert_eq!(staged.code, 1, "{}{}", staged.stdout, staged.stderr);
    assert!(
        staged.stdout.contains("NEW    src/app.py:2:"),
        "{}",
        staged.stdout
    );

    repo.commit("move it");
    let run = guard(&repo, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("NEW    src/app.py:2:"),
        "{}",
        run.stdout
    );
    assert_no_secret_anywhere(&repo, &[], &secrets);
}

#[test]
fn line_moves_between_unallowed_paths_still_pass() {
    let secrets = [token(5)];
    let repo = Repo::init();
    repo.write("a.py", format!("KEY = \"{}\"\n", secrets[0]));
    repo.commit("base (a secret from before unleak, not in any baseline)");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo.write("a.py", "");
    repo.write("b.py", format!("x = 1\nKEY = \"{}\"\n", secrets[0]));
    repo.git(&["add", "-A"]);
    assert_eq!(repo.unleak(&["guard", "--staged"]).code, 0);
    repo.commit("move");
    // Moved in two steps within the range: still a move.
    repo.git(&["mv", "b.py", "c.py"]);
    repo.commit("rename");
    let run = guard(&repo, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}

#[test]
fn a_renamed_known_secret_is_moved_not_fixed_in_range_mode() {
    let secrets = [token(6)];
    let repo = Repo::init();
    repo.write("pay.py", format!("KEY = \"{}\"\n", secrets[0]));
    repo.commit("base");
    assert_eq!(repo.unleak(&["baseline", "create"]).code, 0);
    repo.commit("adopt");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo.git(&["mv", "pay.py", "payments.py"]);
    repo.commit("rename");
    let run = guard(&repo, &[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("MOVED  payments.py:1:") && run.stdout.contains("from pay.py"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("FIXED"), "{}", run.stdout);
    assert!(run.stdout.contains("1 moved · 0 fixed"), "{}", run.stdout);
}

#[test]
fn a_pull_request_cannot_allowlist_its_own_secret() {
    let secrets = [token(7)];
    let repo = on_branch();
    repo.write("deploy.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    repo.write(".unleak.toml", "[allow]\npaths = [\"**\"]\n");
    repo.commit("deploy, and allow everything");

    let run = guard(&repo, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("NEW    deploy.env:1:"),
        "{}",
        run.stdout
    );
    for text in [&run.stdout, &run.stderr] {
        assert!(
            text.contains("adds `.unleak.toml`") && text.contains("once it is merged"),
            "{text}"
        );
    }
    // The same file named with --config, inside the repository, is read from BASE too.
    let named = guard(&repo, &["--config", ".unleak.toml"]);
    assert_eq!(named.code, 2, "{}", named.stderr);
    assert!(
        named.stderr.contains("--config .unleak.toml"),
        "{}",
        named.stderr
    );

    let trusting = guard(&repo, &["--trust-worktree-config"]);
    assert_eq!(trusting.code, 0, "{}{}", trusting.stdout, trusting.stderr);
    assert!(!trusting.all().contains("notice"), "{}", trusting.all());
    assert_no_secret_anywhere(&repo, &[], &secrets);
}

#[test]
fn a_pull_request_cannot_baseline_its_own_secret() {
    let secrets = [token(8), token(9)];
    let repo = Repo::init();
    repo.write("old.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    repo.commit("base");
    assert_eq!(repo.unleak(&["baseline", "create"]).code, 0);
    repo.commit("adopt");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo.write("new.env", format!("GITHUB_TOKEN={}\n", secrets[1]));
    assert_eq!(repo.unleak(&["baseline", "update"]).code, 0);
    repo.commit("new secret, baselined by its author");

    let run = guard(&repo, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("NEW    new.env:1:"), "{}", run.stdout);
    assert!(
        run.stderr.contains("changes `.unleak-baseline.json`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("main:.unleak-baseline.json"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("merge it first"), "{}", run.stdout);

    let trusting = guard(&repo, &["--trust-worktree-config"]);
    assert_eq!(trusting.code, 0, "{}{}", trusting.stdout, trusting.stderr);
    assert_no_secret_anywhere(&repo, &[], &secrets);
}

#[test]
fn a_broken_base_configuration_is_an_error_naming_the_commit_and_file() {
    let repo = Repo::init();
    repo.write(".unleak.toml", "[allow]\npaths = 3\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    // The pull request fixes it; the base's copy is still what counts.
    repo.write(".unleak.toml", "[allow]\npaths = []\n");
    repo.commit("fix config");
    let run = guard(&repo, &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("main:.unleak.toml"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[cfg(unix)]
#[test]
fn a_symlinked_base_baseline_is_refused() {
    let repo = Repo::init();
    repo.write("elsewhere.json", "{}\n");
    std::os::unix::fs::symlink("elsewhere.json", repo.dir.join(".unleak-baseline.json")).unwrap();
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo.write("x.txt", "x\n");
    repo.commit("x");
    let run = guard(&repo, &[]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("main:.unleak-baseline.json") && run.stderr.contains("symbolic link"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_base_is_an_error_naming_it() {
    let repo = on_branch();
    repo.write("x.txt", "x\n");
    repo.commit("x");
    let run = repo.unleak(&["guard", "--range", "nosuch..pr"]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("`nosuch`"), "{}", run.stderr);
}

#[test]
fn a_shallow_clone_says_what_is_missing_and_a_wrong_name_is_not_missing_history() {
    let repo = on_branch();
    repo.write("x.txt", "x\n");
    let first = repo.commit("x");
    repo.write("y.txt", "y\n");
    repo.commit("y");
    let url = format!("file://{}", repo.dir.display());
    let mut clone = std::process::Command::new("git");
    repo.env(&mut clone);
    clone
        .current_dir(&repo.scratch)
        .args(["clone", "-q", "--depth", "1", "-b", "pr", &url, "c"]);
    assert!(clone.status().unwrap().success());
    let c = repo.scratch.join("c");
    let c = c.to_str().unwrap();

    let missing = repo.unleak(&["guard", c, "--range", &format!("{first}..HEAD")]);
    assert_eq!(missing.code, 2, "{}{}", missing.stdout, missing.stderr);
    assert!(
        missing
            .stderr
            .contains(&format!("`{first}` is not in its history"))
            && missing.stderr.contains("fetch-depth: 0"),
        "{}",
        missing.stderr
    );
    let behind = repo.unleak(&["guard", c, "--range", "HEAD~1..HEAD"]);
    assert_eq!(behind.code, 2, "{}", behind.stderr);
    assert!(
        behind.stderr.contains("fetch-depth: 0"),
        "{}",
        behind.stderr
    );

    let typo = repo.unleak(&["guard", c, "--range", "nosuch..HEAD"]);
    assert_eq!(typo.code, 2, "{}", typo.stderr);
    assert!(
        typo.stderr.contains("cannot resolve `nosuch`") && !typo.stderr.contains("fetch-depth"),
        "{}",
        typo.stderr
    );
}

#[test]
fn a_base_that_moved_on_is_not_the_pull_requests_change() {
    let secrets = [token(10)];
    let repo = on_branch();
    repo.write("feature.txt", "f\n");
    repo.commit("feature");
    // main adopts a configuration after the branch forked.
    repo.git(&["checkout", "-q", "main"]);
    repo.write(".unleak.toml", "[allow]\npaths = [\"fixtures/\"]\n");
    repo.commit("config on main");
    repo.git(&["checkout", "-q", "pr"]);
    repo.write("fixtures/t.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    repo.commit("fixture");
    let run = guard(&repo, &[]);
    // main's allowlist applies, and the branch, which never touched it, gets no notice.
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(!run.all().contains("notice"), "{}", run.all());
    assert!(run.stdout.contains("1 allowed"), "{}", run.stdout);
}

#[test]
fn the_rule_files_a_base_configuration_names_are_read_from_the_base() {
    let repo = Repo::init();
    repo.write(".unleak.toml", "[rules]\nextra = [\"ci/rules\"]\n");
    repo.write("ci/rules/demo.toml", DEMO_RULE);
    repo.commit("base with an own rule");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    // The pull request empties the rule directory and adds a value the rule catches.
    repo.git(&["rm", "-q", "ci/rules/demo.toml"]);
    repo.write("ci/rules/other.toml", "[[rules]]\n");
    let value = format!("tok_{}", "k3j5h7g9f2d4s6a8q1w3e5r7");
    repo.write("app.cfg", format!("token = {value}\n"));
    repo.commit("drop the rule");
    let run = guard(&repo, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("NEW    app.cfg:1:") && run.stdout.contains("demo-token"),
        "{}",
        run.stdout
    );
    assert_no_secret("guard", &run.all(), &[value]);
}

#[test]
fn a_named_config_inside_the_repository_is_read_from_the_base() {
    let secrets = [token(11)];
    let repo = Repo::init();
    repo.write("ci/unleak.toml", "[allow]\npaths = [\"fixtures/\"]\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    repo.write("ci/unleak.toml", "[allow]\npaths = [\"**\"]\n");
    repo.write("deploy.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    repo.commit("allow everything through the named config");
    let run = guard(&repo, &["--config", "ci/unleak.toml"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("changes `ci/unleak.toml`"),
        "{}",
        run.stderr
    );
    let trusting = guard(
        &repo,
        &["--config", "ci/unleak.toml", "--trust-worktree-config"],
    );
    assert_eq!(trusting.code, 0, "{}{}", trusting.stdout, trusting.stderr);
}

#[test]
fn trusting_the_work_tree_needs_a_range() {
    let repo = on_branch();
    let run = repo.unleak(&["guard", "--trust-worktree-config"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--range"), "{}", run.stderr);
}

#[test]
fn merging_the_base_branch_in_does_not_make_its_secrets_the_pull_requests() {
    let secrets = [token(12), token(13)];
    let repo = on_branch();
    repo.write("feature.txt", "f\n");
    repo.commit("feature");
    repo.git(&["checkout", "-q", "main"]);
    repo.write("main.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    repo.commit("a secret on main, main's own business");
    repo.git(&["checkout", "-q", "pr"]);
    repo.git(&["merge", "-q", "--no-edit", "main"]);
    assert_eq!(guard(&repo, &[]).code, 0);
    // A merge that resolves with a secret of its own is the pull request's.
    repo.git(&["checkout", "-q", "main"]);
    repo.write("shared.txt", "main\n");
    repo.commit("main edits shared");
    repo.git(&["checkout", "-q", "pr"]);
    repo.write("shared.txt", "pr\n");
    repo.commit("pr edits shared");
    let _ = repo.git_cmd(&["merge", "-q", "main"]).output().unwrap();
    repo.write("shared.txt", format!("TOKEN={}\n", secrets[1]));
    repo.git(&["add", "shared.txt"]);
    repo.git(&["commit", "-q", "--no-edit"]);
    repo.write("shared.txt", "resolved\n");
    repo.commit("clean up");
    let run = guard(&repo, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let new: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("NEW"))
        .collect();
    assert_eq!(new.len(), 1, "{}", run.stdout);
    assert!(new[0].starts_with("NEW    shared.txt:1:"), "{}", run.stdout);
    assert!(new[0].contains("in this range's history"), "{}", run.stdout);
}

#[test]
fn a_secret_gone_from_head_is_placed_at_its_line_in_the_commit_that_added_it() {
    let secrets = [token(14)];
    let repo = Repo::init();
    let lines: Vec<String> = (1..=40).map(|i| format!("x{i} = {i}")).collect();
    repo.write("big.py", lines.join("\n") + "\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
    let mut with = lines.clone();
    with.insert(20, format!("    KEY = \"{}\"", secrets[0]));
    repo.write("big.py", with.join("\n") + "\n");
    repo.commit("add a key at line 21");
    repo.write("big.py", lines.join("\n") + "\n");
    repo.commit("take it out");
    let run = guard(&repo, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let new = doc["new"].as_array().unwrap();
    assert_eq!(new.len(), 1, "{}", run.stdout);
    assert_eq!(new[0]["line"], 21, "{}", run.stdout);
    assert_eq!(new[0]["column"], 12, "{}", run.stdout);
    // The byte span is that of the file too, not of an excerpt of it.
    let offset: usize = with[..20].iter().map(|l| l.len() + 1).sum::<usize>() + 11;
    assert_eq!(new[0]["span"]["start"], offset, "{}", run.stdout);
    assert_no_secret("guard json", &run.all(), &secrets);
}

/// The walk reuses the lines a commit read as the next commit's old sides: a file renamed
/// and grown in the next commit, then deleted, must still give each secret at the commit
/// that added it, and the renamed line must not count as new again.
#[test]
fn secrets_of_consecutive_commits_on_a_renamed_file_are_each_named_once() {
    let secrets = [token(31), token(32)];
    let repo = on_branch();
    repo.write("a.py", format!("ONE = \"{}\"\n", secrets[0]));
    let first = repo.commit("add a");
    repo.git(&["mv", "a.py", "b.py"]);
    repo.write(
        "b.py",
        format!("ONE = \"{}\"\nTWO = \"{}\"\n", secrets[0], secrets[1]),
    );
    let second = repo.commit("rename and grow");
    repo.git(&["rm", "-q", "b.py"]);
    repo.commit("remove");

    let run = guard(&repo, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let new = doc["new"].as_array().unwrap();
    let mut got: Vec<(String, String)> = new
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                f["git"]["commit"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [("a.py".to_string(), first), ("b.py".to_string(), second)],
        "{}",
        run.stdout
    );
    assert_no_secret_anywhere(&repo, &[], &secrets);
}
