//! UTF-16 text larger than one read chunk (issue 19, point 3): on disk, in an image layer,
//! in a git history blob, on standard input and through `unleak mask`, in both byte orders, with a mark or
//! told by its NUL pattern. Each file holds a token across a chunk cut, one inside the
//! overlap two chunks share and one near its end: each is found once, at the line and
//! column an editor shows (characters of the decoded text). A large binary file is still
//! skipped. The files are generated here, just over two chunks of the budget the scans
//! run with; the tokens come from the rule generator.

use crate::guard_support::{assert_no_secret, token, Repo, Run};
use crate::image_cli::{config, digest, docker_save, tar_of};
use serde_json::Value;
use unleak_core::MemoryBudget;
use unleak_sources::CHUNK_OVERLAP;

/// The budget and threads the file and image scans run with: small chunks, small files.
const BUDGET: &str = "32M";
const THREADS: &str = "6";

/// New bytes per chunk in a scan with [`BUDGET`] and [`THREADS`] (see
/// `unleak_sources::scan_stream`): the chunk buffer less the overlap.
fn chunk_size() -> usize {
    let plan = MemoryBudget::new(32 << 20).unwrap().workers(6);
    assert_eq!(plan.threads, 6, "{plan:?}");
    plan.chunk_buffer as usize - CHUNK_OVERLAP
}

/// A script and the tokens in it, each with its 1-based line and column.
struct Planted {
    text: String,
    tokens: Vec<(String, usize, usize)>,
}

/// Where `needle` sits in `text`: 1-based line and column in characters.
fn line_column(text: &str, needle: &str) -> (usize, usize) {
    let at = text.find(needle).unwrap();
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (
        text[..at].matches('\n').count() + 1,
        text[line_start..at].chars().count() + 1,
    )
}

/// A script over two chunks long. Its first line is longer than a chunk, so the first
/// cut falls inside it, not at a line break: `a` straddles that cut and `b` lies in the
/// overlap the next chunk repeats. The line is `é`, two bytes each, placed so that the
/// overlap starts inside one (the cut itself is inside `a`). `z` is near the end.
fn planted(seed: u64) -> Planted {
    let c = chunk_size();
    let (a, b, z) = (token(seed), token(seed + 1), token(seed + 2));
    // `b` starts 30000 bytes before the cut, `a` 20 bytes before it; a prefix of one or
    // two bytes makes both distances work out in whole `é`s.
    let prefix = if c.is_multiple_of(2) { "#" } else { "##" };
    let before_b = (c - 30_000 - prefix.len() - 1) / 2;
    let between = (30_000 - 20 - b.len() - 2) / 2;
    let mut text = format!(
        "{prefix}{} {b} {} {a} {}\r\n",
        "é".repeat(before_b),
        "é".repeat(between),
        "é".repeat(1000)
    );
    assert_eq!(text.find(&b), Some(c - 30_000), "b inside the overlap");
    assert_eq!(text.find(&a), Some(c - 20), "a across the first cut");
    assert!(
        !text.is_char_boundary(c - CHUNK_OVERLAP),
        "the overlap cuts an é"
    );
    let mut n = 0;
    while text.len() < 2 * c + c / 2 {
        n += 1;
        text.push_str(&format!(
            "# {n:06} é € \u{1F511} filler of a generated script\r\n"
        ));
    }
    text.push_str(&format!("$é = \"{z}\"\r\nWrite-Host 'done'\r\n"));
    let tokens = [a, b, z]
        .into_iter()
        .map(|t| {
            let (line, column) = line_column(&text, &t);
            (t, line, column)
        })
        .collect();
    Planted { text, tokens }
}

/// `text` in UTF-16, little- or big-endian, with or without a byte-order mark.
fn utf16(text: &str, little: bool, mark: bool) -> Vec<u8> {
    let unit = |u: u16| {
        if little {
            u.to_le_bytes()
        } else {
            u.to_be_bytes()
        }
    };
    let mut out = Vec::with_capacity(text.len() * 2 + 2);
    if mark {
        out.extend(unit(0xfeff));
    }
    out.extend(text.encode_utf16().flat_map(unit));
    out
}

/// The four files: both byte orders, with and without a mark, each with its own tokens.
fn scripts() -> Vec<(&'static str, Planted, Vec<u8>)> {
    [
        ("le-mark.ps1", true, true),
        ("be-mark.ps1", false, true),
        ("le.ps1", true, false),
        ("be.ps1", false, false),
    ]
    .into_iter()
    .enumerate()
    .map(|(i, (name, little, mark))| {
        let planted = planted(100 + 10 * i as u64);
        let bytes = utf16(&planted.text, little, mark);
        (name, planted, bytes)
    })
    .collect()
}

/// A binary file past the whole-file limit: u32 counters, NUL bytes at every parity (so
/// no UTF-16 pattern), with a token inside that must not be reported.
fn binary(secret: &str) -> Vec<u8> {
    let mut data: Vec<u8> = (0u32..200_000).flat_map(u32::to_le_bytes).collect();
    data.extend(secret.as_bytes());
    data.extend((0u32..200_000).flat_map(u32::to_le_bytes));
    data
}

fn json_of(run: &Run) -> Value {
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.all()))
}

/// Each script's tokens found once each, at their line and column, under `path(name)`.
fn assert_found(doc: &Value, scripts: &[(&str, Planted, Vec<u8>)], path: impl Fn(&str) -> String) {
    let findings = doc["findings"].as_array().unwrap();
    for (name, planted, _) in scripts {
        let path = path(name);
        let mut got: Vec<(u64, u64)> = findings
            .iter()
            .filter(|f| f["path"] == path.as_str())
            .map(|f| {
                assert!(f["rule_id"].as_str().unwrap().starts_with("github"), "{f}");
                (f["line"].as_u64().unwrap(), f["column"].as_u64().unwrap())
            })
            .collect();
        got.sort_unstable();
        let mut want: Vec<(u64, u64)> = planted
            .tokens
            .iter()
            .map(|(_, line, column)| (*line as u64, *column as u64))
            .collect();
        want.sort_unstable();
        assert_eq!(got, want, "{path}: {}", doc["summary"]);
    }
    let expected: usize = scripts.iter().map(|(_, p, _)| p.tokens.len()).sum();
    assert_eq!(findings.len(), expected, "{}", doc["summary"]);
}

fn all_tokens(scripts: &[(&str, Planted, Vec<u8>)]) -> Vec<String> {
    scripts
        .iter()
        .flat_map(|(_, p, _)| p.tokens.iter().map(|(t, _, _)| t.clone()))
        .collect()
}

#[test]
fn large_utf16_files_on_disk_are_decoded_in_chunks_and_binary_is_still_skipped() {
    let repo = Repo::init();
    let scripts = scripts();
    for (name, _, bytes) in &scripts {
        repo.write(name, bytes);
    }
    let hidden = token(99);
    repo.write("tool.bin", binary(&hidden));
    let run = repo.unleak(&[
        "scan",
        ".",
        "--format",
        "json",
        "-j",
        THREADS,
        "--memory-budget",
        BUDGET,
    ]);
    assert_eq!(run.code, 1, "{}", run.all());
    let doc = json_of(&run);
    assert_found(&doc, &scripts, str::to_string);
    let skipped = doc["summary"]["skipped"].to_string();
    assert!(
        skipped.contains("tool.bin") && skipped.contains("binary file"),
        "{skipped}"
    );
    assert!(!skipped.contains(".ps1"), "{skipped}");
    let mut secrets = all_tokens(&scripts);
    secrets.push(hidden);
    assert_no_secret("scan", &run.all(), &secrets);
}

#[test]
fn large_utf16_files_in_an_image_layer_are_decoded_in_chunks() {
    let d = tempfile::tempdir().unwrap();
    let scripts = scripts();
    let members: Vec<(String, Vec<u8>)> = scripts
        .iter()
        .map(|(name, _, bytes)| (format!("app/{name}"), bytes.clone()))
        .collect();
    let mut files: Vec<(&str, Option<&[u8]>)> = members
        .iter()
        .map(|(path, bytes)| (path.as_str(), Some(bytes.as_slice())))
        .collect();
    let hidden = token(98);
    let tool = binary(&hidden);
    files.push(("app/tool.bin", Some(&tool)));
    let layer = tar_of(&files);
    let cfg = config(
        std::slice::from_ref(&layer),
        &[],
        serde_json::json!([{"created_by": "COPY app /app"}]),
    );
    docker_save(
        &d.path().join("win.tar"),
        "acme/win:1",
        std::slice::from_ref(&layer),
        &cfg,
    );
    let run = crate::common::run_in(
        d.path(),
        &[
            "scan",
            "--image",
            "win.tar",
            "--format",
            "json",
            "-j",
            THREADS,
            "--memory-budget",
            BUDGET,
        ],
        None,
    );
    assert_eq!(run.code, 1, "{}", run.all());
    let doc = json_of(&run);
    let layer_id = digest(&layer);
    assert_found(&doc, &scripts, |name| {
        format!("acme/win:1!{}/app/{name}", &layer_id[..19])
    });
    let skipped = doc["summary"]["skipped"].to_string();
    assert!(
        skipped.contains("app/tool.bin") && skipped.contains("binary"),
        "{skipped}"
    );
    assert!(!skipped.contains(".ps1"), "{skipped}");
    let mut secrets = all_tokens(&scripts);
    secrets.push(hidden);
    assert_no_secret("scan --image", &run.all(), &secrets);
}

#[test]
fn large_utf16_blobs_in_git_history_are_decoded() {
    let repo = Repo::init();
    let scripts = scripts();
    for (name, _, bytes) in &scripts {
        repo.write(name, bytes);
    }
    repo.write("tool.bin", binary(&token(97)));
    repo.commit("add the scripts");
    // History holds a blob whole, within the default budget.
    let run = repo.unleak(&["scan", "--git", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.all());
    let doc = json_of(&run);
    assert_found(&doc, &scripts, str::to_string);
    let mut secrets = all_tokens(&scripts);
    secrets.push(token(97));
    assert_no_secret("scan --git", &run.all(), &secrets);
}

#[test]
fn large_utf16_on_standard_input_is_decoded_in_chunks() {
    let d = tempfile::tempdir().unwrap();
    for (name, planted, bytes) in scripts() {
        let args = ["scan", "-", "--format", "json", "-j", THREADS];
        let args = [&args[..], &["--memory-budget", BUDGET]].concat();
        let run = crate::common::run_in(d.path(), &args, Some(&bytes));
        assert_eq!(run.code, 1, "{name}: {}", run.all());
        let one = [(name, planted, bytes)];
        assert_found(&json_of(&run), &one, |_| "<stdin>".to_string());
        assert_no_secret("scan -", &run.all(), &all_tokens(&one));
    }
}

#[test]
fn mask_decodes_large_utf16_input_and_masks_every_token() {
    let d = tempfile::tempdir().unwrap();
    for (name, planted, bytes) in scripts() {
        let run = crate::common::run_in(d.path(), &["mask"], Some(&bytes));
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let secrets: Vec<String> = planted.tokens.iter().map(|(t, _, _)| t.clone()).collect();
        assert_no_secret("mask", &run.stdout, &secrets);
        // UTF-8 out, line for line; only the lines with a token differ.
        let (want, got): (Vec<&str>, Vec<&str>) =
            (planted.text.lines().collect(), run.stdout.lines().collect());
        assert_eq!(got.len(), want.len(), "{name}");
        for (i, (w, g)) in want.iter().zip(&got).enumerate() {
            let with_token = planted.tokens.iter().any(|(_, line, _)| *line == i + 1);
            assert_eq!(w == g, !with_token, "{name}: line {}", i + 1);
        }
        assert_eq!(run.stdout.matches("ghp_…").count(), 3, "{name}");
    }
}
