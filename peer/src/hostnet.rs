//! The host's network configuration for a remote-access client: the
//! assigned address on the TUN device and the routes into it, as `ip`
//! commands, each with the command that undoes it.
//!
//! [`plan`] turns a Mode-Config assignment into [`NetChange`]s (no I/O);
//! a [`HostNetwork`] runs them: [`IpCommand`] with iproute2, as the
//! router's `--tun-create` routes already are, or [`Recorder`], the
//! in-memory twin tests read.
//!
//! What is configured, for an assignment with address `A` on device `T`:
//!
//! 1. `ip link set dev T up`;
//! 2. `ip addr replace A/32 dev T`: a host address, whatever netmask the
//!    concentrator sent (a netmask would route the whole pool into `T`,
//!    where only the split networks have SAs);
//! 3. unless routes are off: `ip route replace NET dev T src A` for each
//!    split-include network, or, with none (everything goes through the
//!    tunnel), `0.0.0.0/1` and `128.0.0.0/1` (more specific than any
//!    default route, which stays as it is); when a routed network covers
//!    the concentrator, first a host route to it by the way it was reached
//!    before (`ip route get`), so that IKE and ESP do not loop into the
//!    tunnel.
//!
//! DNS servers and domains are reported, never written to the host.
//!
//! The Easy VPN server's side is [`AddressRoutes`]: a host route into its
//! TUN device for each address it assigned (what IOS's `reverse-route`
//! does for a dynamic map), removed when no SA holds the address any more.

use std::fmt;
use std::io;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::{Arc, Mutex};

use ike_sm::ModeConfig;

/// One change to the host: the `ip` arguments that make it, and those
/// that undo it (none for changes left in place, such as bringing the
/// device up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetChange {
    /// Arguments of `ip` that make the change.
    pub apply: Vec<String>,
    /// Arguments of `ip` that undo it.
    pub undo: Option<Vec<String>>,
}

/// How the concentrator is reached before the tunnel is up (from `ip
/// route get`): the next hop, if it is not on the link, and the device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Underlay {
    /// The next hop (`via`).
    pub via: Option<Ipv4Addr>,
    /// The device (`dev`).
    pub dev: Option<String>,
}

impl Underlay {
    /// Reads the first line of `ip -4 route get ADDR`'s output
    /// (`198.51.100.7 via 192.0.2.254 dev eth0 src 192.0.2.2 uid 0`).
    pub fn parse(text: &str) -> Self {
        let mut u = Self::default();
        let words: Vec<&str> = text
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect();
        for pair in words.windows(2) {
            match pair {
                ["via", v] => u.via = v.parse().ok(),
                ["dev", d] => u.dev = Some((*d).to_owned()),
                _ => {}
            }
        }
        u
    }

    /// Asks the kernel how `gateway` is reached now (`ip -4 route get`).
    ///
    /// # Errors
    /// `ip` cannot run, or finds no route.
    pub fn lookup(gateway: Ipv4Addr) -> io::Result<Self> {
        let out = Command::new("ip")
            .args(["-4", "route", "get", &gateway.to_string()])
            .output()?;
        if !out.status.success() {
            return Err(io::Error::other(format!(
                "ip route get {gateway}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(Self::parse(&String::from_utf8_lossy(&out.stdout)))
    }
}

/// A network as `a.b.c.d/len`, or `None` for a mask that is not a prefix.
pub fn cidr(address: Ipv4Addr, mask: Ipv4Addr) -> Option<String> {
    let m = u32::from(mask);
    let len = m.leading_ones();
    (m.checked_shl(len).unwrap_or(0) == 0)
        .then(|| format!("{}/{len}", Ipv4Addr::from(u32::from(address) & m)))
}

fn covers(network: (Ipv4Addr, Ipv4Addr), host: Ipv4Addr) -> bool {
    let m = u32::from(network.1);
    u32::from(host) & m == u32::from(network.0) & m
}

fn words(w: &[&str]) -> Vec<String> {
    w.iter().map(|s| (*s).to_owned()).collect()
}

/// The networks routed into the tunnel for `config`: the split include
/// list, or the two halves of the address space.
pub fn tunnelled_networks(config: &ModeConfig) -> Vec<(Ipv4Addr, Ipv4Addr)> {
    if config.split_include.is_empty() {
        let half = Ipv4Addr::new(128, 0, 0, 0);
        return vec![(Ipv4Addr::UNSPECIFIED, half), (half, half)];
    }
    config
        .split_include
        .iter()
        .map(|n| (n.address, n.mask))
        .collect()
}

/// The changes for an assignment (see the [module documentation](self)),
/// in the order to make them, and the split networks left out (a mask
/// that is no prefix cannot be a route). Empty without an address.
pub fn plan(
    config: &ModeConfig,
    tun: &str,
    gateway: Ipv4Addr,
    underlay: Option<&Underlay>,
    routes: bool,
) -> (Vec<NetChange>, Vec<String>) {
    let mut changes = Vec::new();
    let mut skipped = Vec::new();
    let Some(address) = config.address else {
        return (changes, skipped);
    };
    changes.push(NetChange {
        apply: words(&["link", "set", "dev", tun, "up"]),
        undo: None,
    });
    let host = format!("{address}/32");
    changes.push(NetChange {
        apply: words(&["addr", "replace", &host, "dev", tun]),
        undo: Some(words(&["addr", "del", &host, "dev", tun])),
    });
    if !routes {
        return (changes, skipped);
    }
    let networks = tunnelled_networks(config);
    if networks.iter().any(|n| covers(*n, gateway)) {
        let mut via = Vec::new();
        if let Some(u) = underlay {
            if let Some(v) = u.via {
                via.extend(["via".to_owned(), v.to_string()]);
            }
            if let Some(d) = &u.dev {
                via.extend(["dev".to_owned(), d.clone()]);
            }
        }
        if via.is_empty() {
            skipped.push(format!(
                "a host route to {gateway} (how it is reached is unknown): the tunnel may \
                 take its own IKE and ESP"
            ));
        } else {
            let target = format!("{gateway}/32");
            let mut apply = words(&["route", "replace", &target]);
            apply.extend(via.iter().cloned());
            let mut undo = words(&["route", "del", &target]);
            undo.extend(via);
            changes.push(NetChange {
                apply,
                undo: Some(undo),
            });
        }
    }
    let src = address.to_string();
    for (net, mask) in networks {
        let Some(target) = cidr(net, mask) else {
            skipped.push(format!("split network {net}/{mask} (not a prefix)"));
            continue;
        };
        changes.push(NetChange {
            apply: words(&["route", "replace", &target, "dev", tun, "src", &src]),
            undo: Some(words(&["route", "del", &target, "dev", tun])),
        });
    }
    (changes, skipped)
}

/// Runs `ip` commands on the host (or records them).
pub trait HostNetwork: Send {
    /// Runs `ip` with `args`.
    ///
    /// # Errors
    /// The command could not run or failed (with its error output).
    fn ip(&mut self, args: &[String]) -> io::Result<()>;
}

/// Runs iproute2's `ip`.
#[derive(Clone, Copy, Debug, Default)]
pub struct IpCommand;

impl HostNetwork for IpCommand {
    fn ip(&mut self, args: &[String]) -> io::Result<()> {
        let out = Command::new("ip").args(args).output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "ip {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    }
}

/// Records the commands instead of running them (tests, dry runs); a
/// clone shares the record.
#[derive(Clone, Default)]
pub struct Recorder(Arc<Mutex<Vec<Vec<String>>>>);

impl Recorder {
    /// The commands so far, each as `ip`'s arguments joined by spaces.
    pub fn commands(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|c| c.iter().map(|a| a.join(" ")).collect())
            .unwrap_or_default()
    }
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Recorder").field(&self.commands()).finish()
    }
}

impl HostNetwork for Recorder {
    fn ip(&mut self, args: &[String]) -> io::Result<()> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("recorder poisoned"))?
            .push(args.to_vec());
        Ok(())
    }
}

/// An Easy VPN server's routes to its clients' assigned addresses:
/// `ip route replace A/32 dev TUN` when the first SA (key `K`) is given
/// `A`, `ip route del A/32 dev TUN` when the last one holding it goes (a
/// phase-1 rekey hands the address to the new SA before the old one
/// lets go of it).
pub struct AddressRoutes<K> {
    host: Box<dyn HostNetwork>,
    tun: String,
    held: std::collections::BTreeMap<K, Ipv4Addr>,
}

impl<K> fmt::Debug for AddressRoutes<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AddressRoutes")
            .field("tun", &self.tun)
            .field("held", &self.held.len())
            .finish_non_exhaustive()
    }
}

impl<K: Ord> AddressRoutes<K> {
    /// Routes into `tun`, through `host`.
    pub fn new(tun: &str, host: Box<dyn HostNetwork>) -> Self {
        Self {
            host,
            tun: tun.to_owned(),
            held: std::collections::BTreeMap::new(),
        }
    }

    fn args(&self, verb: &str, address: Ipv4Addr) -> Vec<String> {
        words(&["route", verb, &format!("{address}/32"), "dev", &self.tun])
    }

    fn holders(&self, address: Ipv4Addr) -> usize {
        self.held.values().filter(|a| **a == address).count()
    }

    /// `sa` holds `address`: routes it unless another SA already did.
    /// Returns the route added, if one was.
    ///
    /// # Errors
    /// `ip`'s.
    pub fn assigned(&mut self, sa: K, address: Ipv4Addr) -> io::Result<Option<String>> {
        if let Some(old) = self.held.remove(&sa)
            && old != address
            && self.holders(old) == 0
        {
            let args = self.args("del", old);
            self.host.ip(&args)?;
        }
        let first = self.holders(address) == 0;
        self.held.insert(sa, address);
        if !first {
            return Ok(None);
        }
        let args = self.args("replace", address);
        self.host.ip(&args)?;
        Ok(Some(format!("{address}/32 dev {}", self.tun)))
    }

    /// `sa` let go of its address: the route goes when no SA holds it.
    /// Returns the route removed, if one was.
    ///
    /// # Errors
    /// `ip`'s.
    pub fn released(&mut self, sa: &K) -> io::Result<Option<String>> {
        let Some(address) = self.held.remove(sa) else {
            return Ok(None);
        };
        if self.holders(address) > 0 {
            return Ok(None);
        }
        let args = self.args("del", address);
        self.host.ip(&args)?;
        Ok(Some(format!("{address}/32 dev {}", self.tun)))
    }

    /// Removes every route (shutdown); returns the errors.
    pub fn clear(&mut self) -> Vec<String> {
        let mut addresses: Vec<Ipv4Addr> = self.held.values().copied().collect();
        addresses.sort_unstable();
        addresses.dedup();
        self.held.clear();
        let mut errors = Vec::new();
        for a in addresses {
            let args = self.args("del", a);
            if let Err(e) = self.host.ip(&args) {
                errors.push(e.to_string());
            }
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ike_sm::SplitNetwork;

    const GW: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    fn split(a: [u8; 4], m: [u8; 4]) -> SplitNetwork {
        SplitNetwork {
            address: Ipv4Addr::from(a),
            mask: Ipv4Addr::from(m),
            protocol: 0,
            source_port: 0,
            destination_port: 0,
        }
    }

    fn assigned(split_include: Vec<SplitNetwork>) -> ModeConfig {
        ModeConfig {
            address: Some(Ipv4Addr::new(10, 99, 0, 10)),
            netmask: Some(Ipv4Addr::new(255, 255, 255, 0)),
            split_include,
            ..ModeConfig::default()
        }
    }

    fn applied(changes: &[NetChange]) -> Vec<String> {
        changes.iter().map(|c| c.apply.join(" ")).collect()
    }

    #[test]
    fn split_include_networks_are_routed_from_the_assigned_address() {
        let c = assigned(vec![
            split([10, 0, 0, 0], [255, 255, 255, 0]),
            split([172, 16, 0, 0], [255, 240, 0, 0]),
            split([10, 1, 0, 0], [255, 0, 255, 0]),
        ]);
        let (changes, skipped) = plan(&c, "rai0", GW, None, true);
        assert_eq!(
            applied(&changes),
            [
                "link set dev rai0 up",
                "addr replace 10.99.0.10/32 dev rai0",
                "route replace 10.0.0.0/24 dev rai0 src 10.99.0.10",
                "route replace 172.16.0.0/12 dev rai0 src 10.99.0.10",
            ]
        );
        assert_eq!(skipped.len(), 1, "{skipped:?}");
        let undo: Vec<String> = changes
            .iter()
            .filter_map(|c| c.undo.as_ref().map(|u| u.join(" ")))
            .collect();
        assert_eq!(
            undo,
            [
                "addr del 10.99.0.10/32 dev rai0",
                "route del 10.0.0.0/24 dev rai0",
                "route del 172.16.0.0/12 dev rai0",
            ]
        );
    }

    #[test]
    fn a_full_tunnel_keeps_the_concentrator_on_its_old_route() {
        let u = Underlay::parse("192.0.2.1 via 198.51.100.254 dev eth0 src 198.51.100.2 uid 0\n");
        assert_eq!(u.via, Some(Ipv4Addr::new(198, 51, 100, 254)));
        assert_eq!(u.dev.as_deref(), Some("eth0"));
        let (changes, skipped) = plan(&assigned(Vec::new()), "rai0", GW, Some(&u), true);
        assert!(skipped.is_empty());
        assert_eq!(
            applied(&changes),
            [
                "link set dev rai0 up",
                "addr replace 10.99.0.10/32 dev rai0",
                "route replace 192.0.2.1/32 via 198.51.100.254 dev eth0",
                "route replace 0.0.0.0/1 dev rai0 src 10.99.0.10",
                "route replace 128.0.0.0/1 dev rai0 src 10.99.0.10",
            ]
        );
        assert_eq!(
            changes
                .get(2)
                .and_then(|c| c.undo.clone())
                .map(|u| u.join(" ")),
            Some("route del 192.0.2.1/32 via 198.51.100.254 dev eth0".to_owned())
        );
        // On the link: no next hop.
        let u = Underlay::parse("192.0.2.1 dev veth0 src 192.0.2.2 uid 0");
        assert_eq!(u.via, None);
        let (changes, _) = plan(&assigned(Vec::new()), "rai0", GW, Some(&u), true);
        assert!(applied(&changes).contains(&"route replace 192.0.2.1/32 dev veth0".to_owned()));
        // Unknown: the host route is left out, and said so.
        let (changes, skipped) = plan(&assigned(Vec::new()), "rai0", GW, None, true);
        assert_eq!(changes.len(), 4);
        assert_eq!(skipped.len(), 1);
    }

    #[test]
    fn no_routes_and_no_address() {
        let (changes, _) = plan(&assigned(Vec::new()), "rai0", GW, None, false);
        assert_eq!(
            applied(&changes),
            [
                "link set dev rai0 up",
                "addr replace 10.99.0.10/32 dev rai0"
            ]
        );
        let (changes, _) = plan(&ModeConfig::default(), "rai0", GW, None, true);
        assert!(changes.is_empty());
    }

    #[test]
    fn cidr_of_prefixes_only() {
        assert_eq!(
            cidr(Ipv4Addr::new(10, 0, 0, 7), Ipv4Addr::new(255, 255, 255, 0)),
            Some("10.0.0.0/24".to_owned())
        );
        assert_eq!(
            cidr(Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
            Some("0.0.0.0/0".to_owned())
        );
        assert_eq!(
            cidr(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::BROADCAST),
            Some("10.0.0.1/32".to_owned())
        );
        assert_eq!(
            cidr(Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 0, 255, 0)),
            None
        );
    }

    #[test]
    fn a_server_routes_each_address_while_an_sa_holds_it() {
        let r = Recorder::default();
        let mut routes = AddressRoutes::new("rai0", Box::new(r.clone()));
        let a = Ipv4Addr::new(10, 99, 0, 10);
        let b = Ipv4Addr::new(10, 99, 0, 11);
        assert_eq!(
            routes.assigned(1, a).unwrap().as_deref(),
            Some("10.99.0.10/32 dev rai0")
        );
        // A phase-1 rekey: the new SA gets the address, then the old goes.
        assert_eq!(routes.assigned(2, a).unwrap(), None);
        assert_eq!(routes.released(&1).unwrap(), None);
        assert_eq!(routes.released(&7).unwrap(), None, "an SA we never saw");
        routes.assigned(3, b).unwrap();
        assert_eq!(
            routes.released(&2).unwrap().as_deref(),
            Some("10.99.0.10/32 dev rai0")
        );
        assert!(routes.clear().is_empty());
        assert_eq!(
            r.commands(),
            [
                "route replace 10.99.0.10/32 dev rai0",
                "route replace 10.99.0.11/32 dev rai0",
                "route del 10.99.0.10/32 dev rai0",
                "route del 10.99.0.11/32 dev rai0",
            ]
        );
    }

    #[test]
    fn the_recorder_shares_its_record() {
        let r = Recorder::default();
        let mut h: Box<dyn HostNetwork> = Box::new(r.clone());
        h.ip(&words(&["link", "set", "dev", "x", "up"])).unwrap();
        assert_eq!(r.commands(), ["link set dev x up"]);
    }
}
