//! The ESP transform engine (RFC 4303), Sans-IO.
//!
//! One [`Sa`] is one IPsec security association: it encapsulates inner IP
//! packets into ESP (outbound) or decapsulates ESP into inner packets
//! (inbound), in place in the caller's buffer, in tunnel mode (a new outer
//! IPv4 header) or transport mode. It owns the keyed transforms, the
//! anti-replay window, the lifetimes and the counters. An [`SaTable`]
//! finds the inbound SA of a packet by SPI in O(1). An SA may carry its
//! ESP in UDP ([`UdpEncap`], RFC 3948) to cross a NAT: see
//! [UDP encapsulation](#udp-encapsulation-rfc-3948).
//!
//! The crate does no I/O, reads no clock and no OS randomness: the caller
//! passes `now` ([`std::time::Instant`]) and, for CBC IVs, an RNG
//! ([`rand_core::CryptoRng`]) into each call. It knows nothing of IKE: keys
//! and parameters are plain values ([`SaParams`]).
//!
//! The IPsec vocabulary an IKE engine shares with it lives here too:
//! [`Spi`], [`SecretBytes`], [`AesKeySize`], and the DES key checks and
//! CBC helpers of the [`cipher`] module.
//!
//! | RFC | what |
//! |---|---|
//! | RFC 4303 | ESP format, padding, sequence numbers, ESN, anti-replay, ICV |
//! | RFC 2406 | the older ESP some peers speak (see [`PaddingCheck::Relaxed`]) |
//! | RFC 4301 | modes, selectors, lifetimes |
//! | RFC 2405, 2451, 3602, 4106 | DES-CBC, 3DES-CBC, AES-CBC, AES-GCM |
//! | RFC 2403, 2404, 4868 | HMAC-MD5-96, HMAC-SHA1-96, HMAC-SHA-2 |
//! | RFC 6479 | word-bitmap replay window |
//! | RFC 3948 | UDP encapsulation of ESP for NAT traversal, the transport-mode checksum fix-up |
//!
//! # Driver loop
//!
//! ```
//! use std::net::Ipv4Addr;
//! use std::time::{Duration, Instant};
//! use esp::{
//!     AesKeySize, Direction, Encryption, Integrity, Keys, Mode, Sa, SaParams, SaTable, Spi,
//! };
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//!
//! let now = Instant::now();
//! let mut rng = ChaCha20Rng::from_seed([7; 32]);
//! let keys = Keys::new(&[0x11; 16], &[0x22; 20]);
//! let mode = Mode::Tunnel { src: Ipv4Addr::new(11, 11, 11, 1), dst: Ipv4Addr::new(11, 11, 11, 2) };
//! let mut params = SaParams::new(
//!     Spi(0xa479_0fa0),
//!     Direction::Outbound,
//!     mode,
//!     Encryption::AesCbc(AesKeySize::Aes128),
//!     Integrity::HmacSha1_96,
//!     keys.clone(),
//! );
//! params.lifetime.hard.time = Some(Duration::from_secs(3600));
//! let mut out = Sa::new(params.clone(), now).unwrap();
//! params.direction = Direction::Inbound;
//! let mut table = SaTable::new();
//! table.insert(Sa::new(params, now).unwrap()).unwrap();
//!
//! // An inner IPv4 packet (header only) with room around it.
//! let inner = [
//!     0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 13, 13, 13, 14, 12, 12, 12, 13,
//! ];
//! let room = out.room(inner.len());
//! let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
//! buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
//! let sent = out
//!     .encapsulate(now, &mut rng, &mut buf, room.headroom..room.headroom + inner.len())
//!     .unwrap();
//!
//! // ... the bytes buf[sent.packet] cross the network ...
//! let mut wire = buf[sent.packet].to_vec();
//! let (_handle, got) = table.decapsulate(now, &mut wire).unwrap();
//! assert_eq!(&wire[got.packet], &inner[..]);
//!
//! // After every input and at every timeout: drain events.
//! let later = now + Duration::from_secs(3600);
//! if table.poll_timeout().is_some_and(|t| t <= later) {
//!     table.handle_timeout(later);
//! }
//! while let Some((_handle, event)) = table.poll_event() {
//!     // SoftExpired: rekey; HardExpired: the SA refuses further packets.
//!     let _ = event;
//! }
//! ```
//!
//! # UDP encapsulation (RFC 3948)
//!
//! An SA whose [`SaParams::udp_encap`] is set sends and takes its ESP
//! packets inside UDP datagrams (port 4500 to port 4500 unless a NAT
//! mapped the peer elsewhere), UDP checksum zero:
//!
//! - [`Sa::encapsulate`] writes IPv4 (protocol 17), the UDP header and
//!   ESP; [`Sa::room`] asks 8 bytes more headroom. The result gives the
//!   whole packet (for a raw socket or a simulated network) and, in
//!   [`Encapsulated::udp`], the datagram's addresses and payload range
//!   (for a UDP socket).
//! - [`Sa::decapsulate`] / [`SaTable::decapsulate`] take the whole IPv4
//!   packet, [`Sa::decapsulate_udp`] / [`SaTable::decapsulate_udp`] the
//!   bare ESP bytes a UDP socket received with its two addresses. A
//!   keepalive, the non-ESP marker of an IKE message, a bad UDP length,
//!   another port, or plain ESP for a UDP SA (and the reverse) are each a
//!   [`DecapError`], found before the SA's state is touched. Which of
//!   ESP, IKE or keepalive a datagram on port 4500 is, is decided by
//!   `isakmp_wire::nat_t::classify`, the product's one demultiplexer; a
//!   driver calls it first and gives only ESP here.
//! - [`Decapsulated::udp_source`] is where an authenticated packet came
//!   from: a new address or port there means the peer's NAT moved it, and
//!   [`Sa::set_udp_peer`] points an outbound SA at it.
//! - Transport mode fixes up the TCP/UDP checksum of the restored packet
//!   (RFC 3948 s.3.1.2): incrementally from the NAT-OA addresses when both
//!   are known, by recomputing it otherwise.
//!
//! ```
//! use std::net::{Ipv4Addr, SocketAddrV4};
//! use std::time::Instant;
//! use esp::{
//!     AesKeySize, Direction, Encryption, Integrity, Keys, Mode, Sa, SaParams, SaTable, Spi,
//!     UdpEncap,
//! };
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//!
//! let now = Instant::now();
//! let (us, peer) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 2));
//! let mut params = SaParams::new(
//!     Spi(0x1000),
//!     Direction::Outbound,
//!     Mode::Tunnel { src: us, dst: peer },
//!     Encryption::AesGcm16(AesKeySize::Aes128),
//!     Integrity::None,
//!     Keys::new(&[3; 20], &[]),
//! );
//! params.udp_encap = Some(UdpEncap::new(4500, 4500));
//! let mut out = Sa::new(params.clone(), now).unwrap();
//! params.direction = Direction::Inbound;
//! let mut table = SaTable::new();
//! table.insert(Sa::new(params, now).unwrap()).unwrap();
//!
//! let inner = [0x45, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 0, 1, 10, 0, 1, 1];
//! let room = out.room(inner.len());
//! let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
//! let at = room.headroom..room.headroom + inner.len();
//! buf[at.clone()].copy_from_slice(&inner);
//! let mut rng = ChaCha20Rng::from_seed([1; 32]);
//! let sent = out.encapsulate(now, &mut rng, &mut buf, at).unwrap();
//! let udp = sent.udp.unwrap();
//! assert_eq!(udp.destination, SocketAddrV4::new(peer, 4500));
//!
//! // A UDP socket on port 4500 sends buf[udp.payload]; the receiving one
//! // hands those bytes over with the datagram's addresses.
//! let mut rx = buf[udp.payload].to_vec();
//! let n = rx.len();
//! let (_, got) = table.decapsulate_udp(now, &mut rx, 0..n, udp.source, udp.destination).unwrap();
//! assert_eq!(&rx[got.packet], &inner[..]);
//! assert_eq!(got.udp_source, Some(udp.source));
//! ```
//!
//! # Panics
//!
//! None on any input: every length is checked, every slice access is
//! bounds-checked (the workspace lints forbid indexing and unwrapping), and
//! the fuzz targets (`fuzzing` feature) exercise exactly that.
#![forbid(unsafe_code)]

pub mod cipher;
mod counters;
mod error;
pub mod ip;
mod params;
mod replay;
mod sa;
mod secret;
mod selector;
mod spi;
mod table;
mod transform;
mod udp;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use counters::Counters;
pub use error::{ConfigError, DecapError, EncapError, LimitKind};
pub use params::{
    AesKeySize, DfPolicy, Direction, Encryption, Integrity, Keys, Lifetime, Limits, Mode,
    PaddingCheck, SaParams, UdpEncap,
};
pub use replay::{DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW, ReplayError, ReplayWindow};
pub use sa::{
    Decapsulated, Encapsulated, Event, Room, SEQ_SOFT_MARGIN, Sa, UDP_RX_HEADROOM, UdpDatagram,
};
pub use secret::SecretBytes;
pub use selector::{AddrRange, PortRange, TrafficSelector};
pub use spi::Spi;
pub use table::{SaHandle, SaTable, SpiHasher, TableError};
