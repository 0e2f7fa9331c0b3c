//! The migration plan as data: what `plan.json` holds and `apply` reads back.
//!
//! Owns: the versioned plan schema (files with masked checksums and edits, findings with
//! their strategy, connection and vault pointer, connections, vault writes, the rotation
//! list) and its JSON form. Never holds a secret value or a hash of one: edits carry
//! replacement text only, vault writes point at byte spans of the file. Does not own: how
//! a plan is made (`planner`) or carried out (`apply`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The `schema` value of every plan this version writes and reads.
pub const PLAN_SCHEMA: &str = "unleak.dev/migrate/v1";

/// How one secret leaves the repository.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// The file points at a credential-less local endpoint (`hoop connect`, a sidecar).
    GatewayTunnel,
    /// The workload reaches the gateway's listener with a minted gateway credential.
    GatewayNative,
    /// No gateway fit: the value goes to the vault, the file points at the platform's
    /// secret mechanism.
    PlatformRef,
    /// Code must change; the plan says what.
    Manual,
}

impl Strategy {
    /// The name the plan and the table use (`gateway-tunnel`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::GatewayTunnel => "gateway-tunnel",
            Strategy::GatewayNative => "gateway-native",
            Strategy::PlatformRef => "platform-ref",
            Strategy::Manual => "manual",
        }
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The file types migrate knows how to rewrite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A `.env` file.
    Dotenv,
    /// A Dockerfile.
    Dockerfile,
    /// A Kubernetes manifest.
    Kubernetes,
    /// A Helm chart's values file.
    HelmValues,
    /// A Docker Compose file.
    Compose,
    /// A GitHub Actions workflow.
    GithubWorkflow,
    /// Any other file: its secrets are planned as `manual`.
    Other,
}

/// `plan.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Plan {
    /// Always [`PLAN_SCHEMA`]; read first, so an older or newer plan is refused by name.
    pub schema: String,
    /// The choices the plan was made with.
    pub settings: Settings,
    /// The files the plan edits or reads values from.
    pub files: Vec<PlannedFile>,
    /// Every secret and what happens to it.
    pub findings: Vec<PlannedFinding>,
    /// The hoop connections to create.
    pub connections: Vec<Connection>,
    /// The values to store in the vault before the files change.
    pub vault_writes: Vec<VaultWrite>,
    /// Every secret to rotate, history-only ones included.
    pub rotation: Vec<RotationItem>,
    /// What the plan could not do by itself, for the user to read (redacted).
    pub warnings: Vec<String>,
}

impl Plan {
    /// Nothing to migrate: no finding, no history-only secret to rotate.
    pub fn is_empty(&self) -> bool {
        self.findings.is_empty() && self.rotation.is_empty()
    }

    /// Whether applying the plan changes any file.
    pub fn has_edits(&self) -> bool {
        self.files.iter().any(|f| !f.edits.is_empty())
    }

    /// The plan as `plan.json` writes it: pretty JSON with a final newline.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("plans serialize");
        s.push('\n');
        s
    }

    /// A plan read back from `plan.json`; one of another schema is refused with a message saying so.
    pub fn from_json(text: &str) -> Result<Plan, crate::MigrateError> {
        #[derive(Deserialize)]
        struct Head {
            schema: String,
        }
        let head: Head =
            serde_json::from_str(text).map_err(|e| crate::MigrateError::PlanFormat {
                message: e.to_string(),
            })?;
        if head.schema != PLAN_SCHEMA {
            return Err(crate::MigrateError::PlanFormat {
                message: format!(
                    "schema `{}` is not `{PLAN_SCHEMA}`; re-run unleak migrate to make a new plan",
                    head.schema
                ),
            });
        }
        serde_json::from_str(text).map_err(|e| crate::MigrateError::PlanFormat {
            message: e.to_string(),
        })
    }
}

/// The choices a plan was made with.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Settings {
    /// The hoop agent connections run on.
    pub agent: String,
    /// Always `vault-kv2`: references are written as `_vaultkv2:`.
    pub vault_provider: String,
    /// The KV v2 mount, e.g. `secret`.
    pub vault_mount: String,
    /// Path prefix (inside the mount) of the secrets hoop connections read.
    pub connection_prefix: String,
    /// Path prefix of the secrets workloads read through their platform.
    pub platform_prefix: String,
    /// Prepended to every connection name (`--name-prefix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_prefix: Option<String>,
    /// The repository slug vault paths are scoped by (`<prefix>/<repo>/<name>`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub repo: String,
    /// The vault namespace, written into every path and reference (hoop's agent sends no
    /// namespace header).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_namespace: Option<String>,
    /// The gateway policies asked for (`hoop/policy/`).
    #[serde(default)]
    pub policy: crate::policy::Policy,
    /// `--gateway-url`: hoop's HTTP proxy listener as workloads reach it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_url: Option<String>,
}

/// A file the plan edits or reads values from.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlannedFile {
    /// The path as reports show it.
    pub path: String,
    /// Which rewriter edits it.
    pub kind: FileKind,
    /// `sha256:` of the file with every secret span replaced by its finding id, so a
    /// changed file is detected without hashing a secret.
    pub checksum: String,
    /// The secret spans the checksum masks.
    pub masked: Vec<MaskedSpan>,
    /// Replacements, sorted and non-overlapping, in bytes of the planned file.
    pub edits: Vec<Edit>,
}

/// A secret's byte span in a planned file, masked by its finding id in the checksum.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MaskedSpan {
    /// The finding id ([`PlannedFinding::id`]).
    pub finding: String,
    /// The rule that found the secret.
    pub rule_id: String,
    /// First byte of the secret.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// One replacement in a planned file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Edit {
    /// First byte replaced.
    pub start: usize,
    /// One past the last byte replaced.
    pub end: usize,
    /// The text written instead (a reference, never a value).
    pub replacement: String,
    /// The findings this edit serves.
    pub findings: Vec<String>,
}

/// One secret and what happens to it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PlannedFinding {
    /// `sha256(rule | path | key | occurrence)`, 16 hex: no value goes in.
    pub id: String,
    /// The rule that found the secret.
    pub rule_id: String,
    /// The rule's name, for the table.
    pub rule_name: String,
    /// The file it is in.
    pub file: String,
    /// Its line (1-based).
    pub line: usize,
    /// Its column (1-based).
    pub column: usize,
    /// The key the value sits under, when the file names one (`DB_PASSWORD`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// How the secret leaves the repository.
    pub strategy: Strategy,
    /// The hoop connection that takes its place, for the gateway strategies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// Where the value is kept once seeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultPointer>,
    /// What the file reads instead of the value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<PlatformRef>,
    /// Every migrated secret was exposed: it must be rotated.
    pub rotate: bool,
    /// What the user does next, in one sentence.
    pub instruction: String,
}

/// A KV v2 location and the reference string hoop resolves.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct VaultPointer {
    /// The mount, e.g. `secret`, after the namespace when there is one (`ns1/secret`).
    pub mount: String,
    /// The path inside the mount, e.g. `hoop/pg-orders-db-prod-internal-orders`.
    pub path: String,
    /// The key inside the secret at `path`.
    pub key: String,
    /// `_vaultkv2:<mount>/data/<path>:<key>`.
    pub reference: String,
}

impl VaultPointer {
    /// The pointer to `key` at `path` in `mount`, with its `_vaultkv2:` reference.
    pub fn new(mount: &str, path: &str, key: &str) -> Self {
        VaultPointer {
            mount: mount.to_string(),
            path: path.to_string(),
            key: key.to_string(),
            reference: format!("_vaultkv2:{mount}/data/{path}:{key}"),
        }
    }

    /// `mount/path#key`, as tables and notes show it. Not `path:key`: a path named after
    /// a password variable followed by `:` would read as an assignment to scanners.
    pub fn display(&self) -> String {
        format!("{}/{}#{}", self.mount, self.path, self.key)
    }
}

/// The platform mechanism a rewritten file reads the secret through.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PlatformRef {
    /// An environment variable the runtime injects (`.env`, `docker run -e`).
    EnvVar {
        /// The variable's name.
        name: String,
    },
    /// A BuildKit secret mounted into `RUN` as an environment variable.
    BuildSecret {
        /// The secret's id (`--mount=type=secret,id=…`).
        id: String,
        /// The variable `RUN` reads it as.
        env: String,
    },
    /// A Kubernetes Secret key, filled by an External Secrets `ExternalSecret`.
    K8sSecret {
        /// The namespace, when the manifest names one.
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
        /// The Secret's name.
        name: String,
        /// The key inside the Secret.
        key: String,
    },
    /// A compose secret sourced from the runner's environment variable `env`.
    ComposeSecret {
        /// The compose secret's name.
        name: String,
        /// The runner's variable it is sourced from.
        env: String,
    },
    /// A GitHub Actions repository secret.
    GithubSecret {
        /// The repository secret's name (`${{ secrets.NAME }}`).
        name: String,
    },
}

/// A hoop connection, in the fields of hoop's batch file and REST API.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Connection {
    /// The connection's name, unique in the plan.
    pub name: String,
    /// `type/subtype`, e.g. `database/postgres`, `httpproxy/httpproxy`.
    pub hoop_type: String,
    /// How workloads reach it.
    pub strategy: Strategy,
    /// The local port `hoop connect` listens on for tunnel connections.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub local_port: Option<u16>,
    /// Env keys: inline non-secret values and `_vaultkv2:` references.
    pub env: BTreeMap<String, String>,
    /// The keys of `env` that are references.
    pub secret_keys: Vec<String>,
    /// Tags hoop shows and filters by (repository, source file).
    pub tags: BTreeMap<String, String>,
    /// Whether `hoop admin create connections --from-file` accepts the type (it does not
    /// validate `oracledb`; those go through the REST body).
    pub batch: bool,
    /// gateway-native: where `register.sh` stores the minted gateway credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<VaultPointer>,
    /// The findings the connection replaces.
    pub findings: Vec<String>,
}

/// One value to write into the vault, read from the file at apply time.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct VaultWrite {
    /// Where the value goes.
    pub pointer: VaultPointer,
    /// Where the value is read from at apply time.
    pub source: ValueSource,
    /// The findings whose value this is.
    pub findings: Vec<String>,
}

/// Where a value is: a byte span of a planned file, plus how to turn it into the stored
/// value. Never the value itself.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ValueSource {
    /// The planned file the value is in.
    pub file: String,
    /// First byte of the value.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
    /// Literal text stored before the span (e.g. `Bearer ` for an Authorization header).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub prefix: String,
    /// The span is percent-encoded (a URI password).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub percent_decode: bool,
    /// The span is base64 (a Kubernetes Secret's `data:`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub base64_decode: bool,
}

/// A secret that must be rotated: every migrated one, and those only in history.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RotationItem {
    /// The rule that found the secret.
    pub rule_id: String,
    /// The rule's name, for the table.
    pub rule_name: String,
    /// `file:line`, or `commit:path` for a history-only secret.
    pub location: String,
    /// The planned finding, for a secret in the working tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// Where the value was stored, when it was seeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultPointer>,
    /// Found only in git history: nothing to rewrite, only to rotate.
    pub history_only: bool,
    /// The rule's `references` (the provider's pages on its keys), for where to rotate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// Found only in a container image given with `--image` (`location` names the image,
    /// layer and path): rotate it and rebuild the image; nothing to rewrite.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub image_only: bool,
}
