//! `seed`: the seed scenario, replayed end to end (the project's main job).
//!
//! ```text
//! cargo run --release -p netsim --example seed -- [--pcap FILE] [--keys DIR] [--seed N]
//! ```
//!
//! Two gateways built from the seed's configurations (Daphne and fred,
//! `vectors/seed/*.cfg`) run on the simulated network of docs/seed.md, with the
//! seed's Quick Mode message ID and SPIs scripted and everything else from
//! seeded generators. Host 13.13.13.14 pings 12.12.12.13 ten times: the
//! first echo request triggers Tunnel Endpoint Discovery and is dropped,
//! fred (on the path) answers the probe, Daphne runs Main Mode and Quick
//! Mode to fred, and the other nine requests and their replies cross the
//! 11.11.11.0/24 link in ESP.
//!
//! Printed, like the seed document: Daphne's debug trace, fred's debug
//! trace (each with its router's clock in the seed), then Daphne's `show
//! crypto isakmp sa`, `show crypto ipsec sa`, `show crypto map` and `show
//! crypto engine connections active`, and a summary line.
//!
//! - `--pcap FILE`: every packet that crossed the 11.11.11.0/24 link (TED
//!   probe and response, Main Mode, Quick Mode, ESP), a classic pcap file
//!   with link type RAW (IPv4), for Wireshark or tshark.
//! - `--keys DIR`: Wireshark's key tables for that capture,
//!   `DIR/ikev1_decryption_table` and `DIR/esp_sa` (UAT files: copy them
//!   into a Wireshark profile directory, e.g. `~/.config/wireshark/`).
//!   They hold this run's keys: written mode 0600.
//! - `--seed N`: seed the generators with N (Daphne) and N + 1 (fred);
//!   the default, 1, is the seed replay test's run.
//!
//! Exit status: 0 when the replay reached its end (nine echo replies, nine
//! packets encapsulated and nine decapsulated by each router), 1 when it
//! did not or a file could not be written, 2 on a usage error.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use netsim::scenario::{self, SeedRouter, SeedRun};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use ted::gateway::ShowCommand;

const USAGE: &str = "\
usage: seed [--pcap FILE] [--keys DIR] [--seed N]

Replays the seed scenario (Cisco TED on IOS 12.2: Daphne and fred) on a
simulated network and prints both routers' debug traces and Daphne's show
views.

  --pcap FILE   write every packet that crossed 11.11.11.0/24 (pcap, raw IPv4)
  --keys DIR    write Wireshark's ikev1_decryption_table and esp_sa there
  --seed N      seed the generators with N and N+1 (default 1)
  -h, --help    this text

Exit status: 0 when nine echo replies came back through the tunnel, 1
otherwise or when a file could not be written, 2 on a usage error.";

struct Args {
    pcap: Option<PathBuf>,
    keys: Option<PathBuf>,
    seed: u64,
}

enum Parsed {
    Run(Args),
    Help,
    Error(String),
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Parsed {
    let mut a = Args {
        pcap: None,
        keys: None,
        seed: 1,
    };
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        let result = match arg.as_str() {
            "-h" | "--help" => return Parsed::Help,
            "--pcap" => value("--pcap").map(|v| a.pcap = Some(v.into())),
            "--keys" => value("--keys").map(|v| a.keys = Some(v.into())),
            "--seed" => value("--seed").and_then(|v| {
                v.parse()
                    .map(|n| a.seed = n)
                    .map_err(|e| format!("--seed {v}: {e}"))
            }),
            other => Err(format!("unknown argument {other}")),
        };
        if let Err(e) = result {
            return Parsed::Error(e);
        }
    }
    Parsed::Run(a)
}

fn write_files(run: &SeedRun, args: &Args) -> Result<(), String> {
    if let Some(path) = &args.pcap {
        let bytes = run.transit_pcap().map_err(|e| format!("pcap: {e}"))?;
        fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let packets = run.network().net.captured(run.network().transit).len();
        eprintln!("wrote {} ({packets} packets)", path.display());
    }
    if let Some(dir) = &args.keys {
        let written = run
            .write_key_tables(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?;
        for path in written {
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}

fn print_run(run: &SeedRun) {
    let mut out = String::new();
    for (router, what) in [
        (SeedRouter::Daphne, "TED initiator, 11.11.11.1"),
        (SeedRouter::Fred, "TED responder on the path, 11.11.11.2"),
    ] {
        let name = router.name();
        out.push_str(&format!(
            "!--- {name} ({what}): debug crypto isakmp, debug crypto ipsec\n{name}#\n"
        ));
        out.push_str(&run.debug_trace(router));
        out.push('\n');
    }
    for command in ShowCommand::ALL {
        out.push_str(&format!("Daphne#{}\n", command.as_str()));
        out.push_str(&run.show(SeedRouter::Daphne, command));
        // The views end with IOS's blank line; keep exactly one.
        while out.ends_with("\n\n") {
            out.pop();
        }
        out.push('\n');
    }
    // A closed pipe (`| head`) is not an error of the replay.
    let _ = io::stdout().lock().write_all(out.as_bytes());
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Parsed::Run(a) => a,
        Parsed::Help => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Parsed::Error(e) => {
            eprintln!("seed: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let run = match scenario::run_seed(
        ChaCha20Rng::seed_from_u64(args.seed),
        ChaCha20Rng::seed_from_u64(args.seed.wrapping_add(1)),
        Instant::now(),
    ) {
        Ok(run) => run,
        Err(e) => {
            eprintln!("seed: the network could not be built: {e}");
            return ExitCode::FAILURE;
        }
    };
    print_run(&run);
    let written = write_files(&run, &args);
    let verdict = run.check();
    let captured = run.network().net.captured(run.network().transit).len();
    println!(
        "!--- {} of {} echo requests answered through the tunnel (the first was dropped for TED); {captured} packets crossed 11.11.11.0/24; {:.1} s of virtual time",
        run.echo_replies(),
        scenario::PINGS,
        run.network().net.elapsed().as_secs_f64()
    );
    let mut ok = true;
    if let Err(e) = written {
        eprintln!("seed: {e}");
        ok = false;
    }
    if let Err(e) = verdict {
        eprintln!("seed: the replay did not reach its end: {e}");
        ok = false;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
