#!/usr/bin/env bash
# Run every cargo-fuzz target in fuzz/ for SECONDS each (default 60), one after another,
# and print a table: target, executions, executions per second, new corpus units, peak
# RSS and crashes. Needs a nightly toolchain and cargo-fuzz
# (`cargo install cargo-fuzz --locked`).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Each target starts from its committed seeds (fuzz/seeds/TARGET, placeholders rather
# than tokens) plus whatever earlier runs left in fuzz/corpus/TARGET. A crash, panic,
# time-out (an input taking over 10 s) or out-of-memory (over 2 GiB) stops that target
# and leaves the input in fuzz/artifacts/TARGET/; reproduce it with
# `cargo +nightly fuzz run --sanitizer none TARGET fuzz/artifacts/TARGET/FILE`. The script
# exits 1 if any target crashed. FUZZ_SANITIZER picks the sanitizer (default `none`: the
# code under test is safe Rust, and without AddressSanitizer more inputs run in the time).
set -euo pipefail

seconds=${1:-60}
shift || true
sanitizer=${FUZZ_SANITIZER:-none}
cd "$(dirname "$0")/../fuzz"

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# Build once, then run the binaries: `cargo fuzz run` would rebuild whenever a source
# changed meanwhile, and the table is to describe one build.
cargo +nightly fuzz build --sanitizer "$sanitizer"
bin_dir=target/$(rustc +nightly -vV | sed -n 's/^host: //p')/release

logs=target/fuzz-logs
mkdir -p "$logs"
rows=()
failed=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "artifacts/$t"
    seeds=()
    [ -d "seeds/$t" ] && seeds=("seeds/$t")
    before=$(find "artifacts/$t" -type f | wc -l)
    log="$logs/$t.log"
    set +e
    "$bin_dir/$t" -artifact_prefix="artifacts/$t/" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "corpus/$t" "${seeds[@]}" >"$log" 2>&1
    rc=$?
    set -e
    after=$(find "artifacts/$t" -type f | wc -l)
    stat() { grep -m1 "^stat::$1:" "$log" | awk '{print $2}'; }
    execs=$(stat number_of_executed_units)
    rate=$(stat average_exec_per_sec)
    added=$(stat new_units_added)
    rss=$(stat peak_rss_mb)
    crashes=$((after - before))
    if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
        crashes="exit $rc"
    fi
    if [ "$crashes" != 0 ]; then
        failed=1
    fi
    rows+=("$(printf '| %s | %s | %s | %s | %s | %s |' "$t" "${execs:-?}" "${rate:-?}" \
        "${added:-?}" "${rss:-?}" "$crashes")")
done

echo
echo "Fuzzed ${seconds} s per target (sanitizer: $sanitizer) on $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| target | executions | exec/s | new units | peak RSS MiB | crashes |"
echo "|---|---:|---:|---:|---:|---|"
printf '%s\n' "${rows[@]}"
if [ "$failed" -ne 0 ]; then
    echo
    echo "Crashing inputs are in fuzz/artifacts/; logs in fuzz/target/fuzz-logs/."
    exit 1
fi
