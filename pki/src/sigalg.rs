//! Signatures on certificates and CRLs (RFC 5280 s.4.1.1.2, s.5.1.1.2):
//! RSA PKCS#1 v1.5 with SHA-1, SHA-256, SHA-384 or SHA-512 (RFC 4055), and
//! ECDSA with SHA-256, SHA-384 or SHA-512 (RFC 5758) on P-256, P-384 and
//! P-521, any hash with any curve. RSA-PSS is not checked.

use der::asn1::ObjectIdentifier;
use ecdsa::signature::hazmat::PrehashVerifier;
use rsa::Pkcs1v15Sign;
use sha2::Digest;

use crate::key::{PublicInner, PublicKey};

const SHA1_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");

/// Why a signature on a certificate or CRL was not accepted.
#[derive(Debug)]
pub(crate) enum Failure {
    /// It does not verify (or the key does not fit the algorithm).
    Bad,
    /// The algorithm is not one this module checks.
    Unsupported(String),
}

#[derive(Clone, Copy)]
enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    fn pkcs1(self) -> Pkcs1v15Sign {
        match self {
            Self::Sha1 => Pkcs1v15Sign::new::<sha1::Sha1>(),
            Self::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
            Self::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
            Self::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
        }
    }
}

/// Checks `signature` over `signed` (the DER of a TBSCertificate or
/// TBSCertList) under `key` with the algorithm `alg` names. The
/// algorithm's parameters must be absent or NULL (RSA) and absent (ECDSA).
pub(crate) fn verify(
    key: &PublicKey,
    alg: &spki::AlgorithmIdentifierOwned,
    signed: &[u8],
    signature: &[u8],
) -> Result<(), Failure> {
    let (rsa, hash) = match alg.oid {
        SHA1_RSA => (true, Hash::Sha1),
        SHA256_RSA => (true, Hash::Sha256),
        SHA384_RSA => (true, Hash::Sha384),
        SHA512_RSA => (true, Hash::Sha512),
        ECDSA_SHA256 => (false, Hash::Sha256),
        ECDSA_SHA384 => (false, Hash::Sha384),
        ECDSA_SHA512 => (false, Hash::Sha512),
        RSA_PSS => return Err(Failure::Unsupported("RSASSA-PSS".into())),
        other => return Err(Failure::Unsupported(format!("signature algorithm {other}"))),
    };
    let digest = hash.digest(signed);
    let ok = match (&key.inner, rsa) {
        (PublicInner::Rsa(k), true) => k.verify(hash.pkcs1(), &digest, signature).is_ok(),
        (PublicInner::P256(k), false) => p256::ecdsa::DerSignature::try_from(signature)
            .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
        (PublicInner::P384(k), false) => p384::ecdsa::DerSignature::try_from(signature)
            .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
        (PublicInner::P521(k), false) => p521::ecdsa::DerSignature::try_from(signature)
            .is_ok_and(|s| k.verify_prehash(&digest, &s).is_ok()),
        _ => false,
    };
    if ok { Ok(()) } else { Err(Failure::Bad) }
}

/// The first element (tag, length and contents) inside the outer SEQUENCE
/// of `der`: the exact bytes a certificate's or CRL's signature covers, as
/// received. `None` if the framing is broken.
pub(crate) fn first_element(der: &[u8]) -> Option<&[u8]> {
    let (_, outer) = tlv(der)?;
    let (len, _) = tlv(outer)?;
    outer.get(..len)
}

/// Reads one DER TLV at the start of `data`: the length of the whole TLV and
/// its contents. Single-byte tags only (all the SEQUENCE framing here).
fn tlv(data: &[u8]) -> Option<(usize, &[u8])> {
    let first = *data.get(1)?;
    let (header, len) = if first < 0x80 {
        (2, usize::from(first))
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for b in data.get(2..2 + n)? {
            len = len.checked_mul(256)?.checked_add(usize::from(*b))?;
        }
        (2 + n, len)
    };
    let total = header.checked_add(len)?;
    Some((total, data.get(header..total)?))
}
