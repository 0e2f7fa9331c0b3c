//! What a file's syntax says about a value in it, judged from the file's path: in source
//! code only a string literal holds a literal value (a bare right-hand side is an
//! identifier, a call or a member access); in configuration formats a bare value is one.
//! Also which files hold live settings (`.env`, `.netrc`, `.pgpass`…), where even a weak
//! value is a leak rather than a stand-in.
//!
//! Owns: the path → [`FileKind`] mapping and the rules about a value's surroundings on its
//! line: quoted or bare, inside a string literal, interpolated (`"$VAR"`, `"{name}"`), inside
//! a template expression (`{{ … }}`, `${ … }`).
//!
//! Does not own: key names or the value's own shape (keyvalue.rs and placeholder.rs judge
//! those).

use std::path::Path;

/// How a file writes values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// A programming language, HCL or PowerShell: a bare right-hand side is an expression.
    Code,
    /// A POSIX shell: a bare word is a literal string, and `$…` expands.
    Shell,
    /// Configuration formats, Markdown, logs and anything not recognised: a bare value is a
    /// value.
    Config,
}

/// What is known about a blob from its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileKind {
    pub syntax: Syntax,
    /// Whether `'…'` is a string (not a character literal or a lifetime).
    pub single_quoted_strings: bool,
    /// Whether `"…$name…"` expands a variable (shells, PHP, Perl, Kotlin, PowerShell…).
    pub interpolates: bool,
    /// A file that holds live settings: a weak value there is reported like any other.
    pub live: bool,
}

/// Extensions of languages where `'x'` is a character, a rune or a lifetime, not a string.
const CODE_DOUBLE_QUOTED: &[&str] = &[
    "rs", "go", "java", "kt", "kts", "cs", "swift", "scala", "c", "h", "cc", "cpp", "cxx", "hpp",
    "hh", "m", "mm", "tf", "tfvars", "hcl", "dart",
];

/// Extensions of languages where `'x'` is a string.
const CODE_SINGLE_QUOTED: &[&str] = &[
    "py", "pyi", "js", "jsx", "mjs", "cjs", "ts", "tsx", "mts", "cts", "rb", "php", "ps1", "psm1",
    "psd1", "groovy", "gradle", "lua", "pl", "pm",
];

const SHELL: &[&str] = &["sh", "bash", "zsh", "ksh"];

/// Languages whose double-quoted strings expand `$name`.
const INTERPOLATING: &[&str] = &[
    "php", "pl", "pm", "kt", "kts", "groovy", "gradle", "dart", "ps1", "psm1", "psd1", "tf",
    "tfvars", "hcl", "sh", "bash", "zsh", "ksh",
];

/// File names (lower case) that hold live credentials by convention: the files the
/// credential-file rules (rules/credential-files.toml and kin) read, and a few more.
const CREDENTIAL_FILES: &[&str] = &[
    ".netrc",
    "_netrc",
    ".pgpass",
    ".git-credentials",
    ".my.cnf",
    ".pypirc",
    ".npmrc",
    ".s3cfg",
    "credentials",
    ".htpasswd",
    "shadow",
    "master.key",
    "wp-config.php",
    "sitemanager.xml",
    "recentservers.xml",
    "filezilla.xml",
    "sftp-config.json",
    ".ftpconfig",
    ".remote-sync.json",
    "robomongo.json",
    "robo3t.json",
    "data-sources.json",
    "data-sources.xml",
    "dbeaver-data-sources.xml",
    ".dockercfg",
    ".tugboat",
    ".esmtprc",
    "proftpdpasswd",
    "ftpd.passwd",
    "ventrilo_srv.ini",
];

/// `(directory, file name)` pairs (lower case) of credential files whose name alone is
/// too common to say so: `.docker/config.json`, `.vscode/sftp.json`.
const CREDENTIAL_FILES_IN: &[(&str, &str)] = &[
    (".docker", "config.json"),
    (".vscode", "sftp.json"),
    (".idea", "datasources.xml"),
    (".idea", "webservers.xml"),
    (".config", "hub"),
];

/// Extensions (lower case) of credential files: PuTTY private keys.
const CREDENTIAL_EXTENSIONS: &[&str] = &["ppk"];

/// Suffixes of `.env.*` files that are templates, not settings.
const ENV_TEMPLATE_SUFFIXES: &[&str] = &[
    "example", "sample", "template", "tmpl", "tpl", "dist", "defaults", "default",
];

impl FileKind {
    /// Data with no file name (standard input, a decoded run): values are read as
    /// configuration.
    pub const DATA: FileKind = FileKind {
        syntax: Syntax::Config,
        single_quoted_strings: true,
        interpolates: false,
        live: false,
    };

    pub fn of_path(path: &Path) -> FileKind {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        let ext = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => ext,
            _ => "",
        };
        let (syntax, single_quoted_strings) = if CODE_DOUBLE_QUOTED.contains(&ext) {
            (Syntax::Code, false)
        } else if CODE_SINGLE_QUOTED.contains(&ext) {
            (Syntax::Code, true)
        } else if SHELL.contains(&ext) {
            (Syntax::Shell, true)
        } else {
            (Syntax::Config, true)
        };
        FileKind {
            syntax,
            single_quoted_strings,
            interpolates: INTERPOLATING.contains(&ext),
            live: is_live_settings(&name) || is_credential_file(path, &name, ext),
        }
    }
}

/// A credential file known by its directory and name (`.docker/config.json`), by a
/// Rails key's place (`config/credentials/*.key`) or by its extension (`.ppk`).
fn is_credential_file(path: &Path, name: &str, ext: &str) -> bool {
    let dir = path
        .parent()
        .and_then(Path::file_name)
        .map(|d| d.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    CREDENTIAL_EXTENSIONS.contains(&ext)
        || CREDENTIAL_FILES_IN.contains(&(dir.as_str(), name))
        || (dir == "credentials" && ext == "key")
}

/// `.env`, `.env.production`, `prod.env` (but not `.env.example`), and credential files.
fn is_live_settings(name: &str) -> bool {
    if CREDENTIAL_FILES.contains(&name) {
        return true;
    }
    let rest = if name == ".env" {
        Some("")
    } else if let Some(r) = name.strip_prefix(".env.") {
        Some(r)
    } else {
        name.strip_suffix(".env").map(|_| "")
    };
    rest.is_some_and(|r| !ENV_TEMPLATE_SUFFIXES.iter().any(|t| r.contains(t)))
}

/// Whether the value at `line[vs..ve]` is, by the file's syntax, not a literal: bare in
/// source code (unless it lies inside a string literal, as YAML in a test string does),
/// interpolated in a language that interpolates, or inside a template expression.
/// `quote` is the quote that encloses the value itself, if any.
pub fn is_not_literal(
    kind: FileKind,
    line: &[u8],
    vs: usize,
    ve: usize,
    quote: Option<u8>,
) -> bool {
    if inside_template(&line[..vs]) {
        return true;
    }
    let in_literal = quote.is_some() || inside_string(kind, &line[..vs]);
    if kind.syntax == Syntax::Code && !in_literal {
        return true;
    }
    // `"$TOKEN"`, `"${TOKEN}x"`, PowerShell's `"$env:TOKEN"`: an expansion, not a value.
    kind.interpolates
        && quote != Some(b'\'')
        && line[vs..ve].windows(2).any(|w| {
            w[0] == b'$' && (w[1].is_ascii_alphabetic() || matches!(w[1], b'_' | b'{' | b'('))
        })
}

/// Whether `before` leaves a `{{ … }}` (Helm, Jinja, Go templates) or a `${ … }` open.
fn inside_template(before: &[u8]) -> bool {
    let last = |pat: &[u8]| memchr::memmem::rfind(before, pat);
    let open_braces = last(b"{{");
    if open_braces.is_some() && open_braces > last(b"}}") {
        return true;
    }
    match last(b"${") {
        Some(open) => !before[open..].contains(&b'}'),
        None => false,
    }
}

/// Whether a string literal is open at the end of `before` (quotes of the file's language,
/// with backslash escapes).
fn inside_string(kind: FileKind, before: &[u8]) -> bool {
    let mut open: Option<u8> = None;
    let mut i = 0;
    while i < before.len() {
        let b = before[i];
        match open {
            Some(q) if b == b'\\' && q != b'`' => i += 1,
            Some(q) if b == q => open = None,
            Some(_) => {}
            None if b == b'"' || b == b'`' || (b == b'\'' && kind.single_quoted_strings) => {
                open = Some(b)
            }
            None => {}
        }
        i += 1;
    }
    open.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(p: &str) -> FileKind {
        FileKind::of_path(Path::new(p))
    }

    #[test]
    fn paths_give_the_syntax_and_liveness() {
        assert_eq!(kind("src/lib.rs").syntax, Syntax::Code);
        assert!(!kind("src/lib.rs").single_quoted_strings);
        assert_eq!(kind("app/views.py").syntax, Syntax::Code);
        assert!(kind("app/views.py").single_quoted_strings);
        assert_eq!(kind("main.tf").syntax, Syntax::Code);
        assert_eq!(kind("deploy.ps1").syntax, Syntax::Code);
        assert_eq!(kind("scripts/run.sh").syntax, Syntax::Shell);
        for config in [
            "compose.yaml",
            ".env",
            "Dockerfile",
            "README.md",
            "app.properties",
            "x",
        ] {
            assert_eq!(kind(config).syntax, Syntax::Config, "{config}");
        }
        for live in [
            ".env",
            "deploy/.env.production",
            "prod.env",
            ".netrc",
            ".pgpass",
            "credentials",
            "public_html/.htpasswd",
            "etc/shadow",
            "config/master.key",
            "config/credentials/production.key",
            "wp-config.php",
            "FileZilla/sitemanager.xml",
            "home/u/.docker/config.json",
            ".vscode/sftp.json",
            ".idea/dataSources.xml",
            "keys/deploy.PPK",
        ] {
            assert!(kind(live).live, "{live}");
        }
        for not_live in [
            ".env.example",
            ".env.sample",
            "compose.yaml",
            "env.py",
            "my.env.template",
            "config.json",
            "app/sftp.json",
            "config/app.key.example",
        ] {
            assert!(!kind(not_live).live, "{not_live}");
        }
    }

    fn judged(path: &str, line: &str, value: &str) -> bool {
        let vs = line.find(value).unwrap();
        let ve = vs + value.len();
        let quote = (vs > 0)
            .then(|| line.as_bytes()[vs - 1])
            .filter(|q| matches!(q, b'"' | b'\'' | b'`') && line.as_bytes().get(ve) == Some(q));
        is_not_literal(kind(path), line.as_bytes(), vs, ve, quote)
    }

    #[test]
    fn code_needs_a_string_literal() {
        assert!(judged(
            "a.rs",
            "let token = read_token(options, reg)?;",
            "read_token(options,"
        ));
        assert!(judged(
            "a.tf",
            "  password = var.db_password",
            "var.db_password"
        ));
        assert!(!judged(
            "a.rs",
            "let token = \"q8Zr2LmT0vXw9Ka1\";",
            "q8Zr2LmT0vXw9Ka1"
        ));
        // YAML inside a test's string literal is literal text.
        assert!(!judged(
            "a_test.go",
            "want := \"token: q8Zr2LmT0vXw9Ka1\\n\"",
            "q8Zr2LmT0vXw9Ka1"
        ));
        // A Rust lifetime opens no string.
        assert!(judged(
            "a.rs",
            "fn f<'a>(x: &'a str) { token = x.trim()",
            "x.trim()"
        ));
        // Config keeps bare values; shell keeps bare words.
        assert!(!judged(
            "compose.yaml",
            "  password: q8Zr2LmT0vXw9Ka1",
            "q8Zr2LmT0vXw9Ka1"
        ));
        assert!(!judged(
            "run.sh",
            "export TOKEN=q8Zr2LmT0vXw9Ka1",
            "q8Zr2LmT0vXw9Ka1"
        ));
    }

    #[test]
    fn expansions_and_templates_are_not_literals() {
        assert!(judged(
            "run.sh",
            "curl -u \"ci:$CI_TOKEN\" x",
            "ci:$CI_TOKEN"
        ));
        assert!(judged(
            "a.ps1",
            "$token = \"$env:GH_TOKEN\"",
            "$env:GH_TOKEN"
        ));
        assert!(!judged(
            "a.ps1",
            "$token = 'q8Zr$2LmT0vXw9Ka1'",
            "q8Zr$2LmT0vXw9Ka1"
        ));
        assert!(!judged(
            ".env",
            "DB_PASSWORD=q8Zr$Lm2T0vXw9Ka1",
            "q8Zr$Lm2T0vXw9Ka1"
        ));
        assert!(judged(
            "values.yaml",
            "  # {{- range $key, $value := .Values.labels }}",
            ".Values.labels"
        ));
        assert!(judged(
            "app.properties",
            "db.password=${DB_PASSWORD:q8Zr2LmT0vXw}",
            "q8Zr2LmT0vXw"
        ));
    }
}
