//! `scan --image` and `guard --image` end to end: docker-save tarballs, OCI layouts (a
//! directory and a tar), whiteouts, layers shared by images, corrupt images, and a pull
//! from an OCI distribution server this test serves on loopback (with the anonymous
//! bearer-token flow). Images are built here, tiny; values are generated.

use crate::common;
use crate::guard_support;

use common::{json, run_in};
use flate2::{write::GzEncoder, Compression};
use guard_support::{assert_no_secret, token};
use serde_json::{json as j, Value};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

pub(crate) fn digest(bytes: &[u8]) -> String {
    let h = Sha256::digest(bytes);
    format!(
        "sha256:{}",
        h.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A tar of `(path, content)`; a `None` content is an empty whiteout marker.
pub(crate) fn tar_of(files: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let data = data.unwrap_or(b"");
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, path, data).unwrap();
    }
    b.into_inner().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// An image config for `layers` (uncompressed tars) with `env` and `history`.
pub(crate) fn config(layers: &[Vec<u8>], env: &[String], history: Value) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| digest(l)).collect();
    serde_json::to_vec(&j!({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": env},
        "history": history,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }))
    .unwrap()
}

/// A `docker save` tarball at `out`: `tag`, its config and its layers.
pub(crate) fn docker_save(out: &Path, tag: &str, layers: &[Vec<u8>], config: &[u8]) {
    let cfg_name = format!("{}.json", &digest(config)[7..]);
    let names: Vec<String> = layers
        .iter()
        .map(|l| format!("{}/layer.tar", &digest(l)[7..]))
        .collect();
    let manifest = j!([{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]);
    let mut files: Vec<(String, Vec<u8>)> = vec![(cfg_name, config.to_vec())];
    for (n, l) in names.iter().zip(layers) {
        files.push((n.clone(), l.clone()));
    }
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    let refs: Vec<(&str, Option<&[u8]>)> = files
        .iter()
        .map(|(n, d)| (n.as_str(), Some(d.as_slice())))
        .collect();
    std::fs::write(out, tar_of(&refs)).unwrap();
}

/// Blobs of an OCI image: (digest → bytes) and the manifest's digest.
struct Oci {
    blobs: Vec<(String, Vec<u8>)>,
    manifest: String,
}

/// An OCI image of gzip layers.
fn oci_image(layers: &[Vec<u8>], config: &[u8]) -> Oci {
    oci_image_as(
        layers,
        config,
        "application/vnd.oci.image.layer.v1.tar+gzip",
        gzip,
    )
}

/// An OCI image whose layers are `compress`ed and of `media_type`.
fn oci_image_as(
    layers: &[Vec<u8>],
    config: &[u8],
    media_type: &str,
    mut compress: impl FnMut(&[u8]) -> Vec<u8>,
) -> Oci {
    let mut blobs = vec![(digest(config), config.to_vec())];
    let mut descs = Vec::new();
    for l in layers {
        let packed = compress(l);
        descs.push(j!({"mediaType": media_type, "digest": digest(&packed), "size": packed.len()}));
        blobs.push((digest(&packed), packed));
    }
    let manifest = serde_json::to_vec(&j!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": digest(config), "size": config.len()},
        "layers": descs,
    }))
    .unwrap();
    let m = digest(&manifest);
    blobs.push((m.clone(), manifest));
    Oci { blobs, manifest: m }
}

/// Write `oci` as an OCI layout directory named `name` (a ref.name annotation).
fn oci_dir(dir: &Path, oci: &Oci, name: &str) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    for (d, b) in &oci.blobs {
        std::fs::write(dir.join("blobs/sha256").join(&d[7..]), b).unwrap();
    }
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = j!({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": oci.manifest, "size": 1,
        "annotations": {"io.containerd.image.name": name}}]});
    std::fs::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

fn scan_json(dir: &Path, images: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["scan", "--format", "json"];
    for i in images {
        args.extend(["--image", i]);
    }
    let r = run_in(dir, &args, None);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    let v = if r.stdout.is_empty() {
        Value::Null
    } else {
        json(&r.stdout)
    };
    (r.code, v, r.stderr)
}

fn findings(v: &Value) -> &Vec<Value> {
    v["findings"].as_array().unwrap()
}

/// The base layer with a token in a file a later layer deletes, and a layer deleting it.
fn layered(secret: &str, env: &str, arg: &str) -> (Vec<Vec<u8>>, Vec<u8>) {
    let l1 = tar_of(&[
        ("./etc/", None),
        (
            "etc/app.env",
            Some(format!("GITHUB_TOKEN={secret}\n").as_bytes()),
        ),
        ("bin/tool", Some(b"\x7fELF\0\0\0binary")),
    ]);
    let l2 = tar_of(&[("srv/readme.txt", Some(b"hello\n"))]);
    let l3 = tar_of(&[("etc/.wh.app.env", None)]);
    let history = j!([
        {"created_by": "/bin/sh -c #(nop) ADD file:abc in / "},
        {"created_by": format!("/bin/sh -c #(nop)  ENV GITHUB_TOKEN={env}"), "empty_layer": true},
        {"created_by": "ARG DEPLOY_TOKEN", "empty_layer": true},
        {"created_by": format!("RUN |1 DEPLOY_TOKEN={arg} /bin/sh -c make # buildkit")},
        {"created_by": "RUN /bin/sh -c rm /etc/app.env # buildkit"},
    ]);
    let layers = vec![l1, l2, l3];
    let cfg = config(&layers, &[format!("GITHUB_TOKEN={env}")], history);
    (layers, cfg)
}

#[test]
fn docker_save_layers_config_and_whiteouts_are_reported_with_provenance() {
    let d = tempfile::tempdir().unwrap();
    let (a, b, c) = (token(1), token(2), token(3));
    let (layers, cfg) = layered(&a, &b, &c);
    docker_save(&d.path().join("app.tar"), "acme/app:1.0", &layers, &cfg);

    let (code, v, _) = scan_json(d.path(), &["app.tar"]);
    assert_eq!(code, 1, "{v}");
    let fs = findings(&v);
    let layer1 = digest(&layers[0]);
    let in_file = fs
        .iter()
        .find(|f| f["path"] == format!("acme/app:1.0!{}/etc/app.env", &layer1[..19]))
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(in_file["image"]["layer"], layer1.as_str());
    assert_eq!(in_file["image"]["layer_index"], 1);
    assert_eq!(in_file["image"]["removed_in"], 3);
    assert_eq!(
        in_file["image"]["instruction"],
        "/bin/sh -c #(nop) ADD file:abc in / "
    );
    let paths: Vec<&str> = fs.iter().map(|f| f["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"acme/app:1.0!config/Env"), "{paths:?}");
    assert!(
        paths.contains(&"acme/app:1.0!config/history[1].created_by"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"acme/app:1.0!config/history[3].created_by"),
        "{paths:?}"
    );
    // One finding per secret per config section, though the assignment is shown twice.
    assert_eq!(fs.len(), 4, "{paths:?}");
    let skipped = v["summary"]["skipped"].to_string();
    assert!(
        skipped.contains("bin/tool") && skipped.contains("binary"),
        "{skipped}"
    );

    // Text names the removal; no output holds a raw value.
    let text = run_in(d.path(), &["scan", "--image", "app.tar"], None);
    assert!(
        text.stdout
            .contains("removed in layer 3, still shipped in layer 1"),
        "{}",
        text.stdout
    );
    let sarif = run_in(
        d.path(),
        &["scan", "--image", "app.tar", "-f", "sarif"],
        None,
    );
    assert!(
        sarif.stdout.contains("\"removedInLayer\": 3"),
        "{}",
        sarif.stdout
    );
    for out in [&text.stdout, &sarif.stdout, &v.to_string()] {
        for s in [&a, &b, &c] {
            assert!(!out.contains(s.as_str()), "raw value in output:\n{out}");
        }
    }
}

#[test]
fn an_instruction_quoting_the_secret_is_masked() {
    let d = tempfile::tempdir().unwrap();
    let a = token(4);
    let l1 = tar_of(&[("root/.token", Some(format!("token={a}\n").as_bytes()))]);
    let history = j!([{"created_by": format!("RUN /bin/sh -c echo token={a} > /root/.token")}]);
    let layers = vec![l1];
    let cfg = config(&layers, &[], history);
    docker_save(&d.path().join("i.tar"), "x:1", &layers, &cfg);
    for format in ["text", "json", "sarif"] {
        let r = run_in(d.path(), &["scan", "--image", "i.tar", "-f", format], None);
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert!(!r.stdout.contains(&a), "{format}:\n{}", r.stdout);
        assert!(
            r.stdout.contains("echo token=ghp_…(40 chars)"),
            "{format}:\n{}",
            r.stdout
        );
    }
}

#[test]
fn oci_layouts_directory_and_tar_and_a_shared_layer_is_scanned_once() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (token(5), token(6));
    let shared = tar_of(&[(
        "app/secret.env",
        Some(format!("GITHUB_TOKEN={a}\n").as_bytes()),
    )]);
    let own = tar_of(&[(
        "app/other.env",
        Some(format!("GITHUB_TOKEN={b}\n").as_bytes()),
    )]);
    let one = oci_image(
        std::slice::from_ref(&shared),
        &config(std::slice::from_ref(&shared), &[], j!([])),
    );
    let two_layers = vec![shared.clone(), own];
    let two = oci_image(&two_layers, &config(&two_layers, &[], j!([])));
    oci_dir(&d.path().join("one"), &one, "acme/one:1");
    oci_dir(&d.path().join("two"), &two, "acme/two:1");
    // The second as a tar of its layout.
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for entry in walk(&d.path().join("two")) {
        let rel = entry.strip_prefix(d.path().join("two")).unwrap();
        files.push((
            rel.to_string_lossy().into_owned(),
            std::fs::read(&entry).unwrap(),
        ));
    }
    let refs: Vec<(&str, Option<&[u8]>)> = files
        .iter()
        .map(|(n, b)| (n.as_str(), Some(b.as_slice())))
        .collect();
    std::fs::write(d.path().join("two.tar"), tar_of(&refs)).unwrap();

    let (code, v, _) = scan_json(d.path(), &["one", "two.tar"]);
    assert_eq!(code, 1, "{v}");
    let fs = findings(&v);
    assert_eq!(fs.len(), 2, "the shared layer once: {v}");
    // Two layer files: the shared layer was read once, not once per image.
    assert_eq!(v["summary"]["files_scanned"], 2, "{v}");
    let shared_finding = fs
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("app/secret.env"))
        .unwrap();
    assert_eq!(
        shared_finding["image"]["images"],
        j!(["acme/one:1", "acme/two:1"])
    );
    assert!(shared_finding["path"]
        .as_str()
        .unwrap()
        .starts_with("acme/one:1!"));
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn corrupt_images_are_errors_naming_the_image_and_blob() {
    let d = tempfile::tempdir().unwrap();
    let l = tar_of(&[("a.txt", Some(b"nothing\n"))]);
    let oci = oci_image(
        std::slice::from_ref(&l),
        &config(std::slice::from_ref(&l), &[], j!([])),
    );
    oci_dir(&d.path().join("img"), &oci, "acme/c:1");
    let layer = &oci.blobs[1].0;
    let path = d.path().join("img/blobs/sha256").join(&layer[7..]);
    let good = std::fs::read(&path).unwrap();

    // A layer whose bytes are not its digest.
    let mut bad = good.clone();
    bad.extend_from_slice(b"tampered");
    std::fs::write(&path, &bad).unwrap();
    let (code, v, stderr) = scan_json(d.path(), &["img"]);
    assert_eq!(code, 2, "{stderr}");
    let errors = v["summary"]["errors"].to_string();
    assert!(
        errors.contains("digest mismatch")
            && errors.contains(&layer[7..])
            && errors.contains("acme/c:1"),
        "{errors}"
    );

    // A missing layer blob.
    std::fs::remove_file(&path).unwrap();
    let (code, v, _) = scan_json(d.path(), &["img"]);
    assert_eq!(code, 2);
    assert!(
        v["summary"]["errors"].to_string().contains(&layer[7..]),
        "{v}"
    );

    // A manifest that is not JSON, and a path that is no image at all.
    std::fs::write(d.path().join("img/index.json"), b"{not json").unwrap();
    let (code, v, _) = scan_json(d.path(), &["img"]);
    assert_eq!(code, 2);
    let errors = v["summary"]["errors"].to_string();
    assert!(
        errors.contains("index.json") && errors.contains("img"),
        "{errors}"
    );
    std::fs::write(d.path().join("notes.txt"), b"just text").unwrap();
    let (code, v, _) = scan_json(d.path(), &["notes.txt"]);
    assert_eq!(code, 2);
    assert!(
        v["summary"]["errors"].to_string().contains("notes.txt"),
        "{v}"
    );

    // A manifest naming a blob outside the layout.
    let escape = j!([{"Config": "../../etc/passwd", "RepoTags": ["x:1"], "Layers": []}]);
    let t = tar_of(&[("manifest.json", Some(&serde_json::to_vec(&escape).unwrap()))]);
    std::fs::write(d.path().join("esc.tar"), t).unwrap();
    let (code, v, _) = scan_json(d.path(), &["esc.tar"]);
    assert_eq!(code, 2);
    assert!(
        v["summary"]["errors"].to_string().contains("outside"),
        "{v}"
    );
}

#[test]
fn a_registry_reference_needs_pull_and_a_bad_argument_is_named() {
    let d = tempfile::tempdir().unwrap();
    let r = run_in(
        d.path(),
        &["scan", "--image", "127.0.0.1:9/acme/app:1"],
        None,
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--pull"), "{}", r.stderr);
    let r = run_in(d.path(), &["scan", "--image", "No Such Image.tar"], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("No Such Image.tar"), "{}", r.stderr);
    let r = run_in(d.path(), &["scan", "--pull", "."], None);
    assert_eq!(r.code, 2, "--pull without --image: {}", r.stderr);
    let r = run_in(d.path(), &["scan", "--image", "x.tar", "."], None);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--image"), "{}", r.stderr);
}

/// An OCI distribution server on loopback: anonymous pulls need a bearer token from
/// `/token`. `corrupt` names a blob served with a byte changed.
struct Registry {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve(oci: Oci, name: &'static str, corrupt: Option<String>) -> Registry {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    // An index over the manifest, as multi-platform images are served.
    let index = serde_json::to_vec(&j!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest(b"arm"),
             "size": 3, "platform": {"os": "linux", "architecture": "arm64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": oci.manifest,
             "size": 1, "platform": {"os": "linux", "architecture": "amd64"}}]
    }))
    .unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { break };
            handle(stream, &oci, &index, name, port, corrupt.as_deref(), &log);
        }
    });
    Registry { port, requests }
}

fn handle(
    mut s: TcpStream,
    oci: &Oci,
    index: &[u8],
    name: &str,
    port: u16,
    corrupt: Option<&str>,
    log: &Mutex<Vec<String>>,
) {
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut auth = false;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
            break;
        }
        if h.to_ascii_lowercase()
            .starts_with("authorization: bearer t0ken")
        {
            auth = true;
        }
    }
    log.lock().unwrap().push(path.clone());
    let send = |s: &mut TcpStream, status: &str, extra: &str, body: &[u8]| {
        let head = format!(
            "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n",
            body.len()
        );
        let _ = s.write_all(head.as_bytes());
        let _ = s.write_all(body);
    };
    if path.starts_with("/token?") {
        let ok = path.contains("scope=repository%3Aacme%2Fapp%3Apull")
            || path.contains("scope=repository:acme/app:pull");
        if ok && path.contains("service=test-registry") {
            return send(
                &mut s,
                "200 OK",
                "Content-Type: application/json\r\n",
                br#"{"token":"t0ken"}"#,
            );
        }
        return send(&mut s, "400 Bad Request", "", b"bad scope");
    }
    if !auth {
        let challenge = format!(
            "WWW-Authenticate: Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"test-registry\",scope=\"repository:{name}:pull\"\r\n"
        );
        return send(&mut s, "401 Unauthorized", &challenge, b"{}");
    }
    let prefix = format!("/v2/{name}/");
    let Some(rest) = path.strip_prefix(&prefix) else {
        return send(&mut s, "404 Not Found", "", b"");
    };
    if rest == "manifests/1.0" {
        return send(
            &mut s,
            "200 OK",
            "Content-Type: application/vnd.oci.image.index.v1+json\r\n",
            index,
        );
    }
    let wanted = rest
        .strip_prefix("manifests/")
        .or_else(|| rest.strip_prefix("blobs/"))
        .unwrap_or("");
    match oci.blobs.iter().find(|(d, _)| d == wanted) {
        Some((d, b)) => {
            let mut body = b.clone();
            if corrupt == Some(d.as_str()) {
                let last = body.len() - 1;
                body[last] ^= 1;
            }
            send(&mut s, "200 OK", "", &body)
        }
        None => send(&mut s, "404 Not Found", "", b""),
    }
}

#[test]
fn pull_from_a_loopback_registry_with_the_token_flow() {
    let d = tempfile::tempdir().unwrap();
    let a = token(7);
    let l = tar_of(&[(
        "srv/app.env",
        Some(format!("GITHUB_TOKEN={a}\n").as_bytes()),
    )]);
    let layers = vec![l];
    let oci = oci_image(
        &layers,
        &config(&layers, &[], j!([{"created_by": "COPY app /srv"}])),
    );
    let layer_digest = oci.blobs[1].0.clone();
    let reg = serve(oci, "acme/app", None);
    let reference = format!("127.0.0.1:{}/acme/app:1.0", reg.port);
    let r = run_in(
        d.path(),
        &["scan", "--image", &reference, "--pull", "-f", "json"],
        None,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v = json(&r.stdout);
    let f = &findings(&v)[0];
    assert_eq!(f["image"]["images"], j!([reference]));
    assert_eq!(f["image"]["instruction"], "COPY app /srv");
    assert!(!r.stdout.contains(&a));
    let log = reg.requests.lock().unwrap().clone();
    assert!(log.iter().any(|p| p.starts_with("/token?")), "{log:?}");
    assert!(
        log.iter()
            .any(|p| p.ends_with(&format!("blobs/{layer_digest}"))),
        "{log:?}"
    );

    // A layer served with a byte changed is an error naming it.
    let l = tar_of(&[("x.txt", Some(b"hello\n"))]);
    let layers = vec![l];
    let oci = oci_image(&layers, &config(&layers, &[], j!([])));
    let bad = oci.blobs[1].0.clone();
    let reg = serve(oci, "acme/app", Some(bad.clone()));
    let reference = format!("127.0.0.1:{}/acme/app:1.0", reg.port);
    let r = run_in(
        d.path(),
        &["scan", "--image", &reference, "--pull", "-f", "json"],
        None,
    );
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    let errors = json(&r.stdout)["summary"]["errors"].to_string();
    assert!(
        errors.contains("digest mismatch") && errors.contains(&bad[7..]),
        "{errors}"
    );
}

#[test]
fn guard_gates_an_image_against_the_repository_baseline() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let (known, new) = (token(8), token(9));
    std::fs::write(repo.join("deploy.env"), format!("GITHUB_TOKEN={known}\n")).unwrap();
    let r = run_in(&repo, &["baseline", "create"], None);
    assert_eq!(r.code, 0, "{}", r.stderr);

    // The known secret baked into a layer at another path: not new.
    let l = tar_of(&[(
        "app/.env",
        Some(format!("GITHUB_TOKEN={known}\n").as_bytes()),
    )]);
    let layers = vec![l];
    docker_save(
        &d.path().join("known.tar"),
        "acme/app:1",
        &layers,
        &config(&layers, &[], j!([])),
    );
    let r = run_in(&repo, &["guard", "--image", "../known.tar"], None);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // A secret only the image has: new, exit 1; the known one still is not.
    let l2 = tar_of(&[(
        "app/extra.env",
        Some(format!("GITHUB_TOKEN={new}\n").as_bytes()),
    )]);
    let layers = vec![layers[0].clone(), l2];
    docker_save(
        &d.path().join("new.tar"),
        "acme/app:2",
        &layers,
        &config(&layers, &[], j!([])),
    );
    let r = run_in(
        &repo,
        &["guard", "--image", "../new.tar", "-f", "json"],
        None,
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let v = json(&r.stdout);
    let text = v.to_string();
    assert!(text.contains("app/extra.env"), "{text}");
    assert!(!text.contains(&new) && !text.contains(&known));
    let r = run_in(&repo, &["guard", "--image", "../new.tar"], None);
    assert!(r.stdout.contains("image ../new.tar"), "{}", r.stdout);
    assert!(
        r.stdout.contains("1 known · 0 moved · 0 fixed"),
        "an image fixes nothing: {}",
        r.stdout
    );
}

#[test]
fn migrate_lists_a_secret_found_only_in_an_image_for_rotation() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let (in_tree, in_image) = (token(10), token(11));
    std::fs::write(repo.join(".env"), format!("GITHUB_TOKEN={in_tree}\n")).unwrap();
    // The image bakes in the tree's secret (not listed twice) and one of its own.
    let l = tar_of(&[
        (
            "app/.env",
            Some(format!("GITHUB_TOKEN={in_tree}\n").as_bytes()),
        ),
        (
            "app/ci.env",
            Some(format!("GITHUB_TOKEN={in_image}\n").as_bytes()),
        ),
    ]);
    let layers = vec![l];
    docker_save(
        &d.path().join("app.tar"),
        "acme/app:3",
        &layers,
        &config(&layers, &[], j!([])),
    );
    let r = run_in(&repo, &["migrate", "--image", "../app.tar"], None);
    assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
    let rotation = std::fs::read_to_string(repo.join(".unleak/migrate/rotation.md")).unwrap();
    assert!(
        rotation.contains("app/ci.env") && rotation.contains("(image only)"),
        "{rotation}"
    );
    assert!(
        !rotation.contains("app/.env"),
        "the tree's secret is listed once: {rotation}"
    );
    assert!(!rotation.contains(&in_image) && !rotation.contains(&in_tree));
}

fn zstd(data: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
}

/// A `zstd:chunked` layer as Podman writes one: several frames, then the table of
/// contents in a skippable frame.
fn zstd_chunked(data: &[u8]) -> Vec<u8> {
    let (a, b) = data.split_at(data.len() / 2);
    let mut out = [zstd(a), zstd(b)].concat();
    let toc = br#"{"version":1,"entries":[]}"#;
    out.extend(0x184D_2A50u32.to_le_bytes());
    out.extend((toc.len() as u32).to_le_bytes());
    out.extend(toc);
    out
}

#[test]
fn zstd_layers_and_zstd_chunked_layers_are_read() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (token(50), token(51));
    let l1 = tar_of(&[("etc/one.env", Some(format!("TOKEN={a}\n").as_bytes()))]);
    let mut files = vec![("srv/two.env".to_string(), format!("TOKEN={b}\n"))];
    // Enough members that the frames split the tar in the middle of one.
    for i in 0..40 {
        files.push((format!("srv/filler{i}.txt"), "nothing here\n".repeat(40)));
    }
    let refs: Vec<(&str, Option<&[u8]>)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), Some(c.as_bytes())))
        .collect();
    let l2 = tar_of(&refs);
    let layers = vec![l1, l2];
    let cfg = config(&layers, &[], j!([]));
    let media = "application/vnd.oci.image.layer.v1.tar+zstd";
    let mut chunked = false;
    let oci = oci_image_as(&layers, &cfg, media, |l| {
        chunked = !chunked;
        if chunked {
            zstd(l)
        } else {
            zstd_chunked(l)
        }
    });
    oci_dir(&d.path().join("img"), &oci, "acme/zstd:1");
    let (code, v, stderr) = scan_json(d.path(), &["img"]);
    assert_eq!(code, 1, "{stderr}\n{v}");
    assert_eq!(v["summary"]["errors"], j!([]), "{v}");
    let mut paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths.len(), 2, "{v}");
    assert!(paths[0].ends_with("/etc/one.env") && paths[1].ends_with("/srv/two.env"));
    assert_no_secret("zstd image", &v.to_string(), &[a, b]);
}

/// A tar entry written raw, as an attacker would: any name, any link target.
fn raw_entry(
    b: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    link: &str,
    data: &[u8],
) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
    h.set_cksum();
    b.append(&h, data).unwrap();
}

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, data) in members {
        w.start_file(*name, zip::write::SimpleFileOptions::default())
            .unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn skip_reasons(v: &Value) -> Vec<String> {
    v["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            format!(
                "{}: {}",
                s["path"].as_str().unwrap(),
                s["reason"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn hostile_layers_are_bounded_named_and_never_leave_the_image() {
    let d = tempfile::tempdir().unwrap();
    let t: Vec<String> = (60..70).map(token).collect();
    // A file on this machine that a link in the image points at: never read.
    let host = d.path().join("host-secret.env");
    std::fs::write(&host, format!("TOKEN={}\n", t[9])).unwrap();
    let host = host.to_string_lossy().into_owned();

    let mut b = tar::Builder::new(Vec::new());
    let file = tar::EntryType::Regular;
    raw_entry(
        &mut b,
        "srv/creds/aws.env",
        file,
        "",
        format!("T={}\n", t[0]).as_bytes(),
    );
    raw_entry(
        &mut b,
        "app/conf/key.env",
        file,
        "",
        format!("T={}\n", t[1]).as_bytes(),
    );
    raw_entry(
        &mut b,
        "../../../../tmp/evil.env",
        file,
        "",
        format!("T={}\n", t[2]).as_bytes(),
    );
    raw_entry(&mut b, "etc/soft", tar::EntryType::Symlink, &host, b"");
    raw_entry(&mut b, "etc/hard", tar::EntryType::Link, &host, b"");
    raw_entry(
        &mut b,
        "app/deploy.ps1",
        file,
        "",
        &utf16le(&format!("$t = '{}'\r\n", t[3])),
    );
    let tools = zip_of(&[("run.ps1", &utf16le(&format!("$k = '{}'\r\n", t[4])))]);
    raw_entry(&mut b, "opt/tools.zip", file, "", &tools);
    // A zip bomb, seven zips deep, 50,001 entries, a cut tar.gz.
    raw_entry(
        &mut b,
        "opt/bomb.zip",
        file,
        "",
        &zip_of(&[("zeros", &vec![0u8; 64 << 20])]),
    );
    let mut deep = zip_of(&[("x.env", format!("T={}\n", t[5]).as_bytes())]);
    for i in 0..6 {
        deep = zip_of(&[(&format!("l{i}.zip"), &deep)]);
    }
    raw_entry(&mut b, "opt/deep.zip", file, "", &deep);
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..50_001 {
        w.start_file(format!("{i}"), stored).unwrap();
    }
    raw_entry(
        &mut b,
        "opt/many.zip",
        file,
        "",
        &w.finish().unwrap().into_inner(),
    );
    let cut = gzip(&tar_of(&[("a.env", Some(b"K=v\n"))]));
    raw_entry(&mut b, "opt/cut.tar.gz", file, "", &cut[..cut.len() - 20]);
    // A name that would drive a terminal.
    raw_entry(
        &mut b,
        "app/\x1b]0;owned\x07.env",
        file,
        "",
        format!("T={}\n", t[7]).as_bytes(),
    );
    let l1 = b.into_inner().unwrap();
    // Layer 2 empties srv/ (opaque whiteout) and deletes the directory app/conf.
    let l2 = tar_of(&[("srv/.wh..wh..opq", None), ("app/.wh.conf", None)]);
    let layers = vec![l1, l2];
    let cfg = config(&layers, &[], j!([]));
    docker_save(&d.path().join("evil.tar"), "evil/app:1", &layers, &cfg);

    let (code, v, stderr) = scan_json(d.path(), &["evil.tar"]);
    assert_eq!(code, 1, "{stderr}\n{v}");
    let l1 = digest(&layers[0]);
    let at = |p: &str| format!("evil/app:1!{}/{p}", &l1[..19]);
    let fs = findings(&v);
    let find = |p: &str| {
        fs.iter()
            .find(|f| f["path"] == at(p))
            .unwrap_or_else(|| panic!("{p}: {v}"))
    };
    assert_eq!(find("srv/creds/aws.env")["image"]["removed_in"], 2);
    assert_eq!(find("app/conf/key.env")["image"]["removed_in"], 2);
    assert!(find("../../../../tmp/evil.env")["image"]["removed_in"].is_null());
    assert_eq!(find("app/deploy.ps1")["line"], 1);
    find("opt/tools.zip!run.ps1");
    find("app/\x1b]0;owned\x07.env");
    assert_eq!(fs.len(), 6, "{v}");
    let skipped = skip_reasons(&v);
    for (member, reason) in [
        ("opt/bomb.zip!zeros", "compression ratio over 1000:1"),
        ("!l2.zip", "nested more than 4 deep"),
        ("opt/many.zip", "more than 50000 entries"),
        ("opt/cut.tar.gz", "corrupt archive"),
    ] {
        assert!(
            skipped
                .iter()
                .any(|s| s.contains(member) && s.contains(reason)),
            "{member}: {skipped:?}"
        );
    }
    // Nothing was written where the names point, and every format holds no raw value and
    // no raw escape.
    assert!(!Path::new("/tmp/evil.env").exists());
    let text = run_in(d.path(), &["scan", "-v", "--image", "evil.tar"], None);
    let both = format!("{}{}", text.stdout, text.stderr);
    assert!(both.contains("skipped: evil/app:1!"), "{both}");
    let sarif = run_in(
        d.path(),
        &["scan", "--image", "evil.tar", "-f", "sarif"],
        None,
    );
    assert!(
        text.stdout
            .contains("removed in layer 2, still shipped in layer 1"),
        "{}",
        text.stdout
    );
    for out in [
        &text.stdout,
        &text.stderr,
        &sarif.stdout,
        &v.to_string(),
        &stderr,
    ] {
        assert_no_secret("hostile image", out, &t);
        assert!(!out.contains('\x1b'), "a raw escape in:\n{out}");
    }
    assert!(
        sarif.stdout.contains("opt/tools.zip%21run.ps1"),
        "{}",
        sarif.stdout
    );
}

#[test]
fn a_missing_config_or_a_cut_layer_is_named_and_the_rest_is_still_scanned() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (token(70), token(71));
    // An image whose manifest names a config that is not in the tarball.
    let l = tar_of(&[("a.env", Some(format!("T={a}\n").as_bytes()))]);
    let manifest = j!([{"Config": "missing.json", "RepoTags": ["x:1"], "Layers": ["l/layer.tar"]}]);
    let t = tar_of(&[
        ("l/layer.tar", Some(&l)),
        (
            "manifest.json",
            Some(&serde_json::to_vec(&manifest).unwrap()),
        ),
    ]);
    std::fs::write(d.path().join("noconfig.tar"), t).unwrap();
    // An image whose gzip layer is cut short after its first file.
    let mut files = vec![("first.env".to_string(), format!("T={b}\n").into_bytes())];
    let noise: Vec<u8> = (0..400_000u32)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect();
    files.push(("later.bin".into(), noise));
    let refs: Vec<(&str, Option<&[u8]>)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), Some(c.as_slice())))
        .collect();
    let layer = tar_of(&refs);
    let cfg = config(std::slice::from_ref(&layer), &[], j!([]));
    let mut oci = oci_image(std::slice::from_ref(&layer), &cfg);
    let (_, gz) = &mut oci.blobs[1];
    gz.truncate(gz.len() / 2);
    oci_dir(&d.path().join("cut"), &oci, "acme/cut:1");

    let (code, v, stderr) = scan_json(d.path(), &["noconfig.tar", "cut"]);
    // Findings decide the exit code; the unread parts are errors in the report.
    assert_eq!(code, 1, "{stderr}\n{v}");
    let errors = v["summary"]["errors"].to_string();
    assert!(
        errors.contains("noconfig.tar") && errors.contains("missing.json"),
        "{errors}"
    );
    assert!(
        errors.contains("acme/cut:1") && errors.contains("not a readable tar"),
        "{errors}"
    );
    // What came before the cut was scanned.
    let fs = findings(&v);
    assert_eq!(fs.len(), 1, "{v}");
    assert!(fs[0]["path"].as_str().unwrap().ends_with("/first.env"));
    assert_no_secret("broken images", &format!("{v}{stderr}"), &[a, b]);
}

#[test]
fn one_big_layer_gives_the_same_findings_on_one_thread_and_many_at_the_least_budget() {
    let d = tempfile::tempdir().unwrap();
    let secrets: Vec<String> = (100..160).map(token).collect();
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        let mut body = "filler line of a source file\n".repeat(2000 + i * 50);
        body.push_str(&format!("TOKEN={s}\n"));
        files.push((format!("src/f{i}.txt"), body.into_bytes()));
    }
    // One file larger than a chunk at the least budget, the token at its end.
    let mut big = "x = 1\n".repeat(300_000);
    big.push_str(&format!("TOKEN={}\n", token(99)));
    files.push(("src/big.txt".into(), big.into_bytes()));
    let refs: Vec<(&str, Option<&[u8]>)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), Some(c.as_slice())))
        .collect();
    let layers = vec![tar_of(&refs)];
    let cfg = config(&layers, &[], j!([]));
    docker_save(&d.path().join("big.tar"), "big:1", &layers, &cfg);
    let mut seen = Vec::new();
    for args in [
        &["-j", "1"][..],
        &["-j", "4", "--memory-budget", "32M"],
        &["-j", "3"],
    ] {
        let mut all = vec!["scan", "--image", "big.tar", "--format", "json"];
        all.extend(args);
        let r = run_in(d.path(), &all, None);
        assert_eq!(r.code, 1, "{args:?}: {}", r.stderr);
        let v = json(&r.stdout);
        let mut got: Vec<(String, u64)> = findings(&v)
            .iter()
            .map(|f| {
                (
                    f["path"].as_str().unwrap().to_string(),
                    f["line"].as_u64().unwrap(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(got.len(), 61, "{args:?}");
        assert_eq!(v["summary"]["files_scanned"], 61, "{args:?}");
        seen.push(got);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn an_archive_in_a_layer_past_the_memory_share_is_skipped_by_name() {
    let d = tempfile::tempdir().unwrap();
    let secret = token(80);
    let mut text = "a line of a bundled file\n".repeat(220_000);
    text.push_str(&format!("TOKEN={secret}\n"));
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    w.start_file("conf.txt", stored).unwrap();
    w.write_all(text.as_bytes()).unwrap();
    let jar = w.finish().unwrap().into_inner();
    let layers = vec![tar_of(&[("opt/app.jar", Some(&jar))])];
    let cfg = config(&layers, &[], j!([]));
    docker_save(&d.path().join("i.tar"), "j:1", &layers, &cfg);
    // A 5.5 MB jar: held whole within an ample budget, over what 32M leaves one thread.
    let (code, v, _) = scan_json(d.path(), &["i.tar"]);
    assert_eq!(code, 1, "{v}");
    assert!(findings(&v)[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("opt/app.jar!conf.txt"));
    let r = run_in(
        d.path(),
        &[
            "scan",
            "--image",
            "i.tar",
            "-f",
            "json",
            "-j",
            "1",
            "--memory-budget",
            "32M",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    let skipped = skip_reasons(&v);
    assert!(
        skipped.len() == 1
            && skipped[0].contains("opt/app.jar")
            && skipped[0].contains("--memory-budget leaves for archives"),
        "{skipped:?}"
    );
}

#[test]
fn no_extract_archives_leaves_archives_in_layers_binary_for_scan_guard_and_migrate() {
    let d = tempfile::tempdir().unwrap();
    let repo = d.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let secrets = [token(90), token(91)];
    let zip = zip_of(&[(
        "conf/app.env",
        format!("GITHUB_TOKEN={}\n", secrets[0]).as_bytes(),
    )]);
    let sh = format!("export GITHUB_TOKEN={}\n", secrets[1]);
    let tgz = gzip(&tar_of(&[("etc/gh.sh", Some(sh.as_bytes()))]));
    let layers = vec![tar_of(&[
        ("opt/app.zip", Some(&zip)),
        ("opt/bundle.tar.gz", Some(&tgz)),
    ])];
    let cfg = config(&layers, &[], j!([]));
    docker_save(&d.path().join("i.tar"), "acme/z:1", &layers, &cfg);

    // By default both archives are expanded and their members named.
    let (code, v, stderr) = scan_json(d.path(), &["i.tar"]);
    assert_eq!(code, 1, "{stderr}");
    let mut paths: Vec<&str> = findings(&v)
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert!(
        paths.len() == 2
            && paths[0].ends_with("opt/app.zip!conf/app.env")
            && paths[1].ends_with("opt/bundle.tar.gz!etc/gh.sh"),
        "{paths:?}"
    );

    // With the flag they are binary files, as on disk: listed, not looked into.
    let r = run_in(
        d.path(),
        &[
            "scan",
            "--image",
            "i.tar",
            "-f",
            "json",
            "--no-extract-archives",
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let v = json(&r.stdout);
    assert!(findings(&v).is_empty(), "{v}");
    let mut skipped = skip_reasons(&v);
    skipped.sort();
    assert!(
        skipped.len() == 2
            && skipped[0].contains("opt/app.zip: binary file")
            && skipped[1].contains("opt/bundle.tar.gz: binary file"),
        "{skipped:?}"
    );
    assert_no_secret("scan --no-extract-archives", &r.stdout, &secrets);

    // guard --image: the members are new by default, and unread with the flag.
    let r = run_in(&repo, &["guard", "--image", "../i.tar"], None);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("opt/app.zip!conf/app.env"),
        "{}",
        r.stdout
    );
    let r = run_in(
        &repo,
        &["guard", "--image", "../i.tar", "--no-extract-archives"],
        None,
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);

    // migrate --image: the members join the rotation list only when expanded.
    let rotation = |extra: &[&str], out: &str| {
        let mut args = vec!["migrate", "--image", "../i.tar", "--out", out];
        args.extend_from_slice(extra);
        let r = run_in(&repo, &args, None);
        assert!(r.code == 0 || r.code == 1, "{}{}", r.stdout, r.stderr);
        std::fs::read_to_string(repo.join(out).join("rotation.md")).unwrap_or_default()
    };
    let off = rotation(&["--no-extract-archives"], "off");
    assert!(
        !off.contains("app.zip") && !off.contains("bundle.tar.gz"),
        "{off}"
    );
    // Members of an archive in a layer have the image's provenance: image only, not
    // history (Markdown escapes the `!`).
    let on = rotation(&[], "on");
    assert!(
        on.contains(r"opt/app.zip\!conf/app.env (image only)")
            && on.contains(r"opt/bundle.tar.gz\!etc/gh.sh (image only)"),
        "{on}"
    );
    assert_no_secret("migrate --image", &format!("{off}{on}"), &secrets);
}

#[test]
fn a_tampered_layer_is_a_digest_mismatch_naming_the_image_and_layer() {
    let d = tempfile::tempdir().unwrap();
    // A classic `docker save`: `<id>/layer.tar` names no digest, the config's diff-id
    // does. The tampered tar is still a valid tar, with the same length.
    let good = tar_of(&[("srv/readme.txt", Some(b"hello, world\n"))]);
    let cfg = config(std::slice::from_ref(&good), &[], j!([]));
    let tampered = tar_of(&[("srv/readme.txt", Some(b"HELLO, WORLD\n"))]);
    assert_eq!(good.len(), tampered.len());
    let name = format!("{}/layer.tar", &digest(&good)[7..]);
    let manifest = j!([{"Config": "config.json", "RepoTags": ["acme/t:1"], "Layers": [name]}]);
    let save = tar_of(&[
        ("config.json", Some(&cfg)),
        (&name, Some(&tampered)),
        (
            "manifest.json",
            Some(&serde_json::to_vec(&manifest).unwrap()),
        ),
    ]);
    std::fs::write(d.path().join("t.tar"), save).unwrap();
    let (code, v, stderr) = scan_json(d.path(), &["t.tar"]);
    assert_eq!(
        code, 2,
        "an image that is not what it claims never passes: {v}{stderr}"
    );
    let errors = v["summary"]["errors"].to_string();
    assert!(
        errors.contains("digest mismatch")
            && errors.contains("acme/t:1")
            && errors.contains(&digest(&good)[7..]),
        "{errors}"
    );
    let r = run_in(d.path(), &["guard", "--image", "t.tar"], None);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    // The untampered image is clean.
    let save = tar_of(&[
        ("config.json", Some(&cfg)),
        (&name, Some(&good)),
        (
            "manifest.json",
            Some(&serde_json::to_vec(&manifest).unwrap()),
        ),
    ]);
    std::fs::write(d.path().join("t.tar"), save).unwrap();
    let (code, v, stderr) = scan_json(d.path(), &["t.tar"]);
    assert_eq!(code, 0, "{v}{stderr}");

    // An OCI blob replaced by bytes that are not even a layer: the mismatch is named, not
    // only the unreadable tar.
    let l = tar_of(&[("a.txt", Some(b"nothing\n"))]);
    let oci = oci_image(
        std::slice::from_ref(&l),
        &config(std::slice::from_ref(&l), &[], j!([])),
    );
    oci_dir(&d.path().join("img"), &oci, "acme/o:1");
    let layer = &oci.blobs[1].0;
    let mut garbage = vec![0x1f, 0x8b];
    garbage.extend_from_slice(&[0x55; 64]);
    std::fs::write(d.path().join("img/blobs/sha256").join(&layer[7..]), garbage).unwrap();
    let (code, v, stderr) = scan_json(d.path(), &["img"]);
    assert_eq!(code, 2, "{stderr}");
    let errors = v["summary"]["errors"].to_string();
    assert!(
        errors.contains("digest mismatch")
            && errors.contains(&layer[7..])
            && errors.contains("acme/o:1"),
        "{errors}"
    );
}
