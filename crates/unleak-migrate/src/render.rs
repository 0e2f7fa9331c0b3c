//! The plan as a person reads it on a terminal: the one-line summary, the table of
//! findings, the instructions, the history-only and image-only rotation lists and the
//! redacted diff; and the last sweep that replaces any value of the run a name carried in.
//!
//! Owns: the layout of that text and the sweep ([`scrub`]). Does not own: making the plan
//! (`planner`), the diff itself (`diff`) or where the text goes (the caller writes it).

use crate::model::{Plan, Strategy};
use crate::text::{printable, value_forms};
use std::fmt::Write;
use unleak_core::Finding;

/// `plan: N finding(s) in M file(s): …; K connection(s)`, plus the history-only and
/// image-only counts when there are any.
pub fn plan_summary(plan: &Plan) -> String {
    let count = |s: Strategy| plan.findings.iter().filter(|f| f.strategy == s).count();
    let mut parts = vec![format!(
        "{} finding(s) in {} file(s): {} gateway-tunnel, {} gateway-native, {} platform-ref, {} manual; {} connection(s)",
        plan.findings.len(),
        plan.files.len(),
        count(Strategy::GatewayTunnel),
        count(Strategy::GatewayNative),
        count(Strategy::PlatformRef),
        count(Strategy::Manual),
        plan.connections.len()
    )];
    let history = plan.rotation.iter().filter(|r| r.history_only).count();
    if history > 0 {
        parts.push(format!("{history} history-only secret(s) to rotate"));
    }
    let image = plan.rotation.iter().filter(|r| r.image_only).count();
    if image > 0 {
        parts.push(format!("{image} image-only secret(s) to rotate"));
    }
    format!("plan: {}", parts.join("; "))
}

/// The table, one instruction line per finding, the rotation lists and `diff`, with every
/// name from the repository escaped ([`printable`]) and then swept of the values in
/// `known` ([`scrub`]).
pub fn plan_text(plan: &Plan, diff: &str, known: &[Finding]) -> String {
    let mut rows: Vec<[String; 6]> = vec![[
        "FILE".into(),
        "LINE".into(),
        "RULE".into(),
        "STRATEGY".into(),
        "CONNECTION".into(),
        "VAULT".into(),
    ]];
    for f in &plan.findings {
        rows.push([
            printable(&f.file),
            f.line.to_string(),
            printable(&f.rule_id),
            f.strategy.to_string(),
            f.connection
                .as_deref()
                .map_or_else(|| "-".into(), printable),
            f.vault
                .as_ref()
                .map_or_else(|| "-".into(), |v| printable(&v.display())),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    // Writing into a String cannot fail.
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c == 5 {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ", w = widths[c]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push('\n');
    for f in &plan.findings {
        let _ = writeln!(
            out,
            "{}:{} [{}] {}",
            printable(&f.file),
            f.line,
            f.strategy,
            printable(&f.instruction)
        );
    }
    for (only, heading) in [
        (
            true,
            "Only in git history (rotate them; nothing to rewrite):",
        ),
        (
            false,
            "Only in an image (rotate them and rebuild the image; nothing to rewrite):",
        ),
    ] {
        let listed: Vec<_> = plan
            .rotation
            .iter()
            .filter(|r| if only { r.history_only } else { r.image_only })
            .collect();
        if listed.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{heading}");
        for r in listed {
            let _ = writeln!(
                out,
                "  {} {}",
                printable(&r.location),
                printable(&r.rule_id)
            );
        }
    }
    if !diff.is_empty() {
        out.push('\n');
        out.push_str(diff);
    }
    scrub(&out, known)
}

/// `text` (already escaped) with any value of a finding in `known`, as is, URL-encoded or
/// base64 ([`value_forms`]), raw or escaped the same way, replaced by its redacted form.
/// Values under 6 bytes would match ordinary words and are left alone.
pub fn scrub(text: &str, known: &[Finding]) -> String {
    let mut out = text.to_string();
    for f in known {
        for form in value_forms(f.secret.expose()) {
            let Ok(raw) = String::from_utf8(form) else {
                continue;
            };
            for form in [printable(&raw), raw] {
                if out.contains(&form) {
                    out = out.replace(&form, &printable(&f.redacted));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{RotationItem, VaultPointer};
    use crate::planner::{plan, PlanOptions, SourceFile};
    use crate::testutil::finding;

    const VALUE: &str = "Zq8wT3vY6uB1nM4kR7sP";

    fn planned() -> Plan {
        let data = format!("DB_PASSWORD={VALUE}\n");
        let found = vec![finding(".env", &data, VALUE, "generic-password")];
        let sources = [SourceFile {
            path: ".env",
            data: data.as_bytes(),
            findings: &found,
        }];
        plan(
            &sources,
            &[],
            &unleak_rules::RuleSet::default(),
            &PlanOptions::default(),
        )
    }

    fn rotation(history_only: bool, image_only: bool, location: &str) -> RotationItem {
        RotationItem {
            rule_id: "github-pat".into(),
            rule_name: "GitHub token".into(),
            location: location.into(),
            finding: None,
            vault: None,
            history_only,
            references: vec![],
            image_only,
        }
    }

    #[test]
    fn the_summary_counts_each_strategy_and_the_rotation_lists() {
        let mut p = planned();
        assert_eq!(
            plan_summary(&p),
            "plan: 1 finding(s) in 1 file(s): 0 gateway-tunnel, 0 gateway-native, 1 platform-ref, 0 manual; 0 connection(s)"
        );
        p.rotation.push(rotation(true, false, "abc123:old.env"));
        p.rotation
            .push(rotation(false, true, "app:latest sha256:00 /etc/app.env"));
        let s = plan_summary(&p);
        assert!(
            s.ends_with("; 1 history-only secret(s) to rotate; 1 image-only secret(s) to rotate"),
            "{s}"
        );
    }

    #[test]
    fn the_table_is_aligned_and_lists_what_only_history_and_images_hold() {
        let mut p = planned();
        p.rotation.push(rotation(true, false, "abc123:old.env"));
        p.rotation
            .push(rotation(false, true, "app:latest /etc/app.env"));
        let text = plan_text(&p, "--- a/.env\n+++ b/.env\n", &[]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("FILE  LINE  RULE"), "{text}");
        // Every column starts where its heading does.
        let col = lines[0].find("STRATEGY").unwrap();
        assert_eq!(&lines[1][col..col + "platform-ref".len()], "platform-ref");
        assert!(text.contains("\n.env:1 [platform-ref] "), "{text}");
        assert!(
            text.contains("Only in git history (rotate them; nothing to rewrite):\n  abc123:old.env github-pat\n"),
            "{text}"
        );
        assert!(
            text.contains("Only in an image (rotate them and rebuild the image; nothing to rewrite):\n  app:latest /etc/app.env github-pat\n"),
            "{text}"
        );
        assert!(text.ends_with("\n--- a/.env\n+++ b/.env\n"), "{text}");
    }

    #[test]
    fn names_from_the_repository_are_escaped_and_swept_of_values() {
        let mut p = planned();
        let data = format!("DB_PASSWORD={VALUE}\n");
        let known = vec![finding(".env", &data, VALUE, "generic-password")];
        // A connection name that carried a value in (through a file name), and a
        // terminal escape in an instruction.
        p.findings[0].connection = Some(format!("pg-{VALUE}"));
        p.findings[0].instruction = "rotate \u{1b}[31mnow".into();
        p.findings[0].vault = Some(VaultPointer::new("secret", "apps/r/db", "DB_PASSWORD"));
        let text = plan_text(&p, "", &known);
        assert!(!text.contains(VALUE), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
        assert!(text.contains("secret/apps/r/db#DB_PASSWORD"), "{text}");
    }

    #[test]
    fn scrub_replaces_every_form_of_a_value_and_leaves_short_ones() {
        let data = format!("p={VALUE} q=ab12\n");
        let known = vec![
            finding("a.env", &data, VALUE, "generic-password"),
            finding("a.env", &data, "ab12", "generic-password"),
        ];
        let url = "postgres://u:Zq8wT3vY6uB1nM4kR7sP@db/x";
        let b64 = "WnE4d1Qzdlk2dUIxbk00a1I3c1A";
        let out = scrub(&format!("{url} {b64} ab12"), &known);
        assert!(!out.contains(VALUE) && !out.contains(b64), "{out}");
        assert!(out.ends_with(" ab12"), "short values stay: {out}");
    }
}
