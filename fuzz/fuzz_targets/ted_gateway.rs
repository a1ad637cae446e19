//! The gateway: two routers from the seed's configurations under arbitrary plaintext, loss, duplication, reordering, corruption, forgeries, clock jumps and commands.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| netsim::fuzzing::gateway(data));
