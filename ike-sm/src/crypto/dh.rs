//! Diffie-Hellman over the MODP groups of IKEv1.
//!
//! Groups 1 and 2 are the First and Second Oakley Groups of RFC 2409 s.6;
//! groups 5, 14, 15 and 16 are the MODP groups of RFC 3526. All use g = 2 and
//! a safe prime p (p = 2q + 1, q prime).
//!
//! # Constant time
//!
//! Exponentiation uses crypto-bigint's Montgomery form with a fixed-window
//! exponentiation and constant-time table lookups. Its running time depends
//! only on the group and on the exponent *bit count*, which is a public
//! constant per group (below), never on the exponent's value.
//!
//! # Private exponent length
//!
//! A private value is a uniformly random integer of exactly
//! [`DhGroup::private_exponent_bits`] bits (top bit set, so it is never 0
//! or 1): 256 bits for groups 1, 2 and 5, 320 for group 14, 448 for group 15,
//! 512 for group 16. For groups 5 to 16 that is the larger ("Strength
//! Estimate 2") exponent size of the table in RFC 3526 s.8, rounded up to a
//! multiple of 64 bits; for groups 1 and 2, whose strength is at most about
//! 80 bits, 256 bits keeps the exponent from ever being the weak link.
//! Because the primes are safe primes, g generates the subgroup of prime
//! order q, which is far larger than 2^bits; the best attack on a short
//! exponent (Pollard's lambda) then costs about 2^(bits/2), which is above
//! every group's own strength. The same choice is made by NIST SP 800-56A
//! rev. 3 s.5.6.1.1.1 (private keys of 2 x security-strength bits for
//! safe-prime groups) and by OpenSSL for named groups. A full-length
//! exponent would make every exponentiation 3 to 8 times slower for no gain.
//! Private values imported with [`DhKeyPair::from_private_value`] (tools,
//! tests) are used at the full length of the prime.
//!
//! # Public values and shared secrets
//!
//! RFC 2409 s.5: public values are the length of the prime, left-padded with
//! zeros; a peer value of any other length is refused. The peer's value must
//! satisfy 1 < y < p-1 (this excludes the subgroup {1, p-1} of order 2, the
//! only small subgroup of a safe-prime group). The shared secret g^xy is
//! returned left-padded to the prime's length, as SKEYID derivation needs it.

use core::fmt;

use crypto_bigint::modular::{ConstMontyForm, ConstMontyParams};
use crypto_bigint::{U768, U1024, U1536, U2048, U3072, U4096, Uint};
use rand_core::CryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::CryptoError;
use super::secret::SecretBytes;

/// The MODP group parameters as compile-time Montgomery constants.
mod params {
    use crypto_bigint::{U768, U1024, U1536, U2048, U3072, U4096};

    crypto_bigint::const_monty_params!(
        Modp768,
        U768,
        concat!(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
            "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
            "4FE1356D6D51C245E485B576625E7EC6F44C42E9A63A3620FFFFFFFFFFFFFFFF",
        ),
        "RFC 2409 s.6.1, the First Oakley Group (prime p; g = 2)"
    );

    crypto_bigint::const_monty_params!(
        Modp1024,
        U1024,
        concat!(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
            "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
            "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
            "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE65381FFFFFFFFFFFFFFFF",
        ),
        "RFC 2409 s.6.2, the Second Oakley Group (prime p; g = 2)"
    );

    crypto_bigint::const_monty_params!(
        Modp1536,
        U1536,
        concat!(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
            "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
            "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
            "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
            "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
            "9ED529077096966D670C354E4ABC9804F1746C08CA237327FFFFFFFFFFFFFFFF",
        ),
        "RFC 3526 s.2, the 1536-bit MODP group (prime p; g = 2)"
    );

    crypto_bigint::const_monty_params!(
        Modp2048,
        U2048,
        concat!(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
            "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
            "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
            "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
            "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
            "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
            "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
            "3995497CEA956AE515D2261898FA051015728E5A8AACAA68FFFFFFFFFFFFFFFF",
        ),
        "RFC 3526 s.3, the 2048-bit MODP group (prime p; g = 2)"
    );

    crypto_bigint::const_monty_params!(
        Modp3072,
        U3072,
        concat!(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
            "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
            "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
            "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
            "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
            "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
            "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
            "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
            "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
            "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
            "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
            "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
        ),
        "RFC 3526 s.4, the 3072-bit MODP group (prime p; g = 2)"
    );

    crypto_bigint::const_monty_params!(
        Modp4096,
        U4096,
        concat!(
            "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
            "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
            "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
            "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
            "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
            "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
            "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
            "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
            "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
            "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
            "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
            "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A92108011A723C12A787E6D7",
            "88719A10BDBA5B2699C327186AF4E23C1A946834B6150BDA2583E9CA2AD44CE8",
            "DBBBC2DB04DE8EF92E8EFC141FBECAA6287C59474E6BC05D99B2964FA090C3A2",
            "233BA186515BE7ED1F612970CEE2D7AFB81BDD762170481CD0069127D5B05AA9",
            "93B4EA988D8FDDC186FFB7DC90A6C08F4DF435C934063199FFFFFFFFFFFFFFFF",
        ),
        "RFC 3526 s.5, the 4096-bit MODP group (prime p; g = 2)"
    );
}

/// A Diffie-Hellman group of IKEv1 (RFC 2409 Appendix A "Group Description").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DhGroup {
    /// Group 1, 768-bit MODP (RFC 2409 s.6.1). Weak.
    Modp768,
    /// Group 2, 1024-bit MODP (RFC 2409 s.6.2). Weak.
    Modp1024,
    /// Group 5, 1536-bit MODP (RFC 3526 s.2).
    Modp1536,
    /// Group 14, 2048-bit MODP (RFC 3526 s.3).
    Modp2048,
    /// Group 15, 3072-bit MODP (RFC 3526 s.4).
    Modp3072,
    /// Group 16, 4096-bit MODP (RFC 3526 s.5).
    Modp4096,
}

/// Applies the generic function `$f::<Params, LIMBS>(args)` for `$group`.
macro_rules! dispatch {
    ($group:expr, $f:ident ( $($arg:expr),* $(,)? )) => {
        match $group {
            DhGroup::Modp768 => $f::<params::Modp768, { U768::LIMBS }>($($arg),*),
            DhGroup::Modp1024 => $f::<params::Modp1024, { U1024::LIMBS }>($($arg),*),
            DhGroup::Modp1536 => $f::<params::Modp1536, { U1536::LIMBS }>($($arg),*),
            DhGroup::Modp2048 => $f::<params::Modp2048, { U2048::LIMBS }>($($arg),*),
            DhGroup::Modp3072 => $f::<params::Modp3072, { U3072::LIMBS }>($($arg),*),
            DhGroup::Modp4096 => $f::<params::Modp4096, { U4096::LIMBS }>($($arg),*),
        }
    };
}

impl DhGroup {
    /// Every supported group, weakest first.
    pub const ALL: [Self; 6] = [
        Self::Modp768,
        Self::Modp1024,
        Self::Modp1536,
        Self::Modp2048,
        Self::Modp3072,
        Self::Modp4096,
    ];

    /// The group with IKE group number `number` (1, 2, 5, 14, 15, 16), the
    /// number configurations use ("group 14").
    #[must_use]
    pub const fn from_number(number: u16) -> Option<Self> {
        match number {
            1 => Some(Self::Modp768),
            2 => Some(Self::Modp1024),
            5 => Some(Self::Modp1536),
            14 => Some(Self::Modp2048),
            15 => Some(Self::Modp3072),
            16 => Some(Self::Modp4096),
            _ => None,
        }
    }

    /// The IKE group number.
    #[must_use]
    pub const fn number(self) -> u16 {
        match self {
            Self::Modp768 => 1,
            Self::Modp1024 => 2,
            Self::Modp1536 => 5,
            Self::Modp2048 => 14,
            Self::Modp3072 => 15,
            Self::Modp4096 => 16,
        }
    }

    /// Size of the prime in bits.
    #[must_use]
    pub const fn prime_bits(self) -> u32 {
        match self {
            Self::Modp768 => 768,
            Self::Modp1024 => 1024,
            Self::Modp1536 => 1536,
            Self::Modp2048 => 2048,
            Self::Modp3072 => 3072,
            Self::Modp4096 => 4096,
        }
    }

    /// Length in bytes of the prime, hence of every public value and shared
    /// secret of the group.
    #[must_use]
    pub const fn prime_len(self) -> usize {
        // prime_bits is a multiple of 8 and at most 4096.
        (self.prime_bits() / 8) as usize
    }

    /// Bit length of the private exponents [`DhKeyPair::generate`] draws
    /// (see the module documentation for the reasoning).
    #[must_use]
    pub const fn private_exponent_bits(self) -> u32 {
        match self {
            Self::Modp768 | Self::Modp1024 | Self::Modp1536 => 256,
            Self::Modp2048 => 320,
            Self::Modp3072 => 448,
            Self::Modp4096 => 512,
        }
    }

    /// Whether the project treats this group as weak (groups 1 and 2): to
    /// be used only when a policy names it explicitly.
    #[must_use]
    pub const fn is_weak(self) -> bool {
        matches!(self, Self::Modp768 | Self::Modp1024)
    }

    /// The generator (2 for every MODP group).
    #[must_use]
    pub const fn generator(self) -> u32 {
        2
    }

    /// The prime p, big-endian, [`prime_len`](Self::prime_len) bytes.
    #[must_use]
    pub fn prime(self) -> Vec<u8> {
        dispatch!(self, prime_bytes())
    }
}

impl fmt::Display for DhGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "group {} ({}-bit MODP)",
            self.number(),
            self.prime_bits()
        )
    }
}

/// A Diffie-Hellman key pair: the private exponent (wiped on drop, never
/// shown) and the public value g^x mod p.
#[derive(Clone)]
pub struct DhKeyPair {
    group: DhGroup,
    /// x, big-endian, left-padded to the prime's length.
    private: SecretBytes,
    /// How many low bits of `private` the exponentiation walks: a public
    /// per-group constant, or the prime's size for imported values.
    exponent_bits: u32,
    public: Vec<u8>,
}

// `private` is a `SecretBytes`, wiped on drop; the rest is public.
impl ZeroizeOnDrop for DhKeyPair {}

impl DhKeyPair {
    /// Draws a private value of [`DhGroup::private_exponent_bits`] bits from
    /// `rng` and computes the public value.
    pub fn generate<R: CryptoRng + ?Sized>(group: DhGroup, rng: &mut R) -> Self {
        let len = group.prime_len();
        let bits = group.private_exponent_bits();
        // bits is a multiple of 8 and below the prime's size.
        let nbytes = (bits / 8) as usize;
        let mut private = SecretBytes::zeroed(len);
        if let Some(low) = private.expose_mut().get_mut(len.saturating_sub(nbytes)..) {
            rng.fill_bytes(low);
            if let Some(top) = low.first_mut() {
                *top |= 0x80;
            }
        }
        Self::with_exponent(group, private, bits)
    }

    /// Uses the given private value x (big-endian, at most the prime's
    /// length; leading zeros allowed), e.g. to decrypt a recorded exchange
    /// whose private value is known. x is used at the prime's full length.
    ///
    /// # Errors
    /// [`CryptoError::DhPrivateValue`] unless 1 < x < p-1.
    pub fn from_private_value(group: DhGroup, x: &[u8]) -> Result<Self, CryptoError> {
        let len = group.prime_len();
        let Some(pad) = len.checked_sub(x.len()) else {
            return Err(CryptoError::DhPrivateValue { group });
        };
        let mut private = SecretBytes::zeroed(len);
        if let Some(dst) = private.expose_mut().get_mut(pad..) {
            dst.copy_from_slice(x);
        }
        if !dispatch!(group, in_open_range(private.expose())) {
            return Err(CryptoError::DhPrivateValue { group });
        }
        Ok(Self::with_exponent(group, private, group.prime_bits()))
    }

    fn with_exponent(group: DhGroup, private: SecretBytes, exponent_bits: u32) -> Self {
        let mut base = vec![0u8; group.prime_len()];
        if let Some(last) = base.last_mut() {
            *last = 2;
        }
        let public = dispatch!(group, modpow(&base, private.expose(), exponent_bits));
        Self {
            group,
            private,
            exponent_bits,
            public: public.expose().to_vec(),
        }
    }

    /// The group.
    #[must_use]
    pub fn group(&self) -> DhGroup {
        self.group
    }

    /// The public value g^x mod p, left-padded to the prime's length: the
    /// KE payload body.
    #[must_use]
    pub fn public_value(&self) -> &[u8] {
        &self.public
    }

    /// The private value x, big-endian, left-padded to the prime's length
    /// (for tools that record it; handle with care).
    #[must_use]
    pub fn private_value(&self) -> &SecretBytes {
        &self.private
    }

    /// The shared secret g^xy = y^x mod p for the peer's public value `y`,
    /// left-padded to the prime's length.
    ///
    /// # Errors
    /// [`CryptoError::DhPublicValueLength`] if `y` is not exactly the
    /// prime's length (RFC 2409 s.5); [`CryptoError::DhPublicValueRange`]
    /// unless 1 < y < p-1; [`CryptoError::DhDegenerateSecret`] if the
    /// result is 1 or p-1 (only possible with a bad imported private value).
    pub fn shared_secret(&self, peer_public: &[u8]) -> Result<SecretBytes, CryptoError> {
        let group = self.group;
        if peer_public.len() != group.prime_len() {
            return Err(CryptoError::DhPublicValueLength {
                group,
                expected: group.prime_len(),
                actual: peer_public.len(),
            });
        }
        if !dispatch!(group, in_open_range(peer_public)) {
            return Err(CryptoError::DhPublicValueRange { group });
        }
        let secret = dispatch!(
            group,
            modpow(peer_public, self.private.expose(), self.exponent_bits)
        );
        if !dispatch!(group, in_open_range(secret.expose())) {
            return Err(CryptoError::DhDegenerateSecret { group });
        }
        Ok(secret)
    }
}

impl fmt::Debug for DhKeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DhKeyPair")
            .field("group", &self.group)
            .field("private", &self.private)
            .field("public_len", &self.public.len())
            .finish()
    }
}

/// `base^exp mod p`, all big-endian of the prime's length; only the low
/// `exp_bits` bits of `exp` are used, in constant time for a given count.
/// A length mismatch (impossible for callers in this module) gives zeros,
/// which every range check then refuses.
fn modpow<P, const L: usize>(base: &[u8], exp: &[u8], exp_bits: u32) -> SecretBytes
where
    P: ConstMontyParams<L>,
{
    if base.len() != Uint::<L>::BYTES || exp.len() != Uint::<L>::BYTES {
        return SecretBytes::zeroed(Uint::<L>::BYTES);
    }
    let b = Uint::<L>::from_be_slice(base);
    let mut e = Uint::<L>::from_be_slice(exp);
    let mut r = ConstMontyForm::<P, L>::new(&b)
        .pow_bounded_exp(&e, exp_bits)
        .retrieve();
    let mut encoded = r.to_be_bytes();
    let out = SecretBytes::new(encoded.as_ref());
    e.zeroize();
    r.zeroize();
    encoded.zeroize();
    out
}

/// Whether 1 < v < p-1 for a big-endian `v` of the prime's length. Constant
/// time in `v` (it may be a secret).
fn in_open_range<P, const L: usize>(v: &[u8]) -> bool
where
    P: ConstMontyParams<L>,
{
    if v.len() != Uint::<L>::BYTES {
        return false;
    }
    let mut x = Uint::<L>::from_be_slice(v);
    let p_minus_1 = P::PARAMS.modulus().get().wrapping_sub(&Uint::ONE);
    // `Uint`'s `Ord` is constant time; `&` (not `&&`) evaluates both.
    let ok = (x > Uint::ONE) & (x < p_minus_1);
    x.zeroize();
    ok
}

fn prime_bytes<P, const L: usize>() -> Vec<u8>
where
    P: ConstMontyParams<L>,
{
    P::PARAMS.modulus().get().to_be_bytes().as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::SeedableRng;

    #[test]
    fn group_numbers_round_trip() {
        for g in DhGroup::ALL {
            assert_eq!(DhGroup::from_number(g.number()), Some(g));
            assert_eq!(g.prime().len(), g.prime_len());
            assert!(g.private_exponent_bits() < g.prime_bits() - 1);
        }
        assert_eq!(DhGroup::from_number(3), None);
        assert_eq!(DhGroup::from_number(0), None);
    }

    #[test]
    fn agreement_and_checks_group1() {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let g = DhGroup::Modp768;
        let a = DhKeyPair::generate(g, &mut rng);
        let b = DhKeyPair::generate(g, &mut rng);
        assert_eq!(a.public_value().len(), 96);
        let s1 = a.shared_secret(b.public_value()).unwrap();
        let s2 = b.shared_secret(a.public_value()).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(s1.len(), 96);

        let mut one = vec![0u8; 96];
        one[95] = 1;
        assert_eq!(
            a.shared_secret(&one).err(),
            Some(CryptoError::DhPublicValueRange { group: g })
        );
        let mut p_minus_1 = g.prime();
        p_minus_1[95] -= 1;
        assert_eq!(
            a.shared_secret(&p_minus_1).err(),
            Some(CryptoError::DhPublicValueRange { group: g })
        );
        assert_eq!(
            a.shared_secret(&g.prime()).err(),
            Some(CryptoError::DhPublicValueRange { group: g })
        );
        assert_eq!(
            a.shared_secret(&[0xff; 96]).err(),
            Some(CryptoError::DhPublicValueRange { group: g })
        );
        assert_eq!(
            a.shared_secret(&b.public_value()[1..]).err(),
            Some(CryptoError::DhPublicValueLength {
                group: g,
                expected: 96,
                actual: 95
            })
        );
        // 2 is in range (it is g itself) and must be accepted.
        let mut two = vec![0u8; 96];
        two[95] = 2;
        assert_eq!(a.shared_secret(&two).unwrap().expose(), a.public_value());
    }

    #[test]
    fn private_value_import_checks_range() {
        let g = DhGroup::Modp768;
        assert!(DhKeyPair::from_private_value(g, &[1]).is_err());
        assert!(DhKeyPair::from_private_value(g, &[0; 97]).is_err());
        assert!(DhKeyPair::from_private_value(g, &g.prime()).is_err());
        let kp = DhKeyPair::from_private_value(g, &[3]).unwrap();
        // 2^3 = 8
        let mut eight = vec![0u8; 96];
        eight[95] = 8;
        assert_eq!(kp.public_value(), eight.as_slice());
        assert!(!format!("{kp:?}").contains("03"));
    }

    #[test]
    fn generated_exponent_has_its_bit_length() {
        let mut rng = ChaCha20Rng::from_seed([1; 32]);
        for g in [DhGroup::Modp768, DhGroup::Modp2048] {
            let kp = DhKeyPair::generate(g, &mut rng);
            let x = kp.private_value().expose();
            let lead = g.prime_len() - (g.private_exponent_bits() / 8) as usize;
            assert!(x[..lead].iter().all(|&b| b == 0));
            assert!(x[lead] & 0x80 != 0);
        }
    }
}
