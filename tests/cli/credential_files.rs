//! Credential files recognised by format, end to end: each file kind of
//! fixtures/credential-files/ (templates whose values are generated here, never pasted)
//! is written under the name its tool gives it, scanned by the real binary, and found
//! under its own rule id, with no generated value in the text, JSON or SARIF report; the
//! same content under a name no glob selects is not reported by that rule.

use crate::common;

use common::{json, repo_root, run_in};
use std::path::Path;
use unleak_rules::generate;

/// A template, where its tool writes it, the path-scoped rules it must be found by, and
/// a name those rules' globs do not select.
struct Kind {
    template: &'static str,
    path: &'static str,
    rules: &'static [&'static str],
    decoy: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        template: "netrc.tmpl",
        path: "home/ci/.netrc",
        rules: &["netrc-file-password"],
        decoy: "notes/notnetrc",
    },
    Kind {
        template: "netrc.tmpl",
        path: "Users/ci/_NETRC",
        rules: &["netrc-file-password"],
        decoy: "notes/netrc.txt",
    },
    Kind {
        template: "pgpass.tmpl",
        path: "home/dba/.pgpass",
        rules: &["pgpass-password"],
        decoy: "notes/pgpass.txt",
    },
    Kind {
        template: "git-credentials.tmpl",
        path: "home/ci/.git-credentials",
        rules: &["git-credentials-password"],
        decoy: "notes/git-credentials.txt",
    },
    Kind {
        template: "s3cfg.tmpl",
        path: "home/ops/.s3cfg",
        rules: &["s3cfg-secret-key"],
        decoy: "notes/s3.ini",
    },
    Kind {
        template: "esmtprc.tmpl",
        path: "home/ops/.esmtprc",
        rules: &["esmtprc-password"],
        decoy: "notes/mail.conf",
    },
    Kind {
        template: "ventrilo_srv.ini.tmpl",
        path: "srv/ventrilo/ventrilo_srv.ini",
        rules: &["ventrilo-server-password"],
        decoy: "srv/ventrilo/other.ini",
    },
    Kind {
        template: "master.key.tmpl",
        path: "app/config/master.key",
        rules: &["rails-master-key"],
        decoy: "app/config/app.key",
    },
    Kind {
        template: "master.key.tmpl",
        path: "app/config/credentials/production.key",
        rules: &["rails-master-key"],
        decoy: "app/keys/production.key",
    },
    Kind {
        template: "sitemanager.xml.tmpl",
        path: "home/ops/.config/filezilla/sitemanager.xml",
        rules: &["filezilla-password", "filezilla-password-base64"],
        decoy: "notes/servers.xml",
    },
    Kind {
        template: "sftp-config.json.tmpl",
        path: "site/sftp-config.json",
        rules: &["deploy-plugin-password"],
        decoy: "site/deploy.json",
    },
    Kind {
        template: "ftpconfig.tmpl",
        path: "site/.ftpconfig",
        rules: &["deploy-plugin-password"],
        decoy: "site/ftpconfig.json",
    },
    Kind {
        template: "remote-sync.json.tmpl",
        path: "site/.remote-sync.json",
        rules: &["deploy-plugin-password"],
        decoy: "site/remote-sync.json",
    },
    Kind {
        template: "vscode-sftp.json.tmpl",
        path: "site/.vscode/sftp.json",
        rules: &["deploy-plugin-password"],
        decoy: "site/sftp.json",
    },
    Kind {
        template: "robomongo.json.tmpl",
        path: "home/dev/.config/robomongo/1.0/robomongo.json",
        rules: &["robomongo-password"],
        decoy: "notes/mongo.json",
    },
    Kind {
        template: "data-sources.xml.tmpl",
        path: "workspace/.dbeaver/data-sources.xml",
        rules: &["dbeaver-password"],
        decoy: "notes/sources.xml",
    },
    Kind {
        template: "webServers.xml.tmpl",
        path: "app/.idea/webServers.xml",
        rules: &["jetbrains-project-password"],
        decoy: "app/webServers.xml",
    },
    Kind {
        template: "logins.json.tmpl",
        path: "home/u/.mozilla/firefox/x.default/logins.json",
        rules: &["firefox-saved-login"],
        decoy: "notes/accounts.json",
    },
    Kind {
        template: "mongoid.yml.tmpl",
        path: "app/config/mongoid.yml",
        rules: &["mongoid-uri-password"],
        decoy: "app/config/mongo.txt",
    },
    Kind {
        template: "htpasswd.tmpl",
        path: "public_html/.htpasswd",
        rules: &["password-hash-htpasswd"],
        decoy: "notes/users.txt",
    },
    Kind {
        template: "shadow.tmpl",
        path: "backup/etc/shadow",
        rules: &["password-hash-shadow"],
        decoy: "notes/shadow.txt",
    },
    Kind {
        template: "ftpd.passwd.tmpl",
        path: "etc/proftpd/ftpd.passwd",
        rules: &["password-hash-passwd"],
        decoy: "notes/ftp-users.txt",
    },
    Kind {
        template: "dump.sql.tmpl",
        path: "db/dump.sql",
        rules: &["password-hash-sql-dump"],
        decoy: "db/dump.txt",
    },
    Kind {
        template: "wp-config.php.tmpl",
        path: "public_html/wp-config.php",
        rules: &["wordpress-db-password", "wordpress-auth-key"],
        decoy: "public_html/wp-config-sample.php",
    },
    Kind {
        template: "docker-config.json.tmpl",
        path: "home/ci/.docker/config.json",
        rules: &["docker-config-file-auth"],
        decoy: "app/config.json",
    },
    Kind {
        template: "npmrc.tmpl",
        path: "app/.npmrc",
        rules: &["npmrc-file-basic-auth"],
        decoy: "app/npmrc.txt",
    },
];

/// Template files that hold keys, found by rules that are not path-scoped: a PuTTY key is
/// recognised by its own structure wherever it is.
const KEYS: &[(&str, &str, &str)] = &[
    (
        "deploy.ppk.tmpl",
        "home/ops/keys/deploy.ppk",
        "private-key-putty",
    ),
    (
        "deploy-encrypted.ppk.tmpl",
        "home/ops/keys/deploy-encrypted.ppk",
        "private-key-putty-encrypted",
    ),
];

/// Expand a template with a seed of its own; returns the text and the values made.
fn expand(template: &str, seed: u64) -> (String, Vec<String>) {
    let path = repo_root().join("fixtures/credential-files").join(template);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    generate::expand(&text, seed).unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Write every kind under its own name and under its decoy name; returns the generated
/// values with the template each came from.
fn tree(root: &Path) -> Vec<(&'static str, String)> {
    let mut values = Vec::new();
    for (n, kind) in KINDS.iter().enumerate() {
        let (text, made) = expand(kind.template, 7000 + n as u64);
        write(root, kind.path, &text);
        write(root, kind.decoy, &text);
        values.extend(made.into_iter().map(|v| (kind.template, v)));
    }
    for (n, (template, path, _)) in KEYS.iter().enumerate() {
        let (text, made) = expand(template, 8000 + n as u64);
        write(root, path, &text);
        values.extend(made.into_iter().map(|v| (*template, v)));
    }
    values
}

/// The parts of a generated value that must never be printed: each run of 12 or more
/// letters and digits (a PuTTY key's random lines, not its `Encryption` header, which rule
/// descriptions name), or the whole value when it has none (a weak password).
fn secret_parts(value: &str) -> Vec<String> {
    let runs: Vec<String> = value
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|r| r.len() >= 12)
        .map(str::to_string)
        .collect();
    if runs.is_empty() {
        vec![value.to_string()]
    } else {
        runs
    }
}

/// Whether `part` stands in `out` as a whole word (a short value inside a longer word,
/// such as a rule name, is not it).
fn printed(out: &str, part: &str) -> bool {
    out.match_indices(part).any(|(i, _)| {
        let before = out[..i].chars().next_back();
        let after = out[i + part.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !after.is_some_and(|c| c.is_ascii_alphanumeric())
    })
}

fn findings(root: &Path) -> Vec<(String, String)> {
    let r = run_in(root, &["scan", ".", "--format", "json"], None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = json(&r.stdout);
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let path = f["path"]
                .as_str()
                .unwrap()
                .trim_start_matches("./")
                .to_string();
            (path, f["rule_id"].as_str().unwrap().to_string())
        })
        .collect()
}

#[test]
fn every_credential_file_kind_is_found_by_its_rule_and_never_under_another_name() {
    let dir = tempfile::tempdir().unwrap();
    tree(dir.path());
    let found = findings(dir.path());
    let has = |path: &str, rule: &str| found.iter().any(|(p, r)| p == path && r == rule);
    let mut problems = Vec::new();
    for kind in KINDS {
        for rule in kind.rules {
            if !has(kind.path, rule) {
                problems.push(format!("{} is not reported by {rule}", kind.path));
            }
            if has(kind.decoy, rule) {
                problems.push(format!(
                    "{} (not a {}) is reported by {rule}",
                    kind.decoy, kind.path
                ));
            }
        }
    }
    for (_, path, rule) in KEYS {
        if !has(path, rule) {
            problems.push(format!("{path} is not reported by {rule}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn credential_file_values_are_redacted_in_every_output_format() {
    let dir = tempfile::tempdir().unwrap();
    let values = tree(dir.path());
    for format in ["text", "json", "jsonl", "sarif", "github"] {
        let r = run_in(dir.path(), &["scan", ".", "--format", format], None);
        assert_eq!(r.code, 1, "{format}: {}", r.stderr);
        let out = format!("{}{}", r.stdout, r.stderr);
        for (template, value) in &values {
            for part in secret_parts(value) {
                assert!(
                    !printed(&out, &part),
                    "{format}: a value of {template} is printed"
                );
            }
        }
    }
}

#[test]
fn locked_and_empty_accounts_and_placeholders_in_credential_files_are_not_findings() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "etc/shadow", "root:!:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nbin:!!:19000::::::\nnobody::19000:0:99999:7:::\n");
    write(
        dir.path(),
        "home/ci/.netrc",
        "machine git.acme.internal login ci password $GIT_PASSWORD\n",
    );
    write(
        dir.path(),
        "home/dba/.pgpass",
        "#hostname:port:database:username:password\n*:*:*:app:\n",
    );
    write(dir.path(), "public_html/wp-config.php", "<?php\ndefine( 'DB_PASSWORD', 'password_here' );\ndefine( 'AUTH_KEY', 'put your unique phrase here' );\ndefine( 'NONCE_SALT', getenv( 'WP_NONCE_SALT' ) );\n");
    write(
        dir.path(),
        "site/.vscode/sftp.json",
        "{\"host\": \"web.acme.internal\", \"password\": \"${env:SFTP_PASSWORD}\"}\n",
    );
    let r = run_in(dir.path(), &["scan", ".", "--format", "json"], None);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn a_weak_password_in_a_credential_file_is_still_reported() {
    // A password equal to its user is trivially fake in code or docs, but in a file a
    // path-scoped rule reads (the application's own connection settings) it is the login.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "config/mongoid.yml",
        "production:\n  clients:\n    default:\n      uri: mongodb://orders:orders@db.acme.internal:27017/orders\n",
    );
    let r = run_in(dir.path(), &["scan", ".", "--format", "json"], None);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("mongoid-uri-password"), "{}", r.stdout);
}

#[test]
fn a_user_rule_with_a_bad_paths_glob_is_an_error_naming_the_file_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "mine.toml",
        "[[rules]]\nid = \"acme-rc\"\nname = \"Acme rc\"\npaths = [\"**/[.acmerc\"]\nregex = '''password=(?P<secret>\\S+)'''\nconfidence = \"high\"\n",
    );
    write(dir.path(), "src/.acmerc", "password=x\n");
    let r = run_in(dir.path(), &["scan", "src", "--rules", "mine.toml"], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("mine.toml")
            && r.stderr.contains("acme-rc")
            && r.stderr.contains("**/[.acmerc"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_user_rule_scoped_to_a_file_name_reads_only_that_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "mine.toml",
        "[[rules]]\nid = \"acme-rc\"\nname = \"Acme rc\"\npaths = [\"**/.acmerc\"]\nregex = '''(?m)^token=(?P<secret>\\S+)'''\nconfidence = \"high\"\n",
    );
    let (text, _) = generate::expand("token={{gen:alnum:24}}\n", 42).unwrap();
    write(dir.path(), "src/.acmerc", &text);
    write(dir.path(), "src/notacmerc", &text);
    write(dir.path(), "src/.acmerc.d/x", &text);
    let r = run_in(
        dir.path(),
        &["scan", "src", "--rules", "mine.toml", "--format", "json"],
        None,
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let paths: Vec<String> = json(&r.stdout)["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"] == "acme-rc")
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(paths, ["src/.acmerc"]);
}
