//! Exposure before authentication: for every first message a source we
//! know nothing about can send, the bytes the responder sends back per
//! byte received, over the life of whatever state the message created
//! (retransmissions included), and that no message creates state beyond
//! the half-open caps. Each kind has a bound the test asserts; the
//! figures are in the `Endpoint` documentation ("Exposure before
//! authentication").
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use ike_sm::{AggressiveModePolicy, Config, Endpoint, ExchangeMode, TransformSet};
use isakmp_wire::{
    Attribute, EncryptionAlgorithm, ExchangeType, GroupDescription, HashAlgorithm, HeaderRepr,
    LifeType, MessageRepr, NotificationRepr, NotifyType, PayloadRepr, Phase1Attribute,
    ProposalRepr, ProtocolId, SaRepr, TransformId, TransformRepr,
};

/// Bytes `b` sends, in total, for one datagram `m` from a new source:
/// the immediate reply and every retransmission until its timers end.
fn reply_bytes(config: Config, m: &[u8]) -> usize {
    let mut b = Endpoint::new(Arc::new(config), Box::new(rng(7)));
    let me: SocketAddr = "10.0.0.2:500".parse().unwrap();
    let src: SocketAddr = "198.18.0.1:500".parse().unwrap();
    let mut now = Instant::now();
    let mut out = 0usize;
    b.handle_datagram(now, me, src, m);
    for _ in 0..100 {
        while let Some(t) = b.poll_transmit() {
            assert_eq!(t.remote, src);
            out += t.data.len();
        }
        while b.poll_event().is_some() {}
        let Some(t) = b.poll_timeout() else { break };
        now = now.max(t) + Duration::from_millis(1);
        b.handle_timeout(now);
    }
    assert!(b.poll_timeout().is_none(), "state outlived its timers");
    assert!(b.isakmp_sas(now).is_empty());
    out
}

/// The initiator's first message of `mode` from our own engine (a typical
/// first message: every transform, the vendor IDs).
fn first_message(mode: ExchangeMode) -> Vec<u8> {
    let mut c = lab_config(b"k");
    c.default_mode = mode;
    let mut a = Endpoint::new(Arc::new(c), Box::new(rng(3)));
    a.initiate(Instant::now(), lab_request(vec![TransformSet::strong()]))
        .unwrap();
    a.poll_transmit().unwrap().data
}

/// The smallest MM1 we answer: one transform of the default policy
/// (AES-256, SHA2-256, PSK, MODP-2048), no vendor ID.
fn minimal_mm1() -> Vec<u8> {
    let attributes: Vec<Attribute<'_>> = [
        Phase1Attribute::EncryptionAlgorithm(EncryptionAlgorithm::AES_CBC),
        Phase1Attribute::KeyLength(256),
        Phase1Attribute::HashAlgorithm(HashAlgorithm::SHA2_256),
        Phase1Attribute::AuthMethod(isakmp_wire::AuthMethod::PRE_SHARED_KEY),
        Phase1Attribute::GroupDescription(GroupDescription::MODP_2048),
        Phase1Attribute::LifeType(LifeType::SECONDS),
        Phase1Attribute::LifeDuration(86400),
    ]
    .iter()
    .map(Phase1Attribute::to_attribute)
    .collect();
    MessageRepr {
        header: HeaderRepr {
            initiator_cookie: [9; 8],
            exchange_type: ExchangeType::IDENTITY_PROTECTION,
            ..HeaderRepr::default()
        },
        payloads: vec![PayloadRepr::Sa(SaRepr {
            situation: 1,
            proposals: vec![ProposalRepr {
                number: 1,
                protocol: ProtocolId::ISAKMP,
                spi: &[],
                transforms: vec![TransformRepr {
                    number: 1,
                    id: TransformId(1),
                    attributes,
                }],
            }],
        })],
    }
    .to_vec()
    .unwrap()
}

fn ratio(out: usize, input: &[u8]) -> f64 {
    out as f64 / input.len() as f64
}

#[test]
fn every_first_message_kind_has_a_bounded_reply() {
    let answered = {
        let mut c = lab_config(b"k");
        c.aggressive_mode = AggressiveModePolicy::ANSWER_ALL;
        c
    };
    let refusing = {
        let mut c = lab_config(b"k");
        c.aggressive_mode = AggressiveModePolicy::default();
        c
    };
    let mm1 = first_message(ExchangeMode::Main);
    let small = minimal_mm1();
    let am1 = first_message(ExchangeMode::Aggressive);
    let clear_info = MessageRepr {
        header: HeaderRepr {
            initiator_cookie: [5; 8],
            responder_cookie: [6; 8],
            exchange_type: ExchangeType::INFORMATIONAL,
            ..HeaderRepr::default()
        },
        payloads: vec![PayloadRepr::Notification(NotificationRepr {
            doi: isakmp_wire::Doi::IPSEC,
            protocol: ProtocolId::ISAKMP,
            notify_type: NotifyType::INVALID_PAYLOAD_TYPE,
            spi: &[],
            data: &[],
        })],
    }
    .to_vec()
    .unwrap();
    let mut protected_info = clear_info.clone();
    protected_info[19] |= 1; // the encryption flag: ciphertext for an unknown SA
    // (kind, request, reply bytes, bound on the ratio)
    let cases = [
        (
            "MM1 (ours)",
            mm1.clone(),
            reply_bytes(answered.clone(), &mm1),
            2.0,
        ),
        (
            "MM1 (minimal)",
            small.clone(),
            reply_bytes(answered.clone(), &small),
            3.0,
        ),
        (
            "AM1 refused",
            am1.clone(),
            reply_bytes(refusing, &am1),
            0.25,
        ),
        (
            "AM1 answered",
            am1.clone(),
            reply_bytes(answered.clone(), &am1),
            3.0,
        ),
        (
            "Informational (clear)",
            clear_info.clone(),
            reply_bytes(answered.clone(), &clear_info),
            0.0,
        ),
        (
            "Informational (protected)",
            protected_info.clone(),
            reply_bytes(answered, &protected_info),
            0.0,
        ),
    ];
    for (kind, req, out, bound) in &cases {
        let r = ratio(*out, req);
        println!(
            "{kind}: {} bytes in, {out} bytes out, ratio {r:.2} (bound {bound})",
            req.len()
        );
        assert!(r <= *bound, "{kind}: ratio {r:.2} over {bound}");
    }
    // The answered kinds did answer (the bounds are not met by silence).
    assert!(cases[0].2 > 0 && cases[1].2 > 0 && cases[2].2 > 0 && cases[3].2 > 0);
}
