//! Finds encoded runs in a blob (base64, URL percent-encoding, `\xNN` hex escapes) and
//! decodes the ones that could hold a secret, with a map from decoded bytes back to the
//! encoded bytes so a secret found inside is reported where it sits in the original.
//!
//! Owns: run detection, the decoders, the size bounds (minimum run length, maximum decoded
//! size per run and per blob) and the decoded-to-encoded position map. Only runs that
//! decode to text are returned: random binary (digests, keys, compressed data) is dropped
//! here, which is what keeps the pass cheap and quiet.
//!
//! Does not own: scanning the decoded text, the depth bound or skipping runs a rule already
//! matched (the matcher does that), or printing: decoded text stays in memory and any
//! secret in it leaves only inside a redacting `Secret`.

use unleak_core::Span;

/// How a run was encoded; the finding's `decoded` chain lists these names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Base64,
    Url,
    HexEscape,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Url => "url",
            Encoding::HexEscape => "hex",
        }
    }
}

/// Shortest base64 run decoded: 20 characters are 15 bytes, the shortest text that can
/// hold a credential together with a name or prefix that a rule needs.
const MIN_BASE64_RUN: usize = 20;
/// Fewest `\xNN` escapes in a hex-escaped run.
const MIN_HEX_ESCAPES: usize = 8;
/// Largest decoded size of one run; bigger runs are data, not a credential.
const MAX_DECODED_RUN: usize = 256 * 1024;
/// Decoded bytes per blob (all runs, all depths together).
pub const MAX_DECODED_PER_BLOB: usize = 1024 * 1024;

/// One decoded run.
pub struct DecodedRun {
    pub encoding: Encoding,
    /// The encoded bytes in the data they were found in.
    pub span: Span,
    pub bytes: Vec<u8>,
    map: PositionMap,
}

enum PositionMap {
    /// Base64: every 3 decoded bytes come from 4 encoded ones, from `span.start`.
    Base64,
    /// Byte-wise decoders: the encoded offset (relative to `span.start`) of each decoded
    /// byte, plus one entry for the end.
    Table(Vec<u32>),
}

impl DecodedRun {
    /// The encoded range, in the outer data, that decodes to `inner` (a range of `bytes`).
    pub fn map_span(&self, inner: Span) -> Span {
        let base = self.span.start;
        let (s, e) = match &self.map {
            PositionMap::Base64 => (inner.start / 3 * 4, inner.end.div_ceil(3) * 4),
            PositionMap::Table(t) => (t[inner.start] as usize, t[inner.end] as usize),
        };
        Span::new(base + s, (base + e).min(self.span.end).max(base + s))
    }
}

/// Every run in `data` that decodes to text, in order, using at most `budget` decoded
/// bytes (which is decreased). Runs inside `skip` (spans a rule already matched) are left
/// alone.
pub fn decode_runs(data: &[u8], skip: &[Span], budget: &mut usize) -> Vec<DecodedRun> {
    let mut out = Vec::new();
    base64_runs(data, skip, budget, &mut out);
    if memchr::memchr(b'%', data).is_some() {
        url_runs(data, skip, budget, &mut out);
    }
    if memchr::memmem::find(data, b"\\x").is_some() {
        hex_runs(data, skip, budget, &mut out);
    }
    out.sort_by_key(|r| (r.span.start, r.span.end));
    out
}

fn overlaps_any(span: Span, skip: &[Span]) -> bool {
    skip.iter().any(|s| s.overlaps(&span))
}

fn b64_value(b: u8) -> Option<u8> {
    Some(match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    })
}

/// Decode base64 (standard or URL-safe alphabet, padding optional). `None` when the input
/// is not base64 (mixed alphabets, a stray byte, an impossible length).
fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    let body = s
        .strip_suffix(b"==")
        .or_else(|| s.strip_suffix(b"="))
        .unwrap_or(s);
    let std = body.iter().any(|&b| b == b'+' || b == b'/');
    let url = body.iter().any(|&b| b == b'-' || b == b'_');
    if (std && url) || body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in body {
        acc = (acc << 6) | u32::from(b64_value(b)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Whether decoded bytes are text a credential could sit in: UTF-8 without control
/// characters other than tab and line breaks.
fn is_text(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| {
        s.chars()
            .all(|c| !c.is_control() || matches!(c, '\t' | '\n' | '\r'))
    })
}

/// A whole value that is base64 of a short text (a Kubernetes Secret's `data:` entry):
/// the decoded text, else `None`.
pub fn decode_base64_text(value: &[u8]) -> Option<Vec<u8>> {
    if value.len() < 8 || value.len() > 4096 {
        return None;
    }
    let padded = value.ends_with(b"=");
    // Unpadded values must have a base64 length; padded ones a multiple of four.
    if padded && value.len() % 4 != 0 {
        return None;
    }
    let decoded = base64_decode(value)?;
    (decoded.len() >= 6 && is_text(&decoded) && !decoded.contains(&b'\n')).then_some(decoded)
}

fn base64_runs(data: &[u8], skip: &[Span], budget: &mut usize, out: &mut Vec<DecodedRun>) {
    let mut i = 0;
    while i < data.len() {
        if b64_value(data[i]).is_none() {
            i += 1;
            continue;
        }
        let start = i;
        let (mut upper, mut lower) = (false, false);
        while i < data.len() && b64_value(data[i]).is_some() {
            upper |= data[i].is_ascii_uppercase();
            lower |= data[i].is_ascii_lowercase();
            i += 1;
        }
        let mut end = i;
        while end < data.len() && end - i < 2 && data[end] == b'=' {
            end += 1;
        }
        // Padding is padding only when the run ends there (`KEY=value` is not).
        if end > i && data.get(end).is_some_and(|&b| b64_value(b).is_some()) {
            end = i;
        }
        i = end.max(i);
        let len = end - start;
        if len < MIN_BASE64_RUN || !(upper && lower) || len / 4 * 3 > MAX_DECODED_RUN {
            continue;
        }
        let span = Span::new(start, end);
        if overlaps_any(span, skip) || *budget == 0 {
            continue;
        }
        let Some(bytes) = base64_decode(&data[start..end]) else {
            continue;
        };
        if bytes.len() > *budget || !is_text(&bytes) {
            continue;
        }
        *budget -= bytes.len();
        out.push(DecodedRun {
            encoding: Encoding::Base64,
            span,
            bytes,
            map: PositionMap::Base64,
        });
    }
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Bytes that may stand in a URL-encoded run (everything but blanks, quotes and brackets
/// that end a value in markup or code).
fn is_url_byte(b: u8) -> bool {
    b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'`' | b'<' | b'>')
}

fn url_runs(data: &[u8], skip: &[Span], budget: &mut usize, out: &mut Vec<DecodedRun>) {
    let mut from = 0;
    while let Some(p) = memchr::memchr(b'%', &data[from..]) {
        let at = from + p;
        from = at + 1;
        if !(at + 2 < data.len()
            && hex_digit(data[at + 1]).is_some()
            && hex_digit(data[at + 2]).is_some())
        {
            continue;
        }
        let mut start = at;
        while start > 0 && is_url_byte(data[start - 1]) {
            start -= 1;
        }
        let mut end = at;
        while end < data.len() && is_url_byte(data[end]) {
            end += 1;
        }
        from = end;
        let span = Span::new(start, end);
        if end - start < 16 || end - start > MAX_DECODED_RUN || overlaps_any(span, skip) {
            continue;
        }
        let (bytes, table) = unescape(&data[start..end], |s| {
            (s.len() >= 3 && s[0] == b'%')
                .then(|| Some(hex_digit(s[1])? << 4 | hex_digit(s[2])?))
                .flatten()
                .map(|b| (b, 3))
        });
        if bytes.len() > *budget || !is_text(&bytes) {
            continue;
        }
        *budget -= bytes.len();
        out.push(DecodedRun {
            encoding: Encoding::Url,
            span,
            bytes,
            map: PositionMap::Table(table),
        });
    }
}

fn hex_runs(data: &[u8], skip: &[Span], budget: &mut usize, out: &mut Vec<DecodedRun>) {
    let escape = |s: &[u8]| {
        (s.len() >= 4 && s[0] == b'\\' && s[1] == b'x')
            .then(|| Some(hex_digit(s[2])? << 4 | hex_digit(s[3])?))
            .flatten()
            .map(|b| (b, 4))
    };
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&data[from..], b"\\x") {
        let start = from + p;
        // The run: escapes and plain printable bytes up to a blank or a quote.
        let mut end = start;
        let mut escapes = 0;
        while end < data.len() {
            if let Some((_, n)) = escape(&data[end..]) {
                escapes += 1;
                end += n;
            } else if data[end].is_ascii_graphic() && !matches!(data[end], b'"' | b'\'' | b'\\') {
                end += 1;
            } else {
                break;
            }
        }
        from = end.max(start + 2);
        let span = Span::new(start, end);
        if escapes < MIN_HEX_ESCAPES || end - start > MAX_DECODED_RUN || overlaps_any(span, skip) {
            continue;
        }
        let (bytes, table) = unescape(&data[start..end], escape);
        if bytes.len() > *budget || !is_text(&bytes) {
            continue;
        }
        *budget -= bytes.len();
        out.push(DecodedRun {
            encoding: Encoding::HexEscape,
            span,
            bytes,
            map: PositionMap::Table(table),
        });
    }
}

/// Decode byte-wise escapes: `escape` reads one at the start of a slice (the byte and the
/// escape's length); other bytes stand for themselves. Returns the bytes and the position
/// table.
fn unescape(s: &[u8], escape: impl Fn(&[u8]) -> Option<(u8, usize)>) -> (Vec<u8>, Vec<u32>) {
    let mut bytes = Vec::with_capacity(s.len());
    let mut table = Vec::with_capacity(s.len() + 1);
    let mut i = 0;
    while i < s.len() {
        table.push(i as u32);
        match escape(&s[i..]) {
            Some((b, n)) => {
                bytes.push(b);
                i += n;
            }
            None => {
                bytes.push(s[i]);
                i += 1;
            }
        }
    }
    table.push(s.len() as u32);
    (bytes, table)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let b = s.as_bytes();
        let mut out = String::new();
        for c in b.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for k in 0..4 {
                if k <= c.len() {
                    out.push(A[(n >> (18 - 6 * k) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    fn runs(data: &str) -> Vec<(Encoding, String, String)> {
        let mut budget = MAX_DECODED_PER_BLOB;
        decode_runs(data.as_bytes(), &[], &mut budget)
            .into_iter()
            .map(|r| {
                let text = String::from_utf8(r.bytes.clone()).unwrap();
                (r.encoding, data[r.span.start..r.span.end].to_string(), text)
            })
            .collect()
    }

    #[test]
    fn base64_text_is_decoded_and_mapped_back() {
        let inner = "export TOKEN=ghp_abcdefghijklmnop";
        let enc = b64(inner);
        let data = format!("blob: {enc}\n");
        let r = runs(&data);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].1, enc);
        assert_eq!(r[0].2, inner);
        let mut budget = MAX_DECODED_PER_BLOB;
        let run = &decode_runs(data.as_bytes(), &[], &mut budget)[0];
        let at = inner.find("ghp_").unwrap();
        let span = run.map_span(Span::new(at, inner.len()));
        assert!(span.start >= 6 && span.end <= 6 + enc.len());
        assert!(span.start <= 6 + at / 3 * 4);
    }

    #[test]
    fn binary_base64_and_plain_words_are_not_decoded() {
        // 30 bytes of a digest-like binary value, and a long path of words.
        let digest = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhsc";
        assert!(runs(&format!("integrity: sha512-{digest}\n")).is_empty());
        assert!(runs("/usr/local/lib/python3/site-packages/Foo/bar\n").is_empty());
        assert!(runs("KEY=value\n").is_empty());
    }

    #[test]
    fn url_and_hex_escapes_are_decoded_with_exact_positions() {
        let data = "q=token%3Dabc%26password%3DhunterTwo22";
        let r = runs(data);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].0, Encoding::Url);
        assert_eq!(r[0].2, "q=token=abc&password=hunterTwo22");
        let hex = r"s = '\x70\x61\x73\x73\x77\x6f\x72\x64\x3d\x78'";
        let r = runs(hex);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].0, r[0].2.as_str()),
            (Encoding::HexEscape, "password=x")
        );
        let mut budget = MAX_DECODED_PER_BLOB;
        let run = &decode_runs(data.as_bytes(), &[], &mut budget)[0];
        let pw = run.map_span(Span::new(21, 32));
        assert_eq!(&data[pw.start..pw.end], "hunterTwo22");
    }

    #[test]
    fn budget_and_skip_bound_the_work() {
        let enc = b64("export TOKEN=ghp_abcdefghijklmnop");
        let data = format!("{enc} {enc}\n");
        let mut budget = 40;
        assert_eq!(decode_runs(data.as_bytes(), &[], &mut budget).len(), 1);
        let mut budget = MAX_DECODED_PER_BLOB;
        let skip = [Span::new(0, 3)];
        assert_eq!(decode_runs(data.as_bytes(), &skip, &mut budget).len(), 1);
    }

    #[test]
    fn whole_values_decode_only_to_single_line_text() {
        assert_eq!(
            decode_base64_text(b64("Sup3r-Secr3t").as_bytes()).unwrap(),
            b"Sup3r-Secr3t"
        );
        assert!(decode_base64_text(b"q8Zr2LmT0vXw9Ka1").is_none());
        assert!(decode_base64_text(b64("a\nb\ncdefgh").as_bytes()).is_none());
    }
}
