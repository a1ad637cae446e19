//! RFC 2202 HMAC-MD5 and HMAC-SHA-1 known answers through the IKEv1 PRF.
//!
//! Source: `vectors/hmac_rfc2202.txt` (RFC 2202 s.2 and s.3, all 7 cases
//! each; cases 6 and 7 use 80-byte keys, longer than the hash block, so the
//! key-hashing path of HMAC is covered).

// Test helpers outside `#[test]` functions may panic like the tests do.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod kat_common;

use ike_sm::crypto::HashAlgorithm;
use kat_common::{parse, sections_with_prefix};

const VECTORS: &str = include_str!("../../vectors/hmac_rfc2202.txt");

fn check(prefix: &str, alg: HashAlgorithm) -> usize {
    let all = parse(VECTORS);
    let cases = sections_with_prefix(&all, prefix);
    for s in &cases {
        let key = s.hex("key");
        let data = s.hex("data");
        let want = s.hex("digest");
        assert_eq!(
            alg.prf(&key, &[&data]).expose(),
            want.as_slice(),
            "[{}]",
            s.name
        );
        // The PRF takes its input in parts; splitting must not change it.
        let (a, b) = data.split_at(data.len() / 2);
        let h = alg.prf_hash(&key, &[a, b]);
        assert!(h.verify(&want), "[{}] split input", s.name);
        assert!(!h.verify(&want[..want.len() - 1]), "[{}]", s.name);
        assert_eq!(
            &h.as_bytes()[..12],
            s.hex("digest_96").as_slice(),
            "[{}]",
            s.name
        );
    }
    cases.len()
}

#[test]
fn hmac_md5_rfc2202_all_cases() {
    assert_eq!(check("hmac-md5-", HashAlgorithm::Md5), 7);
}

#[test]
fn hmac_sha1_rfc2202_all_cases() {
    assert_eq!(check("hmac-sha1-", HashAlgorithm::Sha1), 7);
}
