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
    /// String literals joined in code (a PEM block one quoted line at a time).
    Joined,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Base64 => "base64",
            Encoding::Url => "url",
            Encoding::HexEscape => "hex",
            Encoding::Joined => "joined-literals",
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
    /// Base64 spread over pieces (a block scalar's lines): the offset (relative to
    /// `span.start`) of each base64 character, in order.
    Base64Chars(Vec<u32>),
    /// Byte-wise decoders: the encoded offset (relative to `span.start`) of each decoded
    /// byte, plus one entry for the end.
    Table(Vec<u32>),
}

impl DecodedRun {
    /// A run rebuilt byte by byte elsewhere: `table` holds the offset (relative to
    /// `span.start`) of each byte of `bytes`, plus one entry for the end.
    pub(crate) fn from_table(
        encoding: Encoding,
        span: Span,
        bytes: Vec<u8>,
        table: Vec<u32>,
    ) -> Self {
        debug_assert_eq!(table.len(), bytes.len() + 1);
        DecodedRun {
            encoding,
            span,
            bytes,
            map: PositionMap::Table(table),
        }
    }

    /// The encoded range, in the outer data, that decodes to `inner` (a range of `bytes`).
    pub fn map_span(&self, inner: Span) -> Span {
        let base = self.span.start;
        let (s, e) = match &self.map {
            PositionMap::Base64 => (inner.start / 3 * 4, inner.end.div_ceil(3) * 4),
            PositionMap::Table(t) => (t[inner.start] as usize, t[inner.end] as usize),
            PositionMap::Base64Chars(c) => {
                // Byte `i` starts in character `8i / 6`; bytes to `e` end in `8e / 6`, rounded up.
                let last = c.len().saturating_sub(1);
                let s = c[(inner.start * 4 / 3).min(last)] as usize;
                let e = c[((inner.end * 4).div_ceil(3)).clamp(1, c.len()) - 1] as usize + 1;
                (s, e)
            }
        };
        Span::new(base + s, (base + e).min(self.span.end).max(base + s))
    }
}

/// Every run in `data` that decodes to text, in order, using at most `budget` decoded
/// bytes (which is decreased; set to 0 when a run of text did not fit, so that a budget of
/// 0 after a scan says what was decoded is not all there was). Runs inside `skip` (spans a rule already matched, sorted and
/// without overlaps) are left alone.
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

/// The spans of every run in `data` that `decode_runs` decodes, with no budget: for a
/// caller that batches its input and must send each piece the matcher would decode
/// through it (the log masker's prefilter), so it cannot pass what a scan finds decoded.
pub fn encoded_text_runs(data: &[u8]) -> Vec<Span> {
    let mut budget = usize::MAX;
    decode_runs(data, &[], &mut budget)
        .into_iter()
        .map(|r| r.span)
        .collect()
}

/// Whether `span` overlaps a span of `skip`: a binary search, since `skip` is sorted and
/// without overlaps (so its ends are sorted too), where a linear one would cost a pass over
/// every match for each encoded run.
pub(crate) fn overlaps_any(span: Span, skip: &[Span]) -> bool {
    debug_assert!(skip.windows(2).all(|w| w[0].end <= w[1].start));
    let first = skip.partition_point(|s| s.end <= span.start);
    skip.get(first).is_some_and(|s| s.overlaps(&span))
}

/// Each byte's base64 value (both alphabets), or `INVALID`.
const B64_VALUE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => INVALID,
        };
        b += 1;
    }
    t
};
const INVALID: u8 = 0xff;

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
        let value = B64_VALUE[b as usize];
        if value == INVALID {
            return None;
        }
        acc = (acc << 6) | u32::from(value);
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

/// Whether 16 base64 characters (of one alphabet) decode to the start of text, without
/// allocating: most runs fail here.
fn head_is_text(chars: &[u8]) -> bool {
    let (std, url) = (
        chars.iter().any(|&b| b == b'+' || b == b'/'),
        chars.iter().any(|&b| b == b'-' || b == b'_'),
    );
    if std && url {
        return false;
    }
    let mut bytes = [0u8; 12];
    for (group, out) in chars.chunks_exact(4).zip(bytes.chunks_exact_mut(3)) {
        let mut acc = 0u32;
        for &c in group {
            let value = B64_VALUE[c as usize];
            if value == INVALID {
                return false;
            }
            acc = acc << 6 | u32::from(value);
        }
        out.copy_from_slice(&acc.to_be_bytes()[1..]);
    }
    is_text_prefix(&bytes)
}

/// Whether `bytes` is the start of text: [`is_text`], except that a UTF-8 sequence cut at
/// the end is allowed.
fn is_text_prefix(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) if e.error_len().is_none() => {
            std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    is_text(valid.as_bytes())
}

/// A whole value that is base64 of a short text (a Kubernetes Secret's `data:` entry):
/// the decoded text, else `None`.
pub fn decode_base64_text(value: &[u8]) -> Option<Vec<u8>> {
    if value.len() < 8 || value.len() > 4096 {
        return None;
    }
    let padded = value.ends_with(b"=");
    // Unpadded values must have a base64 length; padded ones a multiple of four.
    if padded && !value.len().is_multiple_of(4) {
        return None;
    }
    let decoded = base64_decode(value)?;
    (decoded.len() >= 6 && is_text(&decoded) && !decoded.contains(&b'\n')).then_some(decoded)
}

/// A value known to be base64 (a Kubernetes Secret's `data:` entry), written in `pieces`
/// of `data` (a block scalar's lines; in JSON, `\/` and `\n` escapes), decoded when it is
/// text, using at most `budget` decoded bytes (which is decreased). `None` when it is not
/// base64 of text (a template expression, binary data) or is over the bounds.
pub fn decode_base64_pieces(
    data: &[u8],
    pieces: &[Span],
    budget: &mut usize,
) -> Option<DecodedRun> {
    let (first, last) = (pieces.first()?, pieces.last()?);
    let span = Span::new(first.start, last.end);
    if span.len() / 4 * 3 > MAX_DECODED_RUN {
        return None;
    }
    let mut chars = Vec::new();
    let mut offsets = Vec::new();
    let mut padding = 0;
    for piece in pieces {
        let mut i = piece.start;
        while i < piece.end {
            let b = data[i];
            match b {
                b'\\' if matches!(data.get(i + 1), Some(b'n' | b'r')) => i += 1,
                b'\\' | b' ' | b'\t' | b'\r' => {}
                b'=' => padding += 1,
                // Nothing but padding may follow padding.
                _ if padding > 0 => return None,
                _ => {
                    chars.push(b);
                    offsets.push((i - span.start) as u32);
                }
            }
            i += 1;
        }
    }
    if padding > 2 || chars.is_empty() {
        return None;
    }
    let bytes = base64_decode(&chars)?;
    if bytes.is_empty() || !is_text(&bytes) || !spend(budget, bytes.len()) {
        return None;
    }
    Some(DecodedRun {
        encoding: Encoding::Base64,
        span,
        bytes,
        map: PositionMap::Base64Chars(offsets),
    })
}

/// Bit `j` set when `data[at + j]` is in the base64 alphabet (bytes past the end are not).
fn alphabet_mask(data: &[u8], at: usize) -> u64 {
    // A whole block is read in place; only the last, short one is copied out and padded.
    if let Some(block) = data.get(at..at.saturating_add(64)) {
        return block_alphabet_mask(block.try_into().expect("64 bytes"));
    }
    let mut block = [0u8; 64];
    let tail = &data[at.min(data.len())..(at + 64).min(data.len())];
    block[..tail.len()].copy_from_slice(tail);
    block_alphabet_mask(&block)
}

/// [`alphabet_mask`] of one block with SSE2 (part of every x86-64 CPU): sixteen bytes per
/// compare, where a table lookup per byte costs as much as the rest of the scan.
#[cfg(target_arch = "x86_64")]
fn block_alphabet_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::*;
    let mut mask = 0u64;
    for (k, chunk) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is always enabled on x86_64, and `chunk` is 16 readable bytes
        // (an unaligned load).
        let bits = unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast());
            let splat = |b: u8| _mm_set1_epi8(b as i8);
            // x <= n (unsigned) as min(x, n) == x.
            let at_most = |x: __m128i, n: u8| _mm_cmpeq_epi8(_mm_min_epu8(x, splat(n)), x);
            let letter = at_most(_mm_sub_epi8(_mm_or_si128(v, splat(0x20)), splat(b'a')), 25);
            let digit = at_most(_mm_sub_epi8(v, splat(b'0')), 9);
            let symbol = _mm_or_si128(
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, splat(b'+')),
                    _mm_cmpeq_epi8(v, splat(b'-')),
                ),
                _mm_or_si128(
                    _mm_cmpeq_epi8(v, splat(b'/')),
                    _mm_cmpeq_epi8(v, splat(b'_')),
                ),
            );
            _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), symbol)) as u16
        };
        mask |= u64::from(bits) << (16 * k);
    }
    mask
}

#[cfg(not(target_arch = "x86_64"))]
fn block_alphabet_mask(block: &[u8; 64]) -> u64 {
    table_alphabet_mask(block)
}

/// The same mask from the value table, a byte at a time (the portable path, and the
/// reference the vector path is tested against).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn table_alphabet_mask(block: &[u8; 64]) -> u64 {
    let mut mask = 0u64;
    for (j, &b) in block.iter().enumerate() {
        mask |= u64::from(B64_VALUE[b as usize] != INVALID) << j;
    }
    mask
}

/// Bits `j` below 64 of `w` where at least `n` (1..=64) consecutive set bits start.
fn run_starts(w: u128, n: u32) -> u64 {
    let (mut r, mut len) = (w, 1);
    while len * 2 <= n {
        r &= r >> len;
        len *= 2;
    }
    r &= r >> (n - len);
    r as u64
}

/// Base64 runs long enough to decode. Bytes are classified 64 at a time into a bit mask
/// and only blocks where a long enough run starts are read byte by byte: in source code
/// and prose the short runs (words) alternate with other bytes, and a branch per byte
/// costs more than the rest of the pass.
fn base64_runs(data: &[u8], skip: &[Span], budget: &mut usize, out: &mut Vec<DecodedRun>) {
    // Up to two `=` of padding count towards the run's length.
    const MIN_ALPHABET_RUN: u32 = MIN_BASE64_RUN as u32 - 2;
    // The first byte not yet read.
    let mut next: usize = 0;
    let mut cur = alphabet_mask(data, 0);
    for base in (0..data.len()).step_by(64) {
        let following = alphabet_mask(data, base + 64);
        let starts = run_starts(
            u128::from(cur) | u128::from(following) << 64,
            MIN_ALPHABET_RUN,
        );
        cur = following;
        // Start bits below `next` lie inside a run already read.
        let mut pending = match next.saturating_sub(base) {
            0 => starts,
            read if read < 64 => starts & (u64::MAX << read),
            _ => 0,
        };
        while pending != 0 {
            let start = base + pending.trailing_zeros() as usize;
            next = base64_run_at(data, start, skip, budget, out);
            pending = match next - base {
                read if read < 64 => pending & (u64::MAX << read),
                _ => 0,
            };
        }
    }
}

/// Read the base64 run that starts at `start` and decode it when it holds text; returns
/// the offset just past the run (and its padding).
fn base64_run_at(
    data: &[u8],
    start: usize,
    skip: &[Span],
    budget: &mut usize,
    out: &mut Vec<DecodedRun>,
) -> usize {
    let is_b64 = |b: u8| B64_VALUE[b as usize] != INVALID;
    // The run's end, 64 bytes at a time.
    let mut i = start;
    loop {
        let run = (!alphabet_mask(data, i)).trailing_zeros() as usize;
        i += run;
        if run < 64 || i >= data.len() {
            break;
        }
    }
    let i = i.min(data.len());
    let mut end = i;
    while end < data.len() && end - i < 2 && data[end] == b'=' {
        end += 1;
    }
    // Padding is padding only when the run ends there (`KEY=value` is not).
    if end > i && data.get(end).is_some_and(|&b| is_b64(b)) {
        end = i;
    }
    let after = end.max(i);
    let len = end - start;
    if len < MIN_BASE64_RUN || len / 4 * 3 > MAX_DECODED_RUN {
        return after;
    }
    // Most runs are not base64 of text (paths, identifiers, digests, keys): judge the
    // first twelve bytes before looking at the whole run.
    if !head_is_text(&data[start..start + 16]) {
        return after;
    }
    // Encoded text has both cases; names and paths often do not.
    let run = &data[start..i];
    if !(run.iter().any(u8::is_ascii_uppercase) && run.iter().any(u8::is_ascii_lowercase)) {
        return after;
    }
    let span = Span::new(start, end);
    if overlaps_any(span, skip) || *budget == 0 {
        return after;
    }
    let Some(bytes) = base64_decode(&data[start..end]) else {
        return after;
    };
    if !is_text(&bytes) || !spend(budget, bytes.len()) {
        return after;
    }
    out.push(DecodedRun {
        encoding: Encoding::Base64,
        span,
        bytes,
        map: PositionMap::Base64,
    });
    after
}

/// Take `n` decoded bytes from `budget`; when they do not fit, the budget is spent (0).
pub(crate) fn spend(budget: &mut usize, n: usize) -> bool {
    match budget.checked_sub(n) {
        Some(left) => {
            *budget = left;
            true
        }
        None => {
            *budget = 0;
            false
        }
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
        if !is_text(&bytes) || !spend(budget, bytes.len()) {
            continue;
        }
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
        if !is_text(&bytes) || !spend(budget, bytes.len()) {
            continue;
        }
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
    fn long_runs_are_judged_by_their_head_without_changing_the_result() {
        // 47 ASCII bytes then "é": the 64-character head ends inside the two-byte sequence.
        let text = format!("{}é and then password=Sup3rSecretValue1", "x".repeat(47));
        let r = runs(&format!("v: {}\n", b64(&text)));
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].2, text);
        let mut binary = b64(&"\u{1}".repeat(60));
        binary.insert_str(0, "QUJD");
        assert!(runs(&format!("v: {binary}\n")).is_empty());
    }

    /// The run reader without the block masks: every maximal alphabet run, one by one.
    fn runs_one_by_one(data: &[u8]) -> Vec<(usize, usize)> {
        let mut budget = MAX_DECODED_PER_BLOB;
        let mut out = Vec::new();
        let mut i = 0;
        while i < data.len() {
            if B64_VALUE[data[i] as usize] == INVALID {
                i += 1;
                continue;
            }
            i = base64_run_at(data, i, &[], &mut budget, &mut out);
        }
        out.iter().map(|r| (r.span.start, r.span.end)).collect()
    }

    #[test]
    fn block_masks_find_the_same_runs_as_reading_every_byte() {
        let enc = b64("export TOKEN=ghp_abcdefghijklmnop");
        // Runs at every offset across block edges, of lengths around the minimum, with
        // and without padding, next to words.
        for pad in 0..70 {
            for cut in [16, 17, 18, 19, 20, 21, 24, enc.len()] {
                let piece = &enc[..cut.min(enc.len())];
                let data = format!(
                    "{}{piece} x {enc}= {piece}==\n",
                    "a b".repeat(pad / 3) + &"z".repeat(pad % 3)
                );
                let mut budget = MAX_DECODED_PER_BLOB;
                let fast: Vec<(usize, usize)> = decode_runs(data.as_bytes(), &[], &mut budget)
                    .iter()
                    .map(|r| (r.span.start, r.span.end))
                    .collect();
                assert_eq!(fast, runs_one_by_one(data.as_bytes()), "{data:?}");
            }
        }
    }

    #[test]
    fn alphabet_mask_agrees_with_the_value_table() {
        let all: Vec<u8> = (0..=255).collect();
        for at in (0..256).step_by(64) {
            let block: &[u8; 64] = all[at..at + 64].try_into().unwrap();
            assert_eq!(block_alphabet_mask(block), table_alphabet_mask(block));
            assert_eq!(alphabet_mask(&all, at), table_alphabet_mask(block));
        }
        assert_eq!(alphabet_mask(b"ab", 0), 0b11);
        assert_eq!(alphabet_mask(b"ab", 64), 0);
        assert_eq!(table_alphabet_mask(&[b'Q'; 64]), u64::MAX);
    }

    #[test]
    fn head_check_agrees_with_decoding() {
        for text in [
            "export TOKEN=ghp_x",
            "é and the rest of it",
            "\u{1}\u{2}binary......",
        ] {
            let enc = b64(text);
            let head = &enc.as_bytes()[..16];
            let decoded = base64_decode(head).unwrap();
            assert_eq!(head_is_text(head), is_text_prefix(&decoded), "{text:?}");
        }
        assert!(!head_is_text(b"ab+dab_dabcdabcd"));
    }

    #[test]
    fn run_starts_marks_long_runs_only() {
        // Runs of 3 (bits 0-2) and 4 (bits 4-7).
        assert_eq!(run_starts(0b1111_0111, 3), 0b0011_0001);
        // A run of 11 across the 64-bit edge (bits 60-70) starts 8-runs at bits 60-63.
        assert_eq!(run_starts(0x7ff << 60, 8), 0xf << 60);
        assert_eq!(run_starts(u128::from(u64::MAX) | 0xff << 64, 64), 0x1ff);
        assert_eq!(run_starts(1 << 80, 1), 0);
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
    fn encoded_text_runs_are_the_runs_decoded_without_a_budget() {
        let enc = b64("export TOKEN=ghp_abcdefghijklmnop");
        let data = format!("a {enc} b q=token%3Dabc%26password%3DhunterTwo22 KEY=value\n");
        let mut budget = MAX_DECODED_PER_BLOB;
        let decoded: Vec<Span> = decode_runs(data.as_bytes(), &[], &mut budget)
            .iter()
            .map(|r| r.span)
            .collect();
        assert_eq!(decoded.len(), 2);
        assert_eq!(encoded_text_runs(data.as_bytes()), decoded);
        assert!(encoded_text_runs(b"KEY=value /usr/local/lib/python3/site-packages\n").is_empty());
    }

    #[test]
    fn budget_and_skip_bound_the_work() {
        let enc = b64("export TOKEN=ghp_abcdefghijklmnop");
        let data = format!("{enc} {enc}\n");
        let mut budget = 40;
        assert_eq!(decode_runs(data.as_bytes(), &[], &mut budget).len(), 1);
        // The second run did not fit: the budget says so by being spent.
        assert_eq!(budget, 0);
        let mut budget = 80;
        assert_eq!(decode_runs(data.as_bytes(), &[], &mut budget).len(), 2);
        assert_eq!(budget, 80 - 66);
        let mut budget = MAX_DECODED_PER_BLOB;
        let skip = [Span::new(0, 3)];
        assert_eq!(decode_runs(data.as_bytes(), &skip, &mut budget).len(), 1);
    }

    #[test]
    fn overlap_with_skipped_spans_is_found_by_search() {
        let skip: Vec<Span> = (0..50).map(|i| Span::new(i * 10, i * 10 + 4)).collect();
        for start in 0..520 {
            for len in 0..12 {
                let span = Span::new(start, start + len);
                let linear = skip.iter().any(|s| s.overlaps(&span));
                assert_eq!(overlaps_any(span, &skip), linear, "{span:?}");
            }
        }
    }

    #[test]
    fn values_in_pieces_decode_across_lines_and_map_back() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcN\n";
        let enc = b64(text);
        // A block scalar: the encoding cut into lines of 16 under an indentation.
        let lines: Vec<&str> = enc
            .as_bytes()
            .chunks(16)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let data = format!("  k: |\n    {}\n", lines.join("\n    "));
        let mut pieces = Vec::new();
        let mut at = data.find("    ").unwrap() + 4;
        for l in &lines {
            pieces.push(Span::new(at, at + l.len()));
            at += l.len() + 5;
        }
        let mut budget = MAX_DECODED_PER_BLOB;
        let run = decode_base64_pieces(data.as_bytes(), &pieces, &mut budget).unwrap();
        assert_eq!(run.bytes, text.as_bytes());
        assert_eq!(budget, MAX_DECODED_PER_BLOB - text.len());
        // The decoded body maps onto the encoded lines holding it, from its first character.
        let body = text.find("MIIB").unwrap();
        let span = run.map_span(Span::new(body, text.len()));
        // (Its padding, `==`, holds nothing.)
        assert_eq!(span.end, pieces.last().unwrap().end - 2);
        assert_eq!(span.start, pieces[2].start + (body * 4 / 3 - 32));
        // JSON escapes, and values that are not base64 of text.
        let json = r"Pz8\/Pz8\/";
        let whole = [Span::new(0, json.len())];
        let run = decode_base64_pieces(json.as_bytes(), &whole, &mut budget).unwrap();
        assert_eq!(run.bytes, b"??????");
        for bad in [
            "{{ .Values.password | b64enc }}",
            "AAECAwQF",
            "QU=JD",
            "QUJD===",
            "",
        ] {
            let whole = [Span::new(0, bad.len())];
            assert!(
                decode_base64_pieces(bad.as_bytes(), &whole, &mut budget).is_none(),
                "{bad}"
            );
        }
        let mut none = 2;
        assert!(
            decode_base64_pieces(enc.as_bytes(), &[Span::new(0, enc.len())], &mut none).is_none()
        );
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
