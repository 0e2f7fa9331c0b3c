//! Property: for any secret value and any file name, no output format contains the raw
//! value unless it was revealed, and the revealed JSON does contain it (so the property
//! can fail). Findings come from the real matcher, not hand-made.

use proptest::prelude::*;
use unleak_core::{Blob, Origin};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_report::{write_report, Format, ReportOptions, ScanSummary};
use unleak_rules::RuleSetBuilder;

const RULES: &str = r#"
[[rules]]
id = "acme-key"
name = "ACME key"
keywords = ["acme_"]
regex = '''(?P<secret>acme_[A-Za-z0-9+/=_-]{20,60})'''
prefix = "acme_"
confidence = "high"

[[rules]]
id = "acme-password"
name = "ACME password"
keywords = ["password"]
regex = '''password\s*=\s*(?P<secret>[^\s"]{12,80})'''
confidence = "medium"
"#;

fn render(matcher: &Matcher, text: &str, path: &str, reveal: bool) -> Vec<(Format, String)> {
    let blob = Blob::new(Origin::File(path.into()), text.as_bytes());
    let mut findings = matcher.scan(&blob);
    assert!(!findings.is_empty(), "the generated secret must be found");
    if reveal {
        findings.iter_mut().for_each(|f| f.secret.reveal());
    }
    let opts = ReportOptions {
        color: true,
        tool_version: "0",
        repo_url: Some("https://example.com/acme/app"),
        verbose: true,
    };
    Format::ALL
        .iter()
        .map(|&format| {
            let mut out = Vec::new();
            write_report(
                &mut out,
                format,
                &findings,
                matcher.rules(),
                &ScanSummary::default(),
                &opts,
            )
            .unwrap();
            (format, String::from_utf8(out).unwrap())
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn no_format_prints_a_raw_value(
        random in "[A-Za-z0-9+/=_-]{20,60}",
        password in "[!-~&&[^\"\\\\]]{12,40}",
        path in "[a-zA-Z0-9 ._/:,%\\n\\x1b-]{1,40}",
    ) {
        // Values that are mostly one character could appear by chance in other text.
        prop_assume!(random.chars().collect::<std::collections::HashSet<_>>().len() > 8);
        prop_assume!(password.chars().collect::<std::collections::HashSet<_>>().len() > 6);
        let set = RuleSetBuilder::new().add_toml("t.toml", RULES).unwrap().build().unwrap();
        let matcher = Matcher::new(set, MatcherOptions::default());
        let key = format!("acme_{random}");
        let text = format!("key: {key}\npassword = {password}\n");
        for (format, out) in render(&matcher, &text, &path, false) {
            prop_assert!(!out.contains(&random), "{format:?} printed the key's random part");
            prop_assert!(!out.contains(&password), "{format:?} printed the password");
        }
        let revealed = render(&matcher, &text, &path, true);
        let json = &revealed.iter().find(|(f, _)| *f == Format::Json).unwrap().1;
        let needle = serde_json::to_string(&key).unwrap();
        prop_assert!(json.contains(needle.trim_matches('"')));
    }
}
