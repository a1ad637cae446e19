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

/// A UDP datagram to send (port 500 to port 500).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transmit {
    /// IP source and UDP source port.
    pub source: SocketAddrV4,
    /// IP destination and UDP destination port.
    pub destination: SocketAddrV4,
    /// The UDP payload (an ISAKMP message).
    pub payload: Vec<u8>,
    /// What it is.
    pub kind: TransmitKind,
}
