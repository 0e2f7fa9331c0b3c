//! Runs `action.yml` the way a GitHub runner runs a composite action: parse it, substitute
//! the `${{ … }}` expressions (inputs with their defaults, the event from
//! `GITHUB_EVENT_PATH`, earlier steps' outputs), run each `run:` with bash, hand every step
//! fresh `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files, and read the outputs back. The
//! "prebuilt binary" input points at the test's own unleak, so nothing is installed, except
//! in the install tests at the end: those serve a fake release from 127.0.0.1 and stand a
//! recording script in for cargo.
//!
//! Each GitHub event is played with a realistic payload against real git repositories: a
//! bare "origin" in a temp dir holding branches and `refs/pull/N/{head,merge}` as GitHub
//! keeps them, and a workspace made the way actions/checkout makes it (a fetch of one ref,
//! shallow unless asked otherwise). No network.

use crate::guard_support;

use guard_support::{assert_no_secret, token, Repo};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What one run of the action left behind.
struct ActionRun {
    /// Exit code of the first failing step, or 0.
    code: i32,
    log: String,
    summary: String,
    outputs: BTreeMap<String, String>,
}

struct Runner<'a> {
    action: serde_yaml::Value,
    inputs: BTreeMap<String, String>,
    event_name: &'a str,
    event: Value,
    sha: String,
    repo: &'a Repo,
    /// The checked-out repository (`GITHUB_WORKSPACE`).
    workspace: PathBuf,
    /// More of the runner's environment (`GITHUB_ACTION_REF`, `RUNNER_TOOL_CACHE`, ...),
    /// given to every step; the `github.action_*` expressions read it too.
    env: BTreeMap<String, String>,
}

impl Runner<'_> {
    /// The value of one expression, as the runner would substitute it.
    fn eval(&self, expr: &str, steps: &BTreeMap<String, BTreeMap<String, String>>) -> String {
        // `a || b`: the first operand that is not empty (the only falsy value of a string).
        if let Some((first, rest)) = expr.split_once("||") {
            let value = self.eval(first, steps);
            return if value.is_empty() {
                self.eval(rest, steps)
            } else {
                value
            };
        }
        let expr = expr.trim();
        if let Some(name) = expr.strip_prefix("inputs.") {
            if let Some(v) = self.inputs.get(name) {
                return v.clone();
            }
            let spec = &self.action["inputs"][name];
            assert!(!spec.is_null(), "action.yml uses undeclared input `{name}`");
            return spec["default"].as_str().unwrap_or("").to_string();
        }
        if let Some(path) = expr.strip_prefix("github.event.") {
            let mut v = &self.event;
            for part in path.split('.') {
                v = &v[part];
            }
            // The runner renders numbers and booleans as text, and null as empty.
            return match v {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => v.to_string(),
                _ => String::new(),
            };
        }
        let from_env = |name: &str| self.env.get(name).cloned().unwrap_or_default();
        match expr {
            "github.action_ref" => return from_env("GITHUB_ACTION_REF"),
            "github.action_repository" => return from_env("GITHUB_ACTION_REPOSITORY"),
            "github.event_name" => return self.event_name.to_string(),
            "github.sha" => return self.sha.clone(),
            "github.action_path" => return repo_root().display().to_string(),
            _ => {}
        }
        if let Some(rest) = expr.strip_prefix("steps.") {
            let (id, name) = rest.split_once(".outputs.").expect("steps.ID.outputs.NAME");
            return steps
                .get(id)
                .and_then(|o| o.get(name))
                .cloned()
                .unwrap_or_default();
        }
        panic!("the test runner does not know the expression `{expr}`; teach it");
    }

    fn substitute(&self, text: &str, steps: &BTreeMap<String, BTreeMap<String, String>>) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${{") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find("}}").expect("closed expression") + start;
            out.push_str(&self.eval(&rest[start + 3..end], steps));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    }

    fn run(&self) -> ActionRun {
        let runs = &self.action["runs"];
        assert_eq!(runs["using"].as_str(), Some("composite"));
        static RUNS: AtomicUsize = AtomicUsize::new(0);
        let n = RUNS.fetch_add(1, Ordering::Relaxed);
        let scratch = self
            .repo
            .scratch
            .join(format!("run-{n}-{}", self.event_name));
        std::fs::create_dir_all(&scratch).unwrap();
        let event_path = scratch.join("event.json");
        std::fs::write(&event_path, self.event.to_string()).unwrap();
        let mut steps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut log = String::new();
        let mut summary = String::new();
        let mut code = 0;
        for (i, step) in runs["steps"].as_sequence().unwrap().iter().enumerate() {
            if let Some(uses) = step["uses"].as_str() {
                // The cache is a directory under RUNNER_TOOL_CACHE that outlives a run when
                // the test reuses it, as a restored cache would.
                assert!(
                    uses.starts_with("actions/cache@"),
                    "the test runner does not know the action `{uses}`; teach it"
                );
                continue;
            }
            assert_eq!(
                step["shell"].as_str(),
                Some("bash"),
                "step {i} must say shell: bash"
            );
            let script = self.substitute(step["run"].as_str().expect("a run step"), &steps);
            let output_file = scratch.join(format!("output-{i}"));
            let summary_file = scratch.join(format!("summary-{i}"));
            std::fs::write(&output_file, "").unwrap();
            std::fs::write(&summary_file, "").unwrap();
            let mut cmd = Command::new("bash");
            self.repo.env(&mut cmd);
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
                .current_dir(&self.workspace)
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_WORKSPACE", &self.workspace)
                .env("GITHUB_EVENT_NAME", self.event_name)
                .env("GITHUB_EVENT_PATH", &event_path)
                .env("GITHUB_SHA", &self.sha)
                .env("GITHUB_ACTION_PATH", repo_root())
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_STEP_SUMMARY", &summary_file)
                .env("RUNNER_TEMP", &scratch)
                .envs(&self.env);
            if let Some(env) = step["env"].as_mapping() {
                for (k, v) in env {
                    let value = self.substitute(v.as_str().unwrap_or(""), &steps);
                    cmd.env(k.as_str().unwrap(), value);
                }
            }
            let out = cmd.output().unwrap();
            log.push_str(&String::from_utf8_lossy(&out.stdout));
            log.push_str(&String::from_utf8_lossy(&out.stderr));
            summary.push_str(&std::fs::read_to_string(&summary_file).unwrap());
            let outputs = std::fs::read_to_string(&output_file)
                .unwrap()
                .lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            if let Some(id) = step["id"].as_str() {
                steps.insert(id.to_string(), outputs);
            }
            if !out.status.success() {
                code = out.status.code().unwrap_or(-1);
                break;
            }
        }
        let outputs = self.action["outputs"]
            .as_mapping()
            .unwrap()
            .iter()
            .map(|(k, v)| {
                let value = v["value"].as_str().unwrap();
                (
                    k.as_str().unwrap().to_string(),
                    self.substitute(value, &steps),
                )
            })
            .collect();
        ActionRun {
            code,
            log,
            summary,
            outputs,
        }
    }
}

fn action() -> serde_yaml::Value {
    serde_yaml::from_str(&std::fs::read_to_string(repo_root().join("action.yml")).unwrap())
        .expect("action.yml is YAML")
}

#[test]
fn the_action_fails_a_pull_request_that_adds_a_secret_and_passes_a_clean_one() {
    let secrets: Vec<String> = (50..53).map(token).collect();
    let repo = Repo::init();
    repo.write("config/app.env", format!("GITHUB_TOKEN={}\n", secrets[0]));
    repo.commit("start");
    assert_eq!(repo.unleak(&["baseline", "create"]).code, 0);
    let base = repo.commit("adopt unleak");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "config/app.env",
        format!("# moved down\nGITHUB_TOKEN={}\n", secrets[0]),
    );
    repo.write("deploy/ci.env", format!("DEPLOY_TOKEN={}\n", secrets[1]));
    let head = repo.commit("deploy config");

    let sarif = repo.scratch.join("out/unleak.sarif");
    std::fs::create_dir_all(sarif.parent().unwrap()).unwrap();
    let inputs = BTreeMap::from([
        (
            "unleak-binary".to_string(),
            env!("CARGO_BIN_EXE_unleak").to_string(),
        ),
        ("sarif-file".to_string(), sarif.display().to_string()),
    ]);
    let event = serde_json::json!({
        "pull_request": {"number": 7, "base": {"sha": base}, "head": {"sha": head}},
    });
    let runner = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: inputs.clone(),
        event_name: "pull_request",
        event,
        // On pull_request GITHUB_SHA is the test merge commit; the action must not use it.
        sha: "0000000000000000000000000000000000000001".into(),
        repo: &repo,
        workspace: repo.dir.clone(),
    };
    let run = runner.run();
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(
        run.log.contains(&format!("--range {base}..{head}")),
        "{}",
        run.log
    );
    let annotations: Vec<&str> = run.log.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(annotations.len(), 1, "{}", run.log);
    assert!(
        annotations[0]
            .starts_with("::error file=deploy/ci.env,line=1,endLine=1,col=14,endColumn=54,"),
        "{}",
        annotations[0]
    );
    assert!(
        run.summary
            .starts_with("## unleak guard: ❌ 1 new secret(s)"),
        "{}",
        run.summary
    );
    assert!(
        run.summary
            .contains("| deploy/ci.env | 1 | github-pat-classic |"),
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("| 1 | 1 | 0 | 0 | 0 | 0 |"),
        "{}",
        run.summary
    );
    assert_eq!(run.outputs["findings"], "1");
    assert_eq!(run.outputs["exit-code"], "1");
    assert_eq!(run.outputs["sarif-file"], sarif.display().to_string());
    let sarif_doc: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let results = sarif_doc["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "deploy/ci.env"
    );
    let sarif_text = std::fs::read_to_string(&sarif).unwrap();
    for out in [&run.log, &run.summary, &sarif_text] {
        assert_no_secret("action output", out, &secrets);
    }

    // A push whose range only moves a known line passes, with a clean summary.
    repo.git(&["checkout", "-q", "main"]);
    repo.write(
        "config/app.env",
        format!("# moved down\nGITHUB_TOKEN={}\n", secrets[0]),
    );
    let pushed = repo.commit("move a line");
    let push = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs,
        event_name: "push",
        event: serde_json::json!({"before": base, "after": pushed}),
        sha: pushed.clone(),
        repo: &repo,
        workspace: repo.dir.clone(),
    }
    .run();
    assert_eq!(push.code, 0, "{}", push.log);
    assert!(
        push.log.contains(&format!("--range {base}..{pushed}")),
        "{}",
        push.log
    );
    assert!(
        push.summary
            .starts_with("## unleak guard: ✅ no new secrets"),
        "{}",
        push.summary
    );
    assert_eq!(push.outputs["findings"], "0");
    assert_eq!(push.outputs["exit-code"], "0");
    assert!(
        !push.log.lines().any(|l| l.starts_with("::")),
        "{}",
        push.log
    );
    // A push uploads the tree's state: the known secret stays listed (its alert stays
    // open), under the tree category, at its repository path.
    assert_eq!(push.outputs["sarif-file"], sarif.display().to_string());
    assert_eq!(push.outputs["sarif-category"], "unleak/tree");
    let tree = read_sarif(&sarif);
    assert_eq!(tree["runs"][0]["automationDetails"]["id"], "unleak/tree/");
    assert_eq!(sarif_uris(&tree), ["config/app.env"]);
    assert_no_secret(
        "tree SARIF",
        &std::fs::read_to_string(&sarif).unwrap(),
        &secrets,
    );
}

fn read_sarif(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The location of every result, in order.
fn sarif_uris(doc: &Value) -> Vec<String> {
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(a["uriBaseId"], "%SRCROOT%");
            a["uri"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Run git in `dir` with the repository's fixed environment; returns trimmed stdout.
fn git_in(repo: &Repo, dir: &Path, args: &[&str]) -> String {
    let mut cmd = repo.git_cmd(args);
    let out = cmd.current_dir(dir).output().unwrap();
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A bare repository standing in for GitHub, at `file://…/origin.git`.
fn origin(repo: &Repo) -> (PathBuf, String) {
    let dir = repo.scratch.join("origin.git");
    git_in(
        repo,
        &repo.scratch,
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    let url = format!("file://{}", dir.display());
    (dir, url)
}

/// Push `src` (a commit or ref of the developer repository) to `dst` in origin, forced.
fn publish(repo: &Repo, url: &str, src: &str, dst: &str) {
    repo.git(&["push", "-q", "-f", url, &format!("{src}:{dst}")]);
}

/// What actions/checkout does: a new repository with `origin` as its remote, one fetch
/// of `refspec` (`depth` 1 by default, or everything with `fetch-depth: 0`), and a
/// detached checkout of what it fetched.
fn checkout(repo: &Repo, url: &str, refspec: &str, full: bool) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let ws = repo
        .scratch
        .join(format!("workspace-{}", N.fetch_add(1, Ordering::Relaxed)));
    std::fs::create_dir_all(&ws).unwrap();
    git_in(repo, &ws, &["init", "-q", "."]);
    git_in(repo, &ws, &["remote", "add", "origin", url]);
    if full {
        git_in(repo, &ws, &["fetch", "-q", "--no-tags", "origin", refspec]);
        git_in(
            repo,
            &ws,
            &[
                "fetch",
                "-q",
                "--no-tags",
                "origin",
                "+refs/heads/*:refs/remotes/origin/*",
            ],
        );
    } else {
        git_in(
            repo,
            &ws,
            &["fetch", "-q", "--no-tags", "--depth=1", "origin", refspec],
        );
    }
    git_in(repo, &ws, &["checkout", "-q", "--detach", "FETCH_HEAD"]);
    ws
}

fn prebuilt(sarif: &Path) -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "unleak-binary".to_string(),
            env!("CARGO_BIN_EXE_unleak").to_string(),
        ),
        ("sarif-file".to_string(), sarif.display().to_string()),
    ])
}

fn repository() -> Value {
    serde_json::json!({"full_name": "acme/app", "default_branch": "main"})
}

/// A repository that adopted unleak on main: one known secret in the baseline.
fn adopted(known: &str) -> (Repo, String) {
    let repo = Repo::init();
    repo.write("config/app.env", format!("GITHUB_TOKEN={known}\n"));
    repo.write("README.md", "app\n");
    repo.commit("start");
    assert_eq!(repo.unleak(&["baseline", "create"]).code, 0);
    let base = repo.commit("adopt unleak");
    (repo, base)
}

/// A fork's pull request #7 as GitHub stores it: `refs/pull/7/head` (not a branch of
/// origin) and the test merge commit `refs/pull/7/merge`. Returns (head, merge).
fn fork_pull_request(repo: &Repo, url: &str) -> (String, String) {
    let head = repo.git(&["rev-parse", "HEAD"]);
    publish(repo, url, &head, "refs/pull/7/head");
    repo.git(&["checkout", "-q", "--detach", "main"]);
    repo.git(&["merge", "-q", "--no-ff", "-m", "Merge into main", &head]);
    let merge = repo.git(&["rev-parse", "HEAD"]);
    publish(repo, url, &merge, "refs/pull/7/merge");
    repo.git(&["checkout", "-q", "main"]);
    (head, merge)
}

fn pull_request_event(base: &str, head: &str) -> Value {
    serde_json::json!({
        "action": "synchronize",
        "number": 7,
        "pull_request": {
            "number": 7,
            "base": {"ref": "main", "sha": base},
            "head": {"ref": "feature", "sha": head, "repo": {"full_name": "fork/app"}},
        },
        "repository": repository(),
    })
}

#[test]
fn a_fork_pull_request_on_a_default_shallow_checkout_is_scanned_as_its_diff() {
    let secrets = [token(70), token(71)];
    let (repo, base) = adopted(&secrets[0]);
    let (_, url) = origin(&repo);
    publish(&repo, &url, "main", "refs/heads/main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("deploy/ci.env", format!("DEPLOY_TOKEN={}\n", secrets[1]));
    repo.commit("deploy config");
    let (head, merge) = fork_pull_request(&repo, &url);
    // actions/checkout on pull_request: the merge commit, depth 1.
    let ws = checkout(
        &repo,
        &url,
        "+refs/pull/7/merge:refs/remotes/pull/7/merge",
        false,
    );
    let sarif = repo.scratch.join("pr.sarif");
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: prebuilt(&sarif),
        event_name: "pull_request",
        event: pull_request_event(&base, &head),
        sha: merge,
        repo: &repo,
        workspace: ws,
    }
    .run();
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(
        run.log.contains(&format!("--range {base}..{head}")),
        "{}",
        run.log
    );
    assert!(
        run.log.contains("::error file=deploy/ci.env,line=1"),
        "{}",
        run.log
    );
    assert_eq!(run.outputs["sarif-category"], "unleak/pr");
    // The diff's new finding only: the known secret is not part of a PR's upload.
    let doc = read_sarif(&sarif);
    assert_eq!(sarif_uris(&doc), ["deploy/ci.env"]);
    // Under its own category, so this upload does not close the tree scan's alerts.
    assert_eq!(doc["runs"][0]["automationDetails"]["id"], "unleak/pr/");
    assert_no_secret("action log", &run.log, &secrets);
}

#[test]
fn pull_request_target_fetches_the_fork_head_and_runs_nothing_of_it() {
    let secrets = [token(72), token(73)];
    let (repo, base) = adopted(&secrets[0]);
    let (_, url) = origin(&repo);
    publish(&repo, &url, "main", "refs/heads/main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("deploy/ci.env", format!("DEPLOY_TOKEN={}\n", secrets[1]));
    // The fork tries to decide its own verdict and to have its own code run.
    repo.write(".unleak.toml", "[allow]\npaths = [\"**\"]\n");
    repo.write("scripts/action.sh", "touch \"$GITHUB_WORKSPACE/pwned\"\n");
    repo.commit("deploy config");
    let (head, _) = fork_pull_request(&repo, &url);
    // actions/checkout on pull_request_target: the base branch, depth 1.
    let ws = checkout(
        &repo,
        &url,
        "+refs/heads/main:refs/remotes/origin/main",
        false,
    );
    let sarif = repo.scratch.join("prt.sarif");
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: prebuilt(&sarif),
        event_name: "pull_request_target",
        event: pull_request_event(&base, &head),
        sha: base.clone(),
        repo: &repo,
        workspace: ws.clone(),
    }
    .run();
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(
        run.log.contains(&format!("--range {base}..{head}")),
        "{}",
        run.log
    );
    assert!(
        run.log.contains("::error file=deploy/ci.env,line=1"),
        "{}",
        run.log
    );
    // The head was fetched as objects only: the work tree is still the base, so neither
    // the fork's configuration nor its script took part.
    assert_eq!(git_in(&repo, &ws, &["rev-parse", "HEAD"]), base);
    assert!(!ws.join(".unleak.toml").exists());
    assert!(!ws.join("pwned").exists());
    assert_eq!(
        git_in(&repo, &ws, &["rev-parse", "refs/unleak/pull/7/head"]),
        head
    );
    assert_eq!(run.outputs["sarif-category"], "unleak/pr");
    assert_no_secret("action log", &run.log, &secrets);
}

#[test]
fn the_first_push_of_a_branch_is_guarded_from_its_merge_base_with_the_default_branch() {
    let secrets = [token(74), token(75)];
    let repo = Repo::init();
    // main carries a secret nobody baselined: not this push's doing.
    repo.write("legacy.env", format!("OLD_TOKEN={}\n", secrets[0]));
    repo.commit("start");
    let (_, url) = origin(&repo);
    publish(&repo, &url, "main", "refs/heads/main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("src/app.py", "print('hello')\n");
    let clean = repo.commit("clean work");
    let main = repo.git(&["rev-parse", "main"]);
    publish(&repo, &url, "feature", "refs/heads/feature");
    let ws = checkout(
        &repo,
        &url,
        "+refs/heads/feature:refs/remotes/origin/feature",
        true,
    );
    let sarif = repo.scratch.join("push.sarif");
    let event = |after: &str| {
        serde_json::json!({
            "ref": "refs/heads/feature",
            "before": "0000000000000000000000000000000000000000",
            "after": after,
            "created": true,
            "forced": false,
            "repository": repository(),
        })
    };
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: prebuilt(&sarif),
        event_name: "push",
        event: event(&clean),
        sha: clean.clone(),
        repo: &repo,
        workspace: ws,
    }
    .run();
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(
        run.log.contains(&format!("--range {main}..{clean}")),
        "{}",
        run.log
    );

    // The same first push with a new secret in it fails on that secret.
    repo.write("deploy.env", format!("DEPLOY_TOKEN={}\n", secrets[1]));
    let leaky = repo.commit("deploy");
    publish(&repo, &url, "feature", "refs/heads/feature");
    let ws = checkout(
        &repo,
        &url,
        "+refs/heads/feature:refs/remotes/origin/feature",
        true,
    );
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: prebuilt(&sarif),
        event_name: "push",
        event: event(&leaky),
        sha: leaky.clone(),
        repo: &repo,
        workspace: ws,
    }
    .run();
    assert_eq!(run.code, 1, "{}", run.log);
    let annotations: Vec<&str> = run
        .log
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(annotations.len(), 1, "{}", run.log);
    assert!(
        annotations[0].starts_with("::error file=deploy.env,"),
        "{}",
        run.log
    );
    assert_no_secret("action log", &run.log, &secrets);
}

#[test]
fn a_force_push_whose_old_tip_is_gone_is_guarded_from_the_merge_base_not_an_error() {
    let secrets = [token(76), token(77)];
    let (repo, _) = adopted(&secrets[0]);
    let (_, url) = origin(&repo);
    publish(&repo, &url, "main", "refs/heads/main");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write("src/app.py", "print('v1')\n");
    let old_tip = repo.commit("v1");
    publish(&repo, &url, "feature", "refs/heads/feature");
    // Rewritten and force-pushed: the old tip is in no ref of origin any more.
    repo.write("deploy.env", format!("DEPLOY_TOKEN={}\n", secrets[1]));
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        "v1 (amended)",
    ]);
    let new_tip = repo.git(&["rev-parse", "HEAD"]);
    publish(&repo, &url, "feature", "refs/heads/feature");
    let ws = checkout(
        &repo,
        &url,
        "+refs/heads/feature:refs/remotes/origin/feature",
        true,
    );
    let sarif = repo.scratch.join("force.sarif");
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: prebuilt(&sarif),
        event_name: "push",
        event: serde_json::json!({
            "ref": "refs/heads/feature",
            "before": old_tip,
            "after": new_tip,
            "forced": true,
            "repository": repository(),
        }),
        sha: new_tip.clone(),
        repo: &repo,
        workspace: ws,
    }
    .run();
    assert_eq!(run.code, 1, "{}", run.log);
    let main = repo.git(&["rev-parse", "main"]);
    assert!(
        run.log.contains(&format!("--range {main}..{new_tip}")),
        "{}",
        run.log
    );
    assert!(run.log.contains("a force-push"), "{}", run.log);
    assert!(run.log.contains("::error file=deploy.env,"), "{}", run.log);
    assert_eq!(run.outputs["exit-code"], "1");
    // A push uploads the tree's state: the known secret and the new one.
    assert_eq!(
        sarif_uris(&read_sarif(&sarif)),
        ["config/app.env", "deploy.env"]
    );
}

#[test]
fn a_merge_group_is_guarded_over_its_base_and_head() {
    let secrets = [token(78), token(79)];
    let (repo, base) = adopted(&secrets[0]);
    repo.git(&["checkout", "-q", "-b", "gh-readonly-queue/main/pr-7"]);
    repo.write("deploy.env", format!("DEPLOY_TOKEN={}\n", secrets[1]));
    let head = repo.commit("queued");
    let (_, url) = origin(&repo);
    publish(&repo, &url, "main", "refs/heads/main");
    publish(&repo, &url, &head, "refs/heads/gh-readonly-queue/main/pr-7");
    let ws = checkout(
        &repo,
        &url,
        "+refs/heads/gh-readonly-queue/main/pr-7:refs/remotes/origin/gh-readonly-queue/main/pr-7",
        false,
    );
    let sarif = repo.scratch.join("mq.sarif");
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: prebuilt(&sarif),
        event_name: "merge_group",
        event: serde_json::json!({
            "action": "checks_requested",
            "merge_group": {
                "head_sha": head,
                "head_ref": "refs/heads/gh-readonly-queue/main/pr-7",
                "base_sha": base,
                "base_ref": "refs/heads/main",
            },
            "repository": repository(),
        }),
        sha: head.clone(),
        repo: &repo,
        workspace: ws,
    }
    .run();
    assert_eq!(run.code, 1, "{}", run.log);
    assert!(run.log.contains("the checkout is shallow"), "{}", run.log);
    assert!(
        run.log.contains(&format!("--range {base}..{head}")),
        "{}",
        run.log
    );
    assert_eq!(run.outputs["sarif-category"], "unleak/pr");
    let doc = read_sarif(&sarif);
    assert_eq!(sarif_uris(&doc), ["deploy.env"]);
    assert_eq!(doc["runs"][0]["automationDetails"]["id"], "unleak/pr/");
}

#[test]
fn schedule_guards_the_tree_or_with_mode_history_reports_what_history_holds() {
    let secrets = [token(80), token(81)];
    let (repo, _) = adopted(&secrets[0]);
    repo.write("old.env", format!("OLD_TOKEN={}\n", secrets[1]));
    repo.commit("oops");
    repo.git(&["rm", "-q", "old.env"]);
    let tip = repo.commit("remove it again");
    let (_, url) = origin(&repo);
    publish(&repo, &url, "main", "refs/heads/main");
    let ws = checkout(
        &repo,
        &url,
        "+refs/heads/main:refs/remotes/origin/main",
        true,
    );
    let sarif = repo.scratch.join("schedule.sarif");
    let event = serde_json::json!({"schedule": "0 4 * * 1", "repository": repository()});
    let tree = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: prebuilt(&sarif),
        event_name: "schedule",
        event: event.clone(),
        sha: tip.clone(),
        repo: &repo,
        workspace: ws.clone(),
    }
    .run();
    assert_eq!(tree.code, 0, "{}", tree.log);
    assert!(!tree.log.contains("--range"), "{}", tree.log);
    assert_eq!(tree.outputs["sarif-category"], "unleak/tree");
    assert_eq!(sarif_uris(&read_sarif(&sarif)), ["config/app.env"]);

    let mut inputs = prebuilt(&sarif);
    inputs.insert("mode".into(), "history".into());
    let history = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs,
        event_name: "workflow_dispatch",
        event: serde_json::json!({"inputs": {}, "repository": repository()}),
        sha: tip,
        repo: &repo,
        workspace: ws,
    }
    .run();
    assert_eq!(history.code, 1, "{}", history.log);
    assert!(history.log.contains("unleak scan --git"), "{}", history.log);
    assert_eq!(history.outputs["sarif-category"], "unleak/history");
    assert_eq!(history.outputs["findings"], "2");
    let doc = read_sarif(&sarif);
    assert_eq!(doc["runs"][0]["automationDetails"]["id"], "unleak/history/");
    let mut uris = sarif_uris(&doc);
    uris.sort();
    assert_eq!(uris, ["config/app.env", "old.env"]);
    assert!(
        history.summary.contains("2 finding(s) in git history"),
        "{}",
        history.summary
    );
    let text = std::fs::read_to_string(&sarif).unwrap();
    assert_no_secret("history SARIF", &text, &secrets);
    assert_no_secret("history log", &history.log, &secrets);
}

#[test]
fn a_shallow_checkout_that_cannot_be_deepened_says_what_is_missing() {
    let secrets = [token(82)];
    let (repo, base) = adopted(&secrets[0]);
    repo.write("src/app.py", "print(1)\n");
    let pushed = repo.commit("work");
    let (dir, url) = origin(&repo);
    publish(&repo, &url, "main", "refs/heads/main");
    let ws = checkout(
        &repo,
        &url,
        "+refs/heads/main:refs/remotes/origin/main",
        false,
    );
    // origin is gone (a runner without network or credentials for it).
    std::fs::remove_dir_all(dir).unwrap();
    let sarif = repo.scratch.join("shallow.sarif");
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: prebuilt(&sarif),
        event_name: "push",
        event: serde_json::json!({"before": base, "after": pushed, "repository": repository()}),
        sha: pushed,
        repo: &repo,
        workspace: ws,
    }
    .run();
    assert_eq!(run.code, 2, "{}", run.log);
    let errors: Vec<&str> = run
        .log
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.log);
    assert!(
        errors[0].contains("this checkout is shallow") && errors[0].contains("fetch-depth: 0"),
        "{}",
        errors[0]
    );
    assert!(
        run.summary.contains("## unleak guard: ⚠️ error"),
        "{}",
        run.summary
    );
    assert_eq!(run.outputs["exit-code"], "2");
    assert_eq!(run.outputs["sarif-file"], "");
    assert!(!sarif.exists());
}

#[test]
fn an_error_is_annotated_and_summarised_and_names_no_sarif_file() {
    let secrets = [token(83)];
    let (repo, base) = adopted(&secrets[0]);
    repo.write("src/app.py", "print(1)\n");
    let pushed = repo.commit("work");
    // A crafted config path: workflow-command syntax, an encoded newline and Markdown.
    let config = "ci/x%0A::warning::[pwned](https://e.example)|@team.toml";
    let sarif = repo.dir.join("unleak.sarif");
    // A SARIF file from before (say, committed by mistake) must not be named as this run's.
    std::fs::write(&sarif, "{}").unwrap();
    let mut inputs = prebuilt(&sarif);
    inputs.insert("config".into(), config.into());
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs,
        event_name: "push",
        event: serde_json::json!({"before": base, "after": pushed, "repository": repository()}),
        sha: pushed,
        repo: &repo,
        workspace: repo.dir.clone(),
    }
    .run();
    assert_eq!(run.code, 2, "{}", run.log);
    assert_eq!(run.outputs["exit-code"], "2");
    assert_eq!(run.outputs["sarif-file"], "", "no SARIF was written");
    assert_eq!(run.outputs["sarif-category"], "");
    assert!(
        !sarif.exists(),
        "the stale file was not left to be uploaded"
    );
    let errors: Vec<&str> = run
        .log
        .lines()
        .filter(|l| l.starts_with("::error"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", run.log);
    assert!(
        errors[0].starts_with("::error title=unleak guard failed::"),
        "{}",
        errors[0]
    );
    // The cause names the file, with `%` encoded so `%0A` stays text.
    assert!(errors[0].contains("ci/x%250A::warning::"), "{}", errors[0]);
    assert!(
        !run.log.lines().any(|l| l.starts_with("::warning")),
        "{}",
        run.log
    );
    assert!(
        run.summary.contains("## unleak guard: ⚠️ error (exit 2)"),
        "{}",
        run.summary
    );
    // Markdown is escaped (the path itself may be normalised: `https:/e.example` when the
    // guard reads it from the base of the range).
    assert!(
        run.summary.contains(r"\[pwned\]\(https:"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains(r"\)\|\@team.toml"), "{}", run.summary);
}

#[test]
fn args_over_several_lines_are_all_passed() {
    let secrets = [token(84)];
    let (repo, _) = adopted(&secrets[0]);
    let sarif = repo.scratch.join("args.sarif");
    let mut inputs = prebuilt(&sarif);
    inputs.insert("args".into(), "-v\n--this-flag-does-not-exist\n".into());
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs,
        event_name: "workflow_dispatch",
        event: serde_json::json!({"inputs": {}, "repository": repository()}),
        sha: repo.git(&["rev-parse", "HEAD"]),
        repo: &repo,
        workspace: repo.dir.clone(),
    }
    .run();
    assert_eq!(run.code, 2, "{}", run.log);
    assert!(
        run.log.contains("--this-flag-does-not-exist"),
        "{}",
        run.log
    );
    assert!(
        run.log.contains("::error title=unleak guard failed::"),
        "{}",
        run.log
    );
}

#[test]
fn a_force_push_that_rewrote_the_default_branch_guards_the_tree_not_an_error() {
    let secrets = [token(85)];
    let (repo, _) = adopted(&secrets[0]);
    repo.write("src/app.py", "print(1)\n");
    let old_tip = repo.commit("work");
    let (_, url) = origin(&repo);
    publish(&repo, &url, "main", "refs/heads/main");
    repo.write("src/app.py", "print(2)\n");
    repo.git(&["add", "-A"]);
    repo.git(&[
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        "work (rewritten)",
    ]);
    let new_tip = repo.git(&["rev-parse", "HEAD"]);
    publish(&repo, &url, "main", "refs/heads/main");
    let ws = checkout(
        &repo,
        &url,
        "+refs/heads/main:refs/remotes/origin/main",
        true,
    );
    let sarif = repo.scratch.join("main-force.sarif");
    let run = Runner {
        env: BTreeMap::new(),
        action: action(),
        inputs: prebuilt(&sarif),
        event_name: "push",
        event: serde_json::json!({
            "ref": "refs/heads/main",
            "before": old_tip,
            "after": new_tip,
            "forced": true,
            "repository": repository(),
        }),
        sha: new_tip,
        repo: &repo,
        workspace: ws,
    }
    .run();
    // The merge-base with main is the pushed commit itself: nothing to diff against, so
    // the tree is guarded against the baseline, and the run says why.
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(!run.log.contains("--range"), "{}", run.log);
    let notices: Vec<&str> = run
        .log
        .lines()
        .filter(|l| l.starts_with("::notice"))
        .collect();
    assert_eq!(notices.len(), 1, "{}", run.log);
    assert!(notices[0].contains("a force-push"), "{}", notices[0]);
    assert_eq!(run.outputs["sarif-category"], "unleak/tree");
    assert_eq!(sarif_uris(&read_sarif(&sarif)), ["config/app.env"]);
}

// --- Installing unleak: a release served from loopback --------------------------------

/// The release target the runner below claims to be (RUNNER_OS=Linux, RUNNER_ARCH=X64).
const TARGET: &str = "x86_64-unknown-linux-musl";

/// A release download server on 127.0.0.1 serving the files under a directory, as
/// `RELEASE-URL/vX.Y.Z/ASSET`, and recording every path asked for.
struct ReleaseServer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ReleaseServer {
    fn start(root: PathBuf) -> ReleaseServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/releases/download",
            listener.local_addr().unwrap()
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                if reader.read_line(&mut request).is_err() {
                    continue;
                }
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 0) && header != "\r\n" {
                    header.clear();
                }
                let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
                seen.lock().unwrap().push(path.clone());
                let file = path
                    .strip_prefix("/releases/download/")
                    .filter(|p| !p.contains(".."))
                    .map(|p| root.join(p));
                let (status, body) = match file.and_then(|f| std::fs::read(f).ok()) {
                    Some(body) => ("200 OK", body),
                    None => ("404 Not Found", b"not found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        ReleaseServer { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// A release of `version` under `root`: a tarball holding an `unleak` script that appends
/// its arguments to `record`, and SHA256SUMS as the release workflow writes it (with
/// `sums` to replace the tarball's true sum). Returns the asset's name.
fn fake_release(root: &Path, version: &str, record: &Path, sums: Option<&str>) -> String {
    let name = format!("unleak-{version}-{TARGET}");
    let dir = root.join(format!("v{version}"));
    let staging = root.join("staging").join(&name);
    std::fs::create_dir_all(&staging).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    let exe = staging.join("unleak");
    std::fs::write(
        &exe,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >>'{}'\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let asset = format!("{name}.tar.gz");
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(dir.join(&asset))
        .arg("-C")
        .arg(root.join("staging"))
        .arg(&name)
        .status()
        .unwrap();
    assert!(tar.success());
    let bytes = std::fs::read(dir.join(&asset)).unwrap();
    let sum = format!("{:x}", Sha256::digest(&bytes));
    let other = format!(
        "{}  unleak-{version}-aarch64-apple-darwin.tar.gz\n",
        "0".repeat(64)
    );
    let text = match sums {
        Some(text) => text.replace("{asset}", &asset),
        None => format!("{other}{sum}  {asset}\n"),
    };
    std::fs::write(dir.join("SHA256SUMS"), text).unwrap();
    asset
}

/// A run of the action on a clean repository that installs unleak itself.
fn install_run(
    repo: &Repo,
    inputs: &[(&str, &str)],
    env: &[(&str, &str)],
    tool_cache: &Path,
) -> ActionRun {
    let mut runner_env: BTreeMap<String, String> = BTreeMap::from([
        ("RUNNER_OS".into(), "Linux".into()),
        ("RUNNER_ARCH".into(), "X64".into()),
        ("RUNNER_TOOL_CACHE".into(), tool_cache.display().to_string()),
        ("GITHUB_ACTION_REPOSITORY".into(), "unleak/unleak".into()),
    ]);
    runner_env.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let mut all = BTreeMap::from([("sarif-file".to_string(), String::new())]);
    all.extend(inputs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    Runner {
        action: action(),
        env: runner_env,
        inputs: all,
        event_name: "workflow_dispatch",
        event: serde_json::json!({"inputs": {}, "repository": repository()}),
        sha: repo.git(&["rev-parse", "HEAD"]),
        repo,
        workspace: repo.dir.clone(),
    }
    .run()
}

fn clean_repo() -> Repo {
    let repo = Repo::init();
    repo.write("src/app.py", "print('hello')\n");
    repo.commit("start");
    repo
}

fn errors(log: &str) -> Vec<&str> {
    log.lines().filter(|l| l.starts_with("::error")).collect()
}

#[test]
fn the_action_downloads_its_own_release_verifies_it_and_reuses_the_cache() {
    let repo = clean_repo();
    let version = env!("CARGO_PKG_VERSION");
    let record = repo.scratch.join("fake-unleak.log");
    let root = repo.scratch.join("release");
    let asset = fake_release(&root, version, &record, None);
    let server = ReleaseServer::start(root);
    let cache = repo.scratch.join("toolcache");
    // Used at the moving major tag: the version is the one in the action's Cargo.toml.
    let major = format!("v{}", version.split('.').next().unwrap());
    let env = [("GITHUB_ACTION_REF", major.as_str())];
    let inputs = [("release-url", server.url.as_str())];
    let run = install_run(&repo, &inputs, &env, &cache);
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(
        run.log
            .contains(&format!("v{version} for {TARGET} from the release")),
        "{}",
        run.log
    );
    assert!(
        run.log
            .contains(&format!("{asset} matches its SHA-256 in SHA256SUMS")),
        "{}",
        run.log
    );
    assert_eq!(
        server.requests(),
        [
            format!("/releases/download/v{version}/SHA256SUMS"),
            format!("/releases/download/v{version}/{asset}"),
        ]
    );
    let calls = std::fs::read_to_string(&record).unwrap();
    assert!(calls.starts_with("guard . --format github"), "{calls}");

    // The second run finds it in the cache and downloads nothing.
    let again = install_run(&repo, &inputs, &env, &cache);
    assert_eq!(again.code, 0, "{}", again.log);
    assert!(
        again.log.contains("using the cached binary")
            && again
                .log
                .contains(&format!("release v{version} {asset} sha256:")),
        "{}",
        again.log
    );
    assert_eq!(
        server.requests().len(),
        2,
        "nothing fetched the second time"
    );
    assert_eq!(std::fs::read_to_string(&record).unwrap().lines().count(), 2);
}

#[test]
fn a_release_asset_whose_checksum_is_wrong_or_missing_is_refused() {
    let repo = clean_repo();
    let record = repo.scratch.join("fake-unleak.log");
    let cache = repo.scratch.join("toolcache");
    for (version, sums, says) in [
        (
            "9.8.7",
            format!("{}  {{asset}}\n", "ab".repeat(32)),
            "does not match its SHA-256 in SHA256SUMS",
        ),
        (
            "9.8.6",
            format!("{}  unleak-9.8.6-{TARGET}.zip\n", "ab".repeat(32)),
            "has no SHA-256 for",
        ),
    ] {
        let root = repo.scratch.join(format!("release-{version}"));
        let asset = fake_release(&root, version, &record, Some(&sums));
        let server = ReleaseServer::start(root);
        let tag = format!("v{version}");
        let run = install_run(
            &repo,
            &[("release-url", &server.url), ("version", &tag)],
            &[("GITHUB_ACTION_REF", "main")],
            &cache,
        );
        assert_eq!(run.code, 2, "{}", run.log);
        let errors = errors(&run.log);
        assert_eq!(errors.len(), 1, "{}", run.log);
        assert!(
            errors[0].contains(&asset) && errors[0].contains(says),
            "{}",
            errors[0]
        );
        assert!(
            run.summary.contains("unleak guard: ⚠️ error"),
            "{}",
            run.summary
        );
        assert_eq!(run.outputs["exit-code"], "2");
        assert!(!record.exists(), "the refused binary never ran");
        assert!(
            !cache.join(format!("unleak/v{version}-{TARGET}")).exists(),
            "nothing was cached"
        );
    }
}

/// A stand-in for `cargo` that records its arguments and "builds" the test's own unleak
/// into `--root`, so the fallback is exercised without compiling.
fn fake_cargo(dir: &Path) -> (PathBuf, PathBuf) {
    let record = dir.join("fake-cargo.log");
    let script = dir.join("fake-cargo");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >>'{}'\nwhile [ \"$1\" != --root ]; do shift; done\n\
             mkdir -p \"$2/bin\" && cp '{}' \"$2/bin/unleak\"\n",
            record.display(),
            env!("CARGO_BIN_EXE_unleak"),
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    (script, record)
}

#[test]
fn without_a_release_for_its_ref_the_action_builds_its_source_with_cargo_once() {
    let repo = clean_repo();
    let (cargo, cargo_log) = fake_cargo(&repo.scratch);
    let cargo = cargo.display().to_string();
    let server = ReleaseServer::start(repo.scratch.join("empty-release"));
    let cache = repo.scratch.join("toolcache");
    let inputs = [("release-url", server.url.as_str())];

    // A release tag whose release is not published (yet): 404, then cargo.
    let env = [
        ("GITHUB_ACTION_REF", "v9.9.9"),
        ("UNLEAK_ACTION_CARGO", cargo.as_str()),
    ];
    let run = install_run(&repo, &inputs, &env, &cache);
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(
        run.log.contains("there is no release v9.9.9 at")
            && run
                .log
                .contains("falling back to building the action's source with cargo"),
        "{}",
        run.log
    );
    let built = std::fs::read_to_string(&cargo_log).unwrap();
    assert_eq!(
        built.trim(),
        format!(
            "install --locked --quiet --path {} --root {}",
            repo_root().display(),
            cache.join(format!("unleak/v9.9.9-{TARGET}")).display()
        )
    );

    // A branch ref: no download at all, a cargo build cached by the source's hash.
    let env = [
        ("GITHUB_ACTION_REF", "main"),
        ("UNLEAK_ACTION_CARGO", cargo.as_str()),
    ];
    let requests = server.requests().len();
    let run = install_run(&repo, &inputs, &env, &cache);
    assert_eq!(run.code, 0, "{}", run.log);
    assert!(
        run.log.contains("the action is used at 'main', not a release tag; building unleak from the action's source with cargo"),
        "{}",
        run.log
    );
    assert_eq!(server.requests().len(), requests);
    assert_eq!(
        std::fs::read_to_string(&cargo_log).unwrap().lines().count(),
        2
    );
    let again = install_run(&repo, &inputs, &env, &cache);
    assert_eq!(again.code, 0, "{}", again.log);
    assert!(
        again.log.contains("using the cached binary") && again.log.contains("cargo build"),
        "{}",
        again.log
    );
    assert_eq!(
        std::fs::read_to_string(&cargo_log).unwrap().lines().count(),
        2,
        "not built again"
    );

    // An explicit version input that has no release is an error, not a silent build.
    let run = install_run(
        &repo,
        &[("release-url", &server.url), ("version", "v9.9.8")],
        &env,
        &cache,
    );
    assert_eq!(run.code, 2, "{}", run.log);
    assert!(
        errors(&run.log)[0].contains("there is no release v9.9.8"),
        "{}",
        run.log
    );
}

#[test]
fn a_bad_version_or_a_plain_http_release_url_is_refused_before_any_download() {
    let repo = clean_repo();
    let cache = repo.scratch.join("toolcache");
    for (inputs, says) in [
        (
            vec![("version", "latest; rm -rf /")],
            "the version input 'latest; rm -rf /' is not a release version",
        ),
        (
            vec![
                ("version", "v1.2.3"),
                ("release-url", "http://releases.example/dl"),
            ],
            "release-url 'http://releases.example/dl' is not https",
        ),
    ] {
        let run = install_run(&repo, &inputs, &[("GITHUB_ACTION_REF", "v1.2.3")], &cache);
        assert_eq!(run.code, 2, "{}", run.log);
        let errors = errors(&run.log);
        assert_eq!(errors.len(), 1, "{}", run.log);
        assert!(errors[0].contains(says), "{}", errors[0]);
    }
}

#[test]
fn mode_staged_is_refused_in_ci() {
    let repo = clean_repo();
    let sarif = repo.scratch.join("staged.sarif");
    let mut inputs = prebuilt(&sarif);
    inputs.insert("mode".into(), "staged".into());
    let run = Runner {
        action: action(),
        env: BTreeMap::new(),
        inputs,
        event_name: "push",
        event: serde_json::json!({"repository": repository()}),
        sha: repo.git(&["rev-parse", "HEAD"]),
        repo: &repo,
        workspace: repo.dir.clone(),
    }
    .run();
    assert_eq!(run.code, 2, "{}", run.log);
    let errors = errors(&run.log);
    assert_eq!(errors.len(), 1, "{}", run.log);
    assert!(
        errors[0].contains("mode 'staged' is for a pre-commit hook"),
        "{}",
        errors[0]
    );
    assert!(
        !run.log.contains("unleak guard"),
        "nothing was run: {}",
        run.log
    );
    assert_eq!(run.outputs["exit-code"], "2");
    assert!(!sarif.exists());
}

#[test]
fn a_verified_asset_without_the_binary_is_refused_and_nothing_is_cached() {
    let repo = clean_repo();
    let version = "9.8.5";
    let root = repo.scratch.join("release");
    let dir = root.join(format!("v{version}"));
    std::fs::create_dir_all(root.join("staging/other")).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(root.join("staging/other/README.md"), "not unleak\n").unwrap();
    let asset = format!("unleak-{version}-{TARGET}.tar.gz");
    let tar = Command::new("tar")
        .arg("-czf")
        .arg(dir.join(&asset))
        .arg("-C")
        .arg(root.join("staging"))
        .arg("other")
        .status()
        .unwrap();
    assert!(tar.success());
    let sum = format!(
        "{:x}",
        Sha256::digest(std::fs::read(dir.join(&asset)).unwrap())
    );
    std::fs::write(dir.join("SHA256SUMS"), format!("{sum}  {asset}\n")).unwrap();
    let server = ReleaseServer::start(root);
    let cache = repo.scratch.join("toolcache");
    let env = [("GITHUB_ACTION_REF", "v9.8.5")];
    let run = install_run(&repo, &[("release-url", &server.url)], &env, &cache);
    assert_eq!(run.code, 2, "{}", run.log);
    let errors = errors(&run.log);
    assert_eq!(errors.len(), 1, "{}", run.log);
    assert!(
        errors[0].contains(&format!("{asset} has no unleak-{version}-{TARGET}/unleak")),
        "{}",
        errors[0]
    );
    assert!(!cache.join(format!("unleak/v{version}-{TARGET}")).exists());
}
