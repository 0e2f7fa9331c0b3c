//! Errors from loading and compiling rules. Each names the file and, where known, the
//! place in it or the rule. None quotes the file's text: a path given as a rule file may
//! be any file (see `parse_error`).

use crate::parse_error::Place;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The reason is the source, so `{:#}` shows it once.
    #[error("cannot read rule file {}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("malformed rule file {file}{}: {message}",
        place.as_ref().map(Place::to_string).unwrap_or_default())]
    Parse {
        file: String,
        /// Line, column and key of a TOML error; `None` for a whole-file problem.
        place: Option<Place>,
        message: String,
    },
    #[error("rule file {file}, rule `{rule}`: {problem}")]
    Invalid {
        file: String,
        rule: String,
        problem: String,
    },
}

impl RuleError {
    pub(crate) fn invalid(file: &str, rule: &str, problem: impl Into<String>) -> Self {
        RuleError::Invalid {
            file: file.to_string(),
            rule: rule.to_string(),
            problem: problem.into(),
        }
    }
}
