//! The peer's command line (arbitrary argument vectors) and its control socket's line reader (arbitrary bytes in arbitrary pieces).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| netsim::fuzzing::peer::cli(data));
