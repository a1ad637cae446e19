//! `ikev1-peer`: a real IKEv1 gateway with Cisco Tunnel Endpoint Discovery,
//! built on the Sans-IO [`ted::gateway::Gateway`].
//!
//! The gateway owns bytes and state; this crate owns everything else:
//!
//! - [`cli`]: the command line (the interop harness's interface, see
//!   `tests/interop/README.md`, plus a few flags of its own);
//! - [`core`]: the gateway with its outputs (the `events.jsonl` stream, the
//!   Wireshark key tables, the pcap, the IOS-style debug lines) and the
//!   control commands, still without sockets, so that tests can run two
//!   peers against each other in memory;
//! - [`os`]: the operating-system side (a UDP socket for IKE, a raw IP
//!   protocol-50 socket for ESP (RFC 4303), a TUN device for the protected
//!   side, a raw socket for TED probes, and the optional intercept socket a
//!   TED responder on the path needs);
//! - [`run`]: the single-threaded event loop that ties them together, with
//!   the real clock (`Instant::now()`), the OS random generator, signals
//!   and the control socket;
//! - [`control`]: the control socket's line protocol and its client
//!   (`ikev1-peer ctl`);
//! - [`client`], [`hostnet`], [`secret`]: the remote-access client
//!   (`ikev1-peer client`): its proposals and the configuration built from
//!   its command line, the address and routes it puts on the host, and
//!   the group key and password it reads (never from the command line);
//! - [`check`]: `ikev1-peer --check-config`, the import report on a
//!   configuration file;
//! - [`users`]: the Easy VPN server's user file (`--users`) and
//!   `ikev1-peer hash-password`;
//! - [`events`], [`keys`], [`capture`]: the writers of the files in `--out`.
//!
//! The driver of the `peer_core` and `peer_cli` fuzz targets is in the
//! workspace's harness crate (`netsim::fuzzing::peer`).
#![forbid(unsafe_code)]

pub mod capture;
pub mod check;
pub mod cli;
pub mod client;
pub mod control;
pub mod core;
pub mod entropy;
pub mod events;
pub mod hostnet;
pub mod keys;
pub mod os;
pub mod pki;
pub mod run;
pub mod secret;
pub mod users;
