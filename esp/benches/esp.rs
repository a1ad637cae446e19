//! Criterion benchmarks: ESP encapsulation and decapsulation throughput.
//!
//! Encapsulation and decapsulation throughput for the seed's and the common
//! suites at 64, 512 and 1400-byte inner packets (tunnel mode).
//!
//! Each iteration copies the input into the work buffer first (an in-place
//! transform consumes its input), so the figures include one memcpy of the
//! packet. Decapsulation runs with the replay window off so that the same
//! packet can be fed repeatedly; the window check is a few instructions.
//! Group names are `encap/<suite>` and `decap/<suite>`; parameter = size.

// Test and benchmark code: a panic is a test failure, and the fixtures index
// buffers they just built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation,
    missing_docs
)]

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use esp::{AesKeySize, Direction, Encryption, Integrity, Keys, Mode, Sa, SaParams, Spi};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const SIZES: [usize; 3] = [64, 512, 1400];

fn suites() -> [(&'static str, Encryption, Integrity); 4] {
    [
        (
            "des-cbc+hmac-md5-96",
            Encryption::DesCbc,
            Integrity::HmacMd5_96,
        ),
        (
            "3des-cbc+hmac-sha1-96",
            Encryption::TripleDesCbc,
            Integrity::HmacSha1_96,
        ),
        (
            "aes-128-cbc+hmac-sha1-96",
            Encryption::AesCbc(AesKeySize::Aes128),
            Integrity::HmacSha1_96,
        ),
        (
            "aes-128-gcm-16",
            Encryption::AesGcm16(AesKeySize::Aes128),
            Integrity::None,
        ),
    ]
}

fn sa(e: Encryption, i: Integrity, dir: Direction, now: Instant) -> Sa {
    let ek: Vec<u8> = (0..e.key_len())
        .map(|n| (n as u8).wrapping_mul(29) ^ 0x3c)
        .collect();
    let ak: Vec<u8> = (0..i.key_len())
        .map(|n| (n as u8).wrapping_mul(13) ^ 0xc3)
        .collect();
    let mut p = SaParams::new(
        Spi(0xa479_0fa0),
        dir,
        Mode::Tunnel {
            src: Ipv4Addr::new(11, 11, 11, 1),
            dst: Ipv4Addr::new(11, 11, 11, 2),
        },
        e,
        i,
        Keys::new(&ek, &ak),
    );
    p.allow_weak = true;
    p.replay_window = None;
    Sa::new(p, now).unwrap()
}

fn inner_packet(len: usize) -> Vec<u8> {
    let mut p = vec![0u8; len];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(len as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&[13, 13, 13, 14]);
    p[16..20].copy_from_slice(&[12, 12, 12, 13]);
    for (n, b) in p[20..].iter_mut().enumerate() {
        *b = n as u8;
    }
    p
}

fn bench(c: &mut Criterion) {
    let now = Instant::now();
    for (name, e, i) in suites() {
        let mut g = c.benchmark_group(format!("encap/{name}"));
        for size in SIZES {
            let inner = inner_packet(size);
            let mut out = sa(e, i, Direction::Outbound, now);
            let room = out.room(size);
            let mut buf = vec![0u8; room.headroom + size + room.tailroom];
            let at = room.headroom;
            let mut rng = ChaCha20Rng::from_seed([9; 32]);
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
                b.iter(|| {
                    buf[at..at + size].copy_from_slice(&inner);
                    black_box(
                        out.encapsulate(now, &mut rng, &mut buf, at..at + size)
                            .unwrap(),
                    );
                })
            });
        }
        g.finish();
        let mut g = c.benchmark_group(format!("decap/{name}"));
        for size in SIZES {
            let inner = inner_packet(size);
            let mut out = sa(e, i, Direction::Outbound, now);
            let mut inb = sa(e, i, Direction::Inbound, now);
            let room = out.room(size);
            let mut buf = vec![0u8; room.headroom + size + room.tailroom];
            buf[room.headroom..room.headroom + size].copy_from_slice(&inner);
            let mut rng = ChaCha20Rng::from_seed([9; 32]);
            let r = out
                .encapsulate(now, &mut rng, &mut buf, room.headroom..room.headroom + size)
                .unwrap();
            let wire = buf[r.packet].to_vec();
            let mut work = wire.clone();
            g.throughput(Throughput::Bytes(size as u64));
            g.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
                b.iter(|| {
                    work.copy_from_slice(&wire);
                    black_box(inb.decapsulate(now, &mut work).unwrap());
                })
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
