//! What a [`Gateway`](super::Gateway) hands back: the verdict on each
//! packet, the datagrams to send, the events to report, and its counters.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;

use crate::acl::ProxyIdent;

/// What to do with a packet from the protected side
/// ([`handle_plaintext`](super::Gateway::handle_plaintext)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Plaintext {
    /// No crypto map entry protects it: forward it unchanged, in the clear.
    Bypass,
    /// It was encapsulated in place: `buf[packet]` is now the outer IPv4
    /// ESP packet, from this gateway's outside address to `peer`.
    Encrypted {
        /// Where the ESP packet lies in the caller's buffer: the whole
        /// IPv4 packet (IPv4/ESP, or IPv4/UDP/ESP when `udp` is set), for a
        /// raw socket or a simulated network.
        packet: Range<usize>,
        /// The peer (the outer destination).
        peer: Ipv4Addr,
        /// The outbound SPI used.
        spi: u32,
        /// The pair is UDP-encapsulated (RFC 3948, NAT traversal): a
        /// driver with a UDP socket on the NAT-T port sends
        /// `buf[udp.payload]` from that socket to `udp.destination` (the
        /// peer's address and port, which its NAT may have mapped)
        /// instead of `packet`.
        udp: Option<esp::UdpDatagram>,
    },
    /// It was dropped (and counted).
    Dropped(PlaintextDrop),
}

/// Why a packet from the protected side was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlaintextDrop {
    /// Not an IPv4 packet whose header can be read.
    Malformed,
    /// The buffer lacks room around the packet for ESP: the bytes needed
    /// before and after it ([`Gateway::HEADROOM`](super::Gateway::HEADROOM),
    /// [`Gateway::TAILROOM`](super::Gateway::TAILROOM) always suffice).
    BufferTooSmall {
        /// Bytes needed before the packet.
        headroom: usize,
        /// Bytes needed after the packet.
        tailroom: usize,
    },
    /// A `discover` entry protects it and no SA exists: a TED discovery
    /// started, or the packet was counted against the pending one.
    Discovering,
    /// A discovery for this pair gave up recently (hold-down).
    DiscoveryHeldDown,
    /// No discovery could start (too many pending, no cookie, no proxy).
    DiscoveryRefused,
    /// The peer is known and IKE is negotiating (the packet started it, or
    /// one is in progress).
    Negotiating,
    /// The entry that protects it names no peer and cannot discover one
    /// (a dynamic entry without `discover`, a static entry without `set
    /// peer`).
    NoPeer,
    /// IKE refused to start (no ISAKMP policy, no usable transform set,
    /// the half-open cap).
    NegotiationRefused,
    /// The SA refused the packet (expired, sequence numbers exhausted,
    /// outside its selectors).
    Encapsulation(esp::EncapError),
}

/// What to do with a UDP datagram for port 500
/// ([`handle_datagram`](super::Gateway::handle_datagram)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Datagram {
    /// The gateway took it (IKE or TED, processed or dropped and counted).
    Consumed,
    /// Not this gateway's: forward it towards its destination (a datagram
    /// to a protected host that is no TED probe this gateway answers).
    Forward,
}

/// What to do with an ESP packet ([`handle_esp`](super::Gateway::handle_esp)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Esp {
    /// Decapsulated in place: `buf[packet]` is the inner IP packet, which
    /// passed the SA's selectors; forward it to the protected side.
    Decrypted {
        /// Where the inner packet lies in the caller's buffer.
        packet: Range<usize>,
        /// The peer it came from.
        peer: Ipv4Addr,
        /// The inbound SPI.
        spi: u32,
    },
    /// Dropped (and counted).
    Dropped(EspDrop),
}

/// What became of a UDP datagram for the NAT-T port
/// ([`handle_nat_t`](super::Gateway::handle_nat_t)), as
/// `isakmp_wire::nat_t::classify` told its three kinds apart (RFC 3948
/// s.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NatT {
    /// An IKE message after the non-ESP marker: given to the IKE engine.
    Ike,
    /// A NAT keepalive (the single byte 0xFF): counted and discarded.
    Keepalive,
    /// UDP-encapsulated ESP: what [`handle_esp`](super::Gateway::handle_esp)
    /// says of it.
    Esp(Esp),
    /// None of the three: counted and dropped.
    Malformed(isakmp_wire::nat_t::Udp4500Error),
}

/// Why an ESP packet was dropped.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EspDrop {
    /// No inbound SA has its SPI.
    UnknownSpi(u32),
    /// The SA refused it (malformed, replayed, failed ICV, outside the
    /// selectors, expired).
    Decapsulation(esp::DecapError),
}

/// What to do with a cleartext packet arriving on the outside interface
/// ([`handle_outside_plaintext`](super::Gateway::handle_outside_plaintext)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outside {
    /// The crypto map does not protect it: forward it.
    Forward,
    /// The crypto map says this traffic must arrive encrypted: dropped
    /// (and counted).
    DroppedCleartext,
    /// Not a readable IPv4 packet: dropped (and counted).
    DroppedMalformed,
}

/// Why a tunnel went down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TunnelDownReason {
    /// A Delete (from the peer or a local command), INITIAL-CONTACT or DPD.
    Deleted(ike_sm::DeletedBy),
    /// Its lifetime (seconds or kilobytes) ran out.
    Expired,
    /// A cap refused it ([`Caps::max_tunnels`](super::Caps::max_tunnels)),
    /// or its parameters could not be installed.
    Refused,
}

/// A pair of IPsec SAs, as events name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TunnelInfo {
    /// The peer.
    pub peer: Ipv4Addr,
    /// The inbound SPI (ours).
    pub inbound_spi: u32,
    /// The outbound SPI (the peer's).
    pub outbound_spi: u32,
    /// The local proxy (IOS form; a range shows as its covering subnet).
    pub local_proxy: Option<ProxyIdent>,
    /// The remote proxy.
    pub remote_proxy: Option<ProxyIdent>,
    /// The crypto engine connection IDs of the inbound and outbound SA
    /// (2000 and 2001 for the first pair, as IOS numbers them).
    pub conn_ids: (u32, u32),
    /// The crypto map entry it belongs to, when this gateway derived one
    /// for it (`tedtag 11`).
    pub map_entry: Option<u32>,
    /// For a UDP-encapsulated pair (NAT traversal, RFC 3948): where its
    /// ESP goes, the peer's address and UDP port (normally 4500, or the
    /// port its NAT mapped).
    pub udp_peer: Option<SocketAddrV4>,
}

/// Something the caller may act on or report, from
/// [`poll_event`](super::Gateway::poll_event).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The configuration names a weak algorithm, which the gateway will
    /// negotiate because it is named (reported once per algorithm).
    WeakAlgorithm {
        /// The algorithm (`DES-CBC`, `SHA1`, `MODP-768`, `esp-md5-hmac`, ...).
        algorithm: String,
        /// The configuration part that names it.
        configured_by: String,
    },
    /// A part of the configuration this gateway cannot run and left out.
    ConfigIgnored(String),
    /// The configuration answers Aggressive Mode with pre-shared keys
    /// (reported once, when the gateway is built): anyone who sends one
    /// Aggressive Mode first message gets a HASH_R keyed with the
    /// pre-shared key and can attack the key offline. IOS answers
    /// Aggressive Mode unless `crypto isakmp aggressive-mode disable`.
    AggressiveModeAnswered {
        /// Why: the configuration line (or its absence) that leaves it on.
        configured_by: String,
    },
    /// Easy VPN server: a user's XAUTH credentials were checked against
    /// the user database (the password is never reported).
    XauthChecked {
        /// The ISAKMP SA.
        sa: ike_sm::IsakmpSaId,
        /// The client.
        peer: std::net::SocketAddr,
        /// The user name given.
        user: String,
        /// Which attempt on the SA.
        attempt: u8,
        /// Whether they were right.
        accepted: bool,
    },
    /// Easy VPN server: a client got no Mode-Config configuration (no
    /// group, no pool, an empty pool); it was sent an empty reply.
    ModeCfgRefused {
        /// The ISAKMP SA.
        sa: ike_sm::IsakmpSaId,
        /// The client.
        peer: std::net::SocketAddr,
        /// Why.
        reason: super::RefusedConfig,
    },
    /// A TED event (discoveries started, answered, given up; probes and
    /// responses dropped, with their reasons).
    Discovery(crate::discovery::Event),
    /// An IKE event: ISAKMP SAs up and down, negotiations failed, inputs
    /// dropped, rekeys. (Trace steps go to the debug log; a negotiated SA
    /// pair is reported as [`Event::TunnelUp`], without its keys.)
    Ike(ike_sm::Event),
    /// A crypto map entry was derived from a dynamic template for a
    /// discovered peer (`tedtag 11`, "created from dynamic map ted-map/10").
    MapEntryDerived {
        /// The crypto map.
        map: String,
        /// The new entry's sequence number.
        seq: u32,
        /// The peer.
        peer: Ipv4Addr,
    },
    /// A derived entry was removed: no SA or negotiation uses it any more.
    MapEntryRemoved {
        /// The crypto map.
        map: String,
        /// Its sequence number.
        seq: u32,
        /// Its peer.
        peer: Ipv4Addr,
    },
    /// A pair of IPsec SAs was installed: traffic flows.
    TunnelUp(TunnelInfo),
    /// A pair of IPsec SAs was removed.
    TunnelDown {
        /// The pair.
        tunnel: TunnelInfo,
        /// Why.
        reason: TunnelDownReason,
    },
}

/// What a gateway counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Protected-side packets forwarded in the clear (no entry protects
    /// them).
    pub plaintext_bypassed: u64,
    /// Protected-side packets encapsulated.
    pub plaintext_encrypted: u64,
    /// Dropped: malformed.
    pub plaintext_malformed: u64,
    /// Dropped: no room for ESP in the buffer.
    pub plaintext_buffer_too_small: u64,
    /// Dropped: a TED discovery runs or started for them.
    pub plaintext_discovering: u64,
    /// Dropped: discovery held down or refused.
    pub plaintext_discovery_refused: u64,
    /// Dropped: IKE negotiating.
    pub plaintext_negotiating: u64,
    /// Dropped: no peer to negotiate with.
    pub plaintext_no_peer: u64,
    /// Dropped: IKE refused to start.
    pub plaintext_negotiation_refused: u64,
    /// Dropped: the SA refused the packet.
    pub plaintext_encapsulation_failed: u64,
    /// Outside cleartext forwarded.
    pub outside_forwarded: u64,
    /// Outside cleartext dropped: the crypto map says it must be encrypted.
    pub outside_cleartext_dropped: u64,
    /// Outside packets dropped as malformed.
    pub outside_malformed: u64,
    /// ESP packets decapsulated.
    pub esp_decrypted: u64,
    /// ESP packets for an unknown SPI.
    pub esp_unknown_spi: u64,
    /// ESP packets an SA refused.
    pub esp_refused: u64,
    /// Datagrams to this gateway handed to IKE.
    pub datagrams_ike: u64,
    /// Datagrams handled by TED (probes, responses).
    pub datagrams_ted: u64,
    /// Datagrams passed back to be forwarded.
    pub datagrams_forwarded: u64,
    /// NAT-T port: IKE messages (after the non-ESP marker) handed to IKE.
    pub nat_t_ike: u64,
    /// NAT-T port: keepalives discarded.
    pub nat_t_keepalives: u64,
    /// NAT-T port: datagrams that are neither IKE, a keepalive nor ESP.
    pub nat_t_malformed: u64,
    /// Authenticated UDP-encapsulated ESP from a new address or port of
    /// its peer, reported to IKE (`Endpoint::peer_moved`).
    pub esp_peer_moved: u64,
    /// SA pairs whose ESP was redirected after the peer's NAT mapping
    /// changed (`ike_sm::Event::PeerMoved`).
    pub tunnels_moved: u64,
    /// Datagrams to send dropped: the transmit queue was full.
    pub transmits_dropped: u64,
    /// Events dropped: the event queue was full.
    pub events_dropped: u64,
    /// SA pairs installed.
    pub tunnels_installed: u64,
    /// SA pairs removed.
    pub tunnels_removed: u64,
    /// SA pairs refused (cap, or parameters that cannot be installed).
    pub tunnels_refused: u64,
    /// Crypto map entries derived.
    pub map_entries_derived: u64,
    /// Derived entries removed.
    pub map_entries_removed: u64,
    /// Discoveries whose peer could not be negotiated with (no derived
    /// entry, no transform set, IKE refused).
    pub discoveries_not_followed: u64,
}
