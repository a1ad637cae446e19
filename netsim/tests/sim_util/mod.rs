//! The seed's topology on the simulator, and independent checks (etherparse)
//! of the packets it carries.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use netsim::{DiscoveryRouter, Host, LinkConfig, LinkId, Network, NodeId};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::config::Config;
use ted::discovery::DiscoveryConfig;

pub const DAPHNE_CFG: &str = include_str!("../../../vectors/seed/daphne.cfg");
pub const FRED_CFG: &str = include_str!("../../../vectors/seed/fred.cfg");

pub const D1: Ipv4Addr = Ipv4Addr::new(13, 13, 13, 14);
pub const A1: Ipv4Addr = Ipv4Addr::new(12, 12, 12, 13);
pub const DAPHNE: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 1);
pub const FRED: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 2);

pub type Router = DiscoveryRouter<ChaCha20Rng>;

pub struct Seed {
    pub net: Network,
    pub t0: Instant,
    pub d1: NodeId,
    pub a1: NodeId,
    pub daphne: NodeId,
    pub fred: NodeId,
    pub inside_d: LinkId,
    pub transit: LinkId,
    pub inside_f: LinkId,
}

pub fn config(text: &str) -> Config {
    ted::config::ios::parse(text).unwrap().config
}

/// The seed's topology: D1 -- Daphne ==11.11.11.0/24== fred -- A1, the
/// transit link 50 ms each way (the seed's probe was answered in 100 ms),
/// the inside links 1 ms. Daphne's probes carry a capability vendor ID, as
/// the seed's did.
pub fn seed_with(daphne_cfg: &str, fred_cfg: &str, transit: LinkConfig, seed: u64) -> Seed {
    let t0 = Instant::now();
    let mut net = Network::new(t0, seed);
    let inside_d = net.add_link("13.13.13.0/24", LinkConfig::default());
    let transit = net.add_link("11.11.11.0/24", transit);
    let inside_f = net.add_link("12.12.12.0/24", LinkConfig::default());
    let d1 = net.add_node("D1", Host::new(D1, 24, Some(Ipv4Addr::new(13, 13, 13, 13))));
    let a1 = net.add_node("A1", Host::new(A1, 24, Some(Ipv4Addr::new(12, 12, 12, 12))));
    let dc = config(daphne_cfg);
    let fc = config(fred_cfg);
    let mut settings = DiscoveryConfig::default();
    settings.capability_vendor_id = Some(b"TED-V3".to_vec());
    let daphne = net.add_node(
        "Daphne",
        Router::new(dc.clone(), settings, ChaCha20Rng::seed_from_u64(seed ^ 1)).unwrap(),
    );
    let fred = net.add_node(
        "fred",
        Router::new(
            fc.clone(),
            DiscoveryConfig::default(),
            ChaCha20Rng::seed_from_u64(seed ^ 2),
        )
        .unwrap(),
    );
    net.attach(d1, "eth0", D1, inside_d).unwrap();
    net.attach(a1, "eth0", A1, inside_f).unwrap();
    net.attach_interfaces(daphne, &dc, &[("Fa0/1", inside_d), ("Fa0/0", transit)])
        .unwrap();
    net.attach_interfaces(fred, &fc, &[("Fa0/0", transit), ("Fa0/1", inside_f)])
        .unwrap();
    net.capture(transit);
    Seed {
        net,
        t0,
        d1,
        a1,
        daphne,
        fred,
        inside_d,
        transit,
        inside_f,
    }
}

pub fn seed() -> Seed {
    seed_with(
        DAPHNE_CFG,
        FRED_CFG,
        LinkConfig::with_latency(Duration::from_millis(50)),
        1,
    )
}

impl Seed {
    pub fn ping(&mut self, count: u32) {
        let t0 = self.t0;
        self.net
            .node_mut::<Host>(self.d1)
            .unwrap()
            .ping(t0, A1, count, Duration::from_secs(1));
    }

    pub fn router(&self, id: NodeId) -> &Router {
        self.net.node::<Router>(id).unwrap()
    }

    pub fn host(&self, id: NodeId) -> &Host {
        self.net.node::<Host>(id).unwrap()
    }
}

/// An IPv4/UDP packet checked by etherparse: both checksums verified.
pub fn udp_checked(packet: &[u8]) -> (etherparse::Ipv4Header, etherparse::UdpHeader, Vec<u8>) {
    let (ip, rest) = etherparse::Ipv4Header::from_slice(packet).unwrap();
    assert_eq!(
        ip.header_checksum,
        ip.calc_header_checksum(),
        "IPv4 checksum"
    );
    assert_eq!(usize::from(ip.total_len), packet.len());
    let (udp, payload) = etherparse::UdpHeader::from_slice(rest).unwrap();
    assert_eq!(
        udp.checksum,
        udp.calc_checksum_ipv4(&ip, payload).unwrap(),
        "UDP checksum"
    );
    assert_eq!(usize::from(udp.length), rest.len());
    (ip, udp, payload.to_vec())
}

/// An IPv4/ICMP packet checked by etherparse: both checksums verified.
pub fn icmp_checked(packet: &[u8]) -> (etherparse::Ipv4Header, etherparse::Icmpv4Header, Vec<u8>) {
    let (ip, rest) = etherparse::Ipv4Header::from_slice(packet).unwrap();
    assert_eq!(
        ip.header_checksum,
        ip.calc_header_checksum(),
        "IPv4 checksum"
    );
    let (icmp, payload) = etherparse::Icmpv4Header::from_slice(rest).unwrap();
    assert_eq!(
        icmp.checksum,
        icmp.icmp_type.calc_checksum(payload),
        "ICMP checksum"
    );
    (ip, icmp, payload.to_vec())
}
