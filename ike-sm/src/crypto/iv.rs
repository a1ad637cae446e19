//! The CBC IV chains of an ISAKMP SA (RFC 2409 Appendix B).
//!
//! - Phase 1: the first encrypted message uses
//!   `hash(g^xi | g^xr)` truncated to the cipher's block size; each later
//!   phase-1 message uses the last ciphertext block of the message before it
//!   (whoever sent it).
//! - Phase 2 and Informational: each exchange, identified by its message ID,
//!   starts from `hash(last phase-1 CBC output block | M-ID)` (M-ID in
//!   network order) and then chains the same way within the exchange.
//!
//! [`IvChain`] holds the current IV of one such chain. Encrypting or
//! decrypting a message does not move it: the operation returns a
//! [`PendingIv`] that the engine [commits](PendingIv::commit) only once the
//! message is accepted (its HASH verified, its state transition taken). A
//! message that fails its checks is simply dropped, and the chain stays
//! where it was. Retransmissions are recognised by their bytes before any
//! decryption (a peer retransmits the same ciphertext) and are never
//! decrypted against an advanced chain; our own retransmissions resend the
//! stored ciphertext without encrypting again.
//!
//! Phase-2 chains are derived from the phase-1 chain's *current* IV, so
//! derive them once phase 1 is complete; the phase-1 chain does not move
//! afterwards (phase-2 and Informational messages do not touch it).

use core::fmt;

use super::CryptoError;
use super::cipher::{Cipher, EncryptionAlgorithm, Padding};
use super::hash::HashAlgorithm;

/// Largest block size of the supported ciphers (AES).
const MAX_BLOCK: usize = 16;

#[derive(Clone, Copy, PartialEq, Eq)]
struct Iv {
    bytes: [u8; MAX_BLOCK],
    len: usize,
}

impl Iv {
    fn from_slice(iv: &[u8]) -> Option<Self> {
        let mut bytes = [0u8; MAX_BLOCK];
        bytes.get_mut(..iv.len())?.copy_from_slice(iv);
        Some(Self {
            bytes,
            len: iv.len(),
        })
    }

    fn as_slice(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Debug for Iv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.as_slice() {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The current CBC IV of one chain: the phase-1 chain of an ISAKMP SA, or
/// the chain of one phase-2 / Informational message ID.
///
/// IVs are not secret (the phase-1 IV is computed from public values and
/// later ones are ciphertext), so `Debug` shows them.
#[derive(Clone, PartialEq, Eq)]
pub struct IvChain {
    hash: HashAlgorithm,
    iv: Iv,
}

impl IvChain {
    /// The phase-1 chain: IV = `hash(g^xi | g^xr)` truncated to the block
    /// size of `cipher`, with the public values as sent in the KE payloads.
    #[must_use]
    pub fn phase1(
        hash: HashAlgorithm,
        cipher: EncryptionAlgorithm,
        g_xi: &[u8],
        g_xr: &[u8],
    ) -> Self {
        Self::from_digest(hash, cipher.block_len(), &[g_xi, g_xr])
    }

    /// A chain that starts at `iv` (8 or 16 bytes), e.g. to resume from a
    /// recorded state.
    ///
    /// # Errors
    /// [`CryptoError::IvLength`] for any other length.
    pub fn from_iv(hash: HashAlgorithm, iv: &[u8]) -> Result<Self, CryptoError> {
        match iv.len() {
            8 | 16 => Iv::from_slice(iv)
                .map(|iv| Self { hash, iv })
                .ok_or(CryptoError::IvLength {
                    expected: MAX_BLOCK,
                    actual: iv.len(),
                }),
            n => Err(CryptoError::IvLength {
                expected: MAX_BLOCK,
                actual: n,
            }),
        }
    }

    /// The chain of the phase-2 or Informational exchange with message ID
    /// `message_id`, derived from this phase-1 chain's current IV:
    /// `hash(IV | M-ID)` truncated to the block size.
    #[must_use]
    pub fn for_message_id(&self, message_id: u32) -> Self {
        Self::from_digest(
            self.hash,
            self.iv.len,
            &[self.iv.as_slice(), &message_id.to_be_bytes()],
        )
    }

    fn from_digest(hash: HashAlgorithm, block_len: usize, parts: &[&[u8]]) -> Self {
        let digest = hash.hash(parts);
        // Every supported hash is at least 16 bytes and blocks are 8 or 16
        // bytes, so the prefix always exists.
        let prefix = digest
            .as_bytes()
            .get(..block_len.min(MAX_BLOCK))
            .unwrap_or_default();
        let iv = Iv::from_slice(prefix).unwrap_or(Iv {
            bytes: [0; MAX_BLOCK],
            len: 0,
        });
        Self { hash, iv }
    }

    /// The IV the next message of this chain is encrypted or decrypted
    /// with.
    #[must_use]
    pub fn iv(&self) -> &[u8] {
        self.iv.as_slice()
    }

    /// The hash used to derive message-ID chains.
    #[must_use]
    pub fn hash_algorithm(&self) -> HashAlgorithm {
        self.hash
    }

    /// Pads `body` (the message after the 28-byte ISAKMP header) with
    /// `padding` and encrypts it in place with the current IV. The chain
    /// does not move until the returned [`PendingIv`] is committed.
    ///
    /// # Errors
    /// [`CryptoError::IvLength`] if this chain's IV does not match the
    /// cipher's block size; `body` is untouched then.
    pub fn encrypt(
        &self,
        cipher: &Cipher,
        body: &mut Vec<u8>,
        padding: Padding,
    ) -> Result<PendingIv, CryptoError> {
        self.check_block(cipher)?;
        padding.apply(cipher.algorithm(), body);
        cipher.encrypt_in_place(self.iv(), body)?;
        Ok(self.pending_after(body))
    }

    /// Decrypts `body` (the message after the 28-byte ISAKMP header) in
    /// place with the current IV. The plaintext keeps its padding. The
    /// chain does not move until the returned [`PendingIv`] is committed.
    ///
    /// # Errors
    /// [`CryptoError::NotBlockAligned`] if `body` is not whole blocks (a
    /// malformed message), [`CryptoError::IvLength`] if this chain does not
    /// fit the cipher; `body` is untouched then.
    pub fn decrypt(&self, cipher: &Cipher, body: &mut [u8]) -> Result<PendingIv, CryptoError> {
        self.check_block(cipher)?;
        // The next IV is the last *ciphertext* block: take it before
        // decrypting in place.
        let pending = self.pending_after(body);
        cipher.decrypt_in_place(self.iv(), body)?;
        Ok(pending)
    }

    fn check_block(&self, cipher: &Cipher) -> Result<(), CryptoError> {
        if self.iv.len == cipher.block_len() {
            Ok(())
        } else {
            Err(CryptoError::IvLength {
                expected: cipher.block_len(),
                actual: self.iv.len,
            })
        }
    }

    /// The pending move to the last block of `ciphertext` (or nowhere, for
    /// an empty one).
    fn pending_after(&self, ciphertext: &[u8]) -> PendingIv {
        let n = self.iv.len;
        let next = ciphertext
            .len()
            .checked_sub(n)
            .and_then(|start| ciphertext.get(start..))
            .filter(|_| n > 0)
            .and_then(Iv::from_slice)
            .unwrap_or(self.iv);
        PendingIv {
            from: self.iv,
            to: next,
        }
    }
}

impl fmt::Debug for IvChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IvChain")
            .field("hash", &self.hash)
            .field("iv", &self.iv)
            .finish()
    }
}

/// The IV a chain moves to once the message just encrypted or decrypted is
/// accepted. Dropping it leaves the chain unchanged.
#[must_use = "the IV chain only advances when the pending IV is committed"]
#[derive(Clone, PartialEq, Eq)]
pub struct PendingIv {
    from: Iv,
    to: Iv,
}

impl PendingIv {
    /// The IV the chain will hold after [`commit`](Self::commit): the last
    /// ciphertext block of the message.
    #[must_use]
    pub fn next_iv(&self) -> &[u8] {
        self.to.as_slice()
    }

    /// Advances `chain`, which must still be at the IV this operation
    /// started from.
    ///
    /// # Errors
    /// [`CryptoError::StaleIv`] if `chain` has moved since (another message
    /// was committed first) or is another chain; `chain` is unchanged then.
    pub fn commit(self, chain: &mut IvChain) -> Result<(), CryptoError> {
        if chain.iv == self.from {
            chain.iv = self.to;
            Ok(())
        } else {
            Err(CryptoError::StaleIv)
        }
    }
}

impl fmt::Debug for PendingIv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingIv")
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain_and_cipher() -> (IvChain, Cipher) {
        let chain = IvChain::phase1(
            HashAlgorithm::Sha1,
            EncryptionAlgorithm::Aes128Cbc,
            b"gxi",
            b"gxr",
        );
        let cipher = Cipher::new(EncryptionAlgorithm::Aes128Cbc, &[0x42; 16]).unwrap();
        (chain, cipher)
    }

    #[test]
    fn chain_moves_only_on_commit() {
        let (mut a, cipher) = chain_and_cipher();
        let mut b = a.clone();
        let start = a.iv().to_vec();
        let mut msg = b"first message, two blocks long!".to_vec();
        let sent = msg.clone();
        let pending = a.encrypt(&cipher, &mut msg, Padding::Zeros).unwrap();
        assert_eq!(a.iv(), start.as_slice(), "encrypt must not move the chain");
        assert_eq!(pending.next_iv(), &msg[msg.len() - 16..]);
        pending.commit(&mut a).unwrap();
        assert_eq!(a.iv(), &msg[msg.len() - 16..]);

        // The receiver: a rejected decryption (dropped PendingIv) leaves it.
        let mut copy = msg.clone();
        let rejected = b.decrypt(&cipher, &mut copy).unwrap();
        drop(rejected);
        assert_eq!(b.iv(), start.as_slice());
        let mut copy = msg.clone();
        let accepted = b.decrypt(&cipher, &mut copy).unwrap();
        assert_eq!(&copy[..sent.len()], sent.as_slice());
        assert_eq!(copy.len(), 32);
        accepted.commit(&mut b).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn stale_commit_is_refused() {
        let (mut chain, cipher) = chain_and_cipher();
        let mut m1 = vec![1u8; 16];
        let mut m2 = vec![2u8; 16];
        let p1 = chain.encrypt(&cipher, &mut m1, Padding::Zeros).unwrap();
        let p2 = chain.encrypt(&cipher, &mut m2, Padding::Zeros).unwrap();
        p1.commit(&mut chain).unwrap();
        let before = chain.clone();
        assert_eq!(p2.commit(&mut chain), Err(CryptoError::StaleIv));
        assert_eq!(chain, before);
    }

    #[test]
    fn message_id_chains_differ_and_keep_block_size() {
        let (chain, _) = chain_and_cipher();
        let a = chain.for_message_id(1);
        let b = chain.for_message_id(2);
        assert_ne!(a.iv(), b.iv());
        assert_eq!(a.iv().len(), 16);
        assert_eq!(
            a.iv(),
            &HashAlgorithm::Sha1
                .hash(&[chain.iv(), &[0, 0, 0, 1]])
                .as_bytes()[..16]
        );
    }

    #[test]
    fn malformed_input_is_an_error() {
        let (chain, cipher) = chain_and_cipher();
        let mut odd = vec![0u8; 17];
        assert!(matches!(
            chain.decrypt(&cipher, &mut odd),
            Err(CryptoError::NotBlockAligned { len: 17, .. })
        ));
        assert_eq!(odd, vec![0u8; 17]);
        let des = Cipher::new(EncryptionAlgorithm::DesCbc, &[0x13; 8]).unwrap();
        assert!(matches!(
            chain.decrypt(&des, &mut [0u8; 16]),
            Err(CryptoError::IvLength { .. })
        ));
        assert!(IvChain::from_iv(HashAlgorithm::Md5, &[0; 12]).is_err());
        // An empty body decrypts to nothing and leaves the IV where it was.
        let p = chain.decrypt(&cipher, &mut []).unwrap();
        assert_eq!(p.next_iv(), chain.iv());
    }
}
