//! UDP-encapsulated ESP (RFC 3948): the wire layout against RFC 3948
//! s.2.1 computed here, round trips through both entry points (the whole
//! IPv4 packet and the bare ESP bytes a UDP socket gives), the transport
//! mode checksum fix-up across a simulated NAT, and every framing error,
//! each leaving the SA's replay window as it was.

// Test code: a panic is a test failure, and the fixtures index buffers they
// just built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use esp::{
    AesKeySize, ConfigError, DecapError, Direction, Encryption, Integrity, Keys, Mode, Sa,
    SaParams, SaTable, Spi, UDP_RX_HEADROOM, UdpEncap,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const SPI: u32 = 0x4a5b_6c7d;
const LOCAL: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const PEER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);
/// The peer's NAT-mapped source port.
const PEER_PORT: u16 = 31_337;

/// An independent RFC 1071 sum (not esp's): folded, not complemented.
fn sum16(data: &[u8]) -> u16 {
    let mut s: u64 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], 0])
        };
        s += u64::from(w);
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// TCP/UDP checksum over the pseudo-header, computed here.
fn l4_checksum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, segment: &[u8]) -> u16 {
    let mut v = Vec::new();
    v.extend_from_slice(&src.octets());
    v.extend_from_slice(&dst.octets());
    v.extend_from_slice(&[0, proto]);
    v.extend_from_slice(&(segment.len() as u16).to_be_bytes());
    v.extend_from_slice(segment);
    !sum16(&v)
}

/// Whether a TCP or UDP segment's checksum verifies against the addresses.
fn l4_verifies(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, segment: &[u8]) -> bool {
    l4_checksum(src, dst, proto, segment) == 0
}

/// An IPv4 packet built here: header (checksummed) + payload.
fn ipv4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0];
    p[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let c = !sum16(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// A UDP datagram with a correct checksum for its addresses.
fn udp_packet(src: Ipv4Addr, dst: Ipv4Addr, sport: u16, dport: u16, data: &[u8]) -> Vec<u8> {
    let mut seg = Vec::new();
    seg.extend_from_slice(&sport.to_be_bytes());
    seg.extend_from_slice(&dport.to_be_bytes());
    seg.extend_from_slice(&((8 + data.len()) as u16).to_be_bytes());
    seg.extend_from_slice(&[0, 0]);
    seg.extend_from_slice(data);
    let c = l4_checksum(src, dst, 17, &seg);
    seg[6..8].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, 17, &seg)
}

/// A TCP segment (20-byte header, ACK|PSH) with a correct checksum.
fn tcp_packet(src: Ipv4Addr, dst: Ipv4Addr, data: &[u8]) -> Vec<u8> {
    let mut seg = vec![
        0x30, 0x39, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 2, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
    ];
    seg.extend_from_slice(data);
    let c = l4_checksum(src, dst, 6, &seg);
    seg[16..18].copy_from_slice(&c.to_be_bytes());
    ipv4(src, dst, 6, &seg)
}

fn params(dir: Direction, mode: Mode, encap: Option<UdpEncap>) -> SaParams {
    let mut p = SaParams::new(
        Spi(SPI),
        dir,
        mode,
        Encryption::AesCbc(AesKeySize::Aes128),
        Integrity::HmacSha1_96,
        Keys::new(&[0x11; 16], &[0x22; 20]),
    );
    p.udp_encap = encap;
    p
}

fn tunnel_out() -> Mode {
    Mode::Tunnel {
        src: LOCAL,
        dst: PEER,
    }
}

fn tunnel_in() -> Mode {
    Mode::Tunnel {
        src: PEER,
        dst: LOCAL,
    }
}

/// An outbound SA from port 4500 to port 4500, and an inbound SA with the
/// same keys on port 4500 that takes its packets (a NAT on the way may
/// change their source).
fn pair(mode_out: Mode, mode_in: Mode, inbound_encap: UdpEncap) -> (Sa, Sa) {
    let now = Instant::now();
    let out = Sa::new(
        params(Direction::Outbound, mode_out, Some(UdpEncap::default())),
        now,
    )
    .unwrap();
    let inb = Sa::new(
        params(Direction::Inbound, mode_in, Some(inbound_encap)),
        now,
    )
    .unwrap();
    (out, inb)
}

/// Encapsulates `inner`; returns the buffer and the result.
fn send(out: &mut Sa, inner: &[u8]) -> (Vec<u8>, esp::Encapsulated) {
    let room = out.room(inner.len());
    let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
    buf[room.headroom..room.headroom + inner.len()].copy_from_slice(inner);
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let e = out
        .encapsulate(
            Instant::now(),
            &mut rng,
            &mut buf,
            room.headroom..room.headroom + inner.len(),
        )
        .unwrap();
    (buf, e)
}

fn ping() -> Vec<u8> {
    ipv4(
        Ipv4Addr::new(10, 1, 1, 5),
        Ipv4Addr::new(10, 2, 2, 6),
        1,
        &[8, 0, 0xf7, 0xfe, 0, 1, 0, 0],
    )
}

/// RFC 3948 s.2.1: IPv4 header (protocol 17), UDP header (source port,
/// destination port, length, checksum 0), then ESP from its SPI; every
/// field computed here from the layout, not by the encoder.
#[test]
fn tunnel_packet_matches_rfc3948_layout() {
    // To the peer's NAT-mapped port, so that the two ports differ.
    let mut out = Sa::new(
        params(
            Direction::Outbound,
            tunnel_out(),
            Some(UdpEncap::new(4500, PEER_PORT)),
        ),
        Instant::now(),
    )
    .unwrap();
    let plain = Sa::new(
        params(Direction::Outbound, tunnel_out(), None),
        Instant::now(),
    )
    .unwrap();
    let inner = ping();
    assert_eq!(
        out.room(inner.len()).headroom,
        plain.room(inner.len()).headroom + 8,
        "UDP encapsulation needs 8 bytes more headroom"
    );
    assert_eq!(
        out.room(inner.len()).tailroom,
        plain.room(inner.len()).tailroom
    );
    let (buf, e) = send(&mut out, &inner);
    let p = &buf[e.packet.clone()];
    // ESP part: SPI(4) seq(4) IV(16) ciphertext(ping 28 + pad 2 + 2 -> 32) ICV(12).
    let esp_len = 8 + 16 + 32 + 12;
    assert_eq!(p.len(), 20 + 8 + esp_len);
    assert_eq!(p[0], 0x45);
    assert_eq!(u16::from_be_bytes([p[2], p[3]]) as usize, p.len());
    assert_eq!(p[9], 17, "outer protocol is UDP");
    assert_eq!(&p[12..16], &LOCAL.octets());
    assert_eq!(&p[16..20], &PEER.octets());
    assert_eq!(sum16(&p[..20]), 0xffff, "IPv4 header checksum verifies");
    assert_eq!(u16::from_be_bytes([p[20], p[21]]), 4500, "source port");
    assert_eq!(
        u16::from_be_bytes([p[22], p[23]]),
        PEER_PORT,
        "destination port"
    );
    assert_eq!(
        u16::from_be_bytes([p[24], p[25]]) as usize,
        8 + esp_len,
        "UDP length"
    );
    assert_eq!(&p[26..28], &[0, 0], "UDP checksum zero (RFC 3948 s.2.1)");
    assert_eq!(&p[28..32], &SPI.to_be_bytes(), "ESP header right after UDP");
    assert_eq!(&p[32..36], &1u32.to_be_bytes());
    // The ranges: the ESP part is the UDP payload.
    assert_eq!(e.esp.start, e.packet.start + 28);
    assert_eq!(e.esp.end, e.packet.end);
    let udp = e
        .udp
        .expect("a UDP-encapsulated SA says what a socket sends");
    assert_eq!(udp.payload, e.esp);
    assert_eq!(udp.source, SocketAddrV4::new(LOCAL, 4500));
    assert_eq!(udp.destination, SocketAddrV4::new(PEER, PEER_PORT));
    // A plain SA says nothing of UDP.
    let mut plain = plain;
    let (_, e) = send(&mut plain, &inner);
    assert_eq!(e.udp, None);
    assert_eq!(e.esp.start, e.packet.start + 20);
}

#[test]
fn tunnel_round_trip_whole_packet_and_bare_esp() {
    let (mut out, inb) = pair(tunnel_out(), tunnel_in(), UdpEncap::default());
    let mut table = SaTable::new();
    table.insert(inb).unwrap();
    let inner = ping();
    let now = Instant::now();

    // The whole packet, as a simulator or a raw socket has it; a NAT
    // changed its source port on the way (which the checksum-less UDP
    // header allows without touching it).
    let (buf, e) = send(&mut out, &inner);
    let mut wire = buf[e.packet.clone()].to_vec();
    let mut nat = wire.clone();
    nat[20..22].copy_from_slice(&PEER_PORT.to_be_bytes());
    let (_, d) = table.decapsulate(now, &mut nat).unwrap();
    assert_eq!(&nat[d.packet.clone()], &inner[..]);
    assert_eq!(d.udp_source, Some(SocketAddrV4::new(LOCAL, PEER_PORT)));
    // The same packet again is a replay.
    assert!(matches!(
        table.decapsulate(now, &mut wire),
        Err(DecapError::Replay { .. })
    ));

    // The ESP bytes alone, as a UDP socket on port 4500 gives them.
    let (buf, e) = send(&mut out, &inner);
    let mut rx = buf[e.esp.clone()].to_vec();
    let from = SocketAddrV4::new(Ipv4Addr::new(203, 0, 113, 9), 40_000);
    let to = SocketAddrV4::new(PEER, 4500);
    let (_, d) = table
        .decapsulate_udp(now, &mut rx, 0..e.esp.len(), from, to)
        .unwrap();
    assert_eq!(&rx[d.packet.clone()], &inner[..]);
    assert_eq!(d.udp_source, Some(from));
    assert_eq!(d.seq, 2);
}

/// Transport mode through a NAT: the sender's TCP/UDP checksum covers its
/// own addresses; after the NAT changed the outer source, the restored
/// packet carries the NAT's address, and RFC 3948 s.3.1.2 makes the
/// checksum right for it, incrementally with NAT-OA, by recomputing
/// without.
#[test]
fn transport_checksum_fixup_across_a_nat() {
    let private = Ipv4Addr::new(10, 0, 0, 2);
    let public = Ipv4Addr::new(198, 51, 100, 77);
    let server = Ipv4Addr::new(192, 0, 2, 1);
    let inners = [
        (
            17u8,
            udp_packet(private, server, 5000, 53, b"query, odd length"),
        ),
        (6u8, tcp_packet(private, server, b"GET / HTTP/1.0\r\n\r\n")),
    ];
    let with_oa = UdpEncap::default().with_original_addresses(Some(private), Some(server));
    for (proto, inner) in inners {
        for encap in [with_oa, UdpEncap::default()] {
            let (mut out, mut inb) = pair(Mode::Transport, Mode::Transport, encap);
            let (buf, e) = send(&mut out, &inner);
            let mut wire = buf[e.packet.clone()].to_vec();
            assert_eq!(wire[9], 17);
            // The NAT: new source address (header checksum redone) and port.
            wire[12..16].copy_from_slice(&public.octets());
            wire[10..12].copy_from_slice(&[0, 0]);
            let c = !sum16(&wire[..20]);
            wire[10..12].copy_from_slice(&c.to_be_bytes());
            wire[20..22].copy_from_slice(&PEER_PORT.to_be_bytes());
            // Before the fix-up the inner checksum would not verify.
            assert!(!l4_verifies(public, server, proto, &inner[20..]));

            let d = inb.decapsulate(Instant::now(), &mut wire).unwrap();
            let got = &wire[d.packet.clone()];
            assert_eq!(got[9], proto);
            assert_eq!(&got[12..16], &public.octets());
            assert_eq!(sum16(&got[..20]), 0xffff);
            assert!(
                l4_verifies(public, server, proto, &got[20..]),
                "protocol {proto}, NAT-OA {:?}: checksum not fixed",
                encap.original_source
            );
            // Everything but the checksum field is the sender's.
            let at = if proto == 6 { 16 } else { 6 };
            let (mut a, mut b) = (got[20..].to_vec(), inner[20..].to_vec());
            a[at..at + 2].fill(0);
            b[at..at + 2].fill(0);
            assert_eq!(a, b);
            assert_eq!(d.udp_source, Some(SocketAddrV4::new(public, PEER_PORT)));

            // And the bare entry point, the header rebuilt from the socket's
            // addresses.
            let (buf, e) = send(&mut out, &inner);
            let mut rx = vec![0u8; UDP_RX_HEADROOM];
            rx.extend_from_slice(&buf[e.esp.clone()]);
            let esp = UDP_RX_HEADROOM..rx.len();
            let d = inb
                .decapsulate_udp(
                    Instant::now(),
                    &mut rx,
                    esp,
                    SocketAddrV4::new(public, PEER_PORT),
                    SocketAddrV4::new(server, 4500),
                )
                .unwrap();
            let got = &rx[d.packet.clone()];
            assert_eq!(got.len(), inner.len());
            assert_eq!(sum16(&got[..20]), 0xffff);
            assert_eq!((got[9], &got[12..16]), (proto, &public.octets()[..]));
            assert!(l4_verifies(public, server, proto, &got[20..]));
        }
    }
}

/// A UDP packet whose sender sent no checksum keeps none.
#[test]
fn transport_udp_without_checksum_stays_without() {
    let private = Ipv4Addr::new(10, 0, 0, 2);
    let server = Ipv4Addr::new(192, 0, 2, 1);
    let mut inner = udp_packet(private, server, 5000, 53, b"x");
    inner[26..28].fill(0);
    let (mut out, mut inb) = pair(Mode::Transport, Mode::Transport, UdpEncap::default());
    let (buf, e) = send(&mut out, &inner);
    let mut wire = buf[e.packet].to_vec();
    wire[12..16].copy_from_slice(&[198, 51, 100, 77]);
    wire[10..12].fill(0);
    let c = !sum16(&wire[..20]);
    wire[10..12].copy_from_slice(&c.to_be_bytes());
    let d = inb.decapsulate(Instant::now(), &mut wire).unwrap();
    assert_eq!(&wire[d.packet.start + 26..d.packet.start + 28], &[0, 0]);
}

/// A packet of the inbound tunnel pair, ready to be mangled.
fn good_packet() -> (Sa, Vec<u8>, usize) {
    let (mut out, inb) = pair(tunnel_out(), tunnel_in(), UdpEncap::default());
    let (buf, e) = send(&mut out, &ping());
    let esp_off = e.esp.start - e.packet.start;
    (inb, buf[e.packet].to_vec(), esp_off)
}

/// The IPv4 header's total length and checksum set for a new payload.
fn reframe(mut p: Vec<u8>) -> Vec<u8> {
    let len = p.len() as u16;
    p[2..4].copy_from_slice(&len.to_be_bytes());
    p[10..12].fill(0);
    let c = !sum16(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p
}

/// An outer IPv4/UDP packet to port 4500 carrying `payload`.
fn udp_to_4500(payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&PEER.octets());
    p[16..20].copy_from_slice(&LOCAL.octets());
    p.extend_from_slice(&4500u16.to_be_bytes());
    p.extend_from_slice(&4500u16.to_be_bytes());
    p.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    p.extend_from_slice(&[0, 0]);
    p.extend_from_slice(payload);
    reframe(p)
}

/// Every malformed UDP-encapsulated input is its own typed error, and
/// none touches the SA: its window and packet count stay, and the good
/// packet is still accepted afterwards.
#[test]
fn framing_errors_leave_the_sa_untouched() {
    let (mut inb, good, _) = good_packet();
    let mut cases: Vec<(&str, Vec<u8>, DecapError)> = Vec::new();
    // UDP length larger, smaller than the IPv4 payload; below 8.
    let ip_payload = good.len() - 20;
    for (name, len) in [
        ("longer UDP length", ip_payload + 1),
        ("shorter UDP length", ip_payload - 1),
        ("UDP length 7", 7),
        ("UDP length 0", 0),
    ] {
        let mut p = good.clone();
        p[24..26].copy_from_slice(&(len as u16).to_be_bytes());
        cases.push((
            name,
            p,
            DecapError::UdpLength {
                length: len,
                available: ip_payload,
            },
        ));
    }
    // An IPv4 payload too short for a UDP header.
    let mut p = good[..20].to_vec();
    p.extend_from_slice(&[0x11, 0x94, 0x11, 0x94, 0, 8]);
    cases.push((
        "6-byte UDP header",
        reframe(p),
        DecapError::UdpLength {
            length: 8,
            available: 6,
        },
    ));
    cases.push(("keepalive", udp_to_4500(&[0xff]), DecapError::Keepalive));
    for len in 1..=3 {
        cases.push((
            "truncated marker",
            udp_to_4500(&vec![0; len]),
            DecapError::TruncatedMarker { len },
        ));
    }
    // SPI 0: an IKE message after the non-ESP marker, or a zero SPI.
    let mut zero_spi = good[28..].to_vec();
    zero_spi[..4].fill(0);
    cases.push(("zero SPI", udp_to_4500(&zero_spi), DecapError::NonEspMarker));
    cases.push((
        "marker only",
        udp_to_4500(&[0, 0, 0, 0]),
        DecapError::NonEspMarker,
    ));
    // Another destination port.
    let mut p = good.clone();
    p[22..24].copy_from_slice(&500u16.to_be_bytes());
    cases.push((
        "port 500",
        p,
        DecapError::UdpPort {
            expected: 4500,
            got: 500,
        },
    ));
    // Plain ESP (protocol 50) for this UDP-encapsulated SA.
    let mut p = good[..20].to_vec();
    p[9] = 50;
    p.extend_from_slice(&good[28..]);
    cases.push((
        "plain ESP",
        reframe(p),
        DecapError::UdpEncapsulationExpected(Spi(SPI)),
    ));

    for (name, mut p, want) in cases {
        let before = (inb.replay_window().top(), inb.counters().pkts_decaps);
        assert_eq!(inb.decapsulate(Instant::now(), &mut p), Err(want), "{name}");
        assert_eq!(
            (inb.replay_window().top(), inb.counters().pkts_decaps),
            before,
            "{name} changed the SA"
        );
    }
    let c = *inb.counters();
    assert_eq!(c.keepalives, 1, "keepalives are counted apart");
    assert_eq!(c.recv_errors, c.recv_causes());
    // Nothing moved: the good packet (sequence 1) still passes.
    let mut p = good.clone();
    let d = inb.decapsulate(Instant::now(), &mut p).unwrap();
    assert_eq!(d.seq, 1);
}

/// ESP in UDP to a plain SA, and the bare entry point's own refusals.
#[test]
fn encapsulation_mismatch_and_bare_entry_errors() {
    let now = Instant::now();
    let (_, good, esp_off) = good_packet();
    let mut plain = Sa::new(params(Direction::Inbound, tunnel_in(), None), now).unwrap();
    let mut p = good.clone();
    assert_eq!(
        plain.decapsulate(now, &mut p),
        Err(DecapError::NotUdpEncapsulated(Spi(SPI)))
    );
    let mut bare = good[esp_off..].to_vec();
    let n = bare.len();
    let from = SocketAddrV4::new(PEER, 4500);
    let to = SocketAddrV4::new(LOCAL, 4500);
    assert_eq!(
        plain.decapsulate_udp(now, &mut bare, 0..n, from, to),
        Err(DecapError::NotUdpEncapsulated(Spi(SPI)))
    );
    assert_eq!(plain.replay_window().top(), 0);

    let (mut inb, _, _) = good_packet();
    let cases = [
        (vec![0xffu8], DecapError::Keepalive),
        (vec![0, 0], DecapError::TruncatedMarker { len: 2 }),
        (vec![0, 0, 0, 0, 1, 2, 3, 4, 5], DecapError::NonEspMarker),
        (
            vec![0x4a, 0x5b, 0x6c, 0x7d, 0],
            DecapError::BadLength { len: 5 },
        ),
    ];
    for (mut bytes, want) in cases {
        let n = bytes.len();
        assert_eq!(
            inb.decapsulate_udp(now, &mut bytes, 0..n, from, to),
            Err(want)
        );
    }
    // The wrong local port; a range outside the buffer.
    let mut b = bare.clone();
    assert_eq!(
        inb.decapsulate_udp(now, &mut b, 0..n, from, SocketAddrV4::new(LOCAL, 4501)),
        Err(DecapError::UdpPort {
            expected: 4500,
            got: 4501
        })
    );
    assert!(matches!(
        inb.decapsulate_udp(now, &mut b, 0..n + 1, from, to),
        Err(DecapError::MalformedOuter(_))
    ));
    assert_eq!(inb.replay_window().top(), 0);
    assert_eq!(
        inb.decapsulate_udp(now, &mut b, 0..n, from, to)
            .unwrap()
            .seq,
        1
    );
}

/// Transport mode's rebuilt header needs room before the ESP bytes; the
/// refusal comes before anything is touched.
#[test]
fn bare_transport_needs_headroom() {
    let now = Instant::now();
    let mut p = SaParams::new(
        Spi(SPI),
        Direction::Outbound,
        Mode::Transport,
        Encryption::Null,
        Integrity::HmacSha256_128,
        Keys::new(&[], &[0x33; 32]),
    );
    p.udp_encap = Some(UdpEncap::default());
    let mut out = Sa::new(p.clone(), now).unwrap();
    p.direction = Direction::Inbound;
    let mut inb = Sa::new(p, now).unwrap();
    let inner = udp_packet(LOCAL, PEER, 1, 2, b"abc");
    let (buf, e) = send(&mut out, &inner);
    let from = SocketAddrV4::new(LOCAL, 4500);
    let to = SocketAddrV4::new(PEER, 4500);
    let mut rx = buf[e.esp.clone()].to_vec();
    let n = rx.len();
    assert_eq!(
        inb.decapsulate_udp(now, &mut rx, 0..n, from, to),
        Err(DecapError::InsufficientHeadroom {
            needed: UDP_RX_HEADROOM,
            have: 0
        })
    );
    assert_eq!(inb.replay_window().top(), 0);
    let mut rx2 = vec![0u8; UDP_RX_HEADROOM];
    rx2.extend_from_slice(&rx);
    let d = inb
        .decapsulate_udp(
            now,
            &mut rx2,
            UDP_RX_HEADROOM..UDP_RX_HEADROOM + n,
            from,
            to,
        )
        .unwrap();
    assert_eq!(d.packet, 0..inner.len());
    assert_eq!(&rx2[20..d.packet.end], &inner[20..]);
}

/// The table refuses non-ESP UDP payloads before looking up an SA, and
/// counts keepalives apart.
#[test]
fn table_counts_keepalives_and_unknown_spis() {
    let now = Instant::now();
    let (inb, good, esp_off) = good_packet();
    let mut table = SaTable::new();
    table.insert(inb).unwrap();
    let mut k = udp_to_4500(&[0xff]);
    assert_eq!(table.decapsulate(now, &mut k), Err(DecapError::Keepalive));
    let mut k = [0xffu8];
    let a = SocketAddrV4::new(PEER, 4500);
    assert_eq!(
        table.decapsulate_udp(now, &mut k, 0..1, a, a),
        Err(DecapError::Keepalive)
    );
    assert_eq!(table.keepalives(), 2);
    let mut other = good[esp_off..].to_vec();
    other[3] ^= 1;
    let n = other.len();
    assert_eq!(
        table.decapsulate_udp(now, &mut other, 0..n, a, a),
        Err(DecapError::UnknownSpi(Spi(SPI ^ 1)))
    );
    assert_eq!(table.unknown_spi_drops(), 1);
    let mut ike = udp_to_4500(&[0, 0, 0, 0, 1, 2, 3, 4]);
    assert_eq!(
        table.decapsulate(now, &mut ike),
        Err(DecapError::NonEspMarker)
    );
    assert_eq!(table.malformed_drops(), 1);
}

/// After the peer's NAT moved, the outbound SA sends to the new address
/// and port; a plain SA has nothing to move.
#[test]
fn set_udp_peer_moves_the_destination() {
    let (mut out, _) = pair(tunnel_out(), tunnel_in(), UdpEncap::default());
    let moved = SocketAddrV4::new(Ipv4Addr::new(203, 0, 113, 50), 61_000);
    assert!(out.set_udp_peer(moved));
    let (buf, e) = send(&mut out, &ping());
    let p = &buf[e.packet.clone()];
    assert_eq!(&p[16..20], &moved.ip().octets());
    assert_eq!(u16::from_be_bytes([p[22], p[23]]), 61_000);
    assert_eq!(sum16(&p[..20]), 0xffff);
    assert_eq!(e.udp.unwrap().destination, moved);
    assert_eq!(
        out.mode(),
        Mode::Tunnel {
            src: LOCAL,
            dst: *moved.ip()
        }
    );

    let mut plain = Sa::new(
        params(Direction::Outbound, tunnel_out(), None),
        Instant::now(),
    )
    .unwrap();
    assert!(!plain.set_udp_peer(moved));
    assert_eq!(plain.mode(), tunnel_out());
}

#[test]
fn port_zero_is_refused() {
    for encap in [UdpEncap::new(0, 4500), UdpEncap::new(4500, 0)] {
        assert_eq!(
            params(Direction::Outbound, tunnel_out(), Some(encap)).validate(),
            Err(ConfigError::ZeroUdpPort)
        );
    }
}
