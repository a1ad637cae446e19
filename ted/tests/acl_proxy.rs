//! Mirrors and proxy identities of crypto access list entries, and reading
//! a packet's flow.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use ted::acl::{
    AccessList, AclItem, AclKind, AclName, AclRule, Action, AddressMatch, Flow, FlowError,
    IcmpMatch, IpProtocol, PortMatch, ProtocolMatch, ProxyError, ProxyIdent, Side, Transport,
};

fn ip(a: u8, b: u8, c: u8, d: u8) -> Ipv4Addr {
    Ipv4Addr::new(a, b, c, d)
}

fn rule(text: &str) -> AclRule {
    let config = ted::config::ios::parse(&format!("access-list 101 {text}\n"))
        .expect("imports")
        .config;
    config
        .access_list(&AclName::Numbered(101))
        .and_then(|a| a.rules().next().map(|(_, r)| r.clone()))
        .expect("one rule")
}

#[test]
fn mirror_swaps_addresses_and_ports() {
    let r = rule("permit tcp 10.1.0.0 0.0.255.255 eq 1234 host 10.2.2.2 range 80 90 log");
    let m = r.mirror();
    assert_eq!(m.source(), AddressMatch::host(ip(10, 2, 2, 2)));
    assert_eq!(m.source_port(), PortMatch::Range(80, 90));
    assert_eq!(
        m.destination(),
        AddressMatch::new(ip(10, 1, 0, 0), ip(0, 0, 255, 255))
    );
    assert_eq!(m.destination_port(), PortMatch::Eq(1234));
    assert_eq!(m.action(), Action::Permit);
    assert_eq!(m.protocol(), ProtocolMatch::Protocol(IpProtocol::TCP));
    assert_eq!(
        m.to_string(),
        "permit tcp host 10.2.2.2 range www 90 10.1.0.0 0.0.255.255 eq 1234 log"
    );
    assert_eq!(m.mirror(), r);
    // A flow matches the rule exactly when its reverse matches the mirror.
    let flow = Flow::tcp(ip(10, 1, 9, 9), 1234, ip(10, 2, 2, 2), 85);
    assert!(r.matches(&flow));
    assert!(m.matches(&flow.reversed()));
    assert!(!m.matches(&flow));
}

/// The mirror of a standard list selects destinations: it is an extended
/// list.
#[test]
fn mirror_of_a_standard_list() {
    let mut std1 = AccessList::new(AclName::Numbered(1), AclKind::Standard).unwrap();
    std1.push(AclItem::Remark("branch".to_owned())).unwrap();
    std1.push(AclItem::Rule(AclRule::standard(
        Action::Permit,
        AddressMatch::prefix(ip(10, 0, 0, 0), 8),
    )))
    .unwrap();
    assert!(
        std1.mirrored(AclName::Numbered(2)).is_err(),
        "2 is a standard number"
    );
    let m = std1.mirrored(AclName::Named("MIRROR".to_owned())).unwrap();
    assert_eq!(m.kind(), AclKind::Extended);
    assert_eq!(m.entries()[0].item(), &AclItem::Remark("branch".to_owned()));
    let (seq, r) = m.rules().next().unwrap();
    assert_eq!(seq, 20);
    assert!(r.source().is_any());
    assert_eq!(r.destination(), AddressMatch::prefix(ip(10, 0, 0, 0), 8));
    assert!(m.permits(&Flow::udp(ip(1, 1, 1, 1), 1, ip(10, 9, 9, 9), 2)));
    assert!(!m.permits(&Flow::udp(ip(10, 9, 9, 9), 1, ip(1, 1, 1, 1), 2)));
}

#[test]
fn proxy_identities() {
    let pair = rule("permit ip 13.13.13.0 0.0.0.255 host 12.12.12.13")
        .proxy()
        .unwrap();
    assert_eq!(pair.source.to_string(), "13.13.13.0/255.255.255.0/0/0");
    assert_eq!(
        pair.destination.to_string(),
        "12.12.12.13/255.255.255.255/0/0"
    );
    assert!(pair.destination.is_host());
    assert!(!pair.source.is_host());
    assert_eq!(
        pair.source.address_match(),
        AddressMatch::prefix(ip(13, 13, 13, 0), 24)
    );
    assert_eq!(
        pair.destination.address_match(),
        AddressMatch::host(ip(12, 12, 12, 13))
    );

    let pair = rule("permit udp host 11.11.11.1 eq isakmp any eq 500")
        .proxy()
        .unwrap();
    assert_eq!(
        pair.source,
        ProxyIdent {
            address: ip(11, 11, 11, 1),
            mask: ip(255, 255, 255, 255),
            protocol: IpProtocol::UDP,
            port: 500
        }
    );
    assert_eq!(pair.destination.to_string(), "0.0.0.0/0.0.0.0/17/500");
    assert!(pair.destination.contains(ip(203, 0, 113, 9)));

    let pair = rule("permit esp 10.0.0.0 0.255.255.255 10.0.0.0 0.255.255.255")
        .proxy()
        .unwrap();
    assert_eq!(pair.source.to_string(), "10.0.0.0/255.0.0.0/50/0");
}

#[test]
fn entries_that_are_no_proxy() {
    assert_eq!(
        rule("permit ip 10.0.0.1 0.0.255.0 any").proxy(),
        Err(ProxyError::NonContiguousWildcard {
            side: Side::Source,
            wildcard: ip(0, 0, 255, 0)
        })
    );
    assert_eq!(
        rule("permit ip any 10.0.0.0 0.255.0.255").proxy(),
        Err(ProxyError::NonContiguousWildcard {
            side: Side::Destination,
            wildcard: ip(0, 255, 0, 255)
        })
    );
    assert_eq!(
        rule("permit tcp any any range 1 1023").proxy(),
        Err(ProxyError::PortNotSingle {
            side: Side::Destination,
            port: PortMatch::Range(1, 1023)
        })
    );
    assert_eq!(
        rule("permit udp any neq 53 any").proxy(),
        Err(ProxyError::PortNotSingle {
            side: Side::Source,
            port: PortMatch::Neq(53)
        })
    );
    assert_eq!(
        rule("permit icmp any any echo").proxy(),
        Err(ProxyError::IcmpCondition)
    );
    assert_eq!(
        rule("permit tcp any any established").proxy(),
        Err(ProxyError::FlagCondition)
    );
    assert_eq!(
        rule("permit ip any any fragments").proxy(),
        Err(ProxyError::FlagCondition)
    );
    assert_eq!(rule("deny ip any any").proxy(), Err(ProxyError::NotPermit));
    let msg = rule("permit tcp any any range 1 1023")
        .proxy()
        .unwrap_err()
        .to_string();
    assert_eq!(
        msg,
        "the destination port condition `range 1 1023` is not a single port"
    );
}

/// The extended form IOS shows, for every kind of condition.
#[test]
fn display_forms() {
    for text in [
        "permit ip any any",
        "deny ip host 1.2.3.4 10.0.0.0 0.0.0.255 log",
        "permit tcp any eq www any gt 1023 established",
        "permit udp any range bootps bootpc any neq isakmp log-input",
        "permit icmp any any echo-reply",
        "permit icmp any any 3 14",
        "permit gre any any fragments",
        "permit 99 any any",
    ] {
        assert_eq!(
            rule(text).to_string(),
            text.replace("3 14", "host-precedence-unreachable")
        );
    }
    let r = AclRule::new(
        Action::Permit,
        ProtocolMatch::Protocol(IpProtocol::ICMP),
        AddressMatch::ANY,
        AddressMatch::ANY,
    )
    .with_icmp(IcmpMatch {
        icmp_type: 200,
        code: Some(9),
    })
    .unwrap();
    assert_eq!(r.to_string(), "permit icmp any any 200 9");
}

// --- reading flows from packets (RFC 791 header) ---

/// A 20-byte IPv4 header: protocol, source, destination, flags+offset, and
/// the given payload; total length from the payload.
fn packet(protocol: u8, frag: u16, payload: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + payload.len()).unwrap();
    let mut p = vec![
        0x45, 0, 0, 0, 0, 1, 0, 0, 64, protocol, 0, 0, 13, 13, 13, 14, 12, 12, 12, 13,
    ];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p[6..8].copy_from_slice(&frag.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

#[test]
fn flows_from_packets() {
    let (s, d) = (ip(13, 13, 13, 14), ip(12, 12, 12, 13));
    // ICMP echo request (type 8, code 0), as the seed's ping.
    let f = Flow::from_ipv4_packet(&packet(1, 0, &[8, 0, 0xf7, 0xff, 0, 0, 0, 0])).unwrap();
    assert_eq!(f, Flow::icmp(s, d, 8, 0));
    // UDP 500 -> 500.
    let f = Flow::from_ipv4_packet(&packet(17, 0, &[1, 0xf4, 1, 0xf4, 0, 8, 0, 0])).unwrap();
    assert_eq!(f, Flow::udp(s, 500, d, 500));
    // TCP SYN+ACK from port 80 to 40000: flags byte at offset 13.
    let mut tcp = vec![0u8; 20];
    tcp[0..2].copy_from_slice(&80u16.to_be_bytes());
    tcp[2..4].copy_from_slice(&40_000u16.to_be_bytes());
    tcp[13] = 0x12;
    let f = Flow::from_ipv4_packet(&packet(6, 0, &tcp)).unwrap();
    assert_eq!(f, Flow::tcp_with_flags(s, 80, d, 40_000, 0x12));
    // Ports but no flags byte.
    let f = Flow::from_ipv4_packet(&packet(6, 0, &tcp[..8])).unwrap();
    assert_eq!(
        f.transport(),
        Transport::Tcp {
            source_port: 80,
            destination_port: 40_000,
            flags: None
        }
    );
    // Too short for ports.
    let f = Flow::from_ipv4_packet(&packet(17, 0, &[1, 0xf4, 1])).unwrap();
    assert_eq!(f.transport(), Transport::Truncated);
    // Non-initial fragment (offset 185 * 8 bytes), even with bytes after.
    let f = Flow::from_ipv4_packet(&packet(17, 0x00b9, &[1, 0xf4, 1, 0xf4])).unwrap();
    assert_eq!(f, Flow::fragment(s, d, IpProtocol::UDP));
    // First fragment (MF set, offset 0) carries its ports.
    let f = Flow::from_ipv4_packet(&packet(17, 0x2000, &[1, 0xf4, 1, 0xf4])).unwrap();
    assert_eq!(f, Flow::udp(s, 500, d, 500));
    // ESP: no transport fields.
    let f = Flow::from_ipv4_packet(&packet(50, 0, &[0xf8, 0, 0xd6, 0x1f])).unwrap();
    assert_eq!(f.transport(), Transport::None);
    assert_eq!(f.protocol(), IpProtocol::ESP);
    // Options: IHL 6 moves the transport header by 4 bytes.
    let mut with_options = packet(17, 0, &[0, 0, 0, 0, 0, 53, 0, 53]);
    with_options[0] = 0x46;
    assert_eq!(
        Flow::from_ipv4_packet(&with_options).unwrap(),
        Flow::udp(s, 53, d, 53)
    );
    // Total length shorter than the buffer: trailing bytes are not read.
    let mut padded = packet(17, 0, &[0, 53]);
    padded.extend_from_slice(&[0, 53, 0, 0]);
    assert_eq!(
        Flow::from_ipv4_packet(&padded).unwrap().transport(),
        Transport::Truncated
    );
}

#[test]
fn packets_that_are_no_flow() {
    assert_eq!(
        Flow::from_ipv4_packet(&[0x45; 19]),
        Err(FlowError::TooShort { len: 19 })
    );
    let mut v6 = packet(17, 0, &[]);
    v6[0] = 0x60;
    assert_eq!(
        Flow::from_ipv4_packet(&v6),
        Err(FlowError::NotIpv4 { version: 6 })
    );
    let mut short_ihl = packet(17, 0, &[]);
    short_ihl[0] = 0x44;
    assert_eq!(
        Flow::from_ipv4_packet(&short_ihl),
        Err(FlowError::BadHeaderLength {
            header_len: 16,
            len: 20
        })
    );
    let mut long_ihl = packet(17, 0, &[]);
    long_ihl[0] = 0x4f;
    assert_eq!(
        Flow::from_ipv4_packet(&long_ihl),
        Err(FlowError::BadHeaderLength {
            header_len: 60,
            len: 20
        })
    );
    let mut bad_total = packet(17, 0, &[]);
    bad_total[2..4].copy_from_slice(&10u16.to_be_bytes());
    assert_eq!(
        Flow::from_ipv4_packet(&bad_total),
        Err(FlowError::BadTotalLength {
            total_len: 10,
            header_len: 20
        })
    );
}
