//! The seed scenario (vectors/seed, docs/seed.md): Daphne (11.11.11.1)
//! initiates Main Mode and Quick Mode to fred (11.11.11.2) with IOS
//! defaults (DES, SHA, group 1, PSK abc123) and ESP DES + HMAC-MD5 tunnel,
//! 3600 s / 4608000 KB, the seed's Quick Mode message ID and SPIs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::*;
use ike_sm::{
    EspEncryption, EspIntegrity, EspMode, Event, IsakmpState, Lifetime, Role, Spi, TraceEvent,
};

fn sent_states(events: &[Event]) -> Vec<&'static str> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Trace(t) => match &t.event {
                TraceEvent::SendingPacket {
                    state,
                    retransmission: false,
                    ..
                } => Some(state.ios_name()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn seed_main_mode_and_quick_mode() {
    let mut p = seed_pair();
    let neg = p.a.initiate(p.now, seed_request()).unwrap();
    p.drive();

    let d = Pair::established(&p.a_events);
    let f = Pair::established(&p.b_events);
    assert_eq!(d.len(), 1, "Daphne: {:#?}", p.a_events);
    assert_eq!(f.len(), 1, "fred: {:#?}", p.b_events);
    let (d, f) = (d[0], f[0]);

    // The seed's identifiers (docs/seed.md: Daphne 23.285 and 23.986, fred 50.551).
    assert_eq!(d.message_id, 409_419_560);
    assert_eq!(f.message_id, 409_419_560);
    assert_eq!(d.inbound.spi, Spi(0xF800_D61F));
    assert_eq!(d.outbound.spi, Spi(0xA479_0FA0));
    assert_eq!(f.inbound.spi, Spi(0xA479_0FA0));
    assert_eq!(f.outbound.spi, Spi(0xF800_D61F));
    assert_eq!(d.negotiation, Some(neg));
    assert_eq!((d.role, f.role), (Role::Initiator, Role::Responder));

    // Both sides derived the same keys, crosswise.
    assert_eq!(d.outbound, f.inbound);
    assert_eq!(d.inbound, f.outbound);
    assert_ne!(d.inbound.encryption_key, d.outbound.encryption_key);
    assert_eq!(d.inbound.encryption_key.len(), 8, "DES");
    assert_eq!(d.inbound.integrity_key.len(), 16, "HMAC-MD5");

    // Transform, proxies, lifetimes.
    assert_eq!(d.transform.encryption, EspEncryption::DesCbc);
    assert_eq!(d.transform.integrity, EspIntegrity::HmacMd5_96);
    assert_eq!(d.transform.mode, EspMode::Tunnel);
    assert_eq!(d.lifetime, Lifetime::IOS_IPSEC);
    assert_eq!(f.lifetime, Lifetime::IOS_IPSEC);
    assert_eq!(d.local_proxy.to_string(), "13.13.13.0/255.255.255.0/0/0");
    assert_eq!(d.remote_proxy.to_string(), "12.12.12.0/255.255.255.0/0/0");
    assert_eq!(f.local_proxy, d.remote_proxy);
    assert_eq!(f.remote_proxy, d.local_proxy);
    assert_eq!(d.pfs, None);

    // The packet states of the seed's debug lines, in order.
    assert_eq!(
        sent_states(&p.a_events),
        [
            "MM_NO_STATE",
            "MM_SA_SETUP",
            "MM_KEY_EXCH",
            "QM_IDLE",
            "QM_IDLE"
        ]
    );
    assert_eq!(
        sent_states(&p.b_events),
        ["MM_SA_SETUP", "MM_KEY_EXCH", "QM_IDLE", "QM_IDLE"]
    );
    // Six Main Mode messages and three Quick Mode ones, nothing else.
    assert_eq!(p.sent.len(), 9);

    // show crypto isakmp sa.
    let sas = p.a.isakmp_sas(p.now);
    assert_eq!(sas.len(), 1);
    assert_eq!(sas[0].state, IsakmpState::QmIdle);
    assert_eq!(sas[0].remote, addr(FRED));
    let ipsec = p.b.ipsec_sas(p.now);
    assert_eq!(ipsec.len(), 1);
    assert_eq!(ipsec[0].inbound, Spi(0xA479_0FA0));

    // Weak algorithms are reported once each: DES, SHA-1 (the phase-1
    // PRF), MODP-768; ESP's DES and HMAC-MD5.
    let weak: Vec<String> = p
        .a_events
        .iter()
        .filter_map(|e| match e {
            Event::WeakAlgorithm { algorithm, .. } => Some(algorithm.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        weak,
        ["DES-CBC", "SHA1", "MODP-768", "esp-des", "esp-md5-hmac"]
    );

    // No secret in any event's Debug output.
    let shown = format!("{:?}{:?}", p.a_events, p.b_events);
    let key_hex: String = d
        .inbound
        .encryption_key
        .expose()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!shown.contains(&key_hex));
    assert!(!shown.contains("abc123"));
    assert_eq!(p.a.counters().dropped(), 0);
    assert_eq!(p.b.counters().dropped(), 0);
}

#[test]
fn phase1_key_export_matches_on_both_ends() {
    let mut p = seed_pair();
    let sa_before =
        p.a.initiate_phase1(p.now, addr(FRED), addr(DAPHNE))
            .unwrap();
    // Not established yet: nothing to export.
    assert!(p.a.export_phase1_key(sa_before).is_none());
    p.drive();
    let id = |events: &[Event]| {
        events
            .iter()
            .find_map(|e| match e {
                Event::Phase1Established(x) => Some(x.sa),
                _ => None,
            })
            .unwrap()
    };
    let (a_id, b_id) = (id(&p.a_events), id(&p.b_events));
    let (a_cookie, a_key) = p.a.export_phase1_key(a_id).unwrap();
    let (b_cookie, b_key) = p.b.export_phase1_key(b_id).unwrap();
    // One SA seen from both ends: same initiator cookie, same Ka, and Ka
    // is a DES key (8 bytes) for the seed's policy.
    assert_eq!(a_cookie, b_cookie);
    assert_eq!(a_key.expose(), b_key.expose());
    assert_eq!(a_key.len(), 8);
    let info = p.a.isakmp_sa(a_id, p.now).unwrap();
    assert_eq!(info.initiator_cookie, a_cookie);
}

#[test]
fn entropy_mut_serves_the_injected_source() {
    use ike_sm::{Endpoint, Purpose, ScriptedEntropy};
    use std::sync::Arc;
    let mut e = Endpoint::new(
        Arc::new(ike_sm::Config::default()),
        Box::new(ScriptedEntropy::new(rng(9)).with(Purpose::Cookie, &[7; 8])),
    );
    let mut b = [0u8; 8];
    e.entropy_mut().fill(Purpose::Cookie, &mut b);
    assert_eq!(b, [7; 8], "the scripted value comes through");
    e.entropy_mut().fill(Purpose::Cookie, &mut b);
    assert_ne!(b, [7; 8], "then the generator");
}

/// The steps of one side as (conn-id, short name), in order.
fn steps(events: &[Event]) -> Vec<(u32, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Trace(t) => {
                let name = match &t.event {
                    TraceEvent::ProcessingPayload {
                        payload,
                        message_id,
                    } => format!("processing {payload} {message_id}"),
                    TraceEvent::FoundPsk { .. } => "found psk".into(),
                    TraceEvent::CheckingIsakmpTransform { .. } => "checking isakmp".into(),
                    TraceEvent::CheckingIpsecProposal { .. } => "checking ipsec".into(),
                    TraceEvent::AttributesAcceptable { acceptable, .. } => {
                        format!("acceptable {acceptable}")
                    }
                    TraceEvent::SendingPacket { state, .. } => format!("sending {state}"),
                    TraceEvent::DeletingNode { message_id, .. } => {
                        format!("deleting node {message_id}")
                    }
                    TraceEvent::CreatingIpsecSas { .. } => "creating".into(),
                    TraceEvent::SpiAllocated { .. } => "spi".into(),
                    _ => return None,
                };
                Some((t.conn_id, name))
            }
            _ => None,
        })
        .collect()
}

fn subsequence(have: &[(u32, String)], want: &[(u32, &str)]) -> bool {
    let mut it = have.iter();
    want.iter()
        .all(|(c, w)| it.any(|(hc, h)| hc == c && h == w))
}

#[test]
fn traces_follow_the_seeds_order_and_numbering() {
    let mut p = seed_pair();
    p.a.initiate(p.now, seed_request()).unwrap();
    p.drive();
    let m = 409_419_560;
    // fred (responder): the MM1 steps carry the new SA's conn-id, as IOS
    // prints "(0:1): processing SA payload" (no TED exchange here, so 1).
    let fred = steps(&p.b_events);
    assert!(
        subsequence(
            &fred,
            &[
                (1, "processing SA 0"),
                (1, "found psk"),
                (1, "checking isakmp"),
                (1, "acceptable true"),
                (1, "sending MM_SA_SETUP"),
                (1, &format!("processing HASH {m}")),
                (1, &format!("processing SA {m}")),
                (1, "checking ipsec"),
                (1, "acceptable true"),
                (1, &format!("processing NONCE {m}")),
                (1, &format!("processing ID {m}")),
                (1, &format!("processing ID {m}")),
                (1, "spi"),
                (1, "sending QM_IDLE"),
                (1, "creating"),
                (1, &format!("deleting node {m}")),
            ]
        ),
        "{fred:#?}"
    );
    assert!(!fred.iter().any(|(c, _)| *c == 0), "{fred:#?}");
    // Daphne (initiator): QM2's payloads, then the SAs, QM3, and only then
    // the node is deleted (the seed's 23.958 - 23.994).
    let daphne = steps(&p.a_events);
    let qm: Vec<(u32, String)> = daphne
        .into_iter()
        .skip_while(|(_, s)| s != "sending QM_IDLE")
        .skip(1)
        .collect();
    let want: Vec<(u32, String)> = [
        format!("processing HASH {m}"),
        format!("processing SA {m}"),
        "checking ipsec".into(),
        "acceptable true".into(),
        format!("processing NONCE {m}"),
        format!("processing ID {m}"),
        format!("processing ID {m}"),
        "creating".into(),
        "sending QM_IDLE".into(),
        format!("deleting node {m}"),
    ]
    .into_iter()
    .map(|s| (1, s))
    .collect();
    assert_eq!(qm, want);
}
