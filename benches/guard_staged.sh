#!/usr/bin/env bash
# Benchmark: `unleak guard --staged` on a repository of 100,000 committed files with one
# staged file. Builds the repository in a temp dir (one blob shared by every path, so it is
# quick to make), checks the files out, stages one file with a secret, and times the guard.
# Not run in CI; prints wall-clock times.
#
#   benches/guard_staged.sh [FILES]      (default 100000)
#   UNLEAK=/path/to/unleak benches/guard_staged.sh   (time that binary instead of a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
files="${1:-100000}"
if [[ -z "${UNLEAK:-}" ]]; then
  cargo build --release --quiet -p unleak
  UNLEAK="${CARGO_TARGET_DIR:-$PWD/target}/release/unleak"
fi
unleak="$UNLEAK"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
repo="$work/repo"
git init -q -b main "$repo"
cd "$repo"
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.com
blob="$(printf 'const answer = 42;\n' | git hash-object -w --stdin)"
python3 - "$files" "$blob" <<'PY' | git update-index --index-info
import sys
files, blob = int(sys.argv[1]), sys.argv[2]
for i in range(files):
    print(f"100644 {blob}\tsrc/d{i // 1000:03}/f{i % 1000:03}.js")
PY
git commit -q -m "$files files"
git checkout-index -a -f
echo "repository: $files files at HEAD"

# One staged file with a secret-looking assignment.
printf 'export const token = "%s";\n' "$(head -c 24 /dev/urandom | base64 | tr -d '+/=')" > src/new.js
git add src/new.js

# Median-free, plain timings of one command, interleaved with git's own staged diff so the
# two are measured under the same load; the ratio is what to read.
time_cmd() {
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || true
  end=$(date +%s.%N)
  python3 -c "print(f'{$end - $start:.3f}')"
}
# The guard must see the staged file (exit 1, one new finding), or the timing means nothing.
code=0
verdict="$("$unleak" guard --staged 2>&1)" || code=$?
echo "guard --staged exit code: $code"
grep -E '^(NEW|[0-9]+ new)' <<<"$verdict" || true
[[ "$code" == 1 ]] || { echo "expected exit code 1: $verdict" >&2; exit 1; }
time_cmd "$unleak" guard --staged >/dev/null  # warm-up
time_cmd git diff --cached --name-only >/dev/null
printf '%-4s %-22s %-34s %s\n' run "unleak guard --staged" "git diff --cached --name-only" ratio
for i in 1 2 3 4 5; do
  u=$(time_cmd "$unleak" guard --staged)
  g=$(time_cmd git diff --cached --name-only)
  printf '%-4s %-22s %-34s %s\n' "$i" "$u s" "$g s" "$(python3 -c "print(f'{$u / $g:.1f}x')")"
done
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 2 --ignore-failure "$unleak guard --staged"
fi
