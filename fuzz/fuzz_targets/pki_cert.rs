#![no_main]
//! Certificates, chains, keys and signatures from arbitrary bytes, validated
//! against the test CA: must never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| ike_pki::fuzzing::cert(data));
