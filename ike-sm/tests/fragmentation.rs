//! IKE fragmentation in the engine: announced, used only toward a peer
//! that announced it, reassembled, and bounded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use ike_sm::{Config, DropReason, Event, ExchangeMode, FragmentationConfig, TransformSet};
use isakmp_wire::{FragmentMessage, Message, PayloadType};

/// A lab configuration whose IKE messages are cut at `size` bytes of IP
/// packet (or not announced at all).
fn config(size: usize, enabled: bool, mode: ExchangeMode) -> Config {
    let mut c = lab_config(b"fragment me");
    c.fragmentation = FragmentationConfig {
        enabled,
        fragment_size: size,
        ..FragmentationConfig::default()
    };
    c.default_mode = mode;
    c
}

fn fragments(p: &Pair, from_a: bool) -> Vec<FragmentMessage<'static>> {
    p.sent
        .iter()
        .filter(|(a, _)| *a == from_a)
        .filter(|(_, d)| FragmentMessage::is_fragment(d))
        .map(|(_, d)| {
            let bytes: &'static [u8] = Box::leak(d.clone().into_boxed_slice());
            FragmentMessage::parse(bytes).unwrap()
        })
        .collect()
}

fn run(a: Config, b: Config) -> Pair {
    let mut p = pair_with(a, b);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    p
}

#[test]
fn main_mode_fragments_both_ways_and_completes() {
    // 100 bytes of IP packet: 72 of ISAKMP per fragment, 36 of data.
    let p = run(
        config(100, true, ExchangeMode::Main),
        config(100, true, ExchangeMode::Main),
    );
    assert_eq!(Pair::established(&p.a_events).len(), 1, "{:?}", p.a_events);
    assert_eq!(Pair::established(&p.b_events).len(), 1);
    for from_a in [true, false] {
        let f = fragments(&p, from_a);
        assert!(!f.is_empty(), "side a={from_a} sent no fragment");
        // Every fragment datagram fits the size (20 IP + 8 UDP bytes aside).
        for (_, d) in p
            .sent
            .iter()
            .filter(|(a, d)| *a == from_a && FragmentMessage::is_fragment(d))
        {
            assert!(d.len() <= 100 - 28, "{} bytes", d.len());
        }
        // Each message's fragments number from 1, the last one flagged.
        let last: Vec<_> = f.iter().filter(|m| m.fragment.is_last()).collect();
        assert!(!last.is_empty());
        assert!(f.iter().any(|m| m.fragment.number == 1));
    }
    // MM1 is never cut: the initiator does not know yet whether B takes
    // fragments.
    let first = p.sent.iter().find(|(a, _)| *a).unwrap();
    assert!(!FragmentMessage::is_fragment(&first.1));
    assert!(p.a.counters().fragments_sent > 0);
    assert!(p.b.counters().fragments_reassembled > 0);
    assert!(p.a.fragment_counters().reassembled > 0);
    assert_eq!(p.a.counters().dropped(), 0);
    assert_eq!(p.b.counters().dropped(), 0);
}

#[test]
fn aggressive_mode_fragments_and_completes() {
    let mut b = config(120, true, ExchangeMode::Aggressive);
    b.aggressive_mode = ike_sm::AggressiveModePolicy::ANSWER_ALL;
    let p = run(config(120, true, ExchangeMode::Aggressive), b);
    assert_eq!(Pair::established(&p.a_events).len(), 1, "{:?}", p.b_events);
    // AM2 (B's answer to a peer that announced support) is cut.
    assert!(!fragments(&p, false).is_empty());
}

#[test]
fn nothing_is_cut_toward_a_peer_that_did_not_announce_it() {
    let p = run(
        config(100, true, ExchangeMode::Main),
        config(100, false, ExchangeMode::Main),
    );
    assert_eq!(Pair::established(&p.a_events).len(), 1);
    assert!(fragments(&p, true).is_empty());
    assert!(fragments(&p, false).is_empty());
    // B does not announce support: no fragmentation vendor ID in MM2.
    let mm2 = p.sent.iter().find(|(a, _)| !*a).unwrap();
    let m = Message::new_checked(mm2.1.as_slice()).unwrap();
    let vids: Vec<&[u8]> = m
        .payloads()
        .filter_map(|p| p.ok())
        .filter(|p| p.payload_type() == PayloadType::VENDOR_ID)
        .map(|p| p.body())
        .collect();
    assert!(
        vids.iter()
            .all(|v| isakmp_wire::vendor::fragmentation_support(v).is_none())
    );
}

#[test]
fn fragments_are_dropped_when_fragmentation_is_off() {
    let mut p = pair_with(
        config(1280, false, ExchangeMode::Main),
        config(1280, false, ExchangeMode::Main),
    );
    // A fragment of some message, from anyone.
    let whole = {
        let mut q = run(
            config(100, true, ExchangeMode::Main),
            config(100, true, ExchangeMode::Main),
        );
        q.sent.retain(|(_, d)| FragmentMessage::is_fragment(d));
        q.sent[0].1.clone()
    };
    let (a_addr, b_addr, now) = (p.a_addr, p.b_addr, p.now);
    p.b.handle_datagram(now, b_addr, a_addr, &whole);
    assert_eq!(p.b.counters().fragments_dropped, 1);
    let ev = std::iter::from_fn(|| p.b.poll_event()).collect::<Vec<_>>();
    assert!(ev.iter().any(|e| matches!(
        e,
        Event::InputDropped {
            reason: DropReason::Fragment(ike_sm::fragment::FragmentDrop::Disabled),
            ..
        }
    )));
}
