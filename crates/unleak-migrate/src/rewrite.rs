//! The edits each file type gets, once names are known.
//!
//! Owns: turning an [`Analysis`] plus its resolved connection and vault names into byte
//! edits that touch only the secret's value (and insert whole lines where a file type
//! needs them: a note above a `.env` line, a `--mount` on a `RUN`, a sidecar container, a
//! compose `secrets:` entry), the platform reference the file now reads, and the
//! instruction a person follows. Does not own: choosing the strategy (`analyze`) or
//! merging edits of several findings (`planner`).

use crate::analyze::{Analysis, FileCtx, Slot, Target};
use crate::model::{FileKind, PlatformRef, Strategy, VaultPointer};
use crate::naming::{env_key, github_secret_name, k8s_label, secret_id};
use crate::text::eol_of;
use unleak_core::Span;

/// One edit of one finding. Insertions with the same `header` at the same offset share
/// one copy of the header (a `secrets:` key two findings add entries under).
#[derive(Clone, Debug)]
pub(crate) struct RawEdit {
    pub span: Span,
    pub text: String,
    pub header: Option<String>,
}

/// Names resolved for one finding.
pub(crate) struct Resolved<'a> {
    pub connection: Option<(&'a str, Option<u16>)>,
    /// The pointer the file's platform slot reads: the value itself (platform-ref) or
    /// the minted gateway credential (gateway-native).
    pub slot_pointer: &'a VaultPointer,
    /// The value's own pointer (what is seeded).
    pub value_pointer: &'a VaultPointer,
    /// `--gateway-url`, what base-URL variables are set to.
    pub gateway_url: Option<&'a str>,
}

pub(crate) struct Rewrite {
    pub edits: Vec<RawEdit>,
    pub platform: Option<PlatformRef>,
    pub instruction: String,
}

fn spaces(n: usize) -> String {
    " ".repeat(n)
}

fn leaf(p: &VaultPointer) -> &str {
    p.path.rsplit('/').next().unwrap_or(&p.path)
}

pub(crate) fn rewrite(ctx: &FileCtx<'_>, a: &Analysis<'_>, names: &Resolved<'_>) -> Rewrite {
    match a.strategy {
        Strategy::GatewayTunnel => tunnel(ctx, a, names),
        Strategy::GatewayNative | Strategy::PlatformRef => slot(ctx, a, names),
        Strategy::Manual => match &a.secret_manifest {
            // The manifest stays as it is (its other keys may not be secrets); the
            // ExternalSecret that replaces it is in the artifacts.
            Some(secret @ PlatformRef::K8sSecret { name, key, .. }) => Rewrite {
                edits: Vec::new(),
                platform: Some(secret.clone()),
                instruction: format!(
                    "This is a Secret manifest: stop applying it and apply k8s/external-secrets.yaml instead, whose ExternalSecret fills the Secret `{name}` with the same keys from the vault (`{key}` from {}{}, once seeded with --seed vault). Move any key not listed there into the vault first; rotate it.",
                    names.value_pointer.display(),
                    if a.value.base64 { ", stored decoded" } else { "" }
                ),
            },
            _ => Rewrite {
                edits: Vec::new(),
                platform: None,
                instruction: format!(
                    "{} The value is kept in vault at {} once seeded (--seed vault); rotate it once the code no longer holds it.",
                    capitalise(a.manual_reason.as_deref().unwrap_or("change this by hand.")),
                    names.value_pointer.display()
                ),
            },
        },
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = c
        .next()
        .map(|f| f.to_uppercase().collect())
        .unwrap_or_default();
    out.push_str(c.as_str());
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

fn tunnel(ctx: &FileCtx<'_>, a: &Analysis<'_>, names: &Resolved<'_>) -> Rewrite {
    let Target::Db(conn) = &a.target else {
        unreachable!("tunnel strategy has a database target")
    };
    let (name, port) = names.connection.expect("tunnel findings have a connection");
    let port = port.expect("tunnel connections have a local port");
    let eol = eol_of(ctx.data);
    let mut edits: Vec<RawEdit> = conn
        .credential_less_edits(port)
        .into_iter()
        .map(|(span, text)| RawEdit {
            span,
            text,
            header: None,
        })
        .collect();
    let mut instruction = format!(
        "The file now reaches hoop connection {name} through a local tunnel at 127.0.0.1:{port} with noop credentials: run `hoop connect {name} -p {port}` beside the workload (same host or network namespace)."
    );
    match ctx.kind {
        FileKind::Dotenv => {
            let line = ctx.lines.line_of(conn.span.start);
            let at = ctx.lines.start(line);
            edits.push(RawEdit {
                span: Span::new(at, at),
                text: format!("# unleak: hoop connection {name} (run: hoop connect {name} -p {port}){eol}"),
                header: None,
            });
        }
        FileKind::Kubernetes => match k8s_sidecar(ctx, conn.span.start, name, port) {
            Some(edit) => {
                edits.push(edit);
                instruction = format!(
                    "The container now reaches hoop connection {name} at 127.0.0.1:{port} with noop credentials, through the sidecar container {} added to the pod (pin its image). Create the Secret `hoop-client` (keys HOOP_APIURL, HOOP_GRPCURL, HOOP_TOKEN: a hoop API key) in the pod's namespace.",
                    k8s_label(&format!("hoop-{name}"))
                );
            }
            None => instruction.push_str(&format!(
                " Add a sidecar container running `hoop connect {name} -p {port}` to the pod."
            )),
        },
        FileKind::Compose => instruction.push_str(&format!(
            " In compose: add a service running `hoop connect {name} -p {port}` and give this service `network_mode: \"service:<that service>\"`."
        )),
        FileKind::GithubWorkflow => instruction.push_str(&format!(
            " In the job: add a step before this one running `hoop connect {name} -p {port} &`, with HOOP_TOKEN: ${{{{ secrets.HOOP_API_KEY }}}} (and HOOP_APIURL, HOOP_GRPCURL) in its env."
        )),
        FileKind::Dockerfile => instruction.push_str(
            " The container must run hoop connect itself or share the network namespace of a container that does.",
        ),
        _ => {}
    }
    Rewrite {
        edits,
        platform: None,
        instruction,
    }
}

/// A hoop sidecar container appended to the pod's `containers:` list, for the env value
/// at `offset`.
fn k8s_sidecar(ctx: &FileCtx<'_>, offset: usize, name: &str, port: u16) -> Option<RawEdit> {
    let y = ctx.yaml();
    let line = y.line_of(offset);
    if y.key(line) != Some("value") {
        return None;
    }
    let env = y.owner(line).filter(|&o| y.key(o) == Some("env"))?;
    let container = y.mapping_bounds(env).0;
    if !y.lines[container].dash {
        return None;
    }
    let containers = y
        .owner(container)
        .filter(|&c| y.key(c) == Some("containers"))?;
    let last = y.node_end(containers);
    let eol = eol_of(ctx.data);
    let d = spaces(y.lines[container].indent);
    let c = spaces(y.lines[container].key_col);
    let lead = if y.has_eol(last) { "" } else { eol };
    let text = format!(
        "{lead}{d}- name: {label}{eol}\
         {c}image: hoophq/hoopdev:latest{eol}\
         {c}command: [\"hoop\", \"connect\", \"{name}\", \"-p\", \"{port}\"]{eol}\
         {c}env:{eol}\
         {c}  - name: HOOP_APIURL{eol}\
         {c}    valueFrom: {{secretKeyRef: {{name: hoop-client, key: HOOP_APIURL}}}}{eol}\
         {c}  - name: HOOP_GRPCURL{eol}\
         {c}    valueFrom: {{secretKeyRef: {{name: hoop-client, key: HOOP_GRPCURL}}}}{eol}\
         {c}  - name: HOOP_TOKEN{eol}\
         {c}    valueFrom: {{secretKeyRef: {{name: hoop-client, key: HOOP_TOKEN}}}}{eol}",
        label = k8s_label(&format!("hoop-{name}")),
    );
    let at = y.end_with_eol(last);
    Some(RawEdit {
        span: Span::new(at, at),
        text,
        header: None,
    })
}

fn slot(ctx: &FileCtx<'_>, a: &Analysis<'_>, names: &Resolved<'_>) -> Rewrite {
    let slot = a
        .slot
        .as_ref()
        .expect("platform and native findings have a slot");
    let p = names.slot_pointer;
    let eol = eol_of(ctx.data);
    let key = a
        .key_name
        .clone()
        .unwrap_or_else(|| a.finding.rule_id.to_string());
    let native = names
        .connection
        .map(|(n, _)| n)
        .filter(|_| a.strategy == Strategy::GatewayNative);
    let via = match native {
        Some(conn) => format!(
            "hoop connection {conn} holds the real credential and injects it upstream; the workload gets a gateway credential instead, which register.sh mints and keeps in vault at {}. Point the client's base URL at the gateway's HTTP proxy listener.",
            p.display()
        ),
        None => format!("The value is kept in vault at {}.", p.display()),
    };
    let mut edits = Vec::new();
    let (platform, how) = match slot {
        Slot::Dotenv(asg) => {
            edits.push(RawEdit {
                span: asg.value,
                text: String::new(),
                header: None,
            });
            let at = ctx.lines.start(asg.line);
            let note = match native {
                Some(conn) => format!(
                    "# unleak: {key} goes through hoop connection {conn}: set it to the gateway credential kept in vault at {} at run time{eol}",
                    p.display()
                ),
                None => format!(
                    "# unleak: {key} is kept in vault at {}; set it at run time{eol}",
                    p.display()
                ),
            };
            edits.push(RawEdit {
                span: Span::new(at, at),
                text: note,
                header: None,
            });
            (
                PlatformRef::EnvVar { name: key.clone() },
                format!(
                    "The variable is now empty; set {key} from the vault when the process starts."
                ),
            )
        }
        Slot::DockerBuild {
            ins,
            pair,
            runs,
            env,
        } => {
            let id = secret_id(&key);
            edits.push(remove_pair(
                ctx,
                *ins,
                *pair,
                &format!("# unleak: {key} is a BuildKit secret now: docker build --secret id={id},env={key} ."),
            ));
            for r in runs {
                let at = ctx.docker[*r].args.start;
                edits.push(RawEdit {
                    span: Span::new(at, at),
                    text: format!("--mount=type=secret,id={id},env={key} "),
                    header: None,
                });
            }
            let mut how = format!(
                "Build with `docker build --secret id={id},env={key} .` with {key} exported from the vault; RUN instructions read it from a BuildKit secret mount (the `env=` option needs Dockerfile syntax 1.10 or later), so it no longer persists in the image."
            );
            if *env {
                how.push_str(&format!(
                    " It was also an ENV of the image: if the running container needs it, inject it at run time (docker run -e {key})."
                ));
            }
            (
                PlatformRef::BuildSecret {
                    id,
                    env: key.clone(),
                },
                how,
            )
        }
        Slot::DockerRuntime { ins, pair } => {
            edits.push(remove_pair(
                ctx,
                *ins,
                *pair,
                &format!("# unleak: {key} is injected at run time now (docker run -e {key}, or the orchestrator's secret)"),
            ));
            (
                PlatformRef::EnvVar { name: key.clone() },
                format!("The image no longer carries {key}; inject it when the container starts (docker run -e {key}, or the orchestrator's secret)."),
            )
        }
        Slot::DockerRun { ins } => {
            let var = env_key(&key);
            let id = secret_id(&var);
            let quoted =
                in_single_quotes(ctx.data, ctx.docker[*ins].args.start, a.finding.span.start);
            let span = a.finding.span;
            // Inside single quotes the variable must step out of them to expand.
            let (span, text) = match (quoted, ctx.data.get(span.end)) {
                (true, Some(b'\'')) => (
                    Span::new(span.start, span.end + 1),
                    format!("'\"${{{var}}}\""),
                ),
                (true, _) => (span, format!("'\"${{{var}}}\"'")),
                (false, _) => (span, format!("${{{var}}}")),
            };
            edits.push(RawEdit {
                span,
                text,
                header: None,
            });
            let at = ctx.docker[*ins].args.start;
            edits.push(RawEdit {
                span: Span::new(at, at),
                text: format!("--mount=type=secret,id={id},env={var} "),
                header: None,
            });
            (
                PlatformRef::BuildSecret { id: id.clone(), env: var.clone() },
                format!("Build with `docker build --secret id={id},env={var} .` with {var} exported from the vault (the `env=` mount option needs Dockerfile syntax 1.10 or later)."),
            )
        }
        Slot::K8sEnv { entry, namespace } => {
            let y = ctx.yaml();
            let l = &y.lines[entry.line];
            let ind = spaces(l.key_col);
            let name = leaf(p).to_string();
            edits.push(RawEdit {
                span: Span::new(l.key_token_start, entry.scalar.token.end),
                text: format!(
                    "valueFrom:{eol}{ind}  secretKeyRef:{eol}{ind}    name: {name}{eol}{ind}    key: {}",
                    p.key
                ),
                header: None,
            });
            (
                PlatformRef::K8sSecret {
                    namespace: namespace.clone(),
                    name: name.clone(),
                    key: p.key.clone(),
                },
                format!("The container reads Secret `{name}` (key {}); apply the ExternalSecret in k8s/external-secrets.yaml so External Secrets fills it from the vault.", p.key),
            )
        }
        Slot::HelmExisting { entry, target } => {
            let y = ctx.yaml();
            let name = &target.secret_name;
            let secret_key = &target.secret_key;
            edits.push(RawEdit {
                span: entry.scalar.token,
                text: "\"\"".into(),
                header: None,
            });
            // Every value of the block sets the same existingSecret (and knob): identical
            // edits, merged once.
            edits.push(fill_value(ctx, y, target.existing, name));
            if let Some(knob) = target.fill_knob {
                edits.push(fill_value(ctx, y, knob, secret_key));
            }
            (
                PlatformRef::K8sSecret {
                    namespace: None,
                    name: name.clone(),
                    key: secret_key.clone(),
                },
                format!(
                    "The chart now reads Secret `{name}` (key {secret_key}) through `{}`; apply the ExternalSecret in k8s/external-secrets.yaml (in the release's namespace) so External Secrets fills it from the vault.",
                    y.key(target.existing).unwrap_or("existingSecret")
                ),
            )
        }
        Slot::ComposeEnv {
            entry,
            list_form,
            env_key_name,
            file_var,
            part,
        } => {
            // A platform value is named by its (de-duplicated) vault entry; a gateway
            // credential by the variable that carries it.
            let name = if native.is_some() {
                env_key_name.clone()
            } else {
                leaf(p).to_string()
            };
            crate::compose::rewrite_env(
                ctx,
                &crate::compose::EnvRewrite {
                    entry: *entry,
                    list_form: *list_form,
                    key: env_key_name,
                    runner_var: crate::compose::runner_var(&name),
                    file_var: *file_var && native.is_none(),
                    part: *part,
                    copies: &a.copies,
                },
                &mut edits,
            )
        }
        Slot::ComposeCopy => {
            let var = crate::compose::runner_var(leaf(p));
            (
                PlatformRef::EnvVar { name: var.clone() },
                format!("This copy of a value the compose file also sets in a service's environment now reads ${{{var}}} like it; docker compose fills it from the runner's environment. Export {var} from the vault before `docker compose up`."),
            )
        }
        Slot::Workflow { span } => {
            let base = match native {
                Some(conn) => format!("{conn}-proxy-token"),
                None => leaf(p).to_string(),
            };
            let name = github_secret_name(&base);
            edits.push(RawEdit {
                span: *span,
                text: format!("${{{{ secrets.{name} }}}}"),
                header: None,
            });
            (
                PlatformRef::GithubSecret { name: name.clone() },
                format!("Set the repository secret {name} from the vault (register.sh prints the command: vault kv get … | gh secret set {name})."),
            )
        }
    };
    let mut how = how;
    if let (Some(conn), Target::Http { host, .. }) = (native, &a.target) {
        if let Some((var, path)) = crate::base_url::for_host(host) {
            let url = names.gateway_url.map(|g| format!("{g}{path}"));
            let set = base_url_edit(ctx, slot, var, url.as_deref());
            let done = match (&set, &url) {
                (Some(_), Some(_)) => "is set next to it",
                (Some(_), None) => "is added next to it; set it",
                (None, _) => "must be set",
            };
            edits.extend(set);
            let to = match &url {
                Some(u) => u.clone(),
                None => crate::base_url::value_hint(path),
            };
            how.push_str(&format!(
                " The client reads its base URL from {var}, which {done} to {to} for hoop connection {conn}."
            ));
        }
    }
    if matches!(slot, Slot::DockerBuild { runs, .. } if !runs.is_empty())
        || matches!(slot, Slot::DockerRun { .. })
    {
        if let crate::dockerfile::SyntaxPin::Raise { version, from } =
            crate::dockerfile::syntax_pin(ctx.data, &ctx.lines)
        {
            edits.push(RawEdit {
                span: version,
                text: "1.10".into(),
                header: None,
            });
            how.push_str(&format!(
                " The `# syntax=` pin is raised from {from} to docker/dockerfile:1.10, the first that reads env= secret mounts."
            ));
        }
    }
    Rewrite {
        edits,
        platform: Some(platform),
        instruction: format!("{how} {via}"),
    }
}

/// The line that sets a client's base-URL variable `var` next to a gateway-native value,
/// where the file type has a place for it and does not set the variable already.
fn base_url_edit(ctx: &FileCtx<'_>, slot: &Slot, var: &str, url: Option<&str>) -> Option<RawEdit> {
    let eol = eol_of(ctx.data);
    let after_line = |line: usize| {
        if line + 1 < ctx.lines.count() {
            (ctx.lines.start(line + 1), "")
        } else if ctx.data.ends_with(b"\n") {
            (ctx.data.len(), "")
        } else {
            (ctx.data.len(), eol)
        }
    };
    match slot {
        Slot::Dotenv(asg) => {
            let text = String::from_utf8_lossy(ctx.data);
            let assigned = text.lines().any(|l| {
                let l = l.trim_start();
                let l = l.strip_prefix("export ").unwrap_or(l).trim_start();
                l.strip_prefix(var)
                    .is_some_and(|r| r.trim_start().starts_with('='))
            });
            if assigned {
                return None;
            }
            let (at, lead) = after_line(asg.line);
            Some(RawEdit {
                span: Span::new(at, at),
                text: format!("{lead}{var}={}{eol}", url.unwrap_or_default()),
                header: None,
            })
        }
        Slot::ComposeEnv {
            entry, list_form, ..
        } => {
            let y = ctx.yaml();
            let (first, last) = y.mapping_bounds(entry.line);
            let col = y.lines[entry.line].key_col;
            let assigned = (first..=y.node_end(last)).any(|k| {
                let l = &y.lines[k];
                l.key_col == col
                    && (y.key(k) == Some(var)
                        || y.scalar_text(k)
                            .is_some_and(|t| t.split('=').next() == Some(var) && t.contains('=')))
            });
            if assigned {
                return None;
            }
            let end = y.node_end(entry.line);
            let at = y.end_with_eol(end);
            let lead = if y.has_eol(end) { "" } else { eol };
            let interp = match url {
                Some(u) => u.to_string(),
                None => format!("${{{var}:?set to the gateway HTTP proxy URL}}"),
            };
            let l = &y.lines[entry.line];
            let text = if *list_form {
                format!("{lead}{}- \"{var}={interp}\"{eol}", " ".repeat(l.indent))
            } else {
                format!("{lead}{}{var}: \"{interp}\"{eol}", " ".repeat(l.key_col))
            };
            Some(RawEdit {
                span: Span::new(at, at),
                text,
                header: None,
            })
        }
        _ => None,
    }
}

/// Set the (empty) value of the key on `line` to `text`.
fn fill_value(ctx: &FileCtx<'_>, y: &crate::yaml::Yaml<'_>, line: usize, text: &str) -> RawEdit {
    let l = &y.lines[line];
    match y.scalar(line) {
        Some(s) => RawEdit {
            span: s.token,
            text: text.to_string(),
            header: None,
        },
        None => {
            let at = l.value_at.unwrap_or(l.end);
            let text = if at < l.end {
                format!("{text} ")
            } else if ctx.data[at - 1] == b' ' {
                text.to_string()
            } else {
                format!(" {text}")
            };
            RawEdit {
                span: Span::new(at, at),
                text,
                header: None,
            }
        }
    }
}

/// Take one `KEY=value` out of an `ENV`/`ARG`; when it is the instruction's only pair,
/// the instruction becomes `note`.
fn remove_pair(
    ctx: &FileCtx<'_>,
    ins: usize,
    pair: crate::dockerfile::Pair,
    note: &str,
) -> RawEdit {
    let instr = &ctx.docker[ins];
    let pairs = crate::dockerfile::pairs(ctx.data, instr);
    if pairs.len() <= 1 {
        return RawEdit {
            span: Span::new(instr.start, instr.args.end),
            text: note.to_string(),
            header: None,
        };
    }
    let mut start = pair.token.start;
    while start > instr.args.start && matches!(ctx.data[start - 1], b' ' | b'\t') {
        start -= 1;
    }
    let mut end = pair.token.end;
    if start == instr.args.start {
        while end < instr.args.end && matches!(ctx.data[end], b' ' | b'\t') {
            end += 1;
        }
    }
    RawEdit {
        span: Span::new(start, end),
        text: String::new(),
        header: None,
    }
}

/// Whether `offset` sits inside single quotes of the shell text starting at `from`.
fn in_single_quotes(data: &[u8], from: usize, offset: usize) -> bool {
    let mut single = false;
    let mut double = false;
    let mut i = from;
    while i < offset {
        match data[i] {
            b'\\' if !single => i += 1,
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            _ => {}
        }
        i += 1;
    }
    single
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_quote_tracking() {
        let s = b"RUN curl -H 'Authorization: Bearer X' \"$U\"";
        let x = s.iter().position(|b| *b == b'X').unwrap();
        assert!(in_single_quotes(s, 4, x));
        let u = s.iter().position(|b| *b == b'U').unwrap();
        assert!(!in_single_quotes(s, 4, u));
    }
}
