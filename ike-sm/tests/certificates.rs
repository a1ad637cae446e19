//! Certificate authentication between two engines (RFC 2409 s.5.1, RFC
//! 4754): RSA and ECDSA in Main and Aggressive Mode, fragmentation of the
//! large messages certificates make, and every refusal with its reason.
//! The certificates are openssl's (tests/data/certs/make.sh).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::Arc;

use common::*;
use ike_pki::{CertError, Certificate, PrivateKey, SignatureAlgorithm, TrustStore};
use ike_sm::{
    CertRefusal, Config, Credentials, Event, ExchangeMode, FailReason, FragmentationConfig,
    Identity, IsakmpPolicy, LocalIdentity, Phase1Auth, SendCertificate, TransformSet,
};

/// 2027-01-01, inside the test certificates' validity.
const NOW_UNIX: u64 = 1_798_761_600;

fn data(name: &str) -> String {
    let path = format!("{}/tests/data/certs/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn cert(name: &str) -> Certificate {
    Certificate::from_pem(&data(&format!("{name}.pem"))).unwrap()
}

/// A side authenticating with the certificate `name` (and its key),
/// trusting `ca`, identified by its certificate's subject DN, in `mode`.
fn side(name: &str, alg: SignatureAlgorithm, mode: ExchangeMode) -> Config {
    let mut c = lab_config(b"unused");
    c.pre_shared_keys.clear();
    let certificate = cert(name);
    c.identity = LocalIdentity::Fixed(Identity::Dn(certificate.subject_der()));
    c.policies = vec![IsakmpPolicy {
        auth: Phase1Auth::Signature(alg),
        ..IsakmpPolicy::new(10)
    }];
    c.pki.credentials = Some(Arc::new(Credentials {
        certificate,
        chain: Vec::new(),
        key: PrivateKey::from_pem(&data(&format!("{name}.key"))).unwrap(),
    }));
    let mut trust = TrustStore::new();
    trust.add_anchor(cert("ca"));
    c.pki.trust = trust;
    c.default_mode = mode;
    c
}

fn run(a: Config, b: Config) -> Pair {
    let mut p = pair_with(a, b);
    let now = p.now;
    p.a.set_calendar_time(now, NOW_UNIX);
    p.b.set_calendar_time(now, NOW_UNIX);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    p
}

fn peer_subjects(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::PeerCertificate { subject, .. } => Some(subject.clone()),
            _ => None,
        })
        .collect()
}

fn refusal(events: &[Event]) -> Option<CertRefusal> {
    events.iter().find_map(|e| match e {
        Event::Phase1Failed {
            reason: FailReason::Certificate(r),
            ..
        } => Some(r.clone()),
        _ => None,
    })
}

fn assert_up(p: &Pair) {
    assert_eq!(
        Pair::established(&p.a_events).len(),
        1,
        "a: {:?}",
        p.a_events
    );
    assert_eq!(
        Pair::established(&p.b_events).len(),
        1,
        "b: {:?}",
        p.b_events
    );
    let a = peer_subjects(&p.a_events);
    let b = peer_subjects(&p.b_events);
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert!(a[0].contains("bob.example"), "{a:?}");
    assert!(b[0].contains("alice.example"), "{b:?}");
}

#[test]
fn rsa_main_mode() {
    let p = run(
        side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main),
        side("bob-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main),
    );
    assert_up(&p);
}

#[test]
fn ecdsa_main_mode_p256_and_p384() {
    for (a, b, alg) in [
        ("alice-p256", "bob-p256", SignatureAlgorithm::EcdsaP256),
        ("alice-p384", "bob-p384", SignatureAlgorithm::EcdsaP384),
    ] {
        let p = run(
            side(a, alg, ExchangeMode::Main),
            side(b, alg, ExchangeMode::Main),
        );
        assert_up(&p);
    }
}

#[test]
fn rsa_and_ecdsa_aggressive_mode() {
    for (a, b, alg) in [
        ("alice-rsa", "bob-rsa", SignatureAlgorithm::Rsa),
        ("alice-p256", "bob-p256", SignatureAlgorithm::EcdsaP256),
    ] {
        let p = run(
            side(a, alg, ExchangeMode::Aggressive),
            side(b, alg, ExchangeMode::Aggressive),
        );
        assert_up(&p);
    }
}

#[test]
fn identity_by_fqdn_and_address_from_the_certificate() {
    let mut a = side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    a.identity = LocalIdentity::Fixed(Identity::Fqdn("alice.example".into()));
    // Bob's ID is his address, which his certificate names (SAN IP).
    let mut b = side("bob-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    b.identity = LocalIdentity::Address;
    assert_up(&run(a, b));
}

#[test]
fn certificates_are_fragmented_when_the_size_is_small() {
    let small = FragmentationConfig {
        fragment_size: 576,
        ..FragmentationConfig::default()
    };
    let mut a = side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    a.fragmentation = small.clone();
    let mut b = side("bob-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    b.fragmentation = small;
    let p = run(a, b);
    assert_up(&p);
    // MM5 and MM6 (ID, CERT of about 900 bytes, SIG of 256) went in pieces.
    assert!(p.a.counters().fragments_sent >= 2);
    assert!(p.b.counters().fragments_sent >= 2);
    assert!(p.sent.iter().all(|(_, d)| d.len() <= 576 - 28));
    assert!(p.a.counters().fragments_reassembled >= 1);
}

#[test]
fn refused_certificates_name_their_reason() {
    let expect = |bob: &str, want: fn(&CertRefusal) -> bool| {
        let p = run(
            side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main),
            side(bob, SignatureAlgorithm::Rsa, ExchangeMode::Main),
        );
        assert!(Pair::established(&p.a_events).is_empty());
        let r = refusal(&p.a_events).unwrap_or_else(|| panic!("{bob}: {:?}", p.a_events));
        assert!(want(&r), "{bob}: {r:?}");
        assert!(p.a.counters().certificate_refused >= 1);
    };
    expect("bob-expired", |r| {
        matches!(r, CertRefusal::Invalid(CertError::Expired { .. }))
    });
    expect("bob-other", |r| {
        matches!(r, CertRefusal::Invalid(CertError::UnknownIssuer { .. }))
    });
}

#[test]
fn an_identity_the_certificate_does_not_name_is_refused() {
    let a = side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    let mut b = side("bob-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    b.identity = LocalIdentity::Fixed(Identity::Fqdn("mallory.example".into()));
    let p = run(a, b);
    assert_eq!(
        refusal(&p.a_events),
        Some(CertRefusal::Invalid(CertError::IdentityMismatch))
    );
}

#[test]
fn without_calendar_time_certificates_are_refused() {
    let mut p = pair_with(
        side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main),
        side("bob-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main),
    );
    let now = p.now;
    p.a.set_calendar_time(now, NOW_UNIX);
    p.a.initiate(p.now, lab_request(vec![TransformSet::strong()]))
        .unwrap();
    p.drive();
    assert_eq!(refusal(&p.b_events), Some(CertRefusal::NoClock));
}

#[test]
fn a_key_of_another_algorithm_than_the_method_is_refused() {
    // Bob signs with P-256 under the RSA method's number: his policy says
    // RSA, his key is ECDSA. He cannot sign with it.
    let a = side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    let mut b = side("bob-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    b.pki.credentials = Some(Arc::new(Credentials {
        certificate: cert("bob-p256"),
        chain: Vec::new(),
        key: PrivateKey::from_pem(&data("bob-p256.key")).unwrap(),
    }));
    let p = run(a, b);
    assert!(Pair::established(&p.a_events).is_empty());
    assert!(Pair::established(&p.b_events).is_empty());
}

#[test]
fn no_certificate_sent_when_not_asked_and_policy_says_if_requested() {
    let mut a = side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    a.pki.send_certificate = SendCertificate::IfRequested;
    let mut b = side("bob-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    b.pki.send_certificate_requests = false;
    let p = run(a, b);
    assert_eq!(refusal(&p.b_events), Some(CertRefusal::NoCertificate));
}

#[test]
fn a_psk_only_peer_is_not_offered_certificates_without_credentials() {
    // A signature policy without credentials is neither offered nor
    // accepted: the PSK policy next to it is used.
    let mut a = lab_config(b"k");
    a.policies.insert(
        0,
        IsakmpPolicy {
            auth: Phase1Auth::Signature(SignatureAlgorithm::Rsa),
            ..IsakmpPolicy::new(5)
        },
    );
    let p = run(a, lab_config(b"k"));
    assert_eq!(Pair::established(&p.a_events).len(), 1);
    assert!(peer_subjects(&p.a_events).is_empty());
}

/// Bob's certificate with another key's signature: `key` signs, the
/// certificate's key does not verify it.
fn bob_signing_with(key: &str) -> Config {
    let mut b = side("bob-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    b.pki.credentials = Some(Arc::new(Credentials {
        certificate: cert("bob-rsa"),
        chain: Vec::new(),
        key: PrivateKey::from_pem(&data(key)).unwrap(),
    }));
    b
}

#[test]
fn a_signature_by_another_key_or_of_the_wrong_length_is_refused() {
    // Alice's key (same size as bob's): a well-formed signature that does
    // not verify. A 3072-bit key: a 384-byte SIG where 256 are expected.
    for key in ["alice-rsa.key", "stray-rsa3072.key"] {
        let p = run(
            side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main),
            bob_signing_with(key),
        );
        assert_eq!(
            refusal(&p.a_events),
            Some(CertRefusal::BadSignature),
            "{key}"
        );
        assert!(Pair::established(&p.a_events).is_empty());
    }
}

#[test]
fn a_fragment_flood_from_spoofed_addresses_stays_within_the_bounds() {
    use ike_sm::fragment::FragmentLimits;
    use isakmp_wire::{FragmentMessage, FragmentRepr, HeaderRepr};
    let mut c = side("bob-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main);
    c.fragmentation.limits = FragmentLimits::default();
    let limits = c.fragmentation.limits.clone();
    let mut p = pair_with(
        side("alice-rsa", SignatureAlgorithm::Rsa, ExchangeMode::Main),
        c,
    );
    let (b_addr, now) = (p.b_addr, p.now);
    let data = [0xA5u8; 1000];
    // 20,000 first fragments (never a last one) of distinct messages from
    // 2,000 addresses: none completes, each opens a message.
    for i in 0..20_000u32 {
        let [a, b, c, d] = i.to_be_bytes();
        let header = HeaderRepr {
            initiator_cookie: [a, b, c, d, 1, 2, 3, 4],
            ..HeaderRepr::default()
        };
        let frag = FragmentMessage {
            header,
            fragment: FragmentRepr::new(1, 1, false, &data),
        }
        .to_vec()
        .unwrap();
        let from =
            std::net::SocketAddr::from(([10, 9, (i % 2000 / 250) as u8, (i % 250) as u8], 500));
        p.b.handle_datagram(now, b_addr, from, &frag);
    }
    let f = p.b.fragment_counters();
    assert_eq!(f.fragments, 20_000);
    assert!(f.refused > 0, "{f:?}");
    let (messages, bytes) = p.b.fragments_held();
    assert!(messages <= limits.max_messages, "{messages}");
    assert!(bytes <= limits.max_bytes, "{bytes}");
    // The limits' lifetime frees them all.
    p.b.handle_timeout(now + limits.timeout + std::time::Duration::from_secs(1));
    assert_eq!(p.b.fragments_held(), (0, 0));
}
