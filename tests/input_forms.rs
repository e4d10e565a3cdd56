//! Every lock/inspect input goes through one decoder: the exchange forms
//! (envelope, single-part UR, a QR image file) are read by `locksmith::input`
//! exactly like a raw AUM file.

use locksmith::exchange::{multipart, qr_render, ArtifactKind, Ecc, Envelope, QrMatrix};
use locksmith::input::{identify, read_aum, Artifact, Encoding, Input};
use std::path::PathBuf;

fn sample(rel: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/upstream/samples")
        .join(rel)
        .display()
        .to_string()
}

fn recovery_envelope() -> (Vec<u8>, Vec<u8>) {
    let aum = read_aum(&sample("recovery-1sig.aum")).expect("sample AUM");
    let cbor = aum.serialize();
    let env = Envelope::new(ArtifactKind::Aum, cbor.clone()).to_bytes();
    (cbor, env)
}

#[test]
fn a_single_part_ur_is_read_like_the_aum_it_carries() {
    let (cbor, env) = recovery_envelope();
    let ur = multipart::encode_single(&env).expect("UR");
    let input = Input::read(&ur).expect("inline UR");
    let (encoding, artifact) = identify(&input).expect("identified");
    assert_eq!(encoding, Encoding::Ur);
    let Artifact::Aum(aum) = artifact else {
        panic!("expected an AUM, got {artifact:?}")
    };
    assert_eq!(aum.serialize(), cbor);
}

#[test]
fn a_qr_image_file_is_decoded_without_qr_in() {
    let (cbor, env) = recovery_envelope();
    let matrix = QrMatrix::encode(&env, Ecc::M).expect("fits one code");
    let png = qr_render::render_png(&matrix, 4, 4).expect("png");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("recovery.png");
    std::fs::write(&path, png).expect("write");
    let aum = read_aum(&path.display().to_string()).expect("decoded from the image");
    assert_eq!(aum.serialize(), cbor);
}

#[test]
fn a_multi_part_ur_given_alone_says_what_to_do() {
    let (_, env) = recovery_envelope();
    let parts =
        multipart::encode_parts(&env, 40, multipart::fragment_count(env.len(), 40)).expect("parts");
    let input = Input::read(&parts[0]).expect("inline");
    let err = identify(&input).expect_err("one part is not enough");
    assert!(err.to_string().contains("pass all the parts"), "{err}");
}
