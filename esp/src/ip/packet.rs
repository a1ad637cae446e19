//! Whole IPv4, UDP and ICMP echo packets: building them with
//! correct checksums and reading them back with every length and checksum
//! checked.
//!
//! IPv4 is RFC 791 (header checksum s.3.1), UDP RFC 768 (checksum over the
//! pseudo-header), ICMP echo RFC 792; the checksum is RFC 1071's one's
//! complement sum. Options and fragments are read (a fragment's payload is
//! handed over unparsed) but never built.

use std::net::Ipv4Addr;

/// Bytes of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// Bytes of a UDP header.
pub const UDP_HEADER_LEN: usize = 8;
/// Bytes of an ICMP echo header.
pub const ICMP_HEADER_LEN: usize = 8;
/// The largest IPv4 packet.
pub const MAX_PACKET_LEN: usize = 65_535;

/// IP protocol numbers these packets name (IANA).
pub mod protocol {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ESP.
    pub const ESP: u8 = 50;
}

/// ICMP types (RFC 792).
pub mod icmp_type {
    /// Echo reply.
    pub const ECHO_REPLY: u8 = 0;
    /// Destination unreachable.
    pub const DESTINATION_UNREACHABLE: u8 = 3;
    /// Echo request.
    pub const ECHO_REQUEST: u8 = 8;
    /// Time exceeded.
    pub const TIME_EXCEEDED: u8 = 11;
}

/// Why bytes are no valid packet, or a packet cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Fewer bytes than the header needs.
    #[error("{what}: {len} bytes, need at least {need}")]
    Truncated {
        /// Which header.
        what: &'static str,
        /// Bytes available.
        len: usize,
        /// Bytes needed.
        need: usize,
    },
    /// The version nibble is not 4.
    #[error("IP version {0}, not 4")]
    NotIpv4(u8),
    /// The header length field is below 5 words or beyond the packet.
    #[error("IPv4 header length {0} bytes is invalid")]
    BadHeaderLength(usize),
    /// The total length field is below the header or beyond the bytes.
    #[error("IPv4 total length {total} does not fit {available} bytes")]
    BadTotalLength {
        /// The field.
        total: usize,
        /// Bytes available.
        available: usize,
    },
    /// A checksum does not verify.
    #[error("{0} checksum does not verify")]
    BadChecksum(&'static str),
    /// The UDP length field is wrong.
    #[error("UDP length {length} does not fit the {available}-byte IP payload")]
    BadUdpLength {
        /// The field.
        length: usize,
        /// Bytes available.
        available: usize,
    },
    /// A packet to build would exceed 65535 bytes.
    #[error("packet of {0} bytes exceeds 65535")]
    TooLong(usize),
    /// The TTL ran out while forwarding.
    #[error("TTL expired")]
    TtlExpired,
}

/// RFC 1071 one's complement sum of 16-bit words, folded to 16 bits (not
/// yet complemented). An odd last byte is padded with zero.
fn ones_sum(mut acc: u32, data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for pair in &mut chunks {
        if let [a, b] = pair {
            acc = acc.wrapping_add(u32::from(u16::from_be_bytes([*a, *b])));
        }
    }
    if let [last] = chunks.remainder() {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([*last, 0])));
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc
}

fn fold(acc: u32) -> u16 {
    // `ones_sum` leaves at most 16 bits.
    u16::try_from(acc & 0xffff).unwrap_or(0)
}

/// The Internet checksum of `data` (RFC 1071): the one's complement of the
/// one's complement sum. A buffer holding a correct checksum sums to zero.
pub fn checksum(data: &[u8]) -> u16 {
    !fold(ones_sum(0, data))
}

/// The UDP checksum of a datagram (header with checksum field zero, and
/// payload) with the RFC 768 pseudo-header; 0 is sent as 0xffff.
fn udp_checksum(source: Ipv4Addr, destination: Ipv4Addr, segment: &[u8]) -> u16 {
    let c = transport_checksum(source, destination, protocol::UDP, segment);
    if c == 0 { 0xffff } else { c }
}

/// The checksum of a TCP or UDP segment (its checksum field zero) over
/// the RFC 768 / RFC 793 pseudo-header: source, destination, protocol,
/// segment length. Not mapped: a UDP caller sends 0 as 0xffff.
pub(crate) fn transport_checksum(
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: u8,
    segment: &[u8],
) -> u16 {
    let len = u16::try_from(segment.len()).unwrap_or(u16::MAX);
    let [s0, s1, s2, s3] = source.octets();
    let [d0, d1, d2, d3] = destination.octets();
    let [l0, l1] = len.to_be_bytes();
    let pseudo = [s0, s1, s2, s3, d0, d1, d2, d3, 0, protocol, l0, l1];
    !fold(ones_sum(ones_sum(0, &pseudo), segment))
}

/// RFC 1624 eqn. 3: the checksum field `field` after the 16-bit words
/// `old` of the data it covers became `new` (both of the same length):
/// `HC' = ~(~HC + ~m + m')`, summed over every word.
pub(crate) fn checksum_adjust(field: u16, old: &[u8], new: &[u8]) -> u16 {
    let mut acc = u32::from(!field);
    for pair in old.chunks(2) {
        let w = u16::from_be_bytes([
            pair.first().copied().unwrap_or(0),
            pair.get(1).copied().unwrap_or(0),
        ]);
        acc = acc.wrapping_add(u32::from(!w));
    }
    !fold(ones_sum(acc, new))
}

/// The fields of an IPv4 header that [`Ipv4Header::build`] sets and
/// [`Ipv4Packet::parse`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Header {
    /// Source address.
    pub source: Ipv4Addr,
    /// Destination address.
    pub destination: Ipv4Addr,
    /// IP protocol.
    pub protocol: u8,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub identification: u16,
    /// DSCP and ECN byte.
    pub tos: u8,
    /// Don't Fragment.
    pub dont_fragment: bool,
}

impl Ipv4Header {
    /// A header with TTL 64, identification 0, TOS 0, DF clear.
    pub fn new(source: Ipv4Addr, destination: Ipv4Addr, protocol: u8) -> Self {
        Self {
            source,
            destination,
            protocol,
            ttl: 64,
            identification: 0,
            tos: 0,
            dont_fragment: false,
        }
    }

    /// The same header with another TTL.
    #[must_use]
    pub fn with_ttl(mut self, ttl: u8) -> Self {
        self.ttl = ttl;
        self
    }

    /// The same header with another identification.
    #[must_use]
    pub fn with_identification(mut self, identification: u16) -> Self {
        self.identification = identification;
        self
    }

    /// The 20-byte header (no options) of a packet of `total_len` bytes,
    /// with its checksum.
    #[must_use]
    pub fn to_bytes(&self, total_len: u16) -> [u8; IPV4_HEADER_LEN] {
        let [t0, t1] = total_len.to_be_bytes();
        let [i0, i1] = self.identification.to_be_bytes();
        let flags = if self.dont_fragment { 0x40 } else { 0 };
        let [s0, s1, s2, s3] = self.source.octets();
        let [d0, d1, d2, d3] = self.destination.octets();
        let mut h = [
            0x45,
            self.tos,
            t0,
            t1,
            i0,
            i1,
            flags,
            0,
            self.ttl,
            self.protocol,
            0,
            0,
            s0,
            s1,
            s2,
            s3,
            d0,
            d1,
            d2,
            d3,
        ];
        let [c0, c1] = checksum(&h).to_be_bytes();
        h[10] = c0;
        h[11] = c1;
        h
    }

    /// The packet: this header (checksummed) followed by `payload`.
    pub fn build(&self, payload: &[u8]) -> Result<Vec<u8>, PacketError> {
        let total = payload
            .len()
            .checked_add(IPV4_HEADER_LEN)
            .filter(|t| *t <= MAX_PACKET_LEN)
            .ok_or(PacketError::TooLong(
                payload.len().saturating_add(IPV4_HEADER_LEN),
            ))?;
        let total16 = u16::try_from(total).map_err(|_| PacketError::TooLong(total))?;
        let mut p = Vec::with_capacity(total);
        p.extend_from_slice(&self.to_bytes(total16));
        p.extend_from_slice(payload);
        Ok(p)
    }
}

/// A UDP packet: `header` (its protocol set to UDP), ports, payload.
pub fn udp(
    header: Ipv4Header,
    source_port: u16,
    destination_port: u16,
    payload: &[u8],
) -> Result<Vec<u8>, PacketError> {
    let len = payload
        .len()
        .checked_add(UDP_HEADER_LEN)
        .filter(|l| *l <= MAX_PACKET_LEN - IPV4_HEADER_LEN)
        .ok_or(PacketError::TooLong(payload.len().saturating_add(28)))?;
    let len16 = u16::try_from(len).map_err(|_| PacketError::TooLong(len))?;
    let mut segment = Vec::with_capacity(len);
    segment.extend_from_slice(&source_port.to_be_bytes());
    segment.extend_from_slice(&destination_port.to_be_bytes());
    segment.extend_from_slice(&len16.to_be_bytes());
    segment.extend_from_slice(&[0, 0]);
    segment.extend_from_slice(payload);
    let c = udp_checksum(header.source, header.destination, &segment);
    if let Some(field) = segment.get_mut(6..8) {
        field.copy_from_slice(&c.to_be_bytes());
    }
    Ipv4Header {
        protocol: protocol::UDP,
        ..header
    }
    .build(&segment)
}

/// An ICMP message: `header` (its protocol set to ICMP), type, code, the
/// four bytes after the checksum, data.
pub fn icmp(
    header: Ipv4Header,
    icmp_type: u8,
    code: u8,
    rest: [u8; 4],
    data: &[u8],
) -> Result<Vec<u8>, PacketError> {
    let mut message = Vec::with_capacity(data.len().saturating_add(ICMP_HEADER_LEN));
    message.push(icmp_type);
    message.push(code);
    message.extend_from_slice(&[0, 0]);
    message.extend_from_slice(&rest);
    message.extend_from_slice(data);
    let c = checksum(&message);
    if let Some(field) = message.get_mut(2..4) {
        field.copy_from_slice(&c.to_be_bytes());
    }
    Ipv4Header {
        protocol: protocol::ICMP,
        ..header
    }
    .build(&message)
}

/// An ICMP echo request or reply (RFC 792): identifier, sequence number,
/// data.
pub fn icmp_echo(
    header: Ipv4Header,
    reply: bool,
    identifier: u16,
    sequence: u16,
    data: &[u8],
) -> Result<Vec<u8>, PacketError> {
    let mut rest = [0u8; 4];
    rest[..2].copy_from_slice(&identifier.to_be_bytes());
    rest[2..].copy_from_slice(&sequence.to_be_bytes());
    let t = if reply {
        icmp_type::ECHO_REPLY
    } else {
        icmp_type::ECHO_REQUEST
    };
    icmp(header, t, 0, rest, data)
}

/// An IPv4 header read from the start of some bytes: the one place the
/// product reads IPv4 header fields.
///
/// [`read`](Self::read) checks the version, that the header length is at
/// least 5 words and within the bytes, and that the total length covers
/// the header. It does not check the total length against the bytes nor
/// the header checksum: callers differ there ([`Ipv4Packet::parse`] and
/// ESP insist on the whole packet; a classifier may look at a truncated
/// one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ipv4Fields {
    /// The header fields.
    pub header: Ipv4Header,
    /// The header length in bytes (with options).
    pub header_len: usize,
    /// The total length field.
    pub total_len: usize,
    /// The fragment offset in bytes.
    pub fragment_offset: usize,
    /// More Fragments.
    pub more_fragments: bool,
}

impl Ipv4Fields {
    /// Reads the header at the start of `bytes` (see the type's
    /// documentation for what is checked).
    pub fn read(bytes: &[u8]) -> Result<Self, PacketError> {
        let first = *bytes.first().ok_or(PacketError::Truncated {
            what: "IPv4 header",
            len: 0,
            need: IPV4_HEADER_LEN,
        })?;
        let version = first >> 4;
        if version != 4 {
            return Err(PacketError::NotIpv4(version));
        }
        let header_len = usize::from(first & 0x0f) * 4;
        let head = match bytes.get(..header_len) {
            Some(head) if header_len >= IPV4_HEADER_LEN => head,
            _ => return Err(PacketError::BadHeaderLength(header_len)),
        };
        let field = |i: usize| head.get(i).copied().unwrap_or(0);
        let be16 = |i: usize| u16::from_be_bytes([field(i), field(i + 1)]);
        let total_len = usize::from(be16(2));
        if total_len < header_len {
            return Err(PacketError::BadTotalLength {
                total: total_len,
                available: bytes.len(),
            });
        }
        let flags = be16(6);
        let octets = |i: usize| Ipv4Addr::new(field(i), field(i + 1), field(i + 2), field(i + 3));
        Ok(Self {
            header: Ipv4Header {
                source: octets(12),
                destination: octets(16),
                protocol: field(9),
                ttl: field(8),
                identification: be16(4),
                tos: field(1),
                dont_fragment: flags & 0x4000 != 0,
            },
            header_len,
            total_len,
            fragment_offset: usize::from(flags & 0x1fff) * 8,
            more_fragments: flags & 0x2000 != 0,
        })
    }

    /// Whether this is a fragment (of any position).
    pub fn is_fragment(&self) -> bool {
        self.fragment_offset != 0 || self.more_fragments
    }
}

/// A parsed IPv4 packet, borrowing its payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Packet<'a> {
    /// The header fields.
    pub header: Ipv4Header,
    /// The header length in bytes (with options).
    pub header_len: usize,
    /// The fragment offset in bytes.
    pub fragment_offset: usize,
    /// More Fragments.
    pub more_fragments: bool,
    /// The payload (up to the total length; trailing bytes are ignored).
    pub payload: &'a [u8],
}

/// What an IPv4 packet carries, parsed and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport<'a> {
    /// A UDP datagram.
    Udp {
        /// Source port.
        source_port: u16,
        /// Destination port.
        destination_port: u16,
        /// Payload.
        payload: &'a [u8],
    },
    /// An ICMP message.
    Icmp {
        /// Type.
        icmp_type: u8,
        /// Code.
        code: u8,
        /// The four bytes after the checksum (identifier and sequence of
        /// an echo).
        rest: [u8; 4],
        /// Data.
        data: &'a [u8],
    },
    /// A fragment other than the first, or another protocol.
    Other,
}

impl<'a> Ipv4Packet<'a> {
    /// Parses and checks an IPv4 packet: version, header length, total
    /// length, header checksum.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, PacketError> {
        if bytes.len() < IPV4_HEADER_LEN {
            return Err(PacketError::Truncated {
                what: "IPv4 header",
                len: bytes.len(),
                need: IPV4_HEADER_LEN,
            });
        }
        let fields = Ipv4Fields::read(bytes)?;
        let (header_len, total) = (fields.header_len, fields.total_len);
        let beyond = PacketError::BadTotalLength {
            total,
            available: bytes.len(),
        };
        if total > bytes.len() {
            return Err(beyond);
        }
        let full_header = bytes
            .get(..header_len)
            .ok_or(PacketError::BadHeaderLength(header_len))?;
        if checksum(full_header) != 0 {
            return Err(PacketError::BadChecksum("IPv4 header"));
        }
        Ok(Self {
            header: fields.header,
            header_len,
            fragment_offset: fields.fragment_offset,
            more_fragments: fields.more_fragments,
            payload: bytes.get(header_len..total).ok_or(beyond)?,
        })
    }

    /// Whether this is a fragment (of any position).
    pub fn is_fragment(&self) -> bool {
        self.fragment_offset != 0 || self.more_fragments
    }

    /// The transport header, parsed and its checksum checked (UDP's only
    /// when non-zero; a first fragment's transport is not checked, since
    /// its checksum covers bytes not here).
    pub fn transport(&self) -> Result<Transport<'a>, PacketError> {
        if self.is_fragment() {
            return Ok(Transport::Other);
        }
        let p = self.payload;
        match self.header.protocol {
            protocol::UDP => {
                let h = p.get(..UDP_HEADER_LEN).ok_or(PacketError::Truncated {
                    what: "UDP header",
                    len: p.len(),
                    need: UDP_HEADER_LEN,
                })?;
                let be16 = |i: usize| {
                    u16::from_be_bytes([
                        h.get(i).copied().unwrap_or(0),
                        h.get(i + 1).copied().unwrap_or(0),
                    ])
                };
                let length = usize::from(be16(4));
                if length < UDP_HEADER_LEN || length > p.len() {
                    return Err(PacketError::BadUdpLength {
                        length,
                        available: p.len(),
                    });
                }
                let segment = p.get(..length).ok_or(PacketError::BadUdpLength {
                    length,
                    available: p.len(),
                })?;
                if be16(6) != 0
                    && fold(ones_sum(
                        ones_sum(
                            0,
                            &[
                                self.header.source.octets().as_slice(),
                                self.header.destination.octets().as_slice(),
                                &[0, protocol::UDP],
                                &be16(4).to_be_bytes(),
                            ]
                            .concat(),
                        ),
                        segment,
                    )) != 0xffff
                {
                    return Err(PacketError::BadChecksum("UDP"));
                }
                Ok(Transport::Udp {
                    source_port: be16(0),
                    destination_port: be16(2),
                    payload: segment.get(UDP_HEADER_LEN..).unwrap_or(&[]),
                })
            }
            protocol::ICMP => {
                if p.len() < ICMP_HEADER_LEN {
                    return Err(PacketError::Truncated {
                        what: "ICMP header",
                        len: p.len(),
                        need: ICMP_HEADER_LEN,
                    });
                }
                if checksum(p) != 0 {
                    return Err(PacketError::BadChecksum("ICMP"));
                }
                let b = |i: usize| p.get(i).copied().unwrap_or(0);
                Ok(Transport::Icmp {
                    icmp_type: b(0),
                    code: b(1),
                    rest: [b(4), b(5), b(6), b(7)],
                    data: p.get(ICMP_HEADER_LEN..).unwrap_or(&[]),
                })
            }
            _ => Ok(Transport::Other),
        }
    }
}

/// Decrements the TTL of a packet being forwarded and fixes the header
/// checksum (recomputed, not patched, so that a bad checksum stays bad
/// nowhere). Fails when the TTL would reach zero: the packet must not be
/// forwarded (RFC 791 s.3.2, RFC 1812 s.5.3.1).
pub fn decrement_ttl(packet: &mut [u8]) -> Result<u8, PacketError> {
    let header_len = usize::from(packet.first().copied().unwrap_or(0) & 0x0f) * 4;
    if header_len < IPV4_HEADER_LEN || header_len > packet.len() {
        return Err(PacketError::BadHeaderLength(header_len));
    }
    let ttl = packet.get(8).copied().unwrap_or(0);
    if ttl <= 1 {
        return Err(PacketError::TtlExpired);
    }
    let new = ttl - 1;
    if let Some(t) = packet.get_mut(8) {
        *t = new;
    }
    if let Some(c) = packet.get_mut(10..12) {
        c.copy_from_slice(&[0, 0]);
    }
    let c = checksum(packet.get(..header_len).unwrap_or(&[]));
    if let Some(field) = packet.get_mut(10..12) {
        field.copy_from_slice(&c.to_be_bytes());
    }
    Ok(new)
}
