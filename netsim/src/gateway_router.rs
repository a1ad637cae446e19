//! A [`Gateway`] as a router on the simulated network ([`crate`]):
//! IPv4 forwarding by the configuration's routes, with the gateway between
//! the protected side and the outside interface. This is the driver loop
//! of the module documentation, written once for the tests and the seed
//! demo; a real deployment writes the same loop over its sockets.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use crate::egress::{Egress, EgressCounters, is_own_address};
use crate::{Node, Output};
use esp::ip::{self as packet, Ipv4Packet, Transport};
use ted::config::InterfaceName;
use ted::gateway::{Datagram, Esp, Event, Gateway, NatT, Outside, Plaintext};

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
    egress: Egress,
    events: Vec<Event>,
    counters: GatewayRouterCounters,
}

impl GatewayRouter {
    /// A router around `gateway`; its routes and interface addresses come
    /// from the gateway's configuration.
    pub fn new(gateway: Gateway) -> Self {
        Self {
            gateway,
            egress: Egress::new(),
            events: Vec::new(),
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
        is_own_address(self.gateway.config(), address)
    }

    /// Sends the gateway's datagrams and keeps its events.
    fn drain(&mut self) {
        while let Some(t) = self.gateway.poll_transmit() {
            self.egress.originate_udp(
                self.gateway.config(),
                &mut self.counters,
                t.source,
                t.destination,
                &t.payload,
            );
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
        if packet::decrement_ttl(&mut packet).is_err() {
            self.counters.dropped_ttl = self.counters.dropped_ttl.saturating_add(1);
            return;
        }
        if self.send_through_crypto(now, packet, destination) {
            self.counters.forwarded = self.counters.forwarded.saturating_add(1);
        }
    }

    /// Sends a packet by its route; one that leaves by the outside
    /// interface goes through the gateway's crypto map first, as IOS
    /// applies a crypto map to every packet leaving its interface, the
    /// router's own included (IKE and TED aside). Whether it went out in
    /// the clear (ESP is counted apart).
    fn send_through_crypto(
        &mut self,
        now: Instant,
        packet: Vec<u8>,
        destination: Ipv4Addr,
    ) -> bool {
        let Some(route) = self.gateway.config().route(destination) else {
            self.counters.dropped_no_route = self.counters.dropped_no_route.saturating_add(1);
            return false;
        };
        if route.interface != *self.gateway.outside_interface() {
            self.egress.send(route, packet);
            return true;
        }
        let len = packet.len();
        let mut buf = vec![0u8; Gateway::HEADROOM + len + Gateway::TAILROOM];
        let inner = Gateway::HEADROOM..Gateway::HEADROOM + len;
        if let Some(slot) = buf.get_mut(inner.clone()) {
            slot.copy_from_slice(&packet);
        }
        match self.gateway.handle_plaintext(now, &mut buf, inner) {
            Plaintext::Bypass => {
                self.egress.send(route, packet);
                true
            }
            Plaintext::Encrypted {
                packet: range,
                peer,
                ..
            } => {
                let esp = buf.get(range).map(<[u8]>::to_vec).unwrap_or_default();
                if self
                    .egress
                    .route_out(self.gateway.config(), &mut self.counters, esp, peer)
                {
                    self.counters.encrypted = self.counters.encrypted.saturating_add(1);
                }
                false
            }
            _ => {
                self.drop_by_gateway();
                false
            }
        }
    }

    fn answer_ping(&mut self, now: Instant, ip: &Ipv4Packet<'_>, transport: Option<Transport<'_>>) {
        match self.egress.echo_reply(ip, transport) {
            Some(Ok(reply)) => {
                if self.send_through_crypto(now, reply, ip.header.source) {
                    self.counters.count_originated();
                }
            }
            Some(Err(_)) => {}
            None => self.counters.dropped_local = self.counters.dropped_local.saturating_add(1),
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
                self.answer_ping(now, &ip, transport);
            } else {
                self.forward(now, bytes, destination);
            }
            return;
        }
        if ip.header.protocol == packet::protocol::ESP && destination == self.gateway.address() {
            let verdict = self.gateway.handle_esp(now, &mut bytes);
            self.decrypted(now, &bytes, verdict);
            return;
        }
        // UDP to the NAT-T port: IKE after the non-ESP marker, keepalives,
        // UDP-encapsulated ESP (RFC 3948).
        let nat_t_port = self.gateway.options().ike.nat_t.port;
        if let Some(Transport::Udp {
            source_port,
            destination_port,
            payload,
        }) = transport
            && destination_port == nat_t_port
            && destination == self.gateway.address()
        {
            let local = SocketAddrV4::new(destination, nat_t_port);
            let remote = SocketAddrV4::new(ip.header.source, source_port);
            let start = ip.header_len + packet::UDP_HEADER_LEN;
            let range = start..start + payload.len();
            match self
                .gateway
                .handle_nat_t(now, local, remote, &mut bytes, range)
            {
                NatT::Esp(verdict) => self.decrypted(now, &bytes, verdict),
                NatT::Malformed(_) => self.drop_by_gateway(),
                _ => {}
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
        // Clear text the crypto map says must come encrypted is dropped
        // whoever it is for, this router included.
        match self.gateway.handle_outside_plaintext(now, &bytes) {
            Outside::Forward if to_me => self.answer_ping(now, &ip, transport),
            Outside::Forward => self.forward(now, bytes, destination),
            _ => self.drop_by_gateway(),
        }
    }
}

impl GatewayRouter {
    /// The inner packet of a decapsulation, to this router or onwards.
    fn decrypted(&mut self, now: Instant, bytes: &[u8], verdict: Esp) {
        match verdict {
            Esp::Decrypted { packet: range, .. } => {
                let inner = bytes.get(range).map(<[u8]>::to_vec).unwrap_or_default();
                match Ipv4Packet::parse(&inner) {
                    Ok(p) => {
                        self.counters.decrypted = self.counters.decrypted.saturating_add(1);
                        let to = p.header.destination;
                        if self.is_own_address(to) {
                            self.answer_ping(now, &p, p.transport().ok());
                        } else {
                            self.forward(now, inner, to);
                        }
                    }
                    Err(_) => {
                        self.counters.dropped_malformed =
                            self.counters.dropped_malformed.saturating_add(1);
                    }
                }
            }
            _ => self.drop_by_gateway(),
        }
    }
}

impl EgressCounters for GatewayRouterCounters {
    fn count_no_route(&mut self) {
        self.dropped_no_route = self.dropped_no_route.saturating_add(1);
    }

    fn count_originated(&mut self) {
        self.originated = self.originated.saturating_add(1);
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
        self.egress.poll()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.gateway.poll_timeout()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.gateway.handle_timeout(now);
        self.drain();
    }
}
