//! The remote-access modes of the peer's core, in memory: an Easy VPN
//! server (a [`Core`] around a ted gateway of the interop harness's IOS
//! configuration, whose users come from a user file, as `--users` loads
//! it) and a client (a [`Core`] around the
//! gateway `ikev1-peer client` builds from its command line, with the
//! host's network recorded instead of changed). Checked: what each writes
//! to `events.jsonl`, the `ip` commands the client runs to configure and
//! unconfigure its TUN device, XAUTH failure, and that the password shows
//! up in no output.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use ikev1_peer::cli::{self, ClientArgs, Command};
use ikev1_peer::client::{self, ClientEnd, ClientSession};
use ikev1_peer::core::{Core, Output, Outputs};
use ikev1_peer::events::EventLog;
use ikev1_peer::hostnet::{Recorder, Underlay};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::Value;
use ted::gateway::{ClientOptions, Gateway, GatewayOptions};
use ted::remote_access::{HashParams, UserDb};

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const CLIENT: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const PASSWORD: &str = "alice-pw-1";
const GROUP_KEY: &str = "ra-group-secret";

/// The harness's Easy VPN server (what `ra_us_write_server_cfg` in
/// tests/interop/ra/lib/ezvpn.sh writes), as `--config` reads it; the
/// users come from `--users`.
const SERVER_CFG: &str = "\
hostname ra-us
aaa new-model
aaa authentication login userlist local
aaa authorization network grouplist local
crypto isakmp policy 10
 encryption aes 256
 hash sha
 authentication pre-share
 group 2
 lifetime 86400
crypto isakmp policy 20
 encryption 3des
 hash md5
 authentication pre-share
 group 2
 lifetime 86400
crypto isakmp client configuration group ragroup
 key ra-group-secret
 dns 10.0.0.53
 domain ra.example
 pool rapool
 ACL
 banner #RA interop gateway#
crypto ipsec transform-set ts esp-aes 256 esp-sha-hmac
 mode tunnel
crypto dynamic-map dynmap 10
 set transform-set ts
crypto map clientmap client authentication list userlist
crypto map clientmap isakmp authorization list grouplist
crypto map clientmap client configuration address respond
crypto map clientmap 10 ipsec-isakmp dynamic dynmap
interface GigabitEthernet0/0
 ip address 192.0.2.1 255.255.255.0
 crypto map clientmap
interface GigabitEthernet0/1
 ip address 10.0.0.254 255.255.255.0
ip local pool rapool 10.99.0.10 10.99.0.50
access-list 101 permit ip 10.0.0.0 0.0.0.255 any
end
";

/// A writer whose bytes the test can read while the core owns it.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

struct Side {
    core: Core,
    events: Shared,
    debug: Shared,
}

impl Side {
    fn new(gateway: Gateway, address: Ipv4Addr, now: Instant) -> Self {
        let (events, debug) = (Shared::default(), Shared::default());
        let outputs = Outputs {
            events: Some(EventLog::new(Box::new(events.clone()))),
            debug: Some(Box::new(debug.clone())),
            ..Outputs::default()
        };
        let core = Core::new(
            gateway,
            SocketAddrV4::new(address, 500),
            outputs,
            now,
            SystemTime::now(),
        );
        Self {
            core,
            events,
            debug,
        }
    }

    fn named(&self, name: &str) -> Vec<Value> {
        self.events
            .text()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["event"] == name)
            .collect()
    }
}

/// The server: the harness's configuration, without the split ACL when
/// `full_tunnel`, with the wildcard key a Main Mode responder needs when
/// `main_mode_key`; the users come from a user file as `--users` reads it.
fn server(now: Instant, full_tunnel: bool, main_mode_key: bool) -> Side {
    server_routing(now, full_tunnel, main_mode_key).0
}

/// [`server`], routing assigned addresses into `rai0` (`--tun-create`),
/// the commands recorded.
fn server_routing(now: Instant, full_tunnel: bool, main_mode_key: bool) -> (Side, Recorder) {
    let mut text = SERVER_CFG.replace(" ACL\n", if full_tunnel { "" } else { " acl 101\n" });
    if main_mode_key {
        text = text.replace(
            "crypto isakmp client",
            "crypto isakmp key ra-group-secret address 0.0.0.0 0.0.0.0\ncrypto isakmp client",
        );
    }
    let parsed = ted::config::ios::parse(&text).unwrap();
    let mut options = GatewayOptions::default();
    options.debug = true;
    let mut gateway = Gateway::new(
        parsed.config,
        "GigabitEthernet0/0",
        Box::new(ChaCha20Rng::seed_from_u64(1)),
        options,
    )
    .unwrap();
    gateway.set_users(users_file());
    let mut side = Side::new(gateway, SERVER, now);
    let routes = Recorder::default();
    side.core
        .route_assigned_addresses("rai0", Box::new(routes.clone()));
    (side, routes)
}

/// A user file with alice (cheap hash parameters: a test), read back the
/// way `--users` reads it.
fn users_file() -> UserDb {
    let phc = ted::remote_access::hash_password_with(
        PASSWORD.as_bytes(),
        HashParams {
            memory_kib: 64,
            iterations: 1,
            lanes: 1,
        },
        &mut ChaCha20Rng::seed_from_u64(9),
    )
    .unwrap();
    // One directory per call: the tests run in parallel threads, and one
    // test's write (which truncates first) must not meet another's read.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ikev1-peer-ra-users-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("users");
    std::fs::write(&path, format!("# test users\nalice:{phc}\n")).unwrap();
    let (db, _) = ikev1_peer::users::load(&path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    db
}

/// The client's arguments, as the harness passes them.
fn client_args(extra: &[&str]) -> ClientArgs {
    let mut args = vec![
        "client",
        "--gateway",
        "192.0.2.1",
        "--group",
        "ragroup",
        "--group-key-file",
        "unused-in-memory",
        "--user",
        "alice",
        "--password-file",
        "unused-in-memory",
        "--tun",
        "rai0",
    ];
    args.extend(extra);
    match cli::parse(args) {
        Ok(Command::Client(c)) => c,
        other => panic!("{other:?}"),
    }
}

/// The client's core, built the way `run_client` builds it (the
/// configuration from the arguments, the group key in the options) with
/// the host's network recorded.
fn client(
    now: Instant,
    args: &ClientArgs,
    password: &str,
    underlay: Option<Underlay>,
) -> (Side, Recorder, Shared) {
    let text = client::ios_config(args.gateway, CLIENT, &args.ike_suites(), &args.esp_suites());
    let config = ted::config::ios::parse(&text).unwrap().config;
    let mut options = GatewayOptions::default();
    options.debug = true;
    options.outside_address = Some(CLIENT);
    let mut c = ClientOptions::new(&args.group, GROUP_KEY.as_bytes());
    c.mode = if args.main_mode {
        ike_sm::ExchangeMode::Main
    } else {
        ike_sm::ExchangeMode::Aggressive
    };
    options.client = Some(c);
    let gateway = Gateway::new(
        config,
        client::OUTSIDE_INTERFACE,
        Box::new(ChaCha20Rng::seed_from_u64(2)),
        options,
    )
    .unwrap();
    let mut side = Side::new(gateway, CLIENT, now);
    let recorder = Recorder::default();
    let console = Shared::default();
    side.core.attach_client(ClientSession::new(
        ike_sm::XauthCredentials::new(&args.user, password.as_bytes()),
        args.gateway,
        &args.tun,
        args.routes,
        underlay,
        Box::new(recorder.clone()),
        Some(Box::new(console.clone())),
    ));
    (side, recorder, console)
}

/// Delivers what `from` has to send to `to`.
fn deliver(from: &mut Side, to: &mut Side, now: Instant) -> usize {
    let mut moved = 0;
    let src = from.core.ike_address();
    while let Some(o) = from.core.poll_output() {
        moved += 1;
        match o {
            Output::Udp {
                destination,
                payload,
            } => {
                assert_eq!(destination.ip(), to.core.ike_address().ip());
                to.core.datagram(now, destination, src, &payload);
            }
            Output::NatT {
                destination,
                payload,
            } => {
                let h = Gateway::NAT_T_HEADROOM;
                let mut buf = vec![0u8; h];
                buf.extend_from_slice(&payload);
                let n = buf.len();
                let remote = SocketAddrV4::new(*src.ip(), 4500);
                to.core.nat_t(now, destination, remote, &mut buf, h..n);
            }
            other => panic!("unexpected output {other:?}"),
        }
    }
    moved
}

/// Moves datagrams both ways and runs the timers until `done` holds or
/// `limit` of virtual time has passed.
fn run(
    s: &mut Side,
    c: &mut Side,
    now: &mut Instant,
    limit: Duration,
    done: impl Fn(&Side, &Side) -> bool,
) {
    let end = *now + limit;
    while *now < end && !done(s, c) {
        let moved = deliver(c, s, *now) + deliver(s, c, *now);
        if moved == 0 {
            *now += Duration::from_millis(100);
            s.core.timeout(*now);
            c.core.timeout(*now);
        }
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

fn no_password_in(sides: &[&Side], console: &Shared) {
    for side in sides {
        for (what, text) in [("events", side.events.text()), ("debug", side.debug.text())] {
            assert!(
                !text.contains(PASSWORD),
                "the password in the {what} output"
            );
        }
    }
    assert!(!console.text().contains(PASSWORD));
}

#[test]
fn a_client_logs_in_configures_its_tun_device_and_takes_it_down() {
    let mut now = Instant::now();
    let (mut s, server_routes) = server_routing(now, false, false);
    let args = client_args(&["--ike", "aes256-sha1-modp1024", "--esp", "aes256-sha1"]);
    let (mut c, recorder, console) = client(now, &args, PASSWORD, None);
    c.core.connect(now).unwrap();
    run(&mut s, &mut c, &mut now, Duration::from_secs(30), |s, c| {
        !c.named("phase2_up").is_empty() && !s.named("phase2_up").is_empty()
    });

    // The client: asked once, answered, accepted, configured.
    let asked = c.named("xauth_requested");
    assert_eq!(asked.len(), 1, "{}", c.events.text());
    assert_eq!(
        (asked[0]["attempt"].as_u64(), asked[0]["answered"].as_bool()),
        (Some(1), Some(true))
    );
    let done = c.named("xauth_completed");
    assert_eq!(done.len(), 1);
    assert_eq!(
        (done[0]["user"].as_str(), done[0]["role"].as_str()),
        (Some("alice"), Some("initiator"))
    );
    let cfg = c.named("mode_cfg_received");
    assert_eq!(cfg.len(), 1);
    let cfg = &cfg[0];
    assert_eq!(cfg["address"], "10.99.0.10");
    assert_eq!(strings(&cfg["dns"]), ["10.0.0.53"]);
    assert_eq!(cfg["domain"], "ra.example");
    assert_eq!(strings(&cfg["split_include"]), ["10.0.0.0/24"]);
    assert_eq!(cfg["banner"], "RA interop gateway");
    assert_eq!(cfg["peer"], "192.0.2.1:500");
    let up = c.named("phase2_up");
    assert_eq!(
        (up[0]["local_ts"].as_str(), up[0]["remote_ts"].as_str()),
        (Some("10.99.0.10/32"), Some("10.0.0.0/24"))
    );
    assert_eq!(up[0]["transform"], "esp-aes 256 esp-sha-hmac");

    // What it did to the host, and said it did.
    assert_eq!(
        recorder.commands(),
        [
            "link set dev rai0 up",
            "addr replace 10.99.0.10/32 dev rai0",
            "route replace 10.0.0.0/24 dev rai0 src 10.99.0.10",
        ]
    );
    let tun = c.named("tun_configured");
    assert_eq!(tun.len(), 1);
    assert_eq!(tun[0]["address"], "10.99.0.10/32");
    assert_eq!(strings(&tun[0]["routes"]), ["10.0.0.0/24"]);
    assert_eq!(
        c.core.client().unwrap().applied().and_then(|a| a.address),
        Some(Ipv4Addr::new(10, 99, 0, 10))
    );
    // The banner, once, for the person at the terminal.
    assert_eq!(
        console.text().matches("RA interop gateway").count(),
        1,
        "{}",
        console.text()
    );
    assert!(c.core.client_end().is_none());

    // The server: checked alice, gave her the pool's first address.
    let checked = s.named("xauth_checked");
    assert_eq!(checked.len(), 1);
    assert_eq!(
        (
            checked[0]["user"].as_str(),
            checked[0]["accepted"].as_bool(),
            checked[0]["attempt"].as_u64()
        ),
        (Some("alice"), Some(true), Some(1))
    );
    assert_eq!(checked[0]["peer"], "192.0.2.2:500");
    let assigned = s.named("address_assigned");
    assert_eq!(assigned.len(), 1);
    assert_eq!(
        (
            assigned[0]["address"].as_str(),
            assigned[0]["user"].as_str()
        ),
        (Some("10.99.0.10"), Some("alice"))
    );
    assert_eq!(s.named("xauth_completed")[0]["role"], "responder");
    // The server routes the address it gave into its TUN device.
    assert_eq!(
        server_routes.commands(),
        ["route replace 10.99.0.10/32 dev rai0"]
    );
    assert_eq!(s.named("route_added")[0]["route"], "10.99.0.10/32 dev rai0");
    let up = s.named("phase2_up");
    assert_eq!(up[0]["remote_ts"], "10.99.0.10/32");

    // Stopping the client takes the routes, then the address, down, and
    // its Deletes make the server release the address.
    c.core.shutdown(now);
    assert_eq!(
        recorder.commands()[3..],
        [
            "route del 10.0.0.0/24 dev rai0",
            "addr del 10.99.0.10/32 dev rai0",
        ]
    );
    assert_eq!(c.named("tun_deconfigured").len(), 1);
    assert!(c.core.client().unwrap().applied().is_none());
    deliver(&mut c, &mut s, now);
    let released = s.named("address_released");
    assert_eq!(released.len(), 1, "{}", s.events.text());
    assert_eq!(released[0]["address"], "10.99.0.10");
    assert_eq!(
        server_routes.commands(),
        [
            "route replace 10.99.0.10/32 dev rai0",
            "route del 10.99.0.10/32 dev rai0"
        ]
    );
    assert_eq!(s.named("route_removed").len(), 1);
    no_password_in(&[&s, &c], &console);
}

#[test]
fn a_wrong_password_ends_the_client_with_an_xauth_failure() {
    let mut now = Instant::now();
    let mut s = server(now, false, false);
    let args = client_args(&[]);
    let (mut c, recorder, console) = client(now, &args, "not-alices-pw", None);
    c.core.connect(now).unwrap();
    run(&mut s, &mut c, &mut now, Duration::from_secs(30), |_, c| {
        c.core.client_end().is_some()
    });
    assert_eq!(
        c.core.client_end(),
        Some(&ClientEnd::XauthFailed(ike_sm::XauthFailure::Rejected))
    );
    assert_eq!(
        c.core.client_end().unwrap().to_string(),
        "XAUTH failed: credentials refused"
    );
    // Our server asks three times; the client answers each.
    let asked = c.named("xauth_requested");
    assert_eq!(asked.len(), 3, "{}", c.events.text());
    assert!(asked.iter().all(|a| a["answered"] == true));
    let failed = c.named("xauth_failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["reason"], "rejected");
    assert!(c.named("mode_cfg_received").is_empty() && c.named("phase2_up").is_empty());
    assert!(recorder.commands().is_empty(), "nothing configured");

    run(&mut s, &mut c, &mut now, Duration::from_secs(1), |_, _| {
        false
    });
    let refused: Vec<_> = s
        .named("xauth_checked")
        .into_iter()
        .map(|e| e["accepted"].as_bool().unwrap())
        .collect();
    assert_eq!(refused, [false, false, false]);
    let failed = s.named("xauth_failed");
    assert_eq!(failed.len(), 1, "{}", s.events.text());
    assert_eq!(
        (failed[0]["reason"].as_str(), failed[0]["role"].as_str()),
        (Some("attempts_exhausted"), Some("responder"))
    );
    assert!(s.named("address_assigned").is_empty() && s.named("phase2_up").is_empty());
    no_password_in(&[&s, &c], &console);
    assert!(!c.debug.text().contains("not-alices-pw"));
    assert!(!s.debug.text().contains("not-alices-pw"));
}

#[test]
fn a_client_that_gives_up_after_a_refusal_is_an_xauth_failure_on_the_server() {
    let mut now = Instant::now();
    let mut s = server(now, false, false);
    let (mut c, _, _) = client(now, &client_args(&[]), "not-alices-pw", None);
    c.core.connect(now).unwrap();
    run(&mut s, &mut c, &mut now, Duration::from_secs(30), |s, _| {
        !s.named("xauth_checked").is_empty()
    });
    assert!(s.named("xauth_failed").is_empty());
    // As vpnc without a terminal does: Delete instead of a second try.
    c.core.shutdown(now);
    deliver(&mut c, &mut s, now);
    let failed = s.named("xauth_failed");
    assert_eq!(failed.len(), 1, "{}", s.events.text());
    assert_eq!(
        (
            failed[0]["reason"].as_str(),
            failed[0]["user"].as_str(),
            failed[0]["role"].as_str()
        ),
        (Some("abandoned"), Some("alice"), Some("responder"))
    );
    // The client that stopped on a signal reports no XAUTH failure.
    assert!(c.named("xauth_failed").is_empty());
    assert!(c.core.client_end().is_none());
}

#[test]
fn without_split_networks_everything_goes_through_the_tunnel_but_ike() {
    let mut now = Instant::now();
    let mut s = server(now, true, false);
    let args = client_args(&[]);
    let underlay = Underlay::parse("192.0.2.1 dev veth0 src 192.0.2.2 uid 0");
    let (mut c, recorder, _) = client(now, &args, PASSWORD, Some(underlay));
    c.core.connect(now).unwrap();
    run(&mut s, &mut c, &mut now, Duration::from_secs(30), |_, c| {
        !c.named("phase2_up").is_empty()
    });
    let cfg = &c.named("mode_cfg_received")[0];
    assert!(strings(&cfg["split_include"]).is_empty());
    assert_eq!(
        recorder.commands(),
        [
            "link set dev rai0 up",
            "addr replace 10.99.0.10/32 dev rai0",
            "route replace 192.0.2.1/32 dev veth0",
            "route replace 0.0.0.0/1 dev rai0 src 10.99.0.10",
            "route replace 128.0.0.0/1 dev rai0 src 10.99.0.10",
        ]
    );
    assert_eq!(c.named("phase2_up")[0]["remote_ts"], "0.0.0.0/0");
    c.core.shutdown(now);
    assert_eq!(
        recorder.commands()[5..],
        [
            "route del 128.0.0.0/1 dev rai0",
            "route del 0.0.0.0/1 dev rai0",
            "route del 192.0.2.1/32 dev veth0",
            "addr del 10.99.0.10/32 dev rai0",
        ]
    );
}

#[test]
fn main_mode_and_no_routes() {
    let mut now = Instant::now();
    let mut s = server(now, false, true);
    let args = client_args(&["--main-mode", "--no-routes"]);
    let (mut c, recorder, _) = client(now, &args, PASSWORD, None);
    c.core.connect(now).unwrap();
    run(&mut s, &mut c, &mut now, Duration::from_secs(30), |_, c| {
        !c.named("phase2_up").is_empty()
    });
    assert_eq!(
        c.named("phase1_up")[0]["mode"],
        "main",
        "{}",
        c.events.text()
    );
    assert_eq!(c.named("mode_cfg_received")[0]["address"], "10.99.0.10");
    assert_eq!(
        recorder.commands(),
        [
            "link set dev rai0 up",
            "addr replace 10.99.0.10/32 dev rai0"
        ]
    );
}
