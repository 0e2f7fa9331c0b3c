#!/usr/bin/env bash
# The logic of action.yml, kept here so it can be tested and read as a script.
#
#   action.sh resolve   choose where unleak comes from (a release download, a cargo build
#                       of the action's source, or the unleak-binary input) and the cache
#                       directory and key; writes them to $GITHUB_OUTPUT
#   action.sh install   reuse the cached unleak, or download and verify it, or build it;
#                       writes `unleak=PATH` to $GITHUB_OUTPUT
#   action.sh guard     run `unleak guard` for the triggering event; writes `findings`,
#                       `sarif-file`, `sarif-category` and `exit-code` to $GITHUB_OUTPUT
#                       and exits with unleak's code (0 clean, 1 new findings, 2 error)
#
# Which commits an event covers:
#   pull_request, pull_request_target   base.sha..head.sha; the head is fetched from
#                                       refs/pull/N/head when the checkout lacks it (a
#                                       fork's head on pull_request_target). Nothing of
#                                       the pull request is checked out or run.
#   merge_group                         merge_group.base_sha..head_sha
#   push                                before..sha; when `before` is all zeros (a new
#                                       branch) or gone (a force-push), the merge-base
#                                       with the default branch..sha, else the tree
#   anything else                       the tree (mode: history scans all of git history)
# A shallow checkout is deepened with `git fetch --unshallow` before a range is scanned.
#
# SARIF: a pull request or merge queue run writes the new findings of its diff (category
# unleak/pr); every other run writes the state of the whole tree (unleak/tree) or of the
# history (unleak/history), so an alert stays open for as long as its secret is there.
# A run that fails (exit 2) names no SARIF file: a partial result would close alerts.
#
# Inputs arrive as environment variables (the action maps `${{ inputs.* }}` and the event's
# fields onto them), never spliced into the script text, so a branch name or a file name
# cannot become shell code.
set -euo pipefail

output() { printf '%s=%s\n' "$1" "$2" >>"${GITHUB_OUTPUT:-/dev/null}"; }

# Text as the data of a workflow command: one line, `%` and line breaks encoded, no other
# control characters (which could hide what follows from the log reader).
workflow_data() {
  local s
  s=$(printf '%s' "$1" | tr -d '\000-\011\013\014\016-\037\177')
  s=${s//'%'/%25}
  s=${s//$'\r'/%0D}
  s=${s//$'\n'/%0A}
  printf '%s' "$s"
}

# Text as inert Markdown: HTML entity-escaped and punctuation backslash-escaped (as
# unleak-report's markdown_cell does), so an error naming a crafted file cannot add
# links, mentions or markup to the job summary.
markdown_text() {
  printf '%s' "$1" | tr -d '\000-\011\013-\037\177' |
    sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' \
      -e 's/[][\\`*_()!|~#@]/\\&/g'
}

# The action cannot go on: an annotation, a job summary naming the cause, exit 2.
die() {
  echo "::error title=unleak action::$(workflow_data "$*")"
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    printf '## unleak guard: ⚠️ error\n\n%s\n\nNothing was scanned, and no SARIF file was written.\n' \
      "$(markdown_text "$*")" >>"$GITHUB_STEP_SUMMARY"
  fi
  output exit-code 2
  exit 2
}

# --- Installing unleak -----------------------------------------------------------------
#
# `resolve` decides, before the cache step, where the binary comes from and under which
# cache key it is kept; `install` then reuses the cached binary or fetches it:
#   release   the action is used at a release tag (vX.Y.Z, or a moving vX / vX.Y tag,
#             taken as the version in the action's own Cargo.toml), or `version` names one:
#             download unleak-X.Y.Z-TARGET.tar.gz (.zip on Windows) and SHA256SUMS from
#             RELEASE-URL/vX.Y.Z/, and refuse the asset unless its SHA-256 is listed and
#             matches. When the action's own tag has no release (yet), fall back to cargo;
#             an explicit `version` without a release is an error.
#   cargo     a branch or commit ref, or no release build for this platform: `cargo install
#             --locked --path` of the action's checkout, cached by a hash of its source.
#   binary    the `unleak-binary` input.

# The release target of this runner, or nothing when there is no release build for it.
release_target() {
  local os="${RUNNER_OS:-$(uname -s)}" arch="${RUNNER_ARCH:-$(uname -m)}"
  case "$os/$arch" in
    Linux/X64 | Linux/x86_64) echo x86_64-unknown-linux-musl ;;
    Linux/ARM64 | Linux/aarch64 | Linux/arm64) echo aarch64-unknown-linux-musl ;;
    macOS/X64 | Darwin/x86_64) echo x86_64-apple-darwin ;;
    macOS/ARM64 | Darwin/arm64) echo aarch64-apple-darwin ;;
    Windows/X64 | MINGW*/x86_64 | MSYS*/x86_64 | CYGWIN*/x86_64) echo x86_64-pc-windows-msvc ;;
  esac
}

# The version in the action's own Cargo.toml (the workspace's `version = "X.Y.Z"`).
own_version() {
  sed -n 's/^version = "\([^"]*\)".*/\1/p' "${GITHUB_ACTION_PATH:?}/Cargo.toml" | head -n1
}

# SHA-256 sums in `sha256sum` format, with whichever tool this runner has (macOS has
# only shasum).
sha256_of() {
  if command -v sha256sum >/dev/null; then sha256sum "$@"; else shasum -a 256 "$@"; fi
}

# A hash of the action's source, so a cached build is reused only for the same code.
source_hash() {
  local -a files
  local f
  while IFS= read -r f; do files+=("$f"); done < <(
    cd "${GITHUB_ACTION_PATH:?}" &&
      find Cargo.toml Cargo.lock crates rules -name target -prune -o -type f -print | LC_ALL=C sort
  )
  (cd "$GITHUB_ACTION_PATH" && sha256_of "${files[@]}") | sha256_of | cut -c1-16
}

resolve() {
  if [[ -n "${UNLEAK_BINARY:-}" ]]; then
    echo "unleak: using the unleak-binary input ($UNLEAK_BINARY)"
    output source binary
    return
  fi
  local cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/unleak"
  local target version="" why="" ref="${ACTION_REF:-}"
  target=$(release_target)
  if [[ -n "${INPUT_VERSION:-}" ]]; then
    version=${INPUT_VERSION#v}
    [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] ||
      die "the version input '$INPUT_VERSION' is not a release version (vX.Y.Z)"
    [[ -n "$target" ]] ||
      die "unleak releases have no build for $(uname -sm); leave out the version input to build from source"
    output fallback none
  elif [[ "$ref" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]]; then
    version=${ref#v}
  elif [[ "$ref" =~ ^v[0-9]+(\.[0-9]+)?$ ]]; then
    # A moving major (or minor) tag points at the latest release of that line, whose
    # version the checkout's Cargo.toml carries.
    version=$(own_version)
    [[ "$version" == "${ref#v}".* ]] || {
      why="the action's tag $ref points at version ${version:-unknown}, not a $ref.* release"
      version=""
    }
  else
    why="the action is used at '${ref:-an unknown ref}', not a release tag"
  fi
  if [[ -n "$version" && -z "$target" ]]; then
    why="unleak releases have no build for $(uname -sm)"
    version=""
  fi
  if [[ -n "$version" ]]; then
    local base="${INPUT_RELEASE_URL:-https://github.com/${ACTION_REPOSITORY:-unleak/unleak}/releases/download}"
    base=${base%/}
    # Sums fetched over plain http from the same server prove nothing.
    [[ "$base" =~ ^https:// || "$base" =~ ^http://(127\.0\.0\.1|localhost|\[::1\])(:[0-9]+)?(/|$) ]] ||
      die "release-url '$base' is not https (plain http is allowed only on the loopback host)"
    echo "unleak: v$version for $target from the release (cached by version and target)"
    output source release
    output version "$version"
    output target "$target"
    output url "$base/v$version"
    output dir "$cache/v$version-$target"
    output cache-key "unleak-v$version-$target"
  else
    local hash platform
    hash=$(source_hash)
    platform="${target:-$(uname -sm | tr ' ' -)}"
    echo "unleak: $why; building unleak from the action's source with cargo (cached by source hash)"
    output source cargo
    output dir "$cache/source-$hash-$platform"
    output cache-key "unleak-source-$hash-$platform"
  fi
}

# The binary's name in a cache directory.
exe_in() {
  local exe=unleak
  [[ "${INSTALL_TARGET:-}" != *windows* ]] || exe=unleak.exe
  printf '%s/bin/%s' "$1" "$exe"
}

# Fetch URL $1 to file $2; prints the HTTP status (000 when there was no answer).
download() {
  curl --silent --show-error --location --proto '=https,http' --proto-redir '=https' --retry 3 \
    --output "$2" --write-out '%{http_code}' "$1" 2>/dev/null || true
}

# Build from the action's source into the cache directory $1.
cargo_build() {
  local dir="$1" cargo="${UNLEAK_ACTION_CARGO:-cargo}"
  command -v "$cargo" >/dev/null ||
    die "cargo is not installed and there is no release download to use; add a Rust toolchain step, pass version, or pass unleak-binary"
  "$cargo" install --locked --quiet --path "${GITHUB_ACTION_PATH:?}" --root "$dir" ||
    die "cargo install --path ${GITHUB_ACTION_PATH} failed (see the log above)"
  echo "cargo build of the action's source" >"$dir/source.txt"
}

# Download, verify and unpack release asset for version $1, target $2 into $3.
# Returns 3 (after saying so) when the release does not exist.
release_install() {
  local version="$1" target="$2" dir="$3" url="${INSTALL_URL:?}"
  local ext=tar.gz
  [[ "$target" != *windows* ]] || ext=zip
  local asset="unleak-$version-$target.$ext"
  local work
  work=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/unleak-download.XXXXXX")
  local status
  status=$(download "$url/SHA256SUMS" "$work/SHA256SUMS")
  if [[ "$status" == 404 ]]; then
    rm -rf "$work"
    echo "unleak: there is no release v$version at $url (SHA256SUMS: HTTP 404)"
    return 3
  fi
  [[ "$status" == 200 ]] || die "could not download $url/SHA256SUMS (HTTP $status)"
  local want
  want=$(awk -v a="$asset" '$2 == a || $2 == "*" a { print $1; exit }' "$work/SHA256SUMS")
  [[ "$want" =~ ^[0-9a-fA-F]{64}$ ]] ||
    die "SHA256SUMS of release v$version has no SHA-256 for $asset; refusing to install it"
  status=$(download "$url/$asset" "$work/$asset")
  [[ "$status" == 200 ]] || die "could not download $url/$asset (HTTP $status)"
  local got
  got=$(cd "$work" && sha256_of "$asset" | cut -d' ' -f1)
  [[ "$got" == "$(printf '%s' "$want" | tr A-F a-f)" ]] ||
    die "$asset does not match its SHA-256 in SHA256SUMS (expected $want, got $got); refusing to install it"
  echo "unleak: $asset matches its SHA-256 in SHA256SUMS ($got)"
  mkdir "$work/unpacked"
  if [[ "$ext" == zip ]]; then
    if command -v unzip >/dev/null; then
      unzip -q "$work/$asset" -d "$work/unpacked" || die "cannot unpack $asset"
    else
      7z x -y -o"$work/unpacked" "$work/$asset" >/dev/null || die "cannot unpack $asset"
    fi
  else
    tar -xzf "$work/$asset" -C "$work/unpacked" || die "cannot unpack $asset"
  fi
  local exe
  exe=$(exe_in x)
  exe=${exe#x/bin/}
  local found="$work/unpacked/unleak-$version-$target/$exe"
  [[ -f "$found" ]] || die "$asset has no unleak-$version-$target/$exe"
  # Into place in one rename, so an interrupted install never looks like a cached one.
  mkdir -p "$work/ready/bin"
  mv "$found" "$work/ready/bin/$exe"
  chmod +x "$work/ready/bin/$exe"
  echo "release v$version $asset sha256:$got" >"$work/ready/source.txt"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$work/ready" "$dir"
  rm -rf "$work"
}

install() {
  if [[ "${INSTALL_SOURCE:-binary}" == binary ]]; then
    [[ -n "${UNLEAK_BINARY:-}" && -x "$UNLEAK_BINARY" ]] ||
      die "unleak-binary '${UNLEAK_BINARY:-}' is not an executable file"
    output unleak "$UNLEAK_BINARY"
    return
  fi
  local dir="${INSTALL_DIR:?the resolve step named no directory}" exe
  exe=$(exe_in "$dir")
  if [[ -x "$exe" && -f "$dir/source.txt" ]]; then
    echo "unleak: using the cached binary in $dir ($(head -n1 "$dir/source.txt"))"
    output unleak "$exe"
    return
  fi
  if [[ "$INSTALL_SOURCE" == release ]]; then
    local code=0
    release_install "${INSTALL_VERSION:?}" "${INSTALL_TARGET:?}" "$dir" || code=$?
    if ((code == 3)); then
      [[ "${INSTALL_FALLBACK:-cargo}" == cargo ]] ||
        die "there is no release v$INSTALL_VERSION at $INSTALL_URL (the version input names it)"
      echo "unleak: falling back to building the action's source with cargo"
      cargo_build "$dir"
    fi
    echo "unleak: installed $(head -n1 "$dir/source.txt") into $dir"
  else
    cargo_build "$dir"
    echo "unleak: built unleak with cargo into $dir"
  fi
  [[ -x "$exe" ]] || die "the install left no executable at $exe"
  output unleak "$exe"
}

is_zero_sha() { [[ -z "$1" || "$1" =~ ^0+$ ]]; }

repo_git() { git -C "${INPUT_PATH:-.}" "$@"; }

has_commit() { [[ -n "$1" ]] && repo_git cat-file -e "$1^{commit}" 2>/dev/null; }

# A range needs both ends and their merge-base: deepen a shallow checkout first.
full_history() {
  [[ "$(repo_git rev-parse --is-shallow-repository 2>/dev/null)" == true ]] || return 0
  echo "unleak: the checkout is shallow; fetching its history (git fetch --unshallow origin)"
  repo_git fetch --quiet --no-tags --unshallow origin ||
    die "this checkout is shallow and 'git fetch --unshallow origin' failed, so the range cannot be scanned; check out with actions/checkout fetch-depth: 0"
}

# Make sure commit $1 ($2 says which) is here, fetching refspec $3 from origin if not.
need_commit() {
  local sha="$1" what="$2" refspec="${3:-}"
  has_commit "$sha" && return 0
  if [[ -n "$refspec" ]]; then
    echo "unleak: fetching the $what ($refspec) from origin"
    repo_git fetch --quiet --no-tags origin "$refspec" || true
  fi
  has_commit "$sha" ||
    die "the $what commit $sha is not in this checkout${refspec:+ and fetching $refspec from origin did not bring it}; check out with actions/checkout fetch-depth: 0"
}

# The merge-base of $1 with the default branch, or nothing when there is none to use.
default_branch_base() {
  local sha="$1" branch="${DEFAULT_BRANCH:-}"
  [[ -n "$branch" ]] || return 0
  local ref="refs/remotes/origin/$branch"
  if ! repo_git rev-parse --verify --quiet "$ref" >/dev/null; then
    repo_git fetch --quiet --no-tags origin "+refs/heads/$branch:$ref" 2>/dev/null || return 0
  fi
  repo_git merge-base "$ref" "$sha" 2>/dev/null || true
}

# The range of a push: before..sha, or from the default branch when `before` cannot be
# used. Sets `range`, or leaves it empty for a tree scan.
push_range() {
  local before="${PUSH_BEFORE:-}" sha="${SHA:?}"
  full_history
  if ! is_zero_sha "$before" && has_commit "$before"; then
    range="$before..$sha"
    return
  fi
  local why="this push created the branch"
  is_zero_sha "$before" || why="the previous tip ${before:0:12} is gone (a force-push)"
  local base
  base=$(default_branch_base "$sha")
  if [[ -n "$base" && "$base" != "$(repo_git rev-parse "$sha")" ]]; then
    echo "unleak: $why; scanning from the merge-base with ${DEFAULT_BRANCH} ($base)"
    range="$base..$sha"
  else
    echo "::notice title=unleak guard::$(workflow_data "$why and it has no merge-base with the default branch to start from; the whole tree is guarded against the baseline")"
  fi
}

# The arguments in INPUT_ARGS: each line split on white space, so `args: |` over several
# lines keeps every line.
extra_args() {
  local line
  local -a words
  while IFS= read -r line || [[ -n "$line" ]]; do
    read -r -a words <<<"$line"
    extra+=("${words[@]}")
  done <<<"${INPUT_ARGS:-}"
}

# The flags of INPUT_ARGS that `unleak scan` shares with the guard (rules and the
# inline-ignore policy), so tree-state SARIF sees what the guard saw.
shared_scan_args() {
  local i=0
  while ((i < ${#extra[@]})); do
    case "${extra[i]}" in
      --rules) scan_args+=(--rules "${extra[i + 1]:-}"); ((i += 1)) ;;
      --rules=* | --no-builtin-rules | --no-inline-ignore | --no-inline-ignore=*) scan_args+=("${extra[i]}") ;;
    esac
    ((i += 1))
  done
}

# Run unleak with its stderr kept in $errlog as well as shown; sets `code`.
run_unleak() {
  echo "unleak $*"
  code=0
  "$unleak" "$@" 2>"$errlog" || code=$?
  cat "$errlog" >&2
}

# The cause of a failed run, from unleak's `unleak: error: …` line.
cause() {
  local line
  line=$(grep -m1 '^unleak: error: ' "$errlog" | sed 's/^unleak: error: //' || true)
  [[ -n "$line" ]] || line=$(grep -v '^[[:space:]]*$' "$errlog" | tail -n1 || true)
  printf '%s' "${line:-unleak exited with code $code}"
}

failed() {
  local why
  why=$(cause)
  echo "::error title=unleak guard failed::$(workflow_data "$why")"
  if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
    printf '## unleak guard: ⚠️ error (exit %s)\n\n%s\n\nThe scan did not finish, so no SARIF file is named for upload. The log of this step has the details.\n' \
      "$code" "$(markdown_text "$why")" >>"$GITHUB_STEP_SUMMARY"
  fi
}

guard() {
  unleak="${UNLEAK:?the install step did not name a binary}"
  local mode="${INPUT_MODE:-auto}" path="${INPUT_PATH:-.}" kind=tree
  range="${INPUT_RANGE:-}"
  local event="${EVENT_NAME:-}"
  local -a args=(guard "$path" --format github --fail-on "${INPUT_FAIL_ON:-low}")
  extra=()
  extra_args

  if [[ "$mode" == auto ]]; then
    mode=range
    case "$event" in
      pull_request | pull_request_target)
        local number="${PR_NUMBER:?the event has no pull_request.number}"
        full_history
        need_commit "${PR_BASE_SHA:?}" "pull request base" "${PR_BASE_REF:+refs/heads/$PR_BASE_REF}"
        need_commit "${PR_HEAD_SHA:?}" "pull request head" "+refs/pull/$number/head:refs/unleak/pull/$number/head"
        range="$PR_BASE_SHA..$PR_HEAD_SHA"
        kind="pr"
        ;;
      merge_group)
        full_history
        need_commit "${MERGE_GROUP_BASE_SHA:?}" "merge group base"
        need_commit "${MERGE_GROUP_HEAD_SHA:?}" "merge group head"
        range="$MERGE_GROUP_BASE_SHA..$MERGE_GROUP_HEAD_SHA"
        kind="pr"
        ;;
      push)
        push_range
        [[ -n "$range" ]] || mode=tree
        ;;
      *) mode=tree ;;
    esac
  elif [[ "$mode" == range && "$event" =~ ^(pull_request|pull_request_target|merge_group)$ ]]; then
    kind="pr"
  fi
  case "$mode" in
    range)
      [[ -n "$range" ]] || die "mode 'range' needs the range input (BASE..HEAD)"
      args+=(--range "$range")
      ;;
    # In CI the index is HEAD's tree: a staged scan would see nothing and always pass.
    staged) die "mode 'staged' is for a pre-commit hook: in CI the index equals HEAD, so it would pass whatever the commits hold; use auto, range, tree or history" ;;
    tree) ;;
    history) kind=history ;;
    *) die "unknown mode '$mode' (expected auto, range, tree or history)" ;;
  esac

  local sarif="${INPUT_SARIF_FILE:-}" category="unleak/$kind"
  local tmp="${RUNNER_TEMP:-${TMPDIR:-/tmp}}"
  local report="$tmp/unleak-guard-$$.json"
  errlog="$tmp/unleak-stderr-$$.log"
  # A file left at the SARIF path from before must not pass for this run's.
  [[ -z "$sarif" ]] || rm -f -- "$sarif"
  # The baseline gives tree-state SARIF the guard's fingerprint key; it filters nothing.
  local -a scan_args=()
  [[ -z "${INPUT_CONFIG:-}" ]] || scan_args+=(--config "$INPUT_CONFIG")
  [[ -z "${INPUT_BASELINE:-}" ]] || scan_args+=(--baseline "$INPUT_BASELINE")
  shared_scan_args

  local findings=0
  if [[ "$kind" == history ]]; then
    # Every finding anywhere in git history: a report, failing unless fail-on is none.
    local out="${sarif:-$tmp/unleak-history-$$.sarif}"
    run_unleak scan --git "$path" "${scan_args[@]}" \
      --format sarif --output "$out" --sarif-category "$category"
    if ((code <= 1)) && [[ -f "$out" ]]; then
      findings=$(grep -c '"ruleId"' "$out" || true)
      [[ "${INPUT_FAIL_ON:-low}" != none ]] || code=0
      if [[ -n "${GITHUB_STEP_SUMMARY:-}" ]]; then
        printf '## unleak history scan: %s finding(s) in git history\n\nRotate each one: a secret in history stays readable in every clone.\n' \
          "$findings" >>"$GITHUB_STEP_SUMMARY"
      fi
    fi
    [[ -n "$sarif" ]] || rm -f -- "$out"
  else
    [[ -z "${INPUT_CONFIG:-}" ]] || args+=(--config "$INPUT_CONFIG")
    [[ -z "${INPUT_BASELINE:-}" ]] || args+=(--baseline "$INPUT_BASELINE")
    [[ -z "$sarif" || "$kind" != pr ]] || args+=(--sarif "$sarif" --sarif-category "$category")
    args+=(--json "$report" "${extra[@]}")
    run_unleak "${args[@]}"
    if [[ -f "$report" ]]; then
      findings=$(grep -m1 -oE '"new": [0-9]+' "$report" | grep -oE '[0-9]+' || echo 0)
      rm -f "$report"
    fi
    if ((code <= 1)) && [[ -n "$sarif" && "$kind" == tree ]]; then
      # The tree's state, known secrets included: code scanning closes an alert that an
      # upload no longer lists, so only a secret that is gone may drop out.
      local verdict=$code
      run_unleak scan "$path" --respect-gitignore "${scan_args[@]}" \
        --format sarif --output "$sarif" --sarif-category "$category"
      ((code > 1)) || code=$verdict
    fi
  fi

  if ((code > 1)); then
    failed
  elif [[ -n "$sarif" && -f "$sarif" ]]; then
    local omitted
    omitted=$(grep -m1 -oE '"resultsOmitted": [0-9]+' "$sarif" | grep -oE '[0-9]+' || true)
    if [[ -n "$omitted" ]]; then
      echo "::warning title=unleak SARIF::$(workflow_data "$omitted results were left out of $sarif: GitHub code scanning accepts at most 25000 per run; the most severe are kept")"
    fi
    output sarif-file "$sarif"
    output sarif-category "$category"
  fi
  rm -f "$errlog"
  output findings "$findings"
  output exit-code "$code"
  exit "$code"
}

case "${1:-}" in
  resolve) resolve ;;
  install) install ;;
  guard) guard ;;
  *) echo "usage: $0 resolve|install|guard" >&2; exit 2 ;;
esac
