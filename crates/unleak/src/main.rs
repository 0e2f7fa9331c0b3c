//! The `unleak` command line: parsing, wiring the library crates together, exit codes.
//!
//! Exit codes are a contract: 0 clean, 1 findings (for `guard`: new findings),
//! 2 usage, configuration, rule or I/O error.

mod cli;
mod cmd;
mod inert;

use clap::Parser;
use std::io::IsTerminal;
use std::process::ExitCode;

/// What a command decided; `main` turns it into the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    Findings,
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    init_tracing(cli.verbose);
    let result = cmd::run(cli);
    log_peak_memory();
    match result {
        Ok(Outcome::Clean) => ExitCode::from(0),
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) => {
            // Messages carry keys, ids and paths from files a repository controls.
            eprintln!("unleak: error: {}", inert::line(&format!("{e:#}")));
            ExitCode::from(2)
        }
    }
}

/// glibc's malloc raises its mmap threshold up to 32 MiB as large buffers are freed, so a
/// big blob's buffer stays in the heap after it is scanned, and each thread's arena keeps
/// its own free memory: on a long history that was a tenth of peak memory. A fixed 1 MiB
/// threshold returns big buffers to the system when they are freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets malloc parameters; it runs first thing in `main`, before
    // any other thread exists or any allocation depends on the old value.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

/// At `-v`, the run's peak resident memory as the kernel counts it (Linux's VmHWM), so a
/// user can compare it with `--memory-budget`.
fn log_peak_memory() {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return;
    };
    let peak_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    if let Some(kib) = peak_kib {
        tracing::info!("peak memory: {kib} KiB resident (VmHWM)");
    }
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("UNLEAK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    // Colour only on a terminal, and never against NO_COLOR: a CI log or a pipe gets plain
    // text.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .try_init();
}
