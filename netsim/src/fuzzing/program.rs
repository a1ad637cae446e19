//! What the fuzz targets that read a program from their input share (the
//! `ted_discovery` and `ted_gateway` bodies): the reader of the program's
//! bytes and the generator the seeded parts draw from.

use std::convert::Infallible;
use std::net::Ipv4Addr;

/// A non-cryptographic generator (SplitMix64): a fuzz target needs
/// reproducibility, not secrecy. Its next draws can be forced to zero, to
/// reach the paths that retry an all-zero cookie.
pub(crate) struct FuzzRng {
    state: u64,
    zeros: u8,
}

impl FuzzRng {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            state: seed,
            zeros: 0,
        }
    }

    /// The next `draws` draws (whatever their length) are all zero.
    pub(crate) fn zero_draws(&mut self, draws: u8) {
        self.zeros = draws;
    }
}

impl rand_core::TryRng for FuzzRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        rand_core::utils::next_word_via_fill(self)
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        if self.zeros > 0 {
            self.zeros -= 1;
            dst.fill(0);
            return Ok(());
        }
        for chunk in dst.chunks_mut(8) {
            self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let bytes = z.to_le_bytes();
            chunk.copy_from_slice(bytes.get(..chunk.len()).unwrap_or(&bytes));
        }
        Ok(())
    }
}

// Only for the fuzz targets: reproducible values are the point.
impl rand_core::TryCryptoRng for FuzzRng {}

/// Reads a program: its bytes in order, numbers big-endian, addresses as
/// indexes into the target's list. A read past the end is `None` (the
/// program stops there).
pub(crate) struct Input<'a> {
    data: &'a [u8],
    addresses: &'static [Ipv4Addr],
}

impl<'a> Input<'a> {
    /// A program over `data` whose addresses are picked from `addresses`.
    pub(crate) fn new(data: &'a [u8], addresses: &'static [Ipv4Addr]) -> Self {
        Self { data, addresses }
    }

    pub(crate) fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.data.split_first()?;
        self.data = rest;
        Some(*first)
    }

    pub(crate) fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes([
            self.byte()?,
            self.byte()?,
            self.byte()?,
            self.byte()?,
        ]))
    }

    /// The seed of the program's generators: its first eight bytes,
    /// little-endian (missing ones are zero).
    pub(crate) fn seed(&mut self) -> u64 {
        u64::from_le_bytes(std::array::from_fn(|_| self.byte().unwrap_or(0)))
    }

    pub(crate) fn address(&mut self) -> Option<Ipv4Addr> {
        let i = usize::from(self.byte()?) % self.addresses.len().max(1);
        self.addresses.get(i).copied()
    }

    /// Up to `n` bytes (fewer at the end of the program).
    pub(crate) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (taken, rest) = self.data.split_at(n);
        self.data = rest;
        taken
    }
}
