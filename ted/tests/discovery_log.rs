//! The IOS-style rendering of the seed's TED exchange, compared with
//! transcripts written by hand from the seed's debug trace
//! (`vectors/seed/debug_*_ted.txt`), and each rendered message checked
//! against the seed document's own text (`vectors/seed/seed_excerpt.txt`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod discovery_util;

use std::time::{Duration, Instant};

use discovery_util::*;
use ted::discovery::{Discovery, DiscoveryConfig, Event};
use ted::log::{ClockMark, DebugLog, LogEvent, Record, Renderer, Role, WallClock};

const DAPHNE_EXPECTED: &str = include_str!("../../vectors/seed/debug_daphne_ted.txt");
const FRED_EXPECTED: &str = include_str!("../../vectors/seed/debug_fred_ted.txt");
const SEED: &str = include_str!("../../vectors/seed/seed_excerpt.txt");

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn strip(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The seed's text for one router's trace, whitespace removed.
fn seed_trace(prompt: &str) -> String {
    let line = SEED
        .lines()
        .find(|l| l.starts_with(&format!("{prompt}#show debug")))
        .unwrap();
    strip(line)
}

/// The messages of a rendering (a timestamped line and its continuation
/// lines), each as (timestamp, text).
fn messages(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with('*') {
            let (stamp, rest) = line.split_once(": ").unwrap();
            out.push((stamp.to_owned(), rest.to_owned()));
        } else {
            let last = out.last_mut().unwrap();
            last.1.push('\n');
            last.1.push_str(line);
        }
    }
    out
}

/// Runs the seed's exchange and returns both routers' logs, recorded at
/// the seed's times.
fn seed_logs() -> (DebugLog, Instant, DebugLog, Instant) {
    let daphne_cfg = daphne();
    let fred_cfg = fred();
    // The seed's probe carries a second vendor ID (fred processes one
    // after the IDs); its bytes are unknown, any will do.
    let mut settings = DiscoveryConfig::default();
    settings.capability_vendor_id = Some(b"TED-V3".to_vec());
    let mut initiator = Discovery::new(settings).unwrap();
    let mut responder = discovery();
    let mut rng = ScriptedRng::new(5);

    // Daphne's clock: 02:07:18.850 when the ping arrives.
    let d0 = Instant::now();
    let mut dlog = DebugLog::default();
    initiator.handle_trigger(d0, &mut rng, seed_trigger(&daphne_cfg));
    let probe = initiator.poll_transmit().unwrap();
    let events = drain_events(&mut initiator);
    assert_eq!(events.len(), 2);
    for (event, at) in events.into_iter().zip([d0, d0 + ms(12)]) {
        dlog.record_discovery(at, event);
    }

    // fred's clock: 02:07:45.763 when the probe arrives.
    let f0 = d0 + ms(1);
    let mut flog = DebugLog::default();
    deliver(&mut responder, f0, &mut rng, &fred_cfg, &probe);
    let response = responder.poll_transmit().unwrap();
    let events = drain_events(&mut responder);
    assert_eq!(events.len(), 2);
    for (event, at) in events.into_iter().zip([f0, f0 + ms(32)]) {
        flog.record_discovery(at, event);
    }

    deliver(
        &mut initiator,
        d0 + ms(112),
        &mut rng,
        &daphne_cfg,
        &response,
    );
    let events = drain_events(&mut initiator);
    let Event::Discovered(found) = &events[0] else {
        panic!("{events:?}")
    };
    let conn_id = dlog.discovery_conn_id(found.id);
    let probed = found.trigger.packet_destination;
    for event in events {
        dlog.record_discovery(d0 + ms(112), event);
    }
    // The gateway's part: after Main Mode's first message, the TED SA goes.
    dlog.push(Record {
        at: d0 + ms(124),
        event: LogEvent::DiscoverySaDeleted {
            conn_id,
            role: Role::Initiator,
            peer: probed,
        },
    });
    (dlog, d0, flog, f0)
}

#[test]
fn daphne_and_fred_render_as_the_seed() {
    let (dlog, d0, flog, f0) = seed_logs();
    let daphne_clock = WallClock::new(1993, 3, 1, 2, 7, 18, 850).unwrap();
    let fred_clock = WallClock::new(1993, 3, 1, 2, 7, 45, 763).unwrap();
    let daphne_text = Renderer::new(daphne_clock, d0).render_all(dlog.records());
    let fred_text = Renderer::new(fred_clock, f0).render_all(flog.records());
    assert_eq!(daphne_text, DAPHNE_EXPECTED);
    assert_eq!(fred_text, FRED_EXPECTED);
}

#[test]
fn every_rendered_message_is_in_the_seed() {
    let (dlog, d0, flog, f0) = seed_logs();
    let base = WallClock::IOS_DEFAULT;
    for (log, origin, prompt) in [(&dlog, d0, "Daphne"), (&flog, f0, "fred")] {
        let seed = seed_trace(prompt);
        let text = Renderer::new(base, origin).render_all(log.records());
        for (_, message) in messages(&text) {
            let m = strip(&message);
            // Known departures, both documented in docs/ted-wire.md and the
            // log module: we send the proxy payload as 16 where fred's
            // trace printed 239; the seed shows both.
            if m == strip(
                "ISAKMP (1): ID payload next-payload : 16 type : 1 protocol : 17 port : 500 length : 8",
            ) {
                assert!(seed.contains(&strip("ID payload next-payload : 239 type : 1")));
                continue;
            }
            assert!(seed.contains(&m), "{prompt}: not in the seed: {message}");
        }
    }
}

#[test]
fn timestamps_match_the_seed_where_the_seed_has_the_message_at_that_time() {
    // The first and last line of each group carry the seed's own time.
    let (dlog, d0, ..) = seed_logs();
    let clock = WallClock::new(1993, 3, 1, 2, 7, 18, 850).unwrap();
    let text = Renderer::new(clock, d0).render_all(dlog.records());
    let seed = seed_trace("Daphne");
    for wanted in [
        "*Mar 1 02:07:18.850: IPSEC(tunnel discover request)",
        "*Mar 1 02:07:18.862: ISAKMP (0:1): sending packet to 12.12.12.13 (I) PEER_DISCOVERY",
        "*Mar 1 02:07:18.962: ISAKMP (0:1): received packet from 11.11.11.2 (I) PEER_DISCOVERY",
        "*Mar 1 02:07:18.974: ISAKMP (0:1): peer does not do paranoid keepalives.",
    ] {
        assert!(seed.contains(&strip(wanted)), "{wanted}");
        assert!(strip(&text).contains(&strip(wanted)), "{wanted}");
    }
}

#[test]
fn conn_ids_are_shared_and_stable() {
    let mut log = DebugLog::default();
    let a = ted::discovery::DiscoveryId(7);
    let b = ted::discovery::DiscoveryId(9);
    assert_eq!(log.discovery_conn_id(a), 1);
    // The gateway's Main Mode SA takes the next number: (0:2) in the seed.
    assert_eq!(log.allocate_conn_id(), 2);
    assert_eq!(log.discovery_conn_id(b), 3);
    assert_eq!(log.discovery_conn_id(a), 1);
}

#[test]
fn bounded_log() {
    let mut log = DebugLog::new(2);
    let t = Instant::now();
    for i in 0..5u32 {
        log.push(Record {
            at: t,
            event: LogEvent::DiscoverySaDeleted {
                conn_id: i,
                role: Role::Responder,
                peer: DAPHNE,
            },
        });
    }
    assert_eq!(log.records().count(), 2);
    assert_eq!(log.dropped(), 3);
    let first = log.records().next().unwrap();
    assert!(matches!(
        first.event,
        LogEvent::DiscoverySaDeleted { conn_id: 3, .. }
    ));
}

#[test]
fn wall_clock() {
    // IOS's default clock and the day padding.
    let t0 = Instant::now();
    let r = Renderer::new(WallClock::IOS_DEFAULT, t0);
    assert_eq!(r.timestamp(t0), "*Mar  1 00:00:00.000");
    assert_eq!(
        r.timestamp(t0 + Duration::from_secs(2 * 3600 + 7 * 60 + 18) + ms(850)),
        "*Mar  1 02:07:18.850"
    );
    // Sub-millisecond parts are dropped, and earlier instants print as the
    // origin.
    assert_eq!(
        r.timestamp(t0 + Duration::from_micros(1999)),
        "*Mar  1 00:00:00.001"
    );
    // Calendar facts: 1996 and 2000 are leap years, 1900 and 1993 are not.
    let day = Duration::from_secs(86_400);
    let feb28 = |y| WallClock::new(y, 2, 28, 12, 0, 0, 0).unwrap();
    let fmt = |c: WallClock| {
        Renderer::new(c, t0)
            .with_mark(ClockMark::Synchronized)
            .timestamp(t0)
    };
    assert_eq!(fmt(feb28(1996).after(day)), "Feb 29 12:00:00.000");
    assert_eq!(fmt(feb28(2000).after(day)), "Feb 29 12:00:00.000");
    assert_eq!(fmt(feb28(1900).after(day)), "Mar  1 12:00:00.000");
    assert_eq!(fmt(feb28(1993).after(day)), "Mar  1 12:00:00.000");
    assert_eq!(
        feb28(1993).after(day),
        WallClock::new(1993, 3, 1, 12, 0, 0, 0).unwrap()
    );
    let eve = WallClock::new(1999, 12, 31, 23, 59, 59, 999).unwrap();
    assert_eq!(eve.after(ms(1)).parts(), (2000, 1, 1, 0, 0, 0, 0));
    assert_eq!(
        WallClock::new(1993, 3, 1, 0, 0, 0, 0).unwrap(),
        WallClock::IOS_DEFAULT
    );
    // Invalid dates and times.
    assert!(WallClock::new(1993, 2, 29, 0, 0, 0, 0).is_err());
    assert!(WallClock::new(1993, 13, 1, 0, 0, 0, 0).is_err());
    assert!(WallClock::new(1993, 4, 31, 0, 0, 0, 0).is_err());
    assert!(WallClock::new(1993, 1, 1, 24, 0, 0, 0).is_err());
    assert!(WallClock::new(1993, 1, 1, 0, 0, 0, 1000).is_err());
    let r = r.with_mark(ClockMark::Unsynchronized);
    assert_eq!(r.timestamp(t0), ".Mar  1 00:00:00.000");
}

#[test]
fn retransmission_give_up_and_drops_render() {
    let config = daphne();
    let mut d = discovery();
    let mut rng = ScriptedRng::new(9);
    let t0 = Instant::now();
    let mut log = DebugLog::default();
    d.handle_trigger(t0, &mut rng, seed_trigger(&config));
    while let Some(t) = d.poll_timeout() {
        d.handle_timeout(t);
    }
    // A stray response to nobody.
    let stray = isakmp_wire::TedResponse::new(
        [9; 8],
        [8; 8],
        FRED,
        None,
        isakmp_wire::IdRepr::new(isakmp_wire::IdData::Ipv4Addr(HOST_A1)),
    )
    .to_message(isakmp_wire::ExchangeType::TED)
    .to_vec()
    .unwrap();
    d.handle_datagram(
        t0,
        &mut rng,
        &config,
        ted::discovery::Datagram::new(sock(FRED), sock(DAPHNE), &stray),
    );
    for e in drain_events(&mut d) {
        log.record_discovery(t0, e);
    }
    let text = Renderer::new(WallClock::IOS_DEFAULT, t0).render_all(log.records());
    assert_eq!(
        text.matches("retransmitting phase 1 PEER_DISCOVERY...")
            .count(),
        5
    );
    assert_eq!(
        text.matches("sending packet to 12.12.12.13 (I) PEER_DISCOVERY")
            .count(),
        6
    );
    assert!(text.contains(
        "ISAKMP (0:1): deleting SA reason \"death by retransmission P1\" state (I) PEER_DISCOVERY (peer 12.12.12.13) input queue 0"
    ));
    assert!(text.contains(
        "ISAKMP (0:0): dropping peer discovery response: no pending probe has its cookie"
    ));
}
