//! A host: one interface, a default gateway, answers pings and can send
//! them (or any packet).

use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use super::{Node, Output};
use esp::ip::{self as packet, Ipv4Header, Ipv4Packet, Transport, icmp_type};
use ted::config::InterfaceName;

/// The echo data a Windows host sends (32 bytes).
pub const WINDOWS_PING_DATA: &[u8; 32] = b"abcdefghijklmnopqrstuvwabcdefghi";

/// How many received packets and replies a host remembers.
const MAX_REMEMBERED: usize = 10_000;

/// An echo reply a host received for one of its requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EchoReply {
    /// Who answered.
    pub from: Ipv4Addr,
    /// The sequence number.
    pub sequence: u16,
    /// When it arrived.
    pub at: Instant,
    /// Time since the request was sent.
    pub round_trip: Duration,
}

/// A packet a host received (addressed to it or not).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// When.
    pub at: Instant,
    /// The packet.
    pub packet: Vec<u8>,
}

/// What a host counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostCounters {
    /// Packets sent.
    pub sent: u64,
    /// Packets received.
    pub received: u64,
    /// Echo requests answered.
    pub echo_requests_answered: u64,
    /// Echo replies received (duplicates included).
    pub echo_replies: u64,
    /// UDP datagrams received.
    pub udp_received: u64,
    /// Packets not addressed to this host.
    pub not_for_me: u64,
    /// Packets that did not parse.
    pub malformed: u64,
}

#[derive(Clone, Debug)]
struct PingPlan {
    destination: Ipv4Addr,
    remaining: u32,
    interval: Duration,
    next_sequence: u16,
    next_at: Instant,
}

/// A host on one link.
#[derive(Debug)]
pub struct Host {
    address: Ipv4Addr,
    mask: Ipv4Addr,
    gateway: Option<Ipv4Addr>,
    interface: InterfaceName,
    identifier: u16,
    ttl: u8,
    data: Vec<u8>,
    plan: Option<PingPlan>,
    requests: BTreeMap<u16, Instant>,
    replies: Vec<EchoReply>,
    received: VecDeque<Received>,
    outputs: VecDeque<Output>,
    next_ip_id: u16,
    counters: HostCounters,
}

impl Host {
    /// The name of a host's interface.
    pub const INTERFACE: &'static str = "eth0";

    /// A host with an address on a subnet of `prefix_len` bits and an
    /// optional default gateway. It pings with identifier 1, TTL 128 and
    /// Windows' 32 bytes of data.
    pub fn new(address: Ipv4Addr, prefix_len: u8, gateway: Option<Ipv4Addr>) -> Self {
        let bits = u32::from(prefix_len.min(32));
        let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
        Self {
            address,
            mask: Ipv4Addr::from(mask),
            gateway,
            interface: InterfaceName::new(Self::INTERFACE),
            identifier: 1,
            ttl: 128,
            data: WINDOWS_PING_DATA.to_vec(),
            plan: None,
            requests: BTreeMap::new(),
            replies: Vec::new(),
            received: VecDeque::new(),
            outputs: VecDeque::new(),
            next_ip_id: 1,
            counters: HostCounters::default(),
        }
    }

    /// The same host sending `data` in its echo requests.
    #[must_use]
    pub fn with_ping_data(mut self, data: &[u8]) -> Self {
        self.data = data.to_vec();
        self
    }

    /// Its address.
    pub fn address(&self) -> Ipv4Addr {
        self.address
    }

    /// Schedules `count` echo requests to `destination`, the first at
    /// `start`, then one every `interval` (sequence numbers from 1).
    pub fn ping(&mut self, start: Instant, destination: Ipv4Addr, count: u32, interval: Duration) {
        self.plan = Some(PingPlan {
            destination,
            remaining: count,
            interval,
            next_sequence: 1,
            next_at: start,
        });
    }

    /// Sends a UDP datagram now.
    pub fn send_udp(&mut self, destination: SocketAddrV4, source_port: u16, payload: &[u8]) {
        let header = self.header(*destination.ip());
        if let Ok(p) = packet::udp(header, source_port, destination.port(), payload) {
            self.send_raw(p);
        }
    }

    /// Sends any IPv4 packet (its source address need not be this host's:
    /// tests use it to forge packets), routed by its destination.
    pub fn send_raw(&mut self, packet: Vec<u8>) {
        let destination = Ipv4Packet::parse(&packet)
            .map(|p| p.header.destination)
            .unwrap_or(Ipv4Addr::BROADCAST);
        let on_link = u32::from(destination) & u32::from(self.mask)
            == u32::from(self.address) & u32::from(self.mask);
        let next_hop = if on_link {
            destination
        } else {
            match self.gateway {
                Some(g) => g,
                None => return,
            }
        };
        self.counters.sent = self.counters.sent.saturating_add(1);
        self.outputs.push_back(Output {
            interface: self.interface.clone(),
            next_hop,
            packet,
        });
    }

    /// The echo replies received, in order of arrival.
    pub fn echo_replies(&self) -> &[EchoReply] {
        &self.replies
    }

    /// Every packet received (the latest 10000).
    pub fn received(&self) -> impl Iterator<Item = &Received> + '_ {
        self.received.iter()
    }

    /// The counters.
    pub fn counters(&self) -> &HostCounters {
        &self.counters
    }

    fn header(&mut self, destination: Ipv4Addr) -> Ipv4Header {
        let id = self.next_ip_id;
        self.next_ip_id = self.next_ip_id.wrapping_add(1);
        Ipv4Header::new(self.address, destination, 0)
            .with_ttl(self.ttl)
            .with_identification(id)
    }

    fn remember(&mut self, at: Instant, packet: Vec<u8>) {
        if self.received.len() >= MAX_REMEMBERED {
            self.received.pop_front();
        }
        self.received.push_back(Received { at, packet });
    }
}

impl Node for Host {
    fn handle_packet(&mut self, now: Instant, _interface: &InterfaceName, packet: Vec<u8>) {
        self.counters.received = self.counters.received.saturating_add(1);
        let parsed = Ipv4Packet::parse(&packet).and_then(|p| Ok((p, p.transport()?)));
        let Ok((ip, transport)) = parsed else {
            self.counters.malformed = self.counters.malformed.saturating_add(1);
            self.remember(now, packet);
            return;
        };
        if ip.header.destination != self.address {
            self.counters.not_for_me = self.counters.not_for_me.saturating_add(1);
            self.remember(now, packet);
            return;
        }
        let reply = match transport {
            Transport::Icmp {
                icmp_type: icmp_type::ECHO_REQUEST,
                code: 0,
                rest,
                data,
            } => {
                let header = self.header(ip.header.source);
                let [a, b, c, d] = rest;
                packet::icmp_echo(
                    header,
                    true,
                    u16::from_be_bytes([a, b]),
                    u16::from_be_bytes([c, d]),
                    data,
                )
                .ok()
            }
            Transport::Icmp {
                icmp_type: icmp_type::ECHO_REPLY,
                rest: [a, b, c, d],
                ..
            } if u16::from_be_bytes([a, b]) == self.identifier => {
                let sequence = u16::from_be_bytes([c, d]);
                self.counters.echo_replies = self.counters.echo_replies.saturating_add(1);
                if let Some(sent) = self.requests.get(&sequence)
                    && self.replies.len() < MAX_REMEMBERED
                {
                    self.replies.push(EchoReply {
                        from: ip.header.source,
                        sequence,
                        at: now,
                        round_trip: now.saturating_duration_since(*sent),
                    });
                }
                None
            }
            Transport::Udp { .. } => {
                self.counters.udp_received = self.counters.udp_received.saturating_add(1);
                None
            }
            _ => None,
        };
        self.remember(now, packet);
        if let Some(r) = reply {
            self.counters.echo_requests_answered =
                self.counters.echo_requests_answered.saturating_add(1);
            self.send_raw(r);
        }
    }

    fn poll_output(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.plan
            .as_ref()
            .filter(|p| p.remaining > 0)
            .map(|p| p.next_at)
    }

    fn handle_timeout(&mut self, now: Instant) {
        let Some(plan) = self.plan.as_mut() else {
            return;
        };
        if plan.remaining == 0 || plan.next_at > now {
            return;
        }
        let (destination, sequence) = (plan.destination, plan.next_sequence);
        plan.remaining -= 1;
        plan.next_sequence = plan.next_sequence.wrapping_add(1);
        plan.next_at = now.checked_add(plan.interval).unwrap_or(now);
        let header = self.header(destination);
        if let Ok(p) = packet::icmp_echo(header, false, self.identifier, sequence, &self.data) {
            if self.requests.len() >= MAX_REMEMBERED {
                self.requests.pop_first();
            }
            self.requests.insert(sequence, now);
            self.send_raw(p);
        }
    }
}
