//! Recognises values that stand in for a secret rather than being one: templates,
//! variable references, documentation example keys, masks, filler, and code identifiers
//! on the right of an assignment (`password = self.password`, `token: API_TOKEN`); and
//! values that are something other than a credential even under a secret-like key: file
//! references, URLs, digests and lock-file hashes, UUIDs, password hashes, encrypted
//! (SOPS, Ansible Vault) values, numbers and function calls.

/// Substrings (compared lower-case) that mark a documentation or template value.
const MARKERS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "your_",
    "your-",
    "yourtoken",
    "yourpassword",
    "xxxx",
    "****",
    "....",
    "redacted",
    "dummy",
    "sample",
    "replace_me",
    "replaceme",
    "insert_",
    "<",
    ">",
    "${",
    "{{",
    "}}",
    "$(",
    "%(",
    "#{",
];

/// Credentials published as examples or for local development, which therefore protect
/// nothing but appear in many codebases: the Azurite / Azure Storage emulator account key,
/// the example tokens and client credentials of RFC 6749 (section 4.1.3, 5.1, 2.3.1), and
/// the sample token that jwt.io and countless tutorials show.
const PUBLISHED_EXAMPLE_VALUES: &[&str] = &[
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    "2YotnFZFEjr1zCsicMWpAA",
    "tGzv3JOkF0XG5Qx2TlKWIA",
    "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
];

/// Whether `value` is a placeholder and not a credential.
pub fn is_placeholder(value: &[u8]) -> bool {
    let original = String::from_utf8_lossy(value);
    if PUBLISHED_EXAMPLE_VALUES.contains(&original.trim()) {
        return true;
    }
    let v = original.to_ascii_lowercase();
    let v = v.trim();
    if v.is_empty() {
        return true;
    }
    if MARKERS.iter().any(|m| v.contains(m)) {
        return true;
    }
    // `$NAME`, `%NAME%`: references to a variable that holds the secret.
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    };
    if let Some(rest) = v.strip_prefix('$') {
        if ident(rest.trim_start_matches('{').trim_end_matches('}')) {
            return true;
        }
    }
    if v.len() > 2 && v.starts_with('%') && v.ends_with('%') && ident(&v[1..v.len() - 1]) {
        return true;
    }
    // `{password}` (a format string's field, C#'s `$"…{x}"`) and `[AWS_ACCESS_KEY_ID]`,
    // `[SECRET_NAME` (a bracketed stand-in, its closing bracket maybe cut as punctuation).
    if has_format_field(v) {
        return true;
    }
    if let Some(inner) = v.strip_prefix('[') {
        let inner = inner.strip_suffix(']').unwrap_or(inner);
        if ident(inner) {
            return true;
        }
    }
    // Identifier shapes depend on case, so they are judged on the original value; a
    // leading `.` is a Go or Helm template's field path (`.Values.db.password`).
    let trimmed = original.trim();
    if is_identifier_reference(trimmed.strip_prefix('.').unwrap_or(trimmed)) {
        return true;
    }
    let bytes = v.as_bytes();
    // One repeated character: "aaaaaaaa", "00000000".
    if bytes.iter().all(|&b| b == bytes[0]) {
        return true;
    }
    // Counting runs: "12345678", "abcdefgh".
    if bytes.len() >= 6 && bytes.windows(2).all(|w| w[1] == w[0].wrapping_add(1)) {
        return true;
    }
    false
}

/// Whether `v` holds `{name}`: a field of a format string or an interpolation.
fn has_format_field(v: &str) -> bool {
    v.match_indices('{').any(|(i, _)| {
        let rest = &v[i + 1..];
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.'))
            .count();
        n > 0 && rest.as_bytes().get(n) == Some(&b'}') && !rest.as_bytes()[0].is_ascii_digit()
    })
}

/// A name in code rather than a literal: `db_password`, `DB_PASSWORD`, `userPassword`, or a
/// path of words joined by `.` or `::` (`self.password`, `process.env.API_TOKEN`,
/// `config::Password`). Words carry no digits, so random values, which almost always do,
/// are not mistaken for names.
fn is_identifier_reference(v: &str) -> bool {
    let path = v.replace("::", ".");
    let segments: Vec<&str> = path.split('.').collect();
    if segments.len() > 1 {
        return segments.iter().all(|s| is_word(s));
    }
    is_snake_case(v) || is_camel_case(v)
}

/// Plain words joined by underscores: `snake_case`, `SCREAMING_CASE`, `_S_token_ord_char`.
/// A random run of mixed-case letters (`hf_AbXqPz…`) is not a plain word.
fn is_snake_case(s: &str) -> bool {
    s.contains('_')
        && s.trim_matches('_').len() > 1
        && s.split('_').all(|w| w.is_empty() || is_plain_word(w))
}

/// `word`, `WORD` or `Word`.
fn is_plain_word(w: &str) -> bool {
    let b = w.as_bytes();
    !b.is_empty()
        && (b.iter().all(u8::is_ascii_lowercase)
            || b.iter().all(u8::is_ascii_uppercase)
            || (b[0].is_ascii_uppercase() && b[1..].iter().all(u8::is_ascii_lowercase)))
}

/// `camelCase` or `PascalCase`: humps of one capital and at least two lower-case letters,
/// and at least two humps, so `apiKey` qualifies and a random mixed-case string does not.
fn is_camel_case(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut humps = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_uppercase() {
            i += 1;
        } else if i != 0 {
            return false;
        }
        let lower = bytes[i..]
            .iter()
            .take_while(|b| b.is_ascii_lowercase())
            .count();
        if lower < 2 {
            return false;
        }
        i += lower;
        humps += 1;
    }
    humps >= 2
}

/// One segment of a path: a plain, snake or camel case name.
fn is_word(s: &str) -> bool {
    s.len() <= 40 && (is_plain_word(s) || is_snake_case(s) || is_camel_case(s))
}

/// Prefixes of content digests and integrity strings (`sha256:…`, npm's `sha512-…`, Go's
/// `h1:…`) and of one-way password hashes (`$2b$…`, `$argon2id$…`, `$6$…`).
const DIGEST_PREFIXES: &[&str] = &[
    "sha1:",
    "sha1-",
    "sha224:",
    "sha256:",
    "sha256-",
    "sha384:",
    "sha384-",
    "sha512:",
    "sha512-",
    "md5:",
    "md5-",
    "h1:",
    "blake2b:",
    "blake3:",
    "$2a$",
    "$2b$",
    "$2y$",
    "$argon2",
    // PostgreSQL's stored SCRAM verifier (`SCRAM-SHA-256$<iterations>:<salt>$<keys>`).
    "scram-sha-256$",
    "$6$",
    "$5$",
    "$1$",
    "$pbkdf2",
    "$scrypt$",
    "enc[",
    // EJSON's encrypted values: `EJ[<version>:<public key>:<nonce>:<box>]`.
    "ej[",
    "!vault",
    "$ansible_vault",
    "vault:",
    "arn:",
    "projects/",
];

/// Endings of file names a key may point to instead of holding the secret.
const FILE_SUFFIXES: &[&str] = &[
    ".pem", ".key", ".crt", ".cer", ".p12", ".pfx", ".jks", ".json", ".txt", ".yaml", ".yml",
    ".env", ".cfg", ".conf", ".ini", ".toml", ".gpg", ".asc", ".kdbx", ".secret", ".pub",
];

/// Whether `value`, found under a secret-like key, is evidently not a credential: a file
/// reference, a URL, a digest or hash, a UUID, a number, a function call or an encrypted
/// value. (Placeholders are [`is_placeholder`]'s job.)
const SECRET_REFERENCE_PREFIXES: &[&str] = &[
    "_vaultkv2:",
    "_vaultkv1:",
    "_aws:",
    "_aws_iam_rds:",
    "_envjson:",
];

pub fn is_non_secret_value(value: &[u8]) -> bool {
    let v = String::from_utf8_lossy(value).to_ascii_lowercase();
    let v = v.trim();
    if DIGEST_PREFIXES.iter().any(|p| v.starts_with(p)) {
        return true;
    }
    // Secret-store references a gateway resolves (hoop's `_vaultkv2:path:key` and kin, as
    // unleak migrate writes them): pointers, not values.
    if SECRET_REFERENCE_PREFIXES.iter().any(|p| v.starts_with(p)) {
        return true;
    }
    // PostgreSQL's stored MD5 password hash: `md5` and 32 hexadecimal digits.
    if v.len() == 35 && v.starts_with("md5") && v[3..].bytes().all(|b| b.is_ascii_hexdigit()) {
        return true;
    }
    // File references: absolute, relative, home, `file:` and curl's `@file`.
    if v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || v.starts_with("file:")
        || v.starts_with('@')
        || FILE_SUFFIXES.iter().any(|s| v.ends_with(s))
        || is_relative_path(v)
    {
        return true;
    }
    if v.contains("://") || v.starts_with("-----") {
        return true;
    }
    if is_uuid(v.as_bytes()) {
        return true;
    }
    // Numbers, versions and dates: digits with separators only, or `v1.2.3`.
    let digits = v.strip_prefix('v').filter(|r| r.contains('.')).unwrap_or(v);
    if digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b':' | b'_'))
    {
        return true;
    }
    // A SealedSecret's `encryptedData` value: ciphertext for the cluster's controller
    // (its format version byte 0x02 makes it start `Ag`), useless without that key.
    if value.len() >= 200
        && value.starts_with(b"Ag")
        && value
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return true;
    }
    // A call: `get_random_secret_key()`, `os.urandom(32)`, `secrets.token_hex(16)`.
    if let Some(open) = v.find('(') {
        let name = &v[..open];
        if v.ends_with(')')
            && !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphabetic() || matches!(b, b'_' | b'.' | b':'))
        {
            return true;
        }
    }
    false
}

/// Whether a bare (unquoted) value is code: an identifier path followed by a call, an
/// index, a struct literal or Rust's `?` (`serializers.CharField(`, `auth[1].decode()`,
/// `&api.Secret{`, `self.token.as_ref()`), or a path ending in a field or call chain. A
/// quoted value is a literal and is not judged here.
pub fn is_code_expression(value: &[u8]) -> bool {
    let v = value.strip_prefix(b"&").unwrap_or(value);
    let v = v.strip_prefix(b"*").unwrap_or(v);
    let mut i = 0;
    let ident = |i: &mut usize| {
        let start = *i;
        while *i < v.len() && (v[*i].is_ascii_alphanumeric() || v[*i] == b'_') {
            *i += 1;
        }
        *i > start && !v[start].is_ascii_digit()
    };
    if !ident(&mut i) {
        return false;
    }
    // One name with digits before a bracket is more likely a password (`S3cr3t(Pa55)`)
    // than a call; a path (`base64.b64encode(`) is code either way.
    let wordy = v[..i].iter().all(|b| b.is_ascii_alphabetic() || *b == b'_');
    let mut segments = 1;
    loop {
        match v.get(i) {
            Some(b'(' | b'[' | b'{' | b'?') => return wordy || segments > 1,
            Some(b'.') => i += 1,
            Some(b':') if v.get(i + 1) == Some(&b':') => i += 2,
            Some(b'-') if v.get(i + 1) == Some(&b'>') => i += 2,
            _ => return false,
        }
        if !ident(&mut i) {
            return false;
        }
        segments += 1;
    }
}

/// Words that make a value describe itself instead of being random (`testpassword`,
/// `inactive-user-token`, `mysecretpassword`).
const SELF_DESCRIBING: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "test",
    "demo",
    "fake",
    "mock",
    "valid",
    "wrong",
    "unimportant",
    "foobar",
];

/// Endings that make a value name what it stands for (`psql-backup-creds`,
/// `some-storage-account-key`).
const SELF_DESCRIBING_ENDINGS: &[&str] = &["creds", "credential", "credentials", "-key", "_key"];

/// Whether a value that passed every other check is still trivially fake: it names itself
/// (`testpassword`, `"inactive-user-token"`, `Pass@word1`, `some-path-to-credentials`), it
/// is one plain word (`nextcloud`), a phrase in camelCase (`barryIsTheBestBot`), or
/// natural-language text (`Contraseña`, a translation), it repeats a name on its line
/// before it (`POSTGRES_PASSWORD: postgres1`, `api_token => 'API-nyckel'`), it is mostly a
/// sequential run (`abc123`, `gho_abc123`, `12345678abc`), or it carries a vendor's prefix
/// but is shorter than that vendor's tokens (a GitHub `gho_` token is 40 characters).
/// `before` is the text before the value on its line.
pub fn is_trivial_value(value: &[u8], before: &[u8]) -> bool {
    let v = String::from_utf8_lossy(value).to_ascii_lowercase();
    // A random part makes the words a format's label (a PASETO `k3.secret.…` key).
    if !has_random_part(value) {
        // `Pass@word1`, `P@ssw0rd`: the words survive punctuation and digits for letters.
        let letters: String = v.chars().filter(char::is_ascii_alphanumeric).collect();
        let unleet: String = v
            .chars()
            .filter_map(|c| match c {
                '0' => Some('o'),
                '1' => Some('i'),
                '3' => Some('e'),
                '4' | '@' => Some('a'),
                '5' | '$' => Some('s'),
                c if c.is_ascii_alphanumeric() => Some(c),
                _ => None,
            })
            .collect();
        if SELF_DESCRIBING
            .iter()
            .any(|w| v.contains(w) || letters.contains(w) || unleet.contains(w))
            || SELF_DESCRIBING_ENDINGS.iter().any(|w| v.ends_with(w))
        {
            return true;
        }
        if is_camel_phrase(value) || is_prose(value) {
            return true;
        }
    }
    let b = v.as_bytes();
    // One word: any up to 16 letters; a longer one when it is capitalised with vowels, as
    // a natural word is (`Brugeradgangskode`) and random letters seldom are.
    let vowels = b.iter().filter(|c| b"aeiouy".contains(c)).count();
    let capitalised = value.first().is_some_and(u8::is_ascii_uppercase)
        && value[1..].iter().all(u8::is_ascii_lowercase);
    if (b.len() <= 16 || (b.len() <= 32 && capitalised && vowels * 4 >= b.len()))
        && is_plain_word(&String::from_utf8_lossy(value))
    {
        return true;
    }
    let before = before.to_ascii_lowercase();
    let name = v.trim_end_matches(|c: char| c.is_ascii_digit());
    if name.len() >= 4
        && name.bytes().all(|c| c.is_ascii_lowercase())
        && memchr::memmem::find(&before, name.as_bytes()).is_some()
    {
        return true;
    }
    // The key's own word and then plain words, no digits: a label, not a key.
    if let Some((first, rest)) = v.split_once(['-', ' ']) {
        if first.len() >= 3
            && first.bytes().all(|c| c.is_ascii_lowercase())
            && rest.bytes().all(|c| c.is_ascii_lowercase() || c == b'-')
            && memchr::memmem::find(&before, first.as_bytes()).is_some()
        {
            return true;
        }
    }
    if sequential_share(b) * 2 >= b.len() {
        return true;
    }
    SHORT_VENDOR_PREFIXES
        .iter()
        .any(|(p, len)| v.starts_with(p) && v.len() < *len)
}

/// Whether `value` holds a run of 20 or more letters and digits of two or more kinds
/// (lower case, upper case, digits) that is not a camelCase phrase: randomness a person
/// does not type as a name (digits at its ends aside: `everythingIsFineHere7`).
fn has_random_part(value: &[u8]) -> bool {
    value.split(|b| !b.is_ascii_alphanumeric()).any(|run| {
        let s = run.iter().take_while(|b| b.is_ascii_digit()).count();
        let e = run.len() - run.iter().rev().take_while(|b| b.is_ascii_digit()).count();
        run.len() >= 20 && char_kinds(run) >= 2 && camel_words(&run[s..e.max(s)]).is_none()
    })
}

/// `barryIsTheBestBot`, `MySuperStrongPassword!`, `someThingComplicated1`: three or more
/// words in camelCase, perhaps with digits and punctuation at the ends.
fn is_camel_phrase(value: &[u8]) -> bool {
    let core = value
        .iter()
        .position(u8::is_ascii_alphabetic)
        .map_or(&[][..], |s| &value[s..]);
    let end = core
        .iter()
        .rposition(u8::is_ascii_alphabetic)
        .map_or(0, |e| e + 1);
    let (core, tail) = core.split_at(end);
    let lead = &value[..value.len() - core.len() - tail.len()];
    let edge = |s: &[u8]| s.iter().all(|b| !b.is_ascii_alphabetic());
    edge(lead) && edge(tail) && camel_words(core).is_some_and(|n| n >= 3)
}

/// How many words a run of letters splits into when it is written in camelCase: each word
/// a capital (or not, for the first) and lower-case letters with a vowel, or the one-letter
/// words `A` and `I` (`BeAMinimum`). `None` when it is not: random letters, which put
/// capitals side by side or words without vowels.
fn camel_words(run: &[u8]) -> Option<usize> {
    if run.is_empty() || !run.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let vowel = |b: &u8| b"aeiouy".contains(&b.to_ascii_lowercase());
    let mut words = 0;
    let mut i = 0;
    while i < run.len() {
        let caps = run[i..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase())
            .count();
        let lower = run[i + caps..]
            .iter()
            .take_while(|b| b.is_ascii_lowercase())
            .count();
        if caps > 1 && lower > 0 {
            // `AMinimum`: the last capital starts the next word.
            if caps != 2 || !matches!(run[i], b'A' | b'I') {
                return None;
            }
            words += 1;
            i += 1;
            continue;
        }
        let word = &run[i..i + caps + lower];
        if lower == 0 || !word.iter().any(vowel) {
            return None;
        }
        words += 1;
        i += caps + lower;
    }
    Some(words)
}

/// Natural-language text: a value with letters outside ASCII (a translation such as
/// `Contraseña` or `パスワード`). Tokens and keys are ASCII.
fn is_prose(value: &[u8]) -> bool {
    std::str::from_utf8(value).is_ok_and(|s| s.chars().any(|c| !c.is_ascii() && c.is_alphabetic()))
}

fn char_kinds(run: &[u8]) -> usize {
    [
        run.iter().any(u8::is_ascii_lowercase),
        run.iter().any(u8::is_ascii_uppercase),
        run.iter().any(u8::is_ascii_digit),
    ]
    .iter()
    .filter(|&&k| k)
    .count()
}

/// Vendor prefixes and the documented length of the whole token.
const SHORT_VENDOR_PREFIXES: &[(&str, usize)] = &[
    ("ghp_", 40),
    ("gho_", 40),
    ("ghu_", 40),
    ("ghs_", 40),
    ("ghr_", 40),
    ("github_pat_", 82),
    ("glpat-", 26),
];

/// How many bytes of `b` lie in runs of three or more that count up or down by one
/// (`abc`, `123`, `zyx`).
fn sequential_share(b: &[u8]) -> usize {
    let mut total = 0;
    let mut i = 0;
    while i < b.len() {
        let mut j = i + 1;
        let step = b.get(j).map(|&n| n as i16 - b[i] as i16);
        if matches!(step, Some(1 | -1)) {
            while j < b.len() && Some(b[j] as i16 - b[j - 1] as i16) == step {
                j += 1;
            }
        }
        if j - i >= 3 {
            total += j - i;
            i = j;
        } else {
            i += 1;
        }
    }
    total
}

/// `dir/name.ext`: a relative path to a file (an object key such as `gems/x-1.0.gem`). Base64
/// has `/` but never `.`, so a random value is not read as a path.
fn is_relative_path(v: &str) -> bool {
    let Some((dir, name)) = v.rsplit_once('/') else {
        return false;
    };
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    !dir.is_empty()
        && !stem.is_empty()
        && (1..=4).contains(&ext.len())
        && ext.bytes().all(|b| b.is_ascii_lowercase())
        && !v.contains(['+', '='])
}

/// `8-4-4-4-12` hexadecimal, with or without braces.
fn is_uuid(v: &[u8]) -> bool {
    let v = v
        .strip_prefix(b"{")
        .and_then(|x| x.strip_suffix(b"}"))
        .unwrap_or(v);
    v.len() == 36
        && v.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "changeme",
            "${DB_PASSWORD}",
            "{{ .Values.db.password }}",
            "<your-token>",
            "xxxxxxxxxxxxxxxx",
            "AKIAIOSFODNN7EXAMPLE",
            "$API_KEY",
            "%SECRET%",
            "aaaaaaaaaaaa",
            "12345678",
            "********",
            "$(cat /run/secrets/token)",
            "db_password",
            "DB_PASSWORD",
            "userPassword",
            "ApiToken",
            "self.password",
            "process.env.API_TOKEN",
            "settings.SECRET_KEY",
            "this.props.authToken",
            "private::IdentAny",
            "core::fmt::Debug",
            "_S_token_ord_char",
            "2YotnFZFEjr1zCsicMWpAA",
            "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn random_values_are_not_placeholders() {
        for v in [
            "q8Zr2LmT0vXw9Ka1",
            "ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z7A0bC3",
            "S3cr3t!Pa55",
            "Zq8r.Lm2Tv0X",
            "xKqzPwTmRbLcVnJd",
            "hunter_2_Secret",
            "correcthorsebatterystaple",
            "s.AbcdefGhijklMnopqrStuvwxY",
            "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",
        ] {
            assert!(!is_placeholder(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn non_secret_values_are_recognised() {
        for v in [
            "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "sha512-Zm9vYmFyYmF6cXV4",
            "_vaultkv2:secret/data/hoop/pg-orders-db-prod:PASS",
            "_aws:hoop/pg-orders-db-prod:PASS",
            "h1:Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmE=",
            "$2b$12$KIXQkQ9Gq1bV7zJ2M1qv7eF0aZrT5yU8wV3xC6nB9mL2kJ4hG7fDe",
            "ENC[AES256_GCM,data:abc]",
            "/run/secrets/db",
            "./secrets/api.key",
            "~/.ssh/id_rsa",
            "@token.txt",
            "creds.json",
            "https://example.com/x",
            "3f2b8c1e-4d5a-4b6c-9e7f-1a2b3c4d5e6f",
            "2026-11-28",
            "4096",
            "get_random_secret_key()",
            "secrets.token_hex(16)",
        ] {
            assert!(is_non_secret_value(v.as_bytes()), "{v}");
        }
        for v in [
            "q8Zr2LmT0vXw9Ka1",
            "Falcon-harbor123!",
            "S3cr3t(Pa55)",
            "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        ] {
            assert!(!is_non_secret_value(v.as_bytes()), "{v}");
        }
        assert!(is_non_secret_value(b"v2.14.0"));
        // EJSON ciphertext, PostgreSQL's stored md5 and SCRAM hashes, a relative file path.
        for v in [
            "EJ[1:Qx7+Lm2/Tv0Xw9Ka=:Zk3q9TmX2vLp8RwN:4yBc7Hd+q8Zr2LmT]",
            "md50a1b2c3d4e5f60718293a4b5c6d7e8f9",
            "SCRAM-SHA-256$4096:Zk3q9TmX2vLp8RwN==$q8Zr2LmT0vXw9Ka1=:4yBc7Hd+Qx7Lm2Tv=",
            "archives/release-tool-2.3.1.gem",
        ] {
            assert!(is_non_secret_value(v.as_bytes()), "{v}");
        }
        for v in [
            "md50a1b2c3d4e5f60718293a4b5c6d7e8",
            "Zq8r/Lm2Tv0Xw9Ka1+",
            "ab/cd.Xy9z",
        ] {
            assert!(!is_non_secret_value(v.as_bytes()), "{v}");
        }
        let sealed = format!("Ag{}", "Qx7+Lm2/Tv0Xw9Ka".repeat(20));
        assert!(is_non_secret_value(sealed.as_bytes()));
    }

    #[test]
    fn format_fields_brackets_and_template_paths_are_placeholders() {
        for p in [
            "{password}",
            "db={db_password};x",
            "[AWS_ACCESS_KEY_ID]",
            "[SECRET_NAME",
            ".Values.commonLabels",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        assert!(!is_placeholder(b"q8Zr{2}LmT0vXw9Ka1"));
    }

    #[test]
    fn bare_code_expressions_are_recognised() {
        for v in [
            "serializers.CharField(",
            "auth[1].decode()",
            "&api.Secret{Name:",
            "read_token(options,",
            "Secret::from(",
            "base64.b64encode(",
            "self.token.as_ref().ok_or_else(||",
            "value?",
        ] {
            assert!(is_code_expression(v.as_bytes()), "{v}");
        }
        for v in [
            "q8Zr2LmT0vXw9Ka1",
            "S3cr3t(Pa55)",
            "Zq8r.Lm2Tv0X",
            "hunter_2_Secret",
        ] {
            assert!(!is_code_expression(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn trivially_fake_values_are_recognised() {
        for (v, before) in [
            ("testpassword", ""),
            ("mysecretpassword", ""),
            ("inactive-user-token", ""),
            ("user-that-is-broken-by-the-test", ""),
            ("nextcloud", ""),
            ("Tryportainer", ""),
            ("postgres123", "POSTGRES_PASSWORD: "),
            ("abc123", ""),
            ("gho_abc123", ""),
            ("0123456789abcdef", ""),
            ("ghp_Ab3dEf6hIj9kLm2nOp", ""),
            // Self-describing through punctuation and digits for letters.
            ("Pass@word1", ""),
            ("Adm1n@Passw0rd", ""),
            ("not_valid_9876", ""),
            ("some-path-to-credentials", ""),
            ("shared-storage-account-key", ""),
            // camelCase phrases, however long.
            ("aliceLovesTheGardenBot", ""),
            ("SigningKeyForTheDemoThatIsLongEnough", ""),
            ("@everythingIsFineHere7", ""),
            ("MyVeryStrongPassword!", ""),
            // Natural-language text: a translation, a long natural word.
            ("Motdepasse", ""),
            ("Réinitialiser", ""),
            ("パスワードを再設定", ""),
            ("Anmeldeinformationen", ""),
            // The key's word and then plain words.
            ("API-Schluessel", "'api_token' => '"),
        ] {
            assert!(is_trivial_value(v.as_bytes(), before.as_bytes()), "{v}");
        }
        for v in [
            "q8Zr2LmT0vXw9Ka1",
            "Falcon-harbor123!",
            "correct-horse-battery-staple",
            "9f3c1e7a52b84d60e1f7a3c95b2d8e04f17a6c3b",
            "Zk3q9TmX2vLp8RwN4yBc7Hd",
            "k3.secret.q8Zr2LmT0vXw9Ka1Zk3q9TmX2vLp8RwN4yBc7Hd",
            // Random letters are neither a camelCase phrase nor a natural word.
            "qZrTmLxVbNwKpYdHsGfJ",
            "kxqzvmplwrtnbhgfdsaq",
            "QxLmTvXwKaZkTmXvLpRw",
            "KaQWPTEinoRtyb",
            // A random value keeps its randomness next to a letter outside ASCII.
            "q8Zr2LmT0vXw9Ka1Zk3qé",
            "Qwhtzkpvrnemdlsoax",
            "tok-q8Zr2LmT0vXw",
        ] {
            assert!(!is_trivial_value(v.as_bytes(), b"password = "), "{v}");
        }
    }
}
