//! Reading one layer: a tar, plain or compressed with gzip or zstd, as a stream of members.
//!
//! Owns: detecting the compression from the first bytes, walking the tar's entries
//! without unpacking them, naming each regular file by its path in the image, and
//! recording whiteouts (`.wh.NAME` deletes NAME, `.wh..wh..opq` empties its directory of
//! what lower layers put there). Does not own: what is done with a member's bytes
//! (scanning, nested-archive expansion), or comparing digests (the caller, with `digest`).

use crate::digest::Hashing;
use std::io::{self, BufRead, BufReader, Read};

/// A path a layer deletes from the layers under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Whiteout {
    /// `dir/.wh.name`: `dir/name` (a file, or a directory and all under it) is gone.
    Path(String),
    /// `dir/.wh..wh..opq`: everything lower layers put under `dir/` is gone.
    Opaque(String),
}

impl Whiteout {
    /// Whether this whiteout hides `path` (a file of a lower layer).
    pub fn hides(&self, path: &str) -> bool {
        match self {
            Whiteout::Path(p) => path == p || under(path, p),
            Whiteout::Opaque(dir) => dir.is_empty() || under(path, dir),
        }
    }
}

fn under(path: &str, dir: &str) -> bool {
    path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
}

/// What a layer holds besides its files.
#[derive(Debug, Default, Clone)]
pub struct LayerFacts {
    /// The paths this layer deletes from the layers under it, in the order stored.
    pub whiteouts: Vec<Whiteout>,
    /// `sha256:<hex>` of the uncompressed tar (what a config's `rootfs.diff_ids` names),
    /// when [`read_layer`] was asked for it.
    pub diff_id: Option<String>,
}

/// One regular file of a layer.
pub struct Member<'a> {
    /// Its path in the image, without a leading `/` or `./`.
    pub path: &'a str,
    /// Size as the tar header gives it.
    pub size: u64,
    /// Its bytes, streamed from the layer.
    pub reader: &'a mut dyn Read,
}

/// Read the layer tar in `input` (plain, gzip- or zstd-compressed), calling `visit` with each
/// regular file in the order stored. A member `visit` does not read to the end is skipped
/// over. With `diff_id`, the uncompressed tar is hashed as it streams past (to its end,
/// padding included) into [`LayerFacts::diff_id`]. Errors are I/O or tar errors, for the
/// caller to place.
pub fn read_layer(
    input: impl Read,
    diff_id: bool,
    mut visit: impl FnMut(Member<'_>),
) -> io::Result<LayerFacts> {
    let mut input = BufReader::with_capacity(64 * 1024, input);
    let head = input.fill_buf()?;
    let reader: Box<dyn Read> = if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(input))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        // `tar+zstd` layers, `zstd:chunked` ones included (a table of contents in a
        // skippable frame at the end, which is passed over).
        Box::new(unleak_archive::ZstdFrames::new(input))
    } else {
        Box::new(input)
    };
    if !diff_id {
        return entries(&mut tar::Archive::new(reader), &mut visit);
    }
    let mut archive = tar::Archive::new(Hashing::new(reader));
    let mut facts = entries(&mut archive, &mut visit)?;
    facts.diff_id = Some(archive.into_inner().finish()?);
    Ok(facts)
}

/// Walk the entries of `archive`: regular files to `visit`, whiteouts into the facts.
fn entries<R: Read>(
    archive: &mut tar::Archive<R>,
    visit: &mut impl FnMut(Member<'_>),
) -> io::Result<LayerFacts> {
    let mut facts = LayerFacts::default();
    for entry in archive.entries()? {
        let mut entry = entry?;
        let raw = entry.path()?.to_string_lossy().into_owned();
        let path = clean(&raw);
        let (dir, name) = match path.rsplit_once('/') {
            Some((d, n)) => (d, n),
            None => ("", path.as_str()),
        };
        if name == ".wh..wh..opq" {
            facts.whiteouts.push(Whiteout::Opaque(dir.to_string()));
            continue;
        }
        if let Some(hidden) = name.strip_prefix(".wh.") {
            let p = if dir.is_empty() {
                hidden.to_string()
            } else {
                format!("{dir}/{hidden}")
            };
            facts.whiteouts.push(Whiteout::Path(p));
            continue;
        }
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let size = entry.size();
        visit(Member {
            path: &path,
            size,
            reader: &mut entry,
        });
    }
    Ok(facts)
}

/// A tar path without leading `./` or `/`, as the image's filesystem names it.
fn clean(raw: &str) -> String {
    let mut p = raw;
    loop {
        if let Some(rest) = p.strip_prefix("./") {
            p = rest;
        } else if let Some(rest) = p.strip_prefix('/') {
            p = rest;
        } else {
            break;
        }
    }
    p.trim_end_matches('/').to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A tar of `(path, content)` pairs; an empty content with a path ending in `/` is a
    /// directory.
    pub(crate) fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut h = tar::Header::new_gnu();
            if path.ends_with('/') {
                h.set_entry_type(tar::EntryType::Directory);
                h.set_size(0);
            } else {
                h.set_size(data.len() as u64);
            }
            h.set_mode(0o644);
            // Written raw: the builder refuses the absolute paths some layers carry.
            h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn members(layer: &[u8]) -> (Vec<(String, Vec<u8>)>, LayerFacts) {
        let mut seen = Vec::new();
        let facts = read_layer(layer, false, |m| {
            let mut data = Vec::new();
            m.reader.read_to_end(&mut data).unwrap();
            seen.push((m.path.to_string(), data));
        })
        .unwrap();
        (seen, facts)
    }

    #[test]
    fn files_whiteouts_and_opaque_directories() {
        let layer = tar_of(&[
            ("./etc/", b""),
            ("./etc/app.env", b"K=v\n"),
            ("etc/.wh.old.env", b""),
            ("/srv/.wh..wh..opq", b""),
        ]);
        let (files, facts) = members(&layer);
        assert_eq!(files, [("etc/app.env".to_string(), b"K=v\n".to_vec())]);
        assert_eq!(
            facts.whiteouts,
            [
                Whiteout::Path("etc/old.env".into()),
                Whiteout::Opaque("srv".into())
            ]
        );
        assert!(facts.whiteouts[0].hides("etc/old.env"));
        assert!(!facts.whiteouts[0].hides("etc/old.env.bak"));
        assert!(facts.whiteouts[1].hides("srv/a/b"));
        assert!(!facts.whiteouts[1].hides("srvx/a"));
        assert!(Whiteout::Path("opt".into()).hides("opt/x/y"));
    }

    #[test]
    fn gzip_and_zstd_layers_are_read() {
        use std::io::Write;
        let layer = tar_of(&[("a.txt", b"hello"), ("b/c.txt", b"world")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&layer).unwrap();
        let zst = ruzstd::encoding::compress_to_vec(
            &layer[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        for compressed in [gz.finish().unwrap(), zst] {
            let (files, _) = members(&compressed);
            // The diff-id is the uncompressed tar's digest, whatever the compression.
            let facts = read_layer(&compressed[..], true, |_| {}).unwrap();
            assert_eq!(facts.diff_id, Some(crate::digest::sha256_of(&layer)));
            let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
            assert_eq!(paths, ["a.txt", "b/c.txt"]);
            assert_eq!(files[1].1, b"world");
        }
        // Corrupt zstd is an error naming the format, not a panic.
        let err = read_layer(&[0x28, 0xb5, 0x2f, 0xfd, 0][..], false, |_| {}).unwrap_err();
        assert!(err.to_string().contains("zstd"), "{err}");
    }

    #[test]
    fn a_truncated_layer_is_an_error_not_a_panic() {
        let layer = tar_of(&[("a.txt", &[b'x'; 2000])]);
        let cut = &layer[..700];
        let r = read_layer(cut, false, |m| {
            let mut sink = Vec::new();
            let _ = m.reader.read_to_end(&mut sink);
        });
        assert!(r.is_err());
    }
}
