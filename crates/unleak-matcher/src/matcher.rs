//! The scanning path: prefilter → windows → regex → checks, plus key/value pairs under
//! secret-like names → collapse → decoded runs scanned the same way (depth-bounded) →
//! findings.

use crate::decode::{decode_runs, Encoding, MAX_DECODED_PER_BLOB};
use crate::keyvalue::{find_pairs, judge_match, KeyClass, KEY_FRAGMENTS};
use crate::literals::Literals;
use crate::syntax::FileKind;
use crate::{entropy::shannon_entropy, placeholder::is_placeholder};
use std::collections::HashMap;
use unleak_core::{Blob, Confidence, Finding, Fingerprint, FingerprintKey, Locator, Secret, Span};
use unleak_rules::{Companion, Rule, RuleSet};

/// How far back from a keyword a match may start when the line is long.
const MAX_LOOKBEHIND: usize = 1024;
/// How far past a window a line end is still looked for.
const LINE_TAIL: usize = 256;
/// How far a window is widened, each way, to whole lines when a match touches a cut edge.
const MAX_WIDEN: usize = 64 * 1024;
/// How many encodings deep a secret is looked for (base64 of URL-encoded text is 2).
const MAX_DECODE_DEPTH: usize = 2;

/// Options that shape findings but not which rules exist.
#[derive(Clone, Debug)]
pub struct MatcherOptions {
    /// Salt for fingerprints (from the baseline, or the default).
    pub key: FingerprintKey,
    /// Rules below this confidence do not run at all, and findings demoted below it (a
    /// trivially fake generic value is low) are not reported.
    pub min_confidence: Confidence,
    /// Decoded bytes (all encoded runs, all depths) looked into per blob: the matcher's
    /// part of `--memory-budget`.
    pub max_decoded_per_blob: usize,
}

impl Default for MatcherOptions {
    fn default() -> Self {
        MatcherOptions {
            key: FingerprintKey::default(),
            min_confidence: Confidence::Low,
            max_decoded_per_blob: MAX_DECODED_PER_BLOB,
        }
    }
}

/// A compiled rule set plus its keyword automaton. Cheap to share between threads.
pub struct Matcher {
    rules: RuleSet,
    /// Rules that take part (confidence at or above the floor), by index into `rules`.
    active: Vec<bool>,
    /// Every rule keyword and, when pairs are looked for, every key fragment: one pass
    /// over the blob finds both.
    keywords: Literals,
    /// Per pattern of `keywords`.
    patterns: Vec<Pattern>,
    /// Per [`KeyClass`], the generic rule key/value pairs are filed under (`None` when that
    /// rule is absent, disabled or below the floor); `None` when no class has one, and then
    /// pairs are not looked for.
    keyvalue: Option<[Option<u32>; KeyClass::ALL.len()]>,
    options: MatcherOptions,
}

/// A region to confirm one rule's regex in: `(rule, start, end)`.
type Window = (u32, usize, usize);

/// What one keyword search found.
#[derive(Default)]
struct KeywordHits {
    windows: Vec<Window>,
    /// Offsets of key fragments, for the key/value reader.
    key_fragments: Vec<usize>,
}

/// One literal of the keyword automaton.
struct Pattern {
    len: usize,
    /// The rules a hit triggers.
    rules: Vec<u32>,
    /// Whether it is a key fragment (a hit sends its line to the key/value reader).
    key_fragment: bool,
}

/// A regex match that passed every per-rule check, before overlap collapse.
struct Candidate {
    rule: u32,
    /// Span of the `secret` group.
    secret: Span,
    entropy: f64,
    /// The secret when it is not the bytes at `secret`: found in decoded content.
    value: Option<Vec<u8>>,
    /// The encodings peeled off to reach it, outermost first.
    decoded: Vec<Encoding>,
    /// Proposed by the key/value reader rather than a rule's regex.
    from_pair: bool,
    /// Where the rule's companion (the other half of a two-part credential) was found.
    companion: Option<Span>,
    /// A generic value that is trivially fake: reported at low confidence.
    demoted: bool,
}

impl Matcher {
    pub fn new(rules: RuleSet, options: MatcherOptions) -> Self {
        let active: Vec<bool> = rules
            .rules()
            .iter()
            .map(|r| r.confidence >= options.min_confidence)
            .collect();
        let class_rules = KeyClass::ALL.map(|class| {
            rules
                .rules()
                .iter()
                .position(|r| &*r.id == class.rule_id())
                .filter(|&i| active[i])
                .map(|i| i as u32)
        });
        let keyvalue = class_rules
            .iter()
            .any(Option::is_some)
            .then_some(class_rules);
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut literals: Vec<String> = Vec::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut pattern_id = |literal: &str| {
            // Case-insensitive search: literals that differ only in case are one pattern.
            *ids.entry(literal.to_ascii_lowercase()).or_insert_with(|| {
                literals.push(literal.to_ascii_lowercase());
                patterns.push(Pattern {
                    len: literal.len(),
                    rules: Vec::new(),
                    key_fragment: false,
                });
                patterns.len() - 1
            })
        };
        let mut triggers: Vec<(usize, u32)> = Vec::new();
        for (ri, rule) in rules.rules().iter().enumerate() {
            if active[ri] {
                triggers.extend(rule.keywords.iter().map(|k| (pattern_id(k), ri as u32)));
            }
        }
        let fragments: Vec<usize> = match keyvalue {
            Some(_) => KEY_FRAGMENTS.iter().map(|f| pattern_id(f)).collect(),
            None => Vec::new(),
        };
        for (id, ri) in triggers {
            if !patterns[id].rules.contains(&ri) {
                patterns[id].rules.push(ri);
            }
        }
        for id in fragments {
            patterns[id].key_fragment = true;
        }
        let keywords = Literals::new(&literals);
        Matcher {
            rules,
            active,
            keywords,
            patterns,
            keyvalue,
            options,
        }
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    pub fn options(&self) -> &MatcherOptions {
        &self.options
    }

    /// The lower-cased keywords of the rules that take part (a keyword shared by several
    /// rules may repeat). A finding's keyword always lies inside the data it was found in,
    /// so a caller that batches input (the log masker) can prefilter with these, together
    /// with its own literals in one automaton, and scan only the pieces that hit.
    pub fn keywords(&self) -> impl Iterator<Item = &str> {
        self.rules
            .rules()
            .iter()
            .zip(&self.active)
            .filter(|(_, active)| **active)
            .flat_map(|(rule, _)| rule.keywords.iter().map(String::as_str))
    }

    /// Every finding in `blob`, sorted by position.
    pub fn scan(&self, blob: &Blob) -> Vec<Finding> {
        let mut budget = self.options.max_decoded_per_blob;
        let kind = FileKind::of(&blob.origin);
        let candidates = self.candidates(blob.data, kind, 0, false, &mut budget);
        self.finish(blob, candidates)
    }

    /// The plain path the prefilter must agree with: every rule any of whose keywords
    /// occurs anywhere in the blob runs its regex over the whole blob.
    pub fn scan_reference(&self, blob: &Blob) -> Vec<Finding> {
        let mut budget = self.options.max_decoded_per_blob;
        let kind = FileKind::of(&blob.origin);
        let candidates = self.candidates(blob.data, kind, 0, true, &mut budget);
        self.finish(blob, candidates)
    }

    /// Collapsed candidates in `data`: rule matches and key/value pairs, then whatever the
    /// encoded runs that no match covers hold, mapped back onto their encoded bytes.
    fn candidates(
        &self,
        data: &[u8],
        kind: FileKind,
        depth: usize,
        reference: bool,
        budget: &mut usize,
    ) -> Vec<Candidate> {
        let hits = self.keyword_hits(data);
        let mut found = if reference {
            self.rule_candidates_reference(data)
        } else {
            self.rule_candidates(data, hits.windows)
        };
        self.judge_generic_matches(data, kind, &mut found);
        self.keyvalue_candidates(data, hits.key_fragments, kind, &mut found);
        if self.options.min_confidence > Confidence::Low {
            found.retain(|c| !c.demoted);
        }
        let mut kept = self.collapse(found);
        if depth >= MAX_DECODE_DEPTH || *budget == 0 {
            return kept;
        }
        // A rule's match (a PEM block, a JWT, a token) is not decoded again.
        let covered: Vec<Span> = kept.iter().map(|c| c.secret).collect();
        let mut inner_found = Vec::new();
        for run in decode_runs(data, &covered, budget) {
            // Decoded bytes have no file name: they are read as data.
            for inner in self.candidates(&run.bytes, FileKind::DATA, depth + 1, reference, budget) {
                let value = inner
                    .value
                    .unwrap_or_else(|| run.bytes[inner.secret.start..inner.secret.end].to_vec());
                let mut decoded = vec![run.encoding];
                decoded.extend(inner.decoded);
                inner_found.push(Candidate {
                    rule: inner.rule,
                    secret: run.map_span(inner.secret),
                    entropy: inner.entropy,
                    value: Some(value),
                    decoded,
                    from_pair: inner.from_pair,
                    companion: inner.companion.map(|s| run.map_span(s)),
                    demoted: inner.demoted,
                });
            }
        }
        if !inner_found.is_empty() {
            kept.extend(inner_found);
            kept.sort_by_key(|c| (c.secret.start, c.secret.end, c.rule));
        }
        kept
    }

    /// Regex matches in the keyword windows of `data`.
    fn rule_candidates(&self, data: &[u8], mut windows: Vec<Window>) -> Vec<Candidate> {
        let mut candidates = Vec::new();
        windows.sort_unstable();
        let mut i = 0;
        // How far this rule's regex has already run (a widened window reaches past its
        // neighbours): a window wholly inside that is not run again, so a line of many
        // cut windows costs a few passes, not one widened pass per window.
        let mut covered: Option<(u32, usize)> = None;
        while i < windows.len() {
            let (rule, lo, mut hi) = windows[i];
            i += 1;
            // Merge this rule's overlapping windows so each byte is searched once per rule.
            while let Some(w) = windows.get(i).filter(|w| w.0 == rule && w.1 <= hi) {
                hi = hi.max(w.2);
                i += 1;
            }
            if covered.is_some_and(|(r, end)| r == rule && hi <= end) {
                continue;
            }
            let end = self.confirm_window(rule, data, lo, hi, &mut candidates);
            covered = Some((rule, end));
        }
        candidates
    }

    /// Regex matches of every rule whose keyword occurs anywhere in `data`, over all of it.
    fn rule_candidates_reference(&self, data: &[u8]) -> Vec<Candidate> {
        let lower = data.to_ascii_lowercase();
        let mut candidates = Vec::new();
        for (ri, rule) in self.rules.rules().iter().enumerate() {
            if !self.active[ri] {
                continue;
            }
            let hit = rule
                .keywords
                .iter()
                .any(|k| memchr::memmem::find(&lower, k.as_bytes()).is_some());
            if hit {
                self.confirm(ri as u32, data, 0, data.len(), true, &mut candidates);
            }
        }
        candidates
    }

    /// The matches of the generic rules that read a value under a secret-like name, judged
    /// as the key/value reader judges its own: dropped when the file's syntax says the value
    /// is code or a template, demoted when it is trivially fake.
    fn judge_generic_matches(&self, data: &[u8], kind: FileKind, found: &mut Vec<Candidate>) {
        let rules = self.rules.rules();
        found.retain_mut(|c| {
            if !is_name_value_rule(&rules[c.rule as usize].id) {
                return true;
            }
            match judge_match(kind, data, c.secret.start, c.secret.end) {
                Some(trivial) => {
                    c.demoted = trivial;
                    true
                }
                None => false,
            }
        });
    }

    /// Values under secret-like keys, filed under the generic rule of their key's class.
    fn keyvalue_candidates(
        &self,
        data: &[u8],
        fragments: Vec<usize>,
        kind: FileKind,
        out: &mut Vec<Candidate>,
    ) {
        let Some(class_rules) = &self.keyvalue else {
            return;
        };
        for pair in find_pairs(data, fragments, kind) {
            let slot = KeyClass::ALL.iter().position(|&c| c == pair.class);
            let Some(rule) = slot.and_then(|i| class_rules[i]) else {
                continue;
            };
            let span = Span::new(pair.start, pair.end);
            let (value, decoded) = match pair.decoded {
                Some((encoding, text)) => (Some(text), vec![encoding]),
                None => (None, Vec::new()),
            };
            let entropy = shannon_entropy(value.as_deref().unwrap_or(&data[pair.start..pair.end]));
            out.push(Candidate {
                rule,
                secret: span,
                entropy,
                value,
                decoded,
                from_pair: true,
                companion: None,
                demoted: pair.trivial,
            });
        }
    }

    /// One search of the keyword automaton over `data`: a window per rule a keyword
    /// triggers, and where each key fragment starts.
    fn keyword_hits(&self, data: &[u8]) -> KeywordHits {
        let mut hits = KeywordHits::default();
        self.keywords.for_each(data, |id, at| {
            let pattern = &self.patterns[id];
            if pattern.key_fragment {
                hits.key_fragments.push(at);
            }
            if pattern.rules.is_empty() {
                return;
            }
            let start = line_start_near(data, at);
            for &ri in &pattern.rules {
                let window = self.rules.rules()[ri as usize].window;
                let end = line_end_near(data, (at + pattern.len + window).min(data.len()));
                hits.windows.push((ri, start, end));
            }
        });
        // The key/value reader reads each line once when its fragments come in order.
        hits.key_fragments.sort_unstable();
        hits
    }

    /// Run one rule's regex over the window `data[lo..hi]`. A window edge that is neither a
    /// line boundary nor an edge of `data` must not pass for the end of the text (to `\b`,
    /// `$` or a delimiter group): when a match touches one, the window is widened to whole
    /// lines (at most [`MAX_WIDEN`] each way) and run again, and a match that still touches
    /// a cut edge is dropped, as a run of the regex over all of `data` would not have it.
    /// Returns the end of what the regex ran over.
    fn confirm_window(
        &self,
        ri: u32,
        data: &[u8],
        lo: usize,
        hi: usize,
        out: &mut Vec<Candidate>,
    ) -> usize {
        let before = out.len();
        if !self.confirm(ri, data, lo, hi, false, out) {
            return hi;
        }
        out.truncate(before);
        let from = lo.saturating_sub(MAX_WIDEN);
        let lo = memchr::memrchr(b'\n', &data[from..lo]).map_or(from, |i| from + i + 1);
        let to = (hi + MAX_WIDEN).min(data.len());
        let hi = memchr::memchr(b'\n', &data[hi..to]).map_or(to, |i| hi + i);
        self.confirm(ri, data, lo, hi, true, out);
        hi
    }

    /// Run one rule's regex over `data[lo..hi]` and keep the matches that pass its checks.
    /// Returns whether a match touched a cut edge of the window (see
    /// [`Matcher::confirm_window`]); with `strict` such matches are dropped, without it the
    /// search stops there.
    fn confirm(
        &self,
        ri: u32,
        data: &[u8],
        lo: usize,
        hi: usize,
        strict: bool,
        out: &mut Vec<Candidate>,
    ) -> bool {
        let rule = &self.rules.rules()[ri as usize];
        let hay = &data[lo..hi];
        let cut_start = lo > 0 && data[lo - 1] != b'\n';
        let cut_end = hi < data.len() && data[hi] != b'\n';
        let (Ok(regex), Ok(secret_group)) = (rule.regex(), rule.secret_group()) else {
            // Only a built-in rule can fail here, and its tests compile every one.
            return false;
        };
        for caps in regex.captures_iter(hay) {
            let whole = caps.get(0).map_or(0..0, |m| m.range());
            if (cut_start && whole.start == 0) || (cut_end && whole.end == hay.len()) {
                if strict {
                    continue;
                }
                return true;
            }
            let Some(g) = caps.get(secret_group) else {
                continue;
            };
            if g.is_empty() {
                continue;
            }
            let value = g.as_bytes();
            if !passes(rule, value) {
                continue;
            }
            let secret = Span::new(lo + g.start(), lo + g.end());
            let companion = match &rule.companion {
                None => None,
                Some(c) => match find_companion(c, data, secret) {
                    Some(span) => Some(span),
                    // A two-part credential without its other part is not reported.
                    None => continue,
                },
            };
            out.push(Candidate {
                rule: ri,
                secret,
                entropy: shannon_entropy(value),
                value: None,
                decoded: Vec::new(),
                from_pair: false,
                companion,
                demoted: false,
            });
        }
        false
    }

    /// Collapse overlapping candidates to the most specific rule.
    fn collapse(&self, mut candidates: Vec<Candidate>) -> Vec<Candidate> {
        candidates.sort_by_key(|c| (c.secret.start, c.secret.end, c.rule));
        let rules = self.rules.rules();
        let mut kept: Vec<Candidate> = Vec::with_capacity(candidates.len());
        for c in candidates {
            match kept.last_mut() {
                Some(last) if last.secret.overlaps(&c.secret) => {
                    if specificity(&rules[c.rule as usize], &c)
                        > specificity(&rules[last.rule as usize], last)
                    {
                        *last = c;
                    }
                }
                _ => kept.push(c),
            }
        }
        // A companion another rule also matched (the access key id beside its secret key)
        // is part of the pair's one finding, not a finding of its own.
        let parts: Vec<Span> = kept.iter().filter_map(|c| c.companion).collect();
        if !parts.is_empty() {
            kept.retain(|c| {
                c.companion.is_some()
                    || !parts
                        .iter()
                        .any(|p| p.start <= c.secret.start && c.secret.end <= p.end)
            });
        }
        kept
    }

    /// Build findings from collapsed candidates.
    fn finish(&self, blob: &Blob, kept: Vec<Candidate>) -> Vec<Finding> {
        if kept.is_empty() {
            return Vec::new();
        }
        let rules = self.rules.rules();
        let mut locator = Locator::new(blob.data);
        kept.into_iter()
            .map(|c| {
                let rule = &rules[c.rule as usize];
                let value = c
                    .value
                    .as_deref()
                    .unwrap_or(&blob.data[c.secret.start..c.secret.end]);
                let prefix = rule
                    .prefix
                    .as_deref()
                    .filter(|p| value.starts_with(p.as_bytes()))
                    .map_or(0, str::len);
                let secret = Secret::new(value.to_vec(), prefix);
                Finding {
                    rule_id: rule.id.clone(),
                    rule_name: rule.name.clone(),
                    path: blob.origin.clone(),
                    location: locator.locate(c.secret),
                    span: c.secret,
                    redacted: secret.redacted(),
                    fingerprint: Fingerprint::compute(&self.options.key, &rule.id, value),
                    secret,
                    entropy: (c.entropy * 1000.0).round() / 1000.0,
                    confidence: effective_confidence(rule, &c),
                    inline_allow: has_allow_comment(blob.data, c.secret),
                    decoded: c.decoded.iter().map(|e| e.as_str().to_string()).collect(),
                    git: None,
                }
            })
            .collect()
    }
}

/// The companion match nearest the secret within the companion's line range, not
/// overlapping the secret itself.
fn find_companion(c: &Companion, data: &[u8], secret: Span) -> Option<Span> {
    let mut lo = secret.start;
    for _ in 0..=c.within_lines {
        match memchr::memrchr(b'\n', &data[..lo]) {
            Some(i) if lo > 0 => lo = i,
            _ => {
                lo = 0;
                break;
            }
        }
    }
    let lo = if lo == 0 { 0 } else { lo + 1 };
    let mut hi = secret.end;
    for _ in 0..=c.within_lines {
        match memchr::memchr(b'\n', &data[hi..]) {
            Some(i) => hi += i + 1,
            None => {
                hi = data.len();
                break;
            }
        }
    }
    c.regex
        .find_iter(&data[lo..hi])
        .map(|m| Span::new(lo + m.start(), lo + m.end()))
        .filter(|m| !m.overlaps(&secret))
        .min_by_key(|m| m.start.abs_diff(secret.start))
}

/// The per-rule checks on a matched value: entropy floor, token check, placeholders.
fn passes(rule: &Rule, value: &[u8]) -> bool {
    if let Some(min) = rule.min_entropy {
        if shannon_entropy(value) < min {
            return false;
        }
    }
    if let Some(check) = rule.check {
        if !check.verify(value) {
            return false;
        }
    }
    !(rule.skip_placeholders && is_placeholder(value))
}

/// Which of two overlapping matches wins: higher confidence, then a verified format, then
/// a vendor's rule over a generic one (whatever the file order), then a documented prefix,
/// then the longer secret, then the one that saw through an encoding (a Kubernetes
/// Secret's `data:` value read decoded rather than as its base64), then a rule's own
/// pattern over the key/value reader.
type Specificity = (Confidence, bool, bool, bool, usize, bool, bool);

fn specificity(rule: &Rule, c: &Candidate) -> Specificity {
    (
        effective_confidence(rule, c),
        rule.check.is_some(),
        !rule.tags.iter().any(|t| t == "generic"),
        rule.prefix.is_some(),
        c.secret.len(),
        !c.decoded.is_empty(),
        !c.from_pair,
    )
}

fn effective_confidence(rule: &Rule, c: &Candidate) -> Confidence {
    if c.demoted {
        Confidence::Low
    } else {
        rule.confidence
    }
}

/// Whether a rule's pattern reads a value under a secret-like name (the rules the
/// key/value reader files under, and secret-named command-line flags).
fn is_name_value_rule(id: &str) -> bool {
    id == "generic-cli-secret-flag" || KeyClass::ALL.iter().any(|c| c.rule_id() == id)
}

/// The marker that suppresses one finding when it stands on the secret's line (in a
/// comment of any syntax: `#`, `//`, `--`, `<!-- -->`...).
pub const ALLOW_MARKER: &[u8] = b"unleak:allow";

/// Whether the line holding the start or the end of `span` carries [`ALLOW_MARKER`].
fn has_allow_comment(data: &[u8], span: Span) -> bool {
    let line_of = |at: usize| {
        let start = memchr::memrchr(b'\n', &data[..at]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
        &data[start..end]
    };
    let first = line_of(span.start);
    let last = line_of(span.end.saturating_sub(1).max(span.start));
    memchr::memmem::find(first, ALLOW_MARKER).is_some()
        || memchr::memmem::find(last, ALLOW_MARKER).is_some()
}

/// Whether a keyword of `rule` stands in `data` where the window the matcher confirms the
/// rule in covers `span` (from the keyword's line start, at most [`MAX_LOOKBEHIND`] back,
/// to the line end after the keyword and the rule's window, at most [`LINE_TAIL`] on).
/// A match of the rule's regex that no window covers is one the windowed path cannot see
/// by design; the prefilter's property test and fuzzer use this to tell those apart from a
/// real miss.
pub fn keyword_window_covers(data: &[u8], rule: &Rule, span: Span) -> bool {
    let lower = data.to_ascii_lowercase();
    rule.keywords.iter().any(|k| {
        let k = k.to_ascii_lowercase();
        memchr::memmem::find_iter(&lower, k.as_bytes()).any(|at| {
            let start = line_start_near(data, at);
            let end = line_end_near(data, (at + k.len() + rule.window).min(data.len()));
            start <= span.start && span.end <= end
        })
    })
}

fn line_start_near(data: &[u8], at: usize) -> usize {
    let lo = at.saturating_sub(MAX_LOOKBEHIND);
    match memchr::memrchr(b'\n', &data[lo..at]) {
        Some(i) => lo + i + 1,
        None => lo,
    }
}

fn line_end_near(data: &[u8], at: usize) -> usize {
    let hi = (at + LINE_TAIL).min(data.len());
    match memchr::memchr(b'\n', &data[at..hi]) {
        Some(i) => at + i,
        None => hi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use unleak_core::Origin;
    use unleak_rules::RuleSetBuilder;

    const RULES: &str = r#"
[[rules]]
id = "demo-token"
name = "Demo token"
keywords = ["demo_"]
regex = '''\b(?P<secret>demo_[a-z0-9]{12})\b'''
prefix = "demo_"
confidence = "high"

[[rules]]
id = "generic-secret"
name = "Generic secret"
keywords = ["secret"]
regex = '''(?i)secret\s*[:=]\s*"?(?P<secret>[^\s"]{8,})'''
min_entropy = 3.0
confidence = "medium"

[[rules]]
id = "pem"
name = "PEM key"
keywords = ["-----begin"]
regex = '''(?s)(?P<secret>-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----)'''
window = 16384
confidence = "high"
"#;

    fn matcher() -> Matcher {
        let set = RuleSetBuilder::new()
            .add_toml("t.toml", RULES)
            .unwrap()
            .build()
            .unwrap();
        Matcher::new(set, MatcherOptions::default())
    }

    fn scan(text: &str) -> Vec<Finding> {
        let m = matcher();
        let blob = Blob::new(Origin::Stdin, text.as_bytes());
        let fast = m.scan(&blob);
        let slow = m.scan_reference(&blob);
        let key = |f: &Finding| (f.rule_id.to_string(), f.span);
        assert_eq!(
            fast.iter().map(key).collect::<Vec<_>>(),
            slow.iter().map(key).collect::<Vec<_>>(),
            "prefilter path and reference path disagree"
        );
        fast
    }

    #[test]
    fn finds_with_exact_position() {
        let f = scan("a\nx = demo_ab12cd34ef56\n");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].location.line, f[0].location.column), (2, 5));
        assert_eq!(f[0].redacted, "demo_…(17 chars)");
    }

    #[test]
    fn overlapping_matches_collapse_to_the_most_specific_rule() {
        let f = scan("secret = demo_ab12cd34ef56\n");
        assert_eq!(f.len(), 1);
        assert_eq!(&*f[0].rule_id, "demo-token");
    }

    #[test]
    fn entropy_floor_and_placeholders_filter() {
        assert!(scan("secret = aaaaaaaaaaaa\n").is_empty());
        assert!(scan("secret = ${MY_SECRET}\n").is_empty());
        assert_eq!(scan("secret = \"Zq8r!Lm2Tv0X\"\n").len(), 1);
    }

    #[test]
    fn allow_comments_are_noted_on_the_secret_line_only() {
        let f = scan("x = demo_ab12cd34ef56 # unleak:allow\ny = demo_zz12cd34ef56\n");
        assert_eq!(f.len(), 2);
        assert!(f[0].inline_allow);
        assert!(!f[1].inline_allow);
    }

    #[test]
    fn trivial_generic_values_are_low_and_dropped_above_the_floor() {
        let text = b"client_secret: \"inactive-client-secret\"\n";
        let at = |path: &str, floor| {
            let set = matcher().rules().clone();
            let options = MatcherOptions {
                min_confidence: floor,
                ..MatcherOptions::default()
            };
            let blob = Blob::new(Origin::File(path.into()), text);
            Matcher::new(set, options)
                .scan(&blob)
                .iter()
                .map(|f| f.confidence)
                .collect::<Vec<_>>()
        };
        assert_eq!(at("config.yaml", Confidence::Low), [Confidence::Low]);
        assert_eq!(at("config.yaml", Confidence::Medium), []);
        assert_eq!(at(".env", Confidence::Medium), [Confidence::Medium]);
        // In source code a bare right-hand side is code, whatever the rule's pattern says.
        let code = b"secret = Zq8rLm2Tv0Xk9w\n";
        let blob = Blob::new(Origin::File("a.py".into()), code);
        assert!(matcher().scan(&blob).is_empty());
        let blob = Blob::new(Origin::File("a.env".into()), code);
        assert_eq!(matcher().scan(&blob).len(), 1);
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(scan("SECRET: Zq8r!Lm2Tv0X\n").len(), 1);
    }

    #[test]
    fn multi_line_pem_blocks_are_one_finding() {
        let body = "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n".repeat(30);
        let text =
            format!("x\n-----BEGIN RSA PRIVATE KEY-----\n{body}-----END RSA PRIVATE KEY-----\n");
        let f = scan(&text);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].location.line, 2);
        assert_eq!(f[0].location.end_line, 33);
    }

    #[test]
    fn a_window_cut_inside_a_run_is_not_the_end_of_the_text() {
        let set = RuleSetBuilder::new()
            .add_toml(
                "t.toml",
                r#"
[[rules]]
id = "long-token"
name = "Long token"
keywords = ["tok_"]
regex = '''\b(?P<secret>tok_[a-z0-9]{10,4000})(?:[^A-Za-z0-9]|$)'''
confidence = "high"
"#,
            )
            .unwrap()
            .build()
            .unwrap();
        let m = Matcher::new(set, MatcherOptions::default());
        let run = "q7".repeat(1000);
        // The run goes on into a capital letter: no delimiter, so no token, although
        // the keyword's window ends (with no line end near) inside the run.
        let glued = format!("v=tok_{run}Xtail");
        assert!(m
            .scan(&Blob::new(Origin::Stdin, glued.as_bytes()))
            .is_empty());
        // Many cut windows on one line: one widened run covers its neighbours, and what it
        // finds is what a run over the whole line finds.
        let many = format!("{}v=tok_{run} tail", format!("tok_{run}X ").repeat(20));
        let found = m.scan(&Blob::new(Origin::Stdin, many.as_bytes()));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span.end, many.len() - " tail".len());
        // Delimited, it is found whole, not cut at the window's edge.
        let text = format!("v=tok_{run} tail");
        let found = m.scan(&Blob::new(Origin::Stdin, text.as_bytes()));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].span, Span::new(2, 2 + 4 + run.len()));
    }

    #[test]
    fn the_decoded_bytes_cap_bounds_what_is_looked_into() {
        // "secret: Zq8r!Lm2Tv0X" in base64, inside a longer value.
        let text = "blob: c2VjcmV0OiBacThyIUxtMlR2MFg=\n";
        let with = |cap| {
            let options = MatcherOptions {
                max_decoded_per_blob: cap,
                ..MatcherOptions::default()
            };
            let set = matcher().rules().clone();
            Matcher::new(set, options).scan(&Blob::new(Origin::Stdin, text.as_bytes()))
        };
        assert_eq!(with(MAX_DECODED_PER_BLOB).len(), 1);
        assert!(with(8).is_empty(), "a run over the cap is not decoded");
    }

    #[test]
    fn many_hits_in_a_long_line_are_found_once_each() {
        let line = "demo_ab12cd34ef56 ".repeat(2000);
        let f = scan(&line);
        assert_eq!(f.len(), 2000);
        assert!(f.windows(2).all(|w| w[0].span.end <= w[1].span.start));
    }

    #[test]
    fn keywords_are_those_of_active_rules() {
        let m = matcher();
        let mut all: Vec<&str> = m.keywords().collect();
        all.sort_unstable();
        assert_eq!(all, ["-----begin", "demo_", "secret"]);
        let set = RuleSetBuilder::new()
            .add_toml("t.toml", RULES)
            .unwrap()
            .build()
            .unwrap();
        let high = Matcher::new(
            set,
            MatcherOptions {
                min_confidence: Confidence::High,
                ..Default::default()
            },
        );
        let mut kept: Vec<&str> = high.keywords().collect();
        kept.sort_unstable();
        assert_eq!(kept, ["-----begin", "demo_"]);
    }

    #[test]
    fn low_confidence_floor_drops_rules() {
        let set = RuleSetBuilder::new()
            .add_toml("t.toml", RULES)
            .unwrap()
            .build()
            .unwrap();
        let m = Matcher::new(
            set,
            MatcherOptions {
                min_confidence: Confidence::High,
                ..Default::default()
            },
        );
        let blob = Blob::new(Origin::Stdin, b"secret = Zq8r!Lm2Tv0X\n");
        assert!(m.scan(&blob).is_empty());
    }
    const PAIR_RULES: &str = r#"
[[rules]]
id = "demo-key-id"
name = "Demo key id"
keywords = ["dkid"]
regex = '''\b(?P<secret>DKID[A-Z0-9]{12})\b'''
confidence = "high"

[[rules]]
id = "demo-key-secret"
name = "Demo key secret beside its id"
keywords = ["dkid"]
regex = '''(?:^|[\s=:"'])(?P<secret>[A-Za-z0-9/+]{40})(?:[\s"']|$)'''
min_entropy = 3.5
window = 512
confidence = "high"

[rules.companion]
regex = '''\bDKID[A-Z0-9]{12}\b'''
within_lines = 2
"#;

    fn pair_matcher() -> Matcher {
        let set = RuleSetBuilder::new()
            .add_toml("t.toml", PAIR_RULES)
            .unwrap()
            .build()
            .unwrap();
        Matcher::new(set, MatcherOptions::default())
    }

    #[test]
    fn a_secret_with_its_companion_is_one_finding() {
        let secret = "q8Zr2LmT0vXw9Ka1/b7Nc3Pd6Rf+Sg4Th5Uj2Vk0";
        let text = format!("[default]\nkey_id = DKIDAB12CD34EF56\nkey_secret = {secret}\n");
        let f = pair_matcher().scan(&Blob::new(Origin::Stdin, text.as_bytes()));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(&*f[0].rule_id, "demo-key-secret");
        assert_eq!(f[0].secret.expose(), secret.as_bytes());
    }

    #[test]
    fn a_secret_without_its_companion_nearby_is_not_reported() {
        let secret = "q8Zr2LmT0vXw9Ka1/b7Nc3Pd6Rf+Sg4Th5Uj2Vk0";
        let text = format!("key_id = DKIDAB12CD34EF56\n\n\n\n\nkey_secret = {secret}\n");
        let f = pair_matcher().scan(&Blob::new(Origin::Stdin, text.as_bytes()));
        assert_eq!(f.len(), 1);
        assert_eq!(&*f[0].rule_id, "demo-key-id");
    }

    #[test]
    fn secrets_inside_encoded_runs_are_found_at_the_encoded_bytes() {
        // base64 of "export DEMO=demo_ab12cd34ef56\n" in a neutral field.
        let text = "blob: ZXhwb3J0IERFTU89ZGVtb19hYjEyY2QzNGVmNTYK\n";
        let f = scan(text);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].decoded, ["base64"]);
        assert_eq!(f[0].secret.expose(), b"demo_ab12cd34ef56");
        assert!(f[0].span.start >= 6 && f[0].span.end < text.len());
        assert!(!f[0].redacted.contains("ab12cd34"));
        // URL-encoded inside a query string.
        let f = scan("GET /cb?next=%2Fhome%3Fk%3D%64emo_ab12cd34ef56%26x%3D1 200\n");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].decoded, ["url"]);
    }

    #[test]
    fn a_match_is_not_decoded_again() {
        // The secret's own characters form a base64 run; it is reported once, plainly.
        let f = scan("x = demo_ab12cd34ef56\n");
        assert_eq!(f.len(), 1);
        assert!(f[0].decoded.is_empty());
    }
}
