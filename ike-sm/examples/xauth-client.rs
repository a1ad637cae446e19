//! An XAUTH client driven through `ike-sm` alone: a Cisco-style remote
//! access login (group key in Aggressive Mode, then user name and
//! password, then Mode-Config) against an `ike-sm` server, both in
//! memory, with the callers' parts written out: the client's caller
//! answers [`Event::XauthRequested`] (a GUI would prompt a person here),
//! the server's caller checks the password and hands out an address.
//!
//! ```sh
//! cargo run -p ike-sm --example xauth-client
//! ```
#![allow(clippy::print_stdout)]

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ike_sm::{
    AggressiveModePolicy, Config, Endpoint, Event, ExchangeMode, Identity, IsakmpPolicy,
    LocalIdentity, ModeConfig, Phase1Auth, XauthCredentials,
};
use rand_core::SeedableRng;

fn config() -> Config {
    let group = Identity::KeyId(b"ragroup".to_vec());
    let mut c = Config::default().with_psk_for_identity(b"group secret", group.clone());
    c.policies = vec![IsakmpPolicy {
        auth: Phase1Auth::XauthInitPreShared,
        ..IsakmpPolicy::new(10)
    }];
    c.default_mode = ExchangeMode::Aggressive;
    c.identity = LocalIdentity::Fixed(group);
    c.aggressive_mode = AggressiveModePolicy::ANSWER_ALL;
    c
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rng = |s: u8| Box::new(rand_chacha::ChaCha20Rng::from_seed([s; 32]));
    let mut client = Endpoint::new(Arc::new(config()), rng(1));
    let mut server = Endpoint::new(Arc::new(config()), rng(2));
    let c: SocketAddr = "192.0.2.10:500".parse()?;
    let s: SocketAddr = "198.51.100.1:500".parse()?;
    let mut now = Instant::now();

    client.initiate_phase1(now, s, c)?;
    for _ in 0..64 {
        // The link: every datagram is delivered at once.
        let mut moved = false;
        while let Some(t) = client.poll_transmit() {
            server.handle_datagram(now, t.remote, t.local, &t.data);
            moved = true;
        }
        while let Some(t) = server.poll_transmit() {
            client.handle_datagram(now, t.remote, t.local, &t.data);
            moved = true;
        }
        // The client's caller.
        while let Some(e) = client.poll_event() {
            match e {
                Event::XauthRequested(r) => {
                    println!(
                        "client: the server asks for credentials (attempt {})",
                        r.attempt
                    );
                    let creds = XauthCredentials::new("alice", b"correct horse");
                    client.xauth_credentials(now, r.sa, &creds)?;
                }
                Event::XauthCompleted { user, .. } => println!("client: logged in as {user}"),
                Event::ModeCfgReceived { config, .. } => {
                    println!(
                        "client: address {:?}, DNS {:?}, banner {:?}",
                        config.address, config.dns, config.banner
                    );
                    return Ok(());
                }
                _ => {}
            }
        }
        // The server's caller.
        while let Some(e) = server.poll_event() {
            match e {
                Event::XauthVerify(v) => {
                    let ok = v.user == "alice" && v.password.expose() == b"correct horse";
                    println!("server: {} tries to log in: {}", v.user, ok);
                    server.xauth_verdict(now, v.sa, ok)?;
                }
                Event::ModeCfgRequested(r) => {
                    let lease = ModeConfig {
                        address: Some(Ipv4Addr::new(10, 99, 0, 10)),
                        netmask: Some(Ipv4Addr::new(255, 255, 255, 0)),
                        dns: vec![Ipv4Addr::new(10, 0, 0, 53)],
                        banner: Some("authorised users only".into()),
                        ..ModeConfig::default()
                    };
                    server.mode_cfg_reply(now, r.sa, &lease)?;
                }
                _ => {}
            }
        }
        if !moved {
            now += Duration::from_millis(100);
            client.handle_timeout(now);
            server.handle_timeout(now);
        }
    }
    Err("the login did not complete".into())
}
