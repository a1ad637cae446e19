//! The fixed ISAKMP header (RFC 2408 s.3.1) and the generic payload header
//! (RFC 2408 s.3.2), as zerocopy structs.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Initiator                            !
//! !                            Cookie                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Responder                            !
//! !                            Cookie                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                          Message ID                           !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !                            Length                             !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bitflags::bitflags;
use zerocopy::network_endian::{U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::error::{Error, Result};
use crate::registry::{ExchangeType, PayloadType};

/// Length of the ISAKMP header.
pub const HEADER_LEN: usize = 28;
/// Length of the generic payload header.
pub const PAYLOAD_HEADER_LEN: usize = 4;

/// An ISAKMP cookie (RFC 2408 s.2.5.3).
pub type Cookie = [u8; 8];

bitflags! {
    /// Header flags (RFC 2408 s.3.1). Bits this crate does not name are kept.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct Flags: u8 {
        /// E: the payloads after the header are encrypted.
        const ENCRYPTION = 0x01;
        /// C: commit (key exchange synchronisation).
        const COMMIT = 0x02;
        /// A: authentication only (RFC 2408 s.4.6).
        const AUTH_ONLY = 0x04;
    }
}

/// The 28-byte ISAKMP header, laid out as on the wire.
///
/// A zerocopy cast gives the bytes a shape, not a meaning: after a cast,
/// [`Header::check`] (or [`crate::Message::new_checked`]) validates length
/// and version.
#[derive(FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Header {
    initiator_cookie: [u8; 8],
    responder_cookie: [u8; 8],
    next_payload: u8,
    version: u8,
    exchange_type: u8,
    flags: u8,
    message_id: U32,
    length: U32,
}

impl core::fmt::Debug for Header {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Header")
            .field("initiator_cookie", &Hex(&self.initiator_cookie))
            .field("responder_cookie", &Hex(&self.responder_cookie))
            .field("next_payload", &self.next_payload())
            .field("version", &format_args!("{:#04x}", self.version))
            .field("exchange_type", &self.exchange_type())
            .field("flags", &self.flags())
            .field("message_id", &format_args!("{:#010x}", self.message_id()))
            .field("length", &self.length())
            .finish()
    }
}

pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl core::fmt::Debug for Hex<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl Header {
    /// Reads the header from the start of `bytes` (no semantic check).
    pub fn read(bytes: &[u8]) -> Result<Self> {
        Self::read_from_prefix(bytes)
            .map(|(header, _)| header)
            .map_err(|_| Error::HeaderTruncated { len: bytes.len() })
    }

    /// Checks the semantic rules against a datagram of `available` bytes:
    /// major version 1, `28 <= length <= available`.
    pub fn check(&self, available: usize) -> Result<()> {
        if self.major_version() != 1 {
            return Err(Error::UnsupportedVersion {
                major: self.major_version(),
            });
        }
        let length = self.length();
        if (length as usize) < HEADER_LEN {
            return Err(Error::HeaderLengthTooSmall { length });
        }
        if usize::try_from(length).map_or(true, |l| l > available) {
            return Err(Error::HeaderLengthTooLarge { length, available });
        }
        Ok(())
    }

    /// The initiator cookie.
    #[must_use]
    pub fn initiator_cookie(&self) -> Cookie {
        self.initiator_cookie
    }
    /// The responder cookie.
    #[must_use]
    pub fn responder_cookie(&self) -> Cookie {
        self.responder_cookie
    }
    /// The type of the first payload.
    #[must_use]
    pub fn next_payload(&self) -> PayloadType {
        PayloadType(self.next_payload)
    }
    /// The version byte (major in the high nibble).
    #[must_use]
    pub fn version(&self) -> u8 {
        self.version
    }
    /// The major version.
    #[must_use]
    pub fn major_version(&self) -> u8 {
        self.version >> 4
    }
    /// The minor version.
    #[must_use]
    pub fn minor_version(&self) -> u8 {
        self.version & 0x0f
    }
    /// The exchange type.
    #[must_use]
    pub fn exchange_type(&self) -> ExchangeType {
        ExchangeType(self.exchange_type)
    }
    /// The flags, unknown bits included.
    #[must_use]
    pub fn flags(&self) -> Flags {
        Flags::from_bits_retain(self.flags)
    }
    /// The message ID.
    #[must_use]
    pub fn message_id(&self) -> u32 {
        self.message_id.get()
    }
    /// The total message length, header included.
    #[must_use]
    pub fn length(&self) -> u32 {
        self.length.get()
    }

    /// Sets the initiator cookie.
    pub fn set_initiator_cookie(&mut self, value: Cookie) {
        self.initiator_cookie = value;
    }
    /// Sets the responder cookie.
    pub fn set_responder_cookie(&mut self, value: Cookie) {
        self.responder_cookie = value;
    }
    /// Sets the first payload type.
    pub fn set_next_payload(&mut self, value: PayloadType) {
        self.next_payload = value.0;
    }
    /// Sets the version byte.
    pub fn set_version(&mut self, value: u8) {
        self.version = value;
    }
    /// Sets the exchange type.
    pub fn set_exchange_type(&mut self, value: ExchangeType) {
        self.exchange_type = value.0;
    }
    /// Sets the flags.
    pub fn set_flags(&mut self, value: Flags) {
        self.flags = value.bits();
    }
    /// Sets the message ID.
    pub fn set_message_id(&mut self, value: u32) {
        self.message_id = U32::new(value);
    }
    /// Sets the length.
    pub fn set_length(&mut self, value: u32) {
        self.length = U32::new(value);
    }
}

/// The 4-byte generic payload header (RFC 2408 s.3.2).
#[derive(
    FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned, Clone, Copy, Debug, PartialEq, Eq,
)]
#[repr(C)]
pub struct GenericPayloadHeader {
    next_payload: u8,
    reserved: u8,
    length: U16,
}

impl GenericPayloadHeader {
    /// A header with the given fields and a zero reserved byte.
    #[must_use]
    pub fn new(next_payload: PayloadType, length: u16) -> Self {
        Self {
            next_payload: next_payload.0,
            reserved: 0,
            length: U16::new(length),
        }
    }
    /// The type of the following payload.
    #[must_use]
    pub fn next_payload(&self) -> PayloadType {
        PayloadType(self.next_payload)
    }
    /// The reserved byte (zero in a well-formed message).
    #[must_use]
    pub fn reserved(&self) -> u8 {
        self.reserved
    }
    /// The payload length, generic header included.
    #[must_use]
    pub fn length(&self) -> u16 {
        self.length.get()
    }
}

/// The owned, semantic form of the header, without the fields `emit`
/// computes (next payload and length).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct HeaderRepr {
    /// Initiator cookie.
    pub initiator_cookie: Cookie,
    /// Responder cookie (zero in the first message of an exchange).
    pub responder_cookie: Cookie,
    /// Minor version (0 for RFC 2408); the major version is always 1.
    pub minor_version: u8,
    /// Exchange type.
    pub exchange_type: ExchangeType,
    /// Flags.
    pub flags: Flags,
    /// Message ID (0 in phase 1).
    pub message_id: u32,
}

impl HeaderRepr {
    /// Takes the semantic fields from a header.
    #[must_use]
    pub fn from_header(header: &Header) -> Self {
        Self {
            initiator_cookie: header.initiator_cookie(),
            responder_cookie: header.responder_cookie(),
            minor_version: header.minor_version(),
            exchange_type: header.exchange_type(),
            flags: header.flags(),
            message_id: header.message_id(),
        }
    }

    /// Builds the wire header with the given computed fields.
    pub fn to_header(&self, next_payload: PayloadType, length: u32) -> Result<Header> {
        if self.minor_version > 0x0f {
            return Err(Error::InvalidRepr {
                what: "minor version above 15",
            });
        }
        Ok(Header {
            initiator_cookie: self.initiator_cookie,
            responder_cookie: self.responder_cookie,
            next_payload: next_payload.0,
            version: 0x10 | self.minor_version,
            exchange_type: self.exchange_type.0,
            flags: self.flags.bits(),
            message_id: U32::new(self.message_id),
            length: U32::new(length),
        })
    }
}

#[cfg(feature = "fuzzing")]
impl<'a> arbitrary::Arbitrary<'a> for Flags {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self::from_bits_retain(u8::arbitrary(u)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 2408 s.3.1 layout, with the probe header of docs/ted-wire.md, "Worked example".
    const PROBE_HEADER: [u8; 28] = [
        0x5a, 0x1c, 0x3e, 0x77, 0x90, 0xab, 0xcd, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0x10, 0xf0,
        0x00, 0, 0, 0, 0, 0, 0, 0, 0x4c,
    ];

    #[test]
    fn header_fields() {
        let h = Header::read(&PROBE_HEADER).unwrap();
        assert_eq!(
            h.initiator_cookie(),
            [0x5a, 0x1c, 0x3e, 0x77, 0x90, 0xab, 0xcd, 0x01]
        );
        assert_eq!(h.responder_cookie(), [0; 8]);
        assert_eq!(h.next_payload(), PayloadType::VENDOR_ID);
        assert_eq!(h.major_version(), 1);
        assert_eq!(h.minor_version(), 0);
        assert_eq!(h.exchange_type(), ExchangeType::TED);
        assert_eq!(h.flags(), Flags::empty());
        assert_eq!(h.message_id(), 0);
        assert_eq!(h.length(), 76);
        assert!(h.check(76).is_ok());
        assert_eq!(
            h.check(75),
            Err(Error::HeaderLengthTooLarge {
                length: 76,
                available: 75
            })
        );
        let repr = HeaderRepr::from_header(&h);
        let back = repr.to_header(PayloadType::VENDOR_ID, 76).unwrap();
        assert_eq!(back.as_bytes(), &PROBE_HEADER);
    }

    #[test]
    fn header_rejects() {
        assert_eq!(
            Header::read(&PROBE_HEADER[..27]),
            Err(Error::HeaderTruncated { len: 27 })
        );
        let mut b = PROBE_HEADER;
        b[17] = 0x20;
        assert_eq!(
            Header::read(&b).unwrap().check(76),
            Err(Error::UnsupportedVersion { major: 2 })
        );
        let mut b = PROBE_HEADER;
        b[27] = 27;
        assert_eq!(
            Header::read(&b).unwrap().check(76),
            Err(Error::HeaderLengthTooSmall { length: 27 })
        );
        let repr = HeaderRepr {
            minor_version: 16,
            ..HeaderRepr::default()
        };
        assert!(matches!(
            repr.to_header(PayloadType::NONE, 28),
            Err(Error::InvalidRepr { .. })
        ));
    }

    #[test]
    fn flags_keep_unknown_bits() {
        let f = Flags::from_bits_retain(0x83);
        assert!(f.contains(Flags::ENCRYPTION | Flags::COMMIT));
        assert_eq!(f.bits(), 0x83);
    }
}
