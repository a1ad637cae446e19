//! Quick Mode (RFC 2409 s.5.5): phase-2 negotiations over an established
//! ISAKMP SA, several at once, told apart by message ID.
//!
//! ```text
//! I: HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr]          (QM1)
//! R: HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, N]    (QM2)
//! I: HDR*, HASH(3)                                        (QM3)
//! ```
//!
//! HASH(1) = prf(SKEYID_a, M-ID | rest), HASH(2) = prf(SKEYID_a, M-ID |
//! Ni_b | rest), HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). Each
//! message ID has its own CBC chain starting at hash(last phase-1 block |
//! M-ID). The initiator installs its SAs when it sends QM3 (as the seed's
//! Daphne does), the responder when QM3 verifies. A completed node lingers
//! so that a retransmitted QM2 is answered with the same QM3. The commit
//! bit is tolerated: a QM2 with it set is processed like any other and a
//! CONNECTED notification is accepted and ignored.
//!
//! Each node's state is a type ([`QmI1`] after QM1, [`QmR2`] after QM2)
//! whose handler consumes it with the next message; a QM1 on a new
//! message ID goes to the responder ([`input`] dispatches). The node
//! lives in its ISAKMP SA's table; the dispatcher lends the SA and the
//! [`Context`] to [`start`], [`input`] and [`timers`].

use std::net::SocketAddr;
use std::time::Instant;

use isakmp_wire::{
    Doi, ExchangeType, Message, NotificationRepr, NotifyType, PayloadRepr, PayloadType,
    ProposalRepr, ProtocolId, SaRepr,
};

use super::{IsakmpSa, Retx, nat};
use crate::config::{EspMode, Phase2Policy, Phase2Request, prefix_contains};
use crate::context::{Context, IpsecSa, Negotiation, TraceSa};
use crate::crypto::{DhKeyPair, IvChain, Phase1Keys, SecretBytes};
use crate::event::{
    CryptoDrop, DropReason, Event, FailReason, LimitDrop, Phase2Established, PolicyDrop, RaDrop,
    Received, SaKeys, StateDrop, TraceEvent,
};
use crate::message::{Inbound, chain_bytes, decrypt};
use crate::proposal::{
    Phase2Reply, SIT_IDENTITY_ONLY, accept_phase2_reply, parse_responder_lifetime, phase2_sa,
    responder_lifetime_data, select_phase2, trace_attrs,
};
use crate::types::{IsakmpSaId, NegotiationId, ProxyId, Role, Spi};

/// One Quick Mode exchange.
pub(crate) struct QmNode {
    pub(crate) mid: u32,
    pub(crate) iv: IvChain,
    pub(crate) state: Qm,
    pub(crate) last_in: Option<Vec<u8>>,
    pub(crate) last_out: Option<Vec<u8>>,
    pub(crate) retx: Option<Retx>,
    pub(crate) negotiation: Option<NegotiationId>,
    pub(crate) linger_until: Option<Instant>,
    pub(crate) spi: Option<Spi>,
    /// When `last_out` was last sent.
    pub(crate) sent_at: Option<Instant>,
}

/// The state of a Quick Mode node.
pub(crate) enum Qm {
    /// Initiator, QM1 sent.
    I1(Box<QmI1>),
    /// Responder, QM2 sent.
    R2(Box<QmR2>),
    /// Done; kept to answer retransmissions.
    Done,
}

/// Initiator after QM1: waits for QM2.
pub(crate) struct QmI1 {
    request: Phase2Request,
    rekey_of: Option<Spi>,
    ni: Vec<u8>,
    dh: Option<DhKeyPair>,
    spi: Spi,
}

/// Responder after QM2: waits for QM3, with the SAs it will install.
pub(crate) struct QmR2 {
    ni: Vec<u8>,
    nr: Vec<u8>,
    established: Box<Phase2Established>,
    record: IpsecSa,
}

impl QmNode {
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, Qm::Done)
    }

    pub(crate) fn deadline(&self) -> Option<Instant> {
        match (self.retx.map(|r| r.next), self.linger_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The inbound SPI this node reserved (released if it never installs).
    pub(crate) fn reserved_spi(&self) -> Option<Spi> {
        if self.is_done() { None } else { self.spi }
    }
}

/// KEYMAT for both directions, split into encryption and integrity keys.
#[allow(clippy::too_many_arguments)]
fn keymat(
    keys: &Phase1Keys,
    pfs: Option<&SecretBytes>,
    transform: &crate::config::EspTransform,
    inbound: Spi,
    outbound: Spi,
    ni: &[u8],
    nr: &[u8],
) -> (SaKeys, SaKeys) {
    let enc = transform.encryption.keymat_len();
    let len = enc.saturating_add(transform.integrity.keymat_len());
    let g = pfs.map(SecretBytes::expose);
    let one = |spi: Spi| {
        let k = keys.keymat(g, ProtocolId::ESP.0, &spi.to_bytes(), ni, nr, len);
        let (e, i) = k.expose().split_at(enc.min(k.len()));
        SaKeys {
            spi,
            encryption_key: SecretBytes::new(e),
            integrity_key: SecretBytes::new(i),
        }
    };
    (one(inbound), one(outbound))
}

/// Ends a Quick Mode that failed: frees the SPI it reserved (unless an
/// IPsec SA holds it) and its negotiation, and traces IOS's "deleting
/// node" with `reason`. The caller reports the failure.
pub(crate) fn discard_failed_qm(
    cx: &mut Context,
    ctx: (IsakmpSaId, u32),
    mid: u32,
    node: &QmNode,
    reason: &'static str,
) {
    if let Some(spi) = node.spi {
        cx.release_spi(spi);
    }
    if let Some(n) = node.negotiation {
        cx.negotiations.remove(&n);
    }
    cx.trace(
        Some(ctx),
        TraceEvent::DeletingNode {
            message_id: mid,
            error: true,
            reason,
        },
    );
}

/// Initiator: starts a Quick Mode on an established SA for our
/// negotiation `neg` (QM1). `Err` says why it could not start; the
/// caller ends the negotiation with it.
pub(crate) fn start(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    neg: NegotiationId,
    n: Negotiation,
) -> Result<(), FailReason> {
    let active = sa.qm.values().filter(|q| !q.is_done()).count();
    if active >= cx.config.limits.phase2_per_sa {
        return Err(FailReason::LimitReached);
    }
    let Some(mid) = cx.new_message_id_in(|m| sa.qm.contains_key(&m)) else {
        return Err(FailReason::EntropyExhausted);
    };
    let Some(spi) = cx.new_spi() else {
        return Err(FailReason::EntropyExhausted);
    };
    let ni = cx.nonce();
    let dh = n.request.pfs.map(|g| cx.dh(g));
    let ctx = sa.trace_sa();
    let (local_ip, remote_ip) = (sa.local.ip(), sa.remote.ip());
    let req = &n.request;
    let spi_bytes = spi.to_bytes();
    // With a NAT found, every proposal is UDP-encapsulated (RFC 3947
    // s.5.1), transport mode with NAT-OA (s.5.2).
    let udp = sa.nat.version.filter(|_| nat::udp_wanted(sa));
    let mut payloads = vec![
        PayloadRepr::Sa(phase2_sa(
            &req.transform_sets,
            &spi_bytes,
            req.pfs,
            req.lifetime,
            udp,
        )),
        PayloadRepr::Nonce(&ni),
    ];
    if let Some(dh) = &dh {
        payloads.push(PayloadRepr::KeyExchange(dh.public_value()));
    }
    payloads.push(PayloadRepr::Id(req.local_proxy.to_id()));
    payloads.push(PayloadRepr::Id(req.remote_proxy.to_id()));
    if udp.is_some()
        && req
            .transform_sets
            .iter()
            .any(|t| t.transform.mode == EspMode::Transport)
    {
        payloads.extend(nat::nat_oa_payloads(sa, EspMode::Transport));
    }
    let built = sa.established().and_then(|est| {
        let rest = chain_bytes(&payloads).ok()?;
        let hash = est.keys.quick_mode_hash1(mid, &rest);
        let mut all = vec![PayloadRepr::Hash(hash.as_bytes())];
        all.extend(payloads.iter().cloned());
        let mut iv = est.iv.for_message_id(mid);
        let (bytes, pending) = sa
            .seal(cx, est, ExchangeType::QUICK_MODE, mid, &all, &iv)
            .ok()?;
        pending.commit(&mut iv).ok()?;
        Some((bytes, iv))
    });
    let Some((bytes, iv)) = built else {
        cx.spis.remove(&spi.0);
        return Err(FailReason::SaDeleted);
    };
    drop(payloads);
    cx.trace(ctx, TraceEvent::BeginningQuickMode { message_id: mid });
    cx.trace(
        ctx,
        TraceEvent::SpiAllocated {
            spi,
            from: remote_ip,
            to: local_ip,
        },
    );
    let delay = cx.first_delay();
    let state = sa.ios_state();
    sa.qm.insert(
        mid,
        QmNode {
            mid,
            iv,
            state: Qm::I1(Box::new(QmI1 {
                request: n.request,
                rekey_of: n.rekey_of,
                ni,
                dh,
                spi,
            })),
            last_in: None,
            last_out: Some(bytes.clone()),
            retx: Some(Retx {
                next: now + delay,
                count: 0,
            }),
            negotiation: Some(neg),
            linger_until: None,
            spi: Some(spi),
            sent_at: Some(now),
        },
    );
    sa.trace_sending(cx, state);
    cx.transmit(sa.local, sa.remote, bytes);
    Ok(())
}

/// A Quick Mode message on the SA it names: a duplicate is answered
/// with our last message, a message on a node in progress goes to the
/// node's state, a new message ID to the responder. `Err` is the
/// reason to drop it (nothing changed).
pub(crate) fn input(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    remote: SocketAddr,
    m: &Message<&[u8]>,
) -> Result<(), DropReason> {
    let h = m.header();
    if !sa.is_established() {
        return Err(DropReason::unexpected(
            "phase-1 messages (phase 1 is not complete)",
            Received::QuickMode,
        ));
    } else if sa.remote != remote {
        return Err(DropReason::unexpected(
            "messages from the SA's peer",
            Received::From(remote),
        ));
    } else if !m.is_encrypted() {
        return Err(DropReason::Crypto(CryptoDrop::NotEncrypted));
    } else if h.message_id() == 0 {
        return Err(DropReason::unexpected(
            "a non-zero message ID",
            Received::ZeroMessageId,
        ));
    }
    sa.trace_received(cx, remote);
    let mid = h.message_id();
    let data = m.message_bytes();
    // The node leaves the SA's table while its handler owns its state,
    // and comes back with the next one (or not, when it is over).
    match sa.qm.remove(&mid) {
        Some(node) if node.last_in.as_deref() == Some(data) => {
            let mut node = node;
            if !cx.may_answer(&mut node.sent_at, now) {
                sa.qm.insert(mid, node);
                return Ok(());
            }
            cx.trace(
                sa.trace_sa(),
                TraceEvent::DuplicateAnswered { message_id: mid },
            );
            if let Some(out) = node.last_out.clone() {
                cx.transmit(sa.local, sa.remote, out);
            }
            sa.qm.insert(mid, node);
        }
        Some(mut node) => {
            let state = std::mem::replace(&mut node.state, Qm::Done);
            let result = match state {
                Qm::I1(st) => (*st).handle(cx, now, sa, node, m),
                Qm::R2(st) => (*st).handle(cx, now, sa, node, m),
                Qm::Done => kept(
                    node,
                    Qm::Done,
                    DropReason::unexpected(
                        "nothing (the negotiation is complete)",
                        Received::AfterCompletion,
                    ),
                ),
            };
            match result {
                Ok(Some(node)) => {
                    sa.qm.insert(mid, node);
                }
                Ok(None) => {}
                Err(rejected) => {
                    let (node, reason) = *rejected;
                    sa.qm.insert(mid, node);
                    return Err(reason);
                }
            }
        }
        None => respond(cx, now, sa, mid, m)?,
    }
    prune_nodes(cx, sa);
    Ok(())
}

/// Keeps at most `completed_nodes_per_sa` completed nodes.
fn prune_nodes(cx: &Context, sa: &mut IsakmpSa) {
    let done: Vec<u32> = sa
        .qm
        .iter()
        .filter(|(_, n)| n.is_done())
        .map(|(k, _)| *k)
        .collect();
    let excess = done
        .len()
        .saturating_sub(cx.config.limits.completed_nodes_per_sa);
    let mut by_age: Vec<(Instant, u32)> = done
        .iter()
        .filter_map(|k| sa.qm.get(k).and_then(|n| n.linger_until).map(|t| (t, *k)))
        .collect();
    by_age.sort();
    for (_, k) in by_age.into_iter().take(excess) {
        sa.qm.remove(&k);
    }
}

/// Decrypts a Quick Mode message with a node's chain and checks the
/// leading HASH with `expected` (computed from the bytes after it).
fn qm_open<'p>(
    sa: &IsakmpSa,
    iv: &IvChain,
    m: &Message<&[u8]>,
    plain: &'p mut Vec<u8>,
    expected: impl Fn(&[u8]) -> crate::crypto::HashValue,
    name: &'static str,
) -> Result<(Inbound<'p>, crate::crypto::PendingIv), DropReason> {
    let est = sa
        .established()
        .ok_or(DropReason::State(StateDrop::UnknownSa))?;
    let (body, pending) = decrypt(m, &est.cipher, iv)?;
    *plain = body;
    let h = m.header();
    let inb = Inbound::decrypted(
        isakmp_wire::HeaderRepr::from_header(&h),
        h.next_payload(),
        plain,
    )?;
    let (hash, rest) = inb
        .leading_hash()
        .ok_or(DropReason::missing(name, PayloadType::HASH))?;
    if !expected(rest).verify(hash) {
        return Err(DropReason::Crypto(CryptoDrop::InvalidHash));
    }
    Ok((inb, pending))
}

/// Responder: a QM1 on a new message ID.
fn respond(
    cx: &mut Context,
    now: Instant,
    sa: &mut IsakmpSa,
    mid: u32,
    m: &Message<&[u8]>,
) -> Result<(), DropReason> {
    let active = sa.qm.values().filter(|q| !q.is_done()).count();
    if active >= cx.config.limits.phase2_per_sa {
        return Err(DropReason::Limit(LimitDrop::Phase2));
    }
    // On an SA that requires XAUTH, no Quick Mode before the user is in.
    if sa.ra.as_ref().is_some_and(|r| !r.authenticated) {
        return Err(DropReason::RemoteAccess(RaDrop::BeforeXauth));
    }
    let est = sa
        .established()
        .ok_or(DropReason::State(StateDrop::UnknownSa))?;
    let mut iv = est.iv.for_message_id(mid);
    let mut plain = Vec::new();
    let (inb, pending) = qm_open(
        sa,
        &iv,
        m,
        &mut plain,
        |rest| est.keys.quick_mode_hash1(mid, rest),
        "QM1",
    )?;
    // Authenticated from here on.
    sa.dpd.last_heard = now;
    sa.fresh_auth = true;
    let ctx = sa.trace_sa();
    cx.trace(
        ctx,
        TraceEvent::ProcessingPayload {
            payload: PayloadType::HASH,
            message_id: mid,
        },
    );
    let missing = |payload| DropReason::missing("QM1", payload);
    let offer = inb.sa().ok_or(missing(PayloadType::SA))?;
    let ni = inb.nonce().ok_or(missing(PayloadType::NONCE))?.to_vec();
    if !(8..=256).contains(&ni.len()) {
        return Err(DropReason::unexpected(
            "a nonce of 8 to 256 bytes",
            Received::NonceLength(ni.len()),
        ));
    }
    let ke = inb.ke();
    let ids = inb.ids();
    let initiator_spi = offer
        .proposals
        .first()
        .map(|p| p.spi.to_vec())
        .unwrap_or_default();
    cx.trace(
        ctx,
        TraceEvent::ProcessingPayload {
            payload: PayloadType::SA,
            message_id: mid,
        },
    );
    let proxies = match ids.as_slice() {
        [] => Some((ProxyId::host(sa.remote.ip()), ProxyId::host(sa.local.ip()))),
        [ci, cr] => match (ProxyId::from_id(ci), ProxyId::from_id(cr)) {
            (Ok(a), Ok(b)) => Some((a, b)),
            _ => None,
        },
        _ => None,
    };
    // A remote-access client we gave an address speaks for that address
    // only.
    let assigned = sa
        .ra
        .as_ref()
        .filter(|r| r.role == Role::Responder)
        .and_then(|r| r.address);
    let proxies = proxies
        .filter(|(ci, _)| assigned.is_none_or(|a| *ci == ProxyId::host(std::net::IpAddr::V4(a))));
    let peer_ip = sa.remote.ip();
    let candidates: Vec<Phase2Policy> = match proxies {
        Some((ci, cr)) => cx
            .config
            .phase2_policies
            .iter()
            .filter(|p| p.peer.is_none_or(|(a, l)| prefix_contains(a, l, peer_ip)))
            .filter(|p| p.remote_proxy.contains(&ci) && p.local_proxy.contains(&cr))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let Some((remote_proxy, local_proxy)) = proxies.filter(|_| !candidates.is_empty()) else {
        // The message was authentic: keep the IV moving as the peer's
        // does, refuse, and tell the peer.
        let _ = pending.commit(&mut iv);
        qm_refuse(
            cx,
            sa,
            NotifyType::INVALID_ID_INFORMATION,
            &initiator_spi,
            FailReason::InvalidId,
        );
        return Err(DropReason::Policy(PolicyDrop::InvalidId));
    };
    let mut trace = Vec::new();
    let udp_fits = |udp| nat::encapsulation_fits(sa, udp);
    let choice = candidates
        .iter()
        .find_map(|p| select_phase2(offer, p, udp_fits, &mut trace, cx.config.trace));
    for t in trace {
        cx.trace(ctx, t);
    }
    let Some(choice) = choice else {
        qm_refuse(
            cx,
            sa,
            NotifyType::NO_PROPOSAL_CHOSEN,
            &initiator_spi,
            FailReason::NoProposalChosen,
        );
        return Err(DropReason::Policy(PolicyDrop::NoProposalChosen));
    };
    // The rest of QM1, in IOS's order (the seed's fred).
    trace_nonce_and_ids(cx, ctx, mid, ids.len());
    let pfs_pair = match (choice.pfs, ke) {
        (Some(g), Some(ke)) => {
            let dh = cx.dh(g);
            let secret = dh
                .shared_secret(ke)
                .map_err(|_| DropReason::Crypto(CryptoDrop::InvalidKeyExchange))?;
            Some((dh, secret))
        }
        (None, None) => None,
        _ => return Err(DropReason::Crypto(CryptoDrop::InvalidKeyExchange)),
    };
    let spi = cx.new_spi().ok_or(DropReason::Limit(LimitDrop::Phase2))?;
    let nr = cx.nonce();
    cx.trace(
        ctx,
        TraceEvent::SpiAllocated {
            spi,
            from: sa.remote.ip(),
            to: sa.local.ip(),
        },
    );
    let spi_bytes = spi.to_bytes();
    let reply_sa = PayloadRepr::Sa(SaRepr {
        situation: SIT_IDENTITY_ONLY,
        proposals: vec![ProposalRepr {
            number: choice.proposal,
            protocol: ProtocolId::ESP,
            spi: &spi_bytes,
            transforms: vec![choice.transform.clone()],
        }],
    });
    let mut payloads = vec![reply_sa, PayloadRepr::Nonce(&nr)];
    if let Some((dh, _)) = &pfs_pair {
        payloads.push(PayloadRepr::KeyExchange(dh.public_value()));
    }
    for id in &ids {
        payloads.push(PayloadRepr::Id(*id));
    }
    if choice.udp.is_some() {
        payloads.extend(nat::nat_oa_payloads(sa, choice.esp.mode));
    }
    let udp_encapsulation = nat::encapsulation(sa, choice.udp, &inb);
    let lifetime_data = responder_lifetime_data(choice.lifetime);
    if choice.responder_lifetime {
        payloads.push(PayloadRepr::Notification(NotificationRepr {
            doi: Doi::IPSEC,
            protocol: ProtocolId::ESP,
            notify_type: NotifyType::RESPONDER_LIFETIME,
            spi: &spi_bytes,
            data: &lifetime_data,
        }));
    }
    let est = sa
        .established()
        .ok_or(DropReason::State(StateDrop::UnknownSa))?;
    let rest = chain_bytes(&payloads).map_err(|_| DropReason::Policy(PolicyDrop::InvalidId))?;
    let hash = est.keys.quick_mode_hash2(mid, &ni, &rest);
    let mut all = vec![PayloadRepr::Hash(hash.as_bytes())];
    all.extend(payloads);
    pending
        .commit(&mut iv)
        .map_err(|_| DropReason::Crypto(CryptoDrop::DecryptFailed))?;
    let (bytes, pending) = sa
        .seal(cx, est, ExchangeType::QUICK_MODE, mid, &all, &iv)
        .map_err(|_| DropReason::Crypto(CryptoDrop::DecryptFailed))?;
    pending
        .commit(&mut iv)
        .map_err(|_| DropReason::Crypto(CryptoDrop::DecryptFailed))?;
    let (inbound, outbound) = keymat(
        &est.keys,
        pfs_pair.as_ref().map(|p| &p.1),
        &choice.esp,
        spi,
        choice.peer_spi,
        &ni,
        &nr,
    );
    let established = Box::new(Phase2Established {
        isakmp_sa: sa.id,
        negotiation: None,
        local: sa.local,
        remote: sa.remote,
        inbound,
        outbound,
        transform: choice.esp,
        local_proxy,
        remote_proxy,
        lifetime: choice.lifetime,
        pfs: choice.pfs,
        role: Role::Responder,
        message_id: mid,
        rekey_of: None,
        udp_encapsulation,
    });
    let record = IpsecSa {
        inbound: spi,
        outbound: choice.peer_spi,
        isakmp: sa.id,
        local: sa.local,
        remote: sa.remote,
        role: Role::Responder,
        transform: choice.esp,
        local_proxy,
        remote_proxy,
        lifetime: choice.lifetime,
        pfs: choice.pfs,
        hard: now,
        soft: None,
        bytes: 0,
        request: None,
        rekey_started: false,
        udp_encap: udp_encapsulation,
    };
    sa.trace_sending(cx, sa.ios_state());
    let delay = cx.first_delay();
    sa.qm.insert(
        mid,
        QmNode {
            mid,
            iv,
            state: Qm::R2(Box::new(QmR2 {
                ni,
                nr,
                established,
                record,
            })),
            last_in: Some(m.message_bytes().to_vec()),
            last_out: Some(bytes.clone()),
            retx: Some(Retx {
                next: now + delay,
                count: 0,
            }),
            negotiation: None,
            linger_until: None,
            spi: Some(spi),
            sent_at: Some(now),
        },
    );
    cx.transmit(sa.local, sa.remote, bytes);
    Ok(())
}

/// Refuses a QM1 with an authenticated notification.
fn qm_refuse(
    cx: &mut Context,
    sa: &mut IsakmpSa,
    notify: NotifyType,
    initiator_spi: &[u8],
    reason: FailReason,
) {
    let (protocol, spi): (ProtocolId, Vec<u8>) = if initiator_spi.len() == 4 {
        (ProtocolId::ESP, initiator_spi.to_vec())
    } else {
        (ProtocolId::ISAKMP, sa.spi16().to_vec())
    };
    let n = PayloadRepr::Notification(NotificationRepr {
        doi: Doi::IPSEC,
        protocol,
        notify_type: notify,
        spi: &spi,
        data: &[],
    });
    let id = sa.id;
    let ctx = sa.trace_sa();
    sa.send_informational(cx, vec![n]);
    cx.trace(ctx, TraceEvent::NotifySent(notify));
    cx.events.push_back(Event::Phase2Failed {
        negotiation: None,
        sa: Some(id),
        peer: sa.remote,
        reason,
    });
}

/// What a Quick Mode node's handler returns: the node back with its
/// next state (`None`: the node is gone), or the node back unchanged
/// with the reason its message was dropped.
type NodeResult = Result<Option<QmNode>, Box<(QmNode, DropReason)>>;

/// A node's message is dropped for `reason`: the node comes back with
/// `state`, the one it had.
fn kept(mut node: QmNode, state: Qm, reason: DropReason) -> NodeResult {
    node.state = state;
    Err(Box::new((node, reason)))
}

impl QmR2 {
    /// Responder: QM3 verifies, the SAs are installed.
    fn handle(
        self,
        cx: &mut Context,
        now: Instant,
        sa: &mut IsakmpSa,
        mut node: QmNode,
        m: &Message<&[u8]>,
    ) -> NodeResult {
        let st = self;
        let mid = node.mid;
        let Some(est) = sa.established() else {
            return Ok(None);
        };
        let mut plain = Vec::new();
        let opened = qm_open(
            sa,
            &node.iv,
            m,
            &mut plain,
            |_rest| est.keys.quick_mode_hash3(mid, &st.ni, &st.nr),
            "QM3",
        );
        let pending = match opened {
            Ok((_, p)) => p,
            Err(reason) => return kept(node, Qm::R2(Box::new(st)), reason),
        };
        let _ = pending.commit(&mut node.iv);
        sa.dpd.last_heard = now;
        sa.fresh_auth = true;
        let QmR2 {
            established,
            mut record,
            ..
        } = st;
        install(cx, now, sa, &mut record, established);
        node.state = Qm::Done;
        node.last_in = Some(m.message_bytes().to_vec());
        node.last_out = None;
        node.retx = None;
        node.linger_until = Some(now + cx.config.limits.completed_node_linger);
        Ok(Some(node))
    }
}

/// Installs a pair of SAs and reports them.
fn install(
    cx: &mut Context,
    now: Instant,
    sa: &IsakmpSa,
    record: &mut IpsecSa,
    established: Box<Phase2Established>,
) {
    let lifetime = record.lifetime.duration();
    record.hard = now + lifetime;
    let rekeys = record.role == Role::Initiator || cx.config.rekey.responder_rekeys;
    record.soft = rekeys.then(|| cx.soft_instant(now, lifetime, cx.config.rekey.phase2_margin));
    let ctx = sa.trace_sa();
    cx.trace(
        ctx,
        TraceEvent::CreatingIpsecSas {
            inbound_spi: record.inbound,
            outbound_spi: record.outbound,
            local: sa.local.ip(),
            remote: sa.remote.ip(),
            local_proxy: record.local_proxy,
            remote_proxy: record.remote_proxy,
            lifetime: record.lifetime,
        },
    );
    // The initiator deletes its node after QM3 has gone (the seed's
    // Daphne); `QmI1::handle` traces that.
    if record.role == Role::Responder {
        cx.trace(
            ctx,
            TraceEvent::DeletingNode {
                message_id: established.message_id,
                error: false,
                reason: "quick mode done (await()",
            },
        );
    }
    let sa_ref = record.sa_ref();
    let t = record.transform;
    cx.install_ipsec(record.clone());
    cx.events.push_back(Event::Phase2Established(established));
    if t.encryption.is_weak() {
        cx.weak(sa_ref, t.encryption.ios_name());
    }
    if t.integrity.is_weak() {
        cx.weak(sa_ref, t.integrity.ios_name().to_owned());
    }
    if let Some(g) = record.pfs.filter(|g| g.is_weak()) {
        cx.weak(sa_ref, format!("MODP-{}", g.prime_bits()));
    }
}

impl QmI1 {
    /// Initiator: QM2 verifies, the SAs are installed and QM3 sent.
    fn handle(
        self,
        cx: &mut Context,
        now: Instant,
        sa: &mut IsakmpSa,
        node: QmNode,
        m: &Message<&[u8]>,
    ) -> NodeResult {
        let st = self;
        let mid = node.mid;
        let negotiation = node.negotiation;
        let Some(est) = sa.established() else {
            return Ok(None);
        };
        let mut plain = Vec::new();
        let (inb, pending) = match qm_open(
            sa,
            &node.iv,
            m,
            &mut plain,
            |rest| est.keys.quick_mode_hash2(mid, &st.ni, rest),
            "QM2",
        ) {
            Ok(x) => x,
            Err(reason) => return kept(node, Qm::I1(Box::new(st)), reason),
        };
        let ctx = sa.trace_sa();
        let req = &st.request;
        let reply = inb.sa();
        let nr = inb.nonce();
        let fail = |ep: &mut Context, sa: &IsakmpSa, reason: FailReason| {
            ep.spis.remove(&st.spi.0);
            if let Some(n) = negotiation {
                ep.negotiations.remove(&n);
            }
            ep.trace(
                sa.trace_sa(),
                TraceEvent::DeletingNode {
                    message_id: mid,
                    error: true,
                    reason: "negotiation failed",
                },
            );
            ep.events.push_back(Event::Phase2Failed {
                negotiation,
                sa: Some(sa.id),
                peer: sa.remote,
                reason,
            });
        };
        let (Some(reply), Some(nr)) = (reply, nr) else {
            fail(cx, sa, FailReason::Malformed);
            return Ok(None);
        };
        // QM2's payloads in IOS's order (the seed's Daphne): HASH, SA,
        // the proposal check, then NONCE and the IDs.
        for payload in [PayloadType::HASH, PayloadType::SA] {
            cx.trace(
                ctx,
                TraceEvent::ProcessingPayload {
                    payload,
                    message_id: mid,
                },
            );
        }
        let mut trace = Vec::new();
        if cx.config.trace {
            for p in &reply.proposals {
                for t in &p.transforms {
                    trace.push(TraceEvent::CheckingIpsecProposal {
                        proposal: p.number,
                        transform: t.number,
                        transform_id: t.id.0,
                        attributes: trace_attrs(t),
                    });
                }
            }
        }
        for t in trace {
            cx.trace(ctx, t);
        }
        let proposed_udp = nat::udp_wanted(sa);
        let Phase2Reply {
            transform,
            peer_spi,
            mut lifetime,
            udp,
        } = match accept_phase2_reply(
            reply,
            &req.transform_sets,
            req.pfs,
            req.lifetime,
            proposed_udp,
        ) {
            Ok(x) => x,
            Err(_) => {
                cx.trace(
                    ctx,
                    TraceEvent::AttributesAcceptable {
                        acceptable: false,
                        reason: Some("the reply is not one of our proposals"),
                    },
                );
                fail(cx, sa, FailReason::NoProposalChosen);
                return Ok(None);
            }
        };
        cx.trace(
            ctx,
            TraceEvent::AttributesAcceptable {
                acceptable: true,
                reason: None,
            },
        );
        let ids = inb.ids();
        trace_nonce_and_ids(cx, ctx, mid, ids.len());
        let ids_ok = match ids.as_slice() {
            [] => true,
            [ci, cr] => {
                ProxyId::from_id(ci).ok() == Some(req.local_proxy)
                    && ProxyId::from_id(cr).ok() == Some(req.remote_proxy)
            }
            _ => false,
        };
        if !ids_ok {
            fail(cx, sa, FailReason::InvalidId);
            return Ok(None);
        }
        let pfs_secret = match (&st.dh, inb.ke()) {
            (Some(dh), Some(ke)) => match dh.shared_secret(ke) {
                Ok(s) => Some(s),
                Err(_) => {
                    fail(cx, sa, FailReason::InvalidKeyExchange);
                    return Ok(None);
                }
            },
            (None, None) => None,
            _ => {
                fail(cx, sa, FailReason::InvalidKeyExchange);
                return Ok(None);
            }
        };
        for n in inb.notifications() {
            if n.notify_type == NotifyType::RESPONDER_LIFETIME
                && let Some(l) = parse_responder_lifetime(n.data, lifetime)
            {
                lifetime = l;
            }
        }
        let hash3 = est.keys.quick_mode_hash3(mid, &st.ni, nr);
        let mut iv = node.iv.clone();
        let _ = pending.commit(&mut iv);
        let qm3 = [PayloadRepr::Hash(hash3.as_bytes())];
        let Ok((bytes, pending)) = sa.seal(cx, est, ExchangeType::QUICK_MODE, mid, &qm3, &iv)
        else {
            fail(cx, sa, FailReason::Malformed);
            return Ok(None);
        };
        let _ = pending.commit(&mut iv);
        let (inbound, outbound) = keymat(
            &est.keys,
            pfs_secret.as_ref(),
            &transform,
            st.spi,
            peer_spi,
            &st.ni,
            nr,
        );
        if let Some(n) = negotiation {
            cx.negotiations.remove(&n);
        }
        let udp_encapsulation = nat::encapsulation(sa, udp, &inb);
        let established = Box::new(Phase2Established {
            isakmp_sa: sa.id,
            negotiation,
            local: sa.local,
            remote: sa.remote,
            inbound,
            outbound,
            transform,
            local_proxy: req.local_proxy,
            remote_proxy: req.remote_proxy,
            lifetime,
            pfs: req.pfs,
            role: Role::Initiator,
            message_id: mid,
            rekey_of: st.rekey_of,
            udp_encapsulation,
        });
        let mut record = IpsecSa {
            inbound: st.spi,
            outbound: peer_spi,
            isakmp: sa.id,
            local: sa.local,
            remote: sa.remote,
            role: Role::Initiator,
            transform,
            local_proxy: req.local_proxy,
            remote_proxy: req.remote_proxy,
            lifetime,
            pfs: req.pfs,
            hard: now,
            soft: None,
            bytes: 0,
            request: Some(req.clone()),
            rekey_started: false,
            udp_encap: udp_encapsulation,
        };
        sa.dpd.last_heard = now;
        sa.fresh_auth = true;
        // IOS creates the SAs before sending QM3 (the seed's Daphne).
        install(cx, now, sa, &mut record, established);
        sa.trace_sending(cx, sa.ios_state());
        cx.trace(
            ctx,
            TraceEvent::DeletingNode {
                message_id: mid,
                error: false,
                reason: "",
            },
        );
        cx.transmit(sa.local, sa.remote, bytes.clone());
        Ok(Some(QmNode {
            mid,
            iv,
            state: Qm::Done,
            last_in: Some(m.message_bytes().to_vec()),
            last_out: Some(bytes),
            retx: None,
            negotiation: None,
            linger_until: Some(now + cx.config.limits.completed_node_linger),
            spi: Some(st.spi),
            sent_at: Some(now),
        }))
    }
}

/// Traces a Quick Mode message's nonce and then each of its `ids`
/// identification payloads, the order in which IOS reports them (the
/// seed's debug output), for QM1 and QM2 alike.
fn trace_nonce_and_ids(cx: &mut Context, ctx: TraceSa, mid: u32, ids: usize) {
    cx.trace(
        ctx,
        TraceEvent::ProcessingPayload {
            payload: PayloadType::NONCE,
            message_id: mid,
        },
    );
    for _ in 0..ids {
        cx.trace(
            ctx,
            TraceEvent::ProcessingPayload {
                payload: PayloadType::IDENTIFICATION,
                message_id: mid,
            },
        );
    }
}

/// Retransmissions and lingering of an SA's Quick Mode nodes.
pub(crate) fn timers(cx: &mut Context, now: Instant, sa: &mut IsakmpSa) {
    let id = sa.id;
    let schedule = cx.config.retransmit.clone();
    let mut resend = Vec::new();
    let mut gave_up = Vec::new();
    let mut expired = Vec::new();
    for (mid, node) in sa.qm.iter_mut() {
        if node.linger_until.is_some_and(|t| t <= now) {
            expired.push(*mid);
            continue;
        }
        let Some(mut r) = node.retx else {
            continue;
        };
        if r.next > now {
            continue;
        }
        if r.count >= schedule.delays.len() {
            gave_up.push(*mid);
            continue;
        }
        r.count = r.count.saturating_add(1);
        r.next = now + schedule.delay(r.count).unwrap_or(schedule.final_wait);
        node.retx = Some(r);
        node.sent_at = Some(now);
        if let Some(out) = node.last_out.clone() {
            resend.push(out);
        }
    }
    for mid in expired {
        sa.qm.remove(&mid);
    }
    let mut failed = Vec::new();
    for mid in gave_up {
        if let Some(node) = sa.qm.remove(&mid) {
            failed.push((mid, node));
        }
    }
    let (local, remote, conn) = (sa.local, sa.remote, sa.conn_id);
    for out in resend {
        cx.counters.retransmitted = cx.counters.retransmitted.saturating_add(1);
        cx.transmit(local, remote, out);
    }
    for (mid, node) in failed {
        discard_failed_qm(cx, (id, conn), mid, &node, "retransmissions exhausted");
        cx.events.push_back(Event::RetransmitGaveUp {
            sa: id,
            peer: remote,
            message_id: mid,
        });
        cx.events.push_back(Event::Phase2Failed {
            negotiation: node.negotiation,
            sa: Some(id),
            peer: remote,
            reason: FailReason::Timeout,
        });
    }
}
