//! Known-byte tests for every payload type, built by hand from the RFC
//! layouts (RFC 2408 s.3.4-3.16, RFC 2407 s.4.6, RFC 3947 s.3.2/s.5.2,
//! RFC 3706 s.5), both directions; and the error paths of the chain, with
//! the error kind and offset.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use isakmp_wire::{
    CertEncoding, CertRepr, DecryptedBody, DeleteRepr, Doi, Error, ExchangeType, Flags, HeaderRepr,
    Message, MessageRepr, NatTNumbering, NotificationRepr, NotifyType, OpaquePayload, ParseConfig,
    ParsedMessage, PayloadRepr, PayloadType, ProposalRepr, ProtocolId, SaRepr, TransformId,
    TransformRepr,
};

const ICKY: [u8; 8] = [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88];
const RCKY: [u8; 8] = [0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00];

/// An RFC 2408 s.3.1 header followed by `body`, with the length filled in.
fn message(np: u8, exchange: u8, flags: u8, msgid: u32, body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&ICKY);
    v.extend_from_slice(&RCKY);
    v.extend_from_slice(&[np, 0x10, exchange, flags]);
    v.extend_from_slice(&msgid.to_be_bytes());
    v.extend_from_slice(&u32::try_from(28 + body.len()).unwrap().to_be_bytes());
    v.extend_from_slice(body);
    v
}

fn header(exchange: ExchangeType, flags: Flags, message_id: u32) -> HeaderRepr {
    HeaderRepr {
        initiator_cookie: ICKY,
        responder_cookie: RCKY,
        minor_version: 0,
        exchange_type: exchange,
        flags,
        message_id,
    }
}

fn parse(bytes: &[u8]) -> Result<MessageRepr<'_>, Error> {
    let m = Message::new_checked(bytes)?;
    MessageRepr::parse(&m, &ParseConfig::default())
}

/// Parses `bytes`, checks the payloads equal `expected`, and checks that
/// building `expected` gives `bytes` back.
fn both_ways(bytes: &[u8], exchange: ExchangeType, msgid: u32, expected: Vec<PayloadRepr<'_>>) {
    let repr = parse(bytes).unwrap();
    assert_eq!(repr.payloads, expected);
    let built = MessageRepr {
        header: header(exchange, Flags::empty(), msgid),
        payloads: expected,
    };
    assert_eq!(built.to_vec().unwrap(), bytes);
}

#[test]
fn informational_notification_r_u_there() {
    // RFC 3706 s.5: R-U-THERE (36136 = 0x8d28) with the ISAKMP SA's cookies
    // as the 16-byte SPI and a 4-byte sequence number.
    let mut body = vec![0, 0, 0, 32, 0, 0, 0, 1, 1, 16, 0x8d, 0x28];
    body.extend_from_slice(&ICKY);
    body.extend_from_slice(&RCKY);
    body.extend_from_slice(&[0, 0, 0x12, 0x34]);
    let bytes = message(11, 5, 0, 0x0102_0304, &body);
    let spi = [ICKY, RCKY].concat();
    let n = NotificationRepr {
        doi: Doi::IPSEC,
        protocol: ProtocolId::ISAKMP,
        notify_type: NotifyType::R_U_THERE,
        spi: &spi,
        data: &[0, 0, 0x12, 0x34],
    };
    assert_eq!(n.dpd_sequence(), Some(0x1234));
    both_ways(
        &bytes,
        ExchangeType::INFORMATIONAL,
        0x0102_0304,
        vec![PayloadRepr::Notification(n)],
    );
}

#[test]
fn notification_initial_contact_and_overrun() {
    // INITIAL-CONTACT (24578 = 0x6002), no SPI, no data.
    let bytes = message(11, 5, 0, 0, &[0, 0, 0, 12, 0, 0, 0, 1, 3, 0, 0x60, 0x02]);
    let repr = parse(&bytes).unwrap();
    let PayloadRepr::Notification(n) = repr.payloads[0] else {
        panic!()
    };
    assert_eq!(n.notify_type, NotifyType::INITIAL_CONTACT);
    assert_eq!(n.protocol, ProtocolId::ESP);
    assert!(n.spi.is_empty() && n.data.is_empty());
    assert_eq!(n.dpd_sequence(), None);
    // SPI size 4 but no SPI bytes: the SPI field starts at offset 28 + 12.
    let bytes = message(11, 5, 0, 0, &[0, 0, 0, 12, 0, 0, 0, 1, 3, 4, 0x60, 0x02]);
    assert_eq!(
        parse(&bytes),
        Err(Error::Malformed {
            payload: PayloadType::NOTIFICATION,
            offset: 40,
            what: "SPI size runs past the notification"
        })
    );
}

#[test]
fn delete_two_esp_spis() {
    let bytes = message(
        12,
        5,
        0,
        7,
        &[
            0, 0, 0, 20, 0, 0, 0, 1, 3, 4, 0, 2, 0xa4, 0x79, 0x0f, 0xa0, 0xf8, 0x00, 0xd6, 0x1f,
        ],
    );
    both_ways(
        &bytes,
        ExchangeType::INFORMATIONAL,
        7,
        vec![PayloadRepr::Delete(DeleteRepr {
            doi: Doi::IPSEC,
            protocol: ProtocolId::ESP,
            spi_size: 4,
            spis: vec![&[0xa4, 0x79, 0x0f, 0xa0], &[0xf8, 0x00, 0xd6, 0x1f]],
        })],
    );
    // Three SPIs announced, two present.
    let bad = message(
        12,
        5,
        0,
        7,
        &[
            0, 0, 0, 20, 0, 0, 0, 1, 3, 4, 0, 3, 0xa4, 0x79, 0x0f, 0xa0, 0xf8, 0x00, 0xd6, 0x1f,
        ],
    );
    assert_eq!(
        parse(&bad),
        Err(Error::Malformed {
            payload: PayloadType::DELETE,
            offset: 40,
            what: "SPI size times number of SPIs does not fill the delete payload"
        })
    );
    // emit refuses an SPI whose length is not spi_size.
    let r = MessageRepr {
        header: header(ExchangeType::INFORMATIONAL, Flags::empty(), 0),
        payloads: vec![PayloadRepr::Delete(DeleteRepr {
            doi: Doi::IPSEC,
            protocol: ProtocolId::ESP,
            spi_size: 4,
            spis: vec![&[1, 2, 3]],
        })],
    };
    assert!(matches!(r.to_vec(), Err(Error::InvalidRepr { .. })));
}

#[test]
fn data_payloads() {
    // KE, NONCE, HASH, SIG, VID, CERT (X.509 signature) and CR (encoding only).
    let body = [
        10, 0, 0, 6, 0xaa, 0xbb, // KE
        8, 0, 0, 7, 1, 2, 3, // NONCE
        9, 0, 0, 5, 4, // HASH
        13, 0, 0, 6, 5, 6, // SIG
        6, 0, 0, 4, // VID (empty)
        7, 0, 0, 8, 4, 0x30, 0x01, 0x00, // CERT
        0, 0, 0, 5, 4, // CR
    ];
    let bytes = message(4, 2, 0, 0, &body);
    both_ways(
        &bytes,
        ExchangeType::IDENTITY_PROTECTION,
        0,
        vec![
            PayloadRepr::KeyExchange(&[0xaa, 0xbb]),
            PayloadRepr::Nonce(&[1, 2, 3]),
            PayloadRepr::Hash(&[4]),
            PayloadRepr::Signature(&[5, 6]),
            PayloadRepr::VendorId(&[]),
            PayloadRepr::Cert(CertRepr {
                encoding: CertEncoding::X509_SIGNATURE,
                data: &[0x30, 0x01, 0x00],
            }),
            PayloadRepr::CertRequest(CertRepr {
                encoding: CertEncoding::X509_SIGNATURE,
                data: &[],
            }),
        ],
    );
    // A CERT payload without its encoding byte.
    let bytes = message(6, 2, 0, 0, &[0, 0, 0, 4]);
    assert_eq!(
        parse(&bytes),
        Err(Error::Malformed {
            payload: PayloadType::CERTIFICATE,
            offset: 32,
            what: "certificate payload without its encoding"
        })
    );
}

#[test]
fn nat_t_payloads_rfc_and_draft() {
    // RFC 3947 s.3.2 NAT-D (20) and s.5.2 NAT-OA (21, IPv4); draft numbers
    // 130/131 with an IPv6 NAT-OA.
    let mut body = vec![21, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef];
    body.extend_from_slice(&[130, 0, 0, 12, 1, 0, 0, 0, 10, 0, 0, 1]);
    body.extend_from_slice(&[131, 0, 0, 5, 0x77]);
    body.extend_from_slice(&[0, 0, 0, 24, 5, 0, 0, 0]);
    body.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9).octets());
    let bytes = message(20, 32, 0, 9, &body);
    both_ways(
        &bytes,
        ExchangeType::QUICK_MODE,
        9,
        vec![
            PayloadRepr::NatD {
                numbering: NatTNumbering::Rfc3947,
                hash: &[0xde, 0xad, 0xbe, 0xef],
            },
            PayloadRepr::NatOa {
                numbering: NatTNumbering::Rfc3947,
                address: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            },
            PayloadRepr::NatD {
                numbering: NatTNumbering::Draft,
                hash: &[0x77],
            },
            PayloadRepr::NatOa {
                numbering: NatTNumbering::Draft,
                address: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 9)),
            },
        ],
    );
    // NAT-OA with ID type 4 (a subnet) is not allowed.
    let bytes = message(21, 32, 0, 9, &[0, 0, 0, 12, 4, 0, 0, 0, 10, 0, 0, 1]);
    assert_eq!(
        parse(&bytes),
        Err(Error::Malformed {
            payload: PayloadType::NAT_OA,
            offset: 32,
            what: "NAT-OA ID type is neither ID_IPV4_ADDR nor ID_IPV6_ADDR"
        })
    );
}

#[test]
fn quick_mode_sa_two_proposals_and_ids() {
    // An RFC 2409 s.5.5 QM body in the clear (as after decryption): SA with
    // AH (proposal 1) AND ESP (proposal 1), two transforms for ESP; then the
    // client IDs 13.13.13.0/24 and 12.12.12.0/24 (the seed's proxies).
    let bytes = hex::decode(concat!(
        "05000048", "00000001", "00000001", // SA: np=ID, DOI, situation
        "02000014", "01020401", "11111111", // P#1 AH, spi 4, 1 transform
        "00000008", "01030000", // T#1 AH_SHA, no attributes
        "00000028", "01030402", "22222222", // P#1 ESP, spi 4, 2 transforms
        "03000010", "01020000", "80040001", "80010001", // T#1 ESP_DES, tunnel, life type s
        "0000000c", "020c0000", "80060080", // T#2 ESP_AES, key length 128
        "05000010", "04000000", "0d0d0d00", "ffffff00", // IDci
        "00000010", "04000000", "0c0c0c00", "ffffff00", // IDcr
    ))
    .unwrap();
    let bytes = message(1, 32, 0, 0x1867_3f28, &bytes);
    let repr = parse(&bytes).unwrap();
    let PayloadRepr::Sa(sa) = &repr.payloads[0] else {
        panic!()
    };
    assert_eq!(sa.proposals.len(), 2);
    assert_eq!(sa.proposals[0].protocol, ProtocolId::AH);
    assert_eq!(sa.proposals[1].spi, &[0x22; 4]);
    assert_eq!(sa.proposals[1].transforms[1].id, TransformId(12));
    assert_eq!(
        sa.proposals[1].transforms[1].attributes[0].ipsec().unwrap(),
        isakmp_wire::IpsecAttribute::KeyLength(128)
    );
    let PayloadRepr::Id(idcr) = repr.payloads[2] else {
        panic!()
    };
    assert_eq!(idcr.data.prefix_len(), Some(24));
    assert_eq!(repr.to_vec().unwrap(), bytes);
}

#[test]
fn sa_shapes_kept_opaque() {
    // DOI 2 (GDOI): the SA body is not typed.
    let body = [0, 0, 0, 12, 0, 0, 0, 2, 0, 0, 0, 1];
    let bytes = message(1, 2, 0, 0, &body);
    let repr = parse(&bytes).unwrap();
    assert_eq!(
        repr.payloads,
        [PayloadRepr::Opaque(OpaquePayload {
            payload_type: PayloadType::SA,
            body: &body[4..]
        })]
    );
    assert_eq!(repr.to_vec().unwrap(), bytes);
    // IPsec DOI with SIT_SECRECY: labeled-domain fields follow; opaque too.
    let body = [0, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 3, 9, 9, 9, 9];
    let bytes = message(1, 2, 0, 0, &body);
    let repr = parse(&bytes).unwrap();
    assert!(matches!(repr.payloads[0], PayloadRepr::Opaque(_)));
    // An unknown payload type (200) and a stray top-level Proposal (2).
    let body = [2, 0, 0, 5, 0xee, 0, 0, 0, 4];
    let bytes = message(200, 2, 0, 0, &body);
    let repr = parse(&bytes).unwrap();
    assert_eq!(
        repr.payloads,
        [
            PayloadRepr::Opaque(OpaquePayload {
                payload_type: PayloadType(200),
                body: &[0xee]
            }),
            PayloadRepr::Opaque(OpaquePayload {
                payload_type: PayloadType::PROPOSAL,
                body: &[]
            }),
        ]
    );
    assert_eq!(repr.to_vec().unwrap(), bytes);
}

#[test]
fn sa_inner_errors() {
    let h = |s: &str| hex::decode(s.replace(' ', "")).unwrap();
    // A proposal whose next payload is a Transform (3): SA at 28, proposal
    // at 40, the stray transform at 48.
    let bytes = message(
        1,
        2,
        0,
        0,
        &h("00000018 00000001 00000001 03000008 01010000 00000004"),
    );
    assert_eq!(
        parse(&bytes),
        Err(Error::UnexpectedPayload {
            payload: PayloadType::TRANSFORM,
            offset: 48,
            expected: "a Proposal inside an SA"
        })
    );
    // Transform count 2, one transform present: the count is at offset 47.
    let bytes = message(
        1,
        2,
        0,
        0,
        &h("0000001c 00000001 00000001 00000010 01010002 00000008 01010000"),
    );
    assert_eq!(
        parse(&bytes),
        Err(Error::Malformed {
            payload: PayloadType::PROPOSAL,
            offset: 47,
            what: "number of transforms does not match the transforms present"
        })
    );
    // A TLV attribute claiming 8 bytes with 2 present: its value is at 60.
    let bytes = message(
        1,
        2,
        0,
        0,
        &h("00000022 00000001 00000001 00000016 01010001 0000000e 01010000 000c0008 aabb"),
    );
    assert_eq!(
        parse(&bytes),
        Err(Error::Malformed {
            payload: PayloadType::TRANSFORM,
            offset: 60,
            what: "TLV attribute value runs past its container"
        })
    );
    // SPI size 9 in a proposal of 8 bytes.
    let bytes = message(
        1,
        2,
        0,
        0,
        &h("00000014 00000001 00000001 00000008 01030900"),
    );
    assert_eq!(
        parse(&bytes),
        Err(Error::Malformed {
            payload: PayloadType::PROPOSAL,
            offset: 48,
            what: "SPI size runs past the proposal"
        })
    );
}

#[test]
fn chain_errors_with_offsets() {
    // The chain ends (np NONE) 2 bytes before the header length.
    let bytes = message(13, 2, 0, 0, &[0, 0, 0, 5, 1, 0xff, 0xff]);
    assert_eq!(
        parse(&bytes),
        Err(Error::ChainEndsEarly {
            offset: 33,
            remaining: 2
        })
    );
    // The last payload announces another (HASH) but the message ends.
    let bytes = message(13, 2, 0, 0, &[8, 0, 0, 5, 1]);
    assert_eq!(
        parse(&bytes),
        Err(Error::PayloadTruncated {
            payload: PayloadType::HASH,
            offset: 33,
            available: 0
        })
    );
    // A payload length running past the header length.
    let bytes = message(13, 2, 0, 0, &[0, 0, 0, 9, 1]);
    assert_eq!(
        parse(&bytes),
        Err(Error::PayloadOverrun {
            payload: PayloadType::VENDOR_ID,
            offset: 28,
            length: 9,
            available: 5
        })
    );
    // Header length above the datagram.
    let mut bytes = message(0, 2, 0, 0, &[]);
    bytes[27] = 29;
    assert_eq!(
        parse(&bytes),
        Err(Error::HeaderLengthTooLarge {
            length: 29,
            available: 28
        })
    );
    // Short datagram.
    assert_eq!(parse(&[0; 27]), Err(Error::HeaderTruncated { len: 27 }));
    // An empty message (header only, np NONE) is fine.
    assert_eq!(parse(&message(0, 5, 0, 0, &[])).unwrap().payloads, []);
}

#[test]
fn trailing_bytes_are_reported_not_rejected() {
    let mut bytes = message(13, 2, 0, 0, &[0, 0, 0, 5, 1]);
    bytes.extend_from_slice(&[0, 0, 0]);
    let m = Message::new_checked(&bytes[..]).unwrap();
    assert_eq!(m.trailing(), &[0, 0, 0]);
    let repr = MessageRepr::parse(&m, &ParseConfig::default()).unwrap();
    assert_eq!(repr.to_vec().unwrap(), &bytes[..33]);
}

#[test]
fn encrypted_two_phase() {
    // E flag: the body is ciphertext; MessageRepr refuses, ParsedMessage
    // gives header + ciphertext, and the view's chain says Encrypted.
    let bytes = message(8, 32, 1, 5, &[0x55; 16]);
    assert_eq!(parse(&bytes), Err(Error::Encrypted));
    let m = Message::new_checked(&bytes[..]).unwrap();
    assert_eq!(m.payloads().collect::<Vec<_>>(), [Err(Error::Encrypted)]);
    let ParsedMessage::Encrypted(e) =
        ParsedMessage::parse(&bytes, &ParseConfig::default()).unwrap()
    else {
        panic!()
    };
    assert_eq!(e.first_payload, PayloadType::HASH);
    assert_eq!(e.ciphertext, &[0x55; 16]);
    assert_eq!(e.to_vec().unwrap(), bytes);
    // A decrypted body: HASH then NONE, followed by RFC 2409 s.5.3 padding.
    let plain = [0, 0, 0, 6, 0xaa, 0xbb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9];
    let body = DecryptedBody::parse(
        e.first_payload,
        ExchangeType::QUICK_MODE,
        &plain,
        &ParseConfig::default(),
    )
    .unwrap();
    assert_eq!(body.payloads, [PayloadRepr::Hash(&[0xaa, 0xbb])]);
    assert_eq!(body.padding, &plain[6..]);
    // Errors inside a decrypted body count offsets from the ISAKMP header.
    let plain = [0, 0, 0, 60, 0xaa, 0xbb, 0, 0];
    assert_eq!(
        DecryptedBody::parse(
            PayloadType::HASH,
            ExchangeType::QUICK_MODE,
            &plain,
            &ParseConfig::default()
        ),
        Err(Error::PayloadOverrun {
            payload: PayloadType::HASH,
            offset: 28,
            length: 60,
            available: 8
        })
    );
    // Building the encrypted message requires the E flag.
    let no_e = isakmp_wire::EncryptedRepr {
        header: header(ExchangeType::QUICK_MODE, Flags::empty(), 5),
        ..e
    };
    assert!(matches!(no_e.to_vec(), Err(Error::InvalidRepr { .. })));
}

#[test]
fn emit_errors() {
    let sa = |spi: &'static [u8]| MessageRepr {
        header: header(ExchangeType::IDENTITY_PROTECTION, Flags::empty(), 0),
        payloads: vec![PayloadRepr::Sa(SaRepr {
            situation: 1,
            proposals: vec![ProposalRepr {
                number: 1,
                protocol: ProtocolId::ISAKMP,
                spi,
                transforms: vec![TransformRepr {
                    number: 1,
                    id: TransformId(1),
                    attributes: vec![],
                }],
            }],
        })],
    };
    let ok = sa(&[]);
    let need = ok.buffer_len();
    assert_eq!(need, 28 + 12 + 8 + 8);
    let mut small = vec![0u8; need - 1];
    assert_eq!(
        ok.emit(&mut small),
        Err(Error::BufferTooSmall {
            needed: need,
            available: need - 1
        })
    );
    let mut big = vec![0u8; need + 10];
    assert_eq!(ok.emit(&mut big), Ok(need));
    static LONG: [u8; 256] = [0; 256];
    assert!(matches!(sa(&LONG).to_vec(), Err(Error::InvalidRepr { .. })));
    static HUGE: [u8; 70000] = [0; 70000];
    let huge = MessageRepr {
        header: header(ExchangeType::IDENTITY_PROTECTION, Flags::empty(), 0),
        payloads: vec![PayloadRepr::KeyExchange(&HUGE)],
    };
    assert!(matches!(huge.to_vec(), Err(Error::InvalidRepr { .. })));
    let mut e = ok.clone();
    e.header.flags = Flags::ENCRYPTION;
    assert!(matches!(e.to_vec(), Err(Error::InvalidRepr { .. })));
    let opaque_none = MessageRepr {
        header: header(ExchangeType::IDENTITY_PROTECTION, Flags::empty(), 0),
        payloads: vec![PayloadRepr::Opaque(OpaquePayload {
            payload_type: PayloadType::NONE,
            body: &[],
        })],
    };
    assert!(matches!(
        opaque_none.to_vec(),
        Err(Error::InvalidRepr { .. })
    ));
}

#[test]
fn header_mut_patches_in_place() {
    let mut bytes = message(13, 2, 0, 0, &[0, 0, 0, 5, 1]);
    let mut m = Message::new_unchecked(&mut bytes[..]);
    m.header_mut().unwrap().set_message_id(0xdead_beef);
    m.header_mut().unwrap().set_flags(Flags::COMMIT);
    assert_eq!(&bytes[19..24], &[0x02, 0xde, 0xad, 0xbe, 0xef]);
    let mut short = [0u8; 10];
    assert_eq!(
        Message::new_unchecked(&mut short[..]).header_mut().err(),
        Some(Error::HeaderTruncated { len: 10 })
    );
}

// The certificate payloads of a Main Mode message 5 with signatures, built
// from the RFC 2408 s.3.9/s.3.10 and RFC 2407 s.4.6.2 layouts: an
// ID_DER_ASN1_DN identity, a CERT with an X.509 signature certificate, a
// CR naming a CA by its DER DistinguishedName, a CR for any authority, a
// PKCS #7 CERT, a CRL and an encoding no registry names, then SIG. The DN
// is SEQUENCE { SET { SEQUENCE { OID 2.5.4.3 (CN), UTF8String "ca" } } };
// the codec keeps every byte and does not read the DER.
#[test]
fn certificate_payloads_keep_their_bytes() {
    use isakmp_wire::{IdData, IdRepr};
    let dn: &[u8] = &[
        0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03, 0x55, 0x04, 0x03, 0x0c, 0x02, b'c', b'a',
    ];
    let cert: &[u8] = &[0x30, 0x03, 0x02, 0x01, 0x05];
    let mut body = Vec::new();
    let mut push = |np: u8, payload: &[u8]| {
        body.push(np);
        body.push(0);
        body.extend_from_slice(&u16::try_from(payload.len() + 4).unwrap().to_be_bytes());
        body.extend_from_slice(payload);
    };
    push(6, &[[9, 17, 0x01, 0xf4].as_slice(), dn].concat()); // ID
    push(7, &[[4].as_slice(), cert].concat()); // CERT X.509 signature
    push(7, &[[4].as_slice(), dn].concat()); // CR with a CA
    push(6, &[4]); // CR, any CA
    push(6, &[[1].as_slice(), cert].concat()); // CERT PKCS #7
    push(6, &[[7].as_slice(), cert].concat()); // CERT CRL
    push(9, &[[201].as_slice(), b"?"].concat()); // CERT, unregistered encoding
    push(0, &[0x5a; 32]); // SIG
    let bytes = message(5, 2, 0, 0, &body);
    let id = IdRepr {
        protocol: 17,
        port: 500,
        data: IdData::DerAsn1Dn(dn),
    };
    let cert_of = |encoding, data| CertRepr { encoding, data };
    both_ways(
        &bytes,
        ExchangeType::IDENTITY_PROTECTION,
        0,
        vec![
            PayloadRepr::Id(id),
            PayloadRepr::Cert(cert_of(CertEncoding::X509_SIGNATURE, cert)),
            PayloadRepr::CertRequest(cert_of(CertEncoding::X509_SIGNATURE, dn)),
            PayloadRepr::CertRequest(cert_of(CertEncoding::X509_SIGNATURE, &[])),
            PayloadRepr::Cert(cert_of(CertEncoding::PKCS7, cert)),
            PayloadRepr::Cert(cert_of(CertEncoding::CRL, cert)),
            PayloadRepr::Cert(cert_of(CertEncoding(201), b"?")),
            PayloadRepr::Signature(&[0x5a; 32]),
        ],
    );
    let repr = parse(&bytes).unwrap();
    let PayloadRepr::CertRequest(with_ca) = repr.payloads[2] else {
        panic!()
    };
    assert_eq!(with_ca.authority(), Some(dn));
    let PayloadRepr::CertRequest(any) = repr.payloads[3] else {
        panic!()
    };
    assert_eq!(any.authority(), None);
    assert_eq!(CertEncoding(201).name(), None);
    assert_eq!(format!("{:?}", CertEncoding(201)), "CertEncoding(0xc9)");
    assert_eq!(CertEncoding::X509_SIGNATURE.name(), Some("X509_SIGNATURE"));
    assert_eq!(CertEncoding::X509_ATTRIBUTE.0, 10);
    assert_eq!(
        CertEncoding(11).name(),
        None,
        "IKEv2's raw RSA key is not IKEv1's"
    );
}

// The fragmentation payload (type 132) inside a chain: typed, re-emitted
// byte for byte; its fixed fields are required.
#[test]
fn fragment_payload_in_a_chain() {
    use isakmp_wire::{FragmentFlags, FragmentMessage, FragmentRepr};
    let body = [
        0, 0, 0, 13, // next NONE, length 13
        0x01, 0x02, 3, 0x81, // ID 0x0102, number 3, LAST and an unnamed bit
        b'a', b'b', b'c', b'd', b'e',
    ];
    let bytes = message(132, 32, 0, 0x0a0b_0c0d, &body);
    both_ways(
        &bytes,
        ExchangeType::QUICK_MODE,
        0x0a0b_0c0d,
        vec![PayloadRepr::Fragment(FragmentRepr {
            id: 0x0102,
            number: 3,
            flags: FragmentFlags::from_bits_retain(0x81),
            data: b"abcde",
        })],
    );
    let f = FragmentMessage::parse(&bytes).unwrap();
    assert!(f.fragment.is_last());
    assert_eq!(f.header.message_id, 0x0a0b_0c0d);
    assert_eq!(f.to_vec().unwrap(), bytes);
    // Shorter than the fixed fields.
    let bytes = message(132, 2, 0, 0, &[0, 0, 0, 7, 0, 1, 1]);
    assert_eq!(
        parse(&bytes),
        Err(Error::Malformed {
            payload: PayloadType::FRAGMENT,
            offset: 35,
            what: "fragment payload shorter than its fixed fields"
        })
    );
}
