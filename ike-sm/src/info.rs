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

use std::net::SocketAddr;
use std::time::Instant;

use isakmp_wire::{
    DeleteRepr, Doi, Message, NotificationRepr, NotifyType, PayloadRepr, ProtocolId,
};

use crate::endpoint::{Endpoint, IpsecSa, IsakmpSa};
use crate::event::{
    CryptoDrop, DeletedBy, DropReason, Event, FailReason, Received, StateDrop, TraceEvent,
};
use crate::message::{Inbound, decrypt};
use crate::quick::Qm;
use crate::types::{IsakmpSaId, Spi};

impl Endpoint {
    /// Entry point for Informational messages.
    pub(crate) fn info_input(&mut self, now: Instant, remote: SocketAddr, m: &Message<&[u8]>) {
        let h = m.header();
        let (ic, rc) = (h.initiator_cookie(), h.responder_cookie());
        let id = self
            .lookup(ic, rc)
            .or_else(|| self.responded_first.get(&(ic, remote)).copied());
        let Some(id) = id else {
            return self.drop_input(remote, DropReason::State(StateDrop::UnknownSa));
        };
        let Some(sa) = self.sas.get(&id) else {
            return self.drop_input(remote, DropReason::State(StateDrop::UnknownSa));
        };
        if sa.remote.ip() != remote.ip() {
            return self.drop_input(
                remote,
                DropReason::unexpected("messages from the SA's peer", Received::From(remote)),
            );
        }
        if !m.is_encrypted() {
            return self.clear_info(remote, id, m);
        }
        let Some(est) = sa.established() else {
            return self.drop_input(
                remote,
                DropReason::unexpected(
                    "cleartext notifications (phase 1 is not complete)",
                    Received::EncryptedInformational,
                ),
            );
        };
        let mid = h.message_id();
        let iv = est.iv.for_message_id(mid);
        let (plain, _pending) = match decrypt(m, &est.cipher, &iv) {
            Ok(x) => x,
            Err(r) => return self.drop_input(remote, r),
        };
        let inb = match Inbound::decrypted(
            isakmp_wire::HeaderRepr::from_header(&h),
            h.next_payload(),
            &plain,
        ) {
            Ok(i) => i,
            Err(r) => return self.drop_input(remote, r),
        };
        let Some((hash, rest)) = inb.leading_hash() else {
            return self.drop_input(
                remote,
                DropReason::missing("Informational", isakmp_wire::PayloadType::HASH),
            );
        };
        if !est.keys.informational_hash(mid, rest).verify(hash) {
            return self.drop_input(remote, DropReason::Crypto(CryptoDrop::InvalidHash));
        }
        if let Some(sa) = self.sas.get_mut(&id) {
            sa.dpd.last_heard = now;
        }
        for p in inb.typed.iter().skip(1) {
            match p {
                PayloadRepr::Notification(n) => self.protected_notify(now, id, remote, n),
                PayloadRepr::Delete(d) => self.protected_delete(id, remote, d),
                _ => {}
            }
        }
    }

    fn clear_info(&mut self, remote: SocketAddr, id: IsakmpSaId, m: &Message<&[u8]>) {
        let inb = match Inbound::clear(m) {
            Ok(i) => i,
            Err(r) => return self.drop_input(remote, r),
        };
        let Some(sa) = self.sas.get(&id) else {
            return;
        };
        let established = sa.is_established();
        let ctx = Some((sa.id, sa.conn_id));
        let notes = inb.notifications();
        for n in &notes {
            self.trace(
                ctx,
                TraceEvent::NotifyReceived {
                    notify: n.notify_type,
                    authenticated: false,
                },
            );
            self.events.push_back(Event::PeerNotification {
                sa: Some(id),
                peer: remote,
                notify: n.notify_type,
                authenticated: false,
            });
        }
        if established {
            // Never acted on: anyone can send these.
            return self.drop_input(remote, DropReason::Crypto(CryptoDrop::NotEncrypted));
        }
        if let Some(n) = notes.iter().find(|n| n.notify_type.is_error()) {
            self.remove_sa(
                id,
                "peer sent an error notification",
                None,
                FailReason::PeerNotified(n.notify_type),
            );
        }
    }

    fn protected_notify(
        &mut self,
        now: Instant,
        id: IsakmpSaId,
        remote: SocketAddr,
        n: &NotificationRepr<'_>,
    ) {
        let ctx = self.sas.get(&id).map(|s| (s.id, s.conn_id));
        match n.notify_type {
            NotifyType::R_U_THERE | NotifyType::R_U_THERE_ACK => {
                let Some(seq) = n.dpd_sequence() else {
                    return self.drop_input(remote, DropReason::State(StateDrop::DpdSequence));
                };
                self.trace(
                    ctx,
                    TraceEvent::Dpd {
                        notify: n.notify_type,
                        sequence: seq,
                        sent: false,
                    },
                );
                if n.notify_type == NotifyType::R_U_THERE {
                    self.answer_r_u_there(id, remote, seq);
                } else {
                    self.dpd_ack(id, remote, seq);
                }
            }
            NotifyType::INITIAL_CONTACT => {
                self.trace(
                    ctx,
                    TraceEvent::NotifyReceived {
                        notify: n.notify_type,
                        authenticated: true,
                    },
                );
                self.purge_peer(Some(id), remote, DeletedBy::InitialContact);
            }
            t => {
                self.trace(
                    ctx,
                    TraceEvent::NotifyReceived {
                        notify: t,
                        authenticated: true,
                    },
                );
                self.events.push_back(Event::PeerNotification {
                    sa: Some(id),
                    peer: remote,
                    notify: t,
                    authenticated: true,
                });
                if t.is_error()
                    && n.protocol != ProtocolId::ISAKMP
                    && let Ok(spi) = <[u8; 4]>::try_from(n.spi)
                {
                    self.fail_quick_by_spi(now, id, Spi(u32::from_be_bytes(spi)), t);
                }
            }
        }
    }

    /// The peer refused one of our Quick Modes (found by our SPI).
    fn fail_quick_by_spi(&mut self, _now: Instant, id: IsakmpSaId, spi: Spi, t: NotifyType) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
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
        let peer = sa.remote;
        let conn = sa.conn_id;
        // The node was found by this SPI; in QM1-sent state no IPsec SA holds it.
        self.discard_failed_qm((id, conn), mid, &node, "peer refused the proposal");
        self.events.push_back(Event::Phase2Failed {
            negotiation: node.negotiation,
            sa: Some(id),
            peer,
            reason: FailReason::PeerNotified(t),
        });
    }

    fn protected_delete(&mut self, id: IsakmpSaId, remote: SocketAddr, d: &DeleteRepr<'_>) {
        let ctx = self.sas.get(&id).map(|s| (s.id, s.conn_id));
        self.trace(
            ctx,
            TraceEvent::DeleteReceived {
                protocol: d.protocol.0,
                spis: d.spis.iter().map(|s| s.to_vec()).collect(),
            },
        );
        if d.protocol == ProtocolId::ISAKMP {
            for spi in &d.spis {
                let Ok(spi) = <[u8; 16]>::try_from(*spi) else {
                    continue;
                };
                let (mut ic, mut rc) = ([0u8; 8], [0u8; 8]);
                ic.copy_from_slice(&spi[..8]);
                rc.copy_from_slice(&spi[8..]);
                let target = self.lookup(ic, rc).filter(|t| {
                    self.sas
                        .get(t)
                        .is_some_and(|s| s.remote.ip() == remote.ip())
                });
                if let Some(t) = target {
                    self.remove_sa(
                        t,
                        "peer deleted it",
                        Some(DeletedBy::Peer),
                        FailReason::SaDeleted,
                    );
                } else {
                    self.drop_input(remote, DropReason::State(StateDrop::UnknownSpi));
                }
            }
            return;
        }
        for spi in &d.spis {
            let Ok(b) = <[u8; 4]>::try_from(*spi) else {
                continue;
            };
            let spi = Spi(u32::from_be_bytes(b));
            let same_peer = |s: &&IpsecSa| s.remote.ip() == remote.ip();
            let inbound = self
                .ipsec
                .values()
                .filter(same_peer)
                .find(|s| s.outbound == spi)
                .or_else(|| {
                    self.ipsec
                        .values()
                        .filter(same_peer)
                        .find(|s| s.inbound == spi)
                })
                .map(|s| s.inbound);
            let Some(inbound) = inbound else {
                self.drop_input(remote, DropReason::State(StateDrop::UnknownSpi));
                continue;
            };
            self.forget_ipsec(inbound, DeletedBy::Peer);
        }
    }

    /// Tells the peer an IPsec SA pair is gone, over the SA that made it or
    /// another established one with the peer.
    pub(crate) fn send_ipsec_delete(&mut self, _now: Instant, s: &IpsecSa) {
        let via = if self
            .sas
            .get(&s.isakmp)
            .is_some_and(IsakmpSa::is_established)
        {
            Some(s.isakmp)
        } else {
            self.best_established(s.local, s.remote)
        };
        let Some(via) = via else {
            return;
        };
        let spi = s.inbound.to_bytes();
        let d = PayloadRepr::Delete(DeleteRepr {
            doi: Doi::IPSEC,
            protocol: ProtocolId::ESP,
            spi_size: 4,
            spis: vec![&spi],
        });
        if self.send_informational(via, vec![d]) {
            let ctx = self.sas.get(&via).map(|x| (x.id, x.conn_id));
            self.trace(
                ctx,
                TraceEvent::DeleteSent {
                    protocol: ProtocolId::ESP.0,
                    spis: vec![spi.to_vec()],
                },
            );
        }
    }

    fn dpd_notify(&mut self, id: IsakmpSaId, t: NotifyType, seq: u32) {
        let Some(sa) = self.sas.get(&id) else {
            return;
        };
        let spi = sa.spi16();
        let ctx = Some((sa.id, sa.conn_id));
        let data = seq.to_be_bytes();
        let n = PayloadRepr::Notification(NotificationRepr {
            doi: Doi::IPSEC,
            protocol: ProtocolId::ISAKMP,
            notify_type: t,
            spi: &spi,
            data: &data,
        });
        if self.send_informational(id, vec![n]) {
            self.trace(
                ctx,
                TraceEvent::Dpd {
                    notify: t,
                    sequence: seq,
                    sent: true,
                },
            );
        }
    }

    fn answer_r_u_there(&mut self, id: IsakmpSaId, remote: SocketAddr, seq: u32) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        // RFC 3706 s.7: sequence numbers increase; a replayed or old one is
        // dropped.
        if sa.dpd.last_seq_in.is_some_and(|last| seq <= last) {
            return self.drop_input(remote, DropReason::State(StateDrop::DpdSequence));
        }
        sa.dpd.last_seq_in = Some(seq);
        self.dpd_notify(id, NotifyType::R_U_THERE_ACK, seq);
    }

    fn dpd_ack(&mut self, id: IsakmpSaId, remote: SocketAddr, seq: u32) {
        let Some(sa) = self.sas.get_mut(&id) else {
            return;
        };
        match sa.dpd.outstanding {
            Some((s, _, _)) if s == seq => sa.dpd.outstanding = None,
            _ => self.drop_input(remote, DropReason::State(StateDrop::DpdSequence)),
        }
    }

    /// Sends an R-U-THERE and waits for its ACK.
    pub(crate) fn send_r_u_there(&mut self, now: Instant, id: IsakmpSaId) -> u32 {
        if self.sas.get(&id).is_some_and(|s| s.dpd.next_seq == 0) {
            // RFC 3706 s.7: start from a random sequence number.
            let mut b = [0u8; 4];
            self.fill(crate::entropy::Purpose::Other, &mut b);
            let start = (u32::from_be_bytes(b) & 0x7fff_ffff).max(1);
            if let Some(sa) = self.sas.get_mut(&id) {
                sa.dpd.next_seq = start;
            }
        }
        let retry = self
            .config
            .dpd
            .as_ref()
            .map_or(std::time::Duration::from_secs(2), |d| d.retry_interval);
        let Some(sa) = self.sas.get_mut(&id) else {
            return 0;
        };
        let seq = sa.dpd.next_seq;
        sa.dpd.next_seq = seq.wrapping_add(1).max(1);
        let tries = sa
            .dpd
            .outstanding
            .map_or(1, |(_, _, t)| t.saturating_add(1));
        sa.dpd.outstanding = Some((seq, now + retry, tries));
        self.dpd_notify(id, NotifyType::R_U_THERE, seq);
        seq
    }

    pub(crate) fn dpd_deadline(&self, sa: &IsakmpSa) -> Option<Instant> {
        if let Some((_, deadline, _)) = sa.dpd.outstanding {
            return Some(deadline);
        }
        let cfg = self.config.dpd.as_ref()?;
        sa.dpd
            .peer_supports
            .then(|| sa.dpd.last_heard + cfg.interval)
    }

    pub(crate) fn dpd_timer(&mut self, now: Instant, id: IsakmpSaId) {
        let Some(sa) = self.sas.get(&id) else {
            return;
        };
        if !sa.is_established() {
            return;
        }
        let retries = self.config.dpd.as_ref().map_or(5, |d| d.retries);
        match sa.dpd.outstanding {
            Some((_, deadline, tries)) if deadline <= now => {
                if tries >= retries {
                    let peer = sa.remote;
                    self.events.push_back(Event::DpdTimeout { sa: id, peer });
                    // The peer is gone: forget its SAs without telling it.
                    self.purge_peer(None, peer, DeletedBy::DeadPeer);
                    self.remove_sa(
                        id,
                        "peer dead (DPD)",
                        Some(DeletedBy::DeadPeer),
                        FailReason::SaDeleted,
                    );
                } else {
                    self.send_r_u_there(now, id);
                }
            }
            Some(_) => {}
            None => {
                if self.dpd_deadline(sa).is_some_and(|d| d <= now) {
                    self.send_r_u_there(now, id);
                }
            }
        }
    }
}
