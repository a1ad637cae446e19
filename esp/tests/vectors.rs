//! Known-answer tests from published vectors:
//! - RFC 3602 s.4 cases #5-#8 (vectors/esp_rfc3602_aes_cbc.txt): complete
//!   AES-CBC ESP packets, transport and tunnel mode, no authenticator;
//! - draft-mcgrew-gcm-test-01 s.4 (vectors/esp_gcm_rfc4106.txt): AES-GCM
//!   ESP packets, 32- and 64-bit sequence numbers;
//! - RFC 2202 (vectors/hmac_rfc2202.txt) through the ESP ICV, and the
//!   DES/3DES CBC known answers (vectors/des_3des.txt) through ESP.

// Test and benchmark code: a panic is a test failure, and the fixtures index
// buffers they just built.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::cast_possible_truncation
)]

mod common;

use std::net::Ipv4Addr;
use std::time::Instant;

use common::*;
use esp::{
    AesKeySize, DecapError, Direction, Encryption, Integrity, Keys, Mode, Sa, SaParams, Spi,
};

const RFC3602: &str = include_str!("../../vectors/esp_rfc3602_aes_cbc.txt");
const GCM: &str = include_str!("../../vectors/esp_gcm_rfc4106.txt");

fn rfc3602_sa(dir: Direction, mode: Mode, key: &[u8], spi: u32) -> Sa {
    let mut p = SaParams::new(
        Spi(spi),
        dir,
        mode,
        Encryption::AesCbc(AesKeySize::Aes128),
        Integrity::None,
        Keys::new(key, &[]),
    );
    // The RFC's examples carry no authenticator.
    p.allow_no_integrity = true;
    Sa::new(p, Instant::now()).unwrap()
}

/// RFC 3602 case #5 gives the outer header before and after ESP; cases 6-8
/// give the ESP part only. Transport cases rebuild the original packet as
/// the RFC's ping: header 20 bytes then the ICMP payload.
#[test]
fn rfc3602_cases_5_to_8_encapsulate_byte_exact() {
    let v = read_vectors(RFC3602);
    let now = Instant::now();
    for case in [
        "rfc3602-case5-esp",
        "rfc3602-case6-esp",
        "rfc3602-case7-esp",
        "rfc3602-case8-esp",
    ] {
        let c = &v[case];
        let key = h(&c["key"]);
        let spi = u32::from_str_radix(&c["spi"], 16).unwrap();
        let seq: u64 = c["seq"].parse().unwrap();
        let payload = h(&c["payload"]);
        let expected = h(&c["esp_packet"]);
        let nh: u8 = c["next_header"].parse().unwrap();
        let tunnel = nh == 4;
        let mode = if tunnel {
            Mode::Tunnel {
                src: Ipv4Addr::new(192, 168, 123, 3),
                dst: Ipv4Addr::new(192, 168, 123, 200),
            }
        } else {
            Mode::Transport
        };
        let mut sa = rfc3602_sa(Direction::Outbound, mode, &key, spi);
        // Advance the sequence number to the RFC's value with throwaway
        // packets (each consumes one number and one IV).
        let inner = if tunnel {
            payload.clone()
        } else {
            // Case 5's original header from the RFC text; case 6 gets a
            // header of the right length (only its length matters for ESP).
            let mut hdr = h("4500005408f200004001f9fec0a87b03c0a87b64");
            let total = (20 + payload.len()) as u16;
            hdr[2..4].copy_from_slice(&total.to_be_bytes());
            hdr[10] = 0;
            hdr[11] = 0;
            let cs = checksum(&hdr);
            hdr[10..12].copy_from_slice(&cs.to_be_bytes());
            [hdr, payload.clone()].concat()
        };
        for _ in 1..seq {
            let mut r = rng();
            encap(&mut sa, now, &mut r, &inner);
        }
        let mut fixed = FixedRng(h(&c["iv"]));
        let out = encap(&mut sa, now, &mut fixed, &inner);
        assert_eq!(hex::encode(&out[20..]), hex::encode(&expected), "{case}");
        assert_eq!(out[9], 50, "{case}: protocol");
        assert_eq!(checksum(&out[..20]), 0, "{case}: header checksum");
        assert_eq!(usize::from(u16::from_be_bytes([out[2], out[3]])), out.len());
        if case == "rfc3602-case5-esp" {
            // The RFC prints the whole outer header after ESP processing.
            assert_eq!(
                hex::encode(&out[..20]),
                "4500007c08f200004032f9a5c0a87b03c0a87b64"
            );
        }
    }
}

#[test]
fn rfc3602_cases_5_to_8_decapsulate() {
    let v = read_vectors(RFC3602);
    let now = Instant::now();
    for case in [
        "rfc3602-case5-esp",
        "rfc3602-case6-esp",
        "rfc3602-case7-esp",
        "rfc3602-case8-esp",
    ] {
        let c = &v[case];
        let key = h(&c["key"]);
        let spi = u32::from_str_radix(&c["spi"], 16).unwrap();
        let payload = h(&c["payload"]);
        let nh: u8 = c["next_header"].parse().unwrap();
        let mode = if nh == 4 { tunnel() } else { Mode::Transport };
        let mut sa = rfc3602_sa(Direction::Inbound, mode, &key, spi);
        let mut pkt = wrap_esp(&h(&c["esp_packet"]));
        let d = sa.decapsulate(now, &mut pkt).unwrap();
        assert_eq!(d.next_header, nh, "{case}");
        assert_eq!(d.seq, c["seq"].parse::<u64>().unwrap());
        let got = &pkt[d.packet.clone()];
        if nh == 4 {
            assert_eq!(got, &payload[..], "{case}");
        } else {
            assert_eq!(&got[20..], &payload[..], "{case}");
            assert_eq!(got[9], 1, "restored protocol");
            assert_eq!(checksum(&got[..20]), 0);
        }
        // The same packet again is a replay.
        let mut again = wrap_esp(&h(&c["esp_packet"]));
        assert!(matches!(
            sa.decapsulate(now, &mut again),
            Err(DecapError::Replay { .. })
        ));
    }
}

/// draft-mcgrew-gcm-test-01: every 32-bit-sequence case and the 64-bit
/// case whose high half is 0 go through the public SA (transport mode);
/// the transform-level test in src/ covers the others.
#[test]
fn rfc4106_gcm_draft_vectors_decapsulate() {
    let v = read_vectors(GCM);
    let now = Instant::now();
    let mut done = 0;
    for (name, c) in &v {
        let seq = u64::from_str_radix(&c["seq"], 16).unwrap();
        let esn = c["esn"] == "true";
        if seq >> 32 != 0 {
            continue;
        }
        let key = h(&c["key"]);
        let size = match key.len() - 4 {
            16 => AesKeySize::Aes128,
            24 => AesKeySize::Aes192,
            _ => AesKeySize::Aes256,
        };
        let spi = u32::from_str_radix(&c["spi"], 16).unwrap();
        // Case 4 uses SPI 0, which RFC 4303 reserves: an SA refuses it,
        // and that is tested below instead.
        let mut p = SaParams::new(
            Spi(spi),
            Direction::Inbound,
            Mode::Transport,
            Encryption::AesGcm16(size),
            Integrity::None,
            Keys::new(&key, &[]),
        );
        p.esn = esn;
        if spi <= 255 {
            assert!(Sa::new(p, now).is_err(), "{name}: reserved SPI accepted");
            continue;
        }
        let mut sa = Sa::new(p, now).unwrap();
        let pt = h(&c["esp_plaintext"]);
        let pad_len = usize::from(pt[pt.len() - 2]);
        let payload = &pt[..pt.len() - 2 - pad_len];
        let mut pkt = wrap_esp(&h(&c["esp_packet"]));
        let d = sa
            .decapsulate(now, &mut pkt)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.seq, seq);
        assert_eq!(d.next_header, pt[pt.len() - 1]);
        assert_eq!(&pkt[d.packet.start + 20..d.packet.end], payload, "{name}");
        // Any flipped bit in the ICV fails.
        let mut bad = wrap_esp(&h(&c["esp_packet"]));
        let last = bad.len() - 1;
        bad[last] ^= 1;
        let mut sa2 = {
            let mut p = SaParams::new(
                Spi(spi),
                Direction::Inbound,
                Mode::Transport,
                Encryption::AesGcm16(size),
                Integrity::None,
                Keys::new(&key, &[]),
            );
            p.esn = esn;
            Sa::new(p, now).unwrap()
        };
        assert_eq!(
            sa2.decapsulate(now, &mut bad),
            Err(DecapError::AuthenticationFailed)
        );
        done += 1;
    }
    assert_eq!(
        done, 6,
        "cases with 32-bit or zero-high sequence numbers and a valid SPI"
    );
}

/// GCM encapsulation is reproducible from the draft when the draft's IV
/// equals the sequence number: no case has that, so instead check that our
/// packets decrypt with an independent AES-GCM computation of the RFC 4106
/// construction (nonce = salt || seq, AAD = SPI || seq).
#[test]
fn gcm_encapsulation_uses_rfc4106_nonce_and_aad() {
    use aes_gcm::aead::AeadInOut;
    use aes_gcm::aead::KeyInit;
    let now = Instant::now();
    let key = h("feffe9928665731c6d6a8f9467308308cafebabe");
    let p = SaParams::new(
        Spi(0xa5f8),
        Direction::Outbound,
        Mode::Transport,
        Encryption::AesGcm16(AesKeySize::Aes128),
        Integrity::None,
        Keys::new(&key, &[]),
    );
    let mut sa = Sa::new(p, now).unwrap();
    let inner = icmp_v4(37, 1);
    let mut r = rng();
    let out = encap(&mut sa, now, &mut r, &inner);
    let esp = &out[20..];
    assert_eq!(&esp[..8], &[0, 0, 0xa5, 0xf8, 0, 0, 0, 1]);
    assert_eq!(
        &esp[8..16],
        &1u64.to_be_bytes(),
        "explicit IV = sequence number"
    );
    let g = aes_gcm::Aes128Gcm::new_from_slice(&key[..16]).unwrap();
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(&key[16..]);
    nonce[4..].copy_from_slice(&esp[8..16]);
    let mut body = esp[16..esp.len() - 16].to_vec();
    let tag = aes_gcm::Tag::try_from(&esp[esp.len() - 16..]).unwrap();
    g.decrypt_inout_detached(&nonce.into(), &esp[..8], body.as_mut_slice().into(), &tag)
        .unwrap();
    assert_eq!(&body[..inner.len() - 20], &inner[20..]);
    // 37 + 8 = 45 payload bytes, + 2 trailer = 47 -> 1 pad byte to 48.
    assert_eq!(&body[inner.len() - 20..], &[1, 1, 1]);
}

/// RFC 2202 HMAC-MD5/SHA-1 cases 3 and 5 as ESP ICVs (truncated to 96
/// bits per RFC 2403/2404). With NULL encryption the authenticated bytes
/// are SPI || seq || body, so an ESP packet whose bytes before the ICV are
/// the RFC's `data` must verify with the RFC's `digest_96`. The data's last
/// two bytes then act as pad length and next header and make no valid
/// trailer, so the packet fails with BadPadding *after* the ICV verified,
/// and the window is not marked; a flipped ICV bit fails authentication.
#[test]
fn rfc2202_truncated_hmacs_are_esp_icvs() {
    let v = read_vectors(include_str!("../../vectors/hmac_rfc2202.txt"));
    let now = Instant::now();
    for (sec, integ) in [
        ("hmac-md5-3", Integrity::HmacMd5_96),
        ("hmac-md5-5", Integrity::HmacMd5_96),
        ("hmac-sha1-3", Integrity::HmacSha1_96),
        ("hmac-sha1-5", Integrity::HmacSha1_96),
    ] {
        let c = &v[sec];
        let data = h(&c["data"]);
        let key = h(&c["key"]);
        assert_eq!(key.len(), integ.key_len(), "{sec}");
        let spi = u32::from_be_bytes(data[..4].try_into().unwrap());
        let mut p = SaParams::new(
            Spi(spi),
            Direction::Inbound,
            Mode::Transport,
            Encryption::Null,
            integ,
            Keys::new(&[], &key),
        );
        p.allow_weak = true;
        let mut sa = Sa::new(p, now).unwrap();
        let good = wrap_esp(&[data.clone(), h(&c["digest_96"])].concat());
        let mut pkt = good.clone();
        assert_eq!(
            sa.decapsulate(now, &mut pkt),
            Err(DecapError::BadPadding),
            "{sec}"
        );
        // Not marked: the same packet is judged again, not as a replay.
        let mut pkt = good.clone();
        assert_eq!(
            sa.decapsulate(now, &mut pkt),
            Err(DecapError::BadPadding),
            "{sec}"
        );
        assert_eq!(sa.counters().auth_failures, 0);
        assert_eq!(sa.counters().bad_padding, 2);
        let mut bad = good.clone();
        let n = bad.len();
        bad[n - 12] ^= 0x80;
        assert_eq!(
            sa.decapsulate(now, &mut bad),
            Err(DecapError::AuthenticationFailed),
            "{sec}"
        );
        assert_eq!(sa.counters().auth_failures, 1);
    }
}

/// FIPS 81 DES-CBC and CAVP 3DES-CBC known answers through ESP: CBC block i
/// depends only on the IV and blocks 1..=i, so an ESP packet whose payload
/// starts with the vector's plaintext, encrypted with the vector's IV,
/// starts with the vector's ciphertext.
#[test]
fn des_and_3des_cbc_known_answers_through_esp() {
    let v = read_vectors(include_str!("../../vectors/des_3des.txt"));
    let now = Instant::now();
    for (sec, enc) in [
        ("fips81-des-cbc", Encryption::DesCbc),
        ("cavp-tcbcmmt3-encrypt-2", Encryption::TripleDesCbc),
        ("cavp-tcbcmmt3-encrypt-3", Encryption::TripleDesCbc),
        ("cavp-tcbcmmt3-encrypt-5", Encryption::TripleDesCbc),
    ] {
        let c = &v[sec];
        let pt = h(&c["plaintext"]);
        let ct = h(&c["ciphertext"]);
        let mut p = SaParams::new(
            Spi(0x1000),
            Direction::Outbound,
            Mode::Transport,
            enc,
            Integrity::HmacSha1_96,
            Keys::new(&h(&c["key"]), &[7; 20]),
        );
        p.allow_weak = true;
        let mut sa = Sa::new(p, now).unwrap();
        let mut inner = udp_v4([1, 1, 1, 1], [2, 2, 2, 2], 1, 2, 0);
        inner.truncate(20);
        inner.extend_from_slice(&pt);
        let total = inner.len() as u16;
        inner[2..4].copy_from_slice(&total.to_be_bytes());
        inner[10] = 0;
        inner[11] = 0;
        let cs = checksum(&inner[..20]);
        inner[10..12].copy_from_slice(&cs.to_be_bytes());
        let mut fixed = FixedRng(h(&c["iv"]));
        let out = encap(&mut sa, now, &mut fixed, &inner);
        // Outer header 20, ESP header 8, IV 8, then the ciphertext.
        assert_eq!(&out[28..36], &h(&c["iv"])[..]);
        assert_eq!(
            hex::encode(&out[36..36 + ct.len()]),
            hex::encode(&ct),
            "{sec}"
        );
    }
}
