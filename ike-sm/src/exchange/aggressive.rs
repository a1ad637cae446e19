//! Aggressive Mode (RFC 2409 s.5 and s.5.4), initiator and responder,
//! one type per state; with pre-shared keys as drawn below, or with
//! signatures (see [`certauth`](super::certauth): CRs in AM1/AM2, CERT
//! and SIG in place of HASH in AM2/AM3).
//!
//! ```text
//! I: HDR, SA, KE, Ni, IDii            (AM1)   -> AggrI1
//! R: HDR, SA, KE, Nr, IDir, HASH_R    (AM2)   -> AggrR2
//! I: HDR*, HASH_I                     (AM3)   -> established (both)
//! ```
//!
//! AM1 carries one KE, so the initiator offers only the transforms of its
//! first policy's group. AM3 is sent encrypted (as IOS and most peers
//! do); a cleartext AM3 is accepted too.

use std::time::Instant;

use isakmp_wire::{ExchangeType, PayloadRepr, PayloadType};

use super::phase1::{
    AuthExtras, AuthStep, FirstMessage, KeyedState, VidSlot, auth_hash, check_expected_identity,
    check_nonce, check_peer_auth, encrypt_p1, establish, initial_contact, no_psk, not_offered,
    phase1_cipher, phase1_keys, process_vids, transcript, vid_payloads,
};
use super::{IsakmpSa, P1, Verdict, certauth, nat};
use crate::config::IsakmpPolicy;
use crate::context::Context;
use crate::crypto::{DhKeyPair, IvChain};
use crate::event::{CryptoDrop, DropReason, FailReason, PolicyDrop, TraceEvent};
use crate::message::{Inbound, emit_clear, payload_body};
use crate::proposal::{accept_phase1_reply, phase1_sa};
use crate::types::{Identity, IsakmpState, Role};

/// Initiator after AM1.
pub(crate) struct AggrI1 {
    policies: Vec<IsakmpPolicy>,
    sai_b: Vec<u8>,
    dh: DhKeyPair,
    ni: Vec<u8>,
    id_b: Vec<u8>,
}

/// Responder after AM2: waits for AM3 (the initiator authenticated,
/// phase 1 is up), which the dispatcher hands to
/// [`last_auth`](super::phase1::last_auth) with [`AM3`].
pub(crate) struct AggrR2(pub(crate) KeyedState);

/// AM3, the initiator's authentication: encrypted as IOS sends it, or in
/// clear as some peers do.
pub(crate) const AM3: AuthStep = AuthStep {
    name: "AM3",
    allow_clear: true,
    nat_d: true,
    wrap: |st| P1::AggrR2(Box::new(AggrR2(st))),
};

/// Initiator: AM1, offering the policies of the first one's group.
pub(crate) fn initiate(
    cx: &mut Context,
    sa: &IsakmpSa,
    policies: &[IsakmpPolicy],
    first: IsakmpPolicy,
) -> Option<(Vec<u8>, P1)> {
    // One KE: only the transforms of the first policy's group.
    let offered: Vec<IsakmpPolicy> = policies
        .iter()
        .filter(|p| p.group == first.group)
        .copied()
        .collect();
    let dh = cx.dh(first.group);
    let ni = cx.nonce();
    let identity = cx.local_identity(sa.local);
    let id_payload = cx.id_payload(&identity);
    let id_b = payload_body(&id_payload).ok()?;
    let sa_payload = PayloadRepr::Sa(phase1_sa(&offered));
    let sai_b = payload_body(&sa_payload).ok()?;
    let config = cx.config.clone();
    let signs = offered.iter().any(|p| p.auth.signature().is_some());
    let names = certauth::request_names(&config, signs);
    let mut payloads = vec![
        sa_payload,
        PayloadRepr::KeyExchange(dh.public_value()),
        PayloadRepr::Nonce(&ni),
        id_payload,
    ];
    payloads.extend(certauth::request_payloads(&names));
    payloads.extend(vid_payloads(cx, VidSlot::Aggressive));
    payloads.extend(nat::vendor_ids(cx, sa));
    let bytes = emit_clear(sa.header(ExchangeType::AGGRESSIVE, 0), payloads).ok()?;
    Some((
        bytes,
        P1::AggrI1(Box::new(AggrI1 {
            policies: offered,
            sai_b,
            dh,
            ni,
            id_b,
        })),
    ))
}

/// Responder: AM1 -> AM2 (our choice, KE, nonce, identity and HASH_R;
/// with NAT-T agreed, our NAT-T vendor ID and the two NAT-D payloads).
pub(crate) fn answer(
    cx: &mut Context,
    sa: &mut IsakmpSa,
    first: FirstMessage<'_>,
    reply_sa: PayloadRepr<'_>,
) -> Result<(Vec<u8>, P1), DropReason> {
    let FirstMessage {
        inb,
        sai_b,
        psk,
        peer_identity,
        choice,
        ..
    } = first;
    let suite = choice.suite;
    let missing = |payload| DropReason::missing("AM1", payload);
    let g_xi = inb.ke().ok_or(missing(PayloadType::KEY_EXCHANGE))?;
    let peer_id_b = inb
        .raw(PayloadType::IDENTIFICATION)
        .map(|p| p.body().to_vec())
        .ok_or(missing(PayloadType::IDENTIFICATION))?;
    let ni = inb.nonce().ok_or(missing(PayloadType::NONCE))?;
    check_nonce(ni)?;
    let dh = cx.dh(suite.group);
    let g_xy = dh
        .shared_secret(g_xi)
        .map_err(|_| DropReason::Crypto(CryptoDrop::InvalidKeyExchange))?;
    let nr = cx.nonce();
    let keys = phase1_keys(cx, sa, suite, &psk, g_xy.expose(), ni, &nr);
    let cipher = keys
        .cipher(suite.encryption)
        .map_err(|_| DropReason::Crypto(CryptoDrop::InvalidKeyExchange))?;
    let iv = IvChain::phase1(suite.hash, suite.encryption, g_xi, dh.public_value());
    let identity = cx.local_identity(sa.local);
    let id_payload = cx.id_payload(&identity);
    let id_b = payload_body(&id_payload).map_err(|_| DropReason::Policy(PolicyDrop::InvalidId))?;
    let transcript = transcript(sa, g_xi, dh.public_value(), &sai_b);
    let hash_r = auth_hash(&keys, suite.auth, Role::Responder, &transcript, &id_b);
    let nat_d = nat::nat_d_hashes(cx, sa, suite.hash);
    certauth::note_requests(sa, &inb);
    let config = cx.config.clone();
    let signs = suite.auth.signature().is_some();
    let names = certauth::request_names(&config, signs);
    let signature;
    let mut payloads = vec![
        reply_sa,
        PayloadRepr::KeyExchange(dh.public_value()),
        PayloadRepr::Nonce(&nr),
        id_payload,
    ];
    if signs {
        signature = certauth::sign(&config, &hash_r)
            .map_err(|_| DropReason::Policy(PolicyDrop::CertificateRefused))?;
        payloads.extend(certauth::cert_payloads(&config, sa));
        payloads.extend(certauth::request_payloads(&names));
        payloads.push(PayloadRepr::Signature(&signature));
    } else {
        payloads.push(PayloadRepr::Hash(hash_r.as_bytes()));
    }
    payloads.extend(vid_payloads(cx, VidSlot::Aggressive));
    payloads.extend(nat::vendor_ids(cx, sa));
    payloads.extend(nat::nat_d_payloads(sa, &nat_d));
    let bytes = emit_clear(sa.header(ExchangeType::AGGRESSIVE, 0), payloads)
        .map_err(|_| DropReason::Policy(PolicyDrop::InvalidId))?;
    let mut keyed = KeyedState::new(suite, sai_b, g_xi, dh.public_value(), keys, cipher, iv);
    keyed.peer = peer_identity.map(|i| (i, peer_id_b));
    Ok((bytes, P1::AggrR2(Box::new(AggrR2(keyed)))))
}

impl AggrI1 {
    /// AM2 received: authenticate the responder, then AM3 (with
    /// INITIAL-CONTACT when `initial_contact`); phase 1 is up.
    pub(crate) fn handle(
        self,
        cx: &mut Context,
        now: Instant,
        sa: &mut IsakmpSa,
        inb: &Inbound<'_>,
        with_initial_contact: bool,
    ) -> Verdict {
        let st = self;
        let back = |st: AggrI1| P1::AggrI1(Box::new(st));
        let auth_payload = inb.hash().is_some() || inb.raw(PayloadType::SIGNATURE).is_some();
        let (Some(reply), Some(g_xr), Some(nr), Some(id_raw), true) = (
            inb.sa(),
            inb.ke(),
            inb.nonce(),
            inb.raw(PayloadType::IDENTIFICATION),
            auth_payload,
        ) else {
            return Verdict::Reject(
                back(st),
                DropReason::unexpected("AM2 (SA, KE, NONCE, ID, HASH or SIG)", inb.describe()),
            );
        };
        if let Err(r) = check_nonce(nr) {
            return Verdict::Reject(back(st), r);
        }
        // AM1 carried one KE: the chosen transform must use its group.
        let Some(suite) = accept_phase1_reply(reply, &st.policies)
            .ok()
            .filter(|s| s.group == st.dh.group())
        else {
            return not_offered();
        };
        let ids = inb.ids();
        let Some(identity) = ids.first().and_then(Identity::from_id) else {
            return Verdict::Fail {
                reason: DropReason::Policy(PolicyDrop::InvalidId),
                fail: FailReason::InvalidId,
                notify: None,
            };
        };
        let signs = suite.auth.signature();
        let psk = if signs.is_some() {
            Some(Vec::new())
        } else {
            cx.config
                .psk_for_identity(&identity)
                .or_else(|| cx.config.psk_for_address(sa.remote.ip()).map(|x| x.0))
                .map(|k| k.expose().to_vec())
        };
        let Some(psk) = psk else {
            return no_psk();
        };
        let g_xy = match st.dh.shared_secret(g_xr) {
            Ok(s) => s,
            Err(_) => {
                return Verdict::Reject(
                    back(st),
                    DropReason::Crypto(CryptoDrop::InvalidKeyExchange),
                );
            }
        };
        sa.rcookie = inb.header.responder_cookie;
        let ctx = sa.trace_sa();
        process_vids(cx, sa, inb);
        certauth::note_requests(sa, inb);
        if let Err(r) = nat::check_nat_d(cx, sa, suite.hash, inb) {
            return Verdict::Reject(back(st), r);
        }
        let keys = phase1_keys(cx, sa, suite, &psk, g_xy.expose(), &st.ni, nr);
        let transcript = transcript(sa, st.dh.public_value(), g_xr, &st.sai_b);
        let expected = auth_hash(
            &keys,
            suite.auth,
            Role::Responder,
            &transcript,
            id_raw.body(),
        );
        // Unencrypted and unauthenticated: on failure the responder cookie
        // we just learnt is forgotten with the SA.
        match (signs, inb.hash()) {
            (Some(alg), _) => {
                let Some(id) = ids.first() else {
                    return not_offered();
                };
                let verified = match certauth::verify(cx, now, alg, inb, id, &expected) {
                    Ok(v) => v,
                    Err(r) => return certauth::refused(r),
                };
                if let Err(v) = check_expected_identity(cx, sa, &identity) {
                    return v;
                }
                certauth::report(cx, sa, verified);
            }
            (None, Some(hash)) => {
                if let Err(v) = check_peer_auth(cx, sa, &expected, hash, &identity) {
                    return v;
                }
            }
            (None, None) => {
                return Verdict::Reject(back(st), DropReason::missing("AM2", PayloadType::HASH));
            }
        }
        cx.trace(
            ctx,
            TraceEvent::Authenticated {
                peer: sa.remote.ip(),
            },
        );
        let cipher = match phase1_cipher(&keys, suite) {
            Ok(c) => c,
            Err(v) => return v,
        };
        let mut iv = IvChain::phase1(suite.hash, suite.encryption, st.dh.public_value(), g_xr);
        let hash_i = auth_hash(&keys, suite.auth, Role::Initiator, &transcript, &st.id_b);
        let spi16 = sa.spi16();
        // AM3 carries our NAT-D (RFC 3947 s.3.2) and, with a NAT on the
        // path, goes over the NAT-T port; the hashes are of the addresses
        // AM3 is sent with, which the responder compares with those it
        // arrives on (as strongSwan does).
        let before_float = (sa.local, sa.remote, sa.nat.floated);
        nat::float_initiator(cx, sa);
        let nat_d = nat::nat_d_hashes(cx, sa, suite.hash);
        let config = cx.config.clone();
        let signature;
        let mut payloads = Vec::new();
        if signs.is_some() {
            signature = match certauth::sign(&config, &hash_i) {
                Ok(s) => s,
                Err(r) => {
                    (sa.local, sa.remote, sa.nat.floated) = before_float;
                    return certauth::cannot_sign(r);
                }
            };
            payloads.extend(certauth::cert_payloads(&config, sa));
            payloads.push(PayloadRepr::Signature(&signature));
        } else {
            payloads.push(PayloadRepr::Hash(hash_i.as_bytes()));
        }
        payloads.extend(nat::nat_d_payloads(sa, &nat_d));
        if with_initial_contact {
            payloads.push(initial_contact(&spi16));
        }
        let Ok(bytes) = encrypt_p1(
            cx,
            sa,
            ExchangeType::AGGRESSIVE,
            &payloads,
            &cipher,
            &mut iv,
        ) else {
            (sa.local, sa.remote, sa.nat.floated) = before_float;
            return Verdict::Reject(back(st), DropReason::Crypto(CryptoDrop::DecryptFailed));
        };
        sa.send_p1(cx, now, bytes, false, IsakmpState::AgAuth);
        let mut keyed = KeyedState::new(
            suite,
            st.sai_b,
            st.dh.public_value(),
            g_xr,
            keys,
            cipher,
            iv,
        );
        keyed.peer = Some((identity.clone(), id_raw.body().to_vec()));
        Verdict::Next(establish(
            cx,
            now,
            sa,
            keyed,
            identity,
            AuthExtras {
                initial_contact: false,
            },
        ))
    }
}
