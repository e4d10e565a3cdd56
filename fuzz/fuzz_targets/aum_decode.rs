//! The AUM decoder: never panics; whatever it accepts re-serializes to a
//! fixed point, and static validation and hashing never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::tka::Aum;

fuzz_target!(|data: &[u8]| {
    if let Ok(aum) = Aum::decode(data) {
        let bytes = aum.serialize();
        let again = Aum::decode(&bytes).expect("a serialization always decodes");
        assert_eq!(again.serialize(), bytes, "serialization is canonical");
        let _ = aum.static_validate();
        let _ = (aum.hash(), aum.sig_hash());
        if aum.kind == locksmith::tka::AumKind::CHECKPOINT {
            let _ = locksmith::tka::Authority::bootstrap(aum);
        }
    }
});
