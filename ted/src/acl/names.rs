//! The keyword tables of IOS access lists: protocol names, TCP and UDP port
//! names, ICMP message names.
//!
//! The values are the ones IOS 12.2 lists under `access-list 100 permit ?`,
//! `... tcp any any eq ?`, `... udp any any eq ?` and `... icmp any any ?`;
//! the port numbers are the IANA assignments those names stand for. The
//! same name can mean different ports for TCP and UDP (514 is `cmd` for
//! TCP and `syslog` for UDP), so each protocol has its own table.

/// IP protocol keywords of an extended access list entry (`ip` itself,
/// "any protocol", is handled by the caller).
pub(crate) const PROTOCOLS: &[(&str, u8)] = &[
    ("icmp", 1),
    ("igmp", 2),
    ("ipinip", 4),
    ("tcp", 6),
    ("igrp", 9),
    ("udp", 17),
    ("gre", 47),
    ("esp", 50),
    ("ahp", 51),
    ("eigrp", 88),
    ("ospf", 89),
    ("nos", 94),
    ("pim", 103),
    ("pcp", 108),
];

/// TCP port names (IANA numbers), as IOS accepts and shows them.
pub(crate) const TCP_PORTS: &[(&str, u16)] = &[
    ("echo", 7),
    ("discard", 9),
    ("daytime", 13),
    ("chargen", 19),
    ("ftp-data", 20),
    ("ftp", 21),
    ("telnet", 23),
    ("smtp", 25),
    ("time", 37),
    ("whois", 43),
    ("tacacs", 49),
    ("domain", 53),
    ("gopher", 70),
    ("finger", 79),
    ("www", 80),
    ("hostname", 101),
    ("pop2", 109),
    ("pop3", 110),
    ("sunrpc", 111),
    ("ident", 113),
    ("nntp", 119),
    ("bgp", 179),
    ("irc", 194),
    ("pim-auto-rp", 496),
    ("exec", 512),
    ("login", 513),
    ("cmd", 514),
    ("lpd", 515),
    ("talk", 517),
    ("uucp", 540),
    ("klogin", 543),
    ("kshell", 544),
    ("drip", 3949),
];

/// UDP port names (IANA numbers), as IOS accepts and shows them.
pub(crate) const UDP_PORTS: &[(&str, u16)] = &[
    ("echo", 7),
    ("discard", 9),
    ("time", 37),
    ("nameserver", 42),
    ("tacacs", 49),
    ("domain", 53),
    ("bootps", 67),
    ("bootpc", 68),
    ("tftp", 69),
    ("sunrpc", 111),
    ("ntp", 123),
    ("netbios-ns", 137),
    ("netbios-dgm", 138),
    ("netbios-ss", 139),
    ("snmp", 161),
    ("snmptrap", 162),
    ("xdmcp", 177),
    ("dnsix", 195),
    ("mobile-ip", 434),
    ("pim-auto-rp", 496),
    ("isakmp", 500),
    ("biff", 512),
    ("who", 513),
    ("syslog", 514),
    ("talk", 517),
    ("rip", 520),
    ("non500-isakmp", 4500),
];

/// ICMP message names: (name, type, code); `None` matches every code of
/// the type (RFC 792, RFC 950, RFC 1256, RFC 1393 values).
pub(crate) const ICMP_MESSAGES: &[(&str, u8, Option<u8>)] = &[
    ("echo-reply", 0, None),
    ("unreachable", 3, None),
    ("net-unreachable", 3, Some(0)),
    ("host-unreachable", 3, Some(1)),
    ("protocol-unreachable", 3, Some(2)),
    ("port-unreachable", 3, Some(3)),
    ("packet-too-big", 3, Some(4)),
    ("source-route-failed", 3, Some(5)),
    ("network-unknown", 3, Some(6)),
    ("host-unknown", 3, Some(7)),
    ("host-isolated", 3, Some(8)),
    ("dod-net-prohibited", 3, Some(9)),
    ("dod-host-prohibited", 3, Some(10)),
    ("net-tos-unreachable", 3, Some(11)),
    ("host-tos-unreachable", 3, Some(12)),
    ("administratively-prohibited", 3, Some(13)),
    ("host-precedence-unreachable", 3, Some(14)),
    ("precedence-unreachable", 3, Some(15)),
    ("source-quench", 4, None),
    ("redirect", 5, None),
    ("net-redirect", 5, Some(0)),
    ("host-redirect", 5, Some(1)),
    ("net-tos-redirect", 5, Some(2)),
    ("host-tos-redirect", 5, Some(3)),
    ("alternate-address", 6, None),
    ("echo", 8, None),
    ("router-advertisement", 9, None),
    ("router-solicitation", 10, None),
    ("time-exceeded", 11, None),
    ("ttl-exceeded", 11, Some(0)),
    ("reassembly-timeout", 11, Some(1)),
    ("parameter-problem", 12, None),
    ("general-parameter-problem", 12, Some(0)),
    ("option-missing", 12, Some(1)),
    ("no-room-for-option", 12, Some(2)),
    ("timestamp-request", 13, None),
    ("timestamp-reply", 14, None),
    ("information-request", 15, None),
    ("information-reply", 16, None),
    ("mask-request", 17, None),
    ("mask-reply", 18, None),
    ("traceroute", 30, None),
    ("conversion-error", 31, None),
    ("mobile-redirect", 32, None),
];

/// Looks a keyword up, ASCII case-insensitively as the IOS parser does.
pub(crate) fn lookup<T: Copy>(table: &[(&str, T)], name: &str) -> Option<T> {
    table
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, v)| v)
}

/// The name IOS shows for a value, if it has one.
pub(crate) fn name_of<T: Copy + PartialEq>(
    table: &[(&'static str, T)],
    value: T,
) -> Option<&'static str> {
    table.iter().find(|&&(_, v)| v == value).map(|&(n, _)| n)
}
