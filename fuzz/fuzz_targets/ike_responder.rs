#![no_main]
//! A responder Endpoint (the seed's fred) fed arbitrary datagrams and timeouts.
libfuzzer_sys::fuzz_target!(|data: &[u8]| drop(ike_sm::fuzzing::responder(std::time::Instant::now(), data)));
