//! Finding the images, configs and layers in what `--image` names: a `docker save`
//! tarball (`manifest.json`), an OCI image layout directory (`oci-layout`, `index.json`,
//! `blobs/<alg>/<hex>`), or such a layout packed as a tar.
//!
//! Owns: the blob sources (a directory, an indexed tar, see [`BlobSource`]), reading
//! manifests and indexes, and checking the digests of manifests and configs. Does not own:
//! reading layers (see `layer`) or the registry (see `registry`).

use crate::config::ImageConfig;
use crate::digest::{self, sha256_hex};
use crate::ImageError;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Manifests, indexes and configs larger than this are refused: they are JSON a few KiB
/// long, and a bigger one is an attack on memory, not an image.
pub const MAX_JSON: u64 = 16 * 1024 * 1024;
/// Indexes nested deeper than this are refused (an index may point at indexes).
const MAX_INDEX_DEPTH: usize = 4;

/// Where an image's blobs are read from. Names are paths inside the layout
/// (`blobs/sha256/…`, `<id>/layer.tar`) or, for a registry, digests.
pub trait BlobSource: Sync {
    /// The blob `name`, streamed.
    fn open(&self, name: &str) -> io::Result<Box<dyn Read + Send + '_>>;
}

/// One image: its name, config and layers, bottom layer first.
pub struct Image {
    /// `repo:tag` when the image has one, else its digest (or the file it came from).
    pub name: String,
    /// What its config holds that is scanned, and what it says of each layer.
    pub config: ImageConfig,
    /// Its layers, bottom first.
    pub layers: Vec<LayerRef>,
}

/// A layer of an image.
#[derive(Debug, Clone)]
pub struct LayerRef {
    /// Its name in the blob source.
    pub blob: String,
    /// The digest the blob must have, when the layout names one.
    pub expected: Option<String>,
    /// The digest its uncompressed tar must have (the config's `rootfs.diff_ids`), when
    /// the config gives one for every layer.
    pub diff_id: Option<String>,
    /// What identifies the layer across images: its diff-id when the config gives one,
    /// else its blob digest or name.
    pub id: String,
    /// The instruction that made it, from the config's history.
    pub instruction: Option<String>,
}

/// A local image file or directory: its blob source and the images in it.
pub struct Local {
    pub source: LocalSource,
    pub images: Vec<Image>,
}

/// Blobs of a layout directory or of a tar.
pub enum LocalSource {
    Dir(PathBuf),
    Tar {
        file: PathBuf,
        /// Member path → (offset of its data, size).
        index: HashMap<String, (u64, u64)>,
    },
}

impl BlobSource for LocalSource {
    fn open(&self, name: &str) -> io::Result<Box<dyn Read + Send + '_>> {
        let name = name.trim_start_matches("./");
        // A manifest names blobs inside the layout; `..` or an absolute path would read
        // elsewhere on this machine.
        if name.starts_with('/') || name.split('/').any(|c| c == "..") {
            return Err(io::Error::other(format!(
                "`{name}` is outside the image layout"
            )));
        }
        match self {
            LocalSource::Dir(root) => {
                // Nor may a symbolic link in the layout lead out of it (a layout handed
                // over with `blobs/sha256/<hex>` linked to a file of this machine).
                let real = root.join(name).canonicalize()?;
                if !real.starts_with(root.canonicalize()?) {
                    return Err(io::Error::other(format!(
                        "`{name}` links outside the image layout"
                    )));
                }
                Ok(Box::new(File::open(real)?))
            }
            LocalSource::Tar { file, index } => {
                let &(offset, size) = index
                    .get(name)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "not in the tarball"))?;
                let mut f = File::open(file)?;
                f.seek(SeekFrom::Start(offset))?;
                Ok(Box::new(f.take(size)))
            }
        }
    }
}

/// Open the image file or directory at `path`.
pub fn open_local(path: &Path) -> Result<Local, ImageError> {
    let label = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| ImageError::image(&label, e.to_string()))?;
    let source = if meta.is_dir() {
        LocalSource::Dir(path.to_path_buf())
    } else {
        LocalSource::Tar {
            file: path.to_path_buf(),
            index: index_tar(path).map_err(|e| {
                ImageError::image(&label, format!("not a docker-save or OCI tarball: {e}"))
            })?,
        }
    };
    let has = |name: &str| match &source {
        LocalSource::Dir(root) => root.join(name).is_file(),
        LocalSource::Tar { index, .. } => index.contains_key(name),
    };
    let images = if has("manifest.json") {
        docker_save(&source, &label)?
    } else if has("index.json") {
        oci_layout(&source, &label)?
    } else {
        return Err(ImageError::image(
            &label,
            "neither manifest.json (docker save) nor index.json (OCI image layout) is in it",
        ));
    };
    Ok(Local { source, images })
}

/// Where each member of the tar's data starts. Symbolic links (older `docker save` links
/// identical layers) point at their target's data.
fn index_tar(path: &Path) -> io::Result<HashMap<String, (u64, u64)>> {
    let mut archive = tar::Archive::new(File::open(path)?);
    let mut index = HashMap::new();
    let mut links = Vec::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let name = clean(&entry.path()?.to_string_lossy());
        let kind = entry.header().entry_type();
        if kind.is_file() {
            index.insert(name, (entry.raw_file_position(), entry.size()));
        } else if kind.is_symlink() {
            if let Some(target) = entry.link_name()? {
                let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                let target = target.to_string_lossy();
                let joined = if dir.is_empty() {
                    target.to_string()
                } else {
                    format!("{dir}/{target}")
                };
                links.push((name, normalise(&joined)));
            }
        }
    }
    for (name, target) in links {
        if let Some(&at) = index.get(&target) {
            index.insert(name, at);
        }
    }
    Ok(index)
}

fn clean(p: &str) -> String {
    p.trim_start_matches("./")
        .trim_start_matches('/')
        .to_string()
}

/// `a/../b/./c` → `b/c`.
fn normalise(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    parts.join("/")
}

/// Read a small JSON blob whole, checking its digest when one is expected.
pub fn read_json_blob(
    source: &dyn BlobSource,
    image: &str,
    name: &str,
    expected: Option<&str>,
) -> Result<Vec<u8>, ImageError> {
    let mut bytes = Vec::new();
    source
        .open(name)
        .and_then(|r| r.take(MAX_JSON + 1).read_to_end(&mut bytes))
        .map_err(|e| ImageError::blob(image, name, format!("cannot read it: {e}")))?;
    if bytes.len() as u64 > MAX_JSON {
        return Err(ImageError::blob(
            image,
            name,
            format!("over {MAX_JSON} bytes, too large for a manifest or config"),
        ));
    }
    if let Some(expected) = expected {
        let actual = digest::sha256_of(&bytes);
        if !digest::matches(expected, &actual) {
            return Err(ImageError::blob(
                image,
                name,
                format!("digest mismatch: the manifest says {expected}, the blob is {actual}"),
            ));
        }
    }
    Ok(bytes)
}

/// The config at `name`, with each layer's id and instruction.
pub fn parse_config(
    source: &dyn BlobSource,
    image: &str,
    name: &str,
    expected: Option<&str>,
) -> Result<ImageConfig, ImageError> {
    let bytes = read_json_blob(source, image, name, expected)?;
    ImageConfig::parse(&bytes)
        .map_err(|e| ImageError::blob(image, name, format!("not an image config: {e}")))
}

/// Layers from their blob names and digests, paired with the config's history and
/// diff-ids.
pub fn layers(config: &ImageConfig, blobs: Vec<(String, Option<String>)>) -> Vec<LayerRef> {
    let diff_ids_fit = config.diff_ids.len() == blobs.len();
    blobs
        .into_iter()
        .enumerate()
        .map(|(i, (blob, expected))| LayerRef {
            diff_id: diff_ids_fit.then(|| config.diff_ids[i].clone()),
            id: if diff_ids_fit {
                config.diff_ids[i].clone()
            } else {
                expected.clone().unwrap_or_else(|| blob.clone())
            },
            instruction: config.instruction(i).map(str::to_string),
            blob,
            expected,
        })
        .collect()
}

/// The digest a layout path names: `blobs/sha256/<hex>` → `sha256:<hex>`.
fn digest_of_path(path: &str) -> Option<String> {
    let rest = path.trim_start_matches("./").strip_prefix("blobs/")?;
    let (alg, hex) = rest.split_once('/')?;
    let digest = format!("{alg}:{hex}");
    sha256_hex(&digest)?;
    Some(digest)
}

#[derive(Deserialize)]
struct SaveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers", default)]
    layers: Vec<String>,
}

fn docker_save(source: &LocalSource, label: &str) -> Result<Vec<Image>, ImageError> {
    let bytes = read_json_blob(source, label, "manifest.json", None)?;
    let entries: Vec<SaveEntry> = serde_json::from_slice(&bytes).map_err(|e| {
        ImageError::blob(
            label,
            "manifest.json",
            format!("not a docker-save manifest: {e}"),
        )
    })?;
    let mut images = Vec::new();
    for e in entries {
        let expected = digest_of_path(&e.config);
        let config = parse_config(source, label, &e.config, expected.as_deref())?;
        let name = e
            .repo_tags
            .and_then(|t| t.into_iter().next())
            .or_else(|| expected.clone())
            .unwrap_or_else(|| label.to_string());
        let blobs = e
            .layers
            .into_iter()
            .map(|l| {
                let d = digest_of_path(&l);
                (l, d)
            })
            .collect();
        images.push(Image {
            name,
            layers: layers(&config, blobs),
            config,
        });
    }
    Ok(images)
}

/// A content descriptor of the OCI image spec.
#[derive(Deserialize, Clone)]
pub(crate) struct Descriptor {
    pub digest: String,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    #[serde(default)]
    pub platform: Option<Platform>,
}

#[derive(Deserialize, Clone)]
pub(crate) struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
}

/// An image manifest or an index (the two are told apart by which list they carry).
#[derive(Deserialize)]
pub(crate) struct ManifestDoc {
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    #[serde(default)]
    pub config: Option<Descriptor>,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub manifests: Vec<Descriptor>,
}

impl ManifestDoc {
    pub(crate) fn is_index(&self) -> bool {
        self.config.is_none()
            && (!self.manifests.is_empty()
                || self.media_type.contains("index")
                || self.media_type.contains("manifest.list"))
    }
}

pub(crate) fn parse_manifest(
    bytes: &[u8],
    image: &str,
    blob: &str,
) -> Result<ManifestDoc, ImageError> {
    serde_json::from_slice(bytes)
        .map_err(|e| ImageError::blob(image, blob, format!("not an OCI manifest or index: {e}")))
}

fn blob_path(image: &str, digest: &str) -> Result<String, ImageError> {
    match sha256_hex(digest) {
        Some(hex) => Ok(format!("blobs/sha256/{hex}")),
        None => Err(ImageError::image(
            image,
            format!("`{digest}` is not a sha256 digest"),
        )),
    }
}

fn oci_layout(source: &LocalSource, label: &str) -> Result<Vec<Image>, ImageError> {
    let bytes = read_json_blob(source, label, "index.json", None)?;
    let index = parse_manifest(&bytes, label, "index.json")?;
    let mut images = Vec::new();
    for d in index.manifests {
        let name = d
            .annotations
            .get("io.containerd.image.name")
            .cloned()
            .or_else(|| {
                d.annotations
                    .get("org.opencontainers.image.ref.name")
                    .map(|r| format!("{label}:{r}"))
            })
            .unwrap_or_else(|| format!("{label}@{}", d.digest));
        oci_manifest(source, label, &name, &d, 0, &mut images)?;
    }
    if images.is_empty() {
        return Err(ImageError::blob(
            label,
            "index.json",
            "lists no image manifest",
        ));
    }
    Ok(images)
}

/// The images `d` leads to: itself when a manifest, every manifest under it when an index
/// (a local layout holds the platforms someone chose to keep, so all are read).
fn oci_manifest(
    source: &LocalSource,
    label: &str,
    name: &str,
    d: &Descriptor,
    depth: usize,
    images: &mut Vec<Image>,
) -> Result<(), ImageError> {
    if depth > MAX_INDEX_DEPTH {
        return Err(ImageError::blob(
            label,
            &d.digest,
            format!("indexes nested over {MAX_INDEX_DEPTH} deep"),
        ));
    }
    let path = blob_path(label, &d.digest)?;
    let bytes = read_json_blob(source, label, &path, Some(&d.digest))?;
    let doc = parse_manifest(&bytes, label, &d.digest)?;
    if doc.is_index() {
        for m in &doc.manifests {
            let platform = m
                .platform
                .as_ref()
                .map(|p| format!(" ({}/{})", p.os, p.architecture))
                .unwrap_or_default();
            oci_manifest(
                source,
                label,
                &format!("{name}{platform}"),
                m,
                depth + 1,
                images,
            )?;
        }
        return Ok(());
    }
    let Some(config_d) = &doc.config else {
        return Err(ImageError::blob(
            label,
            &d.digest,
            "a manifest without a config",
        ));
    };
    // Attestation manifests (BuildKit's provenance) carry in-toto JSON, not a filesystem.
    if d.annotations.contains_key("vnd.docker.reference.type") {
        return Ok(());
    }
    let config_path = blob_path(label, &config_d.digest)?;
    let config = parse_config(source, label, &config_path, Some(&config_d.digest))?;
    let mut blobs = Vec::new();
    for l in &doc.layers {
        blobs.push((blob_path(label, &l.digest)?, Some(l.digest.clone())));
    }
    images.push(Image {
        name: name.to_string(),
        layers: layers(&config, blobs),
        config,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_paths_name_their_digest_and_cannot_escape() {
        let hex = "a".repeat(64);
        assert_eq!(
            digest_of_path(&format!("blobs/sha256/{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(digest_of_path("abc/layer.tar"), None);
        assert_eq!(normalise("a/../b/./c"), "b/c");
        let d = tempfile::tempdir().unwrap();
        let src = LocalSource::Dir(d.path().to_path_buf());
        for bad in ["../x", "/etc/passwd", "blobs/../../x"] {
            let err = src.open(bad).err().unwrap();
            assert!(err.to_string().contains("outside"), "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_a_layout_directory_is_refused_and_one_inside_is_read() {
        let d = tempfile::tempdir().unwrap();
        let src = LocalSource::Dir(d.path().to_path_buf());
        let elsewhere = tempfile::tempdir().unwrap();
        std::fs::write(elsewhere.path().join("host.env"), "K=v\n").unwrap();
        std::fs::write(d.path().join("inside"), "ok").unwrap();
        std::os::unix::fs::symlink(elsewhere.path().join("host.env"), d.path().join("out"))
            .unwrap();
        std::os::unix::fs::symlink("inside", d.path().join("in")).unwrap();
        let err = src.open("out").err().unwrap();
        assert!(err.to_string().contains("links outside"), "{err}");
        let mut ok = String::new();
        src.open("in").unwrap().read_to_string(&mut ok).unwrap();
        assert_eq!(ok, "ok");
    }

    #[test]
    fn a_file_that_is_not_an_image_is_named_in_the_error() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("notes.txt");
        std::fs::write(&f, "hello").unwrap();
        let err = open_local(&f).err().unwrap().to_string();
        assert!(
            err.contains("notes.txt") && err.contains("tarball"),
            "{err}"
        );
        let empty = d.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        let err = open_local(&empty).err().unwrap().to_string();
        assert!(
            err.contains("manifest.json") && err.contains("index.json"),
            "{err}"
        );
    }
}
