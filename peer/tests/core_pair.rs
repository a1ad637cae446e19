//! Two [`Core`]s, daphne and fred from the seed's configurations, against
//! each other in memory: the peer's whole output side (events.jsonl, key
//! tables, capture, debug lines, control commands, shutdown) without
//! sockets, root or a clock (time is advanced by hand).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use esp::ip::{self as packet, Ipv4Header};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use ikev1_peer::capture::Capture;
use ikev1_peer::core::{Core, Output, Outputs};
use ikev1_peer::events::EventLog;
use ikev1_peer::keys::KeyTables;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use serde_json::Value;
use ted::gateway::{Gateway, GatewayOptions};

const DAPHNE_CFG: &str = include_str!("../../vectors/seed/daphne.cfg");
const FRED_CFG: &str = include_str!("../../vectors/seed/fred.cfg");
const H13: Ipv4Addr = Ipv4Addr::new(13, 13, 13, 14);
const H12: Ipv4Addr = Ipv4Addr::new(12, 12, 12, 13);

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
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

struct Router {
    core: Core,
    events: Shared,
    capture: Shared,
    debug: Shared,
    dir: PathBuf,
}

impl Router {
    fn new(name: &str, cfg: &str, ike: Ipv4Addr, seed: u64, now: Instant) -> Self {
        let config = ted::config::ios::parse(cfg).unwrap().config;
        let mut options = GatewayOptions::default();
        options.debug = true;
        options.key_log = true;
        options.outside_address = Some(ike);
        let gateway = Gateway::new(
            config,
            "FastEthernet0/0",
            Box::new(ChaCha20Rng::seed_from_u64(seed)),
            options,
        )
        .unwrap();
        let dir = std::env::temp_dir().join(format!(
            "ikev1-peer-core-{name}-{}-{seed}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let (events, capture, debug) = (Shared::default(), Shared::default(), Shared::default());
        let outputs = Outputs {
            events: Some(EventLog::new(Box::new(events.clone()))),
            keys: Some(KeyTables::create(&dir).unwrap()),
            capture: Some(
                Capture::new(Box::new(capture.clone()) as Box<dyn Write + Send>).unwrap(),
            ),
            debug: Some(Box::new(debug.clone())),
        };
        let core = Core::new(
            gateway,
            SocketAddrV4::new(ike, 500),
            outputs,
            now,
            SystemTime::now(),
        );
        Self {
            core,
            events,
            capture,
            debug,
            dir,
        }
    }

    fn events(&self) -> Vec<Value> {
        self.events
            .text()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn named(&self, name: &str) -> Vec<Value> {
        self.events()
            .into_iter()
            .filter(|e| e["event"] == name)
            .collect()
    }

    fn file(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.join(name)).unwrap()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Moves every output of one router to the other until both are quiet;
/// returns how many datagrams crossed.
/// The `phase2_down` and `phase1_down` events, as `event:reason`, in order.
fn down_reasons(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e["event"] == "phase2_down" || e["event"] == "phase1_down")
        .map(|e| {
            format!(
                "{}:{}",
                e["event"].as_str().unwrap(),
                e["reason"].as_str().unwrap()
            )
        })
        .collect()
}

fn pump(a: &mut Router, b: &mut Router, now: Instant) -> usize {
    let mut moved = 0;
    for _ in 0..1000 {
        let n = deliver(a, b, now) + deliver(b, a, now);
        if n == 0 {
            return moved;
        }
        moved += n;
    }
    panic!("the routers never went quiet");
}

/// Delivers what `from` has to send to `to`.
fn deliver(from: &mut Router, to: &mut Router, now: Instant) -> usize {
    let mut moved = 0;
    while let Some(o) = from.core.poll_output() {
        moved += 1;
        match o {
            Output::Udp {
                destination,
                payload,
            } => {
                assert_eq!(destination, to.core.ike_address());
                to.core
                    .datagram(now, destination, from.core.ike_address(), &payload);
            }
            // A TED probe: the other router is on its path and intercepts
            // it (local = the probed host).
            Output::Outside(p) => {
                let s = SlicedPacket::from_ip(&p).unwrap();
                let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Udp(u))) =
                    (&s.net, &s.transport)
                else {
                    panic!("not a UDP datagram: {p:?}")
                };
                let src = SocketAddrV4::new(ip.header().source_addr(), u.source_port());
                let dst = SocketAddrV4::new(ip.header().destination_addr(), u.destination_port());
                to.core.datagram(now, dst, src, u.payload());
            }
            other => panic!("unexpected output {other:?}"),
        }
    }
    moved
}

/// Runs both routers' timers up to `until`, pumping after each; stops at
/// the first instant when `stop(a)` holds, and returns it.
fn run_until(
    a: &mut Router,
    b: &mut Router,
    until: Instant,
    stop: impl Fn(&Router) -> bool,
) -> Option<Instant> {
    for _ in 0..10_000 {
        let next = [a.core.poll_timeout(), b.core.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(t) if t <= until => {
                a.core.timeout(t);
                b.core.timeout(t);
                pump(a, b, t);
                if stop(a) {
                    return Some(t);
                }
            }
            _ => return None,
        }
    }
    panic!("timers kept firing");
}

fn echo(src: Ipv4Addr, dst: Ipv4Addr, seq: u16) -> Vec<u8> {
    packet::icmp_echo(
        Ipv4Header::new(src, dst, 0).with_ttl(63),
        false,
        7,
        seq,
        b"through the tunnel",
    )
    .unwrap()
}

/// Sends `packet` from `from`'s protected side; returns what `to` hands
/// to its protected side (None if `from` did not encrypt it).
fn send(from: &mut Router, to: &mut Router, now: Instant, packet: &[u8]) -> Option<Vec<u8>> {
    send_spi(from, to, now, packet).map(|(_, inner)| inner)
}

/// As [`send`], with the SPI the packet left on (`0x%08x`).
fn send_spi(
    from: &mut Router,
    to: &mut Router,
    now: Instant,
    packet: &[u8],
) -> Option<(String, Vec<u8>)> {
    let mut buf = vec![0u8; Gateway::HEADROOM + packet.len() + Gateway::TAILROOM];
    let range = Gateway::HEADROOM..Gateway::HEADROOM + packet.len();
    buf[range.clone()].copy_from_slice(packet);
    let (peer, out) = from.core.plaintext(now, &mut buf, range)?;
    assert_eq!(SocketAddrV4::new(peer, 500), to.core.ike_address());
    let mut esp = buf[out].to_vec();
    assert_eq!(esp[9], 50, "an ESP packet");
    let spi = format!(
        "0x{}",
        esp[20..24]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let inner = to.core.esp(now, &mut esp).expect("decapsulated");
    Some((spi, esp[inner].to_vec()))
}

fn pcap_udp_500(bytes: &[u8]) -> (usize, usize) {
    let mut r = pcap_file::pcap::PcapReader::new(bytes).unwrap();
    assert_eq!(r.header().datalink, pcap_file::DataLink::RAW);
    let (mut udp, mut esp) = (0, 0);
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        let s = SlicedPacket::from_ip(&p.data).unwrap();
        match (&s.net, &s.transport) {
            (_, Some(TransportSlice::Udp(u))) => {
                assert_eq!((u.source_port(), u.destination_port()), (500, 500));
                udp += 1;
            }
            (Some(NetSlice::Ipv4(ip)), _) if ip.header().protocol().0 == 50 => esp += 1,
            other => panic!("unexpected record {other:?}"),
        }
    }
    (udp, esp)
}

#[test]
fn the_seed_between_two_cores() {
    let t0 = Instant::now();
    let mut d = Router::new("daphne", DAPHNE_CFG, Ipv4Addr::new(11, 11, 11, 1), 1, t0);
    let mut f = Router::new("fred", FRED_CFG, Ipv4Addr::new(11, 11, 11, 2), 2, t0);

    // The first ping is dropped while TED, Main Mode and Quick Mode run.
    assert_eq!(send(&mut d, &mut f, t0, &echo(H13, H12, 1)), None);
    // Probe, response, MM1-6, QM1-3.
    assert_eq!(pump(&mut d, &mut f, t0), 11);
    let p2 = d.named("phase2_up");
    assert_eq!(p2.len(), 1, "{}", d.events.text());

    // Then traffic crosses both ways, bit for bit.
    let t1 = t0 + Duration::from_secs(1);
    for seq in 2..5 {
        let ping = echo(H13, H12, seq);
        assert_eq!(send(&mut d, &mut f, t1, &ping), Some(ping));
        let pong = echo(H12, H13, seq);
        assert_eq!(send(&mut f, &mut d, t1, &pong), Some(pong));
    }

    // events.jsonl, in order, with what the harness reads.
    let kinds: Vec<String> = d
        .events()
        .iter()
        .filter(|e| e["event"] != "warning")
        .map(|e| match e["event"].as_str().unwrap() {
            "ted" => format!("ted:{}", e["kind"].as_str().unwrap()),
            other => other.to_owned(),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "ted:started",
            "ted:probe_sent",
            "ted:discovered",
            "map_entry",
            "phase1_up",
            "phase2_up"
        ]
    );
    // The seed names DES, SHA-1 (the phase-1 PRF), MODP-768, esp-des and
    // esp-md5-hmac: each is reported, with what names it.
    let warnings: Vec<String> = d
        .named("warning")
        .iter()
        .map(|e| e["what"].as_str().unwrap().to_owned())
        .collect();
    for weak in ["DES-CBC", "SHA1", "MODP-768", "esp-des", "esp-md5-hmac"] {
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with(&format!("weak algorithm {weak} in use because "))),
            "{weak}: {warnings:?}"
        );
    }
    let (dp1, fp1) = (&d.named("phase1_up")[0], &f.named("phase1_up")[0]);
    assert_eq!(
        (&dp1["mode"], &dp1["role"], &fp1["role"]),
        (
            &Value::from("main"),
            &Value::from("initiator"),
            &Value::from("responder")
        )
    );
    assert_eq!(dp1["peer"], "11.11.11.2:500");
    assert_eq!(dp1["icookie"], fp1["icookie"]);
    assert_eq!(dp1["icookie"].as_str().unwrap().len(), 16);
    let fp2 = &f.named("phase2_up")[0];
    assert_eq!(p2[0]["spi_in"], fp2["spi_out"]);
    assert_eq!(p2[0]["spi_out"], fp2["spi_in"]);
    let spi_in = p2[0]["spi_in"].as_str().unwrap().to_owned();
    assert!(spi_in.starts_with("0x") && spi_in.len() == 10, "{spi_in}");
    assert_eq!(p2[0]["transform"], "esp-des esp-md5-hmac");
    assert_eq!(p2[0]["local_ts"], "13.13.13.0/24");
    assert_eq!(p2[0]["remote_ts"], "12.12.12.0/24");
    assert_eq!(p2[0]["pfs_group"], Value::Null);
    assert_eq!(p2[0]["lifetime_s"], 3600);
    assert_eq!(p2[0]["map_entry"], 11);
    // Fred answered the probe it intercepted.
    let fted: Vec<_> = f
        .named("ted")
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fted, ["probe_received", "probe_answered"]);

    // The key tables: Wireshark's formats, the SAs' SPIs and addresses.
    let ikev1 = d.file("ikev1_decryption_table");
    let line = ikev1.trim_end();
    let (cookie, key) = line.split_once(',').unwrap();
    assert_eq!(cookie, dp1["icookie"].as_str().unwrap());
    assert_eq!(key.len(), 16, "a DES key is 8 bytes: {line}");
    let esp_sa = d.file("esp_sa");
    let lines: Vec<&str> = esp_sa.lines().collect();
    assert_eq!(lines.len(), 2, "{esp_sa}");
    assert!(
        lines[0].starts_with(&format!(
            "\"IPv4\",\"11.11.11.2\",\"11.11.11.1\",\"{spi_in}\",\"DES-CBC [RFC2405]\",\"0x"
        )),
        "{esp_sa}"
    );
    assert!(lines[1].contains("\"HMAC-MD5-96 [RFC2403]\""));
    assert_eq!(
        esp_sa,
        f.file("esp_sa")
            .lines()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.dir.join("esp_sa"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the key tables are secrets");

    // The capture: every IKE/TED datagram and ESP packet daphne saw.
    d.core.flush_files();
    let (udp, esp) = pcap_udp_500(&d.capture.bytes());
    assert_eq!(udp, 11);
    assert_eq!(esp, 6);

    // IOS-style debug lines.
    let debug = d.debug.text();
    assert!(debug.contains("IPSEC(create_sa): sa created"), "{debug}");
    assert!(debug.contains("ISAKMP (0:"), "{debug}");

    // Control commands.
    let r = d.core.command(t1, "show crypto isakmp sa");
    assert_eq!(r.status, Ok(()));
    assert!(
        r.text.contains("11.11.11.2      11.11.11.1      QM_IDLE"),
        "{}",
        r.text
    );
    assert!(r.render().ends_with("\nOK\n"));
    let r = d.core.command(t1, "show crypto ipsec sa");
    assert!(r.text.contains("#pkts encaps: 3"), "{}", r.text);
    let r = d.core.command(t1, "show crypto frobnicator");
    assert!(r.status.is_err());
    assert!(r.render().starts_with("ERROR: unknown command"));

    // `clear crypto sa`: a Delete notify; both sides drop the pair.
    let r = d.core.command(t1, "clear crypto sa");
    assert_eq!(r.status, Ok(()));
    assert_eq!(pump(&mut d, &mut f, t1), 1);
    let down = d.named("phase2_down");
    assert_eq!(down.len(), 1);
    assert_eq!(
        (&down[0]["reason"], &down[0]["spi_in"]),
        (&Value::from("local_delete"), &Value::from(spi_in.as_str()))
    );
    assert_eq!(f.named("phase2_down")[0]["reason"], "peer_delete");
    // Nothing protects the traffic now: it is dropped and TED runs again.
    assert_eq!(send(&mut d, &mut f, t1, &echo(H13, H12, 9)), None);
    assert!(pump(&mut d, &mut f, t1) >= 5, "TED and Quick Mode again");
    assert_eq!(d.named("phase2_up").len(), 2);

    // SIGTERM: every SA deleted with Delete notifies, then `stopped`.
    d.core.shutdown(t1);
    assert!(pump(&mut d, &mut f, t1) >= 2);
    let events = d.events();
    assert_eq!(events.last().unwrap()["event"], "stopped");
    let reasons = down_reasons(&events);
    assert_eq!(
        reasons,
        [
            "phase2_down:local_delete",
            "phase2_down:shutdown",
            "phase1_down:shutdown"
        ]
    );
    let fdown = down_reasons(&f.events());
    assert_eq!(
        fdown,
        [
            "phase2_down:peer_delete",
            "phase2_down:peer_delete",
            "phase1_down:peer_delete"
        ]
    );
    assert!(d.core.gateway().tunnels().is_empty());
    assert!(f.core.gateway().tunnels().is_empty());
}

/// Daphne and fred with a 120 s phase-2 lifetime, run until daphne (the
/// pair's initiator) has rekeyed it: the routers, the instant of the
/// rekey, and daphne's two `phase2_up` events.
fn rekeyed(seed: u64) -> (Router, Router, Instant, Vec<Value>) {
    let daphne = DAPHNE_CFG.replace(
        " set transform-set ted-transforms\n",
        " set transform-set ted-transforms\n set security-association lifetime seconds 120\n",
    );
    let t0 = Instant::now();
    let mut d = Router::new("daphne-rk", &daphne, Ipv4Addr::new(11, 11, 11, 1), seed, t0);
    let mut f = Router::new(
        "fred-rk",
        FRED_CFG,
        Ipv4Addr::new(11, 11, 11, 2),
        seed + 1,
        t0,
    );
    assert_eq!(send(&mut d, &mut f, t0, &echo(H13, H12, 1)), None);
    pump(&mut d, &mut f, t0);
    let first = d.named("phase2_up");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0]["lifetime_s"], 120);
    let at = run_until(&mut d, &mut f, t0 + Duration::from_secs(119), |d| {
        d.named("phase2_up").len() == 2
    })
    .unwrap_or_else(|| panic!("not rekeyed before expiry: {}", d.events.text()));
    let ups = d.named("phase2_up");
    assert_ne!(ups[1]["spi_in"], ups[0]["spi_in"]);
    assert_ne!(ups[1]["spi_out"], ups[0]["spi_out"]);
    assert_eq!(d.named("rekey_started").len(), 1);
    (d, f, at, ups)
}

#[test]
fn after_rekeying_the_old_pair_carries_traffic_until_the_peer_uses_the_new() {
    // RFC 2409 s.5.5: fred installs the new pair when QM3 arrives, which
    // daphne cannot know; the first packet fred sends on it tells her.
    let (mut d, mut f, at, ups) = rekeyed(5);
    let spi = |e: &Value, k: &str| e[k].as_str().unwrap().to_owned();
    let ping = echo(H13, H12, 2);
    assert_eq!(
        send_spi(&mut d, &mut f, at, &ping),
        Some((spi(&ups[0], "spi_out"), ping.clone()))
    );
    // Fred, the responder, sends on the new pair at once.
    let pong = echo(H12, H13, 2);
    assert_eq!(
        send_spi(&mut f, &mut d, at, &pong),
        Some((spi(&ups[1], "spi_in"), pong))
    );
    assert_eq!(
        send_spi(&mut d, &mut f, at, &ping),
        Some((spi(&ups[1], "spi_out"), ping))
    );
}

#[test]
fn after_rekeying_the_old_pair_carries_traffic_for_ten_seconds_at_most() {
    let (mut d, mut f, at, ups) = rekeyed(7);
    let spi = |e: &Value, k: &str| e[k].as_str().unwrap().to_owned();
    let ping = echo(H13, H12, 3);
    for (after, pair) in [(0, 0), (9_900, 0), (10_000, 1)] {
        assert_eq!(
            send_spi(&mut d, &mut f, at + Duration::from_millis(after), &ping),
            Some((spi(&ups[pair], "spi_out"), ping.clone())),
            "{after} ms after the rekey"
        );
    }
}

#[test]
fn a_rekeyed_pair_goes_down_as_rekeyed() {
    // Daphne, which initiated the pair, rekeys it before it expires; the old
    // pair then goes as `rekeyed`.
    let (mut d, mut f, at, ups) = rekeyed(3);
    let t0 = at;
    let ping = echo(H13, H12, 2);
    assert_eq!(send(&mut d, &mut f, t0, &ping), Some(ping));

    // The first pair was set up 60 s before the rekey (the margin is half
    // of 120 s): it runs out 60 s after it.
    run_until(&mut d, &mut f, t0 + Duration::from_secs(65), |_| false);
    let down = d.named("phase2_down");
    assert_eq!(down.len(), 1, "{}", d.events.text());
    assert_eq!(down[0]["spi_in"], ups[0]["spi_in"]);
    assert_eq!(down[0]["reason"], "rekeyed");
    // The key tables keep the old pair's keys (the capture still holds its
    // packets) next to the newer pairs' (the second may have been rekeyed
    // too by now: its soft lifetime falls at 60-90 s).
    let pairs = d.named("phase2_up").len();
    assert!(pairs >= 2);
    assert_eq!(d.file("esp_sa").lines().count(), 2 * pairs);
    assert!(
        d.file("esp_sa")
            .contains(&format!("\"{}\"", ups[0]["spi_in"].as_str().unwrap()))
    );
}

/// Regression (found by the `peer_core` fuzz target): a core that had
/// shut down still answered a TED probe and Main Mode from fred, whose
/// traffic followed the Delete notifies, and wrote `phase1_up` after
/// `stopped`. A stopped core now takes no more input.
#[test]
fn a_core_that_shut_down_takes_no_more_input() {
    let t0 = Instant::now();
    let mut d = Router::new(
        "daphne-stop",
        DAPHNE_CFG,
        Ipv4Addr::new(11, 11, 11, 1),
        5,
        t0,
    );
    let mut f = Router::new("fred-stop", FRED_CFG, Ipv4Addr::new(11, 11, 11, 2), 6, t0);
    assert_eq!(send(&mut d, &mut f, t0, &echo(H13, H12, 1)), None);
    assert_eq!(pump(&mut d, &mut f, t0), 11);
    let ping = echo(H13, H12, 2);
    assert_eq!(send(&mut d, &mut f, t0, &ping), Some(ping));

    d.core.shutdown(t0);
    assert!(pump(&mut d, &mut f, t0) >= 2, "the Delete notifies");
    assert_eq!(d.events().last().unwrap()["event"], "stopped");
    assert!(f.core.gateway().tunnels().is_empty());

    // fred's traffic: TED finds daphne again, which must not answer.
    assert_eq!(send(&mut f, &mut d, t0, &echo(H12, H13, 3)), None);
    pump(&mut d, &mut f, t0);
    let t1 = t0 + Duration::from_secs(30);
    f.core.timeout(t1);
    d.core.timeout(t1);
    pump(&mut d, &mut f, t1);
    assert_eq!(d.named("phase1_up").len(), 1, "{}", d.events.text());
    assert_eq!(d.named("phase2_up").len(), 1);
    assert_eq!(d.events().last().unwrap()["event"], "stopped");
    assert!(d.core.gateway().tunnels().is_empty());
    let dropped = d.core.counters().dropped_after_shutdown;
    assert!(dropped >= 1, "fred's probe reached daphne");

    // Nor does its own protected side start anything.
    let mut buf = vec![0u8; Gateway::HEADROOM + 84 + Gateway::TAILROOM];
    let ping = echo(H13, H12, 4);
    buf[Gateway::HEADROOM..Gateway::HEADROOM + ping.len()].copy_from_slice(&ping);
    let range = Gateway::HEADROOM..Gateway::HEADROOM + ping.len();
    assert_eq!(d.core.plaintext(t1, &mut buf, range), None);
    assert_eq!(d.core.poll_output(), None);
    assert_eq!(d.core.poll_timeout(), None);
    assert_eq!(d.core.counters().dropped_after_shutdown, dropped + 1);
}
