//! Errors from loading and compiling rules. Each names the file and, where known, the rule.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("cannot read rule file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("malformed rule file {file}: {message}")]
    Parse { file: String, message: String },
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
