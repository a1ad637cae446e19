//! Replays the committed seed corpora of the `esp_decap`, `esp_window` and
//! `esp_ipv4` fuzz targets through the same `esp::fuzzing` functions the targets call.

// Test code: a panic is a test failure.
#![allow(clippy::unwrap_used, clippy::panic)]

mod fuzz_common;
use fuzz_common::corpus;

/// Runs every file of `target`'s corpus through `f`; how many there were.
fn replay(target: &str, f: fn(&[u8])) -> usize {
    let files = corpus(target);
    for (_, data) in &files {
        f(data);
    }
    files.len()
}

#[test]
fn esp_decap_corpus() {
    assert!(replay("esp_decap", esp::fuzzing::decap) >= 20);
}

#[test]
fn esp_window_corpus() {
    assert!(replay("esp_window", esp::fuzzing::window) >= 4);
}

#[test]
fn esp_ipv4_corpus() {
    assert!(replay("esp_ipv4", esp::fuzzing::ipv4) >= 16);
}
