//! Informational exchanges (RFC 2408 s.4.8, RFC 2409 s.5.7): Delete and
//! Notify, protected by an established ISAKMP SA (`HDR*, HASH(1), N/D`
//! with HASH(1) = prf(SKEYID_a, M-ID | N/D)) or, before one exists, in the
//! clear; and Dead Peer Detection (RFC 3706), whose R-U-THERE and
//! R-U-THERE-ACK are notifications carrying a sequence number.
//!
//! Unprotected notifications never touch an established SA: they are
//! reported and counted. An error notification in the clear does end a
//! phase-1 negotiation that is still half-open (that is how the peer tells
//! us "no proposal chosen" or that our authentication failed).
//!
//! What reaches beyond the SA a message came on (INITIAL-CONTACT purging
//! the peer's other SAs, a Delete naming an ISAKMP SA, DPD declaring the
//! peer dead) is returned to the dispatcher, which owns the SA tables.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use isakmp_wire::{
    DeleteRepr, Doi, Message, NotificationRepr, NotifyType, PayloadRepr, PayloadType, ProtocolId,
};

use super::quick::{Qm, discard_failed_qm};
use super::{IsakmpSa, P1};
use crate::context::{Context, IpsecSa, TraceSa};
use crate::entropy::Purpose;
use crate::event::{
    CryptoDrop, DeletedBy, DropReason, Event, FailReason, Received, StateDrop, TraceEvent,
};
use crate::message::{Inbound, decrypt};
use crate::types::{IsakmpSaId, Spi};

/// Decrypts a protected Informational with the SA's message-ID chain and
/// checks HASH(1); the payloads after the HASH are then authentic.
pub(crate) fn open<'p>(
    sa: &IsakmpSa,
    m: &Message<&[u8]>,
    plain: &'p mut Vec<u8>,
) -> Result<Inbound<'p>, DropReason> {
    let Some(est) = sa.established() else {
        return Err(DropReason::unexpected(
            "cleartext notifications (phase 1 is not complete)",
            Received::EncryptedInformational,
        ));
    };
    let h = m.header();
    let mid = h.message_id();
    let iv = est.iv.for_message_id(mid);
    let (body, _pending) = decrypt(m, &est.cipher, &iv)?;
    *plain = body;
    let inb = Inbound::decrypted(
        isakmp_wire::HeaderRepr::from_header(&h),
        h.next_payload(),
        plain,
    )?;
    let Some((hash, rest)) = inb.leading_hash() else {
        return Err(DropReason::missing("Informational", PayloadType::HASH));
    };
    if !est.keys.informational_hash(mid, rest).verify(hash) {
        return Err(DropReason::Crypto(CryptoDrop::InvalidHash));
    }
    Ok(inb)
}

/// A cleartext Informational on an SA: its notifications are reported
/// (never acted on for an established SA: anyone can send these).
/// `Ok(Some(t))`: an error notification `t` that ends the half-open
/// negotiation (the dispatcher removes the SA).
pub(crate) fn clear(
    cx: &mut Context,
    sa: &IsakmpSa,
    remote: SocketAddr,
    m: &Message<&[u8]>,
) -> Result<Option<NotifyType>, DropReason> {
    let inb = Inbound::clear(m)?;
    let notes = inb.notifications();
    for n in &notes {
        cx.trace(
            sa.trace_sa(),
            TraceEvent::NotifyReceived {
                notify: n.notify_type,
                authenticated: false,
            },
        );
        cx.events.push_back(Event::PeerNotification {
            sa: Some(sa.id),
            peer: remote,
            notify: n.notify_type,
            authenticated: false,
        });
    }
    if sa.is_established() {
        return Err(DropReason::Crypto(CryptoDrop::NotEncrypted));
    }
    Ok(notes
        .iter()
        .find(|n| n.notify_type.is_error())
        .map(|n| n.notify_type))
}

/// What a protected notification asks of the dispatcher.
pub(crate) enum NotifyFollowup {
    /// Nothing more.
    Done,
    /// INITIAL-CONTACT: forget every other SA with the peer.
    PurgePeer,
}

/// A protected notification received on SA `id` (`sa`: the SA, unless an
/// earlier payload of the same message deleted it).
pub(crate) fn notify(
    cx: &mut Context,
    mut sa: Option<&mut IsakmpSa>,
    id: IsakmpSaId,
    remote: SocketAddr,
    n: &NotificationRepr<'_>,
) -> NotifyFollowup {
    let ctx: TraceSa = sa.as_deref().and_then(IsakmpSa::trace_sa);
    match n.notify_type {
        NotifyType::R_U_THERE | NotifyType::R_U_THERE_ACK => {
            let Some(seq) = n.dpd_sequence() else {
                cx.drop_input(remote, DropReason::State(StateDrop::DpdSequence));
                return NotifyFollowup::Done;
            };
            cx.trace(
                ctx,
                TraceEvent::Dpd {
                    notify: n.notify_type,
                    sequence: seq,
                    sent: false,
                },
            );
            if let Some(sa) = sa.as_deref_mut() {
                if n.notify_type == NotifyType::R_U_THERE {
                    answer_r_u_there(cx, sa, remote, seq);
                } else {
                    dpd_ack(cx, sa, remote, seq);
                }
            }
            NotifyFollowup::Done
        }
        NotifyType::INITIAL_CONTACT => {
            cx.trace(
                ctx,
                TraceEvent::NotifyReceived {
                    notify: n.notify_type,
                    authenticated: true,
                },
            );
            NotifyFollowup::PurgePeer
        }
        t => {
            cx.trace(
                ctx,
                TraceEvent::NotifyReceived {
                    notify: t,
                    authenticated: true,
                },
            );
            cx.events.push_back(Event::PeerNotification {
                sa: Some(id),
                peer: remote,
                notify: t,
                authenticated: true,
            });
            if t.is_error()
                && n.protocol != ProtocolId::ISAKMP
                && let Ok(spi) = <[u8; 4]>::try_from(n.spi)
                && let Some(sa) = sa
            {
                fail_quick_by_spi(cx, sa, Spi(u32::from_be_bytes(spi)), t);
            }
            NotifyFollowup::Done
        }
    }
}

/// The peer refused one of our Quick Modes (found by our SPI).
fn fail_quick_by_spi(cx: &mut Context, sa: &mut IsakmpSa, spi: Spi, t: NotifyType) {
    let mid = sa
        .qm
        .iter()
        .find(|(_, n)| matches!(n.state, Qm::I1(_)) && n.spi == Some(spi))
        .map(|(m, _)| *m);
    let Some(mid) = mid else {
        return;
    };
    let Some(node) = sa.qm.remove(&mid) else {
        return;
    };
    // The node was found by this SPI; in QM1-sent state no IPsec SA holds it.
    discard_failed_qm(
        cx,
        (sa.id, sa.conn_id),
        mid,
        &node,
        "peer refused the proposal",
    );
    cx.events.push_back(Event::Phase2Failed {
        negotiation: node.negotiation,
        sa: Some(sa.id),
        peer: sa.remote,
        reason: FailReason::PeerNotified(t),
    });
}

/// A protected Delete of IPsec SAs: each pair with the peer that has the
/// SPI (the peer's, or failing that ours) is forgotten.
pub(crate) fn delete_ipsec(cx: &mut Context, remote: SocketAddr, d: &DeleteRepr<'_>) {
    for spi in &d.spis {
        let Ok(b) = <[u8; 4]>::try_from(*spi) else {
            continue;
        };
        let spi = Spi(u32::from_be_bytes(b));
        let same_peer = |s: &&IpsecSa| s.remote.ip() == remote.ip();
        let inbound = cx
            .ipsec
            .values()
            .filter(same_peer)
            .find(|s| s.outbound == spi)
            .or_else(|| {
                cx.ipsec
                    .values()
                    .filter(same_peer)
                    .find(|s| s.inbound == spi)
            })
            .map(|s| s.inbound);
        let Some(inbound) = inbound else {
            cx.drop_input(remote, DropReason::State(StateDrop::UnknownSpi));
            continue;
        };
        cx.forget_ipsec(inbound, DeletedBy::Peer);
    }
}

/// Tells the peer, over the established SA `sa`, that the SAs with
/// `spi` of `protocol` are gone.
pub(crate) fn send_delete(cx: &mut Context, sa: &IsakmpSa, protocol: ProtocolId, spi: &[u8]) {
    let spi_size = u8::try_from(spi.len()).unwrap_or(u8::MAX);
    let d = PayloadRepr::Delete(DeleteRepr {
        doi: Doi::IPSEC,
        protocol,
        spi_size,
        spis: vec![spi],
    });
    if sa.send_informational(cx, vec![d]) {
        cx.trace(
            sa.trace_sa(),
            TraceEvent::DeleteSent {
                protocol: protocol.0,
                spis: vec![spi.to_vec()],
            },
        );
    }
}

fn dpd_notify(cx: &mut Context, sa: &IsakmpSa, t: NotifyType, seq: u32) {
    let spi = sa.spi16();
    let data = seq.to_be_bytes();
    let n = PayloadRepr::Notification(NotificationRepr {
        doi: Doi::IPSEC,
        protocol: ProtocolId::ISAKMP,
        notify_type: t,
        spi: &spi,
        data: &data,
    });
    if sa.send_informational(cx, vec![n]) {
        cx.trace(
            sa.trace_sa(),
            TraceEvent::Dpd {
                notify: t,
                sequence: seq,
                sent: true,
            },
        );
    }
}

fn answer_r_u_there(cx: &mut Context, sa: &mut IsakmpSa, remote: SocketAddr, seq: u32) {
    // RFC 3706 s.7: sequence numbers increase; a replayed or old one is
    // dropped.
    if sa.dpd.last_seq_in.is_some_and(|last| seq <= last) {
        return cx.drop_input(remote, DropReason::State(StateDrop::DpdSequence));
    }
    sa.dpd.last_seq_in = Some(seq);
    sa.fresh_auth = true;
    dpd_notify(cx, sa, NotifyType::R_U_THERE_ACK, seq);
}

fn dpd_ack(cx: &mut Context, sa: &mut IsakmpSa, remote: SocketAddr, seq: u32) {
    match sa.dpd.outstanding {
        Some((s, _, _)) if s == seq => {
            sa.dpd.outstanding = None;
            sa.fresh_auth = true;
        }
        _ => cx.drop_input(remote, DropReason::State(StateDrop::DpdSequence)),
    }
}

/// Sends an R-U-THERE and waits for its ACK; returns its sequence number.
pub(crate) fn send_r_u_there(cx: &mut Context, now: Instant, sa: &mut IsakmpSa) -> u32 {
    if sa.dpd.next_seq == 0 {
        // RFC 3706 s.7: start from a random sequence number.
        let mut b = [0u8; 4];
        cx.fill(Purpose::Other, &mut b);
        sa.dpd.next_seq = (u32::from_be_bytes(b) & 0x7fff_ffff).max(1);
    }
    let retry = cx
        .config
        .dpd
        .as_ref()
        .map_or(Duration::from_secs(2), |d| d.retry_interval);
    let seq = sa.dpd.next_seq;
    sa.dpd.next_seq = seq.wrapping_add(1).max(1);
    let tries = sa
        .dpd
        .outstanding
        .map_or(1, |(_, _, t)| t.saturating_add(1));
    sa.dpd.outstanding = Some((seq, now + retry, tries));
    dpd_notify(cx, sa, NotifyType::R_U_THERE, seq);
    seq
}

/// When DPD next wants to run on an SA: the outstanding R-U-THERE's
/// deadline, or (when the peer does DPD) the end of the idle interval.
pub(crate) fn dpd_deadline(cx: &Context, sa: &IsakmpSa) -> Option<Instant> {
    if let Some((_, deadline, _)) = sa.dpd.outstanding {
        return Some(deadline);
    }
    let cfg = cx.config.dpd.as_ref()?;
    sa.dpd
        .peer_supports
        .then(|| sa.dpd.last_heard + cfg.interval)
}

/// The DPD timer of an established SA: sends an R-U-THERE when due;
/// `true` when the peer is declared dead (its R-U-THEREs all went
/// unanswered), which the dispatcher acts on.
pub(crate) fn dpd_timer(cx: &mut Context, now: Instant, sa: &mut IsakmpSa) -> bool {
    if !matches!(sa.state, P1::Established(_)) {
        return false;
    }
    let retries = cx.config.dpd.as_ref().map_or(5, |d| d.retries);
    match sa.dpd.outstanding {
        Some((_, deadline, tries)) if deadline <= now => {
            if tries >= retries {
                return true;
            }
            send_r_u_there(cx, now, sa);
        }
        Some(_) => {}
        None => {
            if dpd_deadline(cx, sa).is_some_and(|d| d <= now) {
                send_r_u_there(cx, now, sa);
            }
        }
    }
    false
}
