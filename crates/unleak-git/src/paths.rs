//! Compact, interned repository paths for the history walk.
//!
//! A path is stored once as (parent directory, name), so a million file versions under the
//! same directories cost a name each, and looking a child up allocates nothing.

use std::collections::HashMap;

pub(crate) type PathId = u32;

/// The repository root (the empty path).
pub(crate) const ROOT: PathId = 0;

pub(crate) struct PathInterner {
    /// `(parent, name)` per id; id 0 is the root.
    nodes: Vec<(PathId, Box<[u8]>)>,
    children: HashMap<PathId, HashMap<Box<[u8]>, PathId>>,
}

impl PathInterner {
    pub(crate) fn new() -> Self {
        PathInterner {
            nodes: vec![(ROOT, Box::default())],
            children: HashMap::new(),
        }
    }

    /// The id of `name` inside directory `parent`.
    pub(crate) fn child(&mut self, parent: PathId, name: &[u8]) -> PathId {
        let next = self.nodes.len() as PathId;
        let kids = self.children.entry(parent).or_default();
        if let Some(&id) = kids.get(name) {
            return id;
        }
        kids.insert(name.into(), next);
        self.nodes.push((parent, name.into()));
        next
    }

    /// Paths interned so far (the root included).
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The repo-relative path with `/` separators (names that are not UTF-8 are shown
    /// lossily).
    pub(crate) fn path(&self, mut id: PathId) -> String {
        let mut names: Vec<&[u8]> = Vec::new();
        while id != ROOT {
            let (parent, name) = &self.nodes[id as usize];
            names.push(name);
            id = *parent;
        }
        names.reverse();
        String::from_utf8_lossy(&names.join(&b'/')).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_and_rebuilds_paths() {
        let mut p = PathInterner::new();
        let src = p.child(ROOT, b"src");
        let a = p.child(src, b"a.rs");
        assert_eq!(p.child(ROOT, b"src"), src);
        assert_eq!(p.child(src, b"a.rs"), a);
        assert_ne!(p.child(ROOT, b"a.rs"), a);
        assert_eq!(p.path(a), "src/a.rs");
        assert_eq!(p.path(src), "src");
        assert_eq!(p.path(ROOT), "");
    }
}
