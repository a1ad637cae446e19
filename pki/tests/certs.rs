//! Certificate parsing, the facts it exposes (checked against OpenSSL's
//! view of the same files), identity matching, and bad input.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    missing_docs
)]

mod common;

use std::net::IpAddr;

use common::{END, START, bytes, cert, fact, text};
use ike_pki::{CertError, Certificate, Crl, MAX_CERT_SIZE, PeerIdentity};

#[test]
fn facts_match_openssl() {
    for name in ["ca", "int", "ee-rsa2048", "ee-p256"] {
        let c = cert(name);
        assert_eq!(c.serial_hex(), fact("serials.txt", name), "{name}");
        // OpenSSL's RFC 2253 form, except that x509-cert calls
        // emailAddress (not in RFC 4514's table) EMAIL.
        let openssl = fact("subjects.txt", name).replace("emailAddress=", "EMAIL=");
        assert_eq!(c.subject(), openssl, "{name}");
        assert_eq!(c.not_before(), START);
        assert_eq!(c.not_after(), END);
        assert_eq!(c.der(), bytes(&format!("{name}.der")));
    }
    assert_eq!(cert("ee-rsa3072").issuer(), fact("subjects.txt", "int"));
    assert_eq!(cert("int").issuer(), fact("subjects.txt", "ca"));
    assert!(cert("ca").is_ca());
    assert!(cert("int").is_ca());
    assert!(!cert("ee-p256").is_ca());
    assert!(!cert("not-ca").is_ca());
    assert_eq!(cert("expired").not_after(), common::EXPIRED_END);
    assert_eq!(cert("notyet").not_before(), common::NOTYET_START);
    let debug = format!("{:?}", cert("ee-p256"));
    assert!(debug.contains("CN=p256.example"), "{debug}");
}

#[test]
fn names_are_the_der_of_the_names() {
    let ca = cert("ca");
    let int = cert("int");
    // The issuer of int is the subject of the CA, byte for byte, and the
    // subject DER sits inside the certificate DER.
    assert_eq!(int.issuer_der(), ca.subject_der());
    assert_eq!(ca.issuer_der(), ca.subject_der());
    let der = ca.der();
    let sub = ca.subject_der();
    assert_eq!(sub[0], 0x30);
    assert!(der.windows(sub.len()).any(|w| w == sub.as_slice()));
}

#[test]
fn pem_and_bundles() {
    let one = Certificate::from_pem(&text("ee-p256.pem")).unwrap();
    assert_eq!(one.der(), bytes("ee-p256.der"));
    let bundle = text("long-chain.pem");
    let all = Certificate::all_from_pem(&bundle).unwrap();
    assert_eq!(all.len(), 8);
    for (i, c) in all.iter().enumerate() {
        assert_eq!(c.der(), bytes(&format!("long{}.der", i + 1)));
    }
    assert_eq!(
        Certificate::from_pem(&bundle).unwrap().der(),
        bytes("long1.der")
    );
    // A key block before the certificate is skipped.
    let mixed = format!("{}{}", text("ee-p384.key"), text("ee-p384.pem"));
    assert_eq!(
        Certificate::from_pem(&mixed).unwrap().der(),
        bytes("ee-p384.der")
    );
    assert!(matches!(
        Certificate::from_pem(&text("ee-p384.key")),
        Err(CertError::Malformed(_))
    ));
    assert!(matches!(
        Certificate::all_from_pem(""),
        Err(CertError::Malformed(_))
    ));
    let crl = Crl::from_pem(&text("crl.pem")).unwrap();
    assert_eq!(crl.der(), bytes("crl.der"));
    assert_eq!(crl.issuer_der(), cert("ca").subject_der());
    assert_eq!(crl.revoked_serials(), vec![fact("serials.txt", "revoked")]);
    assert_eq!(crl.this_update(), START);
    assert_eq!(crl.next_update(), Some(END));
}

#[test]
fn subject_alt_names() {
    let c = cert("ee-rsa2048");
    assert_eq!(c.dns_names(), ["rsa2048.example", "vpn.rsa2048.example"]);
    assert_eq!(c.emails(), ["rsa2048@example.org"]);
    assert_eq!(
        c.ip_addresses(),
        [
            "192.0.2.1".parse::<IpAddr>().unwrap(),
            "2001:db8::1".parse().unwrap()
        ]
    );
    let n = cert("ee-nosan");
    assert!(n.dns_names().is_empty() && n.emails().is_empty() && n.ip_addresses().is_empty());
}

#[test]
fn identity_matching() {
    let c = cert("ee-rsa2048");
    let ip = |s: &str| PeerIdentity::Ip(s.parse().unwrap());
    // FQDN: SAN dNSName, any case, a trailing dot; not the CN when a SAN exists.
    for yes in ["rsa2048.example", "VPN.RSA2048.example", "rsa2048.example."] {
        assert!(c.matches(&PeerIdentity::Fqdn(yes)), "{yes}");
    }
    for no in ["example", "rsa2048.example.org", "x.rsa2048.example", ""] {
        assert!(!c.matches(&PeerIdentity::Fqdn(no)), "{no}");
    }
    // No SAN at all: the CN.
    let n = cert("ee-nosan");
    assert!(n.matches(&PeerIdentity::Fqdn("nosan.example")));
    assert!(n.matches(&PeerIdentity::Fqdn("NoSan.Example")));
    assert!(!n.matches(&PeerIdentity::Fqdn("other.example")));
    // A cert with a SAN: its CN alone is not enough.
    let p = cert("ee-p384");
    assert!(p.matches(&PeerIdentity::Fqdn("p384.example")));
    let rsa3072 = cert("ee-rsa3072");
    assert!(!rsa3072.matches(&PeerIdentity::Fqdn("p384.example")));
    // USER_FQDN: SAN rfc822Name or the subject's emailAddress.
    assert!(c.matches(&PeerIdentity::UserFqdn("rsa2048@example.org")));
    assert!(c.matches(&PeerIdentity::UserFqdn("RSA2048@Example.org")));
    assert!(c.matches(&PeerIdentity::UserFqdn("legacy-rsa2048@example.org")));
    assert!(!c.matches(&PeerIdentity::UserFqdn("p256@example.org")));
    assert!(!c.matches(&PeerIdentity::UserFqdn("")));
    // IP: SAN iPAddress, v4 and v6.
    assert!(c.matches(&ip("192.0.2.1")));
    assert!(c.matches(&ip("2001:db8::1")));
    assert!(!c.matches(&ip("192.0.2.2")));
    assert!(!c.matches(&ip("::ffff:192.0.2.1")));
    assert!(!n.matches(&ip("192.0.2.1")));
    // DN: equal DER, or the same name spelled otherwise.
    let dn = c.subject_der();
    assert!(c.matches(&PeerIdentity::Dn(&dn)));
    assert!(!cert("ee-p256").matches(&PeerIdentity::Dn(&dn)));
    assert!(!c.matches(&PeerIdentity::Dn(&cert("ca").subject_der())));
    assert!(!c.matches(&PeerIdentity::Dn(&[0x30, 0x00])));
    assert!(!c.matches(&PeerIdentity::Dn(&[0xde, 0xad])));
    // The subject of ee-p256 re-encoded by hand: UTF8String instead of
    // PrintableString for C, upper case and extra spaces in the CN.
    let same = name(&[
        (&[2, 5, 4, 6], 0x0c, b"CH"),
        (&[2, 5, 4, 10], 0x0c, b"ike-pki  test"),
        (&[2, 5, 4, 3], 0x0c, b"  P256.Example "),
    ]);
    assert!(cert("ee-p256").matches(&PeerIdentity::Dn(&same)));
    let order = name(&[
        (&[2, 5, 4, 10], 0x0c, b"ike-pki test"),
        (&[2, 5, 4, 6], 0x13, b"CH"),
        (&[2, 5, 4, 3], 0x0c, b"p256.example"),
    ]);
    assert!(!cert("ee-p256").matches(&PeerIdentity::Dn(&order)));
    let fewer = name(&[(&[2, 5, 4, 3], 0x0c, b"p256.example")]);
    assert!(!cert("ee-p256").matches(&PeerIdentity::Dn(&fewer)));
}

/// A Name in DER, one attribute per RDN: (OID arcs after 2.5.4 as the
/// full arcs, string tag, value). Written by hand here.
fn name(rdns: &[(&[u32], u8, &[u8])]) -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        assert!(body.len() < 128);
        let mut v = vec![tag, body.len() as u8];
        v.extend_from_slice(body);
        v
    }
    let mut seq = Vec::new();
    for (arcs, tag, value) in rdns {
        assert_eq!(arcs[..2], [2, 5]);
        let oid: Vec<u8> = [
            &[0x55u8][..],
            &arcs[2..].iter().map(|a| *a as u8).collect::<Vec<_>>(),
        ]
        .concat();
        let atv = tlv(0x30, &[tlv(0x06, &oid), tlv(*tag, value)].concat());
        seq.extend(tlv(0x31, &atv));
    }
    tlv(0x30, &seq)
}

#[test]
fn bad_certificate_input_is_an_error_not_a_panic() {
    let good = bytes("ee-rsa2048.der");
    for cut in 0..good.len() {
        assert!(Certificate::from_der(&good[..cut]).is_err(), "cut {cut}");
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(Certificate::from_der(&trailing).is_err());
    // Random bytes (a fixed xorshift stream).
    let mut x = 0x1234_5678_9abc_def0_u64;
    for len in [1, 2, 16, 100, 1000, 4000] {
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        assert!(Certificate::from_der(&junk).is_err());
        assert!(Crl::from_der(&junk).is_err());
        let mut framed = vec![0x30, 0x82, (len >> 8) as u8, len as u8];
        framed.extend(&junk);
        assert!(Certificate::from_der(&framed).is_err());
    }
    // Lengths far beyond the input.
    for der in [
        &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff, 0x30][..],
        &[0x30, 0x88, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[0x30, 0x80, 0x00, 0x00],
        &[0x30, 0xff],
    ] {
        assert!(matches!(
            Certificate::from_der(der),
            Err(CertError::Malformed(_))
        ));
    }
    // Deeply nested SEQUENCEs (indefinite and definite).
    let mut nested = Vec::new();
    for _ in 0..5000 {
        nested.extend([0x30, 0x80]);
    }
    assert!(Certificate::from_der(&nested).is_err());
    let mut definite = vec![0x05, 0x00];
    for _ in 0..2000 {
        let len = definite.len();
        let mut next = vec![0x30, 0x82, (len >> 8) as u8, len as u8];
        next.extend(definite);
        definite = next;
        if definite.len() > 60_000 {
            break;
        }
    }
    assert!(Certificate::from_der(&definite).is_err());
    // Too large: refused before parsing.
    let huge = vec![0x30; 1 << 20];
    assert_eq!(
        Certificate::from_der(&huge).unwrap_err(),
        CertError::TooLarge(1 << 20)
    );
    assert!(Certificate::from_der(&vec![0; MAX_CERT_SIZE]).is_err());
    assert_eq!(
        Certificate::from_der(&vec![0; MAX_CERT_SIZE + 1]).unwrap_err(),
        CertError::TooLarge(MAX_CERT_SIZE + 1)
    );
    let huge_crl = vec![0x30; (1 << 20) + 1];
    assert!(matches!(
        Crl::from_der(&huge_crl),
        Err(CertError::TooLarge(_))
    ));
    // A certificate whose key is not an IKE signature key type.
    let mut odd = good.clone();
    // rsaEncryption's OID (1.2.840.113549.1.1.1) turned into .1.1.99.
    let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
    let at = odd.windows(oid.len()).position(|w| w == oid).unwrap();
    odd[at + 8] = 99;
    let parsed = Certificate::from_der(&odd).unwrap();
    assert!(matches!(
        parsed.public_key(),
        Err(CertError::UnsupportedAlgorithm(_))
    ));
}

#[test]
fn error_kinds_are_stable() {
    assert_eq!(CertError::ChainTooLong.kind(), "chain-too-long");
    assert_eq!(
        CertError::Expired {
            subject: String::new(),
            not_after: 0
        }
        .kind(),
        "expired"
    );
    assert_eq!(
        CertError::UnknownIssuer {
            issuer: String::new()
        }
        .kind(),
        "unknown-issuer"
    );
    assert_eq!(CertError::TooLarge(1).kind(), "too-large");
}
