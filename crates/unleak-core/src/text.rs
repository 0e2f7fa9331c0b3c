//! Text that editors save in UTF-16 (Windows editors and PowerShell's `Out-File` do by
//! default): telling it from binary, and decoding it to the UTF-8 every scanner works on.
//!
//! Owns: the UTF-16 heuristic and the decoding. Does not own: reading, or the binary test
//! for everything else (a NUL byte, as git decides). Lines and columns of a decoded text
//! are those of the decoded characters, which is what an editor shows.

/// Bytes looked at to decide; the whole text is still decoded and checked.
const SNIFF: usize = 8192;

/// The byte order of a UTF-16 text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Utf16 {
    Le,
    Be,
}

/// `data` as text when it is UTF-16 text: with a byte-order mark, or without one when
/// every other byte is NUL as ASCII-range UTF-16 is. `None` for anything else, binary
/// that merely starts with a mark or holds NUL pairs included: the whole of it must decode
/// (no lone surrogate) to characters text holds (no NUL, no control character but tab,
/// line breaks, form feed and escape). The mark is not part of the text.
pub fn decode_utf16(data: &[u8]) -> Option<String> {
    let (order, body) = sniff(data)?;
    if body.len() % 2 != 0 {
        return None;
    }
    let units = body.chunks_exact(2).map(|p| match order {
        Utf16::Le => u16::from_le_bytes([p[0], p[1]]),
        Utf16::Be => u16::from_be_bytes([p[0], p[1]]),
    });
    let mut text = String::with_capacity(body.len() / 2 + body.len() / 8);
    for c in char::decode_utf16(units) {
        let c = c.ok()?;
        if c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c' | '\x1b') {
            return None;
        }
        text.push(c);
    }
    Some(text)
}

/// The byte order and the bytes after any mark, when `data` may be UTF-16 text.
fn sniff(data: &[u8]) -> Option<(Utf16, &[u8])> {
    match data {
        // FF FE 00 00 opens UTF-32 LE, not an empty UTF-16 text.
        [0xff, 0xfe, 0, 0, ..] => None,
        [0xff, 0xfe, rest @ ..] => Some((Utf16::Le, rest)),
        [0xfe, 0xff, rest @ ..] => Some((Utf16::Be, rest)),
        _ => {
            let head = &data[..data.len().min(SNIFF) & !1];
            // Two characters at least: one is too little to tell.
            if head.len() < 4 {
                return None;
            }
            let units = head.len() / 2;
            let zero_at = |parity: usize| {
                head.iter()
                    .skip(parity)
                    .step_by(2)
                    .filter(|&&b| b == 0)
                    .count()
            };
            let (even, odd) = (zero_at(0), zero_at(1));
            // ASCII-range UTF-16: the high byte of most units is NUL, the low byte never.
            // Scripts outside Latin-1 have few NUL bytes and need their mark.
            if odd * 10 >= units * 7 && even == 0 {
                Some((Utf16::Le, data))
            } else if even * 10 >= units * 7 && odd == 0 {
                Some((Utf16::Be, data))
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xff, 0xfe] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    fn be(s: &str, bom: bool) -> Vec<u8> {
        let mut out = if bom { vec![0xfe, 0xff] } else { Vec::new() };
        out.extend(s.encode_utf16().flat_map(u16::to_be_bytes));
        out
    }

    #[test]
    fn both_byte_orders_decode_with_or_without_a_mark() {
        let text = "$token = \"abc\"\r\nWrite-Host 'é €'\r\n";
        for data in [
            le(text, true),
            le(text, false),
            be(text, true),
            be(text, false),
        ] {
            assert_eq!(decode_utf16(&data).as_deref(), Some(text));
        }
        // Outside Latin-1, only the mark tells.
        assert_eq!(
            decode_utf16(&le("日本語のテキスト", true)).as_deref(),
            Some("日本語のテキスト")
        );
        assert_eq!(decode_utf16(&le("日本語のテキスト", false)), None);
        assert_eq!(decode_utf16(&le("", true)).as_deref(), Some(""));
    }

    #[test]
    fn binary_is_not_taken_for_utf16() {
        // u16 counters and offsets: NUL high bytes, but control-range low bytes.
        let counters: Vec<u8> = (0u16..2000)
            .map(|i| i % 200)
            .flat_map(u16::to_le_bytes)
            .collect();
        assert_eq!(decode_utf16(&counters), None);
        // A mark followed by bytes that are no text.
        let mut marked = vec![0xff, 0xfe];
        marked.extend((0u8..=255).cycle().take(4096));
        assert_eq!(decode_utf16(&marked), None);
        // UTF-32 LE opens with FF FE 00 00.
        let mut utf32 = vec![0xff, 0xfe, 0, 0];
        utf32.extend("ab".chars().flat_map(|c| (c as u32).to_le_bytes()));
        assert_eq!(decode_utf16(&utf32), None);
        // ELF-like headers, UTF-8 with a NUL, odd lengths, a lone surrogate.
        assert_eq!(decode_utf16(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0"), None);
        assert_eq!(decode_utf16(b"key=value\0\n"), None);
        let mut odd = le("abcdef", false);
        odd.push(b'x');
        assert_eq!(decode_utf16(&odd), None);
        let mut lone = le("abcd", true);
        lone.extend(0xd800u16.to_le_bytes());
        assert_eq!(decode_utf16(&lone), None);
        // Mostly-ASCII UTF-16 with a NUL character is not text either.
        assert_eq!(decode_utf16(&le("abc\0def", false)), None);
    }
}
