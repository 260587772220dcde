//! Why an uploaded image is refused: the rules an upload must pass, as outcomes with a stable
//! code and a message for the uploader (the checks themselves read the bytes: `media::image`).

/// Why a file was refused: a stable code and a message for the uploader.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UploadRefusal {
    /// No bytes at all.
    #[error("The file is empty.")]
    Empty,
    /// Larger than the limit.
    #[error("The image is larger than {} MB.", .max / (1024 * 1024))]
    TooLarge {
        /// The limit in bytes.
        max: usize,
    },
    /// Text, HTML or SVG.
    #[error("This is a text, HTML or SVG file, not an image. Upload a JPEG, PNG, WebP or GIF.")]
    Markup,
    /// An image format we do not take (BMP, TIFF, ...), or not an image at all.
    #[error("This file is not a JPEG, PNG, WebP or GIF image.")]
    NotAnImage,
    /// A real image carrying HTML or script (a polyglot file).
    #[error("This image carries HTML or script, so it was refused.")]
    CarriesMarkup,
    /// Too many pixels or too long a side.
    #[error(
        "The image is {width}×{height} pixels; the limit is {max_side} pixels a side and {max_mp} megapixels."
    )]
    TooManyPixels {
        /// Declared width.
        width: u32,
        /// Declared height.
        height: u32,
        /// Longest side allowed.
        max_side: u32,
        /// Megapixels allowed.
        max_mp: u64,
    },
    /// The bytes start like an image but do not decode (truncated or corrupt).
    #[error("The image is damaged or incomplete and could not be read.")]
    Corrupt,
    /// A file name that looks like a path.
    #[error("The file name must be a plain name, not a path.")]
    PathName,
}

impl UploadRefusal {
    /// Machine-readable code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            UploadRefusal::Empty => "empty_file",
            UploadRefusal::TooLarge { .. } => "file_too_large",
            UploadRefusal::Markup => "not_an_image",
            UploadRefusal::NotAnImage => "unsupported_image_type",
            UploadRefusal::CarriesMarkup => "image_carries_markup",
            UploadRefusal::TooManyPixels { .. } => "image_too_large",
            UploadRefusal::Corrupt => "corrupt_image",
            UploadRefusal::PathName => "invalid_file_name",
        }
    }
}
