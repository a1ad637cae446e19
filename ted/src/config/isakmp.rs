//! Phase-1 policy: ISAKMP policies, pre-shared keys, identity, keepalives.
//!
//! The IKE side of an IOS configuration (Cisco IOS Security Command
//! Reference: `crypto isakmp policy`, `encryption`, `hash`,
//! `authentication`, `group`, `lifetime`, `crypto isakmp key`, `crypto
//! isakmp identity`, `crypto isakmp keepalive`). The attributes are the
//! RFC 2409 Appendix A phase-1 attributes; the Diffie-Hellman groups are the
//! RFC 2409 §6 and RFC 3526 MODP groups.
//!
//! # Defaults and the default protection suite
//!
//! A `crypto isakmp policy N` that leaves a line out takes IOS's default for
//! it: DES, SHA, RSA signatures, group 1 (768-bit MODP), 86400 seconds
//! ([`IsakmpPolicy::with_ios_defaults`]). The seed's policy 10 names only
//! `authentication pre-share`, so it is DES/SHA/group 1/pre-share/86400, the
//! values its debug trace shows being negotiated. These are weak algorithms,
//! taken here only because the configuration, read with IOS's semantics,
//! selects them.
//!
//! IOS 12.2 also keeps a *default protection suite*, priority 65535 with
//! those same default values, which it checks after every configured policy.
//! It authenticates with RSA signatures, which this project does not
//! implement, and offers DES with a 768-bit group; so the model keeps it out
//! of [`IsakmpConfig::policies`] and returns it from
//! [`IsakmpConfig::default_suite`] only when
//! [`IsakmpConfig::use_default_suite`] is set (off by default; no
//! configuration line sets it).

use core::fmt;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// AES key length (`aes 256`, `esp-aes 192`): the ESP engine's type.
pub use esp::AesKeySize;

/// Phase-1 encryption (`encryption des | 3des | aes [128|192|256]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IsakmpEncryption {
    /// DES-CBC, 56-bit key (weak; the IOS 12.2 default).
    Des,
    /// 3DES-CBC.
    TripleDes,
    /// AES-CBC (RFC 3602).
    Aes(AesKeySize),
}

impl fmt::Display for IsakmpEncryption {
    /// The configuration keywords: `des`, `3des`, `aes`, `aes 256`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Des => f.write_str("des"),
            Self::TripleDes => f.write_str("3des"),
            Self::Aes(AesKeySize::Aes128) => f.write_str("aes"),
            Self::Aes(size) => write!(f, "aes {}", size.bits()),
        }
    }
}

/// Phase-1 hash (`hash sha | md5 | sha256 | sha384 | sha512`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IsakmpHash {
    /// SHA-1 (the IOS default).
    Sha,
    /// MD5 (weak).
    Md5,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl IsakmpHash {
    /// The configuration keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::Sha => "sha",
            Self::Md5 => "md5",
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }
}

/// Phase-1 authentication method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IsakmpAuthentication {
    /// `pre-share`: pre-shared keys.
    PreShare,
    /// `rsa-sig`: RSA signatures (the IOS default).
    RsaSig,
    /// `rsa-encr`: RSA encrypted nonces.
    RsaEncr,
    /// `ecdsa-sig`: ECDSA signatures (RFC 4754).
    EcdsaSig,
}

impl IsakmpAuthentication {
    /// The configuration keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Self::PreShare => "pre-share",
            Self::RsaSig => "rsa-sig",
            Self::RsaEncr => "rsa-encr",
            Self::EcdsaSig => "ecdsa-sig",
        }
    }

    /// Whether the method authenticates with certificates (`rsa-sig`,
    /// `ecdsa-sig`).
    pub fn uses_certificates(self) -> bool {
        matches!(self, Self::RsaSig | Self::EcdsaSig)
    }
}

/// A Diffie-Hellman group, for phase 1 (`group N`) and for PFS
/// (`set pfs groupN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DhGroup {
    /// Group 1, 768-bit MODP (RFC 2409 §6.1; weak; the IOS default).
    Group1,
    /// Group 2, 1024-bit MODP (RFC 2409 §6.2; weak).
    Group2,
    /// Group 5, 1536-bit MODP (RFC 3526 §2).
    Group5,
    /// Group 14, 2048-bit MODP (RFC 3526 §3).
    Group14,
    /// Group 15, 3072-bit MODP (RFC 3526 §4).
    Group15,
    /// Group 16, 4096-bit MODP (RFC 3526 §5).
    Group16,
}

impl DhGroup {
    /// The group number.
    pub fn number(self) -> u16 {
        match self {
            Self::Group1 => 1,
            Self::Group2 => 2,
            Self::Group5 => 5,
            Self::Group14 => 14,
            Self::Group15 => 15,
            Self::Group16 => 16,
        }
    }

    /// The group with this number, if it is one of the above.
    pub fn from_number(number: u32) -> Option<Self> {
        match number {
            1 => Some(Self::Group1),
            2 => Some(Self::Group2),
            5 => Some(Self::Group5),
            14 => Some(Self::Group14),
            15 => Some(Self::Group15),
            16 => Some(Self::Group16),
            _ => None,
        }
    }
}

/// One `crypto isakmp policy` block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IsakmpPolicy {
    /// Priority: lower is tried first (1-10000).
    pub priority: u16,
    /// Encryption algorithm.
    pub encryption: IsakmpEncryption,
    /// Hash algorithm.
    pub hash: IsakmpHash,
    /// Authentication method.
    pub authentication: IsakmpAuthentication,
    /// Diffie-Hellman group.
    pub group: DhGroup,
    /// ISAKMP SA lifetime in seconds (60-86400).
    pub lifetime: u32,
}

impl IsakmpPolicy {
    /// Priorities IOS accepts.
    pub const PRIORITY_RANGE: RangeInclusive<u16> = 1..=10_000;
    /// Lifetimes IOS accepts, in seconds.
    pub const LIFETIME_RANGE: RangeInclusive<u32> = 60..=86_400;
    /// The default lifetime, one day.
    pub const DEFAULT_LIFETIME: u32 = 86_400;
    /// The default protection suite's priority.
    pub const DEFAULT_SUITE_PRIORITY: u16 = 65_535;
    /// IOS 12.2's default encryption.
    pub const DEFAULT_ENCRYPTION: IsakmpEncryption = IsakmpEncryption::Des;
    /// IOS 12.2's default hash.
    pub const DEFAULT_HASH: IsakmpHash = IsakmpHash::Sha;
    /// IOS 12.2's default authentication.
    pub const DEFAULT_AUTHENTICATION: IsakmpAuthentication = IsakmpAuthentication::RsaSig;
    /// IOS 12.2's default group.
    pub const DEFAULT_GROUP: DhGroup = DhGroup::Group1;

    /// A policy as IOS 12.2 creates it on `crypto isakmp policy N`: DES,
    /// SHA, RSA signatures, group 1, 86400 s. DES and group 1 are weak; the
    /// name says these are IOS's choices, not this crate's.
    pub fn with_ios_defaults(priority: u16) -> Self {
        Self {
            priority,
            encryption: Self::DEFAULT_ENCRYPTION,
            hash: Self::DEFAULT_HASH,
            authentication: Self::DEFAULT_AUTHENTICATION,
            group: Self::DEFAULT_GROUP,
            lifetime: Self::DEFAULT_LIFETIME,
        }
    }
}

/// A pre-shared key: secret bytes, wiped when dropped, never shown by
/// `Debug`, compared in constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct PresharedKey(Box<[u8]>);

impl PresharedKey {
    /// Copies the key into a buffer of its exact size (no reallocation
    /// leaves a copy behind).
    pub fn new(key: &[u8]) -> Self {
        Self(Box::from(key))
    }

    /// The key bytes (for the SKEYID computation of RFC 2409 §5).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the key is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for PresharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PresharedKey(<redacted>)")
    }
}

impl PartialEq for PresharedKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for PresharedKey {}

/// Whom a pre-shared key is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PskPeer {
    /// `address A [MASK]`: peers in a subnet; `0.0.0.0 0.0.0.0` is every
    /// peer (the wildcard key TED needs). The address is stored masked.
    Address {
        /// Subnet address.
        address: Ipv4Addr,
        /// Subnet mask (255.255.255.255 when omitted).
        mask: Ipv4Addr,
    },
    /// `hostname NAME`: a peer identified by its FQDN.
    Hostname(String),
}

impl PskPeer {
    /// A subnet peer, with the address masked.
    pub fn subnet(address: Ipv4Addr, mask: Ipv4Addr) -> Self {
        Self::Address {
            address: Ipv4Addr::from(u32::from(address) & u32::from(mask)),
            mask,
        }
    }

    /// A single-address peer.
    pub fn host(address: Ipv4Addr) -> Self {
        Self::Address {
            address,
            mask: Ipv4Addr::BROADCAST,
        }
    }
}

/// One `crypto isakmp key` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PskEntry {
    /// The peer or peers.
    pub peer: PskPeer,
    /// The key.
    pub key: PresharedKey,
    /// `no-xauth`: no extended authentication for this peer.
    pub no_xauth: bool,
}

/// `local-address` of a `crypto keyring`: the local address the keyring's
/// keys are used on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyringLocalAddress {
    /// `local-address A.B.C.D`.
    Address(Ipv4Addr),
    /// `local-address INTERFACE`: the address of that interface.
    Interface(String),
}

impl fmt::Display for KeyringLocalAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Address(a) => write!(f, "{a}"),
            Self::Interface(name) => f.write_str(name),
        }
    }
}

/// One `crypto keyring NAME` block: pre-shared keys (`pre-shared-key
/// address A [MASK] key KEY`, `pre-shared-key hostname H key KEY`), the
/// same per-peer keys as `crypto isakmp key`, used only on the keyring's
/// `local-address` when it has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyring {
    name: String,
    /// `description TEXT`.
    pub description: Option<String>,
    /// `local-address A.B.C.D | INTERFACE`.
    pub local_address: Option<KeyringLocalAddress>,
    keys: Vec<PskEntry>,
}

impl Keyring {
    /// An empty keyring.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            description: None,
            local_address: None,
            keys: Vec::new(),
        }
    }

    /// The keyring's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The keys, in configuration order (`no_xauth` is always false: the
    /// keyring form has no such option).
    pub fn keys(&self) -> &[PskEntry] {
        &self.keys
    }

    /// Adds a key; a key for the same peer is replaced (as IOS does) and
    /// returned.
    pub fn add_key(&mut self, entry: PskEntry) -> Option<PskEntry> {
        match self.keys.iter_mut().find(|k| k.peer == entry.peer) {
            Some(slot) => Some(core::mem::replace(slot, entry)),
            None => {
                self.keys.push(entry);
                None
            }
        }
    }

    /// Removes the key for this peer.
    pub fn remove_key(&mut self, peer: &PskPeer) -> Option<PskEntry> {
        let at = self.keys.iter().position(|k| &k.peer == peer)?;
        Some(self.keys.remove(at))
    }
}

/// `crypto isakmp identity`: what this router sends as its phase-1 ID.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IsakmpIdentity {
    /// Its IP address (ID_IPV4_ADDR), the default.
    #[default]
    Address,
    /// Its host name (ID_FQDN).
    Hostname,
    /// The distinguished name of its certificate (ID_DER_ASN1_DN).
    Dn,
}

/// When keepalives (dead peer detection, RFC 3706) are sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeepaliveMode {
    /// Only when traffic is to be sent and nothing came from the peer
    /// (the IOS default).
    #[default]
    OnDemand,
    /// At every interval.
    Periodic,
}

/// `crypto isakmp keepalive SECONDS [RETRY] [periodic | on-demand]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Keepalive {
    /// Seconds between keepalives (10-3600).
    pub interval: u16,
    /// Seconds between retries after a missed reply (2-60; default 2).
    pub retry: u16,
    /// When keepalives are sent.
    pub mode: KeepaliveMode,
}

impl Keepalive {
    /// Intervals IOS accepts.
    pub const INTERVAL_RANGE: RangeInclusive<u16> = 10..=3600;
    /// Retry intervals IOS accepts.
    pub const RETRY_RANGE: RangeInclusive<u16> = 2..=60;
    /// The retry interval when none is given.
    pub const DEFAULT_RETRY: u16 = 2;
}

/// The phase-1 part of a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IsakmpConfig {
    policies: BTreeMap<u16, IsakmpPolicy>,
    keys: Vec<PskEntry>,
    /// Position of each peer's key in `keys` (keys keep configuration
    /// order; the index keeps imports of thousands of keys linear).
    key_index: BTreeMap<PskPeer, usize>,
    /// `crypto isakmp identity`.
    pub identity: IsakmpIdentity,
    /// `crypto isakmp keepalive`, if configured.
    pub keepalive: Option<Keepalive>,
    /// `crypto isakmp nat keepalive SECONDS` (5-3600): the NAT keepalive
    /// interval (RFC 3948 s.2.3), if configured.
    pub nat_keepalive: Option<u16>,
    /// `crypto isakmp aggressive-mode disable`: Aggressive Mode first
    /// messages are not answered (IOS answers them unless this is
    /// configured).
    pub aggressive_mode_disabled: bool,
    /// `crypto isakmp enable` (on unless `no crypto isakmp enable`).
    pub enabled: bool,
    /// Whether [`IsakmpConfig::default_suite`] returns IOS's default
    /// protection suite; see the module documentation. Off by default.
    pub use_default_suite: bool,
}

impl Default for IsakmpConfig {
    fn default() -> Self {
        Self {
            policies: BTreeMap::new(),
            keys: Vec::new(),
            key_index: BTreeMap::new(),
            identity: IsakmpIdentity::Address,
            keepalive: None,
            nat_keepalive: None,
            aggressive_mode_disabled: false,
            enabled: true,
            use_default_suite: false,
        }
    }
}

impl IsakmpConfig {
    /// The NAT keepalive intervals IOS accepts (`crypto isakmp nat
    /// keepalive`).
    pub const NAT_KEEPALIVE_RANGE: core::ops::RangeInclusive<u16> = 5..=3600;

    /// The configured policies, best priority first.
    pub fn policies(&self) -> impl Iterator<Item = &IsakmpPolicy> + '_ {
        self.policies.values()
    }

    /// The policy with this priority.
    pub fn policy(&self, priority: u16) -> Option<&IsakmpPolicy> {
        self.policies.get(&priority)
    }

    /// Adds a policy, replacing (and returning) one of the same priority.
    pub fn add_policy(&mut self, policy: IsakmpPolicy) -> Option<IsakmpPolicy> {
        self.policies.insert(policy.priority, policy)
    }

    /// Removes the policy with this priority.
    pub fn remove_policy(&mut self, priority: u16) -> Option<IsakmpPolicy> {
        self.policies.remove(&priority)
    }

    /// IOS's default protection suite (priority 65535, DES, SHA, RSA
    /// signatures, group 1, 86400 s), when [`Self::use_default_suite`] is set.
    pub fn default_suite(&self) -> Option<IsakmpPolicy> {
        self.use_default_suite
            .then(|| IsakmpPolicy::with_ios_defaults(IsakmpPolicy::DEFAULT_SUITE_PRIORITY))
    }

    /// The pre-shared keys, in configuration order.
    pub fn keys(&self) -> &[PskEntry] {
        &self.keys
    }

    /// Adds a key; a key for the same peer is replaced (as IOS does) and
    /// returned.
    pub fn add_key(&mut self, entry: PskEntry) -> Option<PskEntry> {
        match self.key_index.get(&entry.peer) {
            Some(&at) => self
                .keys
                .get_mut(at)
                .map(|slot| core::mem::replace(slot, entry)),
            None => {
                self.key_index.insert(entry.peer.clone(), self.keys.len());
                self.keys.push(entry);
                None
            }
        }
    }

    /// Removes the key for this peer.
    pub fn remove_key(&mut self, peer: &PskPeer) -> Option<PskEntry> {
        let at = self.key_index.remove(peer)?;
        if at >= self.keys.len() {
            return None;
        }
        let removed = self.keys.remove(at);
        for slot in self.key_index.values_mut() {
            if *slot > at {
                *slot -= 1;
            }
        }
        Some(removed)
    }

    /// The key for a peer address: among the address keys whose subnet
    /// holds it, the one with the longest mask (so a host key beats a
    /// subnet key, which beats the 0.0.0.0 0.0.0.0 wildcard).
    pub fn psk_for_address(&self, peer: Ipv4Addr) -> Option<&PskEntry> {
        self.keys
            .iter()
            .filter_map(|k| match k.peer {
                PskPeer::Address { address, mask }
                    if u32::from(peer) & u32::from(mask)
                        == u32::from(address) & u32::from(mask) =>
                {
                    Some((u32::from(mask).count_ones(), k))
                }
                _ => None,
            })
            .max_by_key(|&(bits, _)| bits)
            .map(|(_, k)| k)
    }

    /// The key for a peer host name (ASCII case-insensitive, as DNS names
    /// compare).
    pub fn psk_for_hostname(&self, name: &str) -> Option<&PskEntry> {
        self.keys
            .iter()
            .find(|k| matches!(&k.peer, PskPeer::Hostname(h) if h.eq_ignore_ascii_case(name)))
    }
}
