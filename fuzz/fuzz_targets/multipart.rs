//! Multi-part QR reassembly: any sequence of scanned parts (hostile,
//! duplicated, from other sequences) never panics, and whatever completes
//! is returned only through the checksum-verified `finish`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::exchange::Reassembler;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut r = Reassembler::new();
    for part in text.split('\n') {
        let _ = r.push(part, "fuzz");
        if r.is_complete() {
            let _ = r.finish("fuzz");
            break;
        }
    }
    let _ = r.progress();
    let _ = locksmith::exchange::multipart::decode_single_ur(text, "fuzz");
});
