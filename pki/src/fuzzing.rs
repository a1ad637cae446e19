//! The function the `pki_cert` fuzz target and its corpus-replay test
//! call (behind the `fuzzing` feature).
//!
//! Input layout: a 2-byte big-endian length and that many bytes of
//! certificate DER; one byte `n` (at most 10 used) and `n` more
//! length-prefixed DER blobs (the chain the peer sent; each is also tried
//! as a CRL, a private key and a SubjectPublicKeyInfo); one byte `h` and
//! `h` bytes of hash; the rest is a signature. A short input ends early
//! with what it has.

use crate::{
    Certificate, Crl, MAX_CHAIN_DEPTH, PeerIdentity, PrivateKey, PublicKey, SignatureError,
    TrustStore,
};

/// The test CA of `tests/data` (make.sh): the anchor.
const CA: &[u8] = include_bytes!("../tests/data/ca.der");
/// Its CRL (revoking one certificate).
const CRL: &[u8] = include_bytes!("../tests/data/crl.der");
/// 2030-01-01T00:00:00Z: within the test PKI's validity.
const NOW: u64 = 1_893_456_000;

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.0.len());
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        head
    }
    fn byte(&mut self) -> usize {
        self.take(1).first().copied().map_or(0, usize::from)
    }
    fn blob(&mut self) -> &'a [u8] {
        let len = self.take(2);
        let n = match len {
            [a, b] => usize::from(u16::from_be_bytes([*a, *b])),
            _ => 0,
        };
        self.take(n)
    }
}

/// Parses, validates and verifies whatever `data` holds; panics only when
/// an invariant breaks.
///
/// # Panics
/// When a certificate does not match its own subject name, a validated
/// path is longer than [`MAX_CHAIN_DEPTH`], a signature of the wrong
/// length is not refused as such, or a key's own signature does not verify.
pub fn cert(data: &[u8]) {
    let mut input = Input(data);
    let ee_der = input.blob();
    let n = input.byte().min(10);
    let chain_ders: Vec<&[u8]> = (0..n).map(|_| input.blob()).collect();
    let hash_len = input.byte();
    let hash = input.take(hash_len);
    let signature = input.0;

    let mut store = TrustStore::new();
    if let Ok(ca) = Certificate::from_der(CA) {
        store.add_anchor(ca);
    }
    if let Ok(crl) = Crl::from_der(CRL) {
        store.add_crl(crl);
    }

    let mut chain = Vec::new();
    for der in &chain_ders {
        if let Ok(c) = Certificate::from_der(der) {
            chain.push(c);
        }
        if let Ok(crl) = Crl::from_der(der) {
            let _ = (crl.issuer(), crl.revoked_serials(), crl.next_update());
            store.add_crl(crl);
        }
        if let Ok(key) = PrivateKey::from_der(der) {
            let _ = format!("{key:?}");
            if let Ok(sig) = key.sign_ikev1(hash) {
                assert!(
                    key.public_key().verify_ikev1(hash, &sig).is_ok(),
                    "a key's own signature must verify"
                );
            }
        }
        if let Ok(key) = PublicKey::from_spki_der(der) {
            check_verify(&key, hash, signature);
        }
    }
    if let Ok(text) = core::str::from_utf8(data) {
        let _ = Certificate::all_from_pem(text);
        let _ = PrivateKey::from_pem(text);
        let _ = Crl::from_pem(text);
    }

    let Ok(ee) = Certificate::from_der(ee_der) else {
        return;
    };
    let _ = (
        ee.subject(),
        ee.issuer(),
        ee.serial_hex(),
        format!("{ee:?}"),
    );
    let _ = (ee.not_before(), ee.not_after(), ee.is_ca(), ee.issuer_der());
    let subject = ee.subject_der();
    assert!(
        ee.matches(&PeerIdentity::Dn(&subject)),
        "a certificate names its own subject"
    );
    for dns in ee.dns_names() {
        let _ = ee.matches(&PeerIdentity::Fqdn(&dns));
    }
    for email in ee.emails() {
        let _ = ee.matches(&PeerIdentity::UserFqdn(&email));
    }
    for ip in ee.ip_addresses() {
        assert!(ee.matches(&PeerIdentity::Ip(ip)), "a SAN address matches");
    }
    if let Ok(text) = core::str::from_utf8(hash) {
        let _ = ee.matches(&PeerIdentity::Fqdn(text));
        let _ = ee.matches(&PeerIdentity::UserFqdn(text));
    }
    let _ = ee.matches(&PeerIdentity::Dn(hash));

    match store.validate(&ee, &chain, NOW) {
        Ok(path) => assert!(path.depth >= 1 && path.depth <= MAX_CHAIN_DEPTH),
        Err(e) => {
            let _ = (e.kind(), e.to_string());
        }
    }
    if let Ok(key) = ee.public_key() {
        check_verify(&key, hash, signature);
    }
}

/// Verifies; a signature of the wrong length must be refused as such.
fn check_verify(key: &PublicKey, hash: &[u8], signature: &[u8]) {
    let _ = (key.bits(), key.algorithm(), format!("{key:?}"));
    let result = key.verify_ikev1(hash, signature);
    let expected = match key.algorithm() {
        crate::SignatureAlgorithm::Rsa => key.bits().div_ceil(8),
        crate::SignatureAlgorithm::EcdsaP256 => 64,
        crate::SignatureAlgorithm::EcdsaP384 => 96,
        crate::SignatureAlgorithm::EcdsaP521 => 132,
    };
    if signature.len() != expected {
        assert!(
            matches!(result, Err(SignatureError::Length { .. })),
            "wrong-length signature not refused as such"
        );
    }
}
