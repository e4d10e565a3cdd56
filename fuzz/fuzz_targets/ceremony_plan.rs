//! Ceremony plans (`Plan::parse`, TOML with size and depth caps): any text
//! is a checked plan or an error that names the plan; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::ceremony_plan::Plan;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(e) = Plan::parse("fuzz plan", text) {
        assert!(e.to_string().contains("fuzz plan"), "{e}");
    }
});
