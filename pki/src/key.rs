//! Private and public keys and the IKEv1 phase-1 signatures.
//!
//! RFC 2409 s.5.1: with RSA signatures "the signature ... is computed over
//! HASH_I (or HASH_R)", PKCS#1 encoded. Implementations (strongSwan's
//! `SIGN_RSA_EMSA_PKCS1_NULL`, libreswan, Cisco) pad the prf output itself
//! with EMSA-PKCS1-v1_5 type 1, without the DigestInfo that RFC 8017
//! s.9.2 would put before a hash; so does this module.
//!
//! RFC 4754 s.7 (ECDSA for IKE and IKEv2, used by IKEv1 auth methods 9, 10
//! and 11): the signature is computed with the curve's hash (SHA-256,
//! SHA-384, SHA-512) over the data to be signed, here HASH_I or HASH_R,
//! and encoded as `r || s`, each left-padded with zeros to the size of the
//! field (32, 48, 66 bytes). Signing is deterministic (RFC 6979).

use core::fmt;

use der::asn1::ObjectIdentifier;
use ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use pkcs8::DecodePrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;
use rsa::{Pkcs1v15Sign, PrivateKey as RsaPrivateKey, PublicKey as RsaPublicKey};
use zeroize::ZeroizeOnDrop;

use crate::error::{KeyError, SignError, SignatureError};
use crate::pem;

/// rsaEncryption (RFC 8017 Appendix C).
pub(crate) const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey (RFC 5480 s.2.1.1).
pub(crate) const OID_EC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// secp256r1 (RFC 5480 s.2.1.1.1).
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1.
const OID_P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
/// secp521r1.
const OID_P521: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// Which signature an IKEv1 phase-1 authentication method uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSA signatures (RFC 2409, authentication method 3).
    Rsa,
    /// ECDSA with SHA-256 on the P-256 curve (RFC 4754, method 9).
    EcdsaP256,
    /// ECDSA with SHA-384 on the P-384 curve (RFC 4754, method 10).
    EcdsaP384,
    /// ECDSA with SHA-512 on the P-521 curve (RFC 4754, method 11).
    EcdsaP521,
}

impl SignatureAlgorithm {
    /// The IKEv1 Authentication Method attribute value (RFC 2409
    /// Appendix A, RFC 4754 s.3).
    #[must_use]
    pub fn auth_method(self) -> u16 {
        match self {
            Self::Rsa => 3,
            Self::EcdsaP256 => 9,
            Self::EcdsaP384 => 10,
            Self::EcdsaP521 => 11,
        }
    }

    /// The algorithm of an Authentication Method attribute value, if it is
    /// one of the four signature methods above.
    #[must_use]
    pub fn from_auth_method(m: u16) -> Option<Self> {
        match m {
            3 => Some(Self::Rsa),
            9 => Some(Self::EcdsaP256),
            10 => Some(Self::EcdsaP384),
            11 => Some(Self::EcdsaP521),
            _ => None,
        }
    }

    /// A short name for logs: `rsa`, `ecdsa-p256`, `ecdsa-p384`,
    /// `ecdsa-p521`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Rsa => "rsa",
            Self::EcdsaP256 => "ecdsa-p256",
            Self::EcdsaP384 => "ecdsa-p384",
            Self::EcdsaP521 => "ecdsa-p521",
        }
    }

    /// The length of an ECDSA `r || s` signature; `None` for RSA.
    fn ecdsa_signature_len(self) -> Option<usize> {
        match self {
            Self::Rsa => None,
            Self::EcdsaP256 => Some(64),
            Self::EcdsaP384 => Some(96),
            Self::EcdsaP521 => Some(132),
        }
    }
}

/// The digest ECDSA signs for an IKEv1 `hash`: the hash itself, or,
/// shorter than half the field (`field` bytes; RustCrypto refuses those),
/// left-padded with zeros to the field size, which is the same integer
/// (what OpenSSL and strongSwan sign for a short digest).
fn digest(field: usize, hash: &[u8]) -> Vec<u8> {
    let mut d = vec![0; field.saturating_sub(hash.len())];
    d.extend_from_slice(hash);
    if hash.len() * 2 >= field {
        hash.to_vec()
    } else {
        d
    }
}

/// The curve named by an id-ecPublicKey parameter.
fn curve(oid: ObjectIdentifier) -> Result<SignatureAlgorithm, KeyError> {
    match oid {
        OID_P256 => Ok(SignatureAlgorithm::EcdsaP256),
        OID_P384 => Ok(SignatureAlgorithm::EcdsaP384),
        OID_P521 => Ok(SignatureAlgorithm::EcdsaP521),
        other => Err(KeyError::Unsupported(format!("elliptic curve {other}"))),
    }
}

/// The key itself. Every variant's type wipes its secret on drop.
enum PrivateInner {
    Rsa(Box<RsaPrivateKey>),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

/// Our private key: RSA or ECDSA (P-256, P-384, P-521).
///
/// The key material is wiped when the value is dropped (the RSA key's and
/// the ECDSA signing keys' own `Drop`); `Debug` shows the algorithm only.
pub struct PrivateKey {
    inner: PrivateInner,
}

// Every variant of `PrivateInner` is `ZeroizeOnDrop` itself.
impl ZeroizeOnDrop for PrivateKey {}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm())
            .field("bits", &self.public_key().bits())
            .finish_non_exhaustive()
    }
}

fn malformed(e: impl fmt::Display) -> KeyError {
    KeyError::Malformed(e.to_string())
}

impl PrivateKey {
    /// Reads the first private key block of PEM text: `RSA PRIVATE KEY`
    /// (PKCS#1), `PRIVATE KEY` (PKCS#8, RSA or EC) or `EC PRIVATE KEY`
    /// (SEC1). Other blocks (OpenSSL's `EC PARAMETERS`, certificates) are
    /// skipped.
    ///
    /// # Errors
    /// [`KeyError::NoPemKey`] without such a block, [`KeyError::Pem`] if the
    /// block does not decode, the errors of [`Self::from_der`]; an
    /// `ENCRYPTED PRIVATE KEY` is [`KeyError::Unsupported`].
    pub fn from_pem(text: &str) -> Result<Self, KeyError> {
        for block in pem::blocks(text) {
            let parse: fn(&[u8]) -> Result<Self, KeyError> = match block.label {
                "RSA PRIVATE KEY" => Self::from_pkcs1_der,
                "PRIVATE KEY" => Self::from_pkcs8_der,
                "EC PRIVATE KEY" => Self::from_sec1_der,
                "ENCRYPTED PRIVATE KEY" => {
                    return Err(KeyError::Unsupported("encrypted private key".into()));
                }
                _ => continue,
            };
            let der = block.decode().map_err(KeyError::Pem)?;
            return parse(&der);
        }
        Err(KeyError::NoPemKey)
    }

    /// Reads a DER private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    ///
    /// # Errors
    /// [`KeyError::Unsupported`] for a well-formed key of another algorithm
    /// or curve, or an RSA modulus outside 1024..=4096 bits;
    /// [`KeyError::Malformed`] if no format reads it.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        // Each format's outer structure is told apart first, so that the
        // error is the one of the format the DER has.
        if pkcs8::PrivateKeyInfoRef::try_from(der).is_ok() {
            Self::from_pkcs8_der(der)
        } else if sec1::EcPrivateKey::try_from(der).is_ok() {
            Self::from_sec1_der(der)
        } else {
            Self::from_pkcs1_der(der)
        }
    }

    fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyError> {
        let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(malformed)?;
        let inner = match info.algorithm.oid {
            OID_RSA => PrivateInner::Rsa(Box::new(
                RsaPrivateKey::from_pkcs8_der(der).map_err(rsa_load_error)?,
            )),
            OID_EC => {
                let params = info.algorithm.parameters_oid().map_err(malformed)?;
                match curve(params)? {
                    SignatureAlgorithm::EcdsaP256 => PrivateInner::P256(
                        p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(malformed)?,
                    ),
                    SignatureAlgorithm::EcdsaP384 => PrivateInner::P384(
                        p384::ecdsa::SigningKey::from_pkcs8_der(der).map_err(malformed)?,
                    ),
                    SignatureAlgorithm::EcdsaP521 => PrivateInner::P521(
                        p521::ecdsa::SigningKey::from_pkcs8_der(der).map_err(malformed)?,
                    ),
                    SignatureAlgorithm::Rsa => {
                        return Err(KeyError::Unsupported("curve".into()));
                    }
                }
            }
            other => return Err(KeyError::Unsupported(format!("key algorithm {other}"))),
        };
        Ok(Self { inner })
    }

    fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::from_pkcs1_der(der).map_err(rsa_load_error)?;
        Ok(Self {
            inner: PrivateInner::Rsa(Box::new(key)),
        })
    }

    fn from_sec1_der(der: &[u8]) -> Result<Self, KeyError> {
        let parsed = sec1::EcPrivateKey::try_from(der).map_err(malformed)?;
        let alg = match parsed.parameters.and_then(|p| p.named_curve()) {
            Some(oid) => curve(oid)?,
            // Without parameters the key's length tells the curve.
            None => match parsed.private_key.len() {
                32 => SignatureAlgorithm::EcdsaP256,
                48 => SignatureAlgorithm::EcdsaP384,
                66 => SignatureAlgorithm::EcdsaP521,
                n => return Err(KeyError::Unsupported(format!("{n}-byte EC private key"))),
            },
        };
        let inner = match alg {
            SignatureAlgorithm::EcdsaP256 => PrivateInner::P256(
                p256::SecretKey::from_sec1_der(der)
                    .map_err(malformed)?
                    .into(),
            ),
            SignatureAlgorithm::EcdsaP384 => PrivateInner::P384(
                p384::SecretKey::from_sec1_der(der)
                    .map_err(malformed)?
                    .into(),
            ),
            SignatureAlgorithm::EcdsaP521 => PrivateInner::P521(
                p521::SecretKey::from_sec1_der(der)
                    .map_err(malformed)?
                    .into(),
            ),
            SignatureAlgorithm::Rsa => return Err(KeyError::Unsupported("curve".into())),
        };
        Ok(Self { inner })
    }

    /// The signature algorithm this key makes.
    #[must_use]
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match &self.inner {
            PrivateInner::Rsa(_) => SignatureAlgorithm::Rsa,
            PrivateInner::P256(_) => SignatureAlgorithm::EcdsaP256,
            PrivateInner::P384(_) => SignatureAlgorithm::EcdsaP384,
            PrivateInner::P521(_) => SignatureAlgorithm::EcdsaP521,
        }
    }

    /// The matching public key.
    #[must_use]
    pub fn public_key(&self) -> PublicKey {
        let inner = match &self.inner {
            PrivateInner::Rsa(k) => PublicInner::Rsa(k.to_public_key()),
            PrivateInner::P256(k) => PublicInner::P256(*k.verifying_key()),
            PrivateInner::P384(k) => PublicInner::P384(*k.verifying_key()),
            PrivateInner::P521(k) => PublicInner::P521(*k.verifying_key()),
        };
        PublicKey { inner }
    }

    /// The IKEv1 signature over `hash` (HASH_I or HASH_R, the prf output).
    ///
    /// RSA: EMSA-PKCS1-v1_5 padding of `hash` itself, without a
    /// DigestInfo (RFC 2409 s.5.1); the signature is as long as the
    /// modulus. The private-key operation is crypto-bigint's constant-time
    /// exponentiation (no blinding: this crate has no randomness).
    /// ECDSA (RFC 4754): `hash` is the digest that is signed, as it is
    /// (not hashed again: strongSwan's `SIGN_ECDSA_WITH_NULL`, which its
    /// IKEv1 uses for every curve), `r || s` each zero-padded to the field
    /// size (64, 96, 132 bytes in all), deterministic (RFC 6979). The
    /// digest must be at least half the field size (16, 24, 33 bytes):
    /// HASH_I of a SHA-1 prf (20 bytes) cannot be signed with P-384 or
    /// P-521.
    ///
    /// # Errors
    /// [`SignError::HashLength`] for an empty hash, or one longer than an
    /// RSA modulus's length minus 11; [`SignError::Failed`] if the
    /// primitive fails.
    pub fn sign_ikev1(&self, hash: &[u8]) -> Result<Vec<u8>, SignError> {
        if hash.is_empty() {
            return Err(SignError::HashLength { len: 0 });
        }
        let failed = |e: &dyn fmt::Display| SignError::Failed(e.to_string());
        match &self.inner {
            PrivateInner::Rsa(k) => {
                if hash.len().saturating_add(11) > k.size() {
                    return Err(SignError::HashLength { len: hash.len() });
                }
                k.sign(Pkcs1v15Sign::new_unprefixed(), hash)
                    .map_err(|e| failed(&e))
            }
            PrivateInner::P256(k) => {
                let sig: p256::ecdsa::Signature =
                    k.sign_prehash(&digest(32, hash)).map_err(|e| failed(&e))?;
                Ok(sig.to_bytes().to_vec())
            }
            PrivateInner::P384(k) => {
                let sig: p384::ecdsa::Signature =
                    k.sign_prehash(&digest(48, hash)).map_err(|e| failed(&e))?;
                Ok(sig.to_bytes().to_vec())
            }
            PrivateInner::P521(k) => {
                let sig: p521::ecdsa::Signature =
                    k.sign_prehash(&digest(66, hash)).map_err(|e| failed(&e))?;
                Ok(sig.to_bytes().to_vec())
            }
        }
    }
}

/// rsa's refusals: a modulus out of its size limits is unsupported, the
/// rest malformed.
fn rsa_load_error(e: impl fmt::Display) -> KeyError {
    let text = e.to_string();
    if text.contains("too small") || text.contains("too large") {
        KeyError::Unsupported(format!("RSA key: {text}"))
    } else {
        KeyError::Malformed(text)
    }
}

#[derive(Clone)]
pub(crate) enum PublicInner {
    Rsa(RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

/// A public key: a peer's (from its certificate) or ours.
#[derive(Clone)]
pub struct PublicKey {
    pub(crate) inner: PublicInner,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("algorithm", &self.algorithm())
            .field("bits", &self.bits())
            .finish()
    }
}

impl PublicKey {
    /// Reads a DER SubjectPublicKeyInfo (RFC 5280 s.4.1.2.7): an RSA key
    /// (RFC 8017) or an EC key on P-256, P-384 or P-521 (RFC 5480).
    ///
    /// # Errors
    /// [`KeyError::Malformed`] for DER that is no such structure or no
    /// valid key (an EC point off the curve); [`KeyError::Unsupported`]
    /// for other algorithms and curves, and RSA moduli outside
    /// 1024..=4096 bits.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let spki = spki::SubjectPublicKeyInfoRef::try_from(der).map_err(malformed)?;
        let inner = match spki.algorithm.oid {
            OID_RSA => PublicInner::Rsa(RsaPublicKey::try_from(spki).map_err(rsa_load_error)?),
            OID_EC => {
                let params = spki.algorithm.parameters_oid().map_err(malformed)?;
                let point = spki
                    .subject_public_key
                    .as_bytes()
                    .ok_or_else(|| KeyError::Malformed("EC point with unused bits".into()))?;
                match curve(params)? {
                    SignatureAlgorithm::EcdsaP256 => PublicInner::P256(
                        p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(malformed)?,
                    ),
                    SignatureAlgorithm::EcdsaP384 => PublicInner::P384(
                        p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(malformed)?,
                    ),
                    SignatureAlgorithm::EcdsaP521 => PublicInner::P521(
                        p521::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(malformed)?,
                    ),
                    SignatureAlgorithm::Rsa => {
                        return Err(KeyError::Unsupported("curve".into()));
                    }
                }
            }
            other => return Err(KeyError::Unsupported(format!("key algorithm {other}"))),
        };
        Ok(Self { inner })
    }

    /// The signature algorithm this key checks.
    #[must_use]
    pub fn algorithm(&self) -> SignatureAlgorithm {
        match &self.inner {
            PublicInner::Rsa(_) => SignatureAlgorithm::Rsa,
            PublicInner::P256(_) => SignatureAlgorithm::EcdsaP256,
            PublicInner::P384(_) => SignatureAlgorithm::EcdsaP384,
            PublicInner::P521(_) => SignatureAlgorithm::EcdsaP521,
        }
    }

    /// The key size in bits: the RSA modulus's, or the curve's (256, 384,
    /// 521).
    #[must_use]
    pub fn bits(&self) -> usize {
        match &self.inner {
            PublicInner::Rsa(k) => {
                usize::try_from(k.n().as_ref().bit_width()).unwrap_or(usize::MAX)
            }
            PublicInner::P256(_) => 256,
            PublicInner::P384(_) => 384,
            PublicInner::P521(_) => 521,
        }
    }

    /// Checks a peer's IKEv1 signature over `hash`, encoded as
    /// [`PrivateKey::sign_ikev1`] makes it.
    ///
    /// # Errors
    /// [`SignatureError::Length`] if the signature is not as long as the
    /// algorithm makes it (so a signature of another key type fails here),
    /// [`SignatureError::HashLength`] for an empty hash or one too long for
    /// the RSA modulus, [`SignatureError::Invalid`] otherwise.
    pub fn verify_ikev1(&self, hash: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        let expected = match &self.inner {
            PublicInner::Rsa(k) => k.size(),
            _ => self.algorithm().ecdsa_signature_len().unwrap_or(usize::MAX),
        };
        if signature.len() != expected {
            return Err(SignatureError::Length {
                expected,
                actual: signature.len(),
            });
        }
        if hash.is_empty() {
            return Err(SignatureError::HashLength { len: 0 });
        }
        match &self.inner {
            PublicInner::Rsa(k) => {
                if hash.len().saturating_add(11) > k.size() {
                    return Err(SignatureError::HashLength { len: hash.len() });
                }
                k.verify(Pkcs1v15Sign::new_unprefixed(), hash, signature)
                    .map_err(|_| SignatureError::Invalid)
            }
            PublicInner::P256(k) => {
                let sig = p256::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::Invalid)?;
                k.verify_prehash(&digest(32, hash), &sig)
                    .map_err(|_| SignatureError::Invalid)
            }
            PublicInner::P384(k) => {
                let sig = p384::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::Invalid)?;
                k.verify_prehash(&digest(48, hash), &sig)
                    .map_err(|_| SignatureError::Invalid)
            }
            PublicInner::P521(k) => {
                let sig = p521::ecdsa::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::Invalid)?;
                k.verify_prehash(&digest(66, hash), &sig)
                    .map_err(|_| SignatureError::Invalid)
            }
        }
    }
}
