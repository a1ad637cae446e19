//! The context the exchange handlers work in: everything of an
//! [`Endpoint`](crate::Endpoint) except its ISAKMP SA tables. The endpoint
//! owns one [`Context`] next to those tables, so that it can lend a handler
//! the SA a message belongs to and the context at once (two disjoint
//! borrows, no SA taken out of its table around a step).
//!
//! A handler reads the configuration, draws from the entropy source
//! (nonces, Diffie-Hellman keys, SPIs, message IDs, jitter), reserves and
//! installs IPsec SAs, and queues its outputs here: datagrams, events,
//! trace steps and counters. The helpers that used to be spread over the
//! endpoint's exchange code live here, so that the exchanges depend on the
//! context and never on the endpoint.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use isakmp_wire::{
    Cookie, Doi, ExchangeType, HeaderRepr, NotificationRepr, NotifyType, PayloadRepr, ProtocolId,
};

use crate::config::{Config, EspTransform, Phase2Request};
use crate::crypto::{DhGroup, DhKeyPair};
use crate::entropy::{Entropy, Purpose, PurposeRng};
use crate::event::{
    Counters, DeletedBy, DropReason, Event, SaRef, Trace, TraceEvent, UdpEncapsulation,
};
use crate::message::emit_clear;
use crate::types::{Identity, IsakmpSaId, Lifetime, NegotiationId, ProxyId, Role, Spi};

/// A datagram to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// Our address to send from.
    pub local: SocketAddr,
    /// The destination.
    pub remote: SocketAddr,
    /// The UDP payload.
    pub data: Vec<u8>,
}

/// The SA a trace step belongs to: its handle and IOS conn-id (`None`
/// before an SA exists).
pub(crate) type TraceSa = Option<(IsakmpSaId, u32)>;

/// A phase-2 negotiation we initiated.
#[derive(Clone, Debug)]
pub(crate) struct Negotiation {
    pub(crate) request: Phase2Request,
    pub(crate) rekey_of: Option<Spi>,
}

/// An installed pair of IPsec SAs.
#[derive(Clone, Debug)]
pub(crate) struct IpsecSa {
    pub(crate) inbound: Spi,
    pub(crate) outbound: Spi,
    pub(crate) isakmp: IsakmpSaId,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) role: Role,
    pub(crate) transform: EspTransform,
    pub(crate) local_proxy: ProxyId,
    pub(crate) remote_proxy: ProxyId,
    pub(crate) lifetime: Lifetime,
    pub(crate) pfs: Option<DhGroup>,
    pub(crate) hard: Instant,
    pub(crate) soft: Option<Instant>,
    pub(crate) bytes: u64,
    pub(crate) request: Option<Phase2Request>,
    pub(crate) rekey_started: bool,
    /// UDP encapsulation of the pair's ESP, when negotiated.
    pub(crate) udp_encap: Option<UdpEncapsulation>,
}

impl IpsecSa {
    /// This pair as events name it.
    pub(crate) fn sa_ref(&self) -> SaRef {
        SaRef::Ipsec {
            inbound: self.inbound,
            outbound: self.outbound,
        }
    }
}

/// What an exchange handler may use and change besides its own SA.
pub(crate) struct Context {
    pub(crate) config: Arc<Config>,
    pub(crate) rng: Box<dyn Entropy + Send>,
    /// Our phase-2 requests, by handle, until they end.
    pub(crate) negotiations: BTreeMap<NegotiationId, Negotiation>,
    /// Installed IPsec SA pairs, by inbound SPI.
    pub(crate) ipsec: BTreeMap<Spi, IpsecSa>,
    /// Inbound SPIs in use or reserved by a negotiation in progress.
    pub(crate) spis: BTreeSet<u32>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) counters: Counters,
    /// Calendar time: an instant of the caller's clock and the Unix time
    /// it was (certificates' validity is checked against it).
    pub(crate) calendar: Option<(Instant, u64)>,
}

/// How many times an SPI, cookie or message ID is redrawn before giving up.
pub(crate) const MAX_DRAWS: usize = 64;

impl Context {
    /// A context with nothing negotiated and nothing queued.
    pub(crate) fn new(config: Arc<Config>, rng: Box<dyn Entropy + Send>) -> Self {
        Context {
            config,
            rng,
            negotiations: BTreeMap::new(),
            ipsec: BTreeMap::new(),
            spis: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
            calendar: None,
        }
    }

    /// The Unix time at `now`, from the caller's calendar anchor.
    pub(crate) fn unix_time(&self, now: Instant) -> Option<u64> {
        let (at, unix) = self.calendar?;
        let secs = now.saturating_duration_since(at).as_secs();
        let before = at.saturating_duration_since(now).as_secs();
        Some(unix.saturating_add(secs).saturating_sub(before))
    }

    // ----- outputs -----

    /// Whether a duplicate may be answered now (at most once per
    /// `duplicate_answer_interval`, so that a link that duplicates
    /// datagrams cannot start a resend storm).
    pub(crate) fn may_answer(&mut self, sent_at: &mut Option<Instant>, now: Instant) -> bool {
        let interval = self.config.limits.duplicate_answer_interval;
        if sent_at.is_some_and(|t| now.saturating_duration_since(t) < interval) {
            self.counters.duplicates_suppressed =
                self.counters.duplicates_suppressed.saturating_add(1);
            return false;
        }
        *sent_at = Some(now);
        self.counters.duplicates_answered = self.counters.duplicates_answered.saturating_add(1);
        true
    }

    /// Counts and reports a dropped input.
    pub(crate) fn drop_input(&mut self, peer: SocketAddr, reason: DropReason) {
        self.counters.count(&reason);
        self.push_capped_event(Event::InputDropped { reason, peer });
    }

    /// Queues an event anyone can cause by sending datagrams, unless
    /// `max_queued_events` are waiting (a caller that never drains events
    /// must not let a flood grow the queue).
    fn push_capped_event(&mut self, event: Event) {
        if self.events.len() >= self.config.limits.max_queued_events {
            self.counters.events_dropped = self.counters.events_dropped.saturating_add(1);
        } else {
            self.events.push_back(event);
        }
    }

    /// Queues a datagram, unless `max_queued_transmits` are waiting.
    pub(crate) fn transmit(&mut self, local: SocketAddr, remote: SocketAddr, data: Vec<u8>) {
        // On the NAT-T port every IKE message follows the non-ESP marker
        // (RFC 3948 s.2.2).
        let data = if local.port() == self.config.nat_t.port {
            isakmp_wire::nat_t::with_marker(&data)
        } else {
            data
        };
        self.queue_datagram(local, remote, data);
    }

    /// Sends a NAT keepalive (RFC 3948 s.2.3): the one byte 0xFF, no
    /// marker.
    pub(crate) fn send_keepalive(&mut self, local: SocketAddr, remote: SocketAddr) {
        self.counters.keepalives_sent = self.counters.keepalives_sent.saturating_add(1);
        self.queue_datagram(local, remote, vec![isakmp_wire::nat_t::NAT_KEEPALIVE]);
    }

    /// Queues a UDP payload as it is.
    fn queue_datagram(&mut self, local: SocketAddr, remote: SocketAddr, data: Vec<u8>) {
        if self.transmits.len() >= self.config.limits.max_queued_transmits {
            self.counters.transmits_dropped = self.counters.transmits_dropped.saturating_add(1);
            return;
        }
        self.counters.sent = self.counters.sent.saturating_add(1);
        self.transmits.push_back(Transmit {
            local,
            remote,
            data,
        });
    }

    /// Reports a trace step (when tracing is on).
    pub(crate) fn trace(&mut self, sa: TraceSa, event: TraceEvent) {
        if self.config.trace {
            self.push_capped_event(Event::Trace(Trace {
                sa: sa.map(|s| s.0),
                conn_id: sa.map_or(0, |s| s.1),
                event,
            }));
        }
    }

    /// Traces held steps in order, under one SA context.
    pub(crate) fn trace_all(&mut self, sa: TraceSa, events: Vec<TraceEvent>) {
        for event in events {
            self.trace(sa, event);
        }
    }

    /// Whether tracing is on (steps that cost work to describe are only
    /// described then).
    pub(crate) fn tracing(&self) -> bool {
        self.config.trace
    }

    /// Reports a weak algorithm in use on an SA.
    pub(crate) fn weak(&mut self, sa: SaRef, algorithm: String) {
        self.events
            .push_back(Event::WeakAlgorithm { sa, algorithm });
    }

    /// Sends an unprotected Informational with one notification.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_clear_notify_to(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        icookie: Cookie,
        rcookie: Cookie,
        notify: NotifyType,
        protocol: ProtocolId,
        spi: &[u8],
        ctx: TraceSa,
    ) {
        let mut mid = [0u8; 4];
        self.fill(Purpose::MessageId, &mut mid);
        let header = HeaderRepr {
            initiator_cookie: icookie,
            responder_cookie: rcookie,
            exchange_type: ExchangeType::INFORMATIONAL,
            message_id: u32::from_be_bytes(mid),
            ..Default::default()
        };
        let n = PayloadRepr::Notification(NotificationRepr {
            doi: Doi::IPSEC,
            protocol,
            notify_type: notify,
            spi,
            data: &[],
        });
        if let Ok(bytes) = emit_clear(header, vec![n]) {
            self.trace(ctx, TraceEvent::NotifySent(notify));
            self.transmit(local, remote, bytes);
        }
    }

    // ----- entropy -----

    /// Fills `out` from the entropy source.
    pub(crate) fn fill(&mut self, purpose: Purpose, out: &mut [u8]) {
        self.rng.fill(purpose, out);
    }

    /// A nonce of the configured length (8 to 256 bytes, RFC 2409 s.5).
    pub(crate) fn nonce(&mut self) -> Vec<u8> {
        let len = self.config.nonce_len.clamp(8, 256);
        let mut n = vec![0u8; len];
        self.fill(Purpose::Nonce, &mut n);
        n
    }

    /// A fresh Diffie-Hellman key pair.
    pub(crate) fn dh(&mut self, group: DhGroup) -> DhKeyPair {
        let mut rng = PurposeRng {
            entropy: &mut *self.rng,
            purpose: Purpose::DhPrivate,
        };
        DhKeyPair::generate(group, &mut rng)
    }

    /// An 8-byte cookie, not zero and not `used`.
    pub(crate) fn new_cookie_in(&mut self, used: impl Fn(Cookie) -> bool) -> Option<Cookie> {
        for _ in 0..MAX_DRAWS {
            let mut c = [0u8; 8];
            self.fill(Purpose::Cookie, &mut c);
            if c != [0; 8] && !used(c) {
                return Some(c);
            }
        }
        None
    }

    /// An inbound SPI: >= 256 (RFC 4303 s.2.1) and not in use; reserved.
    pub(crate) fn new_spi(&mut self) -> Option<Spi> {
        for _ in 0..MAX_DRAWS {
            let mut b = [0u8; 4];
            self.fill(Purpose::Spi, &mut b);
            let v = u32::from_be_bytes(b);
            if v >= 256 && self.spis.insert(v) {
                return Some(Spi(v));
            }
        }
        None
    }

    /// Releases an SPI a negotiation reserved, unless an installed SA
    /// holds it.
    pub(crate) fn release_spi(&mut self, spi: Spi) {
        if !self.ipsec.contains_key(&spi) {
            self.spis.remove(&spi.0);
        }
    }

    /// A message ID not 0 and not `used`.
    pub(crate) fn new_message_id_in(&mut self, used: impl Fn(u32) -> bool) -> Option<u32> {
        for _ in 0..MAX_DRAWS {
            let mut b = [0u8; 4];
            self.fill(Purpose::MessageId, &mut b);
            let v = u32::from_be_bytes(b);
            if v != 0 && !used(v) {
                return Some(v);
            }
        }
        None
    }

    /// A random duration in `0..=max` (rekey fuzz).
    pub(crate) fn jitter(&mut self, max: Duration) -> Duration {
        let mut b = [0u8; 4];
        self.fill(Purpose::Other, &mut b);
        let r = u128::from(u32::from_be_bytes(b));
        let n = max.as_nanos().saturating_mul(r) / u128::from(u32::MAX);
        Duration::from_nanos(u64::try_from(n).unwrap_or(u64::MAX))
    }

    /// Soft-expiry instant for a lifetime starting now.
    pub(crate) fn soft_instant(
        &mut self,
        now: Instant,
        lifetime: Duration,
        margin: Duration,
    ) -> Instant {
        let fuzz = self.config.rekey.fuzz;
        let margin = margin.saturating_add(self.jitter(fuzz)).min(lifetime / 2);
        now + lifetime.saturating_sub(margin)
    }

    // ----- configuration -----

    /// The first retransmission delay.
    pub(crate) fn first_delay(&self) -> Duration {
        let r = &self.config.retransmit;
        r.delay(0).unwrap_or(r.final_wait)
    }

    /// Our phase-1 identity on `local`.
    pub(crate) fn local_identity(&self, local: SocketAddr) -> Identity {
        match &self.config.identity {
            crate::config::LocalIdentity::Address => Identity::Address(local.ip()),
            crate::config::LocalIdentity::Fixed(i) => i.clone(),
        }
    }

    /// Our ID payload for `identity` (IDii/IDir) with the configured
    /// protocol and port.
    pub(crate) fn id_payload<'i>(&self, identity: &'i Identity) -> PayloadRepr<'i> {
        let (proto, port) = self.config.identity_protocol_port;
        PayloadRepr::Id(identity.to_id(proto, port))
    }

    // ----- IPsec SAs -----

    /// Installs a negotiated SA pair.
    pub(crate) fn install_ipsec(&mut self, s: IpsecSa) {
        self.spis.insert(s.inbound.0);
        self.ipsec.insert(s.inbound, s);
    }

    /// Removes an installed SA pair, its inbound SPI free again.
    pub(crate) fn take_ipsec(&mut self, inbound: Spi) -> Option<IpsecSa> {
        let s = self.ipsec.remove(&inbound)?;
        self.spis.remove(&s.inbound.0);
        Some(s)
    }

    /// Forgets an IPsec SA without telling the peer (the peer deleted it,
    /// or is gone) and reports it deleted by `by`.
    pub(crate) fn forget_ipsec(&mut self, inbound: Spi, by: DeletedBy) {
        if let Some(s) = self.take_ipsec(inbound) {
            self.events.push_back(Event::Deleted {
                sa: s.sa_ref(),
                peer: s.remote,
                by,
            });
        }
    }
}
