//! The certificate flags of the gateway command: parsed, checked against
//! each other, and their files loaded with every refusal naming the flag,
//! the file and the cause. The certificates are openssl's
//! (ike-sm/tests/data/certs/make.sh).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::path::PathBuf;

use ikev1_peer::cli::{self, CliError, Command, RunArgs};

fn certs(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../ike-sm/tests/data/certs")
        .join(name)
}

fn run_args(extra: &[&str]) -> Result<RunArgs, CliError> {
    let mut args = vec!["--config", "r.cfg", "--tun", "t0"];
    args.extend_from_slice(extra);
    match cli::parse(args)? {
        Command::Run(r) => Ok(r),
        other => panic!("{other:?}"),
    }
}

#[test]
fn the_flags_parse_and_the_pair_is_checked() {
    let r = run_args(&[
        "--cert",
        "a.pem",
        "--private-key",
        "a.key",
        "--ca",
        "ca1.pem",
        "--ca",
        "ca2.pem",
        "--crl",
        "x.crl",
        "--fragment-size",
        "600",
    ])
    .unwrap();
    assert_eq!(r.cert, Some(PathBuf::from("a.pem")));
    assert_eq!(r.private_key, Some(PathBuf::from("a.key")));
    assert_eq!(r.ca.len(), 2);
    assert_eq!(r.crl, vec![PathBuf::from("x.crl")]);
    assert_eq!(r.fragment_size, Some(600));
    assert!(matches!(
        run_args(&["--cert", "a.pem"]),
        Err(CliError::Required(_))
    ));
    assert!(matches!(
        run_args(&["--private-key", "a.key"]),
        Err(CliError::Required(_))
    ));
    assert!(matches!(
        run_args(&["--fragment-size", "50"]),
        Err(CliError::BadValue {
            flag: "--fragment-size",
            ..
        })
    ));
}

#[test]
fn good_files_give_credentials_and_anchors() {
    let mut r = run_args(&[]).unwrap();
    r.cert = Some(certs("alice-rsa.pem"));
    r.private_key = Some(certs("alice-rsa.key"));
    r.ca = vec![certs("ca.pem"), certs("other-ca.pem")];
    let loaded = ikev1_peer::pki::load(&r).unwrap();
    let cred = loaded.pki.credentials.as_ref().unwrap();
    assert!(cred.certificate.subject().contains("alice.example"));
    assert_eq!(loaded.pki.trust.anchors().len(), 2);
    assert!(loaded.subject.unwrap().contains("alice.example"));
}

#[test]
fn bad_files_are_refused_with_their_flag_and_path() {
    let refuse = |cert: &str, key: &str, ca: &str| {
        let mut r = run_args(&[]).unwrap();
        r.cert = Some(certs(cert));
        r.private_key = Some(certs(key));
        r.ca = vec![certs(ca)];
        ikev1_peer::pki::load(&r).unwrap_err()
    };
    // A key that is not the certificate's.
    let e = refuse("alice-rsa.pem", "bob-rsa.key", "ca.pem");
    assert_eq!(e.flag, "--private-key");
    assert!(e.reason.contains("not the key of the certificate"), "{e}");
    // A missing file.
    let e = refuse("alice-rsa.pem", "alice-rsa.key", "nowhere.pem");
    assert_eq!(e.flag, "--ca");
    assert!(e.to_string().contains("nowhere.pem"), "{e}");
    assert!(e.reason.contains("no such file"), "{e}");
    // A key file given as the certificate: no CERTIFICATE block.
    let e = refuse("alice-rsa.key", "alice-rsa.key", "ca.pem");
    assert_eq!(e.flag, "--cert");
    // The key is never quoted in a refusal.
    let key = std::fs::read_to_string(certs("alice-rsa.key")).unwrap();
    let body = key.lines().nth(1).unwrap();
    assert!(!e.to_string().contains(body));
}
