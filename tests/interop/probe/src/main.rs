//! `ikeint-probe`: checks, inside the interop guest, the three OS facilities
//! `ikev1-peer` needs (RFC 4303 ESP on a raw IP socket, plaintext on a TUN
//! device) with no IPsec code at all.
//!
//! ```text
//! ikeint-probe esp-recv BIND_ADDR COUNT TIMEOUT_S   # print every ESP packet received
//! ikeint-probe esp-send SRC_ADDR DST_ADDR SPI COUNT # send COUNT fake ESP packets
//! ikeint-probe tun-echo NAME COUNT TIMEOUT_S        # answer COUNT ICMP echo requests routed into TUN NAME
//! ```
//! Exit status 0 when the expected packets were seen, 1 otherwise, 2 on usage
//! or system errors.

use std::io::{ErrorKind, Read};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};

/// IANA protocol number of ESP (RFC 4303).
const IPPROTO_ESP: i32 = 50;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let res = match argv.as_slice() {
        ["esp-recv", bind, count, timeout] => esp_recv(bind, count, timeout),
        ["esp-send", src, dst, spi, count] => esp_send(src, dst, spi, count),
        ["tun-echo", name, count, timeout] => tun_echo(name, count, timeout),
        _ => Err("usage: ikeint-probe esp-recv BIND COUNT TIMEOUT_S | esp-send SRC DST SPI COUNT | tun-echo NAME COUNT TIMEOUT_S".to_owned()),
    };
    match res {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("ikeint-probe: {e}");
            ExitCode::from(2)
        }
    }
}

fn parse<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("bad {what}: {s:?}"))
}

fn esp_socket(bind: Ipv4Addr) -> Result<Socket, String> {
    let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_ESP)))
        .map_err(|e| format!("raw socket (IPPROTO_ESP): {e}"))?;
    s.bind(&SocketAddrV4::new(bind, 0).into())
        .map_err(|e| format!("bind {bind}: {e}"))?;
    Ok(s)
}

/// Receives on a raw protocol-50 socket: Linux hands raw IPv4 sockets the whole
/// datagram, IP header included, so the ESP header starts after IHL words.
fn esp_recv(bind: &str, count: &str, timeout: &str) -> Result<bool, String> {
    let bind: Ipv4Addr = parse("address", bind)?;
    let want: usize = parse("count", count)?;
    let deadline = Instant::now() + Duration::from_secs(parse("timeout", timeout)?);
    let mut s = esp_socket(bind)?;
    println!("esp-recv: raw IPPROTO_ESP socket bound to {bind}");
    let mut got = 0usize;
    let mut buf = [0u8; 2048];
    while got < want {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        s.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        let n = match s.read(&mut buf) {
            Ok(n) => n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(e) => return Err(format!("recv: {e}")),
        };
        let pkt = buf.get(..n).unwrap_or_default();
        let ihl = usize::from(pkt.first().copied().unwrap_or(0) & 0x0f) * 4;
        let esp = pkt.get(ihl..).unwrap_or_default();
        let word = |o: usize| {
            esp.get(o..o + 4)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        };
        let (Some(spi), Some(seq)) = (word(0), word(4)) else {
            println!("esp-recv: short packet ({n} bytes)");
            continue;
        };
        got += 1;
        let from = pkt
            .get(12..16)
            .map(|a| Ipv4Addr::new(a[0], a[1], a[2], a[3]));
        println!(
            "esp-recv: {n} bytes from {from:?}: IP header {ihl} bytes, SPI 0x{spi:08x}, seq {seq}"
        );
    }
    println!("esp-recv: {got}/{want} ESP packets");
    Ok(got >= want)
}

fn esp_send(src: &str, dst: &str, spi: &str, count: &str) -> Result<bool, String> {
    let src: Ipv4Addr = parse("address", src)?;
    let dst: Ipv4Addr = parse("address", dst)?;
    let spi = u32::from_str_radix(spi.trim_start_matches("0x"), 16)
        .map_err(|_| format!("bad SPI {spi:?}"))?;
    let count: u32 = parse("count", count)?;
    let s = esp_socket(src)?;
    for seq in 1..=count {
        // SPI, sequence number, then 32 bytes standing in for IV/data/ICV
        let mut pkt = Vec::with_capacity(40);
        pkt.extend_from_slice(&spi.to_be_bytes());
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend_from_slice(&[0x5a; 32]);
        s.send_to(&pkt, &SocketAddrV4::new(dst, 0).into())
            .map_err(|e| format!("send to {dst}: {e}"))?;
        println!("esp-send: {src} -> {dst} SPI 0x{spi:08x} seq {seq} (40 bytes of ESP)");
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(true)
}

/// Answers ICMP echo requests that the kernel routes into the TUN device by
/// writing the matching echo reply back: both directions of a TUN work.
fn tun_echo(name: &str, count: &str, timeout: &str) -> Result<bool, String> {
    let want: usize = parse("count", count)?;
    let deadline = Instant::now() + Duration::from_secs(parse("timeout", timeout)?);
    let dev = tun_rs::DeviceBuilder::new()
        .name(name)
        .build_sync()
        .map_err(|e| format!("open TUN {name}: {e}"))?;
    dev.set_nonblocking(true).map_err(|e| e.to_string())?;
    println!("tun-echo: attached to TUN device {name}");
    let mut got = 0usize;
    let mut buf = [0u8; 2048];
    while got < want && Instant::now() < deadline {
        let n = match dev.recv(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            }
            Err(e) => return Err(format!("read TUN: {e}")),
        };
        let Some(reply) = buf.get(..n).and_then(echo_reply) else {
            println!("tun-echo: {n} bytes, not an IPv4 ICMP echo request, ignored");
            continue;
        };
        dev.send(&reply).map_err(|e| format!("write TUN: {e}"))?;
        got += 1;
        println!("tun-echo: answered echo request {got} ({n} bytes)");
    }
    println!("tun-echo: {got}/{want} echo requests answered");
    Ok(got >= want)
}

/// Builds the echo reply (RFC 792) for an IPv4 echo request: swap addresses,
/// type 8 -> 0, recompute both checksums.
fn echo_reply(req: &[u8]) -> Option<Vec<u8>> {
    let ihl = usize::from(*req.first()? & 0x0f) * 4;
    if *req.first()? >> 4 != 4 || *req.get(9)? != 1 || *req.get(ihl)? != 8 {
        return None;
    }
    let mut p = req.to_vec();
    let (src, dst) = (req.get(12..16)?.to_vec(), req.get(16..20)?.to_vec());
    p.get_mut(12..16)?.copy_from_slice(&dst);
    p.get_mut(16..20)?.copy_from_slice(&src);
    *p.get_mut(ihl)? = 0;
    set_checksum(p.get_mut(..ihl)?, 10);
    set_checksum(p.get_mut(ihl..)?, 2);
    Some(p)
}

fn set_checksum(b: &mut [u8], at: usize) {
    if let Some(c) = b.get_mut(at..at + 2) {
        c.copy_from_slice(&[0, 0]);
    }
    let mut sum: u32 = 0;
    for ch in b.chunks(2) {
        let hi = u32::from(ch.first().copied().unwrap_or(0));
        let lo = u32::from(ch.get(1).copied().unwrap_or(0));
        sum += (hi << 8) | lo;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    if let Some(d) = b.get_mut(at..at + 2) {
        d.copy_from_slice(&c.to_be_bytes());
    }
}
