//! Criterion microbenchmarks of the matcher with the full built-in catalog.
//!
//! Owns: `prefilter` (the keyword search alone: `Literals`, as the matcher walks it),
//! `prefilter_overlapping_ac` (the same literals through aho-corasick's own overlapping
//! search, which the matcher used before, for comparison),
//! `scan` (the whole `Matcher::scan`), `scan_reference` (the plain path every keyword-hit
//! rule runs over the whole blob, for comparison), and the start-up cost: `load` (the
//! built-in catalog and its matcher, regexes left to compile on first use) and
//! `load_and_compile_every_regex`. The input is generated in-process and is
//! deterministic: infra-like text (YAML, .env, logs, source) dense in the words keywords
//! are made of, with one rule example (expanded by the rules' own generator) every 150
//! lines.
//!
//! Does not own: end-to-end timings against other scanners (`benches/compare.sh`).
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench matcher`.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::fmt::Write;
use std::hint::black_box;
use unleak_core::{Blob, Origin};
use unleak_matcher::{Literals, Matcher, MatcherOptions};
use unleak_rules::generate;

const BLOB_BYTES: usize = 4 << 20;

const WORDS: &[&str] = &[
    "account", "order", "user", "session", "cache", "queue", "worker", "gateway", "billing",
    "ledger", "metrics", "tenant", "region", "cluster", "node", "volume", "bucket", "stream",
    "event", "topic", "consumer", "handler", "config", "feature", "rollout", "backend", "admin",
    "health", "retry", "timeout", "limit", "quota", "customer", "product", "price", "address",
];
/// Names that carry keywords without carrying secrets: what keeps a prefilter busy.
const KEYISH: &[&str] = &[
    "cache_key",
    "token_ttl",
    "password_min_length",
    "secret_name",
    "api_version",
    "auth_mode",
    "private_key_path",
    "access_key_rotation_days",
    "session_token_header",
    "client_id",
];

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
    fn hex(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16)]))
            .collect()
    }
}

/// About `BLOB_BYTES` of infra-like text with the catalog's examples planted in it.
fn infra_blob(matcher: &Matcher) -> Vec<u8> {
    let examples: Vec<String> = matcher
        .rules()
        .rules()
        .iter()
        .flat_map(|r| {
            r.examples.iter().enumerate().filter_map(|(n, e)| {
                generate::expand(e.text(), generate::seed_for(&r.id, n))
                    .ok()
                    .map(|(text, _)| text)
            })
        })
        .collect();
    assert!(!examples.is_empty(), "the built-in catalog has examples");
    let mut rng = Rng(0x756e_6c65_616b);
    let mut out = String::with_capacity(BLOB_BYTES + 4096);
    let mut line = 0usize;
    while out.len() < BLOB_BYTES {
        line += 1;
        if line.is_multiple_of(150) {
            out.push_str(&examples[(line / 150) % examples.len()]);
            out.push('\n');
            continue;
        }
        let (a, b) = (rng.pick(WORDS), rng.pick(WORDS));
        let _ = match rng.below(6) {
            0 => writeln!(out, "  {a}_{b}: {}", rng.below(100_000)),
            1 => writeln!(out, "  {}: \"{}\"", rng.pick(KEYISH), rng.hex(8)),
            2 => writeln!(
                out,
                "{}_{}={}",
                a.to_uppercase(),
                b.to_uppercase(),
                rng.pick(WORDS)
            ),
            3 => writeln!(
                out,
                "2026-01-0{}T12:{:02}:{:02}.{:03}Z INFO [{a}] request_id={} {b}={} status=200 latency_ms={}",
                1 + rng.below(9),
                rng.below(60),
                rng.below(60),
                rng.below(1000),
                rng.hex(32),
                rng.hex(12),
                rng.below(900)
            ),
            4 => writeln!(
                out,
                "    const {a}{} = await client.{b}({a}Id, {{ timeout: {} }}); // {}",
                b.to_uppercase(),
                rng.below(60),
                rng.pick(KEYISH)
            ),
            _ => writeln!(
                out,
                "  - name: {a}-{b}\n    url: https://{a}.{b}.svc.cluster.local:8080/{}",
                rng.pick(WORDS)
            ),
        };
    }
    out.into_bytes()
}

/// The rules' keywords, searched as the matcher searches them.
fn keyword_literals(matcher: &Matcher) -> Literals {
    let mut keywords: Vec<String> = matcher.keywords().map(str::to_ascii_lowercase).collect();
    keywords.sort_unstable();
    keywords.dedup();
    Literals::new(&keywords)
}

/// The same keywords in aho-corasick's DFA, searched with its overlapping iterator (what
/// the matcher did before `Literals`).
fn keyword_automaton(matcher: &Matcher) -> AhoCorasick {
    let mut keywords: Vec<&str> = matcher.keywords().collect();
    keywords.sort_unstable();
    keywords.dedup();
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(MatchKind::Standard)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&keywords)
        .expect("keywords compile")
}

fn benches(c: &mut Criterion) {
    let rules = unleak_rules::builtin().expect("the built-in catalog compiles");
    let matcher = Matcher::new(rules, MatcherOptions::default());
    let data = infra_blob(&matcher);
    let blob = Blob::new(Origin::Stdin, &data);

    let mut group = c.benchmark_group("matcher");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(20);

    let literals = keyword_literals(&matcher);
    group.bench_function("prefilter", |b| {
        b.iter(|| {
            let mut hits = 0usize;
            literals.for_each(black_box(&data[..]), |_, _| hits += 1);
            hits
        })
    });
    let automaton = keyword_automaton(&matcher);
    group.bench_function("prefilter_overlapping_ac", |b| {
        b.iter(|| {
            automaton
                .find_overlapping_iter(black_box(&data[..]))
                .count()
        })
    });
    group.bench_function("scan", |b| b.iter(|| matcher.scan(black_box(&blob)).len()));
    group.sample_size(10);
    group.bench_function("scan_reference", |b| {
        b.iter(|| matcher.scan_reference(black_box(&blob)).len())
    });
    group.finish();

    let mut group = c.benchmark_group("startup");
    group.sample_size(10);
    // What every run pays: parse and validate the catalog, build the keyword automaton.
    // Regexes compile on first use, so a scan that triggers few rules compiles few.
    group.bench_function("load", |b| {
        b.iter(|| {
            let rules = unleak_rules::builtin().expect("the built-in catalog loads");
            Matcher::new(rules, MatcherOptions::default())
        })
    });
    // The most a scan can pay: every rule's regex compiled too.
    group.bench_function("load_and_compile_every_regex", |b| {
        b.iter(|| {
            let rules = unleak_rules::builtin().expect("the built-in catalog loads");
            for rule in rules.rules() {
                rule.regex().expect("built-in regexes compile");
            }
            Matcher::new(rules, MatcherOptions::default())
        })
    });
    group.finish();
}

criterion_group!(matcher_benches, benches);
criterion_main!(matcher_benches);
