//! Regressions found by the `ted_gateway` fuzz target, each with the
//! corpus input that found it (fuzz/corpus/ted_gateway/regression-*).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod gateway_util;

use std::net::Ipv4Addr;
use std::time::Duration;

use esp::ip::{self as packet, Ipv4Header, Ipv4Packet, Transport, icmp_type, protocol};
use gateway_util::*;
use netsim::scenario::{A1, DAPHNE, DAPHNE_INSIDE, FRED, OUTSIDE, SeedNetwork};

/// What Daphne sent onto the 11.11.11.0/24 link since `from`.
fn sent_by_daphne(s: &SeedNetwork, from: usize) -> Vec<Vec<u8>> {
    s.net.captured(s.transit)[from..]
        .iter()
        .filter(|c| c.from == s.daphne)
        .map(|c| c.packet.clone())
        .collect()
}

fn is_clear_icmp_between_the_lans(p: &[u8]) -> bool {
    let ip = Ipv4Packet::parse(p).unwrap();
    let (s, d) = (ip.header.source.octets(), ip.header.destination.octets());
    ip.header.protocol == protocol::ICMP && s[..3] == [13, 13, 13] && d[..3] == [12, 12, 12]
}

fn echo_request(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
    packet::icmp_echo(
        Ipv4Header::new(src, dst, 0).with_ttl(64),
        false,
        9,
        9,
        b"clear",
    )
    .unwrap()
}

#[test]
fn cleartext_to_the_routers_own_protected_address_is_dropped_not_answered_in_clear() {
    // Found by ted_gateway (regression-router-answers-in-clear): an echo
    // request 12.12.12.13 -> 13.13.13.13 (Daphne's inside address)
    // arriving in clear on the outside was answered, and the reply
    // 13.13.13.13 -> 12.12.12.13 left the outside in clear: both are
    // traffic access list 101 protects.
    let mut s = network();
    s.net
        .inject(s.daphne, OUTSIDE, echo_request(A1, DAPHNE_INSIDE));
    s.net.run_for(Duration::from_secs(1), 1000);
    assert!(
        sent_by_daphne(&s, 0).is_empty(),
        "Daphne answered clear text"
    );
    let gw = s.daphne().unwrap().gateway();
    assert_eq!(gw.counters().outside_cleartext_dropped, 1);
    // Clear text to the router's outside address is not protected traffic:
    // answered, in clear.
    s.net.inject(s.daphne, OUTSIDE, echo_request(FRED, DAPHNE));
    s.net.run_for(Duration::from_secs(1), 1000);
    let sent = sent_by_daphne(&s, 0);
    assert_eq!(sent.len(), 1);
    let reply = Ipv4Packet::parse(&sent[0]).unwrap();
    assert_eq!(reply.header.source, DAPHNE);
    assert!(matches!(
        reply.transport().unwrap(),
        Transport::Icmp {
            icmp_type: icmp_type::ECHO_REPLY,
            ..
        }
    ));
}

#[test]
fn the_routers_own_replies_to_the_peer_network_go_through_the_tunnel() {
    // The other half of the same finding: what the router itself sends to
    // the protected network behind the peer is protected traffic too (IOS
    // applies the crypto map to locally originated packets). A1 pings
    // Daphne's inside address through the tunnel: the request arrives in
    // ESP and is answered, and the answer leaves in ESP.
    let mut s = established();
    let before = s.net.captured(s.transit).len();
    let esp_before = s.daphne().unwrap().gateway().counters().plaintext_encrypted;
    let a1 = s.a1;
    s.net
        .node_mut::<netsim::Host>(a1)
        .unwrap()
        .send_raw(echo_request(A1, DAPHNE_INSIDE));
    s.net.run_for(Duration::from_secs(1), 1000);
    let sent = sent_by_daphne(&s, before);
    assert_eq!(sent.len(), 1, "one reply from Daphne");
    let outer = Ipv4Packet::parse(&sent[0]).unwrap();
    assert_eq!(outer.header.protocol, protocol::ESP);
    assert!(!sent.iter().any(|p| is_clear_icmp_between_the_lans(p)));
    assert_eq!(
        s.daphne().unwrap().gateway().counters().plaintext_encrypted,
        esp_before + 1
    );
    // A1 got the reply, from Daphne's inside address.
    let a1 = s.a1().unwrap();
    let replies: Vec<_> = a1
        .received()
        .filter_map(|r| {
            let ip = Ipv4Packet::parse(&r.packet).ok()?;
            (ip.header.source == DAPHNE_INSIDE).then_some(())
        })
        .collect();
    assert_eq!(replies.len(), 1);
    // And D1's pings still work as before.
    assert_eq!(s.d1().unwrap().echo_replies().len(), 9);
}
