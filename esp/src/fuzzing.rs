//! Entry points for the fuzz targets (`fuzz/fuzz_targets/esp_*.rs`) and the
//! corpus replay test (`tests/tests/fuzz_corpus_esp.rs`). Each function
//! takes arbitrary bytes and panics only when an invariant is broken.
//!
//! - [`decap`]: arbitrary bytes decapsulated under one of five fixed SAs,
//!   or a valid packet made by the matching encapsulation with arbitrary
//!   bits flipped. Invariants: no panic; `Ok` only when an independent
//!   computation (the `hmac` / `aes-gcm` crates used directly) says the ICV
//!   is valid; a flipped packet is never accepted and an unflipped one
//!   always is; on failure the ciphertext region holds either its original
//!   bytes or zeros, never plaintext; error counters add up.
//! - [`window`]: an arbitrary sequence-number stream into a
//!   [`ReplayWindow`] of arbitrary size, checked against a set-of-seen-
//!   numbers model, plus the RFC 4303 Appendix A inference property.
//! - [`ipv4`]: arbitrary bytes as an IPv4 packet through `esp::ip`: the
//!   header reader, ESP's header facts and the checked parser agree, and
//!   what parses rebuilds.
//! - [`udp`]: UDP-encapsulated ESP (RFC 3948) under the same five suites,
//!   through the whole-packet entry point or the bare-ESP one a UDP socket
//!   uses: arbitrary bytes, or a valid packet with bits flipped. Besides
//!   [`decap`]'s invariants: ESP's verdict on what the UDP payload is
//!   (keepalive, non-ESP marker, truncated marker, ESP) agrees with
//!   `isakmp_wire::nat_t::classify`, the port-4500 demultiplexer, and an
//!   accepted packet reports the UDP source it came from.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]
// Panicking is this module's purpose: a broken invariant must crash the
// fuzzer. Indexing here is on buffers whose lengths were just checked.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Instant;

use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::consts::U12;
use hmac::{Hmac, KeyInit, Mac};
use rand_core::SeedableRng as _;

use std::net::SocketAddrV4;

use isakmp_wire::nat_t::{self, Udp4500};

use crate::{
    AesKeySize, DecapError, Direction, Encryption, Integrity, Keys, Mode, ReplayWindow, Sa,
    SaParams, Spi, UDP_RX_HEADROOM, UdpEncap,
};

const SPI: u32 = 0x0102_0304;

struct Suite {
    enc: Encryption,
    integ: Integrity,
    mode: Mode,
    esn: bool,
}

fn suites() -> [Suite; 5] {
    let tunnel = Mode::Tunnel {
        src: Ipv4Addr::new(11, 11, 11, 1),
        dst: Ipv4Addr::new(11, 11, 11, 2),
    };
    [
        Suite {
            enc: Encryption::AesCbc(AesKeySize::Aes128),
            integ: Integrity::HmacSha1_96,
            mode: tunnel,
            esn: false,
        },
        Suite {
            enc: Encryption::AesGcm16(AesKeySize::Aes128),
            integ: Integrity::None,
            mode: tunnel,
            esn: true,
        },
        Suite {
            enc: Encryption::Null,
            integ: Integrity::HmacSha256_128,
            mode: Mode::Transport,
            esn: false,
        },
        Suite {
            enc: Encryption::DesCbc,
            integ: Integrity::HmacMd5_96,
            mode: tunnel,
            esn: false,
        },
        Suite {
            enc: Encryption::TripleDesCbc,
            integ: Integrity::HmacSha1_96,
            mode: Mode::Transport,
            esn: true,
        },
    ]
}

fn key_bytes(n: usize, salt: u8) -> Vec<u8> {
    (0..n)
        .map(|i| u8::try_from(i % 251).unwrap_or(0).wrapping_mul(31) ^ salt)
        .collect()
}

fn make(s: &Suite, dir: Direction, now: Instant) -> Sa {
    make_with(s, dir, now, None)
}

fn make_with(s: &Suite, dir: Direction, now: Instant, udp: Option<UdpEncap>) -> Sa {
    let mut p = SaParams::new(
        Spi(SPI),
        dir,
        s.mode,
        s.enc,
        s.integ,
        Keys::new(
            &key_bytes(s.enc.key_len(), 0x5a),
            &key_bytes(s.integ.key_len(), 0xa5),
        ),
    );
    p.esn = s.esn;
    p.allow_weak = true;
    p.udp_encap = udp;
    Sa::new(p, now).expect("fuzz SA parameters are valid")
}

/// Independent ICV check of an ESP packet (SPI to end) for sequence `seq`.
fn icv_is_valid(s: &Suite, esp: &[u8], seq: u64) -> bool {
    let ek = key_bytes(s.enc.key_len(), 0x5a);
    let ak = key_bytes(s.integ.key_len(), 0xa5);
    let hi = u32::try_from(seq >> 32).unwrap_or(0).to_be_bytes();
    if let Encryption::AesGcm16(_) = s.enc {
        if esp.len() < 8 + 8 + 16 {
            return false;
        }
        let g = aes_gcm::AesGcm::<aes::Aes128, U12>::new_from_slice(&ek[..16]).unwrap();
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&ek[16..20]);
        nonce[4..].copy_from_slice(&esp[8..16]);
        let mut aad = esp[..4].to_vec();
        if s.esn {
            aad.extend_from_slice(&seq.to_be_bytes());
        } else {
            aad.extend_from_slice(&esp[4..8]);
        }
        let n = esp.len();
        let mut body = esp[16..n - 16].to_vec();
        let tag = aes_gcm::Tag::try_from(&esp[n - 16..]).unwrap();
        return g
            .decrypt_inout_detached(&nonce.into(), &aad, body.as_mut_slice().into(), &tag)
            .is_ok();
    }
    let icv_len = s.integ.icv_len();
    if esp.len() < icv_len {
        return false;
    }
    let (data, icv) = esp.split_at(esp.len() - icv_len);
    let extra: &[u8] = if s.esn { &hi } else { &[] };
    macro_rules! check {
        ($d:ty) => {{
            let mut m = <Hmac<$d> as KeyInit>::new_from_slice(&ak).unwrap();
            m.update(data);
            m.update(extra);
            m.finalize().into_bytes()[..icv_len] == *icv
        }};
    }
    match s.integ {
        Integrity::HmacMd5_96 => check!(md5::Md5),
        Integrity::HmacSha1_96 => check!(sha1::Sha1),
        Integrity::HmacSha256_128 => check!(sha2::Sha256),
        Integrity::HmacSha384_192 => check!(sha2::Sha384),
        Integrity::HmacSha512_256 => check!(sha2::Sha512),
        _ => false,
    }
}

fn ipv4_packet(payload: &[u8]) -> Vec<u8> {
    let total = 20 + payload.len();
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&u16::try_from(total).unwrap_or(u16::MAX).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&[13, 13, 13, 14]);
    p[16..20].copy_from_slice(&[12, 12, 12, 13]);
    let c = crate::ip::checksum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// The `esp_decap` target. Byte 0 picks one of five SAs (low 3 bits) and
/// the mode (bit 7): raw bytes, or a valid packet with bits flipped.
pub fn decap(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let all = suites();
    let s = &all[usize::from(sel & 7) % all.len()];
    let now = Instant::now();
    let mut inb = make(s, Direction::Inbound, now);
    if sel & 0x80 == 0 {
        raw(s, &mut inb, now, rest);
    } else {
        flipped(s, &mut inb, now, rest);
    }
}

fn raw(s: &Suite, inb: &mut Sa, now: Instant, bytes: &[u8]) {
    let orig = bytes.to_vec();
    let mut buf = orig.clone();
    let window_before = inb.replay_window().top();
    match inb.decapsulate(now, &mut buf) {
        Ok(d) => {
            let hl = usize::from(orig[0] & 0x0f) * 4;
            let total = usize::from(u16::from_be_bytes([orig[2], orig[3]]));
            let esp = &orig[hl..total];
            assert!(
                icv_is_valid(s, esp, d.seq),
                "accepted a packet whose ICV an independent check rejects"
            );
            assert!(d.packet.end <= buf.len());
        }
        Err(e) => {
            // Only an authentic dummy packet (RFC 4303 s.2.6) moves it.
            if e != crate::DecapError::DummyPacket {
                assert_eq!(
                    inb.replay_window().top(),
                    window_before,
                    "window moved on failure"
                );
            }
            // Every byte is unchanged or zeroed (transport mode may have
            // copied the outer header forward before failing).
            let hl = orig.first().map_or(0, |b| usize::from(b & 0x0f) * 4);
            let plain_start = hl + 8 + s.enc.iv_len();
            for (i, (a, b)) in orig.iter().zip(&buf).enumerate() {
                if i >= plain_start {
                    assert!(a == b || *b == 0, "byte {i} changed to non-zero on failure");
                }
            }
        }
    }
    let c = inb.counters();
    assert_eq!(c.recv_errors, c.recv_causes());
}

fn flipped(s: &Suite, inb: &mut Sa, now: Instant, bytes: &[u8]) {
    let half = bytes.len() / 2;
    let (payload, mask) = bytes.split_at(half);
    let payload = payload.get(..payload.len().min(1400)).unwrap_or(&[]);
    let inner = ipv4_packet(payload);
    let mut out = make(s, Direction::Outbound, now);
    let room = out.room(inner.len());
    let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
    buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
    let e = out
        .encapsulate(
            now,
            &mut rng,
            &mut buf,
            room.headroom..room.headroom + inner.len(),
        )
        .expect("encapsulation of a valid packet");
    let mut wire = buf[e.packet.clone()].to_vec();
    let esp_off = e.esp.start - e.packet.start;
    let mut changed = false;
    for (b, m) in wire.iter_mut().skip(esp_off).zip(mask) {
        *b ^= m;
        changed |= *m != 0;
    }
    match inb.decapsulate(now, &mut wire) {
        Ok(d) => {
            assert!(!changed, "a modified ESP packet was accepted");
            let got = &wire[d.packet];
            match s.mode {
                Mode::Tunnel { .. } => assert_eq!(got, &inner[..]),
                Mode::Transport => assert_eq!(&got[20..], &inner[20..]),
            }
        }
        Err(e) => assert!(changed, "an unmodified packet was rejected: {e}"),
    }
}

/// The `esp_window` target. Bytes 0-1: window size 1..=4096; byte 2: ESN
/// property checks on/off; then 4-byte signed deltas from the current top.
pub fn window(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let size = u32::from(u16::from_le_bytes([data[0], data[1]]) % 4096) + 1;
    let check_esn = data[2] & 1 == 1;
    let mut w = ReplayWindow::new(Some(size));
    let mut seen = BTreeSet::new();
    let mut top = 0u64;
    for chunk in data[3..].chunks_exact(4) {
        let delta = i64::from(i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]));
        let seq = if delta >= 0 {
            top.saturating_add(delta.unsigned_abs())
        } else {
            top.saturating_sub(delta.unsigned_abs())
        };
        let accept = seq != 0 && !seen.contains(&seq) && (seq > top || top - seq < u64::from(size));
        if check_esn && top + 1 >= u64::from(size) {
            // RFC 4303 A2.1: any number in [bottom, bottom + 2^32) is
            // recovered from its low half.
            let bottom = top + 1 - u64::from(size);
            if seq >= bottom && seq - bottom < (1 << 32) {
                let low = u32::try_from(seq & 0xffff_ffff).unwrap_or(0);
                assert_eq!(w.infer_esn(low), Some(seq), "ESN inference, top {top}");
            }
        }
        assert_eq!(
            w.check(seq).is_ok(),
            accept,
            "check({seq}) top {top} size {size}"
        );
        assert_eq!(w.mark(seq).is_ok(), accept, "mark({seq})");
        if accept {
            seen.insert(seq);
            top = top.max(seq);
        }
        assert_eq!(w.top(), top);
    }
}

/// Arbitrary bytes as an IPv4 packet through [`crate::ip`], the product's
/// one IPv4 code path. Invariants: no panic; the checked parser accepts
/// exactly what the header reader accepts with the whole packet present
/// and a correct header checksum, and agrees with it field by field; ESP's
/// own header facts agree with the reader; a packet without options, the
/// reserved flag or fragmentation rebuilds byte for byte from its parsed
/// header (and a UDP or ICMP echo one from its parsed transport, when its
/// checksum was sent); decrementing the TTL keeps the header valid.
pub fn ipv4(data: &[u8]) {
    use crate::ip::{self, Ipv4Fields, Ipv4Packet, Transport};

    let fields = Ipv4Fields::read(data);
    let internal = ip::parse_ipv4(data);
    match (&fields, &internal) {
        (Ok(f), Ok(i)) => {
            assert!(f.total_len <= data.len());
            assert_eq!(
                (i.header_len, i.total_len, i.protocol, i.src, i.dst),
                (
                    f.header_len,
                    f.total_len,
                    f.header.protocol,
                    f.header.source,
                    f.header.destination
                )
            );
            assert_eq!(i.is_fragment, f.is_fragment());
        }
        (Ok(f), Err(_)) => assert!(f.total_len > data.len(), "ESP refused a whole header"),
        (Err(_), Ok(_)) => panic!("ESP read a header the reader refused"),
        (Err(_), Err(_)) => {}
    }
    let Ok(packet) = Ipv4Packet::parse(data) else {
        if let Ok(f) = &fields
            && data.len() >= ip::IPV4_HEADER_LEN
            && f.total_len <= data.len()
        {
            assert_ne!(
                ip::checksum(&data[..f.header_len]),
                0,
                "a whole packet with a good checksum refused"
            );
        }
        return;
    };
    let f = fields.expect("the checked parser accepted what the reader refused");
    assert_eq!(packet.header, f.header);
    assert_eq!(packet.header_len, f.header_len);
    assert_eq!(packet.payload, &data[f.header_len..f.total_len]);
    // One's complement has two zeros: a checksum field of 0xffff may stand
    // where the builder writes 0, so such packets are not compared.
    let field_at = |at: usize| u16::from_be_bytes([data[at], data[at + 1]]);
    let flags = field_at(6);
    let plain =
        f.header_len == ip::IPV4_HEADER_LEN && flags & 0xbfff == 0 && field_at(10) != 0xffff;
    if plain {
        let rebuilt = packet
            .header
            .build(packet.payload)
            .expect("it fitted before");
        assert_eq!(rebuilt, &data[..f.total_len], "header rebuild differs");
    }
    let transport = packet.transport();
    if plain && let Ok(t) = transport {
        let l4 = f.header_len;
        let rebuilt = match t {
            // Rebuilt only when the UDP length fills the IP payload and a
            // checksum was sent (0 means none).
            Transport::Udp {
                source_port,
                destination_port,
                payload,
            } if payload.len() + ip::UDP_HEADER_LEN == packet.payload.len()
                && field_at(l4 + 6) != 0 =>
            {
                Some(ip::udp(
                    packet.header,
                    source_port,
                    destination_port,
                    payload,
                ))
            }
            Transport::Icmp {
                icmp_type,
                code,
                rest,
                data: message,
            } if field_at(l4 + 2) != 0xffff => {
                Some(ip::icmp(packet.header, icmp_type, code, rest, message))
            }
            _ => None,
        };
        if let Some(rebuilt) = rebuilt {
            let rebuilt = rebuilt.expect("it fitted before");
            assert_eq!(rebuilt, &data[..f.total_len], "transport rebuild differs");
        }
    }
    let mut copy = data.to_vec();
    match ip::decrement_ttl(&mut copy) {
        Ok(ttl) => {
            let again = Ipv4Packet::parse(&copy).expect("a forwarded header stays valid");
            assert_eq!(again.header.ttl, ttl);
            assert_eq!(ttl, packet.header.ttl - 1);
        }
        Err(_) => assert!(packet.header.ttl <= 1),
    }
}

/// The UDP port of the `udp` target's SAs, both sides.
const UDP_PORT: u16 = 4500;

/// Where the bare-ESP inputs of the `udp` target come from and go to.
fn udp_addrs() -> (SocketAddrV4, SocketAddrV4) {
    (
        SocketAddrV4::new(Ipv4Addr::new(11, 11, 11, 1), 31_000),
        SocketAddrV4::new(Ipv4Addr::new(11, 11, 11, 2), UDP_PORT),
    )
}

/// What ESP must say of a UDP payload that is not ESP, per
/// `isakmp_wire::nat_t::classify`; `None` for ESP.
fn classify_verdict(payload: &[u8]) -> Option<DecapError> {
    match nat_t::classify(payload) {
        Ok(Udp4500::Esp(_)) => None,
        Ok(Udp4500::Keepalive) => Some(DecapError::Keepalive),
        Ok(Udp4500::Ike(_)) | Err(nat_t::Udp4500Error::MarkerOnly) => {
            Some(DecapError::NonEspMarker)
        }
        Err(nat_t::Udp4500Error::TruncatedMarker { len }) => {
            Some(DecapError::TruncatedMarker { len })
        }
        Err(_) => Some(DecapError::BadLength { len: payload.len() }),
    }
}

/// The `esp_udp` target. Byte 0 picks one of five SAs (low 3 bits), the
/// entry point (bit 6: the bare ESP bytes, else the whole IPv4 packet)
/// and the mode (bit 7: a valid packet with bits flipped, else raw bytes).
pub fn udp(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let all = suites();
    let s = &all[usize::from(sel & 7) % all.len()];
    let now = Instant::now();
    let encap = Some(UdpEncap::new(UDP_PORT, UDP_PORT));
    let mut inb = make_with(s, Direction::Inbound, now, encap);
    let bare = sel & 0x40 != 0;
    if sel & 0x80 == 0 {
        udp_raw(s, &mut inb, now, rest, bare);
    } else {
        udp_flipped(s, &mut inb, now, rest, bare);
    }
    let c = inb.counters();
    assert_eq!(c.recv_errors, c.recv_causes());
}

fn udp_raw(s: &Suite, inb: &mut Sa, now: Instant, bytes: &[u8], bare: bool) {
    let window_before = inb.replay_window().top();
    let (from, to) = udp_addrs();
    // The ESP bytes within `buf`, and the whole UDP payload when the
    // framing is whole enough to have one.
    let (mut buf, esp, result) = if bare {
        let mut buf = vec![0u8; UDP_RX_HEADROOM];
        buf.extend_from_slice(bytes);
        let esp = UDP_RX_HEADROOM..buf.len();
        let r = inb.decapsulate_udp(now, &mut buf, esp.clone(), from, to);
        (buf, Some(esp), r)
    } else {
        let mut buf = bytes.to_vec();
        let r = inb.decapsulate(now, &mut buf);
        // An IPv4/UDP packet whose UDP length fills its payload exactly.
        let esp = crate::ip::parse_ipv4(bytes).ok().and_then(|h| {
            let seg = bytes.get(h.header_len..h.total_len)?;
            let len = usize::from(u16::from_be_bytes([*seg.get(4)?, *seg.get(5)?]));
            (h.protocol == 17 && !h.is_fragment && len == seg.len() && len >= 8)
                .then_some(h.header_len + 8..h.total_len)
        });
        (buf, esp, r)
    };
    let orig_esp = esp.as_ref().map(|r| {
        if bare {
            bytes.to_vec()
        } else {
            bytes[r.clone()].to_vec()
        }
    });
    if let Some(payload) = &orig_esp {
        // ESP's framing verdict is classify's (it comes before the port
        // and anything of the SA).
        if let Some(want) = classify_verdict(payload) {
            assert_eq!(result.as_ref().err(), Some(&want));
        }
    }
    match &result {
        Ok(d) => {
            let payload = orig_esp.expect("accepted without a whole UDP frame");
            assert!(
                classify_verdict(&payload).is_none(),
                "accepted what classify says is not ESP"
            );
            assert!(
                icv_is_valid(s, &payload, d.seq),
                "accepted a packet whose ICV an independent check rejects"
            );
            assert!(d.packet.end <= buf.len());
            let src = if bare {
                Some(from)
            } else {
                let p = esp.expect("whole frame").start - 8;
                Some(SocketAddrV4::new(
                    Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]),
                    u16::from_be_bytes([bytes[p], bytes[p + 1]]),
                ))
            };
            assert_eq!(d.udp_source, src);
        }
        Err(e) => {
            if *e != DecapError::DummyPacket {
                assert_eq!(
                    inb.replay_window().top(),
                    window_before,
                    "window moved on failure"
                );
            }
            // No plaintext left behind: bytes after the IV are as they came
            // or zero.
            if let Some(r) = &esp {
                let plain_start = r.start + 8 + s.enc.iv_len();
                let orig = if bare {
                    let mut o = vec![0u8; UDP_RX_HEADROOM];
                    o.extend_from_slice(bytes);
                    o
                } else {
                    bytes.to_vec()
                };
                for (i, (a, b)) in orig.iter().zip(&buf).enumerate() {
                    if i >= plain_start {
                        assert!(a == b || *b == 0, "byte {i} changed to non-zero on failure");
                    }
                }
            }
        }
    }
    buf.clear();
}

fn udp_flipped(s: &Suite, inb: &mut Sa, now: Instant, bytes: &[u8], bare: bool) {
    let half = bytes.len() / 2;
    let (payload, mask) = bytes.split_at(half);
    let payload = payload.get(..payload.len().min(1400)).unwrap_or(&[]);
    let inner = ipv4_packet(payload);
    let mut out = make_with(
        s,
        Direction::Outbound,
        now,
        Some(UdpEncap::new(UDP_PORT, UDP_PORT)),
    );
    let room = out.room(inner.len());
    let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
    buf[room.headroom..room.headroom + inner.len()].copy_from_slice(&inner);
    let mut rng = rand_chacha::ChaCha20Rng::from_seed([3; 32]);
    let e = out
        .encapsulate(
            now,
            &mut rng,
            &mut buf,
            room.headroom..room.headroom + inner.len(),
        )
        .expect("encapsulation of a valid packet");
    let udp = e.udp.clone().expect("a UDP-encapsulated SA");
    assert_eq!(udp.payload, e.esp);
    let mut changed = false;
    let result = if bare {
        let mut rx = vec![0u8; UDP_RX_HEADROOM];
        rx.extend_from_slice(&buf[e.esp.clone()]);
        for (b, m) in rx.iter_mut().skip(UDP_RX_HEADROOM).zip(mask) {
            *b ^= m;
            changed |= *m != 0;
        }
        let n = rx.len();
        let r = inb.decapsulate_udp(
            now,
            &mut rx,
            UDP_RX_HEADROOM..n,
            udp.source,
            udp.destination,
        );
        r.map(|d| (rx[d.packet.clone()].to_vec(), d))
    } else {
        let mut wire = buf[e.packet.clone()].to_vec();
        let esp_off = e.esp.start - e.packet.start;
        for (b, m) in wire.iter_mut().skip(esp_off).zip(mask) {
            *b ^= m;
            changed |= *m != 0;
        }
        let r = inb.decapsulate(now, &mut wire);
        r.map(|d| (wire[d.packet.clone()].to_vec(), d))
    };
    match result {
        Ok((got, d)) => {
            assert!(!changed, "a modified ESP packet was accepted");
            assert_eq!(d.udp_source, Some(udp.source));
            match s.mode {
                Mode::Tunnel { .. } => assert_eq!(got, inner),
                Mode::Transport => {
                    // RFC 3948 s.3.1.2 recomputes the UDP checksum (the
                    // inner "UDP header" is fuzzer bytes): it must verify,
                    // and every other byte be the sender's.
                    let (seg, sent) = (&got[20..], &inner[20..]);
                    assert_eq!(seg.len(), sent.len());
                    if seg.len() >= 8 && (sent[6], sent[7]) != (0, 0) {
                        let c = crate::ip::transport_checksum(
                            Ipv4Addr::new(got[12], got[13], got[14], got[15]),
                            Ipv4Addr::new(got[16], got[17], got[18], got[19]),
                            17,
                            seg,
                        );
                        assert_eq!(c, 0, "restored UDP checksum does not verify");
                        assert_eq!((&seg[..6], &seg[8..]), (&sent[..6], &sent[8..]));
                    } else {
                        assert_eq!(seg, sent);
                    }
                }
            }
        }
        Err(e) => assert!(changed, "an unmodified packet was rejected: {e}"),
    }
}
