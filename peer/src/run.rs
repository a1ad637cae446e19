//! The event loop: one thread, `mio` (epoll) readiness on every socket,
//! the TUN device, the control socket and the signal pipes; the gateway's
//! `poll_timeout` as the poll's timeout; `Instant::now()` as the clock.
//!
//! Every readiness is edge-triggered, so each ready source is read until
//! it would block. After each wake-up the gateway's due timers run and
//! every queued output is sent.
//!
//! Signals (through `signal-hook`'s self-pipe, so that the handler does
//! nothing but write a byte): SIGTERM and SIGINT delete every SA with
//! Delete notifies, write `stopped` and return (exit 0); SIGUSR1 prints
//! the `show` views on stdout.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, ErrorKind, Read, Write};
use std::net::{SocketAddr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream as StdUnixStream;
use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use mio::net::{UdpSocket, UnixListener, UnixStream};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use serde_json::Value;
use socket2::Socket;
use ted::config::Config;
use ted::gateway::{Gateway, GatewayOptions};

use crate::capture::Capture;
use crate::cli::{IKE_PORT, NAT_T_PORT, RunArgs};
use crate::control::{Connection, Progress};
use crate::core::{Core, Output, Outputs, Sealed, Sink, proxy_text};
use crate::entropy::OsEntropy;
use crate::events::EventLog;
use crate::keys::KeyTables;
use crate::os;

const IKE: Token = Token(0);
const ESP: Token = Token(1);
const TUN: Token = Token(2);
const INTERCEPT: Token = Token(3);
const CONTROL: Token = Token(4);
const SIG_TERM: Token = Token(5);
const SIG_USR1: Token = Token(6);
const NAT_T: Token = Token(7);
const FIRST_CONN: usize = 16;

/// Control connections served at once; more wait in the listen backlog.
const MAX_CONNECTIONS: usize = 32;

/// The largest IPv4 packet.
const MAX_PACKET: usize = 65_535;

/// Why the peer could not start (or stopped on an error).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The configuration file.
    #[error("configuration {}: {reason}", path.display())]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The gateway refused the configuration.
    #[error("gateway: {0}")]
    Gateway(#[from] ted::gateway::GatewayError),
    /// A socket, the TUN device or a file.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The `--control` path cannot be used.
    #[error("--control {}: {reason}", path.display())]
    Control {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The `--out` directory cannot be used.
    #[error("--out {}: {reason}", path.display())]
    OutDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Makes `--control PATH` bindable: a socket left there by an earlier run
/// is removed; anything else at that path (a file, a directory) is never
/// touched, and refused with the path and the reason.
fn clear_stale_socket(path: &Path) -> Result<(), RunError> {
    use std::os::unix::fs::FileTypeExt;
    let refuse = |reason: String| RunError::Control {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(refuse(format!("cannot read it: {e}"))),
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path)
            .map_err(|e| refuse(format!("cannot remove the old socket: {e}"))),
        Ok(_) => Err(refuse(
            "exists and is not a socket (it is left alone)".into(),
        )),
    }
}

/// Makes `--out DIR` usable: an existing directory is used as it is; a
/// missing one is created, that directory only (never its parents), owner
/// only (0700), since the files in it include the SAs' keys. Anything else
/// is refused with the path and the reason.
pub(crate) fn prepare_out_dir(dir: &Path) -> Result<(), RunError> {
    use std::os::unix::fs::DirBuilderExt;
    let refuse = |reason: String| RunError::OutDir {
        path: dir.to_path_buf(),
        reason,
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(refuse("exists and is not a directory".into())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => std::fs::DirBuilder::new()
            .mode(0o700)
            .create(dir)
            .map_err(|e| match e.kind() {
                io::ErrorKind::NotFound => refuse(
                    "its parent directory does not exist (only DIR itself is created)".into(),
                ),
                _ => refuse(format!("cannot create it: {e}")),
            }),
        Err(e) => Err(refuse(format!("cannot read it: {e}"))),
    }
}

/// The interface with the crypto map: the one named, or the only one
/// that has a crypto map.
fn outside_interface(config: &Config, named: Option<&str>) -> Result<String, String> {
    if let Some(n) = named {
        return Ok(n.to_owned());
    }
    let with_map: Vec<String> = config
        .interfaces()
        .iter()
        .filter(|i| i.crypto_map.is_some())
        .map(|i| i.name().to_string())
        .collect();
    match with_map.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err("no interface has a crypto map (name one with --outside)".into()),
        _ => Err(format!(
            "several interfaces have a crypto map ({}): name one with --outside",
            with_map.join(", ")
        )),
    }
}

/// The remote proxies of the crypto map's access lists (the destinations
/// of their permit lines), as `a.b.c.d/len` routes for the TUN device.
pub fn remote_proxy_routes(config: &Config, map: &str) -> Vec<String> {
    let mut acls = Vec::new();
    if let Some(m) = config.crypto_map(map) {
        for (_, entry) in m.entries() {
            match entry {
                ted::config::CryptoMapEntry::Dynamic { template, .. } => {
                    if let Some(d) = config.dynamic_map(template) {
                        acls.extend(d.entries().filter_map(|(_, p)| p.match_address.clone()));
                    }
                }
                other => {
                    if let Some(p) = other.params() {
                        acls.extend(p.match_address.clone());
                    }
                }
            }
        }
    }
    let mut routes = Vec::new();
    for name in acls {
        let Some(acl) = config.access_list(&name) else {
            continue;
        };
        for (_, rule) in acl.rules() {
            if let Ok(pair) = rule.proxy() {
                let mut d = pair.destination;
                d.protocol = ted::acl::IpProtocol(0);
                d.port = 0;
                let r = proxy_text(&d);
                if !routes.contains(&r) {
                    routes.push(r);
                }
            }
        }
    }
    routes
}

fn create_file(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("create {}: {e}", path.display())))
}

/// Everything the loop owns besides the core.
struct Io {
    ike: UdpSocket,
    ike_addr: SocketAddrV4,
    /// The NAT-T socket (RFC 3948: IKE after the float, keepalives,
    /// UDP-encapsulated ESP), unless NAT-T is disabled.
    nat_t: Option<(UdpSocket, SocketAddrV4)>,
    esp: Socket,
    tun: tun_rs::SyncDevice,
    outside: Socket,
    forward: Option<Socket>,
    intercept: Option<Socket>,
    control: Option<(UnixListener, PathBuf)>,
    connections: BTreeMap<usize, Connection<UnixStream>>,
    next_conn: usize,
    sig_term: UnixStream,
    sig_usr1: UnixStream,
    send_errors: u64,
}

/// Runs the peer until SIGTERM or SIGINT.
///
/// # Errors
/// [`RunError`] when it cannot start; I/O errors of the poll itself.
pub fn run(args: &RunArgs) -> Result<(), RunError> {
    let text = std::fs::read_to_string(&args.config).map_err(|e| RunError::Config {
        path: args.config.clone(),
        reason: e.to_string(),
    })?;
    let parsed = ted::config::ios::parse(&text).map_err(|e| RunError::Config {
        path: args.config.clone(),
        reason: e.to_string(),
    })?;
    let config = parsed.config;
    let outside =
        outside_interface(&config, args.outside.as_deref()).map_err(|reason| RunError::Config {
            path: args.config.clone(),
            reason,
        })?;
    let ike_addr = match args.ike {
        Some(a) => a,
        None => {
            let a = config
                .interface(&outside)
                .and_then(|i| i.address.as_ref())
                .map(|a| a.address)
                .ok_or_else(|| RunError::Config {
                    path: args.config.clone(),
                    reason: format!("interface {outside} has no address: give --ike"),
                })?;
            SocketAddrV4::new(a, IKE_PORT)
        }
    };
    let esp_addr = args.esp.unwrap_or(*ike_addr.ip());

    let mut options = GatewayOptions::default();
    options.debug = args.debug;
    options.key_log = args.out.is_some();
    options.outside_address = Some(*ike_addr.ip());
    crate::core::set_aggressive(&mut options, args.aggressive);
    options.ike.nat_t.mode = args.nat_t;
    options.ike.nat_t.port = args.nat_t_port.unwrap_or(NAT_T_PORT);

    let map_routes = {
        let map = config
            .interface(&outside)
            .and_then(|i| i.crypto_map.clone())
            .unwrap_or_default();
        remote_proxy_routes(&config, &map)
    };
    let gateway = Gateway::new(config, &outside, Box::new(OsEntropy), options)?;
    // The mode in force: the command line's, unless the configuration
    // says `no crypto ipsec nat-transparency udp-encapsulation`.
    let nat_t = &gateway.ike().config().nat_t;
    let nat_t_addr = (nat_t.mode != ike_sm::NatTMode::Disabled)
        .then(|| SocketAddrV4::new(*ike_addr.ip(), nat_t.port));

    // Outputs.
    let mut outputs = Outputs::default();
    if let Some(dir) = &args.out {
        prepare_out_dir(dir)?;
        let ev: Sink = Box::new(create_file(&dir.join("events.jsonl"), 0o644)?);
        outputs.events = Some(EventLog::new(ev));
        outputs.keys = Some(KeyTables::create(dir)?);
        let pcap: Sink = Box::new(BufWriter::new(create_file(
            &dir.join("ikev1-peer.pcap"),
            0o600,
        )?));
        outputs.capture = Some(Capture::new(pcap)?);
    }
    if args.debug {
        outputs.debug = Some(Box::new(io::stderr()));
    }

    // Sockets and the TUN device.
    let ike = UdpSocket::from_std(os::ike_socket(ike_addr, args.intercept)?);
    let nat_t = match nat_t_addr {
        Some(a) => Some((UdpSocket::from_std(os::ike_socket(a, false)?), a)),
        None => None,
    };
    let esp = os::esp_socket(esp_addr)?;
    let device = os::device_with_address(*ike_addr.ip());
    let outside_raw = os::raw_socket(device.as_deref())?;
    let (intercept, forward) = if args.intercept {
        (
            Some(os::intercept_socket(ike_addr.port())?),
            Some(os::raw_socket(None)?),
        )
    } else {
        (None, None)
    };
    let tun = os::open_tun(&args.tun, args.tun_create, &map_routes)?;

    let mut poll = Poll::new()?;
    let (term_rx, term_tx) = StdUnixStream::pair()?;
    let (usr1_rx, usr1_tx) = StdUnixStream::pair()?;
    term_rx.set_nonblocking(true)?;
    usr1_rx.set_nonblocking(true)?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGTERM, term_tx.try_clone()?)?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGINT, term_tx)?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGUSR1, usr1_tx)?;

    let control = match &args.control {
        Some(path) => {
            clear_stale_socket(path)?;
            let l = UnixListener::bind(path).map_err(|e| {
                io::Error::new(e.kind(), format!("control socket {}: {e}", path.display()))
            })?;
            Some((l, path.clone()))
        }
        None => None,
    };

    let mut io = Io {
        ike,
        ike_addr,
        nat_t,
        esp,
        tun,
        outside: outside_raw,
        forward,
        intercept,
        control,
        connections: BTreeMap::new(),
        next_conn: FIRST_CONN,
        sig_term: UnixStream::from_std(term_rx),
        sig_usr1: UnixStream::from_std(usr1_rx),
        send_errors: 0,
    };
    let reg = poll.registry();
    reg.register(&mut io.ike, IKE, Interest::READABLE)?;
    if let Some((s, _)) = io.nat_t.as_mut() {
        reg.register(s, NAT_T, Interest::READABLE)?;
    }
    reg.register(&mut SourceFd(&io.esp.as_raw_fd()), ESP, Interest::READABLE)?;
    reg.register(&mut SourceFd(&io.tun.as_raw_fd()), TUN, Interest::READABLE)?;
    if let Some(s) = &io.intercept {
        reg.register(&mut SourceFd(&s.as_raw_fd()), INTERCEPT, Interest::READABLE)?;
    }
    if let Some((l, _)) = io.control.as_mut() {
        reg.register(l, CONTROL, Interest::READABLE)?;
    }
    reg.register(&mut io.sig_term, SIG_TERM, Interest::READABLE)?;
    reg.register(&mut io.sig_usr1, SIG_USR1, Interest::READABLE)?;

    let now = Instant::now();
    let mut core = Core::new(gateway, ike_addr, outputs, now, SystemTime::now());
    let mut ready = vec![
        ("ike", Value::from(ike_addr.to_string())),
        ("esp", Value::from(esp_addr.to_string())),
        (
            "nat_t",
            nat_t_addr.map_or(Value::Null, |a| Value::from(a.to_string())),
        ),
        ("tun", Value::from(args.tun.clone())),
        ("outside", Value::from(outside)),
        ("outside_device", device.map_or(Value::Null, Value::from)),
        ("intercept", Value::from(args.intercept)),
        ("pid", Value::from(std::process::id())),
    ];
    if let Some(p) = &args.control {
        ready.push(("control", Value::from(p.display().to_string())));
    }
    core.ready(ready);
    io.flush(&mut core);

    let result = event_loop(&mut poll, &mut io, &mut core);
    // Whatever ended the loop, tell the peers.
    core.shutdown(Instant::now());
    io.flush(&mut core);
    if let Some((_, path)) = &io.control {
        let _ = std::fs::remove_file(path);
    }
    core.flush_files();
    result
}

fn event_loop(poll: &mut Poll, io: &mut Io, core: &mut Core) -> Result<(), RunError> {
    let mut events = Events::with_capacity(64);
    let mut buf = vec![0u8; Gateway::HEADROOM + MAX_PACKET + Gateway::TAILROOM];
    loop {
        core.flush_files();
        let timeout = core
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()));
        match poll.poll(&mut events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
        let mut stop = false;
        for event in &events {
            match event.token() {
                IKE => io.read_ike(core, &mut buf),
                NAT_T => io.read_nat_t(core, &mut buf),
                ESP => io.read_esp(core, &mut buf),
                TUN => io.read_tun(core, &mut buf),
                INTERCEPT => io.read_intercept(core, &mut buf),
                CONTROL => io.accept(poll)?,
                SIG_TERM => {
                    drain_pipe(&mut io.sig_term);
                    stop = true;
                }
                SIG_USR1 => {
                    drain_pipe(&mut io.sig_usr1);
                    let text = core.show_all(Instant::now());
                    let mut out = io::stdout().lock();
                    let _ = out.write_all(text.as_bytes());
                    let _ = out.flush();
                }
                Token(t) => io.serve(poll, core, t),
            }
            io.flush(core);
        }
        core.timeout(Instant::now());
        io.flush(core);
        if stop {
            return Ok(());
        }
    }
}

fn drain_pipe(s: &mut UnixStream) {
    let mut b = [0u8; 64];
    while let Ok(n) = s.read(&mut b) {
        if n == 0 {
            break;
        }
    }
}

impl Io {
    fn read_ike(&mut self, core: &mut Core, buf: &mut [u8]) {
        loop {
            match self.ike.recv_from(buf) {
                Ok((n, SocketAddr::V4(from))) => {
                    let payload = buf.get(..n).unwrap_or_default();
                    core.datagram(Instant::now(), self.ike_addr, from, payload);
                    self.flush(core);
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                // ICMP errors reported on the socket (port unreachable):
                // the retransmission timers deal with the peer's absence.
                Err(_) => {}
            }
        }
    }

    /// Datagrams on the NAT-T socket, each read `NAT_T_HEADROOM` bytes
    /// into `buf` (room for a transport-mode packet's restored header).
    fn read_nat_t(&mut self, core: &mut Core, buf: &mut [u8]) {
        let start = Gateway::NAT_T_HEADROOM;
        loop {
            let Some((socket, local)) = self.nat_t.as_ref() else {
                return;
            };
            let local = *local;
            let Some(room) = buf.get_mut(start..) else {
                return;
            };
            match socket.recv_from(room) {
                Ok((n, SocketAddr::V4(from))) => {
                    let payload = start..start.saturating_add(n);
                    if let Some(inner) = core.nat_t(Instant::now(), local, from, buf, payload)
                        && let Some(p) = buf.get(inner)
                        && self.tun.send(p).is_err()
                    {
                        self.send_errors = self.send_errors.saturating_add(1);
                    }
                    self.flush(core);
                }
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {}
            }
        }
    }

    fn read_intercept(&mut self, core: &mut Core, buf: &mut [u8]) {
        let Some(s) = self.intercept.as_ref() else {
            return;
        };
        loop {
            match os::recv_intercepted(s, buf) {
                Ok((n, from, to)) => {
                    let local = SocketAddrV4::new(to, self.ike_addr.port());
                    let payload = buf.get(..n).unwrap_or_default();
                    core.datagram(Instant::now(), local, from, payload);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {}
            }
        }
    }

    fn read_esp(&mut self, core: &mut Core, buf: &mut [u8]) {
        loop {
            match os::recv_raw(&self.esp, buf) {
                Ok(n) => {
                    let Some(packet) = buf.get_mut(..n) else {
                        continue;
                    };
                    if let Some(inner) = core.esp(Instant::now(), packet)
                        && let Some(p) = packet.get(inner)
                        && self.tun.send(p).is_err()
                    {
                        self.send_errors = self.send_errors.saturating_add(1);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn read_tun(&mut self, core: &mut Core, buf: &mut [u8]) {
        let start = Gateway::HEADROOM;
        loop {
            let Some(room) = buf.get_mut(start..start + MAX_PACKET) else {
                return;
            };
            match self.tun.recv(room) {
                Ok(n) => {
                    let packet = start..start.saturating_add(n);
                    let sent = match core.seal(Instant::now(), buf, packet) {
                        Some(Sealed::Esp { peer, packet }) => buf.get(packet).map(|p| {
                            self.esp
                                .send_to(p, &SocketAddrV4::new(peer, 0).into())
                                .map(|_| ())
                        }),
                        // UDP-encapsulated: from the NAT-T socket, so that
                        // the NATs on the way map it with the IKE float.
                        Some(Sealed::Udp { datagram, .. }) => {
                            match (buf.get(datagram.payload), self.nat_t.as_ref()) {
                                (Some(p), Some((s, _))) => Some(
                                    s.send_to(p, SocketAddr::V4(datagram.destination))
                                        .map(|_| ()),
                                ),
                                _ => Some(Err(io::Error::from(ErrorKind::NotConnected))),
                            }
                        }
                        _ => None,
                    };
                    if sent.is_some_and(|r| r.is_err()) {
                        self.send_errors = self.send_errors.saturating_add(1);
                    }
                    self.flush(core);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn accept(&mut self, poll: &Poll) -> io::Result<()> {
        let Some((listener, _)) = self.control.as_ref() else {
            return Ok(());
        };
        loop {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    if self.connections.len() >= MAX_CONNECTIONS {
                        let _ = stream.write_all(b"ERROR: too many control connections\n");
                        continue;
                    }
                    let id = self.next_conn;
                    self.next_conn = self.next_conn.checked_add(1).unwrap_or(FIRST_CONN);
                    poll.registry().register(
                        &mut stream,
                        Token(id),
                        Interest::READABLE | Interest::WRITABLE,
                    )?;
                    self.connections.insert(id, Connection::new(stream));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    fn serve(&mut self, poll: &Poll, core: &mut Core, id: usize) {
        let Some(c) = self.connections.get_mut(&id) else {
            return;
        };
        let progress = if c.answering() {
            c.write()
        } else {
            match c.read() {
                Progress::Command(line) => {
                    let reply = core.command(Instant::now(), &line);
                    c.answer(reply.render());
                    c.write()
                }
                other => other,
            }
        };
        if progress == Progress::Done
            && let Some(mut c) = self.connections.remove(&id)
        {
            let _ = poll.registry().deregister(c.stream_mut());
        }
    }

    /// Sends every queued output.
    fn flush(&mut self, core: &mut Core) {
        while let Some(o) = core.poll_output() {
            let r = match &o {
                Output::Udp {
                    destination,
                    payload,
                } => self
                    .ike
                    .send_to(payload, SocketAddr::V4(*destination))
                    .map(|_| ()),
                Output::NatT {
                    destination,
                    payload,
                } => match self.nat_t.as_ref() {
                    Some((s, _)) => s.send_to(payload, SocketAddr::V4(*destination)).map(|_| ()),
                    None => Err(io::Error::from(ErrorKind::NotConnected)),
                },
                Output::Outside(p) => os::send_ip(&self.outside, p).map(|_| ()),
                Output::Forward(p) => {
                    os::send_ip(self.forward.as_ref().unwrap_or(&self.outside), p).map(|_| ())
                }
            };
            if r.is_err() {
                self.send_errors = self.send_errors.saturating_add(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn out_dir_is_created_owner_only_or_refused_with_path_and_reason() {
        let base = std::env::temp_dir().join(format!("ikev1-peer-out-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base).unwrap();
        // Missing: created, owner only.
        let dir = base.join("run1");
        prepare_out_dir(&dir).unwrap();
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        // Existing: used as it is.
        prepare_out_dir(&dir).unwrap();
        // Only DIR itself, never its parents.
        let deep = base.join("no/such/parent");
        let e = prepare_out_dir(&deep).unwrap_err().to_string();
        assert!(e.contains(&deep.display().to_string()), "{e}");
        assert!(e.contains("parent directory does not exist"), "{e}");
        assert!(!base.join("no").exists());
        // A file in the way.
        let file = base.join("file");
        std::fs::write(&file, b"x").unwrap();
        let e = prepare_out_dir(&file).unwrap_err().to_string();
        assert!(e.contains("not a directory"), "{e}");
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn control_path_removes_only_an_old_socket() {
        let base = std::env::temp_dir().join(format!("ikev1-peer-ctl-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base).unwrap();
        // Nothing there: fine.
        clear_stale_socket(&base.join("none")).unwrap();
        // An old socket: removed.
        let sock = base.join("ctl");
        drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
        clear_stale_socket(&sock).unwrap();
        assert!(!sock.exists());
        // A regular file: refused, and still there.
        let file = base.join("precious");
        std::fs::write(&file, b"keep me").unwrap();
        let e = clear_stale_socket(&file).unwrap_err().to_string();
        assert!(
            e.contains(&file.display().to_string()) && e.contains("not a socket"),
            "{e}"
        );
        assert_eq!(std::fs::read(&file).unwrap(), b"keep me");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
