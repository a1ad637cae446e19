//! The Sans-IO endpoint: the dispatcher that owns every ISAKMP SA of one
//! local IKE endpoint, with the tables that find them (by cookies, by
//! first message), and lends the exchange handlers their SA and the
//! [`Context`] (ARCHITECTURE.md, "The Sans-IO contract"; quinn-proto's
//! `Endpoint` and `Connection` folded into one, since IKE traffic is
//! small).
//!
//! The exchanges themselves live in `crate::exchange`, one type per state:
//! Main and Aggressive Mode (RFC 2409 s.5), Quick Mode (s.5.5) and
//! Informational (s.5.7; RFC 3706 DPD). What needs more than the one SA a
//! message came on stays here: creating and removing SAs, admission caps,
//! INITIAL-CONTACT and DPD purges, Deletes naming other SAs, queued
//! Quick Modes, timers, and the public API.

use std::collections::BTreeMap;
use std::mem;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use isakmp_wire::nat_t::{self, NatTVersion, Udp4500};
use isakmp_wire::{
    Cookie, DeleteRepr, ExchangeType, FragmentMessage, Message, PayloadRepr, ProtocolId,
};

use crate::config::{Config, EspTransform, Phase2Request};
use crate::context::{Context, IpsecSa, Negotiation, Transmit};
use crate::crypto::DhGroup;
use crate::entropy::Entropy;
use crate::event::{
    Counters, DeletedBy, DropReason, Event, FailReason, LimitDrop, NatStatus, NatTDrop,
    Phase1Established, Phase1Suite, Received, SaRef, StateDrop, TraceEvent, UdpEncapsulation,
};
use crate::exchange::informational::{self, NotifyFollowup};
use crate::exchange::phase1::{self, FirstRefused};
use crate::exchange::transaction::{self, CommandOutcome, Followup};
use crate::exchange::{IsakmpSa, P1, Verdict, aggressive, main_mode, nat, quick};
use crate::fragment::{FragmentCounters, FragmentDrop, Reassembler};
use crate::remote_access::{ModeConfig, XauthCredentials, XauthFailure};
use crate::types::{
    ExchangeMode, Identity, IsakmpSaId, IsakmpState, Lifetime, NegotiationId, ProxyId, Role, Spi,
};

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
    /// The IPsec SA pair's ESP is not UDP-encapsulated (see
    /// [`Endpoint::peer_moved`]).
    #[error("the IPsec SA with SPI {0} is not UDP-encapsulated")]
    NotEncapsulated(Spi),
    /// The ISAKMP SA does not wait for this remote-access answer (no
    /// XAUTH request pending, no verdict or configuration asked for).
    #[error("ISAKMP SA {0} does not wait for this")]
    NotWaiting(IsakmpSaId),
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
    /// What NAT traversal found (so far, while phase 1 runs).
    pub nat: NatStatus,
    /// The XAUTH user, once named (remote access).
    pub user: Option<String>,
    /// Whether the XAUTH user has authenticated (`None`: no XAUTH).
    pub xauth_authenticated: Option<bool>,
    /// The client's Mode-Config address: the one we assigned (server) or
    /// were given (client).
    pub mode_cfg_address: Option<std::net::Ipv4Addr>,
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
    /// `Some` when the pair's ESP is UDP-encapsulated (RFC 3948).
    pub udp_encapsulation: Option<UdpEncapsulation>,
}

/// One local IKEv1 endpoint as a pure state machine.
///
/// # Driving it
///
/// Inputs are [`handle_datagram`](Self::handle_datagram) (a UDP datagram
/// received on port 500 or on the NAT-T port, with both addresses),
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
///
/// # Exposure before authentication
///
/// What one datagram from a source we know nothing about makes us send,
/// over the life of whatever it created (measured by
/// `ike-sm/tests/exposure.rs`, which asserts each bound; default
/// configuration, MODP-2048):
///
/// | first message | in | out | out/in | bound |
/// |---|---|---|---|---|
/// | MM1 as this engine sends it | 188 | 256 (MM2, resent once) | 1.36 | 2 |
/// | the smallest MM1 answered (one transform, no vendor ID) | 88 | 216 | 2.45 | 3 |
/// | AM1, refused by the [`AggressiveModePolicy`](crate::AggressiveModePolicy) (the default) | 516 | 40 (AUTHENTICATION-FAILED) | 0.08 | 0.25 |
/// | AM1, answered | 516 | 1128 (AM2, resent once) | 2.19 | 3 |
/// | Informational, clear or protected, unknown cookies | 40 | 0 | 0 | 0 |
///
/// The responder's first reply is resent at most
/// [`Limits::first_reply_retransmits`](crate::Limits::first_reply_retransmits)
/// times (1) on its own timer; a duplicate first message is answered at
/// most once per [`Limits::duplicate_answer_interval`](crate::Limits::duplicate_answer_interval);
/// the state a first message creates counts against the half-open caps.
pub struct Endpoint {
    /// Everything the exchange handlers may use: configuration, entropy,
    /// negotiations, IPsec SAs, output queues, counters.
    cx: Context,
    /// The ISAKMP SAs, half-open or established.
    sas: BTreeMap<IsakmpSaId, IsakmpSa>,
    /// Our initiator cookies.
    initiated: BTreeMap<Cookie, IsakmpSaId>,
    /// SAs we respond to, by both cookies.
    responded: BTreeMap<(Cookie, Cookie), IsakmpSaId>,
    /// SAs we respond to, by initiator cookie and peer (for retransmitted
    /// first messages, whose responder cookie is zero).
    responded_first: BTreeMap<(Cookie, SocketAddr), IsakmpSaId>,
    next_sa: u64,
    next_negotiation: u64,
    next_conn_id: u32,
    /// Received IKE fragments waiting for the rest of their message.
    fragments: Reassembler,
}

impl core::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Endpoint")
            .field("isakmp_sas", &self.sas.len())
            .field("ipsec_sas", &self.cx.ipsec.len())
            .field("negotiations", &self.cx.negotiations.len())
            .field("counters", &self.cx.counters)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// A new endpoint with a configuration and an entropy source.
    #[must_use]
    pub fn new(config: Arc<Config>, rng: Box<dyn Entropy + Send>) -> Self {
        let fragments = Reassembler::new(config.fragmentation.limits.clone());
        Self {
            fragments,
            cx: Context::new(config, rng),
            sas: BTreeMap::new(),
            initiated: BTreeMap::new(),
            responded: BTreeMap::new(),
            responded_first: BTreeMap::new(),
            next_sa: 1,
            next_negotiation: 1,
            next_conn_id: 1,
        }
    }

    // ----- getters -----

    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &Arc<Config> {
        &self.cx.config
    }

    /// Replaces the configuration; negotiations started afterwards use it.
    pub fn set_config(&mut self, config: Arc<Config>) {
        self.cx.config = config;
    }

    /// Counters of received input by cause.
    #[must_use]
    pub fn counters(&self) -> &Counters {
        &self.cx.counters
    }

    /// Tells the engine the calendar time: at `now` (its monotonic clock)
    /// it is `unix_seconds` since 1970. Certificates are valid or not at
    /// a calendar time, which a Sans-IO engine cannot read: without this
    /// call, every peer certificate is refused
    /// ([`CertRefusal::NoClock`](crate::CertRefusal::NoClock)). Call it
    /// once at start and again whenever the wall clock is stepped.
    pub fn set_calendar_time(&mut self, now: Instant, unix_seconds: u64) {
        self.cx.calendar = Some((now, unix_seconds));
    }

    /// What IKE fragment reassembly did so far (see [`crate::fragment`]).
    #[must_use]
    pub fn fragment_counters(&self) -> FragmentCounters {
        self.fragments.counters()
    }

    /// What reassembly holds now: messages waiting for fragments, and the
    /// fragment data bytes kept (both bounded by
    /// [`FragmentationConfig::limits`](crate::FragmentationConfig::limits)).
    #[must_use]
    pub fn fragments_held(&self) -> (usize, usize) {
        (self.fragments.held_messages(), self.fragments.held_bytes())
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
            nat: sa.nat,
            user: sa.ra.as_ref().and_then(|r| r.user.clone()),
            xauth_authenticated: sa.ra.as_ref().filter(|r| r.xauth).map(|r| r.authenticated),
            mode_cfg_address: sa.ra.as_ref().and_then(|r| r.address),
        }
    }

    /// Every installed pair of IPsec SAs (`show crypto ipsec sa`).
    #[must_use]
    pub fn ipsec_sas(&self, now: Instant) -> Vec<IpsecSaInfo> {
        self.cx
            .ipsec
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
                udp_encapsulation: s.udp_encap,
            })
            .collect()
    }

    /// The entropy source the endpoint draws from. A caller that needs
    /// randomness of its own next to the engine's (`ted`'s gateway: TED
    /// cookies and ESP IVs) draws it here, so that one injected source
    /// serves everything and a scripted run stays reproducible.
    pub fn entropy_mut(&mut self) -> &mut (dyn Entropy + Send) {
        &mut *self.cx.rng
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
        self.cx.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.cx.events.pop_front()
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
            if let Some(k) = sa.next_keepalive {
                at(k);
            }
            if let Some(x) = sa.ra.as_ref().and_then(transaction::Ra::next_deadline) {
                at(x);
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
                if let Some(x) = informational::dpd_deadline(&self.cx, sa) {
                    at(x);
                }
            }
        }
        for s in self.cx.ipsec.values() {
            at(s.hard);
            if let (Some(x), false) = (s.soft, s.rekey_started) {
                at(x);
            }
        }
        if let Some(x) = self.fragments.poll_timeout() {
            at(x);
        }
        t
    }

    // ----- inputs -----

    /// Handles a datagram received from `remote` on our address `local`:
    /// the UDP payload as it arrived. On the NAT-T port
    /// ([`NatTConfig::port`](crate::NatTConfig::port)) it is read as RFC
    /// 3948 s.2 frames it: an IKE message after the non-ESP marker; a
    /// keepalive, counted and discarded; ESP, dropped as
    /// [`NatTDrop::Esp`](crate::NatTDrop::Esp) (demultiplex it to the data
    /// plane first).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        data: &[u8],
    ) {
        self.cx.counters.received = self.cx.counters.received.saturating_add(1);
        // On the NAT-T port: IKE after the non-ESP marker, keepalives
        // discarded, ESP is not ours (RFC 3948 s.2).
        let data = if local.port() == self.cx.config.nat_t.port {
            match nat_t::classify(data) {
                Ok(Udp4500::Ike(ike)) => ike,
                Ok(Udp4500::Keepalive) => {
                    let c = &mut self.cx.counters.keepalives_received;
                    *c = c.saturating_add(1);
                    return;
                }
                Ok(Udp4500::Esp(_)) => {
                    return self.cx.drop_input(remote, DropReason::NatT(NatTDrop::Esp));
                }
                Err(e) => {
                    return self
                        .cx
                        .drop_input(remote, DropReason::NatT(NatTDrop::Udp4500(e)));
                }
            }
        } else {
            data
        };
        // An IKE fragment: held until its message is whole, which then
        // goes on as if it had come in one datagram.
        let reassembled;
        let data = if FragmentMessage::is_fragment(data) {
            if !self.cx.config.fragmentation.enabled {
                return self
                    .cx
                    .drop_input(remote, DropReason::Fragment(FragmentDrop::Disabled));
            }
            match self.fragments.insert(now, remote, data) {
                Ok(None) => return,
                Ok(Some(whole)) => {
                    let c = &mut self.cx.counters.fragments_reassembled;
                    *c = c.saturating_add(1);
                    reassembled = whole;
                    reassembled.as_slice()
                }
                Err(e) => return self.cx.drop_input(remote, DropReason::Fragment(e)),
            }
        } else {
            data
        };
        let message = match Message::new_checked(data) {
            Ok(m) => m,
            Err(e) => return self.cx.drop_input(remote, DropReason::Wire(e)),
        };
        let header = message.header();
        match header.exchange_type() {
            ExchangeType::IDENTITY_PROTECTION | ExchangeType::AGGRESSIVE => {
                self.phase1_input(now, local, remote, &message);
            }
            ExchangeType::QUICK_MODE => self.quick_input(now, local, remote, &message),
            ExchangeType::INFORMATIONAL => self.info_input(now, local, remote, &message),
            ExchangeType::TRANSACTION => self.transaction_input(now, local, remote, &message),
            other => self.cx.drop_input(
                remote,
                DropReason::State(StateDrop::UnsupportedExchange(other)),
            ),
        }
    }

    /// Runs every timer due at `now`: retransmissions, expiries, rekeys,
    /// DPD.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.fragments.expire(now);
        let ids: Vec<IsakmpSaId> = self.sas.keys().copied().collect();
        for id in ids {
            self.sa_timers(now, id);
        }
        let spis: Vec<Spi> = self.cx.ipsec.keys().copied().collect();
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

    fn initiate_inner(
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
            if active.saturating_add(s.pending.len()) >= self.cx.config.limits.phase2_per_sa {
                return Err(CommandError::Phase2LimitReached(sa));
            }
        }
        let id = NegotiationId(self.next_negotiation);
        self.next_negotiation = self.next_negotiation.saturating_add(1);
        self.cx.negotiations.insert(
            id,
            Negotiation {
                request: req,
                rekey_of,
            },
        );
        // A remote-access SA runs Quick Mode once XAUTH and Mode-Config
        // are done (`ra_followup` starts what waits).
        let established = self
            .sas
            .get(&sa)
            .is_some_and(|s| s.is_established() && s.ra.as_ref().is_none_or(|r| r.ready()));
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
            .cx
            .ipsec
            .values()
            .find(|s| s.inbound == spi || s.outbound == spi)
            .map(|s| s.inbound)
            .ok_or(CommandError::UnknownSpi(spi))?;
        let Some(s) = self.cx.take_ipsec(inbound) else {
            return Err(CommandError::UnknownSpi(spi));
        };
        self.send_ipsec_delete(now, &s);
        self.cx.events.push_back(Event::Deleted {
            sa: s.sa_ref(),
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
        let Some(s) = self.cx.ipsec.get_mut(&inbound_spi) else {
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

    /// The data plane received authenticated ESP for the IPsec SA pair
    /// whose inbound SPI is `inbound_spi` from `remote`, a source other
    /// than the pair's peer: the peer's NAT has a new mapping (RFC 3948
    /// s.2.3 and RFC 3947 s.5: a peer behind a NAT is followed). The pair,
    /// the ISAKMP SA that negotiated it and every other pair on that SA
    /// move to `remote`, reported as [`Event::PeerMoved`]; IKE sends there
    /// from now on. Call it only after the ESP packet passed its integrity
    /// check and the anti-replay window, and only for UDP-encapsulated
    /// pairs: `remote` is where that authenticated packet came from.
    ///
    /// # Errors
    /// [`CommandError::UnknownSpi`]; [`CommandError::NotEncapsulated`] for
    /// a pair whose ESP is not UDP-encapsulated (plain ESP has no port to
    /// change, and IKEv1 has no way to move such an SA).
    pub fn peer_moved(
        &mut self,
        now: Instant,
        inbound_spi: Spi,
        remote: SocketAddr,
    ) -> Result<(), CommandError> {
        let s = self
            .cx
            .ipsec
            .get(&inbound_spi)
            .ok_or(CommandError::UnknownSpi(inbound_spi))?;
        if s.udp_encap.is_none() {
            return Err(CommandError::NotEncapsulated(inbound_spi));
        }
        if s.remote == remote {
            return Ok(());
        }
        let isakmp = s.isakmp;
        let from = s.remote;
        self.move_peer(now, isakmp, from, remote);
        Ok(())
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

    // ----- SA tables, admission, removal, timers -----

    /// Moves the ISAKMP SA `id` (if it is still with `from`) and every
    /// IPsec SA pair with `from` it negotiated to the peer address `to`;
    /// reports it. Only called for authenticated input.
    fn move_peer(&mut self, _now: Instant, id: IsakmpSaId, from: SocketAddr, to: SocketAddr) {
        let local = match self.sas.get_mut(&id) {
            Some(sa) if sa.remote == from || sa.remote == to => {
                sa.remote = to;
                sa.local
            }
            Some(_) => return,
            None => match self.cx.ipsec.values().find(|s| s.isakmp == id) {
                Some(s) => s.local,
                None => return,
            },
        };
        let mut ipsec = Vec::new();
        for s in self.cx.ipsec.values_mut() {
            if s.isakmp == id && s.remote == from {
                s.remote = to;
                ipsec.push(s.sa_ref());
            }
        }
        self.cx.events.push_back(Event::PeerMoved {
            sa: id,
            from,
            to,
            local,
            ipsec,
        });
    }

    /// The established SA to a peer with the longest life left.
    fn best_established(&self, local: SocketAddr, remote: SocketAddr) -> Option<IsakmpSaId> {
        self.sas
            .values()
            .filter(|s| s.serves(local, remote))
            .filter_map(|s| s.established().map(|e| (s.id, e.expires)))
            .max_by_key(|(_, e)| *e)
            .map(|(id, _)| id)
    }

    fn phase1_in_progress(&self, local: SocketAddr, remote: SocketAddr) -> Option<IsakmpSaId> {
        self.sas
            .values()
            .find(|s| s.serves(local, remote) && s.role == Role::Initiator && !s.is_established())
            .map(|s| s.id)
    }

    /// Whether a new phase 1 with `peer` fits the caps on half-open and
    /// established ISAKMP SAs ([`Limits`](crate::Limits)); `Err` names the
    /// cap that is full. One pass over the SAs, which the caps bound.
    fn phase1_admission(&self, peer: IpAddr) -> Result<(), DropReason> {
        let limits = &self.cx.config.limits;
        let (mut half_open, mut half_open_peer) = (0usize, 0usize);
        let (mut established, mut established_peer) = (0usize, 0usize);
        for sa in self.sas.values() {
            // A remote-access SA whose user has not authenticated yet is
            // still half-open: a flood of clients that know the group key
            // but no password is bounded like a flood of first messages.
            let pending_user = sa
                .ra
                .as_ref()
                .is_some_and(|r| r.role == Role::Responder && !r.authenticated);
            let (total, of_peer) = if sa.is_established() && !pending_user {
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

    /// Removes an ISAKMP SA with everything that depends on it: its Quick
    /// Mode nodes fail, queued negotiations fail. `deleted` names who
    /// deleted an established SA (an event); a half-open one reports
    /// `Phase1Failed` with `fail` instead.
    fn remove_sa(
        &mut self,
        id: IsakmpSaId,
        reason: &'static str,
        deleted: Option<DeletedBy>,
        fail: FailReason,
    ) {
        let Some(sa) = self.sas.remove(&id) else {
            return;
        };
        self.cx.trace(
            sa.trace_sa(),
            TraceEvent::DeletingSa {
                reason,
                state: sa.ios_state(),
            },
        );
        self.initiated.remove(&sa.icookie);
        self.responded.remove(&(sa.icookie, sa.rcookie));
        self.responded_first.remove(&(sa.icookie, sa.remote));
        if let Some(ra) = &sa.ra
            && ra.role == Role::Responder
            && ra.xauth
            && !ra.authenticated
            && deleted == Some(DeletedBy::Peer)
        {
            self.cx.counters.xauth_failed = self.cx.counters.xauth_failed.saturating_add(1);
            self.cx.events.push_back(Event::XauthFailed {
                sa: id,
                peer: sa.remote,
                user: ra.user.clone(),
                role: Role::Responder,
                reason: XauthFailure::Abandoned,
            });
        }
        if let Some(ra) = &sa.ra
            && ra.role == Role::Responder
            && let Some(address) = ra.address
        {
            self.cx.events.push_back(Event::AddressReleased {
                sa: id,
                peer: sa.remote,
                address,
            });
        }
        if sa.is_established() {
            if let Some(by) = deleted {
                self.cx.events.push_back(Event::Deleted {
                    sa: SaRef::Isakmp(id),
                    peer: sa.remote,
                    by,
                });
            }
        } else {
            self.cx.events.push_back(Event::Phase1Failed {
                sa: id,
                peer: sa.remote,
                reason: fail,
            });
        }
        for node in sa.qm.into_values() {
            if let Some(spi) = node.reserved_spi() {
                self.cx.release_spi(spi);
            }
            if !node.is_done() {
                let negotiation = node.negotiation;
                if let Some(n) = negotiation {
                    self.cx.negotiations.remove(&n);
                }
                self.cx.events.push_back(Event::Phase2Failed {
                    negotiation,
                    sa: Some(id),
                    peer: sa.remote,
                    reason: FailReason::SaDeleted,
                });
            }
        }
        for n in sa.pending {
            self.cx.negotiations.remove(&n);
            self.cx.events.push_back(Event::Phase2Failed {
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
        if let Some(sa) = self.sas.get_mut(&id) {
            quick::timers(&mut self.cx, now, sa);
        }
        if let Some(sa) = self.sas.get_mut(&id) {
            let f = transaction::timers(&mut self.cx, now, sa);
            self.ra_followup(now, id, f);
            if !self.sas.contains_key(&id) {
                return;
            }
        }
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
                self.cx.events.push_back(Event::Expired {
                    sa: SaRef::Isakmp(id),
                    peer,
                });
            }
            return;
        }
        if soft_due && (role == Role::Initiator || self.cx.config.rekey.responder_rekeys) {
            self.rekey_phase1(now, id);
        }
        self.dpd_timer(now, id);
        self.keepalive_timer(now, id);
    }

    /// NAT keepalives (RFC 3948 s.2.3) on one SA, when we are behind a NAT
    /// and IKE floated: one every [`NatTConfig::keepalive`](crate::NatTConfig::keepalive).
    fn keepalive_timer(&mut self, now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        let Some(due) = sa.next_keepalive else {
            return;
        };
        let Some(every) = self.cx.config.nat_t.keepalive else {
            sa.next_keepalive = None;
            return;
        };
        if due <= now {
            self.cx.send_keepalive(sa.local, sa.remote);
            sa.next_keepalive = Some(now + every.max(Duration::from_secs(1)));
        }
    }

    fn rekey_phase1(&mut self, now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        sa.rekey_started = true;
        let (local, remote) = (sa.local, sa.remote);
        let wanted = sa.ra.as_ref().and_then(|r| r.address);
        let new_sa = self.start_phase1(now, local, remote).ok();
        if let Some(n) = new_sa.and_then(|n| self.sas.get_mut(&n)) {
            n.ra_wanted_address = wanted;
        }
        self.cx.events.push_back(Event::RekeyStarted {
            old: SaRef::Isakmp(id),
            negotiation: None,
            new_sa,
        });
    }

    /// Timers of one IPsec SA (also run when traffic is reported).
    fn ipsec_timers(&mut self, now: Instant, spi: Spi) {
        let Some(s) = self.cx.ipsec.get(&spi) else {
            return;
        };
        let kb = s.bytes / 1024;
        let hard = s.hard <= now || s.lifetime.kilobytes.is_some_and(|l| kb >= l);
        let soft_kb = s.lifetime.kilobytes.is_some_and(|l| {
            kb >= l.saturating_mul(u64::from(self.cx.config.rekey.kilobyte_soft_percent)) / 100
        });
        let soft = !s.rekey_started && (s.soft.is_some_and(|t| t <= now) || soft_kb);
        if hard {
            if let Some(s) = self.cx.take_ipsec(spi) {
                self.send_ipsec_delete(now, &s);
                self.cx.events.push_back(Event::Expired {
                    sa: s.sa_ref(),
                    peer: s.remote,
                });
            }
            return;
        }
        if soft {
            let request = s.request.clone();
            let old = s.sa_ref();
            let rekeys = s.role == Role::Initiator || self.cx.config.rekey.responder_rekeys;
            if let Some(s) = self.cx.ipsec.get_mut(&spi) {
                s.rekey_started = true;
            }
            if let (Some(req), true) = (request, rekeys) {
                let negotiation = self.initiate_inner(now, req, Some(spi)).ok();
                self.cx.events.push_back(Event::RekeyStarted {
                    old,
                    negotiation,
                    new_sa: None,
                });
            }
        }
    }
    // ----- handles, cookies, lookups -----

    fn new_sa_id(&mut self) -> IsakmpSaId {
        let id = IsakmpSaId(self.next_sa);
        self.next_sa = self.next_sa.saturating_add(1);
        id
    }

    /// An initiator cookie not zero and not ours already.
    fn new_cookie(&mut self) -> Option<Cookie> {
        let initiated = &self.initiated;
        self.cx.new_cookie_in(|c| initiated.contains_key(&c))
    }

    /// A responder cookie unique for this initiator cookie.
    fn new_rcookie(&mut self, icookie: Cookie) -> Option<Cookie> {
        let responded = &self.responded;
        self.cx
            .new_cookie_in(|c| responded.contains_key(&(icookie, c)))
    }

    /// The ISAKMP SA a message with these cookies belongs to.
    fn lookup(&self, icookie: Cookie, rcookie: Cookie) -> Option<IsakmpSaId> {
        if let Some(&id) = self.initiated.get(&icookie)
            && let Some(sa) = self.sas.get(&id)
            && (sa.rcookie == [0; 8] || sa.rcookie == rcookie || rcookie == [0; 8])
        {
            return Some(id);
        }
        self.responded.get(&(icookie, rcookie)).copied()
    }

    /// The SA a message from `remote` is for (`id`, as its cookies name
    /// it), if we hold it; otherwise the message is dropped as one for an
    /// unknown SA.
    fn known_sa(&mut self, id: Option<IsakmpSaId>, remote: SocketAddr) -> Option<IsakmpSaId> {
        match id {
            Some(id) if self.sas.contains_key(&id) => Some(id),
            _ => {
                self.cx
                    .drop_input(remote, DropReason::State(StateDrop::UnknownSa));
                None
            }
        }
    }

    /// Whether we have no other SA with this SA's peer (for
    /// INITIAL-CONTACT).
    fn first_contact(&self, sa: &IsakmpSa) -> bool {
        let peer = PeerKey::of(sa);
        !self
            .sas
            .values()
            .any(|s| s.id != sa.id && s.is_established() && peer.matches(s))
            && !self.cx.ipsec.values().any(|s| peer.matches_pair(s.remote))
    }

    // ----- phase 1 -----

    /// Starts phase 1 as initiator.
    fn start_phase1(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<IsakmpSaId, CommandError> {
        let policies = self.cx.config.sorted_policies();
        let Some(first) = policies.first().copied() else {
            return Err(CommandError::NoPolicy);
        };
        if self.phase1_admission(remote.ip()).is_err() {
            return Err(CommandError::LimitReached);
        }
        let icookie = self.new_cookie().ok_or(CommandError::LimitReached)?;
        let mode = self
            .cx
            .config
            .peer(remote.ip())
            .map_or(self.cx.config.default_mode, |p| p.mode);
        let id = self.new_sa_id();
        let conn_id = self.next_conn_id();
        let mut sa = IsakmpSa::new(
            id,
            conn_id,
            Role::Initiator,
            mode,
            (local, remote),
            (icookie, [0; 8]),
            now,
        );
        // Started on the NAT-T port: already floated.
        sa.nat.floated = local.port() == self.cx.config.nat_t.port;
        let first_message = match mode {
            ExchangeMode::Main => main_mode::initiate(&self.cx, &sa, policies),
            ExchangeMode::Aggressive => aggressive::initiate(&mut self.cx, &sa, &policies, first),
        };
        let Some((bytes, state)) = first_message else {
            return Err(CommandError::NoPolicy);
        };
        let ios = state.ios_state();
        sa.state = state;
        sa.send_p1(&mut self.cx, now, bytes, true, ios);
        self.initiated.insert(icookie, id);
        self.sas.insert(id, sa);
        Ok(id)
    }

    /// Main and Aggressive Mode messages: a first message goes to the
    /// responder, any other to the state of the SA its cookies name.
    fn phase1_input(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        message: &Message<&[u8]>,
    ) {
        let h = message.header();
        let (ic, rc) = (h.initiator_cookie(), h.responder_cookie());
        let data = message.message_bytes();
        if rc == [0; 8] {
            if let Some(&id) = self.responded_first.get(&(ic, remote)) {
                return self.duplicate_phase1(now, id, remote, data);
            }
            if self.initiated.contains_key(&ic) {
                return self.cx.drop_input(
                    remote,
                    DropReason::unexpected(
                        "a reply carrying a responder cookie",
                        Received::OwnInitiatorCookie,
                    ),
                );
            }
            return self.respond_phase1(now, local, remote, message);
        }
        let Some(id) = self.known_sa(self.lookup(ic, rc), remote) else {
            return;
        };
        let Some(sa) = self.sas.get(&id) else {
            return;
        };
        if sa.last_in.as_deref() == Some(data) {
            return self.duplicate_phase1(now, id, remote, data);
        }
        let expected_exchange = match sa.mode {
            ExchangeMode::Main => ExchangeType::IDENTITY_PROTECTION,
            ExchangeMode::Aggressive => ExchangeType::AGGRESSIVE,
        };
        // The peer's authentication message may come over the NAT-T port
        // from an address and port we have not seen (RFC 3947 s.4): tried
        // there, kept only if it authenticates.
        let floats = sa.remote != remote
            && local.port() == self.cx.config.nat_t.port
            && sa.nat.version.is_some_and(NatTVersion::floats)
            && sa.state.awaits_auth()
            && remote.is_ipv4() == sa.remote.is_ipv4();
        if h.exchange_type() != expected_exchange || (sa.remote != remote && !floats) {
            let received = Received::ExchangeFrom {
                exchange: h.exchange_type(),
                from: remote,
            };
            return self.cx.drop_input(
                remote,
                DropReason::unexpected("the SA's own exchange from its peer", received),
            );
        }
        // Only the dispatcher sees the other SAs: it works out whether
        // our authentication message, if this step sends it, carries
        // INITIAL-CONTACT.
        let initial_contact =
            sa.state.sends_auth() && self.cx.config.send_initial_contact && self.first_contact(sa);
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        let before = (sa.local, sa.remote, sa.nat.floated);
        if floats {
            (sa.local, sa.remote, sa.nat.floated) = (local, remote, true);
        }
        sa.trace_received(&mut self.cx, remote);
        let state = mem::replace(&mut sa.state, P1::Dead);
        let verdict = state.handle(&mut self.cx, now, sa, message, initial_contact);
        if floats {
            if matches!(verdict, Verdict::Next(_)) {
                // Followed: a retransmitted first message now finds the SA
                // by its new address only once established (then never).
                self.responded_first.remove(&(sa.icookie, before.1));
            } else {
                (sa.local, sa.remote, sa.nat.floated) = before;
            }
        }
        self.finish_phase1_step(now, id, verdict, data);
    }

    /// Tries a protected message from a new peer address on a floated,
    /// established SA: the SA points at `remote` while `step` runs and
    /// stays there only if the step verified a fresh message
    /// (`IsakmpSa::fresh_auth`); then the IPsec SA pairs follow and
    /// [`Event::PeerMoved`] tells the caller. Returns what `step` returned.
    fn following<T>(
        &mut self,
        now: Instant,
        id: IsakmpSaId,
        local: SocketAddr,
        remote: SocketAddr,
        step: impl FnOnce(&mut Self) -> T,
    ) -> T {
        let tried = match self.sas.get_mut(&id) {
            Some(sa)
                if sa.remote != remote
                    && sa.local == local
                    && sa.nat.floated
                    && sa.is_established()
                    && remote.is_ipv4() == sa.remote.is_ipv4() =>
            {
                let from = sa.remote;
                sa.remote = remote;
                Some(from)
            }
            _ => None,
        };
        if let Some(sa) = self.sas.get_mut(&id) {
            sa.fresh_auth = false;
        }
        let out = step(self);
        if let Some(from) = tried
            && let Some(sa) = self.sas.get_mut(&id)
        {
            if sa.fresh_auth {
                self.move_peer(now, id, from, remote);
            } else {
                sa.remote = from;
            }
        }
        out
    }

    /// Applies a phase-1 handler's verdict to its SA.
    fn finish_phase1_step(&mut self, now: Instant, id: IsakmpSaId, verdict: Verdict, data: &[u8]) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        let remote = sa.remote;
        match verdict {
            Verdict::Next(state) => {
                sa.state = state;
                sa.last_in = Some(data.to_vec());
                sa.dpd.last_heard = now;
                if sa.is_established() {
                    self.on_established(now, id);
                }
            }
            Verdict::Reject(state, reason) => {
                sa.state = state;
                self.cx.drop_input(remote, reason);
            }
            Verdict::Fail {
                reason,
                fail,
                notify,
            } => {
                if let Some(t) = notify {
                    sa.send_clear_notify(&mut self.cx, t, ProtocolId::ISAKMP, &sa.spi16());
                }
                self.cx.drop_input(remote, reason);
                self.remove_sa(id, "negotiation failed", None, fail);
            }
        }
    }

    /// The peer's last phase-1 message again: our answer again (rate
    /// limited); a different first message under the same cookie is
    /// dropped.
    fn duplicate_phase1(&mut self, now: Instant, id: IsakmpSaId, remote: SocketAddr, data: &[u8]) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        if sa.last_in.as_deref() != Some(data) {
            return self.cx.drop_input(
                remote,
                DropReason::unexpected(
                    "the next message of the exchange",
                    Received::DifferentFirstMessage,
                ),
            );
        }
        if !self.cx.may_answer(&mut sa.sent_at, now) {
            return;
        }
        self.cx.trace(
            sa.trace_sa(),
            TraceEvent::DuplicateAnswered { message_id: 0 },
        );
        if let Some(out) = sa.last_out.clone() {
            if remote == sa.remote {
                sa.put_out(&mut self.cx, out);
            } else {
                self.cx.transmit(sa.local, remote, out);
            }
        }
    }

    /// Responder: a first message (MM1 / AM1) with a zero responder cookie.
    fn respond_phase1(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        message: &Message<&[u8]>,
    ) {
        let h = message.header();
        self.cx.trace(
            None,
            TraceEvent::ReceivedPacket {
                from: remote,
                role: None,
                state: None,
            },
        );
        if let Err(full) = self.phase1_admission(remote.ip()) {
            return self.cx.drop_input(remote, full);
        }
        let mut first = match phase1::read_first(&mut self.cx, local, remote, message) {
            Ok(f) => f,
            Err(FirstRefused { reason, early }) => {
                self.cx.trace_all(None, early);
                return self.cx.drop_input(remote, reason);
            }
        };
        let Some(rcookie) = self.new_rcookie(h.initiator_cookie()) else {
            self.cx.trace_all(None, first.early);
            return self.cx.drop_input(remote, phase1::no_cookie());
        };
        let id = self.new_sa_id();
        let conn_id = self.next_conn_id();
        self.cx
            .trace_all(Some((id, conn_id)), mem::take(&mut first.early));
        let mode = if first.aggressive {
            ExchangeMode::Aggressive
        } else {
            ExchangeMode::Main
        };
        let mut sa = IsakmpSa::new(
            id,
            conn_id,
            Role::Responder,
            mode,
            (local, remote),
            (h.initiator_cookie(), rcookie),
            now,
        );
        sa.nat.floated = local.port() == self.cx.config.nat_t.port;
        phase1::process_vids(&mut self.cx, &mut sa, &first.inb);
        let reply_sa = first.reply_sa();
        let answer = if first.aggressive {
            aggressive::answer(&mut self.cx, &mut sa, first, reply_sa).map_err(Some)
        } else {
            main_mode::answer(&self.cx, &sa, first, reply_sa).ok_or(None)
        };
        let (bytes, state) = match answer {
            Ok(x) => x,
            Err(Some(reason)) => return self.cx.drop_input(remote, reason),
            // Our own MM2 did not encode: a defect, not the peer's doing.
            Err(None) => return,
        };
        let ios = state.ios_state();
        sa.state = state;
        sa.last_in = Some(message.message_bytes().to_vec());
        sa.send_p1(&mut self.cx, now, bytes, true, ios);
        self.responded.insert((sa.icookie, rcookie), id);
        self.responded_first.insert((sa.icookie, remote), id);
        self.sas.insert(id, sa);
    }

    /// Phase 1 is up: events, queued Quick Modes, INITIAL-CONTACT.
    fn on_established(&mut self, now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        let Some(est) = sa.established() else {
            return;
        };
        let suite = est.suite;
        let info = Phase1Established {
            sa: id,
            conn_id: sa.conn_id,
            local: sa.local,
            remote: sa.remote,
            role: sa.role,
            mode: sa.mode,
            suite,
            peer_identity: est.peer_identity.clone(),
            nat: sa.nat,
        };
        nat::arm_keepalive(&self.cx, now, sa);
        if suite.auth.is_xauth() {
            transaction::start(&mut self.cx, now, sa);
        }
        // A remote-access SA keeps its queued Quick Modes until XAUTH and
        // Mode-Config are done, and (server) its INITIAL-CONTACT until
        // the user is known: behind one NAT, many users share a group
        // identity.
        let ready = sa.ra.as_ref().is_none_or(transaction::Ra::ready);
        let pending = if ready {
            mem::take(&mut sa.pending)
        } else {
            Vec::new()
        };
        let initial_contact = ready && mem::replace(&mut sa.initial_contact, false);
        let remote = sa.remote;
        if sa.role == Role::Responder {
            self.responded_first.remove(&(sa.icookie, remote));
        }
        self.cx.events.push_back(Event::Phase1Established(info));
        if suite.encryption.is_weak() {
            self.cx
                .weak(SaRef::Isakmp(id), suite.encryption.name().to_owned());
        }
        if suite.hash.is_weak() {
            self.cx
                .weak(SaRef::Isakmp(id), suite.hash.name().to_owned());
        }
        if suite.group.is_weak() {
            self.cx.weak(
                SaRef::Isakmp(id),
                format!("MODP-{}", suite.group.prime_bits()),
            );
        }
        if initial_contact {
            self.purge_peer(id, true, DeletedBy::InitialContact);
        }
        for n in pending {
            self.start_quick_mode(now, id, n);
        }
    }

    /// Forgets every other SA with the peer of SA `reference`
    /// (INITIAL-CONTACT or DPD; see [`PeerKey`] for who counts as the same
    /// peer). With `keep`, `reference` and the IPsec SAs it negotiated stay
    /// (INITIAL-CONTACT arrives on the new SA); without, its pairs go too
    /// (the caller removes `reference` itself).
    fn purge_peer(&mut self, reference: IsakmpSaId, keep: bool, by: DeletedBy) {
        let Some(r) = self.sas.get(&reference) else {
            return;
        };
        let peer = PeerKey::of(r);
        let others: Vec<IsakmpSaId> = self
            .sas
            .values()
            .filter(|s| s.id != reference && s.is_established() && peer.matches(s))
            .map(|s| s.id)
            .collect();
        let spis: Vec<_> = self
            .cx
            .ipsec
            .values()
            .filter(|s| {
                if s.isakmp == reference {
                    !keep
                } else {
                    others.contains(&s.isakmp) || peer.matches_pair(s.remote)
                }
            })
            .map(|s| s.inbound)
            .collect();
        for o in others {
            self.remove_sa(o, "peer restarted or dead", Some(by), FailReason::SaDeleted);
        }
        for spi in spis {
            self.cx.forget_ipsec(spi, by);
        }
    }

    /// Phase-1 retransmission timer fired.
    fn phase1_retransmit(&mut self, now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        if !sa.retransmit(&mut self.cx, now) {
            let peer = sa.remote;
            self.cx.events.push_back(Event::RetransmitGaveUp {
                sa: id,
                peer,
                message_id: 0,
            });
            self.remove_sa(id, "retransmissions exhausted", None, FailReason::Timeout);
        }
    }

    // ----- Quick Mode -----

    /// Quick Mode messages, on the SA their cookies name.
    fn quick_input(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        m: &Message<&[u8]>,
    ) {
        let h = m.header();
        let id = self.lookup(h.initiator_cookie(), h.responder_cookie());
        let Some(id) = self.known_sa(id, remote) else {
            return;
        };
        self.following(now, id, local, remote, |ep| {
            let Some(sa) = ep.sas.get_mut(&id) else {
                return;
            };
            if let Err(reason) = quick::input(&mut ep.cx, now, sa, remote, m) {
                ep.cx.drop_input(remote, reason);
            }
        });
    }

    /// Starts a Quick Mode for a queued negotiation on an established SA;
    /// a negotiation that cannot start fails.
    fn start_quick_mode(&mut self, now: Instant, sa_id: IsakmpSaId, neg: NegotiationId) {
        let Some(n) = self.cx.negotiations.get(&neg).cloned() else {
            return;
        };
        let peer = n.request.peer;
        let started = match self.sas.get_mut(&sa_id) {
            Some(sa) => quick::start(&mut self.cx, now, sa, neg, n),
            None => Err(FailReason::SaDeleted),
        };
        if let Err(reason) = started {
            self.cx.negotiations.remove(&neg);
            self.cx.events.push_back(Event::Phase2Failed {
                negotiation: Some(neg),
                sa: Some(sa_id),
                peer,
                reason,
            });
        }
    }

    // ----- Transaction (XAUTH, Mode-Config) -----

    /// Transaction exchange messages, on the SA their cookies name.
    fn transaction_input(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        m: &Message<&[u8]>,
    ) {
        let h = m.header();
        let id = self.lookup(h.initiator_cookie(), h.responder_cookie());
        let Some(id) = self.known_sa(id, remote) else {
            return;
        };
        if self
            .sas
            .get(&id)
            .is_some_and(|s| s.remote.ip() != remote.ip())
        {
            return self.cx.drop_input(
                remote,
                DropReason::unexpected("messages from the SA's peer", Received::From(remote)),
            );
        }
        let f = self.following(now, id, local, remote, |ep| {
            let sa = ep.sas.get_mut(&id)?;
            match transaction::input(&mut ep.cx, now, sa, remote, m) {
                Ok(f) => Some(f),
                Err(reason) => {
                    ep.cx.drop_input(remote, reason);
                    None
                }
            }
        });
        if let Some(f) = f {
            self.ra_followup(now, id, f);
        }
    }

    /// Acts on what a remote-access step asked for.
    fn ra_followup(&mut self, now: Instant, id: IsakmpSaId, f: Followup) {
        match f {
            Followup::Continue => {}
            Followup::Ready => {
                let Some(sa) = self.sas.get_mut(&id) else {
                    return;
                };
                if !sa.ra.as_ref().is_some_and(transaction::Ra::ready) {
                    return;
                }
                let pending = mem::take(&mut sa.pending);
                if mem::replace(&mut sa.initial_contact, false) {
                    self.purge_peer(id, true, DeletedBy::InitialContact);
                }
                for n in pending {
                    self.start_quick_mode(now, id, n);
                }
            }
            Followup::Delete(reason) => {
                let Some(sa) = self.sas.get(&id) else {
                    return;
                };
                let (peer, role) = (sa.remote, sa.role);
                let user = sa.ra.as_ref().and_then(|r| r.user.clone());
                self.cx.counters.xauth_failed = self.cx.counters.xauth_failed.saturating_add(1);
                self.cx.events.push_back(Event::XauthFailed {
                    sa: id,
                    peer,
                    user,
                    role,
                    reason,
                });
                self.send_isakmp_delete(now, id);
                self.remove_sa(
                    id,
                    "XAUTH failed",
                    Some(DeletedBy::Local),
                    FailReason::AuthenticationFailed,
                );
            }
        }
    }

    fn ra_command(
        &mut self,
        now: Instant,
        id: IsakmpSaId,
        run: impl FnOnce(&mut Context, &mut IsakmpSa) -> CommandOutcome,
    ) -> Result<(), CommandError> {
        let sa = self.sas.get_mut(&id).ok_or(CommandError::UnknownSa(id))?;
        match run(&mut self.cx, sa) {
            CommandOutcome::Done(f) => {
                self.ra_followup(now, id, f);
                Ok(())
            }
            CommandOutcome::NotWaiting => Err(CommandError::NotWaiting(id)),
        }
    }

    /// Client: answers the XAUTH server's request
    /// ([`Event::XauthRequested`]) on SA `sa`.
    ///
    /// # Errors
    /// [`CommandError::UnknownSa`]; [`CommandError::NotWaiting`] when no
    /// request is pending there.
    pub fn xauth_credentials(
        &mut self,
        now: Instant,
        sa: IsakmpSaId,
        credentials: &XauthCredentials,
    ) -> Result<(), CommandError> {
        self.ra_command(now, sa, |cx, s| {
            transaction::credentials(cx, now, s, credentials)
        })
    }

    /// Client: gives up on XAUTH on SA `sa` (the person dismissed the
    /// prompt): the SA is deleted ([`Event::XauthFailed`] with
    /// [`XauthFailure::Cancelled`](crate::XauthFailure::Cancelled)).
    ///
    /// # Errors
    /// [`CommandError::UnknownSa`]; [`CommandError::NotWaiting`] when the
    /// SA is not an XAUTH client still authenticating.
    pub fn xauth_cancel(&mut self, now: Instant, sa: IsakmpSaId) -> Result<(), CommandError> {
        self.ra_command(now, sa, |_, s| transaction::cancel(s))
    }

    /// Server: the verdict on the credentials of [`Event::XauthVerify`]
    /// for SA `sa`. Refused with attempts left, the client is asked again;
    /// refused on the last attempt, it is told FAIL and the SA deleted;
    /// accepted, it is told OK and Mode-Config follows.
    ///
    /// # Errors
    /// [`CommandError::UnknownSa`]; [`CommandError::NotWaiting`] when no
    /// credentials wait for a verdict there.
    pub fn xauth_verdict(
        &mut self,
        now: Instant,
        sa: IsakmpSaId,
        accepted: bool,
    ) -> Result<(), CommandError> {
        self.ra_command(now, sa, |cx, s| transaction::verdict(cx, now, s, accepted))
    }

    /// Server: the configuration for the client of
    /// [`Event::ModeCfgRequested`] on SA `sa` (a REPLY to its REQUEST, or
    /// our SET). Its address is reported in [`Event::AddressAssigned`]
    /// and, when the SA goes, [`Event::AddressReleased`].
    ///
    /// # Errors
    /// [`CommandError::UnknownSa`]; [`CommandError::NotWaiting`] when no
    /// configuration is asked for there.
    pub fn mode_cfg_reply(
        &mut self,
        now: Instant,
        sa: IsakmpSaId,
        config: &ModeConfig,
    ) -> Result<(), CommandError> {
        self.ra_command(now, sa, |cx, s| {
            transaction::config_reply(cx, now, s, Some(config))
        })
    }

    /// Server: refuses the client of [`Event::ModeCfgRequested`] a
    /// configuration (an empty pool): its REQUEST gets an empty REPLY
    /// (counted in [`Counters::mode_cfg_refused`]); the SA stays, and
    /// nothing else is disturbed.
    ///
    /// # Errors
    /// [`CommandError::UnknownSa`]; [`CommandError::NotWaiting`] when no
    /// configuration is asked for there.
    pub fn mode_cfg_refuse(&mut self, now: Instant, sa: IsakmpSaId) -> Result<(), CommandError> {
        self.ra_command(now, sa, |cx, s| transaction::config_reply(cx, now, s, None))
    }

    // ----- Informational -----

    /// Informational messages, on the SA their cookies name (or the one
    /// we answered a first message of, for a notification in the clear).
    fn info_input(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        m: &Message<&[u8]>,
    ) {
        let h = m.header();
        let (ic, rc) = (h.initiator_cookie(), h.responder_cookie());
        let id = self
            .lookup(ic, rc)
            .or_else(|| self.responded_first.get(&(ic, remote)).copied());
        let Some(id) = self.known_sa(id, remote) else {
            return;
        };
        if m.is_encrypted() {
            self.following(now, id, local, remote, |ep| ep.info_on(now, id, remote, m));
        } else {
            self.info_on(now, id, remote, m);
        }
    }

    /// An Informational on the SA `id` it names.
    fn info_on(&mut self, now: Instant, id: IsakmpSaId, remote: SocketAddr, m: &Message<&[u8]>) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        if sa.remote.ip() != remote.ip() {
            return self.cx.drop_input(
                remote,
                DropReason::unexpected("messages from the SA's peer", Received::From(remote)),
            );
        }
        if !m.is_encrypted() {
            match informational::clear(&mut self.cx, sa, remote, m) {
                Ok(Some(t)) => self.remove_sa(
                    id,
                    "peer sent an error notification",
                    None,
                    FailReason::PeerNotified(t),
                ),
                Ok(None) => {}
                Err(reason) => self.cx.drop_input(remote, reason),
            }
            return;
        }
        let mut plain = Vec::new();
        let inb = match informational::open(sa, m, &mut plain) {
            Ok(i) => i,
            Err(reason) => return self.cx.drop_input(remote, reason),
        };
        sa.dpd.last_heard = now;
        // Payload by payload, in order: one may delete the SA the next
        // ones came on.
        for p in inb.typed.iter().skip(1) {
            match p {
                PayloadRepr::Notification(n) => {
                    let followup =
                        informational::notify(&mut self.cx, self.sas.get_mut(&id), id, remote, n);
                    if let NotifyFollowup::PurgePeer = followup {
                        self.purge_peer(id, true, DeletedBy::InitialContact);
                    }
                }
                PayloadRepr::Delete(d) => self.protected_delete(id, remote, d),
                _ => {}
            }
        }
    }

    /// A protected Delete: ISAKMP SAs by cookies (with the same peer),
    /// IPsec SAs by SPI.
    fn protected_delete(&mut self, id: IsakmpSaId, remote: SocketAddr, d: &DeleteRepr<'_>) {
        let ctx = self.sas.get(&id).and_then(IsakmpSa::trace_sa);
        self.cx.trace(
            ctx,
            TraceEvent::DeleteReceived {
                protocol: d.protocol.0,
                spis: d.spis.iter().map(|s| s.to_vec()).collect(),
            },
        );
        if d.protocol != ProtocolId::ISAKMP {
            return informational::delete_ipsec(&mut self.cx, remote, d);
        }
        for spi in &d.spis {
            let Ok(spi) = <[u8; 16]>::try_from(*spi) else {
                continue;
            };
            let (mut ic, mut rc) = ([0u8; 8], [0u8; 8]);
            ic.copy_from_slice(&spi[..8]);
            rc.copy_from_slice(&spi[8..]);
            let target = self.lookup(ic, rc).filter(|t| {
                self.sas
                    .get(t)
                    .is_some_and(|s| s.remote.ip() == remote.ip())
            });
            if let Some(t) = target {
                self.remove_sa(
                    t,
                    "peer deleted it",
                    Some(DeletedBy::Peer),
                    FailReason::SaDeleted,
                );
            } else {
                self.cx
                    .drop_input(remote, DropReason::State(StateDrop::UnknownSpi));
            }
        }
    }

    /// Tells the peer an ISAKMP SA is gone (if it is established).
    fn send_isakmp_delete(&mut self, _now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get(&id) else {
            return;
        };
        if !sa.is_established() {
            return;
        }
        let spi = sa.spi16();
        informational::send_delete(&mut self.cx, sa, ProtocolId::ISAKMP, &spi);
    }

    /// Tells the peer an IPsec SA pair is gone, over the SA that made it or
    /// another established one with the peer.
    fn send_ipsec_delete(&mut self, _now: Instant, s: &IpsecSa) {
        let via = if self
            .sas
            .get(&s.isakmp)
            .is_some_and(IsakmpSa::is_established)
        {
            Some(s.isakmp)
        } else {
            self.best_established(s.local, s.remote)
        };
        let Some(sa) = via.and_then(|v| self.sas.get(&v)) else {
            return;
        };
        let spi = s.inbound.to_bytes();
        informational::send_delete(&mut self.cx, sa, ProtocolId::ESP, &spi);
    }

    /// Sends an R-U-THERE on an SA now; its sequence number.
    fn send_r_u_there(&mut self, now: Instant, id: IsakmpSaId) -> u32 {
        match self.sas.get_mut(&id) {
            Some(sa) => informational::send_r_u_there(&mut self.cx, now, sa),
            None => 0,
        }
    }

    /// DPD on one SA; a dead peer loses every SA.
    fn dpd_timer(&mut self, now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        if informational::dpd_timer(&mut self.cx, now, sa) {
            let peer = sa.remote;
            self.cx.events.push_back(Event::DpdTimeout { sa: id, peer });
            // The peer is gone: forget its SAs without telling it.
            self.purge_peer(id, false, DeletedBy::DeadPeer);
            self.remove_sa(
                id,
                "peer dead (DPD)",
                Some(DeletedBy::DeadPeer),
                FailReason::SaDeleted,
            );
        }
    }
}

#[cfg(feature = "fuzzing")]
impl Endpoint {
    /// Fuzzing: a Transaction message carrying `body` as its Attribute
    /// payload on our first established ISAKMP SA, sealed with its keys
    /// as we would send it (see `transaction::seal_raw`), for delivery to
    /// the peer.
    pub(crate) fn seal_transaction(&self, mid: Option<u32>, body: &[u8]) -> Option<Vec<u8>> {
        let sa = self.sas.values().find(|s| s.is_established())?;
        transaction::seal_raw(&self.cx, sa, mid, body)
    }

    /// Fuzzing: the identifier of the request in progress on our first
    /// established SA (ours, or the peer's we answer).
    pub(crate) fn transaction_identifier(&self) -> Option<u16> {
        let sa = self.sas.values().find(|s| s.is_established())?;
        sa.ra.as_ref()?.current_with_id().map(|(_, _, id)| id)
    }
}

/// Who counts as "the same peer" for INITIAL-CONTACT and DPD: the same
/// IP address; but behind a NAT, where one public address hides many
/// hosts, only the same address and port, or the same IP address with the
/// same authenticated identity (a host that came back on a new port), so
/// that one host behind a NAT never takes its neighbours' SAs down.
struct PeerKey {
    remote: SocketAddr,
    behind_nat: bool,
    identity: Option<Identity>,
    /// The XAUTH user: remote-access clients behind one NAT share their
    /// group's identity, and only the same user is the same peer.
    user: Option<String>,
}

impl PeerKey {
    fn of(sa: &IsakmpSa) -> Self {
        PeerKey {
            remote: sa.remote,
            behind_nat: sa.nat.remote_behind_nat,
            identity: sa.established().map(|e| e.peer_identity.clone()),
            user: sa.ra.as_ref().and_then(|r| r.user.clone()),
        }
    }

    fn matches(&self, other: &IsakmpSa) -> bool {
        if other.remote.ip() != self.remote.ip() {
            return false;
        }
        !self.behind_nat
            || other.remote == self.remote
            || (self.identity.is_some()
                && other.established().map(|e| &e.peer_identity) == self.identity.as_ref()
                && other.ra.as_ref().and_then(|r| r.user.as_ref()) == self.user.as_ref())
    }

    /// For an IPsec SA pair, by its peer address alone (its ISAKMP SA may
    /// be gone).
    fn matches_pair(&self, remote: SocketAddr) -> bool {
        if self.behind_nat {
            remote == self.remote
        } else {
            remote.ip() == self.remote.ip()
        }
    }
}
