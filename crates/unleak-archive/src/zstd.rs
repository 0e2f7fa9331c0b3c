//! Zstandard read as the `zstd` tool reads it: every frame of a stream, one after another,
//! with skippable frames passed over.
//!
//! Owns: sequencing frames. A `.zst` file may hold several frames (`zstd` writes one per
//! input when files are concatenated, `pzstd` one per block), and the `zstd:chunked` image
//! layers that Podman and Buildah write are many frames followed by a skippable frame with
//! their table of contents; ruzstd's own streaming reader stops after the first frame.
//! Does not own: bounds (see [`crate::Inflate`]) or telling zstd from other bytes.

use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use std::io::{self, BufRead, Read};

/// A reader of every frame of the zstd stream in `source`. A dictionary-compressed frame,
/// a window over ruzstd's maximum (100 MiB) or corrupt data is a read error.
pub struct ZstdFrames<R> {
    source: R,
    decoder: FrameDecoder,
    /// A frame was begun and its output not yet all collected.
    in_frame: bool,
}

impl<R: BufRead> ZstdFrames<R> {
    /// Reads the frames of `source` one after another.
    pub fn new(source: R) -> Self {
        ZstdFrames {
            source,
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }

    /// Begin the next data frame; `false` at the end of the input.
    fn next_frame(&mut self) -> io::Result<bool> {
        loop {
            if self.source.fill_buf()?.is_empty() {
                return Ok(false);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => {
                    self.in_frame = true;
                    return Ok(true);
                }
                // The header was read; its content is metadata, not data.
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let length = u64::from(length);
                    let skipped = io::copy(&mut (&mut self.source).take(length), &mut io::sink())?;
                    if skipped < length {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "zstd skippable frame cut short",
                        ));
                    }
                }
                Err(e) => return Err(invalid(e)),
            }
        }
    }
}

fn invalid(e: FrameDecoderError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("zstd: {e}"))
}

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if !self.in_frame && !self.next_frame()? {
                return Ok(0);
            }
            // As ruzstd's StreamingDecoder: decode until enough can be collected or the
            // frame ends (a block may only fill the window at first).
            while self.decoder.can_collect() < buf.len() && !self.decoder.is_finished() {
                let wanted = buf.len() - self.decoder.can_collect();
                self.decoder
                    .decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBytes(wanted))
                    .map_err(invalid)?;
            }
            let n = self.decoder.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            // Nothing left to collect: the frame ended (an unfinished frame decodes more
            // or fails above), so the next one is read.
            self.in_frame = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruzstd::encoding::{compress_to_vec, CompressionLevel};

    fn read_all(data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        ZstdFrames::new(data).read_to_end(&mut out).map(|_| out)
    }

    /// A skippable frame (magic 0x184D2A50..5F) of `content`.
    fn skippable(content: &[u8]) -> Vec<u8> {
        let mut f = 0x184D_2A5Eu32.to_le_bytes().to_vec();
        f.extend_from_slice(&(content.len() as u32).to_le_bytes());
        f.extend_from_slice(content);
        f
    }

    #[test]
    fn every_frame_is_read_and_skippable_frames_are_passed_over() {
        let one = b"first frame\n".repeat(50);
        let two = b"second frame\n".repeat(50);
        let mut stream = compress_to_vec(&one[..], CompressionLevel::Fastest);
        stream.extend(skippable(b"a table of contents"));
        stream.extend(compress_to_vec(&two[..], CompressionLevel::Fastest));
        stream.extend(skippable(b""));
        let out = read_all(&stream).unwrap();
        assert_eq!(out, [one, two].concat());
        assert_eq!(read_all(&[]).unwrap(), b"");
    }

    #[test]
    fn a_cut_or_corrupt_stream_is_an_error() {
        let stream = compress_to_vec(&b"some text\n".repeat(500)[..], CompressionLevel::Fastest);
        assert!(read_all(&stream[..stream.len() / 2]).is_err());
        let mut cut_skip = stream.clone();
        cut_skip.extend(&skippable(b"0123456789")[..12]);
        assert!(read_all(&cut_skip).is_err());
        let mut junk = stream;
        junk.extend_from_slice(b"not zstd at all");
        assert!(read_all(&junk).is_err());
    }
}
