//! Property: on blobs built from the built-in rules' examples (generated tokens), their
//! keywords, separators, noise and long runs, the keyword-window path (`scan`) finds what
//! running every keyword-hit rule's regex over the whole blob finds (`scan_reference`).
//!
//! The one allowed difference: a rule's keywords are context that must stand near a match
//! (`airtable` before a `pat….…` token), so the whole-blob path also finds a token whose
//! keyword occurs only elsewhere in the blob, and another rule may report that span on
//! the keyword-window path instead. A match that lies inside a window of its own keyword
//! must be found.

use proptest::prelude::*;
use std::sync::OnceLock;
use unleak_core::{Blob, Finding, Origin, Span};
use unleak_matcher::{keyword_window_covers, Matcher, MatcherOptions};
use unleak_rules::{generate, RuleSet};

/// The built-in catalog without the generic rules that key/value findings are filed
/// under: with them, the key/value pass also runs, and it reads whole lines, not keyword
/// windows, so it is not part of the prefilter this property is about (its own tests are
/// in keyvalue.rs). Two-part rules take part: a rule keyed on its companion looks
/// `within_lines` lines behind its keyword, so both paths see the same pairs.
fn rules() -> &'static RuleSet {
    static R: OnceLock<RuleSet> = OnceLock::new();
    R.get_or_init(|| {
        let mut b = unleak_rules::RuleSetBuilder::new();
        b.add_builtin().expect("the built-in catalog loads");
        b.disable(
            [
                "generic-password",
                "generic-secret",
                "generic-token",
                "generic-api-key",
                "generic-access-key",
                "generic-credential",
            ]
            .map(String::from),
        );
        b.build().expect("the built-in catalog compiles")
    })
}

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| Matcher::new(rules().clone(), MatcherOptions::default()))
}

/// One piece of a blob.
#[derive(Clone, Debug)]
enum Piece {
    /// Rule `.0`'s positive example `.1`, expanded with seed `.2`.
    Example(usize, usize, u64),
    /// Rule `.0`'s keyword `.1`, in upper case when `.2`.
    Keyword(usize, usize, bool),
    /// Printable text, tabs and newlines.
    Noise(String),
    /// A run of one byte, long enough to push a value past a keyword's window.
    Run(u8, usize),
    Separator(&'static str),
}

fn piece() -> impl Strategy<Value = Piece> {
    let n = rules().len();
    prop_oneof![
        4 => (0..n, 0..4usize, any::<u64>()).prop_map(|(r, e, s)| Piece::Example(r, e, s)),
        2 => (0..n, 0..4usize, any::<bool>()).prop_map(|(r, k, u)| Piece::Keyword(r, k, u)),
        3 => "[ -~\t\n]{0,60}".prop_map(Piece::Noise),
        1 => (prop::sample::select(b"aZ9 =/+\n".to_vec()), 0..2500usize)
            .prop_map(|(b, len)| Piece::Run(b, len)),
        3 => prop::sample::select(vec![" ", "\n", "\r\n", "=", ": ", "\"", "'", "\t", "\\n"])
            .prop_map(Piece::Separator),
    ]
}

fn render(pieces: &[Piece]) -> Vec<u8> {
    let rules = rules().rules();
    let mut out = Vec::new();
    for p in pieces {
        match p {
            Piece::Example(r, e, seed) => {
                let rule = &rules[*r];
                if rule.examples.is_empty() {
                    continue;
                }
                let example = &rule.examples[e % rule.examples.len()];
                let (text, _) = generate::expand(example.text(), *seed).expect("examples expand");
                out.extend_from_slice(text.as_bytes());
            }
            Piece::Keyword(r, k, upper) => {
                let kws = &rules[*r].keywords;
                // A path-scoped rule may have none.
                if kws.is_empty() {
                    continue;
                }
                let kw = &kws[k % kws.len()];
                if *upper {
                    out.extend_from_slice(kw.to_ascii_uppercase().as_bytes());
                } else {
                    out.extend_from_slice(kw.as_bytes());
                }
            }
            Piece::Noise(s) => out.extend_from_slice(s.as_bytes()),
            Piece::Run(b, len) => out.extend(std::iter::repeat_n(*b, *len)),
            Piece::Separator(s) => out.extend_from_slice(s.as_bytes()),
        }
    }
    out
}

/// Whether `rule_id`'s regex, run over the whole blob, matches bytes overlapping `span`.
fn whole_blob_match_overlaps(data: &[u8], rule_id: &str, span: Span) -> bool {
    let rule = rules()
        .get(rule_id)
        .expect("findings name rules of the set");
    let regex = rule.regex().expect("built-in regexes compile");
    regex
        .find_iter(data)
        .any(|m| m.start() < span.end && span.start < m.end())
}

/// What is wrong when the two paths differ in more than the allowed way.
fn disagreement(data: &[u8], fast: &[Finding], slow: &[Finding]) -> Option<String> {
    let key = |f: &Finding| (f.rule_id.to_string(), f.span);
    let mut excused = Vec::new();
    for s in slow
        .iter()
        .filter(|s| !fast.iter().any(|f| key(f) == key(s)))
    {
        let rule = rules()
            .get(&s.rule_id)
            .expect("findings name rules of the set");
        if keyword_window_covers(data, rule, s.span) {
            return Some(format!(
                "the keyword-window path lost {} at {}..{}, inside a window of its keyword",
                s.rule_id, s.span.start, s.span.end
            ));
        }
        excused.push(s.span);
    }
    fast.iter()
        .filter(|f| !slow.iter().any(|s| key(s) == key(f)))
        .filter(|f| !excused.iter().any(|e| e.overlaps(&f.span)))
        // A window can cut a run short: the whole-blob match there was longer and its
        // checks (length, entropy) turned it down, while the window's shorter match passed.
        .find(|f| !whole_blob_match_overlaps(data, &f.rule_id, f.span))
        .map(|f| {
            format!(
                "the keyword-window path found {} at {}..{}, which the whole-blob path lacks",
                f.rule_id, f.span.start, f.span.end
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn prefilter_finds_what_whole_blob_regexes_find(
        pieces in prop::collection::vec(piece(), 1..24)
    ) {
        let data = render(&pieces);
        let blob = Blob::new(Origin::Stdin, &data);
        let m = matcher();
        let fast = m.scan(&blob);
        let slow = m.scan_reference(&blob);
        let problem = disagreement(&data, &fast, &slow);
        prop_assert!(problem.is_none(), "{}", problem.unwrap_or_default());

    }
}
