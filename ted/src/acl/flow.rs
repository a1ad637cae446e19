//! The packet fields an access list looks at.
//!
//! A [`Flow`] is the IPv4 source and destination, the protocol, and what of
//! the transport header the packet carries: TCP/UDP ports (and the TCP flags
//! for `established`), the ICMP type and code, or nothing when the packet is
//! a non-initial fragment (RFC 791 §3.2: only the first fragment carries the
//! transport header) or too short to hold it.

use core::fmt;
use std::net::Ipv4Addr;

use esp::ip::{IPV4_HEADER_LEN, Ipv4Fields, PacketError};

use super::IpProtocol;

/// TCP ACK flag (RFC 9293 §3.1).
pub(crate) const TCP_ACK: u8 = 0x10;
/// TCP RST flag (RFC 9293 §3.1).
pub(crate) const TCP_RST: u8 = 0x04;

/// The transport-layer part of a [`Flow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transport {
    /// A protocol whose header access lists do not look into (anything but
    /// TCP, UDP and ICMP).
    None,
    /// TCP ports, and the flags byte when it is known.
    Tcp {
        /// Source port.
        source_port: u16,
        /// Destination port.
        destination_port: u16,
        /// The TCP flags byte (offset 13 of the header), if the packet
        /// carried it.
        flags: Option<u8>,
    },
    /// UDP ports.
    Udp {
        /// Source port.
        source_port: u16,
        /// Destination port.
        destination_port: u16,
    },
    /// ICMP type and code.
    Icmp {
        /// ICMP message type.
        icmp_type: u8,
        /// ICMP message code.
        code: u8,
    },
    /// A non-initial fragment: it carries no transport header.
    Fragment,
    /// A TCP, UDP or ICMP packet too short to carry the fields above.
    Truncated,
}

/// The fields of an IPv4 packet an access list entry is matched against.
///
/// Built with the constructors, which keep the protocol and the transport
/// fields consistent, or parsed from a packet with [`Flow::from_ipv4_packet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Flow {
    source: Ipv4Addr,
    destination: Ipv4Addr,
    protocol: IpProtocol,
    transport: Transport,
}

impl Flow {
    /// A packet of any protocol without transport fields. For TCP, UDP and
    /// ICMP this is a packet whose header is missing ([`Transport::Truncated`]);
    /// use [`Flow::tcp`], [`Flow::udp`] or [`Flow::icmp`] to give the fields.
    pub fn ip(source: Ipv4Addr, destination: Ipv4Addr, protocol: IpProtocol) -> Self {
        let transport = match protocol {
            IpProtocol::TCP | IpProtocol::UDP | IpProtocol::ICMP => Transport::Truncated,
            _ => Transport::None,
        };
        Self {
            source,
            destination,
            protocol,
            transport,
        }
    }

    /// A TCP segment whose flags are unknown.
    pub fn tcp(
        source: Ipv4Addr,
        source_port: u16,
        destination: Ipv4Addr,
        destination_port: u16,
    ) -> Self {
        Self {
            source,
            destination,
            protocol: IpProtocol::TCP,
            transport: Transport::Tcp {
                source_port,
                destination_port,
                flags: None,
            },
        }
    }

    /// A TCP segment with its flags byte (for `established` entries).
    pub fn tcp_with_flags(
        source: Ipv4Addr,
        source_port: u16,
        destination: Ipv4Addr,
        destination_port: u16,
        flags: u8,
    ) -> Self {
        Self {
            source,
            destination,
            protocol: IpProtocol::TCP,
            transport: Transport::Tcp {
                source_port,
                destination_port,
                flags: Some(flags),
            },
        }
    }

    /// A UDP datagram.
    pub fn udp(
        source: Ipv4Addr,
        source_port: u16,
        destination: Ipv4Addr,
        destination_port: u16,
    ) -> Self {
        Self {
            source,
            destination,
            protocol: IpProtocol::UDP,
            transport: Transport::Udp {
                source_port,
                destination_port,
            },
        }
    }

    /// An ICMP message.
    pub fn icmp(source: Ipv4Addr, destination: Ipv4Addr, icmp_type: u8, code: u8) -> Self {
        Self {
            source,
            destination,
            protocol: IpProtocol::ICMP,
            transport: Transport::Icmp { icmp_type, code },
        }
    }

    /// A non-initial fragment of a packet of `protocol`.
    pub fn fragment(source: Ipv4Addr, destination: Ipv4Addr, protocol: IpProtocol) -> Self {
        Self {
            source,
            destination,
            protocol,
            transport: Transport::Fragment,
        }
    }

    /// Reads the flow of an IPv4 packet (RFC 791 §3.1 header; ports from
    /// RFC 9293 §3.1 and RFC 768; ICMP type and code from RFC 792).
    ///
    /// The buffer may be shorter than the packet's total length (a capture
    /// snap length): the transport fields are read from what is there and a
    /// header cut short gives [`Transport::Truncated`]. A header that is not
    /// IPv4, or whose length field points past the buffer, is an error.
    pub fn from_ipv4_packet(packet: &[u8]) -> Result<Self, FlowError> {
        if packet.len() < IPV4_HEADER_LEN {
            return Err(FlowError::TooShort { len: packet.len() });
        }
        let fields = Ipv4Fields::read(packet).map_err(|e| match e {
            PacketError::NotIpv4(version) => FlowError::NotIpv4 { version },
            PacketError::BadTotalLength { total, .. } => FlowError::BadTotalLength {
                total_len: total,
                header_len: usize::from(packet.first().copied().unwrap_or(0) & 0x0f) * 4,
            },
            PacketError::BadHeaderLength(header_len) => FlowError::BadHeaderLength {
                header_len,
                len: packet.len(),
            },
            _ => FlowError::TooShort { len: packet.len() },
        })?;
        let (header_len, total_len) = (fields.header_len, fields.total_len);
        let protocol = IpProtocol(fields.header.protocol);
        let (source, destination) = (fields.header.source, fields.header.destination);
        if fields.fragment_offset != 0 {
            return Ok(Self::fragment(source, destination, protocol));
        }
        let end = total_len.min(packet.len());
        let payload = packet.get(header_len..end).unwrap_or(&[]);
        let u16_at = |i: usize| -> Option<u16> {
            let b = payload.get(i..i.checked_add(2)?)?;
            Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
        };
        let transport = match protocol {
            IpProtocol::TCP => match (u16_at(0), u16_at(2)) {
                (Some(source_port), Some(destination_port)) => Transport::Tcp {
                    source_port,
                    destination_port,
                    flags: payload.get(13).copied(),
                },
                _ => Transport::Truncated,
            },
            IpProtocol::UDP => match (u16_at(0), u16_at(2)) {
                (Some(source_port), Some(destination_port)) => Transport::Udp {
                    source_port,
                    destination_port,
                },
                _ => Transport::Truncated,
            },
            IpProtocol::ICMP => match (payload.first(), payload.get(1)) {
                (Some(&icmp_type), Some(&code)) => Transport::Icmp { icmp_type, code },
                _ => Transport::Truncated,
            },
            _ => Transport::None,
        };
        Ok(Self {
            source,
            destination,
            protocol,
            transport,
        })
    }

    /// The same flow in the other direction: addresses and ports swapped.
    pub fn reversed(&self) -> Self {
        let transport = match self.transport {
            Transport::Tcp {
                source_port,
                destination_port,
                flags,
            } => Transport::Tcp {
                source_port: destination_port,
                destination_port: source_port,
                flags,
            },
            Transport::Udp {
                source_port,
                destination_port,
            } => Transport::Udp {
                source_port: destination_port,
                destination_port: source_port,
            },
            other => other,
        };
        Self {
            source: self.destination,
            destination: self.source,
            protocol: self.protocol,
            transport,
        }
    }

    /// Source address.
    pub fn source(&self) -> Ipv4Addr {
        self.source
    }

    /// Destination address.
    pub fn destination(&self) -> Ipv4Addr {
        self.destination
    }

    /// IP protocol number.
    pub fn protocol(&self) -> IpProtocol {
        self.protocol
    }

    /// Transport fields.
    pub fn transport(&self) -> Transport {
        self.transport
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.transport {
            Transport::Tcp {
                source_port,
                destination_port,
                ..
            }
            | Transport::Udp {
                source_port,
                destination_port,
            } => write!(
                f,
                "{} {}:{} -> {}:{}",
                self.protocol, self.source, source_port, self.destination, destination_port
            ),
            Transport::Icmp { icmp_type, code } => write!(
                f,
                "icmp {} -> {} type {icmp_type} code {code}",
                self.source, self.destination
            ),
            Transport::Fragment => {
                write!(
                    f,
                    "{} {} -> {} (fragment)",
                    self.protocol, self.source, self.destination
                )
            }
            Transport::None | Transport::Truncated => {
                write!(
                    f,
                    "{} {} -> {}",
                    self.protocol, self.source, self.destination
                )
            }
        }
    }
}

/// Why a buffer is not an IPv4 packet [`Flow::from_ipv4_packet`] can read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlowError {
    /// Fewer than the 20 bytes of a minimal IPv4 header.
    #[error("{len} bytes cannot hold an IPv4 header (20 bytes at least)")]
    TooShort {
        /// Bytes available.
        len: usize,
    },
    /// The version nibble is not 4.
    #[error("IP version {version}, expected 4")]
    NotIpv4 {
        /// The version nibble found.
        version: u8,
    },
    /// The header length (IHL) is below 20 bytes or past the buffer.
    #[error("IPv4 header length {header_len} is below 20 or past the {len}-byte buffer")]
    BadHeaderLength {
        /// IHL times 4.
        header_len: usize,
        /// Bytes available.
        len: usize,
    },
    /// The total length is smaller than the header.
    #[error("IPv4 total length {total_len} is smaller than the {header_len}-byte header")]
    BadTotalLength {
        /// The total length field.
        total_len: usize,
        /// IHL times 4.
        header_len: usize,
    },
}
