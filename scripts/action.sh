#!/usr/bin/env bash
# The logic of action.yml, kept here so it can be tested and read as a script.
#
#   action.sh install   find or build unleak; writes `unleak=PATH` to $GITHUB_OUTPUT
#   action.sh guard     run `unleak guard` for the triggering event; writes `findings`,
#                       `sarif-file` and `exit-code` to $GITHUB_OUTPUT and exits with
#                       unleak's code (0 clean, 1 new findings, 2 error)
#
# Inputs arrive as environment variables (the action maps `${{ inputs.* }}` and the event's
# shas onto them), never spliced into the script text, so a branch name or a file name
# cannot become shell code.
set -euo pipefail

output() { printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:-/dev/null}"; }
die() { echo "::error title=unleak action::$*"; exit 2; }

install() {
  if [[ -n "${UNLEAK_BINARY:-}" ]]; then
    [[ -x "$UNLEAK_BINARY" ]] || die "unleak-binary '$UNLEAK_BINARY' is not an executable file"
    output unleak "$UNLEAK_BINARY"
    return
  fi
  command -v cargo >/dev/null || die "cargo is not installed; add a Rust toolchain step or pass unleak-binary"
  local root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/unleak-action"
  cargo install --locked --quiet --path "${GITHUB_ACTION_PATH:?}" --root "$root"
  output unleak "$root/bin/unleak"
}

is_zero_sha() { [[ -z "$1" || "$1" =~ ^0+$ ]]; }

guard() {
  local unleak="${UNLEAK:?the install step did not name a binary}"
  local mode="${INPUT_MODE:-auto}" range="${INPUT_RANGE:-}"
  local -a args=(guard "${INPUT_PATH:-.}" --format github --fail-on "${INPUT_FAIL_ON:-low}")

  if [[ "$mode" == auto ]]; then
    case "${EVENT_NAME:-}" in
      pull_request | pull_request_target)
        mode=range
        range="${PR_BASE_SHA:?}..${PR_HEAD_SHA:?}"
        ;;
      push)
        # A new branch has no `before`; the tree against the baseline still catches
        # anything new.
        if is_zero_sha "${PUSH_BEFORE:-}"; then mode=tree; else
          mode=range
          range="$PUSH_BEFORE..${SHA:?}"
        fi
        ;;
      *) mode=tree ;;
    esac
  fi
  case "$mode" in
    range)
      [[ -n "$range" ]] || die "mode 'range' needs the range input (BASE..HEAD)"
      args+=(--range "$range")
      ;;
    staged) args+=(--staged) ;;
    tree) ;;
    *) die "unknown mode '$mode' (expected auto, range, staged or tree)" ;;
  esac
  [[ -z "${INPUT_CONFIG:-}" ]] || args+=(--config "$INPUT_CONFIG")
  [[ -z "${INPUT_BASELINE:-}" ]] || args+=(--baseline "$INPUT_BASELINE")
  [[ -z "${INPUT_SARIF_FILE:-}" ]] || args+=(--sarif "$INPUT_SARIF_FILE")
  local report="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/unleak-guard-$$.json"
  args+=(--json "$report")
  if [[ -n "${INPUT_ARGS:-}" ]]; then
    local -a extra
    read -r -a extra <<<"$INPUT_ARGS"
    args+=("${extra[@]}")
  fi

  echo "unleak ${args[*]}"
  local code=0
  "$unleak" "${args[@]}" || code=$?
  local findings=0
  if [[ -f "$report" ]]; then
    findings=$(grep -m1 -oE '"new": [0-9]+' "$report" | grep -oE '[0-9]+' || echo 0)
    rm -f "$report"
  fi
  output findings "$findings"
  output sarif-file "${INPUT_SARIF_FILE:-}"
  output exit-code "$code"
  exit "$code"
}

case "${1:-}" in
  install) install ;;
  guard) guard ;;
  *) echo "usage: $0 install|guard" >&2; exit 2 ;;
esac
