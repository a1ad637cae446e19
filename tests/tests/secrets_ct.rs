//! Every comparison of a MAC, hash, ICV or key in the crates is constant
//! time: a source scan, reviewed by hand, that fails when a comparison
//! appears that nobody has reviewed.
//!
//! # What is scanned, and what that proves
//!
//! The library sources of `isakmp-wire`, `ike-sm`, `esp`, `ted` and `ike-pki` (`src/`,
//! without `fuzzing.rs` and without the `#[cfg(test)] mod tests` at the end
//! of a file), with comments and string literals blanked out. A comparison
//! is an `==`, `!=`, `.eq(` or `.ne(`; its context is the text between the
//! nearest `;`, `{` or `}` on either side.
//!
//! 1. In the files that hold or compare secrets (`SECRET_FILES`) every
//!    comparison must be listed in `REVIEWED` with the reason it is not a
//!    secret comparison.
//! 2. Everywhere else, a comparison whose context names a secret-looking
//!    thing (`SENSITIVE`: icv, tag, mac, hash, digest, key, psk, secret,
//!    skeyid, keymat, salt, private, expose, nonce) must be listed too.
//! 3. A `#[derive(PartialEq)]` on a type that contains a secret or hash type
//!    (`SECRET_TYPES`) must be listed in `DERIVED_OK`; each secret type's
//!    own `PartialEq` must be written by hand and use `ct_eq`.
//! 4. The known verification sites use `subtle`: the ESP ICV check, the
//!    HASH payload check (`HashValue::verify`), the key equalities.
//! 5. No entry of the lists is stale.
//!
//! This is a lexical net, not a type checker: a secret compared under a
//! name none of the words match, in a file not in `SECRET_FILES`, through
//! a function other than the four operators (`memcmp`-like loops,
//! `starts_with`), would pass. The authenticators (ICV, AEAD tag, HASH
//! payloads) are few and are pinned by rule 4; new files that handle keys
//! belong in `SECRET_FILES`. Comparisons inside dependencies (aes-gcm's tag
//! check, crypto-bigint) are theirs to keep constant time.

// Test code: a panic is a test failure.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The crates' source directories, relative to the workspace root.
const CRATES: [&str; 5] = [
    "isakmp-wire/src",
    "ike-sm/src",
    "esp/src",
    "ted/src",
    "pki/src",
];

/// Files where keys, secrets or authenticators live: every comparison in
/// them is reviewed. (`esp/src/sa.rs` only calls the transform; the IV
/// chains hold no secret.)
const SECRET_FILES: [&str; 13] = [
    "ike-sm/src/crypto/cipher.rs",
    "ike-sm/src/crypto/dh.rs",
    "ike-sm/src/crypto/hash.rs",
    "ike-sm/src/crypto/kdf.rs",
    "ike-sm/src/crypto/secret.rs",
    "esp/src/cipher.rs",
    "esp/src/params.rs",
    "esp/src/secret.rs",
    "esp/src/transform.rs",
    "ted/src/config/isakmp.rs",
    "ted/src/config/remote_access.rs",
    "ted/src/remote_access/users.rs",
    "pki/src/key.rs",
];

/// Substrings (lower case) that make a comparison's context suspect.
const SENSITIVE: [&str; 14] = [
    "icv", "tag", "mac", "hash", "digest", "key", "psk", "secret", "skeyid", "keymat", "salt",
    "private", "expose", "nonce",
];

/// Reviewed comparisons: (file, a substring of the normalized context,
/// why it is not a secret comparison).
const REVIEWED: &[(&str, &str, &str)] = &[
    // `crypto keyring` (issue 22 follow-up).
    (
        "ted/src/config/ios/parse.rs",
        "Self::Keyring(_) => matches!(kw.as_str(),",
        "IOS sub-mode keywords (`kw == \"mode\"` and the like), not a key",
    ),
    (
        "ted/src/config/isakmp.rs",
        "self.keys.iter_mut().find(|k| k.peer == entry.peer)",
        "a key's peer (address or host name), public",
    ),
    (
        "ted/src/config/isakmp.rs",
        "self.keys.iter().position(|k| &k.peer == peer)",
        "a key's peer (address or host name), public",
    ),
    // IOS keyword abbreviations (issue 22): configuration keywords, public.
    (
        "ted/src/config/ios/keywords.rs",
        "offered .iter() .all(|&(other, _)| other == keyword || !other.starts_with(prefix))",
        "IOS configuration keywords, public",
    ),
    (
        "ted/src/config/ios/keywords.rs",
        "if found.iter().all(|f| f.len == f.keyword.len())",
        "lengths of IOS configuration keywords, public",
    ),
    (
        "ted/src/config/ios/keywords.rs",
        "else if g == Grammar::CertificateChain && found.first().is_some_and(|f| f.keyword == )",
        "an IOS configuration keyword, public",
    ),
    // Certificate authentication (issue 14): the peer's certificate key's
    // algorithm against the negotiated method's, both public.
    (
        "ike-sm/src/exchange/certauth.rs",
        "if key.algorithm() != alg",
        "a public key's algorithm against the negotiated method, public",
    ),
    // IKEv1 fragmentation (issue 14 groundwork): sizes, counts and payload
    // types, all public.
    (
        "ike-sm/src/fragment.rs",
        "let must_complete = !r.messages.contains_key(&key)",
        "fragment counts and sizes against the reassembly limits, public",
    ),
    (
        "isakmp-wire/src/fragment.rs",
        "h.next_payload() == PayloadType::FRAGMENT",
        "a payload type, public",
    ),
    // Remote access (issue 13).
    (
        "ted/src/config/ios/parse.rs",
        "line.keyword_at(2).as_deref() == Some(",
        "a configuration keyword (`ip local pool`), not a secret",
    ),
    (
        "ted/src/config/ios/parse.rs",
        "line.keyword_at(4).as_deref() != Some(",
        "a configuration keyword (`aaa ... local`), not a secret",
    ),
    (
        "ted/src/gateway/show.rs",
        "*a == t.peer",
        "peer addresses, public",
    ),
    (
        "ted/src/remote_access/users.rs",
        "if algorithm != ",
        "the PHC algorithm name and version of a stored hash, public parameters",
    ),
    // ike-sm NAT-T: NAT-D hashes are public values (sent in clear) and are
    // compared with HashValue::verify anyway.
    (
        "ike-sm/src/exchange/nat.rs",
        "if *numbering == want",
        "payload numbering, public",
    ),
    (
        "ike-sm/src/exchange/nat.rs",
        "h.len() != expected",
        "lengths are public",
    ),
    (
        "ike-sm/src/exchange/nat.rs",
        "mode == NatTMode::Forced",
        "a configuration enum; the hash goes through verify",
    ),
    (
        "ike-sm/src/config.rs",
        "PskScope::Identity(i) => i == identity",
        "identities are public (sent in the ID payload)",
    ),
    // ike-pki: signatures and public keys are public; no secret is
    // compared (private keys are only used to sign).
    (
        "pki/src/key.rs",
        "if signature.len() != expected",
        "a received signature's length against the key's, both public",
    ),
    // ike-sm crypto
    (
        "ike-sm/src/crypto/cipher.rs",
        "Padding::Zeros if rem == 0",
        "padding length arithmetic",
    ),
    (
        "ike-sm/src/crypto/cipher.rs",
        "if key.len() != alg.key_len()",
        "lengths are public",
    ),
    (
        "ike-sm/src/crypto/dh.rs",
        "if base.len() != Uint::<L>::BYTES || exp.len() != Uint::<L>::BYTES",
        "lengths are public",
    ),
    (
        "ike-sm/src/crypto/dh.rs",
        "if peer_public.len() != group.prime_len()",
        "lengths are public",
    ),
    (
        "ike-sm/src/crypto/dh.rs",
        "if v.len() != Uint::<L>::BYTES",
        "lengths are public",
    ),
    (
        "ike-sm/src/crypto/secret.rs",
        "a.len() == b.len() && bool::from(a.ct_eq(b))",
        "lengths are public; contents through subtle",
    ),
    (
        "ike-sm/src/crypto/secret.rs",
        "self.len == 0",
        "is_empty: a length",
    ),
    // esp
    (
        "esp/src/cipher.rs",
        "if iv.len() != block_len",
        "lengths are public",
    ),
    (
        "esp/src/params.rs",
        "if self.encryption.is_aead() && self.integrity != Integrity::None",
        "algorithm identifiers",
    ),
    (
        "esp/src/params.rs",
        "if !self.encryption.is_aead() && self.integrity == Integrity::None",
        "algorithm identifiers",
    ),
    (
        "esp/src/params.rs",
        "if self.encryption == Encryption::Null",
        "algorithm identifiers",
    ),
    (
        "esp/src/params.rs",
        "if enc_len != self.encryption.key_len()",
        "lengths are public",
    ),
    (
        "esp/src/params.rs",
        "if auth_len != self.integrity.key_len()",
        "lengths are public",
    ),
    (
        "esp/src/params.rs",
        "(w == 0 || w > MAX_REPLAY_WINDOW)",
        "replay window size",
    ),
    (
        "esp/src/transform.rs",
        "if ek.len() != encryption.key_len()",
        "lengths are public",
    ),
    (
        "esp/src/transform.rs",
        "if ak.len() != integrity.key_len()",
        "lengths are public",
    ),
    (
        "esp/src/transform.rs",
        "self.encryption != Encryption::Null",
        "algorithm identifiers",
    ),
    (
        "esp/src/transform.rs",
        "if self.integrity != Integrity::None",
        "algorithm identifiers",
    ),
    (
        "esp/src/selector.rs",
        "p != key.protocol",
        "a packet's protocol number (`key` is the flow key)",
    ),
    // ted
    (
        "ted/src/config/isakmp.rs",
        "u32::from(peer) & u32::from(mask) == u32::from(address) & u32::from(mask)",
        "peer addresses",
    ),
    (
        "ted/src/config/check.rs",
        "policy.authentication == IsakmpAuthentication::PreShare && no_keys",
        "an authentication method",
    ),
    (
        "ted/src/config/ios/parse.rs",
        "line.keyword_at(3).as_deref() == Some(",
        "an IOS keyword, not a key",
    ),
    (
        "ted/src/config/ios/parse.rs",
        "if line.first_keyword().as_deref() == Some(",
        "an IOS keyword, not a key",
    ),
    (
        "ted/src/config/remote_access.rs",
        "self.xauth_timeout == Self::DEFAULT_XAUTH_TIMEOUT",
        "a timeout in seconds",
    ),
    (
        "ted/src/config/remote_access.rs",
        "p.ranges.retain(|r| *r != range)",
        "address pool ranges",
    ),
    (
        "ted/src/config/remote_access.rs",
        "let removed = p.ranges.len() != before",
        "a count of pool ranges",
    ),
    (
        "ted/src/config/remote_access.rs",
        "rule.action() == Action::Permit",
        "an ACL action (split-tunnel networks)",
    ),
    (
        "ted/src/remote_access/users.rs",
        "name.len() <= UserDb::MAX_NAME_LEN",
        "a user name's length and characters; names are not secret",
    ),
    (
        "ted/src/config/ios/render.rs",
        "if p.hash != IsakmpPolicy::DEFAULT_HASH",
        "a hash algorithm identifier",
    ),
    (
        "ted/src/config/ipsec.rs",
        ".find(|&&(_, t)| t == base)",
        "transform keywords",
    ),
    (
        "ted/src/config/ipsec.rs",
        "if *size != AesKeySize::Aes128",
        "a key size",
    ),
    (
        "ike-sm/src/config.rs",
        "PskScope::Identity(i) if i == id",
        "a PSK looked up by the peer's identity, which is public",
    ),
    (
        "ike-sm/src/decrypt.rs",
        "out.exchange == ExchangeType::AGGRESSIVE && sender == Sender::Responder",
        "exchange type and sender, public header facts",
    ),
    (
        "ike-sm/src/decrypt.rs",
        "out.exchange == ExchangeType::AGGRESSIVE && sender == Sender::Initiator",
        "exchange type and sender, public header facts",
    ),
    (
        "ike-sm/src/endpoint.rs",
        "soft_due && (role == Role::Initiator",
        "the SA's role (rekey is a word match)",
    ),
    (
        "ike-sm/src/endpoint.rs",
        "let rekeys = s.role == Role::Initiator",
        "the SA's role (rekey is a word match)",
    ),
    (
        "ike-sm/src/entropy.rs",
        "purpose == Purpose::DhPrivate",
        "which kind of random value is asked for, not the value",
    ),
    (
        "ike-sm/src/exchange/phase1.rs",
        "let rekeys = sa.role == Role::Initiator",
        "the SA's role (rekey is a word match)",
    ),
    (
        "ike-sm/src/exchange/quick.rs",
        "let rekeys = record.role == Role::Initiator",
        "the SA's role (rekey is a word match)",
    ),
    (
        "ike-sm/src/message.rs",
        "first.payload_type() != PayloadType::HASH",
        "a payload type code",
    ),
    (
        "ike-sm/src/proposal.rs",
        "t.id != KEY_IKE",
        "a transform ID code",
    ),
    (
        "ike-sm/src/proposal.rs",
        "o.hash != p.hash",
        "the negotiated hash algorithm, not a hash value",
    ),
    (
        "ted/src/discovery/mod.rs",
        "h.responder_cookie() == [0",
        "a zero responder cookie marks a probe; cookies are public",
    ),
    (
        "ted/src/gateway/translate.rs",
        "t.integrity == EspIntegrity::None",
        "an integrity algorithm code",
    ),
];

/// Types holding a secret or an authenticator; a derived `PartialEq` over
/// one of them is only as good as that type's own `PartialEq`.
const SECRET_TYPES: [&str; 7] = [
    "SecretBytes",
    "SecretText",
    "PresharedKey",
    "HashValue",
    "Keys",
    "Zeroizing",
    "Phase1Keys",
];

/// Types that derive `PartialEq` over secret types, and why that is fine.
const DERIVED_OK: &[(&str, &str, &str)] = &[
    (
        "esp/src/params.rs",
        "Keys",
        "both fields are SecretBytes, whose PartialEq is constant time",
    ),
    (
        "ike-sm/src/event.rs",
        "SaKeys",
        "the keys are SecretBytes, whose PartialEq is constant time; the SPI is public",
    ),
    (
        "ted/src/config/isakmp.rs",
        "PskEntry",
        "the key is a PresharedKey, whose PartialEq is constant time",
    ),
    (
        "ted/src/config/remote_access.rs",
        "ClientGroup",
        "the group key is a PresharedKey, whose PartialEq is constant time",
    ),
    (
        "ted/src/gateway/options.rs",
        "ClientOptions",
        "the group key is a PresharedKey, whose PartialEq is constant time",
    ),
    (
        "ted/src/config/remote_access.rs",
        "Credential",
        "every variant holds a SecretText, whose PartialEq is constant time",
    ),
];

/// Each secret type's hand-written `PartialEq` (file, type): its body must
/// call `ct_eq`.
const CT_PARTIAL_EQ: &[(&str, &str)] = &[
    ("ike-sm/src/crypto/secret.rs", "HashValue"),
    ("esp/src/secret.rs", "SecretBytes"),
    ("ted/src/config/isakmp.rs", "PresharedKey"),
    ("ted/src/config/remote_access.rs", "SecretText"),
];

/// Verification sites that must use `subtle`: (file, fn or marker, text
/// that must appear in it).
const VERIFIERS: &[(&str, &str, &str)] = &[
    // RFC 4303 s.3.4.4: the ICV of every inbound ESP packet.
    ("esp/src/transform.rs", "fn open(", "expected.ct_eq(icv)"),
    // RFC 2409 HASH_I/HASH_R/HASH(1..3): every received HASH payload.
    (
        "ike-sm/src/crypto/secret.rs",
        "fn verify(",
        "ct_eq(self.as_bytes(), received)",
    ),
    ("ike-sm/src/crypto/secret.rs", "pub fn ct_eq(", "a.ct_eq(b)"),
    // DES weak keys and degenerate 3DES keys.
    // (esp/src/cipher.rs serves both the ESP transforms and ike-sm's
    // ISAKMP ciphers.)
    ("esp/src/cipher.rs", "fn is_weak_des_key(", ".ct_eq("),
    // XAUTH passwords: argon2's verifier recomputes the hash and compares
    // the outputs with subtle (phc::Output's PartialEq).
    (
        "ted/src/remote_access/users.rs",
        "pub fn verify(",
        ".verify_password(password, hash)",
    ),
    (
        "esp/src/cipher.rs",
        "fn is_degenerate_triple_des_key(",
        "e1.ct_eq(",
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_some_and(|n| n != "fuzzing.rs")
        {
            out.push(path);
        }
    }
}

/// The library part of a source file: up to its unit-test module.
fn library_part(src: &str) -> &str {
    let mut offset = 0;
    let mut lines = src.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]"
            && lines
                .peek()
                .is_some_and(|next| next.trim_start().starts_with("mod tests"))
        {
            return &src[..offset];
        }
        offset += line.len();
    }
    src
}

/// The source with comments, string literals and character literals
/// replaced by spaces (newlines kept), so that only code is scanned.
fn blank_non_code(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        let rest = &b[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&c| c == b'\n')
                .map_or(b.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let end = find(b, i + 2, b"*/").map_or(b.len(), |p| p + 2);
            blank(&mut out, i, end);
            i = end;
        } else if let Some(open) = raw_string_open(b, i) {
            let hashes = open - 2 - usize::from(b[i] == b'b');
            let mut close = vec![b'"'];
            close.extend(std::iter::repeat_n(b'#', hashes));
            let end = find(b, i + open, &close).map_or(b.len(), |p| p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            blank(&mut out, i, end);
            i = end;
        } else if b[i] == b'\'' {
            // A character literal ('x', '\n', '\x7f', '\u{..}'), not a lifetime.
            let len = if rest.get(1) == Some(&b'\\') {
                rest.iter().skip(2).position(|&c| c == b'\'').map(|p| p + 3)
            } else if rest.get(2) == Some(&b'\'') {
                Some(3)
            } else {
                None
            };
            match len {
                Some(n) if n <= 12 => {
                    blank(&mut out, i, i + n);
                    i += n;
                }
                _ => i += 1,
            }
        } else {
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

fn find(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

/// `r"`, `r#"`, `br"`, ... at `i` (not inside an identifier): the length of
/// the opening.
fn raw_string_open(b: &[u8], i: usize) -> Option<usize> {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_') {
        return None;
    }
    let mut j = i;
    if b.get(j) == Some(&b'b') {
        j += 1;
    }
    if b.get(j) != Some(&b'r') {
        return None;
    }
    j += 1;
    while b.get(j) == Some(&b'#') {
        j += 1;
    }
    (b.get(j) == Some(&b'"')).then_some(j + 1 - i)
}

struct Comparison {
    file: String,
    line: usize,
    context: String,
}

fn comparisons(file: &str, code: &str) -> Vec<Comparison> {
    let b = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        let two = &b[i..i + 2];
        let len = if two == b"==" || (two == b"!=" && b.get(i + 2) != Some(&b'=')) {
            2
        } else if b[i..].starts_with(b".eq(") || b[i..].starts_with(b".ne(") {
            4
        } else {
            0
        };
        if len == 0 {
            i += 1;
            continue;
        }
        let is_delim = |c: &u8| matches!(c, b';' | b'{' | b'}');
        let start = b[..i].iter().rposition(is_delim).map_or(0, |p| p + 1);
        let end = b[i..].iter().position(is_delim).map_or(b.len(), |p| p + i);
        let context = code[start..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let line = code[..i].matches('\n').count() + 1;
        out.push(Comparison {
            file: file.to_owned(),
            line,
            context,
        });
        i += len;
    }
    out
}

struct Source {
    file: String,
    code: String,
}

fn sources() -> Vec<Source> {
    let root = root();
    let mut files = Vec::new();
    for dir in CRATES {
        rust_files(&root.join(dir), &mut files);
    }
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            Source {
                file,
                code: blank_non_code(library_part(&text)),
            }
        })
        .collect()
}

#[test]
fn the_scanner_sees_what_it_should() {
    // Comments and strings are not code; comparisons in code are found
    // with their context.
    let code = blank_non_code(
        "let a = \"x == y\"; // icv == tag\nif mac.len() != 4 { }\n/* key == k */ let c = '=';",
    );
    let found = comparisons("f.rs", &code);
    assert_eq!(
        found.len(),
        1,
        "{:?}",
        found.iter().map(|c| &c.context).collect::<Vec<_>>()
    );
    assert_eq!(found[0].context, "if mac.len() != 4");
    assert_eq!(found[0].line, 2);
    // A comparison split over lines keeps its whole context.
    let found = comparisons("f.rs", "if expected_icv\n    == received {");
    assert_eq!(found[0].context, "if expected_icv == received");
    // The unit-test module is not library code.
    assert_eq!(
        library_part("fn a() {}\n#[cfg(test)]\nmod tests {}\n"),
        "fn a() {}\n"
    );
    // The scan covers the crates (a sanity floor, not a target).
    let n: usize = sources()
        .iter()
        .map(|s| comparisons(&s.file, &s.code).len())
        .sum();
    assert!(
        n > 100,
        "only {n} comparisons found: is the scanner broken?"
    );
}

#[test]
fn every_secret_looking_comparison_is_reviewed() {
    let mut used = BTreeSet::new();
    let mut unreviewed = String::new();
    let secret_files: BTreeSet<&str> = SECRET_FILES.into_iter().collect();
    for src in sources() {
        for c in comparisons(&src.file, &src.code) {
            let lower = c.context.to_lowercase();
            let suspect = secret_files.contains(c.file.as_str())
                || SENSITIVE.iter().any(|w| lower.contains(w));
            if !suspect {
                continue;
            }
            match REVIEWED
                .iter()
                .position(|(f, s, _)| *f == c.file && c.context.contains(s))
            {
                Some(i) => {
                    used.insert(i);
                }
                None => {
                    writeln!(unreviewed, "  {}:{}: `{}`", c.file, c.line, c.context).unwrap();
                }
            }
        }
    }
    assert!(
        unreviewed.is_empty(),
        "comparisons that may involve a secret, MAC or hash and are not reviewed.\n\
         Use subtle (`ct_eq`) if they compare secret bytes; otherwise add them to\n\
         REVIEWED in tests/tests/secrets_ct.rs with the reason:\n{unreviewed}"
    );
    let stale: Vec<_> = REVIEWED
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, (f, s, _))| format!("{f}: `{s}`"))
        .collect();
    assert!(
        stale.is_empty(),
        "REVIEWED entries that match nothing: {stale:#?}"
    );
}

/// The item (struct or enum) that follows a `#[derive(..)]` at `at`: its
/// name and its text up to the end of its body.
fn item_after(code: &str, at: usize) -> Option<(String, &str)> {
    let rest = &code[at..];
    let kw = ["struct ", "enum "]
        .iter()
        .filter_map(|k| rest.find(k).map(|p| (p, k.len())))
        .min()?;
    let name_start = kw.0 + kw.1;
    let name: String = rest[name_start..]
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    let body = &rest[name_start..];
    let end = match (body.find('{'), body.find(';')) {
        (Some(open), semi) if semi.is_none_or(|s| open < s) => {
            let mut depth = 0usize;
            let mut end = body.len();
            for (i, ch) in body[open..].char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            end
        }
        (_, Some(semi)) => semi,
        _ => body.len(),
    };
    Some((name, &body[..end]))
}

#[test]
fn derived_equality_over_secrets_is_reviewed() {
    let mut used = BTreeSet::new();
    let mut unreviewed = Vec::new();
    for src in sources() {
        let code = &src.code;
        let mut from = 0;
        while let Some(p) = code[from..].find("#[derive(") {
            let at = from + p;
            from = at + 1;
            let attr_end = code[at..].find(")]").map_or(code.len(), |e| at + e);
            if !code[at..attr_end]
                .split([',', '(', ' '])
                .any(|t| t.trim() == "PartialEq")
            {
                continue;
            }
            let Some((name, body)) = item_after(code, attr_end) else {
                continue;
            };
            let holds_secret = SECRET_TYPES.iter().any(|t| {
                body.split(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .any(|word| word == *t)
            });
            if !holds_secret {
                continue;
            }
            match DERIVED_OK
                .iter()
                .position(|(f, n, _)| *f == src.file && *n == name)
            {
                Some(i) => {
                    used.insert(i);
                }
                None => unreviewed.push(format!("{}: {name}", src.file)),
            }
        }
    }
    assert!(
        unreviewed.is_empty(),
        "types that derive PartialEq over a secret or hash type; write the impl with \
         subtle, or add them to DERIVED_OK with the reason: {unreviewed:#?}"
    );
    assert_eq!(used.len(), DERIVED_OK.len(), "stale DERIVED_OK entries");
}

/// The text of the `impl ... for Type` block or `fn` starting at `marker`.
fn block_at<'a>(code: &'a str, marker: &str) -> Option<&'a str> {
    let start = code.find(marker)?;
    let open = start + code[start..].find('{')?;
    let mut depth = 0usize;
    for (i, ch) in code[open..].char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&code[start..=open + i]);
                }
            }
            _ => {}
        }
    }
    None
}

#[test]
fn secret_types_compare_in_constant_time() {
    let all = sources();
    let code_of = |file: &str| &all.iter().find(|s| s.file == file).unwrap().code;
    for (file, ty) in CT_PARTIAL_EQ {
        let code = code_of(file);
        let block = block_at(code, &format!("impl PartialEq for {ty} "))
            .unwrap_or_else(|| panic!("{file}: no hand-written `impl PartialEq for {ty}`"));
        assert!(
            block.contains("ct_eq"),
            "{file}: {ty}'s PartialEq does not use ct_eq:\n{block}"
        );
        // And it is not also derived.
        let derived = code.match_indices("#[derive(").any(|(at, _)| {
            let end = code[at..].find(")]").map_or(code.len(), |e| at + e);
            code[at..end].contains("PartialEq")
                && item_after(code, end).is_some_and(|(name, _)| name == *ty)
        });
        assert!(!derived, "{file}: {ty} derives PartialEq");
    }
}

#[test]
fn authenticators_are_verified_with_subtle() {
    let all = sources();
    for (file, marker, needle) in VERIFIERS {
        let code = &all.iter().find(|s| s.file == *file).unwrap().code;
        let block =
            block_at(code, marker).unwrap_or_else(|| panic!("{file}: `{marker}` not found"));
        assert!(
            block.contains(needle),
            "{file}: `{marker}` no longer contains `{needle}`:\n{block}"
        );
    }
}
