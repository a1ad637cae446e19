//! DES key checks and CBC encryption in place: the block-cipher helpers
//! shared by the ESP transforms and the IKE engine's ISAKMP ciphers
//! (`ike_sm::crypto::Cipher`).
//!
//! - [`is_weak_des_key`]: the 4 weak and 12 semi-weak DES keys of FIPS PUB
//!   74 s.3.6 (RFC 2405 s.5, RFC 2409 Appendix B), compared with the parity
//!   bits cleared, as DES itself ignores them (RFC 2405 s.5).
//! - [`is_degenerate_triple_des_key`]: a 3DES key whose K1 equals K2 or whose
//!   K2 equals K3 collapses EDE to single DES (RFC 2451 s.2.3 asks for
//!   independent keys).
//! - [`cbc_encrypt`] and [`cbc_decrypt`]: CBC over whole blocks in place
//!   with a caller-supplied IV, for any block cipher of the RustCrypto
//!   `cipher` 0.5 generation (`des`, `aes`). The IV and the block
//!   alignment are checked before any byte changes.
//!
//! Keys are secret: the checks run in constant time and wipe their copies
//! of the key.

use cbc::cipher::{
    BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt, InOutBuf,
    InnerIvInit,
};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Why [`cbc_encrypt`] or [`cbc_decrypt`] refused a buffer (nothing was
/// encrypted or decrypted then).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
pub enum CbcError {
    /// An IV that does not match the cipher's block size.
    #[error("IV must be {expected} bytes, got {actual}")]
    IvLength {
        /// The block size.
        expected: usize,
        /// The IV's length.
        actual: usize,
    },
    /// Data that is not whole blocks.
    #[error("{len} bytes is not a whole number of {block_len}-byte blocks")]
    NotBlockAligned {
        /// The data's length.
        len: usize,
        /// The block size.
        block_len: usize,
    },
}

/// The 4 weak and 12 semi-weak DES keys of FIPS PUB 74 s.3.6, as printed
/// there (odd parity); compared after clearing the parity bits.
const DES_WEAK_KEYS: [[u8; 8]; 16] = [
    // weak
    [0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01],
    [0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe, 0xfe],
    [0xe0, 0xe0, 0xe0, 0xe0, 0xf1, 0xf1, 0xf1, 0xf1],
    [0x1f, 0x1f, 0x1f, 0x1f, 0x0e, 0x0e, 0x0e, 0x0e],
    // semi-weak pairs
    [0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe],
    [0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01, 0xfe, 0x01],
    [0x1f, 0xe0, 0x1f, 0xe0, 0x0e, 0xf1, 0x0e, 0xf1],
    [0xe0, 0x1f, 0xe0, 0x1f, 0xf1, 0x0e, 0xf1, 0x0e],
    [0x01, 0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1],
    [0xe0, 0x01, 0xe0, 0x01, 0xf1, 0x01, 0xf1, 0x01],
    [0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e, 0xfe],
    [0xfe, 0x1f, 0xfe, 0x1f, 0xfe, 0x0e, 0xfe, 0x0e],
    [0x01, 0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e],
    [0x1f, 0x01, 0x1f, 0x01, 0x0e, 0x01, 0x0e, 0x01],
    [0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1, 0xfe],
    [0xfe, 0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1],
];

/// The first 8 bytes of `key` with their parity bits cleared, as DES sees
/// them (a copy of the key: wiped when dropped).
fn parity_stripped(key: &[u8]) -> Zeroizing<[u8; 8]> {
    let mut k = Zeroizing::new([0u8; 8]);
    for (d, s) in k.iter_mut().zip(key) {
        *d = s & 0xfe;
    }
    k
}

/// Whether an 8-byte DES key is weak or semi-weak (FIPS PUB 74 s.3.6),
/// ignoring the parity bits. Constant time: every table entry is compared
/// and no comparison exits early.
#[must_use]
pub fn is_weak_des_key(key: &[u8]) -> bool {
    let k = parity_stripped(key);
    let mut hit = subtle::Choice::from(0);
    for w in &DES_WEAK_KEYS {
        hit |= k.ct_eq(&*parity_stripped(w));
    }
    bool::from(hit)
}

/// Whether a 3DES key (K1 | K2 | K3) has K1 == K2 or K2 == K3, parity bits
/// ignored: EDE then is single DES. K1 == K3 (two-key 3DES) is not
/// degenerate. Constant time.
#[must_use]
pub fn is_degenerate_triple_des_key(key: &[u8; 24]) -> bool {
    let (k1, rest) = key.split_at(8);
    let (k2, k3) = rest.split_at(8);
    let (e1, e2, e3) = (
        parity_stripped(k1),
        parity_stripped(k2),
        parity_stripped(k3),
    );
    bool::from(e1.ct_eq(&*e2) | e2.ct_eq(&*e3))
}

fn check<C: cbc::cipher::BlockSizeUser>(iv: &[u8], data: &[u8]) -> Result<(), CbcError> {
    let block_len = C::block_size();
    if iv.len() != block_len {
        return Err(CbcError::IvLength {
            expected: block_len,
            actual: iv.len(),
        });
    }
    if !data.len().is_multiple_of(block_len) {
        return Err(CbcError::NotBlockAligned {
            len: data.len(),
            block_len,
        });
    }
    Ok(())
}

/// CBC-encrypts `data` in place under `iv` with the keyed block cipher
/// `cipher`. `data` must be whole blocks (padding is the caller's).
///
/// # Errors
/// [`CbcError`] when the IV is not one block or `data` is not whole
/// blocks; `data` is untouched then.
pub fn cbc_encrypt<C: BlockCipherEncrypt>(
    cipher: &C,
    iv: &[u8],
    data: &mut [u8],
) -> Result<(), CbcError> {
    check::<C>(iv, data)?;
    let mut mode =
        cbc::Encryptor::<&C>::inner_iv_slice_init(cipher, iv).map_err(|_| CbcError::IvLength {
            expected: C::block_size(),
            actual: iv.len(),
        })?;
    let (blocks, _tail) = InOutBuf::from(data).into_chunks::<C::BlockSize>();
    mode.encrypt_blocks_inout(blocks);
    Ok(())
}

/// CBC-decrypts `data` in place under `iv` with the keyed block cipher
/// `cipher`. `data` must be whole blocks; the plaintext keeps its padding.
///
/// # Errors
/// [`CbcError`] when the IV is not one block or `data` is not whole
/// blocks; `data` is untouched then.
pub fn cbc_decrypt<C: BlockCipherDecrypt>(
    cipher: &C,
    iv: &[u8],
    data: &mut [u8],
) -> Result<(), CbcError> {
    check::<C>(iv, data)?;
    let mut mode =
        cbc::Decryptor::<&C>::inner_iv_slice_init(cipher, iv).map_err(|_| CbcError::IvLength {
            expected: C::block_size(),
            actual: iv.len(),
        })?;
    let (blocks, _tail) = InOutBuf::from(data).into_chunks::<C::BlockSize>();
    mode.decrypt_blocks_inout(blocks);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use cbc::cipher::KeyInit;

    #[test]
    fn weak_keys_ignore_parity() {
        assert!(is_weak_des_key(&[0; 8]));
        assert!(is_weak_des_key(&[0xff; 8]));
        assert!(is_weak_des_key(&[
            0xe0, 0xfe, 0xe0, 0xfe, 0xf1, 0xfe, 0xf1, 0xfe
        ]));
        assert!(!is_weak_des_key(&[
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef
        ]));
        let mut k = [0x13u8; 24];
        k[8..16].copy_from_slice(&[0x57; 8]);
        assert!(
            !is_degenerate_triple_des_key(&k),
            "K1 == K3 is two-key 3DES"
        );
        k[8..16].copy_from_slice(&[0x12; 8]);
        assert!(is_degenerate_triple_des_key(&k), "K1 == K2 without parity");
    }

    #[test]
    fn cbc_checks_before_touching_the_data() {
        let aes = aes::Aes128::new_from_slice(&[7; 16]).unwrap();
        let mut buf = [1u8; 15];
        assert_eq!(
            cbc_encrypt(&aes, &[0; 16], &mut buf),
            Err(CbcError::NotBlockAligned {
                len: 15,
                block_len: 16
            })
        );
        assert_eq!(buf, [1u8; 15]);
        let mut buf = [1u8; 16];
        assert_eq!(
            cbc_decrypt(&aes, &[0; 8], &mut buf),
            Err(CbcError::IvLength {
                expected: 16,
                actual: 8
            })
        );
        assert_eq!(buf, [1u8; 16]);
        cbc_encrypt(&aes, &[3; 16], &mut buf).unwrap();
        assert_ne!(buf, [1u8; 16]);
        cbc_decrypt(&aes, &[3; 16], &mut buf).unwrap();
        assert_eq!(buf, [1u8; 16]);
    }
}
