//! IOS IP access lists: the traffic selectors of crypto maps.
//!
//! A crypto map entry names an access list with `match address`; its
//! `permit` entries select the traffic IPsec protects and its `deny` entries
//! the traffic that entry leaves alone (RFC 2401 §4.4 calls these the SPD
//! selectors; RFC 4301 §4.4.1 in its successor). This module models the
//! access lists IOS 12.2 accepts, with the semantics of the Cisco IOS IP
//! Command Reference (`access-list (IP standard)`, `access-list (IP
//! extended)`, `ip access-list`, `permit`/`deny (IP)`):
//!
//! - standard lists (numbered 1-99 and 1300-1999, or named) match the source
//!   address only; extended lists (100-199, 2000-2699, or named) match the
//!   protocol, both addresses, TCP/UDP ports, the ICMP type and code, TCP
//!   `established` and non-initial `fragments`;
//! - addresses are an address and a wildcard (the bits set in the wildcard
//!   are ignored). Wildcards need not be contiguous: `10.0.0.1 0.0.255.0`
//!   is a legal selector and [`AddressMatch::matches`] handles it;
//! - entries are evaluated in sequence order, the first match decides, and a
//!   packet no entry matches is denied (the implicit `deny ip any any`);
//! - non-initial fragments carry no transport header. As Cisco documents
//!   ("Access Control Lists and IP Fragments"), an entry with layer-4 fields
//!   applies to them through its layer-3 fields only: a `permit` matches, a
//!   `deny` is skipped. For a crypto access list this errs towards
//!   protecting the fragment. Packets too short to carry their transport
//!   header are treated the same way.
//!
//! [`AclRule::mirror`] swaps source and destination (the access list the
//! peer must configure), and [`AclRule::proxy`] gives the IKE proxy
//! identities (RFC 2409 §5.5 ID payloads) an entry stands for, in the
//! `address/mask/protocol/port` form IOS prints, or says why the entry is
//! not a subnet pair.

mod flow;
mod names;

use core::fmt;
use std::net::Ipv4Addr;

pub use flow::{Flow, FlowError, Transport};

/// An IP protocol number (RFC 790 and the IANA registry), open to every
/// value so that any number round-trips.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpProtocol(pub u8);

impl IpProtocol {
    /// ICMP (1).
    pub const ICMP: Self = Self(1);
    /// IGMP (2).
    pub const IGMP: Self = Self(2);
    /// IP in IP (4).
    pub const IPINIP: Self = Self(4);
    /// TCP (6).
    pub const TCP: Self = Self(6);
    /// UDP (17).
    pub const UDP: Self = Self(17);
    /// GRE (47).
    pub const GRE: Self = Self(47);
    /// ESP (50).
    pub const ESP: Self = Self(50);
    /// AH (51), `ahp` in IOS.
    pub const AH: Self = Self(51);
    /// EIGRP (88).
    pub const EIGRP: Self = Self(88);
    /// OSPF (89).
    pub const OSPF: Self = Self(89);
    /// PIM (103).
    pub const PIM: Self = Self(103);

    /// The keyword IOS uses for this protocol in access lists, if any.
    pub fn ios_keyword(self) -> Option<&'static str> {
        names::name_of(names::PROTOCOLS, self.0)
    }

    /// The protocol an IOS keyword names (`esp`, `ahp`, `gre`, ...); not
    /// `ip`, which means "any protocol" (see [`ProtocolMatch::Ip`]).
    pub fn from_ios_keyword(keyword: &str) -> Option<Self> {
        names::lookup(names::PROTOCOLS, keyword).map(Self)
    }
}

impl fmt::Debug for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ios_keyword() {
            Some(k) => write!(f, "IpProtocol({k})"),
            None => write!(f, "IpProtocol({:#04x})", self.0),
        }
    }
}

impl fmt::Display for IpProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ios_keyword() {
            Some(k) => f.write_str(k),
            None => write!(f, "{}", self.0),
        }
    }
}

/// The protocol field of an entry: `ip` (every protocol) or one protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolMatch {
    /// `ip`: every IP protocol.
    Ip,
    /// One protocol, by keyword or number.
    Protocol(IpProtocol),
}

impl ProtocolMatch {
    /// Whether a packet of `protocol` matches.
    pub fn matches(self, protocol: IpProtocol) -> bool {
        match self {
            Self::Ip => true,
            Self::Protocol(p) => p == protocol,
        }
    }

    fn is(self, protocol: IpProtocol) -> bool {
        self == Self::Protocol(protocol)
    }
}

impl fmt::Display for ProtocolMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ip => f.write_str("ip"),
            Self::Protocol(p) => p.fmt(f),
        }
    }
}

/// An address and a wildcard mask: an address matches when it equals
/// `address` in every bit the wildcard leaves clear.
///
/// The address is stored with the wildcard bits cleared, as IOS stores it
/// (`10.1.1.7 0.0.0.255` is shown as `10.1.1.0 0.0.0.255`), so that equal
/// selectors compare equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AddressMatch {
    address: Ipv4Addr,
    wildcard: Ipv4Addr,
}

impl AddressMatch {
    /// `any`: 0.0.0.0 255.255.255.255.
    pub const ANY: Self = Self {
        address: Ipv4Addr::UNSPECIFIED,
        wildcard: Ipv4Addr::BROADCAST,
    };

    /// An address and a wildcard (contiguous or not).
    pub fn new(address: Ipv4Addr, wildcard: Ipv4Addr) -> Self {
        let w = u32::from(wildcard);
        Self {
            address: Ipv4Addr::from(u32::from(address) & !w),
            wildcard,
        }
    }

    /// `host A`: exactly one address.
    pub fn host(address: Ipv4Addr) -> Self {
        Self {
            address,
            wildcard: Ipv4Addr::UNSPECIFIED,
        }
    }

    /// A subnet given by a prefix length (0-32; larger values are clamped
    /// to 32).
    pub fn prefix(address: Ipv4Addr, len: u8) -> Self {
        let len = u32::from(len.min(32));
        let wildcard = u32::MAX.checked_shr(len).unwrap_or(0);
        Self::new(address, Ipv4Addr::from(wildcard))
    }

    /// The address, with the wildcard bits cleared.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The wildcard mask.
    pub fn wildcard(&self) -> Ipv4Addr {
        self.wildcard
    }

    /// Whether this is `any`.
    pub fn is_any(&self) -> bool {
        self.wildcard == Ipv4Addr::BROADCAST
    }

    /// Whether this is a single host.
    pub fn is_host(&self) -> bool {
        self.wildcard == Ipv4Addr::UNSPECIFIED
    }

    /// Whether the wildcard is contiguous (the inverse of a netmask), so that
    /// this selector is a subnet.
    pub fn is_contiguous(&self) -> bool {
        let w = u32::from(self.wildcard);
        w & w.wrapping_add(1) == 0
    }

    /// The netmask of a contiguous wildcard; `None` for a non-contiguous one.
    pub fn netmask(&self) -> Option<Ipv4Addr> {
        self.is_contiguous()
            .then(|| Ipv4Addr::from(!u32::from(self.wildcard)))
    }

    /// Whether `address` matches.
    pub fn matches(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & !u32::from(self.wildcard) == u32::from(self.address)
    }

    /// Whether every address `other` matches is matched by `self` (for
    /// contiguous and non-contiguous wildcards alike): the bits `other`
    /// leaves free must be free here too, and its fixed bits must agree
    /// with this selector's fixed bits. A TED responder uses this to check
    /// that a probe's proxy falls inside its own access list.
    pub fn covers(&self, other: &AddressMatch) -> bool {
        let (w, ow) = (u32::from(self.wildcard), u32::from(other.wildcard));
        ow & !w == 0 && u32::from(other.address) & !w == u32::from(self.address)
    }
}

impl fmt::Display for AddressMatch {
    /// The extended-list form: `any`, `host A` or `A W`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_any() {
            f.write_str("any")
        } else if self.is_host() {
            write!(f, "host {}", self.address)
        } else {
            write!(f, "{} {}", self.address, self.wildcard)
        }
    }
}

/// A TCP or UDP port condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PortMatch {
    /// No condition.
    Any,
    /// `eq P`.
    Eq(u16),
    /// `neq P`.
    Neq(u16),
    /// `lt P`: strictly below.
    Lt(u16),
    /// `gt P`: strictly above.
    Gt(u16),
    /// `range A B`: from A to B inclusive (empty when A > B).
    Range(u16, u16),
}

impl PortMatch {
    /// Whether `port` satisfies the condition.
    pub fn matches(self, port: u16) -> bool {
        match self {
            Self::Any => true,
            Self::Eq(p) => port == p,
            Self::Neq(p) => port != p,
            Self::Lt(p) => port < p,
            Self::Gt(p) => port > p,
            Self::Range(lo, hi) => lo <= port && port <= hi,
        }
    }

    /// Whether this is no condition at all.
    pub fn is_any(self) -> bool {
        self == Self::Any
    }

    fn fmt_for(self, protocol: ProtocolMatch, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = |p: u16| PortName { protocol, port: p };
        match self {
            Self::Any => Ok(()),
            Self::Eq(p) => write!(f, " eq {}", port(p)),
            Self::Neq(p) => write!(f, " neq {}", port(p)),
            Self::Lt(p) => write!(f, " lt {}", port(p)),
            Self::Gt(p) => write!(f, " gt {}", port(p)),
            Self::Range(a, b) => write!(f, " range {} {}", port(a), port(b)),
        }
    }
}

impl fmt::Display for PortMatch {
    /// The condition with numeric ports (`eq 500`, `range 67 68`); empty for
    /// [`PortMatch::Any`]. Entries show ports by name where IOS has one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => Ok(()),
            Self::Eq(p) => write!(f, "eq {p}"),
            Self::Neq(p) => write!(f, "neq {p}"),
            Self::Lt(p) => write!(f, "lt {p}"),
            Self::Gt(p) => write!(f, "gt {p}"),
            Self::Range(a, b) => write!(f, "range {a} {b}"),
        }
    }
}

/// Shows a port by its IOS name for the protocol, or as a number.
struct PortName {
    protocol: ProtocolMatch,
    port: u16,
}

impl fmt::Display for PortName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match port_name(self.protocol, self.port) {
            Some(name) => f.write_str(name),
            None => write!(f, "{}", self.port),
        }
    }
}

/// The port a TCP or UDP port name stands for (`www` is 80 for TCP,
/// `isakmp` is 500 and `non500-isakmp` 4500 for UDP). Names are per
/// protocol, as in IOS.
pub fn port_from_name(protocol: IpProtocol, name: &str) -> Option<u16> {
    match protocol {
        IpProtocol::TCP => names::lookup(names::TCP_PORTS, name),
        IpProtocol::UDP => names::lookup(names::UDP_PORTS, name),
        _ => None,
    }
}

fn port_name(protocol: ProtocolMatch, port: u16) -> Option<&'static str> {
    match protocol {
        ProtocolMatch::Protocol(IpProtocol::TCP) => names::name_of(names::TCP_PORTS, port),
        ProtocolMatch::Protocol(IpProtocol::UDP) => names::name_of(names::UDP_PORTS, port),
        _ => None,
    }
}

/// An ICMP condition: a type, and optionally a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IcmpMatch {
    /// ICMP message type.
    pub icmp_type: u8,
    /// ICMP code; `None` matches every code.
    pub code: Option<u8>,
}

impl IcmpMatch {
    /// The condition an IOS message name stands for (`echo` is type 8,
    /// `port-unreachable` type 3 code 3).
    pub fn from_ios_name(name: &str) -> Option<Self> {
        names::ICMP_MESSAGES
            .iter()
            .find(|(n, _, _)| n.eq_ignore_ascii_case(name))
            .map(|&(_, icmp_type, code)| Self { icmp_type, code })
    }

    /// The IOS name of this condition, if it has one.
    pub fn ios_name(&self) -> Option<&'static str> {
        names::ICMP_MESSAGES
            .iter()
            .find(|&&(_, t, c)| t == self.icmp_type && c == self.code)
            .map(|&(n, _, _)| n)
    }

    /// Whether an ICMP message matches.
    pub fn matches(&self, icmp_type: u8, code: u8) -> bool {
        self.icmp_type == icmp_type && self.code.is_none_or(|c| c == code)
    }
}

impl fmt::Display for IcmpMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.ios_name(), self.code) {
            (Some(name), _) => f.write_str(name),
            (None, Some(code)) => write!(f, "{} {}", self.icmp_type, code),
            (None, None) => write!(f, "{}", self.icmp_type),
        }
    }
}

/// What an entry does with the packets it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// `permit`: in a crypto access list, protect.
    Permit,
    /// `deny`: in a crypto access list, not protected by this map entry.
    Deny,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Permit => "permit",
            Self::Deny => "deny",
        })
    }
}

/// The `log` keywords of an entry; recorded and shown, never acted on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Logging {
    /// No keyword.
    #[default]
    Off,
    /// `log`.
    Log,
    /// `log-input`.
    LogInput,
}

/// One `permit` or `deny` entry.
///
/// Built with [`AclRule::new`] or [`AclRule::standard`] and the `with_*`
/// methods, which refuse what IOS refuses (ports on a protocol other than
/// TCP and UDP, an ICMP type on a protocol other than ICMP, ...).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AclRule {
    action: Action,
    protocol: ProtocolMatch,
    source: AddressMatch,
    source_port: PortMatch,
    destination: AddressMatch,
    destination_port: PortMatch,
    icmp: Option<IcmpMatch>,
    established: bool,
    fragments: bool,
    log: Logging,
}

impl AclRule {
    /// An extended entry on addresses and protocol only.
    pub fn new(
        action: Action,
        protocol: ProtocolMatch,
        source: AddressMatch,
        destination: AddressMatch,
    ) -> Self {
        Self {
            action,
            protocol,
            source,
            source_port: PortMatch::Any,
            destination,
            destination_port: PortMatch::Any,
            icmp: None,
            established: false,
            fragments: false,
            log: Logging::Off,
        }
    }

    /// A standard entry: the source address only (`ip`, destination `any`).
    pub fn standard(action: Action, source: AddressMatch) -> Self {
        Self::new(action, ProtocolMatch::Ip, source, AddressMatch::ANY)
    }

    /// Adds source and destination port conditions (TCP and UDP only).
    pub fn with_ports(
        mut self,
        source: PortMatch,
        destination: PortMatch,
    ) -> Result<Self, AclError> {
        let both_any = source.is_any() && destination.is_any();
        if !(both_any || self.protocol.is(IpProtocol::TCP) || self.protocol.is(IpProtocol::UDP)) {
            return Err(AclError::PortsNeedTcpOrUdp {
                protocol: self.protocol,
            });
        }
        for p in [source, destination] {
            if let PortMatch::Range(lo, hi) = p
                && lo > hi
            {
                return Err(AclError::EmptyPortRange { low: lo, high: hi });
            }
        }
        if self.fragments && !both_any {
            return Err(AclError::FragmentsWithLayer4);
        }
        self.source_port = source;
        self.destination_port = destination;
        Ok(self)
    }

    /// Adds an ICMP type (and code) condition (protocol `icmp` only).
    pub fn with_icmp(mut self, icmp: IcmpMatch) -> Result<Self, AclError> {
        if !self.protocol.is(IpProtocol::ICMP) {
            return Err(AclError::IcmpNeedsIcmp {
                protocol: self.protocol,
            });
        }
        if self.fragments {
            return Err(AclError::FragmentsWithLayer4);
        }
        self.icmp = Some(icmp);
        Ok(self)
    }

    /// Adds `established`: TCP segments with ACK or RST set (TCP only).
    pub fn with_established(mut self) -> Result<Self, AclError> {
        if !self.protocol.is(IpProtocol::TCP) {
            return Err(AclError::EstablishedNeedsTcp {
                protocol: self.protocol,
            });
        }
        if self.fragments {
            return Err(AclError::FragmentsWithLayer4);
        }
        self.established = true;
        Ok(self)
    }

    /// Adds `fragments`: the entry applies to non-initial fragments only.
    /// IOS refuses it together with layer-4 conditions.
    pub fn with_fragments(mut self) -> Result<Self, AclError> {
        if self.has_layer4() {
            return Err(AclError::FragmentsWithLayer4);
        }
        self.fragments = true;
        Ok(self)
    }

    /// Sets the `log` keyword (no effect on matching).
    pub fn with_log(mut self, log: Logging) -> Self {
        self.log = log;
        self
    }

    /// `permit` or `deny`.
    pub fn action(&self) -> Action {
        self.action
    }

    /// Protocol condition.
    pub fn protocol(&self) -> ProtocolMatch {
        self.protocol
    }

    /// Source address condition.
    pub fn source(&self) -> AddressMatch {
        self.source
    }

    /// Source port condition.
    pub fn source_port(&self) -> PortMatch {
        self.source_port
    }

    /// Destination address condition.
    pub fn destination(&self) -> AddressMatch {
        self.destination
    }

    /// Destination port condition.
    pub fn destination_port(&self) -> PortMatch {
        self.destination_port
    }

    /// ICMP condition.
    pub fn icmp(&self) -> Option<IcmpMatch> {
        self.icmp
    }

    /// Whether `established` is set.
    pub fn established(&self) -> bool {
        self.established
    }

    /// Whether `fragments` is set.
    pub fn fragments(&self) -> bool {
        self.fragments
    }

    /// The `log` keyword.
    pub fn log(&self) -> Logging {
        self.log
    }

    /// Whether the entry looks at transport-layer fields.
    pub fn has_layer4(&self) -> bool {
        !self.source_port.is_any()
            || !self.destination_port.is_any()
            || self.icmp.is_some()
            || self.established
    }

    /// Whether the entry fits a standard access list (source address only).
    pub fn is_standard(&self) -> bool {
        self.protocol == ProtocolMatch::Ip
            && self.destination.is_any()
            && !self.has_layer4()
            && !self.fragments
    }

    /// Whether a packet matches this entry (whatever its action).
    pub fn matches(&self, flow: &Flow) -> bool {
        if !self.protocol.matches(flow.protocol())
            || !self.source.matches(flow.source())
            || !self.destination.matches(flow.destination())
        {
            return false;
        }
        // Cisco, "Access Control Lists and IP Fragments": without the
        // transport header only the layer-3 part of an entry can be applied;
        // a permit then matches and a deny does not.
        let layer3_only = !self.has_layer4() || self.action == Action::Permit;
        match flow.transport() {
            Transport::Fragment => self.fragments || layer3_only,
            _ if self.fragments => false,
            Transport::None | Transport::Truncated => layer3_only,
            Transport::Tcp {
                source_port,
                destination_port,
                flags,
            } => {
                if !self.source_port.matches(source_port)
                    || !self.destination_port.matches(destination_port)
                {
                    return false;
                }
                if !self.established {
                    return true;
                }
                match flags {
                    Some(flags) => flags & (flow::TCP_ACK | flow::TCP_RST) != 0,
                    None => self.action == Action::Permit,
                }
            }
            Transport::Udp {
                source_port,
                destination_port,
            } => {
                self.source_port.matches(source_port)
                    && self.destination_port.matches(destination_port)
            }
            Transport::Icmp { icmp_type, code } => {
                self.icmp.is_none_or(|m| m.matches(icmp_type, code))
            }
        }
    }

    /// The mirror entry: source and destination (addresses and ports)
    /// swapped, the rest kept. This is the entry the peer's crypto access
    /// list must hold for the same traffic.
    pub fn mirror(&self) -> Self {
        Self {
            source: self.destination,
            source_port: self.destination_port,
            destination: self.source,
            destination_port: self.source_port,
            ..self.clone()
        }
    }

    /// The IKE proxy identities (RFC 2409 §5.5) this entry stands for:
    /// source and destination subnets with protocol and port, as IOS shows
    /// them (`13.13.13.0/255.255.255.0/0/0`). Fails when the entry is not
    /// exactly a pair of subnets with at most one port on each side.
    pub fn proxy(&self) -> Result<ProxyPair, ProxyError> {
        if self.action != Action::Permit {
            return Err(ProxyError::NotPermit);
        }
        if self.icmp.is_some() {
            return Err(ProxyError::IcmpCondition);
        }
        if self.established || self.fragments {
            return Err(ProxyError::FlagCondition);
        }
        let protocol = match self.protocol {
            ProtocolMatch::Ip => IpProtocol(0),
            ProtocolMatch::Protocol(p) => p,
        };
        let ident =
            |side: Side, addr: AddressMatch, port: PortMatch| -> Result<ProxyIdent, ProxyError> {
                let mask = addr.netmask().ok_or(ProxyError::NonContiguousWildcard {
                    side,
                    wildcard: addr.wildcard(),
                })?;
                let port = match port {
                    PortMatch::Any => 0,
                    PortMatch::Eq(p) => p,
                    other => return Err(ProxyError::PortNotSingle { side, port: other }),
                };
                Ok(ProxyIdent {
                    address: addr.address(),
                    mask,
                    protocol,
                    port,
                })
            };
        Ok(ProxyPair {
            source: ident(Side::Source, self.source, self.source_port)?,
            destination: ident(Side::Destination, self.destination, self.destination_port)?,
        })
    }

    /// Writes the entry in standard-list form (`permit 10.0.0.0 0.0.0.255`);
    /// only meaningful when [`AclRule::is_standard`] holds.
    pub fn display_standard(&self) -> impl fmt::Display + '_ {
        StandardForm(self)
    }
}

impl fmt::Display for AclRule {
    /// The extended-list form, as IOS shows it:
    /// `permit tcp 10.0.0.0 0.0.0.255 host 10.1.1.1 eq www log`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.action, self.protocol, self.source)?;
        self.source_port.fmt_for(self.protocol, f)?;
        write!(f, " {}", self.destination)?;
        self.destination_port.fmt_for(self.protocol, f)?;
        if let Some(icmp) = self.icmp {
            write!(f, " {icmp}")?;
        }
        if self.established {
            f.write_str(" established")?;
        }
        if self.fragments {
            f.write_str(" fragments")?;
        }
        fmt_log(self.log, f)
    }
}

struct StandardForm<'a>(&'a AclRule);

impl fmt::Display for StandardForm<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = self.0;
        let src = rule.source;
        write!(f, "{} ", rule.action)?;
        if src.is_any() {
            f.write_str("any")?;
        } else if src.is_host() {
            write!(f, "{}", src.address)?;
        } else {
            write!(f, "{} {}", src.address, src.wildcard)?;
        }
        fmt_log(rule.log, f)
    }
}

fn fmt_log(log: Logging, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match log {
        Logging::Off => Ok(()),
        Logging::Log => f.write_str(" log"),
        Logging::LogInput => f.write_str(" log-input"),
    }
}

/// Which side of an entry a [`ProxyError`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The source address and port.
    Source,
    /// The destination address and port.
    Destination,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Source => "source",
            Self::Destination => "destination",
        })
    }
}

/// One IKE proxy identity: a subnet, a protocol (0 = any) and a port
/// (0 = any). A /32 mask is a host (IOS sends ID_IPV4_ADDR, type 1), any
/// other mask a subnet (ID_IPV4_ADDR_SUBNET, type 4), per RFC 2407 §4.6.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProxyIdent {
    /// Subnet address.
    pub address: Ipv4Addr,
    /// Subnet mask.
    pub mask: Ipv4Addr,
    /// IP protocol; 0 for any.
    pub protocol: IpProtocol,
    /// Port; 0 for any.
    pub port: u16,
}

impl ProxyIdent {
    /// Whether the identity is a single host (mask 255.255.255.255).
    pub fn is_host(&self) -> bool {
        self.mask == Ipv4Addr::BROADCAST
    }

    /// The identity's subnet as an access list selector.
    pub fn address_match(&self) -> AddressMatch {
        AddressMatch::new(self.address, Ipv4Addr::from(!u32::from(self.mask)))
    }

    /// Whether `address` lies in the identity's subnet.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & u32::from(self.mask) == u32::from(self.address) & u32::from(self.mask)
    }
}

impl fmt::Display for ProxyIdent {
    /// `address/mask/protocol/port`, the form of IOS's `local ident` lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.address, self.mask, self.protocol.0, self.port
        )
    }
}

/// The source and destination proxy identities of a crypto access list
/// entry: for the local gateway, source is the local proxy and destination
/// the remote one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProxyPair {
    /// Source (local) identity.
    pub source: ProxyIdent,
    /// Destination (remote) identity.
    pub destination: ProxyIdent,
}

/// Why an entry has no proxy identity pair.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// A `deny` entry protects nothing.
    #[error("a deny entry selects no traffic to protect")]
    NotPermit,
    /// A wildcard whose set bits are not a suffix is no subnet.
    #[error("the {side} wildcard {wildcard} is not contiguous, so it is no subnet")]
    NonContiguousWildcard {
        /// Which side.
        side: Side,
        /// The wildcard.
        wildcard: Ipv4Addr,
    },
    /// A port condition other than `eq` is no single port.
    #[error("the {side} port condition `{port}` is not a single port")]
    PortNotSingle {
        /// Which side.
        side: Side,
        /// The condition.
        port: PortMatch,
    },
    /// ICMP types have no place in an identity.
    #[error("an ICMP type condition cannot be expressed in a proxy identity")]
    IcmpCondition,
    /// `established` or `fragments` have no place in an identity.
    #[error("established and fragments cannot be expressed in a proxy identity")]
    FlagCondition,
}

/// Standard or extended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AclKind {
    /// Source address only.
    Standard,
    /// Protocol, addresses, ports, ICMP type.
    Extended,
}

impl fmt::Display for AclKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Standard => "standard",
            Self::Extended => "extended",
        })
    }
}

/// An access list's name: a number or a name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclName {
    /// `access-list N`: 1-99 and 1300-1999 standard, 100-199 and 2000-2699
    /// extended.
    Numbered(u16),
    /// `ip access-list standard|extended NAME`.
    Named(String),
}

impl AclName {
    /// Reads a name as IOS does: all digits is a number, anything else a
    /// name. A number outside every range is an error.
    pub fn parse(text: &str) -> Result<Self, AclError> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            let number = text.parse::<u32>().unwrap_or(u32::MAX);
            match u16::try_from(number) {
                Ok(n) if Self::kind_of_number(n).is_some() => Ok(Self::Numbered(n)),
                _ => Err(AclError::NumberOutOfRange { number }),
            }
        } else if text.is_empty() {
            Err(AclError::EmptyName)
        } else {
            Ok(Self::Named(text.to_owned()))
        }
    }

    /// Which kind a list number belongs to, if it is in a range.
    pub fn kind_of_number(number: u16) -> Option<AclKind> {
        match number {
            1..=99 | 1300..=1999 => Some(AclKind::Standard),
            100..=199 | 2000..=2699 => Some(AclKind::Extended),
            _ => None,
        }
    }
}

impl fmt::Display for AclName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Numbered(n) => write!(f, "{n}"),
            Self::Named(s) => f.write_str(s),
        }
    }
}

/// What an access list line holds.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AclItem {
    /// A `permit` or `deny` entry.
    Rule(AclRule),
    /// A `remark`: text only.
    Remark(String),
}

/// One line of an access list, with its sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AclEntry {
    seq: u32,
    item: AclItem,
}

impl AclEntry {
    /// The sequence number (IOS numbers appended lines 10, 20, 30, ...).
    pub fn seq(&self) -> u32 {
        self.seq
    }

    /// The line's content.
    pub fn item(&self) -> &AclItem {
        &self.item
    }

    /// The entry, if this line is not a remark.
    pub fn rule(&self) -> Option<&AclRule> {
        match &self.item {
            AclItem::Rule(r) => Some(r),
            AclItem::Remark(_) => None,
        }
    }
}

/// An access list: lines in sequence order, first match wins, implicit
/// deny at the end.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccessList {
    name: AclName,
    kind: AclKind,
    entries: Vec<AclEntry>,
}

impl AccessList {
    /// The largest sequence number IOS accepts.
    pub const MAX_SEQ: u32 = 2_147_483_647;
    /// The step between appended lines.
    pub const SEQ_STEP: u32 = 10;

    /// An empty list. A numbered list's kind must be the one its number
    /// range gives.
    pub fn new(name: AclName, kind: AclKind) -> Result<Self, AclError> {
        if let AclName::Numbered(n) = name {
            match Self::kind_for(n) {
                Some(k) if k == kind => {}
                Some(k) => return Err(AclError::KindMismatch { number: n, kind: k }),
                None => {
                    return Err(AclError::NumberOutOfRange {
                        number: u32::from(n),
                    });
                }
            }
        }
        Ok(Self {
            name,
            kind,
            entries: Vec::new(),
        })
    }

    fn kind_for(n: u16) -> Option<AclKind> {
        AclName::kind_of_number(n)
    }

    /// The list's name.
    pub fn name(&self) -> &AclName {
        &self.name
    }

    /// Standard or extended.
    pub fn kind(&self) -> AclKind {
        self.kind
    }

    /// Every line, remarks included, in sequence order.
    pub fn entries(&self) -> &[AclEntry] {
        &self.entries
    }

    /// The `permit`/`deny` entries with their sequence numbers, in order.
    pub fn rules(&self) -> impl Iterator<Item = (u32, &AclRule)> + '_ {
        self.entries
            .iter()
            .filter_map(|e| e.rule().map(|r| (e.seq, r)))
    }

    /// Whether the list has no lines.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Appends a line numbered 10 past the last one, as IOS does; returns
    /// its sequence number.
    pub fn push(&mut self, item: AclItem) -> Result<u32, AclError> {
        self.check_item(&item)?;
        let seq = match self.entries.last() {
            None => Self::SEQ_STEP,
            Some(last) => last
                .seq
                .checked_add(Self::SEQ_STEP)
                .filter(|&s| s <= Self::MAX_SEQ)
                .ok_or(AclError::SequenceExhausted)?,
        };
        self.entries.push(AclEntry { seq, item });
        Ok(seq)
    }

    /// Inserts a line at a given sequence number (IOS's `SEQ permit ...`).
    pub fn insert(&mut self, seq: u32, item: AclItem) -> Result<(), AclError> {
        self.check_item(&item)?;
        if seq == 0 || seq > Self::MAX_SEQ {
            return Err(AclError::SequenceOutOfRange { seq });
        }
        match self.entries.binary_search_by_key(&seq, |e| e.seq) {
            Ok(_) => Err(AclError::DuplicateSequence { seq }),
            Err(at) => {
                self.entries.insert(at, AclEntry { seq, item });
                Ok(())
            }
        }
    }

    /// Removes the line with this sequence number (`no SEQ`).
    pub fn remove(&mut self, seq: u32) -> Option<AclEntry> {
        let at = self.entries.binary_search_by_key(&seq, |e| e.seq).ok()?;
        Some(self.entries.remove(at))
    }

    /// Removes the first line equal to `item` (`no permit ...`) and returns
    /// its sequence number.
    pub fn remove_item(&mut self, item: &AclItem) -> Option<u32> {
        let at = self.entries.iter().position(|e| &e.item == item)?;
        Some(self.entries.remove(at).seq)
    }

    fn check_item(&self, item: &AclItem) -> Result<(), AclError> {
        match item {
            AclItem::Rule(rule) if self.kind == AclKind::Standard && !rule.is_standard() => {
                Err(AclError::NotStandard)
            }
            _ => Ok(()),
        }
    }

    /// The first entry a packet matches, with its sequence number; `None`
    /// means the implicit deny.
    pub fn first_match(&self, flow: &Flow) -> Option<(u32, &AclRule)> {
        self.rules().find(|(_, rule)| rule.matches(flow))
    }

    /// Whether the first matching entry is a `permit`.
    pub fn permits(&self, flow: &Flow) -> bool {
        self.first_match(flow)
            .is_some_and(|(_, rule)| rule.action() == Action::Permit)
    }

    /// The mirror list under a new name: every entry mirrored, order and
    /// sequence numbers kept. The result is an extended list, since the
    /// mirror of a source-only entry selects destinations.
    pub fn mirrored(&self, name: AclName) -> Result<Self, AclError> {
        let mut out = Self::new(name, AclKind::Extended)?;
        out.entries = self
            .entries
            .iter()
            .map(|e| AclEntry {
                seq: e.seq,
                item: match &e.item {
                    AclItem::Rule(r) => AclItem::Rule(r.mirror()),
                    AclItem::Remark(s) => AclItem::Remark(s.clone()),
                },
            })
            .collect();
        Ok(out)
    }

    /// Whether every line is numbered as plain appends would number it
    /// (10, 20, 30, ...), so that a listing without numbers keeps them.
    pub fn has_default_numbering(&self) -> bool {
        self.entries
            .iter()
            .zip(1u32..)
            .all(|(e, i)| Some(e.seq) == i.checked_mul(Self::SEQ_STEP))
    }
}

/// An access list or entry IOS would refuse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AclError {
    /// A list number outside 1-199, 1300-2699.
    #[error(
        "access list number {number} is outside the standard (1-99, 1300-1999) and extended (100-199, 2000-2699) ranges"
    )]
    NumberOutOfRange {
        /// The number.
        number: u32,
    },
    /// A numbered list declared with the other kind.
    #[error("access list {number} is a {kind} list by its number")]
    KindMismatch {
        /// The number.
        number: u16,
        /// The kind its range gives.
        kind: AclKind,
    },
    /// An empty name.
    #[error("an access list name cannot be empty")]
    EmptyName,
    /// Port conditions on a protocol without ports.
    #[error("port conditions need protocol tcp or udp, not {protocol}")]
    PortsNeedTcpOrUdp {
        /// The entry's protocol.
        protocol: ProtocolMatch,
    },
    /// `range A B` with A > B.
    #[error("port range {low} {high} is empty")]
    EmptyPortRange {
        /// Low end.
        low: u16,
        /// High end.
        high: u16,
    },
    /// An ICMP condition on another protocol.
    #[error("an ICMP type needs protocol icmp, not {protocol}")]
    IcmpNeedsIcmp {
        /// The entry's protocol.
        protocol: ProtocolMatch,
    },
    /// `established` on another protocol.
    #[error("established needs protocol tcp, not {protocol}")]
    EstablishedNeedsTcp {
        /// The entry's protocol.
        protocol: ProtocolMatch,
    },
    /// `fragments` with ports, ICMP type or `established`.
    #[error("fragments cannot be combined with port, ICMP or established conditions")]
    FragmentsWithLayer4,
    /// An extended entry in a standard list.
    #[error("a standard access list matches the source address only")]
    NotStandard,
    /// `SEQ permit ...` with a sequence number in use.
    #[error("sequence number {seq} is already in use")]
    DuplicateSequence {
        /// The number.
        seq: u32,
    },
    /// A sequence number of 0 or above 2147483647.
    #[error("sequence number {seq} is outside 1-2147483647")]
    SequenceOutOfRange {
        /// The number.
        seq: u32,
    },
    /// No room for another appended line.
    #[error("no sequence number is left after the last line")]
    SequenceExhausted,
}
