//! Access list matching: wildcards (contiguous or not), port operators,
//! protocol numbers, ICMP types, `established`, fragments, first match
//! wins, implicit deny. Semantics per the Cisco IOS IP command reference
//! (`access-list (IP extended)`) and Cisco's "Access Control Lists and IP
//! Fragments".

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use ted::acl::{
    AccessList, AclItem, AclKind, AclName, AclRule, Action, AddressMatch, Flow, IcmpMatch,
    IpProtocol, PortMatch, ProtocolMatch, port_from_name,
};
use ted::config::ios;

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

/// The list `101` of a configuration made of `access-list 101 ...` lines.
fn acl(lines: &[&str]) -> AccessList {
    let text: String = lines
        .iter()
        .map(|l| format!("access-list 101 {l}\n"))
        .collect();
    let config = ios::parse(&text).expect("imports").config;
    config
        .access_list(&AclName::Numbered(101))
        .expect("101")
        .clone()
}

fn any_flow(src: Ipv4Addr, dst: Ipv4Addr) -> Flow {
    Flow::ip(src, dst, IpProtocol(99))
}

/// `10.0.0.1 0.0.255.0` matches 10.0.X.1 for every X and nothing else: a
/// legal, non-contiguous wildcard.
#[test]
fn non_contiguous_wildcard() {
    let list = acl(&["permit ip 10.0.0.1 0.0.255.0 any"]);
    for x in [0u8, 5, 128, 255] {
        assert!(
            list.permits(&any_flow(ip(10, 0, x, 1), ip(1, 2, 3, 4))),
            "10.0.{x}.1"
        );
    }
    for src in [
        ip(10, 0, 5, 2),
        ip(10, 1, 5, 1),
        ip(11, 0, 5, 1),
        ip(10, 0, 5, 0),
    ] {
        assert!(!list.permits(&any_flow(src, ip(1, 2, 3, 4))), "{src}");
    }
    let (_, rule) = list.rules().next().unwrap();
    assert!(!rule.source().is_contiguous());
    assert_eq!(rule.source().netmask(), None);

    // Every other address: 0.0.0.0 255.255.255.254 wildcard on the last bit
    // only differs from "even addresses" 0.0.0.0 254.255.255.255.
    let evens = acl(&["permit ip 0.0.0.0 255.255.255.254 any"]);
    assert!(evens.permits(&any_flow(ip(7, 7, 7, 8), ip(1, 1, 1, 1))));
    assert!(!evens.permits(&any_flow(ip(7, 7, 7, 9), ip(1, 1, 1, 1))));
}

/// The address bits under the wildcard are ignored, and IOS stores them
/// cleared: `10.1.1.7 0.0.0.255` is `10.1.1.0 0.0.0.255`.
#[test]
fn address_is_normalised() {
    let a = AddressMatch::new(ip(10, 1, 1, 7), ip(0, 0, 0, 255));
    assert_eq!(a, AddressMatch::new(ip(10, 1, 1, 0), ip(0, 0, 0, 255)));
    assert_eq!(a.address(), ip(10, 1, 1, 0));
    assert_eq!(a.to_string(), "10.1.1.0 0.0.0.255");
    assert_eq!(
        AddressMatch::new(ip(9, 9, 9, 9), ip(255, 255, 255, 255)),
        AddressMatch::ANY
    );
    assert_eq!(AddressMatch::ANY.to_string(), "any");
    assert_eq!(
        AddressMatch::host(ip(1, 2, 3, 4)).to_string(),
        "host 1.2.3.4"
    );
    assert_eq!(AddressMatch::prefix(ip(10, 1, 1, 7), 24), a);
    assert_eq!(AddressMatch::prefix(ip(10, 1, 1, 7), 0), AddressMatch::ANY);
    assert_eq!(
        AddressMatch::prefix(ip(10, 1, 1, 7), 40),
        AddressMatch::host(ip(10, 1, 1, 7))
    );
    assert_eq!(a.netmask(), Some(ip(255, 255, 255, 0)));
}

#[test]
fn port_operators() {
    let (s, d) = (ip(10, 0, 0, 1), ip(10, 0, 0, 2));
    let cases: &[(&str, &[(u16, bool)])] = &[
        (
            "permit tcp any any eq 80",
            &[(80, true), (79, false), (81, false)],
        ),
        (
            "permit tcp any any neq 80",
            &[(80, false), (79, true), (0, true), (65_535, true)],
        ),
        (
            "permit tcp any any lt 1024",
            &[(1023, true), (1024, false), (0, true)],
        ),
        (
            "permit tcp any any gt 1023",
            &[(1024, true), (1023, false), (65_535, true)],
        ),
        (
            "permit tcp any any range 100 200",
            &[
                (99, false),
                (100, true),
                (150, true),
                (200, true),
                (201, false),
            ],
        ),
        ("permit tcp any any range 80 80", &[(80, true), (81, false)]),
        ("permit tcp any any lt 0", &[(0, false), (1, false)]),
        ("permit tcp any any gt 65535", &[(65_535, false)]),
    ];
    for (line, checks) in cases {
        let list = acl(&[line]);
        for &(port, expected) in *checks {
            assert_eq!(
                list.permits(&Flow::tcp(s, 40_000, d, port)),
                expected,
                "{line}: port {port}"
            );
        }
    }
    // Source port conditions look at the source port only.
    let list = acl(&["permit udp any eq 500 any"]);
    assert!(list.permits(&Flow::udp(s, 500, d, 4500)));
    assert!(!list.permits(&Flow::udp(s, 4500, d, 500)));
    // Both sides at once.
    let list = acl(&["permit udp any eq isakmp any eq isakmp"]);
    assert!(list.permits(&Flow::udp(s, 500, d, 500)));
    assert!(!list.permits(&Flow::udp(s, 500, d, 501)));
    // A TCP entry does not match UDP with the same ports.
    let list = acl(&["permit tcp any any eq 53"]);
    assert!(!list.permits(&Flow::udp(s, 1, d, 53)));
}

/// IOS's port names, per protocol (IANA numbers).
#[test]
fn port_names() {
    let tcp = |n| port_from_name(IpProtocol::TCP, n);
    let udp = |n| port_from_name(IpProtocol::UDP, n);
    assert_eq!(tcp("www"), Some(80));
    assert_eq!(tcp("telnet"), Some(23));
    assert_eq!(tcp("ftp-data"), Some(20));
    assert_eq!(tcp("ftp"), Some(21));
    assert_eq!(tcp("smtp"), Some(25));
    assert_eq!(tcp("bgp"), Some(179));
    assert_eq!(tcp("cmd"), Some(514));
    assert_eq!(tcp("WWW"), Some(80));
    assert_eq!(udp("isakmp"), Some(500));
    assert_eq!(udp("non500-isakmp"), Some(4500));
    assert_eq!(udp("bootps"), Some(67));
    assert_eq!(udp("bootpc"), Some(68));
    assert_eq!(udp("syslog"), Some(514));
    assert_eq!(udp("snmp"), Some(161));
    assert_eq!(udp("ntp"), Some(123));
    assert_eq!(tcp("domain"), Some(53));
    assert_eq!(udp("domain"), Some(53));
    assert_eq!(tcp("isakmp"), None);
    assert_eq!(udp("www"), None);
    assert_eq!(port_from_name(IpProtocol::ICMP, "echo"), None);

    let list = acl(&["permit udp any any eq non500-isakmp"]);
    assert!(list.permits(&Flow::udp(ip(1, 1, 1, 1), 4500, ip(2, 2, 2, 2), 4500)));
    // Shown by name again, per protocol: 514 is cmd for TCP, syslog for UDP.
    let list = acl(&[
        "permit tcp any any eq 514",
        "permit udp any any eq 514",
        "permit tcp any any eq 4500",
    ]);
    let shown: Vec<String> = list.rules().map(|(_, r)| r.to_string()).collect();
    assert_eq!(
        shown,
        vec![
            "permit tcp any any eq cmd",
            "permit udp any any eq syslog",
            "permit tcp any any eq 4500"
        ]
    );
}

#[test]
fn protocols_by_name_and_number() {
    let (s, d) = (ip(1, 1, 1, 1), ip(2, 2, 2, 2));
    let list = acl(&["permit 50 any any"]);
    assert!(list.permits(&Flow::ip(s, d, IpProtocol::ESP)));
    assert!(!list.permits(&Flow::ip(s, d, IpProtocol::AH)));
    let (_, rule) = list.rules().next().unwrap();
    assert_eq!(rule.protocol(), ProtocolMatch::Protocol(IpProtocol::ESP));
    assert_eq!(rule.to_string(), "permit esp any any");

    let list = acl(&[
        "permit ahp any any",
        "permit gre any any",
        "permit 200 any any",
    ]);
    assert!(list.permits(&Flow::ip(s, d, IpProtocol(51))));
    assert!(list.permits(&Flow::ip(s, d, IpProtocol(47))));
    assert!(list.permits(&Flow::ip(s, d, IpProtocol(200))));
    assert!(!list.permits(&Flow::ip(s, d, IpProtocol(201))));
    assert!(!list.permits(&Flow::udp(s, 1, d, 1)));
    let shown: Vec<String> = list.rules().map(|(_, r)| r.to_string()).collect();
    assert_eq!(
        shown,
        vec![
            "permit ahp any any",
            "permit gre any any",
            "permit 200 any any"
        ]
    );

    // `ip` is every protocol, ports or not.
    let list = acl(&["permit ip any any"]);
    for flow in [
        Flow::ip(s, d, IpProtocol(0)),
        Flow::tcp(s, 1, d, 2),
        Flow::icmp(s, d, 0, 0),
    ] {
        assert!(list.permits(&flow), "{flow}");
    }
    assert_eq!(IpProtocol::from_ios_keyword("ESP"), Some(IpProtocol::ESP));
    assert_eq!(IpProtocol::from_ios_keyword("ip"), None);
    assert_eq!(format!("{:?}", IpProtocol(50)), "IpProtocol(esp)");
    assert_eq!(format!("{:?}", IpProtocol(200)), "IpProtocol(0xc8)");
}

#[test]
fn first_match_wins_and_implicit_deny() {
    let (s, d) = (ip(10, 1, 1, 5), ip(172, 16, 0, 1));
    let deny_first = acl(&[
        "deny ip host 10.1.1.5 any",
        "permit ip 10.1.1.0 0.0.0.255 any",
    ]);
    let permit_first = acl(&[
        "permit ip 10.1.1.0 0.0.0.255 any",
        "deny ip host 10.1.1.5 any",
    ]);
    let flow = any_flow(s, d);
    assert!(!deny_first.permits(&flow));
    assert_eq!(
        deny_first
            .first_match(&flow)
            .map(|(seq, r)| (seq, r.action())),
        Some((10, Action::Deny))
    );
    assert!(permit_first.permits(&flow));
    assert_eq!(
        permit_first
            .first_match(&flow)
            .map(|(seq, r)| (seq, r.action())),
        Some((10, Action::Permit))
    );
    // A neighbour is permitted by both.
    assert!(deny_first.permits(&any_flow(ip(10, 1, 1, 6), d)));
    assert_eq!(
        deny_first
            .first_match(&any_flow(ip(10, 1, 1, 6), d))
            .map(|(s, _)| s),
        Some(20)
    );
    // Nothing matches: implicit deny.
    let outside = any_flow(ip(10, 1, 2, 5), d);
    assert_eq!(deny_first.first_match(&outside), None);
    assert!(!deny_first.permits(&outside));
    // An empty list denies everything; remarks do not match.
    let remarks = acl(&["remark nothing but words"]);
    assert!(!remarks.permits(&flow));
    assert_eq!(remarks.rules().count(), 0);
    assert_eq!(remarks.entries().len(), 1);
}

#[test]
fn icmp_types_and_codes() {
    let (s, d) = (ip(1, 1, 1, 1), ip(2, 2, 2, 2));
    let list = acl(&["permit icmp any any echo"]);
    assert!(list.permits(&Flow::icmp(s, d, 8, 0)));
    assert!(
        list.permits(&Flow::icmp(s, d, 8, 7)),
        "no code given: every code"
    );
    assert!(!list.permits(&Flow::icmp(s, d, 0, 0)));
    let list = acl(&["permit icmp any any port-unreachable"]);
    assert!(list.permits(&Flow::icmp(s, d, 3, 3)));
    assert!(!list.permits(&Flow::icmp(s, d, 3, 1)));
    let list = acl(&["permit icmp any any 11 1"]);
    assert!(list.permits(&Flow::icmp(s, d, 11, 1)));
    assert!(!list.permits(&Flow::icmp(s, d, 11, 0)));
    assert_eq!(
        list.rules().next().unwrap().1.to_string(),
        "permit icmp any any reassembly-timeout"
    );
    let list = acl(&["permit icmp any any 11 9"]);
    assert_eq!(
        list.rules().next().unwrap().1.to_string(),
        "permit icmp any any 11 9"
    );
    let list = acl(&["permit icmp any any 42"]);
    assert_eq!(
        list.rules().next().unwrap().1.to_string(),
        "permit icmp any any 42"
    );
    // Without a type, every ICMP message.
    let list = acl(&["permit icmp any any"]);
    assert!(list.permits(&Flow::icmp(s, d, 13, 0)));
    assert!(!list.permits(&Flow::udp(s, 1, d, 1)));
    assert_eq!(
        IcmpMatch::from_ios_name("echo-reply"),
        Some(IcmpMatch {
            icmp_type: 0,
            code: None
        })
    );
    assert_eq!(
        IcmpMatch::from_ios_name("ttl-exceeded"),
        Some(IcmpMatch {
            icmp_type: 11,
            code: Some(0)
        })
    );
    assert_eq!(
        IcmpMatch::from_ios_name("administratively-prohibited").map(|m| m.code),
        Some(Some(13))
    );
}

/// `established` matches segments with ACK or RST (RFC 9293 flags 0x10,
/// 0x04).
#[test]
fn established() {
    let (s, d) = (ip(1, 1, 1, 1), ip(2, 2, 2, 2));
    let list = acl(&["permit tcp any any established"]);
    assert!(
        list.permits(&Flow::tcp_with_flags(s, 80, d, 40_000, 0x10)),
        "ACK"
    );
    assert!(
        list.permits(&Flow::tcp_with_flags(s, 80, d, 40_000, 0x04)),
        "RST"
    );
    assert!(
        list.permits(&Flow::tcp_with_flags(s, 80, d, 40_000, 0x12)),
        "SYN+ACK"
    );
    assert!(
        !list.permits(&Flow::tcp_with_flags(s, 80, d, 40_000, 0x02)),
        "SYN"
    );
    assert!(!list.permits(&Flow::tcp_with_flags(s, 80, d, 40_000, 0x00)));
    // Flags unknown: a permit gives the benefit of the doubt, a deny does
    // not apply (as for fragments).
    assert!(list.permits(&Flow::tcp(s, 80, d, 40_000)));
    let deny = acl(&["deny tcp any any established", "permit ip any any"]);
    assert_eq!(
        deny.first_match(&Flow::tcp(s, 80, d, 1)).map(|(s, _)| s),
        Some(20)
    );
    assert_eq!(
        deny.first_match(&Flow::tcp_with_flags(s, 80, d, 1, 0x10))
            .map(|(s, _)| s),
        Some(10)
    );
}

/// Cisco, "Access Control Lists and IP Fragments": a non-initial fragment
/// has no ports; an entry with ports applies through its layer-3 part, a
/// permit matching and a deny passing it on; `fragments` entries apply to
/// non-initial fragments only.
#[test]
fn fragments() {
    let (s, d) = (ip(10, 1, 1, 1), ip(10, 2, 2, 2));
    let frag = Flow::fragment(s, d, IpProtocol::TCP);

    let list = acl(&["permit tcp host 10.1.1.1 host 10.2.2.2 eq www"]);
    assert!(
        list.permits(&frag),
        "permit with ports matches the fragment on layer 3"
    );
    assert!(
        !list.permits(&Flow::fragment(s, ip(10, 2, 2, 3), IpProtocol::TCP)),
        "layer 3 must match"
    );
    assert!(
        !list.permits(&Flow::fragment(s, d, IpProtocol::UDP)),
        "protocol is layer 3"
    );

    let list = acl(&[
        "deny tcp host 10.1.1.1 host 10.2.2.2 eq telnet",
        "permit tcp any any",
    ]);
    assert_eq!(
        list.first_match(&frag).map(|(s, _)| s),
        Some(20),
        "deny with ports is skipped"
    );
    assert_eq!(
        list.first_match(&Flow::tcp(s, 1, d, 23)).map(|(s, _)| s),
        Some(10)
    );

    let list = acl(&["deny ip any any fragments", "permit ip any any"]);
    assert_eq!(list.first_match(&frag).map(|(s, _)| s), Some(10));
    assert_eq!(
        list.first_match(&Flow::tcp(s, 1, d, 80)).map(|(s, _)| s),
        Some(20)
    );
    assert_eq!(
        list.first_match(&Flow::ip(s, d, IpProtocol::ESP))
            .map(|(s, _)| s),
        Some(20)
    );

    // A packet too short for its ports is treated like a fragment.
    let truncated = Flow::ip(s, d, IpProtocol::TCP);
    let list = acl(&["deny tcp any any eq 80", "permit tcp any any eq 443"]);
    assert_eq!(list.first_match(&truncated).map(|(s, _)| s), Some(20));
    assert_eq!(
        list.first_match(&Flow::tcp(s, 1, d, 80)).map(|(s, _)| s),
        Some(10)
    );
}

/// Standard lists match the source only.
#[test]
fn standard_lists() {
    let config = ios::parse(
        "access-list 1 permit 10.0.0.0 0.255.255.255\naccess-list 1 deny host 11.1.1.1\naccess-list 1 permit 11.1.1.0 0.0.0.255\naccess-list 2 permit 11.1.1.1\n",
    )
    .expect("imports")
    .config;
    let one = config.access_list(&AclName::Numbered(1)).expect("1");
    assert_eq!(one.kind(), AclKind::Standard);
    assert!(one.permits(&Flow::udp(ip(10, 200, 1, 1), 1, ip(99, 99, 99, 99), 2)));
    assert!(!one.permits(&Flow::udp(ip(11, 1, 1, 1), 1, ip(10, 0, 0, 1), 2)));
    assert!(one.permits(&Flow::udp(ip(11, 1, 1, 2), 1, ip(10, 0, 0, 1), 2)));
    let two = config.access_list(&AclName::Numbered(2)).expect("2");
    let (_, rule) = two.rules().next().unwrap();
    assert!(rule.source().is_host(), "a lone address is a host");
    assert_eq!(rule.display_standard().to_string(), "permit 11.1.1.1");
    let (_, rule) = one.rules().next().unwrap();
    assert_eq!(
        rule.display_standard().to_string(),
        "permit 10.0.0.0 0.255.255.255"
    );
    // The model refuses an extended entry in a standard list.
    let mut list = AccessList::new(AclName::Named("S".to_owned()), AclKind::Standard).unwrap();
    let extended = AclRule::new(
        Action::Permit,
        ProtocolMatch::Ip,
        AddressMatch::ANY,
        AddressMatch::host(ip(1, 1, 1, 1)),
    );
    assert!(list.push(AclItem::Rule(extended)).is_err());
}

/// Lines inserted by sequence number are evaluated in that order.
#[test]
fn sequence_numbers_order_evaluation() {
    let config = ios::parse(
        "ip access-list extended X\n permit ip any any\n 5 deny ip host 1.1.1.1 any\n 15 deny ip host 2.2.2.2 any\n",
    )
    .expect("imports")
    .config;
    let x = config
        .access_list(&AclName::Named("X".to_owned()))
        .expect("X");
    assert_eq!(
        x.entries().iter().map(|e| e.seq()).collect::<Vec<_>>(),
        vec![5, 10, 15]
    );
    assert!(!x.permits(&any_flow(ip(1, 1, 1, 1), ip(3, 3, 3, 3))));
    assert!(
        x.permits(&any_flow(ip(2, 2, 2, 2), ip(3, 3, 3, 3))),
        "line 10 comes before 15"
    );
}

/// The model's `with_*` methods refuse what IOS refuses.
#[test]
fn rule_constraints() {
    let any = AddressMatch::ANY;
    let ip_rule = AclRule::new(Action::Permit, ProtocolMatch::Ip, any, any);
    assert!(
        ip_rule
            .clone()
            .with_ports(PortMatch::Eq(1), PortMatch::Any)
            .is_err()
    );
    assert!(
        ip_rule
            .clone()
            .with_ports(PortMatch::Any, PortMatch::Any)
            .is_ok()
    );
    assert!(
        ip_rule
            .clone()
            .with_icmp(IcmpMatch {
                icmp_type: 8,
                code: None
            })
            .is_err()
    );
    assert!(ip_rule.clone().with_established().is_err());
    let tcp = AclRule::new(
        Action::Permit,
        ProtocolMatch::Protocol(IpProtocol::TCP),
        any,
        any,
    );
    assert!(
        tcp.clone()
            .with_ports(PortMatch::Range(5, 4), PortMatch::Any)
            .is_err()
    );
    assert!(
        tcp.clone()
            .with_established()
            .unwrap()
            .with_fragments()
            .is_err()
    );
    assert!(
        tcp.clone()
            .with_fragments()
            .unwrap()
            .with_ports(PortMatch::Any, PortMatch::Eq(1))
            .is_err()
    );
    let icmp = AclRule::new(
        Action::Permit,
        ProtocolMatch::Protocol(IpProtocol::ICMP),
        any,
        any,
    );
    assert!(
        icmp.clone()
            .with_ports(PortMatch::Eq(1), PortMatch::Any)
            .is_err()
    );
    assert!(
        icmp.with_icmp(IcmpMatch {
            icmp_type: 8,
            code: None
        })
        .is_ok()
    );
    assert!(AccessList::new(AclName::Numbered(101), AclKind::Standard).is_err());
    assert!(AccessList::new(AclName::Numbered(1), AclKind::Extended).is_err());
    assert!(AccessList::new(AclName::Numbered(1300), AclKind::Standard).is_ok());
    assert!(AccessList::new(AclName::Numbered(2699), AclKind::Extended).is_ok());
    assert!(AccessList::new(AclName::Numbered(2700), AclKind::Extended).is_err());
    assert!(AclName::parse("99999999999999999999").is_err());
    assert_eq!(
        AclName::parse("OFFICE"),
        Ok(AclName::Named("OFFICE".to_owned()))
    );
}

/// Selector containment, for contiguous and non-contiguous wildcards.
#[test]
fn address_match_covers() {
    let net24 = AddressMatch::prefix(ip(13, 13, 13, 0), 24);
    let net25 = AddressMatch::prefix(ip(13, 13, 13, 128), 25);
    let host = AddressMatch::host(ip(13, 13, 13, 14));
    assert!(net24.covers(&net25));
    assert!(net24.covers(&host));
    assert!(net24.covers(&net24));
    assert!(!net25.covers(&net24));
    assert!(!net25.covers(&host), "13.13.13.14 is in the lower half");
    assert!(AddressMatch::ANY.covers(&net24));
    assert!(!net24.covers(&AddressMatch::ANY));
    assert!(!AddressMatch::prefix(ip(12, 12, 12, 0), 24).covers(&host));
    // 10.0.X.1 for every X covers 10.0.5.1 and 10.0.0.1 0.0.15.0, not 10.0.5.0/24.
    let odd = AddressMatch::new(ip(10, 0, 0, 1), ip(0, 0, 255, 0));
    assert!(odd.covers(&AddressMatch::host(ip(10, 0, 5, 1))));
    assert!(odd.covers(&AddressMatch::new(ip(10, 0, 0, 1), ip(0, 0, 15, 0))));
    assert!(!odd.covers(&AddressMatch::prefix(ip(10, 0, 5, 0), 24)));
    // Brute force over a small space agrees with the definition.
    let sels = [
        net24,
        net25,
        host,
        odd,
        AddressMatch::new(ip(13, 13, 13, 2), ip(0, 0, 0, 253)),
    ];
    for a in &sels {
        for b in &sels {
            let expected = (0..=255u8).all(|x| {
                let addr = ip(13, 13, 13, x);
                !b.matches(addr) || a.matches(addr)
            });
            if b.address().octets()[..3] == [13, 13, 13] && b.wildcard().octets()[..3] == [0, 0, 0]
            {
                assert_eq!(a.covers(b), expected, "{a} covers {b}");
            }
        }
    }
}
