//! What unleak's end-to-end tests share, so that no test file carries its own copy.
//!
//! It owns:
//! - running the real `unleak` binary and reading what it printed ([`bin`]);
//! - deterministic git repositories in temp dirs ([`repo`]);
//! - the small rule sets tests write to disk ([`rules`]);
//! - generated tokens and the "never leaked" check ([`tokens`]);
//! - snapshot files, compared or rewritten under `UNLEAK_BLESS=1` ([`snapshot`]);
//! - the fixture trees made from templates by the rule generator ([`fixtures`]; `cargo
//!   xtask fixtures` writes them);
//! - the Python venv with pre-commit and OpenBao that some tests drive, made on first
//!   use ([`tools`]).
//!
//! It does not own any test: the root integration-test binary (`tests/cli/main.rs`) does,
//! and it is a dev-dependency only. The binary is found next to the test executable
//! (where Cargo puts it for integration tests), so only the root package's tests, which
//! make Cargo build `unleak` first, can run it.

pub mod bin;
pub mod fixtures;
pub mod repo;
pub mod rules;
pub mod snapshot;
pub mod tokens;
pub mod tools;

pub use bin::{exe, json, output_run, repo_root, run_command, Run};
pub use repo::Repo;
pub use tokens::{assert_no_secret, assert_no_value, base64, token};
