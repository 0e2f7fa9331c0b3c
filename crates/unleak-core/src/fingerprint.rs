//! The identity of a finding that survives edits, moves, rebases and squashes.
//!
//! `fingerprint = hex(sha256(key ‖ 0 ‖ rule_id ‖ 0 ‖ normalised secret))[..32]`. The key is a
//! per-repository salt kept in the baseline, so the digest of a weak password cannot be
//! looked up in a precomputed table; without a baseline a fixed key is used.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

/// The salt mixed into every fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FingerprintKey(Vec<u8>);

impl FingerprintKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        FingerprintKey(bytes.into())
    }
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl Default for FingerprintKey {
    fn default() -> Self {
        FingerprintKey(b"unleak-fingerprint-v1".to_vec())
    }
}

/// 32 lowercase hex characters (128 bits of a SHA-256).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn compute(key: &FingerprintKey, rule_id: &str, secret: &[u8]) -> Self {
        let mut h = Sha256::new();
        h.update(key.as_bytes());
        h.update([0]);
        h.update(rule_id.as_bytes());
        h.update([0]);
        // Whitespace inside a value (a re-wrapped PEM body, CRLF endings) does not change
        // which secret it is.
        let normalised: Vec<u8> = secret
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        h.update(&normalised);
        let digest = h.finalize();
        let mut hex = String::with_capacity(32);
        for b in &digest[..16] {
            hex.push_str(&format!("{b:02x}"));
        }
        Fingerprint(hex)
    }

    /// Parse a stored fingerprint; `None` unless it is 32 lowercase hex characters.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Fingerprint(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_secret_same_fingerprint_regardless_of_wrapping() {
        let k = FingerprintKey::default();
        let a = Fingerprint::compute(&k, "pem", b"AAAA\nBBBB");
        let b = Fingerprint::compute(&k, "pem", b"AAAA\r\nBBBB");
        assert_eq!(a, b);
        assert_eq!(a.as_str().len(), 32);
    }

    #[test]
    fn key_and_rule_change_the_fingerprint() {
        let k1 = FingerprintKey::default();
        let k2 = FingerprintKey::new(b"other".to_vec());
        assert_ne!(
            Fingerprint::compute(&k1, "r", b"s"),
            Fingerprint::compute(&k2, "r", b"s")
        );
        assert_ne!(
            Fingerprint::compute(&k1, "r1", b"s"),
            Fingerprint::compute(&k1, "r2", b"s")
        );
    }

    #[test]
    fn parse_accepts_only_well_formed_values() {
        assert!(Fingerprint::parse(&"a".repeat(32)).is_some());
        assert!(Fingerprint::parse(&"A".repeat(32)).is_none());
        assert!(Fingerprint::parse("abc").is_none());
    }
}
