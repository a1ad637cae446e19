//! Writes a [`Config`] as IOS configuration lines.
//!
//! The layout and the words follow `show running-config` of IOS 12.4 and
//! later (` encr 3des` in a policy, as those releases print it): the host
//! name, `aaa` lists, local users, trustpoints and certificate chains
//! (certificates in hexadecimal, groups of 8 digits, 8 groups a line),
//! keyrings, ISAKMP policies (only the lines that differ from IOS's
//! defaults, as IOS prints them), keys, the XAUTH timeout, client groups,
//! transform sets, SA lifetimes, dynamic maps, the crypto maps' client
//! lines, crypto maps, interfaces, local pools, static routes, access
//! lists, `end`; blocks separated by `!`.
//! Run-time (derived) crypto map entries are left out, as IOS leaves them
//! out of its running-config.

use core::fmt::Write as _;

use crate::acl::{AccessList, AclItem, AclKind, AclName};
use crate::config::Config;
use crate::config::iface::NextHop;
use crate::config::ipsec::{EncapsulationMode, SaLifetime};
use crate::config::isakmp::{IsakmpIdentity, IsakmpPolicy, KeepaliveMode, PskPeer};
use crate::config::map::{CryptoMapEntry, MapParams};
use crate::config::remote_access::RemoteAccess;

/// Rendering options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RenderOptions {
    /// Write `<redacted>` instead of the pre-shared keys, the client
    /// groups' keys and the local users' passwords (the output then no
    /// longer parses back to the same secrets).
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
    aaa_and_users(&mut out, config, options);
    pki(&mut out, config);
    keyrings(&mut out, config, options);
    isakmp(&mut out, config, options);
    client_groups(&mut out, config, options);
    ipsec(&mut out, config);
    for dynamic in config.dynamic_maps() {
        for (seq, params) in dynamic.entries() {
            out.line(format_args!("crypto dynamic-map {} {seq}", dynamic.name()));
            map_params(&mut out, params);
        }
        out.bang();
    }
    map_clients(&mut out, config);
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
    for pool in config.remote_access.pools() {
        for r in pool.ranges() {
            if r.start() == r.end() {
                out.line(format_args!("ip local pool {} {}", pool.name(), r.start()));
            } else {
                out.line(format_args!(
                    "ip local pool {} {} {}",
                    pool.name(),
                    r.start(),
                    r.end()
                ));
            }
        }
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
    if !config.routes.is_empty() || config.remote_access.pools().next().is_some() {
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

/// `crypto keyring` blocks, as IOS prints them (two-space indent; the
/// keys in clear unless redacted, as `crypto isakmp key` prints them).
fn keyrings(out: &mut Out, config: &Config, options: &RenderOptions) {
    for ring in config.keyrings() {
        out.line(format_args!("crypto keyring {}", ring.name()));
        if let Some(text) = &ring.description {
            out.line(format_args!("  description {text}"));
        }
        if let Some(local) = &ring.local_address {
            out.line(format_args!("  local-address {local}"));
        }
        for k in ring.keys() {
            let key = secret(k.key.as_bytes(), options);
            match &k.peer {
                PskPeer::Address { address, mask } if *mask == std::net::Ipv4Addr::BROADCAST => {
                    out.line(format_args!("  pre-shared-key address {address} key {key}"));
                }
                PskPeer::Address { address, mask } => {
                    out.line(format_args!(
                        "  pre-shared-key address {address} {mask} key {key}"
                    ));
                }
                PskPeer::Hostname(h) => {
                    out.line(format_args!("  pre-shared-key hostname {h} key {key}"))
                }
            }
        }
        out.bang();
    }
}

fn isakmp(out: &mut Out, config: &Config, options: &RenderOptions) {
    let isakmp = &config.isakmp;
    for p in isakmp.policies() {
        out.line(format_args!("crypto isakmp policy {}", p.priority));
        if p.encryption != IsakmpPolicy::DEFAULT_ENCRYPTION {
            out.line(format_args!(" encr {}", p.encryption));
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
        let key = secret(k.key.as_bytes(), options);
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

fn pki(out: &mut Out, config: &Config) {
    for tp in config.pki.trustpoints() {
        out.line(format_args!("crypto pki trustpoint {}", tp.name()));
        if let Some(e) = &tp.enrollment {
            out.line(format_args!(" enrollment {e}"));
        }
        match tp.serial_number {
            Some(true) => out.line(format_args!(" serial-number")),
            Some(false) => out.line(format_args!(" serial-number none")),
            None => {}
        }
        if let Some(fqdn) = &tp.fqdn {
            out.line(format_args!(" fqdn {fqdn}"));
        }
        if let Some(address) = &tp.ip_address {
            out.line(format_args!(" ip-address {address}"));
        }
        if let Some(name) = &tp.subject_name {
            out.line(format_args!(" subject-name {name}"));
        }
        if !tp.revocation_check.is_empty() {
            let methods: Vec<&str> = tp.revocation_check.iter().map(|m| m.keyword()).collect();
            out.line(format_args!(" revocation-check {}", methods.join(" ")));
        }
        if let Some(k) = &tp.rsakeypair {
            let mut text = format!(" rsakeypair {}", k.label);
            for bits in [k.sign_bits, k.encrypt_bits].into_iter().flatten() {
                push(&mut text, format_args!(" {bits}"));
            }
            out.line(format_args!("{text}"));
        }
        out.bang();
    }
    for chain in config.pki.chains() {
        out.line(format_args!(
            "crypto pki certificate chain {}",
            chain.trustpoint()
        ));
        for cert in &chain.certificates {
            match cert.kind.keyword() {
                Some(k) => out.line(format_args!(" certificate {k} {}", cert.serial)),
                None => out.line(format_args!(" certificate {}", cert.serial)),
            }
            for row in cert.der.chunks(32) {
                let groups: Vec<String> = row
                    .chunks(4)
                    .map(|g| g.iter().map(|b| format!("{b:02X}")).collect())
                    .collect();
                out.line(format_args!("  {}", groups.join(" ")));
            }
            out.line(format_args!("  quit"));
        }
        out.bang();
    }
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

fn secret<'a>(bytes: &'a [u8], options: &RenderOptions) -> std::borrow::Cow<'a, str> {
    if options.redact_keys {
        "<redacted>".into()
    } else {
        String::from_utf8_lossy(bytes)
    }
}

fn aaa_and_users(out: &mut Out, config: &Config, options: &RenderOptions) {
    let ra = &config.remote_access;
    if ra.aaa_new_model {
        out.line(format_args!("aaa new-model"));
    }
    for list in ra.authentication_lists() {
        out.line(format_args!("aaa authentication login {list} local"));
    }
    for list in ra.authorization_lists() {
        out.line(format_args!("aaa authorization network {list} local"));
    }
    let mut any = ra.aaa_new_model
        || ra.authentication_lists().next().is_some()
        || ra.authorization_lists().next().is_some();
    if any {
        out.bang();
    }
    any = false;
    for user in ra.users() {
        let privilege = user
            .privilege
            .map(|p| format!(" privilege {p}"))
            .unwrap_or_default();
        out.line(format_args!(
            "username {}{privilege} {} {}",
            user.name(),
            user.credential.keywords(),
            secret(user.credential.text().as_bytes(), options)
        ));
        any = true;
    }
    if any {
        out.bang();
    }
}

fn client_groups(out: &mut Out, config: &Config, options: &RenderOptions) {
    let ra = &config.remote_access;
    if ra.xauth_timeout != RemoteAccess::DEFAULT_XAUTH_TIMEOUT {
        out.line(format_args!(
            "crypto isakmp xauth timeout {}",
            ra.xauth_timeout
        ));
        out.bang();
    }
    for g in ra.groups() {
        out.line(format_args!(
            "crypto isakmp client configuration group {}",
            g.name()
        ));
        if let Some(key) = &g.key {
            out.line(format_args!(" key {}", secret(key.as_bytes(), options)));
        }
        let addresses = |list: &[std::net::Ipv4Addr]| {
            list.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        };
        if !g.dns.is_empty() {
            out.line(format_args!(" dns {}", addresses(&g.dns)));
        }
        if !g.wins.is_empty() {
            out.line(format_args!(" wins {}", addresses(&g.wins)));
        }
        if let Some(domain) = &g.domain {
            out.line(format_args!(" domain {domain}"));
        }
        if let Some(pool) = &g.pool {
            out.line(format_args!(" pool {pool}"));
        }
        if let Some(acl) = &g.acl {
            out.line(format_args!(" acl {acl}"));
        }
        for (on, keyword) in [
            (g.save_password, "save-password"),
            (g.include_local_lan, "include-local-lan"),
            (g.pfs, "pfs"),
        ] {
            if on {
                out.line(format_args!(" {keyword}"));
            }
        }
        for gateway in &g.backup_gateways {
            out.line(format_args!(" backup-gateway {gateway}"));
        }
        if let Some(n) = g.max_users {
            out.line(format_args!(" max-users {n}"));
        }
        if g.firewall_are_u_there {
            out.line(format_args!(" firewall are-u-there"));
        }
        if let Some(text) = &g.banner {
            out.line(format_args!(" banner ^C{text}^C"));
        }
        out.bang();
    }
}

fn map_clients(out: &mut Out, config: &Config) {
    let mut any = false;
    for (map, c) in config.remote_access.maps() {
        if let Some(list) = &c.authentication_list {
            out.line(format_args!(
                "crypto map {map} client authentication list {list}"
            ));
        }
        if let Some(list) = &c.authorization_list {
            out.line(format_args!(
                "crypto map {map} isakmp authorization list {list}"
            ));
        }
        if c.address_initiate {
            out.line(format_args!(
                "crypto map {map} client configuration address initiate"
            ));
        }
        if c.address_respond {
            out.line(format_args!(
                "crypto map {map} client configuration address respond"
            ));
        }
        any = true;
    }
    if any {
        out.bang();
    }
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
