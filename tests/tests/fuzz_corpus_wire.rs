//! Replays the committed seed corpora of the isakmp-wire fuzz targets
//! (`fuzz/corpus/wire_*`) through the same `isakmp_wire::fuzzing`
//! functions the targets call, so a corpus input that once crashed stays a
//! regression test under `cargo test`.

#![allow(clippy::unwrap_used, clippy::panic, missing_docs)]

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

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
