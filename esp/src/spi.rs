//! The Security Parameter Index: shared by the ESP engine and the IKE
//! engine that negotiates it (`ike_sm::Spi` is this type).

use core::fmt;

/// A Security Parameter Index (RFC 4303 s.2.1).
///
/// Values 1..=255 are reserved by IANA and 0 is for local use only: an SA
/// refuses them (see [`SaParams::validate`](crate::SaParams::validate)) and
/// the IKE engine never allocates them.
///
/// `Display` shows IOS's form, `0x` and eight upper-case hex digits
/// (`0xF800D61F`), and `Debug` wraps it (`Spi(0xF800D61F)`). `{:x}` and
/// `{:X}` format the number itself, with the usual flags: `{:#010x}` is
/// `0xf800d61f`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Spi(pub u32);

impl Spi {
    /// The SPI in network byte order, as in the ESP header and in ISAKMP
    /// Proposal and Delete payloads.
    #[must_use]
    pub fn to_bytes(self) -> [u8; 4] {
        self.0.to_be_bytes()
    }
}

impl fmt::Debug for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Spi({:#010X})", self.0)
    }
}

impl fmt::Display for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010X}", self.0)
    }
}

impl fmt::LowerHex for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::LowerHex::fmt(&self.0, f)
    }
}

impl fmt::UpperHex for Spi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::UpperHex::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let spi = Spi(0xf800_d61f);
        assert_eq!(spi.to_string(), "0xF800D61F");
        assert_eq!(format!("{spi:?}"), "Spi(0xF800D61F)");
        assert_eq!(format!("{spi:#010x}"), "0xf800d61f");
        assert_eq!(format!("{:#010x}", Spi(0x4242)), "0x00004242");
        assert_eq!(format!("{:X}", Spi(0x4242)), "4242");
        assert_eq!(Spi(0x0102_0304).to_bytes(), [1, 2, 3, 4]);
    }
}
