//! The project's test harness: a deterministic simulated IPv4 network,
//! the seed's scenario and its replay, and the fuzz drivers of `ted` and
//! `ikev1-peer`.
//!
//! Nothing here is product code: the crates users depend on (`isakmp-wire`,
//! `ike-sm`, `esp`, `ted`, `ikev1-peer`) use this crate at most as a
//! dev-dependency. The modules:
//!
//! - the crate root: the simulated network ([`Network`], [`Node`],
//!   [`Host`], [`DiscoveryRouter`], links with impairments, capture);
//! - [`GatewayRouter`]: a `ted::gateway::Gateway` as a router on that
//!   network, the driver loop a real deployment writes over its sockets;
//! - [`nat`]: [`NatBox`], a masquerading NAT (Linux's nftables
//!   `masquerade`, a home router): source address and port rewritten
//!   through mappings that expire idle on the simulated clock and can be
//!   forced to change ([`NatBox::rebind`]), replies rewritten back,
//!   anything unsolicited from outside dropped and counted; one box or
//!   several in a row put peers behind NATs for the NAT-T tests;
//! - [`scenario`]: the seed's network with two gateways (run it:
//!   `cargo run --release -p netsim --example seed`);
//! - [`fuzzing`]: the functions the fuzz targets of `ted` and
//!   `ikev1-peer` call, and the corpus-replay tests with them;
//! - [`pcap`]: classic pcap output.
//!
//! IPv4, UDP and ICMP packets are built and read with `esp::ip`, the
//! product's one IPv4 code path.
//!
//! # The simulated network
//!
//! A [`Network`] holds nodes ([`Node`]: hosts, routers, and later the
//! gateway) attached to links, and a virtual clock. Nodes are Sans-IO:
//! they receive IPv4 packets on an interface, emit [`Output`]s (an
//! interface, a next hop, a packet) and ask for timeouts; the network
//! carries packets between them. A link is a segment that delivers a
//! packet to the attached interface whose address is the next hop (there
//! is no ARP: an unknown next hop is a drop), after its latency, with loss,
//! duplication, jitter and reordering drawn from one seeded generator, and
//! an optional [`Verdict`] filter for scripted faults ("lose the first
//! probe"). Everything is reproducible: same topology, same seed, same
//! inputs, same run.
//!
//! The run loop is bounded: [`Network::step`] processes one event (a
//! delivery, or a node's timeout) at the earliest time; the `run_*`
//! functions stop when the network is idle, at a deadline, or after a
//! maximum number of steps, whichever comes first.
//!
//! A link can be captured ([`Network::capture`]) and written as a classic
//! pcap file ([`pcap`]) with link type RAW, readable by Wireshark.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use std::time::{Duration, Instant};
//! use rand_chacha::ChaCha20Rng;
//! use rand_core::SeedableRng;
//! use ted::discovery::DiscoveryConfig;
//! use netsim::{DiscoveryRouter, Host, LinkConfig, Network};
//!
//! let daphne_cfg = ted::config::ios::parse(include_str!("../../vectors/seed/daphne.cfg"))?.config;
//! let fred_cfg = ted::config::ios::parse(include_str!("../../vectors/seed/fred.cfg"))?.config;
//! let t0 = Instant::now();
//! let mut net = Network::new(t0, 42);
//! let inside_d = net.add_link("13.13.13.0/24", LinkConfig::default());
//! let transit = net.add_link("11.11.11.0/24", LinkConfig::default());
//! let inside_f = net.add_link("12.12.12.0/24", LinkConfig::default());
//! let d1 = net.add_node("D1", Host::new(Ipv4Addr::new(13, 13, 13, 14), 24, Some(Ipv4Addr::new(13, 13, 13, 13))));
//! let a1 = net.add_node("A1", Host::new(Ipv4Addr::new(12, 12, 12, 13), 24, Some(Ipv4Addr::new(12, 12, 12, 12))));
//! let daphne = net.add_node("Daphne", DiscoveryRouter::new(daphne_cfg.clone(), DiscoveryConfig::default(), ChaCha20Rng::seed_from_u64(1))?);
//! let fred = net.add_node("fred", DiscoveryRouter::new(fred_cfg.clone(), DiscoveryConfig::default(), ChaCha20Rng::seed_from_u64(2))?);
//! net.attach(d1, "eth0", Ipv4Addr::new(13, 13, 13, 14), inside_d)?;
//! net.attach(a1, "eth0", Ipv4Addr::new(12, 12, 12, 13), inside_f)?;
//! net.attach_interfaces(daphne, &daphne_cfg, &[("FastEthernet0/1", inside_d), ("FastEthernet0/0", transit)])?;
//! net.attach_interfaces(fred, &fred_cfg, &[("FastEthernet0/0", transit), ("FastEthernet0/1", inside_f)])?;
//! net.capture(transit);
//!
//! net.node_mut::<Host>(d1).unwrap().ping(t0, Ipv4Addr::new(12, 12, 12, 13), 5, Duration::from_secs(1));
//! net.run_until_idle(10_000);
//! // The probe and the response crossed the transit link; nothing else.
//! assert_eq!(net.captured(transit).len(), 2);
//! let router = net.node::<DiscoveryRouter<ChaCha20Rng>>(daphne).unwrap();
//! assert_eq!(router.discovered()[0].peer, Ipv4Addr::new(11, 11, 11, 2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub(crate) mod egress;
pub mod fuzzing;
mod gateway_router;
mod host;
pub mod nat;
pub mod pcap;
mod router;
pub mod scenario;

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

pub use gateway_router::{GatewayRouter, GatewayRouterCounters};
pub use host::{EchoReply, Host, HostCounters, Received, WINDOWS_PING_DATA};
pub use nat::{Mapping, NatBox, NatConfig, NatCounters, NatTimeouts, OtherProtocols, PortPolicy};
pub use router::{DiscoveryRouter, RouterCounters};

use ted::config::{Config, InterfaceName};

/// A packet a node sends: out of `interface`, to the neighbour with
/// address `next_hop`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// The interface.
    pub interface: InterfaceName,
    /// The neighbour's address on that interface's link.
    pub next_hop: Ipv4Addr,
    /// The IPv4 packet.
    pub packet: Vec<u8>,
}

/// A node of the network: a host, a router, the gateway. Sans-IO, like
/// every state machine of this crate: the network calls
/// [`handle_packet`](Node::handle_packet) and
/// [`handle_timeout`](Node::handle_timeout), then drains
/// [`poll_output`](Node::poll_output) until `None`, and asks
/// [`poll_timeout`](Node::poll_timeout) when to wake the node next.
pub trait Node: Any {
    /// A packet arrived on `interface`.
    fn handle_packet(&mut self, now: Instant, interface: &InterfaceName, packet: Vec<u8>);
    /// The next packet to send.
    fn poll_output(&mut self) -> Option<Output>;
    /// When the node wants [`handle_timeout`](Node::handle_timeout).
    fn poll_timeout(&self) -> Option<Instant>;
    /// The time the node asked for has come.
    fn handle_timeout(&mut self, now: Instant);
}

/// A node in a [`Network`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(usize);

/// A link in a [`Network`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(usize);

/// A probability in parts per million.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Probability(u32);

impl Probability {
    /// Never.
    pub const NEVER: Self = Self(0);
    /// Always.
    pub const ALWAYS: Self = Self(1_000_000);

    /// `n` in a million (capped at a million).
    pub fn per_million(n: u32) -> Self {
        Self(n.min(1_000_000))
    }

    /// `n` percent (capped at 100).
    pub fn percent(n: u32) -> Self {
        Self::per_million(n.saturating_mul(10_000))
    }

    /// Parts per million.
    pub fn as_per_million(self) -> u32 {
        self.0
    }
}

/// How a link treats packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkConfig {
    /// Delay of every packet.
    pub latency: Duration,
    /// A further delay drawn uniformly from 0 up to this, per packet.
    pub jitter: Duration,
    /// Chance a packet is lost.
    pub loss: Probability,
    /// Chance a packet is delivered twice.
    pub duplicate: Probability,
    /// Chance a packet is held back by [`LinkConfig::reorder_delay`], so
    /// that later packets overtake it.
    pub reorder: Probability,
    /// How long a reordered packet is held back.
    pub reorder_delay: Duration,
    /// Packets longer than this are dropped.
    pub mtu: usize,
}

impl Default for LinkConfig {
    /// 1 ms, no impairment, MTU 1500.
    fn default() -> Self {
        Self {
            latency: Duration::from_millis(1),
            jitter: Duration::ZERO,
            loss: Probability::NEVER,
            duplicate: Probability::NEVER,
            reorder: Probability::NEVER,
            reorder_delay: Duration::from_millis(10),
            mtu: 1500,
        }
    }
}

impl LinkConfig {
    /// A clean link with this latency.
    pub fn with_latency(latency: Duration) -> Self {
        Self {
            latency,
            ..Self::default()
        }
    }
}

/// A packet entering a link, as a [`Verdict`] filter sees it.
#[derive(Clone, Copy, Debug)]
pub struct Transit<'a> {
    /// The link.
    pub link: LinkId,
    /// Packets that entered this link before this one.
    pub index: u64,
    /// The time.
    pub now: Instant,
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The packet.
    pub packet: &'a [u8],
}

/// What a filter decides for a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verdict {
    /// Carry it as the link would.
    Pass,
    /// Lose it.
    Drop,
    /// Deliver it twice.
    Duplicate,
    /// Deliver it this much later than the link would.
    Delay(Duration),
}

type Filter = Box<dyn FnMut(&Transit<'_>) -> Verdict>;

/// A packet that crossed a captured link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// When it was delivered.
    pub at: Instant,
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The packet.
    pub packet: Vec<u8>,
}

/// What a link counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkStats {
    /// Packets sent onto the link.
    pub sent: u64,
    /// Copies delivered.
    pub delivered: u64,
    /// Lost to the loss probability.
    pub lost: u64,
    /// Dropped by the filter.
    pub filtered: u64,
    /// Extra copies from duplication.
    pub duplicated: u64,
    /// Held back for reordering.
    pub reordered: u64,
    /// No interface on the link has the next hop's address.
    pub no_neighbour: u64,
    /// Longer than the MTU.
    pub too_big: u64,
}

/// A wrong use of the network.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// No such node.
    #[error("no node {0:?}")]
    NoNode(NodeId),
    /// No such link.
    #[error("no link {0:?}")]
    NoLink(LinkId),
    /// The interface is attached already.
    #[error("{node} {interface} is attached already")]
    AlreadyAttached {
        /// The node's name.
        node: String,
        /// The interface.
        interface: String,
    },
    /// Another interface on the link has the address.
    #[error("{address} is on link {link} already")]
    DuplicateAddress {
        /// The link's name.
        link: String,
        /// The address.
        address: Ipv4Addr,
    },
    /// The configuration has no such interface, or it has no address.
    #[error("interface {0} is not in the configuration or has no address")]
    NoInterfaceAddress(String),
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stop {
    /// Nothing is in flight and no node wants a timeout.
    Idle,
    /// The next event is after the deadline; the clock is at the deadline.
    Deadline,
    /// The step limit was reached.
    StepLimit,
}

/// The result of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunOutcome {
    /// Steps taken.
    pub steps: usize,
    /// Why it stopped.
    pub stop: Stop,
}

/// What one step did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepEvent {
    /// A packet was delivered.
    Delivered {
        /// The link.
        link: LinkId,
        /// The receiver.
        to: NodeId,
    },
    /// A node's timeout fired.
    Timeout {
        /// The node.
        node: NodeId,
    },
}

/// SplitMix64 (Steele, Lea, Flood, "Fast splittable pseudorandom number
/// generators", OOPSLA 2014): not cryptographic, only the dice of the
/// impairments, reproducible from a seed.
#[derive(Clone, Debug)]
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn chance(&mut self, p: Probability) -> bool {
        p.0 > 0 && self.next() % 1_000_000 < u64::from(p.0)
    }

    fn up_to(&mut self, d: Duration) -> Duration {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        match nanos.checked_add(1) {
            Some(span) if nanos > 0 => Duration::from_nanos(self.next() % span),
            _ => Duration::ZERO,
        }
    }
}

struct Attachment {
    node: NodeId,
    interface: InterfaceName,
    address: Ipv4Addr,
}

struct Link {
    name: String,
    config: LinkConfig,
    ends: Vec<Attachment>,
    filter: Option<Filter>,
    capture: Option<Vec<Captured>>,
    stats: LinkStats,
}

struct Slot {
    name: String,
    node: Box<dyn Node>,
}

struct Delivery {
    link: LinkId,
    from: NodeId,
    to: NodeId,
    interface: InterfaceName,
    packet: Vec<u8>,
}

/// The simulated network (see the [module documentation](self)).
pub struct Network {
    start: Instant,
    now: Instant,
    nodes: Vec<Slot>,
    links: Vec<Link>,
    /// Which link each (node, interface) is on.
    attached: BTreeMap<(NodeId, InterfaceName), LinkId>,
    queue: BTreeMap<(Instant, u64), Delivery>,
    sequence: u64,
    dice: Dice,
    max_captured: usize,
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("now", &self.now.saturating_duration_since(self.start))
            .field(
                "nodes",
                &self.nodes.iter().map(|n| &n.name).collect::<Vec<_>>(),
            )
            .field(
                "links",
                &self.links.iter().map(|l| &l.name).collect::<Vec<_>>(),
            )
            .field("in_flight", &self.queue.len())
            .finish_non_exhaustive()
    }
}

impl Network {
    /// How many packets a captured link keeps at most.
    pub const DEFAULT_MAX_CAPTURED: usize = 1_000_000;

    /// An empty network whose clock starts at `start`, with impairments
    /// drawn from `seed`.
    pub fn new(start: Instant, seed: u64) -> Self {
        Self {
            start,
            now: start,
            nodes: Vec::new(),
            links: Vec::new(),
            attached: BTreeMap::new(),
            queue: BTreeMap::new(),
            sequence: 0,
            dice: Dice(seed),
            max_captured: Self::DEFAULT_MAX_CAPTURED,
        }
    }

    // --- building ---

    /// Adds a node.
    pub fn add_node(&mut self, name: &str, node: impl Node) -> NodeId {
        self.nodes.push(Slot {
            name: name.to_owned(),
            node: Box::new(node),
        });
        NodeId(self.nodes.len() - 1)
    }

    /// Adds a link.
    pub fn add_link(&mut self, name: &str, config: LinkConfig) -> LinkId {
        self.links.push(Link {
            name: name.to_owned(),
            config,
            ends: Vec::new(),
            filter: None,
            capture: None,
            stats: LinkStats::default(),
        });
        LinkId(self.links.len() - 1)
    }

    /// Attaches a node's interface, with its address, to a link.
    pub fn attach(
        &mut self,
        node: NodeId,
        interface: &str,
        address: Ipv4Addr,
        link: LinkId,
    ) -> Result<(), SimError> {
        let name = self
            .nodes
            .get(node.0)
            .map(|n| n.name.clone())
            .ok_or(SimError::NoNode(node))?;
        let interface = InterfaceName::new(interface);
        if self.attached.contains_key(&(node, interface.clone())) {
            return Err(SimError::AlreadyAttached {
                node: name,
                interface: interface.to_string(),
            });
        }
        let l = self.links.get_mut(link.0).ok_or(SimError::NoLink(link))?;
        if l.ends.iter().any(|e| e.address == address) {
            return Err(SimError::DuplicateAddress {
                link: l.name.clone(),
                address,
            });
        }
        l.ends.push(Attachment {
            node,
            interface: interface.clone(),
            address,
        });
        self.attached.insert((node, interface), link);
        Ok(())
    }

    /// Attaches a router's interfaces to links, with the addresses its
    /// configuration gives them.
    pub fn attach_interfaces(
        &mut self,
        node: NodeId,
        config: &Config,
        links: &[(&str, LinkId)],
    ) -> Result<(), SimError> {
        for (name, link) in links {
            let address = config
                .interface(name)
                .and_then(|i| i.address)
                .ok_or_else(|| SimError::NoInterfaceAddress((*name).to_owned()))?;
            self.attach(node, name, address.address, *link)?;
        }
        Ok(())
    }

    /// Installs a filter on a link (replacing any): it sees every packet
    /// entering the link, before the link's own impairments.
    pub fn set_filter(
        &mut self,
        link: LinkId,
        filter: impl FnMut(&Transit<'_>) -> Verdict + 'static,
    ) {
        if let Some(l) = self.links.get_mut(link.0) {
            l.filter = Some(Box::new(filter));
        }
    }

    /// Starts capturing what a link delivers.
    pub fn capture(&mut self, link: LinkId) {
        if let Some(l) = self.links.get_mut(link.0) {
            l.capture.get_or_insert_with(Vec::new);
        }
    }

    // --- getters ---

    /// The virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now.saturating_duration_since(self.start)
    }

    /// When the clock started.
    pub fn start(&self) -> Instant {
        self.start
    }

    /// A node, if it is of type `T`.
    pub fn node<T: Node>(&self, id: NodeId) -> Option<&T> {
        let node: &dyn Any = self.nodes.get(id.0)?.node.as_ref();
        node.downcast_ref::<T>()
    }

    /// A node, to drive it, if it is of type `T`.
    pub fn node_mut<T: Node>(&mut self, id: NodeId) -> Option<&mut T> {
        let node: &mut dyn Any = self.nodes.get_mut(id.0)?.node.as_mut();
        node.downcast_mut::<T>()
    }

    /// A node's name.
    pub fn node_name(&self, id: NodeId) -> Option<&str> {
        self.nodes.get(id.0).map(|n| n.name.as_str())
    }

    /// What a link counted.
    pub fn link_stats(&self, link: LinkId) -> LinkStats {
        self.links.get(link.0).map(|l| l.stats).unwrap_or_default()
    }

    /// What a captured link delivered, in order.
    pub fn captured(&self, link: LinkId) -> &[Captured] {
        self.links
            .get(link.0)
            .and_then(|l| l.capture.as_deref())
            .unwrap_or(&[])
    }

    /// Packets in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Writes what a captured link delivered as a classic pcap file;
    /// timestamps are `epoch` (time since the Unix epoch at the network's
    /// start) plus virtual time.
    pub fn write_pcap<W: Write>(&self, link: LinkId, out: W, epoch: Duration) -> io::Result<W> {
        let mut writer = pcap::PcapWriter::new(out, 65_535)?;
        for c in self.captured(link) {
            let at = epoch.saturating_add(c.at.saturating_duration_since(self.start));
            writer.write_packet(at, &c.packet)?;
        }
        writer.into_inner()
    }

    // --- running ---

    /// Hands a packet to a node as if it arrived on `interface` now.
    pub fn inject(&mut self, node: NodeId, interface: &str, packet: Vec<u8>) {
        let now = self.now;
        if let Some(slot) = self.nodes.get_mut(node.0) {
            slot.node
                .handle_packet(now, &InterfaceName::new(interface), packet);
        }
        self.flush();
    }

    /// When the next event happens, if any.
    pub fn next_event(&self) -> Option<Instant> {
        let delivery = self.queue.keys().next().map(|(t, _)| *t);
        let timer = self.next_timer().map(|(t, _)| t);
        match (delivery, timer) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn next_timer(&self) -> Option<(Instant, usize)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.node.poll_timeout().map(|t| (t.max(self.now), i)))
            .min()
    }

    /// Processes the earliest event: a delivery (deliveries go first at
    /// equal times, in the order they were sent) or a node's timeout
    /// (nodes in the order they were added). `None` when idle.
    pub fn step(&mut self) -> Option<StepEvent> {
        self.flush();
        let delivery = self.queue.keys().next().copied();
        let timer = self.next_timer();
        let event = match (delivery, timer) {
            (Some((at, seq)), Some((t, _))) if at <= t => self.deliver(at, seq),
            (Some((at, seq)), None) => self.deliver(at, seq),
            (_, Some((t, node))) => {
                self.now = self.now.max(t);
                let now = self.now;
                if let Some(slot) = self.nodes.get_mut(node) {
                    slot.node.handle_timeout(now);
                }
                Some(StepEvent::Timeout { node: NodeId(node) })
            }
            (None, None) => None,
        };
        self.flush();
        event
    }

    /// Runs until idle, or `max_steps`.
    pub fn run_until_idle(&mut self, max_steps: usize) -> RunOutcome {
        self.run(None, max_steps)
    }

    /// Runs until the clock reaches `deadline` (events at the deadline are
    /// processed), idle, or `max_steps`.
    pub fn run_until(&mut self, deadline: Instant, max_steps: usize) -> RunOutcome {
        self.run(Some(deadline), max_steps)
    }

    /// Runs for `duration` of virtual time (see [`Network::run_until`]).
    pub fn run_for(&mut self, duration: Duration, max_steps: usize) -> RunOutcome {
        let deadline = self.now.checked_add(duration).unwrap_or(self.now);
        self.run_until(deadline, max_steps)
    }

    fn run(&mut self, deadline: Option<Instant>, max_steps: usize) -> RunOutcome {
        let mut steps = 0;
        loop {
            self.flush();
            let Some(next) = self.next_event() else {
                if let Some(d) = deadline {
                    self.now = self.now.max(d);
                }
                return RunOutcome {
                    steps,
                    stop: Stop::Idle,
                };
            };
            if let Some(d) = deadline
                && next > d
            {
                self.now = self.now.max(d);
                return RunOutcome {
                    steps,
                    stop: Stop::Deadline,
                };
            }
            if steps >= max_steps {
                return RunOutcome {
                    steps,
                    stop: Stop::StepLimit,
                };
            }
            self.step();
            steps += 1;
        }
    }

    fn deliver(&mut self, at: Instant, seq: u64) -> Option<StepEvent> {
        let d = self.queue.remove(&(at, seq))?;
        self.now = self.now.max(at);
        let now = self.now;
        let max = self.max_captured;
        if let Some(link) = self.links.get_mut(d.link.0) {
            link.stats.delivered = link.stats.delivered.saturating_add(1);
            if let Some(c) = link.capture.as_mut()
                && c.len() < max
            {
                c.push(Captured {
                    at: now,
                    from: d.from,
                    to: d.to,
                    packet: d.packet.clone(),
                });
            }
        }
        if let Some(slot) = self.nodes.get_mut(d.to.0) {
            slot.node.handle_packet(now, &d.interface, d.packet);
        }
        Some(StepEvent::Delivered {
            link: d.link,
            to: d.to,
        })
    }

    /// Moves every node's outputs onto links.
    fn flush(&mut self) {
        for i in 0..self.nodes.len() {
            while let Some(out) = self.nodes.get_mut(i).and_then(|n| n.node.poll_output()) {
                self.send(NodeId(i), out);
            }
        }
    }

    fn send(&mut self, from: NodeId, out: Output) {
        let Some(link_id) = self.attached.get(&(from, out.interface.clone())).copied() else {
            return;
        };
        let now = self.now;
        let Some(link) = self.links.get_mut(link_id.0) else {
            return;
        };
        let index = link.stats.sent;
        link.stats.sent = link.stats.sent.saturating_add(1);
        let Some(end) = link
            .ends
            .iter()
            .find(|e| e.address == out.next_hop && e.node != from)
        else {
            link.stats.no_neighbour = link.stats.no_neighbour.saturating_add(1);
            return;
        };
        let (to, interface) = (end.node, end.interface.clone());
        if out.packet.len() > link.config.mtu {
            link.stats.too_big = link.stats.too_big.saturating_add(1);
            return;
        }
        let verdict = match link.filter.as_mut() {
            Some(f) => f(&Transit {
                link: link_id,
                index,
                now,
                from,
                to,
                packet: &out.packet,
            }),
            None => Verdict::Pass,
        };
        let config = link.config;
        let mut copies = 1;
        let mut extra = Duration::ZERO;
        match verdict {
            Verdict::Drop => {
                link.stats.filtered = link.stats.filtered.saturating_add(1);
                return;
            }
            Verdict::Duplicate => copies = 2,
            Verdict::Delay(d) => extra = d,
            Verdict::Pass => {}
        }
        if self.dice.chance(config.loss) {
            link.stats.lost = link.stats.lost.saturating_add(1);
            return;
        }
        if self.dice.chance(config.duplicate) {
            copies += 1;
        }
        link.stats.duplicated = link.stats.duplicated.saturating_add(copies - 1);
        let mut delay = config
            .latency
            .saturating_add(extra)
            .saturating_add(self.dice.up_to(config.jitter));
        if self.dice.chance(config.reorder) {
            link.stats.reordered = link.stats.reordered.saturating_add(1);
            delay = delay.saturating_add(config.reorder_delay);
        }
        let at = now.checked_add(delay).unwrap_or(now);
        for _ in 0..copies {
            self.sequence = self.sequence.wrapping_add(1);
            self.queue.insert(
                (at, self.sequence),
                Delivery {
                    link: link_id,
                    from,
                    to,
                    interface: interface.clone(),
                    packet: out.packet.clone(),
                },
            );
        }
    }
}
