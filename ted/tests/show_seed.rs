//! The `show` views with the seed's values, compared with transcripts
//! written by hand from the seed document (`vectors/seed/show_*.txt`), and
//! those transcripts compared, non-whitespace character by character, with
//! the seed document's own text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use ted::acl::{IpProtocol, ProxyIdent};
use ted::config::{EncapsulationMode, Transform};
use ted::show::{
    CryptoMapRuntime, EngineConnection, IpsecCounters, IpsecFlow, IpsecInterface, IpsecSa,
    IsakmpSaRow, IsakmpState, crypto_map, crypto_map_with, engine_algorithm,
    engine_connections_active, ipsec_sa, isakmp_sa,
};

const CRYPTO_MAP: &str = include_str!("../../vectors/seed/show_crypto_map.txt");
const ISAKMP_SA: &str = include_str!("../../vectors/seed/show_crypto_isakmp_sa.txt");
const IPSEC_SA: &str = include_str!("../../vectors/seed/show_crypto_ipsec_sa.txt");
const ENGINE: &str = include_str!("../../vectors/seed/show_crypto_engine_connections_active.txt");
const SEED: &str = include_str!("../../vectors/seed/seed_excerpt.txt");
const DAPHNE_CFG: &str = include_str!("../../vectors/seed/daphne.cfg");
const FRED_CFG: &str = include_str!("../../vectors/seed/fred.cfg");

const DAPHNE: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 1);
const FRED: Ipv4Addr = Ipv4Addr::new(11, 11, 11, 2);

fn strip(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn subnet(a: [u8; 4]) -> ProxyIdent {
    ProxyIdent {
        address: Ipv4Addr::from(a),
        mask: Ipv4Addr::new(255, 255, 255, 0),
        protocol: IpProtocol(0),
        port: 0,
    }
}

fn daphne_after_discovery() -> ted::config::Config {
    let mut config = ted::config::ios::parse(DAPHNE_CFG).unwrap().config;
    assert_eq!(config.derive_entry("tedtag", 10, 10, FRED).unwrap(), 11);
    config
}

fn seed_isakmp() -> Vec<IsakmpSaRow> {
    vec![IsakmpSaRow {
        destination: FRED,
        source: DAPHNE,
        state: IsakmpState::QmIdle,
        conn_id: 2,
        slot: 0,
    }]
}

fn seed_sa(spi: u32, conn_id: u32, flow_id: u32) -> IpsecSa {
    IpsecSa {
        spi,
        transforms: vec![Transform::EspDes, Transform::EspMd5Hmac],
        mode: EncapsulationMode::Tunnel,
        slot: 0,
        conn_id,
        flow_id,
        crypto_map: "tedtag".into(),
        remaining_kilobytes: 4_414_715,
        remaining_seconds: 2524,
        iv_size: 8,
        replay_detection: true,
    }
}

/// The seed's `show crypto ipsec sa` (a run with SPIs 0xD8870500 in,
/// 0xB326CBE6 out, after 9 echo requests and replies).
fn seed_ipsec() -> Vec<IpsecInterface> {
    vec![IpsecInterface {
        interface: "FastEthernet0/0".into(),
        crypto_map: "tedtag".into(),
        local_address: DAPHNE,
        flows: vec![IpsecFlow {
            protected_vrf: String::new(),
            local_ident: subnet([13, 13, 13, 0]),
            remote_ident: subnet([12, 12, 12, 0]),
            current_peer: FRED,
            flags: String::new(),
            counters: IpsecCounters {
                encaps: 9,
                encrypt: 9,
                digest: 9,
                decaps: 9,
                decrypt: 9,
                verify: 9,
                ..IpsecCounters::default()
            },
            local_endpoint: DAPHNE,
            remote_endpoint: FRED,
            path_mtu: 1500,
            media_mtu: 1500,
            current_outbound_spi: 0xB326_CBE6,
            inbound_esp: vec![seed_sa(0xD887_0500, 2000, 1)],
            inbound_ah: vec![],
            inbound_pcp: vec![],
            outbound_esp: vec![seed_sa(0xB326_CBE6, 2001, 2)],
            outbound_ah: vec![],
            outbound_pcp: vec![],
        }],
    }]
}

fn seed_engine() -> Vec<EngineConnection> {
    let esp = engine_algorithm(&[Transform::EspDes, Transform::EspMd5Hmac]).unwrap();
    let conn = |id, interface: Option<&str>, address, encrypted, decrypted, algorithm: &str| {
        EngineConnection {
            id,
            interface: interface.map(str::to_owned),
            address,
            state: "set".into(),
            algorithm: algorithm.to_owned(),
            encrypted,
            decrypted,
        }
    };
    vec![
        conn(2, None, None, 0, 0, "HMAC_SHA+DES_56_CB"),
        conn(2000, Some("FastEthernet0/0"), Some(DAPHNE), 0, 9, &esp),
        conn(2001, Some("FastEthernet0/0"), Some(DAPHNE), 9, 0, &esp),
    ]
}

#[test]
fn show_crypto_map() {
    assert_eq!(crypto_map(&daphne_after_discovery()), CRYPTO_MAP);
}

#[test]
fn show_crypto_isakmp_sa() {
    assert_eq!(isakmp_sa(&seed_isakmp()), ISAKMP_SA);
}

#[test]
fn show_crypto_ipsec_sa() {
    assert_eq!(ipsec_sa(&seed_ipsec()), IPSEC_SA);
}

#[test]
fn show_crypto_engine_connections_active() {
    assert_eq!(engine_connections_active(&seed_engine()), ENGINE);
}

#[test]
fn transcripts_are_the_seed_character_by_character() {
    // The seed's show session, in order, with IOS's prompts.
    let session = format!(
        "Daphne#show crypto isakmp sa {ISAKMP_SA} Daphne#show crypto ipsec sa {IPSEC_SA} \
         Daphne#show crypto map {CRYPTO_MAP} Daphne#show crypto engine connections active {ENGINE}"
    );
    let seed = SEED
        .lines()
        .find(|l| l.starts_with("Daphne#show crypto isakmp sa"))
        .unwrap();
    assert_eq!(strip(&session), strip(seed));
}

#[test]
fn crypto_map_before_discovery_and_on_fred() {
    let daphne = ted::config::ios::parse(DAPHNE_CFG).unwrap().config;
    let expected = "\
Crypto Map \"tedtag\" 10 ipsec-isakmp
        Dynamic map template tag: ted-map
        Discover enabled
        Interfaces using crypto map tedtag:
                FastEthernet0/0

";
    assert_eq!(crypto_map(&daphne), expected);
    let fred = ted::config::ios::parse(FRED_CFG).unwrap().config;
    assert_eq!(crypto_map(&fred), expected);
}

#[test]
fn crypto_map_static_entries() {
    let text = "\
crypto ipsec transform-set a esp-3des esp-sha-hmac
crypto ipsec transform-set b esp-des esp-md5-hmac
crypto ipsec security-association lifetime seconds 1800
crypto map vpn 20 ipsec-isakmp
 set peer 10.0.0.2
 set peer 10.0.0.3
 set transform-set a b
 set pfs group2
 set security-association lifetime kilobytes 10000
 match address 150
crypto map vpn 30 ipsec-isakmp
 set peer 10.0.0.9
 set transform-set a
crypto map vpn 40 ipsec-isakmp
 set transform-set a
 match address 5
interface Serial0
 ip address 10.0.0.1 255.255.255.0
 crypto map vpn
interface Serial1
 ip address 10.0.1.1 255.255.255.0
 crypto map vpn
access-list 5 permit 10.9.0.0 0.0.255.255
access-list 150 permit ip 10.1.0.0 0.0.255.255 host 10.2.0.1
access-list 150 permit tcp any any eq 443
";
    let config = ted::config::ios::parse(text).unwrap().config;
    let expected = "\
Crypto Map \"vpn\" 20 ipsec-isakmp
        Peer = 10.0.0.2
        Peer = 10.0.0.3
        Extended IP access list 150
            access-list 150 permit ip 10.1.0.0 0.0.255.255 host 10.2.0.1
            access-list 150 permit tcp any any eq 443
        Current peer: 10.0.0.3
        Security association lifetime: 10000 kilobytes/1800 seconds
        PFS (Y/N): Y
        DH group:  group2
        Transform sets={ a, b, }

Crypto Map \"vpn\" 30 ipsec-isakmp
        Peer = 10.0.0.9
        No matching address list set.
        Current peer: 10.0.0.9
        Security association lifetime: 4608000 kilobytes/1800 seconds
        PFS (Y/N): N
        Transform sets={ a, }

Crypto Map \"vpn\" 40 ipsec-isakmp
        Standard IP access list 5
            access-list 5 permit 10.9.0.0 0.0.255.255
        Security association lifetime: 4608000 kilobytes/1800 seconds
        PFS (Y/N): N
        Transform sets={ a, }
        Interfaces using crypto map vpn:
                Serial0
                Serial1

";
    let mut runtime = CryptoMapRuntime::default();
    runtime
        .current_peers
        .insert(("vpn".into(), 20), Ipv4Addr::new(10, 0, 0, 3));
    assert_eq!(crypto_map_with(&config, &runtime), expected);
}

#[test]
fn engine_names_and_widths() {
    assert_eq!(
        engine_algorithm(&[Transform::Esp3des, Transform::EspShaHmac]).as_deref(),
        Some("HMAC_SHA+3DES_56_CB")
    );
    assert_eq!(
        engine_algorithm(&[Transform::EspAes(ted::config::AesKeySize::Aes256)]),
        None
    );
    assert_eq!(engine_algorithm(&[Transform::EspDes]), None);
    // IOS's 18-column field cuts 3DES's name: "HMAC_SHA+3DES_56_C".
    let rows = [EngineConnection {
        id: 5,
        interface: Some("Serial0".into()),
        address: Some(Ipv4Addr::new(10, 0, 0, 1)),
        state: "set".into(),
        algorithm: engine_algorithm(&[Transform::Esp3des, Transform::EspShaHmac]).unwrap(),
        encrypted: 123_456,
        decrypted: 7,
    }];
    let text = engine_connections_active(&rows);
    assert_eq!(
        text.lines().nth(2).unwrap(),
        "   5 Serial0         10.0.0.1        set    HMAC_SHA+3DES_56_C   123456        7"
    );
}

#[test]
fn isakmp_states_and_several_rows() {
    let rows = [
        IsakmpSaRow {
            destination: FRED,
            source: DAPHNE,
            state: IsakmpState::MmNoState,
            conn_id: 1,
            slot: 0,
        },
        IsakmpSaRow {
            destination: Ipv4Addr::new(192, 168, 100, 200),
            source: Ipv4Addr::new(192, 168, 100, 1),
            state: IsakmpState::PeerDiscovery,
            conn_id: 12345,
            slot: 1,
        },
    ];
    assert_eq!(
        isakmp_sa(&rows),
        "dst             src             state          conn-id slot\n\
         11.11.11.2      11.11.11.1      MM_NO_STATE          1    0\n\
         192.168.100.200 192.168.100.1   PEER_DISCOVERY   12345    1\n\n"
    );
    assert_eq!(
        isakmp_sa(&[]),
        "dst             src             state          conn-id slot\n\n"
    );
}
