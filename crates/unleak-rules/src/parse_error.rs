//! Describing a parse error in a settings file by its place, never by the text there.
//!
//! Owns: turning a TOML error (rule files, `.unleak.toml`) into a line, a column, the
//! dotted key at fault and a message, and stripping what a serde message quotes from the
//! input (`invalid type: string "…"`, `unknown variant `…``), for TOML and JSON (baselines)
//! alike. A file named as settings may be anything (`/proc/self/environ`, a credentials
//! file), so its errors must not echo it: the toml crate's `Display` prints the offending
//! line, and serde's messages quote the value they did not expect.
//!
//! Does not own: the error types that carry these parts (each crate names its own file),
//! or escaping keys for a terminal (the CLI does that for every message it prints).

use std::fmt;
use toml::de::{DeTable, DeValue};

/// Where a parse error is: 1-based line and column (in characters), and the dotted key
/// (`rules[0].keywords`, `allow.paths[2]`) when the document is valid TOML and the error
/// lies on a key or value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The dotted key at fault, when known.
    pub key: Option<String>,
}

impl Place {
    /// The place of byte `offset` in `text`, without a key.
    pub fn of_offset(text: &str, offset: usize) -> Place {
        let mut end = offset.min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let before = &text[..end];
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        Place {
            line: 1 + before.matches('\n').count(),
            column: 1 + before[line_start..].chars().count(),
            key: None,
        }
    }
}

/// `:LINE:COLUMN`, then `: key `KEY`` when there is one; made to follow a file name.
impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ":{}:{}", self.line, self.column)?;
        if let Some(k) = &self.key {
            write!(f, ": key `{k}`")?;
        }
        Ok(())
    }
}

/// The place and a message for `e`, an error from parsing `text` as TOML into a schema.
/// Syntax errors (the text is not TOML) keep the parser's message, which describes the
/// grammar and never the input, and name no key: an invalid document has none to trust.
/// Schema errors name the key and lose whatever serde quoted from the input.
pub fn toml_problem(text: &str, e: &toml::de::Error) -> (Place, String) {
    let offset = e.span().map_or(0, |s| s.start);
    let mut place = Place::of_offset(text, offset);
    let message = match DeTable::parse(text) {
        Err(_) => e.message().lines().next().unwrap_or("").trim().to_string(),
        Ok(tree) => {
            place.key = e
                .span()
                .and_then(|s| key_at(tree.get_ref(), s.start, ""))
                .map(shortened);
            without_input(e.message())
        }
    };
    (place, message)
}

/// Most characters of a key shown in a message; a longer one is cut, marked by `…`.
const MAX_KEY_CHARS: usize = 120;

fn shortened(key: String) -> String {
    match key.char_indices().nth(MAX_KEY_CHARS) {
        Some((cut, _)) => format!("{}…", &key[..cut]),
        None => key,
    }
}

/// A serde error message without what it quotes from the input. serde puts the found
/// value (or the unknown field or variant) before `, expected …`, and the schema's own
/// words after it; only those, and messages that quote nothing, are kept.
pub fn without_input(message: &str) -> String {
    let first = message.lines().next().unwrap_or("").trim();
    // The schema's part is after the last `, expected `: the input can only come before.
    let expected = first.rfind(", expected ").map(|i| &first[i + 2..]);
    let with = |what: &str| match expected {
        Some(exp) => format!("{what}, {exp}"),
        None => what.to_string(),
    };
    if let Some(found) = first
        .strip_prefix("invalid type: ")
        .or_else(|| first.strip_prefix("invalid value: "))
    {
        // `string "…"`, `integer `5``, `sequence`: keep the leading words that name a kind.
        let kind: String = found
            .chars()
            .take_while(|c| c.is_ascii_alphabetic() || *c == ' ')
            .collect();
        let verdict = if first.starts_with("invalid type") {
            "wrong type"
        } else {
            "invalid value"
        };
        return match kind.trim() {
            "" => with(verdict),
            k => with(&format!("{verdict}: found {k}")),
        };
    }
    if first.starts_with("unknown field ") {
        return if first.ends_with(", there are no fields") {
            "unknown key; this table takes none".into()
        } else {
            with("unknown key")
        };
    }
    if first.starts_with("unknown variant ") {
        return with("unknown value");
    }
    // `missing field `x`` and `duplicate field `x`` name the schema's own fields.
    let schema_named = ["missing field `", "duplicate field `"]
        .iter()
        .any(|p| first.starts_with(p) && first.ends_with('`') && first.matches('`').count() == 2);
    if schema_named || !first.contains(['"', '`', '\'']) {
        return first.to_string();
    }
    with("invalid value")
}

/// The deepest dotted key (with `[i]` for array items) whose key or value covers `offset`.
pub fn key_at(table: &DeTable<'_>, offset: usize, prefix: &str) -> Option<String> {
    let join = |k: &str| {
        if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        }
    };
    for (k, v) in table.iter() {
        let name = join(k.get_ref());
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
    // Table headers (`[rules.override.x]`, `[[rules]]`) span only their key; look inside
    // every table and array of tables.
    for (k, v) in table.iter() {
        let found =
            match v.get_ref() {
                DeValue::Table(inner) => key_at(inner, offset, &join(k.get_ref())),
                DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| match item
                    .get_ref()
                {
                    DeValue::Table(inner) => {
                        key_at(inner, offset, &format!("{}[{i}]", join(k.get_ref())))
                    }
                    _ => None,
                }),
                _ => None,
            };
        if found.is_some() {
            return found;
        }
    }
    None
}

fn value_key_at(value: &DeValue<'_>, offset: usize, name: &str) -> Option<String> {
    match value {
        DeValue::Table(t) => key_at(t, offset, name),
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
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        #[serde(default)]
        list: Vec<String>,
        #[serde(default)]
        level: Option<Level>,
        #[serde(default)]
        items: Vec<Item>,
    }

    #[derive(Deserialize, Debug)]
    #[serde(rename_all = "lowercase")]
    enum Level {
        Low,
        High,
    }

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        n: u32,
    }

    const MARK: &str = "Zq7SECRETmark";

    fn problem(text: &str) -> (Place, String) {
        let e = toml::from_str::<Doc>(text).unwrap_err();
        toml_problem(text, &e)
    }

    #[test]
    fn no_message_or_key_quotes_a_value_from_the_input() {
        let cases = [
            (
                format!("list = \"{MARK}\"\n"),
                1,
                8,
                Some("list"),
                "wrong type: found string, expected a sequence",
            ),
            (
                format!("level = \"{MARK}\"\n"),
                1,
                9,
                Some("level"),
                "unknown value, expected `low` or `high`",
            ),
            (
                format!("list = [1, \"{MARK}\", 3]\n"),
                1,
                9,
                Some("list[0]"),
                "wrong type: found integer, expected a string",
            ),
            (
                format!("[[items]]\nn = \"{MARK}\"\n"),
                2,
                5,
                Some("items[0].n"),
                "wrong type: found string, expected u32",
            ),
            (
                format!("[[items]]\nn = -{}\n", 5),
                2,
                5,
                Some("items[0].n"),
                "invalid value: found integer, expected u32",
            ),
            (
                format!("list = [{MARK}]\n"),
                1,
                9,
                None,
                "string values must be quoted, expected literal string",
            ),
            (
                format!("{MARK}\n"),
                1,
                14,
                None,
                "key with no value, expected `=`",
            ),
        ];
        for (text, line, column, key, message) in cases {
            let (place, got) = problem(&text);
            assert!(
                !got.contains(MARK) && !place.to_string().contains(MARK),
                "{text}: {got}"
            );
            assert_eq!((place.line, place.column), (line, column), "{text}: {got}");
            assert_eq!(place.key.as_deref(), key, "{text}");
            assert_eq!(got, message, "{text}");
        }
    }

    /// Keys are names, and the place names the one at fault even when it is unknown: a
    /// typo is found by its name. The message itself never repeats it.
    #[test]
    fn an_unknown_key_is_named_by_the_place_only() {
        let (place, got) = problem("list = []\n\n  lisst = 2\n");
        assert_eq!(place.to_string(), ":3:3: key `lisst`");
        assert_eq!(got, "unknown key, expected one of `list`, `level`, `items`");
    }

    #[test]
    fn long_keys_are_cut() {
        let text = format!("{} = 1\n", "k".repeat(5000));
        let (place, _) = problem(&text);
        let key = place.key.unwrap();
        assert_eq!(key.chars().count(), MAX_KEY_CHARS + 1);
        assert!(key.ends_with("k…"));
    }

    #[test]
    fn an_unknown_key_forged_to_look_like_the_schema_list_cannot_add_text() {
        let text = format!("\"{MARK}`, expected one of `x\" = 1\n");
        let (_, got) = problem(&text);
        assert_eq!(got, "unknown key, expected one of `list`, `level`, `items`");
    }

    #[test]
    fn json_messages_lose_their_quoted_values_too() {
        let e = serde_json::from_str::<Vec<u32>>(&format!("[\"{MARK}\"]")).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains(MARK), "serde_json quotes it: {msg}");
        let clean = without_input(&msg);
        assert!(!clean.contains(MARK), "{clean}");
        assert!(
            clean.starts_with("wrong type: found string, expected u32"),
            "{clean}"
        );
        for kept in [
            "missing field `version`",
            "expected value at line 1 column 1",
            "trailing characters",
        ] {
            assert_eq!(without_input(kept), kept);
        }
        assert_eq!(without_input("missing field `a` `b`"), "invalid value");
    }

    #[test]
    fn places_count_characters_and_lines() {
        let p = Place::of_offset("ab\nçé x", 7);
        assert_eq!((p.line, p.column), (2, 3));
        assert_eq!(Place::of_offset("ab", 99).to_string(), ":1:3");
        let keyed = Place {
            key: Some("a.b".into()),
            ..p
        };
        assert_eq!(keyed.to_string(), ":2:3: key `a.b`");
    }
}
