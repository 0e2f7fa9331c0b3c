//! Scanning an unbounded stream (stdin, a decompressed log, a large file) in bounded chunks.
//!
//! Chunks end at a line break and overlap the previous chunk by [`CHUNK_OVERLAP`] bytes,
//! so a multi-line secret that straddles a boundary is still seen whole. The caller
//! removes findings it already reported from the overlap. [`scan_text`] does the same
//! for one file's content: UTF-16 decoded as it streams, binary skipped.

use std::io::{self, Read};
use unleak_core::{is_binary, utf16_stream, Utf16Decoder};

/// Bytes of the previous chunk repeated at the start of the next one.
pub const CHUNK_OVERLAP: usize = 64 * 1024;
/// The smallest chunk buffer: most of each chunk is new data, not overlap.
const MIN_CHUNK_BUFFER: usize = 4 * CHUNK_OVERLAP;

/// A piece of a stream and where it sits in it.
pub struct Chunk<'a> {
    /// The chunk's bytes, the overlap first.
    pub data: &'a [u8],
    /// Byte offset of `data[0]` in the stream.
    pub base_offset: usize,
    /// 1-based line number of `data[0]` in the stream.
    pub base_line: usize,
    /// 1-based column (in characters) of `data[0]` on its line: 1 except after a line
    /// longer than a chunk was cut.
    pub base_column: usize,
    /// Bytes at the start of `data` that the previous chunk already covered.
    pub overlap: usize,
}

/// Read `input` to the end, calling `visit` with each chunk. The buffer holds at most
/// `chunk_buffer` bytes (the overlap included; at least 256 KiB), whatever the input's size
/// or its longest line: a line longer than a chunk is cut, and the cut is placed exactly.
pub fn scan_stream(
    mut input: impl Read,
    chunk_buffer: usize,
    mut visit: impl FnMut(Chunk<'_>),
) -> io::Result<()> {
    let chunk_buffer = chunk_buffer.max(MIN_CHUNK_BUFFER);
    // New data per chunk: the overlap kept from the previous chunk fills the rest.
    let chunk_size = chunk_buffer - CHUNK_OVERLAP;
    let mut buf: Vec<u8> = Vec::with_capacity(chunk_buffer);
    let mut base_offset = 0usize;
    let mut base_line = 1usize;
    let mut base_column = 1usize;
    let mut overlap = 0usize;
    let mut eof = false;
    while !eof {
        // Fill up to `chunk_size` of new data.
        let target = overlap + chunk_size;
        while buf.len() < target {
            let start = buf.len();
            buf.resize(target, 0);
            match input.read(&mut buf[start..]) {
                Ok(0) => {
                    buf.truncate(start);
                    eof = true;
                    break;
                }
                Ok(n) => buf.truncate(start + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(start),
                Err(e) => {
                    buf.truncate(start);
                    return Err(e);
                }
            }
        }
        if buf.len() == overlap && eof {
            break;
        }
        // Cut at the last line break unless this is the end (or one giant line, cut
        // between two characters so that columns on either side stay exact).
        let cut = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf[overlap..]) {
                Some(i) => overlap + i + 1,
                None => char_start(&buf, overlap, buf.len()),
            }
        };
        visit(Chunk {
            data: &buf[..cut],
            base_offset,
            base_line,
            base_column,
            overlap,
        });
        if eof && cut == buf.len() {
            break;
        }
        // Keep the tail after `cut` plus up to CHUNK_OVERLAP bytes before it, starting at
        // a line start so line numbers stay exact.
        let keep_from = {
            let lo = cut.saturating_sub(CHUNK_OVERLAP);
            match memchr::memchr(b'\n', &buf[lo..cut]) {
                Some(i) if lo > 0 => lo + i + 1,
                // Inside one giant line: from the next character on.
                _ => {
                    lo + buf[lo..cut]
                        .iter()
                        .take(3)
                        .take_while(|&&b| is_continuation(b))
                        .count()
                }
            }
        };
        let kept = &buf[..keep_from];
        base_line += memchr::memchr_iter(b'\n', kept).count();
        base_column = match memchr::memrchr(b'\n', kept) {
            Some(i) => unleak_core::count_chars(&kept[i + 1..]) + 1,
            None => base_column + unleak_core::count_chars(kept),
        };
        base_offset += keep_from;
        overlap = cut - keep_from;
        buf.drain(..keep_from);
    }
    Ok(())
}

/// Whether `b` continues a UTF-8 sequence rather than starting a character.
fn is_continuation(b: u8) -> bool {
    b & 0xc0 == 0x80
}

/// `end`, or where the UTF-8 character that `end` cuts in two starts when that is past
/// `floor` (bytes that are no UTF-8 are left as they are).
fn char_start(buf: &[u8], floor: usize, end: usize) -> usize {
    let back = buf[floor..end]
        .iter()
        .rev()
        .take(3)
        .take_while(|&&b| is_continuation(b))
        .count();
    let Some(lead) = (end - back).checked_sub(1) else {
        return end;
    };
    match buf.get(lead) {
        // A lead byte's leading ones give its sequence's length.
        Some(&b) if lead > floor && b >= 0xc0 && (b.leading_ones() as usize) > back + 1 => lead,
        _ => end,
    }
}

/// Scan one file's (or member's) content read from `input` as [`scan_stream`] does, UTF-16
/// text decoded to UTF-8 as it streams. Offsets, lines and columns are those of the
/// decoded text, as for a small file decoded whole. Returns `false`, having visited
/// nothing and read only the head, when the content is binary: a NUL byte in the first
/// 8 KiB that is not UTF-16 text's.
pub fn scan_text(
    mut input: impl Read,
    chunk_buffer: usize,
    visit: impl FnMut(Chunk<'_>),
) -> io::Result<bool> {
    let mut head = Vec::with_capacity(HEAD);
    (&mut input).take(HEAD as u64).read_to_end(&mut head)?;
    if is_binary(&head) && utf16_stream(&head).is_none() {
        return Ok(false);
    }
    // The decoder decides on the same head.
    let decoded = Utf16Decoder::new(io::Cursor::new(head).chain(input));
    scan_stream(decoded, chunk_buffer, visit)?;
    Ok(true)
}

/// The head [`scan_text`] tells text from binary by: what [`is_binary`] looks at.
const HEAD: usize = 8 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: usize = 8 * 1024 * 1024 + CHUNK_OVERLAP;

    #[test]
    fn chunks_cover_the_stream_with_exact_line_numbers() {
        let line = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n";
        let text = line.repeat(400_000); // 25.6 MB: several chunks
        for buffer in [FULL, 300 * 1024, 1] {
            let mut chunks = 0;
            let mut seen_new = 0usize;
            let mut last_end = 0usize;
            scan_stream(text.as_bytes(), buffer, |c| {
                assert_eq!(
                    c.base_offset + c.overlap,
                    last_end,
                    "no gap, no double count"
                );
                assert_eq!(c.base_offset % line.len(), 0, "chunks start at line starts");
                assert_eq!(c.base_line, c.base_offset / line.len() + 1);
                assert_eq!(c.base_column, 1);
                assert!(
                    c.data.len() <= buffer.max(MIN_CHUNK_BUFFER),
                    "within the buffer"
                );
                assert!(c.overlap <= CHUNK_OVERLAP);
                seen_new += c.data.len() - c.overlap;
                last_end = c.base_offset + c.data.len();
                chunks += 1;
            })
            .unwrap();
            assert_eq!(seen_new, text.len());
            // A smaller buffer means more, smaller chunks.
            let most = buffer.max(MIN_CHUNK_BUFFER) - CHUNK_OVERLAP;
            assert!(chunks >= text.len() / most, "{buffer}: {chunks} chunks");
        }
    }

    #[test]
    fn a_stream_without_newlines_still_ends() {
        let text = vec![b'a'; 20 * 1024 * 1024];
        for buffer in [FULL, MIN_CHUNK_BUFFER] {
            let mut total = 0;
            scan_stream(&text[..], buffer, |c| {
                // One line: each chunk's column is its offset on that line.
                assert_eq!((c.base_line, c.base_column), (1, c.base_offset + 1));
                assert!(c.data.len() <= buffer);
                total += c.data.len() - c.overlap
            })
            .unwrap();
            assert_eq!(total, text.len());
        }
    }

    #[test]
    fn a_giant_line_is_cut_between_characters_with_exact_columns() {
        // Two-byte characters after a one-byte one: an odd cut would split one.
        let text = format!("#{}", "é".repeat(400_000));
        for buffer in [MIN_CHUNK_BUFFER, MIN_CHUNK_BUFFER + 1] {
            let mut total = 0;
            scan_stream(text.as_bytes(), buffer, |c| {
                let piece = std::str::from_utf8(c.data).expect("whole characters");
                assert!(text.is_char_boundary(c.base_offset));
                let before = text[..c.base_offset].chars().count();
                assert_eq!((c.base_line, c.base_column), (1, before + 1));
                total += piece[c.overlap..].len();
            })
            .unwrap();
            assert_eq!(total, text.len());
        }
    }

    fn utf16le(text: &str) -> Vec<u8> {
        let mut out = vec![0xff, 0xfe];
        out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        out
    }

    /// The new bytes of every chunk, in order.
    fn new_bytes(input: &[u8], buffer: usize) -> (bool, Vec<u8>) {
        let mut seen = Vec::new();
        let text = scan_text(input, buffer, |c| seen.extend(&c.data[c.overlap..])).unwrap();
        (text, seen)
    }

    #[test]
    fn scan_text_decodes_utf16_of_any_length_and_passes_other_text_through() {
        let text = "$k = 'é \u{1F511}'\r\n".repeat(50_000);
        let (is_text, seen) = new_bytes(&utf16le(&text), MIN_CHUNK_BUFFER);
        assert!(is_text);
        assert_eq!(seen, text.as_bytes());
        assert_eq!(
            new_bytes(text.as_bytes(), MIN_CHUNK_BUFFER).1,
            text.as_bytes()
        );
    }

    /// Hands out `head`, then fails: what comes after the head must not be read.
    struct HeadOnly<'a>(&'a [u8]);

    impl Read for HeadOnly<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("read past the head"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn scan_text_skips_binary_after_reading_only_its_head() {
        let binary: Vec<u8> = (0u32..HEAD as u32).flat_map(u32::to_le_bytes).collect();
        let mut visited = false;
        let text = scan_text(HeadOnly(&binary[..HEAD]), MIN_CHUNK_BUFFER, |_| {
            visited = true
        });
        assert!(!text.unwrap() && !visited);
    }

    #[test]
    fn empty_stream_yields_nothing() {
        let mut n = 0;
        scan_stream(&b""[..], FULL, |_| n += 1).unwrap();
        assert_eq!(n, 0);
    }
}
