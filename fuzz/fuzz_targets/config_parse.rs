//! `.unleak.toml` is read from the scanned repository, so a pull request controls it: any
//! text must parse into a configuration or fail with an error naming the file, never
//! panic. A configuration that parses is applied: its rule settings to the built-in
//! catalog and its allowlist to a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use unleak_core::{
    Confidence, Finding, Fingerprint, FingerprintKey, Locator, Origin, Secret, Span,
};
use unleak_filters::{Config, Filter};
use unleak_rules::RuleSetBuilder;

fn finding(path: &str, value: &[u8]) -> Finding {
    let secret = Secret::new(value.to_vec(), 0);
    let span = Span::new(0, value.len());
    Finding {
        rule_id: "generic-password".into(),
        rule_name: "Generic password".into(),
        path: Origin::File(path.into()),
        location: Locator::new(value).locate(span),
        span,
        redacted: secret.redacted(),
        fingerprint: Fingerprint::compute(&FingerprintKey::default(), "generic-password", value),
        secret,
        entropy: 4.0,
        confidence: Confidence::Medium,
        inline_allow: false,
        decoded: Vec::new(),
        git: None,
        provenance_secrets: None,
        image: None,
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("repo/.unleak.toml");
    let config = match Config::parse(file, Path::new("repo"), text) {
        Ok(c) => c,
        Err(e) => {
            assert!(
                e.to_string().contains(".unleak.toml"),
                "error does not name the file: {e}"
            );
            return;
        }
    };
    // Extra rule files would be read from disk; the rule loader has its own target.
    if config.extra_rules.is_empty() {
        let mut builder = RuleSetBuilder::new();
        builder.add_builtin().expect("the built-in catalog loads");
        if config.configure_rules(&mut builder).is_ok() {
            if let Err(e) = builder.build() {
                assert!(
                    e.to_string().contains(".unleak.toml"),
                    "error does not name the file: {e}"
                );
            }
        }
    }
    let filter = Filter::new(config.allowlist.clone(), Some(Confidence::High));
    let half = data.len() / 2;
    let path = String::from_utf8_lossy(&data[..half]);
    let f = finding(&path, &data[half..]);
    let _ = filter.reason(&f, &path);
});
