//! Opening repositories safely, reading raw blobs, shallow-clone facts and dates.
//!
//! Owns the safety choices every mode shares. unleak runs on untrusted repositories in CI,
//! so it only ever reads objects, refs and the index through libgit2: libgit2 has no
//! fsmonitor support and runs no hooks; blobs are read raw from the object database, so no
//! clean/smudge/textconv filter or `.gitattributes` rule is consulted; nothing here fetches,
//! so no credential helper, proxy or ssh command is ever started, and libgit2 is built
//! without HTTPS and SSH support at all.
//!
//! Does not own: walking history or diffing (history, changes).

use crate::GitError;
use git2::{ObjectType, Odb, OdbObject, Oid, Repository, RepositoryOpenFlags};
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Once;
use unleak_core::CommitFacts;

/// Bytes looked at to decide that a blob is binary, as git does.
const BINARY_PROBE: usize = 8 * 1024;

/// Something a scan chose not to read, and why. Reported, never silent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The object or path, e.g. `blob 1a2b… (at `assets/dump.sql`)` or `submodule `vendor/x``.
    pub what: String,
    /// Why it was not read, e.g. `2097152 bytes, over the blob size limit`.
    pub why: String,
}

/// Open exactly the repository at `path`: a work tree's top directory (with `.git` inside,
/// a directory or a `gitdir:` file) or a git directory itself. Parent directories are not
/// searched, so a scan never silently audits an enclosing repository, and `GIT_DIR`-style
/// environment variables are not consulted.
///
/// Ownership check: git and libgit2 refuse repositories owned by another user unless
/// `safe.directory` says otherwise. That check exists so that git does not run programs
/// named in someone else's configuration; unleak runs none (see the module docs), while CI
/// checkouts are routinely owned by another uid than the scanner (a container running as
/// root on a runner's checkout). So the check is turned off, once per process, before the
/// first open. It is a process-wide libgit2 option and this crate is the only user of
/// libgit2 in unleak.
pub(crate) fn open(path: &Path) -> Result<Repository, GitError> {
    set_global_options();
    Repository::open_ext(path, RepositoryOpenFlags::NO_SEARCH, &[] as &[&OsStr]).map_err(|e| {
        let hint = if e.code() == git2::ErrorCode::NotFound {
            " (unleak opens exactly the given directory: pass the top of the work tree or the git directory)"
        } else {
            ""
        };
        GitError::Open {
            repo: path.to_path_buf(),
            message: format!("{}{hint}", e.message()),
        }
    })
}

/// A second handle on an open repository, for a worker thread (`Repository` is not
/// `Sync`). Opened bare: workers only read objects.
pub(crate) fn open_worker(git_dir: &Path, shown: &Path) -> Result<Repository, GitError> {
    set_global_options();
    Repository::open_ext(
        git_dir,
        RepositoryOpenFlags::NO_SEARCH | RepositoryOpenFlags::NO_DOTGIT | RepositoryOpenFlags::BARE,
        &[] as &[&OsStr],
    )
    .map_err(|e| GitError::Open {
        repo: shown.to_path_buf(),
        message: e.message().to_string(),
    })
}

fn set_global_options() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: libgit2's global options are not synchronised; `Once` makes this the only
        // write, and it happens before this crate opens any repository.
        let _ = unsafe { git2::opts::set_verify_owner_validation(false) };
        // Every mode reads each tree and commit about once, so libgit2's object cache (up to
        // 256 MiB by default) would only hold what is never asked for again.
        git2::opts::enable_caching(false);
        // libgit2 re-hashes every object it reads to check it against its id: a fifth of a
        // range guard's time. unleak trusts object content for nothing but scanning it (no
        // object is written, executed or used to decide what else to read beyond the trees
        // it names), a corrupt pack is caught by `plumbing::packs::check_packs`, and the history scan reads
        // packs itself, so the check buys nothing here.
        git2::opts::strict_hash_verification(false);
        // SAFETY: as above. Packs are mapped in windows of this size, and windows beyond the
        // limit are unmapped, so mapped pack pages stay a bounded part of resident memory
        // (by default a 64-bit libgit2 maps whole packs, up to 8 GiB).
        let _ = unsafe { git2::opts::set_mwindow_size(MAP_WINDOW) };
        let _ = unsafe { git2::opts::set_mwindow_mapped_limit(MAP_LIMIT) };
    });
}

/// Size of one mapped window of a pack.
const MAP_WINDOW: usize = 4 * 1024 * 1024;
/// Most bytes of packs libgit2 keeps mapped at once.
const MAP_LIMIT: usize = 16 * 1024 * 1024;

/// A blob as read from the object database, without any filter.
pub(crate) enum RawBlob<'odb> {
    Text(OdbObject<'odb>),
    /// A NUL byte in the first 8 KiB.
    Binary,
    /// Bigger than the size limit; not read.
    TooLarge(u64),
}

/// Read one blob raw, checking its size from the object header before loading it.
pub(crate) fn read_blob<'odb>(
    odb: &'odb Odb<'_>,
    oid: Oid,
    max_size: u64,
) -> Result<RawBlob<'odb>, git2::Error> {
    let (size, kind) = odb.read_header(oid)?;
    if kind != ObjectType::Blob {
        return Err(git2::Error::from_str(&format!(
            "expected a blob, found a {kind}"
        )));
    }
    if size as u64 > max_size {
        return Ok(RawBlob::TooLarge(size as u64));
    }
    let object = odb.read(oid)?;
    if is_binary(object.data()) {
        return Ok(RawBlob::Binary);
    }
    Ok(RawBlob::Text(object))
}

/// Whether `data` is binary, as git decides: a NUL byte in its first 8 KiB.
pub(crate) fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(BINARY_PROBE)]).is_some()
}

/// Read `oid`'s author and summary, the facts a finding reports; only the id when the
/// commit cannot be read (it was readable when walked, so this is not reported twice).
pub(crate) fn commit_facts(repo: &Repository, oid: Oid) -> CommitFacts {
    let Ok(c) = repo.find_commit(oid) else {
        return CommitFacts {
            commit: oid.to_string(),
            ..CommitFacts::default()
        };
    };
    let author = c.author();
    let when = author.when();
    CommitFacts {
        commit: oid.to_string(),
        author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
        date: rfc3339(when.seconds(), when.offset_minutes()),
        summary: c
            .summary_bytes()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .unwrap_or_default(),
    }
}

/// What a shallow clone could and could not see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShallowInfo {
    /// The commits whose parents this clone does not have (`.git/shallow`): the oldest
    /// history the scan could reach. Sorted by date, oldest first.
    pub boundary: Vec<BoundaryCommit>,
}

/// One commit at the edge of a shallow clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundaryCommit {
    /// The commit's full hex id.
    pub id: String,
    /// RFC 3339 commit date, when the commit object is present.
    pub date: Option<String>,
}

impl ShallowInfo {
    /// One sentence for the user: how far back the scan saw and what it could not cover.
    pub fn message(&self) -> String {
        let oldest = self
            .boundary
            .iter()
            .find(|b| b.date.is_some())
            .or(self.boundary.first());
        let edge = match oldest {
            Some(BoundaryCommit { id, date: Some(d) }) => {
                format!(" (oldest: {} from {d})", short(id))
            }
            Some(BoundaryCommit { id, date: None }) => format!(" (oldest: {})", short(id)),
            None => String::new(),
        };
        format!(
            "shallow clone: history stops at {} boundary commit(s){edge}; secrets added or removed \
             before them were not scanned. Fetch full history (actions/checkout with `fetch-depth: 0`, \
             or `git fetch --unshallow`) for a complete audit",
            self.boundary.len()
        )
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// The shallow boundary of `repo`, or `None` for a complete clone.
pub(crate) fn shallow_info(repo: &Repository) -> Option<ShallowInfo> {
    if !repo.is_shallow() {
        return None;
    }
    let text = std::fs::read_to_string(repo.commondir().join("shallow")).unwrap_or_default();
    let mut boundary: Vec<(i64, BoundaryCommit)> = text
        .lines()
        .filter_map(|l| Oid::from_str(l.trim()).ok())
        .map(|oid| {
            let (time, date) = match repo.find_commit(oid) {
                Ok(c) => {
                    let t = c.committer().when();
                    (t.seconds(), Some(rfc3339(t.seconds(), t.offset_minutes())))
                }
                Err(_) => (i64::MAX, None),
            };
            (
                time,
                BoundaryCommit {
                    id: oid.to_string(),
                    date,
                },
            )
        })
        .collect();
    boundary.sort_by(|a, b| (a.0, &a.1.id).cmp(&(b.0, &b.1.id)));
    Some(ShallowInfo {
        boundary: boundary.into_iter().map(|(_, b)| b).collect(),
    })
}

/// `seconds` since the epoch at a UTC offset, as RFC 3339 (`2024-05-01T12:00:00+02:00`).
pub(crate) fn rfc3339(seconds: i64, offset_minutes: i32) -> String {
    let local = seconds + i64::from(offset_minutes) * 60;
    let days = local.div_euclid(86_400);
    let secs = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60,
        off / 60,
        off % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_formats_utc_and_offsets() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_700_000_000, 0), "2023-11-14T22:13:20+00:00");
        assert_eq!(rfc3339(1_700_000_000, 120), "2023-11-15T00:13:20+02:00");
        assert_eq!(rfc3339(1_700_000_000, -330), "2023-11-14T16:43:20-05:30");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00+00:00");
        assert_eq!(rfc3339(-86_400, 0), "1969-12-31T00:00:00+00:00");
    }

    #[test]
    fn shallow_message_names_the_edge_and_the_fix() {
        let info = ShallowInfo {
            boundary: vec![BoundaryCommit {
                id: "0123456789abcdef0123456789abcdef01234567".into(),
                date: Some("2024-01-02T03:04:05+00:00".into()),
            }],
        };
        let m = info.message();
        assert!(
            m.contains("0123456789ab from 2024-01-02T03:04:05+00:00"),
            "{m}"
        );
        assert!(
            m.contains("fetch-depth: 0") && m.contains("--unshallow"),
            "{m}"
        );
    }
}
