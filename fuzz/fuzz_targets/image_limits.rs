//! Image decoding through the limits alone, without the (slow) QR search:
//! a PNG or JPEG through `load_still`, a GIF frame by frame through
//! `for_each_gif_frame`, as `--qr-in` and `exchange decode` decode them.
//! Any bytes give an image within `locksmith::limits` or an error that
//! names the input; never a panic, an abort or an allocation over the caps
//! (libFuzzer's -rss_limit_mb catches those). `qr_image` runs the whole
//! path including rxing, at a fraction of the speed.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::exchange::qr_decode::{for_each_gif_frame, is_image, load_still};
use locksmith::limits::{MAX_GIF_FRAMES, MAX_IMAGE_PIXELS};

fuzz_target!(|data: &[u8]| {
    if !is_image(data) {
        return;
    }
    let result = if data.starts_with(b"GIF8") {
        let mut seen = 0usize;
        for_each_gif_frame(data, "fuzz input", |screen| {
            seen += 1;
            assert!(u64::from(screen.width()) * u64::from(screen.height()) <= MAX_IMAGE_PIXELS);
        })
        .map(|frames| {
            assert!(frames <= MAX_GIF_FRAMES && seen <= MAX_GIF_FRAMES);
        })
    } else {
        load_still(data, "fuzz input").map(|img| {
            assert!(u64::from(img.width()) * u64::from(img.height()) <= MAX_IMAGE_PIXELS);
        })
    };
    if let Err(e) = result {
        assert!(e.to_string().contains("fuzz input"), "{e}");
    }
});
