//! Deeplink validation: never panics; a link it makes validates.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::tka::deeplink;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = deeplink::validate(7, text);
        let _ = deeplink::validate_fields(text);
    }
});
