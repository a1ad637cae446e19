//! Remote access: what a gateway serving Easy VPN (Cisco Unity) clients
//! keeps besides its configuration.
//!
//! A remote-access client runs phase 1 with its group's pre-shared key
//! (Aggressive Mode, the group name as its identity), is asked for a user
//! name and password by XAUTH (draft-beaulieu-ike-xauth-02), and pulls or
//! is pushed its address, DNS servers and split networks by Mode-Config
//! (draft-dukes-ike-mode-cfg-02). The configuration side of that (groups,
//! `ip local pool`, `username`, `aaa`, the crypto map's `client` lines) is
//! in the configuration model (`config::remote_access`); this module
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
//!    [`UserDb::add_clear_users`] with the configuration's `username` lines
//!    (`Config::local_users`);
//!    [`AddressPool::with_ranges`] for each pool
//!    (`Config::pool` gives the ranges);
//! 2. at XAUTH: [`UserDb::verify`];
//! 3. at Mode-Config: [`AddressPool::lease`] with the user's name and the
//!    SA's key (the client's requested address, if any);
//! 4. when the SA or session is gone: [`AddressPool::release`].
//!
//! ```
//! use std::net::Ipv4Addr;
//! use rand_core::SeedableRng;
//! use ted::remote_access::{AddressPool, HashParams, PoolRange, UserDb, hash_password_with};
//!
//! // A user file line, hashed with cheap test costs (a gateway uses
//! // HashParams::GATEWAY through `hash_password`).
//! let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
//! let cheap = HashParams { memory_kib: 64, iterations: 1, lanes: 1 };
//! let line = format!("alice:{}", hash_password_with(b"Wonderland", cheap, &mut rng)?);
//! let users = UserDb::parse(&line)?;
//! assert!(users.verify("alice", b"Wonderland"));
//! assert!(!users.verify("mallory", b"Wonderland"));
//!
//! // `ip local pool rapool 10.99.0.10 10.99.0.50`; holders are SA numbers.
//! let range = PoolRange::new(Ipv4Addr::new(10, 99, 0, 10), Ipv4Addr::new(10, 99, 0, 50))?;
//! let mut pool = AddressPool::<u64>::with_ranges("rapool", [range])?;
//! let first = pool.lease("alice", 1, None)?;
//! // alice's phase-1 rekey (SA 2) keeps her address ...
//! assert_eq!(pool.lease("alice", 2, None)?, first);
//! // ... which stays hers until both SAs are gone.
//! assert!(!pool.release(&1).expect("SA 1 held it").freed);
//! assert!(pool.release(&2).expect("SA 2 held it").freed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod pool;
pub mod users;

pub use pool::{AddressPool, LeaseInfo, PoolError, PoolRange, Released};
pub use users::{
    HashError, HashParams, UserDb, UserDbError, UserDbErrorKind, hash_password, hash_password_with,
};
