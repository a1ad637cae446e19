//! Full Main Mode + Quick Mode handshakes between two in-process
//! `Endpoint`s (issue 3, item 7), next to the Diffie-Hellman work the same
//! handshake needs, measured in the same run, so that the engine's
//! overhead beyond DH shows as a ratio.
//!
//! For MODP groups 1, 2 and 14 (phase 1: AES-128-CBC, SHA-1, PSK; Quick
//! Mode: ESP AES-128 + HMAC-SHA1, no PFS):
//! - `handshake`: both endpoints created, MM1..MM6 and QM1..QM3 exchanged
//!   in memory until both report `Phase2Established` (one iteration = one
//!   complete handshake, both sides' work);
//! - `handshake_dh_only`: the four modular exponentiations of that
//!   handshake (each side's `DhKeyPair::generate` and `shared_secret`).
//!
//! `handshake / handshake_dh_only` is the cost of everything else (KDF,
//! HMACs, CBC, encoding, state) relative to DH.
//!
//! Time is the benchmark thread's CPU time (as in `benches/modexp.rs`).
//! Run: `nice cargo bench -p ike-sm --bench handshake`.

// Benchmark set-up may panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::cast_precision_loss,
    clippy::panic,
    missing_docs
)]

use std::hint::black_box;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ike_sm::crypto::{DhGroup, DhKeyPair, EncryptionAlgorithm, HashAlgorithm};
use ike_sm::{
    Config, Endpoint, EspEncryption, EspIntegrity, EspMode, Event, IsakmpPolicy, Lifetime,
    Phase2Policy, Phase2Request, ProxyId, TransformSet,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

mod cpu_time;
use cpu_time::ThreadCpuTime;

const GROUPS: [DhGroup; 3] = [DhGroup::Modp768, DhGroup::Modp1024, DhGroup::Modp2048];

fn set() -> TransformSet {
    TransformSet::new(
        "aes-sha",
        EspEncryption::AesCbc { key_bits: 128 },
        EspIntegrity::HmacSha1_96,
        EspMode::Tunnel,
    )
}

fn config(group: DhGroup) -> Arc<Config> {
    let mut c = Config::default().with_psk_for_address(b"bench", "0.0.0.0".parse().unwrap(), 0);
    c.policies = vec![IsakmpPolicy {
        encryption: EncryptionAlgorithm::Aes128Cbc,
        hash: HashAlgorithm::Sha1,
        group,
        ..IsakmpPolicy::new(1)
    }];
    c.phase2_policies.push(Phase2Policy {
        peer: None,
        local_proxy: ProxyId::subnet("0.0.0.0".parse().unwrap(), 0),
        remote_proxy: ProxyId::subnet("0.0.0.0".parse().unwrap(), 0),
        transform_sets: vec![set()],
        pfs: None,
        lifetime: Lifetime::IOS_IPSEC,
    });
    Arc::new(c)
}

/// One complete handshake; returns the number of datagrams exchanged.
fn handshake(cfg: &Arc<Config>, seed: &mut u8, now: Instant) -> usize {
    let a_addr: SocketAddr = "10.0.0.1:500".parse().unwrap();
    let b_addr: SocketAddr = "10.0.0.2:500".parse().unwrap();
    *seed = seed.wrapping_add(1);
    let mut a = Endpoint::new(cfg.clone(), Box::new(ChaCha20Rng::from_seed([*seed; 32])));
    let mut b = Endpoint::new(cfg.clone(), Box::new(ChaCha20Rng::from_seed([!*seed; 32])));
    a.initiate(
        now,
        Phase2Request {
            peer: b_addr,
            local: a_addr,
            local_proxy: ProxyId::subnet("192.168.1.0".parse().unwrap(), 24),
            remote_proxy: ProxyId::subnet("192.168.2.0".parse().unwrap(), 24),
            transform_sets: vec![set()],
            pfs: None,
            lifetime: Lifetime::IOS_IPSEC,
        },
    )
    .unwrap();
    let (mut up_a, mut up_b, mut n) = (false, false, 0usize);
    for _ in 0..32 {
        while let Some(t) = a.poll_transmit() {
            n += 1;
            b.handle_datagram(now, t.remote, t.local, &t.data);
        }
        while let Some(t) = b.poll_transmit() {
            n += 1;
            a.handle_datagram(now, t.remote, t.local, &t.data);
        }
        while let Some(e) = a.poll_event() {
            up_a |= matches!(e, Event::Phase2Established(_));
        }
        while let Some(e) = b.poll_event() {
            up_b |= matches!(e, Event::Phase2Established(_));
        }
        if up_a && up_b {
            return n;
        }
    }
    panic!("handshake did not complete");
}

fn handshakes(c: &mut Criterion<ThreadCpuTime>) {
    let now = Instant::now();
    let mut full = c.benchmark_group("handshake");
    full.throughput(Throughput::Elements(1));
    for g in GROUPS {
        let cfg = config(g);
        let mut seed = 0u8;
        assert_eq!(handshake(&cfg, &mut seed, now), 9, "MM1..MM6 + QM1..QM3");
        full.bench_with_input(BenchmarkId::from_parameter(g.number()), &g, |b, _| {
            b.iter(|| handshake(black_box(&cfg), &mut seed, now));
        });
    }
    full.finish();

    let mut rng = ChaCha20Rng::from_seed([42; 32]);
    let mut dh = c.benchmark_group("handshake_dh_only");
    dh.throughput(Throughput::Elements(1));
    for g in GROUPS {
        dh.bench_with_input(BenchmarkId::from_parameter(g.number()), &g, |b, &g| {
            b.iter(|| {
                let i = DhKeyPair::generate(black_box(g), &mut rng);
                let r = DhKeyPair::generate(black_box(g), &mut rng);
                let s1 = i.shared_secret(r.public_value()).unwrap();
                let s2 = r.shared_secret(i.public_value()).unwrap();
                black_box((s1, s2))
            });
        });
    }
    dh.finish();
}

criterion_group! {
    name = benches;
    // The machine is shared: short, small samples.
    config = Criterion::default()
        .with_measurement(ThreadCpuTime)
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    targets = handshakes
}
criterion_main!(benches);
