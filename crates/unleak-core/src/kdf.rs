//! PBKDF2-HMAC-SHA256 (RFC 8018) with several output blocks computed side by side.
//!
//! Owns: the key derivation behind slow fingerprints, and running its chains fast. Does not
//! own: which values get it, or what its output becomes (see `fingerprint`).
//!
//! Each output block `T_i` is its own chain of HMACs, independent of the others. On x86-64
//! with the SHA extensions the chains of one call run interleaved: a single chain leaves
//! the SHA unit waiting on the previous round most of the time, four keep it busy, at about
//! a third of the time per compression. Elsewhere the chains run one after another through
//! `sha2`. Both give the RFC's bytes, and the tests hold them to each other.

use sha2::{Digest, Sha256};

/// SHA-256's initial hash value (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The first `N` 32-byte blocks of PBKDF2-HMAC-SHA256(`password`, `salt`, `rounds`).
pub(crate) fn pbkdf2_sha256<const N: usize>(
    password: &[u8],
    salt: &[u8],
    rounds: u32,
) -> [[u8; 32]; N] {
    let mut key_block = [0u8; 64];
    if password.len() > 64 {
        key_block[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key_block[..password.len()].copy_from_slice(password);
    }
    let inner_pad = key_block.map(|k| k ^ 0x36);
    let outer_pad = key_block.map(|k| k ^ 0x5c);
    key_block.fill(0);
    // U1 = HMAC(password, salt ‖ INT(i)), through the hasher: the salt has any length.
    let mut salted = Sha256::new();
    salted.update(inner_pad);
    salted.update(salt);
    let mut first = [[0u32; 8]; N];
    for (i, u) in first.iter_mut().enumerate() {
        let mut inner = salted.clone();
        inner.update((i as u32 + 1).to_be_bytes());
        let mut outer = Sha256::new();
        outer.update(outer_pad);
        outer.update(inner.finalize());
        *u = words(&outer.finalize().into());
    }
    // Later rounds hash a 32-byte message after a pad block whose state is fixed: one
    // compression each for the inner and the outer hash.
    let (inner, outer) = (state_after(&inner_pad), state_after(&outer_pad));
    let out = chains(&inner, &outer, &first, rounds);
    out.map(|w| bytes(&w))
}

/// XOR of every round's U for each chain, from the chains' first U.
fn chains<const N: usize>(
    inner: &[u32; 8],
    outer: &[u32; 8],
    first: &[[u32; 8]; N],
    rounds: u32,
) -> [[u32; 8]; N] {
    #[cfg(target_arch = "x86_64")]
    if ni::available() {
        // SAFETY: `available` checked every feature `ni::chains` is compiled for.
        return unsafe { ni::chains(inner, outer, first, rounds) };
    }
    portable_chains(inner, outer, first, rounds)
}

/// [`chains`] through `sha2`, one chain after another.
fn portable_chains<const N: usize>(
    inner: &[u32; 8],
    outer: &[u32; 8],
    first: &[[u32; 8]; N],
    rounds: u32,
) -> [[u32; 8]; N] {
    let mut out = *first;
    for (acc, u0) in out.iter_mut().zip(first) {
        let mut u = *u0;
        for _ in 1..rounds {
            u = compress_digest(inner, &u);
            u = compress_digest(outer, &u);
            for (a, w) in acc.iter_mut().zip(u) {
                *a ^= w;
            }
        }
    }
    out
}

/// The state after hashing one 64-byte block.
fn state_after(block: &[u8; 64]) -> [u32; 8] {
    let mut state = SHA256_IV;
    sha2::compress256(&mut state, &[(*block).into()]);
    state
}

/// SHA-256 of (the block `state` stands for) ‖ the 32-byte digest `msg`: one compression,
/// padded for a 96-byte message.
fn compress_digest(state: &[u32; 8], msg: &[u32; 8]) -> [u32; 8] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(&bytes(msg));
    block[32] = 0x80;
    block[56..].copy_from_slice(&(96u64 * 8).to_be_bytes());
    let mut s = *state;
    sha2::compress256(&mut s, &[block.into()]);
    s
}

/// A digest's big-endian words.
fn words(digest: &[u8; 32]) -> [u32; 8] {
    let mut w = [0u32; 8];
    for (w, b) in w.iter_mut().zip(digest.chunks_exact(4)) {
        *w = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    }
    w
}

fn bytes(words: &[u32; 8]) -> [u8; 32] {
    let mut digest = [0u8; 32];
    for (d, w) in digest.chunks_exact_mut(4).zip(words) {
        d.copy_from_slice(&w.to_be_bytes());
    }
    digest
}

/// The chains with the SHA extensions (`sha256rnds2`, `sha256msg1/2`), all `N` in lockstep
/// so that each one's rounds fill the others' latency. The state layout (ABEF/CDGH) and the
/// message schedule follow Intel's description of the instructions.
#[cfg(target_arch = "x86_64")]
mod ni {
    use std::arch::x86_64::*;

    /// SHA-256's round constants (FIPS 180-4, 4.2.2).
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    /// Whether this CPU has what [`chains`] is compiled for.
    pub(super) fn available() -> bool {
        is_x86_feature_detected!("sha")
            && is_x86_feature_detected!("sse2")
            && is_x86_feature_detected!("ssse3")
            && is_x86_feature_detected!("sse4.1")
    }

    /// Eight words as two vectors, word 0 in the lowest lane.
    #[target_feature(enable = "sse2")]
    fn load(w: &[u32; 8]) -> (__m128i, __m128i) {
        let v = |i: usize| w[i] as i32;
        (
            _mm_set_epi32(v(3), v(2), v(1), v(0)),
            _mm_set_epi32(v(7), v(6), v(5), v(4)),
        )
    }

    #[target_feature(enable = "sse4.1")]
    fn store(lo: __m128i, hi: __m128i) -> [u32; 8] {
        [
            _mm_extract_epi32::<0>(lo) as u32,
            _mm_extract_epi32::<1>(lo) as u32,
            _mm_extract_epi32::<2>(lo) as u32,
            _mm_extract_epi32::<3>(lo) as u32,
            _mm_extract_epi32::<0>(hi) as u32,
            _mm_extract_epi32::<1>(hi) as u32,
            _mm_extract_epi32::<2>(hi) as u32,
            _mm_extract_epi32::<3>(hi) as u32,
        ]
    }

    /// H0..H7 (as [`load`] gives them) to the instructions' ABEF and CDGH halves.
    #[target_feature(enable = "sse2,ssse3,sse4.1")]
    fn to_abef(h: (__m128i, __m128i)) -> (__m128i, __m128i) {
        let dcba = _mm_shuffle_epi32::<0xB1>(h.0);
        let efgh = _mm_shuffle_epi32::<0x1B>(h.1);
        (
            _mm_alignr_epi8::<8>(dcba, efgh),
            _mm_blend_epi16::<0xF0>(efgh, dcba),
        )
    }

    /// ABEF and CDGH back to H0..H7, which is also the next message's first eight words.
    #[target_feature(enable = "sse2,ssse3,sse4.1")]
    fn from_abef(abef: __m128i, cdgh: __m128i) -> (__m128i, __m128i) {
        let feba = _mm_shuffle_epi32::<0x1B>(abef);
        let dchg = _mm_shuffle_epi32::<0xB1>(cdgh);
        (
            _mm_blend_epi16::<0xF0>(feba, dchg),
            _mm_alignr_epi8::<8>(dchg, feba),
        )
    }

    /// One compression per chain of the 32-byte message in `u` (as H0..H7), padded for 96
    /// bytes, from `init` (as ABEF/CDGH); `u` becomes the digests.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    #[inline]
    fn compress<const N: usize>(init: (__m128i, __m128i), u: &mut [(__m128i, __m128i); N]) {
        let pad = _mm_set_epi32(0, 0, 0, 0x8000_0000u32 as i32);
        let len = _mm_set_epi32(96 * 8, 0, 0, 0);
        let mut abef = [init.0; N];
        let mut cdgh = [init.1; N];
        let mut w: [[__m128i; 4]; N] = u.map(|(lo, hi)| [lo, hi, pad, len]);
        for g in 0..16 {
            let k = _mm_set_epi32(
                K[4 * g + 3] as i32,
                K[4 * g + 2] as i32,
                K[4 * g + 1] as i32,
                K[4 * g] as i32,
            );
            for l in 0..N {
                let m = if g < 4 {
                    w[l][g]
                } else {
                    // W[t..t+4] from W[t-16..t], the four most recent groups in a ring.
                    let x = _mm_sha256msg1_epu32(w[l][g % 4], w[l][(g + 1) % 4]);
                    let x = _mm_add_epi32(
                        x,
                        _mm_alignr_epi8::<4>(w[l][(g + 3) % 4], w[l][(g + 2) % 4]),
                    );
                    let next = _mm_sha256msg2_epu32(x, w[l][(g + 3) % 4]);
                    w[l][g % 4] = next;
                    next
                };
                let m = _mm_add_epi32(m, k);
                cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], m);
                abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32::<0x0E>(m));
            }
        }
        for l in 0..N {
            u[l] = from_abef(
                _mm_add_epi32(abef[l], init.0),
                _mm_add_epi32(cdgh[l], init.1),
            );
        }
    }

    /// [`super::chains`] with the SHA extensions.
    ///
    /// # Safety
    /// The CPU must have every feature [`available`] checks.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn chains<const N: usize>(
        inner: &[u32; 8],
        outer: &[u32; 8],
        first: &[[u32; 8]; N],
        rounds: u32,
    ) -> [[u32; 8]; N] {
        let inner = to_abef(load(inner));
        let outer = to_abef(load(outer));
        let mut u = first.map(|w| load(&w));
        let mut acc = u;
        for _ in 1..rounds {
            compress(inner, &mut u);
            compress(outer, &mut u);
            for (a, x) in acc.iter_mut().zip(&u) {
                *a = (_mm_xor_si128(a.0, x.0), _mm_xor_si128(a.1, x.1));
            }
        }
        acc.map(|(lo, hi)| store(lo, hi))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn matches_the_rfc_7914_test_vectors() {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256 with dkLen 64, two blocks.
        let out = pbkdf2_sha256::<2>(b"passwd", b"salt", 1);
        assert_eq!(
            hex(&out.concat()),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"
        );
        let out = pbkdf2_sha256::<2>(b"Password", b"NaCl", 80_000);
        assert_eq!(
            hex(&out.concat()),
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"
        );
    }

    #[test]
    fn a_password_longer_than_a_block_is_hashed_first() {
        let long = [b'p'; 100];
        assert_eq!(
            pbkdf2_sha256::<1>(&long, b"s", 2),
            pbkdf2_sha256::<1>(&Sha256::digest(long), b"s", 2)
        );
    }

    #[test]
    fn the_interleaved_chains_give_the_portable_bytes() {
        // Whichever path this CPU takes, both must agree, for every chain count used.
        let (inner, outer) = (state_after(&[0x36; 64]), state_after(&[0x5c; 64]));
        let mut first = [[0u32; 8]; 5];
        for (i, f) in first.iter_mut().enumerate() {
            for (j, w) in f.iter_mut().enumerate() {
                *w = (i as u32 + 1).wrapping_mul(0x9e37_79b9) ^ (j as u32).rotate_left(7);
            }
        }
        assert_eq!(
            chains(&inner, &outer, &first, 37),
            portable_chains(&inner, &outer, &first, 37)
        );
        let four = [first[0], first[1], first[2], first[3]];
        assert_eq!(
            chains(&inner, &outer, &four, 3),
            portable_chains(&inner, &outer, &four, 3)
        );
    }
}
