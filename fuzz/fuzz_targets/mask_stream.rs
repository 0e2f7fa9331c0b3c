//! The log masker on arbitrary text split into arbitrary reads: it never panics, and no
//! planted secret survives, whether a rule finds it (a token) or it is a registered
//! literal value (raw or base64-encoded). The input's bytes 0x01 to 0x06 mark where a
//! token, the literal, the literal's base64, a token broken up by `grep --color` codes,
//! the bare base64 of a line holding a token, and a docker config holding the literal in
//! base64 wrapped at 76 columns (at a byte offset that changes with each plant) are
//! planted (with a space each side, or on lines of their own); the rest is copied as it
//! is.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, OnceLock};
use unleak_fuzz::contains;
use unleak_mask::{MaskOptions, Masker};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_rules::generate::Rng;
use unleak_rules::RuleSetBuilder;

const RULES: &str = r#"
[[rules]]
id = "fuzz-token"
name = "Fuzz token"
keywords = ["tok_"]
regex = '''\b(?P<secret>tok_[A-Za-z0-9]{32})\b'''
prefix = "tok_"
confidence = "high"

[[rules]]
id = "fuzz-private-key"
name = "Fuzz private key"
keywords = ["-----begin"]
regex = '''(?s)(?P<secret>-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----)'''
window = 65536
confidence = "high"

[[rules]]
id = "fuzz-assigned-key"
name = "Fuzz assigned key"
keywords = ["secret_key"]
regex = '''secret_key\s*=\s*(?P<secret>[A-Za-z0-9]{24})\b'''
confidence = "medium"
"#;

const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

struct Fixture {
    masker: Masker,
    tokens: Vec<String>,
    /// Per token: the base64 of a line holding it, and the characters of it that only
    /// the token determines.
    encoded_lines: Vec<(String, String)>,
    literal: String,
    literal_b64: String,
}

/// The characters of `base64(data)` that only `data[offset..offset + len]` determines.
fn encoded_core(data: &[u8], offset: usize, len: usize) -> String {
    base64(data)[(8 * offset).div_ceil(6)..8 * (offset + len) / 6].to_string()
}

fn base64(data: &[u8]) -> String {
    const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                B64[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    out
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let rules = RuleSetBuilder::new()
            .add_toml("fuzz.toml", RULES)
            .expect("fuzz rules load")
            .build()
            .expect("fuzz rules build");
        let matcher = Arc::new(Matcher::new(rules, MatcherOptions::default()));
        let mut rng = Rng::new(0x5eed);
        let tokens: Vec<String> = (0..3)
            .map(|_| format!("tok_{}", rng.string(ALNUM, 32)))
            .collect();
        let encoded_lines = tokens
            .iter()
            .map(|t| {
                let line = format!("API_TOKEN={t}");
                (
                    base64(line.as_bytes()),
                    encoded_core(line.as_bytes(), 10, t.len()),
                )
            })
            .collect();
        let literal = rng.string(ALNUM, 20);
        let literal_b64 = base64(literal.as_bytes());
        Fixture {
            masker: Masker::new(matcher, vec![literal.clone().into_bytes()]),
            tokens,
            encoded_lines,
            literal,
            literal_b64,
        }
    })
}

/// Hands out one part per read, so part boundaries are read boundaries.
struct PartsReader(VecDeque<Vec<u8>>);

impl Read for PartsReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let Some(front) = self.0.front_mut() else {
            return Ok(0);
        };
        let n = front.len().min(buf.len());
        buf[..n].copy_from_slice(&front[..n]);
        front.drain(..n);
        if front.is_empty() {
            self.0.pop_front();
        }
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let [held, seed, body @ ..] = data else {
        return;
    };
    let fx = fixture();
    // Text that already spells a planted token (libFuzzer learns it from comparisons) may
    // glue it to a word, where no rule should find it: not a masking failure.
    if fx
        .tokens
        .iter()
        .any(|t| contains(body, &t.as_bytes()[4..12]))
    {
        return;
    }
    // Likewise an encoded core copied into the text: glued to other base64 letters it is
    // no longer base64 of the token (the alignment is lost), and nothing should decode it.
    if fx
        .encoded_lines
        .iter()
        .any(|(_, core)| contains(body, &core.as_bytes()[..12.min(core.len())]))
    {
        return;
    }
    let mut input = Vec::with_capacity(body.len() * 2);
    let mut planted = 0;
    // The cores of the literal's base64 that were planted wrapped.
    let mut wrapped_cores = Vec::new();
    for &b in body {
        let token = &fx.tokens[planted % fx.tokens.len()];
        match b {
            1 => {
                input.extend_from_slice(format!(" {token} ").as_bytes());
                planted += 1;
            }
            2 => input.extend_from_slice(format!(" {} ", fx.literal).as_bytes()),
            3 => input.extend_from_slice(format!(" {} ", fx.literal_b64).as_bytes()),
            4 => {
                let (head, rest) = token.split_at(4);
                input.extend_from_slice(
                    format!(" \x1b[01;31m\x1b[K{head}\x1b[m\x1b[K{rest} ").as_bytes(),
                );
                planted += 1;
            }
            5 => {
                let encoded = &fx.encoded_lines[planted % fx.tokens.len()].0;
                input.extend_from_slice(format!(" {encoded} ").as_bytes());
                planted += 1;
            }
            6 => {
                let user = "u".repeat(1 + wrapped_cores.len() % 60);
                let json = format!(
                    "{{\"auths\":{{\"ghcr.io\":{{\"auth\":\"{user}:{}\"}}}}}}",
                    fx.literal
                );
                let offset = json.find(&fx.literal).expect("the literal is in it");
                wrapped_cores.push(encoded_core(json.as_bytes(), offset, fx.literal.len()));
                input.push(b'\n');
                for line in base64(json.as_bytes()).as_bytes().chunks(76) {
                    input.extend_from_slice(line);
                    input.push(b'\n');
                }
            }
            _ => input.push(b),
        }
    }
    let mut rng = Rng::new(u64::from(*seed));
    let mut parts = VecDeque::new();
    let mut rest = &input[..];
    while !rest.is_empty() {
        let n = (1 + (rng.next_u64() % 3000) as usize).min(rest.len());
        parts.push_back(rest[..n].to_vec());
        rest = &rest[n..];
    }
    let opts = MaskOptions {
        flush_each_read: false,
        max_held_bytes: 1024 * (1 + usize::from(*held % 4)),
        max_block_lines: 1 + usize::from(*held / 4),
    };
    let mut out = Vec::new();
    let stats = fx
        .masker
        .mask_stream(PartsReader(parts), &mut out, &opts)
        .expect("masking into memory succeeds");
    assert_eq!(stats.bytes_read, input.len() as u64);
    for (t, (_, core)) in fx.tokens.iter().zip(&fx.encoded_lines) {
        // Its characters after the public prefix: also what colour codes break up.
        assert!(
            !contains(&out, &t.as_bytes()[4..]),
            "a planted token survived"
        );
        assert!(
            !contains(&out, core.as_bytes()),
            "a planted token survived in base64"
        );
    }
    if !wrapped_cores.is_empty() {
        let joined: Vec<u8> = out
            .iter()
            .copied()
            .filter(|&b| b != b'\n' && b != b'\r')
            .collect();
        for core in &wrapped_cores {
            assert!(
                !contains(&joined, core.as_bytes()),
                "the literal's wrapped base64 survived"
            );
        }
    }
    assert!(
        !contains(&out, fx.literal.as_bytes()),
        "the literal survived"
    );
    assert!(
        !contains(&out, fx.literal_b64.as_bytes()),
        "the literal's base64 survived"
    );
});
