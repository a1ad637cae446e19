//! `ikev1-decrypt`: decrypts a recorded IKEv1 exchange and checks every
//! HASH it can (issue 3, item 6). The work is done by
//! `ike_sm::decrypt`; this binary reads the input and prints.
//!
//! ```text
//! ikev1-decrypt CAPTURE.pcap[ng]          --keys TABLE      [--json]
//! ikev1-decrypt --hex MESSAGES.txt        --psk KEY --dh-private HEX --side I|R [--json]
//! ```
//!
//! - Input: a pcap or pcapng capture (Ethernet, raw IP, Linux cooked,
//!   BSD loopback; UDP 500, and 4500 with the non-ESP marker), or with
//!   `--hex` a text file with one message per line, prefixed `I ` or `R `
//!   for its sender (`#` comments allowed).
//! - Keys: `--keys FILE`, Wireshark's `ikev1_decryption_table` (initiator
//!   cookie -> Ka); or `--psk` (text, or hex with `0x`) with
//!   `--dh-private HEX` of one side and `--side I|R`.
//! - Output: per message its index, frame, sender, exchange, message ID,
//!   payloads (decrypted where possible) and, where it carries a HASH,
//!   whether it verified; `--json` prints one JSON object per line with
//!   `index`, `frame`, `exchange`, `decrypted`, `payloads` and
//!   `hash_verified` (true, false or null), plus `sender`, `message_id`,
//!   `encrypted`, `retransmission` and `note`.
#![allow(clippy::print_stdout)]

use std::net::IpAddr;
use std::process::ExitCode;

use ike_sm::decrypt::{
    DecryptedMessage, Keys, RecordedMessage, Sender, decrypt_exchange, from_hex,
};

fn usage() -> ExitCode {
    eprintln!(
        "usage: ikev1-decrypt (CAPTURE | --hex FILE) (--keys TABLE | --psk KEY --dh-private HEX --side I|R) [--json]"
    );
    ExitCode::from(2)
}

struct Args {
    input: Option<String>,
    hex: bool,
    keys: Option<String>,
    psk: Option<String>,
    dh: Option<String>,
    side: Option<String>,
    json: bool,
}

fn parse_args() -> Option<Args> {
    let mut a = Args {
        input: None,
        hex: false,
        keys: None,
        psk: None,
        dh: None,
        side: None,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--hex" => {
                a.hex = true;
                a.input = Some(it.next()?);
            }
            "--keys" => a.keys = Some(it.next()?),
            "--psk" => a.psk = Some(it.next()?),
            "--dh-private" => a.dh = Some(it.next()?),
            "--side" => a.side = Some(it.next()?),
            "--json" => a.json = true,
            "-h" | "--help" => return None,
            s if !s.starts_with("--") && a.input.is_none() => a.input = Some(s.to_owned()),
            _ => return None,
        }
    }
    Some(a)
}

fn main() -> ExitCode {
    let Some(args) = parse_args() else {
        return usage();
    };
    let Some(input) = &args.input else {
        return usage();
    };
    let messages = if args.hex {
        match std::fs::read_to_string(input)
            .map_err(|e| e.to_string())
            .and_then(|t| read_hex(&t))
        {
            Ok(m) => m,
            Err(e) => {
                eprintln!("ikev1-decrypt: {input}: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        match std::fs::read(input)
            .map_err(|e| e.to_string())
            .and_then(|b| read_capture(&b))
        {
            Ok(m) => m,
            Err(e) => {
                eprintln!("ikev1-decrypt: {input}: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    let keys = match (&args.keys, &args.psk, &args.dh, &args.side) {
        (Some(path), None, None, None) => {
            match std::fs::read_to_string(path)
                .map_err(|e| e.to_string())
                .and_then(|t| Keys::parse_table(&t))
            {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("ikev1-decrypt: {path}: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
        (None, Some(psk), Some(dh), Some(side)) => {
            let psk = if psk.starts_with("0x") {
                match from_hex(psk) {
                    Some(b) => b,
                    None => return usage(),
                }
            } else {
                psk.as_bytes().to_vec()
            };
            let Some(dh_private) = from_hex(dh) else {
                return usage();
            };
            let side = match side.as_str() {
                "I" | "i" => Sender::Initiator,
                "R" | "r" => Sender::Responder,
                _ => return usage(),
            };
            Keys::Psk {
                psk,
                dh_private,
                side,
            }
        }
        _ => return usage(),
    };
    let out = decrypt_exchange(&messages, &keys);
    for m in &out {
        if args.json {
            println!("{}", json(m));
        } else {
            println!("{}", text(m));
        }
    }
    ExitCode::SUCCESS
}

fn side_name(s: Sender) -> &'static str {
    match s {
        Sender::Initiator => "I",
        Sender::Responder => "R",
    }
}

fn text(m: &DecryptedMessage) -> String {
    let payloads: Vec<String> = m.payloads.iter().map(ToString::to_string).collect();
    let frame = m.frame.map_or(String::new(), |f| format!(" frame {f}"));
    let mut s = format!(
        "#{}{frame} {}->{} {} M-ID {:#010x}{}: {}",
        m.index,
        side_name(m.sender),
        if m.sender == Sender::Initiator {
            "R"
        } else {
            "I"
        },
        m.exchange,
        m.message_id,
        if m.encrypted {
            if m.decrypted {
                " (decrypted)"
            } else {
                " (encrypted)"
            }
        } else {
            ""
        },
        if payloads.is_empty() {
            "-".to_owned()
        } else {
            payloads.join(" ")
        },
    );
    if let Some(v) = m.hash_verified {
        s.push_str(if v {
            " [hash verified]"
        } else {
            " [HASH MISMATCH]"
        });
    }
    if m.retransmission {
        s.push_str(" [retransmission]");
    }
    if let Some(n) = &m.note {
        s.push_str(&format!(" ({n})"));
    }
    s
}

fn json(m: &DecryptedMessage) -> String {
    serde_json::json!({
        "index": m.index,
        "frame": m.frame,
        "sender": side_name(m.sender),
        "exchange": m.exchange.to_string(),
        "message_id": m.message_id,
        "encrypted": m.encrypted,
        "decrypted": m.decrypted,
        "payloads": m.payloads.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "hash_verified": m.hash_verified,
        "retransmission": m.retransmission,
        "note": m.note,
    })
    .to_string()
}

fn read_hex(text: &str) -> Result<Vec<RecordedMessage>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (who, hex) = line
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("line {}: expected `I HEX` or `R HEX`", n + 1))?;
        let sender = match who {
            "I" => Sender::Initiator,
            "R" => Sender::Responder,
            _ => return Err(format!("line {}: sender must be I or R", n + 1)),
        };
        let bytes: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
        let bytes = from_hex(&bytes).ok_or_else(|| format!("line {}: not hex", n + 1))?;
        out.push(RecordedMessage {
            frame: None,
            sender,
            bytes,
        });
    }
    Ok(out)
}

/// One UDP datagram of a capture: (frame, source IP, source port, dest
/// port, payload).
type Datagram = (u64, IpAddr, u16, u16, Vec<u8>);

fn read_capture(bytes: &[u8]) -> Result<Vec<RecordedMessage>, String> {
    let mut datagrams: Vec<Datagram> = Vec::new();
    if bytes.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        let mut r = pcap_file::pcapng::PcapNgReader::new(bytes).map_err(|e| e.to_string())?;
        let mut frame = 0u64;
        let mut links: Vec<u32> = Vec::new();
        while let Some(block) = r.next_block() {
            let block = block.map_err(|e| e.to_string())?;
            let (data, link) = match &block {
                pcap_file::pcapng::Block::SectionHeader(_) => {
                    links.clear();
                    continue;
                }
                pcap_file::pcapng::Block::InterfaceDescription(i) => {
                    links.push(u32::from(i.linktype));
                    continue;
                }
                pcap_file::pcapng::Block::EnhancedPacket(p) => {
                    let link = usize::try_from(p.interface_id)
                        .ok()
                        .and_then(|i| links.get(i).copied())
                        .unwrap_or(1);
                    (p.data.to_vec(), link)
                }
                pcap_file::pcapng::Block::SimplePacket(p) => {
                    (p.data.to_vec(), links.first().copied().unwrap_or(1))
                }
                _ => continue,
            };
            frame += 1;
            if let Some(d) = udp(frame, link, &data) {
                datagrams.push(d);
            }
        }
    } else {
        let mut r = pcap_file::pcap::PcapReader::new(bytes).map_err(|e| e.to_string())?;
        let link = u32::from(r.header().datalink);
        let mut frame = 0u64;
        while let Some(p) = r.next_packet() {
            let p = p.map_err(|e| e.to_string())?;
            frame += 1;
            if let Some(d) = udp(frame, link, &p.data) {
                datagrams.push(d);
            }
        }
    }
    // The initiator of each SA is whoever sent its first message (zero
    // responder cookie).
    let mut initiators: Vec<([u8; 8], IpAddr, u16)> = Vec::new();
    let mut out = Vec::new();
    for (frame, src, sport, _dport, payload) in datagrams {
        let (Some(ic), Some(rc)) = (payload.get(..8), payload.get(8..16)) else {
            continue;
        };
        let Ok(icookie) = <[u8; 8]>::try_from(ic) else {
            continue;
        };
        let rcookie_zero = rc.iter().all(|b| *b == 0);
        if rcookie_zero && !initiators.iter().any(|(c, _, _)| *c == icookie) {
            initiators.push((icookie, src, sport));
        }
        let sender = match initiators.iter().find(|(c, _, _)| *c == icookie) {
            Some((_, ip, port)) if *ip == src && *port == sport => Sender::Initiator,
            Some(_) => Sender::Responder,
            None => Sender::Initiator,
        };
        out.push(RecordedMessage {
            frame: Some(frame),
            sender,
            bytes: payload,
        });
    }
    Ok(out)
}

fn udp(frame: u64, link: u32, data: &[u8]) -> Option<Datagram> {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    let sliced = match link {
        1 => SlicedPacket::from_ethernet(data).ok()?,
        101 | 228 | 229 | 12 | 14 => SlicedPacket::from_ip(data).ok()?,
        113 => SlicedPacket::from_linux_sll(data).ok()?,
        // BSD loopback: a 4-byte address family, then IP.
        0 | 108 => SlicedPacket::from_ip(data.get(4..)?).ok()?,
        _ => return None,
    };
    let src = match sliced.net? {
        NetSlice::Ipv4(v4) => IpAddr::V4(v4.header().source_addr()),
        NetSlice::Ipv6(v6) => IpAddr::V6(v6.header().source_addr()),
        NetSlice::Arp(_) => return None,
    };
    let TransportSlice::Udp(u) = sliced.transport? else {
        return None;
    };
    let (sport, dport) = (u.source_port(), u.destination_port());
    let payload = u.payload();
    let ike = if sport == 500 || dport == 500 {
        payload.to_vec()
    } else if sport == 4500 || dport == 4500 {
        // RFC 3948: IKE after a 4-byte zero non-ESP marker.
        payload.strip_prefix(&[0, 0, 0, 0])?.to_vec()
    } else {
        return None;
    };
    Some((frame, src, sport, dport, ike))
}
