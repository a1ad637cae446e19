//! An SA pair's life on the gateway: removal by a Delete from either side
//! (and the derived crypto map entry with it), discovery again for new
//! traffic, rekeying before the time and kilobyte lifetimes run out.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod gateway_util;

use std::time::Duration;

use gateway_util::*;
use netsim::Host;
use netsim::scenario::{D1, DAPHNE_INSIDE};
use ted::gateway::{Event, ShowCommand, TunnelDownReason};

fn derived_entry_shown(s: &netsim::scenario::SeedNetwork) -> bool {
    s.daphne()
        .unwrap()
        .gateway()
        .show(s.net.now(), ShowCommand::CryptoMap)
        .contains("Crypto Map \"tedtag\" 11 ipsec-isakmp")
}

#[test]
fn clear_crypto_sa_removes_both_ends_and_new_traffic_discovers_again() {
    let mut s = established();
    assert!(derived_entry_shown(&s));
    let now = s.net.now();
    let node = s.daphne;
    gateway_mut(&mut s, node).clear_crypto_sa(now);
    s.net.run_for(Duration::from_secs(1), 10_000);
    let d = s.daphne().unwrap();
    let f = s.fred().unwrap();
    assert!(d.gateway().tunnels().is_empty());
    // fred removed its pair on Daphne's Delete.
    assert!(f.gateway().tunnels().is_empty());
    assert!(f.events().iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: TunnelDownReason::Deleted(ike_sm::DeletedBy::Peer),
            ..
        }
    )));
    // The derived entry went with the last SA that used it.
    assert!(!derived_entry_shown(&s));
    assert_eq!(
        count(d.events(), |e| matches!(
            e,
            Event::MapEntryRemoved { seq: 11, .. }
        )),
        1
    );
    // The IPsec deletion is in the debug log.
    let text = ted::log::Renderer::new(ted::log::WallClock::IOS_DEFAULT, s.net.start())
        .render_all(d.gateway().log().unwrap().records());
    assert_eq!(text.matches("IPSEC(delete_sa): deleting SA,").count(), 2);

    // New traffic: a second discovery (the ISAKMP SA is still up, so Quick
    // Mode follows at once), the entry derived again as tedtag 11.
    let replies = s.d1().unwrap().echo_replies().len();
    s.ping(5, Duration::from_secs(1));
    s.net.run_for(Duration::from_secs(6), 100_000);
    let d = s.daphne().unwrap().gateway();
    assert_eq!(d.discovery().stats().discoveries_completed, 2);
    assert_eq!(d.tunnels().len(), 1);
    assert_eq!(d.tunnels()[0].map_entry, Some(11));
    assert!(derived_entry_shown(&s));
    assert_eq!(s.d1().unwrap().echo_replies().len(), replies + 4);
    // One ISAKMP SA served both Quick Modes.
    assert_eq!(d.ike().isakmp_sas(s.net.now()).len(), 1);
}

#[test]
fn a_delete_from_the_peer_removes_the_pair_and_the_entry() {
    let mut s = established();
    let now = s.net.now();
    let node = s.fred;
    gateway_mut(&mut s, node).clear_crypto_sa(now);
    s.net.run_for(Duration::from_secs(1), 10_000);
    let d = s.daphne().unwrap();
    assert!(d.gateway().tunnels().is_empty());
    assert!(d.events().iter().any(|e| matches!(
        e,
        Event::TunnelDown {
            reason: TunnelDownReason::Deleted(ike_sm::DeletedBy::Peer),
            ..
        }
    )));
    assert!(!derived_entry_shown(&s));
    // And traffic brings it back.
    s.ping(3, Duration::from_secs(1));
    s.net.run_for(Duration::from_secs(4), 100_000);
    assert_eq!(s.daphne().unwrap().gateway().tunnels().len(), 1);
}

#[test]
fn pairs_are_rekeyed_before_their_time_runs_out() {
    let mut s = established();
    // Two hours, a ping a minute: 3600 s lifetimes, rekeyed by Daphne (the
    // initiator) a minute or so early.
    s.ping(120, Duration::from_secs(60));
    s.net.run_for(Duration::from_secs(2 * 3600 + 30), 1_000_000);
    let d = s.daphne().unwrap();
    let ups = count(d.events(), |e| matches!(e, Event::TunnelUp(_)));
    let expired = count(d.events(), |e| {
        matches!(
            e,
            Event::TunnelDown {
                reason: TunnelDownReason::Expired,
                ..
            }
        )
    });
    assert!(ups >= 3, "{ups} tunnels");
    assert!(expired >= 2, "{expired} expired");
    assert!(
        d.events()
            .iter()
            .any(|e| matches!(e, Event::Ike(ike_sm::Event::RekeyStarted { .. })))
    );
    // Every ping got through: rekeying never left a gap.
    let replies = s.d1().unwrap().echo_replies().len();
    assert_eq!(replies, 9 + 120);
    // The derived entry lived on through the rekeys.
    assert!(derived_entry_shown(&s));
    assert_eq!(d.gateway().counters().map_entries_derived, 1);
    assert!(d.gateway().tunnels().len() <= 2);
}

#[test]
fn a_rekeying_initiator_sends_on_the_old_pair_until_the_new_one_is_used() {
    // RFC 2409 s.5.5: fred installs the new pair only when QM3 arrives,
    // which Daphne cannot know; she keeps sending on the old pair until a
    // packet arrives on the new one or ten seconds have passed.
    let mut s = established();
    let old = s.daphne().unwrap().gateway().tunnels();
    assert_eq!(old.len(), 1);
    let mut steps = 0;
    while s.daphne().unwrap().gateway().tunnels().len() < 2 {
        assert!(s.net.step().is_some() && steps < 1_000_000, "no rekey");
        steps += 1;
    }
    let now = s.net.now();
    let new = s
        .daphne()
        .unwrap()
        .gateway()
        .tunnels()
        .into_iter()
        .find(|t| t.inbound_spi != old[0].inbound_spi)
        .unwrap();
    let node = s.daphne;
    let gw = gateway_mut(&mut s, node);
    let outbound_spi = |gw: &mut ted::gateway::Gateway, at| {
        let (mut buf, range) = echo_in_buffer(D1, netsim::scenario::A1, b"x");
        match gw.handle_plaintext(at, &mut buf, range) {
            ted::gateway::Plaintext::Encrypted { spi, .. } => spi,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(outbound_spi(gw, now), old[0].outbound_spi);
    let later = now + Duration::from_millis(9_999);
    assert_eq!(outbound_spi(gw, later), old[0].outbound_spi);
    assert_eq!(
        outbound_spi(gw, now + Duration::from_secs(10)),
        new.outbound_spi
    );
}

/// The seed with the smallest kilobyte lifetime IOS accepts (put before
/// `end`, where IOS stops reading), D1 sending 1400-byte pings.
fn kilobyte_network(options: ted::gateway::GatewayOptions) -> netsim::scenario::SeedNetwork {
    let with_kb = |cfg: &str| {
        parse(&format!(
            "crypto ipsec security-association lifetime kilobytes 2560\n{cfg}"
        ))
    };
    let mut s = network_with(with_kb(DAPHNE_CFG), with_kb(FRED_CFG), options);
    if let Some(h) = s.net.node_mut::<Host>(s.d1) {
        *h = Host::new(D1, 24, Some(DAPHNE_INSIDE)).with_ping_data(&[0xa5; 1400]);
    }
    // 1200 pings of ~1.4 KB each way: over 3 MB through the pair.
    s.ping(1200, Duration::from_millis(20));
    s.net.run_for(Duration::from_secs(30), 1_000_000);
    s
}

#[test]
fn the_kilobyte_lifetime_rekeys_the_pair() {
    let s = kilobyte_network(options());
    let d = s.daphne().unwrap();
    // The byte counts reached IKE: at 90 % of 2560 KB it rekeyed.
    assert!(
        d.events().iter().any(|e| matches!(
            e,
            Event::Ike(ike_sm::Event::RekeyStarted {
                negotiation: Some(_),
                ..
            })
        )),
        "no rekey"
    );
    let ups = count(d.events(), |e| matches!(e, Event::TunnelUp(_)));
    assert!(ups >= 2, "{ups}");
    // The traffic moved to the new pair without a gap (the first ping is
    // TED's, the next two wait for Quick Mode).
    let replies = s.d1().unwrap().echo_replies().len();
    assert!(replies >= 1195, "{replies} replies");
    let gw = d.gateway();
    let newest = gw.tunnels().into_iter().max_by_key(|t| t.conn_ids).unwrap();
    assert_ne!(newest.inbound_spi, netsim::scenario::DAPHNE_INBOUND_SPI);
    let used = gw
        .esp()
        .inbound(esp::Spi(newest.inbound_spi))
        .and_then(|h| gw.esp().get(h))
        .unwrap()
        .counters()
        .pkts_decaps;
    assert!(used > 0);
}

#[test]
fn a_pair_whose_kilobytes_run_out_is_removed_and_traffic_discovers_again() {
    // Soft limit = hard limit: no rekey first, the pair simply runs out.
    let mut o = options();
    o.ike.rekey.kilobyte_soft_percent = 100;
    let s = kilobyte_network(o);
    let d = s.daphne().unwrap();
    let expired = count(d.events(), |e| {
        matches!(
            e,
            Event::TunnelDown {
                reason: TunnelDownReason::Expired,
                ..
            }
        )
    });
    assert!(expired >= 1, "{:#?}", d.events());
    // Gone with it: the derived entry; the next packet discovered again.
    assert!(count(d.events(), |e| matches!(e, Event::MapEntryRemoved { .. })) >= 1);
    let gw = d.gateway();
    assert!(gw.discovery().stats().discoveries_completed >= 2);
    assert!(gw.counters().plaintext_discovering >= 2);
    // And traffic went on after that.
    assert_eq!(gw.tunnels().len(), 1);
    let replies = s.d1().unwrap().echo_replies().len();
    assert!(replies >= 1190, "{replies} replies");
}
