//! One module per subcommand, plus what they share: loading rules and opening outputs.

mod baseline;
mod filtering;
mod git;
mod guard;
mod mask;
mod memory;
mod migrate;
mod rules;
mod scan;

use crate::cli::{Cli, Command, RuleArgs};
use crate::Outcome;
use anyhow::Context;
use std::io::{self, Write};
use std::path::Path;
use unleak_rules::{RuleSet, RuleSetBuilder};

pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Scan(args) => scan::run(args, cli.verbose),
        Command::Mask(args) => mask::run(args),
        Command::Rules { command } => rules::run(command),
        Command::Guard(args) => guard::run(args),
        Command::Baseline { command } => baseline::run(command),
        Command::Migrate(args) => migrate::run(args),
    }
}

/// The built-in catalog plus `--rules` files, compiled.
pub fn load_rules(args: &RuleArgs) -> anyhow::Result<RuleSet> {
    load_configured_rules(args, None)
}

/// Like [`load_rules`], with a configuration's extra rule files, disabled rules and
/// per-rule overrides applied.
pub fn load_configured_rules(
    args: &RuleArgs,
    config: Option<&unleak_filters::Config>,
) -> anyhow::Result<RuleSet> {
    let mut b = RuleSetBuilder::new();
    if !args.no_builtin_rules {
        b.add_builtin()
            .context("the built-in rule catalog is broken")?;
    }
    for p in &args.rules {
        b.add_path(p)?;
    }
    if let Some(config) = config {
        config.configure_rules(&mut b)?;
    }
    let set = b.build()?;
    if set.is_empty() {
        anyhow::bail!("no rules to run: --no-builtin-rules was given without --rules");
    }
    Ok(set)
}

/// Run `produce` against standard output, or against FILE written atomically.
pub fn with_output<T>(
    output: Option<&Path>,
    produce: impl FnOnce(&mut (dyn Write + Send)) -> io::Result<T>,
) -> anyhow::Result<T> {
    match output {
        None => {
            let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout());
            let v = produce(&mut out).and_then(|v| out.flush().map(|_| v));
            match v {
                Ok(v) => Ok(v),
                // A closed pipe (`unleak scan | head`) is not an error worth a message.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => std::process::exit(0),
                Err(e) => Err(e).context("cannot write to standard output"),
            }
        }
        Some(path) => {
            let mut result = None;
            unleak_atomic::write_atomic_with(path, |w| {
                result = Some(produce(w)?);
                Ok(())
            })?;
            Ok(result.expect("producer ran"))
        }
    }
}
