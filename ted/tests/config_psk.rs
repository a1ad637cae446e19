//! Pre-shared key lookup by peer: the most specific mask wins, the
//! 0.0.0.0 0.0.0.0 wildcard catches the rest; keys stay secret.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use ted::config::ios;
use ted::config::{PresharedKey, PskEntry, PskPeer};

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

const KEYS: &str = "\
crypto isakmp key wild address 0.0.0.0 0.0.0.0
crypto isakmp key eight address 11.0.0.0 255.0.0.0
crypto isakmp key host address 11.11.11.2
crypto isakmp key twentyfour address 11.11.11.0 255.255.255.0
crypto isakmp key sixteen address 11.11.0.0 255.255.0.0 no-xauth
crypto isakmp key named hostname Peer.Example.NET
";

fn key_for(keys: &ted::config::IsakmpConfig, peer: Ipv4Addr) -> Option<&[u8]> {
    keys.psk_for_address(peer).map(|k| k.key.as_bytes())
}

#[test]
fn most_specific_mask_wins() {
    let config = ios::parse(KEYS).expect("imports").config;
    let k = &config.isakmp;
    assert_eq!(k.keys().len(), 6);
    assert_eq!(key_for(k, ip(11, 11, 11, 2)), Some(&b"host"[..]));
    assert_eq!(key_for(k, ip(11, 11, 11, 3)), Some(&b"twentyfour"[..]));
    assert_eq!(key_for(k, ip(11, 11, 12, 1)), Some(&b"sixteen"[..]));
    assert_eq!(key_for(k, ip(11, 200, 0, 1)), Some(&b"eight"[..]));
    assert_eq!(key_for(k, ip(12, 12, 12, 13)), Some(&b"wild"[..]));
    assert_eq!(key_for(k, ip(255, 255, 255, 255)), Some(&b"wild"[..]));
    assert!(
        k.psk_for_address(ip(11, 11, 12, 1))
            .is_some_and(|e| e.no_xauth)
    );
}

/// The order of the lines does not matter.
#[test]
fn order_does_not_matter() {
    let reversed: String = KEYS.lines().rev().map(|l| format!("{l}\n")).collect();
    let config = ios::parse(&reversed).expect("imports").config;
    let k = &config.isakmp;
    assert_eq!(key_for(k, ip(11, 11, 11, 2)), Some(&b"host"[..]));
    assert_eq!(key_for(k, ip(11, 11, 11, 3)), Some(&b"twentyfour"[..]));
    assert_eq!(key_for(k, ip(11, 11, 12, 1)), Some(&b"sixteen"[..]));
    assert_eq!(key_for(k, ip(11, 200, 0, 1)), Some(&b"eight"[..]));
    assert_eq!(key_for(k, ip(12, 12, 12, 13)), Some(&b"wild"[..]));
}

#[test]
fn without_wildcard_an_unknown_peer_has_no_key() {
    let config = ios::parse("crypto isakmp key host address 11.11.11.2\n")
        .expect("imports")
        .config;
    assert_eq!(
        key_for(&config.isakmp, ip(11, 11, 11, 2)),
        Some(&b"host"[..])
    );
    assert_eq!(key_for(&config.isakmp, ip(11, 11, 11, 1)), None);
}

#[test]
fn hostname_keys() {
    let config = ios::parse(KEYS).expect("imports").config;
    let k = &config.isakmp;
    assert_eq!(
        k.psk_for_hostname("peer.example.net")
            .map(|e| e.key.as_bytes()),
        Some(&b"named"[..])
    );
    assert_eq!(
        k.psk_for_hostname("other.example.net")
            .map(|e| e.key.as_bytes()),
        None
    );
    // Host-name keys are not address keys.
    assert!(
        k.psk_for_address(ip(0, 0, 0, 1))
            .is_some_and(|e| e.key.as_bytes() == b"wild")
    );
}

/// Entering a key for the same peer replaces it; `no crypto isakmp key`
/// removes it; the address is stored masked.
#[test]
fn replace_and_remove() {
    let text = "\
crypto isakmp key first address 10.1.2.3 255.255.0.0
crypto isakmp key second address 10.1.0.0 255.255.0.0
crypto isakmp key third address 10.2.0.1
no crypto isakmp key third address 10.2.0.1
";
    let config = ios::parse(text).expect("imports").config;
    let keys = config.isakmp.keys();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0].peer,
        PskPeer::Address {
            address: ip(10, 1, 0, 0),
            mask: ip(255, 255, 0, 0)
        }
    );
    assert_eq!(keys[0].key.as_bytes(), b"second");
}

/// `crypto isakmp key 0 KEY ...` (unencrypted type 0), and a key that is
/// literally "0".
#[test]
fn type_zero_keys() {
    let config = ios::parse(
        "crypto isakmp key 0 plain address 1.1.1.1\ncrypto isakmp key 0 address 2.2.2.2\n",
    )
    .expect("imports")
    .config;
    assert_eq!(key_for(&config.isakmp, ip(1, 1, 1, 1)), Some(&b"plain"[..]));
    assert_eq!(key_for(&config.isakmp, ip(2, 2, 2, 2)), Some(&b"0"[..]));
}

#[test]
fn keys_are_never_shown() {
    let config = ios::parse("crypto isakmp key Sup3rS3cret address 0.0.0.0 0.0.0.0\n")
        .expect("imports")
        .config;
    let shown = format!("{config:?}");
    assert!(!shown.contains("Sup3rS3cret"), "{shown}");
    assert!(shown.contains("<redacted>"));
    let entry = &config.isakmp.keys()[0];
    assert!(!format!("{entry:?}").contains("Sup3rS3cret"));
    assert!(!format!("{:?}", entry.key).contains("Sup3rS3cret"));
}

#[test]
fn key_equality() {
    let a = PresharedKey::new(b"abc123");
    assert_eq!(a, PresharedKey::new(b"abc123"));
    assert_ne!(a, PresharedKey::new(b"abc124"));
    assert_ne!(a, PresharedKey::new(b"abc12"));
    assert_eq!(a.len(), 6);
    assert!(!a.is_empty());
}

/// The model API: a subnet peer built from an unmasked address still
/// matches its subnet.
#[test]
fn api_built_keys() {
    let mut config = ted::config::Config::new();
    config.isakmp.add_key(PskEntry {
        peer: PskPeer::subnet(ip(10, 0, 0, 77), ip(255, 255, 255, 0)),
        key: PresharedKey::new(b"k1"),
        no_xauth: false,
    });
    config.isakmp.add_key(PskEntry {
        peer: PskPeer::Address {
            address: ip(10, 0, 1, 77),
            mask: ip(255, 255, 255, 0),
        },
        key: PresharedKey::new(b"k2"),
        no_xauth: false,
    });
    config.isakmp.add_key(PskEntry {
        peer: PskPeer::host(ip(10, 0, 0, 5)),
        key: PresharedKey::new(b"k3"),
        no_xauth: false,
    });
    assert_eq!(key_for(&config.isakmp, ip(10, 0, 0, 9)), Some(&b"k1"[..]));
    assert_eq!(key_for(&config.isakmp, ip(10, 0, 1, 9)), Some(&b"k2"[..]));
    assert_eq!(key_for(&config.isakmp, ip(10, 0, 0, 5)), Some(&b"k3"[..]));
    let old = config.isakmp.add_key(PskEntry {
        peer: PskPeer::host(ip(10, 0, 0, 5)),
        key: PresharedKey::new(b"k4"),
        no_xauth: false,
    });
    assert_eq!(old.map(|e| e.key), Some(PresharedKey::new(b"k3")));
    assert_eq!(key_for(&config.isakmp, ip(10, 0, 0, 5)), Some(&b"k4"[..]));
    assert!(
        config
            .isakmp
            .remove_key(&PskPeer::host(ip(10, 0, 0, 5)))
            .is_some()
    );
    assert_eq!(key_for(&config.isakmp, ip(10, 0, 0, 5)), Some(&b"k1"[..]));
}
