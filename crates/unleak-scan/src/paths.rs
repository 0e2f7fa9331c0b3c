//! The form paths are shown in: as typed, relative to a root, or untouched.
//!
//! Does not own: the paths themselves (sources name what they read).

use std::path::{Path, PathBuf};
use unleak_core::Origin;

/// How the scanner shows the paths of findings, skips and errors.
#[derive(Clone, Debug)]
pub enum Paths {
    /// As the user typed them, without a leading `./` (`scan`).
    AsGiven,
    /// Relative to this root with `/` separators, as allowlists and baselines write them
    /// (guard, baseline and migrate: a tree scanned as a commit sees it).
    RelativeTo(PathBuf),
    /// Exactly as the source named them (images: their paths are not the user's).
    Verbatim,
}

impl Paths {
    /// `path` in this form.
    pub fn show(&self, path: &Path) -> String {
        match self {
            Paths::AsGiven => {
                let s = path.to_string_lossy();
                s.strip_prefix("./").unwrap_or(&s).to_string()
            }
            Paths::RelativeTo(root) => relative(root, path),
            Paths::Verbatim => path.to_string_lossy().into_owned(),
        }
    }

    /// `origin` with its outermost file in this form; an archive member keeps its member
    /// chain inside the shown path.
    pub fn origin(&self, origin: Origin) -> Origin {
        match (self, origin.outermost()) {
            (Paths::Verbatim, _) => origin,
            (_, Origin::File(p)) => {
                let shown = Origin::File(PathBuf::from(self.show(p)));
                origin.rebase(shown)
            }
            _ => origin,
        }
    }
}

/// `path` relative to `root` with `/` separators, as allowlists and baselines write it.
/// A path outside `root` is returned as given.
pub fn relative(root: &Path, path: &Path) -> String {
    let root = root.strip_prefix(".").unwrap_or(root);
    let rel = path.strip_prefix(root).unwrap_or(path);
    let text = rel.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_use_slashes_and_drop_the_root() {
        assert_eq!(
            relative(Path::new("repo"), Path::new("repo/a/b.env")),
            "a/b.env"
        );
        assert_eq!(relative(Path::new("."), Path::new("./a.env")), "a.env");
        assert_eq!(relative(Path::new("x"), Path::new("y/a.env")), "y/a.env");
        assert_eq!(relative(Path::new("./r"), Path::new("r/a.env")), "a.env");
    }

    #[test]
    fn each_form_shows_a_path_its_way() {
        let p = Path::new("./repo/a.env");
        assert_eq!(Paths::AsGiven.show(p), "repo/a.env");
        assert_eq!(Paths::RelativeTo("./repo".into()).show(p), "repo/a.env");
        assert_eq!(
            Paths::RelativeTo("repo".into()).show(Path::new("repo/a.env")),
            "a.env"
        );
        assert_eq!(Paths::Verbatim.show(p), "./repo/a.env");
    }

    #[test]
    fn a_member_keeps_its_chain_inside_the_shown_archive_path() {
        let origin = Origin::File("r/a.zip".into()).member("conf/x.env");
        let shown = Paths::RelativeTo("r".into()).origin(origin.clone());
        assert_eq!(shown.display_path(), "a.zip!conf/x.env");
        assert_eq!(Paths::Verbatim.origin(origin.clone()), origin);
        assert_eq!(Paths::AsGiven.origin(Origin::Stdin), Origin::Stdin);
    }
}
