//! A router that forwards IPv4 by its configuration's routes and runs
//! Tunnel Endpoint Discovery, and nothing else: no IKE, no ESP. It is what
//! the seed's routers do up to the moment Main Mode would start, and a
//! plain router when its configuration has no crypto map.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use rand_core::CryptoRng;

use super::egress::{Egress, EgressCounters, is_own_address};
use super::{Node, Output};
use esp::ip::{self as packet, Ipv4Packet, Transport};
use ted::acl::Flow;
use ted::config::{Config, InterfaceName};
use ted::discovery::{
    ConfigError, Datagram, Discovered, Discovery, DiscoveryConfig, Disposition, Event, Trigger,
};
use ted::log::{DebugLog, LogEvent, Record, Role};

/// What a [`DiscoveryRouter`] counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RouterCounters {
    /// Packets received.
    pub received: u64,
    /// Packets forwarded.
    pub forwarded: u64,
    /// Packets the router originated (probes, responses, echo replies).
    pub originated: u64,
    /// Plaintext packets a crypto map protects, dropped while a discovery
    /// runs or starts.
    pub dropped_discovering: u64,
    /// Plaintext packets a crypto map protects towards a discovered peer,
    /// dropped because this router has no IKE to set up the SA.
    pub dropped_awaiting_sa: u64,
    /// Plaintext packets a static crypto map entry protects (no IKE here).
    pub dropped_no_sa: u64,
    /// Cleartext arriving on a crypto map interface that the map says must
    /// come encrypted.
    pub dropped_cleartext: u64,
    /// Packets with no route.
    pub dropped_no_route: u64,
    /// Packets whose TTL ran out.
    pub dropped_ttl: u64,
    /// Packets that did not parse.
    pub dropped_malformed: u64,
    /// IKE datagrams (not TED) to this router: nothing here handles them.
    pub dropped_ike: u64,
    /// Other packets to this router that nothing answers.
    pub dropped_local: u64,
}

/// A router running TED over plain forwarding (see the module docs).
///
/// Inside (an interface without a crypto map) to outside: a packet leaving
/// through an interface with a crypto map is classified; if an entry with
/// `discover` protects it, the packet is dropped and a discovery triggered
/// (or counted against the pending one); once the peer is found the crypto
/// map entry is derived from the template (`tedtag 11`) and further packets
/// for the discovered proxies are dropped, waiting for an SA that only IKE
/// could bring. On an interface with a crypto map, a UDP datagram for port
/// 500 addressed to this router or to a host behind it is offered to the
/// discovery first (that is how a router on the path intercepts a probe).
#[derive(Debug)]
pub struct DiscoveryRouter<R> {
    config: Config,
    discovery: Discovery,
    rng: R,
    log: DebugLog,
    discovered: Vec<Discovered>,
    derive_errors: Vec<String>,
    egress: Egress,
    counters: RouterCounters,
}

impl<R: CryptoRng> DiscoveryRouter<R> {
    /// A router with this configuration, TED settings and RNG (for
    /// cookies).
    pub fn new(config: Config, settings: DiscoveryConfig, rng: R) -> Result<Self, ConfigError> {
        Ok(Self {
            config,
            discovery: Discovery::new(settings)?,
            rng,
            log: DebugLog::default(),
            discovered: Vec::new(),
            derive_errors: Vec::new(),
            egress: Egress::new(),
            counters: RouterCounters::default(),
        })
    }

    /// The configuration (with the entries derived at run time).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The discovery.
    pub fn discovery(&self) -> &Discovery {
        &self.discovery
    }

    /// The debug log.
    pub fn log(&self) -> &DebugLog {
        &self.log
    }

    /// The discoveries that finished, in order.
    pub fn discovered(&self) -> &[Discovered] {
        &self.discovered
    }

    /// Why deriving a crypto map entry failed, if it ever did.
    pub fn derive_errors(&self) -> &[String] {
        &self.derive_errors
    }

    /// The counters.
    pub fn counters(&self) -> &RouterCounters {
        &self.counters
    }

    fn crypto_map_of(&self, interface: &InterfaceName) -> Option<String> {
        self.config
            .interface(interface.as_str())
            .and_then(|i| i.crypto_map.clone())
    }

    /// Sends what the discovery queued and records its events.
    fn drain_discovery(&mut self, now: Instant) {
        while let Some(t) = self.discovery.poll_transmit() {
            self.egress.originate_udp(
                &self.config,
                &mut self.counters,
                t.source,
                t.destination,
                &t.payload,
            );
        }
        while let Some(event) = self.discovery.poll_event() {
            let found = match &event {
                Event::Discovered(d) => Some((**d).clone()),
                _ => None,
            };
            self.log.record_discovery(now, event);
            if let Some(d) = found {
                // No IKE follows here, so the TED SA goes at once.
                let conn_id = self.log.discovery_conn_id(d.id);
                self.log.push(Record {
                    at: now,
                    event: LogEvent::DiscoverySaDeleted {
                        conn_id,
                        role: Role::Initiator,
                        peer: d.trigger.packet_destination,
                    },
                });
                if let Some(template_seq) = d.trigger.template_seq
                    && let Err(e) = self.config.derive_entry(
                        &d.trigger.map,
                        d.trigger.map_seq,
                        template_seq,
                        d.peer,
                    )
                {
                    self.derive_errors.push(e.to_string());
                }
                self.discovered.push(d);
            }
        }
    }

    /// A packet leaving through an interface with crypto map `map`: whether
    /// to send it in the clear.
    fn outbound_policy(&mut self, now: Instant, map: &str, flow: &Flow) -> bool {
        let Some(hit) = self.config.classify(map, flow) else {
            return true;
        };
        if !hit.discover {
            self.counters.dropped_no_sa = self.counters.dropped_no_sa.saturating_add(1);
            return false;
        }
        let covered = self.discovered.iter().any(|d| {
            d.trigger.map == map
                && d.local_proxy.contains(flow.source())
                && d.remote_proxy.contains(flow.destination())
        });
        if covered {
            self.counters.dropped_awaiting_sa = self.counters.dropped_awaiting_sa.saturating_add(1);
            return false;
        }
        self.counters.dropped_discovering = self.counters.dropped_discovering.saturating_add(1);
        if let Ok(trigger) = Trigger::from_config(&self.config, map, flow) {
            self.discovery.handle_trigger(now, &mut self.rng, trigger);
        }
        false
    }

    fn forward(&mut self, now: Instant, mut packet: Vec<u8>, destination: Ipv4Addr) {
        let Some(route) = self.config.route(destination) else {
            self.counters.dropped_no_route = self.counters.dropped_no_route.saturating_add(1);
            return;
        };
        if let Some(map) = self.crypto_map_of(&route.interface)
            && let Ok(flow) = Flow::from_ipv4_packet(&packet)
            && !self.outbound_policy(now, &map, &flow)
        {
            return;
        }
        if packet::decrement_ttl(&mut packet).is_err() {
            self.counters.dropped_ttl = self.counters.dropped_ttl.saturating_add(1);
            return;
        }
        self.counters.forwarded = self.counters.forwarded.saturating_add(1);
        self.egress.send(route, packet);
    }

    fn handle(&mut self, now: Instant, interface: &InterfaceName, packet: Vec<u8>) {
        let Ok(ip) = Ipv4Packet::parse(&packet) else {
            self.counters.dropped_malformed = self.counters.dropped_malformed.saturating_add(1);
            return;
        };
        let transport = ip.transport().ok();
        let ingress_map = self.crypto_map_of(interface);
        let ike_port = self.discovery.config().ike_port;
        let destination = ip.header.destination;
        let to_me = is_own_address(&self.config, destination);

        if let Some(Transport::Udp {
            source_port,
            destination_port,
            payload,
        }) = transport
            && destination_port == ike_port
            && (to_me || ingress_map.is_some())
        {
            let mut datagram = Datagram::new(
                SocketAddrV4::new(ip.header.source, source_port),
                SocketAddrV4::new(destination, destination_port),
                payload,
            );
            if let Some(map) = ingress_map.as_deref() {
                datagram = datagram.with_crypto_map(map);
            }
            let disposition =
                self.discovery
                    .handle_datagram(now, &mut self.rng, &self.config, datagram);
            if disposition == Disposition::Consumed {
                return;
            }
            if to_me {
                self.counters.dropped_ike = self.counters.dropped_ike.saturating_add(1);
                return;
            }
        }

        if to_me {
            match self.egress.echo_reply(&ip, transport) {
                Some(Ok(reply)) => {
                    self.egress.originate(
                        &self.config,
                        &mut self.counters,
                        reply,
                        ip.header.source,
                    );
                }
                Some(Err(_)) => {}
                None => {
                    self.counters.dropped_local = self.counters.dropped_local.saturating_add(1);
                }
            }
            return;
        }

        // Cleartext that the ingress crypto map protects must have come
        // encrypted: drop it (IOS does the same for a mirrored ACL hit).
        if let Some(map) = ingress_map.as_deref()
            && let Ok(flow) = Flow::from_ipv4_packet(&packet)
            && self.config.classify(map, &flow.reversed()).is_some()
        {
            self.counters.dropped_cleartext = self.counters.dropped_cleartext.saturating_add(1);
            return;
        }
        self.forward(now, packet, destination);
    }
}

impl EgressCounters for RouterCounters {
    fn count_no_route(&mut self) {
        self.dropped_no_route = self.dropped_no_route.saturating_add(1);
    }

    fn count_originated(&mut self) {
        self.originated = self.originated.saturating_add(1);
    }
}

impl<R: CryptoRng + 'static> Node for DiscoveryRouter<R> {
    fn handle_packet(&mut self, now: Instant, interface: &InterfaceName, packet: Vec<u8>) {
        self.counters.received = self.counters.received.saturating_add(1);
        self.handle(now, interface, packet);
        self.drain_discovery(now);
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.egress.poll()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.discovery.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.discovery.handle_timeout(now);
        self.drain_discovery(now);
    }
}
