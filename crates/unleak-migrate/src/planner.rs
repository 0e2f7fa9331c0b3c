//! Making a [`Plan`] from findings and the bytes of their files.
//!
//! Owns: ordering and identifying findings, de-duplicating connections by target and
//! vault entries by name and value (values are compared in memory only), resolving names
//! and tunnel ports, collecting each file's edits and settling overlaps, turning a finding
//! whose value would survive the rewrite somewhere (in any encoding) into `manual`, masked file
//! checksums, the vault writes and the rotation list. Does not own: per-finding analysis
//! (`analyze`), edit text (`rewrite`) or carrying the plan out (`apply`).

use crate::analyze::{analyze, Analysis, FileCtx, Target};
use crate::apply::{apply_edits, extract_value};
use crate::kind::environment;
use crate::model::{
    Connection, Edit, MaskedSpan, Plan, PlannedFile, PlannedFinding, RotationItem, Settings,
    Strategy, ValueSource, VaultPointer, VaultWrite, PLAN_SCHEMA,
};
use crate::naming::{env_key, resolve_connection_names, slug, NameBook};
use crate::rewrite::{rewrite, RawEdit, Resolved};
use crate::text::{find_form, sha256_hex, value_forms, Lines};
use std::collections::{BTreeMap, BTreeSet};
use unleak_core::{Finding, Secret, Span};
use unleak_rules::RuleSet;

/// Choices that shape names and references.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// The hoop agent connections run on (`agent:` in the batch file).
    pub agent: String,
    /// KV v2 mount.
    pub vault_mount: String,
    /// Path prefix for secrets hoop connections read.
    pub connection_prefix: String,
    /// Path prefix for secrets workloads read through their platform.
    pub platform_prefix: String,
    /// Prepended to every connection name (a team or environment prefix).
    pub name_prefix: Option<String>,
    /// The repository the values come from: vault paths sit below its slug, so two
    /// repositories never share a path by accident. Empty: unscoped paths.
    pub repo: String,
    /// The vault namespace (Vault Enterprise, OpenBao). hoop's agent sends no namespace
    /// header, so the namespace goes into every path and reference instead.
    pub vault_namespace: Option<String>,
    /// Reviewers, groups, masking, guardrails; `policy.environment` overrides the
    /// environment read from paths.
    pub policy: crate::policy::Policy,
    /// `--gateway-url`: hoop's HTTP proxy listener as workloads reach it. Given, the
    /// base-URL variables of gateway-native clients are set to it.
    pub gateway_url: Option<String>,
}

impl Default for PlanOptions {
    fn default() -> Self {
        PlanOptions {
            agent: "default".into(),
            vault_mount: "secret".into(),
            connection_prefix: "hoop".into(),
            platform_prefix: "apps".into(),
            name_prefix: None,
            repo: String::new(),
            vault_namespace: None,
            policy: crate::policy::Policy::default(),
            gateway_url: None,
        }
    }
}

/// A scanned file: its path as reports show it, its bytes and the findings in it.
pub struct SourceFile<'a> {
    /// The path as reports show it.
    pub path: &'a str,
    /// The file's bytes as scanned.
    pub data: &'a [u8],
    /// The findings in it, with their secret values.
    pub findings: &'a [Finding],
}

/// Values shorter than this are not looked for in names: a short word would blank
/// ordinary names, and no rule reports a secret this short.
const MIN_NAME_VALUE: usize = 6;

/// Which connection (by identity) a finding uses.
struct ConnUse {
    identity: String,
    base: String,
    hoop_type: String,
    key: String,
}

fn finding_id(rule: &str, path: &str, key: &str, occurrence: usize) -> String {
    sha256_hex(format!("{rule}\0{path}\0{key}\0{occurrence}").as_bytes())[..16].to_string()
}

/// `sha256:` of `data` with every masked span replaced by its finding id.
pub(crate) fn checksum(data: &[u8], masks: &[MaskedSpan]) -> String {
    use sha2::{Digest, Sha256};
    let mut sorted: Vec<&MaskedSpan> = masks.iter().collect();
    sorted.sort_by_key(|m| (m.start, m.end));
    let mut h = Sha256::new();
    let mut pos = 0;
    for m in sorted {
        let start = m.start.max(pos).min(data.len());
        h.update(&data[pos..start]);
        h.update(b"\0unleak-masked:");
        h.update(m.finding.as_bytes());
        h.update(b"\0");
        pos = m.end.max(start).min(data.len());
    }
    h.update(&data[pos..]);
    let digest = h.finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

fn source_of(a: &Analysis<'_>, path: &str) -> ValueSource {
    ValueSource {
        file: path.to_string(),
        start: a.value.span.start,
        end: a.value.span.end,
        prefix: a.value.prefix.clone(),
        percent_decode: a.value.percent,
        base64_decode: a.value.base64,
    }
}

/// Make the plan. `history` holds findings from git history; those not in the current
/// tree go to the rotation list only.
pub fn plan(
    files: &[SourceFile<'_>],
    history: &[Finding],
    rules: &RuleSet,
    opts: &PlanOptions,
) -> Plan {
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by(|a, b| files[*a].path.cmp(files[*b].path));
    let ctxs: Vec<FileCtx<'_>> = files.iter().map(|f| FileCtx::new(f.path, f.data)).collect();
    let mut warnings = Vec::new();
    // Every value found, so that no name taken from a file (a key, a host, a database)
    // that happens to hold one carries it into the plan.
    let values: Vec<&[u8]> = files
        .iter()
        .flat_map(|f| f.findings.iter().map(|x| x.secret.expose()))
        .filter(|v| v.len() >= MIN_NAME_VALUE)
        .collect();
    let mut analyses: Vec<Analysis<'_>> = Vec::new();
    for &fi in &order {
        let mut fs: Vec<&Finding> = files[fi].findings.iter().collect();
        fs.sort_by_key(|f| (f.span.start, f.span.end));
        for f in fs {
            if f.span.end > files[fi].data.len() {
                warnings.push(format!(
                    "{}:{}: the finding lies past the end of the file (it changed during the scan); skipped",
                    files[fi].path, f.location.line
                ));
                continue;
            }
            analyses.push(analyze(&ctxs[fi], fi, f, rules.get(&f.rule_id), &values));
        }
    }

    compose_copies(&ctxs, &mut analyses);

    // Stable ids: rule, path, key and the occurrence among equal triples.
    let mut seen: BTreeMap<(String, String, String), usize> = BTreeMap::new();
    let ids: Vec<String> = analyses
        .iter()
        .map(|a| {
            let key = a.key_name.clone().unwrap_or_default();
            let path = files[a.file].path.to_string();
            let n = seen
                .entry((a.finding.rule_id.to_string(), path.clone(), key.clone()))
                .or_insert(0);
            *n += 1;
            finding_id(&a.finding.rule_id, &path, &key, *n)
        })
        .collect();

    let value = |a: &Analysis<'_>| -> Secret {
        Secret::new(
            extract_value(files[a.file].data, &source_of(a, files[a.file].path)),
            0,
        )
    };

    // Connections by target identity.
    let conn_use: Vec<Option<ConnUse>> = analyses.iter().map(|a| connection_use(a, opts)).collect();
    let mut book = NameBook::default();
    for c in conn_use.iter().flatten() {
        book.want(&c.identity, &c.base);
    }
    let conn_names = resolve_connection_names(&book);
    // Two findings for one target with different values: one is stale, and the
    // connection can hold only one. The later one stays in its file as manual, so no
    // value leaves a file without a vault entry of its own.
    // A value in a comment is not stored: it is deleted, not moved (audit B17: a Bitnami
    // values file's `## password: "mypassword"` was seeded as `apps/password`).
    let comment: Vec<bool> = analyses
        .iter()
        .map(|a| crate::analyze::in_comment(&ctxs[a.file], a.finding.span))
        .collect();
    let mut stale = vec![false; analyses.len()];
    let mut first_by_conn: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, c) in conn_use.iter().enumerate() {
        let Some(c) = c else { continue };
        match first_by_conn.get(c.identity.as_str()) {
            None => {
                first_by_conn.insert(&c.identity, i);
            }
            Some(&j) => {
                if value(&analyses[i]) != value(&analyses[j]) {
                    stale[i] = true;
                    warnings.push(format!(
                        "{}:{} and {}:{} point at the same target ({}) with different credentials; the one from {}:{} is migrated, the other is left in its file (manual); rotate both",
                        files[analyses[j].file].path,
                        analyses[j].finding.location.line,
                        files[analyses[i].file].path,
                        analyses[i].finding.location.line,
                        conn_names[&c.identity],
                        files[analyses[j].file].path,
                        analyses[j].finding.location.line
                    ));
                }
            }
        }
    }

    // Platform names: one vault entry per identity and value.
    let mut identities: Vec<String> = analyses
        .iter()
        .map(|a| a.platform_identity.clone())
        .collect();
    let mut bases: Vec<String> = analyses.iter().map(|a| a.platform_base.clone()).collect();
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, c) in conn_use.iter().enumerate() {
        if c.is_none() {
            groups
                .entry(analyses[i].platform_identity.clone())
                .or_default()
                .push(i);
        }
    }
    for members in groups.values() {
        let mut clusters: Vec<(Secret, Vec<usize>)> = Vec::new();
        for &i in members {
            let v = value(&analyses[i]);
            match clusters.iter_mut().find(|(cv, _)| *cv == v) {
                Some((_, list)) => list.push(i),
                None => clusters.push((v, vec![i])),
            }
        }
        if clusters.len() > 1 {
            for (k, (_, list)) in clusters.iter().enumerate() {
                let head = &analyses[list[0]];
                // The first value keeps the plain name (a compose runner variable is
                // named after it); the others are told apart by directory
                // (`jwt-secret-billing`), which stays put when lines move. Only values in
                // one directory still get a hash (audit B17).
                let base = if k == 0 {
                    head.platform_base.clone()
                } else {
                    with_dir(&head.platform_base, files[head.file].path)
                };
                for &i in list {
                    identities[i] = format!(
                        "{}|{}:{}",
                        head.platform_identity, files[head.file].path, head.finding.location.line
                    );
                    bases[i] = base.clone();
                }
            }
        }
    }
    let mut pbook = NameBook::default();
    for (i, c) in conn_use.iter().enumerate() {
        if c.is_none() {
            pbook.want(&identities[i], &bases[i]);
        }
    }
    let platform_names = resolve_connection_names(&pbook);

    // Tunnel ports: per protocol, in connection-name order.
    let mut tunnel_conns: BTreeMap<String, u16> = BTreeMap::new();
    for (i, c) in conn_use.iter().enumerate() {
        if let (Some(c), Target::Db(conn)) = (c, &analyses[i].target) {
            tunnel_conns.insert(conn_names[&c.identity].clone(), conn.protocol.tunnel_port());
        }
    }
    let mut next: BTreeMap<u16, u16> = BTreeMap::new();
    let ports: BTreeMap<String, u16> = tunnel_conns
        .into_iter()
        .map(|(name, base)| {
            let n = next.entry(base).or_insert(base);
            let port = *n;
            *n += 1;
            (name, port)
        })
        .collect();

    let namespace = opts
        .vault_namespace
        .as_deref()
        .map(|n| n.trim_matches('/'))
        .filter(|n| !n.is_empty());
    let mount = match namespace {
        Some(ns) => format!("{ns}/{}", opts.vault_mount),
        None => opts.vault_mount.clone(),
    };
    let mount = mount.as_str();
    let repo = slug(&opts.repo);
    let scoped = |prefix: &str, name: &str| match repo.as_str() {
        "" => format!("{prefix}/{name}"),
        r => format!("{prefix}/{r}/{name}"),
    };
    let mut value_pointers: Vec<VaultPointer> = analyses
        .iter()
        .enumerate()
        .map(|(i, a)| match &conn_use[i] {
            Some(c) => VaultPointer::new(
                mount,
                &scoped(&opts.connection_prefix, &conn_names[&c.identity]),
                &c.key,
            ),
            None => VaultPointer::new(
                mount,
                &scoped(&opts.platform_prefix, &platform_names[&identities[i]]),
                &env_key(a.key_name.as_deref().unwrap_or(&a.finding.rule_id)),
            ),
        })
        .collect();
    // One value, one vault entry: platform findings that hold the same value (a compose
    // `POSTGRES_PASSWORD` and the password in another service's `DATABASE_URL`) share
    // the pointer of the first one named after its own variable.
    let mut by_value: Vec<(Secret, usize)> = Vec::new();
    let mut order_of: Vec<usize> = (0..analyses.len())
        .filter(|&i| conn_use[i].is_none())
        .collect();
    order_of.sort_by_key(|&i| !analyses[i].platform_identity.starts_with("var|"));
    for i in order_of {
        let v = value(&analyses[i]);
        match by_value.iter().find(|(w, _)| *w == v) {
            Some(&(_, rep)) => value_pointers[i] = value_pointers[rep].clone(),
            None => by_value.push((v, i)),
        }
    }
    let slot_pointers: Vec<VaultPointer> = analyses
        .iter()
        .enumerate()
        .map(|(i, a)| match (&conn_use[i], a.strategy) {
            (Some(c), Strategy::GatewayNative) => VaultPointer::new(
                mount,
                &scoped(&opts.platform_prefix, &conn_names[&c.identity]),
                "PROXY_TOKEN",
            ),
            _ => value_pointers[i].clone(),
        })
        .collect();

    // Edits, per finding, then settle overlaps per file.
    let mut rewrites: Vec<_> = analyses
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let conn = conn_use[i].as_ref().map(|c| {
                let name = conn_names[&c.identity].as_str();
                (name, ports.get(name).copied())
            });
            rewrite(
                &ctxs[a.file],
                a,
                &Resolved {
                    connection: conn,
                    slot_pointer: &slot_pointers[i],
                    value_pointer: &value_pointers[i],
                    gateway_url: opts.gateway_url.as_deref(),
                },
            )
        })
        .collect();
    let mut strategies: Vec<Strategy> = analyses.iter().map(|a| a.strategy).collect();
    for i in (0..analyses.len()).filter(|&i| stale[i]) {
        let first = first_by_conn[conn_use[i]
            .as_ref()
            .expect("stale ones use a connection")
            .identity
            .as_str()];
        rewrites[i].edits.clear();
        rewrites[i].platform = None;
        rewrites[i].instruction = format!(
            "Another credential for the same target ({}:{}) is the one migrated; this one is left in place and not stored. Find out which is current, remove this one by hand, and rotate both.",
            files[analyses[first].file].path,
            analyses[first].finding.location.line
        );
        strategies[i] = Strategy::Manual;
    }
    for i in (0..analyses.len()).filter(|&i| comment[i]) {
        rewrites[i].edits.clear();
        rewrites[i].platform = None;
        rewrites[i].instruction = "The secret is in a comment: delete it by hand (nothing is stored for it); if it was ever a real credential, rotate it.".into();
        strategies[i] = Strategy::Manual;
    }
    while let Some(loser) = first_conflict(&analyses, &rewrites) {
        let winner_line = analyses[loser.1].finding.location.line;
        rewrites[loser.0].edits.clear();
        rewrites[loser.0].platform = None;
        rewrites[loser.0].instruction = format!(
            "Its rewrite overlaps the rewrite of another secret on line {winner_line}; change it by hand. The value is kept in vault at {} once seeded (--seed vault); rotate it.",
            value_pointers[loser.0].display()
        );
        strategies[loser.0] = Strategy::Manual;
    }

    // A rewritten file must hold no value of the run in any form: a copy the rewrite does
    // not reach (a healthcheck repeating a password) means the value has not left it.
    while let Some((i, fi, line)) = leftover(files, &analyses, &rewrites, &ids) {
        rewrites[i].edits.clear();
        rewrites[i].platform = None;
        rewrites[i].instruction = format!(
            "A copy of this value (as written, URL-encoded or base64) is on line {line} of {}, where the rewrite does not reach, so nothing is rewritten for it. Replace every copy by hand (the value is kept in vault at {} once seeded, --seed vault), then run unleak migrate again; rotate it.",
            files[fi].path,
            value_pointers[i].display()
        );
        strategies[i] = Strategy::Manual;
    }

    let mut planned_findings = Vec::new();
    let mut file_masks: BTreeMap<usize, Vec<MaskedSpan>> = BTreeMap::new();
    let mut file_edits: BTreeMap<usize, Vec<(usize, RawEdit)>> = BTreeMap::new();
    for (i, a) in analyses.iter().enumerate() {
        let path = files[a.file].path;
        let keep_conn = strategies[i] != Strategy::Manual;
        planned_findings.push(PlannedFinding {
            id: ids[i].clone(),
            rule_id: a.finding.rule_id.to_string(),
            rule_name: a.finding.rule_name.to_string(),
            file: path.to_string(),
            line: a.finding.location.line,
            column: a.finding.location.column,
            key_name: a.key_name.clone(),
            strategy: strategies[i],
            connection: conn_use[i]
                .as_ref()
                .filter(|_| keep_conn)
                .map(|c| conn_names[&c.identity].clone()),
            // A stale duplicate is not stored: the pointer holds the other value.
            vault: (!stale[i] && !comment[i]).then(|| value_pointers[i].clone()),
            platform: rewrites[i].platform.clone(),
            rotate: true,
            instruction: scrub(&rewrites[i].instruction, &values),
        });
        file_masks.entry(a.file).or_default().push(MaskedSpan {
            finding: ids[i].clone(),
            rule_id: a.finding.rule_id.to_string(),
            start: a.finding.span.start,
            end: a.finding.span.end,
        });
        for e in &rewrites[i].edits {
            file_edits.entry(a.file).or_default().push((i, e.clone()));
        }
    }

    let mut planned_files = Vec::new();
    for (&fi, masks) in &file_masks {
        let raw = file_edits.remove(&fi).unwrap_or_default();
        let edits = merge_edits(raw, &ids);
        planned_files.push(PlannedFile {
            path: files[fi].path.to_string(),
            kind: ctxs[fi].kind,
            checksum: checksum(files[fi].data, masks),
            masked: masks.clone(),
            edits,
        });
    }
    planned_files.sort_by(|a, b| a.path.cmp(&b.path));

    // Connections.
    let mut connections: BTreeMap<String, Connection> = BTreeMap::new();
    let mut envs: BTreeMap<String, BTreeSet<Option<&str>>> = BTreeMap::new();
    for (i, a) in analyses.iter().enumerate() {
        let (Some(c), true) = (&conn_use[i], strategies[i] != Strategy::Manual) else {
            continue;
        };
        let name = conn_names[&c.identity].clone();
        envs.entry(name.clone())
            .or_default()
            .insert(match &opts.policy.environment {
                Some(e) => Some(e.as_str()),
                None => environment(files[a.file].path),
            });
        let entry = connections.entry(name.clone()).or_insert_with(|| {
            let (env, secret_keys) = connection_env(a, &value_pointers[i], &mut warnings, &name);
            Connection {
                name: name.clone(),
                hoop_type: c.hoop_type.clone(),
                strategy: strategies[i],
                local_port: ports.get(&name).copied(),
                env,
                secret_keys,
                tags: BTreeMap::from([(
                    "unleak/strategy".to_string(),
                    strategies[i].as_str().to_string(),
                )]),
                batch: c.hoop_type != "database/oracledb",
                credential: (strategies[i] == Strategy::GatewayNative)
                    .then(|| slot_pointers[i].clone()),
                findings: Vec::new(),
            }
        });
        entry.findings.push(ids[i].clone());
    }
    for (name, set) in envs {
        if let (1, Some(Some(env))) = (set.len(), set.iter().next()) {
            if let Some(c) = connections.get_mut(&name) {
                c.tags.insert(
                    "hoop.dev/infrastructure.environment".into(),
                    env.to_string(),
                );
            }
        }
    }

    // Vault writes: one per pointer, the first finding in order is the source.
    let mut writes: BTreeMap<VaultPointer, VaultWrite> = BTreeMap::new();
    for (i, a) in analyses
        .iter()
        .enumerate()
        .filter(|(i, _)| !stale[*i] && !comment[*i])
    {
        writes
            .entry(value_pointers[i].clone())
            .or_insert_with(|| VaultWrite {
                pointer: value_pointers[i].clone(),
                source: source_of(a, files[a.file].path),
                findings: Vec::new(),
            })
            .findings
            .push(ids[i].clone());
    }

    // Rotation: everything planned, plus history-only secrets.
    let mut rotation: Vec<RotationItem> = analyses
        .iter()
        .enumerate()
        .map(|(i, a)| RotationItem {
            rule_id: a.finding.rule_id.to_string(),
            rule_name: a.finding.rule_name.to_string(),
            location: format!("{}:{}", files[a.file].path, a.finding.location.line),
            finding: Some(ids[i].clone()),
            vault: (!stale[i] && !comment[i]).then(|| value_pointers[i].clone()),
            history_only: false,
            references: references_of(rules, &a.finding.rule_id),
            image_only: false,
        })
        .collect();
    let current: BTreeSet<(&str, &str)> = files
        .iter()
        .flat_map(|f| f.findings.iter())
        .map(|f| (&*f.rule_id, f.fingerprint.as_str()))
        .collect();
    let mut history_items: BTreeMap<(String, String), RotationItem> = BTreeMap::new();
    for h in history {
        if current.contains(&(&*h.rule_id, h.fingerprint.as_str())) {
            continue;
        }
        let location = match &h.git {
            Some(g) => format!("{}:{}", g.commit, h.path.display_path()),
            None => h.path.display_path().into_owned(),
        };
        history_items
            .entry((h.rule_id.to_string(), h.fingerprint.as_str().to_string()))
            .or_insert(RotationItem {
                rule_id: h.rule_id.to_string(),
                rule_name: h.rule_name.to_string(),
                location,
                finding: None,
                vault: None,
                // Findings of `--image` come through here too: not in the tree either.
                history_only: h.image.is_none(),
                image_only: h.image.is_some(),
                references: references_of(rules, &h.rule_id),
            });
    }
    rotation.extend(history_items.into_values());

    let mut plan = Plan {
        schema: PLAN_SCHEMA.into(),
        settings: Settings {
            agent: opts.agent.clone(),
            vault_provider: "vault-kv2".into(),
            vault_mount: opts.vault_mount.clone(),
            connection_prefix: opts.connection_prefix.clone(),
            platform_prefix: opts.platform_prefix.clone(),
            name_prefix: opts.name_prefix.clone(),
            repo,
            vault_namespace: namespace.map(str::to_string),
            policy: opts.policy.clone(),
            gateway_url: opts.gateway_url.clone(),
        },
        files: planned_files,
        findings: planned_findings,
        connections: connections.into_values().collect(),
        vault_writes: writes.into_values().collect(),
        rotation,
        warnings: warnings.iter().map(|w| scrub(w, &values)).collect(),
    };
    // Policy warnings name connections and flags only.
    plan.warnings.extend(crate::policy::warnings(&plan));
    plan
}

/// `base-<directory>` for a file below the top directory (`billing/.env` →
/// `jwt-secret-billing`), `base` for one at the top.
fn with_dir(base: &str, path: &str) -> String {
    let path = path.replace('\\', "/");
    let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
    let dir = slug(dir.trim_start_matches("./"));
    if dir.is_empty() {
        base.to_string()
    } else {
        format!("{base}-{dir}")
    }
}

fn references_of(rules: &RuleSet, rule_id: &str) -> Vec<String> {
    rules
        .get(rule_id)
        .map(|r| r.references.clone())
        .unwrap_or_default()
}

/// Compose interpolation reaches every value of a compose file, so the first finding of
/// each value there also rewrites the copies no finding covers (a healthcheck repeating
/// a password). A copy inside a flow collection (`[CMD, x, -p<value>]`) is left alone:
/// `${…}` would end the plain scalar there; the planner's leftover check then makes the
/// finding manual.
fn compose_copies(ctxs: &[FileCtx<'_>], analyses: &mut [Analysis<'_>]) {
    use crate::analyze::Slot;
    for (fi, ctx) in ctxs.iter().enumerate() {
        if ctx.kind != crate::model::FileKind::Compose {
            continue;
        }
        let members: Vec<usize> = (0..analyses.len())
            .filter(|&i| analyses[i].file == fi)
            .collect();
        let mut done: Vec<&[u8]> = Vec::new();
        for &i in &members {
            let a = &analyses[i];
            if !matches!(a.slot, Some(Slot::ComposeEnv { .. })) {
                continue;
            }
            let own = a.value.span;
            let v = &ctx.data[own.start..own.end];
            if v.len() < MIN_NAME_VALUE || done.contains(&v) {
                continue;
            }
            done.push(v);
            let mut copies = Vec::new();
            let mut absorbed = Vec::new();
            let mut from = 0;
            while let Some(k) = ctx.data[from..].windows(v.len()).position(|w| w == v) {
                let at = Span::new(from + k, from + k + v.len());
                from = at.end;
                if overlaps(at, own) || in_flow_plain(ctx.data, at.start) {
                    continue;
                }
                // A finding of exactly this copy that has no rewrite of its own (it is
                // not an environment entry) is replaced with the copies.
                let finder = members
                    .iter()
                    .copied()
                    .find(|&j| overlaps(at, analyses[j].finding.span));
                match finder {
                    None => copies.push(at),
                    Some(j)
                        if analyses[j].finding.span == at
                            && analyses[j].strategy == Strategy::Manual
                            && analyses[j].secret_manifest.is_none() =>
                    {
                        copies.push(at);
                        absorbed.push(j);
                    }
                    Some(_) => {}
                }
            }
            analyses[i].copies = copies;
            for j in absorbed {
                // The stored value is the copy itself: the same entry as the owner's.
                analyses[j].value = analyses[i].value.clone();
                analyses[j].value.span = analyses[j].finding.span;
                analyses[j].strategy = Strategy::PlatformRef;
                analyses[j].slot = Some(Slot::ComposeCopy);
                analyses[j].manual_reason = None;
            }
        }
    }
}

/// Whether `at` sits in an unquoted part of a YAML flow collection on its line.
fn in_flow_plain(data: &[u8], at: usize) -> bool {
    let ls = data[..at]
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let (mut single, mut double, mut depth) = (false, false, 0usize);
    let mut i = ls;
    while i < at {
        match data[i] {
            b'\\' if double => i += 1,
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            b'[' | b'{' if !single && !double => depth += 1,
            b']' | b'}' if !single && !double => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    depth > 0 && !single && !double
}

/// `text` with every occurrence of a found value replaced by `…`: instructions and
/// warnings quote names from the file, and a name may hold a value.
fn scrub(text: &str, values: &[&[u8]]) -> String {
    let mut out = text.to_string();
    for v in values {
        if let Ok(v) = std::str::from_utf8(v) {
            if out.contains(v) {
                out = out.replace(v, "…");
            }
        }
    }
    out
}

fn connection_use(a: &Analysis<'_>, opts: &PlanOptions) -> Option<ConnUse> {
    if !matches!(
        a.strategy,
        Strategy::GatewayTunnel | Strategy::GatewayNative
    ) {
        return None;
    }
    let prefix = |base: String| match opts
        .name_prefix
        .as_deref()
        .map(slug)
        .filter(|p| !p.is_empty())
    {
        Some(p) => format!("{p}-{base}"),
        None => base,
    };
    match &a.target {
        Target::Db(c) => {
            let hoop_type = c.protocol.hoop_type()?.to_string();
            let mut base = format!("{}-{}", c.protocol.short(), slug(&c.host));
            if let Some(db) = c.db.as_deref().map(slug).filter(|d| !d.is_empty()) {
                base.push('-');
                base.push_str(&db);
            }
            Some(ConnUse {
                identity: format!(
                    "db|{}|{}|{}|{}|{}",
                    c.protocol.short(),
                    c.host.to_ascii_lowercase(),
                    c.effective_port(),
                    c.db.clone().unwrap_or_default(),
                    c.user.clone().unwrap_or_default()
                ),
                base: prefix(base),
                hoop_type,
                key: if c.protocol == crate::connstr::DbProtocol::Mongo {
                    "CONNECTION_STRING".into()
                } else {
                    "PASS".into()
                },
            })
        }
        Target::Http {
            remote_url,
            host,
            env_key,
        } => Some(ConnUse {
            identity: format!("http|{}|{env_key}", remote_url.to_ascii_lowercase()),
            base: prefix(format!("http-{}", slug(host))),
            // The form hoop's webapp creates; `application/httpproxy` is its deprecated one.
            hoop_type: "httpproxy/httpproxy".into(),
            key: env_key.clone(),
        }),
        Target::None => None,
    }
}

/// The connection's env: inline target facts and the reference for the secret key.
fn connection_env(
    a: &Analysis<'_>,
    pointer: &VaultPointer,
    warnings: &mut Vec<String>,
    name: &str,
) -> (BTreeMap<String, String>, Vec<String>) {
    let mut env = BTreeMap::new();
    let secret_key = pointer.key.clone();
    match &a.target {
        Target::Db(c) => {
            use crate::connstr::DbProtocol;
            if c.protocol != DbProtocol::Mongo {
                env.insert("HOST".into(), c.host.clone());
                env.insert("PORT".into(), c.effective_port().to_string());
                match &c.user {
                    Some(u) => {
                        env.insert("USER".into(), u.clone());
                    }
                    None => warnings.push(format!(
                        "connection {name}: the connection string names no user; set USER before registering"
                    )),
                }
                if let Some(db) = &c.db {
                    let k = if c.protocol == DbProtocol::Oracle {
                        "SID"
                    } else {
                        "DB"
                    };
                    env.insert(k.into(), db.clone());
                }
                if let Some(mode) = &c.sslmode {
                    env.insert("SSLMODE".into(), mode.clone());
                }
                if let Some(note) = &c.sslmode_note {
                    warnings.push(format!("connection {name}: {note}"));
                }
            }
        }
        Target::Http { remote_url, .. } => {
            env.insert("REMOTE_URL".into(), remote_url.clone());
        }
        Target::None => {}
    }
    env.insert(secret_key.clone(), pointer.reference.clone());
    (env, vec![secret_key])
}

/// The first finding whose value (as found, or as stored without its prefix) survives,
/// in any of its [`value_forms`], in a file the plan rewrites. Returns (finding, file,
/// line of the copy in the file as it is now).
fn leftover(
    files: &[SourceFile<'_>],
    analyses: &[Analysis<'_>],
    rewrites: &[crate::rewrite::Rewrite],
    ids: &[String],
) -> Option<(usize, usize, usize)> {
    let mut rewritten: BTreeMap<usize, (Vec<Edit>, Vec<u8>)> = BTreeMap::new();
    for (fi, f) in files.iter().enumerate() {
        let raw: Vec<(usize, RawEdit)> = (0..analyses.len())
            .filter(|&i| analyses[i].file == fi)
            .flat_map(|i| rewrites[i].edits.iter().map(move |e| (i, e.clone())))
            .collect();
        if !raw.is_empty() {
            let edits = merge_edits(raw, ids);
            let new = apply_edits(f.data, &edits);
            rewritten.insert(fi, (edits, new));
        }
    }
    for (i, a) in analyses.iter().enumerate() {
        if rewrites[i].edits.is_empty() {
            continue;
        }
        let mut bare = source_of(a, files[a.file].path);
        bare.prefix.clear();
        let mut forms = value_forms(a.finding.secret.expose());
        for f in value_forms(&extract_value(files[a.file].data, &bare)) {
            if !forms.contains(&f) {
                forms.push(f);
            }
        }
        for (&fi, (edits, new)) in &rewritten {
            if let Some((at, _)) = find_form(new, &forms) {
                let old = old_offset(at, edits);
                return Some((i, fi, Lines::new(files[fi].data).line_of(old) + 1));
            }
        }
    }
    None
}

/// The offset in the original file of byte `at` of the rewritten one (the start of an
/// edit for a byte inside its replacement).
fn old_offset(at: usize, edits: &[Edit]) -> usize {
    let mut delta: isize = 0;
    for e in edits {
        let new_start = (e.start as isize + delta) as usize;
        if at < new_start {
            break;
        }
        if at < new_start + e.replacement.len() {
            return e.start;
        }
        delta += e.replacement.len() as isize - (e.end - e.start) as isize;
    }
    (at as isize - delta) as usize
}

/// The first pair of overlapping edits from different findings: (later, earlier).
fn first_conflict(
    analyses: &[Analysis<'_>],
    rewrites: &[crate::rewrite::Rewrite],
) -> Option<(usize, usize)> {
    for i in 0..rewrites.len() {
        for j in 0..i {
            if analyses[i].file != analyses[j].file {
                continue;
            }
            for a in &rewrites[j].edits {
                for b in &rewrites[i].edits {
                    // The same edit from two findings (one existingSecret for every
                    // value of a Helm block) is made once.
                    let same = a.span == b.span && a.text == b.text && a.header == b.header;
                    if !same && overlaps(a.span, b.span) {
                        return Some((i, j));
                    }
                }
            }
        }
    }
    None
}

fn overlaps(a: Span, b: Span) -> bool {
    match (a.is_empty(), b.is_empty()) {
        (false, false) => a.start < b.end && b.start < a.end,
        (true, false) => b.start < a.start && a.start < b.end,
        (false, true) => a.start < b.start && b.start < a.end,
        (true, true) => false,
    }
}

/// Sort a file's edits and join insertions at one offset: identical texts once, texts
/// under a shared header once under it.
fn merge_edits(mut raw: Vec<(usize, RawEdit)>, ids: &[String]) -> Vec<Edit> {
    raw.sort_by_key(|(i, e)| (e.span.start, e.span.end, *i));
    let mut out: Vec<Edit> = Vec::new();
    let mut k = 0;
    while k < raw.len() {
        let span = raw[k].1.span;
        let mut group = Vec::new();
        while k < raw.len() && raw[k].1.span == span {
            group.push(raw[k].clone());
            k += 1;
        }
        // Lines inserted at one offset: the more deeply indented first, since they continue
        // the structure that ends there (a service's `secrets:` before the top-level one).
        group.sort_by_key(|(i, e)| {
            (
                std::cmp::Reverse(indent_of(e.header.as_deref().unwrap_or(&e.text))),
                *i,
            )
        });
        let mut sections: Vec<(Option<String>, Vec<String>)> = Vec::new();
        let mut findings = Vec::new();
        for (i, e) in &group {
            if !findings.contains(&ids[*i]) {
                findings.push(ids[*i].clone());
            }
            match sections.iter_mut().find(|(h, _)| *h == e.header) {
                Some((_, texts)) => {
                    if !texts.contains(&e.text) {
                        texts.push(e.text.clone());
                    }
                }
                None => sections.push((e.header.clone(), vec![e.text.clone()])),
            }
        }
        let replacement: String = sections
            .into_iter()
            .map(|(h, texts)| format!("{}{}", h.unwrap_or_default(), texts.concat()))
            .collect();
        out.push(Edit {
            start: span.start,
            end: span.end,
            replacement,
            findings,
        });
    }
    out
}

/// Leading spaces of the first line of inserted text (after a line break it may start with).
fn indent_of(text: &str) -> usize {
    text.trim_start_matches(['\r', '\n'])
        .bytes()
        .take_while(|b| *b == b' ')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_rules() {
        assert!(overlaps(Span::new(0, 5), Span::new(4, 6)));
        assert!(!overlaps(Span::new(0, 5), Span::new(5, 6)));
        assert!(overlaps(Span::new(3, 3), Span::new(0, 5)));
        assert!(!overlaps(Span::new(0, 0), Span::new(0, 5)));
        assert!(!overlaps(Span::new(5, 5), Span::new(0, 5)));
        assert!(!overlaps(Span::new(2, 2), Span::new(2, 2)));
    }

    #[test]
    fn insertions_share_headers_and_drop_duplicates() {
        let ids = vec!["a".to_string(), "b".to_string()];
        let e = |text: &str, header: Option<&str>| RawEdit {
            span: Span::new(10, 10),
            text: text.into(),
            header: header.map(str::to_string),
        };
        let merged = merge_edits(
            vec![
                (0, e("  x:\n", Some("secrets:\n"))),
                (1, e("  y:\n", Some("secrets:\n"))),
                (1, e("same\n", None)),
                (0, e("same\n", None)),
            ],
            &ids,
        );
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].replacement, "secrets:\n  x:\n  y:\nsame\n");
        assert_eq!(merged[0].findings, ["a", "b"]);
        let nested = merge_edits(
            vec![
                (0, e("  x:\n", Some("secrets:\n"))),
                (1, e("      - y\n", Some("    secrets:\n"))),
            ],
            &ids,
        );
        assert_eq!(
            nested[0].replacement,
            "    secrets:\n      - y\nsecrets:\n  x:\n"
        );
        assert_eq!(nested[0].findings, ["b", "a"]);
    }

    #[test]
    fn checksums_ignore_the_masked_bytes_only() {
        let m = |s, e| MaskedSpan {
            finding: "f".into(),
            rule_id: "r".into(),
            start: s,
            end: e,
        };
        let a = checksum(b"k=SECRET1\n", &[m(2, 9)]);
        let b = checksum(b"k=OTHERS2\n", &[m(2, 9)]);
        let c = checksum(b"q=SECRET1\n", &[m(2, 9)]);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}

#[cfg(test)]
mod plan_tests {
    use super::*;
    use crate::testutil::finding;

    /// (path, content, [(secret, rule)])
    type Input<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>);

    fn run(files: &[Input<'_>]) -> Plan {
        run_with(files, &PlanOptions::default())
    }

    fn run_with(files: &[Input<'_>], opts: &PlanOptions) -> Plan {
        let findings: Vec<Vec<Finding>> = files
            .iter()
            .map(|(p, d, fs)| {
                fs.iter()
                    .map(|(needle, rule)| finding(p, d, needle, rule))
                    .collect()
            })
            .collect();
        let sources: Vec<SourceFile<'_>> = files
            .iter()
            .zip(&findings)
            .map(|((p, d, _), fs)| SourceFile {
                path: p,
                data: d.as_bytes(),
                findings: fs,
            })
            .collect();
        plan(&sources, &[], &RuleSet::default(), opts)
    }

    /// Found by fuzzing (migrate_rewriters): a key, a database name or a user that holds
    /// another finding's value carried that value into the plan as a name.
    #[test]
    fn names_that_hold_a_value_are_not_used() {
        let yaml = "config:\n  pw=Zq8rLm2Tv0Xk9Wq;x: sk_live_AbCdEf123456\n";
        let env = "U=postgres://app:Pw1x9Qa@db.internal:5432/x_Hh7Gg6Ff5Ee4\nDB=Hh7Gg6Ff5Ee4\n";
        let p = run(&[
            (
                "values.yaml",
                yaml,
                vec![
                    ("Zq8rLm2Tv0Xk9Wq", "generic-password"),
                    ("sk_live_AbCdEf123456", "stripe-live-secret-key"),
                ],
            ),
            (
                ".env",
                env,
                vec![("Pw1x9Qa", "pg"), ("Hh7Gg6Ff5Ee4", "generic-password")],
            ),
        ]);
        let json = p.to_json();
        for value in [
            "Zq8rLm2Tv0Xk9Wq",
            "sk_live_AbCdEf123456",
            "Pw1x9Qa",
            "Hh7Gg6Ff5Ee4",
        ] {
            assert!(!json.contains(value), "{value} in the plan:\n{json}");
        }
    }

    #[test]
    fn one_connection_per_target_and_one_vault_entry_per_value() {
        let a = "DATABASE_URL=postgres://app:Pw1x9Qa@db.internal:5432/app\nJWT_SECRET=first-value-0123456789\n";
        let b = "DATABASE_URL=postgres://app:Pw1x9Qa@db.internal:5432/app\nJWT_SECRET=other-value-9876543210\n";
        let c = "JWT_SECRET=first-value-0123456789\n";
        let p = run(&[
            (
                "a/.env",
                a,
                vec![
                    ("Pw1x9Qa", "pg"),
                    ("first-value-0123456789", "generic-secret"),
                ],
            ),
            (
                "b/.env",
                b,
                vec![
                    ("Pw1x9Qa", "pg"),
                    ("other-value-9876543210", "generic-secret"),
                ],
            ),
            (
                "c/.env",
                c,
                vec![("first-value-0123456789", "generic-secret")],
            ),
        ]);
        assert_eq!(p.connections.len(), 1, "one target, one connection");
        assert_eq!(p.connections[0].name, "pg-db-internal-app");
        assert_eq!(p.connections[0].findings.len(), 2);
        let jwt: BTreeSet<String> = p
            .findings
            .iter()
            .filter(|f| f.rule_id == "generic-secret")
            .map(|f| f.vault.as_ref().unwrap().path.clone())
            .collect();
        assert_eq!(jwt.len(), 2, "two values, two entries: {jwt:?}");
        // Named after their directories, not a hash of file and line (audit B17).
        assert_eq!(
            jwt.iter().map(String::as_str).collect::<Vec<_>>(),
            ["apps/jwt-secret", "apps/jwt-secret-b"],
        );
        let a_path = &p
            .findings
            .iter()
            .find(|f| f.file == "a/.env" && f.rule_id == "generic-secret")
            .unwrap()
            .vault;
        let c_path = &p
            .findings
            .iter()
            .find(|f| f.file == "c/.env")
            .unwrap()
            .vault;
        assert_eq!(a_path, c_path, "the same value shares its entry");
        assert_eq!(p.vault_writes.len(), 3);
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    /// Audit B1: a password repeated where no rewrite reaches (a compose healthcheck) stayed
    /// in the "migrated" file. Copies as written, URL-encoded and base64 all count.
    #[test]
    fn a_value_left_in_a_rewritten_file_makes_its_finding_manual() {
        let value = "p@ss-Zq8rLm2Tv0Xk";
        let copies = [
            value.to_string(),
            "p%40ss-Zq8rLm2Tv0Xk".to_string(),
            crate::text::base64(value.as_bytes()),
        ];
        for copy in copies {
            let d =
                format!("JWT_SECRET={value}\nOTHER=x\n# check: curl -u admin:{copy} localhost\n");
            let p = run(&[(".env", &d, vec![(value, "generic-secret")])]);
            let f = &p.findings[0];
            assert_eq!(f.strategy, Strategy::Manual, "copy {copy}");
            assert!(
                f.instruction.contains("line 3 of .env"),
                "{}",
                f.instruction
            );
            assert!(!f.instruction.contains(&copy));
            assert!(p.files[0].edits.is_empty(), "nothing is rewritten for it");
            assert!(f.platform.is_none());
        }
        // Every copy found and rewritten: nothing is left, nothing turns manual.
        let a = format!("JWT_SECRET={value}\n");
        let b = format!("API_SECRET={value}\n");
        let p = run(&[
            ("a.env", &a, vec![(value, "generic-secret")]),
            ("b.env", &b, vec![(value, "generic-secret")]),
        ]);
        assert!(p
            .findings
            .iter()
            .all(|f| f.strategy == Strategy::PlatformRef));
    }

    /// Audit B7 (`_FILE` for images that do not read it), B8 (a compose service became a
    /// gateway connection), B1 (a healthcheck kept the password) and one value stored
    /// twice, on one compose file.
    #[test]
    fn compose_values_interpolate_stay_on_the_network_and_share_one_entry() {
        use crate::testutil::finding_nth;
        let pw = "Hq7Lm2Xw9Rt4Kp8Zb3Nv";
        let gitea = "Gt5Vy8Qn1Gd6Ws3Te7Lx";
        let d = format!(
            "services:\n  web:\n    image: ghcr.io/acme/web:1\n    environment:\n      DATABASE_URL: postgres://app:{pw}@db:5432/app\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_PASSWORD: {pw}\n    healthcheck:\n      test: [\"CMD-SHELL\", \"PGPASSWORD={pw} pg_isready -U app\"]\n  gitea:\n    image: gitea/gitea:1.21\n    environment:\n      - DB_PASSWD={gitea}\n"
        );
        let path = "compose.yaml";
        let fs = vec![
            finding_nth(path, &d, pw, 0, "postgres-uri"),
            finding_nth(path, &d, pw, 1, "generic-password"),
            finding_nth(path, &d, gitea, 0, "generic-password"),
        ];
        let p = plan(
            &[SourceFile {
                path,
                data: d.as_bytes(),
                findings: &fs,
            }],
            &[],
            &RuleSet::default(),
            &PlanOptions::default(),
        );
        assert!(
            p.connections.is_empty(),
            "db is a service: {:?}",
            p.connections
        );
        assert!(
            p.findings
                .iter()
                .all(|f| f.strategy == Strategy::PlatformRef),
            "{:#?}",
            p.findings
        );
        assert_eq!(p.vault_writes.len(), 2, "{:#?}", p.vault_writes);
        let new = String::from_utf8(apply_edits(d.as_bytes(), &p.files[0].edits)).unwrap();
        assert!(!new.contains(pw) && !new.contains(gitea), "{new}");
        let var = "${POSTGRES_PASSWORD:?set from vault}";
        assert!(
            new.contains(&format!("postgres://app:{var}@db:5432/app")),
            "{new}"
        );
        assert!(
            new.contains(&format!("\"PGPASSWORD={var} pg_isready")),
            "{new}"
        );
        assert!(
            new.contains("POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password\n"),
            "{new}"
        );
        assert!(
            new.contains("      - \"DB_PASSWD=${DB_PASSWD:?set from vault}\"\n"),
            "{new}"
        );
        assert!(
            !new.contains("DB_PASSWD_FILE"),
            "gitea does not read _FILE: {new}"
        );
        assert!(
            new.ends_with("secrets:\n  postgres_password:\n    environment: POSTGRES_PASSWORD\n"),
            "{new}"
        );
    }

    /// Audit B6: the Secret was named after the values path and its key after the values
    /// key, and the chart read other keys. Now one Secret per block holds every password
    /// under the keys the chart reads.
    #[test]
    fn bitnami_postgresql_passwords_fill_one_secret_with_the_chart_keys() {
        let (admin, user) = ("Ad9Qw3Er7Ty1Ui5Op2As", "Us4Df8Gh2Jk6Lz0Xc3Vb");
        let d = format!(
            "global:\n  storageClass: \"\"\npostgresql:\n  auth:\n    postgresPassword: {admin}\n    username: app\n    password: \"{user}\"\n    existingSecret: \"\"\n    secretKeys:\n      adminPasswordKey: admin-password\n"
        );
        let p = run(&[(
            "values.yaml",
            &d,
            vec![(admin, "generic-password"), (user, "generic-password")],
        )]);
        assert!(
            p.findings
                .iter()
                .all(|f| f.strategy == Strategy::PlatformRef),
            "{:#?}",
            p.findings
        );
        let new = String::from_utf8(apply_edits(d.as_bytes(), &p.files[0].edits)).unwrap();
        assert!(
            new.contains("    existingSecret: postgresql-auth\n"),
            "{new}"
        );
        assert!(
            new.contains("    postgresPassword: \"\"\n") && new.contains("    password: \"\"\n"),
            "{new}"
        );
        let es = crate::artifacts::external_secrets(&p).unwrap();
        assert_eq!(es.matches("kind: ExternalSecret").count(), 1, "{es}");
        assert!(es.contains("  name: postgresql-auth\n"), "{es}");
        assert!(
            es.contains("secretKey: admin-password\n") && es.contains("secretKey: password\n"),
            "{es}"
        );
    }

    #[test]
    fn helm_blocks_whose_keys_are_unknown_or_incomplete_are_manual() {
        let pw = "Rk5Tn9Vb2Xm6Lq8Wz3Hs";
        let manual = |path: &str, d: &str, why: &str| {
            let p = run(&[(path, d, vec![(pw, "generic-password")])]);
            assert_eq!(p.findings[0].strategy, Strategy::Manual, "{path}: {d}");
            assert!(
                p.findings[0].instruction.contains(why),
                "{}",
                p.findings[0].instruction
            );
            assert!(p.files[0].edits.is_empty());
        };
        // A literal the chart reads from the Secret too, not found as a secret.
        manual(
            "values.yaml",
            &format!("postgresql:\n  auth:\n    postgresPassword: {pw}\n    password: changeme\n    existingSecret: \"\"\n"),
            "`password` from the Secret too",
        );
        // A custom user whose password is empty: the chart would read `password`.
        manual(
            "values.yaml",
            &format!("mysql:\n  auth:\n    rootPassword: {pw}\n    username: shop\n    existingSecret: \"\"\n"),
            "`password` (key mysql-password) from the Secret too, and that value is empty",
        );
        // Bitnami mongodb with custom users: their passwords share one comma-joined key,
        // whether the found value is the root password or one of the users'.
        manual(
            "values.yaml",
            &format!("mongodb:\n  auth:\n    rootPassword: {pw}\n    usernames: [shop]\n    passwords: [changeme]\n    databases: [shop]\n    existingSecret: \"\"\n"),
            "one Secret key, `mongodb-passwords`",
        );
        manual(
            "charts/mongodb/values.yaml",
            &format!("auth:\n  rootPassword: \"\"\n  usernames:\n    - shop\n  passwords:\n    - {pw}\n  databases:\n    - shop\n  existingSecret: \"\"\n"),
            "one Secret key, `mongodb-passwords`",
        );
        // A chart unleak does not know, without a key knob.
        manual(
            "values.yaml",
            &format!("keycloak:\n  auth:\n    adminPassword: {pw}\n    existingSecret: \"\"\n"),
            "does not know which Secret keys",
        );
    }

    /// Audit B17: a value in a comment (Bitnami's `## password: "..."`) was seeded under
    /// `apps/password`. It is deleted by hand now, and stored nowhere.
    #[test]
    fn a_value_in_a_comment_is_manual_and_not_stored() {
        let pw = "Rk5Tn9Vb2Xm6Lq8Wz3Hs";
        let d = format!("auth:\n  enabled: true\n  ## password: \"{pw}\"\n  password: \"\"\n  existingSecret: \"\"\nrun: |\n  # {pw}\n");
        let p = run(&[(
            "charts/redis/values.yaml",
            &d,
            vec![(pw, "generic-password")],
        )]);
        assert_eq!(p.findings[0].strategy, Strategy::Manual);
        assert!(
            p.findings[0].instruction.contains("in a comment"),
            "{}",
            p.findings[0].instruction
        );
        assert!(p.findings[0].vault.is_none());
        assert!(p.vault_writes.is_empty(), "{:#?}", p.vault_writes);
        assert!(p.rotation.iter().all(|r| r.vault.is_none()));
        // The same text in a block scalar is a value, not a comment.
        let ctx = FileCtx::new("charts/redis/values.yaml", d.as_bytes());
        let at = |n: usize| {
            let off = d.match_indices(pw).nth(n).unwrap().0;
            Span::new(off, off + pw.len())
        };
        assert!(crate::analyze::in_comment(&ctx, at(0)));
        assert!(!crate::analyze::in_comment(&ctx, at(1)));
    }

    #[test]
    fn helm_key_knobs_name_the_key() {
        let pw = "Rk5Tn9Vb2Xm6Lq8Wz3Hs";
        // Bitnami redis, its own values.yaml: top-level `auth`, key from its knob.
        let d = format!("auth:\n  enabled: true\n  password: {pw}\n  existingSecret: \"\"\n  existingSecretPasswordKey: \"\"\n");
        let p = run(&[(
            "charts/redis/values.yaml",
            &d,
            vec![(pw, "generic-password")],
        )]);
        assert_eq!(p.findings[0].strategy, Strategy::PlatformRef);
        let es = crate::artifacts::external_secrets(&p).unwrap();
        assert!(
            es.contains("  name: redis-auth\n") && es.contains("secretKey: redis-password\n"),
            "{es}"
        );
        // An unknown chart with an empty knob: the knob is filled with the key used.
        let d = format!(
            "app:\n  db:\n    password: {pw}\n    existingSecret:\n    existingSecretKey: \"\"\n"
        );
        let p = run(&[("values.yaml", &d, vec![(pw, "generic-password")])]);
        assert_eq!(
            p.findings[0].strategy,
            Strategy::PlatformRef,
            "{}",
            p.findings[0].instruction
        );
        let new = String::from_utf8(apply_edits(d.as_bytes(), &p.files[0].edits)).unwrap();
        assert!(
            new.contains("    existingSecret: app-db\n    existingSecretKey: password\n"),
            "{new}"
        );
    }

    /// Audit B11: a pinned older syntax got `env=` mounts it cannot read.
    #[test]
    fn dockerfile_syntax_pins_are_raised_or_the_finding_is_manual() {
        let tok = "npm_Zq8rLm2Tv0Xk9WqAbCdEf1234567890abc";
        let body = format!("FROM node:20\nARG NPM_TOKEN={tok}\nRUN npm ci\nRUN echo $NPM_TOKEN > .npmrc && npm publish\n");
        let d = format!("# syntax=docker/dockerfile:1.4\n{body}");
        let p = run(&[("Dockerfile", &d, vec![(tok, "npm-access-token")])]);
        assert_eq!(p.findings[0].strategy, Strategy::PlatformRef);
        let new = String::from_utf8(apply_edits(d.as_bytes(), &p.files[0].edits)).unwrap();
        assert!(
            new.starts_with("# syntax=docker/dockerfile:1.10\n"),
            "{new}"
        );
        assert!(
            new.contains("RUN --mount=type=secret,id=npm_token,env=NPM_TOKEN echo"),
            "{new}"
        );
        assert!(p.findings[0]
            .instruction
            .contains("raised from docker/dockerfile:1.4"));
        let d = format!("# syntax=docker/dockerfile:1.4@sha256:0123abcd\n{body}");
        let p = run(&[("Dockerfile", &d, vec![(tok, "npm-access-token")])]);
        assert_eq!(p.findings[0].strategy, Strategy::Manual);
        assert!(
            p.findings[0].instruction.contains("by digest"),
            "{}",
            p.findings[0].instruction
        );
        let d = format!("# syntax=docker/dockerfile:1\n{body}");
        let p = run(&[("Dockerfile", &d, vec![(tok, "npm-access-token")])]);
        let new = String::from_utf8(apply_edits(d.as_bytes(), &p.files[0].edits)).unwrap();
        assert!(new.starts_with("# syntax=docker/dockerfile:1\n"), "{new}");
    }

    /// Gateway-native findings also point the client's base URL at the gateway.
    #[test]
    fn gateway_native_clients_get_their_base_url_variable() {
        let key = "sk-proj-Zq8rLm2Tv0Xk9WqAbCdEf1234567890abcdEFGH";
        let rules = unleak_rules::builtin().expect("the built-in catalog compiles");
        let plan_of = |path: &str, d: &str| {
            let fs = vec![finding(path, d, key, "openai-project-key")];
            plan(
                &[SourceFile {
                    path,
                    data: d.as_bytes(),
                    findings: &fs,
                }],
                &[],
                &rules,
                &PlanOptions::default(),
            )
        };
        let d = format!("OPENAI_API_KEY={key}\nLOG=1\n");
        let p = plan_of(".env", &d);
        assert_eq!(p.findings[0].strategy, Strategy::GatewayNative);
        assert_eq!(p.connections[0].hoop_type, "httpproxy/httpproxy");
        let new = String::from_utf8(apply_edits(d.as_bytes(), &p.files[0].edits)).unwrap();
        assert!(
            new.contains("OPENAI_API_KEY=\nOPENAI_BASE_URL=\nLOG=1\n"),
            "{new}"
        );
        assert!(
            p.findings[0].instruction.contains("OPENAI_BASE_URL"),
            "{}",
            p.findings[0].instruction
        );
        // Already set: left alone.
        let d = format!("OPENAI_BASE_URL=https://proxy.internal/v1\nOPENAI_API_KEY={key}\n");
        let new = String::from_utf8(apply_edits(
            d.as_bytes(),
            &plan_of(".env", &d).files[0].edits,
        ))
        .unwrap();
        assert_eq!(new.matches("OPENAI_BASE_URL=").count(), 1, "{new}");
        let d = format!("services:\n  app:\n    image: acme/app\n    environment:\n      OPENAI_API_KEY: {key}\n");
        let new = String::from_utf8(apply_edits(
            d.as_bytes(),
            &plan_of("compose.yaml", &d).files[0].edits,
        ))
        .unwrap();
        assert!(new.contains("      OPENAI_API_KEY: \"${OPENAI_API_KEY:?set from vault}\"\n      OPENAI_BASE_URL: \"${OPENAI_BASE_URL:?set to the gateway HTTP proxy URL}\"\n"), "{new}");
    }

    /// Attack: two services set the same variable to different values; each must read a
    /// variable of its own, or one service would get the other's password.
    #[test]
    fn compose_services_with_one_key_and_two_values_read_two_variables() {
        let (a, b) = ("Aa1Bb2Cc3Dd4Ee5Ff6Gg", "Hh7Ii8Jj9Kk0Ll1Mm2Nn");
        let d = format!("services:\n  one:\n    image: acme/one\n    environment:\n      API_PASSWORD: {a}\n  two:\n    image: acme/two\n    environment:\n      API_PASSWORD: {b}\n");
        let p = run(&[(
            "compose.yaml",
            &d,
            vec![(a, "generic-password"), (b, "generic-password")],
        )]);
        let new = String::from_utf8(apply_edits(d.as_bytes(), &p.files[0].edits)).unwrap();
        assert!(!new.contains(a) && !new.contains(b), "{new}");
        let vars = new
            .lines()
            .filter_map(|l| {
                l.split_once("${")
                    .map(|(_, r)| r.split(':').next().unwrap().to_string())
            })
            .collect::<Vec<_>>();
        assert_eq!(vars.len(), 2, "{new}");
        assert_ne!(vars[0], vars[1], "{new}");
        assert_eq!(p.vault_writes.len(), 2);
    }

    /// Attack: a CRLF Dockerfile keeps its line ending when its pin is raised.
    #[test]
    fn a_crlf_dockerfile_pin_is_raised_in_place() {
        let tok = "npm_Zq8rLm2Tv0Xk9WqAbCdEf1234567890abc";
        let d = format!("# syntax=docker/dockerfile:1.7\r\nFROM node:20\r\nARG NPM_TOKEN={tok}\r\nRUN echo $NPM_TOKEN\r\n");
        let p = run(&[("Dockerfile", &d, vec![(tok, "npm-access-token")])]);
        let new = String::from_utf8(apply_edits(d.as_bytes(), &p.files[0].edits)).unwrap();
        assert!(
            new.starts_with("# syntax=docker/dockerfile:1.10\r\nFROM node:20\r\n"),
            "{new:?}"
        );
    }

    /// A copy in a plain flow sequence cannot take `${…}`: the finding stays manual.
    #[test]
    fn a_compose_copy_in_a_plain_flow_sequence_is_left_manual() {
        let pw = "Mq4Zr8Tn2Lx6Wp9Ka3Vs";
        let d = format!(
            "services:\n  db:\n    image: mysql:8\n    environment:\n      MYSQL_ROOT_PASSWORD: {pw}\n    healthcheck:\n      test: [CMD, mysqladmin, ping, -p{pw}]\n"
        );
        let p = run(&[("compose.yaml", &d, vec![(pw, "generic-password")])]);
        assert_eq!(p.findings[0].strategy, Strategy::Manual);
        assert!(
            p.findings[0].instruction.contains("line 7"),
            "{}",
            p.findings[0].instruction
        );
    }

    #[test]
    fn vault_paths_sit_below_the_repository_and_carry_the_namespace() {
        let d = "JWT_SECRET=first-value-0123456789\nDATABASE_URL=postgres://app:Pw1x9Qa@db.internal/app\n";
        let opts = PlanOptions {
            repo: "Acme/Shop.Web".into(),
            vault_namespace: Some("/team-a/".into()),
            ..PlanOptions::default()
        };
        let p = run_with(
            &[(
                ".env",
                d,
                vec![
                    ("first-value-0123456789", "generic-secret"),
                    ("Pw1x9Qa", "pg"),
                ],
            )],
            &opts,
        );
        let refs: Vec<&str> = p
            .findings
            .iter()
            .map(|f| f.vault.as_ref().unwrap().reference.as_str())
            .collect();
        assert!(
            refs.contains(&"_vaultkv2:team-a/secret/data/apps/acme-shop-web/jwt-secret:JWT_SECRET"),
            "{refs:?}"
        );
        assert!(
            refs.contains(
                &"_vaultkv2:team-a/secret/data/hoop/acme-shop-web/pg-db-internal-app:PASS"
            ),
            "{refs:?}"
        );
        assert_eq!(p.settings.repo, "acme-shop-web");
        assert_eq!(p.settings.vault_namespace.as_deref(), Some("team-a"));
    }

    #[test]
    fn different_credentials_for_one_target_are_flagged() {
        let a = "U=postgres://app:Pw1x9Qa@db.internal/app\n";
        let b = "U=postgres://app:Zz8y7Wv@db.internal/app\n";
        let p = run(&[
            ("a.env", a, vec![("Pw1x9Qa", "pg")]),
            ("b.env", b, vec![("Zz8y7Wv", "pg")]),
        ]);
        assert_eq!(p.connections.len(), 1);
        assert_eq!(p.warnings.len(), 1);
        assert!(
            p.warnings[0].contains("different credentials") && !p.warnings[0].contains("Zz8y7Wv")
        );
    }

    #[test]
    fn overlapping_rewrites_leave_the_later_one_manual() {
        // Two findings inside one connection string: the tunnel rewrite replaces the whole
        // string, so the second cannot be rewritten too.
        let d = "DATABASE_URL=postgres://app:Pw1x9Qa@db.internal/app?apikey=Kk3Lm9Pq2Rs7\n";
        let p = run(&[(
            ".env",
            d,
            vec![("Pw1x9Qa", "pg"), ("Kk3Lm9Pq2Rs7", "generic-api-key")],
        )]);
        let strategies: Vec<Strategy> = p.findings.iter().map(|f| f.strategy).collect();
        assert_eq!(strategies, [Strategy::GatewayTunnel, Strategy::Manual]);
        assert!(p.findings[1].instruction.contains("overlaps"));
    }

    #[test]
    fn ids_and_checksums_hold_no_value() {
        let d = "JWT_SECRET=first-value-0123456789\n";
        let p = run(&[(
            ".env",
            d,
            vec![("first-value-0123456789", "generic-secret")],
        )]);
        let json = p.to_json();
        assert!(!json.contains("first-value"));
        let digest_of_value = sha256_hex(b"first-value-0123456789");
        assert!(!json.contains(&digest_of_value[..16]));
        assert_eq!(Plan::from_json(&json).unwrap(), p);
    }
}
