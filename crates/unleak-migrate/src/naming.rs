//! Names: hoop connections, vault paths, GitHub, Kubernetes and BuildKit secret names.
//!
//! Owns: deriving each name from the identity of what it names (a target, a variable),
//! never from a value, a file or a rule, so that a rotation or a rename keeps it; making
//! names valid for the system that reads them; and de-duplicating names that collide.
//! Does not own: deciding which findings share an identity (see `plan`).

use crate::text::sha256_hex;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The name vault paths are scoped by when no slug is given: the name of the repository's
/// top directory (the nearest at or above `root` holding `.git`), else of `root` itself;
/// empty when `root` cannot be resolved.
pub fn repo_dir_name(root: &Path) -> String {
    let Ok(abs) = root.canonicalize() else {
        return String::new();
    };
    let dir = if abs.is_file() {
        abs.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        abs
    };
    let top = dir
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(&dir);
    top.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Lower-case, `.`/`_`/`:`/`/`/blank → `-`, everything outside `[a-z0-9-]` dropped, runs of
/// `-` collapsed, no leading or trailing `-`.
pub fn slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = c.to_ascii_lowercase();
        let mapped = match c {
            'a'..='z' | '0'..='9' => Some(c),
            '.' | '_' | ':' | '/' | ' ' | '-' | '\\' => Some('-'),
            _ => None,
        };
        if let Some(m) = mapped {
            if m == '-' && (out.is_empty() || out.ends_with('-')) {
                continue;
            }
            out.push(m);
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// hoop's server-side connection-name rule: `^[a-zA-Z0-9_]+(?:[-\.]?[a-zA-Z0-9_]+){2,253}$`
/// (at least three word characters, `-`/`.` only as single inner separators), and at most
/// 254 characters.
pub(crate) fn is_valid_hoop_name(name: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let sep = |c: char| c == '-' || c == '.';
    let chars: Vec<char> = name.chars().collect();
    if chars.len() > 254 || !chars.iter().all(|c| word(*c) || sep(*c)) {
        return false;
    }
    if chars.first().is_none_or(|c| !word(*c)) || chars.last().is_none_or(|c| !word(*c)) {
        return false;
    }
    if chars.windows(2).any(|w| sep(w[0]) && sep(w[1])) {
        return false;
    }
    chars.iter().filter(|c| word(**c)).count() >= 3
}

const MAX_NAME: usize = 254;

/// Eight hex characters identifying `identity` (a description of a target, never a value).
pub(crate) fn short_hash(identity: &str) -> String {
    sha256_hex(identity.as_bytes())[..8].to_string()
}

/// Assigns names to identities: the base name when it is unique, `base-<hash>` when two
/// identities share a base name (both get the suffix, so neither depends on the other's
/// order of discovery), shortened with a hash when too long, padded when too short.
#[derive(Default)]
pub(crate) struct NameBook {
    /// identity → wanted base name
    wanted: BTreeMap<String, String>,
}

impl NameBook {
    pub(crate) fn want(&mut self, identity: &str, base: &str) {
        self.wanted
            .entry(identity.to_string())
            .or_insert_with(|| base.to_string());
    }

    /// identity → final name.
    pub(crate) fn resolve(&self, max_len: usize) -> BTreeMap<String, String> {
        let mut by_base: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (id, base) in &self.wanted {
            by_base
                .entry(base.as_str())
                .or_default()
                .insert(id.as_str());
        }
        let mut out = BTreeMap::new();
        for (base, ids) in by_base {
            for id in &ids {
                let clash = ids.len() > 1;
                out.insert(id.to_string(), fit(base, id, clash, max_len));
            }
        }
        out
    }
}

fn fit(base: &str, identity: &str, clash: bool, max_len: usize) -> String {
    let mut base = if base.is_empty() {
        "secret".to_string()
    } else {
        base.to_string()
    };
    let word_chars = base.chars().filter(|c| c.is_ascii_alphanumeric()).count();
    let too_long = base.len() > max_len;
    if clash || too_long || word_chars < 3 {
        let keep = max_len.saturating_sub(9).min(base.len());
        base.truncate(keep);
        while base.ends_with(['-', '.']) {
            base.pop();
        }
        if base.is_empty() {
            return short_hash(identity);
        }
        base = format!("{base}-{}", short_hash(identity));
    }
    if is_valid_hoop_name(&base) {
        base
    } else {
        format!("unleak-{}", short_hash(identity))
    }
}

pub(crate) fn resolve_connection_names(book: &NameBook) -> BTreeMap<String, String> {
    book.resolve(MAX_NAME)
}

/// An environment-variable style key (`[A-Z0-9_]`, not starting with a digit).
pub(crate) fn env_key(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    while out.contains("__") {
        out = out.replace("__", "_");
    }
    let out = out.trim_matches('_').to_string();
    if out.is_empty() {
        return "VALUE".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        return format!("V_{out}");
    }
    out
}

/// A GitHub Actions secret name: `[A-Za-z0-9_]`, not starting with a digit or `GITHUB_`
/// (names are case-insensitive, so the check ignores case).
pub(crate) fn github_secret_name(key: &str) -> String {
    let k = env_key(key);
    if k.to_ascii_uppercase().starts_with("GITHUB_") {
        return format!("APP_{k}");
    }
    k
}

#[cfg(test)]
fn is_valid_github_secret_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.to_ascii_uppercase().starts_with("GITHUB_")
}

/// A Kubernetes DNS-1123 label (container names): at most 63 characters.
pub(crate) fn k8s_label(name: &str) -> String {
    let s = slug(name);
    if s.len() <= 63 {
        return s;
    }
    let mut cut = s[..54].to_string();
    while cut.ends_with('-') {
        cut.pop();
    }
    format!("{cut}-{}", short_hash(name))
}

/// A compose / BuildKit secret id: lower-case `[a-z0-9_]`.
pub(crate) fn secret_id(key: &str) -> String {
    env_key(key).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_kebab() {
        assert_eq!(slug("Orders-DB.prod.internal"), "orders-db-prod-internal");
        assert_eq!(slug("a__b..c/"), "a-b-c");
        assert_eq!(slug("ünïcode"), "ncode");
    }

    #[test]
    fn the_repository_is_named_by_the_directory_holding_dot_git() {
        let tmp = tempfile::tempdir().unwrap();
        let top = tmp.path().join("shop-api");
        std::fs::create_dir_all(top.join(".git")).unwrap();
        std::fs::create_dir_all(top.join("deploy/helm")).unwrap();
        std::fs::write(top.join("deploy/helm/values.yaml"), "a: 1\n").unwrap();
        assert_eq!(repo_dir_name(&top.join("deploy/helm")), "shop-api");
        assert_eq!(
            repo_dir_name(&top.join("deploy/helm/values.yaml")),
            "shop-api"
        );
        let loose = tmp.path().join("loose");
        std::fs::create_dir(&loose).unwrap();
        assert_eq!(repo_dir_name(&loose), "loose");
        assert_eq!(repo_dir_name(&tmp.path().join("missing")), "");
    }

    #[test]
    fn hoop_name_rule() {
        for ok in ["pg-orders-db-prod-internal-orders", "abc", "a.b_c", "x-y-z"] {
            assert!(is_valid_hoop_name(ok), "{ok}");
        }
        for bad in [
            "ab",
            "a-b",
            "-abc",
            "abc-",
            "a--bc",
            "a b c",
            &"a".repeat(255),
        ] {
            assert!(!is_valid_hoop_name(bad), "{bad}");
        }
    }

    #[test]
    fn clashing_bases_both_get_hashes_and_unique_ones_do_not() {
        let mut book = NameBook::default();
        book.want("pg|h|5432|db|alice", "pg-h-db");
        book.want("pg|h|5432|db|bob", "pg-h-db");
        book.want("mysql|m|3306||x", "mysql-m");
        let names = resolve_connection_names(&book);
        assert_eq!(names["mysql|m|3306||x"], "mysql-m");
        let a = &names["pg|h|5432|db|alice"];
        let b = &names["pg|h|5432|db|bob"];
        assert!(a.starts_with("pg-h-db-") && b.starts_with("pg-h-db-") && a != b);
        for n in names.values() {
            assert!(is_valid_hoop_name(n), "{n}");
        }
        let mut long = NameBook::default();
        long.want("id", &"x".repeat(300));
        let n = &resolve_connection_names(&long)["id"];
        assert!(n.len() <= 254 && is_valid_hoop_name(n));
    }

    #[test]
    fn github_and_k8s_names() {
        assert_eq!(github_secret_name("api-key"), "API_KEY");
        assert_eq!(github_secret_name("GITHUB_TOKEN"), "APP_GITHUB_TOKEN");
        assert_eq!(github_secret_name("1password"), "V_1PASSWORD");
        assert!(is_valid_github_secret_name(&github_secret_name(
            "github_pat"
        )));
        assert!(k8s_label(&"a".repeat(80)).len() <= 63);
        assert_eq!(secret_id("NPM_TOKEN"), "npm_token");
    }
}
