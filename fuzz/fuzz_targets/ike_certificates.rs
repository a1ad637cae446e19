#![no_main]
//! Two Endpoints authenticating with ECDSA certificates over fragmented messages, driven by an operation sequence.
libfuzzer_sys::fuzz_target!(|data: &[u8]| drop(ike_sm::fuzzing::certificates(std::time::Instant::now(), data)));
