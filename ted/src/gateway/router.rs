//! A [`Gateway`] as a router on the simulated network ([`crate::sim`]):
//! IPv4 forwarding by the configuration's routes, with the gateway between
//! the protected side and the outside interface. This is the driver loop
//! of the module documentation, written once for the tests and the seed
//! demo; a real deployment writes the same loop over its sockets.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use super::{Datagram, Esp, Event, Gateway, Outside, Plaintext};
use crate::config::InterfaceName;
use crate::sim::packet::{self, Ipv4Header, Ipv4Packet, Transport, icmp_type};
use crate::sim::{Node, Output};

/// TTL of packets the router originates (IOS uses 255 for its own IKE
/// traffic).
const OWN_TTL: u8 = 255;

/// How many gateway events a router keeps for inspection.
const MAX_EVENTS: usize = 10_000;

/// What a [`GatewayRouter`] counted (besides the gateway's own counters).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GatewayRouterCounters {
    /// Packets received.
    pub received: u64,
    /// Packets forwarded in the clear.
    pub forwarded: u64,
    /// ESP packets sent.
    pub encrypted: u64,
    /// Inner packets of ESP forwarded to the protected side.
    pub decrypted: u64,
    /// Packets the router originated (IKE, TED, echo replies).
    pub originated: u64,
    /// Packets the gateway dropped (plaintext, ESP or outside cleartext).
    pub dropped_by_gateway: u64,
    /// Packets with no route.
    pub dropped_no_route: u64,
    /// Packets whose TTL ran out.
    pub dropped_ttl: u64,
    /// Packets that did not parse.
    pub dropped_malformed: u64,
    /// Other packets to this router that nothing answers.
    pub dropped_local: u64,
}

/// A router running a [`Gateway`] on its crypto map interface.
#[derive(Debug)]
pub struct GatewayRouter {
    gateway: Gateway,
    outputs: VecDeque<Output>,
    events: Vec<Event>,
    next_ip_id: u16,
    counters: GatewayRouterCounters,
}

impl GatewayRouter {
    /// A router around `gateway`; its routes and interface addresses come
    /// from the gateway's configuration.
    pub fn new(gateway: Gateway) -> Self {
        Self {
            gateway,
            outputs: VecDeque::new(),
            events: Vec::new(),
            next_ip_id: 1,
            counters: GatewayRouterCounters::default(),
        }
    }

    /// The gateway.
    pub fn gateway(&self) -> &Gateway {
        &self.gateway
    }

    /// The gateway, to give it commands (drain with
    /// [`Node::poll_output`] afterwards, as the network does).
    pub fn gateway_mut(&mut self) -> &mut Gateway {
        &mut self.gateway
    }

    /// The gateway's events so far (the first 10000).
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// The counters.
    pub fn counters(&self) -> &GatewayRouterCounters {
        &self.counters
    }

    fn is_own_address(&self, address: Ipv4Addr) -> bool {
        self.gateway
            .config()
            .interfaces()
            .iter()
            .filter(|i| !i.shutdown)
            .flat_map(|i| i.addresses())
            .any(|a| a.address == address)
    }

    fn next_id(&mut self) -> u16 {
        let id = self.next_ip_id;
        self.next_ip_id = self.next_ip_id.wrapping_add(1);
        id
    }

    fn route_out(&mut self, packet: Vec<u8>, destination: Ipv4Addr) -> bool {
        match self.gateway.config().route(destination) {
            Some(route) => {
                self.outputs.push_back(Output {
                    interface: route.interface,
                    next_hop: route.next_hop,
                    packet,
                });
                true
            }
            None => {
                self.counters.dropped_no_route = self.counters.dropped_no_route.saturating_add(1);
                false
            }
        }
    }

    fn originate(&mut self, packet: Vec<u8>, destination: Ipv4Addr) {
        if self.route_out(packet, destination) {
            self.counters.originated = self.counters.originated.saturating_add(1);
        }
    }

    /// Sends the gateway's datagrams and keeps its events.
    fn drain(&mut self) {
        while let Some(t) = self.gateway.poll_transmit() {
            let header =
                Ipv4Header::new(*t.source.ip(), *t.destination.ip(), packet::protocol::UDP)
                    .with_ttl(OWN_TTL)
                    .with_identification(self.next_id());
            if let Ok(p) = packet::udp(header, t.source.port(), t.destination.port(), &t.payload) {
                self.originate(p, *t.destination.ip());
            }
        }
        while let Some(e) = self.gateway.poll_event() {
            if self.events.len() < MAX_EVENTS {
                self.events.push(e);
            }
        }
    }

    fn drop_by_gateway(&mut self) {
        self.counters.dropped_by_gateway = self.counters.dropped_by_gateway.saturating_add(1);
    }

    /// Forwards a transit packet: through the gateway when it leaves by
    /// the outside interface.
    fn forward(&mut self, now: Instant, mut packet: Vec<u8>, destination: Ipv4Addr) {
        let Some(route) = self.gateway.config().route(destination) else {
            self.counters.dropped_no_route = self.counters.dropped_no_route.saturating_add(1);
            return;
        };
        if packet::decrement_ttl(&mut packet).is_err() {
            self.counters.dropped_ttl = self.counters.dropped_ttl.saturating_add(1);
            return;
        }
        if route.interface != *self.gateway.outside_interface() {
            self.counters.forwarded = self.counters.forwarded.saturating_add(1);
            self.outputs.push_back(Output {
                interface: route.interface,
                next_hop: route.next_hop,
                packet,
            });
            return;
        }
        let len = packet.len();
        let mut buf = vec![0u8; Gateway::HEADROOM + len + Gateway::TAILROOM];
        let inner = Gateway::HEADROOM..Gateway::HEADROOM + len;
        if let Some(slot) = buf.get_mut(inner.clone()) {
            slot.copy_from_slice(&packet);
        }
        match self.gateway.handle_plaintext(now, &mut buf, inner) {
            Plaintext::Bypass => {
                self.counters.forwarded = self.counters.forwarded.saturating_add(1);
                self.outputs.push_back(Output {
                    interface: route.interface,
                    next_hop: route.next_hop,
                    packet,
                });
            }
            Plaintext::Encrypted {
                packet: range,
                peer,
                ..
            } => {
                let esp = buf.get(range).map(<[u8]>::to_vec).unwrap_or_default();
                if self.route_out(esp, peer) {
                    self.counters.encrypted = self.counters.encrypted.saturating_add(1);
                }
            }
            _ => self.drop_by_gateway(),
        }
    }

    fn answer_ping(&mut self, ip: &Ipv4Packet<'_>, transport: Option<Transport<'_>>) {
        match transport {
            Some(Transport::Icmp {
                icmp_type: icmp_type::ECHO_REQUEST,
                code: 0,
                rest: [a, b, c, d],
                data,
            }) => {
                let header = Ipv4Header::new(ip.header.destination, ip.header.source, 0)
                    .with_ttl(OWN_TTL)
                    .with_identification(self.next_id());
                if let Ok(reply) = packet::icmp_echo(
                    header,
                    true,
                    u16::from_be_bytes([a, b]),
                    u16::from_be_bytes([c, d]),
                    data,
                ) {
                    self.originate(reply, ip.header.source);
                }
            }
            _ => self.counters.dropped_local = self.counters.dropped_local.saturating_add(1),
        }
    }

    fn handle(&mut self, now: Instant, interface: &InterfaceName, mut bytes: Vec<u8>) {
        let Ok(ip) = Ipv4Packet::parse(&bytes) else {
            self.counters.dropped_malformed = self.counters.dropped_malformed.saturating_add(1);
            return;
        };
        let transport = ip.transport().ok();
        let destination = ip.header.destination;
        let to_me = self.is_own_address(destination);
        let outside = *interface == *self.gateway.outside_interface();
        if !outside {
            if to_me {
                self.answer_ping(&ip, transport);
            } else {
                self.forward(now, bytes, destination);
            }
            return;
        }
        if ip.header.protocol == packet::protocol::ESP && destination == self.gateway.address() {
            match self.gateway.handle_esp(now, &mut bytes) {
                Esp::Decrypted { packet: range, .. } => {
                    let inner = bytes.get(range).map(<[u8]>::to_vec).unwrap_or_default();
                    match Ipv4Packet::parse(&inner) {
                        Ok(p) => {
                            self.counters.decrypted = self.counters.decrypted.saturating_add(1);
                            let to = p.header.destination;
                            self.forward(now, inner, to);
                        }
                        Err(_) => {
                            self.counters.dropped_malformed =
                                self.counters.dropped_malformed.saturating_add(1);
                        }
                    }
                }
                _ => self.drop_by_gateway(),
            }
            return;
        }
        if let Some(Transport::Udp {
            source_port,
            destination_port: isakmp_wire::ted::IKE_PORT,
            payload,
        }) = transport
        {
            let local = SocketAddrV4::new(destination, isakmp_wire::ted::IKE_PORT);
            let remote = SocketAddrV4::new(ip.header.source, source_port);
            if self.gateway.handle_datagram(now, local, remote, payload) == Datagram::Consumed {
                return;
            }
        }
        if to_me {
            self.answer_ping(&ip, transport);
            return;
        }
        match self.gateway.handle_outside_plaintext(now, &bytes) {
            Outside::Forward => self.forward(now, bytes, destination),
            _ => self.drop_by_gateway(),
        }
    }
}

impl Node for GatewayRouter {
    fn handle_packet(&mut self, now: Instant, interface: &InterfaceName, packet: Vec<u8>) {
        self.counters.received = self.counters.received.saturating_add(1);
        self.handle(now, interface, packet);
        self.drain();
    }

    fn poll_output(&mut self) -> Option<Output> {
        // Commands given through `gateway_mut` queue datagrams too.
        self.drain();
        self.outputs.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.gateway.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.gateway.handle_timeout(now);
        self.drain();
    }
}
