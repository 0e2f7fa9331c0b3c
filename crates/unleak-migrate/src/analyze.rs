//! Per finding: where the secret sits in its file, what it unlocks, and which strategy fits.
//!
//! Owns: locating the assignment that holds a secret for each file type, reading the
//! target from the context (a connection string around a password, a URL on the line, the
//! rule's `[gateway]` hint), deciding the strategy and whether the file type offers a slot
//! for a platform reference, and what value goes to the vault. Does not own: names (they
//! need every finding, see `planner`) or the edits themselves (see `rewrite`).

use crate::connstr::{self, ConnString};
use crate::dockerfile::{self, Instruction, Pair};
use crate::dotenv::{self, Assignment};
use crate::model::{FileKind, PlatformRef, Strategy};
use crate::naming::{env_key, slug};
use crate::text::Lines;
use crate::yaml::{Entry, Quote, Yaml};
use unleak_core::{Finding, Span};
use unleak_rules::Rule;

/// One file and its parsed views.
pub(crate) struct FileCtx<'a> {
    pub path: &'a str,
    pub data: &'a [u8],
    pub kind: FileKind,
    pub lines: Lines,
    pub yaml: Option<Yaml<'a>>,
    pub docker: Vec<Instruction>,
}

impl<'a> FileCtx<'a> {
    pub(crate) fn new(path: &'a str, data: &'a [u8]) -> Self {
        let kind = crate::kind::detect(path, data);
        let lines = Lines::new(data);
        let yaml = matches!(
            kind,
            FileKind::Kubernetes
                | FileKind::HelmValues
                | FileKind::Compose
                | FileKind::GithubWorkflow
        )
        .then(|| Yaml::parse(data));
        let docker = if kind == FileKind::Dockerfile {
            dockerfile::instructions(data, &lines)
        } else {
            Vec::new()
        };
        FileCtx {
            path,
            data,
            kind,
            lines,
            yaml,
            docker,
        }
    }

    pub(crate) fn text(&self, s: Span) -> &'a str {
        std::str::from_utf8(&self.data[s.start..s.end]).unwrap_or("")
    }

    pub(crate) fn yaml(&self) -> &Yaml<'a> {
        self.yaml.as_ref().expect("YAML file kinds are parsed")
    }
}

/// Where a secret sits.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Site {
    Dotenv(Assignment),
    Docker {
        ins: usize,
        pair: Pair,
    },
    /// Inside a `RUN` (or other) instruction's text.
    DockerText {
        ins: usize,
    },
    Yaml(Entry),
    None,
}

/// The platform mechanism a file type offers at a site.
#[derive(Clone, Debug)]
pub(crate) enum Slot {
    /// `.env`: empty the value, note where it went.
    Dotenv(Assignment),
    /// `ARG`/`ENV` read by `RUN` instructions: a BuildKit secret mount on each of them.
    DockerBuild {
        ins: usize,
        pair: Pair,
        runs: Vec<usize>,
        /// An `ENV` also reached the running container.
        env: bool,
    },
    /// `ENV` nothing in the build reads: inject it at run time instead.
    DockerRuntime { ins: usize, pair: Pair },
    /// A literal inside a `RUN`: the variable plus a secret mount on that `RUN`.
    DockerRun { ins: usize },
    /// A container env `value:` → `valueFrom.secretKeyRef`.
    K8sEnv {
        entry: Entry,
        namespace: Option<String>,
    },
    /// A Helm values literal next to an empty `existingSecret`, going to the Secret and
    /// key the chart reads (see `helm`).
    HelmExisting {
        entry: Entry,
        target: crate::helm::Target,
    },
    /// A compose service `environment:` entry → `${VAR:?…}` interpolation, or
    /// `<KEY>_FILE` plus `secrets:` for an image that reads it.
    ComposeEnv {
        entry: Entry,
        list_form: bool,
        env_key_name: String,
        /// The service's image reads `<KEY>_FILE` (see `compose`).
        file_var: bool,
        /// The secret is a part of the value (a password in a URL to another service
        /// of the file): only it is replaced.
        part: Option<Span>,
    },
    /// Another finding of the same value in the same compose file (a healthcheck
    /// repeating a password): the compose entry's rewrite replaces it (see
    /// `planner::compose_copies`); it adds no edit of its own.
    ComposeCopy,
    /// A workflow value → `${{ secrets.NAME }}` over `span`.
    Workflow { span: Span },
}

/// What the finding reaches and through what.
#[derive(Clone, Debug)]
pub(crate) enum Target {
    Db(Box<ConnString>),
    Http {
        remote_url: String,
        host: String,
        /// `HEADER_<NAME>`.
        env_key: String,
    },
    None,
}

/// The value stored in the vault: a span of the file, an optional literal prefix, and
/// whether it is percent-encoded.
#[derive(Clone, Debug)]
pub(crate) struct ValueSpec {
    pub span: Span,
    pub prefix: String,
    pub percent: bool,
    /// The span is base64 (a Kubernetes Secret's `data:`): the vault gets it decoded.
    pub base64: bool,
}

pub(crate) struct Analysis<'a> {
    pub finding: &'a Finding,
    pub file: usize,
    pub key_name: Option<String>,
    pub strategy: Strategy,
    pub target: Target,
    pub slot: Option<Slot>,
    pub value: ValueSpec,
    /// Why the strategy is `manual` (what must change).
    pub manual_reason: Option<String>,
    /// Identity and wanted name of the value's own vault location (platform-ref, manual).
    pub platform_identity: String,
    pub platform_base: String,
    /// A key of a Kubernetes Secret manifest: the Secret an `ExternalSecret` of the same
    /// name and key fills from the vault instead.
    pub secret_manifest: Option<PlatformRef>,
    /// Other copies of the value in the file that the rewrite replaces too (compose
    /// interpolation reaches every value of the file); set by the planner.
    pub copies: Vec<Span>,
}

/// `values` are every secret value found (in memory only): a name from the file that holds
/// one is not used, so the plan, which is written to disk, never carries a value.
pub(crate) fn analyze<'a>(
    ctx: &FileCtx<'_>,
    file: usize,
    finding: &'a Finding,
    rule: Option<&Rule>,
    values: &[&[u8]],
) -> Analysis<'a> {
    let span = finding.span;
    let holds_value = |name: &str| {
        values
            .iter()
            .any(|v| name.as_bytes().windows(v.len()).any(|w| w == *v))
    };
    let site = locate(ctx, span);
    let key_name = site_key(ctx, &site, span)
        .or_else(|| guess_key(ctx.data, span))
        .filter(|k| !holds_value(k));
    let hint = rule.and_then(|r| r.gateway.as_ref());
    let slot = slot(ctx, &site, span, key_name.as_deref(), &|t: &str| {
        values.contains(&t.as_bytes())
    });
    let whole_value = slot_value(ctx, slot.as_ref().ok(), &site, span);
    let platform_key = key_name
        .clone()
        .unwrap_or_else(|| finding.rule_id.to_string());
    let mut a = Analysis {
        finding,
        file,
        key_name: key_name.clone(),
        strategy: Strategy::Manual,
        target: Target::None,
        slot: None,
        value: ValueSpec {
            span: whole_value,
            prefix: String::new(),
            percent: false,
            base64: false,
        },
        manual_reason: None,
        platform_identity: format!("var|{}", env_key(&platform_key)),
        platform_base: slug(&platform_key),
        secret_manifest: None,
        copies: Vec::new(),
    };
    if let (FileKind::Kubernetes, Site::Yaml(e)) = (ctx.kind, &site) {
        if let Some((secret, encoded)) = secret_manifest_key(ctx, e) {
            a.value.base64 = encoded;
            a.secret_manifest = Some(secret);
        }
    }

    let plain_fields = |c: &connstr::ConnString| {
        ![Some(&c.host), c.user.as_ref(), c.db.as_ref()]
            .into_iter()
            .flatten()
            .any(|t| holds_value(t))
    };
    // A host that is a service of the same compose file is reachable only on that
    // compose network: no gateway connection, the password alone moves to the vault.
    let compose_peer = |c: &connstr::ConnString| {
        ctx.kind == FileKind::Compose
            && matches!(site, Site::Yaml(e) if crate::compose::is_service(ctx.yaml(), e.line, &c.host))
    };
    if let Some(conn) = connstr::parse(ctx.data, span).filter(plain_fields) {
        if conn.protocol.hoop_type().is_some() && !conn.is_loopback() && !compose_peer(&conn) {
            let mongo = conn.protocol == connstr::DbProtocol::Mongo;
            a.value = ValueSpec {
                span: if mongo { conn.span } else { span },
                prefix: String::new(),
                percent: conn.percent_encoded && !mongo,
                base64: false,
            };
            a.strategy = Strategy::GatewayTunnel;
            a.target = Target::Db(Box::new(conn));
            return a;
        }
    }

    let http = hint
        .filter(|h| {
            matches!(h.kind.as_str(), "httpproxy" | "application/httpproxy")
                || h.kind.starts_with("httpproxy/")
        })
        .and_then(|h| {
            let url = url_on_line(ctx.data, span).or_else(|| h.target.clone())?;
            let header = h
                .header
                .clone()
                .unwrap_or_else(|| "Authorization: Bearer".into());
            Some((url, header))
        });
    // Gateway-native suits workloads that call the API at run time; build steps and CI
    // jobs hand the key to tools (npm, actions) that cannot be pointed at the gateway.
    let runtime_slot = slot.as_ref().ok().filter(|s| {
        matches!(
            s,
            Slot::Dotenv(_)
                | Slot::K8sEnv { .. }
                | Slot::ComposeEnv { .. }
                | Slot::DockerRuntime { .. }
        )
    });
    if let (Some((url, header)), Some(slot)) = (&http, runtime_slot) {
        let (name, scheme) = match header.split_once(':') {
            Some((n, s)) => (n.trim().to_string(), s.trim().to_string()),
            None => (header.trim().to_string(), String::new()),
        };
        // The gateway's HTTP listener takes its own credential from `Authorization`
        // (optionally `Bearer `) or `X-Api-Key`; a client that sends the key in any other
        // header cannot carry the gateway credential without a code change.
        let accepted = (name.eq_ignore_ascii_case("authorization")
            && (scheme.is_empty() || scheme.eq_ignore_ascii_case("bearer")))
            || name.eq_ignore_ascii_case("x-api-key");
        if accepted {
            let host = url_host(url).unwrap_or_default();
            a.value = ValueSpec {
                span,
                prefix: if scheme.is_empty() {
                    String::new()
                } else {
                    format!("{scheme} ")
                },
                percent: false,
                base64: a.value.base64,
            };
            a.strategy = Strategy::GatewayNative;
            a.target = Target::Http {
                remote_url: url.clone(),
                host,
                // hoop spells header keys with underscores (`HEADER_X_API_KEY`,
                // agent/controller/httpproxy.go); a `-` in an env key is not portable.
                env_key: format!("HEADER_{}", name.to_ascii_uppercase().replace('-', "_")),
            };
            a.slot = Some(slot.clone());
            return a;
        }
    }

    match slot {
        Ok(mut s) => {
            if let Slot::ComposeEnv { part, file_var, .. } = &mut s {
                // `postgres://app:<pw>@db/app`: the URL stays, the password is read from
                // the runner's variable, so the vault holds the password the database
                // service reads too (one entry). A percent-encoded one cannot be
                // interpolated as is: the whole value moves.
                let peer = connstr::parse(ctx.data, span)
                    .filter(compose_peer)
                    .filter(|_| !ctx.data[span.start..span.end].contains(&b'%'));
                if peer.is_some() {
                    *part = Some(span);
                    *file_var = false;
                    a.value.span = span;
                }
            }
            a.strategy = Strategy::PlatformRef;
            a.slot = Some(s);
        }
        Err(reason) => {
            a.strategy = Strategy::Manual;
            a.manual_reason = Some(reason);
        }
    }
    // A connection string that is not a gateway fit (redis, amqp, a loopback host) is
    // named after its target, so two files with the same URL share one vault entry.
    let plain_fields = |c: &connstr::ConnString| {
        ![Some(&c.host), c.user.as_ref(), c.db.as_ref()]
            .into_iter()
            .flatten()
            .any(|t| holds_value(t))
    };
    if let Some(conn) = connstr::parse(ctx.data, span).filter(plain_fields) {
        a.platform_identity = format!(
            "uri|{}|{}|{}|{}|{}",
            conn.protocol.short(),
            conn.host.to_ascii_lowercase(),
            conn.effective_port(),
            conn.db.clone().unwrap_or_default(),
            conn.user.clone().unwrap_or_default()
        );
        let mut base = format!("{}-{}", conn.protocol.short(), slug(&conn.host));
        if let Some(db) = conn.db.as_deref().filter(|d| !d.is_empty()) {
            base.push('-');
            base.push_str(&slug(db));
        }
        a.platform_base = base;
    }
    a
}

/// The vault value for a platform reference: the whole assignment value the slot empties,
/// or the secret alone where only it is replaced.
fn slot_value(ctx: &FileCtx<'_>, slot: Option<&Slot>, site: &Site, secret: Span) -> Span {
    match slot {
        Some(Slot::Dotenv(a)) => a.value,
        Some(Slot::DockerBuild { pair, .. }) | Some(Slot::DockerRuntime { pair, .. }) => pair.value,
        Some(Slot::K8sEnv { entry, .. }) | Some(Slot::HelmExisting { entry, .. }) => {
            entry.scalar.inner
        }
        Some(Slot::ComposeEnv {
            entry, list_form, ..
        }) => {
            if *list_form {
                let inner = entry.scalar.inner;
                let eq = ctx.data[inner.start..inner.end]
                    .iter()
                    .position(|b| *b == b'=')
                    .unwrap_or(0);
                Span::new(inner.start + eq + 1, inner.end)
            } else {
                entry.scalar.inner
            }
        }
        Some(Slot::Workflow { span }) => *span,
        Some(Slot::DockerRun { .. }) | Some(Slot::ComposeCopy) | None => match site {
            Site::Dotenv(a) => a.value,
            Site::Docker { pair, .. } => pair.value,
            Site::Yaml(e) if e.scalar.quote != Quote::Block || e.scalar.inner == secret => {
                e.scalar.inner
            }
            _ => secret,
        },
    }
}

fn locate(ctx: &FileCtx<'_>, span: Span) -> Site {
    match ctx.kind {
        FileKind::Dotenv => dotenv::assignment_containing(ctx.data, &ctx.lines, span)
            .map_or(Site::None, Site::Dotenv),
        FileKind::Dockerfile => {
            let Some(ins) = ctx
                .docker
                .iter()
                .position(|i| i.start <= span.start && span.end <= i.args.end)
            else {
                return Site::None;
            };
            let pairs = if matches!(ctx.docker[ins].keyword.as_str(), "ENV" | "ARG") {
                dockerfile::pairs(ctx.data, &ctx.docker[ins])
            } else {
                Vec::new()
            };
            match pairs.into_iter().find(|p| p.value.contains(&span)) {
                Some(pair) => Site::Docker { ins, pair },
                None => Site::DockerText { ins },
            }
        }
        FileKind::Kubernetes
        | FileKind::HelmValues
        | FileKind::Compose
        | FileKind::GithubWorkflow => ctx
            .yaml()
            .entry_containing(span)
            .map_or(Site::None, Site::Yaml),
        FileKind::Other => Site::None,
    }
}

/// The variable or key a secret is assigned to, as the file names it.
fn site_key(ctx: &FileCtx<'_>, site: &Site, span: Span) -> Option<String> {
    match site {
        Site::Dotenv(a) => Some(ctx.text(a.key).to_string()),
        Site::Docker { pair, .. } => Some(ctx.text(pair.key).to_string()),
        Site::Yaml(e) if e.scalar.quote == Quote::Block && e.scalar.inner != span => None,
        Site::Yaml(e) => {
            let y = ctx.yaml();
            let key = y.key(e.line);
            if key == Some("value") {
                if let Some(name) = y.sibling(e.line, "name").and_then(|n| y.scalar_text(n)) {
                    return Some(name.to_string());
                }
            }
            if ctx.kind == FileKind::HelmValues && key.is_some() {
                // Chart values are named by their whole path: `postgresql.auth.password`.
                let mut parts = vec![key?.to_string()];
                let mut at = e.line;
                while let Some(o) = y.owner(at) {
                    if let Some(k) = y.key(o) {
                        parts.push(k.to_string());
                    }
                    at = o;
                }
                parts.reverse();
                return Some(parts.join("."));
            }
            if key.is_none() {
                // `- KEY=value` list items (compose environment).
                let text = ctx.text(e.scalar.inner);
                return text
                    .split_once('=')
                    .map(|(k, _)| k.trim().to_string())
                    .filter(|k| !k.is_empty());
            }
            key.map(str::to_string)
        }
        Site::DockerText { .. } | Site::None => None,
    }
}

/// The identifier a literal is assigned to on its line (`API_KEY = "…"`, `"apiKey": "…"`,
/// `X-API-Key: …`), for naming only.
fn guess_key(data: &[u8], span: Span) -> Option<String> {
    let line_start = data[..span.start]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let before = &data[line_start..span.start];
    let mut end = before.len();
    let skip = |end: &mut usize, set: &[u8]| {
        while *end > 0 && set.contains(&before[*end - 1]) {
            *end -= 1;
        }
    };
    skip(&mut end, b" \t\"'`");
    // `Authorization: Bearer <token>`: name it after the header.
    for scheme in [
        &b"Bearer"[..],
        b"Basic",
        b"Token",
        b"token",
        b"bearer",
        b"Bot",
    ] {
        if before[..end].ends_with(scheme)
            && end > scheme.len()
            && before[end - scheme.len() - 1] == b' '
        {
            end -= scheme.len();
            skip(&mut end, b" \t");
            break;
        }
    }
    let ops: [&[u8]; 4] = [b":=", b"=>", b"=", b":"];
    let op = ops.iter().find(|op| before[..end].ends_with(op))?;
    end -= op.len();
    skip(&mut end, b" \t\"'`]");
    let mut start = end;
    while start > 0
        && (before[start - 1].is_ascii_alphanumeric()
            || matches!(before[start - 1], b'_' | b'-' | b'.'))
    {
        start -= 1;
    }
    (start < end).then(|| String::from_utf8_lossy(&before[start..end]).into_owned())
}

/// A URL on the secret's line other than the secret, as `scheme://authority`.
fn url_on_line(data: &[u8], span: Span) -> Option<String> {
    let ls = data[..span.start]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let le = data[span.end..]
        .iter()
        .position(|b| *b == b'\n')
        .map_or(data.len(), |i| span.end + i);
    let line = String::from_utf8_lossy(&data[ls..le]);
    for scheme in ["https://", "http://"] {
        let mut from = 0;
        while let Some(i) = line[from..].find(scheme) {
            let at = from + i;
            let abs = ls + at;
            from = at + scheme.len();
            if abs >= span.start && abs < span.end {
                continue;
            }
            let rest = &line[at + scheme.len()..];
            let auth: String = rest
                .chars()
                .take_while(|c| {
                    !matches!(
                        c,
                        '/' | '?' | '#' | '"' | '\'' | ' ' | '\t' | '<' | '>' | '`' | ')'
                    )
                })
                .collect();
            if auth.is_empty() || auth.contains('@') {
                continue;
            }
            return Some(format!("{scheme}{auth}"));
        }
    }
    None
}

pub(crate) fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let auth = rest.split(['/', '?', '#']).next()?;
    Some(
        auth.rsplit_once(':')
            .map_or(auth, |(h, _)| h)
            .to_ascii_lowercase(),
    )
}

/// The platform slot a file type offers at `site`, or why there is none.
fn slot(
    ctx: &FileCtx<'_>,
    site: &Site,
    span: Span,
    key: Option<&str>,
    found: &dyn Fn(&str) -> bool,
) -> Result<Slot, String> {
    match (ctx.kind, site) {
        (FileKind::Dotenv, Site::Dotenv(a)) => Ok(Slot::Dotenv(*a)),
        (FileKind::Dotenv, _) => Err("the secret is not the value of a KEY=value line; move it into a variable first".into()),
        (FileKind::Dockerfile, Site::Docker { ins, pair }) => {
            docker_slot(ctx, *ins, *pair).and_then(|s| match &s {
                Slot::DockerBuild { runs, .. } if !runs.is_empty() => pin_allows_env_mount(ctx).map(|_| s),
                _ => Ok(s),
            })
        }
        (FileKind::Dockerfile, Site::DockerText { ins }) => {
            if ctx.docker[*ins].keyword == "RUN" {
                pin_allows_env_mount(ctx).map(|_| Slot::DockerRun { ins: *ins })
            } else {
                Err(format!(
                    "the secret is written into a {} instruction; only ENV, ARG and RUN can take it from a build secret",
                    ctx.docker[*ins].keyword
                ))
            }
        }
        (FileKind::Kubernetes, Site::Yaml(e)) => k8s_slot(ctx, e),
        (FileKind::HelmValues, Site::Yaml(e)) => crate::helm::target(ctx, e, found)
            .map(|target| Slot::HelmExisting { entry: *e, target }),
        (FileKind::Compose, Site::Yaml(e)) => compose_slot(ctx, e, span, key),
        (FileKind::GithubWorkflow, Site::Yaml(e)) => {
            let y = ctx.yaml();
            let owner = y.owner(e.line).and_then(|o| y.key(o));
            let whole = e.scalar.quote != Quote::Block && (e.scalar.inner == span || matches!(owner, Some("env" | "with")));
            Ok(Slot::Workflow {
                span: if whole { e.scalar.inner } else { span },
            })
        }
        (FileKind::Other, _) => Err(format!(
            "unleak has no rewriter for this file type; change the code or configuration to read {} at run time (for example from an environment variable) and delete the literal",
            key.unwrap_or("the value")
        )),
        _ => Err("the secret is not in a value unleak can parse (flow-style YAML, multi-line quoted scalar or similar); rewrite it by hand".into()),
    }
}

/// A secret mount with `env=` needs Dockerfile syntax 1.10: an older pin is raised by the
/// rewrite, but not one pinned by digest (raising it would drop the digest).
fn pin_allows_env_mount(ctx: &FileCtx<'_>) -> Result<(), String> {
    match dockerfile::syntax_pin(ctx.data, &ctx.lines) {
        dockerfile::SyntaxPin::Digest { from } => Err(format!(
            "the file pins `# syntax={from}` by digest, and the BuildKit secret mount's env= option needs docker/dockerfile:1.10 or later; pin a 1.10 (or later) digest, then migrate again"
        )),
        _ => Ok(()),
    }
}

fn docker_slot(ctx: &FileCtx<'_>, ins: usize, pair: Pair) -> Result<Slot, String> {
    let key = ctx.text(pair.key).to_string();
    let decl = &ctx.docker[ins];
    let stage_end = ctx.docker[ins + 1..]
        .iter()
        .position(|i| i.keyword == "FROM")
        .map_or(ctx.docker.len(), |p| ins + 1 + p);
    let mut runs = Vec::new();
    for (k, other) in ctx.docker.iter().enumerate().take(stage_end).skip(ins + 1) {
        if !dockerfile::reads_variable(ctx.data, other, &key) {
            continue;
        }
        if other.keyword == "RUN" {
            runs.push(k);
        } else {
            return Err(format!(
                "{key} is also read by the {} instruction on line {}, which would bake it into the image; change that instruction, then migrate again",
                other.keyword,
                other.first_line + 1
            ));
        }
    }
    match decl.keyword.as_str() {
        "ARG" => Ok(Slot::DockerBuild {
            ins,
            pair,
            runs,
            env: false,
        }),
        "ENV" if !runs.is_empty() => Ok(Slot::DockerBuild {
            ins,
            pair,
            runs,
            env: true,
        }),
        "ENV" => Ok(Slot::DockerRuntime { ins, pair }),
        kw => Err(format!("the secret is in a {kw} instruction")),
    }
}

/// Whether `span` sits in a whole-line `#` comment of a file type whose comments are `#`
/// (`.env`, Dockerfile, the YAML kinds). A YAML block scalar's lines may start with `#`
/// without being comments (a script under `run: |`): those are not.
pub(crate) fn in_comment(ctx: &FileCtx<'_>, span: Span) -> bool {
    if ctx.kind == FileKind::Other {
        return false;
    }
    let line = ctx.lines.line_of(span.start);
    let start = ctx.lines.start(line);
    let text = &ctx.data[start..ctx.lines.end(ctx.data, line)];
    let Some(first) = text.iter().position(|b| !matches!(b, b' ' | b'\t')) else {
        return false;
    };
    if text[first] != b'#' || start + first > span.start {
        return false;
    }
    ctx.yaml
        .as_ref()
        .is_none_or(|y| y.entry_containing(span).is_none())
}

fn namespace_of(y: &Yaml<'_>, line: usize) -> Option<String> {
    metadata_field(y, line, "namespace")
}

/// A plain field of the document's `metadata`, block style (`metadata:\n  name: app`)
/// or a one-line flow mapping (`metadata: {name: app, namespace: shop}`, as kubectl
/// examples and the audit's reproduction write it). A flow mapping with nesting or
/// quoted commas is not read: `None`.
fn metadata_field(y: &Yaml<'_>, line: usize, field: &str) -> Option<String> {
    let meta = y.top_level(line, "metadata")?;
    if let Some(l) = y.child(meta, field) {
        return y.scalar_text(l).map(str::to_string);
    }
    let inner = y.inline_flow(meta)?.strip_prefix('{')?.strip_suffix('}')?;
    if inner.contains(['{', '}', '[', ']', '"', '\'']) {
        return None;
    }
    inner.split(',').find_map(|pair| {
        let (k, v) = pair.split_once(':')?;
        (k.trim() == field)
            .then(|| v.trim().to_string())
            .filter(|v| !v.is_empty())
    })
}

/// The Secret and key an entry of a Secret manifest's `data:` (base64: `true`) or
/// `stringData:` fills; `None` for any other entry, or a Secret with no plain name.
fn secret_manifest_key(ctx: &FileCtx<'_>, e: &Entry) -> Option<(PlatformRef, bool)> {
    let y = ctx.yaml();
    let kind = y.top_level(e.line, "kind").and_then(|k| y.scalar_text(k));
    if kind != Some("Secret") {
        return None;
    }
    let owner = y.owner(e.line)?;
    let encoded = match y.key(owner)? {
        "data" => true,
        "stringData" => false,
        _ => return None,
    };
    if y.owner(owner).is_some() {
        return None;
    }
    let name = metadata_field(y, e.line, "name")?;
    let key = y.key(e.line)?.to_string();
    Some((
        PlatformRef::K8sSecret {
            namespace: namespace_of(y, e.line),
            name,
            key,
        },
        encoded,
    ))
}

fn k8s_slot(ctx: &FileCtx<'_>, e: &Entry) -> Result<Slot, String> {
    let y = ctx.yaml();
    let kind = y.top_level(e.line, "kind").and_then(|k| y.scalar_text(k));
    if kind == Some("Secret") {
        return Err("the secret is in a Secret manifest: replace the manifest with an External Secrets ExternalSecret that fills a Secret of the same name and key from its vault entry (named next)".into());
    }
    let is_env_value = y.key(e.line) == Some("value")
        && y.sibling(e.line, "name").is_some()
        && y.owner(e.line).and_then(|o| y.key(o)) == Some("env")
        && e.scalar.quote != Quote::Block;
    if !is_env_value {
        return Err(format!(
            "the secret is not a container env `value:`{}; move it into a Secret and reference it with valueFrom.secretKeyRef",
            kind.map(|k| format!(" (in a {k})")).unwrap_or_default()
        ));
    }
    Ok(Slot::K8sEnv {
        entry: *e,
        namespace: namespace_of(y, e.line),
    })
}

fn compose_slot(
    ctx: &FileCtx<'_>,
    e: &Entry,
    span: Span,
    key: Option<&str>,
) -> Result<Slot, String> {
    let y = ctx.yaml();
    let owner = y.owner(e.line);
    let in_environment = owner.and_then(|o| y.key(o)) == Some("environment");
    let service = owner.and_then(|o| y.owner(o));
    let in_services = service
        .and_then(|s| y.owner(s))
        .is_some_and(|s| y.key(s) == Some("services") && y.lines[s].indent == 0);
    if !(in_environment && in_services) || e.scalar.quote == Quote::Block {
        return Err("the secret is not a service `environment:` value; move it there (or into a `secrets:` file) by hand".into());
    }
    let list_form = y.key(e.line).is_none();
    if list_form {
        // `- KEY=value`: the secret must sit after the `=`.
        let inner = &ctx.data[e.scalar.inner.start..e.scalar.inner.end];
        let eq = inner.iter().position(|b| *b == b'=');
        if eq.is_none_or(|i| e.scalar.inner.start + i >= span.start) {
            return Err("the secret is not the value of a `- KEY=value` environment entry; rewrite it by hand".into());
        }
    }
    if let Some(secrets) = owner.and_then(|o| y.sibling(o, "secrets")) {
        if y.scalar(secrets).is_some()
            || y.lines[secrets]
                .value_at
                .is_some_and(|v| v < y.lines[secrets].end && y.data[v] == b'[')
        {
            return Err(
                "the service's `secrets:` is written in flow style; add the secret by hand".into(),
            );
        }
    }
    if let Some(top) = y.top_level(e.line, "secrets") {
        if y.lines[top]
            .value_at
            .is_some_and(|v| v < y.lines[top].end && y.data[v] != b'#')
        {
            return Err(
                "the top-level `secrets:` is written in flow style; add the secret by hand".into(),
            );
        }
    }
    let env_key_name = key.unwrap_or("SECRET").to_string();
    let file_var = owner
        .and_then(|o| crate::compose::image_of(y, o))
        .is_some_and(|image| crate::compose::image_reads_file_var(&image, &env_key_name));
    Ok(Slot::ComposeEnv {
        entry: *e,
        list_form,
        env_key_name,
        file_var,
        part: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_read_in_block_and_flow_style() {
        let field = |doc: &str, f: &str| {
            let y = Yaml::parse(doc.as_bytes());
            let line = (0..y.lines.len())
                .find(|&i| y.key(i) == Some("kind"))
                .unwrap();
            metadata_field(&y, line, f)
        };
        let block = "kind: Secret\nmetadata:\n  name: app\n  namespace: shop\n";
        assert_eq!(field(block, "name").as_deref(), Some("app"));
        assert_eq!(field(block, "namespace").as_deref(), Some("shop"));
        let flow = "kind: Secret\nmetadata: {name: app, namespace: shop}\n";
        assert_eq!(field(flow, "name").as_deref(), Some("app"));
        assert_eq!(field(flow, "namespace").as_deref(), Some("shop"));
        assert_eq!(
            field("kind: Secret\nmetadata: {name: app}\n", "namespace"),
            None
        );
        // Nesting or quoting is not guessed at.
        assert_eq!(
            field(
                "kind: Secret\nmetadata: {labels: {a: b}, name: app}\n",
                "name"
            ),
            None
        );
        assert_eq!(
            field("kind: Secret\nmetadata: {name: \"a,b\"}\n", "name"),
            None
        );
    }

    #[test]
    fn keys_are_guessed_from_assignments() {
        let g = |line: &str, secret: &str| {
            let off = line.find(secret).unwrap();
            guess_key(line.as_bytes(), Span::new(off, off + secret.len()))
        };
        assert_eq!(g("API_KEY = \"abc\"", "abc").as_deref(), Some("API_KEY"));
        assert_eq!(g("{\"apiKey\": \"abc\"}", "abc").as_deref(), Some("apiKey"));
        assert_eq!(
            g("curl -H 'X-API-Key: abc' x", "abc").as_deref(),
            Some("X-API-Key")
        );
        assert_eq!(
            g("spring.datasource.password: abc", "abc").as_deref(),
            Some("spring.datasource.password")
        );
        assert_eq!(g("just abc", "abc"), None);
        assert_eq!(
            g("curl -H \"Authorization: Bearer abc\" x", "abc").as_deref(),
            Some("Authorization")
        );
    }

    #[test]
    fn urls_on_the_line_become_base_urls() {
        let line = "curl -H 'Authorization: Bearer tok' https://api.acme.internal/v2/status";
        let off = line.find("tok").unwrap();
        assert_eq!(
            url_on_line(line.as_bytes(), Span::new(off, off + 3)).as_deref(),
            Some("https://api.acme.internal")
        );
        assert_eq!(
            url_host("https://api.openai.com:443/v1").as_deref(),
            Some("api.openai.com")
        );
    }
}
