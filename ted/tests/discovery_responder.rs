//! The responder: which probes are answered, which are not and why, and
//! the rate limit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod discovery_util;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use discovery_util::*;
use isakmp_wire::{ExchangeType, IdData, IdRepr, TedProbe};
use ted::config::Config;
use ted::discovery::{
    Datagram, Discovery, DiscoveryConfig, Disposition, Event, ProbeDropReason, RateLimit,
};

fn subnet_id(a: [u8; 4], bits: u8) -> IdRepr<'static> {
    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
    IdRepr::new(IdData::Ipv4Subnet {
        address: Ipv4Addr::from(a),
        mask: Ipv4Addr::from(mask),
    })
}

/// A probe built with the wire crate: cookie, ID address, proxy.
fn probe_bytes(cookie: u8, address: Ipv4Addr, proxy: IdRepr<'_>) -> Vec<u8> {
    TedProbe::new([cookie; 8], address, proxy)
        .to_message(ExchangeType::TED)
        .to_vec()
        .unwrap()
}

fn seed_probe(cookie: u8) -> Vec<u8> {
    probe_bytes(cookie, DAPHNE, subnet_id([13, 13, 13, 0], 24))
}

struct Responder {
    d: Discovery,
    config: Config,
    rng: ScriptedRng,
}

impl Responder {
    fn new(config: Config) -> Self {
        Self::with(config, DiscoveryConfig::default())
    }

    fn with(config: Config, settings: DiscoveryConfig) -> Self {
        Self {
            d: Discovery::new(settings).unwrap(),
            config,
            rng: ScriptedRng::new(11),
        }
    }

    fn offer(&mut self, now: Instant, src: Ipv4Addr, dst: Ipv4Addr, bytes: &[u8]) -> Disposition {
        self.d.handle_datagram(
            now,
            &mut self.rng,
            &self.config,
            Datagram::new(sock(src), sock(dst), bytes),
        )
    }

    /// Offers a probe and returns the reason it was dropped (asserting that
    /// nothing was sent), or `None` if it was answered.
    fn verdict(&mut self, src: Ipv4Addr, dst: Ipv4Addr, bytes: &[u8]) -> Option<ProbeDropReason> {
        self.offer(Instant::now(), src, dst, bytes);
        let sent = drain_transmits(&mut self.d);
        let events = drain_events(&mut self.d);
        let dropped = events.iter().find_map(|e| match e {
            Event::ProbeDropped { reason, .. } => Some(*reason),
            _ => None,
        });
        let answered = events.iter().any(|e| matches!(e, Event::ProbeAnswered(_)));
        assert_eq!(answered, dropped.is_none(), "{events:?}");
        assert_eq!(sent.len(), usize::from(answered));
        dropped
    }
}

#[test]
fn seed_probe_is_answered() {
    let mut r = Responder::new(fred());
    assert_eq!(r.verdict(HOST_D1, HOST_A1, &seed_probe(1)), None);
    assert_eq!(r.d.stats().probes_answered, 1);
}

#[test]
fn non_mirrored_acl_is_not_answered() {
    // fred's ACL 101 as Daphne's (not a mirror): 12.12.12.13 is not under
    // its source.
    let text = FRED_CFG.replace(
        "access-list 101 permit ip 12.12.12.0 0.0.0.255 13.13.13.0 0.0.0.255",
        "access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255",
    );
    assert_ne!(text, FRED_CFG);
    let mut r = Responder::new(config_from(&text));
    let disposition = r.offer(Instant::now(), HOST_D1, HOST_A1, &seed_probe(1));
    // Not ours: a router passes it on.
    assert_eq!(disposition, Disposition::PassOn);
    assert!(r.d.poll_transmit().is_none());
    assert_eq!(r.d.stats().probes_dropped(ProbeDropReason::NotMirrored), 1);
    let events = drain_events(&mut r.d);
    assert!(matches!(
        events.last(),
        Some(Event::ProbeDropped {
            reason: ProbeDropReason::NotMirrored,
            ..
        })
    ));
}

#[test]
fn probe_proxy_wider_than_acl_destination_is_not_answered() {
    let mut r = Responder::new(fred());
    let probe = probe_bytes(1, DAPHNE, subnet_id([13, 13, 0, 0], 16));
    assert_eq!(
        r.verdict(Ipv4Addr::new(13, 13, 13, 14), HOST_A1, &probe),
        Some(ProbeDropReason::NotMirrored)
    );
    // A narrower proxy is inside the ACL's destination: answered.
    let probe = probe_bytes(2, DAPHNE, subnet_id([13, 13, 13, 0], 25));
    assert_eq!(r.verdict(HOST_D1, HOST_A1, &probe), None);
}

#[test]
fn probed_host_outside_acl_source_is_not_answered() {
    let mut r = Responder::new(fred());
    assert_eq!(
        r.verdict(HOST_D1, Ipv4Addr::new(12, 12, 13, 1), &seed_probe(1)),
        Some(ProbeDropReason::NotMirrored)
    );
}

#[test]
fn deny_before_permit_wins() {
    let text = FRED_CFG.replace(
        "access-list 101 permit ip 12.12.12.0 0.0.0.255 13.13.13.0 0.0.0.255",
        "access-list 101 deny ip host 12.12.12.13 13.13.13.0 0.0.0.127\n\
         access-list 101 permit ip 12.12.12.0 0.0.0.255 13.13.13.0 0.0.0.255",
    );
    let mut r = Responder::new(config_from(&text));
    // The deny overlaps the probe's proxy for this host: no answer.
    assert_eq!(
        r.verdict(HOST_D1, HOST_A1, &seed_probe(1)),
        Some(ProbeDropReason::NotMirrored)
    );
    // Another host is past the deny: answered.
    assert_eq!(
        r.verdict(HOST_D1, Ipv4Addr::new(12, 12, 12, 14), &seed_probe(2)),
        None
    );
}

#[test]
fn static_entry_mirrors_too() {
    // A responder needs no `discover` and no dynamic map.
    let text = "\
hostname alice
crypto ipsec transform-set t esp-3des esp-sha-hmac
crypto map vpn 20 ipsec-isakmp
 set peer 11.11.11.1
 set transform-set t
 match address 150
interface FastEthernet0/0
 ip address 11.11.11.2 255.255.255.0
 crypto map vpn
interface FastEthernet0/1
 ip address 12.12.12.12 255.255.255.0
access-list 150 permit ip 12.12.12.0 0.0.0.255 13.13.13.0 0.0.0.255
";
    let mut r = Responder::new(config_from(text));
    r.offer(Instant::now(), HOST_D1, HOST_A1, &seed_probe(1));
    let events = drain_events(&mut r.d);
    let answer = events
        .iter()
        .find_map(|e| match e {
            Event::ProbeAnswered(a) => Some(a),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        (answer.map.as_str(), answer.map_seq, answer.template_seq),
        ("vpn", 20, None)
    );
}

#[test]
fn ingress_crypto_map_limits_the_search() {
    let config = fred();
    let mut d = discovery();
    let mut rng = ScriptedRng::new(3);
    let probe = seed_probe(1);
    let dgram = Datagram::new(sock(HOST_D1), sock(HOST_A1), &probe);
    assert_eq!(
        d.handle_datagram(
            Instant::now(),
            &mut rng,
            &config,
            dgram.with_crypto_map("other")
        ),
        Disposition::PassOn
    );
    assert_eq!(
        d.handle_datagram(
            Instant::now(),
            &mut rng,
            &config,
            dgram.with_crypto_map("tedtag")
        ),
        Disposition::Consumed
    );
    assert_eq!(d.stats().probes_answered, 1);
}

#[test]
fn forged_id_addresses_are_not_answered() {
    let mut r = Responder::new(fred());
    let cases: [(Ipv4Addr, ProbeDropReason); 10] = [
        (
            Ipv4Addr::new(0, 0, 0, 0),
            ProbeDropReason::NonUnicastAddress,
        ),
        (
            Ipv4Addr::new(0, 1, 2, 3),
            ProbeDropReason::NonUnicastAddress,
        ),
        (
            Ipv4Addr::new(127, 0, 0, 1),
            ProbeDropReason::NonUnicastAddress,
        ),
        (
            Ipv4Addr::new(224, 0, 0, 5),
            ProbeDropReason::NonUnicastAddress,
        ),
        (
            Ipv4Addr::new(239, 255, 255, 250),
            ProbeDropReason::NonUnicastAddress,
        ),
        (
            Ipv4Addr::new(240, 0, 0, 1),
            ProbeDropReason::NonUnicastAddress,
        ),
        (
            Ipv4Addr::new(255, 255, 255, 255),
            ProbeDropReason::NonUnicastAddress,
        ),
        // fred itself, its subnet's broadcast, and a host it protects.
        (FRED, ProbeDropReason::ReflectedAddress),
        (
            Ipv4Addr::new(11, 11, 11, 255),
            ProbeDropReason::ReflectedAddress,
        ),
        (
            Ipv4Addr::new(12, 12, 12, 50),
            ProbeDropReason::ReflectedAddress,
        ),
    ];
    for (i, (address, reason)) in cases.into_iter().enumerate() {
        let probe = probe_bytes(
            u8::try_from(i + 1).unwrap(),
            address,
            subnet_id([13, 13, 13, 0], 24),
        );
        assert_eq!(
            r.verdict(HOST_D1, HOST_A1, &probe),
            Some(reason),
            "{address}"
        );
    }
    assert_eq!(
        r.d.stats()
            .probes_dropped(ProbeDropReason::NonUnicastAddress),
        7
    );
    assert_eq!(
        r.d.stats()
            .probes_dropped(ProbeDropReason::ReflectedAddress),
        3
    );
    assert_eq!(r.d.stats().probes_answered, 0);
    // And an ordinary address elsewhere is fine.
    let probe = probe_bytes(
        99,
        Ipv4Addr::new(198, 51, 100, 7),
        subnet_id([13, 13, 13, 0], 24),
    );
    assert_eq!(r.verdict(HOST_D1, HOST_A1, &probe), None);
}

#[test]
fn address_inside_probe_proxy_only_when_asked() {
    let inside = probe_bytes(
        1,
        Ipv4Addr::new(13, 13, 13, 1),
        subnet_id([13, 13, 13, 0], 24),
    );
    let mut r = Responder::new(fred());
    assert_eq!(r.verdict(HOST_D1, HOST_A1, &inside), None);
    let mut settings = DiscoveryConfig::default();
    settings.reject_address_in_probe_proxy = true;
    let mut r = Responder::with(fred(), settings);
    assert_eq!(
        r.verdict(HOST_D1, HOST_A1, &inside),
        Some(ProbeDropReason::AddressInProbeProxy)
    );
}

#[test]
fn source_outside_proxy_is_dropped_unless_allowed() {
    let mut r = Responder::new(fred());
    assert_eq!(
        r.verdict(Ipv4Addr::new(14, 0, 0, 1), HOST_A1, &seed_probe(1)),
        Some(ProbeDropReason::SourceOutsideProxy)
    );
    let mut settings = DiscoveryConfig::default();
    settings.require_source_in_proxy = false;
    let mut r = Responder::with(fred(), settings);
    assert_eq!(
        r.verdict(Ipv4Addr::new(14, 0, 0, 1), HOST_A1, &seed_probe(1)),
        None
    );
}

#[test]
fn unusable_ids_are_dropped() {
    let mut r = Responder::new(fred());
    // Proxy with a non-contiguous mask.
    let odd = IdRepr::new(IdData::Ipv4Subnet {
        address: Ipv4Addr::new(13, 13, 13, 0),
        mask: Ipv4Addr::new(255, 0, 255, 0),
    });
    assert_eq!(
        r.verdict(HOST_D1, HOST_A1, &probe_bytes(1, DAPHNE, odd)),
        Some(ProbeDropReason::UnsupportedProxy)
    );
    // Proxy as an FQDN.
    let fqdn = IdRepr::new(IdData::Fqdn(b"daphne.example"));
    assert_eq!(
        r.verdict(HOST_D1, HOST_A1, &probe_bytes(2, DAPHNE, fqdn)),
        Some(ProbeDropReason::UnsupportedProxy)
    );
    // First ID not an IPv4 address.
    let mut probe = TedProbe::new([3; 8], DAPHNE, subnet_id([13, 13, 13, 0], 24));
    probe.initiator_address = IdRepr::new(IdData::Fqdn(b"daphne"));
    let bytes = probe.to_message(ExchangeType::TED).to_vec().unwrap();
    assert_eq!(
        r.verdict(HOST_D1, HOST_A1, &bytes),
        Some(ProbeDropReason::BadAddressId)
    );
    // A host proxy (ID_IPV4_ADDR) of the probe's source is fine.
    let host = IdRepr::new(IdData::Ipv4Addr(HOST_D1));
    assert_eq!(
        r.verdict(HOST_D1, HOST_A1, &probe_bytes(4, DAPHNE, host)),
        None
    );
}

#[test]
fn malformed_and_foreign_datagrams() {
    let mut r = Responder::new(fred());
    let now = Instant::now();
    // Not ISAKMP at all, and Main Mode: not TED, left to the caller.
    assert_eq!(
        r.offer(now, HOST_D1, HOST_A1, b"hello"),
        Disposition::NotTed
    );
    let mut main_mode = seed_probe(1);
    main_mode[18] = 2;
    assert_eq!(
        r.offer(now, HOST_D1, HOST_A1, &main_mode),
        Disposition::NotTed
    );
    // TED exchange type with a broken chain, a truncated message, a probe
    // with the message ID set, and with the encryption flag.
    let good = seed_probe(1);
    let mut broken = good.clone();
    broken[31] = 0xff; // VID length beyond the message
    let truncated = good[..40].to_vec();
    let mut msgid = good.clone();
    msgid[23] = 1;
    let mut encrypted = good.clone();
    encrypted[19] = 1;
    for bytes in [&broken, &truncated, &msgid, &encrypted] {
        assert_eq!(r.offer(now, HOST_D1, HOST_A1, bytes), Disposition::Consumed);
    }
    assert!(r.d.poll_transmit().is_none());
    assert_eq!(r.d.stats().probes_dropped(ProbeDropReason::Malformed), 4);
    assert_eq!(r.d.stats().probes_received, 4);
}

#[test]
fn flood_is_rate_limited() {
    let mut r = Responder::new(fred());
    let t0 = Instant::now();
    let mut answered = 0;
    for i in 0..100u32 {
        let mut probe = seed_probe(0);
        probe[..4].copy_from_slice(&i.to_be_bytes());
        probe[7] = 1;
        r.offer(t0, HOST_D1, HOST_A1, &probe);
        answered += drain_transmits(&mut r.d).len();
    }
    // The default bucket: burst 20.
    assert_eq!(answered, 20);
    assert_eq!(r.d.stats().probes_dropped(ProbeDropReason::RateLimited), 80);
    // 10 a second refill: after 1.55 s, 15 more; the bucket holds whole
    // tokens and carries the 50 ms left over.
    let t1 = t0 + Duration::from_millis(1550);
    let mut later = 0;
    for i in 0..40u32 {
        let mut probe = seed_probe(0);
        probe[..4].copy_from_slice(&(1000 + i).to_be_bytes());
        probe[7] = 1;
        r.offer(t1, HOST_D1, HOST_A1, &probe);
        later += drain_transmits(&mut r.d).len();
    }
    assert_eq!(later, 15);
    // With the 50 ms carried over, 50 ms later there is one more.
    let t2 = t1 + Duration::from_millis(50);
    assert_eq!(r.d.responder_tokens(t2), 1);
}

#[test]
fn custom_rate_limit() {
    let mut settings = DiscoveryConfig::default();
    settings.responder_rate = RateLimit {
        per_second: 0,
        burst: 2,
    };
    let mut r = Responder::with(fred(), settings);
    let now = Instant::now();
    let verdicts: Vec<_> = (1..=4u8)
        .map(|c| r.verdict(HOST_D1, HOST_A1, &seed_probe(c)))
        .collect();
    assert_eq!(
        verdicts,
        [
            None,
            None,
            Some(ProbeDropReason::RateLimited),
            Some(ProbeDropReason::RateLimited)
        ]
    );
    // A bucket that never refills stays empty.
    assert_eq!(r.d.responder_tokens(now + Duration::from_secs(3600)), 0);
}

#[test]
fn events_and_transmits_are_bounded() {
    let mut settings = DiscoveryConfig::default();
    settings.max_queued_events = 3;
    settings.max_queued_transmits = 2;
    let mut r = Responder::with(fred(), settings);
    let now = Instant::now();
    for c in 1..=5u8 {
        r.offer(now, HOST_D1, HOST_A1, &seed_probe(c));
    }
    assert_eq!(drain_transmits(&mut r.d).len(), 2);
    assert_eq!(drain_events(&mut r.d).len(), 3);
    assert_eq!(r.d.stats().probes_answered, 2);
    assert_eq!(r.d.stats().probes_dropped(ProbeDropReason::QueueFull), 3);
    assert!(r.d.stats().events_dropped > 0);
}

#[test]
fn response_goes_to_the_id_port_500_whatever_the_probe_came_from() {
    let mut r = Responder::new(fred());
    let probe = seed_probe(1);
    r.d.handle_datagram(
        Instant::now(),
        &mut r.rng,
        &r.config,
        Datagram::new(SocketAddrV4::new(HOST_D1, 4500), sock(HOST_A1), &probe),
    );
    let response = r.d.poll_transmit().unwrap();
    assert_eq!(response.destination, SocketAddrV4::new(DAPHNE, 500));
    assert_eq!(response.source, SocketAddrV4::new(FRED, 500));
}

#[test]
fn a_probe_gets_a_reply_no_larger_than_twice_itself_and_no_state() {
    // Exposure before authentication (issue 19): the responder answers a
    // probe it mirrors with one response, never resent, and keeps nothing.
    let mut r = Responder::new(fred());
    let probe = seed_probe(1);
    r.offer(Instant::now(), HOST_D1, HOST_A1, &probe);
    let sent = drain_transmits(&mut r.d);
    assert_eq!(sent.len(), 1);
    let out = sent[0].payload.len();
    let ratio = out as f64 / probe.len() as f64;
    println!(
        "TED probe: {} bytes in, {out} bytes out, ratio {ratio:.2}",
        probe.len()
    );
    assert!(ratio <= 2.0, "ratio {ratio:.2}");
    // Nothing more later: no retransmission, no timer.
    assert!(r.d.poll_timeout().is_none());
    // A probe it does not mirror: nothing at all.
    let other = probe_bytes(2, DAPHNE, subnet_id([10, 9, 9, 0], 24));
    r.offer(Instant::now(), HOST_D1, HOST_A1, &other);
    assert!(drain_transmits(&mut r.d).is_empty());
}
