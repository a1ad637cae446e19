//! Secret hygiene of `esp`: the key material of an SA (encryption key with
//! its GCM salt, integrity key) is redacted in every `Debug` that can reach
//! it (`SecretBytes`, `Keys`, `SaParams`, `Sa`, `SaTable`, and the errors an
//! SA returns), declared to wipe itself on drop, and wipeable early.

// Test code: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod secrets_common;

use std::net::Ipv4Addr;
use std::time::Instant;

use esp::{
    AesKeySize, Direction, Encryption, Integrity, Keys, Mode, Sa, SaParams, SaTable, SecretBytes,
    Spi,
};
use secrets_common::{assert_hidden, secret, wipes_on_drop};
use zeroize::Zeroize;

fn suites() -> Vec<(Encryption, Integrity)> {
    vec![
        (Encryption::DesCbc, Integrity::HmacMd5_96),
        (Encryption::TripleDesCbc, Integrity::HmacSha1_96),
        (
            Encryption::AesCbc(AesKeySize::Aes128),
            Integrity::HmacSha256_128,
        ),
        (
            Encryption::AesCbc(AesKeySize::Aes256),
            Integrity::HmacSha512_256,
        ),
        (Encryption::AesGcm16(AesKeySize::Aes256), Integrity::None),
        (Encryption::Null, Integrity::HmacSha384_192),
    ]
}

fn params(enc: Encryption, integ: Integrity, dir: Direction, keys: &Keys) -> SaParams {
    let mut p = SaParams::new(
        Spi(0xa479_0fa0),
        dir,
        Mode::Tunnel {
            src: Ipv4Addr::new(11, 11, 11, 1),
            dst: Ipv4Addr::new(11, 11, 11, 2),
        },
        enc,
        integ,
        keys.clone(),
    );
    p.allow_weak = true;
    p
}

#[test]
fn secret_bytes_and_keys_debug_redact() {
    let (ek, ak) = (secret(36, 1), secret(64, 2));
    let s = SecretBytes::new(&ek);
    assert_hidden("SecretBytes", &format!("{s:?} {s:#?}"), &ek);
    let keys = Keys::new(&ek, &ak);
    let shown = format!("{keys:?} {keys:#?}");
    assert_hidden("Keys: encryption", &shown, &ek);
    assert_hidden("Keys: integrity", &shown, &ak);
}

#[test]
fn sa_params_sa_and_table_debug_redact() {
    let now = Instant::now();
    for (enc, integ) in suites() {
        let ek = secret(enc.key_len().max(6), 0x31);
        let ak = secret(integ.key_len().max(6), 0x77);
        let keys = Keys::new(&ek[..enc.key_len()], &ak[..integ.key_len()]);
        let what = format!("{enc:?}/{integ:?}");
        let p = params(enc, integ, Direction::Inbound, &keys);
        let shown = format!("{p:?} {p:#?}");
        if enc.key_len() >= 6 {
            assert_hidden(
                &format!("SaParams {what}: encryption key"),
                &shown,
                &ek[..enc.key_len()],
            );
        }
        if integ.key_len() >= 6 {
            assert_hidden(
                &format!("SaParams {what}: integrity key"),
                &shown,
                &ak[..integ.key_len()],
            );
        }
        let sa = Sa::new(p, now).unwrap();
        let mut table = SaTable::new();
        let shown_sa = format!("{sa:?} {sa:#?}");
        table.insert(sa).unwrap();
        let shown = format!("{shown_sa} {table:?} {table:#?}");
        for (name, k) in [
            ("encryption", &ek[..enc.key_len()]),
            ("integrity", &ak[..integ.key_len()]),
        ] {
            if k.len() >= 6 {
                assert_hidden(&format!("Sa/SaTable {what}: {name} key"), &shown, k);
            }
        }
    }
}

#[test]
fn decapsulation_errors_carry_no_key_material() {
    // A forged packet's error, as a caller would log it.
    let now = Instant::now();
    let (enc, integ) = (
        Encryption::AesCbc(AesKeySize::Aes128),
        Integrity::HmacSha1_96,
    );
    let (ek, ak) = (secret(16, 3), secret(20, 4));
    let mut sa = Sa::new(
        params(enc, integ, Direction::Inbound, &Keys::new(&ek, &ak)),
        now,
    )
    .unwrap();
    let mut packet = vec![
        0x45, 0, 0, 84, 0, 0, 0, 0, 64, 50, 0, 0, 11, 11, 11, 2, 11, 11, 11, 1,
    ];
    packet.extend_from_slice(&0xa479_0fa0u32.to_be_bytes());
    packet.extend_from_slice(&1u32.to_be_bytes());
    packet.extend_from_slice(&[0x5a; 56]);
    let err = sa.decapsulate(now, &mut packet).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert_hidden("DecapError: encryption key", &shown, &ek);
    assert_hidden("DecapError: integrity key", &shown, &ak);
}

#[test]
fn key_types_wipe_on_drop() {
    // Declared by each type; esp's compile-time guard checks every cipher,
    // GCM and HMAC state behind `Sa`.
    wipes_on_drop::<SecretBytes>();
    wipes_on_drop::<Keys>();
    wipes_on_drop::<Sa>();
}

#[test]
fn keys_can_be_wiped_early() {
    let mut keys = Keys::new(&secret(32, 5), &secret(20, 6));
    keys.zeroize();
    // `Vec`'s zeroize writes zeros and then empties: through the safe API
    // only the emptiness is visible.
    assert!(keys.encryption.expose().is_empty());
    assert!(keys.integrity.expose().is_empty());
    let mut s = SecretBytes::new(&secret(16, 7));
    s.zeroize();
    assert!(s.is_empty());
}
