//! Small value types shared by the configuration, the engine and its
//! events: handles, SPIs (re-exported from `esp`), proxy identities (RFC 2407 s.4.6.2), lifetimes
//! (RFC 2407 s.4.5), roles and the IOS state names.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use isakmp_wire::{IdData, IdRepr, IdType};

/// Handle of one ISAKMP (phase-1) SA of an [`Endpoint`](crate::Endpoint).
/// Never reused by the endpoint that issued it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsakmpSaId(pub(crate) u64);

impl IsakmpSaId {
    /// The raw number (for logs and maps).
    #[must_use]
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for IsakmpSaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "isakmp#{}", self.0)
    }
}

/// Handle of one phase-2 negotiation started by
/// [`Endpoint::initiate`](crate::Endpoint::initiate). Never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NegotiationId(pub(crate) u64);

impl NegotiationId {
    /// The raw number.
    #[must_use]
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for NegotiationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "negotiation#{}", self.0)
    }
}

/// An IPsec SPI (RFC 4303 s.2.1), defined by the ESP engine. Values
/// 1..=255 are reserved; this engine never allocates them.
pub use esp::Spi;

/// Which side of an exchange we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// We sent the first message.
    Initiator,
    /// The peer sent the first message.
    Responder,
}

impl Role {
    /// IOS's one-letter marker: "I" or "R".
    #[must_use]
    pub fn letter(self) -> &'static str {
        match self {
            Role::Initiator => "I",
            Role::Responder => "R",
        }
    }
}

impl fmt::Display for Role {
    /// As IOS's debug lines print it: `(I)` or `(R)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({})", self.letter())
    }
}

/// The phase-1 exchange used with a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ExchangeMode {
    /// Main Mode (identity protection, RFC 2409 s.5): six messages.
    #[default]
    Main,
    /// Aggressive Mode (RFC 2409 s.5): three messages, identities in clear.
    Aggressive,
}

/// The state of an ISAKMP SA, named as IOS's `show crypto isakmp sa` and
/// `debug crypto isakmp` name it.
///
/// Main Mode, initiator: `MM_NO_STATE` (MM1 sent) -> `MM_SA_SETUP` (MM3
/// sent) -> `MM_KEY_EXCH` (MM5 sent) -> `QM_IDLE`. Responder:
/// `MM_SA_SETUP` (MM2 sent) -> `MM_KEY_EXCH` (MM4 sent) -> `QM_IDLE` (as
/// the seed's trace shows for each sent packet). Aggressive Mode,
/// initiator: `AG_NO_STATE` (AM1 sent) -> `QM_IDLE` (AM3 sent), with
/// `AG_AUTH` while AM2 is being authenticated; responder: `AG_INIT_EXCH`
/// (AM2 sent) -> `QM_IDLE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IsakmpState {
    /// `MM_NO_STATE`.
    MmNoState,
    /// `MM_SA_SETUP`.
    MmSaSetup,
    /// `MM_KEY_EXCH`.
    MmKeyExch,
    /// `AG_NO_STATE`.
    AgNoState,
    /// `AG_INIT_EXCH`.
    AgInitExch,
    /// `AG_AUTH`.
    AgAuth,
    /// `QM_IDLE`: phase 1 complete, ready for Quick Mode.
    QmIdle,
    /// `MM_NO_STATE` shown for an SA being deleted (IOS shows
    /// `MM_NO_STATE` with a "deleted" flag); kept distinct here.
    Deleted,
}

impl IsakmpState {
    /// The IOS name.
    #[must_use]
    pub fn ios_name(self) -> &'static str {
        match self {
            IsakmpState::MmNoState => "MM_NO_STATE",
            IsakmpState::MmSaSetup => "MM_SA_SETUP",
            IsakmpState::MmKeyExch => "MM_KEY_EXCH",
            IsakmpState::AgNoState => "AG_NO_STATE",
            IsakmpState::AgInitExch => "AG_INIT_EXCH",
            IsakmpState::AgAuth => "AG_AUTH",
            IsakmpState::QmIdle => "QM_IDLE",
            IsakmpState::Deleted => "MM_NO_STATE",
        }
    }
}

impl fmt::Display for IsakmpState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ios_name())
    }
}

/// The state of a Quick Mode node, named after IOS's `IKE_QM_*` states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QmState {
    /// `IKE_QM_READY`: queued behind phase 1.
    Ready,
    /// `IKE_QM_I_QM1`: initiator, QM1 sent.
    InitiatorQm1,
    /// `IKE_QM_R_QM2`: responder, QM2 sent.
    ResponderQm2,
    /// `IKE_QM_PHASE2_COMPLETE`.
    Complete,
}

impl QmState {
    /// The IOS name.
    #[must_use]
    pub fn ios_name(self) -> &'static str {
        match self {
            QmState::Ready => "IKE_QM_READY",
            QmState::InitiatorQm1 => "IKE_QM_I_QM1",
            QmState::ResponderQm2 => "IKE_QM_R_QM2",
            QmState::Complete => "IKE_QM_PHASE2_COMPLETE",
        }
    }
}

impl fmt::Display for QmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.ios_name())
    }
}

/// SA lifetimes (RFC 2407 s.4.5): seconds, and optionally kilobytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Lifetime {
    /// Lifetime in seconds.
    pub seconds: u32,
    /// Lifetime in kilobytes (1024 bytes), if limited by volume.
    pub kilobytes: Option<u64>,
}

impl Lifetime {
    /// IOS's IPsec defaults: 3600 s and 4608000 KB (the seed's values).
    pub const IOS_IPSEC: Lifetime = Lifetime {
        seconds: 3600,
        kilobytes: Some(4_608_000),
    };

    /// RFC 2407 s.4.5's default when a proposal carries no lifetime:
    /// 28800 s, no volume limit.
    pub const RFC_DEFAULT: Lifetime = Lifetime {
        seconds: 28_800,
        kilobytes: None,
    };

    /// The time part as a `Duration`.
    #[must_use]
    pub fn duration(&self) -> Duration {
        Duration::from_secs(u64::from(self.seconds))
    }

    /// The shorter of each limit.
    #[must_use]
    pub fn min(self, other: Lifetime) -> Lifetime {
        Lifetime {
            seconds: self.seconds.min(other.seconds),
            kilobytes: match (self.kilobytes, other.kilobytes) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        }
    }
}

/// The address part of a proxy identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProxyAddr {
    /// One host (ID_IPV4_ADDR / ID_IPV6_ADDR).
    Host(IpAddr),
    /// A prefix (ID_IPV4_ADDR_SUBNET / ID_IPV6_ADDR_SUBNET with a
    /// contiguous mask).
    Subnet {
        /// The network address (host bits are cleared by [`ProxyId::subnet`]).
        addr: IpAddr,
        /// Prefix length.
        prefix: u8,
    },
    /// An inclusive range (ID_IPV4_ADDR_RANGE / ID_IPV6_ADDR_RANGE).
    Range {
        /// First address.
        start: IpAddr,
        /// Last address.
        end: IpAddr,
    },
}

/// A proxy identity (traffic selector) of a Quick Mode: addresses plus IP
/// protocol and port, RFC 2407 s.4.6.2 (0 means any protocol / port).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ProxyId {
    /// IP protocol, 0 = any.
    pub protocol: u8,
    /// Port, 0 = any.
    pub port: u16,
    /// The addresses.
    pub addr: ProxyAddr,
}

/// A proxy identity the engine cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyIdError {
    /// Not an address ID type (FQDN, KEY_ID, ... in Quick Mode).
    #[error("ID type {0} is not an address, subnet or range")]
    NotAnAddress(IdType),
    /// A subnet mask with holes.
    #[error("subnet mask is not contiguous")]
    NonContiguousMask,
    /// A range whose end is below its start.
    #[error("address range ends before it starts")]
    ReversedRange,
}

fn to_u128(a: IpAddr) -> (bool, u128) {
    match a {
        IpAddr::V4(v4) => (false, u128::from(u32::from(v4))),
        IpAddr::V6(v6) => (true, u128::from(v6)),
    }
}

fn mask_bits(v6: bool, prefix: u8) -> u128 {
    let width: u32 = if v6 { 128 } else { 32 };
    let prefix = u32::from(prefix).min(width);
    let full: u128 = if v6 { u128::MAX } else { u128::from(u32::MAX) };
    if prefix == 0 {
        0
    } else {
        full & !(full.checked_shr(prefix).unwrap_or(0))
    }
}

impl ProxyId {
    /// One host, any protocol and port.
    #[must_use]
    pub fn host(addr: IpAddr) -> Self {
        Self {
            protocol: 0,
            port: 0,
            addr: ProxyAddr::Host(addr),
        }
    }

    /// A prefix, any protocol and port; host bits are cleared.
    #[must_use]
    pub fn subnet(addr: IpAddr, prefix: u8) -> Self {
        let (v6, bits) = to_u128(addr);
        let prefix = prefix.min(if v6 { 128 } else { 32 });
        let net = bits & mask_bits(v6, prefix);
        let addr = if v6 {
            IpAddr::V6(Ipv6Addr::from(net))
        } else {
            IpAddr::V4(Ipv4Addr::from(u32::try_from(net).unwrap_or(0)))
        };
        Self {
            protocol: 0,
            port: 0,
            addr: ProxyAddr::Subnet { addr, prefix },
        }
    }

    /// Sets protocol and port.
    #[must_use]
    pub fn with_protocol_port(mut self, protocol: u8, port: u16) -> Self {
        self.protocol = protocol;
        self.port = port;
        self
    }

    /// The first and last address covered, and whether they are IPv6.
    #[must_use]
    pub fn bounds(&self) -> (bool, u128, u128) {
        match self.addr {
            ProxyAddr::Host(a) => {
                let (v6, b) = to_u128(a);
                (v6, b, b)
            }
            ProxyAddr::Subnet { addr, prefix } => {
                let (v6, b) = to_u128(addr);
                let m = mask_bits(v6, prefix);
                let full: u128 = if v6 { u128::MAX } else { u128::from(u32::MAX) };
                (v6, b & m, (b & m) | (full & !m))
            }
            ProxyAddr::Range { start, end } => {
                let (v6, s) = to_u128(start);
                let (_, e) = to_u128(end);
                (v6, s, e)
            }
        }
    }

    /// Whether every packet `other` selects is also selected by `self`
    /// (addresses, protocol and port; 0 in `self` means any).
    #[must_use]
    pub fn contains(&self, other: &ProxyId) -> bool {
        let (v6a, sa, ea) = self.bounds();
        let (v6b, sb, eb) = other.bounds();
        v6a == v6b
            && sa <= sb
            && eb <= ea
            && (self.protocol == 0 || self.protocol == other.protocol)
            && (self.port == 0 || self.port == other.port)
    }

    /// Whether an address is inside.
    #[must_use]
    pub fn contains_addr(&self, addr: IpAddr) -> bool {
        let (v6, s, e) = self.bounds();
        let (v6b, b) = to_u128(addr);
        v6 == v6b && s <= b && b <= e
    }

    /// The addresses as an ESP selector's address range; `None` for a
    /// prefix longer than the address or a reversed range.
    #[must_use]
    pub fn esp_addr_range(&self) -> Option<esp::AddrRange> {
        match self.addr {
            ProxyAddr::Host(a) => Some(esp::AddrRange::single(a)),
            ProxyAddr::Subnet { addr, prefix } => esp::AddrRange::prefix(addr, prefix).ok(),
            ProxyAddr::Range { start, end } => esp::AddrRange::new(start, end).ok(),
        }
    }

    /// The ESP selector of the packets from `self` to `dst` (RFC 4301
    /// s.4.4.1): a Quick Mode's proxies, in one direction. `None` when the
    /// two name different protocols (nothing matches both) or an address
    /// range ESP cannot express.
    #[must_use]
    pub fn esp_selector(&self, dst: &ProxyId) -> Option<esp::TrafficSelector> {
        let protocol = match (self.protocol, dst.protocol) {
            (0, 0) => None,
            (0, p) | (p, 0) => Some(p),
            (a, b) if a == b => Some(a),
            _ => return None,
        };
        let ports = |port: u16| {
            if port == 0 {
                esp::PortRange::ANY
            } else {
                esp::PortRange::single(port)
            }
        };
        Some(esp::TrafficSelector {
            src: Some(self.esp_addr_range()?),
            dst: Some(dst.esp_addr_range()?),
            protocol,
            src_ports: ports(self.port),
            dst_ports: ports(dst.port),
        })
    }

    /// Reads a proxy identity from a received ID payload.
    ///
    /// # Errors
    /// [`ProxyIdError`] when the ID is not an address form this engine
    /// can express.
    pub fn from_id(id: &IdRepr<'_>) -> Result<Self, ProxyIdError> {
        let addr = match id.data {
            IdData::Ipv4Addr(a) => ProxyAddr::Host(IpAddr::V4(a)),
            IdData::Ipv6Addr(a) => ProxyAddr::Host(IpAddr::V6(a)),
            IdData::Ipv4Subnet { address, .. } => {
                // The address is kept as sent (host bits included) so that
                // the identity round-trips into HASH computations.
                let prefix = id
                    .data
                    .prefix_len()
                    .ok_or(ProxyIdError::NonContiguousMask)?;
                ProxyAddr::Subnet {
                    addr: IpAddr::V4(address),
                    prefix,
                }
            }
            IdData::Ipv6Subnet { address, .. } => {
                let prefix = id
                    .data
                    .prefix_len()
                    .ok_or(ProxyIdError::NonContiguousMask)?;
                ProxyAddr::Subnet {
                    addr: IpAddr::V6(address),
                    prefix,
                }
            }
            IdData::Ipv4Range { start, end } => {
                if u32::from(end) < u32::from(start) {
                    return Err(ProxyIdError::ReversedRange);
                }
                ProxyAddr::Range {
                    start: IpAddr::V4(start),
                    end: IpAddr::V4(end),
                }
            }
            IdData::Ipv6Range { start, end } => {
                if u128::from(end) < u128::from(start) {
                    return Err(ProxyIdError::ReversedRange);
                }
                ProxyAddr::Range {
                    start: IpAddr::V6(start),
                    end: IpAddr::V6(end),
                }
            }
            other => return Err(ProxyIdError::NotAnAddress(other.id_type())),
        };
        Ok(Self {
            protocol: id.protocol,
            port: id.port,
            addr,
        })
    }

    /// The ID payload body this proxy is sent as.
    #[must_use]
    pub fn to_id(&self) -> IdRepr<'static> {
        let data = match self.addr {
            ProxyAddr::Host(IpAddr::V4(a)) => IdData::Ipv4Addr(a),
            ProxyAddr::Host(IpAddr::V6(a)) => IdData::Ipv6Addr(a),
            ProxyAddr::Subnet {
                addr: IpAddr::V4(a),
                prefix,
            } => IdData::Ipv4Subnet {
                address: a,
                mask: Ipv4Addr::from(u32::try_from(mask_bits(false, prefix)).unwrap_or(0)),
            },
            ProxyAddr::Subnet {
                addr: IpAddr::V6(a),
                prefix,
            } => IdData::Ipv6Subnet {
                address: a,
                mask: Ipv6Addr::from(mask_bits(true, prefix)),
            },
            ProxyAddr::Range {
                start: IpAddr::V4(s),
                end,
            } => IdData::Ipv4Range {
                start: s,
                end: match end {
                    IpAddr::V4(e) => e,
                    IpAddr::V6(_) => s,
                },
            },
            ProxyAddr::Range {
                start: IpAddr::V6(s),
                end,
            } => IdData::Ipv6Range {
                start: s,
                end: match end {
                    IpAddr::V6(e) => e,
                    IpAddr::V4(_) => s,
                },
            },
        };
        IdRepr {
            protocol: self.protocol,
            port: self.port,
            data,
        }
    }
}

impl fmt::Display for ProxyId {
    /// IOS's `addr/mask/prot/port` form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.addr {
            ProxyAddr::Host(a) => {
                let full = if a.is_ipv4() { 32 } else { 128 };
                let id = ProxyId::subnet(a, full).to_id();
                write_id(f, &id)?;
            }
            _ => write_id(f, &self.to_id())?,
        }
        write!(f, "/{}/{}", self.protocol, self.port)
    }
}

fn write_id(f: &mut fmt::Formatter<'_>, id: &IdRepr<'_>) -> fmt::Result {
    match id.data {
        IdData::Ipv4Subnet { address, mask } => write!(f, "{address}/{mask}"),
        IdData::Ipv6Subnet { address, mask } => write!(f, "{address}/{mask}"),
        IdData::Ipv4Range { start, end } => write!(f, "{start}-{end}"),
        IdData::Ipv6Range { start, end } => write!(f, "{start}-{end}"),
        IdData::Ipv4Addr(a) => write!(f, "{a}"),
        IdData::Ipv6Addr(a) => write!(f, "{a}"),
        _ => f.write_str("?"),
    }
}

/// A phase-1 identity (RFC 2407 s.4.6.2): what we send in the ID payload
/// of Main or Aggressive Mode, or what we expect from a peer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Identity {
    /// ID_IPV4_ADDR / ID_IPV6_ADDR.
    Address(IpAddr),
    /// ID_FQDN.
    Fqdn(String),
    /// ID_USER_FQDN.
    UserFqdn(String),
    /// ID_KEY_ID (opaque bytes).
    KeyId(Vec<u8>),
    /// ID_DER_ASN1_DN: a DER-encoded X.500 distinguished name, as
    /// certificate authentication uses it (a certificate's subject).
    Dn(Vec<u8>),
}

impl Identity {
    /// The identity carried by a received ID payload, if it is one of the
    /// forms above.
    #[must_use]
    pub fn from_id(id: &IdRepr<'_>) -> Option<Self> {
        Some(match id.data {
            IdData::Ipv4Addr(a) => Identity::Address(IpAddr::V4(a)),
            IdData::Ipv6Addr(a) => Identity::Address(IpAddr::V6(a)),
            IdData::Fqdn(d) => Identity::Fqdn(String::from_utf8_lossy(d).into_owned()),
            IdData::UserFqdn(d) => Identity::UserFqdn(String::from_utf8_lossy(d).into_owned()),
            IdData::KeyId(d) => Identity::KeyId(d.to_vec()),
            IdData::DerAsn1Dn(d) => Identity::Dn(d.to_vec()),
            _ => return None,
        })
    }

    /// The ID payload body, with the given protocol and port.
    #[must_use]
    pub fn to_id(&self, protocol: u8, port: u16) -> IdRepr<'_> {
        let data = match self {
            Identity::Address(IpAddr::V4(a)) => IdData::Ipv4Addr(*a),
            Identity::Address(IpAddr::V6(a)) => IdData::Ipv6Addr(*a),
            Identity::Fqdn(s) => IdData::Fqdn(s.as_bytes()),
            Identity::UserFqdn(s) => IdData::UserFqdn(s.as_bytes()),
            Identity::KeyId(k) => IdData::KeyId(k),
            Identity::Dn(d) => IdData::DerAsn1Dn(d),
        };
        IdRepr {
            protocol,
            port,
            data,
        }
    }

    /// IOS's name of the ID type ("ID_IPV4_ADDR", "ID_FQDN", ...).
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Identity::Address(IpAddr::V4(_)) => "ID_IPV4_ADDR",
            Identity::Address(IpAddr::V6(_)) => "ID_IPV6_ADDR",
            Identity::Fqdn(_) => "ID_FQDN",
            Identity::UserFqdn(_) => "ID_USER_FQDN",
            Identity::KeyId(_) => "ID_KEY_ID",
            Identity::Dn(_) => "ID_DER_ASN1_DN",
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Address(a) => write!(f, "{a}"),
            Identity::Fqdn(s) | Identity::UserFqdn(s) => f.write_str(s),
            Identity::KeyId(k) => {
                for b in k {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            // The name as RFC 4514 writes it, when it reads.
            Identity::Dn(d) => match ike_pki::name_to_string(d) {
                Some(name) => f.write_str(&name),
                None => {
                    f.write_str("DN:")?;
                    for b in d {
                        write!(f, "{b:02x}")?;
                    }
                    Ok(())
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn proxy_round_trip_and_containment() {
        let seed_local = ProxyId::subnet(v4("13.13.13.0"), 24);
        let id = seed_local.to_id();
        assert_eq!(
            id.data,
            IdData::Ipv4Subnet {
                address: Ipv4Addr::new(13, 13, 13, 0),
                mask: Ipv4Addr::new(255, 255, 255, 0)
            }
        );
        assert_eq!(ProxyId::from_id(&id).unwrap(), seed_local);
        assert_eq!(seed_local.to_string(), "13.13.13.0/255.255.255.0/0/0");
        let host = ProxyId::host(v4("13.13.13.14"));
        assert!(seed_local.contains(&host));
        assert!(!host.contains(&seed_local));
        let any = ProxyId::subnet(v4("0.0.0.0"), 0);
        assert!(any.contains(&seed_local));
        assert!(!seed_local.contains(&ProxyId::subnet(v4("13.13.0.0"), 16)));
        let tcp = seed_local.with_protocol_port(6, 80);
        assert!(seed_local.contains(&tcp));
        assert!(!tcp.contains(&seed_local));
        assert_eq!(ProxyId::subnet(v4("13.13.13.77"), 24), seed_local);
        assert!(seed_local.contains_addr(v4("13.13.13.255")));
        assert!(!seed_local.contains_addr(v4("13.13.14.0")));
    }

    #[test]
    fn selectors_follow_the_direction() {
        let local = ProxyId::subnet("13.13.13.0".parse().unwrap(), 24);
        let remote = ProxyId::subnet("12.12.12.0".parse().unwrap(), 24).with_protocol_port(17, 53);
        let out = local.esp_selector(&remote).unwrap();
        let a: IpAddr = "13.13.13.14".parse().unwrap();
        let b: IpAddr = "12.12.12.13".parse().unwrap();
        assert!(out.matches_packet(a, b, 17, Some((1000, 53))));
        assert!(!out.matches_packet(b, a, 17, Some((53, 1000))));
        assert!(!out.matches_packet(a, b, 17, Some((1000, 54))));
        assert!(!out.matches_packet(a, b, 6, Some((1000, 53))));
        // Two different protocols select nothing: refused.
        let tcp = ProxyId::subnet("13.13.13.0".parse().unwrap(), 24).with_protocol_port(6, 0);
        assert!(tcp.esp_selector(&remote).is_none());
    }

    #[test]
    fn bad_proxies() {
        let id = IdRepr::new(IdData::Ipv4Subnet {
            address: Ipv4Addr::new(10, 0, 0, 0),
            mask: Ipv4Addr::new(255, 0, 255, 0),
        });
        assert_eq!(ProxyId::from_id(&id), Err(ProxyIdError::NonContiguousMask));
        let id = IdRepr::new(IdData::Ipv4Range {
            start: Ipv4Addr::new(10, 0, 0, 9),
            end: Ipv4Addr::new(10, 0, 0, 1),
        });
        assert_eq!(ProxyId::from_id(&id), Err(ProxyIdError::ReversedRange));
        let id = IdRepr::new(IdData::Fqdn(b"x"));
        assert!(matches!(
            ProxyId::from_id(&id),
            Err(ProxyIdError::NotAnAddress(_))
        ));
    }

    #[test]
    fn roles_display_as_ios_prints_them() {
        assert_eq!(Role::Initiator.to_string(), "(I)");
        assert_eq!(Role::Responder.to_string(), "(R)");
    }

    #[test]
    fn lifetime_min() {
        let a = Lifetime {
            seconds: 100,
            kilobytes: None,
        };
        let b = Lifetime {
            seconds: 50,
            kilobytes: Some(9),
        };
        assert_eq!(
            a.min(b),
            Lifetime {
                seconds: 50,
                kilobytes: Some(9)
            }
        );
    }
}
