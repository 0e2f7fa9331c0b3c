//! Path scopes: the `paths` globs of rules that read one kind of file (`.netrc`,
//! `wp-config.php`, FileZilla's `sitemanager.xml`), compiled at load, and one set of all
//! of them, so a blob's path is matched once, whatever the number of such rules.
//!
//! Owns: how a rule's glob is read (case-insensitive, since the tools that write these
//! files run on case-insensitive file systems too; `*` stays inside one path component;
//! `**/` for any directory) and which rules a path selects.
//!
//! Does not own: running the selected rules (the matcher does) or allowlist globs
//! (`unleak-filters` reads those, gitignore-style).

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::Path;

/// Compile one of a rule's `paths` globs; the error is the glob's problem, without the
/// rule's name (the caller names the file and rule).
pub(crate) fn compile_glob(glob: &str) -> Result<Glob, String> {
    if glob.trim().is_empty() {
        return Err("a `paths` glob is empty".into());
    }
    GlobBuilder::new(glob)
        .case_insensitive(true)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("`paths` glob `{glob}` is not valid: {}", e.kind()))
}

/// Every path-scoped rule's globs in one set.
#[derive(Debug, Clone, Default)]
pub(crate) struct PathScopes {
    set: GlobSet,
    /// Per glob of `set`, the index of the rule it belongs to.
    rule_of: Vec<usize>,
}

impl PathScopes {
    /// `rules`: `(rule index, its compiled globs)`.
    pub(crate) fn new<'a>(
        rules: impl IntoIterator<Item = (usize, &'a [Glob])>,
    ) -> Result<Self, globset::Error> {
        let mut builder = GlobSetBuilder::new();
        let mut rule_of = Vec::new();
        for (rule, globs) in rules {
            for g in globs {
                builder.add(g.clone());
                rule_of.push(rule);
            }
        }
        Ok(PathScopes {
            set: builder.build()?,
            rule_of,
        })
    }

    /// The indexes of the rules one of whose globs matches `path`, sorted, each once.
    pub(crate) fn rules_for(&self, path: &Path) -> Vec<usize> {
        if self.rule_of.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<usize> = self
            .set
            .matches(path)
            .into_iter()
            .map(|g| self.rule_of[g])
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scopes(globs: &[(usize, &[&str])]) -> PathScopes {
        let compiled: Vec<(usize, Vec<Glob>)> = globs
            .iter()
            .map(|(r, gs)| (*r, gs.iter().map(|g| compile_glob(g).unwrap()).collect()))
            .collect();
        PathScopes::new(compiled.iter().map(|(r, gs)| (*r, gs.as_slice()))).unwrap()
    }

    #[test]
    fn globs_match_in_any_directory_case_insensitively_and_only_whole_names() {
        let s = scopes(&[
            (0, &["**/.netrc", "**/_netrc"]),
            (3, &["**/config/credentials/*.key"]),
        ]);
        assert_eq!(s.rules_for(Path::new(".netrc")), vec![0]);
        assert_eq!(s.rules_for(Path::new("/home/u/_NETRC")), vec![0]);
        assert_eq!(s.rules_for(Path::new("./a/b/.Netrc")), vec![0]);
        assert!(s.rules_for(Path::new("notnetrc")).is_empty());
        assert!(s.rules_for(Path::new("a/.netrc.bak")).is_empty());
        assert_eq!(
            s.rules_for(Path::new("app/config/credentials/production.key")),
            vec![3]
        );
        // `*` does not cross a directory.
        assert!(s
            .rules_for(Path::new("app/config/credentials/x/production.key"))
            .is_empty());
    }

    #[test]
    fn bad_globs_are_described_with_the_glob() {
        let e = compile_glob("**/[netrc").unwrap_err();
        assert!(e.contains("`**/[netrc`") && e.contains("not valid"), "{e}");
        assert!(compile_glob(" ").unwrap_err().contains("empty"));
    }
}
