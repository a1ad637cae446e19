//! Shared by the gateway tests: the seed's network, packets, and the
//! gateway behind a router node.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;
use std::time::Instant;

use esp::ip::{self as packet, Ipv4Header};
use netsim::GatewayRouter;
use netsim::NodeId;
use netsim::scenario::{SeedNetwork, SeedSetup, scripted_entropy};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::config::Config;
use ted::gateway::{Event, Gateway, GatewayOptions};

pub use netsim::scenario::{DAPHNE_CFG, FRED_CFG};

pub fn parse(text: &str) -> Config {
    ted::config::ios::parse(text).unwrap().config
}

pub fn options() -> GatewayOptions {
    netsim::scenario::seed_options()
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
    SeedNetwork::seed(
        ChaCha20Rng::seed_from_u64(1),
        ChaCha20Rng::seed_from_u64(2),
        Instant::now(),
    )
    .unwrap()
}

/// The seed's network after ten pings (nine through the tunnel).
pub fn established() -> SeedNetwork {
    let mut s = network();
    s.replay_ping();
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
