//! The cryptography of IKEv1: PRFs and hashes, CBC ciphers, MODP
//! Diffie-Hellman, the RFC 2409 key derivation, and the CBC IV chains.
//!
//! Everything here is a pure function of its inputs or a small value type:
//! no clock, no state machine, no OS randomness (the only random input, a
//! Diffie-Hellman private value, comes from the caller's
//! [`rand_core::CryptoRng`]). The engine composes it as follows for one
//! ISAKMP SA (RFC 2409 s.5 and Appendix B):
//!
//! ```
//! use ike_sm::crypto::{
//!     DhGroup, DhKeyPair, EncryptionAlgorithm, HashAlgorithm, IvChain, Padding, Skeyid,
//! };
//! # use rand_chacha::ChaCha20Rng;
//! # use rand_core::SeedableRng;
//! # let mut rng = ChaCha20Rng::from_seed([0; 32]);
//! let (hash, enc, group) = (HashAlgorithm::Sha1, EncryptionAlgorithm::Aes128Cbc, DhGroup::Modp2048);
//!
//! // Main Mode messages 3 and 4: exchange public values and nonces.
//! let ours = DhKeyPair::generate(group, &mut rng);
//! # let theirs = DhKeyPair::generate(group, &mut rng);
//! # let peer_public = theirs.public_value();
//! let g_xy = ours.shared_secret(peer_public)?;
//! let (ni_b, nr_b, cky_i, cky_r) = (b"initiator nonce", b"responder nonce", [1u8; 8], [2u8; 8]);
//!
//! // Keys.
//! let keys = Skeyid::pre_shared_key(hash, b"abc123", ni_b, nr_b)
//!     .derive(g_xy.expose(), &cky_i, &cky_r);
//! let cipher = keys.cipher(enc)?;
//!
//! // Message 5: encrypt with the phase-1 IV; commit the IV once sent.
//! let mut chain = IvChain::phase1(hash, enc, ours.public_value(), peer_public);
//! let mut body = b"ID | HASH_I payloads".to_vec();
//! let pending = chain.encrypt(&cipher, &mut body, Padding::Zeros)?;
//! pending.commit(&mut chain)?;
//!
//! // Quick Mode: a chain per message ID, from the final phase-1 IV.
//! let qm_chain = chain.for_message_id(0x1234_5678);
//! # let _ = qm_chain;
//! # Ok::<(), ike_sm::crypto::CryptoError>(())
//! ```
//!
//! Secrets ([`SecretBytes`], [`Phase1Keys`], [`DhKeyPair`], [`Cipher`]) are
//! wiped on drop and never shown by `Debug`. Hashes received from a peer are
//! checked with [`HashValue::verify`], in constant time.
//!
//! Weak algorithms (DES, 3DES, MD5, SHA-1 as the phase-1 hash and PRF,
//! groups 1 and 2) are available because
//! the seed scenario and deployed peers use them; every type says which of
//! its values are weak (`is_weak`) so that the policy layer can refuse them
//! unless a policy names them. Nothing here picks an algorithm by default.

mod cipher;
mod dh;
mod hash;
mod iv;
mod kdf;
mod secret;

pub use cipher::{Cipher, EncryptionAlgorithm, Padding};
pub use dh::{DhGroup, DhKeyPair};
pub use hash::HashAlgorithm;
pub use iv::{IvChain, PendingIv};
pub use kdf::{Phase1Keys, Phase1Transcript, Skeyid, appendix_b_expand, prf_expand};
pub use secret::{HashValue, SecretBytes, ct_eq};

/// What went wrong in a cryptographic operation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A cipher key of the wrong length.
    #[error("{algorithm} needs a {expected}-byte key, got {actual} bytes")]
    KeyLength {
        /// The algorithm being keyed.
        algorithm: EncryptionAlgorithm,
        /// Its key length.
        expected: usize,
        /// The length supplied.
        actual: usize,
    },
    /// A DES weak or semi-weak key (FIPS PUB 74 s.3.6), alone or as part
    /// of a 3DES key.
    #[error("{algorithm} key is a DES weak or semi-weak key")]
    WeakKey {
        /// The algorithm being keyed.
        algorithm: EncryptionAlgorithm,
    },
    /// A 3DES key with K1 == K2 or K2 == K3, which is single DES.
    #[error("3DES key degenerates to single DES (K1 == K2 or K2 == K3)")]
    DegenerateTripleDesKey,
    /// An AES key length other than 128, 192 or 256 bits.
    #[error("unsupported AES key length {bits} bits (128, 192 or 256)")]
    UnsupportedKeyLength {
        /// The key length attribute's value.
        bits: u16,
    },
    /// An IV that does not match the cipher's block size.
    #[error("IV must be {expected} bytes, got {actual}")]
    IvLength {
        /// The block size.
        expected: usize,
        /// The IV's length.
        actual: usize,
    },
    /// Ciphertext or padded plaintext that is not whole blocks.
    #[error("{len} bytes is not a whole number of {block_len}-byte blocks")]
    NotBlockAligned {
        /// The data's length.
        len: usize,
        /// The block size.
        block_len: usize,
    },
    /// A peer public value of the wrong length (RFC 2409 s.5 requires the
    /// prime's length).
    #[error("{group}: public value has {actual} bytes, expected {expected}")]
    DhPublicValueLength {
        /// The group.
        group: DhGroup,
        /// The prime's length.
        expected: usize,
        /// The value's length.
        actual: usize,
    },
    /// A peer public value y outside 1 < y < p-1.
    #[error("{group}: public value out of range (need 1 < y < p-1)")]
    DhPublicValueRange {
        /// The group.
        group: DhGroup,
    },
    /// An imported private value x outside 1 < x < p-1, or longer than the
    /// prime.
    #[error("{group}: private value out of range (need 1 < x < p-1)")]
    DhPrivateValue {
        /// The group.
        group: DhGroup,
    },
    /// A shared secret of 1 or p-1 (only a bad imported private value can
    /// produce it).
    #[error("{group}: degenerate shared secret")]
    DhDegenerateSecret {
        /// The group.
        group: DhGroup,
    },
    /// A [`PendingIv`] committed to a chain that has moved since the
    /// operation began, or to another chain.
    #[error("IV chain moved since this message was processed; not committed")]
    StaleIv,
}

/// The CBC helpers' refusals, which [`Cipher`] reports as its own.
impl From<esp::cipher::CbcError> for CryptoError {
    fn from(e: esp::cipher::CbcError) -> Self {
        match e {
            esp::cipher::CbcError::IvLength { expected, actual } => {
                Self::IvLength { expected, actual }
            }
            esp::cipher::CbcError::NotBlockAligned { len, block_len } => {
                Self::NotBlockAligned { len, block_len }
            }
        }
    }
}
