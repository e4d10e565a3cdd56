//! The exchange reader's form detection (`parse_artifact`: envelope, UR,
//! hex, base64, raw CBOR, JSON, known text) and the node-export payload:
//! any bytes are one artifact or an error that names the input; never a
//! panic. An artifact's kind-specific payload decoders run on what comes
//! out, as the commands that consume it would.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::exchange::raw_forms::decode_text_encoding;
use locksmith::exchange::{parse_artifact, ArtifactKind, NodeExport};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = decode_text_encoding(text);
    }
    let _ = NodeExport::from_bytes(data, "fuzz input");
    match parse_artifact(data, "fuzz input") {
        Ok(art) => {
            if art.kind == ArtifactKind::NodeExport {
                let _ = NodeExport::from_bytes(&art.payload, "fuzz input");
            }
            let _ = art.to_envelope().to_bytes();
        }
        Err(e) => assert!(e.to_string().contains("fuzz input"), "{e}"),
    }
});
