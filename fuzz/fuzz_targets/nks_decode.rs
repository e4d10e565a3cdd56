//! The node-key signature decoder and the authorization check.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::tka::nks::{node_key_authorized, NodeKeySignature};
use locksmith::tka::{Key, State};

fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = NodeKeySignature::decode(data) {
        let bytes = sig.serialize();
        let again = NodeKeySignature::decode(&bytes).expect("a serialization always decodes");
        assert_eq!(again.serialize(), bytes);
        let _ = sig.rotation_details();
        let _ = sig.sig_hash();
    }
    let state = State { keys: Some(vec![Key::ed25519([1; 32], 1)]), ..Default::default() };
    let _ = node_key_authorized(&state, &[2; 32], data);
});
