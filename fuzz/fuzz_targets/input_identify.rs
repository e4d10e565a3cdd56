//! Artifact detection (`locksmith::input::identify`): any bytes, as a file
//! or as standard input would give them, are identified or refused with an
//! error that names the input; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::input::{artifact_name, identify, Input};

fuzz_target!(|data: &[u8]| {
    let input = Input::from_bytes("fuzz input", data.to_vec());
    match identify(&input) {
        Ok((encoding, artifact)) => {
            let _ = encoding.name();
            let _ = artifact_name(&artifact);
        }
        Err(e) => assert!(e.to_string().contains("fuzz input"), "{e}"),
    }
});
