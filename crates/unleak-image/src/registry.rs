//! Pulling an image from a registry (`--image REGISTRY/NAME:TAG --pull`): the only network
//! use of unleak, and only when asked.
//!
//! Owns: parsing an image reference, the OCI distribution API as a client (the manifest by
//! tag or digest, an index resolved to one platform's manifest, blobs), the anonymous
//! bearer-token flow a registry asks for with `401` and `WWW-Authenticate`, and digest
//! checks of manifests and configs (layers are checked as they are read, see `read`).
//! Does not own: credentials (only anonymous pulls), or storing what is pulled: layers
//! are streamed into the scan and never written to disk.

use crate::digest::{self, sha256_hex};
use crate::layout::{self, parse_manifest, BlobSource, Descriptor, Image, MAX_JSON};
use crate::read::Opened;
use crate::ImageError;
use std::io::{self, Read};
use std::sync::Mutex;
use std::time::Duration;

/// Media types a registry may answer a manifest request with.
const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json";

/// An image reference: `[HOST[:PORT]/]NAME[:TAG][@DIGEST]`, as docker reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The registry's host (and port); `registry-1.docker.io` when the reference names
    /// none, or names `docker.io`.
    pub host: String,
    /// The repository on that registry, with `library/` before a bare Docker Hub name.
    pub name: String,
    /// A tag or a digest.
    pub reference: String,
}

impl Reference {
    /// Parse `spec`; `None` when it cannot be an image reference.
    pub fn parse(spec: &str) -> Option<Reference> {
        if spec.is_empty() || spec.chars().any(|c| c.is_whitespace() || c == '\\') {
            return None;
        }
        let (rest, digest) = match spec.split_once('@') {
            Some((r, d)) => (r, Some(d)),
            None => (spec, None),
        };
        let (rest, tag) = match rest.rsplit_once(':') {
            Some((r, t)) if !t.contains('/') => (r, Some(t)),
            _ => (rest, None),
        };
        let (host, name) = match rest.split_once('/') {
            Some((h, n)) if h.contains('.') || h.contains(':') || h == "localhost" => {
                (h.to_string(), n.to_string())
            }
            _ if rest.contains('/') => ("registry-1.docker.io".into(), rest.to_string()),
            _ => ("registry-1.docker.io".into(), format!("library/{rest}")),
        };
        let host = if host == "docker.io" {
            "registry-1.docker.io".into()
        } else {
            host
        };
        let name_ok = !name.is_empty()
            && name.split('/').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            });
        if !name_ok {
            return None;
        }
        let reference = match (digest, tag) {
            (Some(d), _) => sha256_hex(d).map(|_| d.to_string())?,
            (None, Some(t)) => t.to_string(),
            (None, None) => "latest".into(),
        };
        Some(Reference {
            host,
            name,
            reference,
        })
    }

    /// Loopback registries (a test server, a local mirror) are spoken to over plain
    /// HTTP; every other over HTTPS.
    fn base(&self) -> String {
        let host = self
            .host
            .rsplit_once(':')
            .map_or(self.host.as_str(), |(h, p)| {
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    h
                } else {
                    self.host.as_str()
                }
            });
        let scheme = if is_loopback(host) { "http" } else { "https" };
        format!("{scheme}://{}", self.host)
    }

    /// How reports name the pulled image.
    pub fn label(&self) -> String {
        let sep = if self.reference.starts_with("sha256:") {
            '@'
        } else {
            ':'
        };
        format!("{}/{}{sep}{}", self.host, self.name, self.reference)
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// An anonymous client of one repository on one registry.
pub struct Registry {
    agent: ureq::Agent,
    base: String,
    name: String,
    label: String,
    token: Mutex<Option<String>>,
}

/// The platform an index is resolved to.
const PLATFORM: (&str, &str) = ("linux", "amd64");

/// Pull `reference`'s manifest and config; its layers are fetched when read.
pub fn pull(reference: &Reference) -> Result<Opened, ImageError> {
    let registry = Registry {
        agent: ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(Duration::from_secs(30)))
            .build()
            .into(),
        base: reference.base(),
        name: reference.name.clone(),
        label: reference.label(),
        token: Mutex::new(None),
    };
    let label = registry.label.clone();
    let mut wanted = reference.reference.clone();
    let mut expected = sha256_hex(&wanted).map(|_| wanted.clone());
    for _ in 0..3 {
        let bytes = registry.json(&format!("manifests/{wanted}"), ACCEPT)?;
        if let Some(e) = &expected {
            let actual = digest::sha256_of(&bytes);
            if !digest::matches(e, &actual) {
                return Err(ImageError::blob(
                    &label,
                    e,
                    format!("digest mismatch: asked for {e}, the manifest is {actual}"),
                ));
            }
        }
        let doc = parse_manifest(&bytes, &label, &wanted)?;
        if doc.is_index() {
            let pick = pick_platform(&doc.manifests).ok_or_else(|| {
                ImageError::blob(&label, &wanted, "the index lists no image manifest")
            })?;
            wanted = pick.digest.clone();
            expected = Some(pick.digest.clone());
            continue;
        }
        let config_d = doc
            .config
            .as_ref()
            .ok_or_else(|| ImageError::blob(&label, &wanted, "a manifest without a config"))?;
        let config =
            layout::parse_config(&registry, &label, &config_d.digest, Some(&config_d.digest))?;
        let blobs = doc
            .layers
            .iter()
            .map(|l| (l.digest.clone(), Some(l.digest.clone())))
            .collect();
        let image = Image {
            name: label,
            layers: layout::layers(&config, blobs),
            config,
        };
        return Ok(Opened {
            source: Box::new(registry),
            images: vec![image],
        });
    }
    Err(ImageError::image(&label, "indexes nested too deep"))
}

/// linux/amd64 when the index has it, else its first image manifest.
fn pick_platform(manifests: &[Descriptor]) -> Option<&Descriptor> {
    let usable = |d: &&Descriptor| !d.annotations.contains_key("vnd.docker.reference.type");
    manifests
        .iter()
        .filter(usable)
        .find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| (p.os.as_str(), p.architecture.as_str()) == PLATFORM)
        })
        .or_else(|| manifests.iter().find(usable))
}

impl Registry {
    fn err(&self, what: &str, message: impl Into<String>) -> ImageError {
        ImageError::blob(&self.label, what, message)
    }

    /// GET `/v2/NAME/{path}`, fetching an anonymous token once if the registry asks.
    fn get(&self, path: &str, accept: &str) -> Result<ureq::http::Response<ureq::Body>, String> {
        let url = format!("{}/v2/{}/{path}", self.base, self.name);
        let send = |token: Option<&str>| {
            let mut req = self.agent.get(&url).header("Accept", accept);
            if let Some(t) = token {
                req = req.header("Authorization", format!("Bearer {t}"));
            }
            req.call().map_err(|e| format!("GET {url}: {e}"))
        };
        let token = self.token.lock().unwrap().clone();
        let mut resp = send(token.as_deref())?;
        if resp.status() == 401 {
            let challenge = resp
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            let token = self.fetch_token(&challenge)?;
            *self.token.lock().unwrap() = Some(token.clone());
            resp = send(Some(&token))?;
        }
        match resp.status().as_u16() {
            200 => Ok(resp),
            401 | 403 => Err(format!(
                "GET {url}: {} (unleak pulls anonymously; private images need `docker save` first)",
                resp.status()
            )),
            _ => Err(format!("GET {url}: {}", resp.status())),
        }
    }

    /// The anonymous bearer-token flow: `Bearer realm=…,service=…,scope=…` → GET realm
    /// with service and scope → `{"token": …}` (or `access_token`).
    fn fetch_token(&self, challenge: &str) -> Result<String, String> {
        let Some(params) = challenge
            .strip_prefix("Bearer ")
            .or_else(|| challenge.strip_prefix("bearer "))
        else {
            return Err(format!(
                "the registry asks for `{}` authentication; unleak pulls anonymously with bearer tokens only",
                challenge.split_whitespace().next().unwrap_or("unknown")
            ));
        };
        let params = parse_challenge(params);
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let realm = get("realm").ok_or("the registry's bearer challenge names no realm")?;
        let realm_host = realm
            .strip_prefix("https://")
            .or_else(|| realm.strip_prefix("http://"))
            .map(|r| r.split(['/', '?']).next().unwrap_or(""))
            .ok_or_else(|| format!("token realm `{realm}` is not an http(s) URL"))?;
        let realm_name = realm_host.rsplit_once(':').map_or(realm_host, |(h, _)| h);
        if realm.starts_with("http://") && !is_loopback(realm_name) {
            return Err(format!(
                "refusing the token realm `{realm}`: plain http to a host that is not loopback"
            ));
        }
        let mut req = self.agent.get(realm);
        for key in ["service", "scope"] {
            if let Some(v) = get(key) {
                req = req.query(key, v);
            }
        }
        let mut resp = req
            .call()
            .map_err(|e| format!("token request to {realm}: {e}"))?;
        if resp.status() != 200 {
            return Err(format!("token request to {realm}: {}", resp.status()));
        }
        let body = resp
            .body_mut()
            .with_config()
            .limit(MAX_JSON)
            .read_to_vec()
            .map_err(|e| format!("token response from {realm}: {e}"))?;
        #[derive(serde::Deserialize)]
        struct Token {
            token: Option<String>,
            access_token: Option<String>,
        }
        let t: Token = serde_json::from_slice(&body)
            .map_err(|e| format!("token response from {realm} is not JSON: {e}"))?;
        t.token
            .or(t.access_token)
            .ok_or_else(|| format!("token response from {realm} holds no token"))
    }

    fn json(&self, path: &str, accept: &str) -> Result<Vec<u8>, ImageError> {
        let mut resp = self.get(path, accept).map_err(|m| self.err(path, m))?;
        resp.body_mut()
            .with_config()
            .limit(MAX_JSON)
            .read_to_vec()
            .map_err(|e| self.err(path, format!("cannot read it: {e}")))
    }
}

impl BlobSource for Registry {
    /// `name` is a digest.
    fn open(&self, name: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        let resp = self
            .get(&format!("blobs/{name}"), "*/*")
            .map_err(io::Error::other)?;
        Ok(Box::new(resp.into_body().into_reader()))
    }
}

/// `k="v",k2="v2"` (values may be unquoted) as pairs.
fn parse_challenge(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, tail) = if let Some(q) = after.strip_prefix('"') {
            match q.split_once('"') {
                Some((v, t)) => (v.to_string(), t),
                None => (q.to_string(), ""),
            }
        } else {
            match after.split_once(',') {
                Some((v, t)) => (v.trim().to_string(), t),
                None => (after.trim().to_string(), ""),
            }
        };
        out.push((key, value));
        rest = tail.trim_start_matches(',').trim();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_as_docker_reads_them() {
        let r = Reference::parse("127.0.0.1:5000/team/app:1.2").unwrap();
        assert_eq!(
            (r.host.as_str(), r.name.as_str(), r.reference.as_str()),
            ("127.0.0.1:5000", "team/app", "1.2")
        );
        assert_eq!(r.base(), "http://127.0.0.1:5000");
        let r = Reference::parse("alpine").unwrap();
        assert_eq!(r.name, "library/alpine");
        assert_eq!(r.reference, "latest");
        assert_eq!(r.base(), "https://registry-1.docker.io");
        let r = Reference::parse("ghcr.io/o/r@sha256:".to_string().as_str());
        assert!(r.is_none());
        let digest = format!("sha256:{}", "b".repeat(64));
        let r = Reference::parse(&format!("ghcr.io/o/r@{digest}")).unwrap();
        assert_eq!(r.label(), format!("ghcr.io/o/r@{digest}"));
        assert!(Reference::parse("Has Upper/x").is_none());
        assert!(Reference::parse("dir/Sub/file.tar").is_none());
    }

    #[test]
    fn challenges_parse_quoted_and_bare() {
        let p = parse_challenge(
            r#"realm="http://127.0.0.1:1/token",service="reg",scope="repository:a/b:pull""#,
        );
        assert_eq!(p[0], ("realm".into(), "http://127.0.0.1:1/token".into()));
        assert_eq!(p[2], ("scope".into(), "repository:a/b:pull".into()));
        assert_eq!(parse_challenge("realm=x, service=y")[1].1, "y");
    }
}
