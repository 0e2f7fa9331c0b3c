//! Rules as data.
//!
//! Owns: the TOML rule schema ([`RuleFile`], [`RuleSpec`]), the built-in catalog embedded
//! from `rules/` at build time, loading user rule files, linting, token checksums
//! ([`Check`]), the deterministic example-token generator, compiling everything into
//! a [`RuleSet`] of ready-to-run regexes and the `paths` globs that scope a rule to
//! one kind of file (`paths`), and describing a settings file's parse error by
//! its place without quoting it ([`parse_error`], shared with `.unleak.toml` and
//! baselines).
//!
//! Does not own: matching blobs. The matcher consumes a [`RuleSet`]; `rules check` runs
//! rule examples through the matcher, one layer up.

mod check;
mod compile;
mod error;
pub mod generate;
pub mod parse_error;
mod paths;
mod schema;
mod simplify;

pub use check::Check;
pub use compile::{Companion, Rule, RuleOverride, RuleSet, RuleSetBuilder, MAX_RULE_FILE};
pub use error::RuleError;
pub use schema::{
    CompanionSpec, Example, ExampleTable, GatewayHint, Impact, NegativeExample, NegativeTable,
    RuleFile, RuleSpec,
};

include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// The built-in rule files as `(name, toml text)` pairs, in catalog order.
pub fn builtin_files() -> &'static [(&'static str, &'static str)] {
    BUILTIN
}

/// The built-in catalog, compiled.
pub fn builtin() -> Result<RuleSet, RuleError> {
    let mut b = RuleSetBuilder::new();
    b.add_builtin()?;
    b.build()
}
