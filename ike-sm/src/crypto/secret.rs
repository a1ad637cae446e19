//! Containers for key material and for authentication hashes.
//!
//! [`SecretBytes`] holds anything that must not outlive its use or show up
//! in a log: SKEYID and its children, Ka, KEYMAT, Diffie-Hellman shared
//! secrets. [`HashValue`] holds what IKEv1 sends in HASH payloads (RFC 2409
//! s.5, s.5.5, s.5.7): not secret, but always compared in constant time so
//! that a peer cannot learn a valid hash byte by byte from response timing.

use core::fmt;

use subtle::ConstantTimeEq;

/// Compares two byte strings in constant time (for equal lengths).
///
/// The lengths themselves are not secret: strings of different lengths
/// compare unequal at once. Use this for every MAC, HASH or key comparison.
#[must_use]
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Secret bytes: wiped from memory on drop, redacted in `Debug`, compared
/// in constant time. The ESP engine's type, shared so that keys pass from
/// the IKE engine to ESP without conversion.
pub use esp::SecretBytes;

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
        let s = SecretBytes::new(b"abc123");
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
        assert_eq!(SecretBytes::new(b"k1"), SecretBytes::new(b"k1"));
        assert_ne!(SecretBytes::new(b"k1"), SecretBytes::new(b"k2"));
        assert_ne!(SecretBytes::new(b"k1"), SecretBytes::new(b"k1 "));
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
