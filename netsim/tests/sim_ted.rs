//! TED on the simulated seed topology when things go wrong: a lost probe,
//! a lost response, an ACL that does not mirror, a router that is not on
//! the path, forged probes and a probe flood.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod sim_util;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use esp::ip::{self as packet, Ipv4Header};
use isakmp_wire::{ExchangeType, IdData, IdRepr, TedProbe};
use netsim::{Host, LinkConfig, Network, Stop, Verdict};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sim_util::*;
use ted::discovery::{DiscoveryConfig, ProbeDropReason, ResponseDropReason};
use ted::log::{Renderer, WallClock};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn is_probe(p: &[u8]) -> bool {
    packet::Ipv4Packet::parse(p).unwrap().header.source == D1
}

#[test]
fn lost_probe_is_retransmitted() {
    let mut s = seed();
    s.net.set_filter(s.transit, |t| {
        if t.index == 0 {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    s.ping(1);
    assert_eq!(s.net.run_until_idle(10_000).stop, Stop::Idle);
    let c = s.net.captured(s.transit);
    assert_eq!(c.len(), 2);
    assert!(is_probe(&c[0].packet));
    // The retransmission leaves 10 s after the first probe (1 ms in).
    assert_eq!(c[0].at - s.t0, secs(10) + ms(51));
    assert_eq!(c[1].at - s.t0, secs(10) + ms(101));
    let daphne = s.router(s.daphne);
    assert_eq!(daphne.discovered().len(), 1);
    assert_eq!(daphne.discovered()[0].probes_sent, 2);
    assert_eq!(daphne.discovery().stats().probes_retransmitted, 1);
    assert_eq!(s.net.link_stats(s.transit).filtered, 1);
}

#[test]
fn lost_response_is_recovered() {
    let mut s = seed();
    s.net.set_filter(s.transit, |t| {
        if t.index == 1 {
            Verdict::Drop
        } else {
            Verdict::Pass
        }
    });
    s.ping(1);
    s.net.run_until_idle(10_000);
    let c = s.net.captured(s.transit);
    let kinds: Vec<bool> = c.iter().map(|p| is_probe(&p.packet)).collect();
    assert_eq!(kinds, [true, true, false]);
    // fred answered twice (it keeps no state); Daphne took the second.
    assert_eq!(s.router(s.fred).discovery().stats().probes_answered, 2);
    assert_eq!(s.router(s.daphne).discovered().len(), 1);
    assert_eq!(c[2].at - s.t0, secs(10) + ms(101));
}

#[test]
fn non_mirrored_acl_no_answer_and_give_up() {
    let fred = FRED_CFG.replace(
        "access-list 101 permit ip 12.12.12.0 0.0.0.255 13.13.13.0 0.0.0.255",
        "access-list 101 permit ip 12.12.12.0 0.0.0.255 14.14.14.0 0.0.0.255",
    );
    let mut s = seed_with(DAPHNE_CFG, &fred, LinkConfig::with_latency(ms(50)), 1);
    s.ping(1);
    assert_eq!(s.net.run_until_idle(10_000).stop, Stop::Idle);
    // Six probes (0, 10, ..., 50 s), no response; fred passed each on to
    // the host, which has no use for it.
    let c = s.net.captured(s.transit);
    assert_eq!(c.len(), 6);
    assert!(c.iter().all(|p| is_probe(&p.packet)));
    assert_eq!(s.host(s.a1).counters().udp_received, 6);
    let fred_stats = s.router(s.fred).discovery().stats().clone();
    assert_eq!(fred_stats.probes_dropped(ProbeDropReason::NotMirrored), 6);
    assert_eq!(s.router(s.fred).counters().forwarded, 6);
    let daphne = s.router(s.daphne);
    assert!(daphne.discovered().is_empty());
    assert_eq!(daphne.discovery().stats().discoveries_failed, 1);
    // Gave up 60 s after the first probe.
    assert_eq!(s.net.elapsed(), secs(60) + ms(1));
    let text = Renderer::new(WallClock::IOS_DEFAULT, s.t0).render_all(daphne.log().records());
    assert!(text.contains(
        "*Mar  1 00:01:00.001: ISAKMP (0:1): deleting SA reason \"death by retransmission P1\" state (I) PEER_DISCOVERY (peer 12.12.12.13) input queue 0"
    ));
}

#[test]
fn hold_down_after_give_up() {
    let fred = FRED_CFG.replace("13.13.13.0 0.0.0.255", "14.14.14.0 0.0.0.255");
    let mut s = seed_with(DAPHNE_CFG, &fred, LinkConfig::with_latency(ms(50)), 1);
    // A long ping: the discovery gives up at 60.001 s (the echo request at
    // 60 s arrives in the same instant, first, and still counts against the
    // pending discovery); the 29 requests of the 30 s hold-down probe
    // nothing; at 90.001 s a new discovery starts.
    let t0 = s.t0;
    s.net
        .node_mut::<Host>(s.d1)
        .unwrap()
        .ping(t0, A1, 100, secs(1));
    s.net.run_until(t0 + secs(95), 100_000);
    let daphne = s.router(s.daphne);
    assert_eq!(daphne.discovery().stats().discoveries_started, 2);
    assert_eq!(daphne.discovery().stats().triggers_held_down, 29);
    let probes = s.net.captured(s.transit);
    assert_eq!(probes.len(), 7);
    assert_eq!(probes[6].at - s.t0, secs(90) + ms(51));
}

#[test]
fn router_not_on_the_path() {
    // Daphne's default route goes to carl (11.11.11.3), who reaches
    // 12.12.12.0/24 directly; fred is on the transit link but not on the
    // path, so it never sees the probe.
    let daphne_cfg = DAPHNE_CFG.replace(
        "ip route 0.0.0.0 0.0.0.0 11.11.11.2",
        "ip route 0.0.0.0 0.0.0.0 11.11.11.3",
    );
    let carl_cfg = "hostname carl\n\
        interface FastEthernet0/0\n ip address 11.11.11.3 255.255.255.0\n\
        interface FastEthernet0/1\n ip address 12.12.12.12 255.255.255.0\n";
    let t0 = Instant::now();
    let mut net = Network::new(t0, 1);
    let inside_d = net.add_link("inside-d", LinkConfig::default());
    let transit = net.add_link("transit", LinkConfig::with_latency(ms(50)));
    let inside_c = net.add_link("inside-c", LinkConfig::default());
    let fred_lan = net.add_link("fred-lan", LinkConfig::default());
    let d1 = net.add_node("D1", Host::new(D1, 24, Some(Ipv4Addr::new(13, 13, 13, 13))));
    let a1 = net.add_node("A1", Host::new(A1, 24, Some(Ipv4Addr::new(12, 12, 12, 12))));
    let (dc, fc, cc) = (config(&daphne_cfg), config(FRED_CFG), config(carl_cfg));
    let rng = |n| ChaCha20Rng::seed_from_u64(n);
    let daphne = net.add_node(
        "Daphne",
        Router::new(dc.clone(), DiscoveryConfig::default(), rng(1)).unwrap(),
    );
    let fred = net.add_node(
        "fred",
        Router::new(fc.clone(), DiscoveryConfig::default(), rng(2)).unwrap(),
    );
    let carl = net.add_node(
        "carl",
        Router::new(cc.clone(), DiscoveryConfig::default(), rng(3)).unwrap(),
    );
    net.attach(d1, "eth0", D1, inside_d).unwrap();
    net.attach(a1, "eth0", A1, inside_c).unwrap();
    net.attach_interfaces(daphne, &dc, &[("Fa0/1", inside_d), ("Fa0/0", transit)])
        .unwrap();
    net.attach_interfaces(fred, &fc, &[("Fa0/0", transit), ("Fa0/1", fred_lan)])
        .unwrap();
    net.attach_interfaces(carl, &cc, &[("Fa0/0", transit), ("Fa0/1", inside_c)])
        .unwrap();
    net.capture(transit);
    net.node_mut::<Host>(d1).unwrap().ping(t0, A1, 1, secs(1));
    assert_eq!(net.run_until_idle(10_000).stop, Stop::Idle);
    assert_eq!(net.captured(transit).len(), 6);
    assert_eq!(net.node::<Router>(fred).unwrap().counters().received, 0);
    assert_eq!(net.node::<Host>(a1).unwrap().counters().udp_received, 6);
    let d = net
        .node::<Router>(daphne)
        .unwrap()
        .discovery()
        .stats()
        .clone();
    assert_eq!((d.discoveries_started, d.discoveries_failed), (1, 1));
}

/// A probe as an attacker on the transit link would forge it: from
/// 13.13.13.14 to 12.12.12.13, with the given ID address.
fn forged_probe(cookie: u8, address: Ipv4Addr) -> Vec<u8> {
    forged_probe_with([cookie; 8], address)
}

fn forged_probe_with(cookie: [u8; 8], address: Ipv4Addr) -> Vec<u8> {
    let proxy = IdRepr::new(IdData::Ipv4Subnet {
        address: Ipv4Addr::new(13, 13, 13, 0),
        mask: Ipv4Addr::new(255, 255, 255, 0),
    });
    let body = TedProbe::new(cookie, address, proxy)
        .to_message(ExchangeType::TED)
        .to_vec()
        .unwrap();
    packet::udp(Ipv4Header::new(D1, A1, 0), 500, 500, &body).unwrap()
}

fn with_attacker(s: &mut Seed) -> netsim::NodeId {
    let mallory = Ipv4Addr::new(11, 11, 11, 66);
    let m = s
        .net
        .add_node("mallory", Host::new(mallory, 24, Some(FRED)));
    s.net.attach(m, "eth0", mallory, s.transit).unwrap();
    m
}

#[test]
fn forged_probes_get_no_answer() {
    let mut s = seed();
    let m = with_attacker(&mut s);
    for (i, address) in [
        Ipv4Addr::new(127, 0, 0, 1),
        Ipv4Addr::new(224, 0, 0, 1),
        Ipv4Addr::BROADCAST,
        Ipv4Addr::new(11, 11, 11, 255),
        FRED,
        Ipv4Addr::new(12, 12, 12, 99),
    ]
    .into_iter()
    .enumerate()
    {
        let p = forged_probe(u8::try_from(i + 1).unwrap(), address);
        s.net.node_mut::<Host>(m).unwrap().send_raw(p);
    }
    s.net.run_until_idle(10_000);
    // Six probes on the link, no response, nothing reached A1.
    assert_eq!(s.net.captured(s.transit).len(), 6);
    assert_eq!(s.host(s.a1).counters().received, 0);
    let stats = s.router(s.fred).discovery().stats().clone();
    assert_eq!(stats.probes_dropped(ProbeDropReason::NonUnicastAddress), 3);
    assert_eq!(stats.probes_dropped(ProbeDropReason::ReflectedAddress), 3);
    assert_eq!(stats.probes_answered, 0);
    let text =
        Renderer::new(WallClock::IOS_DEFAULT, s.t0).render_all(s.router(s.fred).log().records());
    assert_eq!(
        text.matches("not responding to peer discovery probe")
            .count(),
        6
    );
}

#[test]
fn probe_flood_is_rate_limited() {
    let mut s = seed();
    let m = with_attacker(&mut s);
    // 100 well-formed probes at once, naming Daphne as the initiator.
    for i in 0..100u32 {
        let mut cookie = [0xc0; 8];
        cookie[..4].copy_from_slice(&i.to_be_bytes());
        let p = forged_probe_with(cookie, DAPHNE);
        s.net.node_mut::<Host>(m).unwrap().send_raw(p);
    }
    s.net.run_until_idle(100_000);
    let fred = s.router(s.fred).discovery().stats().clone();
    // The default bucket holds 20.
    assert_eq!(fred.probes_answered, 20);
    assert_eq!(fred.probes_dropped(ProbeDropReason::RateLimited), 80);
    // Daphne never probed: every response is for nobody.
    let daphne = s.router(s.daphne).discovery().stats().clone();
    assert_eq!(
        daphne.responses_dropped(ResponseDropReason::UnknownCookie),
        20
    );
    assert!(s.router(s.daphne).discovered().is_empty());
}
