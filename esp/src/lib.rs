//! The ESP transform engine.
//!
//! This crate will hold one ESP security association (RFC 4303):
//! encapsulation and decapsulation in tunnel and transport mode, the
//! ciphers and integrity algorithms, the anti-replay window, lifetimes and
//! counters, and an SA table keyed by SPI. It is not written yet.
#![forbid(unsafe_code)]
