//! Interfaces and static routes: where crypto maps are applied and how
//! packets leave the router.
//!
//! `interface NAME` with `ip address A M [secondary]`, `crypto map NAME`,
//! `shutdown` and `description`; `ip route PREFIX MASK NEXT-HOP|INTERFACE
//! [DISTANCE] [name N] [permanent] [tag T]` (Cisco IOS Interface and IP
//! Routing command references). Interface names are kept in IOS's canonical
//! spelling (`FastEthernet0/0`), and any unambiguous abbreviation of the
//! type (`fa0/0`, `Fa0/0`, `f0/0`) names the same interface, as at the IOS
//! prompt.

use core::fmt;
use std::net::Ipv4Addr;

/// Interface types, in the order an abbreviation is resolved (`f` is
/// FastEthernet, `t` Tunnel, `te` TenGigabitEthernet, `v` Vlan).
const INTERFACE_TYPES: &[&str] = &[
    "Ethernet",
    "FastEthernet",
    "GigabitEthernet",
    "Serial",
    "Loopback",
    "Tunnel",
    "TenGigabitEthernet",
    "Vlan",
    "Dialer",
    "Async",
    "ATM",
    "BRI",
    "BVI",
    "Multilink",
    "Null",
    "Port-channel",
    "POS",
    "Virtual-Template",
    "Virtual-Access",
    "Cellular",
    "Group-Async",
];

/// An interface name in canonical form.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InterfaceName(String);

impl InterfaceName {
    /// Canonicalises a name: an abbreviated known type is expanded, a space
    /// between type and unit dropped (`fa 0/0` and `Fa0/0` are
    /// `FastEthernet0/0`). A name of an unknown type is kept as written.
    pub fn new(name: &str) -> Self {
        let name = name.trim();
        let split = name
            .find(|c: char| !(c.is_ascii_alphabetic() || c == '-'))
            .unwrap_or(name.len());
        let (kind, unit) = name.split_at(split);
        let unit = unit.trim_start();
        let starts_with_digit = unit.starts_with(|c: char| c.is_ascii_digit());
        if !kind.is_empty() && starts_with_digit {
            let lower = kind.to_ascii_lowercase();
            if let Some(full) = INTERFACE_TYPES
                .iter()
                .find(|t| t.to_ascii_lowercase().starts_with(&lower))
            {
                return Self(format!("{full}{unit}"));
            }
        }
        Self(name.to_owned())
    }

    /// The canonical name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InterfaceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An interface address and mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InterfaceAddress {
    /// The address.
    pub address: Ipv4Addr,
    /// The subnet mask.
    pub mask: Ipv4Addr,
}

impl InterfaceAddress {
    /// The subnet's network address.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.address) & u32::from(self.mask))
    }

    /// The prefix length of a contiguous mask.
    pub fn prefix_len(&self) -> u32 {
        u32::from(self.mask).leading_ones()
    }

    /// Whether `address` is on the subnet.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & u32::from(self.mask) == u32::from(self.network())
    }
}

/// One `interface` block. The name is fixed at creation: the
/// configuration indexes its interfaces by name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Interface {
    name: InterfaceName,
    /// `ip address A M`.
    pub address: Option<InterfaceAddress>,
    /// `ip address A M secondary` lines.
    pub secondary: Vec<InterfaceAddress>,
    /// `crypto map NAME`.
    pub crypto_map: Option<String>,
    /// `shutdown`.
    pub shutdown: bool,
    /// `description TEXT`.
    pub description: Option<String>,
}

impl Interface {
    /// An interface with no address, up, with no crypto map.
    pub fn new(name: InterfaceName) -> Self {
        Self {
            name,
            address: None,
            secondary: Vec::new(),
            crypto_map: None,
            shutdown: false,
            description: None,
        }
    }

    /// The name.
    pub fn name(&self) -> &InterfaceName {
        &self.name
    }

    /// The primary and secondary addresses.
    pub fn addresses(&self) -> impl Iterator<Item = &InterfaceAddress> + '_ {
        self.address.iter().chain(self.secondary.iter())
    }
}

/// Where a static route sends packets.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum NextHop {
    /// A next-hop router address.
    Address(Ipv4Addr),
    /// An interface, optionally with a next-hop address on it.
    Interface {
        /// The interface.
        interface: InterfaceName,
        /// The next hop, if given.
        address: Option<Ipv4Addr>,
    },
}

/// One `ip route` line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StaticRoute {
    /// Destination prefix.
    pub prefix: Ipv4Addr,
    /// Destination mask (contiguous; `prefix` has no bits outside it).
    pub mask: Ipv4Addr,
    /// Next hop.
    pub next_hop: NextHop,
    /// Administrative distance (1-255; 1 when not given).
    pub distance: u8,
    /// `name NAME`.
    pub name: Option<String>,
    /// `permanent`.
    pub permanent: bool,
    /// `tag T`.
    pub tag: Option<u32>,
}

impl StaticRoute {
    /// The distance a static route has when none is given.
    pub const DEFAULT_DISTANCE: u8 = 1;

    /// A route with the default distance and no options.
    pub fn new(prefix: Ipv4Addr, mask: Ipv4Addr, next_hop: NextHop) -> Self {
        Self {
            prefix,
            mask,
            next_hop,
            distance: Self::DEFAULT_DISTANCE,
            name: None,
            permanent: false,
            tag: None,
        }
    }

    /// Whether `address` falls under the route's prefix.
    pub fn covers(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & u32::from(self.mask) == u32::from(self.prefix) & u32::from(self.mask)
    }
}

/// The result of a route lookup: leave through `interface`, to `next_hop`
/// (the destination itself when it is on a connected subnet).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RouteLookup {
    /// The outgoing interface.
    pub interface: InterfaceName,
    /// The address to send to on that interface.
    pub next_hop: Ipv4Addr,
}
