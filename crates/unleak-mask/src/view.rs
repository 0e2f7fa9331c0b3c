//! The text the masker scans besides the raw bytes: what a terminal shows (escape
//! sequences removed) and, for a wrapped base64 block, the block with its line breaks
//! removed; with a map from each byte of that text back to the raw bytes.
//!
//! Owns: reading terminal escape sequences (ECMA-48: CSI, the OSC/DCS/SOS/PM/APC strings,
//! nF and two-byte escapes), building the view and its map, and picking out the bytes of
//! a replaced span that carry no text. Does not own: scanning the view or replacing what
//! is found in it (the masker).

pub(crate) const ESC: u8 = 0x1b;
const BEL: u8 = 0x07;

/// The length of the escape sequence at the start of `s` (`s[0]` is ESC), read as a
/// terminal reads it. A sequence cut by the end of `s` runs to the end; a string (OSC and
/// the like) also ends at a line break, so one stray `ESC ]` cannot hide the rest of a
/// log from the view (the raw bytes are scanned as well).
pub(crate) fn escape_len(s: &[u8]) -> usize {
    debug_assert_eq!(s.first(), Some(&ESC));
    let Some(&kind) = s.get(1) else {
        return 1;
    };
    match kind {
        // CSI: parameter bytes, intermediate bytes, one final byte.
        b'[' => {
            let mut i = 2;
            while s.get(i).is_some_and(|b| (0x30..=0x3f).contains(b)) {
                i += 1;
            }
            while s.get(i).is_some_and(|b| (0x20..=0x2f).contains(b)) {
                i += 1;
            }
            if s.get(i).is_some_and(|b| (0x40..=0x7e).contains(b)) {
                i += 1;
            }
            i
        }
        // OSC, DCS, SOS, PM, APC: a string ended by BEL or ST (`ESC \`).
        _ if is_string(s) => {
            let mut i = 2;
            while let Some(&b) = s.get(i) {
                match b {
                    BEL => return i + 1,
                    ESC if s.get(i + 1) == Some(&b'\\') => return i + 2,
                    // Any other ESC aborts the string and starts a sequence of its own.
                    ESC | b'\n' | b'\r' => return i,
                    _ => i += 1,
                }
            }
            i
        }
        // nF (character set designation and the like): intermediates, then a final byte.
        0x20..=0x2f => {
            let mut i = 1;
            while s.get(i).is_some_and(|b| (0x20..=0x2f).contains(b)) {
                i += 1;
            }
            if s.get(i).is_some_and(|b| (0x30..=0x7e).contains(b)) {
                i += 1;
            }
            i
        }
        // Two-byte escapes (`ESC 7`, `ESC =`, `ESC M`, ...).
        0x30..=0x7e => 2,
        _ => 1,
    }
}

/// Whether the escape sequence at the start of `s` is a string (OSC, DCS, SOS, PM, APC).
fn is_string(s: &[u8]) -> bool {
    matches!(s.get(1), Some(b']' | b'P' | b'X' | b'^' | b'_'))
}

/// A view of raw bytes and where each of its bytes came from.
pub(crate) struct View {
    pub(crate) text: Vec<u8>,
    /// `map[i]` is the raw offset of `text[i]`.
    map: Vec<usize>,
}

impl View {
    /// `data` without escape sequences and, when `join_lines`, without `\r` and `\n`;
    /// `None` when that removes nothing (the raw scan already covers it).
    pub(crate) fn new(data: &[u8], join_lines: bool) -> Option<View> {
        let removable = |b: u8| b == ESC || (join_lines && (b == b'\n' || b == b'\r'));
        if !data.iter().any(|&b| removable(b)) {
            return None;
        }
        let mut text = Vec::with_capacity(data.len());
        let mut map = Vec::with_capacity(data.len());
        let mut i = 0;
        while i < data.len() {
            match data[i] {
                ESC => i += escape_len(&data[i..]),
                b'\n' | b'\r' if join_lines => i += 1,
                b => {
                    text.push(b);
                    map.push(i);
                    i += 1;
                }
            }
        }
        Some(View { text, map })
    }

    /// The raw range that `text[start..end]` (not empty) came from.
    pub(crate) fn to_raw(&self, start: usize, end: usize) -> (usize, usize) {
        (self.map[start], self.map[end - 1] + 1)
    }
}

/// `data` without its escape sequences, into `out` (cleared first; reused so a
/// coloured line costs no allocation).
pub(crate) fn strip_escapes(data: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while let Some(at) = memchr::memchr(ESC, &data[i..]) {
        out.extend_from_slice(&data[i..i + at]);
        i += at + escape_len(&data[i + at..]);
    }
    out.extend_from_slice(&data[i..]);
}

/// Append the bytes of a replaced span that carry no text of it: its escape sequences
/// (so colours stay as they were) and, when `breaks`, its line breaks (so a replaced
/// wrapped block keeps its line count). Strings (OSC titles, hyperlinks, DCS) are
/// dropped: they hold text, which could be part of what is replaced.
pub(crate) fn inert_bytes(span: &[u8], breaks: bool, out: &mut Vec<u8>) {
    let mut i = 0;
    while i < span.len() {
        match span[i] {
            ESC => {
                let n = escape_len(&span[i..]);
                if !is_string(&span[i..]) {
                    out.extend_from_slice(&span[i..i + n]);
                }
                i += n;
            }
            b'\n' | b'\r' if breaks => {
                out.push(span[i]);
                i += 1;
            }
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_read_as_a_terminal_reads_them() {
        for (seq, len) in [
            (&b"\x1b[m"[..], 3),
            (b"\x1b[01;31m", 8),
            (b"\x1b[K", 3),
            (b"\x1b[?25h", 6),
            (b"\x1b]0;title\x07", 10),
            (b"\x1b]8;;http://x\x1b\\", 15),
            (b"\x1b(B", 3),
            (b"\x1b7", 2),
            (b"\x1b", 1),
            (b"\x1b[12", 4),
        ] {
            let mut s = seq.to_vec();
            s.extend_from_slice(b"\x01rest");
            assert_eq!(escape_len(&s), len, "{seq:?}");
        }
        // A string stops at a line break or another sequence.
        assert_eq!(escape_len(b"\x1b]0;never ended\nnext"), 15);
        assert_eq!(escape_len(b"\x1b]0;x\x1b[m"), 5);
    }

    #[test]
    fn the_view_maps_back_to_the_raw_bytes() {
        let raw = b"tok_\x1b[m\x1b[Kab\x1b[1mcd\n";
        let view = View::new(raw, false).unwrap();
        assert_eq!(view.text, b"tok_abcd\n");
        assert_eq!(view.to_raw(0, 8), (0, 18));
        assert_eq!(view.to_raw(4, 6), (10, 12));
        assert!(View::new(b"plain line\n", false).is_none());
        let joined = View::new(b"QUJD\r\nREVG\nR0g=\n", true).unwrap();
        assert_eq!(joined.text, b"QUJDREVGR0g=");
        assert_eq!(joined.to_raw(2, 6), (2, 8));
    }

    #[test]
    fn a_replaced_span_keeps_only_its_escapes_and_breaks() {
        let mut out = Vec::new();
        inert_bytes(b"ab\x1b[mcd\r\nef", false, &mut out);
        assert_eq!(out, b"\x1b[m");
        out.clear();
        inert_bytes(b"ab\x1b[mcd\r\nef", true, &mut out);
        assert_eq!(out, b"\x1b[m\r\n");
        out.clear();
        inert_bytes(b"ab\x1b]0;cd\x07ef\x1b(B", false, &mut out);
        assert_eq!(out, b"\x1b(B");
        let mut text = b"old".to_vec();
        strip_escapes(b"a\x1b[31mb\x1b]0;t\x07c\x1b", &mut text);
        assert_eq!(text, b"abc");
    }
}
