//! RFC 2409 key-derivation known answers.
//!
//! - `vectors/ikev1_kdf_sha1.txt`: SKEYID and SKEYID_d/_a/_e with
//!   HMAC-SHA1 for pre-shared keys and signatures (NIST CAVP SP 800-135
//!   records as run by libreswan, the ACVP server's unit tests, NSS).
//! - `vectors/ikev1_phase1_secrets_rubnds.txt`: two full PSK phase-1 sets
//!   from RUB-NDS/IPsec-StateMachineExtractor (AES-128, SHA-1, group 2):
//!   SKEYID*, Ka, the phase-1 IV, HASH_R, and a message-ID IV.
//! - `vectors/ikev1_prf_expansion_nss.txt`: NSS's RFC 2409 Appendix B and
//!   KEYMAT-style expansions.

// Test helpers outside `#[test]` functions may panic like the tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod kat_common;

use ike_sm::crypto::{
    EncryptionAlgorithm, HashAlgorithm, IvChain, Phase1Transcript, Skeyid, appendix_b_expand,
    prf_expand,
};
use kat_common::{Section, parse, sections_with_prefix};

const KDF: &str = include_str!("../../vectors/ikev1_kdf_sha1.txt");
const RUB: &str = include_str!("../../vectors/ikev1_phase1_secrets_rubnds.txt");
const NSS: &str = include_str!("../../vectors/ikev1_prf_expansion_nss.txt");

fn cookie(s: &Section, key: &str) -> [u8; 8] {
    s.hex(key)
        .try_into()
        .unwrap_or_else(|_| panic!("[{}] {key} is not 8 bytes", s.name))
}

fn skeyid(s: &Section) -> Skeyid {
    assert_eq!(s.get("hash").unwrap_or("SHA-1"), "SHA-1", "[{}]", s.name);
    let (ni, nr) = (s.hex("ni"), s.hex("nr"));
    match s.get("auth") {
        Some("dsa") => Skeyid::signature(HashAlgorithm::Sha1, &ni, &nr, &s.hex("gxy")),
        Some("psk") | None => Skeyid::pre_shared_key(HashAlgorithm::Sha1, &s.hex("psk"), &ni, &nr),
        Some(other) => panic!("[{}] unknown auth {other}", s.name),
    }
}

#[test]
fn nist_kdf_records_psk_and_signature() {
    let all = parse(KDF);
    let mut full = 0;
    for s in &all {
        let sk = skeyid(s);
        assert_eq!(
            sk.value().expose(),
            s.hex("skeyid").as_slice(),
            "[{}] skeyid",
            s.name
        );
        let Some(gxy) = s.hex_opt("gxy") else {
            // NSS vector 5 publishes SKEYID only.
            continue;
        };
        let keys = sk.derive(&gxy, &cookie(s, "cky_i"), &cookie(s, "cky_r"));
        assert_eq!(
            keys.skeyid().expose(),
            s.hex("skeyid").as_slice(),
            "[{}]",
            s.name
        );
        assert_eq!(
            keys.skeyid_d().expose(),
            s.hex("skeyid_d").as_slice(),
            "[{}] d",
            s.name
        );
        assert_eq!(
            keys.skeyid_a().expose(),
            s.hex("skeyid_a").as_slice(),
            "[{}] a",
            s.name
        );
        assert_eq!(
            keys.skeyid_e().expose(),
            s.hex("skeyid_e").as_slice(),
            "[{}] e",
            s.name
        );
        full += 1;
    }
    assert_eq!(all.len(), 5);
    assert_eq!(full, 4);
}

#[test]
fn rubnds_phase1_secrets() {
    let all = parse(RUB);
    let sets = sections_with_prefix(&all, "rubnds-secrets-");
    assert_eq!(sets.len(), 2);
    for s in sets {
        let (cky_i, cky_r) = (cookie(s, "cky_i"), cookie(s, "cky_r"));
        let (gxi, gxr, gxy) = (s.hex("gxi"), s.hex("gxr"), s.hex("gxy"));
        let keys = Skeyid::pre_shared_key(
            HashAlgorithm::Sha1,
            &s.hex("psk"),
            &s.hex("ni"),
            &s.hex("nr"),
        )
        .derive(&gxy, &cky_i, &cky_r);
        assert_eq!(
            keys.skeyid().expose(),
            s.hex("skeyid").as_slice(),
            "[{}]",
            s.name
        );
        assert_eq!(
            keys.skeyid_d().expose(),
            s.hex("skeyid_d").as_slice(),
            "[{}]",
            s.name
        );
        assert_eq!(
            keys.skeyid_a().expose(),
            s.hex("skeyid_a").as_slice(),
            "[{}]",
            s.name
        );
        assert_eq!(
            keys.skeyid_e().expose(),
            s.hex("skeyid_e").as_slice(),
            "[{}]",
            s.name
        );

        let aes = EncryptionAlgorithm::Aes128Cbc;
        assert_eq!(
            keys.encryption_key(aes).expose(),
            s.hex("ka").as_slice(),
            "[{}] Ka",
            s.name
        );
        assert!(keys.cipher(aes).is_ok());

        let chain = IvChain::phase1(HashAlgorithm::Sha1, aes, &gxi, &gxr);
        assert_eq!(
            chain.iv(),
            s.hex("iv_phase1").as_slice(),
            "[{}] phase-1 IV",
            s.name
        );

        let t = Phase1Transcript {
            g_xi: &gxi,
            g_xr: &gxr,
            cky_i,
            cky_r,
            sai_b: &s.hex("sai_b"),
        };
        let hash_r = keys.hash_r(&t, &s.hex("idir_b"));
        assert!(
            hash_r.verify(&s.hex("hash_r")),
            "[{}] HASH_R {hash_r:?}",
            s.name
        );
        // HASH_I over the same inputs is a different value (mirrored order).
        assert!(!keys.hash_i(&t, &s.hex("idir_b")).verify(&s.hex("hash_r")));

        if let Some(mid) = s.hex_opt("msg_id") {
            let mid = u32::from_be_bytes(mid.try_into().unwrap());
            assert_eq!(
                chain.for_message_id(mid).iv(),
                s.hex("iv_msgid").as_slice(),
                "[{}] message-ID IV",
                s.name
            );
        }
    }
}

#[test]
fn nss_appendix_b_and_keymat_expansion() {
    let all = parse(NSS);
    let appb = sections_with_prefix(&all, "nss-ike1-appb-");
    let qm = sections_with_prefix(&all, "nss-ike1-qm-");
    assert_eq!((appb.len(), qm.len()), (3, 3));
    for s in appb {
        let out = appendix_b_expand(HashAlgorithm::Sha1, &s.hex("key"), s.usize("length"));
        assert_eq!(out.expose(), s.hex("output").as_slice(), "[{}]", s.name);
    }
    for s in qm {
        let seed = s.hex("seed");
        let out = prf_expand(
            HashAlgorithm::Sha1,
            &s.hex("key"),
            &[&seed],
            s.usize("length"),
        );
        assert_eq!(out.expose(), s.hex("output").as_slice(), "[{}]", s.name);
    }
}

/// Ka for every cipher: a key no longer than SKEYID_e is its prefix (NSS
/// entry 13), a longer one is the prefix of the Appendix B expansion (NSS
/// entry 11, 132 bytes). `Phase1Keys::encryption_key` is checked against the
/// same rule with the published SKEYID_e of the libreswan CAVP record.
#[test]
fn encryption_key_for_every_cipher() {
    let nss = parse(NSS);
    let s = sections_with_prefix(&nss, "nss-ike1-appb-132")[0];
    let key = s.hex("key");
    let expanded = s.hex("output");
    for alg in EncryptionAlgorithm::ALL {
        let n = alg.key_len();
        let want = if n <= key.len() {
            &key[..n]
        } else {
            &expanded[..n]
        };
        assert_eq!(
            appendix_b_expand(HashAlgorithm::Sha1, &key, n).expose(),
            want,
            "{alg}"
        );
    }

    let kdf = parse(KDF);
    let r = sections_with_prefix(&kdf, "libreswan-cavp-psk-sha1")[0];
    let keys = skeyid(r).derive(&r.hex("gxy"), &cookie(r, "cky_i"), &cookie(r, "cky_r"));
    let skeyid_e = r.hex("skeyid_e");
    for alg in EncryptionAlgorithm::ALL {
        let want = appendix_b_expand(HashAlgorithm::Sha1, &skeyid_e, alg.key_len());
        assert_eq!(keys.encryption_key(alg), want, "{alg}");
    }
}
