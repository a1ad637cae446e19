//! Shared pieces of the discovery tests: the seed's configurations and
//! addresses, a scripted RNG, and drivers that pass datagrams along.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, TryCryptoRng, TryRng};
use ted::acl::Flow;
use ted::config::Config;
use ted::discovery::{Datagram, Discovery, DiscoveryConfig, Event, Transmit, Trigger};

pub const DAPHNE_CFG: &str = include_str!("../../../vectors/seed/daphne.cfg");
pub const FRED_CFG: &str = include_str!("../../../vectors/seed/fred.cfg");

pub const HOST_D1: Ipv4Addr = Ipv4Addr::new(13, 13, 13, 14);
pub const HOST_A1: Ipv4Addr = Ipv4Addr::new(12, 12, 12, 13);
pub const DAPHNE: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 1);
pub const FRED: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 2);

pub fn daphne() -> Config {
    ted::config::ios::parse(DAPHNE_CFG).unwrap().config
}

pub fn fred() -> Config {
    ted::config::ios::parse(FRED_CFG).unwrap().config
}

pub fn config_from(text: &str) -> Config {
    ted::config::ios::parse(text).unwrap().config
}

pub fn sock(ip: Ipv4Addr) -> SocketAddrV4 {
    SocketAddrV4::new(ip, 500)
}

/// An RNG that serves queued bytes first, then a seeded ChaCha20 stream.
pub struct ScriptedRng {
    queued: VecDeque<u8>,
    rest: ChaCha20Rng,
}

impl ScriptedRng {
    pub fn new(seed: u64) -> Self {
        Self {
            queued: VecDeque::new(),
            rest: ChaCha20Rng::seed_from_u64(seed),
        }
    }

    pub fn with(mut self, bytes: &[u8]) -> Self {
        self.queued.extend(bytes);
        self
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.queued.extend(bytes);
    }
}

impl TryRng for ScriptedRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for byte in dst {
            *byte = match self.queued.pop_front() {
                Some(b) => b,
                None => {
                    let mut one = [0u8; 1];
                    rand_core::Rng::fill_bytes(&mut self.rest, &mut one);
                    one[0]
                }
            };
        }
        Ok(())
    }
}

// Test-only: the scripted bytes are chosen by the test, the rest is ChaCha20.
impl TryCryptoRng for ScriptedRng {}

pub fn ping(src: Ipv4Addr, dst: Ipv4Addr) -> Flow {
    Flow::icmp(src, dst, 8, 0)
}

/// The seed's trigger: host 13.13.13.14 pings 12.12.12.13 through Daphne.
pub fn seed_trigger(config: &Config) -> Trigger {
    Trigger::from_config(config, "tedtag", &ping(HOST_D1, HOST_A1)).unwrap()
}

pub fn drain_transmits(d: &mut Discovery) -> Vec<Transmit> {
    std::iter::from_fn(|| d.poll_transmit()).collect()
}

pub fn drain_events(d: &mut Discovery) -> Vec<Event> {
    std::iter::from_fn(|| d.poll_event()).collect()
}

pub fn deliver(
    d: &mut Discovery,
    now: Instant,
    rng: &mut ScriptedRng,
    policy: &Config,
    t: &Transmit,
) -> ted::discovery::Disposition {
    d.handle_datagram(
        now,
        rng,
        policy,
        Datagram::new(t.source, t.destination, &t.payload),
    )
}

pub fn discovery() -> Discovery {
    Discovery::new(DiscoveryConfig::default()).unwrap()
}
