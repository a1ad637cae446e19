//! What an endpoint is allowed to negotiate, and how it behaves on the
//! wire: ISAKMP policies (RFC 2409 s.5 and Appendix A), pre-shared keys,
//! local identity (RFC 2407 s.4.6.2), IPsec transform sets and phase-2
//! policies (RFC 2407 s.4.4 / s.4.5), retransmission, lifetimes and rekey,
//! DPD (RFC 3706), and the resource caps that keep a flood of first
//! messages from exhausting memory.
//!
//! # Weak algorithms
//!
//! There is no "allow weak" switch. DES, 3DES, MD5, SHA-1 as the phase-1
//! hash (which is also the PRF that derives the keys, RFC 2409 s.4) and
//! MODP groups 1 and 2 are negotiated exactly when a policy, a transform set
//! or a `pfs` setting names them; every SA negotiated with one reports
//! [`Event::WeakAlgorithm`] once per algorithm, when it is established.
//! [`Config::default`] names only strong algorithms (AES-256, SHA2-256,
//! MODP-2048 in phase 1; AES-256 with HMAC-SHA2-256 in phase 2); the IOS
//! defaults of the seed (DES, SHA, group 1, 86400 s) come only from
//! [`Config::ios_defaults`] or [`IsakmpPolicy::ios_default`].
//!
//! [`Event::WeakAlgorithm`]: crate::Event::WeakAlgorithm

use core::fmt;
use core::net::IpAddr;
use std::time::Duration;

use crate::crypto::{DhGroup, EncryptionAlgorithm, HashAlgorithm, Padding, SecretBytes};
use crate::remote_access::RemoteAccessConfig;
use crate::types::{ExchangeMode, Identity, Lifetime, ProxyId};

/// Phase-1 authentication methods the engine implements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Phase1Auth {
    /// Pre-shared keys (RFC 2409 s.5.4).
    #[default]
    PreSharedKey,
    /// XAUTHInitPreShared (65001, draft-beaulieu-ike-xauth-02 s.5): a
    /// pre-shared key (a remote-access group's) authenticates phase 1
    /// exactly as [`Phase1Auth::PreSharedKey`], then the responder
    /// authenticates the initiator's user with XAUTH (see
    /// [`crate::remote_access`]). An initiator offering it is the XAUTH
    /// client; a responder accepting it, the server.
    XauthInitPreShared,
    /// Signatures with certificates (RFC 2409 s.5.1): RSA (method 3) or
    /// ECDSA on one curve (RFC 4754: methods 9, 10, 11). Both sides sign
    /// with the algorithm the method names; our key and certificate come
    /// from [`Config::pki`], the peer's certificate is validated against
    /// its trust anchors.
    Signature(ike_pki::SignatureAlgorithm),
}

impl Phase1Auth {
    /// Whether the user is authenticated with XAUTH after phase 1.
    #[must_use]
    pub fn is_xauth(self) -> bool {
        matches!(self, Self::XauthInitPreShared)
    }

    /// The signature algorithm, for certificate authentication.
    #[must_use]
    pub fn signature(self) -> Option<ike_pki::SignatureAlgorithm> {
        match self {
            Self::Signature(a) => Some(a),
            _ => None,
        }
    }

    /// Whether a pre-shared key authenticates phase 1 (alone or before
    /// XAUTH).
    #[must_use]
    pub fn uses_pre_shared_key(self) -> bool {
        matches!(self, Self::PreSharedKey | Self::XauthInitPreShared)
    }
}

/// When we send our certificate in MM5/MM6, AM2 or AM3.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SendCertificate {
    /// Always (IOS's behaviour).
    #[default]
    Always,
    /// Only when the peer sent a certificate request (strongSwan's
    /// `send_cert = ifasked`).
    IfRequested,
    /// Never: the peer has our certificate already.
    Never,
}

/// Our signing credentials: the certificate our ID names, the chain sent
/// after it, and the private key (zeroized on drop).
#[derive(Debug)]
pub struct Credentials {
    /// Our certificate.
    pub certificate: ike_pki::Certificate,
    /// Intermediate CA certificates sent after ours (not the anchor).
    pub chain: Vec<ike_pki::Certificate>,
    /// The private key of `certificate`.
    pub key: ike_pki::PrivateKey,
}

/// Certificate authentication settings (see [`Phase1Auth::Signature`]).
#[derive(Clone, Debug, Default)]
pub struct PkiConfig {
    /// Our certificate and key; `None`: we cannot sign, and a signature
    /// policy is not offered or accepted.
    pub credentials: Option<std::sync::Arc<Credentials>>,
    /// The trust anchors (and CRLs) peers' certificates are validated
    /// against; their names go in our certificate requests.
    pub trust: ike_pki::TrustStore,
    /// When our certificate goes along with our signature.
    pub send_certificate: SendCertificate,
    /// Send certificate requests naming our anchors in MM3/MM4, AM1/AM2.
    pub send_certificate_requests: bool,
}

/// One `crypto isakmp policy`: the algorithms of an ISAKMP SA we accept or
/// offer, with its priority (lower number = preferred, as on IOS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IsakmpPolicy {
    /// Priority (1..=10000 on IOS); lower is tried first.
    pub priority: u32,
    /// Encryption algorithm (with key length).
    pub encryption: EncryptionAlgorithm,
    /// Hash algorithm (and HMAC PRF).
    pub hash: HashAlgorithm,
    /// Authentication method.
    pub auth: Phase1Auth,
    /// Diffie-Hellman group.
    pub group: DhGroup,
    /// Lifetime in seconds.
    pub lifetime: u32,
}

impl IsakmpPolicy {
    /// A strong policy: AES-256-CBC, SHA2-256, pre-shared key, MODP-2048,
    /// 86400 s.
    #[must_use]
    pub fn new(priority: u32) -> Self {
        Self {
            priority,
            encryption: EncryptionAlgorithm::Aes256Cbc,
            hash: HashAlgorithm::Sha2_256,
            auth: Phase1Auth::PreSharedKey,
            group: DhGroup::Modp2048,
            lifetime: 86_400,
        }
    }

    /// IOS 12.2's defaults for `crypto isakmp policy N` with only
    /// `authentication pre-share`: DES-CBC, SHA, group 1 (768-bit MODP),
    /// 86400 s. Weak: only use it to talk to such a peer.
    #[must_use]
    pub fn ios_default(priority: u32) -> Self {
        Self {
            priority,
            encryption: EncryptionAlgorithm::DesCbc,
            hash: HashAlgorithm::Sha1,
            auth: Phase1Auth::PreSharedKey,
            group: DhGroup::Modp768,
            lifetime: 86_400,
        }
    }

    /// Whether the policy names a weak algorithm.
    #[must_use]
    pub fn is_weak(&self) -> bool {
        self.encryption.is_weak() || self.hash.is_weak() || self.group.is_weak()
    }
}

/// A pre-shared key: wiped on drop, never shown by `Debug`.
#[derive(Clone)]
pub struct PreSharedKey(SecretBytes);

impl PreSharedKey {
    /// A key from its bytes.
    #[must_use]
    pub fn new(bytes: &[u8]) -> Self {
        Self(SecretBytes::new(bytes))
    }

    /// The key bytes.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        self.0.expose()
    }
}

impl From<&str> for PreSharedKey {
    fn from(s: &str) -> Self {
        Self::new(s.as_bytes())
    }
}

impl fmt::Debug for PreSharedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PreSharedKey(<redacted>)")
    }
}

/// Which peers a pre-shared key is for.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PskScope {
    /// `crypto isakmp key K address A M`: peers whose address is inside
    /// `addr/prefix` (`0.0.0.0/0` is IOS's wildcard `0.0.0.0 0.0.0.0`).
    /// The most specific matching entry wins.
    Address {
        /// Network address.
        addr: IpAddr,
        /// Prefix length.
        prefix: u8,
    },
    /// `crypto isakmp key K hostname H` and the like: a peer presenting
    /// this phase-1 identity. Aggressive Mode responders look keys up this
    /// way (the identity arrives before the key is needed); Main Mode
    /// responders can only use addresses.
    Identity(Identity),
}

/// Whether we answer Aggressive Mode as responder.
///
/// An Aggressive Mode responder sends its authentication (HASH_R, keyed
/// with the pre-shared key) in its first reply, before the initiator has
/// proved anything: anyone who can send one AM1 gets material to attack
/// the key offline. So the engine's default answers no Aggressive Mode
/// at all (as strongSwan, unless
/// `charon.i_dont_care_about_security_and_use_aggressive_mode_psk`, and
/// libreswan's `aggressive=no`); IOS answers it unless `crypto isakmp
/// aggressive-mode disable` ([`Config::ios_defaults`] follows IOS).
/// Remote-access groups that need it turn it on for themselves with a
/// rule.
///
/// A refused AM1 gets no AM2 (no HASH_R leaves the box): it is counted
/// and reported as [`PolicyDrop::AggressiveModeRefused`](crate::PolicyDrop::AggressiveModeRefused),
/// and the peer is sent one unprotected AUTHENTICATION-FAILED notification,
/// the same reply an answered AM1 gets when no key exists for its
/// identity, so that the reply never tells whether a key exists (strongSwan
/// sends the same notification in both cases).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AggressiveModePolicy {
    /// Answer an AM1 no rule matches.
    pub answer: bool,
    /// Exceptions, first match wins: by the peer's address, or by the
    /// identity its AM1 carries (a remote-access group name).
    pub rules: Vec<AggressiveModeRule>,
}

/// One exception of an [`AggressiveModePolicy`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggressiveModeRule {
    /// The peers it is for (an address prefix, or an identity).
    pub scope: PskScope,
    /// Whether their AM1 is answered.
    pub answer: bool,
}

impl AggressiveModePolicy {
    /// Answer every AM1 (IOS's behaviour).
    pub const ANSWER_ALL: Self = Self {
        answer: true,
        rules: Vec::new(),
    };

    /// Whether an AM1 from `peer` carrying `identity` is answered.
    #[must_use]
    pub fn answers(&self, peer: IpAddr, identity: &Identity) -> bool {
        self.rules
            .iter()
            .find(|r| match &r.scope {
                PskScope::Address { addr, prefix } => prefix_contains(*addr, *prefix, peer),
                PskScope::Identity(i) => i == identity,
            })
            .map_or(self.answer, |r| r.answer)
    }
}

/// One pre-shared key entry.
#[derive(Clone, Debug)]
pub struct PskEntry {
    /// Which peers it is for.
    pub scope: PskScope,
    /// The key.
    pub key: PreSharedKey,
}

/// Per-peer settings, matched by address like pre-shared keys (most
/// specific first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerConfig {
    /// Network address of the peers this entry is for.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix: u8,
    /// Phase-1 mode when we initiate to such a peer.
    pub mode: ExchangeMode,
    /// The phase-1 identity the peer must present, if checked. A peer
    /// presenting another one fails with INVALID-ID-INFORMATION.
    pub expected_identity: Option<Identity>,
}

/// Our phase-1 identity.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LocalIdentity {
    /// ID_IPV4_ADDR / ID_IPV6_ADDR of the local IKE address of each SA
    /// (IOS's default, `crypto isakmp identity address`).
    #[default]
    Address,
    /// A fixed identity (FQDN, USER_FQDN, KEY_ID, or a fixed address).
    Fixed(Identity),
}

/// ESP encryption transforms (RFC 2407 s.4.4.4, RFC 3602, RFC 4106).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EspEncryption {
    /// ESP_NULL (RFC 2410): no confidentiality.
    Null,
    /// ESP_DES (`esp-des`). Weak.
    DesCbc,
    /// ESP_3DES (`esp-3des`). Weak.
    TripleDesCbc,
    /// ESP_AES (`esp-aes N`), CBC with a 128, 192 or 256-bit key.
    AesCbc {
        /// Key length in bits.
        key_bits: u16,
    },
    /// ESP_AES-GCM_16 (`esp-gcm N`), RFC 4106: KEYMAT is the key followed
    /// by a 4-byte salt; no separate integrity transform.
    AesGcm16 {
        /// Key length in bits.
        key_bits: u16,
    },
}

impl EspEncryption {
    /// The ESP transform ID (RFC 2407 s.4.4.4, IANA).
    #[must_use]
    pub fn transform_id(self) -> u8 {
        match self {
            EspEncryption::Null => 11,
            EspEncryption::DesCbc => 2,
            EspEncryption::TripleDesCbc => 3,
            EspEncryption::AesCbc { .. } => 12,
            EspEncryption::AesGcm16 { .. } => 20,
        }
    }

    /// The Key Length attribute to send, if any.
    #[must_use]
    pub fn key_length_attribute(self) -> Option<u16> {
        match self {
            EspEncryption::AesCbc { key_bits } | EspEncryption::AesGcm16 { key_bits } => {
                Some(key_bits)
            }
            _ => None,
        }
    }

    /// Bytes of KEYMAT the cipher takes (GCM: key plus 4-byte salt).
    #[must_use]
    pub fn keymat_len(self) -> usize {
        match self {
            EspEncryption::Null => 0,
            EspEncryption::DesCbc => 8,
            EspEncryption::TripleDesCbc => 24,
            EspEncryption::AesCbc { key_bits } => usize::from(key_bits / 8),
            EspEncryption::AesGcm16 { key_bits } => usize::from(key_bits / 8).saturating_add(4),
        }
    }

    /// Whether this is an AEAD (needs no integrity transform).
    #[must_use]
    pub fn is_aead(self) -> bool {
        matches!(self, EspEncryption::AesGcm16 { .. })
    }

    /// Whether the project treats it as weak (DES, 3DES, NULL).
    #[must_use]
    pub fn is_weak(self) -> bool {
        matches!(
            self,
            EspEncryption::Null | EspEncryption::DesCbc | EspEncryption::TripleDesCbc
        )
    }

    /// The IOS transform-set keyword (`esp-des`, `esp-aes 256`, ...).
    #[must_use]
    pub fn ios_name(self) -> String {
        match self {
            EspEncryption::Null => "esp-null".into(),
            EspEncryption::DesCbc => "esp-des".into(),
            EspEncryption::TripleDesCbc => "esp-3des".into(),
            EspEncryption::AesCbc { key_bits: 128 } => "esp-aes".into(),
            EspEncryption::AesCbc { key_bits } => format!("esp-aes {key_bits}"),
            EspEncryption::AesGcm16 { key_bits } => format!("esp-gcm {key_bits}"),
        }
    }

    /// Decodes a transform ID and Key Length attribute.
    #[must_use]
    pub fn from_wire(transform_id: u8, key_length: Option<u16>) -> Option<Self> {
        let aes_bits = |k: Option<u16>| match k {
            // RFC 3602 s.5 requires the attribute for AES; 128 is what
            // strongSwan and IOS assume when it is missing.
            None => Some(128),
            Some(b @ (128 | 192 | 256)) => Some(b),
            Some(_) => None,
        };
        Some(match (transform_id, key_length) {
            (11, None) => EspEncryption::Null,
            (2, None) => EspEncryption::DesCbc,
            (3, None) => EspEncryption::TripleDesCbc,
            (12, k) => EspEncryption::AesCbc {
                key_bits: aes_bits(k)?,
            },
            (20, k) => EspEncryption::AesGcm16 {
                key_bits: aes_bits(k)?,
            },
            _ => return None,
        })
    }

    /// The ESP engine's transform for this cipher; `None` for an AES key
    /// length other than 128, 192 or 256 bits.
    #[must_use]
    pub fn to_esp(self) -> Option<esp::Encryption> {
        let size = |bits: u16| esp::AesKeySize::from_bits(u32::from(bits));
        Some(match self {
            EspEncryption::Null => esp::Encryption::Null,
            EspEncryption::DesCbc => esp::Encryption::DesCbc,
            EspEncryption::TripleDesCbc => esp::Encryption::TripleDesCbc,
            EspEncryption::AesCbc { key_bits } => esp::Encryption::AesCbc(size(key_bits)?),
            EspEncryption::AesGcm16 { key_bits } => esp::Encryption::AesGcm16(size(key_bits)?),
        })
    }
}

/// ESP integrity transforms (RFC 2407 s.4.5 "Authentication Algorithm").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EspIntegrity {
    /// None (only with an AEAD cipher).
    None,
    /// HMAC-MD5-96 (`esp-md5-hmac`). Weak.
    HmacMd5_96,
    /// HMAC-SHA1-96 (`esp-sha-hmac`).
    HmacSha1_96,
    /// HMAC-SHA2-256-128 (`esp-sha256-hmac`).
    HmacSha256_128,
    /// HMAC-SHA2-384-192 (`esp-sha384-hmac`).
    HmacSha384_192,
    /// HMAC-SHA2-512-256 (`esp-sha512-hmac`).
    HmacSha512_256,
}

impl EspIntegrity {
    /// The Authentication Algorithm attribute value, if any.
    #[must_use]
    pub fn attribute(self) -> Option<u16> {
        match self {
            EspIntegrity::None => None,
            EspIntegrity::HmacMd5_96 => Some(1),
            EspIntegrity::HmacSha1_96 => Some(2),
            EspIntegrity::HmacSha256_128 => Some(5),
            EspIntegrity::HmacSha384_192 => Some(6),
            EspIntegrity::HmacSha512_256 => Some(7),
        }
    }

    /// Decodes the attribute value.
    #[must_use]
    pub fn from_attribute(value: Option<u16>) -> Option<Self> {
        Some(match value {
            None => EspIntegrity::None,
            Some(1) => EspIntegrity::HmacMd5_96,
            Some(2) => EspIntegrity::HmacSha1_96,
            Some(5) => EspIntegrity::HmacSha256_128,
            Some(6) => EspIntegrity::HmacSha384_192,
            Some(7) => EspIntegrity::HmacSha512_256,
            Some(_) => return None,
        })
    }

    /// Bytes of KEYMAT the integrity key takes.
    #[must_use]
    pub fn keymat_len(self) -> usize {
        match self {
            EspIntegrity::None => 0,
            EspIntegrity::HmacMd5_96 => 16,
            EspIntegrity::HmacSha1_96 => 20,
            EspIntegrity::HmacSha256_128 => 32,
            EspIntegrity::HmacSha384_192 => 48,
            EspIntegrity::HmacSha512_256 => 64,
        }
    }

    /// Whether the project treats it as weak (MD5).
    #[must_use]
    pub fn is_weak(self) -> bool {
        matches!(self, EspIntegrity::HmacMd5_96)
    }

    /// The IOS transform-set keyword.
    #[must_use]
    pub fn ios_name(self) -> &'static str {
        match self {
            EspIntegrity::None => "",
            EspIntegrity::HmacMd5_96 => "esp-md5-hmac",
            EspIntegrity::HmacSha1_96 => "esp-sha-hmac",
            EspIntegrity::HmacSha256_128 => "esp-sha256-hmac",
            EspIntegrity::HmacSha384_192 => "esp-sha384-hmac",
            EspIntegrity::HmacSha512_256 => "esp-sha512-hmac",
        }
    }

    /// The ESP engine's integrity transform (the same algorithms).
    #[must_use]
    pub fn to_esp(self) -> esp::Integrity {
        match self {
            EspIntegrity::None => esp::Integrity::None,
            EspIntegrity::HmacMd5_96 => esp::Integrity::HmacMd5_96,
            EspIntegrity::HmacSha1_96 => esp::Integrity::HmacSha1_96,
            EspIntegrity::HmacSha256_128 => esp::Integrity::HmacSha256_128,
            EspIntegrity::HmacSha384_192 => esp::Integrity::HmacSha384_192,
            EspIntegrity::HmacSha512_256 => esp::Integrity::HmacSha512_256,
        }
    }
}

/// ESP encapsulation mode (RFC 2407 s.4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum EspMode {
    /// Tunnel mode (IOS's default).
    #[default]
    Tunnel,
    /// Transport mode.
    Transport,
}

impl EspMode {
    /// The Encapsulation Mode attribute value.
    #[must_use]
    pub fn attribute(self) -> u16 {
        match self {
            EspMode::Tunnel => 1,
            EspMode::Transport => 2,
        }
    }
}

/// A negotiated (or offered) ESP transform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct EspTransform {
    /// Encryption.
    pub encryption: EspEncryption,
    /// Integrity.
    pub integrity: EspIntegrity,
    /// Mode.
    pub mode: EspMode,
}

impl EspTransform {
    /// Whether it uses a weak algorithm.
    #[must_use]
    pub fn is_weak(&self) -> bool {
        self.encryption.is_weak() || self.integrity.is_weak()
    }

    /// IOS's rendering, e.g. `esp-des esp-md5-hmac`.
    #[must_use]
    pub fn ios_name(&self) -> String {
        let i = self.integrity.ios_name();
        if i.is_empty() {
            self.encryption.ios_name()
        } else {
            format!("{} {i}", self.encryption.ios_name())
        }
    }
}

/// `crypto ipsec transform-set NAME ...`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransformSet {
    /// The set's name.
    pub name: String,
    /// The transform.
    pub transform: EspTransform,
}

impl TransformSet {
    /// A set named `name`.
    #[must_use]
    pub fn new(
        name: &str,
        encryption: EspEncryption,
        integrity: EspIntegrity,
        mode: EspMode,
    ) -> Self {
        Self {
            name: name.to_owned(),
            transform: EspTransform {
                encryption,
                integrity,
                mode,
            },
        }
    }

    /// The seed's `ted-transforms`: `esp-des esp-md5-hmac`, tunnel mode.
    #[must_use]
    pub fn ios_seed() -> Self {
        Self::new(
            "ted-transforms",
            EspEncryption::DesCbc,
            EspIntegrity::HmacMd5_96,
            EspMode::Tunnel,
        )
    }

    /// A strong default: AES-256-CBC with HMAC-SHA2-256-128, tunnel mode.
    #[must_use]
    pub fn strong() -> Self {
        Self::new(
            "aes256-sha256",
            EspEncryption::AesCbc { key_bits: 256 },
            EspIntegrity::HmacSha256_128,
            EspMode::Tunnel,
        )
    }
}

/// What a responder accepts in Quick Mode (a crypto map entry seen from the
/// receiving side): proposals whose proxies fall inside these, with one of
/// these transform sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase2Policy {
    /// Peers this policy is for (`None`: any peer, as a dynamic map).
    pub peer: Option<(IpAddr, u8)>,
    /// Our side's traffic: the initiator's IDcr must lie inside.
    pub local_proxy: ProxyId,
    /// The peer's traffic: the initiator's IDci must lie inside.
    pub remote_proxy: ProxyId,
    /// Acceptable transform sets, in order of preference.
    pub transform_sets: Vec<TransformSet>,
    /// PFS group required (`None`: no PFS required; an offered non-weak
    /// group is still accepted, as IOS does).
    pub pfs: Option<DhGroup>,
    /// Our lifetimes. A longer offer is accepted and answered with
    /// RESPONDER-LIFETIME carrying these.
    pub lifetime: Lifetime,
}

/// A request to negotiate one pair of IPsec SAs (see
/// [`Endpoint::initiate`](crate::Endpoint::initiate)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Phase2Request {
    /// The IKE peer (address and port, normally 500).
    pub peer: core::net::SocketAddr,
    /// Our IKE address and port.
    pub local: core::net::SocketAddr,
    /// Our traffic (IDci).
    pub local_proxy: ProxyId,
    /// The peer's traffic (IDcr).
    pub remote_proxy: ProxyId,
    /// Transform sets to offer, one proposal each, in order.
    pub transform_sets: Vec<TransformSet>,
    /// PFS group (`set pfs groupN`), or none.
    pub pfs: Option<DhGroup>,
    /// Lifetimes to propose.
    pub lifetime: Lifetime,
}

/// When to retransmit a message that got no answer, and when to give up.
///
/// `delays[i]` is the time from the (re)transmission number `i` to the
/// next one; after `delays.len()` retransmissions the exchange waits
/// `final_wait` more, then gives up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetransmitSchedule {
    /// Delays between transmissions.
    pub delays: Vec<Duration>,
    /// Wait after the last retransmission before giving up.
    pub final_wait: Duration,
}

impl RetransmitSchedule {
    /// IOS 12.x: resend every 10 s, at most 5 times, then give up after
    /// another 10 s (IOS prints "retransmitting phase 1 ..." five times).
    #[must_use]
    pub fn ios() -> Self {
        Self {
            delays: vec![Duration::from_secs(10); 5],
            final_wait: Duration::from_secs(10),
        }
    }

    /// Exponential backoff: `initial`, doubling, `count` retransmissions.
    #[must_use]
    pub fn exponential(initial: Duration, count: usize) -> Self {
        let mut delays = Vec::with_capacity(count);
        let mut d = initial;
        for _ in 0..count {
            delays.push(d);
            d = d.saturating_mul(2);
        }
        Self {
            delays,
            final_wait: d,
        }
    }

    /// The delay after transmission number `sent` (0 = the original), or
    /// `None` when it is time to give up instead.
    #[must_use]
    pub fn delay(&self, sent: usize) -> Option<Duration> {
        self.delays.get(sent).copied()
    }
}

/// Soft-expiry (rekey) settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RekeyConfig {
    /// Rekey an ISAKMP SA this long before it expires (capped at half its
    /// lifetime).
    pub phase1_margin: Duration,
    /// Rekey an IPsec SA this long before it expires (capped at half its
    /// lifetime).
    pub phase2_margin: Duration,
    /// A random extra margin in `0..=fuzz` drawn per SA from the entropy
    /// source, so that two peers do not rekey at the same instant.
    pub fuzz: Duration,
    /// Soft kilobyte limit, in percent of the hard one.
    pub kilobyte_soft_percent: u8,
    /// Whether the responder of an SA also rekeys it (by default only the
    /// side that initiated it does, as IOS).
    pub responder_rekeys: bool,
}

impl Default for RekeyConfig {
    fn default() -> Self {
        Self {
            phase1_margin: Duration::from_secs(120),
            phase2_margin: Duration::from_secs(60),
            fuzz: Duration::from_secs(30),
            kilobyte_soft_percent: 90,
            responder_rekeys: false,
        }
    }
}

/// Resource caps (see [`crate::Endpoint`] on floods).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Half-open phase-1 SAs (not yet authenticated) per peer address.
    /// A remote-access SA whose user has not passed XAUTH yet counts as
    /// half-open.
    pub half_open_per_peer: usize,
    /// Half-open phase-1 SAs in total.
    pub half_open_total: usize,
    /// Established ISAKMP SAs per peer address. A peer that already has
    /// this many cannot start another phase 1 with us (its first message
    /// is dropped, [`LimitDrop::IsakmpSa`](crate::LimitDrop::IsakmpSa)),
    /// nor can we with it ([`CommandError::LimitReached`](crate::CommandError::LimitReached)),
    /// until one expires or is deleted. A phase-1 rekey needs one more
    /// than the SAs a peer keeps at once. Phase 1s already under way may
    /// still complete, so a peer holds at most this plus
    /// `half_open_per_peer`.
    pub established_per_peer: usize,
    /// Established ISAKMP SAs in total (the same rules as
    /// `established_per_peer`, for all peers together).
    pub established_total: usize,
    /// Quick Mode negotiations per ISAKMP SA: those in progress (either
    /// side's) plus our requests queued behind its phase 1. A peer's QM1
    /// beyond it is dropped ([`LimitDrop::Phase2`](crate::LimitDrop::Phase2));
    /// a request of ours, refused
    /// ([`CommandError::Phase2LimitReached`](crate::CommandError::Phase2LimitReached)).
    pub phase2_per_sa: usize,
    /// Completed Quick Mode nodes kept per ISAKMP SA to answer
    /// retransmissions.
    pub completed_nodes_per_sa: usize,
    /// How long a completed Quick Mode node is kept.
    pub completed_node_linger: Duration,
    /// A duplicate of a peer message is answered (by resending our reply)
    /// at most once per this interval.
    pub duplicate_answer_interval: Duration,
    /// How many times a responder resends its first reply (MM2, AM2) on
    /// its own timer. Until the initiator's next message arrives, nothing
    /// shows that the source of the first message is real: every resend
    /// is traffic anyone could have aimed at a spoofed address. IOS and
    /// strongSwan resend 5 times; the default is 1 (the initiator, which
    /// resends its first message, recovers a lost reply through the
    /// answer to that duplicate).
    pub first_reply_retransmits: usize,
    /// Datagrams waiting in [`poll_transmit`](crate::Endpoint::poll_transmit)
    /// (first messages, replies, retransmissions). A datagram beyond it is
    /// dropped and counted ([`Counters::transmits_dropped`](crate::Counters::transmits_dropped)),
    /// as if the link had lost it: the exchange's retransmission recovers.
    pub max_queued_transmits: usize,
    /// Events waiting in [`poll_event`](crate::Endpoint::poll_event) beyond
    /// which [`Event::InputDropped`](crate::Event::InputDropped) and
    /// [`Event::Trace`](crate::Event::Trace), the events anyone can cause by
    /// sending datagrams, are dropped and counted
    /// ([`Counters::events_dropped`](crate::Counters::events_dropped)).
    /// Events about SAs are always queued: the SA caps bound them.
    pub max_queued_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            half_open_per_peer: 16,
            half_open_total: 256,
            established_per_peer: 16,
            established_total: 4096,
            phase2_per_sa: 32,
            completed_nodes_per_sa: 16,
            completed_node_linger: Duration::from_secs(60),
            duplicate_answer_interval: Duration::from_secs(1),
            first_reply_retransmits: 1,
            max_queued_transmits: 4096,
            max_queued_events: 4096,
        }
    }
}

/// Dead Peer Detection (RFC 3706), used with peers that sent the DPD
/// vendor ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DpdConfig {
    /// Send R-U-THERE after this long without hearing from the peer.
    pub interval: Duration,
    /// Wait between unanswered R-U-THEREs.
    pub retry_interval: Duration,
    /// Unanswered R-U-THEREs before the peer is declared dead.
    pub retries: u32,
}

impl Default for DpdConfig {
    /// IOS `crypto isakmp keepalive 10 2` with its 5 retries.
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            retry_interval: Duration::from_secs(2),
            retries: 5,
        }
    }
}

/// Which vendor IDs we send in phase 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VendorIds {
    /// The Cisco IOS vendor ID (in MM3/MM4, as IOS; in AM1/AM2).
    pub cisco_ios: bool,
    /// The RFC 3706 DPD vendor ID (in MM1/MM2, AM1/AM2).
    pub dpd: bool,
    /// The Cisco Unity vendor ID (in MM1/MM2, AM1/AM2): we speak the
    /// Unity Mode-Config attributes (split include, banner, ...), as
    /// Cisco concentrators and clients announce. (The XAUTH vendor ID
    /// goes out whenever a policy uses XAUTH.)
    pub cisco_unity: bool,
}

impl Default for VendorIds {
    fn default() -> Self {
        Self {
            cisco_ios: true,
            dpd: true,
            cisco_unity: false,
        }
    }
}

/// Whether NAT traversal (RFC 3947) is negotiated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NatTMode {
    /// No NAT-T vendor IDs, no NAT-D: a peer behind a NAT cannot reach
    /// us through it (IOS `no crypto ipsec nat-transparency udp-encapsulation`,
    /// strongSwan `encap=no` is the closest: strongSwan still detects).
    Disabled,
    /// NAT-T is announced and, when the peer announces it too, NAT-D tells
    /// whether either side is behind a NAT; only then IKE floats to the
    /// NAT-T port and ESP is UDP-encapsulated (the default, as on IOS,
    /// strongSwan and libreswan).
    #[default]
    Enabled,
    /// As `Enabled`, and our NAT-D claims a NAT in front of us even where
    /// there is none, so that IKE floats and ESP is UDP-encapsulated
    /// whenever the peer speaks NAT-T (strongSwan's `encap=yes`; for paths
    /// that pass UDP but drop ESP).
    Forced,
}

/// NAT traversal settings (RFC 3947 for IKE, RFC 3948 for ESP).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatTConfig {
    /// Whether NAT-T is negotiated (see [`NatTMode`]).
    pub mode: NatTMode,
    /// The port IKE floats to and UDP-encapsulated ESP uses, ours and the
    /// peer's (RFC 3947 s.4: 4500). A datagram received on this local port
    /// is expected to carry the non-ESP marker, and every datagram sent
    /// from it carries one.
    pub port: u16,
    /// How often the side behind a NAT sends a NAT keepalive on each
    /// floated ISAKMP SA (RFC 3948 s.2.3; IOS `crypto isakmp nat
    /// keepalive`, strongSwan `keep_alive`: 20 s). `None`: never.
    pub keepalive: Option<Duration>,
    /// Whether MM1/AM1 also announce the draft versions -02, -02 with a
    /// newline, and -03 next to RFC 3947 (as strongSwan does, for IOS 12.2
    /// and other peers that predate the RFC). Received draft vendor IDs are
    /// accepted either way; RFC 3947 is preferred when both sides have it.
    pub draft_vendor_ids: bool,
}

impl NatTConfig {
    /// The RFC 3948 keepalive interval strongSwan and IOS use.
    pub const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(20);
}

impl Default for NatTConfig {
    fn default() -> Self {
        Self {
            mode: NatTMode::Enabled,
            port: isakmp_wire::nat_t::NAT_T_PORT,
            keepalive: Some(Self::DEFAULT_KEEPALIVE),
            draft_vendor_ids: true,
        }
    }
}

/// IKEv1 fragmentation (see [`crate::fragment`]): whether we announce and
/// take it, when our messages are cut, and the reassembly bounds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FragmentationConfig {
    /// Announce support with the fragmentation vendor ID in MM1/MM2 and
    /// AM1/AM2, and reassemble received fragments. Off, fragments are
    /// dropped and counted, and nothing we send is cut.
    pub enabled: bool,
    /// The largest IP packet an IKE message of ours may make (IP and UDP
    /// headers and, on the NAT-T port, the non-ESP marker included), as
    /// strongSwan's `fragment_size`: a Main or Aggressive Mode message
    /// that would be larger, to a peer that announced fragmentation, is
    /// sent as fragments of at most this size. strongSwan's default is
    /// 1280, the IPv6 minimum MTU.
    pub fragment_size: usize,
    /// What reassembly may hold (see [`crate::fragment::FragmentLimits`]).
    pub limits: crate::fragment::FragmentLimits,
}

impl FragmentationConfig {
    /// strongSwan's default fragment size, the IPv6 minimum MTU.
    pub const DEFAULT_FRAGMENT_SIZE: usize = 1280;

    /// The longest ISAKMP message (or fragment message) that keeps the IP
    /// packet within [`fragment_size`](Self::fragment_size) toward
    /// `remote` from local port `local_port` (`nat_t_port`: with the
    /// 4-byte non-ESP marker).
    #[must_use]
    pub fn max_message_len(&self, remote: IpAddr, local_port: u16, nat_t_port: u16) -> usize {
        let ip = if remote.is_ipv4() { 20 } else { 40 };
        let marker = if local_port == nat_t_port { 4 } else { 0 };
        self.fragment_size.saturating_sub(ip + 8 + marker)
    }
}

impl Default for FragmentationConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            fragment_size: Self::DEFAULT_FRAGMENT_SIZE,
            limits: crate::fragment::FragmentLimits::default(),
        }
    }
}

/// The configuration of an [`Endpoint`](crate::Endpoint).
#[derive(Clone, Debug)]
pub struct Config {
    /// Our phase-1 identity.
    pub identity: LocalIdentity,
    /// Protocol and port sent in phase-1 ID payloads (IOS: 17, 500).
    pub identity_protocol_port: (u8, u16),
    /// ISAKMP policies (any order; sorted by priority when used).
    pub policies: Vec<IsakmpPolicy>,
    /// Pre-shared keys.
    pub pre_shared_keys: Vec<PskEntry>,
    /// Per-peer settings.
    pub peers: Vec<PeerConfig>,
    /// Phase-1 mode for peers without a [`PeerConfig`].
    pub default_mode: ExchangeMode,
    /// What we accept as Quick Mode responder.
    pub phase2_policies: Vec<Phase2Policy>,
    /// Retransmission schedule.
    pub retransmit: RetransmitSchedule,
    /// Rekey settings.
    pub rekey: RekeyConfig,
    /// Resource caps.
    pub limits: Limits,
    /// DPD, if we do it (we always answer R-U-THERE).
    pub dpd: Option<DpdConfig>,
    /// Vendor IDs we send.
    pub vendor_ids: VendorIds,
    /// NAT traversal.
    pub nat_t: NatTConfig,
    /// IKEv1 fragmentation (announced and taken by default).
    pub fragmentation: FragmentationConfig,
    /// Certificates, for [`Phase1Auth::Signature`] policies.
    pub pki: PkiConfig,
    /// Which Aggressive Mode first messages we answer (none by default).
    pub aggressive_mode: AggressiveModePolicy,
    /// XAUTH and Mode-Config (see [`crate::remote_access`]).
    pub remote_access: RemoteAccessConfig,
    /// Send INITIAL-CONTACT in MM5/AM3 when we have no other SA with the
    /// peer.
    pub send_initial_contact: bool,
    /// Nonce length in bytes (8..=256, RFC 2409 s.5).
    pub nonce_len: usize,
    /// Padding of encrypted messages (see [`Padding`]).
    pub padding: Padding,
    /// Emit [`Event::Trace`](crate::Event::Trace) events.
    pub trace: bool,
}

impl Default for Config {
    /// Strong defaults: one policy (AES-256, SHA2-256, PSK, MODP-2048,
    /// 86400 s), no keys, Main Mode, the IOS retransmission schedule.
    fn default() -> Self {
        Self {
            identity: LocalIdentity::Address,
            identity_protocol_port: (17, 500),
            policies: vec![IsakmpPolicy::new(10)],
            pre_shared_keys: Vec::new(),
            peers: Vec::new(),
            default_mode: ExchangeMode::Main,
            phase2_policies: Vec::new(),
            retransmit: RetransmitSchedule::ios(),
            rekey: RekeyConfig::default(),
            limits: Limits::default(),
            dpd: None,
            vendor_ids: VendorIds::default(),
            nat_t: NatTConfig::default(),
            fragmentation: FragmentationConfig::default(),
            pki: PkiConfig {
                send_certificate_requests: true,
                ..PkiConfig::default()
            },
            aggressive_mode: AggressiveModePolicy::default(),
            remote_access: RemoteAccessConfig::default(),
            send_initial_contact: true,
            nonce_len: 32,
            padding: Padding::Zeros,
            trace: false,
        }
    }
}

impl Config {
    /// IOS 12.2 as in the seed: `crypto isakmp policy 10` /
    /// `authentication pre-share` (DES, SHA, group 1, 86400 s), 20-byte
    /// nonces, Aggressive Mode answered (no `crypto isakmp aggressive-mode
    /// disable`).
    #[must_use]
    pub fn ios_defaults() -> Self {
        Self {
            policies: vec![IsakmpPolicy::ios_default(10)],
            nonce_len: 20,
            aggressive_mode: AggressiveModePolicy::ANSWER_ALL,
            // IOS 12.2 neither announces nor takes IKE fragments.
            fragmentation: FragmentationConfig {
                enabled: false,
                ..FragmentationConfig::default()
            },
            ..Self::default()
        }
    }

    /// Adds `crypto isakmp key KEY address ADDR MASK` (as a prefix).
    #[must_use]
    pub fn with_psk_for_address(mut self, key: &[u8], addr: IpAddr, prefix: u8) -> Self {
        self.pre_shared_keys.push(PskEntry {
            scope: PskScope::Address { addr, prefix },
            key: PreSharedKey::new(key),
        });
        self
    }

    /// Adds a key for a peer presenting `identity`.
    #[must_use]
    pub fn with_psk_for_identity(mut self, key: &[u8], identity: Identity) -> Self {
        self.pre_shared_keys.push(PskEntry {
            scope: PskScope::Identity(identity),
            key: PreSharedKey::new(key),
        });
        self
    }

    /// The policies sorted by priority.
    ///
    /// A signature policy is left out when we have no credentials to sign
    /// with: it is neither offered nor accepted.
    pub(crate) fn sorted_policies(&self) -> Vec<IsakmpPolicy> {
        let mut p = self.policies.clone();
        p.retain(|p| p.auth.signature().is_none() || self.pki.credentials.is_some());
        p.sort_by_key(|p| p.priority);
        p
    }

    /// The key for a peer address: the most specific address entry.
    pub(crate) fn psk_for_address(&self, peer: IpAddr) -> Option<(&PreSharedKey, IpAddr, u8)> {
        self.pre_shared_keys
            .iter()
            .filter_map(|e| match &e.scope {
                PskScope::Address { addr, prefix } if prefix_contains(*addr, *prefix, peer) => {
                    Some((&e.key, *addr, *prefix))
                }
                _ => None,
            })
            .max_by_key(|(_, _, p)| *p)
    }

    /// The key for a peer identity; an address identity also matches
    /// address entries.
    pub(crate) fn psk_for_identity(&self, id: &Identity) -> Option<&PreSharedKey> {
        self.pre_shared_keys
            .iter()
            .find_map(|e| match &e.scope {
                PskScope::Identity(i) if i == id => Some(&e.key),
                _ => None,
            })
            .or_else(|| match id {
                Identity::Address(a) => self.psk_for_address(*a).map(|(k, _, _)| k),
                _ => None,
            })
    }

    /// The most specific peer entry for an address.
    pub(crate) fn peer(&self, peer: IpAddr) -> Option<&PeerConfig> {
        self.peers
            .iter()
            .filter(|p| prefix_contains(p.addr, p.prefix, peer))
            .max_by_key(|p| p.prefix)
    }
}

/// Whether `addr` lies inside `net/prefix` (same family).
pub(crate) fn prefix_contains(net: IpAddr, prefix: u8, addr: IpAddr) -> bool {
    let a = ProxyId::subnet(net, prefix);
    a.contains_addr(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psk_most_specific_wins() {
        let c = Config::ios_defaults()
            .with_psk_for_address(b"wild", "0.0.0.0".parse().unwrap(), 0)
            .with_psk_for_address(b"net", "11.11.11.0".parse().unwrap(), 24)
            .with_psk_for_address(b"host", "11.11.11.2".parse().unwrap(), 32)
            .with_psk_for_identity(b"fqdn", Identity::Fqdn("fred".into()));
        let k = |a: &str| {
            c.psk_for_address(a.parse().unwrap())
                .map(|(k, _, _)| k.expose().to_vec())
        };
        assert_eq!(k("11.11.11.2"), Some(b"host".to_vec()));
        assert_eq!(k("11.11.11.3"), Some(b"net".to_vec()));
        assert_eq!(k("9.9.9.9"), Some(b"wild".to_vec()));
        assert_eq!(k("::1"), None);
        assert_eq!(
            c.psk_for_identity(&Identity::Fqdn("fred".into()))
                .map(|k| k.expose().to_vec()),
            Some(b"fqdn".to_vec())
        );
        assert_eq!(
            c.psk_for_identity(&Identity::Address("11.11.11.9".parse().unwrap()))
                .map(|k| k.expose().to_vec()),
            Some(b"net".to_vec())
        );
        assert!(c.psk_for_identity(&Identity::Fqdn("x".into())).is_none());
        assert!(!format!("{c:?}").contains("wild"));
    }

    #[test]
    fn defaults_are_strong_and_ios_is_explicit() {
        let d = Config::default();
        assert!(d.policies.iter().all(|p| !p.is_weak()));
        let ios = Config::ios_defaults();
        let p = ios.policies[0];
        assert_eq!(p.encryption, EncryptionAlgorithm::DesCbc);
        assert_eq!(p.hash, HashAlgorithm::Sha1);
        assert_eq!(p.group, DhGroup::Modp768);
        assert_eq!(p.lifetime, 86_400);
        assert!(p.is_weak());
    }

    #[test]
    fn esp_wire_mapping() {
        for e in [
            EspEncryption::Null,
            EspEncryption::DesCbc,
            EspEncryption::TripleDesCbc,
            EspEncryption::AesCbc { key_bits: 128 },
            EspEncryption::AesCbc { key_bits: 256 },
            EspEncryption::AesGcm16 { key_bits: 192 },
        ] {
            assert_eq!(
                EspEncryption::from_wire(e.transform_id(), e.key_length_attribute()),
                Some(e)
            );
        }
        assert_eq!(EspEncryption::from_wire(12, Some(100)), None);
        assert_eq!(EspEncryption::from_wire(2, Some(64)), None);
        assert_eq!(EspEncryption::AesGcm16 { key_bits: 128 }.keymat_len(), 20);
        assert_eq!(
            TransformSet::ios_seed().transform.ios_name(),
            "esp-des esp-md5-hmac"
        );
        let sched = RetransmitSchedule::exponential(Duration::from_secs(1), 3);
        assert_eq!(sched.delay(2), Some(Duration::from_secs(4)));
        assert_eq!(sched.delay(3), None);
    }
}
