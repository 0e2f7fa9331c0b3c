//! The public JSON shape of a finding, version 1: what `--format json` lists, what each
//! line of `--format jsonl` holds, and what the guard's JSON report lists for each class.
//!
//! Owns: [`FindingV1`] and its parts, the conversion from a core [`Finding`], and the
//! version number. The shape is described by `schema/finding-v1.schema.json` at the root of
//! the repository, and the tests check real output against it. Does not own: what is
//! redacted (the finding model decides: [`Finding::display_path`], a [`Secret`] shown only
//! when revealed, [`MaskedText`] for provenance), or the documents around findings
//! (`json.rs`, the guard's report).
//!
//! A compatible change (a new optional field) keeps version 1 and goes into the schema
//! too. Anything else (a field renamed, removed or retyped) is a new `FindingV2`.
//!
//! [`Secret`]: unleak_core::Secret
//! [`MaskedText`]: unleak_core::MaskedText

use serde::{Deserialize, Serialize};
use unleak_core::{Confidence, Finding, GitProvenance, ImageProvenance};

/// The `schema_version` every [`FindingV1`] carries.
pub const FINDING_SCHEMA_VERSION: u32 = 1;

/// One finding as unleak publishes it. Built from a [`Finding`] with
/// [`FindingV1::from`], which copies only what reports may show: the secret appears (as
/// `secret`) only when the finding was revealed (`--show-secrets`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FindingV1 {
    /// Always [`FINDING_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The id of the rule that found the secret.
    pub rule_id: String,
    /// The rule's human-readable name.
    pub rule_name: String,
    /// Where the secret is, as reports show it (a secret in the path itself is masked).
    pub path: String,
    /// 1-based line of the secret's first character.
    pub line: usize,
    /// 1-based column of the secret's first character, in Unicode scalar values.
    pub column: usize,
    /// 1-based line of the secret's last character.
    pub end_line: usize,
    /// 1-based column just past the secret's last character.
    pub end_column: usize,
    /// The secret's bytes in its blob.
    pub span: SpanV1,
    /// The value redacted: at most the format's public prefix and the length.
    pub redacted: String,
    /// The raw value; only for a revealed finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// The secret's identity across moves, renames and rebases (32 hex digits).
    pub fingerprint: String,
    /// Shannon entropy of the value, in bits per character.
    pub entropy: f64,
    /// How sure unleak is that the value is a live credential.
    pub confidence: Confidence,
    /// The secret's line carries an `unleak:allow` comment (absent when false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inline_allow: bool,
    /// How the secret was reached inside encoded content, e.g. `["base64"]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decoded: Vec<String>,
    /// Where in git history the secret was introduced (`scan --git`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git: Option<GitV1>,
    /// Where in a container image the secret is (`scan --image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageV1>,
}

/// A half-open byte range `[start, end)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpanV1 {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

/// Where in git history a finding was introduced. Every text shows found secrets masked
/// unless the finding was revealed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitV1 {
    /// The commit that introduced the blob.
    pub commit: String,
    /// Its author's name.
    pub author: String,
    /// Its author's email.
    pub email: String,
    /// Its commit time (RFC 3339).
    pub date: String,
    /// The first line of its message.
    pub summary: String,
    /// Every path the blob appeared at.
    pub paths: Vec<String>,
    /// How many commits carry the blob.
    pub commits: usize,
    /// Whether the secret is still present at HEAD.
    pub in_head: bool,
}

/// Where in a container image a finding is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageV1 {
    /// Every image given that ships the layer.
    pub images: Vec<String>,
    /// The layer's digest (its diff-id), or `config` for the image config.
    pub layer: String,
    /// The layer's 1-based position in the first image; absent for the config.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
    /// The build instruction that made the layer, secrets masked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instruction: Option<String>,
    /// The 1-based layer that deleted the file; the secret still ships in `layer_index`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<usize>,
}

impl From<&Finding> for FindingV1 {
    fn from(f: &Finding) -> Self {
        FindingV1 {
            schema_version: FINDING_SCHEMA_VERSION,
            rule_id: f.rule_id.to_string(),
            rule_name: f.rule_name.to_string(),
            path: f.display_path().into_owned(),
            line: f.location.line,
            column: f.location.column,
            end_line: f.location.end_line,
            end_column: f.location.end_column,
            span: SpanV1 {
                start: f.span.start,
                end: f.span.end,
            },
            redacted: f.redacted.clone(),
            secret: f.secret.is_revealed().then(|| f.secret.shown()),
            fingerprint: f.fingerprint.as_str().to_string(),
            entropy: f.entropy,
            confidence: f.confidence,
            inline_allow: f.inline_allow,
            decoded: f.decoded.clone(),
            git: f.git.as_ref().map(GitV1::from),
            image: f.image.as_deref().map(ImageV1::from),
        }
    }
}

impl From<&GitProvenance> for GitV1 {
    fn from(g: &GitProvenance) -> Self {
        GitV1 {
            commit: g.commit.clone(),
            author: g.author.as_str().to_string(),
            email: g.email.as_str().to_string(),
            date: g.date.clone(),
            summary: g.summary.as_str().to_string(),
            paths: g.paths.iter().map(|p| p.as_str().to_string()).collect(),
            commits: g.commits,
            in_head: g.in_head,
        }
    }
}

impl From<&ImageProvenance> for ImageV1 {
    fn from(i: &ImageProvenance) -> Self {
        ImageV1 {
            images: i.images.clone(),
            layer: i.layer.clone(),
            layer_index: i.layer_index,
            instruction: i.instruction.as_ref().map(|t| t.as_str().to_string()),
            removed_in: i.removed_in,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::*;
    use unleak_core::{ImageProvenance, MaskedText, Origin};

    fn validator() -> jsonschema::Validator {
        let schema = include_str!("../../../schema/finding-v1.schema.json");
        jsonschema::validator_for(&serde_json::from_str(schema).unwrap()).unwrap()
    }

    fn image_finding() -> Finding {
        let mut f = finding("app.env", "demo-token", Confidence::High, 2);
        f.path = Origin::Image {
            image: "acme/app:1".into(),
            layer: "sha256:00112233445566778899aabbccddeeff".into(),
            path: "srv/app.env".into(),
        };
        f.image = Some(Box::new(ImageProvenance {
            images: vec!["acme/app:1".into()],
            layer: "sha256:00112233445566778899aabbccddeeff".into(),
            layer_index: Some(3),
            instruction: Some(MaskedText::new(
                format!("RUN echo {RAW} > /srv/app.env"),
                &[&f.secret],
            )),
            removed_in: Some(4),
        }));
        f
    }

    /// One finding of every shape: plain, revealed, allowed and decoded, from history,
    /// from an image.
    fn every_shape() -> Vec<Finding> {
        let mut revealed = finding("a.env", "demo-token", Confidence::High, 1);
        revealed.reveal();
        let mut decoded = finding("b.yaml", "demo-password", Confidence::Medium, 4);
        decoded.inline_allow = true;
        decoded.decoded = vec!["base64".into()];
        vec![
            finding(EVIL_PATH, "demo-token", Confidence::High, 1),
            revealed,
            decoded,
            git_finding("conf/app.env", false),
            image_finding(),
        ]
    }

    #[test]
    fn every_shape_validates_against_the_schema_and_round_trips() {
        let validator = validator();
        for f in every_shape() {
            let v = FindingV1::from(&f);
            let text = serde_json::to_string(&v).unwrap();
            let value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{text}: {errors:#?}");
            let back: FindingV1 = serde_json::from_str(&text).unwrap();
            assert_eq!(back, v);
            assert_eq!(serde_json::to_string(&back).unwrap(), text);
        }
    }

    #[test]
    fn the_schema_refuses_what_version_1_does_not_allow() {
        let validator = validator();
        let good = serde_json::to_value(FindingV1::from(&git_finding("a.env", true))).unwrap();
        assert!(validator.is_valid(&good));
        let spoil = |edit: &dyn Fn(&mut serde_json::Value)| {
            let mut v = good.clone();
            edit(&mut v);
            validator.is_valid(&v)
        };
        assert!(!spoil(&|v| v["schema_version"] = 2.into()));
        assert!(!spoil(&|v| {
            v.as_object_mut().unwrap().remove("fingerprint");
        }));
        assert!(!spoil(&|v| v["confidence"] = "certain".into()));
        assert!(!spoil(&|v| v["unknown"] = true.into()));
        assert!(!spoil(&|v| v["git"]["extra"] = 1.into()));
        assert!(!spoil(&|v| v["line"] = 0.into()));
    }

    #[test]
    fn the_value_shows_only_when_revealed_and_provenance_stays_masked() {
        let mut in_path = finding(
            &format!("keys/{RAW}.txt"),
            "demo-token",
            Confidence::High,
            1,
        );
        in_path.git = git_finding("x", true).git;
        in_path.git.as_mut().unwrap().summary = format!("add {RAW}").as_str().into();
        unleak_core::hide_shared(std::slice::from_mut(&mut in_path));
        for f in [&in_path, &image_finding()] {
            let text = serde_json::to_string(&FindingV1::from(f)).unwrap();
            assert!(!text.contains(RANDOM_PART), "{text}");
            assert!(!text.contains("\"secret\""), "{text}");
        }
        in_path.reveal();
        let shown = FindingV1::from(&in_path);
        assert_eq!(shown.secret.as_deref(), Some(RAW));
        assert_eq!(shown.path, format!("keys/{RAW}.txt"));
        assert_eq!(shown.git.unwrap().summary, format!("add {RAW}"));
    }

    /// The names, order and encoding of the fields, pinned: what JSONL consumers parse.
    #[test]
    fn a_plain_finding_has_the_published_fields_in_order() {
        let f = finding("a.env", "demo-token", Confidence::High, 2);
        let text = serde_json::to_string(&FindingV1::from(&f)).unwrap();
        let expected = format!(
            concat!(
                r#"{{"schema_version":1,"rule_id":"demo-token","rule_name":"Demo token","#,
                r#""path":"a.env","line":2,"column":7,"end_line":2,"end_column":32,"#,
                r#""span":{{"start":200,"end":225}},"redacted":"demo_…(25 chars)","#,
                r#""fingerprint":"{}","entropy":4.2,"confidence":"high"}}"#
            ),
            f.fingerprint
        );
        assert_eq!(text, expected);
    }
}
