//! The cross-reference check after loading: what IOS refuses is an error,
//! what it accepts but cannot use is a warning, each with its line.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use ted::acl::{AclName, ProxyError, Side};
use ted::config::ios;
use ted::config::{Diagnostic, DiagnosticKind, IsakmpPolicy, Location, Severity};

fn diagnostics(text: &str) -> Vec<Diagnostic> {
    ios::parse(text).expect("imports").diagnostics
}

fn find(ds: &[Diagnostic], pred: impl Fn(&DiagnosticKind) -> bool) -> &Diagnostic {
    ds.iter()
        .find(|d| pred(&d.kind))
        .unwrap_or_else(|| panic!("no such diagnostic in {ds:#?}"))
}

#[test]
fn missing_transform_set_is_an_error() {
    let ds = diagnostics(
        "crypto ipsec transform-set good esp-3des esp-sha-hmac\n!\ncrypto dynamic-map d 10\n set transform-set good typo\n match address 101\naccess-list 101 permit ip any any\n",
    );
    assert_eq!(ds.len(), 1, "{ds:#?}");
    let d = &ds[0];
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(
        d.kind,
        DiagnosticKind::MissingTransformSet {
            name: "typo".to_owned()
        }
    );
    assert_eq!(
        d.location,
        Location::DynamicMapEntry {
            map: "d".to_owned(),
            seq: 10
        }
    );
    assert_eq!(d.line, Some(3));
    assert_eq!(
        d.to_string(),
        "error: crypto dynamic-map d 10: transform set typo does not exist (line 3)"
    );
}

#[test]
fn incomplete_static_entry_warnings() {
    let ds = diagnostics("crypto map m 10 ipsec-isakmp\n");
    let kinds: Vec<&DiagnosticKind> = ds.iter().map(|d| &d.kind).collect();
    assert_eq!(
        kinds,
        vec![
            &DiagnosticKind::NoPeer,
            &DiagnosticKind::NoTransformSet,
            &DiagnosticKind::NoAccessList
        ]
    );
    assert!(
        ds.iter()
            .all(|d| d.severity == Severity::Warning && d.line == Some(1))
    );
}

#[test]
fn dangling_references_are_warnings() {
    let text = "\
crypto ipsec transform-set t esp-aes esp-sha-hmac
crypto map m 10 ipsec-isakmp
 set peer 192.0.2.1
 set transform-set t
 match address NOPE
crypto map m 20 ipsec-isakmp dynamic ghost discover
crypto map m local-address Loopback9
interface FastEthernet0/0
 crypto map m
interface FastEthernet0/1
 ip address 10.0.0.1 255.255.255.0
 crypto map other
";
    let ds = diagnostics(text);
    let acl = find(&ds, |k| {
        matches!(k, DiagnosticKind::MissingAccessList { .. })
    });
    assert_eq!((acl.severity, acl.line), (Severity::Warning, Some(2)));
    assert_eq!(
        acl.kind,
        DiagnosticKind::MissingAccessList {
            name: AclName::Named("NOPE".to_owned())
        }
    );
    let dynamic = find(&ds, |k| {
        matches!(k, DiagnosticKind::MissingDynamicMap { .. })
    });
    assert_eq!(
        (dynamic.severity, dynamic.line),
        (Severity::Warning, Some(6))
    );
    let local = find(&ds, |k| {
        matches!(k, DiagnosticKind::MissingInterface { .. })
    });
    assert_eq!(local.line, Some(7));
    let no_address = find(&ds, |k| matches!(k, DiagnosticKind::NoAddress { .. }));
    assert_eq!(no_address.line, Some(8));
    let missing_map = find(&ds, |k| {
        matches!(k, DiagnosticKind::MissingCryptoMap { .. })
    });
    assert_eq!(
        missing_map.kind,
        DiagnosticKind::MissingCryptoMap {
            name: "other".to_owned()
        }
    );
    assert_eq!(missing_map.line, Some(10));
    assert!(
        ds.iter().all(|d| d.severity == Severity::Warning),
        "{ds:#?}"
    );
    assert_eq!(ds.len(), 5, "{ds:#?}");
}

#[test]
fn discover_needs_an_access_list() {
    let ds = diagnostics(
        "crypto ipsec transform-set t esp-aes esp-sha-hmac\ncrypto dynamic-map d 10\n set transform-set t\ncrypto map m 10 ipsec-isakmp dynamic d discover\n",
    );
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(
        ds[0].kind,
        DiagnosticKind::DiscoverWithoutAccessList {
            template: "d".to_owned()
        }
    );
    assert_eq!(ds[0].line, Some(4));
}

/// A crypto ACL entry with a non-contiguous wildcard or a port range is
/// legal but no proxy pair; the warning points at the ACL line.
#[test]
fn crypto_acl_entries_that_are_no_proxy() {
    let text = "\
crypto ipsec transform-set t esp-aes esp-sha-hmac
crypto dynamic-map d 10
 set transform-set t
 match address 101
access-list 101 permit ip 10.0.0.1 0.0.255.0 any
access-list 101 permit tcp any range 1000 2000 any
access-list 101 deny ip 10.9.9.0 0.0.0.255 0.0.0.0 255.0.255.255
access-list 101 permit ip 10.1.1.0 0.0.0.255 10.2.2.0 0.0.0.255
";
    let ds = diagnostics(text);
    assert_eq!(ds.len(), 2, "{ds:#?}");
    assert_eq!(
        ds[0].kind,
        DiagnosticKind::NotAProxy {
            reason: ProxyError::NonContiguousWildcard {
                side: Side::Source,
                wildcard: Ipv4Addr::new(0, 0, 255, 0)
            }
        }
    );
    assert_eq!(
        ds[0].location,
        Location::AccessListEntry {
            acl: AclName::Numbered(101),
            seq: 10
        }
    );
    assert_eq!(ds[0].line, Some(5));
    assert!(matches!(
        ds[1].kind,
        DiagnosticKind::NotAProxy {
            reason: ProxyError::PortNotSingle { .. }
        }
    ));
    assert_eq!(ds[1].line, Some(6));
    // The deny line is not a proxy either, but deny lines protect nothing
    // and are not reported.
}

#[test]
fn deny_only_crypto_acl() {
    let ds = diagnostics(
        "crypto ipsec transform-set t esp-aes esp-sha-hmac\ncrypto dynamic-map d 10\n set transform-set t\n match address 5\naccess-list 5 deny any\n",
    );
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(
        ds[0].kind,
        DiagnosticKind::NoPermitEntry {
            acl: AclName::Numbered(5)
        }
    );
}

#[test]
fn preshare_policy_without_keys() {
    let ds = diagnostics("crypto isakmp policy 10\n authentication pre-share\n");
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(ds[0].kind, DiagnosticKind::NoPresharedKey);
    assert_eq!(ds[0].line, Some(1));
    assert!(
        diagnostics("crypto isakmp policy 10\n").is_empty(),
        "rsa-sig needs no key"
    );
}

/// Configurations built through the API bypass the importer's range
/// checks; the check reports what IOS would refuse.
#[test]
fn api_built_out_of_range_values() {
    let mut config = ted::config::Config::new();
    let mut policy = IsakmpPolicy::with_ios_defaults(10);
    policy.lifetime = 30;
    config.isakmp.add_policy(policy);
    config.sa_lifetime.seconds = 10;
    let ds = config.check();
    assert_eq!(ds.len(), 2, "{ds:#?}");
    assert!(
        ds.iter()
            .all(|d| d.severity == Severity::Error && d.line.is_none())
    );
    assert_eq!(
        ds[0].kind,
        DiagnosticKind::OutOfRange {
            what: "ISAKMP lifetime",
            value: 30,
            min: 60,
            max: 86_400
        }
    );
    assert_eq!(ds[1].location, Location::Global);
}
