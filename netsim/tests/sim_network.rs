//! The simulator itself: forwarding, echo, link impairments, scripted
//! faults, bounded runs, and the packets' headers checked by etherparse.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod sim_util;

use std::cell::RefCell;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::rc::Rc;
use std::time::{Duration, Instant};

use esp::ip::{self as packet, Ipv4Header, Ipv4Packet, PacketError, Transport};
use netsim::{Host, LinkConfig, Network, Probability, SimError, StepEvent, Stop, Verdict};
use sim_util::*;

/// The seed's routers without their crypto maps: plain routers.
fn plain(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim_start().starts_with("crypto map"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn plain_seed(transit: LinkConfig, seed: u64) -> Seed {
    seed_with(&plain(DAPHNE_CFG), &plain(FRED_CFG), transit, seed)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn ping_across_two_routers() {
    let mut s = plain_seed(LinkConfig::with_latency(ms(10)), 1);
    s.ping(4);
    assert_eq!(s.net.run_until_idle(10_000).stop, Stop::Idle);
    let replies = s.host(s.d1).echo_replies();
    assert_eq!(replies.len(), 4);
    for (i, r) in replies.iter().enumerate() {
        assert_eq!(usize::from(r.sequence), i + 1);
        assert_eq!(r.from, A1);
        // 1 + 10 + 1 ms each way.
        assert_eq!(r.round_trip, ms(24));
    }
    assert_eq!(s.host(s.a1).counters().echo_requests_answered, 4);
    // Every packet on the transit link is well formed; routers decrement
    // the TTL (128 from the host, one hop before the link).
    let transit = s.net.captured(s.transit);
    assert_eq!(transit.len(), 8);
    for c in transit {
        let (ip, icmp, data) = icmp_checked(&c.packet);
        assert_eq!(ip.time_to_live, 127);
        assert_eq!(data, netsim::WINDOWS_PING_DATA);
        assert!(matches!(
            icmp.icmp_type,
            etherparse::Icmpv4Type::EchoRequest(_) | etherparse::Icmpv4Type::EchoReply(_)
        ));
    }
    assert_eq!(s.router(s.daphne).counters().forwarded, 8);
}

#[test]
fn routers_answer_pings_to_themselves() {
    let mut s = plain_seed(LinkConfig::default(), 1);
    let t0 = s.t0;
    s.net
        .node_mut::<Host>(s.d1)
        .unwrap()
        .ping(t0, FRED, 2, Duration::from_secs(1));
    s.net.run_until_idle(10_000);
    let replies = s.host(s.d1).echo_replies();
    assert_eq!(replies.len(), 2);
    assert!(replies.iter().all(|r| r.from == FRED));
}

#[test]
fn total_loss_and_no_loss() {
    let mut transit = LinkConfig::default();
    transit.loss = Probability::ALWAYS;
    let mut s = plain_seed(transit, 1);
    s.ping(3);
    s.net.run_until_idle(10_000);
    assert!(s.host(s.d1).echo_replies().is_empty());
    assert_eq!(s.net.link_stats(s.transit).lost, 3);
    assert_eq!(s.net.link_stats(s.transit).delivered, 0);
    assert!(s.net.captured(s.transit).is_empty());
}

#[test]
fn partial_loss_is_reproducible() {
    let run = |seed| {
        let mut transit = LinkConfig::default();
        transit.loss = Probability::percent(30);
        let mut s = plain_seed(transit, seed);
        s.ping(200);
        s.net.run_until_idle(100_000);
        s.host(s.d1)
            .echo_replies()
            .iter()
            .map(|r| r.sequence)
            .collect::<Vec<_>>()
    };
    let a = run(9);
    assert_eq!(a, run(9));
    assert_ne!(a, run(10));
    // Each reply needs two crossings: 0.7^2 = 49% of 200 expected; a
    // seeded draw far outside would mean the dice are broken.
    assert!((60..=140).contains(&a.len()), "{}", a.len());
}

#[test]
fn duplication() {
    let mut transit = LinkConfig::default();
    transit.duplicate = Probability::ALWAYS;
    let mut s = plain_seed(transit, 1);
    s.ping(2);
    s.net.run_until_idle(10_000);
    // Each request arrives twice, each of the two replies twice: 4 replies
    // per request.
    assert_eq!(s.host(s.d1).counters().echo_replies, 8);
    assert_eq!(s.host(s.a1).counters().echo_requests_answered, 4);
    assert_eq!(s.net.link_stats(s.transit).duplicated, 6);
}

#[test]
fn reordering() {
    let mut transit = LinkConfig::with_latency(ms(5));
    transit.reorder = Probability::percent(50);
    transit.reorder_delay = ms(500);
    let mut s = plain_seed(transit, 5);
    let t0 = s.t0;
    s.net
        .node_mut::<Host>(s.d1)
        .unwrap()
        .ping(t0, A1, 20, ms(100));
    s.net.run_until_idle(10_000);
    let order: Vec<u16> = s
        .host(s.d1)
        .echo_replies()
        .iter()
        .map(|r| r.sequence)
        .collect();
    assert_eq!(order.len(), 20);
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_ne!(order, sorted, "nothing was reordered");
    assert!(s.net.link_stats(s.transit).reordered > 0);
}

#[test]
fn jitter_stays_within_bounds() {
    let mut transit = LinkConfig::with_latency(ms(10));
    transit.jitter = ms(4);
    let mut s = plain_seed(transit, 2);
    s.ping(50);
    s.net.run_until_idle(100_000);
    let rtts: Vec<Duration> = s
        .host(s.d1)
        .echo_replies()
        .iter()
        .map(|r| r.round_trip)
        .collect();
    assert_eq!(rtts.len(), 50);
    assert!(rtts.iter().all(|r| *r >= ms(24) && *r <= ms(32)));
    assert!(rtts.iter().any(|r| *r != ms(24)));
}

#[test]
fn filter_drops_the_nth_packet() {
    let mut s = plain_seed(LinkConfig::default(), 1);
    // Lose the second packet entering the transit link (the first reply).
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = Rc::clone(&seen);
    s.net.set_filter(s.transit, move |t| {
        log.borrow_mut().push((t.index, t.from, t.to));
        if t.index == 1 {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    s.ping(2);
    s.net.run_until_idle(10_000);
    let replies: Vec<u16> = s
        .host(s.d1)
        .echo_replies()
        .iter()
        .map(|r| r.sequence)
        .collect();
    assert_eq!(replies, [2]);
    assert_eq!(s.net.link_stats(s.transit).filtered, 1);
    let seen = seen.borrow();
    assert_eq!(seen.len(), 4);
    assert_eq!((seen[1].1, seen[1].2), (s.fred, s.daphne));
}

#[test]
fn filter_delay_and_duplicate() {
    let mut s = plain_seed(LinkConfig::with_latency(ms(10)), 1);
    s.net.set_filter(s.transit, |t| match t.index {
        0 => Verdict::Delay(ms(100)),
        _ => Verdict::Duplicate,
    });
    s.ping(1);
    s.net.run_until_idle(10_000);
    let r = s.host(s.d1).echo_replies();
    assert_eq!(s.host(s.d1).counters().echo_replies, 2);
    assert_eq!(r[0].round_trip, ms(124));
}

#[test]
fn routing_loop_ends_by_ttl() {
    // Two routers whose default routes point at each other.
    let a = "hostname A\ninterface Fa0/0\n ip address 10.0.0.1 255.255.255.0\n\
             interface Fa0/1\n ip address 10.1.0.1 255.255.255.0\nip route 0.0.0.0 0.0.0.0 10.0.0.2\n";
    let b = "hostname B\ninterface Fa0/0\n ip address 10.0.0.2 255.255.255.0\n\
             ip route 0.0.0.0 0.0.0.0 10.0.0.1\n";
    let t0 = Instant::now();
    let mut net = Network::new(t0, 1);
    let lan = net.add_link("lan", LinkConfig::default());
    let wan = net.add_link("wan", LinkConfig::default());
    let h = net.add_node(
        "h",
        Host::new(
            Ipv4Addr::new(10, 1, 0, 9),
            24,
            Some(Ipv4Addr::new(10, 1, 0, 1)),
        ),
    );
    let ca = config(a);
    let cb = config(b);
    let ra = net.add_node(
        "A",
        Router::new(
            ca.clone(),
            Default::default(),
            rand_chacha::ChaCha20Rng::seed_from_u64(1),
        )
        .unwrap(),
    );
    let rb = net.add_node(
        "B",
        Router::new(
            cb.clone(),
            Default::default(),
            rand_chacha::ChaCha20Rng::seed_from_u64(2),
        )
        .unwrap(),
    );
    net.attach(h, "eth0", Ipv4Addr::new(10, 1, 0, 9), lan)
        .unwrap();
    net.attach_interfaces(ra, &ca, &[("Fa0/0", wan), ("Fa0/1", lan)])
        .unwrap();
    net.attach_interfaces(rb, &cb, &[("Fa0/0", wan)]).unwrap();
    net.node_mut::<Host>(h)
        .unwrap()
        .ping(t0, Ipv4Addr::new(8, 8, 8, 8), 1, ms(1));
    let outcome = net.run_until_idle(10_000);
    assert_eq!(outcome.stop, Stop::Idle);
    // TTL 128 from the host: 127 forwards in all before it runs out.
    let a_fwd = net.node::<Router>(ra).unwrap().counters().forwarded;
    let b_fwd = net.node::<Router>(rb).unwrap().counters().forwarded;
    assert_eq!(a_fwd + b_fwd, 127);
    let ttl_drops = net.node::<Router>(ra).unwrap().counters().dropped_ttl
        + net.node::<Router>(rb).unwrap().counters().dropped_ttl;
    assert_eq!(ttl_drops, 1);
}

use rand_core::SeedableRng;

#[test]
fn runs_are_bounded() {
    let mut s = plain_seed(LinkConfig::default(), 1);
    s.ping(10);
    // A step limit stops the run with events left.
    let outcome = s.net.run_until_idle(5);
    assert_eq!(
        outcome,
        netsim::RunOutcome {
            steps: 5,
            stop: Stop::StepLimit
        }
    );
    // A deadline stops it with the clock at the deadline.
    let deadline = s.t0 + Duration::from_millis(2500);
    let outcome = s.net.run_until(deadline, 10_000);
    assert_eq!(outcome.stop, Stop::Deadline);
    assert_eq!(s.net.now(), deadline);
    assert_eq!(s.host(s.d1).echo_replies().len(), 3);
    // Stepping one event at a time.
    let event = s.net.step().unwrap();
    assert!(matches!(event, StepEvent::Timeout { node } if node == s.d1));
    assert_eq!(s.net.now(), s.t0 + Duration::from_secs(3));
    assert_eq!(
        s.net.run_for(Duration::from_secs(60), 10_000).stop,
        Stop::Idle
    );
    assert!(s.net.step().is_none());
    assert_eq!(s.host(s.d1).echo_replies().len(), 10);
}

#[test]
fn unknown_next_hop_and_mtu() {
    let mut s = plain_seed(LinkConfig::default(), 1);
    // D1 sends to an on-link address nobody has.
    s.net.node_mut::<Host>(s.d1).unwrap().send_udp(
        SocketAddrV4::new(Ipv4Addr::new(13, 13, 13, 200), 9),
        9,
        b"x",
    );
    s.net.run_until_idle(100);
    assert_eq!(s.net.link_stats(s.inside_d).no_neighbour, 1);
    // A packet over the MTU.
    let big = vec![0u8; 1600];
    s.net
        .node_mut::<Host>(s.d1)
        .unwrap()
        .send_udp(SocketAddrV4::new(A1, 9), 9, &big);
    s.net.run_until_idle(100);
    assert_eq!(s.net.link_stats(s.inside_d).too_big, 1);
}

#[test]
fn building_errors() {
    let t0 = Instant::now();
    let mut net = Network::new(t0, 1);
    let l = net.add_link("l", LinkConfig::default());
    let h = net.add_node("h", Host::new(Ipv4Addr::new(10, 0, 0, 1), 24, None));
    let g = net.add_node("g", Host::new(Ipv4Addr::new(10, 0, 0, 2), 24, None));
    net.attach(h, "eth0", Ipv4Addr::new(10, 0, 0, 1), l)
        .unwrap();
    assert!(matches!(
        net.attach(h, "eth0", Ipv4Addr::new(10, 0, 0, 3), l),
        Err(SimError::AlreadyAttached { .. })
    ));
    assert!(matches!(
        net.attach(g, "eth0", Ipv4Addr::new(10, 0, 0, 1), l),
        Err(SimError::DuplicateAddress { .. })
    ));
    let cfg = config("interface Fa0/0\n ip address 10.0.0.9 255.255.255.0\n");
    assert!(matches!(
        net.attach_interfaces(g, &cfg, &[("Fa0/1", l)]),
        Err(SimError::NoInterfaceAddress(_))
    ));
    assert_eq!(net.node_name(g), Some("g"));
    assert!(net.node::<Router>(g).is_none());
}

// --- the packet module ---

#[test]
fn rfc1071_checksum_example() {
    // RFC 1071 s.3: the one's complement sum of 00 01 f2 03 f4 f5 f6 f7 is
    // dd f2, so the checksum is its complement, 22 0d.
    assert_eq!(
        packet::checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
        0x220d
    );
    // An odd length is padded with a zero byte.
    assert_eq!(packet::checksum(&[0x00, 0x01, 0xf2]), !0xf201u16);
}

#[test]
fn built_packets_check_out_with_etherparse() {
    let h = Ipv4Header::new(D1, A1, 0)
        .with_ttl(7)
        .with_identification(0x1234);
    for len in [0usize, 1, 2, 33, 1000] {
        let payload: Vec<u8> = (0..len)
            .map(|i| u8::try_from(i * 7 % 251).unwrap())
            .collect();
        let p = packet::udp(h, 1234, 500, &payload).unwrap();
        let (ip, udp, data) = udp_checked(&p);
        assert_eq!((ip.time_to_live, ip.identification), (7, 0x1234));
        assert_eq!((udp.source_port, udp.destination_port), (1234, 500));
        assert_eq!(data, payload);
        let e = packet::icmp_echo(h, false, 0xbeef, 3, &payload).unwrap();
        let (_, icmp, data) = icmp_checked(&e);
        assert_eq!(data, payload);
        let etherparse::Icmpv4Type::EchoRequest(echo) = icmp.icmp_type else {
            panic!()
        };
        assert_eq!((echo.id, echo.seq), (0xbeef, 3));
        // Our own parser agrees.
        let parsed = Ipv4Packet::parse(&p).unwrap();
        assert_eq!(parsed.header.source, D1);
        let Transport::Udp { payload: got, .. } = parsed.transport().unwrap() else {
            panic!()
        };
        assert_eq!(got, &payload[..]);
    }
}

#[test]
fn ttl_decrement_keeps_the_checksum_valid() {
    let mut p = packet::udp(Ipv4Header::new(D1, A1, 0).with_ttl(2), 1, 2, b"abc").unwrap();
    assert_eq!(packet::decrement_ttl(&mut p), Ok(1));
    let (ip, ..) = udp_checked(&p);
    assert_eq!(ip.time_to_live, 1);
    assert_eq!(packet::decrement_ttl(&mut p), Err(PacketError::TtlExpired));
}

#[test]
fn parser_rejects_bad_packets() {
    let good = packet::udp(Ipv4Header::new(D1, A1, 0), 1, 2, b"abcd").unwrap();
    assert!(Ipv4Packet::parse(&good).is_ok());
    assert!(matches!(
        Ipv4Packet::parse(&good[..10]),
        Err(PacketError::Truncated { .. })
    ));
    let mut v6 = good.clone();
    v6[0] = 0x65;
    assert_eq!(Ipv4Packet::parse(&v6), Err(PacketError::NotIpv4(6)));
    let mut ihl = good.clone();
    ihl[0] = 0x44;
    assert_eq!(
        Ipv4Packet::parse(&ihl),
        Err(PacketError::BadHeaderLength(16))
    );
    let mut total = good.clone();
    total[3] = 0xff;
    assert!(matches!(
        Ipv4Packet::parse(&total),
        Err(PacketError::BadTotalLength { .. })
    ));
    let mut sum = good.clone();
    sum[12] ^= 1;
    assert_eq!(
        Ipv4Packet::parse(&sum),
        Err(PacketError::BadChecksum("IPv4 header"))
    );
    let mut udp = good.clone();
    let last = udp.len() - 1;
    udp[last] ^= 1;
    assert_eq!(
        Ipv4Packet::parse(&udp).unwrap().transport(),
        Err(PacketError::BadChecksum("UDP"))
    );
    let mut len = good.clone();
    len[25] = 200;
    assert!(matches!(
        Ipv4Packet::parse(&len).unwrap().transport(),
        Err(PacketError::BadUdpLength { .. })
    ));
    let icmp = packet::icmp_echo(Ipv4Header::new(D1, A1, 0), true, 1, 1, b"x").unwrap();
    let mut bad = icmp.clone();
    bad[28] ^= 1;
    assert_eq!(
        Ipv4Packet::parse(&bad).unwrap().transport(),
        Err(PacketError::BadChecksum("ICMP"))
    );
    // Trailing bytes after the total length are ignored.
    let mut padded = good.clone();
    padded.extend_from_slice(&[0; 6]);
    assert_eq!(Ipv4Packet::parse(&padded).unwrap().payload.len(), 12);
    // Too long to build.
    assert!(matches!(
        packet::udp(Ipv4Header::new(D1, A1, 0), 1, 2, &vec![0; 65_508]),
        Err(PacketError::TooLong(_))
    ));
    assert!(packet::udp(Ipv4Header::new(D1, A1, 0), 1, 2, &vec![0; 65_507]).is_ok());
}

#[test]
fn pcap_header_bytes() {
    // pcap-savefile(5): magic a1b2c3d4 (written little-endian), version
    // 2.4, thiszone 0, sigfigs 0, snaplen, link type 101 (LINKTYPE_RAW).
    let w = netsim::pcap::PcapWriter::new(Vec::new(), 65_535).unwrap();
    let mut w = w;
    w.write_packet(Duration::new(1_008_028_800, 51_000_999), &[0x45, 1, 2])
        .unwrap();
    let bytes = w.into_inner().unwrap();
    assert_eq!(
        bytes[..24],
        [
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101, 0,
            0, 0
        ]
    );
    // Record: seconds, microseconds (truncated), included, original length.
    assert_eq!(
        bytes[24..40],
        [
            0x80, 0x4c, 0x15, 0x3c, 0x38, 0xc7, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0
        ]
    );
    assert_eq!(bytes[40..], [0x45, 1, 2]);
    // A snaplen below the packet keeps its start and its original length.
    let mut w = netsim::pcap::PcapWriter::new(Vec::new(), 2).unwrap();
    w.write_packet(Duration::ZERO, &[1, 2, 3, 4]).unwrap();
    let bytes = w.into_inner().unwrap();
    assert_eq!(bytes[24 + 8..], [2, 0, 0, 0, 4, 0, 0, 0, 1, 2]);
}

#[test]
fn inject_hands_a_packet_to_a_node() {
    let mut s = plain_seed(LinkConfig::default(), 1);
    // An echo request from D1 to A1 appears on Daphne's inside interface
    // without D1 sending it; Daphne forwards it and A1 answers D1.
    let request =
        packet::icmp_echo(Ipv4Header::new(D1, A1, 0).with_ttl(9), false, 1, 77, b"hi").unwrap();
    s.net.inject(s.daphne, "Fa0/1", request);
    assert_eq!(s.net.in_flight(), 1);
    s.net.run_until_idle(100);
    assert_eq!(s.host(s.a1).counters().echo_requests_answered, 1);
    // D1 never sent sequence 77, so the reply is counted but not matched.
    assert_eq!(s.host(s.d1).counters().echo_replies, 1);
    assert!(s.host(s.d1).echo_replies().is_empty());
    assert_eq!(s.net.node_name(s.daphne), Some("Daphne"));
}
