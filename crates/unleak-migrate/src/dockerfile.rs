//! Dockerfiles: instructions (with `\` continuations), the `KEY=value` pairs of `ENV` and
//! `ARG`, build stages, and which `RUN` instructions read a variable.
//!
//! Owns: the parts of the Dockerfile grammar migrate needs to move a build-time secret to a
//! BuildKit secret mount and a run-time one out of the image, and the `# syntax=` pin
//! those mounts need (the `env=` option of `--mount=type=secret` is Dockerfile syntax
//! 1.10). Does not own: the rewrite
//! itself (see `rewrite`), heredocs and the `# escape=` directive (a backtick escape is
//! rare enough that such files fall back to `manual` through a failed lookup).

use crate::text::Lines;
use unleak_core::Span;

#[derive(Clone, Debug)]
pub(crate) struct Instruction {
    /// Upper-case keyword (`ENV`, `ARG`, `RUN`, `FROM`, …).
    pub keyword: String,
    /// First 0-based line.
    pub first_line: usize,
    /// The keyword's first byte.
    pub start: usize,
    /// After the keyword and its blanks.
    pub args: Span,
}

/// One `KEY=value` of `ENV`/`ARG` (or the legacy `ENV KEY value`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pair {
    pub key: Span,
    /// The whole `KEY=value` token.
    pub token: Span,
    /// The value's characters, inside quotes when quoted.
    pub value: Span,
}

pub(crate) fn instructions(data: &[u8], lines: &Lines) -> Vec<Instruction> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.count() {
        let (s, e) = (lines.start(i), lines.end(data, i));
        let mut p = s;
        while p < e && matches!(data[p], b' ' | b'\t') {
            p += 1;
        }
        if p == e || data[p] == b'#' {
            i += 1;
            continue;
        }
        let kw_start = p;
        while p < e && data[p].is_ascii_alphabetic() {
            p += 1;
        }
        let keyword = String::from_utf8_lossy(&data[kw_start..p]).to_ascii_uppercase();
        while p < e && matches!(data[p], b' ' | b'\t') {
            p += 1;
        }
        let first_line = i;
        let mut last = i;
        // A trailing backslash continues the instruction; comment lines inside are skipped.
        while continues(data, lines.start(last), lines.end(data, last)) && last + 1 < lines.count()
        {
            last += 1;
            while is_comment(data, lines, last) && last + 1 < lines.count() {
                last += 1;
            }
        }
        out.push(Instruction {
            keyword,
            first_line,
            start: kw_start,
            args: Span::new(p, lines.end(data, last)),
        });
        i = last + 1;
    }
    out
}

fn is_comment(data: &[u8], lines: &Lines, line: usize) -> bool {
    let (mut p, e) = (lines.start(line), lines.end(data, line));
    while p < e && matches!(data[p], b' ' | b'\t') {
        p += 1;
    }
    p < e && data[p] == b'#'
}

fn continues(data: &[u8], s: usize, e: usize) -> bool {
    let mut j = e;
    while j > s && matches!(data[j - 1], b' ' | b'\t') {
        j -= 1;
    }
    j > s && data[j - 1] == b'\\'
}

/// The `KEY=value` pairs of an `ENV` or `ARG` instruction.
pub(crate) fn pairs(data: &[u8], ins: &Instruction) -> Vec<Pair> {
    let tokens = tokens(data, ins.args);
    let mut out = Vec::new();
    if ins.keyword == "ENV" {
        if let Some(first) = tokens.first() {
            if !data[first.start..first.end].contains(&b'=') {
                // Legacy `ENV KEY value with spaces`: the value is the rest of the line.
                let rest = tokens.get(1).map_or(ins.args.end, |t| t.start);
                let mut end = ins.args.end;
                while end > rest && matches!(data[end - 1], b' ' | b'\t') {
                    end -= 1;
                }
                out.push(Pair {
                    key: *first,
                    token: Span::new(first.start, end),
                    value: unquote(data, Span::new(rest, end)),
                });
                return out;
            }
        }
    }
    for t in tokens {
        let Some(eq) = data[t.start..t.end].iter().position(|b| *b == b'=') else {
            continue;
        };
        let key = Span::new(t.start, t.start + eq);
        let raw = Span::new(t.start + eq + 1, t.end);
        out.push(Pair {
            key,
            token: t,
            value: unquote(data, raw),
        });
    }
    out
}

fn unquote(data: &[u8], s: Span) -> Span {
    if s.len() >= 2 {
        let (a, b) = (data[s.start], data[s.end - 1]);
        if (a == b'"' || a == b'\'') && a == b {
            return Span::new(s.start + 1, s.end - 1);
        }
    }
    s
}

/// Blank-separated tokens of an argument span; quotes group, `\`+newline is a blank.
fn tokens(data: &[u8], args: Span) -> Vec<Span> {
    let mut out = Vec::new();
    let mut p = args.start;
    let end = args.end;
    while p < end {
        while p < end
            && (data[p].is_ascii_whitespace()
                || (data[p] == b'\\' && next_is_newline(data, p, end)))
        {
            p += 1;
        }
        if p >= end {
            break;
        }
        let start = p;
        let mut quote = None;
        while p < end {
            let b = data[p];
            match quote {
                Some(q) if b == q => quote = None,
                Some(_) if b == b'\\' => p += 1,
                Some(_) => {}
                None if b == b'"' || b == b'\'' => quote = Some(b),
                None if b.is_ascii_whitespace() => break,
                None if b == b'\\' && next_is_newline(data, p, end) => break,
                None => {}
            }
            p += 1;
        }
        out.push(Span::new(start, p.min(end)));
    }
    out
}

fn next_is_newline(data: &[u8], p: usize, end: usize) -> bool {
    let mut j = p + 1;
    while j < end && matches!(data[j], b' ' | b'\t' | b'\r') {
        j += 1;
    }
    j >= end || data[j] == b'\n'
}

/// Whether an instruction's arguments read variable `key` (`$KEY` or `${KEY…}`).
pub(crate) fn reads_variable(data: &[u8], ins: &Instruction, key: &str) -> bool {
    let args = &data[ins.args.start..ins.args.end];
    let k = key.as_bytes();
    let mut i = 0;
    while let Some(pos) = args[i..].iter().position(|b| *b == b'$') {
        let at = i + pos + 1;
        let rest = &args[at..];
        if let Some(inner) = rest.strip_prefix(b"{") {
            if inner.starts_with(k) && matches!(inner.get(k.len()), Some(b'}' | b':')) {
                return true;
            }
        } else if rest.starts_with(k)
            && !rest
                .get(k.len())
                .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            return true;
        }
        i = at;
    }
    false
}

/// The Dockerfile syntax that first reads `--mount=type=secret,…,env=` (docs.docker.com,
/// Dockerfile reference, "RUN --mount=type=secret": `env` "Added in 1.10").
const ENV_MOUNT_SYNTAX: (u32, u32) = (1, 10);

/// What the file's `# syntax=` parser directive means for an `env=` secret mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SyntaxPin {
    /// No pin, or one that already reads `env=` (`1`, `1.10`, `latest`, another frontend).
    Fine,
    /// `docker/dockerfile:<older>`: the version at this span becomes `1.10`.
    Raise { version: Span, from: String },
    /// An older version pinned by digest: raising it would drop the digest.
    Digest { from: String },
}

/// The `# syntax=` directive: a parser directive is one of the first lines, `# key=value`,
/// before any blank line, comment or instruction.
pub(crate) fn syntax_pin(data: &[u8], lines: &Lines) -> SyntaxPin {
    for i in 0..lines.count() {
        let (s, e) = (lines.start(i), lines.end(data, i));
        let line = std::str::from_utf8(&data[s..e]).unwrap_or("");
        let Some(body) = line.trim_start().strip_prefix('#') else {
            return SyntaxPin::Fine;
        };
        let Some((key, value)) = body.split_once('=') else {
            return SyntaxPin::Fine;
        };
        let key = key.trim();
        if !key.chars().all(|c| c.is_ascii_alphabetic()) || key.is_empty() {
            return SyntaxPin::Fine;
        }
        if !key.eq_ignore_ascii_case("syntax") {
            continue;
        }
        let value_at = s + line.find('=').expect("split above") + 1;
        let raw = value.trim();
        let lead = value.len() - value.trim_start().len();
        let (image, digest) = match raw.split_once('@') {
            Some((i, _)) => (i, true),
            None => (raw, false),
        };
        let Some((name, tag)) = image.rsplit_once(':') else {
            return SyntaxPin::Fine;
        };
        let name = name.strip_prefix("docker.io/").unwrap_or(name);
        if name != "docker/dockerfile" {
            return SyntaxPin::Fine;
        }
        let numbers = tag.split('-').next().unwrap_or(tag);
        let mut parts = numbers.split('.').map(|p| p.parse::<u32>());
        let (Some(Ok(major)), Some(Ok(minor))) = (parts.next(), parts.next()) else {
            return SyntaxPin::Fine;
        };
        if (major, minor) >= ENV_MOUNT_SYNTAX || major != ENV_MOUNT_SYNTAX.0 {
            return SyntaxPin::Fine;
        }
        let from = format!("docker/dockerfile:{}", crate::text::printable(tag));
        if digest {
            return SyntaxPin::Digest { from };
        }
        let tag_at = value_at + lead + image.len() - tag.len();
        return SyntaxPin::Raise {
            version: Span::new(tag_at, tag_at + numbers.len()),
            from,
        };
    }
    SyntaxPin::Fine
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "FROM node:20 AS build\nARG NPM_TOKEN=abc123 OTHER=1\nENV A=\"x y\" \\\n    B=two\nENV LEGACY some value here\nRUN echo \"${NPM_TOKEN}\" > .npmrc && \\\n    npm ci\nRUN echo $NPM_TOKENS\nFROM alpine\n";

    #[test]
    fn continuation_lines_join_one_instruction() {
        let lines = Lines::new(FILE.as_bytes());
        let ins = instructions(FILE.as_bytes(), &lines);
        let kws: Vec<_> = ins.iter().map(|i| i.keyword.as_str()).collect();
        assert_eq!(kws, ["FROM", "ARG", "ENV", "ENV", "RUN", "RUN", "FROM"]);
        assert_eq!(ins[2].first_line, 2);
        assert!(FILE[ins[2].args.start..ins[2].args.end].ends_with("B=two"));
    }

    #[test]
    fn pairs_split_keys_and_unquote_values() {
        let d = FILE.as_bytes();
        let lines = Lines::new(d);
        let ins = instructions(d, &lines);
        let text = |s: Span| &FILE[s.start..s.end];
        let arg = pairs(d, &ins[1]);
        assert_eq!(
            arg.iter()
                .map(|p| (text(p.key), text(p.value)))
                .collect::<Vec<_>>(),
            [("NPM_TOKEN", "abc123"), ("OTHER", "1")]
        );
        let env = pairs(d, &ins[2]);
        assert_eq!(text(env[0].value), "x y");
        assert_eq!(text(env[1].key), "B");
        let legacy = pairs(d, &ins[3]);
        assert_eq!(
            (text(legacy[0].key), text(legacy[0].value)),
            ("LEGACY", "some value here")
        );
    }

    #[test]
    fn variable_reads_match_whole_names() {
        let d = FILE.as_bytes();
        let ins = instructions(d, &Lines::new(d));
        assert!(reads_variable(d, &ins[4], "NPM_TOKEN"));
        assert!(!reads_variable(d, &ins[5], "NPM_TOKEN"));
    }

    /// Audit B11: `env=` mounts were added under `# syntax=docker/dockerfile:1.4`.
    #[test]
    fn syntax_pins_older_than_1_10_are_found() {
        fn pin(text: &str) -> (SyntaxPin, &str) {
            let lines = Lines::new(text.as_bytes());
            (syntax_pin(text.as_bytes(), &lines), text)
        }
        let (p, text) = pin("# syntax=docker/dockerfile:1.4\nFROM node:20\n");
        let SyntaxPin::Raise { version, from } = p else {
            panic!("{p:?}")
        };
        assert_eq!(&text[version.start..version.end], "1.4");
        assert_eq!(from, "docker/dockerfile:1.4");
        let (p, text) =
            pin("# escape=\\\n#syntax = docker.io/docker/dockerfile:1.9.1-labs\nFROM x\n");
        let SyntaxPin::Raise { version, .. } = p else {
            panic!("{p:?}")
        };
        assert_eq!(&text[version.start..version.end], "1.9.1");
        assert!(matches!(
            pin("# syntax=docker/dockerfile:1.6@sha256:ab12\nFROM x\n").0,
            SyntaxPin::Digest { .. }
        ));
        for fine in [
            "FROM x\n",
            "# syntax=docker/dockerfile:1\nFROM x\n",
            "# syntax=docker/dockerfile:1.10\nFROM x\n",
            "# syntax=docker/dockerfile:1.12-labs\nFROM x\n",
            "# syntax=registry.local/frontend:1.2\nFROM x\n",
            "# a comment first\n# syntax=docker/dockerfile:1.4\nFROM x\n",
        ] {
            assert_eq!(pin(fine).0, SyntaxPin::Fine, "{fine}");
        }
    }
}
