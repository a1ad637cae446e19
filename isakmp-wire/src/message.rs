//! Whole messages: the borrowed [`Message`] view and the owned
//! [`MessageRepr`] (cleartext), [`EncryptedRepr`] and [`DecryptedBody`]
//! (RFC 2408 s.3.1, s.3.2; RFC 2409 s.5.3 for encrypted bodies).
//!
//! # Two-phase decode of encrypted messages
//!
//! A message with the E flag carries ciphertext after its header.
//! [`ParsedMessage::parse`] gives an [`EncryptedRepr`] (header, first
//! payload type, opaque ciphertext); the caller decrypts the ciphertext
//! (ike-sm holds the keys and IVs) and hands the plaintext to
//! [`DecryptedBody::parse`] with the first payload type from the header.
//! Bytes after the last payload of the plaintext are padding
//! (RFC 2409 s.5.3) and are returned, not rejected.
//!
//! # Panic contract
//!
//! No input makes any function here panic. After
//! [`Message::new_checked`] succeeds, every accessor reads in-bounds
//! fields; `emit` into any buffer returns `Ok` or an error (a buffer of at
//! least `buffer_len()` bytes is never too small).

use alloc::vec::Vec;

use crate::chain::{Payloads, Writer};
use crate::error::{Error, Result};
use crate::header::{Flags, HEADER_LEN, Header, HeaderRepr};
use crate::payload::{ParseConfig, PayloadRepr, chain_len, emit_chain, parse_chain};
use crate::registry::{ExchangeType, PayloadType};
use zerocopy::IntoBytes;

/// A borrowed view of an ISAKMP message in a datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Message<T> {
    /// Wraps a buffer without checking it. Accessors on an unchecked view
    /// never panic but may return zeroed fields.
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and checks it: at least 28 bytes, major version 1,
    /// `28 <= length <= buffer length`.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let m = Self::new_unchecked(buffer);
        m.check_len()?;
        Ok(m)
    }

    /// Checks the header (see [`Message::new_checked`]).
    pub fn check_len(&self) -> Result<()> {
        let bytes = self.buffer.as_ref();
        Header::read(bytes)?.check(bytes.len())
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The header (zeroed if the buffer is shorter than 28 bytes).
    #[must_use]
    pub fn header(&self) -> Header {
        Header::read(self.buffer.as_ref())
            .unwrap_or_else(|_| <Header as zerocopy::FromZeros>::new_zeroed())
    }

    /// The message bytes, `0..length` (header included).
    #[must_use]
    pub fn message_bytes(&self) -> &[u8] {
        let bytes = self.buffer.as_ref();
        let len = usize::try_from(self.header().length()).unwrap_or(usize::MAX);
        bytes.get(..len).unwrap_or(bytes)
    }

    /// The body: bytes `28..length` (payloads, or ciphertext with the E
    /// flag).
    #[must_use]
    pub fn body(&self) -> &[u8] {
        self.message_bytes().get(HEADER_LEN..).unwrap_or_default()
    }

    /// Bytes of the datagram after the header's length: not an error (some
    /// stacks pad datagrams), but reported.
    #[must_use]
    pub fn trailing(&self) -> &[u8] {
        let bytes = self.buffer.as_ref();
        bytes.get(self.message_bytes().len()..).unwrap_or_default()
    }

    /// Whether the E flag is set.
    #[must_use]
    pub fn is_encrypted(&self) -> bool {
        self.header().flags().contains(Flags::ENCRYPTION)
    }

    /// The cleartext payload chain; with the E flag the body is
    /// ciphertext and the iterator yields [`Error::Encrypted`].
    #[must_use]
    pub fn payloads(&self) -> MessagePayloads<'_> {
        if self.is_encrypted() {
            MessagePayloads {
                inner: None,
                encrypted: true,
            }
        } else {
            MessagePayloads {
                inner: Some(Payloads::exact(
                    self.header().next_payload(),
                    self.body(),
                    HEADER_LEN,
                )),
                encrypted: false,
            }
        }
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Message<T> {
    /// The header in place, for patching fields (e.g. the length after
    /// appending ciphertext). Fails only if the buffer is shorter than 28
    /// bytes.
    pub fn header_mut(&mut self) -> Result<&mut Header> {
        let bytes = self.buffer.as_mut();
        let len = bytes.len();
        <Header as zerocopy::FromBytes>::mut_from_prefix(bytes)
            .map(|(header, _)| header)
            .map_err(|_| Error::HeaderTruncated { len })
    }
}

/// Iterator over the payloads of a cleartext message (see
/// [`Message::payloads`]).
#[derive(Clone, Debug)]
pub struct MessagePayloads<'a> {
    inner: Option<Payloads<'a>>,
    encrypted: bool,
}

impl<'a> Iterator for MessagePayloads<'a> {
    type Item = Result<crate::chain::Payload<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.encrypted {
            self.encrypted = false;
            return Some(Err(Error::Encrypted));
        }
        self.inner.as_mut()?.next()
    }
}

/// A cleartext message: header and typed payloads.
///
/// `emit` computes every next-payload and length field from the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct MessageRepr<'a> {
    /// Header fields (the E flag must be clear).
    pub header: HeaderRepr,
    /// The payloads, in order.
    pub payloads: Vec<PayloadRepr<'a>>,
}

impl<'a> MessageRepr<'a> {
    /// Parses a checked cleartext message. An encrypted one gives
    /// [`Error::Encrypted`]: use [`ParsedMessage::parse`].
    pub fn parse(message: &Message<&'a [u8]>, config: &ParseConfig) -> Result<Self> {
        message.check_len()?;
        let header = message.header();
        if header.flags().contains(Flags::ENCRYPTION) {
            return Err(Error::Encrypted);
        }
        let body = message_body(message.buffer, &header);
        let ted = config.is_ted(header.exchange_type());
        let mut iter = Payloads::exact(header.next_payload(), body, HEADER_LEN);
        let payloads = parse_chain(&mut iter, ted)?;
        Ok(Self {
            header: HeaderRepr::from_header(&header),
            payloads,
        })
    }

    /// Bytes `emit` writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        chain_len(&self.payloads).saturating_add(HEADER_LEN)
    }

    /// Writes the message into `buf[..buffer_len()]`, returning the length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if self.header.flags.contains(Flags::ENCRYPTION) {
            return Err(Error::InvalidRepr {
                what: "cleartext message with the E flag (use EncryptedRepr)",
            });
        }
        let needed = self.buffer_len();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let length = u32::try_from(needed).map_err(|_| Error::InvalidRepr {
            what: "message longer than 2^32-1 bytes",
        })?;
        let first = self
            .payloads
            .first()
            .map_or(PayloadType::NONE, PayloadRepr::payload_type);
        let header = self.header.to_header(first, length)?;
        let mut w = Writer::new(buf, needed);
        w.put(header.as_bytes())?;
        emit_chain(&self.payloads, &mut w)?;
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

fn message_body<'a>(bytes: &'a [u8], header: &Header) -> &'a [u8] {
    let len = usize::try_from(header.length()).unwrap_or(usize::MAX);
    bytes.get(HEADER_LEN..len).unwrap_or_default()
}

/// An encrypted message as far as it can be read without keys: the header,
/// the type of the first (encrypted) payload and the ciphertext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub struct EncryptedRepr<'a> {
    /// Header fields (the E flag must be set).
    pub header: HeaderRepr,
    /// The header's next-payload field: the type of the first payload of
    /// the decrypted body.
    pub first_payload: PayloadType,
    /// The ciphertext (everything after the header, up to its length).
    pub ciphertext: &'a [u8],
}

impl<'a> EncryptedRepr<'a> {
    /// Parses a checked message with the E flag.
    pub fn parse(message: &Message<&'a [u8]>) -> Result<Self> {
        message.check_len()?;
        let header = message.header();
        if !header.flags().contains(Flags::ENCRYPTION) {
            return Err(Error::InvalidRepr {
                what: "EncryptedRepr::parse on a message without the E flag",
            });
        }
        Ok(Self {
            header: HeaderRepr::from_header(&header),
            first_payload: header.next_payload(),
            ciphertext: message_body(message.buffer, &header),
        })
    }

    /// Bytes `emit` writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        self.ciphertext.len().saturating_add(HEADER_LEN)
    }

    /// Writes header and ciphertext into `buf`, returning the length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if !self.header.flags.contains(Flags::ENCRYPTION) {
            return Err(Error::InvalidRepr {
                what: "encrypted message without the E flag",
            });
        }
        let needed = self.buffer_len();
        if buf.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let length = u32::try_from(needed).map_err(|_| Error::InvalidRepr {
            what: "message longer than 2^32-1 bytes",
        })?;
        let header = self.header.to_header(self.first_payload, length)?;
        let mut w = Writer::new(buf, needed);
        w.put(header.as_bytes())?;
        w.put(self.ciphertext)?;
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

/// The payloads of a decrypted body and the padding after them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptedBody<'a> {
    /// The payloads.
    pub payloads: Vec<PayloadRepr<'a>>,
    /// Bytes after the last payload: the RFC 2409 s.5.3 padding.
    pub padding: &'a [u8],
}

impl<'a> DecryptedBody<'a> {
    /// Parses a decrypted body. `first_payload` is the header's
    /// next-payload field and `exchange_type` the header's exchange type
    /// (for TED decoding). Error offsets count from the ISAKMP header, as
    /// if the plaintext stood in place of the ciphertext.
    pub fn parse(
        first_payload: PayloadType,
        exchange_type: ExchangeType,
        plaintext: &'a [u8],
        config: &ParseConfig,
    ) -> Result<Self> {
        let mut iter = Payloads::padded(first_payload, plaintext, HEADER_LEN);
        let payloads = parse_chain(&mut iter, config.is_ted(exchange_type))?;
        Ok(Self {
            payloads,
            padding: iter.padding().unwrap_or_default(),
        })
    }

    /// Bytes the payloads take (no padding): what a caller pads up to the
    /// cipher's block size before encrypting.
    #[must_use]
    pub fn payloads_len(payloads: &[PayloadRepr<'_>]) -> usize {
        chain_len(payloads)
    }

    /// Writes a chain of payloads (no padding) into `buf`, returning the
    /// length and the first payload type (for the header).
    pub fn emit_payloads(
        payloads: &[PayloadRepr<'_>],
        buf: &mut [u8],
    ) -> Result<(usize, PayloadType)> {
        let needed = chain_len(payloads);
        if buf.len() < needed {
            return Err(Error::BufferTooSmall {
                needed,
                available: buf.len(),
            });
        }
        let mut w = Writer::new(buf, needed);
        let first = emit_chain(payloads, &mut w)?;
        Ok((w.pos(), first))
    }
}

/// A message as first decoded: cleartext, or encrypted awaiting keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedMessage<'a> {
    /// A cleartext message.
    Clear(MessageRepr<'a>),
    /// An encrypted message (E flag).
    Encrypted(EncryptedRepr<'a>),
}

impl<'a> ParsedMessage<'a> {
    /// Checks and decodes a datagram. Bytes after the header's length are
    /// ignored here (see [`Message::trailing`]).
    pub fn parse(datagram: &'a [u8], config: &ParseConfig) -> Result<Self> {
        let message = Message::new_checked(datagram)?;
        if message.is_encrypted() {
            EncryptedRepr::parse(&message).map(ParsedMessage::Encrypted)
        } else {
            MessageRepr::parse(&message, config).map(ParsedMessage::Clear)
        }
    }

    /// The header fields.
    #[must_use]
    pub fn header(&self) -> &HeaderRepr {
        match self {
            ParsedMessage::Clear(m) => &m.header,
            ParsedMessage::Encrypted(e) => &e.header,
        }
    }

    /// Bytes `emit` writes.
    #[must_use]
    pub fn buffer_len(&self) -> usize {
        match self {
            ParsedMessage::Clear(m) => m.buffer_len(),
            ParsedMessage::Encrypted(e) => e.buffer_len(),
        }
    }

    /// Writes the message into `buf`, returning the length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        match self {
            ParsedMessage::Clear(m) => m.emit(buf),
            ParsedMessage::Encrypted(e) => e.emit(buf),
        }
    }

    /// Emits into a new vector.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        match self {
            ParsedMessage::Clear(m) => m.to_vec(),
            ParsedMessage::Encrypted(e) => e.to_vec(),
        }
    }
}
