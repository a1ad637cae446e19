#![no_main]
//! Arbitrary MessageRepr -> emit -> parse must give the repr back whenever emit accepts it.
libfuzzer_sys::fuzz_target!(|data: &[u8]| isakmp_wire::fuzzing::repr_bytes(data));
