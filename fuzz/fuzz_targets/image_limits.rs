//! Image decoding through the limits alone, without the (slow) QR search:
//! a PNG or JPEG through `load_still_within`, a GIF frame by frame through
//! `for_each_gif_frame_within`, the functions `--qr-in` and `exchange
//! decode` call with `ImageLimits::DEFAULT`.
//!
//! Run under small caps (`FUZZ_CAPS`, a 256 x 256 image): the same header
//! checks and the same decoders, but an input cannot make one execution
//! decode tens of megapixels, which the real caps allow by design and
//! which held earlier campaigns to 40–120 executions a second. The real
//! caps' values are tested in tests/exchange_limits.rs.
//!
//! Any bytes give an image within the caps or an error that names the
//! input; never a panic, an abort or an allocation over the caps
//! (libFuzzer's -rss_limit_mb catches those). `qr_image` runs the whole
//! path with the real caps, including rxing, at a fraction of the speed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::exchange::qr_decode::{for_each_gif_frame_within, is_image, load_still_within};
use locksmith::limits::ImageLimits;

const FUZZ_CAPS: ImageLimits = ImageLimits {
    side: 1024,
    pixels: 65_536,
    alloc: 16 * 1024 * 1024,
    jpeg_scan_pixels: 1_000_000,
    gif_frames: 64,
    animation_pixels: 1_000_000,
};

fuzz_target!(|data: &[u8]| {
    if !is_image(data) {
        return;
    }
    let caps = &FUZZ_CAPS;
    let result = if data.starts_with(b"GIF8") {
        let mut seen = 0usize;
        for_each_gif_frame_within(data, "fuzz input", caps, |screen| {
            seen += 1;
            assert!(u64::from(screen.width()) * u64::from(screen.height()) <= caps.pixels);
        })
        .map(|frames| {
            assert!(frames <= caps.gif_frames && seen <= caps.gif_frames);
        })
    } else {
        load_still_within(data, "fuzz input", caps).map(|img| {
            assert!(u64::from(img.width()) * u64::from(img.height()) <= caps.pixels);
            assert!(img.width() <= caps.side && img.height() <= caps.side);
        })
    };
    if let Err(e) = result {
        assert!(e.to_string().contains("fuzz input"), "{e}");
    }
});
