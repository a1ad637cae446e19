//! Path validation against the test PKI of make.sh: each case is a
//! certificate OpenSSL made to break one rule.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use common::{NOW, cert, fact, text};
use ike_pki::{CertError, Certificate, Crl, MAX_CHAIN_DEPTH, TrustStore};

const CA_SUBJECT: &str = "CN=Test Root CA,O=ike-pki test,C=CH";

fn store() -> TrustStore {
    let mut s = TrustStore::new();
    s.add_anchor(cert("ca"));
    s
}

fn subject_of(name: &str) -> String {
    cert(name).subject()
}

#[test]
fn good_chains() {
    let s = store();
    assert!(!s.is_empty());
    assert_eq!(s.anchor_names(), vec![cert("ca").subject_der()]);
    for ee in ["ee-rsa2048", "ee-rsa4096", "ee-p256", "ee-p521", "ee-nosan"] {
        let p = s.validate(&cert(ee), &[], NOW).unwrap();
        assert_eq!(p.anchor_subject, CA_SUBJECT);
        assert_eq!(p.depth, 2, "{ee}");
    }
    // Via the intermediate (ECDSA P-384 signing RSA and EC end entities);
    // extra and unrelated certificates sent along do not hurt.
    for ee in ["ee-rsa3072", "ee-p384"] {
        let p = s.validate(&cert(ee), &[cert("int")], NOW).unwrap();
        assert_eq!(p.depth, 3);
        let p = s
            .validate(
                &cert(ee),
                &[cert("ee-p256"), cert("other-ca"), cert("int")],
                NOW,
            )
            .unwrap();
        assert_eq!(p.depth, 3);
    }
    // At the edges of the validity.
    s.validate(&cert("ee-p256"), &[], common::START).unwrap();
    s.validate(&cert("ee-p256"), &[], common::END).unwrap();
    // An anchor as end entity.
    assert_eq!(s.validate(&cert("ca"), &[], NOW).unwrap().depth, 1);
    // The intermediate as an anchor shortens the path.
    let mut s2 = TrustStore::new();
    s2.add_anchor(cert("int"));
    s2.add_anchor(cert("int"));
    assert_eq!(s2.anchors().len(), 1);
    assert_eq!(s2.validate(&cert("ee-p384"), &[], NOW).unwrap().depth, 2);
}

#[test]
fn missing_intermediate_is_unknown_issuer() {
    assert_eq!(
        store().validate(&cert("ee-p384"), &[], NOW).unwrap_err(),
        CertError::UnknownIssuer {
            issuer: subject_of("int")
        }
    );
    assert!(matches!(
        TrustStore::new().validate(&cert("ee-p256"), &[], NOW),
        Err(CertError::UnknownIssuer { .. })
    ));
}

#[test]
fn expired_and_not_yet_valid() {
    let s = store();
    assert_eq!(
        s.validate(&cert("expired"), &[], NOW).unwrap_err(),
        CertError::Expired {
            subject: subject_of("expired"),
            not_after: common::EXPIRED_END
        }
    );
    assert_eq!(
        s.validate(&cert("notyet"), &[], NOW).unwrap_err(),
        CertError::NotYetValid {
            subject: subject_of("notyet"),
            not_before: common::NOTYET_START
        }
    );
    // The anchor's own validity counts.
    assert_eq!(
        s.validate(&cert("ee-p256"), &[], common::END + 1)
            .unwrap_err()
            .kind(),
        "expired"
    );
    assert!(matches!(
        s.validate(&cert("ee-p256"), &[], common::START - 1),
        Err(CertError::NotYetValid { .. })
    ));
    // Both at a time when they are valid.
    s.validate(&cert("expired"), &[], common::START + 86_400)
        .unwrap();
    s.validate(&cert("notyet"), &[], common::NOTYET_START + 1)
        .unwrap();
}

#[test]
fn other_ca_and_impostor() {
    let s = store();
    assert_eq!(
        s.validate(&cert("ee-other"), &[], NOW).unwrap_err(),
        CertError::UnknownIssuer {
            issuer: subject_of("other-ca")
        }
    );
    // Sending the other root along does not make it trusted.
    assert!(matches!(
        s.validate(&cert("ee-other"), &[cert("other-ca")], NOW),
        Err(CertError::UnknownIssuer { .. })
    ));
    // Same issuer name as our CA, another key.
    assert_eq!(
        s.validate(&cert("ee-impostor"), &[], NOW).unwrap_err(),
        CertError::BadSignature {
            subject: subject_of("ee-impostor")
        }
    );
    assert_eq!(cert("impostor").subject_der(), cert("ca").subject_der());
}

#[test]
fn revoked_by_crl() {
    let mut s = store();
    s.validate(&cert("revoked"), &[], NOW).unwrap();
    s.add_crl(Crl::from_der(&common::bytes("crl.der")).unwrap());
    assert_eq!(
        s.validate(&cert("revoked"), &[], NOW).unwrap_err(),
        CertError::Revoked {
            subject: subject_of("revoked"),
            serial: fact("serials.txt", "revoked"),
        }
    );
    // Others are not.
    s.validate(&cert("ee-p256"), &[], NOW).unwrap();
    s.validate(&cert("ee-p384"), &[cert("int")], NOW).unwrap();
}

#[test]
fn expired_or_forged_crl() {
    let mut s = store();
    s.add_crl(Crl::from_pem(&text("crl-expired.pem")).unwrap());
    assert_eq!(
        s.validate(&cert("ee-p256"), &[], NOW).unwrap_err(),
        CertError::CrlExpired {
            issuer: CA_SUBJECT.into()
        }
    );
    // The impostor's CRL names our CA but is not signed by it.
    let mut s = store();
    s.add_crl(Crl::from_pem(&text("crl-impostor.pem")).unwrap());
    assert_eq!(
        s.validate(&cert("ee-p256"), &[], NOW).unwrap_err().kind(),
        "crl-expired"
    );
}

#[test]
fn issuer_not_a_ca() {
    assert_eq!(
        store()
            .validate(&cert("ee-under-not-ca"), &[cert("not-ca")], NOW)
            .unwrap_err(),
        CertError::NotCa {
            subject: subject_of("not-ca")
        }
    );
}

#[test]
fn path_length_constraint() {
    assert_eq!(
        store()
            .validate(&cert("ee-pl"), &[cert("pl0-sub"), cert("pl0")], NOW)
            .unwrap_err(),
        CertError::PathLength {
            subject: subject_of("pl0")
        }
    );
    // pathLen 0 still allows an end entity right below.
    let mut s = TrustStore::new();
    s.add_anchor(cert("pl0"));
    assert!(matches!(
        s.validate(&cert("ee-pl"), &[cert("pl0-sub")], NOW),
        Err(CertError::PathLength { .. })
    ));
    let mut s = TrustStore::new();
    s.add_anchor(cert("pl0-sub"));
    s.validate(&cert("ee-pl"), &[], NOW).unwrap();
}

#[test]
fn key_usage_without_digital_signature() {
    assert_eq!(
        store().validate(&cert("no-ds"), &[], NOW).unwrap_err(),
        CertError::KeyUsage {
            subject: subject_of("no-ds")
        }
    );
}

#[test]
fn chain_of_ten_is_too_long() {
    let chain = Certificate::all_from_pem(&text("long-chain.pem")).unwrap();
    assert_eq!(chain.len() + 2, 10);
    assert!(chain.len() + 2 > MAX_CHAIN_DEPTH);
    assert_eq!(
        store().validate(&cert("ee-long"), &chain, NOW).unwrap_err(),
        CertError::ChainTooLong
    );
    // In reverse order too.
    let reversed: Vec<_> = chain.iter().rev().cloned().collect();
    assert_eq!(
        store()
            .validate(&cert("ee-long"), &reversed, NOW)
            .unwrap_err(),
        CertError::ChainTooLong
    );
    // Anchored at long2, the path (ee, long8..long3, long2) is 8: fine.
    let mut s = TrustStore::new();
    s.add_anchor(cert("long2"));
    assert_eq!(s.validate(&cert("ee-long"), &chain, NOW).unwrap().depth, 8);
    // At long1 it is 9.
    let mut s = TrustStore::new();
    s.add_anchor(cert("long1"));
    assert_eq!(
        s.validate(&cert("ee-long"), &chain, NOW).unwrap_err(),
        CertError::ChainTooLong
    );
}

#[test]
fn loops_are_refused() {
    let err = store()
        .validate(&cert("ee-loop"), &[cert("loop-a"), cert("loop-b")], NOW)
        .unwrap_err();
    assert_eq!(err, CertError::ChainTooLong);
    // Many copies of the same certificates do not blow up the search.
    let many: Vec<Certificate> = (0..50)
        .flat_map(|_| [cert("loop-a"), cert("loop-b"), cert("int")])
        .collect();
    assert!(store().validate(&cert("ee-loop"), &many, NOW).is_err());
}

#[test]
fn tampered_certificate_fails_its_signature() {
    let mut der = common::bytes("ee-p256.der");
    // Flip a bit of the DNS name "p256.example" inside the TBS.
    let at = der.windows(12).rposition(|w| w == b"p256.example").unwrap();
    der[at] ^= 0x01;
    let c = Certificate::from_der(&der).unwrap();
    assert_eq!(
        store().validate(&c, &[], NOW).unwrap_err().kind(),
        "bad-signature"
    );
}
