//! unleak's filters: what the user has allowed and what a team has accepted.
//!
//! Owns: the `.unleak.toml` configuration ([`Config`]: allowlists, disabled rules, extra
//! rule files, per-rule overrides), applying allowlists and inline `unleak:allow` comments
//! to findings with the reason for each suppression ([`Filter`]), the baseline file
//! ([`Baseline`]) and the guard's verdict against it ([`judge`]: new, known, moved, fixed).
//!
//! Does not own: scanning (sources and the matcher), compiling rules (unleak-rules), or
//! printing (reporters and the CLI).

mod baseline;
mod config;
mod error;
mod filter;
mod verdict;

pub use baseline::{Baseline, Entry, BASELINE_FILE, BASELINE_VERSION, MAX_BASELINE_FILE};
pub use config::{Allowlist, Config, CONFIG_FILE, MAX_CONFIG_FILE};
pub use error::{BaselineError, ConfigError};
pub use filter::{Filter, Filtered, Reason};
pub use verdict::{judge, MovedFinding, NewFinding, Verdict};
