//! docker compose: which images read `<VAR>_FILE`, which hosts are services of the same
//! file, and the edits a service `environment:` entry gets.
//!
//! Owns: the table of images known to read `_FILE` variables (with the image docs as the
//! source), the service names of a compose file, and rewriting an environment entry to
//! `${VAR:?set from vault}` interpolation (any image), or to `<KEY>_FILE` plus a compose
//! secret (only the images of the table), together with the other copies of the value in
//! the file. Does not own: deciding that an entry is a compose environment value
//! (`analyze`) or the vault names (`planner`).

use crate::analyze::FileCtx;
use crate::model::PlatformRef;
use crate::naming::{env_key, secret_id};
use crate::rewrite::RawEdit;
use crate::text::eol_of;
use crate::yaml::{Entry, Yaml};
use unleak_core::Span;

/// Official images whose entrypoint reads `<VAR>_FILE` for these variables (their
/// `file_env` calls). Sources, the "Docker Secrets" section of each image's page:
/// hub.docker.com/_/postgres ("only supported for POSTGRES_INITDB_ARGS, POSTGRES_PASSWORD,
/// POSTGRES_USER, and POSTGRES_DB"), hub.docker.com/_/mysql, hub.docker.com/_/mariadb (its
/// `MARIADB_*` variables and their `MYSQL_*` aliases) and hub.docker.com/_/mongo. Any
/// other image gets interpolation: `_FILE` is a convention of these entrypoints, not of
/// docker (gitea reads `GITEA__database__PASSWD__FILE`, mssql reads none).
const FILE_VARS: &[(&str, &[&str])] = &[
    (
        "postgres",
        &[
            "POSTGRES_PASSWORD",
            "POSTGRES_USER",
            "POSTGRES_DB",
            "POSTGRES_INITDB_ARGS",
        ],
    ),
    (
        "mysql",
        &[
            "MYSQL_ROOT_PASSWORD",
            "MYSQL_ROOT_HOST",
            "MYSQL_DATABASE",
            "MYSQL_USER",
            "MYSQL_PASSWORD",
        ],
    ),
    (
        "mariadb",
        &[
            "MARIADB_ROOT_PASSWORD",
            "MARIADB_ROOT_HOST",
            "MARIADB_DATABASE",
            "MARIADB_USER",
            "MARIADB_PASSWORD",
            "MYSQL_ROOT_PASSWORD",
            "MYSQL_ROOT_HOST",
            "MYSQL_DATABASE",
            "MYSQL_USER",
            "MYSQL_PASSWORD",
        ],
    ),
    (
        "mongo",
        &["MONGO_INITDB_ROOT_USERNAME", "MONGO_INITDB_ROOT_PASSWORD"],
    ),
];

/// Whether `image` (as a compose `image:` names it) is an official image of the table
/// whose entrypoint reads `<var>_FILE`. `bitnami/postgresql`, `postgis/postgis` or a
/// private mirror are not: their entrypoints differ.
pub(crate) fn image_reads_file_var(image: &str, var: &str) -> bool {
    let no_digest = image.split('@').next().unwrap_or(image);
    // A `:` after the last `/` starts the tag; one before it is a registry port.
    let name = match no_digest.rsplit_once(':') {
        Some((n, tag)) if !tag.contains('/') => n,
        _ => no_digest,
    };
    let name = name
        .strip_prefix("docker.io/")
        .or_else(|| name.strip_prefix("index.docker.io/"))
        .unwrap_or(name);
    let name = name.strip_prefix("library/").unwrap_or(name);
    FILE_VARS
        .iter()
        .any(|(img, vars)| *img == name && vars.contains(&var))
}

/// The keys of the top-level `services:` of the document holding line `at`.
pub(crate) fn services(y: &Yaml<'_>, at: usize) -> Vec<String> {
    let Some(top) = y.top_level(at, "services") else {
        return Vec::new();
    };
    let end = y.node_end(top);
    let Some(col) = (top + 1..=end)
        .find(|&k| y.lines[k].significant)
        .map(|k| y.lines[k].key_col)
    else {
        return Vec::new();
    };
    (top + 1..=end)
        .filter(|&k| y.lines[k].significant && !y.lines[k].dash && y.lines[k].key_col == col)
        .filter_map(|k| y.key(k).map(str::to_string))
        .collect()
}

/// Whether `host` names a service of the compose file: compose's network resolves a
/// service by its key, so no agent outside that network could reach it.
pub(crate) fn is_service(y: &Yaml<'_>, at: usize, host: &str) -> bool {
    services(y, at).iter().any(|s| s.eq_ignore_ascii_case(host))
}

/// The `image:` of the service whose `environment:` is on line `env_line`.
pub(crate) fn image_of(y: &Yaml<'_>, env_line: usize) -> Option<String> {
    let image = y.sibling(env_line, "image")?;
    y.scalar_text(image).map(str::to_string)
}

/// The compose interpolation that reads `var` from the runner's environment, failing
/// `docker compose` with a message when it is unset.
pub(crate) fn interpolation(var: &str) -> String {
    format!("${{{var}:?set from vault}}")
}

/// How one environment entry is rewritten.
pub(crate) struct EnvRewrite<'s> {
    pub entry: Entry,
    pub list_form: bool,
    /// The environment variable the service reads.
    pub key: &'s str,
    /// The variable the runner exports (from the vault).
    pub runner_var: String,
    /// Use `<key>_FILE` and a compose secret (the image reads it); otherwise interpolate.
    pub file_var: bool,
    /// Only this part of the value is the secret (a password inside a URL to another
    /// service): it alone is replaced.
    pub part: Option<Span>,
    /// Other copies of the value in the file (a healthcheck repeating a password).
    pub copies: &'s [Span],
}

pub(crate) fn rewrite_env(
    ctx: &FileCtx<'_>,
    r: &EnvRewrite<'_>,
    edits: &mut Vec<RawEdit>,
) -> (PlatformRef, String) {
    let y = ctx.yaml();
    let var = &r.runner_var;
    let key = r.key;
    let interp = interpolation(var);
    // Compose interpolates every value of the file, so each copy reads the same variable.
    for c in r.copies {
        edits.push(RawEdit {
            span: *c,
            text: interp.clone(),
            header: None,
        });
    }
    let copies_note = if r.copies.is_empty() {
        String::new()
    } else {
        format!(
            " {} other cop{} of the value in the file (a healthcheck, a command) read{} ${{{var}}} too.",
            r.copies.len(),
            if r.copies.len() == 1 { "y" } else { "ies" },
            if r.copies.len() == 1 { "s" } else { "" }
        )
    };
    if let Some(part) = r.part {
        edits.push(RawEdit {
            span: part,
            text: interp,
            header: None,
        });
        return (
            PlatformRef::EnvVar { name: var.clone() },
            format!(
                "{key} points at another service of this compose file, so it stays on the compose network; only the secret is replaced by ${{{var}}}, which docker compose fills from the runner's environment. Export {var} from the vault before `docker compose up`.{copies_note}"
            ),
        );
    }
    if !r.file_var {
        // Quoted: a plain scalar must not start with `$` in every YAML reader, and the
        // quotes keep `{` `}` out of flow-context trouble.
        let text = if r.list_form {
            format!("\"{key}={interp}\"")
        } else {
            format!("\"{interp}\"")
        };
        edits.push(RawEdit {
            span: r.entry.scalar.token,
            text,
            header: None,
        });
        return (
            PlatformRef::EnvVar { name: var.clone() },
            format!(
                "The service reads {key} from ${{{var}}}, which docker compose fills from the runner's environment (and refuses to start without). Export {var} from the vault before `docker compose up`.{copies_note}"
            ),
        );
    }
    let eol = eol_of(ctx.data);
    let id = secret_id(var);
    let l = &y.lines[r.entry.line];
    if r.list_form {
        edits.push(RawEdit {
            span: r.entry.scalar.inner,
            text: format!("{key}_FILE=/run/secrets/{id}"),
            header: None,
        });
    } else {
        edits.push(RawEdit {
            span: Span::new(l.key_token_start, r.entry.scalar.token.end),
            text: format!("{key}_FILE: /run/secrets/{id}"),
            header: None,
        });
    }
    let env_line = y.owner(r.entry.line).expect("checked by the slot");
    match y.sibling(env_line, "secrets") {
        Some(s) => {
            let end = y.node_end(s);
            let item_indent = (s + 1..=end)
                .find(|&k| y.lines[k].significant && y.lines[k].dash)
                .map_or(y.lines[s].key_col + 2, |k| y.lines[k].indent);
            let at = y.end_with_eol(end);
            let lead = if y.has_eol(end) { "" } else { eol };
            edits.push(RawEdit {
                span: Span::new(at, at),
                text: format!("{lead}{}- {id}{eol}", " ".repeat(item_indent)),
                header: None,
            });
        }
        None => {
            let last = y.mapping_bounds(env_line).1;
            let end = y.node_end(last);
            let kc = " ".repeat(y.lines[env_line].key_col);
            let at = y.end_with_eol(end);
            let lead = if y.has_eol(end) { "" } else { eol };
            edits.push(RawEdit {
                span: Span::new(at, at),
                text: format!("{kc}  - {id}{eol}"),
                header: Some(format!("{lead}{kc}secrets:{eol}")),
            });
        }
    }
    match y.top_level(r.entry.line, "secrets") {
        Some(top) => {
            let end = y.node_end(top);
            let ci = (top + 1..=end)
                .find(|&k| y.lines[k].significant)
                .map_or(2, |k| y.lines[k].key_col);
            let at = y.end_with_eol(end);
            let lead = if y.has_eol(end) { "" } else { eol };
            edits.push(RawEdit {
                span: Span::new(at, at),
                text: format!(
                    "{lead}{c}{id}:{eol}{c}  environment: {var}{eol}",
                    c = " ".repeat(ci)
                ),
                header: None,
            });
        }
        None => {
            let at = ctx.data.len();
            let lead = if ctx.data.is_empty() || ctx.data.ends_with(b"\n") {
                ""
            } else {
                eol
            };
            edits.push(RawEdit {
                span: Span::new(at, at),
                text: format!("  {id}:{eol}    environment: {var}{eol}"),
                header: Some(format!("{lead}secrets:{eol}")),
            });
        }
    }
    (
        PlatformRef::ComposeSecret {
            name: id.clone(),
            env: var.clone(),
        },
        format!(
            "The service now reads {key}_FILE=/run/secrets/{id}: its image's entrypoint reads {key}_FILE (see the image's \"Docker Secrets\" docs). Export {var} from the vault before `docker compose up`.{copies_note}"
        ),
    )
}

/// The runner variable a compose value is exported as: the vault entry's name.
pub(crate) fn runner_var(vault_name: &str) -> String {
    env_key(vault_name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_official_images_of_the_table_read_file_vars() {
        for image in [
            "postgres",
            "postgres:16-alpine",
            "docker.io/library/postgres:16",
            "library/postgres@sha256:0123",
        ] {
            assert!(image_reads_file_var(image, "POSTGRES_PASSWORD"), "{image}");
        }
        assert!(image_reads_file_var("mariadb:11", "MYSQL_PASSWORD"));
        assert!(image_reads_file_var(
            "mongo:7",
            "MONGO_INITDB_ROOT_PASSWORD"
        ));
        for (image, var) in [
            ("postgres:16", "DATABASE_URL"),
            ("bitnami/postgresql:16", "POSTGRES_PASSWORD"),
            ("gitea/gitea:1.21", "DB_PASSWD"),
            (
                "mcr.microsoft.com/mssql/server:2022-latest",
                "MSSQL_SA_PASSWORD",
            ),
            ("registry.local:5000/postgres", "POSTGRES_PASSWORD"),
            ("mongo:7", "MONGO_PASSWORD"),
        ] {
            assert!(!image_reads_file_var(image, var), "{image} {var}");
        }
    }

    #[test]
    fn services_are_the_keys_under_services() {
        let text = "services:\n  web:\n    image: app\n    environment:\n      DB: db\n  db:\n    image: postgres\nvolumes:\n  data:\n";
        let y = Yaml::parse(text.as_bytes());
        assert_eq!(services(&y, 0), ["web", "db"]);
        assert!(is_service(&y, 4, "DB"));
        assert!(!is_service(&y, 4, "data"));
        assert!(!is_service(&y, 4, "db.prod.internal"));
        assert_eq!(image_of(&y, 3).as_deref(), Some("app"));
    }
}
