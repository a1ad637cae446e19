//! The initiator: one pending discovery per pair, retransmission, lost
//! probes and responses, giving up and holding down, and the checks a
//! response must pass.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod discovery_util;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use discovery_util::*;
use isakmp_wire::{ExchangeType, IdData, IdRepr, TedProxyNumbering, TedResponse};
use ted::discovery::{
    ConfigError, Discovery, DiscoveryConfig, Disposition, Event, ResponseDropReason, Transmit,
    TriggerOutcome,
};

const SECOND: Duration = Duration::from_secs(1);

fn subnet_id(a: [u8; 4], bits: u8) -> IdRepr<'static> {
    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
    IdRepr::new(IdData::Ipv4Subnet {
        address: Ipv4Addr::from(a),
        mask: Ipv4Addr::from(mask),
    })
}

/// Daphne's side, with fred's policy at hand to answer.
struct Pair {
    daphne: Discovery,
    fred: Discovery,
    daphne_cfg: ted::config::Config,
    fred_cfg: ted::config::Config,
    rng: ScriptedRng,
    t0: Instant,
}

impl Pair {
    fn new() -> Self {
        Self::with(DiscoveryConfig::default())
    }

    fn with(settings: DiscoveryConfig) -> Self {
        Self {
            daphne: Discovery::new(settings).unwrap(),
            fred: discovery(),
            daphne_cfg: daphne(),
            fred_cfg: fred(),
            rng: ScriptedRng::new(21),
            t0: Instant::now(),
        }
    }

    fn at(&self, secs: u64) -> Instant {
        self.t0 + Duration::from_secs(secs)
    }

    fn trigger(&mut self, at: Instant) -> TriggerOutcome {
        let t = seed_trigger(&self.daphne_cfg);
        self.daphne.handle_trigger(at, &mut self.rng, t)
    }

    fn answer(&mut self, at: Instant, probe: &Transmit) -> Transmit {
        assert_eq!(
            deliver(&mut self.fred, at, &mut self.rng, &self.fred_cfg, probe),
            Disposition::Consumed
        );
        self.fred.poll_transmit().unwrap()
    }

    fn receive(&mut self, at: Instant, response: &Transmit) -> Vec<Event> {
        deliver(
            &mut self.daphne,
            at,
            &mut self.rng,
            &self.daphne_cfg,
            response,
        );
        drain_events(&mut self.daphne)
    }

    fn run_timers_until(&mut self, end: Instant) -> Vec<(Instant, Transmit)> {
        let mut sent = Vec::new();
        while let Some(t) = self.daphne.poll_timeout() {
            if t > end {
                break;
            }
            self.daphne.handle_timeout(t);
            sent.extend(
                drain_transmits(&mut self.daphne)
                    .into_iter()
                    .map(|x| (t, x)),
            );
        }
        sent
    }

    /// A response to `probe` as fred would send it, with changes.
    fn forged(&self, probe: &Transmit, f: impl FnOnce(&mut TedResponse<'_>)) -> Transmit {
        let mut r = TedResponse::new(
            probe.payload[..8].try_into().unwrap(),
            [7; 8],
            FRED,
            Some(subnet_id([13, 13, 13, 0], 24)),
            subnet_id([12, 12, 12, 0], 24),
        );
        f(&mut r);
        Transmit {
            source: sock(FRED),
            destination: sock(DAPHNE),
            payload: r.to_message(ExchangeType::TED).to_vec().unwrap(),
            kind: ted::discovery::TransmitKind::TedResponse,
        }
    }
}

fn discovered(events: &[Event]) -> Option<&ted::discovery::Discovered> {
    events.iter().find_map(|e| match e {
        Event::Discovered(d) => Some(&**d),
        _ => None,
    })
}

fn response_drop(events: &[Event]) -> Option<ResponseDropReason> {
    events.iter().find_map(|e| match e {
        Event::ResponseDropped { reason, .. } => Some(*reason),
        _ => None,
    })
}

#[test]
fn one_pending_discovery_per_pair() {
    let mut p = Pair::new();
    let TriggerOutcome::Started(id) = p.trigger(p.at(0)) else {
        panic!()
    };
    // The ping's next echo requests: counted, not probed again.
    for n in 2..=4 {
        assert_eq!(
            p.trigger(p.at(1)),
            TriggerOutcome::Pending { id, triggers: n }
        );
    }
    assert_eq!(drain_transmits(&mut p.daphne).len(), 1);
    assert_eq!(p.daphne.stats().triggers, 4);
    assert_eq!(p.daphne.stats().triggers_pending, 3);
    assert_eq!(p.daphne.pending_count(), 1);
    let pending: Vec<_> = p.daphne.pending().collect();
    assert_eq!(pending[0].triggers, 4);
    assert_eq!(pending[0].destination, HOST_A1);

    // Another host behind fred is another pair: a second discovery.
    let other = ted::discovery::Trigger::from_config(
        &p.daphne_cfg,
        "tedtag",
        &ping(HOST_D1, Ipv4Addr::new(12, 12, 12, 99)),
    )
    .unwrap();
    assert!(matches!(
        p.daphne.handle_trigger(p.at(1), &mut p.rng, other),
        TriggerOutcome::Started(_)
    ));
    // Another host behind Daphne, to the same destination, is the same
    // local proxy: the same pair.
    let same = ted::discovery::Trigger::from_config(
        &p.daphne_cfg,
        "tedtag",
        &ping(Ipv4Addr::new(13, 13, 13, 15), HOST_A1),
    )
    .unwrap();
    assert!(matches!(
        p.daphne.handle_trigger(p.at(1), &mut p.rng, same),
        TriggerOutcome::Pending { id: i, triggers: 5 } if i == id
    ));
    assert_eq!(p.daphne.pending_count(), 2);

    // The response's Discovered event counts every trigger.
    let probe = drain_transmits(&mut p.daphne);
    assert_eq!(probe.len(), 1);
}

#[test]
fn lost_probe_is_retransmitted() {
    let mut p = Pair::new();
    p.trigger(p.at(0));
    let first = p.daphne.poll_transmit().unwrap();
    drain_events(&mut p.daphne);
    // The probe is lost; nothing happens before 10 s.
    assert!(p.run_timers_until(p.at(9)).is_empty());
    let resent = p.run_timers_until(p.at(10));
    assert_eq!(resent.len(), 1);
    let (at, second) = &resent[0];
    assert_eq!(*at, p.at(10));
    // The same probe, byte for byte (same cookie).
    assert_eq!(second, &first);
    let events = drain_events(&mut p.daphne);
    assert!(matches!(events[..], [Event::ProbeSent { attempt: 1, .. }]));
    // The retransmission gets through and is answered.
    let response = p.answer(p.at(10), second);
    let events = p.receive(p.at(10) + SECOND / 10, &response);
    let found = discovered(&events).unwrap();
    assert_eq!(found.probes_sent, 2);
    assert_eq!(found.round_trip, SECOND / 10);
    assert_eq!(p.daphne.stats().probes_retransmitted, 1);
    assert_eq!(p.daphne.poll_timeout(), None);
}

#[test]
fn lost_response_is_recovered_by_the_retransmission() {
    let mut p = Pair::new();
    p.trigger(p.at(0));
    let probe = p.daphne.poll_transmit().unwrap();
    let lost = p.answer(p.at(0), &probe);
    // The first response is lost; fred is stateless and answers the
    // retransmission again, with a fresh responder cookie.
    let resent = p.run_timers_until(p.at(10));
    let again = p.answer(p.at(10), &resent[0].1);
    assert_ne!(lost.payload[8..16], again.payload[8..16]);
    assert_eq!(lost.payload[..8], again.payload[..8]);
    assert_eq!(p.fred.stats().probes_answered, 2);
    drain_events(&mut p.daphne);
    let events = p.receive(p.at(10), &again);
    assert_eq!(discovered(&events).unwrap().peer, FRED);
    // The lost response turning up late finds nothing pending.
    let events = p.receive(p.at(11), &lost);
    assert_eq!(
        response_drop(&events),
        Some(ResponseDropReason::UnknownCookie)
    );
    assert_eq!(p.daphne.stats().discoveries_completed, 1);
}

#[test]
fn give_up_after_ios_schedule_then_hold_down() {
    let mut p = Pair::new();
    p.trigger(p.at(0));
    drain_transmits(&mut p.daphne);
    drain_events(&mut p.daphne);
    let resent = p.run_timers_until(p.at(120));
    // IOS's schedule: the probe at 0, then again at 10, 20, 30, 40, 50.
    let times: Vec<Duration> = resent.iter().map(|(t, _)| *t - p.t0).collect();
    assert_eq!(times, [10, 20, 30, 40, 50].map(Duration::from_secs));
    let events = drain_events(&mut p.daphne);
    let gave_up = events
        .iter()
        .find_map(|e| match e {
            Event::GaveUp {
                probes_sent,
                triggers,
                hold_down_until,
                destination,
                ..
            } => Some((*probes_sent, *triggers, *hold_down_until, *destination)),
            _ => None,
        })
        .unwrap();
    // Gave up at 60 s; held down for the default 30 s.
    assert_eq!(gave_up, (6, 1, Some(p.at(90)), HOST_A1));
    assert_eq!(p.daphne.pending_count(), 0);
    assert_eq!(p.daphne.poll_timeout(), None);
    assert_eq!(p.daphne.stats().probes_sent, 6);
    assert_eq!(p.daphne.stats().discoveries_failed, 1);

    // During the hold-down no probe goes out.
    assert_eq!(
        p.trigger(p.at(61)),
        TriggerOutcome::HeldDown { until: p.at(90) }
    );
    assert_eq!(
        p.trigger(p.at(89)),
        TriggerOutcome::HeldDown { until: p.at(90) }
    );
    assert!(p.daphne.poll_transmit().is_none());
    assert_eq!(p.daphne.stats().triggers_held_down, 2);
    let proxy = seed_trigger(&p.daphne_cfg).local_proxy;
    assert_eq!(
        p.daphne.held_down_until(p.at(80), &proxy, HOST_A1),
        Some(p.at(90))
    );
    // After it, a new discovery with a new cookie.
    let first_cookie = resent[0].1.payload[..8].to_vec();
    assert!(matches!(p.trigger(p.at(90)), TriggerOutcome::Started(_)));
    let probe = p.daphne.poll_transmit().unwrap();
    assert_ne!(probe.payload[..8], first_cookie[..]);
}

#[test]
fn custom_schedule_and_no_hold_down() {
    let mut settings = DiscoveryConfig::default();
    settings.retransmit_intervals = vec![SECOND, 2 * SECOND];
    settings.give_up_after = 4 * SECOND;
    settings.hold_down = Duration::ZERO;
    assert_eq!(settings.max_probes(), 3);
    assert_eq!(settings.lifetime(), 7 * SECOND);
    let mut p = Pair::with(settings);
    p.trigger(p.at(0));
    assert_eq!(drain_transmits(&mut p.daphne).len(), 1);
    let resent = p.run_timers_until(p.at(100));
    let times: Vec<Duration> = resent.iter().map(|(t, _)| *t - p.t0).collect();
    assert_eq!(times, [SECOND, 3 * SECOND]);
    let events = drain_events(&mut p.daphne);
    assert!(matches!(
        events.last(),
        Some(Event::GaveUp {
            hold_down_until: None,
            probes_sent: 3,
            ..
        })
    ));
    assert!(matches!(p.trigger(p.at(7)), TriggerOutcome::Started(_)));
}

/// A change to a forged response.
type Change = dyn Fn(&mut TedResponse<'_>);

#[test]
fn response_checks() {
    let zero_cookie = |r: &mut TedResponse<'_>| r.responder_cookie = [0; 8];
    let fqdn_id = |r: &mut TedResponse<'_>| r.responder_address.data = IdData::Fqdn(b"fred");
    let loopback =
        |r: &mut TedResponse<'_>| r.responder_address.data = IdData::Ipv4Addr(Ipv4Addr::LOCALHOST);
    let misses_host =
        |r: &mut TedResponse<'_>| r.proxy.responder_proxy = subnet_id([12, 12, 13, 0], 24);
    let wrong_echo =
        |r: &mut TedResponse<'_>| r.proxy.initiator_proxy = Some(subnet_id([13, 13, 0, 0], 16));
    let too_wide = |r: &mut TedResponse<'_>| r.proxy.responder_proxy = subnet_id([12, 0, 0, 0], 8);
    let fqdn_proxy =
        |r: &mut TedResponse<'_>| r.proxy.responder_proxy = IdRepr::new(IdData::Fqdn(b"x"));
    let cases: [(&Change, ResponseDropReason); 7] = [
        (&zero_cookie, ResponseDropReason::ZeroResponderCookie),
        (&fqdn_id, ResponseDropReason::BadAddressId),
        (&loopback, ResponseDropReason::NonUnicastAddress),
        (&misses_host, ResponseDropReason::ProxyMissesHost),
        (&wrong_echo, ResponseDropReason::ProxyMismatch),
        (&too_wide, ResponseDropReason::ProxyOutsidePolicy),
        (&fqdn_proxy, ResponseDropReason::UnsupportedProxy),
    ];
    let mut p = Pair::new();
    p.trigger(p.at(0));
    let probe = p.daphne.poll_transmit().unwrap();
    drain_events(&mut p.daphne);
    for (change, reason) in cases {
        let bad = p.forged(&probe, change);
        let events = p.receive(p.at(1), &bad);
        assert_eq!(response_drop(&events), Some(reason));
        // A bad response never ends the discovery.
        assert_eq!(p.daphne.pending_count(), 1);
    }
    assert_eq!(p.daphne.stats().responses_dropped_total(), 7);
    // A one-block proxy payload (the responder's proxy only) is accepted.
    let single = p.forged(&probe, |r| r.proxy.initiator_proxy = None);
    let events = p.receive(p.at(2), &single);
    let found = discovered(&events).unwrap();
    assert!(!found.echoed_local_proxy);
    assert_eq!(
        found.remote_proxy.to_string(),
        "12.12.12.0/255.255.255.0/0/0"
    );
}

#[test]
fn narrower_remote_proxy_is_accepted() {
    // fred may protect less than Daphne's ACL asks (a /25 holding the host).
    let mut p = Pair::new();
    p.trigger(p.at(0));
    let probe = p.daphne.poll_transmit().unwrap();
    let narrow = p.forged(&probe, |r| {
        r.proxy.responder_proxy = subnet_id([12, 12, 12, 0], 25)
    });
    let found = p.receive(p.at(1), &narrow);
    assert_eq!(
        discovered(&found).unwrap().remote_proxy.to_string(),
        "12.12.12.0/255.255.255.128/0/0"
    );
}

#[test]
fn optional_response_checks() {
    // Proxy outside the ACL is accepted when the check is off.
    let mut settings = DiscoveryConfig::default();
    settings.require_remote_proxy_in_acl = false;
    let mut p = Pair::with(settings);
    p.trigger(p.at(0));
    let probe = p.daphne.poll_transmit().unwrap();
    let wide = p.forged(&probe, |r| {
        r.proxy.responder_proxy = subnet_id([12, 0, 0, 0], 8)
    });
    assert!(discovered(&p.receive(p.at(1), &wide)).is_some());

    // 239 refused when asked; the response's source must be its ID when
    // asked.
    let mut settings = DiscoveryConfig::default();
    settings.accept_alternate_proxy_payload = false;
    settings.require_response_from_id_address = true;
    let mut p = Pair::with(settings);
    p.trigger(p.at(0));
    let probe = p.daphne.poll_transmit().unwrap();
    let alt = p.forged(&probe, |r| r.proxy.numbering = TedProxyNumbering::Alternate);
    assert_eq!(
        response_drop(&p.receive(p.at(1), &alt)),
        Some(ResponseDropReason::AlternateProxyPayload)
    );
    let mut elsewhere = p.forged(&probe, |_| {});
    elsewhere.source = sock(Ipv4Addr::new(11, 11, 11, 3));
    assert_eq!(
        response_drop(&p.receive(p.at(1), &elsewhere)),
        Some(ResponseDropReason::SourceMismatch)
    );
    let good = p.forged(&probe, |_| {});
    assert!(discovered(&p.receive(p.at(1), &good)).is_some());
}

#[test]
fn accepts_239_by_default() {
    let mut p = Pair::new();
    p.trigger(p.at(0));
    let probe = p.daphne.poll_transmit().unwrap();
    let alt = p.forged(&probe, |r| r.proxy.numbering = TedProxyNumbering::Alternate);
    let events = p.receive(p.at(1), &alt);
    assert_eq!(discovered(&events).unwrap().proxy_payload_type.0, 239);
}

#[test]
fn malformed_response_and_unknown_cookie() {
    let mut p = Pair::new();
    p.trigger(p.at(0));
    let probe = p.daphne.poll_transmit().unwrap();
    let mut good = p.forged(&probe, |_| {});
    // Truncated: malformed.
    let mut cut = good.clone();
    cut.payload.truncate(60);
    assert_eq!(
        response_drop(&p.receive(p.at(1), &cut)),
        Some(ResponseDropReason::Malformed)
    );
    // Unknown initiator cookie.
    good.payload[0] ^= 0xff;
    assert_eq!(
        response_drop(&p.receive(p.at(1), &good)),
        Some(ResponseDropReason::UnknownCookie)
    );
    assert_eq!(p.daphne.pending_count(), 1);
}

#[test]
fn max_pending_and_cancel() {
    let mut settings = DiscoveryConfig::default();
    settings.max_pending = 2;
    let mut p = Pair::with(settings);
    let now = p.at(0);
    let mut outcomes = Vec::new();
    for host in 1..=3u8 {
        let t = ted::discovery::Trigger::from_config(
            &p.daphne_cfg,
            "tedtag",
            &ping(HOST_D1, Ipv4Addr::new(12, 12, 12, host)),
        )
        .unwrap();
        outcomes.push(p.daphne.handle_trigger(now, &mut p.rng, t));
    }
    assert!(matches!(
        outcomes[..],
        [
            TriggerOutcome::Started(_),
            TriggerOutcome::Started(_),
            TriggerOutcome::TooManyPending
        ]
    ));
    assert_eq!(p.daphne.stats().triggers_refused, 1);
    let proxy = seed_trigger(&p.daphne_cfg).local_proxy;
    assert!(p.daphne.cancel(&proxy, Ipv4Addr::new(12, 12, 12, 1)));
    assert!(!p.daphne.cancel(&proxy, Ipv4Addr::new(12, 12, 12, 1)));
    assert!(!p.daphne.is_pending(&proxy, Ipv4Addr::new(12, 12, 12, 1)));
    assert!(p.daphne.is_pending(&proxy, Ipv4Addr::new(12, 12, 12, 2)));
    // Room again.
    let t = seed_trigger(&p.daphne_cfg);
    assert!(matches!(
        p.daphne.handle_trigger(now, &mut p.rng, t),
        TriggerOutcome::Started(_)
    ));
}

#[test]
fn zero_cookies_are_refused() {
    let mut p = Pair::new();
    // Four all-zero draws: no usable cookie.
    p.rng = ScriptedRng::new(1).with(&[0; 32]);
    assert_eq!(p.trigger(p.at(0)), TriggerOutcome::NoCookie);
    assert!(p.daphne.poll_transmit().is_none());
    // Three zero draws, then a good one.
    p.rng = ScriptedRng::new(1)
        .with(&[0; 24])
        .with(&[1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(matches!(p.trigger(p.at(0)), TriggerOutcome::Started(_)));
    assert_eq!(
        p.daphne.poll_transmit().unwrap().payload[..8],
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
}

#[test]
fn invalid_settings_are_refused() {
    let mut s = DiscoveryConfig::default();
    s.exchange_type = ExchangeType::IDENTITY_PROTECTION;
    assert_eq!(Discovery::new(s).unwrap_err(), ConfigError::ExchangeType(2));
    let mut s = DiscoveryConfig::default();
    s.vendor_id = Vec::new();
    assert_eq!(
        Discovery::new(s).unwrap_err(),
        ConfigError::VendorIdLength { len: 0 }
    );
    let mut s = DiscoveryConfig::default();
    s.capability_vendor_id = Some(vec![0; 256]);
    assert_eq!(
        Discovery::new(s).unwrap_err(),
        ConfigError::VendorIdLength { len: 256 }
    );
    let mut s = DiscoveryConfig::default();
    s.max_pending = 0;
    assert!(matches!(
        Discovery::new(s).unwrap_err(),
        ConfigError::ZeroLimit { .. }
    ));
}

#[test]
fn trigger_errors() {
    use ted::discovery::{Trigger, TriggerError};
    let config = daphne();
    // Not protected by the map.
    let err = Trigger::from_config(&config, "tedtag", &ping(HOST_D1, Ipv4Addr::new(8, 8, 8, 8)))
        .unwrap_err();
    assert!(matches!(err, TriggerError::NotProtected { .. }));
    // An entry without `discover`.
    let text = DAPHNE_CFG.replace("dynamic ted-map discover", "dynamic ted-map");
    let err =
        Trigger::from_config(&config_from(&text), "tedtag", &ping(HOST_D1, HOST_A1)).unwrap_err();
    assert_eq!(
        err,
        TriggerError::NoDiscover {
            map: "tedtag".into(),
            seq: 10
        }
    );
    // An ACL line that is no proxy pair.
    let text = DAPHNE_CFG.replace(
        "access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255",
        "access-list 101 permit icmp 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255 echo",
    );
    let err =
        Trigger::from_config(&config_from(&text), "tedtag", &ping(HOST_D1, HOST_A1)).unwrap_err();
    assert!(matches!(err, TriggerError::NoProxy { .. }), "{err}");
}
