//! NAT traversal in phase 1 and Quick Mode (RFC 3947), as the exchanges
//! use it:
//!
//! - **Vendor IDs** (s.3.1): the initiator announces RFC 3947 and, when
//!   configured, the drafts -02, -02 with a newline, and -03 in MM1/AM1;
//!   the responder picks the newest version the initiator announced and
//!   answers with that one vendor ID in MM2/AM2. Drafts -00/-01 (no port
//!   float) are recognised and not negotiated.
//! - **NAT-D** (s.3.2): with a version agreed, MM3/MM4 (AM2/AM3) carry
//!   `HASH(CKY-I | CKY-R | IP | port)` under the negotiated phase-1 hash,
//!   first for the receiver's address as the sender sees it, then for the
//!   sender's own. The receiver compares the first with its own address
//!   (a mismatch: it is behind a NAT) and the others with the sender's
//!   address as it sees it (no match: the sender is behind a NAT). With
//!   [`NatTMode::Forced`] our own NAT-D is computed over the unspecified
//!   address and port 0, which never matches: the peer sees a NAT in
//!   front of us, and we act as if there were one (strongSwan's
//!   `encap=yes` does the same).
//! - **The float** (s.4): when a NAT was found, the initiator sends MM5
//!   (AM3) and everything after from and to the NAT-T port, each message
//!   after the non-ESP marker; the responder follows once that message
//!   authenticates.
//! - **Quick Mode** (s.5): with a NAT found, the initiator proposes the
//!   UDP-encapsulated mode of its version (3/4, draft 61443/61444);
//!   transport mode adds NAT-OAi and NAT-OAr in QM1 and QM2 (s.5.2).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use isakmp_wire::nat_t::NatTVersion;
use isakmp_wire::{EncapsulationMode, PayloadRepr};

use super::IsakmpSa;
use crate::config::{EspMode, NatTMode};
use crate::context::Context;
use crate::crypto::{HashAlgorithm, HashValue};
use crate::event::{DropReason, MAX_NAT_D, NatTDrop, TraceEvent, UdpEncapsulation};
use crate::message::Inbound;
use crate::types::Role;

/// Our NAT-T vendor IDs for the first message we send (MM1/AM1 as
/// initiator, MM2/AM2 as responder): all we speak, or the one chosen.
pub(crate) fn vendor_ids(cx: &Context, sa: &IsakmpSa) -> Vec<PayloadRepr<'static>> {
    let conf = &cx.config.nat_t;
    if conf.mode == NatTMode::Disabled {
        return Vec::new();
    }
    match sa.role {
        Role::Initiator => {
            let mut out = vec![PayloadRepr::VendorId(NatTVersion::Rfc3947.vendor_id())];
            if conf.draft_vendor_ids {
                out.push(PayloadRepr::VendorId(NatTVersion::Draft03.vendor_id()));
                out.push(PayloadRepr::VendorId(isakmp_wire::vendor::NAT_T_DRAFT_02_N));
                out.push(PayloadRepr::VendorId(NatTVersion::Draft02.vendor_id()));
            }
            out
        }
        Role::Responder => sa
            .nat
            .version
            .map(|v| vec![PayloadRepr::VendorId(v.vendor_id())])
            .unwrap_or_default(),
    }
}

/// Notes a NAT-T vendor ID of the peer's first message: the newest
/// version that floats, among those we may speak (the initiator only
/// takes what it announced). Whether it was one.
pub(crate) fn note_vendor_id(cx: &Context, sa: &mut IsakmpSa, vid: &[u8]) -> bool {
    let Some(v) = NatTVersion::from_vendor_id(vid) else {
        return false;
    };
    let conf = &cx.config.nat_t;
    let announced = v == NatTVersion::Rfc3947 || conf.draft_vendor_ids;
    let usable = conf.mode != NatTMode::Disabled
        && v.floats()
        && (sa.role == Role::Responder || announced)
        && sa.nat.version.is_none_or(|have| v > have);
    // Only the first exchange negotiates it: later vendor IDs change
    // nothing once NAT-D has been sent.
    if usable && !sa.nat_d_sent {
        sa.nat.version = Some(v);
    }
    true
}

/// `HASH(CKY-I | CKY-R | IP | port)` (RFC 3947 s.3.2).
fn nat_d_hash(hash: HashAlgorithm, sa: &IsakmpSa, addr: SocketAddr) -> HashValue {
    let port = addr.port().to_be_bytes();
    match addr.ip() {
        IpAddr::V4(a) => hash.hash(&[&sa.icookie, &sa.rcookie, &a.octets(), &port]),
        IpAddr::V6(a) => hash.hash(&[&sa.icookie, &sa.rcookie, &a.octets(), &port]),
    }
}

/// The two NAT-D hashes we send, the peer's address first, when NAT-T
/// is agreed; marks them sent.
pub(crate) fn nat_d_hashes(cx: &Context, sa: &mut IsakmpSa, hash: HashAlgorithm) -> Vec<HashValue> {
    if sa.nat.version.is_none() {
        return Vec::new();
    }
    sa.nat_d_sent = true;
    let ours = if cx.config.nat_t.mode == NatTMode::Forced {
        let unspecified = match sa.local.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        SocketAddr::new(unspecified, 0)
    } else {
        sa.local
    };
    vec![nat_d_hash(hash, sa, sa.remote), nat_d_hash(hash, sa, ours)]
}

/// NAT-D payloads over `hashes`, numbered as the agreed version says.
pub(crate) fn nat_d_payloads<'h>(sa: &IsakmpSa, hashes: &'h [HashValue]) -> Vec<PayloadRepr<'h>> {
    let Some(v) = sa.nat.version else {
        return Vec::new();
    };
    hashes
        .iter()
        .map(|h| PayloadRepr::NatD {
            numbering: v.numbering(),
            hash: h.as_bytes(),
        })
        .collect()
}

/// Reads the peer's NAT-D payloads (MM3/MM4/AM2/AM3) and records which
/// side is behind a NAT. None at all: the peer does not detect, and
/// NAT-T is not used. A wrong count or length drops the message.
pub(crate) fn check_nat_d(
    cx: &mut Context,
    sa: &mut IsakmpSa,
    hash: HashAlgorithm,
    inb: &Inbound<'_>,
) -> Result<(), DropReason> {
    let Some(v) = sa.nat.version else {
        return Ok(());
    };
    let want = v.numbering();
    let hashes: Vec<&[u8]> = inb
        .typed
        .iter()
        .filter_map(|p| match p {
            PayloadRepr::NatD { numbering, hash } if *numbering == want => Some(*hash),
            _ => None,
        })
        .collect();
    match hashes.len() {
        0 => {
            sa.nat.version = None;
            return Ok(());
        }
        1 => return Err(DropReason::NatT(NatTDrop::NatDCount { count: 1 })),
        n if n > MAX_NAT_D => return Err(DropReason::NatT(NatTDrop::NatDCount { count: n })),
        _ => {}
    }
    let expected = hash.output_len();
    if let Some(bad) = hashes.iter().find(|h| h.len() != expected) {
        return Err(DropReason::NatT(NatTDrop::NatDLength {
            len: bad.len(),
            expected,
        }));
    }
    let Some((first, senders)) = hashes.split_first() else {
        return Ok(());
    };
    let local_behind =
        !nat_d_hash(hash, sa, sa.local).verify(first) || cx.config.nat_t.mode == NatTMode::Forced;
    let theirs = nat_d_hash(hash, sa, sa.remote);
    let remote_behind = !senders.iter().any(|h| theirs.verify(h));
    sa.nat.local_behind_nat = local_behind;
    sa.nat.remote_behind_nat = remote_behind;
    cx.trace(
        sa.trace_sa(),
        TraceEvent::NatDetected {
            local_behind_nat: local_behind,
            remote_behind_nat: remote_behind,
        },
    );
    Ok(())
}

/// The initiator's float before MM5/AM3: to the NAT-T port on both
/// sides, when NAT-T is agreed and a NAT was found (or we started there).
pub(crate) fn float_initiator(cx: &Context, sa: &mut IsakmpSa) {
    let port = cx.config.nat_t.port;
    let agreed = sa.nat.version.is_some_and(NatTVersion::floats);
    if !agreed || !sa.nat.nat_detected() || sa.nat.floated {
        return;
    }
    sa.nat.floated = true;
    if sa.local.port() != port {
        sa.local.set_port(port);
        sa.remote.set_port(port);
    }
}

/// Keepalives start when phase 1 is up, floated, and we are behind a NAT.
pub(crate) fn arm_keepalive(cx: &Context, now: Instant, sa: &mut IsakmpSa) {
    sa.next_keepalive = match cx.config.nat_t.keepalive {
        Some(every) if sa.nat.floated && sa.nat.local_behind_nat => {
            Some(now + every.max(std::time::Duration::from_secs(1)))
        }
        _ => None,
    };
}

/// Whether Quick Mode on this SA uses the UDP-encapsulated modes: NAT-T
/// agreed, IKE floated, and a NAT found.
pub(crate) fn udp_wanted(sa: &IsakmpSa) -> bool {
    sa.nat.version.is_some_and(NatTVersion::floats) && sa.nat.floated && sa.nat.nat_detected()
}

/// Whether the encapsulation a Quick Mode peer chose (`udp`: the UDP mode
/// value, if any) fits this SA: UDP modes exactly when [`udp_wanted`].
pub(crate) fn encapsulation_fits(sa: &IsakmpSa, udp: Option<EncapsulationMode>) -> bool {
    udp_wanted(sa) == udp.is_some()
}

/// Our NAT-OA payloads for a transport-mode Quick Mode message (RFC 3947
/// s.5.2): the initiator's address then the responder's, each as we
/// know it.
pub(crate) fn nat_oa_payloads(sa: &IsakmpSa, mode: EspMode) -> Vec<PayloadRepr<'static>> {
    let Some(v) = sa.nat.version else {
        return Vec::new();
    };
    if mode != EspMode::Transport {
        return Vec::new();
    }
    let (i, r) = match sa.role {
        Role::Initiator => (sa.local.ip(), sa.remote.ip()),
        Role::Responder => (sa.remote.ip(), sa.local.ip()),
    };
    [i, r]
        .into_iter()
        .map(|address| PayloadRepr::NatOa {
            numbering: v.numbering(),
            address,
        })
        .collect()
}

/// The UDP encapsulation of a pair negotiated on `sa` with mode value
/// `udp`, with the peer's NAT-OA (`[NAT-OAi, NAT-OAr]`, if sent) read as
/// this side needs them: the peer's own address and ours as it sees it.
pub(crate) fn encapsulation(
    sa: &IsakmpSa,
    udp: Option<EncapsulationMode>,
    inb: &Inbound<'_>,
) -> Option<UdpEncapsulation> {
    let mode = udp?;
    let oas: Vec<IpAddr> = inb
        .typed
        .iter()
        .filter_map(|p| match p {
            PayloadRepr::NatOa { address, .. } => Some(*address),
            _ => None,
        })
        .collect();
    let (peer_original, local_as_seen) = match (sa.role, oas.as_slice()) {
        (Role::Initiator, [i, r, ..]) => (Some(*r), Some(*i)),
        (Role::Responder, [i, r, ..]) => (Some(*i), Some(*r)),
        _ => (None, None),
    };
    Some(UdpEncapsulation {
        mode,
        peer_original,
        local_as_seen,
    })
}
