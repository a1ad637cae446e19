//! IKEv1 key derivation and authentication hashes (RFC 2409 s.5, s.5.5,
//! s.5.7 and Appendix B).
//!
//! The flow of a phase-1 exchange:
//!
//! 1. [`Skeyid`] from the authentication method: pre-shared key
//!    (`prf(psk, Ni_b | Nr_b)`) or signatures (`prf(Ni_b | Nr_b, g^xy)`).
//! 2. [`Skeyid::derive`] gives [`Phase1Keys`]: SKEYID_d, SKEYID_a and
//!    SKEYID_e (s.5: `SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)`,
//!    `SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)`,
//!    `SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)`).
//! 3. From those: the encryption key Ka (Appendix B), HASH_I and HASH_R,
//!    the Quick Mode and Informational HASHes, and KEYMAT for each IPsec SA.
//!
//! Here `Ni_b`/`Nr_b` are nonce payload bodies, `g^xy` is the shared secret
//! left-padded to the prime's length (as [`super::DhKeyPair::shared_secret`]
//! returns it), and the numbers 0, 1, 2 are single octets.

use super::CryptoError;
use super::cipher::{Cipher, EncryptionAlgorithm};
use super::hash::HashAlgorithm;
use super::secret::{HashValue, SecretBytes};
use zeroize::ZeroizeOnDrop;

/// SKEYID, the root secret of an ISAKMP SA (RFC 2409 s.5).
#[derive(Clone, Debug)]
pub struct Skeyid {
    prf: HashAlgorithm,
    value: SecretBytes,
}

// `value` is a `SecretBytes`, wiped on drop.
impl ZeroizeOnDrop for Skeyid {}

impl Skeyid {
    /// For pre-shared key authentication: `SKEYID = prf(psk, Ni_b | Nr_b)`.
    #[must_use]
    pub fn pre_shared_key(prf: HashAlgorithm, psk: &[u8], ni_b: &[u8], nr_b: &[u8]) -> Self {
        Self {
            prf,
            value: prf.prf(psk, &[ni_b, nr_b]),
        }
    }

    /// For signature authentication: `SKEYID = prf(Ni_b | Nr_b, g^xy)`.
    #[must_use]
    pub fn signature(prf: HashAlgorithm, ni_b: &[u8], nr_b: &[u8], g_xy: &[u8]) -> Self {
        let mut key = Vec::with_capacity(ni_b.len().saturating_add(nr_b.len()));
        key.extend_from_slice(ni_b);
        key.extend_from_slice(nr_b);
        Self {
            prf,
            value: prf.prf(&key, &[g_xy]),
        }
    }

    /// The PRF's hash algorithm.
    #[must_use]
    pub fn prf_algorithm(&self) -> HashAlgorithm {
        self.prf
    }

    /// SKEYID itself.
    #[must_use]
    pub fn value(&self) -> &SecretBytes {
        &self.value
    }

    /// Derives SKEYID_d, SKEYID_a and SKEYID_e (RFC 2409 s.5).
    #[must_use]
    pub fn derive(self, g_xy: &[u8], cky_i: &[u8; 8], cky_r: &[u8; 8]) -> Phase1Keys {
        let prf = self.prf;
        let k = self.value.expose();
        let skeyid_d = prf.prf(k, &[g_xy, cky_i, cky_r, &[0]]);
        let skeyid_a = prf.prf(k, &[skeyid_d.expose(), g_xy, cky_i, cky_r, &[1]]);
        let skeyid_e = prf.prf(k, &[skeyid_a.expose(), g_xy, cky_i, cky_r, &[2]]);
        Phase1Keys {
            prf,
            skeyid: self.value,
            skeyid_d,
            skeyid_a,
            skeyid_e,
        }
    }
}

/// What HASH_I and HASH_R cover besides the identity (RFC 2409 s.5).
///
/// The same value serves both directions; the responder's hash mirrors the
/// order of the public values and cookies.
#[derive(Clone, Copy, Debug)]
pub struct Phase1Transcript<'a> {
    /// The initiator's public value g^xi (its KE payload body).
    pub g_xi: &'a [u8],
    /// The responder's public value g^xr (its KE payload body).
    pub g_xr: &'a [u8],
    /// The initiator cookie.
    pub cky_i: [u8; 8],
    /// The responder cookie.
    pub cky_r: [u8; 8],
    /// SAi_b: the initiator's whole SA payload body, without the generic
    /// payload header (DOI, situation, every proposal and transform it
    /// offered).
    pub sai_b: &'a [u8],
}

/// The secrets of an established (or establishing) ISAKMP SA: SKEYID and
/// SKEYID_d/_a/_e, with the derivations that use them.
///
/// All of them are wiped on drop and redacted in `Debug`.
#[derive(Clone, Debug)]
pub struct Phase1Keys {
    prf: HashAlgorithm,
    skeyid: SecretBytes,
    skeyid_d: SecretBytes,
    skeyid_a: SecretBytes,
    skeyid_e: SecretBytes,
}

// Every secret field is a `SecretBytes`, wiped on drop.
impl ZeroizeOnDrop for Phase1Keys {}

impl Phase1Keys {
    /// The PRF's hash algorithm.
    #[must_use]
    pub fn prf_algorithm(&self) -> HashAlgorithm {
        self.prf
    }

    /// SKEYID.
    #[must_use]
    pub fn skeyid(&self) -> &SecretBytes {
        &self.skeyid
    }

    /// SKEYID_d: keys the phase-2 KEYMAT.
    #[must_use]
    pub fn skeyid_d(&self) -> &SecretBytes {
        &self.skeyid_d
    }

    /// SKEYID_a: keys the phase-2 and Informational HASHes.
    #[must_use]
    pub fn skeyid_a(&self) -> &SecretBytes {
        &self.skeyid_a
    }

    /// SKEYID_e: the source of the encryption key Ka.
    #[must_use]
    pub fn skeyid_e(&self) -> &SecretBytes {
        &self.skeyid_e
    }

    /// Ka, the ISAKMP SA's encryption key for `alg`: SKEYID_e truncated to
    /// the key length, or expanded per RFC 2409 Appendix B when it is
    /// shorter (e.g. 3DES with SHA-1, AES-256 with MD5 or SHA-1).
    #[must_use]
    pub fn encryption_key(&self, alg: EncryptionAlgorithm) -> SecretBytes {
        appendix_b_expand(self.prf, self.skeyid_e.expose(), alg.key_len())
    }

    /// A [`Cipher`] keyed with [`encryption_key`](Self::encryption_key).
    ///
    /// # Errors
    /// [`CryptoError::WeakKey`] or [`CryptoError::DegenerateTripleDesKey`]
    /// if the derived DES/3DES key is unusable (probability about 2^-52 per
    /// SA; the negotiation must then fail, as RFC 2409 defines no retry).
    pub fn cipher(&self, alg: EncryptionAlgorithm) -> Result<Cipher, CryptoError> {
        Cipher::new(alg, self.encryption_key(alg).expose())
    }

    /// HASH_I = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b),
    /// where `id_ii_b` is the initiator's ID payload body.
    #[must_use]
    pub fn hash_i(&self, t: &Phase1Transcript<'_>, id_ii_b: &[u8]) -> HashValue {
        self.hash_i_with(self.prf, t, id_ii_b)
    }

    /// HASH_I under another PRF than the negotiated one: RFC 4754's ECDSA
    /// methods take the PRF of their curve's hash (HMAC-SHA-256 for
    /// P-256, -384 for P-384, -512 for P-521), keyed with the same SKEYID,
    /// as strongSwan does.
    #[must_use]
    pub fn hash_i_with(
        &self,
        prf: HashAlgorithm,
        t: &Phase1Transcript<'_>,
        id_ii_b: &[u8],
    ) -> HashValue {
        prf.prf_hash(
            self.skeyid.expose(),
            &[t.g_xi, t.g_xr, &t.cky_i, &t.cky_r, t.sai_b, id_ii_b],
        )
    }

    /// HASH_R = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b),
    /// where `id_ir_b` is the responder's ID payload body.
    #[must_use]
    pub fn hash_r(&self, t: &Phase1Transcript<'_>, id_ir_b: &[u8]) -> HashValue {
        self.hash_r_with(self.prf, t, id_ir_b)
    }

    /// HASH_R under another PRF than the negotiated one (see
    /// [`hash_i_with`](Self::hash_i_with)).
    #[must_use]
    pub fn hash_r_with(
        &self,
        prf: HashAlgorithm,
        t: &Phase1Transcript<'_>,
        id_ir_b: &[u8],
    ) -> HashValue {
        prf.prf_hash(
            self.skeyid.expose(),
            &[t.g_xr, t.g_xi, &t.cky_r, &t.cky_i, t.sai_b, id_ir_b],
        )
    }

    /// Quick Mode HASH(1) = prf(SKEYID_a, M-ID | rest) (RFC 2409 s.5.5),
    /// where `rest` is the message after the HASH payload: every following
    /// payload with its generic header, without the encryption padding.
    #[must_use]
    pub fn quick_mode_hash1(&self, message_id: u32, rest: &[u8]) -> HashValue {
        self.prf
            .prf_hash(self.skeyid_a.expose(), &[&message_id.to_be_bytes(), rest])
    }

    /// Quick Mode HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest), with the
    /// initiator's phase-2 nonce body and `rest` as for
    /// [`quick_mode_hash1`](Self::quick_mode_hash1).
    #[must_use]
    pub fn quick_mode_hash2(&self, message_id: u32, ni_b: &[u8], rest: &[u8]) -> HashValue {
        self.prf.prf_hash(
            self.skeyid_a.expose(),
            &[&message_id.to_be_bytes(), ni_b, rest],
        )
    }

    /// Quick Mode HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b), with the
    /// phase-2 nonce bodies.
    #[must_use]
    pub fn quick_mode_hash3(&self, message_id: u32, ni_b: &[u8], nr_b: &[u8]) -> HashValue {
        self.prf.prf_hash(
            self.skeyid_a.expose(),
            &[&[0], &message_id.to_be_bytes(), ni_b, nr_b],
        )
    }

    /// The HASH of an Informational exchange,
    /// prf(SKEYID_a, M-ID | N/D) (RFC 2409 s.5.7), where `rest` is the
    /// Notification or Delete payload (with its generic header) and
    /// whatever follows the HASH, without padding.
    #[must_use]
    pub fn informational_hash(&self, message_id: u32, rest: &[u8]) -> HashValue {
        self.prf
            .prf_hash(self.skeyid_a.expose(), &[&message_id.to_be_bytes(), rest])
    }

    /// KEYMAT for one direction of an IPsec SA (RFC 2409 s.5.5), `len`
    /// bytes long:
    ///
    /// `KEYMAT = K1 | K2 | ...`, `K1 = prf(SKEYID_d, [g(qm)^xy |] protocol |
    /// SPI | Ni_b | Nr_b)`, `Kn = prf(SKEYID_d, K(n-1) | [g(qm)^xy |]
    /// protocol | SPI | Ni_b | Nr_b)`.
    ///
    /// `pfs_g_xy` is the Quick Mode shared secret when PFS was negotiated;
    /// `protocol` the IPsec protocol ID (3 for ESP); `spi` the SPI chosen by
    /// the SA's destination (our own SPI for the inbound SA, the peer's for
    /// the outbound one); `ni_b`/`nr_b` the
    /// Quick Mode nonce bodies. The ESP layer splits the result: the
    /// encryption key first, then the integrity key (RFC 2409 s.5.5).
    #[must_use]
    pub fn keymat(
        &self,
        pfs_g_xy: Option<&[u8]>,
        protocol: u8,
        spi: &[u8],
        ni_b: &[u8],
        nr_b: &[u8],
        len: usize,
    ) -> SecretBytes {
        let proto = [protocol];
        let seed: [&[u8]; 5] = [pfs_g_xy.unwrap_or_default(), &proto, spi, ni_b, nr_b];
        prf_expand(self.prf, self.skeyid_d.expose(), &seed, len)
    }
}

/// `K1 | K2 | ...` truncated to `len` bytes, with `K1 = prf(key, seed)` and
/// `Kn = prf(key, K(n-1) | seed)`, `seed` being the concatenation of
/// `seed_parts`: the KEYMAT expansion of RFC 2409 s.5.5.
#[must_use]
pub fn prf_expand(prf: HashAlgorithm, key: &[u8], seed_parts: &[&[u8]], len: usize) -> SecretBytes {
    let mut out = SecretBytes::zeroed(len);
    let block = prf.output_len();
    let mut prev = SecretBytes::zeroed(0);
    for chunk in out.expose_mut().chunks_mut(block) {
        let mut parts: Vec<&[u8]> = Vec::with_capacity(seed_parts.len().saturating_add(1));
        parts.push(prev.expose());
        parts.extend_from_slice(seed_parts);
        let k = prf.prf(key, &parts);
        drop(parts);
        copy_prefix(chunk, k.expose());
        prev = k;
    }
    out
}

/// The RFC 2409 Appendix B key expansion: the first `len` bytes of
/// `skeyid_e` if it is long enough, otherwise `K1 | K2 | ...` truncated,
/// with `K1 = prf(SKEYID_e, 0)` (one zero octet) and
/// `Kn = prf(SKEYID_e, K(n-1))`.
#[must_use]
pub fn appendix_b_expand(prf: HashAlgorithm, skeyid_e: &[u8], len: usize) -> SecretBytes {
    if let Some(prefix) = skeyid_e.get(..len) {
        return SecretBytes::new(prefix);
    }
    let mut out = SecretBytes::zeroed(len);
    let mut prev = SecretBytes::new(&[0]);
    for chunk in out.expose_mut().chunks_mut(prf.output_len()) {
        let k = prf.prf(skeyid_e, &[prev.expose()]);
        copy_prefix(chunk, k.expose());
        prev = k;
    }
    out
}

fn copy_prefix(dst: &mut [u8], src: &[u8]) {
    let n = dst.len().min(src.len());
    if let (Some(d), Some(s)) = (dst.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansions_have_requested_length() {
        for alg in HashAlgorithm::ALL {
            for len in [0, 1, 15, 16, 20, 21, 64, 65, 200] {
                assert_eq!(prf_expand(alg, b"k", &[b"s"], len).len(), len);
                assert_eq!(appendix_b_expand(alg, b"short", len).len(), len);
            }
        }
    }

    #[test]
    fn keymat_prefix_is_stable() {
        // A longer KEYMAT extends a shorter one (K1 | K2 | ... truncated).
        let keys = Skeyid::pre_shared_key(HashAlgorithm::Sha1, b"abc123", b"ni", b"nr")
            .derive(&[5; 96], &[1; 8], &[2; 8]);
        let short = keys.keymat(None, 3, &[0, 0, 0, 1], b"n1", b"n2", 24);
        let long = keys.keymat(None, 3, &[0, 0, 0, 1], b"n1", b"n2", 56);
        assert_eq!(&long.expose()[..24], short.expose());
        let pfs = keys.keymat(Some(&[9; 96]), 3, &[0, 0, 0, 1], b"n1", b"n2", 24);
        assert_ne!(pfs, short);
        let other_spi = keys.keymat(None, 3, &[0, 0, 0, 2], b"n1", b"n2", 24);
        assert_ne!(other_spi, short);
    }

    #[test]
    fn debug_redacts() {
        let keys = Skeyid::pre_shared_key(HashAlgorithm::Md5, b"abc123", b"ni", b"nr")
            .derive(&[5; 96], &[1; 8], &[2; 8]);
        let shown = format!("{keys:?}");
        let skeyid_hex: String = keys
            .skeyid()
            .expose()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(!shown.contains(&skeyid_hex));
        assert!(shown.contains("redacted"));
    }
}
