//! Two gateways in memory: an Easy VPN server (XAUTH against its users,
//! Mode-Config from its group's pool, DNS, domain and split ACL) and a
//! remote-access client that logs in with the group key, answers XAUTH,
//! takes the address and negotiates its tunnel; then ESP both ways
//! through the assigned address, a wrong password, and the pool's
//! bookkeeping.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use ike_sm::{Event as Ike, XauthCredentials};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::config::{ClientGroup, Credential, LocalUser};
use ted::gateway::{ClientOptions, Esp, Event, Gateway, GatewayOptions, Plaintext};
use ted::remote_access::PoolRange;

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 10);
const LAN_HOST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);

const SERVER_CFG: &str = "\
hostname hub
crypto isakmp policy 10
 encryption aes 256
 hash sha
 authentication pre-share
 group 2
crypto ipsec transform-set ts esp-aes 256 esp-sha-hmac
crypto dynamic-map dynmap 10
 set transform-set ts
crypto map clientmap 10 ipsec-isakmp dynamic dynmap
access-list 101 permit ip 10.0.0.0 0.0.0.255 any
interface FastEthernet0/0
 ip address 192.0.2.1 255.255.255.0
 crypto map clientmap
";

const CLIENT_CFG: &str = "\
hostname spoke
crypto isakmp policy 10
 encryption aes 256
 hash sha
 authentication pre-share
 group 2
crypto ipsec transform-set ts esp-aes 256 esp-sha-hmac
access-list 150 permit ip any any
crypto map ra 10 ipsec-isakmp
 set peer 192.0.2.1
 set transform-set ts
 match address 150
interface FastEthernet0/0
 ip address 192.0.2.10 255.255.255.0
 crypto map ra
";

fn server() -> Gateway {
    let mut config = ted::config::ios::parse(SERVER_CFG).unwrap().config;
    let ra = &mut config.remote_access;
    ra.aaa_new_model = true;
    ra.add_authentication_list("userlist");
    ra.add_authorization_list("grouplist");
    ra.add_user(LocalUser::new(
        "alice",
        Credential::Password(ted::config::remote_access::SecretText::new(b"secret")),
    ));
    ra.add_pool_range(
        "rapool",
        PoolRange::new(Ipv4Addr::new(10, 99, 0, 10), Ipv4Addr::new(10, 99, 0, 11)).unwrap(),
    )
    .unwrap();
    let g: &mut ClientGroup = ra.group_mut("ragroup");
    g.key = Some(ted::config::PresharedKey::new(b"groupkey"));
    g.dns = vec![Ipv4Addr::new(10, 0, 0, 53)];
    g.domain = Some("example.test".into());
    g.pool = Some("rapool".into());
    g.acl = Some(ted::acl::AclName::Numbered(101));
    g.banner = Some("authorised users only".into());
    let m = ra.map_mut("clientmap");
    m.authentication_list = Some("userlist".into());
    m.authorization_list = Some("grouplist".into());
    m.address_respond = true;
    Gateway::new(
        config,
        "FastEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(1)),
        GatewayOptions::default(),
    )
    .unwrap()
}

fn client(seed: u64, address: Ipv4Addr) -> Gateway {
    let config = ted::config::ios::parse(CLIENT_CFG).unwrap().config;
    let mut options = GatewayOptions::default();
    options.client = Some(ClientOptions::new("ragroup", b"groupkey"));
    options.outside_address = Some(address);
    Gateway::new(
        config,
        "FastEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(seed)),
        options,
    )
    .unwrap()
}

/// Moves datagrams between the gateways and answers XAUTH with
/// `password`, for `d` of virtual time. Returns every event.
fn run(
    s: &mut Gateway,
    c: &mut Gateway,
    now: &mut Instant,
    password: &[u8],
    d: Duration,
) -> (Vec<Event>, Vec<Event>) {
    let (mut se, mut ce) = (Vec::new(), Vec::new());
    let end = *now + d;
    while *now < end {
        let mut moved = false;
        while let Some(t) = c.poll_transmit() {
            s.handle_datagram(*now, t.destination, t.source, &t.payload);
            moved = true;
        }
        while let Some(t) = s.poll_transmit() {
            c.handle_datagram(*now, t.destination, t.source, &t.payload);
            moved = true;
        }
        while let Some(e) = c.poll_event() {
            if let Event::Ike(Ike::XauthRequested(r)) = &e {
                c.xauth_credentials(*now, r.sa, &XauthCredentials::new("alice", password))
                    .unwrap();
                moved = true;
            }
            ce.push(e);
        }
        while let Some(e) = s.poll_event() {
            se.push(e);
        }
        if !moved {
            *now += Duration::from_millis(100);
            s.handle_timeout(*now);
            c.handle_timeout(*now);
        }
    }
    (se, ce)
}

fn ping(src: Ipv4Addr, dst: Ipv4Addr) -> (Vec<u8>, std::ops::Range<usize>) {
    let p = esp::ip::icmp_echo(esp::ip::Ipv4Header::new(src, dst, 0), false, 7, 1, b"ra").unwrap();
    let mut buf = vec![0u8; Gateway::HEADROOM + p.len() + Gateway::TAILROOM];
    let range = Gateway::HEADROOM..Gateway::HEADROOM + p.len();
    buf[range.clone()].copy_from_slice(&p);
    (buf, range)
}

/// Sends a ping through `from` and decapsulates it at `to`.
fn through(from: &mut Gateway, to: &mut Gateway, now: Instant, src: Ipv4Addr, dst: Ipv4Addr) {
    let (mut buf, range) = ping(src, dst);
    let Plaintext::Encrypted { packet, .. } = from.handle_plaintext(now, &mut buf, range) else {
        panic!("not encrypted");
    };
    let mut esp = buf[packet].to_vec();
    match to.handle_esp(now, &mut esp) {
        Esp::Decrypted { packet, .. } => {
            let inner = &esp[packet];
            assert_eq!(&inner[12..16], &src.octets());
            assert_eq!(&inner[16..20], &dst.octets());
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_client_logs_in_gets_an_address_and_tunnels_through_it() {
    let mut s = server();
    let mut c = client(2, CLIENT);
    let mut now = Instant::now();
    c.connect(now).unwrap();
    let (se, ce) = run(&mut s, &mut c, &mut now, b"secret", Duration::from_secs(10));

    // The server checked alice once, and said yes; no password in events.
    let checked: Vec<_> = se
        .iter()
        .filter_map(|e| match e {
            Event::XauthChecked { user, accepted, .. } => Some((user.clone(), *accepted)),
            _ => None,
        })
        .collect();
    assert_eq!(checked, vec![("alice".to_owned(), true)]);
    assert!(!format!("{se:?}{ce:?}").contains("secret"));

    // The client got the group's configuration and the pool's first
    // address.
    let cfg = c.client_config().expect("configured").clone();
    assert_eq!(cfg.address, Some(Ipv4Addr::new(10, 99, 0, 10)));
    assert_eq!(cfg.dns, vec![Ipv4Addr::new(10, 0, 0, 53)]);
    assert_eq!(cfg.domain.as_deref(), Some("example.test"));
    assert_eq!(cfg.banner.as_deref(), Some("authorised users only"));
    assert_eq!(cfg.split_include.len(), 1);
    assert_eq!(cfg.split_include[0].address, Ipv4Addr::new(10, 0, 0, 0));
    assert_eq!(cfg.split_include[0].mask, Ipv4Addr::new(255, 255, 255, 0));

    // One tunnel each: the client's address to the split network.
    assert_eq!(c.tunnels().len(), 1, "{ce:#?}\n{se:#?}");
    assert_eq!(s.tunnels().len(), 1, "{se:#?}");
    let addr = cfg.address.unwrap();
    through(&mut c, &mut s, now, addr, LAN_HOST);
    through(&mut s, &mut c, now, LAN_HOST, addr);

    // Traffic outside the split network stays out of the tunnel.
    let (mut buf, range) = ping(addr, Ipv4Addr::new(198, 51, 100, 7));
    assert!(matches!(
        c.handle_plaintext(now, &mut buf, range),
        Plaintext::Bypass
    ));

    // The operator's views: the session with its user, group and address;
    // the pool with one address in use.
    let session = s.show(now, ted::gateway::ShowCommand::CryptoSession);
    for needle in [
        "Username: alice",
        "Group: ragroup",
        "Assigned address: 10.99.0.10",
        "Session status: UP-ACTIVE",
        "Peer: 192.0.2.10 port 500",
        "IPSEC FLOW: permit ip 10.0.0.0/255.255.255.0 host 10.99.0.10",
    ] {
        assert!(session.contains(needle), "{needle}\n{session}");
    }
    let pool = s.show(
        now,
        ted::gateway::ShowCommand::parse("show ip local pool").unwrap(),
    );
    let row = pool.lines().nth(1).unwrap();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cols,
        vec!["rapool", "10.99.0.10", "10.99.0.11", "1", "1"],
        "{pool}"
    );

    // The pool shows the lease; clearing the server's ISAKMP SA frees it.
    let leases: Vec<_> = s
        .address_pools()
        .flat_map(|p| p.leases().map(|l| (l.address, l.user.to_owned())))
        .collect();
    assert_eq!(leases, vec![(addr, "alice@192.0.2.10".to_owned())]);
    s.clear_crypto_isakmp(now);
    run(&mut s, &mut c, &mut now, b"secret", Duration::from_secs(1));
    assert_eq!(s.address_pools().map(|p| p.in_use()).sum::<usize>(), 0);
}

#[test]
fn a_wrong_password_is_refused_three_times_and_gets_nothing() {
    let mut s = server();
    let mut c = client(3, CLIENT);
    let mut now = Instant::now();
    c.connect(now).unwrap();
    let (se, ce) = run(&mut s, &mut c, &mut now, b"wrong", Duration::from_secs(10));
    let refused = se
        .iter()
        .filter(|e| {
            matches!(
                e,
                Event::XauthChecked {
                    accepted: false,
                    ..
                }
            )
        })
        .count();
    assert_eq!(refused, 3);
    assert!(ce.iter().any(|e| matches!(
        e,
        Event::Ike(Ike::XauthFailed {
            reason: ike_sm::XauthFailure::Rejected,
            ..
        })
    )));
    assert!(c.client_config().is_none());
    assert!(c.tunnels().is_empty() && s.tunnels().is_empty());
    assert_eq!(s.address_pools().map(|p| p.in_use()).sum::<usize>(), 0);
}

#[test]
fn an_empty_pool_refuses_the_third_client_only() {
    let mut s = server();
    let mut now = Instant::now();
    let mut clients: Vec<Gateway> = (0..3)
        .map(|i| {
            client(
                10 + i,
                Ipv4Addr::new(192, 0, 2, 20 + u8::try_from(i).unwrap()),
            )
        })
        .collect();
    let mut refused = 0;
    for c in &mut clients {
        c.connect(now).unwrap();
        let (se, _) = run(&mut s, c, &mut now, b"secret", Duration::from_secs(10));
        refused += se
            .iter()
            .filter(|e| matches!(e, Event::ModeCfgRefused { .. }))
            .count();
    }
    let got: Vec<Option<Ipv4Addr>> = clients
        .iter()
        .map(|c| c.client_config().and_then(|k| k.address))
        .collect();
    assert_eq!(
        got,
        vec![
            Some(Ipv4Addr::new(10, 99, 0, 10)),
            Some(Ipv4Addr::new(10, 99, 0, 11)),
            None
        ]
    );
    assert_eq!(refused, 1);
    // The first two still have their tunnels.
    assert_eq!(s.tunnels().len(), 2);
    let _ = SocketAddrV4::new(SERVER, 500);
}

/// The Easy VPN server configuration file, as parsed from IOS text (the
/// group, pool, users, split ACL and map lines), against a client.
#[test]
fn the_easy_vpn_configuration_file_serves_a_client() {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/easyvpn-server.cfg"),
    )
    .unwrap();
    let config = ted::config::ios::parse(&text).unwrap().config;
    let mut s = Gateway::new(
        config,
        "FastEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(7)),
        GatewayOptions::default(),
    )
    .unwrap();
    let client_cfg = "\
crypto isakmp policy 10
 encryption 3des
 hash md5
 authentication pre-share
 group 2
crypto ipsec transform-set ts esp-3des esp-sha-hmac
access-list 150 permit ip any any
crypto map ra 10 ipsec-isakmp
 set peer 198.51.100.1
 set transform-set ts
 match address 150
interface FastEthernet0/0
 ip address 198.51.100.77 255.255.255.0
 crypto map ra
";
    let mut options = GatewayOptions::default();
    options.client = Some(ClientOptions::new("ragroup", b"Ra-Group-Key-9"));
    let mut c = Gateway::new(
        ted::config::ios::parse(client_cfg).unwrap().config,
        "FastEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(8)),
        options,
    )
    .unwrap();
    let mut now = Instant::now();
    c.connect(now).unwrap();
    run(
        &mut s,
        &mut c,
        &mut now,
        b"Wonderland-42",
        Duration::from_secs(10),
    );
    let cfg = c.client_config().expect("configured").clone();
    assert_eq!(cfg.address, Some(Ipv4Addr::new(10, 99, 0, 10)));
    assert_eq!(
        cfg.dns,
        vec![Ipv4Addr::new(10, 0, 0, 53), Ipv4Addr::new(10, 0, 0, 54)]
    );
    assert_eq!(cfg.nbns, vec![Ipv4Addr::new(10, 0, 0, 55)]);
    assert_eq!(cfg.domain.as_deref(), Some("corp.example"));
    assert_eq!(cfg.save_password, Some(true));
    assert_eq!(cfg.backup_servers, vec!["198.51.100.2".to_owned()]);
    assert!(
        cfg.banner
            .as_deref()
            .unwrap()
            .contains("Authorised users only.")
    );
    let nets: Vec<(Ipv4Addr, Ipv4Addr)> = cfg
        .split_include
        .iter()
        .map(|n| (n.address, n.mask))
        .collect();
    assert_eq!(
        nets,
        vec![
            (Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 255, 255, 0)),
            (Ipv4Addr::new(10, 1, 0, 0), Ipv4Addr::new(255, 255, 255, 0)),
        ]
    );
    // One tunnel per split network.
    assert_eq!(c.tunnels().len(), 2);
    let addr = cfg.address.unwrap();
    through(&mut c, &mut s, now, addr, Ipv4Addr::new(10, 1, 0, 9));
    through(&mut s, &mut c, now, Ipv4Addr::new(10, 0, 0, 9), addr);
}
