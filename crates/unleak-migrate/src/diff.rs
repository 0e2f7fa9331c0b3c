//! The unified diff a plan makes, with every secret redacted.
//!
//! Owns: hunks built straight from the plan's edits (three lines of context, merged when
//! close), `\ No newline at end of file` markers, and replacing the bytes of every secret
//! the run found in the file, planned or not (allowed, below the confidence asked for), in
//! every printed line (removed, context, and added lines where a secret survives) with
//! its redacted form. Names and lines are printed through [`printable_line`], so neither
//! can reach a terminal or a CI log as an escape sequence or a workflow command. Such a
//! diff is for reading; it cannot be applied with `git apply`. Does not own: the edits
//! (`planner`).

use crate::apply::apply_edits;
use crate::model::{Edit, Plan};
use crate::planner::SourceFile;
use crate::text::{printable, printable_line, Lines};
use std::fmt::Write as _;
use unleak_core::{Finding, Span};

const CONTEXT: usize = 3;

/// The diff of every planned file that changes. `unplanned` are the run's other findings
/// (allowed, below the threshold): their secrets are redacted as well.
pub fn unified_diff(plan: &Plan, files: &[SourceFile<'_>], unplanned: &[Finding]) -> String {
    let mut out = String::new();
    for pf in &plan.files {
        if pf.edits.is_empty() {
            continue;
        }
        let Some(src) = files.iter().find(|f| f.path == pf.path) else {
            continue;
        };
        let mut secrets: Vec<(Span, String)> = src
            .findings
            .iter()
            .chain(
                unplanned
                    .iter()
                    .filter(|f| f.path.display_path() == pf.path),
            )
            .filter(|f| f.span.end <= src.data.len())
            .map(|f| (f.span, f.redacted.clone()))
            .collect();
        secrets.sort_by_key(|(s, _)| (s.start, s.end));
        let new = apply_edits(src.data, &pf.edits);
        let new_secrets: Vec<(Span, String)> = secrets
            .iter()
            .filter_map(|(s, r)| map_span(*s, &pf.edits).map(|m| (m, r.clone())))
            .collect();
        file_diff(
            &mut out,
            &pf.path,
            src.data,
            &new,
            &pf.edits,
            &secrets,
            &new_secrets,
        );
    }
    out
}

/// Where an untouched span lands after the edits; `None` if an edit touches it.
fn map_span(s: Span, edits: &[Edit]) -> Option<Span> {
    let mut delta: isize = 0;
    for e in edits {
        let touches = if e.start == e.end {
            s.start < e.start && e.start < s.end
        } else {
            e.start < s.end && s.start < e.end
        };
        if touches {
            return None;
        }
        if e.end <= s.start {
            delta += e.replacement.len() as isize - (e.end - e.start) as isize;
        }
    }
    let shift = |x: usize| (x as isize + delta) as usize;
    Some(Span::new(shift(s.start), shift(s.end)))
}

/// A run of changed lines: old lines `[old_first, old_end)` become new lines
/// `[new_first, new_end)`.
struct Block {
    old_first: usize,
    old_end: usize,
    new_first: usize,
    new_end: usize,
}

fn file_diff(
    out: &mut String,
    path: &str,
    old: &[u8],
    new: &[u8],
    edits: &[Edit],
    old_secrets: &[(Span, String)],
    new_secrets: &[(Span, String)],
) {
    let ol = LineTable::new(old);
    let nl = LineTable::new(new);
    // Old byte ranges touched by edits, widened to whole lines and merged, with the
    // size change of the edits before and inside each.
    struct Range {
        s: usize,
        e: usize,
        before: isize,
        delta: isize,
    }
    let mut ranges: Vec<Range> = Vec::new();
    let mut total: isize = 0;
    for ed in edits {
        let (s, e) = widen(old, ed.start, ed.end);
        let d = ed.replacement.len() as isize - (ed.end - ed.start) as isize;
        match ranges.last_mut() {
            Some(last) if s <= last.e => {
                last.e = last.e.max(e);
                last.delta += d;
            }
            _ => ranges.push(Range {
                s,
                e,
                before: total,
                delta: d,
            }),
        }
        total += d;
    }
    let shift = |x: usize, by: isize| (x as isize + by) as usize;
    let blocks: Vec<Block> = ranges
        .iter()
        .map(|r| Block {
            old_first: ol.line_at(r.s),
            old_end: ol.line_at(r.e),
            new_first: nl.line_at(shift(r.s, r.before)),
            new_end: nl.line_at(shift(r.e, r.before + r.delta)),
        })
        .collect();
    if blocks.is_empty() {
        return;
    }
    let _ = writeln!(out, "--- a/{}", printable(path));
    let _ = writeln!(out, "+++ b/{}", printable(path));
    let mut i = 0;
    while i < blocks.len() {
        let mut j = i;
        while j + 1 < blocks.len() && blocks[j + 1].old_first <= blocks[j].old_end + 2 * CONTEXT {
            j += 1;
        }
        let first = &blocks[i];
        let last = &blocks[j];
        let ctx_before = first.old_first.min(CONTEXT);
        let old_start = first.old_first - ctx_before;
        let old_stop = (last.old_end + CONTEXT).min(ol.count());
        let new_start = first.new_first - ctx_before;
        let new_stop = last.new_end + (old_stop - last.old_end);
        let header_old = hunk_range(old_start, old_stop - old_start);
        let header_new = hunk_range(new_start, new_stop - new_start);
        let _ = writeln!(out, "@@ -{header_old} +{header_new} @@");
        let mut line = old_start;
        for b in &blocks[i..=j] {
            for k in line..b.old_first {
                push_line(out, ' ', old, &ol, k, old_secrets);
            }
            for k in b.old_first..b.old_end {
                push_line(out, '-', old, &ol, k, old_secrets);
            }
            for k in b.new_first..b.new_end {
                push_line(out, '+', new, &nl, k, new_secrets);
            }
            line = b.old_end;
        }
        for k in line..old_stop {
            push_line(out, ' ', old, &ol, k, old_secrets);
        }
        i = j + 1;
    }
}

fn hunk_range(start: usize, count: usize) -> String {
    match count {
        0 => format!("{start},0"),
        1 => format!("{}", start + 1),
        n => format!("{},{n}", start + 1),
    }
}

/// Widen `[s, e)` to whole lines; an insertion at a line start stays empty.
fn widen(data: &[u8], s: usize, e: usize) -> (usize, usize) {
    let line_start = |x: usize| {
        data[..x]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
    };
    let line_end = |x: usize| {
        data[x..]
            .iter()
            .position(|b| *b == b'\n')
            .map_or(data.len(), |i| x + i + 1)
    };
    if s == e && line_start(s) == s {
        return (s, s);
    }
    let ws = line_start(s);
    let we = if e > s { line_end(e - 1) } else { line_end(s) };
    (ws, we.max(ws))
}

/// Line starts, with "the line at offset" for offsets that are line starts or the end.
struct LineTable {
    lines: Lines,
    len: usize,
    ends_with_newline: bool,
}

impl LineTable {
    fn new(data: &[u8]) -> Self {
        LineTable {
            lines: Lines::new(data),
            len: data.len(),
            ends_with_newline: data.ends_with(b"\n"),
        }
    }

    fn count(&self) -> usize {
        if self.len == 0 {
            0
        } else {
            self.lines.count()
        }
    }

    /// The index of the line starting at `offset` (or `count()` at the end).
    fn line_at(&self, offset: usize) -> usize {
        if offset >= self.len {
            return self.count();
        }
        self.lines.line_of(offset)
    }

    fn bounds(&self, k: usize) -> (usize, usize) {
        (self.lines.start(k), self.lines.end_with_eol(k))
    }

    fn is_last_without_newline(&self, k: usize) -> bool {
        k + 1 == self.count() && !self.ends_with_newline
    }
}

fn push_line(
    out: &mut String,
    sign: char,
    data: &[u8],
    table: &LineTable,
    k: usize,
    secrets: &[(Span, String)],
) {
    let (s, e) = table.bounds(k);
    let mut text = Vec::new();
    let mut pos = s;
    // Sorted by start; where secrets overlap, the bytes of both stay hidden.
    for (span, redacted) in secrets {
        if span.end <= s || span.start >= e || span.end <= pos {
            continue;
        }
        let from = span.start.max(pos);
        text.extend_from_slice(&data[pos..from]);
        // A secret's redacted form goes where it starts; its other lines show nothing.
        if span.start >= s && span.start >= pos {
            text.extend_from_slice(redacted.as_bytes());
        }
        pos = span.end.min(e);
    }
    text.extend_from_slice(&data[pos..e]);
    let line = String::from_utf8_lossy(&text);
    let body = line.strip_suffix('\n').unwrap_or(&line);
    let body = body.strip_suffix('\r').unwrap_or(body);
    out.push(sign);
    out.push_str(&printable_line(body));
    out.push('\n');
    if table.is_last_without_newline(k) {
        out.push_str("\\ No newline at end of file\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_shift_past_edits_and_vanish_inside_them() {
        let edits = vec![Edit {
            start: 2,
            end: 5,
            replacement: "xy".into(),
            findings: vec![],
        }];
        assert_eq!(map_span(Span::new(7, 9), &edits), Some(Span::new(6, 8)));
        assert_eq!(map_span(Span::new(3, 4), &edits), None);
        assert_eq!(map_span(Span::new(0, 1), &edits), Some(Span::new(0, 1)));
    }

    #[test]
    fn widening_keeps_line_start_insertions_empty() {
        let d = b"ab\ncd\nef";
        assert_eq!(widen(d, 3, 3), (3, 3));
        assert_eq!(widen(d, 4, 5), (3, 6));
        assert_eq!(widen(d, 7, 7), (6, 8));
        assert_eq!(widen(d, 8, 8), (6, 8));
    }
}

#[cfg(test)]
mod diff_tests {
    use crate::planner::{plan, PlanOptions, SourceFile};
    use crate::testutil::finding;
    use unleak_rules::RuleSet;

    #[test]
    fn hunks_are_redacted_and_mark_a_missing_final_newline() {
        let data = "a=1\nb=2\nc=3\nd=4\ne=5\nJWT_SECRET=first-value-0123456789";
        let fs = vec![finding(
            ".env",
            data,
            "first-value-0123456789",
            "generic-secret",
        )];
        let files = [SourceFile {
            path: ".env",
            data: data.as_bytes(),
            findings: &fs,
        }];
        let p = plan(&files, &[], &RuleSet::default(), &PlanOptions::default());
        let diff = super::unified_diff(&p, &files, &[]);
        let expected = "--- a/.env\n+++ b/.env\n@@ -3,4 +3,5 @@\n c=3\n d=4\n e=5\n\
-JWT_SECRET=…(redacted)\n\\ No newline at end of file\n\
+# unleak: JWT_SECRET is kept in vault at secret/apps/jwt-secret#JWT_SECRET; set it at run time\n\
+JWT_SECRET=\n\\ No newline at end of file\n";
        assert_eq!(diff, expected);
    }
    #[test]
    fn unplanned_and_overlapping_secrets_are_hidden_and_names_escaped() {
        let data = "::ctx ##[x] other-value-0123456789 tail\nJWT_SECRET=first-value-0123456789\n";
        let planned = vec![finding(
            "e\u{1b}]0;t\u{7}.env",
            data,
            "first-value-0123456789",
            "generic-secret",
        )];
        let path = "e\u{1b}]0;t\u{7}.env";
        let files = [SourceFile {
            path,
            data: data.as_bytes(),
            findings: &planned,
        }];
        let p = plan(&files, &[], &RuleSet::default(), &PlanOptions::default());
        // An allowed secret and a second finding overlapping its end.
        let unplanned = vec![
            finding(path, data, "other-value-0123456789", "generic-secret"),
            finding(path, data, "0123456789 tail", "other"),
        ];
        let diff = super::unified_diff(&p, &files, &unplanned);
        assert!(!diff.contains("other-value"), "{diff}");
        assert!(!diff.contains("tail"), "{diff}");
        assert!(
            !diff.contains('\u{1b}') && !diff.contains('\u{7}'),
            "{diff}"
        );
        assert!(!diff.contains("##["), "{diff}");
        let context = format!(" \\x3a:ctx #\\x23[x] {}", unplanned[0].redacted);
        assert!(diff.lines().any(|l| l == context), "{diff}");
        assert!(diff.starts_with("--- a/e\\x1b]0;t\\x07.env\n"), "{diff}");
    }
}
