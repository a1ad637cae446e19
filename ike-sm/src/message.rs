//! Reading received messages and building ours (RFC 2408 s.3, RFC 2409
//! s.5 and Appendix B): the payload chain with both its raw bytes (for
//! the HASHes, which cover payloads as sent) and its typed form, the
//! encryption of bodies with an [`IvChain`], and the Quick Mode /
//! Informational layout `HASH | rest`.

use isakmp_wire::{
    DecryptedBody, EncryptedRepr, Flags, HEADER_LEN, HeaderRepr, IdRepr, Message, MessageRepr,
    NotificationRepr, Payload, PayloadRepr, PayloadType, Payloads, SaRepr,
};

use crate::crypto::{Cipher, IvChain, Padding, PendingIv};
use crate::event::{CryptoDrop, DropReason, Received};

/// A received message's payloads, raw and typed, over `body` (the
/// cleartext after the header, or the decrypted plaintext).
pub(crate) struct Inbound<'a> {
    pub(crate) header: HeaderRepr,
    pub(crate) body: &'a [u8],
    pub(crate) raw: Vec<Payload<'a>>,
    pub(crate) typed: Vec<PayloadRepr<'a>>,
}

impl<'a> Inbound<'a> {
    /// Reads a cleartext message (the chain must fill it exactly).
    pub(crate) fn clear(message: &Message<&'a [u8]>) -> Result<Self, DropReason> {
        let header = message.header();
        let bytes: &'a [u8] = message_body(message);
        Self::read(
            HeaderRepr::from_header(&header),
            Payloads::exact(header.next_payload(), bytes, HEADER_LEN),
            bytes,
        )
    }

    /// Reads a decrypted body (bytes after the last payload are padding).
    pub(crate) fn decrypted(
        header: HeaderRepr,
        first: PayloadType,
        plaintext: &'a [u8],
    ) -> Result<Self, DropReason> {
        Self::read(
            header,
            Payloads::padded(first, plaintext, HEADER_LEN),
            plaintext,
        )
    }

    fn read(header: HeaderRepr, iter: Payloads<'a>, body: &'a [u8]) -> Result<Self, DropReason> {
        let mut raw = Vec::new();
        let mut typed = Vec::new();
        for p in iter {
            let p = p.map_err(DropReason::Wire)?;
            typed.push(PayloadRepr::parse(&p, false).map_err(DropReason::Wire)?);
            raw.push(p);
        }
        Ok(Self {
            header,
            body,
            raw,
            typed,
        })
    }

    /// The first payload of a type, raw.
    pub(crate) fn raw(&self, pt: PayloadType) -> Option<&Payload<'a>> {
        self.raw.iter().find(|p| p.payload_type() == pt)
    }

    pub(crate) fn sa(&self) -> Option<&SaRepr<'a>> {
        self.typed.iter().find_map(|p| match p {
            PayloadRepr::Sa(sa) => Some(sa),
            _ => None,
        })
    }

    pub(crate) fn ke(&self) -> Option<&'a [u8]> {
        self.typed.iter().find_map(|p| match p {
            PayloadRepr::KeyExchange(d) => Some(*d),
            _ => None,
        })
    }

    pub(crate) fn nonce(&self) -> Option<&'a [u8]> {
        self.typed.iter().find_map(|p| match p {
            PayloadRepr::Nonce(d) => Some(*d),
            _ => None,
        })
    }

    pub(crate) fn hash(&self) -> Option<&'a [u8]> {
        self.typed.iter().find_map(|p| match p {
            PayloadRepr::Hash(d) => Some(*d),
            _ => None,
        })
    }

    pub(crate) fn ids(&self) -> Vec<IdRepr<'a>> {
        self.typed
            .iter()
            .filter_map(|p| match p {
                PayloadRepr::Id(id) => Some(*id),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn vendor_ids(&self) -> Vec<&'a [u8]> {
        self.typed
            .iter()
            .filter_map(|p| match p {
                PayloadRepr::VendorId(v) => Some(*v),
                _ => None,
            })
            .collect()
    }

    pub(crate) fn notifications(&self) -> Vec<NotificationRepr<'a>> {
        self.typed
            .iter()
            .filter_map(|p| match p {
                PayloadRepr::Notification(n) => Some(*n),
                _ => None,
            })
            .collect()
    }

    /// For Quick Mode and Informational messages: the first payload must
    /// be the HASH; returns its body and the bytes of every payload after
    /// it, generic headers included, padding excluded (what RFC 2409 s.5.5
    /// and s.5.7 hash).
    pub(crate) fn leading_hash(&self) -> Option<(&'a [u8], &'a [u8])> {
        let first = self.raw.first()?;
        if first.payload_type() != PayloadType::HASH {
            return None;
        }
        let end = self
            .raw
            .last()
            .map(|p| {
                p.offset()
                    .saturating_add(p.raw().len())
                    .saturating_sub(HEADER_LEN)
            })
            .unwrap_or(0);
        let start = first
            .offset()
            .saturating_add(first.raw().len())
            .saturating_sub(HEADER_LEN);
        let rest = self.body.get(start..end)?;
        Some((first.body(), rest))
    }

    /// What came, for "wrong message here" reports: the exchange type
    /// and the payload types in order.
    pub(crate) fn describe(&self) -> Received {
        Received::Message {
            exchange: self.header.exchange_type,
            payloads: self.typed.iter().map(PayloadRepr::payload_type).collect(),
        }
    }
}

fn message_body<'a>(message: &Message<&'a [u8]>) -> &'a [u8] {
    let bytes: &'a [u8] = message.into_inner();
    let len = usize::try_from(message.header().length()).unwrap_or(usize::MAX);
    bytes.get(HEADER_LEN..len).unwrap_or_default()
}

/// Why we could not build a message (our own reprs are valid, so this is
/// a defect, reported rather than panicking).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BuildError;

/// A cleartext message.
pub(crate) fn emit_clear(
    header: HeaderRepr,
    payloads: Vec<PayloadRepr<'_>>,
) -> Result<Vec<u8>, BuildError> {
    MessageRepr { header, payloads }
        .to_vec()
        .map_err(|_| BuildError)
}

/// The payloads alone, linked, without padding.
pub(crate) fn chain_bytes(payloads: &[PayloadRepr<'_>]) -> Result<Vec<u8>, BuildError> {
    let mut buf = vec![0u8; DecryptedBody::payloads_len(payloads)];
    let (n, _) = DecryptedBody::emit_payloads(payloads, &mut buf).map_err(|_| BuildError)?;
    buf.truncate(n);
    Ok(buf)
}

/// The body of one payload (without its generic header), as emitted.
pub(crate) fn payload_body(payload: &PayloadRepr<'_>) -> Result<Vec<u8>, BuildError> {
    let bytes = chain_bytes(core::slice::from_ref(payload))?;
    Ok(bytes.get(4..).unwrap_or_default().to_vec())
}

/// An encrypted message: header (the E flag is added) and payloads,
/// encrypted with `chain`'s current IV. The chain does not move until the
/// returned [`PendingIv`] is committed.
pub(crate) fn emit_encrypted(
    mut header: HeaderRepr,
    payloads: &[PayloadRepr<'_>],
    cipher: &Cipher,
    chain: &IvChain,
    padding: Padding,
) -> Result<(Vec<u8>, PendingIv), BuildError> {
    header.flags |= Flags::ENCRYPTION;
    let first = payloads
        .first()
        .map_or(PayloadType::NONE, PayloadRepr::payload_type);
    let mut body = chain_bytes(payloads)?;
    let pending = chain
        .encrypt(cipher, &mut body, padding)
        .map_err(|_| BuildError)?;
    let bytes = EncryptedRepr {
        header,
        first_payload: first,
        ciphertext: &body,
    }
    .to_vec()
    .map_err(|_| BuildError)?;
    Ok((bytes, pending))
}

/// Decrypts an encrypted message's body with `chain`'s current IV.
pub(crate) fn decrypt(
    message: &Message<&[u8]>,
    cipher: &Cipher,
    chain: &IvChain,
) -> Result<(Vec<u8>, PendingIv), DropReason> {
    let mut body = message_body(message).to_vec();
    if body.is_empty() {
        return Err(DropReason::Crypto(CryptoDrop::DecryptFailed));
    }
    let pending = chain
        .decrypt(cipher, &mut body)
        .map_err(|_| DropReason::Crypto(CryptoDrop::DecryptFailed))?;
    Ok((body, pending))
}
