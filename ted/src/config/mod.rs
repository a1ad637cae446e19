//! The policy model: an IOS router's crypto configuration.
//!
//! [`Config`] holds what the crypto subset of an IOS 12.2 running-config
//! says: ISAKMP policies and pre-shared keys ([`isakmp`]), transform sets and
//! SA lifetimes ([`ipsec`]), crypto maps and dynamic maps ([`map`]), access
//! lists ([`crate::acl`]), interfaces and static routes ([`iface`]), the
//! remote-access server's groups, pools, users and AAA lists
//! ([`remote_access`]), trustpoints and certificate chains ([`pki`]), and
//! the host name. It is IOS-level and self-contained: values keep IOS's names
//! and defaults, and the gateway translates them into the IKE and ESP
//! crates' types.
//!
//! A `Config` comes from [`ios::parse`] or is built through its
//! methods; [`Config::check`] cross-checks the references between its parts
//! the way IOS would (see [`check`]). At run time the gateway adds and
//! removes the crypto map entries TED derives from dynamic map templates
//! ([`Config::derive_entry`], [`Config::remove_derived_entry`]).

pub mod check;
pub mod iface;
pub mod ios;
pub mod ipsec;
pub mod isakmp;
pub mod map;
pub mod pki;
pub mod remote_access;

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::acl::{AccessList, AclName, Action, Flow};

pub use check::{Diagnostic, DiagnosticKind, Location, Severity};
pub use iface::{Interface, InterfaceAddress, InterfaceName, NextHop, RouteLookup, StaticRoute};
pub use ipsec::{
    EncapsulationMode, LifetimeOverride, SaLifetime, Transform, TransformKind, TransformSet,
    TransformSetError,
};
pub use isakmp::{
    AesKeySize, DhGroup, IsakmpAuthentication, IsakmpConfig, IsakmpEncryption, IsakmpHash,
    IsakmpIdentity, IsakmpPolicy, Keepalive, KeepaliveMode, Keyring, KeyringLocalAddress,
    PresharedKey, PskEntry, PskPeer,
};
pub use map::{CryptoMap, CryptoMapEntry, DerivedEntry, DynamicMap, MapError, MapParams};
pub use pki::{
    CertificateChain, CertificateKind, ChainCertificate, Enrollment, Pki, RevocationCheck,
    RsaKeypair, Trustpoint,
};
pub use remote_access::{
    ClientGroup, Credential, LocalPool, LocalUser, MapClientConfig, ModeCfgDirection, RemoteAccess,
    SecretText, SplitNetwork,
};

/// How deep a route lookup follows recursive next hops.
const MAX_ROUTE_RECURSION: u8 = 8;
/// How many static routes one lookup may try in all, so that a
/// configuration full of looping routes cannot make it take exponential
/// time.
const MAX_ROUTE_ATTEMPTS: u32 = 256;

/// A router's crypto configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `hostname` ("Router" unless set).
    pub hostname: String,
    /// Phase-1 settings.
    pub isakmp: IsakmpConfig,
    /// `crypto ipsec security-association lifetime`.
    pub sa_lifetime: SaLifetime,
    /// `crypto ipsec nat-transparency udp-encapsulation`: NAT traversal
    /// (RFC 3947/3948), on unless the configuration says `no crypto ipsec
    /// nat-transparency udp-encapsulation`, as on IOS from 12.2(13)T.
    pub nat_transparency: bool,
    /// `ip route` lines, in configuration order.
    pub routes: Vec<StaticRoute>,
    /// The remote-access (Easy VPN server) settings: client groups,
    /// `ip local pool`, `username`, `aaa` lists, the crypto maps' `client`
    /// lines, the XAUTH timeout.
    pub remote_access: RemoteAccess,
    /// `crypto pki trustpoint` and `crypto pki certificate chain`.
    pub pki: Pki,
    keyrings: BTreeMap<String, Keyring>,
    transform_sets: BTreeMap<String, TransformSet>,
    dynamic_maps: BTreeMap<String, DynamicMap>,
    crypto_maps: BTreeMap<String, CryptoMap>,
    access_lists: BTreeMap<AclName, AccessList>,
    interfaces: Vec<Interface>,
    /// Position of each interface in `interfaces`, so that lookups by name
    /// stay logarithmic in configurations with thousands of interfaces.
    interface_index: BTreeMap<InterfaceName, usize>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            hostname: Self::DEFAULT_HOSTNAME.to_owned(),
            isakmp: IsakmpConfig::default(),
            sa_lifetime: SaLifetime::DEFAULT,
            nat_transparency: true,
            routes: Vec::new(),
            remote_access: RemoteAccess::default(),
            pki: Pki::default(),
            keyrings: BTreeMap::new(),
            transform_sets: BTreeMap::new(),
            dynamic_maps: BTreeMap::new(),
            crypto_maps: BTreeMap::new(),
            access_lists: BTreeMap::new(),
            interfaces: Vec::new(),
            interface_index: BTreeMap::new(),
        }
    }
}

/// Where a packet falls in a crypto map ([`Config::classify`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MapMatch {
    /// The crypto map entry.
    pub seq: u32,
    /// For an entry referring to a dynamic map, the template entry whose
    /// access list matched.
    pub template_seq: Option<u32>,
    /// The access list that matched.
    pub acl: AclName,
    /// The access list line that matched.
    pub acl_seq: u32,
    /// Whether the entry has `discover` (TED) on.
    pub discover: bool,
}

impl Config {
    /// The host name IOS starts with.
    pub const DEFAULT_HOSTNAME: &'static str = "Router";

    /// An empty configuration (`Router`, no crypto, default lifetimes).
    pub fn new() -> Self {
        Self::default()
    }

    // --- keyrings ---

    /// The `crypto keyring` with this name.
    pub fn keyring(&self, name: &str) -> Option<&Keyring> {
        self.keyrings.get(name)
    }

    /// The `crypto keyring` with this name, created empty if missing.
    pub fn keyring_mut(&mut self, name: &str) -> &mut Keyring {
        self.keyrings
            .entry(name.to_owned())
            .or_insert_with(|| Keyring::new(name))
    }

    /// The `crypto keyring` blocks, by name.
    pub fn keyrings(&self) -> impl Iterator<Item = &Keyring> + '_ {
        self.keyrings.values()
    }

    /// Removes a `crypto keyring`.
    pub fn remove_keyring(&mut self, name: &str) -> Option<Keyring> {
        self.keyrings.remove(name)
    }

    // --- transform sets ---

    /// A transform set by name.
    pub fn transform_set(&self, name: &str) -> Option<&TransformSet> {
        self.transform_sets.get(name)
    }

    /// A transform set by name, to change its mode or transforms.
    pub fn transform_set_mut(&mut self, name: &str) -> Option<&mut TransformSet> {
        self.transform_sets.get_mut(name)
    }

    /// All transform sets, by name.
    pub fn transform_sets(&self) -> impl Iterator<Item = &TransformSet> + '_ {
        self.transform_sets.values()
    }

    /// Adds a transform set, replacing (and returning) one of that name.
    pub fn add_transform_set(&mut self, set: TransformSet) -> Option<TransformSet> {
        self.transform_sets.insert(set.name().to_owned(), set)
    }

    /// Removes a transform set.
    pub fn remove_transform_set(&mut self, name: &str) -> Option<TransformSet> {
        self.transform_sets.remove(name)
    }

    // --- dynamic maps ---

    /// A dynamic map by name.
    pub fn dynamic_map(&self, name: &str) -> Option<&DynamicMap> {
        self.dynamic_maps.get(name)
    }

    /// A dynamic map by name, created empty if it does not exist.
    pub fn dynamic_map_mut(&mut self, name: &str) -> &mut DynamicMap {
        self.dynamic_maps
            .entry(name.to_owned())
            .or_insert_with(|| DynamicMap::new(name))
    }

    /// All dynamic maps, by name.
    pub fn dynamic_maps(&self) -> impl Iterator<Item = &DynamicMap> + '_ {
        self.dynamic_maps.values()
    }

    /// Removes a dynamic map.
    pub fn remove_dynamic_map(&mut self, name: &str) -> Option<DynamicMap> {
        self.dynamic_maps.remove(name)
    }

    // --- crypto maps ---

    /// A crypto map by name.
    pub fn crypto_map(&self, name: &str) -> Option<&CryptoMap> {
        self.crypto_maps.get(name)
    }

    /// A crypto map by name, created empty if it does not exist.
    pub fn crypto_map_mut(&mut self, name: &str) -> &mut CryptoMap {
        self.crypto_maps
            .entry(name.to_owned())
            .or_insert_with(|| CryptoMap::new(name))
    }

    /// All crypto maps, by name.
    pub fn crypto_maps(&self) -> impl Iterator<Item = &CryptoMap> + '_ {
        self.crypto_maps.values()
    }

    /// Removes a crypto map.
    pub fn remove_crypto_map(&mut self, name: &str) -> Option<CryptoMap> {
        self.crypto_maps.remove(name)
    }

    /// Creates, at run time, the crypto map entry a dynamic template yields
    /// for a peer (what IOS shows as "dynamic (created from dynamic map
    /// ted-map/10)"): the template entry `template_seq` of the dynamic map
    /// that entry `parent_seq` of crypto map `map` refers to, with the peer
    /// set. It takes the first free sequence number above the parent (11
    /// for the seed's `tedtag 10`), which it returns.
    pub fn derive_entry(
        &mut self,
        map: &str,
        parent_seq: u32,
        template_seq: u32,
        peer: Ipv4Addr,
    ) -> Result<u32, MapError> {
        let crypto_map = self
            .crypto_maps
            .get(map)
            .ok_or_else(|| MapError::NoSuchMap {
                map: map.to_owned(),
            })?;
        let template = match crypto_map.entry(parent_seq) {
            Some(CryptoMapEntry::Dynamic { template, .. }) => template.clone(),
            Some(_) => {
                return Err(MapError::NotDynamic {
                    map: map.to_owned(),
                    seq: parent_seq,
                });
            }
            None => {
                return Err(MapError::NoSuchEntry {
                    map: map.to_owned(),
                    seq: parent_seq,
                });
            }
        };
        let mut params = self
            .dynamic_maps
            .get(&template)
            .and_then(|d| d.entry(template_seq))
            .ok_or_else(|| MapError::NoSuchTemplateEntry {
                template: template.clone(),
                seq: template_seq,
            })?
            .clone();
        params.peers = vec![peer];
        let derived = DerivedEntry {
            template,
            template_seq,
            parent_seq,
            peer,
            params,
        };
        self.crypto_map_mut(map).add_derived(derived)
    }

    /// Removes an entry [`Config::derive_entry`] created (when its SAs are
    /// gone). Configured entries are refused.
    pub fn remove_derived_entry(&mut self, map: &str, seq: u32) -> Result<DerivedEntry, MapError> {
        let crypto_map = self
            .crypto_maps
            .get_mut(map)
            .ok_or_else(|| MapError::NoSuchMap {
                map: map.to_owned(),
            })?;
        match crypto_map.entry(seq) {
            Some(CryptoMapEntry::Derived(_)) => {}
            Some(_) => {
                return Err(MapError::NotDerived {
                    map: map.to_owned(),
                    seq,
                });
            }
            None => {
                return Err(MapError::NoSuchEntry {
                    map: map.to_owned(),
                    seq,
                });
            }
        }
        match crypto_map.remove(seq) {
            Some(CryptoMapEntry::Derived(d)) => Ok(d),
            _ => Err(MapError::NoSuchEntry {
                map: map.to_owned(),
                seq,
            }),
        }
    }

    /// Which configured entry of crypto map `map` a packet falls under, as
    /// IOS evaluates it: entries in sequence order (derived entries are
    /// skipped: they are instances of their parent's template); an entry
    /// takes the packet when the first matching line of its access list is
    /// a `permit` (a `deny`, or no match, passes the packet on to the next
    /// entry). An entry referring to a dynamic map is tried with each
    /// template entry's access list in turn. `None`: the map does not
    /// protect the packet.
    pub fn classify(&self, map: &str, flow: &Flow) -> Option<MapMatch> {
        let crypto_map = self.crypto_maps.get(map)?;
        let permitted = |params: &MapParams| -> Option<(AclName, u32)> {
            let name = params.match_address.as_ref()?;
            let (acl_seq, rule) = self.access_lists.get(name)?.first_match(flow)?;
            (rule.action() == Action::Permit).then(|| (name.clone(), acl_seq))
        };
        for (seq, entry) in crypto_map.entries() {
            match entry {
                CryptoMapEntry::IpsecIsakmp(params) => {
                    if let Some((acl, acl_seq)) = permitted(params) {
                        return Some(MapMatch {
                            seq,
                            template_seq: None,
                            acl,
                            acl_seq,
                            discover: false,
                        });
                    }
                }
                CryptoMapEntry::Dynamic { template, discover } => {
                    let Some(dynamic) = self.dynamic_maps.get(template) else {
                        continue;
                    };
                    for (template_seq, params) in dynamic.entries() {
                        if let Some((acl, acl_seq)) = permitted(params) {
                            return Some(MapMatch {
                                seq,
                                template_seq: Some(template_seq),
                                acl,
                                acl_seq,
                                discover: *discover,
                            });
                        }
                    }
                }
                CryptoMapEntry::Derived(_) => {}
            }
        }
        None
    }

    // --- access lists ---

    /// An access list by name or number.
    pub fn access_list(&self, name: &AclName) -> Option<&AccessList> {
        self.access_lists.get(name)
    }

    /// An access list, to change it.
    pub fn access_list_mut(&mut self, name: &AclName) -> Option<&mut AccessList> {
        self.access_lists.get_mut(name)
    }

    /// All access lists: numbered ones by number, then named ones by name.
    pub fn access_lists(&self) -> impl Iterator<Item = &AccessList> + '_ {
        self.access_lists.values()
    }

    /// Adds an access list, replacing (and returning) one of that name.
    pub fn add_access_list(&mut self, acl: AccessList) -> Option<AccessList> {
        self.access_lists.insert(acl.name().clone(), acl)
    }

    /// Removes an access list.
    pub fn remove_access_list(&mut self, name: &AclName) -> Option<AccessList> {
        self.access_lists.remove(name)
    }

    // --- interfaces and routes ---

    /// An interface by name; abbreviations are accepted (`Fa0/0`).
    pub fn interface(&self, name: &str) -> Option<&Interface> {
        let at = *self.interface_index.get(&InterfaceName::new(name))?;
        self.interfaces.get(at)
    }

    /// An interface by name, to change its settings (its name is fixed).
    pub fn interface_mut(&mut self, name: &str) -> Option<&mut Interface> {
        let at = *self.interface_index.get(&InterfaceName::new(name))?;
        self.interfaces.get_mut(at)
    }

    /// The interfaces in configuration order.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// Adds an interface at the end, or replaces (and returns) the one of
    /// that name in place.
    pub fn add_interface(&mut self, interface: Interface) -> Option<Interface> {
        match self.interface_index.get(interface.name()) {
            Some(&at) => self
                .interfaces
                .get_mut(at)
                .map(|slot| core::mem::replace(slot, interface)),
            None => {
                self.interface_index
                    .insert(interface.name().clone(), self.interfaces.len());
                self.interfaces.push(interface);
                None
            }
        }
    }

    /// Removes an interface.
    pub fn remove_interface(&mut self, name: &str) -> Option<Interface> {
        let at = self.interface_index.remove(&InterfaceName::new(name))?;
        if at >= self.interfaces.len() {
            return None;
        }
        let removed = self.interfaces.remove(at);
        for slot in self.interface_index.values_mut() {
            if *slot > at {
                *slot -= 1;
            }
        }
        Some(removed)
    }

    /// The interfaces a crypto map is applied to.
    pub fn interfaces_using<'a>(
        &'a self,
        map: &'a str,
    ) -> impl Iterator<Item = &'a Interface> + 'a {
        self.interfaces
            .iter()
            .filter(move |i| i.crypto_map.as_deref() == Some(map))
    }

    /// The local IKE address of a crypto map: the address of its
    /// `local-address` interface, else of the first interface it is applied
    /// to.
    pub fn crypto_map_local_address(&self, map: &str) -> Option<Ipv4Addr> {
        let by_local = self
            .crypto_maps
            .get(map)
            .and_then(|m| m.local_address.as_ref())
            .and_then(|name| self.interface(name.as_str()));
        by_local
            .or_else(|| self.interfaces_using(map).next())
            .and_then(|i| i.address)
            .map(|a| a.address)
    }

    /// Where a packet to `destination` leaves: the longest matching prefix
    /// among the connected subnets of interfaces that are up and the static
    /// routes (a connected subnet wins a tie; among static routes of equal
    /// length, the lower distance), a static route's next hop resolved
    /// recursively to its interface.
    pub fn route(&self, destination: Ipv4Addr) -> Option<RouteLookup> {
        let mut budget = MAX_ROUTE_ATTEMPTS;
        self.route_depth(destination, 0, &mut budget)
    }

    fn route_depth(
        &self,
        destination: Ipv4Addr,
        depth: u8,
        budget: &mut u32,
    ) -> Option<RouteLookup> {
        if depth > MAX_ROUTE_RECURSION {
            return None;
        }
        let connected = self
            .interfaces
            .iter()
            .filter(|i| !i.shutdown)
            .flat_map(|i| i.addresses().map(move |a| (i, a)))
            .filter(|(_, a)| a.contains(destination))
            .max_by_key(|(_, a)| a.prefix_len());
        let mut statics: Vec<&StaticRoute> = self
            .routes
            .iter()
            .filter(|r| r.covers(destination))
            .collect();
        statics.sort_by_key(|r| {
            (
                core::cmp::Reverse(u32::from(r.mask).leading_ones()),
                r.distance,
            )
        });
        for route in statics {
            let len = u32::from(route.mask).leading_ones();
            if let Some((_, a)) = connected
                && a.prefix_len() >= len
            {
                break;
            }
            let Some(left) = budget.checked_sub(1) else {
                break;
            };
            *budget = left;
            let resolved = match &route.next_hop {
                NextHop::Address(hop) => self
                    .route_depth(*hop, depth.saturating_add(1), budget)
                    .map(|r| RouteLookup {
                        interface: r.interface,
                        next_hop: *hop,
                    }),
                NextHop::Interface { interface, address } => Some(RouteLookup {
                    interface: interface.clone(),
                    next_hop: address.unwrap_or(destination),
                }),
            };
            if resolved.is_some() {
                return resolved;
            }
        }
        connected.map(|(i, _)| RouteLookup {
            interface: i.name().clone(),
            next_hop: destination,
        })
    }
}
