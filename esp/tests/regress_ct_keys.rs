//! Regression tests for the robustness pass of issue 7: key comparisons.
//!
//! `SecretBytes` (and so `Keys`) used a derived `PartialEq`, which compares
//! the key bytes with an early exit; the DES weak-key check and the 3DES
//! K1 = K2 / K2 = K3 check compared secret key thirds the same way. They now
//! use `subtle`. Timing cannot be asserted in a unit test; these tests pin
//! the behaviour the constant-time versions must keep (what is equal, what
//! is refused), through the public API only.

// Test code: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]

use std::net::Ipv4Addr;
use std::time::Instant;

use esp::{
    ConfigError, Direction, Encryption, Integrity, Keys, Mode, Sa, SaParams, SecretBytes, Spi,
};

#[test]
fn secret_bytes_equality_is_exact() {
    let key: Vec<u8> = (0u8..32).collect();
    let a = SecretBytes::new(&key);
    assert_eq!(a, SecretBytes::new(&key));
    // A difference at any position, first and last included.
    for i in 0..key.len() {
        let mut other = key.clone();
        other[i] ^= 0x01;
        assert_ne!(a, SecretBytes::new(&other), "difference at byte {i}");
    }
    // A prefix, an extension and the empty key are all different.
    assert_ne!(a, SecretBytes::new(&key[..31]));
    let mut longer = key.clone();
    longer.push(0);
    assert_ne!(a, SecretBytes::new(&longer));
    assert_ne!(a, SecretBytes::new(&[]));
    assert_eq!(SecretBytes::new(&[]), SecretBytes::default());
}

#[test]
fn keys_equality_compares_both_keys() {
    let k = Keys::new(&[1; 16], &[2; 20]);
    assert_eq!(k, Keys::new(&[1; 16], &[2; 20]));
    assert_ne!(k, Keys::new(&[1; 16], &[3; 20]));
    assert_ne!(k, Keys::new(&[0; 16], &[2; 20]));
    // The same bytes split differently between the two keys.
    let mut both = vec![1u8; 16];
    both.extend_from_slice(&[2; 20]);
    assert_ne!(k, Keys::new(&both[..17], &both[17..]));
}

fn des_sa(enc: Encryption, key: &[u8]) -> Result<Sa, ConfigError> {
    let mut p = SaParams::new(
        Spi(0x1000),
        Direction::Inbound,
        Mode::Tunnel {
            src: Ipv4Addr::new(11, 11, 11, 1),
            dst: Ipv4Addr::new(11, 11, 11, 2),
        },
        enc,
        Integrity::HmacSha1_96,
        Keys::new(key, &[0x11; 20]),
    );
    p.allow_weak = true;
    Sa::new(p, Instant::now())
}

/// FIPS PUB 74 s.3.6: the 4 weak and 12 semi-weak DES keys, with their
/// parity bits set as published.
const WEAK: [&str; 16] = [
    "0101010101010101",
    "fefefefefefefefe",
    "e0e0e0e0f1f1f1f1",
    "1f1f1f1f0e0e0e0e",
    "01fe01fe01fe01fe",
    "fe01fe01fe01fe01",
    "1fe01fe00ef10ef1",
    "e01fe01ff10ef10e",
    "01e001e001f101f1",
    "e001e001f101f101",
    "1ffe1ffe0efe0efe",
    "fe1ffe1ffe0efe0e",
    "011f011f010e010e",
    "1f011f010e010e01",
    "e0fee0fef1fef1fe",
    "fee0fee0fef1fef1",
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn every_weak_des_key_is_refused_whatever_its_parity() {
    for w in WEAK {
        let key = unhex(w);
        assert!(
            matches!(des_sa(Encryption::DesCbc, &key), Err(ConfigError::WeakKey)),
            "{w}"
        );
        // RFC 2405 s.5: parity bits are ignored, so flipping them all
        // leaves the key weak.
        let flipped: Vec<u8> = key.iter().map(|b| b ^ 0x01).collect();
        assert!(
            matches!(
                des_sa(Encryption::DesCbc, &flipped),
                Err(ConfigError::WeakKey)
            ),
            "{w} with parity flipped"
        );
    }
    // One effective bit away from a weak key is an ordinary key.
    let mut near = unhex(WEAK[0]);
    near[7] ^= 0x02;
    assert!(des_sa(Encryption::DesCbc, &near).is_ok());
}

#[test]
fn degenerate_triple_des_keys_are_refused() {
    let k1 = unhex("0123456789abcdef");
    let k2 = unhex("23456789abcdef01");
    let k3 = unhex("456789abcdef0123");
    let join = |a: &[u8], b: &[u8], c: &[u8]| [a, b, c].concat();
    assert!(des_sa(Encryption::TripleDesCbc, &join(&k1, &k2, &k3)).is_ok());
    // K1 = K2 and K2 = K3 are single DES; K1 = K3 (two-key 3DES) is not.
    assert!(matches!(
        des_sa(Encryption::TripleDesCbc, &join(&k1, &k1, &k3)),
        Err(ConfigError::WeakKey)
    ));
    assert!(matches!(
        des_sa(Encryption::TripleDesCbc, &join(&k1, &k2, &k2)),
        Err(ConfigError::WeakKey)
    ));
    assert!(des_sa(Encryption::TripleDesCbc, &join(&k1, &k2, &k1)).is_ok());
    // Equality ignores parity: K2 = K1 with every parity bit flipped.
    let k1p: Vec<u8> = k1.iter().map(|b| b ^ 0x01).collect();
    assert!(matches!(
        des_sa(Encryption::TripleDesCbc, &join(&k1, &k1p, &k3)),
        Err(ConfigError::WeakKey)
    ));
}
