//! Transcript verification (`transcript::verify_bytes`: JSON lines with
//! size, line and depth caps, hash links, numbering, signatures): any
//! bytes are verified records or an error that names the transcript;
//! never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::transcript::verify_bytes;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = verify_bytes("fuzz transcript", data, None) {
        assert!(e.to_string().contains("fuzz transcript"), "{e}");
    }
});
