//! The seed's two gateways with Daphne behind NATs (`netsim::NatBox`):
//! through one home router, and through a home router behind a carrier
//! NAT (issue 12, item 6).
//!
//! ```text
//!  D1 -- [Daphne] 10.0.0.2 -- 10.0.0.1 [home NAT] 11.11.11.1 ==11.11.11.0/24== 11.11.11.2 [fred] -- A1
//!  D1 -- [Daphne] 10.0.0.2 -- [home NAT] 100.64.0.2 -- 100.64.0.1 [carrier NAT] 11.11.11.1 == [fred] -- A1
//! ```
//!
//! The NAT takes Daphne's seed address on the transit link; both gateways
//! have static crypto maps (TED's probe does not cross a NAT today: fred
//! drops it, `SourceOutsideProxy`), fred's with the NAT's address as its
//! peer, Daphne's with the private address on its outside interface and
//! the NAT as its default route.
//!
//! Two kinds of tests. Without NAT-T (the seed's options,
//! [`scenario::seed_options`], as IOS 12.2): ESP crosses the NATs bare,
//! translated by address as conntrack's generic tracking does, so a NAT
//! that drops ESP breaks the tunnel and an idle tunnel loses its mapping.
//! With NAT-T (`ike_sm::NatTConfig::default()`: RFC 3947, keepalives every
//! 20 s): the NAT is detected, IKE floats to UDP 4500 at Main Mode 5, ESP
//! travels inside UDP 4500 through a NAT that drops bare ESP, through two
//! NATs, across a mapping change mid-SA (fred follows Daphne's new port once
//! authenticated ESP arrives from it), and the keepalives keep an idle
//! tunnel's mapping alive where, without them, it expires.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod sim_nat_util;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use esp::ip::{Ipv4Packet, protocol};
use netsim::scenario::{self, A1, D1, DAPHNE_INSIDE, FRED, FRED_INSIDE, INSIDE, OUTSIDE};
use netsim::{
    GatewayRouter, Host, LinkConfig, LinkId, NatBox, NatConfig, NatTimeouts, Network, NodeId,
    OtherProtocols,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::gateway::Gateway;

/// Daphne's outside address behind the NAT.
const DAPHNE_PRIVATE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const HOME_INSIDE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const HOME_OUTSIDE_CGN: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 2);
const CGN_INSIDE: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
/// What fred sees: the NAT's address (the seed's Daphne address).
const PUBLIC: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 1);

struct Behind {
    net: Network,
    d1: NodeId,
    a1: NodeId,
    daphne: NodeId,
    fred: NodeId,
    nats: Vec<NodeId>,
    home: LinkId,
    transit: LinkId,
}

/// A static crypto map (the interop suite's layout): `outside` on
/// FastEthernet0/0 with `route` as the default route, IKE with `peer`,
/// protecting `local` (a /24 on FastEthernet0/1 at `.inside`) to `remote`.
fn static_config(
    hostname: &str,
    outside: Ipv4Addr,
    route: Ipv4Addr,
    peer: Ipv4Addr,
    inside: Ipv4Addr,
    local: &str,
    remote: &str,
) -> ted::config::Config {
    let text = format!(
        "hostname {hostname}
crypto isakmp policy 10
 encryption aes 128
 hash sha256
 authentication pre-share
 group 14
crypto isakmp key abc123 address 0.0.0.0 0.0.0.0
!
crypto ipsec transform-set ts esp-aes 128 esp-sha-hmac
!
crypto map nat 10 ipsec-isakmp
 set peer {peer}
 set transform-set ts
 match address 101
!
interface FastEthernet0/0
 ip address {outside} 255.255.255.0
 crypto map nat
!
interface FastEthernet0/1
 ip address {inside} 255.255.255.0
!
ip route 0.0.0.0 0.0.0.0 {route}
!
access-list 101 permit ip {local} 0.0.0.255 {remote} 0.0.0.255
end
"
    );
    ted::config::ios::parse(&text).unwrap().config
}

/// The seed's network with one NAT (`carrier: false`) or two between
/// Daphne and the transit link.
fn behind(carrier: bool, other: OtherProtocols) -> Behind {
    behind_with(carrier, other, NatTimeouts::default(), None)
}

/// The same with the NATs' idle timeouts given, and NAT-T on both gateways
/// when `nat_t` is given (else the seed's options: NAT-T off).
fn behind_with(
    carrier: bool,
    other: OtherProtocols,
    timeouts: NatTimeouts,
    nat_t: Option<ike_sm::NatTConfig>,
) -> Behind {
    let daphne_cfg = static_config(
        "Daphne",
        DAPHNE_PRIVATE,
        HOME_INSIDE,
        FRED,
        DAPHNE_INSIDE,
        "13.13.13.0",
        "12.12.12.0",
    );
    let fred_cfg = static_config(
        "fred",
        FRED,
        PUBLIC,
        PUBLIC,
        FRED_INSIDE,
        "12.12.12.0",
        "13.13.13.0",
    );
    let entropy =
        scenario::scripted_entropy(ChaCha20Rng::seed_from_u64(1), ChaCha20Rng::seed_from_u64(2));
    let mut options = scenario::seed_options();
    if let Some(n) = nat_t {
        options.ike.nat_t = n;
    }
    let d_gw = Gateway::new(daphne_cfg.clone(), OUTSIDE, entropy.0, options.clone()).unwrap();
    let f_gw = Gateway::new(fred_cfg.clone(), OUTSIDE, entropy.1, options).unwrap();
    let mut net = Network::new(Instant::now(), 1);
    let lan_d = net.add_link("13.13.13.0/24", LinkConfig::default());
    let home = net.add_link("10.0.0.0/24", LinkConfig::default());
    let transit = net.add_link(
        "11.11.11.0/24",
        LinkConfig::with_latency(Duration::from_millis(5)),
    );
    let lan_f = net.add_link("12.12.12.0/24", LinkConfig::default());
    let d1 = net.add_node("D1", Host::new(D1, 24, Some(DAPHNE_INSIDE)));
    let a1 = net.add_node("A1", Host::new(A1, 24, Some(FRED_INSIDE)));
    let daphne = net.add_node("Daphne", GatewayRouter::new(d_gw));
    let fred = net.add_node("fred", GatewayRouter::new(f_gw));
    net.attach(d1, Host::INTERFACE, D1, lan_d).unwrap();
    net.attach(a1, Host::INTERFACE, A1, lan_f).unwrap();
    net.attach_interfaces(daphne, &daphne_cfg, &[(INSIDE, lan_d), (OUTSIDE, home)])
        .unwrap();
    net.attach_interfaces(fred, &fred_cfg, &[(OUTSIDE, transit), (INSIDE, lan_f)])
        .unwrap();
    let mut nats = Vec::new();
    if carrier {
        let cgn_link = net.add_link("100.64.0.0/24", LinkConfig::default());
        let home_nat = net.add_node(
            "home",
            NatBox::new(
                NatConfig::new(HOME_INSIDE, 24, HOME_OUTSIDE_CGN, 24)
                    .with_gateway(CGN_INSIDE)
                    .with_other_protocols(other)
                    .with_timeouts(timeouts),
            ),
        );
        let cgn = net.add_node(
            "cgn",
            NatBox::new(
                NatConfig::new(CGN_INSIDE, 24, PUBLIC, 24)
                    .with_gateway(FRED)
                    .with_ports(netsim::PortPolicy::Renumber)
                    .with_other_protocols(other)
                    .with_timeouts(timeouts),
            ),
        );
        net.attach(home_nat, NatBox::INSIDE, HOME_INSIDE, home)
            .unwrap();
        net.attach(home_nat, NatBox::OUTSIDE, HOME_OUTSIDE_CGN, cgn_link)
            .unwrap();
        net.attach(cgn, NatBox::INSIDE, CGN_INSIDE, cgn_link)
            .unwrap();
        net.attach(cgn, NatBox::OUTSIDE, PUBLIC, transit).unwrap();
        nats.extend([home_nat, cgn]);
    } else {
        let nat = net.add_node(
            "home",
            NatBox::new(
                NatConfig::new(HOME_INSIDE, 24, PUBLIC, 24)
                    .with_gateway(FRED)
                    .with_other_protocols(other)
                    .with_timeouts(timeouts),
            ),
        );
        net.attach(nat, NatBox::INSIDE, HOME_INSIDE, home).unwrap();
        net.attach(nat, NatBox::OUTSIDE, PUBLIC, transit).unwrap();
        nats.push(nat);
    }
    net.capture(home);
    net.capture(transit);
    Behind {
        net,
        d1,
        a1,
        daphne,
        fred,
        nats,
        home,
        transit,
    }
}

impl Behind {
    fn ping(&mut self, count: u32) -> usize {
        let now = self.net.now();
        let before = self.host(self.d1).echo_replies().len();
        self.net
            .node_mut::<Host>(self.d1)
            .unwrap()
            .ping(now, A1, count, Duration::from_secs(1));
        self.net
            .run_for(Duration::from_secs(u64::from(count) + 3), 100_000);
        self.host(self.d1).echo_replies().len() - before
    }

    /// A1 pings D1 `count` times (fred's side first); the replies A1 got.
    fn ping_from_a1(&mut self, count: u32) -> usize {
        let now = self.net.now();
        let before = self.host(self.a1).echo_replies().len();
        self.net
            .node_mut::<Host>(self.a1)
            .unwrap()
            .ping(now, D1, count, Duration::from_secs(1));
        self.net
            .run_for(Duration::from_secs(u64::from(count) + 3), 100_000);
        self.host(self.a1).echo_replies().len() - before
    }

    fn host(&self, id: NodeId) -> &Host {
        self.net.node::<Host>(id).unwrap()
    }

    fn router(&self, id: NodeId) -> &GatewayRouter {
        self.net.node::<GatewayRouter>(id).unwrap()
    }

    fn nat(&self, i: usize) -> &NatBox {
        self.net.node::<NatBox>(self.nats[i]).unwrap()
    }

    /// (protocol, source, destination) of what crossed a link.
    fn protocols(&self, link: LinkId) -> Vec<(u8, Ipv4Addr, Ipv4Addr)> {
        self.net
            .captured(link)
            .iter()
            .map(|c| {
                let ip = Ipv4Packet::parse(&c.packet).unwrap();
                (ip.header.protocol, ip.header.source, ip.header.destination)
            })
            .collect()
    }
}

fn phase1(router: &GatewayRouter) -> Vec<ike_sm::Phase1Established> {
    router
        .events()
        .iter()
        .filter_map(|e| match e {
            ted::gateway::Event::Ike(ike_sm::Event::Phase1Established(p)) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// What both gateways and the links must show after a tunnel through
/// NATs: phase 1 up on both sides, fred's peer the public address,
/// nothing private on the transit link, nothing public on the home link
/// but the peer.
fn check_tunnel(b: &Behind) {
    let d = phase1(b.router(b.daphne));
    let f = phase1(b.router(b.fred));
    assert_eq!((d.len(), f.len()), (1, 1), "one ISAKMP SA each");
    assert_eq!(f[0].remote.ip(), std::net::IpAddr::V4(PUBLIC));
    assert_eq!(d[0].local.ip(), std::net::IpAddr::V4(DAPHNE_PRIVATE));
    for (_, s, d) in b.protocols(b.transit) {
        assert!(s == PUBLIC || d == PUBLIC, "{s} -> {d} on the transit link");
    }
    for (_, s, d) in b.protocols(b.home) {
        assert!(
            (s, d) == (DAPHNE_PRIVATE, FRED) || (s, d) == (FRED, DAPHNE_PRIVATE),
            "{s} -> {d} on the home link"
        );
    }
    // Every packet the NATs wrote reads back with correct checksums.
    for link in [b.home, b.transit] {
        assert!(sim_nat_util::all_checked(&b.net, link) > 0);
    }
}

#[test]
fn a_tunnel_through_one_nat() {
    let mut b = behind(false, OtherProtocols::Translate);
    // The first request starts IKE and is dropped, as in the seed.
    assert_eq!(b.ping(10), 9);
    check_tunnel(&b);
    let nat = b.nat(0);
    assert_eq!(nat.counters().dropped_unmapped, 0);
    assert!(nat.counters().translated_in >= 9);
    // Daphne's IKE kept its port through a port-preserving NAT.
    let ike = nat
        .mappings()
        .find(|m| m.protocol == protocol::UDP && *m.inside.ip() == DAPHNE_PRIVATE)
        .unwrap();
    assert_eq!(
        ike.outside,
        std::net::SocketAddrV4::new(PUBLIC, ike.inside.port())
    );
    assert!(ike.replied);
    assert_eq!(b.host(b.a1).counters().echo_requests_answered, 9);
}

#[test]
fn a_tunnel_through_two_nats() {
    let mut b = behind(true, OtherProtocols::Translate);
    assert_eq!(b.ping(10), 9);
    check_tunnel(&b);
    // The carrier NAT renumbered Daphne's IKE port: fred answered the port
    // it saw, not 500.
    let f = phase1(b.router(b.fred));
    assert_ne!(f[0].remote.port(), 500);
    let cgn = b.nat(1);
    assert!(
        cgn.mappings()
            .any(|m| m.protocol == protocol::UDP && m.outside.port() == f[0].remote.port())
    );
    for i in 0..2 {
        assert_eq!(b.nat(i).counters().dropped_unmapped, 0);
        assert!(b.nat(i).counters().translated_in >= 9);
    }
}

#[test]
fn without_nat_t_a_nat_that_drops_esp_breaks_the_tunnel() {
    let mut b = behind(false, OtherProtocols::Drop);
    // IKE on UDP 500 crosses; the SAs come up; every ESP packet dies at
    // the NAT, counted.
    assert_eq!(b.ping(10), 0);
    assert_eq!(phase1(b.router(b.daphne)).len(), 1);
    assert_eq!(phase1(b.router(b.fred)).len(), 1);
    assert!(b.router(b.daphne).counters().encrypted >= 9);
    assert_eq!(b.router(b.fred).counters().decrypted, 0);
    assert_eq!(
        b.nat(0).counters().dropped_policy,
        b.router(b.daphne).counters().encrypted
    );
    assert!(
        b.protocols(b.transit)
            .iter()
            .all(|(p, _, _)| *p == protocol::UDP)
    );
}

#[test]
fn traffic_flows_after_a_mapping_change_mid_sa() {
    let mut b = behind(false, OtherProtocols::Translate);
    assert_eq!(b.ping(5), 4);
    // The home NAT forgets Daphne's IKE mappings (500, and 4500 once NAT-T
    // floats there) and gives the next packets new ports.
    let home = b.nats[0];
    let gone: usize = [500, 4500]
        .into_iter()
        .map(|port| {
            b.net
                .node_mut::<NatBox>(home)
                .unwrap()
                .rebind(std::net::SocketAddrV4::new(DAPHNE_PRIVATE, port))
        })
        .sum();
    assert!(gone >= 1);
    assert_eq!(b.ping(5), 5, "no echo lost after the rebind");
    check_tunnel(&b);
    assert_eq!(b.nat(0).counters().rebound, u64::try_from(gone).unwrap());
}

#[test]
fn an_idle_mapping_expires_and_traffic_from_inside_brings_it_back() {
    let timeouts = NatTimeouts::default()
        .with_udp(Duration::from_secs(30))
        .with_other(Duration::from_secs(30));
    let mut b = behind_with(false, OtherProtocols::Translate, timeouts, None);
    assert_eq!(b.ping(3), 2);
    // Idle for a minute: without keepalives the NAT forgets the tunnel.
    b.net.run_for(Duration::from_secs(60), 100_000);
    assert_eq!(b.nat(0).mappings().count(), 0);
    assert!(b.nat(0).counters().expired >= 2);
    // fred's side cannot reach D1 now: its ESP dies at the NAT.
    assert_eq!(b.ping_from_a1(3), 0);
    assert_eq!(b.nat(0).counters().dropped_unmapped, 3);
    // D1's traffic maps it again, and then both ways work.
    assert_eq!(b.ping(3), 3);
    assert_eq!(b.ping_from_a1(3), 3);
    check_tunnel(&b);
}

/// ESP datagrams inside UDP 4500 on a link (not IKE behind the non-ESP
/// marker, not a keepalive), and keepalives.
fn esp_in_udp(b: &Behind, link: LinkId) -> (usize, usize) {
    let (mut esp, mut keepalives) = (0, 0);
    for c in b.net.captured(link) {
        let Some((_, sp, dp, payload)) = sim_nat_util::udp_of(&c.packet) else {
            continue;
        };
        if sp != 4500 && dp != 4500 {
            continue;
        }
        match payload.as_slice() {
            [0xff] => keepalives += 1,
            [0, 0, 0, 0, ..] => {}
            _ => esp += 1,
        }
    }
    (esp, keepalives)
}

#[test]
fn nat_t_through_a_nat_that_drops_esp() {
    let mut b = behind_with(
        false,
        OtherProtocols::Drop,
        NatTimeouts::default(),
        Some(ike_sm::NatTConfig::default()),
    );
    assert_eq!(b.ping(10), 9);
    check_tunnel(&b);
    // Each side knows where the NAT is; IKE floated.
    let d = phase1(b.router(b.daphne));
    let f = phase1(b.router(b.fred));
    assert_eq!(d[0].nat.version, Some(ike_sm::NatTVersion::Rfc3947));
    assert!(d[0].nat.local_behind_nat && !d[0].nat.remote_behind_nat && d[0].nat.floated);
    assert!(f[0].nat.remote_behind_nat && !f[0].nat.local_behind_nat && f[0].nat.floated);
    assert_eq!(f[0].remote, std::net::SocketAddr::from((PUBLIC, 4500)));
    // Only UDP crossed: no bare ESP reached the NAT, and the 18 ESP
    // packets of the pings went inside UDP 4500, both links.
    assert_eq!(b.nat(0).counters().dropped_policy, 0);
    assert!(
        b.protocols(b.transit)
            .iter()
            .all(|(p, _, _)| *p == protocol::UDP)
    );
    assert_eq!(esp_in_udp(&b, b.transit).0, 18);
    assert_eq!(esp_in_udp(&b, b.home).0, 18);
    // fred took MM5, QM1 and QM3 on its NAT-T port.
    assert_eq!(b.router(b.fred).gateway().counters().nat_t_ike, 3);
}

#[test]
fn nat_t_through_two_nats() {
    let mut b = behind_with(
        true,
        OtherProtocols::Drop,
        NatTimeouts::default(),
        Some(ike_sm::NatTConfig::default()),
    );
    assert_eq!(b.ping(10), 9);
    check_tunnel(&b);
    // The carrier NAT renumbered the NAT-T port too: fred talks to the
    // port it saw.
    let f = phase1(b.router(b.fred));
    assert!(f[0].nat.remote_behind_nat && f[0].nat.floated);
    assert_eq!(f[0].remote.ip(), std::net::IpAddr::V4(PUBLIC));
    assert!(f[0].remote.port() != 4500 && f[0].remote.port() != 500);
    assert!(phase1(b.router(b.daphne))[0].nat.local_behind_nat);
    let (esp, _) = esp_in_udp(&b, b.home);
    assert_eq!(esp, 18);
    for i in 0..2 {
        assert_eq!(b.nat(i).counters().dropped_policy, 0);
        assert_eq!(b.nat(i).counters().dropped_unmapped, 0);
    }
}

#[test]
fn nat_t_follows_a_mapping_change_mid_sa() {
    let mut b = behind_with(
        false,
        OtherProtocols::Drop,
        NatTimeouts::default(),
        Some(ike_sm::NatTConfig::default()),
    );
    assert_eq!(b.ping(5), 4);
    // The NAT gives Daphne's NAT-T endpoint a new port.
    let home = b.nats[0];
    assert_eq!(
        b.net
            .node_mut::<NatBox>(home)
            .unwrap()
            .rebind(std::net::SocketAddrV4::new(DAPHNE_PRIVATE, 4500)),
        1
    );
    // Every echo still comes back: fred moved the SA to the new port
    // once authenticated ESP came from it.
    assert_eq!(b.ping(5), 5);
    let moved = b
        .nat(0)
        .mappings()
        .find(|m| m.inside == std::net::SocketAddrV4::new(DAPHNE_PRIVATE, 4500))
        .unwrap()
        .outside;
    assert_ne!(moved.port(), 4500);
    let fred = b.router(b.fred);
    assert!(fred.gateway().counters().esp_peer_moved >= 1);
    assert!(fred.gateway().counters().tunnels_moved >= 1);
    let to: Vec<std::net::SocketAddr> = fred
        .events()
        .iter()
        .filter_map(|e| match e {
            ted::gateway::Event::Ike(ike_sm::Event::PeerMoved { to, .. }) => Some(*to),
            _ => None,
        })
        .collect();
    assert_eq!(to, vec![std::net::SocketAddr::V4(moved)]);
    check_tunnel(&b);
}

#[test]
fn nat_t_keepalives_keep_an_idle_mapping_that_expires_without_them() {
    let timeouts = NatTimeouts::default().with_udp(Duration::from_secs(30));
    for keepalive in [None, Some(Duration::from_secs(20))] {
        let nat_t = ike_sm::NatTConfig {
            keepalive,
            ..ike_sm::NatTConfig::default()
        };
        let mut b = behind_with(false, OtherProtocols::Drop, timeouts, Some(nat_t));
        assert_eq!(b.ping(3), 2);
        let (_, before) = esp_in_udp(&b, b.home);
        // A minute without traffic, then fred's side pings D1.
        b.net.run_for(Duration::from_secs(60), 100_000);
        let replies = b.ping_from_a1(3);
        let (_, keepalives) = esp_in_udp(&b, b.home);
        let nat_t_mapping = b
            .nat(0)
            .mappings()
            .any(|m| m.inside == std::net::SocketAddrV4::new(DAPHNE_PRIVATE, 4500));
        if keepalive.is_some() {
            // RFC 3948 keepalives (one byte, 0xFF) every 20 s kept it.
            assert!(keepalives - before >= 2, "{keepalives} keepalives");
            assert!(nat_t_mapping);
            assert_eq!(replies, 3);
            assert_eq!(b.nat(0).counters().dropped_unmapped, 0);
        } else {
            assert_eq!(keepalives, 0);
            assert!(!nat_t_mapping);
            assert_eq!(replies, 0);
            assert_eq!(b.nat(0).counters().dropped_unmapped, 3);
            // D1's traffic maps it again, and fred's side gets through.
            assert_eq!(b.ping(3), 3);
            assert_eq!(b.ping_from_a1(3), 3);
        }
        check_tunnel(&b);
    }
}
