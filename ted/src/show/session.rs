//! The remote-access views: `show crypto session` (one block per peer:
//! the XAUTH user, the group, the address Mode-Config assigned, the IKE
//! SA and the IPsec flows) and `show ip local pool` (each pool's range
//! with its free and used addresses), in the layouts IOS 12.4 prints
//! for an Easy VPN server.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::acl::ProxyIdent;

/// The state of a session, as IOS names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionStatus {
    /// An IKE SA and IPsec SAs are up.
    UpActive,
    /// Only the IKE SA is up.
    UpIdle,
    /// Only IPsec SAs are up (the IKE SA expired or was deleted).
    UpNoIke,
    /// Phase 1 is still being negotiated.
    Negotiating,
}

impl SessionStatus {
    /// IOS's name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpActive => "UP-ACTIVE",
            Self::UpIdle => "UP-IDLE",
            Self::UpNoIke => "UP-NO-IKE",
            Self::Negotiating => "DOWN-NEGOTIATING",
        }
    }
}

/// One IKE SA of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionIkeSa {
    /// Our address and port.
    pub local: (Ipv4Addr, u16),
    /// The peer's address and port.
    pub remote: (Ipv4Addr, u16),
    /// Established (`Active`) or not (`Inactive`).
    pub active: bool,
}

/// One IPsec flow of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionFlow {
    /// Our side's traffic.
    pub local: ProxyIdent,
    /// The peer's traffic.
    pub remote: ProxyIdent,
    /// SAs installed for it (two per pair).
    pub active_sas: usize,
    /// `crypto map` or `dynamic crypto map`.
    pub origin: &'static str,
}

/// One session (a peer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    /// The interface with the crypto map.
    pub interface: String,
    /// The XAUTH user, if any.
    pub user: Option<String>,
    /// The client configuration group, if any.
    pub group: Option<String>,
    /// The address Mode-Config assigned, if any.
    pub assigned: Option<Ipv4Addr>,
    /// The session's state.
    pub status: SessionStatus,
    /// The peer's address and IKE port.
    pub peer: (Ipv4Addr, u16),
    /// Its IKE SAs.
    pub ike: Vec<SessionIkeSa>,
    /// Its IPsec flows.
    pub flows: Vec<SessionFlow>,
}

fn ident(p: &ProxyIdent) -> String {
    if p.mask == Ipv4Addr::BROADCAST {
        format!("host {}", p.address)
    } else {
        format!("{}/{}", p.address, p.mask)
    }
}

/// `show crypto session`.
#[must_use]
pub fn crypto_session(rows: &[SessionRow]) -> String {
    let mut s = String::from("Crypto session current status\n\n");
    for r in rows {
        let _ = writeln!(s, "Interface: {}", r.interface);
        if let Some(u) = &r.user {
            let _ = writeln!(s, "Username: {u}");
        }
        if let Some(g) = &r.group {
            let _ = writeln!(s, "Group: {g}");
        }
        if let Some(a) = r.assigned {
            let _ = writeln!(s, "Assigned address: {a}");
        }
        let _ = writeln!(s, "Session status: {}", r.status.as_str());
        let _ = writeln!(s, "Peer: {} port {} ", r.peer.0, r.peer.1);
        for i in &r.ike {
            let _ = writeln!(
                s,
                "  IKE SA: local {}/{} remote {}/{} {}",
                i.local.0,
                i.local.1,
                i.remote.0,
                i.remote.1,
                if i.active { "Active" } else { "Inactive" }
            );
        }
        for f in &r.flows {
            let _ = writeln!(
                s,
                "  IPSEC FLOW: permit ip {} {} ",
                ident(&f.local),
                ident(&f.remote)
            );
            let _ = writeln!(
                s,
                "        Active SAs: {}, origin: {}",
                f.active_sas, f.origin
            );
        }
        s.push('\n');
    }
    s
}

/// One pool range of `show ip local pool`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolRow {
    /// The pool's name (shown on its first range only).
    pub name: String,
    /// First address.
    pub begin: Ipv4Addr,
    /// Last address.
    pub end: Ipv4Addr,
    /// Addresses of the range not leased.
    pub free: u64,
    /// Addresses of the range leased.
    pub in_use: u64,
}

/// `show ip local pool`.
#[must_use]
pub fn ip_local_pool(rows: &[PoolRow]) -> String {
    let mut s = format!(
        " {:<24} {:<15} {:<15} {:>5} {:>6}\n",
        "Pool", "Begin", "End", "Free", "In use"
    );
    let mut last: Option<&str> = None;
    for r in rows {
        let name = if last == Some(r.name.as_str()) {
            ""
        } else {
            r.name.as_str()
        };
        last = Some(r.name.as_str());
        let _ = writeln!(
            s,
            " {:<24} {:<15} {:<15} {:>5} {:>6}",
            name,
            r.begin.to_string(),
            r.end.to_string(),
            r.free,
            r.in_use
        );
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::acl::IpProtocol;

    fn p(a: [u8; 4], m: [u8; 4]) -> ProxyIdent {
        ProxyIdent {
            address: Ipv4Addr::from(a),
            mask: Ipv4Addr::from(m),
            protocol: IpProtocol(0),
            port: 0,
        }
    }

    #[test]
    fn a_session_block_as_ios_prints_it() {
        let row = SessionRow {
            interface: "FastEthernet0/0".into(),
            user: Some("alice".into()),
            group: Some("ragroup".into()),
            assigned: Some(Ipv4Addr::new(10, 99, 0, 10)),
            status: SessionStatus::UpActive,
            peer: (Ipv4Addr::new(192, 0, 2, 10), 500),
            ike: vec![SessionIkeSa {
                local: (Ipv4Addr::new(192, 0, 2, 1), 500),
                remote: (Ipv4Addr::new(192, 0, 2, 10), 500),
                active: true,
            }],
            flows: vec![SessionFlow {
                local: p([10, 0, 0, 0], [255, 255, 255, 0]),
                remote: p([10, 99, 0, 10], [255, 255, 255, 255]),
                active_sas: 2,
                origin: "dynamic crypto map",
            }],
        };
        // Written by hand in IOS 12.4's layout.
        let expected = "Crypto session current status\n\n\
Interface: FastEthernet0/0\n\
Username: alice\n\
Group: ragroup\n\
Assigned address: 10.99.0.10\n\
Session status: UP-ACTIVE\n\
Peer: 192.0.2.10 port 500 \n\
\x20 IKE SA: local 192.0.2.1/500 remote 192.0.2.10/500 Active\n\
\x20 IPSEC FLOW: permit ip 10.0.0.0/255.255.255.0 host 10.99.0.10 \n\
\x20       Active SAs: 2, origin: dynamic crypto map\n\n";
        assert_eq!(crypto_session(&[row]), expected);
    }

    #[test]
    fn pools_with_their_ranges() {
        let out = ip_local_pool(&[
            PoolRow {
                name: "rapool".into(),
                begin: Ipv4Addr::new(10, 99, 0, 10),
                end: Ipv4Addr::new(10, 99, 0, 50),
                free: 40,
                in_use: 1,
            },
            PoolRow {
                name: "rapool".into(),
                begin: Ipv4Addr::new(10, 99, 1, 1),
                end: Ipv4Addr::new(10, 99, 1, 2),
                free: 2,
                in_use: 0,
            },
        ]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("Pool") && lines[0].contains("In use"));
        assert!(lines[1].trim_start().starts_with("rapool"));
        assert!(lines[1].contains("10.99.0.10") && lines[1].ends_with("1"));
        // The second range of the same pool does not repeat its name.
        assert!(lines[2].trim_start().starts_with("10.99.1.1"));
    }
}
