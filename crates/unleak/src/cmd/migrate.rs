//! `unleak migrate`: scan, plan, print the table and the redacted diff, write the
//! artifacts, and with `--write` (or `migrate apply PLAN`) seed the vault and rewrite the
//! files. The logic lives in `unleak-migrate`; this module wires the scan to it, decides
//! which root artifacts and rewrites are confined to, and refuses to remove values that
//! would be stored nowhere unless `--discard-values` says so.

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
use unleak_core::{Blob, Confidence, Finding, Origin, Secret};
use unleak_matcher::{Matcher, MatcherOptions};
use unleak_migrate::{
    printable, Plan, PlanOptions, Policy, Prepared, SourceFile, Strategy, VaultClient, VaultConfig,
};
use unleak_scan::{Paths, Scanner};

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
    if args.seed.discard_values && !args.write {
        bail!("--discard-values goes with --write (or `unleak migrate apply PLAN`)");
    }
    // Said before anything is written: in a gitignored .env the values exist nowhere else.
    if args.write {
        refuse_unstored(&args.seed, "--write")?;
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
    if args.write {
        // Files are rewritten under the current directory only, as `migrate apply` does.
        for r in &roots {
            unleak_atomic::confine(r).with_context(|| {
                format!("--write rewrites files under the current directory only; run unleak migrate from the repository ({})", r.display())
            })?;
        }
    }
    let config_root = match roots.as_slice() {
        [one] if one.is_dir() => one.clone(),
        _ => PathBuf::from("."),
    };
    let setup = setup(&config_root, &args.rules, &args.filters)?;
    let min_confidence: Confidence = args.min_confidence;
    // Secrets below --min-confidence are not migrated, but the diff must hide them too:
    // they come from a second scan with every rule.
    let every_rule = (min_confidence > Confidence::Low)
        .then(|| Matcher::new(setup.rules.clone(), MatcherOptions::default()));
    let matcher = Matcher::new(
        setup.rules,
        MatcherOptions {
            min_confidence,
            ..Default::default()
        },
    );
    let out_dir = args.out.canonicalize().ok();
    let mut unread = 0usize;
    let extract_archives = !args.archives.no_extract_archives;
    let scanner = Scanner::new(&matcher, Paths::Verbatim);
    let findings = scan_roots(
        &roots,
        (&scanner, extract_archives),
        out_dir.as_deref(),
        started,
        Some(&mut unread),
    )?;
    let mut known: Vec<Finding> = match &every_rule {
        Some(all) => scan_roots(
            &roots,
            (&Scanner::new(all, Paths::Verbatim), extract_archives),
            out_dir.as_deref(),
            started,
            None,
        )?,
        None => findings.clone(),
    };
    let filtered = setup.filter.apply(findings, |f| {
        relative(&config_root, Path::new(&*f.path.display_path()))
    });
    known.extend(filtered.suppressed.iter().map(|(f, _)| f.clone()));
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
                eprintln!("unleak: cannot read {}: {e}", printable(path));
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
        scanner
            .history(
                &repo,
                &unleak_git::HistoryOptions {
                    extract_archives,
                    ..Default::default()
                },
            )
            .with_context(|| {
                format!(
                    "--history: cannot read the git history of {}",
                    repo.display()
                )
            })?
            .0
            .findings
    } else {
        Vec::new()
    };
    // Secrets baked into an image have no file here to rewrite: they join the rotation
    // list the way history-only ones do.
    let mut history = history;
    if !args.image.images.is_empty() {
        let (found, summary) = crate::cmd::image::scan(
            &args.image,
            extract_archives,
            &scanner,
            100 * 1024 * 1024,
            None,
            &Default::default(),
            started,
        )?;
        if let Some(e) = summary.errors.first() {
            bail!("--image: {}: {}", printable(&e.path), printable(&e.message));
        }
        history.extend(found);
    }
    let opts = PlanOptions {
        agent: args.agent.clone(),
        vault_mount: args.vault_mount.clone(),
        connection_prefix: args.vault_prefix.trim_matches('/').to_string(),
        platform_prefix: args.platform_prefix.trim_matches('/').to_string(),
        name_prefix: args.name_prefix.clone(),
        repo: match &args.repo_slug {
            Some(s) => s.clone(),
            None => unleak_migrate::repo_dir_name(&config_root),
        },
        vault_namespace: vault_namespace()?,
        policy: policy(&args)?,
        gateway_url: args
            .gateway_url
            .as_deref()
            .map(unleak_migrate::check_gateway_url)
            .transpose()
            .map_err(|m| anyhow::anyhow!("--gateway-url: {m}"))?,
    };
    for (flag, value) in [
        ("--vault-mount", args.vault_mount.as_str()),
        ("--vault-prefix", args.vault_prefix.as_str()),
        ("--platform-prefix", args.platform_prefix.as_str()),
    ] {
        if value.contains(':') || value.trim_matches('/').is_empty() {
            bail!("{flag} `{}`: must be a non-empty path without `:` (hoop's agent splits a reference on `:`)", printable(value));
        }
    }
    if args
        .repo_slug
        .as_deref()
        .is_some_and(|s| unleak_migrate::slug(s).is_empty())
    {
        bail!("--repo-slug: needs at least one letter or digit");
    }
    let plan = unleak_migrate::plan(&sources, &history, matcher.rules(), &opts);
    if plan.is_empty() {
        eprintln!("unleak: nothing to migrate");
        return finish(Outcome::Clean, unread);
    }
    let (out_root, out_rel) = artifact_root(&args.out)?;
    let values: Vec<&[u8]> = known.iter().map(|f| f.secret.expose()).collect();
    let written = unleak_migrate::write_artifacts(&plan, &out_root, &out_rel, &values)
        .with_context(|| format!("cannot write the artifacts to {}", args.out.display()))?;
    let diff = unleak_migrate::unified_diff(&plan, &sources, &known);
    print_plan(&plan, &diff, &known)?;
    for w in &plan.warnings {
        eprintln!(
            "unleak: warning: {}",
            unleak_migrate::scrub(&printable(w), &known)
        );
    }
    eprintln!(
        "unleak: {} in {}: {}",
        unleak_migrate::plan_summary(&plan),
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
    let prepared =
        unleak_migrate::prepare(&plan, Path::new("."), matcher.rules(), &rescanner(&matcher))?;
    carry_out(&plan, prepared, vault.as_ref(), args.seed.overwrite_vault)?;
    finish(Outcome::Clean, unread)
}

/// The policy flags, checked as hoop's API checks them; an error names the flag.
fn policy(args: &MigratePlanArgs) -> anyhow::Result<Policy> {
    fn each(
        flag: &str,
        values: &[String],
        check: fn(&str) -> Result<(), String>,
    ) -> anyhow::Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for v in values {
            let v = v.trim();
            check(v).map_err(|e| anyhow::anyhow!("{flag}: {e}"))?;
            if !out.iter().any(|o| o == v) {
                out.push(v.to_string());
            }
        }
        Ok(out)
    }
    if let Some(e) = &args.environment {
        unleak_migrate::check_environment(e).map_err(|m| anyhow::anyhow!("--env: {m}"))?;
    }
    let masking = match args.masking.as_deref() {
        None => unleak_migrate::DEFAULT_MASKING
            .iter()
            .map(|s| s.to_string())
            .collect(),
        Some([none]) if none.trim() == "none" => Vec::new(),
        Some(types) => each("--masking", types, unleak_migrate::check_entity_type)?,
    };
    Ok(Policy {
        environment: args.environment.clone(),
        reviewers: each("--reviewers", &args.reviewers, unleak_migrate::check_group)?,
        jit_seconds: unleak_migrate::parse_jit(&args.jit)
            .map_err(|m| anyhow::anyhow!("--jit: {m}"))?,
        workload_groups: each(
            "--workload-groups",
            &args.workload_groups,
            unleak_migrate::check_group,
        )?,
        groups: each("--groups", &args.groups, unleak_migrate::check_group)?,
        masking,
        deny_words: each(
            "--deny-words",
            &args.deny_words,
            unleak_migrate::check_deny_word,
        )?,
    })
}

/// Scan each root; findings get their path as typed from the current directory, and
/// those in the artifacts directory (references only) are left out. Unreadable inputs
/// are reported and counted into `unread` when it is given.
fn scan_roots(
    roots: &[PathBuf],
    (scanner, extract_archives): (&Scanner<'_>, bool),
    out_dir: Option<&Path>,
    started: Instant,
    mut unread: Option<&mut usize>,
) -> anyhow::Result<Vec<Finding>> {
    let mut findings = Vec::new();
    for root in roots {
        let tree = scan_tree(
            root,
            scanner,
            (None, extract_archives),
            &Default::default(),
            started,
        )?;
        if let Some(count) = unread.as_deref_mut() {
            for e in &tree.summary.errors {
                eprintln!(
                    "unleak: cannot read {}: {}",
                    printable(&from_cwd(root, &e.path)),
                    printable(&e.message)
                );
            }
            *count += tree.summary.errors.len();
        }
        for mut f in tree.findings {
            let rel = match &f.path {
                Origin::File(p) => p.to_string_lossy().into_owned(),
                _ => continue,
            };
            let path = from_cwd(root, &rel);
            let inside_out = out_dir.is_some_and(|o| {
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
    Ok(findings)
}

/// Where the artifacts go, as (root, path below it): no directory below the root may be a
/// symbolic link. A relative `--out` inside the current directory is checked from there
/// (a committed `.unleak -> elsewhere` is refused); any other `--out` was typed by the
/// user, so only what migrate creates below it is checked.
fn artifact_root(out: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    if let Ok(rel) = unleak_atomic::confine(out) {
        if !rel.as_os_str().is_empty() {
            return Ok((PathBuf::from("."), rel));
        }
    }
    if let Ok(cwd) = std::env::current_dir() {
        if let Ok(rel) = out.strip_prefix(&cwd) {
            if let Ok(rel) = unleak_atomic::confine(rel) {
                if !rel.as_os_str().is_empty() {
                    return Ok((cwd, rel));
                }
            }
        }
    }
    std::fs::create_dir_all(out)
        .with_context(|| format!("--out {}: cannot create the directory", out.display()))?;
    Ok((out.to_path_buf(), PathBuf::new()))
}

/// `VAULT_NAMESPACE`, checked as plans carry it ([`unleak_migrate::check_namespace`]).
fn vault_namespace() -> anyhow::Result<Option<String>> {
    let Some(ns) = std::env::var_os("VAULT_NAMESPACE") else {
        return Ok(None);
    };
    let ns = ns
        .into_string()
        .map_err(|_| anyhow::anyhow!("VAULT_NAMESPACE is not UTF-8"))?;
    unleak_migrate::check_namespace(&ns).map_err(|m| anyhow::anyhow!("VAULT_NAMESPACE {m}"))
}

/// Rewriting without `--seed` removes values and stores them nowhere: only on request.
fn refuse_unstored(seed: &SeedArgs, what: &str) -> anyhow::Result<()> {
    if seed.seed.is_none() && !seed.discard_values {
        bail!("{what} without --seed removes the values from the files and stores them nowhere (in a gitignored file they exist nowhere else); add --seed vault to store them first, or --discard-values if you keep them elsewhere or rotate them; nothing was written");
    }
    Ok(())
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
    if plan.has_edits() {
        refuse_unstored(&args.seed, "migrate apply")?;
    }
    let vault = seed_client(&args.seed)?;
    if vault.is_some() {
        let ns = vault_namespace()?;
        if ns != plan.settings.vault_namespace {
            bail!(
                "VAULT_NAMESPACE is {} but {} was planned for {}; its paths and references carry the namespace: plan again with the namespace you mean",
                ns.as_deref().map_or_else(|| "not set".to_string(), |n| format!("`{}`", printable(n))),
                args.plan.display(),
                plan.settings.vault_namespace.as_deref().map_or_else(|| "no namespace".to_string(), |n| format!("namespace `{}`", printable(n))),
            );
        }
    }
    let root = args.root.clone().unwrap_or_else(|| PathBuf::from("."));
    // The rules planning used: the built-ins, --rules and the root's .unleak.toml.
    let setup = setup(&root, &args.rules, &FilterArgs::default())?;
    let matcher = Matcher::new(setup.rules, MatcherOptions::default());
    let prepared = unleak_migrate::prepare(&plan, &root, matcher.rules(), &rescanner(&matcher))?;
    carry_out(&plan, prepared, vault.as_ref(), args.seed.overwrite_vault)?;
    Ok(Outcome::Clean)
}

/// Seed (when asked), then write the files: values reach the vault before they leave
/// the files.
fn carry_out(
    plan: &Plan,
    prepared: Prepared,
    vault: Option<&VaultClient>,
    overwrite: bool,
) -> anyhow::Result<()> {
    match vault {
        Some(client) => seed_vault(client, &prepared, &plan.settings, overwrite)?,
        None if plan.has_edits() => eprintln!(
            "unleak: warning: --discard-values: the values are not stored anywhere; keep them until you have rotated them"
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
        insecure: args.insecure,
        ca_pem,
    })?;
    Ok(Some(client))
}

/// Seed the values ([`VaultClient::seed`]) and say what was written.
fn seed_vault(
    client: &VaultClient,
    prepared: &Prepared,
    settings: &unleak_migrate::Settings,
    overwrite: bool,
) -> anyhow::Result<()> {
    let report = client.seed(&prepared.values, settings, overwrite)?;
    eprintln!(
        "unleak: seeded {} value(s) at {} path(s) in {}{}; every reference resolves as hoop's agent reads it",
        report.keys,
        report.paths,
        client.addr(),
        if report.unchanged > 0 {
            format!(" ({} already held the same value)", report.unchanged)
        } else {
            String::new()
        }
    );
    Ok(())
}

/// The plan's text ([`unleak_migrate::plan_text`]) on standard output; a closed pipe is
/// not an error.
fn print_plan(plan: &Plan, diff: &str, known: &[Finding]) -> anyhow::Result<()> {
    let shown = unleak_migrate::plan_text(plan, diff, known);
    let mut stdout = std::io::stdout().lock();
    let result = stdout
        .write_all(shown.as_bytes())
        .and_then(|()| stdout.flush());
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}
