//! `show crypto map` (IOS 12.2): every entry of every crypto map, its
//! peers, access list, lifetimes, PFS and transform sets, the entries TED
//! derived from dynamic map templates, and the interfaces using the map.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::acl::{AclKind, AclName};
use crate::config::{Config, CryptoMapEntry, MapParams};

/// Run-time facts `show crypto map` prints that the configuration does not
/// hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CryptoMapRuntime {
    /// The peer in use per (map, entry); without one, the first configured
    /// peer is shown.
    pub current_peers: BTreeMap<(String, u32), Ipv4Addr>,
}

/// `show crypto map` with no run-time facts beyond the configuration.
pub fn crypto_map(config: &Config) -> String {
    crypto_map_with(config, &CryptoMapRuntime::default())
}

/// `show crypto map`.
///
/// ```text
/// Crypto Map "tedtag" 10 ipsec-isakmp
///         Dynamic map template tag: ted-map
///         Discover enabled
///
/// Crypto Map "tedtag" 11 ipsec-isakmp
///         Peer = 11.11.11.2
///         Extended IP access list
///             access-list  permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255
///         dynamic (created from dynamic map ted-map/10)
///         ...
/// ```
///
/// An entry derived from a dynamic map shows its access list without a
/// name, as the seed does ("Extended IP access list access-list permit
/// ip ..."): IOS prints the name's place empty, which leaves a trailing
/// space and a double space.
pub fn crypto_map_with(config: &Config, runtime: &CryptoMapRuntime) -> String {
    let mut out = String::new();
    for map in config.crypto_maps() {
        let mut first = true;
        for (seq, entry) in map.entries() {
            if !first {
                out.push('\n');
            }
            first = false;
            let _ = writeln!(out, "Crypto Map \"{}\" {} ipsec-isakmp", map.name(), seq);
            match entry {
                CryptoMapEntry::Dynamic { template, discover } => {
                    let _ = writeln!(out, "        Dynamic map template tag: {template}");
                    if *discover {
                        out.push_str("        Discover enabled\n");
                    }
                }
                CryptoMapEntry::IpsecIsakmp(params) => {
                    entry_body(&mut out, config, runtime, map.name(), seq, params, None);
                }
                CryptoMapEntry::Derived(d) => {
                    let origin = format!(
                        "        dynamic (created from dynamic map {}/{})\n",
                        d.template, d.template_seq
                    );
                    entry_body(
                        &mut out,
                        config,
                        runtime,
                        map.name(),
                        seq,
                        &d.params,
                        Some(&origin),
                    );
                }
            }
        }
        let _ = writeln!(out, "        Interfaces using crypto map {}:", map.name());
        for i in config.interfaces_using(map.name()) {
            let _ = writeln!(out, "                {}", i.name());
        }
        out.push('\n');
    }
    out
}

fn entry_body(
    out: &mut String,
    config: &Config,
    runtime: &CryptoMapRuntime,
    map: &str,
    seq: u32,
    params: &MapParams,
    derived_from: Option<&str>,
) {
    for peer in &params.peers {
        let _ = writeln!(out, "        Peer = {peer}");
    }
    match &params.match_address {
        None => out.push_str("        No matching address list set.\n"),
        Some(name) => {
            let acl = config.access_list(name);
            let kind = match acl.map(|a| a.kind()) {
                Some(AclKind::Standard) => "Standard",
                _ => "Extended",
            };
            // A derived entry's list is IOS's own copy, shown unnamed.
            let shown = if derived_from.is_some() {
                String::new()
            } else {
                acl_label(name)
            };
            let _ = writeln!(out, "        {kind} IP access list {shown}");
            for (_, rule) in acl.into_iter().flat_map(|a| a.rules()) {
                let _ = if rule.is_standard() && kind == "Standard" {
                    writeln!(
                        out,
                        "            access-list {shown} {}",
                        rule.display_standard()
                    )
                } else {
                    writeln!(out, "            access-list {shown} {rule}")
                };
            }
        }
    }
    if let Some(origin) = derived_from {
        out.push_str(origin);
    }
    let current = runtime
        .current_peers
        .get(&(map.to_owned(), seq))
        .copied()
        .or_else(|| params.peers.first().copied());
    if let Some(peer) = current {
        let _ = writeln!(out, "        Current peer: {peer}");
    }
    let lifetime = params.lifetime.resolve(config.sa_lifetime);
    let _ = writeln!(
        out,
        "        Security association lifetime: {} kilobytes/{} seconds",
        lifetime.kilobytes, lifetime.seconds
    );
    match params.pfs {
        None => out.push_str("        PFS (Y/N): N\n"),
        Some(group) => {
            out.push_str("        PFS (Y/N): Y\n");
            let _ = writeln!(out, "        DH group:  group{}", group.number());
        }
    }
    out.push_str("        Transform sets={ ");
    for set in &params.transform_sets {
        let _ = write!(out, "{set}, ");
    }
    out.push_str("}\n");
}

fn acl_label(name: &AclName) -> String {
    name.to_string()
}
