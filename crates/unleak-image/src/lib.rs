//! Container images as a source: what `unleak scan --image` and `guard --image` read.
//!
//! Owns: opening a `docker save` tarball, an OCI image layout (a directory or a tar of
//! one) or, with `--pull` only, an image in a registry; reading the image config's `Env`,
//! `Labels` and build history as text to scan; reading every distinct layer once as a
//! stream of files ([`unleak_sources::Item`]s whose [`Origin::Image`] names the image,
//! layer and path); whiteouts; digest checks; and the provenance a finding gets from it
//! (which images, which layer and instruction, removed by which later layer).
//!
//! Does not own: matching, filtering or printing; nested archives inside a layer (one
//! call site in `read`, for the archive reader).
//!
//! [`Origin::Image`]: unleak_core::Origin::Image

mod config;
mod digest;
mod error;
mod layer;
mod layout;
mod pool;
mod read;
mod registry;

pub use config::{ConfigSection, ImageConfig};
pub use error::ImageError;
pub use layer::{read_layer, LayerFacts, Member, Whiteout};
pub use layout::{open_local, BlobSource, Image, LayerRef};
pub use read::{read_images, Opened, Provenances, ReadOptions};
pub use registry::{pull, Reference};

use std::path::Path;

/// What an `--image` argument names.
pub enum ImageSpec {
    /// An existing file or directory.
    Local(std::path::PathBuf),
    /// Not a file or directory, but an image reference.
    Registry(Reference),
}

impl ImageSpec {
    /// An existing path is local (even when it also reads as a reference); anything else
    /// must be a reference. `None` when it is neither.
    pub fn parse(spec: &str) -> Option<ImageSpec> {
        let path = Path::new(spec);
        if path.exists() {
            return Some(ImageSpec::Local(path.to_path_buf()));
        }
        Reference::parse(spec).map(ImageSpec::Registry)
    }
}

/// Open a local image into what [`read_images`] reads.
pub fn open(path: &Path) -> Result<Opened, ImageError> {
    let local = open_local(path)?;
    Ok(Opened {
        source: Box::new(local.source),
        images: local.images,
    })
}
