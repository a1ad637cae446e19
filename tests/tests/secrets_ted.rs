//! Secret hygiene of `ted`'s configuration model and IOS importer: a
//! pre-shared key is redacted in `Debug` (alone, in its entry, in the whole
//! configuration), wipes itself on drop and can be wiped early; the
//! importer's skipped-line listing, diagnostics and error messages quote
//! configuration lines with their secrets replaced; `render` writes the key
//! only when not asked to redact it.

// Test code: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

mod secrets_common;

use std::net::Ipv4Addr;

use secrets_common::{assert_hidden, wipes_on_drop};
use ted::config::ios::{self, RenderOptions};
use ted::config::{PresharedKey, PskEntry, PskPeer};
use zeroize::Zeroize;

const PSK: &str = "Tq8vLw3Zr6Nk";

/// Secrets on lines outside the crypto subset, which the importer skips
/// and lists.
const OTHER_SECRETS: [&str; 8] = [
    "Hx4pRt7Ym1Qa", // enable password
    "Wq9eRtAb3dUu", // enable secret (type 5 hash)
    "Pz6nBv2Kc8Ds", // username ... password 0
    "Jm5gFr1Lt9Ue", // snmp-server community
    "Vc3kWs8Nb2Xr", // line vty password
    "Ge7hUi4Op0As", // tacacs-server key
    "Rk2fTy6Ju9Lo", // ip ospf message-digest-key
    "Dn5mQw1Ez7Cv", // key-string
];

fn config_text() -> String {
    format!(
        "hostname Daphne
enable password {}
enable secret 5 $1${}
username admin password 0 {}
crypto isakmp policy 10
 authentication pre-share
crypto isakmp key {PSK} address 0.0.0.0 0.0.0.0
crypto ipsec transform-set ted-transforms esp-des esp-md5-hmac
crypto dynamic-map ted-map 10
 set transform-set ted-transforms
 match address 101
crypto map tedtag 10 ipsec-isakmp dynamic ted-map discover
interface FastEthernet0/0
 ip address 11.11.11.1 255.255.255.0
 ip ospf message-digest-key 1 md5 {}
 crypto map tedtag
snmp-server community {} RO
tacacs-server key {}
key chain ospf-keys
 key 1
  key-string {}
access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255
line vty 0 4
 password {}
 login
end
",
        OTHER_SECRETS[0],
        OTHER_SECRETS[1],
        OTHER_SECRETS[2],
        OTHER_SECRETS[6],
        OTHER_SECRETS[3],
        OTHER_SECRETS[5],
        OTHER_SECRETS[7],
        OTHER_SECRETS[4],
    )
}

#[test]
fn preshared_key_debug_redacts() {
    let key = PresharedKey::new(PSK.as_bytes());
    assert_hidden("PresharedKey", &format!("{key:?} {key:#?}"), PSK.as_bytes());
    let entry = PskEntry {
        peer: PskPeer::subnet(Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
        key,
        no_xauth: false,
    };
    assert_hidden("PskEntry", &format!("{entry:?} {entry:#?}"), PSK.as_bytes());
}

#[test]
fn imported_configuration_debug_redacts_every_secret() {
    let parsed = ios::parse(&config_text()).unwrap();
    // The key made it into the model ...
    let key = parsed
        .config
        .isakmp
        .psk_for_address(Ipv4Addr::new(11, 11, 11, 2))
        .unwrap();
    assert_eq!(key.key.as_bytes(), PSK.as_bytes());
    // ... and the other secrets' lines were skipped and listed.
    assert!(
        parsed.skipped.len() >= OTHER_SECRETS.len(),
        "{:?}",
        parsed.skipped
    );
    let shown = format!("{parsed:?} {parsed:#?}");
    assert_hidden("Parsed: the pre-shared key", &shown, PSK.as_bytes());
    for s in OTHER_SECRETS {
        assert_hidden("Parsed: a skipped line's secret", &shown, s.as_bytes());
    }
    for d in &parsed.diagnostics {
        assert_hidden("Diagnostic", &d.to_string(), PSK.as_bytes());
    }
}

#[test]
fn render_writes_the_key_only_when_not_redacting() {
    let parsed = ios::parse(&config_text()).unwrap();
    // Rendering is the configuration itself: the key must be there, or the
    // output would not configure a router.
    assert!(ios::render(&parsed.config).contains(PSK));
    let mut options = RenderOptions::default();
    options.redact_keys = true;
    let redacted = ios::render_with(&parsed.config, &options);
    assert_hidden("render_with(redact_keys)", &redacted, PSK.as_bytes());
    assert!(redacted.contains("crypto isakmp key <redacted> address 0.0.0.0 0.0.0.0"));
}

/// Malformed `crypto isakmp key` lines: the error (Display and Debug, as a
/// caller would log it) must not quote the key, nor any word the operator
/// typed between `key` and the peer (a key with a space in it is cut at
/// the space by IOS's grammar, but both halves are the secret).
#[test]
fn import_errors_do_not_quote_keys() {
    const SECOND: &str = "Pz6nBv2Kc8Ds";
    let lines = [
        format!("crypto isakmp key {PSK}"),
        format!("crypto isakmp key {PSK} address"),
        format!("crypto isakmp key {PSK} address 300.1.1.1"),
        format!("crypto isakmp key {PSK} address 1.1.1.1 255.0.255.0"),
        format!("crypto isakmp key {PSK} address 1.1.1.1 255.255.255.0 junk"),
        format!("crypto isakmp key {PSK} address 1.1.1.1 no-config-mode"),
        format!("crypto isakmp key {PSK} hostname"),
        format!("crypto isakmp key {PSK} peer 1.1.1.1"),
        format!("crypto isakmp key 0 {PSK} address 1.1.1.1 extra"),
        format!("crypto isakmp key 6 {PSK} address 1.1.1.1"),
        format!("crypto isakmp key {PSK} {SECOND} address 1.1.1.1"),
        format!("crypto isakmp key {PSK} {SECOND} hostname peer.example"),
        format!("crypto isakmp key 0 {PSK} {SECOND} address 1.1.1.1"),
        format!("no crypto isakmp key {PSK} address 1.1.1.1 junk"),
        format!("crypto isakmp key {}{PSK} address 1.1.1.1", "x".repeat(130)),
        format!("crypto isakmp key {PSK}\n crypto isakmp key {SECOND} address 1.1.1.1"),
    ];
    for line in &lines {
        let Err(e) = ios::parse(line) else {
            panic!("`{line}` was accepted");
        };
        let shown = format!("{e} {e:?}");
        assert_hidden(&format!("error for `{line}`"), &shown, PSK.as_bytes());
        assert_hidden(&format!("error for `{line}`"), &shown, SECOND.as_bytes());
    }
}

#[test]
fn preshared_key_wipes_on_drop_and_on_request() {
    wipes_on_drop::<PresharedKey>();
    let mut key = PresharedKey::new(PSK.as_bytes());
    key.zeroize();
    // A boxed slice is wiped in place: same length, every byte zero.
    assert_eq!(key.len(), PSK.len());
    assert!(
        key.as_bytes().iter().all(|b| *b == 0),
        "{:?}",
        key.as_bytes()
    );
}
