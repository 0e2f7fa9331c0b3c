//! A unit of content to scan and where it came from.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};

/// Where a blob's bytes came from. Paths are kept as the user gave them (or repo-relative
/// for git), so reports point where the user expects.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A file on disk.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// A blob in git history: the object id and the path it was first seen at.
    Git {
        /// The blob's object id (hex).
        blob_id: String,
        /// The path in the tree where it was first seen.
        path: PathBuf,
    },
    /// A file in a container image layer, or a part of the image's config: the image
    /// (`repo:tag` or digest), the layer's digest (`config` for the config) and the path
    /// in the image's filesystem (`Env`, `Labels`, `history[N].created_by` for the config).
    Image {
        /// The image, as given (`repo:tag`, a digest or a file).
        image: String,
        /// The layer's digest, or `config`.
        layer: String,
        /// The path in the image's filesystem, or the part of the config.
        path: String,
    },
    /// A member of an archive: `member` is its name inside `archive` as the archive records
    /// it, a label only (it may hold `..` or be absolute), never a path to open. Nested
    /// archives nest: `app.war!WEB-INF/lib/a.jar!conf.yml`.
    Member {
        /// Where the archive itself is.
        archive: Box<Origin>,
        /// The member's name as the archive records it.
        member: PathBuf,
    },
}

/// Hex digits of a layer digest shown in an image path, as `docker images` shows ids.
const SHORT_LAYER: usize = 12;

impl Origin {
    /// The path to show a user: the file path, `<stdin>`, or the path inside the repository.
    pub fn display_path(&self) -> Cow<'_, str> {
        match self {
            Origin::File(p) | Origin::Git { path: p, .. } => p.to_string_lossy(),
            Origin::Stdin => Cow::Borrowed("<stdin>"),
            Origin::Image { image, layer, path } => {
                let short = match layer.split_once(':') {
                    Some((alg, hex)) => {
                        let hex: String = hex.chars().take(SHORT_LAYER).collect();
                        format!("{alg}:{hex}")
                    }
                    None => layer.clone(),
                };
                Cow::Owned(format!("{image}!{short}/{path}"))
            }
            Origin::Member { archive, member } => Cow::Owned(format!(
                "{}!{}",
                archive.display_path(),
                member.to_string_lossy()
            )),
        }
    }

    /// The name the content itself goes by, for rules and file kinds chosen by path: the
    /// file's path, the git path, or the innermost member's name; none for standard input.
    pub fn content_path(&self) -> Option<&Path> {
        match self {
            Origin::File(p) | Origin::Git { path: p, .. } | Origin::Member { member: p, .. } => {
                Some(p)
            }
            Origin::Image { path, .. } => Some(Path::new(path)),
            Origin::Stdin => None,
        }
    }

    /// What holds the content on disk or in git: the outermost archive of a member, else
    /// the origin itself (annotations point at a file of the checkout).
    pub fn outermost(&self) -> &Origin {
        match self {
            Origin::Member { archive, .. } => archive.outermost(),
            other => other,
        }
    }

    /// The same member chain inside `outer` in place of the outermost origin (a history
    /// scan learns a blob's path only after scanning it); `outer` itself when not a member.
    pub fn rebase(self, outer: Origin) -> Origin {
        match self {
            Origin::Member { archive, member } => Origin::Member {
                archive: Box::new(archive.rebase(outer)),
                member,
            },
            _ => outer,
        }
    }

    /// `member` of the archive `self`.
    pub fn member(self, member: impl Into<PathBuf>) -> Origin {
        Origin::Member {
            archive: Box::new(self),
            member: member.into(),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display_path())
    }
}

/// Bytes to scan plus their origin. The bytes may be borrowed from a memory map, a read
/// buffer or a git object; the matcher never needs to own them.
pub struct Blob<'a> {
    /// Where the bytes came from.
    pub origin: Origin,
    /// The bytes to scan.
    pub data: &'a [u8],
}

impl<'a> Blob<'a> {
    /// A blob of `data` read from `origin`.
    pub fn new(origin: Origin, data: &'a [u8]) -> Self {
        Blob { origin, data }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_show_their_archives_and_name_their_content() {
        let jar = Origin::File("dist/app.war".into())
            .member("WEB-INF/lib/a.jar")
            .member("conf/application.yml");
        assert_eq!(
            jar.display_path(),
            "dist/app.war!WEB-INF/lib/a.jar!conf/application.yml"
        );
        assert_eq!(jar.content_path(), Some(Path::new("conf/application.yml")));
        assert_eq!(jar.outermost(), &Origin::File("dist/app.war".into()));
        assert_eq!(Origin::Stdin.content_path(), None);
        let git = Origin::Git {
            blob_id: "b0".into(),
            path: "lib/x.jar".into(),
        };
        let moved = Origin::Stdin.member("a.yml").rebase(git.clone());
        assert_eq!(moved.display_path(), "lib/x.jar!a.yml");
        assert_eq!(Origin::Stdin.rebase(git.clone()), git);
    }
}
