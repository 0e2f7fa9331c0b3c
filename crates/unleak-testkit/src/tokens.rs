//! Test secrets: made by the rule generator (never pasted), their base64 form, and the
//! checks that an output holds none of them. It does not decide which rule a test
//! exercises.

use unleak_rules::generate::{generate, Rng};

/// A GitHub classic token with a valid checksum; distinct seeds give distinct tokens.
pub fn token(seed: u64) -> String {
    generate("crc32:ghp_", &mut Rng::new(0x6775_6172_6400 + seed)).unwrap()
}

/// Assert that `text` contains none of `secrets`, naming where it leaked.
pub fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "{what} leaked a raw secret:\n{text}"
        );
        // Not even the random part without its public prefix.
        assert!(
            !text.contains(&s[4..]),
            "{what} leaked a secret's random part:\n{text}"
        );
    }
}

/// Standard base64 with `=` padding, as `base64` and Kubernetes write it.
pub fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let mut group = [0u8; 3];
        group[..chunk.len()].copy_from_slice(chunk);
        let n = u32::from_be_bytes([0, group[0], group[1], group[2]]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

/// Assert that `text` holds none of `values`, as they are or in base64 (unpadded, so a
/// copy inside a longer encoding is caught too), naming `what` but not the value.
pub fn assert_no_value(what: &str, text: &str, values: &[String]) {
    for v in values {
        assert!(
            !text.contains(v.as_str()),
            "{what} holds a raw secret value"
        );
        let b64 = base64(v.as_bytes());
        assert!(
            !text.contains(b64.trim_end_matches('=')),
            "{what} holds a secret value in base64"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_distinct_and_caught_without_their_prefix() {
        assert_eq!(token(1), token(1));
        assert_ne!(token(1), token(2));
        let t = token(1);
        let tail = format!("x{}", &t[4..]);
        let caught =
            std::panic::catch_unwind(|| assert_no_secret("t", &tail, std::slice::from_ref(&t)));
        assert!(caught.is_err());
    }

    #[test]
    fn base64_pads_as_the_standard_says_and_values_are_caught_encoded() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foob"), "Zm9vYg==");
        let v = vec![token(3)];
        assert!(std::panic::catch_unwind(|| assert_no_value("t", &v[0], &v)).is_err());
        let encoded = base64(v[0].as_bytes());
        assert!(std::panic::catch_unwind(|| assert_no_value("t", &encoded, &v)).is_err());
        assert_no_value("t", "nothing here", &v);
    }
}
