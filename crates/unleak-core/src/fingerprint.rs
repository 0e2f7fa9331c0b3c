//! The identity of a finding that survives edits, moves, rebases and squashes.
//!
//! Owns: how a (key, rule, value) triple becomes a 32-hex-digit fingerprint, and which
//! values get the slow form. Does not own: where the key comes from (the baseline, or the
//! default) or where fingerprints are published (reports, baselines).
//!
//! Fingerprints are published: in SARIF, JSON and committed baselines, whose key sits in
//! the same file. So a fingerprint must not be an oracle for guessing the value offline.
//!
//! - A value that carries its rule's public prefix and at least [`STRONG_BODY`] more
//!   characters (a provider-issued token: `ghp_…`, `AKIA…`, `sk_live_…`), or that is at
//!   least [`STRONG_LEN`] characters long (private keys, JWTs, 40-character cloud keys),
//!   has too many random bits to guess: `hex(sha256(key ‖ 0 ‖ rule_id ‖ 0 ‖ value))[..32]`.
//! - Every other value (passwords, short generic secrets) may be one a person chose: `hex(PBKDF2-HMAC-SHA256(value, salt = "unleak-slow-v2" ‖ 0
//!   ‖ key ‖ 0 ‖ rule_id, SLOW_ROUNDS))[..32]`, so each guess costs [`SLOW_ROUNDS`] HMACs.
//!   A run computes each distinct slow fingerprint once (see [`SlowCache`]).
//!
//! Whitespace inside a value (a re-wrapped PEM body, CRLF endings) is dropped first: it
//! does not change which secret it is.

use crate::Secret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, OnceLock};

/// Characters after the public prefix a value needs for the fast form (16 characters of
/// a provider's alphabet are at least 80 random bits).
pub const STRONG_BODY: usize = 16;
/// Characters from which any value gets the fast form: people do not choose passwords
/// that long, and a passphrase that long has many words.
pub const STRONG_LEN: usize = 32;
/// PBKDF2 rounds of the slow form: 20,000 SHA-256 compressions per guess instead of one,
/// which turns hours of GPU time for a random 8-character password into years. A scan
/// pays about 2 ms of one core per distinct slow value (the 210 MB benchmark corpus, with
/// 877 distinct passwords, about 2 s).
pub const SLOW_ROUNDS: u32 = 10_000;
/// Distinct slow fingerprints a run remembers; past this, each is computed again (memory
/// stays bounded whatever the input).
const SLOW_CACHE_ENTRIES: usize = 1 << 16;

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

/// 32 lowercase hex characters (128 bits of a SHA-256 or a PBKDF2 output).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of a detected secret: the fast form for a prefixed provider token,
    /// the slow one for anything else (see the module docs).
    pub fn of(key: &FingerprintKey, rule_id: &str, secret: &Secret) -> Self {
        let prefix = secret.public_prefix();
        let value = secret.expose();
        let chars = value
            .iter()
            .filter(|b| !b.is_ascii_whitespace() && !is_continuation(**b));
        if (prefix > 0 && value.len() >= prefix + STRONG_BODY) || chars.count() >= STRONG_LEN {
            Fingerprint::compute(key, rule_id, secret.expose())
        } else {
            Fingerprint::slow(key, rule_id, secret.expose())
        }
    }

    /// The fast form, for values with enough random bits that guessing them is hopeless.
    pub fn compute(key: &FingerprintKey, rule_id: &str, secret: &[u8]) -> Self {
        Fingerprint(hex32(&fast_digest(key, rule_id, &normalise(secret))))
    }

    /// The slow form, for values a person may have chosen.
    pub fn slow(key: &FingerprintKey, rule_id: &str, secret: &[u8]) -> Self {
        let value = normalise(secret);
        // The cache is keyed by the fast digest, which never leaves the process.
        let id = fast_digest(key, rule_id, &value);
        let cache = SLOW_CACHE.get_or_init(SlowCache::default);
        if let Some(fp) = cache.get(&id) {
            return fp;
        }
        let mut salt = b"unleak-slow-v2\0".to_vec();
        salt.extend_from_slice(key.as_bytes());
        salt.push(0);
        salt.extend_from_slice(rule_id.as_bytes());
        let fp = Fingerprint(hex32(&pbkdf2_sha256(&value, &salt, SLOW_ROUNDS)));
        cache.put(id, fp.clone());
        fp
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

/// A UTF-8 continuation byte: not the start of a character.
fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

fn normalise(secret: &[u8]) -> Vec<u8> {
    secret
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect()
}

fn fast_digest(key: &FingerprintKey, rule_id: &str, value: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(key.as_bytes());
    h.update([0]);
    h.update(rule_id.as_bytes());
    h.update([0]);
    h.update(value);
    h.finalize().into()
}

fn hex32(digest: &[u8; 32]) -> String {
    let mut hex = String::with_capacity(32);
    for b in &digest[..16] {
        hex.push_str(&format!("{b:02x}"));
    }
    hex
}

/// PBKDF2-HMAC-SHA256 (RFC 8018) with one 32-byte output block. The HMAC's inner and
/// outer pads are hashed once; each later round is two SHA-256 compressions of a block
/// padded by hand, which is what makes the rounds affordable for a scan.
fn pbkdf2_sha256(password: &[u8], salt: &[u8], rounds: u32) -> [u8; 32] {
    let mut key_block = [0u8; 64];
    if password.len() > 64 {
        key_block[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key_block[..password.len()].copy_from_slice(password);
    }
    let inner_pad = key_block.map(|k| k ^ 0x36);
    let outer_pad = key_block.map(|k| k ^ 0x5c);
    key_block.fill(0);
    // U1 = HMAC(password, salt ‖ INT(1)), through the hasher: the salt has any length.
    let mut inner = Sha256::new();
    inner.update(inner_pad);
    inner.update(salt);
    inner.update(1u32.to_be_bytes());
    let mut outer = Sha256::new();
    outer.update(outer_pad);
    outer.update(inner.finalize());
    let mut u: [u8; 32] = outer.finalize().into();
    let mut out = u;
    let (inner_state, outer_state) = (state_after(&inner_pad), state_after(&outer_pad));
    for _ in 1..rounds {
        u = compress_digest(&inner_state, &u);
        u = compress_digest(&outer_state, &u);
        for (o, b) in out.iter_mut().zip(u) {
            *o ^= b;
        }
    }
    out
}

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The state after hashing one 64-byte block.
fn state_after(block: &[u8; 64]) -> [u32; 8] {
    let mut state = SHA256_IV;
    sha2::compress256(&mut state, &[(*block).into()]);
    state
}

/// SHA-256 of (the block `state` stands for) ‖ `msg`: one compression of `msg`, padded
/// for a 96-byte message.
fn compress_digest(state: &[u32; 8], msg: &[u8; 32]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(msg);
    block[32] = 0x80;
    block[56..].copy_from_slice(&(96u64 * 8).to_be_bytes());
    let mut s = *state;
    sha2::compress256(&mut s, &[block.into()]);
    let mut digest = [0u8; 32];
    for (d, w) in digest.chunks_exact_mut(4).zip(s) {
        d.copy_from_slice(&w.to_be_bytes());
    }
    digest
}

static SLOW_CACHE: OnceLock<SlowCache> = OnceLock::new();

/// The slow fingerprints this process computed, so a value found many times (a password
/// in every environment's config, every commit of a history) costs its rounds once.
#[derive(Default)]
struct SlowCache(Mutex<HashMap<[u8; 32], Fingerprint>>);

impl SlowCache {
    fn get(&self, id: &[u8; 32]) -> Option<Fingerprint> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    fn put(&self, id: [u8; 32], fp: Fingerprint) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() < SLOW_CACHE_ENTRIES {
            map.insert(id, fp);
        }
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
        let a = Fingerprint::slow(&k, "pem", b"AAAA\nBBBB");
        assert_eq!(a, Fingerprint::slow(&k, "pem", b"AAAA\r\nBBBB"));
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
        assert_ne!(
            Fingerprint::slow(&k1, "r", b"s"),
            Fingerprint::slow(&k2, "r", b"s")
        );
        assert_ne!(
            Fingerprint::slow(&k1, "r1", b"s"),
            Fingerprint::slow(&k1, "r2", b"s")
        );
    }

    #[test]
    fn parse_accepts_only_well_formed_values() {
        assert!(Fingerprint::parse(&"a".repeat(32)).is_some());
        assert!(Fingerprint::parse(&"A".repeat(32)).is_none());
        assert!(Fingerprint::parse("abc").is_none());
    }

    #[test]
    fn pbkdf2_matches_the_rfc_7914_test_vector() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256, P="passwd", S="salt", c=1, first block.
        let out = pbkdf2_sha256(b"passwd", b"salt", 1);
        assert_eq!(
            hex32(&out),
            "55ac046e56e3089fec1691c22544b605",
            "first 16 bytes of 55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        );
        // And a key longer than a block is hashed first (RFC 2104).
        let long = [b'k'; 100];
        assert_eq!(
            pbkdf2_sha256(&long, b"s", 2),
            pbkdf2_sha256(&Sha256::digest(long), b"s", 2)
        );
    }

    #[test]
    fn a_password_gets_the_slow_form_a_provider_token_the_fast_one() {
        let k = FingerprintKey::default();
        let password = Secret::new(b"Zx9#kLm2$PqR7vWn4TbY".to_vec(), 0);
        let fp = Fingerprint::of(&k, "generic-password", &password);
        // The one-SHA-256 formula of unleak 0.1 no longer reproduces it.
        assert_ne!(
            fp,
            Fingerprint::compute(&k, "generic-password", password.expose())
        );
        assert_eq!(
            fp,
            Fingerprint::slow(&k, "generic-password", password.expose())
        );
        // Stable: the same value, key and rule give the same fingerprint (cached or not).
        assert_eq!(fp, Fingerprint::of(&k, "generic-password", &password));

        let token = Secret::new(b"ghp_R4nd0mR4nd0mR4nd0mR4nd0mR4nd0mR4nd0m".to_vec(), 4);
        assert_eq!(
            Fingerprint::of(&k, "github-pat-classic", &token),
            Fingerprint::compute(&k, "github-pat-classic", token.expose())
        );
        // A prefix with a short body is guessable: slow.
        let short = Secret::new(b"ghp_abc123".to_vec(), 4);
        assert_eq!(
            Fingerprint::of(&k, "r", &short),
            Fingerprint::slow(&k, "r", short.expose())
        );
        // 31 characters, even multi-byte ones, are not long enough; 32 are.
        let almost = Secret::new("é".repeat(31).into_bytes(), 0);
        assert_eq!(
            Fingerprint::of(&k, "r", &almost),
            Fingerprint::slow(&k, "r", almost.expose())
        );
        let long = Secret::new(b"k".repeat(32), 0);
        assert_eq!(
            Fingerprint::of(&k, "r", &long),
            Fingerprint::compute(&k, "r", long.expose())
        );
    }
}
