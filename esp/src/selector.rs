//! Traffic selectors: which packets an SA may carry (RFC 4301 s.4.4.1).
//!
//! A selector is an address range for the source and one for the
//! destination, an optional IP protocol and port ranges. It describes the
//! packets in the SA's own direction: an outbound SA's source is the local
//! protected network, an inbound SA's source is the peer's. IKEv1 Quick Mode
//! negotiates one pair of identities (RFC 2407 s.4.6.2: addresses, subnets
//! or ranges, protocol and port), which maps onto exactly one selector.

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::error::ConfigError;

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AddrRange {
    start: IpAddr,
    end: IpAddr,
}

fn to_u128(a: IpAddr) -> u128 {
    match a {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl AddrRange {
    /// Every IPv4 address.
    pub const ANY_V4: Self = Self {
        start: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        end: IpAddr::V4(Ipv4Addr::BROADCAST),
    };

    /// Every IPv6 address.
    pub const ANY_V6: Self = Self {
        start: IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        end: IpAddr::V6(Ipv6Addr::new(
            0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
        )),
    };

    /// The range `start..=end`; both ends of one family, `start <= end`.
    pub fn new(start: IpAddr, end: IpAddr) -> Result<Self, ConfigError> {
        let r = Self { start, end };
        r.validate()?;
        Ok(r)
    }

    /// A single address.
    pub fn single(addr: IpAddr) -> Self {
        Self {
            start: addr,
            end: addr,
        }
    }

    /// The prefix `addr/len` (host bits of `addr` are ignored).
    pub fn prefix(addr: IpAddr, len: u8) -> Result<Self, ConfigError> {
        match addr {
            IpAddr::V4(v4) => {
                if len > 32 {
                    return Err(ConfigError::PrefixLength(len));
                }
                let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
                let base = u32::from(v4) & mask;
                Ok(Self {
                    start: IpAddr::V4(Ipv4Addr::from(base)),
                    end: IpAddr::V4(Ipv4Addr::from(base | !mask)),
                })
            }
            IpAddr::V6(v6) => {
                if len > 128 {
                    return Err(ConfigError::PrefixLength(len));
                }
                let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
                let base = u128::from(v6) & mask;
                Ok(Self {
                    start: IpAddr::V6(Ipv6Addr::from(base)),
                    end: IpAddr::V6(Ipv6Addr::from(base | !mask)),
                })
            }
        }
    }

    /// An IPv4 subnet given as address and mask, as IOS ACLs and ISAKMP
    /// `ID_IPV4_ADDR_SUBNET` carry it. The mask need not be contiguous
    /// for the range computation but a non-contiguous mask is refused.
    pub fn ipv4_subnet(addr: Ipv4Addr, mask: Ipv4Addr) -> Result<Self, ConfigError> {
        let m = u32::from(mask);
        let len = m.leading_ones();
        if m.checked_shl(len).unwrap_or(0) != 0 {
            return Err(ConfigError::NonContiguousMask(mask));
        }
        // leading_ones() of a u32 is at most 32.
        #[allow(clippy::cast_possible_truncation)]
        Self::prefix(IpAddr::V4(addr), len as u8)
    }

    /// First address.
    pub fn start(&self) -> IpAddr {
        self.start
    }

    /// Last address.
    pub fn end(&self) -> IpAddr {
        self.end
    }

    /// Whether `addr` lies in the range (false for the other family).
    pub fn contains(&self, addr: IpAddr) -> bool {
        if addr.is_ipv4() != self.start.is_ipv4() {
            return false;
        }
        let a = to_u128(addr);
        to_u128(self.start) <= a && a <= to_u128(self.end)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.start.is_ipv4() != self.end.is_ipv4() {
            return Err(ConfigError::MixedFamilies);
        }
        if to_u128(self.start) > to_u128(self.end) {
            return Err(ConfigError::EmptyRange);
        }
        Ok(())
    }
}

impl fmt::Debug for AddrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// An inclusive range of ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PortRange {
    /// First port.
    pub start: u16,
    /// Last port.
    pub end: u16,
}

impl PortRange {
    /// Every port (what "port 0" means in an ISAKMP identity).
    pub const ANY: Self = Self {
        start: 0,
        end: u16::MAX,
    };

    /// A single port.
    pub const fn single(port: u16) -> Self {
        Self {
            start: port,
            end: port,
        }
    }

    /// Whether `port` lies in the range.
    pub fn contains(&self, port: u16) -> bool {
        self.start <= port && port <= self.end
    }

    /// Whether this is [`PortRange::ANY`].
    pub fn is_any(&self) -> bool {
        *self == Self::ANY
    }
}

/// The packets one SA carries in its direction.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TrafficSelector {
    /// Inner source addresses. `None` is any address of either family.
    pub src: Option<AddrRange>,
    /// Inner destination addresses. `None` is any address of either family.
    pub dst: Option<AddrRange>,
    /// IP protocol (next header). `None` is any.
    pub protocol: Option<u8>,
    /// Source ports (TCP, UDP, SCTP, UDP-Lite only).
    pub src_ports: PortRange,
    /// Destination ports (TCP, UDP, SCTP, UDP-Lite only).
    pub dst_ports: PortRange,
}

/// What a selector needs to know about a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PacketKey {
    pub(crate) src: IpAddr,
    pub(crate) dst: IpAddr,
    pub(crate) protocol: u8,
    /// Source and destination ports when the packet has them in reach
    /// (a port-carrying protocol, first fragment, header present).
    pub(crate) ports: Option<(u16, u16)>,
}

impl TrafficSelector {
    /// Any packet.
    pub fn any() -> Self {
        Self {
            src: None,
            dst: None,
            protocol: None,
            src_ports: PortRange::ANY,
            dst_ports: PortRange::ANY,
        }
    }

    /// Any protocol and port between two address ranges (the seed's
    /// `access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255`).
    pub fn between(src: AddrRange, dst: AddrRange) -> Self {
        Self {
            src: Some(src),
            dst: Some(dst),
            ..Self::any()
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if let Some(r) = &self.src {
            r.validate()?;
        }
        if let Some(r) = &self.dst {
            r.validate()?;
        }
        if self.src_ports.start > self.src_ports.end || self.dst_ports.start > self.dst_ports.end {
            return Err(ConfigError::EmptyRange);
        }
        Ok(())
    }

    /// Whether a packet with these fields matches. Port ranges other than
    /// "any" match only packets whose ports could be read.
    pub(crate) fn matches(&self, key: &PacketKey) -> bool {
        if let Some(r) = &self.src
            && !r.contains(key.src)
        {
            return false;
        }
        if let Some(r) = &self.dst
            && !r.contains(key.dst)
        {
            return false;
        }
        if let Some(p) = self.protocol
            && p != key.protocol
        {
            return false;
        }
        if self.src_ports.is_any() && self.dst_ports.is_any() {
            return true;
        }
        match key.ports {
            Some((s, d)) => self.src_ports.contains(s) && self.dst_ports.contains(d),
            None => false,
        }
    }

    /// Whether a packet from `src` to `dst` with `protocol` and optional
    /// ports matches (public form of the check the SA makes).
    pub fn matches_packet(
        &self,
        src: IpAddr,
        dst: IpAddr,
        protocol: u8,
        ports: Option<(u16, u16)>,
    ) -> bool {
        self.matches(&PacketKey {
            src,
            dst,
            protocol,
            ports,
        })
    }
}

impl Default for TrafficSelector {
    fn default() -> Self {
        Self::any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_mask() {
        let r = AddrRange::ipv4_subnet(
            Ipv4Addr::new(13, 13, 13, 0),
            Ipv4Addr::new(255, 255, 255, 0),
        )
        .unwrap();
        assert!(r.contains(IpAddr::V4(Ipv4Addr::new(13, 13, 13, 14))));
        assert!(r.contains(IpAddr::V4(Ipv4Addr::new(13, 13, 13, 255))));
        assert!(!r.contains(IpAddr::V4(Ipv4Addr::new(13, 13, 14, 0))));
        assert!(!r.contains(IpAddr::V6(Ipv6Addr::LOCALHOST)));
        assert!(
            AddrRange::ipv4_subnet(Ipv4Addr::new(1, 0, 0, 0), Ipv4Addr::new(255, 0, 255, 0))
                .is_err()
        );
        let all = AddrRange::prefix(IpAddr::V4(Ipv4Addr::new(9, 9, 9, 9)), 0).unwrap();
        assert_eq!(all, AddrRange::ANY_V4);
        let v6 = AddrRange::prefix("2001:db8::1".parse().unwrap(), 32).unwrap();
        assert!(v6.contains("2001:db8:ffff::".parse().unwrap()));
        assert!(!v6.contains("2001:db9::".parse().unwrap()));
        assert!(AddrRange::prefix(IpAddr::V4(Ipv4Addr::LOCALHOST), 33).is_err());
        assert!(
            AddrRange::new(
                IpAddr::V4(Ipv4Addr::new(1, 1, 1, 2)),
                IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1))
            )
            .is_err()
        );
        assert!(
            AddrRange::new(
                IpAddr::V4(Ipv4Addr::new(1, 1, 1, 2)),
                IpAddr::V6(Ipv6Addr::LOCALHOST)
            )
            .is_err()
        );
    }

    #[test]
    fn ports_need_readable_ports() {
        let sel = TrafficSelector {
            protocol: Some(17),
            dst_ports: PortRange::single(500),
            ..TrafficSelector::any()
        };
        let a = IpAddr::V4(Ipv4Addr::new(1, 1, 1, 1));
        assert!(sel.matches_packet(a, a, 17, Some((1000, 500))));
        assert!(!sel.matches_packet(a, a, 17, Some((1000, 501))));
        assert!(!sel.matches_packet(a, a, 17, None));
        assert!(!sel.matches_packet(a, a, 6, Some((1000, 500))));
        assert!(TrafficSelector::any().matches_packet(a, a, 1, None));
    }
}
