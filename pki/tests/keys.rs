//! Private keys in every format, the IKEv1 signatures, and their
//! cross-checks against OpenSSL.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::process::Command;

use common::{bytes, ecdsa_der_to_raw, ecdsa_raw_to_der, path, text};
use ike_pki::{KeyError, PrivateKey, PublicKey, SignError, SignatureAlgorithm, SignatureError};

/// (key files, algorithm, bits of the public key in the certificate).
const KEYS: &[(&str, &[&str], SignatureAlgorithm, usize)] = &[
    (
        "ee-rsa2048",
        &[
            "ee-rsa2048.key",
            "ee-rsa2048.pkcs1.pem",
            "ee-rsa2048.pkcs1.der",
        ],
        SignatureAlgorithm::Rsa,
        2048,
    ),
    (
        "ee-rsa3072",
        &["ee-rsa3072.key", "ee-rsa3072.pkcs8.der"],
        SignatureAlgorithm::Rsa,
        3072,
    ),
    (
        "ee-rsa4096",
        &["ee-rsa4096.key", "ee-rsa4096.pkcs1.der"],
        SignatureAlgorithm::Rsa,
        4096,
    ),
    (
        "ee-p256",
        &["ee-p256.key", "ee-p256.sec1.pem", "ee-p256.sec1.der"],
        SignatureAlgorithm::EcdsaP256,
        256,
    ),
    (
        "ee-p384",
        &["ee-p384.key", "ee-p384.sec1.pem"],
        SignatureAlgorithm::EcdsaP384,
        384,
    ),
    (
        "ee-p521",
        &["ee-p521.key", "ee-p521.pkcs8.der", "ee-p521.sec1.der"],
        SignatureAlgorithm::EcdsaP521,
        521,
    ),
];

fn load(file: &str) -> PrivateKey {
    if file.ends_with(".der") {
        PrivateKey::from_der(&bytes(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    } else {
        PrivateKey::from_pem(&text(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
    }
}

fn spki(name: &str) -> PublicKey {
    PublicKey::from_spki_der(&bytes(&format!("{name}.pub.der"))).unwrap()
}

#[test]
fn every_key_format_loads_and_matches_its_certificate() {
    for (name, files, alg, bits) in KEYS {
        let cert_key = common::cert(name).public_key().unwrap();
        assert_eq!(cert_key.algorithm(), *alg);
        assert_eq!(cert_key.bits(), *bits, "{name}");
        for file in *files {
            let key = load(file);
            assert_eq!(key.algorithm(), *alg, "{file}");
            assert_eq!(key.public_key().bits(), *bits, "{file}");
            // The key signs what the certificate's key (and OpenSSL's SPKI
            // export) verifies.
            let hash = [0x5a; 20];
            let sig = key.sign_ikev1(&hash).unwrap();
            cert_key.verify_ikev1(&hash, &sig).unwrap();
            spki(name).verify_ikev1(&hash, &sig).unwrap();
        }
    }
}

#[test]
fn auth_methods() {
    for (alg, m, n) in [
        (SignatureAlgorithm::Rsa, 3, "rsa"),
        (SignatureAlgorithm::EcdsaP256, 9, "ecdsa-p256"),
        (SignatureAlgorithm::EcdsaP384, 10, "ecdsa-p384"),
        (SignatureAlgorithm::EcdsaP521, 11, "ecdsa-p521"),
    ] {
        assert_eq!(alg.auth_method(), m);
        assert_eq!(SignatureAlgorithm::from_auth_method(m), Some(alg));
        assert_eq!(alg.name(), n);
    }
    for m in [0, 1, 2, 4, 5, 8, 12, 65001] {
        assert_eq!(SignatureAlgorithm::from_auth_method(m), None);
    }
}

#[test]
fn rsa_signatures_equal_openssl_pkeyutl() {
    // PKCS#1 v1.5 is deterministic: our signature must be OpenSSL's, byte
    // for byte (pkeyutl -sign over the raw hash, no DigestInfo).
    for name in ["ee-rsa2048", "ee-rsa3072", "ee-rsa4096"] {
        let key = load(&format!("{name}.key"));
        for h in ["hash20", "hash32"] {
            let hash = bytes(&format!("{h}.bin"));
            let theirs = bytes(&format!("sig-{name}-{h}.bin"));
            let ours = key.sign_ikev1(&hash).unwrap();
            assert_eq!(ours.len(), key.public_key().bits() / 8);
            assert_eq!(ours, theirs, "{name} {h}");
            spki(name).verify_ikev1(&hash, &theirs).unwrap();
        }
    }
}

#[test]
fn ecdsa_signatures_from_openssl_verify() {
    for (name, h, field) in [
        ("ee-p256", "hash32", 32),
        ("ee-p384", "hash32", 48),
        ("ee-p521", "hash20", 66),
    ] {
        let hash = bytes(&format!("{h}.bin"));
        let raw = ecdsa_der_to_raw(&bytes(&format!("sig-{name}-{h}.der")), field);
        assert_eq!(raw.len(), 2 * field);
        spki(name).verify_ikev1(&hash, &raw).unwrap();
        // Any flipped bit breaks it.
        for i in [0, field - 1, field, 2 * field - 1] {
            let mut bad = raw.clone();
            bad[i] ^= 0x01;
            assert_eq!(
                spki(name).verify_ikev1(&hash, &bad),
                Err(SignatureError::Invalid),
                "{name} byte {i}"
            );
        }
        let mut other_hash = hash.clone();
        other_hash[0] ^= 0x80;
        assert_eq!(
            spki(name).verify_ikev1(&other_hash, &raw),
            Err(SignatureError::Invalid)
        );
    }
}

fn openssl() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// OpenSSL checks our signatures: RSA by recovering the padded hash
/// (`pkeyutl -verifyrecover`), ECDSA with `pkeyutl -verify` over the hash
/// as the digest (not hashed again, as strongSwan's IKEv1 signs). Without openssl the stored OpenSSL signatures stand in
/// (the RSA test above compares byte for byte).
#[test]
fn openssl_verifies_our_signatures() {
    if !openssl() {
        eprintln!("openssl not found: checked against the stored vectors only");
        return;
    }
    let dir = std::env::temp_dir().join(format!("ike-pki-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, h, dgst) in [
        ("ee-rsa2048", "hash20", ""),
        ("ee-rsa3072", "hash32", ""),
        ("ee-rsa4096", "hash20", ""),
        ("ee-p256", "hash32", "-sha256"),
        ("ee-p384", "hash32", "-sha384"),
        ("ee-p521", "hash20", "-sha512"),
    ] {
        let key = load(&format!("{name}.key"));
        let hash = bytes(&format!("{h}.bin"));
        let sig = key.sign_ikev1(&hash).unwrap();
        let sig_file = dir.join(format!("{name}.sig"));
        let pub_file = path(&format!("{name}.pub.pem"));
        let hash_file = path(&format!("{h}.bin"));
        if dgst.is_empty() {
            std::fs::write(&sig_file, &sig).unwrap();
            let out = Command::new("openssl")
                .args(["pkeyutl", "-verifyrecover", "-pubin", "-inkey"])
                .arg(&pub_file)
                .args(["-pkeyopt", "rsa_padding_mode:pkcs1", "-in"])
                .arg(&sig_file)
                .output()
                .unwrap();
            assert!(out.status.success(), "{name}: {out:?}");
            assert_eq!(out.stdout, hash, "{name}: recovered data is the bare hash");
        } else {
            std::fs::write(&sig_file, ecdsa_raw_to_der(&sig)).unwrap();
            let out = Command::new("openssl")
                .args(["pkeyutl", "-verify", "-pubin", "-inkey"])
                .arg(&pub_file)
                .arg("-sigfile")
                .arg(&sig_file)
                .arg("-in")
                .arg(&hash_file)
                .output()
                .unwrap();
            assert!(out.status.success(), "{name} ({dgst}): {out:?}");
            assert!(String::from_utf8_lossy(&out.stdout).contains("Verified Successfully"));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ecdsa_signature_lengths_are_the_field_sizes() {
    for (file, len) in [
        ("ee-p256.key", 64),
        ("ee-p384.key", 96),
        ("ee-p521.key", 132),
    ] {
        let key = load(file);
        for hash_len in [16, 20, 32, 48, 64] {
            let sig = key.sign_ikev1(&vec![7; hash_len]).unwrap();
            assert_eq!(sig.len(), len, "{file}");
        }
    }
}

#[test]
fn wrong_lengths_bits_and_key_types_fail_typed() {
    let hash = bytes("hash20.bin");
    let rsa = spki("ee-rsa2048");
    let sig = bytes("sig-ee-rsa2048-hash20.bin");
    for len in [0, 1, 255, 257, 512] {
        let mut s = sig.clone();
        s.resize(len, 0);
        assert_eq!(
            rsa.verify_ikev1(&hash, &s),
            Err(SignatureError::Length {
                expected: 256,
                actual: len
            })
        );
    }
    for i in [0, 100, 255] {
        let mut s = sig.clone();
        s[i] ^= 0x10;
        assert_eq!(rsa.verify_ikev1(&hash, &s), Err(SignatureError::Invalid));
    }
    // The signature of another RSA key of the same size.
    let other = load("ca.key").sign_ikev1(&hash).unwrap();
    assert_eq!(
        rsa.verify_ikev1(&hash, &other),
        Err(SignatureError::Invalid)
    );
    // An ECDSA signature under an RSA key and the reverse, and across curves.
    let p256_sig = load("ee-p256.key").sign_ikev1(&hash).unwrap();
    assert!(matches!(
        rsa.verify_ikev1(&hash, &p256_sig),
        Err(SignatureError::Length { .. })
    ));
    assert!(matches!(
        spki("ee-p256").verify_ikev1(&hash, &sig),
        Err(SignatureError::Length { .. })
    ));
    assert!(matches!(
        spki("ee-p384").verify_ikev1(&hash, &p256_sig),
        Err(SignatureError::Length {
            expected: 96,
            actual: 64
        })
    ));
    // An all-zero and an all-ones r || s.
    for fill in [0x00, 0xff] {
        assert_eq!(
            spki("ee-p256").verify_ikev1(&hash, &[fill; 64]),
            Err(SignatureError::Invalid)
        );
    }
    // Hash lengths: empty, and longer than a 2048-bit modulus can pad.
    assert_eq!(
        rsa.verify_ikev1(&[], &sig),
        Err(SignatureError::HashLength { len: 0 })
    );
    assert_eq!(
        rsa.verify_ikev1(&[1; 246], &sig),
        Err(SignatureError::HashLength { len: 246 })
    );
    let key = load("ee-rsa2048.key");
    assert_eq!(key.sign_ikev1(&[]), Err(SignError::HashLength { len: 0 }));
    assert_eq!(
        key.sign_ikev1(&[1; 246]),
        Err(SignError::HashLength { len: 246 })
    );
    assert_eq!(key.sign_ikev1(&[1; 245]).unwrap().len(), 256);
}

#[test]
fn pem_with_other_blocks_and_no_key() {
    // EC PARAMETERS before the key, as `openssl ecparam -genkey` writes.
    assert!(text("ee-p256.sec1.pem").contains("BEGIN EC PARAMETERS"));
    let k = PrivateKey::from_pem(&text("ee-p256.sec1.pem")).unwrap();
    assert_eq!(k.algorithm(), SignatureAlgorithm::EcdsaP256);
    // A certificate and text around the key.
    let mixed = format!(
        "garbage\n{}\nmore\n{}",
        text("ee-p384.pem"),
        text("ee-p384.key")
    );
    assert_eq!(
        PrivateKey::from_pem(&mixed).unwrap().algorithm(),
        SignatureAlgorithm::EcdsaP384
    );
    assert_eq!(
        PrivateKey::from_pem(&text("ee-p384.pem")).unwrap_err(),
        KeyError::NoPemKey
    );
    assert_eq!(PrivateKey::from_pem("").unwrap_err(), KeyError::NoPemKey);
    assert!(matches!(
        PrivateKey::from_pem("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n"),
        Err(KeyError::Pem(_))
    ));
    assert!(matches!(
        PrivateKey::from_pem(&text("ed25519.key")),
        Err(KeyError::Unsupported(_))
    ));
}

#[test]
fn debug_shows_no_key_material() {
    let key = load("ee-p256.key");
    let debug = format!("{key:?}");
    assert!(debug.contains("EcdsaP256"), "{debug}");
    // The scalar (SEC1 DER bytes 7..39) appears in no form.
    let der = bytes("ee-p256.sec1.der");
    let scalar = &der[7..39];
    let hex: String = scalar.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!debug.to_lowercase().contains(&hex));
    assert!(!debug.contains(&format!("{:?}", scalar)));
    let rsa = format!("{:?}", load("ee-rsa2048.key"));
    assert!(rsa.len() < 100, "{rsa}");
}

#[test]
fn bad_key_input_is_an_error() {
    for der in [
        &[][..],
        &[0x30],
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        &[0x30, 0x03, 0x02, 0x01, 0x00],
        &[0xff; 64],
    ] {
        assert!(PrivateKey::from_der(der).is_err(), "{der:?}");
        assert!(PublicKey::from_spki_der(der).is_err(), "{der:?}");
    }
    let full = bytes("ee-rsa2048.pkcs1.der");
    for cut in [1, 10, full.len() / 2, full.len() - 1] {
        assert!(PrivateKey::from_der(&full[..cut]).is_err());
    }
    let spki_der = bytes("ee-p256.pub.der");
    for cut in 0..spki_der.len() {
        assert!(PublicKey::from_spki_der(&spki_der[..cut]).is_err());
    }
    // A point off the curve.
    let mut bad = spki_der.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(matches!(
        PublicKey::from_spki_der(&bad),
        Err(KeyError::Malformed(_))
    ));
}

#[test]
fn private_keys_wipe_themselves() {
    fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}
    zeroize_on_drop::<PrivateKey>();
}
