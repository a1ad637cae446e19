//! The corpus of published IOS configurations (`vectors/ios/`, and the
//! seed's two routers in `vectors/seed/`): each file imports as far as it
//! goes (`parse_all`), with the number of lines understood, skipped and
//! refused fixed per file so that a regression shows; what was understood
//! renders and imports back to the same model, and the render is a fixed
//! point; its keywords abbreviated to their shortest prefixes import to
//! the same model too.

// Test helpers outside #[test] functions may panic on a failed expectation.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};

use ted::config::ios::{self, ParseOptions};

/// (file under `vectors/`, understood, skipped, refused).
const EXPECTED: &[(&str, usize, usize, usize)] =
    &[("seed/daphne.cfg", 17, 19, 0), ("seed/fred.cfg", 17, 17, 0)];

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors")
}

#[test]
fn corpus_counts_and_round_trips() {
    let mut files: Vec<String> = EXPECTED.iter().map(|e| e.0.to_owned()).collect();
    // Every configuration of vectors/ios must be in the table.
    let dir = vectors().join("ios");
    if let Ok(entries) = std::fs::read_dir(&dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".cfg") {
                let rel = format!("ios/{name}");
                assert!(
                    EXPECTED.iter().any(|e| e.0 == rel),
                    "{rel} has no expected counts"
                );
            }
        }
    }
    files.sort();
    for (rel, understood, skipped, refused) in EXPECTED {
        let text = std::fs::read_to_string(vectors().join(rel)).expect(rel);
        if rel.starts_with("ios/") {
            // The source and the IOS version, in the file's header.
            assert!(text.contains("! source: "), "{rel}: no source line");
            assert!(text.contains("! IOS "), "{rel}: no IOS version line");
        }
        let report = ios::parse_all(&text, &ParseOptions::default());
        let counts = (
            report.understood,
            report.parsed.skipped.len(),
            report.refused.len(),
        );
        assert_eq!(
            counts,
            (*understood, *skipped, *refused),
            "{rel}: understood / skipped / refused; refusals: {:?}",
            report.refused
        );
        let config = &report.parsed.config;
        let rendered = ios::render(config);
        let again = ios::parse(&rendered)
            .unwrap_or_else(|e| panic!("{rel}: rendered text refused: {e}\n{rendered}"));
        assert_eq!(&again.config, config, "{rel}: round trip changed the model");
        assert_eq!(ios::render(&again.config), rendered, "{rel}: render moved");
        let short = ios::abbreviate(&rendered, &mut |shortest, _| shortest);
        let abbreviated = ios::parse(&short)
            .unwrap_or_else(|e| panic!("{rel}: abbreviated text refused: {e}\n{short}"));
        assert_eq!(
            &abbreviated.config, config,
            "{rel}: abbreviations changed the model"
        );
    }
}
