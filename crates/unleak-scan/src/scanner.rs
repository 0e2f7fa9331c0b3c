//! The one loop every scan runs: each blob a source emits goes through the matcher, its
//! findings are placed in their stream and shown in the scan's path form, and handed to
//! the sink; skips and errors are counted on the way.
//!
//! Does not own: reading (sources), where findings go (sinks), or the thread pool (a
//! parallel source calls in from its own threads).

use crate::{Paths, RunError, ScanStats, Sink, Source};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use unleak_core::{Blob, Finding, FingerprintKey};
use unleak_matcher::{FindingBuilder, Matcher, Placement};
use unleak_report::{ScanError, Skipped};
use unleak_sources::Item;

/// Runs a matcher over sources and makes its matches findings.
#[derive(Clone)]
pub struct Scanner<'m> {
    matcher: &'m Matcher,
    builder: FindingBuilder<'m>,
    paths: Paths,
}

/// What a run gathers from the source's threads.
#[derive(Default)]
struct Tally {
    inputs: AtomicU64,
    bytes: AtomicU64,
    skipped: Mutex<Vec<Skipped>>,
    errors: Mutex<Vec<ScanError>>,
}

impl<'m> Scanner<'m> {
    /// Findings, skips and errors are named in the `paths` form, and fingerprinted under
    /// the default key until [`Scanner::keyed`] says otherwise.
    pub fn new(matcher: &'m Matcher, paths: Paths) -> Self {
        Scanner {
            matcher,
            builder: FindingBuilder::new(matcher.rules(), FingerprintKey::default()),
            paths,
        }
    }

    /// Fingerprint findings under `key` (a baseline's, so a scan's fingerprints are the
    /// guard's).
    pub fn keyed(mut self, key: FingerprintKey) -> Self {
        self.builder = FindingBuilder::new(self.matcher.rules(), key);
        self
    }

    /// Reveal each secret before the sink sees it (`--show-secrets`).
    pub fn revealing(mut self, reveal: bool) -> Self {
        self.builder = self.builder.revealing(reveal);
        self
    }

    /// This scanner, naming paths in the `paths` form instead.
    pub fn with_paths(&self, paths: Paths) -> Self {
        Scanner {
            paths,
            ..self.clone()
        }
    }

    /// The matcher it runs.
    pub fn matcher(&self) -> &'m Matcher {
        self.matcher
    }

    /// The findings of one whole blob, named as its source named it (git names its own
    /// paths), with nothing counted.
    pub fn findings(&self, blob: &Blob<'_>) -> Vec<Finding> {
        let found = self.matcher.find(blob.data, blob.origin.content_path());
        self.builder
            .build(&blob.origin, blob.data, found.matches, Placement::WHOLE)
    }

    /// Scan everything `source` emits into `sink`. Once the sink is full, the rest of the
    /// source is passed over (the run is failing anyway).
    pub fn run(&self, source: &dyn Source, sink: &dyn Sink) -> Result<ScanStats, RunError> {
        let tally = Tally::default();
        source.run(&|item| self.item(item, sink, &tally))?;
        Ok(ScanStats {
            inputs: tally.inputs.into_inner(),
            bytes: tally.bytes.into_inner(),
            skipped: tally
                .skipped
                .into_inner()
                .expect("no panics while scanning"),
            errors: tally.errors.into_inner().expect("no panics while scanning"),
        }
        .sorted())
    }

    fn item(&self, item: Item<'_>, sink: &dyn Sink, tally: &Tally) {
        if sink.is_full() {
            return;
        }
        match item {
            Item::Blob {
                blob,
                base_offset,
                base_line,
                base_column,
                overlap,
            } => {
                if base_offset == 0 {
                    tally.inputs.fetch_add(1, Ordering::Relaxed);
                }
                tally
                    .bytes
                    .fetch_add((blob.data.len() - overlap) as u64, Ordering::Relaxed);
                let found = self.blob(&blob, (base_offset, base_line, base_column), overlap, tally);
                if !found.is_empty() {
                    sink.found(found);
                }
            }
            Item::Skipped { path, reason } => tally.skipped.lock().unwrap().push(Skipped {
                path: self.paths.show(&path),
                reason: reason.to_string(),
            }),
            Item::Error { path, message } => tally.errors.lock().unwrap().push(ScanError {
                path: self.paths.show(&path),
                message,
            }),
        }
    }

    /// The findings of one blob, placed in their stream: `base` is the blob's (byte offset,
    /// line, column) there, and findings wholly inside the first `overlap` bytes were
    /// reported with the previous chunk.
    fn blob(
        &self,
        blob: &Blob<'_>,
        (base_offset, base_line, base_column): (usize, usize, usize),
        overlap: usize,
        tally: &Tally,
    ) -> Vec<Finding> {
        let found = self.matcher.find(blob.data, blob.origin.content_path());
        let origin = self.paths.origin(blob.origin.clone());
        if found.partially_decoded {
            tally.skipped.lock().unwrap().push(Skipped {
                path: origin.display_path().into_owned(),
                reason: partially_decoded(self.matcher),
            });
        }
        let place = Placement {
            offset: base_offset,
            line: base_line,
            column: base_column,
            overlap,
        };
        self.builder.build(&origin, blob.data, found.matches, place)
    }
}

/// The skip reason of an input whose encoded text was not all decoded: the scan went on,
/// but what the cap left encoded was not looked into.
fn partially_decoded(matcher: &Matcher) -> String {
    format!(
        "partially decoded: its encoded text holds more than the {} decoded bytes looked into per file (raise --memory-budget)",
        matcher.options().max_decoded_per_blob
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::{Collect, Filtered, JsonlStream, SourceError};
    use std::path::{Path, PathBuf};
    use unleak_core::{MemoryBudget, Origin};
    use unleak_filters::Filter;
    use unleak_matcher::MatcherOptions;
    use unleak_rules::RuleSetBuilder;
    use unleak_sources::SkipReason;

    pub(crate) const TOKEN: &str = "tok_q8w3e7r2t9y4u1i6o5p0a3s8";

    pub(crate) fn matcher() -> Matcher {
        let rules = RuleSetBuilder::new()
            .add_toml(
                "test.toml",
                r#"
                [[rules]]
                id = "test-token"
                name = "Test token"
                keywords = ["tok_"]
                regex = '''(?P<secret>tok_[a-z0-9]{24})'''
                prefix = "tok_"
                confidence = "high"
                "#,
            )
            .unwrap()
            .build()
            .unwrap();
        Matcher::new(rules, MatcherOptions::default())
    }

    /// A blob to emit: its path, its text, its (offset, line, column) in its stream and its
    /// overlap with the previous chunk.
    type Chunk = (PathBuf, String, (usize, usize, usize), usize);

    /// A source of fixed chunks, then one skip and one error.
    struct Fixed(Vec<Chunk>);

    impl Source for Fixed {
        fn run(&self, emit: &(dyn Fn(Item<'_>) + Sync)) -> Result<(), SourceError> {
            for (path, data, (base_offset, base_line, base_column), overlap) in &self.0 {
                emit(Item::Blob {
                    blob: Blob::new(Origin::File(path.clone()), data.as_bytes()),
                    base_offset: *base_offset,
                    base_line: *base_line,
                    base_column: *base_column,
                    overlap: *overlap,
                });
            }
            emit(Item::Skipped {
                path: "r/bin.dat".into(),
                reason: SkipReason::Binary,
            });
            emit(Item::Error {
                path: "r/gone.txt".into(),
                message: "vanished".into(),
            });
            Ok(())
        }
    }

    fn two_chunks() -> Fixed {
        let first = format!("x\nkey = {TOKEN}\n");
        // The second chunk repeats the first one's second line as its overlap.
        let overlap = format!("key = {TOKEN}\n");
        let second = format!("{overlap}y\nother = {TOKEN}\n");
        Fixed(vec![
            ("r/a.env".into(), first, (0, 1, 1), 0),
            ("r/a.env".into(), second, (2, 2, 1), overlap.len()),
        ])
    }

    #[test]
    fn chunks_count_once_and_findings_land_in_their_stream() {
        let m = matcher();
        let sink = Collect::new(&MemoryBudget::default());
        let stats = Scanner::new(&m, Paths::RelativeTo("r".into()))
            .run(&two_chunks(), &sink)
            .unwrap();
        assert_eq!(stats.inputs, 1, "one file in two chunks");
        let found = sink.into_findings().unwrap();
        let places: Vec<(String, usize)> = found
            .iter()
            .map(|f| (f.display_path().into_owned(), f.location.line))
            .collect();
        // The overlap's finding is the first chunk's, not reported twice.
        assert_eq!(places, vec![("a.env".into(), 2), ("a.env".into(), 4)]);
        assert_eq!(stats.skipped[0].path, "bin.dat");
        assert_eq!(stats.errors[0].path, "gone.txt");
        assert!(found.iter().all(|f| !f.redacted.contains(TOKEN)));
    }

    #[test]
    fn a_stream_writes_redacted_lines_unless_revealing() {
        let m = matcher();
        for reveal in [false, true] {
            let mut out = Vec::new();
            let sink = JsonlStream::new(&mut out);
            Scanner::new(&m, Paths::AsGiven)
                .revealing(reveal)
                .run(&two_chunks(), &sink)
                .unwrap();
            assert_eq!(sink.finish().unwrap(), 2);
            let text = String::from_utf8(out).unwrap();
            assert_eq!(text.lines().count(), 2);
            assert_eq!(text.contains(TOKEN), reveal, "{text}");
            assert!(text.contains("\"r/a.env"), "{text}");
        }
    }

    #[test]
    fn the_filter_sees_paths_relative_to_the_config_root() {
        let m = matcher();
        let text = format!("key = {TOKEN} # unleak:allow\nother = {TOKEN}\n");
        let source = Fixed(vec![("r/a.env".into(), text, (0, 1, 1), 0)]);
        let filter = Filter::new(Default::default(), None);
        let sink = Filtered::new(
            &filter,
            Path::new("r"),
            Collect::new(&MemoryBudget::default()),
        );
        Scanner::new(&m, Paths::AsGiven)
            .run(&source, &sink)
            .unwrap();
        assert_eq!(sink.allowed(), 1);
        let kept = sink.into_inner().into_findings().unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].location.line, 2);
    }
}
