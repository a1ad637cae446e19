//! The gateway with everything around it except the sockets: [`Core`].
//!
//! [`Core`] drives a [`Gateway`] the way its documentation says (after every
//! input: drain `poll_transmit`, then `poll_event`; arm `poll_timeout`) and
//! turns what comes out into
//!
//! - packets for the operating system ([`Output`], and the ranges returned
//!   by [`Core::plaintext`] and [`Core::esp`] on the hot paths, which never
//!   copy);
//! - the `events.jsonl` stream ([`crate::events`]), with the key tables
//!   ([`crate::keys`]) written *before* the event that announces an SA;
//! - the capture ([`crate::capture`]) of everything sent and received;
//! - IOS-style `debug crypto isakmp` / `debug crypto ipsec` lines, rendered
//!   by [`ted::log::Renderer`] with the real wall clock;
//! - answers to the control commands ([`Core::command`]).
//!
//! It reads no clock of its own for protocol time: every input carries the
//! caller's `Instant`. Wall-clock time (`SystemTime`) only stamps the files.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::ops::Range;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use ted::acl::ProxyIdent;
use ted::gateway::{
    Datagram, Esp, Event, Gateway, NatT, Plaintext, ShowCommand, Transmit, TunnelDownReason,
    TunnelInfo,
};
use ted::log::{Renderer, WallClock};

use crate::capture::{self, Capture};
use crate::client::{ClientEnd, ClientSession, MAX_XAUTH_ANSWERS};
use crate::events::EventLog;
use crate::hostnet::{self, AddressRoutes, HostNetwork};
use crate::keys::KeyTables;

/// A writer the core owns (a file, or a buffer in tests).
pub type Sink = Box<dyn Write + Send>;

/// Most `input_dropped` events written; past it they are only counted (a
/// flood must not fill the disk).
const MAX_DROPPED_EVENTS: u64 = 1000;

/// Where the core writes what happened. Every part is optional.
#[derive(Default)]
pub struct Outputs {
    /// `events.jsonl`.
    pub events: Option<EventLog<Sink>>,
    /// The key tables.
    pub keys: Option<KeyTables>,
    /// The capture.
    pub capture: Option<Capture<Sink>>,
    /// IOS-style debug lines and the peer's own messages (stderr).
    pub debug: Option<Sink>,
}

impl core::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Outputs")
            .field("events", &self.events.is_some())
            .field("keys", &self.keys.is_some())
            .field("capture", &self.capture.is_some())
            .field("debug", &self.debug.is_some())
            .finish()
    }
}

/// A packet for the operating system (off the hot paths).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Output {
    /// A UDP datagram to send from the IKE socket.
    Udp {
        /// Where to.
        destination: SocketAddrV4,
        /// The payload.
        payload: Vec<u8>,
    },
    /// A UDP datagram to send from the NAT-T socket (RFC 3947/3948: IKE
    /// with its non-ESP marker after the float, or a NAT keepalive).
    NatT {
        /// Where to.
        destination: SocketAddrV4,
        /// The payload, as it goes on the wire.
        payload: Vec<u8>,
    },
    /// A whole IPv4 packet to send as it is through the outside interface
    /// (a TED probe, whose source is a protected host's address; cleartext
    /// no crypto map entry protects).
    Outside(Vec<u8>),
    /// A whole IPv4 packet to hand back to the kernel's routing (a
    /// datagram this router intercepted on the path that is not a TED
    /// probe it answers).
    Forward(Vec<u8>),
}

/// Where [`Core::seal`] put an encapsulated packet, and how it leaves.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sealed {
    /// Plain ESP: `buf[packet]` is the whole IPv4 packet, for the raw ESP
    /// socket, to `peer`.
    Esp {
        /// The peer.
        peer: Ipv4Addr,
        /// The IPv4/ESP packet in the buffer.
        packet: Range<usize>,
    },
    /// UDP-encapsulated ESP (NAT traversal): `buf[datagram.payload]`
    /// leaves from the NAT-T socket to `datagram.destination`.
    Udp {
        /// The datagram.
        datagram: esp::UdpDatagram,
        /// The whole IPv4/UDP/ESP packet in the buffer (as captured).
        packet: Range<usize>,
    },
}

/// The answer to a control command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    /// The text before the last line.
    pub text: String,
    /// `Ok(())` for a last line `OK`, `Err(reason)` for `ERROR: reason`.
    pub status: Result<(), String>,
}

impl Reply {
    /// The whole answer as sent on the control socket.
    pub fn render(&self) -> String {
        let mut s = self.text.clone();
        if !s.is_empty() && !s.ends_with('\n') {
            s.push('\n');
        }
        match &self.status {
            Ok(()) => s.push_str("OK\n"),
            Err(e) => {
                let _ = writeln!(s, "ERROR: {e}");
            }
        }
        s
    }
}

/// What the core counted besides the gateway's counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CoreCounters {
    /// Writes to an output file that failed (the output is then closed).
    pub output_errors: u64,
    /// `input_dropped` events not written (over the cap).
    pub dropped_events_suppressed: u64,
    /// Protected-side packets the gateway dropped.
    pub plaintext_dropped: u64,
    /// NAT-T datagrams (UDP-encapsulated ESP) the gateway dropped.
    pub nat_t_dropped: u64,
    /// ESP packets the gateway dropped.
    pub esp_dropped: u64,
    /// Packets and datagrams that arrived after [`Core::shutdown`] and
    /// were dropped unseen.
    pub dropped_after_shutdown: u64,
}

/// Why an SA pair went down, as `events.jsonl` says it.
fn down_reason(reason: TunnelDownReason, shutting_down: bool, rekeyed: bool) -> &'static str {
    use ike_sm::DeletedBy;
    if shutting_down {
        return "shutdown";
    }
    match reason {
        TunnelDownReason::Deleted(DeletedBy::Local) => "local_delete",
        TunnelDownReason::Deleted(DeletedBy::Peer) => "peer_delete",
        TunnelDownReason::Deleted(DeletedBy::InitialContact) => "initial_contact",
        TunnelDownReason::Deleted(DeletedBy::DeadPeer) => "dead_peer",
        TunnelDownReason::Expired if rekeyed => "rekeyed",
        TunnelDownReason::Expired => "expired",
        TunnelDownReason::Refused => "refused",
        _ => "other",
    }
}

fn deleted_by(by: ike_sm::DeletedBy) -> &'static str {
    use ike_sm::DeletedBy;
    match by {
        DeletedBy::Local => "local_delete",
        DeletedBy::Peer => "peer_delete",
        DeletedBy::InitialContact => "initial_contact",
        DeletedBy::DeadPeer => "dead_peer",
        _ => "other",
    }
}

fn role_name(role: ike_sm::Role) -> &'static str {
    match role {
        ike_sm::Role::Initiator => "initiator",
        ike_sm::Role::Responder => "responder",
    }
}

/// The `reason` of `xauth_failed`.
fn xauth_failure(reason: ike_sm::XauthFailure) -> &'static str {
    use ike_sm::XauthFailure as F;
    match reason {
        F::Rejected => "rejected",
        F::AttemptsExhausted => "attempts_exhausted",
        F::Timeout => "timeout",
        F::Cancelled => "cancelled",
        F::UnsupportedType => "unsupported_type",
        F::Abandoned => "abandoned",
        _ => "other",
    }
}

/// Text from the other side (a banner, an XAUTH message) made safe to
/// print on a terminal: control characters other than line feeds and
/// tabs (escape sequences among them) become `?`.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '?'
            } else {
                c
            }
        })
        .collect()
}

/// Makes the gateway initiate phase 1 in Aggressive Mode (`--aggressive`)
/// instead of Main Mode. As responder it answers either mode.
pub fn set_aggressive(options: &mut ted::gateway::GatewayOptions, aggressive: bool) {
    options.ike.phase1_mode = if aggressive {
        ike_sm::ExchangeMode::Aggressive
    } else {
        ike_sm::ExchangeMode::Main
    };
}

/// `a.b.c.d/len` of a proxy (a non-contiguous mask prints as `a.b.c.d/mask`).
pub fn proxy_text(p: &ProxyIdent) -> String {
    let m = u32::from(p.mask);
    let len = m.leading_ones();
    let mut s = if m.checked_shl(len).unwrap_or(0) == 0 {
        format!("{}/{len}", p.address)
    } else {
        format!("{}/{}", p.address, p.mask)
    };
    if p.protocol.0 != 0 || p.port != 0 {
        let _ = write!(s, ":{}/{}", p.protocol.0, p.port);
    }
    s
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The gateway with its outputs. See the [module documentation](self).
pub struct Core {
    gateway: Gateway,
    ike: SocketAddrV4,
    outputs: Outputs,
    renderer: Renderer,
    debug_seen: u64,
    queue: VecDeque<Output>,
    shutting_down: bool,
    dropped_events: u64,
    counters: CoreCounters,
    client: Option<ClientSession>,
    address_routes: Option<AddressRoutes<ike_sm::IsakmpSaId>>,
}

impl core::fmt::Debug for Core {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Core")
            .field("gateway", &self.gateway)
            .field("ike", &self.ike)
            .field("outputs", &self.outputs)
            .field("queued", &self.queue.len())
            .field("counters", &self.counters)
            .field("client", &self.client)
            .field("address_routes", &self.address_routes)
            .finish_non_exhaustive()
    }
}

/// The wall clock at `at`, for the debug lines' timestamps.
pub fn wall_clock(at: SystemTime) -> WallClock {
    let epoch = WallClock::new(1970, 1, 1, 0, 0, 0, 0).unwrap_or(WallClock::IOS_DEFAULT);
    epoch.after(at.duration_since(UNIX_EPOCH).unwrap_or_default())
}

impl Core {
    /// A core around `gateway`, whose IKE socket is `ike`, writing to
    /// `outputs`. `now` and `wall` are the same moment on the two clocks
    /// (the debug lines' timestamps count from it).
    pub fn new(
        gateway: Gateway,
        ike: SocketAddrV4,
        outputs: Outputs,
        now: Instant,
        wall: SystemTime,
    ) -> Self {
        let mut core = Self {
            gateway,
            ike,
            outputs,
            renderer: Renderer::new(wall_clock(wall), now),
            debug_seen: 0,
            queue: VecDeque::new(),
            shutting_down: false,
            dropped_events: 0,
            counters: CoreCounters::default(),
            client: None,
            address_routes: None,
        };
        // Construction-time events (weak algorithms named by the
        // configuration, parts of it left out).
        core.drain(now);
        core
    }

    /// The gateway.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The core's counters.
    pub fn counters(&self) -> &CoreCounters {
        &self.counters
    }

    /// The IKE socket's address.
    pub fn ike_address(&self) -> SocketAddrV4 {
        self.ike
    }

    /// The outputs (to flush or inspect them).
    pub fn outputs(&self) -> &Outputs {
        &self.outputs
    }

    /// Writes a `warning` event (and the line on the debug output).
    pub fn warning(&mut self, what: &str) {
        self.event("warning", vec![("what", Value::from(what))]);
    }

    /// Writes the `ready` event with these fields.
    pub fn ready(&mut self, fields: Vec<(&'static str, Value)>) {
        self.event("ready", fields);
    }

    // ----- remote-access client -----

    /// Makes this core a remote-access client's (its gateway built with
    /// [`GatewayOptions::client`](ted::gateway::GatewayOptions::client)):
    /// from now on it answers XAUTH requests with the session's
    /// credentials (at most [`MAX_XAUTH_ANSWERS`] times), configures the
    /// host through the session when Mode-Config gives an address, and
    /// undoes that on [`shutdown`](Self::shutdown).
    pub fn attach_client(&mut self, session: ClientSession) {
        self.client = Some(session);
    }

    /// Easy VPN server: routes each address it assigns into TUN device
    /// `tun` through `host` (a host route while an SA holds it; all
    /// removed on [`shutdown`](Self::shutdown)), as IOS's `reverse-route`
    /// does; `route_added` and `route_removed` in `events.jsonl`.
    pub fn route_assigned_addresses(&mut self, tun: &str, host: Box<dyn HostNetwork>) {
        self.address_routes = Some(AddressRoutes::new(tun, host));
    }

    /// Remote-access client: starts phase 1 with the concentrator.
    ///
    /// # Errors
    /// The gateway's, when phase 1 cannot start (the gateway is no client).
    pub fn connect(&mut self, now: Instant) -> Result<(), ike_sm::CommandError> {
        let r = self.gateway.connect(now);
        if let (Ok(sa), Some(c)) = (&r, self.client.as_mut()) {
            c.sa = Some(*sa);
        }
        self.drain(now);
        r.map(|_| ())
    }

    /// The remote-access client's session, if this core is a client's.
    pub fn client(&self) -> Option<&ClientSession> {
        self.client.as_ref()
    }

    /// How the remote-access client's run ended on its own (XAUTH failed,
    /// phase 1 failed, the concentrator ended the session), if it has:
    /// the driver then stops.
    pub fn client_end(&self) -> Option<&ClientEnd> {
        self.client.as_ref().and_then(ClientSession::end)
    }

    // ----- inputs -----

    /// A packet from the protected side (read from the TUN device) at
    /// `buf[packet]`, with room around it ([`Gateway::HEADROOM`],
    /// [`Gateway::TAILROOM`]). Returns the ESP packet to send to a peer:
    /// `buf[range]` after encapsulation in place.
    pub fn plaintext(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        packet: Range<usize>,
    ) -> Option<(Ipv4Addr, Range<usize>)> {
        match self.seal(now, buf, packet)? {
            Sealed::Esp { peer, packet } => Some((peer, packet)),
            Sealed::Udp { datagram, packet } => Some((*datagram.destination.ip(), packet)),
        }
    }

    /// [`plaintext`](Self::plaintext), saying how the result leaves: on
    /// the raw ESP socket, or (a UDP-encapsulated pair) from the NAT-T
    /// socket.
    pub fn seal(&mut self, now: Instant, buf: &mut [u8], packet: Range<usize>) -> Option<Sealed> {
        if self.refuse_after_shutdown() {
            return None;
        }
        let verdict = self.gateway.handle_plaintext(now, buf, packet.clone());
        let out = match verdict {
            Plaintext::Encrypted {
                packet, peer, udp, ..
            } => {
                if let Some(p) = buf.get(packet.clone()) {
                    self.capture_ip(p);
                }
                Some(match udp {
                    Some(datagram) => Sealed::Udp { datagram, packet },
                    None => Sealed::Esp { peer, packet },
                })
            }
            Plaintext::Bypass => {
                if let Some(p) = buf.get(packet) {
                    self.capture_ip(p);
                    self.queue.push_back(Output::Outside(p.to_vec()));
                }
                None
            }
            Plaintext::Dropped(_) => {
                self.counters.plaintext_dropped = self.counters.plaintext_dropped.saturating_add(1);
                None
            }
            _ => None,
        };
        self.drain(now);
        out
    }

    /// An IPv4 packet of protocol 50 at the start of `buf` (read from the
    /// raw ESP socket). Returns the inner packet for the protected side:
    /// `buf[range]` after decapsulation in place.
    pub fn esp(&mut self, now: Instant, buf: &mut [u8]) -> Option<Range<usize>> {
        if self.refuse_after_shutdown() {
            return None;
        }
        self.capture_ip(buf);
        let out = match self.gateway.handle_esp(now, buf) {
            Esp::Decrypted { packet, .. } => Some(packet),
            _ => {
                self.counters.esp_dropped = self.counters.esp_dropped.saturating_add(1);
                None
            }
        };
        self.drain(now);
        out
    }

    /// A UDP datagram received on the NAT-T socket (`local`: its address
    /// and port), its payload at `buf[payload]` with
    /// [`Gateway::NAT_T_HEADROOM`] bytes before it: IKE, a keepalive or
    /// UDP-encapsulated ESP. Returns the inner packet of ESP for the
    /// protected side: `buf[range]` after decapsulation in place.
    pub fn nat_t(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        buf: &mut [u8],
        payload: Range<usize>,
    ) -> Option<Range<usize>> {
        if self.refuse_after_shutdown() {
            return None;
        }
        if let Some(p) = buf.get(payload.clone()) {
            self.capture_udp(remote, local, p);
        }
        let out = match self.gateway.handle_nat_t(now, local, remote, buf, payload) {
            NatT::Esp(Esp::Decrypted { packet, .. }) => Some(packet),
            NatT::Ike | NatT::Keepalive => None,
            _ => {
                self.counters.nat_t_dropped = self.counters.nat_t_dropped.saturating_add(1);
                None
            }
        };
        self.drain(now);
        out
    }

    /// A UDP datagram received on the IKE socket, or on the intercept
    /// socket (then `local` is the address it was sent to: a protected
    /// host's, when this router is on the path of a TED probe).
    pub fn datagram(
        &mut self,
        now: Instant,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        payload: &[u8],
    ) {
        if self.refuse_after_shutdown() {
            return;
        }
        self.capture_udp(remote, local, payload);
        if self.gateway.handle_datagram(now, local, remote, payload) == Datagram::Forward {
            match capture::udp_packet(remote, local, payload) {
                Ok(p) => self.queue.push_back(Output::Forward(p)),
                Err(e) => self.say(&format!(
                    "cannot forward a datagram from {remote} to {local}: {e}"
                )),
            }
        }
        self.drain(now);
    }

    /// Runs the gateway's timers if one is due at `now` (none after
    /// [`shutdown`](Self::shutdown)).
    pub fn timeout(&mut self, now: Instant) {
        if self.poll_timeout().is_some_and(|t| t <= now) {
            self.gateway.handle_timeout(now);
            self.drain(now);
        }
    }

    /// When [`timeout`](Self::timeout) must run next (never after
    /// [`shutdown`](Self::shutdown)).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.shutting_down {
            return None;
        }
        self.gateway.poll_timeout()
    }

    /// Whether [`shutdown`](Self::shutdown) ran: then an input is counted
    /// and dropped. A gateway that has sent its Delete notifies must not
    /// answer a probe or a Main Mode that arrives before the process exits
    /// (the peer would build SAs with a gateway that is gone), nor start a
    /// negotiation for its own protected side.
    fn refuse_after_shutdown(&mut self) -> bool {
        if self.shutting_down {
            self.counters.dropped_after_shutdown =
                self.counters.dropped_after_shutdown.saturating_add(1);
        }
        self.shutting_down
    }

    /// The next packet for the operating system.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.queue.pop_front()
    }

    /// A control command line (`show crypto isakmp sa`, `show crypto ipsec
    /// sa`, `show crypto map`, `show crypto engine connections active`,
    /// `show counters`, `clear crypto sa`, `clear crypto isakmp`).
    pub fn command(&mut self, now: Instant, line: &str) -> Reply {
        let words: Vec<&str> = line.split_whitespace().collect();
        self.say(&format!("control: {}", words.join(" ")));
        if let Some(show) = ShowCommand::parse(line) {
            return Reply {
                text: self.gateway.show(now, show),
                status: Ok(()),
            };
        }
        match words.as_slice() {
            ["show", "counters"] => Reply {
                text: format!("{:#?}\n{:#?}\n", self.gateway.counters(), self.counters),
                status: Ok(()),
            },
            ["clear", "crypto", "sa"] => {
                let n = self.gateway.tunnels().len();
                self.gateway.clear_crypto_sa(now);
                self.drain(now);
                Reply {
                    text: format!("{n} IPsec SA pair(s) deleted\n"),
                    status: Ok(()),
                }
            }
            ["clear", "crypto", "isakmp"] => {
                let n = self.gateway.ike().isakmp_sas(now).len();
                self.gateway.clear_crypto_isakmp(now);
                self.drain(now);
                Reply {
                    text: format!("{n} ISAKMP SA(s) deleted\n"),
                    status: Ok(()),
                }
            }
            [] => Reply {
                text: String::new(),
                status: Err("empty command".into()),
            },
            _ => Reply {
                text: String::new(),
                status: Err(format!("unknown command: {}", words.join(" "))),
            },
        }
    }

    /// Every `show` view, as SIGUSR1 prints them.
    pub fn show_all(&self, now: Instant) -> String {
        let mut s = String::new();
        for c in ShowCommand::ALL {
            let _ = writeln!(s, "{}#{c}", self.gateway.config().hostname);
            s.push_str(&self.gateway.show(now, c));
            s.push('\n');
        }
        s
    }

    /// Deletes every SA, telling the peers (Delete notifies queued as
    /// [`Output::Udp`]), and writes `stopped`. Send the queued outputs,
    /// then exit. From then on the core takes no input: packets and
    /// datagrams are counted
    /// ([`CoreCounters::dropped_after_shutdown`]) and dropped, timers no
    /// longer run; control commands are still answered.
    pub fn shutdown(&mut self, now: Instant) {
        self.shutting_down = true;
        self.gateway.clear_crypto_sa(now);
        self.gateway.clear_crypto_isakmp(now);
        self.drain(now);
        self.deconfigure_host();
        if let Some(errors) = self.address_routes.as_mut().map(AddressRoutes::clear)
            && !errors.is_empty()
        {
            self.event(
                "error",
                vec![(
                    "what",
                    Value::from(format!("removing clients' routes: {}", errors.join("; "))),
                )],
            );
        }
        self.event("stopped", Vec::new());
        if let Some(d) = self.outputs.debug.as_mut() {
            let _ = d.flush();
        }
    }

    /// Flushes the buffered output files (the capture, the debug lines):
    /// the event loop calls it before it waits.
    pub fn flush_files(&mut self) {
        if let Some(c) = self.outputs.capture.as_mut()
            && c.flush().is_err()
        {
            self.outputs.capture = None;
            self.counters.output_errors = self.counters.output_errors.saturating_add(1);
        }
        if let Some(d) = self.outputs.debug.as_mut() {
            let _ = d.flush();
        }
    }

    // ----- the gateway's outputs -----

    fn drain(&mut self, now: Instant) {
        // An event may make the gateway send (a client's XAUTH answer):
        // round again until both queues are empty.
        loop {
            let mut any = false;
            while let Some(t) = self.gateway.poll_transmit() {
                self.transmit(t);
                any = true;
            }
            // Keys before the events that announce their SAs: a reader
            // that sees `phase2_up` finds the keys already in the tables.
            self.flush_keys();
            // The debug lines first: they tell how the events came about.
            self.flush_debug();
            while let Some(e) = self.gateway.poll_event() {
                self.on_event(now, e);
                any = true;
            }
            if !any {
                return;
            }
        }
    }

    fn transmit(&mut self, t: Transmit) {
        self.capture_udp(t.source, t.destination, &t.payload);
        if t.source.ip() == self.ike.ip() {
            let nat_t = self.gateway.options().ike.nat_t.port;
            self.queue.push_back(if t.source.port() == nat_t {
                Output::NatT {
                    destination: t.destination,
                    payload: t.payload,
                }
            } else {
                Output::Udp {
                    destination: t.destination,
                    payload: t.payload,
                }
            });
            return;
        }
        // A TED probe leaves with the protected host's address as source:
        // only a raw socket can send it.
        match capture::udp_packet(t.source, t.destination, &t.payload) {
            Ok(p) => self.queue.push_back(Output::Outside(p)),
            Err(e) => self.say(&format!("cannot build a datagram from {}: {e}", t.source)),
        }
    }

    fn flush_keys(&mut self) {
        let (Some(tables), Some(log)) = (self.outputs.keys.as_mut(), self.gateway.key_log()) else {
            return;
        };
        if let Err(e) = tables.update(log) {
            self.outputs.keys = None;
            self.counters.output_errors = self.counters.output_errors.saturating_add(1);
            self.say(&format!("key tables: {e}; no longer written"));
        }
    }

    fn flush_debug(&mut self) {
        let Some(out) = self.outputs.debug.as_mut() else {
            return;
        };
        let Some(log) = self.gateway.log() else {
            return;
        };
        let len = u64::try_from(log.records().count()).unwrap_or(u64::MAX);
        let total = log.dropped().saturating_add(len);
        let new = total.saturating_sub(self.debug_seen);
        let skip = usize::try_from(len.saturating_sub(new)).unwrap_or(usize::MAX);
        let mut text = String::new();
        for record in log.records().skip(skip) {
            for line in self.renderer.render(record) {
                text.push_str(&line);
                text.push('\n');
            }
        }
        self.debug_seen = total;
        if !text.is_empty() && out.write_all(text.as_bytes()).is_err() {
            self.outputs.debug = None;
            self.counters.output_errors = self.counters.output_errors.saturating_add(1);
        }
    }

    fn capture_ip(&mut self, packet: &[u8]) {
        if let Some(c) = self.outputs.capture.as_mut()
            && c.ip(SystemTime::now(), packet).is_err()
        {
            self.outputs.capture = None;
            self.counters.output_errors = self.counters.output_errors.saturating_add(1);
        }
    }

    fn capture_udp(&mut self, source: SocketAddrV4, destination: SocketAddrV4, payload: &[u8]) {
        if let Some(c) = self.outputs.capture.as_mut()
            && c.udp(SystemTime::now(), source, destination, payload)
                .is_err()
        {
            self.outputs.capture = None;
            self.counters.output_errors = self.counters.output_errors.saturating_add(1);
        }
    }

    /// A line of the peer's own on the debug output.
    fn say(&mut self, text: &str) {
        if let Some(d) = self.outputs.debug.as_mut()
            && writeln!(d, "ikev1-peer: {text}").is_err()
        {
            self.outputs.debug = None;
        }
    }

    fn event(&mut self, name: &str, fields: Vec<(&'static str, Value)>) {
        if self.outputs.debug.is_some() {
            let mut line = name.to_owned();
            for (k, v) in &fields {
                let _ = write!(line, " {k}={v}");
            }
            self.say(&line);
        }
        if let Some(log) = self.outputs.events.as_mut()
            && log.write(SystemTime::now(), name, fields).is_err()
        {
            self.outputs.events = None;
            self.counters.output_errors = self.counters.output_errors.saturating_add(1);
            self.say("events.jsonl: write failed; no longer written");
        }
    }

    fn on_event(&mut self, now: Instant, e: Event) {
        match e {
            Event::Ike(ike) => self.on_ike_event(now, ike),
            Event::TunnelUp(info) => self.phase2_up(now, &info),
            Event::TunnelDown { tunnel, reason } => {
                let rekeyed = self.gateway.tunnels().iter().any(|t| {
                    t.peer == tunnel.peer
                        && t.local_proxy == tunnel.local_proxy
                        && t.remote_proxy == tunnel.remote_proxy
                });
                let reason = down_reason(reason, self.shutting_down, rekeyed);
                self.event(
                    "phase2_down",
                    vec![
                        (
                            "spi_in",
                            Value::from(format!("0x{:08x}", tunnel.inbound_spi)),
                        ),
                        (
                            "spi_out",
                            Value::from(format!("0x{:08x}", tunnel.outbound_spi)),
                        ),
                        ("peer", Value::from(tunnel.peer.to_string())),
                        ("reason", Value::from(reason)),
                    ],
                );
            }
            Event::WeakAlgorithm {
                algorithm,
                configured_by,
            } => self.event(
                "warning",
                vec![(
                    "what",
                    Value::from(format!(
                        "weak algorithm {algorithm} in use because {configured_by} names it"
                    )),
                )],
            ),
            Event::AggressiveModeAnswered { configured_by } => self.event(
                "warning",
                vec![(
                    "what",
                    Value::from(format!(
                        "Aggressive Mode is answered with pre-shared keys ({configured_by}): \
                         one Aggressive Mode message from anyone returns a hash of the key \
                         that can be attacked offline; add `crypto isakmp aggressive-mode \
                         disable` unless remote-access clients need it"
                    )),
                )],
            ),
            Event::ConfigIgnored(what) => self.event(
                "warning",
                vec![(
                    "what",
                    Value::from(format!("configuration left out: {what}")),
                )],
            ),
            Event::MapEntryDerived { map, seq, peer } => self.event(
                "map_entry",
                vec![
                    ("map", Value::from(map)),
                    ("seq", Value::from(seq)),
                    ("peer", Value::from(peer.to_string())),
                    ("change", Value::from("derived")),
                ],
            ),
            Event::MapEntryRemoved { map, seq, peer } => self.event(
                "map_entry",
                vec![
                    ("map", Value::from(map)),
                    ("seq", Value::from(seq)),
                    ("peer", Value::from(peer.to_string())),
                    ("change", Value::from("removed")),
                ],
            ),
            Event::Discovery(d) => self.on_discovery(&d),
            Event::XauthChecked {
                peer,
                user,
                attempt,
                accepted,
                ..
            } => self.event(
                "xauth_checked",
                vec![
                    ("peer", Value::from(peer.to_string())),
                    ("user", Value::from(user)),
                    ("attempt", Value::from(attempt)),
                    ("accepted", Value::from(accepted)),
                ],
            ),
            Event::ModeCfgRefused { peer, reason, .. } => self.event(
                "mode_cfg_refused",
                vec![
                    ("peer", Value::from(peer.to_string())),
                    ("reason", Value::from(reason.to_string())),
                ],
            ),
            _ => {}
        }
    }

    fn on_discovery(&mut self, d: &ted::discovery::Event) {
        use ted::discovery::Event as D;
        let fields: Vec<(&'static str, Value)> = match d {
            D::Started {
                source,
                destination,
                ..
            } => vec![
                ("kind", Value::from("started")),
                ("source", Value::from(source.to_string())),
                ("destination", Value::from(destination.to_string())),
            ],
            D::ProbeSent {
                source,
                destination,
                attempt,
                ..
            } => vec![
                ("kind", Value::from("probe_sent")),
                ("source", Value::from(source.to_string())),
                ("destination", Value::from(destination.to_string())),
                ("attempt", Value::from(*attempt)),
            ],
            D::Discovered(x) => vec![
                ("kind", Value::from("discovered")),
                ("peer", Value::from(x.peer.to_string())),
                (
                    "response_source",
                    Value::from(x.response_source.to_string()),
                ),
                ("local_proxy", Value::from(proxy_text(&x.local_proxy))),
                ("remote_proxy", Value::from(proxy_text(&x.remote_proxy))),
                ("probes_sent", Value::from(x.probes_sent)),
            ],
            D::GaveUp {
                destination,
                probes_sent,
                ..
            } => vec![
                ("kind", Value::from("gave_up")),
                ("destination", Value::from(destination.to_string())),
                ("probes_sent", Value::from(*probes_sent)),
            ],
            D::ProbeReceived(p) => vec![
                ("kind", Value::from("probe_received")),
                ("source", Value::from(p.source.to_string())),
                ("destination", Value::from(p.destination.to_string())),
                ("initiator", Value::from(p.initiator_address.to_string())),
            ],
            D::ProbeAnswered(a) => vec![
                ("kind", Value::from("probe_answered")),
                ("source", Value::from(a.probe_source.to_string())),
                ("probed_host", Value::from(a.probed_host.to_string())),
            ],
            D::ProbeDropped {
                source,
                destination,
                reason,
                ..
            } => vec![
                ("kind", Value::from("probe_dropped")),
                ("source", Value::from(source.to_string())),
                ("destination", Value::from(destination.to_string())),
                ("reason", Value::from(format!("{reason:?}"))),
            ],
            D::ResponseDropped { source, reason, .. } => vec![
                ("kind", Value::from("response_dropped")),
                ("source", Value::from(source.to_string())),
                ("reason", Value::from(format!("{reason:?}"))),
            ],
            other => vec![("kind", Value::from(format!("{other:?}")))],
        };
        self.event("ted", fields);
    }

    fn on_ike_event(&mut self, now: Instant, e: ike_sm::Event) {
        use ike_sm::{Event as I, ExchangeMode, Role, SaRef};
        match e {
            I::Phase1Established(p) => {
                let info = self.gateway.ike().isakmp_sa(p.sa, now);
                let (ic, rc) = info
                    .as_ref()
                    .map(|i| (hex(&i.initiator_cookie), hex(&i.responder_cookie)))
                    .unwrap_or_default();
                let mode = match p.mode {
                    ExchangeMode::Main => "main",
                    ExchangeMode::Aggressive => "aggressive",
                };
                let role = role_name(p.role);
                self.event(
                    "phase1_up",
                    vec![
                        ("mode", Value::from(mode)),
                        ("role", Value::from(role)),
                        ("icookie", Value::from(ic)),
                        ("rcookie", Value::from(rc)),
                        ("peer", Value::from(p.remote.to_string())),
                        ("conn_id", Value::from(p.conn_id)),
                        ("encr", Value::from(p.suite.encryption.name())),
                        ("hash", Value::from(p.suite.hash.name())),
                        ("group", Value::from(p.suite.group.number())),
                        ("lifetime_s", Value::from(p.suite.lifetime)),
                    ],
                );
            }
            I::Deleted {
                sa: SaRef::Isakmp(_),
                peer,
                by,
            } => {
                let reason = if self.shutting_down {
                    "shutdown"
                } else {
                    deleted_by(by)
                };
                self.event(
                    "phase1_down",
                    vec![
                        ("peer", Value::from(peer.to_string())),
                        ("reason", Value::from(reason)),
                    ],
                );
                self.client_phase1_gone(now, peer, reason);
            }
            I::Expired {
                sa: SaRef::Isakmp(_),
                peer,
            } => {
                self.event(
                    "phase1_down",
                    vec![
                        ("peer", Value::from(peer.to_string())),
                        ("reason", Value::from("expired")),
                    ],
                );
                self.client_phase1_gone(now, peer, "expired");
            }
            I::XauthRequested(r) => self.xauth_requested(now, &r),
            I::XauthCompleted {
                peer, user, role, ..
            } => {
                self.event(
                    "xauth_completed",
                    vec![
                        ("peer", Value::from(peer.to_string())),
                        ("user", Value::from(user)),
                        ("role", Value::from(role_name(role))),
                    ],
                );
            }
            I::XauthFailed {
                peer,
                user,
                role,
                reason,
                ..
            } => {
                self.event(
                    "xauth_failed",
                    vec![
                        ("peer", Value::from(peer.to_string())),
                        ("user", user.map_or(Value::Null, Value::from)),
                        ("role", Value::from(role_name(role))),
                        ("reason", Value::from(xauth_failure(reason))),
                    ],
                );
                if role == Role::Initiator {
                    self.end_client(peer, ClientEnd::XauthFailed(reason));
                }
            }
            I::ModeCfgReceived { peer, config, .. } => self.mode_cfg_received(peer, &config),
            I::AddressAssigned {
                sa,
                peer,
                user,
                address,
            } => {
                let route = self
                    .address_routes
                    .as_mut()
                    .map(|r| r.assigned(sa, address));
                self.event(
                    "address_assigned",
                    vec![
                        ("peer", Value::from(peer.to_string())),
                        ("user", user.map_or(Value::Null, Value::from)),
                        ("address", Value::from(address.to_string())),
                    ],
                );
                self.route_event("route_added", route);
            }
            I::AddressReleased { sa, peer, address } => {
                let route = self.address_routes.as_mut().map(|r| r.released(&sa));
                self.event(
                    "address_released",
                    vec![
                        ("peer", Value::from(peer.to_string())),
                        ("address", Value::from(address.to_string())),
                    ],
                );
                self.route_event("route_removed", route);
            }
            I::PeerCertificate {
                peer,
                subject,
                issuer,
                serial,
                not_after,
                anchor,
                ..
            } => {
                self.event(
                    "peer_certificate",
                    vec![
                        ("peer", Value::from(peer.to_string())),
                        ("subject", Value::from(subject)),
                        ("issuer", Value::from(issuer)),
                        ("serial", Value::from(serial)),
                        ("not_after", Value::from(not_after)),
                        ("anchor", Value::from(anchor)),
                    ],
                );
            }
            I::Phase1Failed { peer, reason, .. } => {
                if let ike_sm::FailReason::Certificate(r) = &reason {
                    self.event(
                        "certificate_refused",
                        vec![
                            ("peer", Value::from(peer.to_string())),
                            ("reason", Value::from(r.kind())),
                            ("detail", Value::from(r.to_string())),
                        ],
                    );
                }
                let what = format!("phase 1 with {peer} failed: {reason:?}");
                self.event("error", vec![("what", Value::from(what.clone()))]);
                // A client that never got its configuration has nothing to
                // wait for.
                if self.gateway.client_config().is_none() {
                    self.end_client(peer, ClientEnd::Failed(what));
                }
            }
            I::Phase2Failed { peer, reason, .. } => self.event(
                "error",
                vec![(
                    "what",
                    Value::from(format!("quick mode with {peer} failed: {reason:?}")),
                )],
            ),
            I::RetransmitGaveUp {
                peer, message_id, ..
            } => {
                let what = format!(
                    "no answer from {peer} after every retransmission (message ID {message_id})"
                );
                self.event("error", vec![("what", Value::from(what.clone()))]);
                if message_id == 0 && self.gateway.client_config().is_none() {
                    self.end_client(peer, ClientEnd::Failed(what));
                }
            }
            I::DpdTimeout { peer, .. } => {
                let what = format!("dead peer detection: {peer} did not answer");
                self.event("error", vec![("what", Value::from(what.clone()))]);
                self.end_client(peer, ClientEnd::Failed(what));
            }
            I::PeerNotification {
                peer,
                notify,
                authenticated,
                ..
            } => self.event(
                "notify",
                vec![
                    ("peer", Value::from(peer.to_string())),
                    ("notify", Value::from(format!("{notify:?}"))),
                    ("authenticated", Value::from(authenticated)),
                ],
            ),
            I::RekeyStarted { old, .. } => {
                let what = match old {
                    SaRef::Isakmp(_) => "isakmp".to_owned(),
                    SaRef::Ipsec { inbound, .. } => format!("0x{:08x}", inbound.0),
                };
                self.event("rekey_started", vec![("old", Value::from(what))]);
            }
            I::PeerMoved {
                from, to, ipsec, ..
            } => self.event(
                "peer_moved",
                vec![
                    ("from", Value::from(from.to_string())),
                    ("to", Value::from(to.to_string())),
                    ("ipsec_pairs", Value::from(ipsec.len())),
                ],
            ),
            I::InputDropped { reason, peer } => {
                self.dropped_events = self.dropped_events.saturating_add(1);
                if self.dropped_events <= MAX_DROPPED_EVENTS {
                    self.event(
                        "input_dropped",
                        vec![
                            ("peer", Value::from(peer.to_string())),
                            ("reason", Value::from(format!("{reason:?}"))),
                        ],
                    );
                } else {
                    self.counters.dropped_events_suppressed =
                        self.counters.dropped_events_suppressed.saturating_add(1);
                }
            }
            // IPsec SAs deleted or expired are reported by the gateway as
            // TunnelDown, with the pair's details.
            _ => {}
        }
    }

    // ----- remote access -----

    /// Server: reports what routing an assigned or released address did
    /// (`name`: `route_added` or `route_removed`; or an `error`).
    fn route_event(&mut self, name: &str, route: Option<std::io::Result<Option<String>>>) {
        match route {
            Some(Ok(Some(r))) => self.event(name, vec![("route", Value::from(r))]),
            Some(Err(e)) => self.event(
                "error",
                vec![(
                    "what",
                    Value::from(format!("routing a client's address: {e}")),
                )],
            ),
            _ => {}
        }
    }

    /// Client: the concentrator asks for credentials: answered from the
    /// session, at most [`MAX_XAUTH_ANSWERS`] times.
    fn xauth_requested(&mut self, now: Instant, r: &ike_sm::XauthRequest) {
        let message = r.message.as_deref().map(printable);
        let Some(c) = self.client.as_mut() else {
            self.event(
                "xauth_requested",
                vec![
                    ("peer", Value::from(r.peer.to_string())),
                    ("attempt", Value::from(r.attempt)),
                    ("answered", Value::from(false)),
                ],
            );
            return;
        };
        let answer = c.answers < MAX_XAUTH_ANSWERS;
        let result = if answer {
            c.answers = c.answers.saturating_add(1);
            Some(self.gateway.xauth_credentials(now, r.sa, &c.credentials))
        } else {
            // The same credentials again would be refused again: give up
            // now rather than let the exchange time out.
            let _ = self.gateway.xauth_cancel(now, r.sa);
            None
        };
        if let (Some(m), Some(console)) = (&message, c.console.as_mut()) {
            let _ = writeln!(console, "ikev1-peer: the gateway says: {m}");
        }
        self.event(
            "xauth_requested",
            vec![
                ("peer", Value::from(r.peer.to_string())),
                ("attempt", Value::from(r.attempt)),
                ("message", message.map_or(Value::Null, Value::from)),
                ("answered", Value::from(matches!(result, Some(Ok(()))))),
            ],
        );
        match result {
            Some(Ok(())) => {}
            Some(Err(e)) => self.event(
                "error",
                vec![(
                    "what",
                    Value::from(format!("XAUTH answer to {} refused: {e}", r.peer)),
                )],
            ),
            None => self.event(
                "warning",
                vec![(
                    "what",
                    Value::from(format!(
                        "XAUTH request {} from {} not answered: the same credentials were \
                         sent {MAX_XAUTH_ANSWERS} times; XAUTH cancelled",
                        r.attempt, r.peer
                    )),
                )],
            ),
        }
    }

    /// Client: Mode-Config gave `config`: reported, the banner shown
    /// once, the host configured (again only when it changed).
    fn mode_cfg_received(&mut self, peer: std::net::SocketAddr, config: &ike_sm::ModeConfig) {
        let ips =
            |v: &[Ipv4Addr]| Value::from(v.iter().map(ToString::to_string).collect::<Vec<_>>());
        let nets = |v: &[ike_sm::SplitNetwork]| {
            Value::from(
                v.iter()
                    .map(|n| {
                        hostnet::cidr(n.address, n.mask)
                            .unwrap_or_else(|| format!("{}/{}", n.address, n.mask))
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let text = |t: &Option<String>| {
            t.as_deref()
                .map_or(Value::Null, |t| Value::from(printable(t)))
        };
        let texts = |v: &[String]| Value::from(v.iter().map(|t| printable(t)).collect::<Vec<_>>());
        let ip = |a: Option<Ipv4Addr>| a.map_or(Value::Null, |a| Value::from(a.to_string()));
        self.event(
            "mode_cfg_received",
            vec![
                ("peer", Value::from(peer.to_string())),
                ("address", ip(config.address)),
                ("netmask", ip(config.netmask)),
                ("dns", ips(&config.dns)),
                ("nbns", ips(&config.nbns)),
                ("domain", text(&config.domain)),
                ("split_include", nets(&config.split_include)),
                ("local_lan", nets(&config.local_lan)),
                ("split_dns", texts(&config.split_dns)),
                ("banner", text(&config.banner)),
                ("pfs", config.pfs.map_or(Value::Null, Value::from)),
                (
                    "save_password",
                    config.save_password.map_or(Value::Null, Value::from),
                ),
                ("backup_servers", texts(&config.backup_servers)),
            ],
        );
        let Some(c) = self.client.as_mut() else {
            return;
        };
        if let (Some(b), false) = (&config.banner, c.banner_shown) {
            c.banner_shown = true;
            if let Some(console) = c.console.as_mut() {
                let _ = writeln!(console, "ikev1-peer: banner from {peer}:\n{}", printable(b));
            }
        }
        if c.applied.as_ref().is_some_and(|(old, _)| old == config) {
            return;
        }
        self.deconfigure_host();
        self.configure_host(config);
    }

    /// Client: puts the assigned address and routes on the host.
    fn configure_host(&mut self, config: &ike_sm::ModeConfig) {
        let Some(c) = self.client.as_mut() else {
            return;
        };
        let (changes, skipped) =
            hostnet::plan(config, &c.tun, c.gateway, c.underlay.as_ref(), c.routes);
        if changes.is_empty() {
            return;
        }
        let mut undo = Vec::new();
        let mut failed = None;
        for change in &changes {
            if let Err(e) = c.host.ip(&change.apply) {
                failed = Some(e.to_string());
                break;
            }
            undo.extend(change.undo.clone());
        }
        undo.reverse();
        let routes: Vec<String> = changes
            .iter()
            .filter(|ch| ch.apply.first().map(String::as_str) == Some("route"))
            .filter_map(|ch| ch.apply.get(2).cloned())
            .collect();
        let tun = c.tun.clone();
        c.applied = Some((config.clone(), undo));
        for s in skipped {
            self.event(
                "warning",
                vec![("what", Value::from(format!("not routed: {s}")))],
            );
        }
        match failed {
            None => self.event(
                "tun_configured",
                vec![
                    ("tun", Value::from(tun)),
                    (
                        "address",
                        config
                            .address
                            .map_or(Value::Null, |a| Value::from(format!("{a}/32"))),
                    ),
                    ("routes", Value::from(routes)),
                ],
            ),
            Some(e) => self.event(
                "error",
                vec![("what", Value::from(format!("configuring {tun}: {e}")))],
            ),
        }
    }

    /// Client: takes back what [`configure_host`](Self::configure_host)
    /// put on the host.
    fn deconfigure_host(&mut self) {
        let Some(c) = self.client.as_mut() else {
            return;
        };
        let Some((_, undo)) = c.applied.take() else {
            return;
        };
        let mut errors = Vec::new();
        for args in &undo {
            if let Err(e) = c.host.ip(args) {
                errors.push(e.to_string());
            }
        }
        let tun = c.tun.clone();
        self.event(
            "tun_deconfigured",
            vec![("tun", Value::from(tun)), ("errors", Value::from(errors))],
        );
    }

    /// Client: the run is over for `why` (the first reason wins), unless
    /// it is being shut down anyway or `peer` is not the concentrator.
    fn end_client(&mut self, peer: std::net::SocketAddr, why: ClientEnd) {
        if self.shutting_down {
            return;
        }
        if let Some(c) = self.client.as_mut()
            && peer.ip() == std::net::IpAddr::V4(c.gateway)
            && c.end.is_none()
        {
            c.end = Some(why);
        }
    }

    /// Client: an ISAKMP SA with `peer` is gone: the session is over when
    /// no other one with the concentrator is left (a phase-1 rekey leaves
    /// the new one).
    fn client_phase1_gone(&mut self, now: Instant, peer: std::net::SocketAddr, reason: &str) {
        let Some(c) = self.client.as_ref() else {
            return;
        };
        let gateway = std::net::IpAddr::V4(c.gateway);
        let left = self
            .gateway
            .ike()
            .isakmp_sas(now)
            .iter()
            .any(|s| s.remote.ip() == gateway);
        if !left {
            self.end_client(
                peer,
                ClientEnd::Failed(format!("the session with {peer} ended ({reason})")),
            );
        }
    }

    fn phase2_up(&mut self, now: Instant, info: &TunnelInfo) {
        let sa = self
            .gateway
            .ike()
            .ipsec_sas(now)
            .into_iter()
            .find(|s| s.inbound.0 == info.inbound_spi);
        let (transform, pfs, lifetime, kilobytes) = sa
            .map(|s| {
                (
                    Value::from(s.transform.ios_name()),
                    s.pfs.map_or(Value::Null, |g| Value::from(g.number())),
                    Value::from(s.lifetime.seconds),
                    s.lifetime.kilobytes.map_or(Value::Null, Value::from),
                )
            })
            .unwrap_or((Value::Null, Value::Null, Value::Null, Value::Null));
        let ts = |p: &Option<ProxyIdent>| {
            p.as_ref()
                .map_or(Value::Null, |p| Value::from(proxy_text(p)))
        };
        self.event(
            "phase2_up",
            vec![
                ("spi_in", Value::from(format!("0x{:08x}", info.inbound_spi))),
                (
                    "spi_out",
                    Value::from(format!("0x{:08x}", info.outbound_spi)),
                ),
                ("peer", Value::from(info.peer.to_string())),
                ("local_ts", ts(&info.local_proxy)),
                ("remote_ts", ts(&info.remote_proxy)),
                ("pfs_group", pfs),
                ("transform", transform),
                ("lifetime_s", lifetime),
                ("lifetime_kb", kilobytes),
                ("conn_in", Value::from(info.conn_ids.0)),
                ("conn_out", Value::from(info.conn_ids.1)),
                ("map_entry", info.map_entry.map_or(Value::Null, Value::from)),
            ],
        );
    }
}
