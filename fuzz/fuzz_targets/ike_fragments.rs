#![no_main]
//! A fragment Reassembler fed fragment messages, split messages and clock steps: its bounds always hold.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = ike_sm::fragment::fuzz_reassembler(std::time::Instant::now(), data);
});
