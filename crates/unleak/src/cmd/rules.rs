//! `unleak rules list|check|explain`.

use crate::cli::RulesCommand;
use crate::cmd::{load_rules, with_output};
use crate::Outcome;
use std::io::Write;
use unleak_matcher::{check_rule, Matcher, MatcherOptions};

pub fn run(cmd: RulesCommand) -> anyhow::Result<Outcome> {
    match cmd {
        RulesCommand::List { rules, json } => {
            let set = load_rules(&rules)?;
            with_output(None, |out| list(out, &set, json))
        }
        RulesCommand::Check { rules } => check(&load_rules(&rules)?),
        RulesCommand::Explain { id, rules } => {
            let set = load_rules(&rules)?;
            with_output(None, |out| explain(out, &set, &id))
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
                    "tags": r.tags, "keywords": r.keywords, "references": r.references,
                    "source": r.source,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        writeln!(out)?;
    } else {
        let w = set.rules().iter().map(|r| r.id.len()).max().unwrap_or(2);
        writeln!(out, "{:w$}  {:10}  NAME", "ID", "CONFIDENCE")?;
        for r in set.rules() {
            writeln!(
                out,
                "{:w$}  {:10}  {}",
                &*r.id,
                r.confidence.as_str(),
                r.name
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

fn explain(o: &mut dyn Write, set: &unleak_rules::RuleSet, id: &str) -> anyhow::Result<Outcome> {
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
    writeln!(o, "{}  ({})", r.id, r.name)?;
    writeln!(o, "\n{}\n", r.description)?;
    writeln!(o, "confidence:  {}", r.confidence)?;
    writeln!(o, "tags:        {}", r.tags.join(", "))?;
    writeln!(o, "keywords:    {}", r.keywords.join(", "))?;
    writeln!(o, "regex:       {}", r.pattern)?;
    if let Some(e) = r.min_entropy {
        writeln!(o, "min entropy: {e} bits/byte")?;
    }
    if let Some(c) = r.check {
        writeln!(o, "check:       {}", c.name())?;
    }
    if let Some(p) = &r.prefix {
        writeln!(o, "prefix:      {p} (the only part a redacted value shows)")?;
    }
    if let Some(g) = &r.gateway {
        writeln!(
            o,
            "gateway:     {}{}{}",
            g.kind,
            g.target
                .as_deref()
                .map(|t| format!(" → {t}"))
                .unwrap_or_default(),
            g.header
                .as_deref()
                .map(|h| format!(" ({h})"))
                .unwrap_or_default()
        )?;
    }
    writeln!(o, "source:      {}", r.source)?;
    for u in &r.references {
        writeln!(o, "reference:   {u}")?;
    }
    // Examples are shown as templates: `{{gen:…}}` stands for a generated value.
    for e in &r.examples {
        writeln!(o, "matches:     {}", e.text().escape_debug())?;
    }
    for e in &r.negative_examples {
        writeln!(o, "ignores:     {}", e.escape_debug())?;
    }
    Ok(Outcome::Clean)
}
