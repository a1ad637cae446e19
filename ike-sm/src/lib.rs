//! IKEv1 as a Sans-IO state machine.
//!
//! This crate will hold policies and proposal matching, Diffie-Hellman, the
//! RFC 2409 key derivation, the encryption of ISAKMP payloads, and the Main,
//! Aggressive, Quick and Informational exchanges, driven by the caller's
//! sockets and clock. It is not written yet.
#![forbid(unsafe_code)]
