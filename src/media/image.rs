//! Turning an uploaded file into published renditions. Pure and blocking: no I/O, no HTTP.
//!
//! The type is decided by the bytes, never by the name or the declared content type. Every image
//! is decoded with decoder limits (after a header-only check of its dimensions, so a
//! decompression bomb is refused before a pixel is allocated), turned upright by its EXIF
//! orientation, resized, and re-encoded: the output carries no metadata (EXIF, GPS, XMP, text
//! chunks) and no byte of the original. Opaque images become JPEG; images that use transparency
//! become PNG. The original is not kept.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::imageops::FilterType;
use image::{DynamicImage, ImageDecoder, ImageEncoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};

use crate::domain::UploadRefusal;

/// Widths of the renditions, widest first. An image narrower than a width is not enlarged, so
/// small images get fewer renditions.
pub const RENDITION_WIDTHS: [u32; 3] = [1200, 600, 160];

/// A rendition is at most this many times as tall as its nominal width.
const MAX_ASPECT: u32 = 2;

/// JPEG quality of the renditions (libjpeg scale). 82 keeps photos free of visible artefacts at
/// about a tenth of a byte per pixel.
pub const JPEG_QUALITY: u8 = 82;

/// What an upload may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest file, in bytes.
    pub max_bytes: usize,
    /// Most pixels (width × height) of the decoded image.
    pub max_pixels: u64,
    /// Longest side, in pixels.
    pub max_side: u32,
    /// Most memory the decoder may allocate, in bytes.
    pub max_alloc: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_bytes: 5 * 1024 * 1024,
            max_pixels: 40_000_000,
            max_side: 8_000,
            // 40 MP as RGBA (160 MB) plus the decoder's working buffers.
            max_alloc: 256 * 1024 * 1024,
        }
    }
}

/// One published size of an image.
#[derive(Debug, Clone)]
pub struct Rendition {
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    /// The encoded file.
    pub bytes: Vec<u8>,
    /// `image/jpeg` or `image/png`.
    pub content_type: &'static str,
    /// The storage key: `img/<first 32 hex digits of the SHA-256 of the bytes>.<ext>`.
    pub key: String,
}

/// The result of processing an upload.
#[derive(Debug, Clone)]
pub struct Processed {
    /// The format the upload was in.
    pub source_format: ImageFormat,
    /// The upright size of the upload.
    pub source_width: u32,
    /// The upright height of the upload.
    pub source_height: u32,
    /// Renditions, widest first (at least one).
    pub renditions: Vec<Rendition>,
}

/// Checks a client-supplied file name: a plain name, no path, no control characters. The name
/// is never used for storage (keys are content hashes); a path-like name is still refused, as
/// no browser sends one and a client that does is not to be trusted with the rest.
pub fn check_file_name(raw: Option<&str>) -> Result<(), UploadRefusal> {
    let Some(name) = raw else { return Ok(()) };
    let bad = name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
        || name == ".."
        || name == "."
        || name.len() > 255;
    if bad {
        return Err(UploadRefusal::PathName);
    }
    Ok(())
}

/// The accepted format of `bytes`, decided by their first bytes.
pub fn sniff(bytes: &[u8]) -> Result<ImageFormat, UploadRefusal> {
    if bytes.is_empty() {
        return Err(UploadRefusal::Empty);
    }
    match image::guess_format(bytes) {
        Ok(f @ (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP | ImageFormat::Gif)) => {
            Ok(f)
        }
        Ok(_) => Err(UploadRefusal::NotAnImage),
        Err(_) if looks_like_text(bytes) => Err(UploadRefusal::Markup),
        Err(_) => Err(UploadRefusal::NotAnImage),
    }
}

fn looks_like_text(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(512)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    std::str::from_utf8(head).is_ok_and(|s| {
        s.trim_start().starts_with('<') || s.chars().all(|c| !c.is_control() || c.is_whitespace())
    })
}

/// Markup a browser would act on if it ever sniffed the file as HTML: refused even inside an
/// otherwise valid image (XMP metadata is XML, so `<?xml` and `<x:` are not on this list).
const MARKUP: [&[u8]; 8] = [
    b"<script",
    b"<html",
    b"<body",
    b"<iframe",
    b"<svg",
    b"<object",
    b"<embed",
    b"<!doctype",
];

/// Whether `bytes` contain HTML or script markup (ASCII case-insensitive).
pub fn carries_markup(bytes: &[u8]) -> bool {
    bytes.iter().enumerate().any(|(i, &b)| {
        b == b'<'
            && MARKUP.iter().any(|m| {
                bytes
                    .get(i..i + m.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(m))
            })
    })
}

/// A JPEG must end its last scan with an end-of-image marker; the decoder pads a truncated one
/// with grey instead of failing, so this is checked on the bytes.
fn jpeg_complete(bytes: &[u8]) -> bool {
    let last = |marker: [u8; 2]| bytes.windows(2).rposition(|w| w == marker);
    match (last([0xFF, 0xDA]), last([0xFF, 0xD9])) {
        (Some(sos), Some(eoi)) => eoi > sos,
        _ => false,
    }
}

fn decoder_limits(limits: &ImageLimits) -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(limits.max_side);
    l.max_image_height = Some(limits.max_side);
    l.max_alloc = Some(limits.max_alloc);
    l
}

fn check_dimensions(width: u32, height: u32, limits: &ImageLimits) -> Result<(), UploadRefusal> {
    if width == 0 || height == 0 {
        return Err(UploadRefusal::Corrupt);
    }
    if width > limits.max_side
        || height > limits.max_side
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        return Err(UploadRefusal::TooManyPixels {
            width,
            height,
            max_side: limits.max_side,
            max_mp: limits.max_pixels / 1_000_000,
        });
    }
    Ok(())
}

/// Decodes an upload within the limits and turns it upright.
pub fn decode(
    bytes: &[u8],
    limits: &ImageLimits,
) -> Result<(ImageFormat, DynamicImage), UploadRefusal> {
    if bytes.len() > limits.max_bytes {
        return Err(UploadRefusal::TooLarge {
            max: limits.max_bytes,
        });
    }
    let format = sniff(bytes)?;
    if carries_markup(bytes) {
        return Err(UploadRefusal::CarriesMarkup);
    }
    if format == ImageFormat::Jpeg && !jpeg_complete(bytes) {
        return Err(UploadRefusal::Corrupt);
    }
    // Header only: the declared size, before anything is allocated for pixels.
    let (w, h) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(|_| UploadRefusal::Corrupt)?;
    check_dimensions(w, h, limits)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decoder_limits(limits));
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| refusal_of(e, w, h, limits))?;
    let orientation = decoder.orientation().ok();
    let mut img = DynamicImage::from_decoder(decoder).map_err(|e| refusal_of(e, w, h, limits))?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok((format, img))
}

fn refusal_of(e: image::ImageError, w: u32, h: u32, limits: &ImageLimits) -> UploadRefusal {
    match e {
        image::ImageError::Limits(_) => UploadRefusal::TooManyPixels {
            width: w,
            height: h,
            max_side: limits.max_side,
            max_mp: limits.max_pixels / 1_000_000,
        },
        _ => UploadRefusal::Corrupt,
    }
}

/// The size of the rendition of nominal width `target` for a `w`×`h` image: fits in
/// `target` × `2·target`, never enlarged, aspect ratio kept.
pub fn fit(w: u32, h: u32, target: u32) -> (u32, u32) {
    let scale = (f64::from(target) / f64::from(w))
        .min(f64::from(target * MAX_ASPECT) / f64::from(h))
        .min(1.0);
    let nw = ((f64::from(w) * scale).round() as u32).max(1);
    let nh = ((f64::from(h) * scale).round() as u32).max(1);
    (nw, nh)
}

/// Whether any pixel is not fully opaque (read in place for the usual 8-bit layouts).
fn uses_alpha(img: &DynamicImage) -> bool {
    match img {
        DynamicImage::ImageRgba8(b) => b.pixels().any(|p| p.0[3] < 255),
        DynamicImage::ImageLumaA8(b) => b.pixels().any(|p| p.0[1] < 255),
        i if i.has_alpha() => i.to_rgba8().pixels().any(|p| p.0[3] < 255),
        _ => false,
    }
}

/// Encodes one rendition and names it by its content.
fn encode(img: &DynamicImage, alpha: bool) -> Result<Rendition, UploadRefusal> {
    let mut out = Vec::new();
    let (width, height) = (img.width(), img.height());
    let (content_type, ext) = if alpha {
        let rgba = img.to_rgba8();
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive)
            .write_image(&rgba, width, height, image::ExtendedColorType::Rgba8)
            .map_err(|_| UploadRefusal::Corrupt)?;
        ("image/png", "png")
    } else {
        let rgb = img.to_rgb8();
        JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
            .write_image(&rgb, width, height, image::ExtendedColorType::Rgb8)
            .map_err(|_| UploadRefusal::Corrupt)?;
        ("image/jpeg", "jpg")
    };
    let digest = Sha256::digest(&out);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    Ok(Rendition {
        width,
        height,
        bytes: out,
        content_type,
        key: format!("img/{hex}.{ext}"),
    })
}

/// Decodes, checks and re-encodes an upload into its renditions, widest first.
pub fn process(bytes: &[u8], limits: &ImageLimits) -> Result<Processed, UploadRefusal> {
    let (source_format, img) = decode(bytes, limits)?;
    let (source_width, source_height) = (img.width(), img.height());
    let alpha = uses_alpha(&img);
    let mut renditions: Vec<Rendition> = Vec::with_capacity(RENDITION_WIDTHS.len());
    // Each size is made from the previous one, which is cheaper than from the original and, at
    // these ratios, looks the same.
    let mut base = img;
    for target in RENDITION_WIDTHS {
        let (w, h) = fit(source_width, source_height, target);
        if renditions
            .last()
            .is_some_and(|r| r.width == w && r.height == h)
        {
            continue;
        }
        if (w, h) != (base.width(), base.height()) {
            // Shrinking by more than 2×: the area-averaging `thumbnail` (integer arithmetic, no
            // floating-point copy of the image); closer sizes: Catmull-Rom, which keeps edges.
            base = if base.width() > 2 * w {
                base.thumbnail_exact(w, h)
            } else {
                base.resize_exact(w, h, FilterType::CatmullRom)
            };
        }
        renditions.push(encode(&base, alpha)?);
    }
    Ok(Processed {
        source_format,
        source_width,
        source_height,
        renditions,
    })
}

/// Test and benchmark inputs, made in memory.
pub mod samples {
    use image::{ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
    use std::io::Cursor;

    /// A photo-like opaque image: smooth gradients with noise, so it compresses like a photo.
    pub fn photo(width: u32, height: u32) -> RgbImage {
        let mut seed: u32 = 0x9E37_79B9;
        RgbImage::from_fn(width, height, |x, y| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let n = (seed % 24) as i32 - 12;
            let r = (x * 255 / width.max(1)) as i32 + n;
            let g = (y * 255 / height.max(1)) as i32 + n;
            let b = (((x + y) / 7) % 255) as i32 + n;
            Rgb([
                r.clamp(0, 255) as u8,
                g.clamp(0, 255) as u8,
                b.clamp(0, 255) as u8,
            ])
        })
    }

    /// A graphic with transparency: a disc on a clear background.
    pub fn graphic(width: u32, height: u32) -> RgbaImage {
        let (cx, cy, r) = (width / 2, height / 2, width.min(height) / 3);
        RgbaImage::from_fn(width, height, |x, y| {
            let (dx, dy) = (x.abs_diff(cx), y.abs_diff(cy));
            if dx * dx + dy * dy <= r * r {
                Rgba([200, (x % 256) as u8, 40, 255])
            } else {
                Rgba([0, 0, 0, 0])
            }
        })
    }

    /// An encoded opaque image in `format`.
    pub fn encoded_photo(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        photo(width, height)
            .write_to(&mut out, format)
            .expect("encoding to memory");
        out.into_inner()
    }

    /// An encoded transparent PNG.
    pub fn encoded_graphic(width: u32, height: u32) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        graphic(width, height)
            .write_to(&mut out, ImageFormat::Png)
            .expect("encoding to memory");
        out.into_inner()
    }

    /// A valid PNG header declaring `width`×`height` with one tiny (invalid) data chunk: what a
    /// decompression bomb looks like to a header check.
    pub fn png_declaring(width: u32, height: u32) -> Vec<u8> {
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        push_chunk(&mut out, b"IHDR", &ihdr);
        push_chunk(&mut out, b"IDAT", &[0x78, 0x9c, 0x03, 0x00]);
        push_chunk(&mut out, b"IEND", &[]);
        out
    }

    /// A valid PNG with a text chunk carrying HTML and script.
    pub fn png_with_script() -> Vec<u8> {
        let png = encoded_photo(32, 32, ImageFormat::Png);
        // Insert a tEXt chunk right after IHDR (8 signature + 25 IHDR bytes).
        let mut out = png[..33].to_vec();
        push_chunk(
            &mut out,
            b"tEXt",
            b"Comment\0<html><script>alert(document.cookie)</script></html>",
        );
        out.extend_from_slice(&png[33..]);
        out
    }

    fn push_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        let mut crc_input = kind.to_vec();
        crc_input.extend_from_slice(data);
        out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}

#[cfg(test)]
mod tests {
    use super::samples::*;
    use super::*;

    fn limits() -> ImageLimits {
        ImageLimits::default()
    }

    #[test]
    fn a_photo_becomes_three_jpeg_renditions_named_by_content() {
        let jpeg = encoded_photo(2400, 1600, ImageFormat::Jpeg);
        let p = process(&jpeg, &limits()).unwrap();
        let sizes: Vec<(u32, u32)> = p.renditions.iter().map(|r| (r.width, r.height)).collect();
        assert_eq!(sizes, vec![(1200, 800), (600, 400), (160, 107)]);
        for r in &p.renditions {
            assert_eq!(r.content_type, "image/jpeg");
            assert!(r.key.starts_with("img/") && r.key.ends_with(".jpg"));
            assert_eq!(image::guess_format(&r.bytes).unwrap(), ImageFormat::Jpeg);
            let again = process(&jpeg, &limits()).unwrap();
            assert!(
                again.renditions.iter().any(|a| a.key == r.key),
                "deterministic keys"
            );
        }
        assert_eq!(p.source_format, ImageFormat::Jpeg);
    }

    #[test]
    fn a_small_image_is_not_enlarged() {
        let png = encoded_photo(300, 200, ImageFormat::Png);
        let p = process(&png, &limits()).unwrap();
        let sizes: Vec<(u32, u32)> = p.renditions.iter().map(|r| (r.width, r.height)).collect();
        assert_eq!(sizes, vec![(300, 200), (160, 107)]);
        assert_eq!(
            p.renditions[0].content_type, "image/jpeg",
            "opaque PNG → JPEG"
        );
    }

    #[test]
    fn transparency_is_kept_as_png() {
        let png = encoded_graphic(800, 800);
        let p = process(&png, &limits()).unwrap();
        assert!(p.renditions.iter().all(|r| r.content_type == "image/png"));
        let back = image::load_from_memory(&p.renditions[0].bytes).unwrap();
        assert!(back.has_alpha());
    }

    #[test]
    fn webp_and_gif_are_accepted() {
        for format in [ImageFormat::WebP, ImageFormat::Gif] {
            let bytes = encoded_photo(640, 480, format);
            let p = process(&bytes, &limits()).unwrap();
            assert_eq!(p.source_format, format);
            assert_eq!(p.renditions[0].width, 640);
        }
    }

    #[test]
    fn tall_images_are_bounded_in_height() {
        assert_eq!(fit(1000, 8000, 1200), (300, 2400));
        assert_eq!(fit(4000, 3000, 160), (160, 120));
        assert_eq!(fit(100, 50, 1200), (100, 50));
    }

    #[test]
    fn metadata_is_stripped() {
        // A JPEG with an EXIF APP1 segment carrying a GPS-like marker string.
        let jpeg = encoded_photo(400, 300, ImageFormat::Jpeg);
        let mut exif = vec![0xFF, 0xE1];
        let payload = b"Exif\0\0GPSLatitude=52.3676N secret-camera-serial";
        exif.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
        exif.extend_from_slice(payload);
        let mut with_exif = jpeg[..2].to_vec();
        with_exif.extend_from_slice(&exif);
        with_exif.extend_from_slice(&jpeg[2..]);
        let p = process(&with_exif, &limits()).unwrap();
        for r in &p.renditions {
            let hay = String::from_utf8_lossy(&r.bytes);
            assert!(!hay.contains("GPSLatitude") && !hay.contains("secret-camera-serial"));
            assert!(!r.bytes.windows(4).any(|w| w == b"Exif"));
        }
    }

    #[test]
    fn bad_inputs_are_refused_with_their_reason() {
        let l = limits();
        assert_eq!(process(b"", &l).unwrap_err(), UploadRefusal::Empty);
        assert_eq!(
            process(b"just some text, named photo.jpg\n", &l).unwrap_err(),
            UploadRefusal::Markup
        );
        assert_eq!(
            process(b"<!DOCTYPE html><html><script>alert(1)</script>", &l).unwrap_err(),
            UploadRefusal::Markup
        );
        let svg =
            br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>"#;
        assert_eq!(process(svg, &l).unwrap_err(), UploadRefusal::Markup);
        assert_eq!(
            process(&png_with_script(), &l).unwrap_err(),
            UploadRefusal::CarriesMarkup
        );
        let jpeg = encoded_photo(800, 600, ImageFormat::Jpeg);
        assert_eq!(
            process(&jpeg[..jpeg.len() / 2], &l).unwrap_err(),
            UploadRefusal::Corrupt
        );
        let png = encoded_photo(800, 600, ImageFormat::Png);
        assert_eq!(
            process(&png[..png.len() / 2], &l).unwrap_err(),
            UploadRefusal::Corrupt
        );
        assert!(matches!(
            process(&png_declaring(50_000, 50_000), &l).unwrap_err(),
            UploadRefusal::TooManyPixels {
                width: 50_000,
                height: 50_000,
                ..
            }
        ));
        assert!(matches!(
            process(&png_declaring(7_000, 7_000), &l).unwrap_err(),
            UploadRefusal::TooManyPixels { .. }
        ));
        // BMP and TIFF are images, but not ones we take.
        assert_eq!(
            process(b"BM\x3a\0\0\0\0\0\0\0", &l).unwrap_err(),
            UploadRefusal::NotAnImage
        );
        assert_eq!(
            process(b"II*\0\x08\0\0\0", &l).unwrap_err(),
            UploadRefusal::NotAnImage
        );
        let tiny = ImageLimits {
            max_bytes: 100,
            ..l
        };
        assert_eq!(
            process(&jpeg, &tiny).unwrap_err(),
            UploadRefusal::TooLarge { max: 100 }
        );
        assert_eq!(
            process(&[0u8; 64], &l).unwrap_err(),
            UploadRefusal::NotAnImage
        );
    }

    #[test]
    fn path_like_names_are_refused() {
        assert!(check_file_name(Some("photo.jpg")).is_ok());
        assert!(check_file_name(Some("été 2026.png")).is_ok());
        assert!(check_file_name(None).is_ok());
        for bad in [
            "../../x",
            "..",
            "a/b.jpg",
            "C:\\x.jpg",
            "x\0.jpg",
            "x\n.jpg",
        ] {
            assert_eq!(
                check_file_name(Some(bad)),
                Err(UploadRefusal::PathName),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn markup_scan_is_case_insensitive_and_ignores_xmp() {
        assert!(carries_markup(b"\x00\x01<ScRiPt>"));
        assert!(!carries_markup(
            b"<?xpacket begin?><x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>"
        ));
    }
}
