//! `unleak mask`: a stdin→stdout filter, or a wrapper around a command.

use crate::cli::MaskArgs;
use crate::cmd::load_rules;
use crate::Outcome;
use anyhow::{bail, Context};
use std::io;
use std::sync::Arc;
use unleak_mask::{MaskError, MaskOptions, Masker};
use unleak_matcher::{Matcher, MatcherOptions};

pub fn run(args: MaskArgs) -> anyhow::Result<Outcome> {
    let rules = load_rules(&args.rules)?;
    let matcher = Matcher::new(
        rules,
        MatcherOptions {
            min_confidence: args.min_confidence,
            ..Default::default()
        },
    );
    let mut literals = Vec::new();
    for name in &args.literal_from_env {
        let Some(v) = std::env::var_os(name) else {
            bail!("--literal-from-env {name}: the environment variable is not set");
        };
        literals.push(v.into_encoded_bytes());
    }
    let masker = Masker::new(Arc::new(matcher), literals);
    for w in masker.warnings() {
        eprintln!(
            "unleak: warning: --literal-from-env {}: the value is {} bytes; values shorter than {} bytes are not masked",
            args.literal_from_env[w.index],
            w.len,
            unleak_mask::MIN_LITERAL_LEN
        );
    }
    let opts = MaskOptions::default();
    if let Some((cmd, rest)) = args.command.split_first() {
        let run = match unleak_mask::run_wrapped(cmd, rest, &masker, &opts) {
            Ok(r) => r,
            Err(MaskError::Write { source }) if source.kind() == io::ErrorKind::BrokenPipe => {
                std::process::exit(141)
            }
            Err(e) => return Err(e.into()),
        };
        // The wrapped command's exit code is ours, whatever it is.
        std::process::exit(run.exit_code);
    }
    match masker.mask_stream(io::stdin().lock(), io::stdout().lock(), &opts) {
        Ok(_) => Ok(Outcome::Clean),
        Err(MaskError::Write { source }) if source.kind() == io::ErrorKind::BrokenPipe => {
            Ok(Outcome::Clean)
        }
        Err(e) => Err(e).context("unleak mask"),
    }
}
