//! Remote access in the gateway: the Easy VPN server's decisions (who may
//! log in, which address and attributes a client gets) and the client's
//! side (the tunnels it asks for once configured).
//!
//! The IKE engine runs XAUTH and Mode-Config and asks; this module
//! answers from the IOS model ([`crate::config::RemoteAccess`]: groups,
//! pools, local users) and the user database the driver adds
//! ([`crate::remote_access::UserDb`]):
//!
//! - a user's credentials ([`ike_sm::Event::XauthVerify`]) are checked
//!   against the user database (argon2id, constant time; unknown users
//!   cost the same as known ones);
//! - a client's Mode-Config request ([`ike_sm::Event::ModeCfgRequested`])
//!   is answered from its group (found by the KEY_ID it authenticated
//!   with): an address from the group's pool (the user's address again
//!   after a phase-1 rekey), DNS and WINS servers, the domain, the split
//!   networks of the group's access list (its permit lines' sources), the
//!   banner and the Unity flags. An empty pool is a refusal: the client
//!   gets no address and is told nothing else;
//! - an address is returned to its pool when the engine reports the SA
//!   that held it gone ([`ike_sm::Event::AddressReleased`]).

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ike_sm::{Identity, IsakmpSaId, ModeCfgRequest, ModeConfig, SplitNetwork, XauthVerify};
use rand_core::CryptoRng;

use crate::config::Config;
use crate::remote_access::{AddressPool, HashParams, PoolError, UserDb};

/// The server's state: pools in use, users, which pool each SA's
/// address came from.
#[derive(Debug, Default)]
pub(super) struct RaServer {
    pools: BTreeMap<String, AddressPool<IsakmpSaId>>,
    /// `username` lines of the IOS configuration.
    config_users: UserDb,
    /// The driver's user file, which wins over `config_users`.
    file_users: UserDb,
    leased: BTreeMap<IsakmpSaId, String>,
}

/// Why a client got no configuration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefusedConfig {
    /// The client's phase-1 identity names no configured group.
    #[error("no client configuration group {0:?}")]
    NoGroup(String),
    /// The group names no pool, or a pool that does not exist.
    #[error("group {0:?} has no address pool")]
    NoPool(String),
    /// The pool could not give an address.
    #[error(transparent)]
    Pool(#[from] PoolError),
}

impl RaServer {
    /// The pools and local users of the IOS model (`password 0` users are
    /// hashed now, with salts from `rng`); what could not be used.
    pub(super) fn from_config<R: CryptoRng + ?Sized>(
        config: &Config,
        rng: &mut R,
    ) -> (Self, Vec<String>) {
        let mut ignored = Vec::new();
        let mut pools = BTreeMap::new();
        for p in config.remote_access.pools() {
            match p.address_pool() {
                Ok(pool) => {
                    pools.insert(p.name().to_owned(), pool);
                }
                Err(e) => ignored.push(format!("ip local pool {}: {e}", p.name())),
            }
        }
        let mut config_users = UserDb::new();
        let clear = config
            .local_users()
            .filter_map(|u| u.xauth_password().map(|p| (u.name(), p)));
        if let Err(e) = config_users.add_clear_users(clear, HashParams::GATEWAY, rng) {
            ignored.push(format!("username: {e}"));
        }
        (
            Self {
                pools,
                config_users,
                file_users: UserDb::new(),
                leased: BTreeMap::new(),
            },
            ignored,
        )
    }

    /// Sets the users of a user file (they take precedence over IOS
    /// `username` lines of the same name).
    pub(super) fn set_users(&mut self, users: UserDb) {
        self.file_users = users;
    }

    /// Whether the credentials are right: one password hash is computed
    /// whether or not the user exists (the database hashes a dummy for an
    /// unknown name).
    pub(super) fn verify(&self, v: &XauthVerify) -> bool {
        let password = v.password.expose();
        if self.file_users.contains(&v.user) {
            self.file_users.verify(&v.user, password)
        } else {
            self.config_users.verify(&v.user, password)
        }
    }

    /// The configuration for a client's request.
    pub(super) fn assign(
        &mut self,
        config: &Config,
        r: &ModeCfgRequest,
    ) -> Result<ModeConfig, RefusedConfig> {
        let name = match &r.group {
            Identity::KeyId(k) => String::from_utf8_lossy(k).into_owned(),
            Identity::Fqdn(s) | Identity::UserFqdn(s) => s.clone(),
            other => format!("{other:?}"),
        };
        let group = config
            .remote_access
            .group(&name)
            .ok_or_else(|| RefusedConfig::NoGroup(name.clone()))?;
        let pool_name = group
            .pool
            .clone()
            .ok_or_else(|| RefusedConfig::NoPool(name.clone()))?;
        let pool = self
            .pools
            .get_mut(&pool_name)
            .ok_or_else(|| RefusedConfig::NoPool(name.clone()))?;
        // The pool remembers addresses by user (a phase-1 rekey gets the
        // same one); without XAUTH, by the client's address and port.
        // By user and client address: two sessions of one user get two
        // addresses.
        let user = match &r.user {
            Some(u) => format!("{u}@{}", r.peer.ip()),
            None => format!("{name}@{}", r.peer),
        };
        let address = pool.lease(&user, r.sa, r.requested_address)?;
        self.leased.insert(r.sa, pool_name);
        let split_include = group
            .acl
            .as_ref()
            .and_then(|acl| config.access_list(acl))
            .map(|acl| {
                acl.rules()
                    .filter_map(|(_, rule)| rule.proxy().ok())
                    .map(|pair| SplitNetwork {
                        address: pair.source.address,
                        mask: pair.source.mask,
                        protocol: 0,
                        source_port: 0,
                        destination_port: 0,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(ModeConfig {
            address: Some(address),
            dns: group.dns.clone(),
            nbns: group.wins.clone(),
            domain: group.domain.clone(),
            split_include,
            banner: group.banner.clone(),
            save_password: Some(group.save_password),
            pfs: group.pfs.then_some(true),
            backup_servers: group
                .backup_gateways
                .iter()
                .map(Ipv4Addr::to_string)
                .collect(),
            ..ModeConfig::default()
        })
    }

    /// The SA that held an address is gone.
    pub(super) fn release(&mut self, sa: IsakmpSaId) {
        if let Some(pool) = self.leased.remove(&sa).and_then(|p| self.pools.get_mut(&p)) {
            pool.release(&sa);
        }
    }

    /// Every pool (for show commands).
    pub(super) fn pools(&self) -> impl Iterator<Item = &AddressPool<IsakmpSaId>> + '_ {
        self.pools.values()
    }
}
