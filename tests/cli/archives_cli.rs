//! End-to-end tests of archives and UTF-16 text (issue 19): members named
//! `archive!member` in every format, bounds listed as skipped while the scan goes on,
//! hostile archives (bombs, deep nesting, many entries, corrupt, encrypted, links, `..`
//! names), `--no-extract-archives`, history scans and baselines. Every archive is built
//! here, every token comes from the rule generator.

use crate::guard_support;

use guard_support::{assert_no_secret, token, Repo, Run};
use std::io::{Cursor, Write};
use zip::write::SimpleFileOptions;

fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data) in members {
        w.start_file(*name, SimpleFileOptions::default()).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

fn tar_gz_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, *data).unwrap();
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&b.into_inner().unwrap()).unwrap();
    gz.finish().unwrap()
}

/// `text` as Windows PowerShell's `Out-File` writes it: UTF-16 LE with a byte-order mark.
fn utf16le(text: &str) -> Vec<u8> {
    let mut out = vec![0xff, 0xfe];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

/// A tree with a token in a jar in a war, one in a tar.gz and one in a UTF-16 script.
fn shipped(repo: &Repo) -> Vec<String> {
    let secrets: Vec<String> = (0..3).map(token).collect();
    let yml = format!("server:\n  port: 8080\ngithub_token: {}\n", secrets[0]);
    let jar = zip_of(&[("BOOT-INF/classes/application.yml", yml.as_bytes())]);
    let war = zip_of(&[("WEB-INF/lib/app.jar", &jar), ("index.html", b"<p>hi</p>")]);
    repo.write("dist/app.war", war);
    let sh = format!("#!/bin/sh\nexport GITHUB_TOKEN={}\n", secrets[1]);
    repo.write(
        "bundle.tar.gz",
        tar_gz_of(&[("etc/profile.d/gh.sh", sh.as_bytes())]),
    );
    let ps1 = format!("# deploy\r\n$é = \"{}\"\r\n", secrets[2]);
    repo.write("deploy.ps1", utf16le(&ps1));
    secrets
}

const WAR_MEMBER: &str = "dist/app.war!WEB-INF/lib/app.jar!BOOT-INF/classes/application.yml";

#[test]
fn members_and_utf16_text_are_found_and_named_in_every_format() {
    let repo = Repo::init();
    let secrets = shipped(&repo);
    let text = repo.unleak(&["scan", "."]);
    assert_eq!(text.code, 1, "{}", text.all());
    assert!(text.stdout.contains(WAR_MEMBER), "{}", text.stdout);
    assert!(text.stdout.contains("bundle.tar.gz!etc/profile.d/gh.sh"));
    assert!(!text.stdout.contains("skipped"), "{}", text.stdout);

    let json = repo.unleak(&["scan", ".", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let at = |path: &str| {
        findings
            .iter()
            .find(|f| f["path"] == path)
            .unwrap_or_else(|| panic!("no finding at {path}: {}", json.stdout))
    };
    assert_eq!(findings.len(), 3, "{}", json.stdout);
    assert_eq!(at(WAR_MEMBER)["line"], 3);
    assert_eq!(at(WAR_MEMBER)["column"], 15);
    assert_eq!(at("bundle.tar.gz!etc/profile.d/gh.sh")["line"], 2);
    // Columns of the decoded text, as an editor shows them: `é` is one character.
    let ps1 = at("deploy.ps1");
    assert_eq!((&ps1["line"], &ps1["column"]), (&2.into(), &7.into()));
    for f in findings {
        assert!(f["rule_id"].as_str().unwrap().starts_with("github"), "{f}");
    }

    // SARIF: the `!` path in the artifact URI, percent-encoded as a URI must be.
    let sarif = repo.unleak(&["scan", ".", "--format", "sarif"]);
    assert!(
        sarif.stdout.contains(&WAR_MEMBER.replace('!', "%21")),
        "{}",
        sarif.stdout
    );
    let github = repo.unleak(&["scan", ".", "--format", "github"]);
    let annotations: Vec<&str> = github
        .stdout
        .lines()
        .filter(|l| l.starts_with("::"))
        .collect();
    assert!(
        annotations.iter().any(|l| l.contains("file=dist/app.war,")
            && l.contains("In the archive member WEB-INF/lib/app.jar!BOOT-INF/classes/application.yml, line 3")),
        "{annotations:?}"
    );
    let jsonl = repo.unleak(&["scan", ".", "--format", "jsonl"]);
    assert!(jsonl.stdout.contains(WAR_MEMBER));
    for run in [&text, &json, &sarif, &github, &jsonl] {
        assert_no_secret("scan", &run.all(), &secrets);
    }
}

#[test]
fn no_extract_archives_leaves_them_binary_and_utf16_is_text_either_way() {
    let repo = Repo::init();
    shipped(&repo);
    let run = repo.unleak(&["scan", ".", "--no-extract-archives", "--format", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let paths: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["deploy.ps1"]);
    let skipped = doc["summary"]["skipped"].to_string();
    for archive in ["dist/app.war", "bundle.tar.gz"] {
        assert!(skipped.contains(archive), "{skipped}");
    }
    assert!(skipped.contains("binary file"), "{skipped}");
}

/// The reasons `skipped` gives for the paths that contain `needle`.
fn reasons(run: &Run, needle: &str) -> Vec<String> {
    let doc: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.all()));
    doc["summary"]["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["path"].as_str().unwrap().contains(needle))
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
fn hostile_archives_are_listed_as_skipped_and_the_scan_goes_on() {
    let repo = Repo::init();
    let secret = token(10);
    repo.write("plain.env", format!("GITHUB_TOKEN={secret}\n"));
    // A zip bomb: 64 MiB of zeros deflate to about 64 KiB.
    repo.write("bomb.zip", zip_of(&[("zeros.bin", &vec![0u8; 64 << 20])]));
    // Six levels of zips in zips.
    let mut deep = zip_of(&[("x.env", format!("T={}\n", token(11)).as_bytes())]);
    for i in 0..6 {
        deep = zip_of(&[(&format!("l{i}.zip"), &deep)]);
    }
    repo.write("deep.zip", deep);
    // 100k tiny entries.
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..100_000 {
        w.start_file(format!("{i}"), stored).unwrap();
    }
    repo.write("many.zip", w.finish().unwrap().into_inner());
    // A truncated central directory.
    let whole = zip_of(&[("a.txt", b"alpha")]);
    repo.write("cut.zip", &whole[..whole.len() - 12]);
    // An encrypted member (its flag set in both headers) beside a readable one.
    let mut locked = zip_of(&[
        ("locked.env", b"K=v\n"),
        ("open.env", format!("T={}\n", token(12)).as_bytes()),
    ]);
    locked[6] |= 1;
    let central = locked.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    locked[central + 8] |= 1;
    repo.write("locked.zip", locked);
    let run = repo.unleak(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut paths: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(paths, vec!["locked.zip!open.env", "plain.env"]);
    let expect = [
        (
            "bomb.zip",
            "bomb.zip!zeros.bin: compression ratio over 1000:1",
        ),
        ("deep.zip", "!l2.zip: archive nested more than 4 deep"),
        ("many.zip", "many.zip: archive has more than 50000 entries"),
        ("cut.zip", "cut.zip: corrupt archive"),
        (
            "locked.zip",
            "locked.zip!locked.env: encrypted archive member",
        ),
    ];
    for (archive, reason) in expect {
        let got = reasons(&run, archive);
        assert!(
            got.len() == 1 && got[0].contains(reason),
            "{archive}: {got:?}"
        );
    }
    assert_no_secret("scan", &run.all(), &[secret]);
}

#[test]
fn max_file_size_applies_to_members() {
    let repo = Repo::init();
    let big: String = (0..4000)
        .map(|i| char::from(b'a' + (i * 7 % 26) as u8))
        .collect();
    repo.write(
        "big.zip",
        zip_of(&[("big.txt", big.as_bytes()), ("small.txt", b"x")]),
    );
    let run = repo.unleak(&["scan", ".", "--format", "json", "--max-file-size", "2K"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_eq!(
        reasons(&run, "big.zip"),
        vec!["big.zip!big.txt: decompressed past --max-file-size (2048 bytes); the rest was not scanned"]
    );
}

#[test]
fn member_names_are_labels_and_links_are_not_followed() {
    let repo = Repo::init();
    let secret = token(20);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    let body = format!("GITHUB_TOKEN={secret}\n");
    h.set_size(body.len() as u64);
    // The tar crate refuses `..` when it writes a name: write it as an attacker would.
    h.as_old_mut().name[..16].copy_from_slice(b"../../etc/passwd");
    h.set_cksum();
    b.append(&h, body.as_bytes()).unwrap();
    let mut link = tar::Header::new_gnu();
    link.set_entry_type(tar::EntryType::Symlink);
    link.set_size(0);
    b.append_link(&mut link, "shadow", "/etc/shadow").unwrap();
    repo.write("sub/evil.tar", b.into_inner().unwrap());
    let run = repo.unleak(&["scan", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["findings"][0]["path"], "sub/evil.tar!../../etc/passwd");
    assert_eq!(
        reasons(&run, "shadow"),
        vec!["sub/evil.tar!shadow: link inside an archive (not followed)"]
    );
    assert!(!repo.dir.join("etc").exists() && !repo.dir.parent().unwrap().join("etc").exists());
}

#[test]
fn history_scans_name_members_of_committed_archives() {
    let repo = Repo::init();
    let secret = token(30);
    let jar = zip_of(&[(
        "conf/app.properties",
        format!("gh.token={secret}\n").as_bytes(),
    )]);
    repo.write("lib/app.jar", jar);
    repo.write("notes.ps1", utf16le(&format!("$t = '{}'\r\n", token(31))));
    repo.commit("add the jar");
    std::fs::remove_file(repo.dir.join("lib/app.jar")).unwrap();
    repo.commit("drop the jar");
    let run = repo.unleak(&["scan", "--git", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let mut paths: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec!["lib/app.jar!conf/app.properties", "notes.ps1"],
        "{}",
        run.stdout
    );
    let off = repo.unleak(&[
        "scan",
        "--git",
        ".",
        "--format",
        "json",
        "--no-extract-archives",
    ]);
    let doc: serde_json::Value = serde_json::from_str(&off.stdout).unwrap();
    assert_eq!(
        doc["findings"].as_array().unwrap().len(),
        1,
        "{}",
        off.stdout
    );
}

#[test]
fn a_secret_moved_into_a_jar_is_not_new_to_the_baseline() {
    let repo = Repo::init();
    let secret = token(40);
    repo.write("app.properties", format!("gh.token={secret}\n"));
    let created = repo.unleak(&["baseline", "create"]);
    assert_eq!(created.code, 0, "{}", created.all());
    repo.commit("baseline");
    std::fs::remove_file(repo.dir.join("app.properties")).unwrap();
    let jar = zip_of(&[(
        "BOOT-INF/classes/app.properties",
        format!("gh.token={secret}\n").as_bytes(),
    )]);
    repo.write("dist/app.jar", jar);
    let guard = repo.unleak(&["guard"]);
    assert_eq!(guard.code, 0, "{}", guard.all());
    // A new secret in the jar is new.
    let jar = zip_of(&[(
        "x.properties",
        format!("gh.token={}\n", token(41)).as_bytes(),
    )]);
    repo.write("dist/other.jar", jar);
    let guard = repo.unleak(&["guard"]);
    assert_eq!(guard.code, 1, "{}", guard.all());
    assert!(
        guard.all().contains("dist/other.jar!x.properties"),
        "{}",
        guard.all()
    );
}

#[test]
fn mask_decodes_utf16_input_and_never_prints_the_token() {
    let repo = Repo::init();
    let secret = token(50);
    let input = utf16le(&format!("Write-Host 'start'\r\n$t = '{secret}'\r\n"));
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_unleak"));
    repo.env(&mut cmd);
    let mut child = cmd
        .arg("mask")
        .current_dir(&repo.dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Write-Host 'start'\r\n$t = '"), "{text}");
    assert!(text.contains("ghp_…"), "{text}");
    assert_no_secret("mask", &text, &[secret]);
}

/// A repository whose `main` has one commit, checked out on a new branch `pr`.
fn on_branch(repo: &Repo) {
    repo.write("README.md", "hello\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "pr"]);
}

fn new_lines(run: &Run) -> Vec<&str> {
    run.stdout
        .lines()
        .filter(|l| l.starts_with("NEW"))
        .collect()
}

#[test]
fn guard_range_expands_archives_the_range_commits() {
    let repo = Repo::init();
    // An archive already on main, with a secret the repository lives with.
    let old = token(50);
    let env = format!("# app\nGITHUB_TOKEN={old}\n");
    repo.write("dist/old.zip", zip_of(&[("app.env", env.as_bytes())]));
    on_branch(&repo);
    let secrets = [token(51), token(52), token(53)];
    let zip = zip_of(&[(
        "conf/app.env",
        format!("# app\nGITHUB_TOKEN={}\n", secrets[0]).as_bytes(),
    )]);
    repo.write("dist/app.zip", zip);
    let sh = format!("export GITHUB_TOKEN={}\n", secrets[1]);
    repo.write(
        "dist/bundle.tar.gz",
        tar_gz_of(&[("etc/gh.sh", sh.as_bytes())]),
    );
    // The old archive rebuilt with one more member: its secret is on an old line.
    repo.write(
        "dist/old.zip",
        zip_of(&[("app.env", env.as_bytes()), ("VERSION", b"2\n")]),
    );
    repo.commit("ship the bundles");
    // An archive one commit adds and the next removes is still in the pull request.
    repo.write(
        "tmp/debug.zip",
        zip_of(&[(
            "x.properties",
            format!("gh.token={}\n", secrets[2]).as_bytes(),
        )]),
    );
    repo.commit("debug");
    std::fs::remove_file(repo.dir.join("tmp/debug.zip")).unwrap();
    repo.commit("undebug");

    let run = repo.unleak(&["guard", "--range", "main..pr"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let new = new_lines(&run);
    let at = |place: &str| new.iter().any(|l| l.contains(place));
    assert!(
        at("dist/app.zip!conf/app.env:2:")
            && at("dist/bundle.tar.gz!etc/gh.sh:1:")
            && at("tmp/debug.zip!x.properties:1:"),
        "{}",
        run.stdout
    );
    assert_eq!(
        new.len(),
        3,
        "the old archive's secret is not new: {}",
        run.stdout
    );
    let json = repo.unleak(&["guard", "--range", "main..pr", "--format", "json"]);
    assert_no_secret(
        "guard --range",
        &format!("{}{}", run.all(), json.all()),
        &secrets,
    );

    // Without expansion they are binary files again, as before.
    let off = repo.unleak(&["guard", "--range", "main..pr", "--no-extract-archives"]);
    assert_eq!(off.code, 0, "{}", off.all());
    let scan = repo.unleak(&["scan", ".", "--range", "main..pr", "--format", "json"]);
    assert_eq!(scan.code, 1, "{}", scan.all());
    assert!(
        scan.stdout.contains("dist/app.zip!conf/app.env"),
        "{}",
        scan.stdout
    );
}

#[test]
fn guard_staged_expands_staged_archives() {
    let repo = Repo::init();
    on_branch(&repo);
    let secret = token(54);
    repo.write(
        "lib/app.jar",
        zip_of(&[(
            "BOOT-INF/classes/application.yml",
            format!("server:\n  port: 8080\ngithub_token: {secret}\n").as_bytes(),
        )]),
    );
    repo.git(&["add", "-A"]);
    let run = repo.unleak(&["guard", "--staged"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        new_lines(&run)
            .iter()
            .any(|l| l.contains("lib/app.jar!BOOT-INF/classes/application.yml:3:")),
        "{}",
        run.stdout
    );
    assert_no_secret("guard --staged", &run.all(), std::slice::from_ref(&secret));
    let off = repo.unleak(&["guard", "--staged", "--no-extract-archives"]);
    assert_eq!(off.code, 0, "{}", off.all());
}
