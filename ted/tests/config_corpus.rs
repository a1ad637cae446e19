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
const EXPECTED: &[(&str, usize, usize, usize)] = &[
    ("seed/daphne.cfg", 17, 19, 0),
    ("seed/fred.cfg", 17, 17, 0),
    ("ios/aws-vpn-ios-bgp.cfg", 46, 46, 10),
    ("ios/aws-vpn-ios-static.cfg", 44, 36, 10),
    ("ios/bf-aws-cisco-host.cfg", 48, 73, 6),
    ("ios/bf-aws-onprem-router.cfg", 32, 19, 2),
    ("ios/bf-aws-vpn-gateway.cfg", 48, 47, 8),
    ("ios/bf-crypto-ipsec-r1.cfg", 36, 13, 3),
    ("ios/bf-crypto-ipsec-r2.cfg", 39, 20, 4),
    ("ios/bf-crypto-ipsec-r3.cfg", 28, 14, 3),
    ("ios/bf-crypto-vrf.cfg", 1, 15, 3),
    ("ios/bf-ios-crypto-ipsec-profile.cfg", 10, 12, 7),
    ("ios/bf-ios-crypto-map.cfg", 40, 18, 4),
    ("ios/bf-ios-crypto-rsa.cfg", 6, 8, 0),
    ("ios/bf-ios-crypto-transform-set.cfg", 9, 5, 5),
    ("ios/bf-ios-crypto.cfg", 21, 12, 3),
    ("ios/bf-ios-ipsec-gh-5849.cfg", 8, 7, 1),
    ("ios/bf-ipsec-vpn-ios-r1.cfg", 32, 20, 6),
    ("ios/bf-ipsec-vpn-ios-r2.cfg", 32, 20, 6),
    ("ios/bf-lhr-border-02.cfg", 73, 122, 6),
    ("ios/bf-unit-crypto.cfg", 46, 4, 3),
    ("ios/lv-exitgw-aws-demo.cfg", 94, 119, 10),
    ("ios/lv-exitgw-onug.cfg", 92, 119, 10),
];

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
