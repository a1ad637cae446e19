//! Access lists: a rule matches a flow exactly when its mirror matches the reversed flow.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| netsim::fuzzing::acl_mirror(data));
