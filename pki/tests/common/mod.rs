//! Shared by the ike-pki tests: the files of `tests/data` (made by
//! `tests/data/make.sh` with OpenSSL).
#![allow(
    dead_code,
    unreachable_pub,
    clippy::panic,
    clippy::cast_possible_truncation
)]

use std::path::PathBuf;

use ike_pki::Certificate;

/// 2020-01-01T00:00:00Z, the notBefore of most test certificates.
pub const START: u64 = 1_577_836_800;
/// 2099-12-31T23:59:59Z, their notAfter.
pub const END: u64 = 4_102_444_799;
/// 2021-01-01T00:00:00Z, the notAfter of `expired`.
pub const EXPIRED_END: u64 = 1_609_459_200;
/// 2090-01-01T00:00:00Z, the notBefore of `notyet`.
pub const NOTYET_START: u64 = 3_786_912_000;
/// A time within every valid certificate: 2030-01-01T00:00:00Z.
pub const NOW: u64 = 1_893_456_000;

pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn text(name: &str) -> String {
    std::fs::read_to_string(path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

pub fn cert(name: &str) -> Certificate {
    Certificate::from_der(&bytes(&format!("{name}.der")))
        .unwrap_or_else(|e| panic!("{name}.der: {e}"))
}

/// A line `name value` of a facts file that make.sh wrote from OpenSSL's
/// output (`serials.txt`, `subjects.txt`).
pub fn fact(file: &str, name: &str) -> String {
    text(file)
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once([' ', '\t'])?;
            (k == name).then(|| v.to_owned())
        })
        .unwrap_or_else(|| panic!("{file}: no {name}"))
}

/// An ECDSA DER signature (SEQUENCE of two INTEGERs) as `r || s`, each
/// left-padded to `field` bytes: written here, independent of the crate.
pub fn ecdsa_der_to_raw(der: &[u8], field: usize) -> Vec<u8> {
    fn tlv(d: &[u8]) -> (usize, &[u8]) {
        let (hl, len) = if d[1] < 0x80 {
            (2, d[1] as usize)
        } else {
            let n = (d[1] & 0x7f) as usize;
            (
                2 + n,
                d[2..2 + n]
                    .iter()
                    .fold(0usize, |a, b| a * 256 + *b as usize),
            )
        };
        (hl + len, &d[hl..hl + len])
    }
    assert_eq!(der[0], 0x30);
    let (_, seq) = tlv(der);
    let (rl, r) = tlv(seq);
    let (_, s) = tlv(&seq[rl..]);
    let mut out = Vec::new();
    for int in [r, s] {
        let int: Vec<u8> = int.iter().copied().skip_while(|b| *b == 0).collect();
        out.extend(std::iter::repeat_n(0, field - int.len()));
        out.extend(int);
    }
    out
}

/// `r || s` as a DER ECDSA signature, for OpenSSL to check.
pub fn ecdsa_raw_to_der(raw: &[u8]) -> Vec<u8> {
    fn int(v: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
        if v.is_empty() || v[0] & 0x80 != 0 {
            v.insert(0, 0);
        }
        let mut out = vec![0x02];
        out.extend(len(v.len()));
        out.extend(v);
        out
    }
    fn len(n: usize) -> Vec<u8> {
        if n < 0x80 {
            vec![n as u8]
        } else if n < 0x100 {
            vec![0x81, n as u8]
        } else {
            vec![0x82, (n >> 8) as u8, n as u8]
        }
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30];
    out.extend(len(body.len()));
    out.extend(body);
    out
}
