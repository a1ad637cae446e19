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
//! - [`certificates`]: [`ops`] between two endpoints that authenticate
//!   with ECDSA certificates and fragment their large messages.

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

/// A link operation of the operation targets: the datagram at `arg`
/// (modulo the link's length) is lost.
fn drop_datagram(link: &mut Vec<(bool, Vec<u8>)>, arg: u8) {
    if !link.is_empty() {
        link.remove(usize::from(arg) % link.len());
    }
}

/// A link operation: the first datagram in flight is duplicated.
fn duplicate_first(link: &mut Vec<(bool, Vec<u8>)>) {
    if let Some(d) = link.first().cloned() {
        link.push(d);
    }
}

/// A link operation: one byte (at `arg`, modulo the length) of the first
/// datagram in flight is XORed with `x`.
fn mutate_first(link: &mut [(bool, Vec<u8>)], arg: u8, x: u8) {
    if let Some((_, d)) = link.first_mut() {
        let len = d.len().max(1);
        if let Some(b) = d.get_mut(usize::from(arg) % len) {
            *b ^= x;
        }
    }
}

/// The operation-sequence target (see the module documentation).
pub fn ops(base: Instant, data: &[u8]) -> Summary {
    ops_between(base, data, lab(1), lab(2))
}

/// The test certificates' PEM files (`tests/data/certs`, made by
/// openssl): the CA, then alice's and bob's P-256 certificates and keys.
const CERT_FILES: [&str; 5] = [
    include_str!("../tests/data/certs/ca.pem"),
    include_str!("../tests/data/certs/alice-p256.pem"),
    include_str!("../tests/data/certs/alice-p256.key"),
    include_str!("../tests/data/certs/bob-p256.pem"),
    include_str!("../tests/data/certs/bob-p256.key"),
];

/// 2027-01-01 in Unix seconds, inside the test certificates' validity.
const CERT_TIME: u64 = 1_798_761_600;

/// A lab endpoint (as in [`ops`]) that authenticates with ECDSA P-256
/// certificates, fragments above 576 bytes and knows the calendar time:
/// `who` 0 is alice, 1 is bob. `None` if the test files do not load (the
/// target then does nothing).
fn lab_cert(seed: u8, who: usize, base: Instant) -> Option<Endpoint> {
    use ike_pki::{Certificate, PrivateKey, SignatureAlgorithm, TrustStore};
    use rand_core::SeedableRng;
    let [ca, ..] = CERT_FILES;
    let cert = Certificate::from_pem(CERT_FILES.get(1 + 2 * who)?).ok()?;
    let key = PrivateKey::from_pem(CERT_FILES.get(2 + 2 * who)?).ok()?;
    let mut c = Config::clone(lab(seed).config());
    c.pre_shared_keys.clear();
    c.policies = vec![IsakmpPolicy {
        encryption: EncryptionAlgorithm::DesCbc,
        hash: HashAlgorithm::Md5,
        group: DhGroup::Modp768,
        auth: crate::config::Phase1Auth::Signature(SignatureAlgorithm::EcdsaP256),
        ..IsakmpPolicy::new(1)
    }];
    c.identity =
        crate::config::LocalIdentity::Fixed(crate::types::Identity::Dn(cert.subject_der()));
    let mut trust = TrustStore::new();
    trust.add_anchor(Certificate::from_pem(ca).ok()?);
    c.pki.trust = trust;
    c.pki.credentials = Some(Arc::new(crate::config::Credentials {
        certificate: cert,
        chain: Vec::new(),
        key,
    }));
    c.fragmentation.fragment_size = 576;
    let mut e = Endpoint::new(
        Arc::new(c),
        Box::new(rand_chacha::ChaCha20Rng::from_seed([seed; 32])),
    );
    e.set_calendar_time(base, CERT_TIME);
    Some(e)
}

/// The operation-sequence target with certificate authentication (ECDSA
/// P-256, fragmented messages): the same operations and invariants as
/// [`ops`], so that mutated, dropped and duplicated CERT, SIG and
/// fragment payloads reach the certificate checks and the reassembler.
pub fn certificates(base: Instant, data: &[u8]) -> Summary {
    match (lab_cert(1, 0, base), lab_cert(2, 1, base)) {
        (Some(a), Some(b)) => ops_between(base, data, a, b),
        _ => Summary::default(),
    }
}

fn ops_between(base: Instant, data: &[u8], a: Endpoint, b: Endpoint) -> Summary {
    let mut w = World {
        a,
        b,
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
            3 => drop_datagram(&mut w.link, arg),
            4 => duplicate_first(&mut w.link),
            5 => mutate_first(&mut w.link, arg, next().unwrap_or(1) | 1),
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

/// Remote access between an XAUTH client (`client`) and server
/// (`server`) over an in-memory link, for the `ike_remote_access` fuzz
/// target and the bad-input tests: the callers' answers (credentials,
/// verdicts, configurations) are operations of their own, and
/// [`RaWorld::inject`] plays either side sending any Attribute payload,
/// sealed with the SA's real keys, so that the attribute parsers behind
/// the HASH are reached.
pub struct RaWorld {
    /// The XAUTH client (phase-1 initiator, 10.0.0.1).
    pub client: Endpoint,
    /// The XAUTH server (phase-1 responder, 10.0.0.2).
    pub server: Endpoint,
    /// The clock.
    pub now: Instant,
    /// Datagrams in flight: (to the server?, bytes).
    pub link: Vec<(bool, Vec<u8>)>,
    /// Every event of the client, in order.
    pub client_events: Vec<Event>,
    /// Every event of the server, in order.
    pub server_events: Vec<Event>,
    /// Server SAs the test accepted credentials on.
    accepted: Vec<crate::types::IsakmpSaId>,
    summary: Summary,
}

fn ra_config(aggressive: bool) -> Config {
    let mut c =
        Config::default().with_psk_for_address(b"k", std::net::IpAddr::from([0, 0, 0, 0]), 0);
    c = c.with_psk_for_identity(b"k", crate::types::Identity::KeyId(b"ragroup".to_vec()));
    c.policies = vec![IsakmpPolicy {
        encryption: EncryptionAlgorithm::DesCbc,
        hash: HashAlgorithm::Md5,
        group: DhGroup::Modp768,
        auth: crate::config::Phase1Auth::XauthInitPreShared,
        ..IsakmpPolicy::new(1)
    }];
    c.identity =
        crate::config::LocalIdentity::Fixed(crate::types::Identity::KeyId(b"ragroup".to_vec()));
    c.aggressive_mode = crate::config::AggressiveModePolicy::ANSWER_ALL;
    c.default_mode = if aggressive {
        crate::types::ExchangeMode::Aggressive
    } else {
        crate::types::ExchangeMode::Main
    };
    c.retransmit = crate::config::RetransmitSchedule::exponential(Duration::from_secs(2), 3);
    c.phase2_policies.push(Phase2Policy {
        peer: None,
        local_proxy: ProxyId::subnet([0, 0, 0, 0].into(), 0),
        remote_proxy: ProxyId::subnet([0, 0, 0, 0].into(), 0),
        transform_sets: vec![TransformSet::ios_seed()],
        pfs: None,
        lifetime: Lifetime {
            seconds: 300,
            kilobytes: None,
        },
    });
    c
}

impl RaWorld {
    /// A client and a server (Main or Aggressive Mode), nothing sent.
    #[must_use]
    pub fn new(base: Instant, aggressive: bool) -> Self {
        use rand_core::SeedableRng;
        let ep = |seed: u8| {
            Endpoint::new(
                Arc::new(ra_config(aggressive)),
                Box::new(rand_chacha::ChaCha20Rng::from_seed([seed; 32])),
            )
        };
        RaWorld {
            client: ep(3),
            server: ep(4),
            now: base,
            link: Vec::new(),
            client_events: Vec::new(),
            server_events: Vec::new(),
            accepted: Vec::new(),
            summary: Summary::default(),
        }
    }

    /// The client starts phase 1 with the server.
    pub fn initiate(&mut self) {
        let _ = self
            .client
            .initiate_phase1(self.now, addr("10.0.0.2:500"), addr("10.0.0.1:500"));
        self.pump();
    }

    /// Moves outputs into the link and events into the logs, checking
    /// the server's invariants: XAUTH completes only on an SA whose
    /// credentials were accepted, and no Quick Mode completes on an SA
    /// before its user did.
    pub fn pump(&mut self) {
        let mut sink = Vec::new();
        for (to_server, ep) in [(false, &mut self.server), (true, &mut self.client)] {
            while let Some(t) = ep.poll_transmit() {
                assert!(t.data.len() >= 28 || t.data == [isakmp_wire::nat_t::NAT_KEEPALIVE]);
                self.link.push((to_server, t.data));
            }
            while let Some(e) = ep.poll_event() {
                if let Event::Phase2Established(p) = &e {
                    sink.push((to_server, (**p).clone()));
                }
                if to_server {
                    self.client_events.push(e);
                } else {
                    self.server_events.push(e);
                }
            }
            assert!(ep.counters().dropped() <= ep.counters().received);
        }
        let completed = |events: &[Event], sa| {
            events
                .iter()
                .any(|e| matches!(e, Event::XauthCompleted { sa: s, .. } if *s == sa))
        };
        for e in &self.server_events {
            if let Event::XauthCompleted { sa, .. } = e {
                assert!(
                    self.accepted.contains(sa),
                    "XAUTH completed without a verdict"
                );
            }
        }
        for (client_side, p) in sink {
            if !client_side {
                assert!(
                    completed(&self.server_events, p.isakmp_sa),
                    "Quick Mode before XAUTH"
                );
                self.summary.phase2 += 1;
            }
        }
        if self.link.len() > 64 {
            self.link.drain(..self.link.len() - 64);
        }
    }

    /// Delivers the datagram at `i` of the link, if any.
    pub fn deliver(&mut self, i: usize) {
        if i >= self.link.len() {
            return;
        }
        let (to_server, d) = self.link.remove(i);
        self.summary.fed += 1;
        let (c, s) = (addr("10.0.0.1:500"), addr("10.0.0.2:500"));
        if to_server {
            self.server.handle_datagram(self.now, s, c, &d);
        } else {
            self.client.handle_datagram(self.now, c, s, &d);
        }
        self.pump();
    }

    /// Delivers everything in flight (bounded).
    pub fn settle(&mut self) {
        for _ in 0..256 {
            if self.link.is_empty() {
                return;
            }
            self.deliver(0);
        }
    }

    /// Answers the client's oldest unanswered XAUTH request with a user
    /// name and password.
    pub fn credentials(&mut self, user: &str, password: &[u8]) {
        let pending: Vec<_> = self
            .client_events
            .iter()
            .filter_map(|e| match e {
                Event::XauthRequested(r) => Some(r.sa),
                _ => None,
            })
            .collect();
        for sa in pending {
            let c = crate::remote_access::XauthCredentials::new(user, password);
            if self.client.xauth_credentials(self.now, sa, &c).is_ok() {
                break;
            }
        }
        self.pump();
    }

    /// The server's caller decides on the credentials waiting for it.
    pub fn verdict(&mut self, accept: bool) {
        let pending: Vec<_> = self
            .server_events
            .iter()
            .filter_map(|e| match e {
                Event::XauthVerify(v) => Some(v.sa),
                _ => None,
            })
            .collect();
        for sa in pending {
            if self.server.xauth_verdict(self.now, sa, accept).is_ok() {
                if accept {
                    self.accepted.push(sa);
                }
                break;
            }
        }
        self.pump();
    }

    /// The server's caller answers a Mode-Config request with `config`
    /// (`None`: refuses).
    pub fn configure(&mut self, config: Option<&crate::remote_access::ModeConfig>) {
        let pending: Vec<_> = self
            .server_events
            .iter()
            .filter_map(|e| match e {
                Event::ModeCfgRequested(r) => Some(r.sa),
                _ => None,
            })
            .collect();
        for sa in pending {
            let r = match config {
                Some(c) => self.server.mode_cfg_reply(self.now, sa, c),
                None => self.server.mode_cfg_refuse(self.now, sa),
            };
            if r.is_ok() {
                break;
            }
        }
        self.pump();
    }

    /// Advances the clock and runs both endpoints' timers.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        self.pump();
    }

    /// Plays one side sending `body` as the Attribute payload of a
    /// Transaction message, sealed with the SA's keys (on the side's
    /// transaction in progress when `mid` is `None`), delivered at once.
    /// Whether a message could be built (an SA must be established).
    pub fn inject(&mut self, from_client: bool, mid: Option<u32>, body: &[u8]) -> bool {
        let sender = if from_client {
            &self.client
        } else {
            &self.server
        };
        let Some(bytes) = sender.seal_transaction(mid, body) else {
            return false;
        };
        self.summary.fed += 1;
        let (c, s) = (addr("10.0.0.1:500"), addr("10.0.0.2:500"));
        if from_client {
            self.server.handle_datagram(self.now, s, c, &bytes);
        } else {
            self.client.handle_datagram(self.now, c, s, &bytes);
        }
        self.pump();
        true
    }

    /// The identifier of the request in progress on one side's SA (the
    /// one an answer must echo).
    #[must_use]
    pub fn identifier(&self, client: bool) -> Option<u16> {
        if client {
            self.client.transaction_identifier()
        } else {
            self.server.transaction_identifier()
        }
    }

    /// The client asks for Quick Mode from `address` to everything.
    pub fn quick_mode(&mut self, address: std::net::Ipv4Addr) {
        let _ = self.client.initiate(
            self.now,
            Phase2Request {
                peer: addr("10.0.0.2:500"),
                local: addr("10.0.0.1:500"),
                local_proxy: ProxyId::host(address.into()),
                remote_proxy: ProxyId::subnet([0, 0, 0, 0].into(), 0),
                transform_sets: vec![TransformSet::ios_seed()],
                pfs: None,
                lifetime: Lifetime {
                    seconds: 300,
                    kilobytes: None,
                },
            },
        );
        self.pump();
    }

    /// Client-side: the configurations received.
    #[must_use]
    pub fn received(&self) -> Vec<crate::remote_access::ModeConfig> {
        self.client_events
            .iter()
            .filter_map(|e| match e {
                Event::ModeCfgReceived { config, .. } => Some((**config).clone()),
                _ => None,
            })
            .collect()
    }
}

/// A lease of `n` DNS servers and split networks (0 to 255).
fn fuzz_lease(n: u8) -> crate::remote_access::ModeConfig {
    use std::net::Ipv4Addr;
    crate::remote_access::ModeConfig {
        address: Some(Ipv4Addr::new(10, 99, 0, n)),
        netmask: Some(Ipv4Addr::new(255, 255, 255, 0)),
        dns: (0..n).map(|i| Ipv4Addr::new(10, 0, 0, i)).collect(),
        split_include: (0..n)
            .map(|i| isakmp_wire::mode_cfg::SplitNetwork {
                address: Ipv4Addr::new(10, i, 0, 0),
                mask: Ipv4Addr::new(255, 255, 0, 0),
                protocol: 0,
                source_port: 0,
                destination_port: 0,
            })
            .collect(),
        banner: Some("b".repeat(usize::from(n) * 20)),
        ..Default::default()
    }
}

/// The remote-access target: `[mode][op arg]...` (see [`RaWorld`]).
pub fn remote_access(base: Instant, data: &[u8]) -> Summary {
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next();
    let mut w = RaWorld::new(base, next().unwrap_or(0) & 1 == 1);
    for _ in 0..512 {
        let Some(op) = next() else { break };
        let arg = next().unwrap_or(0);
        match op % 14 {
            0 => w.initiate(),
            1 => w.deliver(0),
            2 => w.deliver(w.link.len().saturating_sub(1)),
            3 => drop_datagram(&mut w.link, arg),
            4 => duplicate_first(&mut w.link),
            5 => mutate_first(&mut w.link, arg, next().unwrap_or(1) | 1),
            6 => w.advance(Duration::from_secs(u64::from(arg))),
            7 => match arg % 3 {
                0 => w.credentials("alice", b"secret"),
                1 => w.credentials("alice", b"wrong"),
                _ => w.credentials(&"u".repeat(usize::from(arg) * 40), &[0u8; 300]),
            },
            8 => w.verdict(arg & 1 == 0),
            9 => {
                if arg == 255 {
                    w.configure(None);
                } else {
                    w.configure(Some(&fuzz_lease(arg)));
                }
            }
            10 => {
                let sas = w.client.isakmp_sas(w.now);
                if let Some(s) = sas.first() {
                    let _ = w.client.xauth_cancel(w.now, s.id);
                }
                w.pump();
            }
            11 => {
                let ep = if arg & 1 == 0 {
                    &mut w.client
                } else {
                    &mut w.server
                };
                let ids = ep.isakmp_sas(w.now);
                if let Some(s) = ids.first() {
                    let _ = ep.delete_isakmp(w.now, s.id);
                }
                w.pump();
            }
            12 => {
                let len = usize::from(arg);
                let body: Vec<u8> = (0..len).filter_map(|_| next()).collect();
                let mid = match next().unwrap_or(0) {
                    0 => None,
                    m => Some(u32::from(m) << 8 | 1),
                };
                w.inject(len & 1 == 0, mid, &body);
            }
            _ => {
                let address = w
                    .received()
                    .last()
                    .and_then(|c| c.address)
                    .unwrap_or(std::net::Ipv4Addr::new(10, 99, 0, arg));
                w.quick_mode(address);
            }
        }
    }
    w.settle();
    w.summary.phase1 = w
        .client_events
        .iter()
        .filter(|e| matches!(e, Event::Phase1Established(_)))
        .count();
    w.summary
}
