//! The seed replay: Daphne and fred, built from the seed's configurations
//! (vectors/seed/daphne.cfg, fred.cfg), on the seed's topology (fred on
//! the path from 13.13.13.14 to 12.12.12.13), a virtual clock, and entropy
//! scripted to the seed's Quick Mode message ID and SPIs. A ping from
//! 13.13.13.14 to 12.12.12.13 must produce what docs/seed.md's two tables
//! show (vectors/seed/expected_daphne.txt, expected_fred.txt, written by
//! hand), then carry nine echo requests and replies in ESP, after which
//! Daphne's `show` commands print what the seed document prints (with this
//! run's SPIs).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod seed_util;

use std::time::Duration;

use esp::ip::{Ipv4Packet, Transport, protocol};
use isakmp_wire::{IdData, Message, MessageRepr, ParseConfig, TedMessage};
use netsim::scenario::{
    A1, D1, DAPHNE, DAPHNE_INBOUND_SPI, FRED, FRED_INBOUND_SPI, QM_MESSAGE_ID, SeedNetwork,
};
use seed_util::*;
use ted::gateway::ShowCommand;
use ted::log::Renderer;

const EXPECTED_DAPHNE: &str = include_str!("../../vectors/seed/expected_daphne.txt");
const EXPECTED_FRED: &str = include_str!("../../vectors/seed/expected_fred.txt");
const SHOW_ISAKMP: &str = include_str!("../../vectors/seed/show_crypto_isakmp_sa.txt");
const SHOW_MAP: &str = include_str!("../../vectors/seed/show_crypto_map.txt");
const SHOW_ENGINE: &str =
    include_str!("../../vectors/seed/show_crypto_engine_connections_active.txt");
const SHOW_IPSEC: &str = include_str!("../../vectors/seed/expected_show_crypto_ipsec_sa.txt");

fn replayed() -> SeedNetwork {
    let mut s = network();
    ping_ten(&mut s);
    s
}

#[test]
fn both_traces_follow_trace_md() {
    let s = replayed();
    let daphne = structural_log(s.daphne().unwrap().gateway().log().unwrap().records());
    let fred = structural_log(s.fred().unwrap().gateway().log().unwrap().records());
    assert_in_order("Daphne", &expected(EXPECTED_DAPHNE), &daphne);
    assert_in_order("fred", &expected(EXPECTED_FRED), &fred);
}

#[test]
fn the_transcripts_are_not_vacuous() {
    // The comparison must be able to fail: the seed's own transcript does
    // not fit the other router, nor a run that changed one value.
    let s = replayed();
    let fred = structural_log(s.fred().unwrap().gateway().log().unwrap().records());
    let daphne_lines = expected(EXPECTED_DAPHNE);
    assert!(check_in_order("x", &daphne_lines, &fred).is_err());
    let mut altered = expected(EXPECTED_FRED);
    assert!(check_in_order("fred", &altered, &fred).is_ok());
    let at = altered
        .iter()
        .position(|l| l.contains("message_id=409419560"))
        .unwrap();
    altered[at] = altered[at].replace("409419560", "409419561");
    assert!(check_in_order("x", &altered, &fred).is_err());
    // Swapping two lines (the order) is caught too.
    let mut swapped = expected(EXPECTED_FRED);
    swapped.swap(2, 3);
    assert!(check_in_order("x", &swapped, &fred).is_err());
    // And they are long enough to cover both tables.
    assert!(daphne_lines.len() >= 40, "{}", daphne_lines.len());
    assert!(expected(EXPECTED_FRED).len() >= 35);
}

#[test]
fn every_rendered_line_is_the_seeds() {
    // Each message the log renders is in the seed's text (whitespace
    // aside), except the departure in docs/ted-wire.md, "Departures from the seed's log".
    let s = replayed();
    let renderer = Renderer::new(ted::log::WallClock::IOS_DEFAULT, s.net.start());
    for (router, prompt) in [(s.daphne().unwrap(), "Daphne"), (s.fred().unwrap(), "fred")] {
        let seed = seed_trace(prompt);
        let text = renderer.render_all(router.gateway().log().unwrap().records());
        let mut checked = 0;
        for m in messages(&text) {
            let stripped = strip(&m);
            // fred's response ID: 16, where fred printed 239 (docs/ted-wire.md, "Proxy payload").
            if stripped
                == strip(
                    "ISAKMP (1): ID payload next-payload : 16 type : 1 protocol : 17 port : 500 length : 8",
                )
            {
                assert!(seed.contains(&strip("ID payload next-payload : 239 type : 1")));
                continue;
            }
            assert!(
                seed.contains(&stripped),
                "{prompt}: rendered line not in the seed:\n{m}"
            );
            checked += 1;
        }
        assert!(checked >= 60, "{prompt}: only {checked} lines");
    }
}

/// An IPv4 identification as text.
fn id(data: &IdData<'_>) -> String {
    match data {
        IdData::Ipv4Addr(a) => a.to_string(),
        IdData::Ipv4Subnet { address, mask } => format!("{address}/{mask}"),
        other => format!("{other:?}"),
    }
}

#[test]
fn the_wire_carries_the_seeds_exchange() {
    let s = replayed();
    let captured = s.net.captured(s.transit);
    let packets: Vec<Ipv4Packet<'_>> = captured
        .iter()
        .map(|c| Ipv4Packet::parse(&c.packet).unwrap())
        .collect();
    let udp = |p: &Ipv4Packet<'_>| match p.transport().unwrap() {
        Transport::Udp {
            source_port,
            destination_port,
            payload,
        } => Some((source_port, destination_port, payload.to_vec())),
        _ => None,
    };
    let parse =
        ParseConfig::default().with_ted_exchange_type(Some(isakmp_wire::ted::TED_EXCHANGE_TYPE));
    // (probe: first ID, second ID) or (response: ID, echoed proxy, proxy).
    let ted = |bytes: &[u8]| -> (Vec<String>, bool) {
        let m = Message::new_checked(bytes).unwrap();
        let repr = MessageRepr::parse(&m, &parse).unwrap();
        match TedMessage::from_message(&repr, isakmp_wire::ted::TED_EXCHANGE_TYPE).unwrap() {
            TedMessage::Probe(p) => (vec![id(&p.initiator_address.data), id(&p.proxy.data)], true),
            TedMessage::Response(r) => (
                vec![
                    id(&r.responder_address.data),
                    r.proxy
                        .initiator_proxy
                        .map(|p| id(&p.data))
                        .unwrap_or_default(),
                    id(&r.proxy.responder_proxy.data),
                ],
                false,
            ),
        }
    };
    // 1. The probe: from D1 to A1 (the original packet's addresses), UDP
    //    500 -> 500, carrying 11.11.11.1 and 13.13.13.0/24.
    let probe = &packets[0];
    assert_eq!((probe.header.source, probe.header.destination), (D1, A1));
    let (sp, dp, bytes) = udp(probe).unwrap();
    assert_eq!((sp, dp), (500, 500));
    let (ids, is_probe) = ted(&bytes);
    assert!(is_probe);
    assert_eq!(ids, ["11.11.11.1", "13.13.13.0/255.255.255.0"]);
    // 2. The response: from fred's own address to the address in the
    //    probe ("TED V3"), with fred's address and the proxy pair.
    let response = &packets[1];
    assert_eq!(
        (response.header.source, response.header.destination),
        (FRED, DAPHNE)
    );
    let (_, _, bytes) = udp(response).unwrap();
    let (ids, is_probe) = ted(&bytes);
    assert!(!is_probe);
    assert_eq!(
        ids,
        [
            "11.11.11.2",
            "13.13.13.0/255.255.255.0",
            "12.12.12.0/255.255.255.0"
        ]
    );
    // 3. Main Mode (6) and Quick Mode (3) between the routers; the Quick
    //    Mode with the seed's message ID.
    let ike: Vec<Vec<u8>> = packets[2..11]
        .iter()
        .map(|p| {
            assert!([DAPHNE, FRED].contains(&p.header.source));
            udp(p).unwrap().2
        })
        .collect();
    let exchange = |b: &[u8]| Message::new_checked(b).unwrap().header().exchange_type().0;
    let message_id = |b: &[u8]| Message::new_checked(b).unwrap().header().message_id();
    assert_eq!(
        ike.iter().map(|b| exchange(b)).collect::<Vec<_>>(),
        [2, 2, 2, 2, 2, 2, 32, 32, 32]
    );
    assert!(ike[6..].iter().all(|b| message_id(b) == QM_MESSAGE_ID));
    // 4. Then only ESP: nine echo requests to fred's SPI, nine replies to
    //    Daphne's; no clear-text ICMP between the protected networks.
    let esp: Vec<&Ipv4Packet<'_>> = packets[11..].iter().collect();
    assert_eq!(esp.len(), 18);
    for p in &esp {
        assert_eq!(p.header.protocol, protocol::ESP);
        let spi = u32::from_be_bytes(p.payload[..4].try_into().unwrap());
        let expected = if p.header.source == DAPHNE {
            FRED_INBOUND_SPI
        } else {
            DAPHNE_INBOUND_SPI
        };
        assert_eq!(spi, expected);
    }
    assert_eq!(esp.iter().filter(|p| p.header.source == DAPHNE).count(), 9);
}

#[test]
fn nine_pings_go_through_and_the_first_is_dropped_for_ted() {
    let s = replayed();
    let d1 = s.d1().unwrap();
    // Ten requests: the first triggered TED and was dropped; nine replies.
    assert_eq!(d1.echo_replies().len(), 9);
    assert_eq!(
        d1.echo_replies()
            .iter()
            .map(|r| r.sequence)
            .collect::<Vec<_>>(),
        (2..=10).collect::<Vec<u16>>()
    );
    let gw = s.daphne().unwrap().gateway();
    assert_eq!(gw.counters().plaintext_discovering, 1);
    assert_eq!(gw.counters().plaintext_encrypted, 9);
    assert_eq!(gw.counters().esp_decrypted, 9);
    assert_eq!(gw.counters().map_entries_derived, 1);
    let fred = s.fred().unwrap().gateway();
    assert_eq!(fred.counters().esp_decrypted, 9);
    assert_eq!(fred.counters().plaintext_encrypted, 9);
    assert_eq!(fred.discovery().stats().probes_answered, 1);
    // No IKE input was dropped anywhere.
    assert_eq!(gw.ike().counters().dropped(), 0);
    assert_eq!(fred.ike().counters().dropped(), 0);
}

#[test]
fn show_commands_print_the_seeds_views() {
    let mut s = replayed();
    // The seed's `show crypto ipsec sa` reads 2524 s left of 3600: take the
    // views 1076 s after the SAs were created.
    let created = s
        .daphne()
        .unwrap()
        .gateway()
        .esp()
        .iter()
        .map(|(_, sa)| sa.created())
        .max()
        .unwrap();
    s.net
        .run_until(created + Duration::from_secs(1076), 100_000);
    let gw = s.daphne().unwrap().gateway();
    let now = s.net.now();
    assert_eq!(gw.show(now, ShowCommand::CryptoIsakmpSa), SHOW_ISAKMP);
    assert_eq!(gw.show(now, ShowCommand::CryptoIpsecSa), SHOW_IPSEC);
    assert_eq!(gw.show(now, ShowCommand::CryptoMap), SHOW_MAP);
    assert_eq!(
        gw.show(now, ShowCommand::CryptoEngineConnectionsActive),
        SHOW_ENGINE
    );
}

#[test]
fn weak_algorithms_are_reported_once_each() {
    let s = replayed();
    let weak: Vec<String> = s
        .daphne()
        .unwrap()
        .events()
        .iter()
        .filter_map(|e| match e {
            ted::gateway::Event::WeakAlgorithm { algorithm, .. } => Some(algorithm.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        weak,
        ["DES-CBC", "SHA1", "MODP-768", "esp-des", "esp-md5-hmac"]
    );
}

#[test]
fn run_seed_is_the_replay_and_its_check_can_fail() {
    use netsim::scenario::{ReplayShortfall, SeedRouter, SeedRun, run_seed};
    // The example's entry point: the same run as above.
    let (d, f) = generators();
    let run = run_seed(d, f, std::time::Instant::now()).unwrap();
    run.check().unwrap();
    assert_eq!(run.echo_replies(), 9);
    let daphne = run.debug_trace(SeedRouter::Daphne);
    let fred = run.debug_trace(SeedRouter::Fred);
    // Each trace starts with the router's first line in the seed, at the
    // seed's time on that router's clock.
    assert!(
        daphne.starts_with("*Mar  1 02:07:18.850: IPSEC(tunnel discover request): ,\n"),
        "{daphne}"
    );
    assert!(
        fred.starts_with(
            "*Mar  1 02:07:45.763: ISAKMP (0:0): received packet from 13.13.13.14 (N) NEW SA\n"
        ),
        "{fred}"
    );
    assert!(
        run.show(SeedRouter::Daphne, ShowCommand::CryptoIpsecSa)
            .contains("#pkts encaps: 9, #pkts encrypt: 9, #pkts digest 9")
    );
    // Key tables: one ISAKMP SA (cookie, 8-byte DES key), two ESP SAs.
    let ike = run.ikev1_decryption_table();
    let (cookie, key) = ike.trim_end().split_once(',').unwrap();
    assert_eq!((cookie.len(), key.len()), (16, 16), "{ike}");
    let esp = run.esp_sa_table();
    assert_eq!(esp.lines().count(), 2);
    assert!(
        esp.contains("\"IPv4\",\"11.11.11.2\",\"11.11.11.1\",\"0xf800d61f\",\"DES-CBC [RFC2405]\"")
    );
    assert!(
        esp.contains("\"IPv4\",\"11.11.11.1\",\"11.11.11.2\",\"0xa4790fa0\",\"DES-CBC [RFC2405]\"")
    );
    // The pcap: a classic header with link type RAW, then 29 records.
    let pcap = run.transit_pcap().unwrap();
    assert_eq!(pcap[..4], [0xd4, 0xc3, 0xb2, 0xa1]);
    assert_eq!(pcap[20..24], 101u32.to_le_bytes());
    assert_eq!(run.network().net.captured(run.network().transit).len(), 29);

    // With a wrong pre-shared key on fred the replay does not reach its
    // end, and the check says so.
    let fred_cfg = ted::config::ios::parse(&FRED_CFG.replace("abc123", "not-abc123"))
        .unwrap()
        .config;
    let failed = SeedRun::replay(network_with(daphne_cfg(), fred_cfg, options()));
    assert_eq!(
        failed.check(),
        Err(ReplayShortfall::EchoReplies {
            got: 0,
            expected: 9
        })
    );
}
