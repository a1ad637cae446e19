//! Every ISAKMP message of every capture in `vectors/captures/` (sources in
//! `vectors/README.md`): IKEv1 messages parse and re-emit byte-identical
//! (encrypted ones as header + ciphertext), the malformed captures give the
//! right error at the right offset, and bytes cut from the captures decode
//! to the values Wireshark (`tshark -V`) shows for them.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

#[path = "../examples/isakmp-dump/capture.rs"]
mod capture;

use isakmp_wire::{
    AttributeValue, DecryptedBody, EncryptedRepr, Error, ExchangeType, Flags, IdData, Message,
    MessageRepr, NatTNumbering, ParseConfig, ParsedMessage, PayloadRepr, PayloadType,
    Phase1Attribute, ProtocolId, TransformId,
};
use isakmp_wire::{AuthMethod, CertEncoding, EncryptionAlgorithm, GroupDescription, HashAlgorithm};

fn load(name: &str) -> Vec<capture::Datagram> {
    let path = format!("{}/../vectors/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap();
    capture::isakmp_datagrams(&bytes).unwrap()
}

/// Parses, re-emits and compares every datagram; returns (clear, encrypted).
fn roundtrip_all(name: &str) -> (usize, usize) {
    let config = ParseConfig::default();
    let (mut clear, mut encrypted) = (0, 0);
    for d in load(name) {
        let parsed = ParsedMessage::parse(&d.isakmp, &config)
            .unwrap_or_else(|e| panic!("{name} frame {}: {e}", d.frame));
        let message = Message::new_checked(&d.isakmp[..]).unwrap();
        assert!(message.trailing().is_empty(), "{name} frame {}", d.frame);
        let bytes = parsed.to_vec().unwrap();
        assert_eq!(bytes, d.isakmp, "{name} frame {} did not re-emit", d.frame);
        assert_eq!(parsed.buffer_len(), d.isakmp.len());
        // parse(emit(parse(b))) == parse(b)
        assert_eq!(ParsedMessage::parse(&bytes, &config).unwrap(), parsed);
        match parsed {
            ParsedMessage::Clear(_) => clear += 1,
            ParsedMessage::Encrypted(_) => encrypted += 1,
        }
    }
    (clear, encrypted)
}

#[test]
fn main_mode_capture_roundtrips() {
    // MM1-MM4 clear, MM5/MM6 and QM1-QM3 encrypted (tshark: 9 ISAKMP frames).
    assert_eq!(roundtrip_all("ipsec-ikev1-isakmp-main-mode.pcap"), (4, 5));
}

#[test]
fn aggressive_mode_capture_roundtrips() {
    // AM1, AM2 clear; AM3 and QM1-QM3 encrypted.
    assert_eq!(
        roundtrip_all("ipsec-ikev1-isakmp-aggressive-mode.pcap"),
        (2, 4)
    );
}

#[test]
fn certs_capture_roundtrips() {
    // MM1-MM4 clear; MM5/MM6, QM1 (twice: frame 8 is a retransmission), QM2, QM3 encrypted.
    assert_eq!(roundtrip_all("ikev1-certs.pcap"), (4, 6));
}

#[test]
fn ipsec_cap_roundtrips() {
    // Two MM1/MM2 attempts, an informational, MM3-MM6 and QM1-QM3 (tshark: 11 ISAKMP frames).
    let (clear, encrypted) = roundtrip_all("ipsec.cap");
    assert_eq!(clear + encrypted, 11);
    assert_eq!(clear, 6);
}

#[test]
fn esp_only_capture_has_no_isakmp() {
    assert!(load("IPsec_ESP-AH_tunnel_mode.cap").is_empty());
}

#[test]
fn ikev2_capture_is_rejected_cleanly() {
    // ipsec_client.pcap is IKEv2 (version 2.0): five messages (frames 1, 2
    // and the reassembled 5, 8, 11 on port 4500), each a version error.
    let d = load("ipsec_client.pcap");
    assert_eq!(
        d.iter().map(|d| d.frame).collect::<Vec<_>>(),
        [1, 2, 5, 8, 11]
    );
    assert!(d[2].natt);
    for dg in d {
        assert_eq!(
            ParsedMessage::parse(&dg.isakmp, &ParseConfig::default()),
            Err(Error::UnsupportedVersion { major: 2 })
        );
    }
}

#[test]
fn payload_bad_length_capture() {
    // tshark: "[Malformed Packet]"; the second payload (a VID at ISAKMP
    // offset 28 + 60 = 88) has length 3.
    let d = load("ipsec-ikev1-payload-bad-length.pcap");
    assert_eq!(d.len(), 1);
    let expected = Error::PayloadTooShort {
        payload: PayloadType::VENDOR_ID,
        offset: 88,
        length: 3,
        min: 4,
    };
    assert_eq!(
        ParsedMessage::parse(&d[0].isakmp, &ParseConfig::default()),
        Err(expected.clone())
    );
    // The view yields the SA first, then the error, then stops.
    let m = Message::new_checked(&d[0].isakmp[..]).unwrap();
    let items: Vec<_> = m.payloads().collect();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().payload_type(), PayloadType::SA);
    assert_eq!(items[1], Err(expected));
}

#[test]
fn zero_length_capture() {
    let d = load("ipsec-ikev1-zero-length.pcap");
    assert_eq!(d.len(), 1);
    assert_eq!(
        Message::new_checked(&d[0].isakmp[..]),
        Err(Error::HeaderLengthTooSmall { length: 0 })
    );
    assert_eq!(
        ParsedMessage::parse(&d[0].isakmp, &ParseConfig::default()),
        Err(Error::HeaderLengthTooSmall { length: 0 })
    );
}

fn frame(name: &str, frame: usize) -> Vec<u8> {
    load(name)
        .into_iter()
        .find(|d| d.frame == frame)
        .unwrap()
        .isakmp
}

// Values as `tshark -V` prints them for main-mode frame 1.
#[test]
fn main_mode_1_fields() {
    let bytes = frame("ipsec-ikev1-isakmp-main-mode.pcap", 1);
    let m = Message::new_checked(&bytes[..]).unwrap();
    let repr = MessageRepr::parse(&m, &ParseConfig::default()).unwrap();
    assert_eq!(
        repr.header.initiator_cookie,
        *b"\xe4\x7a\x59\x1f\xd0\x57\x58\x7f"
    );
    assert_eq!(repr.header.responder_cookie, [0; 8]);
    assert_eq!(repr.header.exchange_type, ExchangeType::IDENTITY_PROTECTION);
    assert_eq!(repr.header.flags, Flags::empty());
    assert_eq!(m.header().length(), 168);
    let types: Vec<_> = repr
        .payloads
        .iter()
        .map(PayloadRepr::payload_type)
        .collect();
    assert_eq!(
        types,
        [
            PayloadType::SA,
            PayloadType::VENDOR_ID,
            PayloadType::VENDOR_ID,
            PayloadType::VENDOR_ID,
            PayloadType::VENDOR_ID
        ]
    );
    let PayloadRepr::Sa(sa) = &repr.payloads[0] else {
        panic!()
    };
    assert_eq!(sa.situation, 1);
    assert_eq!(sa.proposals.len(), 1);
    let p = &sa.proposals[0];
    assert_eq!(
        (p.number, p.protocol, p.spi),
        (1, ProtocolId::ISAKMP, &[][..])
    );
    let t = &p.transforms[0];
    assert_eq!((t.number, t.id), (1, TransformId(1)));
    let attrs: Vec<_> = t.attributes.iter().map(|a| a.phase1().unwrap()).collect();
    assert_eq!(
        attrs,
        [
            Phase1Attribute::EncryptionAlgorithm(EncryptionAlgorithm::AES_CBC),
            Phase1Attribute::KeyLength(128),
            Phase1Attribute::HashAlgorithm(HashAlgorithm::SHA),
            Phase1Attribute::GroupDescription(GroupDescription::MODP_1024),
            Phase1Attribute::AuthMethod(AuthMethod::PRE_SHARED_KEY),
            Phase1Attribute::LifeType(isakmp_wire::LifeType::SECONDS),
            Phase1Attribute::LifeDuration(86400),
        ]
    );
    // Life duration is a 4-byte TLV on the wire (tshark "IKE Attribute (t=12,l=4)").
    assert_eq!(
        t.attributes[6].value,
        AttributeValue::Variable(vec![0, 1, 0x51, 0x80].into())
    );
    assert_eq!(
        repr.payloads[1],
        PayloadRepr::VendorId(isakmp_wire::vendor::NAT_T_RFC3947)
    );
}

// Main-mode frame 3: KE(128), NONCE(20), VIDs, two RFC 3947 NAT-D.
#[test]
fn main_mode_3_nat_d() {
    let bytes = frame("ipsec-ikev1-isakmp-main-mode.pcap", 3);
    let m = Message::new_checked(&bytes[..]).unwrap();
    let repr = MessageRepr::parse(&m, &ParseConfig::default()).unwrap();
    let PayloadRepr::KeyExchange(ke) = repr.payloads[0] else {
        panic!()
    };
    assert_eq!(ke.len(), 128);
    let PayloadRepr::Nonce(n) = repr.payloads[1] else {
        panic!()
    };
    assert_eq!(hex::encode(n), "89d7c8fbf94b515b521d5d9589c2602021e1a709");
    let natd: Vec<_> = repr
        .payloads
        .iter()
        .filter_map(|p| match p {
            PayloadRepr::NatD {
                numbering: NatTNumbering::Rfc3947,
                hash,
            } => Some(hex::encode(hash)),
            _ => None,
        })
        .collect();
    assert_eq!(
        natd,
        [
            "1574d64c0165bad16a023f038d45a07498d8d051",
            "febf462f1cd75805a7baa28747e769d674f85600"
        ]
    );
    // The view exposes the raw payload bytes (what IKE hashes cover).
    let first = m.payloads().next().unwrap().unwrap();
    assert_eq!(first.raw(), &bytes[28..28 + 132]);
    assert_eq!(first.body(), ke);
}

// Aggressive frame 1: the ID payload (tshark: ID_IPV4_ADDR, protocol 17, port 0, 192.168.12.2).
#[test]
fn aggressive_1_id() {
    let bytes = frame("ipsec-ikev1-isakmp-aggressive-mode.pcap", 1);
    let m = Message::new_checked(&bytes[..]).unwrap();
    let repr = MessageRepr::parse(&m, &ParseConfig::default()).unwrap();
    let id = repr
        .payloads
        .iter()
        .find_map(|p| match p {
            PayloadRepr::Id(id) => Some(*id),
            _ => None,
        })
        .unwrap();
    assert_eq!(id.protocol, 17);
    assert_eq!(id.port, 0);
    assert_eq!(id.data, IdData::Ipv4Addr([192, 168, 12, 2].into()));
}

// ikev1-certs frame 4: a CR payload with encoding 4 (X.509 signature) and an 82-byte DN.
#[test]
fn certs_4_cert_request() {
    let bytes = frame("ikev1-certs.pcap", 4);
    let m = Message::new_checked(&bytes[..]).unwrap();
    let repr = MessageRepr::parse(&m, &ParseConfig::default()).unwrap();
    let PayloadRepr::CertRequest(cr) = repr.payloads[2] else {
        panic!()
    };
    assert_eq!(cr.encoding, CertEncoding::X509_SIGNATURE);
    assert_eq!(cr.data.len(), 82);
    assert_eq!(cr.data[0], 0x30); // a DER SEQUENCE
    // The CA's DistinguishedName, whole: its DER length covers the data.
    assert_eq!(cr.authority(), Some(cr.data));
    assert_eq!(usize::from(cr.data[1]) + 2, cr.data.len());
}

/// The decrypted body of ikev1-certs frame 5 (MM5) or 6 (MM6), with the
/// published key and the IVs of vectors/captures/ikev1-certs_expected.txt.
fn certs_mm_body(frame_no: usize) -> Vec<u8> {
    let key = hex::decode("735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240").unwrap();
    let f5 = frame("ikev1-certs.pcap", 5);
    let (iv, bytes) = if frame_no == 5 {
        (hex::decode("f39411fd5481b85c").unwrap(), f5)
    } else {
        (f5[f5.len() - 8..].to_vec(), frame("ikev1-certs.pcap", 6))
    };
    des3_cbc_decrypt(&key, &iv, &bytes[28..])
}

// ikev1-certs frames 5 and 6: each side's certificate (encoding 4, one DER
// X.509 certificate whose outer SEQUENCE length covers the data exactly),
// the initiator's CR naming the responder's CA by DN, and SIG payloads of
// a 1024-bit and a 2048-bit RSA key (Wireshark shows the same payloads).
#[test]
fn certs_main_mode_certificates_and_signatures() {
    let config = ParseConfig::default();
    let der_len = |d: &[u8]| usize::from(u16::from_be_bytes([d[2], d[3]])) + 4;

    let plain = certs_mm_body(5);
    let body = DecryptedBody::parse(
        PayloadType::IDENTIFICATION,
        ExchangeType::IDENTITY_PROTECTION,
        &plain,
        &config,
    )
    .unwrap();
    let PayloadRepr::Cert(cert) = body.payloads[1] else {
        panic!()
    };
    assert_eq!(cert.encoding, CertEncoding::X509_SIGNATURE);
    assert_eq!(&cert.data[..2], &[0x30, 0x82]);
    assert_eq!(der_len(cert.data), cert.data.len());
    assert_eq!(cert.data.len(), 1493);
    let PayloadRepr::CertRequest(cr) = body.payloads[2] else {
        panic!()
    };
    assert_eq!(cr.encoding, CertEncoding::X509_SIGNATURE);
    let ca = cr.authority().unwrap();
    assert_eq!(ca[0], 0x30);
    assert_eq!(usize::from(ca[1]) + 2, ca.len());
    let PayloadRepr::Signature(sig) = body.payloads[3] else {
        panic!()
    };
    assert_eq!(sig.len(), 128);

    let plain = certs_mm_body(6);
    assert_eq!(
        hex::encode(&plain[..32]),
        "0600000c01000000ac1001670900065e04308206553082053da003020102020a"
    );
    let body = DecryptedBody::parse(
        PayloadType::IDENTIFICATION,
        ExchangeType::IDENTITY_PROTECTION,
        &plain,
        &config,
    )
    .unwrap();
    let types: Vec<_> = body
        .payloads
        .iter()
        .map(PayloadRepr::payload_type)
        .collect();
    assert_eq!(
        types,
        [
            PayloadType::IDENTIFICATION,
            PayloadType::CERTIFICATE,
            PayloadType::SIGNATURE
        ]
    );
    let PayloadRepr::Id(id) = body.payloads[0] else {
        panic!()
    };
    assert_eq!(id.data, IdData::Ipv4Addr([172, 16, 1, 103].into()));
    let PayloadRepr::Cert(cert) = body.payloads[1] else {
        panic!()
    };
    assert_eq!(cert.encoding, CertEncoding::X509_SIGNATURE);
    // Payload length 0x065e = 1630: header 4, encoding 1, certificate 1625.
    assert_eq!(cert.data.len(), 1625);
    assert_eq!(der_len(cert.data), cert.data.len());
    let PayloadRepr::Signature(sig) = body.payloads[2] else {
        panic!()
    };
    assert_eq!(sig.len(), 256);
    assert_eq!(body.padding, [0u8; 2]);
}

fn des3_cbc_decrypt(key: &[u8], iv: &[u8], ct: &[u8]) -> Vec<u8> {
    use cbc::cipher::{BlockModeDecrypt, KeyIvInit, block_padding::NoPadding};
    let mut buf = ct.to_vec();
    let dec = cbc::Decryptor::<des::TdesEde3>::new_from_slices(key, iv).unwrap();
    let n = dec.decrypt_padded::<NoPadding>(&mut buf).unwrap().len();
    buf.truncate(n);
    buf
}

// The two-phase decode on real ciphertext: decrypt ikev1-certs frames 5
// and 7 with the published key and IVs (vectors/captures/
// ikev1-certs_expected.txt) and parse the bodies.
#[test]
fn certs_decrypted_bodies() {
    let key = hex::decode("735be0cb62f82675c4f7bf8fbab9b56834ba76d6ab4fa240").unwrap();
    let config = ParseConfig::default();

    let bytes = frame("ikev1-certs.pcap", 5);
    let ParsedMessage::Encrypted(e) = ParsedMessage::parse(&bytes, &config).unwrap() else {
        panic!()
    };
    assert_eq!(e.first_payload, PayloadType::IDENTIFICATION);
    let plain = des3_cbc_decrypt(
        &key,
        &hex::decode("f39411fd5481b85c").unwrap(),
        e.ciphertext,
    );
    assert_eq!(
        hex::encode(&plain[..32]),
        "0600000c01000000c0a80c76070005da04308205d1308204b9a003020102020a"
    );
    let body =
        DecryptedBody::parse(e.first_payload, e.header.exchange_type, &plain, &config).unwrap();
    let types: Vec<_> = body
        .payloads
        .iter()
        .map(PayloadRepr::payload_type)
        .collect();
    assert_eq!(
        types,
        [
            PayloadType::IDENTIFICATION,
            PayloadType::CERTIFICATE,
            PayloadType::CERTIFICATE_REQUEST,
            PayloadType::SIGNATURE
        ]
    );
    let PayloadRepr::Id(id) = body.payloads[0] else {
        panic!()
    };
    assert_eq!(id.data, IdData::Ipv4Addr([192, 168, 12, 118].into()));
    let PayloadRepr::Cert(cert) = body.payloads[1] else {
        panic!()
    };
    assert_eq!(cert.encoding, CertEncoding::X509_SIGNATURE);
    // Payload length 0x05da = 1498: 4 header bytes, the encoding byte, then
    // 1493 certificate bytes (the expected file's "1494-byte body" counts
    // the encoding byte).
    assert_eq!(cert.data.len(), 1493);
    assert!(cert.data.windows(8).any(|w| w == b"OpenSwan"));
    let PayloadRepr::Signature(sig) = body.payloads[3] else {
        panic!()
    };
    assert_eq!(sig.len(), 128);
    assert_eq!(body.padding, [0u8; 7]);
    // Re-emitting the payloads and the padding gives the plaintext back.
    let mut out = vec![0u8; DecryptedBody::payloads_len(&body.payloads)];
    let (n, first) = DecryptedBody::emit_payloads(&body.payloads, &mut out).unwrap();
    assert_eq!(first, PayloadType::IDENTIFICATION);
    out.truncate(n);
    out.extend_from_slice(body.padding);
    assert_eq!(out, plain);

    // Quick Mode message 1 (frame 7): HASH SA NONCE KE ID ID, ESP 3DES proposal.
    let bytes = frame("ikev1-certs.pcap", 7);
    let ParsedMessage::Encrypted(e) = ParsedMessage::parse(&bytes, &config).unwrap() else {
        panic!()
    };
    assert_eq!(e.header.message_id, 0xf2cf_e203);
    let plain = des3_cbc_decrypt(
        &key,
        &hex::decode("3f875b502a873685").unwrap(),
        e.ciphertext,
    );
    let body =
        DecryptedBody::parse(e.first_payload, e.header.exchange_type, &plain, &config).unwrap();
    let types: Vec<_> = body
        .payloads
        .iter()
        .map(PayloadRepr::payload_type)
        .collect();
    assert_eq!(
        types,
        [
            PayloadType::HASH,
            PayloadType::SA,
            PayloadType::NONCE,
            PayloadType::KEY_EXCHANGE,
            PayloadType::IDENTIFICATION,
            PayloadType::IDENTIFICATION
        ]
    );
    let PayloadRepr::Sa(sa) = &body.payloads[1] else {
        panic!()
    };
    let p = &sa.proposals[0];
    assert_eq!(p.protocol, ProtocolId::ESP);
    assert_eq!(p.spi, hex::decode("95f9fa06").unwrap());
    assert_eq!(p.transforms[0].id, TransformId(3)); // ESP_3DES
    let attrs: Vec<_> = p.transforms[0]
        .attributes
        .iter()
        .map(|a| a.ipsec().unwrap())
        .collect();
    use isakmp_wire::{AuthAlgorithm, EncapsulationMode, IpsecAttribute as I, SaLifeType};
    assert!(attrs.contains(&I::GroupDescription(GroupDescription::MODP_1024)));
    assert!(attrs.contains(&I::EncapsulationMode(EncapsulationMode::TUNNEL)));
    assert!(attrs.contains(&I::SaLifeType(SaLifeType::SECONDS)));
    assert!(attrs.contains(&I::SaLifeDuration(3600)));
    assert!(attrs.contains(&I::AuthAlgorithm(AuthAlgorithm::HMAC_MD5)));
    let PayloadRepr::Id(idci) = body.payloads[4] else {
        panic!()
    };
    assert_eq!(idci.data, IdData::Ipv4Addr([192, 168, 12, 118].into()));
    let PayloadRepr::Id(idcr) = body.payloads[5] else {
        panic!()
    };
    assert_eq!(idcr.data, IdData::Ipv4Addr([1, 1, 1, 1].into()));

    // Build the same encrypted message from header + ciphertext.
    let rebuilt = EncryptedRepr {
        header: e.header,
        first_payload: e.first_payload,
        ciphertext: e.ciphertext,
    };
    assert_eq!(rebuilt.to_vec().unwrap(), bytes);
}

/// Builds a capture of `frames` (each a link-layer frame) with the given
/// link type, as pcap or pcapng, with pcap-file's writers.
fn write_capture(link: u32, frames: &[Vec<u8>], ng: bool) -> Vec<u8> {
    use pcap_file::DataLink;
    use std::time::Duration;
    let mut out = Vec::new();
    if ng {
        use pcap_file::pcapng::PcapNgWriter;
        use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
        use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock;
        let mut w = PcapNgWriter::new(&mut out).unwrap();
        w.write_pcapng_block(InterfaceDescriptionBlock::new(DataLink::from(link), 65535))
            .unwrap();
        for f in frames {
            w.write_pcapng_block(EnhancedPacketBlock {
                interface_id: 0,
                timestamp: Duration::ZERO,
                original_len: u32::try_from(f.len()).unwrap(),
                data: f.as_slice().into(),
                options: vec![],
            })
            .unwrap();
        }
    } else {
        use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
        let header = PcapHeader {
            datalink: DataLink::from(link),
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(&mut out, header).unwrap();
        for f in frames {
            w.write_packet(&PcapPacket::new(
                Duration::ZERO,
                u32::try_from(f.len()).unwrap(),
                f,
            ))
            .unwrap();
        }
    }
    out
}

fn udp_ipv4(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let b = etherparse::PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64).udp(sport, dport);
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

fn udp_ipv6(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut src = [0u8; 16];
    src[0] = 0x20;
    src[15] = 1;
    let mut dst = src;
    dst[15] = 2;
    let b = etherparse::PacketBuilder::ipv6(src, dst, 64).udp(sport, dport);
    let mut v = Vec::new();
    b.write(&mut v, payload).unwrap();
    v
}

// Every supported link type, pcap and pcapng, IPv4 and IPv6, ports 500 and
// 4500 (non-ESP marker), with a NAT keepalive and an ESP-in-UDP packet that
// must be skipped.
#[test]
fn link_types_and_ports() {
    let msg = frame("ipsec-ikev1-isakmp-main-mode.pcap", 2);
    let mut marked = vec![0, 0, 0, 0];
    marked.extend_from_slice(&msg);
    let ip_frames = |ip: fn(u16, u16, &[u8]) -> Vec<u8>| {
        vec![
            ip(500, 500, &msg),
            ip(4500, 4500, &[0xff]), // NAT keepalive
            ip(4500, 4500, &[0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 9, 9]), // ESP in UDP
            ip(4500, 4500, &marked),
            ip(1234, 80, &msg), // not IKE
        ]
    };
    for (ip_name, ip) in [
        ("ipv4", udp_ipv4 as fn(u16, u16, &[u8]) -> Vec<u8>),
        ("ipv6", udp_ipv6),
    ] {
        let raw = ip_frames(ip);
        let v6 = ip_name == "ipv6";
        let ethertype: [u8; 2] = if v6 { [0x86, 0xdd] } else { [0x08, 0x00] };
        let family: [u8; 4] = if v6 { [30, 0, 0, 0] } else { [2, 0, 0, 0] };
        let wrap =
            |prefix: &[u8]| -> Vec<Vec<u8>> { raw.iter().map(|f| [prefix, f].concat()).collect() };
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&ethertype);
        let mut sll = vec![0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0];
        sll.extend_from_slice(&ethertype);
        let mut cases = vec![
            (1, wrap(&eth)),
            (113, wrap(&sll)),
            (0, wrap(&family)),
            (101, raw.clone()),
        ];
        cases.push(if v6 {
            (229, raw.clone())
        } else {
            (228, raw.clone())
        });
        for (link, frames) in cases {
            for ng in [false, true] {
                let cap = write_capture(link, &frames, ng);
                let d = capture::isakmp_datagrams(&cap).unwrap();
                let what = format!("{ip_name} link {link} pcapng={ng}");
                assert_eq!(d.len(), 2, "{what}");
                assert_eq!((d[0].frame, d[1].frame), (1, 4), "{what}");
                assert_eq!(d[0].isakmp, msg, "{what}");
                assert_eq!(d[1].isakmp, msg, "{what}");
                assert!(!d[0].natt && d[1].natt, "{what}");
                assert_eq!(d[0].src.port(), 500, "{what}");
                assert_eq!(d[0].src.is_ipv6(), v6, "{what}");
            }
        }
    }
    // Not a capture at all: an error, not a panic.
    assert!(capture::isakmp_datagrams(b"definitely not a capture").is_err());
}
