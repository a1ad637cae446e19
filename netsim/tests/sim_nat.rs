//! The NAT box (`netsim::NatBox`): translation both ways, the port
//! policies, checksums (read back with `esp::ip` on the captured links),
//! unsolicited packets, idle expiry and keepalives, rebinding, two boxes
//! in a row, and garbage.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod sim_nat_util;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use esp::ip::{self as packet, Ipv4Header, Ipv4Packet, Transport, protocol};
use netsim::{
    Host, LinkConfig, NatBox, NatConfig, NatTimeouts, Network, Node, OtherProtocols, PortPolicy,
};
use sim_nat_util::*;
use ted::config::InterfaceName;

fn server(port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(SERVER, port)
}

#[test]
fn udp_is_translated_both_ways_and_the_port_kept() {
    let mut s = OneNat::new(OneNat::config());
    s.send(s.client, 4500, server(4500), b"hello");
    // The server saw the box, port kept, and answered.
    let got = s.server().got.clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from, SocketAddrV4::new(NAT_OUTSIDE, 4500));
    assert_eq!(got[0].payload, b"hello");
    // The reply reached the client, addressed back to it.
    let back = s.host_udp(s.client);
    assert_eq!(
        back,
        vec![(
            server(4500),
            SocketAddrV4::new(CLIENT, 4500),
            b"hello".to_vec()
        )]
    );
    // Every packet on both links reads with correct checksums; the TTL
    // went down by one through the box.
    assert_eq!(all_checked(&s.net, s.wan), 2);
    assert_eq!(all_checked(&s.net, s.lan), 2);
    let out = Ipv4Packet::parse(&s.net.captured(s.wan)[0].packet).unwrap();
    assert_eq!(out.header.ttl, 127);
    assert_ne!(&out.payload[6..8], &[0, 0], "the UDP checksum is kept");
    let m = *s.nat().mappings().next().unwrap();
    assert_eq!(m.protocol, protocol::UDP);
    assert_eq!(m.inside, SocketAddrV4::new(CLIENT, 4500));
    assert_eq!(m.outside, SocketAddrV4::new(NAT_OUTSIDE, 4500));
    assert_eq!(m.remote, server(4500));
    assert!(m.replied);
    assert_eq!((m.packets_out, m.packets_in), (1, 1));
    let c = *s.nat().counters();
    assert_eq!((c.translated_out, c.translated_in), (1, 1));
    assert_eq!(c.mappings_created, 1);
    assert_eq!(c.dropped_unmapped, 0);
    assert_eq!(
        s.nat()
            .outside_of(protocol::UDP, SocketAddrV4::new(CLIENT, 4500), server(4500)),
        Some(SocketAddrV4::new(NAT_OUTSIDE, 4500))
    );
}

#[test]
fn a_port_taken_is_replaced_from_its_range_and_replies_find_their_host() {
    let mut s = OneNat::new(OneNat::config());
    s.send(s.client, 500, server(500), b"one");
    s.send(s.client2, 500, server(500), b"two");
    // High ports are replaced from 1024-65535.
    s.send(s.client, 40000, server(500), b"three");
    s.send(s.client2, 40000, server(500), b"four");
    let got = s.server().got.clone();
    assert_eq!(got.len(), 4);
    assert_eq!(got[0].from.port(), 500);
    let second = got[1].from.port();
    assert!(
        second != 500 && (1..512).contains(&second),
        "a port below 512 is replaced from 1-511 (Linux), got {second}"
    );
    assert_eq!(got[2].from.port(), 40000);
    assert!(got[3].from.port() >= 1024 && got[3].from.port() != 40000);
    // Each client got its own replies, on its own port.
    let one = s.host_udp(s.client);
    let two = s.host_udp(s.client2);
    assert_eq!(
        one.iter()
            .map(|u| (u.1.port(), u.2.clone()))
            .collect::<Vec<_>>(),
        vec![(500, b"one".to_vec()), (40000, b"three".to_vec())]
    );
    assert_eq!(
        two.iter()
            .map(|u| (u.1.port(), u.2.clone()))
            .collect::<Vec<_>>(),
        vec![(500, b"two".to_vec()), (40000, b"four".to_vec())]
    );
    // A port is kept when the same inside port talks to another remote
    // endpoint (conntrack's tuples are unique per remote endpoint).
    s.send(s.client2, 500, server(501), b"five");
    assert_eq!(s.server().got[4].from.port(), 500);
    assert_eq!(all_checked(&s.net, s.wan), 10);
    assert_eq!(all_checked(&s.net, s.lan), 10);
}

#[test]
fn renumbering_never_keeps_the_port() {
    let mut s = OneNat::new(OneNat::config().with_ports(PortPolicy::Renumber));
    s.send(s.client, 4500, server(4500), b"a");
    s.send(s.client, 4500, server(4501), b"b");
    s.send(s.client, 4500, server(4500), b"c");
    let got = s.server().got.clone();
    let ports: Vec<u16> = got.iter().map(|g| g.from.port()).collect();
    assert!(ports.iter().all(|p| *p != 4500 && *p >= 1024), "{ports:?}");
    // One mapping per remote endpoint (address and port dependent, as a
    // symmetric carrier NAT is); the same flow keeps its port.
    assert_ne!(ports[0], ports[1]);
    assert_eq!(ports[0], ports[2]);
    assert_eq!(s.host_udp(s.client).len(), 3);
    assert_eq!(all_checked(&s.net, s.wan), 6);
    assert_eq!(all_checked(&s.net, s.lan), 6);
}

#[test]
fn a_udp_checksum_of_zero_stays_zero() {
    let mut s = OneNat::new(OneNat::config().with_ports(PortPolicy::Renumber));
    let mut p = packet::udp(
        Ipv4Header::new(CLIENT, SERVER, 0).with_ttl(64),
        4500,
        4500,
        &[0xff],
    )
    .unwrap();
    p[26] = 0;
    p[27] = 0;
    s.host(s.client).send_raw(p);
    s.net.run_for(secs(1), 10_000);
    let got = s.server().got.clone();
    assert_eq!(got.len(), 1);
    assert!(got[0].checksum_zero, "checksum 0 outward");
    assert_ne!(got[0].from.port(), 4500);
    // The echo answered with checksum 0 too: still 0 inward.
    let back = &s.net.captured(s.lan)[1].packet;
    assert_eq!(&back[26..28], &[0, 0]);
    assert_eq!(udp_of(back).unwrap().2, 4500);
    assert_eq!(s.nat().counters().translated_in, 1);
}

/// A TCP segment with a correct checksum (RFC 793 pseudo-header).
fn tcp_segment(source: SocketAddrV4, destination: SocketAddrV4, data: &[u8]) -> Vec<u8> {
    let mut segment = vec![0u8; 20];
    segment[0..2].copy_from_slice(&source.port().to_be_bytes());
    segment[2..4].copy_from_slice(&destination.port().to_be_bytes());
    segment[4..8].copy_from_slice(&1u32.to_be_bytes());
    segment[12] = 5 << 4;
    segment[13] = 0x02; // SYN
    segment[14..16].copy_from_slice(&64240u16.to_be_bytes());
    segment.extend_from_slice(data);
    let sum = tcp_checksum(*source.ip(), *destination.ip(), &segment);
    segment[16..18].copy_from_slice(&sum.to_be_bytes());
    Ipv4Header::new(*source.ip(), *destination.ip(), 6)
        .build(&segment)
        .unwrap()
}

fn tcp_checksum(source: Ipv4Addr, destination: Ipv4Addr, segment: &[u8]) -> u16 {
    let mut pseudo = Vec::new();
    pseudo.extend_from_slice(&source.octets());
    pseudo.extend_from_slice(&destination.octets());
    pseudo.extend_from_slice(&[0, 6]);
    pseudo.extend_from_slice(&u16::try_from(segment.len()).unwrap().to_be_bytes());
    pseudo.extend_from_slice(segment);
    packet::checksum(&pseudo)
}

#[test]
fn tcp_is_translated_with_its_checksum() {
    let mut s = OneNat::new(OneNat::config());
    // Two clients from the same port: the second is renumbered.
    for (host, address) in [(s.client, CLIENT), (s.client2, CLIENT2)] {
        let p = tcp_segment(SocketAddrV4::new(address, 50000), server(443), b"GET");
        s.host(host).send_raw(p);
    }
    s.net.run_for(secs(1), 10_000);
    let wan = s.net.captured(s.wan);
    assert_eq!(wan.len(), 2);
    let mut ports = Vec::new();
    for c in wan {
        let ip = Ipv4Packet::parse(&c.packet).unwrap();
        assert_eq!(ip.header.source, NAT_OUTSIDE);
        assert_eq!(
            tcp_checksum(ip.header.source, ip.header.destination, ip.payload),
            0
        );
        // etherparse agrees.
        let (eh, rest) = etherparse::Ipv4Header::from_slice(&c.packet).unwrap();
        let (tcp, data) = etherparse::TcpHeader::from_slice(rest).unwrap();
        assert_eq!(tcp.checksum, tcp.calc_checksum_ipv4(&eh, data).unwrap());
        ports.push(tcp.source_port);
    }
    assert_eq!(ports[0], 50000);
    assert_ne!(ports[1], 50000);
    // The server's answer to the renumbered one comes back to client2.
    let answer = tcp_segment(server(443), SocketAddrV4::new(NAT_OUTSIDE, ports[1]), b"OK");
    s.server().send_raw(answer);
    s.net.run_for(secs(1), 10_000);
    let got = s
        .net
        .node::<Host>(s.client2)
        .unwrap()
        .received()
        .last()
        .unwrap()
        .packet
        .clone();
    let ip = Ipv4Packet::parse(&got).unwrap();
    assert_eq!(ip.header.destination, CLIENT2);
    assert_eq!(&ip.payload[2..4], &50000u16.to_be_bytes());
    assert_eq!(tcp_checksum(ip.header.source, CLIENT2, ip.payload), 0);
}

#[test]
fn icmp_echo_is_mapped_by_identifier() {
    let mut s = OneNat::new(OneNat::config());
    let t0 = s.t0;
    // Both hosts ping with identifier 1: the second is renumbered.
    s.host(s.client).ping(t0, SERVER, 3, secs(1));
    s.host(s.client2).ping(t0, SERVER, 3, secs(1));
    s.net.run_for(secs(5), 10_000);
    assert_eq!(s.host(s.client).echo_replies().len(), 3);
    assert_eq!(s.host(s.client2).echo_replies().len(), 3);
    let mut identifiers = std::collections::BTreeSet::new();
    for c in s.net.captured(s.wan) {
        let ip = Ipv4Packet::parse(&c.packet).unwrap();
        let Transport::Icmp { rest, .. } = ip.transport().unwrap() else {
            panic!("ICMP expected");
        };
        assert!(ip.header.source == NAT_OUTSIDE || ip.header.destination == NAT_OUTSIDE);
        identifiers.insert(u16::from_be_bytes([rest[0], rest[1]]));
    }
    assert_eq!(identifiers.len(), 2, "{identifiers:?}");
    assert!(identifiers.contains(&1));
    assert_eq!(all_checked(&s.net, s.wan), 12);
    assert_eq!(all_checked(&s.net, s.lan), 12);
    assert_eq!(s.nat().mappings().count(), 2);
    // ICMP's 30 s: idle, both go.
    s.net.run_for(secs(31), 10_000);
    assert_eq!(s.nat().mappings().count(), 0);
    assert_eq!(s.nat().counters().expired, 2);
}

fn esp_packet(source: Ipv4Addr, destination: Ipv4Addr, spi: u32) -> Vec<u8> {
    let mut body = spi.to_be_bytes().to_vec();
    body.extend_from_slice(&[0, 0, 0, 1]);
    body.extend_from_slice(&[0xab; 48]);
    Ipv4Header::new(source, destination, protocol::ESP)
        .build(&body)
        .unwrap()
}

#[test]
fn esp_is_translated_by_address_only_one_host_per_remote() {
    let mut s = OneNat::new(OneNat::config());
    let sent = esp_packet(CLIENT, SERVER, 0x1111);
    s.host(s.client).send_raw(sent.clone());
    s.net.run_for(secs(1), 10_000);
    let out = s.net.captured(s.wan)[0].packet.clone();
    let ip = Ipv4Packet::parse(&out).unwrap();
    assert_eq!(
        (ip.header.source, ip.header.destination),
        (NAT_OUTSIDE, SERVER)
    );
    assert_eq!(ip.payload, &sent[20..], "the ESP bytes are untouched");
    // The server's ESP back reaches the client.
    s.server().send_raw(esp_packet(SERVER, NAT_OUTSIDE, 0x2222));
    s.net.run_for(secs(1), 10_000);
    let last = s.net.captured(s.lan).last().unwrap().packet.clone();
    assert_eq!(Ipv4Packet::parse(&last).unwrap().header.destination, CLIENT);
    // A second inside host's ESP to the same remote clashes (no ports to
    // tell them apart), as with conntrack's generic tracking.
    s.host(s.client2)
        .send_raw(esp_packet(CLIENT2, SERVER, 0x3333));
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.nat().counters().dropped_clash, 1);
    assert_eq!(s.net.captured(s.wan).len(), 2);
    // Generic timeout (600 s).
    let m = *s.nat().mappings().next().unwrap();
    assert_eq!(m.expires.duration_since(m.last_seen), secs(600));

    // A box that drops ESP.
    let mut d = OneNat::new(OneNat::config().with_other_protocols(OtherProtocols::Drop));
    d.host(d.client)
        .send_raw(esp_packet(CLIENT, SERVER, 0x1111));
    d.server().send_raw(esp_packet(SERVER, NAT_OUTSIDE, 0x2222));
    d.net.run_for(secs(1), 10_000);
    assert_eq!(d.nat().counters().dropped_policy, 1);
    assert_eq!(d.nat().counters().dropped_unmapped, 1);
    assert_eq!(d.net.captured(d.lan).len(), 1, "only the client's packet");
    assert_eq!(d.net.captured(d.wan).len(), 1, "only the server's packet");
}

#[test]
fn unsolicited_packets_from_outside_are_dropped_and_counted() {
    let mut s = OneNat::new(OneNat::config());
    // Nothing mapped yet.
    s.server()
        .send_udp(SocketAddrV4::new(NAT_OUTSIDE, 4500), 4500, b"knock");
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.nat().counters().dropped_unmapped, 1);
    // A mapping to server:4500 does not let server:4501 in (port
    // dependent filtering), nor another address.
    s.server().echo = false;
    s.send(s.client, 4500, server(4500), b"out");
    s.server()
        .send_udp(SocketAddrV4::new(NAT_OUTSIDE, 4500), 4501, b"other port");
    s.server()
        .send_raw(packet::udp(Ipv4Header::new(SERVER, CLIENT, 0), 4500, 4500, b"direct").unwrap());
    s.server().send_raw(esp_packet(SERVER, NAT_OUTSIDE, 9));
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.nat().counters().dropped_unmapped, 4);
    assert_eq!(s.host_udp(s.client).len(), 0);
    // An ICMP echo request to the box is not answered (nothing maps it).
    let ping =
        packet::icmp_echo(Ipv4Header::new(SERVER, NAT_OUTSIDE, 0), false, 7, 1, b"x").unwrap();
    s.server().send_raw(ping);
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.nat().counters().dropped_unmapped, 5);
    assert_eq!(s.nat().counters().translated_in, 0);
    assert_eq!(s.net.captured(s.lan).len(), 1);
}

#[test]
fn an_idle_mapping_expires_and_a_late_reply_is_dropped() {
    let mut s = OneNat::new(OneNat::config());
    s.server().echo = false;
    s.send(s.client, 4500, server(4500), b"out");
    let m = *s.nat().mappings().next().unwrap();
    // Unreplied UDP: conntrack's 30 s.
    assert_eq!(m.expires.duration_since(m.last_seen), secs(30));
    assert!(!m.replied);
    // 29 s later the reply still gets in, and the mapping, replied now,
    // lives 120 s (udp_timeout_stream).
    s.net.run_for(secs(29), 10_000);
    s.server()
        .send_udp(SocketAddrV4::new(NAT_OUTSIDE, 4500), 4500, b"in time");
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.host_udp(s.client).len(), 1);
    let m = *s.nat().mappings().next().unwrap();
    assert!(m.replied);
    assert_eq!(m.expires.duration_since(m.last_seen), secs(120));
    // Idle for 120 s: gone, and the box woke up for it on its own.
    s.net.run_for(secs(121), 10_000);
    assert_eq!(s.nat().mappings().count(), 0);
    assert_eq!(s.nat().counters().expired, 1);
    s.server()
        .send_udp(SocketAddrV4::new(NAT_OUTSIDE, 4500), 4500, b"too late");
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.host_udp(s.client).len(), 1);
    assert_eq!(s.nat().counters().dropped_unmapped, 1);
}

#[test]
fn keepalives_keep_a_mapping_and_their_absence_loses_it() {
    let timeouts = NatTimeouts::default().with_udp(secs(30));
    let mut s = OneNat::new(OneNat::config().with_timeouts(timeouts));
    s.server().echo = false;
    s.send(s.client, 4500, server(4500), b"IKE");
    let start = s.net.now();
    // RFC 3948 keepalives every 20 s for 200 s: the mapping stays, with
    // the same outside port, and the server can reach the client at the
    // end.
    for _ in 0..10 {
        s.net.run_for(secs(20) - Duration::from_millis(100), 10_000);
        s.send(s.client, 4500, server(4500), &[0xff]);
    }
    assert!(s.net.now().duration_since(start) >= secs(199));
    assert_eq!(s.nat().counters().expired, 0);
    assert_eq!(s.nat().counters().mappings_created, 1);
    assert!(s.server().got.iter().all(|g| g.from.port() == 4500));
    s.server()
        .send_udp(SocketAddrV4::new(NAT_OUTSIDE, 4500), 4500, b"ESP");
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.host_udp(s.client).len(), 1);
    // Without them, 30 s later the mapping is gone.
    s.net.run_for(secs(30), 10_000);
    assert_eq!(s.nat().counters().expired, 1);
    s.server()
        .send_udp(SocketAddrV4::new(NAT_OUTSIDE, 4500), 4500, b"ESP");
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.host_udp(s.client).len(), 1);
    assert_eq!(s.nat().counters().dropped_unmapped, 1);
    // Replies count as traffic too: a mapping the server keeps busy lives.
    s.send(s.client, 4500, server(4500), b"again");
    for _ in 0..5 {
        s.net.run_for(secs(25), 10_000);
        s.server()
            .send_udp(SocketAddrV4::new(NAT_OUTSIDE, 4500), 4500, b"in");
    }
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.host_udp(s.client).len(), 6);
    assert_eq!(s.nat().counters().expired, 1);
}

#[test]
fn rebind_gives_the_next_packet_a_new_port() {
    let mut s = OneNat::new(OneNat::config());
    s.send(s.client, 4500, server(4500), b"before");
    assert_eq!(s.server().got[0].from.port(), 4500);
    assert_eq!(s.nat_mut().rebind(SocketAddrV4::new(CLIENT, 4500)), 1);
    assert_eq!(s.nat().mappings().count(), 0);
    assert_eq!(s.nat().counters().rebound, 1);
    // The server's packet to the old mapping is dropped.
    s.server()
        .send_udp(SocketAddrV4::new(NAT_OUTSIDE, 4500), 4500, b"old");
    s.net.run_for(secs(1), 10_000);
    assert_eq!(s.nat().counters().dropped_unmapped, 1);
    assert_eq!(s.host_udp(s.client).len(), 1);
    // The next packet gets a new port, and its reply comes back.
    s.send(s.client, 4500, server(4500), b"after");
    let new = s.server().got[1].from.port();
    assert_ne!(new, 4500);
    assert_eq!(s.host_udp(s.client).len(), 2);
    // A second rebind avoids both ports it had.
    s.nat_mut().rebind(SocketAddrV4::new(CLIENT, 4500));
    s.send(s.client, 4500, server(4500), b"third");
    let third = s.server().got[2].from.port();
    assert!(third != 4500 && third != new);
    // A rebind of an endpoint with no mapping still forces a new port.
    assert_eq!(s.nat_mut().rebind(SocketAddrV4::new(CLIENT2, 500)), 0);
    s.send(s.client2, 500, server(500), b"fresh");
    assert_ne!(s.server().got[3].from.port(), 500);
    assert_eq!(all_checked(&s.net, s.wan), 9);
}

#[test]
fn a_full_table_drops_new_flows() {
    let mut s = OneNat::new(OneNat::config().with_max_mappings(2));
    for port in [1000, 1001, 1002] {
        s.send(s.client, port, server(7), b"x");
    }
    assert_eq!(s.nat().mappings().count(), 2);
    assert_eq!(s.nat().counters().dropped_table_full, 1);
    // Existing flows still pass.
    s.send(s.client, 1000, server(7), b"y");
    assert_eq!(s.server().got.len(), 3);
}

/// client -- box A (10.0.0.1 / 100.64.0.2) -- box B (100.64.0.1 /
/// 198.51.100.1) -- server: a home router behind a carrier NAT.
struct TwoNats {
    net: Network,
    client: netsim::NodeId,
    inner: netsim::NodeId,
    outer: netsim::NodeId,
    server: netsim::NodeId,
    links: [netsim::LinkId; 3],
}

fn two_nats(inner_ports: PortPolicy, outer_ports: PortPolicy) -> TwoNats {
    let mut net = Network::new(Instant::now(), 3);
    let lan = net.add_link("10.0.0.0/24", LinkConfig::default());
    let cgn = net.add_link("100.64.0.0/24", LinkConfig::default());
    let wan = net.add_link("198.51.100.0/24", LinkConfig::default());
    let client = net.add_node("client", Host::new(CLIENT, 24, Some(NAT_INSIDE)));
    let inner = net.add_node(
        "home",
        NatBox::new(
            NatConfig::new(NAT_INSIDE, 24, INNER_OUTSIDE, 24)
                .with_gateway(CGN_INSIDE)
                .with_ports(inner_ports),
        ),
    );
    let outer = net.add_node(
        "cgn",
        NatBox::new(NatConfig::new(CGN_INSIDE, 24, NAT_OUTSIDE, 24).with_ports(outer_ports)),
    );
    let server = net.add_node("server", UdpEcho::new(SERVER, 24, None));
    net.attach(client, Host::INTERFACE, CLIENT, lan).unwrap();
    net.attach(inner, NatBox::INSIDE, NAT_INSIDE, lan).unwrap();
    net.attach(inner, NatBox::OUTSIDE, INNER_OUTSIDE, cgn)
        .unwrap();
    net.attach(outer, NatBox::INSIDE, CGN_INSIDE, cgn).unwrap();
    net.attach(outer, NatBox::OUTSIDE, NAT_OUTSIDE, wan)
        .unwrap();
    net.attach(server, UdpEcho::INTERFACE, SERVER, wan).unwrap();
    for l in [lan, cgn, wan] {
        net.capture(l);
    }
    TwoNats {
        net,
        client,
        inner,
        outer,
        server,
        links: [lan, cgn, wan],
    }
}

#[test]
fn two_nats_in_a_row_translate_twice() {
    let mut t = two_nats(PortPolicy::Renumber, PortPolicy::Renumber);
    t.net
        .node_mut::<Host>(t.client)
        .unwrap()
        .send_udp(server(4500), 4500, b"through two");
    let start = t.net.now();
    t.net.run_for(secs(1), 10_000);
    let got = t.net.node::<UdpEcho>(t.server).unwrap().got.clone();
    assert_eq!(got.len(), 1);
    assert_eq!(*got[0].from.ip(), NAT_OUTSIDE);
    let inner = *t
        .net
        .node::<NatBox>(t.inner)
        .unwrap()
        .mappings()
        .next()
        .unwrap();
    let outer = *t
        .net
        .node::<NatBox>(t.outer)
        .unwrap()
        .mappings()
        .next()
        .unwrap();
    // The carrier NAT maps the home router's mapping.
    assert_eq!(inner.inside, SocketAddrV4::new(CLIENT, 4500));
    assert_eq!(outer.inside, inner.outside);
    assert_eq!(got[0].from, outer.outside);
    assert_ne!(inner.outside.port(), 4500);
    assert_ne!(outer.outside.port(), inner.outside.port());
    // The echo came back through both to the client.
    let host = t.net.node::<Host>(t.client).unwrap();
    assert_eq!(host.counters().udp_received, 1);
    let back = host.received().next().unwrap();
    let (ip, sp, dp, payload) = udp_of(&back.packet).unwrap();
    assert_eq!(
        (ip.source, sp, ip.destination, dp),
        (SERVER, 4500, CLIENT, 4500)
    );
    assert_eq!(payload, b"through two");
    // Two routers' worth of TTL.
    assert_eq!(ip.ttl, 62);
    assert_eq!(back.at.duration_since(start), Duration::from_millis(6));
    for l in t.links {
        assert_eq!(all_checked(&t.net, l), 2);
    }
    // A rebind at the carrier NAT: the next packet gets a new port there
    // only, and its echo still finds the client.
    assert_eq!(
        t.net
            .node_mut::<NatBox>(t.outer)
            .unwrap()
            .rebind(inner.outside),
        1
    );
    t.net
        .node_mut::<Host>(t.client)
        .unwrap()
        .send_udp(server(4500), 4500, b"again");
    t.net.run_for(secs(1), 10_000);
    let got = t.net.node::<UdpEcho>(t.server).unwrap().got.clone();
    assert_ne!(got[1].from.port(), got[0].from.port());
    assert_eq!(
        t.net
            .node::<Host>(t.client)
            .unwrap()
            .counters()
            .udp_received,
        2
    );
    assert_eq!(
        t.net
            .node::<NatBox>(t.inner)
            .unwrap()
            .counters()
            .mappings_created,
        1
    );
}

#[test]
fn two_port_preserving_nats_keep_the_port_end_to_end() {
    let mut t = two_nats(PortPolicy::Preserve, PortPolicy::Preserve);
    let t0 = t.net.now();
    t.net
        .node_mut::<Host>(t.client)
        .unwrap()
        .send_udp(server(500), 500, b"ike");
    t.net
        .node_mut::<Host>(t.client)
        .unwrap()
        .ping(t0, SERVER, 2, secs(1));
    t.net.run_for(secs(3), 10_000);
    let got = t.net.node::<UdpEcho>(t.server).unwrap().got.clone();
    assert_eq!(got[0].from, SocketAddrV4::new(NAT_OUTSIDE, 500));
    let host = t.net.node::<Host>(t.client).unwrap();
    assert_eq!(host.echo_replies().len(), 2);
    assert_eq!(host.counters().udp_received, 1);
    for l in t.links {
        assert_eq!(all_checked(&t.net, l), 6);
    }
}

#[test]
fn garbage_is_counted_and_dropped_never_a_panic() {
    let t = Instant::now();
    let mut nat = NatBox::new(OneNat::config().with_gateway(Ipv4Addr::new(198, 51, 100, 254)));
    let inside = InterfaceName::new(NatBox::INSIDE);
    let outside = InterfaceName::new(NatBox::OUTSIDE);
    let good = packet::udp(Ipv4Header::new(CLIENT, SERVER, 0), 4500, 4500, b"payload").unwrap();
    let mut inputs: Vec<Vec<u8>> = vec![
        good.clone(),
        Vec::new(),
        vec![0x45],
        vec![0x60; 40],
        vec![0xff; 20],
    ];
    // Every truncation of a good packet.
    for n in 0..good.len() {
        inputs.push(good[..n].to_vec());
    }
    // Every single-byte corruption (most break a checksum; the rest are
    // well formed and may pass).
    for i in 0..good.len() {
        let mut p = good.clone();
        p[i] ^= 0x5a;
        inputs.push(p);
    }
    // A fragment, a UDP length beyond the packet, a truncated TCP header,
    // a truncated ICMP header, TTL 1.
    let mut frag = good.clone();
    frag[6] = 0x20;
    fix_ip_checksum(&mut frag);
    inputs.push(frag);
    let mut udp_len = good.clone();
    udp_len[24..26].copy_from_slice(&100u16.to_be_bytes());
    inputs.push(udp_len);
    inputs.push(Ipv4Header::new(CLIENT, SERVER, 6).build(&[0; 10]).unwrap());
    inputs.push(
        Ipv4Header::new(CLIENT, SERVER, 1)
            .build(&[8, 0, 0])
            .unwrap(),
    );
    inputs.push(packet::udp(Ipv4Header::new(CLIENT, SERVER, 0).with_ttl(1), 1, 2, b"").unwrap());
    // Seeded random bytes, some with a plausible first byte.
    let mut x: u64 = 0x243f_6a88_85a3_08d3;
    for i in 0..2000 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let len = usize::try_from(x % 80).unwrap();
        let mut p: Vec<u8> = (0..len)
            .map(|j| (x.rotate_left(u32::try_from(j % 64).unwrap()) & 0xff) as u8)
            .collect();
        if i % 2 == 0 && !p.is_empty() {
            p[0] = 0x45;
        }
        inputs.push(p);
    }
    let mut outputs = 0u64;
    let n = u64::try_from(inputs.len()).unwrap();
    for p in &inputs {
        nat.handle_packet(t, &inside, p.clone());
        nat.handle_packet(t, &outside, p.clone());
        nat.handle_packet(t, &InterfaceName::new("bogus"), p.clone());
        while let Some(o) = nat.poll_output() {
            outputs += 1;
            // Whatever goes out reads back, checksums and all.
            let ip = Ipv4Packet::parse(&o.packet).unwrap();
            ip.transport().unwrap();
        }
    }
    let c = *nat.counters();
    assert_eq!(c.received, 3 * n);
    assert_eq!(c.dropped_interface, n);
    let dropped = c.dropped_malformed
        + c.dropped_fragment
        + c.dropped_unsupported
        + c.dropped_unmapped
        + c.dropped_ttl
        + c.dropped_local
        + c.dropped_no_route
        + c.dropped_clash
        + c.dropped_policy
        + c.dropped_interface;
    assert_eq!(dropped + c.translated_out + c.translated_in, c.received);
    assert_eq!(c.translated_out + c.translated_in, outputs);
    assert!(c.dropped_malformed > 2000, "{c:?}");
    assert_eq!(c.dropped_fragment, 2, "{c:?}");
    assert!(c.dropped_ttl >= 1);
    // The good packet itself went out.
    assert!(c.translated_out >= 1);
    // The clock still works after all that.
    assert!(nat.poll_timeout().is_some());
    nat.handle_timeout(t + secs(1000));
    assert_eq!(nat.mappings().count(), 0);
}

fn fix_ip_checksum(p: &mut [u8]) {
    p[10] = 0;
    p[11] = 0;
    let c = packet::checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
}
