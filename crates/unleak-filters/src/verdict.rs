//! The guard's verdict: which findings are new, which are known, which known secrets are gone.
//!
//! Owns the baseline matching rules of the design:
//! - a finding whose `(path, rule, fingerprint)` is in the baseline is known, wherever its
//!   line moved inside the file;
//! - a finding whose `(rule, fingerprint)` is in the baseline at other paths is a move when
//!   the secret is gone from one of those paths (a rename or a move: known), and a spread
//!   when it still stands at all of them (new). With several new paths and fewer vacated
//!   ones, the first paths in sorted order take the vacated ones and the rest are new;
//! - anything else is new;
//! - a baseline entry whose secret no longer stands at its path, and which no move
//!   accounts for, is fixed;
//! - a version 2 baseline's entries of passwords match in their old form
//!   (`Baseline::upgraded_for`), so upgrading unleak does not make known passwords new.
//!
//! "Still stands" is a question about the whole snapshot being judged (the tree, the HEAD
//! commit of a range, the index), which a diff does not answer, so the caller supplies it.
//!
//! Does not own: scanning, reading snapshots, or printing.

use crate::baseline::{Baseline, Entry};
use std::collections::{BTreeMap, BTreeSet};
use unleak_core::{Finding, Fingerprint};

/// A finding the baseline does not cover.
#[derive(Debug)]
pub struct NewFinding {
    /// The finding.
    pub finding: Finding,
    /// When the secret is known but spread to this path: the baseline paths where it
    /// still stands. Empty for a secret the baseline has never seen.
    pub spread_from: Vec<String>,
}

/// A known secret that now stands at another path than its baseline entry.
#[derive(Debug)]
pub struct MovedFinding {
    /// The finding.
    pub finding: Finding,
    /// The baseline path it left.
    pub from: String,
}

/// The guard's answer for one snapshot.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Not covered by the baseline: these fail the guard.
    pub new: Vec<NewFinding>,
    /// Known at the same path.
    pub known: Vec<Finding>,
    /// Known, moved or renamed from another path.
    pub moved: Vec<MovedFinding>,
    /// Baseline entries whose secret no longer stands at their path.
    pub fixed: Vec<Entry>,
}

/// Judge `findings` (already filtered by allowlists and inline comments) against
/// `baseline`. `path_of` gives a finding's path as baseline entries write it;
/// `still_stands` says whether an entry's secret is still at its path in the snapshot
/// (regardless of allowlists).
pub fn judge(
    baseline: &Baseline,
    findings: Vec<Finding>,
    path_of: impl Fn(&Finding) -> String,
    still_stands: impl Fn(&Entry) -> bool,
) -> Verdict {
    // A version 2 file's password entries are matched in their old form.
    let upgraded;
    let baseline = if baseline.is_legacy() {
        upgraded = baseline.upgraded_for(&findings);
        &upgraded
    } else {
        baseline
    };
    // (rule, fingerprint) → the baseline paths holding it.
    let mut known_at: BTreeMap<(&str, &Fingerprint), BTreeSet<&str>> = BTreeMap::new();
    for e in baseline.entries() {
        known_at
            .entry((e.rule.as_str(), &e.fingerprint))
            .or_default()
            .insert(e.path.as_str());
    }

    // New paths of known secrets, per secret.
    let paths: Vec<String> = findings.iter().map(&path_of).collect();
    let mut elsewhere: BTreeMap<(&str, &Fingerprint), BTreeSet<&str>> = BTreeMap::new();
    for (f, path) in findings.iter().zip(&paths) {
        if let Some(at) = known_at.get(&(&*f.rule_id, &f.fingerprint)) {
            if !at.contains(path.as_str()) {
                elsewhere
                    .entry((&*f.rule_id, &f.fingerprint))
                    .or_default()
                    .insert(path.as_str());
            }
        }
    }
    // Pair each new path with a vacated baseline path, in sorted order.
    let mut moved_from: BTreeMap<((&str, &Fingerprint), &str), &str> = BTreeMap::new();
    let mut spread: BTreeMap<((&str, &Fingerprint), &str), Vec<String>> = BTreeMap::new();
    let mut used: BTreeSet<(&str, &str, &Fingerprint)> = BTreeSet::new();
    for (key, new_paths) in &elsewhere {
        let at = &known_at[key];
        let entry = |p: &str| Entry {
            path: p.to_string(),
            rule: key.0.to_string(),
            fingerprint: key.1.clone(),
        };
        let (standing, vacated): (Vec<&str>, Vec<&str>) =
            at.iter().partition(|p| still_stands(&entry(p)));
        let mut vacated = vacated.into_iter();
        for &p in new_paths {
            match vacated.next() {
                Some(from) => {
                    moved_from.insert((*key, p), from);
                    used.insert((from, key.0, key.1));
                }
                None => {
                    let still: Vec<String> = standing.iter().map(|s| s.to_string()).collect();
                    spread.insert((*key, p), still);
                }
            }
        }
    }

    let mut verdict = Verdict::default();
    let mut moves = Vec::new();
    let mut news = Vec::new();
    for (f, path) in findings.iter().zip(&paths) {
        let key = (&*f.rule_id, &f.fingerprint);
        let class = match known_at.get(&key) {
            Some(at) if at.contains(path.as_str()) => Class::Known,
            Some(_) => match moved_from.get(&(key, path.as_str())) {
                Some(from) => Class::Moved(from.to_string()),
                None => Class::New(
                    spread
                        .get(&(key, path.as_str()))
                        .cloned()
                        .unwrap_or_default(),
                ),
            },
            None => Class::New(Vec::new()),
        };
        match class {
            Class::Known => verdict.known.push(f.clone()),
            Class::Moved(from) => moves.push((f.clone(), from)),
            Class::New(spread_from) => news.push((f.clone(), spread_from)),
        }
    }
    verdict.moved = moves
        .into_iter()
        .map(|(finding, from)| MovedFinding { finding, from })
        .collect();
    verdict.new = news
        .into_iter()
        .map(|(finding, spread_from)| NewFinding {
            finding,
            spread_from,
        })
        .collect();
    verdict.fixed = baseline
        .entries()
        .iter()
        .filter(|e| !used.contains(&(e.path.as_str(), e.rule.as_str(), &e.fingerprint)))
        .filter(|e| !still_stands(e))
        .cloned()
        .collect();
    verdict
}

enum Class {
    Known,
    Moved(String),
    New(Vec<String>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::tests::finding;
    use unleak_core::Confidence;

    fn baseline(entries: &[(&str, &str)]) -> Baseline {
        let mut b = Baseline::with_random_key().unwrap();
        for (path, value) in entries {
            b.insert(Entry::of(
                &finding(path, value, Confidence::High, false),
                path,
            ));
        }
        b
    }

    fn judge_tree(b: &Baseline, now: &[(&str, &str)]) -> Verdict {
        let findings: Vec<Finding> = now
            .iter()
            .map(|(p, v)| finding(p, v, Confidence::High, false))
            .collect();
        let present: BTreeSet<Entry> = findings
            .iter()
            .map(|f| Entry::of(f, &f.path.display_path()))
            .collect();
        judge(
            b,
            findings,
            |f| f.path.display_path().into_owned(),
            |e| present.contains(e),
        )
    }

    #[test]
    fn a_version_2_baseline_still_knows_its_passwords() {
        use unleak_core::{Fingerprint, Secret};
        let key = "ab".repeat(32);
        let fkey = unleak_core::FingerprintKey::new(key.as_bytes());
        let password = "Kq7#mWz2pLr9Tx4";
        let secret = Secret::new(password.as_bytes().to_vec(), 0);
        let old = Fingerprint::legacy_v2(&fkey, "demo", &secret).unwrap();
        let file = format!(
            "{{\"version\": 2, \"key\": \"{key}\", \"entries\": [\
             {{\"path\": \"a.env\", \"rule\": \"demo\", \"fingerprint\": \"{old}\"}}, \
             {{\"path\": \"gone.env\", \"rule\": \"demo\", \"fingerprint\": \"{}\"}}]}}",
            "0".repeat(32)
        );
        let b = Baseline::parse(std::path::Path::new("b.json"), file.as_bytes()).unwrap();
        assert!(b.is_legacy());
        let mut now = finding("a.env", password, Confidence::High, false);
        now.fingerprint = Fingerprint::of(&fkey, "demo", &now.secret);
        assert_ne!(now.fingerprint, old, "the slow form changed in version 3");
        let mut elsewhere = now.clone();
        elsewhere.path = unleak_core::Origin::File("b.env".into());
        let v = judge(
            &b,
            vec![now.clone(), elsewhere],
            |f| f.path.display_path().into_owned(),
            |e| e.path == "a.env",
        );
        assert_eq!(v.known.len(), 1, "{v:?}");
        assert_eq!(paths_new(&v), ["b.env"], "a copy is still a spread");
        assert_eq!(v.fixed.len(), 1);
        assert_eq!(v.fixed[0].path, "gone.env");
        // Written back, it is a version 3 file holding the current form.
        let upgraded = b.upgraded_for(std::slice::from_ref(&now));
        let text = String::from_utf8(upgraded.to_bytes()).unwrap();
        assert!(text.contains("\"version\": 3"), "{text}");
        assert!(text.contains(now.fingerprint.as_str()) && !text.contains(old.as_str()));
    }

    fn paths_new(v: &Verdict) -> Vec<String> {
        v.new
            .iter()
            .map(|n| n.finding.path.display_path().into_owned())
            .collect()
    }

    #[test]
    fn same_path_is_known_and_unknown_secrets_are_new() {
        let b = baseline(&[("a", "s1")]);
        let v = judge_tree(&b, &[("a", "s1"), ("a", "s2")]);
        assert_eq!(v.known.len(), 1);
        assert_eq!(paths_new(&v), ["a"]);
        assert!(v.new[0].spread_from.is_empty());
        assert!(v.fixed.is_empty() && v.moved.is_empty());
    }

    #[test]
    fn a_secret_that_left_its_path_was_moved() {
        let b = baseline(&[("old", "s1")]);
        let v = judge_tree(&b, &[("new", "s1")]);
        assert!(v.new.is_empty());
        assert_eq!(v.moved.len(), 1);
        assert_eq!(v.moved[0].from, "old");
        assert!(v.fixed.is_empty(), "a move is not a fix");
    }

    #[test]
    fn a_secret_still_at_its_path_and_also_elsewhere_has_spread() {
        let b = baseline(&[("old", "s1")]);
        let v = judge_tree(&b, &[("old", "s1"), ("copy", "s1")]);
        assert_eq!(paths_new(&v), ["copy"]);
        assert_eq!(v.new[0].spread_from, ["old"]);
        assert_eq!(v.known.len(), 1);
    }

    #[test]
    fn one_vacated_path_covers_one_move_the_rest_spread() {
        let b = baseline(&[("old", "s1")]);
        let v = judge_tree(&b, &[("b", "s1"), ("c", "s1")]);
        assert_eq!(v.moved.len(), 1);
        assert_eq!(v.moved[0].finding.path.display_path(), "b");
        assert_eq!(paths_new(&v), ["c"]);
        assert!(v.new[0].spread_from.is_empty());
    }

    #[test]
    fn gone_secrets_are_fixed() {
        let b = baseline(&[("a", "s1"), ("b", "s2")]);
        let v = judge_tree(&b, &[("b", "s2")]);
        let fixed: Vec<&str> = v.fixed.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(fixed, ["a"]);
    }

    #[test]
    fn several_findings_at_one_new_path_share_its_class() {
        let b = baseline(&[("old", "s1")]);
        let v = judge_tree(&b, &[("new", "s1"), ("new", "s1")]);
        assert_eq!(v.moved.len(), 2);
        assert!(v.new.is_empty());
    }
}
