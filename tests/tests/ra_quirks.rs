//! Remote-access behaviour of real peers the drafts do not spell out,
//! replayed through `ike_sm::fuzzing::RaWorld` with messages sealed under
//! the SA's keys: libreswan 4's zero padding inside its Attribute payload
//! (fixed in libreswan 5.2), and its Mode-Config SET pushed on the message
//! ID of the XAUTH status exchange, continuing that exchange's IV chain.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use std::net::Ipv4Addr;
use std::time::Instant;

use ike_sm::Event;
use ike_sm::fuzzing::RaWorld;
use isakmp_wire::Attribute;
use isakmp_wire::mode_cfg::{AttributesRepr, CfgAttributeType as T, CfgType};

fn config_body(cfg_type: CfgType, identifier: u16, pad: usize) -> Vec<u8> {
    let mut b = AttributesRepr {
        cfg_type,
        identifier,
        attributes: vec![
            Attribute::variable(T::INTERNAL_IP4_ADDRESS.0, &[10, 99, 0, 42]),
            Attribute::variable(T::UNITY_DEF_DOMAIN.0, b"ra.example"),
            Attribute::variable(T::UNITY_BANNER.0, b"hi"),
        ],
    }
    .to_vec()
    .unwrap();
    b.extend(std::iter::repeat_n(0u8, pad));
    b
}

/// XAUTH done; the client's Mode-Config REQUEST is with the server,
/// whose caller has not answered.
fn asking() -> RaWorld {
    let mut w = RaWorld::new(Instant::now(), false);
    w.initiate();
    w.settle();
    w.credentials("alice", b"secret");
    w.settle();
    w.verdict(true);
    w.settle();
    assert!(
        w.server_events
            .iter()
            .any(|e| matches!(e, Event::ModeCfgRequested(_)))
    );
    w
}

#[test]
fn a_reply_padded_with_zeros_inside_its_payload_is_read() {
    for pad in 1..=3 {
        let mut w = asking();
        let id = w.identifier(false).unwrap();
        assert!(w.inject(false, None, &config_body(CfgType::REPLY, id, pad)));
        let got = w.received();
        assert_eq!(got.len(), 1, "pad {pad}: {:#?}", w.client_events);
        assert_eq!(got[0].address, Some(Ipv4Addr::new(10, 99, 0, 42)));
        assert_eq!(got[0].domain.as_deref(), Some("ra.example"));
        assert_eq!(w.client.counters().remote_access, 0);
    }
}

#[test]
fn nonzero_padding_is_still_malformed() {
    // (Four zero bytes are an attribute: type 0, empty, ignored.)
    for tail in [vec![0u8, 0, 1], vec![7], vec![0, 9]] {
        let mut w = asking();
        let id = w.identifier(false).unwrap();
        let mut body = config_body(CfgType::REPLY, id, 0);
        body.extend(&tail);
        assert!(w.inject(false, None, &body));
        assert!(w.received().is_empty(), "{tail:?}");
        assert_eq!(w.client.counters().malformed, 1, "{tail:?}");
    }
}

#[test]
fn a_set_pushed_on_the_status_exchange_is_read() {
    let mut w = RaWorld::new(Instant::now(), false);
    w.initiate();
    w.settle();
    w.credentials("alice", b"secret");
    w.settle();
    w.verdict(true);
    // The status SET reaches the client, which ACKs it (and, pulling,
    // sends its REQUEST); only the ACK reaches the server.
    assert_eq!(w.link.len(), 1);
    w.deliver(0);
    assert_eq!(w.link.len(), 2);
    w.deliver(0);
    w.link.clear();
    // The server pushes on the status exchange's message ID, its chain
    // continuing after the ACK, as libreswan 4 does.
    assert!(w.inject(false, None, &config_body(CfgType::SET, 5, 0)));
    let got = w.received();
    assert_eq!(got.len(), 1, "{:#?}", w.client_events);
    assert_eq!(got[0].address, Some(Ipv4Addr::new(10, 99, 0, 42)));
    // The client acknowledged it.
    assert_eq!(w.link.len(), 1);
}
