//! Making text that came from settings files (configuration keys, rule ids and rule text,
//! paths) inert before the command line prints it outside a report: error messages and
//! what `rules list` and `rules explain` show.
//!
//! Owns: one line for a terminal or a CI log, with control characters and bidirectional
//! overrides shown as visible escapes (through `unleak_report::escape::terminal`), never
//! starting with `::` and never holding `##[` (the GitHub runner takes `::cmd::` at the
//! start of a line, after leading white space, and the legacy `##[cmd]` anywhere in it);
//! and the same for JSON text, where the escapes keep every value exact.
//!
//! Does not own: the report formats (unleak-report escapes those), or redaction (secrets
//! are redacted before text gets here).

/// `s` as one inert line: `escape::terminal` shows control characters as escapes (so
/// only the start of `s` can begin a line), neutralises a leading `::` and never leaves
/// `##[` whole.
pub fn line(s: &str) -> String {
    unleak_report::escape::terminal(s)
}

/// JSON text made inert without changing what it decodes to: control characters that
/// JSON leaves raw (DEL, C1), line separators and bidirectional overrides become `\uXXXX`
/// escapes, and so does the `#` that would start `##[`. Outside strings JSON holds none
/// of these, so every replacement lands inside a string.
pub fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut hashes = 0;
    while let Some(c) = chars.next() {
        let hazard = (c.is_control() && c != '\n')
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        // The second `#` of `##[` is escaped, so the text never holds the three together.
        let starts_command = c == '#' && hashes > 0 && chars.peek() == Some(&'[');
        if hazard || starts_command {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
        hashes = if c == '#' && !starts_command {
            hashes + 1
        } else {
            0
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_show_controls_and_never_start_a_workflow_command() {
        assert_eq!(line("a\u{1b}[2Jb\nc\u{202e}"), "a\\x1b[2Jb\\nc\\u{202e}");
        assert_eq!(line("::error::x"), "\\x3a:error::x");
        assert_eq!(line(" \u{3000}::warning::x"), " \u{3000}\\x3a:warning::x");
        assert_eq!(line("\t::x"), "\\t\\x3a:x");
        assert_eq!(line("a ::b"), "a ::b");
        assert_eq!(line(":x"), ":x");
        assert_eq!(
            line("see ##[error]x and ###[y"),
            "see \\x23#[error]x and #\\x23#[y"
        );
        assert_eq!(line("x\n::error::y"), "x\\n::error::y");
    }

    #[test]
    fn json_stays_the_same_value_and_holds_no_hazard() {
        let value =
            serde_json::json!({"name": "a ##[error]b ###[c \u{9b}2J\u{202e}\u{7f} #[ok] # [ok]\n"});
        let text = json(&serde_json::to_string_pretty(&value).unwrap());
        assert!(!text.contains("##["), "{text}");
        assert!(
            !text
                .chars()
                .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
            "{text}"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
