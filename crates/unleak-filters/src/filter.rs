//! Dropping findings the user has allowed, and saying why.
//!
//! Owns: applying a configuration's allowlist (paths, regexes, stopwords) and inline
//! `unleak:allow` comments to findings, and the policy for refusing inline comments at or
//! above a confidence (`--no-inline-ignore=high`: a CI can refuse self-service ignores of
//! provider tokens while still honouring them on low-confidence entropy hits).
//!
//! Does not own: finding the comment (the matcher sets `Finding::inline_allow`), or
//! baselines (the verdict compares with those).

use crate::config::Allowlist;
use serde::Serialize;
use std::fmt;
use unleak_core::{Confidence, Finding};

/// Why a finding was dropped. Names the user's entry, never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "entry", rename_all = "lowercase")]
pub enum Reason {
    /// The path matched this `allow.paths` entry.
    Path(String),
    /// The secret matched this `allow.regexes` entry.
    Regex(String),
    /// The secret contains this `allow.stopwords` entry.
    Stopword(String),
    /// An `unleak:allow` comment on the secret's line.
    Inline,
    /// unleak's own baseline file: its fingerprint key is a salt, not a credential.
    OwnBaseline,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Path(p) => write!(f, "path allowed by `{p}`"),
            Reason::Regex(r) => write!(f, "value allowed by regex `{r}`"),
            Reason::Stopword(w) => write!(f, "value contains stopword `{w}`"),
            Reason::Inline => f.write_str("unleak:allow comment"),
            Reason::OwnBaseline => write!(f, "unleak's own {}", crate::BASELINE_FILE),
        }
    }
}

/// The allowlist plus the inline-comment policy.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    allowlist: Allowlist,
    /// Inline comments are refused on findings at or above this confidence; `None`
    /// honours every comment.
    refuse_inline_at: Option<Confidence>,
}

/// Findings split into those that stand and those allowed, each with its reason.
#[derive(Debug, Default)]
pub struct Filtered {
    /// The findings that stand, in their order.
    pub kept: Vec<Finding>,
    /// The findings allowed, each with why.
    pub suppressed: Vec<(Finding, Reason)>,
}

impl Filter {
    /// A filter applying `allowlist` and inline comments, refusing comments on findings at
    /// or above `refuse_inline_at` (`None` honours them all).
    pub fn new(allowlist: Allowlist, refuse_inline_at: Option<Confidence>) -> Self {
        Filter {
            allowlist,
            refuse_inline_at,
        }
    }

    /// Why `finding`, found at `rel_path` (relative to the configuration's root, `/`
    /// separated), is allowed; `None` if it stands.
    pub fn reason(&self, finding: &Finding, rel_path: &str) -> Option<Reason> {
        if rel_path.rsplit(['/', '\\']).next() == Some(crate::BASELINE_FILE) {
            return Some(Reason::OwnBaseline);
        }
        let allow = &self.allowlist;
        if let Some(set) = &allow.paths {
            if let Some(i) = set.matches(rel_path).first() {
                return Some(Reason::Path(allow.path_sources[*i].clone()));
            }
        }
        let value = finding.secret.expose();
        if let Some(re) = allow.regexes.iter().find(|re| re.is_match(value)) {
            return Some(Reason::Regex(re.as_str().to_string()));
        }
        if !allow.stopwords.is_empty() {
            let lower = String::from_utf8_lossy(value).to_lowercase();
            if let Some(w) = allow.stopwords.iter().find(|w| lower.contains(w.as_str())) {
                return Some(Reason::Stopword(w.clone()));
            }
        }
        let refused = self
            .refuse_inline_at
            .is_some_and(|floor| finding.confidence >= floor);
        (finding.inline_allow && !refused).then_some(Reason::Inline)
    }

    /// Split `findings`; `rel_path` gives each one's path relative to the root.
    pub fn apply(&self, findings: Vec<Finding>, rel_path: impl Fn(&Finding) -> String) -> Filtered {
        let mut out = Filtered::default();
        for f in findings {
            match self.reason(&f, &rel_path(&f)) {
                Some(why) => out.suppressed.push((f, why)),
                None => out.kept.push(f),
            }
        }
        out
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::Config;
    use std::path::Path;
    use unleak_core::{Fingerprint, FingerprintKey, Location, Origin, Secret, Span};

    pub(crate) fn finding(
        path: &str,
        value: &str,
        confidence: Confidence,
        inline: bool,
    ) -> Finding {
        let secret = Secret::new(value.as_bytes().to_vec(), 0);
        Finding {
            rule_id: "demo".into(),
            rule_name: "Demo".into(),
            path: Origin::File(path.into()),
            location: Location {
                line: 1,
                column: 1,
                end_line: 1,
                end_column: 1 + value.len(),
                utf16_column: 1,
                utf16_end_column: 1 + value.len(),
            },
            span: Span::new(0, value.len()),
            redacted: secret.redacted(),
            fingerprint: Fingerprint::compute(&FingerprintKey::default(), "demo", value.as_bytes()),
            secret,
            entropy: 4.0,
            confidence,
            inline_allow: inline,
            decoded: vec![],
            git: None,
            image: None,
            provenance_secrets: None,
        }
    }

    fn filter(toml: &str, refuse: Option<Confidence>) -> Filter {
        let c = Config::parse(Path::new(".unleak.toml"), Path::new(""), toml).unwrap();
        Filter::new(c.allowlist, refuse)
    }

    #[test]
    fn each_allowlist_kind_names_its_entry() {
        let f = filter(
            "[allow]\npaths = ['fixtures/']\nregexes = ['^tok_test']\nstopwords = ['DUMMY']\n",
            None,
        );
        let hi = Confidence::High;
        let r = |path: &str, value: &str| f.reason(&finding(path, value, hi, false), path);
        assert_eq!(
            r("fixtures/a.env", "tok_live_1"),
            Some(Reason::Path("fixtures/".into()))
        );
        assert_eq!(
            r("src/a.env", "tok_test_1"),
            Some(Reason::Regex("^tok_test".into()))
        );
        assert_eq!(
            r("src/a.env", "x_dummy_y"),
            Some(Reason::Stopword("dummy".into()))
        );
        assert_eq!(r("src/a.env", "tok_live_1"), None);
        assert_eq!(
            r("svc/.unleak-baseline.json", "tok_live_1"),
            Some(Reason::OwnBaseline)
        );
        assert_eq!(r("svc/x.unleak-baseline.json", "tok_live_1"), None);
    }

    #[test]
    fn inline_comments_can_be_refused_from_a_confidence_up() {
        let honour = filter("", None);
        let refuse_high = filter("", Some(Confidence::High));
        let refuse_all = filter("", Some(Confidence::Low));
        let low = finding("a", "v", Confidence::Low, true);
        let high = finding("a", "v", Confidence::High, true);
        assert_eq!(honour.reason(&high, "a"), Some(Reason::Inline));
        assert_eq!(refuse_high.reason(&low, "a"), Some(Reason::Inline));
        assert_eq!(refuse_high.reason(&high, "a"), None);
        assert_eq!(refuse_all.reason(&low, "a"), None);
        let plain = finding("a", "v", Confidence::Low, false);
        assert_eq!(honour.reason(&plain, "a"), None);
    }

    #[test]
    fn apply_splits_and_keeps_order() {
        let f = filter("[allow]\npaths = ['skip/']\n", None);
        let all = vec![
            finding("a", "1", Confidence::High, false),
            finding("skip/b", "2", Confidence::High, false),
            finding("c", "3", Confidence::High, true),
        ];
        let out = f.apply(all, |f| f.path.display_path().into_owned());
        let kept: Vec<_> = out
            .kept
            .iter()
            .map(|f| f.path.display_path().into_owned())
            .collect();
        assert_eq!(kept, ["a"]);
        let why: Vec<_> = out.suppressed.iter().map(|(_, r)| r.to_string()).collect();
        assert_eq!(why, ["path allowed by `skip/`", "unleak:allow comment"]);
    }
}
