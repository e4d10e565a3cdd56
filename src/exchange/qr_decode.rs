//! Reads QR codes from images with rxing, which survives real photos
//! (blur, noise, rotation, perspective) far better than the alternatives.

use image::{DynamicImage, GrayImage};
use rxing::{BarcodeFormat, DecodeHints};

use super::error::{ExchangeError, Result};

/// Whether `bytes` start like an image locksmith reads (PNG, JPEG, GIF).
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(&[0xff, 0xd8, 0xff])
        || bytes.starts_with(b"GIF8")
}

/// Decodes every frame of an image file (one for PNG/JPEG, each frame of
/// an animated GIF) and returns the contents of the frames that hold a
/// code. Errors if no frame holds one.
pub fn decode_image_file(bytes: &[u8], input: &str) -> Result<Vec<Vec<u8>>> {
    let frames = load_frames(bytes, input)?;
    let found: Vec<Vec<u8>> = frames.iter().filter_map(decode_luma).collect();
    if found.is_empty() {
        return Err(ExchangeError::QrNotFound {
            input: input.into(),
        });
    }
    Ok(found)
}

fn load_frames(bytes: &[u8], input: &str) -> Result<Vec<GrayImage>> {
    let err = |e: image::ImageError| ExchangeError::ImageRead {
        input: input.into(),
        reason: e.to_string(),
    };
    if bytes.starts_with(b"GIF8") {
        use image::AnimationDecoder;
        let decoder =
            image::codecs::gif::GifDecoder::new(std::io::Cursor::new(bytes)).map_err(err)?;
        let frames = decoder.into_frames().collect_frames().map_err(err)?;
        return Ok(frames
            .into_iter()
            .map(|f| DynamicImage::ImageRgba8(f.into_buffer()).into_luma8())
            .collect());
    }
    let img = image::load_from_memory(bytes).map_err(err)?;
    Ok(vec![img.into_luma8()])
}

fn hints() -> DecodeHints {
    DecodeHints {
        TryHarder: Some(true),
        PossibleFormats: Some([BarcodeFormat::QR_CODE].into_iter().collect()),
        // Byte segments without an ECI: take them as ISO-8859-1, byte for
        // byte, never a charset guess (which could pick Shift_JIS).
        CharacterSet: Some("ISO-8859-1".into()),
        ..DecodeHints::default()
    }
}

fn detect(img: &GrayImage, hints: &mut DecodeHints) -> Option<rxing::RXingResult> {
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return None;
    }
    // rxing is a large port of ZXing; should it ever panic on a hostile
    // image, treat that image as holding no code rather than aborting.
    let luma = img.as_raw().clone();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rxing::helpers::detect_in_luma_with_hints(luma, w, h, Some(BarcodeFormat::QR_CODE), hints)
            .ok()
    }))
    .ok()
    .flatten()
}

/// Decodes one grayscale image; `None` if it holds no readable code.
/// Tries the image as it is, then inverted (light-on-dark screens), then
/// rescaled (large photos down to a workable size, small ones up).
pub fn decode_luma(img: &GrayImage) -> Option<Vec<u8>> {
    let mut h = hints();
    if let Some(r) = detect(img, &mut h) {
        return Some(content_bytes(&r));
    }
    let (w, hgt) = img.dimensions();
    let longest = w.max(hgt);
    let mut variants = Vec::new();
    if longest > 1600 {
        let scale = 1200.0 / longest as f32;
        variants.push(image::imageops::resize(
            img,
            (w as f32 * scale) as u32,
            (hgt as f32 * scale) as u32,
            image::imageops::FilterType::Triangle,
        ));
    } else if longest < 500 {
        variants.push(image::imageops::resize(
            img,
            w * 2,
            hgt * 2,
            image::imageops::FilterType::CatmullRom,
        ));
    }
    let mut inverted = img.clone();
    image::imageops::invert(&mut inverted);
    variants.push(inverted);
    variants.push(image::imageops::blur(img, 1.0));
    variants
        .iter()
        .find_map(|v| detect(v, &mut hints()).map(|r| content_bytes(&r)))
}

/// The exact bytes a code carries. Byte-mode segments are decoded as
/// ISO-8859-1 (see [`hints`]), which maps each byte to the code point of
/// the same value, so the text maps back to the bytes one for one; text
/// from an ECI segment in another charset comes back as its UTF-8.
fn content_bytes(result: &rxing::RXingResult) -> Vec<u8> {
    let text = result.getText();
    if text.chars().all(|c| (c as u32) <= 0xFF) {
        text.chars().map(|c| c as u32 as u8).collect()
    } else {
        text.as_bytes().to_vec()
    }
}
