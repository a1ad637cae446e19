//! TED: an initiator and a responder under arbitrary triggers, datagrams, corruption and time.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| netsim::fuzzing::discovery(data));
