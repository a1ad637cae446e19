//! The `ted_gateway` fuzz target's body (re-exported as
//! `netsim::fuzzing::gateway`): the seed's two routers, Daphne and fred, each
//! a [`GatewayRouter`] (the simulator's node around a [`Gateway`]) built
//! from the seed's configurations, driven by a program read from the
//! input. The harness is the 11.11.11.0/24 link between them and the two
//! protected LANs; the program decides what happens, in any order:
//! plaintext from the hosts, delivery, loss, duplication, reordering,
//! corruption and truncation of whatever is in flight (IKE, TED, ESP),
//! forged TED probes and responses, forged ESP, cleartext from outside,
//! clock steps and jumps, `clear crypto sa`/`clear crypto isakmp` and the
//! `show` views. At the end every timer is run out for three hours of
//! silence.
//!
//! Panics only when an invariant breaks:
//!
//! - **no clear text between the protected networks leaves an outside
//!   interface**: nothing from 13.13.13.0/24 to 12.12.12.0/24 leaves
//!   Daphne's outside in clear, nor the mirror from fred's, except a TED
//!   probe (UDP 500 carrying the router's own address, docs/ted-wire.md, "The exchange");
//! - **nothing reaches a protected network from the other unless it came
//!   out of ESP**: a packet from the peer's protected network is handed to
//!   the inside only for an ESP packet whose bytes after the IP header are
//!   the ones a gateway emitted (a corrupted or truncated one never
//!   decrypts) and that never decrypted before (anti-replay);
//! - **bounded state**: installed SA pairs and pending negotiations within
//!   their caps, queues within theirs (drained after every input), the ESP
//!   table exactly the tunnels' SAs, every derived crypto map entry used
//!   by a negotiation or a tunnel and counted right, TED connection IDs
//!   and pending discoveries bounded, the logs within their caps;
//! - **timers settle**: after `handle_timeout(now)` nothing is due at
//!   `now` any more, and three hours without traffic leave no tunnel, no
//!   negotiation, no derived entry, no pending discovery and no ESP SA.
//!
//! # The program
//!
//! The first eight bytes seed the generators (cookies, nonces, DH values,
//! SPIs, IVs). Then one operation per byte (`op % 16`), each followed by
//! its arguments; a program that ends early just stops. Addresses are
//! indexes into a fixed list (the seed's hosts and routers, and hostile
//! ones); `side` 0 is Daphne, 1 fred.
//!
//! | op | arguments | what |
//! |---|---|---|
//! | 0, 1 | kind, ... | a packet from a host behind Daphne (0) or fred (1): echo request to the far host, UDP, ICMP between listed addresses, or raw bytes |
//! | 2 | index | deliver one packet in flight |
//! | 3 | - | deliver everything in flight, in order, until the link is quiet (bounded) |
//! | 4 | index | lose one |
//! | 5 | index | duplicate one |
//! | 6 | index, index | swap two (reordering) |
//! | 7 | index, offset (2), xor | corrupt one byte |
//! | 8 | index, length | truncate one |
//! | 9 | side, src, dst, length, bytes | a forged UDP 500 datagram |
//! | 10 | side, src, dst, address, proxy | a forged TED probe |
//! | 11 | side, src, dst, address, proxy, proxy | a forged TED response (cookie of the last probe seen) |
//! | 12 | side, spi choice, sequence (4), length, bytes | a forged ESP packet |
//! | 13 | side, src, dst, protocol | clear text arriving from outside |
//! | 14 | kind, amount | time: milliseconds, seconds, ten-minute jumps, or the next timer |
//! | 15 | side, command | `clear crypto sa`, `clear crypto isakmp`, or a `show` view |
// Panicking on a broken invariant is what this is for.
#![allow(clippy::panic)]

use std::collections::{BTreeSet, VecDeque};
use std::net::Ipv4Addr;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use isakmp_wire::{
    ExchangeType, IdData, IdRepr, Message, MessageRepr, ParseConfig, TedMessage, TedProbe,
    TedResponse,
};

use ted::gateway::{Counters, Gateway, GatewayOptions, ShowCommand};

use crate::GatewayRouter;
use crate::Node;
use crate::fuzzing::program::{FuzzRng, Input};
use crate::scenario::{self, A1, D1, DAPHNE, FRED, INSIDE, OUTSIDE};
use esp::ip::{self as packet, Ipv4Header, protocol};
use ted::config::{Config, InterfaceName};

/// Addresses the program picks from: the seed's, the routers' inside
/// addresses, neighbours in the protected networks, and hostile ones.
const ADDRESSES: [Ipv4Addr; 16] = [
    D1,
    A1,
    DAPHNE,
    FRED,
    scenario::DAPHNE_INSIDE,
    scenario::FRED_INSIDE,
    Ipv4Addr::new(13, 13, 13, 200),
    Ipv4Addr::new(12, 12, 12, 99),
    Ipv4Addr::new(13, 13, 13, 0),
    Ipv4Addr::new(12, 12, 12, 255),
    Ipv4Addr::new(11, 11, 11, 3),
    Ipv4Addr::new(8, 8, 8, 8),
    Ipv4Addr::new(12, 12, 7, 1),
    Ipv4Addr::new(127, 0, 0, 1),
    Ipv4Addr::new(224, 0, 0, 5),
    Ipv4Addr::new(255, 255, 255, 255),
];

/// Masks for forged proxies.
const MASKS: [Ipv4Addr; 4] = [
    Ipv4Addr::new(255, 255, 255, 0),
    Ipv4Addr::new(255, 255, 255, 255),
    Ipv4Addr::new(0, 0, 0, 0),
    Ipv4Addr::new(255, 255, 0, 0),
];

/// The protected networks: Daphne's (13.13.13.0/24) and fred's
/// (12.12.12.0/24), per the seed's access list 101.
fn lan(side: usize, a: Ipv4Addr) -> bool {
    let o = a.octets();
    match side {
        0 => o[..3] == [13, 13, 13],
        _ => o[..3] == [12, 12, 12],
    }
}

/// Packets in flight on the link at most (a link's queue).
const MAX_IN_FLIGHT: usize = 64;
/// Operations per program at most.
const MAX_OPS: usize = 512;
/// Deliveries one "deliver everything" may make.
const MAX_DELIVER_ALL: usize = 96;
/// Rounds of `handle_timeout` at one instant before the timers are
/// declared stuck.
const MAX_TIMER_ROUNDS: usize = 8;
/// The silence at the end.
const QUIET_END: Duration = Duration::from_secs(3 * 3600);
/// Timer steps the silence may take (retransmissions, expiries).
const MAX_QUIET_STEPS: usize = 4096;

/// Small caps, so that a short program reaches them.
fn options() -> GatewayOptions {
    let mut ike = ted::gateway::IkeTuning::default();
    ike.limits.half_open_per_peer = 2;
    ike.limits.half_open_total = 4;
    ike.limits.phase2_per_sa = 2;
    ike.limits.established_per_peer = 2;
    ike.limits.established_total = 3;
    let mut options = GatewayOptions::default();
    options.debug = true;
    options.key_log = true;
    options.discovery.max_pending = 3;
    options.discovery.max_hold_down = 3;
    options.discovery.max_queued_transmits = 8;
    options.discovery.max_queued_events = 16;
    options.ike = ike;
    options.caps.max_tunnels = 2;
    options.caps.max_negotiations = 2;
    options.caps.max_queued_transmits = 16;
    options.caps.max_queued_events = 32;
    options.caps.max_log_records = 64;
    options.caps.max_key_log_entries = 8;
    options
}

/// The gateway program's own arguments.
trait GatewayInput {
    /// A router: 0 is Daphne, 1 fred.
    fn side(&mut self) -> Option<usize>;
    /// A proxy identity for a forged TED message.
    fn proxy(&mut self) -> Option<IdRepr<'static>>;
}

impl GatewayInput for Input<'_> {
    fn side(&mut self) -> Option<usize> {
        Some(usize::from(self.byte()? & 1))
    }

    fn proxy(&mut self) -> Option<IdRepr<'static>> {
        let address = self.address()?;
        let m = self.byte()?;
        let data = match MASKS.get(usize::from(m) % MASKS.len()) {
            Some(mask) if m < 128 => IdData::Ipv4Subnet {
                address,
                mask: *mask,
            },
            _ => IdData::Ipv4Addr(address),
        };
        Some(IdRepr {
            protocol: if m & 0x40 != 0 { 17 } else { 0 },
            port: 0,
            data,
        })
    }
}

/// A packet on the 11.11.11.0/24 link.
struct InFlight {
    /// The receiving router.
    to: usize,
    bytes: Vec<u8>,
    /// For ESP a gateway emitted: its bytes after the IP header as
    /// emitted (what the ICV covers).
    esp: Option<Vec<u8>>,
}

/// What caused the outputs being drained.
enum Cause {
    /// A packet from a host on the protected side, or a timer, or a command.
    Local,
    /// A packet from the link: for an ESP packet a gateway emitted, its
    /// protected bytes, if they are still as emitted.
    Link { intact_esp: Option<Vec<u8>> },
}

/// What a run did, for the corpus replay test to check that the seeds
/// reach the interesting paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayRun {
    /// Daphne's counters at the end (before the final silence).
    pub daphne: Counters,
    /// fred's counters at the end (before the final silence).
    pub fred: Counters,
    /// Daphne's TED counters at the end.
    pub daphne_ted: ted::discovery::Stats,
    /// fred's TED counters at the end.
    pub fred_ted: ted::discovery::Stats,
    /// Packets handed to a protected network out of ESP.
    pub decrypted: u64,
    /// Corrupted or truncated ESP packets delivered (and refused).
    pub corrupted_esp_delivered: u64,
    /// ESP packets delivered again after they had decrypted (and refused).
    pub replayed_esp_delivered: u64,
    /// TED probes forged.
    pub forged_probes: u64,
    /// TED responses forged.
    pub forged_responses: u64,
    /// Tunnels up at the end (before the final silence), both routers.
    pub tunnels_at_end: usize,
    /// Tunnels removed during the final silence, both routers.
    pub tunnels_expired_in_silence: u64,
}

struct Harness {
    now: Instant,
    routers: [GatewayRouter; 2],
    wire: VecDeque<InFlight>,
    /// ESP bytes (after the IP header) that decrypted once.
    decrypted: BTreeSet<Vec<u8>>,
    last_probe_cookie: Option<[u8; 8]>,
    ping_sequence: u16,
    run: GatewayRun,
}

fn configs() -> &'static (Config, Config) {
    // Importing the configurations dominated a short run; do it once.
    static CONFIGS: OnceLock<(Config, Config)> = OnceLock::new();
    CONFIGS.get_or_init(|| match scenario::seed_configs() {
        Ok(c) => c,
        Err(e) => panic!("the seed configurations do not import: {e}"),
    })
}

fn router(config: &Config, seed: u64) -> GatewayRouter {
    match Gateway::new(
        config.clone(),
        OUTSIDE,
        Box::new(FuzzRng::new(seed)),
        options(),
    ) {
        Ok(g) => GatewayRouter::new(g),
        Err(e) => panic!("the seed configuration is refused: {e}"),
    }
}

/// Whether an IPv4 packet's header addresses say it goes from `from`'s
/// protected network to the other's.
fn protected_flow(from: usize, bytes: &[u8]) -> bool {
    let addr = |at: usize| {
        bytes
            .get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(Ipv4Addr::from)
    };
    let (Some(src), Some(dst)) = (addr(12), addr(16)) else {
        return false;
    };
    let version_4 = bytes.first().is_some_and(|b| b >> 4 == 4);
    version_4 && lan(from, src) && lan(1 - from, dst)
}

/// Whether an outside packet of `side` is a TED probe it sent: UDP 500
/// whose payload parses as a probe carrying its own address.
fn own_ted_probe(side: usize, bytes: &[u8]) -> bool {
    let Ok(ip) = packet::Ipv4Packet::parse(bytes) else {
        return false;
    };
    let Ok(packet::Transport::Udp {
        source_port: 500,
        destination_port: 500,
        payload,
    }) = ip.transport()
    else {
        return false;
    };
    let own = if side == 0 { DAPHNE } else { FRED };
    let parse = ParseConfig::default().with_ted_exchange_type(Some(ExchangeType::TED));
    let Ok(m) = Message::new_checked(payload) else {
        return false;
    };
    let Ok(repr) = MessageRepr::parse(&m, &parse) else {
        return false;
    };
    matches!(
        TedMessage::from_message(&repr, ExchangeType::TED),
        Ok(TedMessage::Probe(p)) if p.initiator_address.data == IdData::Ipv4Addr(own)
    )
}

/// The bytes after the IPv4 header of an ESP packet.
fn esp_part(bytes: &[u8]) -> Option<Vec<u8>> {
    let ihl = usize::from(bytes.first()? & 0x0f) * 4;
    (bytes.get(9) == Some(&protocol::ESP))
        .then(|| bytes.get(ihl..).map(<[u8]>::to_vec))
        .flatten()
}

/// The internal state of one gateway stays within its bounds and
/// consistent, and its tunnels lead to the other router.
fn check_state(g: &Gateway, now: Instant) {
    if let Err(e) = g.check_invariants(now) {
        panic!("{e}");
    }
    let other = if g.address() == DAPHNE { FRED } else { DAPHNE };
    for t in g.tunnels() {
        assert_eq!(t.peer, other, "a tunnel to a third router");
    }
}

impl Harness {
    fn new(seed: u64) -> Self {
        let (daphne, fred) = configs();
        let routers = [router(daphne, seed), router(fred, seed ^ 0x5a5a_5a5a)];
        let mut h = Self {
            now: Instant::now(),
            routers,
            wire: VecDeque::new(),
            decrypted: BTreeSet::new(),
            last_probe_cookie: None,
            ping_sequence: 0,
            run: GatewayRun::default(),
        };
        h.drain(0, &Cause::Local);
        h.drain(1, &Cause::Local);
        h
    }

    fn router(&mut self, side: usize) -> &mut GatewayRouter {
        match side {
            0 => &mut self.routers[0],
            _ => &mut self.routers[1],
        }
    }

    fn put_on_wire(&mut self, p: InFlight) {
        if self.wire.len() < MAX_IN_FLIGHT {
            self.wire.push_back(p);
        }
    }

    /// Takes the router's outputs: outside ones onto the link (checked),
    /// inside ones to the hosts (checked; echo requests answered).
    fn drain(&mut self, side: usize, cause: &Cause) {
        let outside = InterfaceName::new(OUTSIDE);
        let mut replies = Vec::new();
        let mut budget = 4 * MAX_IN_FLIGHT;
        while let Some(out) = self.router(side).poll_output() {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                panic!("a router keeps producing output");
            }
            if out.interface == outside {
                if protected_flow(side, &out.packet) && !own_ted_probe(side, &out.packet) {
                    panic!(
                        "clear text between the protected networks left side {side}'s outside: {:02x?}",
                        out.packet
                    );
                }
                self.note_probe(&out.packet);
                let esp = esp_part(&out.packet);
                self.put_on_wire(InFlight {
                    to: 1 - side,
                    bytes: out.packet,
                    esp,
                });
                continue;
            }
            // To the protected side.
            if protected_flow(1 - side, &out.packet) {
                match cause {
                    Cause::Link {
                        intact_esp: Some(esp),
                    } => {
                        assert!(
                            self.decrypted.insert(esp.clone()),
                            "an ESP packet decrypted twice (replay)"
                        );
                        self.run.decrypted = self.run.decrypted.saturating_add(1);
                    }
                    Cause::Link { intact_esp: None } => panic!(
                        "side {side} let a packet from the peer's network in without intact ESP: {:02x?}",
                        out.packet
                    ),
                    Cause::Local => {}
                }
            }
            if let Some(reply) = echo_reply(side, &out.packet) {
                replies.push(reply);
            }
        }
        for reply in replies {
            let now = self.now;
            self.router(side)
                .handle_packet(now, &InterfaceName::new(INSIDE), reply);
            self.drain(side, &Cause::Local);
        }
        let now = self.now;
        check_state(self.router(side).gateway(), now);
    }

    fn note_probe(&mut self, bytes: &[u8]) {
        let Ok(ip) = packet::Ipv4Packet::parse(bytes) else {
            return;
        };
        if let Ok(packet::Transport::Udp { payload, .. }) = ip.transport()
            && let Ok(m) = Message::new_checked(payload)
            && m.header().exchange_type() == ExchangeType::TED
            && m.header().responder_cookie() == [0; 8]
        {
            self.last_probe_cookie = Some(m.header().initiator_cookie());
        }
    }

    fn host_sends(&mut self, side: usize, packet: Vec<u8>) {
        let now = self.now;
        self.router(side)
            .handle_packet(now, &InterfaceName::new(INSIDE), packet);
        self.drain(side, &Cause::Local);
    }

    fn link_delivers(&mut self, p: InFlight) {
        let intact_esp = match (&p.esp, esp_part(&p.bytes)) {
            (Some(emitted), Some(now)) if *emitted == now => Some(now),
            (Some(_), _) => {
                self.run.corrupted_esp_delivered =
                    self.run.corrupted_esp_delivered.saturating_add(1);
                None
            }
            _ => None,
        };
        if let Some(e) = &intact_esp
            && self.decrypted.contains(e)
        {
            self.run.replayed_esp_delivered = self.run.replayed_esp_delivered.saturating_add(1);
        }
        let now = self.now;
        let to = p.to;
        self.router(to)
            .handle_packet(now, &InterfaceName::new(OUTSIDE), p.bytes);
        self.drain(to, &Cause::Link { intact_esp });
    }

    fn deliver(&mut self, index: u8) {
        if self.wire.is_empty() {
            return;
        }
        let i = usize::from(index) % self.wire.len();
        if let Some(p) = self.wire.remove(i) {
            self.link_delivers(p);
        }
    }

    fn deliver_all(&mut self) {
        for _ in 0..MAX_DELIVER_ALL {
            let Some(p) = self.wire.pop_front() else {
                return;
            };
            self.link_delivers(p);
        }
    }

    fn wire_mut(&mut self, index: u8) -> Option<&mut InFlight> {
        if self.wire.is_empty() {
            return None;
        }
        let i = usize::from(index) % self.wire.len();
        self.wire.get_mut(i)
    }

    /// Runs the timers due now, both routers; they must settle.
    fn timers(&mut self) {
        for side in 0..2 {
            for round in 0.. {
                let now = self.now;
                match self.router(side).poll_timeout() {
                    Some(t) if t <= now => {}
                    _ => break,
                }
                assert!(
                    round < MAX_TIMER_ROUNDS,
                    "side {side}'s timers do not settle"
                );
                self.router(side).handle_timeout(now);
                self.drain(side, &Cause::Local);
            }
        }
    }

    fn advance(&mut self, by: Duration) {
        self.now = self.now.checked_add(by).unwrap_or(self.now);
        self.timers();
    }

    /// Three hours without traffic (everything sent is lost): every
    /// negotiation fails or ends, every SA expires.
    fn silence(&mut self) {
        self.wire.clear();
        let end = self.now.checked_add(QUIET_END).unwrap_or(self.now);
        let before: u64 = self
            .routers
            .iter()
            .map(|r| r.gateway().counters().tunnels_removed)
            .sum();
        for _ in 0..MAX_QUIET_STEPS {
            let next = self.routers.iter().filter_map(Node::poll_timeout).min();
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.timers();
                    self.wire.clear();
                }
                _ => break,
            }
        }
        let after: u64 = self
            .routers
            .iter()
            .map(|r| r.gateway().counters().tunnels_removed)
            .sum();
        self.run.tunnels_expired_in_silence = after.saturating_sub(before);
        for r in &self.routers {
            let g = r.gateway();
            if let Some(t) = g.poll_timeout() {
                assert!(
                    t > end,
                    "{} timers still due after the silence",
                    g.address()
                );
            }
            assert!(
                g.tunnels().is_empty(),
                "{}: tunnels outlived their lifetime",
                g.address()
            );
            assert!(g.esp().is_empty());
            assert!(
                g.negotiation_count() == 0,
                "{}: negotiations leaked",
                g.address()
            );
            assert!(
                g.config()
                    .crypto_map(g.crypto_map())
                    .is_none_or(|m| m.derived_entries().next().is_none()),
                "{}: derived entries leaked",
                g.address()
            );
            assert_eq!(g.discovery().pending_count(), 0);
        }
    }

    fn host_packet(&mut self, side: usize, input: &mut Input<'_>) -> Option<()> {
        let kind = input.byte()?;
        let (me, far) = if side == 0 { (D1, A1) } else { (A1, D1) };
        let packet = match kind % 4 {
            0 => {
                self.ping_sequence = self.ping_sequence.wrapping_add(1);
                packet::icmp_echo(
                    Ipv4Header::new(me, far, 0).with_ttl(128),
                    false,
                    1,
                    self.ping_sequence,
                    b"abcdefghijklmnopqrstuvwabcdefghi",
                )
                .ok()?
            }
            1 => {
                let (dst, sport, dport, len) =
                    (input.address()?, input.u16()?, input.u16()?, input.byte()?);
                let payload = input.bytes(usize::from(len)).to_vec();
                packet::udp(
                    Ipv4Header::new(me, dst, 0).with_ttl(64),
                    sport,
                    dport,
                    &payload,
                )
                .ok()?
            }
            2 => {
                let (src, dst) = (input.address()?, input.address()?);
                packet::icmp_echo(Ipv4Header::new(src, dst, 0).with_ttl(64), false, 7, 7, b"x")
                    .ok()?
            }
            _ => {
                let len = input.byte()?;
                input.bytes(usize::from(len)).to_vec()
            }
        };
        self.host_sends(side, packet);
        Some(())
    }

    fn forge_udp(&mut self, to: usize, src: Ipv4Addr, dst: Ipv4Addr, payload: &[u8]) {
        if let Ok(bytes) = packet::udp(Ipv4Header::new(src, dst, 0).with_ttl(64), 500, 500, payload)
        {
            self.put_on_wire(InFlight {
                to,
                bytes,
                esp: None,
            });
        }
    }

    fn step(&mut self, op: u8, input: &mut Input<'_>) -> Option<()> {
        match op % 16 {
            side @ (0 | 1) => self.host_packet(usize::from(side), input)?,
            2 => self.deliver(input.byte()?),
            3 => self.deliver_all(),
            4 => {
                let i = input.byte()?;
                if !self.wire.is_empty() {
                    let i = usize::from(i) % self.wire.len();
                    self.wire.remove(i);
                }
            }
            5 => {
                let i = input.byte()?;
                if let Some(p) = self.wire_mut(i) {
                    let copy = InFlight {
                        to: p.to,
                        bytes: p.bytes.clone(),
                        esp: p.esp.clone(),
                    };
                    self.put_on_wire(copy);
                }
            }
            6 => {
                let (i, j) = (input.byte()?, input.byte()?);
                let n = self.wire.len();
                if n > 0 {
                    self.wire.swap(usize::from(i) % n, usize::from(j) % n);
                }
            }
            7 => {
                let (i, at, xor) = (input.byte()?, input.u16()?, input.byte()?);
                if let Some(p) = self.wire_mut(i) {
                    let n = p.bytes.len().max(1);
                    if let Some(b) = p.bytes.get_mut(usize::from(at) % n) {
                        *b ^= xor;
                    }
                }
            }
            8 => {
                let (i, len) = (input.byte()?, input.byte()?);
                if let Some(p) = self.wire_mut(i) {
                    p.bytes.truncate(usize::from(len));
                }
            }
            9 => {
                let (to, src, dst, len) = (
                    input.side()?,
                    input.address()?,
                    input.address()?,
                    input.byte()?,
                );
                let payload = input.bytes(usize::from(len)).to_vec();
                self.forge_udp(to, src, dst, &payload);
            }
            10 => {
                let (to, src, dst, address, proxy) = (
                    input.side()?,
                    input.address()?,
                    input.address()?,
                    input.address()?,
                    input.proxy()?,
                );
                let cookie = input.u32()?.to_be_bytes();
                let probe =
                    TedProbe::new([cookie, cookie].concat().try_into().ok()?, address, proxy);
                if let Ok(payload) = probe.to_message(ExchangeType::TED).to_vec() {
                    self.run.forged_probes = self.run.forged_probes.saturating_add(1);
                    self.forge_udp(to, src, dst, &payload);
                }
            }
            11 => {
                let (to, src, dst, address, theirs, ours) = (
                    input.side()?,
                    input.address()?,
                    input.address()?,
                    input.address()?,
                    input.proxy()?,
                    input.proxy()?,
                );
                let cookie = self.last_probe_cookie.unwrap_or([1; 8]);
                let response = TedResponse::new(cookie, [7; 8], address, Some(theirs), ours);
                if let Ok(payload) = response.to_message(ExchangeType::TED).to_vec() {
                    self.run.forged_responses = self.run.forged_responses.saturating_add(1);
                    self.forge_udp(to, src, dst, &payload);
                }
            }
            12 => {
                let (to, choice, sequence, len) =
                    (input.side()?, input.byte()?, input.u32()?, input.byte()?);
                let spis: Vec<u32> = self
                    .router(to)
                    .gateway()
                    .tunnels()
                    .iter()
                    .map(|t| t.inbound_spi)
                    .collect();
                let spi = match spis.get(usize::from(choice) % spis.len().max(1)) {
                    Some(s) if choice < 200 => *s,
                    _ => u32::from(choice),
                };
                let mut body = spi.to_be_bytes().to_vec();
                body.extend_from_slice(&sequence.to_be_bytes());
                body.extend_from_slice(input.bytes(usize::from(len)));
                let (src, dst) = if to == 0 {
                    (FRED, DAPHNE)
                } else {
                    (DAPHNE, FRED)
                };
                if let Ok(bytes) = Ipv4Header::new(src, dst, protocol::ESP)
                    .with_ttl(64)
                    .build(&body)
                {
                    self.put_on_wire(InFlight {
                        to,
                        bytes,
                        esp: None,
                    });
                }
            }
            13 => {
                let (to, src, dst, kind) = (
                    input.side()?,
                    input.address()?,
                    input.address()?,
                    input.byte()?,
                );
                let header = Ipv4Header::new(src, dst, 0).with_ttl(64);
                let bytes = match kind % 3 {
                    0 => packet::icmp_echo(header, kind & 4 != 0, 9, 9, b"clear"),
                    1 => packet::udp(header, 1000, u16::from(kind), b"clear"),
                    _ => packet::udp(header, 500, 500, b"clear"),
                };
                if let Ok(bytes) = bytes {
                    self.put_on_wire(InFlight {
                        to,
                        bytes,
                        esp: None,
                    });
                }
            }
            14 => {
                let (kind, amount) = (input.byte()?, input.u16()?);
                let amount = u64::from(amount);
                match kind % 4 {
                    0 => self.advance(Duration::from_millis(amount.saturating_mul(16))),
                    1 => self.advance(Duration::from_secs(amount % 4096)),
                    2 => self.advance(Duration::from_secs((amount % 256).saturating_mul(600))),
                    _ => {
                        let next = self.routers.iter().filter_map(Node::poll_timeout).min();
                        if let Some(t) = next {
                            self.now = self.now.max(t);
                            self.timers();
                        }
                    }
                }
            }
            _ => {
                let (side, command) = (input.side()?, input.byte()?);
                let now = self.now;
                match command % 6 {
                    0 => self.router(side).gateway_mut().clear_crypto_sa(now),
                    1 => self.router(side).gateway_mut().clear_crypto_isakmp(now),
                    c => {
                        let command = ShowCommand::ALL
                            .get(usize::from(c - 2))
                            .copied()
                            .unwrap_or(ShowCommand::CryptoMap);
                        let text = self.router(side).gateway().show(now, command);
                        assert!(!text.is_empty());
                    }
                }
                self.drain(side, &Cause::Local);
            }
        }
        Some(())
    }
}

/// The echo reply D1 or A1 sends to an echo request the router handed it.
fn echo_reply(side: usize, bytes: &[u8]) -> Option<Vec<u8>> {
    let host = if side == 0 { D1 } else { A1 };
    let ip = packet::Ipv4Packet::parse(bytes).ok()?;
    if ip.header.destination != host {
        return None;
    }
    match ip.transport().ok()? {
        packet::Transport::Icmp {
            icmp_type: packet::icmp_type::ECHO_REQUEST,
            code: 0,
            rest: [a, b, c, d],
            data,
        } => packet::icmp_echo(
            Ipv4Header::new(host, ip.header.source, 0).with_ttl(128),
            true,
            u16::from_be_bytes([a, b]),
            u16::from_be_bytes([c, d]),
            data,
        )
        .ok(),
        _ => None,
    }
}

/// The fuzz target (see the module documentation for the program and the
/// invariants).
pub fn gateway(data: &[u8]) {
    gateway_run(data);
}

/// [`gateway`], returning what the run did.
pub fn gateway_run(data: &[u8]) -> GatewayRun {
    let mut input = Input::new(data, &ADDRESSES);
    let mut h = Harness::new(input.seed());
    for _ in 0..MAX_OPS {
        let Some(op) = input.byte() else { break };
        if h.step(op, &mut input).is_none() {
            break;
        }
    }
    let [daphne, fred] = &h.routers;
    h.run.daphne = *daphne.gateway().counters();
    h.run.fred = *fred.gateway().counters();
    h.run.daphne_ted = daphne.gateway().discovery().stats().clone();
    h.run.fred_ted = fred.gateway().discovery().stats().clone();
    h.run.tunnels_at_end = daphne.gateway().tunnels().len() + fred.gateway().tunnels().len();
    h.silence();
    h.run
}
