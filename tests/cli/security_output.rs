//! End-to-end tests of what unleak prints about hostile names and metadata (SECURITY.md,
//! "Output cannot be injected" and "It never prints a secret unless asked"): file names
//! that are workflow commands or terminal escapes, and a token repeated in a file name, a
//! commit message, an author and a `--repo-url`. Every format of `scan` and `guard` is
//! checked; tokens come from the small generator below.

use crate::guard_support;

use guard_support::{Repo, Run};
use std::collections::BTreeSet;
use std::process::Command;

/// A `ghp_` token with a valid checksum: 30 pseudo-random characters, then their CRC32 in
/// six base62 digits, as GitHub makes them. Distinct seeds give distinct tokens.
fn ghp(seed: u64) -> String {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let body: String = (0..30)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            B62[(state % 62) as usize] as char
        })
        .collect();
    let mut crc: u32 = !0;
    for b in body.bytes() {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    let mut n = !crc;
    let mut check = [b'0'; 6];
    for digit in check.iter_mut().rev() {
        *digit = B62[(n % 62) as usize];
        n /= 62;
    }
    format!("ghp_{body}{}", String::from_utf8_lossy(&check))
}

/// Names a pull request can plant at the root of the tree: workflow commands (new and
/// legacy form, with and without leading space) and terminal escapes (ESC, BEL, bidi).
const HOSTILE: [&str; 6] = [
    "::error::pwned",
    "::add-mask::x",
    " ::warning::lead",
    "##[error]legacy",
    "mid ##[warning]line",
    "esc\u{1b}[2J\u{1b}]0;title\u{7}bidi\u{202e}evil.env",
];

/// A repository whose `feature` branch adds one file per hostile name, each with its own
/// token; `main` holds only a README.
fn hostile_repo() -> (Repo, Vec<String>) {
    let repo = Repo::init();
    repo.write("README", "hi\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let tokens: Vec<String> = (0..HOSTILE.len() as u64).map(|i| ghp(100 + i)).collect();
    for (name, token) in HOSTILE.iter().zip(&tokens) {
        repo.write(name, format!("GITHUB_TOKEN={token}\n"));
    }
    repo.commit("add files");
    (repo, tokens)
}

/// What the Actions runner would run from `out`: lines that start with `::` after
/// trimming, or that hold `##[` anywhere. unleak's own annotations are the only allowed
/// ones; each is returned with its `file=` value.
fn commands(what: &str, out: &str) -> Vec<String> {
    assert!(!out.contains("##["), "{what}: a legacy command:\n{out}");
    assert!(!out.contains('\u{1b}'), "{what}: a raw ESC:\n{out:?}");
    assert!(
        !out.contains('\u{7}') && !out.contains('\u{202e}'),
        "{what}: {out:?}"
    );
    let mut files = Vec::new();
    for line in out.lines() {
        let line = line.trim_start();
        if !line.starts_with("::") {
            continue;
        }
        let props = ["::error file=", "::warning file=", "::notice file="]
            .iter()
            .find_map(|p| line.strip_prefix(p));
        let Some(props) = props else {
            assert!(
                line.starts_with("::notice title=unleak::"),
                "{what}: a workflow command that is not an annotation: {line}"
            );
            continue;
        };
        let (props, _message) = props.split_once("::").expect("an annotation has a message");
        let file = props.split(',').next().unwrap();
        // Encoded: nothing in the value can end the property list or start a property.
        assert!(
            !file.contains(':') && !file.contains('\n'),
            "{what}: {line}"
        );
        files.push(file.to_string());
    }
    files
}

fn assert_no_tokens(what: &str, out: &str, tokens: &[String]) {
    for t in tokens {
        assert!(!out.contains(&t[4..]), "{what} leaked a token:\n{out}");
    }
}

#[test]
fn hostile_names_inject_nothing_in_any_format_of_scan() {
    let (repo, tokens) = hostile_repo();
    for format in ["text", "github", "json", "jsonl", "sarif"] {
        let run = repo.unleak(&["scan", ".", "-f", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.all());
        let files = commands(&format!("scan -f {format}"), &run.all());
        assert_no_tokens(format, &run.all(), &tokens);
        if format == "github" {
            // One annotation per file, no two names encoded alike.
            let distinct: BTreeSet<&String> = files.iter().collect();
            assert_eq!(distinct.len(), HOSTILE.len(), "{}", run.stdout);
        } else {
            assert!(files.is_empty(), "{format}:\n{}", run.stdout);
        }
    }
    // The text report's group headers are the bare names, escaped.
    let text = repo.unleak(&["scan", "."]).stdout;
    for header in [
        "\\x3a:error::pwned",
        " \\x3a:warning::lead",
        "\\x23#[error]legacy",
    ] {
        assert!(text.lines().any(|l| l == header), "{header} in:\n{text}");
    }
    // JSON keeps the names exact for programs.
    let doc: serde_json::Value =
        serde_json::from_str(&repo.unleak(&["scan", ".", "-f", "json"]).stdout).unwrap();
    let paths: BTreeSet<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, HOSTILE.iter().copied().collect());
}

#[test]
fn hostile_names_inject_nothing_in_any_format_of_guard() {
    let (repo, tokens) = hostile_repo();
    for format in ["text", "github", "json", "sarif"] {
        let run = repo.unleak(&["guard", ".", "--range", "main..feature", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.all());
        let files = commands(&format!("guard --format {format}"), &run.all());
        assert_no_tokens(format, &run.all(), &tokens);
        let expected = if format == "github" { HOSTILE.len() } else { 0 };
        let distinct: BTreeSet<&String> = files.iter().collect();
        assert_eq!(distinct.len(), expected, "{format}:\n{}", run.stdout);
    }
    // The annotation of the escape-laden name is encoded, not cut at the ESC.
    let github = repo
        .unleak(&[
            "guard",
            ".",
            "--range",
            "main..feature",
            "--format",
            "github",
        ])
        .stdout;
    assert!(
        github.contains("file=esc%1B[2J%1B]0;title%07bidi%E2%80%AEevil.env,"),
        "{github}"
    );
}

/// A repository where one token is in a file's content and name, in the message and the
/// author of the commit on `feature` that added it.
fn leaky_history() -> (Repo, String) {
    let repo = Repo::init();
    let token = ghp(7);
    repo.write("README", "hi\n");
    repo.commit("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    let name = format!("cfg-{token}.env");
    repo.write(&name, format!("GITHUB_TOKEN={token}\n"));
    repo.git(&["add", "-A"]);
    let author = format!("dev {token} <ci-{token}@example.com>");
    repo.git(&[
        "commit",
        "-q",
        "--no-verify",
        "--author",
        &author,
        "-m",
        &format!("use token {token} for CI"),
    ]);
    (repo, token)
}

#[test]
fn a_token_in_git_metadata_and_names_is_masked_unless_asked() {
    let (repo, token) = leaky_history();
    for format in ["text", "github", "json", "jsonl", "sarif"] {
        let run = repo.unleak(&["scan", "--git", ".", "-f", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.all());
        assert_no_tokens(
            &format!("scan --git -f {format}"),
            &run.all(),
            std::slice::from_ref(&token),
        );
    }
    let text = repo.unleak(&["scan", "--git", "."]).stdout;
    assert!(text.contains("cfg-ghp_…(40 chars).env"), "{text}");
    // The provenance line stays useful: who, and the message around the mask.
    let json = repo.unleak(&["scan", "--git", ".", "-f", "json"]).stdout;
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let git = &doc["findings"][0]["git"];
    assert_eq!(git["summary"], "use token ghp_…(40 chars) for CI");
    assert_eq!(git["author"], "dev ghp_…(40 chars)");
    assert_eq!(git["email"], "ci-ghp_…(40 chars)@example.com");

    // --show-secrets shows everything as it was read.
    let shown = repo.unleak(&["scan", "--git", ".", "--show-secrets", "-f", "json"]);
    let doc: serde_json::Value = serde_json::from_str(&shown.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["secret"], token.as_str());
    assert_eq!(f["path"], format!("cfg-{token}.env"));
    assert_eq!(f["git"]["summary"], format!("use token {token} for CI"));
    let text = repo
        .unleak(&["scan", "--git", ".", "--show-secrets"])
        .stdout;
    assert!(
        text.contains(&format!("use token {token} for CI")),
        "{text}"
    );
}

#[test]
fn a_token_in_a_file_name_stays_out_of_tree_scans_the_guard_and_the_baseline() {
    let (repo, token) = leaky_history();
    let secrets = [token.clone()];
    for format in ["text", "github", "json", "sarif"] {
        let run = repo.unleak(&["guard", ".", "--range", "main..feature", "--format", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.all());
        assert_no_tokens(&format!("guard --format {format}"), &run.all(), &secrets);
    }
    for format in ["text", "github", "json", "jsonl", "sarif"] {
        let run = repo.unleak(&["scan", ".", "-f", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.all());
        assert_no_tokens(&format!("scan -f {format}"), &run.all(), &secrets);
    }
    let tree = repo.unleak(&["guard", ".", "--format", "json"]);
    assert_no_tokens("guard (tree)", &tree.all(), &secrets);
    let summary = repo.scratch.join("summary.md");
    let run = repo.unleak(&["guard", ".", "--summary", summary.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert_no_tokens(
        "job summary",
        &std::fs::read_to_string(&summary).unwrap(),
        &secrets,
    );

    let created = repo.unleak(&["baseline", "create"]);
    assert_eq!(created.code, 0, "{}", created.all());
    let baseline = repo.read(".unleak-baseline.json");
    assert_no_tokens("baseline", &baseline, &secrets);
    assert!(baseline.contains("cfg-ghp_…(40 chars).env"), "{baseline}");
    // The masked path still matches: with the baseline, nothing is new.
    let run = repo.unleak(&["guard", "."]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert_no_tokens("guard with a baseline", &run.all(), &secrets);
}

#[test]
fn repo_url_credentials_go_nowhere() {
    let (repo, token) = leaky_history();
    // Removed again, so SARIF points at the commit under the repository URL.
    repo.git(&["rm", "-q", &format!("cfg-{token}.env")]);
    repo.commit("remove the token");
    let credential = ghp(8);
    let url = format!("https://u:{credential}@github.com/a/b?private_token={credential}#x");
    for format in ["sarif", "text", "json", "github"] {
        let run = repo.unleak(&["scan", "--git", ".", "--repo-url", &url, "-f", format]);
        assert_eq!(run.code, 1, "{format}: {}", run.all());
        assert_no_tokens(format, &run.all(), &[credential.clone(), token.clone()]);
        assert!(!run.all().contains("u:"), "{format}: {}", run.all());
        assert!(
            run.stderr.contains("--repo-url"),
            "no warning: {}",
            run.stderr
        );
    }
    let run = repo.unleak(&["scan", "--git", ".", "--repo-url", &url, "-f", "sarif"]);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let sarif_run = &doc["runs"][0];
    assert_eq!(
        sarif_run["versionControlProvenance"][0]["repositoryUri"],
        "https://github.com/a/b"
    );
    // The commit link is in the properties; the location stays a repository path, which
    // is all code scanning accepts.
    let result = &sarif_run["results"][0];
    let link = result["properties"]["commitUrl"].as_str().unwrap();
    assert!(link.starts_with("https://github.com/a/b/blob/"), "{link}");
    let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        .as_str()
        .unwrap();
    assert!(uri.starts_with("cfg-"), "{uri}");
    // A URL without a credential passes as it is, without a warning.
    let clean = repo.unleak(&["scan", "--git", ".", "--repo-url", "https://github.com/a/b"]);
    assert!(!clean.stderr.contains("--repo-url"), "{}", clean.stderr);
}

/// `-v` logs to a pipe, with NO_COLOR unset: plain text.
#[test]
fn verbose_logs_into_a_pipe_have_no_colour() {
    let (repo, _) = hostile_repo();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_unleak"));
    repo.env(&mut cmd);
    cmd.env_remove("NO_COLOR")
        .current_dir(&repo.dir)
        .args(["scan", ".", "-v", "-f", "json"]);
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("INFO"), "no log lines: {}", run.stderr);
    assert!(
        !run.all().contains("\u{1b}["),
        "colour in a pipe: {:?}",
        run.stderr
    );
}
