//! `ikev1-kdf`: the RFC 2409 s.5 phase-1 key derivation from text records.
//!
//! Reads records in the format of `vectors/ikev1_kdf_sha1.txt` on stdin and
//! prints, for each `[section]`, its `skeyid`, `skeyid_d`, `skeyid_a` and
//! `skeyid_e` as `key = hex` lines (a blank line between sections):
//!
//! ```text
//! cargo run -p ike-sm --example ikev1-kdf < vectors/ikev1_kdf_sha1.txt
//! ```
//!
//! Input: `[section]` headers, `key = value` lines, `#` comments, hex
//! without separators. Fields read (others are ignored):
//!
//! - `hash`: `MD5`, `SHA-1` (or `SHA1`), `SHA2-256`, `SHA2-384`, `SHA2-512`;
//! - `auth`: `psk` (pre-shared key) or `dsa`/`rsa`/`sig` (signatures);
//!   without it, a record with `psk` is pre-shared and any other is a
//!   signature record;
//! - `ni`, `nr`: the nonce payload bodies; `psk`: the key, in hex;
//! - `gxy`: the shared secret, left-padded to the prime's length;
//! - `cky_i`, `cky_r`: the cookies (8 bytes each).
//!
//! A pre-shared record without `gxy`/cookies prints `skeyid` only. A
//! malformed record stops the run with a message naming its line and field,
//! and exit status 1.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::process::ExitCode;

use ike_sm::crypto::{HashAlgorithm, Skeyid};

/// Why a record could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum KdfToolError {
    /// A line that is neither a header, a comment nor `key = value`.
    #[error("line {line}: expected `[section]` or `key = value`")]
    Syntax {
        /// 1-based line number.
        line: usize,
    },
    /// A field before the first section header.
    #[error("line {line}: field outside any [section]")]
    NoSection {
        /// 1-based line number.
        line: usize,
    },
    /// A required field is absent.
    #[error("[{section}]: missing `{field}`")]
    Missing {
        /// The section.
        section: String,
        /// The field.
        field: &'static str,
    },
    /// A field that is not valid hex (or has the wrong length).
    #[error("line {line}: `{field}` {problem}")]
    BadValue {
        /// 1-based line number.
        line: usize,
        /// The field.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// One record: its name and its fields with their line numbers.
struct Record {
    name: String,
    fields: Vec<(String, String, usize)>,
}

impl Record {
    fn field(&self, key: &str) -> Option<(&str, usize)> {
        self.fields
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, line)| (v.as_str(), *line))
    }

    fn hex(&self, key: &'static str) -> Result<Option<Vec<u8>>, KdfToolError> {
        let Some((value, line)) = self.field(key) else {
            return Ok(None);
        };
        decode_hex(value)
            .map(Some)
            .ok_or_else(|| KdfToolError::BadValue {
                line,
                field: key.to_string(),
                problem: "is not hex".to_string(),
            })
    }

    fn required_hex(&self, key: &'static str) -> Result<Vec<u8>, KdfToolError> {
        self.hex(key)?.ok_or_else(|| KdfToolError::Missing {
            section: self.name.clone(),
            field: key,
        })
    }

    fn cookie(&self, key: &'static str) -> Result<Option<[u8; 8]>, KdfToolError> {
        let Some(v) = self.hex(key)? else {
            return Ok(None);
        };
        let line = self.field(key).map_or(0, |(_, l)| l);
        <[u8; 8]>::try_from(v.as_slice())
            .map(Some)
            .map_err(|_| KdfToolError::BadValue {
                line,
                field: key.to_string(),
                problem: format!("must be 8 bytes, has {}", v.len()),
            })
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

fn encode_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn parse(input: &str) -> Result<Vec<Record>, KdfToolError> {
    let mut records: Vec<Record> = Vec::new();
    for (i, raw) in input.lines().enumerate() {
        let line = i + 1;
        let text = raw.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        if let Some(name) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            records.push(Record {
                name: name.to_string(),
                fields: Vec::new(),
            });
            continue;
        }
        let (k, v) = text.split_once('=').ok_or(KdfToolError::Syntax { line })?;
        let record = records.last_mut().ok_or(KdfToolError::NoSection { line })?;
        record
            .fields
            .push((k.trim().to_string(), v.trim().to_string(), line));
    }
    Ok(records)
}

fn hash_algorithm(record: &Record) -> Result<HashAlgorithm, KdfToolError> {
    let (name, line) = record.field("hash").ok_or_else(|| KdfToolError::Missing {
        section: record.name.clone(),
        field: "hash",
    })?;
    match name.to_ascii_uppercase().as_str() {
        "MD5" => Ok(HashAlgorithm::Md5),
        "SHA-1" | "SHA1" | "SHA" => Ok(HashAlgorithm::Sha1),
        "SHA2-256" | "SHA-256" | "SHA256" => Ok(HashAlgorithm::Sha2_256),
        "SHA2-384" | "SHA-384" | "SHA384" => Ok(HashAlgorithm::Sha2_384),
        "SHA2-512" | "SHA-512" | "SHA512" => Ok(HashAlgorithm::Sha2_512),
        _ => Err(KdfToolError::BadValue {
            line,
            field: "hash".to_string(),
            problem: format!("names no supported hash: {name}"),
        }),
    }
}

/// Derives every record of `input`; returns the text to print.
///
/// # Errors
/// The first malformed record or line, as a [`KdfToolError`].
pub fn run(input: &str) -> Result<String, KdfToolError> {
    let mut out = String::new();
    for record in parse(input)? {
        let hash = hash_algorithm(&record)?;
        let ni = record.required_hex("ni")?;
        let nr = record.required_hex("nr")?;
        let psk = record.hex("psk")?;
        let gxy = record.hex("gxy")?;
        let pre_shared = match record.field("auth") {
            Some((a, _)) if a.eq_ignore_ascii_case("psk") => true,
            Some((a, line)) => {
                if !["dsa", "rsa", "sig", "signature"]
                    .iter()
                    .any(|s| a.eq_ignore_ascii_case(s))
                {
                    return Err(KdfToolError::BadValue {
                        line,
                        field: "auth".to_string(),
                        problem: format!("is not psk, dsa, rsa or sig: {a}"),
                    });
                }
                false
            }
            None => psk.is_some(),
        };
        let skeyid = if pre_shared {
            let psk = psk.ok_or_else(|| KdfToolError::Missing {
                section: record.name.clone(),
                field: "psk",
            })?;
            Skeyid::pre_shared_key(hash, &psk, &ni, &nr)
        } else {
            let gxy = gxy.as_deref().ok_or_else(|| KdfToolError::Missing {
                section: record.name.clone(),
                field: "gxy",
            })?;
            Skeyid::signature(hash, &ni, &nr, gxy)
        };

        if !out.is_empty() {
            out.push('\n');
        }
        let _ = writeln!(out, "[{}]", record.name);
        let _ = writeln!(out, "skeyid = {}", encode_hex(skeyid.value().expose()));
        let (cky_i, cky_r) = (record.cookie("cky_i")?, record.cookie("cky_r")?);
        match (gxy, cky_i, cky_r) {
            (Some(gxy), Some(cky_i), Some(cky_r)) => {
                let keys = skeyid.derive(&gxy, &cky_i, &cky_r);
                let _ = writeln!(out, "skeyid_d = {}", encode_hex(keys.skeyid_d().expose()));
                let _ = writeln!(out, "skeyid_a = {}", encode_hex(keys.skeyid_a().expose()));
                let _ = writeln!(out, "skeyid_e = {}", encode_hex(keys.skeyid_e().expose()));
            }
            // SKEYID alone is all a record without g^xy or cookies defines.
            (None, None, None) => {}
            (gxy, cky_i, _) => {
                return Err(KdfToolError::Missing {
                    section: record.name.clone(),
                    field: if gxy.is_none() {
                        "gxy"
                    } else if cky_i.is_none() {
                        "cky_i"
                    } else {
                        "cky_r"
                    },
                });
            }
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        let _ = writeln!(std::io::stderr(), "ikev1-kdf: reading stdin: {e}");
        return ExitCode::FAILURE;
    }
    match run(&input) {
        Ok(text) => match std::io::stdout().write_all(text.as_bytes()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "ikev1-kdf: writing stdout: {e}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "ikev1-kdf: {e}");
            ExitCode::FAILURE
        }
    }
}
