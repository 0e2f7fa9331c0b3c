//! The TOML shape of a rule file: `[[rules]]` tables, one provider per file.

use serde::Deserialize;
use unleak_core::Confidence;

/// One rule file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Its `[[rules]]` tables.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// One rule as written in TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Stable kebab-case id, e.g. `github-pat-classic`.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// What the secret is and what it opens.
    #[serde(default)]
    pub description: String,
    /// Literals (matched ASCII-case-insensitively) of which one must occur in a match's
    /// neighbourhood; they drive the prefilter. A path-scoped rule may have none: it then
    /// reads every file its `paths` match, whole.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Globs on the blob's path (case-insensitive, `*` stays inside one path component):
    /// when given, the rule runs only on blobs whose path one of them matches, and on no
    /// other input (standard input and decoded runs have no path).
    #[serde(default)]
    pub paths: Vec<String>,
    /// A regex (Rust `regex` syntax, linear time) with a named group `secret`.
    pub regex: String,
    /// Shannon entropy floor (bits per byte) of the `secret` group.
    #[serde(default)]
    pub min_entropy: Option<f64>,
    /// How sure a match is: `high` for a prefix or checksum, `medium` for a secret-like key, `low` for entropy alone.
    pub confidence: Confidence,
    /// What a leak of this secret exposes; unset, it follows from the tags (see
    /// [`Impact::of_rule`]). Confidence says how sure a match is, impact how bad it is.
    #[serde(default)]
    pub impact: Option<Impact>,
    /// Free-form tags (`api-token`, `generic`, the provider).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The vendor's documentation of the token format.
    #[serde(default)]
    pub references: Vec<String>,
    /// A documented public prefix of the secret (e.g. `ghp_`): the only part a redacted
    /// form may show.
    #[serde(default)]
    pub prefix: Option<String>,
    /// A structural check the secret must pass (checksum, decodable JSON, ...).
    #[serde(default)]
    pub check: Option<Check>,
    /// Whether the generic placeholder and example-value filter applies (default true).
    #[serde(default = "yes")]
    pub skip_placeholders: bool,
    /// How many bytes after a keyword a match may extend (default 512). Multi-line secrets
    /// such as PEM blocks need more.
    #[serde(default)]
    pub window: Option<usize>,
    /// Texts that must match; the secret found must equal the first generated value
    /// (`{{gen:…}}`) or the example's explicit `secret`.
    #[serde(default)]
    pub examples: Vec<Example>,
    /// Texts that must not match.
    #[serde(default)]
    pub negative_examples: Vec<NegativeExample>,
    /// The path examples without a `path` of their own are scanned under (a path-scoped
    /// rule's examples need one).
    #[serde(default)]
    pub example_path: Option<String>,
    /// How migrate reaches what this secret unlocks.
    #[serde(default)]
    pub gateway: Option<GatewayHint>,
    /// The other half of a two-part credential, which must stand near the secret for a
    /// match to count; the two are reported as one finding.
    #[serde(default)]
    pub companion: Option<CompanionSpec>,
}

/// How much a leaked secret of a rule exposes: what code scanning's `security-severity`
/// is made from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Impact {
    /// A test-mode key or half of a credential: little or nothing on its own.
    Low,
    /// A credential of unknown scope (a generic password or token assignment), or key
    /// material that still needs a passphrase.
    Medium,
    /// A working credential for one service (the default for a provider's rule).
    High,
    /// The keys to a cloud account, real money or an identity: a cloud root or service-
    /// account key, a live payment secret key, an unencrypted private key.
    Critical,
}

impl Impact {
    /// A rule's impact: the one it states, else `medium` for a rule tagged `generic` (it
    /// cannot know what the value opens) and `high` for any provider's credential.
    pub fn of_rule(stated: Option<Impact>, tags: &[String]) -> Impact {
        stated.unwrap_or(if tags.iter().any(|t| t == "generic") {
            Impact::Medium
        } else {
            Impact::High
        })
    }

    /// The lowercase name, as rule files spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Impact::Low => "low",
            Impact::Medium => "medium",
            Impact::High => "high",
            Impact::Critical => "critical",
        }
    }
}

/// `[rules.companion]`: the part a secret is useless without (an AWS access key id beside
/// its secret access key, a Twilio account SID beside its auth token, a client id beside
/// its client secret).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanionSpec {
    /// A regex (Rust `regex` syntax) for the companion.
    pub regex: String,
    /// How many lines above or below the secret's lines the companion may stand
    /// (default 3; 0 is the same line).
    #[serde(default = "three")]
    pub within_lines: usize,
}

fn three() -> usize {
    3
}

use crate::Check;

fn yes() -> bool {
    true
}

/// A positive example: plain text, or a table with the text, the exact secret it must
/// yield and the path it is scanned under.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Example {
    /// Just the text.
    Text(String),
    /// The text with the secret it must yield or its path.
    Table(ExampleTable),
}

/// `{ text = "…", secret = "…", path = "…" }`; only `text` is required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExampleTable {
    /// The example text (placeholders such as `{{gen:…}}` allowed).
    pub text: String,
    /// The secret the text must yield.
    #[serde(default)]
    pub secret: Option<String>,
    /// The path the text is scanned under.
    #[serde(default)]
    pub path: Option<String>,
}

impl Example {
    /// The example text.
    pub fn text(&self) -> &str {
        match self {
            Example::Text(t) => t,
            Example::Table(t) => &t.text,
        }
    }
    /// The secret the example must yield, when it names one.
    pub fn secret(&self) -> Option<&str> {
        match self {
            Example::Text(_) => None,
            Example::Table(t) => t.secret.as_deref(),
        }
    }
    /// The example's own path.
    pub fn path(&self) -> Option<&str> {
        match self {
            Example::Text(_) => None,
            Example::Table(t) => t.path.as_deref(),
        }
    }
}

/// A negative example: plain text, or a table with the text and the path it is scanned
/// under (a path-scoped rule's near miss may be the right text under another name).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum NegativeExample {
    /// Just the text.
    Text(String),
    /// The text with the path it is scanned under.
    Table(NegativeTable),
}

/// `{ text = "…", path = "…" }`; only `text` is required.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NegativeTable {
    /// The text that must not match.
    pub text: String,
    /// The path the text is scanned under.
    #[serde(default)]
    pub path: Option<String>,
}

impl NegativeExample {
    /// The text that must not match.
    pub fn text(&self) -> &str {
        match self {
            NegativeExample::Text(t) => t,
            NegativeExample::Table(t) => &t.text,
        }
    }
    /// The example's own path.
    pub fn path(&self) -> Option<&str> {
        match self {
            NegativeExample::Text(_) => None,
            NegativeExample::Table(t) => t.path.as_deref(),
        }
    }
}

/// The gateway connection a secret maps to (used by `migrate`).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct GatewayHint {
    /// hoop connection type/subtype, e.g. `database/postgres`, `httpproxy`, `custom`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The host or base URL the secret is used with.
    #[serde(default)]
    pub target: Option<String>,
    /// The HTTP header that carries the secret, e.g. `Authorization: Bearer`.
    #[serde(default)]
    pub header: Option<String>,
}
