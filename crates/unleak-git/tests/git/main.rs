//! Integration tests of unleak's git sources on repositories built by the tests.

mod common;
mod history;
mod range;
mod safety;
mod snapshot;
mod staged;
