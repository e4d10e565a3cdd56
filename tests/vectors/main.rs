//! Upstream's test vectors (tests/data/upstream/vectors), every file and every case.
//!
//! Each vector file has one test module here. `every_vector_file_is_consumed`
//! fails when a file appears that no module reads, and each module counts
//! the cases it checked against the file's own count, so nothing is skipped
//! silently.

mod desc;
mod harness;

mod aum_decoding;
mod aum_serialization;
mod chain_scenarios;
mod deeplink;
mod nks;
mod recovery;
mod small_files;
mod wrapped_authkey;

use harness::vectors_dir;

/// The vector files this suite reads, and the module that reads each.
const CONSUMED: &[&str] = &[
    "aum_decoding.json",
    "aum_serialization.json",
    "chain_scenarios.json",
    "deeplink.json",
    "wrapped_authkey.json",
    "disablement_kdf.json",
    "key_forms.json",
    "nks.json",
    "recovery.json",
    "signature_semantics.json",
];

#[test]
fn every_vector_file_is_consumed() {
    let dir = vectors_dir();
    let mut found = Vec::new();
    for entry in
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
    {
        let name = entry
            .expect("directory entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".json") {
            found.push(name);
        }
    }
    found.sort();
    assert!(!found.is_empty(), "no vector files in {}", dir.display());
    for name in &found {
        assert!(
            CONSUMED.contains(&name.as_str()),
            "vector file {name} is not consumed by any test"
        );
    }
}
