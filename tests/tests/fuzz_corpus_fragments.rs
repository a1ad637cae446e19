//! Replays the committed corpus of the `ike_fragments` fuzz target
//! (`fuzz/corpus/ike_fragments`) through the function the target calls,
//! `ike_sm::fragment::fuzz_reassembler`, so an input that once broke a
//! bound stays a regression test; and checks that the hand-written seeds
//! reach what they were written for (reassembly, every kind of drop, the
//! timeout).

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

mod fuzz_common;
use fuzz_common::{corpus, dir};

use std::time::Instant;

use ike_sm::fragment::{FragmentCounters, fuzz_reassembler};

fn seed(name: &str) -> FragmentCounters {
    let bytes = std::fs::read(dir("ike_fragments").join(name)).unwrap();
    fuzz_reassembler(Instant::now(), &bytes)
}

#[test]
fn ike_fragments_corpus() {
    let inputs = corpus("ike_fragments");
    let now = Instant::now();
    for (path, bytes) in inputs {
        let result = std::panic::catch_unwind(|| fuzz_reassembler(now, &bytes));
        assert!(
            result.is_ok(),
            "ike_fragments: {} broke an invariant",
            path.display()
        );
    }
}

#[test]
fn seeds_reach_their_cases() {
    // Split messages delivered in order, reversed with a duplicate, and
    // rotated: each reassembles.
    let c = seed("seed_frag_split_orders");
    assert_eq!(c.reassembled, 3, "{c:?}");
    assert!(c.duplicates >= 1, "{c:?}");
    // Three fragments built field by field make one message.
    let c = seed("seed_frag_built");
    assert_eq!((c.fragments, c.reassembled), (3, 1), "{c:?}");
    // Number 0, a number above the limit, beyond the last, a conflict in
    // data and in LAST flags.
    let c = seed("seed_frag_conflicts");
    assert!(c.bad_number >= 3, "{c:?}");
    assert!(c.conflicts >= 2, "{c:?}");
    // Many messages at once: the caps refuse some.
    let c = seed("seed_frag_flood");
    assert!(c.refused >= 1, "{c:?}");
    assert!(c.too_large >= 1, "{c:?}");
    // A message left incomplete times out; a late fragment starts anew.
    let c = seed("seed_frag_timeout");
    assert!(c.expired >= 1, "{c:?}");
    // Raw datagrams: a valid one-fragment message and garbage.
    let c = seed("seed_frag_raw");
    assert_eq!(c.reassembled, 1, "{c:?}");
    assert!(c.malformed >= 1, "{c:?}");
}
