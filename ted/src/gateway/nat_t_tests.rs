//! The gateway's NAT traversal data plane (RFC 3948) with SA pairs
//! installed by hand: a UDP-encapsulated pair between the seed's two
//! routers, ESP out through a UDP socket's view and in through
//! [`Gateway::handle_nat_t`], the peer's NAT mapping followed on
//! [`ike_sm::Event::PeerMoved`].
//!
//! The pairs are installed through the gateway's own `install`, as a
//! negotiated Quick Mode would; their ISAKMP SA ID comes from the seed
//! network run in the simulator (an `IsakmpSaId` is only ever made by an
//! engine).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Instant;

use ike_sm::{
    EspEncryption, EspIntegrity, EspMode, EspTransform, IsakmpSaId, Lifetime, Phase2Established,
    ProxyId, Role, SaKeys, SaRef, Spi, UdpEncapsulation,
};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

use super::{Esp, EspDrop, Gateway, GatewayOptions, NatT, Plaintext};

const DAPHNE: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 1);
const FRED: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 2);
const D1: Ipv4Addr = Ipv4Addr::new(13, 13, 13, 14);
const A1: Ipv4Addr = Ipv4Addr::new(12, 12, 12, 13);
/// Daphne's SPI (fred sends to it) and fred's.
const SPI_D: u32 = 0x1111_2222;
const SPI_F: u32 = 0x3333_4444;

/// An ISAKMP SA ID made by an engine: the seed network's first phase 1.
fn isakmp_id() -> IsakmpSaId {
    let mut s = netsim::scenario::SeedNetwork::seed(
        ChaCha20Rng::seed_from_u64(1),
        ChaCha20Rng::seed_from_u64(2),
        Instant::now(),
    )
    .unwrap();
    s.replay_ping();
    let now = Instant::now();
    s.daphne()
        .unwrap()
        .gateway()
        .ike()
        .isakmp_sas(now)
        .first()
        .map(|sa| sa.id)
        .expect("the seed establishes phase 1")
}

fn gateway(cfg: &str) -> Gateway {
    let config = crate::config::ios::parse(cfg).unwrap().config;
    Gateway::new(
        config,
        "FastEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(9)),
        GatewayOptions::default(),
    )
    .unwrap()
}

fn keys(spi: u32) -> SaKeys {
    SaKeys {
        spi: Spi(spi),
        encryption_key: esp::SecretBytes::new(&[u8::try_from(spi & 0x7f).unwrap(); 16]),
        integrity_key: esp::SecretBytes::new(&[0x5a; 20]),
    }
}

/// The pair as one side's engine reports it: `local`/`remote` are the
/// UDP-4500 addresses, `inbound` our SPI.
fn established(
    sa: IsakmpSaId,
    local: SocketAddrV4,
    remote: SocketAddrV4,
    (ours, theirs): (u32, u32),
    (local_net, remote_net): (Ipv4Addr, Ipv4Addr),
) -> Box<Phase2Established> {
    Box::new(Phase2Established {
        isakmp_sa: sa,
        negotiation: None,
        local: SocketAddr::V4(local),
        remote: SocketAddr::V4(remote),
        inbound: keys(ours),
        outbound: keys(theirs),
        transform: EspTransform {
            encryption: EspEncryption::AesCbc { key_bits: 128 },
            integrity: EspIntegrity::HmacSha1_96,
            mode: EspMode::Tunnel,
        },
        local_proxy: ProxyId::subnet(IpAddr::V4(local_net), 24),
        remote_proxy: ProxyId::subnet(IpAddr::V4(remote_net), 24),
        lifetime: Lifetime::IOS_IPSEC,
        pfs: None,
        role: Role::Responder,
        message_id: 1,
        rekey_of: None,
        udp_encapsulation: Some(UdpEncapsulation {
            mode: isakmp_wire::EncapsulationMode::UDP_TUNNEL,
            peer_original: None,
            local_as_seen: None,
        }),
    })
}

fn ping(src: Ipv4Addr, dst: Ipv4Addr) -> (Vec<u8>, std::ops::Range<usize>, Vec<u8>) {
    let p =
        esp::ip::icmp_echo(esp::ip::Ipv4Header::new(src, dst, 0), false, 7, 1, b"nat-t").unwrap();
    let mut buf = vec![0u8; Gateway::HEADROOM + p.len() + Gateway::TAILROOM];
    let range = Gateway::HEADROOM..Gateway::HEADROOM + p.len();
    buf[range.clone()].copy_from_slice(&p);
    (buf, range, p)
}

/// Daphne behind a NAT that maps its 11.11.11.1:4500 to
/// 198.51.100.7:31000 (as fred sees it); fred at 11.11.11.2:4500.
struct Pair {
    daphne: Gateway,
    fred: Gateway,
    mapped: SocketAddrV4,
}

fn pair() -> Pair {
    let now = Instant::now();
    let id = isakmp_id();
    let mapped = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 7), 31_000);
    let d4500 = SocketAddrV4::new(DAPHNE, 4500);
    let f4500 = SocketAddrV4::new(FRED, 4500);
    let mut daphne = gateway(netsim::scenario::DAPHNE_CFG);
    let mut fred = gateway(netsim::scenario::FRED_CFG);
    daphne.install(
        now,
        established(
            id,
            d4500,
            f4500,
            (SPI_D, SPI_F),
            (Ipv4Addr::new(13, 13, 13, 0), Ipv4Addr::new(12, 12, 12, 0)),
        ),
    );
    fred.install(
        now,
        established(
            id,
            f4500,
            mapped,
            (SPI_F, SPI_D),
            (Ipv4Addr::new(12, 12, 12, 0), Ipv4Addr::new(13, 13, 13, 0)),
        ),
    );
    assert_eq!(daphne.tunnels().len(), 1);
    assert_eq!(fred.tunnels()[0].udp_peer, Some(mapped));
    Pair {
        daphne,
        fred,
        mapped,
    }
}

/// Daphne's ping leaves as UDP-encapsulated ESP (a driver sends the UDP
/// payload from its 4500 socket, the simulator the whole packet); fred
/// takes it on its NAT-T input after the NAT rewrote the source.
#[test]
fn udp_encapsulated_pair_carries_traffic_both_ways() {
    let now = Instant::now();
    let Pair {
        mut daphne,
        mut fred,
        mapped,
    } = pair();
    let (mut buf, range, inner) = ping(D1, A1);
    let Plaintext::Encrypted {
        packet,
        peer,
        spi,
        udp: Some(udp),
    } = daphne.handle_plaintext(now, &mut buf, range)
    else {
        panic!("not UDP-encapsulated")
    };
    assert_eq!((peer, spi), (FRED, SPI_F));
    assert_eq!(udp.source, SocketAddrV4::new(DAPHNE, 4500));
    assert_eq!(udp.destination, SocketAddrV4::new(FRED, 4500));
    // The whole packet is IPv4/UDP with the datagram inside.
    let whole = esp::ip::Ipv4Packet::parse(&buf[packet.clone()]).unwrap();
    let Ok(esp::ip::Transport::Udp {
        source_port,
        destination_port,
        payload,
    }) = whole.transport()
    else {
        panic!("not UDP")
    };
    assert_eq!((source_port, destination_port), (4500, 4500));
    assert_eq!(payload, &buf[udp.payload.clone()]);

    // Through the NAT, onto fred's UDP-4500 socket.
    let mut rx = vec![0u8; Gateway::NAT_T_HEADROOM];
    rx.extend_from_slice(&buf[udp.payload.clone()]);
    let n = rx.len();
    let got = fred.handle_nat_t(
        now,
        udp.destination,
        mapped,
        &mut rx,
        Gateway::NAT_T_HEADROOM..n,
    );
    let NatT::Esp(Esp::Decrypted { packet, peer, spi }) = got else {
        panic!("not decrypted: {got:?}")
    };
    assert_eq!((peer, spi), (*mapped.ip(), SPI_F));
    assert_eq!(&rx[packet], &inner[..]);
    // From the source the pair knows: nothing moved.
    assert_eq!(fred.counters().esp_peer_moved, 0);

    // The whole IPv4/UDP packet works through handle_esp too (the
    // simulator's way), and a replay of it is refused.
    let (mut buf, range, inner) = ping(D1, A1);
    let Plaintext::Encrypted { packet, .. } = daphne.handle_plaintext(now, &mut buf, range) else {
        panic!("not encrypted")
    };
    let mut wire = buf[packet].to_vec();
    let mut again = wire.clone();
    let Esp::Decrypted { packet, .. } = fred.handle_esp(now, &mut wire) else {
        panic!("whole packet not decrypted")
    };
    assert_eq!(&wire[packet], &inner[..]);
    assert!(matches!(
        fred.handle_esp(now, &mut again),
        Esp::Dropped(EspDrop::Decapsulation(esp::DecapError::Replay { .. }))
    ));

    // Fred's reply goes to the NAT's mapping.
    let (mut buf, range, _) = ping(A1, D1);
    let Plaintext::Encrypted { peer, udp, .. } = fred.handle_plaintext(now, &mut buf, range) else {
        panic!("reply not encrypted")
    };
    assert_eq!(peer, *mapped.ip());
    assert_eq!(udp.unwrap().destination, mapped);
}

/// Keepalives, IKE after the marker and garbage on the NAT-T port; ESP
/// that does not authenticate.
#[test]
fn nat_t_port_demultiplexes() {
    let now = Instant::now();
    let Pair {
        mut fred, mapped, ..
    } = pair();
    let local = SocketAddrV4::new(FRED, 4500);
    let mut k = [0xffu8];
    assert_eq!(
        fred.handle_nat_t(now, local, mapped, &mut k, 0..1),
        NatT::Keepalive
    );
    assert_eq!(fred.counters().nat_t_keepalives, 1);
    let received = fred.ike().counters().received;
    let mut ike = [0u8; 4 + 28];
    ike[4..12].copy_from_slice(&[1; 8]);
    ike[20] = 0x10;
    let n = ike.len();
    assert_eq!(
        fred.handle_nat_t(now, local, mapped, &mut ike, 0..n),
        NatT::Ike
    );
    assert_eq!(fred.counters().nat_t_ike, 1);
    assert_eq!(fred.ike().counters().received, received + 1, "IKE saw it");
    let mut short = [0u8, 0];
    assert_eq!(
        fred.handle_nat_t(now, local, mapped, &mut short, 0..2),
        NatT::Malformed(isakmp_wire::nat_t::Udp4500Error::TruncatedMarker { len: 2 })
    );
    assert_eq!(fred.counters().nat_t_malformed, 1);
    // ESP for fred's SPI with a bad ICV, from a new source: refused, and
    // nothing moved.
    let mut forged = vec![0u8; Gateway::NAT_T_HEADROOM];
    forged.extend_from_slice(&SPI_F.to_be_bytes());
    forged.extend_from_slice(&1u32.to_be_bytes());
    forged.extend_from_slice(&[0x77; 16 + 32 + 12]);
    let n = forged.len();
    let stranger = SocketAddrV4::new(Ipv4Addr::new(203, 0, 113, 66), 4500);
    assert!(matches!(
        fred.handle_nat_t(
            now,
            local,
            stranger,
            &mut forged,
            Gateway::NAT_T_HEADROOM..n
        ),
        NatT::Esp(Esp::Dropped(EspDrop::Decapsulation(
            esp::DecapError::AuthenticationFailed
        )))
    ));
    assert_eq!(fred.tunnels()[0].udp_peer, Some(mapped));
    assert_eq!(fred.counters().esp_peer_moved, 0);
}

/// `PeerMoved` from IKE redirects the pair's ESP to the new mapping.
#[test]
fn peer_moved_redirects_the_pair() {
    let now = Instant::now();
    let Pair {
        mut fred, mapped, ..
    } = pair();
    let to = SocketAddrV4::new(Ipv4Addr::new(198, 51, 100, 7), 40_123);
    let sa = isakmp_id();
    fred.on_ike_event(
        now,
        ike_sm::Event::PeerMoved {
            sa,
            from: SocketAddr::V4(mapped),
            to: SocketAddr::V4(to),
            local: SocketAddr::V4(SocketAddrV4::new(FRED, 4500)),
            ipsec: vec![SaRef::Ipsec {
                inbound: Spi(SPI_F),
                outbound: Spi(SPI_D),
            }],
        },
    );
    assert_eq!(fred.counters().tunnels_moved, 1);
    assert_eq!(fred.tunnels()[0].udp_peer, Some(to));
    let (mut buf, range, _) = ping(A1, D1);
    let Plaintext::Encrypted {
        packet,
        udp: Some(udp),
        ..
    } = fred.handle_plaintext(now, &mut buf, range)
    else {
        panic!("not encrypted")
    };
    assert_eq!(udp.destination, to);
    let outer = esp::ip::Ipv4Packet::parse(&buf[packet]).unwrap();
    assert_eq!(outer.header.destination, *to.ip());
}
