//! IOS configuration import: parse -> render -> parse gives the same model.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| netsim::fuzzing::ios_roundtrip(data));
