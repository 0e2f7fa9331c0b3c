//! Errors from loading and compiling rules. Each names the file and, where known, the
//! place in it or the rule. None quotes the file's text: a path given as a rule file may
//! be any file (see `parse_error`).

use crate::parse_error::Place;
use std::path::PathBuf;

/// Why rules could not be loaded or compiled.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// A rule file could not be read. The reason is the source, so `{:#}` shows it once.
    #[error("cannot read rule file {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        source: std::io::Error,
    },
    #[error("malformed rule file {file}{}: {message}",
        place.as_ref().map(Place::to_string).unwrap_or_default())]
    /// A rule file is not valid TOML, or not the shape of a rule file.
    Parse {
        /// The file.
        file: String,
        /// Line, column and key of a TOML error; `None` for a whole-file problem.
        place: Option<Place>,
        /// What is wrong, without quoting the file's text.
        message: String,
    },
    #[error("rule file {file}, rule `{rule}`: {problem}")]
    /// A rule parsed but is not usable (a bad regex, no `secret` group, a failing example).
    Invalid {
        /// The file the rule came from.
        file: String,
        /// The rule's id.
        rule: String,
        /// What is wrong with it.
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
