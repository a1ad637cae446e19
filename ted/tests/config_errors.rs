//! An error in a crypto command names its line, quotes it (secrets
//! redacted) and says what was wrong.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use ted::acl::AclError;
use ted::config::ios::{
    self, ParseError, ParseErrorKind, ParseOptions, SkipReason, UnsupportedCrypto,
};
use ted::config::{Transform, TransformSetError};

fn err(text: &str) -> ParseError {
    match ios::parse(text) {
        Ok(p) => panic!("expected an error, got {:?}", p.config),
        Err(e) => e,
    }
}

fn lenient() -> ParseOptions {
    let mut o = ParseOptions::default();
    o.unsupported_crypto = UnsupportedCrypto::Skip;
    o
}

#[test]
fn error_names_line_and_quotes_it() {
    let e = err("hostname r1\n!\ncrypto isakmp policy 0\n authentication pre-share\n");
    assert_eq!(e.line, 3);
    assert_eq!(e.text, "crypto isakmp policy 0");
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 0,
            min: 1,
            max: 10_000,
            ..
        }
    ));
    let shown = e.to_string();
    assert!(shown.starts_with("line 3: "), "{shown}");
    assert!(shown.contains("outside 1-10000"), "{shown}");
    assert!(shown.contains("`crypto isakmp policy 0`"), "{shown}");
}

#[test]
fn policy_sub_mode_errors() {
    let e = err("crypto isakmp policy 10\n encryption blowfish\n");
    assert_eq!(e.line, 2);
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "blowfish"));

    let e = err("crypto isakmp policy 10\n hash sha\n group 3\n");
    assert_eq!(e.line, 3);
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "3"));

    let e = err("crypto isakmp policy 10\n lifetime 59\n");
    assert_eq!(e.line, 2);
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 59,
            min: 60,
            max: 86_400,
            ..
        }
    ));

    let e = err("crypto isakmp policy 10\n encryption aes 512\n");
    assert_eq!(e.line, 2);
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "512"));

    let e = err("crypto isakmp policy 10\n authentication pre-share extra\n");
    assert!(matches!(&e.kind, ParseErrorKind::Trailing { found } if found == "extra"));

    let e = err("crypto isakmp policy 10\n authentication\n");
    assert!(matches!(e.kind, ParseErrorKind::Missing { .. }));
}

#[test]
fn transform_set_combinations_ios_refuses() {
    let e = err("!\ncrypto ipsec transform-set t esp-des esp-3des\n");
    assert_eq!(e.line, 2);
    assert_eq!(
        e.kind,
        ParseErrorKind::TransformSet(TransformSetError::TwoOfAKind {
            kind: ted::config::TransformKind::EspEncryption,
            first: Transform::EspDes,
            second: Transform::Esp3des,
        })
    );

    let e = err("crypto ipsec transform-set t ah-md5-hmac ah-sha-hmac\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::TransformSet(TransformSetError::TwoOfAKind { .. })
    ));

    let e = err("crypto ipsec transform-set t esp-des esp-md5-hmac esp-sha-hmac\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::TransformSet(TransformSetError::TwoOfAKind { .. })
    ));

    let e = err("crypto ipsec transform-set t comp-lzs\n");
    assert_eq!(
        e.kind,
        ParseErrorKind::TransformSet(TransformSetError::CompressionOnly)
    );

    let e = err("crypto ipsec transform-set t esp-gcm 256 esp-sha-hmac\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::TransformSet(TransformSetError::CombinedModeWithAuthentication { .. })
    ));

    let e = err("crypto ipsec transform-set t esp-null\n");
    assert_eq!(
        e.kind,
        ParseErrorKind::TransformSet(TransformSetError::NullWithoutAuthentication)
    );

    let e = err("crypto ipsec transform-set t\n");
    assert_eq!(
        e.kind,
        ParseErrorKind::TransformSet(TransformSetError::Empty)
    );

    let e = err("crypto ipsec transform-set t esp-aes 512\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "512"));

    let e = err("crypto ipsec transform-set t esp-rot13\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "esp-rot13"));

    let e = err("crypto ipsec transform-set t esp-des\n mode tunnel-ish\n");
    assert_eq!(e.line, 2);
}

#[test]
fn key_errors_never_show_the_key() {
    let e = err("crypto isakmp key 6 s3cr3t address 1.2.3.4\n");
    assert_eq!(e.kind, ParseErrorKind::EncryptedKey);
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
    assert_eq!(e.text, "crypto isakmp key 6 <redacted> address 1.2.3.4");

    let e = err("crypto isakmp key s3cr3t address 10.0.0.0 255.0.255.0\n");
    assert_eq!(
        e.kind,
        ParseErrorKind::NonContiguousMask {
            mask: Ipv4Addr::new(255, 0, 255, 0)
        }
    );
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
    assert!(!format!("{e:?}").contains("s3cr3t"), "{e:?}");

    let e = err("crypto isakmp key s3cr3t adress 10.0.0.1\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "adress"));
    assert!(!e.to_string().contains("s3cr3t"), "{e}");

    let e = err("crypto isakmp key\n");
    assert!(matches!(e.kind, ParseErrorKind::Missing { .. }));

    let long = "k".repeat(129);
    let e = err(&format!("crypto isakmp key {long} address 1.2.3.4\n"));
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 129,
            max: 128,
            ..
        }
    ));
    assert!(!e.to_string().contains(&long));
}

#[test]
fn access_list_errors() {
    let e = err("!\n!\naccess-list 101 permit tcp any any eq foo\n");
    assert_eq!(e.line, 3);
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "foo"));

    // Port names belong to one protocol: `www` is a TCP name only.
    let e = err("access-list 101 permit udp any any eq www\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "www"));
    let e = err("access-list 101 permit tcp any any eq isakmp\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "isakmp"));

    let e = err("access-list 101 permit tcp any any eq 65536\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 65_536,
            max: 65_535,
            ..
        }
    ));

    // Ports only for tcp and udp.
    let e = err("access-list 101 permit ip any any eq 80\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "eq"));

    let e = err("access-list 101 permit tcp any any range 90 80\n");
    assert_eq!(
        e.kind,
        ParseErrorKind::Acl(AclError::EmptyPortRange { low: 90, high: 80 })
    );

    // A standard list matches the source only.
    let e = err("access-list 5 permit tcp any any\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "tcp"));

    let e = err("access-list 300 permit ip any any\n");
    assert_eq!(
        e.kind,
        ParseErrorKind::Acl(AclError::NumberOutOfRange { number: 300 })
    );

    let e = err("access-list 101 permit icmp any any echo precedence 5\n");
    assert!(
        matches!(&e.kind, ParseErrorKind::UnsupportedKeyword { keyword, .. } if keyword == "precedence")
    );

    let e = err("access-list 101 permit udp any any established\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::Acl(AclError::EstablishedNeedsTcp { .. })
    ));

    let e = err("access-list 101 permit tcp any any eq 80 fragments\n");
    assert_eq!(e.kind, ParseErrorKind::Acl(AclError::FragmentsWithLayer4));

    let e = err("access-list 101 permit ip 10.0.0.0 any\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "any"));

    let e = err("access-list 101 permit 256 any any\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "256"));

    let e = err("access-list 101 allow ip any any\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "allow"));

    let e = err(
        "ip access-list standard OFFICE\n permit 10.0.0.0 0.0.0.255\nip access-list extended OFFICE\n",
    );
    assert_eq!(e.line, 3);
    assert!(matches!(
        e.kind,
        ParseErrorKind::AccessListKindConflict { .. }
    ));

    let e = err("ip access-list extended X\n 10 permit ip any any\n 10 deny ip any any\n");
    assert_eq!(e.line, 3);
    assert_eq!(
        e.kind,
        ParseErrorKind::Acl(AclError::DuplicateSequence { seq: 10 })
    );

    let e = err("ip access-list extended X\n bogus ip any any\n");
    assert_eq!(e.line, 2);

    let e = err("ip access-list extended 10\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::Acl(AclError::KindMismatch { number: 10, .. })
    ));
}

#[test]
fn route_and_interface_errors() {
    let e = err("ip route 10.0.0.1 255.255.255.0 1.1.1.1\n");
    assert_eq!(e.line, 1);
    assert!(matches!(e.kind, ParseErrorKind::AddressOutsideMask { .. }));

    let e = err("ip route 10.0.0.0 255.0.255.0 1.1.1.1\n");
    assert!(matches!(e.kind, ParseErrorKind::NonContiguousMask { .. }));

    let e = err("ip route 10.0.0.0 255.0.0.0 1.1.1.1 0\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            what: "distance",
            ..
        }
    ));

    let e = err("interface FastEthernet0/0\n ip address 11.11.11.0 255.255.255.0\n");
    assert_eq!(e.line, 2);
    assert!(matches!(e.kind, ParseErrorKind::NetworkOrBroadcast { .. }));

    let e = err("interface FastEthernet0/0\n ip address 11.11.11.255 255.255.255.0\n");
    assert!(matches!(e.kind, ParseErrorKind::NetworkOrBroadcast { .. }));

    let e = err("interface FastEthernet0/0\n ip address 11.11.11.1 255.0.255.0\n");
    assert!(matches!(e.kind, ParseErrorKind::NonContiguousMask { .. }));

    let e = err("interface Serial0\n ip address 11.11.11.1 eleven\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "eleven"));
}

#[test]
fn crypto_map_errors() {
    let e = err("crypto map x 10 ipsec-isakmp\n set peer vpn.example.com\n");
    assert_eq!(e.line, 2);
    assert!(
        matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "vpn.example.com")
    );

    let e = err("crypto map x\n");
    assert!(matches!(e.kind, ParseErrorKind::Missing { .. }));

    let e = err("crypto map x 70000 ipsec-isakmp\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 70_000,
            max: 65_535,
            ..
        }
    ));

    let e = err("crypto map tedtag 10 ipsec-isakmp dynamic ted-map\n set peer 1.1.1.1\n");
    assert_eq!(e.line, 2);
    assert!(matches!(
        e.kind,
        ParseErrorKind::DynamicReferenceSubcommand { seq: 10, .. }
    ));

    let e = err("crypto map x 10 ipsec-isakmp dynamic d\ncrypto map x 10 ipsec-isakmp\n");
    assert_eq!(e.line, 2);
    assert!(matches!(e.kind, ParseErrorKind::EntryKindConflict { .. }));

    let e = err("crypto map x 10 ipsec-isakmp\ncrypto map x 10 ipsec-isakmp dynamic d\n");
    assert_eq!(e.line, 2);
    assert!(matches!(e.kind, ParseErrorKind::EntryKindConflict { .. }));

    let e = err("crypto dynamic-map d 10\n set transform-set a b c d e f g\n");
    assert_eq!(e.line, 2);
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 7,
            max: 6,
            ..
        }
    ));

    let e = err("crypto dynamic-map d 10\n set pfs group3\n");
    assert!(matches!(&e.kind, ParseErrorKind::Unexpected { found, .. } if found == "group3"));

    let e = err("crypto dynamic-map d 10\n set security-association lifetime seconds 60\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 60,
            min: 120,
            ..
        }
    ));

    let e = err("crypto dynamic-map d 10\n match address 200\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::Acl(AclError::NumberOutOfRange { number: 200 })
    ));

    let e = err("crypto ipsec security-association lifetime kilobytes 100\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 100,
            min: 2560,
            ..
        }
    ));

    let e = err("crypto isakmp keepalive 5\n");
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 5,
            min: 10,
            ..
        }
    ));

    let e = err("crypto isakmp identity address extra\n");
    assert!(matches!(&e.kind, ParseErrorKind::Trailing { found } if found == "extra"));
}

/// Crypto commands outside the model are errors by default (a model
/// without them would protect less than the router does); on request they
/// are skipped with their sub-lines and listed.
#[test]
fn unsupported_crypto_commands() {
    let text = "\
crypto map x 10 ipsec-manual
 set peer 1.1.1.1
 set session-key inbound esp 256 cipher 0123456789
crypto map y 10 ipsec-isakmp
 set peer 2.2.2.2
 set security-association level per-host
 reverse-route
crypto isakmp profile p1
 match identity address 1.1.1.1
";
    let e = err(text);
    assert_eq!(e.line, 1);
    assert!(
        matches!(&e.kind, ParseErrorKind::UnsupportedCommand { command } if command == "crypto map x 10 ipsec-manual")
    );

    let parsed = ios::parse_with(text, &lenient()).expect("lenient import");
    let skipped: Vec<(usize, SkipReason)> =
        parsed.skipped.iter().map(|s| (s.line, s.reason)).collect();
    assert_eq!(
        skipped,
        vec![
            (1, SkipReason::UnsupportedCrypto),
            (2, SkipReason::UnsupportedCrypto),
            (3, SkipReason::UnsupportedCrypto),
            (6, SkipReason::UnsupportedCrypto),
            (7, SkipReason::UnsupportedCrypto),
            (8, SkipReason::UnsupportedCrypto),
            (9, SkipReason::UnsupportedCrypto),
        ]
    );
    // The supported part of map y is there; map x is not.
    let y = parsed.config.crypto_map("y").expect("map y");
    let params = y.entry(10).and_then(|e| e.params()).expect("static entry");
    assert_eq!(params.peers, vec![Ipv4Addr::new(2, 2, 2, 2)]);
    assert!(parsed.config.crypto_map("x").is_none());

    let e = err(
        "crypto map y 10 ipsec-isakmp\n set peer 2.2.2.2\n set security-association level per-host\n",
    );
    assert_eq!(e.line, 3);
    assert!(matches!(e.kind, ParseErrorKind::UnsupportedCommand { .. }));
}

/// Trustpoints and certificate chains are read into the model; RSA key
/// blocks (`crypto key`) hold no policy and are skipped.
#[test]
fn key_material_is_read_or_skipped() {
    let text = "\
crypto pki trustpoint TP-self-signed-1
 enrollment selfsigned
 revocation-check none
crypto pki certificate chain TP-self-signed-1
 certificate self-signed 01
  3082022B 30820194 A0030201 02020101
  quit
crypto key pubkey-chain rsa
 named-key peer.example.com
crypto isakmp policy 1
 encryption aes 256
";
    let parsed = ios::parse(text).expect("imports");
    let tp = parsed
        .config
        .pki
        .trustpoint("TP-self-signed-1")
        .expect("trustpoint");
    assert_eq!(tp.enrollment, Some(ted::config::Enrollment::SelfSigned));
    assert_eq!(
        tp.revocation_check,
        vec![ted::config::RevocationCheck::None]
    );
    let chain = parsed.config.pki.chain("TP-self-signed-1").expect("chain");
    assert_eq!(chain.certificates.len(), 1);
    assert_eq!(chain.certificates[0].serial, "01");
    assert_eq!(
        chain.certificates[0].der,
        [
            0x30, 0x82, 0x02, 0x2B, 0x30, 0x82, 0x01, 0x94, 0xA0, 0x03, 0x02, 0x01, 0x02, 0x02,
            0x01, 0x01
        ]
    );
    assert_eq!(parsed.skipped.len(), 2);
    assert!(
        parsed
            .skipped
            .iter()
            .all(|s| s.reason == SkipReason::KeyMaterial)
    );
    assert_eq!(parsed.config.isakmp.policies().count(), 1);
}

#[test]
fn lines_after_end_and_orphans() {
    let parsed = ios::parse(" orphan sub-line\nhostname a\nend\nhostname b\n").expect("imports");
    assert_eq!(parsed.config.hostname, "a");
    let skipped: Vec<(usize, SkipReason)> =
        parsed.skipped.iter().map(|s| (s.line, s.reason)).collect();
    assert_eq!(
        skipped,
        vec![(1, SkipReason::OrphanSubLine), (4, SkipReason::AfterEnd)]
    );

    let e = err("end extra\n");
    assert!(matches!(e.kind, ParseErrorKind::Trailing { .. }));
}

/// Skipped lines outside the crypto subset keep their secrets out of the
/// listing too.
#[test]
fn skipped_secrets_are_redacted() {
    let parsed = ios::parse_with(
        "enable secret 5 $1$abcd$efgh\nusername admin privilege 15 secret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0RxkOSSvyQYwucySCt7qFm4v7pqCxkKM\nsnmp-server community public RO\ntacacs-server key 7 0822455D0A16\ncrypto keyring ring1\n rsa-pubkey key ringsecret\ninterface Serial0\n ip ospf message-digest-key 1 md5 ospfsecret\ncrypto key generate rsa modulus 2048\n",
        &lenient(),
    )
    .expect("imports");
    let texts: Vec<&str> = parsed.skipped.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        vec![
            "enable secret 5 <redacted>",
            // A later IOS's secret type: outside the model, skipped.
            "username admin privilege 15 secret 9 <redacted>",
            "snmp-server community <redacted> RO",
            "tacacs-server key 7 <redacted>",
            "rsa-pubkey key <redacted>",
            "ip ospf message-digest-key 1 md5 <redacted>",
            "crypto key generate rsa modulus 2048",
        ]
    );
}
