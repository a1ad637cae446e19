//! The one error type of the codec.
//!
//! Every decoding error names what was wrong, the byte offset (from the
//! first byte of the ISAKMP header, so the offset of a payload inside a
//! decrypted body counts the 28 header bytes too) and, where a payload was
//! being read, its payload type. Encoding errors say which value of the
//! `Repr` could not be put on the wire, or how large a buffer is needed.

use crate::registry::PayloadType;

/// Everything that can go wrong decoding or encoding an ISAKMP message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer than the 28 bytes of the RFC 2408 s.3.1 header.
    #[error("datagram of {len} bytes is shorter than the 28-byte ISAKMP header")]
    HeaderTruncated {
        /// Bytes available.
        len: usize,
    },
    /// The header's length field (at offset 24) is below 28.
    #[error("header length {length} (offset 24) is below the 28-byte minimum")]
    HeaderLengthTooSmall {
        /// The length field.
        length: u32,
    },
    /// The header's length field (at offset 24) exceeds the datagram.
    #[error("header length {length} (offset 24) exceeds the {available}-byte datagram")]
    HeaderLengthTooLarge {
        /// The length field.
        length: u32,
        /// Bytes available.
        available: usize,
    },
    /// The major version (offset 17, high nibble) is not 1.
    #[error("ISAKMP major version {major} (offset 17) is not 1")]
    UnsupportedVersion {
        /// The major version found.
        major: u8,
    },
    /// A payload's generic header does not fit in what is left of the chain.
    #[error(
        "{payload} payload at offset {offset}: only {available} bytes left, its generic header needs 4"
    )]
    PayloadTruncated {
        /// The payload type the previous next-payload field announced.
        payload: PayloadType,
        /// Offset of the missing generic header.
        offset: usize,
        /// Bytes left in the chain.
        available: usize,
    },
    /// A payload length field is below the payload's minimum.
    #[error("{payload} payload at offset {offset}: length {length} is below its minimum {min}")]
    PayloadTooShort {
        /// The payload type.
        payload: PayloadType,
        /// Offset of the payload's generic header.
        offset: usize,
        /// The length field.
        length: u16,
        /// The smallest valid length.
        min: usize,
    },
    /// A payload length field runs past the end of the chain.
    #[error(
        "{payload} payload at offset {offset}: length {length} runs past the end of the chain ({available} bytes left)"
    )]
    PayloadOverrun {
        /// The payload type.
        payload: PayloadType,
        /// Offset of the payload's generic header.
        offset: usize,
        /// The length field.
        length: u16,
        /// Bytes left in the chain from `offset`.
        available: usize,
    },
    /// The chain's last payload (next payload NONE) ended before the end of
    /// the message (or of the enclosing payload).
    #[error(
        "payload chain ends at offset {offset}, {remaining} bytes before the end of its container"
    )]
    ChainEndsEarly {
        /// Offset just after the last payload.
        offset: usize,
        /// Bytes left unclaimed.
        remaining: usize,
    },
    /// A payload appeared where its container does not allow it, e.g. a
    /// non-Proposal payload inside an SA.
    #[error("{payload} payload at offset {offset} is not allowed here ({expected} expected)")]
    UnexpectedPayload {
        /// The payload type found.
        payload: PayloadType,
        /// Offset of its generic header.
        offset: usize,
        /// What the container expected.
        expected: &'static str,
    },
    /// A field inside a payload is invalid.
    #[error("{payload} payload, field at offset {offset}: {what}")]
    Malformed {
        /// The payload type (the innermost one: P, T, ...).
        payload: PayloadType,
        /// Offset of the offending field.
        offset: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// The message has the encryption flag set: its body is ciphertext.
    /// Use [`crate::EncryptedRepr`] and [`crate::DecryptedBody`].
    #[error(
        "message is encrypted (E flag): decrypt its body and parse it with DecryptedBody::parse"
    )]
    Encrypted,
    /// A data attribute's value does not fit its class (typed decoding).
    #[error("attribute type {attribute_type}: {what}")]
    Attribute {
        /// The attribute type (without the AF bit).
        attribute_type: u16,
        /// What is wrong.
        what: &'static str,
    },
    /// A message does not have the shape of a TED probe or response.
    #[error("not a TED message: {what}")]
    TedShape {
        /// What is wrong.
        what: &'static str,
    },
    /// The output buffer is too small for `emit`.
    #[error("buffer of {available} bytes is too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes `emit` needs (`buffer_len()`).
        needed: usize,
        /// Bytes given.
        available: usize,
    },
    /// A `Repr` holds a value the wire format cannot carry (a length over
    /// 65535, an SPI over 255 bytes, ...), or one that would not parse back
    /// to the same `Repr`.
    #[error("cannot emit: {what}")]
    InvalidRepr {
        /// What is wrong.
        what: &'static str,
    },
}

/// Result alias for this crate.
pub type Result<T> = core::result::Result<T, Error>;
