//! Every exchange mode and algorithm, every failure, and the wire's
//! misbehaviour (loss, duplication, reordering), on the Pair harness.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::Duration;

use common::*;
use ike_sm::crypto::{DhGroup, EncryptionAlgorithm, HashAlgorithm};
use ike_sm::{
    Config, CryptoDrop, DeletedBy, DropReason, EspEncryption, EspIntegrity, EspMode, Event,
    ExchangeMode, FailReason, Identity, IsakmpPolicy, Lifetime, LocalIdentity, PeerConfig, SaRef,
    TransformSet,
};
use isakmp_wire::NotifyType;

fn phase1_failed(events: &[Event]) -> Vec<FailReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Phase1Failed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

fn phase2_failed(events: &[Event]) -> Vec<FailReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Phase2Failed { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

fn count(events: &[Event], f: impl Fn(&Event) -> bool) -> usize {
    events.iter().filter(|e| f(e)).count()
}

fn assert_pair_up(p: &Pair) {
    let a = Pair::established(&p.a_events);
    let b = Pair::established(&p.b_events);
    assert_eq!(a.len(), 1, "a: {:#?}", p.a_events);
    assert_eq!(b.len(), 1, "b: {:#?}", p.b_events);
    assert_eq!(a[0].inbound, b[0].outbound);
    assert_eq!(a[0].outbound, b[0].inbound);
}

fn with_policy(mut c: Config, p: IsakmpPolicy) -> Config {
    c.policies = vec![p];
    c
}

#[test]
fn main_and_aggressive_mode_every_phase1_algorithm() {
    let encs = [
        EncryptionAlgorithm::DesCbc,
        EncryptionAlgorithm::TripleDesCbc,
        EncryptionAlgorithm::Aes128Cbc,
        EncryptionAlgorithm::Aes192Cbc,
        EncryptionAlgorithm::Aes256Cbc,
    ];
    let hashes = [
        HashAlgorithm::Md5,
        HashAlgorithm::Sha1,
        HashAlgorithm::Sha2_256,
        HashAlgorithm::Sha2_384,
        HashAlgorithm::Sha2_512,
    ];
    let groups = [
        DhGroup::Modp768,
        DhGroup::Modp1024,
        DhGroup::Modp1536,
        DhGroup::Modp2048,
    ];
    let mut n = 0usize;
    for (i, enc) in encs.iter().enumerate() {
        for (j, hash) in hashes.iter().enumerate() {
            let group = groups[(i + j) % groups.len()];
            let mode = if n.is_multiple_of(2) {
                ExchangeMode::Main
            } else {
                ExchangeMode::Aggressive
            };
            n += 1;
            let policy = IsakmpPolicy {
                priority: 1,
                encryption: *enc,
                hash: *hash,
                group,
                ..IsakmpPolicy::new(1)
            };
            let mut a = with_policy(lab_config(b"k"), policy);
            a.default_mode = mode;
            let b = with_policy(lab_config(b"k"), policy);
            let mut p = pair_with(a, b);
            p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
                .unwrap();
            p.drive();
            assert_pair_up(&p);
            let sa = &p.a.isakmp_sas(p.now)[0];
            assert_eq!(sa.mode, mode);
            assert_eq!(
                sa.suite.unwrap().encryption,
                *enc,
                "{enc:?} {hash:?} {group:?}"
            );
            let weak = count(&p.a_events, |e| matches!(e, Event::WeakAlgorithm { .. }));
            let expect = usize::from(enc.is_weak())
                + usize::from(hash.is_weak())
                + usize::from(group.is_weak());
            assert_eq!(weak, expect, "{enc:?} {hash:?} {group:?}");
        }
    }
    // The larger groups once each.
    for group in [DhGroup::Modp3072, DhGroup::Modp4096] {
        let policy = IsakmpPolicy {
            group,
            ..IsakmpPolicy::new(1)
        };
        let mut p = pair_with(
            with_policy(lab_config(b"k"), policy),
            with_policy(lab_config(b"k"), policy),
        );
        p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
            .unwrap();
        p.drive();
        assert_pair_up(&p);
    }
}

#[test]
fn every_esp_transform_with_and_without_pfs() {
    let encs = [
        EspEncryption::Null,
        EspEncryption::DesCbc,
        EspEncryption::TripleDesCbc,
        EspEncryption::AesCbc { key_bits: 128 },
        EspEncryption::AesCbc { key_bits: 192 },
        EspEncryption::AesCbc { key_bits: 256 },
    ];
    let integs = [
        EspIntegrity::HmacMd5_96,
        EspIntegrity::HmacSha1_96,
        EspIntegrity::HmacSha256_128,
        EspIntegrity::HmacSha384_192,
        EspIntegrity::HmacSha512_256,
    ];
    let mut sets = Vec::new();
    for (i, e) in encs.iter().enumerate() {
        for (j, g) in integs.iter().enumerate() {
            let mode = if (i + j).is_multiple_of(2) {
                EspMode::Tunnel
            } else {
                EspMode::Transport
            };
            sets.push(TransformSet::new("t", *e, *g, mode));
        }
    }
    for bits in [128, 192, 256] {
        sets.push(TransformSet::new(
            "gcm",
            EspEncryption::AesGcm16 { key_bits: bits },
            EspIntegrity::None,
            EspMode::Tunnel,
        ));
    }
    for (k, set) in sets.into_iter().enumerate() {
        let pfs = k.is_multiple_of(3).then_some(DhGroup::Modp2048);
        let mut b = lab_config(b"k");
        b.phase2_policies[0].transform_sets = vec![set.clone()];
        b.phase2_policies[0].pfs = pfs;
        let mut p = pair_with(lab_config(b"k"), b);
        let mut req = lab_request(vec![TransformSet::strong(), set.clone()]);
        req.pfs = pfs;
        p.a.initiate(p.now, req).unwrap();
        p.drive();
        assert_pair_up(&p);
        let a = Pair::established(&p.a_events)[0];
        assert_eq!(a.transform, set.transform);
        assert_eq!(a.pfs, pfs);
        assert_eq!(
            a.inbound.encryption_key.len(),
            set.transform.encryption.keymat_len()
        );
        assert_eq!(
            a.inbound.integrity_key.len(),
            set.transform.integrity.keymat_len()
        );
    }
}

#[test]
fn aggressive_mode_with_fqdn_identity_and_key_by_identity() {
    let mut a = lab_config(b"unused");
    a.pre_shared_keys.clear();
    a = a.with_psk_for_address(b"by-id", "10.0.0.2".parse().unwrap(), 32);
    a.default_mode = ExchangeMode::Aggressive;
    a.identity = LocalIdentity::Fixed(Identity::Fqdn("daphne.example".into()));
    let mut b = lab_config(b"wrong");
    b.pre_shared_keys.clear();
    b = b.with_psk_for_identity(b"by-id", Identity::Fqdn("daphne.example".into()));
    b.identity = LocalIdentity::Fixed(Identity::KeyId(b"fred-key".to_vec()));
    let mut p = pair_with(a, b);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_pair_up(&p);
    // Three phase-1 messages and three Quick Mode ones.
    assert_eq!(p.sent.len(), 6);
    let b_sa = &p.b.isakmp_sas(p.now)[0];
    assert_eq!(
        b_sa.peer_identity,
        Some(Identity::Fqdn("daphne.example".into()))
    );
    let a_sa = &p.a.isakmp_sas(p.now)[0];
    assert_eq!(
        a_sa.peer_identity,
        Some(Identity::KeyId(b"fred-key".to_vec()))
    );
}

#[test]
fn wrong_psk_fails_on_both_ends() {
    for mode in [ExchangeMode::Main, ExchangeMode::Aggressive] {
        let mut a = lab_config(b"abc123");
        a.default_mode = mode;
        let mut p = pair_with(a, lab_config(b"abc124"));
        let n =
            p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
                .unwrap();
        p.drive();
        assert!(Pair::established(&p.a_events).is_empty());
        assert!(Pair::established(&p.b_events).is_empty());
        let fa = phase1_failed(&p.a_events);
        let fb = phase1_failed(&p.b_events);
        assert_eq!(fa.len(), 1, "{mode:?} a: {:#?}", p.a_events);
        assert_eq!(fb.len(), 1, "{mode:?} b: {:#?}", p.b_events);
        match mode {
            // The responder cannot read MM5; it says so in the clear.
            ExchangeMode::Main => {
                assert_eq!(fb[0], FailReason::Malformed);
                assert_eq!(
                    fa[0],
                    FailReason::PeerNotified(NotifyType::PAYLOAD_MALFORMED)
                );
            }
            // The initiator checks HASH_R in AM2 and tells the responder.
            ExchangeMode::Aggressive => {
                assert_eq!(fa[0], FailReason::AuthenticationFailed);
                assert_eq!(
                    fb[0],
                    FailReason::PeerNotified(NotifyType::INVALID_HASH_INFORMATION)
                );
            }
        }
        assert!(p.a_events.iter().any(|e| matches!(
            e,
            Event::Phase2Failed { negotiation: Some(x), reason: FailReason::Phase1Failed, .. } if *x == n
        )));
        assert!(p.a.isakmp_sas(p.now).is_empty());
        assert!(p.b.isakmp_sas(p.now).is_empty());
    }
}

#[test]
fn no_proposal_chosen_in_phase1() {
    let a = lab_config(b"k");
    let b = with_policy(lab_config(b"k"), IsakmpPolicy::ios_default(10));
    let mut p = pair_with(a, b);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_eq!(
        phase1_failed(&p.a_events),
        [FailReason::PeerNotified(NotifyType::NO_PROPOSAL_CHOSEN)]
    );
    assert_eq!(phase2_failed(&p.a_events), [FailReason::Phase1Failed]);
    assert_eq!(p.b.counters().no_proposal_chosen, 1);
    assert!(
        p.b.isakmp_sas(p.now).is_empty(),
        "no state kept for a refused MM1"
    );
}

#[test]
fn no_proposal_chosen_in_phase2() {
    let mut b = lab_config(b"k");
    b.phase2_policies[0].transform_sets = vec![TransformSet::ios_seed()];
    let mut p = pair_with(lab_config(b"k"), b);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_eq!(
        phase2_failed(&p.a_events),
        [FailReason::PeerNotified(NotifyType::NO_PROPOSAL_CHOSEN)]
    );
    assert_eq!(phase2_failed(&p.b_events), [FailReason::NoProposalChosen]);
    // Phase 1 stays up.
    assert_eq!(p.a.isakmp_sas(p.now).len(), 1);
    assert!(p.a.ipsec_sas(p.now).is_empty());
}

#[test]
fn wrong_proxy_identities_are_refused() {
    let mut b = lab_config(b"k");
    b.phase2_policies[0].local_proxy = ike_sm::ProxyId::subnet("172.16.0.0".parse().unwrap(), 16);
    let mut p = pair_with(lab_config(b"k"), b);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_eq!(
        phase2_failed(&p.a_events),
        [FailReason::PeerNotified(NotifyType::INVALID_ID_INFORMATION)]
    );
    assert_eq!(phase2_failed(&p.b_events), [FailReason::InvalidId]);
    assert_eq!(p.b.counters().invalid_id, 1);
}

#[test]
fn wrong_phase1_identity_is_refused() {
    let mut b = lab_config(b"k");
    b.peers.push(PeerConfig {
        addr: "10.0.0.1".parse().unwrap(),
        prefix: 32,
        mode: ExchangeMode::Main,
        expected_identity: Some(Identity::Fqdn("someone-else".into())),
    });
    let mut p = pair_with(lab_config(b"k"), b);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_eq!(phase1_failed(&p.b_events), [FailReason::InvalidId]);
    assert_eq!(
        phase1_failed(&p.a_events),
        [FailReason::PeerNotified(NotifyType::INVALID_ID_INFORMATION)]
    );
}

#[test]
fn tampered_quick_mode_is_dropped_then_the_retransmission_succeeds() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    // Flip the last ciphertext byte of the first QM1, once.
    let mut armed = true;
    p.fault = Some(Box::new(move |_, from_a, data| {
        if armed && from_a && data[18] == 32 {
            armed = false;
            let mut d = data.to_vec();
            let last = d.len() - 1;
            d[last] ^= 0x01;
            common::Fault::Replace(d)
        } else {
            common::Fault::Deliver
        }
    }));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive_for(Duration::from_secs(30));
    assert_eq!(p.b.counters().invalid_hash + p.b.counters().malformed, 1);
    assert_pair_up(&p);
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::InputDropped {
            reason: DropReason::Crypto(CryptoDrop::InvalidHash) | DropReason::Wire(_),
            ..
        }
    )));
}

#[test]
fn garbage_never_changes_established_state() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_pair_up(&p);
    let before_a = p.a.isakmp_sas(p.now);
    let before_ipsec = p.b.ipsec_sas(p.now);
    let (a_addr, b_addr) = (p.a_addr, p.b_addr);
    // Every recorded datagram, mutated in many ways, thrown at b and a.
    let log: Vec<Vec<u8>> = p.sent.iter().map(|(_, d)| d.clone()).collect();
    let mut inputs: Vec<Vec<u8>> = vec![vec![], vec![0; 27], vec![0xff; 28], b"garbage".to_vec()];
    for d in &log {
        for cut in [1usize, 28, 29, d.len() / 2, d.len() - 1] {
            inputs.push(d[..cut.min(d.len())].to_vec());
        }
        for i in (0..d.len()).step_by(7) {
            let mut m = d.clone();
            m[i] ^= 0x5a;
            inputs.push(m);
        }
        let mut longer = d.clone();
        longer.extend_from_slice(&[0; 16]);
        inputs.push(longer);
    }
    let n_inputs = inputs.len();
    for d in &inputs {
        p.b.handle_datagram(p.now, b_addr, a_addr, d);
        p.a.handle_datagram(p.now, a_addr, b_addr, d);
        // Drain and answer nothing (answers to duplicates are fine).
        while p.a.poll_transmit().is_some() {}
        while p.b.poll_transmit().is_some() {}
        while p.a.poll_event().is_some() {}
        while p.b.poll_event().is_some() {}
    }
    assert!(p.b.counters().dropped() > 0);
    assert!(p.b.counters().received >= n_inputs as u64);
    // Mutated first messages are new negotiations (half-open SAs);
    // the established SA is untouched.
    let after_a: Vec<_> =
        p.a.isakmp_sas(p.now)
            .into_iter()
            .filter(|s| s.state == ike_sm::IsakmpState::QmIdle)
            .collect();
    assert_eq!(before_a.len(), after_a.len());
    assert_eq!(before_a[0].id, after_a[0].id);
    assert_eq!(after_a[0].state, before_a[0].state);
    assert_eq!(p.b.ipsec_sas(p.now), before_ipsec);
    // And the SA still works: a second Quick Mode completes.
    let mut req = lab_request(vec![TransformSet::strong()]);
    req.local_proxy = ike_sm::ProxyId::subnet("192.168.3.0".parse().unwrap(), 24);
    p.a.initiate(p.now, req).unwrap();
    p.drive();
    assert_eq!(Pair::established(&p.a_events).len(), 2);
    assert_eq!(Pair::established(&p.b_events).len(), 2);
}

#[test]
fn retransmission_schedule_and_give_up() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.fault = Some(Box::new(|_, from_a, _| {
        if from_a {
            common::Fault::Drop
        } else {
            common::Fault::Deliver
        }
    }));
    let start = p.now;
    let n =
        p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
            .unwrap();
    p.drive_for(Duration::from_secs(120));
    // MM1 sent at 0, 10, 20, 30, 40, 50 s (IOS: 5 retransmissions).
    assert_eq!(p.sent.iter().filter(|(a, _)| *a).count(), 6);
    assert_eq!(p.a.counters().retransmitted, 5);
    assert!(
        p.a_events
            .iter()
            .any(|e| matches!(e, Event::RetransmitGaveUp { message_id: 0, .. }))
    );
    assert_eq!(phase1_failed(&p.a_events), [FailReason::Timeout]);
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::Phase2Failed { negotiation: Some(x), reason: FailReason::Phase1Failed, .. } if *x == n
    )));
    assert!(p.a.isakmp_sas(p.now).is_empty());
    assert!(p.now - start >= Duration::from_secs(60));
}

#[test]
fn each_lost_message_is_recovered() {
    // Drop, once, the k-th datagram of a clean run (MM1..MM6, QM1..QM3).
    for k in 0..9 {
        let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
        p.fault = Some(Box::new(move |i, _, _| {
            if i == k {
                common::Fault::Drop
            } else {
                common::Fault::Deliver
            }
        }));
        p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
            .unwrap();
        p.drive_for(Duration::from_secs(60));
        assert_pair_up(&p);
        assert_eq!(
            p.a.counters().dropped() + p.b.counters().dropped(),
            0,
            "k={k}"
        );
        // A lost last message (MM6, QM3) is recovered by answering the
        // peer's retransmission with a resend.
        if k == 5 {
            assert_eq!(p.b.counters().duplicates_answered, 1);
        }
        if k == 8 {
            assert_eq!(p.a.counters().duplicates_answered, 1);
        }
    }
}

#[test]
fn duplicates_are_answered_by_resending_not_reprocessed() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.fault = Some(Box::new(|_, _, _| common::Fault::Duplicate));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive_for(Duration::from_secs(30));
    assert_pair_up(&p);
    // Copies that arrive with the original are not answered (rate limit,
    // no resend storm); none is processed twice.
    let seen = |c: &ike_sm::Counters| c.duplicates_answered + c.duplicates_suppressed;
    assert!(seen(p.b.counters()) >= 3);
    assert!(seen(p.a.counters()) >= 3);
    assert!(p.sent.len() < 40, "{} datagrams", p.sent.len());
    assert_eq!(
        count(&p.b_events, |e| matches!(e, Event::Phase1Established(_))),
        1
    );
}

#[test]
fn reordered_and_delayed_datagrams() {
    for seed in 0..8u64 {
        let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        p.fault = Some(Box::new(move |_, _, _| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            match x % 4 {
                0 => common::Fault::Delay(Duration::from_millis(x % 3000)),
                1 => common::Fault::Duplicate,
                _ => common::Fault::Deliver,
            }
        }));
        p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
            .unwrap();
        p.drive_for(Duration::from_secs(60));
        assert_pair_up(&p);
    }
}

#[test]
fn concurrent_quick_modes_over_one_isakmp_sa() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    let mut ids = Vec::new();
    for i in 0..5u8 {
        let mut req = lab_request(vec![TransformSet::strong()]);
        req.local_proxy =
            ike_sm::ProxyId::subnet(format!("192.168.{}.0", 10 + i).parse().unwrap(), 24);
        ids.push(p.a.initiate(p.now, req).unwrap());
    }
    p.drive();
    let a = Pair::established(&p.a_events);
    let b = Pair::established(&p.b_events);
    assert_eq!(a.len(), 5);
    assert_eq!(b.len(), 5);
    assert_eq!(p.a.isakmp_sas(p.now).len(), 1, "one phase 1 for all");
    let mut mids: Vec<u32> = a.iter().map(|e| e.message_id).collect();
    mids.sort_unstable();
    mids.dedup();
    assert_eq!(mids.len(), 5);
    for e in &a {
        let peer = b.iter().find(|f| f.message_id == e.message_id).unwrap();
        assert_eq!(e.inbound, peer.outbound);
        assert_eq!(e.local_proxy, peer.remote_proxy);
    }
    let mut negs: Vec<_> = a.iter().map(|e| e.negotiation.unwrap()).collect();
    negs.sort();
    ids.sort();
    assert_eq!(negs, ids);
}

#[test]
fn responder_lifetime_is_applied_by_the_initiator() {
    let short = Lifetime {
        seconds: 1200,
        kilobytes: Some(10_000),
    };
    let mut b = lab_config(b"k");
    b.phase2_policies[0].lifetime = short;
    let mut p = pair_with(lab_config(b"k"), b);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_pair_up(&p);
    assert_eq!(Pair::established(&p.a_events)[0].lifetime, short);
    assert_eq!(Pair::established(&p.b_events)[0].lifetime, short);
}

#[test]
fn commit_bit_is_tolerated() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.fault = Some(Box::new(|_, from_a, data| {
        if !from_a && data[18] == 32 {
            let mut d = data.to_vec();
            d[19] |= 0x02;
            common::Fault::Replace(d)
        } else {
            common::Fault::Deliver
        }
    }));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_pair_up(&p);
}

#[test]
fn delete_ipsec_and_isakmp_reach_the_peer() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    let a = Pair::established(&p.a_events)[0].clone();
    p.a.delete_ipsec(p.now, a.inbound.spi).unwrap();
    p.drive();
    assert!(p.a.ipsec_sas(p.now).is_empty());
    assert!(p.b.ipsec_sas(p.now).is_empty());
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::Deleted { sa: SaRef::Ipsec { inbound, .. }, by: DeletedBy::Peer, .. } if *inbound == a.outbound.spi
    )));
    assert!(p.a.delete_ipsec(p.now, a.inbound.spi).is_err());
    let sa = p.a.isakmp_sas(p.now)[0].id;
    p.a.delete_isakmp(p.now, sa).unwrap();
    p.drive();
    assert!(p.a.isakmp_sas(p.now).is_empty());
    assert!(p.b.isakmp_sas(p.now).is_empty());
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::Deleted {
            sa: SaRef::Isakmp(_),
            by: DeletedBy::Peer,
            ..
        }
    )));
}

#[test]
fn phase2_rekey_then_expiry() {
    let life = Lifetime {
        seconds: 600,
        kilobytes: None,
    };
    let mut a = lab_config(b"k");
    a.rekey.phase2_margin = Duration::from_secs(60);
    a.rekey.fuzz = Duration::from_secs(10);
    let mut b = lab_config(b"k");
    b.phase2_policies[0].lifetime = life;
    let mut p = pair_with(a, b);
    let mut req = lab_request(vec![TransformSet::strong()]);
    req.lifetime = life;
    p.a.initiate(p.now, req).unwrap();
    p.drive();
    let first = Pair::established(&p.a_events)[0].clone();
    // Soft expiry between 600-70 and 600-60 s: a new pair, marked as the
    // rekey of the first.
    p.drive_for(Duration::from_secs(545));
    let a = Pair::established(&p.a_events);
    assert_eq!(a.len(), 2, "{:#?}", p.a_events);
    assert_eq!(a[1].rekey_of, Some(first.inbound.spi));
    assert!(
        p.a_events
            .iter()
            .any(|e| matches!(e, Event::RekeyStarted { .. }))
    );
    assert_eq!(Pair::established(&p.b_events).len(), 2);
    // Hard expiry of the first pair: gone on both sides, the new one stays.
    p.drive_for(Duration::from_secs(70));
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::Expired { sa: SaRef::Ipsec { inbound, .. }, .. } if *inbound == first.inbound.spi
    )));
    assert_eq!(p.a.ipsec_sas(p.now).len(), 1);
    assert_eq!(p.b.ipsec_sas(p.now).len(), 1);
    assert_ne!(p.a.ipsec_sas(p.now)[0].inbound, first.inbound.spi);
}

#[test]
fn kilobyte_lifetime_from_reported_traffic() {
    let life = Lifetime {
        seconds: 3600,
        kilobytes: Some(100),
    };
    let mut p = pair_with(lab_config(b"k"), {
        let mut b = lab_config(b"k");
        b.phase2_policies[0].lifetime = life;
        b
    });
    let mut req = lab_request(vec![TransformSet::strong()]);
    req.lifetime = life;
    p.a.initiate(p.now, req).unwrap();
    p.drive();
    let first = Pair::established(&p.a_events)[0].clone();
    p.a.report_traffic(p.now, first.inbound.spi, 80 * 1024);
    p.drive();
    assert_eq!(
        p.a.ipsec_sas(p.now).len(),
        1,
        "below the soft limit (90 KB)"
    );
    p.a.report_traffic(p.now, first.inbound.spi, 11 * 1024);
    p.drive();
    assert_eq!(
        Pair::established(&p.a_events).len(),
        2,
        "soft limit: rekeyed"
    );
    p.a.report_traffic(p.now, first.inbound.spi, 10 * 1024);
    p.drive();
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::Expired {
            sa: SaRef::Ipsec { .. },
            ..
        }
    )));
    assert_eq!(p.a.ipsec_sas(p.now).len(), 1);
    assert_eq!(p.b.ipsec_sas(p.now).len(), 1);
}

#[test]
fn phase1_rekey_and_expiry() {
    let mut policy = IsakmpPolicy::new(1);
    policy.lifetime = 1000;
    let mut a = with_policy(lab_config(b"k"), policy);
    a.rekey.phase1_margin = Duration::from_secs(100);
    let b = with_policy(lab_config(b"k"), policy);
    let mut p = pair_with(a, b);
    let old = p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    p.drive();
    p.drive_for(Duration::from_secs(950));
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::RekeyStarted { old: SaRef::Isakmp(x), new_sa: Some(_), .. } if *x == old
    )));
    assert_eq!(
        count(&p.a_events, |e| matches!(e, Event::Phase1Established(_))),
        2
    );
    p.drive_for(Duration::from_secs(100));
    assert!(
        p.a_events.iter().any(|e| matches!(
            e,
            Event::Expired { sa: SaRef::Isakmp(x), .. }
            | Event::Deleted { sa: SaRef::Isakmp(x), by: DeletedBy::Peer, .. } if *x == old
        )),
        "{:#?}",
        p.a_events
    );
    let left = p.a.isakmp_sas(p.now);
    assert_eq!(left.len(), 1);
    assert_ne!(left[0].id, old);
    assert_eq!(p.b.isakmp_sas(p.now).len(), 1);
}

#[test]
fn dpd_keepalives_and_timeout() {
    let mut a = lab_config(b"k");
    a.dpd = Some(ike_sm::DpdConfig::default());
    let mut p = pair_with(a, lab_config(b"k"));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert!(p.a.isakmp_sas(p.now)[0].peer_dpd, "b announced DPD");
    // Idle for 35 s: R-U-THEREs at 10 s intervals, all answered.
    p.drive_for(Duration::from_secs(35));
    assert!(
        p.a_events
            .iter()
            .all(|e| !matches!(e, Event::DpdTimeout { .. }))
    );
    assert_eq!(p.a.isakmp_sas(p.now).len(), 1);
    let sent_before = p.sent.len();
    assert!(sent_before >= 9 + 6);
    // The peer goes silent.
    p.fault = Some(Box::new(|_, from_a, _| {
        if from_a {
            common::Fault::Drop
        } else {
            common::Fault::Deliver
        }
    }));
    p.drive_for(Duration::from_secs(40));
    assert!(
        p.a_events
            .iter()
            .any(|e| matches!(e, Event::DpdTimeout { .. }))
    );
    assert!(p.a.isakmp_sas(p.now).is_empty());
    assert!(p.a.ipsec_sas(p.now).is_empty());
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::Deleted {
            by: DeletedBy::DeadPeer,
            sa: SaRef::Ipsec { .. },
            ..
        }
    )));
    // The manual command works too, and a replayed R-U-THERE is refused.
}

#[test]
fn initial_contact_clears_a_restarted_peers_sas() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_eq!(p.b.ipsec_sas(p.now).len(), 1);
    // a restarts: a new endpoint at the same address, which knows nothing.
    p.a = ike_sm::Endpoint::new(std::sync::Arc::new(lab_config(b"k")), Box::new(rng(99)));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::Deleted {
            by: DeletedBy::InitialContact,
            sa: SaRef::Isakmp(_),
            ..
        }
    )));
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::Deleted {
            by: DeletedBy::InitialContact,
            sa: SaRef::Ipsec { .. },
            ..
        }
    )));
    assert_eq!(p.b.isakmp_sas(p.now).len(), 1);
    assert_eq!(p.b.ipsec_sas(p.now).len(), 1);
}

#[test]
fn half_open_cap_under_an_mm1_flood_keeps_established_sas_working() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_pair_up(&p);
    // Capture a's MM1 and replay it with fresh cookies from many sources.
    let mm1 = p.sent[0].1.clone();
    let cap_total = p.b.config().limits.half_open_total;
    let cap_peer = p.b.config().limits.half_open_per_peer;
    for i in 0..2000u32 {
        let mut m = mm1.clone();
        m[..4].copy_from_slice(&i.to_be_bytes());
        m[4] = 0xee;
        let src = format!("198.51.{}.{}:500", (i / 50) % 256, i % 50 % 256);
        let b_addr = p.b_addr;
        p.b.handle_datagram(p.now, b_addr, src.parse().unwrap(), &m);
        while p.b.poll_transmit().is_some() {}
    }
    let half_open =
        p.b.isakmp_sas(p.now)
            .iter()
            .filter(|s| s.state != ike_sm::IsakmpState::QmIdle)
            .count();
    assert_eq!(half_open, cap_total);
    assert!(p.b.counters().half_open_limit >= 2000 - cap_total as u64);
    // One source alone is capped per peer.
    let before = p.b.counters().half_open_limit;
    for i in 0..50u32 {
        let mut m = mm1.clone();
        m[..4].copy_from_slice(&i.to_be_bytes());
        m[4] = 0xdd;
        let b_addr = p.b_addr;
        p.b.handle_datagram(p.now, b_addr, "203.0.113.9:500".parse().unwrap(), &m);
    }
    assert!(p.b.counters().half_open_limit - before >= (50 - cap_peer) as u64);
    // The established SA still negotiates.
    while p.b.poll_event().is_some() {}
    let mut req = lab_request(vec![TransformSet::strong()]);
    req.local_proxy = ike_sm::ProxyId::subnet("192.168.7.0".parse().unwrap(), 24);
    p.a.initiate(p.now, req).unwrap();
    p.drive();
    assert_eq!(Pair::established(&p.a_events).len(), 2);
    // And the flood's half-open SAs time out (their MM2 is never answered).
    p.drive_for(Duration::from_secs(120));
    let left = p.b.isakmp_sas(p.now);
    assert!(left.iter().all(|s| s.state == ike_sm::IsakmpState::QmIdle));
}

#[test]
fn quick_mode_with_range_and_protocol_port_proxies() {
    use ike_sm::{ProxyAddr, ProxyId};
    let range = ProxyId {
        protocol: 6,
        port: 443,
        addr: ProxyAddr::Range {
            start: "192.168.1.10".parse().unwrap(),
            end: "192.168.1.20".parse().unwrap(),
        },
    };
    let host = ProxyId::host("172.16.5.5".parse().unwrap()).with_protocol_port(6, 0);
    let mut b = lab_config(b"k");
    // The responder allows TCP from 192.168.1.0/24 to 172.16.0.0/16 only.
    b.phase2_policies[0].remote_proxy =
        ProxyId::subnet("192.168.1.0".parse().unwrap(), 24).with_protocol_port(6, 0);
    b.phase2_policies[0].local_proxy =
        ProxyId::subnet("172.16.0.0".parse().unwrap(), 16).with_protocol_port(6, 0);
    let mut p = pair_with(lab_config(b"k"), b);
    let mut req = lab_request(vec![TransformSet::strong()]);
    req.local_proxy = range;
    req.remote_proxy = host;
    p.a.initiate(p.now, req.clone()).unwrap();
    p.drive();
    assert_pair_up(&p);
    let b_sa = Pair::established(&p.b_events)[0];
    assert_eq!(b_sa.remote_proxy, range);
    assert_eq!(b_sa.local_proxy, host);
    // UDP instead of TCP is outside the policy.
    req.local_proxy = range.with_protocol_port(17, 443);
    p.a.initiate(p.now, req).unwrap();
    p.drive();
    assert_eq!(phase2_failed(&p.b_events), [FailReason::InvalidId]);
}
