//! Command-line definitions (clap). Parsing only; no behaviour.
//!
//! Flags that mean the same thing in several commands are one shared group, flattened
//! where they apply, so their spelling, value names, defaults and help agree: [`RuleArgs`],
//! [`FilterArgs`], [`ReportArgs`], [`WalkArgs`], [`ArchiveArgs`], [`TuningArgs`],
//! [`GitArgs`] and [`ImageArgs`]. Help is grouped under the headings below; `docs/flags.md` lists which
//! command takes which group.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use unleak_core::{Confidence, MemoryBudget};
use unleak_report::Format;

/// Help headings, in the order a user looks for them.
const INPUT: &str = "Input";
const GIT: &str = "Git";
const DETECTION: &str = "Detection";
const FILTERS: &str = "Filters";
const VERDICT: &str = "Verdict";
const OUTPUT: &str = "Output";
const PERFORMANCE: &str = "Performance";
const GATEWAY: &str = "Gateway";
const VAULT: &str = "Vault";

const FORMAT_HELP: &str = "Report format: text, json, jsonl, sarif or github";
const FORMAT_LONG_HELP: &str = "\
Report format.

  text    for people: findings grouped by file, then a summary
          (guard: new, known, moved and fixed findings)
  json    one versioned document with the findings and a summary
          (guard: every class, with counts)
  jsonl   one finding per line and nothing else, streamed as files are scanned
          (guard: the new findings); schema/finding-v1.schema.json describes a line
  sarif   SARIF 2.1.0 for code scanning (guard: the new findings)
  github  GitHub Actions annotations, then the summary line
          (guard: annotations for the new findings, then the text report)

Every format shows secrets redacted (scan: unless --show-secrets; guard: always).

Examples:
  unleak scan . --format jsonl > findings.jsonl
  unleak scan . -f sarif -o unleak.sarif --sarif-category unleak/tree
  unleak guard --range origin/main..HEAD --format github";

const CONFIDENCE_LONG_HELP: &str = "\
Report only findings at or above this confidence.

Examples:
  unleak scan . --min-confidence high     # provider tokens with a prefix or checksum only
  unleak scan . --min-confidence low      # also trivially fake values such as `testpassword`";

const SHOW_SECRETS_LONG_HELP: &str = "\
Print raw secret values. Without it every output (text, JSON, SARIF, annotations, logs)
shows them redacted: at most a token's documented public prefix and its length, e.g.
`ghp_…(40 chars)`. The raw value then appears as `secret` in JSON and JSONL.

Example:
  unleak scan .env --show-secrets --format json";

const MEMORY_BUDGET_LONG_HELP: &str = "\
Bound on peak memory (bytes; suffixes K, M, G; at least 32M). Read buffers, git history
bookkeeping and held findings each get a share; fewer threads and smaller chunks are used
to stay within it, and a scan that would need more stops with an error naming this flag
(exit 2) rather than grow past it. -v prints the peak the run reached.

Examples:
  unleak scan --git --memory-budget 256M
  unleak guard --memory-budget 512M -j 2";

const SCAN_BASELINE_LONG_HELP: &str = "\
Make fingerprints with the key of this baseline, so they equal the guard's (findings are not
filtered by it). Default: `.unleak-baseline.json` at the repository root (the scanned
directory, or the git repository), if it exists. Without a baseline, fingerprints use a
fixed key.

Example:
  unleak scan . --format jsonl --baseline ci/.unleak-baseline.json";

const GUARD_BASELINE_LONG_HELP: &str = "\
The baseline file: the known secrets, which do not fail the guard. Default:
`.unleak-baseline.json` in PATH, if it exists; without one every finding is new. With
--range, a file inside the repository is read from BASE's commit, so a pull request cannot
baseline its own secret.

Examples:
  unleak baseline create && git add .unleak-baseline.json
  unleak guard --baseline ci/.unleak-baseline.json";

const GIT_LONG_HELP: &str = "\
Scan the whole history of the repository at PATH (default `.`): every blob of every ref,
each once, with the commit that introduced it, its author and date, and whether the secret
is still at HEAD. --branch, --since and --max-commits narrow it.

Examples:
  unleak scan --git
  unleak scan --git ../other-repo --since 2025-01-01 --format jsonl";

const SCAN_RANGE_LONG_HELP: &str = "\
Scan only the lines the commits in BASE..HEAD added (against their merge-base): what a pull
request or a push adds. Findings are not judged against a baseline; `unleak guard --range`
does that.

Example:
  unleak scan --range origin/main..HEAD";

const GUARD_RANGE_LONG_HELP: &str = "\
Scan what the commits in BASE..HEAD added (a pull request or a push): every commit of the
range, so a secret added and removed again still fails. The configuration and baseline are
read from BASE's commit (see --trust-worktree-config).

Examples:
  unleak guard --range origin/main..HEAD
  unleak guard --range \"$BASE_SHA..$HEAD_SHA\" --format github --sarif unleak.sarif";

const SCAN_STAGED_LONG_HELP: &str = "\
Scan only what `git commit` would add: the index against HEAD.

Example:
  git add -p && unleak scan --staged";

const GUARD_STAGED_LONG_HELP: &str = "\
Scan only what `git commit` would add (the index against HEAD): the pre-commit hook. Known
secrets in the baseline do not fail it.

Example:
  unleak guard --staged      # in .git/hooks/pre-commit, or through pre-commit's hook";

#[derive(Parser, Debug)]
#[command(
    name = "unleak",
    version,
    about = "Find static secrets, move them behind an access gateway, and keep them from coming back.",
    after_help = "Exit codes: 0 clean, 1 findings (guard: new findings), 2 usage, configuration, rule or I/O error."
)]
pub struct Cli {
    /// More detail on stderr: -v lists skipped files, -vv adds debug logs.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Scan files, directories or standard input (`-`) for secrets.
    Scan(ScanArgs),
    /// Copy standard input to standard output with every secret masked, or run a command
    /// (`unleak mask -- CMD ARGS…`) with both of its output streams masked.
    Mask(MaskArgs),
    /// List, check and explain detection rules.
    Rules {
        /// What to do with the rules.
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// The CI and pre-commit gate: scan a pull-request range, the staged index or the tree,
    /// subtract allowlists, inline ignores and the baseline, and fail on what is new.
    #[command(
        after_help = "Exit codes: 0 no new findings (at or above --fail-on), 1 new findings, \
2 usage, configuration, baseline, rule or I/O error (including inputs that could not be read)."
    )]
    Guard(GuardArgs),
    /// Write or refresh the baseline of known secrets (`.unleak-baseline.json`).
    Baseline {
        /// What to do with the baseline.
        #[command(subcommand)]
        command: BaselineCommand,
    },
    /// Move found secrets behind gateway connections and a vault: print the plan (a table
    /// and a redacted diff) and write its artifacts, apply it with --write, or apply a saved
    /// plan with `migrate apply PLAN`.
    #[command(
        after_help = "Exit codes: 0 nothing to migrate, or the plan was applied; 1 a plan was made \
and not applied; 2 usage, configuration, rule, I/O or vault error, or a planned file changed since \
the plan was made (nothing is written then)."
    )]
    Migrate(MigrateArgs),
}

/// Where rules come from; shared by every command that matches.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = DETECTION)]
pub struct RuleArgs {
    /// Extra rule file or directory of `*.toml` rule files (repeatable). A rule with the
    /// id of a built-in rule replaces it.
    #[arg(long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// Use only the rules given with --rules, not the built-in catalog.
    #[arg(long)]
    pub no_builtin_rules: bool,
}

/// The report's format and destination; shared by scan and guard.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = OUTPUT)]
pub struct ReportArgs {
    #[arg(
        long,
        short = 'f',
        value_enum,
        default_value_t = Format::Text,
        hide_possible_values = true,
        help = FORMAT_HELP,
        long_help = FORMAT_LONG_HELP
    )]
    pub format: Format,
    /// Write the report to FILE (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// With --format sarif (guard: or --sarif FILE): the code-scanning category of the run
    /// (`automationDetails.id`), e.g. `unleak/tree`. Uploads of one category replace each
    /// other's alerts, so a tree scan and a pull request's diff need different ones.
    #[arg(long, value_name = "ID")]
    pub sarif_category: Option<String>,
}

/// How a directory is walked; taken by scan.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = INPUT)]
pub struct WalkArgs {
    /// Skip files larger than this (bytes; suffixes K, M, G).
    #[arg(long, value_name = "SIZE", default_value = "100M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Skip files that .gitignore, .ignore and git excludes would ignore. Without it scan
    /// reads git-ignored files too (a `.env` is usually ignored, and a Docker build context
    /// ships it anyway); guard, baseline and migrate always skip them.
    #[arg(long)]
    pub respect_gitignore: bool,
    /// Scan only paths matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Do not scan paths matching GLOB (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
}

/// Whether archives are looked inside; shared by scan, guard and migrate, for files,
/// git changes and history, and image layers alike.
#[derive(Args, Debug, Clone, Copy, Default)]
#[command(next_help_heading = INPUT)]
pub struct ArchiveArgs {
    /// Do not look inside archives (zip, jar, war, whl, apk, tar, and gzip, bzip2, xz or
    /// zstd files; told by content, nested up to 4 deep): they are skipped as binary files.
    /// Members are reported as `archive!member`.
    #[arg(long)]
    pub no_extract_archives: bool,
}

/// Threads and memory; shared by every command that scans a tree or history.
#[derive(Args, Debug, Clone, Copy)]
#[command(next_help_heading = PERFORMANCE)]
pub struct TuningArgs {
    /// Worker threads. Default: one per core (a directory walk uses at most 12). Fewer run
    /// when --memory-budget cannot hold them.
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Bound on peak memory (bytes; suffixes K, M, G; at least 32M): a scan that would need
    /// more stops with an error (exit 2).
    #[arg(
        long,
        value_name = "SIZE",
        default_value = "1G",
        value_parser = parse_memory_budget,
        long_help = MEMORY_BUDGET_LONG_HELP
    )]
    pub memory_budget: MemoryBudget,
}

/// `unleak scan`.
#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` reads standard input. Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// How directories are walked.
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Whether archives are expanded.
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// Container images instead of files.
    #[command(flatten)]
    pub image: ImageArgs,
    /// Git history, a range or the staged index instead of files.
    #[command(flatten)]
    pub git: GitArgs,
    /// Which rules run.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Report only findings at or above this confidence.
    #[arg(
        long,
        value_enum,
        value_name = "CONFIDENCE",
        default_value_t = Confidence::Medium,
        help_heading = DETECTION,
        long_help = CONFIDENCE_LONG_HELP
    )]
    pub min_confidence: Confidence,
    /// The configuration and inline ignores.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// The report's format and file.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Print raw secret values. Without it every output is redacted.
    #[arg(long, help_heading = OUTPUT, long_help = SHOW_SECRETS_LONG_HELP)]
    pub show_secrets: bool,
    /// Colour for text output (never with NO_COLOR set, unless `always`).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorArg::Auto, help_heading = OUTPUT)]
    pub color: ColorArg,
    /// Make fingerprints with the key of this baseline, so they equal the guard's.
    #[arg(long, value_name = "FILE", help_heading = OUTPUT, long_help = SCAN_BASELINE_LONG_HELP)]
    pub baseline: Option<PathBuf>,
    /// Threads and memory.
    #[command(flatten)]
    pub tuning: TuningArgs,
}

/// Container images to scan; shared by scan, guard and migrate.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = INPUT)]
pub struct ImageArgs {
    /// A container image to scan (repeatable): a `docker save` tarball, an OCI image layout
    /// directory or a tar of one, or with --pull a registry reference (`REGISTRY/NAME:TAG`).
    /// Every layer, and the config's Env, Labels and build history, is scanned; a layer
    /// shared by several images is scanned once. scan and guard then scan no files.
    #[arg(long = "image", value_name = "IMAGE")]
    pub images: Vec<String>,
    /// Let --image pull a registry reference over the network (anonymously): unleak's only
    /// network use. Without it a reference that is not a file is refused.
    #[arg(long, requires = "images")]
    pub pull: bool,
}

/// Configuration and the inline-ignore policy; shared by scan, guard, baseline and migrate.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = FILTERS)]
pub struct FilterArgs {
    /// Read the configuration from FILE instead of `.unleak.toml` at the repository root
    /// (the scanned directory, or the git repository).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Refuse `unleak:allow` comments: alone, on every finding; with `=high` (or `=medium`),
    /// only on findings at or above that confidence.
    #[arg(
        long,
        value_enum,
        value_name = "CONFIDENCE",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "low"
    )]
    pub no_inline_ignore: Option<Confidence>,
}

/// `unleak guard`.
#[derive(Args, Debug)]
pub struct GuardArgs {
    /// The repository to guard (the top of its work tree). Default: the current directory.
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Container images to gate instead of the tree.
    #[command(flatten)]
    pub image: ImageArgs,
    /// Whether archives are expanded.
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// Scan what the commits in BASE..HEAD added (a pull request or a push).
    #[arg(
        long,
        value_name = "BASE..HEAD",
        conflicts_with = "staged",
        help_heading = GIT,
        long_help = GUARD_RANGE_LONG_HELP
    )]
    pub range: Option<String>,
    /// Scan only what `git commit` would add (the index against HEAD): the pre-commit hook.
    #[arg(long, help_heading = GIT, long_help = GUARD_STAGED_LONG_HELP)]
    pub staged: bool,
    /// With --range, read `.unleak.toml`, the rule files it names and the baseline from the
    /// work tree (the pull request's own copies) instead of from BASE's commit. Only for a
    /// repository whose every contributor may decide their own verdict: otherwise a pull
    /// request could allow or baseline its own secret.
    #[arg(long, requires = "range", help_heading = GIT)]
    pub trust_worktree_config: bool,
    /// Which rules run.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The configuration and inline ignores.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// The baseline file. Default: `.unleak-baseline.json` in PATH, if it exists.
    #[arg(long, value_name = "FILE", help_heading = VERDICT, long_help = GUARD_BASELINE_LONG_HELP)]
    pub baseline: Option<PathBuf>,
    /// Fail only on new findings at or above this confidence (`none`: report, never fail).
    /// The scan itself reports what `scan` does by default: medium and high.
    #[arg(long, value_enum, value_name = "CONFIDENCE", default_value_t = FailOnArg::Low, help_heading = VERDICT)]
    pub fail_on: FailOnArg,
    /// The report's format and file.
    #[command(flatten)]
    pub report: ReportArgs,
    /// Also write the new findings as SARIF 2.1.0 to FILE (for code scanning).
    #[arg(long, value_name = "FILE", help_heading = OUTPUT)]
    pub sarif: Option<PathBuf>,
    /// Also write the JSON report (every class, with counts) to FILE.
    #[arg(long, value_name = "FILE", help_heading = OUTPUT)]
    pub json: Option<PathBuf>,
    /// Append a Markdown summary to FILE. Default: `$GITHUB_STEP_SUMMARY` when it is set.
    #[arg(long, value_name = "FILE", help_heading = OUTPUT)]
    pub summary: Option<PathBuf>,
    /// Threads and memory.
    #[command(flatten)]
    pub tuning: TuningArgs,
}

/// What `unleak baseline` does.
#[derive(Subcommand, Debug)]
pub enum BaselineCommand {
    /// Write a baseline of every secret in the tree (keeping the key of an existing one).
    Create(BaselineArgs),
    /// Add the secrets in the tree that the baseline does not have yet.
    Update(BaselineArgs),
    /// Drop entries whose secret is gone (listing them) and follow secrets that moved.
    Prune(BaselineArgs),
}

/// `unleak baseline create|update|prune`.
#[derive(Args, Debug)]
pub struct BaselineArgs {
    /// The repository or directory whose tree is scanned. Default: the current directory.
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
    /// Which rules run.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// The configuration and inline ignores.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// The baseline file. Default: `.unleak-baseline.json` in PATH.
    #[arg(long, value_name = "FILE", help_heading = OUTPUT)]
    pub baseline: Option<PathBuf>,
    /// Threads and memory.
    #[command(flatten)]
    pub tuning: TuningArgs,
}

/// `guard --fail-on`: a confidence floor, or never.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOnArg {
    /// Fail on every new finding.
    Low,
    /// Fail on new medium- and high-confidence findings.
    Medium,
    /// Fail on new high-confidence findings only.
    High,
    /// Never fail on findings (errors still exit 2).
    None,
}

impl FailOnArg {
    /// The lowest confidence that fails the guard; `None` never fails.
    pub fn floor(self) -> Option<Confidence> {
        match self {
            FailOnArg::Low => Some(Confidence::Low),
            FailOnArg::Medium => Some(Confidence::Medium),
            FailOnArg::High => Some(Confidence::High),
            FailOnArg::None => None,
        }
    }
}

/// The threads a walk runs when none are asked for: the walker's own default.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(12)
}

/// `--memory-budget`: a size, at least the minimum.
pub fn parse_memory_budget(s: &str) -> Result<MemoryBudget, String> {
    MemoryBudget::new(parse_size(s)?).map_err(|e| e.to_string())
}

/// Git modes of `scan`: the whole history, a pull-request range, or the staged index.
#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = GIT)]
pub struct GitArgs {
    /// Scan the whole history of the repository at PATH (default `.`): every blob of every
    /// ref, each once.
    #[arg(long, conflicts_with_all = ["range", "since_commit", "staged"], long_help = GIT_LONG_HELP)]
    pub git: bool,
    /// Scan only the lines the commits in BASE..HEAD added (against their merge-base).
    #[arg(
        long,
        value_name = "BASE..HEAD",
        conflicts_with_all = ["since_commit", "staged"],
        long_help = SCAN_RANGE_LONG_HELP
    )]
    pub range: Option<String>,
    /// Same as --range BASE..HEAD; kept for scripts that use it, hidden from help.
    #[arg(long, value_name = "BASE", conflicts_with = "staged", hide = true)]
    pub since_commit: Option<String>,
    /// Scan only what `git commit` would add: the index against HEAD.
    #[arg(long, long_help = SCAN_STAGED_LONG_HELP)]
    pub staged: bool,
    /// With --git: only this branch or ref.
    #[arg(long, value_name = "REF", requires = "git")]
    pub branch: Option<String>,
    /// With --git: only commits made on or after DATE (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE", requires = "git", value_parser = parse_date)]
    pub since: Option<i64>,
    /// With --git: only the newest N commits.
    #[arg(long, value_name = "N", requires = "git")]
    pub max_commits: Option<usize>,
    /// With --git: skip blobs larger than this (bytes; suffixes K, M, G).
    #[arg(long, value_name = "SIZE", requires = "git", value_parser = parse_size)]
    pub max_blob_size: Option<u64>,
    /// With --git: also scan objects no ref reaches (dangling commits and blobs).
    #[arg(long, requires = "git")]
    pub all_objects: bool,
    /// Web address of the repository (e.g. https://github.com/acme/app), so SARIF can link
    /// history-only findings to their commit.
    // The text is `--help`'s too, where a bare address reads best.
    #[allow(rustdoc::bare_urls)]
    #[arg(long, value_name = "URL")]
    pub repo_url: Option<String>,
}

impl GitArgs {
    /// Whether any git mode was asked for.
    pub fn any(&self) -> bool {
        self.git || self.range.is_some() || self.since_commit.is_some() || self.staged
    }
}

/// `unleak mask`.
#[derive(Args, Debug)]
pub struct MaskArgs {
    /// Which rules run.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Also mask the exact value of environment variable NAME, and its base64 and
    /// URL-encoded forms (repeatable).
    #[arg(long, value_name = "NAME", help_heading = DETECTION)]
    pub literal_from_env: Vec<String>,
    /// Mask only secrets at or above this confidence.
    #[arg(
        long,
        value_enum,
        value_name = "CONFIDENCE",
        default_value_t = Confidence::Low,
        help_heading = DETECTION
    )]
    pub min_confidence: Confidence,
    /// The command to run with its output masked, after `--`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<std::ffi::OsString>,
}

/// What `unleak rules` does.
#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// List the rules in use.
    List {
        /// Which rules are listed.
        #[command(flatten)]
        rules: RuleArgs,
        /// Print JSON instead of a table.
        #[arg(long, help_heading = OUTPUT)]
        json: bool,
    },
    /// Lint every rule and run its examples through the real matcher.
    Check {
        /// Which rules are checked.
        #[command(flatten)]
        rules: RuleArgs,
    },
    /// Show everything about one rule. Text in it that a rule finds is redacted.
    Explain {
        /// The rule id.
        id: String,
        /// Where the rule is looked for.
        #[command(flatten)]
        rules: RuleArgs,
        /// Print the rule's examples and text in full, secrets included.
        #[arg(long, help_heading = OUTPUT)]
        show_secrets: bool,
    },
}

/// `unleak migrate [PATH…]` or `unleak migrate apply PLAN`.
#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MigrateArgs {
    /// `apply PLAN`, or none to make a plan.
    #[command(subcommand)]
    pub command: Option<MigrateCommand>,
    /// What to plan, when there is no subcommand.
    #[command(flatten)]
    pub plan: MigratePlanArgs,
}

/// What `unleak migrate` does besides planning.
#[derive(Subcommand, Debug)]
pub enum MigrateCommand {
    /// Apply a saved plan.json. Refuses (exit 2, nothing written) when a planned file
    /// changed since the plan was made.
    Apply(MigrateApplyArgs),
}

/// `unleak migrate [PATH…]`: make a plan, and apply it with --write.
#[derive(Args, Debug)]
pub struct MigratePlanArgs {
    /// Files or directories to migrate. Default: the current directory.
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also scan the repository's git history: secrets found only there join the
    /// rotation list.
    #[arg(long, help_heading = INPUT)]
    pub history: bool,
    /// Also scan these container images (see `scan --image`): secrets found only in an
    /// image join the rotation list.
    #[command(flatten)]
    pub image: ImageArgs,
    /// Whether archives are expanded.
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// Which rules run.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Migrate only findings at or above this confidence.
    #[arg(
        long,
        value_enum,
        value_name = "CONFIDENCE",
        default_value_t = Confidence::Low,
        help_heading = DETECTION
    )]
    pub min_confidence: Confidence,
    /// The configuration and inline ignores.
    #[command(flatten)]
    pub filters: FilterArgs,
    /// Apply the plan: seed the vault first when --seed is given, then rewrite the files
    /// (atomically, keeping their permissions).
    #[arg(long, help_heading = OUTPUT)]
    pub write: bool,
    /// Directory for plan.json, hoop/ (connections.yaml, REST bodies, register.sh),
    /// k8s/external-secrets.yaml and rotation.md.
    #[arg(long, value_name = "DIR", default_value = ".unleak/migrate", help_heading = OUTPUT)]
    pub out: PathBuf,
    /// The hoop agent the connections run on.
    #[arg(long, value_name = "NAME", default_value = "default", help_heading = GATEWAY)]
    pub agent: String,
    /// Prefix every connection name (e.g. a team or environment).
    #[arg(long, value_name = "PREFIX", help_heading = GATEWAY)]
    pub name_prefix: Option<String>,
    /// The environment of every connection (hoop's tag hoop.dev/infrastructure.environment):
    /// prod, staging, dev, qa or sandbox. Exec on prod connections needs approval. Default:
    /// read from the paths (`.env.production`, `overlays/prod/`).
    #[arg(long = "env", value_name = "ENV", help_heading = GATEWAY)]
    pub environment: Option<String>,
    /// The hoop user groups that approve exec (an access-request rule). Given, every
    /// connection needs approval; default: prod connections only, approved by `admin`.
    #[arg(long, value_name = "GROUP,...", value_delimiter = ',', help_heading = GATEWAY)]
    pub reviewers: Vec<String>,
    /// Only these hoop user groups may use the connections (hoop's access_control
    /// plugin). Default: hoop's own default.
    #[arg(long, value_name = "GROUP,...", value_delimiter = ',', help_heading = GATEWAY)]
    pub groups: Vec<String>,
    /// Entity types masked in database results (a hoop data-masking rule), or `none`.
    /// Default: EMAIL_ADDRESS,PHONE_NUMBER,CREDIT_CARD,IBAN_CODE,US_SSN.
    #[arg(long, value_name = "TYPE,...|none", value_delimiter = ',', help_heading = GATEWAY)]
    pub masking: Option<Vec<String>>,
    /// A hoop guardrail refusing these words in input to database connections.
    #[arg(long, value_name = "WORD,...", value_delimiter = ',', help_heading = GATEWAY)]
    pub deny_words: Vec<String>,
    /// Connecting to the reviewed connections that workloads reach through `hoop connect`
    /// needs a just-in-time approval for at most this long (15m..48h, e.g. 1h, 90m), or
    /// `none`. Gateway-native connections are left out: their workloads' machine
    /// identities cannot wait for approvals.
    #[arg(long, value_name = "DURATION|none", default_value = "1h", help_heading = GATEWAY)]
    pub jit: String,
    /// The hoop user groups of the API keys the workloads' `hoop connect` tunnels use:
    /// they skip the JIT approval (exec stays reviewed).
    #[arg(long, value_name = "GROUP,...", value_delimiter = ',', help_heading = GATEWAY)]
    pub workload_groups: Vec<String>,
    /// hoop's HTTP proxy listener as the workloads reach it (e.g.
    /// https://hoop.example.com:18888): the base-URL variables of gateway-native clients
    /// (OPENAI_BASE_URL, ANTHROPIC_BASE_URL, HF_ENDPOINT, LANGSMITH_ENDPOINT) are set to it.
    /// Default: left for the operator; register.sh keeps the address hoop reports next
    /// to each minted credential.
    // The example URL is help text for the terminal, not a link.
    #[allow(rustdoc::bare_urls)]
    #[arg(long, value_name = "URL", help_heading = GATEWAY)]
    pub gateway_url: Option<String>,
    /// The KV v2 mount that holds the values.
    #[arg(long, value_name = "MOUNT", default_value = "secret", help_heading = VAULT)]
    pub vault_mount: String,
    /// Path prefix (inside the mount) of the secrets hoop connections read.
    #[arg(long, value_name = "PATH", default_value = "hoop", help_heading = VAULT)]
    pub vault_prefix: String,
    /// Path prefix (inside the mount) of the secrets workloads read through their platform.
    #[arg(long, value_name = "PATH", default_value = "apps", help_heading = VAULT)]
    pub platform_prefix: String,
    /// Vault paths go below this repository slug (`<prefix>/<slug>/<name>`), so two
    /// repositories never write one path. Default: the name of the repository's top
    /// directory (the nearest one at or above PATH that holds `.git`, else PATH),
    /// lower-cased, other characters turned into `-`.
    #[arg(long, value_name = "SLUG", help_heading = VAULT)]
    pub repo_slug: Option<String>,
    /// Where the values go before files change.
    #[command(flatten)]
    pub seed: SeedArgs,
}

/// `unleak migrate apply PLAN`.
#[derive(Args, Debug)]
pub struct MigrateApplyArgs {
    /// The plan.json to apply.
    #[arg(value_name = "PLAN")]
    pub plan: PathBuf,
    /// The directory the plan's file paths are relative to. Default: the current directory.
    #[arg(long, value_name = "DIR", help_heading = INPUT)]
    pub root: Option<PathBuf>,
    /// The rules the rewritten files are scanned with again.
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Where the values go before files change.
    #[command(flatten)]
    pub seed: SeedArgs,
}

/// Writing the values into a vault before files change.
#[derive(Args, Debug)]
#[command(next_help_heading = VAULT)]
pub struct SeedArgs {
    /// Write every value into a Vault-compatible KV v2 store before rewriting files (token
    /// from VAULT_TOKEN; VAULT_CACERT is honoured). Writes are check-and-set: a path that
    /// holds a different value is refused. VAULT_NAMESPACE (read while planning) goes into
    /// every path and reference, since hoop's agent sends no namespace header.
    #[arg(long, value_enum, value_name = "STORE")]
    pub seed: Option<SeedStore>,
    /// The vault's address. Default: VAULT_ADDR.
    #[arg(long, value_name = "URL", requires = "seed")]
    pub vault_addr: Option<String>,
    /// Allow plain http:// to a vault that is not on a loopback address.
    #[arg(long, requires = "seed")]
    pub insecure: bool,
    /// Replace a vault value that differs from the one being migrated (another
    /// repository's, or an older one). Without it such a path is refused and nothing is
    /// written.
    #[arg(long, requires = "seed")]
    pub overwrite_vault: bool,
    /// Rewrite the files without storing the values anywhere (no --seed): confirms you
    /// keep them elsewhere or rotate them. Without it, rewriting without --seed is refused.
    #[arg(long, conflicts_with = "seed")]
    pub discard_values: bool,
}

/// `--seed STORE`: the kinds of store values can be written to.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedStore {
    /// HashiCorp Vault or OpenBao, KV version 2.
    Vault,
}

/// `--color WHEN`.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorArg {
    /// Colour when standard output is a terminal and NO_COLOR is not set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `100M`, `1G`, `4096`, `64k` → bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m = match c.to_ascii_uppercase() {
                'K' => 1u64 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                _ => return Err(format!("unknown size suffix in `{s}` (use K, M or G)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    let n: u64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a size (e.g. 100M)"))?;
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

/// `2026-11-28` (midnight UTC) or RFC 3339 `2026-11-28T10:00:00Z` / `…+02:00` → Unix
/// seconds.
pub fn parse_date(s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}` is not a date (use YYYY-MM-DD or RFC 3339)");
    let num = |t: &str| t.parse::<i64>().map_err(|_| bad());
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.splitn(3, '-');
    let (y, m, d) = match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => (num(y)?, num(m)?, num(d)?),
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let yy = if m <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let mut secs = days * 86_400;
    if let Some(t) = time {
        let (clock, offset) = match t.find(['Z', 'z', '+', '-']) {
            Some(i) => t.split_at(i),
            None => (t, ""),
        };
        let mut hms = clock.split(':');
        let h = num(hms.next().unwrap_or("0"))?;
        let mi = num(hms.next().unwrap_or("0"))?;
        let sec = hms
            .next()
            .map(|x| x.split('.').next().unwrap_or("0"))
            .map_or(Ok(0), num)?;
        secs += h * 3600 + mi * 60 + sec;
        if let Some(rest) = offset.strip_prefix(['+', '-']) {
            let (oh, om) = rest.split_once(':').unwrap_or((rest, "0"));
            let off = num(oh)? * 3600 + num(om)? * 60;
            secs -= if offset.starts_with('+') { off } else { -off };
        } else if !(offset.is_empty() || offset.eq_ignore_ascii_case("z")) {
            return Err(bad());
        }
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("2026-11-28").unwrap(), 1_795_824_000);
        assert_eq!(parse_date("2026-11-28T01:00:00Z").unwrap(), 1_795_827_600);
        assert_eq!(
            parse_date("2026-11-28T03:00:00+02:00").unwrap(),
            1_795_827_600
        );
        assert!(parse_date("yesterday").is_err());
        assert!(parse_date("2026-13-01").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("100M").unwrap(), 100 << 20);
        assert_eq!(parse_size("64k").unwrap(), 64 << 10);
        assert_eq!(parse_size("12").unwrap(), 12);
        assert!(parse_size("1T").is_err());
        assert!(parse_size("x").is_err());
    }

    #[test]
    fn memory_budgets() {
        assert_eq!(parse_memory_budget("1G").unwrap().total(), 1 << 30);
        assert_eq!(parse_memory_budget("33554432").unwrap().total(), 32 << 20);
        let small = parse_memory_budget("31M").unwrap_err();
        assert!(small.contains("minimum memory budget of 32M"), "{small}");
        assert!(parse_memory_budget("lots").is_err());
        assert!(parse_memory_budget("99999999999999G")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
