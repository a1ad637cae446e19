//! Cisco Tunnel Endpoint Discovery message shapes (the project's
//! `docs/ted-wire.md`; no public specification exists: draft-fluhrer-ted-00
//! expired unpublished).
//!
//! **Unverified assumptions.** The format is derived from the seed's IOS
//! debug trace. Every value the trace does not pin down (tag \[A\] in
//! docs/ted-wire.md) is a named constant here and must be checked against a
//! real IOS capture before anyone claims byte-level interoperability:
//! [`TED_EXCHANGE_TYPE`] (240), [`TED_PROXY_PAYLOAD_TYPE`] (16; 239
//! accepted), the proxy payload body layout ([`TedProxyRepr`]),
//! [`TED_CAPABILITY_VENDOR_ID`] (none), and the cookie rules (probe:
//! random initiator cookie, zero responder cookie; response: echoed
//! initiator cookie, fresh responder cookie).
//!
//! A probe is `VID(IOS), ID(ID_IPV4_ADDR udp/500 own address),
//! ID(own proxy)[, VID...]`; a response is `VID(IOS), ID(ID_IPV4_ADDR
//! udp/500 responder address), proxy payload[, VID...]`. Header: version
//! 1.0, flags 0, message ID 0.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use crate::error::{Error, Result};
use crate::header::{Cookie, Flags, HeaderRepr};
use crate::id::{IdData, IdRepr};
use crate::message::MessageRepr;
use crate::payload::{PayloadRepr, TedProxyNumbering, TedProxyRepr};
use crate::registry::{ExchangeType, PayloadType};

/// The TED exchange type: a private-use value (RFC 2408 s.3.1, 240-255).
/// \[A\]: not confirmed against IOS; configurable through
/// [`crate::ParseConfig::ted_exchange_type`] and the `exchange_type`
/// arguments below.
pub const TED_EXCHANGE_TYPE: ExchangeType = ExchangeType::TED;

/// The payload type this project sends for the TED proxy payload: 16, what
/// the seed's initiator reported receiving (\[T\]/\[A\]).
pub const TED_PROXY_PAYLOAD_TYPE: PayloadType = PayloadType::TED_PROXY;

/// The alternative proxy payload type printed by the seed's responder
/// (239); accepted on receipt.
pub const TED_PROXY_PAYLOAD_TYPE_ALT: PayloadType = PayloadType::TED_PROXY_ALT;

/// The Cisco IOS vendor ID sent first in probes and responses (receivers
/// match its 4-byte prefix, [`crate::vendor::is_cisco_ios`]).
pub const IOS_VENDOR_ID: &[u8] = crate::vendor::CISCO_IOS;

/// The "TED V3 capable" vendor ID IOS may append to a probe. Its bytes are
/// unknown (\[A\]); none is sent by default and unknown vendor IDs are
/// accepted and ignored.
pub const TED_CAPABILITY_VENDOR_ID: Option<&[u8]> = None;

/// The UDP port of IKE, carried in the probe's and response's address ID.
pub const IKE_PORT: u16 = 500;

/// A TED probe (initiator -> the protected destination host).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TedProbe<'a> {
    /// The initiator's cookie; responses are matched by it.
    pub initiator_cookie: Cookie,
    /// The first vendor ID (IOS's).
    pub vendor_id: &'a [u8],
    /// The initiator's own IKE address (ID_IPV4_ADDR, UDP, port 500):
    /// where the response goes.
    pub initiator_address: IdRepr<'a>,
    /// The initiator's proxy (the source side of the traffic).
    pub proxy: IdRepr<'a>,
    /// Vendor IDs after the IDs (e.g. a TED capability marker).
    pub extra_vendor_ids: Vec<&'a [u8]>,
}

/// A TED response (responder's address -> the probe's address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TedResponse<'a> {
    /// The probe's initiator cookie, echoed.
    pub initiator_cookie: Cookie,
    /// The responder's cookie.
    pub responder_cookie: Cookie,
    /// The first vendor ID (IOS's).
    pub vendor_id: &'a [u8],
    /// The responder's IKE address (ID_IPV4_ADDR, UDP, port 500): the
    /// peer to run Main Mode with.
    pub responder_address: IdRepr<'a>,
    /// The negotiated proxies.
    pub proxy: TedProxyRepr<'a>,
    /// Vendor IDs after the proxy payload.
    pub extra_vendor_ids: Vec<&'a [u8]>,
}

/// Either TED message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TedMessage<'a> {
    /// A probe.
    Probe(TedProbe<'a>),
    /// A response.
    Response(TedResponse<'a>),
}

fn ike_address(address: Ipv4Addr) -> IdRepr<'static> {
    IdRepr {
        protocol: 17,
        port: IKE_PORT,
        data: IdData::Ipv4Addr(address),
    }
}

fn ted_header(
    initiator_cookie: Cookie,
    responder_cookie: Cookie,
    exchange_type: ExchangeType,
) -> HeaderRepr {
    HeaderRepr {
        initiator_cookie,
        responder_cookie,
        minor_version: 0,
        exchange_type,
        flags: Flags::empty(),
        message_id: 0,
    }
}

fn check_header(m: &MessageRepr<'_>, exchange_type: ExchangeType) -> Result<()> {
    if m.header.exchange_type != exchange_type {
        return Err(Error::TedShape {
            what: "exchange type is not the TED exchange type",
        });
    }
    if m.header.message_id != 0 {
        return Err(Error::TedShape {
            what: "message ID is not 0",
        });
    }
    if !m.header.flags.is_empty() {
        return Err(Error::TedShape {
            what: "flags are not 0",
        });
    }
    Ok(())
}

fn trailing_vids<'a>(rest: &[PayloadRepr<'a>]) -> Result<Vec<&'a [u8]>> {
    rest.iter()
        .map(|p| match p {
            PayloadRepr::VendorId(v) => Ok(*v),
            _ => Err(Error::TedShape {
                what: "only vendor IDs may follow the TED payloads",
            }),
        })
        .collect()
}

impl<'a> TedProbe<'a> {
    /// A probe with IOS's vendor ID, the initiator's IKE address and its
    /// proxy, plus [`TED_CAPABILITY_VENDOR_ID`] if one is configured.
    #[must_use]
    pub fn new(initiator_cookie: Cookie, initiator_address: Ipv4Addr, proxy: IdRepr<'a>) -> Self {
        Self {
            initiator_cookie,
            vendor_id: IOS_VENDOR_ID,
            initiator_address: ike_address(initiator_address),
            proxy,
            extra_vendor_ids: TED_CAPABILITY_VENDOR_ID.into_iter().collect(),
        }
    }

    /// Reads a probe from a parsed message of the given TED exchange type.
    pub fn from_message(m: &MessageRepr<'a>, exchange_type: ExchangeType) -> Result<Self> {
        check_header(m, exchange_type)?;
        if m.header.responder_cookie != [0; 8] {
            return Err(Error::TedShape {
                what: "probe with a non-zero responder cookie",
            });
        }
        match m.payloads.as_slice() {
            [
                PayloadRepr::VendorId(vid),
                PayloadRepr::Id(address),
                PayloadRepr::Id(proxy),
                rest @ ..,
            ] => Ok(Self {
                initiator_cookie: m.header.initiator_cookie,
                vendor_id: vid,
                initiator_address: *address,
                proxy: *proxy,
                extra_vendor_ids: trailing_vids(rest)?,
            }),
            _ => Err(Error::TedShape {
                what: "a probe is VID, ID, ID[, VID...]",
            }),
        }
    }

    /// The message carrying this probe.
    #[must_use]
    pub fn to_message(&self, exchange_type: ExchangeType) -> MessageRepr<'a> {
        let mut payloads = Vec::with_capacity(self.extra_vendor_ids.len().saturating_add(3));
        payloads.push(PayloadRepr::VendorId(self.vendor_id));
        payloads.push(PayloadRepr::Id(self.initiator_address));
        payloads.push(PayloadRepr::Id(self.proxy));
        payloads.extend(
            self.extra_vendor_ids
                .iter()
                .map(|v| PayloadRepr::VendorId(v)),
        );
        MessageRepr {
            header: ted_header(self.initiator_cookie, [0; 8], exchange_type),
            payloads,
        }
    }
}

impl<'a> TedResponse<'a> {
    /// A response with IOS's vendor ID, the responder's IKE address and
    /// the proxies (sent as payload type 16).
    #[must_use]
    pub fn new(
        initiator_cookie: Cookie,
        responder_cookie: Cookie,
        responder_address: Ipv4Addr,
        initiator_proxy: Option<IdRepr<'a>>,
        responder_proxy: IdRepr<'a>,
    ) -> Self {
        Self {
            initiator_cookie,
            responder_cookie,
            vendor_id: IOS_VENDOR_ID,
            responder_address: ike_address(responder_address),
            proxy: TedProxyRepr {
                numbering: TedProxyNumbering::Primary,
                initiator_proxy,
                responder_proxy,
            },
            extra_vendor_ids: Vec::new(),
        }
    }

    /// Reads a response from a parsed message of the given TED exchange
    /// type (parsed with the same TED exchange type in its
    /// [`crate::ParseConfig`], so the proxy payload is typed).
    pub fn from_message(m: &MessageRepr<'a>, exchange_type: ExchangeType) -> Result<Self> {
        check_header(m, exchange_type)?;
        match m.payloads.as_slice() {
            [
                PayloadRepr::VendorId(vid),
                PayloadRepr::Id(address),
                PayloadRepr::TedProxy(proxy),
                rest @ ..,
            ] => Ok(Self {
                initiator_cookie: m.header.initiator_cookie,
                responder_cookie: m.header.responder_cookie,
                vendor_id: vid,
                responder_address: *address,
                proxy: *proxy,
                extra_vendor_ids: trailing_vids(rest)?,
            }),
            _ => Err(Error::TedShape {
                what: "a response is VID, ID, TED proxy[, VID...]",
            }),
        }
    }

    /// The message carrying this response.
    #[must_use]
    pub fn to_message(&self, exchange_type: ExchangeType) -> MessageRepr<'a> {
        let mut payloads = Vec::with_capacity(self.extra_vendor_ids.len().saturating_add(3));
        payloads.push(PayloadRepr::VendorId(self.vendor_id));
        payloads.push(PayloadRepr::Id(self.responder_address));
        payloads.push(PayloadRepr::TedProxy(self.proxy));
        payloads.extend(
            self.extra_vendor_ids
                .iter()
                .map(|v| PayloadRepr::VendorId(v)),
        );
        MessageRepr {
            header: ted_header(self.initiator_cookie, self.responder_cookie, exchange_type),
            payloads,
        }
    }
}

impl<'a> TedMessage<'a> {
    /// Reads a probe or a response (a response carries a proxy payload).
    pub fn from_message(m: &MessageRepr<'a>, exchange_type: ExchangeType) -> Result<Self> {
        if m.payloads
            .iter()
            .any(|p| matches!(p, PayloadRepr::TedProxy(_)))
        {
            TedResponse::from_message(m, exchange_type).map(TedMessage::Response)
        } else {
            TedProbe::from_message(m, exchange_type).map(TedMessage::Probe)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use crate::payload::ParseConfig;

    // docs/ted-wire.md, "Worked example": the probe, 76 bytes.
    const PROBE: [u8; 76] = [
        0x5a, 0x1c, 0x3e, 0x77, 0x90, 0xab, 0xcd, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x0d, 0x10, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4c, //
        0x05, 0x00, 0x00, 0x14, 0x3e, 0x98, 0x40, 0x48, 0x10, 0x1e, 0x66, 0xcc, 0x65, 0x9f, 0xd0,
        0x02, 0xb0, 0xed, 0x36, 0x55, //
        0x05, 0x00, 0x00, 0x0c, 0x01, 0x11, 0x01, 0xf4, 0x0b, 0x0b, 0x0b, 0x01, //
        0x00, 0x00, 0x00, 0x10, 0x04, 0x00, 0x00, 0x00, 0x0d, 0x0d, 0x0d, 0x00, 0xff, 0xff, 0xff,
        0x00,
    ];

    // docs/ted-wire.md, "Worked example": the response, 88 bytes.
    const RESPONSE: [u8; 88] = [
        0x5a, 0x1c, 0x3e, 0x77, 0x90, 0xab, 0xcd, 0x01, 0x9f, 0x02, 0x61, 0xd4, 0x38, 0xe5, 0x7a,
        0x10, 0x0d, 0x10, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x58, //
        0x05, 0x00, 0x00, 0x14, 0x3e, 0x98, 0x40, 0x48, 0x10, 0x1e, 0x66, 0xcc, 0x65, 0x9f, 0xd0,
        0x02, 0xb0, 0xed, 0x36, 0x55, //
        0x10, 0x00, 0x00, 0x0c, 0x01, 0x11, 0x01, 0xf4, 0x0b, 0x0b, 0x0b, 0x02, //
        0x00, 0x00, 0x00, 0x1c, 0x04, 0x00, 0x00, 0x00, 0x0d, 0x0d, 0x0d, 0x00, 0xff, 0xff, 0xff,
        0x00, //
        0x04, 0x00, 0x00, 0x00, 0x0c, 0x0c, 0x0c, 0x00, 0xff, 0xff, 0xff, 0x00,
    ];

    const COOKIE_I: Cookie = [0x5a, 0x1c, 0x3e, 0x77, 0x90, 0xab, 0xcd, 0x01];
    const COOKIE_R: Cookie = [0x9f, 0x02, 0x61, 0xd4, 0x38, 0xe5, 0x7a, 0x10];

    fn subnet(a: [u8; 4]) -> IdRepr<'static> {
        IdRepr::new(IdData::Ipv4Subnet {
            address: Ipv4Addr::from(a),
            mask: Ipv4Addr::new(255, 255, 255, 0),
        })
    }

    #[test]
    fn probe_known_bytes_both_ways() {
        let built = TedProbe::new(
            COOKIE_I,
            Ipv4Addr::new(11, 11, 11, 1),
            subnet([13, 13, 13, 0]),
        );
        assert_eq!(built.to_message(TED_EXCHANGE_TYPE).to_vec().unwrap(), PROBE);

        let msg = Message::new_checked(&PROBE[..]).unwrap();
        let repr = MessageRepr::parse(&msg, &ParseConfig::default()).unwrap();
        let probe = TedProbe::from_message(&repr, TED_EXCHANGE_TYPE).unwrap();
        assert_eq!(probe, built);
        assert_eq!(
            probe.initiator_address.data.address(),
            Some(Ipv4Addr::new(11, 11, 11, 1).into())
        );
        assert_eq!(
            TedMessage::from_message(&repr, TED_EXCHANGE_TYPE).unwrap(),
            TedMessage::Probe(built)
        );
    }

    #[test]
    fn response_known_bytes_both_ways() {
        let built = TedResponse::new(
            COOKIE_I,
            COOKIE_R,
            Ipv4Addr::new(11, 11, 11, 2),
            Some(subnet([13, 13, 13, 0])),
            subnet([12, 12, 12, 0]),
        );
        assert_eq!(
            built.to_message(TED_EXCHANGE_TYPE).to_vec().unwrap(),
            RESPONSE
        );

        let msg = Message::new_checked(&RESPONSE[..]).unwrap();
        let repr = MessageRepr::parse(&msg, &ParseConfig::default()).unwrap();
        assert_eq!(repr.payloads[2].payload_type(), TED_PROXY_PAYLOAD_TYPE);
        let response = TedResponse::from_message(&repr, TED_EXCHANGE_TYPE).unwrap();
        assert_eq!(response, built);
    }

    #[test]
    fn proxy_payload_239_and_single_block() {
        // The same response with the ID's next payload 239 and the proxy
        // payload holding only the responder's proxy.
        let mut bytes = RESPONSE[..76].to_vec();
        bytes[27] = 76;
        bytes[48] = 239;
        bytes[63] = 16; // proxy payload length: one 12-byte block
        bytes.truncate(76);
        bytes[64..76].copy_from_slice(&[0x04, 0, 0, 0, 12, 12, 12, 0, 255, 255, 255, 0]);
        let msg = Message::new_checked(&bytes[..]).unwrap();
        let repr = MessageRepr::parse(&msg, &ParseConfig::default()).unwrap();
        let r = TedResponse::from_message(&repr, TED_EXCHANGE_TYPE).unwrap();
        assert_eq!(r.proxy.numbering, TedProxyNumbering::Alternate);
        assert_eq!(r.proxy.initiator_proxy, None);
        assert_eq!(r.proxy.responder_proxy, subnet([12, 12, 12, 0]));
        assert_eq!(repr.to_vec().unwrap(), bytes);
    }

    #[test]
    fn payload_16_is_opaque_outside_ted() {
        let mut bytes = RESPONSE;
        bytes[18] = 241; // another private exchange type
        let msg = Message::new_checked(&bytes[..]).unwrap();
        let repr = MessageRepr::parse(&msg, &ParseConfig::default()).unwrap();
        assert!(matches!(repr.payloads[2], PayloadRepr::Opaque(_)));
        assert!(TedResponse::from_message(&repr, TED_EXCHANGE_TYPE).is_err());
        // ... unless 241 is configured as the TED exchange type.
        let cfg = ParseConfig::default().with_ted_exchange_type(Some(ExchangeType(241)));
        let repr = MessageRepr::parse(&msg, &cfg).unwrap();
        assert!(TedResponse::from_message(&repr, ExchangeType(241)).is_ok());
        // and TED decoding can be turned off.
        let cfg = ParseConfig::default().with_ted_exchange_type(None);
        let msg = Message::new_checked(&RESPONSE[..]).unwrap();
        let repr = MessageRepr::parse(&msg, &cfg).unwrap();
        assert!(matches!(repr.payloads[2], PayloadRepr::Opaque(_)));
    }

    #[test]
    fn wrong_shapes() {
        let msg = Message::new_checked(&PROBE[..]).unwrap();
        let mut repr = MessageRepr::parse(&msg, &ParseConfig::default()).unwrap();
        assert!(TedResponse::from_message(&repr, TED_EXCHANGE_TYPE).is_err());
        repr.header.message_id = 1;
        assert_eq!(
            TedProbe::from_message(&repr, TED_EXCHANGE_TYPE),
            Err(Error::TedShape {
                what: "message ID is not 0"
            })
        );
        repr.header.message_id = 0;
        repr.payloads.push(PayloadRepr::Hash(&[1]));
        assert!(TedProbe::from_message(&repr, TED_EXCHANGE_TYPE).is_err());
        repr.payloads.pop();
        repr.payloads.push(PayloadRepr::VendorId(&[1, 2]));
        assert_eq!(
            TedProbe::from_message(&repr, TED_EXCHANGE_TYPE)
                .unwrap()
                .extra_vendor_ids,
            [&[1u8, 2][..]]
        );
        repr.payloads.truncate(2);
        assert!(TedProbe::from_message(&repr, TED_EXCHANGE_TYPE).is_err());
    }
}
