//! Criterion microbenchmark of the git blob pipeline: `unleak_git::scan_history` over a
//! whole synthetic history (commit walk, tree reads, pack reads and delta resolution, the
//! matcher on every distinct blob, provenance), with the full built-in catalog.
//!
//! Owns: `history/threads-1` (one worker, the pipeline's per-core cost) and
//! `history/threads-default` (one per core). The repository is made once per run by
//! `benches/make_history.py` (deterministic: 600 commits, seed 7) in a scratch directory
//! outside the repository, `$BENCH_DIR` or `/tmp/unleak-bench`.
//!
//! Does not own: comparisons with other scanners on a real history (`benches/compare.sh
//! git`).
//!
//! Run: `cargo bench --manifest-path benches/Cargo.toml --bench git`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::{Path, PathBuf};
use std::process::Command;
use unleak_git::{scan_history, HistoryOptions};
use unleak_matcher::{Matcher, MatcherOptions};

const COMMITS: u32 = 600;
const SEED: u32 = 7;

/// The synthetic history, made on first use.
fn history() -> PathBuf {
    let scratch = std::env::var_os("BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/unleak-bench"));
    let repo = scratch.join(format!("criterion-history-{COMMITS}-s{SEED}"));
    if !repo.join("HEAD").exists() {
        std::fs::create_dir_all(&scratch).expect("the scratch directory can be made");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("make_history.py");
        let status = Command::new("python3")
            .arg(&script)
            .arg(&repo)
            .args([
                "--commits",
                &COMMITS.to_string(),
                "--seed",
                &SEED.to_string(),
            ])
            .status()
            .expect("python3 runs make_history.py");
        assert!(
            status.success(),
            "make_history.py failed for {}",
            repo.display()
        );
    }
    repo
}

fn benches(c: &mut Criterion) {
    let repo = history();
    let rules = unleak_rules::builtin().expect("the built-in catalog compiles");
    let matcher = Matcher::new(rules, MatcherOptions::default());
    let find = |blob: &unleak_core::Blob<'_>| matcher.scan(blob);
    let options = |threads| HistoryOptions {
        threads,
        ..HistoryOptions::default()
    };
    let first = scan_history(&repo, &find, &options(1)).expect("the history scans");
    assert!(
        first.errors.is_empty(),
        "the synthetic history reads cleanly"
    );

    let mut group = c.benchmark_group("history");
    group.throughput(Throughput::Bytes(first.bytes_scanned));
    group.sample_size(10);
    for (name, threads) in [("threads-1", 1), ("threads-default", 0)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let scan = scan_history(&repo, &find, &options(threads)).expect("scans");
                scan.findings.len()
            })
        });
    }
    group.finish();
}

criterion_group!(git, benches);
criterion_main!(git);
