//! Writes a [`Config`] as IOS configuration lines.
//!
//! The layout follows `show running-config`: the host name, ISAKMP policies
//! (only the lines that differ from IOS's defaults, as IOS prints them),
//! keys, transform sets, SA lifetimes, dynamic maps, crypto maps,
//! interfaces, static routes, access lists, `end`; blocks separated by `!`.
//! Run-time (derived) crypto map entries are left out, as IOS leaves them
//! out of its running-config.

use core::fmt::Write as _;

use crate::acl::{AccessList, AclItem, AclKind, AclName};
use crate::config::Config;
use crate::config::iface::NextHop;
use crate::config::ipsec::{EncapsulationMode, SaLifetime};
use crate::config::isakmp::{IsakmpIdentity, IsakmpPolicy, KeepaliveMode, PskPeer};
use crate::config::map::{CryptoMapEntry, MapParams};

/// Rendering options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Write `<redacted>` instead of the pre-shared keys (the output then no
    /// longer parses back to the same keys).
    pub redact_keys: bool,
}

/// Writes the configuration, pre-shared keys included (IOS 12.2 shows them
/// in clear in its running-config too): the text is as secret as the keys.
pub fn render(config: &Config) -> String {
    render_with(config, &RenderOptions::default())
}

/// Writes the configuration with options.
pub fn render_with(config: &Config, options: &RenderOptions) -> String {
    let mut out = Out(String::new());
    out.line(format_args!("hostname {}", config.hostname));
    out.bang();
    isakmp(&mut out, config, options);
    ipsec(&mut out, config);
    for dynamic in config.dynamic_maps() {
        for (seq, params) in dynamic.entries() {
            out.line(format_args!("crypto dynamic-map {} {seq}", dynamic.name()));
            map_params(&mut out, params);
        }
        out.bang();
    }
    for map in config.crypto_maps() {
        if let Some(interface) = &map.local_address {
            out.line(format_args!(
                "crypto map {} local-address {interface}",
                map.name()
            ));
        }
        for (seq, entry) in map.entries() {
            match entry {
                CryptoMapEntry::IpsecIsakmp(params) => {
                    out.line(format_args!("crypto map {} {seq} ipsec-isakmp", map.name()));
                    map_params(&mut out, params);
                }
                CryptoMapEntry::Dynamic { template, discover } => {
                    let discover = if *discover { " discover" } else { "" };
                    out.line(format_args!(
                        "crypto map {} {seq} ipsec-isakmp dynamic {template}{discover}",
                        map.name()
                    ));
                }
                CryptoMapEntry::Derived(_) => {}
            }
        }
        out.bang();
    }
    for interface in config.interfaces() {
        out.line(format_args!("interface {}", interface.name()));
        if let Some(text) = &interface.description {
            out.line(format_args!(" description {text}"));
        }
        match interface.address {
            Some(a) => out.line(format_args!(" ip address {} {}", a.address, a.mask)),
            None => out.line(format_args!(" no ip address")),
        }
        for a in &interface.secondary {
            out.line(format_args!(
                " ip address {} {} secondary",
                a.address, a.mask
            ));
        }
        if interface.shutdown {
            out.line(format_args!(" shutdown"));
        }
        if let Some(map) = &interface.crypto_map {
            out.line(format_args!(" crypto map {map}"));
        }
        out.bang();
    }
    for route in &config.routes {
        let mut text = format!("ip route {} {}", route.prefix, route.mask);
        match &route.next_hop {
            NextHop::Address(a) => push(&mut text, format_args!(" {a}")),
            NextHop::Interface { interface, address } => {
                push(&mut text, format_args!(" {interface}"));
                if let Some(a) = address {
                    push(&mut text, format_args!(" {a}"));
                }
            }
        }
        if route.distance != crate::config::StaticRoute::DEFAULT_DISTANCE {
            push(&mut text, format_args!(" {}", route.distance));
        }
        if let Some(name) = &route.name {
            push(&mut text, format_args!(" name {name}"));
        }
        if route.permanent {
            text.push_str(" permanent");
        }
        if let Some(tag) = route.tag {
            push(&mut text, format_args!(" tag {tag}"));
        }
        out.line(format_args!("{text}"));
    }
    if !config.routes.is_empty() {
        out.bang();
    }
    for acl in config.access_lists() {
        access_list(&mut out, acl);
    }
    out.line(format_args!("end"));
    out.0
}

struct Out(String);

impl Out {
    fn line(&mut self, args: core::fmt::Arguments<'_>) {
        // Writing to a String cannot fail.
        let _ = self.0.write_fmt(args);
        self.0.push('\n');
    }

    fn bang(&mut self) {
        self.0.push_str("!\n");
    }
}

fn push(text: &mut String, args: core::fmt::Arguments<'_>) {
    let _ = text.write_fmt(args);
}

fn isakmp(out: &mut Out, config: &Config, options: &RenderOptions) {
    let isakmp = &config.isakmp;
    for p in isakmp.policies() {
        out.line(format_args!("crypto isakmp policy {}", p.priority));
        if p.encryption != IsakmpPolicy::DEFAULT_ENCRYPTION {
            out.line(format_args!(" encryption {}", p.encryption));
        }
        if p.hash != IsakmpPolicy::DEFAULT_HASH {
            out.line(format_args!(" hash {}", p.hash.keyword()));
        }
        if p.authentication != IsakmpPolicy::DEFAULT_AUTHENTICATION {
            out.line(format_args!(
                " authentication {}",
                p.authentication.keyword()
            ));
        }
        if p.group != IsakmpPolicy::DEFAULT_GROUP {
            out.line(format_args!(" group {}", p.group.number()));
        }
        if p.lifetime != IsakmpPolicy::DEFAULT_LIFETIME {
            out.line(format_args!(" lifetime {}", p.lifetime));
        }
    }
    for k in isakmp.keys() {
        let key = if options.redact_keys {
            "<redacted>".into()
        } else {
            String::from_utf8_lossy(k.key.as_bytes())
        };
        let xauth = if k.no_xauth { " no-xauth" } else { "" };
        match &k.peer {
            PskPeer::Address { address, mask } if *mask == std::net::Ipv4Addr::BROADCAST => {
                out.line(format_args!(
                    "crypto isakmp key {key} address {address}{xauth}"
                ));
            }
            PskPeer::Address { address, mask } => {
                out.line(format_args!(
                    "crypto isakmp key {key} address {address} {mask}{xauth}"
                ));
            }
            PskPeer::Hostname(h) => {
                out.line(format_args!("crypto isakmp key {key} hostname {h}{xauth}"))
            }
        }
    }
    match isakmp.identity {
        IsakmpIdentity::Address => {}
        IsakmpIdentity::Hostname => out.line(format_args!("crypto isakmp identity hostname")),
        IsakmpIdentity::Dn => out.line(format_args!("crypto isakmp identity dn")),
    }
    if let Some(k) = isakmp.keepalive {
        let periodic = if k.mode == KeepaliveMode::Periodic {
            " periodic"
        } else {
            ""
        };
        out.line(format_args!(
            "crypto isakmp keepalive {} {}{periodic}",
            k.interval, k.retry
        ));
    }
    if isakmp.aggressive_mode_disabled {
        out.line(format_args!("crypto isakmp aggressive-mode disable"));
    }
    if let Some(s) = isakmp.nat_keepalive {
        out.line(format_args!("crypto isakmp nat keepalive {s}"));
    }
    if !isakmp.enabled {
        out.line(format_args!("no crypto isakmp enable"));
    }
    out.bang();
}

fn ipsec(out: &mut Out, config: &Config) {
    if !config.nat_transparency {
        out.line(format_args!(
            "no crypto ipsec nat-transparency udp-encapsulation"
        ));
    }
    if config.sa_lifetime.seconds != SaLifetime::DEFAULT.seconds {
        out.line(format_args!(
            "crypto ipsec security-association lifetime seconds {}",
            config.sa_lifetime.seconds
        ));
    }
    if config.sa_lifetime.kilobytes != SaLifetime::DEFAULT.kilobytes {
        out.line(format_args!(
            "crypto ipsec security-association lifetime kilobytes {}",
            config.sa_lifetime.kilobytes
        ));
    }
    for set in config.transform_sets() {
        out.line(format_args!(
            "crypto ipsec transform-set {} {set}",
            set.name()
        ));
        if set.mode == EncapsulationMode::Transport {
            out.line(format_args!(" mode transport"));
        }
    }
    out.bang();
}

fn map_params(out: &mut Out, p: &MapParams) {
    if let Some(text) = &p.description {
        out.line(format_args!(" description {text}"));
    }
    for peer in &p.peers {
        out.line(format_args!(" set peer {peer}"));
    }
    if let Some(s) = p.lifetime.seconds {
        out.line(format_args!(
            " set security-association lifetime seconds {s}"
        ));
    }
    if let Some(k) = p.lifetime.kilobytes {
        out.line(format_args!(
            " set security-association lifetime kilobytes {k}"
        ));
    }
    if !p.transform_sets.is_empty() {
        out.line(format_args!(
            " set transform-set {}",
            p.transform_sets.join(" ")
        ));
    }
    if let Some(g) = p.pfs {
        out.line(format_args!(" set pfs group{}", g.number()));
    }
    if let Some(acl) = &p.match_address {
        out.line(format_args!(" match address {acl}"));
    }
}

fn access_list(out: &mut Out, acl: &AccessList) {
    let standard = acl.kind() == AclKind::Standard;
    let item_text = |item: &AclItem| -> String {
        match item {
            AclItem::Remark(text) => format!("remark {text}"),
            AclItem::Rule(rule) if standard => rule.display_standard().to_string(),
            AclItem::Rule(rule) => rule.to_string(),
        }
    };
    match acl.name() {
        AclName::Numbered(n) if acl.has_default_numbering() && !acl.is_empty() => {
            for e in acl.entries() {
                out.line(format_args!("access-list {n} {}", item_text(e.item())));
            }
        }
        name => {
            out.line(format_args!("ip access-list {} {name}", acl.kind()));
            let numbered = !acl.has_default_numbering();
            for e in acl.entries() {
                if numbered {
                    out.line(format_args!(" {} {}", e.seq(), item_text(e.item())));
                } else {
                    out.line(format_args!(" {}", item_text(e.item())));
                }
            }
        }
    }
    out.bang();
}
