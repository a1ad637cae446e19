//! UDP encapsulation of ESP (RFC 3948): the framing checks an inbound
//! packet passes before any SA state is touched, and the transport-mode
//! checksum fix-up (RFC 3948 s.3.1.2) after it authenticated.
//!
//! What a UDP payload on the NAT-T port is (ESP, an IKE message after the
//! non-ESP marker, a keepalive) is decided by one function in the whole
//! product, [`isakmp_wire::nat_t::classify`]; this module only words its
//! answer as ESP's [`DecapError`].

use std::net::Ipv4Addr;
use std::ops::Range;

use isakmp_wire::nat_t::{self, Udp4500, Udp4500Error};

use crate::error::DecapError;
use crate::ip::{checksum_adjust, transport_checksum};
use crate::spi::Spi;

/// Bytes of the UDP header in front of the ESP header (RFC 3948 s.2.1).
pub(crate) const UDP_HEADER: usize = 8;

const PROTO_TCP: u8 = 6;
const PROTO_UDP: u8 = 17;

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// The SPI of a UDP payload that is ESP; every other kind of payload as
/// the error that names it.
pub(crate) fn esp_spi(payload: &[u8]) -> Result<Spi, DecapError> {
    match nat_t::classify(payload) {
        Ok(Udp4500::Esp(esp)) => match esp {
            [a, b, c, d, ..] => Ok(Spi(u32::from_be_bytes([*a, *b, *c, *d]))),
            _ => Err(DecapError::BadLength { len: esp.len() }),
        },
        Ok(Udp4500::Ike(_)) | Err(Udp4500Error::MarkerOnly) => Err(DecapError::NonEspMarker),
        Ok(Udp4500::Keepalive) => Err(DecapError::Keepalive),
        Err(Udp4500Error::TruncatedMarker { len }) => Err(DecapError::TruncatedMarker { len }),
        Err(Udp4500Error::TruncatedEsp { len }) => Err(DecapError::BadLength { len }),
        Err(_) => Err(DecapError::BadLength { len: payload.len() }),
    }
}

/// A UDP-encapsulated ESP packet's UDP part, checked.
#[derive(Clone, Debug)]
pub(crate) struct UdpFrame {
    pub(crate) source_port: u16,
    pub(crate) destination_port: u16,
    /// The ESP bytes (SPI to ICV) within the whole buffer.
    pub(crate) esp: Range<usize>,
    pub(crate) spi: Spi,
}

/// Reads the UDP header at `buf[header_len..total_len]` (the IPv4 payload
/// of a protocol-17 packet): its length must be at least 8 and equal the
/// IPv4 payload's (RFC 3948 s.2.1 leaves no room for anything after the
/// ESP packet), and the payload must be ESP. The UDP checksum is not
/// checked: RFC 3948 s.2.1 has it sent as zero and forbids relying on
/// that; the ESP ICV protects the packet.
pub(crate) fn read_frame(
    buf: &[u8],
    header_len: usize,
    total_len: usize,
) -> Result<UdpFrame, DecapError> {
    let segment = buf
        .get(header_len..total_len)
        .ok_or(DecapError::MalformedOuter("total length"))?;
    let available = segment.len();
    let length = be16(segment, 4).map_or(0, usize::from);
    if available < UDP_HEADER || length < UDP_HEADER || length != available {
        return Err(DecapError::UdpLength { length, available });
    }
    let source_port = be16(segment, 0).unwrap_or(0);
    let destination_port = be16(segment, 2).unwrap_or(0);
    let spi = esp_spi(segment.get(UDP_HEADER..).unwrap_or(&[]))?;
    Ok(UdpFrame {
        source_port,
        destination_port,
        esp: header_len + UDP_HEADER..total_len,
        spi,
    })
}

/// RFC 3948 s.3.1.2: the TCP or UDP checksum of a transport-mode packet
/// restored from UDP-encapsulated ESP (`packet`: its IPv4 header of
/// `header_len` bytes, then the segment) made right for the restored
/// header's addresses, which a NAT may have changed since the sender
/// computed it over its own.
///
/// - Both NAT-OA addresses known (`original`): the checksum is adjusted
///   incrementally (RFC 1624) from those addresses to the restored
///   header's (s.3.1.2, step 2).
/// - Otherwise: the checksum is recomputed over the segment (step 3; the
///   ICV has already vouched for the bytes).
///
/// A UDP checksum of zero (none sent) stays zero; other protocols, and
/// segments too short to hold the checksum field, are left alone.
pub(crate) fn fix_transport_checksum(
    packet: &mut [u8],
    header_len: usize,
    protocol: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    original: Option<(Ipv4Addr, Ipv4Addr)>,
) {
    let at = match protocol {
        PROTO_TCP => 16,
        PROTO_UDP => 6,
        _ => return,
    };
    let Some(segment) = packet.get_mut(header_len..) else {
        return;
    };
    let Some(field) = be16(segment, at) else {
        return;
    };
    if protocol == PROTO_UDP && field == 0 {
        return;
    }
    let sum = match original {
        Some((osrc, odst)) => checksum_adjust(field, &addresses(osrc, odst), &addresses(src, dst)),
        None => {
            if let Some(f) = segment.get_mut(at..at + 2) {
                f.copy_from_slice(&[0, 0]);
            }
            transport_checksum(src, dst, protocol, segment)
        }
    };
    // UDP sends a computed zero as 0xffff (zero means "no checksum").
    let sum = if protocol == PROTO_UDP && sum == 0 {
        0xffff
    } else {
        sum
    };
    if let Some(f) = segment.get_mut(at..at + 2) {
        f.copy_from_slice(&sum.to_be_bytes());
    }
}

/// Source and destination as the 8 bytes of the pseudo-header.
fn addresses(src: Ipv4Addr, dst: Ipv4Addr) -> [u8; 8] {
    let ([a, b, c, d], [e, f, g, h]) = (src.octets(), dst.octets());
    [a, b, c, d, e, f, g, h]
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::indexing_slicing,
        clippy::cast_possible_truncation
    )]
    use super::*;

    /// An independent RFC 1071 checksum over pseudo-header and segment.
    fn reference(src: [u8; 4], dst: [u8; 4], proto: u8, seg: &[u8]) -> u16 {
        let mut v = Vec::new();
        v.extend_from_slice(&src);
        v.extend_from_slice(&dst);
        v.push(0);
        v.push(proto);
        v.extend_from_slice(&(seg.len() as u16).to_be_bytes());
        v.extend_from_slice(seg);
        if v.len() % 2 == 1 {
            v.push(0);
        }
        let mut sum: u64 = 0;
        for w in v.chunks(2) {
            sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    fn packet(src: [u8; 4], dst: [u8; 4], proto: u8, seg: &[u8]) -> Vec<u8> {
        let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0];
        p.extend_from_slice(&src);
        p.extend_from_slice(&dst);
        p.extend_from_slice(seg);
        p
    }

    #[test]
    fn incremental_and_recomputed_fixups_agree_with_a_reference() {
        let (osrc, odst) = ([10, 0, 0, 2], [192, 0, 2, 1]);
        let (nsrc, ndst) = ([198, 51, 100, 7], [172, 16, 0, 5]);
        for proto in [6u8, 17] {
            // A segment whose checksum is right for the original addresses.
            let mut seg: Vec<u8> = (0u8..41).map(|i| i.wrapping_mul(37)).collect();
            let at = if proto == 6 { 16 } else { 6 };
            seg[at] = 0;
            seg[at + 1] = 0;
            let c = reference(osrc, odst, proto, &seg);
            seg[at..at + 2].copy_from_slice(&c.to_be_bytes());
            let want = {
                let mut s = seg.clone();
                s[at] = 0;
                s[at + 1] = 0;
                reference(nsrc, ndst, proto, &s)
            };
            for original in [Some((osrc.into(), odst.into())), None] {
                let mut p = packet(nsrc, ndst, proto, &seg);
                fix_transport_checksum(&mut p, 20, proto, nsrc.into(), ndst.into(), original);
                let got = u16::from_be_bytes([p[20 + at], p[20 + at + 1]]);
                // One's complement has two zeros; both verify.
                let ok =
                    got == want || (want == 0 && got == 0xffff) || (want == 0xffff && got == 0);
                assert!(ok, "proto {proto} {original:?}: {got:#06x} != {want:#06x}");
                // And the segment now verifies against the new addresses.
                let mut s = p[20..].to_vec();
                s[at] = 0;
                s[at + 1] = 0;
                assert!(reference(nsrc, ndst, proto, &s) == got || got == 0xffff);
            }
        }
    }

    #[test]
    fn udp_without_checksum_and_other_protocols_stay() {
        let mut p = packet([1, 1, 1, 1], [2, 2, 2, 2], 17, &[0, 1, 0, 2, 0, 9, 0, 0, 7]);
        let before = p.clone();
        fix_transport_checksum(
            &mut p,
            20,
            17,
            [3, 3, 3, 3].into(),
            [4, 4, 4, 4].into(),
            None,
        );
        assert_eq!(p, before);
        let mut p = packet(
            [1, 1, 1, 1],
            [2, 2, 2, 2],
            1,
            &[8, 0, 0x12, 0x34, 0, 0, 0, 0],
        );
        let before = p.clone();
        fix_transport_checksum(
            &mut p,
            20,
            1,
            [3, 3, 3, 3].into(),
            [4, 4, 4, 4].into(),
            None,
        );
        assert_eq!(p, before);
        // Too short to hold the TCP checksum field: untouched.
        let mut p = packet([1, 1, 1, 1], [2, 2, 2, 2], 6, &[0; 10]);
        let before = p.clone();
        fix_transport_checksum(
            &mut p,
            20,
            6,
            [3, 3, 3, 3].into(),
            [4, 4, 4, 4].into(),
            None,
        );
        assert_eq!(p, before);
    }

    #[test]
    fn framing_errors_are_named() {
        let udp = |len: u16, payload: &[u8]| {
            let mut b = vec![0u8; 20];
            b.extend_from_slice(&4500u16.to_be_bytes());
            b.extend_from_slice(&4500u16.to_be_bytes());
            b.extend_from_slice(&len.to_be_bytes());
            b.extend_from_slice(&[0, 0]);
            b.extend_from_slice(payload);
            b
        };
        let esp = [0u8, 0, 1, 0, 0, 0, 0, 1, 9, 9];
        let b = udp(18, &esp);
        let f = read_frame(&b, 20, b.len()).unwrap();
        assert_eq!((f.spi, f.esp), (Spi(0x100), 28..38));
        for bad_len in [0u16, 7, 17, 19] {
            let b = udp(bad_len, &esp);
            assert_eq!(
                read_frame(&b, 20, b.len()).unwrap_err(),
                DecapError::UdpLength {
                    length: usize::from(bad_len),
                    available: 18
                }
            );
        }
        let b = udp(9, &[0xff]);
        assert_eq!(
            read_frame(&b, 20, b.len()).unwrap_err(),
            DecapError::Keepalive
        );
        let b = udp(11, &[0, 0, 0]);
        assert_eq!(
            read_frame(&b, 20, b.len()).unwrap_err(),
            DecapError::TruncatedMarker { len: 3 }
        );
        let b = udp(18, &[0, 0, 0, 0, 0, 0, 0, 1, 9, 9]);
        assert_eq!(
            read_frame(&b, 20, b.len()).unwrap_err(),
            DecapError::NonEspMarker
        );
        // Four bytes of header only: no UDP header at all.
        let b = vec![0u8; 24];
        assert!(matches!(
            read_frame(&b, 20, 24),
            Err(DecapError::UdpLength { available: 4, .. })
        ));
    }
}
