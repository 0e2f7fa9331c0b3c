//! Which packs a repository has, and whether each is whole: a pack ends with the SHA-1 of
//! its content, and its `.idx` records that same checksum just before its own.
//!
//! Owns: listing the local packs that have an index, comparing each pack's trailer with
//! its index's (40 bytes read per pack), and the error that names a pack that fails.
//!
//! Does not own: reading objects from packs (pack), or what a scan does about a corrupt
//! pack (history reports it and goes on; range and staged refuse the repository).

use crate::GitError;
use git2::Repository;
use std::path::{Path, PathBuf};

/// Check every local packfile against its index: a pack ends with the SHA-1 of its
/// content, and its `.idx` records that same checksum just before its own. A pack cut
/// short or overwritten fails this, and libgit2 would otherwise only say "object not found"
/// for everything inside it. Reads 40 bytes per pack.
pub(crate) fn check_packs(repo: &Repository, shown: &Path) -> Vec<GitError> {
    let mut errors = Vec::new();
    for pack in indexed_packs(repo.commondir()) {
        let Some(problem) = pack_problem(&pack) else {
            continue;
        };
        let pack = pack
            .strip_prefix(repo.commondir())
            .unwrap_or(&pack)
            .to_path_buf();
        errors.push(GitError::CorruptPack {
            repo: shown.to_path_buf(),
            pack,
            problem,
        });
    }
    errors
}

/// The packs under the shared git directory `common_dir` that pass [`check_packs`], sorted
/// by name.
pub(crate) fn sound_packs(common_dir: &Path) -> Vec<PathBuf> {
    indexed_packs(common_dir)
        .into_iter()
        .filter(|p| pack_problem(p).is_none())
        .collect()
}

/// Every `.pack` with an `.idx` beside it, sorted by name. A pack without an index is one
/// still being written by git; libgit2 ignores it.
fn indexed_packs(common_dir: &Path) -> Vec<PathBuf> {
    let dir = common_dir.join("objects").join("pack");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut packs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pack") && p.with_extension("idx").exists())
        .collect();
    packs.sort();
    packs
}

/// Why the trailer of `pack` does not match its index, if it does not.
fn pack_problem(pack: &Path) -> Option<String> {
    let idx = pack.with_extension("idx");
    Some(match (tail(pack, 0, 20), tail(&idx, 20, 20)) {
        (Ok(Some(a)), Ok(Some(b))) if a == b => return None,
        (Ok(Some(_)), Ok(Some(_))) => "its checksum differs from the one in its index".into(),
        (Ok(None), _) => "it is shorter than a pack trailer".into(),
        (_, Ok(None)) => "its index is shorter than an index trailer".into(),
        (Err(e), _) | (_, Err(e)) => e.to_string(),
    })
}

/// `len` bytes ending `skip` bytes before the end of `path`; `None` if it is too short.
fn tail(path: &Path, skip: u64, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    if size < skip + len {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(size - skip - len))?;
    let mut buf = vec![0; len as usize];
    file.read_exact(&mut buf)?;
    Ok(Some(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A repository with packs written byte by byte: each `.pack` ends with `trailer`, each
    /// `.idx` records `recorded` before a checksum of its own.
    /// A pack's name, its bytes and its index's bytes (`None`: no index).
    type Written<'a> = (&'a str, Vec<u8>, Option<Vec<u8>>);

    fn repo_with(packs: &[Written<'_>]) -> (tempfile::TempDir, Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        let pack_dir = repo.commondir().join("objects").join("pack");
        std::fs::create_dir_all(&pack_dir).unwrap();
        for (name, pack, idx) in packs {
            std::fs::write(pack_dir.join(format!("{name}.pack")), pack).unwrap();
            if let Some(idx) = idx {
                std::fs::write(pack_dir.join(format!("{name}.idx")), idx).unwrap();
            }
        }
        (dir, repo)
    }

    /// Pack bytes ending with `sum`, and index bytes recording it.
    fn pair(sum: u8) -> (Vec<u8>, Vec<u8>) {
        let pack = [b"PACK\0\0\0\x02\0\0\0\0".to_vec(), vec![sum; 20]].concat();
        let idx = [vec![0xff, b't', b'O', b'c'], vec![sum; 20], vec![0xee; 20]].concat();
        (pack, idx)
    }

    #[test]
    fn each_pack_that_does_not_match_its_index_is_named() {
        let (good, good_idx) = pair(1);
        let (other, _) = pair(2);
        let (_, cut_idx) = pair(3);
        let packs = [
            ("a-good", good, Some(good_idx.clone())),
            // Overwritten (or cut mid-pack): its trailer is some other checksum.
            ("b-overwritten", other.clone(), Some(good_idx.clone())),
            // Cut shorter than a trailer.
            ("c-cut", b"PACK\0\0".to_vec(), Some(cut_idx)),
            // An index cut shorter than its two checksums.
            ("d-short-index", other.clone(), Some(vec![0xff; 39])),
            // No index yet: a pack git is still writing, which libgit2 ignores too.
            ("e-unindexed", vec![0; 3], None),
        ];
        let (dir, repo) = repo_with(&packs);
        let errors = check_packs(&repo, dir.path());
        let got: Vec<(String, String)> = errors
            .iter()
            .map(|e| match e {
                GitError::CorruptPack {
                    repo,
                    pack,
                    problem,
                } => {
                    assert_eq!(repo, dir.path());
                    (pack.display().to_string(), problem.clone())
                }
                other => panic!("{other}"),
            })
            .collect();
        let pack = |name: &str| {
            Path::new("objects")
                .join("pack")
                .join(name)
                .display()
                .to_string()
        };
        assert_eq!(
            got,
            vec![
                (
                    pack("b-overwritten.pack"),
                    "its checksum differs from the one in its index".to_string()
                ),
                (
                    pack("c-cut.pack"),
                    "it is shorter than a pack trailer".to_string()
                ),
                (
                    pack("d-short-index.pack"),
                    "its index is shorter than an index trailer".to_string()
                ),
            ]
        );
        // The message names the pack file and says what to do.
        let msg = errors[1].to_string();
        assert!(
            msg.contains("c-cut.pack") && msg.contains("re-clone"),
            "{msg}"
        );
        // Only the sound pack is handed to the pack reader.
        assert_eq!(
            sound_packs(repo.commondir()),
            vec![repo.commondir().join("objects/pack/a-good.pack")]
        );
    }

    #[test]
    fn a_repository_without_packs_has_nothing_to_check() {
        let (dir, repo) = repo_with(&[]);
        assert!(check_packs(&repo, dir.path()).is_empty());
        std::fs::remove_dir(repo.commondir().join("objects/pack")).unwrap();
        assert!(check_packs(&repo, dir.path()).is_empty());
        assert!(sound_packs(repo.commondir()).is_empty());
    }
}
