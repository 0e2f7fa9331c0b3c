//! Content digests: checking that a blob is the one its manifest names.
//!
//! Owns: parsing `sha256:<64 hex>` and a reader that hashes what passes through it. Does
//! not own: deciding what a mismatch means (callers report it naming the image and blob).

use sha2::{Digest, Sha256};
use std::io::{self, Read};

/// The hex part of a `sha256:` digest, when it is one.
pub fn sha256_hex(digest: &str) -> Option<&str> {
    let hex = digest.strip_prefix("sha256:")?;
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(hex)
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hashes every byte read through it.
pub struct Hashing<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Hashing<R> {
    pub fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// Read what is left (a tar's trailing padding) and give `sha256:<hex>` of it all.
    pub fn finish(mut self) -> io::Result<String> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(format!("sha256:{}", hex(&self.hasher.finalize())))
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Whether `actual` is `expected`; digests other than sha256 are not checked.
pub fn matches(expected: &str, actual: &str) -> bool {
    if sha256_hex(expected).is_none() {
        return true;
    }
    expected.eq_ignore_ascii_case(actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashing_reads_to_the_end() {
        let mut r = Hashing::new(&b"abc"[..]);
        let mut one = [0u8; 1];
        r.read_exact(&mut one).unwrap();
        assert_eq!(
            r.finish().unwrap(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(sha256_of(b"abc"), sha256_of(b"abc"));
        assert!(sha256_hex("sha256:zz").is_none());
        assert!(matches("sha512:whatever", "sha256:x"));
        assert!(!matches(&sha256_of(b"a"), &sha256_of(b"b")));
    }
}
