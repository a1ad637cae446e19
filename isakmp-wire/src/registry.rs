//! Codepoint registries: open newtypes with named constants.
//!
//! Every registry is a newtype over the wire integer with a public field, so
//! any value, registered or not, round-trips losslessly. The named constants
//! come from the RFC that defines them (cited on each type) and from the IANA
//! "Internet Key Exchange (IKE) Attributes" and "ISAKMP" registries.
//!
//! `Display` prints the registered mnemonic, one style for every registry:
//! the RFC's own upper-case identifier where the RFC gives one (`ID_PROT`,
//! `ESP_DES`, `ID_IPV4_ADDR`, `INITIAL-CONTACT`), otherwise an upper-case
//! identifier built the same way (`AES_CBC`, `MODP_1024`); an unregistered
//! value prints as its decimal number. `Debug` prints `Type(NAME)` for a
//! registered value and `Type(0x..)` in hexadecimal otherwise.

use core::fmt;

macro_rules! registry {
    (
        $(#[$meta:meta])*
        pub struct $name:ident($repr:ty);
        $(
            $(#[$cmeta:meta])*
            $const:ident = $value:literal => $display:literal;
        )*
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        #[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
        pub struct $name(pub $repr);

        impl $name {
            $(
                $(#[$cmeta])*
                pub const $const: Self = Self($value);
            )*

            /// The registered mnemonic of this value, or `None` if it is not
            /// one this crate knows.
            #[must_use]
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $value => Some($display), )*
                    _ => None,
                }
            }

            /// Whether this value is one of the named constants.
            #[must_use]
            pub const fn is_known(self) -> bool {
                self.name().is_some()
            }
        }

        impl From<$repr> for $name {
            fn from(value: $repr) -> Self {
                Self(value)
            }
        }

        impl From<$name> for $repr {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, "{}", self.0),
                }
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => write!(f, concat!(stringify!($name), "({})"), name),
                    None => write!(f, concat!(stringify!($name), "({:#x})"), self.0),
                }
            }
        }
    };
}

/// The registry macro, for the other modules that define registries.
pub(crate) use registry;

registry! {
    /// ISAKMP exchange type (RFC 2408 s.3.1, s.4; RFC 2409 s.5.5, s.6;
    /// draft-ietf-ipsec-isakmp-mode-cfg for TRANSACTION).
    ///
    /// RFC 2408 divides the space: 0-5 defined by ISAKMP, 6-31 reserved for
    /// future ISAKMP use, 32-239 DOI-specific, 240-255 private use (see
    /// [`ExchangeType::range`]).
    pub struct ExchangeType(u8);
    /// No exchange (RFC 2408 s.3.1).
    NONE = 0 => "NONE";
    /// Base exchange (RFC 2408 s.4.4).
    BASE = 1 => "BASE";
    /// Identity Protection, i.e. IKE Main Mode (RFC 2408 s.4.5, RFC 2409 s.5).
    IDENTITY_PROTECTION = 2 => "ID_PROT";
    /// Authentication Only (RFC 2408 s.4.6).
    AUTHENTICATION_ONLY = 3 => "AUTH_ONLY";
    /// Aggressive, i.e. IKE Aggressive Mode (RFC 2408 s.4.7, RFC 2409 s.5).
    AGGRESSIVE = 4 => "AGGRESSIVE";
    /// Informational (RFC 2408 s.4.8).
    INFORMATIONAL = 5 => "INFORMATIONAL";
    /// Transaction, used by Mode Config and XAUTH
    /// (draft-ietf-ipsec-isakmp-mode-cfg-05 s.3).
    TRANSACTION = 6 => "TRANSACTION";
    /// IKE Quick Mode (RFC 2409 s.5.5).
    QUICK_MODE = 32 => "QUICK_MODE";
    /// IKE New Group Mode (RFC 2409 s.6).
    NEW_GROUP_MODE = 33 => "NEW_GROUP_MODE";
    /// Cisco Tunnel Endpoint Discovery, as this project assumes it
    /// (`docs/ted-wire.md`, "ISAKMP header", tag \[A\]: a private-use value, not confirmed against
    /// a real IOS capture). See [`crate::ted::TED_EXCHANGE_TYPE`].
    TED = 240 => "TED";
}

/// The RFC 2408 s.3.1 range an exchange type value falls in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExchangeRange {
    /// 0-5: defined by ISAKMP itself.
    Isakmp,
    /// 6-31: reserved for future ISAKMP use.
    IsakmpFuture,
    /// 32-239: defined by the Domain of Interpretation.
    DoiSpecific,
    /// 240-255: private use.
    PrivateUse,
}

impl ExchangeType {
    /// Which RFC 2408 s.3.1 range this value falls in.
    #[must_use]
    pub const fn range(self) -> ExchangeRange {
        match self.0 {
            0..=5 => ExchangeRange::Isakmp,
            6..=31 => ExchangeRange::IsakmpFuture,
            32..=239 => ExchangeRange::DoiSpecific,
            _ => ExchangeRange::PrivateUse,
        }
    }
}

registry! {
    /// ISAKMP payload type (RFC 2408 s.3.1, RFC 3947 s.3 and s.5,
    /// draft-ietf-ipsec-nat-t-ike-02/03 for the private NAT-T numbers,
    /// RFC 6407 for the GDOI numbers 15-19).
    pub struct PayloadType(u8);
    /// End of the payload chain.
    NONE = 0 => "NONE";
    /// Security Association (RFC 2408 s.3.4).
    SA = 1 => "SA";
    /// Proposal (RFC 2408 s.3.5); only inside an SA payload.
    PROPOSAL = 2 => "P";
    /// Transform (RFC 2408 s.3.6); only inside a Proposal payload.
    TRANSFORM = 3 => "T";
    /// Key Exchange (RFC 2408 s.3.7).
    KEY_EXCHANGE = 4 => "KE";
    /// Identification (RFC 2408 s.3.8, RFC 2407 s.4.6.2).
    IDENTIFICATION = 5 => "ID";
    /// Certificate (RFC 2408 s.3.9).
    CERTIFICATE = 6 => "CERT";
    /// Certificate Request (RFC 2408 s.3.10).
    CERTIFICATE_REQUEST = 7 => "CR";
    /// Hash (RFC 2408 s.3.11).
    HASH = 8 => "HASH";
    /// Signature (RFC 2408 s.3.12).
    SIGNATURE = 9 => "SIG";
    /// Nonce (RFC 2408 s.3.13).
    NONCE = 10 => "NONCE";
    /// Notification (RFC 2408 s.3.14).
    NOTIFICATION = 11 => "N";
    /// Delete (RFC 2408 s.3.15).
    DELETE = 12 => "D";
    /// Vendor ID (RFC 2408 s.3.16).
    VENDOR_ID = 13 => "VID";
    /// Attribute payload of Mode Config / XAUTH
    /// (draft-ietf-ipsec-isakmp-mode-cfg-05 s.3.2); kept opaque.
    ATTRIBUTE = 14 => "ATTR";
    /// GDOI SA KEK (RFC 6407); kept opaque. In a TED message, 16 is the
    /// TED proxy payload instead (see [`PayloadType::TED_PROXY`]).
    GDOI_SAK = 15 => "SAK";
    /// GDOI SA TEK (RFC 6407); kept opaque outside a TED message.
    GDOI_SAT = 16 => "SAT";
    /// GDOI Key Download (RFC 6407); kept opaque.
    GDOI_KD = 17 => "KD";
    /// GDOI Sequence Number (RFC 6407); kept opaque.
    GDOI_SEQ = 18 => "SEQ";
    /// GDOI Proof of Possession (RFC 6407); kept opaque.
    GDOI_POP = 19 => "POP";
    /// NAT Discovery (RFC 3947 s.3.2).
    NAT_D = 20 => "NAT-D";
    /// NAT Original Address (RFC 3947 s.5.2).
    NAT_OA = 21 => "NAT-OA";
    /// NAT Discovery, private number of draft-ietf-ipsec-nat-t-ike-02/03.
    NAT_D_DRAFT = 130 => "NAT-D-DRAFT";
    /// NAT Original Address, private number of draft-ietf-ipsec-nat-t-ike-02/03.
    NAT_OA_DRAFT = 131 => "NAT-OA-DRAFT";
    /// IKEv1 fragmentation payload of Cisco, Microsoft, strongSwan and
    /// libreswan (private use; see [`crate::fragment`]).
    FRAGMENT = 132 => "FRAG";
    /// The TED proxy payload number the seed's responder printed (docs/ted-wire.md,
    /// \[T\]); accepted in a TED message, sent as 16.
    TED_PROXY_ALT = 239 => "TED-PROXY-ALT";
}

impl PayloadType {
    /// The TED proxy payload type this project sends in a TED response
    /// (docs/ted-wire.md, "Proxy payload", \[A\]); the same number as GDOI's SAT outside TED.
    pub const TED_PROXY: Self = Self(16);
}

registry! {
    /// Domain of Interpretation (RFC 2408 s.3.4, RFC 2407 s.4.2, RFC 6407).
    pub struct Doi(u32);
    /// The generic ISAKMP DOI (RFC 2408 s.2.1).
    ISAKMP = 0 => "ISAKMP";
    /// The Internet IP Security DOI (RFC 2407).
    IPSEC = 1 => "IPSEC";
    /// Group Domain of Interpretation (RFC 6407).
    GDOI = 2 => "GDOI";
}

registry! {
    /// Security protocol identifier (RFC 2407 s.4.4.1).
    pub struct ProtocolId(u8);
    /// Reserved.
    RESERVED = 0 => "RESERVED";
    /// ISAKMP itself (phase 1).
    ISAKMP = 1 => "PROTO_ISAKMP";
    /// IPsec Authentication Header.
    AH = 2 => "PROTO_IPSEC_AH";
    /// IPsec Encapsulating Security Payload.
    ESP = 3 => "PROTO_IPSEC_ESP";
    /// IP Payload Compression (RFC 2393).
    IPCOMP = 4 => "PROTO_IPCOMP";
}

/// A transform identifier as carried on the wire (RFC 2408 s.3.6).
///
/// Its meaning depends on the protocol of the enclosing proposal: see
/// [`TransformId::name_for`] and the per-protocol registries
/// [`IsakmpTransformId`], [`EspTransformId`], [`AhTransformId`],
/// [`IpcompTransformId`].
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct TransformId(pub u8);

impl TransformId {
    /// The registered mnemonic of this transform for the given protocol.
    #[must_use]
    pub const fn name_for(self, protocol: ProtocolId) -> Option<&'static str> {
        match protocol.0 {
            1 => IsakmpTransformId(self.0).name(),
            2 => AhTransformId(self.0).name(),
            3 => EspTransformId(self.0).name(),
            4 => IpcompTransformId(self.0).name(),
            _ => None,
        }
    }
}

impl fmt::Debug for TransformId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransformId({:#x})", self.0)
    }
}

impl fmt::Display for TransformId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

macro_rules! transform_conv {
    ($($t:ident),*) => {$(
        impl From<$t> for TransformId {
            fn from(value: $t) -> Self {
                Self(value.0)
            }
        }
        impl From<TransformId> for $t {
            fn from(value: TransformId) -> Self {
                Self(value.0)
            }
        }
    )*};
}
transform_conv!(
    IsakmpTransformId,
    EspTransformId,
    AhTransformId,
    IpcompTransformId
);

registry! {
    /// ISAKMP transform identifiers (RFC 2407 s.4.4.2).
    pub struct IsakmpTransformId(u8);
    /// The IKE key exchange (RFC 2409).
    KEY_IKE = 1 => "KEY_IKE";
}

registry! {
    /// ESP transform identifiers (RFC 2407 s.4.4.4 and the IANA "IPsec ESP
    /// Transform Identifiers" registry).
    pub struct EspTransformId(u8);
    /// DES-CBC with a 64-bit IV (RFC 1827).
    DES_IV64 = 1 => "ESP_DES_IV64";
    /// DES-CBC (RFC 2405).
    DES = 2 => "ESP_DES";
    /// Triple DES-CBC (RFC 2451).
    TRIPLE_DES = 3 => "ESP_3DES";
    /// RC5 (RFC 2451).
    RC5 = 4 => "ESP_RC5";
    /// IDEA (RFC 2451).
    IDEA = 5 => "ESP_IDEA";
    /// CAST-128 (RFC 2451).
    CAST = 6 => "ESP_CAST";
    /// Blowfish (RFC 2451).
    BLOWFISH = 7 => "ESP_BLOWFISH";
    /// Triple IDEA.
    TRIPLE_IDEA = 8 => "ESP_3IDEA";
    /// DES-CBC with a 32-bit IV.
    DES_IV32 = 9 => "ESP_DES_IV32";
    /// RC4.
    RC4 = 10 => "ESP_RC4";
    /// No encryption (RFC 2410).
    NULL = 11 => "ESP_NULL";
    /// AES-CBC (RFC 3602).
    AES_CBC = 12 => "ESP_AES";
    /// AES-CTR (RFC 3686).
    AES_CTR = 13 => "ESP_AES-CTR";
    /// AES-CCM, 8-octet ICV (RFC 4309).
    AES_CCM_8 = 14 => "ESP_AES-CCM_8";
    /// AES-CCM, 12-octet ICV (RFC 4309).
    AES_CCM_12 = 15 => "ESP_AES-CCM_12";
    /// AES-CCM, 16-octet ICV (RFC 4309).
    AES_CCM_16 = 16 => "ESP_AES-CCM_16";
    /// AES-GCM, 8-octet ICV (RFC 4106).
    AES_GCM_8 = 18 => "ESP_AES-GCM_8";
    /// AES-GCM, 12-octet ICV (RFC 4106).
    AES_GCM_12 = 19 => "ESP_AES-GCM_12";
    /// AES-GCM, 16-octet ICV (RFC 4106).
    AES_GCM_16 = 20 => "ESP_AES-GCM_16";
    /// SEED-CBC (RFC 4196).
    SEED_CBC = 21 => "ESP_SEED_CBC";
    /// Camellia-CBC (RFC 4312).
    CAMELLIA = 22 => "ESP_CAMELLIA";
    /// NULL encryption with AES-GMAC (RFC 4543).
    NULL_AUTH_AES_GMAC = 23 => "ESP_NULL_AUTH_AES-GMAC";
}

registry! {
    /// AH transform identifiers (RFC 2407 s.4.4.3 and the IANA "IPsec AH
    /// Transform Identifiers" registry).
    pub struct AhTransformId(u8);
    /// HMAC-MD5 (RFC 2403).
    MD5 = 2 => "AH_MD5";
    /// HMAC-SHA-1 (RFC 2404).
    SHA = 3 => "AH_SHA";
    /// DES-MAC.
    DES = 4 => "AH_DES";
    /// HMAC-SHA2-256 (RFC 4868).
    SHA2_256 = 5 => "AH_SHA2-256";
    /// HMAC-SHA2-384 (RFC 4868).
    SHA2_384 = 6 => "AH_SHA2-384";
    /// HMAC-SHA2-512 (RFC 4868).
    SHA2_512 = 7 => "AH_SHA2-512";
    /// HMAC-RIPEMD-160 (RFC 2857).
    RIPEMD = 8 => "AH_RIPEMD";
    /// AES-XCBC-MAC-96 (RFC 3566).
    AES_XCBC_MAC = 9 => "AH_AES-XCBC-MAC";
    /// RSA digital signature (RFC 4359).
    RSA = 10 => "AH_RSA";
    /// AES-128-GMAC (RFC 4543).
    AES_128_GMAC = 11 => "AH_AES-128-GMAC";
    /// AES-192-GMAC (RFC 4543).
    AES_192_GMAC = 12 => "AH_AES-192-GMAC";
    /// AES-256-GMAC (RFC 4543).
    AES_256_GMAC = 13 => "AH_AES-256-GMAC";
}

registry! {
    /// IPCOMP transform identifiers (RFC 2407 s.4.4.5).
    pub struct IpcompTransformId(u8);
    /// Proprietary, identified by an OUI.
    OUI = 1 => "IPCOMP_OUI";
    /// DEFLATE (RFC 2394).
    DEFLATE = 2 => "IPCOMP_DEFLATE";
    /// LZS (RFC 2395).
    LZS = 3 => "IPCOMP_LZS";
    /// LZJH (RFC 3051).
    LZJH = 4 => "IPCOMP_LZJH";
}

registry! {
    /// Phase-1 (IKE) data attribute classes (RFC 2409 Appendix A).
    ///
    /// `B` marks a basic (TV-only) class, `V` a variable one.
    pub struct Phase1AttributeType(u16);
    /// Encryption algorithm (B).
    ENCRYPTION_ALGORITHM = 1 => "ENCRYPTION_ALGORITHM";
    /// Hash algorithm (B).
    HASH_ALGORITHM = 2 => "HASH_ALGORITHM";
    /// Authentication method (B).
    AUTHENTICATION_METHOD = 3 => "AUTHENTICATION_METHOD";
    /// Group description (B).
    GROUP_DESCRIPTION = 4 => "GROUP_DESCRIPTION";
    /// Group type (B).
    GROUP_TYPE = 5 => "GROUP_TYPE";
    /// Group prime / irreducible polynomial (V).
    GROUP_PRIME = 6 => "GROUP_PRIME";
    /// Group generator one (V).
    GROUP_GENERATOR_ONE = 7 => "GROUP_GENERATOR_ONE";
    /// Group generator two (V).
    GROUP_GENERATOR_TWO = 8 => "GROUP_GENERATOR_TWO";
    /// Group curve A (V).
    GROUP_CURVE_A = 9 => "GROUP_CURVE_A";
    /// Group curve B (V).
    GROUP_CURVE_B = 10 => "GROUP_CURVE_B";
    /// Life type (B).
    LIFE_TYPE = 11 => "LIFE_TYPE";
    /// Life duration (V).
    LIFE_DURATION = 12 => "LIFE_DURATION";
    /// PRF (B).
    PRF = 13 => "PRF";
    /// Key length (B).
    KEY_LENGTH = 14 => "KEY_LENGTH";
    /// Field size (B).
    FIELD_SIZE = 15 => "FIELD_SIZE";
    /// Group order (V).
    GROUP_ORDER = 16 => "GROUP_ORDER";
}

registry! {
    /// Phase-1 encryption algorithm values (RFC 2409 Appendix A, RFC 3602,
    /// RFC 4312).
    pub struct EncryptionAlgorithm(u16);
    /// DES-CBC (weak: only when a policy names it).
    DES_CBC = 1 => "DES_CBC";
    /// IDEA-CBC.
    IDEA_CBC = 2 => "IDEA_CBC";
    /// Blowfish-CBC.
    BLOWFISH_CBC = 3 => "BLOWFISH_CBC";
    /// RC5-R16-B64-CBC.
    RC5_R16_B64_CBC = 4 => "RC5_R16_B64_CBC";
    /// 3DES-CBC.
    TRIPLE_DES_CBC = 5 => "3DES_CBC";
    /// CAST-CBC.
    CAST_CBC = 6 => "CAST_CBC";
    /// AES-CBC (RFC 3602).
    AES_CBC = 7 => "AES_CBC";
    /// Camellia-CBC (RFC 4312).
    CAMELLIA_CBC = 8 => "CAMELLIA_CBC";
}

registry! {
    /// Phase-1 hash algorithm values (RFC 2409 Appendix A, RFC 4868).
    pub struct HashAlgorithm(u16);
    /// MD5 (weak).
    MD5 = 1 => "MD5";
    /// SHA-1.
    SHA = 2 => "SHA";
    /// Tiger.
    TIGER = 3 => "TIGER";
    /// SHA2-256.
    SHA2_256 = 4 => "SHA2_256";
    /// SHA2-384.
    SHA2_384 = 5 => "SHA2_384";
    /// SHA2-512.
    SHA2_512 = 6 => "SHA2_512";
}

registry! {
    /// Phase-1 authentication method values (RFC 2409 Appendix A, RFC 4754,
    /// and the XAUTH/hybrid values of draft-ietf-ipsec-isakmp-xauth-06 and
    /// draft-ietf-ipsec-isakmp-hybrid-auth-05).
    pub struct AuthMethod(u16);
    /// Pre-shared key.
    PRE_SHARED_KEY = 1 => "PRE_SHARED";
    /// DSS signatures.
    DSS_SIGNATURES = 2 => "DSS_SIG";
    /// RSA signatures.
    RSA_SIGNATURES = 3 => "RSA_SIG";
    /// Encryption with RSA.
    RSA_ENCRYPTION = 4 => "RSA_ENC";
    /// Revised encryption with RSA.
    RSA_REVISED_ENCRYPTION = 5 => "RSA_REVISED_ENC";
    /// ECDSA with SHA-256 on the P-256 curve (RFC 4754).
    ECDSA_SHA256_P256 = 9 => "ECDSA_SHA256_P256";
    /// ECDSA with SHA-384 on the P-384 curve (RFC 4754).
    ECDSA_SHA384_P384 = 10 => "ECDSA_SHA384_P384";
    /// ECDSA with SHA-512 on the P-521 curve (RFC 4754).
    ECDSA_SHA512_P521 = 11 => "ECDSA_SHA512_P521";
    /// Hybrid, initiator RSA.
    HYBRID_INIT_RSA = 64221 => "HYBRID_INIT_RSA";
    /// Hybrid, responder RSA.
    HYBRID_RESP_RSA = 64222 => "HYBRID_RESP_RSA";
    /// Hybrid, initiator DSS.
    HYBRID_INIT_DSS = 64223 => "HYBRID_INIT_DSS";
    /// Hybrid, responder DSS.
    HYBRID_RESP_DSS = 64224 => "HYBRID_RESP_DSS";
    /// XAUTH, initiator pre-shared key.
    XAUTH_INIT_PRE_SHARED = 65001 => "XAUTH_INIT_PRE_SHARED";
    /// XAUTH, responder pre-shared key.
    XAUTH_RESP_PRE_SHARED = 65002 => "XAUTH_RESP_PRE_SHARED";
    /// XAUTH, initiator DSS.
    XAUTH_INIT_DSS = 65003 => "XAUTH_INIT_DSS";
    /// XAUTH, responder DSS.
    XAUTH_RESP_DSS = 65004 => "XAUTH_RESP_DSS";
    /// XAUTH, initiator RSA.
    XAUTH_INIT_RSA = 65005 => "XAUTH_INIT_RSA";
    /// XAUTH, responder RSA.
    XAUTH_RESP_RSA = 65006 => "XAUTH_RESP_RSA";
    /// XAUTH, initiator RSA encryption.
    XAUTH_INIT_RSA_ENCRYPTION = 65007 => "XAUTH_INIT_RSA_ENC";
    /// XAUTH, responder RSA encryption.
    XAUTH_RESP_RSA_ENCRYPTION = 65008 => "XAUTH_RESP_RSA_ENC";
    /// XAUTH, initiator revised RSA encryption.
    XAUTH_INIT_RSA_REVISED_ENCRYPTION = 65009 => "XAUTH_INIT_RSA_REVISED_ENC";
    /// XAUTH, responder revised RSA encryption.
    XAUTH_RESP_RSA_REVISED_ENCRYPTION = 65010 => "XAUTH_RESP_RSA_REVISED_ENC";
}

registry! {
    /// Diffie-Hellman group description values (RFC 2409 s.6 and Appendix A,
    /// RFC 3526, RFC 5903, RFC 5114, RFC 6932; the IANA "Group Description"
    /// registry).
    pub struct GroupDescription(u16);
    /// 768-bit MODP group (RFC 2409 s.6.1; weak).
    MODP_768 = 1 => "MODP_768";
    /// 1024-bit MODP group (RFC 2409 s.6.2; weak).
    MODP_1024 = 2 => "MODP_1024";
    /// EC2N group on GP(2^155) (RFC 2409 s.6.3).
    EC2N_155 = 3 => "EC2N_155";
    /// EC2N group on GP(2^185) (RFC 2409 s.6.4).
    EC2N_185 = 4 => "EC2N_185";
    /// 1536-bit MODP group (RFC 3526 s.2).
    MODP_1536 = 5 => "MODP_1536";
    /// 2048-bit MODP group (RFC 3526 s.3).
    MODP_2048 = 14 => "MODP_2048";
    /// 3072-bit MODP group (RFC 3526 s.4).
    MODP_3072 = 15 => "MODP_3072";
    /// 4096-bit MODP group (RFC 3526 s.5).
    MODP_4096 = 16 => "MODP_4096";
    /// 6144-bit MODP group (RFC 3526 s.6).
    MODP_6144 = 17 => "MODP_6144";
    /// 8192-bit MODP group (RFC 3526 s.7).
    MODP_8192 = 18 => "MODP_8192";
    /// 256-bit random ECP group (RFC 5903).
    ECP_256 = 19 => "ECP_256";
    /// 384-bit random ECP group (RFC 5903).
    ECP_384 = 20 => "ECP_384";
    /// 521-bit random ECP group (RFC 5903).
    ECP_521 = 21 => "ECP_521";
    /// 1024-bit MODP group with 160-bit prime order subgroup (RFC 5114).
    MODP_1024_S160 = 22 => "MODP_1024_S160";
    /// 2048-bit MODP group with 224-bit prime order subgroup (RFC 5114).
    MODP_2048_S224 = 23 => "MODP_2048_S224";
    /// 2048-bit MODP group with 256-bit prime order subgroup (RFC 5114).
    MODP_2048_S256 = 24 => "MODP_2048_S256";
    /// 192-bit random ECP group (RFC 5114).
    ECP_192 = 25 => "ECP_192";
    /// 224-bit random ECP group (RFC 5114).
    ECP_224 = 26 => "ECP_224";
    /// brainpoolP224r1 (RFC 6932).
    BRAINPOOL_P224R1 = 27 => "BRAINPOOL_P224R1";
    /// brainpoolP256r1 (RFC 6932).
    BRAINPOOL_P256R1 = 28 => "BRAINPOOL_P256R1";
    /// brainpoolP384r1 (RFC 6932).
    BRAINPOOL_P384R1 = 29 => "BRAINPOOL_P384R1";
    /// brainpoolP512r1 (RFC 6932).
    BRAINPOOL_P512R1 = 30 => "BRAINPOOL_P512R1";
}

registry! {
    /// Group type values (RFC 2409 Appendix A).
    pub struct GroupType(u16);
    /// Modular exponentiation group.
    MODP = 1 => "MODP";
    /// Elliptic curve group over GF(P).
    ECP = 2 => "ECP";
    /// Elliptic curve group over GF(2^N).
    EC2N = 3 => "EC2N";
}

registry! {
    /// Phase-1 life type values (RFC 2409 Appendix A).
    pub struct LifeType(u16);
    /// Seconds.
    SECONDS = 1 => "SECONDS";
    /// Kilobytes.
    KILOBYTES = 2 => "KILOBYTES";
}

registry! {
    /// IPsec DOI SA attribute classes (RFC 2407 s.4.5, RFC 3168 s.9.2.1,
    /// RFC 4304 s.2; the IANA "IPSEC Security Association Attributes"
    /// registry). All are basic (TV) except SA life duration and compress
    /// private algorithm.
    pub struct IpsecAttributeType(u16);
    /// SA life type (B).
    SA_LIFE_TYPE = 1 => "SA_LIFE_TYPE";
    /// SA life duration (V).
    SA_LIFE_DURATION = 2 => "SA_LIFE_DURATION";
    /// Group description, for PFS (B).
    GROUP_DESCRIPTION = 3 => "GROUP_DESCRIPTION";
    /// Encapsulation mode (B).
    ENCAPSULATION_MODE = 4 => "ENCAPSULATION_MODE";
    /// Authentication algorithm (B).
    AUTHENTICATION_ALGORITHM = 5 => "AUTHENTICATION_ALGORITHM";
    /// Key length (B).
    KEY_LENGTH = 6 => "KEY_LENGTH";
    /// Key rounds (B).
    KEY_ROUNDS = 7 => "KEY_ROUNDS";
    /// Compress dictionary size (B).
    COMPRESS_DICTIONARY_SIZE = 8 => "COMPRESS_DICTIONARY_SIZE";
    /// Compress private algorithm (V).
    COMPRESS_PRIVATE_ALGORITHM = 9 => "COMPRESS_PRIVATE_ALGORITHM";
    /// ECN tunnel (B; RFC 3168 s.9.2.1).
    ECN_TUNNEL = 10 => "ECN_TUNNEL";
    /// Extended (64-bit) sequence number (B; RFC 4304 s.2).
    EXTENDED_SEQUENCE_NUMBER = 11 => "EXTENDED_SEQUENCE_NUMBER";
}

registry! {
    /// IPsec SA life type values (RFC 2407 s.4.5).
    pub struct SaLifeType(u16);
    /// Seconds.
    SECONDS = 1 => "SECONDS";
    /// Kilobytes.
    KILOBYTES = 2 => "KILOBYTES";
}

registry! {
    /// IPsec encapsulation mode values (RFC 2407 s.4.5, RFC 3947 s.5.1, and
    /// the private values of draft-ietf-ipsec-nat-t-ike-02/03).
    pub struct EncapsulationMode(u16);
    /// Tunnel mode.
    TUNNEL = 1 => "TUNNEL";
    /// Transport mode.
    TRANSPORT = 2 => "TRANSPORT";
    /// UDP-encapsulated tunnel (RFC 3947).
    UDP_TUNNEL = 3 => "UDP_TUNNEL";
    /// UDP-encapsulated transport (RFC 3947).
    UDP_TRANSPORT = 4 => "UDP_TRANSPORT";
    /// UDP-encapsulated tunnel, draft-ietf-ipsec-nat-t-ike value.
    UDP_TUNNEL_DRAFT = 61443 => "UDP_TUNNEL_DRAFT";
    /// UDP-encapsulated transport, draft-ietf-ipsec-nat-t-ike value.
    UDP_TRANSPORT_DRAFT = 61444 => "UDP_TRANSPORT_DRAFT";
}

registry! {
    /// IPsec authentication algorithm values (RFC 2407 s.4.5 and the IANA
    /// "Authentication Algorithm" registry).
    pub struct AuthAlgorithm(u16);
    /// HMAC-MD5 (weak).
    HMAC_MD5 = 1 => "HMAC_MD5";
    /// HMAC-SHA-1.
    HMAC_SHA = 2 => "HMAC_SHA";
    /// DES-MAC.
    DES_MAC = 3 => "DES_MAC";
    /// KPDK.
    KPDK = 4 => "KPDK";
    /// HMAC-SHA2-256 (RFC 4868).
    HMAC_SHA2_256 = 5 => "HMAC_SHA2_256";
    /// HMAC-SHA2-384 (RFC 4868).
    HMAC_SHA2_384 = 6 => "HMAC_SHA2_384";
    /// HMAC-SHA2-512 (RFC 4868).
    HMAC_SHA2_512 = 7 => "HMAC_SHA2_512";
    /// HMAC-RIPEMD-160 (RFC 2857).
    HMAC_RIPEMD = 8 => "HMAC_RIPEMD";
    /// AES-XCBC-MAC (RFC 3566).
    AES_XCBC_MAC = 9 => "AES_XCBC_MAC";
    /// RSA signature (RFC 4359).
    SIG_RSA = 10 => "SIG_RSA";
    /// AES-128-GMAC (RFC 4543).
    AES_128_GMAC = 11 => "AES_128_GMAC";
    /// AES-192-GMAC (RFC 4543).
    AES_192_GMAC = 12 => "AES_192_GMAC";
    /// AES-256-GMAC (RFC 4543).
    AES_256_GMAC = 13 => "AES_256_GMAC";
}

registry! {
    /// ECN tunnel values (RFC 3168 s.9.2.1).
    pub struct EcnTunnel(u16);
    /// Full ECN functionality allowed.
    ALLOWED = 1 => "ALLOWED";
    /// Limited functionality only.
    FORBIDDEN = 2 => "FORBIDDEN";
}

registry! {
    /// Notify message types (RFC 2408 s.3.14.1, RFC 2407 s.4.6.3, RFC 3706 s.7).
    pub struct NotifyType(u16);
    /// Error: invalid payload type.
    INVALID_PAYLOAD_TYPE = 1 => "INVALID-PAYLOAD-TYPE";
    /// Error: DOI not supported.
    DOI_NOT_SUPPORTED = 2 => "DOI-NOT-SUPPORTED";
    /// Error: situation not supported.
    SITUATION_NOT_SUPPORTED = 3 => "SITUATION-NOT-SUPPORTED";
    /// Error: invalid cookie.
    INVALID_COOKIE = 4 => "INVALID-COOKIE";
    /// Error: invalid major version.
    INVALID_MAJOR_VERSION = 5 => "INVALID-MAJOR-VERSION";
    /// Error: invalid minor version.
    INVALID_MINOR_VERSION = 6 => "INVALID-MINOR-VERSION";
    /// Error: invalid exchange type.
    INVALID_EXCHANGE_TYPE = 7 => "INVALID-EXCHANGE-TYPE";
    /// Error: invalid flags.
    INVALID_FLAGS = 8 => "INVALID-FLAGS";
    /// Error: invalid message ID.
    INVALID_MESSAGE_ID = 9 => "INVALID-MESSAGE-ID";
    /// Error: invalid protocol ID.
    INVALID_PROTOCOL_ID = 10 => "INVALID-PROTOCOL-ID";
    /// Error: invalid SPI.
    INVALID_SPI = 11 => "INVALID-SPI";
    /// Error: invalid transform ID.
    INVALID_TRANSFORM_ID = 12 => "INVALID-TRANSFORM-ID";
    /// Error: attributes not supported.
    ATTRIBUTES_NOT_SUPPORTED = 13 => "ATTRIBUTES-NOT-SUPPORTED";
    /// Error: no proposal chosen.
    NO_PROPOSAL_CHOSEN = 14 => "NO-PROPOSAL-CHOSEN";
    /// Error: bad proposal syntax.
    BAD_PROPOSAL_SYNTAX = 15 => "BAD-PROPOSAL-SYNTAX";
    /// Error: payload malformed.
    PAYLOAD_MALFORMED = 16 => "PAYLOAD-MALFORMED";
    /// Error: invalid key information.
    INVALID_KEY_INFORMATION = 17 => "INVALID-KEY-INFORMATION";
    /// Error: invalid ID information.
    INVALID_ID_INFORMATION = 18 => "INVALID-ID-INFORMATION";
    /// Error: invalid certificate encoding.
    INVALID_CERT_ENCODING = 19 => "INVALID-CERT-ENCODING";
    /// Error: invalid certificate.
    INVALID_CERTIFICATE = 20 => "INVALID-CERTIFICATE";
    /// Error: certificate type unsupported.
    CERT_TYPE_UNSUPPORTED = 21 => "CERT-TYPE-UNSUPPORTED";
    /// Error: invalid certificate authority.
    INVALID_CERT_AUTHORITY = 22 => "INVALID-CERT-AUTHORITY";
    /// Error: invalid hash information.
    INVALID_HASH_INFORMATION = 23 => "INVALID-HASH-INFORMATION";
    /// Error: authentication failed.
    AUTHENTICATION_FAILED = 24 => "AUTHENTICATION-FAILED";
    /// Error: invalid signature.
    INVALID_SIGNATURE = 25 => "INVALID-SIGNATURE";
    /// Error: address notification.
    ADDRESS_NOTIFICATION = 26 => "ADDRESS-NOTIFICATION";
    /// Error: notify SA lifetime.
    NOTIFY_SA_LIFETIME = 27 => "NOTIFY-SA-LIFETIME";
    /// Error: certificate unavailable.
    CERTIFICATE_UNAVAILABLE = 28 => "CERTIFICATE-UNAVAILABLE";
    /// Error: unsupported exchange type.
    UNSUPPORTED_EXCHANGE_TYPE = 29 => "UNSUPPORTED-EXCHANGE-TYPE";
    /// Error: unequal payload lengths.
    UNEQUAL_PAYLOAD_LENGTHS = 30 => "UNEQUAL-PAYLOAD-LENGTHS";
    /// Status: connected (RFC 2408 s.3.14.1).
    CONNECTED = 16384 => "CONNECTED";
    /// Status: responder lifetime (RFC 2407 s.4.6.3.1).
    RESPONDER_LIFETIME = 24576 => "RESPONDER-LIFETIME";
    /// Status: replay status (RFC 2407 s.4.6.3.2).
    REPLAY_STATUS = 24577 => "REPLAY-STATUS";
    /// Status: initial contact (RFC 2407 s.4.6.3.3).
    INITIAL_CONTACT = 24578 => "INITIAL-CONTACT";
    /// Dead peer detection request (RFC 3706 s.7).
    R_U_THERE = 36136 => "R-U-THERE";
    /// Dead peer detection acknowledgement (RFC 3706 s.7).
    R_U_THERE_ACK = 36137 => "R-U-THERE-ACK";
}

impl NotifyType {
    /// Whether this is an error type (1-16383, RFC 2408 s.3.14.1).
    #[must_use]
    pub const fn is_error(self) -> bool {
        self.0 >= 1 && self.0 < 16384
    }
}

registry! {
    /// Identification types of the IPsec DOI (RFC 2407 s.4.6.2.1, RFC 3554).
    pub struct IdType(u8);
    /// A single IPv4 address.
    IPV4_ADDR = 1 => "ID_IPV4_ADDR";
    /// A fully-qualified domain name.
    FQDN = 2 => "ID_FQDN";
    /// A user@domain name.
    USER_FQDN = 3 => "ID_USER_FQDN";
    /// An IPv4 subnet: address and netmask.
    IPV4_ADDR_SUBNET = 4 => "ID_IPV4_ADDR_SUBNET";
    /// A single IPv6 address.
    IPV6_ADDR = 5 => "ID_IPV6_ADDR";
    /// An IPv6 subnet: address and netmask.
    IPV6_ADDR_SUBNET = 6 => "ID_IPV6_ADDR_SUBNET";
    /// An IPv4 address range: first and last address.
    IPV4_ADDR_RANGE = 7 => "ID_IPV4_ADDR_RANGE";
    /// An IPv6 address range: first and last address.
    IPV6_ADDR_RANGE = 8 => "ID_IPV6_ADDR_RANGE";
    /// A DER-encoded ASN.1 X.500 distinguished name.
    DER_ASN1_DN = 9 => "ID_DER_ASN1_DN";
    /// A DER-encoded ASN.1 X.500 general name.
    DER_ASN1_GN = 10 => "ID_DER_ASN1_GN";
    /// An opaque key identifier.
    KEY_ID = 11 => "ID_KEY_ID";
    /// A list of identities (RFC 3554); kept opaque.
    LIST = 12 => "ID_LIST";
}

registry! {
    /// Certificate encodings of the CERT and CR payloads (RFC 2408 s.3.9).
    ///
    /// These are all the values IKEv1 defines; Wireshark's IKEv1 table
    /// (`packet-isakmp.c`, `cert_v1_type`) has the same eleven and calls
    /// 11 to 255 reserved. IKEv2 later gave 11 to 15 meanings (raw RSA
    /// key, hash and URL, OCSP content); strongSwan shares one enum for
    /// both versions but its IKEv1 code (`isakmp_cert_pre.c`) ignores
    /// those, so they are not named here. Any value round-trips.
    pub struct CertEncoding(u8);
    /// None.
    NONE = 0 => "NONE";
    /// PKCS #7 wrapped X.509 certificate.
    PKCS7 = 1 => "PKCS7";
    /// PGP certificate.
    PGP = 2 => "PGP";
    /// DNS signed key.
    DNS_SIGNED_KEY = 3 => "DNS_SIGNED_KEY";
    /// X.509 certificate, signature.
    X509_SIGNATURE = 4 => "X509_SIGNATURE";
    /// X.509 certificate, key exchange.
    X509_KEY_EXCHANGE = 5 => "X509_KEY_EXCHANGE";
    /// Kerberos tokens.
    KERBEROS = 6 => "KERBEROS";
    /// Certificate revocation list.
    CRL = 7 => "CRL";
    /// Authority revocation list.
    ARL = 8 => "ARL";
    /// SPKI certificate.
    SPKI = 9 => "SPKI";
    /// X.509 certificate, attribute.
    X509_ATTRIBUTE = 10 => "X509_ATTRIBUTE";
}

/// RFC 2407 s.4.2 IPsec DOI situation bits.
pub mod situation {
    /// SIT_IDENTITY_ONLY: the SA is identified by the identity payloads.
    pub const IDENTITY_ONLY: u32 = 0x01;
    /// SIT_SECRECY: labeled secrecy fields follow (RFC 2407 s.4.6.1).
    pub const SECRECY: u32 = 0x02;
    /// SIT_INTEGRITY: labeled integrity fields follow (RFC 2407 s.4.6.1).
    pub const INTEGRITY: u32 = 0x04;
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn display_and_debug() {
        assert_eq!(format!("{}", ExchangeType::IDENTITY_PROTECTION), "ID_PROT");
        assert_eq!(format!("{}", ExchangeType(7)), "7");
        assert_eq!(format!("{:?}", ExchangeType(0xf1)), "ExchangeType(0xf1)");
        assert_eq!(
            format!("{:?}", ExchangeType::QUICK_MODE),
            "ExchangeType(QUICK_MODE)"
        );
        assert_eq!(format!("{}", NotifyType::R_U_THERE_ACK), "R-U-THERE-ACK");
        assert_eq!(NotifyType::R_U_THERE.0, 36136);
        assert_eq!(NotifyType::INITIAL_CONTACT.0, 24578);
        assert!(NotifyType::PAYLOAD_MALFORMED.is_error());
        assert!(!NotifyType::CONNECTED.is_error());
        assert_eq!(TransformId(2).name_for(ProtocolId::ESP), Some("ESP_DES"));
        assert_eq!(TransformId(2).name_for(ProtocolId::AH), Some("AH_MD5"));
        assert_eq!(TransformId(1).name_for(ProtocolId::ISAKMP), Some("KEY_IKE"));
        assert_eq!(TransformId(1).name_for(ProtocolId(9)), None);
    }

    #[test]
    fn exchange_ranges() {
        assert_eq!(ExchangeType(5).range(), ExchangeRange::Isakmp);
        assert_eq!(ExchangeType(6).range(), ExchangeRange::IsakmpFuture);
        assert_eq!(ExchangeType(31).range(), ExchangeRange::IsakmpFuture);
        assert_eq!(ExchangeType::QUICK_MODE.range(), ExchangeRange::DoiSpecific);
        assert_eq!(ExchangeType(239).range(), ExchangeRange::DoiSpecific);
        assert_eq!(ExchangeType::TED.range(), ExchangeRange::PrivateUse);
        assert_eq!(ExchangeType(255).range(), ExchangeRange::PrivateUse);
    }
}
