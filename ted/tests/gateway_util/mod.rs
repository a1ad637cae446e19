//! Shared by the gateway tests: the seed's network, packets, and the
//! gateway behind a router node.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::config::Config;
use ted::gateway::scenario::{SeedNetwork, SeedSetup, scripted_entropy};
use ted::gateway::{Event, Gateway, GatewayOptions, GatewayRouter};
use ted::sim::NodeId;
use ted::sim::packet::{self, Ipv4Header};

pub const DAPHNE_CFG: &str = include_str!("../../../vectors/seed/daphne.cfg");
pub const FRED_CFG: &str = include_str!("../../../vectors/seed/fred.cfg");

pub fn parse(text: &str) -> Config {
    ted::config::ios::parse(text).unwrap().config
}

pub fn options() -> GatewayOptions {
    let mut o = GatewayOptions::default();
    o.debug = true;
    o.key_log = true;
    o
}

pub fn network_with(daphne: Config, fred: Config, options: GatewayOptions) -> SeedNetwork {
    let entropy = scripted_entropy(ChaCha20Rng::seed_from_u64(1), ChaCha20Rng::seed_from_u64(2));
    SeedNetwork::build(SeedSetup::new(
        daphne,
        fred,
        entropy,
        options,
        Instant::now(),
    ))
    .unwrap()
}

pub fn network() -> SeedNetwork {
    network_with(parse(DAPHNE_CFG), parse(FRED_CFG), options())
}

/// The seed's network after ten pings (nine through the tunnel).
pub fn established() -> SeedNetwork {
    let mut s = network();
    s.ping(10, Duration::from_secs(1));
    s.net.run_for(Duration::from_secs(12), 100_000);
    assert_eq!(s.daphne().unwrap().gateway().tunnels().len(), 1);
    s
}

pub fn gateway_mut(s: &mut SeedNetwork, node: NodeId) -> &mut Gateway {
    s.net.node_mut::<GatewayRouter>(node).unwrap().gateway_mut()
}

/// An echo request with `data`, in a buffer with the room ESP needs.
pub fn echo_in_buffer(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    data: &[u8],
) -> (Vec<u8>, std::ops::Range<usize>) {
    let p =
        packet::icmp_echo(Ipv4Header::new(src, dst, 0).with_ttl(64), false, 1, 1, data).unwrap();
    let mut buf = vec![0u8; Gateway::HEADROOM + p.len() + Gateway::TAILROOM];
    let range = Gateway::HEADROOM..Gateway::HEADROOM + p.len();
    buf[range.clone()].copy_from_slice(&p);
    (buf, range)
}

pub fn count<F: Fn(&Event) -> bool>(events: &[Event], f: F) -> usize {
    events.iter().filter(|e| f(e)).count()
}
