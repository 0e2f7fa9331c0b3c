//! Runs `action.yml` the way a GitHub runner runs a composite action: parse it, substitute
//! the `${{ … }}` expressions (inputs with their defaults, the event from
//! `GITHUB_EVENT_PATH`, earlier steps' outputs), run each `run:` with bash, hand every step
//! fresh `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` files, and read the outputs back. The
//! "prebuilt binary" input points at the test's own unleak, so nothing is installed.

mod guard_support;

use guard_support::{assert_no_secret, token, Repo};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

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
}

impl Runner<'_> {
    /// The value of one expression, as the runner would substitute it.
    fn eval(&self, expr: &str, steps: &BTreeMap<String, BTreeMap<String, String>>) -> String {
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
            return v.as_str().map(str::to_string).unwrap_or_default();
        }
        match expr {
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
        let scratch = self.repo.scratch.join(format!("run-{}", self.event_name));
        std::fs::create_dir_all(&scratch).unwrap();
        let event_path = scratch.join("event.json");
        std::fs::write(&event_path, self.event.to_string()).unwrap();
        let mut steps: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut log = String::new();
        let mut summary = String::new();
        let mut code = 0;
        for (i, step) in runs["steps"].as_sequence().unwrap().iter().enumerate() {
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
                .current_dir(&self.repo.dir)
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_WORKSPACE", &self.repo.dir)
                .env("GITHUB_EVENT_NAME", self.event_name)
                .env("GITHUB_EVENT_PATH", &event_path)
                .env("GITHUB_SHA", &self.sha)
                .env("GITHUB_ACTION_PATH", repo_root())
                .env("GITHUB_OUTPUT", &output_file)
                .env("GITHUB_STEP_SUMMARY", &summary_file)
                .env("RUNNER_TEMP", &scratch);
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
        action: action(),
        inputs: inputs.clone(),
        event_name: "pull_request",
        event,
        // On pull_request GITHUB_SHA is the test merge commit; the action must not use it.
        sha: "0000000000000000000000000000000000000001".into(),
        repo: &repo,
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
        action: action(),
        inputs,
        event_name: "push",
        event: serde_json::json!({"before": base, "after": pushed}),
        sha: pushed.clone(),
        repo: &repo,
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
}
