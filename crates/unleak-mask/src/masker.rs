//! Masking a stream line by line.
//!
//! Owns: reading a stream, deciding which bytes form a unit to scan (a line, a PEM block,
//! a piece of an over-long line), scanning only the units the prefilter flags, replacing
//! secret spans and copying everything else byte for byte (CRLF, NUL, invalid UTF-8 and
//! ANSI colour codes included). Does not own: what a secret is (the [`Matcher`]) or how a
//! finding is redacted (the finding model).
//!
//! # Latency and look-behind
//!
//! * A complete line is written, and by default the writer flushed, before the next read,
//!   so masking adds no latency beyond the end of a line and interactive output stays
//!   interactive.
//! * A line that has not ended yet is held until its newline, the end of input, or
//!   [`MaskOptions::max_held_bytes`]. Holding it is what masks a secret that the writer
//!   split across two writes. The cost: a prompt without a newline shows only once its
//!   line ends.
//! * An over-long line is written in pieces once it exceeds that bound, so memory stays
//!   bounded. A piece ends after a separator byte (space, quote, `=`, `,` ...) near the
//!   bound where there is one, so a token is not cut in two; the next piece is scanned
//!   with the last 1 KiB of the previous one in front of it, so a keyword just before a
//!   cut still finds its value after it.
//! * A line holding `-----BEGIN … PRIVATE KEY` without its END starts a block: lines are
//!   held until the line with `-----END … PRIVATE KEY`, or until the block reaches
//!   [`MaskOptions::max_held_bytes`] or [`MaskOptions::max_block_lines`], and the block is
//!   scanned as one unit. While a block is open its lines appear only when it closes.
//! * Outside PEM blocks a unit is one line: a secret whose rule needs a keyword on an
//!   earlier line is not masked (scan the file with `unleak scan` for that).
//!
//! # Replacement
//!
//! A finding's span becomes its `redacted` form (e.g. `tok_…(36 chars)`); a literal
//! value's occurrence becomes [`LITERAL_MASK`]. Overlapping spans merge into one
//! replacement, labelled by the one that starts first.
//!
//! # Speed
//!
//! Most lines hold no keyword. One case-insensitive Aho-Corasick pass over everything a
//! read brought (rule keywords, literal forms and the PEM marker in one automaton) finds
//! the next flagged line; everything before it is copied in one go, with no per-line work
//! or allocation. Only flagged lines go through the matcher.

use crate::literal::{LiteralSet, ShortLiteral, LITERAL_MASK};
use crate::MaskError;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;
use std::borrow::Cow;
use std::cmp::Reverse;
use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use unleak_core::{Blob, Origin};
use unleak_matcher::Matcher;

/// How much one read asks for.
const READ_SIZE: usize = 256 * 1024;
/// The smallest hold bound accepted; below it every line would be cut.
const MIN_HELD: usize = 1024;
/// How much of an emitted piece of a long line is kept to scan with the next piece.
const LOOK_BEHIND: usize = 1024;
/// How far back from the bound a long line is searched for a place to cut.
const CUT_SEARCH: usize = 4096;

const PEM_MARKER_FOLDED: &[u8] = b"-----begin ";
const PEM_BEGIN: &[u8] = b"-----BEGIN ";
const PEM_END: &[u8] = b"-----END ";
const PEM_KIND: &[u8] = b"PRIVATE KEY";

/// How [`Masker::mask_stream`] buffers and flushes.
#[derive(Clone, Debug)]
pub struct MaskOptions {
    /// Flush the writer after each read that produced output (default). Turn off when the
    /// output is a file and nobody watches it.
    pub flush_each_read: bool,
    /// The most bytes of an unfinished line, or of an open PEM block, held back
    /// (default 64 KiB; at least 1 KiB).
    pub max_held_bytes: usize,
    /// The most lines an open PEM block holds back (default 400).
    pub max_block_lines: usize,
}

impl Default for MaskOptions {
    fn default() -> Self {
        MaskOptions {
            flush_each_read: true,
            max_held_bytes: 64 * 1024,
            max_block_lines: 400,
        }
    }
}

/// What one stream went through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaskStats {
    pub bytes_read: u64,
    /// Replacements written (overlapping spans count once).
    pub masked: u64,
    /// The most input bytes held back at once (unfinished line plus open PEM block).
    pub held_peak: usize,
}

/// A matcher and a set of literal values, ready to mask any number of streams (also at
/// once, from several threads).
pub struct Masker {
    matcher: Arc<Matcher>,
    /// Rule keywords, literal forms and the PEM marker, ASCII-case-insensitive.
    prefilter: AhoCorasick,
    literals: Option<LiteralSet>,
    warnings: Vec<ShortLiteral>,
}

impl Masker {
    /// `literals` are exact values to mask besides what the rules find (from
    /// `--literal-from-env`). Values shorter than [`crate::MIN_LITERAL_LEN`] bytes are left
    /// out; [`Masker::warnings`] says which.
    pub fn new(matcher: Arc<Matcher>, literals: Vec<Vec<u8>>) -> Masker {
        let (literals, warnings) = LiteralSet::new(literals);
        let mut patterns: Vec<&[u8]> = matcher.keywords().map(str::as_bytes).collect();
        patterns.push(PEM_MARKER_FOLDED);
        if let Some(set) = &literals {
            patterns.extend(set.forms().iter().map(Vec::as_slice));
        }
        let build = |kind| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .kind(kind)
                .build(&patterns)
        };
        let prefilter = build(Some(AhoCorasickKind::DFA))
            .or_else(|_| build(None))
            .expect("keywords and literal forms are plain byte strings and always compile");
        Masker {
            matcher,
            prefilter,
            literals,
            warnings,
        }
    }

    /// Literal values that will not be masked because they are too short, by position.
    pub fn warnings(&self) -> &[ShortLiteral] {
        &self.warnings
    }

    /// Copy `input` to `output`, masked, until the end of `input`. See the module
    /// documentation for when bytes are written.
    pub fn mask_stream(
        &self,
        mut input: impl Read,
        mut output: impl Write,
        opts: &MaskOptions,
    ) -> Result<MaskStats, MaskError> {
        let max_held = opts.max_held_bytes.max(MIN_HELD);
        let mut state = StreamState {
            masker: self,
            max_held,
            max_block_lines: opts.max_block_lines.max(1),
            out: Vec::with_capacity(READ_SIZE + max_held),
            block: Vec::new(),
            block_lines: 0,
            look_behind: Vec::new(),
            masked: 0,
        };
        let mut stats = MaskStats::default();
        // `buf[..filled]` is the unfinished line; it never exceeds `max_held` between reads.
        let mut buf = vec![0u8; max_held + READ_SIZE];
        let mut filled = 0;
        loop {
            let n = match input.read(&mut buf[filled..]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(source) => return Err(MaskError::Read { source }),
            };
            stats.bytes_read += n as u64;
            filled += n;
            if let Some(last_newline) = memchr::memrchr(b'\n', &buf[..filled]) {
                let end = last_newline + 1;
                state.lines(&buf[..end]);
                buf.copy_within(end..filled, 0);
                filled -= end;
            }
            if filled > max_held {
                let cut = cut_point(&buf[..filled], max_held);
                state.long_line_piece(&buf[..cut]);
                buf.copy_within(cut..filled, 0);
                filled -= cut;
            }
            stats.held_peak = stats.held_peak.max(filled + state.block.len());
            state.write(&mut output, opts.flush_each_read)?;
        }
        if filled > 0 {
            state.lines(&buf[..filled]);
        }
        state.finish();
        state.write(&mut output, false)?;
        output
            .flush()
            .map_err(|source| MaskError::Write { source })?;
        stats.masked = state.masked;
        Ok(stats)
    }
}

/// Where to end the piece of an over-long line that is written now: after the last
/// separator byte near the end, else at the end.
fn cut_point(line: &[u8], max_held: usize) -> usize {
    let from = line.len() - CUT_SEARCH.min(max_held / 2);
    line[from..]
        .iter()
        .rposition(|&b| {
            b.is_ascii_whitespace()
                || matches!(
                    b,
                    b'"' | b'\''
                        | b'`'
                        | b','
                        | b';'
                        | b':'
                        | b'='
                        | b'&'
                        | b'|'
                        | b'<'
                        | b'>'
                        | b'('
                        | b')'
                        | b'['
                        | b']'
                        | b'{'
                        | b'}'
                )
        })
        .map_or(line.len(), |i| from + i + 1)
}

/// The end (past the newline) of the line holding `at`.
fn line_end(data: &[u8], at: usize) -> usize {
    memchr::memchr(b'\n', &data[at..]).map_or(data.len(), |i| at + i + 1)
}

/// A line with a private-key BEGIN marker and no END after it.
fn opens_pem_block(line: &[u8]) -> bool {
    let Some(begin) = memmem::find(line, PEM_BEGIN) else {
        return false;
    };
    let rest = &line[begin..];
    memmem::find(rest, PEM_KIND).is_some() && memmem::find(rest, PEM_END).is_none()
}

fn closes_pem_block(line: &[u8]) -> bool {
    memmem::find(line, PEM_END).is_some_and(|end| memmem::find(&line[end..], PEM_KIND).is_some())
}

/// The state of one stream between reads.
struct StreamState<'m> {
    masker: &'m Masker,
    max_held: usize,
    max_block_lines: usize,
    /// Masked bytes waiting to be written.
    out: Vec<u8>,
    /// The lines of an open PEM block.
    block: Vec<u8>,
    block_lines: usize,
    /// The end of the last piece written of a line that has not ended yet.
    look_behind: Vec<u8>,
    masked: u64,
}

impl StreamState<'_> {
    /// Mask complete lines (the last may lack its newline at the end of input).
    fn lines(&mut self, batch: &[u8]) {
        let mut pos = 0;
        if !self.look_behind.is_empty() {
            // The first line is the end of a long line whose start is already written.
            let end = line_end(batch, 0);
            let mut joined = std::mem::take(&mut self.look_behind);
            let from = joined.len();
            joined.extend_from_slice(&batch[..end]);
            self.mask(&joined, from);
            pos = end;
        }
        while pos < batch.len() {
            if !self.block.is_empty() {
                let end = line_end(batch, pos);
                self.add_to_block(&batch[pos..end]);
                pos = end;
                continue;
            }
            let Some(hit) = self.masker.prefilter.find(&batch[pos..]) else {
                self.out.extend_from_slice(&batch[pos..]);
                return;
            };
            let at = pos + hit.start();
            let start = memchr::memrchr(b'\n', &batch[pos..at]).map_or(pos, |i| pos + i + 1);
            let end = line_end(batch, pos + hit.end() - 1);
            self.out.extend_from_slice(&batch[pos..start]);
            let line = &batch[start..end];
            if opens_pem_block(line) {
                self.add_to_block(line);
            } else {
                self.mask(line, 0);
            }
            pos = end;
        }
    }

    fn add_to_block(&mut self, line: &[u8]) {
        let opening = self.block.is_empty();
        self.block.extend_from_slice(line);
        self.block_lines += 1;
        if (!opening && closes_pem_block(line))
            || self.block.len() >= self.max_held
            || self.block_lines >= self.max_block_lines
        {
            self.close_block();
        }
    }

    fn close_block(&mut self) {
        let block = std::mem::take(&mut self.block);
        self.mask(&block, 0);
        self.block = block;
        self.block.clear();
        self.block_lines = 0;
    }

    /// Write a piece of a line too long to hold, scanned behind what was written of it.
    fn long_line_piece(&mut self, piece: &[u8]) {
        if !self.block.is_empty() {
            self.close_block();
        }
        let mut joined = std::mem::take(&mut self.look_behind);
        let from = joined.len();
        joined.extend_from_slice(piece);
        self.mask(&joined, from);
        joined.drain(..joined.len().saturating_sub(LOOK_BEHIND));
        self.look_behind = joined;
    }

    /// Scan `data` and append `data[from..]` to the output with every secret replaced;
    /// `data[..from]` is context already written.
    fn mask(&mut self, data: &[u8], from: usize) {
        let blob = Blob::new(Origin::Stdin, data);
        let mut spans: Vec<(usize, usize, Cow<'static, str>)> = self
            .masker
            .matcher
            .scan(&blob)
            .into_iter()
            .map(|f| (f.span.start, f.span.end, Cow::Owned(f.redacted)))
            .collect();
        if let Some(literals) = &self.masker.literals {
            spans.extend(
                literals
                    .find_iter(data)
                    .map(|(s, e)| (s, e, Cow::Borrowed(LITERAL_MASK))),
            );
        }
        spans.sort_by_key(|&(start, end, _)| (start, Reverse(end)));
        let mut merged: Vec<(usize, usize, Cow<'static, str>)> = Vec::with_capacity(spans.len());
        for (start, end, text) in spans {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end, text)),
            }
        }
        let mut cursor = from;
        for (start, end, text) in merged {
            if end <= from {
                continue;
            }
            let start = start.max(from);
            self.out.extend_from_slice(&data[cursor..start]);
            self.out.extend_from_slice(text.as_bytes());
            cursor = end;
            self.masked += 1;
        }
        self.out.extend_from_slice(&data[cursor..]);
    }

    /// End of input: an open block is scanned as it is.
    fn finish(&mut self) {
        if !self.block.is_empty() {
            self.close_block();
        }
        self.look_behind.clear();
    }

    /// Write what is ready, flushing after it when asked.
    fn write(&mut self, output: &mut impl Write, flush: bool) -> Result<(), MaskError> {
        if self.out.is_empty() {
            return Ok(());
        }
        output
            .write_all(&self.out)
            .map_err(|source| MaskError::Write { source })?;
        self.out.clear();
        if flush {
            output
                .flush()
                .map_err(|source| MaskError::Write { source })?;
        }
        Ok(())
    }
}
