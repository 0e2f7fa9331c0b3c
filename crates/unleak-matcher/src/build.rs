//! Turning the matcher's [`Match`]es into [`Finding`]s: the one place a finding is made.
//!
//! Owns: the secret's value and redaction prefix, the fingerprint under the caller's key,
//! line and column, the inline `unleak:allow` mark, placing a chunk's findings in their
//! stream (base offset, line and column; the overlap with the previous chunk), the origin,
//! `--show-secrets`, and hiding each found secret wherever a path shows it.
//!
//! Does not own: finding matches (the matcher), the form paths are shown in (the caller
//! hands the origin in that form), or dropping what filters know.

use crate::matcher::Match;
use unleak_core::{Finding, Fingerprint, FingerprintKey, Locator, Origin, Secret, Span};
use unleak_rules::RuleSet;

/// The marker that suppresses one finding when it stands on the secret's line (in a
/// comment of any syntax: `#`, `//`, `--`, `<!-- -->`...).
pub const ALLOW_MARKER: &[u8] = b"unleak:allow";

/// Where a blob stands in the stream it was cut from: its first byte's offset, line and
/// column there, and how many of its leading bytes the previous chunk already held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    /// Byte offset of the blob's first byte in its stream.
    pub offset: usize,
    /// The 1-based line the blob's first byte is on.
    pub line: usize,
    /// The 1-based column of the blob's first byte (1 unless a line longer than a chunk
    /// was cut).
    pub column: usize,
    /// Leading bytes the previous chunk held: a finding wholly inside them was reported
    /// with that chunk.
    pub overlap: usize,
}

impl Placement {
    /// A whole blob: the start of its own stream.
    pub const WHOLE: Placement = Placement {
        offset: 0,
        line: 1,
        column: 1,
        overlap: 0,
    };
}

/// Makes findings from matches: one per match, under one fingerprint key.
#[derive(Clone, Debug)]
pub struct FindingBuilder<'r> {
    rules: &'r RuleSet,
    key: FingerprintKey,
    reveal: bool,
}

impl<'r> FindingBuilder<'r> {
    /// Findings of `rules` (the matcher's rule set: a match names its rule by index),
    /// fingerprinted under `key` (a baseline's, so a scan's fingerprints are the guard's).
    pub fn new(rules: &'r RuleSet, key: FingerprintKey) -> Self {
        FindingBuilder {
            rules,
            key,
            reveal: false,
        }
    }

    /// Reveal each secret (`--show-secrets`).
    pub fn revealing(mut self, reveal: bool) -> Self {
        self.reveal = reveal;
        self
    }

    /// The findings of `matches`, found in `data` of a blob from `origin` that stands at
    /// `place` in its stream, sorted by position.
    pub fn build(
        &self,
        origin: &Origin,
        data: &[u8],
        matches: Vec<Match>,
        place: Placement,
    ) -> Vec<Finding> {
        if matches.is_empty() {
            return Vec::new();
        }
        let rules = self.rules.rules();
        let mut locator = Locator::new(data);
        let mut allow = AllowLines::new(data);
        let mut findings: Vec<Finding> = matches
            .into_iter()
            .map(|m| {
                let rule = &rules[m.rule];
                let value = m
                    .value
                    .as_deref()
                    .unwrap_or(&data[m.span.start..m.span.end]);
                let prefix = rule
                    .prefix
                    .as_deref()
                    .filter(|p| value.starts_with(p.as_bytes()))
                    .map_or(0, str::len);
                let secret = Secret::new(value.to_vec(), prefix);
                Finding {
                    rule_id: rule.id.clone(),
                    rule_name: rule.name.clone(),
                    path: origin.clone(),
                    location: locator.locate(m.span),
                    span: m.span,
                    redacted: secret.redacted(),
                    fingerprint: Fingerprint::of(&self.key, &rule.id, &secret),
                    secret,
                    entropy: (m.entropy * 1000.0).round() / 1000.0,
                    confidence: m.confidence,
                    inline_allow: allow.marks(m.span),
                    decoded: m.decoded.iter().map(|e| e.as_str().to_string()).collect(),
                    git: None,
                    image: None,
                    provenance_secrets: None,
                }
            })
            .collect();
        // A blob's path must not show any secret found in it, whichever finding it is
        // (those the overlap drops below included: the path is the same).
        unleak_core::hide_shared(&mut findings);
        findings.retain(|f| f.span.end > place.overlap);
        for f in &mut findings {
            f.shift(place.offset, place.line, place.column);
            if self.reveal {
                f.reveal();
            }
        }
        findings
    }
}

/// Which lines carry [`ALLOW_MARKER`], asked about spans in order: each line is found and
/// searched once, however many findings stand on it (a long line of many tokens is not
/// read once per token).
struct AllowLines<'a> {
    data: &'a [u8],
    /// The last line looked at, `(start, end)`, and whether it carries the marker.
    line: Option<(usize, usize, bool)>,
}

impl<'a> AllowLines<'a> {
    fn new(data: &'a [u8]) -> Self {
        AllowLines { data, line: None }
    }

    /// Whether the line holding the start or the end of `span` carries the marker; spans
    /// come sorted and without overlaps, so the positions asked about only grow.
    fn marks(&mut self, span: Span) -> bool {
        let last = span.end.saturating_sub(1).max(span.start);
        self.line_marked(span.start) || self.line_marked(last)
    }

    fn line_marked(&mut self, at: usize) -> bool {
        let at = at.min(self.data.len());
        let floor = match self.line {
            Some((start, end, marked)) if start <= at && at <= end => return marked,
            Some((_, end, _)) if end <= at => end,
            _ => 0,
        };
        let data = self.data;
        let start = memchr::memrchr(b'\n', &data[floor..at]).map_or(floor, |i| floor + i + 1);
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
        crate::matcher::count_line_bytes(end - floor);
        let marked = memchr::memmem::find(&data[start..end], ALLOW_MARKER).is_some();
        self.line = Some((start, end, marked));
        marked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Matcher, MatcherOptions};
    use unleak_core::Blob;
    use unleak_rules::RuleSetBuilder;

    fn matcher() -> Matcher {
        let set = RuleSetBuilder::new()
            .add_toml(
                "t.toml",
                r#"
                [[rules]]
                id = "demo-token"
                name = "Demo token"
                keywords = ["demo_"]
                regex = '''\b(?P<secret>demo_[a-z0-9]{12})\b'''
                prefix = "demo_"
                confidence = "high"
                "#,
            )
            .unwrap()
            .build()
            .unwrap();
        Matcher::new(set, MatcherOptions::default())
    }

    /// A token of the demo rule, made at run time.
    fn token() -> String {
        format!("demo_{}", "k3".repeat(6))
    }

    fn built(
        builder: &FindingBuilder<'_>,
        m: &Matcher,
        text: &str,
        place: Placement,
    ) -> Vec<Finding> {
        let origin = Origin::File("a.env".into());
        let found = m.find(text.as_bytes(), origin.content_path());
        builder.build(&origin, text.as_bytes(), found.matches, place)
    }

    #[test]
    fn a_chunks_findings_are_placed_in_its_stream_and_the_overlap_is_dropped() {
        let m = matcher();
        let b = FindingBuilder::new(m.rules(), FingerprintKey::default());
        let text = format!("{t}\nx = {t}\n", t = token());
        let place = Placement {
            offset: 1000,
            line: 40,
            column: 7,
            overlap: token().len(),
        };
        let found = built(&b, &m, &text, place);
        assert_eq!(found.len(), 1, "the first token lies in the overlap");
        let f = &found[0];
        let at = token().len() + 5;
        assert_eq!(f.span, Span::new(1000 + at, 1000 + at + token().len()));
        // The second line of the chunk: its column is the chunk's own.
        assert_eq!((f.location.line, f.location.column), (41, 5));
        let whole = built(&b, &m, &text, Placement::WHOLE);
        assert_eq!(whole.len(), 2);
        assert_eq!((whole[0].location.line, whole[0].location.column), (1, 1));
    }

    #[test]
    fn the_key_changes_the_fingerprint_and_nothing_else() {
        let m = matcher();
        let text = format!("x = {}\n", token());
        let a = FindingBuilder::new(m.rules(), FingerprintKey::new(b"one".to_vec()));
        let b = FindingBuilder::new(m.rules(), FingerprintKey::new(b"two".to_vec()));
        let (fa, fb) = (
            built(&a, &m, &text, Placement::WHOLE),
            built(&b, &m, &text, Placement::WHOLE),
        );
        assert_ne!(fa[0].fingerprint, fb[0].fingerprint);
        assert_eq!(
            (fa[0].span, &fa[0].rule_id, &fa[0].redacted),
            (fb[0].span, &fb[0].rule_id, &fb[0].redacted)
        );
        // `Matcher::scan` is the default key's builder.
        let blob = Blob::new(Origin::File("a.env".into()), text.as_bytes());
        let default = FindingBuilder::new(m.rules(), FingerprintKey::default());
        assert_eq!(
            m.scan(&blob)[0].fingerprint,
            built(&default, &m, &text, Placement::WHOLE)[0].fingerprint
        );
    }

    #[test]
    fn only_a_revealing_builder_shows_the_value() {
        let m = matcher();
        let text = format!("x = {}\n", token());
        let hidden = FindingBuilder::new(m.rules(), FingerprintKey::default());
        let shown = hidden.clone().revealing(true);
        let f = &built(&hidden, &m, &text, Placement::WHOLE)[0];
        assert!(!format!("{f:?}").contains(&token()));
        assert!(!f.redacted.contains(&token()));
        assert!(
            f.redacted.starts_with("demo_"),
            "the prefix stays: {}",
            f.redacted
        );
        let f = &built(&shown, &m, &text, Placement::WHOLE)[0];
        assert!(f.secret.is_revealed());
        // A match alone never prints its value.
        let found = m.find(text.as_bytes(), None);
        assert!(!format!("{found:?}").contains(&token()));
    }

    #[test]
    fn inline_allow_marks_the_secrets_line_only() {
        let m = matcher();
        let b = FindingBuilder::new(m.rules(), FingerprintKey::default());
        let text = format!("a = {t} # unleak:allow\nb = {t}\n", t = token());
        let found = built(&b, &m, &text, Placement::WHOLE);
        assert_eq!(
            found.iter().map(|f| f.inline_allow).collect::<Vec<_>>(),
            [true, false]
        );
    }
}
