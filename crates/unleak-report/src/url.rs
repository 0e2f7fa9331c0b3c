//! Making a repository URL from the command line fit to publish.
//!
//! Owns: dropping the parts of a URL that can carry a credential (user name and password,
//! query, fragment) before it reaches a report. `--repo-url "$CI_REPOSITORY_URL"` on
//! GitLab, or `$(git remote get-url origin)` with a token in it, must not put the token in
//! a SARIF log. Does not own: percent-encoding paths (sarif.rs) or warning the user (the CLI).

/// `url` without userinfo, query or fragment, and whether anything was dropped. Works on
/// `scheme://user:pass@host/path?q#f` and on scp-like `user@host:path`.
pub fn public_url(url: &str) -> (String, bool) {
    let (scheme, rest) = match url.find("://") {
        Some(i) => url.split_at(i + 3),
        None => ("", url),
    };
    let cut = rest.find(['?', '#']).unwrap_or(rest.len());
    let (rest, tail) = rest.split_at(cut);
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let host = match authority.rfind('@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let dropped = host.len() != authority.len() || !tail.is_empty();
    (format!("{scheme}{host}{path}"), dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_query_and_fragment_are_dropped() {
        let cases = [
            ("https://github.com/o/r", "https://github.com/o/r", false),
            (
                "https://u:tok3n@github.com/o/r",
                "https://github.com/o/r",
                true,
            ),
            (
                "https://tok3n@gitlab.com/g/p.git",
                "https://gitlab.com/g/p.git",
                true,
            ),
            ("https://h/o/r?private_token=tok3n#x", "https://h/o/r", true),
            ("https://h/o/r#tok3n", "https://h/o/r", true),
            ("https://a@b:c@h/o/r", "https://h/o/r", true),
            ("git@github.com:o/r.git", "github.com:o/r.git", true),
            ("https://h/o/r@v1", "https://h/o/r@v1", false),
        ];
        for (given, public, dropped) in cases {
            assert_eq!(public_url(given), (public.to_string(), dropped), "{given}");
            assert!(!public_url(given).0.contains("tok3n"));
        }
    }
}
