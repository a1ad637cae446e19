//! IOS-style operator views: `show crypto map`, `show crypto isakmp sa`,
//! `show crypto ipsec sa`, `show crypto engine connections active` and
//! `show crypto isakmp policy` (with a line IOS does not print: whether
//! Aggressive Mode is answered), and for remote access `show crypto
//! session` and `show ip local pool`, for certificates `show crypto pki
//! certificates`, in
//! the layouts of IOS 12.2 as the seed document shows them.
//!
//! `show crypto map` renders the policy model ([`Config`](crate::config::Config),
//! derived entries included). The others render plain snapshot structs
//! that the gateway fills from its IKE and ESP state: peers, states,
//! connection IDs, SPIs, counters, lifetimes, transforms. The renderers
//! know nothing of where the values come from.
//!
//! The seed document collapsed IOS's line breaks and indentation; the
//! layouts here restore them from IOS 12.2's output as commonly reproduced
//! (column widths, indentation, blank lines). Every non-blank character
//! of the seed's text is reproduced; the whitespace is this module's
//! reconstruction, and the tests compare the non-whitespace characters
//! with the seed and the full text with transcripts written by hand.

mod crypto_map;
mod engine;
mod ipsec;
mod isakmp;
mod pki;
mod policy;
mod session;

pub use crypto_map::{CryptoMapRuntime, crypto_map, crypto_map_with};
pub use engine::{EngineConnection, engine_algorithm, engine_connections_active};
pub use ipsec::{IpsecCounters, IpsecFlow, IpsecInterface, IpsecSa, ipsec_sa};
pub use isakmp::{IsakmpSaRow, IsakmpState, isakmp_sa};
pub use pki::{PkiCertificateKind, PkiCertificateRow, pki_certificates};
pub use policy::isakmp_policy;
pub use session::{
    PoolRow, SessionFlow, SessionIkeSa, SessionRow, SessionStatus, crypto_session, ip_local_pool,
};
