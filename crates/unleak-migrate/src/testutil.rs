//! Findings for unit tests, made by hand at known spans (the matcher is not a dependency).

use unleak_core::{
    Confidence, Finding, Fingerprint, FingerprintKey, Locator, Origin, Secret, Span,
};

/// A finding of `rule` for the first occurrence of `needle` in `data`.
pub(crate) fn finding(path: &str, data: &str, needle: &str, rule: &str) -> Finding {
    finding_nth(path, data, needle, 0, rule)
}

/// A finding of `rule` for occurrence `nth` (from 0) of `needle` in `data`.
pub(crate) fn finding_nth(path: &str, data: &str, needle: &str, nth: usize, rule: &str) -> Finding {
    let start = data
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` not {} times in the text", nth + 1))
        .0;
    let span = Span::new(start, start + needle.len());
    let secret = Secret::new(needle.as_bytes().to_vec(), 0);
    Finding {
        rule_id: rule.into(),
        rule_name: rule.into(),
        path: Origin::File(path.into()),
        location: Locator::new(data.as_bytes()).locate(span),
        span,
        redacted: secret.redacted(),
        fingerprint: Fingerprint::compute(&FingerprintKey::default(), rule, needle.as_bytes()),
        secret,
        entropy: 4.0,
        confidence: Confidence::High,
        inline_allow: false,
        decoded: vec![],
        git: None,
        image: None,
        provenance_secrets: None,
    }
}
