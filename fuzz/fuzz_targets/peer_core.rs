//! The peer: two `Core`s (the seed's Daphne and fred) back to back under arbitrary TUN packets, raw ESP input, datagrams, replays, loss, corruption, clock jumps, control lines and shutdown.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| netsim::fuzzing::peer::core(data));
