//! The Easy VPN server's user file (`--users FILE`) and the
//! `hash-password` command that makes its lines.
//!
//! The file holds one `NAME:PHC-STRING` line per user, the string an
//! argon2id hash (the format [`ted::remote_access::UserDb`] documents).
//! `ikev1-peer hash-password` reads one password line from standard input
//! and prints that string, with a fresh 16-byte salt from the OS random
//! generator and the gateway's cost ([`ted::remote_access::HashParams::GATEWAY`]).

use std::io;
use std::path::{Path, PathBuf};

use ike_sm::{Purpose, PurposeRng};
use ted::remote_access::UserDb;

use crate::entropy::OsEntropy;
use crate::secret::{self, SecretError};

/// A user file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UsersError {
    /// Missing, not a regular file, unreadable, not UTF-8.
    #[error("--users {}: {reason}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A line that does not parse (the error names its number, never
    /// its hash).
    #[error("--users {}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        source: ted::remote_access::UserDbError,
    },
}

/// Reads and parses the user file at `path`; returns the users and
/// warnings (a file readable by other users, a file without users).
///
/// # Errors
/// [`UsersError`] with the path and the reason.
pub fn load(path: &Path) -> Result<(UserDb, Vec<String>), UsersError> {
    let refuse = |reason: String| UsersError::File {
        path: path.to_path_buf(),
        reason,
    };
    secret::regular_file(path).map_err(refuse)?;
    let mut warnings = Vec::new();
    if secret::readable_by_others(path).unwrap_or(false) {
        warnings.push(format!(
            "user file {} is readable by other users, who could attack its password hashes \
             offline: chmod 600 it",
            path.display()
        ));
    }
    let text = std::fs::read_to_string(path).map_err(|e| refuse(e.to_string()))?;
    let db = UserDb::parse(&text).map_err(|source| UsersError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    if db.is_empty() {
        warnings.push(format!("user file {} has no users", path.display()));
    }
    Ok((db, warnings))
}

/// Why `hash-password` printed nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HashError {
    /// Reading the password.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// Hashing it.
    #[error("{0}")]
    Hash(ted::remote_access::HashError),
}

/// The argon2id PHC string of `password`, salted from the OS random
/// generator.
///
/// # Errors
/// [`HashError::Hash`] when argon2 refuses (never with the gateway's
/// parameters); an empty password is [`SecretError::Empty`].
pub fn hash(password: &[u8]) -> Result<String, HashError> {
    if password.is_empty() {
        return Err(SecretError::Empty("the password").into());
    }
    let mut os = OsEntropy;
    let mut rng = PurposeRng::new(&mut os, Purpose::Other);
    ted::remote_access::hash_password(password, &mut rng).map_err(HashError::Hash)
}

/// `ikev1-peer hash-password`: one password line from standard input
/// (asked without echo when it is a terminal), hashed.
///
/// # Errors
/// [`HashError`].
pub fn hash_from_stdin() -> Result<String, HashError> {
    use std::io::IsTerminal;
    let password = if io::stdin().is_terminal() {
        secret::prompt("the password", "Password to hash: ")?
    } else {
        let mut stdin = secret::stdin_file().map_err(|source| SecretError::Io {
            what: "the password",
            source,
        })?;
        secret::read_line("the password", &mut stdin)?
    };
    hash(&password)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("ikev1-peer-users-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir(&d).unwrap();
        d
    }

    fn write(path: &Path, mode: u32, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(path)
            .unwrap();
        f.write_all(text.as_bytes()).unwrap();
    }

    #[test]
    fn a_hash_verifies_through_the_user_file() {
        let h = hash(b"alice-pw-1").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(!h.contains("alice-pw-1"));
        assert_ne!(h, hash(b"alice-pw-1").unwrap(), "a fresh salt each time");
        let d = dir("roundtrip");
        let p = d.join("users");
        write(&p, 0o600, &format!("# users\nalice:{h}\n"));
        let (db, warnings) = load(&p).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(db.verify("alice", b"alice-pw-1"));
        assert!(!db.verify("alice", b"not-alices-pw"));
        assert!(!db.verify("bob", b"alice-pw-1"));
        std::fs::remove_dir_all(&d).unwrap();
        assert!(matches!(
            hash(b""),
            Err(HashError::Secret(SecretError::Empty(_)))
        ));
    }

    #[test]
    fn user_file_errors_name_the_file_and_the_line() {
        let d = dir("errors");
        let missing = d.join("missing");
        let e = load(&missing).unwrap_err().to_string();
        assert!(
            e.contains(&missing.display().to_string()) && e.contains("no such file"),
            "{e}"
        );
        let e = load(&d).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let bad = d.join("bad");
        write(
            &bad,
            0o600,
            "alice:$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\nbob\n",
        );
        let e = load(&bad).unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("NAME:HASH"), "{e}");
        let md5 = d.join("md5");
        write(&md5, 0o600, "carol:$1$salt$secrethashvalue\n");
        let e = load(&md5).unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        assert!(
            !e.contains("secrethashvalue"),
            "the hash is never quoted: {e}"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn loose_or_empty_user_files_are_warned_about() {
        let d = dir("warn");
        let p = d.join("users");
        write(&p, 0o644, "# nobody yet\n");
        let (db, warnings) = load(&p).unwrap();
        assert!(db.is_empty());
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings.iter().any(|w| w.contains("chmod 600")));
        assert!(warnings.iter().any(|w| w.contains("no users")));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
