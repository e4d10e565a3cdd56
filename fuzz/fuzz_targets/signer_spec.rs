//! The signer spec parser (pkcs11: RFC 7512 URIs, yubikey:, file:) and
//! percent-encoding: never panics; what parses renders back to a URI that
//! parses to the same selection; percent-encoding round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::signers::spec::{parse_slot, pct_decode, pct_encode, SignerSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_slot(text);
    if let Ok(bytes) = pct_decode(text) {
        let encoded = pct_encode(&bytes);
        assert_eq!(
            pct_decode(&encoded).expect("pct_encode output decodes"),
            bytes
        );
    }
    if let Ok(SignerSpec::Pkcs11(uri)) = SignerSpec::parse(text) {
        let rendered = uri.to_uri();
        // No pin-value attribute (a label may contain the text "pin-value",
        // but '=' inside values is percent-encoded).
        assert!(!rendered.contains("pin-value="), "{rendered:?}");
        match SignerSpec::parse(&rendered) {
            Ok(SignerSpec::Pkcs11(again)) => {
                assert_eq!(again.token, uri.token);
                assert_eq!(again.serial, uri.serial);
                assert_eq!(again.object, uri.object);
                assert_eq!(again.id, uri.id);
                assert_eq!(again.module_path, uri.module_path);
            }
            other => panic!("{rendered:?} does not parse back: {other:?}"),
        }
    }
});
