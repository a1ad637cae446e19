//! `crypto keyring` blocks: import, render, abbreviations, redaction, and
//! their keys in the IKE engine's configuration.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::{IpAddr, Ipv4Addr};

use ike_sm::PskScope;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::config::ios::{self, ParseErrorKind, ParseOptions, RenderOptions, SkipReason};
use ted::config::{KeyringLocalAddress, PskPeer};
use ted::gateway::{Event, Gateway, GatewayOptions};

const RINGS: &str = "\
hostname Spoke
!
crypto keyring aws-0
  description tunnel one
  local-address 198.51.100.1
  pre-shared-key address 203.0.113.7 key ring-secret-one
  pre-shared-key address 10.20.0.0 255.255.0.0 key ring-secret-two
  pre-shared-key hostname peer.example.com key ring-secret-three
!
crypto keyring other
  local-address 192.0.2.99
  pre-shared-key address 203.0.113.8 key ring-secret-four
!
crypto keyring by-interface
  local-address FastEthernet0/0
  pre-shared-key address 203.0.113.9 key ring-secret-five
!
crypto isakmp policy 10
 authentication pre-share
!
crypto ipsec transform-set ts esp-aes esp-sha-hmac
!
crypto map vpn 10 ipsec-isakmp
 set peer 203.0.113.7
 set transform-set ts
 match address 101
!
interface FastEthernet0/0
 ip address 198.51.100.1 255.255.255.0
 crypto map vpn
!
access-list 101 permit ip 10.1.0.0 0.0.255.255 10.2.0.0 0.0.255.255
end
";

#[test]
fn keyrings_import() {
    let config = ios::parse(RINGS).expect("imports").config;
    let names: Vec<&str> = config.keyrings().map(|r| r.name()).collect();
    assert_eq!(names, ["aws-0", "by-interface", "other"]);
    let ring = config.keyring("aws-0").unwrap();
    assert_eq!(ring.description.as_deref(), Some("tunnel one"));
    assert_eq!(
        ring.local_address,
        Some(KeyringLocalAddress::Address(Ipv4Addr::new(198, 51, 100, 1)))
    );
    let keys = ring.keys();
    assert_eq!(keys.len(), 3);
    assert_eq!(keys[0].peer, PskPeer::host(Ipv4Addr::new(203, 0, 113, 7)));
    assert_eq!(keys[0].key.as_bytes(), b"ring-secret-one");
    assert_eq!(
        keys[1].peer,
        PskPeer::subnet(Ipv4Addr::new(10, 20, 0, 0), Ipv4Addr::new(255, 255, 0, 0))
    );
    assert_eq!(keys[2].peer, PskPeer::Hostname("peer.example.com".into()));
    assert!(keys.iter().all(|k| !k.no_xauth));
    assert_eq!(
        config.keyring("by-interface").unwrap().local_address,
        Some(KeyringLocalAddress::Interface("FastEthernet0/0".into()))
    );
    // Not `crypto isakmp key` lines.
    assert!(config.isakmp.keys().is_empty());
}

#[test]
fn keyrings_render_round_trip_and_redact() {
    let config = ios::parse(RINGS).unwrap().config;
    let rendered = ios::render(&config);
    assert!(rendered.contains(
        "crypto keyring aws-0\n  description tunnel one\n  local-address 198.51.100.1\n  pre-shared-key address 203.0.113.7 key ring-secret-one\n  pre-shared-key address 10.20.0.0 255.255.0.0 key ring-secret-two\n  pre-shared-key hostname peer.example.com key ring-secret-three\n!\n"
    ));
    let again = ios::parse(&rendered).unwrap().config;
    assert_eq!(again, config);
    assert_eq!(ios::render(&again), rendered);
    let mut options = RenderOptions::default();
    options.redact_keys = true;
    let redacted = ios::render_with(&config, &options);
    assert!(!redacted.contains("ring-secret"));
    assert!(redacted.contains("  pre-shared-key address 203.0.113.7 key <redacted>\n"));
    // Shortest and longer abbreviations import to the same model.
    for pick in [0usize, 1, 2] {
        let short = ios::abbreviate(&rendered, &mut |shortest, _| shortest + pick);
        assert_eq!(ios::parse(&short).unwrap().config, config, "{short}");
    }
}

#[test]
fn keyring_abbreviations_and_no_forms() {
    let text = "cry keyr r1\n pre a 192.0.2.1 k s3cret\n pre h gw.example.com k 0 other\n loc 192.0.2.200\n desc two words\n";
    let config = ios::parse(text).unwrap().config;
    let ring = config.keyring("r1").unwrap();
    assert_eq!(ring.keys().len(), 2);
    assert_eq!(ring.keys()[0].key.as_bytes(), b"s3cret");
    assert_eq!(ring.keys()[1].key.as_bytes(), b"other");
    assert_eq!(ring.description.as_deref(), Some("two words"));
    // A repeated peer replaces its key; `no` forms remove.
    let more = format!(
        "{text} pre-shared-key address 192.0.2.1 key newer\n no pre-shared-key hostname gw.example.com\n no local-address\n"
    );
    let config = ios::parse(&more).unwrap().config;
    let ring = config.keyring("r1").unwrap();
    assert_eq!(ring.keys().len(), 1);
    assert_eq!(ring.keys()[0].key.as_bytes(), b"newer");
    assert_eq!(ring.local_address, None);
    let gone = ios::parse(&format!("{text}no crypto keyring r1\n"))
        .unwrap()
        .config;
    assert!(gone.keyring("r1").is_none());
}

#[test]
fn keyring_errors_and_skips_keep_keys_out() {
    // Other sub-commands are skipped, with a reason.
    let parsed = ios::parse("crypto keyring r1\n rsa-pubkey address 192.0.2.1\n").unwrap();
    assert_eq!(parsed.skipped.len(), 1);
    assert_eq!(parsed.skipped[0].reason, SkipReason::NotModelled);
    // A key with a blank, a type 6 key, a key without `key`: refused,
    // nothing of the key quoted.
    for (line, secret) in [
        (" pre-shared-key address 192.0.2.1 key two halves", "halves"),
        (" pre a 192.0.2.1 k two halves", "halves"),
        (
            " pre-shared-key address 192.0.2.1 key 6 EnCrYpTeD",
            "EnCrYpTeD",
        ),
        (" pre-shared-key address 192.0.2.1 NoKeyWord", "NoKeyWord"),
    ] {
        let e = ios::parse(&format!("crypto keyring r1\n{line}\n")).unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(secret), "{shown}");
        if line.contains("key 6") {
            assert!(matches!(e.kind, ParseErrorKind::EncryptedKey));
        }
    }
    // A keyring in a VRF stays outside the model.
    assert!(
        ios::parse("crypto keyring r1 vrf blue\n pre-shared-key address 192.0.2.1 key k\n")
            .is_err()
    );
    let report = ios::parse_all(
        "crypto keyring r1 vrf blue\n pre-shared-key address 192.0.2.1 key vrfsecret\n",
        &ParseOptions::default(),
    );
    assert_eq!(report.refused.len(), 1);
    assert!(!format!("{report:?}").contains("vrfsecret"));
}

#[test]
fn keyring_keys_reach_the_engine() {
    let config = ios::parse(RINGS).unwrap().config;
    let mut gw = Gateway::new(
        config,
        "FastEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(1)),
        GatewayOptions::default(),
    )
    .unwrap();
    let keys = &gw.ike().config().pre_shared_keys;
    let find = |scope: PskScope| {
        keys.iter()
            .find(|k| k.scope == scope)
            .map(|k| k.key.expose().to_vec())
    };
    let host = |a: [u8; 4], prefix| PskScope::Address {
        addr: IpAddr::V4(Ipv4Addr::from(a)),
        prefix,
    };
    assert_eq!(
        find(host([203, 0, 113, 7], 32)).as_deref(),
        Some(&b"ring-secret-one"[..])
    );
    assert_eq!(
        find(host([10, 20, 0, 0], 16)).as_deref(),
        Some(&b"ring-secret-two"[..])
    );
    // The keyring bound to the outside interface by name is used too.
    assert_eq!(
        find(host([203, 0, 113, 9], 32)).as_deref(),
        Some(&b"ring-secret-five"[..])
    );
    // The keyring of another local address is left out, and said so.
    assert_eq!(find(host([203, 0, 113, 8], 32)), None);
    assert_eq!(keys.len(), 4);
    let ignored: Vec<String> = std::iter::from_fn(|| gw.poll_event())
        .filter_map(|e| match e {
            Event::ConfigIgnored(what) => Some(what),
            _ => None,
        })
        .collect();
    assert!(
        ignored.iter().any(|w| w.contains("crypto keyring other")),
        "{ignored:?}"
    );
    assert!(ignored.iter().all(|w| !w.contains("ring-secret")));
}
