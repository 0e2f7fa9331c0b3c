//! Test secrets: made by the rule generator (never pasted), and the check that an output
//! holds none of them. It does not decide which rule a test exercises.

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
}
