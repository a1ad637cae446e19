//! Access list entries in IOS syntax (`permit tcp any host 10.1.1.1 eq
//! www`), for `access-list N ...` and the sub-mode of `ip access-list`.

use super::error::ParseErrorKind;
use super::lex::{Cursor, parse_decimal};
use crate::acl::{
    AclKind, AclRule, Action, AddressMatch, IcmpMatch, IpProtocol, Logging, PortMatch,
    ProtocolMatch, port_from_name,
};

/// Keywords IOS accepts on an entry that this model does not cover.
const UNSUPPORTED_OPTIONS: &[&str] = &[
    "precedence",
    "tos",
    "dscp",
    "time-range",
    "option",
    "ttl",
    "reflect",
    "match-all",
    "match-any",
    "ack",
    "syn",
    "fin",
    "psh",
    "rst",
    "urg",
    "evaluate",
];

/// Reads one `permit`/`deny` entry of the given kind.
pub(super) fn parse_rule(c: &mut Cursor<'_, '_>, kind: AclKind) -> Result<AclRule, ParseErrorKind> {
    let action = match c.keyword(&["permit", "deny"], "permit or deny")? {
        "permit" => Action::Permit,
        _ => Action::Deny,
    };
    match kind {
        AclKind::Standard => {
            let source = standard_address(c)?;
            let log = logging(c);
            c.end()?;
            Ok(AclRule::standard(action, source).with_log(log))
        }
        AclKind::Extended => extended(c, action),
    }
}

fn extended(c: &mut Cursor<'_, '_>, action: Action) -> Result<AclRule, ParseErrorKind> {
    const PROTOCOL: &str = "a protocol (ip, tcp, udp, icmp, esp, ahp, gre, ... or 0-255)";
    let token = c.word(PROTOCOL)?;
    let protocol = if token.eq_ignore_ascii_case("ip") {
        ProtocolMatch::Ip
    } else if let Some(p) = IpProtocol::from_ios_keyword(token) {
        ProtocolMatch::Protocol(p)
    } else {
        let n = parse_decimal(token)
            .and_then(|n| u8::try_from(n).ok())
            .ok_or_else(|| ParseErrorKind::Unexpected {
                expected: PROTOCOL,
                found: token.to_owned(),
            })?;
        ProtocolMatch::Protocol(IpProtocol(n))
    };
    let ports = match protocol {
        ProtocolMatch::Protocol(p @ (IpProtocol::TCP | IpProtocol::UDP)) => Some(p),
        _ => None,
    };
    let source = extended_address(c, "a source (any, host A, or A WILDCARD)")?;
    let source_port = port_match(c, ports)?;
    let destination = extended_address(c, "a destination (any, host A, or A WILDCARD)")?;
    let destination_port = port_match(c, ports)?;
    let mut rule = AclRule::new(action, protocol, source, destination)
        .with_ports(source_port, destination_port)?;

    if protocol == ProtocolMatch::Protocol(IpProtocol::ICMP)
        && let Some(icmp) = icmp_match(c)?
    {
        rule = rule.with_icmp(icmp)?;
    }
    while let Some(token) = c.next() {
        let kw = token.to_ascii_lowercase();
        match kw.as_str() {
            "established" => rule = rule.with_established()?,
            "fragments" => rule = rule.with_fragments()?,
            "log" => rule = rule.with_log(Logging::Log),
            "log-input" => rule = rule.with_log(Logging::LogInput),
            k if UNSUPPORTED_OPTIONS.contains(&k) => {
                return Err(ParseErrorKind::UnsupportedKeyword {
                    keyword: token.to_owned(),
                    context: "an access list entry",
                });
            }
            _ => {
                return Err(ParseErrorKind::Unexpected {
                    expected: "established, fragments, log or log-input",
                    found: token.to_owned(),
                });
            }
        }
    }
    Ok(rule)
}

fn standard_address(c: &mut Cursor<'_, '_>) -> Result<AddressMatch, ParseErrorKind> {
    if c.eat("any") {
        return Ok(AddressMatch::ANY);
    }
    if c.eat("host") {
        return Ok(AddressMatch::host(c.ipv4("a host address")?));
    }
    let address = c.ipv4("a source (any, host A, or A [WILDCARD])")?;
    match c.peek_ipv4() {
        Some(wildcard) => {
            c.next();
            Ok(AddressMatch::new(address, wildcard))
        }
        None => Ok(AddressMatch::host(address)),
    }
}

fn extended_address(
    c: &mut Cursor<'_, '_>,
    expected: &'static str,
) -> Result<AddressMatch, ParseErrorKind> {
    if c.eat("any") {
        return Ok(AddressMatch::ANY);
    }
    if c.eat("host") {
        return Ok(AddressMatch::host(c.ipv4("a host address")?));
    }
    let address = c.ipv4(expected)?;
    let wildcard = c.ipv4("a wildcard mask")?;
    Ok(AddressMatch::new(address, wildcard))
}

fn port_match(
    c: &mut Cursor<'_, '_>,
    protocol: Option<IpProtocol>,
) -> Result<PortMatch, ParseErrorKind> {
    let Some(protocol) = protocol else {
        return Ok(PortMatch::Any);
    };
    let op = match c.peek().map(str::to_ascii_lowercase).as_deref() {
        Some(op @ ("eq" | "neq" | "lt" | "gt" | "range")) => op.to_owned(),
        _ => return Ok(PortMatch::Any),
    };
    c.next();
    let first = port(c, protocol)?;
    Ok(match op.as_str() {
        "eq" => PortMatch::Eq(first),
        "neq" => PortMatch::Neq(first),
        "lt" => PortMatch::Lt(first),
        "gt" => PortMatch::Gt(first),
        _ => PortMatch::Range(first, port(c, protocol)?),
    })
}

fn port(c: &mut Cursor<'_, '_>, protocol: IpProtocol) -> Result<u16, ParseErrorKind> {
    const PORT: &str = "a port number (0-65535) or name";
    let token = c.word(PORT)?;
    if let Some(n) = parse_decimal(token) {
        return u16::try_from(n).map_err(|_| ParseErrorKind::OutOfRange {
            what: "port",
            value: n,
            min: 0,
            max: 65_535,
        });
    }
    port_from_name(protocol, token).ok_or_else(|| ParseErrorKind::Unexpected {
        expected: if protocol == IpProtocol::TCP {
            "a TCP port number or name"
        } else {
            "a UDP port number or name"
        },
        found: token.to_owned(),
    })
}

fn icmp_match(c: &mut Cursor<'_, '_>) -> Result<Option<IcmpMatch>, ParseErrorKind> {
    let Some(token) = c.peek() else {
        return Ok(None);
    };
    if let Some(t) = parse_decimal(token) {
        c.next();
        let icmp_type = u8::try_from(t).map_err(|_| ParseErrorKind::OutOfRange {
            what: "ICMP type",
            value: t,
            min: 0,
            max: 255,
        })?;
        let code = match c.peek().and_then(parse_decimal) {
            Some(code) => {
                c.next();
                Some(u8::try_from(code).map_err(|_| ParseErrorKind::OutOfRange {
                    what: "ICMP code",
                    value: code,
                    min: 0,
                    max: 255,
                })?)
            }
            None => None,
        };
        return Ok(Some(IcmpMatch { icmp_type, code }));
    }
    match IcmpMatch::from_ios_name(token) {
        Some(m) => {
            c.next();
            Ok(Some(m))
        }
        None => Ok(None),
    }
}

/// Reads an optional trailing `log` / `log-input` (standard entries).
fn logging(c: &mut Cursor<'_, '_>) -> Logging {
    if c.eat("log") {
        Logging::Log
    } else if c.eat("log-input") {
        Logging::LogInput
    } else {
        Logging::Off
    }
}
