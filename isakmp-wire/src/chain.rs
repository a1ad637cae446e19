//! The payload chain (RFC 2408 s.3.2): borrowed payload views and the
//! iterator that walks them, plus the bounded writer `emit` uses.
//!
//! Every payload starts with a 4-byte generic header whose length field
//! covers the header itself; the chain is linked by next-payload fields and
//! ends with NONE. Each length is hostile: it must be at least 4 and must
//! not run past the end of the chain. The iterator yields `Result`s and
//! stops after the first error.

use crate::error::{Error, Result};
use crate::header::{GenericPayloadHeader, PAYLOAD_HEADER_LEN};
use crate::registry::PayloadType;
use zerocopy::FromBytes;

/// One payload of a chain, borrowed from the message: its type (announced
/// by the previous next-payload field), its generic header and its body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payload<'a> {
    payload_type: PayloadType,
    header: GenericPayloadHeader,
    raw: &'a [u8],
    offset: usize,
}

impl<'a> Payload<'a> {
    /// The payload's type.
    #[must_use]
    pub fn payload_type(&self) -> PayloadType {
        self.payload_type
    }
    /// The type of the following payload.
    #[must_use]
    pub fn next_payload(&self) -> PayloadType {
        self.header.next_payload()
    }
    /// The generic header's reserved byte.
    #[must_use]
    pub fn reserved(&self) -> u8 {
        self.header.reserved()
    }
    /// The payload length field (generic header included).
    #[must_use]
    pub fn length(&self) -> u16 {
        self.header.length()
    }
    /// Offset of the generic header from the start of the ISAKMP header.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }
    /// The whole payload, generic header included (what IKE's HASH(1..3)
    /// of RFC 2409 s.5.5 cover).
    #[must_use]
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }
    /// The payload body, after the generic header (e.g. SAi_b of
    /// RFC 2409 s.5).
    #[must_use]
    pub fn body(&self) -> &'a [u8] {
        self.raw.get(PAYLOAD_HEADER_LEN..).unwrap_or_default()
    }
    /// Offset of the body from the start of the ISAKMP header.
    #[must_use]
    pub fn body_offset(&self) -> usize {
        self.offset.saturating_add(PAYLOAD_HEADER_LEN)
    }
}

/// What follows the last payload of a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum End {
    /// The chain must end exactly at the end of its container.
    Exact,
    /// Bytes after the last payload are padding (a decrypted body,
    /// RFC 2409 s.5.3).
    Padding,
}

/// Iterator over a payload chain, yielding `Result<Payload>` and stopping
/// after the first error.
#[derive(Clone, Debug)]
pub struct Payloads<'a> {
    data: &'a [u8],
    base: usize,
    pos: usize,
    next: PayloadType,
    end: End,
    done: bool,
    padding: Option<&'a [u8]>,
}

impl<'a> Payloads<'a> {
    /// A chain that must fill `data` exactly: a cleartext message body or
    /// the inside of a payload. `base` is the offset of `data[0]` from the
    /// start of the ISAKMP header (for error offsets).
    #[must_use]
    pub fn exact(first: PayloadType, data: &'a [u8], base: usize) -> Self {
        Self::new(first, data, base, End::Exact)
    }

    /// A decrypted body: bytes after the last payload are padding, read
    /// back with [`Payloads::padding`] once the iterator has ended.
    #[must_use]
    pub fn padded(first: PayloadType, data: &'a [u8], base: usize) -> Self {
        Self::new(first, data, base, End::Padding)
    }

    fn new(first: PayloadType, data: &'a [u8], base: usize, end: End) -> Self {
        Self {
            data,
            base,
            pos: 0,
            next: first,
            end,
            done: false,
            padding: None,
        }
    }

    /// The bytes after the last payload of a padded chain, once the
    /// iterator has returned `None` without an error; `None` before.
    #[must_use]
    pub fn padding(&self) -> Option<&'a [u8]> {
        self.padding
    }

    fn step(&mut self) -> Option<Result<Payload<'a>>> {
        let rest = self.data.get(self.pos..).unwrap_or_default();
        let offset = self.base.saturating_add(self.pos);
        if self.next == PayloadType::NONE {
            self.done = true;
            if rest.is_empty() || self.end == End::Padding {
                self.padding = Some(rest);
                return None;
            }
            return Some(Err(Error::ChainEndsEarly {
                offset,
                remaining: rest.len(),
            }));
        }
        let payload_type = self.next;
        let Ok((header, _)) = GenericPayloadHeader::read_from_prefix(rest) else {
            self.done = true;
            return Some(Err(Error::PayloadTruncated {
                payload: payload_type,
                offset,
                available: rest.len(),
            }));
        };
        let length = header.length();
        if usize::from(length) < PAYLOAD_HEADER_LEN {
            self.done = true;
            return Some(Err(Error::PayloadTooShort {
                payload: payload_type,
                offset,
                length,
                min: PAYLOAD_HEADER_LEN,
            }));
        }
        let Some(raw) = rest.get(..usize::from(length)) else {
            self.done = true;
            return Some(Err(Error::PayloadOverrun {
                payload: payload_type,
                offset,
                length,
                available: rest.len(),
            }));
        };
        self.pos = self.pos.saturating_add(usize::from(length));
        self.next = header.next_payload();
        Some(Ok(Payload {
            payload_type,
            header,
            raw,
            offset,
        }))
    }
}

impl<'a> Iterator for Payloads<'a> {
    type Item = Result<Payload<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.step();
        if matches!(item, Some(Err(_))) {
            self.done = true;
        }
        item
    }
}

impl core::iter::FusedIterator for Payloads<'_> {}

/// A bounded cursor over an output buffer: every write is checked, so a
/// `Repr` whose `buffer_len` disagrees with what it writes yields an error,
/// never a panic.
pub(crate) struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
    needed: usize,
}

impl<'b> Writer<'b> {
    pub(crate) fn new(buf: &'b mut [u8], needed: usize) -> Self {
        Self {
            buf,
            pos: 0,
            needed,
        }
    }

    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let available = self.buf.len();
        let end = self
            .pos
            .checked_add(bytes.len())
            .ok_or(Error::InvalidRepr {
                what: "length overflow",
            })?;
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(Error::BufferTooSmall {
                needed: self.needed.max(end),
                available,
            })?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    pub(crate) fn u8(&mut self, v: u8) -> Result<()> {
        self.put(&[v])
    }
    pub(crate) fn u16(&mut self, v: u16) -> Result<()> {
        self.put(&v.to_be_bytes())
    }
    pub(crate) fn u32(&mut self, v: u32) -> Result<()> {
        self.put(&v.to_be_bytes())
    }
}

/// A bounded reader over a payload body, tracking absolute offsets for
/// error reports.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    payload: PayloadType,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8], base: usize, payload: PayloadType) -> Self {
        Self {
            data,
            pos: 0,
            base,
            payload,
        }
    }

    /// Offset of the next byte from the start of the ISAKMP header.
    pub(crate) fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    pub(crate) fn error(&self, what: &'static str) -> Error {
        Error::Malformed {
            payload: self.payload,
            offset: self.offset(),
            what,
        }
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.error(what))?;
        let s = self
            .data
            .get(self.pos..end)
            .ok_or_else(|| self.error(what))?;
        self.pos = end;
        Ok(s)
    }

    pub(crate) fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N]> {
        let s = self.take(N, what)?;
        <[u8; N]>::try_from(s).map_err(|_| self.error(what))
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8> {
        Ok(u8::from_be_bytes(self.array(what)?))
    }
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16> {
        Ok(u16::from_be_bytes(self.array(what)?))
    }
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32> {
        Ok(u32::from_be_bytes(self.array(what)?))
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = self.data.get(self.pos..).unwrap_or_default();
        self.pos = self.data.len();
        s
    }

    pub(crate) fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn walks_and_stops() {
        // VID(np=HASH, len 6) + HASH(np=NONE, len 5)
        let data = [8u8, 0, 0, 6, 0xaa, 0xbb, 0, 0, 0, 5, 0xcc];
        let v: Vec<_> = Payloads::exact(PayloadType::VENDOR_ID, &data, 28)
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].payload_type(), PayloadType::VENDOR_ID);
        assert_eq!(v[0].body(), &[0xaa, 0xbb]);
        assert_eq!(v[0].offset(), 28);
        assert_eq!(v[1].payload_type(), PayloadType::HASH);
        assert_eq!(v[1].offset(), 34);
        assert_eq!(v[1].body(), &[0xcc]);
    }
}
