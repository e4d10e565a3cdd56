//! The store's AUM pack decoder (src/store/pack.rs), as `lock status
//! --chain STORE/aums` and every store load read it: under its own name
//! (so that the records are reached) and under a wrong one (refused).
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::store::pack;
use locksmith::tka::Aum;

fuzz_target!(|data: &[u8]| {
    let name = pack::file_name(data);
    let stem = name.strip_suffix(".pack").unwrap_or(&name);
    if let Ok(records) = pack::decode(stem, data) {
        let again = pack::encode(records.iter().copied());
        assert_eq!(again, data, "a decoded pack encodes to the same bytes");
        for r in records {
            let _ = Aum::decode(r);
        }
    }
    // Under another name (no input hashes to all zeros): refused.
    assert!(pack::decode(&"0".repeat(64), data).is_err());
});
