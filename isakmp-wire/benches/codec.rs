//! Parse and emit throughput of the codec on real messages: Main Mode
//! message 1 of `vectors/captures/ipsec-ikev1-isakmp-main-mode.pcap`
//! (frame 1, 168 bytes), and Quick Mode message 1 of
//! `vectors/captures/ikev1-certs.pcap` (frame 7), decrypted with the
//! published key and IV and re-framed as a cleartext message.
//!
//! `cargo bench -p isakmp-wire --bench codec`

#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

#[path = "../examples/isakmp-dump/capture.rs"]
mod capture;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use isakmp_wire::{DecryptedBody, Flags, Message, MessageRepr, ParseConfig, ParsedMessage};

fn frame(name: &str, n: usize) -> Vec<u8> {
    let path = format!("{}/../vectors/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(path).unwrap();
    capture::isakmp_datagrams(&bytes)
        .unwrap()
        .into_iter()
        .find(|d| d.frame == n)
        .unwrap()
        .isakmp
}

fn quick_mode_clear() -> Vec<u8> {
    use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::NoPadding};
    let bytes = frame("ikev1-certs.pcap", 7);
    let config = ParseConfig::default();
    let ParsedMessage::Encrypted(e) = ParsedMessage::parse(&bytes, &config).unwrap() else {
        unreachable!()
    };
    let key = hex::decode("735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240").unwrap();
    let iv = hex::decode("3f875b502a873685").unwrap();
    let mut plain = e.ciphertext.to_vec();
    let dec = cbc::Decryptor::<des::TdesEde3>::new_from_slices(&key, &iv).unwrap();
    let n = dec.decrypt_padded::<NoPadding>(&mut plain).unwrap().len();
    plain.truncate(n);
    let body =
        DecryptedBody::parse(e.first_payload, e.header.exchange_type, &plain, &config).unwrap();
    let mut header = e.header;
    header.flags.remove(Flags::ENCRYPTION);
    MessageRepr {
        header,
        payloads: body.payloads,
    }
    .to_vec()
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let config = ParseConfig::default();
    let cases = [
        ("main_mode_1", frame("ipsec-ikev1-isakmp-main-mode.pcap", 1)),
        ("quick_mode_1", quick_mode_clear()),
    ];
    for (name, bytes) in &cases {
        let mut group = c.benchmark_group(*name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("parse", |b| {
            b.iter(|| {
                let m = Message::new_checked(black_box(&bytes[..])).unwrap();
                black_box(MessageRepr::parse(&m, &config).unwrap())
            })
        });
        let m = Message::new_checked(&bytes[..]).unwrap();
        let repr = MessageRepr::parse(&m, &config).unwrap();
        let mut buf = vec![0u8; repr.buffer_len()];
        group.bench_function("emit", |b| {
            b.iter(|| black_box(black_box(&repr).emit(&mut buf).unwrap()))
        });
        // Baseline in the same run: copying the bytes (what any codec must beat).
        group.bench_function("memcpy_baseline", |b| {
            let mut out = vec![0u8; bytes.len()];
            b.iter(|| out.copy_from_slice(black_box(&bytes[..])))
        });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
