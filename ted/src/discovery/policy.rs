//! The checks TED makes against local policy: which access list line
//! mirrors a probe (responder), which addresses may receive a response, and
//! the conversions between IKE identities and proxy identities.

use std::net::Ipv4Addr;

use isakmp_wire::{IdData, IdRepr};

use super::event::ProbeDropReason;
use crate::acl::{AccessList, AclName, Action, AddressMatch, IpProtocol, ProxyIdent};
use crate::config::{Config, CryptoMapEntry, MapParams};

/// Whether `address` may be an IKE peer: a unicast IPv4 address. Refused:
/// 0.0.0.0/8 ("this network", RFC 1122 s.3.2.1.3), 127.0.0.0/8 (loopback),
/// 224.0.0.0/4 (multicast, RFC 5771), 240.0.0.0/4 (reserved class E,
/// RFC 1112 s.4, which includes the limited broadcast 255.255.255.255).
pub fn is_unicast(address: Ipv4Addr) -> bool {
    let first = address.octets()[0];
    !(first == 0 || first == 127 || first >= 224)
}

/// The proxy identity an ID carries: an ID_IPV4_ADDR is a host, an
/// ID_IPV4_ADDR_SUBNET a subnet (host bits cleared); anything else, and a
/// subnet whose mask is not contiguous, has none.
pub fn proxy_from_id(id: &IdRepr<'_>) -> Option<ProxyIdent> {
    let (address, mask) = match id.data {
        IdData::Ipv4Addr(a) => (a, Ipv4Addr::BROADCAST),
        IdData::Ipv4Subnet { address, mask } => {
            let m = u32::from(mask);
            // A contiguous mask is ones then zeros: its complement plus one
            // is a power of two (or zero for /0).
            if (!m) & (!m).wrapping_add(1) != 0 {
                return None;
            }
            (Ipv4Addr::from(u32::from(address) & m), mask)
        }
        _ => return None,
    };
    Some(ProxyIdent {
        address,
        mask,
        protocol: IpProtocol(id.protocol),
        port: id.port,
    })
}

/// The ID a proxy identity is sent as: a /32 as ID_IPV4_ADDR (type 1),
/// anything else as ID_IPV4_ADDR_SUBNET (type 4), RFC 2407 s.4.6.2, as
/// IOS does.
pub fn id_from_proxy(proxy: &ProxyIdent) -> IdRepr<'static> {
    let data = if proxy.is_host() {
        IdData::Ipv4Addr(proxy.address)
    } else {
        IdData::Ipv4Subnet {
            address: proxy.address,
            mask: proxy.mask,
        }
    };
    IdRepr {
        protocol: proxy.protocol.0,
        port: proxy.port,
        data,
    }
}

/// Whether `outer` contains every address, protocol and port of `inner`.
pub fn proxy_covers(outer: &ProxyIdent, inner: &ProxyIdent) -> bool {
    outer.address_match().covers(&inner.address_match())
        && (outer.protocol.0 == 0 || outer.protocol == inner.protocol)
        && (outer.port == 0 || outer.port == inner.port)
}

/// Whether two selectors have an address in common: wherever both fix a
/// bit, they fix it the same way.
fn intersects(a: &AddressMatch, b: &AddressMatch) -> bool {
    let fixed = !u32::from(a.wildcard()) & !u32::from(b.wildcard());
    (u32::from(a.address()) ^ u32::from(b.address())) & fixed == 0
}

/// The local policy that mirrors a probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mirror {
    pub(crate) map: String,
    pub(crate) map_seq: u32,
    pub(crate) template_seq: Option<u32>,
    pub(crate) acl: AclName,
    pub(crate) acl_seq: u32,
    /// The source of the mirroring line: this side's proxy.
    pub(crate) responder_proxy: ProxyIdent,
    /// The crypto map's IKE address, if it has one.
    pub(crate) local_address: Option<Ipv4Addr>,
}

/// The first access list line of `acl` whose traffic from `host` to
/// `proxy` overlaps, if it is a `permit` that covers the whole of it:
/// `(line, this side's proxy)`. Evaluating in order makes a `deny` in front
/// of a broader `permit` win, as it does for packets.
fn mirroring_line(
    acl: &AccessList,
    host: Ipv4Addr,
    proxy: &ProxyIdent,
) -> Option<(u32, ProxyIdent)> {
    let wanted = proxy.address_match();
    for (seq, rule) in acl.rules() {
        if !rule.source().matches(host) || !intersects(&rule.destination(), &wanted) {
            continue;
        }
        let protocol_overlaps = match rule.protocol() {
            crate::acl::ProtocolMatch::Ip => true,
            crate::acl::ProtocolMatch::Protocol(p) => proxy.protocol.0 == 0 || p == proxy.protocol,
        };
        if !protocol_overlaps {
            continue;
        }
        // This line decides: it must permit, be expressible as proxies,
        // and cover the whole of the probe's proxy.
        if rule.action() != Action::Permit {
            return None;
        }
        let pair = rule.proxy().ok()?;
        if !proxy_covers(&pair.destination, proxy) {
            return None;
        }
        return Some((seq, pair.source));
    }
    None
}

/// The crypto maps a probe arriving with crypto map `ingress` (or, with
/// none, any crypto map on an interface) is checked against, in order.
fn maps_to_check<'a>(config: &'a Config, ingress: Option<&'a str>) -> Vec<&'a str> {
    match ingress {
        Some(map) => vec![map],
        None => {
            let mut maps: Vec<&str> = Vec::new();
            for i in config.interfaces() {
                if let Some(m) = i.crypto_map.as_deref()
                    && !maps.contains(&m)
                {
                    maps.push(m);
                }
            }
            maps
        }
    }
}

/// Finds the crypto map entry whose access list mirrors a probe for
/// `host` from `proxy`: entries in sequence order, a dynamic entry through
/// each of its template's entries (a responder does not need `discover`,
/// per Cisco's TED feature guide), derived entries skipped (they copy a
/// template).
pub(crate) fn find_mirror(
    config: &Config,
    ingress: Option<&str>,
    host: Ipv4Addr,
    proxy: &ProxyIdent,
) -> Option<Mirror> {
    for map_name in maps_to_check(config, ingress) {
        let Some(map) = config.crypto_map(map_name) else {
            continue;
        };
        let try_params = |params: &MapParams| -> Option<(AclName, u32, ProxyIdent)> {
            let name = params.match_address.as_ref()?;
            let acl = config.access_list(name)?;
            let (seq, mine) = mirroring_line(acl, host, proxy)?;
            Some((name.clone(), seq, mine))
        };
        for (seq, entry) in map.entries() {
            let found = match entry {
                CryptoMapEntry::IpsecIsakmp(params) => {
                    try_params(params).map(|(a, s, p)| (None, a, s, p))
                }
                CryptoMapEntry::Dynamic { template, .. } => config
                    .dynamic_map(template)
                    .into_iter()
                    .flat_map(|d| d.entries())
                    .find_map(|(t, params)| try_params(params).map(|(a, s, p)| (Some(t), a, s, p))),
                _ => None,
            };
            if let Some((template_seq, acl, acl_seq, responder_proxy)) = found {
                return Some(Mirror {
                    map: map_name.to_owned(),
                    map_seq: seq,
                    template_seq,
                    acl,
                    acl_seq,
                    responder_proxy,
                    local_address: config.crypto_map_local_address(map_name),
                });
            }
        }
    }
    None
}

/// Whether a response to `address` would come back into this router or
/// the network it protects: one of its interface addresses, the network or
/// broadcast address of one of its subnets (a directed broadcast), or an
/// address inside `protected`.
pub(crate) fn is_reflection(config: &Config, address: Ipv4Addr, protected: &ProxyIdent) -> bool {
    if protected.contains(address) {
        return true;
    }
    config
        .interfaces()
        .iter()
        .flat_map(|i| i.addresses())
        .any(|a| {
            if a.address == address {
                return true;
            }
            // /31 and /32 subnets have no network or broadcast address
            // (RFC 3021).
            if a.prefix_len() >= 31 {
                return false;
            }
            let network = u32::from(a.network());
            let broadcast = network | !u32::from(a.mask);
            let x = u32::from(address);
            x == network || x == broadcast
        })
}

/// Checks a probe's ID address: unicast, and (when asked) outside the
/// probe's own proxy.
pub(crate) fn check_peer_address(
    address: Ipv4Addr,
    probe_proxy: Option<&ProxyIdent>,
    reject_in_proxy: bool,
) -> Result<(), ProbeDropReason> {
    if !is_unicast(address) {
        return Err(ProbeDropReason::NonUnicastAddress);
    }
    if reject_in_proxy && probe_proxy.is_some_and(|p| p.contains(address)) {
        return Err(ProbeDropReason::AddressInProbeProxy);
    }
    Ok(())
}
