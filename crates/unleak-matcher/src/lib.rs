//! Turns blobs into findings with a rule set.
//!
//! Owns: the keyword prefilter (one Aho-Corasick pass for every rule's keywords), regex
//! confirmation in windows around keyword hits, the entropy floor, token checks, the
//! placeholder filter, config-aware key/value detection (filed under the generic rules) judged
//! by the syntax of the file it is in (a bare value in source code is code),
//! decoding base64 / URL-encoded / hex-escaped runs and every `data:` value of a Kubernetes
//! Secret, and scanning what they hold, and
//! collapsing overlapping matches to the most specific rule. It also runs rule examples
//! (`rules check`) through that same path.
//!
//! Does not own: reading files or git objects (sources do), allowlists, inline ignores or
//! baselines (filters do), or printing.

mod build;
mod concat;
mod decode;
mod entropy;
mod examples;
mod k8s;
mod keyvalue;
mod literals;
mod matcher;
mod placeholder;
mod syntax;
#[cfg(test)]
mod work;

pub use build::{FindingBuilder, Placement, ALLOW_MARKER};
pub use decode::{encoded_text_runs, Encoding};
pub use entropy::shannon_entropy;
pub use examples::{check_rule, example_origin, ExampleFailure};
pub use keyvalue::{classify_key, KeyClass};
pub use literals::Literals;
pub use matcher::{keyword_window_covers, Match, Matcher, MatcherOptions, Matches};
pub use placeholder::{is_non_secret_value, is_placeholder};
