#!/usr/bin/env bash
# Build the evaluation corpus with a fixed seed in a temporary directory and score unleak on
# it; with --peers, score Kingfisher and Betterleaks on the same corpus in the same run.
#
# Usage: eval/run.sh [--peers] [--details] [--seed N] [--scale K] [-- score.py options...]
# The unleak binary is $UNLEAK_BIN, else target/debug/unleak. Peers come from the venv
# described in /work/shared/bench/README.md (never installed here, never used in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

peers=0 seed=20261128 scale=1 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --peers) peers=1 ;;
    --details) extra+=(--details) ;;
    --seed) seed="$2"; shift ;;
    --scale) scale="$2"; shift ;;
    --) shift; extra+=("$@"); break ;;
    *) echo "eval/run.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

bin="${UNLEAK_BIN:-target/debug/unleak}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

python3 eval/make_eval_corpus.py --out "$tmp/corpus" --key "$tmp/key.json" --seed "$seed" --scale "$scale"
echo
tools=(--tool unleak)
if [ "$peers" = 1 ]; then tools+=(--tool kingfisher --tool betterleaks); fi
python3 eval/score.py --corpus "$tmp/corpus" --key "$tmp/key.json" "${tools[@]}" --bin "$bin" ${extra[@]+"${extra[@]}"}
