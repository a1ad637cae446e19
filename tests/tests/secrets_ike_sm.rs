//! Secret hygiene of `ike_sm::crypto`: every type that holds a secret
//! (a DH private value, g^xy, a PSK's SKEYID and its children, Ka, KEYMAT,
//! a keyed cipher) redacts it in `Debug`, declares that it wipes itself on
//! drop, and can be wiped early where the API allows.

// Test code: a panic is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

mod secrets_common;

use ike_sm::crypto::{
    Cipher, DhGroup, DhKeyPair, EncryptionAlgorithm, HashAlgorithm, Phase1Keys, SecretBytes,
    Skeyid, appendix_b_expand, prf_expand,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use secrets_common::{assert_hidden, secret, wipes_on_drop};
use zeroize::Zeroize;

const PSK: &[u8] = b"Tq8vLw3Zr6Nk";

fn phase1(hash: HashAlgorithm) -> (Phase1Keys, SecretBytes) {
    let mut rng = ChaCha20Rng::from_seed([0x42; 32]);
    let ours = DhKeyPair::generate(DhGroup::Modp1536, &mut rng);
    let theirs = DhKeyPair::generate(DhGroup::Modp1536, &mut rng);
    let g_xy = ours.shared_secret(theirs.public_value()).unwrap();
    let keys = Skeyid::pre_shared_key(hash, PSK, b"initiator nonce", b"responder nonce").derive(
        g_xy.expose(),
        &[1; 8],
        &[2; 8],
    );
    (keys, g_xy)
}

#[test]
fn secret_bytes_debug_redacts() {
    let s = secret(32, 1);
    let v = SecretBytes::new(&s);
    assert_hidden("SecretBytes", &format!("{v:?}"), &s);
    assert_hidden("SecretBytes {:#?}", &format!("{v:#?}"), &s);
    // It still says what it is and how long.
    assert!(format!("{v:?}").contains("32 bytes"));
}

#[test]
fn dh_key_pair_debug_hides_the_private_value() {
    for group in [DhGroup::Modp768, DhGroup::Modp2048] {
        let mut rng = ChaCha20Rng::from_seed([7; 32]);
        let kp = DhKeyPair::generate(group, &mut rng);
        let x = kp.private_value().expose();
        // The private value is left-padded with zeros: look for its
        // significant bytes.
        let first = x.iter().position(|b| *b != 0).unwrap();
        let shown = format!("{kp:?} {kp:#?}");
        assert_hidden("DhKeyPair", &shown, &x[first..]);
        // An imported private value too.
        let imported = DhKeyPair::from_private_value(group, &secret(40, 9)).unwrap();
        assert_hidden(
            "imported DhKeyPair",
            &format!("{imported:?}"),
            &secret(40, 9),
        );
    }
}

#[test]
fn shared_secret_and_phase1_keys_debug_redact() {
    for hash in HashAlgorithm::ALL {
        let (keys, g_xy) = phase1(hash);
        assert_hidden("g^xy", &format!("{g_xy:?}"), g_xy.expose());
        let shown = format!("{keys:?} {keys:#?}");
        assert_hidden("Phase1Keys: PSK", &shown, PSK);
        assert_hidden("Phase1Keys: g^xy", &shown, g_xy.expose());
        for (name, k) in [
            ("SKEYID", keys.skeyid()),
            ("SKEYID_d", keys.skeyid_d()),
            ("SKEYID_a", keys.skeyid_a()),
            ("SKEYID_e", keys.skeyid_e()),
        ] {
            assert_hidden(name, &shown, k.expose());
        }
    }
}

#[test]
fn skeyid_debug_redacts_value_and_psk() {
    for hash in HashAlgorithm::ALL {
        let s = Skeyid::pre_shared_key(hash, PSK, b"ni", b"nr");
        let shown = format!("{s:?}");
        assert_hidden("Skeyid", &shown, s.value().expose());
        assert_hidden("Skeyid: PSK", &shown, PSK);
        let sig = Skeyid::signature(hash, b"ni", b"nr", &secret(96, 3));
        assert_hidden(
            "Skeyid (signature)",
            &format!("{sig:?}"),
            sig.value().expose(),
        );
        assert_hidden(
            "Skeyid (signature): g^xy",
            &format!("{sig:?}"),
            &secret(96, 3),
        );
    }
}

#[test]
fn ka_cipher_and_keymat_debug_redact() {
    let (keys, _) = phase1(HashAlgorithm::Sha1);
    for alg in [
        EncryptionAlgorithm::DesCbc,
        EncryptionAlgorithm::TripleDesCbc,
        EncryptionAlgorithm::Aes128Cbc,
        EncryptionAlgorithm::Aes192Cbc,
        EncryptionAlgorithm::Aes256Cbc,
    ] {
        let ka = keys.encryption_key(alg);
        assert_hidden("Ka", &format!("{ka:?}"), ka.expose());
        // A derived DES key can be weak (probability 2^-52): then there is
        // no cipher to look at.
        if let Ok(cipher) = keys.cipher(alg) {
            assert_hidden("Cipher", &format!("{cipher:?} {cipher:#?}"), ka.expose());
        }
    }
    let keymat = keys.keymat(
        Some(&secret(96, 5)),
        3,
        &[0xa4, 0x79, 0x0f, 0xa0],
        b"n1",
        b"n2",
        64,
    );
    assert_hidden("KEYMAT", &format!("{keymat:?}"), keymat.expose());
    let expanded = prf_expand(HashAlgorithm::Sha2_256, &secret(32, 6), &[b"seed"], 80);
    assert_hidden("prf_expand", &format!("{expanded:?}"), expanded.expose());
    let b = appendix_b_expand(HashAlgorithm::Md5, &secret(16, 7), 32);
    assert_hidden("appendix_b_expand", &format!("{b:?}"), b.expose());
}

#[test]
fn cipher_new_debug_hides_a_given_key() {
    let key = secret(32, 11);
    let c = Cipher::new(EncryptionAlgorithm::Aes256Cbc, &key).unwrap();
    assert_hidden("Cipher::new", &format!("{c:?}"), &key);
}

#[test]
fn secret_types_wipe_on_drop() {
    // Declared by each type; ike-sm's compile-time guard checks the cipher
    // key schedules behind `Cipher`.
    wipes_on_drop::<SecretBytes>();
    wipes_on_drop::<Skeyid>();
    wipes_on_drop::<Phase1Keys>();
    wipes_on_drop::<DhKeyPair>();
    wipes_on_drop::<Cipher>();
}

#[test]
fn secret_bytes_can_be_wiped_early() {
    let mut v = SecretBytes::new(&secret(32, 2));
    v.zeroize();
    // `Vec`'s zeroize writes zeros over the bytes and then empties it;
    // through the safe API only the emptiness is visible.
    assert!(v.expose().is_empty());
    assert!(v.is_empty());
    // The wiped value equals an empty secret (and is still usable).
    assert_eq!(v, SecretBytes::default());
}
