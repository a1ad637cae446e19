//! Cisco Tunnel Endpoint Discovery, crypto maps and the IPsec gateway.
//!
//! This crate models what an IOS router's crypto configuration says and
//! runs it as a Sans-IO gateway:
//!
//! - [`acl`]: IOS access lists (standard and extended, numbered and named),
//!   first-match evaluation of a packet's [`acl::Flow`], mirroring, and the
//!   IKE proxy identities an entry stands for;
//! - [`config`]: the policy model ([`config::Config`]): ISAKMP policies and
//!   pre-shared keys, transform sets, SA lifetimes, crypto maps with static
//!   entries and `dynamic ... discover` entries, dynamic maps, interfaces and
//!   static routes, the Easy VPN server's client groups, address pools,
//!   local users and AAA lists, the cross-reference [`check`](config::Config::check), and
//!   the run-time entries TED derives from dynamic templates;
//! - [`config::ios`]: import of an IOS running-config's crypto subset and
//!   rendering back to configuration text;
//! - [`discovery`]: Tunnel Endpoint Discovery, Sans-IO: the initiator's
//!   probes, retransmissions and matching of responses, and the stateless,
//!   rate-limited responder;
//! - [`gateway`]: the Sans-IO [`gateway::Gateway`] that ties discovery,
//!   the IKE engine (`ike-sm`) and ESP (`esp`) together;
//! - [`remote_access`]: the run-time stores of a remote-access (Easy VPN)
//!   server: the [`remote_access::AddressPool`] Mode-Config addresses come
//!   from, and the [`remote_access::UserDb`] XAUTH checks argon2id
//!   password hashes against;
//! - [`log`]: structured debug records rendered like IOS's `debug crypto
//!   isakmp` lines;
//! - [`show`]: `show crypto map`, `show crypto isakmp sa`, `show crypto
//!   ipsec sa` and `show crypto engine connections active` in IOS's layout.
//!
//! The simulated network, the seed's scenario with two gateways and the
//! fuzz drivers live in the workspace's harness crate, `netsim` (run the
//! seed: `cargo run --release -p netsim --example seed`).
//!
//! ```
//! use std::net::Ipv4Addr;
//! use ted::acl::Flow;
//!
//! let text = "\
//! crypto isakmp policy 10
//!  authentication pre-share
//! crypto isakmp key abc123 address 0.0.0.0 0.0.0.0
//! crypto ipsec transform-set ted-transforms esp-des esp-md5-hmac
//! crypto dynamic-map ted-map 10
//!  set transform-set ted-transforms
//!  match address 101
//! crypto map tedtag 10 ipsec-isakmp dynamic ted-map discover
//! access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255
//! ";
//! let parsed = ted::config::ios::parse(text)?;
//! let config = &parsed.config;
//! let ping = Flow::icmp(Ipv4Addr::new(13, 13, 13, 14), Ipv4Addr::new(12, 12, 12, 13), 8, 0);
//! let hit = config.classify("tedtag", &ping).expect("the crypto ACL permits the ping");
//! assert!(hit.discover);
//! assert_eq!(hit.template_seq, Some(10));
//! # Ok::<(), ted::config::ios::ParseError>(())
//! ```
#![forbid(unsafe_code)]

pub mod acl;
pub mod config;
pub mod discovery;
pub mod gateway;
pub mod log;
pub mod remote_access;
pub mod show;
mod transmit;

pub use transmit::{Transmit, TransmitKind};
