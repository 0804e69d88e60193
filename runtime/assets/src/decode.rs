//! Decoding encoded bytes into an [`Image`]: format detection from content (never the file
//! name), PNG / JPEG / WebP (still and animated) / GIF (all frames), limits enforced before and
//! during decoding, conversion to premultiplied RGBA8. Runs on the caller's thread; it must not
//! touch the store's locks or the GPU.

use std::io::Cursor;
use std::time::Duration;

use image::codecs::gif::GifDecoder;
use image::codecs::jpeg::JpegDecoder;
use image::codecs::png::PngDecoder;
use image::codecs::webp::WebPDecoder;
use image::error::LimitErrorKind;
use image::metadata::Orientation;
use image::{AnimationDecoder, ColorType, DynamicImage, ImageDecoder, ImageError, ImageFormat};

use crate::error::{AssetError, LimitKind};
use crate::image::{ContentHash, Image, ImageFrame};
use crate::limits::{AssetLimits, frame_bytes, over};
use crate::pixels;

/// Animation frames this short or shorter play for [`SHORT_DELAY_REPLACEMENT`], as browsers do.
const SHORT_DELAY: Duration = Duration::from_millis(10);
const SHORT_DELAY_REPLACEMENT: Duration = Duration::from_millis(100);

/// Decodes `bytes` (whose hash is `hash`) under `limits`.
pub(crate) fn decode(name: &str, bytes: &[u8], hash: ContentHash, limits: &AssetLimits) -> Result<Image, AssetError> {
    limits.check_encoded(name, bytes.len())?;
    let format = detect_format(name, bytes)?;
    let reader = Cursor::new(bytes);
    let fail = |error| image_error(name, error, limits);
    let (width, height, frames) = match format {
        ImageFormat::Png => decode_still(name, PngDecoder::with_limits(reader, limits.decoder_memory_limits()).map_err(fail)?, limits)?,
        ImageFormat::Jpeg => decode_still(name, JpegDecoder::new(reader).map_err(fail)?, limits)?,
        ImageFormat::WebP => {
            let decoder = WebPDecoder::new(reader).map_err(fail)?;
            if decoder.has_animation() { decode_animation(name, decoder, limits)? } else { decode_still(name, decoder, limits)? }
        }
        ImageFormat::Gif => decode_animation(name, GifDecoder::new(reader).map_err(fail)?, limits)?,
        other => return Err(unsupported(name, format!("{other:?} images are not supported"))),
    };
    Ok(Image { width, height, frames, hash })
}

/// The format from the leading bytes; only the four supported ones pass.
pub(crate) fn detect_format(name: &str, bytes: &[u8]) -> Result<ImageFormat, AssetError> {
    match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Png | ImageFormat::Jpeg | ImageFormat::WebP | ImageFormat::Gif)) => Ok(format),
        Ok(other) => Err(unsupported(name, format!("the content is a {other:?} image"))),
        Err(_) => Err(unsupported(name, "the content is not a recognised image format".to_owned())),
    }
}

type Decoded = (u32, u32, Vec<ImageFrame>);

fn decode_still(name: &str, mut decoder: impl ImageDecoder, limits: &AssetLimits) -> Result<Decoded, AssetError> {
    let fail = |error| image_error(name, error, limits);
    let (width, height) = decoder.dimensions();
    limits.check_dimensions(name, width, height)?;
    decoder.set_limits(limits.decoder_limits()).map_err(fail)?;
    // The native buffer (e.g. 16-bit RGBA) can be larger than the RGBA8 result.
    over(name, LimitKind::DecoderMemory, decoder.total_bytes(), limits.decoder_memory())?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let frame = |pixels| vec![ImageFrame { pixels, delay: Duration::ZERO }];
    if decoder.color_type() == ColorType::Rgba8 && orientation == Orientation::NoTransforms {
        // Decode straight into the frame's buffer.
        let (pixels, decoded) = pixels::filled(frame_len(width, height), |out| {
            decoder.read_image(out)?;
            pixels::premultiply(out);
            Ok(())
        });
        decoded.map_err(fail)?;
        return Ok((width, height, frame(pixels)));
    }
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(fail)?;
    decoded.apply_orientation(orientation);
    let (width, height) = (decoded.width(), decoded.height());
    limits.check_dimensions(name, width, height)?;
    Ok((width, height, frame(pixels::from_dynamic(decoded))))
}

fn decode_animation<'a>(name: &str, mut decoder: impl ImageDecoder + AnimationDecoder<'a>, limits: &AssetLimits) -> Result<Decoded, AssetError> {
    let fail = |error| image_error(name, error, limits);
    let (width, height) = decoder.dimensions();
    limits.check_dimensions(name, width, height)?;
    decoder.set_limits(limits.decoder_limits()).map_err(fail)?;
    let bytes_per_frame = frame_bytes(width, height);
    let mut frames = Vec::new();
    let mut decoded_bytes = 0u64;
    // Frames decode lazily, so a bomb stops at the first frame over a limit.
    for frame in decoder.into_frames() {
        let frame = frame.map_err(fail)?;
        over(name, LimitKind::Frames, frames.len() as u64 + 1, limits.max_frames as u64)?;
        decoded_bytes += bytes_per_frame;
        over(name, LimitKind::DecodedBytes, decoded_bytes, limits.max_decoded_bytes)?;
        let delay = Duration::from(frame.delay());
        let delay = if delay <= SHORT_DELAY { SHORT_DELAY_REPLACEMENT } else { delay };
        let buffer = frame.into_buffer();
        if buffer.dimensions() != (width, height) {
            let (got_w, got_h) = buffer.dimensions();
            return Err(corrupt(name, format!("frame {} is {got_w}×{got_h}, the canvas is {width}×{height}", frames.len())));
        }
        let (pixels, ()) = pixels::filled(frame_len(width, height), |out| pixels::premultiply_copy(buffer.as_raw(), out));
        frames.push(ImageFrame { pixels, delay });
    }
    if frames.is_empty() {
        return Err(corrupt(name, "the animation has no frames".to_owned()));
    }
    Ok((width, height, frames))
}

/// Bytes of one RGBA8 frame; dimensions were checked against the limits, so this fits.
fn frame_len(width: u32, height: u32) -> usize {
    width as usize * height as usize * 4
}

fn image_error(name: &str, error: ImageError, limits: &AssetLimits) -> AssetError {
    match error {
        ImageError::Limits(limit) => match limit.kind() {
            LimitErrorKind::DimensionError => AssetError::TooLarge {
                name: name.to_owned(),
                what: LimitKind::Width,
                actual: None,
                limit: limits.max_width.min(limits.max_height).into(),
            },
            _ => AssetError::TooLarge { name: name.to_owned(), what: LimitKind::DecoderMemory, actual: None, limit: limits.decoder_memory() },
        },
        ImageError::Unsupported(detail) => unsupported(name, detail.to_string()),
        ImageError::IoError(io) => corrupt(name, io.to_string()),
        other => corrupt(name, other.to_string()),
    }
}

fn unsupported(name: &str, detail: String) -> AssetError {
    AssetError::Unsupported { name: name.to_owned(), detail }
}

fn corrupt(name: &str, reason: String) -> AssetError {
    AssetError::Corrupt { name: name.to_owned(), reason }
}
