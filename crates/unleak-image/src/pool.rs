//! Sharing one layer's matching among threads: a layer is one compressed stream, read by
//! one thread, but its files can be matched by all of them.
//!
//! Owns: the queue of blobs a layer reader hands on (copied out of its buffers), bounded
//! in bytes, and the rule that makes it neither block nor deadlock: a reader that finds
//! the queue full matches queued blobs itself until there is room, and a thread with no
//! layer left to read matches queued blobs until every reader is done. Does not own:
//! reading layers, or what is done with a blob (the caller's `visit`).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex};
use unleak_core::{Blob, Origin};
use unleak_sources::Item;

/// A blob waiting to be matched: an [`Item::Blob`] with its bytes owned.
struct Job {
    origin: Origin,
    data: Vec<u8>,
    base_offset: usize,
    base_line: usize,
    base_column: usize,
    overlap: usize,
}

struct State {
    queue: VecDeque<Job>,
    /// Bytes of jobs queued or being matched.
    bytes: usize,
    /// Readers not yet done: until none is left, more jobs may come.
    readers: usize,
}

/// The queue between `readers` layer readers and the threads that match.
pub(crate) struct Pool<'v> {
    state: Mutex<State>,
    /// Signalled when a job is queued, bytes are released or a reader finishes.
    changed: Condvar,
    /// Bytes of jobs held at once (one job larger than this is let in alone).
    cap: usize,
    visit: &'v (dyn Fn(Item<'_>) + Sync),
}

impl<'v> Pool<'v> {
    pub(crate) fn new(readers: usize, cap: usize, visit: &'v (dyn Fn(Item<'_>) + Sync)) -> Self {
        Pool {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                bytes: 0,
                readers,
            }),
            changed: Condvar::new(),
            cap,
            visit,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A visit that panicked poisons nothing here: the state is only counters and a
        // queue, each change made whole under the lock.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hand on what a reader produced: a blob is queued, a skip or error visited now.
    pub(crate) fn submit(&self, item: Item<'_>) {
        let job = match item {
            Item::Blob {
                blob,
                base_offset,
                base_line,
                base_column,
                overlap,
            } => Job {
                origin: blob.origin,
                data: blob.data.to_vec(),
                base_offset,
                base_line,
                base_column,
                overlap,
            },
            other => return (self.visit)(other),
        };
        let mut state = self.lock();
        loop {
            if state.bytes == 0 || state.bytes + job.data.len() <= self.cap {
                state.bytes += job.data.len();
                state.queue.push_back(job);
                drop(state);
                self.changed.notify_all();
                return;
            }
            // Full: match a queued blob here rather than wait for another thread.
            state = match state.queue.pop_front() {
                Some(queued) => {
                    drop(state);
                    self.run(queued);
                    self.lock()
                }
                // All in hand elsewhere: room comes when one of them is done.
                None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    /// A reader is done when the guard is dropped: no more jobs will come from it. A
    /// guard, so that a reader that panics does not leave the others waiting for it.
    pub(crate) fn reading(&self) -> Release<'_, 'v> {
        Release {
            pool: self,
            what: Released::Reader,
        }
    }

    /// Match queued blobs until every reader is done and the queue is empty.
    pub(crate) fn drain(&self) {
        let mut state = self.lock();
        loop {
            if let Some(job) = state.queue.pop_front() {
                drop(state);
                self.run(job);
                state = self.lock();
            } else if state.readers == 0 {
                return;
            } else {
                state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        }
    }

    fn run(&self, job: Job) {
        let _release = Release {
            pool: self,
            what: Released::Bytes(job.data.len()),
        };
        (self.visit)(Item::Blob {
            blob: Blob::new(job.origin, &job.data),
            base_offset: job.base_offset,
            base_line: job.base_line,
            base_column: job.base_column,
            overlap: job.overlap,
        });
    }
}

enum Released {
    Reader,
    Bytes(usize),
}

/// Done with a reader or a job, on drop (a panic included, which then reaches the
/// caller's thread scope instead of hanging the other threads).
pub(crate) struct Release<'p, 'v> {
    pool: &'p Pool<'v>,
    what: Released,
}

impl Drop for Release<'_, '_> {
    fn drop(&mut self) {
        let mut state = self.pool.lock();
        match self.what {
            Released::Reader => state.readers -= 1,
            Released::Bytes(n) => state.bytes -= n,
        }
        drop(state);
        self.pool.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn blob(i: usize, data: &[u8]) -> Item<'_> {
        Item::Blob {
            blob: Blob::new(Origin::File(PathBuf::from(format!("f{i}"))), data),
            base_offset: 0,
            base_line: 1,
            base_column: 1,
            overlap: 0,
        }
    }

    #[test]
    fn every_blob_is_matched_once_and_the_queue_stays_under_its_cap() {
        let seen = Mutex::new(Vec::new());
        let most = AtomicUsize::new(0);
        let visit = |item: Item<'_>| {
            if let Item::Blob { blob, .. } = item {
                seen.lock()
                    .unwrap()
                    .push(blob.origin.display_path().into_owned());
            }
        };
        let pool = Pool::new(2, 100, &visit);
        std::thread::scope(|s| {
            for r in 0..2 {
                let pool = &pool;
                let most = &most;
                s.spawn(move || {
                    for i in 0..500 {
                        pool.submit(blob(r * 1000 + i, &[b'x'; 30]));
                        let now = pool.lock().bytes;
                        most.fetch_max(now, Ordering::Relaxed);
                    }
                    drop(pool.reading());
                    pool.drain();
                });
            }
            s.spawn(|| pool.drain());
        });
        assert_eq!(pool.lock().bytes, 0);
        let mut seen = seen.lock().unwrap().clone();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 1000);
        assert!(most.load(Ordering::Relaxed) <= 100);
    }

    #[test]
    fn a_blob_over_the_cap_is_let_in_alone_and_skips_pass_straight_through() {
        let n = AtomicUsize::new(0);
        let visit = |item: Item<'_>| {
            if matches!(item, Item::Skipped { .. }) {
                n.fetch_add(10, Ordering::Relaxed);
            } else {
                n.fetch_add(1, Ordering::Relaxed);
            }
        };
        let pool = Pool::new(1, 4, &visit);
        pool.submit(blob(0, b"longer than four"));
        pool.submit(Item::Skipped {
            path: PathBuf::from("x"),
            reason: unleak_sources::SkipReason::Binary,
        });
        assert_eq!(
            n.load(Ordering::Relaxed),
            10,
            "the skip at once, the blob queued"
        );
        pool.submit(blob(1, b"next"));
        assert_eq!(
            n.load(Ordering::Relaxed),
            11,
            "full: the reader matched the first"
        );
        drop(pool.reading());
        pool.drain();
        assert_eq!(n.load(Ordering::Relaxed), 12);
    }
}
