//! Folding the scan back onto history: per-blob findings and problems turned into one
//! finding per (rule, secret fingerprint, path), with its provenance.
//!
//! Owns: choosing the occurrence in the earliest blob that held a secret at a path, summing
//! the commits that hold it, HEAD-only places, every path a secret is seen at, the
//! introducing commit's facts (read only for the commits that introduced a finding), unread
//! blobs named by the path that introduced them, and the final order of the findings.
//!
//! Does not own: where blobs sit in history (provenance), or finding and reading them
//! (scan).

use super::provenance::Carry;
use super::scan::Problem;
use super::walk::CommitNode;
use super::{HistoryScan, UNREACHABLE, UNREACHABLE_PATH};
use crate::budget::Limits;
use crate::paths::{PathId, PathInterner};
use crate::repo::{self, Skipped};
use crate::GitError;
use git2::{Oid, Repository};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use unleak_core::{
    finding_bytes, Allowance, Bytes, CommitFacts, Finding, Fingerprint, GitProvenance, Origin,
};

fn path_of(paths: &PathInterner, id: PathId) -> String {
    if id == UNREACHABLE {
        UNREACHABLE_PATH.to_string()
    } else {
        paths.path(id)
    }
}

/// Turn unread blobs into `skipped` and `errors`, each named with the path that
/// introduced it.
pub(super) fn report_problems(
    shown: &Path,
    problems: Vec<(Oid, Problem)>,
    places: &HashMap<Oid, Vec<(PathId, Carry)>>,
    paths: &PathInterner,
    limits: &Limits,
    out: &mut HistoryScan,
) {
    for (oid, problem) in problems {
        let at = places
            .get(&oid)
            .and_then(|p| p.first())
            .map(|(id, _)| path_of(paths, *id));
        match problem {
            Problem::TooLarge(size) => out.skipped.push(Skipped {
                what: match &at {
                    Some(p) => format!("blob {oid} (at `{p}`)"),
                    None => format!("blob {oid}"),
                },
                why: if size <= limits.max_blob_flag {
                    format!(
                        "{size} bytes, over the {} a worker may hold within --memory-budget \
                         (raise it, or lower --threads)",
                        Bytes(limits.max_blob)
                    )
                } else {
                    format!("{size} bytes, over the blob size limit")
                },
            }),
            Problem::Archive(member, reason) => out.skipped.push(Skipped {
                what: match (&at, member.is_empty()) {
                    (Some(p), true) => format!("blob {oid} (at `{p}`)"),
                    (Some(p), false) => format!("blob {oid} (at `{p}!{member}`)"),
                    (None, true) => format!("blob {oid}"),
                    (None, false) => format!("blob {oid} (member `{member}`)"),
                },
                why: reason.to_string(),
            }),
            Problem::Failed(message) => out.errors.push(GitError::Object {
                repo: shown.to_path_buf(),
                kind: "blob",
                oid: oid.to_string(),
                path: at,
                message,
            }),
        }
    }
}

/// One finding per (rule, fingerprint, path) across history.
struct Folded {
    /// The occurrence in the earliest blob that held the secret at this path.
    finding: Finding,
    blob: Oid,
    first: u32,
    commits: u64,
    in_head: bool,
}

/// Fold per-blob findings into one per (rule, fingerprint, path). Each folded finding is
/// charged to `allowance` as it is made; `Err` carries how many were kept when it ran out.
pub(super) fn fold_findings(
    repo: &Repository,
    found: Vec<(Oid, Vec<Finding>)>,
    places: &HashMap<Oid, Vec<(PathId, Carry)>>,
    paths: &PathInterner,
    commits: &[CommitNode],
    allowance: &Allowance,
) -> Result<Vec<Finding>, u64> {
    type Key = (Arc<str>, Fingerprint, PathId);
    let mut folded: HashMap<Key, Folded> = HashMap::new();
    // HEAD-only places (outside the walked commits) can only mark what the walk found.
    let mut head_only: Vec<Key> = Vec::new();
    for (oid, unique) in found {
        let Some(places) = places.get(&oid) else {
            continue;
        };
        for &(path, carry) in places {
            for f in &unique {
                let key = (f.rule_id.clone(), f.fingerprint.clone(), path);
                if carry.commits == 0 && path != UNREACHABLE {
                    if carry.in_head {
                        head_only.push(key);
                    }
                    continue;
                }
                let slot = folded.entry(key).or_insert_with(|| Folded {
                    finding: f.clone(),
                    blob: oid,
                    first: carry.first,
                    commits: 0,
                    in_head: false,
                });
                if carry.first < slot.first {
                    slot.finding = f.clone();
                    slot.blob = oid;
                    slot.first = carry.first;
                }
                slot.commits += carry.commits;
                slot.in_head |= carry.in_head;
            }
        }
    }
    for key in head_only {
        if let Some(slot) = folded.get_mut(&key) {
            slot.in_head = true;
        }
    }

    let mut all_paths: HashMap<(Arc<str>, Fingerprint), BTreeSet<String>> = HashMap::new();
    for (rule, fingerprint, path) in folded.keys() {
        all_paths
            .entry((rule.clone(), fingerprint.clone()))
            .or_default()
            .insert(path_of(paths, *path));
    }
    let mut authors: HashMap<u32, CommitFacts> = HashMap::new();
    let mut findings: Vec<Finding> = Vec::with_capacity(folded.len());
    for ((rule, fingerprint, path), slot) in folded {
        let f = {
            let introduced = authors
                .entry(slot.first)
                .or_insert_with(|| introduced(repo, commits, slot.first))
                .clone();
            let mut f = slot.finding;
            // A member of an archive blob keeps its member chain inside the blob's path.
            f.path = std::mem::replace(&mut f.path, Origin::Stdin).rebase(Origin::Git {
                blob_id: slot.blob.to_string(),
                path: PathBuf::from(path_of(paths, path)),
            });
            let paths = all_paths[&(rule, fingerprint)].iter().cloned().collect();
            let secrets = [&f.secret];
            f.git = Some(GitProvenance::new(
                introduced,
                paths,
                slot.commits as usize,
                slot.in_head,
                &secrets,
            ));
            f
        };
        if !allowance.take(finding_bytes(&f)) {
            return Err(findings.len() as u64);
        }
        findings.push(f);
    }
    // The secrets of one blob or one commit are masked in each other's paths and texts.
    unleak_core::hide_shared(&mut findings);
    findings.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    Ok(findings)
}

fn introduced(repo: &Repository, commits: &[CommitNode], index: u32) -> CommitFacts {
    match commits.get(index as usize) {
        Some(node) => repo::commit_facts(repo, node.id),
        None => CommitFacts::default(),
    }
}
