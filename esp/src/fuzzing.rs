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

use crate::{
    AesKeySize, Direction, Encryption, Integrity, Keys, Mode, ReplayWindow, Sa, SaParams, Spi,
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
