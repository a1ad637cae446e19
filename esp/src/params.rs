//! Security association parameters as plain values.
//!
//! Everything an SA needs is given here by value: the SPI (RFC 4303 s.2.1),
//! the mode (RFC 4301 s.4.1), the transforms (RFC 2405, RFC 2451, RFC 3602,
//! RFC 4106, RFC 2403, RFC 2404, RFC 4868), the keys, the anti-replay window
//! (RFC 4303 s.3.4.3), extended sequence numbers (RFC 4303 s.2.2.1), the
//! traffic selector (RFC 4301 s.4.4.2) and the lifetimes (RFC 4301 s.4.4.2.1).
//! Nothing here knows IKE: a key exchange produces these values, a test
//! writes them by hand.
//!
//! Weak algorithms (DES, 3DES, HMAC-MD5) exist only as explicitly named
//! variants; no constructor or default picks them.

use core::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::error::ConfigError;
use crate::replay::{DEFAULT_REPLAY_WINDOW, MAX_REPLAY_WINDOW};
use crate::secret::SecretBytes;
use crate::selector::TrafficSelector;
use crate::spi::Spi;

/// Which way an SA carries traffic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Packets we receive and decapsulate.
    Inbound,
    /// Packets we encapsulate and send.
    Outbound,
}

/// What the outer IPv4 header's Don't Fragment bit becomes in tunnel mode
/// (RFC 4301 s.8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DfPolicy {
    /// Copy DF from an inner IPv4 header; clear it for an inner IPv6 packet.
    #[default]
    Copy,
    /// Always set DF.
    Set,
    /// Always clear DF.
    Clear,
}

/// ESP mode (RFC 4301 s.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// The whole inner IP packet is protected and carried in a new outer
    /// IPv4 header from `src` to `dst` (the crypto endpoints in this SA's
    /// direction).
    Tunnel {
        /// Outer source address.
        src: Ipv4Addr,
        /// Outer destination address.
        dst: Ipv4Addr,
    },
    /// The upper-layer payload of an IPv4 packet is protected; the ESP
    /// header is inserted after the packet's own IP header.
    Transport,
}

/// UDP encapsulation of an SA's ESP packets (RFC 3948), for NAT
/// traversal: each ESP packet travels in a UDP datagram (normally port
/// 4500 to port 4500) with checksum zero, so that a NAT can map it.
///
/// Outbound, [`Sa::encapsulate`](crate::Sa::encapsulate) writes the UDP
/// header from `source_port` to `destination_port`. Inbound,
/// [`Sa::decapsulate`](crate::Sa::decapsulate) and
/// [`Sa::decapsulate_udp`](crate::Sa::decapsulate_udp) insist on
/// `destination_port` (ours) and take any source port (a NAT may change
/// it; whoever drives the SA decides whether to follow, see
/// [`Decapsulated::udp_source`](crate::Decapsulated::udp_source)).
///
/// `original_source` and `original_destination` are the NAT-OA addresses
/// of a transport-mode SA (RFC 3947 s.5.2): for an inbound SA, the
/// sender's own address and the address it believed it sent to, which
/// its TCP and UDP checksums cover. See [`Sa::decapsulate`](crate::Sa::decapsulate)
/// for how they are used; tunnel mode ignores them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UdpEncap {
    /// The UDP source port of this SA's packets: outbound, ours;
    /// inbound, the peer's as last seen (informational).
    pub source_port: u16,
    /// The UDP destination port: outbound, the peer's (4500, or whatever
    /// its NAT mapped); inbound, ours, checked on every packet.
    pub destination_port: u16,
    /// Transport mode, inbound: the sender's original address (NAT-OA).
    pub original_source: Option<Ipv4Addr>,
    /// Transport mode, inbound: the destination address the sender used
    /// (NAT-OA).
    pub original_destination: Option<Ipv4Addr>,
}

impl UdpEncap {
    /// The NAT-T port (RFC 3948 s.2): 4500.
    pub const NAT_T_PORT: u16 = 4500;

    /// Encapsulation from `source_port` to `destination_port`, without
    /// NAT-OA addresses.
    pub const fn new(source_port: u16, destination_port: u16) -> Self {
        Self {
            source_port,
            destination_port,
            original_source: None,
            original_destination: None,
        }
    }

    /// The same, with the NAT-OA addresses of a transport-mode SA.
    #[must_use]
    pub const fn with_original_addresses(
        mut self,
        source: Option<Ipv4Addr>,
        destination: Option<Ipv4Addr>,
    ) -> Self {
        self.original_source = source;
        self.original_destination = destination;
        self
    }
}

impl Default for UdpEncap {
    /// Port 4500 to port 4500, no NAT-OA.
    fn default() -> Self {
        Self::new(Self::NAT_T_PORT, Self::NAT_T_PORT)
    }
}

/// AES key sizes, for ESP and for the IOS configuration model
/// (`ted::config::AesKeySize` is this type).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AesKeySize {
    /// 128-bit key (IOS's default when a configuration gives no length).
    Aes128,
    /// 192-bit key.
    Aes192,
    /// 256-bit key.
    Aes256,
}

impl AesKeySize {
    /// Key length in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::Aes192 => 24,
            Self::Aes256 => 32,
        }
    }

    /// Key length in bits.
    pub const fn bits(self) -> u16 {
        match self {
            Self::Aes128 => 128,
            Self::Aes192 => 192,
            Self::Aes256 => 256,
        }
    }

    /// The size for a length in bits (128, 192 or 256).
    pub const fn from_bits(bits: u32) -> Option<Self> {
        match bits {
            128 => Some(Self::Aes128),
            192 => Some(Self::Aes192),
            256 => Some(Self::Aes256),
            _ => None,
        }
    }
}

/// The ESP encryption transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encryption {
    /// ESP_NULL (RFC 2410): no confidentiality. Needs an integrity
    /// algorithm.
    Null,
    /// DES-CBC with an explicit 8-byte IV (RFC 2405). Weak: 56-bit key.
    DesCbc,
    /// 3DES-EDE-CBC with an explicit 8-byte IV (RFC 2451). Weak: 64-bit
    /// block.
    TripleDesCbc,
    /// AES-CBC with an explicit 16-byte IV (RFC 3602).
    AesCbc(AesKeySize),
    /// AES-GCM with a 16-byte ICV (RFC 4106): the key material is the AES
    /// key followed by a 4-byte salt; the 8-byte explicit IV is the
    /// 64-bit sequence number. No separate integrity algorithm.
    AesGcm16(AesKeySize),
}

impl Encryption {
    /// Length of the key material this transform takes, including the
    /// GCM salt.
    pub const fn key_len(self) -> usize {
        match self {
            Self::Null => 0,
            Self::DesCbc => 8,
            Self::TripleDesCbc => 24,
            Self::AesCbc(k) => k.bytes(),
            Self::AesGcm16(k) => k.bytes() + 4,
        }
    }

    /// Length of the explicit IV carried in each packet.
    pub const fn iv_len(self) -> usize {
        match self {
            Self::Null => 0,
            Self::DesCbc | Self::TripleDesCbc | Self::AesGcm16(_) => 8,
            Self::AesCbc(_) => 16,
        }
    }

    /// The alignment of payload + padding + trailer (RFC 4303 s.2.4): the
    /// cipher block size, and at least 4.
    pub const fn alignment(self) -> usize {
        match self {
            Self::Null | Self::AesGcm16(_) => 4,
            Self::DesCbc | Self::TripleDesCbc => 8,
            Self::AesCbc(_) => 16,
        }
    }

    /// Whether this is a combined-mode (AEAD) transform with its own ICV.
    pub const fn is_aead(self) -> bool {
        matches!(self, Self::AesGcm16(_))
    }

    /// Length of the ICV an AEAD transform appends (0 otherwise).
    pub const fn aead_icv_len(self) -> usize {
        match self {
            Self::AesGcm16(_) => 16,
            _ => 0,
        }
    }

    /// Whether this transform is considered weak (DES, 3DES).
    pub const fn is_weak(self) -> bool {
        matches!(self, Self::DesCbc | Self::TripleDesCbc)
    }
}

/// The ESP integrity transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Integrity {
    /// No separate integrity algorithm: required with AEAD, otherwise only
    /// with [`SaParams::allow_no_integrity`].
    None,
    /// HMAC-MD5-96 (RFC 2403). Weak.
    HmacMd5_96,
    /// HMAC-SHA1-96 (RFC 2404).
    HmacSha1_96,
    /// HMAC-SHA-256-128 (RFC 4868).
    HmacSha256_128,
    /// HMAC-SHA-384-192 (RFC 4868).
    HmacSha384_192,
    /// HMAC-SHA-512-256 (RFC 4868).
    HmacSha512_256,
}

impl Integrity {
    /// Required key length in bytes (RFC 2403/2404/4868 fix it to the
    /// hash output length).
    pub const fn key_len(self) -> usize {
        match self {
            Self::None => 0,
            Self::HmacMd5_96 => 16,
            Self::HmacSha1_96 => 20,
            Self::HmacSha256_128 => 32,
            Self::HmacSha384_192 => 48,
            Self::HmacSha512_256 => 64,
        }
    }

    /// Length of the truncated ICV in bytes.
    pub const fn icv_len(self) -> usize {
        match self {
            Self::None => 0,
            Self::HmacMd5_96 | Self::HmacSha1_96 => 12,
            Self::HmacSha256_128 => 16,
            Self::HmacSha384_192 => 24,
            Self::HmacSha512_256 => 32,
        }
    }

    /// Whether this transform is considered weak (HMAC-MD5).
    pub const fn is_weak(self) -> bool {
        matches!(self, Self::HmacMd5_96)
    }
}

/// Key material for one SA: the encryption key (with the GCM salt at its
/// end) and the integrity key. Both are wiped on drop, redacted in `Debug`
/// and compared in constant time.
#[derive(Clone, Default, PartialEq, Eq, Zeroize)]
pub struct Keys {
    /// Encryption key material ([`Encryption::key_len`] bytes).
    pub encryption: SecretBytes,
    /// Integrity key ([`Integrity::key_len`] bytes).
    pub integrity: SecretBytes,
}

// Both fields are `SecretBytes`, which wipe themselves on drop.
impl ZeroizeOnDrop for Keys {}

/// Shows each key as `SecretBytes([REDACTED; length])`, as this type always
/// has (a `SecretBytes` alone shows `SecretBytes(<redacted N bytes>)`).
impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Redacted(usize);
        impl fmt::Debug for Redacted {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "SecretBytes([REDACTED; {}])", self.0)
            }
        }
        f.debug_struct("Keys")
            .field("encryption", &Redacted(self.encryption.len()))
            .field("integrity", &Redacted(self.integrity.len()))
            .finish()
    }
}

impl Keys {
    /// Copies both keys.
    pub fn new(encryption: &[u8], integrity: &[u8]) -> Self {
        Self {
            encryption: SecretBytes::new(encryption),
            integrity: SecretBytes::new(integrity),
        }
    }
}

/// One set of lifetime limits (RFC 4301 s.4.4.2.1). `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Limits {
    /// Time since the SA was created.
    pub time: Option<Duration>,
    /// Bytes of inner (plaintext) data processed.
    pub bytes: Option<u64>,
    /// Packets processed.
    pub packets: Option<u64>,
}

impl Limits {
    /// No limits.
    pub const NONE: Self = Self {
        time: None,
        bytes: None,
        packets: None,
    };
}

/// Soft and hard lifetimes. Reaching a soft limit raises
/// [`crate::Event::SoftExpired`] (rekey wanted); reaching a hard limit
/// raises [`crate::Event::HardExpired`] and the SA refuses all further work.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Lifetime {
    /// Soft limits.
    pub soft: Limits,
    /// Hard limits.
    pub hard: Limits,
}

/// How strictly the receiver checks the padding bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PaddingCheck {
    /// The padding must be 1, 2, 3, ... (RFC 4303 s.2.4): the default.
    #[default]
    Strict,
    /// Only the pad length is checked against the packet length; the pad
    /// bytes' contents are ignored. For RFC 2406 peers that filled the
    /// padding otherwise, which RFC 2406 s.2.4 allowed when the
    /// encryption algorithm specified it.
    Relaxed,
}

/// Everything one SA needs. Build with [`SaParams::new`], then adjust the
/// public fields.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SaParams {
    /// The SPI of this SA.
    pub spi: Spi,
    /// Inbound or outbound.
    pub direction: Direction,
    /// Tunnel or transport.
    pub mode: Mode,
    /// Encryption transform.
    pub encryption: Encryption,
    /// Integrity transform.
    pub integrity: Integrity,
    /// Key material.
    pub keys: Keys,
    /// Anti-replay window size in packets (inbound); `None` turns the
    /// replay check off. Default [`DEFAULT_REPLAY_WINDOW`].
    pub replay_window: Option<u32>,
    /// Extended (64-bit) sequence numbers (RFC 4303 s.2.2.1).
    pub esn: bool,
    /// The traffic this SA carries in its direction.
    pub selector: TrafficSelector,
    /// Soft and hard lifetimes.
    pub lifetime: Lifetime,
    /// TTL of the outer header in tunnel mode. Default 64.
    pub ttl: u8,
    /// DF bit of the outer header in tunnel mode.
    pub df: DfPolicy,
    /// Padding check on receive.
    pub padding_check: PaddingCheck,
    /// Allow [`Integrity::None`] with a non-AEAD cipher: ESP without an
    /// ICV, open to forgery (RFC 4303 s.3.2). Off by default.
    pub allow_no_integrity: bool,
    /// Allow DES, 3DES and HMAC-MD5. They must already be named in
    /// `encryption`/`integrity`; this flag is the second, explicit
    /// acknowledgement. Off by default.
    pub allow_weak: bool,
    /// UDP encapsulation (RFC 3948), for a path through a NAT; `None`
    /// (the default): plain ESP, IP protocol 50.
    pub udp_encap: Option<UdpEncap>,
}

impl SaParams {
    /// Parameters with the defaults for everything not given: replay window
    /// 64, no ESN, selector "any", no lifetimes, TTL 64, DF copied, strict
    /// padding, integrity required, weak algorithms refused, plain ESP (no
    /// UDP encapsulation).
    pub fn new(
        spi: Spi,
        direction: Direction,
        mode: Mode,
        encryption: Encryption,
        integrity: Integrity,
        keys: Keys,
    ) -> Self {
        Self {
            spi,
            direction,
            mode,
            encryption,
            integrity,
            keys,
            replay_window: Some(DEFAULT_REPLAY_WINDOW),
            esn: false,
            selector: TrafficSelector::any(),
            lifetime: Lifetime::default(),
            ttl: 64,
            df: DfPolicy::Copy,
            padding_check: PaddingCheck::Strict,
            allow_no_integrity: false,
            allow_weak: false,
            udp_encap: None,
        }
    }

    /// Checks the parameters for consistency: SPI range, key lengths,
    /// integrity rules, weak algorithms, window size, lifetime order.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.spi.0 <= 255 {
            return Err(ConfigError::ReservedSpi(self.spi));
        }
        if self.encryption.is_aead() && self.integrity != Integrity::None {
            return Err(ConfigError::IntegrityWithAead);
        }
        if !self.encryption.is_aead() && self.integrity == Integrity::None {
            if self.encryption == Encryption::Null {
                return Err(ConfigError::NullWithoutIntegrity);
            }
            if !self.allow_no_integrity {
                return Err(ConfigError::IntegrityRequired);
            }
        }
        if (self.encryption.is_weak() || self.integrity.is_weak()) && !self.allow_weak {
            return Err(ConfigError::WeakAlgorithm);
        }
        let enc_len = self.keys.encryption.len();
        if enc_len != self.encryption.key_len() {
            return Err(ConfigError::EncryptionKeyLength {
                expected: self.encryption.key_len(),
                got: enc_len,
            });
        }
        let auth_len = self.keys.integrity.len();
        if auth_len != self.integrity.key_len() {
            return Err(ConfigError::IntegrityKeyLength {
                expected: self.integrity.key_len(),
                got: auth_len,
            });
        }
        if let Some(w) = self.replay_window
            && (w == 0 || w > MAX_REPLAY_WINDOW)
        {
            return Err(ConfigError::ReplayWindow(w));
        }
        let soft = self.lifetime.soft;
        let hard = self.lifetime.hard;
        let soft_after_hard = matches!((soft.time, hard.time), (Some(s), Some(h)) if s > h)
            || matches!((soft.bytes, hard.bytes), (Some(s), Some(h)) if s > h)
            || matches!((soft.packets, hard.packets), (Some(s), Some(h)) if s > h);
        if soft_after_hard {
            return Err(ConfigError::SoftAfterHard);
        }
        if let Some(u) = &self.udp_encap
            && matches!((u.source_port, u.destination_port), (0, _) | (_, 0))
        {
            return Err(ConfigError::ZeroUdpPort);
        }
        self.selector.validate()?;
        Ok(())
    }
}
