//! What independent decoders and renderers showed (issue 13, "Exchange"):
//! standard `ur:bytes` URs are unwrapped to their payload and foreign UR
//! types refused by name; printed sets with S spare pages survive ANY S
//! lost pages; an image holding two different codes is refused; SVG codes
//! read back after rendering with two independent renderers.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/env.rs"]
mod env;

use image::{GrayImage, Luma};
use locksmith::exchange::qr_out::{plan, render, static_set_texts, QrRendered};
use locksmith::exchange::qr_render::{render_luma, render_svg, STANDARD_QUIET_ZONE};
use locksmith::exchange::{
    artifact_from_qr_contents, parse_artifact, ArtifactKind, Ecc, Envelope, ExchangeError,
    InputForm, QrContent, QrFormat, QrMatrix, QrOptions,
};
use proptest::prelude::*;

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/samples")
}

/// bc-ur's `UR.fromBuffer(buf)`: the message is `buf` as a CBOR byte string.
fn cbor_byte_string(payload: &[u8]) -> Vec<u8> {
    let n = payload.len();
    let mut out = match n {
        0..=23 => vec![0x40 | n as u8],
        24..=0xff => vec![0x58, n as u8],
        0x100..=0xffff => vec![0x59, (n >> 8) as u8, n as u8],
        _ => {
            let mut h = vec![0x5a];
            h.extend_from_slice(&(n as u32).to_be_bytes());
            h
        }
    };
    out.extend_from_slice(payload);
    out
}

#[test]
fn ur_bytes_single_part_is_unwrapped_to_the_artifact() {
    let file = std::fs::read(samples().join("recovery-1sig.aum")).expect("sample");
    let aum = parse_artifact(&file, "sample").expect("sample").payload;
    let env = Envelope::new(ArtifactKind::RecoveryAum, aum.clone()).to_bytes();
    for (payload, kind) in [
        (env, ArtifactKind::RecoveryAum),
        (aum.clone(), ArtifactKind::Aum),
    ] {
        let text = ur::ur::encode(&cbor_byte_string(&payload), &ur::Type::Bytes);
        for t in [text.clone(), text.to_ascii_uppercase()] {
            let art = parse_artifact(t.as_bytes(), "ur:bytes").expect("reads");
            assert!(art.payload == aum, "exact artifact bytes, no CBOR head");
            assert_eq!(art.kind, kind);
        }
    }
}

#[test]
fn ur_bytes_multi_part_is_unwrapped_to_the_artifact() {
    let file = std::fs::read(samples().join("lock-log.json")).expect("sample");
    let log = parse_artifact(&file, "sample").expect("sample").payload;
    let message = cbor_byte_string(&log);
    let mut enc = ur::Encoder::bytes(&message, 200).expect("encoder");
    let frames: Vec<(String, Vec<u8>)> = (0..enc.fragment_count() + 3)
        .map(|i| (format!("f{i}"), enc.next_part().expect("part").into_bytes()))
        .collect();
    let art = artifact_from_qr_contents(frames, None).expect("reassembles");
    assert!(art.payload == log, "exact artifact bytes");
    assert_eq!(art.kind, ArtifactKind::ChainExport);
}

#[test]
fn ur_bytes_that_is_not_a_byte_string_is_refused() {
    // A CBOR text string and a byte string with a wrong length.
    for message in [vec![0x64, b'a', b'b', b'c', b'd'], vec![0x45, 1, 2, 3]] {
        let text = ur::ur::encode(&message, &ur::Type::Bytes);
        let err = parse_artifact(text.as_bytes(), "bad").expect_err("refused");
        assert!(err.to_string().contains("CBOR byte string"), "{err}");
    }
}

#[test]
fn foreign_ur_types_are_refused_by_name() {
    let text = ur::ur::encode(&[0xa1, 1, 2], &ur::Type::Custom("crypto-psbt"));
    let err = parse_artifact(text.as_bytes(), "psbt").expect_err("refused");
    assert!(
        matches!(err, ExchangeError::UnsupportedUrType { ref ur_type, .. } if ur_type == "crypto-psbt"),
        "{err}"
    );
    let mut enc = ur::Encoder::new(&[7u8; 500], 100, "crypto-psbt").expect("encoder");
    let frames: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("f{i}"), enc.next_part().expect("part").into_bytes()))
        .collect();
    let err = artifact_from_qr_contents(frames, None).expect_err("refused");
    assert!(err.to_string().contains("ur:crypto-psbt"), "{err}");
}

/// Reassembles a static set from the pages not in `lost`.
fn reassemble_without(texts: &[String], lost: &[usize]) -> Result<Vec<u8>, ExchangeError> {
    let frames: Vec<(String, Vec<u8>)> = texts
        .iter()
        .enumerate()
        .filter(|(i, _)| !lost.contains(i))
        .map(|(i, t)| (format!("page {}", i + 1), t.clone().into_bytes()))
        .collect();
    artifact_from_qr_contents(frames, None).map(|a| a.payload)
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// Every subset of at most S lost pages (data or spare) recovers, for
/// small sets exhaustively; one more lost page is a clear error.
#[test]
fn any_s_lost_pages_recover_exhaustively() {
    for (parts, spares) in [(1usize, 1usize), (3, 2), (5, 3), (7, 4)] {
        let body = payload(parts * 100 - 30, parts as u8);
        let env = Envelope::new(ArtifactKind::ChainExport, body.clone());
        let message = env.to_bytes();
        let frag = message.len().div_ceil(parts);
        let texts = static_set_texts(&message, frag, spares).expect("texts");
        assert_eq!(texts.len(), parts + spares);
        assert!(texts[parts..]
            .iter()
            .all(|t| t.starts_with("UR:LOCKSMITH-SPARE/")));
        let pages = parts + spares;
        let mut checked = 0;
        for mask in 0u32..(1 << pages) {
            let lost: Vec<usize> = (0..pages).filter(|i| mask & (1 << i) != 0).collect();
            let result = reassemble_without(&texts, &lost);
            if lost.len() <= spares {
                assert_eq!(
                    result.expect("recovers"),
                    body,
                    "{parts}+{spares}, lost {lost:?}"
                );
                checked += 1;
            } else if lost.len() == spares + 1 && lost.iter().all(|i| *i < parts) {
                let err = result.expect_err("too many lost");
                assert!(
                    matches!(err, ExchangeError::Incomplete { .. }),
                    "{parts}+{spares}, lost {lost:?}: {err}"
                );
            }
        }
        assert!(checked > 0);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]
    /// The case from the issue: 39 pages and 11 spares. Any 11 (or fewer)
    /// lost pages recover.
    #[test]
    fn any_s_of_39_plus_11_lost_pages_recover(
        lost in proptest::sample::subsequence((0..50usize).collect::<Vec<_>>(), 0..=11),
    ) {
        let body = payload(39 * 180 - 40, 9);
        let message = Envelope::new(ArtifactKind::ChainExport, body.clone()).to_bytes();
        let frag = message.len().div_ceil(39);
        let texts = static_set_texts(&message, frag, 11).expect("texts");
        prop_assert_eq!(texts.len(), 50);
        prop_assert_eq!(reassemble_without(&texts, &lost).expect("recovers"), body);
    }
}

/// Rendered end to end: a PNG directory with two spare pages, two pages
/// deleted, still decodes; the captions say what holds.
#[test]
fn spare_pages_through_rendered_frames() {
    let env = Envelope::new(ArtifactKind::ChainExport, payload(900, 3));
    let opts = QrOptions {
        format: QrFormat::Png,
        frames: Some(7),
        module_px: Some(3),
        ..QrOptions::default()
    };
    let p = plan(&env, &opts).expect("plan");
    assert_eq!((p.parts, p.frames.len()), (5, 7));
    assert!(p.frames[6]
        .caption
        .contains("any 2 lost pages can be recovered"));
    let QrRendered::Frames(files) = render(&p, &opts, "t").expect("render") else {
        panic!("frames")
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("set");
    locksmith::output::write_dir_atomic(&out, &files, false).expect("write");
    std::fs::remove_file(out.join(&files[0].0)).expect("lose page 1");
    std::fs::remove_file(out.join(&files[3].0)).expect("lose page 4");
    let back = locksmith::exchange::read_qr_images(&[out], None).expect("recovers");
    assert_eq!(back.payload, env.payload);
    assert_eq!(back.form, InputForm::QrImage);
}

#[test]
fn raw_content_for_a_split_artifact_is_refused() {
    let env = Envelope::new(ArtifactKind::ChainExport, payload(5000, 1));
    let opts = QrOptions {
        format: QrFormat::Png,
        content: QrContent::Raw,
        ..QrOptions::default()
    };
    let err = plan(&env, &opts).expect_err("refused");
    assert!(err.to_string().contains("--qr-content raw"), "{err}");
}

/// Two codes side by side in one image.
fn two_codes(a: &[u8], b: &[u8]) -> Vec<u8> {
    let ma = render_luma(
        &QrMatrix::encode(a, Ecc::M).expect("a"),
        4,
        STANDARD_QUIET_ZONE,
    );
    let mb = render_luma(
        &QrMatrix::encode(b, Ecc::M).expect("b"),
        4,
        STANDARD_QUIET_ZONE,
    );
    let mut img = GrayImage::from_pixel(
        ma.width() + mb.width() + 40,
        ma.height().max(mb.height()) + 40,
        Luma([255]),
    );
    image::imageops::replace(&mut img, &ma, 20, 20);
    image::imageops::replace(&mut img, &mb, i64::from(ma.width()) + 20, 20);
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    png.into_inner()
}

#[test]
fn an_image_with_two_different_codes_is_refused() {
    let nks = std::fs::read(samples().join("nks/direct.nks")).ok();
    let a = Envelope::new(ArtifactKind::Nks, nks.unwrap_or_else(|| vec![0xa1, 1, 1])).to_bytes();
    let b = Envelope::new(ArtifactKind::Aum, vec![0xa1, 1, 3]).to_bytes();
    let png = two_codes(&a, &b);
    let found = locksmith::exchange::qr_decode::decode_image_file(&png, "two.png").expect("codes");
    assert_eq!(found.len(), 2, "both codes are seen");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("two.png");
    std::fs::write(&path, &png).expect("write");
    let read = |p: &std::path::Path| {
        locksmith::input::Input::read_with(p.to_str().expect("utf8"), true)
            .and_then(|i| i.artifact())
    };
    let err = read(&path).expect_err("refused");
    assert!(
        matches!(
            err,
            locksmith::input::InputError::Exchange(ExchangeError::TwoArtifacts { .. })
        ),
        "{err}"
    );
    let msg = err.to_string();
    assert!(msg.contains("nks") && msg.contains("aum"), "{msg}");
    // The same code twice is one artifact.
    let same = two_codes(&a, &a);
    std::fs::write(&path, &same).expect("write");
    assert_eq!(read(&path).expect("one artifact").kind, ArtifactKind::Nks);
}

fn require_tool(name: &str, package: &str) -> bool {
    env::require_program(
        "svg_renders_correctly_in_rsvg_and_imagemagick",
        name,
        &format!("apt-get install {package}"),
    )
}

/// Renders `svg` to PNG with one renderer and decodes it back.
fn render_with(tool: &str, svg: &Path, png: &Path) -> std::process::Output {
    let mut cmd = match tool {
        "rsvg-convert" => {
            let mut c = Command::new("rsvg-convert");
            c.arg("--background-color=white")
                .arg("-o")
                .arg(png)
                .arg(svg);
            c
        }
        // ImageMagick 6's own renderer, forced (Debian builds it without librsvg).
        _ => {
            let mut c = Command::new("convert");
            c.arg(format!("MSVG:{}", svg.display()))
                .arg("-background")
                .arg("white")
                .arg("-flatten")
                .arg(png);
            c
        }
    };
    cmd.output().expect("run renderer")
}

/// SVG codes render as intended in two independent renderers: every
/// module lands where it should (pixel for pixel at module centres) and
/// the rendered image decodes byte-exact.
#[test]
fn svg_renders_correctly_in_rsvg_and_imagemagick() {
    let file = std::fs::read(samples().join("recovery-2sig.aum")).expect("sample");
    let aum = parse_artifact(&file, "sample").expect("sample").payload;
    let env = Envelope::new(ArtifactKind::RecoveryAum, aum.clone());
    let m = QrMatrix::encode(&env.to_bytes(), Ecc::M).expect("encode");
    let px = 8u32;
    let svg = render_svg(&m, px, STANDARD_QUIET_ZONE);
    let dir = tempfile::tempdir().expect("tempdir");
    let svg_path = dir.path().join("code.svg");
    std::fs::write(&svg_path, &svg).expect("write");
    for (tool, package) in [("rsvg-convert", "librsvg2-bin"), ("convert", "imagemagick")] {
        if !require_tool(tool, package) {
            continue;
        }
        let png_path = dir.path().join(format!("{tool}.png"));
        let out = render_with(tool, &svg_path, &png_path);
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let img = image::open(&png_path).expect("rendered png").into_luma8();
        let units = (m.size() + 2 * STANDARD_QUIET_ZONE) as u32;
        assert_eq!(img.dimensions(), (units * px, units * px), "{tool}");
        let q = STANDARD_QUIET_ZONE as isize;
        let mut wrong = 0;
        for y in -q..m.size() as isize + q {
            for x in -q..m.size() as isize + q {
                // Sample each module near its corner and at its centre:
                // strokes would bleed into the light neighbours' corners.
                for (dx, dy) in [(1, 1), (px / 2, px / 2), (px - 2, px - 2)] {
                    let sx = ((x + q) as u32) * px + dx;
                    let sy = ((y + q) as u32) * px + dy;
                    let dark = img.get_pixel(sx, sy).0[0] < 128;
                    wrong += usize::from(dark != m.is_dark(x, y));
                }
            }
        }
        assert_eq!(wrong, 0, "{tool}: {wrong} module samples drawn wrong");
        let bytes = std::fs::read(&png_path).expect("png");
        let found =
            locksmith::exchange::qr_decode::decode_image_file(&bytes, tool).expect("decodes");
        let art = parse_artifact(&found[0], tool).expect("artifact");
        assert!(art.payload == aum, "{tool}: byte-exact");
    }
}
