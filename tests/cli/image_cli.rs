//! `scan --image` and `guard --image` end to end: docker-save tarballs, OCI layouts (a
//! directory and a tar), whiteouts, layers shared by images, corrupt images, and a pull
//! from an OCI distribution server this test serves on loopback (with the anonymous
//! bearer-token flow). Images are built here, tiny; values are generated.

use crate::common;
use crate::guard_support;

use common::{json, run_in};
use flate2::{write::GzEncoder, Compression};
use guard_support::token;
use serde_json::{json as j, Value};
use sha2::{Digest, Sha256};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};

fn digest(bytes: &[u8]) -> String {
    let h = Sha256::digest(bytes);
    format!(
        "sha256:{}",
        h.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// A tar of `(path, content)`; a `None` content is an empty whiteout marker.
fn tar_of(files: &[(&str, Option<&[u8]>)]) -> Vec<u8> {
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
fn config(layers: &[Vec<u8>], env: &[String], history: Value) -> Vec<u8> {
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
fn docker_save(out: &Path, tag: &str, layers: &[Vec<u8>], config: &[u8]) {
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

/// An OCI image of gzip layers; `index` wraps its manifest in an image index.
fn oci_image(layers: &[Vec<u8>], config: &[u8]) -> Oci {
    let mut blobs = vec![(digest(config), config.to_vec())];
    let mut descs = Vec::new();
    for l in layers {
        let gz = gzip(l);
        descs.push(
            j!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                       "digest": digest(&gz), "size": gz.len()}),
        );
        blobs.push((digest(&gz), gz));
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
