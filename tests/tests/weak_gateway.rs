//! Weak algorithms at the gateway level (issue 7 item 5). The gateway
//! reports each weak algorithm its configuration names once for its whole
//! life, as `ted::gateway::Event::WeakAlgorithm` with the configuration
//! line that names it, when it is built; the SAs it negotiates later with
//! those algorithms (the first pair, rekeys, renegotiation after a
//! Delete) add no second report. (The IKE engine underneath reports once
//! per SA, see `ike-sm/tests/weak.rs`; the gateway folds those into the
//! one report per algorithm.) A configuration naming only strong
//! algorithms gets no report, and its tunnel works.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod seed_util;

use std::time::Duration;

use netsim::GatewayRouter;
use netsim::scenario::SeedNetwork;
use seed_util::*;
use ted::gateway::{Event, GatewayOptions};

fn weak(router: &GatewayRouter) -> Vec<(String, String)> {
    router
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::WeakAlgorithm {
                algorithm,
                configured_by,
            } => Some((algorithm.clone(), configured_by.clone())),
            _ => None,
        })
        .collect()
}

fn tunnels_created(s: &SeedNetwork) -> u64 {
    s.daphne().unwrap().gateway().counters().tunnels_installed
}

#[test]
fn the_seed_gateways_report_each_weak_algorithm_once_for_their_life() {
    let mut s = network_with(daphne_cfg(), fred_cfg(), GatewayOptions::default());
    ping_ten(&mut s);
    assert_eq!(s.d1().unwrap().echo_replies().len(), 9);
    // Three IPsec lifetimes (3600 s) of traffic: the pair is rekeyed.
    for _ in 0..3 {
        s.ping(4, Duration::from_secs(900));
        s.net.run_for(Duration::from_secs(3600), 1_000_000);
    }
    assert!(tunnels_created(&s) >= 3, "{} pairs", tunnels_created(&s));
    let expected = |dynamic: &str| {
        let map =
            format!("crypto ipsec transform-set ted-transforms (crypto dynamic-map {dynamic} 10)");
        vec![
            ("DES-CBC".to_owned(), "crypto isakmp policy 10".to_owned()),
            ("SHA1".to_owned(), "crypto isakmp policy 10".to_owned()),
            ("MODP-768".to_owned(), "crypto isakmp policy 10".to_owned()),
            ("esp-des".to_owned(), map.clone()),
            ("esp-md5-hmac".to_owned(), map),
        ]
    };
    assert_eq!(weak(s.daphne().unwrap()), expected("ted-map"));
    assert_eq!(weak(s.fred().unwrap()), expected("ted-map"));
}

/// The seed's configurations with AES-256, SHA-256 and MODP-2048 in phase
/// 1 and ESP AES-256 with HMAC-SHA-256 in phase 2.
fn strong(cfg: &str) -> ted::config::Config {
    let text = cfg
        .replace(
            " authentication pre-share\n",
            " encryption aes 256\n hash sha256\n authentication pre-share\n group 14\n",
        )
        .replace("esp-des esp-md5-hmac", "esp-aes 256 esp-sha256-hmac");
    assert_ne!(text, cfg);
    ted::config::ios::parse(&text).unwrap().config
}

#[test]
fn strong_configurations_get_no_weak_report_and_their_tunnel_works() {
    let mut s = network_with(
        strong(DAPHNE_CFG),
        strong(FRED_CFG),
        GatewayOptions::default(),
    );
    ping_ten(&mut s);
    assert_eq!(s.d1().unwrap().echo_replies().len(), 9);
    assert!(weak(s.daphne().unwrap()).is_empty());
    assert!(weak(s.fred().unwrap()).is_empty());
    let sa = &s.daphne().unwrap().gateway().ike().isakmp_sas(s.net.now())[0];
    let suite = sa.suite.unwrap();
    assert!(!suite.encryption.is_weak() && !suite.hash.is_weak() && !suite.group.is_weak());
}
