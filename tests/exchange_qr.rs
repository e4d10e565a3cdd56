//! QR round trips: artifacts rendered by locksmith as PNGs, degraded the
//! way photos are (scaled down, rotated, blurred, noised, JPEG-compressed)
//! and decoded back byte-exact; terminal width; multi-part sequences with
//! lost frames; GIF, HTML and PDF output.

use std::path::PathBuf;

#[path = "support/env.rs"]
mod env;

use image::{DynamicImage, GrayImage, Luma};
use locksmith::exchange::qr_out::{plan, render, QrRendered};
use locksmith::exchange::qr_render::{render_terminal, terminal_quiet_zone};
use locksmith::exchange::{
    artifact_from_qr_contents, parse_artifact, qr_decode, ArtifactKind, Density, Ecc, Envelope,
    QrFormat, QrMatrix, QrOptions, Reassembler, TerminalColors,
};

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/upstream/samples")
}

/// Every sample artifact file, read through the raw-form parser.
fn sample_artifacts() -> Vec<(String, locksmith::exchange::Artifact)> {
    let mut names = vec![
        "recovery-2sig.aum".to_string(),
        "recovery-2sig.cli.txt".into(),
        "recovery-1sig.cli.txt".into(),
        "lock-log.json".into(),
        "lock-status.json".into(),
        "authkey.txt".into(),
        "deeplink.txt".into(),
    ];
    for dir in ["chain", "chain-raw", "nks"] {
        let mut files: Vec<String> = std::fs::read_dir(samples().join(dir))
            .expect("samples directory (shared/ beside the repo)")
            .map(|e| {
                format!(
                    "{dir}/{}",
                    e.expect("dir entry").file_name().to_string_lossy()
                )
            })
            .collect();
        files.sort();
        names.extend(files);
    }
    names
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(samples().join(&n)).expect("sample file");
            let art = parse_artifact(&bytes, &n).unwrap_or_else(|e| panic!("{n}: {e}"));
            (n, art)
        })
        .collect()
}

/// Pixels per module in the PNGs the tests render.
const MODULE_PX: u32 = 6;

/// The PNG(s) locksmith renders for `env`: one, or numbered frames.
fn pngs_of(env: &Envelope, ecc: Ecc, density: Density) -> Vec<Vec<u8>> {
    let opts = QrOptions {
        format: QrFormat::Png,
        ecc: Some(ecc),
        density,
        module_px: Some(MODULE_PX),
        ..QrOptions::default()
    };
    let p = plan(env, &opts).expect("plan");
    match render(&p, &opts, "t").expect("render") {
        QrRendered::File(png) => vec![png],
        QrRendered::Frames(files) => files.into_iter().map(|(_, png)| png).collect(),
        other => panic!("unexpected {other:?}"),
    }
}

#[derive(Debug, Clone, Copy)]
struct Degrade {
    /// Pixels per module after scaling down.
    px_per_module: f32,
    angle_deg: f32,
    blur: f32,
    noise: f64,
    jpeg: Option<u8>,
}

fn degrade(png: &[u8], d: Degrade, seed: u64) -> Vec<u8> {
    let img = image::load_from_memory(png).expect("png").into_luma8();
    let (w, h) = img.dimensions();
    // Scale down first (as a distant camera would), then rotate on a larger
    // white canvas, blur, add noise.
    let scale = d.px_per_module / MODULE_PX as f32;
    let nw = ((w as f32) * scale).round().max(1.0) as u32;
    let nh = ((h as f32) * scale).round().max(1.0) as u32;
    let small = image::imageops::resize(&img, nw, nh, image::imageops::FilterType::Triangle);
    let pad = nw / 3;
    let mut canvas = GrayImage::from_pixel(nw + 2 * pad, nh + 2 * pad, Luma([235]));
    image::imageops::overlay(&mut canvas, &small, pad as i64, pad as i64);
    let rotated = imageproc::geometric_transformations::rotate_about_center(
        &canvas,
        d.angle_deg.to_radians(),
        imageproc::geometric_transformations::Interpolation::Bilinear,
        Luma([235]),
    );
    let blurred = if d.blur > 0.0 {
        imageproc::filter::gaussian_blur_f32(&rotated, d.blur)
    } else {
        rotated
    };
    let noisy = if d.noise > 0.0 {
        imageproc::noise::gaussian_noise(&blurred, 0.0, d.noise, seed)
    } else {
        blurred
    };
    let mut out = std::io::Cursor::new(Vec::new());
    match d.jpeg {
        Some(q) => {
            let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q);
            DynamicImage::ImageLuma8(noisy)
                .write_with_encoder(enc)
                .expect("jpeg");
        }
        None => noisy
            .write_to(&mut out, image::ImageFormat::Png)
            .expect("png"),
    }
    out.into_inner()
}

fn decode_back(image_bytes: &[u8], name: &str) -> Option<locksmith::exchange::Artifact> {
    decode_all(&[image_bytes.to_vec()], name)
}

fn decode_all(images: &[Vec<u8>], name: &str) -> Option<locksmith::exchange::Artifact> {
    let mut named = Vec::new();
    for (i, img) in images.iter().enumerate() {
        if let Ok(contents) = qr_decode::decode_image_file(img, name) {
            named.extend(contents.into_iter().map(|c| (format!("{name} #{i}"), c)));
        }
    }
    artifact_from_qr_contents(named, None).ok()
}

/// Every sample artifact survives a moderately degraded photo of its code.
#[test]
fn every_artifact_round_trips_through_a_degraded_photo() {
    let moderate = Degrade {
        px_per_module: 3.5,
        angle_deg: 7.0,
        blur: 0.8,
        noise: 12.0,
        jpeg: Some(70),
    };
    for (i, (name, art)) in sample_artifacts().into_iter().enumerate() {
        let env = art.to_envelope();
        let pngs = pngs_of(&env, Ecc::M, Density::High);
        // Clean first.
        let clean =
            decode_all(&pngs, &name).unwrap_or_else(|| panic!("{name}: clean PNG did not decode"));
        assert_eq!(clean.payload, art.payload, "{name}: clean payload differs");
        assert_eq!(clean.kind, art.kind, "{name}: kind differs");
        let photos: Vec<Vec<u8>> = pngs
            .iter()
            .enumerate()
            .map(|(j, p)| degrade(p, moderate, (i * 100 + j) as u64))
            .collect();
        let back = decode_all(&photos, &name)
            .unwrap_or_else(|| panic!("{name}: degraded photo did not decode"));
        assert_eq!(
            back.payload, art.payload,
            "{name}: degraded payload differs"
        );
        assert_eq!(back.kind, art.kind);
    }
}

/// The raw content mode: uppercase hex in alphanumeric mode decodes to the
/// same bytes, and the code's text is exactly the upstream CLI blob.
#[test]
fn raw_mode_recovery_blob_is_the_cli_hex() {
    let cli = std::fs::read_to_string(samples().join("recovery-2sig.cli.txt")).expect("sample");
    let art = parse_artifact(cli.as_bytes(), "cli").expect("parse");
    assert_eq!(art.kind, ArtifactKind::RecoveryAum);
    let opts = QrOptions {
        format: QrFormat::Png,
        content: locksmith::exchange::QrContent::Raw,
        density: Density::High,
        module_px: Some(4),
        ..QrOptions::default()
    };
    let p = plan(&art.to_envelope(), &opts).expect("plan");
    let QrRendered::File(png) = render(&p, &opts, "t").expect("render") else {
        panic!("one file expected")
    };
    let contents = qr_decode::decode_image_file(&png, "raw").expect("decode");
    assert_eq!(
        String::from_utf8(contents[0].clone()).expect("text"),
        cli.trim()
    );
    let back = decode_back(&png, "raw").expect("artifact");
    assert_eq!(back.payload, art.payload);
    assert_eq!(back.kind, ArtifactKind::RecoveryAum);
}

/// Measures the decode rate over a grid of degradations; prints it and
/// requires a floor (the grid includes harsh cases).
#[test]
fn decode_rate_on_degraded_images() {
    let arts = sample_artifacts();
    let picks: Vec<_> = arts
        .iter()
        .filter(|(n, _)| {
            n == "recovery-2sig.cli.txt" || n == "nks/rotation.nks" || n == "authkey.txt"
        })
        .collect();
    let mut total = 0;
    let mut ok = 0;
    let mut seed = 0;
    for (name, art) in picks {
        let pngs = pngs_of(&art.to_envelope(), Ecc::M, Density::High);
        for px in [4.0f32, 3.0] {
            for angle in [0.0f32, 13.0, 41.0] {
                for (blur, noise) in [(0.0f32, 0.0f64), (0.8, 10.0), (1.2, 20.0)] {
                    seed += 1;
                    total += 1;
                    let d = Degrade {
                        px_per_module: px,
                        angle_deg: angle,
                        blur,
                        noise,
                        jpeg: Some(60),
                    };
                    let photos: Vec<Vec<u8>> = pngs.iter().map(|p| degrade(p, d, seed)).collect();
                    match decode_all(&photos, name) {
                        Some(back) if back.payload == art.payload => ok += 1,
                        Some(_) => panic!("{name}: decoded to different bytes"),
                        None => eprintln!(
                            "miss: {name} {px} px/module angle {angle} blur {blur} noise {noise}"
                        ),
                    }
                }
            }
        }
    }
    eprintln!("degraded decode rate: {ok}/{total}");
    assert!(ok * 10 >= total * 8, "decode rate {ok}/{total} under 80%");
}

/// A recovery blob of about 500 bytes of CBOR fits an 80-column terminal,
/// and the half-block rendering reads back.
#[test]
fn recovery_blob_fits_80_columns() {
    let payload: Vec<u8> = (0..500u32)
        .map(|i| (i.wrapping_mul(151) % 256) as u8)
        .collect();
    let env = Envelope::new(ArtifactKind::RecoveryAum, payload.clone());
    let opts = QrOptions {
        format: QrFormat::Terminal,
        ..QrOptions::default()
    };
    let p = plan(&env, &opts).expect("plan");
    assert!(!p.multipart, "a 500-byte recovery blob must be one code");
    let m = &p.frames[0].matrix;
    let quiet = terminal_quiet_zone(m, 80).expect("fits 80 columns");
    for colors in [
        TerminalColors::LightOnDark,
        TerminalColors::DarkOnLight,
        TerminalColors::Ansi,
    ] {
        let text = render_terminal(m, quiet, colors);
        let plain = text.replace("\x1b[30;107m", "").replace("\x1b[0m", "");
        let widest = plain.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(widest <= 80, "{colors:?}: {widest} columns");
        // Rasterise the text as a terminal would (cell 1 wide, 2 tall) and decode.
        let img = rasterise(&plain, colors != TerminalColors::LightOnDark);
        let got = qr_decode::decode_luma(&img).expect("terminal rendering decodes");
        assert_eq!(got, env.to_bytes());
    }
    eprintln!(
        "500-byte recovery blob: QR version {}, {} columns",
        m.version(),
        m.size() + 2 * quiet
    );
}

/// Draws half-block text as pixels: 4 px per column, 8 per line. `ink_dark`:
/// whether glyph ink is dark (light theme / ANSI) or light (dark theme).
fn rasterise(text: &str, ink_dark: bool) -> GrayImage {
    let lines: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let cols = lines.iter().map(|l| l.len()).max().unwrap_or(0) as u32;
    let (ink, paper) = if ink_dark { (0u8, 255u8) } else { (255, 0) };
    // A wide paper-coloured border, as the window around the text.
    let border = 40;
    let mut img = GrayImage::from_pixel(
        cols * 4 + 2 * border,
        lines.len() as u32 * 8 + 2 * border,
        Luma([paper]),
    );
    if !ink_dark {
        // Dark terminal: the window around the text is dark; the code's own
        // quiet zone (drawn as light ink) is all the margin there is.
        for p in img.pixels_mut() {
            *p = Luma([0]);
        }
    }
    for (row, line) in lines.iter().enumerate() {
        for (col, ch) in line.iter().enumerate() {
            let (top, bottom) = match ch {
                '█' => (true, true),
                '▀' => (true, false),
                '▄' => (false, true),
                _ => (false, false),
            };
            for dy in 0..8u32 {
                let on = if dy < 4 { top } else { bottom };
                for dx in 0..4u32 {
                    img.put_pixel(
                        border + col as u32 * 4 + dx,
                        border + row as u32 * 8 + dy,
                        Luma([if on { ink } else { paper }]),
                    );
                }
            }
        }
    }
    img
}

/// A 20 KB payload as an animated sequence reassembles with 20% of its
/// frames dropped, in shuffled order with duplicates; from GIF frames too.
#[test]
fn animated_20kb_survives_20_percent_loss() {
    let payload: Vec<u8> = (0..20_000u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let env = Envelope::new(ArtifactKind::ChainExport, payload.clone());
    let opts = QrOptions {
        format: QrFormat::Gif,
        ..QrOptions::default()
    };
    let p = plan(&env, &opts).expect("plan");
    assert!(p.multipart);
    let frames = p.frames.len();
    assert_eq!(frames, 2 * p.parts);
    // Render the GIF, read its frames back through rxing.
    let QrRendered::File(gif) = render(&p, &opts, "t").expect("render") else {
        panic!("gif expected")
    };
    let contents = qr_decode::decode_image_file(&gif, "anim.gif").expect("gif frames decode");
    assert_eq!(contents.len(), frames, "every GIF frame decodes");
    // Drop every 5th frame (20%), shuffle deterministically, repeat a few.
    let mut kept: Vec<(String, Vec<u8>)> = contents
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 5 != 2)
        .map(|(i, c)| (format!("frame {i}"), c))
        .collect();
    let n = kept.len();
    for i in 0..n {
        kept.swap(i, (i * 7919 + 13) % n);
    }
    let dups: Vec<_> = kept.iter().take(10).cloned().collect();
    kept.extend(dups);
    let mut last = None;
    let mut cb = |p: &locksmith::exchange::Progress| last = Some(*p);
    let art = artifact_from_qr_contents(kept, Some(&mut cb)).expect("reassembles");
    assert_eq!(art.payload, payload);
    let last = last.expect("progress reported");
    assert_eq!(last.resolved, last.total);
    eprintln!(
        "20 KB: {} parts, {} frames, {} dropped; final progress {last}",
        p.parts,
        frames,
        frames - n
    );

    // Random 20% losses over several seeds, straight from the part texts.
    let texts = locksmith::exchange::multipart::encode_parts(
        &env.to_bytes(),
        Density::Medium.fragment_len(),
        frames,
    )
    .expect("parts");
    for seed in 1..=20u64 {
        let mut r = Reassembler::new();
        let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15);
        for t in &texts {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 5 != 0 {
                r.push(t, "t").expect("push");
            }
        }
        assert!(
            r.is_complete(),
            "seed {seed}: {} after 20% loss",
            r.progress()
        );
        assert_eq!(r.finish("t").expect("message"), env.to_bytes());
    }
}

/// Numbered static frames (PNG directory, PDF pages) reassemble in any order.
#[test]
fn static_frames_png_dir_and_pdf() {
    let bytes = std::fs::read(samples().join("lock-log.json")).expect("sample");
    let art = parse_artifact(&bytes, "lock-log.json").expect("parse");
    assert_eq!(art.kind, ArtifactKind::ChainExport);
    let opts = QrOptions {
        format: QrFormat::Png,
        density: Density::Low,
        module_px: Some(4),
        ..QrOptions::default()
    };
    let p = plan(&art.to_envelope(), &opts).expect("plan");
    assert!(p.multipart);
    assert_eq!(p.frames.len(), p.parts);
    let QrRendered::Frames(files) = render(&p, &opts, "t").expect("render") else {
        panic!("frames expected")
    };
    assert!(files[0].0.starts_with("part-"));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("frames");
    locksmith::output::write_dir_atomic(&out, &files, false).expect("write");
    assert!(
        locksmith::output::write_dir_atomic(&out, &files, false).is_err(),
        "no overwrite without force"
    );
    let back = locksmith::exchange::read_qr_images(&[out], None).expect("read dir");
    assert_eq!(back.payload, art.payload);

    // PDF: render pages with poppler if available, decode each page image.
    let pdf_opts = QrOptions {
        format: QrFormat::Pdf,
        ..opts
    };
    let p = plan(&art.to_envelope(), &pdf_opts).expect("plan");
    let QrRendered::File(pdf) = render(&p, &pdf_opts, "chain export").expect("render") else {
        panic!("file")
    };
    assert!(pdf.starts_with(b"%PDF-1.4"));
    let pdf_path = dir.path().join("out.pdf");
    std::fs::write(&pdf_path, &pdf).expect("write pdf");
    let status = std::process::Command::new("pdftoppm")
        .arg("-r")
        .arg("100")
        .arg("-png")
        .arg(&pdf_path)
        .arg(dir.path().join("page"))
        .status();
    match status {
        Ok(s) if s.success() => {
            let pages: Vec<PathBuf> = std::fs::read_dir(dir.path())
                .expect("list")
                .map(|e| e.expect("entry").path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("page"))
                })
                .collect();
            assert_eq!(pages.len(), p.frames.len());
            let back = locksmith::exchange::read_qr_images(&pages, None).expect("pdf pages decode");
            assert_eq!(back.payload, art.payload);
        }
        Ok(s) => panic!("pdftoppm failed on the PDF locksmith wrote: {s}"),
        Err(_) => env::skip(
            "static_frames_png_dir_and_pdf (PDF rasterisation)",
            "pdftoppm is not installed (install: apt-get install poppler-utils)",
        ),
    }
}

/// HTML output embeds every frame and no remote resource.
#[test]
fn html_page_is_self_contained() {
    let env = Envelope::new(ArtifactKind::ChainExport, vec![42u8; 3000]);
    let opts = QrOptions {
        format: QrFormat::Html,
        fps: 8.0,
        ..QrOptions::default()
    };
    let p = plan(&env, &opts).expect("plan");
    let QrRendered::File(html) = render(&p, &opts, "t").expect("render") else {
        panic!("file")
    };
    let html = String::from_utf8(html).expect("utf8");
    assert_eq!(
        html.matches("data:image/png;base64,").count(),
        p.frames.len()
    );
    assert!(!html.contains("http://") && !html.contains("https://"));
    assert!(html.contains("value=\"8\""));
    // Each embedded frame decodes to a part of the sequence.
    let first = html
        .split("data:image/png;base64,")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("frame");
    let png = data_encoding::BASE64
        .decode(first.as_bytes())
        .expect("base64");
    let c = qr_decode::decode_image_file(&png, "html frame").expect("decodes");
    assert!(String::from_utf8_lossy(&c[0]).starts_with("UR:LOCKSMITH/1-"));
}

/// Uppercase text goes out in alphanumeric mode: a smaller code than the
/// same text in lowercase (byte mode).
#[test]
fn uppercase_text_uses_alphanumeric_mode() {
    let hex =
        "A4010502582025EA07719B6B97D6D7BD50F3E306ED41BB5A3C9490B9B3F8B00601C10D07CCF705".repeat(6);
    let upper = QrMatrix::encode(hex.as_bytes(), Ecc::L).expect("upper");
    let lower = QrMatrix::encode(hex.to_lowercase().as_bytes(), Ecc::L).expect("lower");
    assert!(
        upper.version() < lower.version(),
        "{} vs {}",
        upper.version(),
        lower.version()
    );
}

/// Hostile images and texts never panic.
#[test]
fn garbage_images_are_errors_not_panics() {
    assert!(qr_decode::decode_image_file(b"\x89PNG\r\n\x1a\ngarbage", "x").is_err());
    let blank = GrayImage::from_pixel(200, 200, Luma([255]));
    let mut png = std::io::Cursor::new(Vec::new());
    blank
        .write_to(&mut png, image::ImageFormat::Png)
        .expect("png");
    assert!(matches!(
        qr_decode::decode_image_file(&png.into_inner(), "blank"),
        Err(locksmith::exchange::ExchangeError::QrNotFound { .. })
    ));
    // Noise images and damaged files: errors, never panics.
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..6 {
        let noise = GrayImage::from_fn(160, 160, |_, _| Luma([next() as u8]));
        assert!(qr_decode::decode_luma(&noise).is_none());
    }
    let real = {
        let env = Envelope::new(ArtifactKind::Nks, vec![0xa1, 1, 1]);
        let opts = QrOptions {
            format: QrFormat::Png,
            ..QrOptions::default()
        };
        let QrRendered::File(png) =
            render(&plan(&env, &opts).expect("plan"), &opts, "t").expect("render")
        else {
            panic!("file")
        };
        png
    };
    for _ in 0..50 {
        let mut damaged = real.clone();
        let n = damaged.len();
        for _ in 0..4 {
            let i = (next() as usize) % n;
            damaged[i] = next() as u8;
        }
        let _ = qr_decode::decode_image_file(&damaged, "damaged");
    }
}

/// SVG output draws exactly the dark modules of the code.
#[test]
fn svg_draws_the_matrix() {
    let m = QrMatrix::encode(b"UR:LOCKSMITH/HELLO", Ecc::M).expect("encode");
    let q = locksmith::exchange::qr_render::STANDARD_QUIET_ZONE;
    let svg = locksmith::exchange::qr_render::render_svg(&m, 8, q);
    let d = svg
        .split("d=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("path");
    let mut dark = vec![false; m.size() * m.size()];
    for cmd in d.split('M').filter(|c| !c.is_empty()) {
        // "X0 Y0HX1VY1HX0Z": one absolute rectangle per run of dark modules.
        let (xy, rest) = cmd.split_once('H').expect("H");
        let (x, y) = xy.split_once(' ').expect("x y");
        let x1: usize = rest.split('V').next().expect("x1").parse().expect("x1");
        let (x, y): (usize, usize) = (x.parse().expect("x"), y.parse().expect("y"));
        assert!(rest.ends_with(&format!("H{x}Z")), "{cmd}");
        for xi in x..x1 {
            dark[(y - q) * m.size() + (xi - q)] = true;
        }
    }
    assert!(
        svg.matches("stroke=\"none\"").count() >= 3,
        "no shape may be stroked"
    );
    for y in 0..m.size() {
        for x in 0..m.size() {
            assert_eq!(
                dark[y * m.size() + x],
                m.is_dark(x as isize, y as isize),
                "module {x},{y}"
            );
        }
    }
}

/// Terminal playback redraws in place, one caption and code per frame.
#[test]
fn terminal_playback_redraws_in_place() {
    let env = Envelope::new(ArtifactKind::ChainExport, vec![9u8; 1200]);
    let opts = QrOptions {
        format: QrFormat::Terminal,
        ..QrOptions::default()
    };
    let p = plan(&env, &opts).expect("plan");
    let QrRendered::TerminalFrames(frames, quiet) = render(&p, &opts, "t").expect("render") else {
        panic!("frames")
    };
    assert_eq!(frames.len(), 2 * p.parts);
    let mut out = Vec::new();
    locksmith::exchange::animation::play_terminal(
        &frames[..3],
        60.0,
        quiet,
        TerminalColors::Ansi,
        1,
        &mut out,
    )
    .expect("play");
    let text = String::from_utf8(out).expect("utf8");
    assert_eq!(text.matches("part 1 of").count(), 1);
    let lines = render_terminal(&frames[0].0, quiet, TerminalColors::Ansi)
        .lines()
        .count()
        + 1;
    assert_eq!(
        text.matches(&format!("\x1b[{lines}A")).count(),
        2,
        "cursor moves up before frames 2 and 3"
    );
}

/// A foreign frame among the parts is skipped when the sequence completes
/// without it, and reported when it does not.
#[test]
fn foreign_frames_are_skipped_or_reported() {
    use locksmith::exchange::multipart::encode_parts;
    let a = Envelope::new(ArtifactKind::ChainExport, vec![1u8; 900]).to_bytes();
    let b = Envelope::new(ArtifactKind::ChainExport, vec![2u8; 900]).to_bytes();
    let pa = encode_parts(&a, 200, 5).expect("a");
    let pb = encode_parts(&b, 200, 5).expect("b");
    let mut frames: Vec<(String, Vec<u8>)> = vec![("stale".into(), pb[0].clone().into_bytes())];
    frames.extend(pa.iter().map(|p| ("a".to_string(), p.clone().into_bytes())));
    let art = artifact_from_qr_contents(frames, None).expect("completes without the stale frame");
    assert_eq!(art.payload, vec![1u8; 900]);
    let frames = vec![
        ("a".to_string(), pa[0].clone().into_bytes()),
        ("stale".into(), pb[1].clone().into_bytes()),
    ];
    let err = artifact_from_qr_contents(frames, None).expect_err("incomplete");
    assert!(
        matches!(
            err,
            locksmith::exchange::ExchangeError::MixedSequences { .. }
        ),
        "{err}"
    );
}

/// A wider survey of decode rates (not part of the suite: run with
/// `cargo test --test exchange_qr -- --ignored survey --nocapture`).
#[test]
#[ignore]
fn survey_decode_rates() {
    let arts = sample_artifacts();
    let picks: Vec<_> = arts
        .iter()
        .filter(|(n, _)| {
            n == "recovery-2sig.cli.txt"
                || n == "nks/rotation.nks"
                || n == "authkey.txt"
                || n == "chain/0001-add-key.aum"
        })
        .collect();
    let mut by_px = std::collections::BTreeMap::<String, (u32, u32)>::new();
    let mut by_blur = std::collections::BTreeMap::<String, (u32, u32)>::new();
    let (mut ok, mut total, mut seed) = (0u32, 0u32, 1000u64);
    for (name, art) in picks {
        let pngs = pngs_of(&art.to_envelope(), Ecc::M, Density::High);
        for px in [5.0f32, 4.0, 3.5, 3.0] {
            for angle in [0.0f32, 7.0, 13.0, 41.0, 105.0] {
                for (blur, noise) in [
                    (0.0f32, 0.0f64),
                    (0.6, 8.0),
                    (0.8, 10.0),
                    (1.0, 15.0),
                    (1.2, 20.0),
                ] {
                    for jpeg in [None, Some(60u8)] {
                        seed += 1;
                        total += 1;
                        let d = Degrade {
                            px_per_module: px,
                            angle_deg: angle,
                            blur,
                            noise,
                            jpeg,
                        };
                        let photos: Vec<Vec<u8>> =
                            pngs.iter().map(|p| degrade(p, d, seed)).collect();
                        let hit = matches!(decode_all(&photos, name), Some(b) if b.payload == art.payload);
                        ok += u32::from(hit);
                        for (map, key) in [
                            (&mut by_px, format!("{px} px/module")),
                            (&mut by_blur, format!("blur {blur} noise {noise}")),
                        ] {
                            let e = map.entry(key).or_default();
                            e.0 += u32::from(hit);
                            e.1 += 1;
                        }
                    }
                }
            }
        }
    }
    eprintln!("survey: {ok}/{total} decoded byte-exact");
    for (k, (a, b)) in by_px.iter().chain(by_blur.iter()) {
        eprintln!("  {k}: {a}/{b}");
    }
    assert!(ok * 10 >= total * 8);
}
