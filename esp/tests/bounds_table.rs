//! The SA table's bound (issue 7, resource bounds): a table holds at most
//! `max_sas` SAs, refuses more without disturbing the installed ones, and
//! reuses the slots of removed SAs, however many are installed and removed
//! over its life.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::time::Instant;

use common::{encap, icmp_v4, pair, params, rng, tunnel};
use esp::{AesKeySize, Direction, Encryption, Integrity, SaParams, SaTable, Spi, TableError};

fn gcm(spi: u32) -> SaParams {
    let mut p = params(
        Direction::Outbound,
        tunnel(),
        Encryption::AesGcm16(AesKeySize::Aes128),
        Integrity::None,
    );
    p.spi = Spi(spi);
    p
}

#[test]
fn the_default_bound_is_documented() {
    let t = SaTable::new();
    assert_eq!(t.max_sas(), SaTable::DEFAULT_MAX_SAS);
    assert_eq!(SaTable::default().max_sas(), 65_536);
    assert_eq!(SaTable::with_max_sas(7).max_sas(), 7);
}

#[test]
fn a_flood_of_inserts_past_the_bound_is_refused_and_installed_sas_keep_working() {
    let t0 = Instant::now();
    let mut r = rng();
    let max = 64;
    let mut table = SaTable::with_max_sas(max);
    // Fill it with 32 pairs; keep the outbound twins to talk to them.
    let mut senders = Vec::new();
    for k in 0..32u32 {
        let (o, i) = pair(&gcm(0x1000 + k), t0);
        table.insert(i).unwrap();
        let (o2, _) = pair(&gcm(0x1000 + k), t0);
        table.insert(o).unwrap();
        senders.push(o2);
    }
    assert_eq!(table.len(), max);
    // Ten thousand more, inbound and outbound: every one refused.
    for k in 0..10_000u32 {
        let (o, i) = pair(&gcm(0x10_0000 + k), t0);
        assert_eq!(table.insert(i).unwrap_err(), TableError::Full);
        assert_eq!(table.insert(o).unwrap_err(), TableError::Full);
    }
    assert_eq!(table.len(), max);
    assert_eq!(table.iter().count(), max);
    // A refused inbound SPI was never indexed.
    assert!(table.inbound(Spi(0x10_0000)).is_none());
    // The installed SAs still decapsulate.
    for (k, o) in (0u16..).zip(senders.iter_mut()) {
        let inner = icmp_v4(16, k);
        let mut w = encap(o, t0, &mut r, &inner);
        let (h, d) = table.decapsulate(t0, &mut w).unwrap();
        assert_eq!(table.get(h).unwrap().spi(), Spi(0x1000 + u32::from(k)));
        assert_eq!(&w[d.packet], &inner[..]);
    }
    // A removal makes room for exactly one.
    let h = table.inbound(Spi(0x1000)).unwrap();
    assert!(table.remove(h).is_some());
    let (_, i) = pair(&gcm(0x2000), t0);
    table.insert(i).unwrap();
    let (_, i) = pair(&gcm(0x2001), t0);
    assert_eq!(table.insert(i).unwrap_err(), TableError::Full);
}

#[test]
fn churn_stays_within_the_bound() {
    // Install and remove SAs many times over (rekeys for years): the
    // table never holds more than its bound, and stale handles stay stale.
    let t0 = Instant::now();
    let max = 8;
    let mut table = SaTable::with_max_sas(max);
    let mut live = std::collections::VecDeque::new();
    let mut stale = Vec::new();
    for k in 0..20_000u32 {
        let (_, i) = pair(&gcm(0x1_0000 + k), t0);
        match table.insert(i) {
            Ok(h) => live.push_back(h),
            Err(e) => {
                assert_eq!(e, TableError::Full);
                assert_eq!(live.len(), max);
                let old = live.pop_front().unwrap();
                assert!(table.remove(old).is_some());
                stale.push(old);
            }
        }
        assert!(table.len() <= max);
    }
    assert_eq!(table.len(), live.len());
    assert!(stale.iter().all(|h| table.get(*h).is_none()));
    assert!(live.iter().all(|h| table.get(*h).is_some()));
}

#[test]
fn a_zero_bound_refuses_everything() {
    let (o, i) = pair(&gcm(0x3000), Instant::now());
    let mut table = SaTable::with_max_sas(0);
    assert_eq!(table.insert(i).unwrap_err(), TableError::Full);
    assert_eq!(table.insert(o).unwrap_err(), TableError::Full);
    assert!(table.is_empty());
}
