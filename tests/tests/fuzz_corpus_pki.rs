//! Replays the committed corpus of the ike-pki fuzz target
//! (`fuzz/corpus/pki_cert`) through `ike_pki::fuzzing::cert`, the function
//! the target calls, and checks that the named seeds (written by
//! `pki/tests/data/make.sh`) reach what they were made for.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod fuzz_common;
use fuzz_common::{corpus, dir};

#[test]
fn pki_cert_corpus() {
    for (path, bytes) in corpus("pki_cert") {
        let result = std::panic::catch_unwind(|| ike_pki::fuzzing::cert(&bytes));
        assert!(
            result.is_ok(),
            "pki_cert: {} broke an invariant",
            path.display()
        );
    }
}

/// The seeds hold what their names say: the first certificate validates
/// (or is refused for the seed's reason) under the test CA and the
/// signature of the RSA seeds verifies.
#[test]
fn pki_cert_seeds_reach_their_cases() {
    let ca_der = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../pki/tests/data/ca.der"),
    )
    .unwrap();
    let mut store = ike_pki::TrustStore::new();
    store.add_anchor(ike_pki::Certificate::from_der(&ca_der).unwrap());
    let now = 1_893_456_000;
    let read = |name: &str| std::fs::read(dir("pki_cert").join(name)).unwrap();
    // (seed, validates, signature verifies)
    for (seed, expect) in [
        ("seed_rsa2048_direct", Ok(2)),
        ("seed_rsa3072_via_int", Ok(3)),
        ("seed_p256_direct", Ok(2)),
        ("seed_long_chain", Err("chain-too-long")),
        ("seed_loop", Err("chain-too-long")),
    ] {
        let data = read(seed);
        let (ee, chain, hash, sig) = split(&data);
        let ee = ike_pki::Certificate::from_der(ee).unwrap();
        let chain: Vec<_> = chain
            .iter()
            .map(|d| ike_pki::Certificate::from_der(d).unwrap())
            .collect();
        let got = store
            .validate(&ee, &chain, now)
            .map(|p| p.depth)
            .map_err(|e| e.kind());
        assert_eq!(got, expect, "{seed}");
        if seed.starts_with("seed_rsa") {
            ee.public_key().unwrap().verify_ikev1(hash, sig).unwrap();
        }
    }
}

/// A seed's parts: certificate, chain, hash, signature.
type Parts<'a> = (&'a [u8], Vec<&'a [u8]>, &'a [u8], &'a [u8]);

/// The seed layout of `ike_pki::fuzzing`, read here independently.
fn split(data: &[u8]) -> Parts<'_> {
    let mut at = 0;
    let blob = |at: &mut usize| {
        let n = usize::from(u16::from_be_bytes([data[*at], data[*at + 1]]));
        let b = &data[*at + 2..*at + 2 + n];
        *at += 2 + n;
        b
    };
    let ee = blob(&mut at);
    let n = data[at];
    at += 1;
    let chain = (0..n).map(|_| blob(&mut at)).collect();
    let h = usize::from(data[at]);
    let hash = &data[at + 1..at + 1 + h];
    (ee, chain, hash, &data[at + 1 + h..])
}
