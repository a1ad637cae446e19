//! `ikev1-peer`: see the crate documentation and `peer/README.md`.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use ikev1_peer::cli::{self, Command};

fn main() -> ExitCode {
    let command = match cli::parse(std::env::args().skip(1)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("ikev1-peer: {e}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    match command {
        Command::Help => {
            let _ = std::io::stdout().write_all(cli::USAGE.as_bytes());
            ExitCode::SUCCESS
        }
        Command::Ctl { control, command } => {
            match ikev1_peer::control::client(&control, &command) {
                Ok((answer, ok)) => {
                    let _ = std::io::stdout().write_all(answer.as_bytes());
                    if ok {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::from(1)
                    }
                }
                Err(e) => {
                    eprintln!("ikev1-peer ctl: {e}");
                    ExitCode::from(2)
                }
            }
        }
        Command::Run(args) => match ikev1_peer::run::run(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("ikev1-peer: {e}");
                ExitCode::from(1)
            }
        },
    }
}
