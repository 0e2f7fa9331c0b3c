//! What can go wrong reading an image: every error names the image and, where there is
//! one, the blob.

/// An image that cannot be read, or a blob of it that is corrupt.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The image as a whole: not found, not an image, a bad manifest or config.
    #[error("image {image}: {message}")]
    Image {
        /// The image as named (a path, or a registry reference).
        image: String,
        /// What is wrong with it.
        message: String,
    },
    /// One blob of the image (a layer, the config, a manifest).
    #[error("image {image}: blob {blob}: {message}")]
    Blob {
        /// The image as named (a path, or a registry reference).
        image: String,
        /// The blob's name in its source (a layout path, or a digest).
        blob: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ImageError {
    pub(crate) fn image(image: &str, message: impl Into<String>) -> Self {
        ImageError::Image {
            image: image.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn blob(image: &str, blob: &str, message: impl Into<String>) -> Self {
        ImageError::Blob {
            image: image.to_string(),
            blob: blob.to_string(),
            message: message.into(),
        }
    }
}
