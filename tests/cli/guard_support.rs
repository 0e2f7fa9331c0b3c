//! The helper names the guard, action and pre-commit tests use (`Repo`, `Run`, `token`,
//! `assert_no_secret`), from the `unleak-testkit` crate, so a test file written with
//! `mod guard_support;` becomes a module here by changing it to `use crate::guard_support;`.

pub use unleak_testkit::{assert_no_secret, token, Repo, Run};
