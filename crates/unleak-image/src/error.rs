//! What can go wrong reading an image: every error names the image and, where there is
//! one, the blob.

/// An image that cannot be read, or a blob of it that is corrupt.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The image as a whole: not found, not an image, a bad manifest or config.
    #[error("image {image}: {message}")]
    Image { image: String, message: String },
    /// One blob of the image (a layer, the config, a manifest).
    #[error("image {image}: blob {blob}: {message}")]
    Blob {
        image: String,
        blob: String,
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
