//! The Attribute payload (type 14) of the Transaction exchange (type 6):
//! Mode-Config (draft-dukes-ike-mode-cfg-02, earlier
//! draft-ietf-ipsec-isakmp-mode-cfg-05), XAUTH (draft-beaulieu-ike-xauth-02)
//! and the Cisco Unity attributes remote-access clients and concentrators
//! exchange after phase 1.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ! Next Payload  !   RESERVED    !         Payload Length        !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !     Type      !   RESERVED    !           Identifier          !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                           Attributes                          ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! [`AttributesRepr`] reads and writes the payload's body (after the
//! generic header): the message type ([`CfgType`]: REQUEST, REPLY, SET,
//! ACK), the identifier that pairs a reply with its request, and the
//! attributes in their wire form ([`Attribute`], TV or TLV), so that every
//! attribute, known or not, survives a round trip byte for byte (the
//! reserved byte is written as zero). [`Attribute::cfg`] decodes one
//! attribute's value by its [`CfgAttributeType`]; an empty TLV is the
//! form a REQUEST uses to ask for an attribute.
//!
//! ```
//! use isakmp_wire::mode_cfg::{AttributesRepr, CfgAttributeType, CfgType, CfgValue};
//! use isakmp_wire::Attribute;
//!
//! // A client asks for an address, a netmask and DNS servers.
//! let request = AttributesRepr {
//!     cfg_type: CfgType::REQUEST,
//!     identifier: 0x1234,
//!     attributes: [
//!         CfgAttributeType::INTERNAL_IP4_ADDRESS,
//!         CfgAttributeType::INTERNAL_IP4_NETMASK,
//!         CfgAttributeType::INTERNAL_IP4_DNS,
//!     ]
//!     .iter()
//!     .map(|t| Attribute::variable(t.0, &[]))
//!     .collect(),
//! };
//! let body = request.to_vec()?;
//! let back = AttributesRepr::parse(&body)?;
//! assert_eq!(back, request);
//! assert_eq!(back.attributes[0].cfg()?, CfgValue::Requested);
//! # Ok::<(), isakmp_wire::Error>(())
//! ```

use alloc::vec::Vec;
use core::fmt;
use core::net::Ipv4Addr;

use crate::attribute::{Attribute, AttributeValue};
use crate::chain::{Reader, Writer};
use crate::error::{Error, Result};
use crate::registry::{PayloadType, registry};

registry! {
    /// The message type of an Attribute payload (draft-dukes-ike-mode-cfg-02
    /// s.3.2).
    pub struct CfgType(u8);
    /// ISAKMP_CFG_REQUEST: asks for the attributes listed.
    REQUEST = 1 => "CFG_REQUEST";
    /// ISAKMP_CFG_REPLY: answers a REQUEST.
    REPLY = 2 => "CFG_REPLY";
    /// ISAKMP_CFG_SET: pushes attributes (the server's side).
    SET = 3 => "CFG_SET";
    /// ISAKMP_CFG_ACK: acknowledges a SET.
    ACK = 4 => "CFG_ACK";
}

registry! {
    /// Attribute types of Mode-Config (draft-dukes-ike-mode-cfg-02 s.3.3,
    /// the IKEv2 numbers of RFC 7296 s.3.15.1 for 1-15), XAUTH
    /// (draft-beaulieu-ike-xauth-02 s.6.2, 16520-16529) and Cisco Unity
    /// (28672-28682), as Wireshark's ISAKMP dissector, strongSwan's
    /// `attributes.h` and libreswan name them.
    pub struct CfgAttributeType(u16);
    /// The client's internal IPv4 address.
    INTERNAL_IP4_ADDRESS = 1 => "INTERNAL_IP4_ADDRESS";
    /// The netmask of that address.
    INTERNAL_IP4_NETMASK = 2 => "INTERNAL_IP4_NETMASK";
    /// A DNS server (one attribute each).
    INTERNAL_IP4_DNS = 3 => "INTERNAL_IP4_DNS";
    /// A NetBIOS name server.
    INTERNAL_IP4_NBNS = 4 => "INTERNAL_IP4_NBNS";
    /// Seconds the address is valid.
    INTERNAL_ADDRESS_EXPIRY = 5 => "INTERNAL_ADDRESS_EXPIRY";
    /// A DHCP server.
    INTERNAL_IP4_DHCP = 6 => "INTERNAL_IP4_DHCP";
    /// The application's version string.
    APPLICATION_VERSION = 7 => "APPLICATION_VERSION";
    /// The client's internal IPv6 address.
    INTERNAL_IP6_ADDRESS = 8 => "INTERNAL_IP6_ADDRESS";
    /// The netmask of that address.
    INTERNAL_IP6_NETMASK = 9 => "INTERNAL_IP6_NETMASK";
    /// An IPv6 DNS server.
    INTERNAL_IP6_DNS = 10 => "INTERNAL_IP6_DNS";
    /// An IPv6 NetBIOS name server.
    INTERNAL_IP6_NBNS = 11 => "INTERNAL_IP6_NBNS";
    /// An IPv6 DHCP server.
    INTERNAL_IP6_DHCP = 12 => "INTERNAL_IP6_DHCP";
    /// A protected IPv4 subnet (address and mask).
    INTERNAL_IP4_SUBNET = 13 => "INTERNAL_IP4_SUBNET";
    /// The attribute types the sender supports (a list of 16-bit types).
    SUPPORTED_ATTRIBUTES = 14 => "SUPPORTED_ATTRIBUTES";
    /// A protected IPv6 subnet.
    INTERNAL_IP6_SUBNET = 15 => "INTERNAL_IP6_SUBNET";
    /// XAUTH: the authentication type (0 generic, 1 RADIUS-CHAP, 2 OTP,
    /// 3 S/KEY).
    XAUTH_TYPE = 16520 => "XAUTH_TYPE";
    /// XAUTH: the user name.
    XAUTH_USER_NAME = 16521 => "XAUTH_USER_NAME";
    /// XAUTH: the password (a secret).
    XAUTH_USER_PASSWORD = 16522 => "XAUTH_USER_PASSWORD";
    /// XAUTH: a token passcode (a secret).
    XAUTH_PASSCODE = 16523 => "XAUTH_PASSCODE";
    /// XAUTH: a message to show the user.
    XAUTH_MESSAGE = 16524 => "XAUTH_MESSAGE";
    /// XAUTH: a challenge.
    XAUTH_CHALLENGE = 16525 => "XAUTH_CHALLENGE";
    /// XAUTH: the user's domain.
    XAUTH_DOMAIN = 16526 => "XAUTH_DOMAIN";
    /// XAUTH: the outcome (1 OK, 0 FAIL), in the server's SET.
    XAUTH_STATUS = 16527 => "XAUTH_STATUS";
    /// XAUTH: a new PIN.
    XAUTH_NEXT_PIN = 16528 => "XAUTH_NEXT_PIN";
    /// XAUTH: an answer to a challenge (a secret).
    XAUTH_ANSWER = 16529 => "XAUTH_ANSWER";
    /// Cisco Unity: a banner to show the user.
    UNITY_BANNER = 28672 => "UNITY_BANNER";
    /// Cisco Unity: whether the client may save the password.
    UNITY_SAVE_PASSWD = 28673 => "UNITY_SAVE_PASSWD";
    /// Cisco Unity: the default DNS domain.
    UNITY_DEF_DOMAIN = 28674 => "UNITY_DEF_DOMAIN";
    /// Cisco Unity: split DNS domain names (comma-separated).
    UNITY_SPLITDNS_NAME = 28675 => "UNITY_SPLITDNS_NAME";
    /// Cisco Unity: the networks to send through the tunnel (split
    /// include: 14-byte entries of address, mask, protocol, ports).
    UNITY_SPLIT_INCLUDE = 28676 => "UNITY_SPLIT_INCLUDE";
    /// Cisco Unity: the NAT-T port.
    UNITY_NATT_PORT = 28677 => "UNITY_NATT_PORT";
    /// Cisco Unity: local networks that stay outside the tunnel.
    UNITY_LOCAL_LAN = 28678 => "UNITY_LOCAL_LAN";
    /// Cisco Unity: whether Quick Mode uses PFS.
    UNITY_PFS = 28679 => "UNITY_PFS";
    /// Cisco Unity: the firewall type required.
    UNITY_FW_TYPE = 28680 => "UNITY_FW_TYPE";
    /// Cisco Unity: backup concentrators.
    UNITY_BACKUP_SERVERS = 28681 => "UNITY_BACKUP_SERVERS";
    /// Cisco Unity: the client's DDNS host name.
    UNITY_DDNS_HOSTNAME = 28682 => "UNITY_DDNS_HOSTNAME";
}

impl CfgAttributeType {
    /// Whether the value is a secret (a password, passcode or answer):
    /// callers keep it in zeroizing storage and never log it.
    #[must_use]
    pub const fn is_secret(self) -> bool {
        matches!(self.0, 16522 | 16523 | 16529)
    }
}

/// One Unity split-network entry (UNITY_SPLIT_INCLUDE, UNITY_LOCAL_LAN):
/// an IPv4 network, then protocol and ports (zero for any).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SplitNetwork {
    /// The network address.
    pub address: Ipv4Addr,
    /// Its mask.
    pub mask: Ipv4Addr,
    /// IP protocol (0: any).
    pub protocol: u8,
    /// Source port (0: any).
    pub source_port: u16,
    /// Destination port (0: any).
    pub destination_port: u16,
}

impl SplitNetwork {
    /// Bytes of one entry on the wire: address 4, mask 4, protocol 1,
    /// source port 2, destination port 2, then one byte that is not
    /// interpreted.
    pub const WIRE_LEN: usize = 14;

    /// The wire form of one entry.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; Self::WIRE_LEN] {
        let mut b = [0u8; Self::WIRE_LEN];
        let mut w = Writer::new(&mut b, Self::WIRE_LEN);
        // A 14-byte buffer holds the 13 bytes written: no error.
        let _ = w.put(&self.address.octets());
        let _ = w.put(&self.mask.octets());
        let _ = w.u8(self.protocol);
        let _ = w.u16(self.source_port);
        let _ = w.u16(self.destination_port);
        b
    }
}

/// An attribute's value, decoded by its type ([`Attribute::cfg`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CfgValue<'a> {
    /// An empty TLV: in a REQUEST, "send me this"; in an ACK, "accepted".
    Requested,
    /// An IPv4 address (INTERNAL_IP4_ADDRESS, _NETMASK, _DNS, _NBNS, _DHCP).
    Ipv4(Ipv4Addr),
    /// INTERNAL_IP4_SUBNET: address and mask.
    Ipv4Subnet {
        /// The network address.
        address: Ipv4Addr,
        /// Its mask.
        mask: Ipv4Addr,
    },
    /// A number (INTERNAL_ADDRESS_EXPIRY, XAUTH_TYPE, XAUTH_STATUS, the
    /// Unity flags and NAT-T port), TV or TLV of up to 4 bytes.
    Number(u32),
    /// Text or opaque bytes (APPLICATION_VERSION, the XAUTH strings, the
    /// Unity names and banner, IPv6 values, unknown types).
    Bytes(&'a [u8]),
    /// SUPPORTED_ATTRIBUTES: the types listed.
    Types(Vec<CfgAttributeType>),
    /// UNITY_SPLIT_INCLUDE / UNITY_LOCAL_LAN: the networks.
    Networks(Vec<SplitNetwork>),
}

impl Attribute<'_> {
    /// Decodes this attribute as a Mode-Config / XAUTH / Unity one, by
    /// its type (see [`CfgValue`]).
    ///
    /// # Errors
    /// [`Error::Malformed`] when the value's length does not fit its type
    /// (an address that is not 4 bytes, a subnet not 8, a number over 4
    /// bytes, a type list of odd length, a split list not a multiple of 14).
    pub fn cfg(&self) -> Result<CfgValue<'_>> {
        let t = CfgAttributeType(self.attribute_type);
        let bytes: &[u8] = match &self.value {
            AttributeValue::Basic(v) => return Ok(CfgValue::Number(u32::from(*v))),
            AttributeValue::Variable(b) => b,
        };
        if bytes.is_empty() {
            return Ok(CfgValue::Requested);
        }
        let invalid = |what: &'static str| Error::Malformed {
            payload: PayloadType::ATTRIBUTE,
            offset: 0,
            what,
        };
        match t {
            CfgAttributeType::INTERNAL_IP4_ADDRESS
            | CfgAttributeType::INTERNAL_IP4_NETMASK
            | CfgAttributeType::INTERNAL_IP4_DNS
            | CfgAttributeType::INTERNAL_IP4_NBNS
            | CfgAttributeType::INTERNAL_IP4_DHCP => <[u8; 4]>::try_from(bytes)
                .map(|a| CfgValue::Ipv4(Ipv4Addr::from(a)))
                .map_err(|_| invalid("an IPv4 attribute that is not 4 bytes")),
            CfgAttributeType::INTERNAL_IP4_SUBNET => match <[u8; 8]>::try_from(bytes) {
                Ok([a, b, c, d, e, f, g, h]) => Ok(CfgValue::Ipv4Subnet {
                    address: Ipv4Addr::new(a, b, c, d),
                    mask: Ipv4Addr::new(e, f, g, h),
                }),
                Err(_) => Err(invalid("INTERNAL_IP4_SUBNET that is not 8 bytes")),
            },
            CfgAttributeType::INTERNAL_ADDRESS_EXPIRY
            | CfgAttributeType::XAUTH_TYPE
            | CfgAttributeType::XAUTH_STATUS
            | CfgAttributeType::UNITY_SAVE_PASSWD
            | CfgAttributeType::UNITY_NATT_PORT
            | CfgAttributeType::UNITY_PFS => {
                if bytes.len() > 4 {
                    return Err(invalid("a number attribute of more than 4 bytes"));
                }
                Ok(CfgValue::Number(
                    bytes.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)),
                ))
            }
            CfgAttributeType::SUPPORTED_ATTRIBUTES => {
                if !bytes.len().is_multiple_of(2) {
                    return Err(invalid("SUPPORTED_ATTRIBUTES of odd length"));
                }
                Ok(CfgValue::Types(
                    bytes
                        .chunks_exact(2)
                        .map(|c| match c {
                            [h, l] => CfgAttributeType(u16::from_be_bytes([*h, *l])),
                            _ => CfgAttributeType(0),
                        })
                        .collect(),
                ))
            }
            CfgAttributeType::UNITY_SPLIT_INCLUDE | CfgAttributeType::UNITY_LOCAL_LAN => {
                if !bytes.len().is_multiple_of(SplitNetwork::WIRE_LEN) {
                    return Err(invalid("a split network list not made of 14-byte entries"));
                }
                let mut out = Vec::with_capacity(bytes.len() / SplitNetwork::WIRE_LEN);
                for entry in bytes.chunks_exact(SplitNetwork::WIRE_LEN) {
                    let mut r = Reader::new(entry, 0, PayloadType::ATTRIBUTE);
                    out.push(SplitNetwork {
                        address: Ipv4Addr::from(r.array::<4>("split entry")?),
                        mask: Ipv4Addr::from(r.array::<4>("split entry")?),
                        protocol: r.u8("split entry")?,
                        source_port: r.u16("split entry")?,
                        destination_port: r.u16("split entry")?,
                    });
                }
                Ok(CfgValue::Networks(out))
            }
            _ => Ok(CfgValue::Bytes(bytes)),
        }
    }
}

/// The body of an Attribute payload: message type, identifier, attributes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttributesRepr<'a> {
    /// REQUEST, REPLY, SET or ACK.
    pub cfg_type: CfgType,
    /// Pairs a REPLY with its REQUEST, an ACK with its SET.
    pub identifier: u16,
    /// The attributes, in order, in their wire form.
    pub attributes: Vec<Attribute<'a>>,
}

impl<'a> AttributesRepr<'a> {
    /// Parses a payload body (after the 4-byte generic header). The
    /// reserved byte is accepted whatever it holds.
    ///
    /// # Errors
    /// [`Error::Malformed`] for a body shorter than its 4-byte header or
    /// an attribute that runs past the body.
    pub fn parse(body: &'a [u8]) -> Result<Self> {
        let mut r = Reader::new(body, 0, PayloadType::ATTRIBUTE);
        let cfg_type = CfgType(r.u8("attribute payload header truncated")?);
        let _reserved = r.u8("attribute payload header truncated")?;
        let identifier = r.u16("attribute payload header truncated")?;
        let attributes = Attribute::parse_list(&mut r)?;
        Ok(Self {
            cfg_type,
            identifier,
            attributes,
        })
    }

    /// Bytes [`emit`](Self::emit) writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.attributes
            .iter()
            .fold(4usize, |n, a| n.saturating_add(a.buffer_len()))
    }

    /// Writes the body into `buf`; returns the bytes written.
    ///
    /// # Errors
    /// [`Error::BufferTooSmall`], or the error of an attribute the wire
    /// cannot carry (a type with the AF bit, a TLV over 65535 bytes).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let mut w = Writer::new(buf, self.buffer_len());
        w.u8(self.cfg_type.0)?;
        w.u8(0)?;
        w.u16(self.identifier)?;
        for a in &self.attributes {
            a.emit(&mut w)?;
        }
        Ok(w.pos())
    }

    /// The body as a new vector.
    ///
    /// # Errors
    /// As [`emit`](Self::emit).
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut out = alloc::vec![0u8; self.buffer_len()];
        let n = self.emit(&mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server's XAUTH request and a client's reply, written out by hand
    /// from draft-beaulieu-ike-xauth-02 s.6.2's layout (type, reserved,
    /// identifier; TV XAUTH_TYPE; empty TLVs; TLVs with values).
    #[test]
    fn xauth_request_and_reply_bytes() {
        let request: &[u8] = &[
            1, 0, 0x00, 0x2a, // CFG_REQUEST, identifier 42
            0xc0, 0x88, 0x00, 0x00, // TV XAUTH_TYPE (16520 | AF) = 0 (generic)
            0x40, 0x89, 0x00, 0x00, // TLV XAUTH_USER_NAME, empty
            0x40, 0x8a, 0x00, 0x00, // TLV XAUTH_USER_PASSWORD, empty
        ];
        let r = AttributesRepr::parse(request).unwrap();
        assert_eq!(r.cfg_type, CfgType::REQUEST);
        assert_eq!(r.identifier, 42);
        assert_eq!(r.attributes.len(), 3);
        assert_eq!(
            r.attributes[0].attribute_type,
            CfgAttributeType::XAUTH_TYPE.0
        );
        assert_eq!(r.attributes[0].cfg().unwrap(), CfgValue::Number(0));
        assert_eq!(r.attributes[1].cfg().unwrap(), CfgValue::Requested);
        assert!(CfgAttributeType(r.attributes[2].attribute_type).is_secret());
        assert_eq!(r.to_vec().unwrap(), request);
        let reply: &[u8] = &[
            2, 0, 0x00, 0x2a, // CFG_REPLY, identifier 42
            0x40, 0x89, 0x00, 0x03, b'b', b'o', b'b', // user name "bob"
            0x40, 0x8a, 0x00, 0x02, b'p', b'w', // password "pw"
        ];
        let r = AttributesRepr::parse(reply).unwrap();
        assert_eq!(r.attributes[0].cfg().unwrap(), CfgValue::Bytes(b"bob"));
        assert_eq!(r.to_vec().unwrap(), reply);
    }

    #[test]
    fn mode_config_reply_and_unity_values() {
        let split = SplitNetwork {
            address: Ipv4Addr::new(10, 1, 0, 0),
            mask: Ipv4Addr::new(255, 255, 0, 0),
            protocol: 0,
            source_port: 0,
            destination_port: 0,
        };
        let mut splits = split.to_bytes().to_vec();
        splits.extend_from_slice(
            &SplitNetwork {
                address: Ipv4Addr::new(192, 168, 5, 0),
                protocol: 6,
                destination_port: 443,
                ..split
            }
            .to_bytes(),
        );
        let subnet = [10, 2, 0, 0, 255, 255, 255, 0];
        let supported = [0, 1, 0x70, 0x04];
        let reply = AttributesRepr {
            cfg_type: CfgType::REPLY,
            identifier: 7,
            attributes: alloc::vec![
                Attribute::variable(CfgAttributeType::INTERNAL_IP4_ADDRESS.0, &[10, 9, 9, 5]),
                Attribute::variable(CfgAttributeType::INTERNAL_IP4_SUBNET.0, &subnet),
                Attribute::variable(
                    CfgAttributeType::INTERNAL_ADDRESS_EXPIRY.0,
                    &[0, 0, 0x0e, 0x10]
                ),
                Attribute::variable(CfgAttributeType::SUPPORTED_ATTRIBUTES.0, &supported),
                Attribute::variable(CfgAttributeType::UNITY_SPLIT_INCLUDE.0, &splits),
                Attribute::basic(CfgAttributeType::UNITY_PFS.0, 1),
                // An attribute no one knows: kept as it is.
                Attribute::variable(0x6000, b"vendor"),
            ],
        };
        let bytes = reply.to_vec().unwrap();
        // The header, by hand: REPLY, reserved, identifier 7.
        assert_eq!(&bytes[..4], &[2, 0, 0, 7]);
        let back = AttributesRepr::parse(&bytes).unwrap();
        assert_eq!(back, reply);
        let values: Vec<CfgValue<'_>> = back.attributes.iter().map(|a| a.cfg().unwrap()).collect();
        assert_eq!(values[0], CfgValue::Ipv4(Ipv4Addr::new(10, 9, 9, 5)));
        assert_eq!(
            values[1],
            CfgValue::Ipv4Subnet {
                address: Ipv4Addr::new(10, 2, 0, 0),
                mask: Ipv4Addr::new(255, 255, 255, 0)
            }
        );
        assert_eq!(values[2], CfgValue::Number(3600));
        assert_eq!(
            values[3],
            CfgValue::Types(alloc::vec![
                CfgAttributeType::INTERNAL_IP4_ADDRESS,
                CfgAttributeType::UNITY_SPLIT_INCLUDE
            ])
        );
        let CfgValue::Networks(n) = &values[4] else {
            panic!("{:?}", values[4])
        };
        assert_eq!(n.len(), 2);
        assert_eq!(n[1].address, Ipv4Addr::new(192, 168, 5, 0));
        assert_eq!((n[1].protocol, n[1].destination_port), (6, 443));
        // The entry layout, by hand: address, mask, protocol, ports.
        assert_eq!(
            &splits[14..27],
            &[192, 168, 5, 0, 255, 255, 0, 0, 6, 0, 0, 1, 0xbb]
        );
        assert_eq!(values[5], CfgValue::Number(1));
        assert_eq!(values[6], CfgValue::Bytes(b"vendor"));
    }

    #[test]
    fn bad_values_and_bodies_are_errors() {
        let bad = |t: CfgAttributeType, v: &[u8]| Attribute::variable(t.0, v).cfg().is_err();
        assert!(bad(CfgAttributeType::INTERNAL_IP4_ADDRESS, &[1, 2, 3]));
        assert!(bad(CfgAttributeType::INTERNAL_IP4_SUBNET, &[1, 2, 3, 4]));
        assert!(bad(CfgAttributeType::INTERNAL_ADDRESS_EXPIRY, &[0; 5]));
        assert!(bad(CfgAttributeType::SUPPORTED_ATTRIBUTES, &[0; 3]));
        assert!(bad(CfgAttributeType::UNITY_SPLIT_INCLUDE, &[0; 13]));
        // Bodies: shorter than the header; an attribute past the end.
        assert!(AttributesRepr::parse(&[1, 0, 0]).is_err());
        assert!(AttributesRepr::parse(&[1, 0, 0, 1, 0x40, 0x89, 0x00, 0x05, b'x']).is_err());
        // The reserved byte is read whatever it holds and written as zero.
        let r = AttributesRepr::parse(&[4, 0xff, 0, 1]).unwrap();
        assert_eq!((r.cfg_type, r.attributes.len()), (CfgType::ACK, 0));
        assert_eq!(r.to_vec().unwrap(), [4, 0, 0, 1]);
        // A buffer too small is an error, not a panic.
        let mut small = [0u8; 3];
        assert!(r.emit(&mut small).is_err());
    }
}
