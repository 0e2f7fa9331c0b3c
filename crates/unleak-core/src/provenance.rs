//! Text about where a finding was made that can itself hold a found secret: a file named
//! after its token, a commit message or an author name quoting it.
//!
//! Owns: [`mask`], the one function that replaces found secrets in such text with their
//! redacted form; [`MaskedText`], which keeps the raw and the masked text and shows the
//! masked one unless revealed; and [`hide_shared`], which makes the findings of one blob or
//! one commit hide each other's secrets. Does not own: the redacted form itself
//! ([`Secret::redacted`]) or escaping for an output format (unleak-report).

use crate::{Finding, Secret};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// `text` with every occurrence of any of `secrets` replaced by that secret's redacted
/// form, or `None` when it holds none. Overlapping occurrences are replaced as one span, so
/// no character of either is shown; spans are widened to character boundaries.
pub fn mask(text: &str, secrets: &[&Secret]) -> Option<String> {
    let bytes = text.as_bytes();
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    for (i, s) in secrets.iter().enumerate() {
        let needle = s.expose();
        if needle.is_empty() || needle.len() > bytes.len() {
            continue;
        }
        for start in memchr::memmem::find_iter(bytes, needle) {
            spans.push((start, start + needle.len(), i));
        }
    }
    if spans.is_empty() {
        return None;
    }
    // Earliest first; at one start the longest, whose redaction then stands for the span.
    spans.sort_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    let mut out = String::with_capacity(text.len());
    let mut shown = 0;
    let mut spans = spans.into_iter().peekable();
    while let Some((start, mut end, i)) = spans.next() {
        while let Some(&(next_start, next_end, _)) = spans.peek() {
            if next_start >= end {
                break;
            }
            end = end.max(next_end);
            spans.next();
        }
        let end = ceil_boundary(text, end);
        if end <= shown {
            // Widening to a character boundary already hid this one.
            continue;
        }
        let start = floor_boundary(text, start).max(shown);
        out.push_str(&text[shown..start]);
        out.push_str(&secrets[i].redacted());
        shown = end;
    }
    out.push_str(&text[shown..]);
    Some(out)
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// A provenance string (author, email, commit summary, a path in history) that shows
/// itself with found secrets masked: `Deref`, `Display`, `Debug` and `Serialize` all give
/// the masked form until [`MaskedText::reveal`] (`--show-secrets`), and `Debug` even then.
/// [`MaskedText::raw`] is for comparing and matching, never for printing.
#[derive(Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MaskedText {
    raw: String,
    /// `raw` with the secrets masked; `None` when it holds none.
    masked: Option<String>,
    revealed: bool,
}

impl MaskedText {
    /// `raw` with every occurrence of `secrets` masked.
    pub fn new(raw: impl Into<String>, secrets: &[&Secret]) -> Self {
        let raw = raw.into();
        let masked = mask(&raw, secrets);
        MaskedText {
            raw,
            masked,
            revealed: false,
        }
    }

    /// Mask `secrets` in the raw text, in place of what was masked before.
    pub fn hide(&mut self, secrets: &[&Secret]) {
        self.masked = mask(&self.raw, secrets);
    }

    /// Show the raw text from now on (`--show-secrets`).
    pub fn reveal(&mut self) {
        self.revealed = true;
    }

    /// The text as it was read. Callers must not print it.
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// What outputs show: the masked text, or the raw one when it holds no secret or was
    /// revealed.
    pub fn as_str(&self) -> &str {
        if self.revealed {
            &self.raw
        } else {
            self.masked_str()
        }
    }

    fn masked_str(&self) -> &str {
        self.masked.as_deref().unwrap_or(&self.raw)
    }

    /// Bytes held, for the findings share of the memory budget.
    pub fn stored_len(&self) -> usize {
        self.raw.len() + self.masked.as_ref().map_or(0, String::len)
    }
}

/// Text known to hold no secret (tests, values read back from a report).
impl From<&str> for MaskedText {
    fn from(raw: &str) -> Self {
        MaskedText::new(raw, &[])
    }
}

impl From<String> for MaskedText {
    fn from(raw: String) -> Self {
        MaskedText::new(raw, &[])
    }
}

/// Compares what outputs show.
impl PartialEq<str> for MaskedText {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MaskedText {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Deref for MaskedText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for MaskedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for MaskedText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never revealed, so a `{:?}` in a panic or a log line cannot leak.
        fmt::Debug::fmt(self.masked_str(), f)
    }
}

impl Serialize for MaskedText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MaskedText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(MaskedText::from)
    }
}

/// Make the findings of one blob, and those introduced by one commit, hide each other's
/// secrets: a file holding tokens A and B and named after A must not show A in B's path,
/// nor a commit message quoting A in B's provenance. Each finding gets the set of those
/// secrets that occur in its path or git provenance (shared between findings with the same
/// set), and its provenance text is masked with it. Cost: each distinct text of a group is
/// searched once for each distinct secret of the group.
pub fn hide_shared(findings: &mut [Finding]) {
    if findings.is_empty() {
        return;
    }
    // Group → the findings in it; a finding is in its blob's group and its commit's group.
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, f) in findings.iter().enumerate() {
        groups.entry(blob_key(f)).or_default().push(i);
        if let Some(git) = &f.git {
            groups
                .entry(format!("commit\0{}", git.commit))
                .or_default()
                .push(i);
        }
    }
    // Per finding: indices (into `findings`) of the secrets it must hide.
    let mut hides: Vec<Vec<usize>> = vec![Vec::new(); findings.len()];
    for members in groups.values() {
        let mut seen: HashMap<&[u8], usize> = HashMap::new();
        for &i in members {
            seen.entry(findings[i].secret.expose()).or_insert(i);
        }
        let secrets: Vec<usize> = seen.into_values().collect();
        let mut in_text: HashMap<&str, Vec<usize>> = HashMap::new();
        for &i in members {
            let f = &findings[i];
            let path = f.path.display_path();
            let mut texts: Vec<&str> = Vec::new();
            if let Some(git) = &f.git {
                texts.extend([git.author.raw(), git.email.raw(), git.summary.raw()]);
                texts.extend(git.paths.iter().map(MaskedText::raw));
            }
            if let Some(instruction) = f.image.as_ref().and_then(|i| i.instruction.as_ref()) {
                texts.push(instruction.raw());
            }
            let mut found: Vec<usize> = occurring(findings, &secrets, &path);
            for t in texts {
                let hit = in_text
                    .entry(t)
                    .or_insert_with(|| occurring(findings, &secrets, t));
                found.extend_from_slice(hit);
            }
            hides[i].extend(found);
        }
    }
    let mut shared: HashMap<Vec<usize>, Arc<[Secret]>> = HashMap::new();
    let sets: Vec<Option<Arc<[Secret]>>> = hides
        .into_iter()
        .map(|mut set| {
            if set.is_empty() {
                return None;
            }
            set.sort_unstable();
            set.dedup();
            let arc = shared.entry(set).or_insert_with_key(|set| {
                set.iter().map(|&j| findings[j].secret.clone()).collect()
            });
            Some(arc.clone())
        })
        .collect();
    for (f, set) in findings.iter_mut().zip(sets) {
        let Finding {
            secret,
            git,
            image,
            provenance_secrets,
            ..
        } = f;
        *provenance_secrets = set;
        let mut secrets: Vec<&Secret> = vec![secret];
        if let Some(set) = provenance_secrets {
            secrets.extend(set.iter());
        }
        if let Some(git) = git {
            git.hide(&secrets);
        }
        if let Some(instruction) = image.as_mut().and_then(|i| i.instruction.as_mut()) {
            instruction.hide(&secrets);
        }
    }
}

/// The group of findings made on one blob: a git object, else one path.
fn blob_key(f: &Finding) -> String {
    match &f.path {
        crate::Origin::Git { blob_id, .. } => format!("blob\0{blob_id}"),
        other => format!("path\0{}", other.display_path()),
    }
}

/// Which of `secrets` (indices into `findings`) occur in `text`.
fn occurring(findings: &[Finding], secrets: &[usize], text: &str) -> Vec<usize> {
    secrets
        .iter()
        .copied()
        .filter(|&j| {
            let needle = findings[j].secret.expose();
            !needle.is_empty()
                && needle.len() <= text.len()
                && memchr::memmem::find(text.as_bytes(), needle).is_some()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> Secret {
        Secret::new(s.as_bytes().to_vec(), 4)
    }

    #[test]
    fn every_occurrence_is_masked_and_clean_text_is_left_alone() {
        let a = secret("tok_AAAAAAAAAAAAAAAA");
        let b = secret("tok_BBBBBBBBBBBBBBBBBBBB");
        let text =
            "use tok_AAAAAAAAAAAAAAAA and tok_BBBBBBBBBBBBBBBBBBBB, again tok_AAAAAAAAAAAAAAAA";
        assert_eq!(
            mask(text, &[&a, &b]).unwrap(),
            "use tok_…(20 chars) and tok_…(24 chars), again tok_…(20 chars)"
        );
        assert_eq!(mask("nothing here", &[&a]), None);
        assert_eq!(mask("tok_", &[&secret("")]), None);
    }

    #[test]
    fn overlapping_secrets_are_hidden_whole() {
        let a = secret("abcdefghij");
        let b = secret("ghijklmnop");
        let out = mask("x abcdefghijklmnop y", &[&a, &b]).unwrap();
        assert_eq!(out, "x abc…(10 chars) y");
        assert!(!out.contains("klmnop") && !out.contains("defghij"));
    }

    #[test]
    fn a_secret_cut_inside_a_character_widens_to_the_whole_character() {
        // A value that starts inside a multi-byte character (é is C3 A9).
        let s = Secret::new(vec![0xA9, b'x', b'y', b'z'], 0);
        let out = mask("caféxyz!", &[&s]).unwrap();
        assert_eq!(out, "caf…(redacted)!");
    }

    #[test]
    fn masked_text_shows_the_mask_until_revealed() {
        let a = secret("tok_AAAAAAAAAAAAAAAA");
        let mut t = MaskedText::new("fix tok_AAAAAAAAAAAAAAAA", &[&a]);
        for shown in [
            t.to_string(),
            format!("{t:?}"),
            serde_json::to_string(&t).unwrap(),
            t.as_str().to_string(),
            (*t).to_string(),
        ] {
            assert!(!shown.contains("AAAA"), "{shown}");
        }
        assert_eq!(t.raw(), "fix tok_AAAAAAAAAAAAAAAA");
        t.reveal();
        assert_eq!(t.to_string(), "fix tok_AAAAAAAAAAAAAAAA");
        assert!(!format!("{t:?}").contains("AAAA"));
    }
}
