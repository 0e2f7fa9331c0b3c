//! The `.unleak.toml` configuration file.
//!
//! Owns: its schema, finding it at a repository root, and errors that name the file, the
//! line and the key. Allowlist entries are compiled here (globs and regexes), so a bad
//! pattern is reported with its place in the file too.
//!
//! Does not own: applying the allowlist to findings ([`crate::Filter`]) or compiling rules
//! (unleak-rules does; [`Config::configure_rules`] only hands it the settings).
//!
//! ```toml
//! [allow]
//! paths = ["tests/fixtures/", "*.snap"]   # gitignore-style globs, relative to the root
//! regexes = ['''^sk_test_''']              # searched in the secret value
//! stopwords = ["example", "dummy"]         # a secret containing one (any case) is allowed
//!
//! [rules]
//! disable = ["generic-password"]
//! extra = ["ci/unleak-rules"]              # rule files or directories, relative to this file
//!
//! [rules.override.generic-api-key]
//! confidence = "low"
//! min_entropy = 4.0
//! ```

use crate::ConfigError;
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::bytes::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};
use toml::Spanned;
use unleak_core::Confidence;
use unleak_rules::{RuleError, RuleOverride, RuleSetBuilder};

/// The file name looked for at a repository root.
pub const CONFIG_FILE: &str = ".unleak.toml";

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    allow: RawAllow,
    #[serde(default)]
    rules: RawRules,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    regexes: Vec<Spanned<String>>,
    #[serde(default)]
    stopwords: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRules {
    #[serde(default)]
    disable: Vec<String>,
    #[serde(default)]
    extra: Vec<String>,
    #[serde(default, rename = "override")]
    overrides: BTreeMap<String, RawOverride>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOverride {
    confidence: Option<Confidence>,
    min_entropy: Option<f64>,
}

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, as given (used in messages).
    pub file: PathBuf,
    pub allowlist: Allowlist,
    /// Rule ids to leave out.
    pub disabled_rules: Vec<String>,
    /// Extra rule files or directories, resolved against the config file's directory.
    pub extra_rules: Vec<PathBuf>,
    /// Per-rule confidence and entropy changes, by rule id.
    pub overrides: BTreeMap<String, RuleOverride>,
}

/// Compiled allowlist entries. Each keeps the text the user wrote, for suppression reasons.
#[derive(Debug, Clone, Default)]
pub struct Allowlist {
    pub(crate) paths: Option<GlobSet>,
    /// For each glob in `paths`, the entry it came from.
    pub(crate) path_sources: Vec<String>,
    pub(crate) regexes: Vec<Regex>,
    /// Lower-cased.
    pub(crate) stopwords: Vec<String>,
}

impl Allowlist {
    pub fn is_empty(&self) -> bool {
        self.paths.is_none() && self.regexes.is_empty() && self.stopwords.is_empty()
    }
}

impl Config {
    /// `ROOT/.unleak.toml` if it exists, else `None`.
    pub fn discover(root: &Path) -> Result<Option<Config>, ConfigError> {
        let file = root.join(CONFIG_FILE);
        match std::fs::metadata(&file) {
            Ok(_) => Config::load(&file).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ConfigError::Read { file, source }),
        }
    }

    /// Read and validate one configuration file.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read {
            file: file.to_path_buf(),
            source,
        })?;
        let dir = file.parent().unwrap_or(Path::new(""));
        Config::parse(file, dir, &text)
    }

    /// Validate `text` as the configuration file `file`; relative rule paths are resolved
    /// against `dir`.
    pub fn parse(file: &Path, dir: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| toml_error(file, text, &e))?;
        let at =
            |span: std::ops::Range<usize>, key: String, message: String| ConfigError::Invalid {
                file: file.to_path_buf(),
                line: line_of(text, span.start),
                key: Some(key),
                message,
            };

        let mut globs = GlobSetBuilder::new();
        let mut path_sources = Vec::new();
        for (i, entry) in raw.allow.paths.iter().enumerate() {
            let key = format!("allow.paths[{i}]");
            for pattern in gitignore_style(entry.get_ref()) {
                let glob = GlobBuilder::new(&pattern)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| {
                        at(entry.span(), key.clone(), format!("bad glob: {}", e.kind()))
                    })?;
                globs.add(glob);
                path_sources.push(entry.get_ref().clone());
            }
        }
        let paths = if path_sources.is_empty() {
            None
        } else {
            Some(globs.build().map_err(|e| ConfigError::Invalid {
                file: file.to_path_buf(),
                line: 1,
                key: Some("allow.paths".into()),
                message: e.to_string(),
            })?)
        };
        let mut regexes = Vec::new();
        for (i, entry) in raw.allow.regexes.iter().enumerate() {
            let re = Regex::new(entry.get_ref()).map_err(|e| {
                at(
                    entry.span(),
                    format!("allow.regexes[{i}]"),
                    format!("regex does not compile: {e}"),
                )
            })?;
            if re.is_match(b"") {
                return Err(at(
                    entry.span(),
                    format!("allow.regexes[{i}]"),
                    "regex matches the empty string, so it would allow every secret".into(),
                ));
            }
            regexes.push(re);
        }
        let mut stopwords = Vec::new();
        for (i, entry) in raw.allow.stopwords.iter().enumerate() {
            if entry.get_ref().trim().is_empty() {
                return Err(at(
                    entry.span(),
                    format!("allow.stopwords[{i}]"),
                    "an empty stopword would allow every secret".into(),
                ));
            }
            stopwords.push(entry.get_ref().to_lowercase());
        }
        Ok(Config {
            file: file.to_path_buf(),
            allowlist: Allowlist {
                paths,
                path_sources,
                regexes,
                stopwords,
            },
            disabled_rules: raw.rules.disable,
            extra_rules: raw.rules.extra.iter().map(|p| dir.join(p)).collect(),
            overrides: raw
                .rules
                .overrides
                .into_iter()
                .map(|(id, o)| {
                    let change = RuleOverride {
                        confidence: o.confidence,
                        min_entropy: o.min_entropy,
                    };
                    (id, change)
                })
                .collect(),
        })
    }

    /// Hand the rule settings to a rule set builder: extra rule files, disabled rules and
    /// overrides, with this file named in errors about unknown rule ids.
    pub fn configure_rules(&self, builder: &mut RuleSetBuilder) -> Result<(), RuleError> {
        for path in &self.extra_rules {
            builder.add_path(path)?;
        }
        builder.configured_by(self.file.display().to_string());
        builder.disable(self.disabled_rules.iter().cloned());
        for (id, change) in &self.overrides {
            builder.override_rule(id.clone(), *change);
        }
        Ok(())
    }
}

/// The globs that make `pattern` behave like a `.gitignore` line: a pattern without a
/// `/` (other than a trailing one) matches at any depth, a leading `/` anchors it at the
/// root, and a match on a directory covers everything beneath it.
fn gitignore_style(pattern: &str) -> Vec<String> {
    let trimmed = pattern.trim_end_matches('/');
    let anchored = trimmed.strip_prefix('/');
    let body = anchored.unwrap_or(trimmed);
    let base = if anchored.is_none() && !body.contains('/') && !body.starts_with("**") {
        format!("**/{body}")
    } else {
        body.to_string()
    };
    vec![base.clone(), format!("{base}/**")]
}

/// 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Turn a TOML or schema error into one that names the line and, where one can be found,
/// the dotted key at the error's position.
fn toml_error(file: &Path, text: &str, e: &toml::de::Error) -> ConfigError {
    let span = e.span();
    let (tree, _) = DeTable::parse_recoverable(text);
    let key = span
        .as_ref()
        .and_then(|s| key_at(tree.get_ref(), s.start, String::new()));
    ConfigError::Invalid {
        file: file.to_path_buf(),
        line: span.map_or(1, |s| line_of(text, s.start)),
        key,
        message: e.message().trim_end().to_string(),
    }
}

/// The deepest dotted key (with `[i]` for array items) whose key or value covers `offset`.
fn key_at(table: &DeTable<'_>, offset: usize, prefix: String) -> Option<String> {
    for (k, v) in table.iter() {
        let name = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        let on_key = k.span().contains(&offset);
        let on_value = v.span().contains(&offset) || v.span().start == offset;
        if !on_key && !on_value {
            continue;
        }
        if on_value {
            if let Some(deeper) = value_key_at(v.get_ref(), offset, &name) {
                return Some(deeper);
            }
        }
        return Some(name);
    }
    // Table headers (`[rules.override.x]`) span only their key; look inside every table.
    for (k, v) in table.iter() {
        if let DeValue::Table(inner) = v.get_ref() {
            let name = if prefix.is_empty() {
                k.get_ref().to_string()
            } else {
                format!("{prefix}.{}", k.get_ref())
            };
            if let Some(found) = key_at(inner, offset, name) {
                return Some(found);
            }
        }
    }
    None
}

fn value_key_at(value: &DeValue<'_>, offset: usize, name: &str) -> Option<String> {
    match value {
        DeValue::Table(t) => key_at(t, offset, name.to_string()),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let item_name = format!("{name}[{i}]");
            item.span()
                .contains(&offset)
                .then(|| value_key_at(item.get_ref(), offset, &item_name).unwrap_or(item_name))
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("repo/.unleak.toml"), Path::new("repo"), text)
    }

    fn err(text: &str) -> (usize, Option<String>, String) {
        match parse(text).unwrap_err() {
            ConfigError::Invalid {
                line, key, message, ..
            } => (line, key, message),
            other => panic!("unexpected {other}"),
        }
    }

    const FULL: &str = r#"
[allow]
paths = ["tests/fixtures/", "*.snap", "/top.env"]
regexes = ['''^sk_test_''']
stopwords = ["Example"]

[rules]
disable = ["generic-password"]
extra = ["ci/rules"]

[rules.override.generic-api-key]
confidence = "low"
min_entropy = 4
"#;

    #[test]
    fn a_full_file_parses() {
        let c = parse(FULL).unwrap();
        assert_eq!(c.disabled_rules, ["generic-password"]);
        assert_eq!(c.extra_rules, [PathBuf::from("repo/ci/rules")]);
        let o = c.overrides["generic-api-key"];
        assert_eq!(o.confidence, Some(Confidence::Low));
        assert_eq!(o.min_entropy, Some(4.0));
        assert_eq!(c.allowlist.stopwords, ["example"]);
        let paths = c.allowlist.paths.as_ref().unwrap();
        for yes in [
            "tests/fixtures/a/b.env",
            "x/y.snap",
            "y.snap",
            "top.env",
            "top.env/inner",
        ] {
            assert!(paths.is_match(yes), "{yes}");
        }
        for no in ["src/tests/fixtures.env", "sub/top.env", "x.snap.txt"] {
            assert!(!paths.is_match(no), "{no}");
        }
    }

    #[test]
    fn an_empty_file_is_an_empty_configuration() {
        let c = parse("").unwrap();
        assert!(c.allowlist.is_empty());
        assert!(c.overrides.is_empty());
    }

    #[test]
    fn errors_name_line_and_key() {
        let (line, key, msg) = err("[allow]\npaths = [\"a\"]\npathz = [\"b\"]\n");
        assert_eq!((line, key.as_deref()), (3, Some("allow.pathz")), "{msg}");
        assert!(msg.contains("unknown field"), "{msg}");

        let (line, key, msg) = err("[rules]\n\ndisable = \"generic\"\n");
        assert_eq!((line, key.as_deref()), (3, Some("rules.disable")), "{msg}");

        let (line, key, msg) = err("[rules.override.x]\nconfidence = \"sure\"\n");
        assert_eq!(
            (line, key.as_deref()),
            (2, Some("rules.override.x.confidence")),
            "{msg}"
        );

        let (line, key, msg) = err("[allow]\nstopwords = [\"ok\", 3]\n");
        assert_eq!(
            (line, key.as_deref()),
            (2, Some("allow.stopwords[1]")),
            "{msg}"
        );

        let (line, key, msg) = err("[allow]\nregexes = ['(']\n");
        assert_eq!((line, key.as_deref()), (2, Some("allow.regexes[0]")));
        assert!(msg.contains("does not compile"), "{msg}");

        let (line, key, _) = err("\n[allow]\nregexes = ['a*']\n");
        assert_eq!((line, key.as_deref()), (3, Some("allow.regexes[0]")));

        let (line, _, msg) = err("[allow]\npaths = [\"a\"\n");
        assert_eq!(line, 2, "{msg}");
    }

    #[test]
    fn error_display_names_file_line_and_key() {
        let e = parse("[allow]\npathz = 1\n").unwrap_err().to_string();
        assert!(e.contains("repo/.unleak.toml:2"), "{e}");
        assert!(e.contains("`allow.pathz`"), "{e}");
    }
}
