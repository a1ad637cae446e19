//! The seed's network when something is wrong: a wrong pre-shared key on
//! one side, fred's access list not mirroring Daphne's, probes whose ID
//! address is forged, a flood of probes, a lost probe, a lost response,
//! and a router that is not on the path. In every case no clear text
//! crosses the outside link between the protected networks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod seed_util;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use esp::ip::{self as packet, Ipv4Header, Ipv4Packet, protocol};
use isakmp_wire::{IdData, IdRepr, TedProbe};
use netsim::GatewayRouter;
use netsim::scenario::{A1, D1, DAPHNE, FRED, SeedNetwork};
use netsim::{DiscoveryRouter, Host, LinkConfig, Network, Verdict};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use seed_util::*;
use ted::discovery::{DiscoveryConfig, ProbeDropReason, ResponseDropReason};
use ted::gateway::Event;

/// Every packet that crossed the outside link, parsed.
fn wire(s: &SeedNetwork) -> Vec<Vec<u8>> {
    s.net
        .captured(s.transit)
        .iter()
        .map(|c| c.packet.clone())
        .collect()
}

/// No ICMP between the protected networks in the clear on the outside.
fn assert_no_cleartext(packets: &[Vec<u8>]) {
    for p in packets {
        let ip = Ipv4Packet::parse(p).unwrap();
        let protected =
            |a: Ipv4Addr| a.octets()[..3] == [13, 13, 13] || a.octets()[..3] == [12, 12, 12];
        if ip.header.protocol == protocol::ICMP {
            assert!(
                !(protected(ip.header.source) && protected(ip.header.destination)),
                "clear-text ICMP on the outside: {} -> {}",
                ip.header.source,
                ip.header.destination
            );
        }
    }
}

fn count_protocol(packets: &[Vec<u8>], p: u8) -> usize {
    packets
        .iter()
        .filter(|b| Ipv4Packet::parse(b).unwrap().header.protocol == p)
        .count()
}

fn events(r: &GatewayRouter) -> &[Event] {
    r.events()
}

#[test]
fn wrong_psk_on_one_side_fails_phase_1_on_both() {
    let fred =
        ted::config::ios::parse(&FRED_CFG.replace("key abc123 address", "key not-abc123 address"))
            .unwrap()
            .config;
    let mut s = network_with(daphne_cfg(), fred, options());
    ping_ten(&mut s);
    let d = s.daphne().unwrap();
    let f = s.fred().unwrap();
    // TED is unauthenticated and works; Main Mode's authentication fails.
    assert!(d.gateway().discovery().stats().discoveries_completed >= 1);
    let failed = |r: &GatewayRouter| {
        events(r)
            .iter()
            .filter(|e| matches!(e, Event::Ike(ike_sm::Event::Phase1Failed { .. })))
            .count()
    };
    assert!(failed(d) >= 1, "{:#?}", d.events());
    assert!(failed(f) >= 1, "{:#?}", f.events());
    assert!(d.gateway().tunnels().is_empty());
    assert!(f.gateway().tunnels().is_empty());
    assert!(!events(d).iter().any(|e| matches!(e, Event::TunnelUp(_))));
    // Nothing got through, in clear or otherwise.
    assert_eq!(s.d1().unwrap().echo_replies().len(), 0);
    assert_eq!(s.a1().unwrap().counters().received, 0);
    let packets = wire(&s);
    assert_eq!(count_protocol(&packets, protocol::ESP), 0);
    assert_no_cleartext(&packets);
    // The derived entry goes with the failed negotiation: no tedtag 11
    // outlives it.
    let gw = d.gateway();
    assert!(gw.counters().map_entries_derived >= 1);
    assert_eq!(
        gw.counters().map_entries_derived,
        gw.counters().map_entries_removed
    );
    assert!(
        !gw.show(s.net.now(), ted::gateway::ShowCommand::CryptoMap)
            .contains("\"tedtag\" 11")
    );
}

#[test]
fn fred_not_mirroring_passes_the_probe_on_and_daphne_gives_up() {
    let fred = ted::config::ios::parse(&FRED_CFG.replace(
        "access-list 101 permit ip 12.12.12.0 0.0.0.255 13.13.13.0 0.0.0.255",
        "access-list 101 permit ip 12.12.12.0 0.0.0.255 14.14.14.0 0.0.0.255",
    ))
    .unwrap()
    .config;
    let mut s = network_with(daphne_cfg(), fred, options());
    s.ping(80, Duration::from_secs(1));
    s.net.run_for(Duration::from_secs(90), 1_000_000);
    let d = s.daphne().unwrap().gateway();
    let f = s.fred().unwrap().gateway();
    // Six probes (the first and five retransmissions), none answered; fred
    // passed each on to the probed host.
    assert_eq!(d.discovery().stats().probes_sent, 6);
    assert_eq!(d.discovery().stats().discoveries_failed, 1);
    assert_eq!(
        f.discovery()
            .stats()
            .probes_dropped(ProbeDropReason::NotMirrored),
        6
    );
    assert_eq!(f.discovery().stats().probes_answered, 0);
    assert_eq!(s.a1().unwrap().counters().udp_received, 6);
    assert!(
        s.daphne()
            .unwrap()
            .events()
            .iter()
            .any(|e| matches!(e, Event::Discovery(ted::discovery::Event::GaveUp { .. })))
    );
    // While it ran, and in the hold-down after it, pings were dropped.
    assert!(d.counters().plaintext_discovering >= 50);
    assert!(d.counters().plaintext_discovery_refused >= 1);
    assert_eq!(s.d1().unwrap().echo_replies().len(), 0);
    let packets = wire(&s);
    assert_eq!(count_protocol(&packets, protocol::ESP), 0);
    assert_no_cleartext(&packets);
    assert!(d.ike().isakmp_sas(s.net.now()).is_empty());
}

/// A probe as an attacker on the outside link would forge it: from
/// `source` to A1, claiming `id_address` as the initiator's.
fn forged_probe(source: Ipv4Addr, id_address: Ipv4Addr, cookie: u8) -> Vec<u8> {
    let probe = TedProbe {
        initiator_cookie: [cookie, 1, 2, 3, 4, 5, 6, 7],
        vendor_id: isakmp_wire::ted::IOS_VENDOR_ID,
        initiator_address: IdRepr {
            protocol: 17,
            port: 500,
            data: IdData::Ipv4Addr(id_address),
        },
        proxy: IdRepr {
            protocol: 0,
            port: 0,
            data: IdData::Ipv4Subnet {
                address: Ipv4Addr::new(13, 13, 13, 0),
                mask: Ipv4Addr::new(255, 255, 255, 0),
            },
        },
        extra_vendor_ids: Vec::new(),
    };
    let bytes = probe
        .to_message(isakmp_wire::ted::TED_EXCHANGE_TYPE)
        .to_vec()
        .unwrap();
    packet::udp(
        Ipv4Header::new(source, A1, protocol::UDP).with_ttl(64),
        500,
        500,
        &bytes,
    )
    .unwrap()
}

/// Mallory, a host on the outside link routing through fred.
const MALLORY: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 66);

fn with_mallory(s: &mut SeedNetwork) -> netsim::NodeId {
    let m = s
        .net
        .add_node("Mallory", Host::new(MALLORY, 24, Some(FRED)));
    s.net
        .attach(m, Host::INTERFACE, MALLORY, s.transit)
        .unwrap();
    m
}

#[test]
fn probes_with_forged_id_addresses_are_not_answered() {
    let mut s = network();
    let m = with_mallory(&mut s);
    let cases = [
        // Into fred's own protected network: would reflect the response
        // inside.
        (
            Ipv4Addr::new(13, 13, 13, 77),
            Ipv4Addr::new(12, 12, 12, 50),
            ProbeDropReason::ReflectedAddress,
        ),
        // fred itself.
        (
            Ipv4Addr::new(13, 13, 13, 77),
            FRED,
            ProbeDropReason::ReflectedAddress,
        ),
        // Not unicast.
        (
            Ipv4Addr::new(13, 13, 13, 77),
            Ipv4Addr::new(127, 0, 0, 1),
            ProbeDropReason::NonUnicastAddress,
        ),
        (
            Ipv4Addr::new(13, 13, 13, 77),
            Ipv4Addr::new(224, 0, 0, 5),
            ProbeDropReason::NonUnicastAddress,
        ),
        (
            Ipv4Addr::new(13, 13, 13, 77),
            Ipv4Addr::BROADCAST,
            ProbeDropReason::NonUnicastAddress,
        ),
        // A source outside the proxy the probe claims (Mallory's own).
        (MALLORY, DAPHNE, ProbeDropReason::SourceOutsideProxy),
    ];
    for (i, (source, id, _)) in cases.iter().enumerate() {
        let p = forged_probe(*source, *id, u8::try_from(i).unwrap());
        s.net.node_mut::<Host>(m).unwrap().send_raw(p);
    }
    s.net.run_for(Duration::from_secs(1), 10_000);
    let f = s.fred().unwrap().gateway();
    for reason in [
        ProbeDropReason::ReflectedAddress,
        ProbeDropReason::NonUnicastAddress,
        ProbeDropReason::SourceOutsideProxy,
    ] {
        let want = cases.iter().filter(|c| c.2 == reason).count() as u64;
        assert_eq!(
            f.discovery().stats().probes_dropped(reason),
            want,
            "{reason:?}"
        );
    }
    assert_eq!(f.discovery().stats().probes_answered, 0);
    // Nothing left fred: no response, and the probes were not passed on.
    let from_fred = s
        .net
        .captured(s.transit)
        .iter()
        .filter(|c| c.from == s.fred)
        .count();
    assert_eq!(from_fred, 0);
    assert_eq!(s.a1().unwrap().counters().received, 0);

    // A well-formed probe naming Daphne, which sent none: fred answers it
    // (TED is unauthenticated), and Daphne drops the answer: its cookie
    // matches no probe of hers, so no IKE starts.
    let p = forged_probe(Ipv4Addr::new(13, 13, 13, 77), DAPHNE, 0x77);
    s.net.node_mut::<Host>(m).unwrap().send_raw(p);
    s.net.run_for(Duration::from_secs(1), 10_000);
    let d = s.daphne().unwrap().gateway();
    assert_eq!(
        s.fred()
            .unwrap()
            .gateway()
            .discovery()
            .stats()
            .probes_answered,
        1
    );
    assert_eq!(
        d.discovery()
            .stats()
            .responses_dropped(ResponseDropReason::UnknownCookie),
        1
    );
    assert!(d.ike().isakmp_sas(s.net.now()).is_empty());
    assert_eq!(d.counters().map_entries_derived, 0);
}

#[test]
fn a_probe_flood_is_rate_limited_and_the_real_exchange_still_works() {
    let mut s = network();
    let m = with_mallory(&mut s);
    for i in 0..1000u32 {
        let host = Ipv4Addr::new(13, 13, 13, u8::try_from(i % 200 + 1).unwrap());
        let p = forged_probe(host, DAPHNE, u8::try_from(i % 256).unwrap());
        s.net.node_mut::<Host>(m).unwrap().send_raw(p);
    }
    s.net.run_for(Duration::from_secs(1), 100_000);
    let settings = DiscoveryConfig::default();
    let f = s.fred().unwrap().gateway();
    let stats = f.discovery().stats();
    // The bucket: `burst` at once, then `per_second`; all probes came
    // within milliseconds.
    assert_eq!(
        stats.probes_answered,
        u64::from(settings.responder_rate.burst)
    );
    assert_eq!(
        stats.probes_dropped(ProbeDropReason::RateLimited),
        1000 - u64::from(settings.responder_rate.burst)
    );
    // Daphne dropped every answer to a probe she did not send.
    let d = s.daphne().unwrap().gateway();
    assert_eq!(
        d.discovery()
            .stats()
            .responses_dropped(ResponseDropReason::UnknownCookie),
        u64::from(settings.responder_rate.burst)
    );
    // Some seconds later the bucket has refilled; the seed's exchange works.
    s.net.run_for(Duration::from_secs(3), 10_000);
    ping_ten(&mut s);
    assert_eq!(s.d1().unwrap().echo_replies().len(), 9);
    assert_no_cleartext(&wire(&s));
}

/// The seed's network, twenty pings a second apart from 13.13.13.14, with
/// the `index`th packet onto the outside link lost; run until the last
/// ping has had time for its reply.
fn twenty_pings_losing_transit_packet(index: u64) -> SeedNetwork {
    let mut s = network();
    s.net.set_filter(s.transit, move |t| {
        if t.index == index {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    s.ping(20, Duration::from_secs(1));
    s.net.run_for(Duration::from_secs(22), 100_000);
    s
}

#[test]
fn a_lost_probe_is_retransmitted() {
    // The first packet onto the outside link is the probe.
    let s = twenty_pings_losing_transit_packet(0);
    let d = s.daphne().unwrap().gateway();
    let stats = d.discovery().stats();
    assert_eq!(stats.probes_sent, 2);
    assert_eq!(stats.probes_retransmitted, 1);
    assert_eq!(stats.discoveries_completed, 1);
    // The pings while the discovery waited were dropped and counted
    // against it, not probed again.
    assert!(stats.triggers_pending >= 9, "{stats:?}");
    assert_eq!(d.counters().plaintext_discovering, stats.triggers);
    // Once the retransmitted probe was answered: a tunnel and replies.
    assert_eq!(d.tunnels().len(), 1);
    let replies = s.d1().unwrap().echo_replies().len();
    assert!((9..=11).contains(&replies), "{replies}");
    // The log says it as IOS would.
    let text = ted::log::Renderer::new(ted::log::WallClock::IOS_DEFAULT, s.net.start())
        .render_all(d.log().unwrap().records());
    assert!(text.contains("retransmitting phase 1 PEER_DISCOVERY"));
    assert_no_cleartext(&wire(&s));
}

#[test]
fn a_lost_response_is_recovered_by_the_retransmitted_probe() {
    // The second packet onto the outside link is fred's response.
    let s = twenty_pings_losing_transit_packet(1);
    let d = s.daphne().unwrap().gateway();
    let f = s.fred().unwrap().gateway();
    // fred is stateless: it answered both probes.
    assert_eq!(f.discovery().stats().probes_answered, 2);
    assert_eq!(d.discovery().stats().probes_retransmitted, 1);
    assert_eq!(d.discovery().stats().discoveries_completed, 1);
    assert_eq!(d.tunnels().len(), 1);
    assert_eq!(f.tunnels().len(), 1);
    assert!(s.d1().unwrap().echo_replies().len() >= 9);
    assert_no_cleartext(&wire(&s));
}

#[test]
fn a_router_not_on_the_path_sees_no_probe_and_daphne_gives_up() {
    // Daphne's default route goes to R, a plain router in front of A1's
    // network; fred sits on the outside link but not on the path.
    let daphne = ted::config::ios::parse(&DAPHNE_CFG.replace(
        "ip route 0.0.0.0 0.0.0.0 11.11.11.2",
        "ip route 0.0.0.0 0.0.0.0 11.11.11.3",
    ))
    .unwrap()
    .config;
    let router = ted::config::ios::parse(
        "hostname R\n\
         interface FastEthernet0/0\n ip address 11.11.11.3 255.255.255.0\n\
         interface FastEthernet0/1\n ip address 12.12.12.12 255.255.255.0\n\
         ip route 0.0.0.0 0.0.0.0 11.11.11.1\n",
    )
    .unwrap()
    .config;
    let fred = fred_cfg();
    let (de, fe) = netsim::scenario::scripted_entropy(
        ChaCha20Rng::seed_from_u64(1),
        ChaCha20Rng::seed_from_u64(2),
    );
    let t0 = Instant::now();
    let mut net = Network::new(t0, 1);
    let lan_d = net.add_link("13.13.13.0/24", LinkConfig::default());
    let transit = net.add_link("11.11.11.0/24", LinkConfig::default());
    let lan_a = net.add_link("12.12.12.0/24 (R)", LinkConfig::default());
    let lan_f = net.add_link("12.12.12.0/24 (fred, empty)", LinkConfig::default());
    let d1 = net.add_node("D1", Host::new(D1, 24, Some(Ipv4Addr::new(13, 13, 13, 13))));
    let a1 = net.add_node("A1", Host::new(A1, 24, Some(Ipv4Addr::new(12, 12, 12, 12))));
    let dg = ted::gateway::Gateway::new(daphne.clone(), "FastEthernet0/0", de, options()).unwrap();
    let fg = ted::gateway::Gateway::new(fred.clone(), "FastEthernet0/0", fe, options()).unwrap();
    let d = net.add_node("Daphne", GatewayRouter::new(dg));
    let f = net.add_node("fred", GatewayRouter::new(fg));
    let r = net.add_node(
        "R",
        DiscoveryRouter::new(
            router.clone(),
            DiscoveryConfig::default(),
            ChaCha20Rng::seed_from_u64(3),
        )
        .unwrap(),
    );
    net.attach(d1, Host::INTERFACE, D1, lan_d).unwrap();
    net.attach(a1, Host::INTERFACE, A1, lan_a).unwrap();
    net.attach_interfaces(
        d,
        &daphne,
        &[("FastEthernet0/1", lan_d), ("FastEthernet0/0", transit)],
    )
    .unwrap();
    net.attach_interfaces(
        f,
        &fred,
        &[("FastEthernet0/0", transit), ("FastEthernet0/1", lan_f)],
    )
    .unwrap();
    net.attach_interfaces(
        r,
        &router,
        &[("FastEthernet0/0", transit), ("FastEthernet0/1", lan_a)],
    )
    .unwrap();
    net.capture(transit);
    net.node_mut::<Host>(d1)
        .unwrap()
        .ping(t0, A1, 80, Duration::from_secs(1));
    net.run_for(Duration::from_secs(90), 1_000_000);

    let dr = net.node::<GatewayRouter>(d).unwrap().gateway();
    let fr = net.node::<GatewayRouter>(f).unwrap().gateway();
    // The probes went past fred to A1, which does not speak TED.
    assert_eq!(dr.discovery().stats().probes_sent, 6);
    assert_eq!(dr.discovery().stats().discoveries_failed, 1);
    assert_eq!(fr.discovery().stats().probes_received, 0);
    assert_eq!(net.node::<Host>(a1).unwrap().counters().udp_received, 6);
    // Nothing else reached A1, nothing came back, nothing leaked.
    assert_eq!(net.node::<Host>(a1).unwrap().counters().received, 6);
    assert_eq!(net.node::<Host>(d1).unwrap().echo_replies().len(), 0);
    let packets: Vec<Vec<u8>> = net
        .captured(transit)
        .iter()
        .map(|c| c.packet.clone())
        .collect();
    assert_no_cleartext(&packets);
    assert_eq!(count_protocol(&packets, protocol::ESP), 0);
    assert!(dr.ike().isakmp_sas(net.now()).is_empty());
}
