//! Cisco Tunnel Endpoint Discovery (TED), Sans-IO: the probe an initiator
//! sends towards a protected host, and the response a router on the path
//! returns from its own IKE address.
//!
//! No specification of TED survives (draft-fluhrer-ted-00, "Tunnel
//! Endpoint Discovery", Cisco, 2001, expired unpublished); the behaviour
//! and the wire format follow `docs/ted-wire.md`, derived from the
//! seed's IOS 12.2 debug trace. Every value that trace does not pin down is
//! a field of [`DiscoveryConfig`] documented as an assumption.
//!
//! # Roles
//!
//! One [`Discovery`] plays both roles, as an IOS router does:
//!
//! - **Initiator.** [`Discovery::handle_trigger`] is called for a plaintext
//!   packet that a `dynamic ... discover` crypto map entry protects while no
//!   SA (and no negotiation) exists; the caller drops the packet. A probe
//!   goes to the packet's destination, from the packet's source, UDP
//!   500 -> 500, carrying this router's IKE address and the local proxy.
//!   There is one pending discovery per (local proxy, destination host):
//!   later triggers for the pair are counted, not probed again. Probes are
//!   retransmitted on IOS's phase-1 schedule (10 s, five times); then the
//!   discovery gives up ([`Event::GaveUp`]) and the pair is held down for a
//!   while. A response is matched by its initiator cookie (the only thing
//!   tying a response from 11.11.11.2 to a probe sent to 12.12.12.13),
//!   checked ([`ResponseDropReason`]) and reported as
//!   [`Event::Discovered`]: the peer to run Main Mode with and the proxies
//!   for Quick Mode.
//! - **Responder.** Stateless apart from a token bucket. A probe for a host
//!   behind this router is answered when a local crypto access list
//!   mirrors it: the probed host falls under a line's source and the
//!   probe's proxy under its destination. The response goes from the crypto
//!   map's IKE address to the address in the probe's first ID ("TED V3"),
//!   echoing the initiator cookie with a fresh responder cookie, and
//!   carries the initiator's proxy followed by the source side of the
//!   mirroring line. Probes are never answered towards a non-unicast
//!   address, towards this router or the network it protects, or beyond
//!   the rate limit ([`ProbeDropReason`]). An answered probe costs one
//!   response, never resent, and no state: the seed's 76-byte probe gets
//!   an 88-byte response (1.16 bytes out per byte in; a test bounds it at
//!   2), at most 20 at once and 10 a second by default ([`RateLimit`]).
//!
//! Probes are unauthenticated, and so are responses: anyone on the path can
//! answer a probe. What a response decides is only whom to run Main Mode
//! with, which then authenticates the peer; the initiator refuses
//! responses whose proxies lie outside its own policy, so that a forged
//! response cannot widen what is negotiated.
//!
//! # Driving it
//!
//! Inputs: [`handle_trigger`](Discovery::handle_trigger),
//! [`handle_datagram`](Discovery::handle_datagram) (every UDP datagram to
//! port 500 addressed to this router or, on a router on the path, to a host
//! behind it; [`Disposition::NotTed`] hands it back for IKE or forwarding),
//! [`handle_timeout`](Discovery::handle_timeout). Outputs, drained until
//! `None` after every input: [`poll_transmit`](Discovery::poll_transmit),
//! then [`poll_event`](Discovery::poll_event); then
//! [`poll_timeout`](Discovery::poll_timeout) says when to call
//! `handle_timeout`.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use std::time::Instant;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use ted::acl::Flow;
//! use ted::discovery::{Datagram, Discovery, DiscoveryConfig, Event, Trigger};
//!
//! let daphne = ted::config::ios::parse(include_str!("../../../vectors/seed/daphne.cfg"))?.config;
//! let fred = ted::config::ios::parse(include_str!("../../../vectors/seed/fred.cfg"))?.config;
//! let mut rng = ChaCha20Rng::seed_from_u64(1);
//! let now = Instant::now();
//! let mut initiator = Discovery::new(DiscoveryConfig::default())?;
//! let mut responder = Discovery::new(DiscoveryConfig::default())?;
//!
//! // Host 13.13.13.14 pings 12.12.12.13 through Daphne: no SA, so probe.
//! let ping = Flow::icmp(Ipv4Addr::new(13, 13, 13, 14), Ipv4Addr::new(12, 12, 12, 13), 8, 0);
//! let trigger = Trigger::from_config(&daphne, "tedtag", &ping)?;
//! initiator.handle_trigger(now, &mut rng, trigger);
//! let probe = initiator.poll_transmit().expect("a probe");
//! assert_eq!(probe.destination.ip(), &Ipv4Addr::new(12, 12, 12, 13));
//!
//! // fred, on the path, answers from its own address to Daphne's.
//! responder.handle_datagram(now, &mut rng, &fred, Datagram::new(probe.source, probe.destination, &probe.payload));
//! let response = responder.poll_transmit().expect("a response");
//! assert_eq!(response.destination.ip(), &Ipv4Addr::new(11, 11, 11, 1));
//!
//! initiator.handle_datagram(now, &mut rng, &daphne, Datagram::new(response.source, response.destination, &response.payload));
//! let discovered = std::iter::from_fn(|| initiator.poll_event())
//!     .find_map(|e| match e { Event::Discovered(d) => Some(d), _ => None })
//!     .expect("discovered");
//! assert_eq!(discovered.peer, Ipv4Addr::new(11, 11, 11, 2));
//! assert_eq!(discovered.remote_proxy.to_string(), "12.12.12.0/255.255.255.0/0/0");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod config;
mod event;
pub mod policy;
mod trigger;

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use isakmp_wire::{
    Cookie, Header, IdData, IdRepr, Message, MessageRepr, ParseConfig, TedMessage, TedProbe,
    TedProxyNumbering, TedProxyRepr, TedResponse,
};
use rand_core::CryptoRng;

pub use config::{DiscoveryConfig, RateLimit};
pub use event::{
    Discovered, DiscoveryId, Disposition, Event, ProbeAnswer, ProbeDropReason, ProbeInfo,
    ResponseDropReason, Stats, TriggerOutcome,
};
pub use trigger::{Trigger, TriggerError};

pub use crate::transmit::{Transmit, TransmitKind};

use crate::acl::ProxyIdent;
use crate::config::Config;
use config::TokenBucket;
use policy::{id_from_proxy, proxy_covers, proxy_from_id};

/// How many times a fresh cookie is drawn before giving up: a usable RNG
/// never needs a second draw (all-zero or colliding 64-bit values).
const COOKIE_DRAWS: usize = 4;

/// The most bytes a configured vendor ID may have.
pub const MAX_VENDOR_ID_LEN: usize = 255;

/// A [`DiscoveryConfig`] that cannot work.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The exchange type is outside RFC 2408's private-use range.
    #[error("TED exchange type {0} is outside the private-use range 240-255 (RFC 2408 s.3.1)")]
    ExchangeType(u8),
    /// A vendor ID is empty or longer than [`MAX_VENDOR_ID_LEN`].
    #[error("vendor ID of {len} bytes: must be 1 to 255 bytes")]
    VendorIdLength {
        /// Its length.
        len: usize,
    },
    /// A limit is zero.
    #[error("{what} must be at least 1")]
    ZeroLimit {
        /// Which limit.
        what: &'static str,
    },
}

/// A datagram handed to [`Discovery::handle_datagram`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Datagram<'a> {
    /// IP source and UDP source port.
    pub source: SocketAddrV4,
    /// IP destination and UDP destination port.
    pub destination: SocketAddrV4,
    /// The UDP payload.
    pub payload: &'a [u8],
    /// The crypto map of the interface it arrived on, if known: a probe is
    /// then checked against that map only; otherwise against every crypto
    /// map applied to an interface.
    pub crypto_map: Option<&'a str>,
}

impl<'a> Datagram<'a> {
    /// A datagram with no ingress crypto map given.
    pub fn new(source: SocketAddrV4, destination: SocketAddrV4, payload: &'a [u8]) -> Self {
        Self {
            source,
            destination,
            payload,
            crypto_map: None,
        }
    }

    /// The same datagram, arrived on an interface using crypto map `map`.
    #[must_use]
    pub fn with_crypto_map(mut self, map: &'a str) -> Self {
        self.crypto_map = Some(map);
        self
    }
}

/// A pending discovery, for inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingDiscovery {
    /// The discovery.
    pub id: DiscoveryId,
    /// Its probe's initiator cookie.
    pub cookie: Cookie,
    /// The local proxy.
    pub local_proxy: ProxyIdent,
    /// The probed host.
    pub destination: Ipv4Addr,
    /// Probes sent so far.
    pub probes_sent: u32,
    /// Triggers so far.
    pub triggers: u64,
    /// When it began.
    pub started: Instant,
    /// When it next retransmits or gives up.
    pub deadline: Instant,
}

/// The key of a pending discovery: (local proxy, destination host), in a
/// totally ordered form so that timers fire in a reproducible order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct PairKey {
    proxy_address: Ipv4Addr,
    proxy_mask: Ipv4Addr,
    proxy_protocol: u8,
    proxy_port: u16,
    destination: Ipv4Addr,
}

impl PairKey {
    fn new(local_proxy: &ProxyIdent, destination: Ipv4Addr) -> Self {
        Self {
            proxy_address: local_proxy.address,
            proxy_mask: local_proxy.mask,
            proxy_protocol: local_proxy.protocol.0,
            proxy_port: local_proxy.port,
            destination,
        }
    }
}

#[derive(Clone, Debug)]
struct Pending {
    id: DiscoveryId,
    cookie: Cookie,
    trigger: Trigger,
    probe: Vec<u8>,
    started: Instant,
    last_sent: Instant,
    probes_sent: u32,
    triggers: u64,
    deadline: Instant,
}

/// The TED state machine of one router: initiator and responder.
///
/// See the [module documentation](self) for the protocol and the driver
/// loop.
#[derive(Debug)]
pub struct Discovery {
    config: DiscoveryConfig,
    pending: BTreeMap<PairKey, Pending>,
    by_cookie: BTreeMap<Cookie, PairKey>,
    hold_down: BTreeMap<PairKey, Instant>,
    bucket: TokenBucket,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    stats: Stats,
    next_id: u64,
}

impl Discovery {
    /// A discovery with the given settings.
    pub fn new(config: DiscoveryConfig) -> Result<Self, ConfigError> {
        let exchange = config.exchange_type.0;
        if !(240..=255).contains(&exchange) {
            return Err(ConfigError::ExchangeType(exchange));
        }
        for vid in std::iter::once(&config.vendor_id).chain(config.capability_vendor_id.iter()) {
            if vid.is_empty() || vid.len() > MAX_VENDOR_ID_LEN {
                return Err(ConfigError::VendorIdLength { len: vid.len() });
            }
        }
        for (what, value) in [
            ("max_pending", config.max_pending),
            ("max_queued_transmits", config.max_queued_transmits),
            ("max_queued_events", config.max_queued_events),
        ] {
            if value == 0 {
                return Err(ConfigError::ZeroLimit { what });
            }
        }
        Ok(Self {
            bucket: TokenBucket::new(config.responder_rate),
            config,
            pending: BTreeMap::new(),
            by_cookie: BTreeMap::new(),
            hold_down: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            stats: Stats::default(),
            next_id: 1,
        })
    }

    // --- getters ---

    /// The settings.
    pub fn config(&self) -> &DiscoveryConfig {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The pending discoveries, ordered by (local proxy, destination).
    pub fn pending(&self) -> impl Iterator<Item = PendingDiscovery> + '_ {
        self.pending.values().map(|p| PendingDiscovery {
            id: p.id,
            cookie: p.cookie,
            local_proxy: p.trigger.local_proxy,
            destination: p.trigger.packet_destination,
            probes_sent: p.probes_sent,
            triggers: p.triggers,
            started: p.started,
            deadline: p.deadline,
        })
    }

    /// How many discoveries are pending.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Whether a discovery for the pair is pending.
    pub fn is_pending(&self, local_proxy: &ProxyIdent, destination: Ipv4Addr) -> bool {
        self.pending
            .contains_key(&PairKey::new(local_proxy, destination))
    }

    /// When the hold-down of a pair ends, if it is held down at `now`.
    pub fn held_down_until(
        &self,
        now: Instant,
        local_proxy: &ProxyIdent,
        destination: Ipv4Addr,
    ) -> Option<Instant> {
        self.hold_down
            .get(&PairKey::new(local_proxy, destination))
            .copied()
            .filter(|until| *until > now)
    }

    /// Tokens left in the responder's bucket at `now`.
    pub fn responder_tokens(&mut self, now: Instant) -> u32 {
        self.bucket.available(now)
    }

    /// Whether a UDP payload is a TED message of the configured exchange
    /// type (by its header alone), so that a gateway can route it here
    /// rather than to IKE.
    pub fn is_ted(&self, payload: &[u8]) -> bool {
        Header::read(payload).is_ok_and(|h| h.exchange_type() == self.config.exchange_type)
    }

    // --- inputs ---

    /// A plaintext packet needs a peer (see [`Trigger`]): starts a
    /// discovery, or counts the packet against the pending one for the
    /// same (local proxy, destination host). The caller drops the packet
    /// either way.
    pub fn handle_trigger<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
        trigger: Trigger,
    ) -> TriggerOutcome {
        self.stats.triggers = self.stats.triggers.saturating_add(1);
        let key = PairKey::new(&trigger.local_proxy, trigger.packet_destination);
        if let Some(p) = self.pending.get_mut(&key) {
            p.triggers = p.triggers.saturating_add(1);
            self.stats.triggers_pending = self.stats.triggers_pending.saturating_add(1);
            return TriggerOutcome::Pending {
                id: p.id,
                triggers: p.triggers,
            };
        }
        match self.hold_down.get(&key) {
            Some(until) if *until > now => {
                self.stats.triggers_held_down = self.stats.triggers_held_down.saturating_add(1);
                return TriggerOutcome::HeldDown { until: *until };
            }
            Some(_) => {
                self.hold_down.remove(&key);
            }
            None => {}
        }
        if self.pending.len() >= self.config.max_pending {
            self.stats.triggers_refused = self.stats.triggers_refused.saturating_add(1);
            return TriggerOutcome::TooManyPending;
        }
        let by_cookie = &self.by_cookie;
        let Some(cookie) = fresh_cookie(rng, |c| by_cookie.contains_key(c)) else {
            self.stats.triggers_refused = self.stats.triggers_refused.saturating_add(1);
            return TriggerOutcome::NoCookie;
        };
        let probe = TedProbe {
            initiator_cookie: cookie,
            vendor_id: &self.config.vendor_id,
            initiator_address: self.ike_address(trigger.local_address),
            proxy: id_from_proxy(&trigger.local_proxy),
            extra_vendor_ids: self
                .config
                .capability_vendor_id
                .iter()
                .map(Vec::as_slice)
                .collect(),
        };
        // Fixed-size IDs and vendor IDs of at most 255 bytes (checked in
        // `new`) always fit an ISAKMP message.
        let Ok(bytes) = probe.to_message(self.config.exchange_type).to_vec() else {
            self.stats.triggers_refused = self.stats.triggers_refused.saturating_add(1);
            return TriggerOutcome::NoCookie;
        };
        let id = self.allocate_id();
        let source = SocketAddrV4::new(trigger.packet_source, self.config.ike_port);
        let destination = SocketAddrV4::new(trigger.packet_destination, self.config.ike_port);
        let via = trigger.via.clone();
        self.push_event(Event::Started {
            id,
            cookie,
            source,
            destination,
            trigger: Box::new(trigger.clone()),
        });
        self.send_probe(id, cookie, source, destination, bytes.clone(), 0, via);
        let deadline = now.checked_add(self.wait_after(1)).unwrap_or(now);
        self.by_cookie.insert(cookie, key);
        self.pending.insert(
            key,
            Pending {
                id,
                cookie,
                trigger,
                probe: bytes,
                started: now,
                last_sent: now,
                probes_sent: 1,
                triggers: 1,
                deadline,
            },
        );
        self.stats.discoveries_started = self.stats.discoveries_started.saturating_add(1);
        TriggerOutcome::Started(id)
    }

    /// A UDP datagram for port 500 (see [`Datagram`]). `policy` is the
    /// router's configuration, consulted to answer probes. Returns what
    /// became of it; only [`Disposition::NotTed`] and
    /// [`Disposition::PassOn`] datagrams are the caller's to pass on.
    pub fn handle_datagram<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
        policy: &Config,
        datagram: Datagram<'_>,
    ) -> Disposition {
        if !self.is_ted(datagram.payload) {
            return Disposition::NotTed;
        }
        let parse_config =
            ParseConfig::default().with_ted_exchange_type(Some(self.config.exchange_type));
        let parsed = Message::new_checked(datagram.payload)
            .ok()
            .filter(|m| !m.is_encrypted())
            .and_then(|m| {
                let repr = MessageRepr::parse(&m, &parse_config).ok()?;
                TedMessage::from_message(&repr, self.config.exchange_type).ok()
            });
        match parsed {
            Some(TedMessage::Probe(probe)) => {
                self.handle_probe(now, rng, policy, &datagram, &probe)
            }
            Some(TedMessage::Response(response)) => self.handle_response(now, &datagram, &response),
            None => {
                // Without a well-formed body, the responder cookie tells a
                // probe (zero) from a response.
                let is_probe =
                    Header::read(datagram.payload).is_ok_and(|h| h.responder_cookie() == [0; 8]);
                if is_probe {
                    self.stats.probes_received = self.stats.probes_received.saturating_add(1);
                    self.drop_probe(None, &datagram, ProbeDropReason::Malformed)
                } else {
                    self.stats.responses_received = self.stats.responses_received.saturating_add(1);
                    self.drop_response(None, datagram.source, ResponseDropReason::Malformed)
                }
            }
        }
    }

    /// Retransmits probes and gives up discoveries whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due: Vec<(Instant, PairKey)> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline <= now)
            .map(|(k, p)| (p.deadline, *k))
            .collect();
        due.sort();
        for (_, key) in due {
            let max_probes = self.config.max_probes();
            let Some(p) = self.pending.get_mut(&key) else {
                continue;
            };
            let sent = usize::try_from(p.probes_sent).unwrap_or(usize::MAX);
            if sent < max_probes {
                p.probes_sent = p.probes_sent.saturating_add(1);
                p.last_sent = now;
                let (id, cookie, attempt, bytes) = (
                    p.id,
                    p.cookie,
                    p.probes_sent.saturating_sub(1),
                    p.probe.clone(),
                );
                let source = SocketAddrV4::new(p.trigger.packet_source, self.config.ike_port);
                let destination =
                    SocketAddrV4::new(p.trigger.packet_destination, self.config.ike_port);
                let via = p.trigger.via.clone();
                let wait = wait_after(&self.config, p.probes_sent);
                p.deadline = now.checked_add(wait).unwrap_or(now);
                self.send_probe(id, cookie, source, destination, bytes, attempt, via);
            } else {
                self.give_up(now, key);
            }
        }
        self.hold_down.retain(|_, until| *until > now);
    }

    /// Forgets a pending discovery without an event (the caller found the
    /// peer another way, e.g. an SA came up). Returns whether one was
    /// pending.
    pub fn cancel(&mut self, local_proxy: &ProxyIdent, destination: Ipv4Addr) -> bool {
        let key = PairKey::new(local_proxy, destination);
        match self.pending.remove(&key) {
            Some(p) => {
                self.by_cookie.remove(&p.cookie);
                true
            }
            None => false,
        }
    }

    /// Ends every hold-down (an operator's `clear`).
    pub fn clear_hold_downs(&mut self) {
        self.hold_down.clear();
    }

    // --- outputs ---

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.deadline).min()
    }

    // --- internals ---

    fn ike_address(&self, address: Ipv4Addr) -> IdRepr<'static> {
        IdRepr {
            protocol: 17,
            port: self.config.ike_port,
            data: IdData::Ipv4Addr(address),
        }
    }

    fn allocate_id(&mut self) -> DiscoveryId {
        let id = DiscoveryId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        id
    }

    /// The wait after the `sent`-th probe (1-based): a retransmission
    /// interval while there are some left, then the give-up wait.
    fn wait_after(&self, sent: u32) -> Duration {
        wait_after(&self.config, sent)
    }

    #[allow(clippy::too_many_arguments)]
    fn send_probe(
        &mut self,
        id: DiscoveryId,
        cookie: Cookie,
        source: SocketAddrV4,
        destination: SocketAddrV4,
        payload: Vec<u8>,
        attempt: u32,
        via: Option<crate::config::RouteLookup>,
    ) {
        if self.push_transmit(Transmit {
            source,
            destination,
            payload,
            kind: TransmitKind::TedProbe,
        }) {
            self.stats.probes_sent = self.stats.probes_sent.saturating_add(1);
            if attempt > 0 {
                self.stats.probes_retransmitted = self.stats.probes_retransmitted.saturating_add(1);
            }
            self.push_event(Event::ProbeSent {
                id,
                cookie,
                source,
                destination,
                attempt,
                via,
            });
        }
    }

    fn give_up(&mut self, now: Instant, key: PairKey) {
        let Some(p) = self.pending.remove(&key) else {
            return;
        };
        self.by_cookie.remove(&p.cookie);
        let hold_down_until = if self.config.hold_down.is_zero() {
            None
        } else {
            let until = now.checked_add(self.config.hold_down).unwrap_or(now);
            self.hold_down.retain(|_, u| *u > now);
            while self.hold_down.len() >= self.config.max_hold_down {
                let Some(first) = self
                    .hold_down
                    .iter()
                    .min_by_key(|(k, u)| (**u, **k))
                    .map(|(k, _)| *k)
                else {
                    break;
                };
                self.hold_down.remove(&first);
            }
            if self.config.max_hold_down > 0 {
                self.hold_down.insert(key, until);
            }
            Some(until)
        };
        self.stats.discoveries_failed = self.stats.discoveries_failed.saturating_add(1);
        self.push_event(Event::GaveUp {
            id: p.id,
            cookie: p.cookie,
            local_proxy: p.trigger.local_proxy,
            destination: p.trigger.packet_destination,
            probes_sent: p.probes_sent,
            triggers: p.triggers,
            hold_down_until,
        });
    }

    fn handle_probe<R: CryptoRng + ?Sized>(
        &mut self,
        now: Instant,
        rng: &mut R,
        policy: &Config,
        datagram: &Datagram<'_>,
        probe: &TedProbe<'_>,
    ) -> Disposition {
        self.stats.probes_received = self.stats.probes_received.saturating_add(1);
        let IdData::Ipv4Addr(peer) = probe.initiator_address.data else {
            return self.drop_probe(None, datagram, ProbeDropReason::BadAddressId);
        };
        let proxy = proxy_from_id(&probe.proxy);
        let id = self.allocate_id();
        self.push_event(Event::ProbeReceived(Box::new(ProbeInfo {
            id,
            source: datagram.source,
            destination: datagram.destination,
            cookie: probe.initiator_cookie,
            ios_vendor: isakmp_wire::vendor::is_cisco_ios(probe.vendor_id),
            initiator_address: peer,
            initiator_address_protocol: probe.initiator_address.protocol,
            initiator_address_port: probe.initiator_address.port,
            proxy,
            extra_vendor_ids: probe.extra_vendor_ids.len(),
        })));
        if let Err(reason) = policy::check_peer_address(
            peer,
            proxy.as_ref(),
            self.config.reject_address_in_probe_proxy,
        ) {
            return self.drop_probe(Some(id), datagram, reason);
        }
        let Some(proxy) = proxy else {
            return self.drop_probe(Some(id), datagram, ProbeDropReason::UnsupportedProxy);
        };
        if self.config.require_source_in_proxy && !proxy.contains(*datagram.source.ip()) {
            return self.drop_probe(Some(id), datagram, ProbeDropReason::SourceOutsideProxy);
        }
        let host = *datagram.destination.ip();
        let Some(mirror) = policy::find_mirror(policy, datagram.crypto_map, host, &proxy) else {
            self.drop_probe(Some(id), datagram, ProbeDropReason::NotMirrored);
            return Disposition::PassOn;
        };
        if policy::is_reflection(policy, peer, &mirror.responder_proxy) {
            return self.drop_probe(Some(id), datagram, ProbeDropReason::ReflectedAddress);
        }
        let Some(local) = mirror.local_address else {
            return self.drop_probe(Some(id), datagram, ProbeDropReason::NoLocalAddress);
        };
        if self.transmits.len() >= self.config.max_queued_transmits {
            return self.drop_probe(Some(id), datagram, ProbeDropReason::QueueFull);
        }
        if !self.bucket.try_take(now) {
            return self.drop_probe(Some(id), datagram, ProbeDropReason::RateLimited);
        }
        let Some(responder_cookie) = fresh_cookie(rng, |_| false) else {
            return self.drop_probe(Some(id), datagram, ProbeDropReason::NoCookie);
        };
        let response = TedResponse {
            initiator_cookie: probe.initiator_cookie,
            responder_cookie,
            vendor_id: &self.config.vendor_id,
            responder_address: self.ike_address(local),
            proxy: TedProxyRepr {
                numbering: self.config.proxy_payload_numbering,
                initiator_proxy: Some(probe.proxy),
                responder_proxy: id_from_proxy(&mirror.responder_proxy),
            },
            extra_vendor_ids: Vec::new(),
        };
        let Ok(bytes) = response.to_message(self.config.exchange_type).to_vec() else {
            return self.drop_probe(Some(id), datagram, ProbeDropReason::Malformed);
        };
        let response_source = SocketAddrV4::new(local, self.config.ike_port);
        let response_destination = SocketAddrV4::new(peer, self.config.ike_port);
        self.push_transmit(Transmit {
            source: response_source,
            destination: response_destination,
            payload: bytes,
            kind: TransmitKind::TedResponse,
        });
        self.stats.probes_answered = self.stats.probes_answered.saturating_add(1);
        self.push_event(Event::ProbeAnswered(Box::new(ProbeAnswer {
            id,
            probe_source: datagram.source,
            probed_host: host,
            response_source,
            response_destination,
            initiator_proxy: proxy,
            responder_proxy: mirror.responder_proxy,
            map: mirror.map,
            map_seq: mirror.map_seq,
            template_seq: mirror.template_seq,
            acl: mirror.acl,
            acl_seq: mirror.acl_seq,
            initiator_cookie: probe.initiator_cookie,
            responder_cookie,
            proxy_payload_type: proxy_payload_type(self.config.proxy_payload_numbering),
        })));
        Disposition::Consumed
    }

    fn handle_response(
        &mut self,
        now: Instant,
        datagram: &Datagram<'_>,
        response: &TedResponse<'_>,
    ) -> Disposition {
        self.stats.responses_received = self.stats.responses_received.saturating_add(1);
        let Some(key) = self.by_cookie.get(&response.initiator_cookie).copied() else {
            return self.drop_response(None, datagram.source, ResponseDropReason::UnknownCookie);
        };
        let Some(pending) = self.pending.get(&key) else {
            return self.drop_response(None, datagram.source, ResponseDropReason::UnknownCookie);
        };
        let id = pending.id;
        match check_response(&self.config, pending, datagram.source, response) {
            Err(reason) => self.drop_response(Some(id), datagram.source, reason),
            Ok((peer, remote_proxy)) => {
                let Some(p) = self.pending.remove(&key) else {
                    return Disposition::Consumed;
                };
                self.by_cookie.remove(&p.cookie);
                self.stats.discoveries_completed =
                    self.stats.discoveries_completed.saturating_add(1);
                self.push_event(Event::Discovered(Box::new(Discovered {
                    id,
                    peer,
                    response_source: datagram.source,
                    local_proxy: p.trigger.local_proxy,
                    remote_proxy,
                    echoed_local_proxy: response.proxy.initiator_proxy.is_some(),
                    proxy_payload_type: proxy_payload_type(response.proxy.numbering),
                    ios_vendor: isakmp_wire::vendor::is_cisco_ios(response.vendor_id),
                    extra_vendor_ids: response.extra_vendor_ids.len(),
                    initiator_cookie: response.initiator_cookie,
                    responder_cookie: response.responder_cookie,
                    probes_sent: p.probes_sent,
                    triggers: p.triggers,
                    started: p.started,
                    round_trip: now.saturating_duration_since(p.last_sent),
                    trigger: p.trigger,
                })));
                Disposition::Consumed
            }
        }
    }

    fn drop_probe(
        &mut self,
        id: Option<DiscoveryId>,
        datagram: &Datagram<'_>,
        reason: ProbeDropReason,
    ) -> Disposition {
        self.stats.count_probe_drop(reason);
        self.push_event(Event::ProbeDropped {
            id,
            source: datagram.source,
            destination: datagram.destination,
            reason,
        });
        Disposition::Consumed
    }

    fn drop_response(
        &mut self,
        id: Option<DiscoveryId>,
        source: SocketAddrV4,
        reason: ResponseDropReason,
    ) -> Disposition {
        self.stats.count_response_drop(reason);
        self.push_event(Event::ResponseDropped { id, source, reason });
        Disposition::Consumed
    }

    fn push_transmit(&mut self, transmit: Transmit) -> bool {
        if self.transmits.len() >= self.config.max_queued_transmits {
            self.stats.transmits_dropped = self.stats.transmits_dropped.saturating_add(1);
            return false;
        }
        self.transmits.push_back(transmit);
        true
    }

    fn push_event(&mut self, event: Event) {
        if self.events.len() >= self.config.max_queued_events {
            self.stats.events_dropped = self.stats.events_dropped.saturating_add(1);
            return;
        }
        self.events.push_back(event);
    }
}

/// The wait after the `sent`-th probe (1-based).
fn wait_after(config: &DiscoveryConfig, sent: u32) -> Duration {
    usize::try_from(sent)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| config.retransmit_intervals.get(i))
        .copied()
        .unwrap_or(config.give_up_after)
}

/// The payload number a proxy payload numbering stands for.
fn proxy_payload_type(numbering: TedProxyNumbering) -> isakmp_wire::PayloadType {
    match numbering {
        TedProxyNumbering::Primary => isakmp_wire::ted::TED_PROXY_PAYLOAD_TYPE,
        TedProxyNumbering::Alternate => isakmp_wire::ted::TED_PROXY_PAYLOAD_TYPE_ALT,
    }
}

/// A non-zero cookie that is not `in_use`, from at most [`COOKIE_DRAWS`]
/// draws.
fn fresh_cookie<R: CryptoRng + ?Sized>(
    rng: &mut R,
    in_use: impl Fn(&Cookie) -> bool,
) -> Option<Cookie> {
    (0..COOKIE_DRAWS).find_map(|_| {
        let mut cookie = [0u8; 8];
        rng.fill_bytes(&mut cookie);
        (cookie != [0; 8] && !in_use(&cookie)).then_some(cookie)
    })
}

/// The checks of a response that matched a pending probe by cookie: the
/// peer and the remote proxy, or why not.
fn check_response(
    config: &DiscoveryConfig,
    pending: &Pending,
    source: SocketAddrV4,
    response: &TedResponse<'_>,
) -> Result<(Ipv4Addr, ProxyIdent), ResponseDropReason> {
    if response.responder_cookie == [0; 8] {
        return Err(ResponseDropReason::ZeroResponderCookie);
    }
    let IdData::Ipv4Addr(peer) = response.responder_address.data else {
        return Err(ResponseDropReason::BadAddressId);
    };
    if !policy::is_unicast(peer) {
        return Err(ResponseDropReason::NonUnicastAddress);
    }
    if response.proxy.numbering == TedProxyNumbering::Alternate
        && !config.accept_alternate_proxy_payload
    {
        return Err(ResponseDropReason::AlternateProxyPayload);
    }
    let remote = proxy_from_id(&response.proxy.responder_proxy)
        .ok_or(ResponseDropReason::UnsupportedProxy)?;
    let trigger = &pending.trigger;
    if !remote.contains(trigger.packet_destination) {
        return Err(ResponseDropReason::ProxyMissesHost);
    }
    if let Some(echoed) = &response.proxy.initiator_proxy {
        let echoed = proxy_from_id(echoed).ok_or(ResponseDropReason::UnsupportedProxy)?;
        if echoed != trigger.local_proxy {
            return Err(ResponseDropReason::ProxyMismatch);
        }
    }
    if config.require_remote_proxy_in_acl && !proxy_covers(&trigger.remote_proxy, &remote) {
        return Err(ResponseDropReason::ProxyOutsidePolicy);
    }
    if config.require_response_from_id_address && *source.ip() != peer {
        return Err(ResponseDropReason::SourceMismatch);
    }
    Ok((peer, remote))
}
