//! Deterministic example tokens.
//!
//! Rule examples never carry a pasted token: they write `{{gen:SPEC}}` and this module
//! makes a value of the documented shape at test time, the same on every run. A SPEC is
//! one or more parts joined by `+`, whose values are concatenated:
//!
//! - `ALPHABET:LENGTH` (alphabets: `alnum`, `lower`, `upper`, `digits`, `hex`, `HEX`,
//!   `lowernum`, `uppernum`, `b32`, `b64`, `b64url`);
//! - `'text'`: literal text, so a token's public prefix and separators stay part of the
//!   one generated value (`'xoxb-'+digits:12+'-'+alnum:24`);
//! - `crc32:PREFIX`: prefix, 30 random characters and their base62 CRC32 (GitHub, npm);
//! - `routable:PREFIX`: a GitLab routable token (payload, version, length, base36 CRC32);
//! - `jwt`: a signed-looking JWT with an `alg` header;
//! - `uuid`: a random version-4 UUID;
//! - `basic:USERLEN:PASSLEN`: base64 of `user:password`, as HTTP Basic credentials;
//! - `b64text:LEN`: base64 of LEN letters and digits, as a password a file keeps encoded;
//! - `pem:LABEL[:encrypted][:indented][:escaped|:json]`: a PEM block with a DER-shaped
//!   body (OpenSSH keys get the `openssh-key-v1` magic), optionally with legacy encryption
//!   headers, with its lines after the first indented by four spaces (a YAML block
//!   scalar), written inside a quoted string (`escaped`: newlines as `\n` escapes) or as a
//!   JSON key file writes it (`json`: escapes plus a final `\n`, as in service accounts);
//! - `pgp` or `pgp:COMMENT`: an ASCII-armored PGP private key block with its CRC-24 line,
//!   optionally with a `Comment:` armor header;
//! - `ppk:ALGORITHM[:v2][:encrypted]`: a PuTTY private key file, version 3 (or 2), with
//!   `Encryption: none` (or `aes256-cbc`, and for version 3 its Argon2 key-derivation
//!   lines);
//! - `bech32:HRP:LENGTH`: a Bech32 string (BIP 173) with LENGTH random data characters
//!   and a valid checksum, upper-case if HRP is (age's `AGE-SECRET-KEY-`);
//! - `base58check:VERSION:LENGTH`: Base58Check of the hex VERSION bytes, LENGTH random
//!   bytes and their checksum (`base58check:0488ade4:74` is a BIP 32 `xprv…` key).

use crate::check::{
    base58_encode, base58check_checksum, bech32_checksum, crc32_base62, gitlab_routable_trailer,
    BECH32_CHARSET,
};

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
    /// A generator that yields the same sequence for the same seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
    /// `len` characters drawn from `alphabet`.
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

/// Make one value from a SPEC: its `+`-joined parts, concatenated.
pub fn generate(spec: &str, rng: &mut Rng) -> Result<String, String> {
    let mut out = String::new();
    for part in split_parts(spec)? {
        out.push_str(&generate_part(part, rng)?);
    }
    Ok(out)
}

/// Split a SPEC at the `+` signs that are outside `'…'` literals.
fn split_parts(spec: &str) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in spec.char_indices() {
        match c {
            '\'' => quoted = !quoted,
            '+' if !quoted => {
                parts.push(&spec[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted {
        return Err(format!(
            "generator `{spec}` has an unterminated `'` literal"
        ));
    }
    parts.push(&spec[start..]);
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("generator `{spec}` has an empty part"));
    }
    Ok(parts)
}

fn generate_part(spec: &str, rng: &mut Rng) -> Result<String, String> {
    if let Some(text) = spec.strip_prefix('\'') {
        return Ok(text.strip_suffix('\'').unwrap_or(text).to_string());
    }
    let (kind, arg) = spec.split_once(':').unwrap_or((spec, ""));
    let b64url = alphabet("b64url").expect("known alphabet");
    match kind {
        "crc32" => {
            let random = rng.string(ALNUM, 30);
            Ok(format!("{arg}{random}{}", crc32_base62(random.as_bytes())))
        }
        "routable" => {
            // 16 random bytes, the routing payload (`o:` is the one required key) and its
            // length byte, base64url without padding, as GitLab encodes them.
            let mut raw = rng.bytes(16);
            let routing = format!(
                "o:{}",
                rng.string("0123456789abcdefghijklmnopqrstuvwxyz", 5)
            );
            raw.extend_from_slice(routing.as_bytes());
            raw.push(routing.len() as u8);
            let payload = base64_encode(&raw, B64URL_NOPAD);
            Ok(gitlab_routable_trailer(
                &format!("{arg}{payload}"),
                payload.len(),
            ))
        }
        "jwt" => {
            // {"alg":"HS256","typ":"JWT"}
            let header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";
            let payload = format!("eyJ{}", rng.string(b64url, 40));
            Ok(format!("{header}.{payload}.{}", rng.string(b64url, 43)))
        }
        "uuid" => {
            let h = rng.string("0123456789abcdef", 32);
            let variant = rng.string("89ab", 1);
            Ok(format!(
                "{}-{}-4{}-{variant}{}-{}",
                &h[..8],
                &h[8..12],
                &h[13..16],
                &h[17..20],
                &h[20..32]
            ))
        }
        "basic" => {
            let (user, pass) = arg
                .split_once(':')
                .and_then(|(u, p)| Some((u.parse::<usize>().ok()?, p.parse::<usize>().ok()?)))
                .filter(|&(u, p)| (1..=256).contains(&u) && (1..=256).contains(&p))
                .ok_or_else(|| format!("generator `{spec}` needs lengths, e.g. `basic:8:16`"))?;
            let plain = format!(
                "{}:{}",
                rng.string("abcdefghijklmnopqrstuvwxyz", user),
                rng.string(ALNUM, pass)
            );
            Ok(base64_encode(plain.as_bytes(), B64_PAD))
        }
        "b64text" => {
            let len = arg
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=256).contains(n))
                .ok_or_else(|| format!("generator `{spec}` needs a length, e.g. `b64text:12`"))?;
            Ok(base64_encode(rng.string(ALNUM, len).as_bytes(), B64_PAD))
        }
        "pem" => pem_block(arg, rng),
        "pgp" => Ok(pgp_private_key_block(arg, rng)),
        "ppk" => ppk_file(arg, rng),
        "bech32" => bech32_string(arg, rng),
        "base58check" => base58check_string(arg, rng),
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

const B64_PAD: (&str, bool) = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    true,
);
const B64URL_NOPAD: (&str, bool) = (
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    false,
);

/// Base64 of `data` in the given alphabet, with or without `=` padding.
fn base64_encode(data: &[u8], (alphabet, pad): (&str, bool)) -> String {
    let table = alphabet.as_bytes();
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | (b as u32) << (16 - 8 * i));
        let emit = chunk.len() + 1;
        for i in 0..4 {
            if i < emit {
                out.push(table[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// A Bech32 string: `HRP`, `1`, random data characters and their checksum.
fn bech32_string(arg: &str, rng: &mut Rng) -> Result<String, String> {
    let (hrp, len) = arg
        .rsplit_once(':')
        .and_then(|(h, l)| Some((h, l.parse::<usize>().ok()?)))
        .filter(|&(h, l)| !h.is_empty() && h.is_ascii() && (1..=1000).contains(&l))
        .ok_or_else(|| {
            format!("generator `bech32:{arg}` needs HRP:LENGTH, e.g. `bech32:age:52`")
        })?;
    let lower_hrp = hrp.to_ascii_lowercase();
    let data: Vec<u8> = (0..len).map(|_| (rng.next_u64() % 32) as u8).collect();
    let body: String = data
        .iter()
        .map(|&v| BECH32_CHARSET[v as usize] as char)
        .collect();
    let out = format!(
        "{lower_hrp}1{body}{}",
        bech32_checksum(lower_hrp.as_bytes(), &data)
    );
    Ok(if hrp.bytes().any(|b| b.is_ascii_uppercase()) {
        out.to_ascii_uppercase()
    } else {
        out
    })
}

/// Base58Check of version bytes, random payload bytes and the checksum.
fn base58check_string(arg: &str, rng: &mut Rng) -> Result<String, String> {
    let bad = || {
        format!(
            "generator `base58check:{arg}` needs VERSION:LENGTH, e.g. `base58check:0488ade4:74`"
        )
    };
    let (version, len) = arg.split_once(':').ok_or_else(bad)?;
    let len: usize = len.parse().map_err(|_| bad())?;
    if !version.len().is_multiple_of(2) || !(1..=256).contains(&len) {
        return Err(bad());
    }
    let mut payload = (0..version.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&version[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    payload.extend(rng.bytes(len));
    let sum = base58check_checksum(&payload);
    payload.extend_from_slice(&sum);
    Ok(base58_encode(&payload))
}

/// `text` broken into lines of `width` characters.
fn wrap(text: &str, width: usize) -> String {
    text.as_bytes()
        .chunks(width)
        .map(|line| std::str::from_utf8(line).expect("base64 is ASCII"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A PEM block whose body is shaped like the real thing: DER (`SEQUENCE`, two-byte
/// length) for PKCS#1, SEC 1 and PKCS#8, the `openssh-key-v1` magic for OpenSSH keys.
fn pem_block(arg: &str, rng: &mut Rng) -> Result<String, String> {
    let mut flags = arg.split(':');
    let label = flags.next().unwrap_or_default();
    let (mut encrypted, mut escaped, mut json, mut indented) = (false, false, false, false);
    for flag in flags {
        match flag {
            "encrypted" => encrypted = true,
            "escaped" => escaped = true,
            "json" => json = true,
            "indented" => indented = true,
            _ => return Err(format!("generator `pem:{arg}`: unknown flag `{flag}`")),
        }
    }
    let (mut der, body_len, width) = match label {
        "OPENSSH PRIVATE KEY" => (b"openssh-key-v1\0".to_vec(), 380, 70),
        "RSA PRIVATE KEY" => (vec![0x30, 0x82, 0x04, 0xa4], 1188, 64),
        "PRIVATE KEY" => (vec![0x30, 0x82, 0x04, 0xbe], 1214, 64),
        "ENCRYPTED PRIVATE KEY" => (vec![0x30, 0x82, 0x05, 0x0e], 1294, 64),
        "EC PRIVATE KEY" => (vec![0x30, 0x77], 119, 64),
        "DSA PRIVATE KEY" => (vec![0x30, 0x82, 0x01, 0xbb], 443, 64),
        _ => return Err(format!("generator `pem:{arg}`: unknown PEM label")),
    };
    der.extend(rng.bytes(body_len));
    let headers = if encrypted {
        format!(
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,{}\n\n",
            rng.string("0123456789ABCDEF", 32)
        )
    } else {
        String::new()
    };
    let block = format!(
        "-----BEGIN {label}-----\n{headers}{}\n-----END {label}-----",
        wrap(&base64_encode(&der, B64_PAD), width)
    );
    // Inside a quoted string newlines are `\n` escapes; JSON key files (service account
    // keys) also end the block with one.
    // In a YAML block scalar every line after the first is indented.
    let block = if indented {
        block.replace('\n', "\n    ")
    } else {
        block
    };
    Ok(if json {
        format!("{}\\n", block.replace('\n', "\\n"))
    } else if escaped {
        block.replace('\n', "\\n")
    } else {
        block
    })
}

/// CRC-24 of OpenPGP ASCII armor (RFC 4880, section 6.1).
fn crc24(data: &[u8]) -> u32 {
    let mut crc: u32 = 0x00B7_04CE;
    for &b in data {
        crc ^= (b as u32) << 16;
        for _ in 0..8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= 0x0186_4CFB;
            }
        }
    }
    crc & 0x00FF_FFFF
}

/// An armored PGP private key block: an old-format secret-key packet header, a random body
/// and the armor checksum line.
fn pgp_private_key_block(comment: &str, rng: &mut Rng) -> String {
    let mut packet = vec![0x95, 0x03, 0xc6, 0x04];
    packet.extend(rng.bytes(966));
    let crc = crc24(&packet).to_be_bytes();
    let headers = if comment.is_empty() {
        String::new()
    } else {
        format!("Comment: {comment}\n")
    };
    format!(
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n{headers}\n{}\n={}\n-----END PGP PRIVATE KEY BLOCK-----",
        wrap(&base64_encode(&packet, B64_PAD), 64),
        base64_encode(&crc[1..], B64_PAD)
    )
}

/// A PuTTY version 3 key file (unencrypted): headers, the public blob, the private blob
/// and the HMAC-SHA-256 line.
fn ppk_file(arg: &str, rng: &mut Rng) -> Result<String, String> {
    let mut parts = arg.split(':');
    let algorithm = parts.next().unwrap_or_default();
    let (mut version, mut encrypted) = (3, false);
    for flag in parts {
        match flag {
            "v2" => version = 2,
            "encrypted" => encrypted = true,
            _ => return Err(format!("generator `ppk:{arg}`: unknown option `{flag}`")),
        }
    }
    let (public_len, private_len) = match algorithm {
        "ssh-ed25519" => (32, 36),
        "ssh-rsa" => (270, 660),
        "ecdsa-sha2-nistp256" => (104, 40),
        _ => return Err(format!("generator `ppk:{algorithm}`: unknown algorithm")),
    };
    let mut public = (algorithm.len() as u32).to_be_bytes().to_vec();
    public.extend_from_slice(algorithm.as_bytes());
    public.extend(rng.bytes(public_len));
    let public = wrap(&base64_encode(&public, B64_PAD), 64);
    // Encrypted private blobs are padded to the cipher's 16-byte blocks.
    let private_len = if encrypted {
        usize::div_ceil(private_len, 16) * 16
    } else {
        private_len
    };
    let private = wrap(&base64_encode(&rng.bytes(private_len), B64_PAD), 64);
    let cipher = if encrypted { "aes256-cbc" } else { "none" };
    // Version 3 derives an encrypted file's key with Argon2, named between the two blobs.
    let derivation = if encrypted && version == 3 {
        format!(
            "Key-Derivation: Argon2id\nArgon2-Memory: 8192\nArgon2-Passes: 21\nArgon2-Parallelism: 1\nArgon2-Salt: {}\n",
            rng.string("0123456789abcdef", 32)
        )
    } else {
        String::new()
    };
    // Version 2's MAC is HMAC-SHA-1, version 3's HMAC-SHA-256.
    let mac_len = if version == 2 { 40 } else { 64 };
    Ok(format!(
        "PuTTY-User-Key-File-{version}: {algorithm}\nEncryption: {cipher}\nComment: {}\nPublic-Lines: {}\n{public}\n{derivation}Private-Lines: {}\n{private}\nPrivate-MAC: {}",
        rng.string("abcdefghijklmnopqrstuvwxyz", 10),
        public.lines().count(),
        private.lines().count(),
        rng.string("0123456789abcdef", mac_len)
    ))
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
        assert!(expand("{{gen:'abc+hex:4}}", 1).is_err());
        assert!(expand("{{gen:hex:4+}}", 1).is_err());
        assert!(expand("{{gen:pem:SECRET SAUCE}}", 1).is_err());
        assert!(expand("{{gen:ppk:ssh-dss}}", 1).is_err());
        assert!(expand("{{gen:basic:8}}", 1).is_err());
        assert!(expand("{{gen:bech32:age}}", 1).is_err());
        assert!(expand("{{gen:bech32::52}}", 1).is_err());
    }

    #[test]
    fn bech32_values_pass_the_bech32_check_in_the_hrp_case() {
        let (text, values) = expand("{{gen:bech32:AGE-SECRET-KEY-:52}}", 7).unwrap();
        assert_eq!(text, values[0]);
        assert!(text.starts_with("AGE-SECRET-KEY-1") && text.len() == 16 + 52 + 6);
        assert!(crate::Check::Bech32.verify(text.as_bytes()));
        let (lower, _) = expand("{{gen:bech32:age:52}}", 7).unwrap();
        assert!(lower.starts_with("age1") && crate::Check::Bech32.verify(lower.as_bytes()));
    }

    #[test]
    fn parts_concatenate_into_one_value() {
        let (text, v) = expand("k={{gen:'xoxb-'+digits:4+'-'+hex:6}} {{gen:'a+b'}}", 5).unwrap();
        assert_eq!(v.len(), 2);
        assert!(v[0].starts_with("xoxb-") && v[0].len() == 16, "{}", v[0]);
        assert_eq!(&v[0][9..10], "-");
        assert_eq!(v[1], "a+b");
        assert_eq!(text, format!("k={} a+b", v[0]));
    }

    #[test]
    fn uuids_have_the_version_4_shape() {
        let (_, v) = expand("{{gen:uuid}}", 9).unwrap();
        let groups: Vec<_> = v[0].split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12]);
        assert_eq!(&v[0][14..15], "4");
    }

    #[test]
    fn basic_and_routable_values_pass_their_checks() {
        let (_, v) = expand("{{gen:basic:6:20}} {{gen:routable:glpat-}}", 11).unwrap();
        assert!(Check::Base64UserPass.verify(v[0].as_bytes()));
        assert!(v[1].starts_with("glpat-"));
        assert!(Check::GitlabRoutable.verify(v[1].as_bytes()), "{}", v[1]);
    }

    #[test]
    fn pem_blocks_have_headers_and_a_der_shaped_body() {
        let (_, v) = expand("{{gen:pem:RSA PRIVATE KEY}}", 2).unwrap();
        let lines: Vec<_> = v[0].lines().collect();
        assert_eq!(lines[0], "-----BEGIN RSA PRIVATE KEY-----");
        assert_eq!(*lines.last().unwrap(), "-----END RSA PRIVATE KEY-----");
        assert!(lines[1].starts_with("MII") && lines[1].len() == 64);
        let (_, v) = expand("{{gen:pem:OPENSSH PRIVATE KEY}}", 2).unwrap();
        assert!(v[0]
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("b3BlbnNzaC1rZXktdjEA"));
        let (_, v) = expand("{{gen:pem:RSA PRIVATE KEY:encrypted}}", 2).unwrap();
        assert_eq!(v[0].lines().nth(1), Some("Proc-Type: 4,ENCRYPTED"));
        let (_, v) = expand("{{gen:pem:PRIVATE KEY:json}}", 2).unwrap();
        assert!(!v[0].contains('\n'));
        assert!(v[0].starts_with("-----BEGIN PRIVATE KEY-----\\nMII"));
        assert!(v[0].ends_with("-----END PRIVATE KEY-----\\n"));
        let (_, v) = expand("{{gen:pem:EC PRIVATE KEY:indented}}", 2).unwrap();
        assert!(v[0].lines().skip(1).all(|l| l.starts_with("    ")));
        let (_, v) = expand("{{gen:pem:EC PRIVATE KEY:escaped}}", 2).unwrap();
        assert!(!v[0].contains('\n') && v[0].ends_with("-----END EC PRIVATE KEY-----"));
        assert!(expand("{{gen:pem:PRIVATE KEY:yaml}}", 2).is_err());
    }

    #[test]
    fn crc24_matches_the_openpgp_reference_value() {
        // CRC-24/OPENPGP check value for "123456789".
        assert_eq!(crc24(b"123456789"), 0x21CF02);
        let (_, v) = expand("{{gen:pgp}}", 4).unwrap();
        assert!(v[0].starts_with("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQ"));
        let checksum = v[0].lines().rev().nth(1).unwrap();
        assert!(checksum.starts_with('=') && checksum.len() == 5);
        let (_, v) = expand("{{gen:pgp:release key}}", 4).unwrap();
        assert_eq!(v[0].lines().nth(1), Some("Comment: release key"));
    }

    #[test]
    fn base58check_values_are_valid_extended_keys() {
        let (_, v) = expand("{{gen:base58check:0488ade4:74}}", 8).unwrap();
        assert!(v[0].starts_with("xprv") && v[0].len() == 111, "{}", v[0]);
        assert!(crate::Check::Base58check.verify(v[0].as_bytes()));
        assert!(expand("{{gen:base58check:0488ade:74}}", 8).is_err());
        assert!(expand("{{gen:base58check:zz:4}}", 8).is_err());
        assert!(expand("{{gen:base58check:0488ade4}}", 8).is_err());
    }

    #[test]
    fn ppk_files_count_their_lines() {
        let (_, v) = expand("{{gen:ppk:ssh-rsa}}", 6).unwrap();
        let lines: Vec<_> = v[0].lines().collect();
        assert_eq!(lines[0], "PuTTY-User-Key-File-3: ssh-rsa");
        let public: usize = lines[3]
            .strip_prefix("Public-Lines: ")
            .unwrap()
            .parse()
            .unwrap();
        let private_at = 4 + public;
        assert!(lines[private_at].starts_with("Private-Lines: "));
        assert!(lines.last().unwrap().starts_with("Private-MAC: "));

        let (_, v) = expand("{{gen:ppk:ssh-ed25519:v2:encrypted}}", 6).unwrap();
        assert!(v[0].starts_with("PuTTY-User-Key-File-2: ssh-ed25519\nEncryption: aes256-cbc\n"));
        assert_eq!(v[0].rsplit("Private-MAC: ").next().unwrap().len(), 40);
        let (_, v) = expand("{{gen:ppk:ssh-ed25519:encrypted}}", 6).unwrap();
        assert!(v[0].contains("\nKey-Derivation: Argon2id\n"), "{}", v[0]);
        assert!(expand("{{gen:ppk:ssh-rsa:v4}}", 6).is_err());
    }

    #[test]
    fn base64_encoding_matches_rfc_4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64_encode(plain.as_bytes(), B64_PAD), encoded);
        }
        assert_eq!(base64_encode(b"fo", B64URL_NOPAD), "Zm8");
    }
}
