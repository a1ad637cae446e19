//! The decryption path (`ike_sm::decrypt`, the `ikev1-decrypt` tool's
//! library) against a real capture and against the engine.
//!
//! 1. Wireshark's `ikev1-certs.pcap` (vectors/captures, Wireshark test
//!    suite, bug 7951) decrypts fully with Wireshark's key table; the
//!    payloads and plaintext prefixes are those of
//!    `vectors/captures/ikev1-certs_expected.txt`.
//! 2. A Main Mode + Quick Mode produced by two engines is recomputed
//!    independently from its bytes, the PSK and one side's DH private
//!    value: every HASH (HASH_I, HASH_R, QM HASH(1)/(2)/(3)) verifies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use ike_sm::decrypt::{Keys, RecordedMessage, Sender, decrypt_exchange, from_hex};
use ike_sm::{Endpoint, Entropy, Purpose, ScriptedEntropy};
use isakmp_wire::PayloadType as P;
use pcap_file::pcap::PcapReader;

const PCAP: &[u8] = include_bytes!("../../vectors/captures/ikev1-certs.pcap");
const TABLE: &str = include_str!("../../vectors/captures/wireshark_ikev1_decryption_table.txt");

fn capture() -> Vec<RecordedMessage> {
    let mut reader = PcapReader::new(PCAP).unwrap();
    let mut out = Vec::new();
    let mut frame = 0u64;
    while let Some(pkt) = reader.next_packet() {
        frame += 1;
        let data = pkt.unwrap().data.into_owned();
        let ihl = usize::from(data[14] & 0x0f) * 4;
        let src = &data[14 + 12..14 + 16];
        let udp = &data[14 + ihl..];
        out.push(RecordedMessage {
            frame: Some(frame),
            sender: if src == [192, 168, 12, 118] {
                Sender::Initiator
            } else {
                Sender::Responder
            },
            bytes: udp[8..].to_vec(),
        });
    }
    out
}

#[test]
fn wireshark_capture_decrypts_fully_with_its_key_table() {
    let msgs = capture();
    assert_eq!(msgs.len(), 10);
    let keys = Keys::parse_table(TABLE).unwrap();
    let out = decrypt_exchange(&msgs, &keys);
    let want: [&[P]; 10] = [
        &[P::SA, P::VENDOR_ID, P::VENDOR_ID],
        &[
            P::SA,
            P::VENDOR_ID,
            P::VENDOR_ID,
            P::VENDOR_ID,
            P::VENDOR_ID,
            P::VENDOR_ID,
            P::VENDOR_ID,
            P::VENDOR_ID,
            P::VENDOR_ID,
            P::VENDOR_ID,
        ],
        &[P::KEY_EXCHANGE, P::NONCE],
        &[P::KEY_EXCHANGE, P::NONCE, P::CERTIFICATE_REQUEST],
        &[
            P::IDENTIFICATION,
            P::CERTIFICATE,
            P::CERTIFICATE_REQUEST,
            P::SIGNATURE,
        ],
        &[P::IDENTIFICATION, P::CERTIFICATE, P::SIGNATURE],
        &[
            P::HASH,
            P::SA,
            P::NONCE,
            P::KEY_EXCHANGE,
            P::IDENTIFICATION,
            P::IDENTIFICATION,
        ],
        &[
            P::HASH,
            P::SA,
            P::NONCE,
            P::KEY_EXCHANGE,
            P::IDENTIFICATION,
            P::IDENTIFICATION,
        ],
        &[
            P::HASH,
            P::SA,
            P::NONCE,
            P::KEY_EXCHANGE,
            P::IDENTIFICATION,
            P::IDENTIFICATION,
        ],
        &[P::HASH],
    ];
    for (m, w) in out.iter().zip(want) {
        assert!(m.decrypted, "frame {:?}: {:?}", m.frame, m.note);
        assert_eq!(m.payloads, w, "frame {:?}", m.frame);
        // Signature authentication, Ka only: no HASH can be checked.
        assert_eq!(m.hash_verified, None);
    }
    assert!(out[7].retransmission, "frame 8 repeats frame 7");
    assert!(!out[8].retransmission);
    assert_eq!(
        &out[4].plaintext.as_ref().unwrap()[..32],
        from_hex("0600000c01000000c0a80c76070005da04308205d1308204b9a003020102020a")
            .unwrap()
            .as_slice()
    );
    assert_eq!(
        &out[5].plaintext.as_ref().unwrap()[..32],
        from_hex("0600000c01000000ac1001670900065e04308206553082053da003020102020a")
            .unwrap()
            .as_slice()
    );
    // Without the right key nothing decrypts (and nothing panics).
    let wrong =
        Keys::parse_table("fafaeb49382a763c,000102030405060708090a0b0c0d0e0f1011121314151617")
            .unwrap();
    let out = decrypt_exchange(&msgs, &wrong);
    assert!(out[4..].iter().all(|m| !m.decrypted || m.retransmission));
}

/// An entropy source shared with the test, to read back the DH draws.
struct Shared(Arc<Mutex<ScriptedEntropy<rand_chacha::ChaCha20Rng>>>);

impl Entropy for Shared {
    fn fill(&mut self, purpose: Purpose, out: &mut [u8]) {
        self.0.lock().unwrap().fill(purpose, out);
    }
}

#[test]
fn engine_exchange_recomputed_independently() {
    let daphne_entropy = Arc::new(Mutex::new(
        ScriptedEntropy::new(rng(1))
            .with(Purpose::MessageId, &409_419_560u32.to_be_bytes())
            .with(Purpose::Spi, &0xF800_D61Fu32.to_be_bytes()),
    ));
    let daphne = Endpoint::new(
        Arc::new(seed_config("13.13.13.0", "12.12.12.0")),
        Box::new(Shared(daphne_entropy.clone())),
    );
    let fred = Endpoint::new(
        Arc::new(seed_config("12.12.12.0", "13.13.13.0")),
        Box::new(ScriptedEntropy::new(rng(2))),
    );
    let mut p = Pair::new(daphne, fred, addr(DAPHNE), addr(FRED));
    p.a.initiate(p.now, seed_request()).unwrap();
    p.drive();
    assert_eq!(Pair::established(&p.a_events).len(), 1);

    // The crypto module draws a 256-bit exponent for group 1 and sets its
    // top bit (crypto::DhGroup::private_exponent_bits).
    let mut x = daphne_entropy.lock().unwrap().dh_draws()[0].clone();
    x[0] |= 0x80;
    let msgs: Vec<RecordedMessage> = p
        .sent
        .iter()
        .map(|(from_a, bytes)| RecordedMessage {
            frame: None,
            sender: if *from_a {
                Sender::Initiator
            } else {
                Sender::Responder
            },
            bytes: bytes.clone(),
        })
        .collect();
    let keys = Keys::Psk {
        psk: b"abc123".to_vec(),
        dh_private: x.clone(),
        side: Sender::Initiator,
    };
    let out = decrypt_exchange(&msgs, &keys);
    assert_eq!(out.len(), 9);
    for m in &out {
        assert!(m.decrypted, "{m:?}");
    }
    // MM5, MM6, QM1, QM2, QM3 carry HASHes: all verify.
    let verified: Vec<_> = out.iter().map(|m| m.hash_verified).collect();
    assert_eq!(
        verified,
        [
            None,
            None,
            None,
            None,
            Some(true),
            Some(true),
            Some(true),
            Some(true),
            Some(true)
        ]
    );
    assert_eq!(out[6].message_id, 409_419_560);
    // A wrong PSK: the keys differ, MM5 does not decrypt to a message.
    let bad = Keys::Psk {
        psk: b"abc124".to_vec(),
        dh_private: x,
        side: Sender::Initiator,
    };
    let out = decrypt_exchange(&msgs, &bad);
    assert!(
        out[4..]
            .iter()
            .all(|m| !m.decrypted || m.hash_verified == Some(false))
    );
}
