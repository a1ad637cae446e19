//! The command line.
//!
//! ```text
//! ikev1-peer --config FILE [--outside IFACE] [--ike ADDR[:PORT]] [--esp ADDR]
//!            --tun NAME [--tun-create] [--intercept] [--aggressive]
//!            [--users FILE] [--out DIR] [--control PATH] [--no-debug]
//!            [--nat-t enable|disable|force] [--nat-t-port PORT]
//!            [--cert FILE --private-key FILE] [--ca FILE]... [--crl FILE]...
//!            [--fragment-size BYTES]
//! ikev1-peer client --gateway ADDR --group NAME --group-key-file FILE --user NAME
//!            [--password-file FILE | --password-env VAR] [--main-mode]
//!            [--ike SUITE]... [--esp SUITE]... [--local ADDR] --tun NAME [--tun-create]
//!            [--nat-t enable|disable|force] [--nat-t-port PORT]
//!            [--out DIR] [--control PATH] [--no-debug] [--no-routes]
//! ikev1-peer hash-password
//! ikev1-peer ctl --control PATH -- COMMAND...
//! ikev1-peer --check-config FILE
//! ```
//!
//! The flags the interop harness passes (`--config`, `--ike`, `--esp`,
//! `--tun`, `--out`, `--control`, `--aggressive`) mean exactly what
//! `tests/interop/README.md` says; the others are this binary's own and
//! documented in `peer/README.md`.
//!
//! No secret is ever taken from the command line, which every local user
//! can read (`/proc/PID/cmdline`, `ps`): a flag that looks like one
//! (`--password`, `--group-key`, `--secret`, `--psk`, with or without
//! `=VALUE`) is refused without repeating its value, and the client reads
//! its group key and password from files, the environment or the terminal
//! ([`crate::secret`]).

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

use crate::client::{EspSuite, IkeSuite};

/// The IKE port (RFC 2408 s.2.5.2's well-known port 500).
pub const IKE_PORT: u16 = 500;

/// The usage text.
pub const USAGE: &str = "\
usage: ikev1-peer --config FILE [--outside IFACE] [--ike ADDR[:PORT]] [--esp ADDR]
                  --tun NAME [--tun-create] [--intercept] [--aggressive]
                  [--users FILE] [--out DIR] [--control PATH] [--no-debug]
                  [--nat-t enable|disable|force] [--nat-t-port PORT]
                  [--cert FILE --private-key FILE] [--ca FILE]... [--crl FILE]...
                  [--fragment-size BYTES]
       ikev1-peer client --gateway ADDR --group NAME --group-key-file FILE --user NAME
                  [--password-file FILE | --password-env VAR] [--main-mode]
                  [--ike SUITE]... [--esp SUITE]... [--local ADDR] --tun NAME [--tun-create]
                  [--nat-t enable|disable|force] [--nat-t-port PORT]
                  [--out DIR] [--control PATH] [--no-debug] [--no-routes]
       ikev1-peer hash-password
       ikev1-peer ctl --control PATH -- COMMAND...
       ikev1-peer --check-config FILE

The gateway (IOS configuration; an Easy VPN server when it configures
remote-access groups):
  --config FILE      IOS-style configuration (the subset ted::config::ios imports)
  --outside IFACE    the configuration's interface with the crypto map
                     (default: the only one that has a crypto map)
  --ike ADDR[:PORT]  bind the IKE UDP socket here (default: the outside
                     interface's address, port 500)
  --esp ADDR         bind the raw IP protocol-50 socket here (default: the IKE address)
  --tun NAME         the TUN device of the protected side (opened if it exists)
  --tun-create       create the TUN device if it does not exist, bring it up and
                     route the crypto ACLs' remote proxies into it
  --intercept        TED responder on the path: also take UDP datagrams to the
                     IKE port addressed to other hosts (see peer/README.md)
  --aggressive       initiate phase 1 in Aggressive Mode
  --users FILE       remote-access (XAUTH) users, one NAME:ARGON2ID-PHC-STRING a
                     line (make the strings with hash-password); the file
                     should be mode 0600
  --out DIR          write events.jsonl, ikev1_decryption_table, esp_sa and
                     ikev1-peer.pcap there (DIR is created, owner only, if
                     missing; its parent must exist)
  --control PATH     listen for control commands on this Unix socket
  --no-debug         no IOS-style debug lines on stderr
  --nat-t MODE       NAT traversal (RFC 3947/3948): enable (default: negotiated,
                     used when a NAT is detected), disable, or force (UDP
                     encapsulation even without a NAT)
  --nat-t-port PORT  the NAT-T UDP port, bound next to the IKE socket (default 4500)
  --cert FILE        our certificate (PEM; further certificates in the file are
                     the chain sent after it), for `authentication rsa-sig` or
                     `ecdsa-sig` policies
  --private-key FILE its private key (PEM or DER: PKCS#1, PKCS#8 or SEC1); the
                     file should be mode 0600
  --ca FILE          trust anchors for peers' certificates (PEM, any number of
                     certificates; repeatable)
  --crl FILE         a certificate revocation list (PEM or DER; repeatable)
  --fragment-size N  the largest IKE packet (IP header included) sent whole to a
                     peer that takes IKE fragments (default 1280); IKE
                     fragmentation is on with this flag or --cert

client: a remote-access (XAUTH + Mode-Config) client of a Cisco-style concentrator:
  --gateway ADDR        the concentrator's IPv4 address
  --group NAME          the group name (sent as a KEY_ID identity)
  --group-key-file FILE the group's pre-shared key: the file's first line
  --user NAME           the XAUTH user name
  --password-file FILE  the XAUTH password: the file's first line
  --password-env VAR    the XAUTH password: environment variable VAR
                        (neither: asked on the terminal, without echo)
  --main-mode           phase 1 in Main Mode (default: Aggressive Mode)
  --ike SUITE           an IKE proposal, ENCR-HASH-GROUP: aes256|aes192|aes128|3des|des,
                        sha1|md5|sha256|sha384|sha512, modp768|modp1024|modp1536|
                        modp2048|modp3072|modp4096 (repeatable, or comma-separated;
                        default aes256-sha1-modp1024,aes128-sha1-modp1024)
  --esp SUITE           an ESP proposal, ENCR-INTEG (default aes256-sha1)
  --local ADDR          our outside address (default: the source address the
                        kernel uses towards the gateway)
  --tun NAME            the TUN device that gets the assigned address
  --tun-create          create the TUN device if it does not exist
  --no-routes           leave routing alone (the address is still assigned)
  --nat-t, --nat-t-port, --out, --control, --no-debug: as for the gateway
Passwords and keys are never taken on the command line.

hash-password: read a password (one line) from stdin, print its argon2id PHC
string for a --users file.

--check-config FILE: import an IOS configuration without running it; print
what was understood (policies, keys, transform sets, crypto map entries,
trustpoints), each line skipped and each warning, each line refused, all
with their line numbers; exit 0 (clean), 1 (warnings) or 2 (refused).
";

/// The NAT-T port (RFC 3948 s.2).
pub const NAT_T_PORT: u16 = 4500;

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// The gateway.
    Run(RunArgs),
    /// A remote-access client.
    Client(ClientArgs),
    /// Hash a password read from stdin for a user file.
    HashPassword,
    /// The control client: send one command line and print the answer.
    Ctl {
        /// The control socket.
        control: PathBuf,
        /// The command's words.
        command: Vec<String>,
    },
    /// `--check-config FILE`: import the configuration and report on it.
    CheckConfig(PathBuf),
    /// `--help`.
    Help,
}

/// The gateway's arguments.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct RunArgs {
    /// `--config`.
    pub config: PathBuf,
    /// `--outside`.
    pub outside: Option<String>,
    /// `--ike`.
    pub ike: Option<SocketAddrV4>,
    /// `--esp`.
    pub esp: Option<Ipv4Addr>,
    /// `--tun`.
    pub tun: String,
    /// `--tun-create`.
    pub tun_create: bool,
    /// `--intercept`.
    pub intercept: bool,
    /// `--aggressive`.
    pub aggressive: bool,
    /// `--users`: the remote-access user file.
    pub users: Option<PathBuf>,
    /// `--out`.
    pub out: Option<PathBuf>,
    /// `--control`.
    pub control: Option<PathBuf>,
    /// Not `--no-debug`.
    pub debug: bool,
    /// `--nat-t`.
    pub nat_t: ike_sm::NatTMode,
    /// `--nat-t-port`.
    pub nat_t_port: Option<u16>,
    /// `--cert`: our certificate (PEM), then the chain sent after it.
    pub cert: Option<PathBuf>,
    /// `--private-key`: the certificate's key (PEM or DER; PKCS#1,
    /// PKCS#8, SEC1).
    pub private_key: Option<PathBuf>,
    /// `--ca`, each a PEM bundle of trust anchors.
    pub ca: Vec<PathBuf>,
    /// `--crl`, each a CRL (PEM or DER).
    pub crl: Vec<PathBuf>,
    /// `--fragment-size`: the largest IKE packet before fragmentation.
    pub fragment_size: Option<usize>,
}

/// Where the client's XAUTH password comes from.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum PasswordSource {
    /// The first line of a file (`--password-file`).
    File(PathBuf),
    /// An environment variable (`--password-env`).
    Env(String),
    /// Asked on the controlling terminal, without echo (neither flag).
    #[default]
    Prompt,
}

/// The remote-access client's arguments (`ikev1-peer client`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientArgs {
    /// `--gateway`: the concentrator.
    pub gateway: Ipv4Addr,
    /// `--group`.
    pub group: String,
    /// `--group-key-file`.
    pub group_key_file: PathBuf,
    /// `--user`.
    pub user: String,
    /// `--password-file` / `--password-env` / the prompt.
    pub password: PasswordSource,
    /// `--main-mode` (otherwise Aggressive Mode).
    pub main_mode: bool,
    /// `--ike`, in order; empty: [`IkeSuite::defaults`].
    pub ike: Vec<IkeSuite>,
    /// `--esp`, in order; empty: [`EspSuite::defaults`].
    pub esp: Vec<EspSuite>,
    /// `--local`.
    pub local: Option<Ipv4Addr>,
    /// `--tun`.
    pub tun: String,
    /// `--tun-create`.
    pub tun_create: bool,
    /// `--nat-t`.
    pub nat_t: ike_sm::NatTMode,
    /// `--nat-t-port`.
    pub nat_t_port: Option<u16>,
    /// `--out`.
    pub out: Option<PathBuf>,
    /// `--control`.
    pub control: Option<PathBuf>,
    /// Not `--no-debug`.
    pub debug: bool,
    /// Not `--no-routes`.
    pub routes: bool,
}

impl ClientArgs {
    /// The IKE proposals: the ones given, or the defaults.
    pub fn ike_suites(&self) -> Vec<IkeSuite> {
        if self.ike.is_empty() {
            IkeSuite::defaults()
        } else {
            self.ike.clone()
        }
    }

    /// The ESP proposals: the ones given, or the defaults.
    pub fn esp_suites(&self) -> Vec<EspSuite> {
        if self.esp.is_empty() {
            EspSuite::defaults()
        } else {
            self.esp.clone()
        }
    }
}

/// A command line that cannot be run.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// A flag nobody knows.
    #[error("unknown argument {0:?}")]
    Unknown(String),
    /// A flag without its value.
    #[error("{0} needs a value")]
    MissingValue(&'static str),
    /// A value that does not parse.
    #[error("{flag}: {value:?} is not {expected}")]
    BadValue {
        /// The flag.
        flag: &'static str,
        /// What was given.
        value: String,
        /// What it should be.
        expected: &'static str,
    },
    /// A required flag is missing.
    #[error("{0} is required")]
    Required(&'static str),
    /// `ctl` without a command.
    #[error("ctl: no command after --")]
    NoCommand,
    /// A secret on the command line (its value is not repeated).
    #[error(
        "{0}: passwords and keys are never taken on the command line (any local user can \
         read it); use --password-file FILE, --password-env VAR or the prompt, and \
         --group-key-file FILE"
    )]
    SecretInArgv(String),
    /// A word that is no flag after a subcommand (`client`,
    /// `hash-password`), by its position counted from the subcommand (1):
    /// its text is not shown, since it may be a password typed in the
    /// wrong place.
    #[error(
        "argument {0} after the subcommand is not a flag (its text is not shown: it may be a secret)"
    )]
    Stray(usize),
    /// Two flags that exclude each other.
    #[error("{0} and {1} exclude each other")]
    Conflict(&'static str, &'static str),
}

/// Whether `arg` looks like a flag carrying a secret (`--password`,
/// `--password=x`, `--group-key`, `--secret`, `--psk`, ...) and is none of
/// the flags that name where a secret is (`--password-file`,
/// `--password-env`, `--group-key-file`). Returns the flag without any
/// `=VALUE`.
pub fn secret_flag(arg: &str) -> Option<String> {
    let flag = arg.split('=').next().unwrap_or(arg);
    if matches!(
        flag,
        "--password-file" | "--password-env" | "--group-key-file"
    ) {
        return None;
    }
    let lower = flag.to_ascii_lowercase();
    let secret = [
        "--password",
        "--passwd",
        "--pass",
        "--group-key",
        "--secret",
        "--psk",
        "--key",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
        || lower == "-p";
    secret.then(|| flag.to_owned())
}

/// `ADDR` or `ADDR:PORT` (port 500 when left out).
pub fn parse_ike(value: &str) -> Option<SocketAddrV4> {
    value.parse::<SocketAddrV4>().ok().or_else(|| {
        value
            .parse::<Ipv4Addr>()
            .ok()
            .map(|a| SocketAddrV4::new(a, IKE_PORT))
    })
}

/// Parses the arguments after the program name.
///
/// # Errors
/// [`CliError`] naming the argument at fault.
pub fn parse<I, S>(args: I) -> Result<Command, CliError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let args: Vec<String> = args.into_iter().map(Into::into).collect();
    let mut it = args.into_iter().peekable();
    match it.peek().map(String::as_str) {
        Some("ctl") => {
            it.next();
            return parse_ctl(it);
        }
        Some("client") => {
            it.next();
            return parse_client(it);
        }
        Some("--check-config") => {
            it.next();
            let file = it.next().ok_or(CliError::MissingValue("--check-config"))?;
            return match it.next() {
                None => Ok(Command::CheckConfig(PathBuf::from(file))),
                Some(a) if a == "-h" || a == "--help" => Ok(Command::Help),
                Some(a) => {
                    Err(secret_flag(&a).map_or(CliError::Unknown(a), CliError::SecretInArgv))
                }
            };
        }
        Some("hash-password") => {
            it.next();
            return match it.next() {
                None => Ok(Command::HashPassword),
                Some(a) if a == "-h" || a == "--help" => Ok(Command::Help),
                Some(a) => Err(match secret_flag(&a) {
                    Some(flag) => CliError::SecretInArgv(flag),
                    None if a.starts_with('-') => CliError::Unknown(a),
                    None => CliError::Stray(2),
                }),
            };
        }
        _ => {}
    }
    let mut run = RunArgs {
        debug: true,
        ..RunArgs::default()
    };
    let mut config = None;
    let mut tun = None;
    while let Some(arg) = it.next() {
        let mut value = |flag: &'static str| it.next().ok_or(CliError::MissingValue(flag));
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--config" => config = Some(PathBuf::from(value("--config")?)),
            "--outside" => run.outside = Some(value("--outside")?),
            "--ike" => {
                let v = value("--ike")?;
                run.ike = Some(parse_ike(&v).ok_or(CliError::BadValue {
                    flag: "--ike",
                    value: v,
                    expected: "an IPv4 address with an optional :port",
                })?);
            }
            "--esp" => {
                let v = value("--esp")?;
                run.esp = Some(v.parse().map_err(|_| CliError::BadValue {
                    flag: "--esp",
                    value: v,
                    expected: "an IPv4 address",
                })?);
            }
            "--tun" => tun = Some(value("--tun")?),
            "--tun-create" => run.tun_create = true,
            "--intercept" => run.intercept = true,
            "--aggressive" => run.aggressive = true,
            "--users" => run.users = Some(PathBuf::from(value("--users")?)),
            "--out" => run.out = Some(PathBuf::from(value("--out")?)),
            "--control" => run.control = Some(PathBuf::from(value("--control")?)),
            "--no-debug" => run.debug = false,
            "--nat-t" => run.nat_t = parse_nat_t(value("--nat-t")?)?,
            "--nat-t-port" => run.nat_t_port = Some(parse_nat_t_port(value("--nat-t-port")?)?),
            "--cert" => run.cert = Some(PathBuf::from(value("--cert")?)),
            "--private-key" => run.private_key = Some(PathBuf::from(value("--private-key")?)),
            "--ca" => run.ca.push(PathBuf::from(value("--ca")?)),
            "--crl" => run.crl.push(PathBuf::from(value("--crl")?)),
            "--fragment-size" => {
                let v = value("--fragment-size")?;
                run.fragment_size = Some(
                    v.parse()
                        .ok()
                        .filter(|n| (100..=65_535).contains(n))
                        .ok_or(CliError::BadValue {
                            flag: "--fragment-size",
                            value: v,
                            expected: "a packet size in bytes (100-65535)",
                        })?,
                );
            }
            _ => {
                return Err(
                    secret_flag(&arg).map_or(CliError::Unknown(arg), CliError::SecretInArgv)
                );
            }
        }
    }
    if run.cert.is_some() != run.private_key.is_some() {
        return Err(CliError::Required(if run.cert.is_some() {
            "--private-key (with --cert)"
        } else {
            "--cert (with --private-key)"
        }));
    }
    run.config = config.ok_or(CliError::Required("--config"))?;
    run.tun = tun.ok_or(CliError::Required("--tun"))?;
    Ok(Command::Run(run))
}

fn parse_nat_t(v: String) -> Result<ike_sm::NatTMode, CliError> {
    match v.as_str() {
        "enable" => Ok(ike_sm::NatTMode::Enabled),
        "disable" => Ok(ike_sm::NatTMode::Disabled),
        "force" => Ok(ike_sm::NatTMode::Forced),
        _ => Err(CliError::BadValue {
            flag: "--nat-t",
            value: v,
            expected: "enable, disable or force",
        }),
    }
}

fn parse_nat_t_port(v: String) -> Result<u16, CliError> {
    v.parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or(CliError::BadValue {
            flag: "--nat-t-port",
            value: v,
            expected: "a UDP port (1-65535)",
        })
}

fn parse_ipv4(flag: &'static str, v: String) -> Result<Ipv4Addr, CliError> {
    v.parse().map_err(|_| CliError::BadValue {
        flag,
        value: v,
        expected: "an IPv4 address",
    })
}

/// A name for the group or the user: 1 to 64 bytes, printable, no blanks.
fn parse_name(flag: &'static str, v: String) -> Result<String, CliError> {
    if (1..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_graphic()) {
        Ok(v)
    } else {
        Err(CliError::BadValue {
            flag,
            value: v,
            expected: "1 to 64 printable ASCII characters without blanks",
        })
    }
}

fn parse_client(it: impl Iterator<Item = String>) -> Result<Command, CliError> {
    let mut gateway = None;
    let mut group = None;
    let mut group_key_file = None;
    let mut user = None;
    let mut password_file = None;
    let mut password_env = None;
    let mut tun = None;
    let mut c = ClientArgs {
        gateway: Ipv4Addr::UNSPECIFIED,
        group: String::new(),
        group_key_file: PathBuf::new(),
        user: String::new(),
        password: PasswordSource::Prompt,
        main_mode: false,
        ike: Vec::new(),
        esp: Vec::new(),
        local: None,
        tun: String::new(),
        tun_create: false,
        nat_t: ike_sm::NatTMode::default(),
        nat_t_port: None,
        out: None,
        control: None,
        debug: true,
        routes: true,
    };
    let mut it = it.enumerate();
    while let Some((i, arg)) = it.next() {
        let mut value = |flag: &'static str| {
            it.next()
                .map(|(_, v)| v)
                .ok_or(CliError::MissingValue(flag))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--gateway" => gateway = Some(parse_ipv4("--gateway", value("--gateway")?)?),
            "--group" => group = Some(parse_name("--group", value("--group")?)?),
            "--group-key-file" => {
                group_key_file = Some(PathBuf::from(value("--group-key-file")?));
            }
            "--user" => user = Some(parse_name("--user", value("--user")?)?),
            "--password-file" => password_file = Some(PathBuf::from(value("--password-file")?)),
            "--password-env" => {
                let v = value("--password-env")?;
                if v.is_empty() || v.contains('=') || v.contains('\0') {
                    return Err(CliError::BadValue {
                        flag: "--password-env",
                        value: v,
                        expected: "an environment variable's name",
                    });
                }
                password_env = Some(v);
            }
            "--main-mode" => c.main_mode = true,
            "--ike" => {
                let v = value("--ike")?;
                for word in v.split(',') {
                    c.ike.push(word.parse().map_err(|_| CliError::BadValue {
                        flag: "--ike",
                        value: word.to_owned(),
                        expected: "an IKE suite such as aes256-sha1-modp1024",
                    })?);
                }
            }
            "--esp" => {
                let v = value("--esp")?;
                for word in v.split(',') {
                    c.esp.push(word.parse().map_err(|_| CliError::BadValue {
                        flag: "--esp",
                        value: word.to_owned(),
                        expected: "an ESP suite such as aes256-sha1",
                    })?);
                }
            }
            "--local" => c.local = Some(parse_ipv4("--local", value("--local")?)?),
            "--tun" => tun = Some(value("--tun")?),
            "--tun-create" => c.tun_create = true,
            "--nat-t" => c.nat_t = parse_nat_t(value("--nat-t")?)?,
            "--nat-t-port" => c.nat_t_port = Some(parse_nat_t_port(value("--nat-t-port")?)?),
            "--out" => c.out = Some(PathBuf::from(value("--out")?)),
            "--control" => c.control = Some(PathBuf::from(value("--control")?)),
            "--no-debug" => c.debug = false,
            "--no-routes" => c.routes = false,
            _ => {
                if let Some(flag) = secret_flag(&arg) {
                    return Err(CliError::SecretInArgv(flag));
                }
                if arg.starts_with('-') {
                    return Err(CliError::Unknown(arg));
                }
                // Counted from the subcommand's own word (1).
                return Err(CliError::Stray(i.saturating_add(2)));
            }
        }
    }
    c.gateway = gateway.ok_or(CliError::Required("--gateway"))?;
    c.group = group.ok_or(CliError::Required("--group"))?;
    c.group_key_file = group_key_file.ok_or(CliError::Required("--group-key-file"))?;
    c.user = user.ok_or(CliError::Required("--user"))?;
    c.tun = tun.ok_or(CliError::Required("--tun"))?;
    c.password = match (password_file, password_env) {
        (Some(_), Some(_)) => return Err(CliError::Conflict("--password-file", "--password-env")),
        (Some(f), None) => PasswordSource::File(f),
        (None, Some(v)) => PasswordSource::Env(v),
        (None, None) => PasswordSource::Prompt,
    };
    Ok(Command::Client(c))
}

fn parse_ctl(mut it: impl Iterator<Item = String>) -> Result<Command, CliError> {
    let mut control = None;
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--control" => {
                control = Some(PathBuf::from(
                    it.next().ok_or(CliError::MissingValue("--control"))?,
                ));
            }
            "--" => break,
            _ => return Err(CliError::Unknown(arg)),
        }
    }
    let command: Vec<String> = it.collect();
    if command.is_empty() {
        return Err(CliError::NoCommand);
    }
    Ok(Command::Ctl {
        control: control.ok_or(CliError::Required("--control"))?,
        command,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_harness_command_line() {
        let c = parse([
            "--config",
            "us/ikev1-peer.cfg",
            "--ike",
            "192.0.2.1:500",
            "--esp",
            "192.0.2.1",
            "--tun",
            "ikp0",
            "--out",
            "us",
            "--control",
            "/tmp/x/us.ctl",
            "--aggressive",
        ])
        .unwrap();
        let Command::Run(r) = c else {
            panic!("not a run: {c:?}")
        };
        assert_eq!(r.config, PathBuf::from("us/ikev1-peer.cfg"));
        assert_eq!(r.ike, Some("192.0.2.1:500".parse().unwrap()));
        assert_eq!(r.esp, Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(r.tun, "ikp0");
        assert_eq!(r.out, Some(PathBuf::from("us")));
        assert_eq!(r.control, Some(PathBuf::from("/tmp/x/us.ctl")));
        assert!(r.aggressive && r.debug && !r.intercept && !r.tun_create);
    }

    #[test]
    fn ike_port_defaults_to_500() {
        assert_eq!(
            parse_ike("11.11.11.1"),
            Some("11.11.11.1:500".parse().unwrap())
        );
        assert_eq!(
            parse_ike("11.11.11.1:4500"),
            Some("11.11.11.1:4500".parse().unwrap())
        );
        assert_eq!(parse_ike("eleven"), None);
    }

    #[test]
    fn the_ctl_client() {
        let c = parse([
            "ctl",
            "--control",
            "/run/p.ctl",
            "--",
            "show",
            "crypto",
            "isakmp",
            "sa",
        ])
        .unwrap();
        assert_eq!(
            c,
            Command::Ctl {
                control: PathBuf::from("/run/p.ctl"),
                command: vec!["show".into(), "crypto".into(), "isakmp".into(), "sa".into()],
            }
        );
        assert_eq!(
            parse(["ctl", "--control", "/p", "--"]),
            Err(CliError::NoCommand)
        );
        assert_eq!(
            parse(["ctl", "--", "show"]),
            Err(CliError::Required("--control"))
        );
    }

    #[test]
    fn nat_t_flags() {
        let base = ["--config", "c", "--tun", "t"];
        let Command::Run(r) = parse(base).unwrap() else {
            panic!("not a run")
        };
        assert_eq!((r.nat_t, r.nat_t_port), (ike_sm::NatTMode::Enabled, None));
        for (word, mode) in [
            ("enable", ike_sm::NatTMode::Enabled),
            ("disable", ike_sm::NatTMode::Disabled),
            ("force", ike_sm::NatTMode::Forced),
        ] {
            let args = base
                .into_iter()
                .chain(["--nat-t", word, "--nat-t-port", "14500"]);
            let Command::Run(r) = parse(args).unwrap() else {
                panic!("not a run")
            };
            assert_eq!((r.nat_t, r.nat_t_port), (mode, Some(14500)));
        }
        assert!(matches!(
            parse(base.into_iter().chain(["--nat-t", "on"])),
            Err(CliError::BadValue {
                flag: "--nat-t",
                ..
            })
        ));
        for bad in ["0", "70000", "x"] {
            assert!(matches!(
                parse(base.into_iter().chain(["--nat-t-port", bad])),
                Err(CliError::BadValue {
                    flag: "--nat-t-port",
                    ..
                })
            ));
        }
    }

    const HARNESS_CLIENT: [&str; 24] = [
        "client",
        "--gateway",
        "192.0.2.1",
        "--group",
        "ragroup",
        "--group-key-file",
        "/tmp/ra/group.key",
        "--user",
        "alice",
        "--password-file",
        "/tmp/ra/password",
        "--ike",
        "aes256-sha1-modp1024",
        "--esp",
        "aes256-sha1",
        "--tun",
        "rai0",
        "--nat-t",
        "force",
        "--out",
        "client",
        "--control",
        "/tmp/ra/cli.ctl",
        "--main-mode",
    ];

    fn client(args: &[&str]) -> ClientArgs {
        match parse(args.iter().copied()) {
            Ok(Command::Client(c)) => c,
            other => panic!("not a client: {other:?}"),
        }
    }

    #[test]
    fn the_harness_client_command_line() {
        let c = client(&HARNESS_CLIENT);
        assert_eq!(c.gateway, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!((c.group.as_str(), c.user.as_str()), ("ragroup", "alice"));
        assert_eq!(c.group_key_file, PathBuf::from("/tmp/ra/group.key"));
        assert_eq!(
            c.password,
            PasswordSource::File(PathBuf::from("/tmp/ra/password"))
        );
        assert!(c.main_mode && c.debug && c.routes && !c.tun_create);
        assert_eq!(c.nat_t, ike_sm::NatTMode::Forced);
        assert_eq!(c.tun, "rai0");
        assert_eq!(c.out, Some(PathBuf::from("client")));
        assert_eq!(c.control, Some(PathBuf::from("/tmp/ra/cli.ctl")));
        let names = |v: Vec<String>| v.join(",");
        assert_eq!(
            names(c.ike_suites().iter().map(ToString::to_string).collect()),
            "aes256-sha1-modp1024"
        );
        assert_eq!(
            names(c.esp_suites().iter().map(ToString::to_string).collect()),
            "aes256-sha1"
        );
    }

    #[test]
    fn client_suites_repeat_or_list_and_default() {
        let base = &HARNESS_CLIENT[..11];
        let mut args = base.to_vec();
        args.extend([
            "--tun",
            "t",
            "--ike",
            "aes128-sha256-modp2048,3des-md5-modp1024",
            "--ike",
            "aes256-sha1-modp1536",
            "--esp",
            "3des-md5",
            "--esp",
            "aes128-sha1",
        ]);
        let c = client(&args);
        let ike: Vec<String> = c.ike.iter().map(ToString::to_string).collect();
        assert_eq!(
            ike,
            [
                "aes128-sha256-modp2048",
                "3des-md5-modp1024",
                "aes256-sha1-modp1536"
            ]
        );
        let esp: Vec<String> = c.esp.iter().map(ToString::to_string).collect();
        assert_eq!(esp, ["3des-md5", "aes128-sha1"]);
        // None given: the concentrators' usual suites.
        let mut args = base.to_vec();
        args.extend(["--tun", "t"]);
        let c = client(&args);
        assert!(c.ike.is_empty() && c.esp.is_empty());
        let ike: Vec<String> = c.ike_suites().iter().map(ToString::to_string).collect();
        assert_eq!(ike, ["aes256-sha1-modp1024", "aes128-sha1-modp1024"]);
        assert_eq!(c.password, PasswordSource::File("/tmp/ra/password".into()));
        // A bad suite names itself.
        let mut args = base.to_vec();
        args.extend([
            "--tun",
            "t",
            "--ike",
            "aes256-sha1-modp1024,aes999-sha1-modp1024",
        ]);
        assert_eq!(
            parse(args),
            Err(CliError::BadValue {
                flag: "--ike",
                value: "aes999-sha1-modp1024".into(),
                expected: "an IKE suite such as aes256-sha1-modp1024",
            })
        );
    }

    #[test]
    fn client_password_sources() {
        let base = [
            "client",
            "--gateway",
            "192.0.2.1",
            "--group",
            "g",
            "--group-key-file",
            "k",
            "--user",
            "u",
            "--tun",
            "t",
        ];
        assert_eq!(client(&base).password, PasswordSource::Prompt);
        let mut args = base.to_vec();
        args.extend(["--password-env", "RA_PW"]);
        assert_eq!(client(&args).password, PasswordSource::Env("RA_PW".into()));
        args.extend(["--password-file", "f"]);
        assert_eq!(
            parse(args),
            Err(CliError::Conflict("--password-file", "--password-env"))
        );
        let mut args = base.to_vec();
        args.extend(["--password-env", "A=B"]);
        assert!(matches!(
            parse(args),
            Err(CliError::BadValue {
                flag: "--password-env",
                ..
            })
        ));
        for missing in [
            "--gateway",
            "--group",
            "--group-key-file",
            "--user",
            "--tun",
        ] {
            let i = base.iter().position(|a| *a == missing).unwrap();
            let mut args = base.to_vec();
            args.drain(i..i + 2);
            assert_eq!(parse(args), Err(CliError::Required(missing)));
        }
        let mut args = base.to_vec();
        args.extend([
            "--local",
            "192.0.2.2",
            "--no-routes",
            "--no-debug",
            "--tun-create",
        ]);
        let c = client(&args);
        assert_eq!(c.local, Some(Ipv4Addr::new(192, 0, 2, 2)));
        assert!(!c.routes && !c.debug && c.tun_create && !c.main_mode);
        let mut args = base.to_vec();
        args.extend(["--group", "two words"]);
        assert!(matches!(
            parse(args),
            Err(CliError::BadValue {
                flag: "--group",
                ..
            })
        ));
    }

    #[test]
    fn secrets_on_the_command_line_are_refused_without_repeating_them() {
        let base = [
            "client",
            "--gateway",
            "192.0.2.1",
            "--group",
            "g",
            "--group-key-file",
            "k",
            "--user",
            "u",
            "--tun",
            "t",
        ];
        for (extra, flag) in [
            (&["--password", "hunter2"][..], "--password"),
            (&["--password=hunter2"], "--password"),
            (&["--group-key", "hunter2"], "--group-key"),
            (&["--group-key=hunter2"], "--group-key"),
            (&["--secret=hunter2"], "--secret"),
            (&["--psk", "hunter2"], "--psk"),
            (&["--passwd=hunter2"], "--passwd"),
        ] {
            let mut args = base.to_vec();
            args.extend(extra);
            let e = parse(args).unwrap_err();
            assert_eq!(e, CliError::SecretInArgv(flag.into()));
            let text = e.to_string();
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("--password-file"), "{text}");
        }
        // A stray word (a password typed without its flag) is not shown.
        let mut args = base.to_vec();
        args.push("hunter2");
        let e = parse(args).unwrap_err();
        assert_eq!(e, CliError::Stray(12));
        assert!(!e.to_string().contains("hunter2"));
        // The gateway's command line refuses them too.
        let e = parse(["--config", "c", "--tun", "t", "--password=hunter2"]).unwrap_err();
        assert_eq!(e, CliError::SecretInArgv("--password".into()));
        assert!(!e.to_string().contains("hunter2"));
        // hash-password takes its password on stdin only.
        assert_eq!(parse(["hash-password"]), Ok(Command::HashPassword));
        assert_eq!(parse(["hash-password", "--help"]), Ok(Command::Help));
        assert_eq!(
            parse(["hash-password", "--password=hunter2"]),
            Err(CliError::SecretInArgv("--password".into()))
        );
        let e = parse(["hash-password", "hunter2"]).unwrap_err();
        assert_eq!(e, CliError::Stray(2));
        assert!(!e.to_string().contains("hunter2"));
    }

    #[test]
    fn the_server_takes_a_user_file_and_the_help_says_so() {
        let Command::Run(r) =
            parse(["--config", "c", "--tun", "t", "--users", "/etc/ra/users"]).unwrap()
        else {
            panic!("not a run")
        };
        assert_eq!(r.users, Some(PathBuf::from("/etc/ra/users")));
        for word in [
            "--users",
            "client",
            "--gateway",
            "hash-password",
            "--password-file",
        ] {
            assert!(USAGE.contains(word), "{word}");
        }
        assert_eq!(parse(["client", "--help"]), Ok(Command::Help));
    }

    #[test]
    fn mistakes_are_named() {
        assert_eq!(parse(["--tun", "t"]), Err(CliError::Required("--config")));
        assert_eq!(parse(["--config", "c"]), Err(CliError::Required("--tun")));
        assert_eq!(parse(["--config"]), Err(CliError::MissingValue("--config")));
        assert_eq!(parse(["--frob"]), Err(CliError::Unknown("--frob".into())));
        assert!(matches!(
            parse(["--config", "c", "--tun", "t", "--esp", "nope"]),
            Err(CliError::BadValue { flag: "--esp", .. })
        ));
    }
}
