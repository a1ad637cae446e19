//! NAT traversal (RFC 3947) on the Pair harness with a NAT on the path:
//! detection, the float to port 4500, Quick Mode's UDP modes, keepalives,
//! a mapping that changes mid-SA, and the bad input NAT-T brings.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ike_sm::{
    Config, DropReason, Endpoint, EspMode, Event, ExchangeMode, NatTDrop, NatTMode, NatTVersion,
    Phase2Request, ProxyId, TransformSet,
};
use isakmp_wire::nat_t::{NON_ESP_MARKER, Udp4500Error};
use isakmp_wire::{EncapsulationMode, Message, MessageRepr, ParseConfig, PayloadRepr, vendor};

/// A's private address, B's public one, and the NAT's outside address.
const A: &str = "192.168.1.10:500";
const B: &str = "198.51.100.2:500";
const NAT_IP: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 7);

/// A masquerading NAT in front of A: each inside source address and port
/// gets an outside port of its own (never the same one, as carrier NATs
/// do); replies to a mapped port go back in, anything else is dropped.
#[derive(Default)]
struct Nat {
    next_port: u16,
    out: BTreeMap<SocketAddr, u16>,
    back: BTreeMap<u16, SocketAddr>,
}

impl Nat {
    fn outside(&mut self, inside: SocketAddr) -> SocketAddr {
        let port = match self.out.get(&inside) {
            Some(p) => *p,
            None => {
                self.next_port = self.next_port.max(40_000) + 1;
                self.out.insert(inside, self.next_port);
                self.back.insert(self.next_port, inside);
                self.next_port
            }
        };
        SocketAddr::new(IpAddr::V4(NAT_IP), port)
    }

    /// The mapping of `inside` is forgotten: its next datagram gets a new
    /// port (a NAT that rebooted or timed the mapping out).
    fn rebind(&mut self, inside: SocketAddr) {
        if let Some(p) = self.out.remove(&inside) {
            self.back.remove(&p);
        }
    }
}

fn nat_pair(a: Config, b: Config) -> (Pair, Rc<RefCell<Nat>>) {
    let mut p = Pair::new(
        Endpoint::new(Arc::new(a), Box::new(rng(21))),
        Endpoint::new(Arc::new(b), Box::new(rng(22))),
        addr(A),
        addr(B),
    );
    let nat = Rc::new(RefCell::new(Nat::default()));
    let n = nat.clone();
    p.translate = Some(Box::new(move |from_a, src, dst| {
        let mut n = n.borrow_mut();
        if from_a {
            Some((n.outside(src), dst))
        } else if dst.ip() == IpAddr::V4(NAT_IP) {
            n.back.get(&dst.port()).map(|inside| (src, *inside))
        } else {
            None
        }
    }));
    (p, nat)
}

fn request() -> Phase2Request {
    Phase2Request {
        peer: addr(B),
        local: addr(A),
        local_proxy: ProxyId::subnet("10.1.0.0".parse().unwrap(), 16),
        remote_proxy: ProxyId::subnet("10.2.0.0".parse().unwrap(), 16),
        transform_sets: vec![TransformSet::strong()],
        pfs: None,
        lifetime: ike_sm::Lifetime::IOS_IPSEC,
    }
}

fn phase1(events: &[Event]) -> Vec<&ike_sm::Phase1Established> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Phase1Established(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn drops(events: &[Event]) -> Vec<&DropReason> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::InputDropped { reason, .. } => Some(reason),
            _ => None,
        })
        .collect()
}

fn moved(events: &[Event]) -> Vec<(SocketAddr, SocketAddr, usize)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PeerMoved {
                from, to, ipsec, ..
            } => Some((*from, *to, ipsec.len())),
            _ => None,
        })
        .collect()
}

/// Phase 1 and Quick Mode across the NAT, in `mode`; both sides' views.
fn establish_through_nat(mode: ExchangeMode) -> (Pair, Rc<RefCell<Nat>>) {
    let mut a = lab_config(b"k");
    a.default_mode = mode;
    let (mut p, nat) = nat_pair(a, lab_config(b"k"));
    p.a.initiate(p.now, request()).unwrap();
    p.drive();
    (p, nat)
}

#[test]
fn main_and_aggressive_mode_detect_the_nat_float_and_encapsulate() {
    for mode in [ExchangeMode::Main, ExchangeMode::Aggressive] {
        let (p, nat) = establish_through_nat(mode);
        let (a1, b1) = (phase1(&p.a_events), phase1(&p.b_events));
        assert_eq!((a1.len(), b1.len()), (1, 1), "{mode:?}: {:#?}", p.b_events);
        // A sees itself behind the NAT; B sees A behind it.
        assert!(a1[0].nat.local_behind_nat && !a1[0].nat.remote_behind_nat);
        assert!(!b1[0].nat.local_behind_nat && b1[0].nat.remote_behind_nat);
        assert_eq!(a1[0].nat.version, Some(NatTVersion::Rfc3947));
        assert!(a1[0].nat.floated && b1[0].nat.floated);
        // Both moved to 4500: A to B's 4500, B to the NAT's mapping of
        // A's 4500.
        assert_eq!(a1[0].local, addr("192.168.1.10:4500"));
        assert_eq!(a1[0].remote, addr("198.51.100.2:4500"));
        let a_4500 = nat.borrow().out[&addr("192.168.1.10:4500")];
        assert_eq!(b1[0].remote, SocketAddr::new(IpAddr::V4(NAT_IP), a_4500));
        assert_eq!(b1[0].local, addr("198.51.100.2:4500"));
        // Quick Mode: UDP-encapsulated tunnel on both sides, same SPIs.
        let (a2, b2) = (
            Pair::established(&p.a_events),
            Pair::established(&p.b_events),
        );
        assert_eq!((a2.len(), b2.len()), (1, 1), "{mode:?}");
        for e in [a2[0], b2[0]] {
            let u = e.udp_encapsulation.expect("UDP-encapsulated");
            assert_eq!(u.mode, EncapsulationMode::UDP_TUNNEL);
            assert_eq!((u.peer_original, u.local_as_seen), (None, None));
        }
        assert_eq!(a2[0].inbound.spi, b2[0].outbound.spi);
        assert_eq!(b2[0].remote, b1[0].remote);
        // On the wire: before the float nothing carries the marker; after
        // it every IKE message does (the first 4 bytes are zero, where a
        // message starts with a non-zero initiator cookie).
        let floated_at = match mode {
            ExchangeMode::Main => 4,       // MM5
            ExchangeMode::Aggressive => 2, // AM3
        };
        for (i, (_, d)) in p.sent.iter().enumerate() {
            assert_eq!(
                d[..4] == NON_ESP_MARKER,
                i >= floated_at,
                "{mode:?} datagram {i}"
            );
        }
        assert!(p.b.ipsec_sas(p.now)[0].udp_encapsulation.is_some());
    }
}

#[test]
fn no_nat_no_float_plain_esp_but_nat_t_agreed() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    let a1 = phase1(&p.a_events);
    assert_eq!(a1[0].nat.version, Some(NatTVersion::Rfc3947));
    assert!(!a1[0].nat.nat_detected() && !a1[0].nat.floated);
    assert_eq!(a1[0].local.port(), 500);
    let a2 = Pair::established(&p.a_events);
    assert!(a2[0].udp_encapsulation.is_none());
    // MM1 announced RFC 3947 and the three drafts; MM2 answered with one.
    let vids = |d: &[u8]| -> Vec<Vec<u8>> {
        let m = Message::new_checked(d).unwrap();
        MessageRepr::parse(&m, &ParseConfig::default())
            .unwrap()
            .payloads
            .iter()
            .filter_map(|p| match p {
                PayloadRepr::VendorId(v) => Some(v.to_vec()),
                _ => None,
            })
            .collect()
    };
    let mm1 = vids(&p.sent[0].1);
    for v in [
        vendor::NAT_T_RFC3947,
        vendor::NAT_T_DRAFT_03,
        vendor::NAT_T_DRAFT_02,
        vendor::NAT_T_DRAFT_02_N,
    ] {
        assert!(mm1.iter().any(|x| x == v));
    }
    let mm2 = vids(&p.sent[1].1);
    assert!(mm2.iter().any(|x| x == vendor::NAT_T_RFC3947));
    assert!(!mm2.iter().any(|x| x == vendor::NAT_T_DRAFT_03));
}

#[test]
fn forced_encapsulation_without_a_nat() {
    let mut a = lab_config(b"k");
    a.nat_t.mode = NatTMode::Forced;
    let mut p = pair_with(a, lab_config(b"k"));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    let (a1, b1) = (phase1(&p.a_events), phase1(&p.b_events));
    assert!(a1[0].nat.local_behind_nat && a1[0].nat.floated);
    // B saw a NAT-D for A that matches nothing: A "behind a NAT".
    assert!(b1[0].nat.remote_behind_nat && !b1[0].nat.local_behind_nat);
    assert_eq!(b1[0].remote, addr("10.0.0.1:4500"));
    for e in [
        Pair::established(&p.a_events)[0],
        Pair::established(&p.b_events)[0],
    ] {
        assert!(e.udp_encapsulation.is_some());
    }
}

#[test]
fn disabled_on_either_side_means_no_nat_t() {
    for disabled_a in [true, false] {
        let (mut a, mut b) = (lab_config(b"k"), lab_config(b"k"));
        if disabled_a {
            a.nat_t.mode = NatTMode::Disabled;
        } else {
            b.nat_t.mode = NatTMode::Disabled;
        }
        let (mut p, _nat) = nat_pair(a, b);
        p.a.initiate(p.now, request()).unwrap();
        p.drive();
        let a1 = phase1(&p.a_events);
        assert_eq!(a1.len(), 1);
        assert_eq!(a1[0].nat, ike_sm::NatStatus::default());
        assert_eq!(a1[0].local.port(), 500);
        assert!(
            Pair::established(&p.a_events)[0]
                .udp_encapsulation
                .is_none()
        );
        assert!(p.sent.iter().all(|(_, d)| d[..4] != NON_ESP_MARKER));
    }
}

#[test]
fn a_draft_only_initiator_gets_draft_numbers() {
    // Strip the RFC 3947 vendor ID from MM1 (vendor IDs are not
    // authenticated): B sees only drafts and picks -03, whose NAT-D is
    // payload 130 and whose UDP tunnel mode is 61443.
    let mut a = lab_config(b"k");
    a.default_mode = ExchangeMode::Main;
    let (mut p, _nat) = nat_pair(a, lab_config(b"k"));
    p.fault = Some(Box::new(|i, _, d| {
        if i != 0 {
            return Fault::Deliver;
        }
        let m = Message::new_checked(d).unwrap();
        let mut r = MessageRepr::parse(&m, &ParseConfig::default()).unwrap();
        r.payloads
            .retain(|p| !matches!(p, PayloadRepr::VendorId(v) if *v == vendor::NAT_T_RFC3947));
        Fault::Replace(r.to_vec().unwrap())
    }));
    p.a.initiate(p.now, request()).unwrap();
    p.drive();
    let b1 = phase1(&p.b_events);
    assert_eq!(b1[0].nat.version, Some(NatTVersion::Draft03));
    assert!(b1[0].nat.floated);
    let mm3 = Message::new_checked(&p.sent[2].1[..]).unwrap();
    let nat_d_draft = MessageRepr::parse(&mm3, &ParseConfig::default())
        .unwrap()
        .payloads
        .iter()
        .filter(|p| p.payload_type() == isakmp_wire::PayloadType::NAT_D_DRAFT)
        .count();
    assert_eq!(nat_d_draft, 2);
    for e in [
        Pair::established(&p.a_events)[0],
        Pair::established(&p.b_events)[0],
    ] {
        assert_eq!(
            e.udp_encapsulation.unwrap().mode,
            EncapsulationMode::UDP_TUNNEL_DRAFT
        );
    }
}

#[test]
fn keepalives_from_the_side_behind_the_nat_only() {
    let (mut p, _nat) = establish_through_nat(ExchangeMode::Main);
    let before = p.sent.len();
    p.drive_for(Duration::from_secs(65));
    let keepalives: Vec<bool> = p.sent[before..]
        .iter()
        .filter(|(_, d)| d.as_slice() == [0xff])
        .map(|(from_a, _)| *from_a)
        .collect();
    // One every 20 s, from A only.
    assert_eq!(keepalives.len(), 3, "{:?}", p.sent.len());
    assert!(keepalives.iter().all(|a| *a));
    assert_eq!(p.a.counters().keepalives_sent, 3);
    assert_eq!(p.b.counters().keepalives_received, 3);
    assert_eq!(p.b.counters().dropped(), 0);
}

#[test]
fn keepalive_interval_is_configurable_and_can_be_off() {
    for (every, want) in [(Some(Duration::from_secs(5)), 12u64), (None, 0)] {
        let mut a = lab_config(b"k");
        a.nat_t.keepalive = every;
        let (mut p, _nat) = nat_pair(a, lab_config(b"k"));
        p.a.initiate(p.now, request()).unwrap();
        p.drive();
        let before = p.a.counters().keepalives_sent;
        // The first keepalive is due one interval after establishment
        // (just past the 5 s `drive` ran): 60 s hold 12 of them.
        p.drive_for(Duration::from_secs(60));
        assert_eq!(p.a.counters().keepalives_sent - before, want);
    }
}

#[test]
fn a_new_mapping_is_followed_once_a_message_authenticates() {
    let (mut p, nat) = establish_through_nat(ExchangeMode::Main);
    let old = phase1(&p.b_events)[0].remote;
    // The NAT forgets A's 4500 mapping; A's next message comes from a new
    // port: a Quick Mode for a second pair (authenticated).
    nat.borrow_mut().rebind(addr("192.168.1.10:4500"));
    let mut second = request();
    second.local_proxy = ProxyId::subnet("10.3.0.0".parse().unwrap(), 16);
    p.a.initiate(p.now, second).unwrap();
    p.drive();
    let new = SocketAddr::new(
        IpAddr::V4(NAT_IP),
        nat.borrow().out[&addr("192.168.1.10:4500")],
    );
    assert_ne!(old, new);
    let m = moved(&p.b_events);
    assert_eq!(m.len(), 1, "{:#?}", p.b_events);
    assert_eq!((m[0].0, m[0].1), (old, new));
    assert_eq!(m[0].2, 1, "the first pair follows");
    // The new pair came up at the new address and the old one moved.
    assert_eq!(Pair::established(&p.b_events).len(), 2);
    assert!(p.b.ipsec_sas(p.now).iter().all(|s| s.remote == new));
    assert_eq!(p.b.isakmp_sas(p.now)[0].remote, new);
    assert_eq!(Pair::established(&p.a_events).len(), 2);
    assert!(moved(&p.a_events).is_empty());
}

#[test]
fn unauthenticated_or_replayed_input_from_a_new_port_moves_nothing() {
    let (mut p, _nat) = establish_through_nat(ExchangeMode::Main);
    let b_local = phase1(&p.b_events)[0].local;
    let peer = phase1(&p.b_events)[0].remote;
    let intruder = SocketAddr::new(IpAddr::V4(NAT_IP), 9);
    // Every protected message A sent, replayed from another port (QM1,
    // QM3: duplicates or stale), and the same bytes with the ciphertext
    // flipped (does not decrypt to anything that verifies).
    let protected: Vec<Vec<u8>> = p
        .sent
        .iter()
        .filter(|(from_a, d)| *from_a && d.len() > 32 && d[..4] == NON_ESP_MARKER)
        .map(|(_, d)| d.clone())
        .collect();
    assert!(protected.len() >= 2);
    let pairs_before = p.b.ipsec_sas(p.now);
    for d in &protected {
        p.b.handle_datagram(p.now, b_local, intruder, d);
        let mut flipped = d.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x55;
        p.b.handle_datagram(p.now, b_local, intruder, &flipped);
    }
    p.collect();
    assert!(moved(&p.b_events).is_empty());
    assert_eq!(p.b.isakmp_sas(p.now)[0].remote, peer);
    assert_eq!(p.b.ipsec_sas(p.now), pairs_before);
    // Nothing was lost: a DPD exchange still works on the old mapping.
    let sa = p.a.isakmp_sas(p.now)[0].id;
    let sent_before = p.sent.len();
    p.a.send_dpd(p.now, sa).unwrap();
    p.drive();
    let answers = p.sent[sent_before..].iter().filter(|(a, _)| !a).count();
    assert_eq!(answers, 1, "B's R-U-THERE-ACK reached A");
    assert_eq!(p.a.counters().dropped(), 0);
}

#[test]
fn the_data_plane_reports_a_new_mapping() {
    let (mut p, _nat) = establish_through_nat(ExchangeMode::Main);
    let pair = p.b.ipsec_sas(p.now)[0].clone();
    let to = SocketAddr::new(IpAddr::V4(NAT_IP), 51_000);
    p.b.peer_moved(p.now, pair.inbound, to).unwrap();
    p.collect();
    let m = moved(&p.b_events);
    assert_eq!(m, vec![(pair.remote, to, 1)]);
    assert_eq!(p.b.ipsec_sas(p.now)[0].remote, to);
    assert_eq!(p.b.isakmp_sas(p.now)[0].remote, to);
    // The same address again: nothing to report.
    p.b.peer_moved(p.now, pair.inbound, to).unwrap();
    p.collect();
    assert_eq!(moved(&p.b_events).len(), 1);
    assert_eq!(
        p.b.peer_moved(p.now, ike_sm::Spi(0x1234_5678), to),
        Err(ike_sm::CommandError::UnknownSpi(ike_sm::Spi(0x1234_5678)))
    );
    // A pair without UDP encapsulation cannot move.
    let mut q = pair_with(lab_config(b"k"), lab_config(b"k"));
    q.a.initiate(q.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    q.drive();
    let plain = q.b.ipsec_sas(q.now)[0].inbound;
    assert_eq!(
        q.b.peer_moved(q.now, plain, to),
        Err(ike_sm::CommandError::NotEncapsulated(plain))
    );
}

#[test]
fn transport_mode_sends_and_reads_nat_oa() {
    let mut set = TransformSet::strong();
    set.transform.mode = EspMode::Transport;
    let mut a = lab_config(b"k");
    a.phase2_policies[0].transform_sets = vec![set.clone()];
    let mut b = lab_config(b"k");
    b.phase2_policies[0].transform_sets = vec![set.clone()];
    let (mut p, _nat) = nat_pair(a, b);
    let mut req = request();
    req.transform_sets = vec![set];
    req.local_proxy = ProxyId::host("192.168.1.10".parse().unwrap());
    req.remote_proxy = ProxyId::host("198.51.100.2".parse().unwrap());
    p.a.initiate(p.now, req).unwrap();
    p.drive();
    let a2 = Pair::established(&p.a_events)[0].udp_encapsulation.unwrap();
    let b2 = Pair::established(&p.b_events)[0].udp_encapsulation.unwrap();
    assert_eq!(a2.mode, EncapsulationMode::UDP_TRANSPORT);
    // B learns A's address before the NAT; A learns how B saw it... as B
    // sent it: the NAT's address.
    assert_eq!(b2.peer_original, Some("192.168.1.10".parse().unwrap()));
    assert_eq!(b2.local_as_seen, Some("198.51.100.2".parse().unwrap()));
    assert_eq!(a2.peer_original, Some("198.51.100.2".parse().unwrap()));
    assert_eq!(a2.local_as_seen, Some(IpAddr::V4(NAT_IP)));
}

#[test]
fn bad_nat_d_payloads_are_counted_drops() {
    // MM3 (A's third datagram) rewritten: NAT-D of the wrong length, one
    // NAT-D only, too many NAT-D. B drops it each time, counts it, and the
    // exchange does not complete.
    type Edit = fn(&mut Vec<PayloadRepr<'static>>);
    let edits: [(Edit, NatTDrop); 3] = [
        (
            |ps| {
                for p in ps.iter_mut() {
                    if let PayloadRepr::NatD { hash, .. } = p {
                        *hash = &[1, 2, 3];
                    }
                }
            },
            NatTDrop::NatDLength {
                len: 3,
                expected: 32,
            },
        ),
        (
            |ps| {
                let first = ps
                    .iter()
                    .position(|p| matches!(p, PayloadRepr::NatD { .. }))
                    .unwrap();
                ps.remove(first);
            },
            NatTDrop::NatDCount { count: 1 },
        ),
        (
            |ps| {
                let d = ps
                    .iter()
                    .find(|p| matches!(p, PayloadRepr::NatD { .. }))
                    .unwrap()
                    .clone();
                for _ in 0..ike_sm::MAX_NAT_D {
                    ps.push(d.clone());
                }
            },
            NatTDrop::NatDCount {
                count: ike_sm::MAX_NAT_D + 2,
            },
        ),
    ];
    for (edit, want) in edits {
        let (mut p, _nat) = nat_pair(lab_config(b"k"), lab_config(b"k"));
        p.fault = Some(Box::new(move |i, from_a, d| {
            if !(from_a && i == 2) {
                return Fault::Deliver;
            }
            let m = Message::new_checked(d).unwrap();
            let r = MessageRepr::parse(&m, &ParseConfig::default()).unwrap();
            let mut payloads: Vec<PayloadRepr<'static>> = r
                .payloads
                .iter()
                .map(|p| match p {
                    PayloadRepr::NatD { numbering, hash } => PayloadRepr::NatD {
                        numbering: *numbering,
                        hash: Box::leak(hash.to_vec().into_boxed_slice()),
                    },
                    PayloadRepr::KeyExchange(k) => {
                        PayloadRepr::KeyExchange(Box::leak(k.to_vec().into_boxed_slice()))
                    }
                    PayloadRepr::Nonce(k) => {
                        PayloadRepr::Nonce(Box::leak(k.to_vec().into_boxed_slice()))
                    }
                    PayloadRepr::VendorId(k) => {
                        PayloadRepr::VendorId(Box::leak(k.to_vec().into_boxed_slice()))
                    }
                    other => panic!("unexpected MM3 payload {other:?}"),
                })
                .collect();
            edit(&mut payloads);
            let r2 = MessageRepr {
                header: r.header,
                payloads,
            };
            Fault::Replace(r2.to_vec().unwrap())
        }));
        p.a.initiate(p.now, request()).unwrap();
        p.drive_for(Duration::from_secs(1));
        let d = drops(&p.b_events);
        assert!(
            d.iter().any(|r| **r == DropReason::NatT(want.clone())),
            "{want:?}: {d:?}"
        );
        assert!(p.b.counters().nat_t >= 1);
        assert!(phase1(&p.b_events).is_empty());
    }
}

#[test]
fn the_nat_t_port_framing() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    let (local, remote) = (addr("10.0.0.2:4500"), addr("10.0.0.1:4500"));
    // A keepalive flood: counted, nothing sent, nothing dropped.
    for _ in 0..10_000 {
        p.b.handle_datagram(p.now, local, remote, &[0xff]);
    }
    assert_eq!(p.b.counters().keepalives_received, 10_000);
    assert!(p.b.poll_transmit().is_none());
    assert_eq!(p.b.counters().dropped(), 0);
    // A truncated marker, a marker alone, and ESP: typed drops.
    p.b.handle_datagram(p.now, local, remote, &[0, 0]);
    p.b.handle_datagram(p.now, local, remote, &[0, 0, 0, 0]);
    p.b.handle_datagram(p.now, local, remote, &[0, 0, 1, 0, 0, 0, 0, 1, 9, 9]);
    p.collect();
    let d = drops(&p.b_events);
    assert_eq!(
        d,
        vec![
            &DropReason::NatT(NatTDrop::Udp4500(Udp4500Error::TruncatedMarker { len: 2 })),
            &DropReason::NatT(NatTDrop::Udp4500(Udp4500Error::MarkerOnly)),
            &DropReason::NatT(NatTDrop::Esp),
        ]
    );
    assert_eq!(p.b.counters().nat_t, 3);
    // An MM1 sent straight to port 4500 (a peer that starts there) is
    // answered there, after the marker, and the SA counts as floated.
    let mut a = Endpoint::new(Arc::new(lab_config(b"k")), Box::new(rng(5)));
    let mut req = lab_request(vec![TransformSet::strong()]);
    req.local = addr("10.0.0.1:4500");
    req.peer = addr("10.0.0.2:4500");
    a.initiate(p.now, req).unwrap();
    let mm1 = a.poll_transmit().unwrap();
    assert_eq!(mm1.data[..4], NON_ESP_MARKER);
    p.b.handle_datagram(p.now, local, remote, &mm1.data);
    let mm2 = p.b.poll_transmit().unwrap();
    assert_eq!((mm2.local, mm2.remote), (local, remote));
    assert_eq!(mm2.data[..4], NON_ESP_MARKER);
    assert!(p.b.isakmp_sas(p.now)[0].nat.floated);
}

#[test]
fn initial_contact_from_one_host_behind_a_nat_spares_its_neighbour() {
    // A1 (192.168.1.10) comes up with B through the NAT.
    let (mut p1, nat) = establish_through_nat(ExchangeMode::Main);
    assert_eq!(p1.b.ipsec_sas(p1.now).len(), 1);
    let now = p1.now;
    // A2 (192.168.1.11), behind the same NAT and so the same public
    // address, comes up with B and sends INITIAL-CONTACT (it has no SA).
    let b = std::mem::replace(
        &mut p1.b,
        Endpoint::new(Arc::new(lab_config(b"k")), Box::new(rng(99))),
    );
    let a2 = Endpoint::new(Arc::new(lab_config(b"k")), Box::new(rng(23)));
    let mut p2 = Pair::new(a2, b, addr("192.168.1.11:500"), addr(B));
    p2.now = now;
    let n = nat.clone();
    p2.translate = Some(Box::new(move |from_a, src, dst| {
        let mut n = n.borrow_mut();
        if from_a {
            Some((n.outside(src), dst))
        } else {
            n.back.get(&dst.port()).map(|inside| (src, *inside))
        }
    }));
    let mut req = request();
    req.local = addr("192.168.1.11:500");
    req.local_proxy = ProxyId::subnet("10.4.0.0".parse().unwrap(), 16);
    p2.a.initiate(p2.now, req).unwrap();
    p2.drive();
    assert_eq!(Pair::established(&p2.b_events).len(), 1);
    // B still has A1's pair and ISAKMP SA besides A2's.
    assert!(
        !p2.b_events
            .iter()
            .any(|e| matches!(e, Event::Deleted { .. })),
        "{:#?}",
        p2.b_events
    );
    assert_eq!(p2.b.ipsec_sas(p2.now).len(), 2);
    assert_eq!(p2.b.isakmp_sas(p2.now).len(), 2);
}

#[test]
fn forged_nat_d_only_forces_encapsulation_and_moves_nothing_established() {
    // An on-path attacker rewrites the NAT-D hashes of MM3 (in clear, not
    // covered by HASH_I) to values of the right length that match
    // nothing: B believes there is a NAT. Only the initiator floats, and
    // A, whose view of MM4's NAT-D is right, does not: nothing changes but
    // B's report (no float, plain ESP, the SAs authenticated as ever).
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.fault = Some(Box::new(|i, from_a, d| {
        if !(from_a && i == 2) {
            return Fault::Deliver;
        }
        let m = Message::new_checked(d).unwrap();
        let r = MessageRepr::parse(&m, &ParseConfig::default()).unwrap();
        let forged = [0x5a; 32];
        let payloads = r
            .payloads
            .iter()
            .map(|p| match p {
                PayloadRepr::NatD { numbering, .. } => PayloadRepr::NatD {
                    numbering: *numbering,
                    hash: &forged,
                },
                other => other.clone(),
            })
            .collect();
        Fault::Replace(
            MessageRepr {
                header: r.header,
                payloads,
            }
            .to_vec()
            .unwrap(),
        )
    }));
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    let b1 = phase1(&p.b_events);
    assert_eq!(b1.len(), 1);
    // B saw a mismatch for both of A's hashes: "A behind a NAT" (and
    // itself behind one, as the first hash names B's address).
    assert!(b1[0].nat.remote_behind_nat && b1[0].nat.local_behind_nat);
    assert!(!b1[0].nat.floated);
    assert!(!phase1(&p.a_events)[0].nat.nat_detected());
    assert!(
        Pair::established(&p.a_events)[0]
            .udp_encapsulation
            .is_none()
    );
    assert!(
        Pair::established(&p.b_events)[0]
            .udp_encapsulation
            .is_none()
    );
    // Once established, a forged phase-1 message with the SA's cookies
    // (an MM3 again, from a new port) is an unexpected message: counted,
    // and the SA's peer and pairs stay.
    p.fault = None;
    let mm3 = p.sent[2].1.clone();
    let b_local = b1[0].local;
    let peer = b1[0].remote;
    let pairs = p.b.ipsec_sas(p.now);
    let before = p.b.counters().dropped();
    p.b.handle_datagram(p.now, b_local, addr("10.0.0.1:40404"), &mm3);
    p.collect();
    assert_eq!(p.b.counters().dropped(), before + 1);
    assert!(moved(&p.b_events).is_empty());
    assert_eq!(p.b.isakmp_sas(p.now)[0].remote, peer);
    assert_eq!(p.b.ipsec_sas(p.now), pairs);
}
