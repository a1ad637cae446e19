//! Helpers shared by the integration tests: a reader for the `vectors/`
//! files, an RNG that replays fixed IVs, SA and packet builders.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::Ipv4Addr;
use std::time::Instant;

use esp::{AesKeySize, Direction, Encryption, Integrity, Keys, Mode, Sa, SaParams, Spi};
use rand_chacha::ChaCha20Rng;
use rand_core::{SeedableRng, TryCryptoRng, TryRng};

/// `[section]` -> key -> value, from a vectors file.
pub fn read_vectors(text: &str) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            current = Some(name.to_string());
            out.insert(name.to_string(), BTreeMap::new());
        } else if let (Some(sec), Some((k, v))) = (&current, line.split_once('=')) {
            out.get_mut(sec)
                .unwrap()
                .insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    out
}

pub fn h(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

/// An "RNG" that hands out fixed bytes: lets a test reproduce a published
/// packet whose IV the RFC chose.
pub struct FixedRng(pub Vec<u8>);

impl TryRng for FixedRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        assert!(self.0.len() >= dst.len(), "FixedRng ran out of bytes");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
impl TryCryptoRng for FixedRng {}

pub fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed([42; 32])
}

pub const OUTER_SRC: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 1);
pub const OUTER_DST: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 2);

pub fn tunnel() -> Mode {
    Mode::Tunnel {
        src: OUTER_SRC,
        dst: OUTER_DST,
    }
}

/// Every encryption x integrity combination the crate supports.
pub fn all_suites() -> Vec<(Encryption, Integrity)> {
    let encs = [
        Encryption::Null,
        Encryption::DesCbc,
        Encryption::TripleDesCbc,
        Encryption::AesCbc(AesKeySize::Aes128),
        Encryption::AesCbc(AesKeySize::Aes192),
        Encryption::AesCbc(AesKeySize::Aes256),
    ];
    let integs = [
        Integrity::HmacMd5_96,
        Integrity::HmacSha1_96,
        Integrity::HmacSha256_128,
        Integrity::HmacSha384_192,
        Integrity::HmacSha512_256,
    ];
    let mut v = Vec::new();
    for e in encs {
        for i in integs {
            v.push((e, i));
        }
    }
    for k in [AesKeySize::Aes128, AesKeySize::Aes192, AesKeySize::Aes256] {
        v.push((Encryption::AesGcm16(k), Integrity::None));
    }
    v
}

/// Deterministic key bytes of the right lengths (3DES keys distinct).
pub fn keys_for(e: Encryption, i: Integrity) -> Keys {
    let ek: Vec<u8> = (0..e.key_len())
        .map(|n| (n as u8).wrapping_mul(37) ^ 0x5a)
        .collect();
    let ak: Vec<u8> = (0..i.key_len())
        .map(|n| (n as u8).wrapping_mul(11) ^ 0xa5)
        .collect();
    Keys::new(&ek, &ak)
}

pub fn params(dir: Direction, mode: Mode, e: Encryption, i: Integrity) -> SaParams {
    let mut p = SaParams::new(Spi(0x1234_5678), dir, mode, e, i, keys_for(e, i));
    p.allow_weak = true;
    p
}

/// An outbound and an inbound SA with the same parameters.
pub fn pair(p: &SaParams, now: Instant) -> (Sa, Sa) {
    let mut o = p.clone();
    o.direction = Direction::Outbound;
    let mut i = p.clone();
    i.direction = Direction::Inbound;
    (Sa::new(o, now).unwrap(), Sa::new(i, now).unwrap())
}

/// A valid IPv4 ICMP echo of `payload_len` data bytes from 13.13.13.14 to
/// 12.12.12.13 (the seed's hosts).
pub fn icmp_v4(payload_len: usize, id: u16) -> Vec<u8> {
    let total = 20 + 8 + payload_len;
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[4..6].copy_from_slice(&id.to_be_bytes());
    p[6] = 0x40; // DF
    p[8] = 64;
    p[9] = 1;
    p[12..16].copy_from_slice(&[13, 13, 13, 14]);
    p[16..20].copy_from_slice(&[12, 12, 12, 13]);
    let c = checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p[20] = 8;
    for (n, b) in p[28..].iter_mut().enumerate() {
        *b = n as u8;
    }
    p
}

/// A valid IPv4 UDP packet with ports.
pub fn udp_v4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, len: usize) -> Vec<u8> {
    let total = 20 + 8 + len;
    let mut p = vec![0u8; total];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 17;
    p[12..16].copy_from_slice(&src);
    p[16..20].copy_from_slice(&dst);
    let c = checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p[20..22].copy_from_slice(&sport.to_be_bytes());
    p[22..24].copy_from_slice(&dport.to_be_bytes());
    p[24..26].copy_from_slice(&((8 + len) as u16).to_be_bytes());
    p
}

/// A valid IPv6 UDP packet.
pub fn udp_v6(len: usize) -> Vec<u8> {
    let mut p = vec![0u8; 40 + 8 + len];
    p[0] = 0x60;
    p[4..6].copy_from_slice(&((8 + len) as u16).to_be_bytes());
    p[6] = 17;
    p[7] = 64;
    p[8..24].copy_from_slice(
        &"2001:db8::1"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    p[24..40].copy_from_slice(
        &"2001:db8::2"
            .parse::<std::net::Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    p[40..42].copy_from_slice(&1234u16.to_be_bytes());
    p[42..44].copy_from_slice(&53u16.to_be_bytes());
    p
}

pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 {
            u16::from_be_bytes([c[0], c[1]])
        } else {
            u16::from(c[0]) << 8
        };
        sum += u32::from(w);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Encapsulates `inner` with `sa`, returning the outer packet bytes.
pub fn encap(
    sa: &mut Sa,
    now: Instant,
    rng: &mut impl rand_core::CryptoRng,
    inner: &[u8],
) -> Vec<u8> {
    let room = sa.room(inner.len());
    let mut buf = vec![0u8; room.headroom + inner.len() + room.tailroom];
    buf[room.headroom..room.headroom + inner.len()].copy_from_slice(inner);
    let r = sa
        .encapsulate(
            now,
            rng,
            &mut buf,
            room.headroom..room.headroom + inner.len(),
        )
        .unwrap();
    buf[r.packet].to_vec()
}

/// Wraps an ESP packet (SPI onwards) in an outer IPv4 header, protocol 50.
pub fn wrap_esp(esp: &[u8]) -> Vec<u8> {
    let total = 20 + esp.len();
    let mut p = vec![0u8; 20];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p[8] = 64;
    p[9] = 50;
    p[12..16].copy_from_slice(&OUTER_DST.octets());
    p[16..20].copy_from_slice(&OUTER_SRC.octets());
    let c = checksum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(esp);
    p
}
