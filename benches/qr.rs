//! QR benchmarks, each against a baseline measured in the same run and
//! reported as a ratio:
//!
//! - `qr_decode`: frames/s decoding a locksmith PNG (PNG decode, rxing,
//!   content extraction, envelope check) against raw rxing on the same
//!   image already in memory as luma pixels.
//! - `animated_exchange`: payload bytes/s of a 20 KB artifact through the
//!   whole animated exchange (envelope, fountain parts, QR render, rxing
//!   decode of every frame, reassembly) against (a) raw rxing decoding the
//!   same frames and (b) only the CBOR envelope encode+decode.
//!
//! Run: `cargo bench --bench qr`. Ratios are printed at the end.

use std::path::PathBuf;

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use image::GrayImage;
use locksmith::exchange::qr_out::{plan, render, QrRendered};
use locksmith::exchange::qr_render::{render_luma, STANDARD_QUIET_ZONE};
use locksmith::exchange::{
    artifact_from_qr_contents, qr_decode, ArtifactKind, Density, Envelope, QrFormat, QrOptions,
};

const PAYLOAD: usize = 20_000;

fn recovery_envelope() -> Envelope {
    let payload: Vec<u8> = (0..500u32)
        .map(|i| (i.wrapping_mul(151) % 256) as u8)
        .collect();
    Envelope::new(ArtifactKind::RecoveryAum, payload)
}

fn raw_rxing(img: &GrayImage) -> bool {
    let (w, h) = img.dimensions();
    rxing::helpers::detect_in_luma(
        img.as_raw().clone(),
        w,
        h,
        Some(rxing::BarcodeFormat::QR_CODE),
    )
    .is_ok()
}

fn bench_decode(c: &mut Criterion) {
    let env = recovery_envelope();
    let opts = QrOptions {
        format: QrFormat::Png,
        density: Density::High,
        module_px: Some(6),
        ..QrOptions::default()
    };
    let p = plan(&env, &opts).expect("plan");
    let QrRendered::File(png) = render(&p, &opts, "bench").expect("render") else {
        panic!("one PNG")
    };
    let luma = image::load_from_memory(&png).expect("png").into_luma8();
    let mut g = c.benchmark_group("qr_decode");
    g.throughput(Throughput::Elements(1));
    g.bench_function("locksmith_png", |b| {
        b.iter(|| {
            let contents = qr_decode::decode_image_file(&png, "bench").expect("decode");
            artifact_from_qr_contents(vec![("bench".into(), contents[0].clone())], None)
                .expect("artifact")
        })
    });
    g.bench_function("baseline_raw_rxing_luma", |b| {
        b.iter(|| assert!(raw_rxing(&luma)))
    });
    g.finish();
}

fn bench_animated(c: &mut Criterion) {
    let payload: Vec<u8> = (0..PAYLOAD as u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let env = Envelope::new(ArtifactKind::ChainExport, payload.clone());
    let opts = QrOptions {
        format: QrFormat::Gif,
        ..QrOptions::default()
    };
    let mut g = c.benchmark_group("animated_exchange");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(PAYLOAD as u64));
    let p = plan(&env, &opts).expect("plan");
    let frames: Vec<GrayImage> = p
        .frames
        .iter()
        .map(|f| render_luma(&f.matrix, 4, STANDARD_QUIET_ZONE))
        .collect();
    // Every frame, as a receiver that misses none would see them once
    // (the fountain code lets it stop as soon as the parts suffice).
    g.bench_function(BenchmarkId::new("locksmith_encode_decode", PAYLOAD), |b| {
        b.iter(|| {
            let p = plan(&env, &opts).expect("plan");
            let mut contents = Vec::new();
            let mut r = locksmith::exchange::Reassembler::new();
            for f in &p.frames {
                let img = render_luma(&f.matrix, 4, STANDARD_QUIET_ZONE);
                let c = qr_decode::decode_luma(&img).expect("frame decodes");
                let text = String::from_utf8(c.clone()).expect("part text");
                r.push(&text, "bench").expect("part");
                contents.push(c);
                if r.is_complete() {
                    break;
                }
            }
            let msg = r.finish("bench").expect("complete");
            assert_eq!(
                Envelope::from_bytes(&msg, "bench")
                    .expect("envelope")
                    .payload
                    .len(),
                PAYLOAD
            );
        })
    });
    let needed = {
        let mut r = locksmith::exchange::Reassembler::new();
        let mut n = 0;
        for f in &frames {
            let c = qr_decode::decode_luma(f).expect("frame");
            r.push(std::str::from_utf8(&c).expect("text"), "n")
                .expect("part");
            n += 1;
            if r.is_complete() {
                break;
            }
        }
        n
    };
    g.bench_function(
        BenchmarkId::new("baseline_raw_rxing_same_frames", PAYLOAD),
        |b| {
            b.iter(|| {
                for f in frames.iter().take(needed) {
                    assert!(raw_rxing(f));
                }
            })
        },
    );
    g.bench_function(BenchmarkId::new("baseline_cbor_envelope", PAYLOAD), |b| {
        b.iter(|| Envelope::from_bytes(&env.to_bytes(), "bench").expect("envelope"))
    });
    g.finish();
}

criterion_group!(benches, bench_decode, bench_animated);

fn mean_ns(group: &str, id: &str) -> Option<f64> {
    let dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let path = dir
        .join("criterion")
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    let d = (
        mean_ns("qr_decode", "locksmith_png"),
        mean_ns("qr_decode", "baseline_raw_rxing_luma"),
    );
    if let (Some(ours), Some(base)) = d {
        println!("qr_decode: {:.1} frames/s from PNG; raw rxing {:.1} frames/s; ratio {:.2} (locksmith time / raw rxing time)", 1e9 / ours, 1e9 / base, ours / base);
    }
    let id = |s: &str| format!("{s}/{PAYLOAD}");
    let a = (
        mean_ns("animated_exchange", &id("locksmith_encode_decode")),
        mean_ns("animated_exchange", &id("baseline_raw_rxing_same_frames")),
        mean_ns("animated_exchange", &id("baseline_cbor_envelope")),
    );
    if let (Some(ours), Some(rx), Some(cbor)) = a {
        let bps = |ns: f64| PAYLOAD as f64 / (ns / 1e9);
        println!(
            "animated_exchange: {:.0} payload bytes/s; raw rxing on the same frames {:.0} B/s (ratio {:.2}); CBOR envelope alone {:.0} B/s (ratio {:.0})",
            bps(ours),
            bps(rx),
            ours / rx,
            bps(cbor),
            ours / cbor
        );
    }
}
