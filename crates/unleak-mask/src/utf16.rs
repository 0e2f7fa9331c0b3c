//! UTF-16 input to the masker (a PowerShell transcript, a log a Windows tool wrote):
//! told from the first bytes that arrive, decoded to UTF-8 as it streams, so the secrets
//! in it are found and masked. The masked output is UTF-8, as CI logs are.
//!
//! Owns: the decision on the first read and the decoding across reads (a unit or a
//! surrogate pair split between reads is completed by the next). Does not own: the
//! heuristic (`unleak_core::utf16_stream`).

use std::io::{self, Read};
use unleak_core::{utf16_stream, Utf16};

/// Bytes of the input taken per read.
const READ: usize = 64 * 1024;

/// `input` as UTF-8: decoded when its first read is UTF-16 text, else unchanged.
pub(crate) struct Decoding<R> {
    inner: R,
    /// `None` until the first read decides; then the byte order, or `None` inside for
    /// input passed through unchanged.
    order: Option<Option<Utf16>>,
    /// Input bytes not yet decoded: an odd byte, a lone high surrogate, or (before the
    /// decision, or when passing through) whole reads.
    pending: Vec<u8>,
    /// Output not yet handed out.
    out: Vec<u8>,
    at: usize,
}

impl<R: Read> Decoding<R> {
    pub(crate) fn new(inner: R) -> Self {
        Decoding {
            inner,
            order: None,
            pending: Vec::new(),
            out: Vec::new(),
            at: 0,
        }
    }

    /// Decode the whole units of `pending` (all of it at the end of input) into `out`.
    fn decode(&mut self, order: Utf16, end: bool) {
        let whole = self.pending.len() / 2 * 2;
        let units: Vec<u16> = self.pending[..whole]
            .chunks_exact(2)
            .map(|p| match order {
                Utf16::Le => u16::from_le_bytes([p[0], p[1]]),
                Utf16::Be => u16::from_be_bytes([p[0], p[1]]),
            })
            .collect();
        // A high surrogate at the end waits for its pair, unless the input ended.
        let keep = usize::from(!end && units.last().is_some_and(|u| (0xd800..0xdc00).contains(u)));
        let mut buf = [0u8; 4];
        for c in char::decode_utf16(units[..units.len() - keep].iter().copied()) {
            let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
            self.out
                .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
        }
        self.pending.drain(..whole - 2 * keep);
        if end && !self.pending.is_empty() {
            self.pending.clear();
            self.out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

impl<R: Read> Read for Decoding<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.out.len() {
            self.out.clear();
            self.at = 0;
            let mut chunk = vec![0u8; READ];
            let n = self.inner.read(&mut chunk)?;
            self.pending.extend_from_slice(&chunk[..n]);
            // Four bytes at least decide (two characters); a pipe may deliver fewer.
            if self.order.is_none() && n > 0 && self.pending.len() < 4 {
                continue;
            }
            let order = match self.order {
                Some(order) => order,
                None => {
                    let decided = utf16_stream(&self.pending);
                    // The mark is no character of the text.
                    if let Some((_, mark)) = decided {
                        self.pending.drain(..mark);
                    }
                    *self.order.insert(decided.map(|(order, _)| order))
                }
            };
            match order {
                None => self.out = std::mem::take(&mut self.pending),
                Some(order) => self.decode(order, n == 0),
            }
            if n == 0 && self.out.is_empty() {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.at);
        buf[..n].copy_from_slice(&self.out[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out `data` `step` bytes at a time.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(self.data.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    fn decoded(data: &[u8], step: usize) -> String {
        let mut out = String::new();
        Decoding::new(Trickle { data, step })
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn utf16_is_decoded_across_any_read_boundary_and_utf8_passes_through() {
        let text = "line é\r\n\u{1F600} two\r\n";
        let mut le = vec![0xff, 0xfe];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        for step in [1, 2, 3, 5, 64] {
            assert_eq!(decoded(&le, step), text, "step {step}");
        }
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(decoded(&be, 7), text);
        assert_eq!(decoded(b"plain \x00 bytes\n", 3), "plain \0 bytes\n");
    }
}
