//! A unit of content to scan and where it came from.

use std::borrow::Cow;
use std::fmt;
use std::path::PathBuf;

/// Where a blob's bytes came from. Paths are kept as the user gave them (or repo-relative
/// for git), so reports point where the user expects.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Origin {
    /// A file on disk.
    File(PathBuf),
    /// Standard input (`-`).
    Stdin,
    /// A blob in git history: the object id and the path it was first seen at.
    Git { blob_id: String, path: PathBuf },
    /// A file in a container image layer, or a part of the image's config: the image
    /// (`repo:tag` or digest), the layer's digest (`config` for the config) and the path
    /// in the image's filesystem (`Env`, `Labels`, `history[N].created_by` for the config).
    Image {
        image: String,
        layer: String,
        path: String,
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
        }
    }

    /// The path a file has where it lives (its name decides how it is read): the file or
    /// repository path, the path inside an image; `None` for standard input.
    pub fn file_path(&self) -> Option<&std::path::Path> {
        match self {
            Origin::File(p) | Origin::Git { path: p, .. } => Some(p),
            Origin::Image { path, .. } => Some(std::path::Path::new(path)),
            Origin::Stdin => None,
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
    pub origin: Origin,
    pub data: &'a [u8],
}

impl<'a> Blob<'a> {
    pub fn new(origin: Origin, data: &'a [u8]) -> Self {
        Blob { origin, data }
    }
}
