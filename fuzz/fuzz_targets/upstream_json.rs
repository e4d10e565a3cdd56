//! `tailscale lock log|status --json=1` parsing and input detection.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::tka::upstream_json;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = upstream_json::parse_log(text);
        let _ = upstream_json::parse_status(text);
        let _ = upstream_json::looks_like_log(text);
    }
    let input = locksmith::input::Input::from_bytes("fuzz", data.to_vec());
    let _ = locksmith::input::identify(&input);
});
