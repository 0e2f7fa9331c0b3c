//! Masking a stream line by line.
//!
//! Owns: reading a stream, deciding which bytes form a unit to scan (a line, a PEM block,
//! a wrapped base64 block, a piece of an over-long line), scanning only the units the
//! prefilter flags, replacing secret spans and copying everything else byte for byte
//! (CRLF, NUL, invalid UTF-8 and ANSI colour codes included). Does not own: what a secret
//! is (the [`Matcher`], whose decoder also tells which runs hold encoded text), how a
//! finding is redacted (the finding model) or how escape sequences are read
//! ([`crate::view`]).
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
//!   bounded. A piece is scanned together with everything of the line that has arrived,
//!   and the last [`OVERLAP`] bytes (8 KiB; more when a literal value's longest form is
//!   longer, at most half the bound) are held back for the next piece. A piece ends where
//!   no replacement crosses it, and not inside a run of base64 characters that started
//!   within the bound (inside a longer run, at a multiple of four characters from its
//!   start, so what is written decodes). So no prefix of a secret up to the overlap's
//!   length is ever written raw, however the writer pauses. The next piece is scanned
//!   with the last 1 KiB of the previous one in front of it, so a keyword just before a
//!   cut still finds its value after it.
//! * A line holding `-----BEGIN … PRIVATE KEY` without its END starts a block: lines are
//!   held until the line with `-----END … PRIVATE KEY`, or until the block reaches
//!   [`MaskOptions::max_held_bytes`] or [`MaskOptions::max_block_lines`], and the block is
//!   scanned as one unit. While a block is open its lines appear only when it closes.
//! * A line of 64 or 76 base64 characters that holds encoded text (the widths `base64`,
//!   MIME and PEM wrap at) starts a wrapped block: the lines that continue it are held
//!   until a shorter or padded one ends it, a line that does not continue it, or the same
//!   bounds; the block is also scanned with its line breaks removed, so a value whose
//!   encoding the wrap cuts is found. A block cut by a bound is written and its last line
//!   kept as context for the next one. A wrapped block whose last line is full shows when
//!   the next line arrives.
//! * Outside blocks a unit is one line: a secret whose rule needs a keyword on an
//!   earlier line is not masked (scan the file with `unleak scan` for that).
//!
//! # What is matched
//!
//! A unit is scanned as it is and, when it holds an escape sequence (colour from
//! `grep --color`, compilers, test runners) or is a block, also as the text a terminal
//! shows, with a block's lines joined; what that finds is mapped back onto the raw bytes. The matcher decodes base64, URL-encoded and hex-escaped text in a unit as
//! `unleak scan` does.
//!
//! # Replacement
//!
//! A finding's span becomes its `redacted` form (e.g. `tok_…(36 chars)`); one found in
//! decoded base64 takes the whole base64 run with it. A literal value's occurrence
//! becomes [`LITERAL_MASK`]. Overlapping spans merge into one replacement, labelled by
//! the one that starts first. The escape sequences inside a replaced span are written
//! after its replacement, so colours stay as they were (but not strings such as OSC
//! titles, which hold text), and so are a wrapped block's line breaks, so it keeps its
//! line count; no other byte of the span is written.
//!
//! # Speed
//!
//! Most lines hold no keyword. One case-insensitive Aho-Corasick pass over everything a
//! read brought (rule keywords, literal forms and the PEM marker in one automaton), one
//! pass of the matcher's decoder for encoded text and a search for ESC find the next
//! flagged line; everything before it is copied in one go, with no per-line work or
//! allocation. Only flagged lines go through the matcher; one flagged only by an escape
//! sequence does when its text without escapes hits the prefilter or holds encoded text.

use crate::literal::{LiteralSet, ShortLiteral, LITERAL_MASK};
use crate::view::{inert_bytes, strip_escapes, View, ESC};
use crate::MaskError;
use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::memmem;
use std::borrow::Cow;
use std::cmp::Reverse;
use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use unleak_core::{Blob, Origin, Span};
use unleak_matcher::{encoded_text_runs, Encoding, Matcher};

/// How much one read asks for.
const READ_SIZE: usize = 256 * 1024;
/// The smallest hold bound accepted; below it every line would be cut.
const MIN_HELD: usize = 1024;
/// How much of an emitted piece of a long line is kept to scan with the next piece. A
/// multiple of four, so a base64 run cut at a multiple of four from its start is read
/// from a multiple of four again.
const LOOK_BEHIND: usize = 1024;
/// How much of an over-long line is held back at a cut: no secret shorter than this is
/// ever cut. Far above any token's length; a longer value (a JWT with a large payload, a
/// certificate on one line) may be cut.
const OVERLAP: usize = 8 * 1024;
/// The widths a wrapped base64 block is recognised at.
const WRAP_WIDTHS: [usize; 2] = [64, 76];

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
    /// The most bytes of an unfinished line, or of an open block (PEM or wrapped
    /// base64), held back (default 64 KiB; at least 1 KiB).
    pub max_held_bytes: usize,
    /// The most lines an open block holds back (default 400).
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
    /// Bytes read from the stream (after UTF-16 input is decoded to UTF-8).
    pub bytes_read: u64,
    /// Replacements written (overlapping spans count once).
    pub masked: u64,
    /// The most input bytes held back at once (unfinished line plus open block).
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
    /// What a cut in an over-long line holds back at least: [`OVERLAP`], or the longest
    /// literal form when that is longer.
    overlap: usize,
}

impl Masker {
    /// `literals` are exact values to mask besides what the rules find (from
    /// `--literal-from-env`). Values shorter than [`crate::MIN_LITERAL_LEN`] bytes are left
    /// out; [`Masker::warnings`] says which.
    pub fn new(matcher: Arc<Matcher>, literals: Vec<Vec<u8>>) -> Masker {
        let (literals, warnings) = LiteralSet::new(literals);
        let mut patterns: Vec<&[u8]> = matcher.keywords().map(str::as_bytes).collect();
        patterns.push(PEM_MARKER_FOLDED);
        let mut overlap = OVERLAP;
        if let Some(set) = &literals {
            patterns.extend(set.forms().iter().map(Vec::as_slice));
            overlap = overlap.max(set.forms().iter().map(Vec::len).max().unwrap_or(0) + 1);
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
            overlap,
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
        input: impl Read,
        mut output: impl Write,
        opts: &MaskOptions,
    ) -> Result<MaskStats, MaskError> {
        // UTF-16 input (a PowerShell transcript) is told from its first bytes, at once:
        // live output must not wait for more. The masked output is UTF-8, as CI logs are.
        let mut input = unleak_core::Utf16Decoder::live(input);
        let max_held = opts.max_held_bytes.max(MIN_HELD);
        let mut state = StreamState {
            masker: self,
            max_held,
            max_block_lines: opts.max_block_lines.max(1),
            overlap: self.overlap.min(max_held / 2),
            out: Vec::with_capacity(READ_SIZE + max_held),
            block: Vec::new(),
            block_kind: BlockKind::Pem,
            block_context: 0,
            block_lines: 0,
            look_behind: Vec::new(),
            scratch: Vec::new(),
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
                let cut = state.long_line_piece(&buf[..filled]);
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

    /// Whether text (a line without its escape sequences) holds something to scan for.
    fn flags(&self, text: &[u8]) -> bool {
        self.prefilter.is_match(text) || !encoded_text_runs(text).is_empty()
    }

    /// What to replace in `data`, merged and in order: what the matcher and the literals
    /// find in it and in its view (see [`View`]), which for a block has its lines joined.
    fn replacements(&self, data: &[u8], block: Option<BlockKind>) -> Vec<Replacement> {
        let mut found = self.find(data);
        if let Some(view) = View::new(data, block.is_some()) {
            // A wrapped block keeps its line count; a PEM block's key is one replacement,
            // as the raw scan finds it.
            let keep_breaks = matches!(block, Some(BlockKind::Wrapped { .. }));
            found.extend(self.find(&view.text).into_iter().map(|r| {
                let (start, end) = view.to_raw(r.start, r.end);
                Replacement {
                    start,
                    end,
                    keep_breaks,
                    ..r
                }
            }));
        }
        found.sort_by_key(|r| (r.start, Reverse(r.end)));
        let mut merged: Vec<Replacement> = Vec::with_capacity(found.len());
        for r in found {
            match merged.last_mut() {
                Some(last) if r.start < last.end => {
                    last.end = last.end.max(r.end);
                    last.keep_breaks |= r.keep_breaks;
                }
                _ => merged.push(r),
            }
        }
        merged
    }

    fn find(&self, data: &[u8]) -> Vec<Replacement> {
        let blob = Blob::new(Origin::Stdin, data);
        let mut found: Vec<Replacement> = self
            .matcher
            .scan(&blob)
            .into_iter()
            .map(|f| {
                // The matcher reports the base64 characters that encode the secret; the
                // rest of the run is the text around it, masked with it.
                let decoded_from_base64 =
                    f.decoded.first().map(String::as_str) == Some(Encoding::Base64.as_str());
                let span = if decoded_from_base64 {
                    base64_run_around(data, f.span)
                } else {
                    f.span
                };
                Replacement {
                    start: span.start,
                    end: span.end,
                    text: Cow::Owned(f.redacted),
                    keep_breaks: false,
                }
            })
            .collect();
        if let Some(literals) = &self.literals {
            found.extend(literals.find_iter(data).map(|(start, end)| Replacement {
                start,
                end,
                text: Cow::Borrowed(LITERAL_MASK),
                keep_breaks: false,
            }));
        }
        found
    }
}

/// A span of raw bytes to replace, and its replacement.
struct Replacement {
    start: usize,
    end: usize,
    text: Cow<'static, str>,
    /// Write the line breaks inside the span after the replacement.
    keep_breaks: bool,
}

/// A byte of either base64 alphabet.
fn is_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
}

/// A byte of the standard base64 alphabet, the one wrapped blocks use.
fn is_standard_base64(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/')
}

/// The whole base64 run (with its padding) that `span` lies in.
fn base64_run_around(data: &[u8], span: Span) -> Span {
    let start = run_start(data, span.start);
    let mut end = span.end;
    while end < data.len() && is_base64(data[end]) {
        end += 1;
    }
    let padding = data[end..]
        .iter()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count();
    Span::new(start, end + padding)
}

/// Where the run of base64 characters that ends at `at` starts (`at` when none does).
fn run_start(data: &[u8], at: usize) -> usize {
    data[..at]
        .iter()
        .rposition(|&b| !is_base64(b))
        .map_or(0, |i| i + 1)
}

/// A line without its line break, and whether it had one.
fn line_body(line: &[u8]) -> (&[u8], bool) {
    match line.strip_suffix(b"\n") {
        Some(body) => (body.strip_suffix(b"\r").unwrap_or(body), true),
        None => (line, false),
    }
}

/// The width of a line that opens a wrapped base64 block: a whole line of 64 or 76
/// characters of the standard alphabet, with both cases (encoded text has them).
fn wrap_width(line: &[u8]) -> Option<usize> {
    let (body, complete) = line_body(line);
    (complete
        && WRAP_WIDTHS.contains(&body.len())
        && body.iter().all(|&b| is_standard_base64(b))
        && body.iter().any(u8::is_ascii_uppercase)
        && body.iter().any(u8::is_ascii_lowercase))
    .then_some(body.len())
}

/// Whether `line` continues a wrapped block of `width`: `Some(true)` when it also ends
/// it (shorter, padded, or the end of input), `None` when it does not belong to it.
fn continues_wrap(line: &[u8], width: usize) -> Option<bool> {
    let (body, complete) = line_body(line);
    let chars = body.iter().rposition(|&b| b != b'=').map_or(0, |i| i + 1);
    let padding = body.len() - chars;
    if chars == 0 || body.len() > width || padding > 2 {
        return None;
    }
    if !body[..chars].iter().all(|&b| is_standard_base64(b)) {
        return None;
    }
    Some(body.len() < width || padding > 0 || !complete)
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

/// The next places in a batch of lines that flag a line, each found once: the next
/// prefilter hit, the next encoded run, the next ESC.
struct Flags<'a> {
    data: &'a [u8],
    prefilter: &'a AhoCorasick,
    /// The start of the next prefilter hit at or after the last position asked about.
    hit: Option<usize>,
    runs: Vec<Span>,
    /// The first of `runs` not wholly before the last position asked about.
    run: usize,
    escape: Option<usize>,
}

impl<'a> Flags<'a> {
    fn new(masker: &'a Masker, data: &'a [u8]) -> Self {
        Flags {
            data,
            prefilter: &masker.prefilter,
            hit: masker.prefilter.find(data).map(|m| m.start()),
            runs: encoded_text_runs(data),
            run: 0,
            escape: memchr::memchr(ESC, data),
        }
    }

    /// Bring each kind up to `pos` (a line start) and return the first of them.
    fn next(&mut self, pos: usize) -> Option<usize> {
        // Patterns hold no line break, so the earliest hit found from an earlier line
        // start that lies at or after `pos` is still the earliest from `pos`.
        if self.hit.is_some_and(|h| h < pos) {
            self.hit = self
                .prefilter
                .find(&self.data[pos..])
                .map(|m| pos + m.start());
        }
        while self.runs.get(self.run).is_some_and(|r| r.start < pos) {
            self.run += 1;
        }
        if self.escape.is_some_and(|e| e < pos) {
            self.escape = memchr::memchr(ESC, &self.data[pos..]).map(|i| pos + i);
        }
        [
            self.hit,
            self.runs.get(self.run).map(|r| r.start),
            self.escape,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// After [`Flags::next`]: whether the line ending at `end` has a prefilter hit, and
    /// whether it has an encoded run.
    fn raw(&self, end: usize) -> (bool, bool) {
        let run = self.runs.get(self.run).is_some_and(|r| r.start < end);
        (self.hit.is_some_and(|h| h < end), run)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockKind {
    Pem,
    Wrapped { width: usize },
}

/// The state of one stream between reads.
struct StreamState<'m> {
    masker: &'m Masker,
    max_held: usize,
    max_block_lines: usize,
    /// How much of an over-long line a cut holds back.
    overlap: usize,
    /// Masked bytes waiting to be written.
    out: Vec<u8>,
    /// The lines of an open block.
    block: Vec<u8>,
    block_kind: BlockKind,
    /// How many bytes at the start of `block` are context already written.
    block_context: usize,
    block_lines: usize,
    /// The end of the last piece written of a line that has not ended yet.
    look_behind: Vec<u8>,
    /// A line without its escape sequences, for the prefilter.
    scratch: Vec<u8>,
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
        let mut flags = Flags::new(self.masker, batch);
        while pos < batch.len() {
            if !self.block.is_empty() {
                let end = line_end(batch, pos);
                let line = &batch[pos..end];
                if let BlockKind::Wrapped { width } = self.block_kind {
                    if continues_wrap(line, width).is_none() {
                        // The line is not part of the block: it is looked at on its own.
                        self.close_block();
                        continue;
                    }
                }
                self.add_to_block(line);
                pos = end;
                continue;
            }
            let Some(at) = flags.next(pos) else {
                self.out.extend_from_slice(&batch[pos..]);
                return;
            };
            let start = memchr::memrchr(b'\n', &batch[pos..at]).map_or(pos, |i| pos + i + 1);
            let end = line_end(batch, at);
            self.out.extend_from_slice(&batch[pos..start]);
            let line = &batch[start..end];
            let (hit, run) = flags.raw(end);
            if hit && opens_pem_block(line) {
                self.open_block(BlockKind::Pem, line);
            } else if let Some(width) = wrap_width(line).filter(|_| run) {
                self.open_block(BlockKind::Wrapped { width }, line);
            } else if hit || run || self.flagged_without_escapes(line) {
                self.mask(line, 0);
            } else {
                self.out.extend_from_slice(line);
            }
            pos = end;
        }
    }

    /// Whether a line flagged only by an escape sequence holds, without its escapes,
    /// something to scan for (a keyword or encoded text the escapes broke up).
    fn flagged_without_escapes(&mut self, line: &[u8]) -> bool {
        strip_escapes(line, &mut self.scratch);
        self.masker.flags(&self.scratch)
    }

    fn open_block(&mut self, kind: BlockKind, line: &[u8]) {
        self.block_kind = kind;
        self.block_context = 0;
        self.add_to_block(line);
    }

    fn add_to_block(&mut self, line: &[u8]) {
        let opening = self.block_lines == 0;
        self.block.extend_from_slice(line);
        self.block_lines += 1;
        let bound = self.block.len() >= self.max_held || self.block_lines >= self.max_block_lines;
        match self.block_kind {
            BlockKind::Pem if !opening && closes_pem_block(line) => self.close_block(),
            BlockKind::Wrapped { width }
                if !opening && continues_wrap(line, width) == Some(true) =>
            {
                self.close_block()
            }
            _ if bound => {
                let wrapped = match self.block_kind {
                    BlockKind::Wrapped { width } => Some(width),
                    BlockKind::Pem => wrap_width(line),
                };
                match wrapped {
                    Some(width) => self.release_all_but_last_line(line.len(), width),
                    None => self.close_block(),
                }
            }
            _ => {}
        }
    }

    /// At a bound, when wrapped base64 may go on after the block: write the block but its
    /// last line, which starts the next block, so a value that the line break after it
    /// cuts is still found whole. Only what a replacement needs of the last line is
    /// written; the rest of it is held with it.
    fn release_all_but_last_line(&mut self, last_len: usize, width: usize) {
        let block = std::mem::take(&mut self.block);
        let last = block.len() - last_len;
        let replacements = self.masker.replacements(&block, Some(self.block_kind));
        let cut = replacements
            .iter()
            .find(|r| r.start < last && last < r.end)
            .map_or(last, |r| r.end)
            .max(self.block_context);
        if cut > self.block_context {
            self.emit(&block, self.block_context, cut, &replacements);
        }
        self.block.extend_from_slice(&block[last..]);
        self.block_kind = BlockKind::Wrapped { width };
        self.block_context = cut - last;
        self.block_lines = 1;
    }

    fn close_block(&mut self) {
        let block = std::mem::take(&mut self.block);
        let replacements = self.masker.replacements(&block, Some(self.block_kind));
        self.emit(&block, self.block_context, block.len(), &replacements);
        self.block = block;
        self.block.clear();
        self.block_context = 0;
        self.block_lines = 0;
    }

    /// Write a piece of `held`, a line too long to hold that has not ended, scanned
    /// behind what was written of it; returns how many bytes of `held` it wrote.
    fn long_line_piece(&mut self, held: &[u8]) -> usize {
        if !self.block.is_empty() {
            self.close_block();
        }
        let mut joined = std::mem::take(&mut self.look_behind);
        let from = joined.len();
        joined.extend_from_slice(held);
        // The piece must leave at most the bound held.
        let min_end = joined.len() - self.max_held;
        // A base64 run that reaches the end is scanned to a multiple of four from its
        // start, so the part that is written decodes to what it holds.
        let tail_run = run_start(&joined, joined.len());
        let scan_end = joined.len() - (joined.len() - tail_run) % 4;
        let replacements = self.masker.replacements(&joined[..scan_end], None);
        let mut end = scan_end - self.overlap;
        if is_base64(joined[end - 1]) && is_base64(joined[end]) {
            let run = run_start(&joined, end);
            end = if run >= min_end {
                run
            } else {
                let aligned = run + (end - run) / 4 * 4;
                if aligned >= min_end {
                    aligned
                } else {
                    aligned + 4
                }
            };
        }
        if let Some(r) = replacements.iter().find(|r| r.start < end && end < r.end) {
            end = r.end;
        }
        self.emit(&joined, from, end, &replacements);
        joined.truncate(end);
        joined.drain(..end.saturating_sub(LOOK_BEHIND));
        self.look_behind = joined;
        end - from
    }

    /// Scan `data` and append `data[from..]` to the output with every secret replaced;
    /// `data[..from]` is context already written.
    fn mask(&mut self, data: &[u8], from: usize) {
        let replacements = self.masker.replacements(data, None);
        self.emit(data, from, data.len(), &replacements);
    }

    /// Append `data[from..to]` with `replacements` made; none crosses `to`.
    fn emit(&mut self, data: &[u8], from: usize, to: usize, replacements: &[Replacement]) {
        let mut cursor = from;
        for r in replacements {
            if r.end <= from {
                continue;
            }
            if r.start >= to {
                break;
            }
            debug_assert!(r.end <= to, "a replacement crosses the end of a piece");
            let start = r.start.max(from);
            self.out.extend_from_slice(&data[cursor..start]);
            self.out.extend_from_slice(r.text.as_bytes());
            inert_bytes(&data[start..r.end], r.keep_breaks, &mut self.out);
            cursor = r.end;
            self.masked += 1;
        }
        self.out.extend_from_slice(&data[cursor..to]);
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
