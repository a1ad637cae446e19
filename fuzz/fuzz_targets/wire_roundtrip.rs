#![no_main]
//! parse -> emit -> reparse must give the same message (and the same bytes when well-formed).
libfuzzer_sys::fuzz_target!(|data: &[u8]| isakmp_wire::fuzzing::roundtrip(data));
