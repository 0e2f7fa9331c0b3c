//! `unleak rules list|check|explain`.
//!
//! Rule text comes from user rule files, which may be a repository's: everything printed
//! from a rule goes through `inert`, and `explain` redacts whatever the rule set finds in
//! what it shows (descriptions, regexes, examples) unless `--show-secrets` is given.

use crate::cli::RulesCommand;
use crate::cmd::{load_rules, with_output};
use crate::inert;
use crate::Outcome;
use std::io::Write;
use unleak_core::{Blob, Origin};
use unleak_matcher::{check_rule, Matcher, MatcherOptions};

pub fn run(cmd: RulesCommand) -> anyhow::Result<Outcome> {
    match cmd {
        RulesCommand::List { rules, json } => {
            let set = load_rules(&rules)?;
            with_output(None, |out| list(out, &set, json))
        }
        RulesCommand::Check { rules } => check(&load_rules(&rules)?),
        RulesCommand::Explain {
            id,
            rules,
            show_secrets,
        } => {
            let set = load_rules(&rules)?;
            with_output(None, |out| explain(out, &set, &id, show_secrets))
        }
    }
}

fn list(out: &mut dyn Write, set: &unleak_rules::RuleSet, json: bool) -> anyhow::Result<Outcome> {
    if json {
        let rows: Vec<_> = set
            .rules()
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": &*r.id, "name": &*r.name, "confidence": r.confidence,
                    "impact": r.impact.as_str(),
                    "tags": r.tags, "keywords": r.keywords, "paths": r.paths,
                    "references": r.references, "source": r.source,
                })
            })
            .collect();
        let text = serde_json::to_string_pretty(&rows)?;
        writeln!(out, "{}", inert::json(&text))?;
    } else {
        let ids: Vec<String> = set.rules().iter().map(|r| inert::line(&r.id)).collect();
        let w = ids.iter().map(|id| id.chars().count()).max().unwrap_or(2);
        writeln!(out, "{:w$}  {:10}  NAME", "ID", "CONFIDENCE")?;
        for (r, id) in set.rules().iter().zip(&ids) {
            writeln!(
                out,
                "{id:w$}  {:10}  {}",
                r.confidence.as_str(),
                inert::line(&r.name)
            )?;
        }
        writeln!(out, "{} rules", set.len())?;
    }
    Ok(Outcome::Clean)
}

fn check(set: &unleak_rules::RuleSet) -> anyhow::Result<Outcome> {
    let matcher = Matcher::new(set.clone(), MatcherOptions::default());
    let mut problems = Vec::new();
    for rule in set.rules() {
        if let Err(e) = rule.regex() {
            problems.push(e.to_string());
        }
        for p in rule.lint() {
            problems.push(format!("{}: rule `{}` {p}", rule.source, rule.id));
        }
        for f in check_rule(&matcher, rule) {
            problems.push(format!("{}: {f}", rule.source));
        }
    }
    let examples: usize = set
        .rules()
        .iter()
        .map(|r| r.examples.len() + r.negative_examples.len())
        .sum();
    // Problems quote rule ids, keywords and regex errors from the files.
    let problems: Vec<String> = problems.iter().map(|p| inert::line(p)).collect();
    if problems.is_empty() {
        with_output(None, |out| {
            writeln!(
                out,
                "ok: {} rules, {examples} examples checked through the prefilter and regex path",
                set.len()
            )?;
            Ok(Outcome::Clean)
        })
    } else {
        for p in &problems {
            eprintln!("{p}");
        }
        anyhow::bail!("{} problem(s) in {} rules", problems.len(), set.len())
    }
}

fn explain(
    o: &mut dyn Write,
    set: &unleak_rules::RuleSet,
    id: &str,
    show_secrets: bool,
) -> anyhow::Result<Outcome> {
    let Some(r) = set.get(id) else {
        let close: Vec<_> = set
            .rules()
            .iter()
            .filter(|r| r.id.contains(id) || id.contains(&*r.id))
            .map(|r| r.id.to_string())
            .take(5)
            .collect();
        let hint = if close.is_empty() {
            "; `unleak rules list` shows every id".to_string()
        } else {
            format!("; did you mean {}?", close.join(", "))
        };
        anyhow::bail!("no rule with id `{id}`{hint}");
    };
    let matcher = (!show_secrets).then(|| Matcher::new(set.clone(), MatcherOptions::default()));
    let show = |text: &str| inert::line(&redact_found(matcher.as_ref(), text));
    writeln!(o, "{}  ({})", show(&r.id), show(&r.name))?;
    writeln!(o, "\n{}\n", show(&r.description))?;
    writeln!(o, "confidence:  {}", r.confidence)?;
    writeln!(o, "impact:      {}", r.impact.as_str())?;
    writeln!(o, "tags:        {}", show(&r.tags.join(", ")))?;
    writeln!(o, "keywords:    {}", show(&r.keywords.join(", ")))?;
    if r.is_path_scoped() {
        writeln!(
            o,
            "paths:       {} (the rule reads only these files)",
            show(&r.paths.join(", "))
        )?;
    }
    writeln!(o, "regex:       {}", show(&r.pattern))?;
    if let Some(e) = r.min_entropy {
        writeln!(o, "min entropy: {e} bits/byte")?;
    }
    if let Some(c) = r.check {
        writeln!(o, "check:       {}", c.name())?;
    }
    if let Some(p) = &r.prefix {
        writeln!(
            o,
            "prefix:      {} (the only part a redacted value shows)",
            show(p)
        )?;
    }
    if let Some(g) = &r.gateway {
        let gateway = format!(
            "{}{}{}",
            g.kind,
            g.target
                .as_deref()
                .map(|t| format!(" → {t}"))
                .unwrap_or_default(),
            g.header
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        );
        writeln!(o, "gateway:     {}", show(&gateway))?;
    }
    writeln!(o, "source:      {}", show(&r.source))?;
    for u in &r.references {
        writeln!(o, "reference:   {}", show(u))?;
    }
    // Examples are shown as templates (`{{gen:…}}` stands for a generated value), with
    // what the rule set finds in them redacted. Negative examples are made not to match,
    // so redaction cannot vouch for them: they are counted, and shown only on request.
    for e in &r.examples {
        writeln!(o, "matches:     {}", show(e.text()))?;
    }
    if show_secrets {
        for e in &r.negative_examples {
            writeln!(o, "ignores:     {}", show(e.text()))?;
        }
    } else if !r.negative_examples.is_empty() {
        let n = r.negative_examples.len();
        writeln!(
            o,
            "ignores:     {n} negative example{} (shown with --show-secrets)",
            if n == 1 { "" } else { "s" }
        )?;
    }
    Ok(Outcome::Clean)
}

/// `text` with every secret `matcher` finds in it replaced by its redacted form; as it
/// is when there is no matcher (`--show-secrets`).
fn redact_found(matcher: Option<&Matcher>, text: &str) -> String {
    let Some(matcher) = matcher else {
        return text.to_string();
    };
    let mut spans: Vec<(usize, usize, String)> = matcher
        .scan(&Blob::new(Origin::Stdin, text.as_bytes()))
        .into_iter()
        .map(|f| (f.span.start, f.span.end.min(text.len()), f.redacted))
        .collect();
    spans.sort();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, redacted) in spans {
        let mut end = end;
        while !text.is_char_boundary(end) {
            end += 1;
        }
        if end <= at {
            continue;
        }
        // A finding overlapping the previous one extends what that redaction covers.
        let overlaps = start < at;
        let mut start = start.max(at);
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        out.push_str(&text[at..start]);
        if !overlaps {
            out.push_str(&redacted);
        }
        at = end;
    }
    out.push_str(&text[at..]);
    out
}
