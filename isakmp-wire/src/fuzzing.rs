//! Entry points for the fuzz targets (`fuzz/fuzz_targets/wire_*.rs`) and
//! for the corpus replay under `cargo test` (enabled by the `fuzzing`
//! feature).
//!
//! Each function panics only when an invariant of this crate is broken:
//! a panic inside the codec, or a round-trip law of the crate docs that
//! does not hold.

// Panicking on a broken invariant is this module's job.
#![allow(clippy::panic, clippy::indexing_slicing)]

use alloc::vec::Vec;

use crate::message::{DecryptedBody, Message, MessageRepr, ParsedMessage};
use crate::payload::{ParseConfig, PayloadRepr};
use crate::registry::{PayloadType, ProtocolId};
use crate::ted::{TED_EXCHANGE_TYPE, TedMessage};
use crate::{Flags, vendor};

/// Parses arbitrary bytes every way the crate can: the view and its chain,
/// the reprs, every attribute's typed decoding, TED shapes, vendor names,
/// and the body as if it were a decrypted one. Must never panic.
pub fn parse(data: &[u8]) {
    let config = ParseConfig::default();
    let message = Message::new_unchecked(data);
    let _ = message.header();
    let _ = message.trailing();
    for p in message.payloads() {
        let Ok(p) = p else { break };
        let _ = (p.raw(), p.body(), p.next_payload());
    }
    if let Ok(parsed) = ParsedMessage::parse(data, &config) {
        match &parsed {
            ParsedMessage::Clear(m) => inspect(&m.payloads, m),
            ParsedMessage::Encrypted(e) => {
                // Treat the ciphertext as a plaintext: exercises the padded chain.
                if let Ok(body) = DecryptedBody::parse(
                    e.first_payload,
                    e.header.exchange_type,
                    e.ciphertext,
                    &config,
                ) {
                    let _ = body.padding;
                }
            }
        }
    }
    if let Some(first) = data.first() {
        let rest = data.get(1..).unwrap_or_default();
        let _ = DecryptedBody::parse(PayloadType(*first), TED_EXCHANGE_TYPE, rest, &config);
    }
    cfg_body(data);
    fragment(data);
    let _ = crate::nat_t::classify(data);
}

/// The bytes as a fragment message: when it parses, it re-emits to the
/// same message (the generic header's reserved byte aside) and parses back
/// equal; the vendor ID reading of the data never panics.
fn fragment(data: &[u8]) {
    let _ = crate::FragmentMessage::is_fragment(data);
    let _ = vendor::fragmentation_support(data);
    let Ok(f) = crate::FragmentMessage::parse(data) else {
        return;
    };
    let bytes = match f.to_vec() {
        Ok(b) => b,
        Err(e) => panic!("a parsed fragment message failed to emit: {e}"),
    };
    assert_eq!(
        bytes.len(),
        f.buffer_len(),
        "emit wrote other than buffer_len"
    );
    assert_eq!(
        crate::FragmentMessage::parse(&bytes).as_ref(),
        Ok(&f),
        "fragment: parse(emit(parse(b))) != parse(b)"
    );
    let message = Message::new_unchecked(data);
    if data.get(29) == Some(&0) {
        assert_eq!(
            &bytes[..],
            message.message_bytes(),
            "a well-formed fragment message did not re-emit byte-identical"
        );
    }
}

/// The bytes as an Attribute payload body (Mode-Config, XAUTH, Unity):
/// every attribute's typed decoding, and the round-trip laws (a parsed
/// body re-emits and parses back equal; with a zero reserved byte, to the
/// same bytes).
fn cfg_body(data: &[u8]) {
    let Ok(body) = crate::mode_cfg::AttributesRepr::parse(data) else {
        return;
    };
    for a in &body.attributes {
        let _ = a.cfg();
    }
    let Ok(bytes) = body.to_vec() else {
        return;
    };
    assert_eq!(
        crate::mode_cfg::AttributesRepr::parse(&bytes).as_ref(),
        Ok(&body)
    );
    if data.get(1) == Some(&0) {
        assert_eq!(bytes.as_slice(), data);
    }
}

fn inspect(payloads: &[PayloadRepr<'_>], m: &MessageRepr<'_>) {
    for p in payloads {
        match p {
            PayloadRepr::Sa(sa) => {
                for prop in &sa.proposals {
                    for t in &prop.transforms {
                        let _ = t.id.name_for(prop.protocol);
                        for a in &t.attributes {
                            if prop.protocol == ProtocolId::ISAKMP {
                                let _ = a.phase1();
                            } else {
                                let _ = a.ipsec();
                            }
                            let _ = a.integer_value();
                        }
                    }
                }
            }
            PayloadRepr::VendorId(v) => {
                let _ = vendor::name(v);
            }
            PayloadRepr::Id(id) => {
                let _ = (id.data.prefix_len(), id.data.as_str(), id.data.address());
            }
            PayloadRepr::Notification(n) => {
                let _ = n.dpd_sequence();
            }
            PayloadRepr::Cert(c) | PayloadRepr::CertRequest(c) => {
                let _ = (c.authority(), c.encoding.name());
            }
            PayloadRepr::Fragment(f) => {
                let _ = f.is_last();
            }
            _ => {}
        }
    }
    let _ = TedMessage::from_message(m, TED_EXCHANGE_TYPE);
}

/// Parse -> emit -> reparse: the second parse must equal the first, and
/// emitting it again must give the same bytes; a message whose reserved
/// fields are zero must re-emit byte-identical.
pub fn roundtrip(data: &[u8]) {
    let config = ParseConfig::default();
    let Ok(first) = ParsedMessage::parse(data, &config) else {
        return;
    };
    let bytes = match first.to_vec() {
        Ok(b) => b,
        Err(e) => panic!("a parsed message failed to emit: {e}"),
    };
    assert_eq!(
        bytes.len(),
        first.buffer_len(),
        "emit wrote other than buffer_len"
    );
    let second = match ParsedMessage::parse(&bytes, &config) {
        Ok(s) => s,
        Err(e) => panic!("an emitted message failed to parse: {e}"),
    };
    assert_eq!(first, second, "parse(emit(parse(b))) != parse(b)");
    assert_eq!(
        second.to_vec().ok(),
        Some(bytes.clone()),
        "emit is not stable"
    );
    let message = Message::new_unchecked(data);
    if reserved_zero(&message) {
        assert_eq!(
            &bytes[..],
            message.message_bytes(),
            "a well-formed message did not re-emit byte-identical"
        );
    }
}

/// Whether every reserved field the codec drops is zero.
fn reserved_zero(message: &Message<&[u8]>) -> bool {
    if message.is_encrypted() {
        return true;
    }
    message.payloads().all(|p| match p {
        Ok(p) => p.reserved() == 0 && body_reserved_zero(&p),
        Err(_) => false,
    })
}

fn body_reserved_zero(p: &crate::chain::Payload<'_>) -> bool {
    use crate::chain::Payloads;
    let body = p.body();
    match p.payload_type() {
        PayloadType::SA => {
            let Some(props) = body.get(8..) else {
                return true;
            };
            if body.get(..4) != Some(&[0, 0, 0, 1]) {
                return true;
            }
            Payloads::exact(PayloadType::PROPOSAL, props, 0).all(|prop| {
                let Ok(prop) = prop else { return true };
                let b = prop.body();
                let spi = usize::from(b.get(2).copied().unwrap_or(0));
                let transforms = b.get(spi.saturating_add(4)..).unwrap_or_default();
                prop.reserved() == 0
                    && Payloads::exact(PayloadType::TRANSFORM, transforms, 0).all(|t| {
                        let Ok(t) = t else { return true };
                        t.reserved() == 0 && t.body().get(2..4) == Some(&[0, 0])
                    })
            })
        }
        PayloadType::NAT_OA | PayloadType::NAT_OA_DRAFT => body.get(1..4) == Some(&[0, 0, 0]),
        _ => true,
    }
}

/// Builds an arbitrary [`MessageRepr`] from fuzzer bytes and runs
/// [`repr_roundtrip`] on it (the `wire_repr` target).
pub fn repr_bytes(data: &[u8]) {
    use arbitrary::{Arbitrary, Unstructured};
    if let Ok(repr) = MessageRepr::arbitrary_take_rest(Unstructured::new(data)) {
        repr_roundtrip(repr);
    }
    if let Ok(f) = crate::FragmentMessage::arbitrary_take_rest(Unstructured::new(data)) {
        fragment_repr_roundtrip(&f);
    }
}

/// Arbitrary fragment message -> emit -> parse: when `emit` accepts it,
/// parsing gives it back, and a buffer one byte short is an error.
pub fn fragment_repr_roundtrip(f: &crate::FragmentMessage<'_>) {
    let Ok(bytes) = f.to_vec() else {
        return;
    };
    assert_eq!(
        bytes.len(),
        f.buffer_len(),
        "emit wrote other than buffer_len"
    );
    let mut short = alloc::vec![0u8; bytes.len() - 1];
    assert!(
        f.emit(&mut short).is_err(),
        "emit into a short buffer succeeded"
    );
    match crate::FragmentMessage::parse(&bytes) {
        Ok(back) => assert_eq!(&back, f, "fragment: parse(emit(r)) != r"),
        Err(e) => panic!("an emitted fragment message does not parse: {e}"),
    }
}

/// Arbitrary repr -> emit -> parse: when `emit` accepts the repr, parsing
/// the bytes must give it back.
pub fn repr_roundtrip(mut repr: MessageRepr<'_>) {
    sanitize(&mut repr);
    let mut buf: Vec<u8> = alloc::vec![0u8; repr.buffer_len()];
    let Ok(n) = repr.emit(&mut buf) else {
        return;
    };
    assert_eq!(n, repr.buffer_len(), "emit wrote other than buffer_len");
    // One byte short must be reported, not panic.
    if n > 0 {
        let short = buf.get_mut(..n - 1).unwrap_or_default();
        assert!(
            repr.emit(short).is_err(),
            "emit into a short buffer succeeded"
        );
    }
    let config = ParseConfig::default();
    let message = match Message::new_checked(&buf[..]) {
        Ok(m) => m,
        Err(e) => panic!("emitted header does not check: {e}"),
    };
    match MessageRepr::parse(&message, &config) {
        Ok(back) => assert_eq!(back, repr, "parse(emit(r)) != r"),
        Err(e) => panic!("emitted message does not parse: {e}"),
    }
}

/// Makes an arbitrary repr one the third round-trip law speaks about: no
/// E flag, TED exchange type when it carries a TED proxy payload, and no
/// opaque payload of a type the codec types in that message.
pub fn sanitize(repr: &mut MessageRepr<'_>) {
    repr.header.flags.remove(Flags::ENCRYPTION);
    let config = ParseConfig::default();
    let has_proxy = repr
        .payloads
        .iter()
        .any(|p| matches!(p, PayloadRepr::TedProxy(_)));
    if has_proxy {
        repr.header.exchange_type = TED_EXCHANGE_TYPE;
    }
    let ted = config.is_ted(repr.header.exchange_type);
    for p in &mut repr.payloads {
        if let PayloadRepr::Opaque(o) = p {
            let t = o.payload_type;
            let typed = matches!(t.0, 0 | 1 | 4..=13 | 20 | 21 | 130..=132)
                || (ted && (t == PayloadType::TED_PROXY || t == PayloadType::TED_PROXY_ALT));
            if typed {
                o.payload_type = PayloadType(200);
            }
        }
    }
}
