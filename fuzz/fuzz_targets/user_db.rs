//! The XAUTH user file reader: no input panics, accepted files keep the
//! format's rules (parse only: no password hash is computed).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    netsim::fuzzing::user_db(data);
});
