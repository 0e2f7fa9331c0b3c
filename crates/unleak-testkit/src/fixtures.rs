//! The generated fixture trees: `fixtures/templates/<tree>/…` holds files with generator
//! placeholders, and this module makes `fixtures/<tree>/…` and `fixtures/<tree>.answers.json`
//! (every planted finding with its exact place) from them, the same on every run. The
//! values come from the rule generator (`unleak_rules::generate`), the one generator.
//!
//! Placeholders:
//!
//! - `{{gen:SPEC}}`: a generated value that is no finding by itself;
//! - `{{gen:SPEC@RULE}}`: a generated value unleak must report under RULE;
//! - `{{find:RULE}}…{{/find}}`: text (which may hold placeholders) unleak must report under
//!   RULE as one secret, e.g. a token with its documented prefix.
//!
//! Any other `{{` (a Helm or Go template) is text. It does not decide which trees exist or
//! where the repository is: `xtask fixtures` and the scan tests pass the directory.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use unleak_rules::generate::{generate, seed_for, Rng};

/// One planted finding: 1-based lines and columns (in characters), the end column just
/// past the secret's last character.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Answer {
    pub path: String,
    pub rule: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Template { path: PathBuf, message: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FixtureError + '_ {
    move |source| FixtureError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Expand one template; `rel` (its path inside the tree) picks the seed, so moving a file
/// is the only thing that changes its values.
pub fn render(rel: &str, template: &str) -> Result<(String, Vec<Answer>), String> {
    let mut rng = Rng::new(seed_for(&format!("fixture:{rel}"), 0));
    let mut out = String::with_capacity(template.len());
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    let mut open: Option<(usize, String)> = None;
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let at = &rest[i..];
        if let Some(after) = at.strip_prefix("{{gen:") {
            let end = after
                .find("}}")
                .ok_or("an unterminated `{{gen:` placeholder")?;
            let (spec, rule) = match after[..end].split_once('@') {
                Some((spec, rule)) => (spec, Some(rule)),
                None => (&after[..end], None),
            };
            let value = generate(spec, &mut rng)?;
            if let Some(rule) = rule {
                spans.push((out.len(), out.len() + value.len(), rule.to_string()));
            }
            out.push_str(&value);
            rest = &after[end + 2..];
        } else if let Some(after) = at.strip_prefix("{{find:") {
            let end = after
                .find("}}")
                .ok_or("an unterminated `{{find:` placeholder")?;
            if open.is_some() {
                return Err("a `{{find:` inside another".into());
            }
            open = Some((out.len(), after[..end].to_string()));
            rest = &after[end + 2..];
        } else if let Some(after) = at.strip_prefix("{{/find}}") {
            let (start, rule) = open.take().ok_or("a `{{/find}}` with no `{{find:`")?;
            spans.push((start, out.len(), rule));
            rest = after;
        } else {
            out.push_str("{{");
            rest = &at[2..];
        }
    }
    if let Some((_, rule)) = open {
        return Err(format!("`{{{{find:{rule}}}}}` is never closed"));
    }
    out.push_str(rest);
    let answers = spans
        .into_iter()
        .map(|(start, end, rule)| {
            if start == end {
                return Err(format!("the finding for {rule} is empty"));
            }
            let (line, column) = position(&out, start);
            let (end_line, last) = position(&out, end - 1);
            Ok(Answer {
                path: rel.to_string(),
                rule,
                line,
                column,
                end_line,
                end_column: last + 1,
            })
        })
        .collect::<Result<_, String>>()?;
    Ok((out, answers))
}

/// 1-based line and column (in characters) of a byte offset.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// What the templates make: the tree names, and every file keyed by its path under the
/// fixtures directory (`positive/config/app.env`, `positive.answers.json`).
pub struct Built {
    pub trees: Vec<String>,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Every file the trees under `templates` make.
pub fn build(templates: &Path) -> Result<Built, FixtureError> {
    let mut files = BTreeMap::new();
    let mut trees = Vec::new();
    for tree in sorted_entries(templates)? {
        let root = templates.join(&tree);
        if !root.is_dir() {
            continue;
        }
        let mut answers = Vec::new();
        for rel in files_under(&root)? {
            let path = root.join(&rel);
            let text = std::fs::read_to_string(&path).map_err(io(&path))?;
            let (out, found) = render(&rel, &text).map_err(|message| FixtureError::Template {
                path: path.clone(),
                message,
            })?;
            files.insert(format!("{tree}/{rel}"), out.into_bytes());
            answers.extend(found);
        }
        answers.sort_by(|a, b| {
            (&a.path, a.line, a.column, &a.rule).cmp(&(&b.path, b.line, b.column, &b.rule))
        });
        files.insert(format!("{tree}.answers.json"), answer_json(&answers));
        trees.push(tree);
    }
    Ok(Built { trees, files })
}

/// The answer key as committed: one-space indents, one trailing newline.
fn answer_json(answers: &[Answer]) -> Vec<u8> {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    answers.serialize(&mut ser).expect("answers serialise");
    out.push(b'\n');
    out
}

/// What differs between the committed fixtures in `fixtures` and what `templates` makes:
/// files missing or different, and files in a generated tree that no template makes (a
/// fixture edited or added by hand). With `write`, brings `fixtures` up to date first
/// (and removes the strays), so the answer is what it changed.
pub fn sync(fixtures: &Path, templates: &Path, write: bool) -> Result<Vec<String>, FixtureError> {
    let made = build(templates)?;
    let mut stale = Vec::new();
    for (rel, data) in &made.files {
        let dest = fixtures.join(rel);
        match std::fs::read(&dest) {
            Ok(have) if &have == data => continue,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&dest)(e)),
        }
        stale.push(rel.clone());
        if write {
            let parent = dest.parent().expect("a fixture has a parent directory");
            std::fs::create_dir_all(parent).map_err(io(parent))?;
            std::fs::write(&dest, data).map_err(io(&dest))?;
        }
    }
    for tree in &made.trees {
        let dir = fixtures.join(tree);
        if !dir.is_dir() {
            continue;
        }
        for f in files_under(&dir)? {
            if made.files.contains_key(&format!("{tree}/{f}")) {
                continue;
            }
            stale.push(format!("{tree}/{f} (no template makes it)"));
            if write {
                let p = dir.join(&f);
                std::fs::remove_file(&p).map_err(io(&p))?;
            }
        }
    }
    Ok(stale)
}

fn sorted_entries(dir: &Path) -> Result<Vec<String>, FixtureError> {
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io(dir))? {
        let e = e.map_err(io(dir))?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    Ok(names)
}

/// Every file under `root`, as `/`-separated relative paths, sorted; symbolic links are
/// listed, not followed.
pub fn files_under(root: &Path) -> Result<Vec<String>, FixtureError> {
    let mut out = Vec::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        for name in sorted_entries(&dir)? {
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            let path = root.join(&child);
            let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
            if meta.is_dir() {
                stack.push(child);
            } else {
                out.push(child);
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_values_and_answers_with_exact_places() {
        let t = "a: {{ .Values.x }}\nk = {{gen:hex:8@demo}}\n{{find:pair}}id={{gen:digits:3}}{{/find}} {{gen:alnum:4}}\n";
        let (text, answers) = render("dir/f.yaml", t).unwrap();
        assert!(text.starts_with("a: {{ .Values.x }}\nk = "), "{text}");
        let line2 = text.lines().nth(1).unwrap();
        assert_eq!(line2.len(), 12);
        assert_eq!(
            answers,
            vec![
                Answer {
                    path: "dir/f.yaml".into(),
                    rule: "demo".into(),
                    line: 2,
                    column: 5,
                    end_line: 2,
                    end_column: 13
                },
                Answer {
                    path: "dir/f.yaml".into(),
                    rule: "pair".into(),
                    line: 3,
                    column: 1,
                    end_line: 3,
                    end_column: 7
                },
            ]
        );
        assert_eq!(render("dir/f.yaml", t).unwrap().0, text, "deterministic");
        assert_ne!(render("other.yaml", t).unwrap().0, text, "seeded by path");
    }

    #[test]
    fn broken_templates_are_errors_not_text() {
        for bad in [
            "{{gen:hex:4",
            "{{gen:nope:4}}",
            "{{find:x}}open",
            "{{/find}}",
            "{{find:x}}{{find:y}}{{/find}}",
            "{{find:x}}{{/find}}",
        ] {
            assert!(render("f", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sync_reports_and_repairs_edited_missing_and_stray_fixtures() {
        let d = tempfile::tempdir().unwrap();
        let (templates, fixtures) = (d.path().join("templates"), d.path().to_path_buf());
        std::fs::create_dir_all(templates.join("t/sub")).unwrap();
        std::fs::write(templates.join("t/sub/a.env"), "K={{gen:hex:8@r}}\n").unwrap();
        let first = sync(&fixtures, &templates, true).unwrap();
        assert_eq!(first, vec!["t.answers.json", "t/sub/a.env"]);
        assert!(sync(&fixtures, &templates, false).unwrap().is_empty());

        std::fs::write(fixtures.join("t/sub/a.env"), "K=edited\n").unwrap();
        std::fs::write(fixtures.join("t/hand.env"), "x\n").unwrap();
        let stale = sync(&fixtures, &templates, false).unwrap();
        assert_eq!(
            stale,
            vec!["t/sub/a.env", "t/hand.env (no template makes it)"]
        );
        sync(&fixtures, &templates, true).unwrap();
        assert!(sync(&fixtures, &templates, false).unwrap().is_empty());
        assert!(!fixtures.join("t/hand.env").exists());
    }
}
