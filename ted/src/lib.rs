//! Cisco Tunnel Endpoint Discovery and the IPsec gateway.
//!
//! This crate will hold crypto access lists, transform sets, crypto maps
//! with `dynamic ... discover` entries, the TED probe and response logic,
//! IOS configuration import and `show` rendering, and the Sans-IO `Gateway`
//! that ties discovery to `ike-sm` and `esp`. It is not written yet.
#![forbid(unsafe_code)]
