//! The CBC ciphers that encrypt ISAKMP messages.
//!
//! RFC 2409 Appendix B: every encryption algorithm of an ISAKMP SA is used in
//! CBC mode over the whole message body after the 28-byte header, with the
//! IVs of [`super::iv`]. DES-CBC (RFC 2405), 3DES-CBC (EDE with three keys,
//! RFC 2451) and AES-CBC with 128/192/256-bit keys (RFC 3602, the IKEv1 "Key
//! Length" attribute) are implemented.
//!
//! DES keys are checked against the weak and semi-weak keys of FIPS PUB 74
//! s.3.6 (RFC 2405 s.5, RFC 2409 Appendix B), ignoring the parity bits as DES
//! itself does. A 3DES key whose K1 equals K2 or whose K2 equals K3
//! collapses to single DES and is rejected too (RFC 2451 s.2.3 asks for
//! independent keys); each of its three parts is also checked for weakness.
//! The checks and the CBC mode itself are [`esp::cipher`]'s, shared with
//! the ESP transforms.
//!
//! # Padding
//!
//! RFC 2409 Appendix B pads messages "up to the nearest block size using
//! bytes containing 0x00"; RFC 2409 s.5.3 (for its encrypted payloads)
//! instead ends the padding with a byte holding the number of padding bytes.
//! [`Padding::Zeros`] (the default) sends the minimum number of zero bytes,
//! as libreswan, Openswan (see the Wireshark capture in `vectors/captures`)
//! and strongSwan do; every peer that we know of accepts it because the
//! payload chain, not the padding, delimits the plaintext.
//! [`Padding::ZerosWithLength`] always pads (1 to block-size bytes) and
//! writes the count of the other padding bytes in the last one, as racoon
//! (ipsec-tools, `pad_exclusive_tail`) does; racoon with `pad_strict on`
//! requires it. On receipt nothing is stripped here: decryption returns the
//! plaintext with its padding and the codec ignores what follows the last
//! payload.

use core::fmt;

use cbc::cipher::KeyInit;
use esp::cipher::{cbc_decrypt, cbc_encrypt, is_degenerate_triple_des_key, is_weak_des_key};
use zeroize::ZeroizeOnDrop;

use super::CryptoError;

/// An encryption algorithm of an ISAKMP SA (RFC 2409 Appendix A), with the
/// key length fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EncryptionAlgorithm {
    /// DES-CBC, 8-byte key (56 bits used), 8-byte block. Weak.
    DesCbc,
    /// 3DES-CBC (EDE, three independent keys), 24-byte key, 8-byte block.
    /// Weak.
    TripleDesCbc,
    /// AES-CBC with a 128-bit key.
    Aes128Cbc,
    /// AES-CBC with a 192-bit key.
    Aes192Cbc,
    /// AES-CBC with a 256-bit key.
    Aes256Cbc,
}

impl EncryptionAlgorithm {
    /// Every supported algorithm, weakest first.
    pub const ALL: [Self; 5] = [
        Self::DesCbc,
        Self::TripleDesCbc,
        Self::Aes128Cbc,
        Self::Aes192Cbc,
        Self::Aes256Cbc,
    ];

    /// AES-CBC with the key length given by the "Key Length" attribute (in
    /// bits: 128, 192 or 256).
    ///
    /// # Errors
    /// [`CryptoError::UnsupportedKeyLength`] for any other length.
    pub const fn aes_cbc(key_bits: u16) -> Result<Self, CryptoError> {
        match key_bits {
            128 => Ok(Self::Aes128Cbc),
            192 => Ok(Self::Aes192Cbc),
            256 => Ok(Self::Aes256Cbc),
            bits => Err(CryptoError::UnsupportedKeyLength { bits }),
        }
    }

    /// Cipher block length in bytes (also the IV length).
    #[must_use]
    pub const fn block_len(self) -> usize {
        match self {
            Self::DesCbc | Self::TripleDesCbc => 8,
            Self::Aes128Cbc | Self::Aes192Cbc | Self::Aes256Cbc => 16,
        }
    }

    /// Key length in bytes, parity bits included for DES and 3DES.
    #[must_use]
    pub const fn key_len(self) -> usize {
        match self {
            Self::DesCbc => 8,
            Self::TripleDesCbc => 24,
            Self::Aes128Cbc => 16,
            Self::Aes192Cbc => 24,
            Self::Aes256Cbc => 32,
        }
    }

    /// Whether the project treats this algorithm as weak (DES, 3DES): to be
    /// used only when a policy names it explicitly.
    #[must_use]
    pub const fn is_weak(self) -> bool {
        matches!(self, Self::DesCbc | Self::TripleDesCbc)
    }

    /// A short display name ("DES-CBC", "3DES-CBC", "AES-CBC-128", ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::DesCbc => "DES-CBC",
            Self::TripleDesCbc => "3DES-CBC",
            Self::Aes128Cbc => "AES-CBC-128",
            Self::Aes192Cbc => "AES-CBC-192",
            Self::Aes256Cbc => "AES-CBC-256",
        }
    }

    /// The length `len` bytes of plaintext take once padded with `padding`.
    #[must_use]
    pub const fn padded_len(self, len: usize, padding: Padding) -> usize {
        let bs = self.block_len();
        let rem = len % bs;
        let pad = match padding {
            Padding::Zeros if rem == 0 => 0,
            Padding::Zeros | Padding::ZerosWithLength => bs - rem,
        };
        len.saturating_add(pad)
    }
}

impl fmt::Display for EncryptionAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How an outgoing ISAKMP message body is padded to the cipher block size
/// (see the module documentation for which peers want what).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Padding {
    /// 0 to block-size - 1 zero bytes (RFC 2409 Appendix B).
    #[default]
    Zeros,
    /// 1 to block-size bytes: zeros, then a last byte holding the number of
    /// padding bytes before it (RFC 2409 s.5.3; racoon).
    ZerosWithLength,
}

impl Padding {
    /// Appends the padding for `alg` to `buf`.
    pub fn apply(self, alg: EncryptionAlgorithm, buf: &mut Vec<u8>) {
        let target = alg.padded_len(buf.len(), self);
        let pad = target.saturating_sub(buf.len());
        buf.resize(target, 0);
        if let (Self::ZerosWithLength, Some(last)) = (self, buf.last_mut()) {
            // pad <= block_len <= 16, so pad - 1 fits a byte.
            *last = u8::try_from(pad.saturating_sub(1)).unwrap_or(0);
        }
    }
}

/// A keyed CBC cipher of an ISAKMP SA.
///
/// Holds the expanded key schedule (wiped on drop); the IV is supplied per
/// call, since IKEv1 chains IVs across messages (see [`super::IvChain`]).
/// `Debug` shows only the algorithm.
#[derive(Clone)]
pub struct Cipher {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Des(des::Des),
    TripleDes(des::TdesEde3),
    Aes128(aes::Aes128),
    Aes192(aes::Aes192),
    Aes256(aes::Aes256),
}

// Each variant's key schedule wipes itself on drop (the cipher crates are
// built with their `zeroize` features); the guard below stops the build if
// one of them ever does not.
impl ZeroizeOnDrop for Cipher {}

const _: () = {
    fn wipes_on_drop<T: ZeroizeOnDrop>() {}
    #[allow(dead_code)] // only type-checked
    fn guard() {
        wipes_on_drop::<des::Des>();
        wipes_on_drop::<des::TdesEde3>();
        wipes_on_drop::<aes::Aes128>();
        wipes_on_drop::<aes::Aes192>();
        wipes_on_drop::<aes::Aes256>();
    }
};

impl Cipher {
    /// Keys `alg` with `key` (exactly [`EncryptionAlgorithm::key_len`]
    /// bytes).
    ///
    /// # Errors
    /// [`CryptoError::KeyLength`] for a key of the wrong length;
    /// [`CryptoError::WeakKey`] for a DES weak or semi-weak key (also as any
    /// third of a 3DES key); [`CryptoError::DegenerateTripleDesKey`] when
    /// K1 == K2 or K2 == K3.
    pub fn new(alg: EncryptionAlgorithm, key: &[u8]) -> Result<Self, CryptoError> {
        if key.len() != alg.key_len() {
            return Err(CryptoError::KeyLength {
                algorithm: alg,
                expected: alg.key_len(),
                actual: key.len(),
            });
        }
        let wrong_len = |_| CryptoError::KeyLength {
            algorithm: alg,
            expected: alg.key_len(),
            actual: key.len(),
        };
        let inner = match alg {
            EncryptionAlgorithm::DesCbc => {
                check_des_key(key, alg)?;
                Inner::Des(des::Des::new_from_slice(key).map_err(wrong_len)?)
            }
            EncryptionAlgorithm::TripleDesCbc => {
                check_3des_key(key)?;
                Inner::TripleDes(des::TdesEde3::new_from_slice(key).map_err(wrong_len)?)
            }
            EncryptionAlgorithm::Aes128Cbc => {
                Inner::Aes128(aes::Aes128::new_from_slice(key).map_err(wrong_len)?)
            }
            EncryptionAlgorithm::Aes192Cbc => {
                Inner::Aes192(aes::Aes192::new_from_slice(key).map_err(wrong_len)?)
            }
            EncryptionAlgorithm::Aes256Cbc => {
                Inner::Aes256(aes::Aes256::new_from_slice(key).map_err(wrong_len)?)
            }
        };
        Ok(Self { inner })
    }

    /// The algorithm this cipher was keyed for.
    #[must_use]
    pub fn algorithm(&self) -> EncryptionAlgorithm {
        match self.inner {
            Inner::Des(_) => EncryptionAlgorithm::DesCbc,
            Inner::TripleDes(_) => EncryptionAlgorithm::TripleDesCbc,
            Inner::Aes128(_) => EncryptionAlgorithm::Aes128Cbc,
            Inner::Aes192(_) => EncryptionAlgorithm::Aes192Cbc,
            Inner::Aes256(_) => EncryptionAlgorithm::Aes256Cbc,
        }
    }

    /// Block length in bytes.
    #[must_use]
    pub fn block_len(&self) -> usize {
        self.algorithm().block_len()
    }

    /// CBC-encrypts `buf` in place with `iv`. `buf` must be whole blocks
    /// (pad it first, e.g. with [`Padding::apply`]).
    ///
    /// # Errors
    /// [`CryptoError::IvLength`] or [`CryptoError::NotBlockAligned`]; `buf`
    /// is untouched then.
    pub fn encrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        let done = match &self.inner {
            Inner::Des(c) => cbc_encrypt(c, iv, buf),
            Inner::TripleDes(c) => cbc_encrypt(c, iv, buf),
            Inner::Aes128(c) => cbc_encrypt(c, iv, buf),
            Inner::Aes192(c) => cbc_encrypt(c, iv, buf),
            Inner::Aes256(c) => cbc_encrypt(c, iv, buf),
        };
        done.map_err(CryptoError::from)
    }

    /// CBC-decrypts `buf` in place with `iv`. `buf` must be whole blocks.
    /// The plaintext keeps its padding.
    ///
    /// # Errors
    /// [`CryptoError::IvLength`] or [`CryptoError::NotBlockAligned`]; `buf`
    /// is untouched then.
    pub fn decrypt_in_place(&self, iv: &[u8], buf: &mut [u8]) -> Result<(), CryptoError> {
        let done = match &self.inner {
            Inner::Des(c) => cbc_decrypt(c, iv, buf),
            Inner::TripleDes(c) => cbc_decrypt(c, iv, buf),
            Inner::Aes128(c) => cbc_decrypt(c, iv, buf),
            Inner::Aes192(c) => cbc_decrypt(c, iv, buf),
            Inner::Aes256(c) => cbc_decrypt(c, iv, buf),
        };
        done.map_err(CryptoError::from)
    }
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

fn check_des_key(key: &[u8], alg: EncryptionAlgorithm) -> Result<(), CryptoError> {
    if is_weak_des_key(key) {
        Err(CryptoError::WeakKey { algorithm: alg })
    } else {
        Ok(())
    }
}

fn check_3des_key(key: &[u8]) -> Result<(), CryptoError> {
    let key: &[u8; 24] = key.try_into().map_err(|_| CryptoError::KeyLength {
        algorithm: EncryptionAlgorithm::TripleDesCbc,
        expected: 24,
        actual: key.len(),
    })?;
    for k in key.chunks(8) {
        check_des_key(k, EncryptionAlgorithm::TripleDesCbc)?;
    }
    if is_degenerate_triple_des_key(key) {
        return Err(CryptoError::DegenerateTripleDesKey);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_lengths() {
        let a = EncryptionAlgorithm::Aes128Cbc;
        assert_eq!(a.padded_len(0, Padding::Zeros), 0);
        assert_eq!(a.padded_len(1, Padding::Zeros), 16);
        assert_eq!(a.padded_len(16, Padding::Zeros), 16);
        assert_eq!(a.padded_len(16, Padding::ZerosWithLength), 32);
        assert_eq!(a.padded_len(17, Padding::ZerosWithLength), 32);
        let mut v = vec![0xaa; 13];
        Padding::ZerosWithLength.apply(EncryptionAlgorithm::DesCbc, &mut v);
        assert_eq!(v, [[0xaa; 13].as_slice(), &[0, 0, 2]].concat());
        let mut v = vec![0xaa; 8];
        Padding::ZerosWithLength.apply(EncryptionAlgorithm::DesCbc, &mut v);
        assert_eq!(v, [[0xaa; 8].as_slice(), &[0; 7], &[7]].concat());
        let mut v = vec![0xaa; 13];
        Padding::Zeros.apply(EncryptionAlgorithm::DesCbc, &mut v);
        assert_eq!(v, [[0xaa; 13].as_slice(), &[0, 0, 0]].concat());
    }

    #[test]
    fn misuse_is_an_error_not_a_panic() {
        let c = Cipher::new(EncryptionAlgorithm::Aes128Cbc, &[7; 16]).unwrap();
        let mut buf = [1u8; 15];
        assert_eq!(
            c.encrypt_in_place(&[0; 16], &mut buf),
            Err(CryptoError::NotBlockAligned {
                len: 15,
                block_len: 16
            })
        );
        assert_eq!(buf, [1u8; 15]);
        assert_eq!(
            c.decrypt_in_place(&[0; 8], &mut [0; 16]),
            Err(CryptoError::IvLength {
                expected: 16,
                actual: 8
            })
        );
        assert!(matches!(
            Cipher::new(EncryptionAlgorithm::TripleDesCbc, &[1; 16]),
            Err(CryptoError::KeyLength {
                expected: 24,
                actual: 16,
                ..
            })
        ));
        assert!(EncryptionAlgorithm::aes_cbc(100).is_err());
        assert_eq!(
            EncryptionAlgorithm::aes_cbc(192),
            Ok(EncryptionAlgorithm::Aes192Cbc)
        );
    }

    #[test]
    fn weak_key_check_ignores_parity() {
        // 0x00.. and 0x01.. are the same DES key (parity bits differ).
        assert!(is_weak_des_key(&[0; 8]));
        assert!(is_weak_des_key(&[0xff; 8]));
        assert!(!is_weak_des_key(&[
            0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef
        ]));
        let mut k = [0x13u8; 24];
        k[8..16].copy_from_slice(&[0x57; 8]);
        k[16..].copy_from_slice(&[0x13; 8]);
        // K1 == K3 is two-key 3DES: allowed.
        assert!(Cipher::new(EncryptionAlgorithm::TripleDesCbc, &k).is_ok());
        k[8..16].copy_from_slice(&[0x12; 8]); // K2 == K1 once parity is ignored
        assert_eq!(
            Cipher::new(EncryptionAlgorithm::TripleDesCbc, &k).err(),
            Some(CryptoError::DegenerateTripleDesKey)
        );
    }

    #[test]
    fn debug_does_not_show_key_schedule() {
        let c = Cipher::new(EncryptionAlgorithm::DesCbc, &[0x13; 8]).unwrap();
        assert_eq!(format!("{c:?}"), "Cipher { algorithm: DesCbc, .. }");
    }
}
