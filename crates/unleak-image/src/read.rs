//! Reading opened images into blobs to scan: the config's sections and every file of
//! every distinct layer, each an ordinary [`Item`] whose origin names the image, the
//! layer and the path.
//!
//! Owns: the work list (each distinct layer once across all images, by diff-id or
//! digest), the threads that read layers (handing their files to the `pool` so that every
//! thread matches them), size, binary and archive-memory skips, digest checks of layer
//! blobs (or of their uncompressed tars against the config's diff-ids) made while they
//! stream, and the provenance findings get afterwards ([`Provenances`]: which images ship a
//! layer, which instruction made it, which later layer deleted a file). Does not own:
//! matching, filtering or reporting.

use crate::digest::{self, Hashing};
use crate::layer::{read_layer, LayerFacts, Member};
use crate::layout::{BlobSource, Image};
use crate::pool::Pool;
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use unleak_archive::{Format, Limits, Skip, HEAD};
use unleak_core::{text_of, Blob, Finding, ImageProvenance, MaskedText, Origin, WorkerPlan};
use unleak_sources::{expand_into, scan_text, Item, SkipReason};

/// What `--image` opened: a blob source and the images in it.
pub struct Opened {
    /// Where the images' blobs are read from.
    pub source: Box<dyn BlobSource>,
    /// The images found, each with its config and layers.
    pub images: Vec<Image>,
}

/// Bounds of a read, from `--max-file-size` and the memory budget's worker plan.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// Files in a layer larger than this are skipped, as on disk.
    pub max_file_size: u64,
    /// Bytes of each thread's chunk buffer (see [`unleak_sources::scan_stream`]).
    pub chunk_buffer: usize,
    /// Threads that read layers and match their files.
    pub threads: usize,
    /// Bytes of blobs a layer reader may queue for other threads to match, all readers
    /// together.
    pub queued: usize,
    /// Bytes one thread may hold of an archive in a layer (a jar, a tar.gz) and the
    /// members it is expanding: a layer is a stream, so such an archive is held whole.
    pub archive_memory: u64,
    /// Expand archives found in layers (`--no-extract-archives` turns it off: they are
    /// then binary files, listed as skipped, as on disk).
    pub extract_archives: bool,
}

impl ReadOptions {
    /// Within `plan`: each thread's share pays for its chunk buffer, its part of the
    /// queue (what a file scan uses for whole-file reads, which a layer never makes) and,
    /// when it expands an archive instead of streaming a file, the archive's bytes.
    /// Archives in layers are expanded; see [`ReadOptions::extract_archives`].
    pub fn within(plan: &WorkerPlan, max_file_size: u64) -> Self {
        let whole = usize::try_from(plan.whole_file_limit).unwrap_or(usize::MAX);
        ReadOptions {
            max_file_size,
            chunk_buffer: usize::try_from(plan.chunk_buffer).unwrap_or(usize::MAX),
            threads: plan.threads.max(1),
            queued: whole.saturating_mul(plan.threads.max(1)),
            archive_memory: plan
                .blob_bytes()
                .saturating_sub(plan.whole_file_limit)
                .max(plan.chunk_buffer),
            extract_archives: true,
        }
    }
}

/// One unit of work: a config section or a layer.
enum Unit<'a> {
    Config {
        image: &'a str,
        label: &'a str,
        text: &'a str,
    },
    Layer {
        source: &'a dyn BlobSource,
        image: &'a str,
        blob: &'a str,
        id: &'a str,
        expected: Option<&'a str>,
        diff_id: Option<&'a str>,
    },
}

/// Which images ship each layer and what later layers did to its files.
pub struct Provenances {
    /// Per image (in the order given): its name and its layers' ids, bottom first.
    images: Vec<(String, Vec<String>)>,
    /// Layer id → (the first image shipping it, its 0-based index there, its instruction).
    first: HashMap<String, (usize, usize, Option<String>)>,
    /// Layer id → the whiteouts it holds.
    facts: HashMap<String, LayerFacts>,
}

impl Provenances {
    /// Set `f.image` when `f` was found in an image (in an archive in a layer too: the
    /// provenance is the archive's).
    pub fn annotate(&self, f: &mut Finding) {
        let mut origin = &f.path;
        while let Origin::Member { archive, .. } = origin {
            origin = archive;
        }
        let Origin::Image { layer, path, .. } = origin else {
            return;
        };
        let (images, layer_index, instruction, removed_in) = match self.first.get(layer) {
            Some(&(image, index, ref instruction)) => {
                let shipping: Vec<String> = self
                    .images
                    .iter()
                    .filter(|(_, ids)| ids.contains(layer))
                    .map(|(name, _)| name.clone())
                    .collect();
                let removed = self.removed_in(image, index, path);
                (shipping, Some(index + 1), instruction.clone(), removed)
            }
            // The config of the image the path names.
            None => match origin {
                Origin::Image { image, .. } => (vec![image.clone()], None, None, None),
                _ => return,
            },
        };
        f.image = Some(Box::new(ImageProvenance {
            images,
            layer: layer.clone(),
            layer_index,
            instruction: instruction.map(|i| MaskedText::new(i, &[&f.secret])),
            removed_in,
        }));
    }

    /// The 1-based layer above `index` in `image` that first deletes `path`.
    fn removed_in(&self, image: usize, index: usize, path: &str) -> Option<usize> {
        let ids = &self.images[image].1;
        (index + 1..ids.len()).find_map(|j| {
            let facts = self.facts.get(&ids[j])?;
            facts
                .whiteouts
                .iter()
                .any(|w| w.hides(path))
                .then_some(j + 1)
        })
    }
}

/// Read every image in `opened`, calling `visit` (from several threads) with each blob,
/// skip and error. Each distinct layer is read once.
pub fn read_images(
    opened: &[Opened],
    opts: &ReadOptions,
    visit: &(dyn Fn(Item<'_>) + Sync),
) -> Provenances {
    let mut units = Vec::new();
    let mut provenances = Provenances {
        images: Vec::new(),
        first: HashMap::new(),
        facts: HashMap::new(),
    };
    for o in opened {
        for image in &o.images {
            let n = provenances.images.len();
            provenances.images.push((
                image.name.clone(),
                image.layers.iter().map(|l| l.id.clone()).collect(),
            ));
            for s in &image.config.sections {
                units.push(Unit::Config {
                    image: &image.name,
                    label: &s.label,
                    text: &s.text,
                });
            }
            for (i, l) in image.layers.iter().enumerate() {
                if provenances.first.contains_key(&l.id) {
                    continue;
                }
                provenances
                    .first
                    .insert(l.id.clone(), (n, i, l.instruction.clone()));
                units.push(Unit::Layer {
                    source: o.source.as_ref(),
                    image: &image.name,
                    blob: &l.blob,
                    id: &l.id,
                    expected: l.expected.as_deref(),
                    diff_id: l.diff_id.as_deref(),
                });
            }
        }
    }
    let next = AtomicUsize::new(0);
    let facts = Mutex::new(HashMap::new());
    let threads = opts.threads.max(1);
    // With more than one thread, a layer's files go through the pool, so that one big
    // layer is matched by every thread and not only by the one decompressing it.
    let pool = Pool::new(units.len(), opts.queued, visit);
    let submit = |item: Item<'_>| pool.submit(item);
    let handed: &(dyn Fn(Item<'_>) + Sync) = if threads > 1 { &submit } else { visit };
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                while let Some(unit) = units.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let _done = pool.reading();
                    read_unit(unit, opts, handed, &facts);
                }
                pool.drain();
            });
        }
    });
    provenances.facts = facts.into_inner().expect("no panics while reading");
    provenances
}

/// Read one config section or layer, handing its blobs to `visit`.
fn read_unit(
    unit: &Unit<'_>,
    opts: &ReadOptions,
    visit: &(dyn Fn(Item<'_>) + Sync),
    facts: &Mutex<HashMap<String, LayerFacts>>,
) {
    match unit {
        Unit::Config { image, label, text } => {
            let origin = Origin::Image {
                image: image.to_string(),
                layer: "config".into(),
                path: label.to_string(),
            };
            visit(Item::Blob {
                blob: Blob::new(origin, text.as_bytes()),
                base_offset: 0,
                base_line: 1,
                base_column: 1,
                overlap: 0,
            });
        }
        Unit::Layer {
            source,
            image,
            blob,
            id,
            expected,
            diff_id,
        } => {
            let digests = Digests {
                blob: *expected,
                diff_id: *diff_id,
            };
            if let Some(f) = read_one(*source, image, (blob, id), digests, opts, visit) {
                facts
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(id.to_string(), f);
            }
        }
    }
}

/// What a skip or an error in an image is listed under.
fn place(image: &str, what: &str) -> PathBuf {
    PathBuf::from(format!("{image}!{what}"))
}

/// The digests a layer must have. The blob's is checked when the layout names one (an
/// OCI blob, a `docker save` of the OCI kind); else the uncompressed tar's, from the
/// config (a classic `docker save`, whose `<id>/layer.tar` names no digest).
#[derive(Clone, Copy)]
struct Digests<'a> {
    blob: Option<&'a str>,
    diff_id: Option<&'a str>,
}

/// Read one layer, hashing it as it streams (never a second read): a digest that does not
/// match is an error of the image, after whatever the layer held was handed on.
fn read_one(
    source: &dyn BlobSource,
    image: &str,
    (blob, id): (&str, &str),
    digests: Digests<'_>,
    opts: &ReadOptions,
    visit: &(dyn Fn(Item<'_>) + Sync),
) -> Option<LayerFacts> {
    let error = |message: String| {
        visit(Item::Error {
            path: place(image, blob),
            message,
        })
    };
    let reader = match source.open(blob) {
        Ok(r) => r,
        Err(e) => {
            error(format!("cannot read layer blob {blob}: {e}"));
            return None;
        }
    };
    let mismatch = |expected: &str, actual: &str| {
        error(format!(
            "layer blob {blob}: digest mismatch: the manifest says {expected}, the blob is {actual}"
        ))
    };
    let mut hashing = Hashing::new(reader);
    let check_diff_id = digests.blob.is_none() && digests.diff_id.is_some();
    let read = read_layer(&mut hashing, check_diff_id, |m| {
        member(image, id, m, opts, visit)
    });
    let facts = match read {
        Ok(f) => f,
        Err(e) => {
            // A tampered blob is often no tar any more: say that its digest is wrong too,
            // when the rest of it can still be hashed.
            let actual = digests.blob.and_then(|_| hashing.finish().ok());
            match (digests.blob, actual) {
                (Some(expected), Some(actual)) if !digest::matches(expected, &actual) => {
                    mismatch(expected, &actual)
                }
                _ => {}
            }
            error(format!("layer blob {blob} is not a readable tar: {e}"));
            return None;
        }
    };
    if let Some(expected) = digests.blob {
        match hashing.finish() {
            Ok(actual) if digest::matches(expected, &actual) => {}
            Ok(actual) => mismatch(expected, &actual),
            Err(e) => error(format!("cannot read layer blob {blob}: {e}")),
        }
    } else if let (Some(expected), Some(actual)) = (digests.diff_id, &facts.diff_id) {
        if !digest::matches(expected, actual) {
            error(format!(
                "layer blob {blob}: digest mismatch: the config's diff-id is {expected}, the \
                 uncompressed tar is {actual}"
            ));
        }
    }
    Some(facts)
}

/// One file of a layer: skipped when too large, else handed on.
fn member(
    image: &str,
    layer: &str,
    m: Member<'_>,
    opts: &ReadOptions,
    visit: &(dyn Fn(Item<'_>) + Sync),
) {
    let origin = Origin::Image {
        image: image.to_string(),
        layer: layer.to_string(),
        path: m.path.to_string(),
    };
    if m.size > opts.max_file_size {
        visit(Item::Skipped {
            path: PathBuf::from(origin.display_path().into_owned()),
            reason: SkipReason::TooLarge {
                size: m.size,
                limit: opts.max_file_size,
            },
        });
        return;
    }
    // A member that is itself an archive (a jar, a tar.gz of a release) is expanded as on
    // disk; anything else streams through in chunks.
    let mut head = Vec::with_capacity(HEAD);
    if let Err(e) = (&mut *m.reader).take(HEAD as u64).read_to_end(&mut head) {
        visit(Item::Error {
            path: PathBuf::from(origin.display_path().into_owned()),
            message: format!("cannot read it from its layer: {e}"),
        });
        return;
    }
    if let Some(format) = Format::detect(&head).filter(|_| opts.extract_archives) {
        // A layer is a stream and an archive needs its end (a zip's directory) or a
        // second pass: it is held whole while expanded, within the thread's share.
        if m.size > opts.archive_memory {
            visit(Item::Skipped {
                path: PathBuf::from(origin.display_path().into_owned()),
                reason: SkipReason::Archive(Skip::OverMemory {
                    limit: opts.archive_memory,
                }),
            });
            return;
        }
        let mut bytes = head;
        if let Err(e) = m.reader.read_to_end(&mut bytes) {
            visit(Item::Error {
                path: PathBuf::from(origin.display_path().into_owned()),
                message: format!("cannot read it from its layer: {e}"),
            });
            return;
        }
        let limits = Limits {
            max_member_size: opts.max_file_size,
            // What the archive itself leaves of the share, for the members it holds.
            max_held: opts.archive_memory.saturating_sub(bytes.len() as u64),
            ..Limits::default()
        };
        expand_into(format, std::io::Cursor::new(bytes), &origin, &limits, visit);
        return;
    }
    let mut rest = std::io::Cursor::new(head).chain(m.reader);
    if m.size > opts.chunk_buffer as u64 {
        return scan_member(origin, &mut rest, opts, visit);
    }
    // Small enough for one chunk: held whole, as the walker holds small files, so that
    // all of it, not only its head, tells UTF-16 text from binary.
    let mut data = Vec::with_capacity(m.size as usize);
    if let Err(e) = rest.read_to_end(&mut data) {
        visit(Item::Error {
            path: PathBuf::from(origin.display_path().into_owned()),
            message: format!("cannot read it from its layer: {e}"),
        });
        return;
    }
    match text_of(&data) {
        Some(text) => visit(Item::Blob {
            blob: Blob::new(origin, &text),
            base_offset: 0,
            base_line: 1,
            base_column: 1,
            overlap: 0,
        }),
        None => visit(Item::Skipped {
            path: PathBuf::from(origin.display_path().into_owned()),
            reason: SkipReason::Binary,
        }),
    }
}

/// Scan a member's bytes in bounded chunks, as the walker does a large file: UTF-16 text
/// decoded as it streams, a binary file (see [`scan_text`]) listed as skipped.
fn scan_member(
    origin: Origin,
    reader: &mut dyn Read,
    opts: &ReadOptions,
    visit: &(dyn Fn(Item<'_>) + Sync),
) {
    let result = scan_text(reader, opts.chunk_buffer, |chunk| {
        visit(Item::Blob {
            blob: Blob::new(origin.clone(), chunk.data),
            base_offset: chunk.base_offset,
            base_line: chunk.base_line,
            base_column: chunk.base_column,
            overlap: chunk.overlap,
        });
    });
    let path = || PathBuf::from(origin.display_path().into_owned());
    match result {
        Ok(true) => {}
        Ok(false) => visit(Item::Skipped {
            path: path(),
            reason: SkipReason::Binary,
        }),
        Err(e) => visit(Item::Error {
            path: path(),
            message: format!("cannot read it from its layer: {e}"),
        }),
    }
}
