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
//! - Every other value (passwords, short generic secrets) may be one a person chose. Its
//!   fingerprint is `hex(sha256(T1 ‖ T2 ‖ T3 ‖ T4))[..32]`, where `T1..T4` are the first four
//!   blocks of PBKDF2-HMAC-SHA256(value, salt = `"unleak-slow-v3" ‖ 0 ‖ key ‖ 0 ‖ rule_id`,
//!   [`SLOW_ROUNDS`]). A guess costs all four chains, [`SLOW_COMPRESSIONS`] SHA-256
//!   compressions, as the single chain of 10,000 rounds before it did; but the four are
//!   independent, so a scan runs them side by side (see `kdf`) in about a third of the time.
//!   A run computes each distinct slow fingerprint once (see [`SlowCache`]).
//! - [`Fingerprint::legacy_v2`] is the form version 2 baselines hold (one chain, 10,000
//!   rounds, salt `"unleak-slow-v2"`), for matching their entries until they are rewritten.
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
/// Independent PBKDF2 chains of the slow form: four fill the SHA unit of one core.
const SLOW_CHAINS: usize = 4;
/// PBKDF2 rounds of each chain of the slow form.
pub const SLOW_ROUNDS: u32 = 2_500;
/// SHA-256 compressions a guess at a slow fingerprint costs: two per round of each chain.
/// 20,000 instead of one turns hours of GPU time for a random 8-character password into
/// years. A scan pays about 0.5 ms of one core per distinct slow value (the 210 MB
/// benchmark corpus, with 877 distinct passwords, about 0.4 s).
pub const SLOW_COMPRESSIONS: u32 = 2 * SLOW_ROUNDS * SLOW_CHAINS as u32;
/// Rounds of the single chain of the version 2 slow form.
const LEGACY_V2_ROUNDS: u32 = 10_000;
// Running the chains side by side must not make a guess any cheaper than it was.
const _: () = assert!(SLOW_COMPRESSIONS >= 2 * LEGACY_V2_ROUNDS);
/// Distinct slow fingerprints a run remembers; past this, each is computed again (memory
/// stays bounded whatever the input).
const SLOW_CACHE_ENTRIES: usize = 1 << 16;

/// The salt mixed into every fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FingerprintKey(Vec<u8>);

impl FingerprintKey {
    /// A key of these bytes (a baseline's, or a test's).
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        FingerprintKey(bytes.into())
    }
    /// The key's bytes, as the baseline stores them.
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
        if is_strong(secret) {
            Fingerprint::compute(key, rule_id, secret.expose())
        } else {
            Fingerprint::slow(key, rule_id, secret.expose())
        }
    }

    /// The fingerprint a version 2 baseline holds for this secret, if it differs from
    /// [`Fingerprint::of`]'s: only slow ones changed. Not cached; a run pays it only for
    /// findings an old baseline did not otherwise match.
    pub fn legacy_v2(key: &FingerprintKey, rule_id: &str, secret: &Secret) -> Option<Self> {
        if is_strong(secret) {
            return None;
        }
        let salt = salt(b"unleak-slow-v2\0", key, rule_id);
        let [t1] =
            crate::kdf::pbkdf2_sha256::<1>(&normalise(secret.expose()), &salt, LEGACY_V2_ROUNDS);
        Some(Fingerprint(hex32(&t1)))
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
        let salt = salt(b"unleak-slow-v3\0", key, rule_id);
        let blocks = crate::kdf::pbkdf2_sha256::<SLOW_CHAINS>(&value, &salt, SLOW_ROUNDS);
        let fp = Fingerprint(hex32(&Sha256::digest(blocks.concat()).into()));
        cache.put(id, fp.clone());
        fp
    }

    /// Parse a stored fingerprint; `None` unless it is 32 lowercase hex characters.
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 32 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Fingerprint(s.to_string()))
    }

    /// The 32 hex characters.
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

/// The fast form for a value with too many random bits to guess: a provider's prefix and
/// [`STRONG_BODY`] more characters, or [`STRONG_LEN`] characters in all.
fn is_strong(secret: &Secret) -> bool {
    let prefix = secret.public_prefix();
    let value = secret.expose();
    let chars = value
        .iter()
        .filter(|b| !b.is_ascii_whitespace() && !is_continuation(**b))
        .count();
    (prefix > 0 && value.len() >= prefix + STRONG_BODY) || chars >= STRONG_LEN
}

/// `tag ‖ key ‖ 0 ‖ rule_id`: the slow form's salt.
fn salt(tag: &[u8], key: &FingerprintKey, rule_id: &str) -> Vec<u8> {
    let mut salt = tag.to_vec();
    salt.extend_from_slice(key.as_bytes());
    salt.push(0);
    salt.extend_from_slice(rule_id.as_bytes());
    salt
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

    const V3_EXPECTED: &str = "7c5d7a900a217a377f300996b409b435";
    const V2_EXPECTED: &str = "6313df8439fa0e1d5295e701e8dc9085";

    #[test]
    fn the_slow_forms_are_the_documented_formulas() {
        // Recomputed from the module docs with Python's hashlib, which shares no code with
        // kdf.rs: v3 = sha256(PBKDF2(v, "unleak-slow-v3\0" + key + "\0" + rule, 2500, 128))
        // and v2 = PBKDF2(v, "unleak-slow-v2\0" + key + "\0" + rule, 10000, 32), each cut to
        // 32 hex digits.
        let k = FingerprintKey::default();
        let password = Secret::new(b"Zx9#kLm2$PqR7vWn4TbY".to_vec(), 0);
        assert_eq!(
            Fingerprint::of(&k, "generic-password", &password).as_str(),
            V3_EXPECTED
        );
        assert_eq!(
            Fingerprint::legacy_v2(&k, "generic-password", &password).map(|f| f.0),
            Some(V2_EXPECTED.to_string())
        );
        let token = Secret::new(b"ghp_R4nd0mR4nd0mR4nd0mR4nd0mR4nd0mR4nd0m".to_vec(), 4);
        assert_eq!(
            Fingerprint::legacy_v2(&k, "github-pat-classic", &token),
            None
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
