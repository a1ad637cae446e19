//! Secrets from outside the command line: the client's group key and
//! XAUTH password (a file's first line, an environment variable, or the
//! terminal without echo) and the password `hash-password` reads.
//!
//! Every secret is held in a [`Zeroizing`] buffer, wiped when dropped;
//! none is ever written to a log, an event or an error message. Files
//! are read whole into such a buffer (no intermediate copies); standard
//! input and the terminal are read a byte at a time straight from the
//! descriptor, so that no buffered reader keeps a copy and nothing after
//! the line is consumed.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

/// The longest secret line read (passwords, keys): 1 KiB.
pub const MAX_SECRET: usize = 1024;

/// Why a secret could not be had. The secret itself is never part of it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// A file could not be read.
    #[error("{what} {}: {reason}", path.display())]
    File {
        /// Which secret.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The environment variable is not set.
    #[error("{what}: environment variable {var} is not set")]
    NoEnv {
        /// Which secret.
        what: &'static str,
        /// The variable.
        var: String,
    },
    /// No file or variable was named and there is no terminal to ask on.
    #[error(
        "{what}: none given and standard input is not a terminal to ask on (use \
         --password-file FILE or --password-env VAR)"
    )]
    NoTerminal {
        /// Which secret.
        what: &'static str,
    },
    /// Empty where a value is needed.
    #[error("{0} is empty")]
    Empty(&'static str),
    /// Longer than [`MAX_SECRET`].
    #[error("{0} is longer than {MAX_SECRET} bytes")]
    TooLong(&'static str),
    /// Reading standard input or the terminal failed.
    #[error("{what}: {source}")]
    Io {
        /// Which secret.
        what: &'static str,
        /// The error.
        source: io::Error,
    },
}

/// The first line of `data` (without its `\n` or `\r\n`), in place.
fn first_line(data: &mut Zeroizing<Vec<u8>>) {
    if let Some(end) = data.iter().position(|&b| b == b'\n') {
        data.truncate(end);
    }
    if data.last() == Some(&b'\r') {
        data.pop();
    }
}

/// The metadata of `path` if it is a regular file; otherwise why not, as
/// the start-up errors say it (`no such file`, `not a regular file`, the
/// OS's error).
///
/// # Errors
/// The reason, as text.
pub fn regular_file(path: &Path) -> Result<std::fs::Metadata, String> {
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => "no such file".to_owned(),
        _ => e.to_string(),
    })?;
    if meta.is_file() {
        Ok(meta)
    } else {
        Err("not a regular file".to_owned())
    }
}

/// Whether a file's mode lets its group or others read it (a warning for
/// a secret, or for a user file's hashes).
pub fn readable_by_others(path: &Path) -> io::Result<bool> {
    Ok(std::fs::metadata(path)?.permissions().mode() & 0o044 != 0)
}

/// The first line of the file `path` (a group key or a password file),
/// without its line ending. A file readable by its group or by others is
/// read, with a warning in the returned list.
///
/// # Errors
/// [`SecretError::File`] (missing, not a file, unreadable),
/// [`SecretError::TooLong`].
pub fn read_file_line(
    what: &'static str,
    path: &Path,
) -> Result<(Zeroizing<Vec<u8>>, Vec<String>), SecretError> {
    let refuse = |reason: String| SecretError::File {
        what,
        path: path.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(path).map_err(|e| refuse(e.to_string()))?;
    if !meta.is_file() {
        return Err(refuse("not a regular file".into()));
    }
    let mut warnings = Vec::new();
    if meta.permissions().mode() & 0o044 != 0 {
        warnings.push(format!(
            "{what} {} is readable by other users (mode {:03o}): chmod 600 it",
            path.display(),
            meta.permissions().mode() & 0o777
        ));
    }
    let file = File::open(path).map_err(|e| refuse(e.to_string()))?;
    // Room for the longest line and its ending, so that reading never
    // reallocates (a reallocation would leave a copy behind).
    let mut data = Zeroizing::new(Vec::with_capacity(MAX_SECRET + 3));
    file.take(u64::try_from(MAX_SECRET + 2).unwrap_or(u64::MAX))
        .read_to_end(&mut data)
        .map_err(|e| refuse(e.to_string()))?;
    first_line(&mut data);
    if data.len() > MAX_SECRET {
        return Err(SecretError::TooLong(what));
    }
    Ok((data, warnings))
}

/// The value of the environment variable `var`.
///
/// # Errors
/// [`SecretError::NoEnv`], [`SecretError::TooLong`].
pub fn read_env(what: &'static str, var: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    use std::os::unix::ffi::OsStringExt;
    let value = std::env::var_os(var).ok_or_else(|| SecretError::NoEnv {
        what,
        var: var.to_owned(),
    })?;
    let value = Zeroizing::new(value.into_vec());
    if value.len() > MAX_SECRET {
        return Err(SecretError::TooLong(what));
    }
    Ok(value)
}

/// Reads one line from `source`, a byte at a time, into a buffer that
/// never reallocates: up to the first `\n` or the end, without the line
/// ending.
///
/// # Errors
/// The reader's; [`SecretError::TooLong`] past [`MAX_SECRET`] bytes.
pub fn read_line(
    what: &'static str,
    source: &mut impl Read,
) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    let mut line = Zeroizing::new(Vec::with_capacity(MAX_SECRET + 1));
    let mut byte = Zeroizing::new([0u8; 1]);
    loop {
        match source.read(byte.as_mut_slice()) {
            Ok(0) => break,
            Ok(_) => {
                let [b] = *byte;
                if b == b'\n' {
                    break;
                }
                if line.len() > MAX_SECRET {
                    return Err(SecretError::TooLong(what));
                }
                line.push(b);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => return Err(SecretError::Io { what, source }),
        }
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    if line.len() > MAX_SECRET {
        return Err(SecretError::TooLong(what));
    }
    Ok(line)
}

/// Standard input as an unbuffered file (a duplicate of descriptor 0), so
/// that no buffered reader keeps a copy of what is read.
///
/// # Errors
/// Duplicating the descriptor.
pub fn stdin_file() -> io::Result<File> {
    Ok(File::from(io::stdin().as_fd().try_clone_to_owned()?))
}

/// Asks for a secret on the controlling terminal (`/dev/tty`) with echo
/// off, when standard input is a terminal; echo is restored whatever
/// happens after it was turned off (except a signal that kills the
/// process meanwhile).
///
/// # Errors
/// [`SecretError::NoTerminal`] when standard input is not a terminal;
/// the terminal's errors.
pub fn prompt(what: &'static str, text: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    use nix::sys::termios::{LocalFlags, SetArg, tcgetattr, tcsetattr};
    use std::io::IsTerminal;
    if !io::stdin().is_terminal() {
        return Err(SecretError::NoTerminal { what });
    }
    let io_err = |source: io::Error| SecretError::Io { what, source };
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .map_err(io_err)?;
    let saved = tcgetattr(&tty).map_err(|e| io_err(e.into()))?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    quiet.local_flags.insert(LocalFlags::ECHONL);
    tty.write_all(text.as_bytes()).map_err(io_err)?;
    tty.flush().map_err(io_err)?;
    tcsetattr(&tty, SetArg::TCSAFLUSH, &quiet).map_err(|e| io_err(e.into()))?;
    let line = read_line(what, &mut tty);
    let restored = tcsetattr(&tty, SetArg::TCSAFLUSH, &saved);
    let line = line?;
    restored.map_err(|e| io_err(e.into()))?;
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::OpenOptionsExt;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("ikev1-peer-secret-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        d
    }

    fn write(path: &Path, mode: u32, data: &[u8]) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .unwrap();
        f.write_all(data).unwrap();
    }

    #[test]
    fn a_file_gives_its_first_line() {
        let d = dir("line");
        for (name, data) in [
            ("nl", &b"ra-group-secret\n"[..]),
            ("crlf", b"ra-group-secret\r\nsecond line\n"),
            ("none", b"ra-group-secret"),
        ] {
            let p = d.join(name);
            write(&p, 0o600, data);
            let (v, warnings) = read_file_line("group key", &p).unwrap();
            assert_eq!(&v[..], b"ra-group-secret", "{name}");
            assert!(warnings.is_empty());
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn loose_modes_are_warned_about_and_missing_files_named() {
        let d = dir("mode");
        let p = d.join("pw");
        write(&p, 0o644, b"pw\n");
        let (_, warnings) = read_file_line("password file", &p).unwrap();
        assert_eq!(warnings.len(), 1);
        assert!(
            warnings[0].contains("chmod 600") && warnings[0].contains("644"),
            "{warnings:?}"
        );
        assert!(!warnings[0].contains("pw\n"));
        let missing = d.join("missing");
        let e = read_file_line("password file", &missing)
            .unwrap_err()
            .to_string();
        assert!(e.contains(&missing.display().to_string()), "{e}");
        let e = read_file_line("password file", &d).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let long = d.join("long");
        write(&long, 0o600, &vec![b'x'; MAX_SECRET + 1]);
        assert!(matches!(
            read_file_line("password file", &long),
            Err(SecretError::TooLong(_))
        ));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn lines_from_a_reader() {
        let mut r = &b"alice-pw-1\nrest"[..];
        assert_eq!(&read_line("p", &mut r).unwrap()[..], b"alice-pw-1");
        assert_eq!(r, b"rest", "nothing after the line is consumed");
        let mut r = &b"no newline"[..];
        assert_eq!(&read_line("p", &mut r).unwrap()[..], b"no newline");
        let mut r = &b""[..];
        assert!(read_line("p", &mut r).unwrap().is_empty());
        let long = vec![b'y'; MAX_SECRET + 5];
        assert!(matches!(
            read_line("p", &mut &long[..]),
            Err(SecretError::TooLong("p"))
        ));
    }

    #[test]
    fn an_unset_variable_is_named() {
        let e = read_env("password", "IKEV1_PEER_SURELY_UNSET_VARIABLE")
            .unwrap_err()
            .to_string();
        assert!(e.contains("IKEV1_PEER_SURELY_UNSET_VARIABLE"), "{e}");
        // PATH is set in any test environment.
        assert!(!read_env("password", "PATH").unwrap().is_empty());
    }
}
