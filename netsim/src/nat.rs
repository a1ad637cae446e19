//! A Sans-IO NAT box: a [`Node`] with an inside and an outside interface
//! that masquerades as Linux's nftables `masquerade` (and a home router)
//! does.
//!
//! # What it does
//!
//! A packet arriving on the [`inside`](NatBox::INSIDE) interface leaves
//! by the [`outside`](NatBox::OUTSIDE) one with its source address
//! rewritten to the box's outside address, through a *mapping* (a
//! connection-tracking entry) that the first packet of a flow creates:
//!
//! - **UDP and TCP**: keyed by the whole 5-tuple, as conntrack is; the
//!   source port is mapped by the [`PortPolicy`]: kept when no other
//!   mapping to the same remote endpoint uses it (Linux's default), else
//!   (or always, with [`PortPolicy::Renumber`], as many carrier NATs and
//!   `masquerade random` do) another one. A port kept from below 512 is
//!   replaced from 1-511, one from 512-1023 from 600-1023, others from
//!   1024-65535, Linux's ranges.
//! - **ICMP echo**: an echo request maps its identifier as UDP maps a
//!   port; the echo reply comes back by it. Other ICMP (errors included)
//!   is not translated: dropped and counted.
//! - **Any other protocol** (ESP, 50, above all): by address only, as
//!   conntrack's generic tracking does: one inside host per remote address
//!   and protocol (a second one is a clash, dropped and counted); or, with
//!   [`OtherProtocols::Drop`], dropped as many home NATs drop ESP.
//!
//! A packet arriving on the outside interface whose (protocol, source
//! address and port, destination port) is a mapping's reply tuple (the
//! destination being the outside address) is rewritten back and forwarded
//! inside; anything else from outside is dropped and counted
//! ([`NatCounters::dropped_unmapped`]): the filtering is address and port
//! dependent, as conntrack's.
//!
//! Both ways the TTL is decremented and the IPv4 header checksum
//! recomputed; the UDP, TCP and ICMP checksums are updated incrementally
//! (RFC 1624), so a UDP checksum of zero stays zero and a correct checksum
//! stays correct. Packets whose IPv4 header or UDP/ICMP checksum does not
//! verify, fragments (the box does not reassemble, Linux's does),
//! truncated headers and anything else that does not read are dropped and
//! counted, never a panic.
//!
//! # Timeouts
//!
//! A mapping lives while packets cross it, either way; idle for its
//! protocol's timeout, it expires ([`NatTimeouts`], driven by the
//! simulated clock through [`Node::poll_timeout`] and
//! [`Node::handle_timeout`]). The defaults are conntrack's
//! (`nf_conntrack_*_timeout`): UDP 30 s until a reply has been seen and
//! 120 s after (`udp_timeout` and `udp_timeout_stream`), ICMP 30 s, other
//! protocols 600 s (`generic_timeout`); TCP, tracked without its state
//! machine, 7440 s (RFC 5382's minimum for an established connection).
//! A NAT-T keepalive every 20 s keeps a UDP mapping alive under both.
//!
//! [`NatBox::rebind`] forces a mapping change: the mappings of an inside
//! endpoint go, and its next packet gets a new outside port (never the
//! old one), as a NAT that rebooted or a carrier NAT that reassigned it
//! would. [`NatBox::mappings`] lists the mappings and
//! [`NatBox::counters`] counts what the box did.
//!
//! # Routing
//!
//! The inside hosts have the box's inside address as their default
//! gateway. Outward, a destination on the outside link goes straight to
//! it, anything else to the configured next hop
//! ([`NatConfig::with_gateway`]). Inward, a destination on the inside link
//! goes straight to it, others by [`NatConfig::with_inside_route`].
//! Everything is bounded: the mapping table (a new flow beyond
//! [`NatConfig::with_max_mappings`] is dropped and counted), the remembered
//! rebinds, the output queue.
//!
//! # Example
//!
//! A host behind the box pings a host outside; the outside host sees the
//! box's address.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use std::time::{Duration, Instant};
//! use netsim::{Host, LinkConfig, NatBox, NatConfig, Network};
//!
//! let t0 = Instant::now();
//! let mut net = Network::new(t0, 1);
//! let lan = net.add_link("192.168.1.0/24", LinkConfig::default());
//! let wan = net.add_link("203.0.113.0/24", LinkConfig::default());
//! let (inside, outside) = (Ipv4Addr::new(192, 168, 1, 1), Ipv4Addr::new(203, 0, 113, 1));
//! let (laptop_ip, server_ip) = (Ipv4Addr::new(192, 168, 1, 10), Ipv4Addr::new(203, 0, 113, 9));
//! let laptop = net.add_node("laptop", Host::new(laptop_ip, 24, Some(inside)));
//! let server = net.add_node("server", Host::new(server_ip, 24, None));
//! let nat = net.add_node("nat", NatBox::new(NatConfig::new(inside, 24, outside, 24)));
//! net.attach(laptop, Host::INTERFACE, laptop_ip, lan)?;
//! net.attach(nat, NatBox::INSIDE, inside, lan)?;
//! net.attach(nat, NatBox::OUTSIDE, outside, wan)?;
//! net.attach(server, Host::INTERFACE, server_ip, wan)?;
//!
//! net.node_mut::<Host>(laptop).unwrap().ping(t0, server_ip, 3, Duration::from_secs(1));
//! net.run_for(Duration::from_secs(5), 10_000);
//! assert_eq!(net.node::<Host>(laptop).unwrap().echo_replies().len(), 3);
//! let box_ = net.node::<NatBox>(nat).unwrap();
//! let m = box_.mappings().next().unwrap();
//! assert_eq!((*m.inside.ip(), *m.outside.ip()), (laptop_ip, outside));
//! assert_eq!(box_.counters().translated_in, 3);
//! // The server saw only the box.
//! let seen = net.node::<Host>(server).unwrap().received().next().unwrap();
//! assert_eq!(esp::ip::Ipv4Packet::parse(&seen.packet)?.header.source, outside);
//! // Idle for ICMP's 30 s, the mapping is gone.
//! net.run_for(Duration::from_secs(40), 10_000);
//! assert_eq!(net.node::<NatBox>(nat).unwrap().mappings().count(), 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use super::{Node, Output};
use esp::ip::{self as packet, Ipv4Packet, Transport, icmp_type, protocol};
use ted::config::InterfaceName;

/// TCP's protocol number (not among `esp::ip::protocol`'s).
const PROTO_TCP: u8 = 6;
/// Bytes of a TCP header without options.
const TCP_HEADER_LEN: usize = 20;
/// Where the checksum sits in a UDP, TCP and ICMP header.
const UDP_CHECKSUM_AT: usize = 6;
const TCP_CHECKSUM_AT: usize = 16;
const ICMP_CHECKSUM_AT: usize = 2;
/// Where an ICMP echo's identifier sits.
const ICMP_ID_AT: usize = 4;
/// Where the addresses sit in an IPv4 header.
const SOURCE_AT: usize = 12;
const DESTINATION_AT: usize = 16;
/// Outputs queued at most (the network drains them after every event).
const MAX_QUEUED: usize = 10_000;
/// Where [`PortPolicy::Renumber`] starts counting (IANA's dynamic range).
const RENUMBER_FIRST: u16 = 49_152;

/// How the source port (or echo identifier) of a new mapping is chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PortPolicy {
    /// Keep the inside port when no mapping to the same remote endpoint
    /// has it as its outside port, else the next free one in the port's
    /// range (Linux's `masquerade`).
    #[default]
    Preserve,
    /// Always a new port, counted up from 49152 (wrapping within
    /// 1024-65535), never the inside one (`masquerade random`, carrier
    /// NATs).
    Renumber,
}

/// What the box does with protocols other than UDP, TCP and ICMP (ESP
/// above all).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OtherProtocols {
    /// Translate the address only, one inside host per remote address and
    /// protocol (conntrack's generic tracking).
    #[default]
    Translate,
    /// Drop them, both ways (many home NATs drop ESP).
    Drop,
}

/// How long an idle mapping lives, per protocol (see the [module
/// documentation](self) for the defaults' origin).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NatTimeouts {
    /// UDP until a reply has been seen (30 s).
    pub udp: Duration,
    /// UDP once a reply has been seen (120 s).
    pub udp_replied: Duration,
    /// TCP (7440 s).
    pub tcp: Duration,
    /// ICMP echo (30 s).
    pub icmp: Duration,
    /// Other protocols (600 s).
    pub other: Duration,
}

impl Default for NatTimeouts {
    fn default() -> Self {
        Self {
            udp: Duration::from_secs(30),
            udp_replied: Duration::from_secs(120),
            tcp: Duration::from_secs(7440),
            icmp: Duration::from_secs(30),
            other: Duration::from_secs(600),
        }
    }
}

impl NatTimeouts {
    /// The same timeouts with UDP's (replied or not) set to `timeout`, as
    /// a home router with one UDP timeout has.
    #[must_use]
    pub fn with_udp(mut self, timeout: Duration) -> Self {
        self.udp = timeout;
        self.udp_replied = timeout;
        self
    }

    /// The same timeouts with other protocols' set to `timeout`.
    #[must_use]
    pub fn with_other(mut self, timeout: Duration) -> Self {
        self.other = timeout;
        self
    }

    /// The same timeouts with ICMP's set to `timeout`.
    #[must_use]
    pub fn with_icmp(mut self, timeout: Duration) -> Self {
        self.icmp = timeout;
        self
    }

    /// The same timeouts with TCP's set to `timeout`.
    #[must_use]
    pub fn with_tcp(mut self, timeout: Duration) -> Self {
        self.tcp = timeout;
        self
    }
}

/// An IPv4 prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Prefix {
    network: Ipv4Addr,
    len: u8,
}

impl Prefix {
    fn new(address: Ipv4Addr, len: u8) -> Self {
        Self {
            network: address,
            len: len.min(32),
        }
    }

    fn mask(self) -> u32 {
        u32::MAX.checked_shl(32 - u32::from(self.len)).unwrap_or(0)
    }

    fn contains(self, address: Ipv4Addr) -> bool {
        u32::from(address) & self.mask() == u32::from(self.network) & self.mask()
    }
}

/// A [`NatBox`]'s configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatConfig {
    inside: Ipv4Addr,
    inside_prefix: Prefix,
    outside: Ipv4Addr,
    outside_prefix: Prefix,
    gateway: Option<Ipv4Addr>,
    inside_routes: Vec<(Prefix, Ipv4Addr)>,
    ports: PortPolicy,
    other: OtherProtocols,
    timeouts: NatTimeouts,
    max_mappings: usize,
}

impl NatConfig {
    /// How many mappings a box holds by default.
    pub const DEFAULT_MAX_MAPPINGS: usize = 4096;
    /// How many inside routes a configuration holds at most (more are
    /// ignored).
    pub const MAX_INSIDE_ROUTES: usize = 64;

    /// A box with its inside and outside addresses and their links'
    /// prefix lengths; no next hop beyond the outside link, ports
    /// preserved, other protocols translated, conntrack's timeouts, 4096
    /// mappings at most.
    pub fn new(inside: Ipv4Addr, inside_prefix: u8, outside: Ipv4Addr, outside_prefix: u8) -> Self {
        Self {
            inside,
            inside_prefix: Prefix::new(inside, inside_prefix),
            outside,
            outside_prefix: Prefix::new(outside, outside_prefix),
            gateway: None,
            inside_routes: Vec::new(),
            ports: PortPolicy::default(),
            other: OtherProtocols::default(),
            timeouts: NatTimeouts::default(),
            max_mappings: Self::DEFAULT_MAX_MAPPINGS,
        }
    }

    /// The next hop on the outside link for destinations beyond it.
    #[must_use]
    pub fn with_gateway(mut self, next_hop: Ipv4Addr) -> Self {
        self.gateway = Some(next_hop);
        self
    }

    /// A route on the inside: `network/len` through `next_hop` (on the
    /// inside link).
    #[must_use]
    pub fn with_inside_route(mut self, network: Ipv4Addr, len: u8, next_hop: Ipv4Addr) -> Self {
        if self.inside_routes.len() < Self::MAX_INSIDE_ROUTES {
            self.inside_routes
                .push((Prefix::new(network, len), next_hop));
        }
        self
    }

    /// The port policy.
    #[must_use]
    pub fn with_ports(mut self, ports: PortPolicy) -> Self {
        self.ports = ports;
        self
    }

    /// What to do with protocols other than UDP, TCP and ICMP.
    #[must_use]
    pub fn with_other_protocols(mut self, other: OtherProtocols) -> Self {
        self.other = other;
        self
    }

    /// The idle timeouts.
    #[must_use]
    pub fn with_timeouts(mut self, timeouts: NatTimeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The most mappings the box holds (at least one).
    #[must_use]
    pub fn with_max_mappings(mut self, max: usize) -> Self {
        self.max_mappings = max.max(1);
        self
    }

    /// The inside address.
    pub fn inside(&self) -> Ipv4Addr {
        self.inside
    }

    /// The outside address.
    pub fn outside(&self) -> Ipv4Addr {
        self.outside
    }

    /// The timeouts.
    pub fn timeouts(&self) -> NatTimeouts {
        self.timeouts
    }
}

/// A mapping: a flow from an inside endpoint to a remote one, seen from
/// outside as coming from `outside`.
///
/// For ICMP echo the ports are the identifier (the remote's is 0); for
/// other protocols all ports are 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Mapping {
    /// The IP protocol.
    pub protocol: u8,
    /// The inside endpoint.
    pub inside: SocketAddrV4,
    /// What the outside sees.
    pub outside: SocketAddrV4,
    /// The remote endpoint.
    pub remote: SocketAddrV4,
    /// When the first packet created it.
    pub created: Instant,
    /// When a packet last crossed it.
    pub last_seen: Instant,
    /// When it expires unless a packet crosses it.
    pub expires: Instant,
    /// Whether a reply has come back through it.
    pub replied: bool,
    /// Packets translated outward.
    pub packets_out: u64,
    /// Packets translated inward.
    pub packets_in: u64,
}

/// What a [`NatBox`] counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NatCounters {
    /// Packets received, both interfaces.
    pub received: u64,
    /// Packets translated inside to outside and sent.
    pub translated_out: u64,
    /// Packets translated outside to inside and sent.
    pub translated_in: u64,
    /// Mappings created.
    pub mappings_created: u64,
    /// Mappings that expired idle.
    pub expired: u64,
    /// Mappings removed by [`NatBox::rebind`].
    pub rebound: u64,
    /// Packets from outside that match no mapping (unsolicited, late after
    /// an expiry or a rebind, or for another address).
    pub dropped_unmapped: u64,
    /// Packets that do not read: bad IPv4 header or checksum, truncated or
    /// inconsistent transport header, bad UDP or ICMP checksum.
    pub dropped_malformed: u64,
    /// IPv4 fragments (the box does not reassemble).
    pub dropped_fragment: u64,
    /// ICMP other than echo from inside (errors included), and echo
    /// replies from inside (no inbound mapping is ever created).
    pub dropped_unsupported: u64,
    /// Other protocols dropped by [`OtherProtocols::Drop`].
    pub dropped_policy: u64,
    /// New flows beyond the mapping table's size.
    pub dropped_table_full: u64,
    /// New flows that found no outside port, or (other protocols) whose
    /// remote address and protocol another inside host holds.
    pub dropped_clash: u64,
    /// Packets whose TTL ran out.
    pub dropped_ttl: u64,
    /// Packets with no next hop.
    pub dropped_no_route: u64,
    /// Packets addressed to the box itself from inside (nothing answers),
    /// or to the inside link from inside.
    pub dropped_local: u64,
    /// Packets on an interface that is neither inside nor outside.
    pub dropped_interface: u64,
    /// Outputs dropped because the queue was full (nobody drained it).
    pub dropped_queue_full: u64,
}

type MapId = u64;

/// Inside to outside: (protocol, inside address, inside port, remote
/// address, remote port).
type FlowKey = (u8, Ipv4Addr, u16, Ipv4Addr, u16);
/// Outside to inside: (protocol, remote address, remote port, outside
/// port).
type ReplyKey = (u8, Ipv4Addr, u16, u16);

/// What a packet is, to the box.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// UDP or TCP with its ports, and where its checksum sits (`None` for
    /// a UDP checksum of zero).
    Ported {
        source: u16,
        destination: u16,
        checksum_at: Option<usize>,
    },
    /// An ICMP echo request (outbound) or reply (inbound) with its
    /// identifier.
    Echo { identifier: u16 },
    /// Another protocol.
    Other,
}

/// A packet read far enough to translate it.
#[derive(Clone, Copy, Debug)]
struct Read {
    protocol: u8,
    source: Ipv4Addr,
    destination: Ipv4Addr,
    header_len: usize,
    ttl: u8,
    kind: Kind,
}

/// A masquerading NAT (see the [module documentation](self)).
#[derive(Debug)]
pub struct NatBox {
    config: NatConfig,
    inside_if: InterfaceName,
    outside_if: InterfaceName,
    mappings: BTreeMap<MapId, Mapping>,
    by_flow: BTreeMap<FlowKey, MapId>,
    by_reply: BTreeMap<ReplyKey, MapId>,
    expiry: BTreeSet<(Instant, MapId)>,
    /// Inside endpoints (protocol, address, port) that must get a new
    /// port, with the outside ports they must not get again.
    rebound: BTreeMap<(u8, SocketAddrV4), BTreeSet<u16>>,
    next_id: MapId,
    next_port: u16,
    outputs: VecDeque<Output>,
    counters: NatCounters,
}

impl NatBox {
    /// The inside interface's name.
    pub const INSIDE: &'static str = "inside";
    /// The outside interface's name.
    pub const OUTSIDE: &'static str = "outside";

    /// A box with this configuration and no mappings.
    pub fn new(config: NatConfig) -> Self {
        Self {
            config,
            inside_if: InterfaceName::new(Self::INSIDE),
            outside_if: InterfaceName::new(Self::OUTSIDE),
            mappings: BTreeMap::new(),
            by_flow: BTreeMap::new(),
            by_reply: BTreeMap::new(),
            expiry: BTreeSet::new(),
            rebound: BTreeMap::new(),
            next_id: 0,
            next_port: RENUMBER_FIRST,
            outputs: VecDeque::new(),
            counters: NatCounters::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &NatConfig {
        &self.config
    }

    /// The counters.
    pub fn counters(&self) -> &NatCounters {
        &self.counters
    }

    /// The mappings, oldest first.
    pub fn mappings(&self) -> impl Iterator<Item = &Mapping> + '_ {
        self.mappings.values()
    }

    /// The outside endpoint of the mapping of `protocol` from `inside` to
    /// `remote`, if there is one.
    pub fn outside_of(
        &self,
        protocol: u8,
        inside: SocketAddrV4,
        remote: SocketAddrV4,
    ) -> Option<SocketAddrV4> {
        let key = (
            protocol,
            *inside.ip(),
            inside.port(),
            *remote.ip(),
            remote.port(),
        );
        let id = self.by_flow.get(&key)?;
        self.mappings.get(id).map(|m| m.outside)
    }

    /// Forces a mapping change for the inside endpoint `inside` (UDP and
    /// TCP port, or ICMP echo identifier): its mappings go (replies to
    /// them are dropped from now on), and its next packet, of any of
    /// those protocols, gets a new outside port, never one it had. Returns
    /// how many mappings went.
    pub fn rebind(&mut self, inside: SocketAddrV4) -> usize {
        let gone: Vec<MapId> = self
            .mappings
            .iter()
            .filter(|(_, m)| m.inside == inside && self.has_ports(m.protocol))
            .map(|(id, _)| *id)
            .collect();
        for proto in [protocol::UDP, PROTO_TCP, protocol::ICMP] {
            let mut avoid = BTreeSet::from([inside.port()]);
            for id in &gone {
                if let Some(m) = self.mappings.get(id)
                    && m.protocol == proto
                {
                    avoid.insert(m.outside.port());
                }
            }
            if self.rebound.len() >= self.config.max_mappings {
                self.rebound.pop_first();
            }
            self.rebound
                .entry((proto, inside))
                .or_default()
                .extend(avoid);
        }
        for id in &gone {
            self.remove(*id);
        }
        let n = gone.len();
        self.counters.rebound = self
            .counters
            .rebound
            .saturating_add(u64::try_from(n).unwrap_or(u64::MAX));
        n
    }

    fn has_ports(&self, proto: u8) -> bool {
        matches!(proto, protocol::UDP | PROTO_TCP | protocol::ICMP)
    }

    fn timeout(&self, proto: u8, replied: bool) -> Duration {
        let t = &self.config.timeouts;
        match proto {
            protocol::UDP if replied => t.udp_replied,
            protocol::UDP => t.udp,
            PROTO_TCP => t.tcp,
            protocol::ICMP => t.icmp,
            _ => t.other,
        }
    }

    fn remove(&mut self, id: MapId) {
        if let Some(m) = self.mappings.remove(&id) {
            self.by_flow.remove(&(
                m.protocol,
                *m.inside.ip(),
                m.inside.port(),
                *m.remote.ip(),
                m.remote.port(),
            ));
            self.by_reply.remove(&(
                m.protocol,
                *m.remote.ip(),
                m.remote.port(),
                m.outside.port(),
            ));
            self.expiry.remove(&(m.expires, id));
        }
    }

    fn expire(&mut self, now: Instant) {
        while let Some(&(at, id)) = self.expiry.first() {
            if at > now {
                break;
            }
            self.remove(id);
            self.counters.expired = self.counters.expired.saturating_add(1);
        }
    }

    /// A packet crossed mapping `id`: it lives on.
    fn touch(&mut self, id: MapId, now: Instant, inbound: bool) {
        let Some(m) = self.mappings.get(&id).copied() else {
            return;
        };
        let replied = m.replied || inbound;
        let expires = now
            .checked_add(self.timeout(m.protocol, replied))
            .unwrap_or(now);
        self.expiry.remove(&(m.expires, id));
        self.expiry.insert((expires, id));
        if let Some(m) = self.mappings.get_mut(&id) {
            m.replied = replied;
            m.last_seen = now;
            m.expires = expires;
            if inbound {
                m.packets_in = m.packets_in.saturating_add(1);
            } else {
                m.packets_out = m.packets_out.saturating_add(1);
            }
        }
    }

    /// Reads what the box needs of a packet; counts and returns `None`
    /// when it cannot be translated. `outbound`: from inside.
    fn read(&mut self, bytes: &[u8], outbound: bool) -> Option<Read> {
        let c = &mut self.counters;
        let Ok(ip) = Ipv4Packet::parse(bytes) else {
            c.dropped_malformed = c.dropped_malformed.saturating_add(1);
            return None;
        };
        if ip.is_fragment() {
            c.dropped_fragment = c.dropped_fragment.saturating_add(1);
            return None;
        }
        let kind = match ip.header.protocol {
            protocol::UDP => match ip.transport() {
                Ok(Transport::Udp {
                    source_port,
                    destination_port,
                    ..
                }) => {
                    let zero =
                        ip.payload.get(UDP_CHECKSUM_AT..UDP_CHECKSUM_AT + 2) == Some(&[0, 0]);
                    Kind::Ported {
                        source: source_port,
                        destination: destination_port,
                        checksum_at: (!zero).then_some(UDP_CHECKSUM_AT),
                    }
                }
                _ => {
                    c.dropped_malformed = c.dropped_malformed.saturating_add(1);
                    return None;
                }
            },
            PROTO_TCP => {
                let ports = ip.payload.get(..4);
                let offset = ip.payload.get(12).map(|b| usize::from(b >> 4) * 4);
                match (ports, offset) {
                    (Some([a, b, x, y]), Some(off))
                        if off >= TCP_HEADER_LEN && off <= ip.payload.len() =>
                    {
                        Kind::Ported {
                            source: u16::from_be_bytes([*a, *b]),
                            destination: u16::from_be_bytes([*x, *y]),
                            checksum_at: Some(TCP_CHECKSUM_AT),
                        }
                    }
                    _ => {
                        c.dropped_malformed = c.dropped_malformed.saturating_add(1);
                        return None;
                    }
                }
            }
            protocol::ICMP => match ip.transport() {
                Ok(Transport::Icmp {
                    icmp_type: t,
                    code: 0,
                    rest: [a, b, _, _],
                    ..
                }) if t
                    == if outbound {
                        icmp_type::ECHO_REQUEST
                    } else {
                        icmp_type::ECHO_REPLY
                    } =>
                {
                    Kind::Echo {
                        identifier: u16::from_be_bytes([a, b]),
                    }
                }
                Ok(_) if outbound => {
                    c.dropped_unsupported = c.dropped_unsupported.saturating_add(1);
                    return None;
                }
                // ICMP from outside other than an echo reply never matches
                // a mapping.
                Ok(_) => {
                    c.dropped_unmapped = c.dropped_unmapped.saturating_add(1);
                    return None;
                }
                Err(_) => {
                    c.dropped_malformed = c.dropped_malformed.saturating_add(1);
                    return None;
                }
            },
            _ => Kind::Other,
        };
        Some(Read {
            protocol: ip.header.protocol,
            source: ip.header.source,
            destination: ip.header.destination,
            header_len: ip.header_len,
            ttl: ip.header.ttl,
            kind,
        })
    }

    /// The range a kept port's replacement comes from (Linux's).
    fn port_range(proto: u8, port: u16) -> (u16, u16) {
        match (proto, port) {
            (protocol::ICMP, _) => (0, u16::MAX),
            (_, 0..512) => (1, 511),
            (_, 512..1024) => (600, 1023),
            _ => (1024, u16::MAX),
        }
    }

    /// An outside port for a new mapping of `proto` from `inside_port` to
    /// `remote`, not in `avoid`.
    fn allocate(
        &mut self,
        proto: u8,
        inside_port: u16,
        remote: (Ipv4Addr, u16),
        avoid: Option<&BTreeSet<u16>>,
    ) -> Option<u16> {
        let free = |s: &Self, p: u16| {
            !s.by_reply.contains_key(&(proto, remote.0, remote.1, p))
                && !avoid.is_some_and(|a| a.contains(&p))
        };
        let (low, high) = match self.config.ports {
            PortPolicy::Preserve => {
                if avoid.is_none() && free(self, inside_port) {
                    return Some(inside_port);
                }
                Self::port_range(proto, inside_port)
            }
            PortPolicy::Renumber => (1024, u16::MAX),
        };
        // At most the table's size plus the avoided ports are taken, so
        // this finds one well before it gives up.
        let span = u32::from(high - low) + 1;
        let tries = span.min(
            u32::try_from(
                self.config
                    .max_mappings
                    .saturating_add(avoid.map_or(0, BTreeSet::len)),
            )
            .unwrap_or(u32::MAX)
            .saturating_add(2),
        );
        let mut candidate = self.next_port.clamp(low, high);
        for _ in 0..tries {
            let next = if candidate >= high {
                low
            } else {
                candidate + 1
            };
            let renumbered = self.config.ports == PortPolicy::Renumber || avoid.is_some();
            if free(self, candidate) && !(renumbered && candidate == inside_port) {
                self.next_port = next.max(1024);
                return Some(candidate);
            }
            candidate = next;
        }
        None
    }

    fn push(&mut self, interface: InterfaceName, next_hop: Ipv4Addr, packet: Vec<u8>) -> bool {
        if self.outputs.len() >= MAX_QUEUED {
            self.counters.dropped_queue_full = self.counters.dropped_queue_full.saturating_add(1);
            return false;
        }
        self.outputs.push_back(Output {
            interface,
            next_hop,
            packet,
        });
        true
    }

    fn outbound(&mut self, now: Instant, mut bytes: Vec<u8>) {
        let Some(r) = self.read(&bytes, true) else {
            return;
        };
        let c = &mut self.counters;
        if r.destination == self.config.inside || r.destination == self.config.outside {
            c.dropped_local = c.dropped_local.saturating_add(1);
            return;
        }
        if self.config.inside_prefix.contains(r.destination) {
            c.dropped_local = c.dropped_local.saturating_add(1);
            return;
        }
        let next_hop = if self.config.outside_prefix.contains(r.destination) {
            r.destination
        } else if let Some(g) = self.config.gateway {
            g
        } else {
            c.dropped_no_route = c.dropped_no_route.saturating_add(1);
            return;
        };
        if r.ttl <= 1 {
            c.dropped_ttl = c.dropped_ttl.saturating_add(1);
            return;
        }
        let (inside_port, remote_port) = match r.kind {
            Kind::Ported {
                source,
                destination,
                ..
            } => (source, destination),
            Kind::Echo { identifier } => (identifier, 0),
            Kind::Other => {
                if self.config.other == OtherProtocols::Drop {
                    c.dropped_policy = c.dropped_policy.saturating_add(1);
                    return;
                }
                (0, 0)
            }
        };
        let flow = (
            r.protocol,
            r.source,
            inside_port,
            r.destination,
            remote_port,
        );
        let id = match self.by_flow.get(&flow) {
            Some(id) => *id,
            None => match self.create(now, flow) {
                Some(id) => id,
                None => return,
            },
        };
        let Some(outside_port) = self.mappings.get(&id).map(|m| m.outside.port()) else {
            return;
        };
        self.touch(id, now, false);
        let outside = self.config.outside;
        rewrite_address(&mut bytes, r, SOURCE_AT, outside);
        if outside_port != inside_port {
            rewrite_port(&mut bytes, r, true, outside_port);
        }
        if packet::decrement_ttl(&mut bytes).is_err() {
            self.counters.dropped_ttl = self.counters.dropped_ttl.saturating_add(1);
            return;
        }
        let interface = self.outside_if.clone();
        if self.push(interface, next_hop, bytes) {
            self.counters.translated_out = self.counters.translated_out.saturating_add(1);
        }
    }

    /// A new mapping for `flow`; `None` (counted) when there is no room or
    /// no port.
    fn create(&mut self, now: Instant, flow: FlowKey) -> Option<MapId> {
        let (proto, inside, inside_port, remote, remote_port) = flow;
        if self.mappings.len() >= self.config.max_mappings {
            self.counters.dropped_table_full = self.counters.dropped_table_full.saturating_add(1);
            return None;
        }
        let outside_port = if self.has_ports(proto) {
            let avoid = self
                .rebound
                .get(&(proto, SocketAddrV4::new(inside, inside_port)))
                .cloned();
            self.allocate(proto, inside_port, (remote, remote_port), avoid.as_ref())
        } else if self.by_reply.contains_key(&(proto, remote, 0, 0)) {
            None
        } else {
            Some(0)
        };
        let Some(outside_port) = outside_port else {
            self.counters.dropped_clash = self.counters.dropped_clash.saturating_add(1);
            return None;
        };
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let expires = now.checked_add(self.timeout(proto, false)).unwrap_or(now);
        self.mappings.insert(
            id,
            Mapping {
                protocol: proto,
                inside: SocketAddrV4::new(inside, inside_port),
                outside: SocketAddrV4::new(self.config.outside, outside_port),
                remote: SocketAddrV4::new(remote, remote_port),
                created: now,
                last_seen: now,
                expires,
                replied: false,
                packets_out: 0,
                packets_in: 0,
            },
        );
        self.by_flow.insert(flow, id);
        self.by_reply
            .insert((proto, remote, remote_port, outside_port), id);
        self.expiry.insert((expires, id));
        self.counters.mappings_created = self.counters.mappings_created.saturating_add(1);
        Some(id)
    }

    fn inbound(&mut self, now: Instant, mut bytes: Vec<u8>) {
        let Some(r) = self.read(&bytes, false) else {
            return;
        };
        let key = match r.kind {
            Kind::Ported {
                source,
                destination,
                ..
            } => (r.protocol, r.source, source, destination),
            Kind::Echo { identifier } => (r.protocol, r.source, 0, identifier),
            Kind::Other => (r.protocol, r.source, 0, 0),
        };
        let found = if r.destination == self.config.outside {
            self.by_reply.get(&key).copied()
        } else {
            None
        };
        let Some(id) = found else {
            self.counters.dropped_unmapped = self.counters.dropped_unmapped.saturating_add(1);
            return;
        };
        let Some(inside) = self.mappings.get(&id).map(|m| m.inside) else {
            return;
        };
        let next_hop = if self.config.inside_prefix.contains(*inside.ip()) {
            Some(*inside.ip())
        } else {
            self.config
                .inside_routes
                .iter()
                .filter(|(p, _)| p.contains(*inside.ip()))
                .max_by_key(|(p, _)| p.len)
                .map(|(_, hop)| *hop)
        };
        let Some(next_hop) = next_hop else {
            self.counters.dropped_no_route = self.counters.dropped_no_route.saturating_add(1);
            return;
        };
        if r.ttl <= 1 {
            self.counters.dropped_ttl = self.counters.dropped_ttl.saturating_add(1);
            return;
        }
        self.touch(id, now, true);
        rewrite_address(&mut bytes, r, DESTINATION_AT, *inside.ip());
        if key.3 != inside.port() {
            rewrite_port(&mut bytes, r, false, inside.port());
        }
        if packet::decrement_ttl(&mut bytes).is_err() {
            self.counters.dropped_ttl = self.counters.dropped_ttl.saturating_add(1);
            return;
        }
        let interface = self.inside_if.clone();
        if self.push(interface, next_hop, bytes) {
            self.counters.translated_in = self.counters.translated_in.saturating_add(1);
        }
    }
}

/// RFC 1624 eqn. 3: the checksum `sum` of data in which the 16-bit words
/// `old` became `new`: HC' = ~(~HC + ~m + m').
fn adjust_checksum(sum: u16, old: &[u8], new: &[u8]) -> u16 {
    let word = |w: &[u8]| {
        u32::from(u16::from_be_bytes([
            w.first().copied().unwrap_or(0),
            w.get(1).copied().unwrap_or(0),
        ]))
    };
    let mut acc = u32::from(!sum);
    for (o, n) in old.chunks(2).zip(new.chunks(2)) {
        acc = acc + (!word(o) & 0xffff) + word(n);
        acc = (acc & 0xffff) + (acc >> 16);
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !u16::try_from(acc).unwrap_or(0)
}

/// Rewrites `len` bytes at `at` in `bytes` to `new`, and the transport
/// checksum at `checksum_at` (an offset in `bytes`) to match; `udp`: a
/// result of zero is sent as 0xffff (zero meaning "no checksum").
fn patch(bytes: &mut [u8], at: usize, new: &[u8], checksum_at: Option<usize>, udp: bool) {
    let Some(old) = at
        .checked_add(new.len())
        .and_then(|end| bytes.get(at..end))
        .map(<[u8]>::to_vec)
    else {
        return;
    };
    if let Some(c) = checksum_at
        && let Some(field) = c.checked_add(2).and_then(|end| bytes.get_mut(c..end))
    {
        let sum = u16::from_be_bytes([
            field.first().copied().unwrap_or(0),
            field.get(1).copied().unwrap_or(0),
        ]);
        let mut adjusted = adjust_checksum(sum, &old, new);
        if udp && adjusted == 0 {
            adjusted = 0xffff;
        }
        field.copy_from_slice(&adjusted.to_be_bytes());
    }
    if let Some(field) = at
        .checked_add(new.len())
        .and_then(|end| bytes.get_mut(at..end))
    {
        field.copy_from_slice(new);
    }
}

/// Where the transport checksum covering the pseudo-header sits (UDP
/// with a checksum, TCP), and whether it is UDP's.
fn pseudo_checksum(r: Read) -> Option<(usize, bool)> {
    match r.kind {
        Kind::Ported {
            checksum_at: Some(at),
            ..
        } => Some((r.header_len + at, r.protocol == protocol::UDP)),
        _ => None,
    }
}

/// Rewrites the source or destination address (`at`: its offset in the
/// IPv4 header) and the pseudo-header checksum; the IPv4 header checksum
/// is recomputed when the TTL is decremented.
fn rewrite_address(bytes: &mut [u8], r: Read, at: usize, address: Ipv4Addr) {
    let (checksum_at, udp) = pseudo_checksum(r).map_or((None, false), |(c, u)| (Some(c), u));
    patch(bytes, at, &address.octets(), checksum_at, udp);
}

/// Rewrites the source (`source`) or destination port, or an echo's
/// identifier, and the transport checksum.
fn rewrite_port(bytes: &mut [u8], r: Read, source: bool, port: u16) {
    match r.kind {
        Kind::Ported { .. } => {
            let at = r.header_len + if source { 0 } else { 2 };
            let (checksum_at, udp) =
                pseudo_checksum(r).map_or((None, false), |(c, u)| (Some(c), u));
            patch(bytes, at, &port.to_be_bytes(), checksum_at, udp);
        }
        Kind::Echo { .. } => {
            patch(
                bytes,
                r.header_len + ICMP_ID_AT,
                &port.to_be_bytes(),
                Some(r.header_len + ICMP_CHECKSUM_AT),
                false,
            );
        }
        Kind::Other => {}
    }
}

impl Node for NatBox {
    fn handle_packet(&mut self, now: Instant, interface: &InterfaceName, packet: Vec<u8>) {
        self.counters.received = self.counters.received.saturating_add(1);
        self.expire(now);
        if *interface == self.inside_if {
            self.outbound(now, packet);
        } else if *interface == self.outside_if {
            self.inbound(now, packet);
        } else {
            self.counters.dropped_interface = self.counters.dropped_interface.saturating_add(1);
        }
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.expiry.first().map(|(at, _)| *at)
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.expire(now);
    }
}

#[cfg(test)]
mod tests {
    use super::adjust_checksum;
    use esp::ip::checksum;

    /// The incremental update (RFC 1624) agrees with a full recomputation
    /// for every position, over seeded random data, including words whose
    /// change brings the sum to the 0x0000/0xffff edge.
    #[test]
    fn incremental_checksum_matches_a_recomputation() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..2000 {
            let len = 8 + usize::try_from(next() % 64).unwrap() * 2;
            let mut data: Vec<u8> = (0..len).map(|_| (next() & 0xff) as u8).collect();
            data[2] = 0;
            data[3] = 0;
            let sum = checksum(&data);
            data[2..4].copy_from_slice(&sum.to_be_bytes());
            assert_eq!(checksum(&data), 0);
            // Change 2 or 4 bytes at an even offset after the checksum.
            let width = if round % 2 == 0 { 2 } else { 4 };
            let at =
                4 + usize::try_from(next() % u64::try_from((len - 4 - width) / 2 + 1).unwrap())
                    .unwrap()
                    * 2;
            let old = data[at..at + width].to_vec();
            let new: Vec<u8> = if round % 7 == 0 {
                // All ones or all zeros: the edge of one's complement.
                vec![if round % 14 == 0 { 0xff } else { 0 }; width]
            } else {
                (0..width).map(|_| (next() & 0xff) as u8).collect()
            };
            let adjusted = adjust_checksum(sum, &old, &new);
            data[at..at + width].copy_from_slice(&new);
            data[2..4].copy_from_slice(&adjusted.to_be_bytes());
            assert_eq!(checksum(&data), 0, "round {round}");
        }
    }
}
