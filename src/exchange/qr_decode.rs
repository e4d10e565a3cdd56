//! Reads QR codes from images with rxing, which survives real photos
//! (blur, noise, rotation, perspective) far better than the alternatives.

use std::borrow::Cow;

use image::GrayImage;
use rxing::{BarcodeFormat, DecodeHints};

use super::error::{ExchangeError, Result};
use crate::limits::{self, ImageLimits};

/// Whether `bytes` start like an image locksmith reads (PNG, JPEG, GIF).
pub fn is_image(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x89PNG\r\n\x1a\n")
        || bytes.starts_with(&[0xff, 0xd8, 0xff])
        || bytes.starts_with(b"GIF8")
}

/// Decodes every frame of an image file (one for PNG/JPEG, each frame of
/// an animated GIF) and returns the contents of every code found, frame by
/// frame (an image may hold several codes). Errors if no frame holds one.
///
/// Dimensions, pixel counts, frame counts and decoder allocations are
/// checked against [`crate::limits`] before anything large is allocated;
/// GIF frames are decoded one at a time.
pub fn decode_image_file(bytes: &[u8], input: &str) -> Result<Vec<Vec<u8>>> {
    let mut found = Vec::new();
    if bytes.starts_with(b"GIF8") {
        for_each_gif_frame(bytes, input, |frame| {
            found.extend(decode_all_codes(frame));
        })?;
    } else {
        found.extend(decode_all_codes(&load_still(bytes, input)?));
    }
    if found.is_empty() {
        return Err(ExchangeError::QrNotFound {
            input: input.into(),
        });
    }
    Ok(found)
}

fn image_error(input: &str, reason: impl std::fmt::Display) -> ExchangeError {
    ExchangeError::ImageRead {
        input: input.into(),
        reason: reason.to_string(),
    }
}

/// Refuses dimensions over the limits' side or pixel count
/// ([`limits::MAX_IMAGE_SIDE`], [`limits::MAX_IMAGE_PIXELS`] by default).
fn check_dimensions(
    width: u32,
    height: u32,
    what: &str,
    input: &str,
    caps: &ImageLimits,
) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if width > caps.side || height > caps.side || pixels > caps.pixels {
        return Err(ExchangeError::ImageTooLarge {
            input: input.into(),
            reason: format!(
                "{what} is {width} x {height} pixels; locksmith decodes at most {} pixels a side and {} pixels in all",
                caps.side, caps.pixels
            ),
        });
    }
    Ok(())
}

fn decoder_limits(caps: &ImageLimits) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(caps.side);
    l.max_image_height = Some(caps.side);
    l.max_alloc = Some(caps.alloc);
    l
}

/// A PNG or JPEG, as grayscale, after its header passed the default
/// limits.
pub fn load_still(bytes: &[u8], input: &str) -> Result<GrayImage> {
    load_still_within(bytes, input, &ImageLimits::DEFAULT)
}

/// [`load_still`] under the given caps (public for the `image_limits` fuzz
/// target, which runs it under small ones).
pub fn load_still_within(bytes: &[u8], input: &str, caps: &ImageLimits) -> Result<GrayImage> {
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| image_error(input, e))
    };
    let (w, h) = reader()?
        .into_dimensions()
        .map_err(|e| image_error(input, e))?;
    check_dimensions(w, h, "the image", input, caps)?;
    check_jpeg_scans(bytes, w, h, input, caps)?;
    let mut r = reader()?;
    r.limits(decoder_limits(caps));
    let img = r.decode().map_err(|e| image_error(input, e))?;
    Ok(img.into_luma8())
}

/// Refuses a JPEG whose scans over its pixels exceed the limits'
/// ([`limits::MAX_JPEG_SCAN_PIXELS`] by default). Scans are counted as start-of-scan
/// markers (`FF DA`): entropy-coded data stuffs every `FF` with `00`, so
/// the pair appears only as a marker or inside a segment's payload (which
/// only overcounts, e.g. an EXIF thumbnail's own scan).
fn check_jpeg_scans(
    bytes: &[u8],
    width: u32,
    height: u32,
    input: &str,
    caps: &ImageLimits,
) -> Result<()> {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Ok(());
    }
    let scans = bytes.windows(2).filter(|w| w == &[0xFF, 0xDA]).count() as u64;
    let pixels = u64::from(width) * u64::from(height);
    if scans.saturating_mul(pixels) > caps.jpeg_scan_pixels {
        return Err(ExchangeError::ImageTooLarge {
            input: input.into(),
            reason: format!(
                "the JPEG has {scans} scans over {width} x {height} pixels; locksmith decodes at most {} scan-pixels (re-save it as a baseline JPEG or a PNG)",
                caps.jpeg_scan_pixels
            ),
        });
    }
    Ok(())
}

/// Decodes a GIF frame by frame onto its logical screen (honouring frame
/// offsets, transparency and disposal) and calls `each` with the screen
/// after every frame, as grayscale. One screen and one frame are held at a
/// time; the screen size, each frame's size, the frame count and the
/// pixels decoded in all are capped (by the default limits).
pub fn for_each_gif_frame(
    bytes: &[u8],
    input: &str,
    each: impl FnMut(&GrayImage),
) -> Result<usize> {
    for_each_gif_frame_within(bytes, input, &ImageLimits::DEFAULT, each)
}

/// [`for_each_gif_frame`] under the given caps (public for the
/// `image_limits` fuzz target).
pub fn for_each_gif_frame_within(
    bytes: &[u8],
    input: &str,
    caps: &ImageLimits,
    mut each: impl FnMut(&GrayImage),
) -> Result<usize> {
    let mut opts = gif::DecodeOptions::new();
    opts.set_color_output(gif::ColorOutput::RGBA);
    if let Some(limit) = std::num::NonZeroU64::new(caps.alloc) {
        opts.set_memory_limit(gif::MemoryLimit::Bytes(limit));
    }
    let mut decoder = opts
        .read_info(std::io::Cursor::new(bytes))
        .map_err(|e| image_error(input, e))?;
    let (sw, sh) = (u32::from(decoder.width()), u32::from(decoder.height()));
    check_dimensions(sw, sh, "the GIF's screen", input, caps)?;
    if sw == 0 || sh == 0 {
        return Err(image_error(input, "the GIF's screen is empty (0 pixels)"));
    }
    let mut screen = GrayImage::from_pixel(sw, sh, image::Luma([255]));
    let (mut frames, mut decoded) = (0usize, 0u64);
    let mut buffer = Vec::new();
    loop {
        let info = match decoder.next_frame_info() {
            Ok(Some(f)) => (f.left, f.top, f.width, f.height, f.dispose),
            Ok(None) => break,
            Err(e) => return Err(image_error(input, format!("frame {}: {e}", frames + 1))),
        };
        let (left, top, fw, fh, dispose) = info;
        frames += 1;
        if frames > caps.gif_frames {
            return Err(ExchangeError::ImageTooLarge {
                input: input.into(),
                reason: format!("the GIF has more than {} frames", caps.gif_frames),
            });
        }
        check_dimensions(
            u32::from(fw),
            u32::from(fh),
            &format!("frame {frames}"),
            input,
            caps,
        )?;
        decoded += u64::from(sw) * u64::from(sh);
        if decoded > caps.animation_pixels {
            return Err(ExchangeError::ImageTooLarge {
                input: input.into(),
                reason: format!(
                    "its frames add up to more than {} pixels",
                    caps.animation_pixels
                ),
            });
        }
        buffer.clear();
        buffer.resize(decoder.buffer_size(), 0);
        decoder
            .read_into_buffer(&mut buffer)
            .map_err(|e| image_error(input, format!("frame {frames}: {e}")))?;
        let saved = (dispose == gif::DisposalMethod::Previous).then(|| screen.clone());
        paint_rgba(&mut screen, &buffer, left, top, fw, fh);
        each(&screen);
        match dispose {
            gif::DisposalMethod::Background => {
                fill_rect(&mut screen, left, top, fw, fh, 255);
            }
            gif::DisposalMethod::Previous => {
                if let Some(s) = saved {
                    screen = s;
                }
            }
            _ => {}
        }
    }
    if frames == 0 {
        return Err(image_error(input, "the GIF has no frames"));
    }
    Ok(frames)
}

/// The rectangle of a frame clipped to the screen.
fn clipped(screen: &GrayImage, left: u16, top: u16, w: u16, h: u16) -> (u32, u32, u32, u32) {
    let (sw, sh) = screen.dimensions();
    let (x0, y0) = (u32::from(left).min(sw), u32::from(top).min(sh));
    let x1 = (u32::from(left) + u32::from(w)).min(sw);
    let y1 = (u32::from(top) + u32::from(h)).min(sh);
    (x0, y0, x1, y1)
}

fn paint_rgba(screen: &mut GrayImage, rgba: &[u8], left: u16, top: u16, w: u16, h: u16) {
    let (x0, y0, x1, y1) = clipped(screen, left, top, w, h);
    for y in y0..y1 {
        for x in x0..x1 {
            let i = (((y - u32::from(top)) * u32::from(w) + (x - u32::from(left))) * 4) as usize;
            let Some(px) = rgba.get(i..i + 4) else {
                continue;
            };
            if px[3] == 0 {
                continue; // transparent: the screen shows through
            }
            // Rec. 709 luma, as `image`'s grayscale conversion.
            let luma = (2126 * u32::from(px[0]) + 7152 * u32::from(px[1]) + 722 * u32::from(px[2]))
                / 10_000;
            screen.put_pixel(x, y, image::Luma([luma as u8]));
        }
    }
}

fn fill_rect(screen: &mut GrayImage, left: u16, top: u16, w: u16, h: u16, value: u8) {
    let (x0, y0, x1, y1) = clipped(screen, left, top, w, h);
    for y in y0..y1 {
        for x in x0..x1 {
            screen.put_pixel(x, y, image::Luma([value]));
        }
    }
}

/// Every code in one image: the one [`decode_luma`] finds (with its
/// retries for photos), plus any other the multi-code detector sees, so
/// that an image holding two different codes is never read as just one.
/// Distinct contents only, at most [`limits::MAX_CODES_PER_IMAGE`].
pub fn decode_all_codes(img: &GrayImage) -> Vec<Vec<u8>> {
    search_image(img).codes
}

/// What the QR search of one image found, and the work it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    /// The distinct contents found (see [`decode_all_codes`]).
    pub codes: Vec<Vec<u8>>,
    /// Pixels handed to rxing over every pass, the multi-code pass
    /// included: at most [`limits::MAX_QR_SEARCH_WORK`].
    pub pixels_searched: u64,
}

/// One pass of the QR search: which copy of the image, at what size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchPass {
    /// Which copy is searched.
    pub kind: PassKind,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
}

impl SearchPass {
    /// Pixels this pass reads.
    pub fn pixels(&self) -> u64 {
        u64::from(self.width) * u64::from(self.height)
    }
}

/// The copies of an image the QR search reads, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PassKind {
    /// The image, reduced to [`limits::MAX_QR_SEARCH_PIXELS`] if larger.
    Image,
    /// Rescaled: large images down to [`limits::QR_RETRY_SIDE`], small
    /// ones up to twice their size.
    Rescaled,
    /// Inverted (light-on-dark screens).
    Inverted,
    /// Blurred (noisy photos, halftone prints).
    Blurred,
}

/// `(width, height)` scaled by `scale`, each side at least 1 pixel.
fn scaled(width: u32, height: u32, scale: f64) -> (u32, u32) {
    let side = |v: u32| ((f64::from(v) * scale) as u32).max(1);
    (side(width), side(height))
}

/// The passes the QR search makes over an image of `width` x `height`
/// pixels, before any retry is skipped for a code found (a pure function
/// of the dimensions, so the work is known from the header):
///
/// 1. the image itself, reduced (aspect kept) to at most
///    [`limits::MAX_QR_SEARCH_PIXELS`];
/// 2. retries on a copy of that: if its longest side is over
///    [`limits::QR_RETRY_ABOVE_SIDE`], rescaled, inverted and blurred at a
///    longest side of [`limits::QR_RETRY_SIDE`]; under 500 pixels,
///    rescaled to twice its size, then inverted and blurred at its size;
///    otherwise inverted and blurred at its size.
///
/// A retry whose shorter side is under [`limits::MIN_QR_SEARCH_SIDE`]
/// cannot hold a code and is left out (a 122 x 11520 strip is searched
/// once, not four times at full size).
pub fn search_plan(width: u32, height: u32) -> Vec<SearchPass> {
    if width == 0 || height == 0 {
        return Vec::new();
    }
    let pixels = u64::from(width) * u64::from(height);
    let (w, h) = if pixels > limits::MAX_QR_SEARCH_PIXELS {
        scaled(
            width,
            height,
            (limits::MAX_QR_SEARCH_PIXELS as f64 / pixels as f64).sqrt(),
        )
    } else {
        (width, height)
    };
    let pass = |kind, (width, height): (u32, u32)| SearchPass {
        kind,
        width,
        height,
    };
    let mut plan = vec![pass(PassKind::Image, (w, h))];
    let longest = w.max(h);
    let retries = if longest > limits::QR_RETRY_ABOVE_SIDE {
        let size = scaled(w, h, f64::from(limits::QR_RETRY_SIDE) / f64::from(longest));
        [
            pass(PassKind::Rescaled, size),
            pass(PassKind::Inverted, size),
            pass(PassKind::Blurred, size),
        ]
        .to_vec()
    } else if longest < 500 {
        [
            pass(PassKind::Rescaled, (w * 2, h * 2)),
            pass(PassKind::Inverted, (w, h)),
            pass(PassKind::Blurred, (w, h)),
        ]
        .to_vec()
    } else {
        [
            pass(PassKind::Inverted, (w, h)),
            pass(PassKind::Blurred, (w, h)),
        ]
        .to_vec()
    };
    plan.extend(
        retries
            .into_iter()
            .filter(|p| p.width.min(p.height) >= limits::MIN_QR_SEARCH_SIDE),
    );
    plan
}

/// `img` at `width` x `height` (borrowed when it already is that size).
fn resized(img: &GrayImage, width: u32, height: u32) -> Cow<'_, GrayImage> {
    if img.dimensions() == (width, height) {
        return Cow::Borrowed(img);
    }
    let filter = if width > img.width() {
        image::imageops::FilterType::CatmullRom
    } else {
        image::imageops::FilterType::Triangle
    };
    Cow::Owned(image::imageops::resize(img, width, height, filter))
}

/// The first code [`search_plan`]'s passes find, and the image as the
/// first pass read it (reduced if very large; the multi-code pass reads
/// it too).
fn first_code<'a>(
    img: &'a GrayImage,
    work: &mut u64,
) -> (Option<Vec<u8>>, Option<Cow<'a, GrayImage>>) {
    let plan = search_plan(img.width(), img.height());
    let Some(first) = plan.first() else {
        return (None, None);
    };
    let base = resized(img, first.width, first.height);
    for p in &plan {
        let source = resized(&base, p.width, p.height);
        let copy = match p.kind {
            PassKind::Image | PassKind::Rescaled => source,
            PassKind::Inverted => {
                let mut inverted = source.into_owned();
                image::imageops::invert(&mut inverted);
                Cow::Owned(inverted)
            }
            PassKind::Blurred => Cow::Owned(image::imageops::blur(&*source, 1.0)),
        };
        *work += p.pixels();
        let found = detect(&copy, &mut hints()).map(|r| content_bytes(&r));
        drop(copy);
        if found.is_some() {
            return (found, Some(base));
        }
    }
    (None, Some(base))
}

/// Searches one image for codes (see [`decode_all_codes`]) and counts the
/// pixels read: the passes of [`search_plan`] until one finds a code, then
/// the multi-code detector over the image (reduced as in the first pass).
pub fn search_image(img: &GrayImage) -> Search {
    let mut work = 0u64;
    let (first, base) = first_code(img, &mut work);
    let (Some(first), Some(base)) = (first, base) else {
        return Search {
            codes: Vec::new(),
            pixels_searched: work,
        };
    };
    let mut codes = vec![first];
    work += u64::from(base.width()) * u64::from(base.height());
    for c in detect_multiple(&base) {
        if codes.len() >= limits::MAX_CODES_PER_IMAGE {
            break;
        }
        if !codes.contains(&c) {
            codes.push(c);
        }
    }
    Search {
        codes,
        pixels_searched: work,
    }
}

fn detect_multiple(img: &GrayImage) -> Vec<Vec<u8>> {
    use rxing::multi::{qrcode::QRCodeMultiReader, MultipleBarcodeReader};
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 {
        return Vec::new();
    }
    let luma = img.as_raw().clone();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let source = rxing::Luma8LuminanceSource::new(luma, w, h).ok()?;
        let mut bitmap = rxing::BinaryBitmap::new(rxing::common::HybridBinarizer::new(source));
        let mut reader = QRCodeMultiReader::new();
        reader
            .decode_multiple_with_hints(&mut bitmap, &hints())
            .ok()
    }))
    .ok()
    .flatten()
    .map(|rs| rs.iter().map(content_bytes).collect())
    .unwrap_or_default()
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
/// Tries the passes of [`search_plan`] in order: the image as it is
/// (reduced if very large), then rescaled (large photos down to a workable
/// size, small ones up), inverted (light-on-dark screens) and blurred.
pub fn decode_luma(img: &GrayImage) -> Option<Vec<u8>> {
    first_code(img, &mut 0).0
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
