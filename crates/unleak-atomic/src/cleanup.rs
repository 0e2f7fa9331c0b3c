//! Removing temporary files when SIGINT, SIGTERM or SIGHUP ends the process mid-write.
//!
//! Owns: the table of temporary paths being written and the signal handler that unlinks
//! them, then lets the signal end the process as it would have. Does not own: creating,
//! writing or renaming the files (the crate root).
//!
//! The handler only swaps pointers out of a fixed table, calls `unlink`, resets the
//! signal's disposition and raises it again: all async-signal-safe. It is installed the
//! first time a temporary file is registered, and only for signals whose disposition is
//! still the default, so a caller that ignores SIGHUP (`nohup`) or handles a signal itself
//! keeps its behaviour. Off Unix, registering does nothing: a temporary file may be left.

/// A registered temporary path; dropping it unregisters the path.
pub(crate) struct Registered(#[cfg(unix)] Option<usize>);

#[cfg(unix)]
mod imp {
    use super::Registered;
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;
    use std::ptr;
    use std::sync::atomic::{AtomicPtr, Ordering};
    use std::sync::Once;

    /// Temporary files written at once; past this a write goes unregistered.
    const SLOTS: usize = 32;
    const SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

    /// Each slot owns a `CString` made by `into_raw`; whoever swaps it out (the handler or
    /// [`Registered`]'s drop) is its only user.
    static PATHS: [AtomicPtr<libc::c_char>; SLOTS] =
        [const { AtomicPtr::new(ptr::null_mut()) }; SLOTS];
    static INSTALL: Once = Once::new();

    pub(crate) fn register(path: &Path) -> Registered {
        INSTALL.call_once(install);
        let Ok(c) = CString::new(path.as_os_str().as_bytes()) else {
            return Registered(None);
        };
        let raw = c.into_raw();
        for (i, slot) in PATHS.iter().enumerate() {
            if slot
                .compare_exchange(ptr::null_mut(), raw, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Registered(Some(i));
            }
        }
        // SAFETY: `raw` came from `into_raw` above and was stored nowhere.
        drop(unsafe { CString::from_raw(raw) });
        Registered(None)
    }

    impl Drop for Registered {
        fn drop(&mut self) {
            if let Some(i) = self.0 {
                let raw = PATHS[i].swap(ptr::null_mut(), Ordering::SeqCst);
                if !raw.is_null() {
                    // SAFETY: a non-null slot holds a pointer from `into_raw`, and the swap
                    // made this the only holder.
                    drop(unsafe { CString::from_raw(raw) });
                }
            }
        }
    }

    fn install() {
        for sig in SIGNALS {
            // SAFETY: plain sigaction calls with zeroed, then filled, structures.
            unsafe {
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, ptr::null(), &mut old) != 0
                    || old.sa_sigaction != libc::SIG_DFL
                {
                    continue;
                }
                let mut act: libc::sigaction = std::mem::zeroed();
                act.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as usize;
                libc::sigemptyset(&mut act.sa_mask);
                libc::sigaction(sig, &act, ptr::null_mut());
            }
        }
    }

    extern "C" fn on_signal(sig: libc::c_int) {
        for slot in &PATHS {
            let raw = slot.swap(ptr::null_mut(), Ordering::SeqCst);
            if !raw.is_null() {
                // SAFETY: a NUL-terminated path from `into_raw`; leaked, the process ends.
                unsafe { libc::unlink(raw) };
            }
        }
        // SAFETY: back to the default action, then the same signal again: the process ends
        // (or stops) exactly as it would have without this handler.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }

    #[cfg(test)]
    pub(crate) fn registered() -> usize {
        PATHS
            .iter()
            .filter(|s| !s.load(Ordering::SeqCst).is_null())
            .count()
    }
}

#[cfg(unix)]
pub(crate) use imp::register;

#[cfg(not(unix))]
pub(crate) fn register(_: &std::path::Path) -> Registered {
    Registered()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn the_table_is_bounded_and_dropping_frees_slots() {
        let many: Vec<_> = (0..40)
            .map(|i| register(Path::new(&format!("/nonexistent/t{i}"))))
            .collect();
        assert!(many.iter().filter(|r| r.0.is_some()).count() <= 32);
        assert!(
            many.iter().any(|r| r.0.is_none()),
            "past 32, writes go unregistered"
        );
        drop(many);
        // The crate's other tests hold a slot only while they write one file each.
        assert!(imp::registered() < 32);
        assert!(register(Path::new("/nonexistent/again")).0.is_some());
    }
}
