//! The scanning path: prefilter → windows → regex → checks, plus key/value pairs under
//! secret-like names → collapse → decoded runs (encoded text, a Kubernetes Secret's values,
//! PEM blocks joined from string literals) scanned the same way (depth-bounded) → findings.
//!
//! Owns the keyword windows and what bounds them: the windows of rules that share a
//! keyword and a window length are one group's, merged as the keyword's occurrences come
//! (a flood of one keyword on one line is one window, not one per occurrence and rule), at
//! most [`MAX_WINDOWS`] are held per blob, and a group past that is found again, in order,
//! when its rules run. Each byte is searched by a rule's regex about once (plus the
//! widening around cut edges), and each is searched for line ends a bounded number of
//! times, so a scan is linear in its input on any input.
//!
//! Path-scoped rules (`paths` globs: `.netrc`, `wp-config.php`) take no part in the
//! keyword search: a blob's path is matched once against all their globs, and each rule
//! it selects reads the whole blob (when the rule has keywords, only if one occurs).

use crate::build::{FindingBuilder, Placement};
use crate::concat::{joined_pem_blocks, PEM_MARKER};
use crate::decode::{
    decode_base64_pieces, decode_runs, overlaps_any, spend, DecodedRun, Encoding,
    MAX_DECODED_PER_BLOB,
};
use crate::k8s::{secret_entries, SecretEntries, SECRET_MARKER};
use crate::keyvalue::{
    is_trivial_password, judge_match, read_line, sort_pairs, KeyClass, Pair, KEY_FRAGMENTS,
};
use crate::literals::{Literals, LANES};
use crate::syntax::FileKind;
use crate::{entropy::shannon_entropy, placeholder::is_placeholder};
use aho_corasick::AhoCorasick;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;
use unleak_core::{Blob, Confidence, Finding, FingerprintKey, Span};
use unleak_rules::{Companion, Rule, RuleSet};

/// How far back from a keyword a match may start when the line is long.
const MAX_LOOKBEHIND: usize = 1024;
/// How far past a window a line end is still looked for.
const LINE_TAIL: usize = 256;
/// How far a window is widened, each way, to whole lines when a match touches a cut edge.
const MAX_WIDEN: usize = 64 * 1024;
/// How many encodings deep a secret is looked for (base64 of URL-encoded text is 2).
const MAX_DECODE_DEPTH: usize = 2;
/// Keyword windows held per blob, all groups together (24 bytes each, so 192 KiB a worker,
/// inside the runtime reserve of `--memory-budget`): past this, the group holding the most
/// gives its windows up and they are found again when its rules run.
const MAX_WINDOWS: usize = 8192;

/// Options that shape what is matched but not which rules exist.
#[derive(Clone, Debug)]
pub struct MatcherOptions {
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
            min_confidence: Confidence::Low,
            max_decoded_per_blob: MAX_DECODED_PER_BLOB,
        }
    }
}

/// One secret the matcher found: which rule, where, and how sure. It knows neither the
/// blob it came from nor a fingerprint key; a [`FindingBuilder`](crate::FindingBuilder)
/// makes it a finding. `Debug` leaves the value out.
#[derive(Clone, PartialEq)]
pub struct Match {
    /// The rule's index in the matcher's [`RuleSet`].
    pub(crate) rule: usize,
    /// The secret's bytes in the blob (its encoded form when it was found decoded).
    pub(crate) span: Span,
    /// The secret when it is not the bytes at `span`: found in decoded content.
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) entropy: f64,
    pub(crate) confidence: Confidence,
    /// The encodings peeled off to reach it, outermost first.
    pub(crate) decoded: Vec<Encoding>,
}

impl Match {
    /// The rule's index in the matcher's rule set.
    pub fn rule(&self) -> usize {
        self.rule
    }

    /// Where the secret stands in the blob.
    pub fn span(&self) -> Span {
        self.span
    }

    /// The confidence the finding will carry (a trivially fake generic value is low).
    pub fn confidence(&self) -> Confidence {
        self.confidence
    }
}

impl std::fmt::Debug for Match {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Match")
            .field("rule", &self.rule)
            .field("span", &self.span)
            .field("confidence", &self.confidence)
            .field("decoded", &self.decoded)
            .finish_non_exhaustive()
    }
}

/// What [`Matcher::find`] found in one blob.
#[derive(Debug)]
pub struct Matches {
    /// Sorted by position, overlaps collapsed to the most specific rule.
    pub matches: Vec<Match>,
    /// The decoded-bytes cap stopped decoding: some encoded text was not looked into.
    pub partially_decoded: bool,
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
    /// Window groups: a keyword and a window length that rules share.
    groups: Vec<Group>,
    /// Per group, the rules whose windows it gives.
    group_rules: Vec<Vec<u32>>,
    /// Per rule, its groups (one per keyword).
    rule_groups: Vec<Vec<u32>>,
    /// Per rule, for a path-scoped rule with keywords, a search for any of them: such a
    /// rule reads a file its paths select only when one occurs in it.
    scoped_keywords: Vec<Option<AhoCorasick>>,
    /// Per [`KeyClass`], the generic rule key/value pairs are filed under (`None` when that
    /// rule is absent, disabled or below the floor); `None` when no class has one, and then
    /// pairs are not looked for.
    keyvalue: Option<[Option<u32>; KeyClass::ALL.len()]>,
    options: MatcherOptions,
}

/// A region to confirm a rule's regex in: `(start, end)`.
type Window = (usize, usize);

/// What one keyword search found.
struct KeywordHits {
    /// Closed windows of groups that keep theirs: `(group, start, end)`, at most
    /// [`MAX_WINDOWS`] (plus the open ones flushed at the end).
    windows: Vec<(u32, usize, usize)>,
    /// Per group, how many of `windows` are its (empty until a keyword of a group hits:
    /// most decoded runs hit none, and pay nothing).
    held: Vec<u32>,
    /// Per group, whether it gave its windows up (they are found again when needed); empty
    /// with `held`.
    dropped: Vec<bool>,
    /// Per lane of the keyword search, per group, the window still growing.
    open: [Vec<Option<Growing>>; LANES],
    /// Per lane, the last line handed to the key/value reader.
    last_line: [Option<Window>; LANES],
    /// What the key/value reader found on the lines holding a key fragment.
    pairs: Vec<Pair>,
    /// The syntax of the file the lines come from, for the key/value reader.
    kind: FileKind,
    /// Ranges of live settings inside the file (a Secret's `stringData:`), sorted.
    live: Vec<Span>,
    /// The [`Marks`] of the literals that occurred.
    marks: u8,
}

/// Literals the keyword pass looks for on behalf of the readers that need a whole-blob
/// search (a bit each): one pass finds them with the keywords, and a blob without one
/// is not searched again for it.
struct Marks;

impl Marks {
    /// [`SECRET_MARKER`]: the Kubernetes Secret reader may find entries.
    const SECRET: u8 = 1;
    /// [`PEM_MARKER`]: a PEM block may be joined from literals.
    const PEM: u8 = 2;
}

/// One literal of the keyword automaton.
struct Pattern {
    /// The literal, lower-cased.
    literal: String,
    /// The window groups a hit grows.
    groups: Vec<u32>,
    /// Whether it is a key fragment (a hit sends its line to the key/value reader).
    key_fragment: bool,
    /// The [`Marks`] a hit sets.
    marks: u8,
    /// This literal alone, to find a group's windows again in order; built the first time.
    alone: OnceLock<AhoCorasick>,
}

/// Rules that share a keyword and a window length share their windows.
struct Group {
    pattern: u32,
    /// How far past a keyword occurrence's start a match may reach: the keyword's length
    /// plus the rule's window.
    reach: usize,
    /// Lines above the keyword's line a match may start on: a two-part rule's
    /// `within_lines`, since its secret may stand above the companion its keyword names.
    lines_before: usize,
}

/// A window growing while the occurrences of its group's keyword keep overlapping it. An
/// occurrence's window runs from its line start, or the start of the group's
/// `lines_before`-th line above (at most [`MAX_LOOKBEHIND`] back per line), to the line end
/// after its reach (at most [`LINE_TAIL`] on); occurrences must come in order of their
/// starts, and only bytes after what was read before are searched for line ends.
#[derive(Clone, Copy, Debug)]
struct Growing {
    lo: usize,
    hi: usize,
}

impl Growing {
    fn new(data: &[u8], at: usize, reach: usize, lines_before: usize) -> Self {
        Growing {
            lo: line_start_near(data, at, lines_before),
            hi: line_end_near(data, reach),
        }
    }

    /// Take in the occurrence at `at` whose match may reach `reach`. Returns the window
    /// it closes when the occurrence's window does not overlap this one (this one then
    /// becomes the occurrence's).
    fn add(&mut self, data: &[u8], at: usize, reach: usize, lines_before: usize) -> Option<Window> {
        if at > self.hi {
            // The occurrence's window start, looked for only after this window's end.
            let from = at
                .saturating_sub(MAX_LOOKBEHIND * (lines_before + 1))
                .max(self.hi);
            count_line_bytes(at - from);
            let lo = match nth_line_feed_back(&data[from..at], lines_before) {
                Some(i) => Some(from + i + 1),
                None if from == self.hi => None,
                None => Some(from),
            };
            if let Some(lo) = lo {
                let closed = (self.lo, self.hi);
                *self = Growing {
                    lo,
                    hi: line_end_near(data, reach),
                };
                return Some(closed);
            }
        }
        self.reach(data, reach);
        None
    }

    /// Move the end to the line end after `reach` (reaches come in order).
    fn reach(&mut self, data: &[u8], reach: usize) {
        // Bytes from an earlier reach to `hi` hold no line feed: when `hi` is one, or the
        // end of the data, it is the line end after `reach` too.
        if reach <= self.hi && (self.hi == data.len() || data[self.hi] == b'\n') {
            return;
        }
        let from = reach.max(self.hi);
        let to = (reach + LINE_TAIL).min(data.len());
        count_line_bytes(to - from);
        self.hi = match memchr::memchr(b'\n', &data[from..to]) {
            Some(i) => from + i,
            None => to,
        };
    }
}

#[cfg(test)]
pub(crate) fn count_line_bytes(n: usize) {
    crate::work::line_bytes(n);
}

#[cfg(not(test))]
pub(crate) fn count_line_bytes(_: usize) {}

impl KeywordHits {
    /// Keep a closed window of group `g`. At the cap, the group holding the most gives all
    /// of its windows up first.
    fn hold(&mut self, g: u32, window: Window) {
        if self.windows.len() >= MAX_WINDOWS {
            let most = (0..self.held.len())
                .max_by_key(|&i| self.held[i])
                .expect("held windows belong to a group");
            self.dropped[most] = true;
            self.held[most] = 0;
            self.windows.retain(|w| w.0 as usize != most);
            for lane in &mut self.open {
                if let Some(slot) = lane.get_mut(most) {
                    *slot = None;
                }
            }
        }
        if !self.dropped[g as usize] {
            self.windows.push((g, window.0, window.1));
            self.held[g as usize] += 1;
        }
    }

    /// Read the line holding a key fragment at `at` (found in `lane`) for key/value pairs,
    /// unless it is the line this lane read last. A lane's fragments come in order and
    /// none holds a line feed, so the line start is looked for only after that line.
    fn key_fragment(&mut self, data: &[u8], lane: usize, at: usize) {
        let floor = match self.last_line[lane] {
            Some((lo, hi)) if lo <= at && at < hi => return,
            Some((_, hi)) if hi <= at => hi,
            _ => 0,
        };
        count_line_bytes(at - floor);
        let start = memchr::memrchr(b'\n', &data[floor..at]).map_or(floor, |i| floor + i + 1);
        let end = memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i);
        count_line_bytes(end - at);
        self.last_line[lane] = Some((start, end));
        let kind = kind_at(self.kind, &self.live, start);
        read_line(data, start, end, kind, &mut self.pairs);
    }
}

/// `kind`, made live at `at` when a range of `live` (sorted, without overlaps) holds it.
fn kind_at(kind: FileKind, live: &[Span], at: usize) -> FileKind {
    let i = live.partition_point(|s| s.end <= at);
    match live.get(i) {
        Some(s) if s.start <= at => FileKind { live: true, ..kind },
        _ => kind,
    }
}

/// Merge streams of windows, each in order of their starts, into one in that order.
fn merge_by_start<'a>(
    streams: Vec<Box<dyn Iterator<Item = Window> + 'a>>,
) -> impl Iterator<Item = Window> + 'a {
    let mut streams: Vec<_> = streams.into_iter().map(Iterator::peekable).collect();
    std::iter::from_fn(move || {
        let next = streams
            .iter_mut()
            .enumerate()
            .filter_map(|(i, s)| s.peek().map(|w| (w.0, i)))
            .min()?;
        streams[next.1].next()
    })
}

/// A candidate found in the decoded bytes of `run`, placed on the encoded bytes: `local`
/// turns a span of the text scanned into one of `run`'s bytes, and `value` is the secret.
fn lift(
    run: &DecodedRun,
    inner: Candidate,
    local: impl Fn(Span) -> Span,
    value: Vec<u8>,
) -> Candidate {
    let mut decoded = vec![run.encoding];
    decoded.extend(inner.decoded);
    Candidate {
        rule: inner.rule,
        secret: run.map_span(local(inner.secret)),
        entropy: inner.entropy,
        value: Some(value),
        decoded,
        from_pair: inner.from_pair,
        companion: inner.companion.map(|s| run.map_span(local(s))),
        demoted: inner.demoted,
    }
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
                    literal: literal.to_ascii_lowercase(),
                    groups: Vec::new(),
                    key_fragment: false,
                    marks: 0,
                    alone: OnceLock::new(),
                });
                patterns.len() - 1
            })
        };
        let mut triggers: Vec<(usize, u32)> = Vec::new();
        for (ri, rule) in rules.rules().iter().enumerate() {
            if active[ri] && !rule.is_path_scoped() {
                triggers.extend(rule.keywords.iter().map(|k| (pattern_id(k), ri as u32)));
            }
        }
        let fragments: Vec<usize> = match keyvalue {
            Some(_) => KEY_FRAGMENTS.iter().map(|f| pattern_id(f)).collect(),
            None => Vec::new(),
        };
        let marks = [
            (pattern_id(SECRET_MARKER), Marks::SECRET),
            (pattern_id(PEM_MARKER), Marks::PEM),
        ];
        let mut group_ids: HashMap<(usize, usize, usize), u32> = HashMap::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut group_rules: Vec<Vec<u32>> = Vec::new();
        let mut rule_groups: Vec<Vec<u32>> = vec![Vec::new(); rules.len()];
        for (id, ri) in triggers {
            let rule = &rules.rules()[ri as usize];
            let reach = patterns[id].literal.len() + rule.window;
            let lines_before = lines_before(rule);
            let g = *group_ids
                .entry((id, reach, lines_before))
                .or_insert_with(|| {
                    groups.push(Group {
                        pattern: id as u32,
                        reach,
                        lines_before,
                    });
                    group_rules.push(Vec::new());
                    patterns[id].groups.push(groups.len() as u32 - 1);
                    groups.len() as u32 - 1
                });
            if !group_rules[g as usize].contains(&ri) {
                group_rules[g as usize].push(ri);
                rule_groups[ri as usize].push(g);
            }
        }
        for id in fragments {
            patterns[id].key_fragment = true;
        }
        for (id, mark) in marks {
            patterns[id].marks |= mark;
        }
        let keywords = Literals::new(&literals);
        let scoped_keywords = rules
            .rules()
            .iter()
            .map(|r| {
                (r.is_path_scoped() && !r.keywords.is_empty()).then(|| {
                    AhoCorasick::builder()
                        .ascii_case_insensitive(true)
                        .build(&r.keywords)
                        .expect("plain literals always compile")
                })
            })
            .collect();
        Matcher {
            rules,
            active,
            keywords,
            patterns,
            groups,
            group_rules,
            rule_groups,
            scoped_keywords,
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
            // A path-scoped rule's finding need not hold a keyword, and input batched
            // by a caller has no path: such rules never run on it.
            .filter(|(rule, active)| **active && !rule.is_path_scoped())
            .flat_map(|(rule, _)| rule.keywords.iter().map(String::as_str))
    }

    /// Every finding in `blob`, sorted by position, fingerprinted under the default key.
    /// Scans that need a baseline's key, a place in a stream or `--show-secrets` use
    /// [`Matcher::find`] and a [`FindingBuilder`](crate::FindingBuilder).
    pub fn scan(&self, blob: &Blob) -> Vec<Finding> {
        let found = self.find(blob.data, blob.origin.content_path());
        self.findings(blob, found.matches)
    }

    /// Every match in `data`, and whether the decoded-bytes cap
    /// ([`MatcherOptions::max_decoded_per_blob`]) left encoded text in it unread. `path`,
    /// the file the bytes are (an archive member's own path), decides the syntax values
    /// are judged by and which path-scoped rules run; without one, the bytes are data and
    /// no path-scoped rule runs.
    pub fn find(&self, data: &[u8], path: Option<&Path>) -> Matches {
        let mut budget = self.options.max_decoded_per_blob;
        let kind = path.map_or(FileKind::DATA, FileKind::of_path);
        let scoped = self.scoped_rules(path);
        let candidates = self.candidates(data, kind, &scoped, 0, false, &mut budget);
        Matches {
            matches: self.matches(candidates),
            // Decoders spend the budget to 0 when a run does not fit (or exactly fills it,
            // which is rare enough to report the same way).
            partially_decoded: budget == 0,
        }
    }

    /// The active path-scoped rules that run on the file at `path`: decided once per
    /// blob, by one match of its path against all their globs.
    fn scoped_rules(&self, path: Option<&Path>) -> Vec<u32> {
        let Some(path) = path else {
            return Vec::new();
        };
        self.rules
            .path_scoped(path)
            .into_iter()
            .filter(|&i| self.active[i])
            .map(|i| i as u32)
            .collect()
    }

    /// The plain path the prefilter must agree with: every rule any of whose keywords
    /// occurs anywhere in the blob runs its regex over the whole blob.
    pub fn scan_reference(&self, blob: &Blob) -> Vec<Finding> {
        let mut budget = self.options.max_decoded_per_blob;
        let path = blob.origin.content_path();
        let kind = path.map_or(FileKind::DATA, FileKind::of_path);
        let scoped = self.scoped_rules(path);
        let candidates = self.candidates(blob.data, kind, &scoped, 0, true, &mut budget);
        self.findings(blob, self.matches(candidates))
    }

    /// `matches` of `blob` as findings under the default key, at the blob's start.
    fn findings(&self, blob: &Blob, matches: Vec<Match>) -> Vec<Finding> {
        FindingBuilder::new(&self.rules, FingerprintKey::default()).build(
            &blob.origin,
            blob.data,
            matches,
            Placement::WHOLE,
        )
    }

    /// Collapsed candidates as matches.
    fn matches(&self, kept: Vec<Candidate>) -> Vec<Match> {
        let rules = self.rules.rules();
        kept.into_iter()
            .map(|c| Match {
                confidence: effective_confidence(&rules[c.rule as usize], &c),
                rule: c.rule as usize,
                span: c.secret,
                value: c.value,
                entropy: c.entropy,
                decoded: c.decoded,
            })
            .collect()
    }

    /// Collapsed candidates in `data`: rule matches (of the path-scoped rules in `scoped`
    /// too) and key/value pairs, then whatever the encoded runs that no match covers hold,
    /// mapped back onto their encoded bytes.
    fn candidates(
        &self,
        data: &[u8],
        kind: FileKind,
        scoped: &[u32],
        depth: usize,
        reference: bool,
        budget: &mut usize,
    ) -> Vec<Candidate> {
        let mut hits = self.keyword_hits(data, kind);
        let marks = hits.marks;
        let secrets = if marks & Marks::SECRET != 0 {
            secret_entries(data)
        } else {
            SecretEntries::default()
        };
        hits.live = secrets.string_data;
        let mut found = if reference {
            self.rule_candidates_reference(data)
        } else {
            self.rule_candidates(data, &mut hits)
        };
        self.scoped_candidates(data, scoped, &mut found);
        self.judge_generic_matches(data, kind, &hits.live, &mut found);
        self.keyvalue_candidates(data, hits.pairs, &mut found);
        if self.options.min_confidence > Confidence::Low {
            found.retain(|c| !c.demoted);
        }
        let mut kept = self.collapse(found);
        if depth >= MAX_DECODE_DEPTH || *budget == 0 {
            return kept;
        }
        // A rule's match (a PEM block, a JWT, a token) is not decoded again.
        let mut covered: Vec<Span> = kept.iter().map(|c| c.secret).collect();
        let mut inner_found = Vec::new();
        // A Secret's `data:` values are base64 whatever their key: each is read as the
        // settings it holds, a one-line value under its key (`extra: <password>`), a longer
        // one as a file named by its key (`config.yaml`), live either way.
        let mut entries_read = Vec::new();
        for entry in &secrets.data {
            let first = entry.pieces.first().map_or(0, |p| p.start);
            let last = entry.pieces.last().map_or(0, |p| p.end);
            if overlaps_any(Span::new(first, last), &covered) {
                continue;
            }
            let Some(run) = decode_base64_pieces(data, &entry.pieces, budget) else {
                continue;
            };
            let key = &data[entry.key.start..entry.key.end];
            let (text, prefix, inner_kind) = if run.bytes.contains(&b'\n') {
                let name = String::from_utf8_lossy(key);
                let kind = FileKind::of_path(std::path::Path::new(&*name));
                (run.bytes.clone(), 0, kind)
            } else {
                let line = [key, b": ", &run.bytes].concat();
                (line, key.len() + 2, FileKind::DATA)
            };
            let inner_kind = FileKind {
                live: true,
                ..inner_kind
            };
            // Decoded bytes have no file name: no path-scoped rule runs on them.
            let inner = self.candidates(&text, inner_kind, &[], depth + 1, reference, budget);
            for c in inner {
                // What lies in the key alone is not in the value.
                if c.secret.end <= prefix {
                    continue;
                }
                let value = c
                    .value
                    .clone()
                    .unwrap_or_else(|| text[c.secret.start..c.secret.end].to_vec());
                let unprefix = |s: Span| {
                    Span::new(s.start.saturating_sub(prefix), s.end.saturating_sub(prefix))
                };
                inner_found.push(lift(&run, c, unprefix, value));
            }
            entries_read.push(run.span);
        }
        if !entries_read.is_empty() {
            covered.extend(entries_read);
            covered.sort_by_key(|s| s.start);
            covered.dedup_by(|b, a| {
                let merge = b.start < a.end;
                if merge {
                    *a = Span::new(a.start, a.end.max(b.end));
                }
                merge
            });
        }
        let mut runs = decode_runs(data, &covered, budget);
        if marks & Marks::PEM != 0 {
            for run in joined_pem_blocks(data) {
                if !overlaps_any(run.span, &covered) && spend(budget, run.bytes.len()) {
                    runs.push(run);
                }
            }
        }
        for run in runs {
            // Decoded bytes have no file name: they are read as data, and no path-scoped
            // rule runs on them.
            let inner_candidates = self.candidates(
                &run.bytes,
                FileKind::DATA,
                &[],
                depth + 1,
                reference,
                budget,
            );
            for inner in inner_candidates {
                let value = inner
                    .value
                    .clone()
                    .unwrap_or_else(|| run.bytes[inner.secret.start..inner.secret.end].to_vec());
                inner_found.push(lift(&run, inner, |s| s, value));
            }
        }
        if !inner_found.is_empty() {
            kept.extend(inner_found);
            kept.sort_by_key(|c| (c.secret.start, c.secret.end, c.rule));
        }
        kept
    }

    /// Regex matches in the keyword windows of `data`.
    fn rule_candidates(&self, data: &[u8], hits: &mut KeywordHits) -> Vec<Candidate> {
        let mut candidates = Vec::new();
        hits.windows.sort_unstable();
        let mut rules: Vec<u32> = Vec::new();
        for (g, &held) in hits.held.iter().enumerate() {
            if held > 0 || hits.dropped[g] {
                rules.extend(&self.group_rules[g]);
            }
        }
        rules.sort_unstable();
        rules.dedup();
        for ri in rules {
            // How far the regex has already run (a widened window reaches past its
            // neighbours): a window wholly inside that is not run again, so a line of many
            // cut windows costs a few passes, not one widened pass per window.
            let mut covered: Option<usize> = None;
            let mut companions = Companions::default();
            for (lo, hi) in self.rule_windows(data, ri, &hits.windows, &hits.dropped) {
                if covered.is_none_or(|end| hi > end) {
                    let out = &mut candidates;
                    covered = Some(self.confirm_window(ri, data, lo, hi, &mut companions, out));
                }
            }
        }
        candidates
    }

    /// Rule `ri`'s windows in order, those that overlap merged into one, so each byte is
    /// searched once per rule: its groups' held windows (`held`, sorted), or, for the
    /// groups that gave theirs up (`dropped`), found again.
    fn rule_windows<'a>(
        &'a self,
        data: &'a [u8],
        ri: u32,
        held: &'a [(u32, usize, usize)],
        dropped: &[bool],
    ) -> impl Iterator<Item = Window> + 'a {
        let streams: Vec<Box<dyn Iterator<Item = Window> + 'a>> = self.rule_groups[ri as usize]
            .iter()
            .map(|&g| -> Box<dyn Iterator<Item = Window> + 'a> {
                if dropped.get(g as usize).is_some_and(|&d| d) {
                    Box::new(self.windows_again(data, g))
                } else {
                    let from = held.partition_point(|w| w.0 < g);
                    let to = held.partition_point(|w| w.0 <= g);
                    Box::new(held[from..to].iter().map(|w| (w.1, w.2)))
                }
            })
            .collect();
        let mut windows = merge_by_start(streams).peekable();
        std::iter::from_fn(move || {
            let (lo, mut hi) = windows.next()?;
            while let Some(next) = windows.next_if(|w| w.0 <= hi) {
                hi = hi.max(next.1);
            }
            Some((lo, hi))
        })
    }

    /// The windows of group `g` in `data`, in order, from a search for its keyword alone:
    /// for a group that gave its windows up, at no more memory than one window.
    fn windows_again<'a>(&'a self, data: &'a [u8], g: u32) -> impl Iterator<Item = Window> + 'a {
        let group = &self.groups[g as usize];
        let pattern = &self.patterns[group.pattern as usize];
        let alone = pattern.alone.get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build([&pattern.literal])
                .expect("a plain literal always compiles")
        });
        let mut starts = alone.find_overlapping_iter(data).map(|m| m.start());
        let mut open: Option<Growing> = None;
        std::iter::from_fn(move || loop {
            let Some(at) = starts.next() else {
                return open.take().map(|w| (w.lo, w.hi));
            };
            let reach = (at + group.reach).min(data.len());
            match &mut open {
                None => open = Some(Growing::new(data, at, reach, group.lines_before)),
                Some(w) => {
                    if let Some(closed) = w.add(data, at, reach, group.lines_before) {
                        return Some(closed);
                    }
                }
            }
        })
    }

    /// The matches of the path-scoped rules `scoped` (those the blob's path selects), each
    /// over the whole of `data`, when it has no keywords or one of them occurs.
    fn scoped_candidates(&self, data: &[u8], scoped: &[u32], out: &mut Vec<Candidate>) {
        for &ri in scoped {
            let gate = &self.scoped_keywords[ri as usize];
            if gate.as_ref().is_some_and(|k| !k.is_match(data)) {
                continue;
            }
            let mut companions = Companions::default();
            self.confirm(ri, data, 0, data.len(), true, &mut companions, out);
        }
    }

    /// Regex matches of every rule whose keyword occurs anywhere in `data`, over all of it
    /// (path-scoped rules run apart, see [`Matcher::scoped_candidates`]).
    fn rule_candidates_reference(&self, data: &[u8]) -> Vec<Candidate> {
        let lower = data.to_ascii_lowercase();
        let mut candidates = Vec::new();
        for (ri, rule) in self.rules.rules().iter().enumerate() {
            if !self.active[ri] || rule.is_path_scoped() {
                continue;
            }
            let hit = rule
                .keywords
                .iter()
                .any(|k| memchr::memmem::find(&lower, k.as_bytes()).is_some());
            if hit {
                let mut companions = Companions::default();
                let (lo, hi) = (0, data.len());
                self.confirm(
                    ri as u32,
                    data,
                    lo,
                    hi,
                    true,
                    &mut companions,
                    &mut candidates,
                );
            }
        }
        candidates
    }

    /// The matches of the generic rules that read a value under a secret-like name, judged
    /// as the key/value reader judges its own: dropped when the file's syntax says the value
    /// is code or a template, demoted when it is trivially fake.
    fn judge_generic_matches(
        &self,
        data: &[u8],
        kind: FileKind,
        live: &[Span],
        found: &mut Vec<Candidate>,
    ) {
        let rules = self.rules.rules();
        found.retain_mut(|c| {
            let rule = &rules[c.rule as usize];
            let id = &rule.id;
            // Inside a Secret's `stringData:` the settings are live, whichever rule matched.
            let kind = kind_at(kind, live, c.secret.start);
            if !is_name_value_rule(id) {
                // A password someone chose, in a URI or a connection string, is trivially
                // fake as a generic one is (`mysql://app-test:app-test@db`); not in a
                // credential file a path-scoped rule reads, where it is the login.
                if id.contains("password") && !rule.is_path_scoped() {
                    c.demoted |= is_trivial_password(kind, data, c.secret.start, c.secret.end);
                }
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
    fn keyvalue_candidates(&self, data: &[u8], mut pairs: Vec<Pair>, out: &mut Vec<Candidate>) {
        let Some(class_rules) = &self.keyvalue else {
            return;
        };
        sort_pairs(&mut pairs);
        for pair in pairs {
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

    /// One search of the keyword automaton over `data`: the windows of the groups its
    /// keywords grow, merged as they come, and the key/value pairs on the lines holding a
    /// key fragment (each line read once per lane of the search).
    fn keyword_hits(&self, data: &[u8], kind: FileKind) -> KeywordHits {
        let groups = self.groups.len();
        let mut hits = KeywordHits {
            windows: Vec::new(),
            held: Vec::new(),
            dropped: Vec::new(),
            open: Default::default(),
            last_line: [None; LANES],
            pairs: Vec::new(),
            kind,
            live: Vec::new(),
            marks: 0,
        };
        self.keywords.for_each_lane(data, |lane, id, at| {
            let pattern = &self.patterns[id];
            hits.marks |= pattern.marks;
            if pattern.key_fragment {
                hits.key_fragment(data, lane, at);
            }
            if pattern.groups.is_empty() {
                return;
            }
            if hits.held.is_empty() {
                hits.held = vec![0; groups];
                hits.dropped = vec![false; groups];
            }
            if hits.open[lane].is_empty() {
                hits.open[lane] = vec![None; groups];
            }
            for &g in &pattern.groups {
                if hits.dropped[g as usize] {
                    continue;
                }
                let group = &self.groups[g as usize];
                let reach = (at + group.reach).min(data.len());
                let before = group.lines_before;
                let closed = match &mut hits.open[lane][g as usize] {
                    slot @ None => {
                        *slot = Some(Growing::new(data, at, reach, before));
                        None
                    }
                    Some(open) => open.add(data, at, reach, before),
                };
                if let Some(window) = closed {
                    hits.hold(g, window);
                }
            }
        });
        for lane in 0..LANES {
            for g in 0..hits.open[lane].len() {
                if let Some(open) = hits.open[lane][g].take() {
                    hits.hold(g as u32, (open.lo, open.hi));
                }
            }
        }
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
        companions: &mut Companions,
        out: &mut Vec<Candidate>,
    ) -> usize {
        let before = out.len();
        if !self.confirm(ri, data, lo, hi, false, companions, out) {
            return hi;
        }
        out.truncate(before);
        let from = lo.saturating_sub(MAX_WIDEN);
        let lo = memchr::memrchr(b'\n', &data[from..lo]).map_or(from, |i| from + i + 1);
        let to = (hi + MAX_WIDEN).min(data.len());
        let hi = memchr::memchr(b'\n', &data[hi..to]).map_or(to, |i| hi + i);
        self.confirm(ri, data, lo, hi, true, companions, out);
        hi
    }

    /// Run one rule's regex over `data[lo..hi]` and keep the matches that pass its checks.
    /// Returns whether a match touched a cut edge of the window (see
    /// [`Matcher::confirm_window`]); with `strict` such matches are dropped, without it the
    /// search stops there.
    #[allow(clippy::too_many_arguments)]
    fn confirm(
        &self,
        ri: u32,
        data: &[u8],
        lo: usize,
        hi: usize,
        strict: bool,
        companions: &mut Companions,
        out: &mut Vec<Candidate>,
    ) -> bool {
        let rule = &self.rules.rules()[ri as usize];
        let hay = &data[lo..hi];
        #[cfg(test)]
        crate::work::regex(hay.len());
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
                Some(c) => match companions.nearest(c, data, secret) {
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
}

/// One rule's companion matches near the secrets it is asked about. Secrets come mostly
/// in order, and consecutive ones on the same lines share the companion's line range: its
/// bounds are then found from the previous secret's, and its matches are searched for once,
/// so a long line of many secrets is not read once per secret.
#[derive(Default)]
struct Companions {
    /// The last secret asked about, the range its companion was looked for in, and the
    /// matches there, in order.
    last: Option<(Span, Span)>,
    matches: Vec<Span>,
}

impl Companions {
    /// The companion match nearest `secret` within the companion's line range, not
    /// overlapping the secret itself (the earlier one when two are as near).
    fn nearest(&mut self, c: &Companion, data: &[u8], secret: Span) -> Option<Span> {
        let same_lines = self.last.is_some_and(|(prev, _)| {
            prev.start <= secret.start
                && prev.end <= secret.end
                && memchr::memchr(b'\n', &data[prev.start..secret.start]).is_none()
                && memchr::memchr(b'\n', &data[prev.end..secret.end]).is_none()
        });
        let range = match self.last {
            Some((_, range)) if same_lines => range,
            _ => {
                let range = companion_range(c, data, secret);
                count_line_bytes(range.len());
                self.matches = c
                    .regex
                    .find_iter(&data[range.start..range.end])
                    .map(|m| Span::new(range.start + m.start(), range.start + m.end()))
                    .collect();
                range
            }
        };
        self.last = Some((secret, range));
        let split = self.matches.partition_point(|m| m.start < secret.start);
        let before = self.matches[..split]
            .iter()
            .rev()
            .find(|m| !m.overlaps(&secret));
        let after = self.matches[split..].iter().find(|m| !m.overlaps(&secret));
        match (before, after) {
            (Some(b), Some(a)) if a.start - secret.start < secret.start - b.start => Some(*a),
            (Some(b), _) => Some(*b),
            (None, a) => a.copied(),
        }
    }
}

/// The lines a companion may stand on: `within_lines` before the secret's first line to
/// as many after its last.
fn companion_range(c: &Companion, data: &[u8], secret: Span) -> Span {
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
    Span::new(lo, hi)
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

/// Whether a keyword of `rule` stands in `data` where the window the matcher confirms the
/// rule in covers `span` (from the keyword's line start, or the start of the line
/// `within_lines` above for a two-part rule, at most `MAX_LOOKBEHIND` back per line, to the
/// line end after the keyword and the rule's window, at most `LINE_TAIL` on).
/// A match of the rule's regex that no window covers is one the windowed path cannot see
/// by design; the prefilter's property test and fuzzer use this to tell those apart from a
/// real miss.
pub fn keyword_window_covers(data: &[u8], rule: &Rule, span: Span) -> bool {
    let lower = data.to_ascii_lowercase();
    rule.keywords.iter().any(|k| {
        let k = k.to_ascii_lowercase();
        memchr::memmem::find_iter(&lower, k.as_bytes()).any(|at| {
            let start = line_start_near(data, at, lines_before(rule));
            let end = line_end_near(data, (at + k.len() + rule.window).min(data.len()));
            start <= span.start && span.end <= end
        })
    })
}

/// Lines above its keyword's line a match of `rule` may start on. A two-part rule may be
/// keyed on its companion (`akia` for the AWS secret key beside its id), and the secret may
/// stand above it by as many lines as the companion may stand from the secret.
fn lines_before(rule: &Rule) -> usize {
    rule.companion.as_ref().map_or(0, |c| c.within_lines)
}

/// The start of the line `lines` above the one holding `at` (its own line for 0), at most
/// [`MAX_LOOKBEHIND`] bytes back per line.
fn line_start_near(data: &[u8], at: usize, lines: usize) -> usize {
    let lo = at.saturating_sub(MAX_LOOKBEHIND * (lines + 1));
    count_line_bytes(at - lo);
    match nth_line_feed_back(&data[lo..at], lines) {
        Some(i) => lo + i + 1,
        None => lo,
    }
}

/// The offset of the `n`-th line feed (from 0) counting back from the end of `bytes`.
fn nth_line_feed_back(bytes: &[u8], n: usize) -> Option<usize> {
    memchr::memrchr_iter(b'\n', bytes).nth(n)
}

fn line_end_near(data: &[u8], at: usize) -> usize {
    let hi = (at + LINE_TAIL).min(data.len());
    count_line_bytes(hi - at);
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
        // A scan says when the cap left text unread, and only then.
        let partial = |cap, text: &str| {
            let options = MatcherOptions {
                max_decoded_per_blob: cap,
                ..MatcherOptions::default()
            };
            let m = Matcher::new(matcher().rules().clone(), options);
            m.find(text.as_bytes(), None).partially_decoded
        };
        assert!(partial(8, text));
        assert!(!partial(MAX_DECODED_PER_BLOB, text));
        assert!(!partial(8, "plain text, nothing encoded\n"));
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
    fn a_secret_above_the_companion_its_keyword_names_is_one_finding() {
        // Keyed on the id, the secret stands lines above it: the window looks behind
        // `within_lines` lines, as the whole-blob path sees the pair.
        let secret = "q8Zr2LmT0vXw9Ka1/b7Nc3Pd6Rf+Sg4Th5Uj2Vk0";
        let m = pair_matcher();
        for text in [
            format!("key_secret = {secret}\nkey_id = DKIDAB12CD34EF56\n"),
            format!("x\nkey_secret = {secret}\n# id\nkey_id = DKIDAB12CD34EF56\n"),
        ] {
            let blob = Blob::new(Origin::Stdin, text.as_bytes());
            let f = m.scan(&blob);
            assert_eq!(f.len(), 1, "{f:?}");
            assert_eq!(&*f[0].rule_id, "demo-key-secret");
            assert_eq!(f[0].secret.expose(), secret.as_bytes());
            let slow = m.scan_reference(&blob);
            assert_eq!(slow.iter().map(|f| f.span).collect::<Vec<_>>(), [f[0].span]);
        }
        // Three lines above is past `within_lines`: the id alone.
        let far = format!("key_secret = {secret}\n\n\nkey_id = DKIDAB12CD34EF56\n");
        let f = m.scan(&Blob::new(Origin::Stdin, far.as_bytes()));
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

    /// Each rule's merged windows as the matcher runs them.
    fn merged_windows(m: &Matcher, data: &[u8]) -> Vec<Vec<Window>> {
        let mut hits = m.keyword_hits(data, FileKind::DATA);
        hits.windows.sort_unstable();
        (0..m.rules.len() as u32)
            .map(|ri| {
                m.rule_windows(data, ri, &hits.windows, &hits.dropped)
                    .collect()
            })
            .collect()
    }

    /// The same by brute force: a window for every occurrence of every keyword of every
    /// rule, sorted, the overlapping ones merged.
    fn naive_windows(m: &Matcher, data: &[u8]) -> Vec<Vec<Window>> {
        let lower = data.to_ascii_lowercase();
        m.rules
            .rules()
            .iter()
            .map(|rule| {
                let mut all = Vec::new();
                for k in &rule.keywords {
                    let k = k.to_ascii_lowercase();
                    for at in 0..lower.len() {
                        if lower[at..].starts_with(k.as_bytes()) {
                            let reach = (at + k.len() + rule.window).min(data.len());
                            let lo = line_start_near(data, at, lines_before(rule));
                            all.push((lo, line_end_near(data, reach)));
                        }
                    }
                }
                all.sort_unstable();
                let mut merged: Vec<Window> = Vec::new();
                for (lo, hi) in all {
                    match merged.last_mut() {
                        Some(last) if lo <= last.1 => last.1 = last.1.max(hi),
                        _ => merged.push((lo, hi)),
                    }
                }
                merged
            })
            .collect()
    }

    /// Rules that share keywords, with windows of different lengths.
    fn shared_matcher() -> Matcher {
        let rules = r#"
[[rules]]
id = "a"
name = "a"
keywords = ["tok", "token"]
regex = '''tok(?P<secret>[a-z]{4})'''
window = 40
confidence = "high"

[[rules]]
id = "b"
name = "b"
keywords = ["token"]
regex = '''ken(?P<secret>[a-z]{4})'''
window = 40
confidence = "high"

[[rules]]
id = "c"
name = "c"
keywords = ["ken", "token"]
regex = '''en(?P<secret>[a-z]{4})'''
window = 3000
confidence = "high"
"#;
        let set = RuleSetBuilder::new()
            .add_toml("t.toml", rules)
            .unwrap()
            .build()
            .unwrap();
        Matcher::new(set, MatcherOptions::default())
    }

    #[test]
    fn merged_windows_are_those_of_every_occurrence() {
        let m = shared_matcher();
        let mut x = 7u32;
        let mut text = |len: usize, pieces: &[&str]| -> Vec<u8> {
            let mut out = Vec::new();
            while out.len() < len {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                out.extend_from_slice(pieces[(x >> 16) as usize % pieces.len()].as_bytes());
            }
            out
        };
        let sparse = [
            "token",
            "tok",
            "ken",
            "\n",
            "x",
            "yy",
            " ",
            &"z".repeat(700),
        ];
        let dense = ["token", "TOKEN", "ken", "\n", "x"];
        // Small blobs (one lane), blobs walked in four lanes, and, with a line feed every
        // few bytes, more windows than are held, so groups give theirs up.
        for (len, pieces) in [
            (300, &sparse[..]),
            (5_000, &sparse[..]),
            (200_000, &sparse[..]),
            (200_000, &dense[..]),
        ] {
            let data = text(len, pieces);
            assert_eq!(merged_windows(&m, &data), naive_windows(&m, &data), "{len}");
        }
        // Windows that end on their own line: one per line, more than are held.
        let set = RuleSetBuilder::new()
            .add_toml(
                "t.toml",
                r#"
[[rules]]
id = "x"
name = "x"
keywords = ["token"]
regex = '''tok(?P<secret>[a-z]{4})'''
window = 1
confidence = "high"

[[rules]]
id = "y"
name = "y"
keywords = ["oken", "token"]
regex = '''ok(?P<secret>[a-z]{4})'''
window = 1
confidence = "high"
"#,
            )
            .unwrap()
            .build()
            .unwrap();
        let m = Matcher::new(set, MatcherOptions::default());
        let many_lines = b"token   \n".repeat(MAX_WINDOWS * 2);
        let hits = m.keyword_hits(&many_lines, FileKind::DATA);
        assert!(
            hits.dropped.iter().any(|&d| d),
            "past the cap, a group gives up"
        );
        assert!(hits.windows.len() <= MAX_WINDOWS + LANES * m.groups.len());
        assert_eq!(
            merged_windows(&m, &many_lines),
            naive_windows(&m, &many_lines)
        );
    }

    /// `n` rules that share the keyword `aaa` (B5 of the security audit: 60 of them held
    /// one window per occurrence and rule, 4.2 GB at `--memory-budget 64M`).
    fn flood_matcher(n: usize) -> Matcher {
        let mut rules = String::new();
        for i in 0..n {
            rules.push_str(&format!(
                "[[rules]]\nid = \"q{i}\"\nname = \"q\"\nkeywords = [\"aaa\"]\nregex = '''(?P<secret>aaa[a-z]{{{}}}[0-9]{{{},{}}}q{i}x)'''\nconfidence = \"high\"\n",
                i % 50 + 1,
                i % 40 + 1,
                i % 40 + 60
            ));
        }
        let set = RuleSetBuilder::new()
            .add_toml("t.toml", &rules)
            .unwrap()
            .build()
            .unwrap();
        Matcher::new(set, MatcherOptions::default())
    }

    #[test]
    fn rules_sharing_a_flooded_keyword_hold_few_windows_and_read_each_byte_once() {
        let rules = 300;
        let m = flood_matcher(rules);
        for sep in [" ", "\n"] {
            let data = format!("{}{sep}", "aaa".repeat(200)).repeat(200);
            let data = data.as_bytes();
            crate::work::take();
            let hits = m.keyword_hits(data, FileKind::DATA);
            // One window per line and lane, however many occurrences and rules.
            assert!(hits.windows.len() <= 200 * LANES, "{}", hits.windows.len());
            let found = m.scan(&Blob::new(Origin::Stdin, data));
            assert!(found.is_empty());
            let work = crate::work::take();
            assert!(
                work.regex_bytes <= rules * data.len(),
                "{sep:?}: {work:?} for {} bytes",
                data.len()
            );
            assert!(work.line_bytes <= 16 * data.len(), "{sep:?}: {work:?}");
        }
    }

    const SCOPED: &str = r#"
[[rules]]
id = "demorc-password"
name = "demorc password"
keywords = []
paths = ["**/.demorc", "**/_demorc"]
regex = '''(?m)^password\s+(?P<secret>\S+)'''
confidence = "high"

[[rules]]
id = "demorc-gated"
name = "demorc gated"
keywords = ["machine"]
paths = ["**/.demorc"]
regex = '''(?m)^login\s+(?P<secret>\S+)'''
confidence = "high"
"#;

    fn scoped_matcher() -> Matcher {
        let set = RuleSetBuilder::new()
            .add_toml("t.toml", SCOPED)
            .unwrap()
            .build()
            .unwrap();
        Matcher::new(set, MatcherOptions::default())
    }

    fn scan_at(m: &Matcher, path: &str, text: &str) -> Vec<String> {
        let blob = Blob::new(Origin::File(path.into()), text.as_bytes());
        let ids = |fs: Vec<Finding>| fs.iter().map(|f| f.rule_id.to_string()).collect::<Vec<_>>();
        let fast = ids(m.scan(&blob));
        assert_eq!(fast, ids(m.scan_reference(&blob)), "{path}");
        fast
    }

    #[test]
    fn a_path_scoped_rule_reads_only_the_files_its_globs_select() {
        let m = scoped_matcher();
        let text = "machine h\nlogin Zq7user\npassword Zq7pass\n";
        assert_eq!(
            scan_at(&m, "home/u/.DEMORC", text),
            ["demorc-gated", "demorc-password"]
        );
        assert_eq!(scan_at(&m, "_demorc", text), ["demorc-password"]);
        // Keywords of a path-scoped rule gate the file: here `machine` is missing.
        assert_eq!(
            scan_at(&m, ".demorc", "login Zq7user\npassword Zq7pass\n"),
            ["demorc-password"]
        );
        for other in ["notdemorc", ".demorc.bak", "docs/demorc.md"] {
            crate::work::take();
            assert!(scan_at(&m, other, text).is_empty(), "{other}");
            // Not run and discarded, but never run: no regex touched the blob.
            assert_eq!(crate::work::take().regex_runs, 0, "{other}");
        }
        assert!(m
            .scan(&Blob::new(Origin::Stdin, text.as_bytes()))
            .is_empty());
        // A caller batching pathless input (the log masker) gets none of their keywords.
        assert_eq!(m.keywords().count(), 0);
    }

    #[test]
    fn a_path_scoped_rule_does_not_run_on_decoded_runs() {
        let m = scoped_matcher();
        // "password Zq7passwordvalue\n" in base64 inside a .demorc: decoded bytes have no
        // path, so only the encoded line itself is read, and it holds no "password".
        assert!(scan_at(&m, ".demorc", "blob cGFzc3dvcmQgWnE3cGFzc3dvcmR2YWx1ZQo=\n").is_empty());
    }

    fn builtin_matcher() -> Matcher {
        let mut b = RuleSetBuilder::new();
        b.add_builtin().unwrap();
        Matcher::new(b.build().unwrap(), MatcherOptions::default())
    }

    /// B5 of the security audit: a single line of `token` (or `password`, `secret`) took
    /// time growing faster than its length (8 MB: 200 s), because the key/value pass looked
    /// for the line start from every occurrence. Doubling such a line must at most double
    /// the work, and each byte is searched for line ends a bounded number of times.
    #[test]
    fn one_long_line_of_a_keyword_costs_work_linear_in_its_length() {
        let m = builtin_matcher();
        let work = |unit: &str, len: usize| {
            let data = unit.repeat(len / unit.len());
            crate::work::take();
            m.scan(&Blob::new(Origin::Stdin, data.as_bytes()));
            (crate::work::take(), data.len())
        };
        for unit in [
            "token",
            "password",
            "secret",
            "password=",
            "\"password\": \"",
            "name: DB_PASSWORD ",
            "ghp_",
            "key ",
        ] {
            let (small, n) = work(unit, 64 * 1024);
            let (large, n2) = work(unit, 128 * 1024);
            assert!(
                large.line_bytes <= 24 * n2,
                "{unit}: {large:?} for {n2} bytes"
            );
            assert!(
                large.line_bytes <= 2 * small.line_bytes + 64 * 1024,
                "{unit}: {small:?} for {n}, {large:?} for {n2}"
            );
            assert!(
                large.regex_bytes <= 2 * small.regex_bytes + 4 * MAX_WIDEN,
                "{unit}: {small:?} for {n}, {large:?} for {n2}"
            );
        }
    }

    #[test]
    fn allow_markers_are_looked_for_once_per_line() {
        let m = matcher();
        let line = format!("{} # unleak:allow", "x = demo_ab12cd34ef56 ".repeat(4000));
        crate::work::take();
        let f = m.scan(&Blob::new(Origin::Stdin, line.as_bytes()));
        let work = crate::work::take();
        assert_eq!(f.len(), 4000);
        assert!(f.iter().all(|f| f.inline_allow));
        assert!(work.line_bytes <= 24 * line.len(), "{work:?}");
    }

    /// Standard base64 of `text`, for manifests.
    fn b64(text: &str) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for c in text.as_bytes().chunks(3) {
            let n = c
                .iter()
                .enumerate()
                .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
            for k in 0..4 {
                out.push(if k <= c.len() {
                    A[(n >> (18 - 6 * k) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        out
    }

    fn scan_file(m: &Matcher, path: &str, text: &str) -> Vec<Finding> {
        let blob = Blob::new(Origin::File(path.into()), text.as_bytes());
        let fast = m.scan(&blob);
        let key = |f: &Finding| (f.rule_id.to_string(), f.span);
        let slow = m.scan_reference(&blob);
        assert_eq!(
            fast.iter().map(key).collect::<Vec<_>>(),
            slow.iter().map(key).collect::<Vec<_>>()
        );
        fast
    }

    #[test]
    fn a_secrets_data_values_are_decoded_whatever_their_key() {
        let m = builtin_matcher();
        let password = "Zq8r!Lm2Tv0Xk9wQ";
        let config = format!("db:\n  host: db.internal\n  password: {password}\n");
        // A block scalar cut into lines too short for the run decoder to take alone.
        let block: Vec<String> = b64(&config)
            .as_bytes()
            .chunks(16)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let auth = b64("deploy:Zq8r2LmT0vXw9Ka1");
        let docker = b64(&format!(
            r#"{{"auths":{{"registry.example.com":{{"auth":"{auth}"}}}}}}"#
        ));
        let manifest = |kind: &str| {
            format!(
                "apiVersion: v1\nkind: {kind}\nmetadata:\n  name: app\ndata:\n  .dockerconfigjson: {docker}\n  extra: {}\n  config.yaml: |\n    {}\n",
                b64(password),
                block.join("\n    ")
            )
        };
        let text = manifest("Secret");
        let f = scan_file(&m, "secret.yaml", &text);
        let found: Vec<(&str, &[u8], usize)> = f
            .iter()
            .map(|f| (&*f.rule_id, f.secret.expose(), f.location.line))
            .collect();
        assert!(
            found.contains(&("docker-config-auth", auth.as_bytes(), 6)),
            "{found:?}"
        );
        // `extra` names nothing secret: its decoded value is read under that name and, alone,
        // is not a credential; the password is the one inside `config.yaml`.
        let pw: Vec<_> = f
            .iter()
            .filter(|f| f.secret.expose() == password.as_bytes())
            .collect();
        assert_eq!(pw.len(), 1, "{found:?}");
        // Reported on the line of the block that holds the password's encoding.
        let at = config.find(password).unwrap() * 4 / 3 / 16;
        assert_eq!(pw[0].location.line, 9 + at, "{found:?}");
        assert_eq!(pw[0].decoded, ["base64"]);
        for f in &f {
            assert!(!f.redacted.contains("Lm2Tv0X"));
        }
        // A ConfigMap's data is plain text: nothing there is read as base64 by its place.
        let f = scan_file(&m, "configmap.yaml", &manifest("ConfigMap"));
        assert!(
            f.iter().all(|f| f.secret.expose() != password.as_bytes()),
            "{f:?}"
        );
    }

    #[test]
    fn secret_data_in_kubectl_json_and_string_data_are_read() {
        let m = builtin_matcher();
        let token = "Zq8r2LmT0vXw9Ka1b7Nc";
        let json = format!(
            "{{\n  \"apiVersion\": \"v1\",\n  \"data\": {{\n    \"api_token\": \"{}\"\n  }},\n  \"kind\": \"Secret\"\n}}\n",
            b64(token)
        );
        let f = scan_file(&m, "out.json", &json);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].secret.expose(), token.as_bytes());
        assert_eq!(f[0].location.line, 4);
        // stringData is plain and live: a weak value there is a leak, not a stand-in.
        let weak = "kind: Secret\nstringData:\n  DB_PASSWORD: nextcloud\n";
        let low = "kind: ConfigMap\ndata:\n  DB_PASSWORD: nextcloud\n";
        let conf = |t| {
            scan_file(&m, "s.yaml", t)
                .iter()
                .map(|f| f.confidence)
                .collect::<Vec<_>>()
        };
        assert_eq!(conf(low), [Confidence::Low]);
        assert_eq!(conf(weak), [Confidence::Medium]);
        // So is a weak password in a connection URI there.
        let uri = |kind: &str| {
            format!("kind: {kind}\nstringData:\n  DATABASE_URL: postgres://orders:orders-password@db.prod.internal:5432/orders\n")
        };
        let (config_map, secret) = (uri("ConfigMap"), uri("Secret"));
        assert_eq!(conf(&config_map), [Confidence::Low]);
        assert_eq!(conf(&secret), [Confidence::High]);
        // Templates and binary values are skipped without a word.
        let helm = "kind: Secret\ndata:\n  password: {{ .Values.password | b64enc }}\n  bin: AAECAwQFBgc=\n";
        assert!(scan_file(&m, "t.yaml", helm).is_empty());
    }

    /// `pem`'s lines as Java string concatenation, one literal per line.
    fn as_java(pem: &str) -> String {
        let lines: Vec<String> = pem.lines().map(|l| format!("    \"{l}\\n\"")).collect();
        format!("String key =\n{};\n", lines.join(" +\n"))
    }

    #[test]
    fn a_private_key_in_joined_literals_is_one_finding_over_its_lines() {
        let m = builtin_matcher();
        let (pem, _) = unleak_rules::generate::expand("{{gen:pem:RSA PRIVATE KEY}}", 7).unwrap();
        let code = as_java(&pem);
        let f = scan_file(&m, "Keys.java", &code);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(&*f[0].rule_id, "private-key-rsa");
        assert_eq!(f[0].confidence, Confidence::High);
        assert_eq!(f[0].decoded, ["joined-literals"]);
        assert_eq!(
            (f[0].location.line, f[0].location.end_line),
            (2, 1 + pem.lines().count())
        );
        assert!(f[0]
            .secret
            .expose()
            .starts_with(b"-----BEGIN RSA PRIVATE KEY-----\n"));
        // Public keys, certificates and bodies of placeholders are not private keys.
        let body: String = pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<Vec<_>>()
            .join("\n");
        for label in ["PUBLIC KEY", "CERTIFICATE"] {
            let other = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n");
            assert!(
                scan_file(&m, "Keys.java", &as_java(&other)).is_empty(),
                "{label}"
            );
        }
        for filler in [
            "...",
            "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        ] {
            let fake = format!("-----BEGIN RSA PRIVATE KEY-----\n{filler}\n{filler}\n-----END RSA PRIVATE KEY-----\n");
            assert!(
                scan_file(&m, "Keys.java", &as_java(&fake)).is_empty(),
                "{filler}"
            );
        }
        let header = "String h = \"-----BEGIN RSA PRIVATE KEY-----\\n\" +\n    name;\n";
        assert!(scan_file(&m, "Keys.java", header).is_empty());
    }

    #[test]
    fn secrets_and_joined_keys_are_read_when_no_key_value_rule_is_active() {
        // Above the generic rules' confidence no key fragment (`secret` among them) is in
        // the keyword pass: the Secret and PEM markers must be looked for all the same.
        let mut b = RuleSetBuilder::new();
        b.add_builtin().unwrap();
        let options = MatcherOptions {
            min_confidence: Confidence::High,
            ..MatcherOptions::default()
        };
        let m = Matcher::new(b.build().unwrap(), options);
        assert!(m.keyvalue.is_none());
        let auth = b64("deploy:Zq8r2LmT0vXw9Ka1");
        let docker = b64(&format!(
            r#"{{"auths":{{"registry.example.com":{{"auth":"{auth}"}}}}}}"#
        ));
        // Lines too short for the run decoder: only the Secret reader joins them.
        let block: Vec<&str> = docker
            .as_bytes()
            .chunks(16)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let manifest = format!(
            "kind: Secret\ndata:\n  config.json: |\n    {}\n",
            block.join("\n    ")
        );
        let f = scan_file(&m, "secret.yaml", &manifest);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].secret.expose(), auth.as_bytes());
        let (pem, _) = unleak_rules::generate::expand("{{gen:pem:RSA PRIVATE KEY}}", 7).unwrap();
        let f = scan_file(&m, "Keys.java", &as_java(&pem));
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].decoded, ["joined-literals"]);
    }

    #[test]
    fn a_match_is_not_decoded_again() {
        // The secret's own characters form a base64 run; it is reported once, plainly.
        let f = scan("x = demo_ab12cd34ef56\n");
        assert_eq!(f.len(), 1);
        assert!(f[0].decoded.is_empty());
    }
}
