//! `.env` files: finding the `KEY=value` assignment that holds a secret.
//!
//! Owns: the dotenv line grammar shared by docker compose, python-dotenv and dotenv (JS):
//! an optional `export `, a key, `=`, and a value that is unquoted (ending at ` #` or the
//! line end), single-quoted or double-quoted (which may span lines). Does not own: variable
//! expansion or what to write instead (see `rewrite`).

use crate::text::Lines;
use unleak_core::Span;

/// One `KEY=value` assignment.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Assignment {
    /// 0-based line the assignment starts on.
    pub line: usize,
    pub key: Span,
    /// The value's characters (inside quotes when quoted).
    pub value: Span,
}

/// The assignment whose value holds `span`.
pub(crate) fn assignment_containing(data: &[u8], lines: &Lines, span: Span) -> Option<Assignment> {
    let first = lines.line_of(span.start);
    // A double-quoted value may span lines: try the secret's line, then the lines above.
    for line in (first.saturating_sub(64)..=first).rev() {
        if let Some(a) = parse_assignment(data, lines, line) {
            if a.value.contains(&span) {
                return Some(a);
            }
            if line != first {
                return None;
            }
        }
    }
    None
}

fn parse_assignment(data: &[u8], lines: &Lines, line: usize) -> Option<Assignment> {
    let end = lines.end(data, line);
    let mut p = lines.start(line);
    let skip_blanks = |mut p: usize| {
        while p < end && matches!(data[p], b' ' | b'\t') {
            p += 1;
        }
        p
    };
    p = skip_blanks(p);
    if data[p..end].starts_with(b"export ") {
        p = skip_blanks(p + 7);
    }
    let key_start = p;
    while p < end && (data[p].is_ascii_alphanumeric() || matches!(data[p], b'_' | b'.' | b'-')) {
        p += 1;
    }
    if p == key_start || data[key_start].is_ascii_digit() {
        return None;
    }
    let key = Span::new(key_start, p);
    p = skip_blanks(p);
    if p >= end || data[p] != b'=' {
        return None;
    }
    p = skip_blanks(p + 1);
    let value = match data.get(p) {
        Some(b'"') => {
            // Double quotes may span lines; backslash escapes the next byte.
            let mut j = p + 1;
            while j < data.len() && data[j] != b'"' {
                j += if data[j] == b'\\' { 2 } else { 1 };
            }
            if j >= data.len() {
                return None;
            }
            Span::new(p + 1, j)
        }
        Some(b'\'') if p < end => {
            let close = (p + 1..end).find(|&j| data[j] == b'\'')?;
            Span::new(p + 1, close)
        }
        _ => {
            let mut j = p;
            while j < end && !(data[j] == b'#' && j > p && matches!(data[j - 1], b' ' | b'\t')) {
                j += 1;
            }
            while j > p && matches!(data[j - 1], b' ' | b'\t') {
                j -= 1;
            }
            Span::new(p.min(j), j)
        }
    };
    Some(Assignment { line, key, value })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(text: &str, needle: &str) -> Option<(String, String)> {
        let off = text.find(needle).unwrap();
        let lines = Lines::new(text.as_bytes());
        let a = assignment_containing(text.as_bytes(), &lines, Span::new(off, off + needle.len()))?;
        Some((
            text[a.key.start..a.key.end].to_string(),
            text[a.value.start..a.value.end].to_string(),
        ))
    }

    #[test]
    fn unquoted_quoted_exported_and_commented_values() {
        let t = "# c\nA=one # note\nexport B = \"two\"\nC='three'\n";
        assert_eq!(find(t, "one"), Some(("A".into(), "one".into())));
        assert_eq!(find(t, "two"), Some(("B".into(), "two".into())));
        assert_eq!(find(t, "three"), Some(("C".into(), "three".into())));
        assert_eq!(find(t, "note"), None);
    }

    #[test]
    fn double_quoted_values_may_span_lines() {
        let t = "KEY=\"-----BEGIN\nbody\n-----END\"\nNEXT=1\n";
        assert_eq!(find(t, "body").unwrap().0, "KEY");
    }
}
