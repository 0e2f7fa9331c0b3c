//! Making untrusted text safe for each place a report puts it.
//!
//! Owns: the escaping of strings that come from scanned content, file names, commit
//! metadata or user rule files before they reach a terminal, a CI log, a GitHub Actions
//! workflow command, a Markdown table, a SARIF log or a JSON report. Does not own: redaction
//! (the finding model redacts secrets before any of this runs).
//!
//! A CI log is a terminal that also runs commands: the Actions runner treats a line that
//! starts with `::` (after trimming whitespace) as a workflow command, and a line holding
//! `##[` anywhere as a legacy one (Azure Pipelines the same for `##vso[`). So no escaper
//! here lets untrusted text start a line with `::` or write `##[` (SARIF text keeps them
//! only inside JSON strings, which [`write_json`] writes inert).

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};
use std::io::{self, Write};

/// Render `s` for a terminal or a CI log: control characters (C0, DEL, C1, so every ANSI
/// escape sequence), line and paragraph separators, bidirectional overrides and other
/// invisible characters become visible escapes such as `\x1b`, `\n` or `\u{202e}`, so a
/// crafted file name can neither move the cursor, recolour the screen, fake extra output
/// lines nor reorder what is shown. A `::` at the start (after whitespace) becomes `\x3a:`
/// and the first `#` of `##[` or `##vso[` becomes `\x23`, so the text cannot be a workflow
/// command wherever a line puts it.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let lead = s.find(|c: char| !c.is_whitespace()).unwrap_or(s.len());
    for (i, c) in s.char_indices() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ':' if i == lead && s[i..].starts_with("::") => out.push_str("\\x3a"),
            '#' if legacy_command_at(&s[i..]) => out.push_str("\\x23"),
            // Every Unicode control character (Cc) is below U+0100, so two hex digits do.
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_invisible_hazard(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Whether `rest` starts a legacy runner command: `##[` (GitHub) or `##vso[` (Azure).
fn legacy_command_at(rest: &str) -> bool {
    rest.starts_with("##[") || rest.starts_with("##vso[")
}

/// Escape the message part of a GitHub Actions workflow command (`::error ...::MESSAGE`)
/// the way the runner decodes it: `%`→`%25`, `\r`→`%0D`, `\n`→`%0A`. Other control and
/// invisible characters are percent-encoded too (their UTF-8 bytes, e.g. ESC → `%1B`), and
/// the first `#` of `##[` becomes `%23`: the runner leaves those codes as they are, so
/// they show, and since `%` itself is always encoded, what was written stays readable.
pub fn workflow_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.char_indices() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            // Tabs are plain whitespace in a log line.
            '\t' => out.push(c),
            '#' if legacy_command_at(&s[i..]) => out.push_str("%23"),
            c if c.is_control() || is_invisible_hazard(c) => {
                let mut buf = [0; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Escape a property value of a workflow command (`file=`, `title=`): like
/// [`workflow_data`], plus `:`→`%3A` and `,`→`%2C`, so a value cannot end the property
/// list (`::`) or start another property (`,line=1`). Nothing is dropped, so two
/// different file names never give the same `file=`.
pub fn workflow_property(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in workflow_data(s).chars() {
        match c {
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

/// Write `value` as JSON (pretty or on one line) that is also inert in a terminal or a CI
/// log: DEL, C1 controls and invisible characters, which JSON allows raw, are written as
/// `\uXXXX`, and so is every `#` that follows a `#`, so `##[` never appears. A JSON parser
/// reads back exactly the same strings.
pub fn write_json<T: Serialize + ?Sized>(
    w: &mut dyn Write,
    value: &T,
    pretty: bool,
) -> io::Result<()> {
    let formatter = InertJson {
        pretty: pretty.then(PrettyFormatter::new),
        after_hash: false,
    };
    let mut serializer = serde_json::Serializer::with_formatter(w, formatter);
    value.serialize(&mut serializer)?;
    Ok(())
}

/// serde_json's pretty or compact formatter, with the string escaping of [`write_json`].
struct InertJson {
    pretty: Option<PrettyFormatter<'static>>,
    /// The last character written in the current string was a `#`.
    after_hash: bool,
}

/// Run a formatter method on the pretty formatter when there is one, else the compact one.
macro_rules! layout {
    ($name:ident $(, $arg:ident: $ty:ty)*) => {
        fn $name<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            match &mut self.pretty {
                Some(p) => p.$name(w $(, $arg)*),
                None => CompactFormatter.$name(w $(, $arg)*),
            }
        }
    };
}

impl Formatter for InertJson {
    layout!(begin_array);
    layout!(end_array);
    layout!(begin_array_value, first: bool);
    layout!(end_array_value);
    layout!(begin_object);
    layout!(end_object);
    layout!(begin_object_key, first: bool);
    layout!(begin_object_value);
    layout!(end_object_value);

    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.after_hash = false;
        w.write_all(b"\"")
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> io::Result<()> {
        self.after_hash = false;
        CompactFormatter.write_char_escape(w, escape)
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escape = c.is_control() || is_invisible_hazard(c) || (c == '#' && self.after_hash);
            self.after_hash = c == '#' && !escape;
            if escape {
                w.write_all(&fragment.as_bytes()[start..i])?;
                let mut units = [0; 2];
                for u in c.encode_utf16(&mut units) {
                    write!(w, "\\u{u:04x}")?;
                }
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

/// Make `s` one inert cell of a GitHub-flavoured Markdown table (a job summary): control
/// characters and ANSI sequences are removed, line breaks become spaces, `|` cannot split
/// the cell, HTML is entity-escaped, and Markdown punctuation (emphasis, code, links,
/// mentions, issue references) is backslash-escaped so a file name renders as written.
pub fn markdown_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '!' | '|' | '~' | '#' | '@' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Make `s` safe to store as SARIF text: ANSI sequences and control characters are
/// removed and line breaks become spaces. SARIF viewers render messages in terminals and
/// web pages; JSON escaping alone would keep an escape sequence intact for them.
pub(crate) fn sarif_text(s: &str) -> String {
    clean(s)
}

/// Remove ANSI escape sequences (CSI, OSC, and two-byte escapes) whole, then every other
/// control character and invisible hazard except tabs; line breaks become spaces.
fn clean(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape_sequence(&mut chars),
            // C1 control sequence introducer: the one-character form of `ESC [`.
            '\u{9b}' => skip_csi_body(&mut chars),
            '\n' | '\r' => out.push(' '),
            '\t' => out.push(c),
            c if c.is_control() || is_invisible_hazard(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// After an ESC: skip a CSI (`[` params final), an OSC/DCS/APC/PM/SOS string (up to BEL or
/// `ESC \`), or the single character of a two-character escape.
fn skip_escape_sequence(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi_body(chars),
        Some(']' | 'P' | '_' | '^' | 'X') => {
            while let Some(c) = chars.next() {
                if c == '\u{7}' {
                    break;
                }
                if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                    chars.next();
                    break;
                }
            }
        }
        _ => {}
    }
}

/// Skip CSI parameter and intermediate bytes up to and including the final byte
/// (`@`..=`~`). Anything else ends the sequence without being consumed as part of it.
fn skip_csi_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(&c) = chars.peek() {
        if ('\u{20}'..='\u{3f}').contains(&c) {
            chars.next();
            continue;
        }
        if ('\u{40}'..='\u{7e}').contains(&c) {
            chars.next();
        }
        break;
    }
}

/// Characters that are not control characters but still change how surrounding text is
/// shown or compared: Unicode line/paragraph separators (some viewers break lines there),
/// bidirectional embeddings, overrides and isolates ("Trojan Source"), and the other
/// default-ignorable code points (zero-width characters, soft hyphen, variation selectors,
/// tags), which show as nothing and which culture-aware text matching (as in the Actions
/// runner) skips, so `#\u{ad}#[` could read as `##[`.
fn is_invisible_hazard(c: char) -> bool {
    matches!(c,
        '\u{2028}' | '\u{2029}'
        | '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
        | '\u{ffa0}' | '\u{fff0}'..='\u{fff8}' | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVIL: &str = "a\u{1b}[31mred\u{1b}[0m\nb\r::error::x%0A,line=1\u{7}\u{202e}z";

    #[test]
    fn terminal_shows_control_characters_visibly() {
        let out = terminal(EVIL);
        assert_eq!(
            out,
            "a\\x1b[31mred\\x1b[0m\\nb\\r::error::x%0A,line=1\\x07\\u{202e}z"
        );
        assert!(!out.chars().any(|c| c.is_control()));
        assert_eq!(terminal("plain/path é.txt"), "plain/path é.txt");
        assert_eq!(terminal("\u{9b}31m"), "\\x9b31m");
    }

    #[test]
    fn workflow_data_encodes_line_breaks_percent_and_controls() {
        assert_eq!(
            workflow_data(EVIL),
            "a%1B[31mred%1B[0m%0Ab%0D::error::x%250A,line=1%07%E2%80%AEz"
        );
        assert_eq!(workflow_data("100%"), "100%25");
        assert_eq!(
            workflow_data("\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{1b}\\"),
            "%1B]8;;http://x%07link%1B]8;;%1B\\"
        );
        assert_eq!(workflow_data("\u{9b}1;2mX\tY"), "%C2%9B1;2mX\tY");
        assert_eq!(workflow_data("x ##[error]y"), "x %23#[error]y");
    }

    /// File names a pull request can plant at the root of a scanned tree: `scan` strips
    /// `./`, so each is a whole line of the text report (its group header).
    const ROOT_NAMES: [&str; 8] = [
        "::error::pwned",
        "::add-mask::x",
        "::stop-commands::tok",
        " ::warning::lead",
        "\u{a0}\u{3000}::notice::wide-space",
        "##[error]legacy",
        "a ##[warning]mid-line ##vso[task.setvariable]x",
        "#\u{ad}#[error]soft-hyphen",
    ];

    #[test]
    fn terminal_text_never_starts_a_workflow_command() {
        assert_eq!(terminal("::error::x"), "\\x3a:error::x");
        assert_eq!(terminal(" ::warning::lead"), " \\x3a:warning::lead");
        assert_eq!(terminal("##[error]legacy"), "\\x23#[error]legacy");
        assert_eq!(terminal("mid ##[error]x"), "mid \\x23#[error]x");
        assert_eq!(terminal("###[x"), "#\\x23#[x");
        assert_eq!(terminal("#\u{ad}#[x"), "#\\u{00ad}#[x");
        // `::` and `#` elsewhere are ordinary text.
        assert_eq!(terminal("src/std::env #1 [x]"), "src/std::env #1 [x]");
        for name in ROOT_NAMES {
            let line = terminal(name);
            assert!(!line.trim_start().starts_with("::"), "{line}");
            assert!(!line.contains("##[") && !line.contains("##vso["), "{line}");
            // Indented, as provenance lines are, it is no command either.
            let indented = format!("    {line}");
            assert!(!indented.trim_start().starts_with("::"), "{indented}");
        }
    }

    #[test]
    fn workflow_text_never_carries_a_legacy_command() {
        for name in ROOT_NAMES {
            for out in [workflow_data(name), workflow_property(name)] {
                assert!(!out.contains("##[") && !out.contains("##vso["), "{out}");
                assert!(!out.contains('\n') && !out.contains('\u{ad}'), "{out}");
            }
        }
    }

    #[test]
    fn distinct_file_names_stay_distinct_in_annotations() {
        assert_eq!(
            workflow_property("esc\u{1b}[2J\u{1b}]0;title\u{7}"),
            "esc%1B[2J%1B]0;title%07"
        );
        assert_eq!(workflow_property("bidi\u{202e}evil"), "bidi%E2%80%AEevil");
        let names = [
            "esc",
            "esc\u{1b}[2J",
            "bidievil",
            "bidi\u{202e}evil",
            "a%1B",
            "a\u{1b}",
            "x,y",
            "x%2Cy",
        ];
        let encoded: std::collections::HashSet<String> =
            names.iter().map(|n| workflow_property(n)).collect();
        assert_eq!(encoded.len(), names.len(), "{encoded:?}");
    }

    #[test]
    fn json_is_exact_for_parsers_and_inert_for_logs() {
        let value = serde_json::json!({
            "path": "##[error]x \u{9b}31m \u{202e} \u{7f} \u{e0041} \u{1b}[2J ### y",
            "list": ["::error::z", "#"],
        });
        for pretty in [true, false] {
            let mut out = Vec::new();
            write_json(&mut out, &value, pretty).unwrap();
            let text = String::from_utf8(out).unwrap();
            assert!(!text.contains("##["), "{text}");
            assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{text:?}"
            );
            assert!(!text.contains('\u{202e}') && !text.contains('\u{e0041}'));
            assert!(!text.lines().any(|l| l.trim_start().starts_with("::")));
            assert_eq!(pretty, text.contains('\n'));
            let back: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back, value);
        }
    }

    #[test]
    fn workflow_property_also_encodes_colon_and_comma() {
        let out = workflow_property("a,line=1::x%0A::error::pwned\n");
        assert_eq!(out, "a%2Cline=1%3A%3Ax%250A%3A%3Aerror%3A%3Apwned%0A");
        assert!(!out.contains(',') && !out.contains(':') && !out.contains('\n'));
    }

    #[test]
    fn markdown_cell_is_inert() {
        assert_eq!(
            markdown_cell("a|b\n<img src=x>*c*`d` @me #1 [l](u)\u{1b}[1m"),
            "a\\|b &lt;img src=x&gt;\\*c\\*\\`d\\` \\@me \\#1 \\[l\\]\\(u\\)"
        );
    }

    #[test]
    fn sarif_text_drops_controls_and_keeps_one_line() {
        assert_eq!(sarif_text(EVIL), "ared b ::error::x%0A,line=1z");
        assert_eq!(sarif_text("tab\there"), "tab\there");
    }
}
