//! Bulk signing of 1,000 node-key-style 32-byte digests on SoftHSM2:
//! locksmith's whole pipeline (open_signer + sign_verified for each digest)
//! against a raw cryptoki loop (one session, login, C_Sign per digest) in
//! the same run. Prints the overhead ratio at the end.
//!
//! Needs softhsm2 (Debian). `cargo bench --bench pkcs11_signing`.

use blake2::{Blake2s256, Digest};
use criterion::{criterion_group, Criterion};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, KeyType, ObjectClass};
use cryptoki::session::UserType;
use cryptoki::types::AuthPin;
use locksmith::signers::{self, open_signer, GenerateOptions, OpenOptions};
use locksmith::tka::signer::{sign_verified, sign_verified_batch};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";
const PIN: &str = "123456";
const N: usize = 1000;

struct Setup {
    _dir: tempfile::TempDir,
    spec: String,
    digests: Vec<[u8; 32]>,
}

fn setup() -> Option<&'static Setup> {
    static SETUP: OnceLock<Option<Setup>> = OnceLock::new();
    SETUP
        .get_or_init(|| {
            if !Path::new(MODULE).exists() {
                eprintln!("*** pkcs11_signing bench skipped: {MODULE} missing (apt-get install softhsm2) ***");
                return None;
            }
            let dir = tempfile::tempdir().ok()?;
            // The static fixture is never dropped: remove its directory after exit.
            let _ = Command::new("sh")
                .arg("-c")
                .arg(format!(
                    "while kill -0 {} 2>/dev/null; do sleep 0.5; done; rm -rf '{}'",
                    std::process::id(),
                    dir.path().display()
                ))
                .spawn();
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("hsm-config/softhsm2/new-token.sh");
            let out = Command::new("sh").arg(script).arg(dir.path()).arg("bench").arg(PIN).output().ok()?;
            if !out.status.success() {
                eprintln!("new-token.sh failed: {}", String::from_utf8_lossy(&out.stderr));
                return None;
            }
            let conf = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            std::env::set_var("SOFTHSM2_CONF", &conf);
            let pin_file = dir.path().join("pin");
            std::fs::write(&pin_file, PIN).ok()?;
            let spec = format!(
                "pkcs11:token=bench;object=tl?module-path={MODULE}&pin-source=file:{}",
                pin_file.display()
            );
            signers::generate_key(&spec, &GenerateOptions { label: Some("tl".into()), ..Default::default() })
                .ok()?;
            // Node-key-signature-style digests: BLAKE2s-256 of distinct inputs.
            let digests = (0..N)
                .map(|i| Blake2s256::digest(format!("nodekey:{i:064x}").as_bytes()).into())
                .collect();
            Some(Setup { _dir: dir, spec, digests })
        })
        .as_ref()
}

/// locksmith's pipeline: parse the spec, open (login once), sign and verify each digest.
fn pipeline(s: &Setup) -> usize {
    let mut signer = open_signer(&s.spec, &OpenOptions::default()).expect("open_signer");
    let mut n = 0;
    for d in &s.digests {
        let sig = sign_verified(signer.as_mut(), d).expect("sign_verified");
        n += usize::from(sig[0] & 1);
    }
    n
}

/// locksmith's batch pipeline: open once, sign all, verify on a second thread
/// while the token signs (every signature checked before any is returned).
fn pipeline_batch(s: &Setup) -> usize {
    let mut signer = open_signer(&s.spec, &OpenOptions::default()).expect("open_signer");
    let sigs = sign_verified_batch(signer.as_mut(), &s.digests).expect("sign_verified_batch");
    sigs.iter().map(|sig| usize::from(sig[0] & 1)).sum()
}

/// Raw cryptoki: session, login, find the key, C_Sign per digest; no checks.
fn raw(_s: &Setup) -> usize {
    let ctx = signers::pkcs11::context(Path::new(MODULE)).expect("context");
    let slot = ctx
        .get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|sl| {
            ctx.get_token_info(*sl)
                .map(|i| i.label().trim() == "bench")
                .unwrap_or(false)
        })
        .expect("bench token");
    let session = ctx.open_ro_session(slot).expect("session");
    match session.login(UserType::User, Some(&AuthPin::from(PIN.to_string()))) {
        Ok(())
        | Err(cryptoki::error::Error::Pkcs11(cryptoki::error::RvError::UserAlreadyLoggedIn, _)) => {
        }
        Err(e) => panic!("login: {e}"),
    }
    let key = session
        .find_objects(&[
            Attribute::Class(ObjectClass::PRIVATE_KEY),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Label(b"tl".to_vec()),
        ])
        .expect("find")[0];
    let mech = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
    let mut n = 0;
    for d in &_s.digests {
        let sig = session.sign(&mech, key, d).expect("sign");
        n += usize::from(sig[0] & 1);
    }
    n
}

fn bench(c: &mut Criterion) {
    let Some(s) = setup() else { return };
    let mut g = c.benchmark_group("sign_1000_node_key_digests_softhsm2");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("raw_cryptoki_loop", |b| b.iter(|| raw(s)));
    g.bench_function("locksmith_open_signer_sign_verified", |b| {
        b.iter(|| pipeline(s))
    });
    g.bench_function("locksmith_open_signer_sign_verified_batch", |b| {
        b.iter(|| pipeline_batch(s))
    });
    g.finish();
}

criterion_group!(benches, bench);

fn summary() {
    let Some(s) = setup() else { return };
    let mut raw_t = Vec::new();
    let mut pipe_t = Vec::new();
    let mut batch_t = Vec::new();
    for _ in 0..7 {
        let t = Instant::now();
        std::hint::black_box(raw(s));
        raw_t.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(pipeline(s));
        pipe_t.push(t.elapsed());
        let t = Instant::now();
        std::hint::black_box(pipeline_batch(s));
        batch_t.push(t.elapsed());
    }
    raw_t.sort();
    pipe_t.sort();
    batch_t.sort();
    let (r, p, b) = (
        raw_t[3].as_secs_f64(),
        pipe_t[3].as_secs_f64(),
        batch_t[3].as_secs_f64(),
    );
    println!("\nsummary (median of 7 interleaved runs, {N} digests on SoftHSM2):");
    println!(
        "  raw cryptoki loop                 {:8.1} ms  {:7.1} us/sig",
        r * 1e3,
        r * 1e6 / N as f64
    );
    println!(
        "  open_signer + sign_verified       {:8.1} ms  {:7.1} us/sig  ratio {:.3} ({:+.1}%)",
        p * 1e3,
        p * 1e6 / N as f64,
        p / r,
        (p / r - 1.0) * 100.0
    );
    println!(
        "  open_signer + sign_verified_batch {:8.1} ms  {:7.1} us/sig  ratio {:.3} ({:+.1}%)",
        b * 1e3,
        b * 1e6 / N as f64,
        b / r,
        (b / r - 1.0) * 100.0
    );
}

fn main() {
    benches();
    summary();
    Criterion::default().configure_from_args().final_summary();
}
