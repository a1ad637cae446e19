//! Lifetimes on the injected clock and on byte/packet counts, events, and
//! the SA table (O(1) SPI lookup, handles, aggregated timeouts/events).

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

use std::time::{Duration, Instant};

use common::*;
use esp::{
    AesKeySize, DecapError, Direction, EncapError, Encryption, Event, Integrity, LimitKind, Sa,
    SaTable, Spi, TableError,
};

fn gcm() -> esp::SaParams {
    params(
        Direction::Outbound,
        tunnel(),
        Encryption::AesGcm16(AesKeySize::Aes128),
        Integrity::None,
    )
}

#[test]
fn time_lifetimes_fire_once_on_the_callers_clock() {
    let t0 = Instant::now();
    let mut p = gcm();
    p.lifetime.soft.time = Some(Duration::from_secs(3000));
    p.lifetime.hard.time = Some(Duration::from_secs(3600));
    let mut sa = Sa::new(p, t0).unwrap();
    assert_eq!(sa.poll_timeout(), Some(t0 + Duration::from_secs(3000)));
    sa.handle_timeout(t0 + Duration::from_secs(2999));
    assert_eq!(sa.poll_event(), None);
    sa.handle_timeout(t0 + Duration::from_secs(3000));
    let ev = Event::SoftExpired {
        spi: Spi(0x1234_5678),
        direction: Direction::Outbound,
        kind: LimitKind::Time,
    };
    assert_eq!(sa.poll_event(), Some(ev));
    assert_eq!(sa.poll_event(), None);
    assert_eq!(sa.poll_timeout(), Some(t0 + Duration::from_secs(3600)));
    sa.handle_timeout(t0 + Duration::from_secs(3001));
    assert_eq!(sa.poll_event(), None, "soft fires once");
    // Still working between soft and hard.
    let mut r = rng();
    encap(
        &mut sa,
        t0 + Duration::from_secs(3500),
        &mut r,
        &icmp_v4(1, 1),
    );
    sa.handle_timeout(t0 + Duration::from_secs(4000));
    assert_eq!(
        sa.poll_event(),
        Some(Event::HardExpired {
            spi: Spi(0x1234_5678),
            direction: Direction::Outbound,
            kind: LimitKind::Time
        })
    );
    assert_eq!(sa.poll_timeout(), None);
    assert_eq!(sa.is_expired(), Some(LimitKind::Time));
}

#[test]
fn hard_time_without_handle_timeout_still_refuses() {
    let t0 = Instant::now();
    let mut p = gcm();
    p.lifetime.hard.time = Some(Duration::from_secs(1));
    let (mut out, _) = {
        let (o, i) = pair(&p, t0);
        (o, i)
    };
    let inner = icmp_v4(1, 1);
    let room = out.room(inner.len());
    let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
    buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
    let mut r = rng();
    let e = out.encapsulate(
        t0 + Duration::from_secs(2),
        &mut r,
        &mut buf,
        room.headroom..room.headroom + inner.len(),
    );
    assert!(matches!(
        e,
        Err(EncapError::Expired {
            kind: LimitKind::Time,
            ..
        })
    ));
    assert!(matches!(out.poll_event(), Some(Event::HardExpired { .. })));
}

#[test]
fn packet_and_byte_lifetimes() {
    let t0 = Instant::now();
    let mut p = gcm();
    p.lifetime.soft.packets = Some(3);
    p.lifetime.hard.packets = Some(5);
    let (mut out, mut inb) = pair(&p, t0);
    let mut r = rng();
    let inner = icmp_v4(10, 1);
    for n in 1..=5 {
        let mut w = encap(&mut out, t0, &mut r, &inner);
        inb.decapsulate(t0, &mut w).unwrap();
        let evo = out.poll_event();
        let evi = inb.poll_event();
        match n {
            3 => {
                assert!(matches!(
                    evo,
                    Some(Event::SoftExpired {
                        kind: LimitKind::Packets,
                        ..
                    })
                ));
                assert!(matches!(
                    evi,
                    Some(Event::SoftExpired {
                        kind: LimitKind::Packets,
                        direction: Direction::Inbound,
                        ..
                    })
                ));
            }
            5 => {
                assert!(matches!(
                    evo,
                    Some(Event::HardExpired {
                        kind: LimitKind::Packets,
                        ..
                    })
                ));
                assert!(matches!(
                    evi,
                    Some(Event::HardExpired {
                        kind: LimitKind::Packets,
                        ..
                    })
                ));
            }
            _ => assert_eq!((evo, evi), (None, None), "packet {n}"),
        }
    }
    let room = out.room(inner.len());
    let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
    buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
    assert!(matches!(
        out.encapsulate(
            t0,
            &mut r,
            &mut buf,
            room.headroom..room.headroom + inner.len()
        ),
        Err(EncapError::Expired {
            kind: LimitKind::Packets,
            ..
        })
    ));

    // Bytes: inner bytes counted (tunnel: the whole inner packet).
    let mut p = gcm();
    p.lifetime.soft.bytes = Some(100);
    p.lifetime.hard.bytes = Some(150);
    let (mut out, mut inb) = pair(&p, t0);
    let inner = icmp_v4(40 - 28, 1); // 40 bytes
    for n in 1..=4 {
        let mut w = encap(&mut out, t0, &mut r, &inner);
        let d = inb.decapsulate(t0, &mut w);
        assert!(d.is_ok());
        assert_eq!(out.counters().bytes_encaps, 40 * n);
        let ev = out.poll_event();
        match n {
            3 => assert!(matches!(
                ev,
                Some(Event::SoftExpired {
                    kind: LimitKind::Bytes,
                    ..
                })
            )),
            4 => assert!(matches!(
                ev,
                Some(Event::HardExpired {
                    kind: LimitKind::Bytes,
                    ..
                })
            )),
            _ => assert_eq!(ev, None),
        }
    }
    let mut w = encap(&mut gcm_out(t0), t0, &mut r, &inner);
    assert!(matches!(
        inb.decapsulate(t0, &mut w),
        Err(DecapError::Expired {
            kind: LimitKind::Bytes,
            ..
        })
    ));
}

fn gcm_out(t0: Instant) -> Sa {
    Sa::new(gcm(), t0).unwrap()
}

#[test]
fn table_finds_inbound_sas_by_spi() {
    let t0 = Instant::now();
    let mut table = SaTable::new();
    let mut outs = Vec::new();
    let mut r = rng();
    // Many SAs: lookup by SPI must pick the right one each time.
    for k in 0..2000u32 {
        let mut p = gcm();
        p.spi = Spi(0x1000 + k * 7919);
        let (o, i) = pair(&p, t0);
        table.insert(i).unwrap();
        outs.push(table.insert(o).unwrap());
    }
    assert_eq!(table.len(), 4000);
    for (k, h) in outs.iter().enumerate().step_by(97) {
        let inner = icmp_v4(k % 50, k as u16);
        let room = table.get(*h).unwrap().room(inner.len());
        let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
        buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
        let e = table
            .encapsulate(
                *h,
                t0,
                &mut r,
                &mut buf,
                room.headroom..room.headroom + inner.len(),
            )
            .unwrap()
            .unwrap();
        let mut w = buf[e.packet].to_vec();
        let (hin, d) = table.decapsulate(t0, &mut w).unwrap();
        assert_eq!(table.get(hin).unwrap().spi(), Spi(0x1000 + k as u32 * 7919));
        assert_eq!(&w[d.packet], &inner[..]);
    }
    // Unknown SPI.
    let mut p = gcm();
    p.spi = Spi(0xdead_beef);
    let mut stray = Sa::new(p, t0).unwrap();
    let mut w = encap(&mut stray, t0, &mut r, &icmp_v4(1, 1));
    assert_eq!(
        table.decapsulate(t0, &mut w),
        Err(DecapError::UnknownSpi(Spi(0xdead_beef)))
    );
    assert_eq!(table.unknown_spi_drops(), 1);
    let mut junk = vec![1, 2, 3];
    assert!(table.decapsulate(t0, &mut junk).is_err());
    assert_eq!(table.malformed_drops(), 1);
    // Duplicate inbound SPI refused; outbound SPIs may repeat (peers pick them).
    let mut p = gcm();
    p.spi = Spi(0x1000);
    let (o, i) = pair(&p, t0);
    assert_eq!(
        table.insert(i).unwrap_err(),
        TableError::DuplicateSpi(Spi(0x1000))
    );
    let h = table.insert(o).unwrap();
    // Removed handles go stale even when the slot is reused.
    let hin = table.inbound(Spi(0x1000)).unwrap();
    assert!(table.remove(hin).is_some());
    assert!(table.get(hin).is_none());
    assert!(table.inbound(Spi(0x1000)).is_none());
    let (_, i) = pair(&p, t0);
    let h2 = table.insert(i).unwrap();
    assert!(table.get(hin).is_none());
    assert!(table.get(h2).is_some());
    assert!(table.remove(h).is_some());
    assert!(table.remove(h).is_none());
}

#[test]
fn table_aggregates_timeouts_and_events() {
    let t0 = Instant::now();
    let mut table = SaTable::new();
    let mut handles = Vec::new();
    for (k, secs) in [(1u32, 50u64), (2, 20), (3, 80)] {
        let mut p = gcm();
        p.spi = Spi(0x2000 + k);
        p.direction = Direction::Inbound;
        p.lifetime.hard.time = Some(Duration::from_secs(secs));
        handles.push(table.insert(Sa::new(p, t0).unwrap()).unwrap());
    }
    assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_secs(20)));
    table.handle_timeout(t0 + Duration::from_secs(60));
    let mut got = Vec::new();
    while let Some((h, e)) = table.poll_event() {
        got.push((h, e));
    }
    assert_eq!(got.len(), 2);
    assert!(got.iter().any(|(h, _)| *h == handles[0]));
    assert!(got.iter().any(|(h, _)| *h == handles[1]));
    assert_eq!(table.poll_timeout(), Some(t0 + Duration::from_secs(80)));
}
