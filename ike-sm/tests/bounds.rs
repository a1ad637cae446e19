//! The engine's resource bounds (issue 7), each flooded past its limit:
//! Quick Mode negotiations per ISAKMP SA, on the responder and on the
//! initiator (running and queued behind phase 1); completed Quick Modes
//! kept to answer retransmissions; retransmissions of a
//! flood of half-open SAs; duplicates answered at most once per interval;
//! the output queues of a caller that does not drain them; established
//! ISAKMP SAs per peer and in total.
//! (The half-open caps themselves are flooded in `exchanges.rs`,
//! `half_open_cap_under_an_mm1_flood_keeps_established_sas_working`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ike_sm::{
    CommandError, Config, Endpoint, Event, FailReason, IsakmpState, ProxyId, TransformSet,
};

fn request_for(k: u8) -> ike_sm::Phase2Request {
    let mut r = lab_request(vec![TransformSet::strong()]);
    r.local_proxy = ProxyId::subnet(std::net::Ipv4Addr::new(192, 168, k, 0).into(), 24);
    r
}

fn phase2_in_progress(ep: &Endpoint, now: std::time::Instant) -> usize {
    ep.isakmp_sas(now)
        .iter()
        .map(|s| s.phase2_in_progress)
        .sum()
}

fn with_phase2_cap(mut c: Config, cap: usize) -> Config {
    c.limits.phase2_per_sa = cap;
    c
}

#[test]
fn a_responder_runs_at_most_phase2_per_sa_quick_modes_per_isakmp_sa() {
    let mut p = pair_with(
        with_phase2_cap(lab_config(b"k"), 1000),
        with_phase2_cap(lab_config(b"k"), 4),
    );
    p.a.initiate(p.now, request_for(1)).unwrap();
    p.drive();
    let first = p.b.ipsec_sas(p.now);
    assert_eq!(first.len(), 1);
    // b's answers are lost: its Quick Modes stay in progress, waiting for
    // QM3, while a floods it with fifty QM1s on the one ISAKMP SA.
    p.fault = Some(Box::new(
        |_, from_a, _| {
            if from_a { Fault::Deliver } else { Fault::Drop }
        },
    ));
    for k in 10..60 {
        p.a.initiate(p.now, request_for(k)).unwrap();
    }
    p.drive_for(Duration::from_secs(1));
    assert_eq!(phase2_in_progress(&p.b, p.now), 4);
    assert_eq!(p.b.counters().phase2_limit, 46);
    let refused = p
        .b_events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::InputDropped {
                    reason: ike_sm::DropReason::Limit(ike_sm::LimitDrop::Phase2),
                    ..
                }
            )
        })
        .count();
    assert_eq!(refused, 46);
    // a's retransmissions every 10 s find the cap still full.
    p.drive_for(Duration::from_secs(25));
    assert_eq!(phase2_in_progress(&p.b, p.now), 4);
    assert!(p.b.counters().phase2_limit >= 46 * 3);
    // The link heals: the established SAs are untouched, the running
    // Quick Modes finish, and the retransmitted ones take their places.
    p.fault = None;
    p.drive_for(Duration::from_secs(120));
    assert!(phase2_in_progress(&p.b, p.now) <= 4);
    let now = p.now;
    let b_sas = p.b.ipsec_sas(now);
    assert!(b_sas.iter().any(|s| s.inbound == first[0].inbound));
    assert!(b_sas.len() >= 5, "{} pairs", b_sas.len());
    assert_eq!(p.b.isakmp_sas(now).len(), 1);
}

#[test]
fn an_initiator_runs_and_queues_at_most_phase2_per_sa_quick_modes_per_isakmp_sa() {
    // Queued behind a phase 1 that never completes (every datagram lost).
    let mut p = pair_with(with_phase2_cap(lab_config(b"k"), 4), lab_config(b"k"));
    p.fault = Some(Box::new(|_, _, _| Fault::Drop));
    for k in 1..=4 {
        p.a.initiate(p.now, request_for(k)).unwrap();
    }
    for k in 5..=1000 {
        let k = u8::try_from(k % 250).unwrap();
        assert_eq!(
            p.a.initiate(p.now, request_for(k)),
            Err(CommandError::Phase2LimitReached(
                p.a.isakmp_sas(p.now)[0].id
            ))
        );
    }
    assert_eq!(p.a.isakmp_sas(p.now).len(), 1);
    // When phase 1 gives up, the four queued requests fail with it.
    p.drive_for(Duration::from_secs(120));
    assert!(p.a.isakmp_sas(p.now).is_empty());
    let failed = p
        .a_events
        .iter()
        .filter(|e| matches!(e, Event::Phase2Failed { .. }))
        .count();
    assert_eq!(failed, 4);

    // On an established SA whose peer does not answer Quick Mode.
    let mut p = pair_with(with_phase2_cap(lab_config(b"k"), 4), lab_config(b"k"));
    p.a.initiate(p.now, request_for(1)).unwrap();
    p.drive();
    assert_eq!(p.a.ipsec_sas(p.now).len(), 1);
    let sa = p.a.isakmp_sas(p.now)[0].id;
    p.fault = Some(Box::new(|_, _, _| Fault::Drop));
    for k in 2..=5 {
        p.a.initiate(p.now, request_for(k)).unwrap();
    }
    for k in 6..=200 {
        assert_eq!(
            p.a.initiate(p.now, request_for(k)),
            Err(CommandError::Phase2LimitReached(sa))
        );
    }
    p.drive_for(Duration::from_secs(1));
    assert_eq!(phase2_in_progress(&p.a, p.now), 4);
    // Once they time out, there is room again.
    p.drive_for(Duration::from_secs(120));
    assert_eq!(phase2_in_progress(&p.a, p.now), 0);
    let timeouts = p
        .a_events
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::Phase2Failed {
                    reason: FailReason::Timeout,
                    ..
                }
            )
        })
        .count();
    assert_eq!(timeouts, 4);
    p.fault = None;
    p.a.initiate(p.now, request_for(7)).unwrap();
    p.drive();
    assert_eq!(p.a.ipsec_sas(p.now).len(), 2);
}

#[test]
fn retransmissions_of_an_mm1_flood_are_bounded_by_the_half_open_caps() {
    // A responder alone, fed first messages from 5000 spoofed addresses;
    // its MM2s are never answered. Every datagram it ever sends for them
    // is an MM2 or one of its scheduled retransmissions: at most
    // half_open_total x (1 + retransmissions), and none once the schedule
    // has run out.
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.a.initiate(p.now, request_for(1)).unwrap();
    let mm1 = p.a.poll_transmit().unwrap().data;
    let mut b = Endpoint::new(Arc::new(lab_config(b"k")), Box::new(rng(5)));
    let limits = b.config().limits.clone();
    let schedule = b.config().retransmit.clone();
    // MM2 goes to an unverified source: resent at most
    // `first_reply_retransmits` times, whatever the schedule allows.
    let retransmissions = (0..)
        .take_while(|n| schedule.delay(*n).is_some())
        .count()
        .min(limits.first_reply_retransmits);
    assert_eq!(retransmissions, 1);
    let b_addr: SocketAddr = "10.0.0.2:500".parse().unwrap();
    let mut now = p.now;
    let mut sent = 0usize;
    let mut peak_queue = 0usize;
    for i in 0..5000u32 {
        let mut m = mm1.clone();
        m[..4].copy_from_slice(&i.to_be_bytes());
        let [_, _, x, y] = i.to_be_bytes();
        let src: SocketAddr = (std::net::Ipv4Addr::new(198, 18, x, y), 500).into();
        b.handle_datagram(now, b_addr, src, &m);
        while b.poll_transmit().is_some() {
            sent += 1;
        }
        while b.poll_event().is_some() {}
    }
    assert_eq!(sent, limits.half_open_total);
    // The timers, run to the end without draining between firings.
    for _ in 0..1000 {
        let Some(t) = b.poll_timeout() else { break };
        now = now.max(t);
        b.handle_timeout(now);
        let mut queued = 0;
        while b.poll_transmit().is_some() {
            queued += 1;
        }
        peak_queue = peak_queue.max(queued);
        sent += queued;
        while b.poll_event().is_some() {}
    }
    assert!(b.poll_timeout().is_none());
    assert_eq!(sent, limits.half_open_total * (1 + retransmissions));
    assert!(peak_queue <= limits.half_open_total);
    assert_eq!(
        usize::try_from(b.counters().retransmitted).unwrap(),
        limits.half_open_total * retransmissions
    );
    assert!(b.isakmp_sas(now).is_empty());
}

#[test]
fn a_flood_of_duplicates_is_answered_at_most_once_per_interval() {
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.a.initiate(p.now, request_for(1)).unwrap();
    let mm1 = p.a.poll_transmit().unwrap().data;
    let interval = p.b.config().limits.duplicate_answer_interval;
    let (a_addr, b_addr) = (p.a_addr, p.b_addr);
    let mut answers = 0;
    // 10,000 copies of one MM1 over 10 intervals.
    for i in 0..10_000u32 {
        let now = p.now + interval * i / 1000;
        p.b.handle_datagram(now, b_addr, a_addr, &mm1);
        while p.b.poll_transmit().is_some() {
            answers += 1;
        }
        while p.b.poll_event().is_some() {}
    }
    // The first copy is answered with MM2 (at time 0), and a duplicate
    // with a resend at 1, 2, ... 9 intervals.
    assert_eq!(answers, 10);
    assert_eq!(p.b.counters().duplicates_answered, 9);
    assert_eq!(
        p.b.counters().duplicates_answered + p.b.counters().duplicates_suppressed,
        9_999
    );
    assert_eq!(p.b.isakmp_sas(p.now).len(), 1);
    assert_eq!(p.b.isakmp_sas(p.now)[0].state, IsakmpState::MmSaSetup);
}

#[test]
fn the_output_queues_stay_bounded_when_the_caller_does_not_drain_them() {
    let mut config = lab_config(b"k");
    config.trace = true;
    config.limits.max_queued_transmits = 8;
    config.limits.max_queued_events = 100;
    let mut b = Endpoint::new(Arc::new(config), Box::new(rng(5)));
    let b_addr: SocketAddr = "10.0.0.2:500".parse().unwrap();
    let now = std::time::Instant::now();
    // 100,000 malformed datagrams, never drained: one InputDropped event
    // each, of which the first 100 are kept.
    for i in 0..100_000u32 {
        let [_, w, x, y] = i.to_be_bytes();
        let src: SocketAddr = (std::net::Ipv4Addr::new(198, w, x, y), 500).into();
        b.handle_datagram(now, b_addr, src, &i.to_be_bytes());
    }
    assert_eq!(b.counters().malformed, 100_000);
    assert_eq!(b.counters().events_dropped, 100_000 - 100);
    // 100 first messages from as many addresses: each would queue an MM2
    // (and trace events); 8 MM2s are kept, the other 92 counted, as if
    // the link had lost them.
    let mut p = pair_with(lab_config(b"k"), lab_config(b"k"));
    p.a.initiate(p.now, request_for(1)).unwrap();
    let mm1 = p.a.poll_transmit().unwrap().data;
    for i in 0..100u32 {
        let mut m = mm1.clone();
        m[..4].copy_from_slice(&i.to_be_bytes());
        let src: SocketAddr = (
            std::net::Ipv4Addr::new(203, 0, 113, u8::try_from(i).unwrap()),
            500,
        )
            .into();
        b.handle_datagram(now, b_addr, src, &m);
    }
    assert_eq!(b.counters().transmits_dropped, 92);
    assert_eq!(b.counters().sent, 8);
    assert_eq!(std::iter::from_fn(|| b.poll_transmit()).count(), 8);
    // The kept events are the first ones; SA events are never dropped
    // (none here: the SAs are half-open).
    let events: Vec<Event> = std::iter::from_fn(|| b.poll_event()).collect();
    assert_eq!(events.len(), 100);
    assert!(
        events
            .iter()
            .all(|e| matches!(e, Event::InputDropped { .. }))
    );
    // The retransmission timers of all 100 run; a caller that drains
    // once per timer still gets at most the cap at a time.
    let t = b.poll_timeout().unwrap();
    b.handle_timeout(t);
    assert_eq!(std::iter::from_fn(|| b.poll_transmit()).count(), 8);
    assert_eq!(b.isakmp_sas(t).len(), 100);
}

#[test]
fn completed_quick_modes_kept_for_retransmissions_are_capped_and_expire() {
    // a keeps at most 4 completed Quick Mode nodes per ISAKMP SA (to answer
    // a retransmitted QM2 with its QM3), each for at most 60 s.
    let mut a = with_phase2_cap(lab_config(b"k"), 100);
    a.limits.completed_nodes_per_sa = 4;
    let mut p = pair_with(a, with_phase2_cap(lab_config(b"k"), 100));
    p.a.initiate(p.now, request_for(1)).unwrap();
    p.drive();
    for k in 10..50 {
        p.a.initiate(p.now, request_for(k)).unwrap();
    }
    p.drive();
    assert_eq!(p.a.ipsec_sas(p.now).len(), 41);
    // Every QM2 b sent (Quick Mode, exchange type 32, from b).
    let qm2: Vec<Vec<u8>> = p
        .sent
        .iter()
        .filter(|(from_a, m)| !from_a && m.len() > 28 && m[18] == 32)
        .map(|(_, m)| m.clone())
        .collect();
    assert_eq!(qm2.len(), 41);
    let replay = |p: &mut Pair| {
        let before = p.a.counters().duplicates_answered;
        let (a_addr, b_addr, now) = (p.a_addr, p.b_addr, p.now);
        for m in &qm2 {
            p.a.handle_datagram(now, a_addr, b_addr, m);
        }
        while p.a.poll_transmit().is_some() {}
        while p.a.poll_event().is_some() {}
        p.a.counters().duplicates_answered - before
    };
    // Only the four newest nodes are left to answer.
    p.now += Duration::from_secs(2);
    assert_eq!(replay(&mut p), 4);
    // After the linger time, none.
    p.drive_for(Duration::from_secs(61));
    assert_eq!(replay(&mut p), 0);
    assert_eq!(p.a.ipsec_sas(p.now).len(), 41);
}

/// Established ISAKMP SAs of `ep` with `peer`'s address.
fn established_with(ep: &Endpoint, peer: SocketAddr, now: std::time::Instant) -> usize {
    ep.isakmp_sas(now)
        .iter()
        .filter(|s| s.state == IsakmpState::QmIdle && s.remote.ip() == peer.ip())
        .count()
}

#[test]
fn established_isakmp_sas_per_peer_are_capped_until_one_goes() {
    let mut b_config = lab_config(b"k");
    b_config.limits.established_per_peer = 3;
    let mut p = pair_with(lab_config(b"k"), b_config);
    let (a_addr, b_addr) = (p.a_addr, p.b_addr);
    for n in 1..=3 {
        p.a.initiate_phase1(p.now, b_addr, a_addr).unwrap();
        p.drive();
        assert_eq!(established_with(&p.b, a_addr, p.now), n);
    }
    assert_eq!(p.b.counters().isakmp_sa_limit, 0);
    // A fourth phase 1 from the same peer: b drops its first message (and
    // a's retransmissions of it), and cannot start one towards a either.
    let fourth = p.a.initiate_phase1(p.now, b_addr, a_addr).unwrap();
    p.drive_for(Duration::from_secs(15));
    assert_eq!(established_with(&p.b, a_addr, p.now), 3);
    assert_eq!(
        p.b.counters().isakmp_sa_limit,
        2,
        "MM1 and one retransmission"
    );
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::InputDropped {
            reason: ike_sm::DropReason::Limit(ike_sm::LimitDrop::IsakmpSa),
            ..
        }
    )));
    assert_eq!(
        p.b.initiate_phase1(p.now, a_addr, b_addr),
        Err(CommandError::LimitReached)
    );
    // Another peer is not affected by this one's cap (the harness's link
    // takes b's messages to a, which completes this phase 1 too, as
    // 192.0.2.77).
    let other: SocketAddr = "192.0.2.77:500".parse().unwrap();
    assert!(p.b.initiate_phase1(p.now, other, b_addr).is_ok());
    // One of the three goes: the next retransmission of the fourth MM1
    // gets through and completes.
    let oldest =
        p.b.isakmp_sas(p.now)
            .iter()
            .find(|s| s.state == IsakmpState::QmIdle && s.remote == a_addr)
            .unwrap()
            .id;
    p.b.delete_isakmp(p.now, oldest).unwrap();
    assert_eq!(established_with(&p.b, a_addr, p.now), 2);
    p.drive_for(Duration::from_secs(15));
    assert_eq!(established_with(&p.b, a_addr, p.now), 3);
    assert_eq!(
        p.a.isakmp_sa(fourth, p.now).map(|s| s.state),
        Some(IsakmpState::QmIdle)
    );
}

#[test]
fn established_isakmp_sas_in_total_are_capped() {
    let mut b_config = lab_config(b"k");
    b_config.limits.established_total = 2;
    let mut p = pair_with(lab_config(b"k"), b_config);
    let (a_addr, b_addr) = (p.a_addr, p.b_addr);
    for _ in 0..2 {
        p.a.initiate_phase1(p.now, b_addr, a_addr).unwrap();
        p.drive();
    }
    assert_eq!(established_with(&p.b, a_addr, p.now), 2);
    // Full for every peer, not only this one.
    let other: SocketAddr = "192.0.2.77:500".parse().unwrap();
    assert_eq!(
        p.b.initiate_phase1(p.now, other, b_addr),
        Err(CommandError::LimitReached)
    );
    p.a.initiate_phase1(p.now, b_addr, a_addr).unwrap();
    p.drive();
    assert_eq!(established_with(&p.b, a_addr, p.now), 2);
    assert_eq!(p.b.counters().isakmp_sa_limit, 1);
}
