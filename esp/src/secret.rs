//! Secret bytes: the one container for key material in the workspace (the
//! IKE engine's `ike_sm::crypto::SecretBytes` is this type).

use core::fmt;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Secret bytes: wiped from memory on drop, redacted in `Debug`
/// (`SecretBytes(<redacted 16 bytes>)`), compared in constant time.
///
/// `==` does not reveal where two secrets first differ; the lengths are not
/// secret: secrets of different lengths compare unequal at once. Read the
/// bytes with [`expose`](Self::expose); the name is there to make every
/// read visible in review. [`Zeroize::zeroize`] wipes the bytes now and
/// leaves an empty secret, for a caller done with a key before it goes out
/// of scope.
#[derive(Clone, Default, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Copies `bytes` into a new secret.
    #[must_use]
    pub fn new(bytes: &[u8]) -> Self {
        Self(bytes.to_vec())
    }

    /// Takes ownership of `bytes`, without a copy; they are wiped when the
    /// value is dropped.
    #[must_use]
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// A secret of `len` zero bytes, to be filled in place through
    /// [`expose_mut`](Self::expose_mut).
    ///
    /// The allocation has its final size from the start, so no copy of the
    /// secret is left behind by a reallocation.
    #[must_use]
    pub fn zeroed(len: usize) -> Self {
        Self(vec![0; len])
    }

    /// The secret bytes.
    #[must_use]
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// The secret bytes, to be written in place.
    #[must_use]
    pub fn expose_mut(&mut self) -> &mut [u8] {
        &mut self.0
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

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        // subtle's slice comparison is false at once for unequal lengths
        // and constant time in the contents otherwise.
        bool::from(self.0.as_slice().ct_eq(other.0.as_slice()))
    }
}

impl Eq for SecretBytes {}

impl ConstantTimeEq for SecretBytes {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.as_slice().ct_eq(other.0.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_and_equality_is_by_value() {
        let s = SecretBytes::new(b"abc123");
        assert_eq!(format!("{s:?}"), "SecretBytes(<redacted 6 bytes>)");
        assert_eq!(s, SecretBytes::from_vec(b"abc123".to_vec()));
        assert_ne!(s, SecretBytes::new(b"abc124"));
        assert_ne!(s, SecretBytes::new(b"abc12"));
        assert!(bool::from(s.ct_eq(&SecretBytes::new(b"abc123"))));
        let mut z = SecretBytes::zeroed(3);
        z.expose_mut().copy_from_slice(b"xyz");
        assert_eq!(z.expose(), b"xyz");
        z.zeroize();
        assert_eq!(z, SecretBytes::default());
    }
}
