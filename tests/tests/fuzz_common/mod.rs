//! Shared by the corpus replay tests: a fuzz target's committed corpus.
#![allow(dead_code, unreachable_pub, clippy::panic)]

use std::fs;
use std::path::PathBuf;

/// The folder of `target`'s committed corpus (`fuzz/corpus/<target>`).
pub fn dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

/// Every file of `target`'s committed corpus with its bytes, sorted by
/// path; panics if the corpus is missing or empty (a replay of nothing
/// would pass vacuously).
pub fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = dir(target);
    let mut files: Vec<(PathBuf, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path();
            let data = fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, data)
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
}
