//! The anti-replay window (RFC 4303 s.3.4.3) and extended sequence number
//! inference (RFC 4303 s.2.2.1 and Appendix A).
//!
//! The window is a ring of 64-bit words (the block scheme of RFC 6479):
//! advancing the right edge clears whole words instead of shifting a bit
//! string, so a 4096-packet window costs the same per packet as a 64-packet
//! one. The ring holds one word more than the window needs so that the word
//! being reused never still carries live bits.
//!
//! Receive order, as in boringtun's `noise/session.rs`: [`ReplayWindow::check`]
//! before the ICV is verified (cheap rejection of replays), and
//! [`ReplayWindow::mark`] only after the packet proved authentic and well
//! formed (a forged packet must not move the window).

use core::fmt;

/// The default anti-replay window (RFC 4303 s.3.4.3 suggests 32 and
/// recommends 64).
pub const DEFAULT_REPLAY_WINDOW: u32 = 64;

/// The largest anti-replay window an SA accepts.
pub const MAX_REPLAY_WINDOW: u32 = 1 << 16;

/// Why the window rejected a sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    /// Sequence number 0 is never sent (the first packet is 1).
    #[error("sequence number zero")]
    Zero,
    /// Already received.
    #[error("duplicate")]
    Duplicate,
    /// Left of the window.
    #[error("too old (left of the window)")]
    TooOld,
}

const WORD_BITS: u64 = 64;

/// The window used for ESN inference when the replay check is off: the
/// receiver then takes the 2^32 subspace whose half-range is closest to the
/// highest number seen (RFC 4303 s.2.2.1 leaves this to the receiver).
const UNCHECKED_INFERENCE_WINDOW: u32 = 1 << 31;

/// A sliding anti-replay window over 64-bit sequence numbers.
#[derive(Clone)]
pub struct ReplayWindow {
    /// Window size in packets; 0 means the replay check is off (the
    /// highest number is still tracked for ESN inference).
    size: u32,
    /// Highest sequence number marked so far (0: none yet).
    top: u64,
    /// Ring bitmap; bit `s % 64` of word `(s / 64) % len` is sequence `s`.
    words: Box<[u64]>,
}

impl fmt::Debug for ReplayWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReplayWindow")
            .field("size", &self.size)
            .field("top", &self.top)
            .finish_non_exhaustive()
    }
}

impl ReplayWindow {
    /// A window of `size` packets (at least 1); or, with `None`, a tracker
    /// that accepts every non-zero number and only remembers the highest.
    pub fn new(size: Option<u32>) -> Self {
        let size = size.unwrap_or(0);
        let words = if size == 0 {
            0
        } else {
            // ceil(size / 64) + 1 words: the live range [top - size + 1, top]
            // touches at most ceil(size / 64) + 1 words, so none aliases.
            usize::try_from(u64::from(size).div_ceil(WORD_BITS) + 1).unwrap_or(usize::MAX)
        };
        Self {
            size,
            top: 0,
            words: vec![0u64; words].into_boxed_slice(),
        }
    }

    /// Window size in packets; `None` when the check is off.
    pub fn size(&self) -> Option<u32> {
        (self.size != 0).then_some(self.size)
    }

    /// The highest sequence number marked so far (0 before the first).
    pub fn top(&self) -> u64 {
        self.top
    }

    fn slot(&self, seq: u64) -> Option<(usize, u64)> {
        let len = u64::try_from(self.words.len()).ok()?;
        if len == 0 {
            return None;
        }
        let word = usize::try_from((seq / WORD_BITS) % len).ok()?;
        Some((word, 1u64 << (seq % WORD_BITS)))
    }

    /// The quick check: may `seq` be new? Does not change the window.
    pub fn check(&self, seq: u64) -> Result<(), ReplayError> {
        if seq == 0 {
            return Err(ReplayError::Zero);
        }
        if seq > self.top || self.size == 0 {
            return Ok(());
        }
        // seq <= top here.
        if self.top - seq >= u64::from(self.size) {
            return Err(ReplayError::TooOld);
        }
        match self.slot(seq) {
            Some((w, bit)) if self.words.get(w).is_some_and(|word| word & bit != 0) => {
                Err(ReplayError::Duplicate)
            }
            _ => Ok(()),
        }
    }

    /// Checks `seq` again and records it, moving the window right if `seq`
    /// is beyond its edge.
    pub fn mark(&mut self, seq: u64) -> Result<(), ReplayError> {
        self.check(seq)?;
        if seq > self.top {
            self.advance(seq);
        }
        if let Some((w, bit)) = self.slot(seq)
            && let Some(word) = self.words.get_mut(w)
        {
            *word |= bit;
        }
        Ok(())
    }

    fn advance(&mut self, new_top: u64) {
        let len = u64::try_from(self.words.len()).unwrap_or(0);
        if len > 0 {
            let old_word = self.top / WORD_BITS;
            let new_word = new_top / WORD_BITS;
            // Clear the words that the new positions reuse; past `len` of
            // them every word is stale.
            let stale = (new_word - old_word).min(len);
            for i in 1..=stale {
                let idx = usize::try_from((old_word + i) % len).unwrap_or(0);
                if let Some(word) = self.words.get_mut(idx) {
                    *word = 0;
                }
            }
        }
        self.top = new_top;
    }

    /// Reconstructs a 64-bit sequence number from its transmitted low 32
    /// bits (RFC 4303 Appendix A2.1): the high half is chosen so that the
    /// number falls in the window or ahead of it. `None` when the only
    /// candidate lies before sequence number 2^32 * 0 (a number the sender
    /// never used) or beyond 2^64.
    pub fn infer_esn(&self, seq_low: u32) -> Option<u64> {
        let w = if self.size == 0 {
            UNCHECKED_INFERENCE_WINDOW
        } else {
            self.size
        };
        let th = self.top >> 32;
        // Truncation intended: the low half of the 64-bit top.
        #[allow(clippy::cast_possible_truncation)]
        let tl = self.top as u32;
        let bottom = tl.wrapping_sub(w - 1);
        let seqh = if tl >= w - 1 {
            // Case A: the window lies within one 2^32 subspace.
            if seq_low >= bottom {
                Some(th)
            } else {
                th.checked_add(1)
            }
        } else if seq_low >= bottom {
            // Case B: the window spans two subspaces; a high number belongs
            // to the previous one.
            th.checked_sub(1)
        } else {
            Some(th)
        };
        let seqh = seqh.filter(|h| *h <= u64::from(u32::MAX))?;
        Some((seqh << 32) | u64::from(seq_low))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn edges() {
        let mut w = ReplayWindow::new(Some(64));
        assert_eq!(w.check(0), Err(ReplayError::Zero));
        w.mark(1).unwrap();
        assert_eq!(w.mark(1), Err(ReplayError::Duplicate));
        w.mark(64).unwrap();
        // 64 - 1 = 63 < 64: still inside, already seen.
        assert_eq!(w.check(1), Err(ReplayError::Duplicate));
        w.mark(65).unwrap();
        // 65 - 1 = 64 >= 64: left of the window now.
        assert_eq!(w.check(1), Err(ReplayError::TooOld));
        // 2 is the left edge: 65 - 2 = 63.
        w.mark(2).unwrap();
        assert_eq!(w.check(2), Err(ReplayError::Duplicate));
        // Far ahead clears everything.
        w.mark(1_000_000).unwrap();
        assert_eq!(w.check(65), Err(ReplayError::TooOld));
        assert!(w.check(1_000_000 - 63).is_ok());
        assert_eq!(w.check(1_000_000 - 64), Err(ReplayError::TooOld));
    }

    #[test]
    fn disabled_accepts_duplicates_but_not_zero() {
        let mut w = ReplayWindow::new(None);
        w.mark(5).unwrap();
        w.mark(5).unwrap();
        w.mark(1).unwrap();
        assert_eq!(w.top(), 5);
        assert_eq!(w.check(0), Err(ReplayError::Zero));
    }

    #[test]
    fn large_window_4096() {
        let mut w = ReplayWindow::new(Some(4096));
        for s in (1..=4096u64).rev() {
            w.mark(s).unwrap();
        }
        for s in 1..=4096u64 {
            assert_eq!(w.check(s), Err(ReplayError::Duplicate));
        }
        w.mark(4097).unwrap();
        assert_eq!(w.check(1), Err(ReplayError::TooOld));
        assert_eq!(w.check(2), Err(ReplayError::Duplicate));
        w.mark(4096 + 4096 + 10).unwrap();
        assert!(w.check(4096 + 11).is_ok());
        assert_eq!(w.check(4096 + 10), Err(ReplayError::TooOld));
    }

    /// A simple model: a set of every number seen and the highest one.
    fn model_accepts(seen: &BTreeSet<u64>, top: u64, size: u64, seq: u64) -> bool {
        seq != 0 && !seen.contains(&seq) && (seq > top || top - seq < size)
    }

    #[test]
    fn differential_against_set_model() {
        // Deterministic pseudo-random walk (xorshift) with jumps forward
        // and backward around the window edges.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for &size in &[1u32, 2, 63, 64, 65, 127, 128, 1000, 4096] {
            let mut w = ReplayWindow::new(Some(size));
            let mut seen = BTreeSet::new();
            let mut top = 0u64;
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let span = u64::from(size) * 3 + 3;
                let delta = x % span;
                let seq = (top + u64::from(size) + 1).saturating_sub(delta);
                let expect = model_accepts(&seen, top, u64::from(size), seq);
                assert_eq!(
                    w.check(seq).is_ok(),
                    expect,
                    "size {size} seq {seq} top {top}"
                );
                assert_eq!(w.mark(seq).is_ok(), expect);
                if expect {
                    seen.insert(seq);
                    top = top.max(seq);
                }
            }
        }
    }

    #[test]
    fn esn_inference_rfc4303_appendix_a() {
        let mut w = ReplayWindow::new(Some(64));
        // Case A: window inside one subspace.
        w.mark((5u64 << 32) | 1000).unwrap();
        assert_eq!(w.infer_esn(1000), Some((5 << 32) | 1000));
        assert_eq!(w.infer_esn(937), Some((5 << 32) | 937)); // left edge
        assert_eq!(w.infer_esn(936), Some((6 << 32) | 936)); // wrapped ahead
        assert_eq!(w.infer_esn(5000), Some((5 << 32) | 5000));
        // Case B: window spans the subspace boundary.
        let mut w = ReplayWindow::new(Some(64));
        w.mark((7u64 << 32) | 10).unwrap();
        assert_eq!(w.infer_esn(u32::MAX), Some((6 << 32) | u64::from(u32::MAX)));
        // The window is [top - 63, top]: 11 numbers in subspace 7 and 53
        // in subspace 6, down to u32::MAX - 52.
        assert_eq!(
            w.infer_esn(u32::MAX - 52),
            Some((6 << 32) | u64::from(u32::MAX - 52))
        );
        assert_eq!(
            w.infer_esn(u32::MAX - 53),
            Some((7 << 32) | u64::from(u32::MAX - 53))
        );
        assert_eq!(w.infer_esn(3), Some((7 << 32) | 3));
        // Fresh SA: a high number is taken for the nonexistent subspace -1.
        let w = ReplayWindow::new(Some(64));
        assert_eq!(w.infer_esn(u32::MAX), None);
        assert_eq!(w.infer_esn(1), Some(1));
        // Top subspace: no wrap beyond 2^64.
        let mut w = ReplayWindow::new(Some(64));
        w.mark(u64::MAX - 5).unwrap();
        assert_eq!(w.infer_esn(10), None);
    }
}
