//! ISAKMP wire codec.
//!
//! Bytes to and from ISAKMP messages: the RFC 2408 header and payloads, the
//! RFC 2407 IPsec DOI values and attributes, the RFC 2409 IKE attributes, the
//! RFC 3947 NAT-T payloads, and the Cisco TED probe and response payloads.
//! No cryptography and no state live here.
#![no_std]
#![forbid(unsafe_code)]
