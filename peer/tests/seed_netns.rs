//! The seed on real packets (issue 6 item 2): the seed's topology built
//! from network namespaces, two `ikev1-peer` gateways loaded from
//! `vectors/seed/daphne.cfg` and `fred.cfg`, and a ping from 13.13.13.14
//! to 12.12.12.13 that triggers TED, Main Mode and Quick Mode and then
//! gets its replies through our user-space ESP.
//!
//! ```text
//!  [h13]                 [daphne]                          [fred]                  [h12]
//!  in0 13.13.13.14 ── fe1 13.13.13.13        fe0 11.11.11.1 ══ fe0 11.11.11.2     fe1 12.12.12.12 ── in0 12.12.12.13
//!                     ted0 TUN (created by      ikev1-peer      ikev1-peer     ted0 TUN (created here,
//!                     the peer, --tun-create)                                  opened by the peer)
//! ```
//!
//! Everything stays inside namespaces this test creates (the seed's
//! addresses are not ours to use outside them) and deletes, whatever
//! happens. The routers forward; UDP 500 arriving on `fe0` is made local
//! by a policy rule so that the peer's intercept socket sees TED probes
//! addressed to the hosts behind it (see `peer/README.md`).
//!
//! It needs root (namespaces, raw sockets, TUN). Without it the test says
//! so on stderr and passes, unless `REQUIRE_NETNS=1` (CI sets it): then it
//! fails.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::fs;
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const PEER: &str = env!("CARGO_BIN_EXE_ikev1-peer");
const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/seed");

/// The namespaces, the processes and the files of one run; dropping it
/// kills the processes it started and deletes the namespaces.
struct Lab {
    prefix: String,
    namespaces: Vec<String>,
    children: Vec<(String, Child)>,
    dir: PathBuf,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in &self.namespaces {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// `ikev1-peer ctl ... -- show crypto WHAT sa` over the control socket
/// `ctl`: what it printed.
fn ctl_show(ctl: &Path, what: &str) -> String {
    let socket = ctl.to_str().unwrap();
    let args = [
        "ctl",
        "--control",
        socket,
        "--",
        "show",
        "crypto",
        what,
        "sa",
    ];
    run(PEER, &args).unwrap()
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{program} {}: {}: {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

impl Lab {
    fn ns(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// `ip -n NS ARGS...`
    fn ip(&self, ns: &str, args: &str) -> Result<(), String> {
        let ns = self.ns(ns);
        let mut all = vec!["-n", ns.as_str()];
        all.extend(args.split_whitespace());
        run("ip", &all).map(|_| ())
    }

    /// `ip netns exec NS PROGRAM ARGS...`, waited for.
    fn exec(&self, ns: &str, program: &str, args: &[&str]) -> Result<String, String> {
        let ns = self.ns(ns);
        let mut all = vec!["netns", "exec", ns.as_str(), program];
        all.extend_from_slice(args);
        run("ip", &all)
    }

    /// Starts `PROGRAM ARGS...` in a namespace, its output in `log`.
    fn spawn(&mut self, name: &str, ns: &str, program: &str, args: &[&str]) -> u32 {
        let log = fs::File::create(self.dir.join(format!("{name}.log"))).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns(ns), program])
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program} in {ns}: {e}"));
        let pid = child.id();
        self.children.push((name.to_owned(), child));
        pid
    }

    fn child(&mut self, name: &str) -> &mut Child {
        &mut self
            .children
            .iter_mut()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no process {name}"))
            .1
    }

    /// Sends `signal` to a process this test started and waits (bounded)
    /// for it to exit.
    fn stop(&mut self, name: &str, signal: &str, within: Duration) -> ExitStatus {
        let pid = self.child(name).id().to_string();
        run("kill", &[&format!("-{signal}"), &pid]).unwrap();
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child(name).try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{name} did not exit within {within:?} of SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The topology of the module documentation, without the peers.
    fn build(&mut self) -> Result<(), String> {
        for tool in ["ip", "ping", "sysctl", "kill"] {
            if !have(tool) {
                return Err(format!(
                    "{tool} is not installed (iproute2, iputils-ping, procps)"
                ));
            }
        }
        for n in ["h13", "daphne", "fred", "h12"] {
            let ns = self.ns(n);
            run("ip", &["netns", "add", &ns])?;
            self.namespaces.push(ns);
            self.ip(n, "link set lo up")?;
            // No IPv6 (router solicitations into the TUN device), no
            // reverse-path filter (a TED probe arrives at fred from
            // 13.13.13.14 on fe0 while fred routes 13.13.13.0/24 into its
            // TUN device, as IOS would not mind either).
            self.exec(
                n,
                "sysctl",
                &[
                    "-qw",
                    "net.ipv6.conf.all.disable_ipv6=1",
                    "net.ipv6.conf.default.disable_ipv6=1",
                    "net.ipv4.conf.all.rp_filter=0",
                    "net.ipv4.conf.default.rp_filter=0",
                ],
            )?;
        }
        for r in ["daphne", "fred"] {
            self.exec(r, "sysctl", &["-qw", "net.ipv4.ip_forward=1"])?;
        }
        let p = &self.prefix;
        for (a, an, b, bn) in [
            ("in0", "h13", "fe1", "daphne"),
            ("fe0", "daphne", "fe0", "fred"),
            ("fe1", "fred", "in0", "h12"),
        ] {
            run(
                "ip",
                &[
                    "link",
                    "add",
                    a,
                    "netns",
                    &format!("{p}{an}"),
                    "type",
                    "veth",
                    "peer",
                    "name",
                    b,
                    "netns",
                    &format!("{p}{bn}"),
                ],
            )?;
        }
        for (ns, dev, addr) in [
            ("h13", "in0", "13.13.13.14/24"),
            ("daphne", "fe1", "13.13.13.13/24"),
            ("daphne", "fe0", "11.11.11.1/24"),
            ("fred", "fe0", "11.11.11.2/24"),
            ("fred", "fe1", "12.12.12.12/24"),
            ("h12", "in0", "12.12.12.13/24"),
        ] {
            self.ip(ns, &format!("addr add {addr} dev {dev}"))?;
            self.ip(ns, &format!("link set {dev} up"))?;
        }
        // The configurations' `ip route 0.0.0.0 0.0.0.0 ...`, and the hosts'.
        self.ip("h13", "route add default via 13.13.13.13")?;
        self.ip("h12", "route add default via 12.12.12.12")?;
        self.ip("daphne", "route add default via 11.11.11.2")?;
        self.ip("fred", "route add default via 11.11.11.1")?;
        // TED interception (peer/README.md): UDP 500 arriving on the
        // outside interface is delivered locally whatever its destination.
        for r in ["daphne", "fred"] {
            self.ip(
                r,
                "rule add iif fe0 ipproto udp dport 500 lookup 500 priority 500",
            )?;
            self.ip(r, "route add local 0.0.0.0/0 dev lo table 500")?;
        }
        // fred's TUN device exists before its peer starts (as the interop
        // harness does it); daphne's peer creates its own.
        self.ip("fred", "tuntap add dev ted0 mode tun")?;
        self.ip("fred", "link set ted0 up")?;
        self.ip("fred", "route add 13.13.13.0/24 dev ted0")?;
        Ok(())
    }
}

fn events(path: &Path) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_default();
    // A line being written may be incomplete: only whole lines count.
    let whole = text.rfind('\n').map_or("", |i| &text[..i]);
    whole
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{path:?}: {l:?}: {e}")))
        .collect()
}

fn named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

/// Waits (bounded) until `events.jsonl` has an event for which `pred` holds.
fn wait_event(path: &Path, within: Duration, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    loop {
        if let Some(e) = events(path).into_iter().find(|e| pred(e)) {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} in {path:?} within {within:?}:\n{}",
            fs::read_to_string(path).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `ping -c COUNT`: how many replies came back.
fn ping(lab: &Lab, ns: &str, to: &str, count: u32) -> u32 {
    ping_sized(lab, ns, to, count, 56)
}

/// `ping -c COUNT -s SIZE`: how many replies came back.
fn ping_sized(lab: &Lab, ns: &str, to: &str, count: u32, size: u32) -> u32 {
    let (count, size) = (count.to_string(), size.to_string());
    let out = lab
        .exec(
            ns,
            "ping",
            &[
                "-n", "-M", "do", "-c", &count, "-s", &size, "-i", "0.2", "-W", "2", to,
            ],
        )
        .unwrap_or_else(|e| e);
    out.split(',')
        .find_map(|part| part.trim().strip_suffix(" received"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// What crossed the link between the routers, as tcpdump saw it.
#[derive(Debug, Default)]
struct Wire {
    esp: usize,
    probes: usize,
    ike: usize,
    cleartext_between_protected: usize,
}

fn in_net(a: Ipv4Addr, net: [u8; 3]) -> bool {
    a.octets()[..3] == net
}

fn read_wire(path: &Path) -> Wire {
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};
    let mut bytes = Vec::new();
    fs::File::open(path)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let mut reader = pcap_file::pcap::PcapReader::new(&bytes[..]).unwrap();
    let mut wire = Wire::default();
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        let Ok(s) = SlicedPacket::from_ethernet(&p.data) else {
            continue;
        };
        let Some(NetSlice::Ipv4(ip)) = &s.net else {
            continue;
        };
        let (src, dst) = (ip.header().source_addr(), ip.header().destination_addr());
        let protected = (in_net(src, [13, 13, 13]) && in_net(dst, [12, 12, 12]))
            || (in_net(src, [12, 12, 12]) && in_net(dst, [13, 13, 13]));
        match (ip.header().protocol().0, &s.transport) {
            (50, _) => wire.esp += 1,
            (17, Some(TransportSlice::Udp(u)))
                if u.source_port() == 500 && u.destination_port() == 500 =>
            {
                if protected {
                    wire.probes += 1;
                } else {
                    wire.ike += 1;
                }
            }
            _ if protected => wire.cleartext_between_protected += 1,
            _ => {}
        }
    }
    wire
}

/// `#pkts encaps: N` and `#pkts decaps: N` of `show crypto ipsec sa`.
fn counters(show: &str) -> (u64, u64) {
    let grab = |key: &str| {
        show.split(key)
            .nth(1)
            .and_then(|r| r.split(',').next())
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {key:?} in:\n{show}"))
    };
    (grab("#pkts encaps:"), grab("#pkts decaps:"))
}

fn have(program: &str) -> bool {
    // A program on the PATH (not a shell builtin: `kill` is run as one).
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

#[test]
fn a_ping_through_ted_main_mode_quick_mode_and_esp() {
    let required = std::env::var("REQUIRE_NETNS").is_ok_and(|v| v == "1");
    let dir = std::env::temp_dir().join(format!("ikev1-peer-seed-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let mut lab = Lab {
        prefix: format!("ikps{}-", std::process::id()),
        namespaces: Vec::new(),
        children: Vec::new(),
        dir: dir.clone(),
    };
    if let Err(e) = lab.build() {
        // (A failure keeps the directory: it holds the logs.)
        assert!(
            !required,
            "REQUIRE_NETNS=1 and the seed's namespaces cannot be built: {e}"
        );
        eprintln!(
            "!!! SKIPPED: the seed's network namespaces cannot be built here ({e}); \
             run as root, or set REQUIRE_NETNS=1 to make this a failure"
        );
        drop(lab);
        let _ = fs::remove_dir_all(&dir);
        return;
    }
    for r in ["daphne", "fred"] {
        fs::create_dir_all(dir.join(r)).unwrap();
    }
    let tcpdump = have("tcpdump");
    if tcpdump {
        let wire = dir.join("wire.pcap");
        lab.spawn(
            "tcpdump",
            "daphne",
            "tcpdump",
            &[
                "-i",
                "fe0",
                "-n",
                "-U",
                "--immediate-mode",
                "-w",
                wire.to_str().unwrap(),
            ],
        );
    } else {
        eprintln!("note: no tcpdump here; the wire checks are left out");
    }

    let start = |lab: &mut Lab, r: &str, extra: &[&str]| {
        let cfg = format!("{SEED}/{r}.cfg");
        let out = dir.join(r);
        let ctl = dir.join(format!("{r}.ctl"));
        let mut args = vec![
            "--config",
            cfg.as_str(),
            "--tun",
            "ted0",
            "--intercept",
            "--out",
            out.to_str().unwrap(),
            "--control",
            ctl.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        lab.spawn(r, r, PEER, &args);
    };
    start(&mut lab, "daphne", &["--tun-create"]);
    start(&mut lab, "fred", &[]);
    let d_events = dir.join("daphne/events.jsonl");
    let f_events = dir.join("fred/events.jsonl");
    for p in [&d_events, &f_events] {
        wait_event(p, Duration::from_secs(20), "ready", |e| {
            e["event"] == "ready"
        });
    }
    if tcpdump {
        // tcpdump says "listening on" once it captures.
        let log = dir.join("tcpdump.log");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("listening on")
        {
            assert!(Instant::now() < deadline, "tcpdump did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    // The first packets start TED and IKE and are dropped meanwhile, as on
    // IOS: ping once a second until one comes back (bounded).
    let t0 = Instant::now();
    let mut first_reply = None;
    for attempt in 1..=20 {
        if ping(&lab, "h13", "12.12.12.13", 1) == 1 {
            first_reply = Some(attempt);
            break;
        }
    }
    let first_reply = first_reply.unwrap_or_else(|| {
        panic!(
            "no reply from 12.12.12.13 in 20 pings\ndaphne: {}\nfred: {}",
            fs::read_to_string(&d_events).unwrap_or_default(),
            fs::read_to_string(&f_events).unwrap_or_default()
        )
    });
    eprintln!(
        "first reply at ping {first_reply}, {:?} after the first",
        t0.elapsed()
    );
    // Then every ping gets its reply, both ways.
    assert_eq!(ping(&lab, "h13", "12.12.12.13", 5), 5);
    assert_eq!(ping(&lab, "h12", "13.13.13.14", 3), 3);
    // Daphne's peer created its TUN device with room for ESP in a 1500-byte
    // link; fred's was made beforehand and kept its MTU. 1392-byte echoes
    // (the most daphne's TUN device takes) cross both ways.
    let link = |ns: &str| lab.exec(ns, "ip", &["link", "show", "ted0"]).unwrap();
    assert!(link("daphne").contains(" mtu 1392 "), "{}", link("daphne"));
    assert!(link("fred").contains(" mtu 1500 "), "{}", link("fred"));
    assert_eq!(ping_sized(&lab, "h13", "12.12.12.13", 2, 1364), 2);

    // What each router did, from its events.
    let d = events(&d_events);
    let f = events(&f_events);
    let ted: Vec<_> = named(&d, "ted");
    let kinds: Vec<_> = ted.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["started", "probe_sent", "discovered"], "{ted:?}");
    assert_eq!(ted[0]["source"], "13.13.13.14:500");
    assert_eq!(ted[0]["destination"], "12.12.12.13:500");
    assert_eq!(ted[2]["peer"], "11.11.11.2");
    assert_eq!(ted[2]["local_proxy"], "13.13.13.0/24");
    assert_eq!(ted[2]["remote_proxy"], "12.12.12.0/24");
    let fted: Vec<_> = named(&f, "ted")
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fted, ["probe_received", "probe_answered"]);
    let entry = named(&d, "map_entry");
    assert_eq!(entry.len(), 1);
    assert_eq!(entry[0]["seq"], 11, "IOS numbers the derived entry seq + 1");

    let (dp1, fp1) = (named(&d, "phase1_up"), named(&f, "phase1_up"));
    assert_eq!((dp1.len(), fp1.len()), (1, 1), "{dp1:?} {fp1:?}");
    assert_eq!(dp1[0]["mode"], "main");
    assert_eq!(dp1[0]["role"], "initiator");
    assert_eq!(dp1[0]["peer"], "11.11.11.2:500");
    assert_eq!(fp1[0]["role"], "responder");
    assert_eq!(fp1[0]["peer"], "11.11.11.1:500");
    assert_eq!(dp1[0]["icookie"], fp1[0]["icookie"]);
    assert_eq!(dp1[0]["rcookie"], fp1[0]["rcookie"]);
    // The seed's policy: IOS 12.2's defaults (DES, SHA-1, group 1).
    assert_eq!(dp1[0]["encr"], "DES-CBC");
    assert_eq!(dp1[0]["group"], 1);

    let (dp2, fp2) = (named(&d, "phase2_up"), named(&f, "phase2_up"));
    assert_eq!((dp2.len(), fp2.len()), (1, 1), "{dp2:?} {fp2:?}");
    assert_eq!(dp2[0]["spi_in"], fp2[0]["spi_out"]);
    assert_eq!(dp2[0]["spi_out"], fp2[0]["spi_in"]);
    assert_eq!(dp2[0]["transform"], "esp-des esp-md5-hmac");
    assert_eq!(dp2[0]["local_ts"], "13.13.13.0/24");
    assert_eq!(dp2[0]["remote_ts"], "12.12.12.0/24");
    assert_eq!(fp2[0]["local_ts"], "12.12.12.0/24");
    assert_eq!(dp2[0]["pfs_group"], Value::Null);
    // The order of things on the initiator.
    let order: Vec<&str> = d
        .iter()
        .filter_map(|e| e["event"].as_str())
        .filter(|e| ["ready", "ted", "phase1_up", "phase2_up"].contains(e))
        .collect();
    assert_eq!(
        order,
        ["ready", "ted", "ted", "ted", "phase1_up", "phase2_up"]
    );

    // The control socket: IOS's view with this tunnel's counters.
    let ctl = dir.join("daphne.ctl");
    let show = ctl_show(&ctl, "ipsec");
    assert!(show.ends_with("OK\n"), "{show}");
    let spi_out = dp2[0]["spi_out"].as_str().unwrap()[2..].to_uppercase();
    assert!(
        show.contains(&format!("current outbound spi: {spi_out}")),
        "{show}"
    );
    let (encaps, decaps) = counters(&show);
    // 1 + 5 echo requests from h13, 3 replies to h12's; the same back.
    assert!(encaps >= 9 && decaps >= 9, "{encaps} {decaps}\n{show}");
    let isakmp = ctl_show(&ctl, "isakmp");
    assert!(
        isakmp.contains("11.11.11.2      11.11.11.1      QM_IDLE"),
        "{isakmp}"
    );

    // The key tables for Wireshark: one ISAKMP SA, two ESP SAs.
    let ikev1 = fs::read_to_string(dir.join("daphne/ikev1_decryption_table")).unwrap();
    assert_eq!(ikev1.lines().count(), 1);
    assert!(ikev1.starts_with(dp1[0]["icookie"].as_str().unwrap()));
    let esp_sa = fs::read_to_string(dir.join("daphne/esp_sa")).unwrap();
    assert_eq!(esp_sa.lines().count(), 2, "{esp_sa}");
    assert!(esp_sa.contains("\"DES-CBC [RFC2405]\""));

    // SIGTERM: daphne deletes its SAs with Delete notifies and exits 0;
    // fred removes its SAs on them.
    let status = lab.stop("daphne", "TERM", Duration::from_secs(20));
    assert!(status.success(), "daphne exited with {status}");
    let d = events(&d_events);
    assert_eq!(d.last().unwrap()["event"], "stopped");
    assert_eq!(named(&d, "phase2_down")[0]["reason"], "shutdown");
    wait_event(&f_events, Duration::from_secs(10), "phase1_down", |e| {
        e["event"] == "phase1_down" && e["reason"] == "peer_delete"
    });
    let f = events(&f_events);
    let down = named(&f, "phase2_down");
    assert_eq!(down.len(), 1, "{down:?}");
    assert_eq!(down[0]["reason"], "peer_delete");
    assert_eq!(down[0]["spi_in"], fp2[0]["spi_in"]);
    let status = lab.stop("fred", "TERM", Duration::from_secs(20));
    assert!(status.success(), "fred exited with {status}");
    assert_eq!(events(&f_events).last().unwrap()["event"], "stopped");

    // The wire between the routers, as a third party saw it: one probe
    // from the protected host, IKE between the routers, ESP, and no
    // clear text between the protected networks (the first echo request
    // was dropped, not forwarded in clear).
    if tcpdump {
        lab.stop("tcpdump", "INT", Duration::from_secs(10));
        let wire = read_wire(&dir.join("wire.pcap"));
        eprintln!("wire: {wire:?}");
        assert_eq!(wire.cleartext_between_protected, 0, "{wire:?}");
        assert_eq!(wire.probes, 1, "{wire:?}");
        // TED response, MM1-6, QM1-3, two Deletes at least.
        assert!(wire.ike >= 12, "{wire:?}");
        assert!(wire.esp >= 18, "{wire:?}");
    }
    drop(lab);
    let _ = fs::remove_dir_all(&dir);
}
