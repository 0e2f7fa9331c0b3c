//! A secret value that cannot be printed by accident.
//!
//! Owns the one redaction policy of unleak: every `Debug`, `Display` and `Serialize` of a
//! [`Secret`] yields its redacted form unless [`Secret::reveal`] was called, which only the
//! CLI does, and only for `--show-secrets`.

use serde::{Serialize, Serializer};
use std::fmt;

/// The raw bytes of a detected secret plus the length of its public prefix (for example
/// `ghp_`), which is the only part a redacted form may show.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Secret {
    raw: Vec<u8>,
    public_prefix: usize,
    revealed: bool,
}

impl Secret {
    /// `public_prefix` is how many leading bytes are a documented, non-secret prefix;
    /// [`redact`] bounds how much of it is ever shown.
    pub fn new(raw: Vec<u8>, public_prefix: usize) -> Self {
        Secret {
            raw,
            public_prefix,
            revealed: false,
        }
    }

    /// The raw value. Callers must not print it; they use it to compare, hash, rewrite or
    /// seed a vault.
    pub fn expose(&self) -> &[u8] {
        &self.raw
    }

    /// The value's length in bytes.
    pub fn len(&self) -> usize {
        self.raw.len()
    }

    /// How many leading bytes are the rule's documented public prefix (0 when the value
    /// does not carry one).
    pub fn public_prefix(&self) -> usize {
        self.public_prefix
    }

    /// Whether the value is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// Opt in to printing the raw value (`--show-secrets`).
    pub fn reveal(&mut self) {
        self.revealed = true;
    }

    /// Whether [`Secret::reveal`] was called (`--show-secrets`).
    pub fn is_revealed(&self) -> bool {
        self.revealed
    }

    /// The redacted form: see [`redact`].
    pub fn redacted(&self) -> String {
        redact(&self.raw, self.public_prefix)
    }

    /// What printers show: the raw value when revealed, else the redacted form.
    pub fn shown(&self) -> String {
        if self.revealed {
            String::from_utf8_lossy(&self.raw).into_owned()
        } else {
            self.redacted()
        }
    }
}

/// Redact `raw`, keeping at most `public_prefix` leading bytes (never more than a third of
/// the value). A value shown with its prefix states its length, e.g. `ghp_…(40 chars)`:
/// the provider's format makes both public. Any other value is `…(redacted)`: the length
/// of a password would tell a guesser where to start.
pub fn redact(raw: &[u8], public_prefix: usize) -> String {
    let keep = public_prefix.min(raw.len() / 3);
    match std::str::from_utf8(&raw[..keep]) {
        Ok(p) if !p.is_empty() && p.chars().all(|c| c.is_ascii_graphic()) => {
            let chars = String::from_utf8_lossy(raw).chars().count();
            format!("{p}…({chars} chars)")
        }
        _ => "…(redacted)".to_string(),
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug never reveals, so a `{:?}` in a panic or a log line cannot leak.
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown())
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.shown())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Best effort: do not leave the value in freed memory for a later core dump.
        for b in self.raw.iter_mut() {
            // SAFETY: volatile write to an owned, initialised byte.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "ghp_R4nd0mR4nd0mR4nd0mR4nd0mR4nd0mR4nd0m";

    #[test]
    fn every_rendering_is_redacted_by_default() {
        let s = Secret::new(RAW.as_bytes().to_vec(), 4);
        for out in [
            format!("{s}"),
            format!("{s:?}"),
            format!("{s:#?}"),
            serde_json::to_string(&s).unwrap(),
        ] {
            assert!(!out.contains("R4nd0m"), "leaked in {out}");
        }
        assert_eq!(s.redacted(), "ghp_…(40 chars)");
    }

    #[test]
    fn reveal_is_the_only_way_to_print() {
        let mut s = Secret::new(RAW.as_bytes().to_vec(), 4);
        s.reveal();
        assert_eq!(format!("{s}"), RAW);
        assert!(!format!("{s:?}").contains("R4nd0m"));
    }

    #[test]
    fn prefix_never_exceeds_a_third_of_short_values() {
        assert_eq!(redact(b"abcdef", 6), "ab…(6 chars)");
        assert_eq!(redact(b"", 4), "…(redacted)");
    }

    #[test]
    fn a_value_without_a_public_prefix_does_not_give_its_length() {
        let password = Secret::new(b"Zx9#kLm2$PqR7vWn4TbY".to_vec(), 0);
        assert_eq!(password.redacted(), "…(redacted)");
        assert!(!format!("{password:?}").contains("20"));
        // Nor does a prefix that is not printable.
        assert_eq!(redact(b"\x1b[2Jabcdefghijkl", 4), "…(redacted)");
    }
}
