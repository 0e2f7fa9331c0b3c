//! The test gateway (`hoop_gateway.py`) and a file-backed `vault`, for the tests that
//! run `register.sh`. Included with `#[path]` by each test binary that needs it.

// Each binary uses a part of it.
#![allow(dead_code)]

use crate::common::repo_root;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub const TOKEN: &str = "hpk_test_gateway_key";

/// The test gateway, killed when dropped.
pub struct Gateway {
    child: Child,
    port: u16,
    pub log: PathBuf,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Gateway {
    pub fn start(dir: &Path, extra: &[&str]) -> Gateway {
        let log = dir.join(format!("gateway-{}.log", extra.len()));
        let _ = std::fs::remove_file(&log);
        let mut child = Command::new("python3")
            .arg(repo_root().join("tests/cli/support/hoop_gateway.py"))
            .args(["--token", TOKEN, "--log"])
            .arg(&log)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs the test gateway");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the gateway prints its port");
        Gateway { child, port, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request so far: (method, path, status, body).
    pub fn requests(&self) -> Vec<(String, String, u16, Value)> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["method"].as_str().unwrap().to_string(),
                    v["path"].as_str().unwrap().to_string(),
                    v["status"].as_u64().unwrap() as u16,
                    v["body"].clone(),
                )
            })
            .collect()
    }

    /// A call as an operator makes it in hoop's UI or API.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", self.url());
        let auth = format!("Bearer {TOKEN}");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let mut resp = match method {
            "GET" => agent.get(&url).header("Authorization", &auth).call(),
            "POST" => agent
                .post(&url)
                .header("Authorization", &auth)
                .send(body.as_bytes()),
            "PUT" => agent
                .put(&url)
                .header("Authorization", &auth)
                .send(body.as_bytes()),
            "PATCH" => agent
                .patch(&url)
                .header("Authorization", &auth)
                .send(body.as_bytes()),
            other => unreachable!("{other}"),
        }
        .unwrap();
        let status = resp.status().as_u16();
        let text = resp.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// A `vault` that keeps `kv put` values in files under `store` and gives them back.
pub fn fake_vault(dir: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let store = dir.join("vault-store");
    std::fs::create_dir_all(&store).unwrap();
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = kv ] || exit 2\nfile() {{ printf '%s/%s' '{}' \"$(printf '%s' \"$1\" | tr '/#' '__')\"; }}\ncase $2 in\n  put) m=${{3#-mount=}}; p=$4; f=$(file \"$m/$p#${{5%=-}}\"); cat > \"$f\"; shift 5; for kv in \"$@\"; do printf '%s' \"${{kv#*=}}\" > \"$(file \"$m/$p#${{kv%%=*}}\")\"; done ;;\n  get) f=$(file \"${{3#-mount=}}/$5#${{4#-field=}}\"); [ -f \"$f\" ] || {{ echo 'No value found' >&2; exit 2; }}; cat \"$f\" ;;\n  *) exit 2 ;;\nesac\n",
        store.display()
    );
    let p = bin.join("vault");
    std::fs::write(&p, script).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    store
}

pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn register(dir: &Path, url: &str, token: &str) -> Outcome {
    fake_vault(dir);
    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("sh")
        .current_dir(dir)
        .arg(dir.join(".unleak/migrate/hoop/register.sh"))
        .env("PATH", path)
        .env("HOOP_APIURL", url)
        .env("HOOP_TOKEN", token)
        .env_remove("VAULT_CLI")
        .env_remove("HOOP_GRPCURL")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

pub fn stored(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir.join("vault-store"))
        .unwrap()
        .flatten()
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The stored gateway credentials, without the HOSTNAME and PORT kept next to them.
pub fn tokens(dir: &Path) -> Vec<(String, String)> {
    stored(dir)
        .into_iter()
        .filter(|(k, _)| !k.ends_with("_HOSTNAME") && !k.ends_with("_PORT"))
        .collect()
}
