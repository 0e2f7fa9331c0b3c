//! Byte spans and their translation to 1-based lines and columns.

use serde::{Deserialize, Serialize};

/// A half-open byte range `[start, end)` in a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// The first byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// The span `[start, end)`.
    pub fn new(start: usize, end: usize) -> Self {
        debug_assert!(start <= end);
        Span { start, end }
    }
    /// How many bytes the span covers.
    pub fn len(&self) -> usize {
        self.end - self.start
    }
    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
    /// Whether the two spans share at least one byte.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
    /// Whether `other` lies wholly inside this span.
    pub fn contains(&self, other: &Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// 1-based line and column positions of a span. Columns count Unicode scalar values
/// (invalid UTF-8 bytes count one each), so they match what an editor shows. The same
/// columns in UTF-16 code units (an astral character such as an emoji is two) are kept for
/// SARIF, whose consumers (GitHub code scanning) count columns that way; reports other than
/// SARIF do not show them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// 1-based line of the first character.
    pub line: usize,
    /// 1-based column of the first character, in Unicode scalar values.
    pub column: usize,
    /// 1-based line of the last character.
    pub end_line: usize,
    /// 1-based column just past the last character, in Unicode scalar values.
    pub end_column: usize,
    /// `column` in UTF-16 code units, for SARIF.
    #[serde(skip)]
    pub utf16_column: usize,
    /// `end_column` in UTF-16 code units, for SARIF.
    #[serde(skip)]
    pub utf16_end_column: usize,
}

/// Turns byte spans of one blob into lines and columns, walking forward from the last
/// position it was asked about, so locating sorted spans costs one pass over the blob and
/// no allocation, even for a 1 GiB log, or for many spans on one long line (columns are
/// counted on from the last one, not from the line start each time).
pub struct Locator<'a> {
    data: &'a [u8],
    /// A known position: `offset` is on 1-based `line`, which starts at `line_start`.
    offset: usize,
    line: usize,
    line_start: usize,
    /// A known column: `(line start, position, characters and UTF-16 units from the one
    /// to the other)`, where the position is not inside a UTF-8 sequence, so counts add up
    /// across it.
    column: Option<(usize, usize, Units)>,
}

impl<'a> Locator<'a> {
    /// A locator for spans of `data`, starting at its first byte.
    pub fn new(data: &'a [u8]) -> Self {
        Locator {
            data,
            offset: 0,
            line: 1,
            line_start: 0,
            column: None,
        }
    }

    /// Line and line-start of `offset`, advancing the cursor (or restarting when asked
    /// about an earlier offset).
    fn seek(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.data.len());
        if offset < self.offset {
            let column = self.column;
            *self = Locator::new(self.data);
            self.column = column;
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
        let column = self.units_between(start, span.start.min(self.data.len()));
        let end_column = self.units_between(end_start, end.max(end_start));
        Location {
            line,
            column: column.chars + 1,
            end_line,
            end_column: end_column.chars + 1,
            utf16_column: column.utf16 + 1,
            utf16_end_column: end_column.utf16 + 1,
        }
    }

    /// Characters (and UTF-16 units) from `line_start` to `at` on one line, counted on from
    /// the known column when it lies between them.
    fn units_between(&mut self, line_start: usize, at: usize) -> Units {
        let from = match self.column {
            Some((line, known, _)) if line == line_start && known <= at => known,
            _ => line_start,
        };
        #[cfg(test)]
        COUNTED.with(|c| c.set(c.get() + at - from));
        let n = count_units(&self.data[from..at]).plus(
            self.column
                .filter(|_| from != line_start)
                .map_or_else(Units::default, |c| c.2),
        );
        // A UTF-8 sequence never goes on past a byte that does not continue one.
        if self
            .data
            .get(at)
            .is_none_or(|&b| !(0x80..0xc0).contains(&b))
        {
            self.column = Some((line_start, at, n));
        }
        n
    }
}

#[cfg(test)]
thread_local! {
    /// Bytes whose characters a locator counted on this thread (tests bound it).
    static COUNTED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
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

/// The length of some text in characters and in UTF-16 code units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Units {
    chars: usize,
    utf16: usize,
}

impl Units {
    fn plus(self, other: Units) -> Units {
        Units {
            chars: self.chars + other.chars,
            utf16: self.utf16 + other.utf16,
        }
    }
}

/// Count scalar values; continuation bytes of valid sequences are not counted, every
/// other byte counts as one (so invalid UTF-8 still yields a usable column).
pub fn count_chars(bytes: &[u8]) -> usize {
    count_units(bytes).chars
}

/// Count scalar values as [`count_chars`] does, and their UTF-16 code units: two for an
/// astral character, one for any other, and one for each invalid byte (which a UTF-16
/// reader sees as one U+FFFD).
fn count_units(bytes: &[u8]) -> Units {
    fn valid(s: &str) -> Units {
        let chars = s.chars().count();
        // In valid UTF-8 only the lead byte of a four-byte sequence (an astral character)
        // is 0xF0 or above.
        let astral = s.bytes().filter(|&b| b >= 0xf0).count();
        Units {
            chars,
            utf16: chars + astral,
        }
    }
    let mut n = Units::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => return n.plus(valid(s)),
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                n = n.plus(std::str::from_utf8(good).map(valid).unwrap_or_default());
                let skip = e.error_len().unwrap_or(bad.len()).max(1);
                n = n.plus(Units { chars: 1, utf16: 1 });
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
                end_column: 9,
                utf16_column: 4,
                utf16_end_column: 9,
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

    /// UTF-16 columns count an astral character (an emoji) as two units and a CJK
    /// character (in the Basic Multilingual Plane) as one, before and inside the span.
    #[test]
    fn utf16_columns_count_astral_characters_twice() {
        let text = "\u{1F511}漢=SECRET\u{1F600}x";
        let data = text.as_bytes();
        let start = text.find("SECRET").unwrap();
        let end = text.find('x').unwrap();
        let loc = Locator::new(data).locate(Span::new(start, end));
        assert_eq!((loc.column, loc.end_column), (4, 11));
        assert_eq!((loc.utf16_column, loc.utf16_end_column), (5, 13));
        // An invalid byte is one unit, as the U+FFFD a UTF-16 reader puts in its place.
        let data = b"\xf0\x9f=SECRET";
        let loc = Locator::new(data).locate(Span::new(3, 9));
        assert_eq!((loc.column, loc.utf16_column), (3, 3));
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

    /// Columns counted on from the previous span agree with counting from the line start,
    /// across multi-byte characters, invalid bytes and spans that start inside a sequence.
    #[test]
    fn columns_of_many_spans_on_one_line_count_on_correctly() {
        let mut data = Vec::new();
        for i in 0..400u32 {
            match i % 5 {
                0 => data.extend_from_slice("é€".as_bytes()),
                1 => data.extend_from_slice(b"\xff\xe2\x82"),
                2 => data.extend_from_slice(b"abc"),
                3 => data.extend_from_slice("\u{1F600}".as_bytes()),
                _ => data.push(b'\n'),
            }
        }
        let mut locator = Locator::new(&data);
        let mut at = 0;
        let mut step = 1;
        while at + step < data.len() {
            let span = Span::new(at, at + step);
            let loc = locator.locate(span);
            let fresh = Locator::new(&data).locate(span);
            assert_eq!(loc, fresh, "{span:?}");
            at += step;
            step = step % 7 + 1;
        }
        // One long line of many spans: each byte is counted about once, not once per span.
        let line = "é token ".repeat(20_000);
        let mut locator = Locator::new(line.as_bytes());
        COUNTED.with(|c| c.set(0));
        for (i, _) in line.match_indices("token") {
            assert_eq!(locator.locate(Span::new(i, i + 5)).line, 1);
        }
        let counted = COUNTED.with(|c| c.get());
        assert!(
            counted <= 2 * line.len(),
            "{counted} for {} bytes",
            line.len()
        );
    }

    #[test]
    fn multi_line_span_ends_on_its_last_line() {
        let data = b"x\n-----BEGIN\nAAA\n-----END\n";
        let loc = Locator::new(data).locate(Span::new(2, 25));
        assert_eq!((loc.line, loc.end_line), (2, 4));
    }
}
