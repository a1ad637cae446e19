//! The IKEv1 fragmentation payload (private payload type 132) and the
//! fragment message that carries it.
//!
//! IKEv1 has no standard way to split a message that does not fit the
//! path's MTU. Cisco introduced a proprietary extension, which Microsoft
//! documents (\[MS-IKEE\] s.2.2.3.1, "Fragment Payload Packet") and which
//! strongSwan, libreswan, racoon and Windows implement; Main Mode messages
//! 5 and 6 with certificates are what it is for. Support is announced with
//! a vendor ID ([`crate::vendor::fragmentation_support`]).
//!
//! # Wire format
//!
//! A fragment message is an ISAKMP header whose next-payload field is 132,
//! followed by exactly one fragmentation payload:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !  Next Payload !   RESERVED    !         Payload Length        !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !          Fragment ID          !  Fragment Num !     Flags     !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~                         Fragment Data                         ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! * The generic header's next payload is always 0: the fragment payload
//!   is the only payload of its message. The payload length counts the
//!   8 fixed bytes and the data, and the ISAKMP header's length covers the
//!   28 header bytes and the payload.
//! * The fragment ID (16 bits, big-endian) is the same in every fragment
//!   of one original message. strongSwan (`fragment_payload.c`,
//!   `fragment_payload_create_from_data`) and libreswan
//!   (`ikev1_send.c`, `send_v1_frags`) always send 1.
//! * The fragment number counts from 1, one up per fragment, in one byte.
//!   strongSwan rejects number 0 (the payload's `verify`); libreswan
//!   rejects 0 and anything above 16.
//! * The flags byte's bit 0 (0x01) marks the last fragment. \[MS-IKEE\]
//!   says the other bits are sent as zero and ignored on receipt;
//!   Wireshark (`packet-isakmp.c`, `dissect_cisco_fragmentation`) treats
//!   any non-zero byte as "last". This codec keeps the byte as received
//!   ([`FragmentFlags`]) and reads only bit 0.
//! * The fragment data are consecutive slices of the *whole* original
//!   message as it would have been sent: its ISAKMP header included, its
//!   body encrypted if the original is. Concatenating the data of
//!   fragments 1 to last gives that message back; Wireshark dissects the
//!   concatenation as a complete ISAKMP message.
//!
//! # The fragment message's ISAKMP header
//!
//! The two implementations we checked agree on the cookies (those of the
//! original message) and on the E flag (clear: the fragment payload itself
//! is never encrypted, only the original's body inside the data is), and
//! differ on the rest:
//!
//! * strongSwan (`message.c`, `create_fragment`) sets the message ID to 0
//!   and the exchange type to the phase-1 mode of the IKE SA (Main or
//!   Aggressive), even when the original is a Quick Mode or Transaction
//!   message; the flags are those of a fresh unencrypted message.
//! * libreswan (`send_v1_frags`) copies the original's header and only
//!   clears the E flag, so exchange type and message ID are the
//!   original's.
//! * racoon sets the E flag on fragment messages; strongSwan's parser
//!   (`parse_header`) ignores the flag when the first payload is 132, and
//!   [`FragmentMessage::parse`] accepts it too.
//!
//! A receiver therefore uses only the cookies of a fragment message's
//! header; everything else comes from the reassembled message.
//!
//! # Size of the fragments
//!
//! strongSwan starts from its `fragment_size` setting (the whole IP
//! datagram, 1280 bytes by default) and takes off the IP header (20 or
//! 40 bytes), UDP's 8, the non-ESP marker's 4 on port 4500, the ISAKMP
//! header's 28 and the fragment payload's 8: what is left is the data per
//! fragment, the last one taking the remainder. libreswan computes the
//! same from its maximum fragment size.
//!
//! # Panic contract
//!
//! As everywhere in this crate: no input makes `parse` panic; `emit` into
//! a buffer of `buffer_len()` bytes never fails for lack of room.

use alloc::vec::Vec;

use bitflags::bitflags;

use crate::chain::{Payloads, Reader, Writer};
use crate::error::{Error, Result};
use crate::header::{HEADER_LEN, Header, HeaderRepr, PAYLOAD_HEADER_LEN};
use crate::registry::PayloadType;
use zerocopy::IntoBytes;

/// Bytes of the fragment payload before its data: the generic header (4)
/// plus fragment ID, number and flags (4).
pub const FRAGMENT_PAYLOAD_HEADER_LEN: usize = 8;

/// Bytes of a fragment message before its data: the ISAKMP header and the
/// fragment payload's fixed fields.
pub const FRAGMENT_OVERHEAD: usize = HEADER_LEN + FRAGMENT_PAYLOAD_HEADER_LEN;

bitflags! {
    /// The fragment payload's flags byte. Bits this crate does not name
    /// are kept, so a received byte round-trips.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct FragmentFlags: u8 {
        /// LAST_FRAGMENT: this is the last fragment of the message.
        const LAST = 0x01;
    }
}

#[cfg(feature = "fuzzing")]
impl<'a> arbitrary::Arbitrary<'a> for FragmentFlags {
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Self::from_bits_retain(u8::arbitrary(u)?))
    }
}

/// The body of a fragmentation payload (after its generic header).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct FragmentRepr<'a> {
    /// Fragment ID: the same in every fragment of one message.
    pub id: u16,
    /// Fragment number, from 1 (0 is invalid but representable).
    pub number: u8,
    /// Flags, as received (see [`FragmentRepr::is_last`]).
    pub flags: FragmentFlags,
    /// This fragment's slice of the original message.
    pub data: &'a [u8],
}

impl<'a> FragmentRepr<'a> {
    /// A fragment with only the LAST bit possibly set.
    #[must_use]
    pub fn new(id: u16, number: u8, last: bool, data: &'a [u8]) -> Self {
        Self {
            id,
            number,
            flags: if last {
                FragmentFlags::LAST
            } else {
                FragmentFlags::empty()
            },
            data,
        }
    }

    /// Whether the LAST_FRAGMENT bit is set.
    #[must_use]
    pub fn is_last(&self) -> bool {
        self.flags.contains(FragmentFlags::LAST)
    }

    /// Length of the payload body (fixed fields and data).
    #[must_use]
    pub fn body_len(&self) -> usize {
        self.data
            .len()
            .saturating_add(FRAGMENT_PAYLOAD_HEADER_LEN - PAYLOAD_HEADER_LEN)
    }

    pub(crate) fn parse(r: &mut Reader<'a>) -> Result<Self> {
        let id = r.u16("fragment payload shorter than its fixed fields")?;
        let number = r.u8("fragment payload shorter than its fixed fields")?;
        let flags = FragmentFlags::from_bits_retain(
            r.u8("fragment payload shorter than its fixed fields")?,
        );
        Ok(Self {
            id,
            number,
            flags,
            data: r.rest(),
        })
    }

    pub(crate) fn emit(&self, w: &mut Writer<'_>) -> Result<()> {
        w.u16(self.id)?;
        w.u8(self.number)?;
        w.u8(self.flags.bits())?;
        w.put(self.data)
    }
}

/// A whole fragment message: an ISAKMP header announcing payload 132 and
/// the one fragmentation payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct FragmentMessage<'a> {
    /// Header fields. The E flag may be set (racoon sets it); it does not
    /// make the fragment payload ciphertext.
    pub header: HeaderRepr,
    /// The fragment.
    pub fragment: FragmentRepr<'a>,
}

impl<'a> FragmentMessage<'a> {
    /// Whether a datagram's ISAKMP header announces a fragmentation payload
    /// as its first payload (a cheap test before [`FragmentMessage::parse`]).
    #[must_use]
    pub fn is_fragment(datagram: &[u8]) -> bool {
        Header::read(datagram).is_ok_and(|h| h.next_payload() == PayloadType::FRAGMENT)
    }

    /// Parses a fragment message: a checked ISAKMP header whose first
    /// payload is 132, and exactly one payload up to the header's length.
    /// Bytes of the datagram after that length are ignored, as a message
    /// view's `trailing` reports them elsewhere.
    pub fn parse(datagram: &'a [u8]) -> Result<Self> {
        let header = Header::read(datagram)?;
        header.check(datagram.len())?;
        if header.next_payload() != PayloadType::FRAGMENT {
            return Err(Error::UnexpectedPayload {
                payload: header.next_payload(),
                offset: HEADER_LEN,
                expected: "a fragmentation payload (132) as the first payload",
            });
        }
        let len = usize::try_from(header.length()).unwrap_or(usize::MAX);
        let body = datagram.get(HEADER_LEN..len).unwrap_or_default();
        let mut chain = Payloads::exact(PayloadType::FRAGMENT, body, HEADER_LEN);
        let payload = chain.next().unwrap_or(Err(Error::PayloadTruncated {
            payload: PayloadType::FRAGMENT,
            offset: HEADER_LEN,
            available: 0,
        }))?;
        if payload.next_payload() != PayloadType::NONE {
            return Err(Error::Malformed {
                payload: PayloadType::FRAGMENT,
                offset: HEADER_LEN,
                what: "a fragmentation payload must be the only payload (next payload 0)",
            });
        }
        // The chain ends here: anything after the payload is an error.
        if let Some(Err(e)) = chain.next() {
            return Err(e);
        }
        let mut r = Reader::new(payload.body(), payload.body_offset(), PayloadType::FRAGMENT);
        let fragment = FragmentRepr::parse(&mut r)?;
        Ok(Self {
            header: HeaderRepr::from_header(&header),
            fragment,
        })
    }

    /// Bytes `emit` writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.fragment
            .body_len()
            .saturating_add(HEADER_LEN + PAYLOAD_HEADER_LEN)
    }

    /// Writes the fragment message into `buf`, returning its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let needed = self.buffer_len();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let payload_len =
            u16::try_from(needed.saturating_sub(HEADER_LEN)).map_err(|_| Error::InvalidRepr {
                what: "fragment payload longer than 65535 bytes",
            })?;
        let length = u32::try_from(needed).map_err(|_| Error::InvalidRepr {
            what: "message longer than 2^32-1 bytes",
        })?;
        let header = self.header.to_header(PayloadType::FRAGMENT, length)?;
        let mut w = Writer::new(buf, needed);
        w.put(header.as_bytes())?;
        w.u8(PayloadType::NONE.0)?;
        w.u8(0)?;
        w.u16(payload_len)?;
        self.fragment.emit(&mut w)?;
        Ok(w.pos())
    }

    /// Emits into a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        let mut v = alloc::vec![0u8; self.buffer_len()];
        let n = self.emit(&mut v)?;
        v.truncate(n);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::Flags;
    use crate::registry::ExchangeType;

    // A fragment message built by hand from the layout above (the \[MS-IKEE\]
    // s.2.2.3.1 field order): Main Mode cookies, ID 1, number 2, last, 3
    // data bytes.
    const BYTES: [u8; 39] = [
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, // cookies
        132, 0x10, 2, 0, // next payload 132, version 1.0, ID_PROT, no flags
        0, 0, 0, 0, // message ID
        0, 0, 0, 39, // length
        0, 0, 0, 11, // next payload 0, reserved, payload length 11
        0, 1, 2, 1, // fragment ID 1, number 2, LAST
        0xaa, 0xbb, 0xcc,
    ];

    fn header() -> HeaderRepr {
        HeaderRepr {
            initiator_cookie: [1, 2, 3, 4, 5, 6, 7, 8],
            responder_cookie: [9, 10, 11, 12, 13, 14, 15, 16],
            exchange_type: ExchangeType::IDENTITY_PROTECTION,
            ..HeaderRepr::default()
        }
    }

    #[test]
    fn known_bytes_both_ways() {
        let m = FragmentMessage::parse(&BYTES).unwrap();
        assert_eq!(m.header, header());
        assert_eq!(
            m.fragment,
            FragmentRepr::new(1, 2, true, &[0xaa, 0xbb, 0xcc])
        );
        assert!(m.fragment.is_last());
        assert_eq!(m.buffer_len(), BYTES.len());
        assert_eq!(m.to_vec().unwrap(), BYTES);
        assert!(FragmentMessage::is_fragment(&BYTES));
        assert!(!FragmentMessage::is_fragment(&BYTES[..27]));
    }

    #[test]
    fn unknown_flag_bits_and_e_flag_are_kept() {
        let mut b = BYTES;
        b[35] = 0x81;
        b[19] = Flags::ENCRYPTION.bits();
        let m = FragmentMessage::parse(&b).unwrap();
        assert!(m.fragment.is_last());
        assert_eq!(m.fragment.flags.bits(), 0x81);
        assert!(m.header.flags.contains(Flags::ENCRYPTION));
        assert_eq!(m.to_vec().unwrap(), b);
        b[35] = 0x80;
        assert!(!FragmentMessage::parse(&b).unwrap().fragment.is_last());
    }

    #[test]
    fn shape_errors() {
        // Not announced as a fragment.
        let mut b = BYTES;
        b[16] = 13;
        assert!(matches!(
            FragmentMessage::parse(&b),
            Err(Error::UnexpectedPayload { offset: 28, .. })
        ));
        // A payload after the fragment.
        let mut b = BYTES;
        b[28] = 13;
        assert!(matches!(
            FragmentMessage::parse(&b),
            Err(Error::Malformed { offset: 28, .. })
        ));
        // Fixed fields cut short: payload length 7.
        let mut short = BYTES[..35].to_vec();
        short[27] = 35;
        short[31] = 7;
        assert!(matches!(
            FragmentMessage::parse(&short),
            Err(Error::Malformed {
                payload: PayloadType::FRAGMENT,
                ..
            })
        ));
        // No payload at all.
        let mut empty = BYTES[..28].to_vec();
        empty[27] = 28;
        assert!(matches!(
            FragmentMessage::parse(&empty),
            Err(Error::PayloadTruncated { offset: 28, .. })
        ));
        // Bytes after the payload but inside the header's length.
        let mut long = BYTES.to_vec();
        long.push(0);
        long[27] = 40;
        assert!(matches!(
            FragmentMessage::parse(&long),
            Err(Error::ChainEndsEarly { offset: 39, .. })
        ));
        // Bytes after the header's length are not the fragment's.
        let mut trailing = BYTES.to_vec();
        trailing.push(0xff);
        assert_eq!(
            FragmentMessage::parse(&trailing).unwrap().fragment.data,
            &[0xaa, 0xbb, 0xcc]
        );
    }

    #[test]
    fn emit_errors() {
        let m = FragmentMessage::parse(&BYTES).unwrap();
        let mut small = [0u8; 38];
        assert_eq!(
            m.emit(&mut small),
            Err(Error::BufferTooSmall {
                needed: 39,
                available: 38
            })
        );
        let big = alloc::vec![0u8; 65528];
        let m = FragmentMessage {
            header: header(),
            fragment: FragmentRepr::new(1, 1, true, &big),
        };
        assert!(matches!(m.to_vec(), Err(Error::InvalidRepr { .. })));
        let ok = FragmentMessage {
            header: header(),
            fragment: FragmentRepr::new(1, 1, true, &big[..65527]),
        };
        assert_eq!(ok.to_vec().unwrap().len(), 65535 + 28);
    }
}
