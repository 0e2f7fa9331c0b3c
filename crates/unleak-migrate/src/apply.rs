//! Carrying a plan out: drift checks, reading values for the vault, and atomic rewrites.
//!
//! Owns: re-reading each planned file, refusing when it changed since planning (its
//! masked checksum differs, or a planned secret is no longer where the plan says, which
//! the caller's re-scan tells), refusing a plan that names a path outside the root (or
//! reached through a symbolic link below it) or whose edits and vault sources are not the
//! ones migrate makes for these bytes, applying the edits, and writing every changed file
//! with [`unleak_atomic`] so a reader sees the old file or the new one, never a mix.
//! Values for the vault are read from the checked bytes and live only in memory, inside
//! [`Secret`]. Does not own: scanning (the caller passes a re-scan function) or talking
//! to a vault (`vault`).
//!
//! A plan.json is input like any other file: whoever can edit it could otherwise make
//! apply write anywhere, or write any text. So apply plans the checked files again from
//! the re-scan and carries out only what that plan says, which must be what plan.json says.

use crate::model::{Edit, Plan, PlannedFile, ValueSource, VaultPointer};
use crate::planner::{checksum, PlanOptions, SourceFile};
use crate::text::{base64_decode, percent_decode, Lines};
use crate::MigrateError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unleak_core::{Finding, Secret};
use unleak_rules::RuleSet;

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

/// The stored value a source describes: its prefix, then the span (percent- or
/// base64-decoded when marked so; text that is not base64 is kept as written).
pub(crate) fn extract_value(data: &[u8], src: &ValueSource) -> Vec<u8> {
    let raw = &data[src.start.min(data.len())..src.end.min(data.len())];
    let mut out = src.prefix.as_bytes().to_vec();
    if src.percent_decode {
        out.extend_from_slice(&percent_decode(raw));
    } else if src.base64_decode {
        out.extend_from_slice(&base64_decode(raw).unwrap_or_else(|| raw.to_vec()));
    } else {
        out.extend_from_slice(raw);
    }
    out
}

/// A checked plan, ready to seed and write.
pub struct Prepared {
    /// Every planned file with its new content, in plan order.
    pub files: Vec<PreparedFile>,
    /// Values for the vault, in plan order.
    pub values: Vec<(VaultPointer, Secret)>,
}

/// One planned file after its edits: where it is written and what it will hold.
pub struct PreparedFile {
    /// The path as the plan names it.
    pub path: String,
    /// The root it is under, and the path inside it (checked: no `..`, not absolute).
    root: PathBuf,
    rel: PathBuf,
    /// The content after the plan's edits.
    pub new: Vec<u8>,
    /// Whether the edits change the file (an unchanged file is not rewritten).
    pub changed: bool,
}

/// `path` from a plan, inside `root`: relative, not climbing out with `..`.
fn inside(path: &str) -> Result<PathBuf, MigrateError> {
    Ok(unleak_atomic::confine(Path::new(path))?)
}

/// Read `root/rel` without following a symbolic link, the file or a directory below root.
fn read_under(root: &Path, rel: &Path) -> Result<Vec<u8>, MigrateError> {
    let path = root.join(rel);
    let not_found = || MigrateError::Read {
        path: path.clone(),
        source: std::io::ErrorKind::NotFound.into(),
    };
    let parent = rel.parent().unwrap_or(Path::new(""));
    unleak_atomic::dir_under(root, parent, false)?.ok_or_else(not_found)?;
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(unleak_atomic::WriteError::Symlink { path }.into())
        }
        Ok(_) => {}
        Err(source) => return Err(MigrateError::Read { path, source }),
    }
    std::fs::read(&path).map_err(|source| MigrateError::Read { path, source })
}

/// Check every planned file under `root` against the plan and compute the new contents.
/// `rescan(path, bytes)` must return the findings in `bytes` (with `rules`); each planned
/// secret must still be found at its planned span by the same rule, and planning those
/// findings again must give the plan's edits and vault writes.
pub fn prepare(
    plan: &Plan,
    root: &Path,
    rules: &RuleSet,
    rescan: &dyn Fn(&str, &[u8]) -> Vec<Finding>,
) -> Result<Prepared, MigrateError> {
    for path in plan
        .findings
        .iter()
        .map(|f| &f.file)
        .chain(plan.vault_writes.iter().map(|w| &w.source.file))
    {
        inside(path)?;
    }
    let mut data: BTreeMap<&str, Vec<u8>> = BTreeMap::new();
    let mut planned: Vec<Vec<Finding>> = Vec::new();
    let mut files = Vec::new();
    for file in &plan.files {
        let rel = inside(&file.path)?;
        let bytes = read_under(root, &rel)?;
        validate(file, &bytes)?;
        if checksum(&bytes, &file.masked) != file.checksum {
            return Err(MigrateError::Drift {
                path: file.path.clone(),
                detail: "its content outside the planned secrets differs".into(),
            });
        }
        let found = rescan(&file.path, &bytes);
        let lines = Lines::new(&bytes);
        let mut these = Vec::new();
        for m in &file.masked {
            let there = found.iter().find(|f| {
                *f.rule_id == *m.rule_id && f.span.start == m.start && f.span.end == m.end
            });
            if let Some(f) = there {
                these.push(f.clone());
            } else {
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
        planned.push(these);
        let new = apply_edits(&bytes, &file.edits);
        files.push(PreparedFile {
            path: file.path.clone(),
            root: root.to_path_buf(),
            rel,
            changed: new != bytes,
            new,
        });
        data.insert(&file.path, bytes);
    }
    same_as_replanned(plan, &data, &planned, rules)?;
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

/// Plan the checked files again from their re-found secrets, with the plan's settings:
/// the edits and vault writes must come out the same, so apply writes only text migrate
/// itself makes, and stores only the spans it would store.
fn same_as_replanned(
    plan: &Plan,
    data: &BTreeMap<&str, Vec<u8>>,
    planned: &[Vec<Finding>],
    rules: &RuleSet,
) -> Result<(), MigrateError> {
    let sources: Vec<SourceFile<'_>> = plan
        .files
        .iter()
        .zip(planned)
        .map(|(f, found)| SourceFile {
            path: &f.path,
            data: &data[f.path.as_str()],
            findings: found,
        })
        .collect();
    let s = &plan.settings;
    let opts = PlanOptions {
        agent: s.agent.clone(),
        vault_mount: s.vault_mount.clone(),
        connection_prefix: s.connection_prefix.clone(),
        platform_prefix: s.platform_prefix.clone(),
        name_prefix: s.name_prefix.clone(),
        repo: s.repo.clone(),
        vault_namespace: s.vault_namespace.clone(),
        policy: s.policy.clone(),
        gateway_url: s.gateway_url.clone(),
    };
    let again = crate::planner::plan(&sources, &[], rules, &opts);
    if again.files == plan.files && again.vault_writes == plan.vault_writes {
        return Ok(());
    }
    let path = plan
        .files
        .iter()
        .find(|f| !again.files.contains(f))
        .map(|f| f.path.clone())
        .or_else(|| {
            plan.vault_writes
                .iter()
                .find(|w| !again.vault_writes.contains(w))
                .map(|w| w.source.file.clone())
        })
        .unwrap_or_else(|| {
            plan.files
                .first()
                .map(|f| f.path.clone())
                .unwrap_or_default()
        });
    Err(MigrateError::Tampered { path })
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
        unleak_atomic::write_atomic_under(&f.root, &f.rel, &f.new)?;
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
            base64_decode: false,
        };
        assert_eq!(extract_value(data, &src), b"Bearer p@ss");
    }

    /// Audit B2: a Secret's `data:` value was stored still base64-encoded.
    #[test]
    fn base64_values_are_stored_decoded() {
        let data = b"  db-password: SjR2UXo5UnQyTHc3S3A1WG04TmIzVmMx\n";
        let src = ValueSource {
            file: "f".into(),
            start: 15,
            end: 47,
            prefix: String::new(),
            percent_decode: false,
            base64_decode: true,
        };
        assert_eq!(extract_value(data, &src), b"J4vQz9Rt2Lw7Kp5Xm8Nb3Vc1");
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
