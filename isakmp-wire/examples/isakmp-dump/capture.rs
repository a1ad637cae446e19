//! Pulling ISAKMP datagrams out of pcap/pcapng captures.
//!
//! Link types: Ethernet (1), BSD loopback/NULL (0) and OpenBSD LOOP (108),
//! raw IP (101, and the DLT_RAW values 12 and 14), IPv4 (228), IPv6 (229),
//! Linux cooked capture (113). IPv4/IPv6 fragments are reassembled. UDP
//! port 500 carries ISAKMP directly; on port 4500 ISAKMP follows a 4-byte
//! zero non-ESP marker (RFC 3948 s.2.2), a single 0xff byte is a NAT
//! keepalive (RFC 3948 s.2.3) and anything else is ESP-in-UDP: both are
//! skipped.
//!
//! Shared by the `isakmp-dump` example and the capture tests
//! (`tests/captures.rs` includes this file).

#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};

use etherparse::defrag::IpDefragPool;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

/// One ISAKMP datagram found in a capture.
#[derive(Clone, Debug)]
pub(crate) struct Datagram {
    /// 1-based frame number in the capture (the frame that completed it).
    pub(crate) frame: usize,
    /// Source address and port.
    pub(crate) src: SocketAddr,
    /// Destination address and port.
    pub(crate) dst: SocketAddr,
    /// The ISAKMP message bytes (after the non-ESP marker on port 4500).
    pub(crate) isakmp: Vec<u8>,
    /// Whether it came on port 4500 after a non-ESP marker.
    pub(crate) natt: bool,
}

/// Reads every frame of a pcap or pcapng capture.
pub(crate) fn frames(bytes: &[u8]) -> Result<Vec<(u32, Vec<u8>)>, String> {
    let mut out = Vec::new();
    if bytes.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = PcapNgReader::new(bytes).map_err(|e| format!("not a pcapng file: {e}"))?;
        // Link types of the interfaces declared so far (in this section).
        let mut links: Vec<u32> = Vec::new();
        while let Some(block) = r.next_block() {
            let block = block.map_err(|e| format!("pcapng read error: {e}"))?;
            match block {
                Block::SectionHeader(_) => links.clear(),
                Block::InterfaceDescription(idb) => links.push(u32::from(idb.linktype)),
                Block::EnhancedPacket(epb) => {
                    let link = *links
                        .get(epb.interface_id as usize)
                        .ok_or("packet on an undeclared pcapng interface")?;
                    out.push((link, epb.data.into_owned()));
                }
                Block::SimplePacket(spb) => {
                    let link = *links.first().ok_or("packet before any pcapng interface")?;
                    out.push((link, spb.data.into_owned()));
                }
                _ => {}
            }
        }
    } else {
        let mut r =
            PcapReader::new(bytes).map_err(|e| format!("not a pcap or pcapng file: {e}"))?;
        let link = u32::from(r.header().datalink);
        while let Some(p) = r.next_packet() {
            let p = p.map_err(|e| format!("pcap read error: {e}"))?;
            out.push((link, p.data.into_owned()));
        }
    }
    Ok(out)
}

fn slice(link: u32, data: &[u8]) -> Option<SlicedPacket<'_>> {
    match link {
        1 => SlicedPacket::from_ethernet(data).ok(),
        113 => SlicedPacket::from_linux_sll(data).ok(),
        // BSD NULL / OpenBSD LOOP: a 4-byte address family, then IP.
        0 | 108 => SlicedPacket::from_ip(data.get(4..)?).ok(),
        12 | 14 | 101 | 228 | 229 => SlicedPacket::from_ip(data).ok(),
        _ => None,
    }
}

fn addresses(net: &NetSlice<'_>) -> (IpAddr, IpAddr) {
    match net {
        NetSlice::Ipv4(v4) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
        ),
        NetSlice::Ipv6(v6) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
        ),
        _ => (IpAddr::from([0, 0, 0, 0]), IpAddr::from([0, 0, 0, 0])),
    }
}

/// Classifies a UDP payload: the ISAKMP bytes, if any.
fn isakmp_of(sport: u16, dport: u16, payload: &[u8]) -> Option<(Vec<u8>, bool)> {
    if sport == 4500 || dport == 4500 {
        // Non-ESP marker: four zero bytes, then ISAKMP.
        if payload.len() > 4 && payload.get(..4) == Some(&[0, 0, 0, 0]) {
            return Some((payload.get(4..)?.to_vec(), true));
        }
        // NAT keepalive (0xff) or ESP in UDP.
        return None;
    }
    if sport == 500 || dport == 500 {
        return Some((payload.to_vec(), false));
    }
    None
}

/// Every ISAKMP datagram of a capture, in frame order.
pub(crate) fn isakmp_datagrams(bytes: &[u8]) -> Result<Vec<Datagram>, String> {
    let mut pool: IpDefragPool<(), ()> = IpDefragPool::new();
    let mut out = Vec::new();
    for (i, (link, data)) in frames(bytes)?.iter().enumerate() {
        let frame = i + 1;
        let Some(sliced) = slice(*link, data) else {
            continue;
        };
        let Some(net) = &sliced.net else { continue };
        let (sa, da) = addresses(net);
        if sliced.is_ip_payload_fragmented() {
            let Ok(Some(whole)) = pool.process_sliced_packet(&sliced, (), ()) else {
                continue;
            };
            if whole.ip_number != etherparse::IpNumber::UDP || whole.payload.len() < 8 {
                continue;
            }
            let p = &whole.payload;
            let sport = u16::from_be_bytes([p[0], p[1]]);
            let dport = u16::from_be_bytes([p[2], p[3]]);
            let ulen = usize::from(u16::from_be_bytes([p[4], p[5]])).clamp(8, p.len());
            if let Some((isakmp, natt)) = isakmp_of(sport, dport, &p[8..ulen]) {
                out.push(Datagram {
                    frame,
                    src: SocketAddr::new(sa, sport),
                    dst: SocketAddr::new(da, dport),
                    isakmp,
                    natt,
                });
            }
            continue;
        }
        let Some(TransportSlice::Udp(udp)) = &sliced.transport else {
            continue;
        };
        let (sport, dport) = (udp.source_port(), udp.destination_port());
        if let Some((isakmp, natt)) = isakmp_of(sport, dport, udp.payload()) {
            out.push(Datagram {
                frame,
                src: SocketAddr::new(sa, sport),
                dst: SocketAddr::new(da, dport),
                isakmp,
                natt,
            });
        }
    }
    Ok(out)
}
