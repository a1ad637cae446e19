//! A deterministic two-endpoint harness on a virtual clock, after
//! quinn-proto's `Pair`: endpoints `a` and `b` exchange datagrams through
//! an in-memory link with a fixed latency; a fault hook can drop,
//! duplicate, delay or rewrite each datagram. Every loop is bounded.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ike_sm::{
    Config, Endpoint, Event, Lifetime, Phase2Established, Phase2Policy, Phase2Request, ProxyId,
    Purpose, ScriptedEntropy, TransformSet,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

/// What happens to one datagram.
pub enum Fault {
    Deliver,
    Drop,
    Duplicate,
    Delay(Duration),
    Replace(Vec<u8>),
}

pub type FaultHook = Box<dyn FnMut(usize, bool, &[u8]) -> Fault>;

/// Rewrites a datagram's (source, destination) as a NAT on the path
/// does: `(from a?, source, destination)` to the pair delivered, or
/// `None` to drop it.
pub type Translate =
    Box<dyn FnMut(bool, SocketAddr, SocketAddr) -> Option<(SocketAddr, SocketAddr)>>;

pub struct Pair {
    pub a: Endpoint,
    pub b: Endpoint,
    pub a_addr: SocketAddr,
    pub b_addr: SocketAddr,
    pub now: Instant,
    pub start: Instant,
    pub latency: Duration,
    /// (deliver at, to b?, from, to, bytes)
    in_flight: Vec<(Instant, bool, SocketAddr, SocketAddr, Vec<u8>)>,
    pub fault: Option<FaultHook>,
    /// Address translation on the path (a NAT), applied after `fault`.
    pub translate: Option<Translate>,
    /// Every datagram sent, in order: (from a?, bytes).
    pub sent: Vec<(bool, Vec<u8>)>,
    pub a_events: Vec<Event>,
    pub b_events: Vec<Event>,
}

pub fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub fn rng(seed: u8) -> ChaCha20Rng {
    ChaCha20Rng::from_seed([seed; 32])
}

impl Pair {
    pub fn new(a: Endpoint, b: Endpoint, a_addr: SocketAddr, b_addr: SocketAddr) -> Self {
        let now = Instant::now();
        Self {
            a,
            b,
            a_addr,
            b_addr,
            now,
            start: now,
            latency: Duration::from_millis(10),
            in_flight: Vec::new(),
            fault: None,
            translate: None,
            sent: Vec::new(),
            a_events: Vec::new(),
            b_events: Vec::new(),
        }
    }

    /// Moves every output into the link (through the fault hook) and every
    /// event into the logs.
    pub fn collect(&mut self) {
        for from_a in [true, false] {
            loop {
                let ep = if from_a { &mut self.a } else { &mut self.b };
                let Some(t) = ep.poll_transmit() else { break };
                let index = self.sent.len();
                self.sent.push((from_a, t.data.clone()));
                let action = match self.fault.as_mut() {
                    Some(f) => f(index, from_a, &t.data),
                    None => Fault::Deliver,
                };
                let at = self.now + self.latency;
                let mut t = t;
                if let Some(tr) = self.translate.as_mut() {
                    match tr(from_a, t.local, t.remote) {
                        Some((local, remote)) => (t.local, t.remote) = (local, remote),
                        None => continue,
                    }
                }
                match action {
                    Fault::Deliver => self.in_flight.push((at, from_a, t.local, t.remote, t.data)),
                    Fault::Drop => {}
                    Fault::Duplicate => {
                        self.in_flight
                            .push((at, from_a, t.local, t.remote, t.data.clone()));
                        self.in_flight.push((at, from_a, t.local, t.remote, t.data));
                    }
                    Fault::Delay(d) => {
                        self.in_flight
                            .push((at + d, from_a, t.local, t.remote, t.data))
                    }
                    Fault::Replace(b) => self.in_flight.push((at, from_a, t.local, t.remote, b)),
                }
            }
            loop {
                let ep = if from_a { &mut self.a } else { &mut self.b };
                let Some(e) = ep.poll_event() else { break };
                if from_a {
                    self.a_events.push(e);
                } else {
                    self.b_events.push(e);
                }
            }
        }
    }

    /// One step: the earliest of a delivery and a timer, if before
    /// `horizon`. Returns false when nothing is due before it.
    pub fn step(&mut self, horizon: Instant) -> bool {
        self.collect();
        let next_packet = self.in_flight.iter().map(|p| p.0).min();
        let ta = self.a.poll_timeout();
        let tb = self.b.poll_timeout();
        let next = [next_packet, ta, tb].into_iter().flatten().min();
        let Some(next) = next else { return false };
        if next > horizon {
            return false;
        }
        self.now = self.now.max(next);
        if next_packet == Some(next) {
            let i = self.in_flight.iter().position(|p| p.0 == next).unwrap();
            let (_, from_a, from, to, data) = self.in_flight.remove(i);
            // The receiver sees (its local = to, remote = from).
            if from_a {
                self.b.handle_datagram(self.now, to, from, &data);
            } else {
                self.a.handle_datagram(self.now, to, from, &data);
            }
        } else {
            if ta.is_some_and(|t| t <= self.now) {
                self.a.handle_timeout(self.now);
            }
            if tb.is_some_and(|t| t <= self.now) {
                self.b.handle_timeout(self.now);
            }
        }
        self.collect();
        true
    }

    /// Runs until nothing is due within `d` of virtual time.
    pub fn drive_for(&mut self, d: Duration) {
        let horizon = self.now + d;
        for _ in 0..100_000 {
            if !self.step(horizon) {
                self.now = self.now.max(horizon);
                return;
            }
        }
        panic!("harness did not settle");
    }

    /// Runs the handshake-scale exchanges: 5 s of virtual time.
    pub fn drive(&mut self) {
        self.drive_for(Duration::from_secs(5));
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    pub fn established(events: &[Event]) -> Vec<&Phase2Established> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Phase2Established(p) => Some(&**p),
                _ => None,
            })
            .collect()
    }
}

/// The seed's addresses.
pub const DAPHNE: &str = "11.11.11.1:500";
pub const FRED: &str = "11.11.11.2:500";

/// The seed's configuration on one router: IOS defaults, PSK abc123 for
/// 0.0.0.0/0, ESP DES + HMAC-MD5 tunnel, 3600 s / 4608000 KB, and as
/// responder a dynamic-map-like policy for `local` <-> `remote`.
pub fn seed_config(local: &str, remote: &str) -> Config {
    let mut c =
        Config::ios_defaults().with_psk_for_address(b"abc123", "0.0.0.0".parse().unwrap(), 0);
    c.trace = true;
    c.phase2_policies.push(Phase2Policy {
        peer: None,
        local_proxy: ProxyId::subnet(local.parse().unwrap(), 24),
        remote_proxy: ProxyId::subnet(remote.parse().unwrap(), 24),
        transform_sets: vec![TransformSet::ios_seed()],
        pfs: None,
        lifetime: Lifetime::IOS_IPSEC,
    });
    c
}

pub fn seed_request() -> Phase2Request {
    Phase2Request {
        peer: addr(FRED),
        local: addr(DAPHNE),
        local_proxy: ProxyId::subnet("13.13.13.0".parse().unwrap(), 24),
        remote_proxy: ProxyId::subnet("12.12.12.0".parse().unwrap(), 24),
        transform_sets: vec![TransformSet::ios_seed()],
        pfs: None,
        lifetime: Lifetime::IOS_IPSEC,
    }
}

/// Daphne and fred with the seed's configs and scripted entropy (Quick
/// Mode M-ID 409419560; SPIs 0xF800D61F for Daphne, 0xA4790FA0 for fred).
pub fn seed_pair() -> Pair {
    let daphne = Endpoint::new(
        Arc::new(seed_config("13.13.13.0", "12.12.12.0")),
        Box::new(
            ScriptedEntropy::new(rng(1))
                .with(Purpose::MessageId, &409_419_560u32.to_be_bytes())
                .with(Purpose::Spi, &0xF800_D61Fu32.to_be_bytes()),
        ),
    );
    let fred = Endpoint::new(
        Arc::new(seed_config("12.12.12.0", "13.13.13.0")),
        Box::new(ScriptedEntropy::new(rng(2)).with(Purpose::Spi, &0xA479_0FA0u32.to_be_bytes())),
    );
    Pair::new(daphne, fred, addr(DAPHNE), addr(FRED))
}

/// Two endpoints with the same config (addresses 10.0.0.1 and 10.0.0.2).
pub fn pair_with(a: Config, b: Config) -> Pair {
    Pair::new(
        Endpoint::new(Arc::new(a), Box::new(rng(11))),
        Endpoint::new(Arc::new(b), Box::new(rng(12))),
        addr("10.0.0.1:500"),
        addr("10.0.0.2:500"),
    )
}

/// A config for `pair_with`: PSK for every peer, policy for any traffic,
/// Aggressive Mode answered (the engine's default refuses it).
pub fn lab_config(psk: &[u8]) -> Config {
    let mut c = Config::default().with_psk_for_address(psk, "0.0.0.0".parse().unwrap(), 0);
    c.aggressive_mode = ike_sm::AggressiveModePolicy::ANSWER_ALL;
    c.phase2_policies.push(Phase2Policy {
        peer: None,
        local_proxy: ProxyId::subnet("0.0.0.0".parse().unwrap(), 0),
        remote_proxy: ProxyId::subnet("0.0.0.0".parse().unwrap(), 0),
        transform_sets: vec![TransformSet::strong()],
        pfs: None,
        lifetime: Lifetime::IOS_IPSEC,
    });
    c
}

pub fn lab_request(sets: Vec<TransformSet>) -> Phase2Request {
    Phase2Request {
        peer: addr("10.0.0.2:500"),
        local: addr("10.0.0.1:500"),
        local_proxy: ProxyId::subnet("192.168.1.0".parse().unwrap(), 24),
        remote_proxy: ProxyId::subnet("192.168.2.0".parse().unwrap(), 24),
        transform_sets: sets,
        pfs: None,
        lifetime: Lifetime::IOS_IPSEC,
    }
}
