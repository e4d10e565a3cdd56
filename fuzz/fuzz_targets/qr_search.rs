//! The QR search alone (`qr_decode::search_image`, rxing with locksmith's
//! retries and multi-code pass) on small grayscale images built from the
//! input, so that rxing's finder, sampler and bit-stream decoder are
//! fuzzed at speed (`qr_image` runs the whole image path, decoding
//! included, at about 50 executions a second).
//!
//! Input: `[n - 21, scale - 1, module bits...]`: a square of
//! `21 + input[0] % 37` modules a side (QR versions 1 to 10), each module
//! `1 + input[1] % 4` pixels, the bits row by row (most significant first,
//! missing bits light), inside a quiet zone of 4 modules: at most 260 x
//! 260 pixels. Seeds in fuzz/corpus/qr_search are real codes in this form.
//!
//! Any image gives at most `MAX_CODES_PER_IMAGE` distinct contents, found
//! within `MAX_QR_SEARCH_WORK` pixels; never a panic (libFuzzer's panic
//! hook aborts even where `qr_decode` would catch an rxing panic, so a
//! panic inside rxing shows up here as a crash).
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::exchange::qr_decode::search_image;
use locksmith::limits::{MAX_CODES_PER_IMAGE, MAX_QR_SEARCH_WORK};

const QUIET: u32 = 4;

fn image_of(data: &[u8]) -> Option<image::GrayImage> {
    let (&n, rest) = data.split_first()?;
    let (&scale, bits) = rest.split_first()?;
    let n = 21 + u32::from(n) % 37;
    let scale = 1 + u32::from(scale) % 4;
    let side = (n + 2 * QUIET) * scale;
    let mut img = image::GrayImage::from_pixel(side, side, image::Luma([255]));
    for my in 0..n {
        for mx in 0..n {
            let i = (my * n + mx) as usize;
            let dark = bits.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0);
            if !dark {
                continue;
            }
            for y in 0..scale {
                for x in 0..scale {
                    img.put_pixel(
                        (mx + QUIET) * scale + x,
                        (my + QUIET) * scale + y,
                        image::Luma([0]),
                    );
                }
            }
        }
    }
    Some(img)
}

fuzz_target!(|data: &[u8]| {
    let Some(img) = image_of(data) else {
        return;
    };
    let found = search_image(&img);
    assert!(found.codes.len() <= MAX_CODES_PER_IMAGE);
    assert!(found.pixels_searched <= MAX_QR_SEARCH_WORK);
    for (i, c) in found.codes.iter().enumerate() {
        assert!(!found.codes[..i].contains(c), "a content found twice");
    }
});
