//! The randomness an [`Endpoint`](crate::Endpoint) consumes, injected by the
//! caller.
//!
//! Every random value of IKEv1 has a purpose: cookies (RFC 2408 s.2.5.3),
//! nonces (RFC 2409 s.5), Diffie-Hellman private values, SPIs (RFC 2408
//! s.2.4; values below 256 are reserved by RFC 4303 s.2.1), Quick Mode and
//! Informational message IDs (RFC 2408 s.3.1), and rekey jitter. The engine
//! asks for each through [`Entropy::fill`] with its [`Purpose`], so that a
//! test or a replay can script some values (the seed's message ID
//! 409419560 and SPIs 0xF800D61F / 0xA4790FA0) and draw the rest from a
//! seeded generator, without touching the engine.
//!
//! Every [`rand_core::CryptoRng`] is an `Entropy` (ignoring the purpose);
//! the other way, [`PurposeRng`] lends an `Entropy` as a `CryptoRng` for one
//! purpose.

use core::convert::Infallible;

/// What a random value is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Purpose {
    /// An ISAKMP cookie (8 bytes, never all zero).
    Cookie,
    /// A phase-1 or Quick Mode nonce.
    Nonce,
    /// A Diffie-Hellman private value (phase 1 or PFS).
    DhPrivate,
    /// An inbound SPI (4 bytes big-endian; the engine redraws values below
    /// 256 and values already in use).
    Spi,
    /// A Quick Mode or Informational message ID (4 bytes big-endian; the
    /// engine redraws 0 and IDs in use on the ISAKMP SA).
    MessageId,
    /// An explicit IV (not used by IKEv1's CBC chains; reserved).
    Iv,
    /// Anything else: rekey jitter, the first DPD sequence number.
    Other,
}

/// A source of randomness for the engine.
///
/// Implementations must fill `out` completely with unpredictable bytes
/// (except in tests that script values on purpose).
pub trait Entropy {
    /// Fills `out` with random bytes for `purpose`.
    fn fill(&mut self, purpose: Purpose, out: &mut [u8]);
}

impl<R: rand_core::CryptoRng + ?Sized> Entropy for R {
    fn fill(&mut self, _purpose: Purpose, out: &mut [u8]) {
        self.fill_bytes(out);
    }
}

/// Adapts an [`Entropy`] to `rand_core`'s traits for one [`Purpose`], so
/// that code taking a [`rand_core::CryptoRng`] draws from the one injected
/// source: the crypto module's generators (Diffie-Hellman private values)
/// here, and in a caller the generators that sit beside the engine (TED
/// cookies, ESP CBC IVs), so that a scripted run stays reproducible.
///
/// Every draw is forwarded to [`Entropy::fill`] with the purpose given at
/// construction; `next_u32`/`next_u64` take 4/8 bytes big-endian.
///
/// It implements [`rand_core::CryptoRng`] because it only forwards to the
/// caller's source, which the [`Entropy`] contract requires to be
/// cryptographically secure; it adds no randomness of its own and no
/// buffering (nothing drawn is kept).
pub struct PurposeRng<'a> {
    pub(crate) entropy: &'a mut (dyn Entropy + Send),
    pub(crate) purpose: Purpose,
}

impl<'a> PurposeRng<'a> {
    /// Draws from `entropy` for `purpose`.
    pub fn new(entropy: &'a mut (dyn Entropy + Send), purpose: Purpose) -> Self {
        Self { entropy, purpose }
    }

    /// The purpose every draw is made for.
    #[must_use]
    pub fn purpose(&self) -> Purpose {
        self.purpose
    }
}

impl core::fmt::Debug for PurposeRng<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PurposeRng")
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

impl rand_core::TryRng for PurposeRng<'_> {
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

// The adapter only forwards to the caller's source, which is required to
// be cryptographically secure (see `Entropy`).
impl rand_core::TryCryptoRng for PurposeRng<'_> {}

/// An [`Entropy`] that serves scripted values for some purposes and draws
/// the rest from a generator: what a replay of a recorded exchange needs
/// (the seed's Quick Mode message ID 409419560 and SPIs 0xF800D61F /
/// 0xA4790FA0). Also records what was drawn for Diffie-Hellman private
/// values, so that a test can recompute an exchange independently.
pub struct ScriptedEntropy<R> {
    inner: R,
    scripted: Vec<(Purpose, std::collections::VecDeque<Vec<u8>>)>,
    dh_draws: Vec<Vec<u8>>,
}

impl<R: rand_core::CryptoRng> ScriptedEntropy<R> {
    /// Wraps a generator with no scripted values.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            scripted: Vec::new(),
            dh_draws: Vec::new(),
        }
    }

    /// Queues `value` as the next draw for `purpose` (used when the length
    /// requested equals `value.len()`; otherwise the generator is used).
    #[must_use]
    pub fn with(mut self, purpose: Purpose, value: &[u8]) -> Self {
        self.push(purpose, value);
        self
    }

    /// Queues `value` as the next draw for `purpose`.
    pub fn push(&mut self, purpose: Purpose, value: &[u8]) {
        match self.scripted.iter_mut().find(|(p, _)| *p == purpose) {
            Some((_, q)) => q.push_back(value.to_vec()),
            None => self
                .scripted
                .push((purpose, std::collections::VecDeque::from([value.to_vec()]))),
        }
    }

    /// The bytes drawn for Diffie-Hellman private values so far, in order
    /// (exactly as the source returned them).
    #[must_use]
    pub fn dh_draws(&self) -> &[Vec<u8>] {
        &self.dh_draws
    }
}

impl<R: rand_core::CryptoRng> Entropy for ScriptedEntropy<R> {
    fn fill(&mut self, purpose: Purpose, out: &mut [u8]) {
        let scripted = self
            .scripted
            .iter_mut()
            .find(|(p, _)| *p == purpose)
            .and_then(|(_, q)| {
                if q.front().is_some_and(|v| v.len() == out.len()) {
                    q.pop_front()
                } else {
                    None
                }
            });
        match scripted {
            Some(v) => out.copy_from_slice(&v),
            None => self.inner.fill_bytes(out),
        }
        if purpose == Purpose::DhPrivate {
            self.dh_draws.push(out.to_vec());
        }
    }
}

impl<R> core::fmt::Debug for ScriptedEntropy<R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ScriptedEntropy").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::SeedableRng;

    struct Scripted(Vec<u8>);
    impl Entropy for Scripted {
        fn fill(&mut self, purpose: Purpose, out: &mut [u8]) {
            let b = if purpose == Purpose::Spi { 0xAA } else { 0x11 };
            out.fill(b);
            self.0.push(b);
        }
    }

    #[test]
    fn purpose_reaches_the_source() {
        let mut s = Scripted(Vec::new());
        let mut rng = PurposeRng::new(&mut s, Purpose::Spi);
        assert_eq!(rng.purpose(), Purpose::Spi);
        let mut out = [0u8; 3];
        rand_core::Rng::fill_bytes(&mut rng, &mut out);
        assert_eq!(out, [0xAA; 3]);
        let mut out = [0u8; 2];
        s.fill(Purpose::Nonce, &mut out);
        assert_eq!(out, [0x11; 2]);
    }

    /// Writes 1, 2, 3, ... so that the byte order of a draw shows.
    struct Counting(u8);
    impl Entropy for Counting {
        fn fill(&mut self, _purpose: Purpose, out: &mut [u8]) {
            for b in out {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
        }
    }

    #[test]
    fn words_are_big_endian() {
        let mut c = Counting(0);
        let mut rng = PurposeRng::new(&mut c, Purpose::Other);
        assert_eq!(rand_core::Rng::next_u32(&mut rng), 0x0102_0304);
        assert_eq!(rand_core::Rng::next_u64(&mut rng), 0x0506_0708_090A_0B0C);
    }

    #[test]
    fn scripted_values_come_first() {
        let mut e = ScriptedEntropy::new(rand_chacha::ChaCha20Rng::from_seed([1; 32]))
            .with(Purpose::Spi, &0xF800_D61Fu32.to_be_bytes())
            .with(Purpose::MessageId, &409_419_560u32.to_be_bytes());
        let mut b = [0u8; 4];
        e.fill(Purpose::MessageId, &mut b);
        assert_eq!(u32::from_be_bytes(b), 409_419_560);
        e.fill(Purpose::Spi, &mut b);
        assert_eq!(b, [0xF8, 0x00, 0xD6, 0x1F]);
        e.fill(Purpose::Spi, &mut b);
        assert_ne!(b, [0xF8, 0x00, 0xD6, 0x1F]);
        let mut k = [0u8; 32];
        e.fill(Purpose::DhPrivate, &mut k);
        assert_eq!(e.dh_draws(), &[k.to_vec()]);
    }

    #[test]
    fn crypto_rngs_are_entropy() {
        let mut a = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
        let mut b = rand_chacha::ChaCha20Rng::from_seed([7; 32]);
        let mut x = [0u8; 16];
        let mut y = [0u8; 16];
        Entropy::fill(&mut a, Purpose::Cookie, &mut x);
        rand_core::Rng::fill_bytes(&mut b, &mut y);
        assert_eq!(x, y);
        assert_ne!(x, [0; 16]);
    }
}
