//! What the gateway does with the model at run time: classify packets
//! against a crypto map, derive the entry TED creates from a dynamic
//! template ("tedtag 11 ... created from dynamic map ted-map/10", per the
//! seed's `show crypto map`), and remove it again.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use ted::acl::{AclName, Flow};
use ted::config::ios;
use ted::config::{Config, CryptoMapEntry, DhGroup, MapError, SaLifetime};

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn daphne() -> Config {
    ios::parse(include_str!("../../vectors/seed/daphne.cfg"))
        .expect("daphne")
        .config
}

#[test]
fn derive_tedtag_11_from_ted_map_10() {
    let mut config = daphne();
    let original = config.clone();
    let seq = config
        .derive_entry("tedtag", 10, 10, ip(11, 11, 11, 2))
        .expect("derived");
    assert_eq!(seq, 11);

    let map = config.crypto_map("tedtag").expect("tedtag");
    let Some(CryptoMapEntry::Derived(d)) = map.entry(11) else {
        panic!("entry 11 is derived: {:?}", map.entry(11));
    };
    assert_eq!(d.template, "ted-map");
    assert_eq!(d.template_seq, 10);
    assert_eq!(d.parent_seq, 10);
    assert_eq!(d.peer, ip(11, 11, 11, 2));
    // What `show crypto map` shows for tedtag 11: Peer = 11.11.11.2, the
    // ACL, lifetime 4608000 kilobytes/3600 seconds, PFS N, transform sets
    // { ted-transforms }.
    assert_eq!(d.params.peers, vec![ip(11, 11, 11, 2)]);
    assert_eq!(d.params.match_address, Some(AclName::Numbered(101)));
    assert_eq!(
        d.params.lifetime.resolve(config.sa_lifetime),
        SaLifetime {
            seconds: 3600,
            kilobytes: 4_608_000
        }
    );
    assert_eq!(d.params.pfs, None);
    assert_eq!(d.params.transform_sets, vec!["ted-transforms".to_owned()]);
    assert_eq!(
        map.entry(11).and_then(CryptoMapEntry::params),
        Some(&d.params)
    );
    assert_eq!(
        map.derived_entries().map(|(s, _)| s).collect::<Vec<_>>(),
        vec![11]
    );

    // The running-config does not show it, and the check ignores it.
    assert_eq!(ios::render(&config), ios::render(&original));
    assert!(config.check().is_empty());
    // Packets still classify under the parent entry 10.
    let ping = Flow::icmp(ip(13, 13, 13, 14), ip(12, 12, 12, 13), 8, 0);
    assert_eq!(config.classify("tedtag", &ping).map(|m| m.seq), Some(10));

    // A second discovered peer takes the next free number.
    assert_eq!(
        config.derive_entry("tedtag", 10, 10, ip(11, 11, 11, 3)),
        Ok(12)
    );

    let removed = config.remove_derived_entry("tedtag", 11).expect("removed");
    assert_eq!(removed.peer, ip(11, 11, 11, 2));
    assert!(
        config
            .crypto_map("tedtag")
            .is_some_and(|m| m.entry(11).is_none())
    );
    assert!(config.remove_derived_entry("tedtag", 12).is_ok());
    assert_eq!(config, original);
}

#[test]
fn derive_and_remove_refusals() {
    let mut config = daphne();
    let peer = ip(11, 11, 11, 2);
    assert_eq!(
        config.derive_entry("nomap", 10, 10, peer),
        Err(MapError::NoSuchMap {
            map: "nomap".to_owned()
        })
    );
    assert_eq!(
        config.derive_entry("tedtag", 20, 10, peer),
        Err(MapError::NoSuchEntry {
            map: "tedtag".to_owned(),
            seq: 20
        })
    );
    assert_eq!(
        config.derive_entry("tedtag", 10, 30, peer),
        Err(MapError::NoSuchTemplateEntry {
            template: "ted-map".to_owned(),
            seq: 30
        })
    );
    assert_eq!(
        config.remove_derived_entry("tedtag", 10),
        Err(MapError::NotDerived {
            map: "tedtag".to_owned(),
            seq: 10
        })
    );
    assert_eq!(
        config.remove_derived_entry("tedtag", 11),
        Err(MapError::NoSuchEntry {
            map: "tedtag".to_owned(),
            seq: 11
        })
    );
    let mut with_static = ios::parse(
        "crypto map m 10 ipsec-isakmp\n set peer 1.1.1.1\ncrypto map m 11 ipsec-isakmp dynamic d\ncrypto dynamic-map d 5\n",
    )
    .expect("imports")
    .config;
    assert_eq!(
        with_static.derive_entry("m", 10, 5, peer),
        Err(MapError::NotDynamic {
            map: "m".to_owned(),
            seq: 10
        })
    );
    // Entry 12 is the first free number after 11.
    assert_eq!(with_static.derive_entry("m", 11, 5, peer), Ok(12));
    assert_eq!(with_static.derive_entry("m", 11, 5, peer), Ok(13));
}

#[test]
fn no_free_sequence_number() {
    let mut config =
        ios::parse("crypto map m 65535 ipsec-isakmp dynamic d\ncrypto dynamic-map d 1\n")
            .expect("imports")
            .config;
    assert_eq!(
        config.derive_entry("m", 65_535, 1, ip(1, 1, 1, 1)),
        Err(MapError::NoFreeSequence {
            map: "m".to_owned(),
            after: 65_535
        })
    );
}

/// Entries are tried in sequence order; a `deny` in an entry's ACL passes
/// the packet on to the next entry; a dynamic entry tries its template
/// entries in order.
#[test]
fn classification_order() {
    let text = "\
crypto map m 10 ipsec-isakmp
 set peer 192.0.2.1
 match address 110
crypto map m 20 ipsec-isakmp dynamic d discover
crypto map m 30 ipsec-isakmp
 set peer 192.0.2.3
 match address 130
crypto dynamic-map d 5
 match address 105
crypto dynamic-map d 6
 match address 106
access-list 110 deny ip host 10.0.0.1 any
access-list 110 permit ip 10.0.0.0 0.0.0.255 any
access-list 105 permit tcp 10.0.0.0 0.0.0.255 any eq www
access-list 106 permit ip 10.0.0.0 0.0.0.255 any
access-list 130 permit ip any any
";
    let config = ios::parse(text).expect("imports").config;
    let classify = |flow: Flow| {
        config
            .classify("m", &flow)
            .map(|m| (m.seq, m.template_seq, m.acl, m.acl_seq, m.discover))
    };
    assert_eq!(
        classify(Flow::udp(ip(10, 0, 0, 2), 1, ip(8, 8, 8, 8), 53)),
        Some((10, None, AclName::Numbered(110), 20, false))
    );
    // 10.0.0.1 is denied by 110: on to entry 20, template entry 5 (www) ...
    assert_eq!(
        classify(Flow::tcp(ip(10, 0, 0, 1), 1, ip(8, 8, 8, 8), 80)),
        Some((20, Some(5), AclName::Numbered(105), 10, true))
    );
    // ... or 6 for anything else from the subnet.
    assert_eq!(
        classify(Flow::udp(ip(10, 0, 0, 1), 1, ip(8, 8, 8, 8), 53)),
        Some((20, Some(6), AclName::Numbered(106), 10, true))
    );
    // Outside 10.0.0.0/24: entry 30.
    assert_eq!(
        classify(Flow::udp(ip(10, 0, 1, 1), 1, ip(8, 8, 8, 8), 53)),
        Some((30, None, AclName::Numbered(130), 10, false))
    );
}

#[test]
fn pfs_groups() {
    for (word, group) in [
        ("group1", DhGroup::Group1),
        ("group2", DhGroup::Group2),
        ("group5", DhGroup::Group5),
        ("group14", DhGroup::Group14),
        ("group15", DhGroup::Group15),
        ("group16", DhGroup::Group16),
    ] {
        let config = ios::parse(&format!("crypto dynamic-map d 1\n set pfs {word}\n"))
            .expect("imports")
            .config;
        assert_eq!(
            config
                .dynamic_map("d")
                .and_then(|d| d.entry(1))
                .and_then(|p| p.pfs),
            Some(group)
        );
        assert_eq!(
            u32::from(group.number()),
            word.trim_start_matches("group")
                .parse::<u32>()
                .expect("number")
        );
    }
}

/// Longest prefix wins; a connected subnet wins a tie; the lower distance
/// wins between equal prefixes; a shut interface is not connected.
#[test]
fn route_lookup() {
    let text = "\
interface FastEthernet0/0
 ip address 10.0.0.1 255.255.255.0
interface FastEthernet0/1
 ip address 10.0.1.1 255.255.255.0
 shutdown
ip route 10.0.0.0 255.255.255.0 10.0.0.254
ip route 172.16.0.0 255.255.0.0 10.0.0.2 5
ip route 172.16.0.0 255.255.0.0 10.0.0.3
ip route 172.16.5.0 255.255.255.0 10.0.0.4
ip route 192.168.0.0 255.255.0.0 10.0.1.9
ip route 192.168.0.0 255.255.0.0 10.0.0.9 250
";
    let config = ios::parse(text).expect("imports").config;
    let hop = |d: Ipv4Addr| {
        config
            .route(d)
            .map(|r| (r.interface.as_str().to_owned(), r.next_hop))
    };
    let fa0 = || "FastEthernet0/0".to_owned();
    assert_eq!(
        hop(ip(10, 0, 0, 7)),
        Some((fa0(), ip(10, 0, 0, 7))),
        "connected beats the equal static"
    );
    assert_eq!(
        hop(ip(172, 16, 9, 9)),
        Some((fa0(), ip(10, 0, 0, 3))),
        "distance 1 beats 5"
    );
    assert_eq!(
        hop(ip(172, 16, 5, 9)),
        Some((fa0(), ip(10, 0, 0, 4))),
        "/24 beats /16"
    );
    // 10.0.1.9 is on a shut interface: that route cannot resolve, the
    // floating one does.
    assert_eq!(hop(ip(192, 168, 1, 1)), Some((fa0(), ip(10, 0, 0, 9))));
    assert_eq!(hop(ip(8, 8, 8, 8)), None);
}

/// A route whose next hop leads back to itself resolves to nothing
/// instead of recursing forever.
#[test]
fn recursive_route_loop_terminates() {
    let text = "\
ip route 10.0.0.0 255.0.0.0 20.0.0.1
ip route 20.0.0.0 255.0.0.0 10.0.0.1
";
    let config = ios::parse(text).expect("imports").config;
    assert_eq!(config.route(ip(10, 1, 1, 1)), None);
}

/// Many looping routes to the same destination: the lookup gives up within
/// a bounded number of attempts instead of trying every path.
#[test]
fn many_looping_routes_stay_cheap() {
    let mut text = String::new();
    for i in 1..=60u8 {
        text.push_str(&format!("ip route 0.0.0.0 0.0.0.0 10.0.0.{i}\n"));
        text.push_str(&format!("ip route 10.0.0.0 255.255.255.0 20.0.0.{i}\n"));
    }
    let config = ios::parse(&text).expect("imports").config;
    let started = std::time::Instant::now();
    assert_eq!(config.route(ip(8, 8, 8, 8)), None);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
