//! `show crypto ipsec sa` (IOS 12.2: per interface and crypto map, per
//! pair of proxy identities, the counters and the inbound and outbound SAs).

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use crate::acl::ProxyIdent;
use crate::config::{EncapsulationMode, Transform};

/// The packet counters of one pair of proxies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IpsecCounters {
    /// Packets encapsulated.
    pub encaps: u64,
    /// Packets encrypted.
    pub encrypt: u64,
    /// Packets given an ICV.
    pub digest: u64,
    /// Packets decapsulated.
    pub decaps: u64,
    /// Packets decrypted.
    pub decrypt: u64,
    /// Packets whose ICV verified.
    pub verify: u64,
    /// Packets compressed.
    pub compressed: u64,
    /// Packets decompressed.
    pub decompressed: u64,
    /// Packets not compressed.
    pub not_compressed: u64,
    /// Compressions that failed.
    pub compression_failed: u64,
    /// Packets not decompressed.
    pub not_decompressed: u64,
    /// Decompressions that failed.
    pub decompression_failed: u64,
    /// Send errors.
    pub send_errors: u64,
    /// Receive errors.
    pub receive_errors: u64,
}

/// One IPsec SA (one direction).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IpsecSa {
    /// Its SPI.
    pub spi: u32,
    /// Its transforms, as configured (`esp-des esp-md5-hmac`).
    pub transforms: Vec<Transform>,
    /// Tunnel or transport.
    pub mode: EncapsulationMode,
    /// Crypto engine slot.
    pub slot: u32,
    /// Connection ID (2000, 2001, ...).
    pub conn_id: u32,
    /// Flow ID.
    pub flow_id: u32,
    /// The crypto map.
    pub crypto_map: String,
    /// Kilobytes left before rekeying.
    pub remaining_kilobytes: u64,
    /// Seconds left before rekeying.
    pub remaining_seconds: u64,
    /// The cipher's IV size in bytes.
    pub iv_size: u32,
    /// Whether anti-replay is on.
    pub replay_detection: bool,
}

/// The SAs of one pair of proxy identities.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IpsecFlow {
    /// The protected VRF (empty: the global table).
    pub protected_vrf: String,
    /// The local proxy.
    pub local_ident: ProxyIdent,
    /// The remote proxy.
    pub remote_ident: ProxyIdent,
    /// The peer.
    pub current_peer: Ipv4Addr,
    /// The flags between the braces of `PERMIT, flags={}`.
    pub flags: String,
    /// Counters.
    pub counters: IpsecCounters,
    /// This router's end of the SAs.
    pub local_endpoint: Ipv4Addr,
    /// The peer's end.
    pub remote_endpoint: Ipv4Addr,
    /// Path MTU.
    pub path_mtu: u32,
    /// The interface's MTU.
    pub media_mtu: u32,
    /// The outbound SPI in use (0 if none).
    pub current_outbound_spi: u32,
    /// Inbound ESP SAs.
    pub inbound_esp: Vec<IpsecSa>,
    /// Inbound AH SAs.
    pub inbound_ah: Vec<IpsecSa>,
    /// Inbound IPComp SAs.
    pub inbound_pcp: Vec<IpsecSa>,
    /// Outbound ESP SAs.
    pub outbound_esp: Vec<IpsecSa>,
    /// Outbound AH SAs.
    pub outbound_ah: Vec<IpsecSa>,
    /// Outbound IPComp SAs.
    pub outbound_pcp: Vec<IpsecSa>,
}

/// The SAs of one interface with a crypto map.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IpsecInterface {
    /// The interface.
    pub interface: String,
    /// Its crypto map.
    pub crypto_map: String,
    /// The crypto map's local address.
    pub local_address: Ipv4Addr,
    /// One block per pair of proxies.
    pub flows: Vec<IpsecFlow>,
}

fn sa_block(out: &mut String, title: &str, sas: &[IpsecSa]) {
    let _ = writeln!(out, "     {title}:");
    for sa in sas {
        let _ = writeln!(out, "      spi: 0x{:X}({})", sa.spi, sa.spi);
        out.push_str("        transform: ");
        for t in &sa.transforms {
            let _ = write!(out, "{t} ");
        }
        out.push_str(",\n");
        let mode = match sa.mode {
            EncapsulationMode::Tunnel => "Tunnel",
            EncapsulationMode::Transport => "Transport",
        };
        let _ = writeln!(out, "        in use settings ={{{mode}, }}");
        let _ = writeln!(
            out,
            "        slot: {}, conn id: {}, flow_id: {}, crypto map: {}",
            sa.slot, sa.conn_id, sa.flow_id, sa.crypto_map
        );
        let _ = writeln!(
            out,
            "        sa timing: remaining key lifetime (k/sec): ({}/{})",
            sa.remaining_kilobytes, sa.remaining_seconds
        );
        let _ = writeln!(out, "        IV size: {} bytes", sa.iv_size);
        let _ = writeln!(
            out,
            "        replay detection support: {}",
            if sa.replay_detection { "Y" } else { "N" }
        );
    }
    out.push('\n');
}

/// `show crypto ipsec sa`.
pub fn ipsec_sa(interfaces: &[IpsecInterface]) -> String {
    let mut out = String::new();
    for i in interfaces {
        let _ = writeln!(out, "\ninterface: {}", i.interface);
        let _ = writeln!(
            out,
            "    Crypto map tag: {}, local addr. {}",
            i.crypto_map, i.local_address
        );
        for f in &i.flows {
            let c = &f.counters;
            out.push('\n');
            let _ = writeln!(out, "   protected vrf:{}", optional(&f.protected_vrf));
            let _ = writeln!(
                out,
                "   local  ident (addr/mask/prot/port): ({})",
                f.local_ident
            );
            let _ = writeln!(
                out,
                "   remote ident (addr/mask/prot/port): ({})",
                f.remote_ident
            );
            let _ = writeln!(out, "   current_peer: {}", f.current_peer);
            let _ = writeln!(out, "     PERMIT, flags={{{}}}", f.flags);
            let _ = writeln!(
                out,
                "    #pkts encaps: {}, #pkts encrypt: {}, #pkts digest {}",
                c.encaps, c.encrypt, c.digest
            );
            let _ = writeln!(
                out,
                "    #pkts decaps: {}, #pkts decrypt: {}, #pkts verify {}",
                c.decaps, c.decrypt, c.verify
            );
            let _ = writeln!(
                out,
                "    #pkts compressed: {}, #pkts decompressed: {}",
                c.compressed, c.decompressed
            );
            let _ = writeln!(
                out,
                "    #pkts not compressed: {}, #pkts compr. failed: {}",
                c.not_compressed, c.compression_failed
            );
            let _ = writeln!(
                out,
                "    #pkts not decompressed: {}, #pkts decompress failed: {}",
                c.not_decompressed, c.decompression_failed
            );
            let _ = writeln!(
                out,
                "    #send errors {}, #recv errors {}",
                c.send_errors, c.receive_errors
            );
            out.push('\n');
            let _ = writeln!(
                out,
                "     local crypto endpt.: {}, remote crypto endpt.: {}",
                f.local_endpoint, f.remote_endpoint
            );
            let _ = writeln!(
                out,
                "     path mtu {}, media mtu {}",
                f.path_mtu, f.media_mtu
            );
            let _ = writeln!(
                out,
                "     current outbound spi: {:X}",
                f.current_outbound_spi
            );
            out.push('\n');
            sa_block(&mut out, "inbound esp sas", &f.inbound_esp);
            sa_block(&mut out, "inbound ah sas", &f.inbound_ah);
            sa_block(&mut out, "inbound pcp sas", &f.inbound_pcp);
            sa_block(&mut out, "outbound esp sas", &f.outbound_esp);
            sa_block(&mut out, "outbound ah sas", &f.outbound_ah);
            sa_block(&mut out, "outbound pcp sas", &f.outbound_pcp);
        }
    }
    out
}

/// ` NAME`, or nothing for an empty name.
fn optional(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" {s}")
    }
}
