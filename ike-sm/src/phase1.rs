//! Phase 1: Main Mode and Aggressive Mode with pre-shared keys
//! (RFC 2409 s.5 and s.5.4), initiator and responder, as per-state types.
//!
//! ```text
//! Main Mode                          Aggressive Mode
//! I: HDR, SA                  (MM1)  I: HDR, SA, KE, Ni, IDii        (AM1)
//! R: HDR, SA                  (MM2)  R: HDR, SA, KE, Nr, IDir, HASH_R (AM2)
//! I: HDR, KE, Ni              (MM3)  I: HDR*, HASH_I                 (AM3)
//! R: HDR, KE, Nr              (MM4)
//! I: HDR*, IDii, HASH_I       (MM5)
//! R: HDR*, IDir, HASH_R       (MM6)
//! ```
//!
//! Each state is a struct; its handler consumes it with a message and
//! returns a [`Verdict`]: the next state, the same state back with the
//! reason the message was dropped (a bad message changes nothing), or a
//! failure that ends the negotiation. Vendor IDs ride along: the DPD one
//! (RFC 3706) in MM1/MM2 and AM1/AM2, Cisco IOS's in MM3/MM4 (where the
//! seed's routers print "speaking to another IOS box!") and AM1/AM2.
//!
//! AM3 is sent encrypted (as IOS and most peers do); a cleartext AM3 is
//! accepted too.

use std::mem;
use std::net::SocketAddr;
use std::time::Instant;

use isakmp_wire::{
    DeleteRepr, Doi, ExchangeType, Message, NotificationRepr, NotifyType, PayloadRepr, PayloadType,
    ProposalRepr, ProtocolId, SaRepr, vendor,
};

use crate::config::IsakmpPolicy;
use crate::crypto::{
    Cipher, DhKeyPair, HashValue, IvChain, Phase1Keys, Phase1Transcript, SecretBytes, Skeyid,
};
use crate::endpoint::{CommandError, Endpoint, IsakmpSa, Retx};
use crate::event::{
    CryptoDrop, DeletedBy, DropReason, Event, FailReason, LimitDrop, Phase1Established,
    Phase1Suite, PolicyDrop, Received, SaRef, StateDrop, TraceEvent, VendorKind,
};
use crate::message::{Inbound, chain_bytes, decrypt, emit_clear, emit_encrypted, payload_body};
use crate::proposal::{SIT_IDENTITY_ONLY, accept_phase1_reply, phase1_sa, select_phase1};
use crate::types::{ExchangeMode, Identity, IsakmpSaId, IsakmpState, Role};

/// The phase-1 state of an ISAKMP SA.
pub(crate) enum P1 {
    /// Initiator, MM1 sent.
    MainI1(MainI1),
    /// Initiator, MM3 sent.
    MainI3(Box<MainI3>),
    /// Initiator, MM5 sent.
    MainI5(Box<KeyedState>),
    /// Responder, MM2 sent.
    MainR2(MainR2),
    /// Responder, MM4 sent.
    MainR4(Box<KeyedState>),
    /// Initiator, AM1 sent.
    AggrI1(Box<AggrI1>),
    /// Responder, AM2 sent.
    AggrR2(Box<KeyedState>),
    /// Phase 1 complete.
    Established(Box<Established>),
    /// Placeholder while a handler owns the state, and for dead SAs.
    Dead,
}

impl P1 {
    pub(crate) fn ios_state(&self) -> IsakmpState {
        match self {
            P1::MainI1(_) => IsakmpState::MmNoState,
            P1::MainI3(_) | P1::MainR2(_) => IsakmpState::MmSaSetup,
            P1::MainI5(_) | P1::MainR4(_) => IsakmpState::MmKeyExch,
            P1::AggrI1(_) => IsakmpState::AgNoState,
            P1::AggrR2(_) => IsakmpState::AgInitExch,
            P1::Established(_) => IsakmpState::QmIdle,
            P1::Dead => IsakmpState::Deleted,
        }
    }

    pub(crate) fn suite(&self) -> Option<Phase1Suite> {
        match self {
            P1::MainI1(_) | P1::AggrI1(_) | P1::Dead => None,
            P1::MainI3(s) => Some(s.suite),
            P1::MainR2(s) => Some(s.suite),
            P1::MainI5(s) | P1::MainR4(s) | P1::AggrR2(s) => Some(s.suite),
            P1::Established(e) => Some(e.suite),
        }
    }
}

/// Initiator after MM1.
pub(crate) struct MainI1 {
    policies: Vec<IsakmpPolicy>,
    sai_b: Vec<u8>,
}

/// Initiator after MM3.
pub(crate) struct MainI3 {
    suite: Phase1Suite,
    sai_b: Vec<u8>,
    dh: DhKeyPair,
    ni: Vec<u8>,
    psk: Vec<u8>,
}

/// Responder after MM2.
pub(crate) struct MainR2 {
    suite: Phase1Suite,
    sai_b: Vec<u8>,
    psk: Vec<u8>,
}

/// Initiator after AM1.
pub(crate) struct AggrI1 {
    policies: Vec<IsakmpPolicy>,
    sai_b: Vec<u8>,
    dh: DhKeyPair,
    ni: Vec<u8>,
    id_b: Vec<u8>,
}

/// Any state that holds the keys and waits for the peer's authentication
/// (MM5/MM6/AM3).
pub(crate) struct KeyedState {
    suite: Phase1Suite,
    sai_b: Vec<u8>,
    g_xi: Vec<u8>,
    g_xr: Vec<u8>,
    keys: Phase1Keys,
    cipher: Cipher,
    iv: IvChain,
    /// Aggressive responder: the peer's identity (already received in
    /// AM1) and its ID payload body.
    peer: Option<(Identity, Vec<u8>)>,
}

impl KeyedState {
    /// The keys of either side once KE and nonces are exchanged: the
    /// public values in the RFC's order (the initiator's first), the peer's
    /// identity not known yet.
    fn new(
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

/// The outcome of a handler.
pub(crate) enum Verdict {
    /// The message was accepted; the SA moves on.
    Next(P1),
    /// The message was dropped; the SA keeps its state.
    Reject(P1, DropReason),
    /// The negotiation fails (optionally telling the peer).
    Fail {
        reason: DropReason,
        fail: FailReason,
        notify: Option<NotifyType>,
    },
}

/// What an authentication message carried besides ID and HASH.
struct AuthExtras {
    initial_contact: bool,
}

impl Endpoint {
    /// The ISAKMP SA a message with these cookies belongs to.
    pub(crate) fn lookup(&self, icookie: [u8; 8], rcookie: [u8; 8]) -> Option<IsakmpSaId> {
        if let Some(&id) = self.initiated.get(&icookie)
            && let Some(sa) = self.sas.get(&id)
            && (sa.rcookie == [0; 8] || sa.rcookie == rcookie || rcookie == [0; 8])
        {
            return Some(id);
        }
        self.responded.get(&(icookie, rcookie)).copied()
    }

    pub(crate) fn local_identity(&self, local: SocketAddr) -> Identity {
        match &self.config.identity {
            crate::config::LocalIdentity::Address => Identity::Address(local.ip()),
            crate::config::LocalIdentity::Fixed(i) => i.clone(),
        }
    }

    /// Our ID payload for `identity` (IDii/IDir) with the configured
    /// protocol and port.
    fn id_payload<'i>(&self, identity: &'i Identity) -> PayloadRepr<'i> {
        let (proto, port) = self.config.identity_protocol_port;
        PayloadRepr::Id(identity.to_id(proto, port))
    }

    fn vid_payloads(&self, phase: VidSlot) -> Vec<PayloadRepr<'static>> {
        let v = &self.config.vendor_ids;
        let mut out = Vec::new();
        if v.cisco_ios && matches!(phase, VidSlot::KeyExchange | VidSlot::Aggressive) {
            out.push(PayloadRepr::VendorId(vendor::CISCO_IOS));
        }
        if v.dpd && matches!(phase, VidSlot::First | VidSlot::Aggressive) {
            out.push(PayloadRepr::VendorId(vendor::DPD));
        }
        out
    }

    fn process_vids(&mut self, sa: &mut IsakmpSa, inb: &Inbound<'_>) {
        for v in inb.vendor_ids() {
            let kind = if v.starts_with(vendor::CISCO_IOS_PREFIX) {
                VendorKind::CiscoIos
            } else if v == vendor::DPD {
                sa.dpd.peer_supports = true;
                VendorKind::Dpd
            } else {
                VendorKind::Unknown(v.to_vec())
            };
            self.trace(Some((sa.id, sa.conn_id)), TraceEvent::VendorId(kind));
        }
    }

    /// Sends a phase-1 message and arms (or clears) its retransmission.
    pub(crate) fn send_p1(
        &mut self,
        now: Instant,
        sa: &mut IsakmpSa,
        bytes: Vec<u8>,
        retransmit: bool,
        state: IsakmpState,
    ) {
        self.trace_sending(sa, state);
        sa.retx = if retransmit {
            Some(Retx {
                next: now + self.first_delay(),
                count: 0,
            })
        } else {
            None
        };
        sa.last_out = Some(bytes.clone());
        sa.sent_at = Some(now);
        self.transmit(sa.local, sa.remote, bytes);
    }

    pub(crate) fn first_delay(&self) -> std::time::Duration {
        let r = &self.config.retransmit;
        r.delay(0).unwrap_or(r.final_wait)
    }

    /// Starts phase 1 as initiator.
    pub(crate) fn start_phase1(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<IsakmpSaId, CommandError> {
        let policies = self.config.sorted_policies();
        let Some(first) = policies.first().copied() else {
            return Err(CommandError::NoPolicy);
        };
        if self.phase1_admission(remote.ip()).is_err() {
            return Err(CommandError::LimitReached);
        }
        let icookie = self.new_cookie().ok_or(CommandError::LimitReached)?;
        let mode = self
            .config
            .peer(remote.ip())
            .map_or(self.config.default_mode, |p| p.mode);
        let id = self.new_sa_id();
        let conn_id = self.next_conn_id();
        let mut sa = IsakmpSa::new(
            id,
            conn_id,
            Role::Initiator,
            mode,
            (local, remote),
            (icookie, [0; 8]),
            now,
        );
        let (bytes, state) = match mode {
            ExchangeMode::Main => {
                let sa_payload = PayloadRepr::Sa(phase1_sa(&policies));
                let sai_b = payload_body(&sa_payload).map_err(|_| CommandError::NoPolicy)?;
                let mut payloads = vec![sa_payload];
                payloads.extend(self.vid_payloads(VidSlot::First));
                let bytes = emit_clear(sa.header(ExchangeType::IDENTITY_PROTECTION, 0), payloads)
                    .map_err(|_| CommandError::NoPolicy)?;
                (bytes, P1::MainI1(MainI1 { policies, sai_b }))
            }
            ExchangeMode::Aggressive => {
                // One KE: only the transforms of the first policy's group.
                let offered: Vec<IsakmpPolicy> = policies
                    .iter()
                    .filter(|p| p.group == first.group)
                    .copied()
                    .collect();
                let dh = self.dh(first.group);
                let ni = self.nonce();
                let identity = self.local_identity(local);
                let id_payload = self.id_payload(&identity);
                let id_b = payload_body(&id_payload).map_err(|_| CommandError::NoPolicy)?;
                let sa_payload = PayloadRepr::Sa(phase1_sa(&offered));
                let sai_b = payload_body(&sa_payload).map_err(|_| CommandError::NoPolicy)?;
                let mut payloads = vec![
                    sa_payload,
                    PayloadRepr::KeyExchange(dh.public_value()),
                    PayloadRepr::Nonce(&ni),
                    id_payload,
                ];
                payloads.extend(self.vid_payloads(VidSlot::Aggressive));
                let bytes = emit_clear(sa.header(ExchangeType::AGGRESSIVE, 0), payloads)
                    .map_err(|_| CommandError::NoPolicy)?;
                (
                    bytes,
                    P1::AggrI1(Box::new(AggrI1 {
                        policies: offered,
                        sai_b,
                        dh,
                        ni,
                        id_b,
                    })),
                )
            }
        };
        let ios = state.ios_state();
        sa.state = state;
        self.send_p1(now, &mut sa, bytes, true, ios);
        self.initiated.insert(icookie, id);
        self.sas.insert(id, sa);
        Ok(id)
    }

    /// Entry point for Main and Aggressive Mode messages.
    pub(crate) fn phase1_input(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        message: &Message<&[u8]>,
    ) {
        let h = message.header();
        let (ic, rc) = (h.initiator_cookie(), h.responder_cookie());
        let data = message.message_bytes();
        if rc == [0; 8] {
            if let Some(&id) = self.responded_first.get(&(ic, remote)) {
                return self.duplicate_phase1(now, id, remote, data);
            }
            if self.initiated.contains_key(&ic) {
                return self.drop_input(
                    remote,
                    DropReason::unexpected(
                        "a reply carrying a responder cookie",
                        Received::OwnInitiatorCookie,
                    ),
                );
            }
            return self.respond_phase1(now, local, remote, message);
        }
        let Some(id) = self.lookup(ic, rc) else {
            return self.drop_input(remote, DropReason::State(StateDrop::UnknownSa));
        };
        let Some(mut sa) = self.sas.remove(&id) else {
            return self.drop_input(remote, DropReason::State(StateDrop::UnknownSa));
        };
        if sa.last_in.as_deref() == Some(data) {
            self.sas.insert(id, sa);
            return self.duplicate_phase1(now, id, remote, data);
        }
        let expected_exchange = match sa.mode {
            ExchangeMode::Main => ExchangeType::IDENTITY_PROTECTION,
            ExchangeMode::Aggressive => ExchangeType::AGGRESSIVE,
        };
        if h.exchange_type() != expected_exchange || sa.remote != remote {
            let received = Received::ExchangeFrom {
                exchange: h.exchange_type(),
                from: remote,
            };
            self.sas.insert(id, sa);
            return self.drop_input(
                remote,
                DropReason::unexpected("the SA's own exchange from its peer", received),
            );
        }
        self.trace_received(&sa, remote);
        let state = mem::replace(&mut sa.state, P1::Dead);
        let verdict = match state {
            P1::MainI1(st) => self.main_i1(now, &mut sa, st, message),
            P1::MainI3(st) => self.main_i3(now, &mut sa, *st, message),
            P1::MainI5(st) => self.last_auth(now, &mut sa, *st, message, "MM6", false),
            P1::MainR2(st) => self.main_r2(now, &mut sa, st, message),
            P1::MainR4(st) => self.main_r4(now, &mut sa, *st, message),
            P1::AggrI1(st) => self.aggr_i1(now, &mut sa, *st, message),
            // AM3 may come in clear (see the module docs).
            P1::AggrR2(st) => self.last_auth(now, &mut sa, *st, message, "AM3", true),
            other @ (P1::Established(_) | P1::Dead) => Verdict::Reject(
                other,
                DropReason::unexpected(
                    "Quick Mode or Informational (phase 1 is complete)",
                    Received::Exchange(h.exchange_type()),
                ),
            ),
        };
        self.finish_phase1_step(now, sa, verdict, data);
    }

    fn finish_phase1_step(
        &mut self,
        now: Instant,
        mut sa: IsakmpSa,
        verdict: Verdict,
        data: &[u8],
    ) {
        let id = sa.id;
        let remote = sa.remote;
        match verdict {
            Verdict::Next(state) => {
                sa.state = state;
                sa.last_in = Some(data.to_vec());
                sa.dpd.last_heard = now;
                let established = sa.is_established();
                self.sas.insert(id, sa);
                if established {
                    self.on_established(now, id);
                }
            }
            Verdict::Reject(state, reason) => {
                sa.state = state;
                self.sas.insert(id, sa);
                self.drop_input(remote, reason);
            }
            Verdict::Fail {
                reason,
                fail,
                notify,
            } => {
                if let Some(t) = notify {
                    self.send_clear_notify(&sa, t, ProtocolId::ISAKMP, &sa.spi16());
                }
                self.sas.insert(id, sa);
                self.drop_input(remote, reason);
                self.remove_sa(id, "negotiation failed", None, fail);
            }
        }
    }

    fn duplicate_phase1(&mut self, now: Instant, id: IsakmpSaId, remote: SocketAddr, data: &[u8]) {
        let Some(mut sa) = self.sas.remove(&id) else {
            return;
        };
        let answer = sa.last_in.as_deref() != Some(data) || self.may_answer(&mut sa.sent_at, now);
        self.sas.insert(id, sa);
        if !answer {
            return;
        }
        let Some(sa) = self.sas.get(&id) else {
            return;
        };
        if sa.last_in.as_deref() != Some(data) {
            return self.drop_input(
                remote,
                DropReason::unexpected(
                    "the next message of the exchange",
                    Received::DifferentFirstMessage,
                ),
            );
        }
        let (local, out, ctx) = (sa.local, sa.last_out.clone(), (sa.id, sa.conn_id));
        self.trace(Some(ctx), TraceEvent::DuplicateAnswered { message_id: 0 });
        if let Some(out) = out {
            self.transmit(local, remote, out);
        }
    }

    /// Sends an unprotected Informational with one notification.
    pub(crate) fn send_clear_notify(
        &mut self,
        sa: &IsakmpSa,
        notify: NotifyType,
        protocol: ProtocolId,
        spi: &[u8],
    ) {
        self.send_clear_notify_to(
            sa.local,
            sa.remote,
            sa.icookie,
            sa.rcookie,
            notify,
            protocol,
            spi,
            Some((sa.id, sa.conn_id)),
        );
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn send_clear_notify_to(
        &mut self,
        local: SocketAddr,
        remote: SocketAddr,
        icookie: [u8; 8],
        rcookie: [u8; 8],
        notify: NotifyType,
        protocol: ProtocolId,
        spi: &[u8],
        ctx: Option<(IsakmpSaId, u32)>,
    ) {
        let mut mid = [0u8; 4];
        self.fill(crate::entropy::Purpose::MessageId, &mut mid);
        let header = isakmp_wire::HeaderRepr {
            initiator_cookie: icookie,
            responder_cookie: rcookie,
            exchange_type: ExchangeType::INFORMATIONAL,
            message_id: u32::from_be_bytes(mid),
            ..Default::default()
        };
        let n = PayloadRepr::Notification(NotificationRepr {
            doi: Doi::IPSEC,
            protocol,
            notify_type: notify,
            spi,
            data: &[],
        });
        if let Ok(bytes) = emit_clear(header, vec![n]) {
            self.trace(ctx, TraceEvent::NotifySent(notify));
            self.transmit(local, remote, bytes);
        }
    }

    /// Responder: a first message (MM1 / AM1) with a zero responder cookie.
    fn respond_phase1(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        message: &Message<&[u8]>,
    ) {
        let h = message.header();
        self.trace(
            None,
            TraceEvent::ReceivedPacket {
                from: remote,
                role: None,
                state: None,
            },
        );
        if let Err(full) = self.phase1_admission(remote.ip()) {
            return self.drop_input(remote, full);
        }
        let inb = match Inbound::clear(message) {
            Ok(i) => i,
            Err(r) => return self.drop_input(remote, r),
        };
        let aggressive = h.exchange_type() == ExchangeType::AGGRESSIVE;
        let name = if aggressive { "AM1" } else { "MM1" };
        let Some(sa_payload) = inb.sa() else {
            return self.drop_input(remote, DropReason::missing(name, PayloadType::SA));
        };
        let Some(sai_raw) = inb.raw(PayloadType::SA) else {
            return self.drop_input(remote, DropReason::State(StateDrop::UnknownSa));
        };
        let sai_b = sai_raw.body().to_vec();
        if sa_payload.situation != SIT_IDENTITY_ONLY {
            return self.drop_input(
                remote,
                DropReason::unexpected(
                    "situation SIT_IDENTITY_ONLY",
                    Received::Situation(sa_payload.situation),
                ),
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
                self.trace_all(None, early);
                return self.drop_input(
                    remote,
                    DropReason::missing(name, PayloadType::IDENTIFICATION),
                );
            };
            Some(id)
        } else {
            None
        };
        let psk = match &peer_identity {
            Some(i) => self.config.psk_for_identity(i).map(|k| k.expose().to_vec()),
            None => self
                .config
                .psk_for_address(remote.ip())
                .map(|(k, _, _)| k.expose().to_vec()),
        };
        let Some(psk) = psk else {
            early.push(TraceEvent::NoPsk { peer: remote.ip() });
            self.trace_all(None, early);
            return self.drop_input(remote, DropReason::Policy(PolicyDrop::NoPreSharedKey));
        };
        early.push(TraceEvent::FoundPsk { peer: remote.ip() });
        let policies = self.config.sorted_policies();
        let choice = select_phase1(sa_payload, &policies, &mut early, self.tracing());
        let Some(choice) = choice else {
            self.trace_all(None, early);
            self.send_clear_notify_to(
                local,
                remote,
                h.initiator_cookie(),
                [0; 8],
                NotifyType::NO_PROPOSAL_CHOSEN,
                ProtocolId::ISAKMP,
                &[],
                None,
            );
            return self.drop_input(remote, DropReason::Policy(PolicyDrop::NoProposalChosen));
        };
        let Some(rcookie) = self.new_rcookie(h.initiator_cookie()) else {
            self.trace_all(None, early);
            return self.drop_input(remote, DropReason::Limit(LimitDrop::HalfOpen));
        };
        let id = self.new_sa_id();
        let conn_id = self.next_conn_id();
        self.trace_all(Some((id, conn_id)), early);
        let mode = if aggressive {
            ExchangeMode::Aggressive
        } else {
            ExchangeMode::Main
        };
        let mut sa = IsakmpSa::new(
            id,
            conn_id,
            Role::Responder,
            mode,
            (local, remote),
            (h.initiator_cookie(), rcookie),
            now,
        );
        self.process_vids(&mut sa, &inb);
        let reply_sa = PayloadRepr::Sa(SaRepr {
            situation: SIT_IDENTITY_ONLY,
            proposals: vec![ProposalRepr {
                number: choice.proposal,
                protocol: ProtocolId::ISAKMP,
                spi: &[],
                transforms: vec![choice.transform.clone()],
            }],
        });
        let suite = choice.suite;
        let (bytes, state) = if aggressive {
            match self.aggr_r1(&mut sa, &inb, suite, sai_b, psk, peer_identity, reply_sa) {
                Ok(x) => x,
                Err(reason) => return self.drop_input(remote, reason),
            }
        } else {
            let mut payloads = vec![reply_sa];
            payloads.extend(self.vid_payloads(VidSlot::First));
            let Ok(bytes) = emit_clear(sa.header(ExchangeType::IDENTITY_PROTECTION, 0), payloads)
            else {
                return;
            };
            (bytes, P1::MainR2(MainR2 { suite, sai_b, psk }))
        };
        let ios = state.ios_state();
        sa.state = state;
        sa.last_in = Some(message.message_bytes().to_vec());
        self.send_p1(now, &mut sa, bytes, true, ios);
        self.responded.insert((sa.icookie, rcookie), id);
        self.responded_first.insert((sa.icookie, remote), id);
        self.sas.insert(id, sa);
    }

    /// Aggressive responder: AM1 -> AM2.
    #[allow(clippy::too_many_arguments)]
    fn aggr_r1(
        &mut self,
        sa: &mut IsakmpSa,
        inb: &Inbound<'_>,
        suite: Phase1Suite,
        sai_b: Vec<u8>,
        psk: Vec<u8>,
        peer_identity: Option<Identity>,
        reply_sa: PayloadRepr<'_>,
    ) -> Result<(Vec<u8>, P1), DropReason> {
        let missing = |payload| DropReason::missing("AM1", payload);
        let g_xi = inb.ke().ok_or(missing(PayloadType::KEY_EXCHANGE))?;
        let peer_id_b = inb
            .raw(PayloadType::IDENTIFICATION)
            .map(|p| p.body().to_vec())
            .ok_or(missing(PayloadType::IDENTIFICATION))?;
        let ni = inb.nonce().ok_or(missing(PayloadType::NONCE))?;
        check_nonce(ni)?;
        let dh = self.dh(suite.group);
        let g_xy = dh
            .shared_secret(g_xi)
            .map_err(|_| DropReason::Crypto(CryptoDrop::InvalidKeyExchange))?;
        let nr = self.nonce();
        let keys = self.phase1_keys(sa, suite, &psk, g_xy.expose(), ni, &nr);
        let cipher = keys
            .cipher(suite.encryption)
            .map_err(|_| DropReason::Crypto(CryptoDrop::InvalidKeyExchange))?;
        let iv = IvChain::phase1(suite.hash, suite.encryption, g_xi, dh.public_value());
        let identity = self.local_identity(sa.local);
        let id_payload = self.id_payload(&identity);
        let id_b =
            payload_body(&id_payload).map_err(|_| DropReason::Policy(PolicyDrop::InvalidId))?;
        let transcript = transcript(sa, g_xi, dh.public_value(), &sai_b);
        let hash_r = auth_hash(&keys, Role::Responder, &transcript, &id_b);
        let mut payloads = vec![
            reply_sa,
            PayloadRepr::KeyExchange(dh.public_value()),
            PayloadRepr::Nonce(&nr),
            id_payload,
            PayloadRepr::Hash(hash_r.as_bytes()),
        ];
        payloads.extend(self.vid_payloads(VidSlot::Aggressive));
        let bytes = emit_clear(sa.header(ExchangeType::AGGRESSIVE, 0), payloads)
            .map_err(|_| DropReason::Policy(PolicyDrop::InvalidId))?;
        let mut keyed = KeyedState::new(suite, sai_b, g_xi, dh.public_value(), keys, cipher, iv);
        keyed.peer = peer_identity.map(|i| (i, peer_id_b));
        let state = P1::AggrR2(Box::new(keyed));
        Ok((bytes, state))
    }

    /// MM2 received.
    fn main_i1(
        &mut self,
        _now: Instant,
        sa: &mut IsakmpSa,
        st: MainI1,
        m: &Message<&[u8]>,
    ) -> Verdict {
        let inb = match Inbound::clear(m) {
            Ok(i) => i,
            Err(r) => return Verdict::Reject(P1::MainI1(st), r),
        };
        let Some(reply) = inb.sa() else {
            return Verdict::Reject(
                P1::MainI1(st),
                DropReason::unexpected("MM2 (SA)", inb.describe()),
            );
        };
        self.trace(
            Some((sa.id, sa.conn_id)),
            TraceEvent::ProcessingPayload {
                payload: PayloadType::SA,
                message_id: 0,
            },
        );
        let Ok(suite) = accept_phase1_reply(reply, &st.policies) else {
            return not_offered();
        };
        let Some((psk, _, _)) = self.config.psk_for_address(sa.remote.ip()) else {
            self.trace(
                Some((sa.id, sa.conn_id)),
                TraceEvent::NoPsk {
                    peer: sa.remote.ip(),
                },
            );
            return Verdict::Fail {
                reason: DropReason::Policy(PolicyDrop::NoPreSharedKey),
                fail: FailReason::NoPreSharedKey,
                notify: None,
            };
        };
        let psk = psk.expose().to_vec();
        self.trace(
            Some((sa.id, sa.conn_id)),
            TraceEvent::FoundPsk {
                peer: sa.remote.ip(),
            },
        );
        if self.tracing() {
            // IOS re-checks the responder's choice against its policies and
            // prints the same lines.
            let mut trace = Vec::new();
            let _ = select_phase1(reply, &st.policies, &mut trace, true);
            for t in trace {
                self.trace(Some((sa.id, sa.conn_id)), t);
            }
        }
        sa.rcookie = inb.header.responder_cookie;
        self.process_vids(sa, &inb);
        let dh = self.dh(suite.group);
        let ni = self.nonce();
        let identity = self.local_identity(sa.local);
        self.trace(
            Some((sa.id, sa.conn_id)),
            TraceEvent::PreSharedKeyAuth {
                id_type: identity.type_name(),
            },
        );
        let mut payloads = vec![
            PayloadRepr::KeyExchange(dh.public_value()),
            PayloadRepr::Nonce(&ni),
        ];
        payloads.extend(self.vid_payloads(VidSlot::KeyExchange));
        let Ok(bytes) = emit_clear(sa.header(ExchangeType::IDENTITY_PROTECTION, 0), payloads)
        else {
            return Verdict::Reject(
                P1::MainI1(st),
                DropReason::Crypto(CryptoDrop::InvalidKeyExchange),
            );
        };
        let now = _now;
        self.send_p1(now, sa, bytes, true, IsakmpState::MmSaSetup);
        Verdict::Next(P1::MainI3(Box::new(MainI3 {
            suite,
            sai_b: st.sai_b,
            dh,
            ni,
            psk,
        })))
    }

    /// MM4 received: keys, then MM5.
    fn main_i3(
        &mut self,
        now: Instant,
        sa: &mut IsakmpSa,
        st: MainI3,
        m: &Message<&[u8]>,
    ) -> Verdict {
        let inb = match Inbound::clear(m) {
            Ok(i) => i,
            Err(r) => return Verdict::Reject(P1::MainI3(Box::new(st)), r),
        };
        let (g_xr, nr) = match peer_ke_nonce(&inb, "MM4 (KE, NONCE)") {
            Ok(x) => x,
            Err(r) => return Verdict::Reject(P1::MainI3(Box::new(st)), r),
        };
        let g_xy = match self.main_dh(sa, &st.dh, g_xr) {
            Ok(s) => s,
            Err(r) => return Verdict::Reject(P1::MainI3(Box::new(st)), r),
        };
        let suite = st.suite;
        let keys = self.phase1_keys(sa, suite, &st.psk, g_xy.expose(), &st.ni, nr);
        self.process_vids(sa, &inb);
        let cipher = match phase1_cipher(&keys, suite) {
            Ok(c) => c,
            Err(v) => return v,
        };
        let mut iv = IvChain::phase1(suite.hash, suite.encryption, st.dh.public_value(), g_xr);
        let transcript = transcript(sa, st.dh.public_value(), g_xr, &st.sai_b);
        let contact = self.wants_initial_contact(sa);
        let bytes = match self.main_auth_message(sa, &keys, &cipher, &mut iv, &transcript, contact)
        {
            Ok(b) => b,
            Err(e) => {
                let reason = match e {
                    AuthMessageError::Id => DropReason::Policy(PolicyDrop::InvalidId),
                    AuthMessageError::Emit => DropReason::Crypto(CryptoDrop::InvalidKeyExchange),
                    AuthMessageError::Iv => DropReason::Crypto(CryptoDrop::DecryptFailed),
                };
                return Verdict::Reject(P1::MainI3(Box::new(st)), reason);
            }
        };
        self.send_p1(now, sa, bytes, true, IsakmpState::MmKeyExch);
        Verdict::Next(P1::MainI5(Box::new(KeyedState::new(
            suite,
            st.sai_b,
            st.dh.public_value(),
            g_xr,
            keys,
            cipher,
            iv,
        ))))
    }

    /// Whether to send INITIAL-CONTACT with our authentication: configured,
    /// and we have no other SA with this peer.
    fn wants_initial_contact(&self, sa: &IsakmpSa) -> bool {
        self.config.send_initial_contact && self.first_contact(sa)
    }

    /// The Diffie-Hellman secret of MM3/MM4 with the peer's public value,
    /// traced as IOS processes those messages: KE, NONCE, then the
    /// pre-shared key (chosen with MM1/MM2).
    fn main_dh(
        &mut self,
        sa: &IsakmpSa,
        ours: &DhKeyPair,
        peer_public: &[u8],
    ) -> Result<SecretBytes, DropReason> {
        let ctx = Some((sa.id, sa.conn_id));
        self.trace(
            ctx,
            TraceEvent::ProcessingPayload {
                payload: PayloadType::KEY_EXCHANGE,
                message_id: 0,
            },
        );
        let g_xy = ours
            .shared_secret(peer_public)
            .map_err(|_| DropReason::Crypto(CryptoDrop::InvalidKeyExchange))?;
        self.trace(
            ctx,
            TraceEvent::ProcessingPayload {
                payload: PayloadType::NONCE,
                message_id: 0,
            },
        );
        self.trace(
            ctx,
            TraceEvent::FoundPsk {
                peer: sa.remote.ip(),
            },
        );
        Ok(g_xy)
    }

    /// SKEYID for pre-shared keys and the three keys derived from it
    /// (RFC 2409 s.5), for either side: the nonces in the RFC's order,
    /// the initiator's first, whichever side we are.
    fn phase1_keys(
        &mut self,
        sa: &IsakmpSa,
        suite: Phase1Suite,
        psk: &[u8],
        g_xy: &[u8],
        ni: &[u8],
        nr: &[u8],
    ) -> Phase1Keys {
        let keys =
            Skeyid::pre_shared_key(suite.hash, psk, ni, nr).derive(g_xy, &sa.icookie, &sa.rcookie);
        self.trace(Some((sa.id, sa.conn_id)), TraceEvent::SkeyidGenerated);
        keys
    }

    /// Our MM5 (initiator) or MM6 (responder): `HDR*, ID, HASH`, our HASH
    /// being HASH_I or HASH_R by `sa.role` (RFC 2409 s.5), with
    /// INITIAL-CONTACT when `with_initial_contact`; encrypted, and the
    /// phase-1 IV moved past it.
    fn main_auth_message(
        &mut self,
        sa: &IsakmpSa,
        keys: &Phase1Keys,
        cipher: &Cipher,
        iv: &mut IvChain,
        transcript: &Phase1Transcript<'_>,
        with_initial_contact: bool,
    ) -> Result<Vec<u8>, AuthMessageError> {
        let identity = self.local_identity(sa.local);
        let (proto, port) = self.config.identity_protocol_port;
        let id_repr = identity.to_id(proto, port);
        self.trace(
            Some((sa.id, sa.conn_id)),
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
        let hash = auth_hash(keys, sa.role, transcript, &id_b);
        let spi16 = sa.spi16();
        let mut payloads = vec![id_payload, PayloadRepr::Hash(hash.as_bytes())];
        if with_initial_contact {
            payloads.push(initial_contact(&spi16));
        }
        self.encrypt_p1(sa, ExchangeType::IDENTITY_PROTECTION, &payloads, cipher, iv)
    }

    /// An encrypted phase-1 message (MM5, MM6, AM3), the IV moved past it.
    fn encrypt_p1(
        &self,
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
            self.config.padding,
        )
        .map_err(|_| AuthMessageError::Emit)?;
        pending.commit(iv).map_err(|_| AuthMessageError::Iv)?;
        Ok(bytes)
    }

    /// Checks the peer's authentication: its HASH against `expected` (over
    /// its ID payload), then its identity against the one configured for
    /// the peer, if any.
    fn check_peer_auth(
        &self,
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
        if let Some(want) = self
            .config
            .peer(sa.remote.ip())
            .and_then(|p| p.expected_identity.as_ref())
            && want != identity
        {
            return Err(Verdict::Fail {
                reason: DropReason::Policy(PolicyDrop::InvalidId),
                fail: FailReason::InvalidId,
                notify: Some(NotifyType::INVALID_ID_INFORMATION),
            });
        }
        Ok(())
    }

    /// Whether we have no other SA with this peer (for INITIAL-CONTACT).
    fn first_contact(&self, sa: &IsakmpSa) -> bool {
        let ip = sa.remote.ip();
        !self
            .sas
            .values()
            .any(|s| s.id != sa.id && s.remote.ip() == ip && s.is_established())
            && !self.ipsec.values().any(|s| s.remote.ip() == ip)
    }

    /// Decrypts and checks an authentication message (MM5, MM6, AM3):
    /// the peer's ID (unless already known) and HASH.
    fn authenticate(
        &mut self,
        sa: &mut IsakmpSa,
        mut st: KeyedState,
        m: &Message<&[u8]>,
        name: &'static str,
        allow_clear: bool,
    ) -> Result<(KeyedState, Identity, AuthExtras), Verdict> {
        let h = m.header();
        let (plain, pending) = if m.is_encrypted() {
            match decrypt(m, &st.cipher, &st.iv) {
                Ok(x) => (x.0, Some(x.1)),
                Err(reason) => {
                    return Err(Verdict::Fail {
                        reason,
                        fail: FailReason::Malformed,
                        notify: Some(NotifyType::PAYLOAD_MALFORMED),
                    });
                }
            }
        } else if allow_clear {
            (m.body().to_vec(), None)
        } else {
            return Err(Verdict::Reject(
                rewrap(sa, st),
                DropReason::Crypto(CryptoDrop::NotEncrypted),
            ));
        };
        let inb = match Inbound::decrypted(
            isakmp_wire::HeaderRepr::from_header(&h),
            h.next_payload(),
            &plain,
        ) {
            Ok(i) => i,
            Err(reason) => {
                // A wrong pre-shared key decrypts to garbage: this is where
                // it shows.
                return Err(Verdict::Fail {
                    reason,
                    fail: FailReason::Malformed,
                    notify: Some(NotifyType::PAYLOAD_MALFORMED),
                });
            }
        };
        let ctx = Some((sa.id, sa.conn_id));
        let (identity, id_b) = match st.peer.clone() {
            Some(known) => known,
            None => {
                let Some(raw) = inb.raw(PayloadType::IDENTIFICATION) else {
                    return Err(Verdict::Fail {
                        reason: DropReason::missing(name, PayloadType::IDENTIFICATION),
                        fail: FailReason::Malformed,
                        notify: Some(NotifyType::PAYLOAD_MALFORMED),
                    });
                };
                self.trace(
                    ctx,
                    TraceEvent::ProcessingPayload {
                        payload: PayloadType::IDENTIFICATION,
                        message_id: 0,
                    },
                );
                let ids = inb.ids();
                let Some(identity) = ids.first().and_then(Identity::from_id) else {
                    return Err(Verdict::Fail {
                        reason: DropReason::Policy(PolicyDrop::InvalidId),
                        fail: FailReason::InvalidId,
                        notify: Some(NotifyType::INVALID_ID_INFORMATION),
                    });
                };
                (identity, raw.body().to_vec())
            }
        };
        let Some(hash) = inb.hash() else {
            return Err(Verdict::Fail {
                reason: DropReason::missing(name, PayloadType::HASH),
                fail: FailReason::Malformed,
                notify: Some(NotifyType::PAYLOAD_MALFORMED),
            });
        };
        self.trace(
            ctx,
            TraceEvent::ProcessingPayload {
                payload: PayloadType::HASH,
                message_id: 0,
            },
        );
        let transcript = transcript(sa, &st.g_xi, &st.g_xr, &st.sai_b);
        let expected = auth_hash(&st.keys, peer_role(sa.role), &transcript, &id_b);
        self.check_peer_auth(sa, &expected, hash, &identity)?;
        if let Some(p) = pending
            && p.commit(&mut st.iv).is_err()
        {
            return Err(Verdict::Reject(
                rewrap(sa, st),
                DropReason::Crypto(CryptoDrop::DecryptFailed),
            ));
        }
        let initial_contact = inb
            .notifications()
            .iter()
            .any(|n| n.notify_type == NotifyType::INITIAL_CONTACT);
        self.trace(
            ctx,
            TraceEvent::Authenticated {
                peer: sa.remote.ip(),
            },
        );
        Ok((st, identity, AuthExtras { initial_contact }))
    }

    fn establish(
        &mut self,
        now: Instant,
        sa: &mut IsakmpSa,
        st: KeyedState,
        identity: Identity,
        extras: AuthExtras,
    ) -> P1 {
        let lifetime = std::time::Duration::from_secs(u64::from(st.suite.lifetime));
        let rekeys = sa.role == Role::Initiator || self.config.rekey.responder_rekeys;
        let soft =
            rekeys.then(|| self.soft_instant(now, lifetime, self.config.rekey.phase1_margin));
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

    /// The exchange's last message received (MM6 by the initiator, AM3 by
    /// the responder): authenticate the peer, stop retransmitting, done.
    fn last_auth(
        &mut self,
        now: Instant,
        sa: &mut IsakmpSa,
        st: KeyedState,
        m: &Message<&[u8]>,
        name: &'static str,
        allow_clear: bool,
    ) -> Verdict {
        match self.authenticate(sa, st, m, name, allow_clear) {
            Ok((st, identity, extras)) => {
                sa.retx = None;
                Verdict::Next(self.establish(now, sa, st, identity, extras))
            }
            Err(v) => v,
        }
    }

    /// MM3 received: keys, then MM4.
    fn main_r2(
        &mut self,
        now: Instant,
        sa: &mut IsakmpSa,
        st: MainR2,
        m: &Message<&[u8]>,
    ) -> Verdict {
        let inb = match Inbound::clear(m) {
            Ok(i) => i,
            Err(r) => return Verdict::Reject(P1::MainR2(st), r),
        };
        let (g_xi, ni) = match peer_ke_nonce(&inb, "MM3 (KE, NONCE)") {
            Ok(x) => x,
            Err(r) => return Verdict::Reject(P1::MainR2(st), r),
        };
        let suite = st.suite;
        let dh = self.dh(suite.group);
        let g_xy = match self.main_dh(sa, &dh, g_xi) {
            Ok(s) => s,
            Err(r) => return Verdict::Reject(P1::MainR2(st), r),
        };
        let nr = self.nonce();
        let keys = self.phase1_keys(sa, suite, &st.psk, g_xy.expose(), ni, &nr);
        self.process_vids(sa, &inb);
        let cipher = match phase1_cipher(&keys, suite) {
            Ok(c) => c,
            Err(v) => return v,
        };
        let iv = IvChain::phase1(suite.hash, suite.encryption, g_xi, dh.public_value());
        let mut payloads = vec![
            PayloadRepr::KeyExchange(dh.public_value()),
            PayloadRepr::Nonce(&nr),
        ];
        payloads.extend(self.vid_payloads(VidSlot::KeyExchange));
        let Ok(bytes) = emit_clear(sa.header(ExchangeType::IDENTITY_PROTECTION, 0), payloads)
        else {
            return Verdict::Reject(
                P1::MainR2(st),
                DropReason::Crypto(CryptoDrop::InvalidKeyExchange),
            );
        };
        self.send_p1(now, sa, bytes, true, IsakmpState::MmKeyExch);
        Verdict::Next(P1::MainR4(Box::new(KeyedState::new(
            suite,
            st.sai_b,
            g_xi,
            dh.public_value(),
            keys,
            cipher,
            iv,
        ))))
    }

    /// MM5 received: authenticate, then MM6.
    fn main_r4(
        &mut self,
        now: Instant,
        sa: &mut IsakmpSa,
        st: KeyedState,
        m: &Message<&[u8]>,
    ) -> Verdict {
        let (mut st, identity, extras) = match self.authenticate(sa, st, m, "MM5", false) {
            Ok(x) => x,
            Err(v) => return v,
        };
        let transcript = transcript(sa, &st.g_xi, &st.g_xr, &st.sai_b);
        let bytes = match self.main_auth_message(
            sa,
            &st.keys,
            &st.cipher,
            &mut st.iv,
            &transcript,
            false,
        ) {
            Ok(b) => b,
            Err(AuthMessageError::Id) => {
                return Verdict::Fail {
                    reason: DropReason::Policy(PolicyDrop::InvalidId),
                    fail: FailReason::InvalidId,
                    notify: None,
                };
            }
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
        let next = self.establish(now, sa, st, identity, extras);
        self.send_p1(now, sa, bytes, false, IsakmpState::QmIdle);
        Verdict::Next(next)
    }

    /// AM2 received: authenticate, then AM3.
    fn aggr_i1(
        &mut self,
        now: Instant,
        sa: &mut IsakmpSa,
        st: AggrI1,
        m: &Message<&[u8]>,
    ) -> Verdict {
        let back = |st: AggrI1| P1::AggrI1(Box::new(st));
        let inb = match Inbound::clear(m) {
            Ok(i) => i,
            Err(r) => return Verdict::Reject(back(st), r),
        };
        let (Some(reply), Some(g_xr), Some(nr), Some(hash), Some(id_raw)) = (
            inb.sa(),
            inb.ke(),
            inb.nonce(),
            inb.hash(),
            inb.raw(PayloadType::IDENTIFICATION),
        ) else {
            return Verdict::Reject(
                back(st),
                DropReason::unexpected("AM2 (SA, KE, NONCE, ID, HASH)", inb.describe()),
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
        let psk = self
            .config
            .psk_for_identity(&identity)
            .or_else(|| self.config.psk_for_address(sa.remote.ip()).map(|x| x.0))
            .map(|k| k.expose().to_vec());
        let Some(psk) = psk else {
            return Verdict::Fail {
                reason: DropReason::Policy(PolicyDrop::NoPreSharedKey),
                fail: FailReason::NoPreSharedKey,
                notify: None,
            };
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
        let ctx = Some((sa.id, sa.conn_id));
        self.process_vids(sa, &inb);
        let keys = self.phase1_keys(sa, suite, &psk, g_xy.expose(), &st.ni, nr);
        let transcript = transcript(sa, st.dh.public_value(), g_xr, &st.sai_b);
        let expected = auth_hash(&keys, Role::Responder, &transcript, id_raw.body());
        // Unencrypted and unauthenticated: on failure the responder cookie
        // we just learnt is forgotten with the SA.
        if let Err(v) = self.check_peer_auth(sa, &expected, hash, &identity) {
            return v;
        }
        self.trace(
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
        let hash_i = auth_hash(&keys, Role::Initiator, &transcript, &st.id_b);
        let spi16 = sa.spi16();
        let mut payloads = vec![PayloadRepr::Hash(hash_i.as_bytes())];
        if self.wants_initial_contact(sa) {
            payloads.push(initial_contact(&spi16));
        }
        let Ok(bytes) = self.encrypt_p1(sa, ExchangeType::AGGRESSIVE, &payloads, &cipher, &mut iv)
        else {
            return Verdict::Reject(back(st), DropReason::Crypto(CryptoDrop::DecryptFailed));
        };
        self.send_p1(now, sa, bytes, false, IsakmpState::AgAuth);
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
        Verdict::Next(self.establish(
            now,
            sa,
            keyed,
            identity,
            AuthExtras {
                initial_contact: false,
            },
        ))
    }

    /// Phase 1 is up: events, queued Quick Modes, INITIAL-CONTACT.
    pub(crate) fn on_established(&mut self, now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        let Some(est) = sa.established() else {
            return;
        };
        let suite = est.suite;
        let info = Phase1Established {
            sa: id,
            conn_id: sa.conn_id,
            local: sa.local,
            remote: sa.remote,
            role: sa.role,
            mode: sa.mode,
            suite,
            peer_identity: est.peer_identity.clone(),
        };
        let pending = mem::take(&mut sa.pending);
        let initial_contact = mem::replace(&mut sa.initial_contact, false);
        let remote = sa.remote;
        if sa.role == Role::Responder {
            self.responded_first.remove(&(sa.icookie, remote));
        }
        self.events.push_back(Event::Phase1Established(info));
        if suite.encryption.is_weak() {
            self.weak(SaRef::Isakmp(id), suite.encryption.name().to_owned());
        }
        if suite.hash.is_weak() {
            self.weak(SaRef::Isakmp(id), suite.hash.name().to_owned());
        }
        if suite.group.is_weak() {
            self.weak(
                SaRef::Isakmp(id),
                format!("MODP-{}", suite.group.prime_bits()),
            );
        }
        if initial_contact {
            self.purge_peer(Some(id), remote, DeletedBy::InitialContact);
        }
        for n in pending {
            self.start_quick_mode(now, id, n);
        }
    }

    /// Forgets every other SA with a peer (INITIAL-CONTACT or DPD).
    /// With `keep`, that SA and the IPsec SAs it negotiated stay
    /// (INITIAL-CONTACT arrives on the new SA); without, everything goes.
    pub(crate) fn purge_peer(
        &mut self,
        keep: Option<IsakmpSaId>,
        remote: SocketAddr,
        by: DeletedBy,
    ) {
        let others: Vec<IsakmpSaId> = self
            .sas
            .values()
            .filter(|s| Some(s.id) != keep && s.remote.ip() == remote.ip() && s.is_established())
            .map(|s| s.id)
            .collect();
        for o in others {
            self.remove_sa(o, "peer restarted or dead", Some(by), FailReason::SaDeleted);
        }
        let spis: Vec<_> = self
            .ipsec
            .values()
            .filter(|s| s.remote.ip() == remote.ip() && Some(s.isakmp) != keep)
            .map(|s| s.inbound)
            .collect();
        for spi in spis {
            self.forget_ipsec(spi, by);
        }
    }

    /// Phase-1 retransmission timer fired.
    pub(crate) fn phase1_retransmit(&mut self, now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        let Some(mut r) = sa.retx else {
            return;
        };
        let schedule = &self.config.retransmit;
        if r.count >= schedule.delays.len() {
            let peer = sa.remote;
            self.events.push_back(Event::RetransmitGaveUp {
                sa: id,
                peer,
                message_id: 0,
            });
            self.remove_sa(id, "retransmissions exhausted", None, FailReason::Timeout);
            return;
        }
        r.count = r.count.saturating_add(1);
        r.next = now + schedule.delay(r.count).unwrap_or(schedule.final_wait);
        sa.retx = Some(r);
        sa.sent_at = Some(now);
        let (local, remote, out, state, role, conn) = (
            sa.local,
            sa.remote,
            sa.last_out.clone(),
            sa.ios_state(),
            sa.role,
            sa.conn_id,
        );
        if let Some(out) = out {
            self.counters.retransmitted = self.counters.retransmitted.saturating_add(1);
            self.trace(
                Some((id, conn)),
                TraceEvent::SendingPacket {
                    to: remote,
                    role,
                    state,
                    retransmission: true,
                },
            );
            self.transmit(local, remote, out);
        }
    }

    /// Sends a protected Informational on an established SA:
    /// `HDR*, HASH(1), payloads` (RFC 2409 s.5.7).
    pub(crate) fn send_informational(
        &mut self,
        id: IsakmpSaId,
        payloads: Vec<PayloadRepr<'_>>,
    ) -> bool {
        let Some(sa) = self.sas.remove(&id) else {
            return false;
        };
        let sent = self.send_informational_on(&sa, payloads);
        self.sas.insert(id, sa);
        sent
    }

    /// As [`Self::send_informational`], for an SA out of the table.
    pub(crate) fn send_informational_on(
        &mut self,
        sa: &IsakmpSa,
        payloads: Vec<PayloadRepr<'_>>,
    ) -> bool {
        let Some(mid) = self.new_message_id_in(|m| sa.qm.contains_key(&m)) else {
            return false;
        };
        let Some(est) = sa.established() else {
            return false;
        };
        let Ok(rest) = chain_bytes(&payloads) else {
            return false;
        };
        let hash = est.keys.informational_hash(mid, &rest);
        let mut all = vec![PayloadRepr::Hash(hash.as_bytes())];
        all.extend(payloads);
        let iv = est.iv.for_message_id(mid);
        let Ok((bytes, _pending)) = emit_encrypted(
            sa.header(ExchangeType::INFORMATIONAL, mid),
            &all,
            &est.cipher,
            &iv,
            self.config.padding,
        ) else {
            return false;
        };
        self.transmit(sa.local, sa.remote, bytes);
        true
    }

    /// Tells the peer an ISAKMP SA is gone (if it is established).
    pub(crate) fn send_isakmp_delete(&mut self, _now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get(&id) else {
            return;
        };
        if !sa.is_established() {
            return;
        }
        let spi = sa.spi16();
        let ctx = Some((sa.id, sa.conn_id));
        let d = PayloadRepr::Delete(DeleteRepr {
            doi: Doi::IPSEC,
            protocol: ProtocolId::ISAKMP,
            spi_size: 16,
            spis: vec![&spi],
        });
        if self.send_informational(id, vec![d]) {
            self.trace(
                ctx,
                TraceEvent::DeleteSent {
                    protocol: ProtocolId::ISAKMP.0,
                    spis: vec![spi.to_vec()],
                },
            );
        }
    }
}

fn initial_contact(spi16: &[u8; 16]) -> PayloadRepr<'_> {
    PayloadRepr::Notification(NotificationRepr {
        doi: Doi::IPSEC,
        protocol: ProtocolId::ISAKMP,
        notify_type: NotifyType::INITIAL_CONTACT,
        spi: spi16,
        data: &[],
    })
}

/// RFC 2409 s.5: nonces are 8 to 256 bytes.
fn check_nonce(n: &[u8]) -> Result<(), DropReason> {
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
fn peer_ke_nonce<'a>(
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
fn not_offered() -> Verdict {
    Verdict::Fail {
        reason: DropReason::Policy(PolicyDrop::NoProposalChosen),
        fail: FailReason::NoProposalChosen,
        notify: None,
    }
}

/// The phase-1 cipher under the derived key; a weak (DES) key ends the
/// negotiation.
fn phase1_cipher(keys: &Phase1Keys, suite: Phase1Suite) -> Result<Cipher, Verdict> {
    keys.cipher(suite.encryption).map_err(|_| Verdict::Fail {
        reason: DropReason::Crypto(CryptoDrop::InvalidKeyExchange),
        fail: FailReason::WeakKey,
        notify: None,
    })
}

/// What HASH_I and HASH_R cover (RFC 2409 s.5): the public values in
/// the RFC's order (the initiator's first, whichever side we are), the
/// SA's cookies and the initiator's SA payload body.
fn transcript<'a>(
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
fn auth_hash(
    keys: &Phase1Keys,
    sender: Role,
    transcript: &Phase1Transcript<'_>,
    id_b: &[u8],
) -> HashValue {
    match sender {
        Role::Initiator => keys.hash_i(transcript, id_b),
        Role::Responder => keys.hash_r(transcript, id_b),
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
enum AuthMessageError {
    /// Our ID payload did not encode.
    Id,
    /// The message did not encode or encrypt.
    Emit,
    /// The IV could not move past the message.
    Iv,
}

/// Puts a keyed state back in the wrapper matching the SA's position.
fn rewrap(sa: &IsakmpSa, st: KeyedState) -> P1 {
    match (sa.mode, sa.role) {
        (ExchangeMode::Main, Role::Initiator) => P1::MainI5(Box::new(st)),
        (ExchangeMode::Main, Role::Responder) => P1::MainR4(Box::new(st)),
        (ExchangeMode::Aggressive, _) => P1::AggrR2(Box::new(st)),
    }
}

/// Where vendor IDs go.
#[derive(Clone, Copy)]
enum VidSlot {
    First,
    KeyExchange,
    Aggressive,
}
