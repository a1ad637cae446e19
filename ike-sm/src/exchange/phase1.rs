//! What Main Mode and Aggressive Mode share (RFC 2409 s.5): the keyed
//! state that waits for the peer's authentication, the established SA,
//! key derivation, the authentication HASHes and their checking, vendor
//! IDs, and the responder's reading of a first message (MM1 or AM1).
//!
//! Vendor IDs ride along: the DPD one (RFC 3706) in MM1/MM2 and AM1/AM2,
//! Cisco IOS's in MM3/MM4 (where the seed's routers print "speaking to
//! another IOS box!") and AM1/AM2.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use isakmp_wire::{
    Doi, ExchangeType, Message, NotificationRepr, NotifyType, PayloadRepr, PayloadType,
    ProposalRepr, ProtocolId, SaRepr, vendor,
};

use super::{IsakmpSa, P1, Verdict};
use crate::context::Context;
use crate::crypto::{
    Cipher, DhKeyPair, HashValue, IvChain, Phase1Keys, Phase1Transcript, SecretBytes, Skeyid,
};
use crate::event::{
    CryptoDrop, DropReason, FailReason, LimitDrop, Phase1Suite, PolicyDrop, Received, StateDrop,
    TraceEvent, VendorKind,
};
use crate::message::{Inbound, decrypt, emit_encrypted};
use crate::proposal::{Phase1Choice, SIT_IDENTITY_ONLY, select_phase1};
use crate::types::{Identity, Role};

/// Any state that holds the keys and waits for the peer's authentication
/// (MM5/MM6/AM3).
pub(crate) struct KeyedState {
    pub(crate) suite: Phase1Suite,
    pub(crate) sai_b: Vec<u8>,
    pub(crate) g_xi: Vec<u8>,
    pub(crate) g_xr: Vec<u8>,
    pub(crate) keys: Phase1Keys,
    pub(crate) cipher: Cipher,
    pub(crate) iv: IvChain,
    /// Aggressive responder: the peer's identity (already received in
    /// AM1) and its ID payload body.
    pub(crate) peer: Option<(Identity, Vec<u8>)>,
}

impl KeyedState {
    /// The keys of either side once KE and nonces are exchanged: the
    /// public values in the RFC's order (the initiator's first), the peer's
    /// identity not known yet.
    pub(crate) fn new(
        suite: Phase1Suite,
        sai_b: Vec<u8>,
        g_xi: &[u8],
        g_xr: &[u8],
        keys: Phase1Keys,
        cipher: Cipher,
        iv: IvChain,
    ) -> Self {
        KeyedState {
            suite,
            sai_b,
            g_xi: g_xi.to_vec(),
            g_xr: g_xr.to_vec(),
            keys,
            cipher,
            iv,
            peer: None,
        }
    }
}

/// An established ISAKMP SA.
pub(crate) struct Established {
    pub(crate) suite: Phase1Suite,
    pub(crate) keys: Phase1Keys,
    pub(crate) cipher: Cipher,
    /// The final phase-1 CBC IV: the root of every message-ID chain.
    pub(crate) iv: IvChain,
    pub(crate) peer_identity: Identity,
    pub(crate) expires: Instant,
    pub(crate) soft: Option<Instant>,
}

/// What an authentication message carried besides ID and HASH.
pub(crate) struct AuthExtras {
    pub(crate) initial_contact: bool,
}

/// Where vendor IDs go.
#[derive(Clone, Copy)]
pub(crate) enum VidSlot {
    First,
    KeyExchange,
    Aggressive,
}

/// Our vendor ID payloads for a message slot.
pub(crate) fn vid_payloads(cx: &Context, phase: VidSlot) -> Vec<PayloadRepr<'static>> {
    let v = &cx.config.vendor_ids;
    let mut out = Vec::new();
    if v.cisco_ios && matches!(phase, VidSlot::KeyExchange | VidSlot::Aggressive) {
        out.push(PayloadRepr::VendorId(vendor::CISCO_IOS));
    }
    if v.dpd && matches!(phase, VidSlot::First | VidSlot::Aggressive) {
        out.push(PayloadRepr::VendorId(vendor::DPD));
    }
    let first = matches!(phase, VidSlot::First | VidSlot::Aggressive);
    if first && cx.config.policies.iter().any(|p| p.auth.is_xauth()) {
        out.push(PayloadRepr::VendorId(vendor::XAUTH));
    }
    if first && v.cisco_unity {
        out.push(PayloadRepr::VendorId(vendor::CISCO_UNITY));
    }
    if first && cx.config.fragmentation.enabled {
        out.push(PayloadRepr::VendorId(vendor::CISCO_FRAGMENTATION));
    }
    out
}

/// Reads the peer's vendor IDs (tracing them; DPD support noted).
pub(crate) fn process_vids(cx: &mut Context, sa: &mut IsakmpSa, inb: &Inbound<'_>) {
    for v in inb.vendor_ids() {
        let kind = if v.starts_with(vendor::CISCO_IOS_PREFIX) {
            VendorKind::CiscoIos
        } else if super::nat::note_vendor_id(cx, sa, v) {
            match isakmp_wire::nat_t::NatTVersion::from_vendor_id(v) {
                Some(version) => VendorKind::NatT(version),
                None => VendorKind::Unknown(v.to_vec()),
            }
        } else if v == vendor::DPD {
            sa.dpd.peer_supports = true;
            VendorKind::Dpd
        } else if let Some(f) = vendor::fragmentation_support(v) {
            if f.phase1() {
                sa.peer_fragmentation = true;
            }
            VendorKind::Fragmentation
        } else {
            VendorKind::Unknown(v.to_vec())
        };
        cx.trace(sa.trace_sa(), TraceEvent::VendorId(kind));
    }
}

/// The Diffie-Hellman secret of MM3/MM4 with the peer's public value,
/// traced as IOS processes those messages: KE, NONCE, then the
/// pre-shared key (chosen with MM1/MM2).
pub(crate) fn main_dh(
    cx: &mut Context,
    sa: &IsakmpSa,
    ours: &DhKeyPair,
    peer_public: &[u8],
) -> Result<SecretBytes, DropReason> {
    let ctx = sa.trace_sa();
    cx.trace(
        ctx,
        TraceEvent::ProcessingPayload {
            payload: PayloadType::KEY_EXCHANGE,
            message_id: 0,
        },
    );
    let g_xy = ours
        .shared_secret(peer_public)
        .map_err(|_| DropReason::Crypto(CryptoDrop::InvalidKeyExchange))?;
    cx.trace(
        ctx,
        TraceEvent::ProcessingPayload {
            payload: PayloadType::NONCE,
            message_id: 0,
        },
    );
    cx.trace(
        ctx,
        TraceEvent::FoundPsk {
            peer: sa.remote.ip(),
        },
    );
    Ok(g_xy)
}

/// SKEYID and the three keys derived from it (RFC 2409 s.5), for either
/// side: the nonces in the RFC's order, the initiator's first, whichever
/// side we are. `psk` is the pre-shared key of a pre-shared-key method;
/// a signature method (empty `psk`) keys SKEYID with the nonces.
pub(crate) fn phase1_keys(
    cx: &mut Context,
    sa: &IsakmpSa,
    suite: Phase1Suite,
    psk: &[u8],
    g_xy: &[u8],
    ni: &[u8],
    nr: &[u8],
) -> Phase1Keys {
    let skeyid = if suite.auth.signature().is_some() {
        Skeyid::signature(suite.hash, ni, nr, g_xy)
    } else {
        Skeyid::pre_shared_key(suite.hash, psk, ni, nr)
    };
    let keys = skeyid.derive(g_xy, &sa.icookie, &sa.rcookie);
    cx.trace(sa.trace_sa(), TraceEvent::SkeyidGenerated);
    keys
}

/// An encrypted phase-1 message (MM5, MM6, AM3), the IV moved past it.
pub(crate) fn encrypt_p1(
    cx: &Context,
    sa: &IsakmpSa,
    exchange: ExchangeType,
    payloads: &[PayloadRepr<'_>],
    cipher: &Cipher,
    iv: &mut IvChain,
) -> Result<Vec<u8>, AuthMessageError> {
    let (bytes, pending) = emit_encrypted(
        sa.header(exchange, 0),
        payloads,
        cipher,
        iv,
        cx.config.padding,
    )
    .map_err(|_| AuthMessageError::Emit)?;
    pending.commit(iv).map_err(|_| AuthMessageError::Iv)?;
    Ok(bytes)
}

/// Checks the peer's authentication: its HASH against `expected` (over
/// its ID payload), then its identity against the one configured for
/// the peer, if any.
pub(crate) fn check_peer_auth(
    cx: &Context,
    sa: &IsakmpSa,
    expected: &HashValue,
    received: &[u8],
    identity: &Identity,
) -> Result<(), Verdict> {
    if !expected.verify(received) {
        return Err(Verdict::Fail {
            reason: DropReason::Crypto(CryptoDrop::AuthenticationFailed),
            fail: FailReason::AuthenticationFailed,
            notify: Some(NotifyType::INVALID_HASH_INFORMATION),
        });
    }
    check_expected_identity(cx, sa, identity)
}

/// Checks the peer's (authenticated) identity against the one configured
/// for the peer, if any.
pub(crate) fn check_expected_identity(
    cx: &Context,
    sa: &IsakmpSa,
    identity: &Identity,
) -> Result<(), Verdict> {
    if let Some(want) = cx
        .config
        .peer(sa.remote.ip())
        .and_then(|p| p.expected_identity.as_ref())
        && want != identity
    {
        return Err(peer_id_refused());
    }
    Ok(())
}

/// Which authentication message a keyed state waits for.
#[derive(Clone, Copy)]
pub(crate) struct AuthStep {
    /// Its name, for drop reports ("MM5", "MM6", "AM3").
    pub(crate) name: &'static str,
    /// Whether it may come in clear (AM3, as some peers send it).
    pub(crate) allow_clear: bool,
    /// Whether it carries the peer's NAT-D (AM3, RFC 3947 s.3.2).
    pub(crate) nat_d: bool,
    /// Puts the state back in its wrapper when the message is dropped
    /// without ending the negotiation.
    pub(crate) wrap: fn(KeyedState) -> P1,
}

/// Decrypts and checks an authentication message (MM5, MM6, AM3):
/// the peer's ID (unless already known) and HASH.
pub(crate) fn authenticate(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    mut st: KeyedState,
    m: &Message<&[u8]>,
    step: AuthStep,
) -> Result<(KeyedState, Identity, AuthExtras), Verdict> {
    let AuthStep {
        name,
        allow_clear,
        nat_d,
        wrap,
    } = step;
    let h = m.header();
    let (plain, pending) = if m.is_encrypted() {
        let (body, pending) = decrypt(m, &st.cipher, &st.iv).map_err(malformed)?;
        (body, Some(pending))
    } else if allow_clear {
        (m.body().to_vec(), None)
    } else {
        return Err(Verdict::Reject(
            wrap(st),
            DropReason::Crypto(CryptoDrop::NotEncrypted),
        ));
    };
    // A wrong pre-shared key decrypts to garbage: this is where it shows.
    let inb = Inbound::decrypted(
        isakmp_wire::HeaderRepr::from_header(&h),
        h.next_payload(),
        &plain,
    )
    .map_err(malformed)?;
    let ctx = sa.trace_sa();
    let (identity, id_b) = match st.peer.clone() {
        Some(known) => known,
        None => {
            let Some(raw) = inb.raw(PayloadType::IDENTIFICATION) else {
                return Err(malformed(DropReason::missing(
                    name,
                    PayloadType::IDENTIFICATION,
                )));
            };
            cx.trace(
                ctx,
                TraceEvent::ProcessingPayload {
                    payload: PayloadType::IDENTIFICATION,
                    message_id: 0,
                },
            );
            let ids = inb.ids();
            let Some(identity) = ids.first().and_then(Identity::from_id) else {
                return Err(peer_id_refused());
            };
            (identity, raw.body().to_vec())
        }
    };
    let transcript = transcript(sa, &st.g_xi, &st.g_xr, &st.sai_b);
    let expected = auth_hash(
        &st.keys,
        st.suite.auth,
        peer_role(sa.role),
        &transcript,
        &id_b,
    );
    if let Some(alg) = st.suite.auth.signature() {
        if inb.raw(PayloadType::SIGNATURE).is_none() {
            return Err(malformed(DropReason::missing(name, PayloadType::SIGNATURE)));
        }
        cx.trace(
            ctx,
            TraceEvent::ProcessingPayload {
                payload: PayloadType::SIGNATURE,
                message_id: 0,
            },
        );
        let id = identity.to_id(0, 0);
        let verified = super::certauth::verify(cx, now, alg, &inb, &id, &expected)
            .map_err(super::certauth::refused)?;
        check_expected_identity(cx, sa, &identity)?;
        super::certauth::report(cx, sa, verified);
    } else {
        let Some(hash) = inb.hash() else {
            return Err(malformed(DropReason::missing(name, PayloadType::HASH)));
        };
        cx.trace(
            ctx,
            TraceEvent::ProcessingPayload {
                payload: PayloadType::HASH,
                message_id: 0,
            },
        );
        check_peer_auth(cx, sa, &expected, hash, &identity)?;
    }
    if nat_d && let Err(r) = super::nat::check_nat_d(cx, sa, st.suite.hash, &inb) {
        return Err(Verdict::Reject(wrap(st), r));
    }
    if let Some(p) = pending
        && p.commit(&mut st.iv).is_err()
    {
        return Err(Verdict::Reject(
            wrap(st),
            DropReason::Crypto(CryptoDrop::DecryptFailed),
        ));
    }
    let initial_contact = inb
        .notifications()
        .iter()
        .any(|n| n.notify_type == NotifyType::INITIAL_CONTACT);
    cx.trace(
        ctx,
        TraceEvent::Authenticated {
            peer: sa.remote.ip(),
        },
    );
    Ok((st, identity, AuthExtras { initial_contact }))
}

/// The established state, with its lifetime and (when we rekey) its
/// soft expiry.
pub(crate) fn establish(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    st: KeyedState,
    identity: Identity,
    extras: AuthExtras,
) -> P1 {
    let lifetime = Duration::from_secs(u64::from(st.suite.lifetime));
    let rekeys = sa.role == Role::Initiator || cx.config.rekey.responder_rekeys;
    let margin = cx.config.rekey.phase1_margin;
    let soft = rekeys.then(|| cx.soft_instant(now, lifetime, margin));
    sa.initial_contact = extras.initial_contact;
    P1::Established(Box::new(Established {
        suite: st.suite,
        keys: st.keys,
        cipher: st.cipher,
        iv: st.iv,
        peer_identity: identity,
        expires: now + lifetime,
        soft,
    }))
}

/// A message of the exchange's cleartext part (MM2, MM3, MM4, AM2)
/// for the state `st`: read, then handed to `step`; one that does not
/// read is dropped and the state kept (put back by `wrap`).
pub(crate) fn in_clear<S>(
    st: S,
    m: &Message<&[u8]>,
    wrap: fn(S) -> P1,
    step: impl FnOnce(S, &Inbound<'_>) -> Verdict,
) -> Verdict {
    match Inbound::clear(m) {
        Ok(inb) => step(st, &inb),
        Err(r) => Verdict::Reject(wrap(st), r),
    }
}

/// The exchange's last message received (MM6 by the initiator, AM3 by
/// the responder): authenticate the peer, stop retransmitting, done.
pub(crate) fn last_auth(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    st: KeyedState,
    m: &Message<&[u8]>,
    step: AuthStep,
) -> Verdict {
    match authenticate(cx, now, sa, st, m, step) {
        Ok((st, identity, extras)) => {
            sa.retx = None;
            Verdict::Next(establish(cx, now, sa, st, identity, extras))
        }
        Err(v) => v,
    }
}

/// An INITIAL-CONTACT notification for the ISAKMP SA `spi16`.
pub(crate) fn initial_contact(spi16: &[u8; 16]) -> PayloadRepr<'_> {
    PayloadRepr::Notification(NotificationRepr {
        doi: Doi::IPSEC,
        protocol: ProtocolId::ISAKMP,
        notify_type: NotifyType::INITIAL_CONTACT,
        spi: spi16,
        data: &[],
    })
}

/// RFC 2409 s.5: nonces are 8 to 256 bytes.
pub(crate) fn check_nonce(n: &[u8]) -> Result<(), DropReason> {
    if (8..=256).contains(&n.len()) {
        Ok(())
    } else {
        Err(DropReason::unexpected(
            "a nonce of 8 to 256 bytes",
            Received::NonceLength(n.len()),
        ))
    }
}

/// MM3 or MM4's KE and nonce, the nonce checked.
pub(crate) fn peer_ke_nonce<'a>(
    inb: &Inbound<'a>,
    expected: &'static str,
) -> Result<(&'a [u8], &'a [u8]), DropReason> {
    let (Some(ke), Some(nonce)) = (inb.ke(), inb.nonce()) else {
        return Err(DropReason::unexpected(expected, inb.describe()));
    };
    check_nonce(nonce)?;
    Ok((ke, nonce))
}

/// The responder chose nothing we offered (MM2/AM2): the negotiation
/// ends, without telling the peer.
pub(crate) fn not_offered() -> Verdict {
    Verdict::Fail {
        reason: DropReason::Policy(PolicyDrop::NoProposalChosen),
        fail: FailReason::NoProposalChosen,
        notify: None,
    }
}

/// No pre-shared key for the responder (MM2/AM2): the negotiation
/// ends, without telling the peer.
pub(crate) fn no_psk() -> Verdict {
    Verdict::Fail {
        reason: DropReason::Policy(PolicyDrop::NoPreSharedKey),
        fail: FailReason::NoPreSharedKey,
        notify: None,
    }
}

/// The peer's authentication message (MM5, MM6, AM3) does not read, or
/// a wrong pre-shared key decrypted it to garbage: the negotiation ends
/// with PAYLOAD-MALFORMED.
fn malformed(reason: DropReason) -> Verdict {
    Verdict::Fail {
        reason,
        fail: FailReason::Malformed,
        notify: Some(NotifyType::PAYLOAD_MALFORMED),
    }
}

/// The peer's identity does not read or is not the one configured for
/// it: the negotiation ends with INVALID-ID-INFORMATION.
fn peer_id_refused() -> Verdict {
    Verdict::Fail {
        reason: DropReason::Policy(PolicyDrop::InvalidId),
        fail: FailReason::InvalidId,
        notify: Some(NotifyType::INVALID_ID_INFORMATION),
    }
}

/// The phase-1 cipher under the derived key; a weak (DES) key ends the
/// negotiation.
pub(crate) fn phase1_cipher(keys: &Phase1Keys, suite: Phase1Suite) -> Result<Cipher, Verdict> {
    keys.cipher(suite.encryption).map_err(|_| Verdict::Fail {
        reason: DropReason::Crypto(CryptoDrop::InvalidKeyExchange),
        fail: FailReason::WeakKey,
        notify: None,
    })
}

/// What HASH_I and HASH_R cover (RFC 2409 s.5): the public values in
/// the RFC's order (the initiator's first, whichever side we are), the
/// SA's cookies and the initiator's SA payload body.
pub(crate) fn transcript<'a>(
    sa: &IsakmpSa,
    g_xi: &'a [u8],
    g_xr: &'a [u8],
    sai_b: &'a [u8],
) -> Phase1Transcript<'a> {
    Phase1Transcript {
        g_xi,
        g_xr,
        cky_i: sa.icookie,
        cky_r: sa.rcookie,
        sai_b,
    }
}

/// The HASH that authenticates `sender` over its ID payload body `id_b`:
/// HASH_I for the initiator, HASH_R for the responder (RFC 2409 s.5).
pub(crate) fn auth_hash(
    keys: &Phase1Keys,
    auth: crate::config::Phase1Auth,
    sender: Role,
    transcript: &Phase1Transcript<'_>,
    id_b: &[u8],
) -> HashValue {
    use crate::crypto::HashAlgorithm;
    use ike_pki::SignatureAlgorithm as S;
    // RFC 4754: an ECDSA method's HASH is computed with its curve's hash
    // (HMAC keyed with SKEYID), whatever PRF the suite negotiated.
    let prf = match auth.signature() {
        Some(S::EcdsaP256) => HashAlgorithm::Sha2_256,
        Some(S::EcdsaP384) => HashAlgorithm::Sha2_384,
        Some(S::EcdsaP521) => HashAlgorithm::Sha2_512,
        _ => keys.prf_algorithm(),
    };
    match sender {
        Role::Initiator => keys.hash_i_with(prf, transcript, id_b),
        Role::Responder => keys.hash_r_with(prf, transcript, id_b),
    }
}

/// The other side of an exchange.
fn peer_role(ours: Role) -> Role {
    match ours {
        Role::Initiator => Role::Responder,
        Role::Responder => Role::Initiator,
    }
}

/// Why our MM5, MM6 or AM3 could not be built; each handler says what
/// that means for the negotiation.
pub(crate) enum AuthMessageError {
    /// Our ID payload did not encode.
    Id,
    /// The message did not encode or encrypt.
    Emit,
    /// The IV could not move past the message.
    Iv,
    /// We could not sign (certificate authentication).
    Sign(crate::event::CertRefusal),
}

/// A first message (MM1 or AM1) the responder has read and accepted:
/// everything its answer needs. The SA does not exist yet; the
/// dispatcher creates it (spending a cookie and a conn-id) only for an
/// acceptable first message.
pub(crate) struct FirstMessage<'m> {
    pub(crate) inb: Inbound<'m>,
    pub(crate) aggressive: bool,
    pub(crate) sai_b: Vec<u8>,
    pub(crate) psk: Vec<u8>,
    /// The peer's identity (Aggressive Mode: in AM1).
    pub(crate) peer_identity: Option<Identity>,
    pub(crate) choice: Phase1Choice<'m>,
    /// Trace steps held until the SA has its conn-id.
    pub(crate) early: Vec<TraceEvent>,
}

impl<'m> FirstMessage<'m> {
    /// Our SA payload in reply: the chosen proposal with the chosen
    /// transform.
    pub(crate) fn reply_sa(&self) -> PayloadRepr<'m> {
        PayloadRepr::Sa(SaRepr {
            situation: SIT_IDENTITY_ONLY,
            proposals: vec![ProposalRepr {
                number: self.choice.proposal,
                protocol: ProtocolId::ISAKMP,
                spi: &[],
                transforms: vec![self.choice.transform.clone()],
            }],
        })
    }
}

/// Why a first message is refused: the reason to report and the trace
/// steps held until then (traced without an SA).
pub(crate) struct FirstRefused {
    pub(crate) reason: DropReason,
    pub(crate) early: Vec<TraceEvent>,
}

/// Responder: reads a first message (MM1 / AM1, zero responder cookie):
/// its SA payload, the pre-shared key for the peer (by address for Main
/// Mode, by identity for Aggressive) and our choice of transform. A
/// refused proposal is answered with a cleartext NO-PROPOSAL-CHOSEN.
pub(crate) fn read_first<'m>(
    cx: &mut Context,
    local: SocketAddr,
    remote: SocketAddr,
    message: &Message<&'m [u8]>,
) -> Result<FirstMessage<'m>, FirstRefused> {
    let refuse = |reason, early| Err(FirstRefused { reason, early });
    let h = message.header();
    let inb = match Inbound::clear(message) {
        Ok(i) => i,
        Err(r) => return refuse(r, Vec::new()),
    };
    let aggressive = h.exchange_type() == ExchangeType::AGGRESSIVE;
    let name = if aggressive { "AM1" } else { "MM1" };
    let Some(sa_payload) = inb.sa() else {
        return refuse(DropReason::missing(name, PayloadType::SA), Vec::new());
    };
    let Some(sai_raw) = inb.raw(PayloadType::SA) else {
        return refuse(DropReason::State(StateDrop::UnknownSa), Vec::new());
    };
    let sai_b = sai_raw.body().to_vec();
    if sa_payload.situation != SIT_IDENTITY_ONLY {
        return refuse(
            DropReason::unexpected(
                "situation SIT_IDENTITY_ONLY",
                Received::Situation(sa_payload.situation),
            ),
            Vec::new(),
        );
    }
    // IOS numbers the SA from its first message ("(0:2): processing SA
    // payload"), but this engine creates it (and spends a conn-id) only
    // once the message is acceptable, so that a refused first message
    // costs nothing: the steps until then are held and traced with the
    // SA's conn-id once it exists, without one if it never does.
    let mut early = vec![TraceEvent::ProcessingPayload {
        payload: PayloadType::SA,
        message_id: 0,
    }];
    // The key, by address for Main Mode; by identity for Aggressive.
    let peer_identity = if aggressive {
        let ids = inb.ids();
        let Some(id) = ids.first().and_then(Identity::from_id) else {
            return refuse(
                DropReason::missing(name, PayloadType::IDENTIFICATION),
                early,
            );
        };
        Some(id)
    } else {
        None
    };
    // Aggressive Mode: the policy first, whether or not a key exists; a
    // refusal and a missing key get the same reply (see
    // `AggressiveModePolicy`).
    if let Some(i) = &peer_identity
        && !cx.config.aggressive_mode.answers(remote.ip(), i)
    {
        auth_failed(cx, local, remote, h.initiator_cookie());
        return refuse(DropReason::Policy(PolicyDrop::AggressiveModeRefused), early);
    }
    let policies = cx.config.sorted_policies();
    // With certificate policies, a peer without a key may still be
    // answered: whether it needs one is known once a policy is chosen.
    let signatures = policies.iter().any(|p| p.auth.signature().is_some());
    let psk = match &peer_identity {
        Some(i) => cx.config.psk_for_identity(i).map(|k| k.expose().to_vec()),
        None => cx
            .config
            .psk_for_address(remote.ip())
            .map(|(k, _, _)| k.expose().to_vec()),
    };
    let no_key = |cx: &mut Context, mut early: Vec<TraceEvent>| {
        early.push(TraceEvent::NoPsk { peer: remote.ip() });
        if aggressive {
            auth_failed(cx, local, remote, h.initiator_cookie());
        }
        refuse(DropReason::Policy(PolicyDrop::NoPreSharedKey), early)
    };
    match &psk {
        Some(_) => early.push(TraceEvent::FoundPsk { peer: remote.ip() }),
        None if signatures => {}
        None => return no_key(cx, early),
    }
    let choice = select_phase1(sa_payload, &policies, &mut early, cx.tracing());
    let Some(choice) = choice else {
        cx.trace_all(None, core::mem::take(&mut early));
        cx.send_clear_notify_to(
            local,
            remote,
            h.initiator_cookie(),
            [0; 8],
            NotifyType::NO_PROPOSAL_CHOSEN,
            ProtocolId::ISAKMP,
            &[],
            None,
        );
        return refuse(DropReason::Policy(PolicyDrop::NoProposalChosen), early);
    };
    let psk = match psk {
        Some(k) => k,
        None if choice.suite.auth.signature().is_some() => Vec::new(),
        None => return no_key(cx, early),
    };
    Ok(FirstMessage {
        inb,
        aggressive,
        sai_b,
        psk,
        peer_identity,
        choice,
        early,
    })
}

/// The dispatcher could not draw a responder cookie for a first message:
/// reported as the half-open cap (the cookie space is what is full).
pub(crate) fn no_cookie() -> DropReason {
    DropReason::Limit(LimitDrop::HalfOpen)
}

/// The one reply to an AM1 we do not answer, whether the policy refused
/// it or no key exists for its identity: an unprotected Informational
/// with AUTHENTICATION-FAILED, 40 bytes.
fn auth_failed(
    cx: &mut Context,
    local: SocketAddr,
    remote: SocketAddr,
    icookie: isakmp_wire::Cookie,
) {
    cx.send_clear_notify_to(
        local,
        remote,
        icookie,
        [0; 8],
        NotifyType::AUTHENTICATION_FAILED,
        ProtocolId::ISAKMP,
        &[],
        None,
    );
}
