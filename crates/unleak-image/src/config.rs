//! The image config (the JSON a manifest's `config` points at): what of it can hold a
//! secret, and which instruction made each layer.
//!
//! Owns: rendering `Env`, `Labels` and the build history's `created_by` as text the rules
//! match (`KEY=value` lines), and pairing history entries with layers. Does not own:
//! finding the config in an image (see `layout`) or scanning the text.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
struct Raw {
    #[serde(default)]
    config: Option<RunConfig>,
    #[serde(default)]
    history: Vec<History>,
    #[serde(default)]
    rootfs: Option<RootFs>,
}

#[derive(Debug, Default, Deserialize)]
struct RunConfig {
    #[serde(rename = "Env", default)]
    env: Option<Vec<String>>,
    #[serde(rename = "Labels", default)]
    labels: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Default, Deserialize)]
struct History {
    #[serde(default)]
    created_by: Option<String>,
    #[serde(default)]
    empty_layer: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// One part of the config rendered for scanning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSection {
    /// Where it is in the config: `Env`, `Labels` or `history[3].created_by`.
    pub label: String,
    /// The part as text to scan, one `KEY=value` or instruction per line.
    pub text: String,
}

/// What unleak reads from an image config.
#[derive(Debug, Default, Clone)]
pub struct ImageConfig {
    /// `Env`, `Labels` and each history entry's `created_by`, ready to scan.
    pub sections: Vec<ConfigSection>,
    /// The instruction that made each layer, in layer order; `None` where history does
    /// not say (it is optional, and may have fewer entries than there are layers).
    pub layer_instructions: Vec<Option<String>>,
    /// `rootfs.diff_ids`: the digest of each layer's uncompressed tar.
    pub diff_ids: Vec<String>,
}

impl ImageConfig {
    /// Parse a config; the error is serde's, for the caller to place.
    pub fn parse(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        let raw: Raw = serde_json::from_slice(bytes)?;
        let mut sections = Vec::new();
        if let Some(run) = &raw.config {
            // Env entries are already `KEY=value`, the form keyvalue rules read.
            if let Some(env) = run.env.as_ref().filter(|e| !e.is_empty()) {
                sections.push(ConfigSection {
                    label: "Env".into(),
                    text: lines(env.iter().map(String::as_str)),
                });
            }
            if let Some(labels) = run.labels.as_ref().filter(|l| !l.is_empty()) {
                let rendered: Vec<String> =
                    labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                sections.push(ConfigSection {
                    label: "Labels".into(),
                    text: lines(rendered.iter().map(String::as_str)),
                });
            }
        }
        let mut layer_instructions = Vec::new();
        for (i, h) in raw.history.iter().enumerate() {
            let created_by = h.created_by.clone().unwrap_or_default();
            if !created_by.is_empty() {
                sections.push(ConfigSection {
                    label: format!("history[{i}].created_by"),
                    text: render_instruction(&created_by),
                });
            }
            // An `empty_layer` entry (ENV, ARG, LABEL…) made no layer: the next layer is
            // paired with the next entry that did.
            if h.empty_layer != Some(true) {
                layer_instructions.push(Some(created_by).filter(|c| !c.is_empty()));
            }
        }
        Ok(ImageConfig {
            sections,
            layer_instructions,
            diff_ids: raw.rootfs.map(|r| r.diff_ids).unwrap_or_default(),
        })
    }

    /// The instruction that made layer `index` (0-based), when history says.
    pub fn instruction(&self, index: usize) -> Option<&str> {
        self.layer_instructions
            .get(index)
            .and_then(|i| i.as_deref())
    }
}

fn lines<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for item in items {
        out.push_str(item);
        out.push('\n');
    }
    out
}

/// A `created_by` as scannable text. Classic builders write `/bin/sh -c #(nop)  ENV K=v`
/// and, for a RUN with build arguments, `|2 K=v K2=v2 /bin/sh -c …`; BuildKit writes
/// `ENV K=v` and `RUN |1 K=v /bin/sh -c …`. The ENV and ARG assignments are put on lines
/// of their own so that rules read them as `KEY=value`, whatever precedes them; the whole
/// instruction stays on the first line.
fn render_instruction(created_by: &str) -> String {
    let mut out = String::from(created_by);
    out.push('\n');
    let words: Vec<&str> = created_by.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let assigns = match words.get(i.wrapping_sub(1)) {
            Some(prev) => {
                matches!(*prev, "ENV" | "ARG") || prev.starts_with('|') || is_assignment(prev)
            }
            None => false,
        };
        if assigns && is_assignment(w) {
            out.push_str(w);
            out.push('\n');
        }
    }
    out
}

/// `KEY=value` with a shell-variable name.
fn is_assignment(word: &str) -> bool {
    match word.split_once('=') {
        Some((k, _)) => {
            !k.is_empty()
                && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !k.as_bytes()[0].is_ascii_digit()
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_layer_entries_make_no_layer() {
        let cfg = br#"{"config":{"Env":["PATH=/bin","K=v"],"Labels":{"a":"b"}},
            "history":[
              {"created_by":"ADD rootfs.tar /"},
              {"created_by":"ENV K=v","empty_layer":true},
              {"created_by":"ARG T","empty_layer":true},
              {"created_by":"RUN |1 T=x /bin/sh -c make"},
              {"empty_layer":true}
            ],
            "rootfs":{"type":"layers","diff_ids":["sha256:aa","sha256:bb"]}}"#;
        let c = ImageConfig::parse(cfg).unwrap();
        assert_eq!(c.instruction(0), Some("ADD rootfs.tar /"));
        assert_eq!(c.instruction(1), Some("RUN |1 T=x /bin/sh -c make"));
        assert_eq!(c.instruction(2), None);
        assert_eq!(c.diff_ids, ["sha256:aa", "sha256:bb"]);
        let labels: Vec<&str> = c.sections.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Env",
                "Labels",
                "history[0].created_by",
                "history[1].created_by",
                "history[2].created_by",
                "history[3].created_by"
            ]
        );
        assert_eq!(c.sections[0].text, "PATH=/bin\nK=v\n");
        assert_eq!(c.sections[1].text, "a=b\n");
    }

    #[test]
    fn env_and_arg_assignments_get_lines_of_their_own() {
        assert_eq!(
            render_instruction("/bin/sh -c #(nop)  ENV API_KEY=abc"),
            "/bin/sh -c #(nop)  ENV API_KEY=abc\nAPI_KEY=abc\n"
        );
        assert_eq!(
            render_instruction("|2 A=1 B=2 /bin/sh -c make X=3"),
            "|2 A=1 B=2 /bin/sh -c make X=3\nA=1\nB=2\n"
        );
        assert_eq!(render_instruction("RUN make"), "RUN make\n");
    }

    #[test]
    fn a_config_without_the_optional_parts_parses() {
        let c = ImageConfig::parse(b"{}").unwrap();
        assert!(c.sections.is_empty() && c.layer_instructions.is_empty());
        assert!(ImageConfig::parse(b"[1]").is_err());
    }
}
