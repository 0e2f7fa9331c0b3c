//! Rule files are user input (`--rules PATH`, `rules.extra` in `.unleak.toml`): any text
//! must load into a rule set or fail with an error naming the file, never panic. A rule
//! set that loads must also run: its examples go through the generator and the matcher,
//! and the file's own text is scanned with it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use unleak_core::{Blob, Origin};
use unleak_matcher::{check_rule, Matcher, MatcherOptions};
use unleak_rules::{generate, RuleSetBuilder};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The generator is reached from rule examples; fuzz it on the raw text too.
    let _ = generate::expand(text, 7);
    let mut builder = RuleSetBuilder::new();
    let rules = match builder.add_toml("fuzz.toml", text) {
        Ok(b) => match b.build() {
            Ok(rules) => rules,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                return;
            }
        },
        Err(e) => {
            assert!(
                e.to_string().contains("fuzz.toml"),
                "error does not name the file: {e}"
            );
            return;
        }
    };
    let matcher = Matcher::new(rules.clone(), MatcherOptions::default());
    for rule in rules.rules() {
        let _ = rule.lint();
        let _ = check_rule(&matcher, rule);
    }
    let blob = Blob::new(Origin::Stdin, data);
    let _ = matcher.scan(&blob);
});
