//! IOS's keyword abbreviations, certificates (trustpoints, chains),
//! `ecdsa-sig`, and the import that goes on after a refusal.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ted::config::ios::{self, ParseErrorKind, ParseOptions, SkipReason};
use ted::config::{
    CertificateKind, Enrollment, IsakmpAuthentication, IsakmpEncryption, IsakmpHash,
    IsakmpIdentity, RevocationCheck, RsaKeypair,
};

const FULL: &str = "\
hostname r1
crypto isakmp policy 10
 encryption 3des
 hash md5
 authentication pre-share
 group 2
 lifetime 3600
crypto isakmp key secret123 address 192.0.2.2
crypto isakmp identity hostname
crypto isakmp keepalive 20 3 periodic
crypto ipsec transform-set ts esp-3des esp-sha-hmac
 mode transport
crypto ipsec security-association lifetime seconds 1800
crypto map vpn local-address FastEthernet0/0
crypto map vpn 10 ipsec-isakmp
 set peer 192.0.2.2
 set transform-set ts
 set pfs group2
 match address 101
interface FastEthernet0/0
 ip address 192.0.2.1 255.255.255.0
 crypto map vpn
ip access-list extended CRYPTO
 permit ip 10.0.0.0 0.0.0.255 10.0.1.0 0.0.0.255
access-list 101 permit ip 10.0.0.0 0.0.0.255 10.0.1.0 0.0.0.255
end
";

const SHORT: &str = "\
host r1
cry isa pol 10
 encr 3des
 ha md5
 authen pre
 gr 2
 life 3600
cry isa key secret123 address 192.0.2.2
crypto isakmp ident host
cry isa keepal 20 3 per
cry ips transform-set ts esp-3des esp-sha-hmac
 mo transp
cry ips security-a lifet sec 1800
cry map vpn local-add FastEthernet0/0
cry map vpn 10 ipsec-isa
 set pe 192.0.2.2
 set transform-s ts
 set pf group2
 mat addr 101
int Fa0/0
 ip add 192.0.2.1 255.255.255.0
 cry map vpn
ip access-l ext CRYPTO
 per ip 10.0.0.0 0.0.0.255 10.0.1.0 0.0.0.255
access-list 101 permit ip 10.0.0.0 0.0.0.255 10.0.1.0 0.0.0.255
end
";

#[test]
fn abbreviations_give_the_same_model() {
    let full = ios::parse(FULL).expect("full");
    let short = ios::parse(SHORT).expect("abbreviated");
    assert_eq!(full.config, short.config);
    assert!(short.skipped.is_empty(), "{:?}", short.skipped);
    let p = short.config.isakmp.policy(10).expect("policy");
    assert_eq!(p.encryption, IsakmpEncryption::TripleDes);
    assert_eq!(p.hash, IsakmpHash::Md5);
    assert_eq!(p.authentication, IsakmpAuthentication::PreShare);
    assert_eq!(short.config.isakmp.identity, IsakmpIdentity::Hostname);
}

#[test]
fn render_prints_encr_as_ios_does() {
    let parsed = ios::parse(SHORT).expect("abbreviated");
    let text = ios::render(&parsed.config);
    assert!(text.contains("crypto isakmp policy 10\n encr 3des\n hash md5\n"));
    assert!(text.contains(" authentication pre-share\n group 2\n lifetime 3600\n"));
    let again = ios::parse(&text).expect("rendered");
    assert_eq!(again.config, parsed.config);
}

#[test]
fn ambiguous_prefix_names_the_candidates() {
    let e = ios::parse("crypto isakmp policy 10\n e 3des\n").expect_err("ambiguous");
    assert_eq!(e.line, 2);
    match &e.kind {
        ParseErrorKind::Ambiguous { token, candidates } => {
            assert_eq!(token, "e");
            assert_eq!(candidates, &["encryption", "exit"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("encryption, exit"), "{e}");

    let e = ios::parse("crypto isakmp policy 10\n authentication rsa\n").expect_err("ambiguous");
    assert!(
        matches!(&e.kind, ParseErrorKind::Ambiguous { candidates, .. }
            if candidates == &["rsa-encr", "rsa-sig"]),
        "{e}"
    );
    // `ip ro`: route or routing.
    let e = ios::parse("ip ro 0.0.0.0 0.0.0.0 192.0.2.1\n").expect_err("ambiguous");
    assert!(matches!(e.kind, ParseErrorKind::Ambiguous { .. }), "{e}");
    // Ambiguous among commands outside the subset only: skipped.
    let parsed = ios::parse("s foo\n").expect("skipped");
    assert_eq!(parsed.skipped.len(), 1);
}

#[test]
fn abbreviated_secrets_stay_hidden() {
    let e =
        ios::parse("crypto isakmp key 0 TopSecret1 addr 192.0.2.300\n").expect_err("bad address");
    assert!(!e.to_string().contains("TopSecret1"), "{e}");
    let parsed = ios::parse("username bob pass 0 TopSecret2\n").expect("user");
    let shown = format!("{parsed:?}");
    assert!(!shown.contains("TopSecret2"), "{shown}");
}

const PKI: &str = "\
crypto pki trustpoint CA-1
 enrollment url http://192.0.2.10:80
 serial-number none
 fqdn r1.example.com
 ip-address none
 subject-name CN=r1.example.com, OU=VPN
 revocation-check crl none
 rsakeypair r1-key 2048
 auto-enroll 70
!
crypto pki trustpoint TP-self-signed-1
 enrollment selfsigned
 subject-name cn=IOS-Self-Signed-Certificate-1
 revocation-check none
!
crypto pki certificate chain CA-1
 certificate 3C1A
  30820120 3081CBA0 03020102 0202 3C1A
  quit
 certificate ca 01
  3082
  quit
crypto isakmp policy 10
 encr aes 256
 authentication rsa-sig
crypto isakmp policy 20
 authentication ecdsa-sig
crypto isakmp identity dn
";

#[test]
fn trustpoints_and_chains() {
    let parsed = ios::parse(PKI).expect("imports");
    let skipped: Vec<(usize, SkipReason)> =
        parsed.skipped.iter().map(|s| (s.line, s.reason)).collect();
    assert_eq!(skipped, vec![(9, SkipReason::NotModelled)]);
    let pki = &parsed.config.pki;
    let tp = pki.trustpoint("CA-1").expect("CA-1");
    assert_eq!(
        tp.enrollment,
        Some(Enrollment::Url("http://192.0.2.10:80".to_owned()))
    );
    assert_eq!(tp.serial_number, Some(false));
    assert_eq!(tp.fqdn.as_deref(), Some("r1.example.com"));
    assert_eq!(tp.ip_address.as_deref(), Some("none"));
    assert_eq!(
        tp.subject_name.as_deref(),
        Some("CN=r1.example.com, OU=VPN")
    );
    assert_eq!(
        tp.revocation_check,
        vec![RevocationCheck::Crl, RevocationCheck::None]
    );
    assert_eq!(
        tp.rsakeypair,
        Some(RsaKeypair {
            label: "r1-key".to_owned(),
            sign_bits: Some(2048),
            encrypt_bits: None
        })
    );
    let chain = pki.chain("CA-1").expect("chain");
    assert_eq!(chain.certificates.len(), 2);
    assert_eq!(chain.certificates[0].kind, CertificateKind::Router);
    assert_eq!(
        chain.certificates[0].der,
        [
            0x30, 0x82, 0x01, 0x20, 0x30, 0x81, 0xCB, 0xA0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x02,
            0x3C, 0x1A
        ]
    );
    assert!(chain.certificates[1].is_ca());
    assert_eq!(chain.certificates[1].der, [0x30, 0x82]);

    let p10 = parsed.config.isakmp.policy(10).expect("10");
    assert_eq!(p10.authentication, IsakmpAuthentication::RsaSig);
    let p20 = parsed.config.isakmp.policy(20).expect("20");
    assert_eq!(p20.authentication, IsakmpAuthentication::EcdsaSig);
    assert_eq!(parsed.config.isakmp.identity, IsakmpIdentity::Dn);

    // Rendered as IOS prints it, and back to the same model.
    let text = ios::render(&parsed.config);
    assert!(
        text.contains(
            "crypto pki certificate chain CA-1\n certificate 3C1A\n  30820120 3081CBA0 03020102 02023C1A\n  quit\n certificate ca 01\n  3082\n  quit\n"
        ),
        "{text}"
    );
    assert!(text.contains(" authentication ecdsa-sig\n"), "{text}");
    assert!(text.contains(" revocation-check crl none\n"), "{text}");
    let again = ios::parse(&text).expect("rendered");
    assert_eq!(again.config, parsed.config);
    assert_eq!(ios::render(&again.config), text);
}

#[test]
fn long_certificates_render_eight_groups_a_line() {
    let mut text = String::from("crypto pki certificate chain T\n certificate ca 01\n");
    for _ in 0..5 {
        text.push_str(
            "  00112233 44556677 8899AABB CCDDEEFF 00112233 44556677 8899AABB CCDDEEFF\n",
        );
    }
    text.push_str("  0102\n  quit\n");
    let parsed = ios::parse(&text).expect("chain");
    let der = &parsed.config.pki.chain("T").unwrap().certificates[0].der;
    assert_eq!(der.len(), 5 * 32 + 2);
    let rendered = ios::render(&parsed.config);
    let lines: Vec<&str> = rendered
        .lines()
        .filter(|l| l.starts_with("  ") && l.trim() != "quit")
        .collect();
    assert_eq!(lines.len(), 6);
    assert_eq!(lines[0].split_whitespace().count(), 8);
    assert_eq!(lines[5], "  0102");
}

#[test]
fn certificates_cut_short_are_refused() {
    let e = ios::parse("crypto pki certificate chain T\n certificate 01\n  3082\n")
        .expect_err("no quit");
    assert_eq!(e.line, 2);
    assert!(matches!(
        e.kind,
        ParseErrorKind::UnterminatedCertificate { .. }
    ));
    let e = ios::parse("crypto pki certificate chain T\n certificate 01\n  3082\nhostname x\n")
        .expect_err("command in the hex");
    assert_eq!(e.line, 4);
    let e = ios::parse("crypto pki certificate chain T\n certificate 01\n  30G2\n  quit\n")
        .expect_err("not hex");
    assert_eq!(e.line, 3);
    let e = ios::parse("crypto pki certificate chain T\n certificate 01\n  308\n  quit\n")
        .expect_err("odd");
    assert_eq!(e.line, 4);
}

#[test]
fn parse_all_lists_every_refusal_and_goes_on() {
    let text = "\
hostname r1
crypto isakmp policy 10
 encr blowfish
 hash md5
crypto isakmp profile prof
 match identity address 0.0.0.0
crypto isakmp key 6 AbCdEf address 0.0.0.0 0.0.0.0
line vty 0 4
 login
crypto map m 10 ipsec-isakmp
 set peer 192.0.2.2
";
    let report = ios::parse_all(text, &ParseOptions::default());
    let refused: Vec<usize> = report.refused.iter().map(|e| e.line).collect();
    assert_eq!(refused, vec![3, 5, 7]);
    assert!(matches!(
        report.refused[2].kind,
        ParseErrorKind::EncryptedKey
    ));
    assert!(!report.refused[2].text.contains("AbCdEf"));
    let skipped: Vec<(usize, SkipReason)> = report
        .parsed
        .skipped
        .iter()
        .map(|s| (s.line, s.reason))
        .collect();
    assert_eq!(
        skipped,
        vec![
            (6, SkipReason::UnderRefused),
            (8, SkipReason::OutsideSubset),
            (9, SkipReason::OutsideSubset)
        ]
    );
    // hostname, policy, hash, crypto map, set peer.
    assert_eq!(report.understood, 5);
    let p = report.parsed.config.isakmp.policy(10).expect("policy");
    assert_eq!(p.hash, IsakmpHash::Md5);
    assert!(report.parsed.config.crypto_map("m").is_some());
}

#[test]
fn bom_crlf_and_tabs() {
    let text =
        "\u{feff}hostname r1\r\ncrypto isakmp policy 10\r\n\tencr aes\r\n\thash sha256\r\nend\r\n";
    let parsed = ios::parse(text).expect("imports");
    assert_eq!(parsed.config.hostname, "r1");
    let p = parsed.config.isakmp.policy(10).expect("policy");
    assert_eq!(p.hash, IsakmpHash::Sha256);
    let long = format!("hostname {}\n", "x".repeat(5000));
    let e = ios::parse(&long).expect_err("too long");
    assert!(matches!(e.kind, ParseErrorKind::OutOfRange { .. }));
}
