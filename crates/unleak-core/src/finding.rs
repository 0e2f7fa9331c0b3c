//! One detected secret at one place.

use crate::{Fingerprint, Location, Origin, Secret, Span};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// How sure unleak is that a match is a live credential.
/// High: a provider format with a prefix or checksum. Medium: a secret-like key with a
/// high-entropy value. Low: entropy alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Confidence {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Confidence::Low),
            "medium" => Ok(Confidence::Medium),
            "high" => Ok(Confidence::High),
            other => Err(format!(
                "unknown confidence `{other}` (expected low, medium or high)"
            )),
        }
    }
}

/// Where in git history a finding was introduced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitProvenance {
    pub commit: String,
    pub author: String,
    pub email: String,
    /// RFC 3339 commit time.
    pub date: String,
    pub summary: String,
    /// Every path the secret's blob appeared at.
    pub paths: Vec<String>,
    /// How many commits carry the blob.
    pub commits: usize,
    /// Whether the secret is still present at HEAD.
    pub in_head: bool,
}

/// A secret found by a rule at a place. The raw value lives only inside [`Secret`], which
/// serializes as its redacted form unless revealed.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub rule_id: Arc<str>,
    pub rule_name: Arc<str>,
    #[serde(serialize_with = "ser_origin")]
    pub path: Origin,
    #[serde(flatten)]
    pub location: Location,
    pub span: Span,
    pub redacted: String,
    #[serde(skip_serializing_if = "hidden")]
    pub secret: Secret,
    pub fingerprint: Fingerprint,
    pub entropy: f64,
    pub confidence: Confidence,
    /// The secret's line carries an `unleak:allow` comment. Filters decide whether to honour
    /// it (`--no-inline-ignore` refuses them).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub inline_allow: bool,
    /// How the secret was reached when it was inside encoded content, e.g. `["base64"]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decoded: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub git: Option<GitProvenance>,
}

fn hidden(s: &Secret) -> bool {
    !s.is_revealed()
}

fn ser_origin<S: Serializer>(o: &Origin, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&o.display_path())
}

impl Finding {
    /// Move a finding made on a chunk of a stream to its place in the whole stream:
    /// the chunk started at byte `base_offset`, on 1-based line `base_line` and column
    /// `base_column` (1 unless a line longer than a chunk was cut).
    pub fn shift(&mut self, base_offset: usize, base_line: usize, base_column: usize) {
        self.span = Span::new(self.span.start + base_offset, self.span.end + base_offset);
        if self.location.line == 1 {
            self.location.column += base_column - 1;
        }
        if self.location.end_line == 1 {
            self.location.end_column += base_column - 1;
        }
        self.location.line += base_line - 1;
        self.location.end_line += base_line - 1;
    }

    /// The order reports use: path, then position, then rule.
    pub fn sort_key(&self) -> (String, usize, usize, &str) {
        (
            self.path.display_path().into_owned(),
            self.span.start,
            self.span.end,
            &self.rule_id,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FingerprintKey;

    fn finding(reveal: bool) -> Finding {
        let mut secret = Secret::new(b"sk_live_0123456789abcdefghijkl".to_vec(), 8);
        if reveal {
            secret.reveal();
        }
        Finding {
            rule_id: "stripe-secret-key".into(),
            rule_name: "Stripe secret key".into(),
            path: Origin::File("a/.env".into()),
            location: Location {
                line: 1,
                column: 5,
                end_line: 1,
                end_column: 35,
            },
            span: Span::new(4, 34),
            redacted: secret.redacted(),
            fingerprint: Fingerprint::compute(
                &FingerprintKey::default(),
                "stripe-secret-key",
                secret.expose(),
            ),
            secret,
            entropy: 4.1,
            confidence: Confidence::High,
            inline_allow: false,
            decoded: vec![],
            git: None,
        }
    }

    #[test]
    fn serialized_finding_hides_the_value_unless_revealed() {
        let hidden = serde_json::to_string(&finding(false)).unwrap();
        assert!(!hidden.contains("0123456789abcdef"));
        assert!(!hidden.contains("\"secret\""));
        let shown = serde_json::to_string(&finding(true)).unwrap();
        assert!(shown.contains("sk_live_0123456789abcdefghijkl"));
    }

    #[test]
    fn debug_never_reveals() {
        let dbg = format!("{:?}", finding(true));
        assert!(!dbg.contains("0123456789abcdef"));
    }

    #[test]
    fn confidence_parses_and_orders() {
        assert_eq!("HIGH".parse::<Confidence>().unwrap(), Confidence::High);
        assert!(Confidence::Low < Confidence::Medium);
        assert!("x".parse::<Confidence>().is_err());
    }
}
