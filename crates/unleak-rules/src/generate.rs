//! Deterministic example tokens.
//!
//! Rule examples never carry a pasted token: they write `{{gen:SPEC}}` and this module
//! makes a value of the documented shape at test time, the same on every run. SPEC is
//! `ALPHABET:LENGTH` (alphabets: `alnum`, `lower`, `upper`, `digits`, `hex`, `HEX`,
//! `lowernum`, `uppernum`, `b32`, `b64`, `b64url`), `crc32:PREFIX` (prefix, 30 random
//! characters and their base62 CRC32), or `jwt` (a signed-looking JWT with an `alg`
//! header).

use crate::check::crc32_base62;

const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn alphabet(name: &str) -> Option<&'static str> {
    Some(match name {
        "alnum" => ALNUM,
        "lower" => "abcdefghijklmnopqrstuvwxyz",
        "upper" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "digits" => "0123456789",
        "hex" => "0123456789abcdef",
        "HEX" => "0123456789ABCDEF",
        "lowernum" => "abcdefghijklmnopqrstuvwxyz0123456789",
        "uppernum" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
        "b32" => "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567",
        "b64" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        "b64url" => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        _ => return None,
    })
}

/// A small, seedable PRNG (SplitMix64): deterministic and dependency-free.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn string(&mut self, alphabet: &str, len: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..len)
            .map(|_| chars[(self.next_u64() % chars.len() as u64) as usize])
            .collect()
    }
}

/// A stable seed for the `n`-th example of a rule.
pub fn seed_for(rule_id: &str, n: usize) -> u64 {
    // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule_id.bytes().chain((n as u64).to_le_bytes()) {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Make one value from a SPEC.
pub fn generate(spec: &str, rng: &mut Rng) -> Result<String, String> {
    let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
    match kind {
        "crc32" => {
            let random = rng.string(ALNUM, 30);
            Ok(format!("{arg}{random}{}", crc32_base62(random.as_bytes())))
        }
        "jwt" => {
            // {"alg":"HS256","typ":"JWT"}
            let header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
            let b64url = alphabet("b64url").expect("known alphabet");
            let payload = format!("eyJ{}", rng.string(b64url, 40));
            Ok(format!("{header}.{payload}.{}", rng.string(b64url, 43)))
        }
        name => {
            let alpha = alphabet(name).ok_or_else(|| format!("unknown generator `{name}`"))?;
            let len: usize = arg
                .parse()
                .map_err(|_| format!("generator `{spec}` needs a length, e.g. `{name}:32`"))?;
            if !(1..=8192).contains(&len) {
                return Err(format!("generator `{spec}`: length must be 1..=8192"));
            }
            Ok(rng.string(alpha, len))
        }
    }
}

/// Replace every `{{gen:SPEC}}` in `text`; returns the text and the values made, in order.
pub fn expand(text: &str, seed: u64) -> Result<(String, Vec<String>), String> {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(text.len());
    let mut values = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("{{gen:") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 6..];
        let end = after
            .find("}}")
            .ok_or_else(|| "unterminated `{{gen:` placeholder".to_string())?;
        let value = generate(&after[..end], &mut rng)?;
        out.push_str(&value);
        values.push(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok((out, values))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Check;

    #[test]
    fn expansion_is_deterministic() {
        let a = expand("k={{gen:alnum:20}} {{gen:hex:8}}", 7).unwrap();
        let b = expand("k={{gen:alnum:20}} {{gen:hex:8}}", 7).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.1[0].len(), 20);
        assert!(a.1[1].bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn crc32_tokens_pass_their_check() {
        let (_, v) = expand("{{gen:crc32:ghp_}}", 1).unwrap();
        assert_eq!(v[0].len(), 40);
        assert!(Check::Crc32Base62.verify(v[0].as_bytes()));
    }

    #[test]
    fn jwt_tokens_pass_their_check() {
        let (_, v) = expand("{{gen:jwt}}", 3).unwrap();
        assert!(Check::Jwt.verify(v[0].as_bytes()));
    }

    #[test]
    fn bad_specs_are_errors() {
        assert!(expand("{{gen:nope:3}}", 1).is_err());
        assert!(expand("{{gen:hex}}", 1).is_err());
        assert!(expand("{{gen:hex:4", 1).is_err());
    }
}
