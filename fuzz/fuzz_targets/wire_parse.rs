#![no_main]
//! Parse arbitrary bytes every way isakmp-wire can: must never panic.
libfuzzer_sys::fuzz_target!(|data: &[u8]| isakmp_wire::fuzzing::parse(data));
