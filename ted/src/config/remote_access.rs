//! Remote access (Cisco Easy VPN Server, IOS 12.2(8)T and later): client
//! groups, local address pools, local users and the AAA lists that tie
//! them to a crypto map.
//!
//! The commands modelled (Cisco IOS Security Command Reference, "Easy VPN
//! Server"):
//!
//! - `aaa new-model`, `aaa authentication login LIST local`, `aaa
//!   authorization network LIST local`: method lists; only the `local`
//!   method (the router's own users and groups) is supported, so a list
//!   in the model is a local list;
//! - `username NAME [privilege N] password [0|7] TEXT` and `username NAME
//!   [privilege N] secret [0|5] TEXT` ([`LocalUser`]); only clear-text
//!   forms can check an XAUTH password (see [`Credential`]);
//! - `ip local pool NAME START [END]`, repeated to add ranges
//!   ([`LocalPool`]);
//! - `crypto isakmp client configuration group NAME` and its sub-mode
//!   ([`ClientGroup`]): the group key, DNS and WINS servers, domain,
//!   address pool, split-tunnel ACL, `save-password`,
//!   `include-local-lan`, `pfs`, `banner`, `backup-gateway`, `max-users`,
//!   `firewall are-u-there`;
//! - `crypto map NAME client authentication list LIST` (XAUTH), `crypto map
//!   NAME isakmp authorization list LIST` (where groups are looked up),
//!   `crypto map NAME client configuration address respond|initiate`
//!   (Mode-Config: the client asks, or the gateway pushes)
//!   ([`MapClientConfig`]);
//! - `crypto isakmp xauth timeout SECONDS` (5-90, default 60).
//!
//! The gateway reads them through [`Config::client_group`],
//! [`Config::pool`], [`Config::xauth_list_for_map`],
//! [`Config::group_authorization_list_for_map`],
//! [`Config::mode_cfg_direction`], [`Config::split_networks`] and
//! [`Config::local_users`]; the run-time stores (leases, password hashes)
//! are in [`crate::remote_access`].

use core::fmt;
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::ops::RangeInclusive;

use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

use super::Config;
use super::isakmp::PresharedKey;
use crate::acl::{AclName, Action};
use crate::remote_access::pool::{self, AddressPool, PoolError, PoolRange};

/// Secret text typed in the configuration (a clear-text password, an IOS
/// password hash): wiped when dropped, never shown by `Debug`, compared in
/// constant time.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretText(Box<[u8]>);

impl SecretText {
    /// Copies the text into a buffer of its exact size.
    pub fn new(text: &[u8]) -> Self {
        Self(Box::from(text))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

impl PartialEq for SecretText {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SecretText {}

/// How a `username` line gives the password.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credential {
    /// `password [0] TEXT`: in clear.
    Password(SecretText),
    /// `password 7 TEXT`: IOS's reversible type-7 encoding. Not accepted
    /// for XAUTH: it hides nothing, and the project does not decode it.
    PasswordType7(SecretText),
    /// `secret 0 TEXT`: in clear (IOS would store it as a type-5 hash).
    SecretClear(SecretText),
    /// `secret 5 HASH`: an MD5-crypt hash. Not accepted for XAUTH: the
    /// project verifies argon2id hashes only.
    SecretMd5(SecretText),
}

impl Credential {
    /// The clear-text password, for the forms XAUTH can check.
    pub fn clear_text(&self) -> Option<&[u8]> {
        match self {
            Self::Password(t) | Self::SecretClear(t) => Some(t.as_bytes()),
            Self::PasswordType7(_) | Self::SecretMd5(_) => None,
        }
    }

    /// The configuration keywords: `password 0`, `secret 5`, ...
    pub fn keywords(&self) -> &'static str {
        match self {
            Self::Password(_) => "password 0",
            Self::PasswordType7(_) => "password 7",
            Self::SecretClear(_) => "secret 0",
            Self::SecretMd5(_) => "secret 5",
        }
    }

    /// The text after the keywords.
    pub fn text(&self) -> &SecretText {
        match self {
            Self::Password(t)
            | Self::PasswordType7(t)
            | Self::SecretClear(t)
            | Self::SecretMd5(t) => t,
        }
    }
}

/// One `username` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalUser {
    name: String,
    /// `privilege N` (0-15), if given.
    pub privilege: Option<u8>,
    /// The password.
    pub credential: Credential,
}

impl LocalUser {
    /// Privilege levels IOS accepts.
    pub const PRIVILEGE_RANGE: RangeInclusive<u8> = 0..=15;

    /// A user.
    pub fn new(name: &str, credential: Credential) -> Self {
        Self {
            name: name.to_owned(),
            privilege: None,
            credential,
        }
    }

    /// The user name (case-sensitive).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The clear-text password XAUTH checks, when the line gives one
    /// ([`Credential::clear_text`]).
    pub fn xauth_password(&self) -> Option<&[u8]> {
        self.credential.clear_text()
    }
}

/// One `ip local pool NAME` (all its lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalPool {
    name: String,
    ranges: Vec<PoolRange>,
}

impl LocalPool {
    /// A pool without ranges.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ranges: Vec::new(),
        }
    }

    /// The name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The ranges, lowest first.
    pub fn ranges(&self) -> &[PoolRange] {
        &self.ranges
    }

    /// Adds a range; one equal to a range of the pool changes nothing, one
    /// that overlaps a range of the pool is refused, as [`AddressPool`]
    /// refuses it.
    pub fn add_range(&mut self, range: PoolRange) -> Result<(), PoolError> {
        if self.ranges.contains(&range) {
            return Ok(());
        }
        let at = pool::insertion_point(&self.ranges, range)?;
        self.ranges.insert(at, range);
        Ok(())
    }

    /// The run-time pool of these ranges, empty of leases.
    pub fn address_pool<K: Ord + Clone>(&self) -> Result<AddressPool<K>, PoolError> {
        AddressPool::with_ranges(&self.name, self.ranges.iter().copied())
    }
}

/// A split-tunnel network: what the client sends through the tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SplitNetwork {
    /// The network address.
    pub address: Ipv4Addr,
    /// Its netmask.
    pub mask: Ipv4Addr,
}

/// One `crypto isakmp client configuration group NAME` block.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ClientGroup {
    name: String,
    /// `key TEXT`: the group's pre-shared key (the client's phase-1
    /// identity is the group name).
    pub key: Option<PresharedKey>,
    /// `dns A [B]`: up to two DNS servers.
    pub dns: Vec<Ipv4Addr>,
    /// `wins A [B]`: up to two WINS servers.
    pub wins: Vec<Ipv4Addr>,
    /// `domain NAME`: the default domain.
    pub domain: Option<String>,
    /// `pool NAME`: the `ip local pool` client addresses come from.
    pub pool: Option<String>,
    /// `acl NUMBER|NAME`: the split-tunnel list; its `permit` lines'
    /// source networks are the networks the client tunnels (everything
    /// else goes out in clear on the client's side).
    pub acl: Option<AclName>,
    /// `save-password`: the client may store the XAUTH password.
    pub save_password: bool,
    /// `include-local-lan`: the client may reach its own LAN in clear.
    pub include_local_lan: bool,
    /// `pfs`: the client must use PFS in Quick Mode.
    pub pfs: bool,
    /// `banner`: text the client shows after connecting (lines joined by
    /// `\n`).
    pub banner: Option<String>,
    /// `backup-gateway ADDR` lines, in order (at most
    /// [`ClientGroup::MAX_BACKUP_GATEWAYS`]).
    pub backup_gateways: Vec<Ipv4Addr>,
    /// `max-users N`: at most this many clients of the group at once.
    pub max_users: Option<u16>,
    /// `firewall are-u-there`: the client must run its personal firewall.
    pub firewall_are_u_there: bool,
}

impl ClientGroup {
    /// The most `backup-gateway` lines.
    pub const MAX_BACKUP_GATEWAYS: usize = 10;
    /// The most `dns` or `wins` servers.
    pub const MAX_SERVERS: usize = 2;
    /// The longest banner, in bytes.
    pub const MAX_BANNER_LEN: usize = 4096;
    /// The longest group key, in bytes (as for `crypto isakmp key`).
    pub const MAX_KEY_LEN: usize = 128;

    /// A group with nothing set.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// The group name (the client's phase-1 identity).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Who starts Mode-Config (`crypto map NAME client configuration address
/// ...`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ModeCfgDirection {
    /// `respond`: the client asks (REQUEST), the gateway replies (the
    /// Cisco VPN Client's way).
    Respond,
    /// `initiate`: the gateway pushes (SET), the client acknowledges.
    Initiate,
    /// Both lines: the gateway pushes and also answers requests.
    Both,
}

/// The `client` and `isakmp` lines of one crypto map.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct MapClientConfig {
    /// `client authentication list LIST`: XAUTH against this list.
    pub authentication_list: Option<String>,
    /// `isakmp authorization list LIST`: where client groups are looked up.
    pub authorization_list: Option<String>,
    /// `client configuration address initiate`.
    pub address_initiate: bool,
    /// `client configuration address respond`.
    pub address_respond: bool,
}

impl MapClientConfig {
    /// Whether no line is set.
    pub fn is_empty(&self) -> bool {
        self.authentication_list.is_none()
            && self.authorization_list.is_none()
            && !self.address_initiate
            && !self.address_respond
    }

    /// Who starts Mode-Config; `None` when neither line is set.
    pub fn direction(&self) -> Option<ModeCfgDirection> {
        match (self.address_initiate, self.address_respond) {
            (true, true) => Some(ModeCfgDirection::Both),
            (true, false) => Some(ModeCfgDirection::Initiate),
            (false, true) => Some(ModeCfgDirection::Respond),
            (false, false) => None,
        }
    }
}

/// The remote-access part of a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteAccess {
    /// `aaa new-model`.
    pub aaa_new_model: bool,
    /// `crypto isakmp xauth timeout SECONDS`: how long the gateway waits
    /// for the user's answer to an XAUTH request.
    pub xauth_timeout: u8,
    authentication_lists: BTreeSet<String>,
    authorization_lists: BTreeSet<String>,
    users: BTreeMap<String, LocalUser>,
    pools: BTreeMap<String, LocalPool>,
    groups: BTreeMap<String, ClientGroup>,
    maps: BTreeMap<String, MapClientConfig>,
}

impl Default for RemoteAccess {
    fn default() -> Self {
        Self {
            aaa_new_model: false,
            xauth_timeout: Self::DEFAULT_XAUTH_TIMEOUT,
            authentication_lists: BTreeSet::new(),
            authorization_lists: BTreeSet::new(),
            users: BTreeMap::new(),
            pools: BTreeMap::new(),
            groups: BTreeMap::new(),
            maps: BTreeMap::new(),
        }
    }
}

impl RemoteAccess {
    /// The XAUTH timeouts IOS accepts, in seconds.
    pub const XAUTH_TIMEOUT_RANGE: RangeInclusive<u8> = 5..=90;
    /// IOS's default XAUTH timeout.
    pub const DEFAULT_XAUTH_TIMEOUT: u8 = 60;

    /// Whether nothing remote-access is configured (field by field: no
    /// secret is compared).
    pub fn is_empty(&self) -> bool {
        !self.aaa_new_model
            && self.xauth_timeout == Self::DEFAULT_XAUTH_TIMEOUT
            && self.authentication_lists.is_empty()
            && self.authorization_lists.is_empty()
            && self.users.is_empty()
            && self.pools.is_empty()
            && self.groups.is_empty()
            && self.maps.is_empty()
    }

    // --- AAA lists ---

    /// `aaa authentication login LIST local` lists, by name.
    pub fn authentication_lists(&self) -> impl Iterator<Item = &str> + '_ {
        self.authentication_lists.iter().map(String::as_str)
    }

    /// Whether `aaa authentication login LIST local` is configured.
    pub fn has_authentication_list(&self, list: &str) -> bool {
        self.authentication_lists.contains(list)
    }

    /// Adds `aaa authentication login LIST local`.
    pub fn add_authentication_list(&mut self, list: &str) {
        self.authentication_lists.insert(list.to_owned());
    }

    /// Removes an authentication list.
    pub fn remove_authentication_list(&mut self, list: &str) -> bool {
        self.authentication_lists.remove(list)
    }

    /// `aaa authorization network LIST local` lists, by name.
    pub fn authorization_lists(&self) -> impl Iterator<Item = &str> + '_ {
        self.authorization_lists.iter().map(String::as_str)
    }

    /// Whether `aaa authorization network LIST local` is configured.
    pub fn has_authorization_list(&self, list: &str) -> bool {
        self.authorization_lists.contains(list)
    }

    /// Adds `aaa authorization network LIST local`.
    pub fn add_authorization_list(&mut self, list: &str) {
        self.authorization_lists.insert(list.to_owned());
    }

    /// Removes an authorization list.
    pub fn remove_authorization_list(&mut self, list: &str) -> bool {
        self.authorization_lists.remove(list)
    }

    // --- users ---

    /// A local user by name.
    pub fn user(&self, name: &str) -> Option<&LocalUser> {
        self.users.get(name)
    }

    /// The local users, by name.
    pub fn users(&self) -> impl Iterator<Item = &LocalUser> + '_ {
        self.users.values()
    }

    /// Adds a user, replacing (and returning) one of that name, as a new
    /// `username` line for the same name does.
    pub fn add_user(&mut self, user: LocalUser) -> Option<LocalUser> {
        self.users.insert(user.name.clone(), user)
    }

    /// Removes a user.
    pub fn remove_user(&mut self, name: &str) -> Option<LocalUser> {
        self.users.remove(name)
    }

    // --- pools ---

    /// A pool by name.
    pub fn pool(&self, name: &str) -> Option<&LocalPool> {
        self.pools.get(name)
    }

    /// The pools, by name.
    pub fn pools(&self) -> impl Iterator<Item = &LocalPool> + '_ {
        self.pools.values()
    }

    /// Adds a range to a pool, creating the pool.
    pub fn add_pool_range(&mut self, name: &str, range: PoolRange) -> Result<(), PoolError> {
        match self.pools.get_mut(name) {
            Some(p) => p.add_range(range),
            None => {
                let mut p = LocalPool::new(name);
                p.add_range(range)?;
                self.pools.insert(name.to_owned(), p);
                Ok(())
            }
        }
    }

    /// Removes one range of a pool (`no ip local pool NAME START END`),
    /// and the pool with its last range.
    pub fn remove_pool_range(&mut self, name: &str, range: PoolRange) -> bool {
        let Some(p) = self.pools.get_mut(name) else {
            return false;
        };
        let before = p.ranges.len();
        p.ranges.retain(|r| *r != range);
        let removed = p.ranges.len() != before;
        if p.ranges.is_empty() {
            self.pools.remove(name);
        }
        removed
    }

    /// Removes a pool.
    pub fn remove_pool(&mut self, name: &str) -> Option<LocalPool> {
        self.pools.remove(name)
    }

    // --- client groups ---

    /// A client group by name.
    pub fn group(&self, name: &str) -> Option<&ClientGroup> {
        self.groups.get(name)
    }

    /// A client group by name, created empty if it does not exist.
    pub fn group_mut(&mut self, name: &str) -> &mut ClientGroup {
        self.groups
            .entry(name.to_owned())
            .or_insert_with(|| ClientGroup::new(name))
    }

    /// The client groups, by name.
    pub fn groups(&self) -> impl Iterator<Item = &ClientGroup> + '_ {
        self.groups.values()
    }

    /// Removes a client group.
    pub fn remove_group(&mut self, name: &str) -> Option<ClientGroup> {
        self.groups.remove(name)
    }

    // --- crypto map client lines ---

    /// A crypto map's client lines.
    pub fn map(&self, map: &str) -> Option<&MapClientConfig> {
        self.maps.get(map)
    }

    /// A crypto map's client lines, created empty.
    pub fn map_mut(&mut self, map: &str) -> &mut MapClientConfig {
        self.maps.entry(map.to_owned()).or_default()
    }

    /// The crypto maps with client lines, by map name.
    pub fn maps(&self) -> impl Iterator<Item = (&str, &MapClientConfig)> + '_ {
        self.maps.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Removes a crypto map's client lines.
    pub fn remove_map(&mut self, map: &str) -> Option<MapClientConfig> {
        self.maps.remove(map)
    }

    /// Drops the entry of a crypto map whose client lines were all
    /// removed.
    pub(crate) fn prune_map(&mut self, map: &str) {
        if self.maps.get(map).is_some_and(MapClientConfig::is_empty) {
            self.maps.remove(map);
        }
    }
}

impl Config {
    /// A client group by name (`crypto isakmp client configuration group`).
    pub fn client_group(&self, name: &str) -> Option<&ClientGroup> {
        self.remote_access.group(name)
    }

    /// An `ip local pool` by name.
    pub fn pool(&self, name: &str) -> Option<&LocalPool> {
        self.remote_access.pool(name)
    }

    /// The local users (`username`), by name.
    pub fn local_users(&self) -> impl Iterator<Item = &LocalUser> + '_ {
        self.remote_access.users()
    }

    /// The XAUTH list of crypto map `map` (`crypto map NAME client
    /// authentication list LIST`); `None`: the map does not ask for XAUTH.
    /// A list in the model is a local one: the gateway checks users
    /// against its [`crate::remote_access::UserDb`].
    pub fn xauth_list_for_map(&self, map: &str) -> Option<&str> {
        self.remote_access
            .map(map)
            .and_then(|m| m.authentication_list.as_deref())
    }

    /// The group authorization list of crypto map `map` (`crypto map NAME
    /// isakmp authorization list LIST`): where a client's group is looked
    /// up (locally, [`Config::client_group`]).
    pub fn group_authorization_list_for_map(&self, map: &str) -> Option<&str> {
        self.remote_access
            .map(map)
            .and_then(|m| m.authorization_list.as_deref())
    }

    /// Who starts Mode-Config on crypto map `map`; `None`: no Mode-Config.
    pub fn mode_cfg_direction(&self, map: &str) -> Option<ModeCfgDirection> {
        self.remote_access
            .map(map)
            .and_then(MapClientConfig::direction)
    }

    /// The split-tunnel networks of a client group: the source networks
    /// of its ACL's `permit` lines, in list order. Lines whose source is
    /// not a network (a non-contiguous wildcard) are left out (the check
    /// reports them); an empty list means no split tunnel (everything goes
    /// through the tunnel).
    pub fn split_networks(&self, group: &str) -> Vec<SplitNetwork> {
        let Some(acl) = self
            .client_group(group)
            .and_then(|g| g.acl.as_ref())
            .and_then(|name| self.access_list(name))
        else {
            return Vec::new();
        };
        acl.rules()
            .filter(|(_, rule)| rule.action() == Action::Permit)
            .filter_map(|(_, rule)| {
                let source = rule.source();
                source.netmask().map(|mask| SplitNetwork {
                    address: source.address(),
                    mask,
                })
            })
            .collect()
    }
}
