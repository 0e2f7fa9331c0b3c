//! The configuration and baseline a range's guard trusts: those of the range's base
//! commit, not the pull request's.
//!
//! A pull request's author controls its work tree, so an `.unleak.toml` with
//! `[allow] paths = ["**"]`, a rule with a fake prefix or a regenerated baseline in the
//! pull request would otherwise decide its own verdict. Here `.unleak.toml`, the baseline
//! and the rule files the configuration names are read from BASE's tree through git, with
//! the same size caps and parse errors as files on disk; a `--config` or `--baseline`
//! path inside the repository is read from BASE too (outside it, the file is the workflow
//! owner's and is read from disk). When HEAD's copy differs, the guard says that the
//! change takes effect once merged.
//!
//! Does not own: what the configuration means (unleak-filters) or reading git objects
//! (unleak-git).

use crate::cli::{FilterArgs, RuleArgs};
use crate::cmd::filtering::Setup;
use crate::cmd::load_configured_rules_with;
use anyhow::bail;
use std::io;
use std::path::{Component, Path, PathBuf};
use unleak_filters::{Baseline, Config, Filter, BASELINE_FILE, CONFIG_FILE};
use unleak_git::{list_committed, read_committed, Committed};
use unleak_rules::{RuleError, RuleSetBuilder};

/// Limits, as for the same files on disk.
const MAX_CONFIG: u64 = unleak_filters::MAX_CONFIG_FILE;
const MAX_BASELINE: u64 = unleak_filters::MAX_BASELINE_FILE;
const MAX_RULES: u64 = unleak_rules::MAX_RULE_FILE;

/// What the guard judges a range with.
pub struct Trusted {
    pub setup: Setup,
    pub baseline: Option<Baseline>,
    /// How the baseline is named in reports (`main:.unleak-baseline.json`).
    pub baseline_file: String,
    /// Changes the pull request makes to these files, which this run does not apply.
    pub notices: Vec<String>,
}

/// A file the guard may read from BASE: its repository path, or a path outside the
/// repository to read from disk.
enum Place {
    Committed(String),
    Disk(PathBuf),
}

/// Read the configuration, its rule files and the baseline from `base`'s tree in the
/// repository at `root`, and compare them with `head`'s.
pub fn from_base(
    root: &Path,
    base: &str,
    head: &str,
    rules: &RuleArgs,
    filters: &FilterArgs,
    baseline: Option<&Path>,
) -> anyhow::Result<Trusted> {
    let mut notices = Vec::new();
    let config_place = match &filters.config {
        Some(file) => place_of(root, file)?,
        None => Place::Committed(CONFIG_FILE.to_string()),
    };
    let config = match &config_place {
        Place::Disk(file) => Some(Config::load(file)?),
        Place::Committed(path) => {
            let label = PathBuf::from(format!("{base}:{path}"));
            match read_base(root, base, head, path, MAX_CONFIG, &mut notices)? {
                Some(bytes) => Some(Config::from_committed(&label, &bytes)?),
                // The flag as given: `path` is normalised (`a//b` is `a/b`).
                None => match &filters.config {
                    Some(given) => bail!("--config {}: there is no such file in `{base}`, the base of the range, and a range's guard reads its configuration from there", given.display()),
                    None => None,
                },
            }
        }
    };
    if let Some(c) = &config {
        tracing::info!("configuration: {}", c.file.display());
    }
    let set =
        load_configured_rules_with(
            rules,
            config.as_ref(),
            |config, builder| match &config_place {
                Place::Disk(_) => config.configure_rules(builder),
                Place::Committed(_) => config.configure_rules_with(builder, |b, path| {
                    add_committed_rules(root, base, b, path)
                }),
            },
        )?;
    let allowlist = config
        .as_ref()
        .map(|c| c.allowlist.clone())
        .unwrap_or_default();
    let setup = Setup {
        rules: set,
        filter: Filter::new(allowlist, filters.no_inline_ignore),
    };

    let baseline_place = match baseline {
        Some(file) => place_of(root, file)?,
        None => Place::Committed(BASELINE_FILE.to_string()),
    };
    let (baseline, baseline_file) = match &baseline_place {
        Place::Disk(file) => (Some(Baseline::load(file)?), file.display().to_string()),
        Place::Committed(path) => {
            let label = format!("{base}:{path}");
            match read_base(root, base, head, path, MAX_BASELINE, &mut notices)? {
                Some(bytes) => (Some(Baseline::parse(Path::new(&label), &bytes)?), label),
                None => match baseline {
                    Some(given) => bail!("--baseline {}: there is no such file in `{base}`, the base of the range, and a range's guard reads its baseline from there", given.display()),
                    None => (None, label),
                },
            }
        }
    };
    Ok(Trusted {
        setup,
        baseline,
        baseline_file,
        notices,
    })
}

/// `file` as a path inside the repository at `root`, or a file outside it. Both are
/// compared as written and with symbolic links resolved, so a link to the repository
/// (or a file the pull request deleted) is still inside it.
fn place_of(root: &Path, file: &Path) -> anyhow::Result<Place> {
    let roots = [
        Some(normal(&std::path::absolute(root)?)),
        std::fs::canonicalize(root).ok(),
    ];
    let resolved = std::fs::canonicalize(file).ok().or_else(|| {
        let parent = file.parent().filter(|p| !p.as_os_str().is_empty())?;
        Some(std::fs::canonicalize(parent).ok()?.join(file.file_name()?))
    });
    let files = [Some(normal(&std::path::absolute(file)?)), resolved];
    for root in roots.iter().flatten() {
        for full in files.iter().flatten() {
            if let Ok(rel) = full.strip_prefix(root) {
                return Ok(Place::Committed(rel.to_string_lossy().replace('\\', "/")));
            }
        }
    }
    Ok(Place::Disk(file.to_path_buf()))
}

/// `path` with `.` and `..` resolved by name, as git resolves a path in a tree.
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// BASE's copy of `path`, if it has one; a notice when HEAD's copy differs.
fn read_base(
    root: &Path,
    base: &str,
    head: &str,
    path: &str,
    cap: u64,
    notices: &mut Vec<String>,
) -> anyhow::Result<Option<Vec<u8>>> {
    let at_base = read_committed(root, base, path, cap)?;
    // What the pull request did is HEAD against the commit it branched from: a base that
    // moved on since is not the pull request's change.
    let fork = unleak_git::merge_base(root, base, head)?;
    let at_fork = read_committed(root, &fork, path, cap)?;
    let at_head = read_committed(root, head, path, cap)?;
    if at_fork.blob() != at_head.blob() {
        let what = match (&at_fork, &at_head) {
            (Committed::Absent, _) => "adds",
            (_, Committed::Absent) => "deletes",
            _ => "changes",
        };
        notices.push(format!(
            "the range {what} `{path}`; this guard uses the copy in `{base}`, the base of the range: the change takes effect once it is merged (--trust-worktree-config reads the work tree's instead)"
        ));
    }
    match at_base {
        Committed::Absent => Ok(None),
        Committed::File { bytes, .. } => Ok(Some(bytes)),
        Committed::Refused { why, .. } => bail!("`{base}:{path}` is not read: {why}"),
    }
}

/// The rule file at `path` in BASE, or every `*.toml` file of the directory there (sorted
/// by name), as [`RuleSetBuilder::add_path`] loads them from disk.
fn add_committed_rules(
    root: &Path,
    base: &str,
    builder: &mut RuleSetBuilder,
    path: &Path,
) -> Result<(), RuleError> {
    let shown = PathBuf::from(format!("{base}:{}", path.display()));
    let read_err = |message: String| RuleError::Read {
        path: shown.clone(),
        source: io::Error::other(message),
    };
    let rel = path.to_string_lossy().replace('\\', "/");
    let files = match list_committed(root, base, &rel).map_err(|e| read_err(e.to_string()))? {
        Some(names) => names
            .into_iter()
            .filter(|n| n.ends_with(".toml"))
            .map(|n| format!("{}/{n}", rel.trim_end_matches('/')))
            .collect(),
        None => vec![rel],
    };
    for file in files {
        let label = format!("{base}:{file}");
        let bytes = match read_committed(root, base, &file, MAX_RULES)
            .map_err(|e| read_err(e.to_string()))?
        {
            Committed::File { bytes, .. } => bytes,
            Committed::Absent => return Err(read_err(format!("no `{file}` in `{base}`"))),
            Committed::Refused { why, .. } => return Err(read_err(format!("`{file}`: {why}"))),
        };
        let text = String::from_utf8(bytes).map_err(|_| RuleError::Parse {
            file: label.clone(),
            place: None,
            message: "not UTF-8 text".into(),
        })?;
        builder.add_toml(&label, &text)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_inside_the_repository_are_read_from_git_and_others_from_disk() {
        let root = std::env::temp_dir().join("unleak-trusted-root");
        let inside = |p: &Path| match place_of(&root, p).unwrap() {
            Place::Committed(rel) => Some(rel),
            Place::Disk(_) => None,
        };
        assert_eq!(
            inside(&root.join("ci/./unleak.toml")).as_deref(),
            Some("ci/unleak.toml")
        );
        assert_eq!(inside(&root.join("a/../b.json")).as_deref(), Some("b.json"));
        assert_eq!(inside(&root.join("../elsewhere.toml")), None);
    }
}
