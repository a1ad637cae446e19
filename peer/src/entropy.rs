//! Randomness from the operating system for the gateway: cookies, nonces,
//! Diffie-Hellman private values, SPIs, message IDs and ESP IVs all come
//! from `getrandom`'s [`SysRng`](getrandom::SysRng) (the `getrandom(2)`
//! system call on Linux).
//!
//! The engines take an infallible [`ike_sm::Entropy`]. If the OS cannot
//! produce random bytes there is no safe way on (a predictable nonce or DH
//! value gives the keys away), so the process aborts with a message rather
//! than continue with anything less.

use ike_sm::{Entropy, Purpose};
use rand_core::TryRng;

/// The OS random generator as an [`Entropy`].
#[derive(Clone, Copy, Debug, Default)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&mut self, purpose: Purpose, out: &mut [u8]) {
        if let Err(e) = getrandom::SysRng.try_fill_bytes(out) {
            eprintln!(
                "ikev1-peer: the OS random generator failed ({e}) drawing {purpose:?}: aborting"
            );
            std::process::abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_differ() {
        let mut e = OsEntropy;
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        e.fill(Purpose::Nonce, &mut a);
        e.fill(Purpose::Nonce, &mut b);
        // 2^-256 chance of a false failure.
        assert_ne!(a, b);
        assert_ne!(a, [0; 32]);
    }
}
