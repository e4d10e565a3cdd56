//! Core benchmarks. Each figure is reported beside a baseline measured in
//! the same run, and the ratio is printed at the end:
//! - verifying a 10,000-AUM chain (decode + bootstrap + inform) against a
//!   loop of raw single Ed25519 (ZIP-215) verifications of the same count;
//! - node-key authorization against one raw verification;
//! - the disablement KDF against the argon2 crate called directly.

use criterion::{criterion_group, BatchSize, Criterion, Throughput};
use locksmith::tka::builder::UpdateBuilder;
use locksmith::tka::disablement::disablement_kdf;
use locksmith::tka::nks;
use locksmith::tka::signer::{sign_verified, Signer, SoftwareSigner};
use locksmith::tka::{Aum, AumKind, Authority, Key, Signature, State};
use std::time::Duration;

const CHAIN_LEN: usize = 10_000;

fn build_chain(len: usize) -> Vec<Vec<u8>> {
    let mut signer = SoftwareSigner::from_seed(&[42; 32], "bench");
    let state = State {
        last_aum_hash: None,
        disablement_values: Some(vec![Some(vec![7; 32])]),
        keys: Some(vec![Key::ed25519(signer.public_key(), 1)]),
        state_id1: 1,
        state_id2: 2,
    };
    let mut genesis = Aum {
        kind: AumKind::CHECKPOINT,
        state: Some(state),
        ..Default::default()
    };
    let sig = sign_verified(&mut signer, &genesis.sig_hash()).expect("sign");
    genesis.signatures = Some(vec![Signature::new(signer.public_key(), sig)]);
    let mut authority = Authority::bootstrap(genesis.clone()).expect("bootstrap");
    let mut out = vec![genesis.serialize()];
    let mut i = 0u32;
    while out.len() < len {
        let updates = {
            let mut b = UpdateBuilder::new(&authority, vec![&mut signer]);
            let mut meta = locksmith::tka::Meta::new();
            meta.insert("n".into(), i.to_string());
            b.set_key_meta(&signer_public(), meta).expect("update");
            b.finalize().expect("finalize")
        };
        i += 1;
        for u in &updates {
            out.push(u.serialize());
        }
        authority.inform(updates).expect("inform");
    }
    out.truncate(len);
    out
}

fn signer_public() -> [u8; 32] {
    SoftwareSigner::from_seed(&[42; 32], "bench").public_key()
}

fn verify_chain(bytes: &[Vec<u8>]) -> Authority {
    let aums: Vec<Aum> = bytes
        .iter()
        .map(|b| Aum::decode(b).expect("decode"))
        .collect();
    Authority::from_chain(aums).expect("verifies")
}

fn benches(c: &mut Criterion) {
    let chain = build_chain(CHAIN_LEN);
    let raw: Vec<([u8; 32], [u8; 32], [u8; 64])> = chain
        .iter()
        .map(|b| {
            let aum = Aum::decode(b).expect("decode");
            let s = &aum.signatures()[0];
            (
                s.key_id().try_into().expect("32"),
                aum.sig_hash(),
                s.signature().try_into().expect("64"),
            )
        })
        .collect();

    let mut g = c.benchmark_group("chain");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(CHAIN_LEN as u64));
    g.bench_function("raw_ed25519_verify_loop", |b| {
        b.iter(|| {
            for (pk, msg, sig) in &raw {
                assert!(locksmith::tka::sig::verify_zip215(pk, msg, sig));
            }
        })
    });
    g.bench_function("verify_10k_aum_chain", |b| b.iter(|| verify_chain(&chain)));
    g.finish();

    let authority = verify_chain(&chain[..1]);
    let mut signer = SoftwareSigner::from_seed(&[42; 32], "bench");
    let node_key = [9u8; 32];
    let direct = nks::sign_direct(&mut signer, &node_key, None)
        .expect("sign")
        .serialize();
    let direct_sig = nks::NodeKeySignature::decode(&direct).expect("decode");
    let (pk, msg, sig) = (
        signer.public_key(),
        direct_sig.sig_hash(),
        direct_sig.signature.clone().expect("sig"),
    );
    let mut g = c.benchmark_group("authorize");
    g.bench_function("raw_ed25519_verify", |b| {
        b.iter(|| locksmith::tka::sig::verify_zip215(&pk, &msg, &sig))
    });
    g.bench_function("node_key_authorized_direct", |b| {
        b.iter(|| {
            nks::node_key_authorized(authority.state(), &node_key, &direct).expect("authorized")
        })
    });
    g.finish();

    let mut g = c.benchmark_group("kdf");
    g.sample_size(10);
    g.bench_function("argon2i_direct", |b| {
        b.iter_batched(
            || [0u8; 32],
            |mut out| {
                let p = argon2::Params::new(16 * 1024, 4, 4, Some(32)).expect("params");
                argon2::Argon2::new(argon2::Algorithm::Argon2i, argon2::Version::V0x13, p)
                    .hash_password_into(
                        b"secret",
                        locksmith::tka::disablement::DISABLEMENT_SALT,
                        &mut out,
                    )
                    .expect("kdf");
                out
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("disablement_kdf", |b| b.iter(|| disablement_kdf(b"secret")));
    g.finish();
}

criterion_group!(core_benches, benches);

#[path = "support/estimates.rs"]
mod estimates;
use estimates::mean_ns;

fn main() {
    core_benches();
    Criterion::default().configure_from_args().final_summary();
    let ratio = |g: &str, id: &str, base: &str| -> Option<f64> {
        Some(mean_ns(g, base)? / mean_ns(g, id)?)
    };
    if let Some(r) = ratio("chain", "verify_10k_aum_chain", "raw_ed25519_verify_loop") {
        let aums_per_s =
            CHAIN_LEN as f64 / (mean_ns("chain", "verify_10k_aum_chain").unwrap_or(f64::NAN) / 1e9);
        println!("RATIO chain verification throughput / raw verify throughput = {r:.3} ({aums_per_s:.0} AUMs/s)");
    }
    if let Some(r) = ratio(
        "authorize",
        "node_key_authorized_direct",
        "raw_ed25519_verify",
    ) {
        println!("RATIO node-key authorization throughput / raw verify throughput = {r:.3}");
    }
    if let Some(r) = ratio("kdf", "disablement_kdf", "argon2i_direct") {
        println!("RATIO disablement_kdf throughput / argon2 crate direct = {r:.3}");
    }
}
