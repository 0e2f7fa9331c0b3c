//! Helpers shared by the fuzz targets.
//!
//! Owns: expanding `{{gen:SPEC}}` placeholders in fuzz input into generated tokens, so
//! the committed seeds (rule examples, migrate fixtures) hold placeholders, never a
//! token, while the targets still see realistic secrets; and the comparison of the
//! matcher's two paths. Does not own: any target.

use unleak_core::Finding;
use unleak_matcher::keyword_window_covers;
use unleak_rules::generate::{generate, Rng};
use unleak_rules::RuleSet;

/// `data` with every `{{gen:SPEC}}` replaced by a value from the example generator and
/// every `{{value:N}}` by the N-th value made so far (as the migrate fixtures write a
/// value twice). A placeholder that does not expand stays as it is.
pub fn expand_placeholders(data: &[u8]) -> Vec<u8> {
    const GEN: &[u8] = b"{{gen:";
    const VALUE: &[u8] = b"{{value:";
    let mut rng = Rng::new(0x00f0_2217);
    let mut values: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        let rest = &data[i..];
        let (open, is_gen) = if rest.starts_with(GEN) {
            (GEN.len(), true)
        } else if rest.starts_with(VALUE) {
            (VALUE.len(), false)
        } else {
            out.push(data[i]);
            i += 1;
            continue;
        };
        let made = find(&rest[open..], b"}}").and_then(|end| {
            let spec = std::str::from_utf8(&rest[open..open + end]).ok()?;
            let value = if is_gen {
                let v = generate(spec, &mut rng).ok()?;
                values.push(v.clone());
                v
            } else {
                values.get(spec.parse::<usize>().ok()?)?.clone()
            };
            Some((value, open + end + 2))
        });
        match made {
            Some((value, used)) => {
                out.extend_from_slice(value.as_bytes());
                i += used;
            }
            None => {
                out.push(data[i]);
                i += 1;
            }
        }
    }
    out
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Compare the keyword-window path (`fast`) with the whole-blob path (`slow`, every
/// keyword-hit rule's regex over all of `data`). A rule's keywords are context that must
/// stand near a match, so the whole-blob path may also find a token whose keyword occurs
/// only elsewhere in the blob; that is the one allowed difference, together with a
/// finding of another rule that took its place. Anything else (a match inside a keyword's
/// window that the fast path lost, or a fast-path finding the whole-blob path has no
/// reason to lack) is described.
pub fn prefilter_disagreement(
    data: &[u8],
    rules: &RuleSet,
    fast: &[Finding],
    slow: &[Finding],
) -> Option<String> {
    let key = |f: &Finding| (f.rule_id.to_string(), f.span);
    let mut excused = Vec::new();
    for s in slow {
        if fast.iter().any(|f| key(f) == key(s)) {
            continue;
        }
        let Some(rule) = rules.get(&s.rule_id) else {
            return Some(format!("{} is not a rule of the set", s.rule_id));
        };
        if keyword_window_covers(data, rule, s.span) {
            return Some(format!(
                "the keyword-window path lost {} at {}..{}, inside a window of its keyword",
                s.rule_id, s.span.start, s.span.end
            ));
        }
        excused.push(s.span);
    }
    for f in fast {
        if slow.iter().any(|s| key(s) == key(f)) {
            continue;
        }
        if !excused.iter().any(|e| e.overlaps(&f.span)) {
            return Some(format!(
                "the keyword-window path found {} at {}..{}, which the whole-blob path lacks",
                f.rule_id, f.span.start, f.span.end
            ));
        }
    }
    None
}
