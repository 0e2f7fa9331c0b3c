//! Turns blobs into findings with a rule set.
//!
//! Owns: the keyword prefilter (one Aho-Corasick pass for every rule's keywords), regex
//! confirmation in windows around keyword hits, the entropy floor, token checks, the
//! placeholder filter and collapsing overlapping matches to the most specific rule. It
//! also runs rule examples (`rules check`) through that same path.
//!
//! Does not own: reading files or git objects (sources do), allowlists, inline ignores or
//! baselines (filters do), or printing.

mod entropy;
mod examples;
mod matcher;
mod placeholder;

pub use entropy::shannon_entropy;
pub use examples::{check_rule, ExampleFailure};
pub use matcher::{Matcher, MatcherOptions, ALLOW_MARKER};
pub use placeholder::is_placeholder;
