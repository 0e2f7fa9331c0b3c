//! The gateway policies a plan asks hoop for, and their REST API bodies.
//!
//! Owns: the policy settings (`--env`, `--reviewers`, `--jit`, `--workload-groups`,
//! `--groups`, `--masking`, `--deny-words`), their validation as hoop's API validates
//! them, which connections each policy covers, and the JSON bodies under `hoop/policy/`:
//! access-request rules (exec review, JIT approval of connect), a data-masking rule, a
//! guardrail, the access-control groups and one machine identity for the gateway-native
//! workloads. Facts are from hoop's source (hoophq/hoop @ e939597),
//! cited `file:line` next to each body. Does not own: applying them (`register`, which
//! fills in connection ids at run time) or the connections themselves (`planner`).

use crate::model::{Connection, Plan};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The values hoop allows for its system tag `hoop.dev/infrastructure.environment`
/// (gateway/api/connections/defaults.go:12).
pub const ENVIRONMENTS: &[&str] = &["prod", "staging", "dev", "qa", "sandbox"];

/// Who reviews when `--reviewers` is not given: hoop's built-in admin group
/// (`types.GroupAdmin`, used by gateway/api/apiroutes/auth.go).
pub const DEFAULT_REVIEWERS: &[&str] = &["admin"];

/// Entity types masked on database connections by default: contact and payment data,
/// from the webapp's presets (gateway/api/mcpserver/tools_datamasking.go:38).
pub const DEFAULT_MASKING: &[&str] = &[
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
];

/// The longest JIT window a reviewed connection opens for when `--jit` is not given.
pub const DEFAULT_JIT_SECONDS: u32 = 3600;

/// The shortest `--jit`: a `hoop connect` that names no duration asks for 15 minutes,
/// and hoop refuses that when the rule's maximum is shorter
/// (gateway/transport/interceptors/accessrequest/accessrequest.go:187, 226-237).
pub const MIN_JIT_SECONDS: u32 = 15 * 60;

/// The longest `--jit`: hoop's ceiling on any access window
/// (gateway/api/connections/connection_credentials.go:45; accessrequest.go:236).
pub const MAX_JIT_SECONDS: u32 = 48 * 3600;

/// The policies of a plan, as given on the command line.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Policy {
    /// `--env`: the environment of every connection. None: each connection's environment
    /// comes from the paths it was found in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// `--reviewers`: the groups that approve exec on every connection. Empty: `prod`
    /// connections only, approved by `DEFAULT_REVIEWERS`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reviewers: Vec<String>,
    /// `--jit`: the longest window, in seconds, a just-in-time approval opens `connect`
    /// for on the reviewed connections that workloads reach through `hoop connect`.
    /// None: `--jit none`, or a plan made before JIT rules existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jit_seconds: Option<u32>,
    /// `--workload-groups`: the user groups of the hoop API keys the workloads' tunnels
    /// use. They skip the JIT approval (the rule's `skip_review_groups`); exec stays
    /// reviewed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workload_groups: Vec<String>,
    /// `--groups`: the only user groups allowed to use the connections (hoop's
    /// access_control plugin). Empty: hoop's default, every user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// `--masking`: entity types masked in database results. Empty: no masking.
    #[serde(default)]
    pub masking: Vec<String>,
    /// `--deny-words`: words a guardrail refuses in input to database connections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_words: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            environment: None,
            reviewers: Vec::new(),
            jit_seconds: Some(DEFAULT_JIT_SECONDS),
            workload_groups: Vec::new(),
            groups: Vec::new(),
            masking: DEFAULT_MASKING.iter().map(|s| s.to_string()).collect(),
            deny_words: Vec::new(),
        }
    }
}

/// `--env`: one of hoop's environment tag values.
pub fn check_environment(env: &str) -> Result<(), String> {
    if ENVIRONMENTS.contains(&env) {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an environment hoop knows; use one of {}",
            crate::text::printable(env),
            ENVIRONMENTS.join(", ")
        ))
    }
}

/// A user group name for `--reviewers` / `--groups`. hoop reviews and restricts by group,
/// never by user (`reviewers_groups`, types.go:3538; access_control config, types.go:1281).
pub fn check_group(group: &str) -> Result<(), String> {
    if group.contains('@') {
        return Err(format!(
            "`{}` looks like an e-mail address: hoop approves and restricts by user group, so give the group its reviewers belong to",
            crate::text::printable(group)
        ));
    }
    if group.is_empty()
        || !group
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(format!(
            "`{}` is not a group name (letters, digits, `-`, `_`, `.`)",
            crate::text::printable(group)
        ));
    }
    Ok(())
}

/// An entity type for `--masking`: upper-case letters, digits and `_`, as hoop requires
/// (gateway/api/datamasking/datamasking.go:84-112).
pub fn check_entity_type(t: &str) -> Result<(), String> {
    if !t.is_empty()
        && t.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
    {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an entity type: hoop wants upper-case letters, digits and `_` (e.g. EMAIL_ADDRESS)",
            crate::text::printable(t)
        ))
    }
}

/// `--jit`: `none`, or a duration written as hoop's CLI takes one (`90m`, `1h`, `1h30m`,
/// `3600s`), between 15 minutes and 48 hours. Returns the seconds.
pub fn parse_jit(text: &str) -> Result<Option<u32>, String> {
    let t = text.trim();
    if t == "none" {
        return Ok(None);
    }
    let bad = || {
        format!(
            "`{}` is not a duration: write it as 90m, 1h, 1h30m or 3600s, or `none`",
            crate::text::printable(text)
        )
    };
    let mut total: u64 = 0;
    let mut digits = String::new();
    let mut units = 0;
    for c in t.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
        let n: u64 = digits.parse().map_err(|_| bad())?;
        total = total.saturating_add(n.saturating_mul(unit));
        digits.clear();
        units += 1;
    }
    if units == 0 || !digits.is_empty() {
        return Err(bad());
    }
    if total < u64::from(MIN_JIT_SECONDS) || total > u64::from(MAX_JIT_SECONDS) {
        return Err(format!(
            "`{}` is outside 15m..48h: hoop caps every access window at 48 hours, and a `hoop connect` that names no duration asks for 15 minutes",
            crate::text::printable(text)
        ));
    }
    Ok(Some(total as u32))
}

/// A duration as a person writes it: `1h`, `90m` → `1h30m`.
pub fn show_duration(seconds: u32) -> String {
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

/// A word for `--deny-words`: printable, no control characters.
pub fn check_deny_word(w: &str) -> Result<(), String> {
    if w.trim().is_empty() || w.chars().any(char::is_control) {
        Err(format!(
            "`{}` is not a word a guardrail can match",
            crate::text::printable(w)
        ))
    } else {
        Ok(())
    }
}

/// A policy file: its path under `hoop/`, its body, and the connections it covers.
pub struct PolicyFile {
    pub rel: String,
    pub body: String,
    pub connections: Vec<String>,
}

fn is_database(c: &Connection) -> bool {
    c.hoop_type.starts_with("database/")
}

fn is_prod(c: &Connection) -> bool {
    c.tags
        .get("hoop.dev/infrastructure.environment")
        .is_some_and(|e| e == "prod")
}

/// `unleak-<repo>-<what>`, a name hoop's resource regex accepts
/// (gateway/api/validation/validation.go:9).
pub fn resource_name(plan: &Plan, what: &str) -> String {
    let repo = crate::naming::slug(&plan.settings.repo);
    if repo.is_empty() {
        format!("unleak-{what}")
    } else {
        format!("unleak-{repo}-{what}")
    }
}

/// Connections whose exec needs approval: all of them when `--reviewers` was given, else
/// those in `prod`.
pub fn reviewed(plan: &Plan) -> Vec<&Connection> {
    let all = !plan.settings.policy.reviewers.is_empty();
    plan.connections
        .iter()
        .filter(|c| all || is_prod(c))
        .collect()
}

/// Reviewed connections whose `connect` needs a JIT approval: the ones workloads reach
/// through `hoop connect`. A gateway-native connection is left out: its workload holds a
/// machine identity, whose sessions pass hoop's access-request gate like a user's
/// (gateway/transport/client.go:205; the identity carries only the `admin` group,
/// gateway/transport/interceptors/auth/auth.go:402-411), so a JIT rule would hold every
/// one of its requests for approval, and only `skip_review_groups: [admin]` would let it
/// through, which would let every admin through too.
pub fn jit_gated(plan: &Plan) -> Vec<&Connection> {
    if plan.settings.policy.jit_seconds.is_none() {
        return Vec::new();
    }
    reviewed(plan)
        .into_iter()
        .filter(|c| c.credential.is_none())
        .collect()
}

/// What the operator must know about the policies before registering them.
pub fn warnings(plan: &Plan) -> Vec<String> {
    let p = &plan.settings.policy;
    let gated = jit_gated(plan);
    let mut out = Vec::new();
    if let (Some(secs), false, true) = (
        p.jit_seconds,
        gated.is_empty(),
        p.workload_groups.is_empty(),
    ) {
        out.push(format!(
            "connect to hoop connection(s) {} needs a just-in-time approval (at most {}): the workloads' `hoop connect` tunnels wait for it as people do, and are cut when it ends. Give the groups of the API keys they use with --workload-groups (they skip the approval; exec stays reviewed), or --jit none.",
            names(&gated).join(", "),
            show_duration(secs)
        ));
    }
    out
}

fn names(cs: &[&Connection]) -> Vec<String> {
    cs.iter().map(|c| c.name.clone()).collect()
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON bodies serialize");
    s.push('\n');
    s
}

/// Every policy body of the plan. `connection_ids` are empty in the files: hoop gives a
/// connection its id when it is created, so `register.sh` fills them in.
pub fn policy_files(plan: &Plan) -> Vec<PolicyFile> {
    let p = &plan.settings.policy;
    let mut out = Vec::new();
    let reviewed = reviewed(plan);
    if !reviewed.is_empty() {
        let groups: Vec<&str> = if p.reviewers.is_empty() {
            DEFAULT_REVIEWERS.to_vec()
        } else {
            p.reviewers.iter().map(String::as_str).collect()
        };
        // POST /api/access-requests/rules (server.go:693), AccessRequestRuleRequest
        // (types.go:3522-3551): name, access_type, connection_names,
        // approval_required_groups, reviewers_groups and force_approval_groups are
        // `binding:"required"`; access_type ∈ jit|command|jit_command, reviewers_groups
        // non-empty, min_approvals ≥ 1 unless all_groups_must_approve
        // (gateway/api/accessrequests/rules.go:19-57). `command` reviews each exec;
        // an empty approval_required_groups means every requester needs approval.
        let body = json!({
            "name": resource_name(plan, "exec-review"),
            "description": "Exec on these connections needs approval (unleak migrate).",
            "access_type": "command",
            "connection_names": names(&reviewed),
            "approval_required_groups": [],
            "all_groups_must_approve": false,
            "reviewers_groups": groups,
            "force_approval_groups": [],
            "min_approvals": 1,
        });
        out.push(PolicyFile {
            rel: "policy/access-request-rule.json".into(),
            body: pretty(&body),
            connections: names(&reviewed),
        });
    }
    let gated = jit_gated(plan);
    if let (Some(secs), false) = (p.jit_seconds, gated.is_empty()) {
        let groups: Vec<&str> = if p.reviewers.is_empty() {
            DEFAULT_REVIEWERS.to_vec()
        } else {
            p.reviewers.iter().map(String::as_str).collect()
        };
        // A rule of its own (access_type `jit`), so exec review and JIT approval differ
        // in who may skip them: the workloads' groups skip only the JIT approval. The
        // same validation as above; skip_review_groups needs an empty
        // approval_required_groups (rules.go:51-53), access_max_duration bounds the
        // window a requester may ask for (accessrequest.go:226-237). `jit` and
        // `command` rules may name the same connection (models/access_request_rules.go:17-25).
        let body = json!({
            "name": resource_name(plan, "connect-jit"),
            "description": "Connect to these connections needs a just-in-time approval (unleak migrate).",
            "access_type": "jit",
            "connection_names": names(&gated),
            "approval_required_groups": [],
            "all_groups_must_approve": false,
            "reviewers_groups": groups,
            "force_approval_groups": [],
            "skip_review_groups": p.workload_groups,
            "access_max_duration": secs,
            "min_approvals": 1,
        });
        out.push(PolicyFile {
            rel: "policy/jit-rule.json".into(),
            body: pretty(&body),
            connections: names(&gated),
        });
    }
    let databases: Vec<&Connection> = plan.connections.iter().filter(|c| is_database(c)).collect();
    if !p.masking.is_empty() && !databases.is_empty() {
        // POST /api/datamasking-rules (server.go:1177), DataMaskingRuleRequest
        // (types.go:2304-2321); entity-type names upper case, connection ids UUIDs of
        // existing connections, a duplicate name is 409 (datamasking.go:116-143, 268-272).
        // `redact_enabled` on a connection is read-only (models/connections.go:70), so
        // this rule is what masks.
        let body = json!({
            "name": resource_name(plan, "masking"),
            "description": "Masks personal and payment data in results (unleak migrate).",
            "connection_ids": [],
            "supported_entity_types": [{
                "name": "CUSTOM_SELECTION",
                "entity_types": p.masking,
            }],
            "custom_entity_types": [],
            "score_threshold": null,
        });
        out.push(PolicyFile {
            rel: "policy/datamasking-rule.json".into(),
            body: pretty(&body),
            connections: names(&databases),
        });
    }
    if !p.deny_words.is_empty() && !databases.is_empty() {
        // POST /api/guardrails (server.go:1150), GuardRailRuleRequest (types.go:1831-1880):
        // `name` required, input/output `{"rules": [...]}`, a duplicate name is 409
        // (guardrails.go:108-111).
        let body = json!({
            "name": resource_name(plan, "deny-words"),
            "description": "Refuses these words in input (unleak migrate).",
            "input": {"rules": [{
                "type": "deny_words_list",
                "words": p.deny_words,
                "pattern_regex": "",
                "message": "refused by the unleak-migrate guardrail",
            }]},
            "output": {"rules": []},
            "connection_ids": [],
        });
        out.push(PolicyFile {
            rel: "policy/guardrail.json".into(),
            body: pretty(&body),
            connections: names(&databases),
        });
    }
    if !p.groups.is_empty() && !plan.connections.is_empty() {
        // PUT /api/plugins/access_control/conn/:id (server.go:831), PluginConnectionRequest
        // (types.go:1279-1282): the groups allowed to use the connection.
        let all: Vec<&Connection> = plan.connections.iter().collect();
        out.push(PolicyFile {
            rel: "policy/access-control.json".into(),
            body: pretty(&json!({"config": p.groups})),
            connections: names(&all),
        });
    }
    let workloads: Vec<&Connection> = plan
        .connections
        .iter()
        .filter(|c| c.credential.is_some())
        .collect();
    if !workloads.is_empty() {
        // POST /api/machineidentities (server.go:374), MachineIdentity (types.go:3812-3820):
        // one credential per connection, which must have access_mode_connect enabled and
        // a subtype machine identities serve (gateway/services/machineidentity.go:16, 58-80).
        let body = json!({
            "name": resource_name(plan, "workloads"),
            "description": "The workloads of this repository (unleak migrate).",
            "connection_names": names(&workloads),
            "attributes": [],
        });
        out.push(PolicyFile {
            rel: "policy/machine-identity.json".into(),
            body: pretty(&body),
            connections: names(&workloads),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_checked_as_hoop_checks_them() {
        assert!(check_environment("prod").is_ok());
        assert!(check_environment("production").is_err());
        assert!(check_group("dba").is_ok());
        let e = check_group("alice@example.com").unwrap_err();
        assert!(e.contains("user group"), "{e}");
        assert!(check_group("a b").is_err());
        assert!(check_group("").is_err());
        assert!(check_entity_type("EMAIL_ADDRESS").is_ok());
        assert!(check_entity_type("email_address").is_err());
        assert!(check_entity_type("").is_err());
        assert!(check_deny_word("DROP TABLE").is_ok());
        assert!(check_deny_word(" ").is_err());
        assert!(check_deny_word("a\nb").is_err());
    }

    #[test]
    fn jit_durations_are_read_and_bounded_as_hoop_bounds_them() {
        assert_eq!(parse_jit("1h"), Ok(Some(3600)));
        assert_eq!(parse_jit("90m"), Ok(Some(5400)));
        assert_eq!(parse_jit("1h30m"), Ok(Some(5400)));
        assert_eq!(parse_jit(" 900s "), Ok(Some(900)));
        assert_eq!(parse_jit("48h"), Ok(Some(MAX_JIT_SECONDS)));
        assert_eq!(parse_jit("none"), Ok(None));
        for bad in ["", "1", "h", "1d", "1h30", "-1h", "1.5h"] {
            assert!(
                parse_jit(bad).unwrap_err().contains("not a duration"),
                "{bad}"
            );
        }
        for out in ["14m", "49h", "0s"] {
            assert!(parse_jit(out).unwrap_err().contains("15m..48h"), "{out}");
        }
        assert_eq!(show_duration(3600), "1h");
        assert_eq!(show_duration(5400), "1h30m");
        assert_eq!(show_duration(900), "15m");
    }

    #[test]
    fn masking_is_on_for_databases_by_default() {
        assert_eq!(Policy::default().masking.len(), DEFAULT_MASKING.len());
        assert!(Policy::default().reviewers.is_empty());
        for t in DEFAULT_MASKING {
            check_entity_type(t).unwrap();
        }
    }
}
