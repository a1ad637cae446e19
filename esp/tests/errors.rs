//! Every error path of encapsulate and decapsulate, with its counter, and
//! the promise that no plaintext is left in the buffer on failure.

// Test and benchmark code: a panic is a test failure, and the fixtures index
// buffers they just built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use common::*;
use esp::{
    AddrRange, AesKeySize, ConfigError, DecapError, Direction, EncapError, Encryption, Integrity,
    Keys, LimitKind, Mode, PaddingCheck, ReplayError, Sa, SaParams, Spi, TrafficSelector,
};
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

const SPI: u32 = 0x1234_5678;
const AK: [u8; 20] = [0x61; 20];

/// Builds an ESP packet by hand with NULL encryption and HMAC-SHA1-96
/// (computed here with the `hmac` crate), so that tests can make
/// authentic packets with any body, trailer or sequence number.
fn forge(seq: u64, esn: bool, body: &[u8]) -> Vec<u8> {
    let mut esp = SPI.to_be_bytes().to_vec();
    esp.extend_from_slice(&(seq as u32).to_be_bytes());
    esp.extend_from_slice(body);
    let mut m = <Hmac<Sha1> as KeyInit>::new_from_slice(&AK).unwrap();
    m.update(&esp);
    if esn {
        m.update(&((seq >> 32) as u32).to_be_bytes());
    }
    let icv = m.finalize().into_bytes();
    esp.extend_from_slice(&icv[..12]);
    wrap_esp(&esp)
}

fn null_sa(mode: Mode, f: impl FnOnce(&mut SaParams)) -> Sa {
    let mut p = SaParams::new(
        Spi(SPI),
        Direction::Inbound,
        mode,
        Encryption::Null,
        Integrity::HmacSha1_96,
        Keys::new(&[], &AK),
    );
    f(&mut p);
    Sa::new(p, Instant::now()).unwrap()
}

/// payload || padding 1..n || pad length || next header.
fn body(payload: &[u8], pad: usize, nh: u8) -> Vec<u8> {
    let mut b = payload.to_vec();
    b.extend((1..=pad).map(|i| i as u8));
    b.push(pad as u8);
    b.push(nh);
    b
}

#[test]
fn forged_null_packets_decapsulate_when_well_formed() {
    let now = Instant::now();
    let inner = icmp_v4(10, 1); // 38 bytes: +2 = 40, aligned to 4
    let mut sa = null_sa(tunnel(), |_| {});
    let mut pkt = forge(1, false, &body(&inner, 0, 4));
    let d = sa.decapsulate(now, &mut pkt).unwrap();
    assert_eq!(&pkt[d.packet], &inner[..]);
}

#[test]
fn decap_error_paths() {
    let now = Instant::now();
    let inner = icmp_v4(10, 1);
    let good = || forge(1, false, &body(&inner, 2, 4));
    let check = |sa: &mut Sa, mut pkt: Vec<u8>, want: DecapError| {
        let before = sa.counters().recv_errors;
        assert_eq!(sa.decapsulate(now, &mut pkt), Err(want.clone()), "{want}");
        let c = sa.counters();
        assert_eq!(c.recv_errors, before + 1, "{want}");
        assert_eq!(c.recv_errors, c.recv_causes(), "{want}");
    };
    let mut sa = null_sa(tunnel(), |_| {});

    // Outer header.
    check(&mut sa, vec![], DecapError::MalformedOuter("empty packet"));
    check(
        &mut sa,
        vec![0x45, 0, 0],
        DecapError::MalformedOuter("truncated IPv4 header"),
    );
    let mut p = good();
    p[9] = 6;
    check(&mut sa, p, DecapError::NotEsp(6));
    // UDP (RFC 3948) is for UDP-encapsulated SAs only.
    let mut p = good();
    p[9] = 17;
    check(&mut sa, p, DecapError::NotUdpEncapsulated(Spi(SPI)));
    let mut p = good();
    p[6] = 0x20; // MF
    check(&mut sa, p, DecapError::Fragment);
    let mut p = good();
    p[3] = p[3].wrapping_add(1); // total length beyond the buffer
    assert!(matches!(
        sa.decapsulate(now, &mut p),
        Err(DecapError::MalformedOuter(_))
    ));
    // ESP lengths.
    check(
        &mut sa,
        wrap_esp(&[0x12, 0x34, 0x56]),
        DecapError::BadLength { len: 3 },
    );
    check(
        &mut sa,
        wrap_esp(&[0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 1, 2, 3]),
        DecapError::BadLength { len: 11 },
    );
    // SPI.
    let mut p = good();
    p[20] ^= 0xff;
    check(
        &mut sa,
        p,
        DecapError::WrongSpi {
            expected: Spi(SPI),
            got: Spi(SPI ^ 0xff00_0000),
        },
    );
    // Replay: zero, authentication, padding.
    check(
        &mut sa,
        forge(0, false, &body(&inner, 2, 4)),
        DecapError::Replay {
            seq: 0,
            reason: ReplayError::Zero,
        },
    );
    let mut p = good();
    let n = p.len();
    p[n - 1] ^= 1;
    check(&mut sa, p, DecapError::AuthenticationFailed);
    let mut bad_pad = body(&inner, 2, 4);
    bad_pad[inner.len()] = 7; // pad bytes 7, 2 instead of 1, 2
    check(&mut sa, forge(1, false, &bad_pad), DecapError::BadPadding);
    check(
        &mut sa,
        forge(
            1,
            false,
            &body(&inner[..inner.len() - 2], 200, 4)[..inner.len()],
        ),
        DecapError::BadPadding,
    );
    // Tunnel mode inner checks.
    check(
        &mut sa,
        forge(2, false, &body(&inner, 2, 17)),
        DecapError::UnsupportedNextHeader(17),
    );
    check(
        &mut sa,
        forge(3, false, &body(&udp_v6(2), 0, 4)),
        DecapError::MalformedInner("IP version differs from the next header"),
    );
    check(
        &mut sa,
        forge(4, false, &body(&[0x45, 0, 0, 99, 0, 0], 0, 4)),
        DecapError::MalformedInner("truncated IPv4 header"),
    );
    // Dummy packet: not an error, counted apart.
    let mut p = forge(5, false, &body(&[0xaa; 6], 0, 59));
    assert_eq!(sa.decapsulate(now, &mut p), Err(DecapError::DummyPacket));
    assert_eq!(sa.counters().dummy_packets, 1);
    // Replay: duplicate and too old after a good packet.
    let mut p = good();
    sa.decapsulate(now, &mut p).unwrap();
    check(
        &mut sa,
        good(),
        DecapError::Replay {
            seq: 1,
            reason: ReplayError::Duplicate,
        },
    );
    let mut p = forge(1000, false, &body(&inner, 2, 4));
    sa.decapsulate(now, &mut p).unwrap();
    check(
        &mut sa,
        forge(936, false, &body(&inner, 2, 4)),
        DecapError::Replay {
            seq: 936,
            reason: ReplayError::TooOld,
        },
    );
    let mut p = forge(937, false, &body(&inner, 2, 4));
    sa.decapsulate(now, &mut p).unwrap();
    // Selectors.
    let mut narrow = null_sa(tunnel(), |p| {
        p.selector = TrafficSelector::between(
            AddrRange::prefix(IpAddr::V4(Ipv4Addr::new(12, 12, 12, 0)), 24).unwrap(),
            AddrRange::prefix(IpAddr::V4(Ipv4Addr::new(13, 13, 13, 0)), 24).unwrap(),
        );
    });
    check(
        &mut narrow,
        forge(1, false, &body(&inner, 2, 4)),
        DecapError::SelectorMismatch {
            src: IpAddr::V4(Ipv4Addr::new(13, 13, 13, 14)),
            dst: IpAddr::V4(Ipv4Addr::new(12, 12, 12, 13)),
            protocol: 1,
        },
    );
    // Direction.
    let mut p = params(
        Direction::Outbound,
        tunnel(),
        Encryption::Null,
        Integrity::HmacSha1_96,
    );
    p.keys = Keys::new(&[], &AK);
    let mut out = Sa::new(p, now).unwrap();
    check(&mut out, good(), DecapError::WrongDirection(Spi(SPI)));
    let c = sa.counters();
    assert_eq!(c.malformed, 9);
    assert_eq!(c.auth_failures, 1);
    assert_eq!(c.bad_padding, 2);
    assert_eq!(c.bad_inner, 3);
    assert_eq!(c.replay_duplicate, 1);
    assert_eq!(c.replay_too_old, 2);
    assert_eq!(c.pkts_decaps, 3);
}

#[test]
fn relaxed_padding_accepts_rfc2406_style_pad_bytes() {
    let now = Instant::now();
    let inner = icmp_v4(10, 1);
    let mut b = body(&inner, 2, 4);
    b[inner.len()] = 0xaa;
    b[inner.len() + 1] = 0xbb;
    let mut strict = null_sa(tunnel(), |_| {});
    let mut p = forge(1, false, &b);
    assert_eq!(strict.decapsulate(now, &mut p), Err(DecapError::BadPadding));
    let mut relaxed = null_sa(tunnel(), |p| p.padding_check = PaddingCheck::Relaxed);
    let mut p = forge(1, false, &b);
    let d = relaxed.decapsulate(now, &mut p).unwrap();
    assert_eq!(&p[d.packet], &inner[..]);
    // Relaxed still checks that the pad length fits.
    let mut p = forge(2, false, &[0x45, 0xff, 4]);
    assert_eq!(
        relaxed.decapsulate(now, &mut p),
        Err(DecapError::BadPadding)
    );
}

#[test]
fn tfc_padding_after_the_inner_packet_is_trimmed() {
    let now = Instant::now();
    let inner = icmp_v4(10, 1);
    let mut padded = inner.clone();
    padded.extend_from_slice(&[0u8; 24]); // RFC 4303 s.2.7 TFC padding
    let mut sa = null_sa(tunnel(), |_| {});
    let mut p = forge(1, false, &body(&padded, 0, 4));
    let d = sa.decapsulate(now, &mut p).unwrap();
    assert_eq!(&p[d.packet], &inner[..]);
}

#[test]
fn esn_authenticates_the_high_half() {
    let now = Instant::now();
    let inner = icmp_v4(10, 1);
    let mut sa = null_sa(tunnel(), |p| p.esn = true);
    // The ICV covers seq_hi = 0 for the first packets.
    let mut p = forge(1, true, &body(&inner, 2, 4));
    sa.decapsulate(now, &mut p).unwrap();
    // A packet whose ICV was made with seq_hi = 1 is not accepted at low
    // sequence numbers: the receiver infers high half 0.
    let mut p = forge((1 << 32) | 2, true, &body(&inner, 2, 4));
    assert_eq!(
        sa.decapsulate(now, &mut p),
        Err(DecapError::AuthenticationFailed)
    );
    // Walk the window across 2^32 with authentic packets.
    for s in [
        0x1000u64,
        0x8000_0000,
        0xffff_fff0,
        0xffff_ffff,
        (1 << 32) | 1,
        0xffff_fffe,
        (1 << 32) | 5,
    ] {
        let mut p = forge(s, true, &body(&inner, 2, 4));
        let d = sa
            .decapsulate(now, &mut p)
            .unwrap_or_else(|e| panic!("{s:#x}: {e}"));
        assert_eq!(d.seq, s);
    }
    // Left of the window in the previous subspace: too old.
    let mut p = forge(0xffff_0000, true, &body(&inner, 2, 4));
    assert!(matches!(
        sa.decapsulate(now, &mut p),
        Err(DecapError::Replay {
            reason: ReplayError::TooOld,
            ..
        }) | Err(DecapError::AuthenticationFailed)
    ));
    // Duplicate across the boundary.
    let mut p = forge(0xffff_ffff, true, &body(&inner, 2, 4));
    assert!(matches!(
        sa.decapsulate(now, &mut p),
        Err(DecapError::Replay {
            reason: ReplayError::Duplicate,
            ..
        })
    ));
}

#[test]
fn no_plaintext_left_on_failure_after_decryption() {
    let now = Instant::now();
    // Encrypted SA whose inbound side has narrow selectors.
    let mut p = params(
        Direction::Outbound,
        tunnel(),
        Encryption::AesCbc(AesKeySize::Aes128),
        Integrity::HmacSha1_96,
    );
    let (mut out, _) = pair(&p, now);
    p.direction = Direction::Inbound;
    p.selector = TrafficSelector::between(
        AddrRange::single(IpAddr::V4(Ipv4Addr::new(9, 9, 9, 9))),
        AddrRange::ANY_V4,
    );
    let mut inb = Sa::new(p, now).unwrap();
    let mut inner = icmp_v4(64, 1);
    for b in &mut inner[28..] {
        *b = 0x5c;
    }
    let mut r = rng();
    let mut wire = encap(&mut out, now, &mut r, &inner);
    assert!(matches!(
        inb.decapsulate(now, &mut wire),
        Err(DecapError::SelectorMismatch { .. })
    ));
    assert!(
        !wire.windows(16).any(|w| w.iter().all(|b| *b == 0x5c)),
        "plaintext visible after failure"
    );
    assert!(
        !wire.windows(20).any(|w| w == &inner[..20]),
        "inner header visible after failure"
    );
}

#[test]
fn encap_error_paths() {
    let now = Instant::now();
    let mut r = rng();
    let p = params(
        Direction::Outbound,
        tunnel(),
        Encryption::AesCbc(AesKeySize::Aes128),
        Integrity::HmacSha1_96,
    );
    let (mut out, mut inb) = pair(&p, now);
    let inner = icmp_v4(20, 1);
    let room = out.room(inner.len());
    let mk = |head: usize, tail: usize| {
        let mut b = vec![0u8; head + inner.len() + tail];
        b[head..head + inner.len()].copy_from_slice(&inner);
        b
    };
    let mut try_encap = |sa: &mut Sa, buf: &mut Vec<u8>, range: std::ops::Range<usize>| {
        let before = sa.counters().send_errors;
        let snapshot = buf.clone();
        let e = sa.encapsulate(now, &mut r, buf, range).unwrap_err();
        assert_eq!(sa.counters().send_errors, before + 1);
        assert_eq!(sa.counters().send_errors, sa.counters().send_causes());
        assert_eq!(*buf, snapshot, "buffer changed on error {e}");
        e
    };
    let n = inner.len();
    let mut b = mk(room.headroom, room.tailroom);
    assert_eq!(
        try_encap(&mut inb, &mut b, room.headroom..room.headroom + n),
        EncapError::WrongDirection(Spi(0x1234_5678))
    );
    let mut b = mk(room.headroom - 1, room.tailroom);
    assert_eq!(
        try_encap(&mut out, &mut b, room.headroom - 1..room.headroom - 1 + n),
        EncapError::InsufficientHeadroom {
            needed: room.headroom,
            have: room.headroom - 1
        }
    );
    let mut b = mk(room.headroom, room.tailroom - 1);
    assert_eq!(
        try_encap(&mut out, &mut b, room.headroom..room.headroom + n),
        EncapError::InsufficientTailroom {
            needed: room.tailroom,
            have: room.tailroom - 1
        }
    );
    let mut b = mk(room.headroom, room.tailroom);
    let len = b.len();
    assert_eq!(
        try_encap(&mut out, &mut b, room.headroom..len + 1),
        EncapError::BadRange {
            start: room.headroom,
            end: len + 1,
            len
        }
    );
    #[allow(clippy::reversed_empty_ranges)]
    let rev = 10..5;
    assert!(matches!(
        try_encap(&mut out, &mut b, rev),
        EncapError::BadRange { .. }
    ));
    assert!(matches!(
        try_encap(&mut out, &mut b, room.headroom..room.headroom + n - 1),
        EncapError::MalformedInner(_)
    ));
    let mut g = vec![0u8; 100];
    g[50] = 0x99;
    assert!(matches!(
        try_encap(&mut out, &mut g, 50..60),
        EncapError::MalformedInner(_)
    ));
    // Too large: a 65500-byte inner packet plus tunnel overhead.
    let mut big = icmp_v4(65500 - 28, 1);
    let r2 = out.room(big.len());
    let mut bb = vec![0u8; r2.headroom];
    bb.append(&mut big);
    bb.extend(vec![0u8; r2.tailroom]);
    let end = bb.len() - r2.tailroom;
    assert!(matches!(
        try_encap(&mut out, &mut bb, r2.headroom..end),
        EncapError::TooLarge(_)
    ));
    // Selector.
    let mut sp = p.clone();
    sp.selector = TrafficSelector {
        protocol: Some(6),
        ..TrafficSelector::any()
    };
    let (mut tcp_only, _) = pair(&sp, now);
    let mut b = mk(room.headroom, room.tailroom);
    assert!(matches!(
        try_encap(&mut tcp_only, &mut b, room.headroom..room.headroom + n),
        EncapError::SelectorMismatch { protocol: 1, .. }
    ));
    // Transport: fragments and IPv6 refused.
    let tp = params(
        Direction::Outbound,
        Mode::Transport,
        Encryption::AesCbc(AesKeySize::Aes128),
        Integrity::HmacSha1_96,
    );
    let (mut tr, _) = pair(&tp, now);
    let mut frag = inner.clone();
    frag[6] = 0x20;
    frag[10] = 0;
    frag[11] = 0;
    let mut fb = vec![0u8; 64];
    fb.extend_from_slice(&frag);
    fb.extend(vec![0u8; 64]);
    assert_eq!(
        try_encap(&mut tr, &mut fb, 64..64 + n),
        EncapError::Fragment
    );
    let v6 = udp_v6(4);
    let mut vb = vec![0u8; 64];
    vb.extend_from_slice(&v6);
    vb.extend(vec![0u8; 64]);
    assert!(matches!(
        try_encap(&mut tr, &mut vb, 64..64 + v6.len()),
        EncapError::MalformedInner(_)
    ));
    let c = out.counters();
    assert_eq!((c.buffer_errors, c.bad_plaintext), (5, 2));
}

#[test]
fn config_errors() {
    let now = Instant::now();
    let base = || {
        params(
            Direction::Outbound,
            tunnel(),
            Encryption::AesCbc(AesKeySize::Aes128),
            Integrity::HmacSha1_96,
        )
    };
    let err = |f: &dyn Fn(&mut SaParams)| {
        let mut p = base();
        f(&mut p);
        Sa::new(p, now).unwrap_err()
    };
    assert_eq!(
        err(&|p| p.spi = Spi(255)),
        ConfigError::ReservedSpi(Spi(255))
    );
    assert_eq!(
        err(&|p| p.integrity = Integrity::None),
        ConfigError::IntegrityRequired
    );
    assert_eq!(
        err(&|p| {
            p.encryption = Encryption::Null;
            p.integrity = Integrity::None;
            p.keys = Keys::default();
        }),
        ConfigError::NullWithoutIntegrity
    );
    assert_eq!(
        err(&|p| p.encryption = Encryption::AesGcm16(AesKeySize::Aes128)),
        ConfigError::IntegrityWithAead
    );
    assert_eq!(
        err(&|p| p.keys = Keys::new(&[0; 15], &[0; 20])),
        ConfigError::EncryptionKeyLength {
            expected: 16,
            got: 15
        }
    );
    assert_eq!(
        err(&|p| p.keys = Keys::new(&[0; 16], &[0; 16])),
        ConfigError::IntegrityKeyLength {
            expected: 20,
            got: 16
        }
    );
    assert_eq!(
        err(&|p| p.replay_window = Some(0)),
        ConfigError::ReplayWindow(0)
    );
    assert_eq!(
        err(&|p| p.replay_window = Some(esp::MAX_REPLAY_WINDOW + 1)),
        ConfigError::ReplayWindow(esp::MAX_REPLAY_WINDOW + 1)
    );
    assert_eq!(
        err(&|p| {
            p.lifetime.soft.packets = Some(10);
            p.lifetime.hard.packets = Some(5);
        }),
        ConfigError::SoftAfterHard
    );
    // Weak algorithms need both the name and allow_weak.
    for (e, i) in [
        (Encryption::DesCbc, Integrity::HmacSha1_96),
        (Encryption::TripleDesCbc, Integrity::HmacSha1_96),
        (
            Encryption::AesCbc(AesKeySize::Aes128),
            Integrity::HmacMd5_96,
        ),
    ] {
        let mut p = SaParams::new(
            Spi(0x1000),
            Direction::Outbound,
            tunnel(),
            e,
            i,
            keys_for(e, i),
        );
        assert_eq!(
            Sa::new(p.clone(), now).unwrap_err(),
            ConfigError::WeakAlgorithm
        );
        p.allow_weak = true;
        assert!(Sa::new(p, now).is_ok());
    }
    // Keys never show in Debug.
    let p = base();
    let dbg = format!("{p:?}");
    assert!(dbg.contains("REDACTED"));
    assert!(!dbg.contains("90"), "{dbg}");
}

#[test]
fn expired_sa_refuses_both_ways() {
    let now = Instant::now();
    let mut p = params(
        Direction::Outbound,
        tunnel(),
        Encryption::AesCbc(AesKeySize::Aes128),
        Integrity::HmacSha1_96,
    );
    p.lifetime.hard.time = Some(Duration::from_secs(10));
    let (mut out, mut inb) = pair(&p, now);
    let mut r = rng();
    let inner = icmp_v4(1, 1);
    let wire = encap(&mut out, now, &mut r, &inner);
    let later = now + Duration::from_secs(10);
    let room = out.room(inner.len());
    let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
    buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
    assert_eq!(
        out.encapsulate(
            later,
            &mut r,
            &mut buf,
            room.headroom..room.headroom + inner.len()
        ),
        Err(EncapError::Expired {
            spi: Spi(0x1234_5678),
            kind: LimitKind::Time
        })
    );
    let mut w = wire.clone();
    assert_eq!(
        inb.decapsulate(later, &mut w),
        Err(DecapError::Expired {
            spi: Spi(0x1234_5678),
            kind: LimitKind::Time
        })
    );
    assert_eq!(out.counters().send_expired, 1);
    assert_eq!(inb.counters().recv_expired, 1);
}

#[test]
fn error_messages_show_spis_in_lower_case_hex() {
    assert_eq!(
        DecapError::UnknownSpi(Spi(0xa479_0fa0)).to_string(),
        "no inbound SA with SPI 0xa4790fa0"
    );
    assert_eq!(
        ConfigError::ReservedSpi(Spi(0x42)).to_string(),
        "SPI 0x00000042 is reserved (0..=255)"
    );
}
