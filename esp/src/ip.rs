//! IPv4 and IPv6 headers: the product's one code path for them.
//!
//! [`Ipv4Fields::read`] is the one reader of IPv4 header fields (RFC 791).
//! On it stand ESP's own header facts (crate-private: lengths, addresses,
//! protocol, fragment bits and ports for selectors, and IPv6's fixed
//! header, RFC 8200) and the public builders and checked readers of whole
//! IPv4, UDP and ICMP packets with their checksums (RFC 1071), for whoever
//! needs them above ESP: a gateway's classifier, a driver writing a
//! capture, the test harness.
//! Every read is bounds-checked: these headers come from the network or
//! from a decrypted, but peer-controlled, payload.

mod packet;

pub use packet::{
    ICMP_HEADER_LEN, IPV4_HEADER_LEN, Ipv4Fields, Ipv4Header, Ipv4Packet, MAX_PACKET_LEN,
    PacketError, Transport, UDP_HEADER_LEN, checksum, decrement_ttl, icmp, icmp_echo, icmp_type,
    protocol, udp,
};
pub(crate) use packet::{checksum_adjust, transport_checksum};

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::selector::PacketKey;

pub(crate) const IPV4_MIN_HEADER: usize = 20;
pub(crate) const IPV6_HEADER: usize = 40;
pub(crate) const PROTO_ESP: u8 = 50;
pub(crate) const PROTO_IPV4: u8 = 4;
pub(crate) const PROTO_IPV6: u8 = 41;
pub(crate) const PROTO_NONE: u8 = 59;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

fn addr6(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    let s: [u8; 16] = b.get(at..at.checked_add(16)?)?.try_into().ok()?;
    Some(Ipv6Addr::from(s))
}

/// Facts from a parsed IPv4 header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ipv4Info {
    pub(crate) header_len: usize,
    pub(crate) total_len: usize,
    pub(crate) tos: u8,
    pub(crate) df: bool,
    pub(crate) is_fragment: bool,
    pub(crate) is_first_fragment: bool,
    pub(crate) protocol: u8,
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: Ipv4Addr,
}

/// Parses an IPv4 header at the start of `b` with [`Ipv4Fields::read`].
/// The total length must fit in `b` (bytes after it, such as Ethernet
/// padding, are allowed). The error is ESP's description of the fault.
pub(crate) fn parse_ipv4(b: &[u8]) -> Result<Ipv4Info, &'static str> {
    let f = Ipv4Fields::read(b).map_err(|e| match e {
        PacketError::NotIpv4(_) => "not IPv4",
        PacketError::BadHeaderLength(len) if len < IPV4_MIN_HEADER => "IHL below 5",
        PacketError::BadTotalLength { .. } => "total length below header length",
        _ if b.is_empty() => "empty packet",
        _ => "truncated IPv4 header",
    })?;
    if f.total_len > b.len() {
        return Err("total length beyond the packet");
    }
    Ok(Ipv4Info {
        header_len: f.header_len,
        total_len: f.total_len,
        tos: f.header.tos,
        df: f.header.dont_fragment,
        is_fragment: f.is_fragment(),
        is_first_fragment: f.fragment_offset == 0,
        protocol: f.header.protocol,
        src: f.header.source,
        dst: f.header.destination,
    })
}

/// Protocols whose first four payload bytes are source and destination
/// ports (TCP, UDP, SCTP, UDP-Lite).
fn has_ports(protocol: u8) -> bool {
    matches!(protocol, 6 | 17 | 132 | 136)
}

/// Facts about an inner packet, for tunnel-mode checks and selectors.
#[derive(Clone, Copy, Debug)]
pub(crate) struct InnerInfo {
    pub(crate) key: PacketKey,
    /// Bytes the packet's own header says it has.
    pub(crate) total_len: usize,
    pub(crate) tos: u8,
    /// DF of an IPv4 packet; `false` for IPv6.
    pub(crate) df: bool,
    pub(crate) is_ipv6: bool,
}

/// Parses an IPv4 or IPv6 packet at the start of `b`: its total length must
/// fit in `b`. IPv6 extension headers are not walked: the protocol is the
/// fixed header's next header, and ports are read only when that is a
/// port-carrying protocol.
pub(crate) fn parse_inner(b: &[u8]) -> Result<InnerInfo, &'static str> {
    let first = *b.first().ok_or("empty packet")?;
    match first >> 4 {
        4 => {
            let h = parse_ipv4(b)?;
            let ports = if has_ports(h.protocol) && h.is_first_fragment {
                let l4 = b.get(h.header_len..h.total_len).unwrap_or(&[]);
                be16(l4, 0).zip(be16(l4, 2))
            } else {
                None
            };
            Ok(InnerInfo {
                key: PacketKey {
                    src: IpAddr::V4(h.src),
                    dst: IpAddr::V4(h.dst),
                    protocol: h.protocol,
                    ports,
                },
                total_len: h.total_len,
                tos: h.tos,
                df: h.df,
                is_ipv6: false,
            })
        }
        6 => {
            if b.len() < IPV6_HEADER {
                return Err("truncated IPv6 header");
            }
            let payload = usize::from(be16(b, 4).ok_or("truncated IPv6 header")?);
            let total_len = IPV6_HEADER + payload;
            if total_len > b.len() {
                return Err("payload length beyond the packet");
            }
            let protocol = *b.get(6).ok_or("truncated IPv6 header")?;
            let ports = if has_ports(protocol) {
                let l4 = b.get(IPV6_HEADER..total_len).unwrap_or(&[]);
                be16(l4, 0).zip(be16(l4, 2))
            } else {
                None
            };
            // Traffic class straddles the first two bytes.
            let tc = ((first & 0x0f) << 4) | (b.get(1).copied().unwrap_or(0) >> 4);
            Ok(InnerInfo {
                key: PacketKey {
                    src: IpAddr::V6(addr6(b, 8).ok_or("truncated IPv6 header")?),
                    dst: IpAddr::V6(addr6(b, 24).ok_or("truncated IPv6 header")?),
                    protocol,
                    ports,
                },
                total_len,
                tos: tc,
                df: false,
                is_ipv6: true,
            })
        }
        _ => Err("IP version is neither 4 nor 6"),
    }
}

/// Writes `len` into the IPv4 total-length field, `protocol` into the
/// protocol field, and recomputes the header checksum, for the header
/// occupying all of `header`.
pub(crate) fn rewrite_ipv4(header: &mut [u8], total_len: u16, protocol: u8) {
    if let Some(f) = header.get_mut(2..4) {
        f.copy_from_slice(&total_len.to_be_bytes());
    }
    if let Some(p) = header.get_mut(9) {
        *p = protocol;
    }
    if let Some(c) = header.get_mut(10..12) {
        c.copy_from_slice(&[0, 0]);
    }
    let sum = checksum(header);
    if let Some(c) = header.get_mut(10..12) {
        c.copy_from_slice(&sum.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3602_case5_outer_header_checksum() {
        // RFC 3602 s.4 case #5: the IP header after ESP processing.
        let h = hex::decode("4500007c08f200004032f9a5c0a87b03c0a87b64").unwrap();
        assert_eq!(checksum(&h), 0);
        let mut g = h.clone();
        g[10] = 0;
        g[11] = 0;
        assert_eq!(checksum(&g), 0xf9a5);
    }

    #[test]
    fn parse_rejects_bad_headers() {
        assert!(parse_ipv4(&[]).is_err());
        assert!(parse_ipv4(&[0x45]).is_err());
        let mut h = hex::decode("4500001408f200004032f9a5c0a87b03c0a87b64").unwrap();
        assert!(parse_ipv4(&h).is_ok());
        h[0] = 0x44; // IHL 4
        assert!(parse_ipv4(&h).is_err());
        h[0] = 0x45;
        h[3] = 0x13; // total length 19 < 20
        assert!(parse_ipv4(&h).is_err());
        h[3] = 0x15; // 21 > 20 bytes present
        assert!(parse_ipv4(&h).is_err());
        assert!(parse_inner(&[0x70]).is_err());
        assert!(parse_inner(&[0x60; 39]).is_err());
    }
}
