//! Recognises values that stand in for a secret rather than being one: templates,
//! variable references, documentation example keys, masks and filler.

/// Substrings (compared lower-case) that mark a documentation or template value.
const MARKERS: &[&str] = &[
    "example",
    "changeme",
    "change_me",
    "change-me",
    "placeholder",
    "your_",
    "your-",
    "yourtoken",
    "yourpassword",
    "xxxx",
    "****",
    "....",
    "redacted",
    "dummy",
    "sample",
    "replace_me",
    "replaceme",
    "insert_",
    "<",
    ">",
    "${",
    "{{",
    "}}",
    "$(",
    "%(",
    "#{",
];

/// Whether `value` is a placeholder and not a credential.
pub fn is_placeholder(value: &[u8]) -> bool {
    let v = String::from_utf8_lossy(value).to_ascii_lowercase();
    let v = v.trim();
    if v.is_empty() {
        return true;
    }
    if MARKERS.iter().any(|m| v.contains(m)) {
        return true;
    }
    // `$NAME`, `%NAME%`: references to a variable that holds the secret.
    let ident = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
    };
    if let Some(rest) = v.strip_prefix('$') {
        if ident(rest.trim_start_matches('{').trim_end_matches('}')) {
            return true;
        }
    }
    if v.len() > 2 && v.starts_with('%') && v.ends_with('%') && ident(&v[1..v.len() - 1]) {
        return true;
    }
    let bytes = v.as_bytes();
    // One repeated character: "aaaaaaaa", "00000000".
    if bytes.iter().all(|&b| b == bytes[0]) {
        return true;
    }
    // Counting runs: "12345678", "abcdefgh".
    if bytes.len() >= 6 && bytes.windows(2).all(|w| w[1] == w[0].wrapping_add(1)) {
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised() {
        for p in [
            "changeme",
            "${DB_PASSWORD}",
            "{{ .Values.db.password }}",
            "<your-token>",
            "xxxxxxxxxxxxxxxx",
            "AKIAIOSFODNN7EXAMPLE",
            "$API_KEY",
            "%SECRET%",
            "aaaaaaaaaaaa",
            "12345678",
            "********",
            "$(cat /run/secrets/token)",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
    }

    #[test]
    fn random_values_are_not_placeholders() {
        for v in [
            "q8Zr2LmT0vXw9Ka1",
            "ghp_Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z7A0bC3",
            "S3cr3t!Pa55",
        ] {
            assert!(!is_placeholder(v.as_bytes()), "{v}");
        }
    }
}
