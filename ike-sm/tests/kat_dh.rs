//! Diffie-Hellman known answers and cross-checks.
//!
//! - `vectors/modp_groups.txt`: the primes of groups 1, 2, 5, 14, 15, 16
//!   (RFC 2409 s.6, RFC 3526 s.2-5) must be exactly the ones compiled in.
//! - `vectors/ikev1_phase1_secrets_rubnds.txt`: two group-2 key pairs from
//!   RUB-NDS/IPsec-StateMachineExtractor, one whose shared secret starts
//!   with 0x00 (it must stay 128 bytes long).
//! - Every group against num-bigint's `modpow` (a variable-time oracle, used
//!   only here) on seeded random values: g^x for generated keys, y^x for the
//!   shared secret, and full-length imported exponents.

// Test helpers outside `#[test]` functions may panic like the tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod kat_common;

use ike_sm::crypto::{CryptoError, DhGroup, DhKeyPair};
use kat_common::{parse, sections_with_prefix};
use num_bigint::BigUint;
use rand_chacha::ChaCha20Rng;
use rand_core::{Rng, SeedableRng};

const MODP: &str = include_str!("../../vectors/modp_groups.txt");
const RUB: &str = include_str!("../../vectors/ikev1_phase1_secrets_rubnds.txt");

fn group_for(number: usize) -> DhGroup {
    DhGroup::from_number(u16::try_from(number).unwrap()).unwrap()
}

fn be_padded(v: &BigUint, len: usize) -> Vec<u8> {
    let b = v.to_bytes_be();
    assert!(b.len() <= len);
    let mut out = vec![0u8; len - b.len()];
    out.extend_from_slice(&b);
    out
}

#[test]
fn compiled_primes_match_the_rfc_vectors() {
    let all = parse(MODP);
    let groups = sections_with_prefix(&all, "group");
    assert_eq!(groups.len(), 6);
    for s in groups {
        let n: usize = s.name.trim_start_matches("group").parse().unwrap();
        let g = group_for(n);
        assert_eq!(g.prime(), s.hex("prime"), "[{}]", s.name);
        assert_eq!(g.prime_len(), s.usize("len_bytes"), "[{}]", s.name);
        assert_eq!(g.prime_bits() as usize, s.usize("bits"), "[{}]", s.name);
        assert_eq!(
            g.generator(),
            u32::from(s.hex("generator")[0]),
            "[{}]",
            s.name
        );
    }
}

#[test]
fn rubnds_group2_pairs_including_leading_zero_secret() {
    let all = parse(RUB);
    let pairs = sections_with_prefix(&all, "dh-group2-");
    assert_eq!(pairs.len(), 2);
    for s in pairs {
        assert_eq!(s.str("group"), "2");
        let kp = DhKeyPair::from_private_value(DhGroup::Modp1024, &s.hex("x")).unwrap();
        assert_eq!(
            kp.public_value(),
            s.hex("gx").as_slice(),
            "[{}] g^x",
            s.name
        );
        let secret = kp.shared_secret(&s.hex("gy_peer")).unwrap();
        assert_eq!(secret.len(), 128, "[{}]", s.name);
        assert_eq!(secret.expose()[0], 0, "[{}] leading zero kept", s.name);
        assert_eq!(
            secret.expose(),
            s.hex("gxy").as_slice(),
            "[{}] g^xy",
            s.name
        );
    }
}

#[test]
fn every_group_agrees_with_num_bigint_modpow() {
    let mut rng = ChaCha20Rng::from_seed(*b"ike-sm crypto kat_dh cross-check");
    for g in DhGroup::ALL {
        let p = BigUint::from_bytes_be(&g.prime());
        let two = BigUint::from(2u32);
        let len = g.prime_len();
        for _ in 0..3 {
            let a = DhKeyPair::generate(g, &mut rng);
            let b = DhKeyPair::generate(g, &mut rng);
            let xa = BigUint::from_bytes_be(a.private_value().expose());
            let xb = BigUint::from_bytes_be(b.private_value().expose());
            assert_eq!(xa.bits(), u64::from(g.private_exponent_bits()), "{g}");
            let ya = two.modpow(&xa, &p);
            assert_eq!(a.public_value(), be_padded(&ya, len).as_slice(), "{g} g^x");
            let yb = BigUint::from_bytes_be(b.public_value());
            let want = be_padded(&yb.modpow(&xa, &p), len);
            let s_ab = a.shared_secret(b.public_value()).unwrap();
            let s_ba = b.shared_secret(a.public_value()).unwrap();
            assert_eq!(s_ab.expose(), want.as_slice(), "{g} y^x");
            assert_eq!(s_ab, s_ba, "{g} agreement");
            assert_eq!(
                BigUint::from_bytes_be(b.public_value()),
                two.modpow(&xb, &p)
            );
        }
        // A full-length imported exponent (as tools use) and a random peer
        // value in range.
        let mut x = vec![0u8; len];
        rng.fill_bytes(&mut x);
        x[0] &= 0x7f;
        let kp = DhKeyPair::from_private_value(g, &x).unwrap();
        let xn = BigUint::from_bytes_be(&x);
        assert_eq!(
            kp.public_value(),
            be_padded(&two.modpow(&xn, &p), len).as_slice(),
            "{g}"
        );
        let mut y = vec![0u8; len];
        rng.fill_bytes(&mut y);
        y[0] &= 0x7f;
        let yn = BigUint::from_bytes_be(&y);
        assert_eq!(
            kp.shared_secret(&y).unwrap().expose(),
            be_padded(&yn.modpow(&xn, &p), len).as_slice(),
            "{g} imported"
        );
    }
}

#[test]
fn peer_values_out_of_range_or_wrong_length_are_refused() {
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    for g in DhGroup::ALL {
        let kp = DhKeyPair::generate(g, &mut rng);
        let len = g.prime_len();
        let p = BigUint::from_bytes_be(&g.prime());
        let one = BigUint::from(1u32);
        for bad in [
            BigUint::from(0u32),
            one.clone(),
            &p - &one,
            p.clone(),
            &p + &one,
        ] {
            let v = if bad.to_bytes_be().len() > len {
                vec![0xff; len]
            } else {
                be_padded(&bad, len)
            };
            assert_eq!(
                kp.shared_secret(&v).err(),
                Some(CryptoError::DhPublicValueRange { group: g }),
                "{g}: {bad:x}"
            );
        }
        for bad_len in [0, 1, len - 1, len + 1] {
            assert!(
                matches!(
                    kp.shared_secret(&vec![0x11; bad_len]),
                    Err(CryptoError::DhPublicValueLength { .. })
                ),
                "{g}: length {bad_len}"
            );
        }
        // p - 2 is the largest acceptable value.
        assert!(
            kp.shared_secret(&be_padded(&(&p - 2u32), len)).is_ok(),
            "{g}"
        );
    }
}
