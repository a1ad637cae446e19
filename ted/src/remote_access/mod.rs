//! Remote access: what a gateway serving Easy VPN (Cisco Unity) clients
//! keeps besides its configuration.
//!
//! A remote-access client runs phase 1 with its group's pre-shared key
//! (Aggressive Mode, the group name as its identity), is asked for a user
//! name and password by XAUTH (draft-beaulieu-ike-xauth-02), and pulls or
//! is pushed its address, DNS servers and split networks by Mode-Config
//! (draft-dukes-ike-mode-cfg-02). The configuration side of that (groups,
//! `ip local pool`, `username`, `aaa`, the crypto map's `client` lines) is
//! in [`crate::config`] ([`crate::config::remote_access`]); this module
//! holds the two run-time stores the gateway needs:
//!
//! - [`AddressPool`] ([`pool`]): the addresses of an `ip local pool`,
//!   leased per holder with user affinity, lowest free first, never twice;
//! - [`UserDb`] ([`users`]): the XAUTH users, with argon2id password
//!   hashes, from a user file and from the configuration's `username`
//!   lines, checked without revealing by timing which users exist.
//!
//! Both are Sans-IO and clock-free: the gateway decides when a lease ends
//! and supplies the randomness for new salts.
//!
//! What the gateway calls, in order:
//!
//! 1. at load: [`UserDb::parse`] on the user file, then
//!    [`UserDb::add_config_users`] with the [`crate::config::Config`];
//!    [`AddressPool::with_ranges`] for each pool
//!    ([`crate::config::Config::pool`] gives the ranges);
//! 2. at XAUTH: [`UserDb::verify`];
//! 3. at Mode-Config: [`AddressPool::lease`] with the user's name and the
//!    SA's key (the client's requested address, if any);
//! 4. when the SA or session is gone: [`AddressPool::release`].

pub mod pool;
pub mod users;

pub use pool::{AddressPool, LeaseInfo, PoolError, PoolRange, Released};
pub use users::{
    HashParams, UserDb, UserDbError, UserDbErrorKind, hash_password, hash_password_with,
};
