//! Runs a rule's own examples through the real matcher: positives must be found with the
//! expected secret, negatives must not. An example is scanned as a file at its `path` (or
//! the rule's `example_path`) when it has one, else as standard input.

use crate::Matcher;
use std::path::PathBuf;
use unleak_core::{Blob, Origin};
use unleak_rules::{generate, Rule};

/// Where an example is scanned from: its own path, else the rule's `example_path`, else
/// standard input.
pub fn example_origin(rule: &Rule, own: Option<&str>) -> Origin {
    match own.or(rule.example_path.as_deref()) {
        Some(p) => Origin::File(PathBuf::from(p)),
        None => Origin::Stdin,
    }
}

/// Why an example did not behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExampleFailure {
    pub rule: String,
    pub problem: String,
}

impl std::fmt::Display for ExampleFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rule `{}`: {}", self.rule, self.problem)
    }
}

/// Check one rule's examples against a matcher holding the whole rule set, so that a positive example is
/// reported under this rule (not collapsed into a more specific one) and a negative
/// example is not reported by this rule. Generated values never appear in a failure
/// message: examples are described by their index.
pub fn check_rule(matcher: &Matcher, rule: &Rule) -> Vec<ExampleFailure> {
    let mut out = Vec::new();
    let fail = |problem: String| ExampleFailure {
        rule: rule.id.to_string(),
        problem,
    };
    for (n, example) in rule.examples.iter().enumerate() {
        let (text, values) = match generate::expand(example.text(), generate::seed_for(&rule.id, n))
        {
            Ok(v) => v,
            Err(e) => {
                out.push(fail(format!("example {}: {e}", n + 1)));
                continue;
            }
        };
        let expected = example
            .secret()
            .map(str::to_string)
            .or_else(|| values.first().cloned());
        let origin = example_origin(rule, example.path());
        if rule.is_path_scoped() {
            let selected = match &origin {
                Origin::File(p) => matcher.rules().path_scoped(p),
                _ => Vec::new(),
            };
            if !selected
                .iter()
                .any(|&i| *matcher.rules().rules()[i].id == *rule.id)
            {
                out.push(fail(format!(
                    "example {} has no path that the rule's `paths` match (give it `path` or the rule `example_path`)",
                    n + 1
                )));
            }
        }
        if !rule.keywords.is_empty()
            && !rule
                .keywords
                .iter()
                .any(|k| text.to_ascii_lowercase().contains(k.as_str()))
        {
            out.push(fail(format!(
                "example {} contains none of the rule's keywords",
                n + 1
            )));
        }
        let blob = Blob::new(origin, text.as_bytes());
        let found: Vec<_> = matcher
            .scan(&blob)
            .into_iter()
            .filter(|f| *f.rule_id == *rule.id)
            .collect();
        match (&expected, found.first()) {
            (_, None) => out.push(fail(format!("example {} is not matched", n + 1))),
            (Some(want), Some(_))
                if !found.iter().any(|f| f.secret.expose() == want.as_bytes()) =>
            {
                out.push(fail(format!(
                    "example {}: the secret found is not the expected value",
                    n + 1
                )))
            }
            _ => {}
        }
    }
    for (n, negative) in rule.negative_examples.iter().enumerate() {
        let seed = generate::seed_for(&rule.id, 1000 + n);
        let text = match generate::expand(negative.text(), seed) {
            Ok((t, _)) => t,
            Err(e) => {
                out.push(fail(format!("negative example {}: {e}", n + 1)));
                continue;
            }
        };
        let origin = example_origin(rule, negative.path());
        // Without a path a path-scoped rule never runs: such a near miss tests nothing.
        if rule.is_path_scoped() && matches!(origin, Origin::Stdin) {
            out.push(fail(format!(
                "negative example {} has no path, so the path-scoped rule never reads it",
                n + 1
            )));
        }
        let blob = Blob::new(origin, text.as_bytes());
        if matcher.scan(&blob).iter().any(|f| *f.rule_id == *rule.id) {
            out.push(fail(format!("negative example {} is matched", n + 1)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MatcherOptions;

    /// Every built-in rule's examples behave, and every built-in rule passes lint.
    #[test]
    fn builtin_catalog_examples_and_lint() {
        let rules = unleak_rules::builtin().expect("built-in catalog compiles");
        let matcher = Matcher::new(rules.clone(), MatcherOptions::default());
        let mut problems = Vec::new();
        for rule in rules.rules() {
            if let Err(e) = rule.regex() {
                problems.push(e.to_string());
            }
            problems.extend(check_rule(&matcher, rule).iter().map(|f| f.to_string()));
            problems.extend(
                rule.lint()
                    .iter()
                    .map(|p| format!("rule `{}` {p}", rule.id)),
            );
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// A path-scoped rule's examples are scanned at their path: one without a path, or
    /// with a path the rule's globs do not select, is a failure, and a negative example
    /// under another name passes because the rule does not run there.
    #[test]
    fn path_scoped_examples_need_a_path_their_globs_select() {
        let toml = r#"
[[rules]]
id = "demorc-password"
name = "demorc password"
keywords = []
paths = ["**/.demorc"]
regex = '''(?m)^password=(?P<secret>\S+)'''
confidence = "high"
examples = [
  { text = "password={{gen:alnum:12}}", path = "home/u/.demorc" },
  "password={{gen:alnum:12}}",
  { text = "password={{gen:alnum:12}}", path = "home/u/demorc.txt" },
]
negative_examples = [
  { text = "password={{gen:alnum:12}}", path = "home/u/demorc.txt" },
  "password=",
]
"#;
        let set = unleak_rules::RuleSetBuilder::new()
            .add_toml("t.toml", toml)
            .unwrap()
            .build()
            .unwrap();
        let matcher = Matcher::new(set.clone(), MatcherOptions::default());
        let problems: Vec<String> = check_rule(&matcher, &set.rules()[0])
            .iter()
            .map(|f| f.problem.clone())
            .collect();
        let no_path =
            "has no path that the rule's `paths` match (give it `path` or the rule `example_path`)";
        assert_eq!(
            problems,
            [
                format!("example 2 {no_path}"),
                "example 2 is not matched".to_string(),
                format!("example 3 {no_path}"),
                "example 3 is not matched".to_string(),
                "negative example 2 has no path, so the path-scoped rule never reads it"
                    .to_string(),
            ]
        );
    }

    /// The built-in catalog is broad (issue 15 set 600 rules as the bar for provider
    /// coverage), and every rule shows at least two texts it must find and two near misses
    /// it must not.
    #[test]
    fn builtin_catalog_is_broad_and_every_rule_has_two_examples_each_way() {
        let rules = unleak_rules::builtin().expect("built-in catalog compiles");
        assert!(rules.len() >= 600, "only {} built-in rules", rules.len());
        let thin: Vec<String> = rules
            .rules()
            .iter()
            .filter(|r| r.examples.len() < 2 || r.negative_examples.len() < 2)
            .map(|r| {
                format!(
                    "{}: {} positive, {} negative",
                    r.id,
                    r.examples.len(),
                    r.negative_examples.len()
                )
            })
            .collect();
        assert!(thin.is_empty(), "{}", thin.join("\n"));
    }

    /// A positive example of one rule is not also reported, at another span, by a
    /// different rule: overlaps collapse to the most specific rule, so a second finding
    /// would be a double report of one secret. The prefilter path must also find exactly
    /// what searching the whole example finds.
    #[test]
    fn builtin_positive_examples_are_reported_once() {
        let rules = unleak_rules::builtin().expect("built-in catalog compiles");
        let matcher = Matcher::new(rules.clone(), MatcherOptions::default());
        let mut problems = Vec::new();
        for rule in rules.rules() {
            for (n, example) in rule.examples.iter().enumerate() {
                let (text, _) = generate::expand(example.text(), generate::seed_for(&rule.id, n))
                    .expect("examples expand");
                let blob = Blob::new(example_origin(rule, example.path()), text.as_bytes());
                let found = matcher.scan(&blob);
                // The keyword windows must not lose what a whole-blob search finds.
                let spans = |fs: &[unleak_core::Finding]| {
                    fs.iter()
                        .map(|f| (f.rule_id.to_string(), f.span))
                        .collect::<Vec<_>>()
                };
                if spans(&found) != spans(&matcher.scan_reference(&blob)) {
                    problems.push(format!(
                        "rule `{}` example {}: prefilter and whole-blob search disagree",
                        rule.id,
                        n + 1
                    ));
                }
                let others: Vec<String> = found
                    .iter()
                    .filter(|f| *f.rule_id != *rule.id)
                    .map(|f| f.rule_id.to_string())
                    .collect();
                if !others.is_empty() {
                    problems.push(format!(
                        "rule `{}` example {} is also reported by {}",
                        rule.id,
                        n + 1,
                        others.join(", ")
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
