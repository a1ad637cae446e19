//! A UDP datagram the crate asks its caller to send: the one output type of
//! [`Discovery`](crate::discovery::Discovery) and
//! [`Gateway`](crate::gateway::Gateway) `poll_transmit`.

use std::net::SocketAddrV4;

/// What a [`Transmit`] is, and so how the caller sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransmitKind {
    /// An IKE message (Main, Quick, Informational), from the gateway's
    /// outside address.
    Ike,
    /// A TED probe (or its retransmission): its source is the protected
    /// host whose packet triggered it, not one of the router's addresses;
    /// send it as a raw IPv4/UDP packet routed by its destination
    /// (docs/ted-wire.md, "The exchange").
    TedProbe,
    /// A TED response, from the router's outside address.
    TedResponse,
}

/// A UDP datagram to send: from port 500 (TED and IKE) or, once NAT
/// traversal floated an ISAKMP SA, from the NAT-T port (IKE after the
/// non-ESP marker, and NAT keepalives); send it from the socket bound to
/// `source`'s port, as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// IP source and UDP source port.
    pub source: SocketAddrV4,
    /// IP destination and UDP destination port.
    pub destination: SocketAddrV4,
    /// The UDP payload: an ISAKMP message (after the non-ESP marker on
    /// the NAT-T port), or a NAT keepalive (the one byte 0xFF).
    pub payload: Vec<u8>,
    /// What it is.
    pub kind: TransmitKind,
}
