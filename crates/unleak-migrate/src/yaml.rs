//! A line-level view of block-style YAML, enough to edit one scalar and insert sibling or
//! child lines without re-serialising the document.
//!
//! Owns: splitting a YAML text into lines with their indentation, sequence dashes, keys and
//! inline scalars (plain, quoted and `|`/`>` block scalars); navigating from a line to its
//! mapping, the key that owns it, and the last line of a node. Does not own: what an edit
//! says (the rewriters decide), flow collections (`{…}`, `[…]`), anchors and aliases,
//! multi-line plain or quoted scalars; lines using them are treated as opaque, and the
//! rewriters fall back to `manual` there.

use crate::text::Lines;
use unleak_core::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quote {
    Plain,
    Single,
    Double,
    Block,
}

/// One scalar value on a line (or a block scalar below it).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scalar {
    /// The whole token: quotes included; for a block scalar its header through the end of
    /// its last non-blank line.
    pub token: Span,
    /// The value's characters: inside the quotes; for a block scalar its content lines.
    pub inner: Span,
    pub quote: Quote,
}

#[derive(Clone, Debug)]
pub(crate) struct YLine {
    pub start: usize,
    /// End of the line's content, before its line break.
    pub end: usize,
    /// Leading spaces.
    pub indent: usize,
    /// The line starts a sequence item (`- `).
    pub dash: bool,
    /// Column where the line's content starts (after any `- `).
    pub key_col: usize,
    /// The key of a `key: value` line, without quotes.
    pub key: Option<Span>,
    /// The start of the key token (its opening quote for a quoted key).
    pub key_token_start: usize,
    /// Where the inline value starts: after `key:` and blanks, or after `- ` for a scalar
    /// item. `None` when the line holds no key and no item.
    pub value_at: Option<usize>,
    /// Neither blank nor comment-only.
    pub significant: bool,
    /// A document separator (`---` or `...`).
    pub doc_sep: bool,
}

pub(crate) struct Yaml<'a> {
    pub data: &'a [u8],
    pub index: Lines,
    pub lines: Vec<YLine>,
}

/// A `key: value` (or `- value`) holding a given span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub line: usize,
    pub scalar: Scalar,
}

impl<'a> Yaml<'a> {
    pub(crate) fn parse(data: &'a [u8]) -> Self {
        let index = Lines::new(data);
        let lines = (0..index.count())
            .map(|i| parse_line(data, index.start(i), index.end(data, i)))
            .collect();
        Yaml { data, index, lines }
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.index.line_of(offset)
    }

    pub(crate) fn key(&self, i: usize) -> Option<&'a str> {
        let k = self.lines[i].key?;
        std::str::from_utf8(&self.data[k.start..k.end]).ok()
    }

    pub(crate) fn scalar(&self, i: usize) -> Option<Scalar> {
        let at = self.lines[i].value_at?;
        self.scalar_at(i, at)
    }

    pub(crate) fn scalar_text(&self, i: usize) -> Option<&'a str> {
        let s = self.scalar(i)?;
        std::str::from_utf8(&self.data[s.inner.start..s.inner.end]).ok()
    }

    /// A one-line flow collection after the key of line `i` (`{name: app}`, `[a, b]`),
    /// as written, when the line closes it.
    pub(crate) fn inline_flow(&self, i: usize) -> Option<&'a str> {
        let l = &self.lines[i];
        let text = std::str::from_utf8(&self.data[l.value_at?..l.end])
            .ok()?
            .trim_end();
        let close = match text.as_bytes().first()? {
            b'{' => '}',
            b'[' => ']',
            _ => return None,
        };
        text.ends_with(close).then_some(text)
    }

    fn scalar_at(&self, i: usize, q: usize) -> Option<Scalar> {
        let d = self.data;
        let e = self.lines[i].end;
        if q >= e || d[q] == b'#' {
            return None;
        }
        match d[q] {
            b'"' => {
                let mut j = q + 1;
                while j < e {
                    match d[j] {
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                (j < e).then(|| Scalar {
                    token: Span::new(q, j + 1),
                    inner: Span::new(q + 1, j),
                    quote: Quote::Double,
                })
            }
            b'\'' => {
                let mut j = q + 1;
                loop {
                    if j >= e {
                        return None;
                    }
                    if d[j] == b'\'' {
                        if j + 1 < e && d[j + 1] == b'\'' {
                            j += 2;
                            continue;
                        }
                        break;
                    }
                    j += 1;
                }
                Some(Scalar {
                    token: Span::new(q, j + 1),
                    inner: Span::new(q + 1, j),
                    quote: Quote::Single,
                })
            }
            b'|' | b'>' => self.block_scalar(i, q),
            b'{' | b'[' | b'&' | b'*' | b'!' | b'%' | b'@' | b'`' => None,
            _ => {
                let mut j = q;
                while j < e && !(d[j] == b'#' && j > q && matches!(d[j - 1], b' ' | b'\t')) {
                    j += 1;
                }
                while j > q && matches!(d[j - 1], b' ' | b'\t') {
                    j -= 1;
                }
                Some(Scalar {
                    token: Span::new(q, j),
                    inner: Span::new(q, j),
                    quote: Quote::Plain,
                })
            }
        }
    }

    /// A `|` or `>` scalar starting at `q` on line `i`: its content is every following line
    /// indented deeper than the line's key (blank lines included, trailing ones not).
    fn block_scalar(&self, i: usize, q: usize) -> Option<Scalar> {
        let owner_col = if self.lines[i].dash && self.lines[i].key.is_none() {
            self.lines[i].indent
        } else {
            self.lines[i].key_col
        };
        let mut first = None;
        let mut last = None;
        for k in i + 1..self.lines.len() {
            let l = &self.lines[k];
            let blank = self.data[l.start..l.end]
                .iter()
                .all(|b| matches!(b, b' ' | b'\t'));
            if blank {
                continue;
            }
            if l.indent <= owner_col {
                break;
            }
            first.get_or_insert(k);
            last = Some(k);
        }
        let (first, last) = (first?, last?);
        let inner_start = self.lines[first].start + self.lines[first].indent;
        let end = self.lines[last].end;
        Some(Scalar {
            token: Span::new(q, end),
            inner: Span::new(inner_start, end),
            quote: Quote::Block,
        })
    }

    /// The entry whose scalar value holds `span`: the scalar on the span's line, or a block
    /// scalar that the line belongs to.
    pub(crate) fn entry_containing(&self, span: Span) -> Option<Entry> {
        let i = self.line_of(span.start);
        // A line inside a block scalar may look like `key: value`; the block wins.
        let content_indent = self.lines[i].indent;
        for k in (0..i).rev() {
            let l = &self.lines[k];
            if !l.significant || l.indent >= content_indent {
                continue;
            }
            if let Some(scalar) = self.scalar(k) {
                if scalar.quote == Quote::Block && scalar.inner.contains(&span) {
                    return Some(Entry { line: k, scalar });
                }
            }
            break;
        }
        let scalar = self.scalar(i)?;
        scalar
            .inner
            .contains(&span)
            .then_some(Entry { line: i, scalar })
    }

    /// First and last line (sibling keys) of the mapping that line `i` belongs to.
    pub(crate) fn mapping_bounds(&self, i: usize) -> (usize, usize) {
        let c = self.lines[i].key_col;
        let mut first = i;
        if !self.lines[i].dash {
            for k in (0..i).rev() {
                let p = &self.lines[k];
                if !p.significant {
                    continue;
                }
                if p.doc_sep {
                    break;
                }
                if p.dash && p.key_col == c {
                    first = k;
                    break;
                }
                if p.indent < c {
                    break;
                }
                if p.key_col == c && !p.dash {
                    first = k;
                }
            }
        }
        let mut last = i;
        for k in i + 1..self.lines.len() {
            let p = &self.lines[k];
            if !p.significant {
                continue;
            }
            if p.doc_sep || p.indent < c {
                break;
            }
            if p.key_col == c && !p.dash {
                last = k;
            }
        }
        (first, last)
    }

    /// The sibling of line `i` (same mapping) whose key is `key`.
    pub(crate) fn sibling(&self, i: usize, key: &str) -> Option<usize> {
        let (first, last) = self.mapping_bounds(i);
        let c = self.lines[i].key_col;
        (first..=last).find(|&k| {
            let l = &self.lines[k];
            l.significant && l.key_col == c && self.key(k) == Some(key)
        })
    }

    /// The line that owns the mapping or sequence item line `i` is in: the key above a
    /// sequence for an item, the key above a nested mapping otherwise.
    pub(crate) fn owner(&self, i: usize) -> Option<usize> {
        let (first, _) = self.mapping_bounds(i);
        let l = &self.lines[first];
        for k in (0..first).rev() {
            let p = &self.lines[k];
            if !p.significant {
                continue;
            }
            if p.doc_sep {
                return None;
            }
            if l.dash {
                if p.indent < l.indent || (p.indent == l.indent && !p.dash) {
                    return Some(k);
                }
            } else if p.indent < l.key_col {
                return Some(k);
            }
        }
        None
    }

    /// The last significant line of the node that starts at line `i` (the line itself,
    /// its children and, for a key without an inline value, a same-indent sequence).
    pub(crate) fn node_end(&self, i: usize) -> usize {
        let l = &self.lines[i];
        let col = if l.dash { l.indent } else { l.key_col };
        let open_value = l.key.is_some() && self.scalar(i).is_none();
        let mut last = i;
        for k in i + 1..self.lines.len() {
            let p = &self.lines[k];
            if !p.significant {
                continue;
            }
            if p.doc_sep {
                break;
            }
            let child = p.indent > col || (!l.dash && open_value && p.dash && p.indent == col);
            if !child {
                break;
            }
            last = k;
        }
        last
    }

    /// Lines of the document (between `---` separators) holding line `i`.
    pub(crate) fn document(&self, i: usize) -> (usize, usize) {
        let mut first = 0;
        for k in (0..=i).rev() {
            if self.lines[k].doc_sep {
                first = k + 1;
                break;
            }
        }
        let mut last = self.lines.len() - 1;
        for k in i + 1..self.lines.len() {
            if self.lines[k].doc_sep {
                last = k - 1;
                break;
            }
        }
        (first, last)
    }

    /// A top-level key of the document holding line `i`.
    pub(crate) fn top_level(&self, i: usize, key: &str) -> Option<usize> {
        let (first, last) = self.document(i);
        (first..=last).find(|&k| {
            let l = &self.lines[k];
            l.significant && !l.dash && l.indent == 0 && self.key(k) == Some(key)
        })
    }

    /// A direct child key of the key on line `i`.
    pub(crate) fn child(&self, i: usize, key: &str) -> Option<usize> {
        let end = self.node_end(i);
        let col = (i + 1..=end)
            .find(|&k| self.lines[k].significant)
            .map(|k| self.lines[k].key_col)?;
        (i + 1..=end).find(|&k| {
            let l = &self.lines[k];
            l.significant && l.key_col == col && !l.dash && self.key(k) == Some(key)
        })
    }

    /// Whether the line ends without a line break (the file's last line).
    pub(crate) fn has_eol(&self, i: usize) -> bool {
        self.index.end_with_eol(i) > self.lines[i].end
    }

    pub(crate) fn end_with_eol(&self, i: usize) -> usize {
        self.index.end_with_eol(i)
    }
}

fn parse_line(data: &[u8], start: usize, end: usize) -> YLine {
    let mut line = YLine {
        start,
        end,
        indent: 0,
        dash: false,
        key_col: 0,
        key: None,
        key_token_start: start,
        value_at: None,
        significant: false,
        doc_sep: false,
    };
    let mut p = start;
    while p < end && data[p] == b' ' {
        p += 1;
    }
    line.indent = p - start;
    line.key_col = line.indent;
    let text = &data[start..end];
    if text.starts_with(b"---") || text.starts_with(b"...") {
        let rest = &text[3..];
        if rest.is_empty() || rest[0] == b' ' || rest[0] == b'\t' {
            line.doc_sep = true;
            line.significant = true;
            return line;
        }
    }
    if p == end || data[p] == b'#' || data[p] == b'\t' && trimmed_empty(&data[p..end]) {
        return line;
    }
    line.significant = true;
    while p < end && data[p] == b'-' && (p + 1 == end || matches!(data[p + 1], b' ' | b'\t')) {
        line.dash = true;
        p += 1;
        while p < end && matches!(data[p], b' ' | b'\t') {
            p += 1;
        }
    }
    line.key_col = p - start;
    if p == end || data[p] == b'#' {
        return line;
    }
    line.key_token_start = p;
    if let Some((key, after)) = parse_key(data, p, end) {
        line.key = Some(key);
        let mut q = after;
        while q < end && matches!(data[q], b' ' | b'\t') {
            q += 1;
        }
        line.value_at = Some(q);
    } else if line.dash {
        line.value_at = Some(p);
    }
    line
}

fn trimmed_empty(s: &[u8]) -> bool {
    s.iter().all(|b| matches!(b, b' ' | b'\t'))
}

/// A mapping key at `p`: returns the key's span (without quotes) and the offset after its
/// `:`. A `:` counts only when a blank or the end of the line follows it.
fn parse_key(data: &[u8], p: usize, end: usize) -> Option<(Span, usize)> {
    let colon_ok = |j: usize| {
        j < end && data[j] == b':' && (j + 1 == end || matches!(data[j + 1], b' ' | b'\t'))
    };
    match data[p] {
        q @ (b'"' | b'\'') => {
            let close = (p + 1..end).find(|&j| data[j] == q)?;
            let mut j = close + 1;
            while j < end && data[j] == b' ' {
                j += 1;
            }
            colon_ok(j).then(|| (Span::new(p + 1, close), j + 1))
        }
        b'{' | b'[' | b'&' | b'*' | b'!' | b'|' | b'>' | b'?' => None,
        _ => {
            let mut j = p;
            while j < end {
                if data[j] == b'#' && j > p && matches!(data[j - 1], b' ' | b'\t') {
                    return None;
                }
                if colon_ok(j) {
                    let mut k = j;
                    while k > p && matches!(data[k - 1], b' ' | b'\t') {
                        k -= 1;
                    }
                    return (k > p).then(|| (Span::new(p, k), j + 1));
                }
                j += 1;
            }
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  containers:\n    - name: api\n      image: acme/api:1.2\n      env:\n        - name: MODE\n          value: prod # comment\n        - name: TOKEN\n          value: \"abc\"\n      ports:\n        - containerPort: 80\n    - name: side\n      image: busybox\n";

    fn line_with(y: &Yaml, needle: &str) -> usize {
        let off = std::str::from_utf8(y.data).unwrap().find(needle).unwrap();
        y.line_of(off)
    }

    #[test]
    fn keys_scalars_and_comments() {
        let y = Yaml::parse(POD.as_bytes());
        let i = line_with(&y, "value: prod");
        assert_eq!(y.key(i), Some("value"));
        assert_eq!(y.scalar_text(i), Some("prod"));
        let j = line_with(&y, "value: \"abc\"");
        let s = y.scalar(j).unwrap();
        assert_eq!(s.quote, Quote::Double);
        assert_eq!(&POD[s.inner.start..s.inner.end], "abc");
        let k = line_with(&y, "- name: TOKEN");
        assert!(y.lines[k].dash);
        assert_eq!(y.key(k), Some("name"));
    }

    #[test]
    fn navigation_finds_siblings_owners_and_node_ends() {
        let y = Yaml::parse(POD.as_bytes());
        let v = line_with(&y, "value: \"abc\"");
        let name = y.sibling(v, "name").unwrap();
        assert_eq!(y.scalar_text(name), Some("TOKEN"));
        let env = y.owner(v).unwrap();
        assert_eq!(y.key(env), Some("env"));
        let container = y.mapping_bounds(env).0;
        assert_eq!(y.scalar_text(container), Some("api"));
        let containers = y.owner(container).unwrap();
        assert_eq!(y.key(containers), Some("containers"));
        let end = y.node_end(containers);
        assert_eq!(y.scalar_text(end), Some("busybox"));
        assert_eq!(y.node_end(env), line_with(&y, "value: \"abc\""));
        let meta = y.top_level(v, "metadata").unwrap();
        let ns = y.child(meta, "namespace").unwrap();
        assert_eq!(y.scalar_text(ns), Some("shop"));
    }

    #[test]
    fn same_indent_sequences_belong_to_their_key() {
        let text = "services:\n  api:\n    secrets:\n    - a\n    environment:\n      K: v\n";
        let y = Yaml::parse(text.as_bytes());
        let k = line_with(&y, "K: v");
        let env = y.owner(k).unwrap();
        assert_eq!(y.key(env), Some("environment"));
        let secrets = y.sibling(env, "secrets").unwrap();
        assert_eq!(y.node_end(secrets), line_with(&y, "- a"));
        assert_eq!(y.key(y.owner(env).unwrap()), Some("api"));
        assert_eq!(y.owner(line_with(&y, "- a")), Some(secrets));
    }

    #[test]
    fn block_scalars_hold_their_content_lines() {
        let text = "key: |\n  line one\n  curl -H \"Authorization: Bearer two\"\n\nnext: 1\n";
        let y = Yaml::parse(text.as_bytes());
        let off = text.find("two").unwrap();
        let e = y.entry_containing(Span::new(off, off + 3)).unwrap();
        assert_eq!(e.line, 0);
        assert_eq!(
            &text[e.scalar.inner.start..e.scalar.inner.end],
            "line one\n  curl -H \"Authorization: Bearer two\""
        );
    }

    #[test]
    fn urls_are_not_keys_and_documents_split() {
        let text = "a: 1\n---\nurl: postgres://u:p@h/db\n- http://x\n";
        let y = Yaml::parse(text.as_bytes());
        assert_eq!(y.key(2), Some("url"));
        assert_eq!(y.scalar_text(2), Some("postgres://u:p@h/db"));
        assert_eq!(y.key(3), None);
        assert_eq!(y.scalar_text(3), Some("http://x"));
        assert_eq!(y.document(2), (2, 3));
        assert!(y.top_level(2, "a").is_none());
    }
}
