//! Third-party captures: tcpdump's ESP test captures decrypt to the inner
//! packets tcpdump's own expected output shows (vectors/captures/
//! tcpdump_esp_expected.txt). tcpdump never checks ICVs and the integrity
//! keys are unpublished, so the 12-byte ICV is stripped before an
//! encryption-only SA (the explicit `allow_no_integrity` opt-in) opens the
//! packet; padding, next header and the inner packets are checked.

// Test code: a panic is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::time::Instant;

use esp::{AesKeySize, Direction, Encryption, Integrity, Keys, Mode, Sa, SaParams, Spi};
use pcap_file::pcap::PcapReader;

fn ip_packets(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut r = PcapReader::new(bytes).unwrap();
    let link = r.header().datalink;
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        let ip = match link {
            pcap_file::DataLink::ETHERNET => p.data[14..].to_vec(),
            pcap_file::DataLink::NULL => p.data[4..].to_vec(),
            _ => p.data.to_vec(),
        };
        out.push(ip);
    }
    out
}

fn strip_icv(ip: &mut Vec<u8>, icv: usize) {
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]])) - icv;
    ip.truncate(total);
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
}

fn sa(spi: u32, enc: Encryption, key: &str) -> Sa {
    let mut p = SaParams::new(
        Spi(spi),
        Direction::Inbound,
        Mode::Tunnel {
            src: [192, 1, 2, 23].into(),
            dst: [192, 1, 2, 45].into(),
        },
        enc,
        Integrity::None,
        Keys::new(&hex::decode(key).unwrap(), &[]),
    );
    p.allow_no_integrity = true;
    p.allow_weak = true;
    Sa::new(p, Instant::now()).unwrap()
}

fn check_ping(inner: &[u8], n: usize) {
    // IP 192.0.2.1 > 192.0.1.1: ICMP echo request, id 28416, seq 1280 + 256 (n - 1), length 64
    assert_eq!(inner.len(), 84);
    assert_eq!(&inner[12..16], &[192, 0, 2, 1]);
    assert_eq!(&inner[16..20], &[192, 0, 1, 1]);
    assert_eq!(inner[9], 1);
    assert_eq!(inner[20], 8, "echo request");
    assert_eq!(u16::from_be_bytes([inner[24], inner[25]]), 28416);
    assert_eq!(
        usize::from(u16::from_be_bytes([inner[26], inner[27]])),
        1280 + 256 * n
    );
}

#[test]
fn tcpdump_3des_and_aes256_captures() {
    let now = Instant::now();
    for (file, spi, enc, key) in [
        (
            &include_bytes!("../../vectors/captures/02-sunrise-sunset-esp.pcap")[..],
            0x1234_5678,
            Encryption::TripleDesCbc,
            "4043434545464649494a4a4c4c4f4f515152525454575758",
        ),
        (
            &include_bytes!("../../vectors/captures/08-sunrise-sunset-aes.pcap")[..],
            0xd123_4567,
            Encryption::AesCbc(AesKeySize::Aes256),
            "aaaabbbbccccdddd4043434545464649494a4a4c4c4f4f515152525454575758",
        ),
    ] {
        let mut s = sa(spi, enc, key);
        let pkts = ip_packets(file);
        assert_eq!(pkts.len(), 8);
        for (n, mut ip) in pkts.into_iter().enumerate() {
            strip_icv(&mut ip, 12);
            let d = s.decapsulate(now, &mut ip).unwrap();
            assert_eq!(d.seq, n as u64 + 1);
            assert_eq!(d.next_header, 4);
            check_ping(&ip[d.packet], n);
        }
        assert_eq!(s.counters().pkts_decrypt, 8);
    }
}

#[test]
fn tcpdump_nested_esp_capture() {
    let now = Instant::now();
    let mut outer = sa(
        0x1234_5678,
        Encryption::TripleDesCbc,
        "43434545464649494a4a4c4c4f4f51515252545457575840",
    );
    let mut inner_sa = sa(
        0xabcd_abcd,
        Encryption::TripleDesCbc,
        "434545464649494a4a4c4c4f4f5151525254545757584043",
    );
    let pkts = ip_packets(include_bytes!(
        "../../vectors/captures/08-sunrise-sunset-esp2.pcap"
    ));
    assert_eq!(pkts.len(), 8);
    for (n, mut ip) in pkts.into_iter().enumerate() {
        strip_icv(&mut ip, 12);
        let d = outer.decapsulate(now, &mut ip).unwrap();
        let mut mid = ip[d.packet].to_vec();
        // IP 192.1.2.23 > 192.0.1.1: ESP(spi=0xabcdabcd,seq=n)
        assert_eq!(&mid[12..20], &[192, 1, 2, 23, 192, 0, 1, 1]);
        strip_icv(&mut mid, 12);
        let d = inner_sa.decapsulate(now, &mut mid).unwrap();
        assert_eq!(d.seq, n as u64 + 1);
        check_ping(&mid[d.packet], n);
    }
}
