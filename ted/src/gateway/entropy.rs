//! The gateway's one entropy source, seen as a `rand_core` generator for
//! one purpose, so that TED (cookies) and ESP (CBC IVs) draw from the same
//! injected [`ike_sm::Entropy`] as the IKE engine, and a scripted run (the
//! seed's SPIs and message ID) stays reproducible.

use core::convert::Infallible;

use ike_sm::{Entropy, Purpose};

/// Draws from an [`Entropy`] for one [`Purpose`].
pub(crate) struct EntropyRng<'a> {
    pub(crate) entropy: &'a mut (dyn Entropy + Send),
    pub(crate) purpose: Purpose,
}

impl rand_core::TryRng for EntropyRng<'_> {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.entropy.fill(self.purpose, &mut b);
        Ok(u32::from_be_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.entropy.fill(self.purpose, &mut b);
        Ok(u64::from_be_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.entropy.fill(self.purpose, dst);
        Ok(())
    }
}

// The caller's source is required to be cryptographically secure (see
// `ike_sm::Entropy`); this only forwards to it.
impl rand_core::TryCryptoRng for EntropyRng<'_> {}
