//! The operating-system side: sockets and the TUN device (Linux).
//!
//! | what | socket | why this one |
//! |---|---|---|
//! | IKE (RFC 2408 s.2.5.2) | UDP, bound to `--ike` | the peer's own address and port |
//! | ESP (RFC 4303) | raw IPv4, protocol 50, bound to `--esp`, `IP_HDRINCL` | the kernel hands a raw socket every ESP packet to that address, IP header included (`raw(7)`); with no kernel IPsec state it only counts them as `XfrmInNoStates`. The gateway builds the outer header itself, so the socket sends it as it is |
//! | TED probes, cleartext bypass | raw IPv4, `IPPROTO_RAW`, bound to the outside device (`SO_BINDTODEVICE`) | a probe's source is the protected host's address (docs/ted-wire.md, "The exchange"), which no UDP socket of this router can send from; binding to the outside device keeps it off the TUN device even when the probed host's prefix is routed into it |
//! | datagrams to forward | raw IPv4, `IPPROTO_RAW`, not bound | an intercepted datagram that is not a TED probe goes back to the kernel's routing |
//! | TED interception (`--intercept`) | UDP, `0.0.0.0:500`, `SO_REUSEADDR`, `IP_PKTINFO` | see below |
//! | plaintext | TUN device (`IFF_TUN \| IFF_NO_PI`) | opened when it exists (the harness creates it), created on `--tun-create` |
//!
//! # Intercepting TED probes on the path
//!
//! A TED responder is a router on the path that answers UDP 500 addressed
//! to a protected host behind it. Linux forwards such a datagram instead of
//! delivering it, so no socket sees it. What works in a network namespace
//! with nothing but iproute2 (no netfilter, no TPROXY module, both of
//! which the test machine lacks): a policy rule that makes UDP 500 arriving
//! on the outside interface local,
//!
//! ```text
//! ip rule add iif OUTSIDE ipproto udp dport 500 lookup 500 priority 500
//! ip route add local 0.0.0.0/0 dev lo table 500
//! ```
//!
//! and a UDP socket bound to `0.0.0.0:500` with `SO_REUSEADDR` (the IKE
//! socket, bound to the router's own address, also has it and keeps the
//! datagrams for that address, the more specific binding) that reads each
//! datagram's original destination from `IP_PKTINFO`. A datagram to a
//! protected host that is not a probe this router answers is handed back to
//! the kernel through the forwarding socket (its TTL and IP identification
//! are not kept).

use std::io::{self, ErrorKind, IoSliceMut, Read};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::process::Command;

use nix::sys::socket::{ControlMessageOwned, MsgFlags, SockaddrIn, recvmsg, setsockopt, sockopt};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// IANA protocol number of ESP.
pub const IPPROTO_ESP: i32 = 50;
/// IANA protocol number 255, "raw": the caller writes the whole IPv4 header.
pub const IPPROTO_RAW: i32 = 255;

/// The MTU of a TUN device this peer creates: an Ethernet MTU less the most
/// ESP can add in tunnel mode, UDP-encapsulated for NAT traversal included
/// ([`ted::gateway::Gateway::HEADROOM`] +
/// [`TAILROOM`](ted::gateway::Gateway::TAILROOM) = 101 bytes), rounded down
/// to a multiple of 16.
/// The peer does not fragment: an ESP packet over the outside MTU cannot
/// be sent (the raw socket refuses it, `EMSGSIZE`), so the protected side
/// must not hand it packets that would grow past it.
pub const TUN_MTU: u16 = 1392;

/// The IKE socket: UDP, bound to `addr`, non-blocking. `reuse` sets
/// `SO_REUSEADDR` (needed next to an intercept socket on the same port).
///
/// # Errors
/// Creating or binding the socket.
pub fn ike_socket(addr: SocketAddrV4, reuse: bool) -> io::Result<std::net::UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(reuse)?;
    s.bind(&SockAddr::from(addr))
        .map_err(|e| io::Error::new(e.kind(), format!("bind the IKE socket to {addr}: {e}")))?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// The ESP socket: raw IPv4, protocol 50, bound to `addr`, with
/// `IP_HDRINCL` (we send whole packets), non-blocking.
///
/// # Errors
/// Creating (needs `CAP_NET_RAW`) or binding the socket.
pub fn esp_socket(addr: Ipv4Addr) -> io::Result<Socket> {
    let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_ESP)))
        .map_err(|e| io::Error::new(e.kind(), format!("raw IPPROTO_ESP socket: {e}")))?;
    s.bind(&SockAddr::from(SocketAddrV4::new(addr, 0)))
        .map_err(|e| io::Error::new(e.kind(), format!("bind the ESP socket to {addr}: {e}")))?;
    s.set_header_included_v4(true)?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// A send-only raw socket for whole IPv4 packets (`IPPROTO_RAW` sockets
/// receive nothing, `raw(7)`), bound to `device` when given.
///
/// # Errors
/// Creating the socket (needs `CAP_NET_RAW`); binding to the device.
pub fn raw_socket(device: Option<&str>) -> io::Result<Socket> {
    let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_RAW)))
        .map_err(|e| io::Error::new(e.kind(), format!("raw IPPROTO_RAW socket: {e}")))?;
    if let Some(d) = device {
        s.bind_device(Some(d.as_bytes())).map_err(|e| {
            io::Error::new(e.kind(), format!("bind a raw socket to device {d}: {e}"))
        })?;
    }
    s.set_nonblocking(true)?;
    Ok(s)
}

/// The intercept socket of a TED responder on the path (see the module
/// documentation): UDP bound to `0.0.0.0:port`, `SO_REUSEADDR`,
/// `IP_PKTINFO`, non-blocking.
///
/// # Errors
/// Creating or binding the socket.
pub fn intercept_socket(port: u16) -> io::Result<Socket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    setsockopt(&s, sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from)?;
    let any = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
    s.bind(&SockAddr::from(any)).map_err(|e| {
        io::Error::new(e.kind(), format!("bind the intercept socket to {any}: {e}"))
    })?;
    s.set_nonblocking(true)?;
    Ok(s)
}

/// Reads one datagram from the intercept socket: its length, sender and
/// the address it was sent to (from `IP_PKTINFO`).
///
/// # Errors
/// The socket's (`WouldBlock` when nothing is waiting); `InvalidData` when
/// the kernel gave no sender or no destination.
pub fn recv_intercepted(
    socket: &Socket,
    buf: &mut [u8],
) -> io::Result<(usize, SocketAddrV4, Ipv4Addr)> {
    let mut iov = [IoSliceMut::new(buf)];
    let mut cmsg = nix::cmsg_space!(nix::libc::in_pktinfo);
    let msg = recvmsg::<SockaddrIn>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::empty(),
    )
    .map_err(io::Error::from)?;
    let from = msg
        .address
        .map(|a| SocketAddrV4::new(a.ip(), a.port()))
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "datagram without a sender"))?;
    let mut destination = None;
    for c in msg.cmsgs().map_err(io::Error::from)? {
        if let ControlMessageOwned::Ipv4PacketInfo(info) = c {
            destination = Some(Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr)));
        }
    }
    let destination = destination
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "datagram without IP_PKTINFO"))?;
    Ok((msg.bytes, from, destination))
}

/// Sends a whole IPv4 packet on a raw socket, to the destination its
/// header names.
///
/// # Errors
/// A packet too short to have a destination; the socket's.
pub fn send_ip(socket: &Socket, packet: &[u8]) -> io::Result<usize> {
    let dst = packet
        .get(16..20)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(Ipv4Addr::from)
        .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, "not an IPv4 packet"))?;
    socket.send_to(packet, &SockAddr::from(SocketAddrV4::new(dst, 0)))
}

/// Reads one packet from a raw socket (IP header included).
///
/// # Errors
/// The socket's (`WouldBlock` when nothing is waiting).
pub fn recv_raw(socket: &Socket, buf: &mut [u8]) -> io::Result<usize> {
    let mut s: &Socket = socket;
    s.read(buf)
}

/// The source address the kernel would use to reach `destination` (a UDP
/// socket connected to it, which sends nothing, tells).
///
/// # Errors
/// No route to `destination`.
pub fn source_address_towards(destination: Ipv4Addr) -> io::Result<Ipv4Addr> {
    let s = std::net::UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
    s.connect(SocketAddrV4::new(destination, 500))
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("no route to {destination} (give --local): {e}"),
            )
        })?;
    match s.local_addr()? {
        std::net::SocketAddr::V4(a) if !a.ip().is_unspecified() => Ok(*a.ip()),
        other => Err(io::Error::other(format!(
            "no IPv4 source address towards {destination} ({other}): give --local"
        ))),
    }
}

/// The name of the network device that has `addr`, if any.
pub fn device_with_address(addr: Ipv4Addr) -> Option<String> {
    nix::ifaddrs::getifaddrs().ok()?.find_map(|ifa| {
        let a = ifa.address.as_ref()?.as_sockaddr_in()?.ip();
        (a == addr).then_some(ifa.interface_name)
    })
}

/// Opens the TUN device `name` (`IFF_TUN | IFF_NO_PI`), non-blocking. With
/// `create`, a device that does not exist is created with MTU [`TUN_MTU`]
/// and brought up, and
/// each of `routes` (the remote proxies) is routed into it with `ip route
/// replace` (which tolerates a route that exists); without, a missing
/// device is an error.
///
/// # Errors
/// The device does not exist (without `create`), cannot be opened, or a
/// route cannot be added.
pub fn open_tun(name: &str, create: bool, routes: &[String]) -> io::Result<tun_rs::SyncDevice> {
    let exists = std::path::Path::new("/sys/class/net").join(name).exists();
    if !exists && !create {
        return Err(io::Error::new(
            ErrorKind::NotFound,
            format!("TUN device {name} does not exist (create it, or pass --tun-create)"),
        ));
    }
    let mut builder = tun_rs::DeviceBuilder::new()
        .name(name)
        .packet_information(false);
    if !exists {
        // An existing device keeps the MTU its creator gave it.
        builder = builder.mtu(TUN_MTU);
    }
    let dev = builder
        .build_sync()
        .map_err(|e| io::Error::new(e.kind(), format!("open TUN device {name}: {e}")))?;
    dev.set_nonblocking(true)?;
    if create {
        for r in routes {
            let status = Command::new("ip")
                .args(["route", "replace", r, "dev", name])
                .status()?;
            if !status.success() {
                return Err(io::Error::other(format!(
                    "ip route replace {r} dev {name}: {status}"
                )));
            }
        }
    }
    Ok(dev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_tun_device_leaves_room_for_esp() {
        let most = ted::gateway::Gateway::HEADROOM + ted::gateway::Gateway::TAILROOM;
        assert!(usize::from(TUN_MTU) + most <= 1500);
    }

    #[test]
    fn loopback_is_found_by_its_address() {
        assert_eq!(
            device_with_address(Ipv4Addr::LOCALHOST).as_deref(),
            Some("lo")
        );
        assert_eq!(device_with_address(Ipv4Addr::new(192, 0, 2, 254)), None);
    }

    #[test]
    fn the_source_towards_loopback_is_loopback() {
        assert_eq!(
            source_address_towards(Ipv4Addr::LOCALHOST).unwrap(),
            Ipv4Addr::LOCALHOST
        );
    }

    #[test]
    fn send_ip_needs_a_destination() {
        let s = Socket::new(Domain::IPV4, Type::DGRAM, None).unwrap();
        let e = send_ip(&s, &[0x45, 0, 0]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn intercepted_datagrams_carry_their_destination() {
        // Port 0 cannot be intercepted; a free high port on loopback shows
        // the IP_PKTINFO path.
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let s = intercept_socket(port).unwrap();
        let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        tx.send_to(b"probe", ("127.0.0.2", port)).unwrap();
        let mut buf = [0u8; 64];
        let mut got = None;
        for _ in 0..200 {
            match recv_intercepted(&s, &mut buf) {
                Ok(x) => {
                    got = Some(x);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(e) => panic!("{e}"),
            }
        }
        let (n, from, to) = got.expect("the datagram arrived");
        assert_eq!(buf.get(..n), Some(&b"probe"[..]));
        assert_eq!(from.port(), tx.local_addr().unwrap().port());
        assert_eq!(to, Ipv4Addr::new(127, 0, 0, 2));
    }
}
