//! Main Mode (RFC 2409 s.5), initiator and responder, one type per
//! state; with pre-shared keys as drawn below, or with signatures (see
//! [`certauth`](super::certauth): CRs in MM3/MM4, CERT and SIG in place
//! of HASH in MM5/MM6).
//!
//! ```text
//! I: HDR, SA                  (MM1)   -> MainI1
//! R: HDR, SA                  (MM2)   -> MainR2
//! I: HDR, KE, Ni              (MM3)   -> MainI3
//! R: HDR, KE, Nr              (MM4)   -> MainR4
//! I: HDR*, IDii, HASH_I       (MM5)   -> MainI5
//! R: HDR*, IDir, HASH_R       (MM6)   -> established
//! ```
//!
//! Each state is named after the last message it sent; its handler
//! consumes it with the next message and returns a [`Verdict`]: the next
//! state, the same state back with the reason the message was dropped (a
//! bad message changes nothing), or a failure that ends the negotiation.

use std::time::Instant;

use isakmp_wire::{ExchangeType, Message, PayloadRepr, PayloadType};

use super::phase1::{
    AuthMessageError, AuthStep, FirstMessage, KeyedState, VidSlot, auth_hash, authenticate,
    encrypt_p1, establish, initial_contact, main_dh, no_psk, not_offered, peer_ke_nonce,
    phase1_cipher, phase1_keys, process_vids, transcript, vid_payloads,
};
use super::{IsakmpSa, P1, Verdict, certauth, nat};
use crate::config::IsakmpPolicy;
use crate::context::Context;
use crate::crypto::{Cipher, DhKeyPair, IvChain, Phase1Keys, Phase1Transcript};
use crate::event::{CryptoDrop, DropReason, FailReason, Phase1Suite, PolicyDrop, TraceEvent};
use crate::message::{Inbound, emit_clear, payload_body};
use crate::proposal::{accept_phase1_reply, phase1_sa, select_phase1};
use crate::types::IsakmpState;

/// Initiator after MM1.
pub(crate) struct MainI1 {
    policies: Vec<IsakmpPolicy>,
    sai_b: Vec<u8>,
}

/// Initiator after MM3.
pub(crate) struct MainI3 {
    pub(crate) suite: Phase1Suite,
    sai_b: Vec<u8>,
    dh: DhKeyPair,
    ni: Vec<u8>,
    psk: Vec<u8>,
}

/// Initiator after MM5: waits for MM6 (the responder authenticated,
/// phase 1 is up), which the dispatcher hands to
/// [`last_auth`](super::phase1::last_auth) with [`MM6`].
pub(crate) struct MainI5(pub(crate) KeyedState);

/// Responder after MM2.
pub(crate) struct MainR2 {
    pub(crate) suite: Phase1Suite,
    sai_b: Vec<u8>,
    psk: Vec<u8>,
}

/// Responder after MM4: waits for MM5.
pub(crate) struct MainR4(pub(crate) KeyedState);

/// MM5, the initiator's authentication: encrypted.
const MM5: AuthStep = AuthStep {
    name: "MM5",
    allow_clear: false,
    nat_d: false,
    wrap: |st| P1::MainR4(Box::new(MainR4(st))),
};

/// MM6, the responder's authentication: encrypted.
pub(crate) const MM6: AuthStep = AuthStep {
    name: "MM6",
    allow_clear: false,
    nat_d: false,
    wrap: |st| P1::MainI5(Box::new(MainI5(st))),
};

/// Initiator: MM1, offering `policies` (highest priority first).
pub(crate) fn initiate(
    cx: &Context,
    sa: &IsakmpSa,
    policies: Vec<IsakmpPolicy>,
) -> Option<(Vec<u8>, P1)> {
    let sa_payload = PayloadRepr::Sa(phase1_sa(&policies));
    let sai_b = payload_body(&sa_payload).ok()?;
    let mut payloads = vec![sa_payload];
    payloads.extend(vid_payloads(cx, VidSlot::First));
    payloads.extend(nat::vendor_ids(cx, sa));
    let bytes = emit_clear(sa.header(ExchangeType::IDENTITY_PROTECTION, 0), payloads).ok()?;
    Some((bytes, P1::MainI1(MainI1 { policies, sai_b })))
}

/// Responder: MM2, our choice from MM1.
pub(crate) fn answer(
    cx: &Context,
    sa: &IsakmpSa,
    first: FirstMessage<'_>,
    reply_sa: PayloadRepr<'_>,
) -> Option<(Vec<u8>, P1)> {
    let mut payloads = vec![reply_sa];
    payloads.extend(vid_payloads(cx, VidSlot::First));
    payloads.extend(nat::vendor_ids(cx, sa));
    let bytes = emit_clear(sa.header(ExchangeType::IDENTITY_PROTECTION, 0), payloads).ok()?;
    let state = P1::MainR2(MainR2 {
        suite: first.choice.suite,
        sai_b: first.sai_b,
        psk: first.psk,
    });
    Some((bytes, state))
}

impl MainI1 {
    /// MM2 received: the responder's choice, then MM3.
    pub(crate) fn handle(
        self,
        cx: &mut Context,
        now: Instant,
        sa: &mut IsakmpSa,
        inb: &Inbound<'_>,
    ) -> Verdict {
        let st = self;
        let Some(reply) = inb.sa() else {
            return Verdict::Reject(
                P1::MainI1(st),
                DropReason::unexpected("MM2 (SA)", inb.describe()),
            );
        };
        let ctx = sa.trace_sa();
        cx.trace(
            ctx,
            TraceEvent::ProcessingPayload {
                payload: PayloadType::SA,
                message_id: 0,
            },
        );
        let Ok(suite) = accept_phase1_reply(reply, &st.policies) else {
            return not_offered();
        };
        // A signature method needs no key: SKEYID comes from the nonces.
        let psk = if suite.auth.signature().is_some() {
            Vec::new()
        } else {
            let Some((psk, _, _)) = cx.config.psk_for_address(sa.remote.ip()) else {
                cx.trace(
                    ctx,
                    TraceEvent::NoPsk {
                        peer: sa.remote.ip(),
                    },
                );
                return no_psk();
            };
            let psk = psk.expose().to_vec();
            cx.trace(
                ctx,
                TraceEvent::FoundPsk {
                    peer: sa.remote.ip(),
                },
            );
            psk
        };
        if cx.tracing() {
            // IOS re-checks the responder's choice against its policies and
            // prints the same lines.
            let mut trace = Vec::new();
            let _ = select_phase1(reply, &st.policies, &mut trace, true);
            cx.trace_all(ctx, trace);
        }
        sa.rcookie = inb.header.responder_cookie;
        process_vids(cx, sa, inb);
        let dh = cx.dh(suite.group);
        let ni = cx.nonce();
        let identity = cx.local_identity(sa.local);
        if suite.auth.uses_pre_shared_key() {
            cx.trace(
                ctx,
                TraceEvent::PreSharedKeyAuth {
                    id_type: identity.type_name(),
                },
            );
        }
        if let Err(r) = send_ke_nonce(cx, now, sa, suite, &dh, &ni, IsakmpState::MmSaSetup) {
            return Verdict::Reject(P1::MainI1(st), r);
        }
        Verdict::Next(P1::MainI3(Box::new(MainI3 {
            suite,
            sai_b: st.sai_b,
            dh,
            ni,
            psk,
        })))
    }
}

impl MainI3 {
    /// MM4 received: keys, then MM5 (with INITIAL-CONTACT when
    /// `initial_contact`).
    pub(crate) fn handle(
        self,
        cx: &mut Context,
        now: Instant,
        sa: &mut IsakmpSa,
        inb: &Inbound<'_>,
        initial_contact: bool,
    ) -> Verdict {
        let st = self;
        let (g_xr, nr) = match peer_ke_nonce(inb, "MM4 (KE, NONCE)") {
            Ok(x) => x,
            Err(r) => return Verdict::Reject(P1::MainI3(Box::new(st)), r),
        };
        let g_xy = match main_dh(cx, sa, &st.dh, g_xr) {
            Ok(s) => s,
            Err(r) => return Verdict::Reject(P1::MainI3(Box::new(st)), r),
        };
        let suite = st.suite;
        if let Err(r) = nat::check_nat_d(cx, sa, suite.hash, inb) {
            return Verdict::Reject(P1::MainI3(Box::new(st)), r);
        }
        let keys = phase1_keys(cx, sa, suite, &st.psk, g_xy.expose(), &st.ni, nr);
        process_vids(cx, sa, inb);
        certauth::note_requests(sa, inb);
        let cipher = match phase1_cipher(&keys, suite) {
            Ok(c) => c,
            Err(v) => return v,
        };
        let mut iv = IvChain::phase1(suite.hash, suite.encryption, st.dh.public_value(), g_xr);
        let transcript = transcript(sa, st.dh.public_value(), g_xr, &st.sai_b);
        // A NAT on the path: MM5 and all after it go over the NAT-T port.
        let before_float = (sa.local, sa.remote, sa.nat.floated);
        nat::float_initiator(cx, sa);
        let bytes = match auth_message(
            cx,
            sa,
            &keys,
            &cipher,
            &mut iv,
            &transcript,
            (initial_contact, suite.auth),
        ) {
            Ok(b) => b,
            Err(e) => {
                (sa.local, sa.remote, sa.nat.floated) = before_float;
                let reason = match e {
                    AuthMessageError::Id => DropReason::Policy(PolicyDrop::InvalidId),
                    AuthMessageError::Emit => DropReason::Crypto(CryptoDrop::InvalidKeyExchange),
                    AuthMessageError::Iv => DropReason::Crypto(CryptoDrop::DecryptFailed),
                    AuthMessageError::Sign(r) => return certauth::cannot_sign(r),
                };
                return Verdict::Reject(P1::MainI3(Box::new(st)), reason);
            }
        };
        sa.send_p1(cx, now, bytes, true, IsakmpState::MmKeyExch);
        Verdict::Next(P1::MainI5(Box::new(MainI5(KeyedState::new(
            suite,
            st.sai_b,
            st.dh.public_value(),
            g_xr,
            keys,
            cipher,
            iv,
        )))))
    }
}

impl MainR2 {
    /// MM3 received: keys, then MM4.
    pub(crate) fn handle(
        self,
        cx: &mut Context,
        now: Instant,
        sa: &mut IsakmpSa,
        inb: &Inbound<'_>,
    ) -> Verdict {
        let st = self;
        let (g_xi, ni) = match peer_ke_nonce(inb, "MM3 (KE, NONCE)") {
            Ok(x) => x,
            Err(r) => return Verdict::Reject(P1::MainR2(st), r),
        };
        let suite = st.suite;
        if let Err(r) = nat::check_nat_d(cx, sa, suite.hash, inb) {
            return Verdict::Reject(P1::MainR2(st), r);
        }
        let dh = cx.dh(suite.group);
        let g_xy = match main_dh(cx, sa, &dh, g_xi) {
            Ok(s) => s,
            Err(r) => return Verdict::Reject(P1::MainR2(st), r),
        };
        let nr = cx.nonce();
        let keys = phase1_keys(cx, sa, suite, &st.psk, g_xy.expose(), ni, &nr);
        process_vids(cx, sa, inb);
        certauth::note_requests(sa, inb);
        let cipher = match phase1_cipher(&keys, suite) {
            Ok(c) => c,
            Err(v) => return v,
        };
        let iv = IvChain::phase1(suite.hash, suite.encryption, g_xi, dh.public_value());
        if let Err(r) = send_ke_nonce(cx, now, sa, suite, &dh, &nr, IsakmpState::MmKeyExch) {
            return Verdict::Reject(P1::MainR2(st), r);
        }
        Verdict::Next(P1::MainR4(Box::new(MainR4(KeyedState::new(
            suite,
            st.sai_b,
            g_xi,
            dh.public_value(),
            keys,
            cipher,
            iv,
        )))))
    }
}

impl MainR4 {
    /// MM5 received: authenticate, then MM6.
    pub(crate) fn handle(
        self,
        cx: &mut Context,
        now: Instant,
        sa: &mut IsakmpSa,
        m: &Message<&[u8]>,
    ) -> Verdict {
        let (mut st, identity, extras) = match authenticate(cx, now, sa, self.0, m, MM5) {
            Ok(x) => x,
            Err(v) => return v,
        };
        let transcript = transcript(sa, &st.g_xi, &st.g_xr, &st.sai_b);
        let bytes = match auth_message(
            cx,
            sa,
            &st.keys,
            &st.cipher,
            &mut st.iv,
            &transcript,
            (false, st.suite.auth),
        ) {
            Ok(b) => b,
            Err(AuthMessageError::Id) => {
                return Verdict::Fail {
                    reason: DropReason::Policy(PolicyDrop::InvalidId),
                    fail: FailReason::InvalidId,
                    notify: None,
                };
            }
            Err(AuthMessageError::Sign(r)) => return certauth::cannot_sign(r),
            Err(AuthMessageError::Emit | AuthMessageError::Iv) => {
                return Verdict::Fail {
                    reason: DropReason::Crypto(CryptoDrop::DecryptFailed),
                    fail: FailReason::Malformed,
                    notify: None,
                };
            }
        };
        // MM6 ends the exchange: no timer; a retransmitted MM5 is answered
        // by resending it.
        let next = establish(cx, now, sa, st, identity, extras);
        sa.send_p1(cx, now, bytes, false, IsakmpState::QmIdle);
        Verdict::Next(next)
    }
}

/// Our MM3 (initiator) or MM4 (responder): `HDR, KE, Nonce` with our
/// key-exchange vendor IDs and, with NAT-T agreed, the two NAT-D
/// payloads under the suite's hash (RFC 3947 s.3.2); in clear, sent in
/// IOS state `state` and retransmitted until answered. A message that
/// does not encode is refused as an invalid key exchange; nothing is
/// sent then.
fn send_ke_nonce(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    suite: Phase1Suite,
    dh: &DhKeyPair,
    nonce: &[u8],
    state: IsakmpState,
) -> Result<(), DropReason> {
    let nat_d = nat::nat_d_hashes(cx, sa, suite.hash);
    let config = cx.config.clone();
    let names = certauth::request_names(&config, suite.auth.signature().is_some());
    let mut payloads = vec![
        PayloadRepr::KeyExchange(dh.public_value()),
        PayloadRepr::Nonce(nonce),
    ];
    payloads.extend(certauth::request_payloads(&names));
    payloads.extend(vid_payloads(cx, VidSlot::KeyExchange));
    payloads.extend(nat::nat_d_payloads(sa, &nat_d));
    let bytes = emit_clear(sa.header(ExchangeType::IDENTITY_PROTECTION, 0), payloads)
        .map_err(|_| DropReason::Crypto(CryptoDrop::InvalidKeyExchange))?;
    sa.send_p1(cx, now, bytes, true, state);
    Ok(())
}

/// Our MM5 (initiator) or MM6 (responder): `HDR*, ID, HASH`, our HASH
/// being HASH_I or HASH_R by `sa.role` (RFC 2409 s.5), with
/// INITIAL-CONTACT when `with_initial_contact`; with a signature `auth`,
/// `HDR*, ID, [CERT], SIG` instead (s.5.1). Encrypted, and the phase-1 IV
/// moved past it.
fn auth_message(
    cx: &mut Context,
    sa: &IsakmpSa,
    keys: &Phase1Keys,
    cipher: &Cipher,
    iv: &mut IvChain,
    transcript: &Phase1Transcript<'_>,
    (with_initial_contact, auth): (bool, crate::config::Phase1Auth),
) -> Result<Vec<u8>, AuthMessageError> {
    let identity = cx.local_identity(sa.local);
    let (proto, port) = cx.config.identity_protocol_port;
    let id_repr = identity.to_id(proto, port);
    cx.trace(
        sa.trace_sa(),
        TraceEvent::IdPayload {
            next_payload: PayloadType::HASH.0,
            id_type: id_repr.data.id_type().0,
            protocol: proto,
            port,
            length: id_repr.data.data_len().saturating_add(4),
        },
    );
    let id_payload = PayloadRepr::Id(id_repr);
    let id_b = payload_body(&id_payload).map_err(|_| AuthMessageError::Id)?;
    let hash = auth_hash(keys, auth, sa.role, transcript, &id_b);
    let spi16 = sa.spi16();
    let config = cx.config.clone();
    let signature;
    let mut payloads = vec![id_payload];
    if auth.signature().is_some() {
        signature = certauth::sign(&config, &hash).map_err(AuthMessageError::Sign)?;
        payloads.extend(certauth::cert_payloads(&config, sa));
        payloads.push(PayloadRepr::Signature(&signature));
    } else {
        payloads.push(PayloadRepr::Hash(hash.as_bytes()));
    }
    if with_initial_contact {
        payloads.push(initial_contact(&spi16));
    }
    encrypt_p1(
        cx,
        sa,
        ExchangeType::IDENTITY_PROTECTION,
        &payloads,
        cipher,
        iv,
    )
}
