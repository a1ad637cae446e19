//! Entry points for the fuzz targets (`fuzz/fuzz_targets/ike_*.rs`) and the
//! corpus replay test (`tests/tests/fuzz_corpus_ike.rs`): each takes the
//! fuzzer's bytes, drives [`Endpoint`]s with them, and panics only when an
//! invariant breaks. The caller passes the clock's base instant (the crate
//! reads no clock).
//!
//! - [`responder`]: a responder endpoint (the seed's fred: IOS defaults,
//!   PSK abc123, deterministic entropy) fed a sequence of datagrams and
//!   timeouts. Framing: records `[ctl u8][len u16 BE][bytes]`; `ctl` bit 0
//!   advances the clock by 11 s (retransmission timers) before the
//!   datagram; bit 1 sends it from the peer's port 4500, bit 3 from a
//!   NAT's port (40001); bit 2 delivers it to our NAT-T port 4500, where
//!   the non-ESP marker, keepalives, ESP and the float are read. Because the endpoint is
//!   the same as in the seed test, the seed's initiator messages replay a
//!   whole Main Mode and Quick Mode.
//! - [`ops`]: two endpoints and an in-memory link, driven by an operation
//!   sequence (initiate, deliver, drop, duplicate, mutate, advance time,
//!   delete, DPD, report traffic, inject). Invariants: every pair of IPsec
//!   SAs both sides report for the same message ID and SPIs has the same
//!   keys crosswise; no SPI below 256; counters never exceed inputs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::IsakmpPolicy;
use crate::config::{Config, Phase2Policy, Phase2Request, TransformSet};
use crate::crypto::{DhGroup, EncryptionAlgorithm, HashAlgorithm};
use crate::endpoint::Endpoint;
use crate::entropy::{Purpose, ScriptedEntropy};
use crate::event::{Event, Phase2Established};
use crate::types::{Lifetime, ProxyId, Spi};

/// The seed's addresses.
const DAPHNE: &str = "11.11.11.1:500";
const FRED: &str = "11.11.11.2:500";

fn addr(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 500)))
}

fn seed_config(local: [u8; 4], remote: [u8; 4]) -> Config {
    let mut c = Config::ios_defaults().with_psk_for_address(
        b"abc123",
        std::net::IpAddr::from([0, 0, 0, 0]),
        0,
    );
    c.trace = true;
    c.phase2_policies.push(Phase2Policy {
        peer: None,
        local_proxy: ProxyId::subnet(local.into(), 24),
        remote_proxy: ProxyId::subnet(remote.into(), 24),
        transform_sets: vec![TransformSet::ios_seed()],
        pfs: None,
        lifetime: Lifetime::IOS_IPSEC,
    });
    c
}

/// The seed's fred, exactly as in `ike-sm/tests/common` (config and
/// entropy), so that recorded initiator messages replay.
#[must_use]
pub fn seed_fred() -> Endpoint {
    use rand_core::SeedableRng;
    Endpoint::new(
        Arc::new(seed_config([12, 12, 12, 0], [13, 13, 13, 0])),
        Box::new(
            ScriptedEntropy::new(rand_chacha::ChaCha20Rng::from_seed([2; 32]))
                .with(Purpose::Spi, &0xA479_0FA0u32.to_be_bytes()),
        ),
    )
}

/// The seed's Daphne, exactly as in `ike-sm/tests/common` (config and
/// entropy: Quick Mode M-ID 409419560, SPI 0xF800D61F).
#[must_use]
pub fn seed_daphne() -> Endpoint {
    use rand_core::SeedableRng;
    Endpoint::new(
        Arc::new(seed_config([13, 13, 13, 0], [12, 12, 12, 0])),
        Box::new(
            ScriptedEntropy::new(rand_chacha::ChaCha20Rng::from_seed([1; 32]))
                .with(Purpose::MessageId, &409_419_560u32.to_be_bytes())
                .with(Purpose::Spi, &0xF800_D61Fu32.to_be_bytes()),
        ),
    )
}

/// What a run did (for the corpus replay's assertions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Datagrams fed.
    pub fed: u64,
    /// Phase-1 SAs established.
    pub phase1: usize,
    /// IPsec SA pairs established.
    pub phase2: usize,
}

/// Drains an endpoint, checking what every event may say.
fn drain(
    ep: &mut Endpoint,
    summary: &mut Summary,
    sink: &mut Vec<Phase2Established>,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(t) = ep.poll_transmit() {
        // A NAT keepalive is one byte; anything else is at least a header.
        assert!(
            t.data == [isakmp_wire::nat_t::NAT_KEEPALIVE] || t.data.len() >= 28,
            "we never send less than a header"
        );
        out.push(t.data);
    }
    while let Some(e) = ep.poll_event() {
        match e {
            Event::Phase1Established(_) => summary.phase1 += 1,
            Event::Phase2Established(p) => {
                assert!(
                    p.inbound.spi.0 >= 256 && p.outbound.spi.0 >= 256,
                    "reserved SPI"
                );
                assert_eq!(
                    p.inbound.encryption_key.len(),
                    p.transform.encryption.keymat_len()
                );
                summary.phase2 += 1;
                sink.push(*p);
            }
            _ => {}
        }
    }
    assert!(ep.counters().dropped() <= ep.counters().received);
    out
}

/// The responder target (see the module documentation).
pub fn responder(base: Instant, data: &[u8]) -> Summary {
    let mut ep = seed_fred();
    let mut now = base;
    let mut summary = Summary::default();
    let mut sink = Vec::new();
    let mut rest = data;
    while let [ctl, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let take = len.min(tail.len());
        let (msg, next) = tail.split_at(take);
        rest = next;
        if ctl & 1 != 0 {
            now += Duration::from_secs(11);
            ep.handle_timeout(now);
        }
        // Bit 1: the NAT-T port on the peer's side, bit 3: a NAT's port
        // (a float, or a mapping that changed); bit 2: our NAT-T port
        // (the non-ESP marker, keepalives, ESP, the float).
        let from = match (ctl & 2 != 0, ctl & 8 != 0) {
            (_, true) => addr("11.11.11.1:40001"),
            (true, false) => addr("11.11.11.1:4500"),
            (false, false) => addr(DAPHNE),
        };
        let local = if ctl & 4 != 0 {
            addr("11.11.11.2:4500")
        } else {
            addr(FRED)
        };
        ep.handle_datagram(now, local, from, msg);
        summary.fed += 1;
        drain(&mut ep, &mut summary, &mut sink);
        if let Some(t) = ep.poll_timeout() {
            // Timers are never in the past after handling an input.
            assert!(t >= base);
        }
    }
    assert_eq!(ep.counters().received, summary.fed);
    summary
}

/// A little world of two endpoints and a link.
struct World {
    a: Endpoint,
    b: Endpoint,
    now: Instant,
    /// (to b?, bytes)
    link: Vec<(bool, Vec<u8>)>,
    a_sas: Vec<Phase2Established>,
    b_sas: Vec<Phase2Established>,
    summary: Summary,
}

fn lab(seed: u8) -> Endpoint {
    use rand_core::SeedableRng;
    let mut c =
        Config::default().with_psk_for_address(b"k", std::net::IpAddr::from([0, 0, 0, 0]), 0);
    // Fast weak algorithms: the fuzzer explores states, not crypto.
    c.policies = vec![IsakmpPolicy {
        encryption: EncryptionAlgorithm::DesCbc,
        hash: HashAlgorithm::Md5,
        group: DhGroup::Modp768,
        ..IsakmpPolicy::new(1)
    }];
    c.dpd = Some(crate::config::DpdConfig::default());
    c.aggressive_mode = crate::config::AggressiveModePolicy::ANSWER_ALL;
    c.retransmit = crate::config::RetransmitSchedule::exponential(Duration::from_secs(2), 3);
    c.phase2_policies.push(Phase2Policy {
        peer: None,
        local_proxy: ProxyId::subnet([0, 0, 0, 0].into(), 0),
        remote_proxy: ProxyId::subnet([0, 0, 0, 0].into(), 0),
        transform_sets: vec![TransformSet::ios_seed()],
        pfs: Some(DhGroup::Modp768),
        lifetime: Lifetime {
            seconds: 300,
            kilobytes: Some(1000),
        },
    });
    Endpoint::new(
        Arc::new(c),
        Box::new(rand_chacha::ChaCha20Rng::from_seed([seed; 32])),
    )
}

impl World {
    fn pump(&mut self) {
        let mut sink_a = Vec::new();
        let mut sink_b = Vec::new();
        for d in drain(&mut self.a, &mut self.summary, &mut sink_a) {
            self.link.push((true, d));
        }
        for d in drain(&mut self.b, &mut self.summary, &mut sink_b) {
            self.link.push((false, d));
        }
        self.a_sas.extend(sink_a);
        self.b_sas.extend(sink_b);
        // Bound the link.
        if self.link.len() > 64 {
            self.link.drain(..self.link.len() - 64);
        }
    }

    fn deliver(&mut self, i: usize) {
        if i >= self.link.len() {
            return;
        }
        let (to_b, d) = self.link.remove(i);
        self.summary.fed += 1;
        let (a, b) = (addr("10.0.0.1:500"), addr("10.0.0.2:500"));
        if to_b {
            self.b.handle_datagram(self.now, b, a, &d);
        } else {
            self.a.handle_datagram(self.now, a, b, &d);
        }
    }

    fn request(&self, n: u8) -> Phase2Request {
        Phase2Request {
            peer: addr("10.0.0.2:500"),
            local: addr("10.0.0.1:500"),
            local_proxy: ProxyId::subnet([192, 168, n % 4, 0].into(), 24),
            remote_proxy: ProxyId::subnet([172, 16, 0, 0].into(), 16),
            transform_sets: vec![TransformSet::ios_seed()],
            pfs: Some(DhGroup::Modp768),
            lifetime: Lifetime {
                seconds: 300,
                kilobytes: Some(1000),
            },
        }
    }

    fn check(&self) {
        for x in &self.a_sas {
            for y in &self.b_sas {
                if x.message_id == y.message_id && x.inbound.spi == y.outbound.spi {
                    assert_eq!(x.inbound, y.outbound, "keys differ for one SA");
                    assert_eq!(x.outbound, y.inbound, "keys differ for one SA");
                    assert_eq!(x.transform, y.transform);
                }
            }
        }
    }
}

fn pick_spi(ep: &Endpoint, now: Instant, n: u8) -> Option<Spi> {
    let sas = ep.ipsec_sas(now);
    if sas.is_empty() {
        return None;
    }
    sas.get(usize::from(n) % sas.len()).map(|s| s.inbound)
}

/// The operation-sequence target (see the module documentation).
pub fn ops(base: Instant, data: &[u8]) -> Summary {
    let mut w = World {
        a: lab(1),
        b: lab(2),
        now: base,
        link: Vec::new(),
        a_sas: Vec::new(),
        b_sas: Vec::new(),
        summary: Summary::default(),
    };
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    for _ in 0..512 {
        let Some(op) = next() else { break };
        let arg = next().unwrap_or(0);
        match op % 12 {
            0 => {
                let r = w.request(arg);
                let _ = w.a.initiate(w.now, r);
            }
            1 => w.deliver(0),
            2 => w.deliver(w.link.len().saturating_sub(1)),
            3 => {
                if !w.link.is_empty() {
                    w.link.remove(usize::from(arg) % w.link.len());
                }
            }
            4 => {
                if let Some(d) = w.link.first().cloned() {
                    w.link.push(d);
                }
            }
            5 => {
                let x = next().unwrap_or(1) | 1;
                if let Some((_, d)) = w.link.first_mut() {
                    let len = d.len().max(1);
                    if let Some(b) = d.get_mut(usize::from(arg) % len) {
                        *b ^= x;
                    }
                }
            }
            6 => {
                w.now += Duration::from_secs(u64::from(arg));
                w.a.handle_timeout(w.now);
                w.b.handle_timeout(w.now);
            }
            7 => {
                let (ep, n) = if arg & 1 == 0 {
                    (&mut w.a, arg)
                } else {
                    (&mut w.b, arg)
                };
                if let Some(spi) = pick_spi(ep, w.now, n >> 1) {
                    let _ = ep.delete_ipsec(w.now, spi);
                }
            }
            8 => {
                let ep = if arg & 1 == 0 { &mut w.a } else { &mut w.b };
                let ids = ep.isakmp_sas(w.now);
                if let Some(s) = ids.get(usize::from(arg >> 1) % ids.len().max(1)) {
                    let _ = ep.delete_isakmp(w.now, s.id);
                }
            }
            9 => {
                if let Some(spi) = pick_spi(&w.a, w.now, arg) {
                    w.a.report_traffic(w.now, spi, u64::from(arg) * 8192);
                }
            }
            10 => {
                let ids = w.a.isakmp_sas(w.now);
                if let Some(s) = ids.first() {
                    let _ = w.a.send_dpd(w.now, s.id);
                }
            }
            _ => {
                let len = usize::from(arg);
                let d: Vec<u8> = (0..len).filter_map(|_| next()).collect();
                let to_b = len & 1 == 0;
                w.link.push((to_b, d));
            }
        }
        w.pump();
    }
    // Let the link drain (bounded).
    for _ in 0..256 {
        if w.link.is_empty() {
            break;
        }
        w.deliver(0);
        w.pump();
    }
    w.check();
    w.summary
}
