//! `unleak mask -- CMD ARGS…`: run a command with both of its output streams masked.
//!
//! Owns: starting the command (stdin inherited, stdout and stderr piped), masking each
//! stream on its own thread to its own destination, and turning the command's end into
//! an exit code. Does not own: masking itself ([`Masker`]) or exiting the process (the
//! CLI returns the code).

use crate::{MaskError, MaskOptions, MaskStats, Masker};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::process::{Command, ExitStatus, Stdio};

/// How a wrapped command ended and what each of its streams went through.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrappedRun {
    /// The command's exit code; on Unix a death by signal N is `128 + N`, as shells report.
    pub exit_code: i32,
    /// What masking the command's standard output went through.
    pub stdout: MaskStats,
    /// What masking the command's standard error went through.
    pub stderr: MaskStats,
}

/// Run `cmd args…`, masking its stdout to our stdout and its stderr to our stderr.
pub fn run_wrapped(
    cmd: &OsStr,
    args: &[OsString],
    masker: &Masker,
    opts: &MaskOptions,
) -> Result<WrappedRun, MaskError> {
    run_wrapped_to(
        cmd,
        args,
        masker,
        opts,
        std::io::stdout(),
        std::io::stderr(),
    )
}

/// [`run_wrapped`] with the masked streams going to `out` and `err`.
///
/// If writing one stream fails, its pipe is closed (the command sees a broken pipe, as
/// it would writing to the closed destination directly); the command is still waited for
/// and the error returned.
pub fn run_wrapped_to(
    cmd: &OsStr,
    args: &[OsString],
    masker: &Masker,
    opts: &MaskOptions,
    out: impl Write + Send,
    err: impl Write + Send,
) -> Result<WrappedRun, MaskError> {
    // Only the program is named in errors: its arguments may carry secrets.
    let command = cmd.to_string_lossy().into_owned();
    let mut child = Command::new(cmd)
        .args(args)
        .stdin(Stdio::inherit())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| MaskError::Spawn {
            command: command.clone(),
            source,
        })?;
    let child_out = child.stdout.take().expect("stdout was set to piped");
    let child_err = child.stderr.take().expect("stderr was set to piped");
    let (stdout, stderr) = std::thread::scope(|scope| {
        let err_thread = scope.spawn(|| masker.mask_stream(child_err, err, opts));
        let stdout = masker.mask_stream(child_out, out, opts);
        let stderr = err_thread
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (stdout, stderr)
    });
    let status = child
        .wait()
        .map_err(|source| MaskError::Wait { command, source })?;
    Ok(WrappedRun {
        exit_code: exit_code(status),
        stdout: stdout?,
        stderr: stderr?,
    })
}

fn exit_code(status: ExitStatus) -> i32 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return 128 + signal;
        }
    }
    status.code().unwrap_or(1)
}
