//! Test-only counters of the matcher's work on the current thread: regex runs, the bytes
//! handed to regexes and the bytes searched for line ends. Tests bound these, never the
//! wall-clock time, to show a pass stays linear in its input.
//!
//! Does not own: anything a build outside `cargo test` sees.

use std::cell::Cell;

/// What the matcher did since the last [`take`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// Runs of a rule's regex (a window, a widened window or a whole blob).
    pub regex_runs: usize,
    /// Bytes those runs searched.
    pub regex_bytes: usize,
    /// Bytes searched for line feeds to find lines and window edges.
    pub line_bytes: usize,
}

thread_local! {
    static WORK: Cell<Work> = Cell::new(Work::default());
}

fn update(f: impl FnOnce(&mut Work)) {
    WORK.with(|w| {
        let mut work = w.get();
        f(&mut work);
        w.set(work);
    });
}

pub fn regex(bytes: usize) {
    update(|w| {
        w.regex_runs += 1;
        w.regex_bytes += bytes;
    });
}

pub fn line_bytes(bytes: usize) {
    update(|w| w.line_bytes += bytes);
}

/// The work counted so far on this thread, resetting the counters.
pub fn take() -> Work {
    WORK.with(|w| w.replace(Work::default()))
}
