//! Resource bounds at the gateway level (issue 7): what floods from the
//! outside do to two seed gateways on the simulated network, and to one
//! gateway driven by an authenticated but greedy peer.
//!
//! - A flood of Main Mode first messages from spoofed addresses fills at
//!   most the half-open caps of fred's IKE engine; the established tunnel
//!   keeps carrying pings through ESP, with the same SAs, and the flood's
//!   half-open SAs are gone once their retransmissions run out.
//! - A peer that knows the pre-shared key and negotiates one Quick Mode
//!   after another installs at most `Caps::max_tunnels` SA pairs; the
//!   pairs beyond it are deleted at once (the peer is told) and counted,
//!   except one successor per installed tunnel (a rekey).
//! - Gateways at their tunnel cap still rekey: traffic flows through
//!   several lifetimes with no pair refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod seed_util;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::{Duration, Instant};

use esp::ip::{self as packet, Ipv4Header, Ipv4Packet, Transport, protocol};
use ike_sm::{IsakmpState, Lifetime, Phase2Request, ProxyId, TransformSet};
use netsim::Host;
use netsim::scenario::{DAPHNE, FRED, OUTSIDE, SeedNetwork};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use seed_util::*;
use ted::gateway::{Gateway, GatewayOptions, TransmitKind};

const MALLORY: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 66);

/// The UDP payloads of the packets captured on the transit link, with
/// their IP source and destination.
fn udp_500(s: &SeedNetwork) -> Vec<(Ipv4Addr, Ipv4Addr, Vec<u8>)> {
    s.net
        .captured(s.transit)
        .iter()
        .filter_map(|c| {
            let ip = Ipv4Packet::parse(&c.packet).ok()?;
            match ip.transport().ok()? {
                Transport::Udp {
                    destination_port: 500,
                    payload,
                    ..
                } => Some((ip.header.source, ip.header.destination, payload.to_vec())),
                _ => None,
            }
        })
        .collect()
}

/// How many packets crossed the transit link between the two gateways
/// as ESP, and how many ICMP packets between the protected networks
/// crossed it in the clear.
fn esp_and_cleartext(s: &SeedNetwork, from: usize) -> (usize, usize) {
    let mut esp = 0;
    let mut clear = 0;
    for c in s.net.captured(s.transit).iter().skip(from) {
        let ip = Ipv4Packet::parse(&c.packet).unwrap();
        let (src, dst) = (ip.header.source, ip.header.destination);
        if ip.header.protocol == protocol::ESP
            && [src, dst].contains(&DAPHNE)
            && [src, dst].contains(&FRED)
        {
            esp += 1;
        }
        if ip.header.protocol == protocol::ICMP {
            let inside =
                |a: Ipv4Addr| a.octets()[..3] == [13, 13, 13] || a.octets()[..3] == [12, 12, 12];
            if inside(src) && inside(dst) {
                clear += 1;
            }
        }
    }
    (esp, clear)
}

/// fred's half-open ISAKMP SAs (not yet QM_IDLE).
fn half_open(s: &SeedNetwork) -> usize {
    let f = s.fred().unwrap().gateway();
    f.ike()
        .isakmp_sas(s.net.now())
        .iter()
        .filter(|sa| sa.state != IsakmpState::QmIdle)
        .count()
}

#[test]
fn an_mm1_flood_from_spoofed_addresses_leaves_the_established_tunnel_working() {
    let mut s = network_with(daphne_cfg(), fred_cfg(), GatewayOptions::default());
    ping_ten(&mut s);
    assert_eq!(s.d1().unwrap().echo_replies().len(), 9);
    let tunnels_before = s.fred().unwrap().gateway().tunnels();
    assert_eq!(tunnels_before.len(), 1);

    // Daphne's Main Mode message 1, as captured on the wire.
    let mm1 = udp_500(&s)
        .into_iter()
        .find(|(src, dst, p)| {
            *src == DAPHNE && *dst == FRED && p.len() > 28 && p[8..16] == [0; 8] && p[18] == 2
        })
        .map(|(_, _, p)| p)
        .expect("Daphne's MM1 on the transit link");

    // Mallory, on the transit link, replays it with fresh initiator
    // cookies: 100 from one spoofed address, then 13 from each of 241
    // other spoofed addresses of the link. (Spoofed on-link addresses make fred's
    // answers die on the link: off-link ones would bounce between the two
    // routers' default routes until their TTL ran out, which costs the
    // simulation time and tests nothing more.)
    let m = s
        .net
        .add_node("Mallory", Host::new(MALLORY, 24, Some(FRED)));
    s.net
        .attach(m, Host::INTERFACE, MALLORY, s.transit)
        .unwrap();
    let limits = s.fred().unwrap().gateway().ike().config().limits.clone();
    let forged = |i: u32, source: Ipv4Addr| {
        let mut p = mm1.clone();
        p[..4].copy_from_slice(&i.to_be_bytes());
        p[4..8].copy_from_slice(&[0xf1, 0x00, 0xd0, 0x01]);
        packet::udp(
            Ipv4Header::new(source, FRED, protocol::UDP).with_ttl(64),
            500,
            500,
            &p,
        )
        .unwrap()
    };
    let lone = Ipv4Addr::new(11, 11, 11, 9);
    let mut packets: Vec<Vec<u8>> = (0..100).map(|i| forged(i, lone)).collect();
    for i in 0..241 * 13 {
        let host = u8::try_from(10 + i % 241).unwrap();
        packets.push(forged(100 + i, Ipv4Addr::new(11, 11, 11, host)));
    }
    let flood = packets.len();
    let host = s.net.node_mut::<Host>(m).unwrap();
    for p in packets {
        host.send_raw(p);
    }
    // The pings start while the flood is being processed.
    let captured_before = s.net.captured(s.transit).len();
    s.ping(10, Duration::from_secs(1));
    s.net.run_for(Duration::from_secs(12), 1_000_000);

    // The caps held: the flood filled exactly half_open_total half-open
    // SAs, half_open_per_peer of them from the one repeated address, and
    // every MM1 beyond was refused and counted.
    let f = s.fred().unwrap().gateway();
    assert_eq!(half_open(&s), limits.half_open_total);
    let from_one = f
        .ike()
        .isakmp_sas(s.net.now())
        .iter()
        .filter(|sa| sa.remote.ip() == lone)
        .count();
    assert_eq!(from_one, limits.half_open_per_peer);
    assert_eq!(
        f.ike().counters().half_open_limit,
        u64::try_from(flood - limits.half_open_total).unwrap()
    );
    // The tunnel carried all ten pings, through ESP, on the same SAs.
    assert_eq!(s.d1().unwrap().echo_replies().len(), 19);
    assert_eq!(f.tunnels(), tunnels_before);
    let (esp, clear) = esp_and_cleartext(&s, captured_before);
    assert!(esp >= 20, "{esp} ESP packets between the gateways");
    assert_eq!(clear, 0);

    // With no MM3 ever coming, the flood's half-open SAs give up after
    // the retransmission schedule (IOS: five times 10 s, then 10 s), and
    // the tunnel still works.
    s.net.run_for(Duration::from_secs(120), 1_000_000);
    assert_eq!(half_open(&s), 0);
    assert_eq!(
        s.fred()
            .unwrap()
            .gateway()
            .ike()
            .isakmp_sas(s.net.now())
            .len(),
        1
    );
    s.ping(3, Duration::from_secs(1));
    s.net.run_for(Duration::from_secs(5), 100_000);
    assert_eq!(s.d1().unwrap().echo_replies().len(), 22);
}

/// A peer that knows fred's wildcard key: an IKE engine of its own, with
/// IOS's defaults (the policy fred has), negotiating one host proxy after
/// another towards fred's protected network.
#[test]
fn an_authenticated_peer_installs_at_most_max_tunnels_sa_pairs() {
    let now = Instant::now();
    let mut options = GatewayOptions::default();
    options.caps.max_tunnels = 5;
    let mut fred = Gateway::new(
        fred_cfg(),
        OUTSIDE,
        Box::new(ChaCha20Rng::seed_from_u64(2)),
        options,
    )
    .unwrap();
    let peer = SocketAddrV4::new(Ipv4Addr::new(11, 11, 11, 9), 500);
    let fred_addr = SocketAddrV4::new(FRED, 500);
    let mut config = ike_sm::Config::ios_defaults().with_psk_for_address(
        b"abc123",
        Ipv4Addr::UNSPECIFIED.into(),
        0,
    );
    // The greedy peer itself lets more Quick Modes run than fred does.
    config.limits.phase2_per_sa = 100;
    let mut greedy =
        ike_sm::Endpoint::new(Arc::new(config), Box::new(ChaCha20Rng::seed_from_u64(9)));
    let request = |k: u8| Phase2Request {
        peer: SocketAddr::V4(fred_addr),
        local: SocketAddr::V4(peer),
        local_proxy: ProxyId::host(Ipv4Addr::new(13, 13, 13, k).into()),
        remote_proxy: ProxyId::subnet(Ipv4Addr::new(12, 12, 12, 0).into(), 24),
        transform_sets: vec![TransformSet::ios_seed()],
        pfs: None,
        lifetime: Lifetime::IOS_IPSEC,
    };
    // Shuttles datagrams until both sides are quiet.
    let shuttle = |greedy: &mut ike_sm::Endpoint, fred: &mut Gateway, now: Instant| {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(t) = greedy.poll_transmit() {
                fred.handle_datagram(now, fred_addr, peer, &t.data);
                moved = true;
            }
            while let Some(t) = fred.poll_transmit() {
                assert_eq!(t.kind, TransmitKind::Ike);
                assert_eq!(t.destination, peer);
                greedy.handle_datagram(
                    now,
                    SocketAddr::V4(peer),
                    SocketAddr::V4(fred_addr),
                    &t.payload,
                );
                moved = true;
            }
            while fred.poll_event().is_some() {}
            if !moved {
                return;
            }
        }
        panic!("the exchange did not settle");
    };
    greedy.initiate(now, request(1)).unwrap();
    shuttle(&mut greedy, &mut fred, now);
    assert_eq!(fred.tunnels().len(), 1);
    // Forty more, one after another.
    for k in 2..=41 {
        greedy.initiate(now, request(k)).unwrap();
        shuttle(&mut greedy, &mut fred, now);
        assert!(fred.tunnels().len() <= 5);
        assert!(fred.esp().len() <= 10);
    }
    assert_eq!(fred.tunnels().len(), 5);
    assert_eq!(fred.esp().len(), 10);
    assert_eq!(fred.counters().tunnels_refused, 36);
    // fred told the peer: its IKE engine deleted each refused pair, so the
    // peer holds no more SA pairs than fred does.
    assert_eq!(fred.ike().ipsec_sas(now).len(), 5);
    let mut deleted = 0;
    while let Some(e) = greedy.poll_event() {
        if matches!(
            e,
            ike_sm::Event::Deleted {
                sa: ike_sm::SaRef::Ipsec { .. },
                ..
            }
        ) {
            deleted += 1;
        }
    }
    assert_eq!(deleted, 36);
    assert_eq!(greedy.ipsec_sas(now).len(), 5);
    // What fred's IKE engine keeps and what its SA table holds agree.
    let mut engine: Vec<u32> = fred
        .ike()
        .ipsec_sas(now)
        .iter()
        .map(|i| i.inbound.0)
        .collect();
    let mut installed: Vec<u32> = fred.tunnels().iter().map(|t| t.inbound_spi).collect();
    engine.sort_unstable();
    installed.sort_unstable();
    assert_eq!(engine, installed);
    assert!(fred.tunnels().iter().all(|t| t.peer == *peer.ip()));
    // At the cap, a new pair for the proxies of an installed tunnel is a
    // rekey and is installed; a third for the same proxies is not.
    greedy.initiate(now, request(1)).unwrap();
    shuttle(&mut greedy, &mut fred, now);
    assert_eq!(fred.tunnels().len(), 6);
    assert_eq!(fred.counters().tunnels_refused, 36);
    greedy.initiate(now, request(1)).unwrap();
    shuttle(&mut greedy, &mut fred, now);
    assert_eq!(fred.tunnels().len(), 6);
    assert_eq!(fred.counters().tunnels_refused, 37);
    greedy.initiate(now, request(2)).unwrap();
    shuttle(&mut greedy, &mut fred, now);
    assert_eq!(fred.tunnels().len(), 7);
    assert!(fred.esp().len() <= 2 * 2 * 5);
}

#[test]
fn gateways_at_their_tunnel_cap_still_rekey() {
    // One tunnel allowed, the seed's: its rekey (every 3600 s, IOS's
    // lifetime) must not count as a second tunnel, or the pair would be
    // refused and the tunnel drop at each expiry.
    let mut options = GatewayOptions::default();
    options.caps.max_tunnels = 1;
    let mut s = network_with(daphne_cfg(), fred_cfg(), options);
    ping_ten(&mut s);
    assert_eq!(s.d1().unwrap().echo_replies().len(), 9);
    // A ping a minute for three lifetimes: every one answered.
    let minutes: usize = 3 * 60;
    for _ in 0..minutes {
        s.ping(1, Duration::from_secs(1));
        s.net.run_for(Duration::from_secs(60), 100_000);
        for g in [s.daphne().unwrap().gateway(), s.fred().unwrap().gateway()] {
            assert!(g.tunnels().len() <= 2);
        }
    }
    assert_eq!(s.d1().unwrap().echo_replies().len(), 9 + minutes);
    for g in [s.daphne().unwrap().gateway(), s.fred().unwrap().gateway()] {
        assert_eq!(g.counters().tunnels_refused, 0);
        assert!(g.counters().tunnels_installed >= 3);
    }
}
