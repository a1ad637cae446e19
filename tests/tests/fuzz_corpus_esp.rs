//! Replays the committed seed corpora of the `esp_decap`, `esp_window`,
//! `esp_ipv4` and `esp_udp` fuzz targets through the same `esp::fuzzing`
//! functions the targets call.

// Test code: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod fuzz_common;
use fuzz_common::corpus;

/// Runs every file of `target`'s corpus through `f`; how many there were.
fn replay(target: &str, f: fn(&[u8])) -> usize {
    let files = corpus(target);
    for (_, data) in &files {
        f(data);
    }
    files.len()
}

#[test]
fn esp_decap_corpus() {
    assert!(replay("esp_decap", esp::fuzzing::decap) >= 20);
}

#[test]
fn esp_window_corpus() {
    assert!(replay("esp_window", esp::fuzzing::window) >= 4);
}

#[test]
fn esp_ipv4_corpus() {
    assert!(replay("esp_ipv4", esp::fuzzing::ipv4) >= 16);
}

#[test]
fn esp_udp_corpus() {
    assert!(replay("esp_udp", esp::fuzzing::udp) >= 20);
}

/// The valid seeds of `esp_udp`, built by `esp/scripts/udp-fuzz-seeds.py`
/// with Python's hmac and struct, are accepted by esp: its decoder agrees
/// with an independent encoder (and the replay above is not vacuous).
#[test]
fn esp_udp_python_seeds_decapsulate() {
    use std::net::{Ipv4Addr, SocketAddrV4};
    use std::time::Instant;

    use esp::{Direction, Encryption, Integrity, Keys, Mode, Sa, SaParams, Spi, UdpEncap};

    let key: Vec<u8> = (0..32u32)
        .map(|i| u8::try_from((i % 251) * 31 % 256).unwrap() ^ 0xa5)
        .collect();
    let sa = || {
        let mut p = SaParams::new(
            Spi(0x0102_0304),
            Direction::Inbound,
            Mode::Transport,
            Encryption::Null,
            Integrity::HmacSha256_128,
            Keys::new(&[], &key),
        );
        p.udp_encap = Some(UdpEncap::default());
        Sa::new(p, Instant::now()).unwrap()
    };
    let files = corpus("esp_udp");
    let seed = |name: &str| {
        files
            .iter()
            .find(|(p, _)| p.file_name().is_some_and(|n| n == name))
            .map(|(_, d)| d[1..].to_vec())
            .unwrap_or_else(|| panic!("seed {name} missing"))
    };
    let mut whole = seed("seed_valid_transport_whole");
    let d = sa().decapsulate(Instant::now(), &mut whole).unwrap();
    assert_eq!(d.next_header, 17);
    assert!(whole[d.packet].ends_with(b"hello through a NAT"));

    let bare = seed("seed_valid_transport_bare");
    let mut buf = vec![0u8; esp::UDP_RX_HEADROOM];
    buf.extend_from_slice(&bare);
    let esp_range = esp::UDP_RX_HEADROOM..buf.len();
    let from = SocketAddrV4::new(Ipv4Addr::new(11, 11, 11, 1), 31_000);
    let to = SocketAddrV4::new(Ipv4Addr::new(11, 11, 11, 2), 4500);
    let d = sa()
        .decapsulate_udp(Instant::now(), &mut buf, esp_range, from, to)
        .unwrap();
    assert_eq!(d.udp_source, Some(from));
    assert!(buf[d.packet].ends_with(b"hello through a NAT"));
}
