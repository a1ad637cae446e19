//! Replays the committed seed corpora of the `esp_decap` and `esp_window`
//! fuzz targets through the same `esp::fuzzing` functions the targets call.

// Test code: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::fs;
use std::path::Path;

fn replay(target: &str, f: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        f(&data);
        n += 1;
    }
    n
}

#[test]
fn esp_decap_corpus() {
    assert!(replay("esp_decap", esp::fuzzing::decap) >= 20);
}

#[test]
fn esp_window_corpus() {
    assert!(replay("esp_window", esp::fuzzing::window) >= 4);
}
