//! Carrying a plan out: drift checks, reading values for the vault, and atomic rewrites.
//!
//! Owns: re-reading each planned file, refusing when it changed since planning (its
//! masked checksum differs, or a planned secret is no longer where the plan says, which
//! the caller's re-scan tells), applying the edits, and writing every changed file with
//! [`unleak_atomic`] so a reader sees the old file or the new one, never a mix. Values for
//! the vault are read from the checked bytes and live only in memory, inside [`Secret`].
//! Does not own: scanning (the caller passes a re-scan function) or talking to a vault
//! (`vault`).

use crate::model::{Edit, Plan, PlannedFile, ValueSource, VaultPointer};
use crate::planner::checksum;
use crate::text::{percent_decode, Lines};
use crate::MigrateError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unleak_core::{Finding, Secret};

/// Apply sorted, non-overlapping edits.
pub(crate) fn apply_edits(data: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut pos = 0;
    for e in edits {
        out.extend_from_slice(&data[pos..e.start]);
        out.extend_from_slice(e.replacement.as_bytes());
        pos = e.end;
    }
    out.extend_from_slice(&data[pos..]);
    out
}

/// The stored value a source describes: its prefix, then the span (percent-decoded when
/// marked so).
pub(crate) fn extract_value(data: &[u8], src: &ValueSource) -> Vec<u8> {
    let raw = &data[src.start.min(data.len())..src.end.min(data.len())];
    let mut out = src.prefix.as_bytes().to_vec();
    if src.percent_decode {
        out.extend_from_slice(&percent_decode(raw));
    } else {
        out.extend_from_slice(raw);
    }
    out
}

/// A checked plan, ready to seed and write.
pub struct Prepared {
    pub files: Vec<PreparedFile>,
    /// Values for the vault, in plan order.
    pub values: Vec<(VaultPointer, Secret)>,
}

pub struct PreparedFile {
    /// The path as the plan names it.
    pub path: String,
    /// Where it is on disk.
    pub disk_path: PathBuf,
    pub new: Vec<u8>,
    pub changed: bool,
}

/// Check every planned file under `root` against the plan and compute the new contents.
/// `rescan(path, bytes)` must return the findings in `bytes`; each planned secret must
/// still be found at its planned span by the same rule.
pub fn prepare(
    plan: &Plan,
    root: &Path,
    rescan: &dyn Fn(&str, &[u8]) -> Vec<Finding>,
) -> Result<Prepared, MigrateError> {
    let mut data: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let mut files = Vec::new();
    for file in &plan.files {
        let disk_path = root.join(&file.path);
        let bytes = std::fs::read(&disk_path).map_err(|source| MigrateError::Read {
            path: disk_path.clone(),
            source,
        })?;
        validate(file, &bytes)?;
        if checksum(&bytes, &file.masked) != file.checksum {
            return Err(MigrateError::Drift {
                path: file.path.clone(),
                detail: "its content outside the planned secrets differs".into(),
            });
        }
        let found = rescan(&file.path, &bytes);
        let lines = Lines::new(&bytes);
        for m in &file.masked {
            let there = found.iter().any(|f| {
                *f.rule_id == *m.rule_id && f.span.start == m.start && f.span.end == m.end
            });
            if !there {
                return Err(MigrateError::Drift {
                    path: file.path.clone(),
                    detail: format!(
                        "the {} secret planned on line {} is no longer there",
                        m.rule_id,
                        lines.line_of(m.start) + 1
                    ),
                });
            }
        }
        let new = apply_edits(&bytes, &file.edits);
        files.push(PreparedFile {
            path: file.path.clone(),
            disk_path,
            changed: new != bytes,
            new,
        });
        data.insert(&file.path, bytes);
    }
    let mut values = Vec::new();
    for w in &plan.vault_writes {
        let bytes = data
            .get(w.source.file.as_str())
            .ok_or_else(|| MigrateError::PlanFormat {
                message: format!(
                    "vault write {} reads {}, which is not a planned file",
                    w.pointer.display(),
                    w.source.file
                ),
            })?;
        if w.source.start > w.source.end || w.source.end > bytes.len() {
            return Err(MigrateError::PlanFormat {
                message: format!(
                    "vault write {} points outside {}",
                    w.pointer.display(),
                    w.source.file
                ),
            });
        }
        values.push((
            w.pointer.clone(),
            Secret::new(extract_value(bytes, &w.source), 0),
        ));
    }
    Ok(Prepared { files, values })
}

/// Reject plans whose spans do not fit the file (a hand-edited or foreign plan).
fn validate(file: &PlannedFile, bytes: &[u8]) -> Result<(), MigrateError> {
    let bad = |what: &str| MigrateError::PlanFormat {
        message: format!("{}: {what}", file.path),
    };
    let mut pos = 0;
    for e in &file.edits {
        if e.start < pos || e.end < e.start || e.end > bytes.len() {
            return Err(bad(
                "edits overlap, are out of order or lie past the end of the file",
            ));
        }
        pos = e.end;
    }
    if file
        .masked
        .iter()
        .any(|m| m.start > m.end || m.end > bytes.len())
    {
        return Err(bad("a masked span lies past the end of the file"));
    }
    Ok(())
}

/// Write every changed file atomically (permissions kept). Returns the paths written.
pub fn write_files(prepared: &Prepared) -> Result<Vec<String>, MigrateError> {
    let mut written = Vec::new();
    for f in prepared.files.iter().filter(|f| f.changed) {
        unleak_atomic::write_atomic(&f.disk_path, &f.new)?;
        written.push(f.path.clone());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_prefix_and_decoding() {
        let data = b"x=p%40ss y";
        let src = ValueSource {
            file: "f".into(),
            start: 2,
            end: 8,
            prefix: "Bearer ".into(),
            percent_decode: true,
        };
        assert_eq!(extract_value(data, &src), b"Bearer p@ss");
    }

    #[test]
    fn edits_apply_in_order() {
        let e = |s, en, r: &str| Edit {
            start: s,
            end: en,
            replacement: r.into(),
            findings: vec![],
        };
        assert_eq!(
            apply_edits(b"abcdef", &[e(0, 0, ">"), e(1, 3, "X"), e(6, 6, "!")]),
            b">aXdef!"
        );
    }
}
