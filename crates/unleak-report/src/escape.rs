//! Making untrusted text safe for each place a report puts it.
//!
//! Owns: the escaping of strings that come from scanned content, file names, commit
//! metadata or user rule files before they reach a terminal, a GitHub Actions workflow
//! command, a Markdown table or a SARIF log. Does not own: redaction (the finding model
//! redacts secrets before any of this runs) or JSON string escaping (serde_json does it).

/// Render `s` for a terminal: control characters (C0, DEL, C1, so every ANSI escape
/// sequence), line and paragraph separators and bidirectional overrides become visible
/// escapes such as `\x1b`, `\n` or `\u{202e}`, so a crafted file name can neither move the
/// cursor, recolour the screen, fake extra output lines nor reorder what is shown.
pub fn terminal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // Every Unicode control character (Cc) is below U+0100, so two hex digits do.
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_invisible_hazard(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Escape the message part of a GitHub Actions workflow command (`::error ...::MESSAGE`)
/// the way the runner decodes it: `%`→`%25`, `\r`→`%0D`, `\n`→`%0A`. ANSI escape
/// sequences and other control characters are removed first, so the text can neither
/// end the command line nor colour the log.
pub fn workflow_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s, Newlines::Keep).chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escape a property value of a workflow command (`file=`, `title=`): like
/// [`workflow_data`], plus `:`→`%3A` and `,`→`%2C`, so a value cannot end the property
/// list (`::`) or start another property (`,line=1`).
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

/// Make `s` one inert cell of a GitHub-flavoured Markdown table (a job summary): control
/// characters and ANSI sequences are removed, line breaks become spaces, `|` cannot split
/// the cell, HTML is entity-escaped, and Markdown punctuation (emphasis, code, links,
/// mentions, issue references) is backslash-escaped so a file name renders as written.
pub fn markdown_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in clean(s, Newlines::ToSpace).chars() {
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
    clean(s, Newlines::ToSpace)
}

/// What [`clean`] does with `\n` and `\r`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Newlines {
    /// Keep them (the caller encodes them).
    Keep,
    /// Replace each with a space (the output must stay on one line).
    ToSpace,
}

/// Remove ANSI escape sequences (CSI, OSC, and two-byte escapes) whole, then every other
/// control character and invisible hazard, except tabs and, per `newlines`, line breaks.
fn clean(s: &str, newlines: Newlines) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape_sequence(&mut chars),
            // C1 control sequence introducer: the one-character form of `ESC [`.
            '\u{9b}' => skip_csi_body(&mut chars),
            '\n' | '\r' => match newlines {
                Newlines::Keep => out.push(c),
                Newlines::ToSpace => out.push(' '),
            },
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
/// shown: Unicode line/paragraph separators (some viewers break lines there) and
/// bidirectional embeddings, overrides and isolates ("Trojan Source").
fn is_invisible_hazard(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
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
    fn workflow_data_encodes_line_breaks_and_percent_and_strips_ansi() {
        assert_eq!(workflow_data(EVIL), "ared%0Ab%0D::error::x%250A,line=1z");
        assert_eq!(workflow_data("100%"), "100%25");
        assert_eq!(
            workflow_data("\u{1b}]8;;http://x\u{7}link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        assert_eq!(workflow_data("\u{9b}1;2mX"), "X");
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
