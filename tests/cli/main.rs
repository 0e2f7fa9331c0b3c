//! unleak's end-to-end tests: one test binary (so Cargo links the dependency graph once,
//! not once per file) whose modules run the real `unleak` binary. Run one module with
//! `cargo test --test cli scan::`. Shared helpers live in the `unleak-testkit` crate;
//! `common` and `guard_support` keep the names the modules use.

mod common;
#[cfg(unix)]
mod gateway;
mod guard_support;

mod action;
mod archives_cli;
mod bad_input;
mod credential_files;
mod eval;
mod finding_schema;
mod git_cli;
mod guard;
mod guard_range;
mod image_cli;
mod mask_cli;
mod memory_budget;
mod migrate;
mod migrate_fixtures;
#[cfg(unix)]
mod migrate_gateway;
mod migrate_hostile;
mod precision;
mod precommit;
mod recall_cli;
mod sarif_cli;
mod scan;
mod security_config;
mod security_exit;
mod security_matcher;
mod security_output;
mod snapshots;
mod structure_cli;
mod utf16_cli;
