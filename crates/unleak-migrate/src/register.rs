//! `hoop/register.sh`: the one script an operator runs to put a plan into hoop.
//!
//! Owns: the script's text. It talks to hoop's REST API only (curl + jq, one gateway and
//! one key; the `hoop` CLI reads its own `~/.hoop` unless `HOOP_GRPCURL` is set too,
//! client/config/config.go:69-128, which is how a batch could reach another gateway). It
//! creates the connections, checks that they hold only secret references, applies the
//! policies of `hoop/policy/`, gives the gateway-native workloads one machine identity
//! and feeds platform secrets from the vault. Re-running it is safe: what exists is
//! never replaced, only this plan's keys and connections are added (B15). It fails closed:
//! every HTTP status is checked, an empty or `null` credential is never stored. Does not
//! own: the bodies (`artifacts`, `policy`).

use crate::artifacts::{slot_pointer, HEADER};
use crate::model::{Plan, PlatformRef, VaultPointer};
use crate::policy::{policy_files, resource_name};
use crate::text::{printable, shell_word};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The helpers every script starts with. `api` keeps the status apart from the body so
/// every answer is checked; `want` turns 401/403 into what the operator must fix.
const HELPERS: &str = r##"API="${HOOP_APIURL%/}/api"
fail() { echo "register.sh: $*" >&2; exit 1; }
# api WHAT CURL-ARGS...: sets API_STATUS and API_BODY; fails naming WHAT when curl does.
api() {
  _what=$1; shift
  _resp=$(curl -sS -w '\n%{http_code}' -H "Authorization: Bearer ${HOOP_TOKEN}" -H 'Content-Type: application/json' "$@") \
    || fail "$_what: the request to $HOOP_APIURL failed"
  API_STATUS=${_resp##*"
"}
  API_BODY=${_resp%"
"*}
}
# said: the gateway's own message of the last answer, on one line.
said() { printf '%s' "$API_BODY" | jq -r '.message? // empty | strings | gsub("[\\n\\r]"; " ")' 2>/dev/null | head -c 300; }
# want WHAT STATUS...: the last answer must have one of these statuses.
want() {
  _what=$1; shift
  for _s in "$@"; do [ "$API_STATUS" = "$_s" ] && return 0; done
  case $API_STATUS in
    401) fail "$_what: the gateway refused HOOP_TOKEN (HTTP 401): set it to a valid hoop API key" ;;
    403) fail "$_what: the gateway answered HTTP 403 ($(said)): the API key must be in hoop's admin group, and this hoop edition must allow it" ;;
  esac
  fail "$_what: the gateway answered HTTP $API_STATUS ($(said))"
}
# ids NAME...: IDS becomes the JSON list of these connections' ids.
ids() {
  IDS='[]'
  for _n in "$@"; do
    api "connection $_n: reading it" "$API/connections/$_n"
    want "connection $_n: reading it" 200
    _id=$(printf '%s' "$API_BODY" | jq -er '.id | strings | select(length > 0)') \
      || fail "connection $_n: the gateway gave no id"
    IDS=$(printf '%s' "$IDS" | jq -c --arg id "$_id" '. + [$id]')
  done
}

# The key must belong to hoop's admin group: every call below is admin-only.
api "checking HOOP_TOKEN" "$API/userinfo"
want "checking HOOP_TOKEN" 200
printf '%s' "$API_BODY" | jq -e '.is_admin == true' >/dev/null 2>&1 \
  || fail "HOOP_TOKEN is not the API key of a user in hoop's admin group; creating connections and policies needs one"
"##;

/// Create a connection, or (HTTP 409) write only this plan's secret keys over the ones
/// hoop holds: PATCH changes only the fields it is given (gateway/api/connections/connections.go:274-404), while
/// PUT and the batch's `overwrite: true` replace reviewers, guardrails and attributes
/// (connections.go:151-258).
const CONNECTION: &str = r##"
# connection NAME: create it from api/NAME.json. When it exists (HTTP 409) only the secret keys of
# this plan are written, merged over the ones hoop holds (PATCH): reviewers, guardrails, tags and
# attributes set in hoop since stay. A connection of another type under the name is refused.
connection() {
  _body=$(jq -c --arg a "$HOOP_AGENT_ID" '.agent_id = $a' "api/$1.json") || fail "connection $1: api/$1.json is not JSON"
  api "connection $1: creating it" -X POST --data-binary "$_body" "$API/connections"
  case $API_STATUS in
    201) echo "register.sh: connection $1: created"; return 0 ;;
    409) ;;
    *) want "connection $1: creating it" 201 ;;
  esac
  api "connection $1: reading it" "$API/connections/$1"
  want "connection $1: reading it" 200
  _patch=$(printf '%s' "$API_BODY" | jq -c --argjson new "$_body" '
    if .type != $new.type or (.subtype // "") != $new.subtype then error("another type")
    else (.secret // {}) as $cur | ($cur + $new.secret) as $merged
      | if $merged == $cur then empty else {secret: $merged} end end') \
    || fail "connection $1: hoop holds a connection of another type (or no JSON) under this name; rename it or use --name-prefix"
  if [ -z "$_patch" ]; then echo "register.sh: connection $1: exists, unchanged"; return 0; fi
  api "connection $1: updating its secret keys" -X PATCH --data-binary "$_patch" "$API/connections/$1"
  want "connection $1: updating its secret keys" 200
  echo "register.sh: connection $1: exists, secret keys updated"
}
"##;

/// Policies that exist are extended, never replaced: each PUT sends back the rule as hoop
/// gave it, with this plan's connections added.
const POLICIES: &str = r##"
# access_rule NAME FILE: create the access-request rule when absent; when present, add this plan's
# connections to it and keep everything else (PUT takes the whole rule, gateway/api/accessrequests/rules.go:281-378).
# hoop's OSS edition keeps one rule per organization and answers 403 to a second (rules.go:84-93).
access_rule() {
  api "access-request rule $1" "$API/access-requests/rules/$1"
  case $API_STATUS in
    404)
      api "access-request rule $1: creating it" -X POST --data-binary "@$2" "$API/access-requests/rules"
      [ "$API_STATUS" != 403 ] || fail "access-request rule $1: creating it: the gateway answered HTTP 403 ($(said)): $3"
      want "access-request rule $1: creating it" 201
      echo "register.sh: access-request rule $1: created" ;;
    200)
      _put=$(printf '%s' "$API_BODY" | jq -c --slurpfile new "$2" '$new[0].connection_names as $w
        | if ($w - (.connection_names // [])) == [] then empty else
          {name, description, access_type, attributes, all_groups_must_approve, reviewers_groups,
           skip_review_groups, access_max_duration, min_approvals,
           connection_names: (((.connection_names // []) + $w) | unique),
           approval_required_groups: (.approval_required_groups // []),
           force_approval_groups: (.force_approval_groups // [])} end') \
        || fail "access-request rule $1: the gateway's answer is not JSON"
      [ -n "$_put" ] || { echo "register.sh: access-request rule $1: exists, unchanged"; return 0; }
      api "access-request rule $1: adding connections" -X PUT --data-binary "$_put" "$API/access-requests/rules/$1"
      want "access-request rule $1: adding connections" 200
      echo "register.sh: access-request rule $1: connections added" ;;
    *) want "access-request rule $1" 200 ;;
  esac
}
# attach WHAT ROUTE NAME FILE HINT: the rule NAME at ROUTE (listed, found by name) covers the
# connections in IDS: created from FILE when absent; when present, IDS are added, nothing else changes.
attach() {
  api "$1 $3" "$API/$2"
  want "$1 $3" 200
  _cur=$(printf '%s' "$API_BODY" | jq -c --arg n "$3" 'if type == "array" then (map(select(.name == $n))[0] // empty) else error("not a list") end') \
    || fail "$1 $3: the gateway's list is not JSON"
  if [ -z "$_cur" ]; then
    _body=$(jq -c --argjson ids "$IDS" '.connection_ids = $ids' "$4") || fail "$1 $3: $4 is not JSON"
    api "$1 $3: creating it" -X POST --data-binary "$_body" "$API/$2"
    want "$1 $3: creating it ($5)" 201
    echo "register.sh: $1 $3: created"
    return 0
  fi
  _put=$(printf '%s' "$_cur" | jq -c --argjson ids "$IDS" 'if ($ids - (.connection_ids // [])) == [] then empty
    else del(.id, .managed_by, .created_at, .updated_at) | .connection_ids = (((.connection_ids // []) + $ids) | unique) end')
  [ -n "$_put" ] || { echo "register.sh: $1 $3: exists, unchanged"; return 0; }
  _id=$(printf '%s' "$_cur" | jq -er '.id | strings') || fail "$1 $3: the gateway gave no id"
  api "$1 $3: adding connections" -X PUT --data-binary "$_put" "$API/$2/$_id"
  want "$1 $3: adding connections ($5)" 200
  echo "register.sh: $1 $3: connections added"
}
# groups NAME FILE: the access_control plugin lets only these groups (and the ones set in hoop) use NAME.
groups() {
  ids "$1"; _id=$(printf '%s' "$IDS" | jq -r '.[0]')
  api "connection $1: access groups" "$API/plugins/access_control/conn/$_id"
  case $API_STATUS in
    200) _cur=$(printf '%s' "$API_BODY" | jq -c '.config // []') || fail "connection $1: access groups: the gateway's answer is not JSON" ;;
    404) _cur='[]' ;;
    *) want "connection $1: access groups" 200 ;;
  esac
  _new=$(jq -c --argjson cur "$_cur" 'if (.config - $cur) == [] then empty else {config: (($cur + .config) | unique)} end' "$2")
  [ -n "$_new" ] || { echo "register.sh: connection $1: access groups unchanged"; return 0; }
  api "connection $1: access groups" -X PUT --data-binary "$_new" "$API/plugins/access_control/conn/$_id"
  [ "$API_STATUS" != 404 ] || fail "connection $1: access groups: hoop's access_control plugin is not enabled; enable it, or re-run unleak migrate without --groups"
  want "connection $1: access groups" 200
  echo "register.sh: connection $1: access groups set"
}
"##;

/// One machine identity for the gateway-native workloads (gateway/api/machineidentity):
/// a credential per connection, issued to the workload rather than to the admin's key,
/// not subject to reviews, and rotatable. PUT revokes the credentials of connections it
/// does not name (gateway/services/machineidentity.go:162, 209), so it always sends the union.
const MACHINE_IDENTITY: &str = r##"
# The workloads' machine identity: created when absent; when present, this plan's connections are added.
# A credential hoop issues now is stored at once; one issued by an earlier run stays where it was
# stored, and is rotated only when the vault lost it.
MI=$(jq -er '.name | strings' policy/machine-identity.json) || fail "policy/machine-identity.json is not JSON"
api "machine identity $MI" "$API/machineidentities/$MI"
case $API_STATUS in
  404)
    api "machine identity $MI: creating it" -X POST --data-binary @policy/machine-identity.json "$API/machineidentities"
    want "machine identity $MI: creating it" 201
    CREDS=$(printf '%s' "$API_BODY" | jq -c '.credentials // []') || fail "machine identity $MI: the gateway's answer is not JSON" ;;
  200)
    _put=$(printf '%s' "$API_BODY" | jq -c --slurpfile new policy/machine-identity.json '$new[0].connection_names as $w
      | if ($w - (.connection_names // [])) == [] then empty else
        {name, description, attributes: (.attributes // []), connection_names: (((.connection_names // []) + $w) | unique)} end') \
      || fail "machine identity $MI: the gateway's answer is not JSON"
    CREDS='[]'
    if [ -n "$_put" ]; then
      api "machine identity $MI: adding connections" -X PUT --data-binary "$_put" "$API/machineidentities/$MI"
      want "machine identity $MI: adding connections" 200
      CREDS=$(printf '%s' "$API_BODY" | jq -c '.new_credentials // []') || fail "machine identity $MI: the gateway's answer is not JSON"
    fi ;;
  *) want "machine identity $MI" 200 ;;
esac
# Machine identities are not exempt from approvals: a connection whose connect needs one (reviewers
# on the connection, or a jit / jit_command rule the admin group does not skip) holds each of the
# workload's sessions until someone approves (gateway/transport/interceptors/accessrequest/accessrequest.go:149-275;
# the identity's sessions carry the admin group, gateway/transport/interceptors/auth/auth.go:402-411).
api "listing access-request rules" "$API/access-requests/rules"
want "listing access-request rules" 200
RULES=$API_BODY
# gated CONNECTION: warn when connect to CONNECTION waits for an approval.
gated() {
  api "connection $1: reading it" "$API/connections/$1"
  want "connection $1: reading it" 200
  _why=$(printf '%s' "$API_BODY" | jq -r '(.reviewers // []) | select(length > 0) | "it has reviewers (\(join(", ")))"') \
    || fail "connection $1: the gateway's answer is not JSON"
  [ -n "$_why" ] || _why=$(printf '%s' "$RULES" | jq -r --arg c "$1" '[.data[]?
      | select((.access_type == "jit" or .access_type == "jit_command") and ((.connection_names // []) | any(. == $c)))
      | select(if ((.approval_required_groups // []) | length) > 0 then (.approval_required_groups | any(. == "admin"))
        else ((.skip_review_groups // []) | any(. == "admin") | not) end)
      | "the access-request rule \(.name) asks for a just-in-time approval"] | first // empty') \
    || fail "listing access-request rules: the gateway's answer is not JSON"
  [ -z "$_why" ] || echo "register.sh: warning: connection $1: $_why, so hoop holds each session of the workload's machine identity until someone approves it; take the connection out of that review for the workload to work" >&2
}
# credential CONNECTION MOUNT PATH KEY: keep the workload's gateway credential for CONNECTION in the vault,
# with the listener's hostname and port hoop reports for it (keys HOSTNAME, PORT) when it reports them.
credential() {
  _cred=$(printf '%s' "$CREDS" | jq -c --arg c "$1" 'map(select(.connection_name == $c))[0] // empty')
  _tok=$(printf '%s' "$_cred" | jq -r '.proxy_token // empty | strings')
  if [ -z "$_tok" ]; then
    if _v=$("$VAULT" kv get -mount="$2" -field="$4" "$3" 2>/dev/null) && [ -n "$_v" ] && [ "$_v" != null ]; then
      _v=; echo "register.sh: connection $1: the workload's credential is in the vault already"; return 0
    fi
    api "connection $1: issuing the workload's credential" -X POST "$API/machineidentities/$MI/credentials/$1/rotate"
    want "connection $1: issuing the workload's credential" 201
    _cred=$API_BODY
    _tok=$(printf '%s' "$_cred" | jq -r '.proxy_token // empty | strings' 2>/dev/null) || _tok=
  fi
  case $_tok in
    ""|null) fail "connection $1: the gateway answered without a proxy_token; nothing was stored" ;;
  esac
  _host=$(printf '%s' "$_cred" | jq -r '.hostname // empty | strings' 2>/dev/null) || _host=
  _port=$(printf '%s' "$_cred" | jq -r '.port // empty | strings' 2>/dev/null) || _port=
  case $_host in *[!A-Za-z0-9.:_-]*) _host= ;; esac
  case $_port in *[!0-9]*) _port= ;; esac
  printf '%s' "$_tok" | "$VAULT" kv put -mount="$2" "$3" "$4=-" ${_host:+"HOSTNAME=$_host"} ${_port:+"PORT=$_port"} >/dev/null \
    || fail "connection $1: storing the workload's credential in the vault failed"
  _tok= _cred=
  echo "register.sh: connection $1: the workload's credential is stored"
}
"##;
fn kv_get(p: &VaultPointer) -> String {
    format!(
        "\"$VAULT\" kv get -mount={} -field={} {}",
        shell_word(&p.mount),
        shell_word(&p.key),
        shell_word(&p.path)
    )
}

/// `hoop/register.sh` for a plan.
pub fn register_sh(plan: &Plan) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "#!/bin/sh");
    let _ = writeln!(s, "# {HEADER}");
    let _ = writeln!(s, "# Creates the hoop connections through hoop's REST API, checks that they hold only secret references,");
    let _ = writeln!(s, "# applies the policies in policy/, gives the gateway-native workloads a machine identity and feeds");
    let _ = writeln!(s, "# platform secrets from the vault. It runs no hoop CLI (connections.yaml is for those who do).");
    let _ = writeln!(s, "# Needs: curl, jq; HOOP_APIURL (the gateway's URL) and HOOP_TOKEN (an API key of a user in hoop's");
    let _ = writeln!(s, "# admin group: creating connections and policies is admin-only); for the vault steps, vault or bao");
    let _ = writeln!(s, "# (VAULT_CLI=bao) with VAULT_ADDR and VAULT_TOKEN.");
    let _ = writeln!(s, "# Safe to run again: it creates what is missing and adds this plan's connections to what exists;");
    let _ = writeln!(
        s,
        "# reviewers, guardrails, attributes and keys set in hoop since are kept."
    );
    let _ = writeln!(
        s,
        "# Fails closed: every HTTP status is checked, and nothing empty is ever stored."
    );
    let _ = writeln!(s, "set -eu");
    let _ = writeln!(s, "cd \"$(dirname \"$0\")\"");
    let _ = writeln!(
        s,
        ": \"${{HOOP_APIURL:?set HOOP_APIURL to the gateway API URL}}\""
    );
    let _ = writeln!(
        s,
        ": \"${{HOOP_TOKEN:?set HOOP_TOKEN to a hoop API key of the admin group}}\""
    );
    let _ = writeln!(s, "[ \"$HOOP_TOKEN\" != null ] || {{ echo 'register.sh: HOOP_TOKEN is \"null\": set it to a hoop API key of the admin group' >&2; exit 1; }}");
    let _ = writeln!(s, "VAULT=\"${{VAULT_CLI:-vault}}\"");
    if plan.settings.vault_namespace.is_some() {
        let _ = writeln!(
            s,
            "# The namespace is part of every path below, as in hoop's references."
        );
        let _ = writeln!(s, "unset VAULT_NAMESPACE");
    }
    s.push_str(HELPERS);
    if !plan.connections.is_empty() {
        s.push_str(CONNECTION);
        let agent = shell_word(&plan.settings.agent);
        let _ = writeln!(s);
        let _ = writeln!(s, "# Connections.");
        let _ = writeln!(s, "api \"listing agents\" \"$API/agents\"");
        let _ = writeln!(s, "want \"listing agents\" 200");
        let _ = writeln!(s, "_agent={agent}");
        let _ = writeln!(
            s,
            "HOOP_AGENT_ID=$(printf '%s' \"$API_BODY\" | jq -r --arg n \"$_agent\" '.[]? | select(.name == $n) | .id | strings' | head -n 1)"
        );
        let _ = writeln!(
            s,
            "[ -n \"$HOOP_AGENT_ID\" ] || fail \"no hoop agent is named $_agent (unleak migrate --agent)\""
        );
        for c in &plan.connections {
            let _ = writeln!(s, "connection {}", shell_word(&c.name));
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "# Every secret-bearing key must be a reference, never an inline value."
        );
        let _ = writeln!(s, "check() {{");
        let _ = writeln!(s, "  api \"connection $1\" \"$API/connections/$1\"");
        let _ = writeln!(s, "  want \"connection $1\" 200");
        let _ = writeln!(
            s,
            "  printf '%s' \"$API_BODY\" | jq -e --arg k \"envvar:$2\" '.secret[$k] | strings | @base64d | test(\"^_(vaultkv2|aws):\")' >/dev/null \\"
        );
        let _ = writeln!(
            s,
            "    || fail \"connection $1: $2 is not a secret reference\""
        );
        let _ = writeln!(s, "}}");
        for c in &plan.connections {
            for k in &c.secret_keys {
                let _ = writeln!(s, "check {} {}", shell_word(&c.name), shell_word(k));
            }
        }
    }
    let files = policy_files(plan);
    let has = |rel: &str| files.iter().find(|f| f.rel == rel);
    let policy_steps = [
        "policy/access-request-rule.json",
        "policy/jit-rule.json",
        "policy/datamasking-rule.json",
        "policy/guardrail.json",
        "policy/access-control.json",
    ];
    if policy_steps.iter().any(|r| has(r).is_some()) {
        s.push_str(POLICIES);
        let _ = writeln!(s);
        let _ = writeln!(s, "# Policies, once the connections exist.");
    }
    for (rel, name, hint) in [
        (
            "policy/access-request-rule.json",
            "exec-review",
            "the API key must be in hoop's admin group; hoop's OSS edition keeps one access-request rule",
        ),
        (
            "policy/jit-rule.json",
            "connect-jit",
            "hoop's OSS edition keeps one access-request rule: re-run unleak migrate with --jit none to ask for exec review only",
        ),
    ] {
        if has(rel).is_some() {
            let _ = writeln!(
                s,
                "access_rule {} {rel} {}",
                shell_word(&resource_name(plan, name)),
                shell_word(hint)
            );
        }
    }
    for (rel, what, route, name, hint) in [
        ("policy/datamasking-rule.json", "data-masking rule", "datamasking-rules", "masking", "a gateway without a masking provider cannot mask: configure one, or re-run unleak migrate with --masking none"),
        ("policy/guardrail.json", "guardrail", "guardrails", "deny-words", "re-run unleak migrate without --deny-words to go without"),
    ] {
        if let Some(f) = has(rel) {
            let list: Vec<String> = f.connections.iter().map(|c| shell_word(c)).collect();
            let _ = writeln!(s, "ids {}", list.join(" "));
            let _ = writeln!(
                s,
                "attach {} {} {} {} {}",
                shell_word(what),
                route,
                shell_word(&resource_name(plan, name)),
                rel,
                shell_word(hint)
            );
        }
    }
    if let Some(f) = has("policy/access-control.json") {
        for c in &f.connections {
            let _ = writeln!(s, "groups {} policy/access-control.json", shell_word(c));
        }
    }
    if has("policy/machine-identity.json").is_some() {
        s.push_str(MACHINE_IDENTITY);
        for c in plan.connections.iter() {
            let Some(p) = &c.credential else { continue };
            let _ = writeln!(s, "gated {}", shell_word(&c.name));
            let _ = writeln!(
                s,
                "credential {} {} {} {}",
                shell_word(&c.name),
                shell_word(&p.mount),
                shell_word(&p.path),
                shell_word(&p.key)
            );
        }
    }
    let mut github = BTreeMap::new();
    let mut notes = Vec::new();
    for f in &plan.findings {
        let (Some(p), Some(platform)) = (slot_pointer(plan, f), &f.platform) else {
            continue;
        };
        match platform {
            PlatformRef::GithubSecret { name } => {
                github.insert(name.clone(), kv_get(p));
            }
            // The file name is only said, never run: escaped so it cannot end the comment.
            PlatformRef::ComposeSecret { env, .. } => notes.push(format!(
                "# before `docker compose up` ({}): export {}=\"$({})\"",
                printable(&f.file),
                shell_word(env),
                kv_get(p)
            )),
            PlatformRef::BuildSecret { id, env } => notes.push(format!(
                "# to build {}: export {}=\"$({})\"; docker build --secret {} .",
                printable(&f.file),
                shell_word(env),
                kv_get(p),
                shell_word(&format!("id={id},env={env}"))
            )),
            PlatformRef::EnvVar { name } => notes.push(format!(
                "# at run time ({}): export {}=\"$({})\"",
                printable(&f.file),
                shell_word(name),
                kv_get(p)
            )),
            PlatformRef::K8sSecret { .. } => {}
        }
    }
    if !github.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "# GitHub Actions secrets, from the vault (gh reads the value on stdin)."
        );
        for (name, get) in github {
            let what = shell_word(&format!("GitHub secret {name}"));
            let _ = writeln!(
                s,
                "_v=$({get}) && [ -n \"$_v\" ] || fail {what}\": the vault gave no value\""
            );
            let _ = writeln!(
                s,
                "printf '%s' \"$_v\" | gh secret set {} || fail {what}\": gh secret set failed\"",
                shell_word(&name)
            );
        }
        let _ = writeln!(s, "_v=");
    }
    if !notes.is_empty() {
        notes.sort();
        notes.dedup();
        let _ = writeln!(s);
        let _ = writeln!(s, "# Where workloads read their secrets from now:");
        for n in notes {
            let _ = writeln!(s, "{n}");
        }
    }
    if plan
        .findings
        .iter()
        .any(|f| matches!(f.platform, Some(PlatformRef::K8sSecret { .. })))
    {
        let _ = writeln!(
            s,
            "# Kubernetes: kubectl apply -f ../k8s/external-secrets.yaml"
        );
    }
    s
}
