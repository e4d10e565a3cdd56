//! Deriving 32 disablement values (the most an authority holds): in
//! parallel across cores (`compute_values`, what `lock init` uses) versus
//! one after another, in the same run.

use criterion::{criterion_group, criterion_main, Criterion};
use locksmith::secrets::values::{compute_values, compute_values_sequential, Progress};
use locksmith::secrets::DisablementSecret;
use std::time::Duration;

fn disablement_values(c: &mut Criterion) {
    let secrets = match DisablementSecret::generate_many(32) {
        Ok(s) => s,
        Err(e) => panic!("cannot make secrets for the benchmark: {e}"),
    };
    let mut group = c.benchmark_group("disablement_values_32");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("parallel", |b| {
        b.iter(|| compute_values(std::hint::black_box(&secrets), Progress::Hidden))
    });
    group.bench_function("sequential", |b| {
        b.iter(|| compute_values_sequential(std::hint::black_box(&secrets)))
    });
    group.finish();
}

criterion_group!(benches, disablement_values);
criterion_main!(benches);
