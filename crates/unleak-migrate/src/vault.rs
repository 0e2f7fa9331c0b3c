//! Writing values into a Vault-compatible KV v2 store (HashiCorp Vault, OpenBao) over its
//! HTTP API.
//!
//! Owns: checking the address (plain `http://` only to a loopback address unless the
//! caller allows it), check-and-set writes (one `POST /v1/<mount>/data/<path>` per path
//! with `options.cas`, keys already there kept, the owning repository recorded in the
//! path's custom metadata), refusing a path that holds a different value unless told to
//! overwrite, and confirming afterwards that every reference resolves the way hoop's agent
//! reads it (`GET /v1/<id>` with no namespace header: a namespace is part of the mount).
//! A value exists only in memory (inside [`Secret`]) and in the request body; it is never
//! logged, and error messages carry the server's status and error strings with any value
//! scrubbed out. Does not own: where values come from (`apply`) or the token (the caller
//! reads `VAULT_TOKEN`).

use crate::model::VaultPointer;
use crate::text::printable;
use crate::MigrateError;
use std::collections::BTreeMap;
use std::time::Duration;
use unleak_core::Secret;

/// How to reach the vault.
pub struct VaultConfig {
    /// e.g. `https://vault.example.com:8200`.
    pub addr: String,
    /// The token, redacted in every print.
    pub token: Secret,
    /// Allow plain `http://` to a non-loopback address.
    pub insecure: bool,
    /// PEM CA certificates to trust instead of the built-in roots (`VAULT_CACERT`).
    pub ca_pem: Option<Vec<u8>>,
}

/// A client for a Vault (or OpenBao) KV v2 store, refusing plain HTTP off loopback.
pub struct VaultClient {
    addr: String,
    token: Secret,
    agent: ureq::Agent,
}

/// `VAULT_NAMESPACE` as plans carry it: without surrounding `/`, `None` when empty. hoop's
/// agent sends no namespace header, so the namespace becomes part of every path and
/// reference, where a `:` would split the reference and a blank cannot be written.
pub fn check_namespace(ns: &str) -> Result<Option<String>, String> {
    let ns = ns.trim_matches('/');
    if ns.contains(':') || ns.chars().any(char::is_whitespace) {
        return Err(format!("`{}`: a namespace with `:` or spaces cannot be written into a hoop reference (`_vaultkv2:<namespace>/<mount>/data/<path>:<key>`)", printable(ns)));
    }
    Ok((!ns.is_empty()).then(|| ns.to_string()))
}

/// Whether a URL's host is a loopback address (`localhost`, 127.0.0.0/8, `::1`).
fn host_of(addr: &str) -> Option<(String, String)> {
    let (scheme, rest) = addr.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?.to_string()
    } else {
        authority.split(':').next()?.to_string()
    };
    (!host.is_empty()).then(|| (scheme.to_ascii_lowercase(), host.to_ascii_lowercase()))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl VaultClient {
    /// A client for `config`; an address that is not https (or http to loopback, or `insecure`) is refused, naming it.
    pub fn new(config: VaultConfig) -> Result<Self, MigrateError> {
        let addr = config.addr.trim_end_matches('/').to_string();
        let bad = |message: String| MigrateError::VaultAddress {
            addr: addr.clone(),
            message,
        };
        let (scheme, host) = host_of(&addr)
            .ok_or_else(|| bad("not a URL like https://vault.example.com:8200".into()))?;
        match scheme.as_str() {
            "https" => {}
            "http" if is_loopback(&host) || config.insecure => {}
            "http" => {
                return Err(bad(format!(
                    "refusing to send secrets over plain http to {host}, which is not a loopback address; use https, or pass --insecure if the network path is trusted"
                )))
            }
            other => return Err(bad(format!("unsupported scheme `{other}` (use https or http)"))),
        }
        let mut builder = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)));
        if let Some(pem) = &config.ca_pem {
            let certs: Vec<ureq::tls::Certificate<'static>> = ureq::tls::parse_pem(pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            if certs.is_empty() {
                return Err(bad("VAULT_CACERT holds no PEM certificate".into()));
            }
            builder = builder.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&certs))
                    .build(),
            );
        }
        Ok(VaultClient {
            addr,
            token: config.token,
            agent: builder.build().into(),
        })
    }

    /// The address, without a trailing `/`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    fn err(&self, message: String) -> MigrateError {
        MigrateError::Vault {
            addr: self.addr.clone(),
            message,
        }
    }

    fn token(&self) -> Result<&str, MigrateError> {
        std::str::from_utf8(self.token.expose())
            .map_err(|_| self.err("VAULT_TOKEN is not UTF-8".into()))
    }

    fn url(&self, mount: &str, kind: &str, path: &str) -> String {
        format!(
            "{}/v1/{}/{kind}/{}",
            self.addr,
            mount.trim_matches('/'),
            path.trim_matches('/')
        )
    }

    /// Send one request; the status and body come back (the body of an error names
    /// what went wrong, never a value we sent, but it is scrubbed anyway).
    fn send(
        &self,
        method: &str,
        url: &str,
        body: Option<&[u8]>,
    ) -> Result<(u16, String), MigrateError> {
        let token = self.token()?;
        let result = match (method, body) {
            ("POST", Some(b)) => self
                .agent
                .post(url)
                .header("X-Vault-Token", token)
                .header("Content-Type", "application/json")
                .send(b),
            _ => self.agent.get(url).header("X-Vault-Token", token).call(),
        };
        let resp = result.map_err(|e| self.err(format!("request failed: {e}")))?;
        let status = resp.status().as_u16();
        let text = resp
            .into_body()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        Ok((status, text))
    }

    /// What is at `mount/path` now: its current version (0: never written) and owner
    /// (the repository unleak recorded), and its keys.
    fn current(&self, mount: &str, path: &str) -> Result<Existing, MigrateError> {
        let (status, mut text) = self.send("GET", &self.url(mount, "metadata", path), None)?;
        let mut existing = Existing::default();
        match status {
            200 => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
                existing.version = v["data"]["current_version"].as_u64().unwrap_or(0);
                existing.owner = v["data"]["custom_metadata"][OWNER_KEY]
                    .as_str()
                    .map(str::to_string);
            }
            404 => return Ok(existing),
            other => {
                return Err(self.err(format!(
                    "reading the metadata of {mount}/{path} failed with HTTP {other}: {}",
                    vault_errors(&text)
                )))
            }
        }
        scrub_string(&mut text);
        let (status, mut text) = self.send("GET", &self.url(mount, "data", path), None)?;
        if status == 200 {
            if let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&text) {
                if let Some(map) = v["data"]["data"].as_object_mut() {
                    existing.data = std::mem::take(map);
                }
            }
        }
        scrub_string(&mut text);
        Ok(existing)
    }

    /// Refuse a mount that is not KV v2 (a KV v1 mount takes the `data/` paths as plain
    /// keys and the write "succeeds"): `GET /v1/[<namespace>/]sys/internal/ui/mounts/<mount>`
    /// must say `type: kv`, `options.version: "2"`.
    pub fn check_kv2(&self, namespace: Option<&str>, mount: &str) -> Result<(), MigrateError> {
        let ns = namespace
            .map(|n| n.trim_matches('/'))
            .filter(|n| !n.is_empty())
            .map_or_else(String::new, |n| format!("{n}/"));
        let mount = mount.trim_matches('/');
        let url = format!("{}/v1/{ns}sys/internal/ui/mounts/{mount}", self.addr);
        let (status, text) = self.send("GET", &url, None)?;
        let shown = format!("{ns}{mount}");
        if status != 200 {
            return Err(self.err(format!(
                "cannot read the mount `{shown}` (HTTP {status}: {}); it must be a KV v2 secrets engine (--vault-mount); nothing was written",
                vault_errors(&text)
            )));
        }
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        let kind = v["data"]["type"].as_str().unwrap_or("");
        let version = v["data"]["options"]["version"].as_str().unwrap_or("1");
        if kind != "kv" || version != "2" {
            return Err(self.err(format!(
                "the mount `{shown}` is {}, not KV version 2; hoop's `_vaultkv2:` references need KV v2 (bao secrets enable -path={mount} kv-v2, or --vault-mount); nothing was written",
                if kind == "kv" {
                    format!("KV version {}", printable(version))
                } else {
                    format!("a `{}` engine", printable(kind))
                }
            )));
        }
        Ok(())
    }

    /// Write `values` (grouped by path, one KV v2 version per path) with check-and-set,
    /// for the repository `owner`. Every path is read first: one that holds a different
    /// value for a key is refused (nothing is written at all) unless `overwrite`; one
    /// that holds the same values already is left alone; keys of a path that are not
    /// ours are kept.
    pub fn write_all(
        &self,
        values: &[(VaultPointer, Secret)],
        owner: &str,
        overwrite: bool,
    ) -> Result<SeedReport, MigrateError> {
        let mut by_path: BTreeMap<(String, String), Vec<(&str, &Secret)>> = BTreeMap::new();
        for (p, v) in values {
            by_path
                .entry((p.mount.clone(), p.path.clone()))
                .or_default()
                .push((p.key.as_str(), v));
        }
        let mut pending = Vec::new();
        let mut report = SeedReport::default();
        for ((mount, path), keys) in &by_path {
            let mut existing = self.current(mount, path)?;
            let mut data = std::mem::take(&mut existing.data);
            let mut changed = false;
            for (k, v) in keys {
                let text = std::str::from_utf8(v.expose()).map_err(|_| {
                    self.err(format!("the value for {mount}/{path}#{k} is not UTF-8 text, which KV v2 cannot store"))
                })?;
                match data.get(*k).and_then(|old| old.as_str()) {
                    Some(old) if old == text => {}
                    Some(_) if !overwrite => {
                        scrub_map(&mut data);
                        return Err(self.err(format!(
                            "{mount}/{path} already holds a different {k}, {}; nothing was written to the vault. Pass --overwrite-vault to replace it, or --repo-slug / --platform-prefix / --vault-prefix to write elsewhere",
                            match existing.owner.as_deref() {
                                Some(o) if o == owner => format!("written by this repository ({o}) earlier"),
                                Some(o) => format!("owned by repository `{o}`"),
                                None => "with no owner recorded by unleak migrate".to_string(),
                            }
                        )));
                    }
                    _ => {
                        data.insert(k.to_string(), serde_json::Value::String(text.to_string()));
                        changed = true;
                    }
                }
            }
            if changed || existing.owner.as_deref() != Some(owner) {
                pending.push((mount, path, keys.len(), existing.version, changed, data));
            } else {
                scrub_map(&mut data);
                report.unchanged += keys.len();
            }
        }
        for (mount, path, n, version, changed, mut data) in pending {
            if changed {
                let mut body = serde_json::to_vec(
                    &serde_json::json!({ "options": { "cas": version }, "data": data }),
                )
                .expect("JSON");
                let sent = self.send("POST", &self.url(mount, "data", path), Some(&body));
                body.iter_mut().for_each(|b| *b = 0);
                let (status, text) = sent?;
                if !(200..300).contains(&status) {
                    let detail = scrub(
                        &vault_errors(&text),
                        &by_path[&(mount.clone(), path.clone())],
                    );
                    scrub_map(&mut data);
                    return Err(self.err(format!(
                        "writing {mount}/{path} failed with HTTP {status}: {detail}{}",
                        if detail.contains("check-and-set") {
                            " (it changed while unleak was writing; run again)"
                        } else {
                            ""
                        }
                    )));
                }
                report.paths += 1;
                report.keys += n;
            } else {
                report.unchanged += n;
            }
            scrub_map(&mut data);
            let meta =
                serde_json::to_vec(&serde_json::json!({ "custom_metadata": { OWNER_KEY: owner } }))
                    .expect("JSON");
            let (status, text) =
                self.send("POST", &self.url(mount, "metadata", path), Some(&meta))?;
            if !(200..300).contains(&status) {
                return Err(self.err(format!(
                    "recording the owner of {mount}/{path} failed with HTTP {status}: {}",
                    vault_errors(&text)
                )));
            }
        }
        Ok(report)
    }

    /// Seed a plan's values: check the mount is KV v2, write every value
    /// ([`VaultClient::write_all`], for the plan's repository), then read each pointer back
    /// as hoop's agent would. Files may change only after this returns `Ok`.
    pub fn seed(
        &self,
        values: &[(VaultPointer, Secret)],
        settings: &crate::model::Settings,
        overwrite: bool,
    ) -> Result<SeedReport, MigrateError> {
        if !values.is_empty() {
            self.check_kv2(settings.vault_namespace.as_deref(), &settings.vault_mount)?;
        }
        let report = self.write_all(values, &settings.repo, overwrite)?;
        for (pointer, _) in values {
            if !self.resolves(pointer)? {
                return Err(self.err(format!(
                    "{} was written but does not read back; files were not changed",
                    pointer.display()
                )));
            }
        }
        Ok(report)
    }

    /// Whether `pointer` resolves as hoop's agent reads it: the reference split on `:`
    /// into exactly three parts, `GET /v1/<id>` (`secret/data/<id>` when the id has no
    /// `/`), no namespace header, and the key a string in `data.data`. The value is
    /// read and dropped.
    pub fn resolves(&self, pointer: &VaultPointer) -> Result<bool, MigrateError> {
        let Some((id, key)) = agent_reference(&pointer.reference) else {
            return Ok(false);
        };
        let url = match id.contains('/') {
            true => format!("{}/v1/{id}", self.addr),
            false => format!("{}/v1/secret/data/{id}", self.addr),
        };
        let (status, mut text) = self.send("GET", &url, None)?;
        let found = match status {
            200 => serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .is_some_and(|v| v["data"]["data"][key].is_string()),
            404 => false,
            other => {
                scrub_string(&mut text);
                return Err(self.err(format!(
                    "reading {} failed with HTTP {other}",
                    pointer.display()
                )));
            }
        };
        scrub_string(&mut text);
        Ok(found)
    }
}

/// The custom-metadata key that names the repository a path was seeded from.
const OWNER_KEY: &str = "unleak-repo";

#[derive(Default)]
struct Existing {
    version: u64,
    owner: Option<String>,
    data: serde_json::Map<String, serde_json::Value>,
}

/// `(id, key)` of a `_vaultkv2:` reference as hoop's agent splits it (exactly three
/// `:`-separated parts, else it is a literal and resolves to nothing).
fn agent_reference(reference: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = reference.split(':').collect();
    match parts.as_slice() {
        ["_vaultkv2", id, key] if !id.is_empty() && !key.is_empty() => Some((id, key)),
        _ => None,
    }
}

fn scrub_map(data: &mut serde_json::Map<String, serde_json::Value>) {
    for v in data.values_mut() {
        if let serde_json::Value::String(s) = v {
            scrub_string(s);
        }
    }
}

/// Overwrite a string's bytes in place (its buffer is reused, so the old bytes go).
fn scrub_string(s: &mut String) {
    let n = s.len();
    s.clear();
    s.extend(std::iter::repeat_n('\0', n));
}

/// The `errors` array of a Vault error response, or a short excerpt of the body.
fn vault_errors(body: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(body) {
        Ok(v) => match v["errors"].as_array() {
            Some(errs) if !errs.is_empty() => errs
                .iter()
                .filter_map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join("; "),
            _ => "no error message".into(),
        },
        Err(_) => body.chars().take(200).collect(),
    }
}

/// Remove any sent value from a server message.
fn scrub(message: &str, keys: &[(&str, &Secret)]) -> String {
    let mut out = message.to_string();
    for (_, v) in keys {
        if let Ok(text) = std::str::from_utf8(v.expose()) {
            if !text.is_empty() {
                out = out.replace(text, &v.redacted());
            }
        }
    }
    out
}

/// What seeding wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    /// Paths written (a new version each).
    pub paths: usize,
    /// Keys written.
    pub keys: usize,
    /// Keys that already held the same value.
    pub unchanged: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(addr: &str, insecure: bool) -> Result<VaultClient, MigrateError> {
        VaultClient::new(VaultConfig {
            addr: addr.into(),
            token: Secret::new(b"t".to_vec(), 0),
            insecure,
            ca_pem: None,
        })
    }

    #[test]
    fn plain_http_only_to_loopback_unless_insecure() {
        assert!(client("http://127.0.0.1:8200", false).is_ok());
        assert!(client("http://localhost:8200/", false).is_ok());
        assert!(client("http://[::1]:8200", false).is_ok());
        assert!(client("https://vault.example.com", false).is_ok());
        let e = client("http://vault.example.com:8200", false)
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("--insecure") && e.contains("vault.example.com"),
            "{e}"
        );
        assert!(client("http://vault.example.com:8200", true).is_ok());
        assert!(client("ftp://x", false).is_err());
        assert!(client("vault:8200", false).is_err());
        assert!(client("http://127.0.0.1.evil.com", false).is_err());
    }

    #[test]
    fn namespaces_that_would_split_a_reference_are_refused() {
        assert_eq!(check_namespace("/ns1/team/"), Ok(Some("ns1/team".into())));
        assert_eq!(check_namespace("/"), Ok(None));
        let e = check_namespace("ns:1").unwrap_err();
        assert!(e.contains("`ns:1`") && e.contains("hoop reference"), "{e}");
        assert!(check_namespace("ns 1").is_err());
    }

    #[test]
    fn references_split_as_hoops_agent_splits_them() {
        assert_eq!(
            agent_reference("_vaultkv2:ns1/secret/data/hoop/r/pg-x:PASS"),
            Some(("ns1/secret/data/hoop/r/pg-x", "PASS"))
        );
        // A `:` in the path makes four parts: the agent takes the value as a literal.
        assert_eq!(agent_reference("_vaultkv2:secret/data/a:b:PASS"), None);
        assert_eq!(agent_reference("_vaultkv1:secret/a:PASS"), None);
    }

    #[test]
    fn server_messages_never_echo_values() {
        let v = Secret::new(b"hunter2-very-secret".to_vec(), 0);
        let msg = scrub("bad value hunter2-very-secret here", &[("PASS", &v)]);
        assert!(!msg.contains("hunter2"));
        assert_eq!(
            vault_errors("{\"errors\":[\"permission denied\"]}"),
            "permission denied"
        );
    }
}
