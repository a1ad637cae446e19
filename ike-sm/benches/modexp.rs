//! Diffie-Hellman cost per operation: the modular-exponentiation part of the
//! handshake benchmark (issue 3, item 7).
//!
//! For MODP groups 1, 2, 5 and 14:
//! - `dh_keygen`: `DhKeyPair::generate` (draw x, compute g^x mod p);
//! - `dh_shared`: `DhKeyPair::shared_secret` (check y, compute y^x mod p);
//! - `dh_shared_full_exponent`: the same with a private value as long as
//!   the prime (what an X9.42-style implementation uses), to show what the
//!   short exponent saves;
//! - `num_bigint_modpow`: the same y^x with num-bigint's variable-time
//!   `modpow` and our exponent length: a baseline measured in the same run.
//!
//! Time is the benchmark thread's CPU time (Linux
//! `/proc/thread-self/schedstat`, nanosecond resolution), not wall time:
//! the build machine is shared, and CPU time is what `openssl speed`
//! reports too, so the figures compare with it. Where that file is missing,
//! wall time is used instead.
//!
//! Run: `nice cargo bench -p ike-sm --bench modexp`.

// Benchmark set-up may panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    missing_docs
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ike_sm::crypto::{DhGroup, DhKeyPair};
use num_bigint::BigUint;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

mod cpu_time;
use cpu_time::ThreadCpuTime;

const GROUPS: [DhGroup; 4] = [
    DhGroup::Modp768,
    DhGroup::Modp1024,
    DhGroup::Modp1536,
    DhGroup::Modp2048,
];

fn modexp(c: &mut Criterion<ThreadCpuTime>) {
    let mut rng = ChaCha20Rng::from_seed([42; 32]);

    let mut keygen = c.benchmark_group("dh_keygen");
    for g in GROUPS {
        keygen.bench_with_input(BenchmarkId::from_parameter(g.number()), &g, |b, &g| {
            b.iter(|| DhKeyPair::generate(black_box(g), &mut rng));
        });
    }
    keygen.finish();

    let mut shared = c.benchmark_group("dh_shared");
    for g in GROUPS {
        let ours = DhKeyPair::generate(g, &mut rng);
        let peer = DhKeyPair::generate(g, &mut rng);
        shared.bench_with_input(BenchmarkId::from_parameter(g.number()), &g, |b, _| {
            b.iter(|| ours.shared_secret(black_box(peer.public_value())).unwrap());
        });
    }
    shared.finish();

    let mut full = c.benchmark_group("dh_shared_full_exponent");
    for g in GROUPS {
        let mut x = vec![0u8; g.prime_len()];
        rng.fill_bytes(&mut x);
        x[0] &= 0x7f;
        let ours = DhKeyPair::from_private_value(g, &x).unwrap();
        let peer = DhKeyPair::generate(g, &mut rng);
        full.bench_with_input(BenchmarkId::from_parameter(g.number()), &g, |b, _| {
            b.iter(|| ours.shared_secret(black_box(peer.public_value())).unwrap());
        });
    }
    full.finish();

    let mut oracle = c.benchmark_group("num_bigint_modpow");
    for g in GROUPS {
        let p = BigUint::from_bytes_be(&g.prime());
        let ours = DhKeyPair::generate(g, &mut rng);
        let peer = DhKeyPair::generate(g, &mut rng);
        let x = BigUint::from_bytes_be(ours.private_value().expose());
        let y = BigUint::from_bytes_be(peer.public_value());
        oracle.bench_with_input(BenchmarkId::from_parameter(g.number()), &g, |b, _| {
            b.iter(|| black_box(&y).modpow(black_box(&x), &p));
        });
    }
    oracle.finish();
}

criterion_group! {
    name = benches;
    // The machine is shared: short, small samples.
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = modexp
}
criterion_main!(benches);
