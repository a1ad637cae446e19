//! Decrypts a real IKEv1 exchange: Wireshark's `ikev1-certs.pcap` (Main
//! Mode with 3DES-CBC, MD5, group 2 and RSA signatures, then Quick Mode with
//! PFS; Openswan on one side), with the encryption key Ka from Wireshark's
//! decryption table.
//!
//! Sources: `vectors/captures/ikev1-certs.pcap` (Wireshark test suite, bug
//! 7951), `vectors/captures/wireshark_ikev1_decryption_table.txt` (Wireshark
//! `test/config/ikev1_decryption_table.tmpl`), and the expected IVs and
//! plaintexts in `vectors/captures/ikev1-certs_expected.txt`.
//!
//! This checks the IV chaining of RFC 2409 Appendix B against a real peer:
//! the phase-1 IV from the KE payloads, its continuation from message 5 to
//! message 6, the Quick Mode IV from the last phase-1 block and the message
//! ID, the chain across Quick Mode messages 1-3, and that a retransmitted
//! message (frame 8) that is not accepted leaves the chain where it was.
//! The pcap is parsed minimally here (fixed Ethernet/IPv4/UDP offsets and the
//! 28-byte ISAKMP header); the full codec lives in `isakmp-wire`.

// Test helpers outside `#[test]` functions may panic like the tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod kat_common;

use ike_sm::crypto::{Cipher, EncryptionAlgorithm, HashAlgorithm, IvChain};
use kat_common::{Section, parse};
use pcap_file::pcap::PcapReader;

const PCAP: &[u8] = include_bytes!("../../vectors/captures/ikev1-certs.pcap");
const EXPECTED: &str = include_str!("../../vectors/captures/ikev1-certs_expected.txt");
const KEY_TABLE: &str = include_str!("../../vectors/captures/wireshark_ikev1_decryption_table.txt");

const ISAKMP_HEADER: usize = 28;

/// The ISAKMP messages of the capture, in frame order.
fn isakmp_messages() -> Vec<Vec<u8>> {
    let mut reader = PcapReader::new(PCAP).unwrap();
    let mut out = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        let data = pkt.unwrap().data.into_owned();
        assert_eq!(&data[12..14], &[0x08, 0x00], "Ethernet II, IPv4");
        assert_eq!(data[14] >> 4, 4, "IPv4");
        let ihl = usize::from(data[14] & 0x0f) * 4;
        assert_eq!(data[14 + 9], 17, "UDP");
        let udp = &data[14 + ihl..];
        assert_eq!(&udp[0..2], &500u16.to_be_bytes());
        assert_eq!(&udp[2..4], &500u16.to_be_bytes());
        let msg = udp[8..].to_vec();
        let declared = u32::from_be_bytes(msg[24..28].try_into().unwrap());
        assert_eq!(declared as usize, msg.len(), "ISAKMP length field");
        out.push(msg);
    }
    out
}

fn ka_for(cky_i: &[u8]) -> Vec<u8> {
    let want = hex::encode(cky_i);
    KEY_TABLE
        .lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| {
            let (cky, key) = l.split_once(',')?;
            (cky.trim() == want).then(|| hex::decode(key.trim()).unwrap())
        })
        .expect("cookie in the key table")
}

/// Walks a payload chain starting with payload type `first`; returns the
/// types in order and the length they cover.
fn walk(first: u8, body: &[u8]) -> (Vec<u8>, usize) {
    let (mut next, mut off, mut types) = (first, 0usize, Vec::new());
    while next != 0 {
        let hdr = body.get(off..off + 4).expect("payload header in bounds");
        let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        assert!(
            len >= 4 && off + len <= body.len(),
            "payload {next} length {len} at {off}"
        );
        types.push(next);
        next = hdr[0];
        off += len;
    }
    (types, off)
}

/// The body of the `index`-th payload of a chain (the chain must have that
/// many payloads).
fn payload_body(body: &[u8], index: usize) -> &[u8] {
    let mut off = 0usize;
    for _ in 0..index {
        assert_ne!(body[off], 0, "chain ends before payload {index}");
        off += usize::from(u16::from_be_bytes([body[off + 2], body[off + 3]]));
    }
    let len = usize::from(u16::from_be_bytes([body[off + 2], body[off + 3]]));
    &body[off + 4..off + len]
}

fn section<'a>(all: &'a [Section], name: &str) -> &'a Section {
    all.iter().find(|s| s.name == name).unwrap()
}

fn last_block(ct: &[u8]) -> &[u8] {
    &ct[ct.len() - 8..]
}

// ISAKMP payload types (RFC 2408 s.3.1).
const SA: u8 = 1;
const KE: u8 = 4;
const ID: u8 = 5;
const CERT: u8 = 6;
const CR: u8 = 7;
const HASH: u8 = 8;
const SIG: u8 = 9;
const NONCE: u8 = 10;

#[test]
fn ikev1_certs_capture_decrypts_with_rfc2409_iv_chaining() {
    let expected = parse(EXPECTED);
    let file = section(&expected, "file");
    let dec = section(&expected, "decryption");
    let qm = section(&expected, "quick_mode");

    let m = isakmp_messages();
    assert_eq!(m.len(), file.usize("frames"));
    let cky_i = &m[0][0..8];
    assert_eq!(cky_i, file.hex("cky_i").as_slice());
    assert_eq!(&m[1][8..16], file.hex("cky_r").as_slice());

    // Phase-1 IV = MD5(g^xi | g^xr) truncated to the 3DES block.
    let gxi = payload_body(&m[2][ISAKMP_HEADER..], 0);
    let gxr = payload_body(&m[3][ISAKMP_HEADER..], 0);
    assert_eq!((m[2][16], m[3][16]), (KE, KE));
    assert_eq!((gxi.len(), gxr.len()), (128, 128));
    let enc = EncryptionAlgorithm::TripleDesCbc;
    let mut phase1 = IvChain::phase1(HashAlgorithm::Md5, enc, gxi, gxr);
    assert_eq!(phase1.iv(), dec.hex("phase1_iv").as_slice());
    assert_eq!(phase1.iv(), dec.hex("f5_iv").as_slice());

    let cipher = Cipher::new(enc, &ka_for(cky_i)).unwrap();

    // Frame 5 (MM5, I->R): ID CERT CR SIG + 7 zero bytes of padding.
    let mut f5 = m[4][ISAKMP_HEADER..].to_vec();
    let p5 = phase1.decrypt(&cipher, &mut f5).unwrap();
    assert!(f5.starts_with(&dec.hex("f5_plaintext_prefix")));
    let (types, used) = walk(m[4][16], &f5);
    assert_eq!(types, [ID, CERT, CR, SIG]);
    assert_eq!(&f5[used..], &[0u8; 7]);
    assert!(f5.windows(8).any(|w| w == b"OpenSwan"));
    assert_eq!(p5.next_iv(), last_block(&m[4]));
    p5.commit(&mut phase1).unwrap();

    // Frame 6 (MM6, R->I): the IV continues from frame 5's last block.
    assert_eq!(phase1.iv(), last_block(&m[4]));
    let mut f6 = m[5][ISAKMP_HEADER..].to_vec();
    let p6 = phase1.decrypt(&cipher, &mut f6).unwrap();
    assert!(f6.starts_with(&dec.hex("f6_plaintext_prefix")));
    let (types, used) = walk(m[5][16], &f6);
    assert_eq!(types, [ID, CERT, SIG]);
    assert_eq!(&f6[used..], &[0u8; 2]);
    p6.commit(&mut phase1).unwrap();

    // Quick Mode: IV = MD5(last phase-1 block | M-ID).
    let mid = u32::from_be_bytes(m[6][20..24].try_into().unwrap());
    assert_eq!(mid, 0xf2cf_e203);
    let mut qm_chain = phase1.for_message_id(mid);
    assert_eq!(qm_chain.iv(), dec.hex("qm_iv").as_slice());

    // Frame 7 (QM1): HASH(1) SA NONCE KE ID ID.
    let mut f7 = m[6][ISAKMP_HEADER..].to_vec();
    let p7 = qm_chain.decrypt(&cipher, &mut f7).unwrap();
    let (types, used) = walk(m[6][16], &f7);
    assert_eq!(types, [HASH, SA, NONCE, KE, ID, ID]);
    assert!(f7.len() - used < 8 && f7[used..].iter().all(|&b| b == 0));
    assert_eq!(payload_body(&f7, 0).len(), 16, "MD5 HASH(1)");
    let sa = payload_body(&f7, 1);
    // DOI(4) situation(4), then the proposal: header(4) number protocol
    // spi-size #transforms, SPI.
    assert_eq!((sa[8 + 5], sa[8 + 6]), (3, 4), "ESP, 4-byte SPI");
    assert_eq!(&sa[8 + 8..8 + 12], qm.hex("spi_i").as_slice());
    assert_eq!(&payload_body(&f7, 4)[4..8], &[192, 168, 12, 118]);
    assert_eq!(&payload_body(&f7, 5)[4..8], &[1, 1, 1, 1]);
    p7.commit(&mut qm_chain).unwrap();

    // Frame 8 is an exact retransmission of frame 7. Decrypted against the
    // advanced chain its first block is garbage, so it fails the engine's
    // checks and its pending IV is dropped: the chain must not move.
    assert_eq!(m[7], m[6]);
    let before = qm_chain.clone();
    let mut f8 = m[7][ISAKMP_HEADER..].to_vec();
    let p8 = qm_chain.decrypt(&cipher, &mut f8).unwrap();
    assert_ne!(&f8[..4], &f7[..4], "wrong IV garbles the first block");
    assert_eq!(&f8[8..], &f7[8..], "CBC: later blocks are unaffected");
    drop(p8);
    assert_eq!(qm_chain, before);

    // Frame 9 (QM2, R->I): IV = last block of frame 7.
    assert_eq!(qm_chain.iv(), last_block(&m[6]));
    let mut f9 = m[8][ISAKMP_HEADER..].to_vec();
    let p9 = qm_chain.decrypt(&cipher, &mut f9).unwrap();
    let (types, used) = walk(m[8][16], &f9);
    assert_eq!(types, [HASH, SA, NONCE, KE, ID, ID]);
    assert!(f9.len() - used < 8 && f9[used..].iter().all(|&b| b == 0));
    let sa = payload_body(&f9, 1);
    assert_eq!(&sa[8 + 8..8 + 12], qm.hex("spi_r").as_slice());
    p9.commit(&mut qm_chain).unwrap();

    // Frame 10 (QM3, I->R): HASH(3) + 4 zero bytes, IV = last block of 9.
    assert_eq!(qm_chain.iv(), last_block(&m[8]));
    let mut f10 = m[9][ISAKMP_HEADER..].to_vec();
    let p10 = qm_chain.decrypt(&cipher, &mut f10).unwrap();
    let (types, used) = walk(m[9][16], &f10);
    assert_eq!(types, [HASH]);
    assert_eq!(used, 20);
    assert_eq!(&f10[used..], &[0u8; 4]);
    p10.commit(&mut qm_chain).unwrap();

    // Phase-2 traffic never moved the phase-1 chain.
    assert_eq!(phase1.iv(), last_block(&m[5]));
}

/// Re-encrypting the decrypted messages with the same chain reproduces the
/// capture byte for byte (the encrypt path and its IV bookkeeping).
#[test]
fn ikev1_certs_capture_reencrypts_identically() {
    use ike_sm::crypto::Padding;

    let m = isakmp_messages();
    let enc = EncryptionAlgorithm::TripleDesCbc;
    let gxi = payload_body(&m[2][ISAKMP_HEADER..], 0);
    let gxr = payload_body(&m[3][ISAKMP_HEADER..], 0);
    let cipher = Cipher::new(enc, &ka_for(&m[0][0..8])).unwrap();

    let mut rx = IvChain::phase1(HashAlgorithm::Md5, enc, gxi, gxr);
    let mut tx = rx.clone();
    for (i, msg) in [&m[4], &m[5]].into_iter().enumerate() {
        let mut plain = msg[ISAKMP_HEADER..].to_vec();
        rx.decrypt(&cipher, &mut plain)
            .unwrap()
            .commit(&mut rx)
            .unwrap();
        // The plaintext already carries the sender's zero padding, so
        // `Padding::Zeros` adds nothing.
        let p = tx.encrypt(&cipher, &mut plain, Padding::Zeros).unwrap();
        assert_eq!(plain, &msg[ISAKMP_HEADER..], "message {}", i + 5);
        p.commit(&mut tx).unwrap();
    }
    let mid = u32::from_be_bytes(m[6][20..24].try_into().unwrap());
    let (mut rx, mut tx) = (rx.for_message_id(mid), tx.for_message_id(mid));
    for msg in [&m[6], &m[8], &m[9]] {
        let mut plain = msg[ISAKMP_HEADER..].to_vec();
        rx.decrypt(&cipher, &mut plain)
            .unwrap()
            .commit(&mut rx)
            .unwrap();
        let p = tx.encrypt(&cipher, &mut plain, Padding::Zeros).unwrap();
        assert_eq!(plain, &msg[ISAKMP_HEADER..]);
        p.commit(&mut tx).unwrap();
    }
    assert_eq!(rx, tx);
}
