//! What a scan reads: anything that emits [`Item`]s (blobs, skips, errors), from one
//! thread or many.
//!
//! Owns: the [`Source`] contract and the adapters for the filesystem walk and standard
//! input. Does not own: how either reads (`unleak-sources`).

use std::path::PathBuf;
use unleak_core::{Blob, Origin, Utf16Decoder};
use unleak_sources::{scan_stream, walk, Item, WalkOptions};

/// A failure of a whole source (not of one input, which is an [`Item::Error`]).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct SourceError(Box<dyn std::error::Error + Send + Sync>);

impl SourceError {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        SourceError(Box::new(e))
    }
}

/// Emits every blob it reads, with what it skipped and what it could not read. `emit`
/// may be called from several threads at once; the scanner scans each blob before `emit`
/// returns, so a source may lend out its buffers.
pub trait Source: Sync {
    fn run(&self, emit: &(dyn Fn(Item<'_>) + Sync)) -> Result<(), SourceError>;
}

/// Several sources, one after the other (standard input, then files).
pub struct Sources<'a>(pub Vec<&'a dyn Source>);

impl Source for Sources<'_> {
    fn run(&self, emit: &(dyn Fn(Item<'_>) + Sync)) -> Result<(), SourceError> {
        self.0.iter().try_for_each(|s| s.run(emit))
    }
}

/// Files and directories, walked in parallel (see [`unleak_sources::walk`]).
pub struct Files<'a> {
    pub roots: &'a [PathBuf],
    pub options: &'a WalkOptions,
}

impl Source for Files<'_> {
    fn run(&self, emit: &(dyn Fn(Item<'_>) + Sync)) -> Result<(), SourceError> {
        if self.roots.is_empty() {
            return Ok(());
        }
        walk(self.roots, self.options, emit).map_err(SourceError::new)
    }
}

/// Standard input, read to its end in bounded chunks of `chunk_buffer` bytes.
pub struct Stdin {
    pub chunk_buffer: usize,
}

impl Source for Stdin {
    fn run(&self, emit: &(dyn Fn(Item<'_>) + Sync)) -> Result<(), SourceError> {
        read_stream(std::io::stdin().lock(), self.chunk_buffer, emit);
        Ok(())
    }
}

/// Emit `input` in chunks as standard input, UTF-16 text decoded (a PowerShell
/// transcript piped in); a read error is an error of `<stdin>`.
fn read_stream(input: impl std::io::Read, chunk_buffer: usize, emit: &(dyn Fn(Item<'_>) + Sync)) {
    let result = scan_stream(Utf16Decoder::new(input), chunk_buffer, |chunk| {
        emit(Item::Blob {
            blob: Blob::new(Origin::Stdin, chunk.data),
            base_offset: chunk.base_offset,
            base_line: chunk.base_line,
            base_column: chunk.base_column,
            overlap: chunk.overlap,
        })
    });
    if let Err(e) = result {
        emit(Item::Error {
            path: PathBuf::from("<stdin>"),
            message: format!("cannot read standard input: {e}"),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    struct Failing;

    impl std::io::Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("gone"))
        }
    }

    #[test]
    fn a_failing_stream_is_an_error_of_stdin() {
        let seen = Mutex::new(Vec::new());
        read_stream(Failing, 0, &|item| {
            if let Item::Error { path, message } = item {
                seen.lock().unwrap().push((path, message));
            }
        });
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].0, PathBuf::from("<stdin>"));
        assert!(seen[0].1.contains("gone"), "{}", seen[0].1);
    }

    #[test]
    fn a_missing_root_fails_the_whole_source() {
        let roots = [PathBuf::from("/nonexistent/unleak-scan-test")];
        let opts = WalkOptions::default();
        let err = Files {
            roots: &roots,
            options: &opts,
        }
        .run(&|_| {})
        .unwrap_err();
        assert!(err.to_string().contains("unleak-scan-test"), "{err}");
    }
}
