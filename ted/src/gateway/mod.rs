//! The Sans-IO IPsec gateway the seed configures: TED -> IKE -> ESP.
//!
//! A [`Gateway`] runs one router's crypto configuration on its outside
//! interface (the interface with the crypto map, `FastEthernet0/0` in the
//! seed). It ties together the three engines of this workspace:
//!
//! - [`crate::discovery`] finds the peer of a `dynamic ... discover` entry
//!   (Tunnel Endpoint Discovery, docs/ted-wire.md) and answers other routers'
//!   probes for the hosts behind this one;
//! - [`ike_sm::Endpoint`] negotiates ISAKMP SAs (Main Mode) and IPsec SA
//!   pairs (Quick Mode) with the peer (RFC 2409);
//! - [`esp::SaTable`] encapsulates and decapsulates the traffic (RFC 4303,
//!   tunnel mode).
//!
//! The IOS model ([`crate::config::Config`]) is translated once into the
//! IKE engine's configuration (ISAKMP policies, pre-shared keys including
//! the `0.0.0.0 0.0.0.0` wildcard TED needs, transform sets, each crypto
//! map entry as a phase-2 policy, lifetimes, PFS); each negotiated SA pair
//! into two [`esp::SaParams`]. Weak algorithms (DES, 3DES, MD5, SHA-1 as
//! the phase-1 hash and PRF, MODP-768/1024) run exactly when the IOS
//! configuration names them (as on IOS, a `crypto isakmp policy` without
//! an `encryption`, `hash` or `group` line means DES, SHA and group 1),
//! and each is reported once for the gateway's life, when it is built, as
//! [`Event::WeakAlgorithm`] naming the configuration line.
//!
//! # What happens to a packet
//!
//! - **From the protected side** ([`handle_plaintext`](Gateway::handle_plaintext)):
//!   classified against the crypto map (entries in sequence order, first
//!   matching access list line). No entry protects it: [`Plaintext::Bypass`].
//!   An SA pair whose outbound selector takes it: encapsulated in place
//!   ([`Plaintext::Encrypted`]). Otherwise it is dropped and counted, and:
//!   a static entry starts IKE towards its peer; a `discover` entry starts
//!   a TED discovery (or counts the packet against the pending one). Once
//!   a discovery finds the peer, the crypto map entry is derived from the
//!   dynamic template (IOS numbers it seq + 1: `tedtag 11`) and IKE starts
//!   for the negotiated proxies; while it runs, packets are dropped as
//!   [`PlaintextDrop::Negotiating`].
//! - **UDP 500** ([`handle_datagram`](Gateway::handle_datagram)): to this
//!   gateway's address, a TED response goes to the discovery and anything
//!   else to IKE; to another address (this router is on the path to a
//!   protected host and intercepts it), a TED probe is answered if a local
//!   crypto access list mirrors it, and everything else is handed back to
//!   be forwarded ([`Datagram::Forward`]).
//! - **ESP** ([`handle_esp`](Gateway::handle_esp)): the SA is found by
//!   SPI; the packet is authenticated, replay-checked, decrypted and its
//!   inner packet checked against the SA's selectors, all in place.
//! - **UDP 4500**, the NAT-T port ([`handle_nat_t`](Gateway::handle_nat_t)):
//!   `isakmp_wire::nat_t::classify` tells the three kinds apart (RFC 3948
//!   s.2). An IKE message after the non-ESP marker goes to IKE as it
//!   came (the engine strips the marker, and its replies from port 4500
//!   carry one); a keepalive is counted and discarded; anything else of
//!   too few bytes is counted and dropped; ESP is decapsulated in place
//!   like protocol 50, by the pair's UDP-encapsulated SA. An ESP packet
//!   that authenticated and passed the replay window but came from
//!   another address or port than the pair's peer tells IKE that the
//!   peer's NAT moved it (`Endpoint::peer_moved`); on the engine's
//!   [`ike_sm::Event::PeerMoved`] every pair it names sends to the new
//!   address. Unauthenticated input never moves a pair.
//! - **Other cleartext from outside** ([`handle_outside_plaintext`](Gateway::handle_outside_plaintext)):
//!   a separate input rather than a flag, because it is a separate
//!   question (may this cleartext come in?) with a separate answer: traffic
//!   the crypto map protects must arrive encrypted, so it is dropped and
//!   counted ([`Outside::DroppedCleartext`]); anything else is forwarded.
//!
//! # NAT traversal
//!
//! Whether IKE negotiates it is [`IkeTuning::nat_t`] (RFC 3947: NAT-D,
//! the float to port 4500); a pair negotiated through a NAT has
//! `udp_encapsulation` set, and its two ESP SAs carry their packets in
//! UDP (RFC 3948) between the pair's two socket addresses:
//! [`Plaintext::Encrypted::udp`] then names the datagram a driver sends
//! from its UDP socket on the NAT-T port, while `packet` is still the
//! whole IPv4/UDP/ESP packet a simulator or a raw socket sends. Keepalives
//! are IKE's [`Transmit`]s from port 4500.
//!
//! TED across a NAT: the probe is UDP 500 from the protected host to the
//! protected host it is for, and carries the initiator's IKE address; the
//! response goes to that address, and names the responder's. So TED works
//! only where the two routers reach each other's IKE addresses and the
//! protected prefixes are routed between them untranslated. A NAT in
//! front of the initiator rewrites the probe's source but not the private
//! IKE address inside it, so the response is lost; a NAT in front of the
//! responder would have to route the protected prefixes to it, and the
//! response would still name the responder's private address (docs/ted-wire.md,
//! "The exchange"). What crosses a NAT is a static entry (`set peer`)
//! towards a public address, or a dynamic entry answering a peer behind a
//! NAT; then IKE floats to 4500 and ESP is UDP-encapsulated.
//!
//! On phase-2 completion both SAs are installed; every packet's bytes are
//! reported to the IKE engine for kilobyte lifetimes; a Delete or an
//! expiry removes the pair, and the derived crypto map entry once no SA
//! pair or negotiation uses it. After that, new traffic discovers again.
//!
//! # The buffer contract
//!
//! [`handle_plaintext`](Gateway::handle_plaintext) takes a buffer and the
//! range of the inner packet in it, and encapsulates in place: it needs
//! room before the packet for the outer IPv4 header, the UDP header of a
//! UDP-encapsulated pair, the ESP header and the IV, and after it for
//! padding, the ESP trailer and the ICV.
//! [`Gateway::HEADROOM`] and [`Gateway::TAILROOM`] are enough for every
//! transform this gateway can negotiate; with less, the packet is dropped
//! as [`PlaintextDrop::BufferTooSmall`] naming what the SA needs, and
//! nothing is written. [`handle_esp`](Gateway::handle_esp) decapsulates in
//! place and returns the inner packet's range;
//! [`handle_nat_t`](Gateway::handle_nat_t) likewise, from a UDP payload
//! with [`Gateway::NAT_T_HEADROOM`] bytes before it.
//!
//! # Driving it
//!
//! Inputs: the five `handle_*` calls and
//! [`handle_timeout`](Gateway::handle_timeout), each with the caller's
//! `now` (the gateway never reads a clock). After **every** input, drain
//! [`poll_transmit`](Gateway::poll_transmit) until `None` (UDP datagrams:
//! IKE, TED probes and responses; ESP packets come back in place from
//! `handle_plaintext` instead), then [`poll_event`](Gateway::poll_event)
//! until `None`; then arm a timer for [`poll_timeout`](Gateway::poll_timeout)
//! and call `handle_timeout` when it fires (early is harmless). Randomness
//! (cookies, nonces, DH values, SPIs, message IDs, ESP IVs) comes from the
//! one [`ike_sm::Entropy`] given at construction.
//!
//! ```
//! use std::net::{Ipv4Addr, SocketAddrV4};
//! use std::time::Instant;
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use ted::gateway::{Gateway, GatewayOptions, Plaintext, PlaintextDrop, TransmitKind};
//!
//! let config = ted::config::ios::parse(include_str!("../../../vectors/seed/daphne.cfg"))?.config;
//! let entropy = Box::new(ChaCha20Rng::seed_from_u64(7));
//! let mut daphne = Gateway::new(config, "FastEthernet0/0", entropy, GatewayOptions::default())?;
//! let now = Instant::now();
//!
//! // An echo request 13.13.13.14 -> 12.12.12.13 from the protected side,
//! // with room for ESP around it.
//! let ping = esp::ip::icmp_echo(
//!     esp::ip::Ipv4Header::new(Ipv4Addr::new(13, 13, 13, 14), Ipv4Addr::new(12, 12, 12, 13), 0),
//!     false, 1, 1, b"abcd",
//! )?;
//! let mut buf = vec![0; Gateway::HEADROOM + ping.len() + Gateway::TAILROOM];
//! let inner = Gateway::HEADROOM..Gateway::HEADROOM + ping.len();
//! buf[inner.clone()].copy_from_slice(&ping);
//!
//! // No SA yet and the entry says `discover`: dropped, TED probe queued.
//! let verdict = daphne.handle_plaintext(now, &mut buf, inner);
//! assert_eq!(verdict, Plaintext::Dropped(PlaintextDrop::Discovering));
//! let mut sent = Vec::new();
//! while let Some(t) = daphne.poll_transmit() {
//!     sent.push(t); // a real driver writes t.payload to a raw socket or UDP
//! }
//! while let Some(_event) = daphne.poll_event() {
//!     // report it
//! }
//! let _wake_at = daphne.poll_timeout(); // then call handle_timeout
//! assert_eq!(sent.len(), 1);
//! assert_eq!(sent[0].kind, TransmitKind::TedProbe);
//! assert_eq!(sent[0].destination, SocketAddrV4::new(Ipv4Addr::new(12, 12, 12, 13), 500));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod event;
mod invariants;
mod keylog;
#[cfg(test)]
mod nat_t_tests;
mod options;
mod remote_access;
mod show;
mod translate;

use std::collections::{BTreeMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use ike_sm::{
    Endpoint, Entropy, IsakmpSaId, ModeConfig, NegotiationId, Phase2Established, Purpose,
    PurposeRng, SaRef, Spi, XauthCredentials,
};

use crate::acl::{Flow, ProxyIdent};
use crate::config::{Config, CryptoMapEntry, InterfaceName, Severity};
use crate::discovery::{self, Discovered, Discovery, DiscoveryId, Disposition, TriggerOutcome};
use crate::log::{DebugLog, IpsecSaLogKind, IpsecSaPairLog, LogEvent, Record, Role};

pub use event::{
    Counters, Datagram, Esp, EspDrop, Event, NatT, Outside, Plaintext, PlaintextDrop,
    TunnelDownReason, TunnelInfo,
};
pub use invariants::InvariantViolation;
pub use keylog::{KeyLog, KeyLogEntry, wireshark_encryption, wireshark_integrity};
pub use options::{Caps, ClientOptions, GatewayError, GatewayOptions, IkeTuning};
pub use remote_access::RefusedConfig;
pub use show::ShowCommand;

pub use crate::transmit::{Transmit, TransmitKind};

/// The first crypto engine connection ID IOS gives an IPsec SA (the seed's
/// inbound SA is 2000, its outbound 2001).
const FIRST_IPSEC_CONN_ID: u32 = 2000;

/// How many rounds of "drain every engine" one input may take: each round
/// moves what one engine produced into the others, and a round that moves
/// nothing ends it. Real chains are two or three rounds long.
const MAX_PUMP_ROUNDS: usize = 64;

/// How long traffic keeps leaving on the old pair after this gateway, as
/// Quick Mode initiator, installed the pair that rekeys it, unless a packet
/// arrives on the new pair first. RFC 2409 s.5.5 gives the initiator no
/// acknowledgement of QM3 (without the commit bit), and the responder
/// installs its inbound SA only once QM3 has arrived: a packet sent on the
/// new SA at once can overtake it and be dropped (seen against strongSwan
/// under emulation: the first packet, 22 ms after QM3). The hold counts
/// from the `now` of the input that completed the exchange, which a slow
/// host (a debug build computing a PFS exchange under emulation: 2 s) can
/// leave well behind the moment QM3 actually leaves; hence a generous
/// bound. The old pair stays valid until its own lifetime ends (a pair
/// whose lifetime is over is never chosen), so holding on to it costs
/// nothing.
const REKEY_SEND_HOLD: std::time::Duration = std::time::Duration::from_secs(10);

/// A phase-2 negotiation this gateway started.
#[derive(Clone, Debug)]
struct Negotiation {
    local_proxy: ike_sm::ProxyId,
    remote_proxy: ike_sm::ProxyId,
    /// The derived crypto map entry it uses.
    derived: Option<u32>,
}

/// A derived crypto map entry and how many negotiations and SA pairs use
/// it.
#[derive(Clone, Debug)]
struct DerivedUse {
    peer: Ipv4Addr,
    parent: u32,
    template_seq: u32,
    users: u32,
}

/// The crypto engine connection IDs and flow IDs of an SA pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct EngineIds {
    conn_in: u32,
    conn_out: u32,
    flow_in: u32,
    flow_out: u32,
}

/// An installed pair of IPsec SAs.
#[derive(Debug)]
struct Tunnel {
    inbound: esp::SaHandle,
    outbound: esp::SaHandle,
    inbound_spi: u32,
    outbound_spi: u32,
    isakmp_conn_id: u32,
    peer: Ipv4Addr,
    local_proxy: ike_sm::ProxyId,
    remote_proxy: ike_sm::ProxyId,
    transform: ike_sm::EspTransform,
    lifetime: ike_sm::Lifetime,
    ids: EngineIds,
    derived: Option<u32>,
    created: Instant,
    /// Until when [`tunnel_for`](Gateway::tunnel_for) prefers an older pair
    /// for the same traffic (see [`REKEY_SEND_HOLD`]); `None` once a packet
    /// has arrived on this pair.
    hold_until: Option<Instant>,
    /// UDP-encapsulated (RFC 3948): the peer's address and UDP port.
    udp_peer: Option<SocketAddrV4>,
}

impl Tunnel {
    fn info(&self) -> TunnelInfo {
        TunnelInfo {
            peer: self.peer,
            inbound_spi: self.inbound_spi,
            outbound_spi: self.outbound_spi,
            local_proxy: translate::proxy_from_ike(&self.local_proxy),
            remote_proxy: translate::proxy_from_ike(&self.remote_proxy),
            conn_ids: (self.ids.conn_in, self.ids.conn_out),
            map_entry: self.derived,
            udp_peer: self.udp_peer,
        }
    }
}

/// One router's crypto configuration running on its outside interface:
/// TED, IKE and ESP. See the [module documentation](self) for what it does
/// with each input, the buffer contract and the driver loop.
pub struct Gateway {
    config: Config,
    options: GatewayOptions,
    outside: InterfaceName,
    map: String,
    address: Ipv4Addr,
    endpoint: Endpoint,
    discovery: Discovery,
    esp: esp::SaTable,
    /// By inbound SPI.
    tunnels: BTreeMap<u32, Tunnel>,
    negotiations: BTreeMap<NegotiationId, Negotiation>,
    /// Derived entries of `map`, by sequence number.
    derived: BTreeMap<u32, DerivedUse>,
    /// The IOS connection IDs of TED exchanges in progress.
    ted_conn: BTreeMap<DiscoveryId, u32>,
    /// Engine IDs handed out when "Creating IPSec SAs" was traced, before
    /// the SA pair itself arrives.
    pending_ids: BTreeMap<u32, EngineIds>,
    next_ipsec_conn: u32,
    next_flow: u32,
    /// The last "Checking ... transform/proposal" seen: (conn ID, quick
    /// mode), so that the verdict that follows it is worded by phase.
    last_checking: Option<(u32, bool)>,
    /// Log records that IOS prints after the IKE messages of the same
    /// moment (the key engine's "initialize_sas" after QM3 went out).
    deferred_log: Vec<Record>,
    weak_reported: std::collections::BTreeSet<String>,
    transmits: VecDeque<Transmit>,
    events: VecDeque<Event>,
    log: Option<DebugLog>,
    key_log: Option<KeyLog>,
    counters: Counters,
    /// Easy VPN server state, when the configuration serves clients.
    ra_server: Option<remote_access::RaServer>,
    /// Remote-access client: the SA and what Mode-Config gave.
    ra_client: Option<(IsakmpSaId, ModeConfig)>,
}

impl core::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Gateway")
            .field("hostname", &self.config.hostname)
            .field("outside", &self.outside)
            .field("address", &self.address)
            .field("map", &self.map)
            .field("tunnels", &self.tunnels.len())
            .field("negotiations", &self.negotiations.len())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Bytes [`handle_plaintext`](Self::handle_plaintext) may need before
    /// the inner packet: outer IPv4 header (20), UDP header (8, for a
    /// UDP-encapsulated pair), ESP header (8), the longest IV (16,
    /// AES-CBC).
    pub const HEADROOM: usize = 20 + 8 + 8 + 16;

    /// Bytes [`handle_nat_t`](Self::handle_nat_t) needs before the UDP
    /// payload in its buffer, for a transport-mode pair's restored IPv4
    /// header ([`esp::UDP_RX_HEADROOM`]). Reading each datagram into
    /// `buf[Gateway::NAT_T_HEADROOM..]` always suffices; a whole IPv4/UDP
    /// packet's payload, 28 bytes in, does too.
    pub const NAT_T_HEADROOM: usize = esp::UDP_RX_HEADROOM;
    /// Bytes it may need after the inner packet: padding to the largest
    /// block (15), pad length and next header (2), the longest ICV (32,
    /// HMAC-SHA-512-256).
    pub const TAILROOM: usize = 15 + 2 + 32;

    /// A gateway running `config` on interface `outside` (the one with the
    /// crypto map), drawing every random value from `entropy`.
    ///
    /// # Errors
    /// [`GatewayError`]: the interface, its crypto map or its address is
    /// missing; [`Config::check`] finds errors; a TED setting or a cap
    /// cannot work.
    pub fn new(
        config: Config,
        outside: &str,
        entropy: Box<dyn Entropy + Send>,
        options: GatewayOptions,
    ) -> Result<Self, GatewayError> {
        let interface = config
            .interface(outside)
            .ok_or_else(|| GatewayError::NoSuchInterface(outside.to_owned()))?;
        let outside_name = interface.name().clone();
        let map = interface
            .crypto_map
            .clone()
            .ok_or_else(|| GatewayError::NoCryptoMap(outside.to_owned()))?;
        if config.crypto_map(&map).is_none() {
            return Err(GatewayError::NoSuchCryptoMap {
                interface: outside.to_owned(),
                map,
            });
        }
        let address = options
            .outside_address
            .or_else(|| config.crypto_map_local_address(&map))
            .ok_or_else(|| GatewayError::NoAddress(outside.to_owned()))?;
        let errors: Vec<_> = config
            .check()
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if !errors.is_empty() {
            return Err(GatewayError::Config(errors));
        }
        let caps = &options.caps;
        for (what, value) in [
            ("max_tunnels", caps.max_tunnels),
            ("max_negotiations", caps.max_negotiations),
            ("max_queued_transmits", caps.max_queued_transmits),
            ("max_queued_events", caps.max_queued_events),
        ] {
            if value == 0 {
                return Err(GatewayError::ZeroCap(what));
            }
        }
        let discovery = Discovery::new(options.discovery.clone())?;
        let translation = translate::ike_config(&config, &map, &options);
        let mut endpoint = Endpoint::new(Arc::new(translation.ike), entropy);
        let serves_clients = options.client.is_none()
            && (config.xauth_list_for_map(&map).is_some()
                || config.remote_access.groups().next().is_some());
        let (ra_server, ra_ignored) = if serves_clients {
            let mut rng = PurposeRng::new(endpoint.entropy_mut(), Purpose::Other);
            let (s, ignored) = remote_access::RaServer::from_config(&config, &mut rng);
            (Some(s), ignored)
        } else {
            (None, Vec::new())
        };
        let log = options
            .debug
            .then(|| DebugLog::new(options.caps.max_log_records));
        let key_log = options
            .key_log
            .then(|| KeyLog::new(options.caps.max_key_log_entries));
        let mut gateway = Self {
            config,
            options,
            outside: outside_name,
            map,
            address,
            endpoint,
            discovery,
            esp: esp::SaTable::new(),
            tunnels: BTreeMap::new(),
            negotiations: BTreeMap::new(),
            derived: BTreeMap::new(),
            ted_conn: BTreeMap::new(),
            pending_ids: BTreeMap::new(),
            next_ipsec_conn: FIRST_IPSEC_CONN_ID,
            next_flow: 1,
            last_checking: None,
            deferred_log: Vec::new(),
            weak_reported: std::collections::BTreeSet::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            log,
            key_log,
            counters: Counters::default(),
            ra_server,
            ra_client: None,
        };
        for what in translation.ignored.into_iter().chain(ra_ignored) {
            gateway.push_event(Event::ConfigIgnored(what));
        }
        for (algorithm, configured_by) in translation.weak {
            gateway.report_weak(algorithm, configured_by);
        }
        let ike = gateway.ike().config();
        let answers_am =
            ike.aggressive_mode.answer || ike.aggressive_mode.rules.iter().any(|r| r.answer);
        if answers_am && !ike.pre_shared_keys.is_empty() {
            gateway.push_event(Event::AggressiveModeAnswered {
                configured_by: "no `crypto isakmp aggressive-mode disable` (IOS's default)"
                    .to_owned(),
            });
        }
        Ok(gateway)
    }

    // ----- getters -----

    /// The configuration, with the crypto map entries derived at run time.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The options it was built with.
    pub fn options(&self) -> &GatewayOptions {
        &self.options
    }

    /// The outside interface.
    pub fn outside_interface(&self) -> &InterfaceName {
        &self.outside
    }

    /// The outside (IKE and ESP tunnel) address.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// The crypto map of the outside interface.
    pub fn crypto_map(&self) -> &str {
        &self.map
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The IKE engine (its SAs, counters, configuration).
    pub fn ike(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The TED engine (pending discoveries, counters).
    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }

    /// The ESP SAs.
    pub fn esp(&self) -> &esp::SaTable {
        &self.esp
    }

    /// How many IKE negotiations (phase 1 and Quick Mode for one tunnel)
    /// are in progress.
    pub fn negotiation_count(&self) -> usize {
        self.negotiations.len()
    }

    /// The installed SA pairs.
    pub fn tunnels(&self) -> Vec<TunnelInfo> {
        self.tunnels.values().map(Tunnel::info).collect()
    }

    /// The debug log, when [`GatewayOptions::debug`] is on.
    pub fn log(&self) -> Option<&DebugLog> {
        self.log.as_ref()
    }

    /// The key log, when [`GatewayOptions::key_log`] is on.
    pub fn key_log(&self) -> Option<&KeyLog> {
        self.key_log.as_ref()
    }

    // ----- inputs -----

    /// A packet from the protected side, at `buf[packet]`, on its way out
    /// through the outside interface. See the module documentation for
    /// the verdicts and the buffer contract.
    pub fn handle_plaintext(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        packet: Range<usize>,
    ) -> Plaintext {
        let verdict = self.plaintext(now, buf, packet);
        self.count_plaintext(&verdict);
        self.pump(now);
        verdict
    }

    /// A UDP datagram for port 500 that arrived on the outside interface,
    /// from `remote` to `local` (this gateway's address, or a protected
    /// host's when this router is on the path to it).
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        payload: &[u8],
    ) -> Datagram {
        let verdict = self.datagram(now, local, remote, payload);
        self.pump(now);
        verdict
    }

    /// An IPv4 packet of protocol 50 (ESP) that arrived on the outside
    /// interface, at the start of `buf`; decapsulated in place. A whole
    /// IPv4/UDP packet carrying UDP-encapsulated ESP (RFC 3948) is taken
    /// too, and treated as [`handle_nat_t`](Self::handle_nat_t) treats its
    /// ESP.
    pub fn handle_esp(&mut self, now: Instant, buf: &mut [u8]) -> Esp {
        let result = self.esp.decapsulate(now, buf);
        let verdict = self.esp_verdict(now, result);
        self.pump(now);
        verdict
    }

    /// A UDP datagram that arrived on the NAT-T port (RFC 3948: `local`'s
    /// port is [`ike_sm::NatTConfig::port`], 4500), from `remote`, its
    /// payload at `buf[payload]`. `isakmp_wire::nat_t::classify` tells it
    /// apart: an IKE message after the non-ESP marker goes to the IKE
    /// engine (the datagram as it came, which strips the marker itself); a
    /// keepalive is counted and discarded; ESP is found by SPI,
    /// authenticated, replay-checked and decrypted in place like
    /// [`handle_esp`](Self::handle_esp)'s (transport mode needs
    /// [`Gateway::NAT_T_HEADROOM`] bytes before `payload`). When an
    /// authenticated ESP packet came from another address or port than the
    /// pair's peer, the peer's NAT has moved it: IKE is told
    /// (`Endpoint::peer_moved`), and the pair, its ISAKMP SA and its
    /// sibling pairs follow ([`ike_sm::Event::PeerMoved`]). Nothing
    /// unauthenticated moves anything.
    pub fn handle_nat_t(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        buf: &mut [u8],
        payload: Range<usize>,
    ) -> NatT {
        let bytes = buf.get(payload.clone()).unwrap_or(&[]);
        let verdict = match isakmp_wire::nat_t::classify(bytes) {
            Ok(isakmp_wire::nat_t::Udp4500::Ike(_)) => {
                self.counters.nat_t_ike = self.counters.nat_t_ike.saturating_add(1);
                self.endpoint.handle_datagram(
                    now,
                    SocketAddr::V4(local),
                    SocketAddr::V4(remote),
                    bytes,
                );
                NatT::Ike
            }
            Ok(isakmp_wire::nat_t::Udp4500::Keepalive) => {
                self.counters.nat_t_keepalives = self.counters.nat_t_keepalives.saturating_add(1);
                NatT::Keepalive
            }
            Ok(isakmp_wire::nat_t::Udp4500::Esp(_)) => {
                let result = self.esp.decapsulate_udp(now, buf, payload, remote, local);
                NatT::Esp(self.esp_verdict(now, result))
            }
            Err(e) => {
                self.counters.nat_t_malformed = self.counters.nat_t_malformed.saturating_add(1);
                NatT::Malformed(e)
            }
        };
        self.pump(now);
        verdict
    }

    /// The verdict on a decapsulation, counted; authenticated
    /// UDP-encapsulated ESP from a new source of its peer is reported to
    /// IKE.
    fn esp_verdict(
        &mut self,
        now: Instant,
        result: Result<(esp::SaHandle, esp::Decapsulated), esp::DecapError>,
    ) -> Esp {
        match result {
            Ok((handle, d)) => {
                let spi = self.esp.get(handle).map_or(0, |sa| sa.spi().0);
                let len = u64::try_from(d.packet.len()).unwrap_or(u64::MAX);
                let tunnel = self.tunnels.get_mut(&spi).map(|t| {
                    // The peer has the pair: no more reason to hold it back.
                    t.hold_until = None;
                    (t.peer, t.udp_peer)
                });
                match tunnel {
                    Some((peer, udp_peer)) => {
                        // The packet authenticated and passed the replay
                        // window: its source may move the peer.
                        if let (Some(from), Some(known)) = (d.udp_source, udp_peer)
                            && from != known
                            && self
                                .endpoint
                                .peer_moved(now, Spi(spi), SocketAddr::V4(from))
                                .is_ok()
                        {
                            self.counters.esp_peer_moved =
                                self.counters.esp_peer_moved.saturating_add(1);
                        }
                        self.endpoint.report_traffic(now, Spi(spi), len);
                        self.counters.esp_decrypted = self.counters.esp_decrypted.saturating_add(1);
                        Esp::Decrypted {
                            packet: d.packet,
                            peer,
                            spi,
                        }
                    }
                    // Every inbound SA in the table belongs to a tunnel;
                    // refuse rather than hand out what no tunnel vouches for.
                    None => {
                        self.counters.esp_unknown_spi =
                            self.counters.esp_unknown_spi.saturating_add(1);
                        Esp::Dropped(EspDrop::UnknownSpi(spi))
                    }
                }
            }
            Err(esp::DecapError::UnknownSpi(spi)) => {
                self.counters.esp_unknown_spi = self.counters.esp_unknown_spi.saturating_add(1);
                Esp::Dropped(EspDrop::UnknownSpi(spi.0))
            }
            Err(e) => {
                self.counters.esp_refused = self.counters.esp_refused.saturating_add(1);
                Esp::Dropped(EspDrop::Decapsulation(e))
            }
        }
    }

    /// A cleartext IPv4 packet (neither ESP nor UDP 500 for this gateway)
    /// that arrived on the outside interface, before it is forwarded to
    /// the protected side.
    pub fn handle_outside_plaintext(&mut self, now: Instant, packet: &[u8]) -> Outside {
        let verdict = match Flow::from_ipv4_packet(packet) {
            Err(_) => {
                self.counters.outside_malformed = self.counters.outside_malformed.saturating_add(1);
                Outside::DroppedMalformed
            }
            Ok(flow) => {
                // The crypto map is written for outgoing traffic: incoming
                // traffic it protects is its mirror image.
                if self.config.classify(&self.map, &flow.reversed()).is_some() {
                    self.counters.outside_cleartext_dropped =
                        self.counters.outside_cleartext_dropped.saturating_add(1);
                    Outside::DroppedCleartext
                } else {
                    self.counters.outside_forwarded =
                        self.counters.outside_forwarded.saturating_add(1);
                    Outside::Forward
                }
            }
        };
        self.pump(now);
        verdict
    }

    /// Runs the timers due at `now`: IKE retransmissions, lifetimes,
    /// rekeys and DPD; TED retransmissions and give-ups; ESP lifetimes.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.endpoint.handle_timeout(now);
        self.discovery.handle_timeout(now);
        self.esp.handle_timeout(now);
        self.pump(now);
    }

    // ----- commands -----

    /// `clear crypto sa`: deletes every IPsec SA pair, telling the peers.
    pub fn clear_crypto_sa(&mut self, now: Instant) {
        let spis: Vec<u32> = self.tunnels.keys().copied().collect();
        for spi in spis {
            if self.endpoint.delete_ipsec(now, Spi(spi)).is_err() {
                self.remove_tunnel(
                    now,
                    spi,
                    TunnelDownReason::Deleted(ike_sm::DeletedBy::Local),
                );
            }
        }
        self.pump(now);
    }

    /// `clear crypto isakmp`: deletes every ISAKMP SA, telling the peers
    /// (IPsec SAs stay, as in IKEv1).
    pub fn clear_crypto_isakmp(&mut self, now: Instant) {
        let ids: Vec<_> = self.endpoint.isakmp_sas(now).iter().map(|s| s.id).collect();
        for id in ids {
            let _ = self.endpoint.delete_isakmp(now, id);
        }
        self.pump(now);
    }

    // ----- remote access -----

    /// Remote-access client ([`GatewayOptions::client`]): starts phase 1
    /// with the concentrator (the crypto map entry's peer). XAUTH and
    /// Mode-Config follow; once configured, the gateway negotiates its
    /// tunnels from the address it was given.
    ///
    /// # Errors
    /// [`ike_sm::CommandError`] when phase 1 cannot start; a gateway that
    /// is not a client, or has no peer, is refused as
    /// [`ike_sm::CommandError::NoPolicy`].
    pub fn connect(&mut self, now: Instant) -> Result<IsakmpSaId, ike_sm::CommandError> {
        let peer = self
            .client_entry()
            .map(|(_, p)| p)
            .ok_or(ike_sm::CommandError::NoPolicy)?;
        let r = self.endpoint.initiate_phase1(
            now,
            SocketAddr::V4(SocketAddrV4::new(peer, 500)),
            SocketAddr::V4(SocketAddrV4::new(self.address, 500)),
        );
        self.pump(now);
        r
    }

    /// Remote-access client: answers the concentrator's XAUTH request
    /// ([`ike_sm::Event::XauthRequested`]).
    ///
    /// # Errors
    /// [`ike_sm::CommandError`] when no request is pending on `sa`.
    pub fn xauth_credentials(
        &mut self,
        now: Instant,
        sa: IsakmpSaId,
        credentials: &XauthCredentials,
    ) -> Result<(), ike_sm::CommandError> {
        let r = self.endpoint.xauth_credentials(now, sa, credentials);
        self.pump(now);
        r
    }

    /// Remote-access client: gives up on XAUTH (the person dismissed the
    /// prompt, or the same credentials were refused already): the SA is
    /// deleted and the concentrator told.
    ///
    /// # Errors
    /// [`ike_sm::CommandError`] when `sa` is not an XAUTH client still
    /// authenticating.
    pub fn xauth_cancel(
        &mut self,
        now: Instant,
        sa: IsakmpSaId,
    ) -> Result<(), ike_sm::CommandError> {
        let r = self.endpoint.xauth_cancel(now, sa);
        self.pump(now);
        r
    }

    /// Easy VPN server: the users of a user file (see
    /// [`crate::remote_access::UserDb`]), checked before the
    /// configuration's `username` lines. Ignored by a gateway that serves
    /// no clients.
    pub fn set_users(&mut self, users: crate::remote_access::UserDb) {
        if let Some(s) = self.ra_server.as_mut() {
            s.set_users(users);
        }
    }

    /// Tells the engine the calendar time (`unix_seconds` at `now`), which
    /// certificate validity is checked against (see
    /// [`ike_sm::Endpoint::set_calendar_time`]). A driver calls it at
    /// start and whenever the wall clock steps.
    pub fn set_calendar_time(&mut self, now: Instant, unix_seconds: u64) {
        self.endpoint.set_calendar_time(now, unix_seconds);
    }

    /// Remote-access client: what Mode-Config gave, once it has.
    #[must_use]
    pub fn client_config(&self) -> Option<&ModeConfig> {
        self.ra_client.as_ref().map(|(_, c)| c)
    }

    /// Easy VPN server: the address pools, with their leases (for show
    /// commands).
    pub fn address_pools(
        &self,
    ) -> impl Iterator<Item = &crate::remote_access::AddressPool<IsakmpSaId>> + '_ {
        self.ra_server.iter().flat_map(|s| s.pools())
    }

    /// The crypto map entry a client uses: its parameters and peer.
    fn client_entry(&self) -> Option<(crate::config::MapParams, Ipv4Addr)> {
        self.config
            .crypto_map(&self.map)?
            .entries()
            .find_map(|(_, e)| match e {
                CryptoMapEntry::IpsecIsakmp(p) => p.peers.first().map(|peer| (p.clone(), *peer)),
                _ => None,
            })
    }

    /// The networks a configured client tunnels: the split include list,
    /// or everything.
    fn client_networks(config: &ModeConfig) -> Vec<ProxyIdent> {
        let any = |address, mask| ProxyIdent {
            address,
            mask,
            protocol: crate::acl::IpProtocol(0),
            port: 0,
        };
        if config.split_include.is_empty() {
            return vec![any(Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED)];
        }
        config
            .split_include
            .iter()
            .map(|n| any(n.address, n.mask))
            .collect()
    }

    /// Remote-access client: Mode-Config is done on `sa`: one tunnel per
    /// split network (or one for everything) from the given address.
    fn client_configured(&mut self, now: Instant, sa: IsakmpSaId, config: &ModeConfig) {
        self.ra_client = Some((sa, config.clone()));
        let Some(address) = config.address else {
            return;
        };
        let Some((params, peer)) = self.client_entry() else {
            return;
        };
        let local = ProxyIdent {
            address,
            mask: Ipv4Addr::BROADCAST,
            protocol: crate::acl::IpProtocol(0),
            port: 0,
        };
        for remote in Self::client_networks(config) {
            let (l, r) = (
                translate::proxy_to_ike(&local),
                translate::proxy_to_ike(&remote),
            );
            let covered = self
                .tunnels
                .values()
                .any(|t| t.local_proxy == l && t.remote_proxy == r)
                || self
                    .negotiations
                    .values()
                    .any(|n| n.local_proxy == l && n.remote_proxy == r);
            if !covered {
                let _ = self.start_negotiation(now, &params, peer, &local, &remote, None);
            }
        }
    }

    /// Remote-access client: a packet from the protected side (the TUN
    /// device): into the tunnel that takes it, or a negotiation for it
    /// when it is from our address to a tunnelled network, else bypassed.
    fn client_plaintext(
        &mut self,
        now: Instant,
        flow: &Flow,
        buf: &mut [u8],
        packet: Range<usize>,
    ) -> Plaintext {
        if let Some(spi) = self.tunnel_for(now, flow) {
            return self.encapsulate(now, spi, buf, packet);
        }
        let Some((sa, config)) = self.ra_client.clone() else {
            return Plaintext::Dropped(PlaintextDrop::Negotiating);
        };
        if config.address != Some(flow.source()) {
            return Plaintext::Bypass;
        }
        let dst = flow.destination();
        let takes = |n: &ProxyIdent| {
            u32::from(dst) & u32::from(n.mask) == u32::from(n.address) & u32::from(n.mask)
        };
        if !Self::client_networks(&config).iter().any(takes) {
            return Plaintext::Bypass;
        }
        if !self.negotiating_for(flow) {
            self.client_configured(now, sa, &config);
        }
        Plaintext::Dropped(PlaintextDrop::Negotiating)
    }

    // ----- outputs -----

    /// The next UDP datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.endpoint.poll_timeout(),
            self.discovery.poll_timeout(),
            self.esp.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ----- plaintext -----

    fn plaintext(&mut self, now: Instant, buf: &mut [u8], packet: Range<usize>) -> Plaintext {
        let Some(bytes) = buf.get(packet.clone()) else {
            return Plaintext::Dropped(PlaintextDrop::Malformed);
        };
        let Ok(flow) = Flow::from_ipv4_packet(bytes) else {
            return Plaintext::Dropped(PlaintextDrop::Malformed);
        };
        if self.options.client.is_some() {
            return self.client_plaintext(now, &flow, buf, packet);
        }
        let Some(hit) = self.config.classify(&self.map, &flow) else {
            // No access list names the flow, but an SA pair a dynamic map
            // entry without `match address` accepted may take it (an Easy
            // VPN client's assigned address).
            if let Some(spi) = self.tunnel_for(now, &flow) {
                return self.encapsulate(now, spi, buf, packet);
            }
            return Plaintext::Bypass;
        };
        if let Some(spi) = self.tunnel_for(now, &flow) {
            return self.encapsulate(now, spi, buf, packet);
        }
        if self.negotiating_for(&flow) {
            return Plaintext::Dropped(PlaintextDrop::Negotiating);
        }
        let entry = self
            .config
            .crypto_map(&self.map)
            .and_then(|m| m.entry(hit.seq))
            .cloned();
        match entry {
            Some(CryptoMapEntry::Dynamic { discover: true, .. }) => self.trigger(now, &flow),
            Some(CryptoMapEntry::IpsecIsakmp(params)) => {
                let Some(peer) = params.peers.first().copied() else {
                    return Plaintext::Dropped(PlaintextDrop::NoPeer);
                };
                let pair = self
                    .config
                    .access_list(&hit.acl)
                    .and_then(|acl| acl.rules().find(|(seq, _)| *seq == hit.acl_seq))
                    .and_then(|(_, rule)| rule.proxy().ok());
                let Some(pair) = pair else {
                    return Plaintext::Dropped(PlaintextDrop::NegotiationRefused);
                };
                match self.start_negotiation(
                    now,
                    &params,
                    peer,
                    &pair.source,
                    &pair.destination,
                    None,
                ) {
                    Ok(()) => Plaintext::Dropped(PlaintextDrop::Negotiating),
                    Err(()) => Plaintext::Dropped(PlaintextDrop::NegotiationRefused),
                }
            }
            _ => Plaintext::Dropped(PlaintextDrop::NoPeer),
        }
    }

    fn count_plaintext(&mut self, verdict: &Plaintext) {
        let c = &mut self.counters;
        let n = match verdict {
            Plaintext::Bypass => &mut c.plaintext_bypassed,
            Plaintext::Encrypted { .. } => &mut c.plaintext_encrypted,
            Plaintext::Dropped(d) => match d {
                PlaintextDrop::Malformed => &mut c.plaintext_malformed,
                PlaintextDrop::BufferTooSmall { .. } => &mut c.plaintext_buffer_too_small,
                PlaintextDrop::Discovering => &mut c.plaintext_discovering,
                PlaintextDrop::DiscoveryHeldDown | PlaintextDrop::DiscoveryRefused => {
                    &mut c.plaintext_discovery_refused
                }
                PlaintextDrop::Negotiating => &mut c.plaintext_negotiating,
                PlaintextDrop::NoPeer => &mut c.plaintext_no_peer,
                PlaintextDrop::NegotiationRefused => &mut c.plaintext_negotiation_refused,
                PlaintextDrop::Encapsulation(_) => &mut c.plaintext_encapsulation_failed,
            },
        };
        *n = n.saturating_add(1);
    }

    /// The newest live SA pair whose outbound selector takes the flow,
    /// passing over a rekeying pair still on hold while an older one is
    /// there to carry the packet.
    fn tunnel_for(&self, now: Instant, flow: &Flow) -> Option<u32> {
        let ports = match flow.transport() {
            crate::acl::Transport::Tcp {
                source_port,
                destination_port,
                ..
            }
            | crate::acl::Transport::Udp {
                source_port,
                destination_port,
            } => Some((source_port, destination_port)),
            _ => None,
        };
        let (src, dst) = (IpAddr::V4(flow.source()), IpAddr::V4(flow.destination()));
        self.tunnels
            .values()
            .filter(|t| {
                self.esp.get(t.outbound).is_some_and(|sa| {
                    sa.is_expired().is_none()
                        && sa
                            .selector()
                            .matches_packet(src, dst, flow.protocol().0, ports)
                })
            })
            .max_by_key(|t| {
                let ready = t.hold_until.is_none_or(|until| now >= until);
                (ready, t.created, t.inbound_spi)
            })
            .map(|t| t.inbound_spi)
    }

    fn negotiating_for(&self, flow: &Flow) -> bool {
        let (src, dst) = (IpAddr::V4(flow.source()), IpAddr::V4(flow.destination()));
        self.negotiations
            .values()
            .any(|n| n.local_proxy.contains_addr(src) && n.remote_proxy.contains_addr(dst))
    }

    fn encapsulate(
        &mut self,
        now: Instant,
        spi: u32,
        buf: &mut [u8],
        packet: Range<usize>,
    ) -> Plaintext {
        let Some((handle, peer, outbound_spi)) = self
            .tunnels
            .get(&spi)
            .map(|t| (t.outbound, t.peer, t.outbound_spi))
        else {
            return Plaintext::Dropped(PlaintextDrop::NoPeer);
        };
        let inner_len = packet.len();
        let Some(room) = self.esp.get(handle).map(|sa| sa.room(inner_len)) else {
            return Plaintext::Dropped(PlaintextDrop::NoPeer);
        };
        let tail = buf.len().saturating_sub(packet.end);
        if packet.start < room.headroom || tail < room.tailroom || packet.end > buf.len() {
            return Plaintext::Dropped(PlaintextDrop::BufferTooSmall {
                headroom: room.headroom,
                tailroom: room.tailroom,
            });
        }
        let mut rng = PurposeRng::new(self.endpoint.entropy_mut(), Purpose::Iv);
        match self.esp.encapsulate(handle, now, &mut rng, buf, packet) {
            Some(Ok(done)) => {
                let len = u64::try_from(inner_len).unwrap_or(u64::MAX);
                self.endpoint.report_traffic(now, Spi(spi), len);
                Plaintext::Encrypted {
                    packet: done.packet,
                    peer,
                    spi: outbound_spi,
                    udp: done.udp,
                }
            }
            Some(Err(e)) => Plaintext::Dropped(PlaintextDrop::Encapsulation(e)),
            None => Plaintext::Dropped(PlaintextDrop::NoPeer),
        }
    }

    fn trigger(&mut self, now: Instant, flow: &Flow) -> Plaintext {
        let Ok(trigger) = discovery::Trigger::from_config(&self.config, &self.map, flow) else {
            return Plaintext::Dropped(PlaintextDrop::DiscoveryRefused);
        };
        let mut rng = PurposeRng::new(self.endpoint.entropy_mut(), Purpose::Cookie);
        match self.discovery.handle_trigger(now, &mut rng, trigger) {
            TriggerOutcome::Started(_) | TriggerOutcome::Pending { .. } => {
                Plaintext::Dropped(PlaintextDrop::Discovering)
            }
            TriggerOutcome::HeldDown { .. } => Plaintext::Dropped(PlaintextDrop::DiscoveryHeldDown),
            _ => Plaintext::Dropped(PlaintextDrop::DiscoveryRefused),
        }
    }

    /// Asks IKE for an SA pair with `peer` for the proxies, per a crypto
    /// map entry's parameters.
    fn start_negotiation(
        &mut self,
        now: Instant,
        params: &crate::config::MapParams,
        peer: Ipv4Addr,
        local_proxy: &ProxyIdent,
        remote_proxy: &ProxyIdent,
        derived: Option<u32>,
    ) -> Result<(), ()> {
        if self.negotiations.len() >= self.options.caps.max_negotiations {
            return Err(());
        }
        let request = translate::phase2_request(
            &self.config,
            params,
            self.address,
            peer,
            local_proxy,
            remote_proxy,
        );
        if request.transform_sets.is_empty() {
            return Err(());
        }
        let (local, remote) = (request.local_proxy, request.remote_proxy);
        let id = self.endpoint.initiate(now, request).map_err(|_| ())?;
        self.negotiations.insert(
            id,
            Negotiation {
                local_proxy: local,
                remote_proxy: remote,
                derived,
            },
        );
        if let Some(seq) = derived {
            self.acquire(seq);
        }
        Ok(())
    }

    // ----- datagrams -----

    fn datagram(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        payload: &[u8],
    ) -> Datagram {
        let is_ted = self.discovery.is_ted(payload);
        if *local.ip() == self.address && !is_ted {
            self.counters.datagrams_ike = self.counters.datagrams_ike.saturating_add(1);
            self.endpoint.handle_datagram(
                now,
                SocketAddr::V4(local),
                SocketAddr::V4(remote),
                payload,
            );
            return Datagram::Consumed;
        }
        if !is_ted {
            self.counters.datagrams_forwarded = self.counters.datagrams_forwarded.saturating_add(1);
            return Datagram::Forward;
        }
        let mut rng = PurposeRng::new(self.endpoint.entropy_mut(), Purpose::Cookie);
        let datagram = discovery::Datagram::new(remote, local, payload).with_crypto_map(&self.map);
        let disposition = self
            .discovery
            .handle_datagram(now, &mut rng, &self.config, datagram);
        if *local.ip() != self.address && disposition != Disposition::Consumed {
            self.counters.datagrams_forwarded = self.counters.datagrams_forwarded.saturating_add(1);
            return Datagram::Forward;
        }
        self.counters.datagrams_ted = self.counters.datagrams_ted.saturating_add(1);
        Datagram::Consumed
    }

    // ----- the engines' outputs -----

    /// Moves what each engine produced into the others and into this
    /// gateway's queues, until nothing moves.
    fn pump(&mut self, now: Instant) {
        for _ in 0..MAX_PUMP_ROUNDS {
            let mut moved = false;
            while let Some(t) = self.discovery.poll_transmit() {
                moved = true;
                self.push_transmit(t);
            }
            while let Some(e) = self.discovery.poll_event() {
                moved = true;
                self.on_discovery_event(now, e);
            }
            moved |= self.drain_endpoint(now);
            while let Some((_, e)) = self.esp.poll_event() {
                moved = true;
                self.on_esp_event(now, e);
            }
            if !moved {
                break;
            }
        }
        let deferred = std::mem::take(&mut self.deferred_log);
        for record in deferred {
            self.record(record);
        }
        // IDs handed out for a "Creating IPSec SAs" whose pair never came
        // (it cannot, but the map must not grow if it did).
        self.pending_ids.clear();
    }

    fn drain_endpoint(&mut self, now: Instant) -> bool {
        let mut moved = false;
        while let Some(t) = self.endpoint.poll_transmit() {
            moved = true;
            if let (SocketAddr::V4(source), SocketAddr::V4(destination)) = (t.local, t.remote) {
                self.push_transmit(Transmit {
                    source,
                    destination,
                    payload: t.data,
                    kind: TransmitKind::Ike,
                });
            }
        }
        while let Some(e) = self.endpoint.poll_event() {
            moved = true;
            self.on_ike_event(now, e);
        }
        moved
    }

    fn on_discovery_event(&mut self, now: Instant, event: discovery::Event) {
        use discovery::Event as D;
        // IOS numbers TED exchanges from the same sequence as ISAKMP SAs:
        // the seed's discovery is (0:1), the Main Mode after it (0:2).
        let conn_id = match &event {
            D::Started { id, .. } => Some(self.new_ted_conn(*id)),
            D::ProbeReceived(p) => Some(self.new_ted_conn(p.id)),
            D::ProbeSent { id, .. } | D::GaveUp { id, .. } => self.ted_conn.get(id).copied(),
            D::Discovered(d) => self.ted_conn.get(&d.id).copied(),
            D::ProbeAnswered(a) => self.ted_conn.get(&a.id).copied(),
            D::ResponseDropped { id, .. } | D::ProbeDropped { id, .. } => {
                id.and_then(|id| self.ted_conn.get(&id).copied())
            }
        }
        .unwrap_or(0);
        self.record(Record {
            at: now,
            event: LogEvent::Discovery {
                conn_id,
                event: event.clone(),
            },
        });
        self.push_event(Event::Discovery(event.clone()));
        match &event {
            D::Discovered(d) => {
                self.ted_conn.remove(&d.id);
                self.follow_discovery(now, conn_id, d);
            }
            D::GaveUp { id, .. } => {
                self.ted_conn.remove(id);
            }
            D::ProbeAnswered(a) => {
                self.ted_conn.remove(&a.id);
            }
            D::ProbeDropped { id: Some(id), .. } => {
                self.ted_conn.remove(id);
            }
            _ => {}
        }
    }

    fn new_ted_conn(&mut self, id: DiscoveryId) -> u32 {
        let conn = self.endpoint.next_conn_id();
        // Terminal events always come in the same drain for the responder
        // and within the discovery's lifetime for the initiator; the bound
        // only matters if an event was lost to a full queue.
        let bound = self.options.discovery.max_pending.saturating_add(64);
        while self.ted_conn.len() >= bound {
            self.ted_conn.pop_first();
        }
        self.ted_conn.insert(id, conn);
        conn
    }

    /// A discovery found the peer: derive the crypto map entry and start
    /// IKE for the negotiated proxies.
    fn follow_discovery(&mut self, now: Instant, conn_id: u32, d: &Discovered) {
        let followed = self.derive_and_initiate(now, conn_id, d);
        if !followed {
            self.counters.discoveries_not_followed =
                self.counters.discoveries_not_followed.saturating_add(1);
            return;
        }
        // IOS deletes the TED "SA" after Main Mode's first message left.
        self.drain_endpoint(now);
        self.record(Record {
            at: now,
            event: LogEvent::DiscoverySaDeleted {
                conn_id,
                role: Role::Initiator,
                peer: d.trigger.packet_destination,
            },
        });
    }

    fn derive_and_initiate(&mut self, now: Instant, conn_id: u32, d: &Discovered) -> bool {
        let Some(template_seq) = d.trigger.template_seq else {
            return false;
        };
        if d.trigger.map != self.map {
            return false;
        }
        let parent = d.trigger.map_seq;
        let existing = self
            .derived
            .iter()
            .find(|(_, u)| u.peer == d.peer && u.parent == parent && u.template_seq == template_seq)
            .map(|(seq, _)| *seq);
        let seq = match existing {
            Some(seq) => seq,
            None => match self
                .config
                .derive_entry(&self.map, parent, template_seq, d.peer)
            {
                Ok(seq) => {
                    self.derived.insert(
                        seq,
                        DerivedUse {
                            peer: d.peer,
                            parent,
                            template_seq,
                            users: 0,
                        },
                    );
                    self.counters.map_entries_derived =
                        self.counters.map_entries_derived.saturating_add(1);
                    self.push_event(Event::MapEntryDerived {
                        map: self.map.clone(),
                        seq,
                        peer: d.peer,
                    });
                    seq
                }
                Err(_) => return false,
            },
        };
        let params = self
            .config
            .crypto_map(&self.map)
            .and_then(|m| m.entry(seq))
            .and_then(CryptoMapEntry::params)
            .cloned();
        let Some(params) = params else {
            return false;
        };
        self.record(Record {
            at: now,
            event: LogEvent::DiscoveryFollowed {
                conn_id,
                peer: d.peer,
            },
        });
        let started = self.start_negotiation(
            now,
            &params,
            d.peer,
            &d.local_proxy,
            &d.remote_proxy,
            Some(seq),
        );
        if started.is_err() {
            // An entry nobody uses goes again.
            self.acquire(seq);
            self.release(now, Some(seq));
            return false;
        }
        true
    }

    fn on_ike_event(&mut self, now: Instant, event: ike_sm::Event) {
        use ike_sm::Event as I;
        match event {
            I::Trace(t) => self.on_trace(now, t),
            I::Phase2Established(est) => self.install(now, est),
            I::WeakAlgorithm { algorithm, .. } => {
                self.report_weak(algorithm, "negotiated".to_owned());
            }
            // The password stays here: checked, never passed on.
            I::XauthVerify(v) => {
                let accepted = self.ra_server.as_ref().is_some_and(|s| s.verify(&v));
                let _ = self.endpoint.xauth_verdict(now, v.sa, accepted);
                self.push_event(Event::XauthChecked {
                    sa: v.sa,
                    peer: v.peer,
                    user: v.user.clone(),
                    attempt: v.attempt,
                    accepted,
                });
            }
            I::ModeCfgRequested(r) => {
                let assigned = match self.ra_server.as_mut() {
                    Some(s) => s.assign(&self.config, &r),
                    None => Err(RefusedConfig::NoGroup(String::new())),
                };
                match assigned {
                    Ok(c) => {
                        let _ = self.endpoint.mode_cfg_reply(now, r.sa, &c);
                    }
                    Err(reason) => {
                        let _ = self.endpoint.mode_cfg_refuse(now, r.sa);
                        self.push_event(Event::ModeCfgRefused {
                            sa: r.sa,
                            peer: r.peer,
                            reason,
                        });
                    }
                }
            }
            I::AddressReleased { sa, peer, address } => {
                if let Some(s) = self.ra_server.as_mut() {
                    s.release(sa);
                }
                self.push_event(Event::Ike(I::AddressReleased { sa, peer, address }));
            }
            I::ModeCfgReceived { sa, peer, config } => {
                if self.options.client.is_some() {
                    self.client_configured(now, sa, &config);
                }
                self.push_event(Event::Ike(I::ModeCfgReceived { sa, peer, config }));
            }
            other => {
                match &other {
                    I::Phase1Established(p) => {
                        if let Some(key_log) = self.key_log.as_mut()
                            && let Some((cookie, key)) = self.endpoint.export_phase1_key(p.sa)
                        {
                            key_log.push(KeyLogEntry::Ikev1 {
                                initiator_cookie: cookie,
                                encryption_key: key,
                            });
                        }
                    }
                    I::Phase2Failed {
                        negotiation: Some(n),
                        ..
                    } => {
                        if let Some(neg) = self.negotiations.remove(n) {
                            self.release(now, neg.derived);
                        }
                    }
                    I::Deleted {
                        sa: SaRef::Ipsec { inbound, .. },
                        by,
                        ..
                    } => self.remove_tunnel(now, inbound.0, TunnelDownReason::Deleted(*by)),
                    I::Expired {
                        sa: SaRef::Ipsec { inbound, .. },
                        ..
                    } => self.remove_tunnel(now, inbound.0, TunnelDownReason::Expired),
                    I::PeerMoved { to, ipsec, .. } => self.follow_peer(*to, ipsec),
                    _ => {}
                }
                self.push_event(Event::Ike(other));
            }
        }
    }

    fn on_trace(&mut self, now: Instant, t: ike_sm::Trace) {
        use ike_sm::TraceEvent as T;
        let quick_mode = match &t.event {
            T::CheckingIsakmpTransform { .. } => {
                self.last_checking = Some((t.conn_id, false));
                false
            }
            T::CheckingIpsecProposal { .. } => {
                self.last_checking = Some((t.conn_id, true));
                true
            }
            T::AttributesAcceptable { .. } => self
                .last_checking
                .is_some_and(|(c, qm)| c == t.conn_id && qm),
            _ => false,
        };
        if let T::CreatingIpsecSas {
            inbound_spi,
            outbound_spi,
            local,
            remote,
            local_proxy,
            remote_proxy,
            lifetime,
        } = &t.event
        {
            let ids = self.allocate_ids();
            self.pending_ids.insert(inbound_spi.0, ids);
            if let (IpAddr::V4(local), IpAddr::V4(remote)) = (local, remote)
                && let (Some(lp), Some(rp)) = (
                    translate::proxy_from_ike(local_proxy),
                    translate::proxy_from_ike(remote_proxy),
                )
            {
                let pair = IpsecSaPairLog {
                    isakmp_conn_id: t.conn_id,
                    local: *local,
                    remote: *remote,
                    local_proxy: lp,
                    remote_proxy: rp,
                    transforms: Vec::new(),
                    seconds: u64::from(lifetime.seconds),
                    kilobytes: lifetime.kilobytes.unwrap_or(0),
                    inbound_spi: inbound_spi.0,
                    outbound_spi: outbound_spi.0,
                    inbound_conn_id: ids.conn_in,
                    outbound_conn_id: ids.conn_out,
                };
                self.record(Record {
                    at: now,
                    event: LogEvent::IpsecSas {
                        kind: IpsecSaLogKind::Creating,
                        pair: Box::new(pair),
                    },
                });
                return;
            }
        }
        self.record(Record {
            at: now,
            event: LogEvent::Isakmp {
                conn_id: t.conn_id,
                quick_mode,
                event: t.event,
            },
        });
    }

    fn allocate_ids(&mut self) -> EngineIds {
        let conn_in = self.next_ipsec_conn;
        let conn_out = conn_in.wrapping_add(1);
        self.next_ipsec_conn = conn_in.wrapping_add(2).max(FIRST_IPSEC_CONN_ID);
        let flow_in = self.next_flow;
        let flow_out = flow_in.wrapping_add(1);
        self.next_flow = flow_in.wrapping_add(2).max(1);
        EngineIds {
            conn_in,
            conn_out,
            flow_in,
            flow_out,
        }
    }

    /// Installs a negotiated SA pair in the ESP table.
    fn install(&mut self, now: Instant, est: Box<Phase2Established>) {
        let inbound_spi = est.inbound.spi.0;
        let negotiation = est.negotiation.and_then(|n| self.negotiations.remove(&n));
        let derived = match &negotiation {
            Some(n) => n.derived,
            None => est
                .rekey_of
                .and_then(|old| self.tunnels.get(&old.0))
                .and_then(|t| t.derived),
        };
        let ids = self
            .pending_ids
            .remove(&inbound_spi)
            .unwrap_or_else(|| self.allocate_ids());
        let peer = match est.remote.ip() {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        };
        let installed = match peer {
            Some(peer)
                if self.tunnels.len() < self.options.caps.max_tunnels
                    || self.replaces_one(peer, &est) =>
            {
                self.install_pair(now, &est, peer, ids, derived)
            }
            _ => false,
        };
        if installed {
            // The tunnel takes over the negotiation's use of the entry.
            if negotiation.is_some() {
                self.release(now, derived);
            }
        } else {
            self.counters.tunnels_refused = self.counters.tunnels_refused.saturating_add(1);
            let _ = self.endpoint.delete_ipsec(now, est.inbound.spi);
            if let Some(n) = negotiation {
                self.release(now, n.derived);
            }
        }
    }

    /// Whether a new pair takes over from exactly one installed tunnel with
    /// the same peer and proxies: a rekey, by either side (the responder
    /// of a rekey sees only a new Quick Mode). It is installed even at
    /// `max_tunnels`, or a gateway at its cap could never rekey and its
    /// tunnels would drop at every expiry; the old pair leaves when it
    /// expires. A third pair for the same proxies is refused, so the table
    /// holds at most twice `max_tunnels` pairs.
    fn replaces_one(&self, peer: Ipv4Addr, est: &Phase2Established) -> bool {
        self.tunnels
            .values()
            .filter(|t| {
                t.peer == peer
                    && t.local_proxy == est.local_proxy
                    && t.remote_proxy == est.remote_proxy
            })
            .count()
            == 1
    }

    fn install_pair(
        &mut self,
        now: Instant,
        est: &Phase2Established,
        peer: Ipv4Addr,
        ids: EngineIds,
        derived: Option<u32>,
    ) -> bool {
        let (Some(inp), Some(outp)) = (
            translate::esp_params(est, esp::Direction::Inbound),
            translate::esp_params(est, esp::Direction::Outbound),
        ) else {
            return false;
        };
        let (Ok(in_sa), Ok(out_sa)) = (esp::Sa::new(inp, now), esp::Sa::new(outp, now)) else {
            return false;
        };
        let (encryption, integrity) = (in_sa.encryption(), in_sa.integrity());
        let Ok(inbound) = self.esp.insert(in_sa) else {
            return false;
        };
        let Ok(outbound) = self.esp.insert(out_sa) else {
            self.esp.remove(inbound);
            return false;
        };
        let isakmp_conn_id = self
            .endpoint
            .isakmp_sa(est.isakmp_sa, now)
            .map_or(0, |s| s.conn_id);
        // A pair that rekeys one of ours, negotiated as Quick Mode
        // initiator, is held back (see REKEY_SEND_HOLD).
        let rekeyed_by_us = matches!(est.role, ike_sm::Role::Initiator) && est.rekey_of.is_some();
        let tunnel = Tunnel {
            inbound,
            outbound,
            inbound_spi: est.inbound.spi.0,
            outbound_spi: est.outbound.spi.0,
            isakmp_conn_id,
            peer,
            local_proxy: est.local_proxy,
            remote_proxy: est.remote_proxy,
            transform: est.transform,
            lifetime: est.lifetime,
            ids,
            derived,
            created: now,
            hold_until: rekeyed_by_us.then(|| now + REKEY_SEND_HOLD),
            udp_peer: match (est.udp_encapsulation, est.remote) {
                (Some(_), SocketAddr::V4(remote)) => Some(remote),
                _ => None,
            },
        };
        if let Some(key_log) = self.key_log.as_mut() {
            for (keys, source, destination) in [
                (&est.inbound, peer, self.address),
                (&est.outbound, self.address, peer),
            ] {
                key_log.push(KeyLogEntry::Esp {
                    source,
                    destination,
                    spi: keys.spi.0,
                    encryption,
                    encryption_key: keys.encryption_key.clone(),
                    integrity,
                    integrity_key: keys.integrity_key.clone(),
                });
            }
        }
        if let Some(pair) = self.pair_log(&tunnel) {
            self.deferred_log.push(Record {
                at: now,
                event: LogEvent::IpsecSas {
                    kind: IpsecSaLogKind::Installed,
                    pair: Box::new(pair),
                },
            });
        }
        let info = tunnel.info();
        self.tunnels.insert(tunnel.inbound_spi, tunnel);
        if let Some(seq) = derived {
            self.acquire(seq);
        }
        self.counters.tunnels_installed = self.counters.tunnels_installed.saturating_add(1);
        self.push_event(Event::TunnelUp(info));
        true
    }

    fn pair_log(&self, t: &Tunnel) -> Option<IpsecSaPairLog> {
        Some(IpsecSaPairLog {
            isakmp_conn_id: t.isakmp_conn_id,
            local: self.address,
            remote: t.peer,
            local_proxy: translate::proxy_from_ike(&t.local_proxy)?,
            remote_proxy: translate::proxy_from_ike(&t.remote_proxy)?,
            transforms: translate::ios_transforms(&t.transform),
            seconds: u64::from(t.lifetime.seconds),
            kilobytes: t.lifetime.kilobytes.unwrap_or(0),
            inbound_spi: t.inbound_spi,
            outbound_spi: t.outbound_spi,
            inbound_conn_id: t.ids.conn_in,
            outbound_conn_id: t.ids.conn_out,
        })
    }

    fn remove_tunnel(&mut self, now: Instant, inbound_spi: u32, reason: TunnelDownReason) {
        let Some(t) = self.tunnels.remove(&inbound_spi) else {
            return;
        };
        self.esp.remove(t.inbound);
        self.esp.remove(t.outbound);
        if let Some(pair) = self.pair_log(&t) {
            self.record(Record {
                at: now,
                event: LogEvent::IpsecSas {
                    kind: IpsecSaLogKind::Deleted,
                    pair: Box::new(pair),
                },
            });
        }
        self.counters.tunnels_removed = self.counters.tunnels_removed.saturating_add(1);
        self.release(now, t.derived);
        self.push_event(Event::TunnelDown {
            tunnel: t.info(),
            reason,
        });
    }

    /// The peer's NAT mapping changed: the listed pairs' ESP goes to `to`
    /// from now on (their outbound SAs' destination and UDP port).
    fn follow_peer(&mut self, to: SocketAddr, ipsec: &[SaRef]) {
        let SocketAddr::V4(to) = to else {
            return;
        };
        for sa in ipsec {
            let SaRef::Ipsec { inbound, .. } = sa else {
                continue;
            };
            let Some(t) = self.tunnels.get_mut(&inbound.0) else {
                continue;
            };
            let moved = self
                .esp
                .get_mut(t.outbound)
                .is_some_and(|out| out.set_udp_peer(to));
            if let Some(inb) = self.esp.get_mut(t.inbound) {
                inb.set_udp_peer(to);
            }
            if moved {
                t.peer = *to.ip();
                t.udp_peer = Some(to);
                self.counters.tunnels_moved = self.counters.tunnels_moved.saturating_add(1);
            }
        }
    }

    fn on_esp_event(&mut self, now: Instant, event: esp::Event) {
        // Soft expiry: the IKE engine rekeys on its own timers and byte
        // counts. Hard expiry: the SA refuses packets; tell IKE to delete
        // the pair (and the peer), or drop it here if IKE no longer has it.
        if let esp::Event::HardExpired { spi, .. } = event {
            let inbound = self
                .tunnels
                .values()
                .find(|t| t.inbound_spi == spi.0 || t.outbound_spi == spi.0)
                .map(|t| t.inbound_spi);
            if let Some(inbound) = inbound
                && self.endpoint.delete_ipsec(now, Spi(inbound)).is_err()
            {
                self.remove_tunnel(now, inbound, TunnelDownReason::Expired);
            }
        }
    }

    fn acquire(&mut self, seq: u32) {
        if let Some(u) = self.derived.get_mut(&seq) {
            u.users = u.users.saturating_add(1);
        }
    }

    /// One user fewer of a derived entry; the entry goes with its last.
    fn release(&mut self, _now: Instant, seq: Option<u32>) {
        let Some(seq) = seq else {
            return;
        };
        let Some(u) = self.derived.get_mut(&seq) else {
            return;
        };
        u.users = u.users.saturating_sub(1);
        if u.users > 0 {
            return;
        }
        let peer = u.peer;
        self.derived.remove(&seq);
        if self.config.remove_derived_entry(&self.map, seq).is_ok() {
            self.counters.map_entries_removed = self.counters.map_entries_removed.saturating_add(1);
            self.push_event(Event::MapEntryRemoved {
                map: self.map.clone(),
                seq,
                peer,
            });
        }
    }

    // ----- queues -----

    fn report_weak(&mut self, algorithm: String, configured_by: String) {
        if self.weak_reported.insert(algorithm.clone()) {
            self.push_event(Event::WeakAlgorithm {
                algorithm,
                configured_by,
            });
        }
    }

    fn record(&mut self, record: Record) {
        if let Some(log) = self.log.as_mut() {
            log.push(record);
        }
    }

    fn push_transmit(&mut self, t: Transmit) {
        if self.transmits.len() >= self.options.caps.max_queued_transmits {
            self.counters.transmits_dropped = self.counters.transmits_dropped.saturating_add(1);
            return;
        }
        self.transmits.push_back(t);
    }

    fn push_event(&mut self, e: Event) {
        if self.events.len() >= self.options.caps.max_queued_events {
            self.counters.events_dropped = self.counters.events_dropped.saturating_add(1);
            return;
        }
        self.events.push_back(e);
    }
}
