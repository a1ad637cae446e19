//! What a [`Discovery`](super::Discovery) reports: events, drop reasons and
//! counters.
//!
//! The events carry enough to render IOS's `debug crypto isakmp` lines for
//! TED (see [`crate::log`]) and to act on a discovery (derive the crypto
//! map entry, start Main Mode).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use isakmp_wire::{Cookie, PayloadType};

use super::trigger::Trigger;
use crate::acl::{AclName, ProxyIdent};

/// Identifies one discovery (initiator side) or one answered probe
/// (responder side) within a [`Discovery`](super::Discovery): the TED
/// "SA" of IOS's log, which a log maps to a connection ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DiscoveryId(pub u64);

impl fmt::Display for DiscoveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// An event of the discovery, drained with
/// [`Discovery::poll_event`](super::Discovery::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// Initiator: a discovery began; its first probe is queued.
    Started {
        /// The discovery.
        id: DiscoveryId,
        /// The probe's initiator cookie.
        cookie: Cookie,
        /// The probe's IP source and UDP port.
        source: SocketAddrV4,
        /// The probe's IP destination and UDP port.
        destination: SocketAddrV4,
        /// What triggered it.
        trigger: Box<Trigger>,
    },
    /// Initiator: a probe was queued for sending.
    ProbeSent {
        /// The discovery.
        id: DiscoveryId,
        /// The probe's initiator cookie.
        cookie: Cookie,
        /// IP source and UDP port (the protected host's address).
        source: SocketAddrV4,
        /// IP destination and UDP port (the probed host).
        destination: SocketAddrV4,
        /// 0 for the first probe, then 1, 2, ... for retransmissions.
        attempt: u32,
        /// Interface and next hop the probe leaves through, when known.
        via: Option<crate::config::RouteLookup>,
    },
    /// Initiator: a response matched a pending probe and passed every
    /// check; the peer is known.
    Discovered(Box<Discovered>),
    /// Initiator: no acceptable response came after the last
    /// retransmission.
    GaveUp {
        /// The discovery.
        id: DiscoveryId,
        /// The probe's initiator cookie.
        cookie: Cookie,
        /// The local proxy of the pair.
        local_proxy: ProxyIdent,
        /// The probed host.
        destination: Ipv4Addr,
        /// Probes sent in all.
        probes_sent: u32,
        /// Packets that triggered this discovery (the first included).
        triggers: u64,
        /// New triggers for the pair are refused until then.
        hold_down_until: Option<Instant>,
    },
    /// Initiator: a response was dropped.
    ResponseDropped {
        /// The discovery it claimed to answer, if its cookie matched one.
        id: Option<DiscoveryId>,
        /// IP source and port.
        source: SocketAddrV4,
        /// Why.
        reason: ResponseDropReason,
    },
    /// Responder: a well-formed probe arrived (it is then either answered
    /// or dropped).
    ProbeReceived(Box<ProbeInfo>),
    /// Responder: a probe was answered.
    ProbeAnswered(Box<ProbeAnswer>),
    /// Responder: a probe was not answered.
    ProbeDropped {
        /// The answer's ID, if the probe got as far as
        /// [`Event::ProbeReceived`].
        id: Option<DiscoveryId>,
        /// IP source and port.
        source: SocketAddrV4,
        /// IP destination and port (the probed host).
        destination: SocketAddrV4,
        /// Why.
        reason: ProbeDropReason,
    },
}

/// A finished discovery: who the peer is and which proxies to negotiate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovered {
    /// The discovery.
    pub id: DiscoveryId,
    /// The peer: the address in the response's ID payload, to run Main
    /// Mode with (11.11.11.2 in the seed).
    pub peer: Ipv4Addr,
    /// Where the response came from (IP source and port).
    pub response_source: SocketAddrV4,
    /// The local proxy (13.13.13.0/24 in the seed).
    pub local_proxy: ProxyIdent,
    /// The responder's proxy (12.12.12.0/24 in the seed): the remote proxy
    /// of the Quick Mode to come.
    pub remote_proxy: ProxyIdent,
    /// Whether the response echoed the local proxy (a two-block proxy
    /// payload); a one-block payload carries only the responder's.
    pub echoed_local_proxy: bool,
    /// The payload number the proxy payload came as (16 or 239).
    pub proxy_payload_type: PayloadType,
    /// Whether the response's first vendor ID is Cisco IOS's.
    pub ios_vendor: bool,
    /// Vendor IDs after the proxy payload.
    pub extra_vendor_ids: usize,
    /// The probe's initiator cookie.
    pub initiator_cookie: Cookie,
    /// The responder's cookie.
    pub responder_cookie: Cookie,
    /// Probes sent before the response came.
    pub probes_sent: u32,
    /// Packets that triggered the discovery (the first included).
    pub triggers: u64,
    /// When the discovery began.
    pub started: Instant,
    /// Time from the last probe to the response.
    pub round_trip: Duration,
    /// The trigger: crypto map, entry, template, access list, the packet's
    /// addresses, this router's IKE address; what the crypto map entry for
    /// the peer is derived from.
    pub trigger: Trigger,
}

impl Discovered {
    /// The crypto map.
    pub fn map(&self) -> &str {
        &self.trigger.map
    }

    /// The access list that matched.
    pub fn acl(&self) -> &AclName {
        &self.trigger.acl
    }
}

/// A probe as received, before it is answered or dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeInfo {
    /// The answer's ID (the responder's TED "SA").
    pub id: DiscoveryId,
    /// IP source and port (a protected host behind the initiator).
    pub source: SocketAddrV4,
    /// IP destination and port (the probed host).
    pub destination: SocketAddrV4,
    /// The initiator cookie.
    pub cookie: Cookie,
    /// Whether the first vendor ID is Cisco IOS's.
    pub ios_vendor: bool,
    /// The address in the first ID payload (the initiator's IKE address).
    pub initiator_address: Ipv4Addr,
    /// The first ID's protocol and port (17 and 500 from IOS).
    pub initiator_address_protocol: u8,
    /// The first ID's port.
    pub initiator_address_port: u16,
    /// The initiator's proxy (the second ID), when it is an IPv4 address or
    /// subnet.
    pub proxy: Option<ProxyIdent>,
    /// Vendor IDs after the IDs.
    pub extra_vendor_ids: usize,
}

/// An answered probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeAnswer {
    /// The answer's ID.
    pub id: DiscoveryId,
    /// The probe's IP source and port.
    pub probe_source: SocketAddrV4,
    /// The probed host.
    pub probed_host: Ipv4Addr,
    /// The response's source: this router's IKE address ("TED V3").
    pub response_source: SocketAddrV4,
    /// The response's destination: the address in the probe's first ID.
    pub response_destination: SocketAddrV4,
    /// The initiator's proxy, echoed.
    pub initiator_proxy: ProxyIdent,
    /// This side's proxy: the source of the mirrored access list line.
    pub responder_proxy: ProxyIdent,
    /// The crypto map whose entry mirrored the probe.
    pub map: String,
    /// That entry.
    pub map_seq: u32,
    /// The dynamic map template entry, for a dynamic entry.
    pub template_seq: Option<u32>,
    /// The access list.
    pub acl: AclName,
    /// The access list line.
    pub acl_seq: u32,
    /// The initiator cookie, echoed.
    pub initiator_cookie: Cookie,
    /// The fresh responder cookie.
    pub responder_cookie: Cookie,
    /// The payload number the proxy payload is sent as.
    pub proxy_payload_type: PayloadType,
}

/// Why a probe was not answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProbeDropReason {
    /// Not a well-formed TED probe (bad header or payload chain, wrong
    /// payload order, flags or message ID set).
    Malformed,
    /// The first ID is not an ID_IPV4_ADDR.
    BadAddressId,
    /// The ID address is not a unicast IPv4 address (0/8, 127/8,
    /// multicast, class E, broadcast).
    NonUnicastAddress,
    /// The ID address is one of this router's addresses, a network or
    /// broadcast address of one of its subnets, or inside the network it
    /// protects for this probe: answering would reflect into ourselves.
    ReflectedAddress,
    /// The ID address is inside the probe's own proxy (see
    /// [`DiscoveryConfig::reject_address_in_probe_proxy`](super::DiscoveryConfig::reject_address_in_probe_proxy)).
    AddressInProbeProxy,
    /// The proxy is not an IPv4 address or contiguous subnet.
    UnsupportedProxy,
    /// The probe's IP source is outside the proxy it carries.
    SourceOutsideProxy,
    /// No local crypto access list mirrors the probe; it is not ours (a
    /// router passes it on towards its destination).
    NotMirrored,
    /// The crypto map whose list mirrors the probe has no local address.
    NoLocalAddress,
    /// The token bucket is empty.
    RateLimited,
    /// The RNG gave an all-zero responder cookie repeatedly.
    NoCookie,
    /// The transmit queue is full.
    QueueFull,
}

impl ProbeDropReason {
    /// A short description, for logs.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "malformed probe",
            Self::BadAddressId => "first ID is not an IPv4 address",
            Self::NonUnicastAddress => "ID address is not unicast",
            Self::ReflectedAddress => "ID address is ours or in our protected network",
            Self::AddressInProbeProxy => "ID address is inside the probe's proxy",
            Self::UnsupportedProxy => "proxy is not an IPv4 subnet",
            Self::SourceOutsideProxy => "probe source is outside its proxy",
            Self::NotMirrored => "no crypto access list mirrors the probe",
            Self::NoLocalAddress => "crypto map has no local address",
            Self::RateLimited => "rate limit",
            Self::NoCookie => "no responder cookie",
            Self::QueueFull => "transmit queue full",
        }
    }
}

impl fmt::Display for ProbeDropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Why a response was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ResponseDropReason {
    /// Not a well-formed TED response.
    Malformed,
    /// Its initiator cookie matches no pending discovery (late, duplicated
    /// or forged).
    UnknownCookie,
    /// Its responder cookie is zero.
    ZeroResponderCookie,
    /// The ID is not an ID_IPV4_ADDR.
    BadAddressId,
    /// The ID address is not a unicast IPv4 address.
    NonUnicastAddress,
    /// The proxy payload came as 239 and that is not accepted.
    AlternateProxyPayload,
    /// A proxy is not an IPv4 address or contiguous subnet.
    UnsupportedProxy,
    /// The responder's proxy does not contain the probed host.
    ProxyMissesHost,
    /// The echoed initiator proxy is not the one probed.
    ProxyMismatch,
    /// The responder's proxy is not inside the local access list entry's
    /// destination.
    ProxyOutsidePolicy,
    /// The IP source differs from the ID address (when required).
    SourceMismatch,
}

impl ResponseDropReason {
    /// A short description, for logs.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Malformed => "malformed response",
            Self::UnknownCookie => "no pending probe has its cookie",
            Self::ZeroResponderCookie => "responder cookie is zero",
            Self::BadAddressId => "ID is not an IPv4 address",
            Self::NonUnicastAddress => "ID address is not unicast",
            Self::AlternateProxyPayload => "proxy payload 239 not accepted",
            Self::UnsupportedProxy => "proxy is not an IPv4 subnet",
            Self::ProxyMissesHost => "responder's proxy does not contain the probed host",
            Self::ProxyMismatch => "echoed proxy is not the one probed",
            Self::ProxyOutsidePolicy => "responder's proxy is outside our access list",
            Self::SourceMismatch => "response source is not its ID address",
        }
    }
}

impl fmt::Display for ResponseDropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// What happened to a [`Trigger`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TriggerOutcome {
    /// A discovery began and its first probe is queued.
    Started(DiscoveryId),
    /// A discovery for the pair is pending; the trigger was counted.
    Pending {
        /// The pending discovery.
        id: DiscoveryId,
        /// Its triggers so far, this one included.
        triggers: u64,
    },
    /// A discovery for the pair gave up recently; refused until then.
    HeldDown {
        /// When the hold-down ends.
        until: Instant,
    },
    /// [`DiscoveryConfig::max_pending`](super::DiscoveryConfig::max_pending)
    /// discoveries are pending.
    TooManyPending,
    /// The RNG gave unusable cookies (zero or in use) repeatedly.
    NoCookie,
}

/// What [`Discovery::handle_datagram`](super::Discovery::handle_datagram)
/// did with a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Disposition {
    /// Not a TED message (not ISAKMP, or another exchange type): hand it to
    /// IKE, or forward it.
    NotTed,
    /// A TED message, processed: answered, matched, or dropped.
    Consumed,
    /// A well-formed probe that no local access list mirrors: not ours. A
    /// router on the path forwards it towards its destination, where
    /// another router may own it.
    PassOn,
}

/// Counters of a [`Discovery`](super::Discovery).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Triggers handled.
    pub triggers: u64,
    /// Triggers counted against a pending discovery.
    pub triggers_pending: u64,
    /// Triggers refused by the hold-down.
    pub triggers_held_down: u64,
    /// Triggers refused: too many pending, or no usable cookie.
    pub triggers_refused: u64,
    /// Discoveries begun.
    pub discoveries_started: u64,
    /// Discoveries finished with a peer.
    pub discoveries_completed: u64,
    /// Discoveries given up.
    pub discoveries_failed: u64,
    /// Probes sent, first sends and retransmissions.
    pub probes_sent: u64,
    /// Of which retransmissions.
    pub probes_retransmitted: u64,
    /// Probes received (well-formed or not).
    pub probes_received: u64,
    /// Probes answered.
    pub probes_answered: u64,
    /// Responses received (well-formed or not).
    pub responses_received: u64,
    /// Datagrams dropped because the transmit queue was full.
    pub transmits_dropped: u64,
    /// Events dropped because the event queue was full.
    pub events_dropped: u64,
    probe_drops: BTreeMap<ProbeDropReason, u64>,
    response_drops: BTreeMap<ResponseDropReason, u64>,
}

impl Stats {
    /// Probes dropped for `reason`.
    pub fn probes_dropped(&self, reason: ProbeDropReason) -> u64 {
        self.probe_drops.get(&reason).copied().unwrap_or(0)
    }

    /// Probes dropped, all reasons.
    pub fn probes_dropped_total(&self) -> u64 {
        self.probe_drops.values().sum()
    }

    /// Each reason probes were dropped for, with its count.
    pub fn probe_drops(&self) -> impl Iterator<Item = (ProbeDropReason, u64)> + '_ {
        self.probe_drops.iter().map(|(r, n)| (*r, *n))
    }

    /// Responses dropped for `reason`.
    pub fn responses_dropped(&self, reason: ResponseDropReason) -> u64 {
        self.response_drops.get(&reason).copied().unwrap_or(0)
    }

    /// Responses dropped, all reasons.
    pub fn responses_dropped_total(&self) -> u64 {
        self.response_drops.values().sum()
    }

    /// Each reason responses were dropped for, with its count.
    pub fn response_drops(&self) -> impl Iterator<Item = (ResponseDropReason, u64)> + '_ {
        self.response_drops.iter().map(|(r, n)| (*r, *n))
    }

    pub(crate) fn count_probe_drop(&mut self, reason: ProbeDropReason) {
        let n = self.probe_drops.entry(reason).or_insert(0);
        *n = n.saturating_add(1);
    }

    pub(crate) fn count_response_drop(&mut self, reason: ResponseDropReason) {
        let n = self.response_drops.entry(reason).or_insert(0);
        *n = n.saturating_add(1);
    }
}
