//! The `ikev1-kdf` example over the whole of `vectors/ikev1_kdf_sha1.txt`
//! (NIST CAVP SP 800-135 records via libreswan, the ACVP server's unit
//! tests, NSS): every section's printed `skeyid*` lines must equal the
//! file's expected values. The example's own code is compiled in here.

// Test helpers outside `#[test]` functions may panic like the tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod kat_common;

#[path = "../examples/ikev1-kdf.rs"]
#[allow(dead_code, unreachable_pub)]
mod ikev1_kdf;

use kat_common::parse;

const KDF: &str = include_str!("../../vectors/ikev1_kdf_sha1.txt");

#[test]
fn tool_reproduces_every_record() {
    let out = ikev1_kdf::run(KDF).unwrap();
    let printed = parse(&out);
    let expected = parse(KDF);
    assert_eq!(printed.len(), expected.len());
    let mut lines = 0;
    for (p, e) in printed.iter().zip(&expected) {
        assert_eq!(p.name, e.name);
        for key in ["skeyid", "skeyid_d", "skeyid_a", "skeyid_e"] {
            assert_eq!(p.get(key), e.get(key), "[{}] {key}", e.name);
            lines += usize::from(p.get(key).is_some());
        }
    }
    // 4 full records and one SKEYID-only record.
    assert_eq!(lines, 4 * 4 + 1);
}

#[test]
fn tool_reports_malformed_records() {
    let missing = "[a]\nhash = SHA-1\nni = 00\nnr = 01\n";
    let e = ikev1_kdf::run(missing).unwrap_err().to_string();
    assert!(e.contains("[a]") && e.contains("gxy"), "{e}");

    let bad_hex = "[b]\nhash = SHA-1\nni = 0g\nnr = 01\npsk = 00\n";
    let e = ikev1_kdf::run(bad_hex).unwrap_err().to_string();
    assert!(e.contains("line 3") && e.contains("ni"), "{e}");

    let short_cookie = "[c]\nhash = MD5\nauth = psk\npsk = 00\nni = 00\nnr = 01\ngxy = 02\ncky_i = 0102\ncky_r = 0000000000000000\n";
    let e = ikev1_kdf::run(short_cookie).unwrap_err().to_string();
    assert!(e.contains("cky_i") && e.contains("8 bytes"), "{e}");

    let e = ikev1_kdf::run("hash = SHA-1\n").unwrap_err().to_string();
    assert!(e.contains("line 1"), "{e}");
    let e = ikev1_kdf::run("[d]\nhash = SHA3\nni = 00\nnr = 00\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("hash"), "{e}");
}
