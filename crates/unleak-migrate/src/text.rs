//! Byte- and text-level helpers the rewriters and artifact writers share: a line index,
//! SHA-256 and base64 encodings, percent-decoding, YAML scalar and shell word quoting, and
//! making names from the repository inert where migrate prints or embeds them (terminal
//! and CI log lines, shell comments, Markdown table cells).
//!
//! Does not own: any knowledge of file formats; those live in `yaml`, `dotenv`,
//! `dockerfile` and `connstr`.

use sha2::{Digest, Sha256};

/// Where each line of a buffer starts, so offsets turn into lines and back cheaply.
pub(crate) struct Lines {
    starts: Vec<usize>,
    len: usize,
}

impl Lines {
    pub(crate) fn new(data: &[u8]) -> Self {
        let mut starts = vec![0];
        for (i, b) in data.iter().enumerate() {
            if *b == b'\n' && i + 1 < data.len() {
                starts.push(i + 1);
            }
        }
        Lines {
            starts,
            len: data.len(),
        }
    }

    pub(crate) fn count(&self) -> usize {
        self.starts.len()
    }

    /// 0-based line holding byte `offset` (the last line for offsets at the end).
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        }
    }

    pub(crate) fn start(&self, line: usize) -> usize {
        self.starts[line]
    }

    /// End of `line` including its line break.
    pub(crate) fn end_with_eol(&self, line: usize) -> usize {
        self.starts.get(line + 1).copied().unwrap_or(self.len)
    }

    /// End of `line` without its `\n` or `\r\n`.
    pub(crate) fn end(&self, data: &[u8], line: usize) -> usize {
        let mut e = self.end_with_eol(line);
        if e > self.start(line) && data[e - 1] == b'\n' {
            e -= 1;
            if e > self.start(line) && data[e - 1] == b'\r' {
                e -= 1;
            }
        }
        e
    }
}

/// The line break a file uses: `\r\n` when its first line ends that way, else `\n`.
pub(crate) fn eol_of(data: &[u8]) -> &'static str {
    match memchr_newline(data) {
        Some(i) if i > 0 && data[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

fn memchr_newline(data: &[u8]) -> Option<usize> {
    data.iter().position(|b| *b == b'\n')
}

/// Lower-case hex SHA-256.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    let digest = Sha256::digest(data);
    let mut s = String::with_capacity(64);
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Standard base64 with padding (what hoop's REST API expects for secret values).
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = ((b[0] as u32) << 16) | ((b[1] as u32) << 8) | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Values shorter than this are not looked for by [`value_forms`] users: a short word
/// would match ordinary text, and no rule reports a secret this short.
pub const MIN_SWEPT_VALUE: usize = 6;

/// The forms a value can take in a file or a printed line: as is, percent-encoded (a URI
/// userinfo or query), and base64 (a Kubernetes Secret, an `Authorization: Basic`
/// header), standard and URL-safe, without padding so an embedded copy matches too.
/// Empty for values shorter than `MIN_SWEPT_VALUE`.
pub fn value_forms(value: &[u8]) -> Vec<Vec<u8>> {
    if value.len() < MIN_SWEPT_VALUE {
        return Vec::new();
    }
    let mut forms = vec![value.to_vec()];
    let encoded = percent_encode(value);
    let b64 = base64(value).trim_end_matches('=').to_string();
    let url_safe = b64.replace('+', "-").replace('/', "_");
    for f in [
        encoded.into_bytes(),
        b64.into_bytes(),
        url_safe.into_bytes(),
    ] {
        if !forms.contains(&f) {
            forms.push(f);
        }
    }
    forms
}

/// Where the first copy of any of `forms` starts in `hay`, and which form it is.
pub(crate) fn find_form(hay: &[u8], forms: &[Vec<u8>]) -> Option<(usize, usize)> {
    forms
        .iter()
        .enumerate()
        .filter_map(|(k, f)| find(hay, f).map(|at| (at, k)))
        .min()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Percent-encode every byte outside RFC 3986's unreserved set.
fn percent_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    for &b in data {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Standard base64 (padding optional, surrounding whitespace ignored); `None` when the
/// text is not base64.
pub(crate) fn base64_decode(data: &[u8]) -> Option<Vec<u8>> {
    let text: Vec<u8> = data
        .trim_ascii()
        .iter()
        .copied()
        .take_while(|b| *b != b'=')
        .collect();
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for b in text {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    (bits < 6).then_some(out)
}

/// Decode `%XX` escapes (URI userinfo and query values); invalid escapes stay as written.
pub(crate) fn percent_decode(data: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        if data[i] == b'%' && i + 2 < data.len() {
            if let (Some(h), Some(l)) = (hex(data[i + 1]), hex(data[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(data[i]);
        i += 1;
    }
    out
}

/// A YAML scalar for generated files: plain when that reads back as the same string,
/// double-quoted (JSON escaping, which YAML accepts) otherwise.
pub(crate) fn yaml_scalar(s: &str) -> String {
    let plain_safe = !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b':' | b'@')
        })
        && !s.starts_with(['-', ':', '@', '.'])
        && !s.ends_with(':')
        && !s.contains(": ")
        && !looks_like_non_string(s);
    if plain_safe {
        s.to_string()
    } else {
        serde_json::to_string(s).expect("strings serialize")
    }
}

/// Plain scalars YAML 1.1/1.2 loaders would read as something other than a string.
fn looks_like_non_string(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "~"
    ) || s.parse::<f64>().is_ok()
        || s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'_' || b == b':')
}

/// Quote a word for a POSIX shell when it is not obviously safe.
pub(crate) fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b':' | b'@' | b'=')
        })
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Render text from the repository (a file name, a key, a line of a file) for a terminal
/// or a CI log: control characters (C0, DEL, C1: every ANSI sequence, line breaks), line
/// and paragraph separators and bidirectional controls become visible escapes such as
/// `\x1b`, `\n` or `\u{202e}` (so it also cannot end a `#` comment of a generated
/// script); `::` at the start (after blanks), which a GitHub Actions
/// runner reads as a workflow command, becomes `\x3a:`; `##[` (the runner's legacy form,
/// matched anywhere in a line) becomes `#\x23[`. The result is one line.
pub fn printable(s: &str) -> String {
    escape(s, false)
}

/// [`printable`] for a line of a file shown in the diff: tabs are kept as they are.
pub(crate) fn printable_line(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, keep_tabs: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut at_start = true;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' if keep_tabs => out.push(c),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            '\u{200e}'
            | '\u{200f}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{061c}'
            | '\u{feff}' => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            ':' if at_start && chars.peek() == Some(&':') => out.push_str("\\x3a"),
            '#' if out.ends_with('#') && chars.peek() == Some(&'[') => out.push_str("\\x23"),
            c => out.push(c),
        }
        // The runner trims every kind of blank before it looks for `::`.
        at_start = at_start && c.is_whitespace();
    }
    out
}

/// One inert cell of a GitHub-flavoured Markdown table: [`printable`] (one line, no
/// control character), `|` cannot split the cell, HTML is entity-escaped and Markdown
/// punctuation (code, emphasis, links) is backslash-escaped, so a name renders as written.
pub(crate) fn markdown_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in printable(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '|' | '~' | '#' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_map_offsets_both_ways() {
        let data = b"a\r\nbc\n\nd";
        let l = Lines::new(data);
        assert_eq!(l.count(), 4);
        assert_eq!(l.line_of(0), 0);
        assert_eq!(l.line_of(3), 1);
        assert_eq!(l.line_of(7), 3);
        assert_eq!(l.end(data, 0), 1);
        assert_eq!(l.end_with_eol(0), 3);
        assert_eq!(l.end(data, 2), 6);
        assert_eq!(l.end(data, 3), 8);
        assert_eq!(eol_of(data), "\r\n");
        assert_eq!(eol_of(b"x\ny"), "\n");
    }

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        for (raw, enc) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(raw.as_bytes()), enc);
        }
    }

    #[test]
    fn value_forms_cover_raw_encoded_and_base64_copies() {
        let forms = value_forms(b"p@ss/w+rd?1");
        let text = |f: &[u8]| String::from_utf8(f.to_vec()).unwrap();
        let all: Vec<String> = forms.iter().map(|f| text(f)).collect();
        assert!(all.contains(&"p@ss/w+rd?1".to_string()), "{all:?}");
        assert!(all.contains(&"p%40ss%2Fw%2Brd%3F1".to_string()), "{all:?}");
        let b64 = base64(b"p@ss/w+rd?1");
        assert!(
            all.contains(&b64.trim_end_matches('=').to_string()),
            "{all:?}"
        );
        let url_safe = value_forms(b"p?ss/w>rd?~~1");
        assert!(url_safe.contains(&b"cD9zcy93PnJkP35-MQ".to_vec()));
        let hay = format!("x: {b64}\n");
        assert_eq!(find_form(hay.as_bytes(), &forms).map(|(at, _)| at), Some(3));
        assert!(value_forms(b"short").is_empty());
    }

    #[test]
    fn base64_round_trips_and_rejects_other_text() {
        for v in [
            &b""[..],
            b"a",
            b"ab",
            b"abc",
            b"J4vQz9Rt2Lw7Kp5Xm8Nb3Vc1",
            b"\xff\x00",
        ] {
            assert_eq!(base64_decode(base64(v).as_bytes()).as_deref(), Some(v));
        }
        assert_eq!(base64_decode(b"not base64!"), None);
        assert_eq!(base64_decode(b"QQ"), Some(b"A".to_vec()));
        assert_eq!(base64_decode(b"Q"), None);
    }

    #[test]
    fn percent_decoding_keeps_bad_escapes() {
        assert_eq!(percent_decode(b"a%40b%2"), b"a@b%2");
        assert_eq!(percent_decode(b"%zz%41"), b"%zzA");
    }

    #[test]
    fn yaml_scalars_quote_what_would_change_type() {
        assert_eq!(
            yaml_scalar("orders-db.prod.internal"),
            "orders-db.prod.internal"
        );
        assert_eq!(yaml_scalar("5432"), "\"5432\"");
        assert_eq!(yaml_scalar("true"), "\"true\"");
        assert_eq!(yaml_scalar("a b"), "\"a b\"");
        assert_eq!(
            yaml_scalar("_vaultkv2:secret/data/hoop/pg-x:PASS"),
            "_vaultkv2:secret/data/hoop/pg-x:PASS"
        );
        assert_eq!(yaml_scalar(""), "\"\"");
    }

    #[test]
    fn printable_text_cannot_escape_its_line_or_command_a_runner() {
        assert_eq!(
            printable("e\u{1b}[2J\u{7}\n::x\r\u{202e}"),
            "e\\x1b[2J\\x07\\n::x\\r\\u{202e}"
        );
        assert_eq!(printable("::error::x"), "\\x3a:error::x");
        assert_eq!(printable("  ::warning::x"), "  \\x3a:warning::x");
        assert_eq!(printable("a::b"), "a::b");
        assert_eq!(printable("x##[error]y ##[z"), "x#\\x23[error]y #\\x23[z");
        assert_eq!(printable_line("\t::a\tb"), "\t\\x3a:a\tb");
        assert_eq!(printable("a\tb"), "a\\tb");
    }

    #[test]
    fn markdown_cells_keep_the_table_shape() {
        assert_eq!(
            markdown_cell("md|<img>`x`\n[l](j:a)"),
            "md\\|&lt;img&gt;\\`x\\`\\\\n\\[l\\]\\(j:a\\)"
        );
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("hoop/pg-x"), "hoop/pg-x");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
