//! Error types: configuration, encapsulation, decapsulation.
//!
//! Malformed input (a short or inconsistent packet), peer misbehaviour (a
//! replayed or forged packet, traffic outside the selectors) and local
//! misuse (a buffer without room, an SA used the wrong way) are distinct
//! variants so that callers can count and report them apart.

use std::net::{IpAddr, Ipv4Addr};

use crate::replay::ReplayError;
use crate::spi::Spi;

/// Which lifetime limit was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitKind {
    /// Time since creation.
    Time,
    /// Bytes processed.
    Bytes,
    /// Packets processed.
    Packets,
    /// The sequence number space (outbound, without ESN near 2^32).
    SequenceNumber,
}

/// An [`SaParams`](crate::SaParams) that cannot make an SA.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// SPI 0..=255 is reserved (RFC 4303 s.2.1).
    #[error("SPI {0:#010x} is reserved (0..=255)")]
    ReservedSpi(Spi),
    /// AEAD transforms carry their own ICV.
    #[error("an AEAD cipher takes no separate integrity algorithm")]
    IntegrityWithAead,
    /// NULL encryption without integrity protects nothing (RFC 4303 s.3.2).
    #[error("NULL encryption requires an integrity algorithm")]
    NullWithoutIntegrity,
    /// Encryption without integrity needs `allow_no_integrity`.
    #[error("no integrity algorithm and allow_no_integrity is not set")]
    IntegrityRequired,
    /// DES, 3DES or HMAC-MD5 named without `allow_weak`.
    #[error("a weak algorithm (DES, 3DES or HMAC-MD5) is named but allow_weak is not set")]
    WeakAlgorithm,
    /// A DES weak or semi-weak key, or 3DES keys that collapse to DES.
    #[error("weak DES/3DES key")]
    WeakKey,
    /// Wrong encryption key length.
    #[error("encryption key is {got} bytes, expected {expected}")]
    EncryptionKeyLength {
        /// Required length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// Wrong integrity key length.
    #[error("integrity key is {got} bytes, expected {expected}")]
    IntegrityKeyLength {
        /// Required length.
        expected: usize,
        /// Given length.
        got: usize,
    },
    /// Replay window 0 or over the maximum.
    #[error("replay window {0} is out of range 1..={max}", max = crate::replay::MAX_REPLAY_WINDOW)]
    ReplayWindow(u32),
    /// A soft limit is later than its hard limit.
    #[error("a soft lifetime limit exceeds its hard limit")]
    SoftAfterHard,
    /// An address range mixes IPv4 and IPv6.
    #[error("address range mixes IPv4 and IPv6")]
    MixedFamilies,
    /// A range whose start is after its end.
    #[error("empty range (start after end)")]
    EmptyRange,
    /// A prefix length over 32 (IPv4) or 128 (IPv6).
    #[error("prefix length {0} too long")]
    PrefixLength(u8),
    /// A subnet mask that is not a run of ones followed by zeros.
    #[error("subnet mask {0} is not contiguous")]
    NonContiguousMask(Ipv4Addr),
    /// A UDP encapsulation ([`UdpEncap`](crate::UdpEncap)) names port 0.
    #[error("UDP encapsulation with port 0")]
    ZeroUdpPort,
}

/// Why [`Sa::encapsulate`](crate::Sa::encapsulate) refused a packet.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncapError {
    /// The SA is inbound.
    #[error("SA {0:#010x} is inbound: it cannot encapsulate")]
    WrongDirection(Spi),
    /// The SA reached a hard lifetime limit.
    #[error("SA {spi:#010x} expired ({kind:?} hard limit)")]
    Expired {
        /// The SA.
        spi: Spi,
        /// The limit that was reached.
        kind: LimitKind,
    },
    /// The 32-bit sequence number would wrap (RFC 4303 s.3.3.3): rekey.
    #[error("SA {0:#010x}: sequence number exhausted; the SA must be rekeyed")]
    SequenceExhausted(Spi),
    /// The inner range does not lie inside the buffer.
    #[error("inner packet range {start}..{end} outside a buffer of {len} bytes")]
    BadRange {
        /// Range start.
        start: usize,
        /// Range end.
        end: usize,
        /// Buffer length.
        len: usize,
    },
    /// Not enough bytes before the inner packet.
    #[error("need {needed} bytes of headroom, have {have}")]
    InsufficientHeadroom {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
    /// Not enough bytes after the inner packet.
    #[error("need {needed} bytes of tailroom, have {have}")]
    InsufficientTailroom {
        /// Bytes needed.
        needed: usize,
        /// Bytes available.
        have: usize,
    },
    /// The result would exceed 65535 bytes.
    #[error("the ESP packet would be {0} bytes, over the IPv4 maximum")]
    TooLarge(usize),
    /// The inner packet is not a well-formed IP packet of the right kind.
    #[error("malformed inner packet: {0}")]
    MalformedInner(&'static str),
    /// The inner packet is a fragment (transport mode protects whole
    /// datagrams only, RFC 4303 s.3.1.1).
    #[error("transport mode cannot protect a fragment")]
    Fragment,
    /// The inner packet is outside the SA's selectors.
    #[error("inner packet {src} -> {dst} (protocol {protocol}) is outside the SA's selectors")]
    SelectorMismatch {
        /// Inner source.
        src: IpAddr,
        /// Inner destination.
        dst: IpAddr,
        /// Inner protocol.
        protocol: u8,
    },
}

/// Why [`Sa::decapsulate`](crate::Sa::decapsulate) dropped a packet.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecapError {
    /// The SA is outbound.
    #[error("SA {0:#010x} is outbound: it cannot decapsulate")]
    WrongDirection(Spi),
    /// The SA reached a hard lifetime limit.
    #[error("SA {spi:#010x} expired ({kind:?} hard limit)")]
    Expired {
        /// The SA.
        spi: Spi,
        /// The limit that was reached.
        kind: LimitKind,
    },
    /// The outer IPv4 header is malformed.
    #[error("malformed outer IPv4 header: {0}")]
    MalformedOuter(&'static str),
    /// The outer packet is not ESP.
    #[error("outer protocol {0} is not ESP (50)")]
    NotEsp(u8),
    /// The outer packet is a fragment; reassemble first.
    #[error("outer packet is a fragment; reassemble before decapsulating")]
    Fragment,
    /// Fewer bytes than the ESP header, IV, trailer and ICV need, or a
    /// ciphertext that is not a whole number of blocks.
    #[error("ESP packet of {len} bytes has a bad length for this SA")]
    BadLength {
        /// Length of the ESP part (SPI to end).
        len: usize,
    },
    /// No SA with this SPI (from [`SaTable`](crate::SaTable)).
    #[error("no inbound SA with SPI {0:#010x}")]
    UnknownSpi(Spi),
    /// The packet's SPI is not this SA's.
    #[error("packet SPI {got:#010x} is not this SA's {expected:#010x}")]
    WrongSpi {
        /// This SA's SPI.
        expected: Spi,
        /// The packet's SPI.
        got: Spi,
    },
    /// The anti-replay check failed.
    #[error("replay check failed for sequence number {seq}: {reason}")]
    Replay {
        /// The (inferred) sequence number.
        seq: u64,
        /// Duplicate, too old, or zero.
        reason: ReplayError,
    },
    /// The ICV (or the AEAD tag) does not verify.
    #[error("integrity check failed")]
    AuthenticationFailed,
    /// Pad length larger than the payload, or pad bytes not 1, 2, 3, ...
    #[error("bad ESP padding")]
    BadPadding,
    /// A dummy packet (next header 59, RFC 4303 s.2.6): discard silently.
    /// Counted apart from the errors.
    #[error("dummy packet (next header 59)")]
    DummyPacket,
    /// Tunnel mode: the next header is not IPv4 (4) or IPv6 (41).
    #[error("tunnel mode: next header {0} is not IPv4 or IPv6")]
    UnsupportedNextHeader(u8),
    /// The decrypted inner packet is malformed.
    #[error("malformed inner packet: {0}")]
    MalformedInner(&'static str),
    /// The inner packet is outside the SA's selectors (RFC 4301 s.5.2).
    #[error("inner packet {src} -> {dst} (protocol {protocol}) is outside the SA's selectors")]
    SelectorMismatch {
        /// Inner source.
        src: IpAddr,
        /// Inner destination.
        dst: IpAddr,
        /// Inner protocol.
        protocol: u8,
    },
    /// UDP-encapsulated ESP (RFC 3948): the UDP length field is below the
    /// 8-byte header or disagrees with the IPv4 payload it travels in.
    #[error("UDP length {length} disagrees with the {available}-byte IPv4 payload")]
    UdpLength {
        /// The UDP length field.
        length: usize,
        /// Bytes of IPv4 payload (total length less the header).
        available: usize,
    },
    /// UDP-encapsulated ESP to another UDP port than the SA's.
    #[error("UDP destination port {got}, the SA expects {expected}")]
    UdpPort {
        /// The SA's port ([`UdpEncap::destination_port`](crate::UdpEncap::destination_port)).
        expected: u16,
        /// The packet's.
        got: u16,
    },
    /// A NAT keepalive (the single byte 0xFF, RFC 3948 s.2.3): no ESP, to
    /// be discarded. Counted apart from the errors
    /// ([`Counters::keepalives`](crate::Counters::keepalives)).
    #[error("NAT keepalive, not ESP")]
    Keepalive,
    /// The UDP payload starts with four zero bytes: SPI 0, which ESP
    /// never uses, is the non-ESP marker of an IKE message on the NAT-T
    /// port (RFC 3948 s.2.2). It belongs to the IKE engine.
    #[error("SPI 0: the non-ESP marker of an IKE message, not ESP")]
    NonEspMarker,
    /// A UDP payload of 1 to 3 bytes that is no keepalive: too short for
    /// the non-ESP marker or an SPI.
    #[error("truncated non-ESP marker: {len} bytes")]
    TruncatedMarker {
        /// The payload's length.
        len: usize,
    },
    /// ESP in UDP for an SA that is not UDP-encapsulated.
    #[error("UDP-encapsulated ESP for SA {0:#010x}, which expects plain ESP")]
    NotUdpEncapsulated(Spi),
    /// Plain ESP (protocol 50) for a UDP-encapsulated SA.
    #[error("plain ESP for SA {0:#010x}, which expects UDP-encapsulated ESP")]
    UdpEncapsulationExpected(Spi),
    /// [`Sa::decapsulate_udp`](crate::Sa::decapsulate_udp) in transport
    /// mode: too few bytes before the ESP bytes for the IPv4 header the
    /// restored packet needs (a local error: read the datagram further
    /// into the buffer).
    #[error("need {needed} bytes before the ESP packet, have {have}")]
    InsufficientHeadroom {
        /// Bytes needed before the ESP bytes.
        needed: usize,
        /// Bytes there were.
        have: usize,
    },
}
