//! Cipher known answers: DES and 3DES (FIPS 81, SP 800-17, SP 800-67, CAVP
//! TCBCMMT3, in `vectors/des_3des.txt`), the DES weak and semi-weak keys
//! (FIPS PUB 74 s.3.6, same file), AES-128-CBC (RFC 3602 s.4 cases 1-4 and
//! the ciphertext of its ESP cases 5-8, `vectors/esp_rfc3602_aes_cbc.txt`)
//! and AES-128/192/256-CBC (NIST SP 800-38A F.2,
//! `vectors/aes_cbc_sp800_38a.txt`).

// Test helpers outside `#[test]` functions may panic like the tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod kat_common;

use ike_sm::crypto::{Cipher, CryptoError, EncryptionAlgorithm};
use kat_common::{Section, parse, sections_with_prefix};

const DES: &str = include_str!("../../vectors/des_3des.txt");
const RFC3602: &str = include_str!("../../vectors/esp_rfc3602_aes_cbc.txt");
const SP800_38A: &str = include_str!("../../vectors/aes_cbc_sp800_38a.txt");

/// Encrypts and decrypts one CBC record with `iv`, both directions.
fn check_cbc(s: &Section, alg: EncryptionAlgorithm, iv: &[u8]) {
    let cipher = Cipher::new(alg, &s.hex("key")).unwrap_or_else(|e| panic!("[{}]: {e}", s.name));
    let pt = s.hex("plaintext");
    let ct = s.hex("ciphertext");
    let mut buf = pt.clone();
    cipher.encrypt_in_place(iv, &mut buf).unwrap();
    assert_eq!(buf, ct, "[{}] encrypt", s.name);
    cipher.decrypt_in_place(iv, &mut buf).unwrap();
    assert_eq!(buf, pt, "[{}] decrypt", s.name);
}

/// ECB is CBC with a zero IV applied block by block.
fn check_ecb(s: &Section, alg: EncryptionAlgorithm) {
    let cipher = Cipher::new(alg, &s.hex("key")).unwrap_or_else(|e| panic!("[{}]: {e}", s.name));
    let zero = vec![0u8; alg.block_len()];
    let pt = s.hex("plaintext");
    let ct = s.hex("ciphertext");
    for (p, c) in pt.chunks(alg.block_len()).zip(ct.chunks(alg.block_len())) {
        let mut b = p.to_vec();
        cipher.encrypt_in_place(&zero, &mut b).unwrap();
        assert_eq!(b, c, "[{}] encrypt", s.name);
        cipher.decrypt_in_place(&zero, &mut b).unwrap();
        assert_eq!(b, p, "[{}] decrypt", s.name);
    }
}

#[test]
fn des_and_3des_known_answers() {
    let all = parse(DES);
    let mut checked = 0;
    for s in all.iter().filter(|s| s.get("alg").is_some()) {
        let alg = match s.str("alg") {
            "des" => EncryptionAlgorithm::DesCbc,
            "des-ede3" => EncryptionAlgorithm::TripleDesCbc,
            other => panic!("[{}] unknown alg {other}", s.name),
        };
        let key = s.hex("key");
        if alg == EncryptionAlgorithm::DesCbc && key == [1u8; 8] {
            // SP 800-17's variable-plaintext KAT uses the weak key
            // 0101010101010101: IKE must refuse it (RFC 2409 App. B).
            assert_eq!(
                Cipher::new(alg, &key).err(),
                Some(CryptoError::WeakKey { algorithm: alg }),
                "[{}]",
                s.name
            );
            checked += 1;
            continue;
        }
        match s.str("mode") {
            "cbc" => check_cbc(s, alg, &s.hex("iv")),
            "ecb" => check_ecb(s, alg),
            other => panic!("[{}] unknown mode {other}", s.name),
        }
        checked += 1;
    }
    assert_eq!(checked, 8);
}

#[test]
fn des_weak_and_semi_weak_keys_are_refused() {
    let all = parse(DES);
    let s = &sections_with_prefix(&all, "des-weak-keys")[0];
    let mut keys: Vec<Vec<u8>> = s
        .str("weak_keys")
        .split_whitespace()
        .map(|k| hex::decode(k).unwrap())
        .collect();
    for pair in s.str("semi_weak_pairs").split_whitespace() {
        let (a, b) = pair.split_once(':').unwrap();
        keys.push(hex::decode(a).unwrap());
        keys.push(hex::decode(b).unwrap());
    }
    assert_eq!(keys.len(), 16);
    let good = hex::decode("0123456789abcdef23456789abcdef01456789abcdef0123").unwrap();
    for k in &keys {
        // DES ignores the parity bits, and so must the check.
        for variant in [k.clone(), k.iter().map(|b| b ^ 1).collect()] {
            assert_eq!(
                Cipher::new(EncryptionAlgorithm::DesCbc, &variant).err(),
                Some(CryptoError::WeakKey {
                    algorithm: EncryptionAlgorithm::DesCbc
                }),
                "{}",
                hex::encode(&variant)
            );
            for third in 0..3 {
                let mut k3 = good.clone();
                k3[third * 8..third * 8 + 8].copy_from_slice(&variant);
                assert_eq!(
                    Cipher::new(EncryptionAlgorithm::TripleDesCbc, &k3).err(),
                    Some(CryptoError::WeakKey {
                        algorithm: EncryptionAlgorithm::TripleDesCbc
                    }),
                    "3DES third {third}: {}",
                    hex::encode(&k3)
                );
            }
        }
    }
    assert!(Cipher::new(EncryptionAlgorithm::TripleDesCbc, &good).is_ok());
    // K1 == K2 and K2 == K3 are single DES in disguise.
    for (a, b) in [(0, 1), (1, 2)] {
        let mut k3 = good.clone();
        let src = good[a * 8..a * 8 + 8].to_vec();
        k3[b * 8..b * 8 + 8].copy_from_slice(&src);
        assert_eq!(
            Cipher::new(EncryptionAlgorithm::TripleDesCbc, &k3).err(),
            Some(CryptoError::DegenerateTripleDesKey)
        );
    }
}

#[test]
fn aes_128_cbc_rfc3602_cases_1_to_4() {
    let all = parse(RFC3602);
    let cases: Vec<&Section> = all
        .iter()
        .filter(|s| s.get("plaintext").is_some())
        .collect();
    assert_eq!(cases.len(), 4);
    for s in cases {
        check_cbc(s, EncryptionAlgorithm::Aes128Cbc, &s.hex("iv"));
    }
}

#[test]
fn aes_128_cbc_rfc3602_esp_cases_5_to_8_decrypt() {
    let all = parse(RFC3602);
    let cases: Vec<&Section> = all
        .iter()
        .filter(|s| s.get("esp_packet").is_some())
        .collect();
    assert_eq!(cases.len(), 4);
    for s in cases {
        let packet = s.hex("esp_packet");
        // SPI (4) | sequence number (4) | IV (16) | ciphertext.
        let (iv, ct) = packet[8..].split_at(16);
        assert_eq!(iv, s.hex("iv").as_slice(), "[{}]", s.name);
        let cipher = Cipher::new(EncryptionAlgorithm::Aes128Cbc, &s.hex("key")).unwrap();
        let mut buf = ct.to_vec();
        cipher.decrypt_in_place(iv, &mut buf).unwrap();
        assert_eq!(buf, s.hex("esp_plaintext"), "[{}]", s.name);
    }
}

#[test]
fn aes_cbc_all_key_lengths_sp800_38a() {
    let all = parse(SP800_38A);
    let expect = [
        ("sp800-38a-f.2.1", 128),
        ("sp800-38a-f.2.3", 192),
        ("sp800-38a-f.2.5", 256),
    ];
    for (prefix, bits) in expect {
        let s = sections_with_prefix(&all, prefix)[0];
        let alg = EncryptionAlgorithm::aes_cbc(bits).unwrap();
        assert_eq!(alg.key_len() * 8, usize::from(bits));
        check_cbc(s, alg, &s.hex("iv"));
    }
}
