//! `unleak migrate`: move static secrets found in infrastructure files behind gateway
//! connections and a vault.
//!
//! Owns: per-file-type rewriters (`.env`, Dockerfile, Kubernetes manifests, Helm values,
//! docker compose, GitHub Actions workflows, connection strings anywhere), the strategy of
//! each finding (gateway tunnel, gateway-native, platform reference, manual), the
//! versioned edit plan with drift-proof checksums, the redacted diff, hoop.dev artifacts
//! (batch file, REST bodies, `register.sh`), External Secrets manifests, the rotation
//! list, applying a plan atomically and seeding a Vault-compatible KV v2 store.
//!
//! Does not own: scanning. The caller runs the matcher and hands over findings with the
//! bytes of their files ([`SourceFile`]); applying a saved plan takes a re-scan function.
//! No value is ever written anywhere but the vault: plans, diffs and artifacts hold
//! pointers, never a value or a hash of one.

mod analyze;
mod apply;
mod artifacts;
mod base_url;
mod compose;
mod connstr;
mod diff;
mod dockerfile;
mod dotenv;
mod error;
mod helm;
mod kind;
mod model;
mod naming;
mod planner;
mod policy;
mod register;
mod render;
mod rewrite;
mod text;
mod vault;
mod yaml;

pub use apply::{prepare, write_files, Prepared, PreparedFile};
pub use artifacts::{connections_yaml, external_secrets, rest_body, rotation_md, write_artifacts};
pub use base_url::check_gateway_url;
pub use diff::unified_diff;
pub use error::MigrateError;
pub use model::{
    Connection, Edit, FileKind, MaskedSpan, Plan, PlannedFile, PlannedFinding, PlatformRef,
    RotationItem, Settings, Strategy, ValueSource, VaultPointer, VaultWrite, PLAN_SCHEMA,
};
pub use naming::{repo_dir_name, slug};
pub use planner::{plan, PlanOptions, SourceFile};
pub use policy::{
    check_deny_word, check_entity_type, check_environment, check_group, parse_jit, Policy,
    DEFAULT_MASKING, ENVIRONMENTS,
};
pub use register::register_sh;
pub use render::{plan_summary, plan_text, scrub};
pub use text::{printable, value_forms};
pub use vault::{check_namespace, SeedReport, VaultClient, VaultConfig};

#[cfg(test)]
mod testutil;
