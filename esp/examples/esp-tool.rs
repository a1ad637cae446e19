//! `esp-tool`: encapsulate or decapsulate the IP packets of a capture with
//! one ESP SA given in `ip xfrm state` terms.
//!
//! ```text
//! esp-tool decap|encap IN.pcap[ng] --spi 0xSPI
//!     --enc 'cbc(des)'|'cbc(des3_ede)'|'cbc(aes)'|'rfc4106(gcm(aes))'|'ecb(cipher_null)' --enc-key 0xKEY
//!     --auth 'hmac(md5)'|'hmac(sha1)'|'hmac(sha256)'|'hmac(sha384)'|'hmac(sha512)'|none
//!     [--auth-key 0xKEY] [--auth-trunc BITS]
//!     [--mode tunnel|transport] [--replay-window N (0 = off)] [--esn]
//!     [--src A.B.C.D --dst A.B.C.D]   tunnel endpoints (encap, tunnel mode)
//!     [--relaxed-padding]             accept RFC 2406 pad bytes (decap)
//!     [--auth-unverified BITS]        decap only: strip an ICV of BITS without checking it
//!                                     (captures whose integrity key is unknown)
//!     [--seed N]                      encap: seed the IV generator (default: OS randomness)
//!     [--out OUT.pcap] [--json]
//! ```
//!
//! Reads pcap or pcapng with raw IP, Ethernet (with 802.1Q tags), Linux
//! cooked (SLL, SLL2) or BSD loopback framing. Prints one line per frame
//! (SPI, sequence number, result, inner packet summary), or with `--json`
//! one JSON object per frame: `{"frame", "spi", "seq", "ok", "error",
//! "next_header", "inner_hex"}` (encap adds `"esp_hex"`). `--out` writes the
//! results as a raw-IP pcap (decap: inner packets; encap: ESP packets).
#![allow(clippy::print_stdout, clippy::print_stderr)]
// A command-line tool: printing is its output.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use esp::{
    AesKeySize, Direction, Encryption, Integrity, Keys, Mode, PaddingCheck, Sa, SaParams, Spi,
};
use pcap_file::DataLink;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::pcapng::{Block, PcapNgReader};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

#[derive(Default)]
struct Args {
    command: String,
    input: String,
    spi: Option<u32>,
    enc: Option<String>,
    enc_key: Vec<u8>,
    auth: Option<String>,
    auth_key: Vec<u8>,
    auth_trunc: Option<usize>,
    mode: Option<String>,
    replay_window: Option<u32>,
    esn: bool,
    src: Option<Ipv4Addr>,
    dst: Option<Ipv4Addr>,
    relaxed: bool,
    unverified: Option<usize>,
    seed: Option<u64>,
    out: Option<String>,
    json: bool,
}

fn hex_arg(s: &str) -> Result<Vec<u8>, String> {
    let t = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(t).map_err(|e| format!("bad hex {s:?}: {e}"))
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args::default();
    let mut it = std::env::args().skip(1);
    let mut positional = Vec::new();
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--spi" => {
                let v = val("--spi")?;
                let t = v.strip_prefix("0x").unwrap_or(&v);
                a.spi = Some(u32::from_str_radix(t, 16).map_err(|e| format!("--spi: {e}"))?);
            }
            "--enc" => a.enc = Some(val("--enc")?),
            "--enc-key" => a.enc_key = hex_arg(&val("--enc-key")?)?,
            "--auth" => a.auth = Some(val("--auth")?),
            "--auth-key" => a.auth_key = hex_arg(&val("--auth-key")?)?,
            "--auth-trunc" => {
                a.auth_trunc = Some(
                    val("--auth-trunc")?
                        .parse()
                        .map_err(|e| format!("--auth-trunc: {e}"))?,
                )
            }
            "--mode" => a.mode = Some(val("--mode")?),
            "--replay-window" => {
                a.replay_window = Some(
                    val("--replay-window")?
                        .parse()
                        .map_err(|e| format!("--replay-window: {e}"))?,
                )
            }
            "--esn" => a.esn = true,
            "--src" => a.src = Some(val("--src")?.parse().map_err(|e| format!("--src: {e}"))?),
            "--dst" => a.dst = Some(val("--dst")?.parse().map_err(|e| format!("--dst: {e}"))?),
            "--relaxed-padding" => a.relaxed = true,
            "--auth-unverified" => {
                a.unverified = Some(
                    val("--auth-unverified")?
                        .parse()
                        .map_err(|e| format!("--auth-unverified: {e}"))?,
                )
            }
            "--seed" => a.seed = Some(val("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--out" => a.out = Some(val("--out")?),
            "--json" => a.json = true,
            "-h" | "--help" => return Err(String::new()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => positional.push(s.to_string()),
        }
    }
    let mut p = positional.into_iter();
    a.command = p.next().ok_or("missing command (decap or encap)")?;
    a.input = p.next().ok_or("missing input capture")?;
    if let Some(extra) = p.next() {
        return Err(format!("unexpected argument {extra}"));
    }
    if a.command != "decap" && a.command != "encap" {
        return Err(format!("unknown command {}", a.command));
    }
    Ok(a)
}

fn encryption(name: &str, key_len: usize) -> Result<Encryption, String> {
    let aes = |n: usize| match n {
        16 => Ok(AesKeySize::Aes128),
        24 => Ok(AesKeySize::Aes192),
        32 => Ok(AesKeySize::Aes256),
        _ => Err(format!("{name}: key of {n} bytes")),
    };
    Ok(match name {
        "ecb(cipher_null)" | "cipher_null" | "null" => Encryption::Null,
        "cbc(des)" => Encryption::DesCbc,
        "cbc(des3_ede)" => Encryption::TripleDesCbc,
        "cbc(aes)" => Encryption::AesCbc(aes(key_len)?),
        "rfc4106(gcm(aes))" => Encryption::AesGcm16(aes(key_len.saturating_sub(4))?),
        _ => return Err(format!("unsupported --enc {name}")),
    })
}

fn integrity(name: &str, trunc: Option<usize>) -> Result<Integrity, String> {
    let i = match name {
        "none" => Integrity::None,
        "hmac(md5)" => Integrity::HmacMd5_96,
        "hmac(sha1)" => Integrity::HmacSha1_96,
        "hmac(sha256)" => Integrity::HmacSha256_128,
        "hmac(sha384)" => Integrity::HmacSha384_192,
        "hmac(sha512)" => Integrity::HmacSha512_256,
        _ => return Err(format!("unsupported --auth {name}")),
    };
    if let Some(bits) = trunc
        && bits != i.icv_len() * 8
    {
        return Err(format!(
            "--auth-trunc {bits}: {name} is used truncated to {} bits (RFC 2403/2404/4868)",
            i.icv_len() * 8
        ));
    }
    Ok(i)
}

fn build_sa(a: &Args, now: Instant) -> Result<Sa, String> {
    let spi = a.spi.ok_or("--spi is required")?;
    let enc_name = a.enc.as_deref().ok_or("--enc is required")?;
    let enc = encryption(enc_name, a.enc_key.len())?;
    let integ = if enc.is_aead() || a.unverified.is_some() {
        Integrity::None
    } else {
        integrity(
            a.auth
                .as_deref()
                .ok_or("--auth is required ('none' to go without)")?,
            a.auth_trunc,
        )?
    };
    let mode = match a.mode.as_deref().unwrap_or("tunnel") {
        "tunnel" => Mode::Tunnel {
            src: a.src.unwrap_or(Ipv4Addr::UNSPECIFIED),
            dst: a.dst.unwrap_or(Ipv4Addr::UNSPECIFIED),
        },
        "transport" => Mode::Transport,
        m => return Err(format!("unknown --mode {m}")),
    };
    let direction = if a.command == "encap" {
        Direction::Outbound
    } else {
        Direction::Inbound
    };
    if a.command == "encap" && a.unverified.is_some() {
        return Err("--auth-unverified is for decap only".into());
    }
    let auth_key = if integ == Integrity::None {
        &[][..]
    } else {
        &a.auth_key[..]
    };
    let mut p = SaParams::new(
        Spi(spi),
        direction,
        mode,
        enc,
        integ,
        Keys::new(&a.enc_key, auth_key),
    );
    // Naming the algorithm on the command line is the explicit choice.
    p.allow_weak = true;
    p.allow_no_integrity = integ == Integrity::None;
    p.esn = a.esn;
    p.replay_window = match a.replay_window {
        Some(0) => None,
        Some(n) => Some(n),
        None => Some(esp::DEFAULT_REPLAY_WINDOW),
    };
    if a.relaxed {
        p.padding_check = PaddingCheck::Relaxed;
    }
    Sa::new(p, now).map_err(|e| format!("SA: {e}"))
}

/// Strips the link layer: returns the IP packet of a frame.
fn ip_of(link: DataLink, frame: &[u8]) -> Option<&[u8]> {
    match link {
        DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Some(frame),
        DataLink::ETHERNET => {
            let mut off = 12;
            loop {
                let t = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
                off += 2;
                match t {
                    0x8100 | 0x88a8 => off += 2,
                    0x0800 | 0x86dd => return frame.get(off..),
                    _ => return None,
                }
            }
        }
        DataLink::LINUX_SLL => {
            let t = u16::from_be_bytes([*frame.get(14)?, *frame.get(15)?]);
            matches!(t, 0x0800 | 0x86dd)
                .then(|| frame.get(16..))
                .flatten()
        }
        DataLink::LINUX_SLL2 => {
            let t = u16::from_be_bytes([*frame.first()?, *frame.get(1)?]);
            matches!(t, 0x0800 | 0x86dd)
                .then(|| frame.get(20..))
                .flatten()
        }
        DataLink::NULL | DataLink::LOOP => frame.get(4..),
        _ => None,
    }
}

/// A frame: its timestamp and its IP packet, if it has one.
type Frame = (Duration, Option<Vec<u8>>);

/// Frames of a pcap or pcapng file.
fn read_capture(path: &str) -> Result<Vec<Frame>, String> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|f| BufReader::new(f).read_to_end(&mut bytes))
        .map_err(|e| format!("{path}: {e}"))?;
    let mut frames = Vec::new();
    if bytes.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = PcapNgReader::new(&bytes[..]).map_err(|e| format!("{path}: {e}"))?;
        let mut links: Vec<DataLink> = Vec::new();
        while let Some(block) = r.next_block() {
            match block.map_err(|e| format!("{path}: {e}"))? {
                Block::InterfaceDescription(i) => links.push(i.linktype),
                Block::EnhancedPacket(p) => {
                    let link = links
                        .get(usize::try_from(p.interface_id).unwrap_or(usize::MAX))
                        .copied()
                        .unwrap_or(DataLink::RAW);
                    frames.push((p.timestamp, ip_of(link, &p.data).map(<[u8]>::to_vec)));
                }
                Block::SimplePacket(p) => {
                    let link = links.first().copied().unwrap_or(DataLink::RAW);
                    frames.push((Duration::ZERO, ip_of(link, &p.data).map(<[u8]>::to_vec)));
                }
                _ => {}
            }
        }
    } else {
        let mut r = PcapReader::new(&bytes[..]).map_err(|e| format!("{path}: {e}"))?;
        let link = r.header().datalink;
        while let Some(p) = r.next_packet() {
            let p = p.map_err(|e| format!("{path}: {e}"))?;
            frames.push((p.timestamp, ip_of(link, &p.data).map(<[u8]>::to_vec)));
        }
    }
    Ok(frames)
}

fn summary(ip: &[u8]) -> String {
    match etherparse::SlicedPacket::from_ip(ip) {
        Ok(s) => {
            let (src, dst) = match &s.net {
                Some(etherparse::NetSlice::Ipv4(v4)) => (
                    v4.header().source_addr().to_string(),
                    v4.header().destination_addr().to_string(),
                ),
                Some(etherparse::NetSlice::Ipv6(v6)) => (
                    v6.header().source_addr().to_string(),
                    v6.header().destination_addr().to_string(),
                ),
                _ => ("?".into(), "?".into()),
            };
            let l4 = match &s.transport {
                Some(etherparse::TransportSlice::Udp(u)) => {
                    format!("UDP {} > {}", u.source_port(), u.destination_port())
                }
                Some(etherparse::TransportSlice::Tcp(t)) => {
                    format!("TCP {} > {}", t.source_port(), t.destination_port())
                }
                Some(etherparse::TransportSlice::Icmpv4(i)) => format!("ICMP {:?}", i.icmp_type()),
                Some(etherparse::TransportSlice::Icmpv6(i)) => {
                    format!("ICMPv6 {:?}", i.icmp_type())
                }
                _ => "other".into(),
            };
            format!("{src} > {dst} {l4}, {} bytes", ip.len())
        }
        Err(e) => format!("unparsed ({e}), {} bytes", ip.len()),
    }
}

fn esp_header(ip: &[u8]) -> Option<(u32, u32)> {
    let hl = usize::from(ip.first()? & 0x0f) * 4;
    if ip.first()? >> 4 != 4 || ip.get(9) != Some(&50) {
        return None;
    }
    let h = ip.get(hl..hl + 8)?;
    Some((
        u32::from_be_bytes([*h.first()?, *h.get(1)?, *h.get(2)?, *h.get(3)?]),
        u32::from_be_bytes([*h.get(4)?, *h.get(5)?, *h.get(6)?, *h.get(7)?]),
    ))
}

/// Removes `icv` trailing bytes of the ESP packet and fixes the outer total
/// length (the checksum is not verified by decapsulation).
fn strip_icv(ip: &mut Vec<u8>, icv: usize) -> bool {
    let Some(total) = ip
        .get(2..4)
        .and_then(|t| <[u8; 2]>::try_from(t).ok())
        .map(|t| usize::from(u16::from_be_bytes(t)))
    else {
        return false;
    };
    let Some(new) = total.checked_sub(icv).filter(|n| *n <= ip.len()) else {
        return false;
    };
    ip.truncate(new);
    if let (Ok(n), Some(f)) = (u16::try_from(new), ip.get_mut(2..4)) {
        f.copy_from_slice(&n.to_be_bytes());
    }
    true
}

fn run() -> Result<bool, String> {
    let a = parse_args()?;
    let now = Instant::now();
    let mut sa = build_sa(&a, now)?;
    if let Some(bits) = a.unverified {
        eprintln!(
            "warning: ICV of {bits} bits stripped and NOT verified; results are unauthenticated"
        );
    }
    let mut rng = match a.seed {
        Some(s) => ChaCha20Rng::seed_from_u64(s),
        None => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| format!("getrandom: {e}"))?;
            ChaCha20Rng::from_seed(seed)
        }
    };
    let frames = read_capture(&a.input)?;
    let mut writer = match &a.out {
        Some(path) => {
            let f = File::create(path).map_err(|e| format!("{path}: {e}"))?;
            let header = PcapHeader {
                datalink: DataLink::RAW,
                ..PcapHeader::default()
            };
            Some(
                PcapWriter::with_header(BufWriter::new(f), header)
                    .map_err(|e| format!("{path}: {e}"))?,
            )
        }
        None => None,
    };
    let mut all_ok = true;
    for (n, (ts, ip)) in frames.into_iter().enumerate() {
        let frame = n + 1;
        let mut obj = serde_json::Map::new();
        obj.insert("frame".into(), frame.into());
        for k in ["spi", "seq", "error", "next_header", "inner_hex"] {
            obj.insert(k.into(), serde_json::Value::Null);
        }
        obj.insert("ok".into(), false.into());
        let mut line = format!("frame {frame}: ");
        let mut output: Option<Vec<u8>> = None;
        match (ip, a.command.as_str()) {
            (None, _) => {
                obj.insert("error".into(), "not an IP packet".into());
                line += "not an IP packet";
            }
            (Some(mut ip), "decap") => match esp_header(&ip) {
                None => {
                    obj.insert("error".into(), "not ESP".into());
                    line += "not ESP, skipped";
                }
                Some((spi, seq_low)) => {
                    obj.insert("spi".into(), format!("0x{spi:08x}").into());
                    obj.insert("seq".into(), seq_low.into());
                    line += &format!("spi 0x{spi:08x} seq {seq_low}: ");
                    let stripped = a.unverified.is_none_or(|bits| strip_icv(&mut ip, bits / 8));
                    let res = if stripped {
                        sa.decapsulate(now, &mut ip).map_err(|e| e.to_string())
                    } else {
                        Err("packet shorter than the ICV".into())
                    };
                    match res {
                        Ok(d) => {
                            let inner = ip.get(d.packet.clone()).unwrap_or(&[]).to_vec();
                            obj.insert("seq".into(), d.seq.into());
                            obj.insert("ok".into(), true.into());
                            obj.insert("next_header".into(), d.next_header.into());
                            obj.insert("inner_hex".into(), hex::encode(&inner).into());
                            line +=
                                &format!("ok, next header {}, {}", d.next_header, summary(&inner));
                            output = Some(inner);
                        }
                        Err(e) => {
                            all_ok = false;
                            obj.insert("error".into(), e.clone().into());
                            line += &format!("FAILED: {e}");
                        }
                    }
                }
            },
            (Some(ip), _) => {
                let room = sa.room(ip.len());
                let mut buf = vec![0u8; room.headroom + ip.len() + room.tailroom];
                let at = room.headroom;
                if let Some(dst) = buf.get_mut(at..at + ip.len()) {
                    dst.copy_from_slice(&ip);
                }
                obj.insert("spi".into(), format!("0x{:08x}", sa.spi().0).into());
                obj.insert("inner_hex".into(), hex::encode(&ip).into());
                line += &format!("spi 0x{:08x} ", sa.spi().0);
                match sa.encapsulate(now, &mut rng, &mut buf, at..at + ip.len()) {
                    Ok(e) => {
                        let out = buf.get(e.packet.clone()).unwrap_or(&[]).to_vec();
                        let nh = match sa.mode() {
                            Mode::Tunnel { .. } => {
                                if ip.first().is_some_and(|b| b >> 4 == 6) {
                                    41
                                } else {
                                    4
                                }
                            }
                            Mode::Transport => ip.get(9).copied().unwrap_or(0),
                        };
                        obj.insert("seq".into(), e.seq.into());
                        obj.insert("ok".into(), true.into());
                        obj.insert("next_header".into(), nh.into());
                        obj.insert("esp_hex".into(), hex::encode(&out).into());
                        line += &format!(
                            "seq {}: ok, {} -> {} bytes ESP",
                            e.seq,
                            summary(&ip),
                            out.len()
                        );
                        output = Some(out);
                    }
                    Err(e) => {
                        all_ok = false;
                        obj.insert("error".into(), e.to_string().into());
                        line += &format!("FAILED: {e}");
                    }
                }
            }
        }
        if a.json {
            println!("{}", serde_json::Value::Object(obj));
        } else {
            println!("{line}");
        }
        if let (Some(w), Some(data)) = (writer.as_mut(), output) {
            let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
            w.write_packet(&PcapPacket::new(ts, len, &data))
                .map_err(|e| format!("--out: {e}"))?;
        }
    }
    let c = sa.counters();
    if !a.json {
        println!(
            "#pkts encaps: {}, #pkts encrypt: {}, #pkts digest: {}",
            c.pkts_encaps, c.pkts_encrypt, c.pkts_digest
        );
        println!(
            "#pkts decaps: {}, #pkts decrypt: {}, #pkts verify: {}",
            c.pkts_decaps, c.pkts_decrypt, c.pkts_verify
        );
        println!(
            "#send errors {}, #recv errors {} (replay {}, auth {}, padding {}, malformed {})",
            c.send_errors,
            c.recv_errors,
            c.replay_duplicate + c.replay_too_old,
            c.auth_failures,
            c.bad_padding,
            c.malformed
        );
    }
    Ok(all_ok)
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            if !e.is_empty() {
                eprintln!("esp-tool: {e}");
            }
            eprintln!(
                "usage: esp-tool decap|encap IN.pcap --spi 0x.. --enc ALG --enc-key 0x.. --auth ALG [--auth-key 0x..] [--auth-trunc BITS] [--mode tunnel|transport] [--replay-window N] [--esn] [--src A --dst B] [--relaxed-padding] [--auth-unverified BITS] [--seed N] [--out OUT.pcap] [--json]"
            );
            ExitCode::from(2)
        }
    }
}
