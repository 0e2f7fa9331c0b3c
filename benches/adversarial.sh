#!/usr/bin/env bash
# unleak on adversarial input (issue 14, B5 of the security audit), beside a normal corpus,
# in the same run: MB/s and peak RSS per case.
#
#   benches/adversarial.sh [--size-mib 16] [--normal-mb 50] [--runs 1] [--unleak-bin BIN]
#                          [--budget 64M] [--out FILE]
#
# Generates every case deterministically into $BENCH_DIR/adversarial (outside the
# repository): single lines of `token`, `password`, `secret`, `password=` and
# `"password": "` (--size-mib each) and the same bytes split into 96-byte lines; a flood of
# the built-in rules' keywords; keywords whose windows end inside long base64 runs; base64
# of base64 of text holding a token; one long run of the base64 alphabet; 60 and 300
# repository rules sharing one keyword (`--rules`, on 4 MiB that floods it, under
# `--memory-budget`); and the directory corpus of ../shared/bench/make_corpus.py. Each runs
# under /usr/bin/time -v, `timeout 300` and a 4 GiB address-space limit, so a regression
# shows as a timeout or an allocation failure rather than taking the machine down. Prints
# a Markdown table and the single-line to split-lines throughput ratios. It never fails on
# a timing.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/unleak-bench}
CORPUS_GEN=${CORPUS_GEN:-$ROOT/../shared/bench/make_corpus.py}
SIZE_MIB=16
NORMAL_MB=50
RUNS=1
BUDGET=64M
UNLEAK_BIN=
OUT_FILE=

die() { echo "adversarial.sh: $*" >&2; exit 2; }
note() { echo "adversarial.sh: $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --size-mib) SIZE_MIB=$2; shift 2 ;;
    --normal-mb) NORMAL_MB=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --budget) BUDGET=$2; shift 2 ;;
    --unleak-bin) UNLEAK_BIN=$2; shift 2 ;;
    --out) OUT_FILE=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument \`$1\` (see --help)" ;;
  esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, not \`$RUNS\`"
[[ "$SIZE_MIB" =~ ^[1-9][0-9]*$ ]] || die "--size-mib must be a positive integer, not \`$SIZE_MIB\`"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"
DIR=$BENCH_DIR/adversarial
mkdir -p "$DIR/out" || die "cannot create $DIR"
case "$(cd "$DIR" && pwd)/" in
  "$ROOT"/*) die "BENCH_DIR must be outside the repository (corpora are never committed)" ;;
esac

if [ -z "$UNLEAK_BIN" ]; then
  note "building unleak (release)"
  (cd "$ROOT" && cargo build --release -q -p unleak) || die "cargo build --release -p unleak failed"
  UNLEAK_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/unleak
fi
[ -x "$UNLEAK_BIN" ] || die "no unleak binary at $UNLEAK_BIN"

# --- cases ---------------------------------------------------------------------------

note "generating the cases (${SIZE_MIB} MiB each) into $DIR"
"$UNLEAK_BIN" rules list --json >"$DIR/rules.json" 2>/dev/null || die "\`unleak rules list --json\` failed"
python3 - "$DIR" "$SIZE_MIB" "$DIR/rules.json" <<'EOF' || die "case generation failed"
import base64, json, os, random, string, sys, zlib

out, size, rules = sys.argv[1], int(sys.argv[2]) << 20, sys.argv[3]
B62 = string.digits + string.ascii_uppercase + string.ascii_lowercase

def ghp(r):
    """A fake GitHub classic token with a valid checksum."""
    body = "".join(r.choice(string.ascii_letters + string.digits) for _ in range(30))
    n, tail = zlib.crc32(body.encode()), ""
    for _ in range(6):
        tail = B62[n % 62] + tail
        n //= 62
    return "ghp_" + body + tail

def write(name, text):
    with open(os.path.join(out, name), "w") as f:
        f.write(text)

def fill(unit, n=size):
    return (unit * (n // len(unit) + 1))[:n]

def split(text, width=96):
    return "\n".join(text[i:i + width - 1] for i in range(0, len(text), width - 1)) + "\n"

r = random.Random(1337)
for word, name in [("token", "token"), ("password", "password"), ("secret", "secret"),
                   ("password=", "password-eq"), ('"password": "', "json-password")]:
    text = fill(word)
    write(f"line-{name}.txt", text + "\n")
    write(f"split-{name}.txt", split(text))
keywords = sorted({k for rule in json.load(open(rules)) for k in rule.get("keywords", [])})
text = fill(" ".join(keywords) + " ")
write("line-keywords.txt", text + "\n")
write("split-keywords.txt", split(text))
# Keywords every 3,000 characters of base64 alphabet: each window ends inside a run.
alphabet = string.ascii_letters + string.digits + "+/"
parts, n = [], 0
while n < size:
    p = "ghp_" + "".join(r.choice(alphabet) for _ in range(3000)) + " password="
    parts.append(p)
    n += len(p)
write("cut-base64.txt", "".join(parts)[:size] + "\n")
# base64 of base64 of text holding a token, one per line.
parts, n = [], 0
while n < size:
    inner = f"export GITHUB_TOKEN={ghp(r)}\nexport NOTE={''.join(r.choice(string.ascii_letters) for _ in range(40))}\n"
    p = "blob: " + base64.b64encode(base64.b64encode(inner.encode())).decode() + "\n"
    parts.append(p)
    n += len(p)
write("nested-base64.txt", "".join(parts))
write("base64-run.txt", "".join(r.choice(alphabet) for _ in range(size)) + "\n")
# Repository rules sharing one keyword (the audit's reproduction), on 4 MiB that floods it.
for count in (60, 300):
    with open(os.path.join(out, f"shared-{count}.toml"), "w") as f:
        for i in range(count):
            f.write(f'[[rules]]\nid = "q{i}"\nname = "x"\ndescription = "x"\nkeywords = ["aaa"]\n'
                    f"regex = '''(?P<secret>aaa[a-z]{{{i % 50 + 1}}}[0-9]{{{i % 40 + 1},{i % 40 + 60}}}q{i}x)'''\n"
                    'confidence = "high"\n')
write("shared-flood.txt", fill("aaa" * 200 + " ", 4 << 20))
EOF

NORMAL=$BENCH_DIR/corpus-$NORMAL_MB-s1337
if [ ! -s "$BENCH_DIR/key-$NORMAL_MB-s1337.json" ]; then
  [ -f "$CORPUS_GEN" ] || die "corpus generator not found at $CORPUS_GEN (set CORPUS_GEN)"
  note "generating the ${NORMAL_MB} MB corpus into $NORMAL"
  python3 "$CORPUS_GEN" --out "$NORMAL" --key "$BENCH_DIR/key-$NORMAL_MB-s1337.json.tmp" \
    --size-mb "$NORMAL_MB" --seed 1337 >/dev/null || die "corpus generation failed"
  mv "$BENCH_DIR/key-$NORMAL_MB-s1337.json.tmp" "$BENCH_DIR/key-$NORMAL_MB-s1337.json"
fi

# label<TAB>path<TAB>extra arguments
CASES=(
  "normal corpus (${NORMAL_MB} MB)	$NORMAL	"
)
for w in token password secret password-eq json-password keywords; do
  CASES+=("one line: $w	$DIR/line-$w.txt	" "96-byte lines: $w	$DIR/split-$w.txt	")
done
CASES+=(
  "windows cut in base64 runs	$DIR/cut-base64.txt	"
  "base64 of base64	$DIR/nested-base64.txt	"
  "one base64-alphabet run	$DIR/base64-run.txt	"
  "60 rules, one keyword (--memory-budget $BUDGET)	$DIR/shared-flood.txt	--no-builtin-rules --rules $DIR/shared-60.toml --memory-budget $BUDGET"
  "300 rules, one keyword (--memory-budget $BUDGET)	$DIR/shared-flood.txt	--no-builtin-rules --rules $DIR/shared-300.toml --memory-budget $BUDGET"
)

# --- running -------------------------------------------------------------------------

RESULTS=$DIR/out/results.tsv
: >"$RESULTS"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq 1 "$RUNS"); do
  for c in "${CASES[@]}"; do
    IFS=$'\t' read -r label path extra <<<"$c"
    bytes=$(find "$path" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    find "$path" -type f -print0 | xargs -0 cat >/dev/null
    tfile=$DIR/out/time
    read -r -a args <<<"$extra"
    t0=$(date +%s%N)
    ( ulimit -v 4194304; exec /usr/bin/time -v -o "$tfile" timeout 300 \
        "$UNLEAK_BIN" scan "$path" --max-file-size 1G -f jsonl "${args[@]}" ) \
      >"$DIR/out/findings.jsonl" 2>"$DIR/out/stderr"
    rc=$?
    t1=$(date +%s%N)
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tfile")
    found=$(grep -c '"rule_id"' "$DIR/out/findings.jsonl")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$bytes" $(( (t1 - t0) / 1000 )) "${rss:-0}" "$rc" "$found" >>"$RESULTS"
    awk -v l="$label" -v us=$(( (t1 - t0) / 1000 )) -v rc="$rc" \
      'BEGIN { printf "  %-50s %8.3f s  rc=%s\n", l, us / 1e6, rc }' >&2
  done
done

python3 - "$RESULTS" "$RUNS" "$("$UNLEAK_BIN" --version)" "$(git -C "$ROOT" describe --always --dirty 2>/dev/null)" \
  "$LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg) after" "$(nproc)" <<'EOF' | if [ -n "$OUT_FILE" ]; then tee "$OUT_FILE"; else cat; fi
import statistics, sys
from collections import OrderedDict
path, runs, version, commit, load, nproc = sys.argv[1:]
rows = OrderedDict()
for line in open(path):
    label, size, us, rss, rc, found = line.rstrip("\n").split("\t")
    rows.setdefault(label, []).append((int(size), int(us), int(rss), int(rc), int(found)))
print(f"### Adversarial input beside a normal corpus ({version}, {commit}; median of {runs} run(s); "
      f"{nproc} cores; load {load})\n")
print("| case | MB | time | MB/s | peak RSS | findings | exit |")
print("|---|---|---|---|---|---|---|")
speed = {}
for label, rs in rows.items():
    size = rs[0][0]
    us = statistics.median(r[1] for r in rs)
    rss = max(r[2] for r in rs)
    codes = sorted({r[3] for r in rs})
    mbs = size / 1e6 / (us / 1e6) if us else float("inf")
    speed[label] = mbs
    print(f"| {label} | {size / 1e6:.1f} | {us / 1e6:.2f} s | {mbs:.1f} | {rss / 1024:.0f} MB | "
          f"{rs[0][4]} | {','.join(map(str, codes))} |")
print()
for label in speed:
    if label.startswith("one line: "):
        word = label[len("one line: "):]
        split = speed.get(f"96-byte lines: {word}")
        if split:
            print(f"- one line of `{word}` / the same bytes in 96-byte lines: {speed[label] / split:.2f}")
EOF
exit 0
