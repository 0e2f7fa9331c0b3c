//! The baseline file: secrets a team has accepted as known, by keyed fingerprint.
//!
//! Owns: the `.unleak-baseline.json` format, reading it strictly (only a regular file of at
//! most [`MAX_BASELINE_FILE`] bytes; a malformed file or one from a newer unleak is an
//! error naming the file and place without quoting it, never an empty baseline), writing it
//! atomically and byte-for-byte reproducibly, and the per-repository fingerprint key.
//!
//! The format is made to merge: one entry per line, sorted by path, rule and fingerprint,
//! and nothing that changes on its own (no timestamps, line numbers, commit ids or tool
//! version). Two branches that each add an entry for a different file touch different
//! lines, so git merges them without a conflict in the common case. No secret value is
//! stored, and the fingerprints are keyed with `key`, a random salt made once per
//! repository, so a fingerprint of a weak password cannot be looked up in a table made for
//! every repository.
//!
//! ```json
//! {
//!   "version": 3,
//!   "key": "5b0e…(64 hex digits)",
//!   "entries": [
//!     {"path": "config/app.env", "rule": "stripe-live-secret-key", "fingerprint": "8c1f…(32)"},
//!     {"path": "deploy/values.yaml", "rule": "github-pat-classic", "fingerprint": "03aa…(32)"}
//!   ]
//! }
//! ```
//!
//! Version 2 and later fingerprint passwords and other short values with a slow hash (see
//! `unleak_core::Fingerprint::of`). Version 3 runs that hash as four chains side by side,
//! at the same cost to a guesser. A version 2 file is still read: its slow entries are
//! matched through `Fingerprint::legacy_v2` (see `verdict::judge`), and the next write
//! makes it version 3. A version 1 file is refused with an error saying to run `unleak
//! baseline create`, which rewrites it: its entries of such values are fast to guess from,
//! and could not match again anyway.
//!
//! Does not own: deciding what is new, known or fixed (verdict).

use crate::BaselineError;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::Path;
use unleak_core::{Finding, Fingerprint, FingerprintKey};

/// The file name `baseline` commands write at a repository root.
pub const BASELINE_FILE: &str = ".unleak-baseline.json";
/// The format version this unleak writes and reads.
pub const BASELINE_VERSION: u64 = 3;
/// The oldest version read: its slow fingerprints are the version 2 form.
const LEGACY_VERSION: u64 = 2;
/// Largest baseline read: 32 MiB, some 250,000 entries.
pub const MAX_BASELINE_FILE: u64 = 32 << 20;
/// Random bytes in a key (shown as twice as many hex digits).
const KEY_BYTES: usize = 32;

/// One accepted secret at one path. Sorted by path, then rule, then fingerprint.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct Entry {
    /// The path, relative to the repository root.
    pub path: String,
    /// The rule id.
    pub rule: String,
    /// The secret's fingerprint, keyed with the baseline's key.
    pub fingerprint: Fingerprint,
}

impl Entry {
    /// The entry for `finding` at `path` (relative to the repository root).
    pub fn of(finding: &Finding, path: &str) -> Entry {
        Entry {
            path: path.to_string(),
            rule: finding.rule_id.to_string(),
            fingerprint: finding.fingerprint.clone(),
        }
    }
}

/// A loaded or new baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Baseline {
    /// Lower-case hex of the key bytes.
    key: String,
    entries: BTreeSet<Entry>,
    /// Read from a version 2 file: slow entries hold `Fingerprint::legacy_v2`.
    legacy: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBaseline {
    version: u64,
    key: String,
    entries: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    path: String,
    rule: String,
    fingerprint: String,
}

impl Baseline {
    /// An empty baseline with a fresh random key.
    pub fn with_random_key() -> Result<Baseline, BaselineError> {
        let mut bytes = [0u8; KEY_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| BaselineError::Random(e.to_string()))?;
        Ok(Baseline {
            key: bytes.iter().map(|b| format!("{b:02x}")).collect(),
            entries: BTreeSet::new(),
            legacy: false,
        })
    }

    /// The salt the matcher must fingerprint with so findings compare with these entries.
    pub fn fingerprint_key(&self) -> FingerprintKey {
        FingerprintKey::new(self.key.as_bytes())
    }

    /// The accepted secrets, sorted.
    pub fn entries(&self) -> &BTreeSet<Entry> {
        &self.entries
    }

    /// Whether this was read from a version 2 file, whose slow entries hold the old form
    /// (`Fingerprint::legacy_v2`). Writing it makes it version 3.
    pub fn is_legacy(&self) -> bool {
        self.legacy
    }

    /// This baseline with each legacy entry that one of `findings` matches through
    /// `Fingerprint::legacy_v2` given that finding's current fingerprint, so it compares
    /// like a version 3 entry. A version 3 baseline comes back unchanged.
    pub fn upgraded_for(&self, findings: &[Finding]) -> Baseline {
        let mut out = self.clone();
        if !self.legacy {
            return out;
        }
        // What is written from here on is the current format.
        out.legacy = false;
        let key = self.fingerprint_key();
        let mut old_to_new: std::collections::BTreeMap<(&str, Fingerprint), &Fingerprint> =
            Default::default();
        let current: BTreeSet<(&str, &Fingerprint)> = self
            .entries
            .iter()
            .map(|e| (e.rule.as_str(), &e.fingerprint))
            .collect();
        for f in findings {
            if current.contains(&(&*f.rule_id, &f.fingerprint)) {
                continue;
            }
            if let Some(old) = Fingerprint::legacy_v2(&key, &f.rule_id, &f.secret) {
                old_to_new.insert((&*f.rule_id, old), &f.fingerprint);
            }
        }
        out.entries = self
            .entries
            .iter()
            .map(
                |e| match old_to_new.get(&(e.rule.as_str(), e.fingerprint.clone())) {
                    Some(new) => Entry {
                        fingerprint: (*new).clone(),
                        ..e.clone()
                    },
                    None => e.clone(),
                },
            )
            .collect();
        out
    }

    /// Add an entry; `false` if it was already there.
    pub fn insert(&mut self, entry: Entry) -> bool {
        self.entries.insert(entry)
    }

    /// Remove an entry; `false` if it was not there.
    pub fn remove(&mut self, entry: &Entry) -> bool {
        self.entries.remove(entry)
    }

    /// Drop every entry, keeping the key.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// Read `file`; `Ok(None)` when it does not exist.
    pub fn load_optional(file: &Path) -> Result<Option<Baseline>, BaselineError> {
        match unleak_read::read(file, MAX_BASELINE_FILE) {
            Ok(bytes) => Baseline::parse(file, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(BaselineError::Read {
                file: file.to_path_buf(),
                source,
            }),
        }
    }

    /// Read `file`, which must exist.
    pub fn load(file: &Path) -> Result<Baseline, BaselineError> {
        let bytes =
            unleak_read::read(file, MAX_BASELINE_FILE).map_err(|source| BaselineError::Read {
                file: file.to_path_buf(),
                source,
            })?;
        Baseline::parse(file, &bytes)
    }

    /// Parse the bytes of the baseline `file` (named in errors).
    pub fn parse(file: &Path, bytes: &[u8]) -> Result<Baseline, BaselineError> {
        let malformed = |line: Option<usize>, message: String| BaselineError::Malformed {
            file: file.to_path_buf(),
            line,
            column: None,
            key: None,
            message,
        };
        let json_err = |e: serde_json::Error, key: Option<String>| BaselineError::Malformed {
            file: file.to_path_buf(),
            line: Some(e.line()).filter(|l| *l > 0),
            column: Some(e.column()).filter(|c| *c > 0),
            key,
            message: json_message(&e),
        };
        // A merge that both branches' new entries conflicted on: say so, not "expected value".
        if let Some(line) = conflict_marker_line(bytes) {
            return Err(malformed(
                Some(line),
                "git merge-conflict markers: take either side's file, then run `unleak baseline update`".into(),
            ));
        }
        // The version decides how to read the rest, so it is checked before the schema.
        let value: serde_json::Value =
            serde_json::from_slice(bytes).map_err(|e| json_err(e, None))?;
        match value.get("version").map(|v| v.as_u64()) {
            Some(Some(v)) if v > BASELINE_VERSION => {
                return Err(BaselineError::Newer {
                    file: file.to_path_buf(),
                    version: v,
                    supported: BASELINE_VERSION,
                })
            }
            Some(Some(v)) if v == BASELINE_VERSION || v == LEGACY_VERSION => {}
            Some(Some(v @ 1)) => {
                return Err(BaselineError::Outdated {
                    file: file.to_path_buf(),
                    version: v,
                })
            }
            Some(_) => {
                return Err(malformed(
                    None,
                    format!("`version` must be {BASELINE_VERSION}"),
                ))
            }
            None => return Err(malformed(None, "no `version` field".into())),
        }
        let raw: RawBaseline =
            serde_json::from_slice(bytes).map_err(|e| json_err(e, refused_key(&value)))?;
        let legacy = raw.version == LEGACY_VERSION;
        if raw.key.len() != KEY_BYTES * 2
            || !raw
                .key
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(malformed(
                None,
                format!("`key` must be {} lower-case hex digits", KEY_BYTES * 2),
            ));
        }
        let mut entries = BTreeSet::new();
        for (i, e) in raw.entries.into_iter().enumerate() {
            let bad = |what: &str| malformed(None, format!("entry {i}: {what}"));
            let fingerprint = Fingerprint::parse(&e.fingerprint)
                .ok_or_else(|| bad("`fingerprint` must be 32 lower-case hex digits"))?;
            if e.path.is_empty() {
                return Err(bad("`path` is empty"));
            }
            if e.rule.is_empty() {
                return Err(bad("`rule` is empty"));
            }
            entries.insert(Entry {
                path: e.path,
                rule: e.rule,
                fingerprint,
            });
        }
        Ok(Baseline {
            key: raw.key,
            entries,
            legacy,
        })
    }

    /// The file's bytes: the same baseline always gives the same bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let q = |s: &str| serde_json::to_string(s).expect("strings serialize");
        let mut out = format!(
            "{{\n  \"version\": {BASELINE_VERSION},\n  \"key\": {},\n  \"entries\": [",
            q(&self.key)
        );
        for (i, e) in self.entries.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            out.push_str(&format!(
                "    {{\"path\": {}, \"rule\": {}, \"fingerprint\": {}}}",
                q(&e.path),
                q(&e.rule),
                q(e.fingerprint.as_str())
            ));
        }
        if !self.entries.is_empty() {
            out.push_str("\n  ");
        }
        out.push_str("]\n}\n");
        out.into_bytes()
    }

    /// Write the baseline to `file` atomically.
    pub fn save(&self, file: &Path) -> Result<(), BaselineError> {
        unleak_atomic::write_atomic(file, &self.to_bytes()).map_err(|source| BaselineError::Write {
            file: file.to_path_buf(),
            source,
        })
    }
}

/// The first key of a baseline that the schema refuses, to name it in the error.
fn refused_key(value: &serde_json::Value) -> Option<String> {
    const ENTRY: [&str; 3] = ["path", "rule", "fingerprint"];
    let top = value.as_object()?;
    for (k, v) in top {
        match k.as_str() {
            "version" => {}
            "key" if !v.is_string() => return Some(k.clone()),
            "key" => {}
            "entries" => {
                let Some(items) = v.as_array() else {
                    return Some(k.clone());
                };
                for (i, item) in items.iter().enumerate() {
                    let Some(fields) = item.as_object() else {
                        return Some(format!("entries[{i}]"));
                    };
                    let bad = ENTRY
                        .iter()
                        .find(|f| !fields.get(**f).is_some_and(serde_json::Value::is_string))
                        .map(|f| f.to_string())
                        .or_else(|| {
                            fields
                                .keys()
                                .find(|f| !ENTRY.contains(&f.as_str()))
                                .cloned()
                        });
                    if let Some(f) = bad {
                        return Some(format!("entries[{i}].{f}"));
                    }
                }
            }
            _ => return Some(k.clone()),
        }
    }
    ["key", "entries"]
        .iter()
        .find(|k| !top.contains_key(**k))
        .map(|k| k.to_string())
}

/// serde_json's message without its ` at line L column C` (the error carries those) and
/// without what it quotes from the file.
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    unleak_rules::parse_error::without_input(text.strip_suffix(&suffix).unwrap_or(&text))
}

/// The 1-based line of the first git conflict marker (`<<<<<<< `, `=======`,
/// `>>>>>>> ` at a line start), if any.
fn conflict_marker_line(bytes: &[u8]) -> Option<usize> {
    bytes
        .split(|&b| b == b'\n')
        .position(|l| {
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            l.starts_with(b"<<<<<<< ") || l == b"=======" || l.starts_with(b">>>>>>> ")
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(c: char) -> Fingerprint {
        Fingerprint::parse(&c.to_string().repeat(32)).unwrap()
    }

    fn sample() -> Baseline {
        let mut b = Baseline::with_random_key().unwrap();
        b.insert(Entry {
            path: "z/\"quoted\".env".into(),
            rule: "r1".into(),
            fingerprint: fp('b'),
        });
        b.insert(Entry {
            path: "a.env".into(),
            rule: "r2".into(),
            fingerprint: fp('a'),
        });
        b
    }

    #[test]
    fn merge_conflict_markers_are_named_with_their_line() {
        let text =
            "{\n  \"version\": 3,\n<<<<<<< HEAD\n  \"entries\": []\n=======\n>>>>>>> topic\n}\n";
        let err = Baseline::parse(Path::new("b.json"), text.as_bytes()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("b.json:3") && msg.contains("merge-conflict"),
            "{msg}"
        );
        assert_eq!(conflict_marker_line(b"{\n\"a\": \"=======x\"\n}"), None);
    }

    #[test]
    fn round_trips_to_identical_bytes_sorted_one_entry_per_line() {
        let b = sample();
        let bytes = b.to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "{");
        assert_eq!(lines[1], "  \"version\": 3,");
        assert!(
            lines[4].contains("\"a.env\"") && lines[5].contains("quoted"),
            "{text}"
        );
        assert_eq!(lines.len(), 8);
        let again = Baseline::parse(Path::new("b.json"), &bytes).unwrap();
        assert_eq!(again, b);
        assert_eq!(again.to_bytes(), bytes);
        assert_eq!(again.fingerprint_key(), b.fingerprint_key());
    }

    #[test]
    fn an_empty_baseline_is_valid_json_and_reads_back() {
        let b = Baseline::with_random_key().unwrap();
        let bytes = b.to_bytes();
        assert!(String::from_utf8_lossy(&bytes).contains("\"entries\": []\n"));
        assert_eq!(Baseline::parse(Path::new("b"), &bytes).unwrap(), b);
    }

    #[test]
    fn keys_are_random_per_baseline() {
        let a = Baseline::with_random_key().unwrap();
        let b = Baseline::with_random_key().unwrap();
        assert_ne!(a.fingerprint_key(), b.fingerprint_key());
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let good = String::from_utf8(sample().to_bytes()).unwrap();
        let cases = [
            ("{\"version\": 2,", "malformed baseline x.json:1"),
            (
                &good.replace("\"version\": 3", "\"version\": 7") as &str,
                "version 7, newer",
            ),
            (
                &good.replace("\"version\": 3", "\"version\": \"3\""),
                "`version` must be 3",
            ),
            (
                &good.replace("\"version\": 3", "\"version\": 1"),
                "format version 1, whose fingerprints of passwords are fast to guess; \
                 run `unleak baseline create` to rewrite it",
            ),
            (
                &good.replace("\"path\": \"a.env\"", "\"path\": \"a.env\", \"line\": 3"),
                "key `entries[0].line`: unknown key",
            ),
            (
                &good.replace("aaaaaaaa", "AAAAAAAA"),
                "entry 0: `fingerprint`",
            ),
            (
                "{\"version\": 2, \"key\": \"ab\", \"entries\": []}",
                "`key` must be 64",
            ),
            ("[]", "no `version`"),
        ];
        for (text, want) in cases {
            let e = Baseline::parse(Path::new("x.json"), text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(e.contains("x.json") && e.contains(want), "{want}: {e}");
        }
    }

    #[test]
    fn errors_give_line_column_and_key_but_never_a_value() {
        let mark = "Zq7SECRETmark";
        let key = "ab".repeat(32);
        let cases = [
            (
                format!("{{\"version\": 2, \"key\": \"{key}\",\n \"entries\": \"{mark}\"}}"),
                "x.json:2:27: key `entries`: wrong type: found string, expected a sequence",
            ),
            (
                format!("{{\"version\": 2, \"key\": \"{key}\",\n \"entries\": [{mark}]}}"),
                "x.json:2:14: expected value",
            ),
            (
                format!("{{\"version\": 2, \"key\": \"{key}\", \"entries\": [\n{{\"path\": \"a\", \"rule\": 7, \"fingerprint\": \"{mark}\"}}]}}"),
                "key `entries[0].rule`: wrong type: found integer, expected a string",
            ),
            (
                format!("{{\"version\": 2, \"{mark}\": 2}}"),
                "x.json:1:30: key `Zq7SECRETmark`: unknown key, expected one of",
            ),
        ];
        for (text, want) in cases {
            let e = Baseline::parse(Path::new("x.json"), text.as_bytes())
                .unwrap_err()
                .to_string();
            assert!(e.contains(want), "{want}: {e}");
            // Keys are names and are named; no value is ever quoted.
            assert!(!e.replace("key `Zq7SECRETmark`", "").contains(mark), "{e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(BASELINE_FILE);
        std::os::unix::fs::symlink("/dev/stdin", &file).unwrap();
        let e = Baseline::load_optional(&file).unwrap_err();
        let why = std::error::Error::source(&e).unwrap().to_string();
        assert!(why.contains("not a regular file"), "{why}");
    }

    #[test]
    fn save_is_atomic_and_load_optional_sees_absence() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(BASELINE_FILE);
        assert!(Baseline::load_optional(&file).unwrap().is_none());
        let b = sample();
        b.save(&file).unwrap();
        assert_eq!(Baseline::load(&file).unwrap(), b);
        assert_eq!(std::fs::read(&file).unwrap(), b.to_bytes());
    }
}
