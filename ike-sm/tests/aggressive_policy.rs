//! The Aggressive Mode responder policy: refused by default, answered by
//! rule (address or identity), and a refusal that never tells whether a
//! key exists.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use ike_sm::{
    AggressiveModePolicy, AggressiveModeRule, Config, DropReason, Event, ExchangeMode, FailReason,
    Identity, LocalIdentity, PolicyDrop, PskScope, TransformSet,
};
use isakmp_wire::{
    ExchangeType, Message, MessageRepr, NotifyType, ParseConfig, PayloadRepr, PayloadType,
};

fn initiator(identity: &str) -> Config {
    let mut c = lab_config(b"k");
    c.default_mode = ExchangeMode::Aggressive;
    c.identity = LocalIdentity::Fixed(Identity::Fqdn(identity.to_owned()));
    c
}

/// B (the responder) with `policy`, and a key for `keyed` only.
fn responder(policy: AggressiveModePolicy, keyed: &str) -> Config {
    let mut c = lab_config(b"unused").with_psk_for_identity(b"k", Identity::Fqdn(keyed.into()));
    c.pre_shared_keys
        .retain(|k| matches!(k.scope, PskScope::Identity(_)));
    c.aggressive_mode = policy;
    c
}

/// Runs A's Aggressive Mode against B; B's datagrams, parsed.
fn run(a: Config, b: Config) -> (Pair, Vec<MessageRepr<'static>>) {
    let mut p = pair_with(a, b);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    let from_b: Vec<MessageRepr<'static>> = p
        .sent
        .iter()
        .filter(|(from_a, _)| !from_a)
        // Cleartext ones (the encrypted ones of an answered exchange do
        // not parse without keys).
        .filter_map(|(_, d)| {
            let bytes: &'static [u8] = Box::leak(d.clone().into_boxed_slice());
            MessageRepr::parse(&Message::new_checked(bytes).ok()?, &ParseConfig::default()).ok()
        })
        .collect();
    (p, from_b)
}

fn refused_reply(p: &Pair, from_b: &[MessageRepr<'static>]) {
    // One reply per AM1 sent (A retransmits), each an unprotected
    // Informational with AUTHENTICATION-FAILED and nothing else: no SA, KE
    // or HASH left B.
    assert!(!from_b.is_empty());
    for m in from_b {
        assert_eq!(m.header.exchange_type, ExchangeType::INFORMATIONAL);
        assert_eq!(m.header.responder_cookie, [0; 8]);
        let [PayloadRepr::Notification(n)] = m.payloads.as_slice() else {
            panic!("{:?}", m.payloads)
        };
        assert_eq!(n.notify_type, NotifyType::AUTHENTICATION_FAILED);
    }
    assert!(
        p.sent
            .iter()
            .filter(|(a, _)| !a)
            .all(|(_, d)| d.len() == 40)
    );
    assert!(from_b.iter().all(|m| {
        m.payloads
            .iter()
            .all(|p| p.payload_type() != PayloadType::HASH)
    }));
    assert!(Pair::established(&p.b_events).is_empty());
    assert!(p.b.isakmp_sas(p.now).is_empty(), "no state kept");
}

#[test]
fn refused_by_default_with_the_same_reply_as_a_missing_key() {
    // The engine's default: no Aggressive Mode, even with a key.
    let (p, from_b) = run(
        initiator("client"),
        responder(AggressiveModePolicy::default(), "client"),
    );
    refused_reply(&p, &from_b);
    assert!(p.b.counters().aggressive_refused >= 1);
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::InputDropped {
            reason: DropReason::Policy(PolicyDrop::AggressiveModeRefused),
            ..
        }
    )));
    // A learns only that authentication failed.
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::Phase1Failed {
            reason: FailReason::PeerNotified(NotifyType::AUTHENTICATION_FAILED),
            ..
        }
    )));
    // Answered, but no key for this identity: the same reply.
    let (q, from_b) = run(
        initiator("stranger"),
        responder(AggressiveModePolicy::ANSWER_ALL, "client"),
    );
    refused_reply(&q, &from_b);
    assert_eq!(q.b.counters().aggressive_refused, 0);
    assert!(q.b.counters().no_psk >= 1);
}

#[test]
fn answered_with_the_policy_on_and_main_mode_unaffected() {
    let (p, from_b) = run(
        initiator("client"),
        responder(AggressiveModePolicy::ANSWER_ALL, "client"),
    );
    assert_eq!(Pair::established(&p.b_events).len(), 1);
    assert_eq!(from_b[0].header.exchange_type, ExchangeType::AGGRESSIVE);
    // Main Mode is not Aggressive Mode: answered whatever the policy.
    let mut a = lab_config(b"k");
    a.default_mode = ExchangeMode::Main;
    let mut b = lab_config(b"k");
    b.aggressive_mode = AggressiveModePolicy::default();
    let mut q = pair_with(a, b);
    q.a.initiate(q.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    q.drive();
    assert_eq!(Pair::established(&q.b_events).len(), 1);
}

#[test]
fn rules_by_group_identity_and_by_address() {
    let group = AggressiveModePolicy {
        answer: false,
        rules: vec![AggressiveModeRule {
            scope: PskScope::Identity(Identity::Fqdn("vpn-group".into())),
            answer: true,
        }],
    };
    // The group that needs it gets it...
    let mut b = responder(group.clone(), "vpn-group");
    b = b.with_psk_for_identity(b"k", Identity::Fqdn("other-group".into()));
    let (p, _) = run(initiator("vpn-group"), b.clone());
    assert_eq!(Pair::established(&p.b_events).len(), 1);
    // ...another group with a key does not.
    let (q, from_b) = run(initiator("other-group"), b);
    refused_reply(&q, &from_b);
    assert!(q.b.counters().aggressive_refused >= 1);
    // Address rules, first match wins: A (10.0.0.1) refused by a /32
    // before the /8 that would answer it.
    let by_address = AggressiveModePolicy {
        answer: true,
        rules: vec![
            AggressiveModeRule {
                scope: PskScope::Address {
                    addr: "10.0.0.1".parse().unwrap(),
                    prefix: 32,
                },
                answer: false,
            },
            AggressiveModeRule {
                scope: PskScope::Address {
                    addr: "10.0.0.0".parse().unwrap(),
                    prefix: 8,
                },
                answer: true,
            },
        ],
    };
    assert!(!by_address.answers("10.0.0.1".parse().unwrap(), &Identity::Fqdn("x".into())));
    assert!(by_address.answers("10.0.0.9".parse().unwrap(), &Identity::Fqdn("x".into())));
    let (r, from_b) = run(initiator("client"), responder(by_address, "client"));
    refused_reply(&r, &from_b);
}
