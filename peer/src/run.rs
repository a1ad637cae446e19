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
//!
//! [`run`] runs the gateway of an IOS configuration file (an Easy VPN
//! server too, given `--users`); [`run_client`] a remote-access client,
//! whose configuration is built from its command line. Both share the
//! sockets, the TUN device and the loop; the client's run also ends when
//! its session does (XAUTH refused, phase 1 failed, the concentrator
//! gone), and takes down the address and routes it configured on every
//! way out.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
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
use ted::gateway::{ClientOptions, Gateway, GatewayOptions};

use crate::capture::Capture;
use crate::cli::{ClientArgs, IKE_PORT, NAT_T_PORT, PasswordSource, RunArgs};
use crate::client::{self, ClientEnd, ClientSession};
use crate::control::{Connection, Progress};
use crate::core::{Core, Output, Outputs, Sealed, Sink, proxy_text};
use crate::entropy::OsEntropy;
use crate::events::EventLog;
use crate::hostnet::{IpCommand, Underlay};
use crate::keys::KeyTables;
use crate::os;
use crate::secret::{self, SecretError};

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
    /// The `--users` file cannot be used.
    #[error(transparent)]
    Users(#[from] crate::users::UsersError),
    /// A `--cert`, `--private-key`, `--ca` or `--crl` file cannot be used.
    #[error(transparent)]
    Pki(#[from] crate::pki::PkiFileError),
    /// The client's group key or password cannot be had.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The remote-access client's session ended on its own (XAUTH
    /// failed: `XAUTH failed: ...`).
    #[error("{0}")]
    Client(ClientEnd),
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

/// What the event loop runs, from the gateway's command line
/// ([`RunArgs`]) or the client's ([`ClientArgs`]).
struct Launch {
    gateway: Gateway,
    outside: String,
    ike_addr: SocketAddrV4,
    esp_addr: Ipv4Addr,
    tun: String,
    tun_create: bool,
    /// Routed into the TUN device when it is created.
    tun_routes: Vec<String>,
    intercept: bool,
    out: Option<PathBuf>,
    control: Option<PathBuf>,
    debug: bool,
    /// Said at start (`warning` events and stderr).
    warnings: Vec<String>,
    /// `ready`'s fields of the mode's own.
    ready: Vec<(&'static str, Value)>,
    /// A remote-access client's session and its configuration's text
    /// (written to `--out` as `client.cfg`).
    client: Option<(ClientSession, String)>,
    /// Easy VPN server: route each assigned address into the TUN device.
    route_clients: bool,
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
    // IKE fragmentation with certificates (their messages are the large
    // ones) or when a size is given; off otherwise, as on the seed's IOS.
    options.ike.fragmentation.enabled = args.cert.is_some() || args.fragment_size.is_some();
    if let Some(size) = args.fragment_size {
        options.ike.fragmentation.fragment_size = size;
    }
    // The certificate files before the sockets: a bad one stops the start.
    let pki = crate::pki::load(args)?;
    options.pki = pki.pki;

    let map_routes = {
        let map = config
            .interface(&outside)
            .and_then(|i| i.crypto_map.clone())
            .unwrap_or_default();
        remote_proxy_routes(&config, &map)
    };
    // The user file before the sockets: a bad one stops the start.
    let users = match &args.users {
        Some(path) => Some(crate::users::load(path)?),
        None => None,
    };
    let mut gateway = Gateway::new(config, &outside, Box::new(OsEntropy), options)?;
    gateway.set_calendar_time(Instant::now(), unix_now());
    let mut warnings = pki.warnings;
    let mut ready = Vec::new();
    if let Some(subject) = pki.subject {
        ready.push(("certificate", Value::from(subject)));
    }
    let serves = gateway.config().remote_access.groups().next().is_some()
        || gateway
            .config()
            .xauth_list_for_map(gateway.crypto_map())
            .is_some();
    if let Some((db, w)) = users {
        warnings.extend(w);
        if !serves {
            warnings.push(
                "--users: the configuration serves no remote-access clients (no `crypto isakmp \
                 client configuration group`, no XAUTH on the crypto map): the users are not used"
                    .to_owned(),
            );
        }
        ready.push(("users", Value::from(db.len())));
        gateway.set_users(db);
    }
    launch(Launch {
        gateway,
        outside,
        ike_addr,
        esp_addr,
        tun: args.tun.clone(),
        tun_create: args.tun_create,
        tun_routes: map_routes,
        intercept: args.intercept,
        out: args.out.clone(),
        control: args.control.clone(),
        debug: args.debug,
        warnings,
        ready,
        client: None,
        // `--tun-create` routes what the tunnels carry into the device:
        // for an Easy VPN server, each address it assigns.
        route_clients: serves && args.tun_create,
    })
}

/// Runs the remote-access client until SIGTERM or SIGINT, or until its
/// session ends on its own ([`RunError::Client`]: XAUTH failed, phase 1
/// failed, the concentrator ended it). The address and routes it put on
/// the host are taken down in every case.
///
/// # Errors
/// [`RunError`] when it cannot start or the session ended.
pub fn run_client(args: &ClientArgs) -> Result<(), RunError> {
    let mut warnings = Vec::new();
    // The secrets first: nothing is opened if they cannot be had.
    let (group_key, w) = secret::read_file_line("group key file", &args.group_key_file)?;
    warnings.extend(w);
    if group_key.is_empty() {
        return Err(SecretError::Empty("the group key").into());
    }
    let password = match &args.password {
        PasswordSource::File(path) => {
            let (p, w) = secret::read_file_line("password file", path)?;
            warnings.extend(w);
            p
        }
        PasswordSource::Env(var) => secret::read_env("password", var)?,
        PasswordSource::Prompt => secret::prompt(
            "password",
            &format!("Password for {} at {}: ", args.user, args.gateway),
        )?,
    };
    let credentials = ike_sm::XauthCredentials::new(&args.user, &password);
    drop(password);

    let local = match args.local {
        Some(a) => a,
        None => os::source_address_towards(args.gateway)?,
    };
    let ike_addr = SocketAddrV4::new(local, IKE_PORT);
    let text = client::ios_config(args.gateway, local, &args.ike_suites(), &args.esp_suites());
    let config = ted::config::ios::parse(&text)
        .map_err(|e| RunError::Config {
            path: PathBuf::from("(the client's configuration, built from the command line)"),
            reason: e.to_string(),
        })?
        .config;
    let mut options = GatewayOptions::default();
    options.debug = args.debug;
    options.key_log = args.out.is_some();
    options.outside_address = Some(local);
    let mut client_options = ClientOptions::new(&args.group, &group_key);
    drop(group_key);
    client_options.mode = if args.main_mode {
        ike_sm::ExchangeMode::Main
    } else {
        ike_sm::ExchangeMode::Aggressive
    };
    crate::core::set_aggressive(&mut options, !args.main_mode);
    options.client = Some(client_options);
    options.ike.nat_t.mode = args.nat_t;
    options.ike.nat_t.port = args.nat_t_port.unwrap_or(NAT_T_PORT);
    let gateway = Gateway::new(
        config,
        client::OUTSIDE_INTERFACE,
        Box::new(OsEntropy),
        options,
    )?;

    let underlay = match Underlay::lookup(args.gateway) {
        Ok(u) => Some(u),
        Err(e) => {
            warnings.push(format!(
                "cannot tell how {} is reached ({e}): no host route to it if the tunnel takes \
                 everything",
                args.gateway
            ));
            None
        }
    };
    let session = ClientSession::new(
        credentials,
        args.gateway,
        &args.tun,
        args.routes,
        underlay,
        Box::new(IpCommand),
        Some(Box::new(io::stderr())),
    );
    let mode = if args.main_mode { "main" } else { "aggressive" };
    launch(Launch {
        gateway,
        outside: client::OUTSIDE_INTERFACE.to_owned(),
        ike_addr,
        esp_addr: local,
        tun: args.tun.clone(),
        tun_create: args.tun_create,
        tun_routes: Vec::new(),
        intercept: false,
        out: args.out.clone(),
        control: args.control.clone(),
        debug: args.debug,
        warnings,
        ready: vec![
            ("mode", Value::from("client")),
            ("gateway", Value::from(args.gateway.to_string())),
            ("group", Value::from(args.group.clone())),
            ("user", Value::from(args.user.clone())),
            ("phase1", Value::from(mode)),
        ],
        client: Some((session, text)),
        route_clients: false,
    })
}

/// Opens everything and runs the loop (both modes).
fn launch(l: Launch) -> Result<(), RunError> {
    let Launch {
        gateway,
        outside,
        ike_addr,
        esp_addr,
        tun,
        tun_create,
        tun_routes,
        intercept,
        out,
        control,
        debug,
        warnings,
        ready: mode_ready,
        client,
        route_clients,
    } = l;
    // The mode in force: the command line's, unless the configuration
    // says `no crypto ipsec nat-transparency udp-encapsulation`.
    let nat_t = &gateway.ike().config().nat_t;
    let nat_t_addr = (nat_t.mode != ike_sm::NatTMode::Disabled)
        .then(|| SocketAddrV4::new(*ike_addr.ip(), nat_t.port));

    // Outputs.
    let mut outputs = Outputs::default();
    if let Some(dir) = &out {
        prepare_out_dir(dir)?;
        let ev: Sink = Box::new(create_file(&dir.join("events.jsonl"), 0o644)?);
        outputs.events = Some(EventLog::new(ev));
        outputs.keys = Some(KeyTables::create(dir)?);
        let pcap: Sink = Box::new(BufWriter::new(create_file(
            &dir.join("ikev1-peer.pcap"),
            0o600,
        )?));
        outputs.capture = Some(Capture::new(pcap)?);
        if let Some((_, text)) = &client {
            // No secret in it: the group key is in the gateway's options.
            create_file(&dir.join("client.cfg"), 0o644)?.write_all(text.as_bytes())?;
        }
    }
    if debug {
        outputs.debug = Some(Box::new(io::stderr()));
    }

    // Sockets and the TUN device.
    let ike = UdpSocket::from_std(os::ike_socket(ike_addr, intercept)?);
    let nat_t = match nat_t_addr {
        Some(a) => Some((UdpSocket::from_std(os::ike_socket(a, false)?), a)),
        None => None,
    };
    let esp = os::esp_socket(esp_addr)?;
    let device = os::device_with_address(*ike_addr.ip());
    let outside_raw = os::raw_socket(device.as_deref())?;
    let (intercept_socket, forward) = if intercept {
        (
            Some(os::intercept_socket(ike_addr.port())?),
            Some(os::raw_socket(None)?),
        )
    } else {
        (None, None)
    };
    let tun_device = os::open_tun(&tun, tun_create, &tun_routes)?;

    let mut poll = Poll::new()?;
    let (term_rx, term_tx) = StdUnixStream::pair()?;
    let (usr1_rx, usr1_tx) = StdUnixStream::pair()?;
    term_rx.set_nonblocking(true)?;
    usr1_rx.set_nonblocking(true)?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGTERM, term_tx.try_clone()?)?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGINT, term_tx)?;
    signal_hook::low_level::pipe::register(signal_hook::consts::SIGUSR1, usr1_tx)?;

    let control_listener = match &control {
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
        tun: tun_device,
        outside: outside_raw,
        forward,
        intercept: intercept_socket,
        control: control_listener,
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
    for w in &warnings {
        core.warning(w);
    }
    if route_clients {
        core.route_assigned_addresses(&tun, Box::new(IpCommand));
    }
    let is_client = client.is_some();
    if let Some((session, _)) = client {
        core.attach_client(session);
    }
    let mut ready = vec![
        ("ike", Value::from(ike_addr.to_string())),
        ("esp", Value::from(esp_addr.to_string())),
        (
            "nat_t",
            nat_t_addr.map_or(Value::Null, |a| Value::from(a.to_string())),
        ),
        ("tun", Value::from(tun)),
        ("outside", Value::from(outside)),
        ("outside_device", device.map_or(Value::Null, Value::from)),
        ("intercept", Value::from(intercept)),
        ("pid", Value::from(std::process::id())),
    ];
    if let Some(p) = &control {
        ready.push(("control", Value::from(p.display().to_string())));
    }
    ready.extend(mode_ready);
    core.ready(ready);
    io.flush(&mut core);
    let mut result = Ok(());
    if is_client && let Err(e) = core.connect(Instant::now()) {
        result = Err(RunError::Client(ClientEnd::Failed(format!(
            "cannot start phase 1: {e:?}"
        ))));
    }
    io.flush(&mut core);

    if result.is_ok() {
        result = event_loop(&mut poll, &mut io, &mut core);
    }
    // Whatever ended the loop, tell the peers (and take the client's
    // address and routes down).
    core.shutdown(Instant::now());
    io.flush(&mut core);
    if let Some((_, path)) = &io.control {
        let _ = std::fs::remove_file(path);
    }
    core.flush_files();
    match (result, core.client_end()) {
        (Ok(()), Some(end)) => Err(RunError::Client(end.clone())),
        (result, _) => result,
    }
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
        if stop || core.client_end().is_some() {
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

/// The wall clock in Unix seconds (0 if it is before 1970), which
/// certificates' validity is checked against.
fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
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
