//! The exchanges as per-state types, in the manner of rustls's client
//! states: each state of Main Mode ([`main_mode`]), Aggressive Mode
//! ([`aggressive`]), Quick Mode ([`quick`]) and the Informational exchange
//! ([`informational`]) is a struct whose handler consumes it with a
//! message, the SA record it runs on and the [`Context`], and returns what
//! comes next ([`Verdict`] for phase 1; the node's next state for Quick
//! Mode). Outputs (datagrams, events, trace steps) go to the context's
//! queues as the handler goes, in the order the peer sees them.
//!
//! This module holds what every exchange shares: the ISAKMP SA record
//! ([`IsakmpSa`]) with its phase-1 state ([`P1`]) and Quick Mode nodes,
//! and the helpers that send on an SA. [`phase1`] holds what Main and
//! Aggressive Mode share (keys, authentication, the responder's reading
//! of a first message). The endpoint (`crate::endpoint`) is the
//! dispatcher: it owns the SA tables, finds the SA a message belongs to
//! and calls the handlers; nothing here reaches back into it.

pub(crate) mod aggressive;
pub(crate) mod certauth;
pub(crate) mod informational;
pub(crate) mod main_mode;
pub(crate) mod nat;
pub(crate) mod phase1;
pub(crate) mod quick;
pub(crate) mod transaction;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Instant;

use isakmp_wire::{Cookie, ExchangeType, HeaderRepr, Message, NotifyType, PayloadRepr, ProtocolId};

use crate::context::{Context, TraceSa};
use crate::crypto::{IvChain, PendingIv};
use crate::event::{DropReason, FailReason, NatStatus, Phase1Suite, Received, TraceEvent};
use crate::message::{BuildError, chain_bytes, emit_encrypted};
use crate::types::{ExchangeMode, IsakmpSaId, IsakmpState, NegotiationId, Role};

use aggressive::{AggrI1, AggrR2};
use main_mode::{MainI1, MainI3, MainI5, MainR2, MainR4};
use phase1::{Established, in_clear, last_auth};
use quick::QmNode;

/// Retransmission state of our last message of an exchange.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Retx {
    pub(crate) next: Instant,
    pub(crate) count: usize,
}

/// DPD bookkeeping of an ISAKMP SA (RFC 3706).
#[derive(Clone, Debug)]
pub(crate) struct Dpd {
    pub(crate) peer_supports: bool,
    pub(crate) next_seq: u32,
    /// The R-U-THERE waiting for its ACK: sequence, deadline, tries.
    pub(crate) outstanding: Option<(u32, Instant, u32)>,
    pub(crate) last_seq_in: Option<u32>,
    pub(crate) last_heard: Instant,
}

/// One ISAKMP SA (half-open or established).
pub(crate) struct IsakmpSa {
    pub(crate) id: IsakmpSaId,
    pub(crate) conn_id: u32,
    pub(crate) role: Role,
    pub(crate) mode: ExchangeMode,
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) icookie: Cookie,
    pub(crate) rcookie: Cookie,
    pub(crate) state: P1,
    pub(crate) last_in: Option<Vec<u8>>,
    pub(crate) last_out: Option<Vec<u8>>,
    pub(crate) retx: Option<Retx>,
    pub(crate) qm: BTreeMap<u32, QmNode>,
    pub(crate) pending: Vec<NegotiationId>,
    pub(crate) dpd: Dpd,
    pub(crate) rekey_started: bool,
    /// INITIAL-CONTACT came with the peer's authentication message.
    pub(crate) initial_contact: bool,
    /// When `last_out` was last sent (answers to duplicates are rate
    /// limited from it).
    pub(crate) sent_at: Option<Instant>,
    /// What NAT traversal found so far.
    pub(crate) nat: NatStatus,
    /// Our NAT-D went out: the NAT-T version is settled.
    pub(crate) nat_d_sent: bool,
    /// A handler verified a fresh protected message on this SA during the
    /// current input (QM1 on a new message ID, QM2, QM3, a DPD message
    /// with an acceptable sequence): the dispatcher may then follow the
    /// peer to a new address. Cleared before each input.
    pub(crate) fresh_auth: bool,
    /// When the next NAT keepalive is due (we are behind a NAT and IKE
    /// floated).
    pub(crate) next_keepalive: Option<Instant>,
    /// XAUTH and Mode-Config progress, on an SA that does remote access.
    pub(crate) ra: Option<transaction::Ra>,
    /// Client: the address the SA this one replaces was given (a phase-1
    /// rekey asks for it again).
    pub(crate) ra_wanted_address: Option<std::net::Ipv4Addr>,
    /// The peer announced IKE fragmentation for Main and Aggressive Mode.
    pub(crate) peer_fragmentation: bool,
    /// The fragment ID of our next fragmented message.
    pub(crate) next_fragment_id: u16,
    /// The peer sent a certificate request in this exchange.
    pub(crate) peer_requested_cert: bool,
}

impl IsakmpSa {
    /// A phase-1 SA about to send (initiator) or answer (responder) its
    /// first message: no state yet, nothing sent or received, the peer's
    /// DPD support unknown and the peer last heard from at `now`. The
    /// initiator's responder cookie is zero until MM2/AM2 brings it.
    pub(crate) fn new(
        id: IsakmpSaId,
        conn_id: u32,
        role: Role,
        mode: ExchangeMode,
        (local, remote): (SocketAddr, SocketAddr),
        (icookie, rcookie): (Cookie, Cookie),
        now: Instant,
    ) -> Self {
        IsakmpSa {
            id,
            conn_id,
            role,
            mode,
            local,
            remote,
            icookie,
            rcookie,
            state: P1::Dead,
            last_in: None,
            last_out: None,
            retx: None,
            qm: BTreeMap::new(),
            pending: Vec::new(),
            dpd: Dpd {
                peer_supports: false,
                next_seq: 0,
                outstanding: None,
                last_seq_in: None,
                last_heard: now,
            },
            rekey_started: false,
            initial_contact: false,
            sent_at: None,
            nat: NatStatus::default(),
            nat_d_sent: false,
            fresh_auth: false,
            next_keepalive: None,
            ra: None,
            ra_wanted_address: None,
            peer_fragmentation: false,
            next_fragment_id: 0,
            peer_requested_cert: false,
        }
    }

    pub(crate) fn established(&self) -> Option<&Established> {
        match &self.state {
            P1::Established(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn is_established(&self) -> bool {
        matches!(self.state, P1::Established(_))
    }

    /// Whether this SA carries IKE between `local` and `remote` as a
    /// request names them: exactly, or (once NAT-T floated it) between the
    /// same two addresses on whatever ports the float and the peer's NAT
    /// gave it.
    pub(crate) fn serves(&self, local: SocketAddr, remote: SocketAddr) -> bool {
        (self.local == local && self.remote == remote)
            || (self.nat.floated
                && self.local.ip() == local.ip()
                && self.remote.ip() == remote.ip())
    }

    pub(crate) fn header(&self, exchange: ExchangeType, message_id: u32) -> HeaderRepr {
        HeaderRepr {
            initiator_cookie: self.icookie,
            responder_cookie: self.rcookie,
            exchange_type: exchange,
            message_id,
            ..HeaderRepr::default()
        }
    }

    pub(crate) fn ios_state(&self) -> IsakmpState {
        self.state.ios_state()
    }

    /// The 16-byte SPI of this ISAKMP SA (RFC 2408 s.3.15).
    pub(crate) fn spi16(&self) -> [u8; 16] {
        let mut s = [0u8; 16];
        s[..8].copy_from_slice(&self.icookie);
        s[8..].copy_from_slice(&self.rcookie);
        s
    }

    /// This SA as the context of a trace step.
    pub(crate) fn trace_sa(&self) -> TraceSa {
        Some((self.id, self.conn_id))
    }

    /// Traces a message received on this SA (IOS's "received packet
    /// from"), with its role and state.
    pub(crate) fn trace_received(&self, cx: &mut Context, from: SocketAddr) {
        cx.trace(
            self.trace_sa(),
            TraceEvent::ReceivedPacket {
                from,
                role: Some(self.role),
                state: Some(self.ios_state()),
            },
        );
    }

    /// Traces the first sending of a message on this SA (retransmissions
    /// are traced where they happen), in IOS state `state`.
    pub(crate) fn trace_sending(&self, cx: &mut Context, state: IsakmpState) {
        cx.trace(
            self.trace_sa(),
            TraceEvent::SendingPacket {
                to: self.remote,
                role: self.role,
                state,
                retransmission: false,
            },
        );
    }

    /// Sends a phase-1 message and arms (or clears) its retransmission.
    pub(crate) fn send_p1(
        &mut self,
        cx: &mut Context,
        now: Instant,
        bytes: Vec<u8>,
        retransmit: bool,
        state: IsakmpState,
    ) {
        self.trace_sending(cx, state);
        self.retx = if retransmit {
            Some(Retx {
                next: now + cx.first_delay(),
                count: 0,
            })
        } else {
            None
        };
        self.last_out = Some(bytes.clone());
        self.sent_at = Some(now);
        self.next_fragment_id = self.next_fragment_id.wrapping_add(1).max(1);
        self.put_out(cx, bytes);
    }

    /// Transmits a phase-1 message of ours (a first send, a retransmission
    /// or the answer to a duplicate): whole, or as fragments when the peer
    /// announced fragmentation and the message is too long for the
    /// configured fragment size (see [`crate::fragment`]).
    pub(crate) fn put_out(&mut self, cx: &mut Context, bytes: Vec<u8>) {
        let conf = &cx.config.fragmentation;
        let max = conf.max_message_len(self.remote.ip(), self.local.port(), cx.config.nat_t.port);
        if conf.enabled && self.peer_fragmentation && bytes.len() > max {
            match crate::fragment::split(&bytes, max, self.next_fragment_id) {
                Ok(fragments) => {
                    let n = u64::try_from(fragments.len()).unwrap_or(u64::MAX);
                    cx.counters.fragments_sent = cx.counters.fragments_sent.saturating_add(n);
                    for f in fragments {
                        cx.transmit(self.local, self.remote, f);
                    }
                    return;
                }
                // Too small a size for this message: sent whole, as
                // strongSwan does when it cannot fragment.
                Err(_) => {
                    cx.counters.fragmentation_failed =
                        cx.counters.fragmentation_failed.saturating_add(1);
                }
            }
        }
        cx.transmit(self.local, self.remote, bytes);
    }

    /// The phase-1 retransmission timer fired: resends our last message,
    /// or returns `false` when every retransmission is spent (the caller
    /// then gives the SA up).
    pub(crate) fn retransmit(&mut self, cx: &mut Context, now: Instant) -> bool {
        let Some(mut r) = self.retx else {
            return true;
        };
        let schedule = &cx.config.retransmit;
        // A responder's first reply goes to a source nothing has verified
        // yet: resent at most `first_reply_retransmits` times.
        let first_reply = matches!(self.state, P1::MainR2(_) | P1::AggrR2(_));
        let cap = if first_reply {
            schedule
                .delays
                .len()
                .min(cx.config.limits.first_reply_retransmits)
        } else {
            schedule.delays.len()
        };
        if r.count >= cap {
            return false;
        }
        r.count = r.count.saturating_add(1);
        r.next = now + schedule.delay(r.count).unwrap_or(schedule.final_wait);
        self.retx = Some(r);
        self.sent_at = Some(now);
        if let Some(out) = self.last_out.clone() {
            cx.counters.retransmitted = cx.counters.retransmitted.saturating_add(1);
            cx.trace(
                self.trace_sa(),
                TraceEvent::SendingPacket {
                    to: self.remote,
                    role: self.role,
                    state: self.ios_state(),
                    retransmission: true,
                },
            );
            self.put_out(cx, out);
        }
        true
    }

    /// Sends an unprotected Informational with one notification on this
    /// SA's cookies.
    pub(crate) fn send_clear_notify(
        &self,
        cx: &mut Context,
        notify: NotifyType,
        protocol: ProtocolId,
        spi: &[u8],
    ) {
        cx.send_clear_notify_to(
            self.local,
            self.remote,
            self.icookie,
            self.rcookie,
            notify,
            protocol,
            spi,
            self.trace_sa(),
        );
    }

    /// A protected message of this established SA (`est`, its phase-1
    /// state): `payloads` in exchange `exchange` on message ID `mid`,
    /// encrypted under the phase-1 cipher with the chain `iv`, whose next
    /// IV is pending until the caller commits it.
    pub(crate) fn seal(
        &self,
        cx: &Context,
        est: &Established,
        exchange: ExchangeType,
        mid: u32,
        payloads: &[PayloadRepr<'_>],
        iv: &IvChain,
    ) -> Result<(Vec<u8>, PendingIv), BuildError> {
        emit_encrypted(
            self.header(exchange, mid),
            payloads,
            &est.cipher,
            iv,
            cx.config.padding,
        )
    }

    /// Sends a protected Informational on this SA, if established:
    /// `HDR*, HASH(1), payloads` (RFC 2409 s.5.7). Whether it went.
    pub(crate) fn send_informational(
        &self,
        cx: &mut Context,
        payloads: Vec<PayloadRepr<'_>>,
    ) -> bool {
        let Some(mid) = cx.new_message_id_in(|m| self.qm.contains_key(&m)) else {
            return false;
        };
        let Some(est) = self.established() else {
            return false;
        };
        let Ok(rest) = chain_bytes(&payloads) else {
            return false;
        };
        let hash = est.keys.informational_hash(mid, &rest);
        let mut all = vec![PayloadRepr::Hash(hash.as_bytes())];
        all.extend(payloads);
        let iv: IvChain = est.iv.for_message_id(mid);
        let Ok((bytes, _pending)) = self.seal(cx, est, ExchangeType::INFORMATIONAL, mid, &all, &iv)
        else {
            return false;
        };
        cx.transmit(self.local, self.remote, bytes);
        true
    }
}

/// The phase-1 state of an ISAKMP SA: one type per state.
pub(crate) enum P1 {
    /// Initiator, MM1 sent.
    MainI1(MainI1),
    /// Initiator, MM3 sent.
    MainI3(Box<MainI3>),
    /// Initiator, MM5 sent.
    MainI5(Box<MainI5>),
    /// Responder, MM2 sent.
    MainR2(MainR2),
    /// Responder, MM4 sent.
    MainR4(Box<MainR4>),
    /// Initiator, AM1 sent.
    AggrI1(Box<AggrI1>),
    /// Responder, AM2 sent.
    AggrR2(Box<AggrR2>),
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
            P1::MainI5(s) => Some(s.0.suite),
            P1::MainR4(s) => Some(s.0.suite),
            P1::AggrR2(s) => Some(s.0.suite),
            P1::Established(e) => Some(e.suite),
        }
    }

    /// Hands a Main or Aggressive Mode message to the state's handler:
    /// through [`in_clear`] for the states that wait for a cleartext
    /// message; the two that wait for the exchange's last message (MM6,
    /// AM3) share one handler, [`last_auth`].
    /// `initial_contact`: whether our authentication message, if this
    /// step sends it, carries INITIAL-CONTACT (configured, and no other SA
    /// with the peer: the dispatcher knows the other SAs).
    pub(crate) fn handle(
        self,
        cx: &mut Context,
        now: Instant,
        sa: &mut IsakmpSa,
        m: &Message<&[u8]>,
        initial_contact: bool,
    ) -> Verdict {
        match self {
            P1::MainI1(st) => in_clear(st, m, P1::MainI1, |st, inb| st.handle(cx, now, sa, inb)),
            P1::MainI3(st) => in_clear(st, m, P1::MainI3, |st, inb| {
                st.handle(cx, now, sa, inb, initial_contact)
            }),
            P1::MainI5(st) => last_auth(cx, now, sa, st.0, m, main_mode::MM6),
            P1::MainR2(st) => in_clear(st, m, P1::MainR2, |st, inb| st.handle(cx, now, sa, inb)),
            P1::MainR4(st) => st.handle(cx, now, sa, m),
            P1::AggrI1(st) => in_clear(st, m, P1::AggrI1, |st, inb| {
                st.handle(cx, now, sa, inb, initial_contact)
            }),
            P1::AggrR2(st) => last_auth(cx, now, sa, st.0, m, aggressive::AM3),
            other @ (P1::Established(_) | P1::Dead) => Verdict::Reject(
                other,
                DropReason::unexpected(
                    "Quick Mode or Informational (phase 1 is complete)",
                    Received::Exchange(m.header().exchange_type()),
                ),
            ),
        }
    }

    /// Whether this state waits for the peer's authentication message
    /// (MM5, MM6, AM3): the message a NAT-T float arrives with.
    pub(crate) fn awaits_auth(&self) -> bool {
        matches!(self, P1::MainR4(_) | P1::MainI5(_) | P1::AggrR2(_))
    }

    /// Whether the next step of this state may send our authentication
    /// message (MM5 after MM4, AM3 after AM2), so the dispatcher knows
    /// when to work out INITIAL-CONTACT.
    pub(crate) fn sends_auth(&self) -> bool {
        matches!(self, P1::MainI3(_) | P1::AggrI1(_))
    }
}

/// The outcome of a phase-1 handler.
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
