//! Structural checks a token must pass to be reported, so that a random string with the
//! right prefix is not called a secret. Each check also knows how to make a valid value,
//! which the example generator uses.

use serde::Deserialize;

/// A named check, referenced from a rule's `check = "…"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
    /// GitHub-style tokens (`ghp_`, `gho_`, `ghu_`, `ghs_`, `npm_`): the last six
    /// characters are the base62 CRC32 of the 30 before them, left-padded with `0`.
    Crc32Base62,
    /// A JWT: three dot-separated base64url parts whose header decodes to a JSON object
    /// with an `alg` field.
    Jwt,
    /// GitLab routable tokens (`glpat-….01.…`): a base64url payload, `.`, a two-digit
    /// version, `.`, the payload length in base36 (2 characters) and the base36 CRC32 of
    /// everything before it (7 characters), as GitLab's `RoutableToken` generator makes them.
    GitlabRoutable,
    /// HTTP Basic credentials: standard base64 that decodes to printable `user:password`
    /// with a password of at least four characters other than the user name (the
    /// `Authorization: Basic` header, docker `auth`, npm `_auth`).
    Base64UserPass,
    /// Standard base64 that decodes to printable text: a password a credential file keeps
    /// encoded (FileZilla's `<Pass encoding="base64">`). The file says it is a password,
    /// so a weak one counts.
    Base64Text,
    /// Standard base64 that decodes to printable `user:password` with a non-empty password,
    /// however weak: the form a credential file (Docker's `config.json`, `.npmrc`) keeps
    /// a login in, where even `admin:admin` is a live account.
    Base64UserColon,
    /// Bech32 strings (BIP 173), as age encodes its keys (`AGE-SECRET-KEY-1…`): a
    /// human-readable part, the separator `1`, then data characters whose last six are a
    /// BCH checksum over all of it; one case throughout.
    Bech32,
    /// Base58Check (Bitcoin's alphabet), as BIP 32 extended keys (`xprv…`) are encoded:
    /// the decoded bytes end in the first four bytes of the double SHA-256 of the rest.
    Base58check,
}

const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

impl Check {
    /// The check's name as rule files spell it (`check = "jwt"`).
    pub fn name(self) -> &'static str {
        match self {
            Check::Crc32Base62 => "crc32-base62",
            Check::Jwt => "jwt",
            Check::GitlabRoutable => "gitlab-routable",
            Check::Base64UserPass => "base64-user-pass",
            Check::Base64Text => "base64-text",
            Check::Base64UserColon => "base64-user-colon",
            Check::Bech32 => "bech32",
            Check::Base58check => "base58check",
        }
    }

    /// Whether `secret` passes the check.
    pub fn verify(self, secret: &[u8]) -> bool {
        match self {
            Check::Crc32Base62 => {
                let Some(us) = secret.iter().position(|&b| b == b'_') else {
                    return false;
                };
                let body = &secret[us + 1..];
                if body.len() != 36 {
                    return false;
                }
                let (random, sum) = body.split_at(30);
                crc32_base62(random).as_bytes() == sum
            }
            Check::Jwt => jwt_header_has_alg(secret),
            Check::GitlabRoutable => gitlab_routable_is_consistent(secret),
            Check::Base64UserPass => decodes_to_user_pass(secret),
            Check::Base64Text => decodes_to_text(secret).is_some(),
            Check::Base64UserColon => decodes_to_text(secret)
                .is_some_and(|t| matches!(t.split_once(':'), Some((_, pass)) if !pass.is_empty())),
            Check::Bech32 => bech32_is_valid(secret),
            Check::Base58check => base58check_is_valid(secret),
        }
    }
}

/// Lower-case base36 of `n`, left-padded with `0` to `width`.
pub(crate) fn base36(mut n: u64, width: usize) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    while out.len() < width {
        out.push(b'0');
    }
    out.reverse();
    String::from_utf8(out).expect("base36 is ASCII")
}

/// The trailer GitLab appends to a routable token's `PREFIX + payload`: `.01.`, the
/// payload length and the CRC32 of all of it.
pub(crate) fn gitlab_routable_trailer(prefix_and_payload: &str, payload_len: usize) -> String {
    let head = format!("{prefix_and_payload}.01.{}", base36(payload_len as u64, 2));
    let crc = base36(crc32(head.as_bytes()) as u64, 7);
    format!("{head}{crc}")
}

fn gitlab_routable_is_consistent(token: &[u8]) -> bool {
    // …<payload>.<version:2>.<length:2><crc:7>
    let Ok(token) = std::str::from_utf8(token) else {
        return false;
    };
    let Some((head, tail)) = token.rsplit_once('.') else {
        return false;
    };
    let Some((front, version)) = head.rsplit_once('.') else {
        return false;
    };
    if tail.len() != 9 || version.len() != 2 {
        return false;
    }
    let (length, crc) = tail.split_at(2);
    let Ok(length) = u64::from_str_radix(length, 36) else {
        return false;
    };
    // The payload (base64url, so it may hold `-` itself) is the last `length` characters
    // before the version and follows the prefix's closing `-`.
    let Ok(length) = usize::try_from(length) else {
        return false;
    };
    if length == 0 || front.len() <= length || front.as_bytes()[front.len() - length - 1] != b'-' {
        return false;
    }
    let signed = &token[..token.len() - 7];
    base36(crc32(signed.as_bytes()) as u64, 7) == crc
}

/// The 32 data characters of Bech32, in value order.
pub(crate) const BECH32_CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn bech32_polymod(values: impl IntoIterator<Item = u8>) -> u32 {
    const GEN: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let mut chk: u32 = 1;
    for v in values {
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ v as u32;
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    }
    chk
}

/// The human-readable part expanded for the checksum: high bits, a zero, low bits.
fn bech32_hrp_expand(hrp: &[u8]) -> Vec<u8> {
    let mut out: Vec<u8> = hrp.iter().map(|c| c >> 5).collect();
    out.push(0);
    out.extend(hrp.iter().map(|c| c & 31));
    out
}

/// The six checksum characters (lower case) for `hrp` (lower case) and 5-bit `data`.
pub(crate) fn bech32_checksum(hrp: &[u8], data: &[u8]) -> String {
    let mut values = bech32_hrp_expand(hrp);
    values.extend_from_slice(data);
    values.extend_from_slice(&[0; 6]);
    let m = bech32_polymod(values) ^ 1;
    (0..6)
        .map(|i| BECH32_CHARSET[((m >> (5 * (5 - i))) & 31) as usize] as char)
        .collect()
}

fn bech32_is_valid(s: &[u8]) -> bool {
    let has_lower = s.iter().any(u8::is_ascii_lowercase);
    let has_upper = s.iter().any(u8::is_ascii_uppercase);
    if has_lower && has_upper || s.iter().any(|b| !(33..=126).contains(b)) {
        return false;
    }
    let s = s.to_ascii_lowercase();
    let Some(sep) = s.iter().rposition(|&b| b == b'1') else {
        return false;
    };
    let (hrp, data) = (&s[..sep], &s[sep + 1..]);
    if hrp.is_empty() || data.len() < 6 {
        return false;
    }
    let Some(values) = data
        .iter()
        .map(|c| BECH32_CHARSET.iter().position(|x| x == c).map(|v| v as u8))
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    bech32_polymod(bech32_hrp_expand(hrp).into_iter().chain(values)) == 1
}

/// The 58 characters of Bitcoin's Base58, in value order (no `0`, `O`, `I`, `l`).
pub(crate) const BASE58_ALPHABET: &[u8] =
    b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Base58 of `data`; each leading zero byte becomes a leading `1`.
pub(crate) fn base58_encode(data: &[u8]) -> String {
    let zeros = data.iter().take_while(|&&b| b == 0).count();
    // Little-endian base-58 digits of the big-endian number `data`.
    let mut digits: Vec<u8> = Vec::with_capacity(data.len() * 138 / 100 + 1);
    for &byte in &data[zeros..] {
        let mut carry = byte as u32;
        for d in digits.iter_mut() {
            carry += (*d as u32) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let mut out = "1".repeat(zeros);
    out.extend(
        digits
            .iter()
            .rev()
            .map(|&d| BASE58_ALPHABET[d as usize] as char),
    );
    out
}

/// The bytes a Base58 string encodes; `None` for a character outside the alphabet.
fn base58_decode(s: &[u8]) -> Option<Vec<u8>> {
    let zeros = s.iter().take_while(|&&c| c == b'1').count();
    // Little-endian base-256 digits of the number.
    let mut bytes: Vec<u8> = Vec::with_capacity(s.len());
    for &c in &s[zeros..] {
        let mut carry = BASE58_ALPHABET.iter().position(|&a| a == c)? as u32;
        for b in bytes.iter_mut() {
            carry += (*b as u32) * 58;
            *b = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.push(carry as u8);
            carry >>= 8;
        }
    }
    let mut out = vec![0u8; zeros];
    out.extend(bytes.iter().rev());
    Some(out)
}

/// The four checksum bytes Base58Check appends: the start of SHA-256(SHA-256(payload)).
pub(crate) fn base58check_checksum(payload: &[u8]) -> [u8; 4] {
    let twice = sha256(&sha256(payload));
    [twice[0], twice[1], twice[2], twice[3]]
}

fn base58check_is_valid(s: &[u8]) -> bool {
    match base58_decode(s) {
        Some(bytes) if bytes.len() > 4 => {
            let (payload, sum) = bytes.split_at(bytes.len() - 4);
            base58check_checksum(payload) == sum
        }
        _ => false,
    }
}

/// SHA-256 of `data`.
fn sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// The printable text standard base64 `secret` decodes to (a final line feed, as `base64`
/// the command adds, is dropped), if it is base64 and the text is printable and not empty.
fn decodes_to_text(secret: &[u8]) -> Option<String> {
    if secret.iter().any(|&b| b == b'-' || b == b'_') {
        return None;
    }
    let plain = String::from_utf8(b64url_decode(secret)?).ok()?;
    let text = plain.strip_suffix('\n').unwrap_or(&plain);
    (!text.is_empty() && !text.chars().any(char::is_control)).then(|| text.to_string())
}

fn decodes_to_user_pass(secret: &[u8]) -> bool {
    if secret.iter().any(|&b| b == b'-' || b == b'_') {
        return false; // base64url is not what Basic credentials use
    }
    let Some(plain) = b64url_decode(secret) else {
        return false;
    };
    let Ok(plain) = std::str::from_utf8(&plain) else {
        return false;
    };
    if plain.chars().any(char::is_control) {
        return false;
    }
    // `foo:bar`, `admin:admin`: a password of a few characters, or the user's own name, is
    // a test value, not an account's password.
    matches!(plain.split_once(':'), Some((user, pass)) if pass.len() >= 4 && pass != user)
}

/// CRC32 (IEEE) of `data`, base62-encoded and left-padded to six characters.
pub(crate) fn crc32_base62(data: &[u8]) -> String {
    let mut n = crc32(data) as u64;
    let mut out = [b'0'; 6];
    let mut i = 6;
    while n > 0 && i > 0 {
        i -= 1;
        out[i] = B62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8(out.to_vec()).expect("base62 is ASCII")
}

const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

fn crc32(data: &[u8]) -> u32 {
    let mut c = !0u32;
    for &b in data {
        c = CRC_TABLE[((c ^ b as u32) & 0xFF) as usize] ^ (c >> 8);
    }
    !c
}

/// Decode unpadded base64url (or standard base64) into bytes; `None` on bad input.
pub(crate) fn b64url_decode(s: &[u8]) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32)
    };
    let s: &[u8] = match s.iter().position(|&b| b == b'=') {
        Some(p) => &s[..p],
        None => s,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}

fn jwt_header_has_alg(token: &[u8]) -> bool {
    let mut parts = token.split(|&b| b == b'.');
    let (Some(header), Some(_payload), Some(_sig)) = (parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let Some(json) = b64url_decode(header) else {
        return false;
    };
    let json = String::from_utf8_lossy(&json);
    let t = json.trim_start();
    t.starts_with('{') && t.contains("\"alg\"")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_ieee_reference_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn crc32_base62_accepts_valid_and_rejects_tampered_tokens() {
        let random = "abcdefghijABCDEFGHIJ0123456789";
        let token = format!("ghp_{random}{}", crc32_base62(random.as_bytes()));
        assert!(Check::Crc32Base62.verify(token.as_bytes()));
        let mut bad = token.clone().into_bytes();
        bad[5] = b'Z';
        assert!(!Check::Crc32Base62.verify(&bad));
        assert!(!Check::Crc32Base62.verify(b"ghp_short"));
    }

    #[test]
    fn gitlab_routable_tokens_need_a_matching_length_and_crc() {
        let token = gitlab_routable_trailer("glpat-AbCdEfGhIjKlMnOpQrStUvWxYz012345", 32);
        assert!(Check::GitlabRoutable.verify(token.as_bytes()));
        let tampered = token.replacen("AbC", "XbC", 1);
        assert!(!Check::GitlabRoutable.verify(tampered.as_bytes()));
        let wrong_length = gitlab_routable_trailer("glpat-AbCdEfGhIjKlMnOpQrStUvWxYz012345", 31);
        assert!(!Check::GitlabRoutable.verify(wrong_length.as_bytes()));
        assert!(!Check::GitlabRoutable.verify(b"glpat-AbCdEfGhIjKlMnOpQrSt"));
    }

    #[test]
    fn base36_pads_and_encodes() {
        assert_eq!(base36(0, 2), "00");
        assert_eq!(base36(35, 2), "0z");
        assert_eq!(base36(36 * 36, 2), "100");
    }

    #[test]
    fn basic_credentials_decode_to_user_and_password() {
        // "alice:s3cret!" and "alice" (no colon) and "alice:" (empty password)
        assert!(Check::Base64UserPass.verify(b"YWxpY2U6czNjcmV0IQ=="));
        assert!(!Check::Base64UserPass.verify(b"YWxpY2U="));
        assert!(!Check::Base64UserPass.verify(b"YWxpY2U6"));
        assert!(!Check::Base64UserPass.verify(b"not base64!"));
        // a control byte in the decoded text: "a:\x01"
        assert!(!Check::Base64UserPass.verify(b"YToB"));
        // test values: "foo:bar" and "admin:admin"
        assert!(!Check::Base64UserPass.verify(b"Zm9vOmJhcg=="));
        assert!(!Check::Base64UserPass.verify(b"YWRtaW46YWRtaW4="));
    }

    #[test]
    fn base64_text_and_user_colon_accept_weak_values_but_not_binary_or_empty_ones() {
        // "admin:admin", "hunter2\n", "a:", binary bytes, "", base64url.
        assert!(Check::Base64UserColon.verify(b"YWRtaW46YWRtaW4="));
        assert!(!Check::Base64UserColon.verify(b"YTo="));
        assert!(!Check::Base64UserColon.verify(b"aHVudGVyMgo="));
        assert!(Check::Base64Text.verify(b"aHVudGVyMgo="));
        assert!(!Check::Base64Text.verify(b"//79"));
        assert!(!Check::Base64Text.verify(b""));
        assert!(!Check::Base64Text.verify(b"aHVu-GVy"));
    }

    #[test]
    fn bech32_accepts_bip173_vectors_and_rejects_tampering() {
        // Valid test vectors of BIP 173.
        assert!(Check::Bech32.verify(b"A12UEL5L"));
        assert!(Check::Bech32.verify(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw"));
        // A changed character, mixed case, a character outside the alphabet, no separator.
        assert!(!Check::Bech32.verify(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxx"));
        assert!(!Check::Bech32.verify(b"A12uEL5L"));
        assert!(!Check::Bech32.verify(b"abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxb"));
        assert!(!Check::Bech32.verify(b"pzry9x0s0muk"));
    }

    #[test]
    fn bech32_checksum_makes_valid_strings() {
        let data: Vec<u8> = (0..52).map(|i| (i * 7 % 32) as u8).collect();
        let body: String = data
            .iter()
            .map(|&v| BECH32_CHARSET[v as usize] as char)
            .collect();
        let hrp = "age-secret-key-";
        let key = format!("{hrp}1{body}{}", bech32_checksum(hrp.as_bytes(), &data));
        assert!(Check::Bech32.verify(key.as_bytes()));
        assert!(Check::Bech32.verify(key.to_ascii_uppercase().as_bytes()));
    }

    #[test]
    fn base58check_accepts_a_bip32_test_vector_and_rejects_tampering() {
        // BIP 32 test vector 1, chain m: the master extended private key.
        let xprv = b"xprv9s21ZrQH143K3QTDL4LXw2F7HEK3wJUD2nW2nRk4stbPy6cq3jPPqjiChkVvvNKmPGJxWUtg6LnF5kejMRNNU3TGtRBeJgk33yuGBxrMPHi";
        assert!(Check::Base58check.verify(xprv));
        let mut bad = xprv.to_vec();
        bad[50] = if bad[50] == b'A' { b'B' } else { b'A' };
        assert!(!Check::Base58check.verify(&bad));
        // Characters outside the alphabet, and too short to hold a checksum.
        assert!(!Check::Base58check.verify(b"xprv0OIl"));
        assert!(!Check::Base58check.verify(b"11"));
    }

    #[test]
    fn base58_round_trips_and_keeps_leading_zeros() {
        let data = [0u8, 0, 1, 2, 255, 128, 7];
        let encoded = base58_encode(&data);
        assert!(encoded.starts_with("11"));
        assert_eq!(base58_decode(encoded.as_bytes()).unwrap(), data);
        // "Hello World!" in Base58 (the draft-msporny-base58 example).
        assert_eq!(base58_encode(b"Hello World!"), "2NEpo7TZRRrLZSi2U");
    }

    #[test]
    fn jwt_needs_a_json_header_with_alg() {
        // {"alg":"HS256","typ":"JWT"}
        let ok = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2ln";
        assert!(Check::Jwt.verify(ok));
        assert!(!Check::Jwt.verify(b"eyJub3RoaW5nIjoxfQ.eyJzdWIiOiIxIn0.c2ln"));
        assert!(!Check::Jwt.verify(b"not.a.jwt!"));
    }
}
