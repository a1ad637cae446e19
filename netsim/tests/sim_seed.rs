//! The seed's topology on the simulator with Daphne and fred as TED-only
//! routers: host 13.13.13.14 pings 12.12.12.13; the transit link carries
//! the probe, then the response, then (no IKE yet) nothing more.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod sim_util;

use std::time::Duration;

use netsim::Stop;
use sim_util::*;
use ted::config::CryptoMapEntry;
use ted::log::{Renderer, WallClock};

// docs/ted-wire.md, "Worked example": only the cookies differ in a real run.
const PROBE_AFTER_COOKIES: [u8; 60] = [
    0x0d, 0x10, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4c, //
    0x05, 0x00, 0x00, 0x14, 0x3e, 0x98, 0x40, 0x48, 0x10, 0x1e, 0x66, 0xcc, 0x65, 0x9f, 0xd0, 0x02,
    0xb0, 0xed, 0x36, 0x55, //
    0x05, 0x00, 0x00, 0x0c, 0x01, 0x11, 0x01, 0xf4, 0x0b, 0x0b, 0x0b, 0x01, //
    0x00, 0x00, 0x00, 0x10, 0x04, 0x00, 0x00, 0x00, 0x0d, 0x0d, 0x0d, 0x00, 0xff, 0xff, 0xff, 0x00,
];
const RESPONSE_AFTER_COOKIES: [u8; 72] = [
    0x0d, 0x10, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x58, //
    0x05, 0x00, 0x00, 0x14, 0x3e, 0x98, 0x40, 0x48, 0x10, 0x1e, 0x66, 0xcc, 0x65, 0x9f, 0xd0, 0x02,
    0xb0, 0xed, 0x36, 0x55, //
    0x10, 0x00, 0x00, 0x0c, 0x01, 0x11, 0x01, 0xf4, 0x0b, 0x0b, 0x0b, 0x02, //
    0x00, 0x00, 0x00, 0x1c, 0x04, 0x00, 0x00, 0x00, 0x0d, 0x0d, 0x0d, 0x00, 0xff, 0xff, 0xff, 0x00,
    0x04, 0x00, 0x00, 0x00, 0x0c, 0x0c, 0x0c, 0x00, 0xff, 0xff, 0xff, 0x00,
];

const DAPHNE_LOG: &str = include_str!("../../vectors/seed/debug_daphne_ted.txt");
const FRED_LOG: &str = include_str!("../../vectors/seed/debug_fred_ted.txt");

/// A rendering without its timestamps: the messages' text.
fn untimed(text: &str) -> String {
    text.lines()
        .map(|l| match l.split_once(": ") {
            Some((stamp, rest)) if l.starts_with('*') && stamp.len() == 20 => rest,
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn probe_response_then_nothing() {
    let mut s = seed();
    // The capability VID makes the probe 6+4 bytes longer than the worked
    // example; strip it for the comparison below.
    s.ping(5);
    let outcome = s.net.run_until_idle(100_000);
    assert_eq!(outcome.stop, Stop::Idle);
    // The last echo request leaves at 4 s; nothing after.
    assert!(s.net.elapsed() < Duration::from_secs(5));

    let transit = s.net.captured(s.transit);
    assert_eq!(transit.len(), 2, "{transit:?}");
    let (probe, response) = (&transit[0], &transit[1]);
    assert_eq!((probe.from, probe.to), (s.daphne, s.fred));
    assert_eq!((response.from, response.to), (s.fred, s.daphne));
    // Timing: the echo request crosses the inside link (1 ms), the probe
    // the transit link (50 ms), the response comes back (50 ms).
    assert_eq!(probe.at - s.t0, Duration::from_millis(51));
    assert_eq!(response.at - s.t0, Duration::from_millis(101));

    // The probe: 13.13.13.14 -> 12.12.12.13, UDP 500 -> 500.
    let (ip, udp, payload) = udp_checked(&probe.packet);
    assert_eq!(ip.source, D1.octets());
    assert_eq!(ip.destination, A1.octets());
    assert_eq!(ip.time_to_live, 255);
    assert_eq!((udp.source_port, udp.destination_port), (500, 500));
    // Worked example + the capability vendor ID (np of the subnet ID: 13).
    assert_eq!(payload.len(), 76 + 10);
    assert_ne!(payload[..8], [0; 8]);
    assert_eq!(payload[8..16], [0; 8]);
    let mut expected = PROBE_AFTER_COOKIES.to_vec();
    expected[11] = 86;
    expected[44] = 13;
    expected.extend_from_slice(&[0, 0, 0, 10]);
    expected.extend_from_slice(b"TED-V3");
    assert_eq!(payload[16..], expected[..]);

    // The response: 11.11.11.2 -> 11.11.11.1, same initiator cookie.
    let (ip, udp, rpayload) = udp_checked(&response.packet);
    assert_eq!(ip.source, FRED.octets());
    assert_eq!(ip.destination, DAPHNE.octets());
    assert_eq!((udp.source_port, udp.destination_port), (500, 500));
    assert_eq!(rpayload[..8], payload[..8]);
    assert_ne!(rpayload[8..16], [0; 8]);
    assert_eq!(rpayload[16..], RESPONSE_AFTER_COOKIES[..]);

    // Nothing reached A1; D1 got no reply.
    assert_eq!(s.host(s.a1).counters().received, 0);
    assert!(s.host(s.d1).echo_replies().is_empty());
    assert_eq!(s.net.link_stats(s.inside_f).sent, 0);

    // Daphne: one discovery, the peer, the derived entry tedtag 11; the
    // first echo request triggered it, the other four wait for an SA.
    let daphne = s.router(s.daphne);
    assert_eq!(daphne.discovered().len(), 1);
    let found = &daphne.discovered()[0];
    assert_eq!(found.peer, FRED);
    assert_eq!(
        found.remote_proxy.to_string(),
        "12.12.12.0/255.255.255.0/0/0"
    );
    assert_eq!(daphne.counters().dropped_discovering, 1);
    assert_eq!(daphne.counters().dropped_awaiting_sa, 4);
    assert_eq!(daphne.counters().originated, 1);
    assert!(daphne.derive_errors().is_empty());
    let map = daphne.config().crypto_map("tedtag").unwrap();
    let Some(CryptoMapEntry::Derived(entry)) = map.entry(11) else {
        panic!("no tedtag 11")
    };
    assert_eq!(
        (entry.template.as_str(), entry.template_seq),
        ("ted-map", 10)
    );
    assert_eq!(entry.peer, FRED);
    // fred answered one probe and forwarded nothing.
    let fred = s.router(s.fred);
    assert_eq!(fred.discovery().stats().probes_answered, 1);
    assert_eq!(fred.counters().forwarded, 0);
    assert_eq!(fred.counters().originated, 1);
}

#[test]
fn logs_read_as_the_seed() {
    let mut s = seed();
    s.ping(5);
    s.net.run_until_idle(100_000);
    let clock = WallClock::new(1993, 3, 1, 2, 7, 18, 849).unwrap();
    let daphne = Renderer::new(clock, s.t0).render_all(s.router(s.daphne).log().records());
    let fred = Renderer::new(clock, s.t0).render_all(s.router(s.fred).log().records());
    assert_eq!(untimed(&daphne), untimed(DAPHNE_LOG));
    assert_eq!(untimed(&fred), untimed(FRED_LOG));
    // Times: Daphne starts when the echo request arrives (1 ms), the
    // response 100 ms later; fred answers when the probe arrives (51 ms).
    assert!(daphne.starts_with("*Mar  1 02:07:18.850: IPSEC(tunnel discover request)"));
    assert!(daphne.contains("*Mar  1 02:07:18.950: ISAKMP (0:1): received packet from 11.11.11.2"));
    assert!(fred.starts_with(
        "*Mar  1 02:07:18.900: ISAKMP (0:0): received packet from 13.13.13.14 (N) NEW SA"
    ));
}

#[test]
fn same_seed_same_run() {
    let run = |seed| {
        let mut s = seed_with(
            DAPHNE_CFG,
            FRED_CFG,
            netsim::LinkConfig::with_latency(Duration::from_millis(50)),
            seed,
        );
        s.ping(5);
        s.net.run_until_idle(100_000);
        s.net
            .captured(s.transit)
            .iter()
            .map(|c| (c.at - s.t0, c.packet.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(3), run(3));
    // Another seed, other cookies.
    assert_ne!(run(3), run(4));
}

#[test]
fn pcap_of_the_transit_link() {
    let mut s = seed();
    s.ping(5);
    s.net.run_until_idle(100_000);
    // 2001-12-11 00:00:00 UTC, the seed document's date.
    let epoch = Duration::from_secs(1_008_028_800);
    let bytes = s.net.write_pcap(s.transit, Vec::new(), epoch).unwrap();
    // Keep a copy for a look with tshark/Wireshark.
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("sim_seed_transit.pcap");
    std::fs::write(&path, &bytes).unwrap();

    let mut reader = pcap_file::pcap::PcapReader::new(&bytes[..]).unwrap();
    let header = reader.header();
    assert_eq!(header.datalink, pcap_file::DataLink::RAW);
    assert_eq!((header.version_major, header.version_minor), (2, 4));
    assert_eq!(header.snaplen, 65_535);
    let mut packets = Vec::new();
    while let Some(p) = reader.next_packet() {
        packets.push(p.unwrap().into_owned());
    }
    assert_eq!(packets.len(), 2);
    let captured = s.net.captured(s.transit);
    for (p, c) in packets.iter().zip(captured) {
        assert_eq!(p.data.as_ref(), &c.packet[..]);
        assert_eq!(p.orig_len as usize, c.packet.len());
        assert_eq!(p.timestamp, epoch + (c.at - s.t0));
        udp_checked(&p.data);
    }
    assert_eq!(packets[0].timestamp, epoch + Duration::from_millis(51));
}
