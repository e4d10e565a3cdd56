//! The exchange envelope decoder (`Envelope::from_bytes`): any bytes are a
//! verified envelope or an error that names the input; never a panic. An
//! envelope that decodes re-encodes to bytes that decode to the same
//! envelope (what the offline machine shows is what it re-emits).
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::exchange::{is_envelope, Envelope};

fuzz_target!(|data: &[u8]| {
    let _ = is_envelope(data);
    match Envelope::from_bytes(data, "fuzz input") {
        Ok(env) => {
            let again = Envelope::from_bytes(&env.to_bytes(), "re-encoded")
                .unwrap_or_else(|e| panic!("a decoded envelope does not re-decode: {e}"));
            assert_eq!(again, env, "re-encoding changed the envelope");
        }
        Err(e) => assert!(e.to_string().contains("fuzz input"), "{e}"),
    }
});
