//! Import, render, import again: the model survives the round trip, and
//! the importer reads every part of the subset as the text says.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use ted::acl::{
    AclItem, AclKind, AclName, Action, AddressMatch, Flow, IcmpMatch, IpProtocol, Logging,
    PortMatch, ProtocolMatch,
};
use ted::config::ios::{self, RenderOptions};
use ted::config::{
    AesKeySize, Config, CryptoMapEntry, DhGroup, EncapsulationMode, IsakmpAuthentication,
    IsakmpEncryption, IsakmpHash, IsakmpIdentity, Keepalive, KeepaliveMode, NextHop, PskPeer,
    SaLifetime, Transform,
};

/// A hand-written configuration using every command of the subset.
const FULL: &str = "\
hostname Hub-1
!
crypto isakmp policy 5
 encryption aes 256
 hash sha256
 authentication pre-share
 group 14
 lifetime 28800
crypto isakmp policy 20
 encryption 3des
 hash md5
 group 2
crypto isakmp key wildcard-key address 0.0.0.0 0.0.0.0
crypto isakmp key branch-key address 192.0.2.0 255.255.255.0 no-xauth
crypto isakmp key host-key address 198.51.100.7
crypto isakmp key fqdn-key hostname peer.example.net
crypto isakmp identity hostname
crypto isakmp keepalive 30 5 periodic
!
crypto ipsec security-association lifetime seconds 1800
crypto ipsec security-association lifetime kilobytes 102400
crypto ipsec transform-set strong esp-aes 256 esp-sha-hmac
crypto ipsec transform-set gcm esp-gcm 128
 mode transport
crypto ipsec transform-set belt-and-braces ah-sha-hmac esp-3des esp-md5-hmac comp-lzs
!
crypto dynamic-map dyn 10
 description remote offices
 set transform-set strong gcm
 set pfs group14
 match address OFFICES
crypto dynamic-map dyn 20
 set security-association lifetime seconds 900
 set transform-set belt-and-braces
!
crypto map outside local-address Loopback0
crypto map outside 10 ipsec-isakmp
 set peer 198.51.100.7
 set peer 198.51.100.8
 set security-association lifetime kilobytes 8192
 set transform-set strong
 set pfs
 match address 150
crypto map outside 20 ipsec-isakmp dynamic dyn
crypto map outside 30 ipsec-isakmp dynamic dyn discover
!
interface Loopback0
 ip address 203.0.113.1 255.255.255.255
!
interface FastEthernet0/0
 description uplink
 ip address 198.51.100.1 255.255.255.0
 ip address 198.51.100.129 255.255.255.128 secondary
 crypto map outside
!
interface Serial0/0
 no ip address
 shutdown
!
ip route 0.0.0.0 0.0.0.0 198.51.100.254
ip route 10.0.0.0 255.0.0.0 Serial0/0 192.0.2.9 200 name backup permanent tag 7
!
access-list 5 permit 10.9.0.0 0.0.255.255
access-list 5 deny any log
access-list 150 remark traffic to the partner
access-list 150 deny tcp any any eq telnet
access-list 150 permit udp host 10.1.1.1 range bootps bootpc 172.16.0.0 0.0.255.255 gt 1023
access-list 150 permit icmp 10.1.0.0 0.0.255.255 any echo
access-list 150 permit icmp 10.1.0.0 0.0.255.255 any 3 4
access-list 150 permit tcp 10.1.0.0 0.0.255.255 any established log-input
access-list 150 permit 47 10.1.0.0 0.0.255.255 172.16.0.0 0.0.255.255
access-list 150 permit ip 10.1.0.0 0.0.255.255 172.16.0.0 0.0.255.255 fragments
ip access-list extended OFFICES
 20 permit ip 10.2.0.0 0.0.255.255 10.128.0.0 0.127.255.255
 5 deny ip host 10.2.0.66 any
 30 permit udp 10.2.0.0 0.0.255.255 eq non500-isakmp any neq isakmp
ip access-list standard PRINTERS
 permit 10.3.0.0 0.0.0.255
end
";

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn full() -> Config {
    let parsed = ios::parse(FULL).expect("FULL imports");
    assert!(parsed.skipped.is_empty(), "{:?}", parsed.skipped);
    parsed.config
}

fn roundtrip(config: &Config) -> Config {
    let text = ios::render(config);
    let again = ios::parse(&text)
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .config;
    assert_eq!(ios::render(&again), text, "render is not a fixed point");
    again
}

#[test]
fn seed_configs_roundtrip() {
    for text in [
        include_str!("../../vectors/seed/daphne.cfg"),
        include_str!("../../vectors/seed/fred.cfg"),
    ] {
        let config = ios::parse(text).expect("seed config").config;
        assert_eq!(roundtrip(&config), config);
    }
}

#[test]
fn full_config_roundtrips() {
    let config = full();
    assert_eq!(roundtrip(&config), config);
}

#[test]
fn daphne_renders_as_its_running_config() {
    let config = ios::parse(include_str!("../../vectors/seed/daphne.cfg"))
        .expect("daphne")
        .config;
    let expected = "\
hostname Daphne
!
crypto isakmp policy 10
 authentication pre-share
crypto isakmp key abc123 address 0.0.0.0 0.0.0.0
!
crypto ipsec transform-set ted-transforms esp-des esp-md5-hmac
!
crypto dynamic-map ted-map 10
 set transform-set ted-transforms
 match address 101
!
crypto map tedtag 10 ipsec-isakmp dynamic ted-map discover
!
interface FastEthernet0/0
 ip address 11.11.11.1 255.255.255.0
 crypto map tedtag
!
interface FastEthernet0/1
 ip address 13.13.13.13 255.255.255.0
!
ip route 0.0.0.0 0.0.0.0 11.11.11.2
!
access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255
!
end
";
    assert_eq!(ios::render(&config), expected);
    let mut options = RenderOptions::default();
    options.redact_keys = true;
    let redacted = ios::render_with(&config, &options);
    assert!(redacted.contains("crypto isakmp key <redacted> address 0.0.0.0 0.0.0.0"));
    assert!(!redacted.contains("abc123"));
}

#[test]
fn full_config_isakmp_values() {
    let c = full();
    assert_eq!(c.hostname, "Hub-1");
    let p5 = c.isakmp.policy(5).expect("policy 5");
    assert_eq!(p5.encryption, IsakmpEncryption::Aes(AesKeySize::Aes256));
    assert_eq!(p5.hash, IsakmpHash::Sha256);
    assert_eq!(p5.authentication, IsakmpAuthentication::PreShare);
    assert_eq!(p5.group, DhGroup::Group14);
    assert_eq!(p5.lifetime, 28_800);
    let p20 = c.isakmp.policy(20).expect("policy 20");
    assert_eq!(p20.encryption, IsakmpEncryption::TripleDes);
    assert_eq!(p20.hash, IsakmpHash::Md5);
    assert_eq!(
        p20.authentication,
        IsakmpAuthentication::RsaSig,
        "IOS default"
    );
    assert_eq!(p20.group, DhGroup::Group2);
    assert_eq!(p20.lifetime, 86_400, "IOS default");
    let order: Vec<u16> = c.isakmp.policies().map(|p| p.priority).collect();
    assert_eq!(order, vec![5, 20]);

    let peers: Vec<&PskPeer> = c.isakmp.keys().iter().map(|k| &k.peer).collect();
    assert_eq!(
        peers,
        vec![
            &PskPeer::Address {
                address: ip(0, 0, 0, 0),
                mask: ip(0, 0, 0, 0)
            },
            &PskPeer::Address {
                address: ip(192, 0, 2, 0),
                mask: ip(255, 255, 255, 0)
            },
            &PskPeer::Address {
                address: ip(198, 51, 100, 7),
                mask: ip(255, 255, 255, 255)
            },
            &PskPeer::Hostname("peer.example.net".to_owned()),
        ]
    );
    assert!(c.isakmp.keys()[1].no_xauth);
    assert!(!c.isakmp.keys()[0].no_xauth);
    assert_eq!(c.isakmp.identity, IsakmpIdentity::Hostname);
    assert_eq!(
        c.isakmp.keepalive,
        Some(Keepalive {
            interval: 30,
            retry: 5,
            mode: KeepaliveMode::Periodic
        })
    );
}

#[test]
fn full_config_ipsec_values() {
    let c = full();
    assert_eq!(
        c.sa_lifetime,
        SaLifetime {
            seconds: 1800,
            kilobytes: 102_400
        }
    );
    let strong = c.transform_set("strong").expect("strong");
    assert_eq!(
        strong.transforms(),
        &[Transform::EspAes(AesKeySize::Aes256), Transform::EspShaHmac]
    );
    assert_eq!(strong.mode, EncapsulationMode::Tunnel);
    assert_eq!(strong.to_string(), "esp-aes 256 esp-sha-hmac");
    let gcm = c.transform_set("gcm").expect("gcm");
    assert_eq!(gcm.transforms(), &[Transform::EspGcm(AesKeySize::Aes128)]);
    assert_eq!(gcm.mode, EncapsulationMode::Transport);
    let bb = c.transform_set("belt-and-braces").expect("belt-and-braces");
    assert_eq!(bb.ah(), Some(Transform::AhShaHmac));
    assert_eq!(bb.esp_encryption(), Some(Transform::Esp3des));
    assert_eq!(bb.esp_authentication(), Some(Transform::EspMd5Hmac));
    assert_eq!(bb.compression(), Some(Transform::CompLzs));
}

#[test]
fn full_config_map_values() {
    let c = full();
    let dyn_map = c.dynamic_map("dyn").expect("dyn");
    let d10 = dyn_map.entry(10).expect("dyn 10");
    assert_eq!(d10.description.as_deref(), Some("remote offices"));
    assert_eq!(
        d10.transform_sets,
        vec!["strong".to_owned(), "gcm".to_owned()]
    );
    assert_eq!(d10.pfs, Some(DhGroup::Group14));
    assert_eq!(
        d10.match_address,
        Some(AclName::Named("OFFICES".to_owned()))
    );
    let d20 = dyn_map.entry(20).expect("dyn 20");
    assert_eq!(d20.lifetime.seconds, Some(900));
    assert_eq!(
        d20.lifetime.resolve(c.sa_lifetime),
        SaLifetime {
            seconds: 900,
            kilobytes: 102_400
        }
    );
    assert_eq!(d20.match_address, None);

    let map = c.crypto_map("outside").expect("outside");
    assert_eq!(
        map.local_address.as_ref().map(|n| n.as_str()),
        Some("Loopback0")
    );
    let Some(CryptoMapEntry::IpsecIsakmp(e10)) = map.entry(10) else {
        panic!("entry 10 is static");
    };
    assert_eq!(e10.peers, vec![ip(198, 51, 100, 7), ip(198, 51, 100, 8)]);
    assert_eq!(e10.lifetime.kilobytes, Some(8192));
    assert_eq!(e10.lifetime.seconds, None);
    assert_eq!(e10.pfs, Some(DhGroup::Group1), "`set pfs` alone is group1");
    assert_eq!(e10.match_address, Some(AclName::Numbered(150)));
    assert_eq!(
        map.entry(20),
        Some(&CryptoMapEntry::Dynamic {
            template: "dyn".to_owned(),
            discover: false
        })
    );
    assert_eq!(
        map.entry(30),
        Some(&CryptoMapEntry::Dynamic {
            template: "dyn".to_owned(),
            discover: true
        })
    );
    assert_eq!(
        c.crypto_map_local_address("outside"),
        Some(ip(203, 0, 113, 1))
    );
}

#[test]
fn full_config_interface_and_route_values() {
    let c = full();
    let names: Vec<&str> = c.interfaces().iter().map(|i| i.name().as_str()).collect();
    assert_eq!(names, vec!["Loopback0", "FastEthernet0/0", "Serial0/0"]);
    let fa = c.interface("fa0/0").expect("fa0/0");
    assert_eq!(fa.description.as_deref(), Some("uplink"));
    assert_eq!(fa.secondary.len(), 1);
    assert_eq!(fa.secondary[0].address, ip(198, 51, 100, 129));
    let se = c.interface("se0/0").expect("se0/0");
    assert!(se.shutdown);
    assert_eq!(se.address, None);

    let backup = &c.routes[1];
    assert_eq!(
        (backup.prefix, backup.mask),
        (ip(10, 0, 0, 0), ip(255, 0, 0, 0))
    );
    assert_eq!(
        backup.next_hop,
        NextHop::Interface {
            interface: ted::config::InterfaceName::new("Serial0/0"),
            address: Some(ip(192, 0, 2, 9))
        }
    );
    assert_eq!(backup.distance, 200);
    assert_eq!(backup.name.as_deref(), Some("backup"));
    assert!(backup.permanent);
    assert_eq!(backup.tag, Some(7));

    // 10/8 via the shut Serial0/0 still names it (a static route to an
    // interface); the default route resolves through FastEthernet0/0.
    let r = c.route(ip(10, 20, 30, 40)).expect("10/8");
    assert_eq!(
        (r.interface.as_str(), r.next_hop),
        ("Serial0/0", ip(192, 0, 2, 9))
    );
    let r = c.route(ip(8, 8, 8, 8)).expect("default");
    assert_eq!(
        (r.interface.as_str(), r.next_hop),
        ("FastEthernet0/0", ip(198, 51, 100, 254))
    );
    // The secondary subnet is connected.
    let r = c.route(ip(198, 51, 100, 200)).expect("secondary");
    assert_eq!(
        (r.interface.as_str(), r.next_hop),
        ("FastEthernet0/0", ip(198, 51, 100, 200))
    );
}

#[test]
fn full_config_access_list_values() {
    let c = full();
    let std5 = c.access_list(&AclName::Numbered(5)).expect("5");
    assert_eq!(std5.kind(), AclKind::Standard);
    let rules: Vec<_> = std5.rules().map(|(_, r)| r.clone()).collect();
    assert_eq!(
        rules[0],
        ted::acl::AclRule::standard(
            Action::Permit,
            AddressMatch::new(ip(10, 9, 0, 0), ip(0, 0, 255, 255))
        )
    );
    assert_eq!(rules[1].log(), Logging::Log);
    assert!(rules[1].source().is_any());

    let a150 = c.access_list(&AclName::Numbered(150)).expect("150");
    let entries = a150.entries();
    assert_eq!(entries.len(), 8);
    assert_eq!(
        entries[0].item(),
        &AclItem::Remark("traffic to the partner".to_owned())
    );
    let r: Vec<_> = a150.rules().map(|(_, r)| r).collect();
    assert_eq!(r[0].destination_port(), PortMatch::Eq(23));
    assert_eq!(r[0].action(), Action::Deny);
    assert_eq!(r[1].source_port(), PortMatch::Range(67, 68));
    assert_eq!(r[1].destination_port(), PortMatch::Gt(1023));
    assert_eq!(
        r[2].icmp(),
        Some(IcmpMatch {
            icmp_type: 8,
            code: None
        })
    );
    assert_eq!(
        r[3].icmp(),
        Some(IcmpMatch {
            icmp_type: 3,
            code: Some(4)
        })
    );
    assert!(r[4].established());
    assert_eq!(r[4].log(), Logging::LogInput);
    assert_eq!(r[5].protocol(), ProtocolMatch::Protocol(IpProtocol::GRE));
    assert!(r[6].fragments());
    // Shown with IOS's names: 3/4 is packet-too-big, 47 is gre.
    let shown: Vec<String> = r.iter().map(|r| r.to_string()).collect();
    assert_eq!(
        shown,
        vec![
            "deny tcp any any eq telnet",
            "permit udp host 10.1.1.1 range bootps bootpc 172.16.0.0 0.0.255.255 gt 1023",
            "permit icmp 10.1.0.0 0.0.255.255 any echo",
            "permit icmp 10.1.0.0 0.0.255.255 any packet-too-big",
            "permit tcp 10.1.0.0 0.0.255.255 any established log-input",
            "permit gre 10.1.0.0 0.0.255.255 172.16.0.0 0.0.255.255",
            "permit ip 10.1.0.0 0.0.255.255 172.16.0.0 0.0.255.255 fragments",
        ]
    );

    // Named list: sequence numbers put line 5 first.
    let offices = c
        .access_list(&AclName::Named("OFFICES".to_owned()))
        .expect("OFFICES");
    let seqs: Vec<u32> = offices.entries().iter().map(|e| e.seq()).collect();
    assert_eq!(seqs, vec![5, 20, 30]);
    assert!(!offices.permits(&Flow::tcp(ip(10, 2, 0, 66), 1000, ip(10, 128, 0, 1), 80)));
    assert!(offices.permits(&Flow::tcp(ip(10, 2, 0, 67), 1000, ip(10, 128, 0, 1), 80)));
    let (_, r30) = offices.rules().nth(2).expect("line 30");
    assert_eq!(r30.source_port(), PortMatch::Eq(4500));
    assert_eq!(r30.destination_port(), PortMatch::Neq(500));

    let printers = c
        .access_list(&AclName::Named("PRINTERS".to_owned()))
        .expect("PRINTERS");
    assert_eq!(printers.kind(), AclKind::Standard);
    assert!(printers.permits(&Flow::udp(ip(10, 3, 0, 9), 1, ip(1, 1, 1, 1), 2)));
}

/// Named lists with explicit sequence numbers render with them, and a
/// numbered list whose numbering is not 10, 20, ... renders as a named
/// list so that the numbers survive.
#[test]
fn sequence_numbers_survive() {
    let text = "\
ip access-list extended 120
 15 permit ip host 1.1.1.1 any
 7 deny ip any any
";
    let config = ios::parse(text).expect("imports").config;
    let rendered = ios::render(&config);
    assert!(
        rendered.contains(
            "ip access-list extended 120\n 7 deny ip any any\n 15 permit ip host 1.1.1.1 any\n"
        ),
        "{rendered}"
    );
    assert_eq!(roundtrip(&config), config);
}

/// `no` forms remove objects or restore defaults.
#[test]
fn no_forms() {
    let text = format!(
        "{FULL}\
no crypto isakmp policy 20
crypto isakmp policy 5
 no encryption
 no hash
 no group
 no lifetime
no crypto isakmp key branch-key address 192.0.2.0 255.255.255.0
no crypto isakmp key fqdn-key hostname peer.example.net
no crypto isakmp identity
no crypto isakmp keepalive
no crypto ipsec security-association lifetime seconds
crypto ipsec transform-set gcm esp-gcm 128
 no mode
no crypto ipsec transform-set belt-and-braces
crypto dynamic-map dyn 10
 no set pfs
 no description
 no set transform-set
 set transform-set strong
no crypto dynamic-map dyn 20
crypto map outside 10 ipsec-isakmp
 no set peer 198.51.100.7
 no set security-association lifetime kilobytes
 no match address
no crypto map outside 30
no crypto map outside local-address
interface FastEthernet0/0
 no description
 no crypto map
interface Serial0/0
 no shutdown
no interface Loopback0
no ip route 10.0.0.0 255.0.0.0
no access-list 5
no ip access-list standard PRINTERS
ip access-list extended OFFICES
 no 5
 no permit udp 10.2.0.0 0.0.255.255 eq non500-isakmp any neq isakmp
no hostname
"
    )
    .replace("end\n", "");
    let c = ios::parse(&text).expect("imports").config;
    assert_eq!(c.hostname, "Router");
    assert_eq!(
        c.isakmp.policies().map(|p| p.priority).collect::<Vec<_>>(),
        vec![5]
    );
    let p5 = c.isakmp.policy(5).expect("policy 5");
    assert_eq!(
        (p5.encryption, p5.hash, p5.group, p5.lifetime),
        (
            IsakmpEncryption::Des,
            IsakmpHash::Sha,
            DhGroup::Group1,
            86_400
        )
    );
    assert_eq!(
        p5.authentication,
        IsakmpAuthentication::PreShare,
        "not negated"
    );
    assert_eq!(c.isakmp.keys().len(), 2);
    assert_eq!(c.isakmp.identity, IsakmpIdentity::Address);
    assert_eq!(c.isakmp.keepalive, None);
    assert_eq!(
        c.sa_lifetime,
        SaLifetime {
            seconds: 3600,
            kilobytes: 102_400
        }
    );
    assert_eq!(
        c.transform_set("gcm").map(|t| t.mode),
        Some(EncapsulationMode::Tunnel)
    );
    assert!(c.transform_set("belt-and-braces").is_none());
    let d = c.dynamic_map("dyn").expect("dyn");
    assert_eq!(d.entries().map(|(s, _)| s).collect::<Vec<_>>(), vec![10]);
    let d10 = d.entry(10).expect("dyn 10");
    assert_eq!((d10.pfs, d10.description.as_ref()), (None, None));
    assert_eq!(d10.transform_sets, vec!["strong".to_owned()]);
    let map = c.crypto_map("outside").expect("outside");
    assert_eq!(map.local_address, None);
    assert_eq!(
        map.entries().map(|(s, _)| s).collect::<Vec<_>>(),
        vec![10, 20]
    );
    let e10 = map.entry(10).and_then(|e| e.params()).expect("static");
    assert_eq!(e10.peers, vec![ip(198, 51, 100, 8)]);
    assert_eq!(
        (e10.lifetime.kilobytes, e10.match_address.as_ref()),
        (None, None)
    );
    let fa = c.interface("FastEthernet0/0").expect("fa0/0");
    assert_eq!(
        (fa.description.as_ref(), fa.crypto_map.as_ref()),
        (None, None)
    );
    assert!(!c.interface("Serial0/0").expect("se0/0").shutdown);
    assert!(c.interface("Loopback0").is_none());
    assert_eq!(c.routes.len(), 1);
    assert!(c.access_list(&AclName::Numbered(5)).is_none());
    assert!(
        c.access_list(&AclName::Named("PRINTERS".to_owned()))
            .is_none()
    );
    let offices = c
        .access_list(&AclName::Named("OFFICES".to_owned()))
        .expect("OFFICES");
    assert_eq!(
        offices
            .entries()
            .iter()
            .map(|e| e.seq())
            .collect::<Vec<_>>(),
        vec![20]
    );
    assert_eq!(roundtrip(&c), c);
}

/// Typed at the prompt, sub-mode commands come without indentation; the
/// crypto and access list sub-modes accept them as IOS does.
#[test]
fn unindented_sub_mode_commands() {
    let text = "\
crypto isakmp policy 10
authentication pre-share
group 2
crypto ipsec transform-set t esp-3des esp-sha-hmac
mode transport
crypto map m 10 ipsec-isakmp
set peer 192.0.2.1
set transform-set t
match address 101
ip access-list extended X
permit ip any host 192.0.2.1
exit
hostname after-exit
";
    let parsed = ios::parse(text).expect("imports");
    let c = parsed.config;
    let p = c.isakmp.policy(10).expect("policy 10");
    assert_eq!(
        (p.authentication, p.group),
        (IsakmpAuthentication::PreShare, DhGroup::Group2)
    );
    assert_eq!(
        c.transform_set("t").map(|t| t.mode),
        Some(EncapsulationMode::Transport)
    );
    let e = c
        .crypto_map("m")
        .and_then(|m| m.entry(10))
        .and_then(|e| e.params())
        .expect("m 10");
    assert_eq!(e.peers, vec![ip(192, 0, 2, 1)]);
    assert_eq!(e.match_address, Some(AclName::Numbered(101)));
    assert_eq!(
        c.access_list(&AclName::Named("X".to_owned()))
            .map(|a| a.rules().count()),
        Some(1)
    );
    assert_eq!(c.hostname, "after-exit");
    assert!(parsed.skipped.is_empty());
}

/// Keywords are case-insensitive; names keep their case.
#[test]
fn keyword_case() {
    let c = ios::parse("CRYPTO ISAKMP POLICY 1\n AUTHENTICATION PRE-SHARE\nCrypto Ipsec Transform-Set MySet ESP-AES 192 ESP-SHA-HMAC\n")
        .expect("imports")
        .config;
    assert_eq!(
        c.isakmp.policy(1).map(|p| p.authentication),
        Some(IsakmpAuthentication::PreShare)
    );
    assert_eq!(
        c.transform_set("MySet").map(|t| t.transforms().to_vec()),
        Some(vec![
            Transform::EspAes(AesKeySize::Aes192),
            Transform::EspShaHmac
        ])
    );
    assert!(c.transform_set("myset").is_none());
}

#[test]
fn nat_traversal_lines_import_render_and_reach_the_engine() {
    use ted::gateway::{Gateway, GatewayOptions};
    let seed = include_str!("../../vectors/seed/daphne.cfg");
    // The defaults: NAT-T on, no NAT keepalive line.
    let plain = ios::parse(seed).unwrap().config;
    assert!(plain.nat_transparency);
    assert_eq!(plain.isakmp.nat_keepalive, None);
    // Lines go before the configuration's `end`, where the import stops.
    let body = seed.trim_end().strip_suffix("end").unwrap();
    let text = format!(
        "{body}crypto isakmp nat keepalive 30\nno crypto ipsec nat-transparency udp-encapsulation\n"
    );
    let config = ios::parse(&text).unwrap().config;
    assert_eq!(config.isakmp.nat_keepalive, Some(30));
    assert!(!config.nat_transparency);
    let back = roundtrip(&config);
    assert_eq!(back.isakmp.nat_keepalive, Some(30));
    assert!(!back.nat_transparency);
    let rendered = ios::render(&config);
    assert!(rendered.contains("crypto isakmp nat keepalive 30\n"));
    assert!(rendered.contains("no crypto ipsec nat-transparency udp-encapsulation\n"));
    // Out of IOS's range: refused with the line.
    let bad = format!("{body}crypto isakmp nat keepalive 4\n");
    assert!(ios::parse(&bad).is_err());
    // `no` forms undo, and the positive form turns NAT-T back on.
    let undone = ios::parse(&format!(
        "{text}no crypto isakmp nat keepalive\ncrypto ipsec nat-transparency udp-encapsulation\n"
    ))
    .unwrap()
    .config;
    assert_eq!(undone.isakmp.nat_keepalive, None);
    assert!(undone.nat_transparency);
    // The engine gets them.
    let entropy =
        || Box::new(<rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(1));
    let gw = Gateway::new(
        config,
        "FastEthernet0/0",
        entropy(),
        GatewayOptions::default(),
    )
    .unwrap();
    assert_eq!(gw.ike().config().nat_t.mode, ike_sm::NatTMode::Disabled);
    let mut keep = plain.clone();
    keep.isakmp.nat_keepalive = Some(30);
    let gw = Gateway::new(
        keep,
        "FastEthernet0/0",
        entropy(),
        GatewayOptions::default(),
    )
    .unwrap();
    assert_eq!(gw.ike().config().nat_t.mode, ike_sm::NatTMode::Enabled);
    assert_eq!(
        gw.ike().config().nat_t.keepalive,
        Some(std::time::Duration::from_secs(30))
    );
}

#[test]
fn aggressive_mode_disable_imports_renders_and_reaches_the_engine() {
    use ted::gateway::{Gateway, GatewayOptions};
    let seed = include_str!("../../vectors/seed/fred.cfg");
    let body = seed.trim_end().strip_suffix("end").unwrap();
    let entropy =
        || Box::new(<rand_chacha::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(2));
    let me = ike_sm::Identity::Address("11.11.11.1".parse().unwrap());
    // As IOS: answered unless disabled.
    let plain = ios::parse(seed).unwrap().config;
    assert!(!plain.isakmp.aggressive_mode_disabled);
    let mut gw = Gateway::new(
        plain,
        "FastEthernet0/0",
        entropy(),
        GatewayOptions::default(),
    )
    .unwrap();
    assert!(
        gw.ike()
            .config()
            .aggressive_mode
            .answers("11.11.11.1".parse().unwrap(), &me)
    );
    // One warning, at start, that the key is exposed.
    let warnings = |gw: &mut Gateway| {
        std::iter::from_fn(|| gw.poll_event())
            .filter(|e| matches!(e, ted::gateway::Event::AggressiveModeAnswered { .. }))
            .count()
    };
    assert_eq!(warnings(&mut gw), 1);
    let text = format!("{body}crypto isakmp aggressive-mode disable\n");
    let config = ios::parse(&text).unwrap().config;
    assert!(config.isakmp.aggressive_mode_disabled);
    assert!(ios::render(&config).contains("crypto isakmp aggressive-mode disable\n"));
    assert!(roundtrip(&config).isakmp.aggressive_mode_disabled);
    let mut gw = Gateway::new(
        config,
        "FastEthernet0/0",
        entropy(),
        GatewayOptions::default(),
    )
    .unwrap();
    assert!(
        !gw.ike()
            .config()
            .aggressive_mode
            .answers("11.11.11.1".parse().unwrap(), &me)
    );
    assert_eq!(warnings(&mut gw), 0);
    // `no` undoes it; a typo is refused.
    let undone = ios::parse(&format!("{text}no crypto isakmp aggressive-mode disable\n"))
        .unwrap()
        .config;
    assert!(!undone.isakmp.aggressive_mode_disabled);
    assert!(ios::parse(&format!("{body}crypto isakmp aggressive-mode enable\n")).is_err());
}
