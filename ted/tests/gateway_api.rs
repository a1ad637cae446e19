//! The gateway's inputs one by one: what it refuses to be built from, what
//! it does with each kind of packet, and what it reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod gateway_util;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Instant;

use esp::ip::{self as packet, Ipv4Header};
use gateway_util::*;
use netsim::scenario::{A1, D1, DAPHNE, FRED, FRED_INBOUND_SPI};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::gateway::{
    Datagram, Esp, EspDrop, Event, Gateway, GatewayError, GatewayOptions, Outside, Plaintext,
    PlaintextDrop, ShowCommand, TransmitKind,
};

/// A gateway on the seed's outside interface with the default options.
fn gateway(config: &str) -> Gateway {
    Gateway::new(
        parse(config),
        "FastEthernet0/0",
        entropy(),
        GatewayOptions::default(),
    )
    .unwrap()
}

fn entropy() -> Box<dyn ike_sm::Entropy + Send> {
    Box::new(ChaCha20Rng::seed_from_u64(9))
}

#[test]
fn refuses_what_cannot_run() {
    let cfg = parse(DAPHNE_CFG);
    let err = |r: Result<Gateway, GatewayError>| r.err().unwrap();
    assert_eq!(
        err(Gateway::new(
            cfg.clone(),
            "Serial0",
            entropy(),
            GatewayOptions::default()
        )),
        GatewayError::NoSuchInterface("Serial0".into())
    );
    // The inside interface has no crypto map.
    assert_eq!(
        err(Gateway::new(
            cfg.clone(),
            "FastEthernet0/1",
            entropy(),
            GatewayOptions::default()
        )),
        GatewayError::NoCryptoMap("FastEthernet0/1".into())
    );
    // A cap of zero cannot work.
    let mut o = GatewayOptions::default();
    o.caps.max_tunnels = 0;
    assert_eq!(
        err(Gateway::new(cfg.clone(), "FastEthernet0/0", entropy(), o)),
        GatewayError::ZeroCap("max_tunnels")
    );
    // A TED exchange type outside the private range.
    let mut o = GatewayOptions::default();
    o.discovery.exchange_type = isakmp_wire::ExchangeType(5);
    assert!(matches!(
        err(Gateway::new(cfg.clone(), "FastEthernet0/0", entropy(), o)),
        GatewayError::Discovery(_)
    ));
    // The abbreviation IOS accepts works, and the address is the map's.
    let gw = Gateway::new(cfg, "Fa0/0", entropy(), GatewayOptions::default()).unwrap();
    assert_eq!(gw.address(), DAPHNE);
    assert_eq!(gw.crypto_map(), "tedtag");
}

#[test]
fn parts_it_cannot_run_are_reported_not_changed() {
    let text = DAPHNE_CFG
        .replace(
            "crypto isakmp policy 10\n",
            "crypto isakmp policy 5\n authentication rsa-sig\ncrypto isakmp policy 10\n",
        )
        .replace(
            "crypto ipsec transform-set ted-transforms esp-des esp-md5-hmac",
            "crypto ipsec transform-set ted-transforms ah-sha-hmac esp-des",
        );
    let mut gw = gateway(&text);
    let events: Vec<Event> = std::iter::from_fn(|| gw.poll_event()).collect();
    let ignored: Vec<&String> = events
        .iter()
        .filter_map(|e| match e {
            Event::ConfigIgnored(s) => Some(s),
            _ => None,
        })
        .collect();
    assert!(
        ignored
            .iter()
            .any(|s| s.contains("policy 5") && s.contains("rsa-sig")),
        "{ignored:?}"
    );
    assert!(
        ignored
            .iter()
            .any(|s| s.contains("ted-transforms") && s.contains("AH")),
        "{ignored:?}"
    );
    // The RSA policy is not offered as something else: one policy remains.
    assert_eq!(gw.ike().config().policies.len(), 1);
    assert_eq!(gw.ike().config().policies[0].priority, 10);
    // With no usable transform set, a discovered peer cannot be followed.
    assert!(gw.ike().config().phase2_policies.is_empty());
}

#[test]
fn the_seed_translates_as_ios_reads_it() {
    let gw = gateway(DAPHNE_CFG);
    let ike = gw.ike().config();
    // Policy 10 with IOS's defaults: DES, SHA, group 1, 86400 s, PSK.
    assert_eq!(ike.policies, vec![ike_sm::IsakmpPolicy::ios_default(10)]);
    // The wildcard key is 0.0.0.0/0.
    assert_eq!(ike.pre_shared_keys.len(), 1);
    assert_eq!(
        ike.pre_shared_keys[0].scope,
        ike_sm::PskScope::Address {
            addr: "0.0.0.0".parse().unwrap(),
            prefix: 0
        }
    );
    assert_eq!(ike.pre_shared_keys[0].key.expose(), b"abc123");
    // The dynamic map as a phase-2 policy for any peer: ACL 101,
    // ted-transforms, no PFS, 3600 s / 4608000 KB.
    assert_eq!(ike.phase2_policies.len(), 1);
    let p = &ike.phase2_policies[0];
    assert_eq!(p.peer, None);
    assert_eq!(p.local_proxy.to_string(), "13.13.13.0/255.255.255.0/0/0");
    assert_eq!(p.remote_proxy.to_string(), "12.12.12.0/255.255.255.0/0/0");
    assert_eq!(p.transform_sets, vec![ike_sm::TransformSet::ios_seed()]);
    assert_eq!(p.pfs, None);
    assert_eq!(p.lifetime, ike_sm::Lifetime::IOS_IPSEC);
    // No keepalive configured: no DPD, and no DPD vendor ID (as IOS).
    assert!(ike.dpd.is_none());
    assert!(!ike.vendor_ids.dpd);
    assert!(!ike.trace, "debug is off by default");
}

#[test]
fn traffic_no_entry_protects_is_bypassed_untouched() {
    let mut gw = gateway(DAPHNE_CFG);
    let (mut buf, range) = echo_in_buffer(D1, Ipv4Addr::new(8, 8, 8, 8), b"x");
    let before = buf.clone();
    assert_eq!(
        gw.handle_plaintext(Instant::now(), &mut buf, range),
        Plaintext::Bypass
    );
    assert_eq!(buf, before);
    assert!(gw.poll_transmit().is_none());
    assert_eq!(gw.counters().plaintext_bypassed, 1);
}

#[test]
fn malformed_plaintext_is_dropped() {
    let mut gw = gateway(DAPHNE_CFG);
    let now = Instant::now();
    let mut buf = vec![0x45u8; 60];
    assert_eq!(
        gw.handle_plaintext(now, &mut buf, 10..15),
        Plaintext::Dropped(PlaintextDrop::Malformed)
    );
    // A range outside the buffer is no panic either.
    assert_eq!(
        gw.handle_plaintext(now, &mut buf, 50..90),
        Plaintext::Dropped(PlaintextDrop::Malformed)
    );
    #[allow(clippy::reversed_empty_ranges)]
    let reversed = 30..20;
    assert_eq!(
        gw.handle_plaintext(now, &mut buf, reversed),
        Plaintext::Dropped(PlaintextDrop::Malformed)
    );
    assert_eq!(gw.counters().plaintext_malformed, 3);
}

#[test]
fn protected_traffic_without_a_peer_starts_ted_once() {
    let mut gw = gateway(DAPHNE_CFG);
    let now = Instant::now();
    for n in 0..3 {
        let (mut buf, range) = echo_in_buffer(D1, A1, b"ping");
        assert_eq!(
            gw.handle_plaintext(now, &mut buf, range),
            Plaintext::Dropped(PlaintextDrop::Discovering),
            "packet {n}"
        );
    }
    // One probe for the pair, the later packets counted against it.
    let sent: Vec<_> = std::iter::from_fn(|| gw.poll_transmit()).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, TransmitKind::TedProbe);
    assert_eq!(sent[0].source, SocketAddrV4::new(D1, 500));
    assert_eq!(sent[0].destination, SocketAddrV4::new(A1, 500));
    assert_eq!(gw.counters().plaintext_discovering, 3);
    assert_eq!(gw.discovery().stats().triggers_pending, 2);
    // The retransmission is a timer.
    let at = gw.poll_timeout().unwrap();
    assert_eq!(at - now, std::time::Duration::from_secs(10));
    gw.handle_timeout(at);
    let again: Vec<_> = std::iter::from_fn(|| gw.poll_transmit()).collect();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].payload, sent[0].payload);
}

#[test]
fn static_and_peerless_entries() {
    // A static entry: its peer gets IKE at once; the packet is dropped.
    let text = "\
crypto isakmp policy 10
 authentication pre-share
crypto isakmp key abc123 address 11.11.11.2
crypto ipsec transform-set t esp-aes esp-sha-hmac
crypto dynamic-map dyn 10
 set transform-set t
 match address 102
crypto map m 10 ipsec-isakmp
 set peer 11.11.11.2
 set transform-set t
 match address 101
crypto map m 20 ipsec-isakmp
 set transform-set t
 match address 103
crypto map m 30 ipsec-isakmp dynamic dyn
interface FastEthernet0/0
 ip address 11.11.11.1 255.255.255.0
 crypto map m
access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255
access-list 102 permit ip 13.13.13.0 0.0.0.255 14.14.14.0 0.0.0.255
access-list 103 permit ip 13.13.13.0 0.0.0.255 15.15.15.0 0.0.0.255
";
    let mut gw = gateway(text);
    let now = Instant::now();
    let (mut buf, range) = echo_in_buffer(D1, A1, b"x");
    assert_eq!(
        gw.handle_plaintext(now, &mut buf, range.clone()),
        Plaintext::Dropped(PlaintextDrop::Negotiating)
    );
    let sent: Vec<_> = std::iter::from_fn(|| gw.poll_transmit()).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, TransmitKind::Ike);
    assert_eq!(sent[0].destination, SocketAddrV4::new(FRED, 500));
    // While IKE runs, more packets do not start more negotiations.
    let (mut buf, range) = echo_in_buffer(D1, A1, b"x");
    assert_eq!(
        gw.handle_plaintext(now, &mut buf, range),
        Plaintext::Dropped(PlaintextDrop::Negotiating)
    );
    assert!(gw.poll_transmit().is_none());
    // A static entry without a peer, and a dynamic one without
    // `discover`: nobody to negotiate with.
    for dst in [Ipv4Addr::new(15, 15, 15, 1), Ipv4Addr::new(14, 14, 14, 1)] {
        let (mut buf, range) = echo_in_buffer(D1, dst, b"x");
        assert_eq!(
            gw.handle_plaintext(now, &mut buf, range),
            Plaintext::Dropped(PlaintextDrop::NoPeer),
            "{dst}"
        );
    }
    assert!(gw.poll_transmit().is_none());
    assert_eq!(gw.counters().plaintext_no_peer, 2);
    assert_eq!(gw.counters().plaintext_negotiating, 2);
}

#[test]
fn the_phase1_mode_it_starts_is_an_option() {
    // A static entry's first packet starts phase 1; the ISAKMP header's
    // exchange type (octet 18, RFC 2408 s.3.1) says which: 2 Identity
    // Protection (Main Mode) by default, 4 Aggressive when asked for.
    let text = "\
crypto isakmp policy 10
 authentication pre-share
crypto isakmp key abc123 address 11.11.11.2
crypto ipsec transform-set t esp-aes esp-sha-hmac
crypto map m 10 ipsec-isakmp
 set peer 11.11.11.2
 set transform-set t
 match address 101
interface FastEthernet0/0
 ip address 11.11.11.1 255.255.255.0
 crypto map m
access-list 101 permit ip 13.13.13.0 0.0.0.255 12.12.12.0 0.0.0.255
";
    for (mode, exchange) in [
        (ike_sm::ExchangeMode::Main, 2u8),
        (ike_sm::ExchangeMode::Aggressive, 4u8),
    ] {
        let mut o = GatewayOptions::default();
        o.ike.phase1_mode = mode;
        let mut gw = Gateway::new(parse(text), "FastEthernet0/0", entropy(), o).unwrap();
        let (mut buf, range) = echo_in_buffer(D1, A1, b"x");
        assert_eq!(
            gw.handle_plaintext(Instant::now(), &mut buf, range),
            Plaintext::Dropped(PlaintextDrop::Negotiating)
        );
        let sent: Vec<_> = std::iter::from_fn(|| gw.poll_transmit()).collect();
        assert_eq!(sent.len(), 1, "{mode:?}");
        assert_eq!(sent[0].kind, TransmitKind::Ike);
        assert_eq!(sent[0].payload.get(18), Some(&exchange), "{mode:?}");
    }
}

#[test]
fn outside_cleartext_the_map_protects_is_dropped() {
    let mut gw = gateway(DAPHNE_CFG);
    let now = Instant::now();
    let icmp =
        |src, dst| packet::icmp_echo(Ipv4Header::new(src, dst, 0), true, 1, 1, b"pong").unwrap();
    // 12.12.12.13 -> 13.13.13.14 is the mirror of ACL 101: must come in ESP.
    assert_eq!(
        gw.handle_outside_plaintext(now, &icmp(A1, D1)),
        Outside::DroppedCleartext
    );
    assert_eq!(
        gw.handle_outside_plaintext(now, &icmp(Ipv4Addr::new(8, 8, 8, 8), D1)),
        Outside::Forward
    );
    assert_eq!(
        gw.handle_outside_plaintext(now, &[1, 2, 3]),
        Outside::DroppedMalformed
    );
    let c = gw.counters();
    assert_eq!(
        (
            c.outside_cleartext_dropped,
            c.outside_forwarded,
            c.outside_malformed
        ),
        (1, 1, 1)
    );
}

#[test]
fn udp_500_to_others_is_forwarded_unless_it_is_a_probe_for_us() {
    let mut gw = gateway(FRED_CFG);
    let now = Instant::now();
    let host = SocketAddrV4::new(A1, 500);
    let other = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 1), 500);
    // Not TED, to a host behind us: not ours.
    assert_eq!(
        gw.handle_datagram(now, host, other, b"not isakmp"),
        Datagram::Forward
    );
    // Garbage to our own address goes to IKE and is counted there.
    let own = SocketAddrV4::new(FRED, 500);
    assert_eq!(
        gw.handle_datagram(now, own, other, b"not isakmp"),
        Datagram::Consumed
    );
    assert_eq!(gw.ike().counters().malformed, 1);
    assert!(gw.poll_transmit().is_none());
}

#[test]
fn esp_for_an_unknown_spi_or_tampered_is_dropped() {
    let mut s = established();
    let now = s.net.now();
    // A fresh ESP packet from Daphne (sequence number 10, which fred has
    // not seen), not sent.
    let node = s.daphne;
    let (mut buf, range) = echo_in_buffer(D1, A1, b"fresh");
    let Plaintext::Encrypted { packet, .. } =
        gateway_mut(&mut s, node).handle_plaintext(now, &mut buf, range)
    else {
        panic!("not encrypted")
    };
    let esp = buf[packet].to_vec();
    let node = s.fred;
    let fred = gateway_mut(&mut s, node);
    // Tampered: the ICV does not verify; nothing comes out.
    let mut tampered = esp.clone();
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert!(matches!(
        fred.handle_esp(now, &mut tampered),
        Esp::Dropped(EspDrop::Decapsulation(
            esp::DecapError::AuthenticationFailed
        ))
    ));
    // As sent: decrypted to the echo request.
    let mut good = esp.clone();
    let Esp::Decrypted { packet, peer, .. } = fred.handle_esp(now, &mut good) else {
        panic!("not decrypted")
    };
    assert_eq!(peer, DAPHNE);
    let inner = esp::ip::Ipv4Packet::parse(&good[packet]).unwrap();
    assert_eq!((inner.header.source, inner.header.destination), (D1, A1));
    // Replayed: the window refuses it.
    let mut replayed = esp.clone();
    assert!(matches!(
        fred.handle_esp(now, &mut replayed),
        Esp::Dropped(EspDrop::Decapsulation(esp::DecapError::Replay { .. }))
    ));
    // Another SPI.
    let mut unknown = esp;
    unknown[20..24].copy_from_slice(&0x1234_5678u32.to_be_bytes());
    assert_eq!(
        fred.handle_esp(now, &mut unknown),
        Esp::Dropped(EspDrop::UnknownSpi(0x1234_5678))
    );
    assert_eq!(fred.counters().esp_unknown_spi, 1);
    assert_eq!(fred.counters().esp_refused, 2);
    // The established SA is none the worse: traffic still flows.
    let before = s.d1().unwrap().echo_replies().len();
    s.ping(2, std::time::Duration::from_secs(1));
    s.net.run_for(std::time::Duration::from_secs(3), 10_000);
    assert_eq!(s.d1().unwrap().echo_replies().len(), before + 2);
    assert_eq!(
        s.fred().unwrap().gateway().tunnels()[0].inbound_spi,
        FRED_INBOUND_SPI
    );
}

#[test]
fn encapsulation_needs_room_and_says_how_much() {
    let mut s = established();
    let now = s.net.now();
    let node = s.daphne;
    let daphne = gateway_mut(&mut s, node);
    let p = packet::icmp_echo(
        Ipv4Header::new(D1, A1, 0).with_ttl(64),
        false,
        1,
        1,
        b"abcd",
    )
    .unwrap();
    // No headroom at all.
    let mut buf = p.clone();
    buf.extend_from_slice(&[0; 64]);
    let before = buf.clone();
    let got = daphne.handle_plaintext(now, &mut buf, 0..p.len());
    // DES: outer header 20 + ESP header 8 + IV 8; padding to 8 with the
    // 2-byte trailer, and HMAC-MD5-96's 12-byte ICV.
    let pad = (8 - (p.len() + 2) % 8) % 8;
    assert_eq!(
        got,
        Plaintext::Dropped(PlaintextDrop::BufferTooSmall {
            headroom: 36,
            tailroom: pad + 2 + 12
        })
    );
    assert_eq!(buf, before, "nothing written");
    // With the room: encrypted in place, the outer header addressed to fred.
    let (mut buf, range) = echo_in_buffer(D1, A1, b"abcd");
    let Plaintext::Encrypted {
        packet,
        peer,
        spi,
        udp,
    } = daphne.handle_plaintext(now, &mut buf, range)
    else {
        panic!("not encrypted")
    };
    assert_eq!((peer, spi), (FRED, FRED_INBOUND_SPI));
    assert_eq!(udp, None, "no NAT: plain ESP");
    let outer = esp::ip::Ipv4Packet::parse(&buf[packet]).unwrap();
    assert_eq!(
        (
            outer.header.source,
            outer.header.destination,
            outer.header.protocol
        ),
        (DAPHNE, FRED, 50)
    );
}

#[test]
fn bytes_are_reported_for_kilobyte_lifetimes() {
    let mut s = network();
    // Ten echo requests of 1400 bytes of data; nine go through each way.
    if let Some(h) = s.net.node_mut::<netsim::Host>(s.d1) {
        *h = netsim::Host::new(D1, 24, Some(netsim::scenario::DAPHNE_INSIDE))
            .with_ping_data(&[0x5a; 1400]);
    }
    s.ping(10, std::time::Duration::from_secs(1));
    s.net.run_for(std::time::Duration::from_secs(12), 100_000);
    let gw = s.daphne().unwrap().gateway();
    let sas = gw.ike().ipsec_sas(s.net.now());
    assert_eq!(sas.len(), 1);
    // Inner packets of 20 + 8 + 1400 bytes, nine each way, both directions
    // counted against the pair's lifetime.
    let bytes: u64 = 2 * 9 * (20 + 8 + 1400);
    assert_eq!(sas[0].remaining_kilobytes, Some(4_608_000 - bytes / 1024));
    // show crypto ipsec sa counts each direction's own bytes.
    let text = gw.show(s.net.now(), ShowCommand::CryptoIpsecSa);
    let per_sa = 4_608_000 - 9 * (20 + 8 + 1400) / 1024;
    assert_eq!(
        text.matches(&format!("(k/sec): ({per_sa}/")).count(),
        2,
        "{text}"
    );
}
