//! The masker end to end on generated logs: planted secrets are masked, every other byte
//! passes unchanged, however the input is split into reads.

use std::collections::VecDeque;
use std::io::{BufWriter, Read, Write};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use unleak_core::redact;
use unleak_mask::{MaskOptions, MaskStats, Masker, ShortLiteral};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_rules::generate::Rng;
use unleak_rules::RuleSetBuilder;

const RULES: &str = r#"
[[rules]]
id = "test-token"
name = "Test token"
keywords = ["tok_"]
regex = '''\b(?P<secret>tok_[A-Za-z0-9]{32})\b'''
prefix = "tok_"
confidence = "high"

[[rules]]
id = "test-private-key"
name = "Test private key"
keywords = ["-----begin"]
regex = '''(?s)(?P<secret>-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----)'''
window = 65536
confidence = "high"

[[rules]]
id = "test-assigned-key"
name = "Test assigned key"
keywords = ["secret_key"]
regex = '''secret_key\s*=\s*(?P<secret>[A-Za-z0-9]{24})\b'''
confidence = "medium"
"#;

const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn masker(literals: Vec<Vec<u8>>) -> Masker {
    let rules = RuleSetBuilder::new()
        .add_toml("test.toml", RULES)
        .unwrap()
        .build()
        .unwrap();
    Masker::new(
        Arc::new(Matcher::new(rules, MatcherOptions::default())),
        literals,
    )
}

fn token(rng: &mut Rng) -> String {
    format!("tok_{}", rng.string(ALNUM, 32))
}

/// What the masker must print for a planted token.
fn token_mask(token: &str) -> String {
    redact(token.as_bytes(), 4)
}

/// A reader that hands out its parts one read each (split further only if the caller's
/// buffer is smaller), so every part boundary is a read boundary.
struct PartsReader(VecDeque<Vec<u8>>);

impl PartsReader {
    fn split(data: &[u8], mut next_len: impl FnMut() -> usize) -> Self {
        let mut parts = VecDeque::new();
        let mut rest = data;
        while !rest.is_empty() {
            let n = next_len().clamp(1, rest.len());
            parts.push_back(rest[..n].to_vec());
            rest = &rest[n..];
        }
        PartsReader(parts)
    }
}

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

fn mask_reader(m: &Masker, input: impl Read, opts: &MaskOptions) -> (Vec<u8>, MaskStats) {
    let mut out = Vec::new();
    let stats = m
        .mask_stream(input, &mut out, opts)
        .expect("masking succeeds");
    (out, stats)
}

fn mask_all(m: &Masker, input: &[u8]) -> Vec<u8> {
    mask_reader(m, input, &MaskOptions::default()).0
}

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A build log with tokens and one PEM block planted, and the output it must give.
struct Log {
    input: Vec<u8>,
    expected: Vec<u8>,
    tokens: Vec<String>,
    planted: u64,
}

impl Log {
    fn both(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
        self.expected.extend_from_slice(bytes);
    }

    fn secret(&mut self, raw: &str, masked: &str) {
        self.input.extend_from_slice(raw.as_bytes());
        self.expected.extend_from_slice(masked.as_bytes());
        self.planted += 1;
    }

    fn plant_token(&mut self, rng: &mut Rng) {
        let t = token(rng);
        self.secret(&t, &token_mask(&t));
        self.tokens.push(t);
    }
}

fn generated_log(seed: u64, lines: usize) -> Log {
    let mut rng = Rng::new(seed);
    let mut log = Log {
        input: Vec::new(),
        expected: Vec::new(),
        tokens: Vec::new(),
        planted: 0,
    };
    for n in 0..lines {
        let ts = format!(
            "2025-03-{:02}T12:{:02}:{:02}.{:03}Z ",
            n % 28 + 1,
            n % 60,
            (n * 7) % 60,
            n % 1000
        );
        if n % 700 == 350 {
            log.both(b"key material follows:\n");
            let mut block = String::from("-----BEGIN RSA PRIVATE KEY-----\n");
            for _ in 0..25 {
                block.push_str(&rng.string(B64, 64));
                block.push('\n');
            }
            block.push_str("-----END RSA PRIVATE KEY-----");
            log.secret(&block, &redact(block.as_bytes(), 0));
            log.both(b"\nafter the key\n");
            continue;
        }
        match rng.next_u64() % 10 {
            0 => {
                log.both(format!("{ts}[INFO] deploying with API_TOKEN=").as_bytes());
                log.plant_token(&mut rng);
                log.both(b"\n");
            }
            1 => {
                log.both(b"\x1b[1;31merror\x1b[0m: auth failed for ");
                log.plant_token(&mut rng);
                log.both(b" and \"");
                log.plant_token(&mut rng);
                log.both(b"\"\r\n");
            }
            2 => log.both(b"\x1b[32m   Compiling\x1b[0m serde v1.0.210\r\n"),
            3 => {
                log.both(ts.as_bytes());
                log.both(b"bytes \xff\xfe\x00\x01 in output \x80\n");
            }
            // Keyword hits that are not secrets must come through unchanged.
            4 => log.both(
                format!(
                    "{ts}tokenizer: tok_short, TOK_ and tok_{}!\n",
                    rng.string(ALNUM, 12)
                )
                .as_bytes(),
            ),
            5 => log.both(
                b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n",
            ),
            6 => log.both(b"------------------------------------------------------------\n"),
            7 => log.both(format!("test result: ok. {} passed; 0 failed\n", n).as_bytes()),
            _ => log.both(format!("{ts}[DEBUG] step {n}: {}\n", rng.string(ALNUM, 40)).as_bytes()),
        }
    }
    log.both(b"last line without a newline ");
    log.plant_token(&mut rng);
    log
}

#[test]
fn every_planted_secret_is_masked_and_nothing_else_changes() {
    let m = masker(Vec::new());
    let log = generated_log(7, 4000);
    assert!(log.tokens.len() > 500, "the log plants enough tokens");
    let (out, stats) = mask_reader(&m, &log.input[..], &MaskOptions::default());
    assert_eq!(stats.masked, log.planted);
    assert_eq!(stats.bytes_read, log.input.len() as u64);
    for t in &log.tokens {
        assert!(
            memchr::memmem::find(&out, t.as_bytes()).is_none(),
            "a token leaked"
        );
    }
    assert!(memchr::memmem::find(&out, b"PRIVATE KEY-----\n").is_none());
    assert!(
        out == log.expected,
        "output differs from the expected masking"
    );
}

#[test]
fn the_same_output_comes_whatever_the_read_sizes() {
    let m = masker(Vec::new());
    let log = generated_log(11, 1500);
    for (seed, max) in [(1, 3), (2, 40), (3, 700), (4, 70_000)] {
        let mut rng = Rng::new(seed);
        let reader = PartsReader::split(&log.input, || (rng.next_u64() % max) as usize + 1);
        let (out, _) = mask_reader(&m, reader, &MaskOptions::default());
        assert!(
            out == log.expected,
            "reads of up to {max} bytes change the output"
        );
    }
}

#[test]
fn a_token_split_across_two_reads_is_masked() {
    let m = masker(Vec::new());
    let t = token(&mut Rng::new(3));
    let (first, second) = t.split_at(17);
    let parts = [
        format!("deploy --token {first}"),
        format!("{second} --yes\n"),
    ];
    let reader = PartsReader(parts.iter().map(|p| p.as_bytes().to_vec()).collect());
    let (out, stats) = mask_reader(&m, reader, &MaskOptions::default());
    assert_eq!(
        show(&out),
        format!("deploy --token {} --yes\n", token_mask(&t))
    );
    assert_eq!(stats.masked, 1);
}

#[test]
fn a_pem_block_is_masked_as_one_and_lines_around_it_stay() {
    let m = masker(Vec::new());
    let mut rng = Rng::new(5);
    let body: String = (0..30)
        .map(|_| format!("{}\r\n", rng.string(B64, 64)))
        .collect();
    let block =
        format!("-----BEGIN OPENSSH PRIVATE KEY-----\r\n{body}-----END OPENSSH PRIVATE KEY-----");
    let input = format!("before\n{block}\r\nafter\n");
    // One line per read: the block must be held across reads.
    let reader = PartsReader(
        input
            .split_inclusive('\n')
            .map(|l| l.as_bytes().to_vec())
            .collect(),
    );
    let (out, stats) = mask_reader(&m, reader, &MaskOptions::default());
    assert_eq!(
        show(&out),
        format!("before\n{}\r\nafter\n", redact(block.as_bytes(), 0))
    );
    assert_eq!(stats.masked, 1);
}

#[test]
fn a_pem_block_without_end_is_released_at_the_line_bound() {
    let m = masker(Vec::new());
    let mut rng = Rng::new(6);
    let mut input = String::from("-----BEGIN PRIVATE KEY-----\n");
    for _ in 0..1000 {
        input.push_str(&rng.string(B64, 64));
        input.push('\n');
    }
    let opts = MaskOptions {
        max_block_lines: 50,
        ..MaskOptions::default()
    };
    let reader = PartsReader::split(input.as_bytes(), || 100);
    let (out, stats) = mask_reader(&m, reader, &opts);
    assert!(out == input.as_bytes());
    assert!(
        stats.held_peak < 51 * 65 + 100,
        "held {} bytes",
        stats.held_peak
    );
}

#[test]
fn binary_garbage_passes_unchanged() {
    let m = masker(vec![b"literal-value-1".to_vec()]);
    let mut rng = Rng::new(9);
    let garbage: Vec<u8> = (0..(1 << 20) / 8)
        .flat_map(|_| rng.next_u64().to_le_bytes())
        .collect();
    assert!(garbage.contains(&0));
    let reader = PartsReader::split(&garbage, || (rng.next_u64() % 9000) as usize + 1);
    let (out, stats) = mask_reader(&m, reader, &MaskOptions::default());
    assert!(out == garbage, "binary input changed");
    assert_eq!(stats.masked, 0);
}

#[test]
fn a_partial_last_line_is_written_at_the_end() {
    let m = masker(Vec::new());
    assert_eq!(
        mask_all(&m, b"one\nno newline here"),
        b"one\nno newline here"
    );
    let t = token(&mut Rng::new(4));
    assert_eq!(
        show(&mask_all(&m, format!("one\r\nlast={t}").as_bytes())),
        format!("one\r\nlast={}", token_mask(&t))
    );
}

#[test]
fn a_very_long_line_is_masked_in_bounded_memory() {
    let m = masker(Vec::new());
    let mut rng = Rng::new(12);
    let (mut input, mut expected) = (Vec::new(), Vec::new());
    let mut tokens = 0;
    let mut token_starts = Vec::new();
    while input.len() < 5 << 20 {
        if rng.next_u64().is_multiple_of(2000) {
            let t = token(&mut rng);
            token_starts.push(input.len());
            input.extend_from_slice(t.as_bytes());
            expected.extend_from_slice(token_mask(&t).as_bytes());
            tokens += 1;
        } else {
            let len = (rng.next_u64() % 12) as usize + 1;
            let word = rng.string(ALNUM, len);
            input.extend_from_slice(word.as_bytes());
            expected.extend_from_slice(word.as_bytes());
        }
        let sep: &[u8] = if rng.next_u64().is_multiple_of(3) {
            b"="
        } else {
            b" "
        };
        input.extend_from_slice(sep);
        expected.extend_from_slice(sep);
    }
    assert!(tokens > 50);
    let opts = MaskOptions::default();
    // The first read ends inside a token, past the hold bound: the piece written then
    // must stop before the token.
    let split_token = *token_starts.iter().find(|&&p| p > 70_000).unwrap();
    let mut first = Some(split_token + 10);
    let reader = PartsReader::split(&input, || first.take().unwrap_or(65_537));
    let (out, stats) = mask_reader(&m, reader, &opts);
    assert!(out == expected, "long line masked differently");
    assert_eq!(stats.masked, tokens);
    assert!(
        stats.held_peak <= opts.max_held_bytes,
        "held {}",
        stats.held_peak
    );

    // Without any place to cut, it still streams through unchanged and bounded.
    let solid = rng.string(ALNUM, 5 << 20).into_bytes();
    let (out, stats) = mask_reader(&m, &solid[..], &opts);
    assert!(out == solid);
    assert!(
        stats.held_peak <= opts.max_held_bytes,
        "held {}",
        stats.held_peak
    );
}

#[test]
fn a_value_after_a_cut_in_a_long_line_is_found_by_its_keyword_before_the_cut() {
    let m = masker(Vec::new());
    let value = Rng::new(15).string(ALNUM, 24);
    let head = format!("{} secret_key = ", "x".repeat(3000));
    let parts = [
        head.clone().into_bytes(),
        format!("{value} done\n").into_bytes(),
    ];
    let opts = MaskOptions {
        max_held_bytes: 1024,
        ..MaskOptions::default()
    };
    let (out, stats) = mask_reader(&m, PartsReader(parts.into()), &opts);
    assert_eq!(
        show(&out),
        format!("{head}{} done\n", redact(value.as_bytes(), 0))
    );
    assert!(stats.held_peak <= 1024);
}

/// Independent encoders for the literal tests.
fn base64(data: &[u8]) -> String {
    let alphabet = B64.as_bytes();
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let mut group = [0u8; 3];
        group[..chunk.len()].copy_from_slice(chunk);
        let n = u32::from_be_bytes([0, group[0], group[1], group[2]]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn url_encode(data: &[u8]) -> String {
    data.iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn literal_values_and_their_encodings_are_masked() {
    let value = format!("p@ss w/rd:{}", Rng::new(21).string(ALNUM, 16));
    let m = masker(vec![value.as_bytes().to_vec()]);
    assert!(m.warnings().is_empty());
    let b64 = base64(value.as_bytes());
    assert!(b64.ends_with('='));
    let cases = [
        (
            format!("password is {value}\n"),
            "password is ***\n".to_string(),
        ),
        (format!("auth {b64}\n"), "auth ***\n".to_string()),
        (
            format!("auth {}\r\n", b64.trim_end_matches('=')),
            "auth ***\r\n".to_string(),
        ),
        (
            format!("GET /login?pw={}&x=1\n", url_encode(value.as_bytes())),
            "GET /login?pw=***&x=1\n".to_string(),
        ),
    ];
    for (input, expected) in &cases {
        assert_eq!(show(&mask_all(&m, input.as_bytes())), *expected);
    }

    // Inside a larger blob only the value's own characters are known; none of them may
    // survive, whatever the value's alignment.
    for user in ["user", "admin", "ci"] {
        let blob = base64(format!("{user}:{value}").as_bytes());
        let input = format!("Authorization: Basic {blob}\n");
        let out = show(&mask_all(&m, input.as_bytes()));
        assert!(out.contains("***"), "{out}");
        let value_chars = &blob[(user.len() + 1) * 4 / 3 + 2..blob.len() - 4];
        for i in 0..value_chars.len() - 6 {
            assert!(!out.contains(&value_chars[i..i + 6]), "{out}");
        }
    }
}

#[test]
fn short_literals_are_ignored_with_a_warning() {
    let m = masker(vec![b"ab".to_vec(), Vec::new(), b"longer-value".to_vec()]);
    assert_eq!(
        m.warnings(),
        [
            ShortLiteral { index: 0, len: 2 },
            ShortLiteral { index: 1, len: 0 }
        ]
    );
    assert_eq!(
        show(&mask_all(&m, b"a cab: ab longer-value\n")),
        "a cab: ab ***\n"
    );
}

/// A reader fed by a channel: it blocks until the test sends more, and ends when the
/// sender is dropped.
struct ChannelReader(mpsc::Receiver<Vec<u8>>);

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self.0.recv() {
            Ok(chunk) => {
                buf[..chunk.len()].copy_from_slice(&chunk);
                Ok(chunk.len())
            }
            Err(_) => Ok(0),
        }
    }
}

struct ChannelWriter(mpsc::Sender<Vec<u8>>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.send(buf.to_vec()).expect("the test is listening");
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Wait for `expected` to come out of the masker. The timeout only keeps a broken masker
/// from hanging the test run.
fn receive(rx: &mpsc::Receiver<Vec<u8>>, expected: &str) {
    let mut got = Vec::new();
    while got.len() < expected.len() {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(chunk) => got.extend(chunk),
            Err(_) => panic!("no output before the end of input; so far: {}", show(&got)),
        }
    }
    assert_eq!(show(&got), expected);
}

#[test]
fn each_line_is_written_and_flushed_before_the_input_ends() {
    let m = masker(Vec::new());
    let (in_tx, in_rx) = mpsc::channel();
    let (out_tx, out_rx) = mpsc::channel();
    let t = token(&mut Rng::new(8));
    std::thread::scope(|s| {
        let worker = s.spawn(|| {
            // Buffered: only a flush gets the line to the test.
            let out = BufWriter::new(ChannelWriter(out_tx));
            m.mask_stream(ChannelReader(in_rx), out, &MaskOptions::default())
        });
        in_tx.send(b"step 1 ok\n".to_vec()).unwrap();
        receive(&out_rx, "step 1 ok\n");
        in_tx
            .send(format!("using {}", &t[..10]).into_bytes())
            .unwrap();
        in_tx
            .send(format!("{}\nstep 2", &t[10..]).into_bytes())
            .unwrap();
        receive(&out_rx, &format!("using {}\n", token_mask(&t)));
        drop(in_tx);
        receive(&out_rx, "step 2");
        let stats = worker.join().unwrap().unwrap();
        assert_eq!(stats.masked, 1);
    });
}

#[cfg(unix)]
mod wrapped {
    use super::*;
    use std::ffi::{OsStr, OsString};
    use unleak_mask::{run_wrapped_to, MaskError, WrappedRun};

    fn run(m: &Masker, script: &str) -> (WrappedRun, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let args = [OsString::from("-c"), OsString::from(script)];
        let run = run_wrapped_to(
            OsStr::new("sh"),
            &args,
            m,
            &MaskOptions::default(),
            &mut out,
            &mut err,
        )
        .expect("sh runs");
        (run, show(&out), show(&err))
    }

    #[test]
    fn both_streams_are_masked_and_the_exit_code_comes_back() {
        let m = masker(Vec::new());
        let mut rng = Rng::new(13);
        let (a, b) = (token(&mut rng), token(&mut rng));
        let (run, out, err) = run(
            &m,
            &format!("echo \"out {a}\"; echo \"err {b}\" >&2; exit 7"),
        );
        assert_eq!(run.exit_code, 7);
        assert_eq!(out, format!("out {}\n", token_mask(&a)));
        assert_eq!(err, format!("err {}\n", token_mask(&b)));
        assert_eq!((run.stdout.masked, run.stderr.masked), (1, 1));
    }

    #[test]
    fn a_token_written_in_two_halves_is_masked() {
        let m = masker(Vec::new());
        let t = token(&mut Rng::new(14));
        let (first, second) = t.split_at(20);
        let (run, out, _) = run(
            &m,
            &format!("printf 'half {first}'; sleep 0.2; printf '{second} done\\n'"),
        );
        assert_eq!(run.exit_code, 0);
        assert_eq!(out, format!("half {} done\n", token_mask(&t)));
    }

    #[test]
    fn death_by_signal_is_128_plus_the_signal() {
        let m = masker(Vec::new());
        let (run, _, _) = run(&m, "kill -TERM $$");
        assert_eq!(run.exit_code, 128 + 15);
    }

    #[test]
    fn a_missing_command_is_a_clear_error() {
        let m = masker(Vec::new());
        let err = run_wrapped_to(
            OsStr::new("unleak-test-no-such-command"),
            &[OsString::from("--secret-arg")],
            &m,
            &MaskOptions::default(),
            Vec::new(),
            Vec::new(),
        )
        .unwrap_err();
        assert!(matches!(err, MaskError::Spawn { .. }));
        let text = err.to_string();
        assert!(
            text.contains("cannot run `unleak-test-no-such-command`"),
            "{text}"
        );
        assert!(!text.contains("--secret-arg"), "{text}");
    }
}

// Audit B8: `unleak mask` must mask what `unleak scan` finds.

/// `data` in base64 wrapped at `width` columns, as `base64` (76) or PEM (64) print it.
fn wrapped_base64(data: &[u8], width: usize) -> String {
    let encoded = base64(data);
    let mut out = String::new();
    for line in encoded.as_bytes().chunks(width) {
        out.push_str(std::str::from_utf8(line).unwrap());
        out.push('\n');
    }
    out
}

/// The base64 characters that only `value` determines when it starts `offset` bytes into
/// the encoded data: none of them may survive masking.
fn encoded_core(data: &[u8], offset: usize, len: usize) -> String {
    let encoded = base64(data);
    encoded[(8 * offset).div_ceil(6)..8 * (offset + len) / 6].to_string()
}

/// Whether any `n`-character piece of `secret` occurs in `out`.
fn leaks_piece(out: &[u8], secret: &str, n: usize) -> Option<String> {
    (0..=secret.len().saturating_sub(n))
        .map(|i| &secret[i..i + n])
        .find(|piece| memchr::memmem::find(out, piece.as_bytes()).is_some())
        .map(str::to_string)
}

#[test]
fn bare_base64_of_a_line_with_a_token_is_masked_whole() {
    let m = masker(Vec::new());
    let t = token(&mut Rng::new(31));
    for text in [
        format!("API_TOKEN={t}"),
        format!("x-access-token:{t}"),
        format!("deploy --token {t} --yes"),
    ] {
        let encoded = base64(text.as_bytes());
        for end in ["", "\n", "\r\n"] {
            let input = format!("{encoded}{end}");
            let out = mask_all(&m, input.as_bytes());
            assert_eq!(show(&out), format!("{}{end}", token_mask(&t)), "{text:?}");
        }
        // Inside a line, only the run goes.
        let input = format!("payload: {encoded} (sent)\n");
        assert_eq!(
            show(&mask_all(&m, input.as_bytes())),
            format!("payload: {} (sent)\n", token_mask(&t))
        );
    }
}

/// The other encodings the matcher decodes, on lines without a keyword.
#[test]
fn hex_escaped_and_url_encoded_tokens_are_masked() {
    let m = masker(Vec::new());
    let t = token(&mut Rng::new(41));
    let text = format!("API_TOKEN={t}");
    let hex: String = text.bytes().map(|b| format!("\\x{b:02x}")).collect();
    let url: String = text
        .bytes()
        .map(|b| match b {
            b'=' | b'_' => format!("%{b:02X}"),
            _ => (b as char).to_string(),
        })
        .collect();
    for encoded in [hex, url] {
        let out = mask_all(&m, format!("s = '{encoded}'\n").as_bytes());
        assert!(
            leaks_piece(&out, &encoded[encoded.len() - 40..], 12).is_none(),
            "{}",
            show(&out)
        );
        assert!(out.starts_with(b"s = '") && out.ends_with(b"'\n"));
    }
}

/// `grep --color` highlighting a match inside a base64 run.
#[test]
fn base64_broken_up_by_colour_codes_is_masked() {
    let m = masker(Vec::new());
    let t = token(&mut Rng::new(42));
    let encoded = base64(format!("API_TOKEN={t}").as_bytes());
    let input = format!(
        "{}\x1b[01;31m\x1b[K{}\x1b[m\x1b[K{}\n",
        &encoded[..10],
        &encoded[10..14],
        &encoded[14..]
    );
    assert_eq!(
        show(&mask_all(&m, input.as_bytes())),
        format!("{}\x1b[01;31m\x1b[K\x1b[m\x1b[K\n", token_mask(&t))
    );
}

#[test]
fn a_token_broken_up_by_colour_codes_is_masked_and_the_codes_kept() {
    let t = token(&mut Rng::new(32));
    let m = masker(Vec::new());
    // `grep --color=always tok_`: the keyword highlighted, the rest after a reset.
    let (head, rest) = t.split_at(4);
    let input = format!("API_TOKEN=\x1b[01;31m\x1b[K{head}\x1b[m\x1b[K{rest} ok\n");
    assert_eq!(
        show(&mask_all(&m, input.as_bytes())),
        format!(
            "API_TOKEN=\x1b[01;31m\x1b[K{}\x1b[m\x1b[K ok\n",
            token_mask(&t)
        )
    );
    // Codes inside the keyword and in the middle of the value, and an OSC title.
    let input = format!(
        "\x1b]0;build\x07to\x1b[1mk_{}\x1b[0m{}\x1b(B\n",
        &t[4..20],
        &t[20..]
    );
    let out = mask_all(&m, input.as_bytes());
    assert_eq!(
        show(&out),
        format!("\x1b]0;build\x07{}\x1b[1m\x1b[0m\x1b(B\n", token_mask(&t))
    );
    // A whole token right after what reads as an escape sequence is masked as it stands.
    let input = format!("\x1b[{t} done\n");
    assert_eq!(
        show(&mask_all(&m, input.as_bytes())),
        format!("\x1b[{} done\n", token_mask(&t))
    );
    // A literal value coloured the same way.
    let value = Rng::new(33).string(ALNUM, 24);
    let m = masker(vec![value.as_bytes().to_vec()]);
    let input = format!(
        "pw=\x1b[01;31m\x1b[K{}\x1b[m\x1b[K{}\n",
        &value[..5],
        &value[5..]
    );
    assert_eq!(
        show(&mask_all(&m, input.as_bytes())),
        "pw=\x1b[01;31m\x1b[K***\x1b[m\x1b[K\n"
    );
}

#[test]
fn base64_of_a_literal_cut_by_the_wrap_is_masked_at_every_offset() {
    // A value no rule finds: only the literal forms can mask it.
    let value = Rng::new(34).string(ALNUM, 40);
    let m = masker(vec![value.as_bytes().to_vec()]);
    let mut straddled = [false; 3];
    for width in [76, 64] {
        for user_len in 1..=60 {
            let user = "u".repeat(user_len);
            let json = format!("{{\"auths\":{{\"ghcr.io\":{{\"auth\":\"{user}:{value}\"}}}}}}");
            let offset = json.find(&value).unwrap();
            let mut input = format!("before\n{}after\n", wrapped_base64(json.as_bytes(), width));
            // MIME ends its lines with CRLF.
            if user_len.is_multiple_of(2) {
                input = input.replace('\n', "\r\n");
            }
            let core = encoded_core(json.as_bytes(), offset, value.len());
            let start = (8 * offset).div_ceil(6);
            if start / width != (start + core.len() - 1) / width {
                straddled[offset % 3] = true;
            }
            // Also when the block's line bound falls at any line.
            for max_block_lines in [400, 1, 2] {
                let opts = MaskOptions {
                    max_block_lines,
                    ..MaskOptions::default()
                };
                let (out, _) = mask_reader(&m, input.as_bytes(), &opts);
                let joined: Vec<u8> = out
                    .iter()
                    .copied()
                    .filter(|&b| b != b'\n' && b != b'\r')
                    .collect();
                assert!(
                    leaks_piece(&joined, &core, 8).is_none(),
                    "width {width}, offset {offset}, {max_block_lines} lines: {}",
                    show(&out)
                );
                assert_eq!(
                    out.iter().filter(|&&b| b == b'\n').count(),
                    input.matches('\n').count(),
                    "the line count stays: {input:?} {:?}",
                    show(&out)
                );
                assert!(out.starts_with(b"before") && show(&out).trim_end().ends_with("after"));
            }
        }
    }
    assert_eq!(
        straddled, [true; 3],
        "the wrap cuts the value at every offset"
    );
}

#[test]
fn a_wrapped_block_of_encoded_text_with_a_token_is_masked() {
    let m = masker(Vec::new());
    let t = token(&mut Rng::new(35));
    // The token starts near the end of the first line, so the wrap cuts it.
    let text = format!("{}API_TOKEN={t}\n", "#".repeat(45));
    let input = wrapped_base64(text.as_bytes(), 76);
    let out = mask_all(&m, input.as_bytes());
    assert_eq!(show(&out), format!("{}\n\n", token_mask(&t)));
    // Lines that do not continue a block are looked at on their own.
    let plain = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n\
                 not base64 at all\n";
    assert_eq!(show(&mask_all(&m, plain.as_bytes())), plain);
}

/// A line over the hold bound, with a token after 65535 bytes and a `/`, written in two
/// reads cut at every offset into the token: no prefix of it is ever written raw.
#[test]
fn a_long_line_cut_inside_a_token_never_writes_a_prefix_of_it() {
    let t = token(&mut Rng::new(36));
    let value = Rng::new(37).string(ALNUM, 40);
    let m = masker(vec![value.as_bytes().to_vec()]);
    for filler in [b'a', b'/', b' '] {
        let head = String::from_utf8(vec![filler; 65535]).unwrap();
        let coloured = format!("\x1b[01;31m\x1b[K{}\x1b[m\x1b[K{}", &t[..4], &t[4..]);
        let coloured_mask = format!("\x1b[01;31m\x1b[K{}\x1b[m\x1b[K", token_mask(&t));
        // What is written, what must come out, and what of it must not.
        for (secret, masked, plain) in [
            (t.as_str(), token_mask(&t), t.as_str()),
            (value.as_str(), "***".into(), value.as_str()),
            (coloured.as_str(), coloured_mask, &t[4..]),
        ] {
            for cut in 0..=secret.len() {
                let parts = [
                    format!("{head}/{}", &secret[..cut]).into_bytes(),
                    format!("{}/tail\n", &secret[cut..]).into_bytes(),
                ];
                let (out, stats) =
                    mask_reader(&m, PartsReader(parts.into()), &MaskOptions::default());
                assert!(
                    leaks_piece(&out, plain, 6).is_none(),
                    "cut {cut} after {:?}",
                    filler as char
                );
                assert!(
                    show(&out) == format!("{head}/{masked}/tail\n"),
                    "cut {cut} after {:?}",
                    filler as char
                );
                assert!(stats.held_peak <= MaskOptions::default().max_held_bytes);
            }
        }
    }
}

/// The same at every read size and a small bound: a long line of words, tokens and
/// base64 runs comes out as if it had been masked whole.
#[test]
fn a_long_line_comes_out_the_same_at_any_read_sizes() {
    let m = masker(Vec::new());
    let mut rng = Rng::new(38);
    let (mut input, mut expected) = (String::new(), String::new());
    while input.len() < 300_000 {
        let (raw, masked) = match rng.next_u64() % 40 {
            0 => {
                let t = token(&mut rng);
                (t.clone(), token_mask(&t))
            }
            1 => {
                let t = token(&mut rng);
                // Spaces end the run: `/` and `-` would join it to the words around.
                let encoded = base64(format!("key={t}").as_bytes());
                (format!(" {encoded} "), format!(" {} ", token_mask(&t)))
            }
            2 => {
                let len = (rng.next_u64() % 9000) as usize;
                let run = rng.string(ALNUM, len);
                (run.clone(), run)
            }
            _ => {
                let len = (rng.next_u64() % 12) as usize + 1;
                let word = rng.string(ALNUM, len);
                (word.clone(), word)
            }
        };
        let sep = ["/", " ", ".", "-"][(rng.next_u64() % 4) as usize];
        input.push_str(&raw);
        input.push_str(sep);
        expected.push_str(&masked);
        expected.push_str(sep);
    }
    input.push('\n');
    expected.push('\n');
    for (seed, max, held) in [
        (1, 5000, 64 * 1024),
        (2, 70_000, 64 * 1024),
        (3, 3000, 16 * 1024),
    ] {
        let mut rng = Rng::new(seed);
        let reader = PartsReader::split(input.as_bytes(), || (rng.next_u64() % max) as usize + 1);
        let opts = MaskOptions {
            max_held_bytes: held,
            ..MaskOptions::default()
        };
        let (out, stats) = mask_reader(&m, reader, &opts);
        assert!(
            show(&out) == expected,
            "reads of up to {max} bytes, bound {held}, change the output"
        );
        assert!(stats.held_peak <= held, "held {}", stats.held_peak);
    }
}

/// Base64 of a text longer than the hold bound, on one line: the token inside is found
/// in whichever piece holds it, as the pieces are cut at multiples of four characters.
#[test]
fn a_token_inside_base64_longer_than_the_bound_is_masked() {
    let m = masker(Vec::new());
    let mut rng = Rng::new(39);
    let t = token(&mut rng);
    for at in [70_000, 100_001, 130_002] {
        let text = format!(
            "{} API_TOKEN={t} {}",
            rng.string(ALNUM, at),
            rng.string(ALNUM, 60_000)
        );
        let encoded = base64(text.as_bytes());
        let offset = text.find(&t).unwrap();
        let core = encoded_core(text.as_bytes(), offset, t.len());
        let input = format!("blob={encoded}\n");
        for max in [4096, 65_536, 300_000] {
            let reader = PartsReader::split(input.as_bytes(), || max);
            let (out, _) = mask_reader(&m, reader, &MaskOptions::default());
            assert!(
                leaks_piece(&out, &core, 8).is_none(),
                "token at {at}, reads of {max}"
            );
        }
    }
}

#[test]
fn a_literal_cut_by_a_line_break_in_a_pem_block_is_masked() {
    let value = Rng::new(40).string(ALNUM, 40);
    let m = masker(vec![value.as_bytes().to_vec()]);
    let body = format!("{}{value}{}", "#".repeat(30), "#".repeat(60));
    let core = encoded_core(body.as_bytes(), 30, value.len());
    // No END line: the block is released at the end of input, unmasked but for the value.
    let input = format!(
        "-----BEGIN PRIVATE KEY-----\n{}",
        wrapped_base64(body.as_bytes(), 64)
    );
    // Also when the block reaches its line bound just before the break that cuts it.
    for max_block_lines in [400, 2] {
        let opts = MaskOptions {
            max_block_lines,
            ..MaskOptions::default()
        };
        let (out, _) = mask_reader(&m, input.as_bytes(), &opts);
        let joined: Vec<u8> = out.iter().copied().filter(|&b| b != b'\n').collect();
        assert!(leaks_piece(&joined, &core, 8).is_none(), "{}", show(&out));
        assert!(out.starts_with(b"-----BEGIN PRIVATE KEY-----\n"));
    }
}
