//! Byte spans and their translation to 1-based lines and columns.

use serde::{Deserialize, Serialize};

/// A half-open byte range `[start, end)` in a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Span { start, end }
    }
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// 1-based line and column positions of a span. Columns count Unicode scalar values
/// (invalid UTF-8 bytes count one each), so they match what an editor shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

/// Turns byte spans of one blob into lines and columns, walking forward from the last
/// position it was asked about, so locating sorted spans costs one pass over the blob and
/// no allocation, even for a 1 GiB log.
pub struct Locator<'a> {
    data: &'a [u8],
    /// A known position: `offset` is on 1-based `line`, which starts at `line_start`.
    offset: usize,
    line: usize,
    line_start: usize,
}

impl<'a> Locator<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Locator {
            data,
            offset: 0,
            line: 1,
            line_start: 0,
        }
    }

    /// Line and line-start of `offset`, advancing the cursor (or restarting when asked
    /// about an earlier offset).
    fn seek(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.data.len());
        if offset < self.offset {
            *self = Locator::new(self.data);
        }
        let (line, start) = line_after(self.data, self.offset, offset, self.line, self.line_start);
        self.offset = offset;
        self.line = line;
        self.line_start = start;
        (line, start)
    }

    /// Lines and columns of a span. `end_column` is the column just past the last
    /// character, as SARIF and editors expect.
    pub fn locate(&mut self, span: Span) -> Location {
        let (line, start) = self.seek(span.start);
        let last = span.end.saturating_sub(1).max(span.start);
        let (end_line, end_start) = line_after(self.data, span.start, last, line, start);
        let end = span.end.min(self.data.len());
        Location {
            line,
            column: count_chars(&self.data[start..span.start.min(self.data.len())]) + 1,
            end_line,
            end_column: count_chars(&self.data[end_start..end.max(end_start)]) + 1,
        }
    }
}

/// Walk from `from` (on `line`, starting at `line_start`) to `to`, counting newlines.
fn line_after(
    data: &[u8],
    from: usize,
    to: usize,
    mut line: usize,
    mut line_start: usize,
) -> (usize, usize) {
    let to = to.min(data.len());
    if to > from {
        for i in memchr::memchr_iter(b'\n', &data[from..to]) {
            line += 1;
            line_start = from + i + 1;
        }
    }
    (line, line_start)
}

/// Count scalar values; continuation bytes of valid sequences are not counted, every
/// other byte counts as one (so invalid UTF-8 still yields a usable column).
pub fn count_chars(bytes: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => return n + s.chars().count(),
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                n += std::str::from_utf8(good)
                    .map(|s| s.chars().count())
                    .unwrap_or(0);
                let skip = e.error_len().unwrap_or(bad.len()).max(1);
                n += 1;
                rest = &bad[skip.min(bad.len())..];
            }
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_are_one_based() {
        let data = b"ab\ncd token\n";
        let loc = Locator::new(data).locate(Span::new(6, 11));
        assert_eq!(
            loc,
            Location {
                line: 2,
                column: 4,
                end_line: 2,
                end_column: 9
            }
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let data = "é€x=SECRET".as_bytes();
        let start = data.len() - 6;
        let loc = Locator::new(data).locate(Span::new(start, data.len()));
        assert_eq!(loc.column, 5);
        assert_eq!(loc.end_column, 11);
    }

    #[test]
    fn invalid_utf8_counts_each_bad_byte() {
        let data = b"\xff\xfeabc";
        assert_eq!(Locator::new(data).locate(Span::new(2, 5)).column, 3);
    }

    #[test]
    fn earlier_spans_after_later_ones_still_locate() {
        let data = b"a\nb\nc\n";
        let mut l = Locator::new(data);
        assert_eq!(l.locate(Span::new(4, 5)).line, 3);
        assert_eq!(l.locate(Span::new(2, 3)).line, 2);
    }

    #[test]
    fn multi_line_span_ends_on_its_last_line() {
        let data = b"x\n-----BEGIN\nAAA\n-----END\n";
        let loc = Locator::new(data).locate(Span::new(2, 25));
        assert_eq!((loc.line, loc.end_line), (2, 4));
    }
}
