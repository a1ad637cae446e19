//! Remote access between two engines: XAUTH and Mode-Config after Main
//! and Aggressive Mode, both roles, with the callers' parts (credentials,
//! verdicts, configuration) played by the test; retries, refusals,
//! timeouts, an empty pool, the assigned address as the only Quick Mode
//! identity the server accepts, and a phase-1 rekey asking for the same
//! address.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::*;
use ike_sm::{
    Config, DeletedBy, Event, ExchangeMode, Identity, IsakmpPolicy, IsakmpSaId, LocalIdentity,
    ModeCfgClientMode, ModeCfgServerMode, ModeConfig, Phase1Auth, Phase2Request, ProxyId, Role,
    SplitNetwork, TransformSet, XauthCredentials, XauthFailure,
};

const GROUP: &str = "ragroup";

fn xauth_policy() -> IsakmpPolicy {
    IsakmpPolicy {
        auth: Phase1Auth::XauthInitPreShared,
        ..IsakmpPolicy::new(10)
    }
}

/// The client (A): group name as KEY_ID, the group key, XAUTH policy.
fn client(mode: ExchangeMode) -> Config {
    let mut c = lab_config(b"groupkey");
    c.policies = vec![xauth_policy()];
    c.default_mode = mode;
    c.identity = LocalIdentity::Fixed(Identity::KeyId(GROUP.as_bytes().to_vec()));
    c
}

/// The server (B): the group key by identity (Aggressive Mode) and by
/// address (Main Mode), XAUTH policy.
fn server() -> Config {
    let mut c = lab_config(b"groupkey")
        .with_psk_for_identity(b"groupkey", Identity::KeyId(GROUP.as_bytes().to_vec()));
    c.policies = vec![xauth_policy()];
    c
}

fn lease(last: u8) -> ModeConfig {
    ModeConfig {
        address: Some(Ipv4Addr::new(10, 99, 0, last)),
        netmask: Some(Ipv4Addr::new(255, 255, 255, 0)),
        dns: vec![Ipv4Addr::new(10, 0, 0, 53), Ipv4Addr::new(10, 0, 0, 54)],
        domain: Some("example.test".into()),
        split_include: vec![SplitNetwork {
            address: Ipv4Addr::new(10, 0, 0, 0),
            mask: Ipv4Addr::new(255, 255, 255, 0),
            protocol: 0,
            source_port: 0,
            destination_port: 0,
        }],
        banner: Some("authorised users only".into()),
        save_password: Some(false),
        ..ModeConfig::default()
    }
}

/// Plays both callers: the client answers each XAUTH request with the
/// next of `passwords` (as "alice"), the server accepts "alice"/"secret"
/// and answers Mode-Config with `lease` (or refuses when `None`).
struct Callers {
    passwords: Vec<&'static [u8]>,
    lease: Option<ModeConfig>,
    answer_client: bool,
    a_seen: usize,
    b_seen: usize,
}

impl Callers {
    fn new(passwords: Vec<&'static [u8]>) -> Self {
        Self {
            passwords,
            lease: Some(lease(10)),
            answer_client: true,
            a_seen: 0,
            b_seen: 0,
        }
    }

    /// Drives the pair for `d` of virtual time, answering events as they
    /// come.
    fn run(&mut self, p: &mut Pair, d: Duration) {
        let end = p.now + d;
        while p.now < end {
            p.drive_for(Duration::from_millis(200));
            let new_a: Vec<Event> = p.a_events[self.a_seen..].to_vec();
            self.a_seen = p.a_events.len();
            for e in new_a {
                if let Event::XauthRequested(r) = e {
                    if !self.answer_client {
                        continue;
                    }
                    let pw = if self.passwords.is_empty() {
                        b"nothing".as_slice()
                    } else {
                        self.passwords.remove(0)
                    };
                    p.a.xauth_credentials(p.now, r.sa, &XauthCredentials::new("alice", pw))
                        .unwrap();
                }
            }
            let new_b: Vec<Event> = p.b_events[self.b_seen..].to_vec();
            self.b_seen = p.b_events.len();
            for e in new_b {
                match e {
                    Event::XauthVerify(v) => {
                        let ok = v.user == "alice" && v.password.expose() == b"secret";
                        p.b.xauth_verdict(p.now, v.sa, ok).unwrap();
                    }
                    Event::ModeCfgRequested(r) => match &self.lease {
                        Some(l) => p.b.mode_cfg_reply(p.now, r.sa, l).unwrap(),
                        None => p.b.mode_cfg_refuse(p.now, r.sa).unwrap(),
                    },
                    _ => {}
                }
            }
        }
    }
}

fn received(events: &[Event]) -> Vec<(IsakmpSaId, ModeConfig)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ModeCfgReceived { sa, config, .. } => Some((*sa, (**config).clone())),
            _ => None,
        })
        .collect()
}

fn qm_request(address: Ipv4Addr) -> Phase2Request {
    Phase2Request {
        local_proxy: ProxyId::host(IpAddr::V4(address)),
        remote_proxy: ProxyId::subnet("10.0.0.0".parse().unwrap(), 24),
        ..lab_request(vec![TransformSet::strong()])
    }
}

/// Phase 1, XAUTH with the right password, Mode-Config, then Quick Mode
/// from the assigned address.
fn full_run(mode: ExchangeMode, server_cfg: ModeCfgServerMode, client_cfg: ModeCfgClientMode) {
    let mut c = client(mode);
    c.remote_access.client_mode_cfg = client_cfg;
    let mut s = server();
    s.remote_access.server_mode_cfg = server_cfg;
    let mut p = pair_with(c, s);
    let mut callers = Callers::new(vec![b"secret"]);
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(5));

    // Both sides saw XAUTH complete for alice.
    for (events, role) in [
        (&p.a_events, Role::Initiator),
        (&p.b_events, Role::Responder),
    ] {
        assert!(
            events.iter().any(|e| matches!(e,
                Event::XauthCompleted { user, role: r, .. } if user == "alice" && *r == role)),
            "{role:?}: {events:#?}"
        );
    }
    // The server was asked with the right user and group.
    let verify = p
        .b_events
        .iter()
        .find_map(|e| match e {
            Event::XauthVerify(v) => Some(v.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(verify.attempt, 1);
    assert_eq!(verify.group, Identity::KeyId(GROUP.as_bytes().to_vec()));
    assert!(!format!("{verify:?}").contains("secret"));
    // The client got exactly the lease.
    let got = received(&p.a_events);
    assert_eq!(got.len(), 1, "{:#?}", p.a_events);
    let (sa, config) = &got[0];
    assert_eq!(config.address, Some(Ipv4Addr::new(10, 99, 0, 10)));
    assert_eq!(config.netmask, lease(10).netmask);
    assert_eq!(config.dns, lease(10).dns);
    assert_eq!(config.domain, lease(10).domain);
    assert_eq!(config.split_include, lease(10).split_include);
    assert_eq!(config.banner, lease(10).banner);
    assert_eq!(config.save_password, Some(false));
    assert!(p.b_events.iter().any(|e| matches!(e,
        Event::AddressAssigned { address, user: Some(u), .. }
            if *address == Ipv4Addr::new(10, 99, 0, 10) && u == "alice")));
    // Both views show the user and the address.
    let a_info = p.a.isakmp_sa(*sa, p.now).unwrap();
    assert_eq!(a_info.user.as_deref(), Some("alice"));
    assert_eq!(a_info.xauth_authenticated, Some(true));
    assert_eq!(a_info.mode_cfg_address, config.address);
    let b_info = &p.b.isakmp_sas(p.now)[0];
    assert_eq!(b_info.user.as_deref(), Some("alice"));
    assert_eq!(b_info.mode_cfg_address, config.address);

    // Quick Mode from the assigned address comes up.
    p.a.initiate(p.now, qm_request(config.address.unwrap()))
        .unwrap();
    callers.run(&mut p, Duration::from_secs(3));
    assert_eq!(Pair::established(&p.a_events).len(), 1);
    assert_eq!(Pair::established(&p.b_events).len(), 1);

    // Deleting the server's SA releases the address.
    let b_sa = b_info.id;
    p.b.delete_isakmp(p.now, b_sa).unwrap();
    callers.run(&mut p, Duration::from_secs(1));
    assert!(p.b_events.iter().any(|e| matches!(e,
        Event::AddressReleased { sa, address, .. }
            if *sa == b_sa && *address == Ipv4Addr::new(10, 99, 0, 10))));
}

#[test]
fn main_mode_xauth_then_mode_cfg_pull() {
    full_run(
        ExchangeMode::Main,
        ModeCfgServerMode::Pull,
        ModeCfgClientMode::Pull,
    );
}

#[test]
fn aggressive_mode_xauth_then_mode_cfg_pull() {
    full_run(
        ExchangeMode::Aggressive,
        ModeCfgServerMode::Pull,
        ModeCfgClientMode::Pull,
    );
}

#[test]
fn main_mode_xauth_then_mode_cfg_push() {
    full_run(
        ExchangeMode::Main,
        ModeCfgServerMode::Push,
        ModeCfgClientMode::Push,
    );
}

#[test]
fn a_pulling_client_accepts_a_push() {
    full_run(
        ExchangeMode::Aggressive,
        ModeCfgServerMode::Push,
        ModeCfgClientMode::Pull,
    );
}

#[test]
fn wrong_password_then_right_one() {
    let mut p = pair_with(client(ExchangeMode::Main), server());
    let mut callers = Callers::new(vec![b"wrong", b"secret"]);
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(5));
    let attempts: Vec<u8> = p
        .a_events
        .iter()
        .filter_map(|e| match e {
            Event::XauthRequested(r) => Some(r.attempt),
            _ => None,
        })
        .collect();
    assert_eq!(attempts, vec![1, 2]);
    assert_eq!(p.b.counters().xauth_rejected, 1);
    assert_eq!(p.b.counters().xauth_failed, 0);
    assert_eq!(received(&p.a_events).len(), 1);
}

#[test]
fn every_attempt_wrong_deletes_the_sa_on_both_sides() {
    let mut p = pair_with(client(ExchangeMode::Aggressive), server());
    let mut callers = Callers::new(vec![b"a", b"b", b"c", b"d"]);
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(10));
    assert_eq!(p.b.counters().xauth_rejected, 3);
    assert_eq!(p.b.counters().xauth_failed, 1);
    assert!(p.b_events.iter().any(|e| matches!(e,
        Event::XauthFailed { reason: XauthFailure::AttemptsExhausted, user: Some(u), .. } if u == "alice")));
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::XauthFailed {
            reason: XauthFailure::Rejected,
            ..
        }
    )));
    assert!(p.a.isakmp_sas(p.now).is_empty());
    assert!(p.b.isakmp_sas(p.now).is_empty());
    assert!(received(&p.a_events).is_empty());
    assert!(
        !p.b_events
            .iter()
            .any(|e| matches!(e, Event::AddressAssigned { .. }))
    );
}

#[test]
fn a_client_that_never_answers_times_out() {
    let mut p = pair_with(client(ExchangeMode::Main), server());
    let mut callers = Callers::new(vec![]);
    callers.answer_client = false;
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(90));
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::XauthFailed {
            reason: XauthFailure::Timeout,
            role: Role::Responder,
            ..
        }
    )));
    assert!(p.b.isakmp_sas(p.now).is_empty());
    // The client heard the Delete (or timed out itself): nothing is left.
    assert!(p.a.isakmp_sas(p.now).is_empty());
}

#[test]
fn cancel_deletes_the_sa() {
    let mut p = pair_with(client(ExchangeMode::Main), server());
    let mut callers = Callers::new(vec![]);
    callers.answer_client = false;
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(2));
    let sa = p
        .a_events
        .iter()
        .find_map(|e| match e {
            Event::XauthRequested(r) => Some(r.sa),
            _ => None,
        })
        .unwrap();
    p.a.xauth_cancel(p.now, sa).unwrap();
    callers.run(&mut p, Duration::from_secs(2));
    assert!(p.a_events.iter().any(|e| matches!(
        e,
        Event::XauthFailed {
            reason: XauthFailure::Cancelled,
            ..
        }
    )));
    assert!(p.a.isakmp_sas(p.now).is_empty());
    assert!(p.b.isakmp_sas(p.now).is_empty());
    assert!(p.b_events.iter().any(|e| matches!(
        e,
        Event::Deleted {
            by: DeletedBy::Peer,
            ..
        }
    )));
    // A second answer has nothing to answer.
    assert!(p.a.xauth_cancel(p.now, sa).is_err());
}

#[test]
fn an_empty_pool_is_a_clear_failure_that_disturbs_nothing() {
    let mut p = pair_with(client(ExchangeMode::Main), server());
    let mut callers = Callers::new(vec![b"secret"]);
    callers.lease = None;
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(5));
    let got = received(&p.a_events);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.address, None);
    assert_eq!(p.b.counters().mode_cfg_refused, 1);
    // The SA itself stays (the caller decides what to do).
    assert_eq!(p.b.isakmp_sas(p.now).len(), 1);
    assert!(
        !p.b_events
            .iter()
            .any(|e| matches!(e, Event::AddressAssigned { .. }))
    );
}

#[test]
fn the_server_accepts_only_the_assigned_address_in_quick_mode() {
    let mut p = pair_with(client(ExchangeMode::Main), server());
    let mut callers = Callers::new(vec![b"secret"]);
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(5));
    assert_eq!(received(&p.a_events).len(), 1);
    // Another client's address: refused.
    p.a.initiate(p.now, qm_request(Ipv4Addr::new(10, 99, 0, 11)))
        .unwrap();
    callers.run(&mut p, Duration::from_secs(3));
    assert!(Pair::established(&p.b_events).is_empty());
    assert_eq!(p.b.counters().invalid_id, 1);
}

#[test]
fn quick_mode_queued_before_mode_cfg_waits_for_it() {
    let mut p = pair_with(client(ExchangeMode::Aggressive), server());
    let mut callers = Callers::new(vec![b"secret"]);
    // Requested before phase 1 exists, for the address the lease will
    // give: held until XAUTH and Mode-Config are done, then it runs.
    p.a.initiate(p.now, qm_request(Ipv4Addr::new(10, 99, 0, 10)))
        .unwrap();
    callers.run(&mut p, Duration::from_secs(6));
    assert_eq!(Pair::established(&p.b_events).len(), 1);
    let qm_at = p
        .a_events
        .iter()
        .position(|e| matches!(e, Event::Phase2Established(_)))
        .unwrap();
    let cfg_at = p
        .a_events
        .iter()
        .position(|e| matches!(e, Event::ModeCfgReceived { .. }))
        .unwrap();
    assert!(cfg_at < qm_at);
}

#[test]
fn a_phase1_rekey_asks_for_the_same_address() {
    let mut c = client(ExchangeMode::Main);
    c.policies[0].lifetime = 600;
    let mut s = server();
    s.policies[0].lifetime = 600;
    let mut p = pair_with(c, s);
    let mut callers = Callers::new(vec![b"secret", b"secret"]);
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(5));
    // Past the soft lifetime (600 s less at most 120 s + 30 s of fuzz).
    callers.run(&mut p, Duration::from_secs(560));
    let asked: Vec<Option<Ipv4Addr>> = p
        .b_events
        .iter()
        .filter_map(|e| match e {
            Event::ModeCfgRequested(r) => Some(r.requested_address),
            _ => None,
        })
        .collect();
    assert_eq!(asked, vec![None, Some(Ipv4Addr::new(10, 99, 0, 10))]);
    assert_eq!(received(&p.a_events).len(), 2);
}

#[test]
fn a_client_offering_a_longer_lifetime_gets_the_servers() {
    // vpnc and the Cisco client offer 2147483 s.
    let mut c = client(ExchangeMode::Aggressive);
    c.policies[0].lifetime = 2_147_483;
    let mut s = server();
    s.policies[0].lifetime = 28_800;
    let mut p = pair_with(c, s);
    let mut callers = Callers::new(vec![b"secret"]);
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(5));
    let lifetime = |events: &[Event]| -> Vec<u32> {
        events
            .iter()
            .filter_map(|e| match e {
                Event::Phase1Established(e) => Some(e.suite.lifetime),
                _ => None,
            })
            .collect()
    };
    // The server keeps its own; the client, which saw its transform
    // echoed (RFC 2408 s.4.2), its offer: the server's expiry ends it.
    assert_eq!(lifetime(&p.b_events), vec![28_800]);
    assert_eq!(lifetime(&p.a_events), vec![2_147_483]);
    // Without XAUTH the rule stays: a longer offer is refused.
    let mut c = lab_config(b"k");
    c.policies[0].lifetime = 2_147_483;
    let mut s = lab_config(b"k");
    s.policies[0].lifetime = 28_800;
    let mut p = pair_with(c, s);
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    p.drive();
    assert!(
        !p.b_events
            .iter()
            .any(|e| matches!(e, Event::Phase1Established(_)))
    );
}

#[test]
fn commands_without_a_pending_step_are_refused() {
    let mut p = pair_with(client(ExchangeMode::Main), server());
    let mut callers = Callers::new(vec![b"secret"]);
    p.a.initiate_phase1(p.now, p.b_addr, p.a_addr).unwrap();
    callers.run(&mut p, Duration::from_secs(5));
    let a_sa = received(&p.a_events)[0].0;
    let b_sa = p.b.isakmp_sas(p.now)[0].id;
    let now = p.now;
    assert!(
        p.a.xauth_credentials(now, a_sa, &XauthCredentials::new("x", b"y"))
            .is_err()
    );
    assert!(p.b.xauth_verdict(now, b_sa, true).is_err());
    assert!(p.b.mode_cfg_reply(now, b_sa, &lease(12)).is_err());
    assert!(p.b.mode_cfg_refuse(now, b_sa).is_err());
    let debug = format!("{:?}", XauthCredentials::new("alice", b"hunter2"));
    assert!(!debug.contains("hunter2"));
}

/// Several endpoints on one link, delivered by destination address.
struct Net {
    eps: Vec<(std::net::SocketAddr, ike_sm::Endpoint)>,
    events: Vec<Vec<Event>>,
    now: std::time::Instant,
}

impl Net {
    #[allow(clippy::needless_range_loop)]
    fn step(&mut self, answer: &[bool]) {
        let mut moved = true;
        let mut rounds = 0;
        while moved && rounds < 1000 {
            rounds += 1;
            moved = false;
            for i in 0..self.eps.len() {
                while let Some(t) = self.eps[i].1.poll_transmit() {
                    if let Some(j) = self.eps.iter().position(|(a, _)| *a == t.remote) {
                        let now = self.now;
                        self.eps[j]
                            .1
                            .handle_datagram(now, t.remote, t.local, &t.data);
                        moved = true;
                    }
                }
                while let Some(e) = self.eps[i].1.poll_event() {
                    let now = self.now;
                    match &e {
                        Event::XauthRequested(r) if answer[i] => {
                            let c = XauthCredentials::new("alice", b"secret");
                            self.eps[i].1.xauth_credentials(now, r.sa, &c).unwrap();
                            moved = true;
                        }
                        Event::XauthVerify(v) => {
                            let ok = v.password.expose() == b"secret";
                            self.eps[i].1.xauth_verdict(now, v.sa, ok).unwrap();
                            moved = true;
                        }
                        Event::ModeCfgRequested(r) => {
                            let last = 10 + u8::try_from(r.peer.ip().to_string().len()).unwrap();
                            self.eps[i]
                                .1
                                .mode_cfg_reply(now, r.sa, &lease(last))
                                .unwrap();
                            moved = true;
                        }
                        _ => {}
                    }
                    self.events[i].push(e);
                }
            }
        }
    }

    fn run(&mut self, d: Duration, answer: &[bool]) {
        let end = self.now + d;
        while self.now < end {
            self.step(answer);
            self.now += Duration::from_millis(250);
            for (_, ep) in &mut self.eps {
                ep.handle_timeout(self.now);
            }
        }
        self.step(answer);
    }
}

#[test]
fn a_flood_of_clients_without_passwords_is_bounded_and_established_users_keep_working() {
    use std::sync::Arc;
    let mut s = server();
    s.limits.half_open_total = 4;
    s.limits.half_open_per_peer = 4;
    let server_addr = addr("10.0.0.2:500");
    let mut eps = vec![(
        server_addr,
        ike_sm::Endpoint::new(Arc::new(s), Box::new(rng(50))),
    )];
    // Client 1 is a real user; 2..=7 know the group key but never answer.
    for i in 1..=7u8 {
        eps.push((
            addr(&format!("10.0.1.{i}:500")),
            ike_sm::Endpoint::new(Arc::new(client(ExchangeMode::Main)), Box::new(rng(50 + i))),
        ));
    }
    let answer: Vec<bool> = (0..eps.len()).map(|i| i == 1).collect();
    let n = eps.len();
    let mut net = Net {
        eps,
        events: vec![Vec::new(); n],
        now: std::time::Instant::now(),
    };
    // The real user logs in first.
    let now = net.now;
    let user_addr = net.eps[1].0;
    net.eps[1]
        .1
        .initiate_phase1(now, server_addr, user_addr)
        .unwrap();
    net.run(Duration::from_secs(3), &answer);
    assert_eq!(
        received(&net.events[1]).len(),
        1,
        "{:#?}\n{:#?}",
        net.events[1],
        net.events[0]
    );
    // The flood, one client after the other (each completes phase 1
    // before the next starts, unless it is refused).
    for i in 2..n {
        let a = net.eps[i].0;
        let now = net.now;
        net.eps[i].1.initiate_phase1(now, server_addr, a).unwrap();
        net.run(Duration::from_secs(2), &answer);
    }
    let server_sas = net.eps[0].1.isakmp_sas(net.now);
    let pending = server_sas
        .iter()
        .filter(|s| s.xauth_authenticated == Some(false))
        .count();
    assert_eq!(pending, 4, "{server_sas:#?}");
    assert!(net.eps[0].1.counters().half_open_limit >= 2);
    // The real user's SA still runs Quick Mode during the flood.
    let now = net.now;
    net.eps[1]
        .1
        .initiate(
            now,
            Phase2Request {
                local: user_addr,
                peer: server_addr,
                ..qm_request(received(&net.events[1])[0].1.address.unwrap())
            },
        )
        .unwrap();
    net.run(Duration::from_secs(3), &answer);
    assert_eq!(Pair::established(&net.events[1]).len(), 1);
    // The pending ones time out (clients refused earlier may have taken
    // their places since, within the same cap); the user's SA stays.
    let first: Vec<_> = server_sas
        .iter()
        .filter(|s| s.xauth_authenticated == Some(false))
        .map(|s| s.id)
        .collect();
    net.run(Duration::from_secs(70), &answer);
    let now_sas = net.eps[0].1.isakmp_sas(net.now);
    assert!(
        now_sas.iter().all(|s| !first.contains(&s.id)),
        "{now_sas:#?}"
    );
    assert!(
        now_sas
            .iter()
            .filter(|s| s.xauth_authenticated == Some(false))
            .count()
            <= 4
    );
    assert!(
        now_sas
            .iter()
            .any(|s| s.xauth_authenticated == Some(true) && s.remote == user_addr)
    );
}
