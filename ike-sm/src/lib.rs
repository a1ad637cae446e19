//! IKEv1 (RFC 2409) as a Sans-IO state machine.
//!
//! [`Endpoint`] holds every ISAKMP SA and phase-2 negotiation of one local
//! IKE endpoint: Main and Aggressive Mode with pre-shared keys (RFC 2409
//! s.5) or certificates (RSA and ECDSA signatures, s.5.1 and RFC 4754),
//! Quick Mode with and without PFS (s.5.5), Informational exchanges
//! with Delete, Notify and Dead Peer Detection (RFC 2408 s.4.8, RFC 3706).
//! The caller owns the socket, the clock and the randomness: it feeds
//! datagrams, timeouts and commands in, and drains datagrams and
//! [`Event`]s out (see [`Endpoint`] for the driver loop). Given the same
//! configuration, entropy, times and inputs, an endpoint produces the same
//! bytes, so a whole exchange replays exactly.
//!
//! # NAT traversal
//!
//! With [`NatTConfig`] (on by default, [`NatTMode::Enabled`]) the engine
//! announces RFC 3947 (and the drafts -02/-03 IOS 12.x, older strongSwan
//! and racoon speak) in its first message, and when the peer does too,
//! MM3/MM4 (AM2/AM3) carry NAT-D: each side learns whether it or the peer
//! is behind a NAT ([`NatStatus`] in [`Phase1Established`]). With a NAT on
//! the path the initiator moves IKE to port 4500 at MM5 (AM3), every
//! message there following the 4-byte non-ESP marker, and the responder
//! follows once that message authenticates; Quick Mode then negotiates
//! UDP-encapsulated ESP ([`Phase2Established::udp_encapsulation`], with
//! NAT-OA in transport mode), and the side behind the NAT sends a NAT
//! keepalive every 20 s. The caller binds a second UDP socket on port
//! 4500, gives the engine what arrives there as it arrives (the engine
//! strips the marker, discards keepalives and drops ESP, which the caller
//! demultiplexes first with [`isakmp_wire::nat_t::classify`] and hands to
//! its ESP data plane), and sends each [`Transmit`] from the socket of its
//! `local` port, as it is. A peer whose NAT gives it a new port is
//! followed once an authenticated, fresh message (a Quick Mode message, a
//! DPD exchange) or authenticated ESP ([`Endpoint::peer_moved`]) comes
//! from there, reported as [`Event::PeerMoved`]; unauthenticated input
//! never moves an SA. [`NatTMode::Forced`] encapsulates without a NAT
//! (strongSwan's `encap=yes`); [`NatTMode::Disabled`] turns it off.
//!
//! # Remote access
//!
//! With a [`Phase1Auth::XauthInitPreShared`] policy (method 65001) the
//! engine runs XAUTH and Mode-Config after phase 1 in the Transaction
//! exchange, as Cisco-style clients (vpnc, the Cisco and Apple clients,
//! strongSwan's and libreswan's IKEv1 clients) and concentrators do: the
//! responder is the server, the initiator the client. The caller keeps
//! every decision: a client's caller answers [`Event::XauthRequested`]
//! with [`Endpoint::xauth_credentials`] (the engine never holds a
//! password it was not given), a server's caller checks
//! [`Event::XauthVerify`] and answers [`Event::ModeCfgRequested`] from
//! its address pool. See [`remote_access`] and
//! `examples/xauth-client.rs`.
//!
//! # Certificates
//!
//! A [`Phase1Auth::Signature`] policy authenticates with RSA (method 3)
//! or ECDSA (methods 9, 10, 11) signatures: our certificate, its chain and
//! key come from [`PkiConfig::credentials`], the peer's certificate is
//! validated against [`PkiConfig::trust`] (chain, signatures, validity,
//! basic constraints, key usage, CRLs) at the calendar time the caller
//! gives with [`Endpoint::set_calendar_time`], and must name the identity
//! of the peer's ID payload (its DN, or a subjectAltName). A refusal ends
//! phase 1 with [`FailReason::Certificate`] naming the
//! [`CertRefusal`]; an accepted certificate is reported as
//! [`Event::PeerCertificate`]. The X.509 and signature work is
//! [`ike_pki`]'s.
//!
//! # Fragmentation
//!
//! Certificates make Main Mode's fifth and sixth messages larger than many
//! paths carry. With [`FragmentationConfig`] (on by default) the engine
//! announces IKE fragmentation, cuts its Main and Aggressive Mode messages
//! above the fragment size toward a peer that announced it too, and
//! reassembles received fragments within fixed bounds (see [`fragment`]).
//!
//! Modules:
//! - [`crypto`]: PRFs and hashes, CBC ciphers, MODP Diffie-Hellman, SKEYID
//!   and its derivatives, the authentication hashes, KEYMAT, and the CBC IV
//!   chains (RFC 2409 s.5 and Appendix B);
//! - [`config`]: policies, keys, transform sets, timers and caps;
//! - [`event`]: events, the structured trace, counters;
//! - [`remote_access`]: XAUTH and Mode-Config settings and values;
//! - [`decrypt`]: decryption and hash verification of recorded exchanges
//!   (the `ikev1-decrypt` tool's library side);
//! - [`fragment`]: IKEv1 fragmentation (splitting a message, bounded
//!   reassembly), used by the endpoint and usable alone;
//! - [`Endpoint`] (private module `endpoint`): the dispatcher that owns
//!   the ISAKMP SA tables, finds the SA each message belongs to and calls
//!   its exchange handler; the public API;
//! - `context` (private): the `Context` the handlers work in
//!   (configuration, entropy, negotiations, IPsec SAs, output queues,
//!   counters) and the helpers on it;
//! - `exchange` (private): the exchanges as per-state types in the manner
//!   of rustls, each handler consuming its state with a message and the
//!   context: `main_mode`, `aggressive` (with what they share in
//!   `phase1` and, for signatures, `certauth`), `quick`, `informational` and `transaction` (XAUTH and
//!   Mode-Config); their rules are documented
//!   there and in [`Endpoint`].
//!
//! The modules form layers without import circles: `endpoint` uses
//! `exchange`, which uses `context`, which uses the value modules
//! (`config`, `event`, `types`, `crypto`, `message`, `proposal`).
#![forbid(unsafe_code)]

pub mod config;
mod context;
pub mod crypto;
pub mod decrypt;
mod endpoint;
pub mod entropy;
pub mod event;
mod exchange;
pub mod fragment;
mod message;
mod proposal;
pub mod remote_access;
pub mod types;

#[cfg(feature = "fuzzing")]
pub mod fuzzing;

pub use config::{
    AggressiveModePolicy, AggressiveModeRule, Config, Credentials, DpdConfig, EspEncryption,
    EspIntegrity, EspMode, EspTransform, FragmentationConfig, IsakmpPolicy, Limits, LocalIdentity,
    NatTConfig, NatTMode, PeerConfig, Phase1Auth, Phase2Policy, Phase2Request, PkiConfig,
    PreSharedKey, PskEntry, PskScope, RekeyConfig, RetransmitSchedule, SendCertificate,
    TransformSet, VendorIds,
};
pub use context::Transmit;
pub use endpoint::{CommandError, Endpoint, IpsecSaInfo, IsakmpSaInfo};
pub use entropy::{Entropy, Purpose, PurposeRng, ScriptedEntropy};
pub use event::{
    CertRefusal, Counters, CryptoDrop, DeletedBy, DropReason, Event, FailReason, LimitDrop,
    MAX_NAT_D, NatStatus, NatTDrop, Phase1Established, Phase1Suite, Phase2Established, PolicyDrop,
    RaDrop, Received, SaKeys, SaRef, StateDrop, Trace, TraceAttribute, TraceEvent, TraceValue,
    UdpEncapsulation, VendorKind,
};
pub use ike_pki::{self, SignatureAlgorithm};
pub use isakmp_wire::nat_t::NatTVersion;
pub use remote_access::{
    ModeCfgClientMode, ModeCfgRequest, ModeCfgServerMode, ModeConfig, RemoteAccessConfig,
    SplitNetwork, XauthCredentials, XauthFailure, XauthRequest, XauthVerify,
};
pub use types::{
    ExchangeMode, Identity, IsakmpSaId, IsakmpState, Lifetime, NegotiationId, ProxyAddr, ProxyId,
    ProxyIdError, QmState, Role, Spi,
};
