//! Typed payload bodies (RFC 2408 s.3.4 to s.3.16, RFC 3947 s.3.2 and
//! s.5.2, the TED proxy payload of docs/ted-wire.md) and [`PayloadRepr`], the
//! owned form of one payload of a chain.
//!
//! Each `Repr` borrows its variable-length data from the message it was
//! parsed from (or from the caller building it). The generic payload header
//! (next payload, reserved, length) is not part of any `Repr`: `emit`
//! computes it from the chain.

use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::attribute::Attribute;
use crate::chain::{Payload, Payloads, Reader, Writer};
use crate::error::{Error, Result};
use crate::fragment::FragmentRepr;
use crate::header::PAYLOAD_HEADER_LEN;
use crate::id::{IdData, IdRepr};
use crate::registry::{
    CertEncoding, Doi, ExchangeType, IdType, NotifyType, PayloadType, ProtocolId, TransformId,
    situation,
};

/// How a message is parsed: the context that decides how ambiguous payload
/// numbers are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ParseConfig {
    /// The exchange type of TED messages (docs/ted-wire.md, "ISAKMP header", \[A\]; default 240).
    /// In such a message payloads 16 and 239 are read as the TED proxy
    /// payload; elsewhere they stay opaque (16 is GDOI's SAT in RFC 6407).
    /// `None` turns TED decoding off.
    pub ted_exchange_type: Option<ExchangeType>,
}

impl Default for ParseConfig {
    fn default() -> Self {
        Self {
            ted_exchange_type: Some(ExchangeType::TED),
        }
    }
}

impl ParseConfig {
    /// The default configuration (TED exchange type 240).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the TED exchange type (`None` turns TED decoding off).
    #[must_use]
    pub fn with_ted_exchange_type(mut self, exchange_type: Option<ExchangeType>) -> Self {
        self.ted_exchange_type = exchange_type;
        self
    }

    /// Whether messages of this exchange type are TED messages.
    #[must_use]
    pub fn is_ted(&self, exchange_type: ExchangeType) -> bool {
        self.ted_exchange_type == Some(exchange_type)
    }
}

/// Which payload numbers the NAT-T payloads use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum NatTNumbering {
    /// RFC 3947: NAT-D 20, NAT-OA 21.
    #[default]
    Rfc3947,
    /// draft-ietf-ipsec-nat-t-ike-02/03: NAT-D 130, NAT-OA 131.
    Draft,
}

/// Which payload number a TED proxy payload uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum TedProxyNumbering {
    /// 16: what the seed's initiator read off the wire; what we send.
    #[default]
    Primary,
    /// 239: what the seed's responder printed; accepted.
    Alternate,
}

/// One payload of a chain, typed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum PayloadRepr<'a> {
    /// Security Association (RFC 2408 s.3.4) of the IPsec DOI.
    Sa(SaRepr<'a>),
    /// Key Exchange data (RFC 2408 s.3.7).
    KeyExchange(&'a [u8]),
    /// Identification (RFC 2408 s.3.8, RFC 2407 s.4.6.2).
    Id(IdRepr<'a>),
    /// Certificate (RFC 2408 s.3.9).
    Cert(CertRepr<'a>),
    /// Certificate Request (RFC 2408 s.3.10).
    CertRequest(CertRepr<'a>),
    /// Hash data (RFC 2408 s.3.11).
    Hash(&'a [u8]),
    /// Signature data (RFC 2408 s.3.12).
    Signature(&'a [u8]),
    /// Nonce data (RFC 2408 s.3.13).
    Nonce(&'a [u8]),
    /// Notification (RFC 2408 s.3.14).
    Notification(NotificationRepr<'a>),
    /// Delete (RFC 2408 s.3.15).
    Delete(DeleteRepr<'a>),
    /// Vendor ID (RFC 2408 s.3.16); see [`crate::vendor`] to name it.
    VendorId(&'a [u8]),
    /// NAT Discovery hash (RFC 3947 s.3.2).
    NatD {
        /// Payload number used (20 or draft 130).
        numbering: NatTNumbering,
        /// HASH(CKY-I | CKY-R | IP | Port).
        hash: &'a [u8],
    },
    /// NAT Original Address (RFC 3947 s.5.2).
    NatOa {
        /// Payload number used (21 or draft 131).
        numbering: NatTNumbering,
        /// The original address.
        address: IpAddr,
    },
    /// TED proxy payload (docs/ted-wire.md, "Proxy payload"), only in a TED message.
    TedProxy(TedProxyRepr<'a>),
    /// IKEv1 fragmentation payload (private type 132; see [`crate::fragment`]).
    /// In a well-formed fragment message it is the only payload:
    /// [`crate::FragmentMessage`] checks that shape.
    Fragment(FragmentRepr<'a>),
    /// A payload this crate does not type, kept whole: unknown numbers,
    /// GDOI and Mode Config payloads, an SA of another DOI or with
    /// labeled-domain situation fields, and Proposal/Transform payloads
    /// found at the top level.
    Opaque(OpaquePayload<'a>),
}

/// A payload kept as bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct OpaquePayload<'a> {
    /// Its payload type (not NONE).
    pub payload_type: PayloadType,
    /// Its body, after the generic header.
    pub body: &'a [u8],
}

/// Security Association payload body (RFC 2408 s.3.4) of the IPsec DOI,
/// with an RFC 2407 s.4.2 situation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct SaRepr<'a> {
    /// The situation bitmap (RFC 2407 s.4.2): `SIT_IDENTITY_ONLY` (1) in
    /// practice. Secrecy/integrity bits make the SA opaque.
    pub situation: u32,
    /// The proposals, in order.
    pub proposals: Vec<ProposalRepr<'a>>,
}

impl SaRepr<'_> {
    /// The DOI this repr is sent with: always IPsec.
    pub const DOI: Doi = Doi::IPSEC;
}

/// Proposal payload (RFC 2408 s.3.5).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct ProposalRepr<'a> {
    /// Proposal number; proposals sharing a number form one AND-ed
    /// proposal (e.g. AH + ESP).
    pub number: u8,
    /// The protocol (ISAKMP, AH, ESP, IPCOMP).
    pub protocol: ProtocolId,
    /// The SPI (empty in phase 1, 4 bytes for AH/ESP, 2 for IPCOMP).
    pub spi: &'a [u8],
    /// The transforms offered, in order of preference.
    pub transforms: Vec<TransformRepr<'a>>,
}

/// Transform payload (RFC 2408 s.3.6).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct TransformRepr<'a> {
    /// Transform number.
    pub number: u8,
    /// Transform ID, interpreted per the proposal's protocol.
    pub id: TransformId,
    /// SA attributes, as on the wire; decode with [`Attribute::phase1`]
    /// (ISAKMP proposals) or [`Attribute::ipsec`] (AH, ESP, IPCOMP).
    pub attributes: Vec<Attribute<'a>>,
}

/// Certificate or Certificate Request payload body (RFC 2408 s.3.9,
/// s.3.10): an encoding byte and data, both kept exactly as received.
///
/// In a CERT payload the data is the certificate (or CRL, ...) in the
/// encoding named: for [`CertEncoding::X509_SIGNATURE`], the one encoding
/// strongSwan and libreswan send, one DER X.509 certificate; for
/// [`CertEncoding::PKCS7`], a DER PKCS #7 structure that may hold a chain.
/// In a CR payload the encoding is the type of certificate asked for and
/// the data names an acceptable certificate authority: a DER
/// `DistinguishedName` (the CA's subject), as strongSwan
/// (`certreq_payload_create_dn`) and libreswan send it, or nothing for
/// "any authority" ([`CertRepr::authority`]). The codec does not parse DER.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct CertRepr<'a> {
    /// Certificate encoding / requested type.
    pub encoding: CertEncoding,
    /// Certificate data, or certificate authority for a request.
    pub data: &'a [u8],
}

impl<'a> CertRepr<'a> {
    /// The certificate authority a CR payload names: its DER
    /// `DistinguishedName`, or `None` when the data is empty (any
    /// authority). Not checked to be DER.
    #[must_use]
    pub fn authority(&self) -> Option<&'a [u8]> {
        (!self.data.is_empty()).then_some(self.data)
    }
}

/// Notification payload body (RFC 2408 s.3.14).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct NotificationRepr<'a> {
    /// DOI (IPsec in practice).
    pub doi: Doi,
    /// Protocol the SPI belongs to.
    pub protocol: ProtocolId,
    /// The notify message type.
    pub notify_type: NotifyType,
    /// The SPI (0 to 255 bytes; 16 for an ISAKMP SA's cookies).
    pub spi: &'a [u8],
    /// Notification data.
    pub data: &'a [u8],
}

impl NotificationRepr<'_> {
    /// The RFC 3706 s.5 sequence number of an R-U-THERE / R-U-THERE-ACK.
    #[must_use]
    pub fn dpd_sequence(&self) -> Option<u32> {
        if self.notify_type != NotifyType::R_U_THERE
            && self.notify_type != NotifyType::R_U_THERE_ACK
        {
            return None;
        }
        <[u8; 4]>::try_from(self.data).ok().map(u32::from_be_bytes)
    }
}

/// Delete payload body (RFC 2408 s.3.15).
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct DeleteRepr<'a> {
    /// DOI (IPsec in practice).
    pub doi: Doi,
    /// Protocol of the SAs deleted.
    pub protocol: ProtocolId,
    /// SPI size; every SPI has exactly this length.
    pub spi_size: u8,
    /// The SPIs.
    pub spis: Vec<&'a [u8]>,
}

/// The TED proxy payload (docs/ted-wire.md, "Proxy payload", body \[A\]): one or
/// two IPsec-DOI ID blocks (ID type, protocol, port, identification data)
/// without length fields, source proxy then destination proxy.
///
/// With two blocks the first is the initiator's (source) proxy and the
/// second the responder's; a single block is the responder's proxy. A
/// block is delimited by its ID type's fixed size, so only the last block
/// may be of a variable-length type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct TedProxyRepr<'a> {
    /// Payload number used (16 or 239).
    pub numbering: TedProxyNumbering,
    /// The initiator's proxy (the probe's source proxy), when present.
    pub initiator_proxy: Option<IdRepr<'a>>,
    /// The responder's proxy.
    pub responder_proxy: IdRepr<'a>,
}

impl<'a> PayloadRepr<'a> {
    /// The payload type this repr is sent as.
    #[must_use]
    pub fn payload_type(&self) -> PayloadType {
        match self {
            PayloadRepr::Sa(_) => PayloadType::SA,
            PayloadRepr::KeyExchange(_) => PayloadType::KEY_EXCHANGE,
            PayloadRepr::Id(_) => PayloadType::IDENTIFICATION,
            PayloadRepr::Cert(_) => PayloadType::CERTIFICATE,
            PayloadRepr::CertRequest(_) => PayloadType::CERTIFICATE_REQUEST,
            PayloadRepr::Hash(_) => PayloadType::HASH,
            PayloadRepr::Signature(_) => PayloadType::SIGNATURE,
            PayloadRepr::Nonce(_) => PayloadType::NONCE,
            PayloadRepr::Notification(_) => PayloadType::NOTIFICATION,
            PayloadRepr::Delete(_) => PayloadType::DELETE,
            PayloadRepr::VendorId(_) => PayloadType::VENDOR_ID,
            PayloadRepr::NatD { numbering, .. } => match numbering {
                NatTNumbering::Rfc3947 => PayloadType::NAT_D,
                NatTNumbering::Draft => PayloadType::NAT_D_DRAFT,
            },
            PayloadRepr::NatOa { numbering, .. } => match numbering {
                NatTNumbering::Rfc3947 => PayloadType::NAT_OA,
                NatTNumbering::Draft => PayloadType::NAT_OA_DRAFT,
            },
            PayloadRepr::TedProxy(t) => match t.numbering {
                TedProxyNumbering::Primary => PayloadType::TED_PROXY,
                TedProxyNumbering::Alternate => PayloadType::TED_PROXY_ALT,
            },
            PayloadRepr::Fragment(_) => PayloadType::FRAGMENT,
            PayloadRepr::Opaque(o) => o.payload_type,
        }
    }

    /// Decodes a payload. `ted` says whether the message is a TED message
    /// (see [`ParseConfig::is_ted`]).
    pub fn parse(payload: &Payload<'a>, ted: bool) -> Result<Self> {
        let pt = payload.payload_type();
        let body = payload.body();
        let mut r = Reader::new(body, payload.body_offset(), pt);
        let repr = match pt {
            PayloadType::SA => match SaRepr::parse(&mut r)? {
                Some(sa) => PayloadRepr::Sa(sa),
                None => PayloadRepr::Opaque(OpaquePayload {
                    payload_type: pt,
                    body,
                }),
            },
            PayloadType::KEY_EXCHANGE => PayloadRepr::KeyExchange(body),
            PayloadType::IDENTIFICATION => PayloadRepr::Id(IdRepr::parse(&mut r, true)?),
            PayloadType::CERTIFICATE => PayloadRepr::Cert(CertRepr::parse(&mut r)?),
            PayloadType::CERTIFICATE_REQUEST => PayloadRepr::CertRequest(CertRepr::parse(&mut r)?),
            PayloadType::HASH => PayloadRepr::Hash(body),
            PayloadType::SIGNATURE => PayloadRepr::Signature(body),
            PayloadType::NONCE => PayloadRepr::Nonce(body),
            PayloadType::NOTIFICATION => {
                PayloadRepr::Notification(NotificationRepr::parse(&mut r)?)
            }
            PayloadType::DELETE => PayloadRepr::Delete(DeleteRepr::parse(&mut r)?),
            PayloadType::VENDOR_ID => PayloadRepr::VendorId(body),
            PayloadType::NAT_D | PayloadType::NAT_D_DRAFT => PayloadRepr::NatD {
                numbering: if pt == PayloadType::NAT_D {
                    NatTNumbering::Rfc3947
                } else {
                    NatTNumbering::Draft
                },
                hash: body,
            },
            PayloadType::NAT_OA | PayloadType::NAT_OA_DRAFT => PayloadRepr::NatOa {
                numbering: if pt == PayloadType::NAT_OA {
                    NatTNumbering::Rfc3947
                } else {
                    NatTNumbering::Draft
                },
                address: parse_nat_oa(&mut r)?,
            },
            PayloadType::TED_PROXY | PayloadType::TED_PROXY_ALT if ted => {
                PayloadRepr::TedProxy(TedProxyRepr::parse(&mut r, pt)?)
            }
            PayloadType::FRAGMENT => PayloadRepr::Fragment(FragmentRepr::parse(&mut r)?),
            _ => PayloadRepr::Opaque(OpaquePayload {
                payload_type: pt,
                body,
            }),
        };
        Ok(repr)
    }

    /// Length of the body (after the generic header).
    #[must_use]
    pub fn body_len(&self) -> usize {
        match self {
            PayloadRepr::Sa(sa) => sa.body_len(),
            PayloadRepr::KeyExchange(d)
            | PayloadRepr::Hash(d)
            | PayloadRepr::Signature(d)
            | PayloadRepr::Nonce(d)
            | PayloadRepr::VendorId(d)
            | PayloadRepr::NatD { hash: d, .. } => d.len(),
            PayloadRepr::Id(id) => id.buffer_len(),
            PayloadRepr::Cert(c) | PayloadRepr::CertRequest(c) => c.data.len().saturating_add(1),
            PayloadRepr::Notification(n) => 8usize
                .saturating_add(n.spi.len())
                .saturating_add(n.data.len()),
            PayloadRepr::Delete(d) => d
                .spis
                .iter()
                .fold(8usize, |acc, s| acc.saturating_add(s.len())),
            PayloadRepr::NatOa { address, .. } => match address {
                IpAddr::V4(_) => 8,
                IpAddr::V6(_) => 20,
            },
            PayloadRepr::TedProxy(t) => t
                .initiator_proxy
                .as_ref()
                .map_or(0, IdRepr::buffer_len)
                .saturating_add(t.responder_proxy.buffer_len()),
            PayloadRepr::Fragment(f) => f.body_len(),
            PayloadRepr::Opaque(o) => o.body.len(),
        }
    }

    /// Length on the wire, generic header included.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.body_len().saturating_add(PAYLOAD_HEADER_LEN)
    }

    fn emit_body(&self, w: &mut Writer<'_>) -> Result<()> {
        match self {
            PayloadRepr::Sa(sa) => sa.emit(w),
            PayloadRepr::KeyExchange(d)
            | PayloadRepr::Hash(d)
            | PayloadRepr::Signature(d)
            | PayloadRepr::Nonce(d)
            | PayloadRepr::VendorId(d)
            | PayloadRepr::NatD { hash: d, .. } => w.put(d),
            PayloadRepr::Id(id) => id.emit(w),
            PayloadRepr::Cert(c) | PayloadRepr::CertRequest(c) => {
                w.u8(c.encoding.0)?;
                w.put(c.data)
            }
            PayloadRepr::Notification(n) => {
                let spi_size = u8::try_from(n.spi.len()).map_err(|_| Error::InvalidRepr {
                    what: "notification SPI longer than 255 bytes",
                })?;
                w.u32(n.doi.0)?;
                w.u8(n.protocol.0)?;
                w.u8(spi_size)?;
                w.u16(n.notify_type.0)?;
                w.put(n.spi)?;
                w.put(n.data)
            }
            PayloadRepr::Delete(d) => {
                let count = u16::try_from(d.spis.len()).map_err(|_| Error::InvalidRepr {
                    what: "more than 65535 SPIs in a delete payload",
                })?;
                if d.spis.iter().any(|s| s.len() != usize::from(d.spi_size)) {
                    return Err(Error::InvalidRepr {
                        what: "delete payload SPI whose length is not spi_size",
                    });
                }
                w.u32(d.doi.0)?;
                w.u8(d.protocol.0)?;
                w.u8(d.spi_size)?;
                w.u16(count)?;
                for spi in &d.spis {
                    w.put(spi)?;
                }
                Ok(())
            }
            PayloadRepr::NatOa { address, .. } => match address {
                IpAddr::V4(a) => {
                    w.put(&[IdType::IPV4_ADDR.0, 0, 0, 0])?;
                    w.put(&a.octets())
                }
                IpAddr::V6(a) => {
                    w.put(&[IdType::IPV6_ADDR.0, 0, 0, 0])?;
                    w.put(&a.octets())
                }
            },
            PayloadRepr::TedProxy(t) => t.emit(w),
            PayloadRepr::Fragment(f) => f.emit(w),
            PayloadRepr::Opaque(o) => {
                if o.payload_type == PayloadType::NONE {
                    return Err(Error::InvalidRepr {
                        what: "opaque payload of type NONE",
                    });
                }
                w.put(o.body)
            }
        }
    }

    /// Emits this payload with its generic header.
    pub(crate) fn emit(&self, next: PayloadType, w: &mut Writer<'_>) -> Result<()> {
        let length = u16::try_from(self.buffer_len()).map_err(|_| Error::InvalidRepr {
            what: "payload longer than 65535 bytes",
        })?;
        w.u8(next.0)?;
        w.u8(0)?;
        w.u16(length)?;
        let start = w.pos();
        self.emit_body(w)?;
        if w.pos().checked_sub(start) != Some(self.body_len()) {
            return Err(Error::InvalidRepr {
                what: "payload body length disagrees with body_len",
            });
        }
        Ok(())
    }
}

/// Length of a chain of payloads, generic headers included.
#[must_use]
pub fn chain_len(payloads: &[PayloadRepr<'_>]) -> usize {
    payloads
        .iter()
        .fold(0usize, |acc, p| acc.saturating_add(p.buffer_len()))
}

/// Emits a chain, linking next-payload fields; returns the first type.
pub(crate) fn emit_chain(payloads: &[PayloadRepr<'_>], w: &mut Writer<'_>) -> Result<PayloadType> {
    for (i, p) in payloads.iter().enumerate() {
        let next = payloads
            .get(i.saturating_add(1))
            .map_or(PayloadType::NONE, PayloadRepr::payload_type);
        p.emit(next, w)?;
    }
    Ok(payloads
        .first()
        .map_or(PayloadType::NONE, PayloadRepr::payload_type))
}

/// Parses a whole chain into reprs.
pub(crate) fn parse_chain<'a>(iter: &mut Payloads<'a>, ted: bool) -> Result<Vec<PayloadRepr<'a>>> {
    let mut out = Vec::new();
    for p in iter.by_ref() {
        out.push(PayloadRepr::parse(&p?, ted)?);
    }
    Ok(out)
}

impl<'a> SaRepr<'a> {
    /// Parses an SA body; `None` when it is not one this crate types
    /// (another DOI, or labeled-domain situation fields).
    fn parse(r: &mut Reader<'a>) -> Result<Option<Self>> {
        let doi = Doi(r.u32("SA payload shorter than its DOI")?);
        if doi != Doi::IPSEC {
            return Ok(None);
        }
        let situation = r.u32("SA payload shorter than its situation")?;
        if situation & (situation::SECRECY | situation::INTEGRITY) != 0 {
            return Ok(None);
        }
        let base = r.offset();
        let rest = r.rest();
        let mut proposals = Vec::new();
        // An SA without proposals (nothing after the situation) is
        // representable, so it must parse back.
        let first = if rest.is_empty() {
            PayloadType::NONE
        } else {
            PayloadType::PROPOSAL
        };
        for p in Payloads::exact(first, rest, base) {
            let p = p?;
            if p.payload_type() != PayloadType::PROPOSAL {
                return Err(Error::UnexpectedPayload {
                    payload: p.payload_type(),
                    offset: p.offset(),
                    expected: "a Proposal inside an SA",
                });
            }
            proposals.push(ProposalRepr::parse(&p)?);
        }
        Ok(Some(Self {
            situation,
            proposals,
        }))
    }

    fn body_len(&self) -> usize {
        self.proposals
            .iter()
            .fold(8usize, |acc, p| acc.saturating_add(p.buffer_len()))
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        if self.situation & (situation::SECRECY | situation::INTEGRITY) != 0 {
            return Err(Error::InvalidRepr {
                what: "SA situation with secrecy/integrity bits (labeled domains are not typed)",
            });
        }
        w.u32(Self::DOI.0)?;
        w.u32(self.situation)?;
        for (i, p) in self.proposals.iter().enumerate() {
            let last = i.saturating_add(1) == self.proposals.len();
            p.emit(last, w)?;
        }
        Ok(())
    }
}

impl<'a> ProposalRepr<'a> {
    fn parse(p: &Payload<'a>) -> Result<Self> {
        let mut r = Reader::new(p.body(), p.body_offset(), PayloadType::PROPOSAL);
        let number = r.u8("proposal shorter than its fixed fields")?;
        let protocol = ProtocolId(r.u8("proposal shorter than its fixed fields")?);
        let spi_size = r.u8("proposal shorter than its fixed fields")?;
        let count_offset = r.offset();
        let count = r.u8("proposal shorter than its fixed fields")?;
        let spi = r.take(usize::from(spi_size), "SPI size runs past the proposal")?;
        let base = r.offset();
        let rest = r.rest();
        let mut transforms = Vec::new();
        let first = if rest.is_empty() {
            PayloadType::NONE
        } else {
            PayloadType::TRANSFORM
        };
        for t in Payloads::exact(first, rest, base) {
            let t = t?;
            if t.payload_type() != PayloadType::TRANSFORM {
                return Err(Error::UnexpectedPayload {
                    payload: t.payload_type(),
                    offset: t.offset(),
                    expected: "a Transform inside a Proposal",
                });
            }
            transforms.push(TransformRepr::parse(&t)?);
        }
        if transforms.len() != usize::from(count) {
            return Err(Error::Malformed {
                payload: PayloadType::PROPOSAL,
                offset: count_offset,
                what: "number of transforms does not match the transforms present",
            });
        }
        Ok(Self {
            number,
            protocol,
            spi,
            transforms,
        })
    }

    /// Length on the wire, generic header included.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.transforms.iter().fold(
            (PAYLOAD_HEADER_LEN + 4).saturating_add(self.spi.len()),
            |acc, t| acc.saturating_add(t.buffer_len()),
        )
    }

    fn emit(&self, last: bool, w: &mut Writer<'_>) -> Result<()> {
        let length = u16::try_from(self.buffer_len()).map_err(|_| Error::InvalidRepr {
            what: "proposal longer than 65535 bytes",
        })?;
        let spi_size = u8::try_from(self.spi.len()).map_err(|_| Error::InvalidRepr {
            what: "proposal SPI longer than 255 bytes",
        })?;
        let count = u8::try_from(self.transforms.len()).map_err(|_| Error::InvalidRepr {
            what: "more than 255 transforms in a proposal",
        })?;
        w.u8(if last { 0 } else { PayloadType::PROPOSAL.0 })?;
        w.u8(0)?;
        w.u16(length)?;
        w.u8(self.number)?;
        w.u8(self.protocol.0)?;
        w.u8(spi_size)?;
        w.u8(count)?;
        w.put(self.spi)?;
        for (i, t) in self.transforms.iter().enumerate() {
            let last = i.saturating_add(1) == self.transforms.len();
            t.emit(last, w)?;
        }
        Ok(())
    }
}

impl<'a> TransformRepr<'a> {
    fn parse(t: &Payload<'a>) -> Result<Self> {
        let mut r = Reader::new(t.body(), t.body_offset(), PayloadType::TRANSFORM);
        let number = r.u8("transform shorter than its fixed fields")?;
        let id = TransformId(r.u8("transform shorter than its fixed fields")?);
        let _reserved = r.u16("transform shorter than its fixed fields")?;
        let attributes = Attribute::parse_list(&mut r)?;
        Ok(Self {
            number,
            id,
            attributes,
        })
    }

    /// Length on the wire, generic header included.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.attributes
            .iter()
            .fold(PAYLOAD_HEADER_LEN + 4, |acc, a| {
                acc.saturating_add(a.buffer_len())
            })
    }

    fn emit(&self, last: bool, w: &mut Writer<'_>) -> Result<()> {
        let length = u16::try_from(self.buffer_len()).map_err(|_| Error::InvalidRepr {
            what: "transform longer than 65535 bytes",
        })?;
        w.u8(if last { 0 } else { PayloadType::TRANSFORM.0 })?;
        w.u8(0)?;
        w.u16(length)?;
        w.u8(self.number)?;
        w.u8(self.id.0)?;
        w.u16(0)?;
        for a in &self.attributes {
            a.emit(w)?;
        }
        Ok(())
    }
}

impl<'a> CertRepr<'a> {
    fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let encoding = CertEncoding(r.u8("certificate payload without its encoding")?);
        Ok(Self {
            encoding,
            data: r.rest(),
        })
    }
}

impl<'a> NotificationRepr<'a> {
    fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let doi = Doi(r.u32("notification shorter than its fixed fields")?);
        let protocol = ProtocolId(r.u8("notification shorter than its fixed fields")?);
        let spi_size = r.u8("notification shorter than its fixed fields")?;
        let notify_type = NotifyType(r.u16("notification shorter than its fixed fields")?);
        let spi = r.take(usize::from(spi_size), "SPI size runs past the notification")?;
        Ok(Self {
            doi,
            protocol,
            notify_type,
            spi,
            data: r.rest(),
        })
    }
}

impl<'a> DeleteRepr<'a> {
    fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let doi = Doi(r.u32("delete payload shorter than its fixed fields")?);
        let protocol = ProtocolId(r.u8("delete payload shorter than its fixed fields")?);
        let spi_size = r.u8("delete payload shorter than its fixed fields")?;
        let count = r.u16("delete payload shorter than its fixed fields")?;
        let expected = usize::from(spi_size).saturating_mul(usize::from(count));
        if r.remaining() != expected {
            return Err(r.error("SPI size times number of SPIs does not fill the delete payload"));
        }
        let mut spis = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            spis.push(r.take(usize::from(spi_size), "SPI runs past the delete payload")?);
        }
        Ok(Self {
            doi,
            protocol,
            spi_size,
            spis,
        })
    }
}

fn parse_nat_oa(r: &mut Reader<'_>) -> Result<IpAddr> {
    let id_type = IdType(r.u8("NAT-OA payload without its ID type")?);
    let _reserved = r.take(3, "NAT-OA payload shorter than its fixed fields")?;
    match id_type {
        IdType::IPV4_ADDR => {
            if r.remaining() != 4 {
                return Err(r.error("NAT-OA IPv4 address is not 4 bytes"));
            }
            Ok(IpAddr::V4(Ipv4Addr::from(r.array::<4>("NAT-OA address")?)))
        }
        IdType::IPV6_ADDR => {
            if r.remaining() != 16 {
                return Err(r.error("NAT-OA IPv6 address is not 16 bytes"));
            }
            Ok(IpAddr::V6(Ipv6Addr::from(r.array::<16>("NAT-OA address")?)))
        }
        _ => Err(Error::Malformed {
            payload: PayloadType::NAT_OA,
            offset: r.offset().saturating_sub(4),
            what: "NAT-OA ID type is neither ID_IPV4_ADDR nor ID_IPV6_ADDR",
        }),
    }
}

impl<'a> TedProxyRepr<'a> {
    fn parse(r: &mut Reader<'a>, pt: PayloadType) -> Result<Self> {
        let numbering = if pt == PayloadType::TED_PROXY {
            TedProxyNumbering::Primary
        } else {
            TedProxyNumbering::Alternate
        };
        let first = IdRepr::parse(r, false)?;
        if r.remaining() == 0 {
            return Ok(Self {
                numbering,
                initiator_proxy: None,
                responder_proxy: first,
            });
        }
        let second = IdRepr::parse(r, true)?;
        Ok(Self {
            numbering,
            initiator_proxy: Some(first),
            responder_proxy: second,
        })
    }

    fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        if let Some(first) = &self.initiator_proxy {
            if IdData::fixed_len(first.data.id_type()).is_none() {
                return Err(Error::InvalidRepr {
                    what: "TED proxy: only the last ID block may have a variable-length type",
                });
            }
            first.emit(w)?;
        }
        self.responder_proxy.emit(w)
    }
}
