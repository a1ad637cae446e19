#![no_main]
//! Two Endpoints driven by an operation sequence (deliver, drop, mutate, time, delete, ...).
libfuzzer_sys::fuzz_target!(|data: &[u8]| drop(ike_sm::fuzzing::ops(std::time::Instant::now(), data)));
