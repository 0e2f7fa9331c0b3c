//! Validating rule specs and compiling them into a [`RuleSet`].

use crate::parse_error::{toml_problem, Place};
use crate::paths::{compile_glob, PathScopes};
use crate::schema::{Example, GatewayHint, Impact, NegativeExample, RuleFile, RuleSpec};
use crate::{Check, RuleError};
use globset::Glob;
use regex::bytes::{Regex, RegexBuilder};
use regex_syntax::hir::{Hir, HirKind};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use unleak_core::Confidence;

/// Default number of bytes a match may reach past its keyword.
pub const DEFAULT_WINDOW: usize = 512;
const MAX_WINDOW: usize = 1 << 20;
const REGEX_SIZE_LIMIT: usize = 16 << 20;
/// Largest rule file read: 4 MiB, two hundred times the largest built-in file.
pub const MAX_RULE_FILE: u64 = 4 << 20;
/// Most bytes read from rule files by one builder, so a directory of many files is
/// bounded too: 16 MiB, twenty times the whole built-in catalog.
pub const MAX_RULE_BYTES: u64 = 16 << 20;

/// A compiled rule, ready for the matcher.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Stable kebab-case id, e.g. `github-pat-classic`.
    pub id: Arc<str>,
    /// Human-readable name, e.g. `GitHub personal access token`.
    pub name: Arc<str>,
    /// What the secret is and what it opens.
    pub description: String,
    /// Lower-cased keywords.
    pub keywords: Vec<String>,
    /// The `paths` globs as the rule file wrote them: when any, the rule runs only on
    /// blobs whose path matches one (see [`RuleSet::path_scoped`]).
    pub paths: Vec<String>,
    /// `paths`, compiled.
    path_globs: Vec<Glob>,
    /// The regex as the rule file wrote it.
    pub pattern: String,
    /// Compiled on first use (from `pattern` with large counted repetitions relaxed, see
    /// `simplify`), so start-up costs nothing for rules whose keywords never occur (a
    /// pre-commit run on one file triggers a handful of rules).
    compiled: OnceLock<Result<CompiledRegex, String>>,
    /// Shannon entropy floor (bits per byte) of the secret, after any configuration override.
    pub min_entropy: Option<f64>,
    /// How sure a match is, after any configuration override.
    pub confidence: Confidence,
    /// What a leak exposes (stated, or from the tags).
    pub impact: Impact,
    /// Free-form tags (`api-token`, `generic`, the provider).
    pub tags: Vec<String>,
    /// The vendor's documentation of the token format.
    pub references: Vec<String>,
    /// The documented public prefix (e.g. `ghp_`): the only part a redacted form may show.
    pub prefix: Option<String>,
    /// A structural check the secret must pass (checksum, decodable JSON, ...).
    pub check: Option<Check>,
    /// Whether the placeholder and example-value filter applies.
    pub skip_placeholders: bool,
    /// How many bytes after a keyword a match may extend.
    pub window: usize,
    /// Texts the rule must match, placeholders expanded.
    pub examples: Vec<Example>,
    /// Texts the rule must not match, placeholders expanded.
    pub negative_examples: Vec<NegativeExample>,
    /// The path examples without their own are scanned under.
    pub example_path: Option<String>,
    /// How the secret is used, so migrate can build a gateway connection from it.
    pub gateway: Option<GatewayHint>,
    /// The other half of a two-part credential that must stand near the secret.
    pub companion: Option<Companion>,
    /// The file the rule came from (`rules/github.toml` for built-ins).
    pub source: String,
}

/// A rule's regex and the index of its `secret` capture group.
#[derive(Debug, Clone)]
struct CompiledRegex {
    regex: Regex,
    secret_group: usize,
}

/// A compiled `[rules.companion]`.
#[derive(Debug, Clone)]
pub struct Companion {
    /// What the companion looks like.
    pub regex: Regex,
    /// Lines above or below the secret's lines the companion may stand on.
    pub within_lines: usize,
}

/// Most lines a companion may stand from its secret.
const MAX_COMPANION_LINES: usize = 50;

impl Rule {
    /// The compiled regex. Compilation happens once, on first use; a regex that exceeds
    /// the size limits is an error naming the rule.
    pub fn regex(&self) -> Result<&Regex, RuleError> {
        self.compiled().map(|c| &c.regex)
    }

    /// Whether the rule runs only on files its `paths` globs match.
    pub fn is_path_scoped(&self) -> bool {
        !self.paths.is_empty()
    }

    /// The capture index of the `secret` group in [`Rule::regex`].
    pub fn secret_group(&self) -> Result<usize, RuleError> {
        self.compiled().map(|c| c.secret_group)
    }

    fn compiled(&self) -> Result<&CompiledRegex, RuleError> {
        self.compiled
            .get_or_init(|| {
                let pattern = crate::simplify::simplify(&self.pattern)
                    .map_err(|e| format!("regex does not compile: {e}"))?;
                let regex = RegexBuilder::new(&pattern)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .map_err(|e| format!("regex does not compile: {e}"))?;
                let secret_group = regex
                    .capture_names()
                    .position(|n| n == Some("secret"))
                    .ok_or("regex has no named group `secret`")?;
                Ok(CompiledRegex {
                    regex,
                    secret_group,
                })
            })
            .as_ref()
            .map_err(|e| RuleError::invalid(&self.source, &self.id, e.clone()))
    }

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
    /// The globs of the path-scoped rules, in one set.
    scopes: PathScopes,
}

impl RuleSet {
    /// Every rule, in the order they were added.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }
    /// How many rules there are.
    pub fn len(&self) -> usize {
        self.rules.len()
    }
    /// Whether there is no rule at all.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
    /// The rule with this id.
    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| &*r.id == id)
    }
    /// The indexes (into [`RuleSet::rules`]) of the path-scoped rules that run on a blob
    /// at `path`, sorted: one match of the path against every such rule's globs at once.
    pub fn path_scoped(&self, path: &Path) -> Vec<usize> {
        self.scopes.rules_for(path)
    }
}

/// Collects rule files, then compiles them. A rule whose id is already known replaces the
/// earlier one, so a user file can tighten a built-in rule.
#[derive(Default)]
pub struct RuleSetBuilder {
    rules: Vec<Rule>,
    disabled: Vec<String>,
    overrides: Vec<(String, RuleOverride)>,
    /// The file `disable` and `override_rule` came from, for error messages.
    config_source: Option<String>,
    /// Bytes read from rule files so far (see [`MAX_RULE_BYTES`]).
    bytes_read: u64,
}

/// Per-rule settings a configuration file may change without redefining the rule.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RuleOverride {
    /// Report the rule's findings at this confidence instead.
    pub confidence: Option<Confidence>,
    /// Replace the rule's entropy floor (bits per byte, 0..=8).
    pub min_entropy: Option<f64>,
}

impl RuleSetBuilder {
    /// A builder with no rules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add the built-in catalog (embedded from `rules/` at build time).
    pub fn add_builtin(&mut self) -> Result<&mut Self, RuleError> {
        for (name, json) in crate::BUILTIN_JSON {
            // The build converted each file to JSON (a fraction of TOML's parse time, paid
            // on every start); a test checks both parse to the same rules.
            let parsed: RuleFile = serde_json::from_str(json).map_err(|e| RuleError::Parse {
                file: name.to_string(),
                place: None,
                message: e.to_string(),
            })?;
            // Built-in regexes compile lazily; their tests compile every one.
            self.add_parsed(name, parsed, false)?;
        }
        Ok(self)
    }

    /// Load a rule file, or every `*.toml` file in a directory (sorted by name). Only
    /// regular files of at most [`MAX_RULE_FILE`] bytes are read.
    pub fn add_path(&mut self, path: &Path) -> Result<&mut Self, RuleError> {
        self.add_path_in(path, None)
    }

    /// Like [`RuleSetBuilder::add_path`], for a path that a repository's own configuration
    /// names: the path, and every file loaded from it, must resolve inside `root` after
    /// symbolic links are followed.
    pub fn add_path_within(&mut self, path: &Path, root: &Path) -> Result<&mut Self, RuleError> {
        self.add_path_in(path, Some(root))
    }

    fn add_path_in(&mut self, path: &Path, root: Option<&Path>) -> Result<&mut Self, RuleError> {
        let read_err = |source| RuleError::Read {
            path: path.to_path_buf(),
            source,
        };
        if let Some(root) = root {
            unleak_read::confine(path, root).map_err(read_err)?;
        }
        if path.is_dir() {
            let mut files: Vec<_> = std::fs::read_dir(path)
                .map_err(read_err)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            files.sort();
            for f in files {
                self.add_path_in(&f, root)?;
            }
            return Ok(self);
        }
        let left = MAX_RULE_BYTES - self.bytes_read;
        let bytes = unleak_read::read(path, MAX_RULE_FILE.min(left)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::FileTooLarge && left < MAX_RULE_FILE {
                read_err(std::io::Error::new(
                    e.kind(),
                    format!(
                        "the rule files loaded pass {} MiB in all",
                        MAX_RULE_BYTES >> 20
                    ),
                ))
            } else {
                read_err(e)
            }
        })?;
        self.bytes_read += bytes.len() as u64;
        let file = path.display().to_string();
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = e.utf8_error().valid_up_to();
            let prefix = std::str::from_utf8(&e.as_bytes()[..valid]).expect("valid prefix");
            RuleError::Parse {
                file: file.clone(),
                place: Some(Place::of_offset(prefix, valid)),
                message: "not UTF-8 text".into(),
            }
        })?;
        self.add_toml(&file, &text)
    }

    /// Parse and compile one TOML document named `file` in messages. Its regexes are
    /// compiled now, so a user's rule that is too large fails at load, naming it.
    pub fn add_toml(&mut self, file: &str, text: &str) -> Result<&mut Self, RuleError> {
        let parsed: RuleFile = toml::from_str(text).map_err(|e| {
            let (place, message) = toml_problem(text, &e);
            RuleError::Parse {
                file: file.to_string(),
                place: Some(place),
                message,
            }
        })?;
        self.add_parsed(file, parsed, true)
    }

    fn add_parsed(
        &mut self,
        file: &str,
        parsed: RuleFile,
        eager: bool,
    ) -> Result<&mut Self, RuleError> {
        if parsed.rules.is_empty() {
            return Err(RuleError::Parse {
                file: file.to_string(),
                place: None,
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
            let rule = compile(file, spec, eager)?;
            if eager {
                rule.regex()?;
            }
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

    /// Change one rule's confidence or entropy floor (from configuration). Later calls for
    /// the same id win field by field.
    pub fn override_rule(&mut self, id: impl Into<String>, change: RuleOverride) -> &mut Self {
        self.overrides.push((id.into(), change));
        self
    }

    /// Name the configuration file that `disable` and `override_rule` came from, so an
    /// error about an unknown rule id points at it.
    pub fn configured_by(&mut self, file: impl Into<String>) -> &mut Self {
        self.config_source = Some(file.into());
        self
    }

    /// Apply the configuration's disabled rules and overrides, and compile the set.
    pub fn build(&mut self) -> Result<RuleSet, RuleError> {
        let source = self.config_source.as_deref().unwrap_or("configuration");
        for id in &self.disabled {
            if !self.rules.iter().any(|r| &*r.id == id) {
                return Err(RuleError::invalid(
                    source,
                    id,
                    "cannot be disabled: no rule has this id",
                ));
            }
        }
        let mut rules: Vec<Rule> = self
            .rules
            .iter()
            .filter(|r| !self.disabled.iter().any(|d| **d == *r.id))
            .cloned()
            .collect();
        for (id, change) in &self.overrides {
            if let Some(e) = change.min_entropy {
                if !(0.0..=8.0).contains(&e) {
                    return Err(RuleError::invalid(
                        source,
                        id,
                        format!("min_entropy {e} is outside 0..=8 bits per byte"),
                    ));
                }
            }
            let rule = match rules.iter_mut().find(|r| &*r.id == id) {
                Some(rule) => rule,
                None if self.disabled.contains(id) => {
                    return Err(RuleError::invalid(
                        source,
                        id,
                        "is both disabled and overridden; keep one",
                    ))
                }
                None => {
                    return Err(RuleError::invalid(
                        source,
                        id,
                        "cannot be overridden: no rule has this id",
                    ))
                }
            };
            if let Some(c) = change.confidence {
                rule.confidence = c;
            }
            if change.min_entropy.is_some() {
                rule.min_entropy = change.min_entropy;
            }
        }
        let scoped = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_path_scoped())
            .map(|(i, r)| (i, r.path_globs.as_slice()));
        let scopes = PathScopes::new(scoped).map_err(|e| {
            let first = rules.iter().find(|r| r.is_path_scoped());
            let (file, id) = first.map_or(("rules", "?"), |r| (r.source.as_str(), &*r.id));
            RuleError::invalid(
                file,
                id,
                format!("`paths` globs do not compile together: {e}"),
            )
        })?;
        Ok(RuleSet { rules, scopes })
    }
}

/// The capture index of the group named `secret`.
fn secret_group_index(hir: &Hir) -> Option<usize> {
    match hir.kind() {
        HirKind::Capture(c) if c.name.as_deref() == Some("secret") => Some(c.index as usize),
        HirKind::Capture(c) => secret_group_index(&c.sub),
        HirKind::Repetition(r) => secret_group_index(&r.sub),
        HirKind::Concat(hs) | HirKind::Alternation(hs) => hs.iter().find_map(secret_group_index),
        _ => None,
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

/// `validate_regex`: parse the regex now (user rules); built-in rules skip it, as start-up
/// time matters and their tests validate every one.
fn compile(file: &str, spec: RuleSpec, validate_regex: bool) -> Result<Rule, RuleError> {
    let bad = |p: String| RuleError::invalid(file, &spec.id, p);
    if !is_kebab(&spec.id) {
        return Err(bad("id must be kebab-case (a-z, 0-9, single dashes)".into()));
    }
    if spec.name.trim().is_empty() {
        return Err(bad("name is empty".into()));
    }
    if spec.keywords.is_empty() && spec.paths.is_empty() {
        return Err(bad(
            "has no keywords; the prefilter needs at least one (only a rule with `paths` may have none)".into()
        ));
    }
    let path_globs = spec
        .paths
        .iter()
        .map(|g| compile_glob(g))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    if spec
        .example_path
        .as_deref()
        .is_some_and(|p| p.trim().is_empty())
    {
        return Err(bad("example_path is empty; leave it out instead".into()));
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
    if validate_regex {
        let simplified = crate::simplify::simplify(&spec.regex)
            .map_err(|e| bad(format!("regex does not compile: {e}")))?;
        let hir = regex_syntax::ParserBuilder::new()
            .utf8(false)
            .build()
            .parse(&simplified)
            .map_err(|e| bad(format!("regex does not compile: {e}")))?;
        if secret_group_index(&hir).is_none() {
            return Err(bad("regex has no named group `secret`".into()));
        }
        if hir.properties().minimum_len() == Some(0) {
            return Err(bad("regex matches the empty string".into()));
        }
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
    let companion = match &spec.companion {
        None => None,
        Some(c) => {
            if c.within_lines > MAX_COMPANION_LINES {
                return Err(bad(format!(
                    "companion within_lines {} is more than {MAX_COMPANION_LINES}",
                    c.within_lines
                )));
            }
            let regex = RegexBuilder::new(&c.regex)
                .size_limit(REGEX_SIZE_LIMIT)
                .build()
                .map_err(|e| bad(format!("companion regex does not compile: {e}")))?;
            Some(Companion {
                regex,
                within_lines: c.within_lines,
            })
        }
    };
    Ok(Rule {
        id: spec.id.as_str().into(),
        name: spec.name.as_str().into(),
        description: spec.description,
        keywords: spec
            .keywords
            .iter()
            .map(|k| k.to_ascii_lowercase())
            .collect(),
        paths: spec.paths,
        path_globs,
        pattern: spec.regex,
        compiled: OnceLock::new(),
        min_entropy: spec.min_entropy,
        confidence: spec.confidence,
        impact: Impact::of_rule(spec.impact, &spec.tags),
        tags: spec.tags,
        references: spec.references,
        prefix: spec.prefix,
        check: spec.check,
        skip_placeholders: spec.skip_placeholders,
        window,
        examples: spec.examples,
        negative_examples: spec.negative_examples,
        example_path: spec.example_path,
        gateway: spec.gateway,
        companion,
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
    fn companions_compile_and_bad_ones_are_named() {
        let with = format!(
            "{GOOD}\n[rules.companion]\nregex = '''\\bID[0-9]{{4}}\\b'''\nwithin_lines = 2\n"
        );
        let set = RuleSetBuilder::new()
            .add_toml("rules/x.toml", &with)
            .unwrap()
            .build()
            .unwrap();
        let c = set.rules()[0].companion.as_ref().unwrap();
        assert_eq!(c.within_lines, 2);
        assert!(c.regex.is_match(b"ID1234"));
        let e = err(&with.replace("within_lines = 2", "within_lines = 500"));
        assert!(
            e.contains("demo-token") && e.contains("within_lines"),
            "{e}"
        );
        let e = err(&with.replace("{4}", "{4"));
        assert!(e.contains("companion regex does not compile"), "{e}");
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
        assert!(
            e.contains("rules/x.toml:8:14: key `rules[0].confidence`: unknown value, expected"),
            "{e}"
        );
        // The value is the file's text, which a rule file's errors never quote.
        assert!(!e.contains("sure"), "{e}");
        let e = err("[[rules]]\nid = ");
        assert!(e.contains("malformed rule file rules/x.toml"), "{e}");
        let e = err(&GOOD.replace("tags = [\"t\"]", "tags = [\"t\"]\nbogus = 1"));
        assert!(e.contains("bogus"), "{e}");
    }

    #[test]
    fn parse_errors_name_the_place_and_never_quote_the_text() {
        let e = err("[[rules]]\nid = \"a-b\"\nname = xtok_Zq7MARK\n");
        assert_eq!(
            e,
            "malformed rule file rules/x.toml:3:8: string values must be quoted, expected literal string"
        );
        let e = err("[[rules]]\nid = \"a-b\"\nname = \"n\"\nkeywords = \"tok_Zq7MARK\"\n");
        assert!(!e.contains("Zq7MARK"), "{e}");
        assert!(
            e.contains(":4:12: key `rules[0].keywords`: wrong type"),
            "{e}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn files_are_read_only_when_regular_and_inside_the_root_when_confined() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("repo");
        std::fs::create_dir_all(root.join("rules")).unwrap();
        std::fs::write(root.join("rules/a.toml"), GOOD).unwrap();
        std::fs::write(
            d.path().join("out.toml"),
            GOOD.replace("demo-token", "out-token"),
        )
        .unwrap();
        let mut b = RuleSetBuilder::new();
        b.add_path_within(&root.join("rules"), &root).unwrap();
        assert!(b.build().unwrap().get("demo-token").is_some());

        // A link inside a confined directory is followed, then refused: it leads out.
        std::os::unix::fs::symlink("../../out.toml", root.join("rules/b.toml")).unwrap();
        let e = RuleSetBuilder::new()
            .add_path_within(&root.join("rules"), &root)
            .err()
            .unwrap();
        assert!(matches!(&e, RuleError::Read { path, .. } if path.ends_with("rules/b.toml")));
        // Given by the user, the same link is read.
        RuleSetBuilder::new()
            .add_path(&root.join("rules/b.toml"))
            .unwrap();

        std::os::unix::fs::symlink("/dev/zero", root.join("zero.toml")).unwrap();
        let e = RuleSetBuilder::new()
            .add_path(&root.join("zero.toml"))
            .err()
            .unwrap();
        let chain = format!("{e}: {}", std::error::Error::source(&e).unwrap());
        assert!(
            chain.ends_with("zero.toml: it is a character device, not a regular file"),
            "{chain}"
        );

        std::fs::write(root.join("latin1.toml"), b"[[rules]]\nid = \"caf\xe9\"\n").unwrap();
        let e = RuleSetBuilder::new()
            .add_path(&root.join("latin1.toml"))
            .err()
            .unwrap()
            .to_string();
        assert!(e.ends_with("latin1.toml:2:10: not UTF-8 text"), "{e}");

        // Many files within the per-file cap still stop at the total.
        let many = root.join("many");
        std::fs::create_dir(&many).unwrap();
        let padding = "#".repeat((MAX_RULE_FILE - 1000) as usize);
        for i in 0..=(MAX_RULE_BYTES / MAX_RULE_FILE) {
            let rule = GOOD.replace("demo-token", &format!("demo-{i}"));
            std::fs::write(
                many.join(format!("{i:02}.toml")),
                format!("{rule}{padding}\n"),
            )
            .unwrap();
        }
        let e = RuleSetBuilder::new().add_path(&many).err().unwrap();
        let why = std::error::Error::source(&e).unwrap().to_string();
        assert_eq!(why, "the rule files loaded pass 16 MiB in all");
    }

    #[test]
    fn every_builtin_file_passes_the_checks_user_rules_get() {
        // Built-ins skip regex validation at start-up; this is where they get it.
        for (name, text) in crate::builtin_files() {
            let mut b = RuleSetBuilder::new();
            if let Err(e) = b.add_toml(name, text) {
                panic!("{e}");
            }
            for rule in b.build().unwrap().rules() {
                rule.secret_group().unwrap();
            }
        }
    }

    #[test]
    fn the_json_catalog_is_the_toml_catalog() {
        assert_eq!(crate::BUILTIN_JSON.len(), crate::builtin_files().len());
        for ((name, text), (json_name, json)) in
            crate::builtin_files().iter().zip(crate::BUILTIN_JSON)
        {
            assert_eq!(name, json_name);
            let from_toml: RuleFile = toml::from_str(text).unwrap();
            let from_json: RuleFile = serde_json::from_str(json).unwrap();
            assert_eq!(format!("{from_toml:?}"), format!("{from_json:?}"), "{name}");
        }
        let mut b = RuleSetBuilder::new();
        b.add_builtin().unwrap();
        assert!(b.build().unwrap().len() > 300);
    }

    #[test]
    fn path_scoped_rules_need_no_keywords_and_bad_globs_name_the_file_and_rule() {
        let scoped = GOOD.replace(
            "keywords = [\"demo_\"]",
            "keywords = []\npaths = [\"**/.demorc\", \"**/_DEMORC\"]",
        );
        let set = RuleSetBuilder::new()
            .add_toml("rules/x.toml", &scoped)
            .unwrap()
            .build()
            .unwrap();
        assert!(set.rules()[0].is_path_scoped());
        assert_eq!(set.path_scoped(Path::new("home/u/.DemoRC")), vec![0]);
        assert_eq!(set.path_scoped(Path::new("_demorc")), vec![0]);
        assert!(set.path_scoped(Path::new("home/u/demorc")).is_empty());
        let e = err(&scoped.replace("**/.demorc", "**/[.demorc"));
        assert!(
            e.contains("rules/x.toml")
                && e.contains("`demo-token`")
                && e.contains("`**/[.demorc` is not valid"),
            "{e}"
        );
        let e = err(&scoped.replace("paths = [\"**/.demorc\", \"**/_DEMORC\"]", "paths = []"));
        assert!(e.contains("no keywords"), "{e}");
        let e = err(&format!("{scoped}example_path = \"\"\n"));
        assert!(e.contains("example_path is empty"), "{e}");
    }

    #[test]
    fn example_tables_take_a_path_and_refuse_unknown_fields() {
        let with = GOOD.replace(
            "examples = [\"x = demo_{{gen:lowernum:8}}\"]",
            "examples = [{ text = \"x = demo_{{gen:lowernum:8}}\", path = \"a/.demorc\" }]",
        );
        let set = RuleSetBuilder::new()
            .add_toml("rules/x.toml", &with)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(set.rules()[0].examples[0].path(), Some("a/.demorc"));
        assert!(err(&with.replace("path =", "pathz =")).contains("rules/x.toml"));
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
    fn overrides_change_confidence_and_entropy_of_one_rule() {
        let mut b = RuleSetBuilder::new();
        b.add_toml("a.toml", GOOD).unwrap();
        b.override_rule(
            "demo-token",
            RuleOverride {
                confidence: Some(Confidence::Low),
                min_entropy: None,
            },
        );
        b.override_rule(
            "demo-token",
            RuleOverride {
                confidence: None,
                min_entropy: Some(3.5),
            },
        );
        let set = b.build().unwrap();
        let rule = set.get("demo-token").unwrap();
        assert_eq!(rule.confidence, Confidence::Low);
        assert_eq!(rule.min_entropy, Some(3.5));
    }

    #[test]
    fn bad_overrides_name_the_configuration_file_and_the_rule() {
        let build = |id: &str, change: RuleOverride, disable: bool| {
            let mut b = RuleSetBuilder::new();
            b.add_toml("a.toml", GOOD).unwrap();
            b.configured_by("repo/.unleak.toml");
            if disable {
                b.disable(["demo-token".to_string()]);
            }
            b.override_rule(id, change);
            b.build().unwrap_err().to_string()
        };
        let e = build("nope", RuleOverride::default(), false);
        assert!(
            e.contains("repo/.unleak.toml") && e.contains("`nope`"),
            "{e}"
        );
        let steep = RuleOverride {
            min_entropy: Some(9.0),
            ..Default::default()
        };
        let e = build("demo-token", steep, false);
        assert!(
            e.contains("min_entropy 9") && e.contains("demo-token"),
            "{e}"
        );
        let e = build("demo-token", RuleOverride::default(), true);
        assert!(e.contains("both disabled and overridden"), "{e}");
    }

    #[test]
    fn disabling_an_unknown_rule_is_an_error() {
        let mut b = RuleSetBuilder::new();
        b.add_toml("a.toml", GOOD).unwrap();
        b.disable(["nope".to_string()]);
        assert!(b.build().unwrap_err().to_string().contains("nope"));
    }
}
