//! The matcher on arbitrary bytes with the built-in catalog: it never panics, every
//! finding lies inside the blob with a sane position, and the keyword-window path finds
//! what running every keyword-hit rule's regex over the whole blob finds, except tokens
//! whose keyword stands only elsewhere in the blob (see `prefilter_disagreement`).
//! `{{gen:SPEC}}` in the input becomes a generated token (the seeds are rule examples).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use unleak_core::{Blob, Origin};
use unleak_fuzz::{expand_placeholders, prefilter_disagreement};
use unleak_matcher::{Matcher, MatcherOptions};

fn matcher() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| {
        let rules = unleak_rules::builtin().expect("the built-in catalog compiles");
        Matcher::new(rules, MatcherOptions::default())
    })
}

fuzz_target!(|input: &[u8]| {
    let data = &expand_placeholders(input)[..];
    let m = matcher();
    let blob = Blob::new(Origin::Stdin, data);
    let fast = m.scan(&blob);
    for f in &fast {
        assert!(f.span.start < f.span.end && f.span.end <= data.len());
        if f.decoded.is_empty() {
            assert_eq!(f.secret.expose(), &data[f.span.start..f.span.end]);
        }
        assert!(f.location.line >= 1 && f.location.line <= f.location.end_line);
        let raw = String::from_utf8_lossy(f.secret.expose());
        if f.secret.len() >= 16 {
            assert!(!f.redacted.contains(&*raw), "redacted form holds the value");
        }
    }
    let slow = m.scan_reference(&blob);
    if let Some(problem) = prefilter_disagreement(data, m.rules(), &fast, &slow) {
        panic!("{problem}");
    }
});
