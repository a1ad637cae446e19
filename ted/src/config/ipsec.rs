//! Phase-2 policy: transform sets and IPsec SA lifetimes.
//!
//! `crypto ipsec transform-set NAME t1 [t2 [t3 [t4]]]` (Cisco IOS Security
//! Command Reference) names the protocols and algorithms a phase-2 SA may
//! use: at most one AH transform (RFC 4302), one ESP encryption transform
//! and one ESP authentication transform (RFC 4303), and one compression
//! transform (IPComp, RFC 3173, with LZS per RFC 2395). The sub-mode line
//! `mode tunnel | transport` picks the encapsulation (RFC 4301 §4.1),
//! tunnel by default.
//!
//! Transforms accepted: those of IOS 12.2 (`ah-md5-hmac`, `ah-sha-hmac`,
//! `esp-des`, `esp-3des`, `esp-aes [128|192|256]`, `esp-null`,
//! `esp-md5-hmac`, `esp-sha-hmac`, `comp-lzs`) and the later SHA-2 and GCM
//! ones (`ah-sha256-hmac` .. `esp-sha512-hmac` of IOS 15.x, and `esp-gcm
//! [128|192|256]` of IOS 15.2(4)M, a combined-mode cipher that IOS refuses
//! to pair with an ESP authentication transform). The model parses and keeps
//! them all; which ones the gateway can run is the gateway's business.
//!
//! One rule is stricter than IOS: `esp-null` without an ESP authentication
//! transform is refused, because RFC 4303 §3.2 forbids ESP with neither
//! confidentiality nor integrity.
//!
//! `crypto ipsec security-association lifetime seconds N | kilobytes N`
//! sets the global SA lifetimes (defaults 3600 s and 4608000 KB, "10 MB/s
//! for an hour"); crypto map entries may override them.

use core::fmt;
use std::ops::RangeInclusive;

use super::isakmp::AesKeySize;

/// One transform keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Transform {
    /// `ah-md5-hmac`: AH with HMAC-MD5-96 (RFC 2403).
    AhMd5Hmac,
    /// `ah-sha-hmac`: AH with HMAC-SHA1-96 (RFC 2404).
    AhShaHmac,
    /// `ah-sha256-hmac`: AH with HMAC-SHA-256-128 (RFC 4868).
    AhSha256Hmac,
    /// `ah-sha384-hmac`: AH with HMAC-SHA-384-192 (RFC 4868).
    AhSha384Hmac,
    /// `ah-sha512-hmac`: AH with HMAC-SHA-512-256 (RFC 4868).
    AhSha512Hmac,
    /// `esp-des`: ESP with DES-CBC (RFC 2405; weak).
    EspDes,
    /// `esp-3des`: ESP with 3DES-CBC (RFC 2451).
    Esp3des,
    /// `esp-aes [bits]`: ESP with AES-CBC (RFC 3602).
    EspAes(AesKeySize),
    /// `esp-gcm [bits]`: ESP with AES-GCM, 16-byte ICV (RFC 4106).
    EspGcm(AesKeySize),
    /// `esp-null`: ESP without encryption (RFC 2410).
    EspNull,
    /// `esp-md5-hmac`: ESP with HMAC-MD5-96 (RFC 2403; weak).
    EspMd5Hmac,
    /// `esp-sha-hmac`: ESP with HMAC-SHA1-96 (RFC 2404).
    EspShaHmac,
    /// `esp-sha256-hmac`: ESP with HMAC-SHA-256-128 (RFC 4868).
    EspSha256Hmac,
    /// `esp-sha384-hmac`: ESP with HMAC-SHA-384-192 (RFC 4868).
    EspSha384Hmac,
    /// `esp-sha512-hmac`: ESP with HMAC-SHA-512-256 (RFC 4868).
    EspSha512Hmac,
    /// `comp-lzs`: IPComp with LZS (RFC 2395).
    CompLzs,
}

/// What part of an SA a transform fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TransformKind {
    /// An AH transform.
    Ah,
    /// An ESP encryption transform (including `esp-null` and `esp-gcm`).
    EspEncryption,
    /// An ESP authentication transform.
    EspAuthentication,
    /// A compression transform.
    Compression,
}

impl fmt::Display for TransformKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Ah => "AH",
            Self::EspEncryption => "ESP encryption",
            Self::EspAuthentication => "ESP authentication",
            Self::Compression => "compression",
        })
    }
}

const KEYWORDS: &[(&str, Transform)] = &[
    ("ah-md5-hmac", Transform::AhMd5Hmac),
    ("ah-sha-hmac", Transform::AhShaHmac),
    ("ah-sha256-hmac", Transform::AhSha256Hmac),
    ("ah-sha384-hmac", Transform::AhSha384Hmac),
    ("ah-sha512-hmac", Transform::AhSha512Hmac),
    ("esp-des", Transform::EspDes),
    ("esp-3des", Transform::Esp3des),
    ("esp-aes", Transform::EspAes(AesKeySize::Aes128)),
    ("esp-gcm", Transform::EspGcm(AesKeySize::Aes128)),
    ("esp-null", Transform::EspNull),
    ("esp-md5-hmac", Transform::EspMd5Hmac),
    ("esp-sha-hmac", Transform::EspShaHmac),
    ("esp-sha256-hmac", Transform::EspSha256Hmac),
    ("esp-sha384-hmac", Transform::EspSha384Hmac),
    ("esp-sha512-hmac", Transform::EspSha512Hmac),
    ("comp-lzs", Transform::CompLzs),
];

impl Transform {
    /// The transform a keyword names; `esp-aes` and `esp-gcm` come back
    /// with a 128-bit key, which a following `192` or `256` changes (see
    /// [`Transform::with_key_size`]).
    pub fn from_keyword(keyword: &str) -> Option<Self> {
        KEYWORDS
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(keyword))
            .map(|&(_, t)| t)
    }

    /// The keyword, without a key size.
    pub fn keyword(self) -> &'static str {
        let base = match self {
            Self::EspAes(_) => Self::EspAes(AesKeySize::Aes128),
            Self::EspGcm(_) => Self::EspGcm(AesKeySize::Aes128),
            other => other,
        };
        KEYWORDS
            .iter()
            .find(|&&(_, t)| t == base)
            .map_or("?", |&(k, _)| k)
    }

    /// Whether the transform takes a key size argument.
    pub fn takes_key_size(self) -> bool {
        matches!(self, Self::EspAes(_) | Self::EspGcm(_))
    }

    /// The same transform with another key size (AES and GCM only; others
    /// are returned unchanged).
    pub fn with_key_size(self, size: AesKeySize) -> Self {
        match self {
            Self::EspAes(_) => Self::EspAes(size),
            Self::EspGcm(_) => Self::EspGcm(size),
            other => other,
        }
    }

    /// What part of an SA it fills.
    pub fn kind(self) -> TransformKind {
        match self {
            Self::AhMd5Hmac
            | Self::AhShaHmac
            | Self::AhSha256Hmac
            | Self::AhSha384Hmac
            | Self::AhSha512Hmac => TransformKind::Ah,
            Self::EspDes | Self::Esp3des | Self::EspAes(_) | Self::EspGcm(_) | Self::EspNull => {
                TransformKind::EspEncryption
            }
            Self::EspMd5Hmac
            | Self::EspShaHmac
            | Self::EspSha256Hmac
            | Self::EspSha384Hmac
            | Self::EspSha512Hmac => TransformKind::EspAuthentication,
            Self::CompLzs => TransformKind::Compression,
        }
    }
}

impl fmt::Display for Transform {
    /// As IOS shows it: `esp-aes`, `esp-aes 256`, `esp-md5-hmac`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())?;
        match self {
            Self::EspAes(size) | Self::EspGcm(size) if *size != AesKeySize::Aes128 => {
                write!(f, " {}", size.bits())
            }
            _ => Ok(()),
        }
    }
}

/// `mode tunnel | transport`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EncapsulationMode {
    /// Tunnel mode (the default).
    #[default]
    Tunnel,
    /// Transport mode.
    Transport,
}

impl fmt::Display for EncapsulationMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tunnel => "tunnel",
            Self::Transport => "transport",
        })
    }
}

/// A named, validated combination of transforms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TransformSet {
    name: String,
    transforms: Vec<Transform>,
    /// Tunnel or transport.
    pub mode: EncapsulationMode,
}

impl TransformSet {
    /// A transform set in tunnel mode, refusing what IOS refuses: no
    /// transform, two of a kind, compression alone, GCM with an ESP
    /// authentication transform; and `esp-null` without authentication.
    pub fn new(name: &str, transforms: &[Transform]) -> Result<Self, TransformSetError> {
        if name.is_empty() {
            return Err(TransformSetError::EmptyName);
        }
        Self::validate(transforms)?;
        Ok(Self {
            name: name.to_owned(),
            transforms: transforms.to_vec(),
            mode: EncapsulationMode::Tunnel,
        })
    }

    /// Replaces the transforms (IOS's re-entry of `crypto ipsec
    /// transform-set NAME ...`), keeping the mode.
    pub fn set_transforms(&mut self, transforms: &[Transform]) -> Result<(), TransformSetError> {
        Self::validate(transforms)?;
        self.transforms = transforms.to_vec();
        Ok(())
    }

    fn validate(transforms: &[Transform]) -> Result<(), TransformSetError> {
        if transforms.is_empty() {
            return Err(TransformSetError::Empty);
        }
        for (i, t) in transforms.iter().enumerate() {
            let earlier = transforms.get(..i).unwrap_or(&[]);
            if let Some(first) = earlier.iter().find(|e| e.kind() == t.kind()) {
                return Err(TransformSetError::TwoOfAKind {
                    kind: t.kind(),
                    first: *first,
                    second: *t,
                });
            }
        }
        let find = |kind| transforms.iter().copied().find(|t| t.kind() == kind);
        let cipher = find(TransformKind::EspEncryption);
        let auth = find(TransformKind::EspAuthentication);
        if find(TransformKind::Ah).is_none() && cipher.is_none() && auth.is_none() {
            return Err(TransformSetError::CompressionOnly);
        }
        if let (Some(gcm @ Transform::EspGcm(_)), Some(auth)) = (cipher, auth) {
            return Err(TransformSetError::CombinedModeWithAuthentication { cipher: gcm, auth });
        }
        if cipher == Some(Transform::EspNull) && auth.is_none() {
            return Err(TransformSetError::NullWithoutAuthentication);
        }
        Ok(())
    }

    /// The set's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The transforms, in configuration order.
    pub fn transforms(&self) -> &[Transform] {
        &self.transforms
    }

    fn find(&self, kind: TransformKind) -> Option<Transform> {
        self.transforms.iter().copied().find(|t| t.kind() == kind)
    }

    /// The AH transform, if any.
    pub fn ah(&self) -> Option<Transform> {
        self.find(TransformKind::Ah)
    }

    /// The ESP encryption transform, if any.
    pub fn esp_encryption(&self) -> Option<Transform> {
        self.find(TransformKind::EspEncryption)
    }

    /// The ESP authentication transform, if any.
    pub fn esp_authentication(&self) -> Option<Transform> {
        self.find(TransformKind::EspAuthentication)
    }

    /// The compression transform, if any.
    pub fn compression(&self) -> Option<Transform> {
        self.find(TransformKind::Compression)
    }

    /// Whether the set uses ESP.
    pub fn has_esp(&self) -> bool {
        self.esp_encryption().is_some() || self.esp_authentication().is_some()
    }
}

impl fmt::Display for TransformSet {
    /// The transforms as IOS lists them: `esp-des esp-md5-hmac`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.transforms.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

/// A transform combination IOS (or RFC 4303) refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransformSetError {
    /// An empty name.
    #[error("a transform set needs a name")]
    EmptyName,
    /// No transform at all.
    #[error("a transform set needs at least one transform")]
    Empty,
    /// Two transforms of the same kind.
    #[error("{first} and {second} are both {kind} transforms; a set holds one of each kind")]
    TwoOfAKind {
        /// The kind.
        kind: TransformKind,
        /// The first.
        first: Transform,
        /// The second.
        second: Transform,
    },
    /// Only a compression transform.
    #[error("compression needs an AH or ESP transform beside it")]
    CompressionOnly,
    /// GCM authenticates by itself.
    #[error("{cipher} authenticates by itself and cannot be combined with {auth}")]
    CombinedModeWithAuthentication {
        /// The combined-mode cipher.
        cipher: Transform,
        /// The authentication transform.
        auth: Transform,
    },
    /// ESP without confidentiality or integrity (RFC 4303 §3.2).
    #[error(
        "esp-null needs an ESP authentication transform: ESP must give confidentiality or integrity (RFC 4303 section 3.2)"
    )]
    NullWithoutAuthentication,
}

/// IPsec SA lifetimes: the SA is rekeyed when either runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SaLifetime {
    /// Seconds (120-86400).
    pub seconds: u32,
    /// Kilobytes of traffic (2560-536870912).
    pub kilobytes: u64,
}

impl SaLifetime {
    /// IOS's defaults: 3600 s and 4608000 KB.
    pub const DEFAULT: Self = Self {
        seconds: 3600,
        kilobytes: 4_608_000,
    };
    /// Seconds IOS accepts.
    pub const SECONDS_RANGE: RangeInclusive<u32> = 120..=86_400;
    /// Kilobytes IOS 12.2 accepts.
    pub const KILOBYTES_RANGE: RangeInclusive<u64> = 2560..=536_870_912;
}

impl Default for SaLifetime {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A crypto map entry's `set security-association lifetime` overrides.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct LifetimeOverride {
    /// Seconds, if set for this entry.
    pub seconds: Option<u32>,
    /// Kilobytes, if set for this entry.
    pub kilobytes: Option<u64>,
}

impl LifetimeOverride {
    /// The lifetimes in force: the overrides, else the global values.
    pub fn resolve(&self, global: SaLifetime) -> SaLifetime {
        SaLifetime {
            seconds: self.seconds.unwrap_or(global.seconds),
            kilobytes: self.kilobytes.unwrap_or(global.kilobytes),
        }
    }
}
