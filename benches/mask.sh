#!/usr/bin/env bash
# unleak mask throughput and per-line latency, side by side with `cat` in the same run.
#
#   benches/mask.sh [--size-mib 1024] [--runs 3]
#
# Generates a build log (timestamps, ANSI colours, CRLF lines, invalid UTF-8, planted
# tokens and PEM blocks) with the unleak-mask example generator into $BENCH_DIR (outside
# the repository), then runs `cat` and `unleak mask` (full built-in catalog) on it in
# alternation under /usr/bin/time -v, and measures the latency of single lines through a
# pipe. Prints a Markdown table. It never fails on a timing.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE=1024
RUNS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) SIZE=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
BENCH_DIR=${BENCH_DIR:-/tmp/unleak-bench}
mkdir -p "$BENCH_DIR"
LOG="$BENCH_DIR/build-$SIZE.log"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$PWD/target}
cargo build --release -q -p unleak
cargo build --release -q -p unleak-mask --example throughput
UNLEAK="$CARGO_TARGET_DIR/release/unleak"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
if [ ! -s "$LOG" ]; then
  "$CARGO_TARGET_DIR/release/examples/throughput" gen "$SIZE" > "$LOG"
fi
BYTES=$(stat -c %s "$LOG")

measure() { # name, command...
  local name=$1; shift
  local out="$BENCH_DIR/time.$name.$RANDOM"
  /usr/bin/time -v -o "$out" "$@" < "$LOG" > /dev/null
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$out")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
  echo "$name $wall $rss"
}

results="$BENCH_DIR/mask-results.txt"
: > "$results"
for _ in $(seq "$RUNS"); do
  measure cat cat >> "$results"
  measure unleak-mask "$UNLEAK" mask >> "$results"
done

python3 - "$results" "$BYTES" "$UNLEAK" <<'PY'
import statistics, subprocess, sys, time
path, size, unleak = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def secs(s):
    parts = [float(p) for p in s.split(":")]
    return sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rows = {}
for line in open(path):
    name, wall, rss = line.split()
    rows.setdefault(name, []).append((secs(wall), int(rss)))
# Latency: one line in, wait for it to come out, a thousand times.
p = subprocess.Popen([unleak, "mask"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
lat = []
for i in range(1000):
    msg = b"2026-11-28T10:00:00Z step %d: Authorization: Bearer q8Zr2LmT0vXw9Ka1q8Zr2LmT0vXw%04d\n" % (i, i)
    t = time.perf_counter()
    p.stdin.write(msg)
    got = p.stdout.readline()
    lat.append(time.perf_counter() - t)
    assert b"q8Zr2LmT0vXw9Ka1" not in got, got
p.stdin.close(); p.wait()
lat.sort()
mb = size / 1e6
print(f"log: {mb:.0f} MB, {len(rows['cat'])} runs each, medians\n")
print("| tool | wall | MB/s | peak RSS | ratio to cat |")
print("|---|---|---|---|---|")
cat = statistics.median(w for w, _ in rows["cat"])
for name in ("cat", "unleak-mask"):
    w = statistics.median(x for x, _ in rows[name])
    r = statistics.median(y for _, y in rows[name])
    print(f"| {name} | {w:.2f} s | {mb / w:.0f} | {r / 1024:.1f} MB | {w / cat:.1f}× |")
print(f"\nper-line latency through `unleak mask` (1,000 lines, each with a bearer token):"
      f" median {lat[500]*1e3:.3f} ms, p99 {lat[990]*1e3:.3f} ms, max {lat[-1]*1e3:.3f} ms")
PY
