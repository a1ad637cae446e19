//! The command line.
//!
//! ```text
//! ikev1-peer --config FILE [--outside IFACE] [--ike ADDR[:PORT]] [--esp ADDR]
//!            --tun NAME [--tun-create] [--intercept] [--aggressive]
//!            [--out DIR] [--control PATH] [--no-debug]
//!            [--nat-t enable|disable|force] [--nat-t-port PORT]
//! ikev1-peer ctl --control PATH -- COMMAND...
//! ```
//!
//! The flags the interop harness passes (`--config`, `--ike`, `--esp`,
//! `--tun`, `--out`, `--control`, `--aggressive`) mean exactly what
//! `tests/interop/README.md` says; the others are this binary's own and
//! documented in `peer/README.md`.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;

/// The IKE port (RFC 2408 s.2.5.2's well-known port 500).
pub const IKE_PORT: u16 = 500;

/// The usage text.
pub const USAGE: &str = "\
usage: ikev1-peer --config FILE [--outside IFACE] [--ike ADDR[:PORT]] [--esp ADDR]
                  --tun NAME [--tun-create] [--intercept] [--aggressive]
                  [--out DIR] [--control PATH] [--no-debug]
                  [--nat-t enable|disable|force] [--nat-t-port PORT]
       ikev1-peer ctl --control PATH -- COMMAND...

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
  --out DIR          write events.jsonl, ikev1_decryption_table, esp_sa and
                     ikev1-peer.pcap there (DIR is created, owner only, if
                     missing; its parent must exist)
  --control PATH     listen for control commands on this Unix socket
  --no-debug         no IOS-style debug lines on stderr
  --nat-t MODE       NAT traversal (RFC 3947/3948): enable (default: negotiated,
                     used when a NAT is detected), disable, or force (UDP
                     encapsulation even without a NAT)
  --nat-t-port PORT  the NAT-T UDP port, bound next to the IKE socket (default 4500)
";

/// The NAT-T port (RFC 3948 s.2).
pub const NAT_T_PORT: u16 = 4500;

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// The gateway.
    Run(RunArgs),
    /// The control client: send one command line and print the answer.
    Ctl {
        /// The control socket.
        control: PathBuf,
        /// The command's words.
        command: Vec<String>,
    },
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
    if it.peek().map(String::as_str) == Some("ctl") {
        it.next();
        return parse_ctl(it);
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
            "--out" => run.out = Some(PathBuf::from(value("--out")?)),
            "--control" => run.control = Some(PathBuf::from(value("--control")?)),
            "--no-debug" => run.debug = false,
            "--nat-t" => {
                let v = value("--nat-t")?;
                run.nat_t = match v.as_str() {
                    "enable" => ike_sm::NatTMode::Enabled,
                    "disable" => ike_sm::NatTMode::Disabled,
                    "force" => ike_sm::NatTMode::Forced,
                    _ => {
                        return Err(CliError::BadValue {
                            flag: "--nat-t",
                            value: v,
                            expected: "enable, disable or force",
                        });
                    }
                };
            }
            "--nat-t-port" => {
                let v = value("--nat-t-port")?;
                run.nat_t_port = Some(v.parse().ok().filter(|p| *p != 0).ok_or(
                    CliError::BadValue {
                        flag: "--nat-t-port",
                        value: v,
                        expected: "a UDP port (1-65535)",
                    },
                )?);
            }
            _ => return Err(CliError::Unknown(arg)),
        }
    }
    run.config = config.ok_or(CliError::Required("--config"))?;
    run.tun = tun.ok_or(CliError::Required("--tun"))?;
    Ok(Command::Run(run))
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
