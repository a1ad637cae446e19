//! Decryption and verification of recorded IKEv1 exchanges: the library
//! side of the `ikev1-decrypt` tool (issue 3 item 6), as Wireshark's
//! ISAKMP dissector decrypts, but also checking every HASH it can.
//!
//! Give it the messages of one or more exchanges in the order they were
//! seen, each with its sender, and one of:
//!
//! - [`Keys::Table`]: Wireshark's `ikev1_decryption_table` rows (initiator
//!   cookie -> Ka, the phase-1 encryption key). Enough to decrypt; the
//!   HASHes cannot be checked without SKEYID (`hash_verified` is `None`).
//! - [`Keys::Psk`]: the pre-shared key and one side's Diffie-Hellman
//!   private value. Everything is recomputed (RFC 2409 s.5: SKEYID,
//!   SKEYID_d/_a/_e, Ka per Appendix B) and every HASH checked: HASH_I and
//!   HASH_R of Main and Aggressive Mode, Quick Mode HASH(1)/(2)/(3), and
//!   the Informational HASH.
//!
//! IVs follow RFC 2409 Appendix B: the phase-1 chain from hash(g^xi |
//! g^xr), continued message by message; Quick Mode and Informational
//! chains from the last phase-1 block and the message ID. A message whose
//! bytes repeat an earlier one is a retransmission: it is reported like
//! the original and does not advance any chain.

use std::collections::BTreeMap;

use isakmp_wire::{Cookie, ExchangeType, Message, PayloadRepr, PayloadType};

use crate::crypto::{Cipher, DhGroup, DhKeyPair, IvChain, Phase1Keys, Phase1Transcript, Skeyid};
use crate::message::{Inbound, decrypt};
use crate::proposal::{Phase1Offer, decode_phase1};

/// Who sent a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sender {
    /// The phase-1 initiator.
    Initiator,
    /// The phase-1 responder.
    Responder,
}

/// One recorded message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedMessage {
    /// Its pcap frame number (1-based), when read from a capture.
    pub frame: Option<u64>,
    /// Who sent it.
    pub sender: Sender,
    /// The ISAKMP message (UDP payload, without a NAT-T marker).
    pub bytes: Vec<u8>,
}

/// The keys to decrypt with.
#[derive(Clone)]
#[non_exhaustive]
pub enum Keys {
    /// Wireshark's table: initiator cookie -> Ka.
    Table(Vec<(Cookie, Vec<u8>)>),
    /// A pre-shared key and the Diffie-Hellman private value of `side`.
    Psk {
        /// The pre-shared key.
        psk: Vec<u8>,
        /// The private value x (big-endian).
        dh_private: Vec<u8>,
        /// Whose private value it is.
        side: Sender,
    },
}

impl core::fmt::Debug for Keys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Keys::Table(rows) => write!(f, "Keys::Table(<{} rows redacted>)", rows.len()),
            Keys::Psk { side, .. } => write!(f, "Keys::Psk {{ side: {side:?}, <redacted> }}"),
        }
    }
}

impl Keys {
    /// Parses Wireshark's `ikev1_decryption_table` (lines `cookie,key` in
    /// hex; `#` comments and blank lines ignored; quotes allowed).
    ///
    /// # Errors
    /// A description of the first bad line.
    pub fn parse_table(text: &str) -> Result<Self, String> {
        let mut rows = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (c, k) = line
                .split_once(',')
                .ok_or_else(|| format!("line {}: expected `cookie,key`", n + 1))?;
            let c = from_hex(c.trim().trim_matches('"'))
                .ok_or_else(|| format!("line {}: cookie is not hex", n + 1))?;
            let k = from_hex(k.trim().trim_matches('"'))
                .ok_or_else(|| format!("line {}: key is not hex", n + 1))?;
            let cookie: Cookie = c
                .try_into()
                .map_err(|_| format!("line {}: cookie is not 8 bytes", n + 1))?;
            rows.push((cookie, k));
        }
        Ok(Keys::Table(rows))
    }
}

/// Decodes hex (an optional `0x` prefix, no separators).
#[must_use]
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.strip_prefix("0x").unwrap_or(s);
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecryptedMessage {
    /// Position in the input (0-based).
    pub index: usize,
    /// pcap frame number, if known.
    pub frame: Option<u64>,
    /// Sender.
    pub sender: Sender,
    /// Exchange type.
    pub exchange: ExchangeType,
    /// Message ID.
    pub message_id: u32,
    /// Whether the E flag was set.
    pub encrypted: bool,
    /// Whether the payloads could be read (cleartext, or decrypted and
    /// parsed).
    pub decrypted: bool,
    /// Payload types in order (empty when unreadable).
    pub payloads: Vec<PayloadType>,
    /// `Some(true/false)` for a message with a HASH that could be checked,
    /// `None` otherwise.
    pub hash_verified: Option<bool>,
    /// Whether it repeats an earlier message byte for byte.
    pub retransmission: bool,
    /// The decrypted body, padding included.
    pub plaintext: Option<Vec<u8>>,
    /// Why it could not be read or checked.
    pub note: Option<String>,
}

#[derive(Default)]
struct Track {
    icookie: Cookie,
    rcookie: Cookie,
    sai_b: Option<Vec<u8>>,
    chosen: Option<Phase1Offer>,
    g_xi: Option<Vec<u8>>,
    g_xr: Option<Vec<u8>>,
    ni: Option<Vec<u8>>,
    nr: Option<Vec<u8>>,
    id_i_b: Option<Vec<u8>>,
    id_r_b: Option<Vec<u8>>,
    keys: Option<Phase1Keys>,
    cipher: Option<Cipher>,
    iv: Option<IvChain>,
    qm: BTreeMap<u32, QmTrack>,
    seen: Vec<(Vec<u8>, DecryptedMessage)>,
    failed: Option<String>,
}

#[derive(Default)]
struct QmTrack {
    iv: Option<IvChain>,
    ni: Option<Vec<u8>>,
    nr: Option<Vec<u8>>,
}

/// Decrypts and checks `messages` (see the module documentation).
#[must_use]
pub fn decrypt_exchange(messages: &[RecordedMessage], keys: &Keys) -> Vec<DecryptedMessage> {
    let mut tracks: BTreeMap<Cookie, Track> = BTreeMap::new();
    messages
        .iter()
        .enumerate()
        .map(|(index, m)| one(index, m, keys, &mut tracks))
        .collect()
}

fn one(
    index: usize,
    m: &RecordedMessage,
    keys: &Keys,
    tracks: &mut BTreeMap<Cookie, Track>,
) -> DecryptedMessage {
    let mut out = DecryptedMessage {
        index,
        frame: m.frame,
        sender: m.sender,
        exchange: ExchangeType(0),
        message_id: 0,
        encrypted: false,
        decrypted: false,
        payloads: Vec::new(),
        hash_verified: None,
        retransmission: false,
        plaintext: None,
        note: None,
    };
    let message = match Message::new_checked(&m.bytes[..]) {
        Ok(x) => x,
        Err(e) => {
            out.note = Some(format!("not an ISAKMP message: {e}"));
            return out;
        }
    };
    let h = message.header();
    out.exchange = h.exchange_type();
    out.message_id = h.message_id();
    out.encrypted = message.is_encrypted();
    let track = tracks.entry(h.initiator_cookie()).or_default();
    track.icookie = h.initiator_cookie();
    if h.responder_cookie() != [0; 8] {
        track.rcookie = h.responder_cookie();
    }
    if let Some((_, prev)) = track.seen.iter().find(|(b, _)| b == &m.bytes) {
        let mut r = prev.clone();
        r.index = index;
        r.frame = m.frame;
        r.retransmission = true;
        return r;
    }
    if out.encrypted {
        encrypted(&mut out, &message, keys, h.initiator_cookie(), track);
    } else {
        match Inbound::clear(&message) {
            Ok(inb) => {
                out.decrypted = true;
                out.payloads = inb.raw.iter().map(|p| p.payload_type()).collect();
                clear(&mut out, &inb, m.sender, keys, h.initiator_cookie(), track);
            }
            Err(e) => out.note = Some(format!("malformed: {e:?}")),
        }
    }
    track.seen.push((m.bytes.clone(), out.clone()));
    out
}

/// Records what a cleartext message carries; checks AM2's HASH_R.
fn clear(
    out: &mut DecryptedMessage,
    inb: &Inbound<'_>,
    sender: Sender,
    keys: &Keys,
    icookie: Cookie,
    t: &mut Track,
) {
    let phase1 = matches!(
        out.exchange,
        ExchangeType::IDENTITY_PROTECTION | ExchangeType::AGGRESSIVE
    );
    if !phase1 {
        return;
    }
    if let Some(raw) = inb.raw(PayloadType::SA) {
        match sender {
            Sender::Initiator => t.sai_b = Some(raw.body().to_vec()),
            Sender::Responder => {
                t.chosen = inb.sa().and_then(|sa| {
                    let p = sa.proposals.first()?;
                    decode_phase1(p.transforms.first()?).ok()
                });
            }
        }
    }
    let (ke, nonce, id) = (inb.ke(), inb.nonce(), inb.raw(PayloadType::IDENTIFICATION));
    match sender {
        Sender::Initiator => {
            t.g_xi = ke.map(<[u8]>::to_vec).or(t.g_xi.take());
            t.ni = nonce.map(<[u8]>::to_vec).or(t.ni.take());
            t.id_i_b = id.map(|p| p.body().to_vec()).or(t.id_i_b.take());
        }
        Sender::Responder => {
            t.g_xr = ke.map(<[u8]>::to_vec).or(t.g_xr.take());
            t.nr = nonce.map(<[u8]>::to_vec).or(t.nr.take());
            t.id_r_b = id.map(|p| p.body().to_vec()).or(t.id_r_b.take());
        }
    }
    derive(t, keys, icookie);
    // Aggressive Mode: HASH_R travels in the clear in AM2.
    if out.exchange == ExchangeType::AGGRESSIVE
        && sender == Sender::Responder
        && let (Some(hash), Some(k), Some(id_r)) = (inb.hash(), &t.keys, &t.id_r_b)
    {
        let ok = transcript(t).map(|tr| k.hash_r(&tr, id_r).verify(hash));
        out.hash_verified = ok;
    }
    if out.exchange == ExchangeType::AGGRESSIVE
        && sender == Sender::Initiator
        && inb.hash().is_some()
    {
        // A cleartext AM3.
        if let (Some(hash), Some(k), Some(id_i)) = (inb.hash(), &t.keys, &t.id_i_b) {
            out.hash_verified = transcript(t).map(|tr| k.hash_i(&tr, id_i).verify(hash));
        }
    }
}

fn transcript(t: &Track) -> Option<Phase1Transcript<'_>> {
    Some(Phase1Transcript {
        g_xi: t.g_xi.as_deref()?,
        g_xr: t.g_xr.as_deref()?,
        cky_i: t.icookie,
        cky_r: t.rcookie,
        sai_b: t.sai_b.as_deref()?,
    })
}

/// Sets up the cipher, the phase-1 IV and (with a PSK) the keys once the
/// exchange has shown enough.
fn derive(t: &mut Track, keys: &Keys, icookie: Cookie) {
    if t.cipher.is_some() || t.failed.is_some() {
        return;
    }
    let (Some(chosen), Some(g_xi), Some(g_xr)) = (t.chosen, t.g_xi.clone(), t.g_xr.clone()) else {
        return;
    };
    match keys {
        Keys::Table(rows) => {
            let Some((_, ka)) = rows.iter().find(|(c, _)| *c == icookie) else {
                t.failed = Some("initiator cookie not in the key table".into());
                return;
            };
            match Cipher::new(chosen.encryption, ka) {
                Ok(c) => t.cipher = Some(c),
                Err(e) => {
                    t.failed = Some(format!("key table entry unusable: {e}"));
                    return;
                }
            }
        }
        Keys::Psk {
            psk,
            dh_private,
            side,
        } => {
            let (Some(ni), Some(nr)) = (t.ni.clone(), t.nr.clone()) else {
                return;
            };
            let (own, peer) = match side {
                Sender::Initiator => (&g_xi, &g_xr),
                Sender::Responder => (&g_xr, &g_xi),
            };
            let pair = match DhKeyPair::from_private_value(chosen.group, dh_private) {
                Ok(p) => p,
                Err(e) => {
                    t.failed = Some(format!("DH private value: {e}"));
                    return;
                }
            };
            if pair.public_value() != own.as_slice() {
                t.failed = Some("the DH private value does not match the recorded KE".into());
                return;
            }
            let g_xy = match pair.shared_secret(peer) {
                Ok(s) => s,
                Err(e) => {
                    t.failed = Some(format!("DH: {e}"));
                    return;
                }
            };
            let k = Skeyid::pre_shared_key(chosen.hash, psk, &ni, &nr).derive(
                g_xy.expose(),
                &icookie,
                &t.rcookie,
            );
            match k.cipher(chosen.encryption) {
                Ok(c) => t.cipher = Some(c),
                Err(e) => {
                    t.failed = Some(format!("derived key unusable: {e}"));
                    return;
                }
            }
            t.keys = Some(k);
        }
    }
    t.iv = Some(IvChain::phase1(
        chosen.hash,
        chosen.encryption,
        &g_xi,
        &g_xr,
    ));
}

fn encrypted(
    out: &mut DecryptedMessage,
    message: &Message<&[u8]>,
    keys: &Keys,
    icookie: Cookie,
    t: &mut Track,
) {
    derive(t, keys, icookie);
    if let Some(f) = &t.failed {
        out.note = Some(f.clone());
        return;
    }
    let (Some(cipher), Some(p1)) = (t.cipher.clone(), t.iv.clone()) else {
        out.note = Some(
            "no keys yet (the exchange so far does not show the algorithms, KE and nonces)".into(),
        );
        return;
    };
    let mid = out.message_id;
    let phase1 = matches!(
        out.exchange,
        ExchangeType::IDENTITY_PROTECTION | ExchangeType::AGGRESSIVE
    );
    let chain = if phase1 {
        p1
    } else if out.exchange == ExchangeType::QUICK_MODE {
        t.qm.entry(mid)
            .or_default()
            .iv
            .clone()
            .unwrap_or_else(|| p1.for_message_id(mid))
    } else {
        p1.for_message_id(mid)
    };
    let (plain, pending) = match decrypt(message, &cipher, &chain) {
        Ok(x) => x,
        Err(_) => {
            out.note = Some("ciphertext is not whole blocks".into());
            return;
        }
    };
    let h = message.header();
    let hash_check;
    {
        let inb = match Inbound::decrypted(
            isakmp_wire::HeaderRepr::from_header(&h),
            h.next_payload(),
            &plain,
        ) {
            Ok(i) => i,
            Err(e) => {
                out.note = Some(format!(
                    "decrypts to something unreadable (wrong key or IV?): {e:?}"
                ));
                return;
            }
        };
        out.decrypted = true;
        out.payloads = inb.raw.iter().map(|p| p.payload_type()).collect();
        hash_check = check_hash(out, &inb, t);
    }
    out.hash_verified = hash_check;
    out.plaintext = Some(plain.clone());
    let mut next = chain;
    if pending.commit(&mut next).is_ok() {
        if phase1 {
            t.iv = Some(next);
        } else if out.exchange == ExchangeType::QUICK_MODE {
            t.qm.entry(mid).or_default().iv = Some(next);
        }
    }
}

fn check_hash(out: &DecryptedMessage, inb: &Inbound<'_>, t: &mut Track) -> Option<bool> {
    let mid = out.message_id;
    match out.exchange {
        ExchangeType::IDENTITY_PROTECTION | ExchangeType::AGGRESSIVE => {
            let id = inb
                .raw(PayloadType::IDENTIFICATION)
                .map(|p| p.body().to_vec());
            match out.sender {
                Sender::Initiator => t.id_i_b = id.or(t.id_i_b.take()),
                Sender::Responder => t.id_r_b = id.or(t.id_r_b.take()),
            }
            let hash = inb.hash()?;
            let k = t.keys.as_ref()?;
            let tr = transcript(t)?;
            Some(match out.sender {
                Sender::Initiator => k.hash_i(&tr, t.id_i_b.as_deref()?).verify(hash),
                Sender::Responder => k.hash_r(&tr, t.id_r_b.as_deref()?).verify(hash),
            })
        }
        ExchangeType::QUICK_MODE => {
            let (hash, rest) = inb.leading_hash()?;
            let nonce = inb.typed.iter().find_map(|p| match p {
                PayloadRepr::Nonce(n) => Some(n.to_vec()),
                _ => None,
            });
            let node = t.qm.entry(mid).or_default();
            let k = t.keys.as_ref();
            match (out.sender, node.ni.clone(), node.nr.clone()) {
                (Sender::Initiator, None, _) => {
                    node.ni = nonce;
                    k.map(|k| k.quick_mode_hash1(mid, rest).verify(hash))
                }
                (Sender::Responder, Some(ni), _) => {
                    node.nr = nonce;
                    k.map(|k| k.quick_mode_hash2(mid, &ni, rest).verify(hash))
                }
                (Sender::Initiator, Some(ni), Some(nr)) => {
                    k.map(|k| k.quick_mode_hash3(mid, &ni, &nr).verify(hash))
                }
                _ => None,
            }
        }
        ExchangeType::INFORMATIONAL => {
            let (hash, rest) = inb.leading_hash()?;
            t.keys
                .as_ref()
                .map(|k| k.informational_hash(mid, rest).verify(hash))
        }
        _ => None,
    }
}

/// The group a recorded exchange negotiated, for tools that must size a
/// private value.
#[must_use]
pub fn group_of(messages: &[RecordedMessage]) -> Option<DhGroup> {
    messages.iter().find_map(|m| {
        if m.sender != Sender::Responder {
            return None;
        }
        let message = Message::new_checked(&m.bytes[..]).ok()?;
        let inb = Inbound::clear(&message).ok()?;
        let sa = inb.sa()?;
        let t = sa.proposals.first()?.transforms.first()?;
        decode_phase1(t).ok().map(|o| o.group)
    })
}
