//! A third party reads our IKEv1 fragments: Main Mode message 5 of a real
//! capture with certificates (`vectors/captures/ikev1-certs.pcap`, frame
//! 5: 1764 bytes, encrypted, an X.509 certificate inside) is cut by
//! `ike_sm::fragment::split` into fragment messages of at most 600 bytes;
//! our `Reassembler` puts them back together in reverse order, byte for
//! byte; and tshark (Wireshark's `dissect_cisco_fragmentation`) reads the
//! same fragment ID, numbers and LAST flag we wrote, reassembles them and
//! dissects the result as the original message (its cookies, length and
//! E flag).
//!
//! The tshark part runs when tshark is on the PATH. Without tshark it
//! fails when `REQUIRE_TSHARK=1` is set (CI), and otherwise says why it
//! skipped.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr,
    missing_docs
)]

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use ike_sm::fragment::{Reassembler, split};

/// The UDP payloads of a little-endian, Ethernet pcap of IPv4 datagrams.
fn udp_payloads(pcap: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&pcap[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    assert_eq!(u32::from_le_bytes(pcap[20..24].try_into().unwrap()), 1);
    let mut out = Vec::new();
    let mut off = 24;
    while off + 16 <= pcap.len() {
        let incl = usize::try_from(u32::from_le_bytes(
            pcap[off + 8..off + 12].try_into().unwrap(),
        ))
        .unwrap();
        let frame = &pcap[off + 16..off + 16 + incl];
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        out.push(ip[ihl + 8..total].to_vec());
        off += 16 + incl;
    }
    out
}

/// A pcap (Ethernet, IPv4, UDP 500 -> 500) of these UDP payloads.
fn write_pcap(path: &Path, payloads: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    for (i, p) in payloads.iter().enumerate() {
        let udp_len = u16::try_from(8 + p.len()).unwrap();
        let mut ip = vec![0x45, 0];
        ip.extend_from_slice(&(udp_len + 20).to_be_bytes());
        ip.extend_from_slice(&[0, 1, 0, 0, 64, 17, 0, 0]);
        ip.extend_from_slice(&[192, 168, 12, 118, 172, 16, 1, 103]);
        let sum = ip.chunks(2).fold(0u32, |acc, w| {
            acc + u32::from(u16::from_be_bytes([w[0], w[1]]))
        });
        let sum = !u16::try_from((sum & 0xffff) + (sum >> 16)).unwrap();
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&500u16.to_be_bytes());
        frame.extend_from_slice(&500u16.to_be_bytes());
        frame.extend_from_slice(&udp_len.to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(p);
        let len = u32::try_from(frame.len()).unwrap();
        out.extend_from_slice(&u32::try_from(i).unwrap().to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&frame);
    }
    fs::write(path, out).unwrap();
}

fn mm5() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../vectors/captures/ikev1-certs.pcap"
    );
    let frames = udp_payloads(&fs::read(path).unwrap());
    let m = frames[4].clone();
    assert_eq!(m.len(), 1764);
    assert_eq!(m[16], 5, "MM5 starts with ID");
    assert_eq!(m[19], 1, "MM5 is encrypted");
    m
}

fn scratch() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fragment_tshark-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn real_main_mode_5_splits_and_reassembles() {
    let original = mm5();
    let fragments = split(&original, 600, 1).unwrap();
    let sizes: Vec<usize> = fragments.iter().map(Vec::len).collect();
    assert_eq!(sizes, [600, 600, 600, 1764 - 3 * 564 + 36]);
    let peer: SocketAddr = "192.168.12.118:500".parse().unwrap();
    let mut r = Reassembler::default();
    let now = Instant::now();
    let mut out = None;
    for f in fragments.iter().rev() {
        out = r.insert(now, peer, f).unwrap();
    }
    assert_eq!(out, Some(original));
}

#[test]
fn tshark_reassembles_our_fragments() {
    if let Err(why) = Command::new("tshark").arg("--version").output() {
        if std::env::var("REQUIRE_TSHARK").as_deref() == Ok("1") {
            panic!("REQUIRE_TSHARK=1 but tshark cannot be run: {why}");
        }
        eprintln!("fragment_tshark: skipped: tshark cannot be run: {why}");
        return;
    }
    let original = mm5();
    let fragments = split(&original, 600, 1).unwrap();
    let dir = scratch();
    let pcap = dir.join("mm5-fragments.pcap");
    write_pcap(&pcap, &fragments);
    let output = Command::new("tshark")
        .env("HOME", &dir)
        .env("XDG_CONFIG_HOME", dir.join(".config"))
        .args(["-n", "-r"])
        .arg(&pcap)
        .args(["-T", "fields", "-E", "separator=|", "-E", "occurrence=a"])
        .args(["-E", "aggregator=,"])
        .args(["-e", "isakmp.ispi", "-e", "isakmp.frag.packetid"])
        .args(["-e", "isakmp.frag.seq", "-e", "isakmp.frag.last"])
        .args(["-e", "isakmp.reassembled.length", "-e", "isakmp.length"])
        .args(["-e", "isakmp.flags", "-e", "isakmp.nextpayload"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(lines.len(), 4, "{text}");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l[1], "0x0001", "fragment ID, frame {i}: {text}");
        assert_eq!(l[2], (i + 1).to_string(), "fragment number: {text}");
        assert_eq!(l[3], if i == 3 { "1" } else { "0" }, "LAST: {text}");
    }
    // Every frame: the header announces 132, the fragment payload's own
    // next payload is 0. The last frame carries the reassembled message
    // too: a second ISAKMP header with the original's cookie, length and
    // E flag, whose first payload is the ID (5).
    for l in &lines[..3] {
        assert_eq!(l[7], "132,0", "{text}");
    }
    let last = &lines[3];
    assert_eq!(last[0], "fafaeb49382a763c,fafaeb49382a763c", "{text}");
    assert_eq!(last[4], "1764", "{text}");
    assert_eq!(last[5], format!("{},1764", 1764 - 3 * 564 + 36), "{text}");
    assert_eq!(last[6], "0x00,0x01", "{text}");
    assert_eq!(last[7], "132,0,5", "{text}");
    let _ = fs::remove_dir_all(&dir);
}
