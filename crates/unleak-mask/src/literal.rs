//! Exact values to mask whatever rules say (`--literal-from-env`), in the encoded forms a
//! log shows them in.
//!
//! Owns: turning each value into its byte forms (raw, standard base64 whole and at each
//! alignment inside a larger blob, percent-encoded) and finding them with one
//! Aho-Corasick automaton. Does not own: where the values come from (the CLI reads the
//! environment) or how a match is replaced (the masker writes [`LITERAL_MASK`]).

use aho_corasick::{AhoCorasick, MatchKind};
use std::fmt;

/// What a literal value is replaced with. Not a length-revealing form: a literal has no
/// rule and no public prefix, and `***` is what CI systems print for registered secrets,
/// so users recognise it.
pub const LITERAL_MASK: &str = "***";

/// Values shorter than this are not masked: masking `a` or `on` would garble the log.
pub const MIN_LITERAL_LEN: usize = 4;

/// A literal value that will not be masked, by its position in the list given to
/// [`crate::Masker::new`] (the value itself is never part of a warning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShortLiteral {
    /// 0-based position in the list of literals.
    pub index: usize,
    /// Its length in bytes.
    pub len: usize,
}

impl fmt::Display for ShortLiteral {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "literal value #{} is {} bytes long and is not masked: values shorter than \
             {MIN_LITERAL_LEN} bytes would garble the log",
            self.index + 1,
            self.len
        )
    }
}

/// Every accepted value's forms in one case-sensitive, leftmost-longest automaton, so a
/// whole padded base64 form wins over the shorter aligned core it starts with.
pub(crate) struct LiteralSet {
    automaton: AhoCorasick,
    /// The forms, also fed (case-insensitively) to the masker's prefilter.
    forms: Vec<Vec<u8>>,
}

impl LiteralSet {
    /// The set for `values`, or `None` when no value is long enough; plus a warning for
    /// each value left out.
    pub(crate) fn new(values: Vec<Vec<u8>>) -> (Option<LiteralSet>, Vec<ShortLiteral>) {
        let mut warnings = Vec::new();
        let mut forms: Vec<Vec<u8>> = Vec::new();
        for (index, value) in values.into_iter().enumerate() {
            if value.len() < MIN_LITERAL_LEN {
                warnings.push(ShortLiteral {
                    index,
                    len: value.len(),
                });
                continue;
            }
            for form in encoded_forms(&value) {
                if !forms.contains(&form) {
                    forms.push(form);
                }
            }
        }
        if forms.is_empty() {
            return (None, warnings);
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&forms)
            .expect("literal forms are plain byte strings and always compile");
        (Some(LiteralSet { automaton, forms }), warnings)
    }

    pub(crate) fn forms(&self) -> &[Vec<u8>] {
        &self.forms
    }

    /// Byte ranges of every occurrence in `data`, leftmost-longest, non-overlapping.
    pub(crate) fn find_iter<'a>(
        &'a self,
        data: &'a [u8],
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        self.automaton.find_iter(data).map(|m| (m.start(), m.end()))
    }
}

/// The forms a value takes in logs: itself (a multi-line value line by line, as the
/// masker scans lines); its standard base64 with and without padding;
/// the part of the base64 that only this value determines when it sits at each of the
/// three byte alignments inside a larger encoded blob (e.g. `user:value` in a Basic
/// header); and its percent-encoding (upper- and lower-case hex, and with `+` for space
/// as HTML forms send it).
fn encoded_forms(value: &[u8]) -> Vec<Vec<u8>> {
    let mut forms: Vec<Vec<u8>> = value
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line).to_vec())
        .collect();
    let whole = base64(value);
    let unpadded = whole.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    forms.push(whole[..unpadded].to_vec());
    forms.push(whole);
    for offset in 0..3 {
        forms.push(aligned_base64_core(value, offset));
    }
    forms.push(percent_encode(value, b"0123456789ABCDEF", false));
    forms.push(percent_encode(value, b"0123456789abcdef", false));
    forms.push(percent_encode(value, b"0123456789ABCDEF", true));
    forms.retain(|f| f.len() >= MIN_LITERAL_LEN);
    forms
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 (RFC 4648 §4) with `=` padding.
fn base64(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

/// The base64 characters fixed by `value` alone when `offset` (0..3) bytes of its 3-byte
/// group precede it: character `i` covers bits `6i..6i+6` of the encoded stream, so the
/// ones that lie wholly inside the value's bits `8·offset..8·(offset+len)` are kept.
fn aligned_base64_core(value: &[u8], offset: usize) -> Vec<u8> {
    let mut shifted = vec![0u8; offset];
    shifted.extend_from_slice(value);
    let encoded = base64(&shifted);
    let first = (8 * offset).div_ceil(6);
    let end = 8 * (offset + value.len()) / 6;
    encoded[first..end].to_vec()
}

/// Percent-encode every byte outside RFC 3986's unreserved set.
fn percent_encode(value: &[u8], hex: &[u8; 16], plus_for_space: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() * 3);
    for &b in value {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b);
        } else if plus_for_space && b == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[b'%', hex[usize::from(b >> 4)], hex[usize::from(b & 15)]]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded.as_bytes(), "{plain}");
        }
    }

    /// The aligned core must appear in the encoding of the value wherever it sits.
    #[test]
    fn aligned_cores_occur_inside_any_surrounding_blob() {
        let value = b"s3cr3t-value!";
        for before in 0..7 {
            for after in 0..4 {
                let mut blob = b"prefix:".repeat(before)[..before].to_vec();
                blob.extend_from_slice(value);
                blob.extend(std::iter::repeat_n(b'#', after));
                let encoded = base64(&blob);
                let core = aligned_base64_core(value, before % 3);
                assert!(core.len() >= value.len());
                assert!(
                    memchr::memmem::find(&encoded, &core).is_some(),
                    "before {before}, after {after}"
                );
            }
        }
    }

    #[test]
    fn percent_encoding_keeps_unreserved_bytes() {
        assert_eq!(
            percent_encode(b"a b/c~", b"0123456789ABCDEF", false),
            b"a%20b%2Fc~"
        );
        assert_eq!(
            percent_encode(b"a b/c~", b"0123456789abcdef", true),
            b"a+b%2fc~"
        );
    }

    #[test]
    fn short_values_are_left_out_with_a_warning() {
        let (set, warnings) = LiteralSet::new(vec![b"abc".to_vec(), b"long enough".to_vec()]);
        assert_eq!(warnings, [ShortLiteral { index: 0, len: 3 }]);
        let set = set.expect("one value is long enough");
        assert!(set.forms().iter().all(|f| f != b"abc"));
        let text = warnings[0].to_string();
        assert!(text.contains("#1") && text.contains("3 bytes"), "{text}");
        assert!(!text.contains("abc"));
    }

    #[test]
    fn only_short_values_make_no_set() {
        let (set, warnings) = LiteralSet::new(vec![Vec::new()]);
        assert!(set.is_none());
        assert_eq!(warnings, [ShortLiteral { index: 0, len: 0 }]);
    }

    #[test]
    fn a_multi_line_value_is_masked_line_by_line() {
        let (set, _) = LiteralSet::new(vec![b"first line\r\nsecond line\nab".to_vec()]);
        let forms = set.unwrap().forms;
        assert!(forms.contains(&b"first line".to_vec()));
        assert!(forms.contains(&b"second line".to_vec()));
        assert!(forms.iter().all(|f| !f.contains(&b'\n') && f != b"ab"));
    }

    #[test]
    fn the_whole_padded_form_wins_over_its_core() {
        let (set, _) = LiteralSet::new(vec![b"fooba".to_vec()]);
        let set = set.unwrap();
        let data = b"x Zm9vYmE= y";
        assert_eq!(set.find_iter(data).collect::<Vec<_>>(), [(2, 10)]);
    }
}
