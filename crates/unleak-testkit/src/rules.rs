//! The small rule files the end-to-end tests write to disk: one shape (a fixed public
//! prefix and 24 lowercase letters or digits) under the id and prefix a test picks, so a
//! test's own rule does not depend on the built-in catalogue. It does not hold tokens for
//! them: a test writes its value next to the rule it checks.

/// The `demo-token` rule (`tok_` and 24 lowercase letters or digits) most CLI tests use.
pub const DEMO: &str = r#"[[rules]]
id = "demo-token"
name = "Demo token"
keywords = ["tok_"]
regex = '''\b(?P<secret>tok_[a-z0-9]{24})\b'''
prefix = "tok_"
confidence = "high"
"#;

/// A rule file with one high-confidence rule: `prefix` then 24 lowercase letters or digits.
pub fn prefix_rule(id: &str, name: &str, prefix: &str) -> String {
    format!(
        "[[rules]]\nid = \"{id}\"\nname = \"{name}\"\nkeywords = [\"{prefix}\"]\n\
         regex = '''\\b(?P<secret>{prefix}[a-z0-9]{{24}})\\b'''\nprefix = \"{prefix}\"\n\
         confidence = \"high\"\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use unleak_rules::RuleSetBuilder;

    #[test]
    fn the_demo_rule_is_the_prefix_rule_and_both_compile() {
        assert_eq!(DEMO, prefix_rule("demo-token", "Demo token", "tok_"));
        for text in [DEMO.to_string(), prefix_rule("acme-token", "Acme", "acme_")] {
            let set = RuleSetBuilder::new()
                .add_toml("t.toml", &text)
                .unwrap()
                .build()
                .unwrap();
            assert_eq!(set.rules().len(), 1, "{text}");
        }
    }
}
