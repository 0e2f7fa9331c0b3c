//! Helm values: which Secret keys a chart reads once its `existingSecret` is set.
//!
//! Owns: the table of chart layouts unleak knows (the Bitnami postgresql, mysql,
//! mariadb, redis and mongodb charts: their `auth.*` password values, the Secret key each
//! is read from, and the `auth.secretKeys.*` / `existingSecretPasswordKey` knobs that
//! rename those keys), and deciding for one values literal which Secret and key it goes
//! to, or why that is not known (then the finding is `manual`: a wrong key makes the pods
//! fail to start). Does not own: the edits (`rewrite`) or the ExternalSecret
//! (`artifacts`).

use crate::analyze::FileCtx;
use crate::naming::slug;
use crate::yaml::{Entry, Quote, Yaml};

/// One password value of a chart's `auth` block.
struct Value {
    /// The values key, e.g. `postgresPassword`.
    key: &'static str,
    /// The Secret key the chart reads it from by default.
    secret_key: &'static str,
    /// The `auth.secretKeys.<knob>` that renames that key, if the chart has one.
    knob: Option<&'static str>,
    /// When the chart reads the key from the Secret even if the value is empty.
    needed: Need,
}

#[derive(Clone, Copy)]
enum Need {
    /// Only when the value is set.
    Never,
    /// Always (the root password of mysql and mariadb).
    Always,
    /// When this sibling is set (a custom user's password, when `username` names one).
    IfSet(&'static str),
    /// Unless this sibling is `false` (postgresql's `enablePostgresUser`, `auth.enabled`).
    UnlessFalse(&'static str),
}

/// Layouts from the charts' README parameter tables (github.com/bitnami/charts,
/// `bitnami/<chart>/README.md`, "auth" parameters) and `templates/_helpers.tpl`.
const CHARTS: &[(&str, &[Value])] = &[
    (
        "postgresql",
        &[
            Value {
                key: "postgresPassword",
                secret_key: "postgres-password",
                knob: Some("adminPasswordKey"),
                needed: Need::UnlessFalse("enablePostgresUser"),
            },
            Value {
                key: "password",
                secret_key: "password",
                knob: Some("userPasswordKey"),
                needed: Need::IfSet("username"),
            },
            Value {
                key: "replicationPassword",
                secret_key: "replication-password",
                knob: Some("replicationPasswordKey"),
                needed: Need::Never,
            },
        ],
    ),
    (
        "mysql",
        &[
            Value {
                key: "rootPassword",
                secret_key: "mysql-root-password",
                knob: None,
                needed: Need::Always,
            },
            Value {
                key: "password",
                secret_key: "mysql-password",
                knob: None,
                needed: Need::IfSet("username"),
            },
            Value {
                key: "replicationPassword",
                secret_key: "mysql-replication-password",
                knob: None,
                needed: Need::Never,
            },
        ],
    ),
    (
        "mariadb",
        &[
            Value {
                key: "rootPassword",
                secret_key: "mariadb-root-password",
                knob: None,
                needed: Need::Always,
            },
            Value {
                key: "password",
                secret_key: "mariadb-password",
                knob: None,
                needed: Need::IfSet("username"),
            },
            Value {
                key: "replicationPassword",
                secret_key: "mariadb-replication-password",
                knob: None,
                needed: Need::Never,
            },
        ],
    ),
    (
        "redis",
        &[Value {
            key: "password",
            secret_key: "redis-password",
            knob: None,
            needed: Need::UnlessFalse("enabled"),
        }],
    ),
    (
        "mongodb",
        &[
            Value {
                key: "rootPassword",
                secret_key: "mongodb-root-password",
                knob: None,
                needed: Need::UnlessFalse("enabled"),
            },
            Value {
                key: "replicaSetKey",
                secret_key: "mongodb-replica-set-key",
                knob: None,
                needed: Need::Never,
            },
        ],
    ),
];

/// Why a Bitnami mongodb block with custom users stays `manual`: the chart reads all their
/// passwords from one Secret key, `mongodb-passwords`, as `auth.password` and the
/// `auth.passwords` items joined with commas in the order of `auth.usernames`
/// (bitnami/mongodb `templates/secrets.yaml`, `mongodb.customPasswords` in
/// `templates/_helpers.tpl`; the `_FILE` form reads the same key). One vault entry per
/// value cannot fill a key that joins several.
const MONGODB_USERS: &str = "the mongodb chart reads every custom user's password from one Secret key, `mongodb-passwords`: auth.password and the auth.passwords items joined with commas, in the order of auth.usernames. Store that joined string in the vault and in the Secret under mongodb-passwords by hand (with mongodb-root-password, and mongodb-replica-set-key for a replica set), then set existingSecret and delete the literals";

/// A mongodb `auth` block (any line of it) that sets custom users' passwords: items under
/// `passwords`, or the deprecated single `password`.
fn mongodb_custom_passwords(y: &Yaml<'_>, line: usize) -> bool {
    let items = y.sibling(line, "passwords").is_some_and(|p| {
        match y.inline_flow(p).or_else(|| y.scalar_text(p)) {
            Some(t) => !matches!(t.split_whitespace().collect::<String>().as_str(), "" | "[]"),
            None => y.node_end(p) > p,
        }
    });
    items
        || y.sibling(line, "password")
            .and_then(|l| literal(y, l))
            .is_some()
}

/// Knobs that name the Secret key of a chart's single password (Bitnami redis
/// `auth.existingSecretPasswordKey`, and the same spelling in many other charts).
const KEY_KNOBS: &[&str] = &["existingSecretPasswordKey", "existingSecretKey"];

/// Where one values literal goes once `existing` (the empty `existingSecret`) is set.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// The line of the empty `existingSecret`-style key.
    pub existing: usize,
    /// The Secret every value of the block goes to.
    pub secret_name: String,
    pub secret_key: String,
    /// An empty key knob to fill with `secret_key` (a chart whose default is unknown).
    pub fill_knob: Option<usize>,
}

fn literal<'a>(y: &Yaml<'a>, line: usize) -> Option<&'a str> {
    y.scalar(line)
        .filter(|s| s.quote != Quote::Block)
        .and_then(|_| y.scalar_text(line))
        .filter(|v| !v.is_empty())
}

/// The chart a values block belongs to: `postgresql.auth` (a subchart, or
/// `global.postgresql.auth`), or a top-level `auth` in `<chart>/values.yaml`.
fn chart_of(ctx: &FileCtx<'_>, block: usize) -> Option<String> {
    let y = ctx.yaml();
    if y.key(block) != Some("auth") {
        return None;
    }
    match y.owner(block) {
        Some(parent) => y.key(parent).map(str::to_string),
        None => {
            let norm = ctx.path.replace('\\', "/");
            let mut dirs = norm.rsplit('/').skip(1);
            dirs.next().map(str::to_string)
        }
    }
}

/// The Secret name for a values block: its dotted path, slugged (`postgresql-auth`), or
/// `<chart>-auth` for a chart's own top-level `auth`.
fn secret_name(ctx: &FileCtx<'_>, block: usize) -> String {
    let y = ctx.yaml();
    let mut parts = Vec::new();
    let mut at = Some(block);
    while let Some(l) = at {
        if let Some(k) = y.key(l) {
            parts.push(slug(k));
        }
        at = y.owner(l);
    }
    if parts.len() == 1 {
        if let Some(chart) = chart_of(ctx, block) {
            parts.push(slug(&chart));
        }
    }
    parts.reverse();
    let name = parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if name.is_empty() {
        "chart-credentials".into()
    } else {
        name
    }
}

/// The Secret and key the literal at `e` goes to, or why unleak cannot know them.
/// `found` tells whether a literal is a value the scan found (in memory only).
pub(crate) fn target(
    ctx: &FileCtx<'_>,
    e: &Entry,
    found: &dyn Fn(&str) -> bool,
) -> Result<Target, String> {
    let y = ctx.yaml();
    let Some(key) = y.key(e.line) else {
        let list = y.owner(e.line);
        let mongodb_users = list.is_some_and(|l| {
            y.key(l) == Some("passwords")
                && y.owner(l).and_then(|b| chart_of(ctx, b)).as_deref() == Some("mongodb")
        });
        if mongodb_users {
            return Err(MONGODB_USERS.into());
        }
        return Err("the secret is a list item, not a chart value".into());
    };
    let existing = ["existingSecret", "existingSecretName"]
        .iter()
        .find_map(|k| y.sibling(e.line, k));
    let Some(existing) = existing else {
        return Err(format!(
            "this values block has no existingSecret-style key next to `{key}`; if the chart has one, set it to a Secret that an External Secrets ExternalSecret fills from its vault entry (named next); otherwise the chart's templates must read the value with valueFrom.secretKeyRef"
        ));
    };
    if let Some(current) = y.scalar_text(existing).filter(|v| !v.is_empty()) {
        return Err(format!(
            "`{}` already names the Secret `{current}`, so the chart ignores `{key}`: delete the literal",
            y.key(existing).unwrap_or("existingSecret")
        ));
    }
    if e.scalar.quote == Quote::Block {
        return Err("block-scalar chart values are not rewritten; empty it by hand".into());
    }
    let block = y.owner(e.line);
    let name = block.map_or_else(|| "chart-credentials".into(), |b| secret_name(ctx, b));
    let chart = block.and_then(|b| chart_of(ctx, b));
    let layout = chart
        .as_deref()
        .and_then(|c| CHARTS.iter().find(|(name, _)| *name == c))
        .map(|(_, values)| *values);
    let Some(values) = layout else {
        // An unknown chart: only a knob that names the key makes it known.
        let knob = KEY_KNOBS.iter().find_map(|k| y.sibling(e.line, k));
        return match knob {
            Some(k) => {
                // The knob names one key: a second found password in the block would
                // need another, which this chart's templates would not read.
                let (first, last) = y.mapping_bounds(e.line);
                let passwords = (first..=last)
                    .filter(|&l| y.lines[l].key_col == y.lines[e.line].key_col)
                    .filter(|&l| literal(y, l).is_some_and(found))
                    .count();
                if passwords > 1 {
                    return Err(format!(
                        "the block holds more than one secret, but its key knob `{}` names one Secret key; move them into the Secret by hand",
                        y.key(k).unwrap_or("existingSecretKey")
                    ));
                }
                let set = y.scalar_text(k).filter(|v| !v.is_empty());
                Ok(Target {
                    existing,
                    secret_name: name,
                    secret_key: set.map_or_else(|| slug(key), str::to_string),
                    fill_knob: set.is_none().then_some(k),
                })
            }
            None => Err(format!(
                "`existingSecret` is next to `{key}`, but unleak does not know which Secret keys this chart reads from it (it knows the Bitnami postgresql, mysql, mariadb, redis and mongodb layouts, and charts with an existingSecretPasswordKey knob); a guessed key would stop the pods from starting. Create the Secret with the keys the chart's templates read, fill it from the vault entry (named next), set existingSecret and delete the literal"
            )),
        };
    };
    let chart = chart.unwrap_or_default();
    if chart == "mongodb" && mongodb_custom_passwords(y, e.line) {
        return Err(MONGODB_USERS.into());
    }
    let Some(this) = values.iter().find(|v| v.key == key) else {
        return Err(format!(
            "the {chart} chart reads no Secret key for `{key}` that unleak knows; move it by hand"
        ));
    };
    // Once existingSecret is set, the chart reads every password of the block from that
    // Secret: each must be one the scan found (and so goes to the vault), or the pods fail.
    for v in values {
        let line = y.sibling(e.line, v.key);
        let value = line.and_then(|l| literal(y, l));
        match value {
            Some(text) if !found(text) => {
                return Err(format!(
                    "setting existingSecret makes the {chart} chart read `{}` from the Secret too, but its literal was not found as a secret, so unleak cannot fill that key; move `{}` and `{key}` into the Secret by hand",
                    v.key, v.key
                ))
            }
            Some(_) => {}
            None => {
                let sibling = |k: &str| y.sibling(e.line, k).and_then(|l| literal(y, l));
                let needed = match v.needed {
                    Need::Never => false,
                    Need::Always => true,
                    Need::IfSet(k) => sibling(k).is_some(),
                    Need::UnlessFalse(k) => sibling(k) != Some("false"),
                };
                if needed {
                    return Err(format!(
                        "setting existingSecret makes the {chart} chart read `{}` (key {}) from the Secret too, and that value is empty here; put it in the vault and the Secret by hand, then set existingSecret",
                        v.key, v.secret_key
                    ));
                }
            }
        }
    }
    let renamed = this.knob.and_then(|k| {
        let keys = y.sibling(e.line, "secretKeys")?;
        literal(y, y.child(keys, k)?).map(str::to_string)
    });
    let renamed = renamed.or_else(|| {
        // Bitnami redis names its single key with a sibling knob.
        (chart == "redis")
            .then(|| KEY_KNOBS.iter().find_map(|k| y.sibling(e.line, k)))
            .flatten()
            .and_then(|l| literal(y, l))
            .map(str::to_string)
    });
    Ok(Target {
        existing,
        secret_name: name,
        secret_key: renamed.unwrap_or_else(|| this.secret_key.to_string()),
        fill_knob: None,
    })
}
