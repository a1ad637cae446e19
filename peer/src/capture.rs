//! `ikev1-peer.pcap`: what the peer sent and received on its IKE, ESP and
//! TED sockets, as IPv4 packets (classic pcap, `LINKTYPE_RAW`), so that
//! Wireshark or tshark can decrypt it with the key tables.
//!
//! ESP arrives and leaves as whole IPv4 packets and is written as it is.
//! A UDP socket hands over only the payload: the IPv4 and UDP headers are
//! rebuilt around it (TTL 64, checksums computed), which is what the wire
//! carried up to the TTL and the IP identification.

use std::io::{self, Write};
use std::net::SocketAddrV4;
use std::time::{SystemTime, UNIX_EPOCH};

use esp::ip::{self as packet, Ipv4Header};

/// The pcap snapshot length: whole packets.
const SNAPLEN: u32 = 65_535;
/// The TTL written in rebuilt headers.
const TTL: u8 = 64;

/// `LINKTYPE_RAW`: each record starts with its IPv4 header.
pub const LINKTYPE_RAW: u32 = 101;

/// A capture file being written (classic pcap as `pcap-savefile(5)`
/// describes it: little-endian, microsecond timestamps).
#[derive(Debug)]
pub struct Capture<W: Write> {
    out: W,
    packets: u64,
}

/// An IPv4/UDP packet around `payload`, as the wire carried it.
///
/// # Errors
/// The payload is too long for one IPv4 packet.
pub fn udp_packet(
    source: SocketAddrV4,
    destination: SocketAddrV4,
    payload: &[u8],
) -> Result<Vec<u8>, packet::PacketError> {
    packet::udp(
        Ipv4Header::new(*source.ip(), *destination.ip(), packet::protocol::UDP).with_ttl(TTL),
        source.port(),
        destination.port(),
        payload,
    )
}

impl<W: Write> Capture<W> {
    /// Starts a capture (writes the file header).
    ///
    /// # Errors
    /// The writer's.
    pub fn new(mut out: W) -> io::Result<Self> {
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        // thiszone, sigfigs
        header.extend_from_slice(&[0; 8]);
        header.extend_from_slice(&SNAPLEN.to_le_bytes());
        header.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
        out.write_all(&header)?;
        Ok(Self { out, packets: 0 })
    }

    /// Records an IPv4 packet.
    ///
    /// # Errors
    /// The writer's.
    pub fn ip(&mut self, at: SystemTime, packet: &[u8]) -> io::Result<()> {
        let ts = at.duration_since(UNIX_EPOCH).unwrap_or_default();
        // Past 2106 the seconds field wraps; the file stays readable.
        let seconds = u32::try_from(ts.as_secs() & u64::from(u32::MAX)).unwrap_or(0);
        let len = u32::try_from(packet.len())
            .ok()
            .filter(|l| *l <= SNAPLEN)
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::InvalidInput, "packet over 65535 bytes")
            })?;
        let mut record = [0u8; 16];
        for (i, v) in [seconds, ts.subsec_micros(), len, len]
            .into_iter()
            .enumerate()
        {
            if let Some(field) = record.get_mut(i * 4..i * 4 + 4) {
                field.copy_from_slice(&v.to_le_bytes());
            }
        }
        self.out.write_all(&record)?;
        self.out.write_all(packet)?;
        self.packets = self.packets.saturating_add(1);
        Ok(())
    }

    /// Records a UDP datagram, rebuilding its IPv4 and UDP headers.
    ///
    /// # Errors
    /// The writer's; a payload too long for IPv4.
    pub fn udp(
        &mut self,
        at: SystemTime,
        source: SocketAddrV4,
        destination: SocketAddrV4,
        payload: &[u8],
    ) -> io::Result<()> {
        let p = udp_packet(source, destination, payload)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        self.ip(at, &p)
    }

    /// Flushes the writer.
    ///
    /// # Errors
    /// The writer's.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Packets written.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    /// The writer's.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_datagram_is_recorded_with_its_headers() {
        let mut c = Capture::new(Vec::new()).unwrap();
        let t = UNIX_EPOCH + Duration::from_micros(1_000_000_250);
        let src: SocketAddrV4 = "11.11.11.1:500".parse().unwrap();
        let dst: SocketAddrV4 = "11.11.11.2:500".parse().unwrap();
        c.udp(t, src, dst, b"isakmp").unwrap();
        assert_eq!(c.packets(), 1);
        let bytes = c.into_inner().unwrap();
        // pcap(5): magic a1b2c3d4 (little-endian), version 2.4, LINKTYPE_RAW 101.
        assert_eq!(bytes.get(0..4), Some(&[0xd4, 0xc3, 0xb2, 0xa1][..]));
        assert_eq!(bytes.get(20..24), Some(&101u32.to_le_bytes()[..]));
        // One record: 1000 s + 250 us, 20 + 8 + 6 bytes kept and on the wire.
        let rec = bytes.get(24..40).unwrap();
        assert_eq!(rec.get(0..4), Some(&1000u32.to_le_bytes()[..]));
        assert_eq!(rec.get(4..8), Some(&250u32.to_le_bytes()[..]));
        assert_eq!(rec.get(8..12), Some(&34u32.to_le_bytes()[..]));
        let ip = bytes.get(40..).unwrap();
        assert_eq!(ip.len(), 34);
        // IPv4, UDP, the addresses, then ports 500 -> 500, length 14.
        assert_eq!(ip.first(), Some(&0x45));
        assert_eq!(ip.get(9), Some(&17));
        assert_eq!(ip.get(12..20), Some(&[11, 11, 11, 1, 11, 11, 11, 2][..]));
        assert_eq!(ip.get(20..26), Some(&[0x01, 0xf4, 0x01, 0xf4, 0, 14][..]));
        assert_eq!(ip.get(28..), Some(&b"isakmp"[..]));
        // The IPv4 header checksum verifies (RFC 791: one's complement sum 0xffff).
        assert_eq!(packet::checksum(ip.get(..20).unwrap()), 0);
    }
}
