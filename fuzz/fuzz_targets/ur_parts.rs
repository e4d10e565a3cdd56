//! UR parts as QR codes deliver them (`artifact_from_qr_contents`, the
//! path every `--qr-in` image set takes): each line is one scanned code,
//! in any order, duplicated, from several sequences, mixed with spare
//! pages (`ur:locksmith-spare`) and single codes. Never a panic; an
//! artifact comes only out of a checksum-verified reassembly or a single
//! code. Spare pages that parse re-encode to themselves, and `ur:bytes`
//! messages unwrap or are refused.
#![no_main]
use libfuzzer_sys::fuzz_target;
use locksmith::exchange::artifact_from_qr_contents;
use locksmith::exchange::multipart::{message_payload, ur_type_of};
use locksmith::exchange::spare_pages::SparePage;

fuzz_target!(|data: &[u8]| {
    let contents: Vec<(String, Vec<u8>)> = data
        .split(|&b| b == b'\n')
        .enumerate()
        .map(|(i, line)| (format!("frame {i}"), line.to_vec()))
        .collect();
    for (name, bytes) in &contents {
        let Ok(text) = std::str::from_utf8(bytes) else { continue };
        if let Ok(spare) = SparePage::from_ur(text, name) {
            let again = SparePage::from_ur(&spare.to_ur(), name)
                .unwrap_or_else(|e| panic!("a parsed spare page does not re-parse: {e}"));
            assert_eq!(again, spare);
        }
        if let Some(ty) = ur_type_of(text) {
            let _ = message_payload(&ty, bytes.clone(), name);
        }
    }
    let mut seen = 0usize;
    let mut progress = |_: &locksmith::exchange::Progress| seen += 1;
    let _ = artifact_from_qr_contents(contents, Some(&mut progress));
});
