//! One compressed stream, decompressed within a size cap and a compression ratio.

use crate::counted::Counted;
use crate::format::Format;
use crate::limits::Skip;
use crate::zstd::ZstdFrames;
use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

/// Output a stream may reach before the ratio applies: small inputs say nothing.
const RATIO_AFTER: u64 = 1 << 20;
/// At most this much output per read, so the ratio is checked often: one read could
/// otherwise inflate a whole input buffer, a thousand times its size.
const STEP: usize = 64 * 1024;
/// The largest xz dictionary accepted (xz -9 uses 64 MiB), in KiB.
const XZ_MEMORY_KIB: u32 = 96 * 1024;

/// A decompressing reader that ends its output at the size cap or the ratio, and says
/// which in [`Inflate::cut`] (what came before is returned as usual). Decoding errors
/// (a bad CRC, a truncated stream) are read errors.
pub struct Inflate<'a> {
    decoder: Box<dyn Read + 'a>,
    consumed: Rc<Cell<u64>>,
    out: u64,
    limit: u64,
    ratio: u64,
    cut: Option<Skip>,
}

impl<'a> Inflate<'a> {
    /// Decompress `input`, a stream of `format` (gzip, bzip2, xz or zstd), to at most
    /// `limit` bytes and `ratio` times the compressed bytes consumed. Concatenated gzip,
    /// bzip2, xz and zstd streams are read as one, as their tools do.
    pub fn new(format: Format, input: impl Read + 'a, limit: u64, ratio: u64) -> io::Result<Self> {
        let counted = Counted::new(input);
        let consumed = Rc::clone(&counted.consumed);
        let decoder: Box<dyn Read + 'a> = match format {
            Format::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(counted)),
            Format::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(counted)),
            Format::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
                counted,
                true,
                XZ_MEMORY_KIB,
            )),
            Format::Zstd => Box::new(ZstdFrames::new(counted)),
            Format::Zip | Format::Tar => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "not a compressed stream",
                ))
            }
        };
        Ok(Inflate {
            decoder,
            consumed,
            out: 0,
            limit,
            ratio,
            cut: None,
        })
    }

    /// Why the output ended early, if it did.
    pub fn cut(&self) -> Option<&Skip> {
        self.cut.as_ref()
    }

    /// Bytes of output so far.
    pub fn inflated(&self) -> u64 {
        self.out
    }
}

impl Read for Inflate<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cut.is_some() || buf.is_empty() {
            return Ok(0);
        }
        if self.out >= self.limit {
            // At the cap: only one more byte tells a stream that ends here from a longer one.
            if self.decoder.read(&mut [0u8])? > 0 {
                self.cut = Some(Skip::TooLarge { limit: self.limit });
            }
            return Ok(0);
        }
        let room = usize::try_from(self.limit - self.out).unwrap_or(usize::MAX);
        let want = buf.len().min(room).min(STEP);
        let n = self.decoder.read(&mut buf[..want])?;
        self.out += n as u64;
        if self.out > RATIO_AFTER && self.out / self.consumed.get().max(1) > self.ratio {
            self.cut = Some(Skip::Bomb { ratio: self.ratio });
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn read_all(mut r: Inflate<'_>) -> (io::Result<Vec<u8>>, Option<Skip>) {
        let mut out = Vec::new();
        let result = r.read_to_end(&mut out).map(|_| out);
        (result, r.cut().cloned())
    }

    #[test]
    fn every_stream_format_inflates() {
        let text = b"line one\nline two\n".repeat(100);
        let bz = {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
            e.write_all(&text).unwrap();
            e.finish().unwrap()
        };
        let xz = {
            let mut e =
                lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::default()).unwrap();
            e.write_all(&text).unwrap();
            e.finish().unwrap()
        };
        let zst = ruzstd::encoding::compress_to_vec(
            &text[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        for (format, data) in [
            (Format::Gzip, gzip(&text)),
            (Format::Bzip2, bz),
            (Format::Xz, xz),
            (Format::Zstd, zst),
        ] {
            assert_eq!(Format::detect(&data), Some(format));
            let (out, cut) = read_all(Inflate::new(format, &data[..], u64::MAX, 1000).unwrap());
            assert_eq!(out.unwrap(), text, "{format:?}");
            assert_eq!(cut, None);
        }
    }

    #[test]
    fn the_cap_and_the_ratio_cut_the_output_and_say_so() {
        let zeros = gzip(&vec![0u8; 64 << 20]);
        let (out, cut) = read_all(Inflate::new(Format::Gzip, &zeros[..], u64::MAX, 1000).unwrap());
        assert!(
            out.unwrap().len() < 4 << 20,
            "stopped soon after the first MiB"
        );
        assert_eq!(cut, Some(Skip::Bomb { ratio: 1000 }));
        let text = gzip(b"0123456789");
        let (out, cut) = read_all(Inflate::new(Format::Gzip, &text[..], 4, 1000).unwrap());
        assert_eq!(out.unwrap(), b"0123");
        assert_eq!(cut, Some(Skip::TooLarge { limit: 4 }));
        // Exactly at the cap is not past it.
        let (_, cut) = read_all(Inflate::new(Format::Gzip, &text[..], 10, 1000).unwrap());
        assert_eq!(cut, None);
    }

    #[test]
    fn a_bad_crc_is_a_read_error() {
        let mut data = gzip(b"some text that is long enough\n");
        let crc_at = data.len() - 8;
        data[crc_at] ^= 0xff;
        let (out, _) = read_all(Inflate::new(Format::Gzip, &data[..], u64::MAX, 1000).unwrap());
        assert!(out.is_err());
    }
}
