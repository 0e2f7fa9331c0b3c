//! Validating rule specs and compiling them into a [`RuleSet`].

use crate::schema::{Example, GatewayHint, RuleFile, RuleSpec};
use crate::{Check, RuleError};
use regex::bytes::{Regex, RegexBuilder};
use std::path::Path;
use std::sync::Arc;
use unleak_core::Confidence;

/// Default number of bytes a match may reach past its keyword.
pub const DEFAULT_WINDOW: usize = 512;
const MAX_WINDOW: usize = 1 << 20;
const REGEX_SIZE_LIMIT: usize = 16 << 20;

/// A compiled rule, ready for the matcher.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub description: String,
    /// Lower-cased keywords.
    pub keywords: Vec<String>,
    pub regex: Regex,
    /// Index of the `secret` capture group.
    pub secret_group: usize,
    pub min_entropy: Option<f64>,
    pub confidence: Confidence,
    pub tags: Vec<String>,
    pub references: Vec<String>,
    pub prefix: Option<String>,
    pub check: Option<Check>,
    pub skip_placeholders: bool,
    pub window: usize,
    pub examples: Vec<Example>,
    pub negative_examples: Vec<String>,
    pub gateway: Option<GatewayHint>,
    /// The file the rule came from (`rules/github.toml` for built-ins).
    pub source: String,
}

impl Rule {
    /// Problems that do not stop a rule from running but that `rules check` reports and
    /// the built-in catalog must not have.
    pub fn lint(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.description.trim().is_empty() {
            out.push("has no description".to_string());
        }
        if self.references.is_empty() {
            out.push("has no reference to the vendor's documentation of the format".into());
        }
        if self.examples.is_empty() {
            out.push("has no positive example".into());
        }
        if self.negative_examples.is_empty() {
            out.push("has no negative example".into());
        }
        if self.tags.is_empty() {
            out.push("has no tags".into());
        }
        out
    }
}

/// All rules, in a stable order.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
    pub fn len(&self) -> usize {
        self.rules.len()
    }
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| &*r.id == id)
    }
}

/// Collects rule files, then compiles them. A rule whose id is already known replaces the
/// earlier one, so a user file can tighten a built-in rule.
#[derive(Default)]
pub struct RuleSetBuilder {
    rules: Vec<Rule>,
    disabled: Vec<String>,
}

impl RuleSetBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_builtin(&mut self) -> Result<&mut Self, RuleError> {
        for (name, text) in crate::builtin_files() {
            self.add_toml(name, text)?;
        }
        Ok(self)
    }

    /// Load a rule file, or every `*.toml` file in a directory (sorted by name).
    pub fn add_path(&mut self, path: &Path) -> Result<&mut Self, RuleError> {
        let read_err = |source| RuleError::Read {
            path: path.to_path_buf(),
            source,
        };
        if path.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(path)
                .map_err(read_err)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for f in files {
                self.add_path(&f)?;
            }
            return Ok(self);
        }
        let text = std::fs::read_to_string(path).map_err(read_err)?;
        self.add_toml(&path.display().to_string(), &text)
    }

    /// Parse and compile one TOML document named `file` in messages.
    pub fn add_toml(&mut self, file: &str, text: &str) -> Result<&mut Self, RuleError> {
        let parsed: RuleFile = toml::from_str(text).map_err(|e| RuleError::Parse {
            file: file.to_string(),
            message: e.to_string().trim_end().to_string(),
        })?;
        if parsed.rules.is_empty() {
            return Err(RuleError::Parse {
                file: file.to_string(),
                message: "no [[rules]] tables".into(),
            });
        }
        let mut seen = std::collections::HashSet::new();
        for spec in parsed.rules {
            if !seen.insert(spec.id.clone()) {
                return Err(RuleError::invalid(
                    file,
                    &spec.id,
                    "is defined twice in this file",
                ));
            }
            let rule = compile(file, spec)?;
            match self.rules.iter_mut().find(|r| r.id == rule.id) {
                Some(slot) => *slot = rule,
                None => self.rules.push(rule),
            }
        }
        Ok(self)
    }

    /// Leave out rules by id (from configuration).
    pub fn disable(&mut self, ids: impl IntoIterator<Item = String>) -> &mut Self {
        self.disabled.extend(ids);
        self
    }

    pub fn build(&mut self) -> Result<RuleSet, RuleError> {
        for id in &self.disabled {
            if !self.rules.iter().any(|r| &*r.id == id) {
                return Err(RuleError::invalid(
                    "configuration",
                    id,
                    "cannot be disabled: no rule has this id",
                ));
            }
        }
        let disabled = &self.disabled;
        let rules = self
            .rules
            .iter()
            .filter(|r| !disabled.iter().any(|d| **d == *r.id))
            .cloned()
            .collect();
        Ok(RuleSet { rules })
    }
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
}

fn compile(file: &str, spec: RuleSpec) -> Result<Rule, RuleError> {
    let bad = |p: String| RuleError::invalid(file, &spec.id, p);
    if !is_kebab(&spec.id) {
        return Err(bad("id must be kebab-case (a-z, 0-9, single dashes)".into()));
    }
    if spec.name.trim().is_empty() {
        return Err(bad("name is empty".into()));
    }
    if spec.keywords.is_empty() {
        return Err(bad(
            "has no keywords; the prefilter needs at least one".into()
        ));
    }
    for k in &spec.keywords {
        if k.len() < 3 {
            return Err(bad(format!(
                "keyword `{k}` is shorter than 3 bytes and would match almost everywhere"
            )));
        }
        if !k.is_ascii() {
            return Err(bad(format!("keyword `{k}` is not ASCII")));
        }
    }
    let regex = RegexBuilder::new(&spec.regex)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| bad(format!("regex does not compile: {e}")))?;
    let secret_group = regex
        .capture_names()
        .position(|n| n == Some("secret"))
        .ok_or_else(|| bad("regex has no named group `secret`".into()))?;
    if regex.is_match(b"") {
        return Err(bad("regex matches the empty string".into()));
    }
    if let Some(e) = spec.min_entropy {
        if !(0.0..=8.0).contains(&e) {
            return Err(bad(format!(
                "min_entropy {e} is outside 0..=8 bits per byte"
            )));
        }
    }
    let window = spec.window.unwrap_or(DEFAULT_WINDOW);
    if window == 0 || window > MAX_WINDOW {
        return Err(bad(format!("window {window} is outside 1..={MAX_WINDOW}")));
    }
    if let Some(p) = &spec.prefix {
        if p.is_empty() {
            return Err(bad("prefix is empty; leave it out instead".into()));
        }
    }
    Ok(Rule {
        id: spec.id.as_str().into(),
        name: spec.name.as_str().into(),
        description: spec.description,
        keywords: spec
            .keywords
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect(),
        regex,
        secret_group,
        min_entropy: spec.min_entropy,
        confidence: spec.confidence,
        tags: spec.tags,
        references: spec.references,
        prefix: spec.prefix,
        check: spec.check,
        skip_placeholders: spec.skip_placeholders,
        window,
        examples: spec.examples,
        negative_examples: spec.negative_examples,
        gateway: spec.gateway,
        source: file.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[rules]]
id = "demo-token"
name = "Demo token"
description = "d"
keywords = ["demo_"]
regex = '''(?P<secret>demo_[a-z0-9]{8})'''
confidence = "high"
tags = ["t"]
references = ["https://example.com"]
examples = ["x = demo_{{gen:lowernum:8}}"]
negative_examples = ["demo_short"]
"#;

    fn err(text: &str) -> String {
        RuleSetBuilder::new()
            .add_toml("rules/x.toml", text)
            .err()
            .expect("should fail")
            .to_string()
    }

    #[test]
    fn a_valid_file_compiles() {
        let set = RuleSetBuilder::new()
            .add_toml("rules/x.toml", GOOD)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(set.len(), 1);
        assert!(set.rules()[0].lint().is_empty());
    }

    #[test]
    fn errors_name_the_file_the_rule_and_the_problem() {
        let e = err(&GOOD.replace("(?P<secret>", "("));
        assert!(e.contains("rules/x.toml") && e.contains("demo-token") && e.contains("secret"));
        let e = err(&GOOD.replace("[a-z0-9]{8})", "[a-z0-9]{8}"));
        assert!(
            e.contains("demo-token") && e.contains("does not compile"),
            "{e}"
        );
        let e = err(&GOOD.replace("keywords = [\"demo_\"]", "keywords = []"));
        assert!(e.contains("no keywords"));
        let e = err(&GOOD.replace("id = \"demo-token\"", "id = \"Demo Token\""));
        assert!(e.contains("kebab-case"));
        let e = err(&GOOD.replace("confidence = \"high\"", "confidence = \"sure\""));
        assert!(e.contains("rules/x.toml") && e.contains("sure"), "{e}");
        let e = err("[[rules]]\nid = ");
        assert!(e.contains("malformed rule file rules/x.toml"), "{e}");
        let e = err(&GOOD.replace("tags = [\"t\"]", "tags = [\"t\"]\nbogus = 1"));
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn a_user_rule_replaces_a_builtin_of_the_same_id() {
        let mut b = RuleSetBuilder::new();
        b.add_toml("a.toml", GOOD).unwrap();
        b.add_toml(
            "b.toml",
            &GOOD.replace("name = \"Demo token\"", "name = \"Mine\""),
        )
        .unwrap();
        let set = b.build().unwrap();
        assert_eq!(set.len(), 1);
        assert_eq!(&*set.rules()[0].name, "Mine");
    }

    #[test]
    fn disabling_an_unknown_rule_is_an_error() {
        let mut b = RuleSetBuilder::new();
        b.add_toml("a.toml", GOOD).unwrap();
        b.disable(["nope".to_string()]);
        assert!(b.build().unwrap_err().to_string().contains("nope"));
    }
}
