//! A classic pcap writer (the libpcap file format, as documented in
//! `pcap-savefile(5)` and draft-ietf-opsawg-pcap): a 24-byte file header,
//! then a 16-byte record header per packet. Link type 101, `LINKTYPE_RAW`:
//! each packet starts with its IPv4 header, so no link layer is invented.

use std::io::{self, Write};
use std::time::Duration;

/// `LINKTYPE_RAW`: raw IPv4/IPv6, no link-layer header.
pub const LINKTYPE_RAW: u32 = 101;

/// The magic number of a classic pcap file with microsecond timestamps.
pub const MAGIC_MICROSECONDS: u32 = 0xa1b2_c3d4;

/// Writes packets to a classic pcap file (little-endian, microsecond
/// timestamps, link type [`LINKTYPE_RAW`]).
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Starts a file: writes the file header. Packets longer than
    /// `snaplen` are truncated in the file (their original length kept).
    pub fn new(mut out: W, snaplen: u32) -> io::Result<Self> {
        let mut header = [0u8; 24];
        header[0..4].copy_from_slice(&MAGIC_MICROSECONDS.to_le_bytes());
        header[4..6].copy_from_slice(&2u16.to_le_bytes());
        header[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs: 0.
        header[16..20].copy_from_slice(&snaplen.to_le_bytes());
        header[20..24].copy_from_slice(&LINKTYPE_RAW.to_le_bytes());
        out.write_all(&header)?;
        Ok(Self { out, snaplen })
    }

    /// Writes one packet with its timestamp since the Unix epoch.
    pub fn write_packet(&mut self, timestamp: Duration, packet: &[u8]) -> io::Result<()> {
        let too_big = || io::Error::new(io::ErrorKind::InvalidInput, "packet over 4 GiB");
        let original = u32::try_from(packet.len()).map_err(|_| too_big())?;
        let kept = original.min(self.snaplen);
        let seconds = u32::try_from(timestamp.as_secs())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "timestamp after 2106"))?;
        let mut record = [0u8; 16];
        record[0..4].copy_from_slice(&seconds.to_le_bytes());
        record[4..8].copy_from_slice(&timestamp.subsec_micros().to_le_bytes());
        record[8..12].copy_from_slice(&kept.to_le_bytes());
        record[12..16].copy_from_slice(&original.to_le_bytes());
        self.out.write_all(&record)?;
        let kept = usize::try_from(kept).map_err(|_| too_big())?;
        self.out.write_all(packet.get(..kept).unwrap_or(packet))
    }

    /// Flushes and returns the writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
