//! The Security Parameter Index.

use core::fmt;

/// A Security Parameter Index (RFC 4303 s.2.1).
///
/// Values 1..=255 are reserved by IANA and 0 is for local use only; an SA
/// refuses them (see [`SaParams::validate`](crate::SaParams::validate)).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spi(pub u32);

impl fmt::Debug for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Spi(0x{:08x})", self.0)
    }
}

impl fmt::Display for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08x}", self.0)
    }
}
