//! Weak algorithms (issue 7 item 5): DES, 3DES, MD5, SHA-1 as the phase-1
//! hash and PRF, MODP-768 and MODP-1024 are negotiated only when a policy,
//! a transform set or a `pfs` setting names them, and every SA that uses
//! one reports each such algorithm exactly once, as `Event::WeakAlgorithm`,
//! on both sides, rekeys included. The defaults name none of them.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use ike_sm::crypto::{DhGroup, EncryptionAlgorithm, HashAlgorithm};
use ike_sm::{
    Config, EspEncryption, EspIntegrity, EspMode, Event, FailReason, IsakmpPolicy, SaRef,
    TransformSet,
};

/// The weak algorithm events of a log, by SA and name.
fn weak_events(events: &[Event]) -> HashMap<(SaRef, String), usize> {
    let mut m = HashMap::new();
    for e in events {
        if let Event::WeakAlgorithm { sa, algorithm } = e {
            *m.entry((*sa, algorithm.clone())).or_insert(0) += 1;
        }
    }
    m
}

fn phase1_established(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e, Event::Phase1Established(_)))
        .count()
}

/// A strong policy with one weak part, and the name its event carries.
fn weak_phase1_policies() -> Vec<(IsakmpPolicy, &'static str)> {
    let strong = IsakmpPolicy::new(1);
    vec![
        (
            IsakmpPolicy {
                encryption: EncryptionAlgorithm::DesCbc,
                ..strong
            },
            "DES-CBC",
        ),
        (
            IsakmpPolicy {
                encryption: EncryptionAlgorithm::TripleDesCbc,
                ..strong
            },
            "3DES-CBC",
        ),
        (
            IsakmpPolicy {
                hash: HashAlgorithm::Md5,
                ..strong
            },
            "MD5",
        ),
        (
            IsakmpPolicy {
                hash: HashAlgorithm::Sha1,
                ..strong
            },
            "SHA1",
        ),
        (
            IsakmpPolicy {
                group: DhGroup::Modp768,
                ..strong
            },
            "MODP-768",
        ),
        (
            IsakmpPolicy {
                group: DhGroup::Modp1024,
                ..strong
            },
            "MODP-1024",
        ),
    ]
}

#[test]
fn the_defaults_name_no_weak_algorithm() {
    let c = Config::default();
    assert_eq!(c.policies, [IsakmpPolicy::new(10)]);
    let p = c.policies[0];
    assert_eq!(p.encryption, EncryptionAlgorithm::Aes256Cbc);
    assert_eq!(p.hash, HashAlgorithm::Sha2_256);
    assert_eq!(p.group, DhGroup::Modp2048);
    assert!(!p.is_weak());
    let t = TransformSet::strong().transform;
    assert_eq!(t.encryption, EspEncryption::AesCbc { key_bits: 256 });
    assert_eq!(t.integrity, EspIntegrity::HmacSha256_128);
    assert!(!t.is_weak());
    // Every algorithm the issue lists is weak; the strong ones are not.
    for w in weak_phase1_policies() {
        assert!(w.0.is_weak(), "{}", w.1);
    }
    assert!(!HashAlgorithm::Sha2_256.is_weak());
    assert!(!DhGroup::Modp1536.is_weak());
    assert!(!EncryptionAlgorithm::Aes128Cbc.is_weak());
    assert!(!EspIntegrity::HmacSha1_96.is_weak());
}

#[test]
fn a_weak_phase1_algorithm_is_used_only_when_both_policies_name_it_and_reported_once() {
    for (weak, name) in weak_phase1_policies() {
        // The responder names only strong algorithms: refused.
        let mut a = lab_config(b"k");
        a.policies = vec![weak];
        let mut p = pair_with(a.clone(), lab_config(b"k"));
        p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
            .unwrap();
        p.drive_for(Duration::from_secs(90));
        assert_eq!(phase1_established(&p.b_events), 0, "{name}");
        assert!(p.b.counters().no_proposal_chosen >= 1, "{name}");
        assert!(weak_events(&p.a_events).is_empty(), "{name}");
        assert!(weak_events(&p.b_events).is_empty(), "{name}");
        // The responder names it too (after a strong policy the initiator
        // does not offer): used, and reported once on each side.
        let mut b = lab_config(b"k");
        b.policies = vec![
            IsakmpPolicy::new(1),
            IsakmpPolicy {
                priority: 2,
                ..weak
            },
        ];
        let mut p = pair_with(a, b);
        p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
            .unwrap();
        p.drive();
        assert_eq!(Pair::established(&p.a_events).len(), 1, "{name}");
        for events in [&p.a_events, &p.b_events] {
            let w = weak_events(events);
            assert_eq!(w.len(), 1, "{name}: {w:?}");
            let ((sa, algorithm), n) = w.into_iter().next().unwrap();
            assert!(matches!(sa, SaRef::Isakmp(_)), "{name}");
            assert_eq!((algorithm.as_str(), n), (name, 1));
        }
    }
}

#[test]
fn a_strong_offer_to_a_policy_that_also_names_weak_ones_reports_nothing() {
    let mut b = lab_config(b"k");
    b.policies = vec![IsakmpPolicy::ios_default(5), IsakmpPolicy::new(10)];
    let mut p = pair_with(lab_config(b"k"), b);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_eq!(Pair::established(&p.b_events).len(), 1);
    assert!(weak_events(&p.a_events).is_empty());
    assert!(weak_events(&p.b_events).is_empty());
}

#[test]
fn a_weak_phase2_algorithm_is_used_only_when_named_and_reported_once() {
    let strong = TransformSet::strong();
    let set =
        |encryption, integrity| TransformSet::new("weak", encryption, integrity, EspMode::Tunnel);
    let cases: Vec<(TransformSet, Option<DhGroup>, &str)> = vec![
        (
            set(EspEncryption::DesCbc, EspIntegrity::HmacSha256_128),
            None,
            "esp-des",
        ),
        (
            set(EspEncryption::TripleDesCbc, EspIntegrity::HmacSha256_128),
            None,
            "esp-3des",
        ),
        (
            set(
                EspEncryption::AesCbc { key_bits: 256 },
                EspIntegrity::HmacMd5_96,
            ),
            None,
            "esp-md5-hmac",
        ),
        (strong.clone(), Some(DhGroup::Modp768), "MODP-768"),
        (strong.clone(), Some(DhGroup::Modp1024), "MODP-1024"),
    ];
    for (ts, pfs, name) in cases {
        let mut req = lab_request(vec![ts.clone()]);
        req.pfs = pfs;
        // The responder's policy has only the strong set and no PFS group.
        let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
        p.a.initiate(p.now, req.clone()).unwrap();
        p.drive();
        assert!(Pair::established(&p.b_events).is_empty(), "{name}");
        assert!(
            p.b_events.iter().any(|e| matches!(
                e,
                Event::Phase2Failed {
                    reason: FailReason::NoProposalChosen,
                    ..
                }
            )),
            "{name}: {:#?}",
            p.b_events
        );
        assert!(weak_events(&p.a_events).is_empty(), "{name}");
        assert!(weak_events(&p.b_events).is_empty(), "{name}");
        // Named by the responder's policy too: used and reported once on
        // each side, for the pair.
        let mut b = lab_config(b"k");
        b.phase2_policies[0].transform_sets = vec![strong.clone(), ts];
        b.phase2_policies[0].pfs = pfs;
        let mut p = pair_with(lab_config(b"k"), b);
        p.a.initiate(p.now, req).unwrap();
        p.drive();
        let pair = Pair::established(&p.a_events);
        assert_eq!(pair.len(), 1, "{name}");
        for events in [&p.a_events, &p.b_events] {
            let w = weak_events(events);
            assert_eq!(w.len(), 1, "{name}: {w:?}");
            let ((sa, algorithm), n) = w.into_iter().next().unwrap();
            assert!(matches!(sa, SaRef::Ipsec { .. }), "{name}");
            assert_eq!((algorithm.as_str(), n), (name, 1));
        }
    }
}

#[test]
fn every_sa_of_the_seed_reports_its_weak_algorithms_once_through_rekeys() {
    // The seed's configuration (DES, SHA-1, MODP-768; ESP DES with
    // HMAC-MD5), run through more than two IPsec lifetimes (3600 s) so
    // that the pair is rekeyed.
    let mut p = seed_pair();
    p.a.initiate(p.now, seed_request()).unwrap();
    p.drive_for(Duration::from_secs(3 * 3600));
    for (who, events) in [("Daphne", &p.a_events), ("fred", &p.b_events)] {
        let w = weak_events(events);
        assert!(w.values().all(|n| *n == 1), "{who}: {w:?}");
        let phase1: Vec<_> = events
            .iter()
            .filter_map(|e| match e {
                Event::Phase1Established(i) => Some(SaRef::Isakmp(i.sa)),
                _ => None,
            })
            .collect();
        let phase2: Vec<_> = Pair::established(events)
            .iter()
            .map(|e| SaRef::Ipsec {
                inbound: e.inbound.spi,
                outbound: e.outbound.spi,
            })
            .collect();
        assert!(phase2.len() >= 3, "{who}: {} pairs", phase2.len());
        let mut expected = HashMap::new();
        for sa in phase1 {
            for a in ["DES-CBC", "SHA1", "MODP-768"] {
                expected.insert((sa, a.to_owned()), 1);
            }
        }
        for sa in phase2 {
            for a in ["esp-des", "esp-md5-hmac"] {
                expected.insert((sa, a.to_owned()), 1);
            }
        }
        assert_eq!(w, expected, "{who}");
    }
}
