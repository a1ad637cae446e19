//! Regression test (issue 7, secret hygiene): a `crypto isakmp key` line
//! whose key was typed with a space in it (`crypto isakmp key my secret
//! address 1.2.3.4`) was refused with an error that quoted the second half
//! of the key twice: as the unexpected token, and in the line's text,
//! whose redaction only hid the first word after `key`. Both halves are
//! the operator's secret and errors end up in logs.
//!
//! Limit: without a peer keyword after them (`crypto isakmp key my
//! secret`), the words after the key cannot be told from a misspelt
//! `address` (`crypto isakmp key k adress 1.2.3.4`, which the error should
//! show), so only the first word is hidden then.

// Test code: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::panic)]

use ted::config::ios::{self, ParseErrorKind};

#[test]
fn a_key_with_a_space_is_refused_without_quoting_either_half() {
    for (line, text) in [
        (
            "crypto isakmp key first second address 1.2.3.4",
            "crypto isakmp key <redacted> <redacted> address 1.2.3.4",
        ),
        (
            "crypto isakmp key 0 first second third hostname peer.example",
            "crypto isakmp key 0 <redacted> <redacted> <redacted> hostname peer.example",
        ),
        (
            "no crypto isakmp key first second address 1.2.3.4",
            "no crypto isakmp key <redacted> <redacted> address 1.2.3.4",
        ),
    ] {
        let Err(e) = ios::parse(line) else {
            panic!("`{line}` was accepted");
        };
        assert_eq!(e.text, text, "{line}");
        let shown = format!("{e} {e:?}");
        for half in ["first", "second", "third"] {
            assert!(!shown.contains(half), "`{half}` quoted: {shown}");
        }
        if let ParseErrorKind::Unexpected { found, .. } = &e.kind {
            assert_eq!(found, "<redacted>");
        }
    }
}

#[test]
fn well_formed_key_lines_still_redact_only_the_key() {
    // The error is about the trailing word, which is not key material.
    let e =
        ios::parse("crypto isakmp key abc123 address 1.2.3.4 255.255.255.255 junk").unwrap_err();
    assert_eq!(
        e.text,
        "crypto isakmp key <redacted> address 1.2.3.4 255.255.255.255 junk"
    );
    assert!(e.to_string().contains("junk"));
    assert!(!e.to_string().contains("abc123"));
    // `no crypto isakmp key` may leave the key out: nothing to hide then,
    // and the peer keyword is not mistaken for a key.
    let parsed = ios::parse(
        "crypto isakmp key abc123 address 1.2.3.4\nno crypto isakmp key address 1.2.3.4\n",
    )
    .unwrap();
    assert!(parsed.config.isakmp.keys().is_empty());
    let e = ios::parse("no crypto isakmp key address 1.2.3.4 junk").unwrap_err();
    assert_eq!(e.text, "no crypto isakmp key address 1.2.3.4 junk");
    // A misspelt peer keyword is still shown.
    let e = ios::parse("crypto isakmp key s3cr3t adress 10.0.0.1").unwrap_err();
    assert_eq!(e.text, "crypto isakmp key <redacted> adress 10.0.0.1");
    assert!(e.to_string().contains("`adress`"), "{e}");
}
