//! The user database XAUTH checks passwords against.
//!
//! # The user file
//!
//! One user a line, `NAME:HASH`:
//!
//! ```text
//! # Remote-access users of the gateway.
//! alice:$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//! bob:$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//! ```
//!
//! - `NAME` is 1 to 64 bytes of printable ASCII (`!` to `~`) without `:`,
//!   and case-sensitive; it cannot start with `#`.
//! - `HASH` is an argon2id PHC string (`$argon2id$v=19$m=..,t=..,p=..$SALT$HASH`),
//!   as [`hash_password`] writes it and as the reference `argon2` tool and
//!   most libraries print it. Other algorithms (argon2i, argon2d, scrypt,
//!   MD5-crypt) are refused, and so is a hash without salt or output, or
//!   with a cost above [`HashParams::MAX_MEMORY_KIB`],
//!   [`HashParams::MAX_ITERATIONS`] or [`HashParams::MAX_LANES`]: a file
//!   could otherwise make each login allocate gigabytes.
//! - Blank lines and lines whose first non-blank character is `#` are
//!   ignored; blanks around a line are ignored.
//! - A name may appear once. A bad line is an error naming its line number
//!   ([`UserDbError`]); the error never quotes the hash.
//!
//! Users from the IOS configuration (`username NAME password 0 TEXT`) join
//! the same database through [`UserDb::add_clear_users`], hashed when
//! loaded, so that every check at run time is the same argon2id
//! verification. IOS's own stored forms (`secret 5`, MD5-crypt; `password
//! 7`, a reversible encoding) are not accepted: those users are left out,
//! and the configuration check says so.
//!
//! # Threat notes
//!
//! - **Hashes, not passwords.** The file holds salted argon2id hashes, a
//!   memory-hard function: a stolen file costs an attacker 19 MiB and two
//!   passes per guess per user at [`HashParams::GATEWAY`] (OWASP's
//!   minimum for argon2id). A plaintext configuration password lives in
//!   memory only in a buffer wiped on drop.
//! - **Constant-time comparison.** The computed hash is compared with the
//!   stored one by the `argon2` crate's verifier, in constant time.
//! - **No user enumeration by timing.** [`UserDb::verify`] of an unknown
//!   user runs the same argon2id computation against a dummy hash, with the
//!   parameters most of the database's users have, so a failed login takes
//!   as long whether or not the user exists. Users whose hashes have other
//!   parameters than most stand out by their timing: hash every user with
//!   the same parameters.
//! - **Cost is the caller's to bound.** Each verification costs the
//!   hash's memory and time; the gateway should limit XAUTH attempts per
//!   peer and in all (the `crypto isakmp xauth timeout` and its retry
//!   limit), since a flood of logins is a flood of argon2id runs.

use core::fmt;
use std::collections::BTreeMap;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{
    ARGON2ID_IDENT, Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version,
};
use rand_core::CryptoRng;

/// The argon2id cost parameters of a hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HashParams {
    /// Memory in KiB (argon2's `m`).
    pub memory_kib: u32,
    /// Passes over the memory (argon2's `t`).
    pub iterations: u32,
    /// Lanes (argon2's `p`); this crate computes them one after the other.
    pub lanes: u32,
}

impl HashParams {
    /// What a gateway hashes new passwords with: 19 MiB, 2 passes, 1 lane,
    /// OWASP's minimum recommendation for argon2id.
    pub const GATEWAY: Self = Self {
        memory_kib: 19_456,
        iterations: 2,
        lanes: 1,
    };
    /// The most memory a stored hash may ask for: 256 MiB.
    pub const MAX_MEMORY_KIB: u32 = 256 * 1024;
    /// The most passes a stored hash may ask for.
    pub const MAX_ITERATIONS: u32 = 16;
    /// The most lanes a stored hash may ask for.
    pub const MAX_LANES: u32 = 16;

    fn argon2(self) -> Result<Params, argon2::Error> {
        Params::new(self.memory_kib, self.iterations, self.lanes, None)
    }

    /// Whether every parameter is within the limits above.
    pub fn within_limits(&self) -> bool {
        self.memory_kib <= Self::MAX_MEMORY_KIB
            && self.iterations <= Self::MAX_ITERATIONS
            && self.lanes <= Self::MAX_LANES
    }
}

/// A line of a user file, or a user, that [`UserDb`] refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{kind}", .line.map(|l| format!("line {l}: ")).unwrap_or_default())]
pub struct UserDbError {
    /// 1-based line number in the user file; `None` for a user that did
    /// not come from a file (the IOS configuration, [`UserDb::insert_hash`]).
    pub line: Option<usize>,
    /// What was wrong.
    pub kind: UserDbErrorKind,
}

/// What was wrong with a user.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UserDbErrorKind {
    /// A line without the `:` between name and hash.
    #[error("expected NAME:HASH")]
    MissingSeparator,
    /// A user name that is empty, too long, or has a byte outside printable
    /// ASCII or a `:`.
    #[error(
        "user name must be 1-{} bytes of printable ASCII without ':'",
        UserDb::MAX_NAME_LEN
    )]
    BadName,
    /// A user named twice.
    #[error("user {name} is already defined")]
    DuplicateUser {
        /// The name.
        name: String,
    },
    /// A hash that is no PHC string, or lacks its salt or output.
    #[error("user {name}: the hash is not a complete PHC string")]
    MalformedHash {
        /// The user.
        name: String,
    },
    /// A PHC string of another algorithm or version than argon2id v19.
    #[error("user {name}: only argon2id (version 19) hashes are supported, found {algorithm}")]
    UnsupportedAlgorithm {
        /// The user.
        name: String,
        /// The algorithm (and version) found.
        algorithm: String,
    },
    /// Parameters argon2 refuses, or above the limits of [`HashParams`].
    #[error(
        "user {name}: hash parameters out of range (m, t, p at most {}, {}, {})",
        HashParams::MAX_MEMORY_KIB,
        HashParams::MAX_ITERATIONS,
        HashParams::MAX_LANES
    )]
    BadParams {
        /// The user.
        name: String,
    },
    /// Hashing a new password failed (parameters out of range).
    #[error("hashing the password of user {name} failed")]
    HashFailed {
        /// The user.
        name: String,
    },
}

/// Hashing a password failed: argon2 refused the parameters (memory below
/// 8 KiB per lane, no pass, no lane) or the password (longer than 4 GiB).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("argon2id refused the hash parameters or the password")]
pub struct HashError;

/// Hashes a password with [`HashParams::GATEWAY`] and a 16-byte salt from
/// `rng`, as a PHC string for the user file.
pub fn hash_password<R: CryptoRng + ?Sized>(
    password: &[u8],
    rng: &mut R,
) -> Result<String, HashError> {
    hash_password_with(password, HashParams::GATEWAY, rng)
}

/// Hashes a password with the given parameters (tests use cheap ones).
pub fn hash_password_with<R: CryptoRng + ?Sized>(
    password: &[u8],
    params: HashParams,
    rng: &mut R,
) -> Result<String, HashError> {
    let mut salt = [0u8; 16];
    rng.fill_bytes(&mut salt);
    let argon = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        params.argon2().map_err(|_| HashError)?,
    );
    let hash = argon
        .hash_password_with_salt(password, &salt)
        .map_err(|_| HashError)?;
    Ok(hash.to_string())
}

/// A stored hash with what its parameters cost, for the dummy's choice.
#[derive(Clone, PartialEq, Eq)]
struct Stored {
    hash: PasswordHash,
    cost: (HashParams, usize),
}

/// XAUTH users and their password hashes (see the [module](self)
/// documentation for the file format and the threat notes).
#[derive(Clone, PartialEq, Eq)]
pub struct UserDb {
    users: BTreeMap<String, Stored>,
    /// How many users have each cost, to pick the dummy's.
    costs: BTreeMap<(HashParams, usize), usize>,
    /// Verified against for unknown users.
    dummy: PasswordHash,
}

impl Default for UserDb {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for UserDb {
    /// The user names, not their hashes.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserDb")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl UserDb {
    /// The longest user name, in bytes.
    pub const MAX_NAME_LEN: usize = 64;

    /// An empty database: every check fails (after the dummy hash's work).
    pub fn new() -> Self {
        Self {
            users: BTreeMap::new(),
            costs: BTreeMap::new(),
            dummy: dummy_hash((HashParams::GATEWAY, DEFAULT_OUTPUT_LEN)),
        }
    }

    /// Reads a user file (format in the [module](self) documentation). No
    /// hash is computed: loading costs nothing like a login.
    pub fn parse(text: &str) -> Result<Self, UserDbError> {
        let mut db = Self::new();
        for (index, raw) in text.split('\n').enumerate() {
            let line = Some(index.saturating_add(1));
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let (name, hash) = trimmed.split_once(':').ok_or(UserDbError {
                line,
                kind: UserDbErrorKind::MissingSeparator,
            })?;
            db.insert_hash(name, hash)
                .map_err(|kind| UserDbError { line, kind })?;
        }
        Ok(db)
    }

    /// Adds a user with a PHC string (checked as a file line is).
    pub fn insert_hash(&mut self, name: &str, phc: &str) -> Result<(), UserDbErrorKind> {
        check_name(name)?;
        if self.users.contains_key(name) {
            return Err(UserDbErrorKind::DuplicateUser {
                name: name.to_owned(),
            });
        }
        let stored = check_hash(name, phc)?;
        self.add(name, stored);
        Ok(())
    }

    /// Adds a user with a plaintext password, hashed now with `params` and
    /// a salt from `rng`.
    pub fn insert_password<R: CryptoRng + ?Sized>(
        &mut self,
        name: &str,
        password: &[u8],
        params: HashParams,
        rng: &mut R,
    ) -> Result<(), UserDbErrorKind> {
        check_name(name)?;
        if self.users.contains_key(name) {
            return Err(UserDbErrorKind::DuplicateUser {
                name: name.to_owned(),
            });
        }
        let phc =
            hash_password_with(password, params, rng).map_err(|_| UserDbErrorKind::HashFailed {
                name: name.to_owned(),
            })?;
        let stored = check_hash(name, &phc)?;
        self.add(name, stored);
        Ok(())
    }

    /// Adds users whose password is in clear, each hashed now with
    /// `params`: the IOS configuration's local users (`username NAME
    /// password 0 TEXT`, `secret 0 TEXT`) as
    /// `Config::local_users` with `LocalUser::xauth_password` give them
    /// (users with IOS-hashed or encoded passwords, `secret 5`,
    /// `password 7`, have none and are left out by the caller). Returns how
    /// many were added; a name already in the database is an error.
    pub fn add_clear_users<'u, R: CryptoRng + ?Sized>(
        &mut self,
        users: impl IntoIterator<Item = (&'u str, &'u [u8])>,
        params: HashParams,
        rng: &mut R,
    ) -> Result<usize, UserDbError> {
        let mut added = 0usize;
        for (name, password) in users {
            self.insert_password(name, password, params, rng)
                .map_err(|kind| UserDbError { line: None, kind })?;
            added = added.saturating_add(1);
        }
        Ok(added)
    }

    /// Whether `password` is `user`'s. An unknown user costs the same
    /// argon2id computation as a known one (against a dummy hash), and the
    /// hash comparison is constant-time.
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        let (hash, known) = match self.users.get(user) {
            Some(stored) => (&stored.hash, true),
            None => (&self.dummy, false),
        };
        let matches = Argon2::default().verify_password(password, hash).is_ok();
        // Both operands are evaluated: no early exit on either.
        matches & known
    }

    /// Whether the user exists (for `show` and tests; a login must use
    /// [`UserDb::verify`], which does not reveal this by its timing).
    pub fn contains(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    /// The user names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> + '_ {
        self.users.keys().map(String::as_str)
    }

    /// How many users there are.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there is no user.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The cost parameters of a user's hash.
    pub fn params_of(&self, user: &str) -> Option<HashParams> {
        self.users.get(user).map(|s| s.cost.0)
    }

    /// The parameters the dummy hash of unknown users is computed with:
    /// those most users have ([`HashParams::GATEWAY`] when there is none).
    pub fn dummy_params(&self) -> HashParams {
        self.dummy_cost().0
    }

    fn dummy_cost(&self) -> (HashParams, usize) {
        self.costs
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map_or((HashParams::GATEWAY, DEFAULT_OUTPUT_LEN), |(&cost, _)| cost)
    }

    fn add(&mut self, name: &str, stored: Stored) {
        let count = self.costs.entry(stored.cost).or_insert(0);
        *count = count.saturating_add(1);
        self.users.insert(name.to_owned(), stored);
        self.dummy = dummy_hash(self.dummy_cost());
    }
}

const DEFAULT_OUTPUT_LEN: usize = 32;

fn check_name(name: &str) -> Result<(), UserDbErrorKind> {
    let ok = !name.is_empty()
        && name.len() <= UserDb::MAX_NAME_LEN
        && !name.starts_with('#')
        && name.bytes().all(|b| b.is_ascii_graphic() && b != b':');
    if ok {
        Ok(())
    } else {
        Err(UserDbErrorKind::BadName)
    }
}

fn check_hash(name: &str, phc: &str) -> Result<Stored, UserDbErrorKind> {
    let malformed = || UserDbErrorKind::MalformedHash {
        name: name.to_owned(),
    };
    let hash = PasswordHash::new(phc).map_err(|_| malformed())?;
    let (Some(_), Some(output)) = (&hash.salt, &hash.hash) else {
        return Err(malformed());
    };
    let output_len = output.len();
    let algorithm = hash.algorithm.as_str();
    if algorithm != "argon2id" || hash.version.is_some_and(|v| v != 0x13) {
        let version = hash.version.map(|v| format!(" v={v}")).unwrap_or_default();
        return Err(UserDbErrorKind::UnsupportedAlgorithm {
            name: name.to_owned(),
            algorithm: format!("{algorithm}{version}"),
        });
    }
    let bad_params = || UserDbErrorKind::BadParams {
        name: name.to_owned(),
    };
    let params = Params::try_from(&hash).map_err(|_| bad_params())?;
    if !params.keyid().is_empty() || !params.data().is_empty() {
        return Err(bad_params());
    }
    let cost = HashParams {
        memory_kib: params.m_cost(),
        iterations: params.t_cost(),
        lanes: params.p_cost(),
    };
    if !cost.within_limits() {
        return Err(bad_params());
    }
    Ok(Stored {
        hash,
        cost: (cost, output_len),
    })
}

/// A hash no password matches in practice (its output is all zero bytes)
/// that costs what a user's hash with these parameters costs. Built field
/// by field: nothing is computed here.
fn dummy_hash((params, output_len): (HashParams, usize)) -> PasswordHash {
    let build = |params: HashParams, output_len: usize| -> Option<PasswordHash> {
        let zeros = [0u8; Output::MAX_LENGTH];
        Some(PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(0x13),
            params: ParamsString::try_from(&params.argon2().ok()?).ok()?,
            salt: Some(Salt::new(&[0x5a; 16]).ok()?),
            hash: Some(Output::new(zeros.get(..output_len)?).ok()?),
        })
    };
    // The parameters came from stored hashes that passed the checks, so
    // the first always succeeds; the fallbacks keep this total.
    build(params, output_len)
        .or_else(|| build(HashParams::GATEWAY, DEFAULT_OUTPUT_LEN))
        .unwrap_or(PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(0x13),
            params: ParamsString::new(),
            salt: None,
            hash: None,
        })
}

#[cfg(test)]
// Test code: a panic is a test failure.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use rand_chacha::ChaCha8Rng;
    use rand_core::SeedableRng;

    use super::*;

    /// Cheap parameters for tests (64 KiB, 1 pass): verification reads the
    /// parameters from the PHC string, so these are what the tests pay.
    const CHEAP: HashParams = HashParams {
        memory_kib: 64,
        iterations: 1,
        lanes: 1,
    };

    /// Written by the reference implementation's command-line tool (the
    /// P-H-C `argon2` program, Debian package `argon2` 0~20171227), not by
    /// this crate:
    /// `echo -n "correct horse" | argon2 "xauth-kat-salt01" -id -t 1 -m 6 -p 1 -l 32 -e`
    const REFERENCE_ALICE: &str = "$argon2id$v=19$m=64,t=1,p=1$eGF1dGgta2F0LXNhbHQwMQ$7LibrjMVLo0diNhBGGyEvoGAErrHt+7SvzDSOSuAsRA";
    /// Same tool:
    /// `echo -n "s3cret-Bob" | argon2 "another-salt-16b" -id -t 2 -m 8 -p 2 -l 32 -e`
    const REFERENCE_BOB: &str = "$argon2id$v=19$m=256,t=2,p=2$YW5vdGhlci1zYWx0LTE2Yg$HLZuTZosnncd9v33mxY66QMT7vjXvMY8V8HYqGAhBt4";

    fn rng() -> ChaCha8Rng {
        ChaCha8Rng::seed_from_u64(13)
    }

    fn line_err(text: &str) -> UserDbError {
        UserDb::parse(text).expect_err("the file must be refused")
    }

    #[test]
    fn reference_tool_hashes_verify() {
        let db = UserDb::parse(&format!(
            "# users\n\nalice:{REFERENCE_ALICE}\n  bob:{REFERENCE_BOB}  \r\n"
        ))
        .unwrap();
        assert_eq!(db.len(), 2);
        assert!(db.verify("alice", b"correct horse"));
        assert!(db.verify("bob", b"s3cret-Bob"));
        // Each password is its user's only.
        assert!(!db.verify("alice", b"s3cret-Bob"));
        assert!(!db.verify("bob", b"correct horse"));
        assert!(!db.verify("alice", b"correct horsf"));
        assert!(!db.verify("alice", b""));
        // Names are case-sensitive.
        assert!(!db.verify("Alice", b"correct horse"));
        assert_eq!(
            db.params_of("bob"),
            Some(HashParams {
                memory_kib: 256,
                iterations: 2,
                lanes: 2
            })
        );
    }

    #[test]
    fn hash_round_trip_with_caller_rng() {
        let mut r = rng();
        let phc = hash_password_with(b"pa55 word", CHEAP, &mut r).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{phc}");
        let mut db = UserDb::new();
        db.insert_hash("carol", &phc).unwrap();
        assert!(db.verify("carol", b"pa55 word"));
        assert!(!db.verify("carol", b"pa55 wore"));
        // A fresh salt each time: the same password hashes differently.
        let again = hash_password_with(b"pa55 word", CHEAP, &mut r).unwrap();
        assert_ne!(phc, again);
        // The same seed gives the same salt (the RNG is the caller's).
        assert_eq!(
            hash_password_with(b"pa55 word", CHEAP, &mut rng()).unwrap(),
            phc
        );
    }

    #[test]
    fn gateway_parameters_are_owasp_minimum() {
        let phc = hash_password(b"x", &mut rng()).unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        let db = UserDb::parse(&format!("u:{phc}")).unwrap();
        assert!(db.verify("u", b"x"));
    }

    #[test]
    fn unknown_user_fails_after_a_dummy_of_the_usual_cost() {
        let mut r = rng();
        let mut db = UserDb::new();
        assert_eq!(db.dummy_params(), HashParams::GATEWAY);
        db.insert_password("dave", b"pw", CHEAP, &mut r).unwrap();
        db.insert_password("erin", b"pw", CHEAP, &mut r).unwrap();
        db.insert_hash("bob", REFERENCE_BOB).unwrap();
        // Two users of three have the cheap parameters: the dummy has them.
        assert_eq!(db.dummy_params(), CHEAP);
        assert!(!db.verify("mallory", b"pw"));
        assert!(!db.verify("", b""));
        assert!(!db.contains("mallory"));
        // The dummy hash really is computed: verifying against it with its
        // own parameters succeeds only for a matching output, which no
        // password gives; checking it parses with those parameters.
        let params = Params::try_from(&db.dummy).unwrap();
        assert_eq!(params.m_cost(), 64);
        assert_eq!(params.t_cost(), 1);
        assert!(db.dummy.salt.is_some() && db.dummy.hash.is_some());
    }

    #[test]
    fn bad_lines_name_their_line() {
        let e = line_err("# c\nalice\n");
        assert_eq!(e.line, Some(2));
        assert_eq!(e.kind, UserDbErrorKind::MissingSeparator);

        let e = line_err(&format!(
            "alice:{REFERENCE_ALICE}\n\nalice:{REFERENCE_BOB}\n"
        ));
        assert_eq!(e.line, Some(3));
        assert_eq!(
            e.kind,
            UserDbErrorKind::DuplicateUser {
                name: "alice".into()
            }
        );

        for name in ["", "has space", "tab\there", "ünï", &"x".repeat(65)] {
            let e = line_err(&format!("{name}:{REFERENCE_ALICE}"));
            assert_eq!(e.kind, UserDbErrorKind::BadName, "{name:?}");
            assert_eq!(e.line, Some(1));
        }
        assert!(UserDb::parse(&format!("{}:{REFERENCE_ALICE}", "x".repeat(64))).is_ok());

        let e = line_err("a:$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ\n");
        assert_eq!(e.kind, UserDbErrorKind::MalformedHash { name: "a".into() });
        let e = line_err("\n\nb:not a hash\n");
        assert_eq!(e.line, Some(3));
        assert_eq!(e.kind, UserDbErrorKind::MalformedHash { name: "b".into() });
        // Display names the line and the user, never the hash.
        let shown = line_err(&format!("x\nc:{}", &REFERENCE_ALICE[..40])).to_string();
        assert!(shown.starts_with("line 1: "), "{shown}");
    }

    #[test]
    fn other_algorithms_and_costs_are_refused() {
        // The reference implementation's README example (argon2i).
        let e = line_err(
            "a:$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        );
        assert_eq!(
            e.kind,
            UserDbErrorKind::UnsupportedAlgorithm {
                name: "a".into(),
                algorithm: "argon2i v=19".into()
            }
        );
        let e = line_err(
            "a:$argon2id$v=16$m=64,t=1,p=1$eGF1dGgta2F0LXNhbHQwMQ$7LibrjMVLo0diNhBGGyEvoGAErrHt+7SvzDSOSuAsRA",
        );
        assert!(matches!(
            e.kind,
            UserDbErrorKind::UnsupportedAlgorithm { .. }
        ));
        // An IOS type-5 hash is no PHC string.
        let e = line_err("a:$1$mERr$hx5rVt7rPNoS4wqbXKX7m0");
        assert!(matches!(
            e.kind,
            UserDbErrorKind::MalformedHash { .. } | UserDbErrorKind::UnsupportedAlgorithm { .. }
        ));
        // 4 GiB of memory per login: refused before anything is computed.
        let huge = "a:$argon2id$v=19$m=4194304,t=1,p=1$eGF1dGgta2F0LXNhbHQwMQ$7LibrjMVLo0diNhBGGyEvoGAErrHt+7SvzDSOSuAsRA";
        assert_eq!(
            line_err(huge).kind,
            UserDbErrorKind::BadParams { name: "a".into() }
        );
        let slow = "a:$argon2id$v=19$m=64,t=1000,p=1$eGF1dGgta2F0LXNhbHQwMQ$7LibrjMVLo0diNhBGGyEvoGAErrHt+7SvzDSOSuAsRA";
        assert!(matches!(
            line_err(slow).kind,
            UserDbErrorKind::BadParams { .. }
        ));
        // m below 8 * p: argon2 itself refuses.
        let tiny = "a:$argon2id$v=19$m=8,t=1,p=2$eGF1dGgta2F0LXNhbHQwMQ$7LibrjMVLo0diNhBGGyEvoGAErrHt+7SvzDSOSuAsRA";
        assert!(matches!(
            line_err(tiny).kind,
            UserDbErrorKind::BadParams { .. }
        ));
        // Parameters a hasher cannot use.
        assert!(matches!(
            hash_password_with(
                b"x",
                HashParams {
                    memory_kib: 1,
                    iterations: 1,
                    lanes: 1
                },
                &mut rng()
            ),
            Err(HashError)
        ));
    }

    #[test]
    fn debug_shows_names_not_hashes() {
        let db = UserDb::parse(&format!("alice:{REFERENCE_ALICE}")).unwrap();
        let shown = format!("{db:?} {db:#?}");
        assert!(shown.contains("alice"));
        assert!(!shown.contains("7LibrjMV"), "{shown}");
        assert!(!shown.contains("eGF1dGgt"), "{shown}");
    }

    #[test]
    fn names_and_empty_database() {
        let db = UserDb::parse("\n# only comments\n   \n").unwrap();
        assert!(db.is_empty());
        assert!(!db.verify("anyone", b""));
        let db = UserDb::parse(&format!("zed:{REFERENCE_ALICE}\nann:{REFERENCE_BOB}")).unwrap();
        assert_eq!(db.names().collect::<Vec<_>>(), ["ann", "zed"]);
    }
}
