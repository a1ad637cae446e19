//! The `ted_discovery` fuzz target's body (re-exported as
//! `netsim::fuzzing::discovery`): an initiator configured as the seed's
//! Daphne and a responder configured as fred, driven by a program read from
//! the input. Panics only when an invariant breaks.
// Panicking on a broken invariant is what this is for.
#![allow(clippy::panic)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use isakmp_wire::{Message, MessageRepr, ParseConfig, TedMessage};

use crate::fuzzing::program::{FuzzRng, Input};
use ted::acl::Flow;
use ted::config::Config;
use ted::discovery::{
    Datagram, Discovery, DiscoveryConfig, Event, Transmit, TransmitKind, Trigger,
};
use ted::log::{DebugLog, Renderer, WallClock};

const DAPHNE: &str = "\
crypto isakmp policy 10
 authentication pre-share
crypto isakmp key abc123 address 0.0.0.0 0.0.0.0
crypto ipsec transform-set ted-transforms esp-des esp-md5-hmac
crypto dynamic-map ted-map 10
 set transform-set ted-transforms
 match address 101
crypto map tedtag 10 ipsec-isakmp dynamic ted-map discover
interface FastEthernet0/0
 ip address 11.11.11.1 255.255.255.0
 crypto map tedtag
interface FastEthernet0/1
 ip address 13.13.13.13 255.255.255.0
ip route 0.0.0.0 0.0.0.0 11.11.11.2
access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255
access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.0.0 0.0.255.255
";

const FRED: &str = "\
crypto ipsec transform-set ted-transforms esp-des esp-md5-hmac
crypto dynamic-map ted-map 10
 set transform-set ted-transforms
 match address 101
crypto map tedtag 10 ipsec-isakmp dynamic ted-map discover
interface FastEthernet0/0
 ip address 11.11.11.2 255.255.255.0
 crypto map tedtag
interface FastEthernet0/1
 ip address 12.12.12.12 255.255.255.0
ip route 0.0.0.0 0.0.0.0 11.11.11.1
access-list 101 deny ip host 12.12.12.99 any
access-list 101 permit ip 12.12.12.0 0.0.0.255 13.13.13.0 0.0.0.255
";

/// Small bounds, so that a short input reaches them.
fn settings() -> DiscoveryConfig {
    let mut config = DiscoveryConfig::default();
    config.max_pending = 4;
    config.max_hold_down = 3;
    config.max_queued_transmits = 8;
    config.max_queued_events = 16;
    config.hold_down = Duration::from_secs(5);
    config
}

/// Addresses the program picks from: the seed's, and hostile ones.
const ADDRESSES: [Ipv4Addr; 12] = [
    Ipv4Addr::new(13, 13, 13, 14),
    Ipv4Addr::new(12, 12, 12, 13),
    Ipv4Addr::new(11, 11, 11, 1),
    Ipv4Addr::new(11, 11, 11, 2),
    Ipv4Addr::new(12, 12, 12, 99),
    Ipv4Addr::new(13, 13, 13, 200),
    Ipv4Addr::new(12, 12, 7, 1),
    Ipv4Addr::new(127, 0, 0, 1),
    Ipv4Addr::new(224, 0, 0, 5),
    Ipv4Addr::new(255, 255, 255, 255),
    Ipv4Addr::new(11, 11, 11, 255),
    Ipv4Addr::new(198, 51, 100, 7),
];

struct Side {
    discovery: Discovery,
    config: Config,
    transmits: Vec<Transmit>,
    log: DebugLog,
    local: Vec<Ipv4Addr>,
}

impl Side {
    fn new(text: &'static str) -> Self {
        // Parsing the configuration dominated a run; do it once.
        static PARSED: std::sync::OnceLock<Vec<(&'static str, Config)>> =
            std::sync::OnceLock::new();
        let parsed = PARSED.get_or_init(|| {
            [DAPHNE, FRED]
                .into_iter()
                .map(|t| match ted::config::ios::parse(t) {
                    Ok(p) => (t, p.config),
                    Err(e) => panic!("fuzz configuration does not parse: {e}"),
                })
                .collect()
        });
        let Some(config) = parsed
            .iter()
            .find(|(t, _)| *t == text)
            .map(|(_, c)| c.clone())
        else {
            panic!("unknown fuzz configuration")
        };
        let discovery = match Discovery::new(settings()) {
            Ok(d) => d,
            Err(e) => panic!("fuzz settings refused: {e}"),
        };
        let local = config
            .interfaces()
            .iter()
            .flat_map(|i| i.addresses())
            .map(|a| a.address)
            .collect();
        Self {
            discovery,
            config,
            transmits: Vec::new(),
            log: DebugLog::new(64),
            local,
        }
    }

    /// Drains the outputs and checks them.
    fn drain(&mut self, now: Instant) {
        let limit = self.discovery.config().max_queued_transmits;
        let mut n = 0usize;
        while let Some(t) = self.discovery.poll_transmit() {
            n += 1;
            check_transmit(&t, &self.local);
            if self.transmits.len() < 16 {
                self.transmits.push(t);
            }
        }
        assert!(n <= limit, "{n} transmits queued, limit {limit}");
        let limit = self.discovery.config().max_queued_events;
        let mut n = 0usize;
        while let Some(e) = self.discovery.poll_event() {
            n += 1;
            check_event(&e);
            self.log.record_discovery(now, e);
        }
        assert!(n <= limit, "{n} events queued, limit {limit}");
        let d = &self.discovery;
        assert!(d.pending_count() <= d.config().max_pending);
        let s = d.stats();
        assert!(s.probes_answered <= s.probes_received);
        assert!(
            s.discoveries_completed.saturating_add(s.discoveries_failed) <= s.discoveries_started
        );
        assert!(s.probes_retransmitted <= s.probes_sent);
        if let Some(t) = d.poll_timeout() {
            // A pending discovery never waits longer than its schedule.
            assert!(t <= now + d.config().lifetime());
        }
    }
}

/// What the discovery sends must be a well-formed TED message of its kind.
fn check_transmit(t: &Transmit, local: &[Ipv4Addr]) {
    let config = ParseConfig::default();
    let message = match Message::new_checked(&t.payload[..]) {
        Ok(m) => m,
        Err(e) => panic!("sent an unreadable message: {e}"),
    };
    let repr = match MessageRepr::parse(&message, &config) {
        Ok(r) => r,
        Err(e) => panic!("sent an unparsable message: {e}"),
    };
    match (
        TedMessage::from_message(&repr, isakmp_wire::ExchangeType::TED),
        t.kind,
    ) {
        (Ok(TedMessage::Probe(_)), TransmitKind::TedProbe) => {}
        (Ok(TedMessage::Response(r)), TransmitKind::TedResponse) => {
            assert!(
                local.contains(t.source.ip()),
                "response from {} which is not ours",
                t.source
            );
            assert!(ted::discovery::policy::is_unicast(*t.destination.ip()));
            assert_ne!(r.responder_cookie, [0; 8]);
        }
        (other, kind) => panic!("sent {other:?} as a {kind:?}"),
    }
}

fn check_event(e: &Event) {
    if let Event::Discovered(d) = e {
        assert!(d.remote_proxy.contains(d.trigger.packet_destination));
        assert!(ted::discovery::policy::is_unicast(d.peer));
        assert!(ted::discovery::policy::proxy_covers(
            &d.trigger.remote_proxy,
            &d.remote_proxy
        ));
    }
}

/// What a run of [`discovery_run`] did, for corpus replay tests to check
/// that the seeds reach the interesting paths.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiscoveryRun {
    /// The initiator's counters.
    pub initiator: ted::discovery::Stats,
    /// The responder's counters.
    pub responder: ted::discovery::Stats,
}

/// The fuzz target: a program of operations on an initiator (Daphne) and a
/// responder (fred). Never panics unless an invariant breaks: outputs are
/// well-formed TED messages, responses leave from the responder's own
/// address towards a unicast address, queues and pending discoveries stay
/// within their bounds, a discovery's remote proxy holds the probed host
/// and lies inside local policy, and the log renders every event.
pub fn discovery(data: &[u8]) {
    discovery_run(data);
}

/// [`discovery`], returning the counters of both sides.
pub fn discovery_run(data: &[u8]) -> DiscoveryRun {
    let mut input = Input::new(data, &ADDRESSES);
    let mut rng = FuzzRng::new(input.seed());
    let origin = Instant::now();
    let mut now = origin;
    let mut daphne = Side::new(DAPHNE);
    let mut fred = Side::new(FRED);
    let mut steps = 0u32;
    while let Some(op) = input.byte() {
        steps += 1;
        if steps > 512 {
            break;
        }
        match op % 9 {
            // A plaintext packet needs a peer.
            0 => {
                let (Some(src), Some(dst)) = (input.address(), input.address()) else {
                    break;
                };
                let flow = Flow::icmp(src, dst, 8, 0);
                if let Ok(t) = Trigger::from_config(&daphne.config, "tedtag", &flow) {
                    daphne.discovery.handle_trigger(now, &mut rng, t);
                }
            }
            // Arbitrary bytes to the responder or the initiator.
            op @ (1 | 2) => {
                let (Some(src), Some(dst), Some(len)) =
                    (input.address(), input.address(), input.byte())
                else {
                    break;
                };
                let payload = input.bytes(usize::from(len)).to_vec();
                let side = if op == 1 { &mut fred } else { &mut daphne };
                let datagram = Datagram::new(
                    SocketAddrV4::new(src, 500),
                    SocketAddrV4::new(dst, 500),
                    &payload,
                );
                side.discovery
                    .handle_datagram(now, &mut rng, &side.config, datagram);
            }
            // Time passes.
            3 => {
                let Some(ms) = input.u16() else { break };
                now += Duration::from_millis(u64::from(ms) * 16);
                daphne.discovery.handle_timeout(now);
                fred.discovery.handle_timeout(now);
            }
            // Carry what was sent, possibly corrupted at one byte.
            op @ (4 | 5) => {
                let (Some(index), Some(at), Some(xor)) = (input.byte(), input.u16(), input.byte())
                else {
                    break;
                };
                let (from, to) = if op == 4 {
                    (&mut daphne, &mut fred)
                } else {
                    (&mut fred, &mut daphne)
                };
                if from.transmits.is_empty() {
                    continue;
                }
                let i = usize::from(index) % from.transmits.len();
                let t = from.transmits.swap_remove(i);
                let mut payload = t.payload;
                if let Some(b) = payload.get_mut(usize::from(at)) {
                    *b ^= xor;
                }
                let datagram = Datagram::new(t.source, t.destination, &payload);
                to.discovery
                    .handle_datagram(now, &mut rng, &to.config, datagram);
            }
            // The next timer fires.
            6 => {
                if let Some(t) = daphne.discovery.poll_timeout() {
                    now = now.max(t);
                    daphne.discovery.handle_timeout(now);
                }
            }
            // The RNG gives zero cookies for a while.
            7 => {
                rng.zero_draws(input.byte().unwrap_or(0) % 8);
            }
            // Outputs are drained (and checked).
            _ => {
                daphne.drain(now);
                fred.drain(now);
            }
        }
    }
    daphne.drain(now);
    fred.drain(now);
    let renderer = Renderer::new(WallClock::IOS_DEFAULT, origin);
    for side in [&daphne, &fred] {
        let text = renderer.render_all(side.log.records());
        assert!(text.lines().all(|l| !l.is_empty()));
    }
    DiscoveryRun {
        initiator: daphne.discovery.stats().clone(),
        responder: fred.discovery.stats().clone(),
    }
}
