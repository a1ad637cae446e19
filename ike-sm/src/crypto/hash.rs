//! The negotiated hash and the IKEv1 pseudo-random function.
//!
//! RFC 2409 s.4: unless a PRF is negotiated (none is in practice), the PRF
//! is the HMAC (RFC 2104) version of the negotiated hash algorithm, used with
//! its full, untruncated output. The plain hash is needed on its own for the
//! CBC IVs of RFC 2409 Appendix B.
//!
//! SHA-2 for IKEv1 (hash attribute values 4, 5, 6) follows RFC 4868's choice
//! of HMAC-SHA2 with the full digest as the PRF, as strongSwan and libreswan
//! do.

use core::fmt;

use hmac::{EagerHash, Hmac, KeyInit, Mac};

use super::secret::{HashValue, MAX_HASH_LEN, SecretBytes};

/// A hash algorithm of an ISAKMP SA (RFC 2409 Appendix A, "Hash Algorithm").
///
/// This type names only what the crate implements; the mapping from wire
/// attribute values belongs to the policy layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// MD5 (RFC 1321); HMAC-MD5 as PRF. Weak: only when a policy names it.
    Md5,
    /// SHA-1 (FIPS 180-4); HMAC-SHA1 as PRF. Weak as the PRF: only when a
    /// policy names it.
    Sha1,
    /// SHA2-256; HMAC-SHA2-256 as PRF.
    Sha2_256,
    /// SHA2-384; HMAC-SHA2-384 as PRF.
    Sha2_384,
    /// SHA2-512; HMAC-SHA2-512 as PRF.
    Sha2_512,
}

impl HashAlgorithm {
    /// Every supported hash, weakest first.
    pub const ALL: [Self; 5] = [
        Self::Md5,
        Self::Sha1,
        Self::Sha2_256,
        Self::Sha2_384,
        Self::Sha2_512,
    ];

    /// Output length in bytes of the hash and of its HMAC.
    #[must_use]
    pub const fn output_len(self) -> usize {
        match self {
            Self::Md5 => 16,
            Self::Sha1 => 20,
            Self::Sha2_256 => 32,
            Self::Sha2_384 => 48,
            Self::Sha2_512 => 64,
        }
    }

    /// Whether this is an algorithm the project treats as weak, to be used
    /// only when a policy names it explicitly: MD5, and SHA-1. The hash of
    /// an ISAKMP SA is also its PRF (RFC 2409 s.4), the HMAC that derives
    /// SKEYID and every key after it. HMAC-SHA1 is not known to be broken,
    /// but SHA-1's collision resistance is (practical collisions since
    /// 2017), so SHA-1 stays out of key derivation unless a policy asks
    /// for it; the defaults use SHA2-256. (HMAC-SHA1-96 as an ESP
    /// integrity algorithm is not treated as weak.)
    #[must_use]
    pub const fn is_weak(self) -> bool {
        matches!(self, Self::Md5 | Self::Sha1)
    }

    /// A short display name ("MD5", "SHA1", "SHA2-256", ...).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Md5 => "MD5",
            Self::Sha1 => "SHA1",
            Self::Sha2_256 => "SHA2-256",
            Self::Sha2_384 => "SHA2-384",
            Self::Sha2_512 => "SHA2-512",
        }
    }

    /// The plain hash of the concatenation of `parts`.
    #[must_use]
    pub fn hash(self, parts: &[&[u8]]) -> HashValue {
        let mut out = [0u8; MAX_HASH_LEN];
        let len = match self {
            Self::Md5 => digest_into::<md5::Md5>(parts, &mut out),
            Self::Sha1 => digest_into::<sha1::Sha1>(parts, &mut out),
            Self::Sha2_256 => digest_into::<sha2::Sha256>(parts, &mut out),
            Self::Sha2_384 => digest_into::<sha2::Sha384>(parts, &mut out),
            Self::Sha2_512 => digest_into::<sha2::Sha512>(parts, &mut out),
        };
        HashValue::from_buffer(out, len)
    }

    /// `prf(key, parts[0] | parts[1] | ...)`: the HMAC of the concatenation
    /// of `parts`, as a secret (use for SKEYID, SKEYID_*, Ka, KEYMAT).
    #[must_use]
    pub fn prf(self, key: &[u8], parts: &[&[u8]]) -> SecretBytes {
        let mut out = SecretBytes::zeroed(self.output_len());
        self.prf_into(key, parts, out.expose_mut());
        out
    }

    /// The same PRF, for values that go on the wire (the HASH payloads).
    #[must_use]
    pub fn prf_hash(self, key: &[u8], parts: &[&[u8]]) -> HashValue {
        let mut out = [0u8; MAX_HASH_LEN];
        let len = self.output_len();
        if let Some(dst) = out.get_mut(..len) {
            self.prf_into(key, parts, dst);
        }
        HashValue::from_buffer(out, len)
    }

    /// Writes `prf(key, parts)` into `out`, which has `output_len()` bytes
    /// (callers in this module guarantee it; a shorter `out` gets a prefix).
    pub(crate) fn prf_into(self, key: &[u8], parts: &[&[u8]], out: &mut [u8]) {
        match self {
            Self::Md5 => hmac_into::<md5::Md5>(key, parts, out),
            Self::Sha1 => hmac_into::<sha1::Sha1>(key, parts, out),
            Self::Sha2_256 => hmac_into::<sha2::Sha256>(key, parts, out),
            Self::Sha2_384 => hmac_into::<sha2::Sha384>(key, parts, out),
            Self::Sha2_512 => hmac_into::<sha2::Sha512>(key, parts, out),
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn digest_into<D: sha2::Digest>(parts: &[&[u8]], out: &mut [u8; MAX_HASH_LEN]) -> usize {
    let mut d = D::new();
    for p in parts {
        d.update(p);
    }
    let result = d.finalize();
    copy_prefix(out, &result)
}

fn hmac_into<D: EagerHash>(key: &[u8], parts: &[&[u8]], out: &mut [u8])
where
    Hmac<D>: KeyInit + Mac,
{
    // HMAC takes keys of any length (RFC 2104 s.2: longer ones are hashed,
    // shorter ones zero-padded); `new_from_slice` has no failing path for it.
    #[allow(clippy::expect_used)]
    let mut mac = <Hmac<D> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    for p in parts {
        mac.update(p);
    }
    let mut tag = mac.finalize().into_bytes();
    copy_prefix(out, &tag);
    zeroize::Zeroize::zeroize(tag.as_mut_slice());
}

/// Copies as much of `src` as fits into `dst`; returns the count.
fn copy_prefix(dst: &mut [u8], src: &[u8]) -> usize {
    let n = dst.len().min(src.len());
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    // FIPS 180-2 / RFC 1321 "abc" digests.
    #[test]
    fn plain_hash_known_answers() {
        let cases = [
            (HashAlgorithm::Md5, "900150983cd24fb0d6963f7d28e17f72"),
            (
                HashAlgorithm::Sha1,
                "a9993e364706816aba3e25717850c26c9cd0d89d",
            ),
            (
                HashAlgorithm::Sha2_256,
                "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            ),
        ];
        for (alg, want) in cases {
            // Split input: the parts are concatenated.
            assert_eq!(alg.hash(&[b"a", b"", b"bc"]).as_bytes(), hex(want), "{alg}");
        }
    }

    // RFC 4231 test case 2 ("Jefe", "what do ya want for nothing?").
    #[test]
    fn hmac_sha2_known_answers() {
        let key = b"Jefe";
        let data: &[&[u8]] = &[b"what do ya want ", b"for nothing?"];
        let cases = [
            (
                HashAlgorithm::Sha2_256,
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                HashAlgorithm::Sha2_384,
                "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
            ),
            (
                HashAlgorithm::Sha2_512,
                "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
            ),
        ];
        for (alg, want) in cases {
            assert_eq!(alg.prf(key, data).expose(), hex(want), "{alg}");
            assert_eq!(alg.prf_hash(key, data).as_bytes(), hex(want), "{alg}");
        }
    }

    #[test]
    fn output_lengths() {
        for alg in HashAlgorithm::ALL {
            assert_eq!(alg.hash(&[b"x"]).len(), alg.output_len());
            assert_eq!(alg.prf(b"k", &[b"x"]).len(), alg.output_len());
        }
    }
}
