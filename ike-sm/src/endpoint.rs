//! The Sans-IO endpoint: every ISAKMP SA, Quick Mode negotiation and IPsec
//! SA record of one local IKE endpoint (ARCHITECTURE.md, "The Sans-IO
//! contract"; quinn-proto's `Endpoint` and `Connection` folded into one,
//! since IKE traffic is small).
//!
//! The exchanges themselves live in sibling modules: [`crate::phase1`]
//! (Main and Aggressive Mode, RFC 2409 s.5), [`crate::quick`] (Quick Mode,
//! s.5.5) and [`crate::info`] (Informational, s.5.7; RFC 3706 DPD).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use isakmp_wire::{Cookie, ExchangeType, HeaderRepr, Message};

use crate::config::{Config, EspTransform, Phase2Request};
use crate::crypto::{DhGroup, DhKeyPair};
use crate::entropy::{Entropy, Purpose, PurposeRng};
use crate::event::{
    Counters, DeletedBy, DropReason, Event, FailReason, LimitDrop, Phase1Suite, SaRef, StateDrop,
    Trace, TraceEvent,
};
use crate::phase1::{Established, P1};
use crate::quick::QmNode;
use crate::types::{
    ExchangeMode, Identity, IsakmpSaId, IsakmpState, Lifetime, NegotiationId, ProxyId, Role, Spi,
};

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

/// A command the endpoint refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// No ISAKMP SA with this handle.
    #[error("no ISAKMP SA {0}")]
    UnknownSa(IsakmpSaId),
    /// No IPsec SA with this SPI (inbound or outbound).
    #[error("no IPsec SA with SPI {0}")]
    UnknownSpi(Spi),
    /// The request offers no transform set.
    #[error("phase-2 request without transform sets")]
    NoTransformSets,
    /// Local and peer addresses are of different families.
    #[error("local and peer addresses are of different families")]
    AddressFamilyMismatch,
    /// The ISAKMP SA is not established.
    #[error("ISAKMP SA {0} is not established")]
    NotEstablished(IsakmpSaId),
    /// No ISAKMP policy is configured.
    #[error("no ISAKMP policy configured")]
    NoPolicy,
    /// A phase-1 cap is reached: half-open SAs or established ISAKMP SAs,
    /// with this peer or in total ([`Limits`](crate::Limits)).
    #[error("too many phase-1 SAs (half-open or established)")]
    LimitReached,
    /// The ISAKMP SA the request would use already runs or queues
    /// [`Limits::phase2_per_sa`](crate::Limits::phase2_per_sa) Quick Modes.
    #[error("ISAKMP SA {0} already runs or queues the most Quick Modes allowed")]
    Phase2LimitReached(IsakmpSaId),
}

/// Retransmission state of our last message of an exchange.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retx {
    pub(crate) next: Instant,
    pub(crate) count: usize,
}

/// DPD bookkeeping of an ISAKMP SA (RFC 3706).
#[derive(Clone, Debug)]
pub(crate) struct Dpd {
    pub(crate) peer_supports: bool,
    pub(crate) next_seq: u32,
    pub(crate) outstanding: Option<(u32, Instant, u32)>,
    pub(crate) last_seq_in: Option<u32>,
    pub(crate) last_heard: Instant,
}

/// One ISAKMP SA (half-open or established).
pub(crate) struct IsakmpSa {
    pub(crate) id: IsakmpSaId,
    pub(crate) conn_id: u32,
    pub(crate) role: Role,
    pub(crate) mode: ExchangeMode,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) icookie: Cookie,
    pub(crate) rcookie: Cookie,
    pub(crate) state: P1,
    pub(crate) last_in: Option<Vec<u8>>,
    pub(crate) last_out: Option<Vec<u8>>,
    pub(crate) retx: Option<Retx>,
    pub(crate) qm: BTreeMap<u32, QmNode>,
    pub(crate) pending: Vec<NegotiationId>,
    pub(crate) dpd: Dpd,
    pub(crate) rekey_started: bool,
    /// INITIAL-CONTACT came with the peer's authentication message.
    pub(crate) initial_contact: bool,
    /// When `last_out` was last sent (answers to duplicates are rate
    /// limited from it).
    pub(crate) sent_at: Option<Instant>,
}

impl IsakmpSa {
    /// A phase-1 SA about to send (initiator) or answer (responder) its
    /// first message: no state yet, nothing sent or received, the peer's
    /// DPD support unknown and the peer last heard from at `now`. The
    /// initiator's responder cookie is zero until MM2/AM2 brings it.
    pub(crate) fn new(
        id: IsakmpSaId,
        conn_id: u32,
        role: Role,
        mode: ExchangeMode,
        (local, remote): (SocketAddr, SocketAddr),
        (icookie, rcookie): (Cookie, Cookie),
        now: Instant,
    ) -> Self {
        IsakmpSa {
            id,
            conn_id,
            role,
            mode,
            local,
            remote,
            icookie,
            rcookie,
            state: P1::Dead,
            last_in: None,
            last_out: None,
            retx: None,
            qm: BTreeMap::new(),
            pending: Vec::new(),
            dpd: Dpd {
                peer_supports: false,
                next_seq: 0,
                outstanding: None,
                last_seq_in: None,
                last_heard: now,
            },
            rekey_started: false,
            initial_contact: false,
            sent_at: None,
        }
    }

    pub(crate) fn established(&self) -> Option<&Established> {
        match &self.state {
            P1::Established(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn is_established(&self) -> bool {
        matches!(self.state, P1::Established(_))
    }

    pub(crate) fn header(&self, exchange: ExchangeType, message_id: u32) -> HeaderRepr {
        HeaderRepr {
            initiator_cookie: self.icookie,
            responder_cookie: self.rcookie,
            exchange_type: exchange,
            message_id,
            ..HeaderRepr::default()
        }
    }

    pub(crate) fn ios_state(&self) -> IsakmpState {
        self.state.ios_state()
    }

    /// The 16-byte SPI of this ISAKMP SA (RFC 2408 s.3.15).
    pub(crate) fn spi16(&self) -> [u8; 16] {
        let mut s = [0u8; 16];
        s[..8].copy_from_slice(&self.icookie);
        s[8..].copy_from_slice(&self.rcookie);
        s
    }
}

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
}

/// A view of an ISAKMP SA, for `show crypto isakmp sa`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IsakmpSaInfo {
    /// Handle.
    pub id: IsakmpSaId,
    /// IOS conn-id.
    pub conn_id: u32,
    /// Our address.
    pub local: SocketAddr,
    /// Peer address.
    pub remote: SocketAddr,
    /// IOS state name.
    pub state: IsakmpState,
    /// Our role.
    pub role: Role,
    /// Main or Aggressive.
    pub mode: ExchangeMode,
    /// Initiator cookie.
    pub initiator_cookie: Cookie,
    /// Responder cookie (zero until known).
    pub responder_cookie: Cookie,
    /// Algorithms, once chosen.
    pub suite: Option<Phase1Suite>,
    /// Time left, once established.
    pub lifetime_remaining: Option<Duration>,
    /// The peer's identity, once authenticated.
    pub peer_identity: Option<Identity>,
    /// Quick Mode nodes in progress.
    pub phase2_in_progress: usize,
    /// Whether the peer announced DPD.
    pub peer_dpd: bool,
}

/// A view of a pair of IPsec SAs, for `show crypto ipsec sa`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IpsecSaInfo {
    /// Our SPI.
    pub inbound: Spi,
    /// Peer's SPI.
    pub outbound: Spi,
    /// The ISAKMP SA that negotiated it.
    pub isakmp_sa: IsakmpSaId,
    /// Our address.
    pub local: SocketAddr,
    /// Peer address.
    pub remote: SocketAddr,
    /// Transform.
    pub transform: EspTransform,
    /// Our traffic.
    pub local_proxy: ProxyId,
    /// Peer traffic.
    pub remote_proxy: ProxyId,
    /// Lifetimes negotiated.
    pub lifetime: Lifetime,
    /// Seconds left.
    pub remaining: Duration,
    /// Kilobytes left, if volume-limited.
    pub remaining_kilobytes: Option<u64>,
    /// PFS group.
    pub pfs: Option<DhGroup>,
    /// Who initiated.
    pub role: Role,
}

/// One local IKEv1 endpoint as a pure state machine.
///
/// # Driving it
///
/// Inputs are [`handle_datagram`](Self::handle_datagram) (a UDP datagram
/// received on port 500, with both addresses),
/// [`handle_timeout`](Self::handle_timeout) and the commands ([`initiate`](Self::initiate),
/// [`delete_ipsec`](Self::delete_ipsec), ...). After **every** input,
/// drain [`poll_transmit`](Self::poll_transmit) and
/// [`poll_event`](Self::poll_event) until both return `None`, then arm a
/// timer for [`poll_timeout`](Self::poll_timeout) and call
/// `handle_timeout` when it fires (calling it early is harmless).
///
/// ```
/// use std::sync::Arc;
/// use std::time::Instant;
/// use ike_sm::{Config, Endpoint, Event};
/// # use rand_core::SeedableRng;
///
/// let config = Arc::new(Config::default());
/// let rng = rand_chacha::ChaCha20Rng::from_seed([1; 32]);
/// let mut endpoint = Endpoint::new(config, Box::new(rng));
/// let now = Instant::now();
/// # let (local, remote): (std::net::SocketAddr, std::net::SocketAddr) =
/// #     ("10.0.0.1:500".parse().unwrap(), "10.0.0.2:500".parse().unwrap());
/// // A datagram arrived (here: garbage, which is counted and dropped).
/// endpoint.handle_datagram(now, local, remote, b"not IKE");
/// while let Some(t) = endpoint.poll_transmit() {
///     // socket.send_to(&t.data, t.remote) from t.local
/// #   let _ = t;
/// }
/// while let Some(event) = endpoint.poll_event() {
///     if let Event::InputDropped { reason, .. } = event {
///         // log it
/// #       let _ = reason;
///     }
/// }
/// let _deadline = endpoint.poll_timeout(); // arm a timer
/// assert_eq!(endpoint.counters().malformed, 1);
/// ```
///
/// # Bad input and floods
///
/// A malformed, unexpected or unauthenticated datagram never changes an
/// established SA: it is counted ([`counters`](Self::counters)), reported
/// as [`Event::InputDropped`] and dropped. A half-open phase-1 negotiation
/// (not yet authenticated) fails when its authentication message does not
/// decrypt or verify (this is how a wrong pre-shared key shows up on both
/// ends: the responder fails and tells the initiator with a notification).
/// Half-open phase-1 SAs are capped per peer address and in total
/// ([`Limits`](crate::Limits)), so a flood of first messages costs bounded
/// memory and leaves established SAs working. The output queues are capped
/// as well ([`Limits::max_queued_transmits`](crate::Limits::max_queued_transmits),
/// [`Limits::max_queued_events`](crate::Limits::max_queued_events)): a
/// caller that drains only one of them, or neither, between inputs cannot
/// be made to grow the other without bound by a flood.
pub struct Endpoint {
    pub(crate) config: Arc<Config>,
    pub(crate) rng: Box<dyn Entropy + Send>,
    pub(crate) sas: BTreeMap<IsakmpSaId, IsakmpSa>,
    /// Our initiator cookies.
    pub(crate) initiated: BTreeMap<Cookie, IsakmpSaId>,
    /// SAs we respond to, by both cookies.
    pub(crate) responded: BTreeMap<(Cookie, Cookie), IsakmpSaId>,
    /// SAs we respond to, by initiator cookie and peer (for retransmitted
    /// first messages, whose responder cookie is zero).
    pub(crate) responded_first: BTreeMap<(Cookie, SocketAddr), IsakmpSaId>,
    pub(crate) negotiations: BTreeMap<NegotiationId, Negotiation>,
    pub(crate) ipsec: BTreeMap<Spi, IpsecSa>,
    /// Inbound SPIs in use or reserved by a negotiation in progress.
    pub(crate) spis: BTreeSet<u32>,
    pub(crate) transmits: VecDeque<Transmit>,
    pub(crate) events: VecDeque<Event>,
    pub(crate) counters: Counters,
    next_sa: u64,
    next_negotiation: u64,
    next_conn_id: u32,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("isakmp_sas", &self.sas.len())
            .field("ipsec_sas", &self.ipsec.len())
            .field("negotiations", &self.negotiations.len())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// How many times an SPI, cookie or message ID is redrawn before giving up.
const MAX_DRAWS: usize = 64;

impl Endpoint {
    /// A new endpoint with a configuration and an entropy source.
    #[must_use]
    pub fn new(config: Arc<Config>, rng: Box<dyn Entropy + Send>) -> Self {
        Self {
            config,
            rng,
            sas: BTreeMap::new(),
            initiated: BTreeMap::new(),
            responded: BTreeMap::new(),
            responded_first: BTreeMap::new(),
            negotiations: BTreeMap::new(),
            ipsec: BTreeMap::new(),
            spis: BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            counters: Counters::default(),
            next_sa: 1,
            next_negotiation: 1,
            next_conn_id: 1,
        }
    }

    // ----- getters -----

    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// Replaces the configuration; negotiations started afterwards use it.
    pub fn set_config(&mut self, config: Arc<Config>) {
        self.config = config;
    }

    /// Counters of received input by cause.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Every ISAKMP SA (`show crypto isakmp sa`).
    #[must_use]
    pub fn isakmp_sas(&self, now: Instant) -> Vec<IsakmpSaInfo> {
        self.sas.values().map(|sa| self.sa_info(sa, now)).collect()
    }

    /// One ISAKMP SA.
    #[must_use]
    pub fn isakmp_sa(&self, id: IsakmpSaId, now: Instant) -> Option<IsakmpSaInfo> {
        self.sas.get(&id).map(|sa| self.sa_info(sa, now))
    }

    fn sa_info(&self, sa: &IsakmpSa, now: Instant) -> IsakmpSaInfo {
        let est = sa.established();
        IsakmpSaInfo {
            id: sa.id,
            conn_id: sa.conn_id,
            local: sa.local,
            remote: sa.remote,
            state: sa.ios_state(),
            role: sa.role,
            mode: sa.mode,
            initiator_cookie: sa.icookie,
            responder_cookie: sa.rcookie,
            suite: sa.state.suite(),
            lifetime_remaining: est.map(|e| e.expires.saturating_duration_since(now)),
            peer_identity: est.map(|e| e.peer_identity.clone()),
            phase2_in_progress: sa.qm.values().filter(|n| !n.is_done()).count(),
            peer_dpd: sa.dpd.peer_supports,
        }
    }

    /// Every installed pair of IPsec SAs (`show crypto ipsec sa`).
    #[must_use]
    pub fn ipsec_sas(&self, now: Instant) -> Vec<IpsecSaInfo> {
        self.ipsec
            .values()
            .map(|s| IpsecSaInfo {
                inbound: s.inbound,
                outbound: s.outbound,
                isakmp_sa: s.isakmp,
                local: s.local,
                remote: s.remote,
                transform: s.transform,
                local_proxy: s.local_proxy,
                remote_proxy: s.remote_proxy,
                lifetime: s.lifetime,
                remaining: s.hard.saturating_duration_since(now),
                remaining_kilobytes: s
                    .lifetime
                    .kilobytes
                    .map(|kb| kb.saturating_sub(s.bytes / 1024)),
                pfs: s.pfs,
                role: s.role,
            })
            .collect()
    }

    /// The entropy source the endpoint draws from. A caller that needs
    /// randomness of its own next to the engine's (`ted`'s gateway: TED
    /// cookies and ESP IVs) draws it here, so that one injected source
    /// serves everything and a scripted run stays reproducible.
    pub fn entropy_mut(&mut self) -> &mut (dyn Entropy + Send) {
        &mut *self.rng
    }

    /// The phase-1 encryption key Ka of an established ISAKMP SA (SKEYID_e
    /// expanded to the cipher's key length, RFC 2409 Appendix B), with the
    /// SA's initiator cookie: what Wireshark's `ikev1_decryption_table`
    /// needs to decrypt a capture. A secret: for explicit key logging only
    /// (the caller decides to export it, as with TLS's SSLKEYLOGFILE).
    /// `None` while the SA is not established.
    #[must_use]
    pub fn export_phase1_key(
        &self,
        id: IsakmpSaId,
    ) -> Option<(Cookie, crate::crypto::SecretBytes)> {
        let sa = self.sas.get(&id)?;
        let est = sa.established()?;
        Some((sa.icookie, est.keys.encryption_key(est.suite.encryption)))
    }

    /// Reserves the next IOS conn-id (a caller that creates SAs of its own,
    /// such as `ted`'s discovery SA, numbers them from the same sequence).
    pub fn next_conn_id(&mut self) -> u32 {
        let id = self.next_conn_id;
        self.next_conn_id = self.next_conn_id.wrapping_add(1).max(1);
        id
    }

    // ----- outputs -----

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) wants to run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut at = |x: Instant| t = Some(t.map_or(x, |t| t.min(x)));
        for sa in self.sas.values() {
            if let Some(r) = sa.retx {
                at(r.next);
            }
            for node in sa.qm.values() {
                if let Some(x) = node.deadline() {
                    at(x);
                }
            }
            if let Some(e) = sa.established() {
                at(e.expires);
                if let Some(s) = e.soft
                    && !sa.rekey_started
                {
                    at(s);
                }
                if let Some(x) = self.dpd_deadline(sa) {
                    at(x);
                }
            }
        }
        for s in self.ipsec.values() {
            at(s.hard);
            if let (Some(x), false) = (s.soft, s.rekey_started) {
                at(x);
            }
        }
        t
    }

    // ----- inputs -----

    /// Handles a datagram received from `remote` on our address `local`.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        self.counters.received = self.counters.received.saturating_add(1);
        let message = match Message::new_checked(data) {
            Ok(m) => m,
            Err(e) => return self.drop_input(remote, DropReason::Wire(e)),
        };
        let header = message.header();
        match header.exchange_type() {
            ExchangeType::IDENTITY_PROTECTION | ExchangeType::AGGRESSIVE => {
                self.phase1_input(now, local, remote, &message);
            }
            ExchangeType::QUICK_MODE => self.quick_input(now, remote, &message),
            ExchangeType::INFORMATIONAL => self.info_input(now, remote, &message),
            other => self.drop_input(
                remote,
                DropReason::State(StateDrop::UnsupportedExchange(other)),
            ),
        }
    }

    /// Runs every timer due at `now`: retransmissions, expiries, rekeys,
    /// DPD.
    pub fn handle_timeout(&mut self, now: Instant) {
        let ids: Vec<IsakmpSaId> = self.sas.keys().copied().collect();
        for id in ids {
            self.sa_timers(now, id);
        }
        let spis: Vec<Spi> = self.ipsec.keys().copied().collect();
        for spi in spis {
            self.ipsec_timers(now, spi);
        }
    }

    // ----- commands -----

    /// Negotiates a pair of IPsec SAs for `req`: Quick Mode over an
    /// established ISAKMP SA to `req.peer`, or phase 1 first (Main or
    /// Aggressive per the peer's [`PeerConfig`](crate::PeerConfig)), with
    /// the Quick Mode queued behind a phase 1 already in progress.
    ///
    /// # Errors
    /// [`CommandError`] when the request cannot be negotiated at all;
    /// [`CommandError::Phase2LimitReached`] when the ISAKMP SA it would use
    /// already runs or queues [`Limits::phase2_per_sa`](crate::Limits::phase2_per_sa)
    /// Quick Modes (retry once one has finished).
    pub fn initiate(
        &mut self,
        now: Instant,
        req: Phase2Request,
    ) -> Result<NegotiationId, CommandError> {
        self.initiate_inner(now, req, None)
    }

    pub(crate) fn initiate_inner(
        &mut self,
        now: Instant,
        req: Phase2Request,
        rekey_of: Option<Spi>,
    ) -> Result<NegotiationId, CommandError> {
        if req.transform_sets.is_empty() {
            return Err(CommandError::NoTransformSets);
        }
        if req.peer.is_ipv4() != req.local.is_ipv4() {
            return Err(CommandError::AddressFamilyMismatch);
        }
        let sa = match self.best_established(req.local, req.peer) {
            Some(sa) => Some(sa),
            None => self.phase1_in_progress(req.local, req.peer),
        };
        let sa = match sa {
            Some(sa) => sa,
            None => self.start_phase1(now, req.local, req.peer)?,
        };
        // Quick Modes running on the SA and requests queued behind its
        // phase 1 count against one cap, so that neither grows without
        // bound.
        if let Some(s) = self.sas.get(&sa) {
            let active = s.qm.values().filter(|q| !q.is_done()).count();
            if active.saturating_add(s.pending.len()) >= self.config.limits.phase2_per_sa {
                return Err(CommandError::Phase2LimitReached(sa));
            }
        }
        let id = NegotiationId(self.next_negotiation);
        self.next_negotiation = self.next_negotiation.saturating_add(1);
        self.negotiations.insert(
            id,
            Negotiation {
                request: req,
                rekey_of,
            },
        );
        let established = self.sas.get(&sa).is_some_and(IsakmpSa::is_established);
        if established {
            self.start_quick_mode(now, sa, id);
        } else if let Some(s) = self.sas.get_mut(&sa) {
            s.pending.push(id);
        }
        Ok(id)
    }

    /// Starts phase 1 to `peer` (Main or Aggressive per the peer config).
    ///
    /// # Errors
    /// [`CommandError`] when no policy is configured or the half-open cap
    /// is reached.
    pub fn initiate_phase1(
        &mut self,
        now: Instant,
        peer: SocketAddr,
        local: SocketAddr,
    ) -> Result<IsakmpSaId, CommandError> {
        if peer.is_ipv4() != local.is_ipv4() {
            return Err(CommandError::AddressFamilyMismatch);
        }
        self.start_phase1(now, local, peer)
    }

    /// Deletes the IPsec SA pair with this SPI (ours or the peer's),
    /// telling the peer with a Delete payload if an ISAKMP SA is up.
    ///
    /// # Errors
    /// [`CommandError::UnknownSpi`].
    pub fn delete_ipsec(&mut self, now: Instant, spi: Spi) -> Result<(), CommandError> {
        let inbound = self
            .ipsec
            .values()
            .find(|s| s.inbound == spi || s.outbound == spi)
            .map(|s| s.inbound)
            .ok_or(CommandError::UnknownSpi(spi))?;
        let Some(s) = self.ipsec.remove(&inbound) else {
            return Err(CommandError::UnknownSpi(spi));
        };
        self.spis.remove(&s.inbound.0);
        self.send_ipsec_delete(now, &s);
        self.events.push_back(Event::Deleted {
            sa: SaRef::Ipsec {
                inbound: s.inbound,
                outbound: s.outbound,
            },
            peer: s.remote,
            by: DeletedBy::Local,
        });
        Ok(())
    }

    /// Deletes an ISAKMP SA, telling the peer if it is established. Its
    /// IPsec SAs stay (IKEv1 SAs are independent).
    ///
    /// # Errors
    /// [`CommandError::UnknownSa`].
    pub fn delete_isakmp(&mut self, now: Instant, sa: IsakmpSaId) -> Result<(), CommandError> {
        if !self.sas.contains_key(&sa) {
            return Err(CommandError::UnknownSa(sa));
        }
        self.send_isakmp_delete(now, sa);
        self.remove_sa(
            sa,
            "delete requested",
            Some(DeletedBy::Local),
            FailReason::SaDeleted,
        );
        Ok(())
    }

    /// Reports `bytes` of traffic on the IPsec SA with inbound SPI
    /// `inbound_spi` (either direction of the pair), for kilobyte
    /// lifetimes; inbound traffic also counts as liveness for DPD.
    pub fn report_traffic(&mut self, now: Instant, inbound_spi: Spi, bytes: u64) {
        let Some(s) = self.ipsec.get_mut(&inbound_spi) else {
            return;
        };
        s.bytes = s.bytes.saturating_add(bytes);
        let remote = s.remote;
        for sa in self.sas.values_mut() {
            if sa.remote == remote && bytes > 0 {
                sa.dpd.last_heard = sa.dpd.last_heard.max(now);
            }
        }
        self.ipsec_timers(now, inbound_spi);
    }

    /// Sends a DPD R-U-THERE on an established SA now, returning its
    /// sequence number.
    ///
    /// # Errors
    /// [`CommandError::UnknownSa`], [`CommandError::NotEstablished`].
    pub fn send_dpd(&mut self, now: Instant, sa: IsakmpSaId) -> Result<u32, CommandError> {
        let s = self.sas.get(&sa).ok_or(CommandError::UnknownSa(sa))?;
        if !s.is_established() {
            return Err(CommandError::NotEstablished(sa));
        }
        Ok(self.send_r_u_there(now, sa))
    }

    // ----- shared helpers -----

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

    pub(crate) fn transmit(&mut self, local: SocketAddr, remote: SocketAddr, data: Vec<u8>) {
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

    pub(crate) fn trace(&mut self, sa: Option<(IsakmpSaId, u32)>, event: TraceEvent) {
        if self.config.trace {
            self.push_capped_event(Event::Trace(Trace {
                sa: sa.map(|s| s.0),
                conn_id: sa.map_or(0, |s| s.1),
                event,
            }));
        }
    }

    /// Traces a message received on an SA (IOS's "received packet from"),
    /// with the SA's role and state.
    pub(crate) fn trace_received(&mut self, sa: &IsakmpSa, from: SocketAddr) {
        self.trace(
            Some((sa.id, sa.conn_id)),
            TraceEvent::ReceivedPacket {
                from,
                role: Some(sa.role),
                state: Some(sa.ios_state()),
            },
        );
    }

    /// Traces the first sending of a message on an SA (retransmissions
    /// are traced where they happen), in IOS state `state`.
    pub(crate) fn trace_sending(&mut self, sa: &IsakmpSa, state: IsakmpState) {
        self.trace(
            Some((sa.id, sa.conn_id)),
            TraceEvent::SendingPacket {
                to: sa.remote,
                role: sa.role,
                state,
                retransmission: false,
            },
        );
    }

    /// Traces held steps in order, under one SA context.
    pub(crate) fn trace_all(&mut self, sa: Option<(IsakmpSaId, u32)>, events: Vec<TraceEvent>) {
        for event in events {
            self.trace(sa, event);
        }
    }

    pub(crate) fn tracing(&self) -> bool {
        self.config.trace
    }

    pub(crate) fn fill(&mut self, purpose: Purpose, out: &mut [u8]) {
        self.rng.fill(purpose, out);
    }

    pub(crate) fn nonce(&mut self) -> Vec<u8> {
        let len = self.config.nonce_len.clamp(8, 256);
        let mut n = vec![0u8; len];
        self.fill(Purpose::Nonce, &mut n);
        n
    }

    pub(crate) fn dh(&mut self, group: DhGroup) -> DhKeyPair {
        let mut rng = PurposeRng {
            entropy: &mut *self.rng,
            purpose: Purpose::DhPrivate,
        };
        DhKeyPair::generate(group, &mut rng)
    }

    pub(crate) fn new_cookie(&mut self) -> Option<Cookie> {
        for _ in 0..MAX_DRAWS {
            let mut c = [0u8; 8];
            self.fill(Purpose::Cookie, &mut c);
            if c != [0; 8] && !self.initiated.contains_key(&c) {
                return Some(c);
            }
        }
        None
    }

    /// A responder cookie unique for this initiator cookie.
    pub(crate) fn new_rcookie(&mut self, icookie: Cookie) -> Option<Cookie> {
        for _ in 0..MAX_DRAWS {
            let mut c = [0u8; 8];
            self.fill(Purpose::Cookie, &mut c);
            if c != [0; 8] && !self.responded.contains_key(&(icookie, c)) {
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

    /// A message ID not 0 and not in use on the SA.
    pub(crate) fn new_message_id(&mut self, sa: IsakmpSaId) -> Option<u32> {
        let used: BTreeSet<u32> = self
            .sas
            .get(&sa)
            .map(|s| s.qm.keys().copied().collect())
            .unwrap_or_default();
        self.new_message_id_in(|m| used.contains(&m))
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

    /// Forgets an IPsec SA without telling the peer (the peer deleted it,
    /// or is gone) and reports it deleted by `by`.
    pub(crate) fn forget_ipsec(&mut self, inbound: Spi, by: DeletedBy) {
        if let Some(s) = self.ipsec.remove(&inbound) {
            self.spis.remove(&s.inbound.0);
            self.events.push_back(Event::Deleted {
                sa: SaRef::Ipsec {
                    inbound: s.inbound,
                    outbound: s.outbound,
                },
                peer: s.remote,
                by,
            });
        }
    }

    pub(crate) fn new_sa_id(&mut self) -> IsakmpSaId {
        let id = IsakmpSaId(self.next_sa);
        self.next_sa = self.next_sa.saturating_add(1);
        id
    }

    /// The established SA to a peer with the longest life left.
    pub(crate) fn best_established(
        &self,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Option<IsakmpSaId> {
        self.sas
            .values()
            .filter(|s| s.remote == remote && s.local == local)
            .filter_map(|s| s.established().map(|e| (s.id, e.expires)))
            .max_by_key(|(_, e)| *e)
            .map(|(id, _)| id)
    }

    fn phase1_in_progress(&self, local: SocketAddr, remote: SocketAddr) -> Option<IsakmpSaId> {
        self.sas
            .values()
            .find(|s| {
                s.remote == remote
                    && s.local == local
                    && s.role == Role::Initiator
                    && !s.is_established()
            })
            .map(|s| s.id)
    }

    /// Whether a new phase 1 with `peer` fits the caps on half-open and
    /// established ISAKMP SAs ([`Limits`](crate::Limits)); `Err` names the
    /// cap that is full. One pass over the SAs, which the caps bound.
    pub(crate) fn phase1_admission(&self, peer: IpAddr) -> Result<(), DropReason> {
        let limits = &self.config.limits;
        let (mut half_open, mut half_open_peer) = (0usize, 0usize);
        let (mut established, mut established_peer) = (0usize, 0usize);
        for sa in self.sas.values() {
            let (total, of_peer) = if sa.is_established() {
                (&mut established, &mut established_peer)
            } else {
                (&mut half_open, &mut half_open_peer)
            };
            *total += 1;
            if sa.remote.ip() == peer {
                *of_peer += 1;
            }
        }
        if half_open >= limits.half_open_total || half_open_peer >= limits.half_open_per_peer {
            Err(DropReason::Limit(LimitDrop::HalfOpen))
        } else if established >= limits.established_total
            || established_peer >= limits.established_per_peer
        {
            Err(DropReason::Limit(LimitDrop::IsakmpSa))
        } else {
            Ok(())
        }
    }

    pub(crate) fn weak(&mut self, sa: SaRef, algorithm: String) {
        self.events
            .push_back(Event::WeakAlgorithm { sa, algorithm });
    }

    /// Removes an ISAKMP SA with everything that depends on it: its Quick
    /// Mode nodes fail, queued negotiations fail. `deleted` names who
    /// deleted an established SA (an event); a half-open one reports
    /// `Phase1Failed` with `fail` instead.
    pub(crate) fn remove_sa(
        &mut self,
        id: IsakmpSaId,
        reason: &'static str,
        deleted: Option<DeletedBy>,
        fail: FailReason,
    ) {
        let Some(sa) = self.sas.remove(&id) else {
            return;
        };
        self.trace(
            Some((sa.id, sa.conn_id)),
            TraceEvent::DeletingSa {
                reason,
                state: sa.ios_state(),
            },
        );
        self.initiated.remove(&sa.icookie);
        self.responded.remove(&(sa.icookie, sa.rcookie));
        self.responded_first.remove(&(sa.icookie, sa.remote));
        if sa.is_established() {
            if let Some(by) = deleted {
                self.events.push_back(Event::Deleted {
                    sa: SaRef::Isakmp(id),
                    peer: sa.remote,
                    by,
                });
            }
        } else {
            self.events.push_back(Event::Phase1Failed {
                sa: id,
                peer: sa.remote,
                reason: fail,
            });
        }
        for node in sa.qm.into_values() {
            if let Some(spi) = node.reserved_spi()
                && !self.ipsec.contains_key(&spi)
            {
                self.spis.remove(&spi.0);
            }
            if !node.is_done() {
                let negotiation = node.negotiation;
                if let Some(n) = negotiation {
                    self.negotiations.remove(&n);
                }
                self.events.push_back(Event::Phase2Failed {
                    negotiation,
                    sa: Some(id),
                    peer: sa.remote,
                    reason: FailReason::SaDeleted,
                });
            }
        }
        for n in sa.pending {
            self.negotiations.remove(&n);
            self.events.push_back(Event::Phase2Failed {
                negotiation: Some(n),
                sa: Some(id),
                peer: sa.remote,
                reason: FailReason::Phase1Failed,
            });
        }
    }

    /// Timers of one ISAKMP SA.
    fn sa_timers(&mut self, now: Instant, id: IsakmpSaId) {
        // Phase-1 retransmission.
        let due = self
            .sas
            .get(&id)
            .and_then(|s| s.retx)
            .is_some_and(|r| r.next <= now);
        if due {
            self.phase1_retransmit(now, id);
        }
        self.quick_timers(now, id);
        // Lifetime.
        let (expired, soft_due, role) = match self.sas.get(&id) {
            Some(sa) => match sa.established() {
                Some(e) => (
                    e.expires <= now,
                    !sa.rekey_started && e.soft.is_some_and(|s| s <= now),
                    sa.role,
                ),
                None => (false, false, sa.role),
            },
            None => return,
        };
        if expired {
            let peer = self.sas.get(&id).map(|s| s.remote);
            self.send_isakmp_delete(now, id);
            self.remove_sa(id, "lifetime expired", None, FailReason::SaDeleted);
            if let Some(peer) = peer {
                self.events.push_back(Event::Expired {
                    sa: SaRef::Isakmp(id),
                    peer,
                });
            }
            return;
        }
        if soft_due && (role == Role::Initiator || self.config.rekey.responder_rekeys) {
            self.rekey_phase1(now, id);
        }
        self.dpd_timer(now, id);
    }

    fn rekey_phase1(&mut self, now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        sa.rekey_started = true;
        let (local, remote) = (sa.local, sa.remote);
        let new_sa = self.start_phase1(now, local, remote).ok();
        self.events.push_back(Event::RekeyStarted {
            old: SaRef::Isakmp(id),
            negotiation: None,
            new_sa,
        });
    }

    /// Timers of one IPsec SA (also run when traffic is reported).
    fn ipsec_timers(&mut self, now: Instant, spi: Spi) {
        let Some(s) = self.ipsec.get(&spi) else {
            return;
        };
        let kb = s.bytes / 1024;
        let hard = s.hard <= now || s.lifetime.kilobytes.is_some_and(|l| kb >= l);
        let soft_kb = s.lifetime.kilobytes.is_some_and(|l| {
            kb >= l.saturating_mul(u64::from(self.config.rekey.kilobyte_soft_percent)) / 100
        });
        let soft = !s.rekey_started && (s.soft.is_some_and(|t| t <= now) || soft_kb);
        if hard {
            if let Some(s) = self.ipsec.remove(&spi) {
                self.spis.remove(&s.inbound.0);
                self.send_ipsec_delete(now, &s);
                self.events.push_back(Event::Expired {
                    sa: SaRef::Ipsec {
                        inbound: s.inbound,
                        outbound: s.outbound,
                    },
                    peer: s.remote,
                });
            }
            return;
        }
        if soft {
            let request = s.request.clone();
            let old = SaRef::Ipsec {
                inbound: s.inbound,
                outbound: s.outbound,
            };
            let rekeys = s.role == Role::Initiator || self.config.rekey.responder_rekeys;
            if let Some(s) = self.ipsec.get_mut(&spi) {
                s.rekey_started = true;
            }
            if let (Some(req), true) = (request, rekeys) {
                let negotiation = self.initiate_inner(now, req, Some(spi)).ok();
                self.events.push_back(Event::RekeyStarted {
                    old,
                    negotiation,
                    new_sa: None,
                });
            }
        }
    }

    /// Installs a negotiated SA pair.
    pub(crate) fn install_ipsec(&mut self, now: Instant, s: IpsecSa) {
        self.spis.insert(s.inbound.0);
        self.ipsec.insert(s.inbound, s);
        let _ = now;
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
}
