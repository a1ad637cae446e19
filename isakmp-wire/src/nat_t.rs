//! What NAT traversal puts on the wire besides payloads: the NAT-T
//! versions a vendor ID announces (RFC 3947 s.3.1 and its drafts), and
//! the three kinds of datagram that share UDP port 4500 (RFC 3948 s.2).
//!
//! The NAT-D and NAT-OA payloads themselves are [`PayloadRepr::NatD`] and
//! [`PayloadRepr::NatOa`](crate::PayloadRepr::NatOa) (numbers 20/21, or
//! 130/131 under the drafts, see [`NatTNumbering`]); the UDP-encapsulated
//! encapsulation modes are [`EncapsulationMode::UDP_TUNNEL`] and its
//! siblings.
//!
//! # Port 4500
//!
//! Once two peers have moved to port 4500, IKE messages and ESP packets
//! arrive on the same UDP socket. RFC 3948 s.2 tells them apart by the
//! first four bytes of the UDP payload: an ESP packet starts with its SPI,
//! which is never zero, so IKE messages are sent after four zero bytes
//! (the *non-ESP marker*); a payload of the single byte `0xFF` is a NAT
//! keepalive, sent only to keep a NAT's mapping open and discarded by the
//! receiver. [`classify`] makes that decision, and [`with_marker`]
//! prepends the marker to an IKE message sent on port 4500.
//!
//! ```
//! use isakmp_wire::nat_t::{classify, with_marker, Udp4500};
//!
//! let ike = [0x11u8; 28]; // an ISAKMP header, say
//! let datagram = with_marker(&ike);
//! assert_eq!(classify(&datagram), Ok(Udp4500::Ike(&ike[..])));
//! assert_eq!(classify(&[0xff]), Ok(Udp4500::Keepalive));
//! let esp = [0, 0, 0x12, 0x34, 0, 0, 0, 1, 0xaa];
//! assert_eq!(classify(&esp), Ok(Udp4500::Esp(&esp[..])));
//! ```
//!
//! [`PayloadRepr::NatD`]: crate::PayloadRepr::NatD
//! [`NatTNumbering`]: crate::NatTNumbering
//! [`EncapsulationMode::UDP_TUNNEL`]: crate::EncapsulationMode::UDP_TUNNEL

use alloc::vec::Vec;

use crate::registry::EncapsulationMode;
use crate::vendor;
use crate::{NatTNumbering, PayloadType};

/// The port IKE moves to once NAT traversal is negotiated, and on which
/// UDP-encapsulated ESP travels (RFC 3947 s.4, RFC 3948 s.2).
pub const NAT_T_PORT: u16 = 4500;

/// The non-ESP marker: four zero bytes before an IKE message on port 4500
/// (RFC 3948 s.2.2).
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// The one byte of a NAT keepalive (RFC 3948 s.2.3).
pub const NAT_KEEPALIVE: u8 = 0xff;

/// The shortest ESP packet that can be told from the rest: SPI and
/// sequence number (RFC 4303 s.2).
pub const MIN_ESP_LEN: usize = 8;

/// What a UDP payload received on port 4500 carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Udp4500<'a> {
    /// An IKE message: the bytes after the non-ESP marker.
    Ike(&'a [u8]),
    /// A NAT keepalive, to be discarded.
    Keepalive,
    /// An ESP packet (SPI to ICV), the whole payload.
    Esp(&'a [u8]),
}

/// Why a UDP payload on port 4500 is none of the three.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Udp4500Error {
    /// The payload is empty.
    #[error("empty UDP payload on the NAT-T port")]
    Empty,
    /// Shorter than the non-ESP marker and not a keepalive (1 to 3 bytes).
    #[error("truncated non-ESP marker: {len} bytes")]
    TruncatedMarker {
        /// The payload's length.
        len: usize,
    },
    /// The non-ESP marker with nothing after it.
    #[error("non-ESP marker without an IKE message")]
    MarkerOnly,
    /// A non-zero SPI, but shorter than an ESP header (SPI and sequence
    /// number).
    #[error("truncated ESP packet: {len} bytes")]
    TruncatedEsp {
        /// The payload's length.
        len: usize,
    },
}

/// Tells what a UDP payload received on port 4500 carries (RFC 3948
/// s.2): the single byte `0xFF` is a keepalive, four zero bytes start an
/// IKE message, anything else of at least [`MIN_ESP_LEN`] bytes is ESP.
///
/// # Errors
/// [`Udp4500Error`] for a payload that is none of them.
pub fn classify(payload: &[u8]) -> Result<Udp4500<'_>, Udp4500Error> {
    match payload {
        [] => Err(Udp4500Error::Empty),
        [NAT_KEEPALIVE] => Ok(Udp4500::Keepalive),
        [_, _, _] | [_, _] | [_] => Err(Udp4500Error::TruncatedMarker { len: payload.len() }),
        [0, 0, 0, 0] => Err(Udp4500Error::MarkerOnly),
        [0, 0, 0, 0, ike @ ..] => Ok(Udp4500::Ike(ike)),
        esp if esp.len() < MIN_ESP_LEN => Err(Udp4500Error::TruncatedEsp { len: esp.len() }),
        esp => Ok(Udp4500::Esp(esp)),
    }
}

/// An IKE message as it is sent on port 4500: the non-ESP marker, then
/// the message.
#[must_use]
pub fn with_marker(ike: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ike.len().saturating_add(NON_ESP_MARKER.len()));
    out.extend_from_slice(&NON_ESP_MARKER);
    out.extend_from_slice(ike);
    out
}

/// A version of NAT traversal a vendor ID announces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum NatTVersion {
    /// draft-ietf-ipsec-nat-t-ike-00 or -01: NAT-D without the port
    /// float; recognised, not negotiated.
    Draft00,
    /// draft-ietf-ipsec-nat-t-ike-02 (either hash of its name).
    Draft02,
    /// draft-ietf-ipsec-nat-t-ike-03.
    Draft03,
    /// RFC 3947.
    Rfc3947,
}

impl NatTVersion {
    /// Whether this version floats to port 4500 and uses the payload
    /// numbers and encapsulation modes of [`Self::numbering`] (the
    /// drafts from -02 on, and the RFC).
    #[must_use]
    pub const fn floats(self) -> bool {
        !matches!(self, NatTVersion::Draft00)
    }

    /// The NAT-D and NAT-OA payload numbers this version uses.
    #[must_use]
    pub const fn numbering(self) -> NatTNumbering {
        match self {
            NatTVersion::Rfc3947 => NatTNumbering::Rfc3947,
            _ => NatTNumbering::Draft,
        }
    }

    /// The NAT-D payload type of this version.
    #[must_use]
    pub const fn nat_d(self) -> PayloadType {
        match self.numbering() {
            NatTNumbering::Rfc3947 => PayloadType::NAT_D,
            NatTNumbering::Draft => PayloadType::NAT_D_DRAFT,
        }
    }

    /// The UDP-encapsulated mode this version sends for tunnel (`true`) or
    /// transport mode.
    #[must_use]
    pub const fn udp_mode(self, tunnel: bool) -> EncapsulationMode {
        match (self.numbering(), tunnel) {
            (NatTNumbering::Rfc3947, true) => EncapsulationMode::UDP_TUNNEL,
            (NatTNumbering::Rfc3947, false) => EncapsulationMode::UDP_TRANSPORT,
            (NatTNumbering::Draft, true) => EncapsulationMode::UDP_TUNNEL_DRAFT,
            (NatTNumbering::Draft, false) => EncapsulationMode::UDP_TRANSPORT_DRAFT,
        }
    }

    /// The vendor ID this version is announced with (for the drafts -02,
    /// the hash without the newline).
    #[must_use]
    pub const fn vendor_id(self) -> &'static [u8] {
        match self {
            NatTVersion::Draft00 => vendor::NAT_T_DRAFT_00,
            NatTVersion::Draft02 => vendor::NAT_T_DRAFT_02,
            NatTVersion::Draft03 => vendor::NAT_T_DRAFT_03,
            NatTVersion::Rfc3947 => vendor::NAT_T_RFC3947,
        }
    }

    /// The NAT-T version a vendor ID announces, if it is one of them.
    /// Both hashes of draft -02 (with and without a trailing newline) are
    /// -02; -00 and -01 are [`NatTVersion::Draft00`]; the drafts -04 to
    /// -08, which no shipping implementation negotiates, are not matched.
    #[must_use]
    pub fn from_vendor_id(vid: &[u8]) -> Option<Self> {
        if vid == vendor::NAT_T_RFC3947 {
            Some(NatTVersion::Rfc3947)
        } else if vid == vendor::NAT_T_DRAFT_03 {
            Some(NatTVersion::Draft03)
        } else if vid == vendor::NAT_T_DRAFT_02 || vid == vendor::NAT_T_DRAFT_02_N {
            Some(NatTVersion::Draft02)
        } else if vid == vendor::NAT_T_DRAFT_00 || vid == vendor::NAT_T_DRAFT_01 {
            Some(NatTVersion::Draft00)
        } else {
            None
        }
    }

    /// Whether an encapsulation mode is one of the UDP-encapsulated ones
    /// (RFC or draft numbers).
    #[must_use]
    pub const fn is_udp_mode(mode: EncapsulationMode) -> bool {
        matches!(mode.0, 3 | 4 | 61443 | 61444)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_every_shape() {
        assert_eq!(classify(&[]), Err(Udp4500Error::Empty));
        assert_eq!(classify(&[0xff]), Ok(Udp4500::Keepalive));
        assert_eq!(
            classify(&[0]),
            Err(Udp4500Error::TruncatedMarker { len: 1 })
        );
        assert_eq!(
            classify(&[0xff, 0xff]),
            Err(Udp4500Error::TruncatedMarker { len: 2 })
        );
        assert_eq!(
            classify(&[0, 0, 0]),
            Err(Udp4500Error::TruncatedMarker { len: 3 })
        );
        assert_eq!(classify(&[0, 0, 0, 0]), Err(Udp4500Error::MarkerOnly));
        assert_eq!(classify(&[0, 0, 0, 0, 7]), Ok(Udp4500::Ike(&[7][..])));
        assert_eq!(
            classify(&[0, 0, 0, 1, 0, 0, 0]),
            Err(Udp4500Error::TruncatedEsp { len: 7 })
        );
        let esp = [0, 0, 0, 1, 0, 0, 0, 1];
        assert_eq!(classify(&esp), Ok(Udp4500::Esp(&esp[..])));
        // A marker whose later bytes are zero is still IKE, whatever follows.
        assert_eq!(
            classify(&[0, 0, 0, 0, 0, 0, 0, 0]),
            Ok(Udp4500::Ike(&[0, 0, 0, 0][..]))
        );
    }

    #[test]
    fn marker_round_trip() {
        let m = with_marker(b"abc");
        assert_eq!(&m[..4], &NON_ESP_MARKER);
        assert_eq!(classify(&m), Ok(Udp4500::Ike(&b"abc"[..])));
    }

    #[test]
    fn versions_from_vendor_ids() {
        assert_eq!(
            NatTVersion::from_vendor_id(vendor::NAT_T_RFC3947),
            Some(NatTVersion::Rfc3947)
        );
        assert_eq!(
            NatTVersion::from_vendor_id(vendor::NAT_T_DRAFT_02_N),
            Some(NatTVersion::Draft02)
        );
        assert_eq!(
            NatTVersion::from_vendor_id(vendor::NAT_T_DRAFT_01),
            Some(NatTVersion::Draft00)
        );
        assert_eq!(NatTVersion::from_vendor_id(vendor::NAT_T_DRAFT_08), None);
        assert_eq!(NatTVersion::from_vendor_id(vendor::DPD), None);
        for v in [
            NatTVersion::Draft00,
            NatTVersion::Draft02,
            NatTVersion::Draft03,
            NatTVersion::Rfc3947,
        ] {
            assert_eq!(NatTVersion::from_vendor_id(v.vendor_id()), Some(v));
        }
        assert!(NatTVersion::Rfc3947 > NatTVersion::Draft03);
        assert_eq!(NatTVersion::Rfc3947.nat_d(), PayloadType::NAT_D);
        assert_eq!(NatTVersion::Draft02.nat_d(), PayloadType::NAT_D_DRAFT);
        assert_eq!(
            NatTVersion::Draft03.udp_mode(true),
            EncapsulationMode::UDP_TUNNEL_DRAFT
        );
        assert_eq!(
            NatTVersion::Rfc3947.udp_mode(false),
            EncapsulationMode::UDP_TRANSPORT
        );
        assert!(NatTVersion::is_udp_mode(
            EncapsulationMode::UDP_TRANSPORT_DRAFT
        ));
        assert!(!NatTVersion::is_udp_mode(EncapsulationMode::TUNNEL));
    }
}
