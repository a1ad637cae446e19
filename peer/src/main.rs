//! `ikev1-peer`: see the crate documentation and `peer/README.md`.
#![forbid(unsafe_code)]

use std::io::Write;
use std::process::ExitCode;

use ikev1_peer::cli::{self, Command};
use ikev1_peer::client::ClientEnd;
use ikev1_peer::run::RunError;

/// Exit status 0 after a signal; 2 when a client's XAUTH failed (so that
/// scripts can tell a refused password); 1 for any other error.
fn exit(result: Result<(), RunError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ikev1-peer: {e}");
            match e {
                RunError::Client(ClientEnd::XauthFailed(_)) => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}

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
        Command::CheckConfig(path) => {
            let outcome = ikev1_peer::check::check_file(&path);
            let _ = std::io::stdout().write_all(outcome.text.as_bytes());
            ExitCode::from(outcome.status)
        }
        Command::Run(args) => exit(ikev1_peer::run::run(&args)),
        Command::Client(args) => exit(ikev1_peer::run::run_client(&args)),
        Command::HashPassword => match ikev1_peer::users::hash_from_stdin() {
            Ok(phc) => {
                let mut out = std::io::stdout().lock();
                if writeln!(out, "{phc}").and_then(|()| out.flush()).is_err() {
                    return ExitCode::from(1);
                }
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("ikev1-peer hash-password: {e}");
                ExitCode::from(1)
            }
        },
    }
}
