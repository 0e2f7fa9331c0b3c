//! A quick single-thread throughput measurement of the masker on build-log-like input.
//!
//! ```sh
//! cargo run --release -p unleak-mask --example throughput -- gen 200 > /tmp/build.log
//! time cat /tmp/build.log > /dev/null
//! time cargo run --release -p unleak-mask --example throughput < /tmp/build.log > /dev/null
//! ```
//!
//! `gen MIB` writes a generated log of about MIB mebibytes (timestamps, ANSI colours,
//! CRLF lines, invalid UTF-8, about one line in fifty with a keyword and one in a
//! thousand with a token). Without arguments it masks stdin to stdout with the built-in
//! catalog plus a few generic rules (so the prefilter also sees common keywords such as
//! `token` and `password`) and prints the rate to stderr.

use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::Instant;
use unleak_mask::{MaskOptions, Masker};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_rules::generate::Rng;
use unleak_rules::RuleSetBuilder;

const EXTRA_RULES: &str = r#"
[[rules]]
id = "bench-token"
name = "Bench token"
keywords = ["tok_"]
regex = '''\b(?P<secret>tok_[A-Za-z0-9]{32})\b'''
prefix = "tok_"
confidence = "high"

[[rules]]
id = "bench-assigned-secret"
name = "Bench assigned secret"
keywords = ["password", "secret", "token", "api_key", "apikey", "bearer"]
regex = '''(?i)(?:password|secret|token|api_?key|bearer)["']?\s*[:=]?\s*["']?(?P<secret>[A-Za-z0-9_\-+/]{16,64})'''
min_entropy = 3.5
confidence = "medium"

[[rules]]
id = "bench-private-key"
name = "Bench private key"
keywords = ["-----begin"]
regex = '''(?s)(?P<secret>-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----)'''
window = 65536
confidence = "high"
"#;

const ALNUM: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn generate(mib: usize) -> std::io::Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let mut rng = Rng::new(1);
    let mut written = 0;
    let mut n = 0u64;
    while written < mib << 20 {
        n += 1;
        let ts = format!(
            "2025-03-01T12:{:02}:{:02}.{:03}Z ",
            n % 60,
            n * 7 % 60,
            n % 1000
        );
        let line: Vec<u8> = match rng.next_u64() % 1000 {
            0 => format!("{ts}deploy with tok_{}\n", rng.string(ALNUM, 32)).into(),
            1..=20 => {
                format!("{ts}refreshing token cache ({n} entries), password policy ok\n").into()
            }
            21..=150 => b"\x1b[32m   Compiling\x1b[0m serde_json v1.0.128 (registry)\r\n".to_vec(),
            151..=160 => {
                let mut l = ts.into_bytes();
                l.extend_from_slice(b"warning: invalid bytes \xff\xfe in test output\n");
                l
            }
            161..=300 => format!("test tests::case_{n} ... ok\n").into(),
            _ => format!(
                "{ts}[DEBUG] worker-{} processed batch {n} in {}ms: {}\n",
                n % 8,
                n % 97,
                rng.string(ALNUM, 24)
            )
            .into(),
        };
        written += line.len();
        out.write_all(&line)?;
    }
    out.flush()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [cmd, mib] = args.as_slice() {
        if cmd == "gen" {
            generate(mib.parse()?)?;
            return Ok(());
        }
    }
    let mut builder = RuleSetBuilder::new();
    builder.add_builtin()?;
    builder.add_toml("bench.toml", EXTRA_RULES)?;
    let matcher = Matcher::new(builder.build()?, MatcherOptions::default());
    let masker = Masker::new(Arc::new(matcher), vec![b"a-registered-ci-secret".to_vec()]);
    let started = Instant::now();
    let stats = masker.mask_stream(
        std::io::stdin().lock(),
        std::io::stdout().lock(),
        &MaskOptions::default(),
    )?;
    let secs = started.elapsed().as_secs_f64();
    let mib = stats.bytes_read as f64 / (1 << 20) as f64;
    eprintln!(
        "masked {mib:.1} MiB in {secs:.3} s: {:.0} MiB/s, {} replacements",
        mib / secs,
        stats.masked
    );
    Ok(())
}
