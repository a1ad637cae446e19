//! How a [`Gateway`](super::Gateway) is built: the options next to the IOS
//! configuration, the caps that bound its memory, and the errors of
//! building one.

use std::net::Ipv4Addr;

use crate::config::Diagnostic;
use crate::discovery::{self, DiscoveryConfig};

/// Bounds on what a gateway keeps, so that no input can grow it without
/// limit. Each cap, when reached, refuses the new thing and counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Caps {
    /// Installed IPsec SA pairs (tunnels). A pair negotiated beyond this is
    /// deleted at once (the peer is told) and counted, unless it is the
    /// rekey of an installed tunnel (same peer and proxies, and only one
    /// such tunnel), which overlaps it until the old pair expires: the
    /// table holds at most twice this many pairs.
    pub max_tunnels: usize,
    /// Phase-2 negotiations this gateway started and still waits for.
    pub max_negotiations: usize,
    /// Datagrams waiting in [`poll_transmit`](super::Gateway::poll_transmit).
    pub max_queued_transmits: usize,
    /// Events waiting in [`poll_event`](super::Gateway::poll_event).
    pub max_queued_events: usize,
    /// Records the debug log keeps (the oldest go first).
    pub max_log_records: usize,
    /// Entries the key log keeps (the oldest go first).
    pub max_key_log_entries: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Self {
            max_tunnels: 1024,
            max_negotiations: 256,
            max_queued_transmits: 4096,
            max_queued_events: 4096,
            max_log_records: crate::log::DebugLog::DEFAULT_MAX_RECORDS,
            max_key_log_entries: 4096,
        }
    }
}

/// The IKE engine's tunables that the IOS configuration does not carry.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct IkeTuning {
    /// Retransmission schedule (IOS's by default: 10 s, five times).
    pub retransmit: ike_sm::RetransmitSchedule,
    /// Rekey margins.
    pub rekey: ike_sm::RekeyConfig,
    /// Half-open and Quick Mode caps.
    pub limits: ike_sm::Limits,
    /// Nonce length in bytes (IOS 12.2 sends 20).
    pub nonce_len: usize,
    /// The phase-1 exchange this gateway starts (Main Mode, as IOS does
    /// unless `crypto isakmp peer ... set aggressive-mode` is configured,
    /// which the IOS import subset does not carry). As responder the
    /// engine answers whichever mode the initiator chose.
    pub phase1_mode: ike_sm::ExchangeMode,
    /// NAT traversal (RFC 3947/3948): on by default, as on IOS from
    /// 12.2(13)T (`crypto ipsec nat-transparency udp-encapsulation`), with
    /// 20 s keepalives.
    /// A driver that runs with it on binds a second UDP socket on its port
    /// and feeds it to [`handle_nat_t`](super::Gateway::handle_nat_t).
    pub nat_t: ike_sm::NatTConfig,
    /// IKE fragmentation: off by default, as IOS 12.2 has none (the seed's
    /// routers send no fragmentation vendor ID). Turned on, it is
    /// announced, and messages that carry certificates are cut at its
    /// fragment size toward peers that announce it too, as strongSwan,
    /// libreswan and later IOS releases do.
    pub fragmentation: ike_sm::FragmentationConfig,
}

impl Default for IkeTuning {
    fn default() -> Self {
        let ios = ike_sm::Config::ios_defaults();
        Self {
            retransmit: ios.retransmit,
            rekey: ios.rekey,
            limits: ios.limits,
            nonce_len: ios.nonce_len,
            phase1_mode: ios.default_mode,
            nat_t: ios.nat_t,
            fragmentation: ios.fragmentation,
        }
    }
}

/// Everything a gateway needs besides the IOS configuration, the outside
/// interface and the entropy source. Build with [`GatewayOptions::default`]
/// and change fields.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GatewayOptions {
    /// Record the IOS-style debug log (`debug crypto isakmp` / `debug
    /// crypto ipsec`), readable through [`log`](super::Gateway::log). Off
    /// by default: the records cost memory and time.
    pub debug: bool,
    /// Keep the keys of every SA for Wireshark ([`key_log`](super::Gateway::key_log)).
    /// Off by default: these are secrets, for a lab only.
    pub key_log: bool,
    /// The outside address, when not the one the configuration gives the
    /// crypto map's interface (or its `local-address`).
    pub outside_address: Option<Ipv4Addr>,
    /// TED's wire constants, timers and responder rules.
    pub discovery: DiscoveryConfig,
    /// The IKE engine's tunables.
    pub ike: IkeTuning,
    /// Memory bounds.
    pub caps: Caps,
    /// The path and media MTU `show crypto ipsec sa` prints.
    pub mtu: u32,
    /// Run as a remote-access client (an Easy VPN client) of the crypto
    /// map's peer instead of a router (see [`ClientOptions`]).
    pub client: Option<ClientOptions>,
    /// Our certificate, its key and the trust anchors, for the policies
    /// with `authentication rsa-sig` or `ecdsa-sig` (files the IOS
    /// configuration does not hold: IOS keeps them in NVRAM). Without
    /// credentials those policies are left out. Call
    /// [`Gateway::set_calendar_time`](super::Gateway::set_calendar_time)
    /// so that certificates can be checked.
    pub pki: ike_sm::PkiConfig,
}

/// A gateway that is a remote-access client: it logs in to the peer of
/// its crypto map's first entry (the concentrator) with the group name
/// and key, then XAUTH (the caller answers
/// [`ike_sm::Event::XauthRequested`] with
/// [`Gateway::xauth_credentials`](super::Gateway::xauth_credentials)),
/// takes the address, DNS servers and split networks Mode-Config gives,
/// and negotiates one SA pair per split network (or one for everything)
/// from that address. The crypto map entry gives the transform sets, PFS
/// and lifetimes; its access list is not used.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// The group name, sent as a KEY_ID identity (as Cisco clients do).
    pub group: String,
    /// The group's pre-shared key.
    pub group_key: crate::config::PresharedKey,
    /// The phase-1 exchange (Aggressive Mode, as Cisco clients use with a
    /// group key; Main Mode where the concentrator keys by address).
    pub mode: ike_sm::ExchangeMode,
}

impl ClientOptions {
    /// A client of group `group` with key `group_key`, in Aggressive Mode.
    #[must_use]
    pub fn new(group: &str, group_key: &[u8]) -> Self {
        Self {
            group: group.to_owned(),
            group_key: crate::config::PresharedKey::new(group_key),
            mode: ike_sm::ExchangeMode::Aggressive,
        }
    }
}

impl core::fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClientOptions")
            .field("group", &self.group)
            .field("group_key", &"<redacted>")
            .field("mode", &self.mode)
            .finish()
    }
}

impl Default for GatewayOptions {
    fn default() -> Self {
        Self {
            debug: false,
            key_log: false,
            outside_address: None,
            discovery: DiscoveryConfig::default(),
            ike: IkeTuning::default(),
            caps: Caps::default(),
            mtu: 1500,
            client: None,
            pki: ike_sm::PkiConfig {
                send_certificate_requests: true,
                ..ike_sm::PkiConfig::default()
            },
        }
    }
}

/// Why a gateway could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The configuration has no interface of that name.
    #[error("the configuration has no interface {0}")]
    NoSuchInterface(String),
    /// The outside interface has no crypto map.
    #[error("interface {0} has no crypto map applied")]
    NoCryptoMap(String),
    /// The crypto map the interface names is not configured.
    #[error("interface {interface} uses crypto map {map}, which is not configured")]
    NoSuchCryptoMap {
        /// The interface.
        interface: String,
        /// The map.
        map: String,
    },
    /// No outside address: the interface has none and none was given.
    #[error("interface {0} has no IP address and none was given")]
    NoAddress(String),
    /// The configuration has errors IOS would refuse (see
    /// [`Config::check`](crate::config::Config::check)).
    #[error("the configuration has {} error(s); the first: {}", .0.len(), .0.first().map(ToString::to_string).unwrap_or_default())]
    Config(Vec<Diagnostic>),
    /// The TED settings cannot work.
    #[error("TED settings: {0}")]
    Discovery(#[from] discovery::ConfigError),
    /// A cap is zero.
    #[error("{0} must be at least 1")]
    ZeroCap(&'static str),
}
