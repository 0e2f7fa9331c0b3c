//! The `.unleak.toml` configuration file.
//!
//! Owns: its schema, finding it at a repository root, reading it safely (a regular file of
//! at most [`MAX_CONFIG_FILE`] bytes, and when discovered, one inside the root), keeping
//! the paths it names inside the directory that holds it, and errors that name the file,
//! the line, the column and the key without quoting the file's text. Allowlist entries are
//! compiled here (globs and regexes), so a bad pattern is reported with its place in the
//! file too.
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
//! extra = ["ci/unleak-rules"]              # rule files or directories inside this file's directory
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
use std::path::{Component, Path, PathBuf};
use toml::Spanned;
use unleak_core::Confidence;
use unleak_rules::parse_error::{toml_problem, Place};
use unleak_rules::{RuleError, RuleOverride, RuleSetBuilder};

/// The file name looked for at a repository root.
pub const CONFIG_FILE: &str = ".unleak.toml";
/// Largest configuration file read: 1 MiB, far more than any allowlist needs.
pub const MAX_CONFIG_FILE: u64 = 1 << 20;

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
    extra: Vec<Spanned<String>>,
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
    /// What the `[allow]` table allows.
    pub allowlist: Allowlist,
    /// Rule ids to leave out.
    pub disabled_rules: Vec<String>,
    /// Extra rule files or directories, resolved against the config file's directory.
    pub extra_rules: Vec<PathBuf>,
    /// Where each of `extra_rules` is written, for errors loading it.
    extra_places: Vec<Place>,
    /// The directory that holds the file: every path it names must resolve inside it.
    root: PathBuf,
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
    /// Whether it allows nothing at all.
    pub fn is_empty(&self) -> bool {
        self.paths.is_none() && self.regexes.is_empty() && self.stopwords.is_empty()
    }
}

impl Config {
    /// `ROOT/.unleak.toml` if it exists, else `None`. A link there must stay inside ROOT:
    /// the file comes with the repository, and so does the link.
    pub fn discover(root: &Path) -> Result<Option<Config>, ConfigError> {
        let file = root.join(CONFIG_FILE);
        match unleak_read::read_within(&file, root, MAX_CONFIG_FILE) {
            Ok(bytes) => Config::from_bytes(&file, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(ConfigError::Read { file, source }),
        }
    }

    /// Read and validate one configuration file.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let bytes =
            unleak_read::read(file, MAX_CONFIG_FILE).map_err(|source| ConfigError::Read {
                file: file.to_path_buf(),
                source,
            })?;
        Config::from_bytes(file, &bytes)
    }

    /// Validate a configuration file read from a commit; `label` names it in messages
    /// (`main:.unleak.toml`). Its `rules.extra` paths stay relative to the repository root,
    /// for [`Config::configure_rules_with`] to read from the same commit.
    pub fn from_committed(label: &Path, bytes: &[u8]) -> Result<Config, ConfigError> {
        Config::from_bytes_in(label, Path::new(""), bytes)
    }

    fn from_bytes(file: &Path, bytes: &[u8]) -> Result<Config, ConfigError> {
        let dir = file.parent().unwrap_or(Path::new(""));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        Config::from_bytes_in(file, dir, bytes)
    }

    fn from_bytes_in(file: &Path, dir: &Path, bytes: &[u8]) -> Result<Config, ConfigError> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let valid = e.valid_up_to();
            let prefix = std::str::from_utf8(&bytes[..valid]).expect("valid prefix");
            let place = Place::of_offset(prefix, valid);
            ConfigError::Invalid {
                file: file.to_path_buf(),
                line: place.line,
                column: place.column,
                key: None,
                message: "not UTF-8 text".into(),
            }
        })?;
        Config::parse(file, dir, text)
    }

    /// Validate `text` as the configuration file `file`; relative rule paths are resolved
    /// against `dir`, and must stay inside it.
    pub fn parse(file: &Path, dir: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let (place, message) = toml_problem(text, &e);
            ConfigError::Invalid {
                file: file.to_path_buf(),
                line: place.line,
                column: place.column,
                key: place.key,
                message,
            }
        })?;
        let place = |span: std::ops::Range<usize>, key: String| Place {
            key: Some(key),
            ..Place::of_offset(text, span.start)
        };
        let at = |span: std::ops::Range<usize>, key: String, message: String| {
            let place = place(span, key);
            ConfigError::Invalid {
                file: file.to_path_buf(),
                line: place.line,
                column: place.column,
                key: place.key,
                message,
            }
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
                column: 1,
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
        let mut extra_rules = Vec::new();
        let mut extra_places = Vec::new();
        for (i, entry) in raw.rules.extra.iter().enumerate() {
            let key = format!("rules.extra[{i}]");
            if let Some(why) = leaves_its_directory(Path::new(entry.get_ref())) {
                return Err(at(
                    entry.span(),
                    key,
                    format!("{why}: rule paths are relative to the directory that holds the configuration, and never reach outside it"),
                ));
            }
            extra_rules.push(dir.join(entry.get_ref()));
            extra_places.push(place(entry.span(), key));
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
            extra_rules,
            extra_places,
            root: dir.to_path_buf(),
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

    /// Hand the rule settings to a rule set builder: extra rule files (each, and every file
    /// in a directory, resolved inside this file's directory), disabled rules and
    /// overrides, with this file named in errors about unknown rule ids.
    pub fn configure_rules(&self, builder: &mut RuleSetBuilder) -> Result<(), ConfigError> {
        let root = self.root.clone();
        self.configure_rules_with(builder, |b, path| {
            b.add_path_within(path, &root).map(|_| ())
        })
    }

    /// [`Config::configure_rules`] with the extra rule paths loaded by `add` (a
    /// configuration read from a commit reads its rule files from that commit).
    pub fn configure_rules_with(
        &self,
        builder: &mut RuleSetBuilder,
        mut add: impl FnMut(&mut RuleSetBuilder, &Path) -> Result<(), RuleError>,
    ) -> Result<(), ConfigError> {
        for (path, place) in self.extra_rules.iter().zip(&self.extra_places) {
            add(builder, path).map_err(|source| ConfigError::Rules {
                file: self.file.clone(),
                place: place.clone(),
                source: Box::new(source),
            })?;
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

/// Why a path written in a configuration would leave the directory holding it, if it
/// would; the file system is asked later, when symbolic links are resolved.
fn leaves_its_directory(path: &Path) -> Option<&'static str> {
    if path.has_root() || path.is_absolute() {
        return Some("an absolute path");
    }
    path.components().find_map(|c| match c {
        Component::ParentDir => Some("a path through `..`"),
        Component::Prefix(_) | Component::RootDir => Some("an absolute path"),
        Component::CurDir | Component::Normal(_) => None,
    })
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
        assert!(msg.contains("unknown key"), "{msg}");

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
    fn error_display_names_file_line_column_and_key() {
        let e = parse("[allow]\n  pathz = 1\n").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid configuration repo/.unleak.toml:2:3: key `allow.pathz`: unknown key, \
             expected one of `paths`, `regexes`, `stopwords`"
        );
    }

    #[test]
    fn errors_never_quote_a_value_of_the_file() {
        let mark = "Zq7SECRETmark";
        for text in [
            format!("[rules]\ndisable = \"{mark}\"\n"),
            format!("[rules.override.x]\nconfidence = \"{mark}\"\n"),
            format!("[allow]\nstopwords = [{mark}]\n"),
            format!("{mark}=1\0{mark}\n"),
        ] {
            let e = parse(&text).unwrap_err().to_string();
            assert!(!e.contains(mark), "{e}");
        }
    }

    #[test]
    fn rule_paths_may_not_leave_the_directory_of_the_file() {
        for (extra, why) in [
            ("/proc/self/environ", "an absolute path"),
            ("../victim.env", "a path through `..`"),
            ("ci/../../victim.env", "a path through `..`"),
        ] {
            let (line, key, msg) = err(&format!("[rules]\nextra = [\"ok\", {extra:?}]\n"));
            assert_eq!((line, key.as_deref()), (2, Some("rules.extra[1]")), "{msg}");
            assert!(
                msg.starts_with(why) && msg.contains("never reach outside"),
                "{msg}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn discovered_files_and_the_rules_they_name_are_read_safely() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("repo");
        std::fs::create_dir(&root).unwrap();
        std::fs::write(d.path().join("outside.toml"), "[allow]\n").unwrap();
        let link = root.join(CONFIG_FILE);
        let reason = |e: ConfigError| match e {
            ConfigError::Read { source, .. } => source.to_string(),
            other => panic!("unexpected {other}"),
        };

        std::os::unix::fs::symlink("../outside.toml", &link).unwrap();
        assert!(reason(Config::discover(&root).unwrap_err()).contains("outside"));
        // Given by the user, the same file is read.
        Config::load(&link).unwrap();

        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert!(reason(Config::discover(&root).unwrap_err()).contains("outside"));
        assert!(reason(Config::load(&link).unwrap_err()).contains("character device"));

        std::fs::remove_file(&link).unwrap();
        std::fs::write(&link, "#".repeat(MAX_CONFIG_FILE as usize + 1)).unwrap();
        assert!(reason(Config::discover(&root).unwrap_err()).contains("1 MiB"));

        std::fs::write(&link, b"[allow]\nstopwords = [\"\xff\"]\n").unwrap();
        let e = Config::discover(&root).unwrap_err().to_string();
        assert!(e.ends_with("/.unleak.toml:2:15: not UTF-8 text"), "{e}");

        // `rules.extra` through a committed link that leads out: named by file and key.
        std::fs::write(d.path().join("r.toml"), "[[rules]]\n").unwrap();
        std::os::unix::fs::symlink("..", root.join("up")).unwrap();
        std::fs::write(&link, "[rules]\n\nextra = [\"up/r.toml\"]\n").unwrap();
        let config = Config::discover(&root).unwrap().unwrap();
        let e = config
            .configure_rules(&mut RuleSetBuilder::new())
            .unwrap_err();
        assert!(
            e.to_string()
                .ends_with(":3:10: key `rules.extra[0]`: the rules it names cannot be loaded"),
            "{e}"
        );
        let why = std::error::Error::source(&e).unwrap().to_string();
        assert!(why.starts_with("cannot read rule file"), "{why}");
    }
}
