//! The seed's two running-configs (vectors/seed/daphne.cfg and fred.cfg,
//! from Cisco's TED configuration example for IOS 12.2(27)) load verbatim
//! and give exactly the values the files state, with IOS's defaults for
//! what they leave out. Expected values are read off the configuration
//! text and the seed's debug trace (docs/seed.md), not produced by
//! the code under test.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use ted::acl::{AclName, Action, AddressMatch, Flow, IpProtocol, PortMatch, ProtocolMatch};
use ted::config::ios::{self, SkipReason};
use ted::config::{
    CryptoMapEntry, DhGroup, EncapsulationMode, IsakmpAuthentication, IsakmpEncryption, IsakmpHash,
    IsakmpIdentity, NextHop, PskPeer, SaLifetime, Transform,
};

const DAPHNE: &str = include_str!("../../vectors/seed/daphne.cfg");
const FRED: &str = include_str!("../../vectors/seed/fred.cfg");

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn daphne() -> ios::Parsed {
    ios::parse(DAPHNE).expect("daphne.cfg loads")
}

fn fred() -> ios::Parsed {
    ios::parse(FRED).expect("fred.cfg loads")
}

#[test]
fn host_names() {
    assert_eq!(daphne().config.hostname, "Daphne");
    assert_eq!(fred().config.hostname, "fred");
}

/// `crypto isakmp policy 10` / `authentication pre-share`: the rest is
/// IOS 12.2's defaults, the values the trace shows negotiated ("encryption
/// DES-CBC, hash SHA, default group 1, auth pre-share, life 0x00015180").
#[test]
fn policy_10_is_des_sha_group1_preshare_86400() {
    for parsed in [daphne(), fred()] {
        let isakmp = &parsed.config.isakmp;
        let policies: Vec<_> = isakmp.policies().collect();
        assert_eq!(policies.len(), 1);
        let p = policies[0];
        assert_eq!(p.priority, 10);
        assert_eq!(p.encryption, IsakmpEncryption::Des);
        assert_eq!(p.hash, IsakmpHash::Sha);
        assert_eq!(p.authentication, IsakmpAuthentication::PreShare);
        assert_eq!(p.group, DhGroup::Group1);
        assert_eq!(p.lifetime, 86_400);
        assert_eq!(p.lifetime, 0x0001_5180);
        assert_eq!(isakmp.identity, IsakmpIdentity::Address);
        assert_eq!(isakmp.keepalive, None);
        assert!(isakmp.enabled);
        // The default protection suite stays out unless asked for.
        assert_eq!(isakmp.default_suite(), None);
    }
}

/// `crypto isakmp key abc123 address 0.0.0.0 0.0.0.0`: the wildcard key,
/// found for the discovered peer ("found peer pre-shared key matching
/// 11.11.11.2", and 11.11.11.1 on fred).
#[test]
fn wildcard_key_abc123() {
    for (parsed, peer) in [(daphne(), ip(11, 11, 11, 2)), (fred(), ip(11, 11, 11, 1))] {
        let keys = parsed.config.isakmp.keys();
        assert_eq!(keys.len(), 1);
        assert_eq!(
            keys[0].peer,
            PskPeer::Address {
                address: Ipv4Addr::UNSPECIFIED,
                mask: Ipv4Addr::UNSPECIFIED
            }
        );
        assert_eq!(keys[0].key.as_bytes(), b"abc123");
        assert!(!keys[0].no_xauth);
        let found = parsed
            .config
            .isakmp
            .psk_for_address(peer)
            .expect("wildcard matches");
        assert_eq!(found.key.as_bytes(), b"abc123");
    }
}

/// `crypto ipsec transform-set ted-transforms esp-des esp-md5-hmac`, tunnel
/// mode by default ("in use settings ={Tunnel, }").
#[test]
fn transform_set_ted_transforms() {
    for parsed in [daphne(), fred()] {
        let sets: Vec<_> = parsed.config.transform_sets().collect();
        assert_eq!(sets.len(), 1);
        let set = sets[0];
        assert_eq!(set.name(), "ted-transforms");
        assert_eq!(
            set.transforms(),
            &[Transform::EspDes, Transform::EspMd5Hmac]
        );
        assert_eq!(set.esp_encryption(), Some(Transform::EspDes));
        assert_eq!(set.esp_authentication(), Some(Transform::EspMd5Hmac));
        assert_eq!(set.ah(), None);
        assert_eq!(set.compression(), None);
        assert_eq!(set.mode, EncapsulationMode::Tunnel);
        assert_eq!(set.to_string(), "esp-des esp-md5-hmac");
    }
}

/// IPsec SA lifetimes: IOS defaults, "lifedur= 3600s and 4608000kb".
#[test]
fn sa_lifetime_defaults() {
    for parsed in [daphne(), fred()] {
        assert_eq!(
            parsed.config.sa_lifetime,
            SaLifetime {
                seconds: 3600,
                kilobytes: 4_608_000
            }
        );
    }
}

/// `crypto dynamic-map ted-map 10` / `set transform-set ted-transforms` /
/// `match address 101`; no peer, no PFS ("PFS (Y/N): N").
#[test]
fn dynamic_map_ted_map_10() {
    for parsed in [daphne(), fred()] {
        let maps: Vec<_> = parsed.config.dynamic_maps().collect();
        assert_eq!(maps.len(), 1);
        assert_eq!(maps[0].name(), "ted-map");
        let entries: Vec<_> = maps[0].entries().collect();
        assert_eq!(entries.len(), 1);
        let (seq, params) = entries[0];
        assert_eq!(seq, 10);
        assert_eq!(params.transform_sets, vec!["ted-transforms".to_owned()]);
        assert_eq!(params.match_address, Some(AclName::Numbered(101)));
        assert!(params.peers.is_empty());
        assert_eq!(params.pfs, None);
        assert_eq!(
            params.lifetime.resolve(parsed.config.sa_lifetime),
            SaLifetime::DEFAULT
        );
    }
}

/// `crypto map tedtag 10 ipsec-isakmp dynamic ted-map discover`.
#[test]
fn crypto_map_tedtag_10_dynamic_discover() {
    for parsed in [daphne(), fred()] {
        let maps: Vec<_> = parsed.config.crypto_maps().collect();
        assert_eq!(maps.len(), 1);
        let map = maps[0];
        assert_eq!(map.name(), "tedtag");
        assert_eq!(map.local_address, None);
        let entries: Vec<_> = map.entries().collect();
        assert_eq!(
            entries,
            vec![(
                10,
                &CryptoMapEntry::Dynamic {
                    template: "ted-map".to_owned(),
                    discover: true
                }
            )]
        );
    }
}

/// `interface FastEthernet0/0` / `ip address 11.11.11.1 255.255.255.0` /
/// `crypto map tedtag` (Daphne; fred's is 11.11.11.2), and the inside
/// interface FastEthernet0/1 without a crypto map.
#[test]
fn interfaces() {
    for (parsed, outside, inside) in [
        (daphne(), ip(11, 11, 11, 1), ip(13, 13, 13, 13)),
        (fred(), ip(11, 11, 11, 2), ip(12, 12, 12, 12)),
    ] {
        let config = &parsed.config;
        assert_eq!(config.interfaces().len(), 2);
        let fa00 = config
            .interface("Fa0/0")
            .expect("Fa0/0 abbreviates FastEthernet0/0");
        assert_eq!(fa00.name().as_str(), "FastEthernet0/0");
        let a = fa00.address.expect("Fa0/0 has an address");
        assert_eq!((a.address, a.mask), (outside, ip(255, 255, 255, 0)));
        assert_eq!(a.prefix_len(), 24);
        assert_eq!(fa00.crypto_map.as_deref(), Some("tedtag"));
        assert!(!fa00.shutdown);
        assert!(fa00.secondary.is_empty());

        let fa01 = config
            .interface("FastEthernet0/1")
            .expect("FastEthernet0/1");
        let a = fa01.address.expect("Fa0/1 has an address");
        assert_eq!((a.address, a.mask), (inside, ip(255, 255, 255, 0)));
        assert_eq!(fa01.crypto_map, None);

        let using: Vec<_> = config
            .interfaces_using("tedtag")
            .map(|i| i.name().as_str())
            .collect();
        assert_eq!(using, vec!["FastEthernet0/0"]);
        assert_eq!(config.crypto_map_local_address("tedtag"), Some(outside));
    }
}

/// `ip route 0.0.0.0 0.0.0.0 11.11.11.2` on Daphne (11.11.11.1 on fred); the
/// trace sends the probe for 12.12.12.13 "via FastEthernet0/0:11.11.11.2".
#[test]
fn default_route() {
    let d = daphne().config;
    assert_eq!(d.routes.len(), 1);
    let r = &d.routes[0];
    assert_eq!(
        (r.prefix, r.mask),
        (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)
    );
    assert_eq!(r.next_hop, NextHop::Address(ip(11, 11, 11, 2)));
    assert_eq!(r.distance, 1);

    let out = d.route(ip(12, 12, 12, 13)).expect("default route");
    assert_eq!(out.interface.as_str(), "FastEthernet0/0");
    assert_eq!(out.next_hop, ip(11, 11, 11, 2));
    let inside = d.route(ip(13, 13, 13, 14)).expect("connected");
    assert_eq!(inside.interface.as_str(), "FastEthernet0/1");
    assert_eq!(inside.next_hop, ip(13, 13, 13, 14));

    let f = fred().config;
    assert_eq!(f.routes[0].next_hop, NextHop::Address(ip(11, 11, 11, 1)));
    assert_eq!(
        f.route(ip(13, 13, 13, 14)).map(|r| r.next_hop),
        Some(ip(11, 11, 11, 1))
    );
}

/// `access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255`:
/// one entry, shown as IOS shows it in `show crypto map`.
#[test]
fn access_list_101() {
    let config = daphne().config;
    let acl = config
        .access_list(&AclName::Numbered(101))
        .expect("ACL 101");
    let rules: Vec<_> = acl.rules().collect();
    assert_eq!(rules.len(), 1);
    let (seq, rule) = rules[0];
    assert_eq!(seq, 10);
    assert_eq!(rule.action(), Action::Permit);
    assert_eq!(rule.protocol(), ProtocolMatch::Ip);
    assert_eq!(
        rule.source(),
        AddressMatch::new(ip(13, 13, 13, 0), ip(0, 0, 0, 255))
    );
    assert_eq!(
        rule.destination(),
        AddressMatch::new(ip(12, 12, 12, 0), ip(0, 0, 0, 255))
    );
    assert_eq!(rule.source_port(), PortMatch::Any);
    assert_eq!(rule.destination_port(), PortMatch::Any);
    assert_eq!(
        rule.to_string(),
        "permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255"
    );
}

/// The ping of the seed, 13.13.13.14 -> 12.12.12.13, matches Daphne's
/// crypto ACL whatever the protocol; the reverse direction does not.
#[test]
fn acl_matches_the_ping_and_not_the_reverse() {
    let config = daphne().config;
    let acl = config
        .access_list(&AclName::Numbered(101))
        .expect("ACL 101");
    let (src, dst) = (ip(13, 13, 13, 14), ip(12, 12, 12, 13));
    let flows = [
        Flow::icmp(src, dst, 8, 0),
        Flow::tcp(src, 1025, dst, 80),
        Flow::udp(src, 500, dst, 500),
        Flow::ip(src, dst, IpProtocol::GRE),
        Flow::ip(src, dst, IpProtocol::ESP),
        Flow::fragment(src, dst, IpProtocol::UDP),
    ];
    for flow in flows {
        assert!(acl.permits(&flow), "{flow}");
        assert!(!acl.permits(&flow.reversed()), "reverse of {flow}");
    }
    // Outside the subnets, even by one bit.
    assert!(!acl.permits(&Flow::icmp(ip(13, 13, 12, 14), dst, 8, 0)));
    assert!(!acl.permits(&Flow::icmp(src, ip(12, 12, 13, 13), 8, 0)));

    // Fred's ACL is the other way round.
    let fred = fred().config;
    let facl = fred.access_list(&AclName::Numbered(101)).expect("ACL 101");
    assert!(facl.permits(&Flow::icmp(dst, src, 0, 0)));
    assert!(!facl.permits(&Flow::icmp(src, dst, 8, 0)));
}

/// Daphne's crypto ACL mirrored is fred's, and fred's mirrored is Daphne's.
#[test]
fn mirror_of_daphnes_acl_is_freds() {
    let (d, f) = (daphne().config, fred().config);
    let dacl = d
        .access_list(&AclName::Numbered(101))
        .expect("Daphne's 101");
    let facl = f.access_list(&AclName::Numbered(101)).expect("fred's 101");
    assert_ne!(dacl, facl);
    assert_eq!(
        &dacl
            .mirrored(AclName::Numbered(101))
            .expect("101 is extended"),
        facl
    );
    assert_eq!(
        &facl
            .mirrored(AclName::Numbered(101))
            .expect("101 is extended"),
        dacl
    );
}

/// The proxies IOS prints for this entry: "local ident
/// (addr/mask/prot/port): (13.13.13.0/255.255.255.0/0/0) remote ident
/// (12.12.12.0/255.255.255.0/0/0)", both subnets (type 4).
#[test]
fn proxy_identities_as_ios_shows_them() {
    let config = daphne().config;
    let acl = config
        .access_list(&AclName::Numbered(101))
        .expect("ACL 101");
    let (_, rule) = acl.rules().next().expect("one rule");
    let pair = rule.proxy().expect("a subnet pair");
    assert_eq!(pair.source.to_string(), "13.13.13.0/255.255.255.0/0/0");
    assert_eq!(pair.destination.to_string(), "12.12.12.0/255.255.255.0/0/0");
    assert!(!pair.source.is_host());
    assert!(pair.source.contains(ip(13, 13, 13, 14)));
    assert!(pair.destination.contains(ip(12, 12, 12, 13)));
}

/// The crypto map sends the ping to TED: entry 10, template ted-map/10, ACL
/// 101 line 10, discover on. Its reverse is not for this map.
#[test]
fn crypto_map_classifies_the_ping() {
    let config = daphne().config;
    let ping = Flow::icmp(ip(13, 13, 13, 14), ip(12, 12, 12, 13), 8, 0);
    let hit = config.classify("tedtag", &ping).expect("protected");
    assert_eq!(hit.seq, 10);
    assert_eq!(hit.template_seq, Some(10));
    assert_eq!(hit.acl, AclName::Numbered(101));
    assert_eq!(hit.acl_seq, 10);
    assert!(hit.discover);
    assert_eq!(config.classify("tedtag", &ping.reversed()), None);
    assert_eq!(config.classify("no-such-map", &ping), None);
}

/// Every line outside the crypto subset is listed with its number; the
/// enable password is redacted.
#[test]
fn skipped_lines_are_listed() {
    let parsed = daphne();
    let skipped: Vec<(usize, &str)> = parsed
        .skipped
        .iter()
        .map(|s| (s.line, s.text.as_str()))
        .collect();
    assert_eq!(
        skipped,
        vec![
            (1, "version 12.2"),
            (2, "service timestamps debug datetime msec"),
            (3, "service timestamps log datetime msec"),
            (4, "no service password-encryption"),
            (8, "boot system flash c2600-jk9s-mz.122-27.bin"),
            (9, "enable password <redacted>"),
            (11, "memory-size iomem 10"),
            (12, "ip subnet-zero"),
            (14, "no ip domain-lookup"),
            (30, "duplex auto"),
            (31, "speed auto"),
            (36, "duplex auto"),
            (37, "speed auto"),
            (39, "ip classless"),
            (41, "ip http server"),
            (45, "line con 0"),
            (46, "line aux 0"),
            (47, "line vty 0 4"),
            (48, "login"),
        ]
    );
    assert!(
        parsed
            .skipped
            .iter()
            .all(|s| s.reason == SkipReason::OutsideSubset)
    );
    assert!(!parsed.skipped.iter().any(|s| s.text.contains("cisco")));

    let fred = fred();
    assert_eq!(fred.skipped.len(), 17);
    assert_eq!(fred.skipped.first().map(|s| s.line), Some(1));
    assert_eq!(
        fred.skipped.last().map(|s| (s.line, s.text.as_str())),
        Some((45, "login"))
    );
}

/// Both configurations are complete: the cross-check finds nothing.
#[test]
fn no_diagnostics() {
    assert_eq!(daphne().diagnostics, vec![]);
    assert_eq!(fred().diagnostics, vec![]);
}

/// The seed document's lines may come with CRLF endings.
#[test]
fn crlf_line_endings() {
    let crlf = DAPHNE.replace('\n', "\r\n");
    let parsed = ios::parse(&crlf).expect("CRLF config loads");
    assert_eq!(parsed.config, daphne().config);
    assert_eq!(parsed.skipped.len(), daphne().skipped.len());
}
