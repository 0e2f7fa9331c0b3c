//! Rebuilds a PEM block written in code as string literals joined across lines:
//! `"-----BEGIN RSA PRIVATE KEY-----\n" +` and one quoted line after another (Java, JS, C#,
//! Go `+`; PHP `.`; VB `&`; Ruby `\` continuations), adjacent literals (C, Python inside
//! parentheses), or an array of lines to be joined (`[ "-----BEGIN…", "MIIE…", … ]`).
//!
//! Owns: finding a `-----BEGIN ` that opens a string literal, following the literals joined
//! to it, unescaping their contents and the map from rebuilt bytes back to the source.
//!
//! Does not own: what the rebuilt text is (the private-key rules decide: a public key, a
//! certificate or a body of `...` is not one) or a block inside one literal, which the
//! rules match where it stands.

use crate::decode::{DecodedRun, Encoding};
use unleak_core::Span;

/// Most bytes rebuilt from one block: the largest private-key window (OpenPGP's).
const MAX_JOINED: usize = 64 * 1024;
/// How far before a header its literal's opening quote is looked for.
const MAX_QUOTE_BEFORE: usize = 256;

/// Bytes that may stand between two joined literals.
fn is_joiner(b: u8) -> bool {
    matches!(
        b,
        b' ' | b'\t' | b'\r' | b'\n' | b'+' | b',' | b'.' | b'&' | b'\\'
    )
}

fn is_quote(b: u8) -> bool {
    matches!(b, b'"' | b'\'' | b'`')
}

/// What opens every PEM block: a blob without it (in any case) holds none, so the matcher's
/// keyword pass looks for it and calls [`joined_pem_blocks`] only on a hit.
pub const PEM_MARKER: &str = "-----BEGIN ";

/// Every PEM block in `data` written as two or more joined literals, rebuilt. Each byte
/// is read about once: a header inside what an earlier one read is not read again, and the
/// quote opening a header's literal is looked for a bounded distance back.
pub fn joined_pem_blocks(data: &[u8]) -> Vec<DecodedRun> {
    let mut out = Vec::new();
    let mut next = 0;
    for at in memchr::memmem::find_iter(data, PEM_MARKER.as_bytes()) {
        if at < next {
            continue;
        }
        let from = at.saturating_sub(MAX_QUOTE_BEFORE).max(next);
        let from = memchr::memrchr(b'\n', &data[from..at]).map_or(from, |i| from + i + 1);
        // The literal the header stands in opens at the last quote before it on its line.
        let Some(open) = data[from..at].iter().rposition(|&b| is_quote(b)) else {
            continue;
        };
        let (run, read) = join_from(data, from + open);
        next = read;
        out.extend(run);
    }
    out
}

/// The literals joined from the one opening at `open`, when there are two or more, and
/// the offset up to which `data` was read.
fn join_from(data: &[u8], open: usize) -> (Option<DecodedRun>, usize) {
    let start = open + 1;
    let mut bytes = Vec::new();
    let mut table: Vec<u32> = Vec::new();
    let mut at = open;
    let mut literals = 0;
    loop {
        let end = match read_literal(data, at, start, &mut bytes, &mut table) {
            Ok(end) => end,
            Err(stop) => return (None, stop),
        };
        literals += 1;
        let last_end = end;
        if bytes.len() > MAX_JOINED || memchr::memmem::find(&bytes, b"-----END ").is_some() {
            return (finish(start, last_end, literals, bytes, table), last_end);
        }
        // What joins this literal to the next: operators, commas, blanks and line breaks.
        let mut i = end + 1;
        let mut comma = false;
        while i < data.len() && is_joiner(data[i]) {
            comma |= data[i] == b',';
            i += 1;
        }
        // A string prefix: Python's `b"`, `r"`, `f"`, C#'s `@"`.
        let mut q = i;
        while q < data.len() && q < i + 2 && (data[q].is_ascii_alphabetic() || data[q] == b'@') {
            q += 1;
        }
        if q >= data.len() || !is_quote(data[q]) || i == end + 1 {
            return (finish(start, last_end, literals, bytes, table), last_end);
        }
        // Array elements are lines; concatenated literals carry their own `\n`.
        if comma && !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
            table.push((end + 1 - start) as u32);
        }
        at = q;
    }
}

fn finish(
    start: usize,
    end: usize,
    literals: usize,
    bytes: Vec<u8>,
    mut table: Vec<u32>,
) -> Option<DecodedRun> {
    if literals < 2 {
        return None;
    }
    table.push((end - start) as u32);
    Some(DecodedRun::from_table(
        Encoding::Joined,
        Span::new(start, end),
        bytes,
        table,
    ))
}

/// Read the one-line literal whose quote is at `open`, appending its unescaped content and
/// each byte's offset from `base`; returns the closing quote's offset, or where reading
/// stopped when the line ends first (a raw multi-line string is matched where it stands)
/// or the literal is too long to be a key's line.
fn read_literal(
    data: &[u8],
    open: usize,
    base: usize,
    bytes: &mut Vec<u8>,
    table: &mut Vec<u32>,
) -> Result<usize, usize> {
    let q = data[open];
    let mut i = open + 1;
    while i < data.len() {
        let b = data[i];
        if b == q {
            return Ok(i);
        }
        if b == b'\n' || bytes.len() > MAX_JOINED {
            return Err(i);
        }
        table.push((i - base) as u32);
        if b == b'\\' && i + 1 < data.len() {
            let unescaped = match data[i + 1] {
                b'n' => Some(b'\n'),
                b'r' => Some(b'\r'),
                b't' => Some(b'\t'),
                c @ (b'\\' | b'"' | b'\'' | b'/' | b'`') => Some(c),
                _ => None,
            };
            if let Some(c) = unescaped {
                bytes.push(c);
                i += 2;
                continue;
            }
        }
        bytes.push(b);
        i += 1;
    }
    Err(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rebuilt(code: &str) -> Vec<String> {
        joined_pem_blocks(code.as_bytes())
            .iter()
            .map(|r| String::from_utf8(r.bytes.clone()).unwrap())
            .collect()
    }

    const BODY: [&str; 2] = [
        "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu",
        "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==",
    ];

    #[test]
    fn concatenations_of_each_language_are_rebuilt() {
        let [a, b] = BODY;
        let want =
            format!("-----BEGIN RSA PRIVATE KEY-----\n{a}\n{b}\n-----END RSA PRIVATE KEY-----\n");
        let h = "-----BEGIN RSA PRIVATE KEY-----";
        let e = "-----END RSA PRIVATE KEY-----";
        for code in [
            // Java, JS, C#, Go.
            format!("String k = \"{h}\\n\" +\n    \"{a}\\n\" +\n    \"{b}\\n\" +\n    \"{e}\\n\";"),
            // Python, inside parentheses; C adjacent literals.
            format!("KEY = (\n    '{h}\\n'\n    '{a}\\n'\n    '{b}\\n'\n    '{e}\\n'\n)"),
            // Ruby continuation lines.
            format!("KEY = \"{h}\\n\" \\\n  \"{a}\\n\" \\\n  \"{b}\\n\" \\\n  \"{e}\\n\""),
            // PHP.
            format!("$k = \"{h}\\n\" .\n  \"{a}\\n\" .\n  \"{b}\\n\" .\n  \"{e}\\n\";"),
            // An array of lines, joined at run time.
            format!(
                "const k = [\n  \"{h}\",\n  \"{a}\",\n  \"{b}\",\n  \"{e}\",\n].join(\"\\n\");"
            ),
        ] {
            let got = rebuilt(&code);
            assert_eq!(got.len(), 1, "{code}");
            assert_eq!(got[0].trim_end(), want.trim_end(), "{code}");
        }
    }

    #[test]
    fn positions_map_back_to_the_source() {
        let [a, b] = BODY;
        let code = format!("k = \"-----BEGIN X-----\\n\" +\n  \"{a}\" +\n  \"{b}\"\n");
        let runs = joined_pem_blocks(code.as_bytes());
        let run = &runs[0];
        let text = String::from_utf8(run.bytes.clone()).unwrap();
        let at = text.find(b).unwrap();
        let span = run.map_span(Span::new(at, at + b.len()));
        assert_eq!(&code[span.start..span.end], b);
    }

    #[test]
    fn many_headers_on_one_long_line_are_read_in_linear_time() {
        // Unclosed literals, and closed ones joined to nothing, each a header: every byte is
        // looked at a bounded number of times, not once per header.
        for unit in ["'-----BEGIN X ", "\"-----BEGIN X\" ; "] {
            let line = unit.repeat(20_000);
            assert!(rebuilt(&line).is_empty());
        }
        let [a, _] = BODY;
        let many = format!("k = \"-----BEGIN X-----\\n\" +\n \"{a}\"\n").repeat(2000);
        assert_eq!(rebuilt(&many).len(), 2000);
    }

    #[test]
    fn single_literals_and_lone_headers_are_left_to_the_rules() {
        // One string with `\n` escapes: the rules match it where it stands.
        assert!(rebuilt(
            "k = \"-----BEGIN RSA PRIVATE KEY-----\\nMIIB\\n-----END RSA PRIVATE KEY-----\""
        )
        .is_empty());
        // A header in a string compared or printed, with code after it.
        assert!(rebuilt("if s.startswith(\"-----BEGIN RSA PRIVATE KEY-----\"): pass").is_empty());
        assert!(rebuilt("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n").is_empty());
        // A literal cut by the line end (a raw multi-line string).
        assert!(rebuilt("k = `-----BEGIN RSA PRIVATE KEY-----\nMIIB\n` + \"x\"").is_empty());
    }
}
