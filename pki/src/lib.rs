//! Certificate authentication for IKEv1: private keys, the phase-1
//! signatures, X.509 certificates and their validation.
//!
//! What the IKEv1 engine needs for the signature authentication methods of
//! RFC 2409 s.5.1 (RSA signatures, method 3) and RFC 4754 (ECDSA with
//! SHA-256 on P-256, SHA-384 on P-384, SHA-512 on P-521: methods 9, 10,
//! 11):
//!
//! - [`PrivateKey`] loads our key (PKCS#1, PKCS#8 or SEC1, PEM or DER) and
//!   signs HASH_I or HASH_R ([`PrivateKey::sign_ikev1`]); [`PublicKey`]
//!   checks a peer's signature ([`PublicKey::verify_ikev1`]). An RSA
//!   signature is the EMSA-PKCS1-v1_5 padding of the hash itself, without
//!   a DigestInfo (RFC 2409 s.5.1, as strongSwan and libreswan sign); an
//!   ECDSA signature is `r || s`, each of the field's size (RFC 4754 s.7).
//! - [`Certificate`] parses an X.509 certificate (RFC 5280 s.4) as it
//!   arrives in a CERT payload (encoding 4, "X.509 Certificate -
//!   Signature") and tells whether it names the peer's ID payload
//!   ([`Certificate::matches`], RFC 4945 s.3.1 for the mapping).
//! - [`TrustStore`] holds the trust anchors (whose subject names our
//!   CERTREQ payloads carry) and CRLs (RFC 5280 s.5), and validates a
//!   peer's certificate with the intermediates it sent ([`TrustStore::validate`]):
//!   a subset of RFC 5280 s.6 (signatures, validity, basicConstraints,
//!   pathLenConstraint, keyUsage, revocation by CRL; no policies, no name
//!   constraints).
//!
//! The crate is Sans-IO like the rest of the workspace: the caller reads
//! files and passes the current time. Private keys wipe themselves on drop.

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

mod cert;
mod crl;
mod error;
mod key;
mod name;
mod pem;
mod sigalg;
mod trust;

pub use cert::{Certificate, MAX_CERT_SIZE, PeerIdentity};
pub use crl::Crl;
pub use error::{CertError, KeyError, SignError, SignatureError};
pub use key::{PrivateKey, PublicKey, SignatureAlgorithm};
pub use name::name_to_string;
pub use trust::{MAX_CHAIN_DEPTH, TrustStore, ValidatedPath};
