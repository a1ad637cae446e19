//! TED's bounds under a flood from the protected side (issue 7): a host
//! that sends to every address of the remote network, again and again,
//! towards a peer that never answers. Pending discoveries stay within
//! `max_pending`, remembered hold-downs within `max_hold_down`, and the
//! probes within `max_probes()` per discovery started. (The responder's
//! rate limit under a probe flood is tested in `discovery_responder.rs`,
//! `flood_is_rate_limited`, and on the seed network in
//! `tests/tests/seed_negative.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod discovery_util;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use discovery_util::*;
use ted::discovery::{Discovery, DiscoveryConfig, Trigger, TriggerOutcome};

#[test]
fn a_trigger_flood_towards_a_silent_network_stays_within_its_bounds() {
    let mut settings = DiscoveryConfig::default();
    settings.max_pending = 16;
    settings.max_hold_down = 32;
    settings.retransmit_intervals = vec![Duration::from_secs(1)];
    settings.give_up_after = Duration::from_secs(1);
    settings.hold_down = Duration::from_secs(3600);
    let max_probes = settings.max_probes();
    let mut d = Discovery::new(settings).unwrap();
    let config = daphne();
    let mut rng = ScriptedRng::new(7);
    let proxy = seed_trigger(&config).local_proxy;
    let destinations: Vec<Ipv4Addr> = (1..=254).map(|h| Ipv4Addr::new(12, 12, 12, h)).collect();
    let mut now = Instant::now();
    let (mut started, mut refused, mut held, mut probes) = (0usize, 0usize, 0usize, 0usize);
    for round in 0..20u8 {
        for (i, dst) in destinations.iter().enumerate() {
            let src = Ipv4Addr::new(13, 13, 13, 1 + u8::try_from(i % 200).unwrap() + round % 50);
            let t = Trigger::from_config(&config, "tedtag", &ping(src, *dst)).unwrap();
            match d.handle_trigger(now, &mut rng, t) {
                TriggerOutcome::Started(_) => started += 1,
                TriggerOutcome::TooManyPending => refused += 1,
                TriggerOutcome::HeldDown { .. } => held += 1,
                other => panic!("{other:?}"),
            }
            assert!(d.pending_count() <= 16);
            probes += drain_transmits(&mut d).len();
            drain_events(&mut d);
        }
        // Nobody answers: every discovery gives up.
        for _ in 0..100 {
            let Some(t) = d.poll_timeout() else { break };
            if t > now + Duration::from_secs(10) {
                break;
            }
            now = now.max(t);
            d.handle_timeout(now);
            probes += drain_transmits(&mut d).len();
            drain_events(&mut d);
            assert!(d.pending_count() <= 16);
        }
        assert_eq!(d.pending_count(), 0, "round {round}");
        let remembered = destinations
            .iter()
            .filter(|dst| d.held_down_until(now, &proxy, **dst).is_some())
            .count();
        assert!(remembered <= 32, "round {round}: {remembered} hold-downs");
        now += Duration::from_secs(5);
    }
    let triggers = 20 * destinations.len();
    assert_eq!(started + refused + held, triggers);
    assert_eq!(
        started,
        usize::try_from(d.stats().discoveries_started).unwrap()
    );
    assert_eq!(
        refused,
        usize::try_from(d.stats().triggers_refused).unwrap()
    );
    assert_eq!(
        started,
        usize::try_from(d.stats().discoveries_failed).unwrap()
    );
    // Each round starts max_pending discoveries (the rest are refused or
    // held down), and each sends at most max_probes probes.
    assert_eq!(started, 20 * 16);
    assert_eq!(probes, started * max_probes);
    assert_eq!(probes, usize::try_from(d.stats().probes_sent).unwrap());
    assert_eq!(
        started * (max_probes - 1),
        usize::try_from(d.stats().probes_retransmitted).unwrap()
    );
}
