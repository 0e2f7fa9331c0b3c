//! `unleak migrate`: scan, plan, print the table and the redacted diff, write the
//! artifacts, and with `--write` (or `migrate apply PLAN`) seed the vault and rewrite the
//! files. The logic lives in `unleak-migrate`; this module wires the scan to it.

use crate::cli::{
    FilterArgs, MigrateApplyArgs, MigrateArgs, MigrateCommand, MigratePlanArgs, SeedArgs, SeedStore,
};
use crate::cmd::filtering::{relative, scan_tree, setup};
use crate::Outcome;
use anyhow::{bail, Context};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use unleak_core::{Blob, Finding, Origin, Secret};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_migrate::{Plan, PlanOptions, Prepared, SourceFile, Strategy, VaultClient, VaultConfig};

pub fn run(args: MigrateArgs) -> anyhow::Result<Outcome> {
    match args.command {
        Some(MigrateCommand::Apply(a)) => apply(a),
        None => plan(args.plan),
    }
}

/// A path under `root` as the user would type it from the current directory.
fn from_cwd(root: &Path, rel: &str) -> String {
    let joined = if root.is_file() {
        root.to_path_buf()
    } else {
        root.join(rel)
    };
    let text = joined.to_string_lossy().replace('\\', "/");
    text.strip_prefix("./").unwrap_or(&text).to_string()
}

fn plan(args: MigratePlanArgs) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    if args.seed.seed.is_some() && !args.write {
        bail!("--seed stores the values while the plan is applied; add --write, or run `unleak migrate apply PLAN --seed vault` later");
    }
    // A bad vault address or a missing token fails now, before anything is planned.
    let vault = if args.write {
        seed_client(&args.seed)?
    } else {
        None
    };
    let roots: Vec<PathBuf> = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    if roots.iter().any(|p| p.as_os_str() == "-") {
        bail!("migrate rewrites files; standard input (`-`) cannot be migrated");
    }
    let config_root = match roots.as_slice() {
        [one] if one.is_dir() => one.clone(),
        _ => PathBuf::from("."),
    };
    let setup = setup(&config_root, &args.rules, &args.filters)?;
    let matcher = Matcher::new(
        setup.rules,
        MatcherOptions {
            min_confidence: args.min_confidence.into(),
            ..Default::default()
        },
    );
    let out_dir = args.out.canonicalize().ok();
    let mut findings: Vec<Finding> = Vec::new();
    let mut unread = 0usize;
    for root in &roots {
        let tree = scan_tree(root, &matcher, None, &Default::default(), started)?;
        for e in &tree.summary.errors {
            eprintln!(
                "unleak: cannot read {}: {}",
                from_cwd(root, &e.path),
                e.message
            );
        }
        unread += tree.summary.errors.len();
        for mut f in tree.findings {
            let rel = match &f.path {
                Origin::File(p) => p.to_string_lossy().into_owned(),
                _ => continue,
            };
            let path = from_cwd(root, &rel);
            // The artifacts directory holds references only; never migrate it.
            let inside_out = out_dir.as_ref().is_some_and(|o| {
                Path::new(&path)
                    .canonicalize()
                    .is_ok_and(|p| p.starts_with(o))
            });
            if inside_out {
                continue;
            }
            f.path = Origin::File(PathBuf::from(path));
            findings.push(f);
        }
    }
    let filtered = setup.filter.apply(findings, |f| {
        relative(&config_root, Path::new(&*f.path.display_path()))
    });
    let mut by_file: BTreeMap<String, Vec<Finding>> = BTreeMap::new();
    for f in filtered.kept {
        by_file
            .entry(f.path.display_path().into_owned())
            .or_default()
            .push(f);
    }
    let mut contents: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for path in by_file.keys() {
        match std::fs::read(path) {
            Ok(data) => {
                contents.insert(path.clone(), data);
            }
            Err(e) => {
                eprintln!("unleak: cannot read {path}: {e}");
                unread += 1;
            }
        }
    }
    let sources: Vec<SourceFile<'_>> = by_file
        .iter()
        .filter_map(|(path, fs)| {
            contents.get(path).map(|data| SourceFile {
                path,
                data,
                findings: fs,
            })
        })
        .collect();
    let history = if args.history {
        let repo = roots
            .first()
            .filter(|r| r.is_dir())
            .cloned()
            .unwrap_or_else(|| PathBuf::from("."));
        unleak_git::scan_history(&repo, &matcher, &unleak_git::HistoryOptions::default())
            .with_context(|| {
                format!(
                    "--history: cannot read the git history of {}",
                    repo.display()
                )
            })?
            .findings
    } else {
        Vec::new()
    };
    let opts = PlanOptions {
        agent: args.agent.clone(),
        vault_mount: args.vault_mount.clone(),
        connection_prefix: args.vault_prefix.trim_matches('/').to_string(),
        platform_prefix: args.platform_prefix.trim_matches('/').to_string(),
        name_prefix: args.name_prefix.clone(),
    };
    let plan = unleak_migrate::plan(&sources, &history, matcher.rules(), &opts);
    if plan.is_empty() {
        eprintln!("unleak: nothing to migrate");
        return finish(Outcome::Clean, unread);
    }
    let written = unleak_migrate::write_artifacts(&plan, &args.out)
        .with_context(|| format!("cannot write the artifacts to {}", args.out.display()))?;
    let diff = unleak_migrate::unified_diff(&plan, &sources);
    print_plan(&plan, &diff)?;
    for w in &plan.warnings {
        eprintln!("unleak: warning: {w}");
    }
    eprintln!(
        "unleak: {} in {}: {}",
        summary(&plan),
        args.out.display(),
        written
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !args.write {
        eprintln!(
            "unleak: nothing was changed; apply with `unleak migrate --write` (add `--seed vault` to store the values first) or `unleak migrate apply {}`",
            args.out.join("plan.json").display()
        );
        return finish(Outcome::Findings, unread);
    }
    let prepared = unleak_migrate::prepare(&plan, Path::new("."), &rescanner(&matcher))?;
    carry_out(&plan, prepared, vault.as_ref())?;
    finish(Outcome::Clean, unread)
}

/// Unread inputs are not covered by the plan: that is an error, never a clean run.
fn finish(outcome: Outcome, unread: usize) -> anyhow::Result<Outcome> {
    if unread > 0 {
        bail!("{unread} input(s) could not be read; the plan does not cover them");
    }
    Ok(outcome)
}

fn rescanner(matcher: &Matcher) -> impl Fn(&str, &[u8]) -> Vec<Finding> + '_ {
    move |path: &str, data: &[u8]| matcher.scan(&Blob::new(Origin::File(PathBuf::from(path)), data))
}

fn apply(args: MigrateApplyArgs) -> anyhow::Result<Outcome> {
    let text = std::fs::read_to_string(&args.plan)
        .with_context(|| format!("cannot read the plan {}", args.plan.display()))?;
    let plan = Plan::from_json(&text).with_context(|| format!("{}", args.plan.display()))?;
    let vault = seed_client(&args.seed)?;
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    // The rules planning used: the built-ins, --rules and the root's .unleak.toml.
    let setup = setup(&root, &args.rules, &FilterArgs::default())?;
    let matcher = Matcher::new(setup.rules, MatcherOptions::default());
    let prepared = unleak_migrate::prepare(&plan, &root, &rescanner(&matcher))?;
    carry_out(&plan, prepared, vault.as_ref())?;
    Ok(Outcome::Clean)
}

/// Seed (when asked), then write the files: values reach the vault before they leave
/// the files.
fn carry_out(plan: &Plan, prepared: Prepared, vault: Option<&VaultClient>) -> anyhow::Result<()> {
    match vault {
        Some(client) => seed_vault(client, &prepared)?,
        None if plan.has_edits() => eprintln!(
            "unleak: warning: the values were not stored anywhere (no --seed); keep them until you have rotated them"
        ),
        None => {}
    }
    let written = unleak_migrate::write_files(&prepared)?;
    let manual = plan
        .findings
        .iter()
        .filter(|f| f.strategy == Strategy::Manual)
        .count();
    eprintln!(
        "unleak: rewrote {} file(s){}; rotate every secret in rotation.md",
        written.len(),
        if manual > 0 {
            format!("; {manual} finding(s) need a manual change (see the plan)")
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The vault client `--seed vault` asks for: address from --vault-addr or VAULT_ADDR,
/// token from VAULT_TOKEN only.
fn seed_client(args: &SeedArgs) -> anyhow::Result<Option<VaultClient>> {
    let Some(SeedStore::Vault) = args.seed else {
        return Ok(None);
    };
    let addr = match &args.vault_addr {
        Some(a) => a.clone(),
        None => std::env::var("VAULT_ADDR")
            .context("--seed vault needs --vault-addr URL (or VAULT_ADDR in the environment)")?,
    };
    let token = std::env::var_os("VAULT_TOKEN")
        .filter(|t| !t.is_empty())
        .context("--seed vault reads the token from VAULT_TOKEN (never from the command line); it is not set")?;
    let ca_pem =
        match std::env::var_os("VAULT_CACERT") {
            Some(path) => Some(std::fs::read(&path).with_context(|| {
                format!("cannot read VAULT_CACERT {}", Path::new(&path).display())
            })?),
            None => None,
        };
    let client = VaultClient::new(VaultConfig {
        addr,
        token: Secret::new(token.into_encoded_bytes(), 0),
        namespace: std::env::var("VAULT_NAMESPACE")
            .ok()
            .filter(|n| !n.is_empty()),
        insecure: args.insecure,
        ca_pem,
    })?;
    Ok(Some(client))
}

/// Write every value, then read each pointer back: files change only when every
/// reference resolves.
fn seed_vault(client: &VaultClient, prepared: &Prepared) -> anyhow::Result<()> {
    let report = client.write_all(&prepared.values)?;
    for (pointer, _) in &prepared.values {
        if !client.resolves(pointer)? {
            bail!(
                "{} was written but does not read back from {}; files were not changed",
                pointer.display(),
                client.addr()
            );
        }
    }
    eprintln!(
        "unleak: seeded {} value(s) at {} path(s) in {}; every reference resolves",
        report.keys,
        report.paths,
        client.addr()
    );
    Ok(())
}

fn summary(plan: &Plan) -> String {
    let count = |s: Strategy| plan.findings.iter().filter(|f| f.strategy == s).count();
    let history = plan.rotation.iter().filter(|r| r.history_only).count();
    let mut parts = vec![format!(
        "{} finding(s) in {} file(s): {} gateway-tunnel, {} gateway-native, {} platform-ref, {} manual; {} connection(s)",
        plan.findings.len(),
        plan.files.len(),
        count(Strategy::GatewayTunnel),
        count(Strategy::GatewayNative),
        count(Strategy::PlatformRef),
        count(Strategy::Manual),
        plan.connections.len()
    )];
    if history > 0 {
        parts.push(format!("{history} history-only secret(s) to rotate"));
    }
    format!("plan: {}", parts.join("; "))
}

/// The table, the notes and the diff, on standard output.
fn print_plan(plan: &Plan, diff: &str) -> anyhow::Result<()> {
    let mut rows: Vec<[String; 6]> = vec![[
        "FILE".into(),
        "LINE".into(),
        "RULE".into(),
        "STRATEGY".into(),
        "CONNECTION".into(),
        "VAULT".into(),
    ]];
    for f in &plan.findings {
        rows.push([
            f.file.clone(),
            f.line.to_string(),
            f.rule_id.clone(),
            f.strategy.to_string(),
            f.connection.clone().unwrap_or_else(|| "-".into()),
            f.vault.as_ref().map_or_else(|| "-".into(), |v| v.display()),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let result = (|| -> std::io::Result<()> {
        for r in &rows {
            let mut line = String::new();
            for (c, cell) in r.iter().enumerate() {
                if c == 5 {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[c]));
                }
            }
            writeln!(out, "{}", line.trim_end())?;
        }
        writeln!(out)?;
        for f in &plan.findings {
            writeln!(
                out,
                "{}:{} [{}] {}",
                f.file, f.line, f.strategy, f.instruction
            )?;
        }
        let history: Vec<_> = plan.rotation.iter().filter(|r| r.history_only).collect();
        if !history.is_empty() {
            writeln!(out)?;
            writeln!(
                out,
                "Only in git history (rotate them; nothing to rewrite):"
            )?;
            for r in history {
                writeln!(out, "  {} {}", r.location, r.rule_id)?;
            }
        }
        if !diff.is_empty() {
            writeln!(out)?;
            write!(out, "{diff}")?;
        }
        out.flush()
    })();
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}
