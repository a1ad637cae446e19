//! The bytes of docs/ted-wire.md's "Worked example", produced by the discovery
//! itself: a probe from Daphne's trigger with the example's initiator
//! cookie, and fred's response to that probe with the example's responder
//! cookie.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod discovery_util;

use std::time::Instant;

use discovery_util::*;
use ted::discovery::{Datagram, Disposition, TransmitKind};

// docs/ted-wire.md, "Worked example" (cookies illustrative, exchange type 240):
// the probe, 76 bytes.
const PROBE: [u8; 76] = [
    0x5a, 0x1c, 0x3e, 0x77, 0x90, 0xab, 0xcd, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x0d, 0x10, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4c, //
    0x05, 0x00, 0x00, 0x14, 0x3e, 0x98, 0x40, 0x48, 0x10, 0x1e, 0x66, 0xcc, 0x65, 0x9f, 0xd0, 0x02,
    0xb0, 0xed, 0x36, 0x55, //
    0x05, 0x00, 0x00, 0x0c, 0x01, 0x11, 0x01, 0xf4, 0x0b, 0x0b, 0x0b, 0x01, //
    0x00, 0x00, 0x00, 0x10, 0x04, 0x00, 0x00, 0x00, 0x0d, 0x0d, 0x0d, 0x00, 0xff, 0xff, 0xff, 0x00,
];

// docs/ted-wire.md, "Worked example": the response, 88 bytes.
const RESPONSE: [u8; 88] = [
    0x5a, 0x1c, 0x3e, 0x77, 0x90, 0xab, 0xcd, 0x01, 0x9f, 0x02, 0x61, 0xd4, 0x38, 0xe5, 0x7a, 0x10,
    0x0d, 0x10, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x58, //
    0x05, 0x00, 0x00, 0x14, 0x3e, 0x98, 0x40, 0x48, 0x10, 0x1e, 0x66, 0xcc, 0x65, 0x9f, 0xd0, 0x02,
    0xb0, 0xed, 0x36, 0x55, //
    0x10, 0x00, 0x00, 0x0c, 0x01, 0x11, 0x01, 0xf4, 0x0b, 0x0b, 0x0b, 0x02, //
    0x00, 0x00, 0x00, 0x1c, 0x04, 0x00, 0x00, 0x00, 0x0d, 0x0d, 0x0d, 0x00, 0xff, 0xff, 0xff, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x0c, 0x0c, 0x0c, 0x00, 0xff, 0xff, 0xff, 0x00,
];

const COOKIE_I: [u8; 8] = [0x5a, 0x1c, 0x3e, 0x77, 0x90, 0xab, 0xcd, 0x01];
const COOKIE_R: [u8; 8] = [0x9f, 0x02, 0x61, 0xd4, 0x38, 0xe5, 0x7a, 0x10];

#[test]
fn probe_is_the_worked_example() {
    let config = daphne();
    let mut d = discovery();
    let mut rng = ScriptedRng::new(1).with(&COOKIE_I);
    d.handle_trigger(Instant::now(), &mut rng, seed_trigger(&config));
    let probes = drain_transmits(&mut d);
    assert_eq!(probes.len(), 1);
    let probe = &probes[0];
    assert_eq!(probe.kind, TransmitKind::TedProbe);
    assert_eq!(probe.payload, PROBE);
    // docs/ted-wire.md, "The exchange": IP source = the packet's source, destination = its
    // destination, UDP 500 -> 500.
    assert_eq!(probe.source, sock(HOST_D1));
    assert_eq!(probe.destination, sock(HOST_A1));
}

#[test]
fn response_is_the_worked_example() {
    let config = fred();
    let mut d = discovery();
    let mut rng = ScriptedRng::new(2).with(&COOKIE_R);
    let disposition = d.handle_datagram(
        Instant::now(),
        &mut rng,
        &config,
        Datagram::new(sock(HOST_D1), sock(HOST_A1), &PROBE),
    );
    assert_eq!(disposition, Disposition::Consumed);
    let responses = drain_transmits(&mut d);
    assert_eq!(responses.len(), 1);
    let response = &responses[0];
    assert_eq!(response.kind, TransmitKind::TedResponse);
    assert_eq!(response.payload, RESPONSE);
    // "TED V3": from the responder's own address to the probe's ID address.
    assert_eq!(response.source, sock(FRED));
    assert_eq!(response.destination, sock(DAPHNE));
}

#[test]
fn alternate_numbering_sends_239() {
    let config = fred();
    let mut settings = ted::discovery::DiscoveryConfig::default();
    settings.proxy_payload_numbering = isakmp_wire::TedProxyNumbering::Alternate;
    let mut d = ted::discovery::Discovery::new(settings).unwrap();
    let mut rng = ScriptedRng::new(2).with(&COOKIE_R);
    d.handle_datagram(
        Instant::now(),
        &mut rng,
        &config,
        Datagram::new(sock(HOST_D1), sock(HOST_A1), &PROBE),
    );
    let response = d.poll_transmit().unwrap();
    let mut expected = RESPONSE;
    expected[48] = 239; // the ID's next payload: the proxy payload's number
    assert_eq!(response.payload, expected);
}

#[test]
fn other_exchange_type_and_vendor_id() {
    let config = daphne();
    let mut settings = ted::discovery::DiscoveryConfig::default();
    settings.exchange_type = isakmp_wire::ExchangeType(241);
    settings.vendor_id = vec![0xaa; 4];
    settings.capability_vendor_id = Some(vec![0xbb, 0xcc]);
    let mut d = ted::discovery::Discovery::new(settings).unwrap();
    let mut rng = ScriptedRng::new(3).with(&COOKIE_I);
    d.handle_trigger(Instant::now(), &mut rng, seed_trigger(&config));
    let probe = d.poll_transmit().unwrap().payload;
    // Header: exchange type at offset 18, length at 24..28 = 28 + 8 (VID of
    // 4) + 12 (ID) + 16 (ID) + 6 (VID of 2) = 70.
    assert_eq!(probe[18], 241);
    assert_eq!(&probe[24..28], &[0, 0, 0, 70]);
    assert_eq!(&probe[28..36], &[0x05, 0, 0, 8, 0xaa, 0xaa, 0xaa, 0xaa]);
    // The subnet ID now announces a vendor ID (13) after it.
    assert_eq!(probe[48], 13);
    assert_eq!(&probe[64..70], &[0, 0, 0, 6, 0xbb, 0xcc]);
    assert!(d.is_ted(&probe));
    assert!(!discovery().is_ted(&probe));
}
