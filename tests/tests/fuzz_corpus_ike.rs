//! Replays the committed seed corpora of the ike-sm fuzz targets
//! (`fuzz/corpus/ike_*`) through the same `ike_sm::fuzzing` functions the
//! targets call, and checks that the seeds reach deep states: the
//! responder corpus's seed transcript completes Main Mode and Quick Mode,
//! the operation corpus's `handshake` establishes IPsec SAs on both sides.
//!
//! With `IKE_SM_WRITE_CORPUS=1` the responder seeds are (re)written from a
//! fresh run of the seed scenario.

#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

mod fuzz_common;
use fuzz_common::{corpus, dir};

use std::time::Instant;

use ike_sm::{Lifetime, Phase2Request, ProxyId, TransformSet, fuzzing};

fn replay(target: &str, f: fn(Instant, &[u8]) -> fuzzing::Summary) {
    let inputs = corpus(target);
    assert!(!inputs.is_empty(), "empty corpus for {target}");
    let now = Instant::now();
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(|| f(now, &bytes));
        assert!(
            result.is_ok(),
            "{target}: {} broke an invariant",
            path.display()
        );
    }
}

#[test]
fn ike_responder_corpus() {
    replay("ike_responder", fuzzing::responder);
}

#[test]
fn ike_ops_corpus() {
    replay("ike_ops", fuzzing::ops);
    let handshake = std::fs::read(dir("ike_ops").join("handshake")).unwrap();
    let s = fuzzing::ops(Instant::now(), &handshake);
    assert_eq!(s.phase1, 2, "{s:?}");
    assert_eq!(s.phase2, 2, "{s:?}");
}

#[test]
fn ike_certificates_corpus() {
    replay("ike_certificates", fuzzing::certificates);
    // The operation corpus's handshake, with certificates: ECDSA
    // signatures, CERT payloads and fragments, both SAs up on both sides.
    let handshake = std::fs::read(dir("ike_certificates").join("handshake")).unwrap();
    let s = fuzzing::certificates(Instant::now(), &handshake);
    assert_eq!(s.phase1, 2, "{s:?}");
    assert_eq!(s.phase2, 2, "{s:?}");
}

/// Daphne's request of the seed: 13.13.13.0/24 to 12.12.12.0/24 with fred.
fn seed_request(da: std::net::SocketAddr, fr: std::net::SocketAddr) -> Phase2Request {
    Phase2Request {
        peer: fr,
        local: da,
        local_proxy: ProxyId::subnet("13.13.13.0".parse().unwrap(), 24),
        remote_proxy: ProxyId::subnet("12.12.12.0".parse().unwrap(), 24),
        transform_sets: vec![TransformSet::ios_seed()],
        pfs: None,
        lifetime: Lifetime::IOS_IPSEC,
    }
}

/// Daphne's messages of a seed run, framed for the responder target.
fn seed_transcript() -> Vec<Vec<u8>> {
    let now = Instant::now();
    let mut a = fuzzing::seed_daphne();
    let mut b = fuzzing::seed_fred();
    let (da, fr) = (
        "11.11.11.1:500".parse().unwrap(),
        "11.11.11.2:500".parse().unwrap(),
    );
    a.initiate(now, seed_request(da, fr)).unwrap();
    let mut from_daphne = Vec::new();
    for _ in 0..16 {
        while let Some(t) = a.poll_transmit() {
            from_daphne.push(t.data.clone());
            b.handle_datagram(now, fr, da, &t.data);
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_datagram(now, da, fr, &t.data);
        }
    }
    from_daphne
}

fn frame(msgs: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in msgs {
        out.push(0);
        out.extend_from_slice(&u16::try_from(m.len()).unwrap().to_be_bytes());
        out.extend_from_slice(m);
    }
    out
}

#[test]
fn responder_seed_transcript_reaches_quick_mode() {
    let msgs = seed_transcript();
    assert_eq!(msgs.len(), 5, "MM1, MM3, MM5, QM1, QM3");
    let full = frame(&msgs);
    let s = fuzzing::responder(Instant::now(), &full);
    assert_eq!((s.phase1, s.phase2), (1, 1), "{s:?}");
    if std::env::var_os("IKE_SM_WRITE_CORPUS").is_some() {
        let d = dir("ike_responder");
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("seed_mm_qm"), &full).unwrap();
        for (i, name) in ["seed_mm1", "seed_to_mm3", "seed_to_mm5", "seed_to_qm1"]
            .iter()
            .enumerate()
        {
            std::fs::write(d.join(name), frame(&msgs[..=i])).unwrap();
        }
        // Duplicates and a retransmission timer in between.
        let mut dup = frame(&msgs[..2]);
        dup.extend(frame(&msgs[1..2]));
        dup.push(1);
        dup.extend_from_slice(&u16::try_from(msgs[2].len()).unwrap().to_be_bytes());
        dup.extend_from_slice(&msgs[2]);
        std::fs::write(d.join("seed_duplicates_and_timer"), dup).unwrap();
    }
}

/// A NAT-T run against the target's fred: Daphne forces NAT-T (so fred
/// sees a NAT in front of her), floats at MM5, and her NAT maps her port
/// 4500 to 40001. Framed with the target's control bits: MM1 and MM3 to
/// port 500, the rest after the non-ESP marker from 11.11.11.1:40001 to
/// fred's 4500 (bits 2 and 3).
fn nat_t_transcript() -> Vec<u8> {
    let now = Instant::now();
    let mut a = fuzzing::seed_daphne();
    let mut config = (**a.config()).clone();
    config.nat_t.mode = ike_sm::NatTMode::Forced;
    a.set_config(std::sync::Arc::new(config));
    let mut b = fuzzing::seed_fred();
    let (da, fr) = (
        "11.11.11.1:500".parse().unwrap(),
        "11.11.11.2:500".parse().unwrap(),
    );
    let mapped: std::net::SocketAddr = "11.11.11.1:40001".parse().unwrap();
    a.initiate(now, seed_request(da, fr)).unwrap();
    let mut out = Vec::new();
    for _ in 0..16 {
        while let Some(t) = a.poll_transmit() {
            let (ctl, from) = if t.local.port() == 4500 {
                (4 | 8, mapped)
            } else {
                (0, da)
            };
            out.push(ctl);
            out.extend_from_slice(&u16::try_from(t.data.len()).unwrap().to_be_bytes());
            out.extend_from_slice(&t.data);
            b.handle_datagram(now, t.remote, from, &t.data);
        }
        while let Some(t) = b.poll_transmit() {
            let to = if t.remote == mapped {
                "11.11.11.1:4500".parse().unwrap()
            } else {
                t.remote
            };
            a.handle_datagram(now, to, t.local, &t.data);
        }
    }
    out
}

#[test]
fn responder_nat_t_transcript_floats_and_encapsulates() {
    let full = nat_t_transcript();
    let s = fuzzing::responder(Instant::now(), &full);
    assert_eq!((s.phase1, s.phase2), (1, 1), "{s:?}");
    if std::env::var_os("IKE_SM_WRITE_CORPUS").is_some() {
        let d = dir("ike_responder");
        std::fs::write(d.join("nat_t_forced_float"), &full).unwrap();
        // Keepalives and bad framing on the NAT-T port.
        let mut k = full.clone();
        for rec in [
            &[4u8, 0, 1, 0xff][..],
            &[4, 0, 2, 0, 0],
            &[4, 0, 4, 0, 0, 0, 0],
        ] {
            k.extend_from_slice(rec);
        }
        std::fs::write(d.join("nat_t_keepalives_and_framing"), k).unwrap();
    }
}

#[test]
fn ike_remote_access_corpus() {
    replay("ike_remote_access", fuzzing::remote_access);
    // The seed runs Main Mode, XAUTH, Mode-Config and Quick Mode.
    let handshake = std::fs::read(dir("ike_remote_access").join("handshake")).unwrap();
    let s = fuzzing::remote_access(Instant::now(), &handshake);
    assert_eq!(s.phase1, 1, "{s:?}");
    assert_eq!(s.phase2, 1, "{s:?}");
}
