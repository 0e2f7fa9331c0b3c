//! One module per subcommand, plus what they share: loading rules and opening outputs.

mod baseline;
mod filtering;
mod git;
mod guard;
mod image;
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
    load_configured_rules_with(args, config, |c, b| c.configure_rules(b))
}

/// [`load_configured_rules`] with the configuration's own settings applied by `configure`
/// (a guard reads a range's rule files from its base commit).
pub fn load_configured_rules_with(
    args: &RuleArgs,
    config: Option<&unleak_filters::Config>,
    configure: impl FnOnce(
        &unleak_filters::Config,
        &mut RuleSetBuilder,
    ) -> Result<(), unleak_filters::ConfigError>,
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
        configure(config, &mut b)?;
    }
    let set = b.build()?;
    if set.is_empty() {
        anyhow::bail!("no rules to run: --no-builtin-rules was given without --rules");
    }
    Ok(set)
}

/// Run `produce` against standard output, or against FILE written atomically. When
/// `produce` fails, an existing FILE is left as it was and no temporary file stays.
pub fn with_output<T>(
    output: Option<&Path>,
    produce: impl FnOnce(&mut (dyn Write + Send)) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    match output {
        None => {
            let mut out = io::BufWriter::with_capacity(64 * 1024, Stdout { closed: false });
            let v = produce(&mut out).map_err(on_stdout)?;
            out.flush().map_err(|e| on_stdout(e.into()))?;
            Ok(v)
        }
        Some(path) => {
            let mut produced = None;
            let written = unleak_atomic::write_atomic_with(path, |w| {
                let r = produce(w);
                let failed = r.is_err();
                produced = Some(r);
                if failed {
                    // Makes the writer drop its temporary file instead of renaming it.
                    return Err(io::Error::other(
                        "the run failed; the report is not written",
                    ));
                }
                Ok(())
            });
            match produced {
                Some(Err(e)) => Err(e),
                Some(Ok(v)) => written.map(|()| v).map_err(Into::into),
                None => Err(written
                    .expect_err("the writer calls the producer unless it fails")
                    .into()),
            }
        }
    }
}

/// Name standard output in an I/O error from writing it.
fn on_stdout(e: anyhow::Error) -> anyhow::Error {
    if e.is::<io::Error>() {
        e.context("cannot write to standard output")
    } else {
        e
    }
}

/// Standard output that turns into a sink once its reader has gone (`unleak scan | head`):
/// the rest of the output is dropped, and the run still ends with the exit code its
/// findings decide, so a `pipefail` pipeline cannot pass because its reader left early.
struct Stdout {
    closed: bool,
}

impl Stdout {
    fn unless_closed(
        &mut self,
        op: impl FnOnce(&mut io::Stdout) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        match op(&mut io::stdout()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                tracing::debug!("standard output was closed; the rest of the output is dropped");
                self.closed = true;
                Ok(())
            }
            other => other,
        }
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut n = buf.len();
        self.unless_closed(|o| o.write(buf).map(|w| n = w))?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.unless_closed(|o| o.flush())
    }
}
