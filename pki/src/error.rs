//! The crate's error types.

use thiserror::Error;

/// A private or public key could not be loaded.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The text holds no PEM block of a key type this crate reads.
    #[error("no private key PEM block (RSA PRIVATE KEY, PRIVATE KEY or EC PRIVATE KEY)")]
    NoPemKey,
    /// A PEM block could not be decoded.
    #[error("bad PEM: {0}")]
    Pem(String),
    /// The DER is not a key structure this crate reads.
    #[error("malformed key: {0}")]
    Malformed(String),
    /// A key of an algorithm or curve that IKEv1 signatures here do not
    /// use (for example Ed25519, P-224, an RSA modulus outside 1024..=4096
    /// bits), or an encrypted PKCS#8 key.
    #[error("unsupported key: {0}")]
    Unsupported(String),
}

/// Signing failed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignError {
    /// The hash is empty, or too long for the RSA modulus (more than its
    /// length in bytes minus 11).
    #[error("cannot sign a {len}-byte hash with this key")]
    HashLength {
        /// The hash's length in bytes.
        len: usize,
    },
    /// The signature primitive failed.
    #[error("signing failed: {0}")]
    Failed(String),
}

/// A peer's signature did not verify.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureError {
    /// The signature's length is not the one the key's algorithm gives
    /// (the RSA modulus length, or twice the curve's field size).
    #[error("signature is {actual} bytes, expected {expected}")]
    Length {
        /// The length the key's algorithm gives.
        expected: usize,
        /// The received length.
        actual: usize,
    },
    /// The hash is empty or too long for the key.
    #[error("a {len}-byte hash cannot be verified with this key")]
    HashLength {
        /// The hash's length in bytes.
        len: usize,
    },
    /// The signature is well formed but does not verify.
    #[error("signature does not verify")]
    Invalid,
}

/// A certificate or CRL could not be read, or a certificate path did not
/// validate.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CertError {
    /// The DER or PEM is not a certificate (or CRL) this crate reads.
    #[error("malformed certificate: {0}")]
    Malformed(String),
    /// The DER is larger than [`crate::MAX_CERT_SIZE`]; not parsed.
    #[error("certificate of {0} bytes is too large")]
    TooLarge(usize),
    /// No trust anchor or intermediate issued this certificate.
    #[error("no trusted issuer {issuer}")]
    UnknownIssuer {
        /// The issuer name the certificate gives.
        issuer: String,
    },
    /// The certificate's signature does not verify under its issuer's key.
    #[error("bad signature on {subject}")]
    BadSignature {
        /// The certificate's subject.
        subject: String,
    },
    /// The certificate's notAfter is in the past.
    #[error("{subject} expired at {not_after}")]
    Expired {
        /// The certificate's subject.
        subject: String,
        /// Its notAfter, Unix seconds.
        not_after: u64,
    },
    /// The certificate's notBefore is in the future.
    #[error("{subject} is not valid before {not_before}")]
    NotYetValid {
        /// The certificate's subject.
        subject: String,
        /// Its notBefore, Unix seconds.
        not_before: u64,
    },
    /// An issuer of the path is not a CA (no basicConstraints cA=TRUE).
    #[error("{subject} is not a CA")]
    NotCa {
        /// The issuer's subject.
        subject: String,
    },
    /// An issuer's pathLenConstraint is exceeded.
    #[error("path length constraint of {subject} exceeded")]
    PathLength {
        /// The constraining issuer's subject.
        subject: String,
    },
    /// A keyUsage extension forbids the use: keyCertSign missing on an
    /// issuer, digitalSignature missing on the end entity.
    #[error("key usage of {subject} does not allow this use")]
    KeyUsage {
        /// The certificate's subject.
        subject: String,
    },
    /// A loaded CRL of the issuer lists the certificate's serial number.
    #[error("{subject} (serial {serial}) is revoked")]
    Revoked {
        /// The certificate's subject.
        subject: String,
        /// Its serial number, hex.
        serial: String,
    },
    /// The loaded CRL of an issuer of the path is past its nextUpdate (or
    /// not yet valid), or its signature does not verify.
    #[error("the CRL of {issuer} is expired or invalid")]
    CrlExpired {
        /// The CRL's issuer.
        issuer: String,
    },
    /// No path of at most [`crate::MAX_CHAIN_DEPTH`] certificates reaches
    /// an anchor, or the path loops.
    #[error("certificate chain too long or looping")]
    ChainTooLong,
    /// A signature or key algorithm this crate does not check (RSA-PSS,
    /// DSA, Ed25519, ECDSA with SHA-1, an unknown curve).
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The certificate does not name the peer's identity.
    #[error("the certificate does not name the peer's identity")]
    IdentityMismatch,
}

impl CertError {
    /// A short, stable name for the error, for events and logs.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed(_) => "malformed",
            Self::TooLarge(_) => "too-large",
            Self::UnknownIssuer { .. } => "unknown-issuer",
            Self::BadSignature { .. } => "bad-signature",
            Self::Expired { .. } => "expired",
            Self::NotYetValid { .. } => "not-yet-valid",
            Self::NotCa { .. } => "not-ca",
            Self::PathLength { .. } => "path-length",
            Self::KeyUsage { .. } => "key-usage",
            Self::Revoked { .. } => "revoked",
            Self::CrlExpired { .. } => "crl-expired",
            Self::ChainTooLong => "chain-too-long",
            Self::UnsupportedAlgorithm(_) => "unsupported-algorithm",
            Self::IdentityMismatch => "identity-mismatch",
        }
    }
}
