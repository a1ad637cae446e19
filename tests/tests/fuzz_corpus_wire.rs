//! Replays the committed seed corpora of the isakmp-wire fuzz targets
//! (`fuzz/corpus/wire_*`) through the same `isakmp_wire::fuzzing`
//! functions the targets call, so a corpus input that once crashed stays a
//! regression test under `cargo test`.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod fuzz_common;
use fuzz_common::corpus;

fn replay(target: &str, f: fn(&[u8])) {
    let inputs = corpus(target);
    assert!(!inputs.is_empty(), "empty corpus for {target}");
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(|| f(&bytes));
        assert!(
            result.is_ok(),
            "{target}: {} broke an invariant",
            path.display()
        );
    }
}

#[test]
fn wire_parse_corpus() {
    replay("wire_parse", isakmp_wire::fuzzing::parse);
}

#[test]
fn wire_roundtrip_corpus() {
    replay("wire_roundtrip", isakmp_wire::fuzzing::roundtrip);
}

#[test]
fn wire_repr_corpus() {
    replay("wire_repr", isakmp_wire::fuzzing::repr_bytes);
}

/// A small deterministic generator (xorshift64*), so the property test
/// below needs no dependency and replays identically.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

/// Property test: thousands of mutants of every corpus message (byte
/// flips, truncations, extensions, length-field rewrites) go through all
/// three fuzzing functions without breaking an invariant.
#[test]
fn mutated_corpus_keeps_invariants() {
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let seeds = corpus("wire_parse");
    let mut runs = 0usize;
    for (_, seed) in &seeds {
        for _ in 0..100 {
            let mut m = seed.clone();
            for _ in 0..=rng.below(3) {
                match rng.below(5) {
                    0 if !m.is_empty() => {
                        let i = rng.below(m.len());
                        m[i] ^= 1 << rng.below(8);
                    }
                    1 if !m.is_empty() => {
                        let i = rng.below(m.len());
                        m[i] = u8::try_from(rng.below(256)).unwrap();
                    }
                    2 => m.truncate(rng.below(m.len() + 1)),
                    3 => m.extend(std::iter::repeat_n(0, rng.below(8))),
                    _ if m.len() >= 28 => {
                        // Rewrite a 16-bit field at a random even offset:
                        // payload lengths live at offset 2 of each header.
                        let i = rng.below(m.len() - 1);
                        let v = u16::try_from(rng.below(0x1_0000)).unwrap().to_be_bytes();
                        m[i] = v[0];
                        m[i + 1] = v[1];
                    }
                    _ => {}
                }
            }
            isakmp_wire::fuzzing::parse(&m);
            isakmp_wire::fuzzing::roundtrip(&m);
            isakmp_wire::fuzzing::repr_bytes(&m);
            runs += 1;
        }
    }
    assert_eq!(runs, seeds.len() * 100);
}
