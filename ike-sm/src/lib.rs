//! IKEv1 as a Sans-IO state machine.
//!
//! This crate will hold policies and proposal matching, Diffie-Hellman, the
//! RFC 2409 key derivation, the encryption of ISAKMP payloads, and the Main,
//! Aggressive, Quick and Informational exchanges, driven by the caller's
//! sockets and clock. The engine is not written yet.
//!
//! [`crypto`] holds the cryptography the exchanges need (RFC 2409 s.5 and
//! Appendix B): the PRFs and hashes, the CBC ciphers, MODP Diffie-Hellman,
//! SKEYID and its derivatives, the authentication hashes, KEYMAT, and the
//! CBC IV chains.
#![forbid(unsafe_code)]

pub mod crypto;
