//! Resource bombs: every decoder of outside input has a size cap and a
//! depth cap (src/limits.rs), and a hostile input gets a clear error,
//! never an abort. One test per decoder and cap.

use std::path::PathBuf;

use assert_cmd::Command;
use locksmith::exchange::multipart::Reassembler;
use locksmith::exchange::qr_decode::decode_image_file;
use locksmith::exchange::{parse_artifact, Envelope, ExchangeError};
use locksmith::limits;

/// A 40-byte GIF whose logical screen is 65535 x 65535 with one 1x1
/// frame: a decoder that allocates the screen up front wants 17 GB.
fn gif_bomb() -> Vec<u8> {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00]); // screen, no palette
    g.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x80]); // image descriptor, local palette of 2
    g.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    g.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00]); // LZW data
    g.push(0x3b);
    g
}

fn png_with_header(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&ihdr);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend_from_slice(&13u32.to_be_bytes());
    png.extend_from_slice(&ihdr);
    png.extend_from_slice(&crc.to_be_bytes());
    for (name, data) in [
        (
            &b"IDAT"[..],
            &[0x78u8, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01][..],
        ),
        (b"IEND", &[]),
    ] {
        let mut chunk = name.to_vec();
        chunk.extend_from_slice(data);
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(&chunk);
        png.extend_from_slice(
            &crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC)
                .checksum(&chunk)
                .to_be_bytes(),
        );
    }
    png
}

#[test]
fn gif_bomb_is_refused_before_allocating() {
    let bomb = gif_bomb();
    assert!(bomb.len() <= 45, "{} bytes", bomb.len());
    let err = decode_image_file(&bomb, "bomb.gif").expect_err("refused");
    assert!(matches!(err, ExchangeError::ImageTooLarge { .. }), "{err}");
    assert!(err.to_string().contains("65535 x 65535"), "{err}");
}

#[test]
fn huge_png_and_jpeg_headers_are_refused() {
    let err =
        decode_image_file(&png_with_header(100_000, 100_000), "big.png").expect_err("refused");
    assert!(err.to_string().contains("pixels"), "{err}");
    // Within the side limit but over the pixel budget.
    let err = decode_image_file(&png_with_header(16_000, 16_000), "big.png").expect_err("refused");
    assert!(matches!(err, ExchangeError::ImageTooLarge { .. }), "{err}");
    // A JPEG whose frame header says 60000 x 60000.
    let mut jpeg = vec![0xff, 0xd8, 0xff, 0xc0, 0x00, 0x0b, 0x08];
    jpeg.extend_from_slice(&60000u16.to_be_bytes());
    jpeg.extend_from_slice(&60000u16.to_be_bytes());
    jpeg.extend_from_slice(&[0x01, 0x01, 0x11, 0x00, 0xff, 0xd9]);
    assert!(decode_image_file(&jpeg, "big.jpg").is_err());
}

#[test]
fn gif_frame_count_is_capped() {
    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&[1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255]); // 1x1, global palette of 2
    for _ in 0..=limits::MAX_GIF_FRAMES {
        g.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x00]);
        g.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00]);
    }
    g.push(0x3b);
    let err = decode_image_file(&g, "many.gif").expect_err("refused");
    assert!(err.to_string().contains("frames"), "{err}");
}

/// The caps are a parameter of the decoders, not constants buried in
/// them: the same image passes the defaults and is refused under smaller
/// caps, each cap on its own (what the `image_limits` fuzz target relies
/// on when it runs the decoders under small caps).
#[test]
fn the_image_decoders_obey_the_caps_they_are_given() {
    use locksmith::exchange::qr_decode::{for_each_gif_frame_within, load_still_within};
    use locksmith::limits::ImageLimits;
    let mut png = Vec::new();
    image::GrayImage::from_pixel(300, 200, image::Luma([128]))
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .expect("png");
    let img = load_still_within(&png, "a.png", &ImageLimits::DEFAULT).expect("within defaults");
    assert_eq!(img.dimensions(), (300, 200));
    for caps in [
        ImageLimits {
            side: 299,
            ..ImageLimits::DEFAULT
        },
        ImageLimits {
            pixels: 59_999,
            ..ImageLimits::DEFAULT
        },
    ] {
        let err = load_still_within(&png, "a.png", &caps).expect_err("over the caps");
        assert!(
            matches!(err, ExchangeError::ImageTooLarge { .. }),
            "{caps:?}: {err}"
        );
        assert!(err.to_string().contains("300 x 200"), "{err}");
    }
    // The decoder's own allocation cap: set below one image's pixels.
    let tight = ImageLimits {
        alloc: 1000,
        ..ImageLimits::DEFAULT
    };
    assert!(load_still_within(&png, "a.png", &tight).is_err());

    let mut g = b"GIF89a".to_vec();
    g.extend_from_slice(&[1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 255, 255, 255]);
    for _ in 0..5 {
        g.extend_from_slice(&[0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x00]);
        g.extend_from_slice(&[0x02, 0x02, 0x44, 0x01, 0x00]);
    }
    g.push(0x3b);
    let frames =
        for_each_gif_frame_within(&g, "a.gif", &ImageLimits::DEFAULT, |_| {}).expect("5 frames");
    assert_eq!(frames, 5);
    let few = ImageLimits {
        gif_frames: 4,
        ..ImageLimits::DEFAULT
    };
    let err = for_each_gif_frame_within(&g, "a.gif", &few, |_| {}).expect_err("over 4 frames");
    assert!(err.to_string().contains("more than 4 frames"), "{err}");
    let small = ImageLimits {
        animation_pixels: 3,
        ..ImageLimits::DEFAULT
    };
    let err = for_each_gif_frame_within(&g, "a.gif", &small, |_| {}).expect_err("over 3 pixels");
    assert!(err.to_string().contains("more than 3 pixels"), "{err}");
    assert_eq!(ImageLimits::DEFAULT.pixels, limits::MAX_IMAGE_PIXELS);
    assert_eq!(ImageLimits::DEFAULT.gif_frames, limits::MAX_GIF_FRAMES);
}

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/samples")
}

/// Through the command line: `exchange decode` and the global `--qr-in`
/// both fail with a clear message and a normal exit code (no abort).
#[test]
fn gif_bomb_through_the_cli() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bomb = dir.path().join("bomb.gif");
    std::fs::write(&bomb, gif_bomb()).expect("write");
    for args in [
        vec!["exchange", "decode", bomb.to_str().expect("utf8")],
        vec!["--qr-in", "inspect", bomb.to_str().expect("utf8")],
    ] {
        let out = Command::cargo_bin("locksmith")
            .expect("binary")
            .args(&args)
            .current_dir(samples())
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("65535 x 65535"), "{args:?}: {stderr}");
    }
}

#[test]
fn envelope_depth_and_size_are_capped() {
    // A version-1 envelope whose meta is 100000 nested arrays.
    let mut deep = vec![
        0x86, 0x63, b'l', b'k', b's', 0x01, 0x01, 0x40, 0x44, 0, 0, 0, 0,
    ];
    deep.extend(std::iter::repeat_n(0x81, 100_000));
    deep.push(0x00);
    let err = Envelope::from_bytes(&deep, "deep").expect_err("refused");
    assert!(err.to_string().contains("malformed CBOR"), "{err}");
    let mut big = vec![0x85, 0x63, b'l', b'k', b's'];
    big.resize(limits::MAX_ARTIFACT_BYTES as usize + 1, 0);
    assert!(matches!(
        Envelope::from_bytes(&big, "big"),
        Err(ExchangeError::TooLarge { .. })
    ));
}

#[test]
fn raw_cbor_depth_and_size_are_capped() {
    let mut deep: Vec<u8> = std::iter::repeat_n(0x81, 100_000).collect();
    deep.push(0x00);
    assert!(parse_artifact(&deep, "deep").is_err());
    // Over the one input cap, and (as base64) over the artifact cap.
    let big = vec![b'A'; limits::MAX_INPUT_BYTES as usize + 2];
    assert!(matches!(
        parse_artifact(&big, "big"),
        Err(ExchangeError::TooLarge { .. })
    ));
    let big = vec![b'Q'; (limits::MAX_ARTIFACT_BYTES as usize / 3 + 1) * 4];
    assert!(matches!(
        parse_artifact(&big, "big"),
        Err(ExchangeError::TooLarge { .. })
    ));
    // JSON nested past the cap is refused before serde_json recurses.
    let json = format!(
        "{{\"Messages\": {}1{}}}",
        "[".repeat(1000),
        "]".repeat(1000)
    );
    let err = parse_artifact(json.as_bytes(), "deep.json").expect_err("refused");
    assert!(err.to_string().contains("levels deep"), "{err}");
}

#[test]
fn ur_parts_and_sequences_are_capped() {
    let mut r = Reassembler::new();
    let long = format!(
        "UR:LOCKSMITH/1-2/{}",
        "AE".repeat(limits::MAX_UR_PART_CHARS)
    );
    assert!(r.push(&long, "long").is_err());
    let many = format!("UR:LOCKSMITH/1-{}/AEAE", limits::MAX_PARTS + 1);
    assert!(r.push(&many, "many").is_err());
    // A single-part UR over the artifact cap.
    let big = format!(
        "ur:bytes/{}",
        "ae".repeat(limits::MAX_ARTIFACT_BYTES as usize + 16)
    );
    assert!(matches!(
        parse_artifact(big.as_bytes(), "big"),
        Err(ExchangeError::TooLarge { .. })
    ));
    // Spare pages: a claimed set beyond what the code protects.
    let spare = locksmith::exchange::spare_pages::SparePage {
        count: 250,
        message_len: 10,
        checksum: 0,
        index: 1,
        spares: 10,
        shard: vec![0; 4],
    };
    assert!(r.push_spare(&spare.to_ur(), "spare").is_err());
}

#[test]
fn upstream_json_depth_and_size_are_capped() {
    use locksmith::tka::upstream_json::{looks_like_log, parse_log, parse_status};
    let deep = format!(
        "{{\"Messages\": {}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let err = parse_log(&deep).expect_err("refused");
    assert!(err.to_string().contains("levels deep"), "{err}");
    assert!(parse_status(&deep).is_err());
    assert!(!looks_like_log(&deep));
    let big = format!(
        "{{\"Messages\": [], \"x\": \"{}\"}}",
        "a".repeat(limits::MAX_JSON_BYTES)
    );
    let err = parse_log(&big).expect_err("refused");
    assert!(err.to_string().contains("byte limit"), "{err}");
}

#[test]
fn ceremony_plan_depth_and_size_are_capped() {
    use locksmith::ceremony_plan::{Plan, PlanState};
    let ok = "name = \"t\"\n[[step]]\nid = \"a\"\nconfirm = \"ok [x]\"\n";
    Plan::parse("ok.toml", ok).expect("a plain plan parses");
    let deep = format!(
        "name = \"t\"\nx = {}1{}\n[[step]]\nid = \"a\"\nconfirm = \"ok\"\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let err = Plan::parse("deep.toml", &deep).expect_err("refused");
    assert!(err.to_string().contains("levels deep"), "{err}");
    let big = format!("{ok}# {}\n", "a".repeat(limits::MAX_PLAN_BYTES));
    let err = Plan::parse("big.toml", &big).expect_err("refused");
    assert!(err.to_string().contains("byte limit"), "{err}");
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    std::fs::write(&state, "[".repeat(100_000)).expect("write");
    let err = PlanState::load(&state, "x").expect_err("refused");
    assert!(err.to_string().contains("levels deep"), "{err}");
    std::fs::write(&state, vec![b' '; limits::MAX_PLAN_STATE_BYTES + 1]).expect("write");
    let err = PlanState::load(&state, "x").expect_err("refused");
    assert!(err.to_string().contains("byte limit"), "{err}");
}

#[test]
fn transcript_line_depth_and_size_are_capped() {
    use locksmith::transcript::verify_bytes;
    let mut deep = "[".repeat(100_000).into_bytes();
    deep.push(b'\n');
    let err = verify_bytes("t.jsonl", &deep, None).expect_err("refused");
    assert!(err.to_string().contains("levels deep"), "{err}");
    let mut long = vec![b' '; limits::MAX_TRANSCRIPT_LINE_BYTES + 1];
    long.push(b'\n');
    let err = verify_bytes("t.jsonl", &long, None).expect_err("refused");
    assert!(err.to_string().contains("byte limit"), "{err}");
}

/// Found by the `image_limits` fuzz campaign (2026-12-03): a 3 KB
/// progressive JPEG whose 29 scans each cover 4334 x 10061 pixels took
/// 2.7 s of CPU to decode (and more scans would take longer). Refused from
/// its header and scan count, before decoding.
#[test]
fn a_jpeg_with_many_scans_over_a_large_canvas_is_refused_before_decoding() {
    let bytes = include_bytes!("data/images/jpeg-29-scans-43-megapixels.jpg");
    let err = decode_image_file(bytes, "scans.jpg").expect_err("refused");
    assert!(matches!(err, ExchangeError::ImageTooLarge { .. }), "{err}");
    assert!(err.to_string().contains("29 scans"), "{err}");
    assert!(err.to_string().contains("scans.jpg"), "{err}");
}

/// A 122 x 11520 baseline JPEG, as the `qr_image` fuzz campaign found
/// (2026-12-03): 1.4 megapixels, within every cap, on which rxing's search
/// plus locksmith's retries (rescaled, inverted, blurred, each at full
/// size) took 1.7 s of CPU. A small, mostly flat picture with a few bars,
/// as the fuzzer's was.
fn tall_thin_jpeg() -> Vec<u8> {
    let img = image::GrayImage::from_fn(122, 11520, |x, y| {
        image::Luma([if (y / 97) % 5 == 0 && x % 31 < 9 {
            0
        } else {
            230
        }])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 30)
        .encode_image(&img)
        .expect("jpeg");
    out
}

/// The retries no longer run at full size: a strip too narrow to hold a
/// code once reduced is searched once, at its own size (before: four
/// passes, three of them over all 1.4 million pixels). Asserted on the
/// search's plan and its own work counter, not on time.
#[test]
fn a_tall_thin_jpeg_is_searched_once_not_four_times() {
    use locksmith::exchange::qr_decode::{
        load_still, search_image, search_plan, PassKind, SearchPass,
    };
    let bytes = tall_thin_jpeg();
    assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
    let err = decode_image_file(&bytes, "tall.jpg").expect_err("no code");
    assert!(matches!(err, ExchangeError::QrNotFound { .. }), "{err}");
    let img = load_still(&bytes, "tall.jpg").expect("decodes");
    assert_eq!(img.dimensions(), (122, 11520));
    assert_eq!(
        search_plan(122, 11520),
        vec![SearchPass {
            kind: PassKind::Image,
            width: 122,
            height: 11520
        }]
    );
    let search = search_image(&img);
    assert!(search.codes.is_empty());
    assert_eq!(search.pixels_searched, 122 * 11520);
    // The same strip lying down is searched the same way.
    assert_eq!(search_plan(11520, 122).len(), 1);
}

/// Whatever dimensions a header passes the caps with, the QR search reads
/// at most `MAX_QR_SEARCH_WORK` pixels: the first pass at most
/// `MAX_QR_SEARCH_PIXELS` (twice: once more for the multi-code pass), the
/// retries at most `QR_RETRY_SIDE` a side.
#[test]
fn the_qr_search_of_any_image_within_the_caps_is_bounded() {
    use locksmith::exchange::qr_decode::{search_plan, PassKind};
    let side = limits::MAX_IMAGE_SIDE;
    let most = (limits::MAX_IMAGE_PIXELS / u64::from(side)) as u32;
    for (w, h) in [
        (side, most),
        (most, side),
        (7071, 7071),
        (8000, 6000),
        (4000, 4000),
        (1599, 1599),
        (1601, 30),
        (499, 499),
        (20, 20),
        (1, side),
        (side, 1),
        (122, 11520),
    ] {
        let plan = search_plan(w, h);
        let first = plan.first().expect("a first pass");
        assert_eq!(first.kind, PassKind::Image);
        assert!(
            first.pixels() <= limits::MAX_QR_SEARCH_PIXELS,
            "{w}x{h}: {first:?}"
        );
        let work: u64 = plan.iter().map(|p| p.pixels()).sum::<u64>() + first.pixels();
        assert!(
            work <= limits::MAX_QR_SEARCH_WORK,
            "{w}x{h}: {work} in {plan:?}"
        );
        for retry in &plan[1..] {
            assert!(
                retry.width.min(retry.height) >= limits::MIN_QR_SEARCH_SIDE,
                "{w}x{h}: {retry:?}"
            );
            if w.max(h) > limits::QR_RETRY_ABOVE_SIDE {
                assert!(
                    retry.width.max(retry.height) <= limits::QR_RETRY_SIDE,
                    "{w}x{h}: {retry:?}"
                );
            }
        }
    }
    // A 48-megapixel photo: searched at 16 megapixels, aspect kept.
    let photo = search_plan(8000, 6000);
    assert!(photo[0].pixels() > 15_900_000, "{photo:?}");
    let aspect = f64::from(photo[0].width) / f64::from(photo[0].height);
    assert!((aspect - 4.0 / 3.0).abs() < 0.001, "{photo:?}");
    assert!(search_plan(0, 100).is_empty());
}

/// `text` as a QR code drawn black on white at `px` pixels a module (with
/// a 4-module quiet zone) at (`x0`, `y0`) on a white `w` x `h` canvas.
fn qr_on_canvas(text: &[u8], px: u32, w: u32, h: u32, x0: u32, y0: u32) -> image::GrayImage {
    let code = qrcode::QrCode::new(text).expect("qr");
    let n = code.width() as u32;
    let colors = code.to_colors();
    image::GrayImage::from_fn(w, h, |x, y| {
        let (Some(cx), Some(cy)) = (x.checked_sub(x0), y.checked_sub(y0)) else {
            return image::Luma([255]);
        };
        let (mx, my) = ((cx / px).wrapping_sub(4), (cy / px).wrapping_sub(4));
        if mx < n && my < n && colors[(my * n + mx) as usize] == qrcode::Color::Dark {
            image::Luma([0])
        } else {
            image::Luma([255])
        }
    })
}

/// Large but real images still decode: a 24-megapixel photo-sized image
/// (searched at 16 megapixels) holding a code that fills a sixth of its
/// width, and a tall phone screenshot (1080 x 12000, under the search cap,
/// so searched at full size) with a code in it.
#[test]
fn large_legitimate_images_with_a_code_still_decode() {
    use locksmith::exchange::qr_decode::{search_image, search_plan};
    let text = b"UR:LOCKSMITH/LARGE-IMAGE-TEST-0123456789";
    let photo = qr_on_canvas(text, 30, 6000, 4000, 2500, 1700);
    assert!(search_plan(6000, 4000)[0].pixels() <= limits::MAX_QR_SEARCH_PIXELS);
    let found = search_image(&photo);
    assert_eq!(found.codes, vec![text.to_vec()]);
    assert!(found.pixels_searched <= limits::MAX_QR_SEARCH_WORK);
    let screenshot = qr_on_canvas(text, 8, 1080, 12000, 300, 7000);
    assert_eq!(search_plan(1080, 12000)[0].pixels(), 1080 * 12000);
    assert_eq!(search_image(&screenshot).codes, vec![text.to_vec()]);
}

/// Found by the fourth `image_limits` campaign (2026-12-04): a 2 KB
/// progressive JPEG with 18 scans over 4334 x 10061 pixels (785 million
/// scan-pixels, under the first cap of 800 million) took 6 s to decode
/// niced on a loaded machine. Refused from its header and scan count.
#[test]
fn a_jpeg_with_18_scans_over_a_large_canvas_is_refused_before_decoding() {
    let bytes = include_bytes!("data/images/jpeg-18-scans-43-megapixels.jpg");
    assert!(bytes.len() < 4096);
    let err = decode_image_file(bytes, "scans18.jpg").expect_err("refused");
    assert!(matches!(err, ExchangeError::ImageTooLarge { .. }), "{err}");
    assert!(err.to_string().contains("4334 x 10061"), "{err}");
    assert!(err.to_string().contains("scans18.jpg"), "{err}");
}
