#![no_main]
//! An XAUTH client and server driven by an operation sequence (deliver, drop, mutate, time, credentials, verdicts, configurations, Attribute payloads sealed with the SA's keys, ...).
libfuzzer_sys::fuzz_target!(|data: &[u8]| drop(ike_sm::fuzzing::remote_access(std::time::Instant::now(), data)));
