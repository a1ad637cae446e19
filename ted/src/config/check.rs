//! Cross-reference checks of a loaded configuration.
//!
//! IOS checks some references when a line is entered and lets others dangle;
//! [`Config::check`] reports both kinds after loading, with the severity IOS
//! gives them:
//!
//! | finding | severity | what IOS does |
//! |---|---|---|
//! | `set transform-set` names a set that does not exist | error | refuses the line ("transform set ... does not exist") |
//! | more than 6 transform sets on one entry | error | refuses the line |
//! | a value outside IOS's range (API-built configs only) | error | refuses the line |
//! | a pre-shared key or interface mask that is not contiguous | error | refuses the line |
//! | `match address` names an access list that does not exist | warning | accepts; the entry protects nothing |
//! | a static entry without `set peer` or `match address` | warning | accepts; "remains disabled until a peer and a valid access list have been configured" |
//! | an entry without a transform set | warning | accepts; the entry is incomplete and unusable |
//! | `dynamic DYN` names a dynamic map that does not exist | warning | accepts; the entry is inert |
//! | `discover` on a template none of whose entries has an access list | warning | accepts; nothing can trigger discovery |
//! | a crypto access list entry that is no subnet pair (non-contiguous wildcard, port range, ICMP type) | warning | accepts; no proxy identity matches it exactly |
//! | a crypto access list without any `permit` | warning | accepts; protects nothing |
//! | an interface applies a crypto map that does not exist, or has no address | warning | accepts; no IKE endpoint |
//! | `local-address` names an interface that does not exist | warning | accepts |
//! | a `pre-share` policy and no pre-shared key at all | warning | accepts; phase 1 fails at authentication |
//! | `aaa authentication`/`authorization` lists without `aaa new-model` | error | refuses the line (the `aaa` commands do not exist before `aaa new-model`) |
//! | two `ip local pool` ranges (of different pools) overlap | error | refuses the line |
//! | a value outside IOS's range (XAUTH timeout, backup gateways, banner; API-built configs only) | error | refuses the line |
//! | a client group without `key` | warning | accepts; no client of the group can authenticate with a pre-shared key |
//! | a client group's `pool` names a pool that does not exist | warning | accepts; Mode-Config has no address to give |
//! | a client group's `acl` names an access list that does not exist | warning | accepts; no split tunnel is pushed |
//! | a split-tunnel `permit` line whose source is no network (non-contiguous wildcard) | warning | accepts; the line is left out of the split networks |
//! | a crypto map's `client authentication list` or `isakmp authorization list` names a list that is not configured | warning | accepts ("AAA: Warning, authentication list is not defined"); clients fail |
//! | a crypto map has `client` lines but no `isakmp authorization list` | warning | accepts; client groups are not looked up |
//! | a crypto map has `client` lines but no entry | warning | accepts; the lines apply to nothing |
//! | a `username` whose password is a type-5 secret or a type-7 password | warning | (IOS accepts them for console login); the user cannot log in by XAUTH here |
//!
//! Derived entries (created at run time) are not checked: they are copies of
//! template entries, which are.

use core::fmt;
use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use super::Config;
use super::iface::InterfaceName;
use super::ipsec::SaLifetime;
use super::isakmp::{IsakmpAuthentication, IsakmpPolicy, Keepalive, PskPeer};
use super::map::{CryptoMapEntry, MapParams};
use super::remote_access::{ClientGroup, RemoteAccess};
use crate::acl::{AclName, Action, ProxyError};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// IOS would refuse the configuration: do not run it.
    Error,
    /// IOS accepts it, but part of it cannot work.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Error => "error",
            Self::Warning => "warning",
        })
    }
}

/// The part of the configuration a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Location {
    /// Global settings (`crypto ipsec security-association lifetime`,
    /// `crypto isakmp keepalive`).
    Global,
    /// `crypto isakmp policy N`.
    IsakmpPolicy(u16),
    /// `crypto isakmp key ... address A M`.
    IsakmpKey {
        /// The key's subnet address.
        address: Ipv4Addr,
        /// The key's mask.
        mask: Ipv4Addr,
    },
    /// `crypto dynamic-map NAME SEQ`.
    DynamicMapEntry {
        /// The dynamic map.
        map: String,
        /// The entry.
        seq: u32,
    },
    /// `crypto map NAME SEQ`.
    CryptoMapEntry {
        /// The crypto map.
        map: String,
        /// The entry.
        seq: u32,
    },
    /// `crypto map NAME local-address`.
    CryptoMapLocalAddress(String),
    /// `interface NAME`.
    Interface(InterfaceName),
    /// One line of an access list.
    AccessListEntry {
        /// The list.
        acl: AclName,
        /// The line's sequence number.
        seq: u32,
    },
    /// `ip route PREFIX MASK ...`.
    Route {
        /// The prefix.
        prefix: Ipv4Addr,
        /// The mask.
        mask: Ipv4Addr,
    },
    /// `aaa authentication login LIST`.
    AaaLogin(String),
    /// `aaa authorization network LIST`.
    AaaNetwork(String),
    /// `username NAME`.
    LocalUser(String),
    /// `ip local pool NAME`.
    LocalPool(String),
    /// `crypto isakmp client configuration group NAME`.
    ClientGroup(String),
    /// The `crypto map NAME client ...` and `crypto map NAME isakmp
    /// authorization list` lines.
    CryptoMapClient(String),
    /// `crypto ipsec transform-set NAME`.
    TransformSet(String),
    /// `crypto pki trustpoint NAME`.
    Trustpoint(String),
    /// `crypto pki certificate chain NAME`.
    CertificateChain(String),
    /// `crypto keyring NAME`.
    Keyring(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global => f.write_str("global configuration"),
            Self::IsakmpPolicy(p) => write!(f, "crypto isakmp policy {p}"),
            Self::IsakmpKey { address, mask } => {
                write!(f, "crypto isakmp key for {address} {mask}")
            }
            Self::DynamicMapEntry { map, seq } => write!(f, "crypto dynamic-map {map} {seq}"),
            Self::CryptoMapEntry { map, seq } => write!(f, "crypto map {map} {seq}"),
            Self::CryptoMapLocalAddress(map) => write!(f, "crypto map {map} local-address"),
            Self::Interface(name) => write!(f, "interface {name}"),
            Self::AccessListEntry { acl, seq } => write!(f, "access list {acl} line {seq}"),
            Self::Route { prefix, mask } => write!(f, "ip route {prefix} {mask}"),
            Self::AaaLogin(list) => write!(f, "aaa authentication login {list}"),
            Self::AaaNetwork(list) => write!(f, "aaa authorization network {list}"),
            Self::LocalUser(name) => write!(f, "username {name}"),
            Self::LocalPool(name) => write!(f, "ip local pool {name}"),
            Self::ClientGroup(name) => {
                write!(f, "crypto isakmp client configuration group {name}")
            }
            Self::CryptoMapClient(map) => write!(f, "crypto map {map} client settings"),
            Self::TransformSet(name) => write!(f, "crypto ipsec transform-set {name}"),
            Self::Trustpoint(name) => write!(f, "crypto pki trustpoint {name}"),
            Self::CertificateChain(name) => write!(f, "crypto pki certificate chain {name}"),
            Self::Keyring(name) => write!(f, "crypto keyring {name}"),
        }
    }
}

/// What a finding is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DiagnosticKind {
    /// `set transform-set` names a missing set.
    MissingTransformSet {
        /// The name.
        name: String,
    },
    /// More transform sets than IOS allows on one entry.
    TooManyTransformSets {
        /// How many.
        count: usize,
    },
    /// `match address` names a missing access list.
    MissingAccessList {
        /// The name.
        name: AclName,
    },
    /// `dynamic DYN` names a missing dynamic map.
    MissingDynamicMap {
        /// The name.
        name: String,
    },
    /// An interface applies a missing crypto map.
    MissingCryptoMap {
        /// The name.
        name: String,
    },
    /// `local-address` names a missing interface.
    MissingInterface {
        /// The name.
        name: InterfaceName,
    },
    /// A static entry without a peer.
    NoPeer,
    /// A static entry without an access list.
    NoAccessList,
    /// An entry without a transform set.
    NoTransformSet,
    /// `discover` with no template entry that has an access list.
    DiscoverWithoutAccessList {
        /// The dynamic map.
        template: String,
    },
    /// A crypto access list entry that is no subnet pair.
    NotAProxy {
        /// Why.
        reason: ProxyError,
    },
    /// A crypto access list without a `permit` line.
    NoPermitEntry {
        /// The list.
        acl: AclName,
    },
    /// An interface applies a crypto map but has no address.
    NoAddress {
        /// The crypto map.
        map: String,
    },
    /// A value outside the range IOS accepts.
    OutOfRange {
        /// What the value is.
        what: &'static str,
        /// The value.
        value: u64,
        /// Smallest accepted.
        min: u64,
        /// Largest accepted.
        max: u64,
    },
    /// A mask that is not contiguous where IOS needs a netmask.
    NonContiguousMask {
        /// The mask.
        mask: Ipv4Addr,
    },
    /// A `pre-share` policy but no pre-shared key.
    NoPresharedKey,
    /// `aaa` method lists without `aaa new-model`.
    AaaWithoutNewModel,
    /// Two pools' ranges overlap.
    PoolOverlap {
        /// The other pool.
        other: String,
    },
    /// A client group without a key.
    NoGroupKey,
    /// A client group's pool does not exist.
    MissingPool {
        /// The pool.
        name: String,
    },
    /// A split-tunnel ACL line whose source is no network.
    NotASplitNetwork {
        /// The client group using the list.
        group: String,
    },
    /// A crypto map names an AAA method list that is not configured.
    MissingAaaList {
        /// The list.
        list: String,
        /// Which kind: `authentication login` or `authorization network`.
        kind: &'static str,
    },
    /// A crypto map has client lines but no `isakmp authorization list`.
    NoGroupAuthorization,
    /// A `username` whose password form cannot check an XAUTH password.
    UnsupportedCredential {
        /// The form (`secret 5`, `password 7`).
        form: &'static str,
    },
}

impl DiagnosticKind {
    /// The severity IOS gives this finding (see the module table).
    pub fn severity(&self) -> Severity {
        match self {
            Self::MissingTransformSet { .. }
            | Self::TooManyTransformSets { .. }
            | Self::OutOfRange { .. }
            | Self::NonContiguousMask { .. }
            | Self::AaaWithoutNewModel
            | Self::PoolOverlap { .. } => Severity::Error,
            _ => Severity::Warning,
        }
    }
}

impl fmt::Display for DiagnosticKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingTransformSet { name } => write!(f, "transform set {name} does not exist"),
            Self::TooManyTransformSets { count } => write!(
                f,
                "{count} transform sets named; at most {} are allowed",
                MapParams::MAX_TRANSFORM_SETS
            ),
            Self::MissingAccessList { name } => {
                write!(f, "access list {name} does not exist, so the entry protects nothing")
            }
            Self::MissingDynamicMap { name } => {
                write!(f, "dynamic map {name} does not exist, so the entry is inert")
            }
            Self::MissingCryptoMap { name } => write!(f, "crypto map {name} does not exist"),
            Self::MissingInterface { name } => write!(f, "interface {name} does not exist"),
            Self::NoPeer => f.write_str(
                "no peer is set; the entry stays disabled until a peer and a valid access list are configured",
            ),
            Self::NoAccessList => f.write_str(
                "no access list is set; the entry stays disabled until a peer and a valid access list are configured",
            ),
            Self::NoTransformSet => f.write_str("no transform set is set; the entry cannot negotiate an SA"),
            Self::DiscoverWithoutAccessList { template } => write!(
                f,
                "discover is on but no entry of dynamic map {template} has an access list, so nothing triggers discovery"
            ),
            Self::NotAProxy { reason } => write!(f, "no proxy identity pair: {reason}"),
            Self::NoPermitEntry { acl } => write!(f, "crypto access list {acl} has no permit line, so it protects nothing"),
            Self::NoAddress { map } => write!(f, "crypto map {map} is applied but the interface has no address"),
            Self::OutOfRange { what, value, min, max } => write!(f, "{what} {value} is outside {min}-{max}"),
            Self::NonContiguousMask { mask } => write!(f, "mask {mask} is not contiguous"),
            Self::NoPresharedKey => f.write_str("the policy authenticates with pre-shared keys but no key is configured"),
            Self::AaaWithoutNewModel => f.write_str("AAA method lists need `aaa new-model`"),
            Self::PoolOverlap { other } => write!(f, "a range overlaps a range of pool {other}"),
            Self::NoGroupKey => f.write_str("the group has no key, so its clients cannot authenticate with a pre-shared key"),
            Self::MissingPool { name } => write!(f, "pool {name} does not exist, so clients get no address"),
            Self::NotASplitNetwork { group } => write!(f, "the source of this permit line is no network; it is left out of group {group}'s split tunnel"),
            Self::MissingAaaList { list, kind } => write!(f, "aaa {kind} list {list} is not configured, so clients cannot be authenticated"),
            Self::NoGroupAuthorization => f.write_str("client lines without `isakmp authorization list`, so client groups are not looked up"),
            Self::UnsupportedCredential { form } => {
                let why = if form.ends_with('7') {
                    " (type 7 is a reversible obfuscation, not a hash: give the password as `password 0` or in the users file)"
                } else {
                    ""
                };
                write!(f, "a `{form}` password cannot check XAUTH logins (only clear-text passwords, hashed at load, are supported){why}; the user cannot log in by XAUTH")
            }
        }
    }
}

/// One finding of [`Config::check`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Where.
    pub location: Location,
    /// What.
    pub kind: DiagnosticKind,
    /// The configuration line it comes from, when the configuration was
    /// imported from text.
    pub line: Option<usize>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.severity, self.location, self.kind)?;
        if let Some(line) = self.line {
            write!(f, " (line {line})")?;
        }
        Ok(())
    }
}

struct Findings(Vec<Diagnostic>);

impl Findings {
    fn push(&mut self, location: Location, kind: DiagnosticKind) {
        self.0.push(Diagnostic {
            severity: kind.severity(),
            location,
            kind,
            line: None,
        });
    }

    fn range(&mut self, location: &Location, what: &'static str, value: u64, min: u64, max: u64) {
        if value < min || value > max {
            self.push(
                location.clone(),
                DiagnosticKind::OutOfRange {
                    what,
                    value,
                    min,
                    max,
                },
            );
        }
    }
}

fn is_contiguous(mask: Ipv4Addr) -> bool {
    let m = u32::from(mask);
    m.leading_ones() + m.trailing_zeros() == 32
}

impl Config {
    /// Cross-checks the configuration; see the [module](self) table for
    /// what is reported and how severely. Findings come in configuration
    /// order: ISAKMP, SA lifetimes, dynamic maps, crypto maps, interfaces,
    /// remote access (AAA lists, users, pools, client groups, the crypto
    /// maps' client lines), routes.
    pub fn check(&self) -> Vec<Diagnostic> {
        let mut out = Findings(Vec::new());
        self.check_isakmp(&mut out);
        let global = Location::Global;
        let (smin, smax) = (
            *SaLifetime::SECONDS_RANGE.start(),
            *SaLifetime::SECONDS_RANGE.end(),
        );
        out.range(
            &global,
            "SA lifetime in seconds",
            u64::from(self.sa_lifetime.seconds),
            u64::from(smin),
            u64::from(smax),
        );
        let (kmin, kmax) = (
            *SaLifetime::KILOBYTES_RANGE.start(),
            *SaLifetime::KILOBYTES_RANGE.end(),
        );
        out.range(
            &global,
            "SA lifetime in kilobytes",
            self.sa_lifetime.kilobytes,
            kmin,
            kmax,
        );

        let mut checked_acls = BTreeSet::new();
        for dynamic in self.dynamic_maps() {
            for (seq, params) in dynamic.entries() {
                let at = Location::DynamicMapEntry {
                    map: dynamic.name().to_owned(),
                    seq,
                };
                self.check_params(&mut out, &at, params, false, &mut checked_acls);
            }
        }
        for map in self.crypto_maps() {
            for (seq, entry) in map.entries() {
                let at = Location::CryptoMapEntry {
                    map: map.name().to_owned(),
                    seq,
                };
                match entry {
                    CryptoMapEntry::IpsecIsakmp(params) => {
                        self.check_params(&mut out, &at, params, true, &mut checked_acls);
                    }
                    CryptoMapEntry::Dynamic { template, discover } => match self
                        .dynamic_map(template)
                    {
                        None => out.push(
                            at,
                            DiagnosticKind::MissingDynamicMap {
                                name: template.clone(),
                            },
                        ),
                        Some(d) => {
                            if *discover && d.entries().all(|(_, p)| p.match_address.is_none()) {
                                out.push(
                                    at,
                                    DiagnosticKind::DiscoverWithoutAccessList {
                                        template: template.clone(),
                                    },
                                );
                            }
                        }
                    },
                    CryptoMapEntry::Derived(_) => {}
                }
            }
            if let Some(name) = &map.local_address
                && !self.interfaces().iter().any(|i| i.name() == name)
            {
                out.push(
                    Location::CryptoMapLocalAddress(map.name().to_owned()),
                    DiagnosticKind::MissingInterface { name: name.clone() },
                );
            }
        }
        for interface in self.interfaces() {
            let at = Location::Interface(interface.name().clone());
            for a in interface.addresses() {
                if !is_contiguous(a.mask) {
                    out.push(
                        at.clone(),
                        DiagnosticKind::NonContiguousMask { mask: a.mask },
                    );
                }
            }
            if let Some(map) = &interface.crypto_map {
                if self.crypto_map(map).is_none() {
                    out.push(
                        at.clone(),
                        DiagnosticKind::MissingCryptoMap { name: map.clone() },
                    );
                }
                if interface.address.is_none() {
                    out.push(at, DiagnosticKind::NoAddress { map: map.clone() });
                }
            }
        }
        self.check_remote_access(&mut out);
        for route in &self.routes {
            if !is_contiguous(route.mask) {
                out.push(
                    Location::Route {
                        prefix: route.prefix,
                        mask: route.mask,
                    },
                    DiagnosticKind::NonContiguousMask { mask: route.mask },
                );
            }
        }
        out.0
    }

    fn check_remote_access(&self, out: &mut Findings) {
        let ra = &self.remote_access;
        if !ra.aaa_new_model {
            for list in ra.authentication_lists() {
                out.push(
                    Location::AaaLogin(list.to_owned()),
                    DiagnosticKind::AaaWithoutNewModel,
                );
            }
            for list in ra.authorization_lists() {
                out.push(
                    Location::AaaNetwork(list.to_owned()),
                    DiagnosticKind::AaaWithoutNewModel,
                );
            }
        }
        let range = RemoteAccess::XAUTH_TIMEOUT_RANGE;
        out.range(
            &Location::Global,
            "XAUTH timeout",
            u64::from(ra.xauth_timeout),
            u64::from(*range.start()),
            u64::from(*range.end()),
        );
        for user in ra.users() {
            if user.xauth_password().is_none() {
                out.push(
                    Location::LocalUser(user.name().to_owned()),
                    DiagnosticKind::UnsupportedCredential {
                        form: user.credential.keywords(),
                    },
                );
            }
        }
        let pools: Vec<_> = ra.pools().collect();
        for (i, pool) in pools.iter().enumerate() {
            for other in pools.iter().skip(i.saturating_add(1)) {
                let overlap = pool
                    .ranges()
                    .iter()
                    .any(|a| other.ranges().iter().any(|b| a.overlaps(b)));
                if overlap {
                    out.push(
                        Location::LocalPool(other.name().to_owned()),
                        DiagnosticKind::PoolOverlap {
                            other: pool.name().to_owned(),
                        },
                    );
                }
            }
        }
        for group in ra.groups() {
            let at = Location::ClientGroup(group.name().to_owned());
            if group.key.is_none() {
                out.push(at.clone(), DiagnosticKind::NoGroupKey);
            }
            if let Some(pool) = &group.pool
                && ra.pool(pool).is_none()
            {
                out.push(
                    at.clone(),
                    DiagnosticKind::MissingPool { name: pool.clone() },
                );
            }
            if let Some(name) = &group.acl {
                match self.access_list(name) {
                    None => out.push(
                        at.clone(),
                        DiagnosticKind::MissingAccessList { name: name.clone() },
                    ),
                    Some(acl) => {
                        for (seq, rule) in acl.rules() {
                            if rule.action() == Action::Permit && rule.source().netmask().is_none()
                            {
                                out.push(
                                    Location::AccessListEntry {
                                        acl: name.clone(),
                                        seq,
                                    },
                                    DiagnosticKind::NotASplitNetwork {
                                        group: group.name().to_owned(),
                                    },
                                );
                            }
                        }
                    }
                }
            }
            for (what, count, max) in [
                (
                    "number of DNS servers",
                    group.dns.len(),
                    ClientGroup::MAX_SERVERS,
                ),
                (
                    "number of WINS servers",
                    group.wins.len(),
                    ClientGroup::MAX_SERVERS,
                ),
                (
                    "number of backup gateways",
                    group.backup_gateways.len(),
                    ClientGroup::MAX_BACKUP_GATEWAYS,
                ),
                (
                    "banner length",
                    group.banner.as_ref().map_or(0, String::len),
                    ClientGroup::MAX_BANNER_LEN,
                ),
            ] {
                out.range(
                    &at,
                    what,
                    u64::try_from(count).unwrap_or(u64::MAX),
                    0,
                    u64::try_from(max).unwrap_or(u64::MAX),
                );
            }
        }
        for (map, settings) in ra.maps() {
            let at = Location::CryptoMapClient(map.to_owned());
            if self.crypto_map(map).is_none() {
                out.push(
                    at.clone(),
                    DiagnosticKind::MissingCryptoMap {
                        name: map.to_owned(),
                    },
                );
            }
            if let Some(list) = &settings.authentication_list
                && !ra.has_authentication_list(list)
            {
                out.push(
                    at.clone(),
                    DiagnosticKind::MissingAaaList {
                        list: list.clone(),
                        kind: "authentication login",
                    },
                );
            }
            match &settings.authorization_list {
                Some(list) if !ra.has_authorization_list(list) => out.push(
                    at.clone(),
                    DiagnosticKind::MissingAaaList {
                        list: list.clone(),
                        kind: "authorization network",
                    },
                ),
                Some(_) => {}
                None => out.push(at.clone(), DiagnosticKind::NoGroupAuthorization),
            }
        }
    }

    fn check_isakmp(&self, out: &mut Findings) {
        let (pmin, pmax) = (
            *IsakmpPolicy::PRIORITY_RANGE.start(),
            *IsakmpPolicy::PRIORITY_RANGE.end(),
        );
        let (lmin, lmax) = (
            *IsakmpPolicy::LIFETIME_RANGE.start(),
            *IsakmpPolicy::LIFETIME_RANGE.end(),
        );
        // A client group's key is a pre-shared key too (its clients'
        // Aggressive Mode authenticates with it).
        let no_keys =
            self.isakmp.keys().is_empty() && self.remote_access.groups().all(|g| g.key.is_none());
        for policy in self.isakmp.policies() {
            let at = Location::IsakmpPolicy(policy.priority);
            out.range(
                &at,
                "policy priority",
                u64::from(policy.priority),
                u64::from(pmin),
                u64::from(pmax),
            );
            out.range(
                &at,
                "ISAKMP lifetime",
                u64::from(policy.lifetime),
                u64::from(lmin),
                u64::from(lmax),
            );
            if policy.authentication == IsakmpAuthentication::PreShare && no_keys {
                out.push(at, DiagnosticKind::NoPresharedKey);
            }
        }
        for key in self.isakmp.keys() {
            if let PskPeer::Address { address, mask } = key.peer
                && !is_contiguous(mask)
            {
                out.push(
                    Location::IsakmpKey { address, mask },
                    DiagnosticKind::NonContiguousMask { mask },
                );
            }
        }
        if let Some(k) = self.isakmp.keepalive {
            let (imin, imax) = (
                *Keepalive::INTERVAL_RANGE.start(),
                *Keepalive::INTERVAL_RANGE.end(),
            );
            let (rmin, rmax) = (
                *Keepalive::RETRY_RANGE.start(),
                *Keepalive::RETRY_RANGE.end(),
            );
            out.range(
                &Location::Global,
                "keepalive interval",
                u64::from(k.interval),
                u64::from(imin),
                u64::from(imax),
            );
            out.range(
                &Location::Global,
                "keepalive retry",
                u64::from(k.retry),
                u64::from(rmin),
                u64::from(rmax),
            );
        }
    }

    fn check_params(
        &self,
        out: &mut Findings,
        at: &Location,
        params: &MapParams,
        is_static: bool,
        checked_acls: &mut BTreeSet<AclName>,
    ) {
        if is_static && params.peers.is_empty() {
            out.push(at.clone(), DiagnosticKind::NoPeer);
        }
        if params.transform_sets.is_empty() {
            out.push(at.clone(), DiagnosticKind::NoTransformSet);
        }
        if params.transform_sets.len() > MapParams::MAX_TRANSFORM_SETS {
            out.push(
                at.clone(),
                DiagnosticKind::TooManyTransformSets {
                    count: params.transform_sets.len(),
                },
            );
        }
        for name in &params.transform_sets {
            if self.transform_set(name).is_none() {
                out.push(
                    at.clone(),
                    DiagnosticKind::MissingTransformSet { name: name.clone() },
                );
            }
        }
        if let Some(seconds) = params.lifetime.seconds {
            let (min, max) = (
                *SaLifetime::SECONDS_RANGE.start(),
                *SaLifetime::SECONDS_RANGE.end(),
            );
            out.range(
                at,
                "SA lifetime in seconds",
                u64::from(seconds),
                u64::from(min),
                u64::from(max),
            );
        }
        if let Some(kb) = params.lifetime.kilobytes {
            let (min, max) = (
                *SaLifetime::KILOBYTES_RANGE.start(),
                *SaLifetime::KILOBYTES_RANGE.end(),
            );
            out.range(at, "SA lifetime in kilobytes", kb, min, max);
        }
        match &params.match_address {
            None if is_static => out.push(at.clone(), DiagnosticKind::NoAccessList),
            None => {}
            Some(name) => match self.access_list(name) {
                None => out.push(
                    at.clone(),
                    DiagnosticKind::MissingAccessList { name: name.clone() },
                ),
                Some(acl) => {
                    if !checked_acls.insert(name.clone()) {
                        return;
                    }
                    let mut any_permit = false;
                    for (seq, rule) in acl.rules() {
                        if rule.action() != Action::Permit {
                            continue;
                        }
                        any_permit = true;
                        if let Err(reason) = rule.proxy() {
                            out.push(
                                Location::AccessListEntry {
                                    acl: name.clone(),
                                    seq,
                                },
                                DiagnosticKind::NotAProxy { reason },
                            );
                        }
                    }
                    if !any_permit {
                        out.push(
                            at.clone(),
                            DiagnosticKind::NoPermitEntry { acl: name.clone() },
                        );
                    }
                }
            },
        }
    }
}
