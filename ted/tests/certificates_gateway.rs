//! Two gateways in memory that authenticate with RSA certificates: `crypto
//! isakmp policy` with `authentication rsa-sig`, `crypto isakmp identity
//! dn`, the credentials in `GatewayOptions::pki`, the CA one side trusts
//! given as a `crypto pki certificate chain` in its configuration; then
//! ESP through the tunnel, `show crypto pki certificates`, and the policy
//! left out when no credentials are given. The certificates are openssl's
//! (ike-sm/tests/data/certs/make.sh).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ike_sm::ike_pki::{Certificate, PrivateKey, TrustStore};
use ike_sm::{Credentials, Event as Ike, IsakmpState};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::gateway::{Esp, Event, Gateway, GatewayOptions, Plaintext, ShowCommand};

/// 2027-01-01, inside the certificates' validity.
const NOW_UNIX: u64 = 1_798_761_600;

fn data(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../ike-sm/tests/data/certs/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn text(name: &str) -> String {
    String::from_utf8(data(name)).unwrap()
}

/// The CA certificate as IOS prints it in a certificate chain: hex, eight
/// groups of eight digits a line, then `quit`.
fn ca_chain_block() -> String {
    let der = Certificate::from_pem(&text("ca.pem"))
        .unwrap()
        .der()
        .to_vec();
    let hex: String = der.iter().map(|b| format!("{b:02X}")).collect();
    let mut out = String::from("crypto pki certificate chain TP\n certificate ca 01\n");
    for line in hex.as_bytes().chunks(64) {
        let groups: Vec<&str> = line
            .chunks(8)
            .map(|g| std::str::from_utf8(g).unwrap())
            .collect();
        out.push_str("  ");
        out.push_str(&groups.join(" "));
        out.push('\n');
    }
    out.push_str("  quit\n");
    out
}

fn config(me: Ipv4Addr, peer: Ipv4Addr, local: &str, remote: &str, chain: bool) -> String {
    format!(
        "hostname gw\n\
         crypto isakmp policy 10\n encr aes 256\n hash sha\n authentication rsa-sig\n group 14\n\
         crypto isakmp identity dn\n\
         crypto ipsec transform-set ts esp-aes 256 esp-sha-hmac\n\
         access-list 101 permit ip {local} 0.0.0.255 {remote} 0.0.0.255\n\
         crypto map m 10 ipsec-isakmp\n set peer {peer}\n set transform-set ts\n match address 101\n\
         {}\
         interface FastEthernet0/0\n ip address {me} 255.255.255.0\n crypto map m\n",
        if chain {
            ca_chain_block()
        } else {
            String::new()
        }
    )
}

fn gateway(name: &str, me: Ipv4Addr, peer: Ipv4Addr, nets: (&str, &str), chain: bool) -> Gateway {
    let cfg = config(me, peer, nets.0, nets.1, chain);
    let config = ted::config::ios::parse(&cfg).unwrap().config;
    let mut options = GatewayOptions::default();
    options.outside_address = Some(me);
    options.pki.credentials = Some(Arc::new(Credentials {
        certificate: Certificate::from_pem(&text(&format!("{name}.pem"))).unwrap(),
        chain: Vec::new(),
        key: PrivateKey::from_pem(&text(&format!("{name}.key"))).unwrap(),
    }));
    if !chain {
        let mut trust = TrustStore::new();
        trust.add_anchor(Certificate::from_pem(&text("ca.pem")).unwrap());
        options.pki.trust = trust;
    }
    options.ike.fragmentation.enabled = true;
    let mut g = Gateway::new(
        config,
        "FastEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(u64::from(me.octets()[3]))),
        options,
    )
    .unwrap();
    g.set_calendar_time(Instant::now(), NOW_UNIX);
    g
}

fn ping(src: Ipv4Addr, dst: Ipv4Addr) -> (Vec<u8>, std::ops::Range<usize>) {
    let p = esp::ip::icmp_echo(esp::ip::Ipv4Header::new(src, dst, 0), false, 7, 1, b"pki").unwrap();
    let mut buf = vec![0u8; Gateway::HEADROOM + p.len() + Gateway::TAILROOM];
    let range = Gateway::HEADROOM..Gateway::HEADROOM + p.len();
    buf[range.clone()].copy_from_slice(&p);
    (buf, range)
}

fn pump(a: &mut Gateway, b: &mut Gateway, now: &mut Instant) -> (Vec<Event>, Vec<Event>) {
    let (mut ae, mut be) = (Vec::new(), Vec::new());
    for _ in 0..200 {
        let mut moved = false;
        while let Some(t) = a.poll_transmit() {
            b.handle_datagram(*now, t.destination, t.source, &t.payload);
            moved = true;
        }
        while let Some(t) = b.poll_transmit() {
            a.handle_datagram(*now, t.destination, t.source, &t.payload);
            moved = true;
        }
        ae.extend(std::iter::from_fn(|| a.poll_event()));
        be.extend(std::iter::from_fn(|| b.poll_event()));
        if !moved {
            *now += Duration::from_millis(100);
            a.handle_timeout(*now);
            b.handle_timeout(*now);
        }
    }
    (ae, be)
}

#[test]
fn rsa_certificates_bring_up_a_tunnel() {
    let (ra, rb) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(192, 0, 2, 2));
    // Alice trusts the CA through her configuration's certificate chain,
    // bob through the options.
    let mut a = gateway("alice-rsa", ra, rb, ("10.1.0.0", "10.2.0.0"), true);
    let mut b = gateway("bob-rsa", rb, ra, ("10.2.0.0", "10.1.0.0"), false);
    let mut now = Instant::now();
    let (src, dst) = (Ipv4Addr::new(10, 1, 0, 5), Ipv4Addr::new(10, 2, 0, 5));
    let (mut buf, range) = ping(src, dst);
    let first = a.handle_plaintext(now, &mut buf, range.clone());
    assert!(matches!(first, Plaintext::Dropped(_)), "{first:?}");
    let (ae, be) = pump(&mut a, &mut b, &mut now);
    let subject = |events: &[Event]| {
        events.iter().find_map(|e| match e {
            Event::Ike(Ike::PeerCertificate { subject, .. }) => Some(subject.clone()),
            _ => None,
        })
    };
    assert!(subject(&ae).unwrap().contains("bob.example"), "{ae:?}");
    assert!(subject(&be).unwrap().contains("alice.example"), "{be:?}");
    // The ISAKMP SA is up on both sides, and ESP goes through.
    assert!(
        a.ike()
            .isakmp_sas(now)
            .iter()
            .any(|s| s.state == IsakmpState::QmIdle)
    );
    let (mut buf, range) = ping(src, dst);
    let Plaintext::Encrypted { packet, .. } = a.handle_plaintext(now, &mut buf, range) else {
        panic!("no tunnel");
    };
    let mut esp = buf[packet].to_vec();
    assert!(matches!(b.handle_esp(now, &mut esp), Esp::Decrypted { .. }));
    // `show crypto pki certificates`: alice's certificate, then the CA.
    let shown = a.show(now, ShowCommand::CryptoPkiCertificates);
    let own = shown.find("Certificate\n").unwrap();
    let ca = shown.find("CA Certificate\n").unwrap();
    assert!(own < ca, "{shown}");
    assert!(shown.contains("    cn=alice.example\n"), "{shown}");
    assert!(shown.contains("    cn=Test CA\n"), "{shown}");
    assert_eq!(
        ShowCommand::parse("show crypto pki certificates"),
        Some(ShowCommand::CryptoPkiCertificates)
    );
}

#[test]
fn without_credentials_an_rsa_sig_policy_is_left_out() {
    let cfg = config(
        Ipv4Addr::new(192, 0, 2, 1),
        Ipv4Addr::new(192, 0, 2, 2),
        "10.1.0.0",
        "10.2.0.0",
        false,
    );
    let config = ted::config::ios::parse(&cfg).unwrap().config;
    let mut options = GatewayOptions::default();
    options.outside_address = Some(Ipv4Addr::new(192, 0, 2, 1));
    let mut g = Gateway::new(
        config,
        "FastEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(3)),
        options,
    )
    .unwrap();
    assert!(
        g.ike()
            .config()
            .policies
            .iter()
            .all(|p| p.auth.signature().is_none())
    );
    let ignored: Vec<String> = std::iter::from_fn(|| g.poll_event())
        .filter_map(|e| match e {
            Event::ConfigIgnored(what) => Some(what),
            _ => None,
        })
        .collect();
    assert!(
        ignored
            .iter()
            .any(|w| w.contains("rsa-sig needs a certificate")),
        "{ignored:?}"
    );
}
