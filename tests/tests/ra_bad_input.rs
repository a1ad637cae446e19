//! Bad input to remote access (issue 13, item 5), through
//! `ike_sm::fuzzing::RaWorld`: Transaction messages sealed with the SA's
//! real keys, so that they pass the HASH and reach the XAUTH and
//! Mode-Config handlers: Mode-Config before XAUTH, an unsolicited SET,
//! repeated and wrong-length attributes, too many attributes. Each is
//! dropped and counted, and the exchange it interrupted still completes.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

use std::net::Ipv4Addr;
use std::time::Instant;

use ike_sm::fuzzing::RaWorld;
use ike_sm::{Event, ModeConfig, XauthFailure};
use isakmp_wire::Attribute;
use isakmp_wire::mode_cfg::{AttributesRepr, CfgAttributeType as T, CfgType};

fn body(cfg_type: CfgType, identifier: u16, attributes: Vec<Attribute<'_>>) -> Vec<u8> {
    AttributesRepr {
        cfg_type,
        identifier,
        attributes,
    }
    .to_vec()
    .unwrap()
}

fn lease() -> ModeConfig {
    ModeConfig {
        address: Some(Ipv4Addr::new(10, 99, 0, 7)),
        ..ModeConfig::default()
    }
}

/// Phase 1 up, the server's XAUTH REQUEST delivered: the client waits
/// for its caller's credentials.
fn prompting() -> RaWorld {
    let mut w = RaWorld::new(Instant::now(), false);
    w.initiate();
    w.settle();
    assert!(
        w.client_events
            .iter()
            .any(|e| matches!(e, Event::XauthRequested(_)))
    );
    w
}

fn finish(w: &mut RaWorld) {
    w.credentials("alice", b"secret");
    w.settle();
    w.verdict(true);
    w.settle();
    w.configure(Some(&lease()));
    w.settle();
}

#[test]
fn mode_cfg_before_xauth_is_dropped() {
    let mut w = prompting();
    let req = body(
        CfgType::REQUEST,
        7,
        vec![Attribute::variable(T::INTERNAL_IP4_ADDRESS.0, &[])],
    );
    assert!(w.inject(true, Some(0x0102_0304), &req));
    assert_eq!(w.server.counters().remote_access, 1);
    assert!(
        !w.server_events
            .iter()
            .any(|e| matches!(e, Event::ModeCfgRequested(_)))
    );
    finish(&mut w);
    assert_eq!(w.received().len(), 1);
}

#[test]
fn an_unsolicited_set_is_dropped() {
    let mut w = prompting();
    let set = body(
        CfgType::SET,
        9,
        vec![Attribute::variable(
            T::INTERNAL_IP4_ADDRESS.0,
            &[10, 1, 2, 3],
        )],
    );
    assert!(w.inject(false, Some(0x0a0b_0c0d), &set));
    assert_eq!(w.client.counters().remote_access, 1);
    assert!(w.received().is_empty());
    // Also a status nobody asked for: dropped, nothing authenticates.
    let status = body(
        CfgType::SET,
        9,
        vec![Attribute::basic(T::XAUTH_STATUS.0, 1)],
    );
    assert!(w.inject(false, Some(0x0a0b_0c0e), &status));
    assert_eq!(w.client.counters().remote_access, 2);
    assert!(
        !w.client_events
            .iter()
            .any(|e| matches!(e, Event::XauthCompleted { .. }))
    );
    finish(&mut w);
    assert_eq!(w.received()[0].address, lease().address);
}

#[test]
fn a_reply_with_a_repeated_user_name_is_dropped() {
    let mut w = prompting();
    // The client (its caller has not answered yet) plays a REPLY on the
    // server's transaction, naming two users.
    let identifier = w.identifier(true).unwrap();
    let reply = body(
        CfgType::REPLY,
        identifier,
        vec![
            Attribute::variable(T::XAUTH_USER_NAME.0, b"alice"),
            Attribute::variable(T::XAUTH_USER_NAME.0, b"mallory"),
            Attribute::variable(T::XAUTH_USER_PASSWORD.0, b"secret"),
        ],
    );
    assert!(w.inject(true, None, &reply));
    assert_eq!(w.server.counters().remote_access, 1);
    assert!(
        !w.server_events
            .iter()
            .any(|e| matches!(e, Event::XauthVerify(_)))
    );
    finish(&mut w);
    assert_eq!(w.received().len(), 1);
}

/// The server's caller is asked for the client's configuration: the
/// client's Mode-Config REQUEST is in, the server holds its chain.
fn asking() -> RaWorld {
    let mut w = prompting();
    w.credentials("alice", b"secret");
    w.settle();
    w.verdict(true);
    w.settle();
    assert!(
        w.server_events
            .iter()
            .any(|e| matches!(e, Event::ModeCfgRequested(_)))
    );
    w
}

#[test]
fn reply_attributes_of_the_wrong_length_are_dropped() {
    let mut w = asking();
    let identifier = w.identifier(false).unwrap();
    for bad in [
        Attribute::variable(T::INTERNAL_IP4_ADDRESS.0, &[10, 1, 2, 3, 4]),
        Attribute::variable(T::INTERNAL_IP4_NETMASK.0, &[255, 255]),
        Attribute::variable(T::UNITY_SPLIT_INCLUDE.0, &[0; 13]),
        Attribute::variable(T::UNITY_SAVE_PASSWD.0, &[0; 5]),
        Attribute::variable(T::UNITY_BANNER.0, &[b'x'; 5000]),
    ] {
        let reply = body(CfgType::REPLY, identifier, vec![bad]);
        assert!(w.inject(false, None, &reply));
    }
    // A repeated single-valued attribute too.
    let twice = body(
        CfgType::REPLY,
        identifier,
        vec![
            Attribute::variable(T::INTERNAL_IP4_ADDRESS.0, &[10, 1, 2, 3]),
            Attribute::variable(T::INTERNAL_IP4_ADDRESS.0, &[10, 1, 2, 4]),
        ],
    );
    assert!(w.inject(false, None, &twice));
    assert_eq!(w.client.counters().remote_access, 6);
    assert!(w.received().is_empty());
    w.configure(Some(&lease()));
    w.settle();
    assert_eq!(w.received()[0].address, lease().address);
}

#[test]
fn a_reply_with_identifier_zero_is_taken() {
    // strongSwan's XAUTH client answers with identifier 0 whatever the
    // server's request carried: the message ID and HASH pair them.
    let mut w = prompting();
    let reply = body(
        CfgType::REPLY,
        0,
        vec![
            Attribute::variable(T::XAUTH_USER_NAME.0, b"alice"),
            Attribute::variable(T::XAUTH_USER_PASSWORD.0, b"secret"),
        ],
    );
    assert!(w.inject(true, None, &reply));
    assert_eq!(w.server.counters().remote_access, 0);
    assert!(w.server_events.iter().any(
        |e| matches!(e, Event::XauthVerify(v) if v.user == "alice" && v.password.expose() == b"secret")
    ));
}

#[test]
fn a_client_that_leaves_before_authenticating_is_reported() {
    let mut w = prompting();
    let sa = w.client.isakmp_sas(w.now)[0].id;
    w.client.delete_isakmp(w.now, sa).unwrap();
    w.pump();
    w.settle();
    assert!(w.server_events.iter().any(|e| matches!(
        e,
        Event::XauthFailed {
            reason: XauthFailure::Abandoned,
            ..
        }
    )));
    assert_eq!(w.server.counters().xauth_failed, 1);
    assert!(w.server.isakmp_sas(w.now).is_empty());
}

#[test]
fn too_many_attributes_are_dropped() {
    let mut w = prompting();
    let many: Vec<Attribute<'_>> = (0..300)
        .map(|_| Attribute::variable(T::INTERNAL_IP4_DNS.0, &[10, 0, 0, 1]))
        .collect();
    let set = body(CfgType::SET, 1, many);
    assert!(w.inject(false, Some(0x0505_0505), &set));
    assert_eq!(w.client.counters().remote_access, 1);
    finish(&mut w);
    assert_eq!(w.received().len(), 1);
}

#[test]
fn an_xauth_type_we_do_not_speak_ends_the_sa() {
    let mut w = RaWorld::new(Instant::now(), true);
    w.initiate();
    // Let phase 1 finish but keep the server's own REQUEST from the client.
    for _ in 0..16 {
        if w.client
            .isakmp_sas(w.now)
            .iter()
            .any(|s| s.peer_identity.is_some())
            && w.server
                .isakmp_sas(w.now)
                .iter()
                .any(|s| s.peer_identity.is_some())
        {
            break;
        }
        w.deliver(0);
    }
    w.link.clear();
    let otp = body(
        CfgType::REQUEST,
        3,
        vec![
            Attribute::basic(T::XAUTH_TYPE.0, 2),
            Attribute::variable(T::XAUTH_USER_NAME.0, &[]),
            Attribute::variable(T::XAUTH_PASSCODE.0, &[]),
        ],
    );
    assert!(w.inject(false, Some(0x0606_0606), &otp));
    assert!(w.client_events.iter().any(|e| matches!(
        e,
        Event::XauthFailed {
            reason: XauthFailure::UnsupportedType,
            ..
        }
    )));
    assert!(w.client.isakmp_sas(w.now).is_empty());
}
