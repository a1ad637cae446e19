//! What the NAT tests share: a UDP echo node, NAT topologies (one box, two
//! in a row), and checked readers of the packets (with `esp::ip`, which
//! verifies the IPv4 header checksum and the UDP or ICMP checksum).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use esp::ip::{self as packet, Ipv4Header, Ipv4Packet, Transport, icmp_type};
use netsim::{Host, LinkConfig, LinkId, NatBox, NatConfig, Network, Node, NodeId, Output};
use ted::config::InterfaceName;

/// A datagram a [`UdpEcho`] received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Got {
    pub at: Instant,
    pub from: SocketAddrV4,
    pub to: SocketAddrV4,
    pub payload: Vec<u8>,
    /// Its UDP checksum field was zero.
    pub checksum_zero: bool,
}

/// A node with one interface that records the UDP datagrams addressed to
/// it and (when `echo` is on) sends each back, ports swapped, with a
/// checksum of zero when the datagram had one; it answers pings too.
#[derive(Debug)]
pub struct UdpEcho {
    address: Ipv4Addr,
    prefix: u8,
    gateway: Option<Ipv4Addr>,
    pub echo: bool,
    pub got: Vec<Got>,
    pub others: u64,
    outputs: VecDeque<Output>,
}

impl UdpEcho {
    pub const INTERFACE: &'static str = "eth0";

    pub fn new(address: Ipv4Addr, prefix: u8, gateway: Option<Ipv4Addr>) -> Self {
        Self {
            address,
            prefix,
            gateway,
            echo: true,
            got: Vec::new(),
            others: 0,
            outputs: VecDeque::new(),
        }
    }

    pub fn silent(mut self) -> Self {
        self.echo = false;
        self
    }

    fn next_hop(&self, destination: Ipv4Addr) -> Option<Ipv4Addr> {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(self.prefix))
            .unwrap_or(0);
        if u32::from(destination) & mask == u32::from(self.address) & mask {
            Some(destination)
        } else {
            self.gateway
        }
    }

    /// Sends any packet, routed by its destination.
    pub fn send_raw(&mut self, packet: Vec<u8>) {
        let destination = Ipv4Packet::parse(&packet)
            .map(|p| p.header.destination)
            .unwrap_or(Ipv4Addr::BROADCAST);
        if let Some(next_hop) = self.next_hop(destination) {
            self.outputs.push_back(Output {
                interface: InterfaceName::new(Self::INTERFACE),
                next_hop,
                packet,
            });
        }
    }

    /// Sends a UDP datagram from `source_port`.
    pub fn send_udp(&mut self, to: SocketAddrV4, source_port: u16, payload: &[u8]) {
        let header = Ipv4Header::new(self.address, *to.ip(), 0);
        self.send_raw(packet::udp(header, source_port, to.port(), payload).unwrap());
    }
}

impl Node for UdpEcho {
    fn handle_packet(&mut self, now: Instant, _interface: &InterfaceName, bytes: Vec<u8>) {
        let Ok(ip) = Ipv4Packet::parse(&bytes) else {
            self.others += 1;
            return;
        };
        if ip.header.destination != self.address {
            self.others += 1;
            return;
        }
        match ip.transport() {
            Ok(Transport::Udp {
                source_port,
                destination_port,
                payload,
            }) => {
                let from = SocketAddrV4::new(ip.header.source, source_port);
                let to = SocketAddrV4::new(ip.header.destination, destination_port);
                let checksum_zero = ip.payload[6..8] == [0, 0];
                self.got.push(Got {
                    at: now,
                    from,
                    to,
                    payload: payload.to_vec(),
                    checksum_zero,
                });
                if self.echo {
                    let header = Ipv4Header::new(self.address, *from.ip(), 0);
                    let mut reply =
                        packet::udp(header, destination_port, source_port, payload).unwrap();
                    if checksum_zero {
                        reply[26] = 0;
                        reply[27] = 0;
                    }
                    self.send_raw(reply);
                }
            }
            Ok(Transport::Icmp {
                icmp_type: icmp_type::ECHO_REQUEST,
                rest: [a, b, c, d],
                data,
                ..
            }) => {
                let header = Ipv4Header::new(self.address, ip.header.source, 0);
                let reply = packet::icmp_echo(
                    header,
                    true,
                    u16::from_be_bytes([a, b]),
                    u16::from_be_bytes([c, d]),
                    data,
                )
                .unwrap();
                self.send_raw(reply);
            }
            _ => self.others += 1,
        }
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }

    fn handle_timeout(&mut self, _now: Instant) {}
}

pub const CLIENT: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const CLIENT2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
pub const NAT_INSIDE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const NAT_OUTSIDE: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 1);
pub const SERVER: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 9);
/// The outer box of two in a row: the inner one's outside link.
pub const CGN_INSIDE: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
pub const INNER_OUTSIDE: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 2);

pub fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Two hosts (`Host`s, the second at 10.0.0.3) behind one NAT box
/// (10.0.0.1 / 198.51.100.1), a UDP echo server outside (198.51.100.9);
/// `lan` and `wan` captured.
pub struct OneNat {
    pub net: Network,
    pub t0: Instant,
    pub client: NodeId,
    pub client2: NodeId,
    pub nat: NodeId,
    pub server: NodeId,
    pub lan: LinkId,
    pub wan: LinkId,
}

impl OneNat {
    pub fn new(config: NatConfig) -> Self {
        let t0 = Instant::now();
        let mut net = Network::new(t0, 7);
        let lan = net.add_link("10.0.0.0/24", LinkConfig::default());
        let wan = net.add_link("198.51.100.0/24", LinkConfig::default());
        let client = net.add_node("client", Host::new(CLIENT, 24, Some(NAT_INSIDE)));
        let client2 = net.add_node("client2", Host::new(CLIENT2, 24, Some(NAT_INSIDE)));
        let nat = net.add_node("nat", NatBox::new(config));
        // The server routes the inside's private addresses to the box (an
        // attacker on the outside link can).
        let server = net.add_node("server", UdpEcho::new(SERVER, 24, Some(NAT_OUTSIDE)));
        net.attach(client, Host::INTERFACE, CLIENT, lan).unwrap();
        net.attach(client2, Host::INTERFACE, CLIENT2, lan).unwrap();
        net.attach(nat, NatBox::INSIDE, NAT_INSIDE, lan).unwrap();
        net.attach(nat, NatBox::OUTSIDE, NAT_OUTSIDE, wan).unwrap();
        net.attach(server, UdpEcho::INTERFACE, SERVER, wan).unwrap();
        net.capture(lan);
        net.capture(wan);
        Self {
            net,
            t0,
            client,
            client2,
            nat,
            server,
            lan,
            wan,
        }
    }

    /// The default box: ports kept, conntrack's timeouts.
    pub fn config() -> NatConfig {
        NatConfig::new(NAT_INSIDE, 24, NAT_OUTSIDE, 24)
    }

    pub fn host(&mut self, id: NodeId) -> &mut Host {
        self.net.node_mut::<Host>(id).unwrap()
    }

    pub fn server(&mut self) -> &mut UdpEcho {
        self.net.node_mut::<UdpEcho>(self.server).unwrap()
    }

    pub fn nat(&self) -> &NatBox {
        self.net.node::<NatBox>(self.nat).unwrap()
    }

    pub fn nat_mut(&mut self) -> &mut NatBox {
        self.net.node_mut::<NatBox>(self.nat).unwrap()
    }

    /// The client sends one datagram and the network runs for `run`.
    pub fn send(&mut self, from: NodeId, port: u16, to: SocketAddrV4, payload: &[u8]) {
        self.host(from).send_udp(to, port, payload);
        self.net.run_for(Duration::from_millis(100), 10_000);
    }

    /// UDP datagrams a host received: (from, to, payload).
    pub fn host_udp(&self, id: NodeId) -> Vec<(SocketAddrV4, SocketAddrV4, Vec<u8>)> {
        self.net
            .node::<Host>(id)
            .unwrap()
            .received()
            .filter_map(|r| {
                let (ip, sp, dp, payload) = udp_of(&r.packet)?;
                Some((
                    SocketAddrV4::new(ip.source, sp),
                    SocketAddrV4::new(ip.destination, dp),
                    payload,
                ))
            })
            .collect()
    }
}

/// A UDP packet read with `esp::ip`: both checksums verified (the UDP
/// one when non-zero); `None` if it is not UDP.
pub fn udp_of(bytes: &[u8]) -> Option<(Ipv4Header, u16, u16, Vec<u8>)> {
    let ip = Ipv4Packet::parse(bytes).expect("IPv4 header and checksum");
    if ip.header.protocol != packet::protocol::UDP {
        return None;
    }
    match ip.transport().expect("UDP length and checksum") {
        Transport::Udp {
            source_port,
            destination_port,
            payload,
        } => Some((ip.header, source_port, destination_port, payload.to_vec())),
        _ => None,
    }
}

/// Every packet of a captured link, checked with `esp::ip` (IPv4 header
/// checksum, and the UDP or ICMP checksum).
pub fn all_checked(net: &Network, link: LinkId) -> usize {
    let captured = net.captured(link);
    for c in captured {
        let ip = Ipv4Packet::parse(&c.packet).expect("IPv4 header and checksum");
        ip.transport().expect("transport checksum");
    }
    captured.len()
}
