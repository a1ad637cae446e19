//! The ESP transform engine (RFC 4303), Sans-IO.
//!
//! One [`Sa`] is one IPsec security association: it encapsulates inner IP
//! packets into ESP (outbound) or decapsulates ESP into inner packets
//! (inbound), in place in the caller's buffer, in tunnel mode (a new outer
//! IPv4 header) or transport mode. It owns the keyed transforms, the
//! anti-replay window, the lifetimes and the counters. An [`SaTable`]
//! finds the inbound SA of a packet by SPI in O(1).
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

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use counters::Counters;
pub use error::{ConfigError, DecapError, EncapError, LimitKind};
pub use params::{
    AesKeySize, DfPolicy, Direction, Encryption, Integrity, Keys, Lifetime, Limits, Mode,
    PaddingCheck, SaParams,
};
pub use replay::{DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW, ReplayError, ReplayWindow};
pub use sa::{Decapsulated, Encapsulated, Event, Room, SEQ_SOFT_MARGIN, Sa};
pub use secret::SecretBytes;
pub use selector::{AddrRange, PortRange, TrafficSelector};
pub use spi::Spi;
pub use table::{SaHandle, SaTable, SpiHasher, TableError};
