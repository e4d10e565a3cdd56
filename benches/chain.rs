//! Chain verification at upstream's chain shape (issue 14), each figure
//! beside baselines measured in the same run, with the ratios printed at
//! the end:
//! - `read_files`: reading the chain's AUM files, nothing else;
//! - `raw_batch_verify`: one Ed25519 (ZIP-215) batch verification of the
//!   same signatures over the same messages, nothing else;
//! - `chain_dir`: what `lock status --chain DIR` does: read and decode the
//!   directory, order it, bootstrap and inform;
//! - `store_full`: loading a store with no verified cache (full
//!   re-verification from the anchor);
//! - `store_cached`: loading the same store through its verified cache;
//! - `store_import`: `lock import` of the whole chain but its genesis into
//!   a store that holds only the genesis (plan: verify against the store,
//!   every checkpoint checked; commit: the one pack file written and
//!   synced, the verified cache recorded).
//!
//! The chain is built with the core's own builder and a software key
//! (`examples/support/chain_shape.rs`, shared with `gen-chain`).
//! `LOCKSMITH_BENCH_SIZES=1000,10000` picks the sizes (default 1000 and
//! 10000; 100,000 is measured with the CLI, see docs/performance.md).

#[path = "../examples/support/chain_shape.rs"]
mod chain_shape;

use criterion::{criterion_group, Criterion, Throughput};
use locksmith::store::Store;
use locksmith::tka::{Aum, Authority};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn sizes() -> Vec<usize> {
    std::env::var("LOCKSMITH_BENCH_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![1_000, 10_000])
}

/// The chain as files in `dir`, and its (key, message, signature) triples.
fn write_chain(dir: &Path, count: usize) -> Vec<([u8; 32], [u8; 32], [u8; 64])> {
    let mut sigs = Vec::new();
    let mut n = 0usize;
    std::fs::create_dir_all(dir).expect("chain dir");
    chain_shape::build(count, |aum| {
        std::fs::write(dir.join(format!("{n:07}.aum")), aum.serialize())?;
        n += 1;
        for s in aum.signatures() {
            sigs.push((
                s.key_id().try_into()?,
                aum.sig_hash(),
                s.signature().try_into()?,
            ));
        }
        Ok(())
    })
    .expect("chain builds");
    sigs
}

fn files_of(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    paths
}

fn raw_batch_verify(sigs: &[([u8; 32], [u8; 32], [u8; 64])]) {
    let mut v = ed25519_consensus::batch::Verifier::new();
    for (pk, msg, sig) in sigs {
        v.queue((
            ed25519_consensus::VerificationKeyBytes::from(*pk),
            ed25519_consensus::Signature::from(*sig),
            &msg[..],
        ));
    }
    assert!(v.verify(rand_core::OsRng).is_ok());
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().expect("tempdir");
    for count in sizes() {
        let dir = tmp.path().join(format!("chain-{count}"));
        let sigs = write_chain(&dir, count);
        let files = files_of(&dir);
        let arg = vec![dir.display().to_string()];
        let store_dir = tmp.path().join(format!("store-{count}"));
        let authority = Authority::from_chain(locksmith::input::read_chain(&arg).expect("reads"))
            .expect("verifies");
        drop(Store::create(&store_dir, &authority).expect("store"));
        let cache = store_dir.join("verified-cache");

        let mut g = c.benchmark_group(format!("chain_{count}"));
        g.sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(if count > 5_000 { 6 } else { 3 }))
            .throughput(Throughput::Elements(files.len() as u64));
        g.bench_function("read_files", |b| {
            b.iter(|| {
                files
                    .iter()
                    .map(|p| std::fs::read(p).expect("read").len())
                    .sum::<usize>()
            })
        });
        g.bench_function("raw_batch_verify", |b| b.iter(|| raw_batch_verify(&sigs)));
        g.bench_function("chain_dir", |b| {
            b.iter(|| {
                let aums: Vec<Aum> = locksmith::input::read_chain(&arg).expect("reads");
                Authority::from_chain(aums).expect("verifies").head()
            })
        });
        g.bench_function("store_full", |b| {
            b.iter(|| {
                let _ = std::fs::remove_file(&cache);
                let store = Store::open(&store_dir, false).expect("open");
                store.load().expect("loads").head()
            })
        });
        // The last full load recorded the cache again.
        g.bench_function("store_cached", |b| {
            b.iter(|| {
                let store = Store::open(&store_dir, false).expect("open");
                store.load().expect("loads").head()
            })
        });
        let aums = locksmith::input::read_chain(&arg).expect("reads");
        let genesis = Authority::from_chain(aums[..1].to_vec()).expect("genesis");
        let updates = aums[1..].to_vec();
        let mut n = 0usize;
        g.bench_function("store_import", |b| {
            b.iter_batched(
                || {
                    n += 1;
                    let dir = tmp.path().join(format!("import-{count}-{n}"));
                    drop(Store::create(&dir, &genesis).expect("store"));
                    (Store::open(&dir, true).expect("open"), updates.clone())
                },
                |(store, updates)| {
                    let plan = store.plan_import(updates, false).expect("verifies");
                    store.commit_import(&plan).expect("writes")
                },
                criterion::BatchSize::PerIteration,
            )
        });
        g.finish();
    }
}

criterion_group!(chain_benches, benches);

#[path = "support/estimates.rs"]
mod estimates;
use estimates::mean_ns;

fn main() {
    chain_benches();
    Criterion::default().configure_from_args().final_summary();
    for count in sizes() {
        let g = format!("chain_{count}");
        for id in ["chain_dir", "store_full", "store_cached", "store_import"] {
            for base in ["raw_batch_verify", "read_files"] {
                if let (Some(t), Some(b)) = (mean_ns(&g, id), mean_ns(&g, base)) {
                    println!("RATIO {g} {id} time / {base} time = {:.2}", t / b);
                }
            }
        }
    }
}
