//! The core's NAT-T input (`Core::nat_t`): keepalives, IKE after the
//! non-ESP marker and garbage on the NAT-T socket, each accounted for and
//! none handed to the protected side; and the run arguments that set the
//! NAT-T mode and port reach the gateway's IKE engine.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Instant, SystemTime};

use ikev1_peer::core::{Core, Outputs};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::gateway::{Gateway, GatewayOptions};

const FRED_CFG: &str = include_str!("../../vectors/seed/fred.cfg");
const FRED: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 2);

fn core(now: Instant) -> Core {
    let config = ted::config::ios::parse(FRED_CFG).unwrap().config;
    let mut options = GatewayOptions::default();
    options.outside_address = Some(FRED);
    options.ike.nat_t.port = 14_500;
    let gateway = Gateway::new(
        config,
        "FastEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(3)),
        options,
    )
    .unwrap();
    Core::new(
        gateway,
        SocketAddrV4::new(FRED, 500),
        Outputs::default(),
        now,
        SystemTime::now(),
    )
}

#[test]
fn nat_t_datagrams_are_demultiplexed() {
    let now = Instant::now();
    let mut c = core(now);
    assert_eq!(c.gateway().ike().config().nat_t.port, 14_500);
    let local = SocketAddrV4::new(FRED, 14_500);
    let remote = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 7), 31_000);
    let h = Gateway::NAT_T_HEADROOM;

    let mut buf = vec![0u8; h];
    buf.push(0xff);
    assert_eq!(c.nat_t(now, local, remote, &mut buf, h..h + 1), None);
    assert_eq!(c.gateway().counters().nat_t_keepalives, 1);

    // An IKE header after the marker: IKE's (which drops it: no SA).
    let mut buf = vec![0u8; h + 4 + 28];
    buf[h + 4..h + 12].copy_from_slice(&[7; 8]);
    buf[h + 4 + 17] = 0x10;
    let n = buf.len();
    let before = c.gateway().ike().counters().received;
    assert_eq!(c.nat_t(now, local, remote, &mut buf, h..n), None);
    assert_eq!(c.gateway().counters().nat_t_ike, 1);
    assert_eq!(c.gateway().ike().counters().received, before + 1);

    // Too short for anything, and ESP for no SA: dropped and counted.
    let mut buf = vec![0u8; h + 3];
    assert_eq!(c.nat_t(now, local, remote, &mut buf, h..h + 3), None);
    let mut buf = vec![0x42u8; h + 40];
    assert_eq!(c.nat_t(now, local, remote, &mut buf, h..h + 40), None);
    assert_eq!(c.counters().nat_t_dropped, 2);
    assert_eq!(c.gateway().counters().nat_t_malformed, 1);
    assert_eq!(c.gateway().counters().esp_unknown_spi, 1);
    assert_eq!(c.poll_output(), None, "nothing to send for any of them");
}
