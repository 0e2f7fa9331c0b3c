//! One detected secret at one place.

use crate::provenance::{mask, MaskedText};
use crate::{Fingerprint, Location, Origin, Secret, Span};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// How sure unleak is that a match is a live credential.
/// High: a provider format with a prefix or checksum. Medium: a secret-like key with a
/// high-entropy value. Low: entropy alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    /// Entropy alone, or a value that looks trivially fake (`testpassword`, `abc123`).
    Low,
    /// A secret-like key with a high-entropy value.
    Medium,
    /// A provider format with a documented prefix or a checksum.
    High,
}

impl Confidence {
    /// The lowercase name, as JSON, TOML and the command line spell it.
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

/// What a commit says about itself, as read from the repository. Untrusted text that can
/// quote a secret, so it has no `Debug` and reaches reports only through [`GitProvenance`].
#[derive(Clone, Default)]
pub struct CommitFacts {
    /// The commit's id (hex).
    pub commit: String,
    /// The author's name.
    pub author: String,
    /// The author's email address.
    pub email: String,
    /// RFC 3339 commit time.
    pub date: String,
    /// The first line of the commit message.
    pub summary: String,
}

/// Where in git history a finding was introduced. The author, email, summary and paths
/// show found secrets masked (see [`MaskedText`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GitProvenance {
    /// The commit that introduced the secret's blob (hex).
    pub commit: String,
    /// Its author's name.
    pub author: MaskedText,
    /// Its author's email address.
    pub email: MaskedText,
    /// RFC 3339 commit time.
    pub date: String,
    /// The first line of its message.
    pub summary: MaskedText,
    /// Every path the secret's blob appeared at.
    pub paths: Vec<MaskedText>,
    /// How many commits carry the blob.
    pub commits: usize,
    /// Whether the secret is still present at HEAD.
    pub in_head: bool,
}

impl GitProvenance {
    /// The provenance of a finding introduced by `commit`, with `secrets` (at least the
    /// finding's own) masked wherever the commit's text or a path holds them.
    pub fn new(
        commit: CommitFacts,
        paths: Vec<String>,
        commits: usize,
        in_head: bool,
        secrets: &[&Secret],
    ) -> Self {
        GitProvenance {
            commit: commit.commit,
            author: MaskedText::new(commit.author, secrets),
            email: MaskedText::new(commit.email, secrets),
            date: commit.date,
            summary: MaskedText::new(commit.summary, secrets),
            paths: paths
                .into_iter()
                .map(|p| MaskedText::new(p, secrets))
                .collect(),
            commits,
            in_head,
        }
    }

    /// Mask `secrets` in every text, in place of what was masked before.
    pub(crate) fn hide(&mut self, secrets: &[&Secret]) {
        for t in self.texts_mut() {
            t.hide(secrets);
        }
    }

    fn reveal(&mut self) {
        for t in self.texts_mut() {
            t.reveal();
        }
    }

    fn texts_mut(&mut self) -> impl Iterator<Item = &mut MaskedText> {
        [&mut self.author, &mut self.email, &mut self.summary]
            .into_iter()
            .chain(self.paths.iter_mut())
    }
}

/// Where in a container image a finding is, beyond its path: set by the image source
/// after every layer was read (a later layer can delete the file). The instruction can
/// quote the secret (`RUN echo TOKEN > …`), so it is masked like git provenance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageProvenance {
    /// Every image given that ships the layer, the one the path names first.
    pub images: Vec<String>,
    /// The layer's digest (its diff-id), or `config` for the image config.
    pub layer: String,
    /// The layer's 1-based position in the first image; `None` for the config.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_index: Option<usize>,
    /// The build instruction that made the layer (history's `created_by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instruction: Option<MaskedText>,
    /// The 1-based layer that deleted the file (a whiteout): the secret is still shipped
    /// in `layer_index`, since layers only add.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub removed_in: Option<usize>,
}

impl ImageProvenance {
    /// "removed in layer N, still shipped in layer M", when a later layer deleted the file.
    pub fn removal(&self) -> Option<String> {
        let (removed, shipped) = (self.removed_in?, self.layer_index?);
        Some(format!(
            "removed in layer {removed}, still shipped in layer {shipped}"
        ))
    }
}

/// A secret found by a rule at a place. The raw value lives only inside [`Secret`], which
/// shows its redacted form unless revealed; the path and git provenance show it (and the
/// other secrets of its blob or commit) masked, in `Debug` too. This is the internal model:
/// reports publish it as `unleak_report::FindingV1`, a versioned shape of its own.
#[derive(Clone)]
pub struct Finding {
    /// The id of the rule that found the secret.
    pub rule_id: Arc<str>,
    /// The rule's human-readable name.
    pub rule_name: Arc<str>,
    /// Where the secret is, as read: what filters and rewriters use. Reports show
    /// [`Finding::display_path`].
    pub path: Origin,
    /// Lines and columns of the secret.
    pub location: Location,
    /// The secret's bytes in the blob (or the whole stream, once shifted).
    pub span: Span,
    /// The redacted form reports show (see [`Secret::redacted`]).
    pub redacted: String,
    /// The value itself, redacted wherever it is shown unless revealed.
    pub secret: Secret,
    /// The secret's identity, salted with the baseline's key.
    pub fingerprint: Fingerprint,
    /// Shannon entropy of the value, in bits per character.
    pub entropy: f64,
    /// How sure the rule is that the value is a live credential.
    pub confidence: Confidence,
    /// The secret's line carries an `unleak:allow` comment. Filters decide whether to honour
    /// it (`--no-inline-ignore` refuses them).
    pub inline_allow: bool,
    /// How the secret was reached when it was inside encoded content, e.g. `["base64"]`.
    pub decoded: Vec<String>,
    /// Set for findings in git history: the commit that introduced the secret.
    pub git: Option<GitProvenance>,
    /// Set for findings in a container image.
    pub image: Option<Box<ImageProvenance>>,
    /// The secrets of the same blob or commit (this one's included) that occur in the path
    /// or the git provenance, set by [`hide_shared`](crate::hide_shared); `None` when none
    /// do, the usual case. Shared between findings with the same set.
    pub provenance_secrets: Option<Arc<[Secret]>>,
}

impl fmt::Debug for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Finding")
            .field("rule_id", &self.rule_id)
            .field("path", &self.masked_path())
            .field("location", &self.location)
            .field("span", &self.span)
            .field("redacted", &self.redacted)
            .field("fingerprint", &self.fingerprint)
            .field("confidence", &self.confidence)
            .field("inline_allow", &self.inline_allow)
            .field("decoded", &self.decoded)
            .field("git", &self.git)
            .field("image", &self.image)
            .finish_non_exhaustive()
    }
}

impl Finding {
    /// Move a finding made on a chunk of a stream to its place in the whole stream:
    /// the chunk started at byte `base_offset`, on 1-based line `base_line` and column
    /// `base_column` (1 unless a line longer than a chunk was cut).
    ///
    /// The UTF-16 columns move by the same number of characters: on a line cut across
    /// chunks (a line longer than a chunk), an astral character in an earlier
    /// chunk of that line is counted as one unit, not two.
    pub fn shift(&mut self, base_offset: usize, base_line: usize, base_column: usize) {
        self.span = Span::new(self.span.start + base_offset, self.span.end + base_offset);
        if self.location.line == 1 {
            self.location.column += base_column - 1;
            self.location.utf16_column += base_column - 1;
        }
        if self.location.end_line == 1 {
            self.location.end_column += base_column - 1;
            self.location.utf16_end_column += base_column - 1;
        }
        self.location.line += base_line - 1;
        self.location.end_line += base_line - 1;
    }

    /// The path as reports show it: the secret, and any other of its blob or commit that
    /// occurs in the path, masked unless revealed (`--show-secrets`).
    pub fn display_path(&self) -> Cow<'_, str> {
        if self.secret.is_revealed() {
            return self.path.display_path();
        }
        self.masked_path()
    }

    /// The path with the secrets masked, revealed or not.
    fn masked_path(&self) -> Cow<'_, str> {
        let path = self.path.display_path();
        let mut secrets: Vec<&Secret> = vec![&self.secret];
        if let Some(set) = &self.provenance_secrets {
            secrets.extend(set.iter());
        }
        match mask(&path, &secrets) {
            Some(masked) => Cow::Owned(masked),
            None => path,
        }
    }

    /// Show the raw value, path and provenance from now on (`--show-secrets`).
    pub fn reveal(&mut self) {
        self.secret.reveal();
        if let Some(git) = &mut self.git {
            git.reveal();
        }
        if let Some(instruction) = self.image.as_mut().and_then(|i| i.instruction.as_mut()) {
            instruction.reveal();
        }
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
                utf16_column: 5,
                utf16_end_column: 35,
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
            image: None,
            provenance_secrets: None,
        }
    }

    /// A finding of `value` in `path`, introduced by a commit whose summary is `summary`.
    fn finding_of(value: &str, path: &str, summary: &str) -> Finding {
        let mut f = finding(false);
        f.secret = Secret::new(value.as_bytes().to_vec(), 4);
        f.redacted = f.secret.redacted();
        f.path = Origin::Git {
            blob_id: "b10b".into(),
            path: path.into(),
        };
        let commit = CommitFacts {
            commit: "c0ffee".into(),
            author: format!("dev {value}"),
            email: "dev@example.com".into(),
            date: "2024-01-02T03:04:05Z".into(),
            summary: summary.into(),
        };
        f.git = Some(GitProvenance::new(
            commit,
            vec![path.into()],
            1,
            false,
            &[&f.secret],
        ));
        f
    }

    #[test]
    fn provenance_hides_the_secrets_of_its_blob_and_commit() {
        let a = "tok_AAAAAAAAAAAAAAAAAAAA";
        let b = "tok_BBBBBBBBBBBBBBBBBBBB";
        let path = format!("cfg-{a}.env");
        let summary = format!("add {a} and {b}");
        let mut findings = vec![
            finding_of(a, &path, &summary),
            finding_of(b, &path, &summary),
        ];
        // Each finding alone hides only its own value: B's path still shows A.
        assert!(findings[1].display_path().contains(a));
        crate::hide_shared(&mut findings);
        for f in &findings {
            let git = f.git.as_ref().unwrap();
            let shown = [
                f.display_path().into_owned(),
                serde_json::to_string(git).unwrap(),
                format!("{f:?}"),
                git.summary.to_string(),
                git.author.to_string(),
                git.paths[0].to_string(),
            ];
            for s in shown {
                assert!(!s.contains("AAAA") && !s.contains("BBBB"), "{s}");
            }
            assert_eq!(f.display_path(), "cfg-tok_…(24 chars).env");
        }
        assert_eq!(
            findings[0].git.as_ref().unwrap().summary.as_str(),
            "add tok_…(24 chars) and tok_…(24 chars)"
        );
        // --show-secrets shows everything as read.
        findings[1].reveal();
        let json = serde_json::to_string(&findings[1].git).unwrap();
        assert!(json.contains(&path) && json.contains(&summary), "{json}");
        assert_eq!(findings[1].display_path(), path);
        // Debug never reveals, not even then.
        let dbg = format!("{:?}", findings[1]);
        assert!(!dbg.contains("AAAA") && !dbg.contains("BBBB"), "{dbg}");
    }

    #[test]
    fn a_path_holding_the_secret_is_masked_without_hide_shared() {
        let mut f = finding(false);
        f.path = Origin::File("keys/sk_live_0123456789abcdefghijkl.txt".into());
        assert_eq!(f.display_path(), "keys/sk_live_…(30 chars).txt");
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
