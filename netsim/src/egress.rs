//! The output side the simulated routers share ([`DiscoveryRouter`] and
//! the gateway's `GatewayRouter`): the queue of [`Output`]s, the IPv4
//! identification counter, routing a packet by the configuration's routes,
//! and the packets a router originates itself (its UDP datagrams, IKE and
//! TED, and echo replies), all with one TTL and one identification
//! sequence, so that a replay produces the same bytes.
//!
//! [`DiscoveryRouter`]: super::DiscoveryRouter

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};

use super::Output;
use esp::ip::{self as packet, Ipv4Header, Ipv4Packet, PacketError, Transport, icmp_type};
use ted::config::{Config, RouteLookup};

/// TTL of packets a router originates (IOS uses 255 for its own IKE
/// traffic).
const OWN_TTL: u8 = 255;

/// The counters of a router that [`Egress`] keeps up to date.
pub(crate) trait EgressCounters {
    /// A packet had no route.
    fn count_no_route(&mut self);
    /// A packet the router originated was sent.
    fn count_originated(&mut self);
}

/// Whether `address` is configured on an interface of `config` that is
/// not shut down.
pub(crate) fn is_own_address(config: &Config, address: Ipv4Addr) -> bool {
    config
        .interfaces()
        .iter()
        .filter(|i| !i.shutdown)
        .flat_map(|i| i.addresses())
        .any(|a| a.address == address)
}

/// A router's outputs waiting for the network, and its identification
/// counter.
#[derive(Debug)]
pub(crate) struct Egress {
    outputs: VecDeque<Output>,
    next_ip_id: u16,
}

impl Egress {
    pub(crate) fn new() -> Self {
        Self {
            outputs: VecDeque::new(),
            next_ip_id: 1,
        }
    }

    /// The next output, oldest first.
    pub(crate) fn poll(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// Queues `packet` on a route already looked up.
    pub(crate) fn send(&mut self, route: RouteLookup, packet: Vec<u8>) {
        self.outputs.push_back(Output {
            interface: route.interface,
            next_hop: route.next_hop,
            packet,
        });
    }

    /// Queues `packet` by `config`'s route to `destination`; whether there
    /// was one (a packet without is counted).
    pub(crate) fn route_out(
        &mut self,
        config: &Config,
        counters: &mut impl EgressCounters,
        packet: Vec<u8>,
        destination: Ipv4Addr,
    ) -> bool {
        match config.route(destination) {
            Some(route) => {
                self.send(route, packet);
                true
            }
            None => {
                counters.count_no_route();
                false
            }
        }
    }

    /// Sends a packet the router built itself, by its route.
    pub(crate) fn originate(
        &mut self,
        config: &Config,
        counters: &mut impl EgressCounters,
        packet: Vec<u8>,
        destination: Ipv4Addr,
    ) {
        if self.route_out(config, counters, packet, destination) {
            counters.count_originated();
        }
    }

    /// Sends a UDP datagram of the router's own (IKE or TED), by its
    /// route; one too long for IPv4 is not sent.
    pub(crate) fn originate_udp(
        &mut self,
        config: &Config,
        counters: &mut impl EgressCounters,
        source: SocketAddrV4,
        destination: SocketAddrV4,
        payload: &[u8],
    ) {
        let header = self.own_header(*source.ip(), *destination.ip(), packet::protocol::UDP);
        if let Ok(p) = packet::udp(header, source.port(), destination.port(), payload) {
            self.originate(config, counters, p, *destination.ip());
        }
    }

    /// The echo reply to `ip` if it is an ICMP echo request (`None` if it
    /// is not; an identification is used only when it is).
    pub(crate) fn echo_reply(
        &mut self,
        ip: &Ipv4Packet<'_>,
        transport: Option<Transport<'_>>,
    ) -> Option<Result<Vec<u8>, PacketError>> {
        let Some(Transport::Icmp {
            icmp_type: icmp_type::ECHO_REQUEST,
            code: 0,
            rest: [a, b, c, d],
            data,
        }) = transport
        else {
            return None;
        };
        let header = self.own_header(ip.header.destination, ip.header.source, 0);
        Some(packet::icmp_echo(
            header,
            true,
            u16::from_be_bytes([a, b]),
            u16::from_be_bytes([c, d]),
            data,
        ))
    }

    /// The header of a packet the router originates.
    fn own_header(&mut self, source: Ipv4Addr, destination: Ipv4Addr, protocol: u8) -> Ipv4Header {
        let id = self.next_ip_id;
        self.next_ip_id = self.next_ip_id.wrapping_add(1);
        Ipv4Header::new(source, destination, protocol)
            .with_ttl(OWN_TTL)
            .with_identification(id)
    }
}
