//! Config-aware generic detection: reads `key <separator> value` pairs the way config files,
//! code and command lines write them, judges the key's name and the value, and proposes a
//! medium-confidence generic finding for a literal credential under a secret-like name.
//!
//! Owns: the per-line pair syntax (`KEY=value`, `key: value`, `"key": "value"`,
//! `key = "value"`, `key := "value"`, `key => 'value'`, `$cfg['key'] = 'value'`, Dockerfile
//! `ENV KEY value`, `--flag value` / `--flag=value`, `-p'pass'`, `-u user:pass`, and a
//! `name: KEY` followed by `value: …` as Kubernetes env entries and ECS task definitions
//! write it), the key-name vocabulary, and the value judgement (length, entropy, character
//! classes, the placeholder / template / file-reference / hash / UUID / digest recognisers).
//! A base64 value that decodes to text (a Kubernetes Secret's `data:`) is judged decoded.
//!
//! Does not own: which rule a finding is filed under (the matcher maps a [`KeyClass`] to a
//! rule of `rules/generic.toml`), overlap collapse or building findings.

use crate::decode::{decode_base64_text, Encoding};
use crate::entropy::shannon_entropy;
use crate::placeholder::{
    is_code_expression, is_non_secret_value, is_placeholder, is_trivial_value,
};
use crate::syntax::{is_not_literal, FileKind, Syntax};

/// What a key's name says its value is; the matcher files each class under a generic rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyClass {
    Password,
    Secret,
    Token,
    ApiKey,
    AccessKey,
    /// A qualified key or credential (`signing_key`, `encryption_key`, `credentials`) and
    /// the bare names `key` and `auth`.
    Credential,
}

impl KeyClass {
    pub const ALL: [KeyClass; 6] = [
        KeyClass::Password,
        KeyClass::Secret,
        KeyClass::Token,
        KeyClass::ApiKey,
        KeyClass::AccessKey,
        KeyClass::Credential,
    ];

    /// The rule of `rules/generic.toml` findings of this class are filed under.
    pub fn rule_id(self) -> &'static str {
        match self {
            KeyClass::Password => "generic-password",
            KeyClass::Secret => "generic-secret",
            KeyClass::Token => "generic-token",
            KeyClass::ApiKey => "generic-api-key",
            KeyClass::AccessKey => "generic-access-key",
            KeyClass::Credential => "generic-credential",
        }
    }
}

/// How strongly a key name asks for a secret: a bare `key` or `auth`, and a name that is
/// a credential only sometimes, need a stronger value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strength {
    Named,
    /// `key`, `auth`: also only as the first name on a line.
    Bland,
    /// `…session_key`: most often the name of an entry in a session store
    /// (`LOGIN_SESSION_KEY = 'auth-login'`), sometimes an API's session credential.
    Ambiguous,
    /// Another word before `key` (`asana_key`, `logzKey`, `Using adobe Key=`): most often
    /// a vendor's key, but a key of anything else too, so it needs a token-shaped value.
    Worded,
}

/// A value found under a secret-like key.
#[derive(Debug, PartialEq, Eq)]
pub struct Pair {
    pub class: KeyClass,
    /// Byte range of the value in the scanned data (inside any quotes).
    pub start: usize,
    pub end: usize,
    /// The secret when it is not the bytes at `start..end` (a decoded base64 value).
    pub decoded: Option<(Encoding, Vec<u8>)>,
    /// A trivially fake value (see [`is_trivial_value`]): reported at low confidence.
    pub trivial: bool,
}

/// Fragments of secret-like key names (and of the flags `-p`, `-u`), matched ASCII
/// case-insensitively: a line is parsed only when one of them occurs on it, which keeps
/// this pass cheap. The matcher looks for them in the same automaton pass as the rules'
/// keywords, so the blob is searched once.
pub const KEY_FRAGMENTS: &[&str] = &[
    "pass", "pwd", "secret", "token", "key", "cred", "auth", " -p", " -u", "--user",
];

/// Words that end a secret-like key name, and the class they give.
fn last_word_class(words: &[String]) -> Option<(KeyClass, Strength)> {
    let last = words.last()?.as_str();
    let prev = words.len().checked_sub(2).map(|i| words[i].as_str());
    let has = |w: &str| words.iter().any(|x| x == w);
    let class = match last {
        "password" | "passwd" | "pwd" | "pass" | "passphrase" | "passcode" | "pw" => {
            (KeyClass::Password, Strength::Named)
        }
        "secret" | "secretkey" => (KeyClass::Secret, Strength::Named),
        "token" | "accesstoken" | "authtoken" => (KeyClass::Token, Strength::Named),
        "apikey" => (KeyClass::ApiKey, Strength::Named),
        "accesskey" => (KeyClass::AccessKey, Strength::Named),
        "privatekey" | "credential" | "credentials" | "cred" | "creds" => {
            (KeyClass::Credential, Strength::Named)
        }
        "auth" if prev.is_none() => (KeyClass::Credential, Strength::Bland),
        "key" => match prev {
            None => (KeyClass::Credential, Strength::Bland),
            Some("session") => (KeyClass::Credential, Strength::Ambiguous),
            Some("api") => (KeyClass::ApiKey, Strength::Named),
            _ if has("secret") => (KeyClass::Secret, Strength::Named),
            Some("access") => (KeyClass::AccessKey, Strength::Named),
            Some(p) if KEY_QUALIFIERS.contains(&p) => (KeyClass::Credential, Strength::Named),
            _ if words[..words.len() - 1]
                .iter()
                .any(|w| is_not_credential_key(w)) =>
            {
                return None
            }
            Some(_) => (KeyClass::Credential, Strength::Worded),
        },
        _ => return None,
    };
    Some(class)
}

/// Words before `key` that make it a credential (`signing_key`, `master_key`), unlike a
/// `primary_key`, `sort_key` or `cache_key`.
const KEY_QUALIFIERS: &[&str] = &[
    "private",
    "signing",
    "sign",
    "encryption",
    "encrypt",
    "decryption",
    "cipher",
    "crypto",
    "master",
    "service",
    "auth",
    "client",
    "app",
    "application",
    "account",
    "shared",
    "storage",
    "admin",
    "webhook",
    "hmac",
    "jwt",
    "license",
    "subscription",
    "consumer",
    "integration",
    "root",
    "deploy",
    "secret",
];

/// Words before `key` that make it something other than a credential: database and
/// storage keys, lookup keys, input keys, message keys and public key material.
const NOT_CREDENTIAL_KEY_WORDS: &[&str] = &[
    "primary",
    "foreign",
    "sort",
    "partition",
    "range",
    "cache",
    "map",
    "hash",
    "lookup",
    "unique",
    "composite",
    "index",
    "row",
    "column",
    "group",
    "object",
    "s3",
    "file",
    "bucket",
    "path",
    "routing",
    "shard",
    "order",
    "hot",
    "shortcut",
    "keyboard",
    "translation",
    "i18n",
    "message",
    "ssh",
    "gpg",
    "pgp",
    "host",
    "idempotency",
    "dedup",
    "dedupe",
    "redis",
    "memcache",
    "react",
    "list",
    "dict",
    "field",
    "id",
    "name",
    "label",
    "metric",
    "query",
    "state",
    "form",
    "event",
    "config",
    "setting",
    "settings",
    "env",
    "header",
    "param",
    "value",
    "item",
    "entry",
    "record",
    "table",
    "cluster",
    "node",
    "tag",
    "prefix",
    "suffix",
    "data",
    "json",
    "yaml",
    "local",
    "store",
    "registry",
    "the",
    "a",
    "this",
    "that",
    "your",
    "my",
    "our",
    "each",
    "every",
    "no",
    "new",
    "old",
    "same",
    "any",
    "of",
    // Content addresses and versions: a digest under a key of data.
    "digest",
    "checksum",
    "etag",
    "version",
    "commit",
    "sha",
    "revision",
    "content",
    "image",
    "layer",
    "blob",
    "natural",
    "surrogate",
    // reCAPTCHA's and Turnstile's site key is public, written into every page.
    "site",
];

fn is_not_credential_key(word: &str) -> bool {
    NOT_CREDENTIAL_KEY_WORDS.contains(&word)
}

/// Words anywhere in a key that say its value is not a credential: public material,
/// paging cursors, per-request anti-forgery tokens, and documentation or test stand-ins.
const NON_SECRET_WORDS: &[&str] = &[
    "public",
    "publishable",
    "pub",
    "csrf",
    "xsrf",
    "page",
    "cursor",
    "continuation",
    "next",
    "idempotency",
    "cache",
    "example",
    "sample",
    "dummy",
    "fake",
    "mock",
    "placeholder",
    // `existingSecret: app-db`, `configFromSecret: x`: the name of a Secret object.
    "existing",
    "from",
    // Rails' per-form anti-forgery `authenticity_token`.
    "authenticity",
    // Stored one-way hashes and ciphertext (`encrypted_password`, `hashed_token`).
    "encrypted",
    "hashed",
    // A value a test means to be rejected (`wrong_token`, `invalid_password`).
    "wrong",
    "invalid",
    "incorrect",
    "bogus",
];

/// Words in a key that make its value a test's stand-in (`TEST_PASSWORD`, `testToken`):
/// reported at low confidence, like other trivially fake values, outside live settings.
const TEST_WORDS: &[&str] = &["test", "tests", "testing"];

/// Split a key into lower-case words at `_ . - [ ] $ '` and camelCase humps; a trailing
/// number (`aws_secret_access_key_2`) is dropped.
fn key_words(key: &[u8]) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for &b in key {
        if b.is_ascii_alphanumeric() {
            if b.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
            cur.push(b.to_ascii_lowercase() as char);
        } else {
            prev_lower = false;
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    while words
        .last()
        .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()))
    {
        words.pop();
    }
    words
}

/// The class of a key name, or `None` when the name does not ask for a secret.
pub fn classify_key(key: &[u8]) -> Option<KeyClass> {
    classify(key).map(|(c, _)| c)
}

fn classify(key: &[u8]) -> Option<(KeyClass, Strength)> {
    let words = key_words(key);
    if names_no_secret(&words) {
        return None;
    }
    last_word_class(&words)
}

/// Whether a key's words say its value is not a credential.
fn names_no_secret(words: &[String]) -> bool {
    words.iter().any(|w| NON_SECRET_WORDS.contains(&w.as_str()))
}

/// Bytes a key name may hold (flags keep their leading dashes; `.` joins property paths).
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Every value under a secret-like key on the line `data[start..end]` (a whole line: `start`
/// follows a line feed or is 0, `end` is a line feed or the end of `data`) of a file of
/// syntax `kind`, appended to `out`. The matcher calls this once for each line holding a
/// [`KEY_FRAGMENTS`] entry, in any order; [`sort_pairs`] then puts what it found in order.
pub fn read_line(data: &[u8], start: usize, end: usize, kind: FileKind, out: &mut Vec<Pair>) {
    scan_line(data, start, end, kind, out);
}

/// Pairs in the order of their values, each once (a line read twice gives the same pairs).
pub fn sort_pairs(pairs: &mut Vec<Pair>) {
    pairs.sort_by_key(|p| (p.start, p.end));
    pairs.dedup_by_key(|p| (p.start, p.end));
}

/// Longest line that is parsed; minified files put whole documents on one line.
const MAX_LINE: usize = 4096;

/// Find every pair on the line `data[start..end]`.
fn scan_line(data: &[u8], start: usize, line_end: usize, kind: FileKind, out: &mut Vec<Pair>) {
    let end = line_end.min(start + MAX_LINE);
    let line = &data[start..end];
    // Found once per line, not once per key: a line of `-p -p -p …` costs one search.
    let mut user_flag = None;
    let mut following = Following::new(line_end);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let trimmed = trim_start(line);
    let indent = line.len() - trimmed.len();
    if is_link_reference(trimmed) {
        return;
    }
    // Dockerfile `ENV KEY value` (the older, space-separated form).
    if let Some(rest) = strip_word(trimmed, b"ENV ") {
        let key_at = indent + 4 + (rest.len() - trim_start(rest).len());
        let rest = trim_start(rest);
        let klen = rest.iter().take_while(|&&b| is_key_byte(b)).count();
        if klen > 0 && rest.get(klen) == Some(&b' ') {
            if let Some((class, strength)) = classify(&rest[..klen]) {
                let vat = key_at + klen + 1;
                let v = skip_blanks(line, vat);
                if let Some((vs, ve)) = value_at(line, v, true) {
                    push(data, start, vs, ve, class, strength, false, kind, out);
                }
            }
        }
    }
    let mut i = 0;
    while i < line.len() {
        if !is_key_byte(line[i]) || (i > 0 && is_key_byte(line[i - 1])) {
            i += 1;
            continue;
        }
        let ks = i;
        let mut ke = i;
        while ke < line.len() && is_key_byte(line[ke]) {
            ke += 1;
        }
        i = ke;
        let key = &line[ks..ke];
        let dashes = key.iter().take_while(|&&b| b == b'-').count();
        let name = &key[dashes..];
        if name.is_empty() {
            continue;
        }
        // `-p'secret'` / `-psecret` (mysql and friends) and `-u user:pass` / `--user user:pass`.
        if dashes == 1
            && name[0] == b'p'
            && (name == b"p" || classify(name).is_none())
            && ks_is_word_start(line, ks)
        {
            // Only with a user flag on the same line, so `-prune` or `-print` never counts.
            if *user_flag.get_or_insert_with(|| has_user_flag(line)) {
                if let Some((vs, ve)) = value_at(line, ks + 2, false) {
                    push(
                        data,
                        start,
                        vs,
                        ve,
                        KeyClass::Password,
                        Strength::Named,
                        false,
                        kind,
                        out,
                    );
                }
            }
            continue;
        }
        if (dashes == 1 && name == b"u") || (dashes == 2 && name == b"user") {
            let v = skip_sep_blanks(line, ke);
            if let Some((vs, ve)) = value_at(line, v, true) {
                if let Some(colon) = line[vs..ve].iter().position(|&b| b == b':') {
                    let ps = vs + colon + 1;
                    if ps < ve {
                        push(
                            data,
                            start,
                            ps,
                            ve,
                            KeyClass::Password,
                            Strength::Named,
                            false,
                            kind,
                            out,
                        );
                    }
                }
            }
            continue;
        }
        let Some((class, mut strength)) = classify(name) else {
            if is_name_key(name) {
                name_value_pair(data, start, line, ke, &mut following, kind, out);
            }
            continue;
        };
        // `\nsecret-key` in a string literal: the word before `key` is glued to an escape
        // (`nsecret`), not a vendor's name.
        if strength == Strength::Worded && ks > 0 && line[ks - 1] == b'\\' {
            continue;
        }
        // A bare `key` or `auth` counts only as the line's first name (`key: …`,
        // `"auth": "…"`), not inside prose such as `# public key: age1…`.
        if strength == Strength::Bland && !leads_line(&line[..ks]) {
            // In text, a word before it names whose key it is (`aylien key: …`, a log's
            // `Using adobe Key=…`): then it asks for a token, like `adobe_key`.
            if kind.syntax != Syntax::Config || !prose_word_before(&line[..ks]) {
                continue;
            }
            strength = Strength::Worded;
        }
        // After the key: a closing quote or bracket (`"key":`, `['key'] =`), blanks, a
        // separator, blanks, the value.
        let mut j = ke;
        let mut closers = 0;
        while j < line.len() && matches!(line[j], b'"' | b'\'' | b']' | b'`') && closers < 2 {
            j += 1;
            closers += 1;
        }
        let sep_start = skip_blanks(line, j);
        let (sep_len, flag_style) = separator(&line[sep_start..]);
        if sep_len == 0 {
            // `env('APP_KEY', 'default')`: the default of an environment lookup is a literal.
            if closers == 1 && line.get(sep_start) == Some(&b',') && is_env_lookup(line, ks) {
                let v = skip_blanks(line, sep_start + 1);
                if matches!(line.get(v), Some(b'"' | b'\'')) {
                    if let Some((vs, ve)) = value_at(line, v, false) {
                        push(data, start, vs, ve, class, strength, false, kind, out);
                    }
                }
                continue;
            }
            // Gradle's `buildConfigField 'String', 'API_KEY', '"…"'`: the name and the
            // value are arguments, the value a Java string literal inside a Groovy one.
            if closers == 1 && line.get(sep_start) == Some(&b',') && is_build_config_field(line) {
                let v = skip_blanks(line, sep_start + 1);
                if let Some((vs, ve)) = value_at(line, v, false).and_then(|(vs, ve)| {
                    matches!(line[v], b'"' | b'\'').then(|| unquote_java(line, vs, ve))
                }) {
                    push(data, start, vs, ve, class, strength, false, kind, out);
                }
                continue;
            }
            // A flag takes its value after blanks: `--password 'x'`.
            if dashes > 0 && closers == 0 && sep_start > j {
                if let Some((vs, ve)) = value_at(line, sep_start, true) {
                    push(data, start, vs, ve, class, strength, true, kind, out);
                }
            }
            continue;
        }
        let mut v = skip_blanks(line, sep_start + sep_len);
        // `api_key: &str = "…"`, `secret: string = '…'`: in code a colon may introduce a
        // type, and the value follows the `=`.
        if kind.syntax == Syntax::Code && line[sep_start] == b':' {
            if let Some(after) = after_type_annotation(line, v) {
                v = after;
            }
        }
        // A YAML block scalar or an empty value: nothing on this line.
        if let Some((vs, ve)) = value_at(line, v, true) {
            push(
                data,
                start,
                vs,
                ve,
                class,
                strength,
                flag_style && dashes > 0,
                kind,
                out,
            );
        }
    }
}

/// Where the value starts after a type annotation at `at` (`&str = `, `Option<String> = `,
/// `string = `), if one is there.
fn after_type_annotation(line: &[u8], at: usize) -> Option<usize> {
    let n = line[at..]
        .iter()
        .take(64)
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"_&<>[]?.:, |'".contains(&b))
        .count();
    let eq = skip_blanks(line, at + n);
    (n > 0 && line.get(eq) == Some(&b'=') && line.get(eq + 1) != Some(&b'='))
        .then(|| skip_blanks(line, eq + 1))
}

/// Whether the key at `ks` is the quoted first argument of a call that reads the
/// environment (`env('X'`, `os.getenv("X"`, `ENV.fetch("X"`, `os.environ.get("X"`).
fn is_env_lookup(line: &[u8], ks: usize) -> bool {
    let Some(open) = ks.checked_sub(2) else {
        return false;
    };
    if !matches!(line[ks - 1], b'"' | b'\'') || line[open] != b'(' {
        return false;
    }
    let callee = &line[..open];
    let n = callee
        .iter()
        .rev()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':'))
        .count();
    let name = callee[callee.len() - n..].to_ascii_lowercase();
    memchr::memmem::find(&name, b"env").is_some()
}

/// Whether a word that may name a vendor, then one blank, ends `before` (`Using adobe `),
/// and not one that makes a key something other than a credential (`public `, `sort `).
fn prose_word_before(before: &[u8]) -> bool {
    let Some(before) = before.strip_suffix(b" ") else {
        return false;
    };
    let n = before
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let word = before[before.len() - n..].to_ascii_lowercase();
    let Ok(word) = std::str::from_utf8(&word) else {
        return false;
    };
    n > 0
        && !is_not_credential_key(word)
        && !NON_SECRET_WORDS.contains(&word)
        && !PROSE_WORDS.contains(&word)
}

/// English words that may stand before `key` in text without naming whose key it is: a
/// log's `Using Key=…` is as often a near miss (a value one character short) as a key, so
/// it needs the vendor's name (`Using adobe Key=…`).
const PROSE_WORDS: &[&str] = &[
    "using", "use", "with", "is", "set", "get", "got", "found", "invalid", "an", "key", "to",
    "for", "and", "or", "as",
];

/// Whether the line calls Gradle's `buildConfigField` (or `resValue`), whose arguments are
/// a type, a name and a value.
fn is_build_config_field(line: &[u8]) -> bool {
    let t = trim_start(line);
    t.starts_with(b"buildConfigField") || t.starts_with(b"resValue")
}

/// The string inside a Java string literal written in a Groovy/Kotlin one: `"…"` or
/// `\"…\"` around `line[vs..ve]` is dropped; any other text is left as it is.
fn unquote_java(line: &[u8], vs: usize, ve: usize) -> (usize, usize) {
    let v = &line[vs..ve];
    if v.len() >= 4 && v.starts_with(b"\\\"") && v.ends_with(b"\\\"") {
        (vs + 2, ve - 2)
    } else if v.len() >= 2 && v.starts_with(b"\"") && v.ends_with(b"\"") {
        (vs + 1, ve - 1)
    } else {
        (vs, ve)
    }
}

/// Whether only blanks, quotes, brackets, commas and list dashes precede a key.
fn leads_line(before: &[u8]) -> bool {
    before
        .iter()
        .all(|b| matches!(b, b' ' | b'\t' | b'"' | b'\'' | b'{' | b'[' | b',' | b'-'))
}

fn ks_is_word_start(line: &[u8], at: usize) -> bool {
    at == 0 || matches!(line[at - 1], b' ' | b'\t')
}

fn has_user_flag(line: &[u8]) -> bool {
    memchr::memmem::find(line, b" -u").is_some() || memchr::memmem::find(line, b"--user").is_some()
}

fn is_name_key(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(b"name")
}

/// The ends of a line and of the two lines after it, each found once however many
/// `name:` keys the line holds (a search per key would read a long line once per key).
struct Following {
    ends: [Option<usize>; 3],
}

impl Following {
    fn new(line_end: usize) -> Self {
        Following {
            ends: [Some(line_end), None, None],
        }
    }

    /// The end of the `k`th line from the current one (0: the current line).
    fn end(&mut self, data: &[u8], k: usize) -> usize {
        if let Some(end) = self.ends[k] {
            return end;
        }
        let from = (self.end(data, k - 1) + 1).min(data.len());
        let end = memchr::memchr(b'\n', &data[from..]).map_or(data.len(), |i| from + i);
        #[cfg(test)]
        crate::work::line_bytes(end - from);
        self.ends[k] = Some(end);
        end
    }
}

/// `name: DB_PASSWORD` (or `"name": "DB_PASSWORD"`) whose value names a secret, paired with
/// the first `value:` that follows on the same line or on one of the next two lines.
fn name_value_pair(
    data: &[u8],
    start: usize,
    line: &[u8],
    ke: usize,
    following: &mut Following,
    kind: FileKind,
    out: &mut Vec<Pair>,
) {
    let mut j = ke;
    while j < line.len() && matches!(line[j], b'"' | b'\'') {
        j += 1;
    }
    let s = skip_blanks(line, j);
    let (sep, _) = separator(&line[s..]);
    if sep == 0 {
        return;
    }
    let v = skip_blanks(line, s + sep);
    let Some((vs, ve)) = value_at(line, v, true) else {
        return;
    };
    let Some((class, strength)) = classify(&line[vs..ve]) else {
        return;
    };
    // Look for `value` after the name, up to two lines on.
    let mut pos = start + ve;
    for k in 0..3 {
        if pos >= data.len() {
            break;
        }
        let lend = following.end(data, k);
        let seg = &data[pos..lend.min(pos + MAX_LINE)];
        if let Some(k) = find_value_key(seg) {
            let after = k + 5;
            let mut j = after;
            while j < seg.len() && matches!(seg[j], b'"' | b'\'') {
                j += 1;
            }
            let s = skip_blanks(seg, j);
            let (sep, _) = separator(&seg[s..]);
            if sep > 0 {
                let v = skip_blanks(seg, s + sep);
                if let Some((vs, ve)) = value_at(seg, v, true) {
                    push(data, pos, vs, ve, class, strength, false, kind, out);
                }
            }
            return;
        }
        pos = lend + 1;
    }
}

/// Where the word `value` stands as a key in `seg`.
fn find_value_key(seg: &[u8]) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&seg[from..], b"value") {
        let at = from + i;
        let before_ok = at == 0 || !is_key_byte(seg[at - 1]);
        let after_ok = seg.get(at + 5).is_none_or(|&b| !is_key_byte(b));
        if before_ok && after_ok {
            return Some(at);
        }
        from = at + 5;
    }
    None
}

/// The separator at the start of `s`: its length, and whether it is `=` (which a flag may
/// use: `--password=x`).
fn separator(s: &[u8]) -> (usize, bool) {
    if s.starts_with(b":=") || s.starts_with(b"=>") || s.starts_with(b"<-") {
        return (2, false);
    }
    match s.first() {
        // `==` compares, it does not assign.
        Some(b'=') if s.get(1) != Some(&b'=') => (1, true),
        // `key::Path` is a path, and `key:value` without a blank is usually a URL or a
        // type; YAML and JSON always put a blank or a quote after the colon.
        Some(b':') if matches!(s.get(1), Some(b' ' | b'\t' | b'"' | b'\'')) => (1, false),
        _ => (0, false),
    }
}

fn skip_blanks(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && matches!(line[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

fn skip_sep_blanks(line: &[u8], i: usize) -> usize {
    let i = skip_blanks(line, i);
    if line.get(i) == Some(&b'=') {
        skip_blanks(line, i + 1)
    } else {
        i
    }
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|&&b| matches!(b, b' ' | b'\t')).count();
    &s[n..]
}

fn strip_word<'a>(s: &'a [u8], word: &[u8]) -> Option<&'a [u8]> {
    (s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)).then(|| &s[word.len()..])
}

/// The value starting at `v`: a quoted string (inside the quotes, on this line) or a bare
/// word up to a blank (trailing `,;)]}` dropped). `None` when there is no value.
fn value_at(line: &[u8], v: usize, allow_bare: bool) -> Option<(usize, usize)> {
    let first = *line.get(v)?;
    // `\"value\"`: quoted inside a string literal (JSON in a test's string).
    if first == b'\\' && matches!(line.get(v + 1), Some(b'"' | b'\'')) {
        let close = [b'\\', line[v + 1]];
        let end = memchr::memmem::find(&line[v + 2..], &close)?;
        return (end > 0).then_some((v + 2, v + 2 + end));
    }
    if matches!(first, b'"' | b'\'' | b'`') {
        let mut j = v + 1;
        while j < line.len() && line[j] != first {
            if line[j] == b'\\' {
                j += 1;
            }
            j += 1;
        }
        if j >= line.len() {
            return None;
        }
        return Some((v + 1, j));
    }
    if !allow_bare && !first.is_ascii_graphic() {
        return None;
    }
    let mut j = v;
    while j < line.len() && !matches!(line[j], b' ' | b'\t' | b'"' | b'\'' | b'`' | b',') {
        // A `\n` escape ends a bare value inside a string literal (YAML in a test string).
        if line[j] == b'\\' && matches!(line.get(j + 1), Some(b'n' | b'r' | b't')) {
            break;
        }
        j += 1;
    }
    // A quote inside a bare word is code (`os.environ["X"]`, `cfg['x']`), not a value.
    if j < line.len() && matches!(line[j], b'"' | b'\'' | b'`') {
        return None;
    }
    let opens = line[v..j].iter().filter(|&&b| b == b'(').count();
    let closes = line[v..j].iter().filter(|&&b| b == b')').count();
    while j > v
        && (matches!(line[j - 1], b';' | b']' | b'}') || (line[j - 1] == b')' && closes > opens))
    {
        j -= 1;
    }
    (j > v).then_some((v, j))
}

/// Judge the value at `line_start + vs .. line_start + ve` and keep it when it looks real.
#[allow(clippy::too_many_arguments)]
fn push(
    data: &[u8],
    line_start: usize,
    vs: usize,
    ve: usize,
    class: KeyClass,
    strength: Strength,
    from_flag: bool,
    kind: FileKind,
    out: &mut Vec<Pair>,
) {
    let s = line_start + vs;
    // A value ends at an escape (`"user:\n  token: x\n"`, roff's `\f[I]TOKEN\f[R]`): what
    // follows is the next line of the text the string holds, or markup.
    let e = line_start + ve;
    let e = data[s..e]
        .windows(2)
        .position(|w| w[0] == b'\\' && matches!(w[1], b'n' | b'r' | b't' | b'f' | b'0'))
        .map_or(e, |i| s + i);
    let value = &data[s..e];
    if value.is_empty() {
        return;
    }
    if from_flag {
        // A flag's value that is itself `k=v` is a sub-option (`--secret id=x,env=Y`); one
        // that starts with a dash is the next flag (`--password --no-create-home`); a word
        // followed by more words is the flag's description.
        let prose = value.iter().all(u8::is_ascii_alphabetic)
            && data.get(e) == Some(&b' ')
            && data.get(e + 1).is_some_and(u8::is_ascii_alphabetic);
        if (value.contains(&b'=') && !value.ends_with(b"=")) || value[0] == b'-' || prose {
            return;
        }
    }
    let Some(trivial) = judge(kind, data, line_start, s, e) else {
        return;
    };
    if let Some(text) = decode_base64_text(value) {
        // Judged by what it encodes only: base64 of a reference (`_vaultkv2:…`) or of a
        // placeholder is not a credential because its encoding looks random.
        if looks_like_credential(&text, class, strength) {
            let trivial = trivial || (!kind.live && is_trivial_value(&text, b""));
            out.push(Pair {
                class,
                start: s,
                end: e,
                decoded: Some((Encoding::Base64, text)),
                trivial,
            });
        }
        return;
    }
    if looks_like_credential(value, class, strength) {
        out.push(Pair {
            class,
            start: s,
            end: e,
            decoded: None,
            trivial,
        });
    }
}

/// What the surroundings of the value `data[s..e]` (on the line starting at
/// `line_start`) say about it: `None` when it is not a literal value at all (code by the
/// file's syntax, a code expression, a template, a non-secret), else whether it is
/// trivially fake (reported at low confidence; never in a file of live settings).
fn judge(kind: FileKind, data: &[u8], line_start: usize, s: usize, e: usize) -> Option<bool> {
    let line = &data[line_start..e];
    let (vs, ve) = (s - line_start, e - line_start);
    let value = &data[s..e];
    let quote = s
        .checked_sub(1)
        .map(|i| data[i])
        .filter(|q| matches!(q, b'"' | b'\'' | b'`') && data.get(e) == Some(q));
    if is_not_literal(kind, line, vs, ve, quote) {
        return None;
    }
    if quote.is_none() && is_code_expression(value) {
        return None;
    }
    if is_non_secret_value(value) {
        return None;
    }
    let test_key = key_words(key_before(&line[..vs]))
        .iter()
        .any(|w| TEST_WORDS.contains(&w.as_str()));
    Some(!kind.live && (test_key || is_trivial_value(value, &line[..vs])))
}

/// The judgement of [`judge`] for a match a generic rule's own pattern made at
/// `data[s..e]`: `None` to drop it, else whether it is trivially fake.
pub fn judge_match(kind: FileKind, data: &[u8], s: usize, e: usize) -> Option<bool> {
    // At most MAX_LINE bytes back, as the key/value reader reads lines: many matches on
    // one huge minified line must not each look at the whole line.
    let from = s.saturating_sub(MAX_LINE);
    let line_start = memchr::memrchr(b'\n', &data[from..s]).map_or(from, |i| from + i + 1);
    if is_link_reference(trim_start(&data[line_start..e])) {
        return None;
    }
    // A quoted value the pattern cut at a blank is a word of a sentence (a message or a
    // translation), not a credential, which holds no blank.
    let quote = s.checked_sub(1).map(|i| data[i]);
    if let Some(q @ (b'"' | b'\'' | b'`')) = quote {
        if data.get(e).is_some_and(|&b| b == b' ' || b == b'\t')
            && data[e..]
                .iter()
                .take_while(|&&b| b != b'\n')
                .any(|&b| b == q)
        {
            return None;
        }
    }
    // The pattern found the key by a fragment of its name; the whole name may say the
    // value is not a credential (`csrf_token`, `existingSecret`).
    let key = key_before(&data[line_start..s]);
    let words = key_words(key);
    if names_no_secret(&words) {
        return None;
    }
    // The pattern knows a key by a fragment of its name; an ambiguous whole name needs the
    // value the key/value reader would ask of it.
    if last_word_class(&words).is_some_and(|(_, strength)| strength == Strength::Ambiguous)
        && !looks_like_credential(&data[s..e], KeyClass::Credential, Strength::Ambiguous)
    {
        return None;
    }
    let trivial = judge(kind, data, line_start, s, e)?;
    // A base64 value (a Kubernetes Secret's `data:`) is judged by what it encodes, as the
    // key/value reader judges it.
    match decode_base64_text(&data[s..e]) {
        Some(text) if is_placeholder(&text) || is_non_secret_value(&text) => None,
        Some(text) => Some(trivial || (!kind.live && is_trivial_value(&text, b""))),
        None => Some(trivial),
    }
}

/// Whether the password a rule's pattern found at `data[s..e]` (in a URI, a connection
/// string) is trivially fake, judged with the text before it on its line: a password equal
/// to the user name, a phrase, a self-describing word. Never in a file of live settings.
pub fn is_trivial_password(kind: FileKind, data: &[u8], s: usize, e: usize) -> bool {
    let from = s.saturating_sub(MAX_LINE);
    let line_start = memchr::memrchr(b'\n', &data[from..s]).map_or(from, |i| from + i + 1);
    !kind.live && is_trivial_value(&data[s..e], &data[line_start..s])
}

/// The key name that ends before a value: back over an opening quote, blanks, the
/// separator, blanks and closing quotes or brackets.
fn key_before(before: &[u8]) -> &[u8] {
    let mut end = before.len();
    let back = |end: &mut usize, pred: &dyn Fn(u8) -> bool| {
        while *end > 0 && pred(before[*end - 1]) {
            *end -= 1;
        }
    };
    back(&mut end, &|b| {
        matches!(b, b'"' | b'\'' | b'`' | b' ' | b'\t')
    });
    back(&mut end, &|b| matches!(b, b':' | b'=' | b'>' | b'-' | b'<'));
    back(&mut end, &|b| {
        matches!(b, b'"' | b'\'' | b'`' | b']' | b' ' | b'\t')
    });
    let mut start = end;
    back(&mut start, &|b| is_key_byte(b));
    &before[start..end]
}

/// A Markdown link reference definition: `[label]: target`, the target a URL or a page
/// anchor (`[registry.token]: config.md#registrytoken`), never a value.
fn is_link_reference(trimmed: &[u8]) -> bool {
    if trimmed.first() != Some(&b'[') {
        return false;
    }
    match memchr::memmem::find(trimmed, b"]: ") {
        Some(close) => !trimmed[1..close].contains(&b'['),
        None => false,
    }
}

/// Whether a value under a secret-like key is a literal credential rather than a
/// reference, a template, a hash, an identifier or filler.
fn looks_like_credential(value: &[u8], class: KeyClass, strength: Strength) -> bool {
    if value.len() > 512 || value.iter().any(|b| b.is_ascii_whitespace() || *b < 0x20) {
        return false;
    }
    if is_placeholder(value) || is_non_secret_value(value) {
        return false;
    }
    let classes = char_classes(value);
    let entropy = shannon_entropy(value);
    match (class, strength) {
        (_, Strength::Worded) if !is_token_shaped(value) || is_key_id(value) => false,
        (_, Strength::Bland | Strength::Ambiguous | Strength::Worded) => {
            !is_named_hash(value)
                && value.len() >= 20
                && entropy >= 3.5
                && classes >= 2
                && value.iter().any(u8::is_ascii_digit)
        }
        (KeyClass::Password, _) => value.len() >= 8 && entropy >= 3.0,
        _ => {
            (value.len() >= 16 && entropy >= 3.3)
                || (value.len() >= 10 && classes >= 3 && entropy >= 3.0)
        }
    }
}

/// Whether a value is spelled like an API key: letters and digits first, then those and
/// `-_./+`, with `=` only as base64 padding. A value under a name that only may be a
/// vendor's key (`asana_key`) must be, since the name alone says little.
fn is_token_shaped(v: &[u8]) -> bool {
    let body = &v[..v.len() - v.iter().rev().take_while(|&&b| b == b'=').count()];
    body.first().is_some_and(u8::is_ascii_alphanumeric)
        && body
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"-_./+".contains(&b))
}

/// Upper-case letters and digits, at most 24: the shape of an access key's id (`AKIA…`,
/// `DO00…`), which a vendor's `spaces_key` may name beside its secret, not a secret.
fn is_key_id(v: &[u8]) -> bool {
    v.len() <= 24
        && v.iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// Words, then a hexadecimal digest: a cache key or an image tag that ends in a commit
/// (`Linux-node-958aff96…`), which a bare `key` often names.
fn is_named_hash(v: &[u8]) -> bool {
    let Some(dash) = v.iter().rposition(|&b| b == b'-') else {
        return false;
    };
    let (words, hash) = (&v[..dash], &v[dash + 1..]);
    hash.len() >= 7
        && hash.iter().all(u8::is_ascii_hexdigit)
        && words
            .split(|&b| b == b'-')
            .all(|w| !w.is_empty() && w.iter().all(u8::is_ascii_alphanumeric))
        && words.iter().any(u8::is_ascii_alphabetic)
}

/// How many of lower case, upper case, digits and other bytes occur.
fn char_classes(v: &[u8]) -> usize {
    let lower = v.iter().any(u8::is_ascii_lowercase);
    let upper = v.iter().any(u8::is_ascii_uppercase);
    let digit = v.iter().any(u8::is_ascii_digit);
    let other = v.iter().any(|b| !b.is_ascii_alphanumeric());
    [lower, upper, digit, other].iter().filter(|&&x| x).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs_in(path: &str, text: &str) -> Vec<Pair> {
        let fragments = aho_corasick::AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(KEY_FRAGMENTS)
            .unwrap();
        let starts = fragments
            .find_overlapping_iter(text.as_bytes())
            .map(|m| m.start());
        let kind = FileKind::of_path(std::path::Path::new(path));
        let data = text.as_bytes();
        let mut pairs = Vec::new();
        for at in starts {
            let start = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
            let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
            read_line(data, start, end, kind, &mut pairs);
        }
        sort_pairs(&mut pairs);
        pairs
    }

    /// The values found in `text` as the file `path`, and whether each is trivial.
    fn found_in(path: &str, text: &str) -> Vec<(String, bool)> {
        pairs_in(path, text)
            .into_iter()
            .map(|p| (text[p.start..p.end].to_string(), p.trivial))
            .collect()
    }

    fn values(text: &str) -> Vec<(KeyClass, String)> {
        pairs_in("", text)
            .into_iter()
            .map(|p| match p.decoded {
                Some((_, v)) => (p.class, format!("b64:{}", String::from_utf8_lossy(&v))),
                None => (p.class, text[p.start..p.end].to_string()),
            })
            .collect()
    }

    fn one(text: &str) -> Option<String> {
        let v = values(text);
        assert!(v.len() <= 1, "{text}: {v:?}");
        v.into_iter().next().map(|(_, s)| s)
    }

    const PW: &str = "q8Zr2LmT0vXw9Ka1";

    #[test]
    fn key_names_are_classified_by_their_last_word() {
        use KeyClass::*;
        for (k, c) in [
            ("DB_PASSWORD", Some(Password)),
            ("smtp_pass", Some(Password)),
            ("dbPassword", Some(Password)),
            ("app.db.password", Some(Password)),
            ("--db-password", Some(Password)),
            ("client_secret", Some(Secret)),
            ("SECRET_KEY", Some(Secret)),
            ("aws_secret_access_key_2", Some(Secret)),
            ("private_token", Some(Token)),
            ("apiKey", Some(ApiKey)),
            ("X-API-Key", Some(ApiKey)),
            ("MINIO_ACCESS_KEY", Some(AccessKey)),
            ("signing_key", Some(Credential)),
            ("credentials", Some(Credential)),
            ("key", Some(Credential)),
            ("DB_PASSWORD_FILE", None),
            ("password_hash", None),
            ("PASSWORD_MIN_LENGTH", None),
            ("api_key_id", None),
            ("secretKeyRef", None),
            ("secretName", None),
            ("token_type", None),
            ("public_key", None),
            ("primary_key", None),
            ("csrf_token", None),
            ("next_page_token", None),
            ("image_digest", None),
            ("integrity", None),
            ("NOPASSWD", None),
            ("encrypted_password", None),
            ("wrong_api_token", None),
            ("invalidToken", None),
        ] {
            assert_eq!(classify_key(k.as_bytes()), c, "{k}");
        }
    }

    #[test]
    fn pairs_are_read_in_every_syntax() {
        for text in [
            format!("DB_PASSWORD={PW}"),
            format!("  password: \"{PW}\""),
            format!("  \"password\": \"{PW}\","),
            format!("password = '{PW}'"),
            format!("\tdbPassword := \"{PW}\""),
            format!("$cfg['smtp_pass'] = '{PW}';"),
            format!("app.db.password={PW}"),
            format!("ENV DB_PASSWORD={PW}"),
            format!("ENV DB_PASSWORD {PW}"),
            format!("ARG DB_PASSWORD={PW}"),
            format!("RUN docker build --build-arg DB_PASSWORD={PW} ."),
            format!("export DB_PASSWORD=\"{PW}\""),
            format!("mysql -h db -u root -p'{PW}' app"),
            format!("psql --password '{PW}' -h db"),
            format!("./deploy.sh --password={PW} --env prod"),
            format!("curl -u admin:{PW} https://nexus.example.com/"),
            format!("    private static final String DB_PASSWORD = \"{PW}\";"),
            format!("2026-11-02T10:00:00Z INFO [env] db_password={PW}"),
        ] {
            assert_eq!(one(&text).as_deref(), Some(PW), "{text}");
        }
    }

    #[test]
    fn kubernetes_env_entries_pair_name_and_value() {
        let text = format!("env:\n  - name: DB_PASSWORD\n    value: \"{PW}\"\n  - name: LOG_LEVEL\n    value: info\n");
        assert_eq!(one(&text).as_deref(), Some(PW));
        let ecs = format!("{{\"name\": \"API_TOKEN\", \"value\": \"{PW}\"}}");
        assert_eq!(one(&ecs).as_deref(), Some(PW));
    }

    #[test]
    fn base64_values_that_decode_to_text_are_judged_decoded() {
        // base64 of "Sup3r-Secr3t-Pa55!" as a Kubernetes Secret's data.
        let text = "data:\n  DB_PASSWORD: U3VwM3ItU2VjcjN0LVBhNTUh\n  DB_USER: YWRtaW4=\n";
        assert_eq!(one(text).as_deref(), Some("b64:Sup3r-Secr3t-Pa55!"));
    }

    #[test]
    fn non_secrets_under_secret_keys_are_skipped() {
        for text in [
            "DB_PASSWORD=${DB_PASSWORD}",
            "password: \"{{ .Values.db.password }}\"",
            "password = os.environ[\"DB_PASSWORD\"]",
            "password = self.password",
            "password: changeme",
            "DB_PASSWORD_FILE=/run/secrets/db",
            "password_file: ./secrets/db.txt",
            "token: sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "api_key: 3f2b8c1e-4d5a-4b6c-9e7f-1a2b3c4d5e6f",
            "SECRET_KEY = get_random_secret_key()",
            "password_hash = \"$2b$12$KIXQkQ9Gq1bV7zJ2M1qv7eF0aZrT5yU8wV3xC6nB9mL2kJ4hG7fDe\"",
            "password: ENC[AES256_GCM,data:abc,iv:def,tag:ghi,type:str]",
            "docker build --secret id=npm_token,env=NPM_TOKEN .",
            "docker login --username ci --password-stdin < token.txt",
            "find . -name '*.py' -print",
            "key: password",
            "integrity: sha512-Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4",
            "url: https://user:pw@host/x",
            "if password == \"\":",
            "password: |",
        ] {
            assert_eq!(one(text), None, "{text}");
        }
    }

    /// A line of many `name:` keys, and long lines after it: the line ends the
    /// Kubernetes-style lookahead needs are found once per line read, not once per key.
    #[test]
    fn name_keys_find_the_following_line_ends_once() {
        let long = "x".repeat(200_000);
        let text = format!("{}\n{long}\n{long}\n", "- name: DB_PASSWORD ".repeat(200));
        let data = text.as_bytes();
        let end = memchr::memchr(b'\n', data).unwrap();
        crate::work::take();
        let mut pairs = Vec::new();
        read_line(data, 0, end, FileKind::DATA, &mut pairs);
        assert!(pairs.is_empty());
        let work = crate::work::take();
        assert!(work.line_bytes <= data.len(), "{work:?}");
    }

    #[test]
    fn bland_keys_need_a_strong_value() {
        assert_eq!(
            one("key: Zk3q9TmX2vLp8RwN4yBc7Hd"),
            Some("Zk3q9TmX2vLp8RwN4yBc7Hd".into())
        );
        assert_eq!(one("key: Zk3q9TmX2vLp"), None);
        assert_eq!(one("key: my-service-name-in-prod"), None);
    }

    #[test]
    fn code_is_judged_by_the_syntax_of_its_file() {
        let pw = PW;
        for (path, text) in [
            ("a.rs", "let token = read_token(options, reg)?;".to_string()),
            (
                "a.rs",
                "token = self.token.as_ref().ok_or_else(|| E::Missing)?;".into(),
            ),
            (
                "a.rs",
                "//! - Does not fit any idea of a pass: directly call it".into(),
            ),
            ("a.py", "    password = serializers.CharField(".into()),
            ("a.py", "    password = f\"{password}\"".into()),
            ("a.go", "\tsecret := &api.Secret{Name: name}".into()),
            ("a.js", "if ((token = tokens[0]).type === \"ID\")".into()),
            ("main.tf", "  password = var.db_password".into()),
            ("deploy.ps1", "$password = Read-Host -AsSecureString".into()),
            ("run.sh", format!("TOKEN=\"${{CI_TOKEN:+{pw}}}\"")),
            ("run.sh", "adduser --password --no-create-home svc".into()),
            (
                "run.sh",
                "tool --token   Authentication token for the API".into(),
            ),
            (
                "README.md",
                "[`registry.token`]: config.md#registrytoken".into(),
            ),
            ("README.md", "    password = serializers.CharField(".into()),
            ("tool.1", "\\f[B]\\-\\-token\\f[R]=\\f[I]TOKEN\\f[R]".into()),
            (
                "values.yaml",
                "  existingSecret: api-postgres-credentials".into(),
            ),
            (
                "values.yaml",
                "# {{- range $key, $value := .Values.commonLabels }}".into(),
            ),
            ("form.rb", format!("authenticity_token: \"{pw}\"")),
            (
                "ci.yml",
                "      key: Linux-node-9f3c1e7a52b84d60e1f7a3c95b2d8e04f17a6c3b".into(),
            ),
        ] {
            assert_eq!(found_in(path, &text), [], "{path}: {text}");
        }
    }

    #[test]
    fn literals_in_code_are_values() {
        for (path, text) in [
            ("a.rs", format!("let token = \"{PW}\";")),
            ("a.rs", format!("let api_key: &str = \"{PW}\";")),
            (
                "a.ts",
                format!("  private readonly secret: string = '{PW}';"),
            ),
            (
                "a_test.go",
                format!("want := \"hosts:\\n  oauth_token: {PW}\\n\""),
            ),
            (
                "a.go",
                format!("var x = \"hosts:\\n  oauth_token: \\\"{PW}\\\"\\n\""),
            ),
            ("main.tf", format!("  password = \"{PW}\"")),
            ("run.sh", format!("export DEPLOY_TOKEN={PW}")),
            ("deploy.ps1", format!("$env:API_TOKEN = '{PW}'")),
        ] {
            assert_eq!(
                found_in(path, &text),
                [(PW.to_string(), false)],
                "{path}: {text}"
            );
        }
    }

    #[test]
    fn trivial_values_are_flagged_except_in_live_settings() {
        let line = "MYSQL_PASSWORD=nextcloud\n";
        assert_eq!(found_in("compose.yaml", line), [("nextcloud".into(), true)]);
        assert_eq!(found_in(".env", line), [("nextcloud".into(), false)]);
        assert_eq!(found_in(".env.example", line), [("nextcloud".into(), true)]);
        // A key that says its value is for tests.
        let test_key = format!("  SECURE_TEST_PASSWORD = \"{PW}\"\n");
        assert_eq!(found_in("helpers.rb", &test_key), [(PW.into(), true)]);
        assert_eq!(found_in(".env", &test_key), [(PW.into(), false)]);
        let test = "\t\tactiveToken:  \"inactive-user-token\",";
        assert_eq!(
            found_in("switch_test.go", test),
            [("inactive-user-token".into(), true)]
        );
    }

    #[test]
    fn a_session_key_needs_a_strong_value() {
        let slug = "    protected const LOGIN_SESSION_KEY = 'auth-login-last-attempted';";
        assert_eq!(found_in("Login.php", slug), []);
        let key = "LASTFM_SESSION_KEY=Zk3q9TmX2vLp8RwN4yBc7Hd1\n";
        assert_eq!(
            found_in("deploy.sh", key),
            [("Zk3q9TmX2vLp8RwN4yBc7Hd1".to_string(), false)]
        );
    }

    #[test]
    fn an_environment_lookups_default_is_a_literal() {
        for (path, text) in [
            ("app.php", format!("    'key' => env('APP_KEY', '{PW}'),")),
            (
                "settings.py",
                format!("TOKEN = os.getenv(\"API_TOKEN\", \"{PW}\")"),
            ),
            (
                "config.rb",
                format!("  secret = ENV.fetch(\"CLIENT_SECRET\", \"{PW}\")"),
            ),
        ] {
            assert_eq!(found_in(path, &text), [(PW.to_string(), false)], "{text}");
        }
        // Other calls with a secret-like first argument pass a name and a rule, not a value.
        for text in [
            format!("$rules = validate('password', '{PW}');"),
            "os.getenv(\"API_TOKEN\", default)".to_string(),
            "$request->input('password', '')".to_string(),
        ] {
            assert_eq!(found_in("a.php", &text), [], "{text}");
        }
    }

    /// A token-shaped value: what a vendor's key under an unlisted name must look like.
    fn token() -> String {
        format!("{PW}7Hd2")
    }

    #[test]
    fn a_vendor_word_before_key_asks_for_a_token() {
        let t = token();
        for (path, text) in [
            ("config.env", format!("asana_key = \"{t}\"")),
            ("config.env", format!("ip2locationKEY={t}")),
            ("values.yaml", format!("  azureKey: {t}")),
            ("app.py", format!("logz_key = '{t}'")),
            ("main.go", format!("\tlogzKey := \"{t}\"")),
            ("config.json", format!("  \"godaddyKey\": \"{t}\",")),
        ] {
            assert_eq!(
                found_in(path, &text),
                [(t.clone(), false)],
                "{path}: {text}"
            );
        }
        // Nor is one spelled unlike a key, nor a word glued to an escape (`\nsecret-key`).
        for text in [
            format!("asana_key = \"{PW}$%x{PW}\""),
            format!("asana_key = \"={t}\""),
            format!("spaces_key = \"DO00{}\"", PW.to_ascii_uppercase()),
            format!("fixture = \"[r]\\nsecret-key = \\\"{t}\\\"\\n\""),
        ] {
            assert_eq!(found_in("config.env", &text), [], "{text}");
            assert_eq!(found_in("main.rs", &text), [], "{text}");
        }
        // A weak value under such a name is not a token.
        for text in [
            "asana_key = \"dev\"",
            "shape_key = 'circle-large'",
            "asana_key = 12345",
        ] {
            assert_eq!(found_in("config.env", text), [], "{text}");
        }
    }

    #[test]
    fn keys_of_data_are_not_credentials_whatever_their_value() {
        let t = token();
        for key in [
            "cache_key",
            "primary_key",
            "sort_key",
            "partition_key",
            "object_key",
            "s3_key",
            "bucketKey",
            "routing_key",
            "idempotency_key",
            "translation_key",
            "ssh_key",
            "gpg_key",
            "user_id_key",
            "hotKey",
            "shortcut_key",
            "message_key",
            "row_key",
            "digest_key",
            "etagKey",
            "commit_key",
            "recaptcha_site_key",
            "foreign_key",
        ] {
            for text in [format!("{key} = \"{t}\""), format!("{key}: {t}")] {
                assert_eq!(found_in("config.env", &text), [], "{text}");
                assert_eq!(found_in("app.py", &text), [], "{text}");
            }
        }
    }

    #[test]
    fn a_word_before_a_bare_key_in_text_names_whose_key_it_is() {
        let t = token();
        for text in [
            format!("[DEBUG] Using adobe KEY={t}"),
            format!("[INFO] using mixpanel key = {t}"),
            format!("aylien key: {t}"),
        ] {
            assert_eq!(found_in("notes.txt", &text), [(t.clone(), false)], "{text}");
            assert_eq!(found_in("app.log", &text), [(t.clone(), false)], "{text}");
        }
        for text in [
            format!("# public key: {t}"),
            format!("the sort key: {t}"),
            format!("ssh key: {t}"),
            format!("[DEBUG] Using Key={t}"),
            format!("a new key: {t}"),
            "Using Key=development".to_string(),
        ] {
            assert_eq!(found_in("notes.txt", &text), [], "{text}");
        }
        // In code the same words are an expression, not a sentence.
        assert_eq!(found_in("main.rs", &format!("let x = a key = {t};")), []);
    }

    #[test]
    fn gradle_build_config_fields_are_read_as_name_and_value() {
        let t = token();
        for (path, text) in [
            (
                "app/build.gradle",
                format!("    buildConfigField 'String', 'API_KEY', '\"{t}\"'"),
            ),
            (
                "app/build.gradle",
                format!("    buildConfigField \"String\", \"API_KEY\", \"\\\"{t}\\\"\""),
            ),
            (
                "app/build.gradle.kts",
                format!("    buildConfigField(\"String\", \"MAPS_TOKEN\", \"\\\"{t}\\\"\")"),
            ),
        ] {
            assert_eq!(found_in(path, &text), [(t.clone(), false)], "{text}");
        }
        for text in [
            "    buildConfigField 'String', 'API_KEY', \"\\\"${apiKey}\\\"\"",
            "    buildConfigField 'String', 'API_KEY', project.property('apiKey')",
            "    buildConfigField 'boolean', 'USE_TOKEN', 'true'",
        ] {
            assert_eq!(found_in("app/build.gradle", text), [], "{text}");
        }
    }
}
