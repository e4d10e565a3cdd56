//! QR images as `--qr-in` and `exchange decode` read them (PNG, JPEG, GIF
//! through the dimension, pixel, frame and allocation limits of
//! `crate::limits`, then rxing): any bytes give the codes found or an
//! error that names the input; never a panic, an abort or an allocation
//! over the limits (libFuzzer's -rss_limit_mb catches those).
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::exchange::qr_decode::{decode_image_file, is_image};

fuzz_target!(|data: &[u8]| {
    if !is_image(data) {
        return;
    }
    match decode_image_file(data, "fuzz input") {
        Ok(codes) => assert!(!codes.is_empty(), "Ok with no code"),
        Err(e) => assert!(e.to_string().contains("fuzz input"), "{e}"),
    }
});
