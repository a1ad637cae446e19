//! Identification data of the IPsec DOI (RFC 2407 s.4.6.2), as carried by
//! the ID payload (RFC 2408 s.3.8) and by the TED proxy payload.
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !   ID Type     !  Protocol ID  !             Port              !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                     Identification Data                       ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::chain::{Reader, Writer};
use crate::error::{Error, Result};
use crate::registry::IdType;

/// Typed identification data (RFC 2407 s.4.6.2.1 to s.4.6.2.12).
///
/// Masks are kept as written (a non-contiguous mask round-trips);
/// [`IdData::prefix_len`] interprets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum IdData<'a> {
    /// ID_IPV4_ADDR.
    Ipv4Addr(Ipv4Addr),
    /// ID_FQDN: a domain name, not NUL-terminated (bytes as sent).
    Fqdn(&'a [u8]),
    /// ID_USER_FQDN: user@domain (bytes as sent).
    UserFqdn(&'a [u8]),
    /// ID_IPV4_ADDR_SUBNET: address and netmask.
    Ipv4Subnet {
        /// Network address.
        address: Ipv4Addr,
        /// Netmask.
        mask: Ipv4Addr,
    },
    /// ID_IPV6_ADDR.
    Ipv6Addr(Ipv6Addr),
    /// ID_IPV6_ADDR_SUBNET: address and netmask.
    Ipv6Subnet {
        /// Network address.
        address: Ipv6Addr,
        /// Netmask.
        mask: Ipv6Addr,
    },
    /// ID_IPV4_ADDR_RANGE: first and last address, inclusive.
    Ipv4Range {
        /// First address.
        start: Ipv4Addr,
        /// Last address.
        end: Ipv4Addr,
    },
    /// ID_IPV6_ADDR_RANGE: first and last address, inclusive.
    Ipv6Range {
        /// First address.
        start: Ipv6Addr,
        /// Last address.
        end: Ipv6Addr,
    },
    /// ID_DER_ASN1_DN: a DER-encoded X.500 distinguished name.
    DerAsn1Dn(&'a [u8]),
    /// ID_DER_ASN1_GN: a DER-encoded X.500 general name.
    DerAsn1Gn(&'a [u8]),
    /// ID_KEY_ID: opaque vendor-specific bytes.
    KeyId(&'a [u8]),
    /// Any other ID type (ID_LIST and unregistered values), opaque.
    Other {
        /// The ID type; must not be one of the typed ones above.
        id_type: IdType,
        /// The identification data.
        data: &'a [u8],
    },
}

impl<'a> IdData<'a> {
    /// The ID type this data is sent as.
    #[must_use]
    pub fn id_type(&self) -> IdType {
        match self {
            IdData::Ipv4Addr(_) => IdType::IPV4_ADDR,
            IdData::Fqdn(_) => IdType::FQDN,
            IdData::UserFqdn(_) => IdType::USER_FQDN,
            IdData::Ipv4Subnet { .. } => IdType::IPV4_ADDR_SUBNET,
            IdData::Ipv6Addr(_) => IdType::IPV6_ADDR,
            IdData::Ipv6Subnet { .. } => IdType::IPV6_ADDR_SUBNET,
            IdData::Ipv4Range { .. } => IdType::IPV4_ADDR_RANGE,
            IdData::Ipv6Range { .. } => IdType::IPV6_ADDR_RANGE,
            IdData::DerAsn1Dn(_) => IdType::DER_ASN1_DN,
            IdData::DerAsn1Gn(_) => IdType::DER_ASN1_GN,
            IdData::KeyId(_) => IdType::KEY_ID,
            IdData::Other { id_type, .. } => *id_type,
        }
    }

    /// The fixed length of the identification data for an ID type, or
    /// `None` if it is variable.
    #[must_use]
    pub const fn fixed_len(id_type: IdType) -> Option<usize> {
        match id_type {
            IdType::IPV4_ADDR => Some(4),
            IdType::IPV4_ADDR_SUBNET | IdType::IPV4_ADDR_RANGE => Some(8),
            IdType::IPV6_ADDR => Some(16),
            IdType::IPV6_ADDR_SUBNET | IdType::IPV6_ADDR_RANGE => Some(32),
            _ => None,
        }
    }

    /// Whether an ID type has a typed variant (anything else is `Other`).
    #[must_use]
    pub const fn is_typed(id_type: IdType) -> bool {
        id_type.0 >= 1 && id_type.0 <= 11
    }

    /// Length of the identification data.
    #[must_use]
    pub fn data_len(&self) -> usize {
        match self {
            IdData::Ipv4Addr(_) => 4,
            IdData::Ipv4Subnet { .. } | IdData::Ipv4Range { .. } => 8,
            IdData::Ipv6Addr(_) => 16,
            IdData::Ipv6Subnet { .. } | IdData::Ipv6Range { .. } => 32,
            IdData::Fqdn(d)
            | IdData::UserFqdn(d)
            | IdData::DerAsn1Dn(d)
            | IdData::DerAsn1Gn(d)
            | IdData::KeyId(d)
            | IdData::Other { data: d, .. } => d.len(),
        }
    }

    /// Decodes identification data of the given type; `data` is exactly
    /// the identification data (its length is checked against fixed-size
    /// types). Error offsets count from `data[0]`.
    pub fn from_bytes(id_type: IdType, data: &'a [u8]) -> Result<Self> {
        let r = Reader::new(data, 0, crate::registry::PayloadType::IDENTIFICATION);
        Self::parse(id_type, data, &r)
    }

    pub(crate) fn parse(id_type: IdType, data: &'a [u8], r: &Reader<'_>) -> Result<Self> {
        if Self::fixed_len(id_type).is_some_and(|n| data.len() != n) {
            return Err(r.error("identification data length does not match its ID type"));
        }
        let v4 = |i: usize| -> Ipv4Addr {
            let mut o = [0u8; 4];
            if let Some(s) = data.get(i..i + 4) {
                o.copy_from_slice(s);
            }
            Ipv4Addr::from(o)
        };
        let v6 = |i: usize| -> Ipv6Addr {
            let mut o = [0u8; 16];
            if let Some(s) = data.get(i..i + 16) {
                o.copy_from_slice(s);
            }
            Ipv6Addr::from(o)
        };
        Ok(match id_type {
            IdType::IPV4_ADDR => IdData::Ipv4Addr(v4(0)),
            IdType::IPV4_ADDR_SUBNET => IdData::Ipv4Subnet {
                address: v4(0),
                mask: v4(4),
            },
            IdType::IPV4_ADDR_RANGE => IdData::Ipv4Range {
                start: v4(0),
                end: v4(4),
            },
            IdType::IPV6_ADDR => IdData::Ipv6Addr(v6(0)),
            IdType::IPV6_ADDR_SUBNET => IdData::Ipv6Subnet {
                address: v6(0),
                mask: v6(16),
            },
            IdType::IPV6_ADDR_RANGE => IdData::Ipv6Range {
                start: v6(0),
                end: v6(16),
            },
            IdType::FQDN => IdData::Fqdn(data),
            IdType::USER_FQDN => IdData::UserFqdn(data),
            IdType::DER_ASN1_DN => IdData::DerAsn1Dn(data),
            IdType::DER_ASN1_GN => IdData::DerAsn1Gn(data),
            IdType::KEY_ID => IdData::KeyId(data),
            id_type => IdData::Other { id_type, data },
        })
    }

    pub(crate) fn emit_data(&self, w: &mut Writer<'_>) -> Result<()> {
        match self {
            IdData::Ipv4Addr(a) => w.put(&a.octets()),
            IdData::Ipv4Subnet { address, mask } => {
                w.put(&address.octets())?;
                w.put(&mask.octets())
            }
            IdData::Ipv4Range { start, end } => {
                w.put(&start.octets())?;
                w.put(&end.octets())
            }
            IdData::Ipv6Addr(a) => w.put(&a.octets()),
            IdData::Ipv6Subnet { address, mask } => {
                w.put(&address.octets())?;
                w.put(&mask.octets())
            }
            IdData::Ipv6Range { start, end } => {
                w.put(&start.octets())?;
                w.put(&end.octets())
            }
            IdData::Fqdn(d)
            | IdData::UserFqdn(d)
            | IdData::DerAsn1Dn(d)
            | IdData::DerAsn1Gn(d)
            | IdData::KeyId(d) => w.put(d),
            IdData::Other { id_type, data } => {
                if Self::is_typed(*id_type) {
                    return Err(Error::InvalidRepr {
                        what: "IdData::Other with a typed ID type",
                    });
                }
                w.put(data)
            }
        }
    }

    /// The single address of an ID_IPV4_ADDR or ID_IPV6_ADDR.
    #[must_use]
    pub fn address(&self) -> Option<IpAddr> {
        match self {
            IdData::Ipv4Addr(a) => Some(IpAddr::V4(*a)),
            IdData::Ipv6Addr(a) => Some(IpAddr::V6(*a)),
            _ => None,
        }
    }

    /// The prefix length of a subnet whose mask is contiguous; a single
    /// address counts as a full-length prefix.
    #[must_use]
    pub fn prefix_len(&self) -> Option<u8> {
        fn contiguous(bits: u128, width: u32) -> Option<u8> {
            let ones = bits.leading_ones();
            let shifted = bits.checked_shl(ones).unwrap_or(0);
            if shifted != 0 || ones > width {
                return None;
            }
            u8::try_from(ones).ok()
        }
        match self {
            IdData::Ipv4Addr(_) => Some(32),
            IdData::Ipv6Addr(_) => Some(128),
            IdData::Ipv4Subnet { mask, .. } => contiguous(u128::from(u32::from(*mask)) << 96, 32),
            IdData::Ipv6Subnet { mask, .. } => contiguous(u128::from(*mask), 128),
            _ => None,
        }
    }

    /// The text of an FQDN or USER_FQDN, if it is UTF-8.
    #[must_use]
    pub fn as_str(&self) -> Option<&'a str> {
        match self {
            IdData::Fqdn(d) | IdData::UserFqdn(d) => core::str::from_utf8(d).ok(),
            _ => None,
        }
    }
}

/// An ID payload body (RFC 2408 s.3.8 with the RFC 2407 s.4.6.2 DOI
/// fields), or one ID block of a TED proxy payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct IdRepr<'a> {
    /// IP protocol (0 = any; 17 = UDP for IKE's own identity).
    pub protocol: u8,
    /// Port (0 = any; 500 for IKE's own identity).
    pub port: u16,
    /// The identification data.
    pub data: IdData<'a>,
}

impl<'a> IdRepr<'a> {
    /// An identity with protocol and port 0 (any).
    #[must_use]
    pub fn new(data: IdData<'a>) -> Self {
        Self {
            protocol: 0,
            port: 0,
            data,
        }
    }

    /// Bytes on the wire: 4 + identification data.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.data.data_len().saturating_add(4)
    }

    /// Parses one ID block. With `exact`, the block fills the reader;
    /// otherwise a fixed-size type takes its size and a variable one takes
    /// the rest.
    pub(crate) fn parse(r: &mut Reader<'a>, exact: bool) -> Result<Self> {
        let id_type = IdType(r.u8("ID type missing")?);
        let protocol = r.u8("ID protocol missing")?;
        let port = r.u16("ID port missing")?;
        let data = match (exact, IdData::fixed_len(id_type)) {
            (false, Some(n)) => r.take(n, "identification data shorter than its ID type needs")?,
            _ => r.rest(),
        };
        let data = IdData::parse(id_type, data, r)?;
        Ok(Self {
            protocol,
            port,
            data,
        })
    }

    pub(crate) fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u8(self.data.id_type().0)?;
        w.u8(self.protocol)?;
        w.u16(self.port)?;
        self.data.emit_data(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::PayloadType;

    fn parse(bytes: &[u8]) -> Result<IdRepr<'_>> {
        let mut r = Reader::new(bytes, 32, PayloadType::IDENTIFICATION);
        IdRepr::parse(&mut r, true)
    }

    fn emit(id: &IdRepr<'_>) -> alloc::vec::Vec<u8> {
        let mut buf = alloc::vec![0u8; id.buffer_len()];
        let mut w = Writer::new(&mut buf, id.buffer_len());
        id.emit(&mut w).unwrap();
        buf
    }

    // Known bytes built from the RFC 2407 s.4.6.2 layout, one per ID type.
    #[test]
    fn every_id_type() {
        let cases: &[(&[u8], IdData<'_>)] = &[
            (
                &[1, 17, 0x01, 0xf4, 11, 11, 11, 1],
                IdData::Ipv4Addr(Ipv4Addr::new(11, 11, 11, 1)),
            ),
            (&[2, 0, 0, 0, b'a', b'.', b'b'], IdData::Fqdn(b"a.b")),
            (&[3, 0, 0, 0, b'u', b'@', b'b'], IdData::UserFqdn(b"u@b")),
            (
                &[4, 0, 0, 0, 13, 13, 13, 0, 255, 255, 255, 0],
                IdData::Ipv4Subnet {
                    address: Ipv4Addr::new(13, 13, 13, 0),
                    mask: Ipv4Addr::new(255, 255, 255, 0),
                },
            ),
            (
                &[
                    5, 0, 0, 0, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                ],
                IdData::Ipv6Addr(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            ),
            (
                &[
                    6, 0, 0, 0, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0,
                ],
                IdData::Ipv6Subnet {
                    address: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
                    mask: Ipv6Addr::new(0xffff, 0xffff, 0xffff, 0xffff, 0, 0, 0, 0),
                },
            ),
            (
                &[7, 6, 0, 80, 10, 0, 0, 1, 10, 0, 0, 9],
                IdData::Ipv4Range {
                    start: Ipv4Addr::new(10, 0, 0, 1),
                    end: Ipv4Addr::new(10, 0, 0, 9),
                },
            ),
            (
                &[
                    8, 0, 0, 0, 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xfe, 0x80,
                    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
                ],
                IdData::Ipv6Range {
                    start: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
                    end: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2),
                },
            ),
            (&[9, 0, 0, 0, 0x30, 0x00], IdData::DerAsn1Dn(&[0x30, 0x00])),
            (
                &[10, 0, 0, 0, 0x82, 0x01, 0x41],
                IdData::DerAsn1Gn(&[0x82, 0x01, 0x41]),
            ),
            (&[11, 0, 0, 0, 0xde, 0xad], IdData::KeyId(&[0xde, 0xad])),
            (
                &[12, 0, 0, 0, 1, 2],
                IdData::Other {
                    id_type: IdType::LIST,
                    data: &[1, 2],
                },
            ),
        ];
        for (bytes, data) in cases {
            let id = parse(bytes).unwrap();
            assert_eq!(&id.data, data, "{bytes:02x?}");
            assert_eq!(id.data.id_type().0, bytes[0]);
            assert_eq!(emit(&id), *bytes);
        }
        let first = parse(cases[0].0).unwrap();
        assert_eq!((first.protocol, first.port), (17, 500));
        assert_eq!(
            first.data.address(),
            Some(IpAddr::V4(Ipv4Addr::new(11, 11, 11, 1)))
        );
    }

    #[test]
    fn wrong_lengths() {
        assert_eq!(
            parse(&[1, 17, 1, 0xf4, 11, 11, 11]),
            Err(Error::Malformed {
                payload: PayloadType::IDENTIFICATION,
                offset: 39,
                what: "identification data length does not match its ID type"
            })
        );
        assert!(parse(&[4, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).is_err());
        assert!(parse(&[4, 0, 0]).is_err());
    }

    #[test]
    fn prefixes() {
        let s = |m: [u8; 4]| IdData::Ipv4Subnet {
            address: Ipv4Addr::UNSPECIFIED,
            mask: Ipv4Addr::from(m),
        };
        assert_eq!(s([255, 255, 255, 0]).prefix_len(), Some(24));
        assert_eq!(s([0, 0, 0, 0]).prefix_len(), Some(0));
        assert_eq!(s([255, 255, 255, 255]).prefix_len(), Some(32));
        assert_eq!(s([255, 0, 255, 0]).prefix_len(), None);
        assert_eq!(IdData::Fqdn(b"x").as_str(), Some("x"));
    }

    #[test]
    fn other_with_typed_id_type_is_rejected() {
        let id = IdRepr::new(IdData::Other {
            id_type: IdType::FQDN,
            data: b"x",
        });
        let mut buf = [0u8; 5];
        let mut w = Writer::new(&mut buf, 5);
        assert!(matches!(id.emit(&mut w), Err(Error::InvalidRepr { .. })));
    }
}
