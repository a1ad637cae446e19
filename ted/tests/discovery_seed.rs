//! The seed's discovery, end to end at the discovery level: Daphne (the
//! initiator, configured by daphne.cfg) probes for 12.12.12.13, fred (the
//! responder, fred.cfg) answers, and Daphne learns its peer and the
//! proxies, as docs/seed.md's tables show.
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
use ted::acl::AclName;
use ted::config::CryptoMapEntry;
use ted::discovery::{Disposition, Event, TriggerOutcome};

fn subnet(a: [u8; 4]) -> String {
    format!("{}/255.255.255.0/0/0", Ipv4Addr::from(a))
}

#[test]
fn seed_trigger_from_daphne_cfg() {
    let config = daphne();
    let t = seed_trigger(&config);
    // docs/seed.md, Daphne 18.850/18.854: local=13.13.13.14 remote=12.12.12.13,
    // local_proxy=13.13.13.0/255.255.255.0, own address 11.11.11.1, ESP
    // esp-des esp-md5-hmac, 3600 s / 4608000 KB, via FastEthernet0/0
    // next hop 11.11.11.2.
    assert_eq!(t.packet_source, HOST_D1);
    assert_eq!(t.packet_destination, HOST_A1);
    assert_eq!(t.local_address, DAPHNE);
    assert_eq!(t.local_proxy.to_string(), subnet([13, 13, 13, 0]));
    assert_eq!(t.remote_proxy.to_string(), subnet([12, 12, 12, 0]));
    assert_eq!(t.map, "tedtag");
    assert_eq!(t.map_seq, 10);
    assert_eq!(t.template_seq, Some(10));
    assert_eq!(t.acl, AclName::Numbered(101));
    let names: Vec<String> = t.transforms.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["esp-des", "esp-md5-hmac"]);
    assert_eq!(
        (t.lifetime.seconds, t.lifetime.kilobytes),
        (3600, 4_608_000)
    );
    let via = t.via.unwrap();
    assert_eq!(via.interface.as_str(), "FastEthernet0/0");
    assert_eq!(via.next_hop, FRED);
}

#[test]
fn seed_exchange() {
    let daphne_cfg = daphne();
    let fred_cfg = fred();
    let mut initiator = discovery();
    let mut responder = discovery();
    let mut rng = ScriptedRng::new(7);
    let t0 = Instant::now();

    let outcome = initiator.handle_trigger(t0, &mut rng, seed_trigger(&daphne_cfg));
    let TriggerOutcome::Started(id) = outcome else {
        panic!("{outcome:?}")
    };
    let probe = initiator.poll_transmit().unwrap();
    assert!(initiator.poll_transmit().is_none());
    let events = drain_events(&mut initiator);
    assert!(matches!(
        &events[..],
        [Event::Started { .. }, Event::ProbeSent { attempt: 0, .. }]
    ));
    let Event::ProbeSent {
        destination, via, ..
    } = &events[1]
    else {
        unreachable!()
    };
    // "sending packet to 12.12.12.13 (I) PEER_DISCOVERY via FastEthernet0/0:11.11.11.2"
    assert_eq!(*destination, sock(HOST_A1));
    assert_eq!(via.as_ref().unwrap().next_hop, FRED);
    assert_eq!(initiator.poll_timeout(), Some(t0 + Duration::from_secs(10)));

    // fred: "received packet from 13.13.13.14 (N) NEW SA", processes the
    // IDs and answers.
    let t1 = t0 + Duration::from_millis(50);
    let disposition = deliver(&mut responder, t1, &mut rng, &fred_cfg, &probe);
    assert_eq!(disposition, Disposition::Consumed);
    let events = drain_events(&mut responder);
    let [Event::ProbeReceived(info), Event::ProbeAnswered(answer)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(info.source, sock(HOST_D1));
    assert_eq!(info.initiator_address, DAPHNE);
    assert!(info.ios_vendor);
    assert_eq!(info.proxy.unwrap().to_string(), subnet([13, 13, 13, 0]));
    // "peer's address is 11.11.11.1" ... "changing source to 11.11.11.1 and
    // dest to 11.11.11.2" (the response goes from 11.11.11.2 to 11.11.11.1).
    assert_eq!(answer.response_source, sock(FRED));
    assert_eq!(answer.response_destination, sock(DAPHNE));
    assert_eq!(answer.responder_proxy.to_string(), subnet([12, 12, 12, 0]));
    assert_eq!((answer.map.as_str(), answer.map_seq), ("tedtag", 10));
    assert_eq!(answer.template_seq, Some(10));
    assert_eq!(answer.acl, AclName::Numbered(101));
    assert_eq!(answer.initiator_cookie, probe.payload[..8]);
    let response = responder.poll_transmit().unwrap();
    assert!(responder.poll_transmit().is_none());
    // The response echoes the initiator cookie with a fresh responder one.
    assert_eq!(response.payload[..8], probe.payload[..8]);
    assert_ne!(response.payload[8..16], [0; 8]);

    // Daphne: "received response to my peer discovery probe!", "ted
    // negotiated proxies: 13.13.13.0/255.255.255.0:0, 12.12.12.0/255.255.255.0:0".
    let t2 = t0 + Duration::from_millis(100);
    let disposition = deliver(&mut initiator, t2, &mut rng, &daphne_cfg, &response);
    assert_eq!(disposition, Disposition::Consumed);
    let events = drain_events(&mut initiator);
    let [Event::Discovered(found)] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(found.id, id);
    assert_eq!(found.peer, FRED);
    assert_eq!(found.response_source, sock(FRED));
    assert_eq!(found.local_proxy.to_string(), subnet([13, 13, 13, 0]));
    assert_eq!(found.remote_proxy.to_string(), subnet([12, 12, 12, 0]));
    assert!(found.echoed_local_proxy);
    assert_eq!(found.proxy_payload_type.0, 16);
    assert!(found.ios_vendor);
    assert_eq!(found.probes_sent, 1);
    assert_eq!(found.triggers, 1);
    assert_eq!(found.round_trip, Duration::from_millis(100));
    assert_eq!(found.map(), "tedtag");
    assert_eq!(initiator.pending_count(), 0);
    assert_eq!(initiator.poll_timeout(), None);
    assert_eq!(initiator.stats().discoveries_completed, 1);
    assert_eq!(responder.stats().probes_answered, 1);

    // What the gateway does next: the entry `tedtag 11`, created from
    // dynamic map ted-map/10, with the peer.
    let mut config = daphne_cfg.clone();
    let seq = config
        .derive_entry(
            found.map(),
            found.trigger.map_seq,
            found.trigger.template_seq.unwrap(),
            found.peer,
        )
        .unwrap();
    assert_eq!(seq, 11);
    let Some(CryptoMapEntry::Derived(entry)) = config.crypto_map("tedtag").unwrap().entry(11)
    else {
        panic!("no derived entry")
    };
    assert_eq!(entry.template, "ted-map");
    assert_eq!(entry.params.peers, [FRED]);
}

#[test]
fn fred_as_initiator_and_daphne_as_responder() {
    // Both seed routers have `discover`, and ACLs that mirror: the
    // discovery works the other way round too.
    let daphne_cfg = daphne();
    let fred_cfg = fred();
    let mut fred_d = discovery();
    let mut daphne_d = discovery();
    let mut rng = ScriptedRng::new(8);
    let now = Instant::now();
    let trigger =
        ted::discovery::Trigger::from_config(&fred_cfg, "tedtag", &ping(HOST_A1, HOST_D1)).unwrap();
    fred_d.handle_trigger(now, &mut rng, trigger);
    let probe = fred_d.poll_transmit().unwrap();
    assert_eq!(
        deliver(&mut daphne_d, now, &mut rng, &daphne_cfg, &probe),
        Disposition::Consumed
    );
    let response = daphne_d.poll_transmit().unwrap();
    assert_eq!(response.source, sock(DAPHNE));
    assert_eq!(response.destination, sock(FRED));
    deliver(&mut fred_d, now, &mut rng, &fred_cfg, &response);
    let found = drain_events(&mut fred_d)
        .into_iter()
        .find_map(|e| match e {
            Event::Discovered(d) => Some(d),
            _ => None,
        })
        .unwrap();
    assert_eq!(found.peer, DAPHNE);
    assert_eq!(found.remote_proxy.to_string(), subnet([13, 13, 13, 0]));
}
