//! Containers for key material and for authentication hashes.
//!
//! [`SecretBytes`] holds anything that must not outlive its use or show up
//! in a log: SKEYID and its children, Ka, KEYMAT, Diffie-Hellman shared
//! secrets. [`HashValue`] holds what IKEv1 sends in HASH payloads (RFC 2409
//! s.5, s.5.5, s.5.7): not secret, but always compared in constant time so
//! that a peer cannot learn a valid hash byte by byte from response timing.

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Compares two byte strings in constant time (for equal lengths).
///
/// The lengths themselves are not secret: strings of different lengths
/// compare unequal at once. Use this for every MAC, HASH or key comparison.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Secret bytes: wiped from memory on drop, redacted in `Debug`.
///
/// Equality (`==`) runs in constant time. Read the bytes with
/// [`expose`](Self::expose); the name is there to make every read visible in
/// review.
#[derive(Clone, Default)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are wiped when the value is dropped.
    #[must_use]
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new secret.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self::new(bytes.to_vec())
    }

    /// A secret of `len` zero bytes, to be filled in place.
    ///
    /// The allocation has its final size from the start, so no copy of the
    /// secret is left behind by a reallocation.
    pub(crate) fn zeroed(len: usize) -> Self {
        Self::new(vec![0; len])
    }

    pub(crate) fn as_mut_slice(&mut self) -> &mut [u8] {
        self.0.as_mut_slice()
    }

    /// The secret bytes.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        self.0.as_slice()
    }

    /// Length in bytes (not secret).
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<redacted {} bytes>)", self.0.len())
    }
}

/// Wipes the bytes now (they are wiped on drop anyway) and leaves an empty
/// secret: for a caller that is done with a key before it goes out of scope.
impl Zeroize for SecretBytes {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

// The only field is a `Zeroizing`, which wipes on drop.
impl ZeroizeOnDrop for SecretBytes {}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.expose(), other.expose())
    }
}

impl Eq for SecretBytes {}

impl ConstantTimeEq for SecretBytes {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        if self.len() == other.len() {
            self.expose().ct_eq(other.expose())
        } else {
            subtle::Choice::from(0)
        }
    }
}

/// Largest output of the supported hashes (SHA2-512).
pub(crate) const MAX_HASH_LEN: usize = 64;

/// A hash or PRF output that goes on the wire: HASH_I, HASH_R, the Quick
/// Mode and Informational HASHes, or a plain digest.
///
/// `Debug` shows it in hex (it is not secret). `==` and
/// [`verify`](Self::verify) run in constant time.
#[derive(Clone, Copy)]
pub struct HashValue {
    bytes: [u8; MAX_HASH_LEN],
    len: usize,
}

impl HashValue {
    /// Wraps the first `len` bytes of `bytes`; `len` is at most
    /// [`MAX_HASH_LEN`] by construction (only hash outputs are passed).
    pub(crate) fn from_buffer(bytes: [u8; MAX_HASH_LEN], len: usize) -> Self {
        Self {
            bytes,
            len: len.min(MAX_HASH_LEN),
        }
    }

    /// The hash bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }

    /// Length in bytes: the output length of the hash that made it.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: every supported hash has a non-empty output.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether `received` (e.g. the body of a peer's HASH payload) equals
    /// this value, compared in constant time. A length mismatch is `false`.
    #[must_use]
    pub fn verify(&self, received: &[u8]) -> bool {
        ct_eq(self.as_bytes(), received)
    }
}

impl AsRef<[u8]> for HashValue {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for HashValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HashValue(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

impl PartialEq for HashValue {
    fn eq(&self, other: &Self) -> bool {
        ct_eq(self.as_bytes(), other.as_bytes())
    }
}

impl Eq for HashValue {}

impl ConstantTimeEq for HashValue {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        subtle::Choice::from(u8::from(ct_eq(self.as_bytes(), other.as_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let s = SecretBytes::from_slice(b"abc123");
        let shown = format!("{s:?}");
        assert!(!shown.contains("abc123"), "{shown}");
        assert!(!shown.contains("616263"), "{shown}");
        assert!(shown.contains("6 bytes"), "{shown}");
    }

    #[test]
    fn ct_eq_semantics() {
        assert!(ct_eq(b"abcd", b"abcd"));
        assert!(!ct_eq(b"abcd", b"abce"));
        assert!(!ct_eq(b"abcd", b"abc"));
        assert!(ct_eq(b"", b""));
        assert_eq!(
            SecretBytes::from_slice(b"k1"),
            SecretBytes::from_slice(b"k1")
        );
        assert_ne!(
            SecretBytes::from_slice(b"k1"),
            SecretBytes::from_slice(b"k2")
        );
        assert_ne!(
            SecretBytes::from_slice(b"k1"),
            SecretBytes::from_slice(b"k1 ")
        );
    }

    #[test]
    fn hash_value_verify_and_debug() {
        let mut buf = [0u8; MAX_HASH_LEN];
        buf[..3].copy_from_slice(&[0xde, 0xad, 0x01]);
        let h = HashValue::from_buffer(buf, 3);
        assert!(h.verify(&[0xde, 0xad, 0x01]));
        assert!(!h.verify(&[0xde, 0xad, 0x02]));
        assert!(!h.verify(&[0xde, 0xad, 0x01, 0x00]));
        assert_eq!(format!("{h:?}"), "HashValue(dead01)");
    }
}
